// The DHT over real UDP on 127.0.0.1: RatsClients that find each other through a private DHT
// (no public router is ever contacted), the seed's find_peers_by_hash / announce_for_hash,
// start/stop, and a hundred udp_nodes in one process doing lookups.

#include "support.hpp"

#include <librats/dht/udp_node.hpp>
#include <librats/librats.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace librats {
namespace {

using namespace std::chrono_literals;
using test::wait_until;

dht_settings quick_settings(bool public_routers = false) {
    dht_settings s;
    s.bind_address = "127.0.0.1";
    s.use_public_routers = public_routers;
    s.discovery_interval = 300ms;
    s.engine.query_timeout = 2s;
    return s;
}

dht_discovery& dht_of(RatsClient& c) { return c.get_node().get<dht_discovery>(); }

// The first client is the DHT's first node; the others bootstrap off it.
struct dht_clients {
    explicit dht_clients(std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            clients.push_back(std::make_unique<RatsClient>(0, 10, "127.0.0.1"));
            clients.back()->set_log_level(LogLevel::WARN);
            dht_of(*clients.back()).set_settings(quick_settings());
        }
    }
    void start() {
        for (auto& c : clients) ASSERT_TRUE(c->start());
        ASSERT_TRUE(clients[0]->start_dht_discovery(0));
        const auto first_port = dht_of(*clients[0]).port();
        ASSERT_NE(first_port, 0);
        for (std::size_t i = 1; i < clients.size(); ++i) {
            clients[i]->add_dht_bootstrap_node("127.0.0.1", first_port);
            ASSERT_TRUE(clients[i]->start_dht_discovery(0));
        }
    }
    RatsClient& operator[](std::size_t i) { return *clients[i]; }
    std::vector<std::unique_ptr<RatsClient>> clients;
};

TEST(DhtModule, ClientsFindEachOtherThroughAPrivateDhtAndTalkEncrypted) {
    dht_clients net(3);
    ASSERT_NO_FATAL_FAILURE(net.start());
    ASSERT_TRUE(wait_until([&] { return net[0].get_peer_count() == 2 && net[1].get_peer_count() == 2 &&
                                        net[2].get_peer_count() == 2; },
                           20s));
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_TRUE(net[i].is_dht_running());
        EXPECT_EQ(net[i].get_dht_routing_table_size(), 2u) << i;
    }
    std::promise<std::string> got;
    net[2].on("hello", [&](const std::string& from, const nlohmann::json& data) {
        if (from == net[1].get_our_peer_id()) got.set_value(data.value("text", ""));
    });
    net[1].send(net[2].get_our_peer_id(), "hello", {{"text", "found you on the DHT"}});
    auto f = got.get_future();
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(f.get(), "found you on the DHT");
    EXPECT_TRUE(net[1].get_all_peers()[0].encryption_enabled);
}

std::vector<std::string> find(RatsClient& c, const std::string& hash) {
    auto done = std::make_shared<std::promise<std::vector<std::string>>>();
    auto f = done->get_future();
    EXPECT_TRUE(c.find_peers_by_hash(hash, [done](const std::vector<std::string>& peers) { done->set_value(peers); }));
    EXPECT_EQ(f.wait_for(15s), std::future_status::ready);
    return f.get();
}

TEST(DhtModule, AnnounceForHashIsFoundByFindPeersByHash) {
    dht_clients net(4);
    for (auto& c : net.clients) {
        auto s = quick_settings();
        s.discover_peers = false;
        dht_of(*c).set_settings(s);
    }
    ASSERT_NO_FATAL_FAILURE(net.start());
    ASSERT_TRUE(wait_until([&] { return net[0].get_dht_routing_table_size() == 3; }, 10s));

    ASSERT_TRUE(net[1].announce_for_hash("file_share_network_v1", 4242));
    const std::string hex = "0123456789abcdef0123456789abcdef01234567";
    ASSERT_TRUE(net[2].announce_for_hash(hex));  // port 0: our TCP listen port
    std::vector<std::string> by_name, by_hex;
    ASSERT_TRUE(wait_until(
        [&] {
            by_name = find(net[3], "file_share_network_v1");
            by_hex = find(net[3], hex);
            return !by_name.empty() && !by_hex.empty();
        },
        15s));
    EXPECT_EQ(by_name, std::vector<std::string>{"127.0.0.1:4242"});
    EXPECT_EQ(by_hex, std::vector<std::string>{"127.0.0.1:" + std::to_string(net[2].get_listen_port())});
    // A name is its SHA-1: the same key as hex finds the same peer.
    EXPECT_EQ(find(net[3], dht::info_hash_of("file_share_network_v1").to_hex()), by_name);
    EXPECT_TRUE(find(net[3], "nobody announced this").empty());
}

TEST(DhtModule, StartStopAndErrors) {
    RatsClient c(0, 10, "127.0.0.1");
    c.set_log_level(LogLevel::ERROR);
    dht_of(c).set_settings(quick_settings());
    EXPECT_FALSE(c.start_dht_discovery(0));  // the client is not running
    EXPECT_FALSE(c.is_dht_running());
    EXPECT_FALSE(c.find_peers_by_hash("x", [](const std::vector<std::string>&) {}));
    EXPECT_FALSE(c.announce_for_hash("x"));
    ASSERT_TRUE(c.start());

    // A port another socket holds.
    asio::io_context io;
    asio::ip::udp::socket taken(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    EXPECT_FALSE(c.start_dht_discovery(taken.local_endpoint().port()));
    EXPECT_FALSE(c.is_dht_running());

    ASSERT_TRUE(c.start_dht_discovery(0));
    EXPECT_TRUE(c.is_dht_running());
    EXPECT_TRUE(c.start_dht_discovery(0));  // already running: fine
    EXPECT_TRUE(c.get_connection_statistics()["dht_running"].get<bool>());
    c.stop_dht_discovery();
    EXPECT_FALSE(c.is_dht_running());
    EXPECT_EQ(c.get_dht_routing_table_size(), 0u);
    ASSERT_TRUE(c.start_dht_discovery(0));
    c.stop();
    EXPECT_FALSE(c.is_dht_running());
}

TEST(DhtModule, NoBootstrapNodeMeansThePublicRoutersOnlyWhenAllowed) {
    dht_discovery d;
    EXPECT_EQ(d.bootstrap_nodes(), public_dht_routers());
    d.set_settings(quick_settings(false));
    EXPECT_TRUE(d.bootstrap_nodes().empty());
    d.set_settings(quick_settings(true));
    d.add_bootstrap_node("127.0.0.1", 7000);
    EXPECT_EQ(d.bootstrap_nodes(), (std::vector<std::pair<std::string, std::uint16_t>>{{"127.0.0.1", 7000}}));
}

TEST(DhtModule, SavedNodesRejoinWithoutBootstrapNodes) {
    dht_clients net(3);
    ASSERT_NO_FATAL_FAILURE(net.start());
    ASSERT_TRUE(wait_until([&] { return dht_of(net[2]).good_nodes().size() == 2; }, 10s));
    const auto saved = dht_of(net[2]).good_nodes();

    RatsClient rejoining(0, 10, "127.0.0.1");
    rejoining.set_log_level(LogLevel::WARN);
    dht_of(rejoining).set_settings(quick_settings());  // no bootstrap node, no public routers
    dht_of(rejoining).set_saved_nodes(saved);
    ASSERT_TRUE(rejoining.start());
    ASSERT_TRUE(rejoining.start_dht_discovery(0));
    EXPECT_TRUE(wait_until([&] { return rejoining.get_dht_routing_table_size() >= 3; }, 10s))
        << rejoining.get_dht_routing_table_size();
}

// ---- a hundred nodes over UDP

TEST(DhtUdp, HundredNodesOnLoopbackLookEachOtherUp) {
    constexpr std::size_t count = 100;
    asio::io_context io;
    std::vector<std::shared_ptr<dht::udp_node>> nodes;
    std::mt19937_64 rng(5);
    dht::engine_options o;
    // All of them share 127.0.0.1: the per-address limit must not count the network as a flood.
    for (std::size_t i = 0; i < count; ++i) {
        dht::node_id id;
        for (auto& b : id.bytes()) b = static_cast<std::uint8_t>(rng());
        auto n = dht::udp_node::create(io.get_executor(), id, o, rng());
        ASSERT_FALSE(n->open({asio::ip::make_address("127.0.0.1"), 0}));
        n->start();
        nodes.push_back(n);
    }
    const auto start = std::chrono::steady_clock::now();
    std::size_t joined = 0;
    const std::vector<asio::ip::udp::endpoint> seeds{nodes[0]->local_endpoint(), nodes[1]->local_endpoint(),
                                                     nodes[2]->local_endpoint()};
    for (auto& n : nodes) n->bootstrap(seeds, [&](const dht::lookup_result&) { ++joined; });
    const auto run_until = [&](auto done, std::chrono::seconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < end) io.run_for(10ms);
        return done();
    };
    ASSERT_TRUE(run_until([&] { return joined == count; }, 30s));
    io.run_for(500ms);  // the join's bucket refreshes

    std::size_t done = 0, found = 0;
    std::vector<std::size_t> queries;
    for (std::size_t i = 0; i < count; ++i) {
        const auto target = nodes[(i * 37 + 11) % count]->dht().id();
        nodes[i]->find_node(target, [&, target](const dht::lookup_result& r) {
            ++done;
            queries.push_back(r.queries);
            if (!r.nodes.empty() && r.nodes.front().id == target) ++found;
        });
    }
    ASSERT_TRUE(run_until([&] { return done == count; }, 30s));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::sort(queries.begin(), queries.end());
    std::cout << count << " UDP nodes: " << found << '/' << count << " lookups found their target, median "
              << queries[count / 2] << " RPCs, " << seconds << " s in all\n";
    EXPECT_GE(found, 99u);
    for (auto& n : nodes) {
        EXPECT_EQ(n->send_failures(), 0u);
        n->close();
    }
    io.run_for(100ms);
}

TEST(DhtUdp, GarbageOnTheSocketIsDroppedAndTheNodeKeepsAnswering) {
    asio::io_context io;
    const auto loopback = asio::ip::make_address("127.0.0.1");
    auto target = dht::udp_node::create(io.get_executor(), dht::info_hash_of("target"), {}, 1);
    ASSERT_FALSE(target->open({loopback, 0}));
    target->start();

    asio::ip::udp::socket attacker(io, asio::ip::udp::endpoint(loopback, 0));
    std::mt19937 rng(9);
    const std::string valid_ping = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
    std::vector<std::string> junk{"", "d", "i1e", std::string(60000, 'd'), valid_ping.substr(0, 30),
                                  "d1:rd2:id20:abcdefghij0123456789e1:t2:zz1:y1:re"};
    for (int i = 0; i < 200; ++i) {
        std::string random(rng() % 300, '\0');
        for (auto& c : random) c = static_cast<char>(rng());
        junk.push_back(random);
    }
    // One at a time, each read before the next is sent: loopback drops datagrams when the
    // receive buffer is full, and this test counts them.
    for (const auto& packet : junk) {
        const auto before = target->dht().statistics().packets_received;
        attacker.send_to(asio::buffer(packet), target->local_endpoint());
        const auto end = std::chrono::steady_clock::now() + 2s;
        while (target->dht().statistics().packets_received == before && std::chrono::steady_clock::now() < end)
            io.run_for(1ms);
    }
    const auto& stats = target->dht().statistics();
    EXPECT_EQ(stats.packets_received, junk.size());
    EXPECT_GE(stats.malformed_packets + stats.unknown_transactions, junk.size() - 1);

    // Still a working node: another one joins through it.
    auto other = dht::udp_node::create(io.get_executor(), dht::info_hash_of("other"), {}, 2);
    ASSERT_FALSE(other->open({loopback, 0}));
    other->start();
    bool joined = false;
    other->bootstrap({target->local_endpoint()}, [&](const dht::lookup_result& r) { joined = r.responses == 1; });
    const auto end = std::chrono::steady_clock::now() + 5s;
    while (!joined && std::chrono::steady_clock::now() < end) io.run_for(10ms);
    EXPECT_TRUE(joined);
    EXPECT_EQ(target->dht().table().size(), 1u);
    target->close();
    other->close();
    io.run_for(50ms);
}

}  // namespace
}  // namespace librats
