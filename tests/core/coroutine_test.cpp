// The node's async operations as C++20 coroutines (asio::use_awaitable).

#include "support.hpp"

#include <librats/crypto/plaintext.hpp>
#include <librats/node.hpp>
#include <librats/transport/tcp.hpp>

#include <gtest/gtest.h>

namespace librats {
namespace {

using namespace std::chrono_literals;
using tcp_node = basic_node<tcp_transport>;

TEST(CoroutineTest, ConnectSendAndStopAsAwaitables) {
    asio::io_context io;
    node_options options;
    options.bind_address = "127.0.0.1";
    tcp_node a(io.get_executor(), options), b(io.get_executor(), options);
    a.start();
    b.start();
    nlohmann::json received;
    a.on("co", [&](const std::string&, const nlohmann::json& data) { received = data; });

    // Named arguments: g++ 12 rejects string-literal temporaries that live across a co_await.
    const std::string host = "127.0.0.1", type = "co";
    const nlohmann::json first = {{"awaited", true}}, last = {{"awaited", 2}};
    bool finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            const auto id = co_await b.async_connect(host, a.listen_port(), asio::use_awaitable);
            EXPECT_EQ(id, a.peer_id());
            co_await b.async_send(id, type, first, asio::use_awaitable);
            const auto delivered = co_await b.async_broadcast(type, last, asio::use_awaitable);
            EXPECT_EQ(delivered, 1u);
            try {
                co_await b.async_connect(host, 1, asio::use_awaitable);
                ADD_FAILURE() << "connected to a closed port";
            } catch (const std::system_error& e) {
                EXPECT_TRUE(e.code());
            }
            finished = true;
        },
        asio::detached);
    EXPECT_TRUE(test::run_until(io, [&] { return finished && received == last; }));
    a.stop();
    b.stop();
}

}  // namespace
}  // namespace librats
