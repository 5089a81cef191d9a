// Hostile and broken peers, played by a raw TCP socket that speaks the plaintext protocol by hand
// (docs/PROTOCOL.md). Each case: what the peer sent before the fault is delivered, the peer is
// dropped with a logged reason, and the node keeps serving another peer.

#include "raw_peer.hpp"
#include "support.hpp"

#include <librats/crypto/plaintext.hpp>
#include <librats/detail/endian.hpp>
#include <librats/node.hpp>
#include <librats/transport/tcp.hpp>
#include <librats/wire/frame.hpp>
#include <librats/wire/handshake.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>

namespace librats {
namespace {

using namespace std::chrono_literals;
using test::io_thread;
using test::wait_until;
using test::raw_peer;
using tcp_node = basic_node<tcp_transport>;

class BadInputTest : public ::testing::Test {
protected:
    BadInputTest() : node_(io_.executor(), options()), good_(io_.executor(), options()), logs_(node_.log()) {
        node_.start();
        good_.start();
        node_.on("ok", [this](const std::string& from, const nlohmann::json& data) {
            std::lock_guard<std::mutex> lock(mutex_);
            received_.emplace_back(from, data);
        });
    }

    static node_options options() {
        node_options o;
        o.bind_address = "127.0.0.1";
        o.max_message_size = 1024 * 1024;
        o.frame_timeout = 1500ms;
        o.handshake_timeout = 1500ms;
        return o;
    }

    std::size_t received_from(const std::string& peer) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::size_t n = 0;
        for (const auto& r : received_) n += r.first == peer;
        return n;
    }

    // The node still accepts, handshakes and delivers for a well-behaved peer.
    void expect_node_serves_others() {
        auto id = good_.async_connect("127.0.0.1", node_.listen_port(), asio::use_future);
        ASSERT_EQ(id.wait_for(5s), std::future_status::ready);
        ASSERT_FALSE(good_.send(id.get(), "ok", {{"from", "good"}}));
        EXPECT_TRUE(wait_until([&] { return received_from(good_.peer_id()) == 1; }));
    }

    void expect_dropped(raw_peer& peer, const std::string& reason) {
        EXPECT_TRUE(peer.closed_by_peer()) << "the node kept the connection";
        EXPECT_TRUE(wait_until([&] { return logs_.contains("dropping peer") && logs_.contains(reason); }))
            << "expected a logged drop naming \"" << reason << "\"; log:\n"
            << logs_.all();
        EXPECT_TRUE(wait_until([&] { return node_.find_peer("raw-peer-1") == std::nullopt; }));
        EXPECT_GE(node_.statistics().peers_dropped, 1u);
        expect_node_serves_others();
    }

    io_thread io_;
    tcp_node node_;
    tcp_node good_;
    test::log_capture logs_;
    std::mutex mutex_;
    std::vector<std::pair<std::string, nlohmann::json>> received_;
};

TEST_F(BadInputTest, GarbageInsteadOfAPreamble) {
    raw_peer peer(node_.listen_port());
    peer.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_dropped(peer, "bad preamble");
}

TEST_F(BadInputTest, WrongProtocolVersion) {
    raw_peer peer(node_.listen_port());
    auto preamble = wire::make_preamble(0);
    preamble[4] = 99;
    peer.send(std::string(preamble.begin(), preamble.end()));
    expect_dropped(peer, "protocol version mismatch");
}

TEST_F(BadInputTest, LengthOverTheLimit) {
    raw_peer peer(node_.listen_port());
    peer.handshake();
    peer.send_record(raw_peer::json_frame("ok", R"({"n":1})"));
    std::string header;
    wire::append_frame_header(header, wire::frame_type::binary, 1024 * 1024 + 1);
    peer.send_record(header);
    expect_dropped(peer, "message too large");
    EXPECT_EQ(received_from("raw-peer-1"), 1u);
}

TEST_F(BadInputTest, TruncatedFrameThenClose) {
    std::promise<std::error_code> dropped;
    node_.set_peer_disconnected_handler([&](const peer_info& info, std::error_code ec) {
        if (info.peer_id == "raw-peer-1") dropped.set_value(ec);
    });
    {
        raw_peer peer(node_.listen_port());
        peer.handshake();
        peer.send_record(raw_peer::json_frame("ok", R"({"n":1})"));
        // A frame of 100 bytes whose first record carries 10, then a record cut short.
        std::string partial_frame;
        wire::append_frame_header(partial_frame, wire::frame_type::binary, 100);
        peer.send_record(partial_frame + std::string(10, 'x'));
        peer.send(std::string("\x00\x40", 2) + "short");
    }
    auto ec = dropped.get_future();
    ASSERT_EQ(ec.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(ec.get(), make_error_code(errc::peer_closed));
    EXPECT_EQ(received_from("raw-peer-1"), 1u);
    expect_node_serves_others();
}

TEST_F(BadInputTest, UnknownFrameType) {
    raw_peer peer(node_.listen_port());
    peer.handshake();
    peer.send_record(raw_peer::json_frame("ok", R"({"n":1})") + std::string("\x7e\0\0\0\0", 5));
    expect_dropped(peer, "unknown frame type");
    EXPECT_EQ(received_from("raw-peer-1"), 1u);
}

TEST_F(BadInputTest, InvalidJson) {
    raw_peer peer(node_.listen_port());
    peer.handshake();
    peer.send_record(raw_peer::json_frame("ok", R"({"n":1})"));
    peer.send_record(raw_peer::json_frame("ok", R"({"n":)"));
    expect_dropped(peer, "invalid JSON");
    EXPECT_EQ(received_from("raw-peer-1"), 1u);
}

TEST_F(BadInputTest, EmptyRecord) {
    raw_peer peer(node_.listen_port());
    peer.handshake();
    peer.send(std::string("\0\0", 2));
    expect_dropped(peer, "malformed frame");
}

TEST_F(BadInputTest, OneBytePerSecondDuringTheHandshake) {
    raw_peer peer(node_.listen_port());
    const auto preamble = wire::make_preamble(0);
    for (int i = 0; i < 3; ++i) {
        peer.send(std::string(1, static_cast<char>(preamble[i])));
        std::this_thread::sleep_for(1s);
    }
    expect_dropped(peer, "handshake timed out");
}

TEST_F(BadInputTest, OneBytePerSecondInsideARecord) {
    raw_peer peer(node_.listen_port());
    peer.handshake();
    peer.send_record(raw_peer::json_frame("ok", R"({"n":1})"));
    const auto record = raw_peer::with_length(raw_peer::json_frame("ok", R"({"n":2})"));
    for (int i = 0; i < 3; ++i) {
        peer.send(record.substr(i, 1));
        std::this_thread::sleep_for(1s);
    }
    expect_dropped(peer, "partial frame stalled");
    EXPECT_EQ(received_from("raw-peer-1"), 1u);
}

TEST_F(BadInputTest, HelloWithAnInvalidPeerId) {
    raw_peer peer(node_.listen_port());
    const auto preamble = wire::make_preamble(0);
    peer.send(std::string(preamble.begin(), preamble.end()) +
              raw_peer::with_length(R"({"protocol":"librats","version":1,"peer_id":"","listen_port":1,"nonce":1})"));
    expect_dropped(peer, "malformed hello");
}

}  // namespace
}  // namespace librats
