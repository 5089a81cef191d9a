// The DHT engine on its own: every query type answered per BEP 5, tokens, the peer store,
// lookups and announces in a small simulated network, timeouts, read-only mode, persistence of the
// routing table, and abuse: malformed and oversized packets, unknown methods, bad tokens, floods,
// forged replies and nodes that lie in their node lists.

#include "dht/sim_network.hpp"

#include <librats/dht/engine.hpp>
#include <librats/dht/krpc.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

namespace librats::dht {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using udp_endpoint = asio::ip::udp::endpoint;

const engine::time_point t0 = engine::time_point{} + 24h;

udp_endpoint udp(const char* address, std::uint16_t port) { return {asio::ip::make_address(address), port}; }

node_id id_filled(std::uint8_t byte) {
    node_id id;
    id.bytes().fill(byte);
    return id;
}

// One engine whose packets are captured, and a remote node's side of the conversation.
struct harness {
    struct sent_packet {
        udp_endpoint to;
        std::string data;
    };

    explicit harness(engine_options o = {})
        : dht(id_filled(0x80), o, 42, [this](const udp_endpoint& to, std::string_view p) { sent.push_back({to, std::string(p)}); },
              t0) {}

    // A query from `from` with the given ID and transaction "tt".
    void query(const udp_endpoint& from, const node_id& id, krpc::query q, engine::time_point now = t0,
               bool read_only = false) {
        q.id = id;
        krpc::envelope env{"tt", "", read_only, std::nullopt};
        std::string packet;
        krpc::encode_query(packet, env, q);
        dht.receive(from, packet, now);
    }

    // The last packet sent, decoded (its views stay valid until the next call).
    const krpc::message& last() {
        EXPECT_FALSE(sent.empty());
        last_packet = sent.back().data;
        const auto ec = krpc::decode(last_packet, doc, message);
        EXPECT_FALSE(ec) << ec.message();
        return message;
    }
    const krpc::response& last_response() {
        const auto& m = last();
        EXPECT_EQ(m.type, krpc::message_type::response);
        return std::get<krpc::response>(m.body);
    }
    const krpc::error& last_error() {
        const auto& m = last();
        EXPECT_EQ(m.type, krpc::message_type::error);
        return std::get<krpc::error>(m.body);
    }

    std::vector<sent_packet> sent;
    engine dht;
    std::string last_packet;
    bencode::document doc;
    krpc::message message;
};

// ---- answering queries

TEST(DhtEngine, AnswersPingWithItsIdAndTheTransactionId) {
    harness h;
    h.query(udp("10.0.0.2", 7000), id_filled(1), krpc::query{{}, krpc::ping_args{}});
    ASSERT_EQ(h.sent.size(), 1u);
    EXPECT_EQ(h.sent[0].to, udp("10.0.0.2", 7000));
    const auto& r = h.last_response();
    EXPECT_EQ(r.id, h.dht.id());
    EXPECT_EQ(h.message.transaction_id, "tt");
    ASSERT_TRUE(h.message.ip);  // BEP 42: the querier's address as we see it
    EXPECT_EQ(*h.message.ip, udp("10.0.0.2", 7000));
    EXPECT_EQ(h.message.version->substr(0, 2), "LR");
    // The querier is now in the routing table.
    EXPECT_EQ(h.dht.table().size(), 1u);
}

TEST(DhtEngine, FindNodeReturnsTheClosestKnownNodes) {
    harness h;
    for (std::uint8_t i = 1; i <= 20; ++i)
        h.query(udp("10.0.1.1", static_cast<std::uint16_t>(7000 + i)), id_filled(i), krpc::query{{}, krpc::ping_args{}});
    h.query(udp("10.0.0.9", 9000), id_filled(0x42), krpc::query{{}, krpc::find_node_args{id_filled(3), {}}});
    const auto& r = h.last_response();
    ASSERT_EQ(r.nodes.size(), 8u);
    EXPECT_EQ(r.nodes[0].id, id_filled(3));
    EXPECT_EQ(r.nodes[0].endpoint, udp("10.0.1.1", 7003));
    EXPECT_EQ(r.nodes6.size(), 0u);
}

TEST(DhtEngine, GetPeersGivesATokenThatAnnouncePeerAccepts) {
    harness h;
    const auto peer = udp("10.0.0.3", 6000);
    const auto hash = id_filled(0x33);
    h.query(peer, id_filled(3), krpc::query{{}, krpc::get_peers_args{hash, {}}});
    const auto& r = h.last_response();
    ASSERT_TRUE(r.token);
    const std::string token(*r.token);
    EXPECT_FALSE(r.values);  // nobody announced yet

    h.query(peer, id_filled(3), krpc::query{{}, krpc::announce_peer_args{hash, 51413, token, false}});
    h.last_response();
    EXPECT_EQ(h.dht.store().peers(), 1u);

    // Now get_peers returns the announced TCP endpoint.
    h.query(udp("10.0.0.4", 6001), id_filled(4), krpc::query{{}, krpc::get_peers_args{hash, {}}});
    const auto& with_values = h.last_response();
    ASSERT_TRUE(with_values.values);
    ASSERT_EQ(with_values.values->size(), 1u);
    EXPECT_EQ(*with_values.values->begin(), asio::ip::tcp::endpoint(asio::ip::make_address("10.0.0.3"), 51413));
}

TEST(DhtEngine, ImpliedPortAnnouncesTheSourcePort) {
    harness h;
    const auto peer = udp("10.0.0.3", 6123);
    const auto hash = id_filled(0x34);
    h.query(peer, id_filled(3), krpc::query{{}, krpc::get_peers_args{hash, {}}});
    const std::string token(*h.last_response().token);
    h.query(peer, id_filled(3), krpc::query{{}, krpc::announce_peer_args{hash, 1, token, true}});
    h.last_response();
    std::mt19937_64 rng(1);
    const auto peers = h.dht.store().sample(hash, 10, t0, rng);
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_EQ(peers[0].port(), 6123);
}

TEST(DhtEngine, RejectsTokensThatAreForgedForAnotherAddressOrExpired) {
    harness h;
    const auto hash = id_filled(0x35);
    h.query(udp("10.0.0.3", 6000), id_filled(3), krpc::query{{}, krpc::get_peers_args{hash, {}}});
    const std::string token(*h.last_response().token);

    h.query(udp("10.0.0.3", 6000), id_filled(3), krpc::query{{}, krpc::announce_peer_args{hash, 1, "forged!!", false}});
    EXPECT_EQ(h.last_error().code, krpc::protocol_error);
    h.query(udp("10.0.0.99", 6000), id_filled(9), krpc::query{{}, krpc::announce_peer_args{hash, 1, token, false}});
    EXPECT_EQ(h.last_error().code, krpc::protocol_error);

    // Still valid five minutes on (the previous secret), refused after ten.
    h.dht.tick(t0 + 5min + 1s);
    h.query(udp("10.0.0.3", 6000), id_filled(3), krpc::query{{}, krpc::announce_peer_args{hash, 2, token, false}},
            t0 + 5min + 2s);
    h.last_response();
    h.dht.tick(t0 + 10min + 2s);
    h.query(udp("10.0.0.3", 6000), id_filled(3), krpc::query{{}, krpc::announce_peer_args{hash, 3, token, false}},
            t0 + 10min + 3s);
    EXPECT_EQ(h.last_error().code, krpc::protocol_error);
    EXPECT_EQ(h.dht.statistics().bad_tokens, 3u);
    EXPECT_EQ(h.dht.store().peers(), 1u);
}

TEST(DhtEngine, AnnouncedPeersExpireAndTheStoreIsBounded) {
    engine_options o;
    o.store.max_info_hashes = 3;
    o.store.max_peers_per_hash = 2;
    harness h(o);
    for (std::uint8_t n = 0; n < 5; ++n) {
        const auto from = udp("10.0.2.1", static_cast<std::uint16_t>(6000 + n));
        for (std::uint8_t hash = 0; hash < 5; ++hash) {
            h.query(from, id_filled(static_cast<std::uint8_t>(10 + n)), krpc::query{{}, krpc::get_peers_args{id_filled(hash), {}}});
            const std::string token(*h.last_response().token);
            h.query(from, id_filled(static_cast<std::uint8_t>(10 + n)),
                    krpc::query{{}, krpc::announce_peer_args{id_filled(hash), 1000, token, true}});
        }
    }
    EXPECT_EQ(h.dht.store().info_hashes(), 3u);
    EXPECT_EQ(h.dht.store().peers(), 6u);
    EXPECT_EQ(h.last_error().code, krpc::server_error);  // the fifth info-hash did not fit
    h.dht.tick(t0 + 46min);
    EXPECT_EQ(h.dht.store().peers(), 0u);
}

// ---- bad input

TEST(DhtEngine, UnknownMethodGets204AndBrokenArgumentsGet203) {
    harness h;
    const auto from = udp("10.0.0.5", 5000);
    h.dht.receive(from, "d1:ad2:id20:abcdefghij0123456789e1:q4:vote1:t2:xy1:y1:qe", t0);
    EXPECT_EQ(h.last_error().code, krpc::method_unknown);
    EXPECT_EQ(h.message.transaction_id, "xy");
    h.dht.receive(from, "d1:ad2:id3:abce1:q4:ping1:t2:xz1:y1:qe", t0);  // ID of 3 bytes
    EXPECT_EQ(h.last_error().code, krpc::protocol_error);
    h.dht.receive(from, "d1:ad2:id20:abcdefghij01234567896:targeti5ee1:q9:find_node1:t2:x01:y1:qe", t0);
    EXPECT_EQ(h.last_error().code, krpc::protocol_error);
    EXPECT_EQ(h.dht.statistics().malformed_packets, 3u);
    EXPECT_EQ(h.dht.table().size(), 0u);  // none of them got into the routing table
}

TEST(DhtEngine, DropsGarbageTruncatedAndOversizedPacketsSilently) {
    harness h;
    const auto from = udp("10.0.0.5", 5000);
    const std::string ping = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
    std::size_t dropped = 0;
    for (std::size_t n = 0; n < ping.size(); ++n, ++dropped) h.dht.receive(from, ping.substr(0, n), t0);
    for (const char* junk : {"", "i42e", "le", "de", "\xff\xfe", "d1:y1:qe", "d1:t2:aa1:y1:re"}) {
        h.dht.receive(from, junk, t0);
        ++dropped;
    }
    h.dht.receive(from, "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:q1:z" + std::string(9000, 'x') + "e", t0);
    ++dropped;
    EXPECT_TRUE(h.sent.empty());
    EXPECT_EQ(h.dht.statistics().malformed_packets, dropped);
    // Still serving.
    h.dht.receive(from, ping, t0);
    EXPECT_EQ(h.last_response().id, h.dht.id());
}

TEST(DhtEngine, RandomMutationsNeverCrashOrGrowState) {
    harness h;
    std::mt19937 rng(7);
    const std::string seeds[] = {
        "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe",
        "d1:rd2:id20:abcdefghij01234567895:nodes26:abcdefghij0123456789xxxxxx5:token8:aoeusnthe1:t2:aa1:y1:re",
        "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee"};
    for (int i = 0; i < 20000; ++i) {
        std::string p = seeds[i % 3];
        for (int m = 0; m < 1 + i % 4; ++m) p[rng() % p.size()] = static_cast<char>(rng());
        h.dht.receive(udp("10.0.3.1", static_cast<std::uint16_t>(1000 + i % 50)), p, t0 + std::chrono::milliseconds(i));
    }
    EXPECT_LE(h.dht.table().size(), 50u);
    EXPECT_EQ(h.dht.active_lookups(), 0u);
    // Only the pings the routing table asked for are in flight; unanswered, they settle.
    for (int s = 1; s <= 10; ++s) h.dht.tick(t0 + std::chrono::seconds(20 + 10 * s));
    EXPECT_EQ(h.dht.outstanding_queries(), 0u);
}

TEST(DhtEngine, RateLimitsAFloodFromOneAddressAndKeepsAnsweringOthers) {
    engine_options o;
    o.queries_per_second = 10;
    o.query_burst = 20;
    harness h(o);
    const auto flooder = udp("10.0.0.66", 6666);
    for (int i = 0; i < 1000; ++i) h.query(flooder, id_filled(66), krpc::query{{}, krpc::ping_args{}});
    EXPECT_EQ(h.sent.size(), 20u);
    EXPECT_EQ(h.dht.statistics().rate_limited, 980u);
    // A bystander is answered at once, the flooder again after its bucket refills.
    h.query(udp("10.0.0.7", 7000), id_filled(7), krpc::query{{}, krpc::ping_args{}});
    EXPECT_EQ(h.sent.size(), 21u);
    EXPECT_EQ(h.sent.back().to, udp("10.0.0.7", 7000));
    h.query(flooder, id_filled(66), krpc::query{{}, krpc::ping_args{}}, t0 + 1s);
    EXPECT_EQ(h.sent.size(), 22u);
}

TEST(DhtEngine, ManySourcesCannotGrowTheRateLimiterWithoutBound) {
    engine_options o;
    o.max_rate_limited_sources = 100;
    harness h(o);
    for (std::uint32_t i = 0; i < 5000; ++i)
        h.query(udp_endpoint(asio::ip::address_v4(0x0b000000u + i), 4000), id_filled(static_cast<std::uint8_t>(i)),
                krpc::query{{}, krpc::ping_args{}});
    EXPECT_LE(h.dht.tracked_sources(), 100u);
    EXPECT_EQ(h.dht.statistics().rate_limited, 4900u);
    EXPECT_LE(h.dht.table().size(), 160u * 8u);
    // Once the buckets have refilled, new sources are served again.
    h.query(udp("10.0.0.8", 8000), id_filled(8), krpc::query{{}, krpc::ping_args{}}, t0 + 10s);
    EXPECT_EQ(h.sent.back().to, udp("10.0.0.8", 8000));
}

TEST(DhtEngine, IgnoresRepliesWithUnknownTransactionsOrFromTheWrongAddress) {
    harness h;
    const auto node = udp("10.0.0.10", 1010);
    h.dht.ping(node, t0);
    ASSERT_EQ(h.sent.size(), 1u);
    const auto& q = h.last();
    const std::string tid(q.transaction_id);
    std::string reply;
    krpc::response_data r;
    r.id = id_filled(10);
    krpc::encode_response(reply, krpc::envelope{tid, "", false, std::nullopt}, r);
    h.dht.receive(udp("10.0.0.11", 1010), reply, t0);  // forged: another address
    std::string wrong_tid;
    krpc::encode_response(wrong_tid, krpc::envelope{"zz", "", false, std::nullopt}, r);
    h.dht.receive(node, wrong_tid, t0);
    EXPECT_EQ(h.dht.statistics().unknown_transactions, 2u);
    EXPECT_EQ(h.dht.table().size(), 0u);
    h.dht.receive(node, reply, t0);
    EXPECT_EQ(h.dht.table().size(), 1u);
    h.dht.receive(node, reply, t0);  // a replay
    EXPECT_EQ(h.dht.statistics().unknown_transactions, 3u);
}

TEST(DhtEngine, UnansweredQueriesTimeOut) {
    harness h;
    h.dht.ping(udp("10.0.0.12", 1212), t0);
    EXPECT_EQ(h.dht.outstanding_queries(), 1u);
    EXPECT_LE(h.dht.next_deadline(), t0 + 1s);
    h.dht.tick(t0 + 4s);
    EXPECT_EQ(h.dht.outstanding_queries(), 1u);
    h.dht.tick(t0 + 5s);
    EXPECT_EQ(h.dht.outstanding_queries(), 0u);
    EXPECT_EQ(h.dht.statistics().timeouts, 1u);
}

// Eight nodes in the routing table, none of which will answer.
void import_eight_nodes(harness& h) {
    std::vector<node_contact> nodes;
    for (std::uint8_t i = 0; i < 8; ++i)
        nodes.push_back({id_filled(static_cast<std::uint8_t>(0x10 * i + 1)), udp("10.0.5.1", static_cast<std::uint16_t>(5000 + i))});
    h.dht.import_nodes(nodes, t0);
}

TEST(DhtEngine, ALookupEndsEvenWhenTheQueryTableIsFull) {
    engine_options o;
    o.max_transactions = 2;
    harness h(o);
    import_eight_nodes(h);
    bool done = false;
    h.dht.find_node(id_filled(0x33), t0, [&](const lookup_result& r) {
        done = true;
        EXPECT_TRUE(r.nodes.empty());
    });
    EXPECT_EQ(h.sent.size(), 2u);
    for (int s = 1; s <= 60 && !done; ++s) h.dht.tick(t0 + std::chrono::seconds(s));
    EXPECT_TRUE(done);
    EXPECT_EQ(h.dht.active_lookups(), 0u);
}

// Every send of the lookup's first batches fails: it must go on to its remaining candidates or
// finish, not wait forever for replies to queries it never sent (found by fuzz_dht_engine).
TEST(DhtEngine, ALookupStartedWhileTheQueryTableIsFullStillEnds) {
    engine_options o;
    o.max_transactions = 2;
    harness h(o);
    import_eight_nodes(h);
    h.dht.ping(udp("10.0.6.1", 6001), t0);
    h.dht.ping(udp("10.0.6.2", 6002), t0);
    ASSERT_EQ(h.dht.outstanding_queries(), 2u);
    bool done = false;
    h.dht.find_node(id_filled(0x33), t0, [&](const lookup_result&) { done = true; });
    for (int s = 1; s <= 60 && !done; ++s) h.dht.tick(t0 + std::chrono::seconds(s));
    EXPECT_TRUE(done);
    EXPECT_EQ(h.dht.active_lookups(), 0u);
}

TEST(DhtEngine, ReadOnlyNodesAskWithRoAndAnswerNothing) {
    engine_options o;
    o.read_only = true;
    harness h(o);
    h.query(udp("10.0.0.13", 1313), id_filled(13), krpc::query{{}, krpc::ping_args{}});
    EXPECT_TRUE(h.sent.empty());
    h.dht.ping(udp("10.0.0.13", 1313), t0);
    EXPECT_TRUE(h.last().read_only);

    // And a normal node answers a read-only querier without adding it to its table.
    harness normal;
    normal.query(udp("10.0.0.14", 1414), id_filled(14), krpc::query{{}, krpc::ping_args{}}, t0, true);
    normal.last_response();
    EXPECT_EQ(normal.dht.table().size(), 0u);
}

TEST(DhtEngine, ExportedNodesRejoinAnotherEngine) {
    harness h;
    for (std::uint8_t i = 1; i <= 10; ++i) {
        const auto node = udp("10.0.4.1", static_cast<std::uint16_t>(4000 + i));
        h.dht.ping(node, t0);
        const std::string tid(h.last().transaction_id);
        std::string reply;
        krpc::response_data r;
        r.id = id_filled(i);
        krpc::encode_response(reply, krpc::envelope{tid, "", false, std::nullopt}, r);
        h.dht.receive(node, reply, t0);
    }
    // All ten share our bucket 0 (their first bit differs from ours): k = 8 of them are in it.
    const auto saved = h.dht.export_nodes(t0);
    EXPECT_EQ(saved.size(), 8u);
    harness restored;
    restored.dht.import_nodes(saved, t0);
    EXPECT_EQ(restored.dht.table().size(), 8u);
    // They are the seeds of the next lookup.
    restored.dht.find_node(id_filled(5), t0, [](const lookup_result&) {});
    EXPECT_EQ(restored.sent.size(), 3u);  // alpha queries, to the closest saved nodes
}

// ---- in a network

TEST(DhtEngine, LookupsAndAnnouncesWorkInASmallNetwork) {
    sim::network::options o;
    sim::network net(o);
    for (int i = 0; i < 50; ++i) net.add_node();
    std::size_t joined = 0;
    for (std::size_t i = 0; i < 50; ++i)
        net.node(i).bootstrap({net.endpoint(0)}, net.now(), [&](const lookup_result&) { ++joined; });
    ASSERT_TRUE(net.run([&] { return joined == 50; }, 30s));

    bool announced = false;
    std::size_t accepted = 0;
    net.node(7).announce(id_filled(0x77), 4242, net.now(), [&](std::size_t n, const lookup_result&) {
        announced = true;
        accepted = n;
    });
    ASSERT_TRUE(net.run([&] { return announced; }, 30s));
    EXPECT_EQ(accepted, 8u);

    std::vector<asio::ip::tcp::endpoint> peers;
    bool found = false;
    net.node(33).get_peers(id_filled(0x77), net.now(), [&](const lookup_result& r) {
        peers = r.peers;
        found = true;
    });
    ASSERT_TRUE(net.run([&] { return found; }, 30s));
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_EQ(peers[0], asio::ip::tcp::endpoint(net.endpoint(7).address(), 4242));
}

TEST(DhtEngine, LookupsSurviveNodesThatLieInTheirNodeLists) {
    sim::network::options o;
    sim::network net(o);
    for (int i = 0; i < 60; ++i) net.add_node();
    // The liar answers every query with 16 made-up nodes very close to the target; they never answer.
    const auto liar = udp("10.9.9.9", 6881);
    const auto liar_id = id_filled(0x5a);
    std::uint32_t fake = 0;
    net.on_unrouted = [&](const udp_endpoint& from, const udp_endpoint& to, std::string_view packet) {
        if (to != liar) return;
        bencode::document doc;
        krpc::message m;
        if (krpc::decode(packet, doc, m) || m.type != krpc::message_type::query) return;
        const auto& q = std::get<krpc::query>(m.body);
        node_id target = q.id;
        if (q.which() == krpc::method::find_node) target = std::get<krpc::find_node_args>(q.args).target;
        if (q.which() == krpc::method::get_peers) target = std::get<krpc::get_peers_args>(q.args).info_hash;
        krpc::response_data r;
        r.id = liar_id;
        for (int i = 0; i < 16; ++i) {
            auto id = target;
            id.bytes()[19] ^= static_cast<std::uint8_t>(i + 1);
            r.nodes.push_back({id, udp_endpoint(asio::ip::address_v4(0x0c000000u + ++fake), 6881)});
        }
        r.token = std::string_view("liar");
        std::string reply;
        krpc::encode_response(reply, krpc::envelope{m.transaction_id, "", false, std::nullopt}, r);
        net.inject(liar, from, reply);
    };
    std::size_t joined = 0;
    for (std::size_t i = 0; i < net.size(); ++i)
        net.node(i).bootstrap({net.endpoint(0), liar}, net.now(), [&](const lookup_result&) { ++joined; });
    ASSERT_TRUE(net.run([&] { return joined == net.size(); }, 120s));

    std::size_t found = 0, done = 0;
    for (std::size_t i = 0; i < 20; ++i) {
        const auto target = net.node((i * 7 + 3) % net.size()).id();
        net.node(i).find_node(target, net.now(), [&, target](const lookup_result& r) {
            ++done;
            if (!r.nodes.empty() && r.nodes.front().id == target) ++found;
        });
    }
    ASSERT_TRUE(net.run([&] { return done == 20; }, 120s));
    EXPECT_EQ(found, 20u);
    for (std::size_t i = 0; i < net.size(); ++i) {
        EXPECT_EQ(net.node(i).active_lookups(), 0u);
        EXPECT_LE(net.node(i).table().size(), net.size());
    }
}

}  // namespace
}  // namespace librats::dht
