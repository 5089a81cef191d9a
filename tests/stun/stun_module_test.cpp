// The seed's STUN calls on a RatsClient against in-process STUN servers on 127.0.0.1: the
// public address is found, kept and put on the ignore list; silent servers fail in bounded time
// and the next configured server answers.

#include "stun/responder.hpp"
#include "support.hpp"

#include <librats/librats.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace librats {
namespace {

using namespace std::chrono_literals;
using stun::test::responder;

struct server_thread {
    asio::io_context io;
    responder answering{io, responder::mode::answer};
    responder silent{io, responder::mode::silent};
    std::thread thread{[this] { io.run(); }};
    ~server_thread() {
        io.stop();
        thread.join();
    }
};

void fast_stun(RatsClient& c) {
    stun_settings s;
    s.client.transaction.rto = 20ms;
    s.client.transaction.request_count = 3;
    s.client.transaction.last_wait_multiplier = 2;
    c.get_node().get<stun_discovery>().set_settings(s);
}

TEST(StunModule, DiscoverAndIgnorePublicIp) {
    server_thread servers;
    RatsClient client(0, 10, "127.0.0.1");
    client.set_log_level(LogLevel::WARN);
    fast_stun(client);
    EXPECT_FALSE(client.discover_and_ignore_public_ip("127.0.0.1", servers.answering.endpoint().port()));  // not running
    ASSERT_TRUE(client.start());
    EXPECT_EQ(client.get_public_ip(), "");

    ASSERT_TRUE(client.discover_and_ignore_public_ip("127.0.0.1", servers.answering.endpoint().port()));
    EXPECT_EQ(client.get_public_ip(), "127.0.0.1");
    EXPECT_EQ(client.get_public_address().rfind("127.0.0.1:", 0), 0u) << client.get_public_address();
    EXPECT_EQ(servers.answering.requests(), 1u);
    // Our own address is never dialed now.
    EXPECT_TRUE(client.get_node().is_ignored("127.0.0.1"));
    RatsClient other(0, 10, "127.0.0.1");
    other.set_log_level(LogLevel::ERROR);
    ASSERT_TRUE(other.start());
    client.connect_to_peer("127.0.0.1", other.get_listen_port());
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(other.get_peer_count(), 0);
}

TEST(StunModule, SilentServerFailsAndTheNextAddedServerAnswers) {
    server_thread servers;
    RatsClient client(0, 10, "127.0.0.1");
    client.set_log_level(LogLevel::ERROR);
    fast_stun(client);
    ASSERT_TRUE(client.start());
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(client.discover_and_ignore_public_ip("127.0.0.1", servers.silent.endpoint().port()));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    EXPECT_EQ(servers.silent.requests(), 3u);
    EXPECT_EQ(client.get_public_ip(), "");

    client.add_stun_server("127.0.0.1", servers.answering.endpoint().port());
    EXPECT_TRUE(client.discover_and_ignore_public_ip("127.0.0.1", servers.silent.endpoint().port()));
    EXPECT_EQ(client.get_public_ip(), "127.0.0.1");
}

}  // namespace
}  // namespace librats
