// basic_node over the in-process memory transport: deterministic, single-threaded, with faults.

#include "support.hpp"

#include <librats/crypto/plaintext.hpp>
#include <librats/discovery/static_peers.hpp>
#include <librats/node.hpp>
#include <librats/test/memory_transport.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace librats {
namespace {

using namespace std::chrono_literals;
using test::run_until;
using mem_node = basic_node<memory_transport, plaintext, static_peers>;

class MemoryNodeTest : public ::testing::Test {
protected:
    std::unique_ptr<mem_node> make_node(const std::string& host, std::uint16_t port, node_options options = {}) {
        options.listen_port = port;
        auto node = std::make_unique<mem_node>(io_.get_executor(), options, network_, host);
        node->log().set_level(log_level::off);
        return node;
    }

    std::pair<std::error_code, std::string> connect(mem_node& from, const std::string& host, std::uint16_t port) {
        std::optional<std::pair<std::error_code, std::string>> result;
        from.async_connect(host, port, [&](std::error_code ec, std::string id) { result.emplace(ec, id); });
        EXPECT_TRUE(run_until(io_, [&] { return result.has_value(); }));
        return result.value_or(std::make_pair(make_error_code(errc::connect_timeout), std::string()));
    }

    asio::io_context io_;
    memory_network network_;
};

TEST_F(MemoryNodeTest, SimultaneousDialKeepsExactlyOneConnection) {
    for (int round = 0; round < 20; ++round) {
        auto a = make_node("a", 1000), b = make_node("b", 2000);
        a->start();
        b->start();
        int a_connected = 0, b_connected = 0, completions = 0;
        a->set_peer_connected_handler([&](const peer_info&) { ++a_connected; });
        b->set_peer_connected_handler([&](const peer_info&) { ++b_connected; });
        a->async_connect("b", 2000, [&](std::error_code ec, std::string) { completions += !ec; });
        b->async_connect("a", 1000, [&](std::error_code ec, std::string) { completions += !ec; });
        ASSERT_TRUE(run_until(io_, [&] {
            return completions == 2 && a->peer_count() == 1 && b->peer_count() == 1 && network_.connection_count() == 1;
        })) << "round " << round << ": " << network_.connection_count() << " connections";
        // And it stays that way: no late close takes the survivor down.
        run_until(io_, [] { return false; }, 50ms);
        EXPECT_EQ(network_.connection_count(), 1u);
        EXPECT_EQ(a->peer_count(), 1u);
        EXPECT_NE(a->peers()[0].outbound, b->peers()[0].outbound);
        a.reset();
        b.reset();
        run_until(io_, [&] { return network_.connection_count() == 0; });
    }
}

TEST_F(MemoryNodeTest, ConnectionDroppedMidMessageLosesNothingAccepted) {
    node_options options;
    options.send_queue_limit = 4 << 20;  // both messages queue at once
    auto a = make_node("a", 1000), b = make_node("b", 2000, options);
    a->start();
    b->start();
    std::vector<std::string> received;
    a->set_data_handler([&](const peer_info&, data_kind, std::string_view bytes) { received.emplace_back(bytes); });
    std::error_code a_disconnect;
    a->set_peer_disconnected_handler([&](const peer_info&, std::error_code ec) { a_disconnect = ec; });

    // The connection resets 100 KiB into its life: the handshake and a first small message
    // pass, a 1 MiB message is cut.
    network_.close_after(100 * 1024);
    const auto [ec, id] = connect(*b, "a", 1000);
    ASSERT_FALSE(ec) << ec.message();
    std::optional<std::error_code> small_sent, big_sent;
    b->async_send_data(id, data_kind::binary, "small", [&](std::error_code e) { small_sent = e; });
    b->async_send_data(id, data_kind::binary, std::string(1 << 20, 'x'), [&](std::error_code e) { big_sent = e; });
    ASSERT_TRUE(run_until(io_, [&] { return a_disconnect && big_sent && a->peer_count() == 0 && b->peer_count() == 0; }));
    EXPECT_FALSE(*small_sent);
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(received[0], "small");

    // Both nodes keep running and connect again.
    const auto [again, id2] = connect(*b, "a", 1000);
    ASSERT_FALSE(again) << again.message();
    b->send_data(id2, data_kind::binary, std::string(1 << 20, 'y'));
    ASSERT_TRUE(run_until(io_, [&] { return received.size() == 2; }));
    EXPECT_EQ(received[1], std::string(1 << 20, 'y'));
}

TEST_F(MemoryNodeTest, LatencyDelaysButDeliversInOrder) {
    network_.set_delay(20ms);
    auto a = make_node("a", 1000), b = make_node("b", 2000);
    a->start();
    b->start();
    std::vector<int> got;
    a->on("n", [&](const std::string&, const nlohmann::json& data) { got.push_back(data.get<int>()); });
    const auto started = std::chrono::steady_clock::now();
    const auto [ec, id] = connect(*b, "a", 1000);
    ASSERT_FALSE(ec);
    EXPECT_GE(std::chrono::steady_clock::now() - started, 40ms);  // preamble and hello each way
    for (int i = 0; i < 50; ++i) b->send(id, "n", i);
    ASSERT_TRUE(run_until(io_, [&] { return got.size() == 50; }));
    for (int i = 0; i < 50; ++i) EXPECT_EQ(got[i], i);
}

TEST_F(MemoryNodeTest, DroppedConnectsTimeOut) {
    node_options options;
    options.connect_timeout = 100ms;
    auto a = make_node("a", 1000, options), b = make_node("b", 2000);
    a->start();
    b->start();
    network_.drop_connects_to("b", true);
    EXPECT_EQ(connect(*a, "b", 2000).first, make_error_code(errc::connect_timeout));
    network_.drop_connects_to("b", false);
    EXPECT_FALSE(connect(*a, "b", 2000).first);
}

TEST_F(MemoryNodeTest, PartitionedPeersTimeOutAndStaticPeersReconnect) {
    node_options options;
    options.keepalive_interval = 50ms;
    options.idle_timeout = 200ms;
    auto a = make_node("a", 1000, options), b = make_node("b", 2000, options);
    a->get<static_peers>().add_peer("b", 2000);
    a->get<static_peers>().set_backoff(20ms, 80ms);
    std::vector<std::error_code> a_disconnects;
    a->set_peer_disconnected_handler([&](const peer_info&, std::error_code ec) { a_disconnects.push_back(ec); });
    b->start();
    a->start();
    ASSERT_TRUE(run_until(io_, [&] { return a->peer_count() == 1 && b->peer_count() == 1; }));

    network_.partition("a", "b", true);
    ASSERT_TRUE(run_until(io_, [&] { return a->peer_count() == 0 && b->peer_count() == 0; }, 3s));
    ASSERT_FALSE(a_disconnects.empty());
    EXPECT_EQ(a_disconnects[0], make_error_code(errc::idle_timeout));

    network_.partition("a", "b", false);
    EXPECT_TRUE(run_until(io_, [&] { return a->peer_count() == 1 && b->peer_count() == 1; }, 3s));
}

TEST_F(MemoryNodeTest, StaticPeersRetryWithBackoffUntilThePeerAppears) {
    auto a = make_node("a", 1000);
    a->get<static_peers>().add_peer("b", 2000);
    a->get<static_peers>().set_backoff(10ms, 40ms);
    a->start();
    EXPECT_EQ(a->get<static_peers>().peers(), std::vector<std::string>{"b:2000"});
    run_until(io_, [] { return false; }, 150ms);
    EXPECT_EQ(a->peer_count(), 0u);
    const auto failed_dials = a->statistics().connections_initiated;
    // 10, 20, 40, 40 ms...: a few attempts in 150 ms, not a storm.
    EXPECT_GE(failed_dials, 3u);
    EXPECT_LE(failed_dials, 8u);

    auto b = make_node("b", 2000);
    b->start();
    ASSERT_TRUE(run_until(io_, [&] { return a->peer_count() == 1; }));

    // A peer added while running is dialed at once.
    auto c = make_node("c", 3000);
    c->start();
    a->get<static_peers>().add_peer("c", 3000);
    ASSERT_TRUE(run_until(io_, [&] { return a->peer_count() == 2; }));

    // When the peer drops the connection, the module dials it again.
    int b_disconnects = 0, b_connects = 0;
    b->set_peer_disconnected_handler([&](const peer_info&, std::error_code) { ++b_disconnects; });
    b->set_peer_connected_handler([&](const peer_info&) { ++b_connects; });
    b->disconnect(a->peer_id());
    EXPECT_TRUE(run_until(io_, [&] { return b_disconnects == 1 && b_connects == 1 && a->peer_count() == 2; }));
}

}  // namespace
}  // namespace librats
