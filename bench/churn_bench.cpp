// librats_churn: many peers connecting to one node, exchanging a message and disconnecting,
// over and over, for a while; then the node's memory is compared with what it held after a
// short warm-up of the same churn. A leak, or state that grows with the connections a node has
// seen, shows as growth.
//
//   librats_churn [memory|tcp] [peers] [seconds]      defaults: memory 1000 60
//
// memory: every peer is a basic_node<memory_transport, noise_xx<>> in an in-process network;
// tcp: real TCP on 127.0.0.1. Each cycle: connect (Noise XX handshake), send "ping", wait for the
// hub's "pong", disconnect, pause 0-20 ms. Output: "key: value" lines. Exit status 0 unless a
// step failed (no cycle completed, or peers left connected); growth is reported, not judged.

#include "bench_support.hpp"

#include <librats/crypto/noise_xx.hpp>
#include <librats/node.hpp>
#include <librats/test/memory_transport.hpp>
#include <librats/transport/tcp.hpp>

#include <malloc.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace librats;
using namespace librats::bench;

long heap_bytes() { return static_cast<long>(mallinfo2().uordblks); }

long rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
    return 0;
}

template <class Node>
struct churn {
    std::vector<std::unique_ptr<Node>> peers;
    std::unique_ptr<Node> hub;
    std::string hub_host;
    std::uint16_t hub_port = 0;
    std::atomic<bool> running{true};
    std::atomic<long> cycles{0};
    std::atomic<long> failures{0};
    std::mt19937 rng{7};

    // On the peer's strand: one cycle, then the next after a pause.
    void cycle(Node& peer, asio::io_context& io) {
        if (!running) return;
        peer.async_connect(hub_host, hub_port, [this, &peer, &io](std::error_code ec, std::string id) {
            if (ec) {
                ++failures;
                return pause_then_cycle(peer, io);
            }
            peer.send(id, "ping", {{"n", cycles.load()}});
        });
    }

    void pause_then_cycle(Node& peer, asio::io_context& io) {
        auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(rng() % 20));
        timer->async_wait([this, &peer, &io, timer](std::error_code) { cycle(peer, io); });
    }

    void wire(Node& peer, asio::io_context& io) {
        peer.on("pong", [this, &peer](const std::string& from, const nlohmann::json&) {
            ++cycles;
            peer.disconnect(from);
        });
        peer.set_peer_disconnected_handler([this, &peer, &io](const peer_info&, std::error_code) { pause_then_cycle(peer, io); });
    }
};

// hub_host: how peers reach the hub ("hub" on the memory network, 127.0.0.1 over TCP).
template <class Node, class MakeNode>
int run(const char* kind, const char* hub_host, std::size_t peer_count, int seconds, MakeNode make_node,
        asio::io_context& io) {
    churn<Node> c;
    c.hub = make_node("hub", 4000, true);
    c.hub->on("ping", [&c](const std::string& from, const nlohmann::json& data) { c.hub->send(from, "pong", data); });
    c.hub->start();
    c.hub_host = hub_host;
    c.hub_port = c.hub->listen_port();
    for (std::size_t i = 0; i < peer_count; ++i) {
        c.peers.push_back(make_node("p" + std::to_string(i), 5000, false));
        c.wire(*c.peers.back(), io);
        c.peers.back()->start();
    }
    std::thread worker([&io] { io.run(); });

    // Warm-up: a few seconds of the same churn, then all disconnected: the baseline.
    const auto settle = [&] {
        c.running = false;
        for (int i = 0; i < 200 && c.hub->peer_count() > 0; ++i) std::this_thread::sleep_for(50ms);
        std::this_thread::sleep_for(1500ms);  // buffers idle at the next tick go back
    };
    const auto churn_for = [&](std::chrono::seconds d) {
        c.running = true;
        for (auto& p : c.peers) asio::post(p->get_executor(), [&c, &p, &io] { c.cycle(*p, io); });
        std::this_thread::sleep_for(d);
    };
    churn_for(std::chrono::seconds(std::min(5, seconds)));
    settle();
    const long heap_before = heap_bytes(), rss_before = rss_kib();
    const long cycles_before = c.cycles;
    const auto start = bench_clock::now();
    churn_for(std::chrono::seconds(seconds));
    const double elapsed = seconds_between(start, bench_clock::now());
    const long cycles = c.cycles - cycles_before;
    settle();
    const long heap_after = heap_bytes(), rss_after = rss_kib();
    const auto left = c.hub->peer_count();

    for (auto& p : c.peers) p->stop();
    c.hub->stop();
    io.stop();
    worker.join();

    std::printf("transport: %s\npeers: %zu\nseconds: %.1f\ncycles: %ld\ncycles_per_second: %.0f\nconnect_failures: %ld\n",
                kind, peer_count, elapsed, cycles, cycles / elapsed, c.failures.load());
    std::printf("heap_before_bytes: %ld\nheap_after_bytes: %ld\nheap_growth_bytes: %ld\nheap_growth_per_cycle_bytes: %.2f\n",
                heap_before, heap_after, heap_after - heap_before,
                cycles ? double(heap_after - heap_before) / double(cycles) : 0.0);
    std::printf("rss_before_kib: %ld\nrss_after_kib: %ld\npeers_left_connected: %zu\n", rss_before, rss_after, left);
    return cycles > 0 && left == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string kind = argc > 1 ? argv[1] : "memory";
    const std::size_t peers = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1000;
    const int seconds = argc > 3 ? std::atoi(argv[3]) : 60;
    asio::io_context io;
    node_options options;
    options.max_peers = peers + 16;
    options.max_pending_handshakes = peers + 16;
    if (kind == "memory") {
        using node_t = basic_node<memory_transport, noise_xx<>>;
        memory_network network;
        return run<node_t>("memory", "hub", peers, seconds,
                           [&](const std::string& host, std::uint16_t port, bool) {
                               auto o = options;
                               o.listen_port = port;
                               auto n = std::make_unique<node_t>(io.get_executor(), o, network, host);
                               n->log().set_level(log_level::off);
                               return n;
                           },
                           io);
    }
    if (kind == "tcp") {
        using node_t = basic_node<tcp_transport, noise_xx<>>;
        return run<node_t>("tcp", "127.0.0.1", peers, seconds,
                           [&](const std::string&, std::uint16_t, bool) {
                               auto o = options;
                               o.bind_address = "127.0.0.1";
                               auto n = std::make_unique<node_t>(io.get_executor(), o);
                               n->log().set_level(log_level::off);
                               return n;
                           },
                           io);
    }
    std::fprintf(stderr, "usage: librats_churn [memory|tcp] [peers] [seconds]\n");
    return 2;
}
