// RatsClient, the seed API, over TCP on 127.0.0.1.

#include "client_pair.hpp"
#include "support.hpp"

#include <librats/librats.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace librats {
namespace {

using namespace std::chrono_literals;
using test::wait_until;

using test::client_pair;

TEST(ClientTest, StartReportsTheRealPortAndStopIsIdempotent) {
    RatsClient client(0, 10, "127.0.0.1");
    EXPECT_FALSE(client.is_running());
    ASSERT_TRUE(client.start());
    EXPECT_TRUE(client.is_running());
    EXPECT_GT(client.get_listen_port(), 0);
    EXPECT_EQ(client.get_our_peer_id().size(), 40u);
    EXPECT_FALSE(client.start());

    RatsClient busy(client.get_listen_port(), 10, "127.0.0.1");
    EXPECT_FALSE(busy.start());

    client.stop();
    client.stop();
    EXPECT_FALSE(client.is_running());
    EXPECT_TRUE(client.start());
}

TEST(ClientTest, MessageApiWithSendCallbacks) {
    client_pair p;
    std::promise<nlohmann::json> got;
    p.a.on("chat", [&](const std::string& peer_id, const nlohmann::json& data) {
        if (peer_id == p.b.get_our_peer_id()) got.set_value(data);
    });
    p.connect();

    std::promise<std::pair<bool, std::string>> sent;
    p.b.send(p.a.get_our_peer_id(), "chat", {{"message", "hi"}},
             [&](bool ok, const std::string& error) { sent.set_value({ok, error}); });
    auto outcome = sent.get_future();
    ASSERT_EQ(outcome.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(outcome.get(), std::make_pair(true, std::string()));
    auto data = got.get_future();
    ASSERT_EQ(data.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(data.get().value("message", ""), "hi");

    std::promise<std::pair<bool, std::string>> missing;
    p.b.send("no-such-peer", "chat", {}, [&](bool ok, const std::string& error) { missing.set_value({ok, error}); });
    const auto [ok, error] = missing.get_future().get();
    EXPECT_FALSE(ok);
    EXPECT_EQ(error, "peer not found");

    std::promise<bool> broadcast;
    p.a.send("chat", {{"message", "to all"}}, [&](bool ok, const std::string&) { broadcast.set_value(ok); });
    EXPECT_TRUE(broadcast.get_future().get());
}

TEST(ClientTest, LegacyCallbacksSeeExactBytesAndSockets) {
    client_pair p;
    std::mutex mutex;
    std::vector<std::string> strings;
    std::vector<std::vector<std::uint8_t>> binaries;
    std::atomic<socket_t> connected_socket{INVALID_SOCKET_VALUE};
    p.a.set_connection_callback([&](auto socket, const std::string&) { connected_socket = socket; });
    p.a.set_data_callback([&](socket_t, const std::string&, const std::string& data) {
        std::lock_guard<std::mutex> lock(mutex);
        strings.push_back(data);
    });
    p.a.set_binary_data_callback([&](socket_t, const std::string&, const std::vector<std::uint8_t>& data) {
        std::lock_guard<std::mutex> lock(mutex);
        binaries.push_back(data);
    });
    p.connect();
    ASSERT_TRUE(wait_until([&] { return connected_socket != INVALID_SOCKET_VALUE; }));
    EXPECT_EQ(p.a.get_peer_socket_by_id(p.b.get_our_peer_id()), connected_socket);
    EXPECT_EQ(p.a.get_peer_id(connected_socket), p.b.get_our_peer_id());

    const std::string text("line one\nline\0two", 17);
    const std::vector<std::uint8_t> binary = {0, 1, 2, 255, 0};
    EXPECT_TRUE(p.b.send_to_peer_by_hash(p.a.get_our_peer_id(), text));
    EXPECT_TRUE(p.b.send_binary_to_peer_id(p.a.get_our_peer_id(), binary));
    EXPECT_EQ(p.b.broadcast_to_peers("broadcast"), 1);
    EXPECT_EQ(p.b.broadcast_binary_to_peers(binary), 1);
    EXPECT_FALSE(p.b.send_to_peer_by_hash("unknown", text));
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard<std::mutex> lock(mutex);
        return strings.size() == 2 && binaries.size() == 2;
    }));
    EXPECT_EQ(strings[0], text);
    EXPECT_EQ(strings[1], "broadcast");
    EXPECT_EQ(binaries[0], binary);
}

TEST(ClientTest, DisconnectByHashFiresDisconnectCallbacks) {
    client_pair p;
    std::atomic<int> a_disconnects{0}, b_disconnects{0};
    p.a.set_disconnect_callback([&](socket_t, const std::string&) { ++a_disconnects; });
    p.b.set_disconnect_callback([&](socket_t, const std::string&) { ++b_disconnects; });
    p.connect();
    p.b.disconnect_peer_by_hash(p.a.get_our_peer_id());
    EXPECT_TRUE(wait_until([&] { return a_disconnects == 1 && b_disconnects == 1; }));
    EXPECT_EQ(p.a.get_peer_count(), 0);
    EXPECT_EQ(p.b.get_peer_count(), 0);
}

TEST(ClientTest, PeersAndStatistics) {
    client_pair p;
    p.connect();
    const auto peers = p.b.get_all_peers();
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_EQ(peers[0].peer_id, p.a.get_our_peer_id());
    EXPECT_EQ(peers[0].ip, "127.0.0.1");
    EXPECT_EQ(peers[0].port, p.a.get_listen_port());
    EXPECT_TRUE(peers[0].is_outgoing);
    EXPECT_TRUE(p.b.get_peer_by_id(p.a.get_our_peer_id()));
    EXPECT_FALSE(p.b.get_peer_by_id("nobody"));

    const auto stats = p.a.get_connection_statistics();
    EXPECT_EQ(stats.at("total_peers"), 1);
    EXPECT_EQ(stats.at("max_peers"), 10);
    EXPECT_EQ(stats.at("running"), true);
    EXPECT_EQ(stats.at("listen_port"), p.a.get_listen_port());
    EXPECT_EQ(stats.at("our_peer_id"), p.a.get_our_peer_id());
    EXPECT_GT(stats.at("bytes_received").get<std::uint64_t>(), 0u);

    p.a.set_max_peers(1);
    EXPECT_EQ(p.a.get_max_peers(), 1);
    EXPECT_TRUE(p.a.is_peer_limit_reached());
    RatsClient third(0, 10, "127.0.0.1");
    ASSERT_TRUE(third.start());
    EXPECT_TRUE(third.connect_to_peer("127.0.0.1", p.a.get_listen_port()));
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(third.get_peer_count(), 0);
    EXPECT_EQ(p.a.get_peer_count(), 1);
}

TEST(ClientTest, ConnectToPeerRejectsWhatCannotWork) {
    RatsClient client(0, 10, "127.0.0.1");
    EXPECT_FALSE(client.connect_to_peer("127.0.0.1", 1));  // not running
    ASSERT_TRUE(client.start());
    EXPECT_FALSE(client.connect_to_peer("127.0.0.1", 0));
    EXPECT_FALSE(client.connect_to_peer("127.0.0.1", 70000));
    EXPECT_FALSE(client.connect_to_peer("", 80));
}

TEST(ClientTest, LogLevelsAndSink) {
    RatsClient client(0, 10, "127.0.0.1");
    EXPECT_EQ(client.get_log_level(), LogLevel::WARN);
    client.set_log_level("debug");
    EXPECT_EQ(client.get_log_level(), LogLevel::DEBUG);
    client.set_log_level(LogLevel::ERROR);
    EXPECT_EQ(client.get_log_level(), LogLevel::ERROR);
    std::mutex mutex;
    std::vector<std::string> lines;
    client.set_log_level(LogLevel::INFO);
    client.set_log_sink([&](log_level, std::string_view, std::string_view message) {
        std::lock_guard<std::mutex> lock(mutex);
        lines.emplace_back(message);
    });
    ASSERT_TRUE(client.start());
    client.stop();
    std::lock_guard<std::mutex> lock(mutex);
    ASSERT_FALSE(lines.empty());
    EXPECT_NE(lines[0].find("listening on port"), std::string::npos);
}

}  // namespace
}  // namespace librats
