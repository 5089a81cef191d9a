// basic_node over real TCP on loopback (127.0.0.1 and ::1) and over the memory transport.

#include "raw_peer.hpp"
#include "support.hpp"

#include <librats/crypto/plaintext.hpp>
#include <librats/discovery/static_peers.hpp>
#include <librats/node.hpp>
#include <librats/transport/tcp.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace librats {
namespace {

using namespace std::chrono_literals;
using test::io_thread;
using test::wait_until;
using tcp_node = basic_node<tcp_transport>;

node_options loopback_options(const std::string& bind = "127.0.0.1") {
    node_options options;
    options.bind_address = bind;
    return options;
}

std::string connect(tcp_node& from, const tcp_node& to, const std::string& host = "127.0.0.1") {
    auto peer = from.async_connect(host, to.listen_port(), asio::use_future);
    if (peer.wait_for(5s) != std::future_status::ready) throw std::runtime_error("connect timed out");
    return peer.get();
}

std::string random_bytes(std::size_t size, unsigned seed) {
    std::mt19937 rng(seed);
    std::string out(size, '\0');
    for (auto& c : out) c = static_cast<char>(rng());
    return out;
}

// ---- round trips on both address families

class LoopbackTest : public ::testing::TestWithParam<std::string> {};

TEST_P(LoopbackTest, JsonBinaryAndTextRoundTrip) {
    const auto host = GetParam();
    io_thread io;
    tcp_node a(io.executor(), loopback_options(host)), b(io.executor(), loopback_options(host));
    std::error_code ec;
    a.start(ec);
    if (ec && host == "::1") GTEST_SKIP() << "no IPv6 loopback on this machine: " << ec.message();
    ASSERT_FALSE(ec) << ec.message();
    b.start();

    std::promise<std::pair<std::string, nlohmann::json>> got_json;
    a.on("chat", [&](const std::string& from, const nlohmann::json& data) { got_json.set_value({from, data}); });
    std::mutex mutex;
    std::vector<std::pair<data_kind, std::string>> got_data;
    a.set_data_handler([&](const peer_info&, data_kind kind, std::string_view bytes) {
        std::lock_guard<std::mutex> lock(mutex);
        got_data.emplace_back(kind, std::string(bytes));
    });

    const auto a_id = connect(b, a, host);
    EXPECT_EQ(a_id, a.peer_id());
    ASSERT_TRUE(wait_until([&] { return a.peer_count() == 1; }));
    const auto info = a.find_peer(b.peer_id());
    ASSERT_TRUE(info);
    EXPECT_FALSE(info->outbound);
    EXPECT_EQ(info->listen_port, b.listen_port());
    EXPECT_EQ(info->address.rfind(host == "::1" ? "[::1]:" : "127.0.0.1:", 0), 0u) << info->address;

    const nlohmann::json message = {{"message", "hello"}, {"n", 42}, {"list", {1, 2, 3}}};
    auto sent = b.async_send(a_id, "chat", message, asio::use_future);
    ASSERT_EQ(sent.wait_for(5s), std::future_status::ready);
    sent.get();
    auto received = got_json.get_future();
    ASSERT_EQ(received.wait_for(5s), std::future_status::ready);
    const auto [from, data] = received.get();
    EXPECT_EQ(from, b.peer_id());
    EXPECT_EQ(data, message);

    const std::string binary("\0\x01\xff zero bytes stay\0", 19);
    EXPECT_FALSE(b.send_data(a_id, data_kind::binary, binary));
    EXPECT_FALSE(b.send_data(a_id, data_kind::text, "plain text"));
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard<std::mutex> lock(mutex);
        return got_data.size() == 2;
    }));
    EXPECT_EQ(got_data[0].first, data_kind::binary);
    EXPECT_EQ(got_data[0].second, binary);
    EXPECT_EQ(got_data[1].first, data_kind::text);
    EXPECT_EQ(got_data[1].second, "plain text");
}

INSTANTIATE_TEST_SUITE_P(Families, LoopbackTest, ::testing::Values("127.0.0.1", "::1"),
                         [](const auto& info) { return info.param == "::1" ? "IPv6" : "IPv4"; });

TEST(NodeTest, DualStackListenerAcceptsBothFamilies) {
    io_thread io;
    tcp_node server(io.executor(), loopback_options("::"));
    server.start();
    tcp_node v4(io.executor(), loopback_options()), v6(io.executor(), loopback_options("::1"));
    v4.start();
    connect(v4, server, "127.0.0.1");
    std::error_code ec;
    v6.start(ec);
    if (!ec) connect(v6, server, "::1");
    EXPECT_TRUE(wait_until([&] { return server.peer_count() == (ec ? 1u : 2u); }));
}

TEST(NodeTest, ConnectsToHostNames) {
    io_thread io;
    tcp_node a(io.executor(), loopback_options()), b(io.executor(), loopback_options());
    a.start();
    b.start();
    EXPECT_EQ(connect(b, a, "localhost"), a.peer_id());
}

TEST(NodeTest, BroadcastReachesFivePeers) {
    io_thread io;
    tcp_node hub(io.executor(), loopback_options());
    hub.start();
    std::vector<std::unique_ptr<tcp_node>> leaves;
    std::atomic<int> received{0};
    for (int i = 0; i < 5; ++i) {
        leaves.push_back(std::make_unique<tcp_node>(io.executor(), loopback_options()));
        leaves.back()->start();
        leaves.back()->on("news", [&](const std::string& from, const nlohmann::json& data) {
            if (from == hub.peer_id() && data.at("n") == 7) ++received;
        });
        connect(*leaves.back(), hub);
    }
    ASSERT_TRUE(wait_until([&] { return hub.peer_count() == 5; }));
    auto delivered = hub.async_broadcast("news", {{"n", 7}}, asio::use_future);
    ASSERT_EQ(delivered.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(delivered.get(), 5u);
    EXPECT_TRUE(wait_until([&] { return received == 5; }));
    EXPECT_EQ(hub.broadcast("news", {{"n", 7}}), 5u);
    EXPECT_TRUE(wait_until([&] { return received == 10; }));
}

TEST(NodeTest, BroadcastWithoutPeersFails) {
    io_thread io;
    tcp_node a(io.executor(), loopback_options());
    a.start();
    auto result = a.async_broadcast("x", {}, test::error_and_value_future);
    EXPECT_EQ(result.get(), std::make_pair(make_error_code(errc::no_peers), std::size_t{0}));
}

TEST(NodeTest, OnceFiresOnceAndOffRemovesEveryHandler) {
    io_thread io;
    tcp_node a(io.executor(), loopback_options()), b(io.executor(), loopback_options());
    a.start();
    b.start();
    std::atomic<int> once_calls{0}, on_calls{0}, second_on_calls{0}, marker{0};
    a.once("t", [&](const std::string&, const nlohmann::json&) { ++once_calls; });
    a.on("t", [&](const std::string&, const nlohmann::json&) { ++on_calls; });
    a.on("t", [&](const std::string&, const nlohmann::json&) { ++second_on_calls; });
    a.on("marker", [&](const std::string&, const nlohmann::json&) { ++marker; });
    const auto id = connect(b, a);
    for (int i = 0; i < 3; ++i) b.send(id, "t", i);
    b.send(id, "marker", nullptr);
    ASSERT_TRUE(wait_until([&] { return marker == 1; }));
    EXPECT_EQ(once_calls, 1);
    EXPECT_EQ(on_calls, 3);
    EXPECT_EQ(second_on_calls, 3);

    a.off("t");
    b.send(id, "t", 4);
    b.send(id, "marker", nullptr);
    ASSERT_TRUE(wait_until([&] { return marker == 2; }));
    EXPECT_EQ(on_calls, 3);
    EXPECT_EQ(second_on_calls, 3);
}

TEST(NodeTest, SixteenMiBMessageArrivesIntact) {
    io_thread io;
    tcp_node a(io.executor(), loopback_options()), b(io.executor(), loopback_options());
    a.start();
    b.start();
    const auto payload = random_bytes(16 * 1024 * 1024, 1);
    std::promise<std::string> got;
    a.set_data_handler([&](const peer_info&, data_kind, std::string_view bytes) { got.set_value(std::string(bytes)); });
    const auto id = connect(b, a);
    auto sent = b.async_send_data(id, data_kind::binary, payload, asio::use_future);
    ASSERT_EQ(sent.wait_for(10s), std::future_status::ready);
    sent.get();
    auto received = got.get_future();
    ASSERT_EQ(received.wait_for(10s), std::future_status::ready);
    const auto bytes = received.get();
    ASSERT_EQ(bytes.size(), payload.size());
    EXPECT_TRUE(bytes == payload);

    const std::string too_big(16 * 1024 * 1024 + 1, 'x');
    EXPECT_EQ(b.send_data(id, data_kind::binary, too_big), make_error_code(errc::message_too_large));
}

TEST(NodeTest, ConcurrentSendsFromFourThreadsKeepPerThreadOrder) {
    io_thread io;
    tcp_node a(io.executor(), loopback_options()), b(io.executor(), loopback_options());
    a.start();
    b.start();
    constexpr int threads = 4, per_thread = 2000;
    std::mutex mutex;
    std::map<int, std::vector<int>> seen;
    std::atomic<int> total{0};
    a.on("seq", [&](const std::string&, const nlohmann::json& data) {
        std::lock_guard<std::mutex> lock(mutex);
        seen[data.at("t").get<int>()].push_back(data.at("i").get<int>());
        ++total;
    });
    const auto id = connect(b, a);
    std::vector<std::thread> senders;
    for (int t = 0; t < threads; ++t)
        senders.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) ASSERT_FALSE(b.send(id, "seq", {{"t", t}, {"i", i}}));
        });
    for (auto& s : senders) s.join();
    ASSERT_TRUE(wait_until([&] { return total == threads * per_thread; }, 10s)) << total;
    for (int t = 0; t < threads; ++t) {
        ASSERT_EQ(seen[t].size(), static_cast<std::size_t>(per_thread));
        for (int i = 0; i < per_thread; ++i) ASSERT_EQ(seen[t][i], i);
    }
}

TEST(NodeTest, SmallMessagesCoalesceIntoFewWrites) {
    io_thread io;
    tcp_node a(io.executor(), loopback_options()), b(io.executor(), loopback_options());
    a.start();
    b.start();
    std::atomic<int> received{0};
    a.set_data_handler([&](const peer_info&, data_kind, std::string_view) { ++received; });
    const auto id = connect(b, a);
    const auto writes_before = b.statistics().writes;
    constexpr int messages = 10000;
    // The sends run on the node's only thread, so none can be written before the loop ends:
    // however fast or slow the machine, what they queue must leave in a handful of writes.
    std::atomic<int> refused{0};
    asio::post(io.executor(), [&] {
        for (int i = 0; i < messages; ++i)
            if (b.send_data(id, data_kind::binary, std::string(64, 'm'))) ++refused;
    });
    ASSERT_TRUE(wait_until([&] { return received == messages; })) << received << " received, " << refused << " refused";
    const auto writes = b.statistics().writes - writes_before;
    EXPECT_LE(writes, 8u) << writes << " writes for " << messages << " messages";
}

TEST(NodeTest, SimultaneousDialLeavesOneConnection) {
    for (int round = 0; round < 10; ++round) {
        io_thread io;
        tcp_node a(io.executor(), loopback_options()), b(io.executor(), loopback_options());
        a.start();
        b.start();
        std::atomic<int> a_connects{0}, b_connects{0};
        a.set_peer_connected_handler([&](const peer_info&) { ++a_connects; });
        b.set_peer_connected_handler([&](const peer_info&) { ++b_connects; });
        auto ab = a.async_connect("127.0.0.1", b.listen_port(), asio::use_future);
        auto ba = b.async_connect("127.0.0.1", a.listen_port(), asio::use_future);
        ASSERT_EQ(ab.wait_for(5s), std::future_status::ready);
        ASSERT_EQ(ba.wait_for(5s), std::future_status::ready);
        EXPECT_EQ(ab.get(), b.peer_id());
        EXPECT_EQ(ba.get(), a.peer_id());
        // Let the losing connection's goodbye settle, then both sides hold the same one.
        std::this_thread::sleep_for(50ms);
        ASSERT_TRUE(wait_until([&] { return a.peer_count() == 1 && b.peer_count() == 1; }));
        const auto on_a = a.peers().at(0), on_b = b.peers().at(0);
        EXPECT_NE(on_a.outbound, on_b.outbound) << "round " << round;
        // The surviving connection carries messages both ways.
        std::atomic<int> got{0};
        a.on("ping", [&](const std::string&, const nlohmann::json&) { ++got; });
        b.on("ping", [&](const std::string&, const nlohmann::json&) { ++got; });
        EXPECT_FALSE(a.send(b.peer_id(), "ping", 1));
        EXPECT_FALSE(b.send(a.peer_id(), "ping", 1));
        EXPECT_TRUE(wait_until([&] { return got == 2; }));
        EXPECT_LE(a_connects, 2);
        EXPECT_LE(b_connects, 2);
    }
}

TEST(NodeTest, MaxPeersRefusesTheNextPeerWithAClearError) {
    io_thread io;
    auto options = loopback_options();
    options.max_peers = 2;
    tcp_node hub(io.executor(), options);
    hub.start();
    std::vector<std::unique_ptr<tcp_node>> dialers;
    for (int i = 0; i < 3; ++i) {
        dialers.push_back(std::make_unique<tcp_node>(io.executor(), loopback_options()));
        dialers.back()->start();
    }
    connect(*dialers[0], hub);
    connect(*dialers[1], hub);
    ASSERT_TRUE(wait_until([&] { return hub.peer_count() == 2; }));
    auto third = dialers[2]->async_connect("127.0.0.1", hub.listen_port(), test::error_and_value_future);
    ASSERT_EQ(third.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(third.get().first, make_error_code(errc::max_peers_reached));
    EXPECT_EQ(hub.peer_count(), 2u);
    EXPECT_EQ(dialers[2]->peer_count(), 0u);

    // A full node does not dial out either.
    hub.set_max_peers(2);
    auto out = hub.async_connect("127.0.0.1", dialers[2]->listen_port(), test::error_and_value_future);
    EXPECT_EQ(out.get().first, make_error_code(errc::max_peers_reached));
}

TEST(NodeTest, IgnoredHostsAreNeverDialed) {
    io_thread io;
    tcp_node a(io.executor(), loopback_options());
    tcp_node b(io.executor(), loopback_options());
    a.start();
    b.start();
    b.ignore_host("127.0.0.1");
    EXPECT_TRUE(b.is_ignored("127.0.0.1"));
    EXPECT_EQ(b.ignored_hosts(), std::vector<std::string>{"127.0.0.1"});
    auto refused = b.async_connect("127.0.0.1", a.listen_port(), test::error_and_value_future);
    ASSERT_EQ(refused.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(refused.get().first, make_error_code(errc::ignored_address));
    EXPECT_EQ(a.statistics().connections_accepted, 0u);
    // Only that host: the same node by another name still connects.
    auto other = b.async_connect("localhost", a.listen_port(), test::error_and_value_future);
    ASSERT_EQ(other.wait_for(5s), std::future_status::ready);
    EXPECT_FALSE(other.get().first);
}

TEST(NodeTest, SelfConnectionIsDetectedAndDropped) {
    io_thread io;
    tcp_node a(io.executor(), loopback_options());
    test::log_capture logs(a.log());
    a.start();
    auto self = a.async_connect("127.0.0.1", a.listen_port(), test::error_and_value_future);
    ASSERT_EQ(self.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(self.get().first, make_error_code(errc::self_connection));
    EXPECT_TRUE(wait_until([&] { return logs.contains("connected to self"); })) << logs.all();
    EXPECT_EQ(a.peer_count(), 0u);
}

TEST(NodeTest, ConnectFailuresCompleteWithErrors) {
    io_thread io;
    auto options = loopback_options();
    options.connect_timeout = 300ms;
    tcp_node a(io.executor(), options);
    auto not_running = a.async_connect("127.0.0.1", 1, test::error_and_value_future);
    EXPECT_EQ(not_running.get().first, make_error_code(errc::not_running));
    a.start();
    tcp_node closed(io.executor(), loopback_options());
    closed.start();
    const auto port = closed.listen_port();
    closed.async_stop(asio::use_future).get();
    auto refused = a.async_connect("127.0.0.1", port, test::error_and_value_future);
    ASSERT_EQ(refused.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(refused.get().first, asio::error::connection_refused);
}

TEST(NodeTest, KeepalivePingsHoldAnIdleConnection) {
    io_thread io;
    auto options = loopback_options();
    options.keepalive_interval = 100ms;
    options.idle_timeout = 400ms;
    tcp_node a(io.executor(), options), b(io.executor(), options);
    a.start();
    b.start();
    connect(b, a);
    std::this_thread::sleep_for(1200ms);
    EXPECT_EQ(a.peer_count(), 1u);
    EXPECT_EQ(b.peer_count(), 1u);
}

TEST(NodeTest, GracefulDisconnectFlushesAndTellsBothSides) {
    io_thread io;
    auto options = loopback_options();
    options.send_queue_limit = 16 << 20;  // all eight messages queue before the disconnect
    tcp_node a(io.executor(), options), b(io.executor(), options);
    a.start();
    b.start();
    std::promise<std::error_code> a_saw, b_saw;
    a.set_peer_disconnected_handler([&](const peer_info&, std::error_code ec) { a_saw.set_value(ec); });
    b.set_peer_disconnected_handler([&](const peer_info&, std::error_code ec) { b_saw.set_value(ec); });
    std::atomic<int> got{0};
    a.on("last", [&](const std::string&, const nlohmann::json&) { ++got; });
    const auto id = connect(b, a);
    ASSERT_TRUE(wait_until([&] { return a.peer_count() == 1; }));
    const std::string big(1 << 20, 'x');
    for (int i = 0; i < 8; ++i) b.send(id, "last", big);
    b.disconnect(id);
    auto b_ec = b_saw.get_future();
    auto a_ec = a_saw.get_future();
    ASSERT_EQ(b_ec.wait_for(5s), std::future_status::ready);
    ASSERT_EQ(a_ec.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(b_ec.get(), make_error_code(errc::closed_by_request));
    EXPECT_EQ(a_ec.get(), make_error_code(errc::peer_closed));
    EXPECT_EQ(got, 8);
    EXPECT_EQ(a.peer_count(), 0u);
    EXPECT_EQ(b.peer_count(), 0u);
}

// Two connections of one peer: the node keeps one and says goodbye on the other. What the peer
// sent on the dropped one before it read that goodbye is still delivered, not lost.
TEST(NodeTest, MessagesOnTheDroppedDuplicateConnectionAreDelivered) {
    io_thread io;
    tcp_node a(io.executor(), loopback_options());
    a.start();
    std::atomic<int> greetings{0};
    a.on("greet", [&](const std::string& from, const nlohmann::json&) {
        if (from == "raw-peer-1") ++greetings;
    });
    test::raw_peer first(a.listen_port());
    first.handshake("raw-peer-1", 7);
    ASSERT_TRUE(wait_until([&] { return a.peer_count() == 1; }));
    test::raw_peer second(a.listen_port());
    second.handshake("raw-peer-1", 3);  // the smaller nonce wins: `first` gets the goodbye
    ASSERT_TRUE(first.closed_by_peer());
    first.send_record(test::raw_peer::json_frame("greet", R"({"on":"the dropped connection"})"));
    second.send_record(test::raw_peer::json_frame("greet", R"({"on":"the kept connection"})"));
    EXPECT_TRUE(wait_until([&] { return greetings == 2; }));
    EXPECT_EQ(a.peer_count(), 1u);
}

TEST(NodeTest, SlowReaderFillsItsQueueWithoutBeingDropped) {
    io_thread io;
    auto options = loopback_options();
    options.send_queue_limit = 1 << 20;
    tcp_node a(io.executor(), options);
    a.start();
    std::atomic<int> writable{0};
    a.set_writable_handler([&](const peer_info& info) {
        if (info.peer_id == "raw-peer-1") ++writable;
    });
    test::raw_peer reader(a.listen_port());
    reader.handshake();
    ASSERT_TRUE(wait_until([&] { return a.peer_count() == 1; }));

    // The reader reads nothing: the kernel buffers fill, then the node's queue does. A refusal
    // counts once the queue stays full (no writable event while the node flushes).
    const std::string chunk(256 * 1024, 'q');
    bool stuck = false;
    int accepted = 0;
    for (int i = 0; i < 2000 && !stuck; ++i) {
        const auto ec = a.send_data("raw-peer-1", data_kind::binary, chunk);
        if (!ec) {
            ++accepted;
            continue;
        }
        ASSERT_EQ(ec, make_error_code(errc::send_queue_full));
        std::this_thread::sleep_for(100ms);
        stuck = writable.exchange(0) == 0;
    }
    ASSERT_TRUE(stuck) << "after " << accepted << " sends";
    auto refused_with_callback = a.async_send_data("raw-peer-1", data_kind::binary, chunk, test::error_future);
    EXPECT_EQ(refused_with_callback.get(), make_error_code(errc::send_queue_full));
    EXPECT_TRUE(a.find_peer("raw-peer-1")) << "a slow reader must not be dropped";
    EXPECT_EQ(writable, 0);

    // Once it reads, the queue drains and the node says the peer is writable again.
    long received = 0;
    ASSERT_TRUE(wait_until([&] {
        const auto n = reader.drain();
        if (n > 0) received += n;
        return writable > 0;
    }, 10s));
    EXPECT_FALSE(a.send_data("raw-peer-1", data_kind::binary, chunk));
    // Everything accepted arrives: frame headers plus payloads, plus one 2-byte header per record.
    const long payload = static_cast<long>(accepted) * static_cast<long>(chunk.size() + wire::frame_header_size);
    ASSERT_TRUE(wait_until([&] {
        const auto n = reader.drain();
        if (n > 0) received += n;
        return received >= payload + static_cast<long>(chunk.size());
    }, 10s));
}

TEST(NodeTest, SendsToUnknownPeersAndStoppedNodesFail) {
    io_thread io;
    tcp_node a(io.executor(), loopback_options());
    EXPECT_EQ(a.send("nobody", "t", 1), make_error_code(errc::not_running));
    a.start();
    EXPECT_EQ(a.send("nobody", "t", 1), make_error_code(errc::peer_not_found));
    auto result = a.async_send("nobody", "t", 1, test::error_future);
    EXPECT_EQ(result.get(), make_error_code(errc::peer_not_found));
    EXPECT_EQ(a.send("nobody", std::string(300, 't'), 1), std::make_error_code(std::errc::invalid_argument));
    EXPECT_GE(a.statistics().sends_rejected, 3u);
}

TEST(NodeTest, StopClosesPeersAndRestartWorks) {
    io_thread io;
    tcp_node a(io.executor(), loopback_options()), b(io.executor(), loopback_options());
    a.start();
    b.start();
    std::promise<std::error_code> b_saw;
    b.set_peer_disconnected_handler([&](const peer_info&, std::error_code ec) { b_saw.set_value(ec); });
    connect(b, a);
    a.async_stop(asio::use_future).get();
    EXPECT_FALSE(a.is_running());
    auto ec = b_saw.get_future();
    ASSERT_EQ(ec.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(ec.get(), make_error_code(errc::peer_closed));
    a.start();
    EXPECT_EQ(connect(b, a), a.peer_id());
}

TEST(NodeTest, ThrowingHandlerIsLoggedAndTheNodeGoesOn) {
    io_thread io;
    tcp_node a(io.executor(), loopback_options()), b(io.executor(), loopback_options());
    test::log_capture logs(a.log());
    a.start();
    b.start();
    std::atomic<int> after{0};
    a.on("boom", [](const std::string&, const nlohmann::json&) { throw std::runtime_error("handler failure"); });
    a.on("after", [&](const std::string&, const nlohmann::json&) { ++after; });
    const auto id = connect(b, a);
    b.send(id, "boom", 1);
    b.send(id, "after", 1);
    ASSERT_TRUE(wait_until([&] { return after == 1; }));
    EXPECT_TRUE(logs.contains("handler failure"));
    EXPECT_EQ(a.peer_count(), 1u);
}

}  // namespace
}  // namespace librats
