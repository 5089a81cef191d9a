#include <librats/test/memory_transport.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using librats::memory_acceptor;
using librats::memory_network;
using librats::memory_stream;
using librats::memory_transport;

// Every wait is bounded so that a broken transport fails a test instead of
// hanging it.
template <class Pred>
bool run_until(asio::io_context& io, Pred done, std::chrono::milliseconds limit = 2s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        io.restart();  // run_for stops the context whenever it runs out of work
        io.run_for(5ms);
    }
    return done();
}

// Runs io for the whole period unless it runs out of work, even if an
// earlier run left it stopped.
void run_for(asio::io_context& io, std::chrono::milliseconds period) {
    io.restart();
    io.run_for(period);
}

struct stream_pair {
    memory_stream client;
    memory_stream server;
};

// Connects `client` to a fresh listener on `server` and returns both ends.
std::optional<stream_pair> connect_pair(asio::io_context& io, memory_transport& client, memory_transport& server) {
    std::error_code ec;
    memory_acceptor acceptor = server.listen("", 0, ec);
    EXPECT_FALSE(ec);
    // Shared, so that handlers still pending after a failure never dangle.
    auto c = std::make_shared<std::optional<memory_stream>>();
    auto s = std::make_shared<std::optional<memory_stream>>();
    client.async_connect(server.host(), acceptor.port(), [c](std::error_code e, memory_stream st) {
        EXPECT_FALSE(e);
        c->emplace(std::move(st));
    });
    acceptor.async_accept([s](std::error_code e, memory_stream st) {
        EXPECT_FALSE(e);
        s->emplace(std::move(st));
    });
    if (!run_until(io, [&] { return c->has_value() && s->has_value(); })) return std::nullopt;
    return stream_pair{std::move(**c), std::move(**s)};
}

TEST(MemoryTransport, EchoWithCallbacks) {
    asio::io_context io;
    memory_network net;
    memory_transport server(io.get_executor(), net, "server");
    memory_transport client(io.get_executor(), net);
    EXPECT_EQ(client.host(), "mem1");
    std::error_code ec;
    memory_acceptor acceptor = server.listen("0.0.0.0", 0, ec);
    ASSERT_FALSE(ec);

    std::optional<memory_stream> server_side;
    std::array<char, 64> server_buf{};
    acceptor.async_accept([&](std::error_code e, memory_stream s) {
        ASSERT_FALSE(e);
        server_side.emplace(std::move(s));
        server_side->async_read_some(asio::buffer(server_buf), [&](std::error_code e2, std::size_t n) {
            ASSERT_FALSE(e2);
            asio::async_write(*server_side, asio::buffer(server_buf.data(), n),
                              [](std::error_code e3, std::size_t) { EXPECT_FALSE(e3); });
        });
    });

    const std::string message = "hello";
    std::string reply(message.size(), '\0');
    std::optional<memory_stream> client_side;
    bool echoed = false;
    // Completion handlers may be move-only.
    auto on_connect = [&, tag = std::make_unique<int>(7)](std::error_code e, memory_stream s) {
        ASSERT_FALSE(e);
        EXPECT_EQ(*tag, 7);
        client_side.emplace(std::move(s));
        asio::async_write(*client_side, asio::buffer(message),
                          [](std::error_code e2, std::size_t) { EXPECT_FALSE(e2); });
        asio::async_read(*client_side, asio::buffer(reply),
                         [&](std::error_code e2, std::size_t n) { echoed = !e2 && n == message.size(); });
    };
    client.async_connect("server", acceptor.port(), std::move(on_connect));
    ASSERT_TRUE(run_until(io, [&] { return echoed; }));
    EXPECT_EQ(reply, message);

    EXPECT_EQ(net.connection_count(), 1u);
    EXPECT_EQ(client_side->remote_address(), "server:" + std::to_string(acceptor.port()));
    EXPECT_EQ(memory_transport::remote_address(*client_side), client_side->remote_address());
    EXPECT_EQ(server_side->remote_address(), client_side->local_address());
    EXPECT_EQ(client_side->local_address().rfind("mem1:", 0), 0u);
    client_side->close();
    EXPECT_EQ(net.connection_count(), 1u);  // half-closed still counts
    server_side->close();
    EXPECT_EQ(net.connection_count(), 0u);
    EXPECT_EQ(client_side->local_address(), "");
}

TEST(MemoryTransport, UseFutureConnect) {
    asio::io_context io;
    memory_network net;
    memory_transport server(io.get_executor(), net, "server");
    memory_transport client(io.get_executor(), net);
    std::error_code ec;
    memory_acceptor acceptor = server.listen("", 0, ec);
    ASSERT_FALSE(ec);

    std::future<memory_stream> connected = client.async_connect("server", acceptor.port(), asio::use_future);
    std::optional<memory_stream> accepted;
    acceptor.async_accept([&](std::error_code e, memory_stream s) {
        EXPECT_FALSE(e);
        accepted.emplace(std::move(s));
    });
    ASSERT_TRUE(run_until(io, [&] { return accepted.has_value(); }));
    ASSERT_EQ(connected.wait_for(2s), std::future_status::ready);
    memory_stream stream = connected.get();
    EXPECT_TRUE(stream.is_open());
    EXPECT_EQ(stream.remote_address(), "server:" + std::to_string(acceptor.port()));
    EXPECT_EQ(accepted->remote_address(), stream.local_address());

    // The error is taken as a value: an exception crossing threads inside a
    // std::future trips a known ThreadSanitizer false positive in libstdc++.
    std::future<std::error_code> refused =
        client.async_connect("server", 1, asio::use_future([](std::error_code e, memory_stream) { return e; }));
    ASSERT_EQ(refused.wait_for(2s), std::future_status::ready);
    EXPECT_EQ(refused.get(), asio::error::connection_refused);
}

TEST(MemoryTransport, ConnectionRefused) {
    asio::io_context io;
    memory_network net;
    memory_transport server(io.get_executor(), net, "server");
    memory_transport client(io.get_executor(), net);
    std::error_code ec;
    memory_acceptor acceptor = server.listen("", 0, ec);
    ASSERT_FALSE(ec);

    std::vector<std::error_code> results;
    for (const auto& [host, port] : {std::pair<std::string, std::uint16_t>{"nobody", 10000},
                                     {"server", static_cast<std::uint16_t>(acceptor.port() + 1)}}) {
        client.async_connect(host, port, [&](std::error_code e, memory_stream s) {
            EXPECT_FALSE(s.is_open());
            results.push_back(e);
        });
    }
    EXPECT_TRUE(results.empty());  // never completed inline
    ASSERT_TRUE(run_until(io, [&] { return results.size() == 2; }));
    EXPECT_EQ(results[0], asio::error::connection_refused);
    EXPECT_EQ(results[1], asio::error::connection_refused);
    EXPECT_EQ(net.connection_count(), 0u);
}

TEST(MemoryTransport, EofAfterCloseDrainsDataFirst) {
    asio::io_context io;
    memory_network net;
    memory_transport server(io.get_executor(), net, "server");
    memory_transport client(io.get_executor(), net);
    auto p = connect_pair(io, client, server);
    ASSERT_TRUE(p);

    std::error_code ec;
    EXPECT_EQ(p->client.write_some(asio::buffer("abc", 3), ec), 3u);
    EXPECT_FALSE(ec);
    p->client.close();
    EXPECT_FALSE(p->client.is_open());

    std::array<char, 16> buf{};
    std::optional<std::pair<std::error_code, std::size_t>> result;
    asio::async_read(p->server, asio::buffer(buf), [&](std::error_code e, std::size_t n) { result.emplace(e, n); });
    ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }));
    EXPECT_EQ(result->first, asio::error::eof);
    EXPECT_EQ(result->second, 3u);
    EXPECT_EQ(std::string(buf.data(), 3), "abc");

    EXPECT_EQ(p->server.read_some(asio::buffer(buf), ec), 0u);
    EXPECT_EQ(ec, asio::error::eof);
    EXPECT_EQ(p->server.write_some(asio::buffer("x", 1), ec), 0u);
    EXPECT_EQ(ec, asio::error::broken_pipe);
    EXPECT_EQ(p->client.read_some(asio::buffer(buf), ec), 0u);
    EXPECT_EQ(ec, asio::error::bad_descriptor);
}

TEST(MemoryTransport, ShutdownSendHalfCloses) {
    asio::io_context io;
    memory_network net;
    memory_transport server(io.get_executor(), net, "server");
    memory_transport client(io.get_executor(), net);
    auto p = connect_pair(io, client, server);
    ASSERT_TRUE(p);

    std::error_code ec;
    EXPECT_EQ(p->client.write_some(asio::buffer("bye", 3), ec), 3u);
    std::optional<std::pair<std::error_code, std::size_t>> result;
    std::array<char, 8> buf{};
    asio::async_read(p->server, asio::buffer(buf), [&](std::error_code e, std::size_t n) { result.emplace(e, n); });
    memory_transport::shutdown_send(p->client);
    EXPECT_EQ(p->client.write_some(asio::buffer("x", 1), ec), 0u);
    EXPECT_EQ(ec, asio::error::broken_pipe);
    ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }));
    EXPECT_EQ(result->first, asio::error::eof);
    EXPECT_EQ(result->second, 3u);
    EXPECT_EQ(std::string(buf.data(), 3), "bye");

    // The other direction still works.
    EXPECT_EQ(p->server.write_some(asio::buffer("ok", 2), ec), 2u);
    EXPECT_FALSE(ec);
    EXPECT_EQ(p->client.read_some(asio::buffer(buf), ec), 2u);
    EXPECT_EQ(std::string(buf.data(), 2), "ok");
    EXPECT_EQ(net.connection_count(), 1u);
}

TEST(MemoryTransport, CloseAbortsPendingOpsAndDestructionCloses) {
    asio::io_context io;
    memory_network net;
    memory_transport server(io.get_executor(), net, "server");
    memory_transport client(io.get_executor(), net);
    auto p = connect_pair(io, client, server);
    ASSERT_TRUE(p);

    std::array<char, 8> buf{};
    std::optional<std::error_code> read_result, wait_result, peer_result;
    p->server.async_read_some(asio::buffer(buf), [&](std::error_code e, std::size_t) { read_result = e; });
    p->server.async_wait(asio::socket_base::wait_read, [&](std::error_code e) { wait_result = e; });
    p->client.async_read_some(asio::buffer(buf), [&](std::error_code e, std::size_t) { peer_result = e; });
    p->server.close();
    EXPECT_FALSE(read_result);  // posted, not invoked inline
    ASSERT_TRUE(run_until(io, [&] { return read_result && wait_result && peer_result; }));
    EXPECT_EQ(*read_result, asio::error::operation_aborted);
    EXPECT_EQ(*wait_result, asio::error::operation_aborted);
    EXPECT_EQ(*peer_result, asio::error::eof);

    // Destroying a stream closes it.
    auto q = connect_pair(io, client, server);
    ASSERT_TRUE(q);
    std::optional<memory_stream> doomed(std::move(q->client));
    doomed.reset();
    std::error_code ec;
    EXPECT_EQ(q->server.read_some(asio::buffer(buf), ec), 0u);
    EXPECT_EQ(ec, asio::error::eof);
}

TEST(MemoryTransport, AsyncWaitAndNonBlockingRead) {
    asio::io_context io;
    memory_network net;
    memory_transport server(io.get_executor(), net, "server");
    memory_transport client(io.get_executor(), net);
    auto p = connect_pair(io, client, server);
    ASSERT_TRUE(p);

    std::array<char, 8> buf{};
    std::error_code ec;
    EXPECT_EQ(p->server.read_some(asio::buffer(buf), ec), 0u);
    EXPECT_EQ(ec, asio::error::would_block);

    std::optional<std::error_code> readable, writable;
    std::optional<std::pair<std::error_code, std::size_t>> empty_read;
    p->server.async_wait(asio::socket_base::wait_read, [&](std::error_code e) { readable = e; });
    p->server.async_wait(asio::socket_base::wait_write, [&](std::error_code e) { writable = e; });
    p->server.async_read_some(asio::mutable_buffer(),
                              [&](std::error_code e, std::size_t n) { empty_read.emplace(e, n); });
    EXPECT_FALSE(writable);
    EXPECT_FALSE(empty_read);
    ASSERT_TRUE(run_until(io, [&] { return writable && empty_read; }));
    EXPECT_FALSE(*writable);
    EXPECT_FALSE(empty_read->first);
    EXPECT_EQ(empty_read->second, 0u);
    EXPECT_FALSE(readable);

    EXPECT_EQ(p->client.write_some(asio::buffer("xyz", 3), ec), 3u);
    EXPECT_FALSE(readable);  // posted even when a peer's write satisfies it
    ASSERT_TRUE(run_until(io, [&] { return readable.has_value(); }));
    EXPECT_FALSE(*readable);

    EXPECT_EQ(p->server.read_some(asio::buffer(buf), ec), 3u);
    EXPECT_FALSE(ec);
    EXPECT_EQ(std::string(buf.data(), 3), "xyz");
    EXPECT_EQ(p->server.read_some(asio::buffer(buf), ec), 0u);
    EXPECT_EQ(ec, asio::error::would_block);
}

constexpr std::size_t one_mib = std::size_t{1} << 20;

TEST(MemoryTransport, TwoContextsOnTwoThreadsExchangeOneMiBEachWay) {
    asio::io_context io_a;
    asio::io_context io_b;
    memory_network net;
    memory_transport a(io_a.get_executor(), net, "a");
    memory_transport b(io_b.get_executor(), net, "b");
    std::error_code ec;
    memory_acceptor acceptor = b.listen("", 0, ec);
    ASSERT_FALSE(ec);

    std::vector<char> a_out(one_mib), b_out(one_mib), a_in(one_mib), b_in(one_mib);
    for (std::size_t i = 0; i < one_mib; ++i) {
        a_out[i] = static_cast<char>(i * 7 + 1);
        b_out[i] = static_cast<char>(i * 13 + 5);
    }
    struct side {
        std::optional<memory_stream> stream;
        bool wrote = false;
        bool read = false;
    };
    side sa, sb;
    // Writes and reads run concurrently, each on its own context's thread.
    auto start = [](side& s, memory_stream stream, std::vector<char>& out, std::vector<char>& in) {
        s.stream.emplace(std::move(stream));
        asio::async_write(*s.stream, asio::buffer(out),
                          [&s](std::error_code e, std::size_t n) { s.wrote = !e && n == one_mib; });
        asio::async_read(*s.stream, asio::buffer(in),
                         [&s](std::error_code e, std::size_t n) { s.read = !e && n == one_mib; });
    };
    acceptor.async_accept([&](std::error_code e, memory_stream s) {
        ASSERT_FALSE(e);
        start(sb, std::move(s), b_out, b_in);
    });
    a.async_connect("b", acceptor.port(), [&](std::error_code e, memory_stream s) {
        ASSERT_FALSE(e);
        start(sa, std::move(s), a_out, a_in);
    });
    // run_for returns as soon as a context runs out of work.
    std::thread ta([&] { io_a.run_for(20s); });
    std::thread tb([&] { io_b.run_for(20s); });
    ta.join();
    tb.join();

    EXPECT_TRUE(sa.wrote);
    EXPECT_TRUE(sa.read);
    EXPECT_TRUE(sb.wrote);
    EXPECT_TRUE(sb.read);
    EXPECT_TRUE(a_in == b_out);
    EXPECT_TRUE(b_in == a_out);
}

TEST(MemoryTransport, DelayAddsLatencyAndPreservesOrder) {
    asio::io_context io;
    memory_network net;
    memory_transport server(io.get_executor(), net, "server");
    memory_transport client(io.get_executor(), net);
    auto p = connect_pair(io, client, server);
    ASSERT_TRUE(p);

    net.set_delay(100ms);
    const auto start = std::chrono::steady_clock::now();
    std::error_code ec;
    p->client.write_some(asio::buffer("a", 1), ec);
    p->client.write_some(asio::buffer("b", 1), ec);
    net.set_delay(0ms);  // later bytes must not overtake the delayed ones
    p->client.write_some(asio::buffer("c", 1), ec);
    ASSERT_FALSE(ec);

    std::array<char, 8> buf{};
    EXPECT_EQ(p->server.read_some(asio::buffer(buf), ec), 0u);
    EXPECT_EQ(ec, asio::error::would_block);

    std::string got(3, '\0');
    std::optional<std::chrono::steady_clock::duration> elapsed;
    asio::async_read(p->server, asio::buffer(got), [&](std::error_code e, std::size_t n) {
        EXPECT_FALSE(e);
        EXPECT_EQ(n, 3u);
        elapsed = std::chrono::steady_clock::now() - start;
    });
    ASSERT_TRUE(run_until(io, [&] { return elapsed.has_value(); }));
    EXPECT_GE(*elapsed, 100ms);
    EXPECT_EQ(got, "abc");
}

// Documented behaviour: a dropped connect holds its handler (and work) until
// the transport that started it is destroyed, then completes with
// operation_aborted.
TEST(MemoryTransport, DroppedConnectStallsUntilTransportDestroyed) {
    asio::io_context io;
    memory_network net;
    memory_transport server(io.get_executor(), net, "server");
    std::error_code ec;
    memory_acceptor acceptor = server.listen("", 0, ec);
    ASSERT_FALSE(ec);
    net.drop_connects_to("server", true);

    std::optional<memory_transport> client(std::in_place, io.get_executor(), net);
    std::optional<std::error_code> result;
    bool open = true;
    client->async_connect("server", acceptor.port(), [&](std::error_code e, memory_stream s) {
        result = e;
        open = s.is_open();
    });
    run_for(io, 200ms);
    EXPECT_FALSE(result);
    EXPECT_EQ(net.connection_count(), 0u);

    net.drop_connects_to("server", false);  // affects later connects only
    run_for(io, 20ms);
    EXPECT_FALSE(result);

    client.reset();
    ASSERT_TRUE(run_until(
        io, [&] { return result.has_value(); }, 1s));
    EXPECT_EQ(*result, asio::error::operation_aborted);
    EXPECT_FALSE(open);

    memory_transport again(io.get_executor(), net);
    auto p = connect_pair(io, again, server);
    EXPECT_TRUE(p);
}

TEST(MemoryTransport, DroppedConnectAbortsWhenNetworkDestroyed) {
    asio::io_context io;
    std::optional<memory_network> net(std::in_place);
    memory_transport client(io.get_executor(), *net);
    net->drop_connects_to("server", true);
    std::optional<std::error_code> result;
    client.async_connect("server", 10000, [&](std::error_code e, memory_stream) { result = e; });
    run_for(io, 50ms);
    EXPECT_FALSE(result);
    net.reset();
    ASSERT_TRUE(run_until(
        io, [&] { return result.has_value(); }, 1s));
    EXPECT_EQ(*result, asio::error::operation_aborted);
}

TEST(MemoryTransport, CloseAfterResetsAfterExactlyNBytes) {
    asio::io_context io;
    memory_network net;
    memory_transport server(io.get_executor(), net, "server");
    memory_transport client(io.get_executor(), net);
    net.close_after(1000);
    auto p = connect_pair(io, client, server);
    ASSERT_TRUE(p);

    std::vector<char> out(10000, 'x'), in(10000);
    std::optional<std::pair<std::error_code, std::size_t>> wrote, read;
    asio::async_write(p->client, asio::buffer(out), [&](std::error_code e, std::size_t n) { wrote.emplace(e, n); });
    asio::async_read(p->server, asio::buffer(in), [&](std::error_code e, std::size_t n) { read.emplace(e, n); });
    ASSERT_TRUE(run_until(io, [&] { return wrote && read; }));
    EXPECT_EQ(wrote->first, asio::error::connection_reset);
    EXPECT_EQ(wrote->second, 1000u);
    EXPECT_EQ(read->first, asio::error::connection_reset);
    EXPECT_EQ(read->second, 1000u);
    std::error_code ec;
    EXPECT_EQ(p->server.write_some(asio::buffer("x", 1), ec), 0u);
    EXPECT_EQ(ec, asio::error::connection_reset);

    // One-shot: the next connection is unaffected.
    auto q = connect_pair(io, client, server);
    ASSERT_TRUE(q);
    EXPECT_EQ(q->client.write_some(asio::buffer(out), ec), out.size());
    EXPECT_FALSE(ec);

    // Both directions count towards the limit.
    net.close_after(1000);
    auto r = connect_pair(io, client, server);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->client.write_some(asio::buffer(out.data(), 600), ec), 600u);
    EXPECT_EQ(r->server.write_some(asio::buffer(out.data(), 600), ec), 400u);
    EXPECT_FALSE(ec);
    EXPECT_EQ(r->server.read_some(asio::buffer(in), ec), 600u);
    EXPECT_EQ(r->server.read_some(asio::buffer(in), ec), 0u);
    EXPECT_EQ(ec, asio::error::connection_reset);
    EXPECT_EQ(r->client.read_some(asio::buffer(in), ec), 400u);
    EXPECT_EQ(r->client.read_some(asio::buffer(in), ec), 0u);
    EXPECT_EQ(ec, asio::error::connection_reset);
}

TEST(MemoryTransport, PartitionHoldsBytesAndConnectsUntilHealed) {
    asio::io_context io;
    memory_network net;
    memory_transport server(io.get_executor(), net, "server");
    memory_transport client(io.get_executor(), net, "client");
    auto p = connect_pair(io, client, server);
    ASSERT_TRUE(p);
    std::error_code ec;
    memory_acceptor acceptor = server.listen("", 0, ec);
    ASSERT_FALSE(ec);

    net.partition("client", "server", true);
    EXPECT_EQ(p->client.write_some(asio::buffer("held", 4), ec), 4u);
    EXPECT_FALSE(ec);
    std::string got(4, '\0');
    std::optional<std::error_code> read_result, connect_result;
    asio::async_read(p->server, asio::buffer(got), [&](std::error_code e, std::size_t) { read_result = e; });
    std::optional<memory_stream> late;
    client.async_connect("server", acceptor.port(), [&](std::error_code e, memory_stream s) {
        connect_result = e;
        late.emplace(std::move(s));
    });
    run_for(io, 150ms);
    EXPECT_FALSE(read_result);
    EXPECT_FALSE(connect_result);

    net.partition("server", "client", false);  // host order does not matter
    ASSERT_TRUE(run_until(io, [&] { return read_result && connect_result; }));
    EXPECT_FALSE(*read_result);
    EXPECT_EQ(got, "held");
    EXPECT_FALSE(*connect_result);
    EXPECT_TRUE(late->is_open());
}

TEST(MemoryTransport, PortZeroAllocationAndAddressInUse) {
    asio::io_context io;
    memory_network net;
    memory_transport host(io.get_executor(), net, "h");
    memory_transport other(io.get_executor(), net, "other");
    std::error_code ec;
    memory_acceptor first = host.listen("", 0, ec);
    ASSERT_FALSE(ec);
    EXPECT_EQ(first.port(), 10000);
    memory_acceptor second = host.listen("", 0, ec);
    ASSERT_FALSE(ec);
    EXPECT_EQ(second.port(), 10001);

    memory_acceptor taken = host.listen("", 10000, ec);
    EXPECT_EQ(ec, asio::error::address_in_use);
    EXPECT_FALSE(taken.is_open());

    memory_acceptor elsewhere = other.listen("", 10000, ec);  // ports are per host
    EXPECT_FALSE(ec);
    memory_acceptor fixed = host.listen("", 4242, ec);
    EXPECT_FALSE(ec);
    EXPECT_EQ(fixed.port(), 4242);

    first.close();
    EXPECT_FALSE(first.is_open());
    memory_acceptor reused = host.listen("", 10000, ec);
    EXPECT_FALSE(ec);
    EXPECT_EQ(reused.port(), 10000);
}

TEST(MemoryTransport, AcceptorCloseAbortsPendingAccept) {
    asio::io_context io;
    memory_network net;
    memory_transport server(io.get_executor(), net, "server");
    memory_transport client(io.get_executor(), net);
    std::error_code ec;
    memory_acceptor acceptor = server.listen("", 0, ec);
    ASSERT_FALSE(ec);
    const std::uint16_t port = acceptor.port();

    std::vector<std::error_code> results;
    acceptor.async_accept([&](std::error_code e, memory_stream s) {
        EXPECT_FALSE(s.is_open());
        results.push_back(e);
    });
    acceptor.close();
    acceptor.async_accept([&](std::error_code e, memory_stream) { results.push_back(e); });
    std::optional<std::error_code> connect_result;
    client.async_connect("server", port, [&](std::error_code e, memory_stream) { connect_result = e; });
    EXPECT_TRUE(results.empty());
    ASSERT_TRUE(run_until(io, [&] { return results.size() == 2 && connect_result; }));
    EXPECT_EQ(results[0], asio::error::operation_aborted);
    EXPECT_EQ(results[1], asio::error::bad_descriptor);
    EXPECT_EQ(*connect_result, asio::error::connection_refused);
}

}  // namespace
