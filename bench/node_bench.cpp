// librats_bench: two basic_node<tcp_transport, plaintext> (or noise_xx, the BM_noise_* ones) in
// one process, talking over TCP loopback (127.0.0.1 only), each node on its own io_context and
// thread. Every benchmark also measures its physical limit in the same run (raw asio TCP,
// nlohmann dump+parse, Botan's ChaCha20Poly1305 or X25519) and reports the ratio as a counter.
//
// Each benchmark alternates rounds of its baseline and of librats (see `rounds`) and reports the
// median of the per-round ratios. Streaming rounds send for a fixed time budget and stop the
// clock when the receiver has counted the last message, so only messages actually received are
// counted; the sender honours the send queue (waits for the writable event, never drops).
// Benchmarks run one manual-timed iteration: the Time column is the total measured librats time,
// the rate and ratio counters are the results. Every wait is bounded; a benchmark that misses a
// deadline reports an error instead of hanging.
//
// LIBRATS_BENCH_PIN=1 pins the sending side to CPU 0 and the receiving side to CPU 1.

#include "bench_support.hpp"

#include <librats/crypto/noise_xx.hpp>
#include <librats/crypto/plaintext.hpp>
#include <librats/node.hpp>
#include <librats/transport/tcp.hpp>
#include <librats/version.hpp>
#include <librats/wire/handshake.hpp>

#include <benchmark/benchmark.h>
#include <asio.hpp>
#include <botan/aead.h>
#include <botan/curve25519.h>
#include <nlohmann/json.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace librats;
using namespace librats::bench;
using namespace std::chrono_literals;
using node_t = basic_node<tcp_transport, plaintext>;
using noise_node_t = basic_node<tcp_transport, noise_xx<>>;
using asio::ip::tcp;

constexpr const char* loopback = "127.0.0.1";

// The machine is shared and noisy, so each benchmark alternates short rounds of its baseline
// and of librats and reports the median of the per-round ratios; each takes about 1.5 s.
constexpr int rounds = 5;
constexpr auto baseline_budget = 100ms;  // per round
constexpr auto node_budget = 200ms;      // per round
constexpr auto drain_deadline = 20s;     // after a round's budget, to receive what was sent

// ---------------------------------------------------------------------------------------------
// Raw asio TCP baselines

// Calls `fire` once if not cancelled before the deadline: unblocks blocking socket calls of a
// baseline that went wrong, so that no wait is unbounded.
class watchdog {
public:
    watchdog(bench_clock::time_point deadline, std::function<void()> fire)
        : thread_([this, deadline, fire = std::move(fire)] {
              std::unique_lock<std::mutex> lock(mutex_);
              if (!cv_.wait_until(lock, deadline, [this] { return cancelled_; })) {
                  fire();
              }
          }) {}
    ~watchdog() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            cancelled_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool cancelled_ = false;
    std::thread thread_;
};

// Two connected sockets on loopback, TCP_NODELAY on both (as librats sets on its streams).
struct raw_tcp_pair {
    asio::io_context io;
    tcp::socket client{io};
    tcp::socket server{io};

    raw_tcp_pair() {
        tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address(loopback), 0));
        client.connect(acceptor.local_endpoint());
        acceptor.accept(server);
        client.set_option(tcp::no_delay(true));
        server.set_option(tcp::no_delay(true));
    }

    // From the watchdog's thread: shutdown(2) wakes threads blocked on either socket.
    void abort() {
        ::shutdown(client.native_handle(), SHUT_RDWR);
        ::shutdown(server.native_handle(), SHUT_RDWR);
    }
};

struct rate_result {
    std::uint64_t messages = 0;
    double seconds = 0;
    std::uint64_t backoffs = 0;
    std::string error;
};

// The same message size written with blocking asio writes by this thread, read by another
// thread into a 128 KiB buffer (the size of librats' read buffers). The clock stops when the
// reader has every byte.
rate_result raw_stream(std::size_t message_size, std::chrono::milliseconds budget) {
    rate_result r;
    raw_tcp_pair pair;
    watchdog dog(bench_clock::now() + budget + drain_deadline, [&] { pair.abort(); });
    counter received_bytes;
    std::thread reader([&] {
        pin_this_thread(1);
        std::vector<unsigned char> buffer(128 * 1024);
        for (;;) {
            std::error_code ec;
            const auto n = pair.server.read_some(asio::buffer(buffer), ec);
            if (ec) return;
            received_bytes.add(n);
        }
    });
    const std::string payload(message_size, 'r');
    const auto t0 = bench_clock::now();
    const auto end = t0 + budget;
    std::error_code ec;
    std::uint64_t sent = 0;
    while (!ec && bench_clock::now() < end) {
        for (int i = 0; i < 64 && !ec; ++i) {
            asio::write(pair.client, asio::buffer(payload), ec);
            if (!ec) ++sent;
        }
    }
    if (ec) {
        r.error = "raw write failed: " + ec.message();
    } else if (!received_bytes.wait_for_value(sent * message_size, end + drain_deadline)) {
        r.error = "raw reader timed out";
    }
    r.seconds = seconds_between(t0, bench_clock::now());
    r.messages = received_bytes.value() / message_size;
    pair.client.shutdown(tcp::socket::shutdown_send, ec);
    reader.join();
    return r;
}

// Ping-pong: this thread writes `size` bytes and reads them back; an echo thread reads and
// writes them. Blocking asio reads and writes on both sides.
rate_result raw_ping_pong(std::size_t size, std::chrono::milliseconds budget) {
    rate_result r;
    raw_tcp_pair pair;
    watchdog dog(bench_clock::now() + budget + drain_deadline, [&] { pair.abort(); });
    std::thread echo([&] {
        pin_this_thread(1);
        std::vector<unsigned char> buffer(size);
        for (;;) {
            std::error_code ec;
            asio::read(pair.server, asio::buffer(buffer), ec);
            if (ec) return;
            asio::write(pair.server, asio::buffer(buffer), ec);
            if (ec) return;
        }
    });
    const std::string ping(size, 'p');
    std::string pong(size, '\0');
    std::error_code ec;
    const auto t0 = bench_clock::now();
    const auto end = t0 + budget;
    while (!ec && bench_clock::now() < end) {
        for (int i = 0; i < 16 && !ec; ++i) {
            asio::write(pair.client, asio::buffer(ping), ec);
            if (!ec) asio::read(pair.client, asio::buffer(pong), ec);
            if (!ec) ++r.messages;
        }
    }
    r.seconds = seconds_between(t0, bench_clock::now());
    if (ec) r.error = "raw ping-pong failed: " + ec.message();
    pair.client.shutdown(tcp::socket::shutdown_send, ec);
    echo.join();
    return r;
}

// ---------------------------------------------------------------------------------------------
// Two nodes

node_options bench_options() {
    node_options options;
    options.bind_address = loopback;
    return options;
}

// Node a dials node b; each runs on its own io_context and thread. The destructor stops both
// (bounded) before the handles and then the threads go away, so handlers never outlive the
// benchmark's state (declare what the handlers use before the pair).
template <class Node>
class basic_node_pair {
public:
    basic_node_pair()
        : io_a_(0), io_b_(1), a_(io_a_.executor(), bench_options()), b_(io_b_.executor(), bench_options()) {
        a_.start();
        b_.start();
    }
    basic_node_pair(const basic_node_pair&) = delete;
    basic_node_pair& operator=(const basic_node_pair&) = delete;

    ~basic_node_pair() {
        auto stop_a = a_.async_stop(asio::use_future);
        auto stop_b = b_.async_stop(asio::use_future);
        stop_a.wait_for(5s);
        stop_b.wait_for(5s);
    }

    Node& a() noexcept { return a_; }
    Node& b() noexcept { return b_; }

    // Connects a to b and waits until both sides list the peer. Empty on success.
    std::string connect() {
        auto done = a_.async_connect(loopback, b_.listen_port(),
                                     asio::use_future([](std::error_code ec, std::string id) { return std::make_pair(ec, id); }));
        if (done.wait_for(5s) != std::future_status::ready) return "connect timed out";
        const auto [ec, id] = done.get();
        if (ec) return "connect failed: " + ec.message();
        if (id != b_.peer_id()) return "connected to an unexpected peer";
        const auto deadline = bench_clock::now() + 5s;
        while (b_.peer_count() != 1 || a_.peer_count() != 1) {
            if (bench_clock::now() > deadline) return "peer never listed";
            std::this_thread::sleep_for(1ms);
        }
        return {};
    }

private:
    io_thread io_a_;
    io_thread io_b_;
    Node a_;
    Node b_;
};

using node_pair = basic_node_pair<node_t>;
using noise_pair = basic_node_pair<noise_node_t>;

// One send that honours the send queue: on send_queue_full, waits for the writable event and
// retries; never drops. Empty on success.
template <class Send>
std::string send_respecting_queue(Send&& send, counter& writable, bench_clock::time_point deadline,
                                  std::uint64_t& backoffs) {
    for (;;) {
        const auto seen = writable.value();
        const auto ec = send();
        if (!ec) return {};
        if (ec != errc::send_queue_full) return "send failed: " + ec.message();
        ++backoffs;
        if (!writable.wait_for_change(seen, deadline)) return "timed out waiting for the send queue to drain";
    }
}

// Streams messages from a to b for the budget with `send`, then waits until the receiver's
// counter shows every one of them. The time runs until the last message was received.
template <class Pair, class Send>
rate_result node_stream(Pair& pair, counter& received, Send&& send, std::chrono::milliseconds budget) {
    rate_result r;
    counter writable;
    pair.a().set_writable_handler([&writable](const peer_info&) { writable.add(); });
    const auto t0 = bench_clock::now();
    const auto end = t0 + budget;
    const auto deadline = end + drain_deadline;
    const auto base = received.value();
    std::uint64_t sent = 0;
    while (r.error.empty() && bench_clock::now() < end) {
        for (int i = 0; i < 64; ++i) {
            r.error = send_respecting_queue(send, writable, deadline, r.backoffs);
            if (!r.error.empty()) break;
            ++sent;
        }
    }
    if (r.error.empty() && !received.wait_for_value(base + sent, deadline))
        r.error = "receiver timed out: " + std::to_string(received.value() - base) + " of " + std::to_string(sent);
    r.seconds = seconds_between(t0, bench_clock::now());
    r.messages = received.value() - base;
    pair.a().set_writable_handler(nullptr);
    return r;
}

bool report_error(benchmark::State& state, const std::string& error) {
    if (error.empty()) return false;
    state.SkipWithError(error.c_str());
    return true;
}

double rate_of(const rate_result& r) { return static_cast<double>(r.messages) / r.seconds; }

// Alternating rounds of a baseline and of librats: totals of each, and the median over the
// rounds of (librats rate / baseline rate), which a disturbance of one round does not move.
struct paired_rounds {
    rate_result base;
    rate_result node;
    double median_ratio = 0;
    std::string error;
};

template <class BaseRound, class NodeRound>
paired_rounds run_rounds(BaseRound&& base_round, NodeRound&& node_round) {
    paired_rounds p;
    std::vector<double> ratios;
    for (int i = 0; i < rounds; ++i) {
        const auto b = base_round();
        const auto n = b.error.empty() ? node_round() : rate_result{};
        p.error = !b.error.empty() ? b.error : n.error;
        if (p.error.empty() && (b.messages == 0 || n.messages == 0)) p.error = "a round completed no message";
        if (!p.error.empty()) return p;
        for (auto [total, round] : {std::pair{&p.base, &b}, std::pair{&p.node, &n}}) {
            total->messages += round->messages;
            total->seconds += round->seconds;
            total->backoffs += round->backoffs;
        }
        ratios.push_back(rate_of(n) / rate_of(b));
    }
    std::sort(ratios.begin(), ratios.end());
    p.median_ratio = ratios[ratios.size() / 2];
    return p;
}

// ---------------------------------------------------------------------------------------------
// Rounds of a baseline stream and of node a streaming `size`-byte binary messages to node b.
template <class Pair, class Baseline>
paired_rounds binary_rounds(benchmark::State& state, Pair& pair, counter& received, std::size_t size,
                            Baseline baseline) {
    const std::string payload(size, 'b');
    const auto peer = pair.b().peer_id();
    paired_rounds p;
    for (auto _ : state) {
        p = run_rounds([&] { return baseline(size, baseline_budget); },
                       [&] {
                           return node_stream(
                               pair, received, [&] { return pair.a().send_data(peer, data_kind::binary, payload); },
                               node_budget);
                       });
        state.SetIterationTime(p.node.seconds);
    }
    return p;
}

// 1. Bulk throughput, 64 KiB binary messages, vs raw TCP with the same writes.

// A 64 KiB stream from a to b against `baseline`, whose rate is reported as `baseline_name`
// and the ratio as `ratio_name`.
template <class Pair, class Baseline>
void bulk_64KiB(benchmark::State& state, Baseline baseline, const char* baseline_name, const char* ratio_name) {
    constexpr std::size_t size = 64 * 1024;
    counter received;
    std::atomic<std::uint64_t> wrong_size{0};
    Pair pair;
    pair.b().set_data_handler([&](const peer_info&, data_kind, std::string_view bytes) {
        if (bytes.size() != size) wrong_size++;
        received.add();
    });
    if (report_error(state, pair.connect())) return;
    const auto p = binary_rounds(state, pair, received, size, baseline);
    if (report_error(state, p.error)) return;
    if (wrong_size) return (void)report_error(state, "received messages of the wrong size");
    state.SetBytesProcessed(static_cast<std::int64_t>(p.node.messages * size));
    state.counters[baseline_name] =
        benchmark::Counter(rate_of(p.base) * size, benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
    state.counters[ratio_name] = p.median_ratio;
    state.counters["queue_full_backoffs"] = static_cast<double>(p.node.backoffs);
}

void BM_bulk_64KiB(benchmark::State& state) {
    bulk_64KiB<node_pair>(state, raw_stream, "raw_bytes_per_second", "ratio_vs_raw");
}
BENCHMARK(BM_bulk_64KiB)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------------------------
// 2. Small binary message rate, 64 bytes. The physical limit: the same 5-byte-header frames
// coalesced by hand into 64 KiB writes on a raw socket, and split again by the reader.

rate_result raw_framed_stream(std::size_t message_size, std::chrono::milliseconds budget) {
    rate_result r;
    raw_tcp_pair pair;
    watchdog dog(bench_clock::now() + budget + drain_deadline, [&] { pair.abort(); });
    const std::size_t frame_size = 5 + message_size;
    counter received;
    std::thread reader([&] {
        pin_this_thread(1);
        std::vector<unsigned char> buffer(128 * 1024);
        std::size_t have = 0;
        for (;;) {
            std::error_code ec;
            have += pair.server.read_some(asio::buffer(buffer.data() + have, buffer.size() - have), ec);
            if (ec) return;
            std::size_t at = 0;
            std::uint64_t frames = 0;
            while (have - at >= 5) {
                const std::size_t length = (std::size_t{buffer[at + 1]} << 24) | (std::size_t{buffer[at + 2]} << 16) |
                                           (std::size_t{buffer[at + 3]} << 8) | buffer[at + 4];
                if (have - at < 5 + length) break;
                at += 5 + length;
                ++frames;
            }
            std::memmove(buffer.data(), buffer.data() + at, have - at);
            have -= at;
            received.add(frames);
        }
    });
    const std::string payload(message_size, 's');
    const std::size_t per_write = 64 * 1024 / frame_size;
    std::string batch;
    batch.reserve(per_write * frame_size);
    const auto t0 = bench_clock::now();
    const auto end = t0 + budget;
    std::error_code ec;
    std::uint64_t sent = 0;
    while (!ec && bench_clock::now() < end) {
        batch.clear();
        for (std::size_t i = 0; i < per_write; ++i) {
            const unsigned char header[5] = {1, static_cast<unsigned char>(message_size >> 24),
                                             static_cast<unsigned char>(message_size >> 16),
                                             static_cast<unsigned char>(message_size >> 8),
                                             static_cast<unsigned char>(message_size)};
            batch.append(reinterpret_cast<const char*>(header), 5);
            batch.append(payload);
        }
        asio::write(pair.client, asio::buffer(batch), ec);
        if (!ec) sent += per_write;
    }
    if (ec) {
        r.error = "raw write failed: " + ec.message();
    } else if (!received.wait_for_value(sent, end + drain_deadline)) {
        r.error = "raw reader timed out";
    }
    r.seconds = seconds_between(t0, bench_clock::now());
    r.messages = received.value();
    pair.client.shutdown(tcp::socket::shutdown_send, ec);
    reader.join();
    return r;
}

void BM_binary_64B_rate(benchmark::State& state) {
    constexpr std::size_t size = 64;
    counter received;
    node_pair pair;
    pair.b().set_data_handler([&](const peer_info&, data_kind, std::string_view) { received.add(); });
    if (report_error(state, pair.connect())) return;
    const auto p = binary_rounds(state, pair, received, size, raw_framed_stream);
    if (report_error(state, p.error)) return;
    state.SetItemsProcessed(static_cast<std::int64_t>(p.node.messages));
    state.counters["ns_per_msg"] = 1e9 / rate_of(p.node);
    state.counters["raw_coalesced_msgs_per_second"] = rate_of(p.base);
    state.counters["ratio_vs_raw"] = p.median_ratio;
    state.counters["queue_full_backoffs"] = static_cast<double>(p.node.backoffs);
}
BENCHMARK(BM_binary_64B_rate)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------------------------
// 3. Small JSON message rate vs nlohmann dump + parse of the same object (one thread).

const nlohmann::json& chat_message() {
    static const nlohmann::json message = {{"type", "chat"}, {"n", 123}, {"text", "hello world"}};
    return message;
}

rate_result nlohmann_round_trips(std::chrono::milliseconds budget) {
    rate_result r;
    const auto& message = chat_message();
    const auto t0 = bench_clock::now();
    const auto end = t0 + budget;
    while (bench_clock::now() < end) {
        for (int i = 0; i < 256; ++i) {
            const auto text = message.dump();
            auto parsed = nlohmann::json::parse(text);
            benchmark::DoNotOptimize(parsed);
            ++r.messages;
        }
    }
    r.seconds = seconds_between(t0, bench_clock::now());
    return r;
}

void BM_json_small_rate(benchmark::State& state) {
    counter received;
    std::atomic<std::uint64_t> malformed{0};
    node_pair pair;
    pair.b().on("chat", [&](const std::string&, const nlohmann::json& data) {
        if (!data.is_object() || data.size() != 3) malformed++;
        received.add();
    });
    if (report_error(state, pair.connect())) return;
    const auto peer = pair.b().peer_id();
    const auto& message = chat_message();
    paired_rounds p;
    for (auto _ : state) {
        p = run_rounds([&] { return nlohmann_round_trips(baseline_budget); },
                       [&] {
                           return node_stream(
                               pair, received, [&] { return pair.a().send(peer, "chat", message); }, node_budget);
                       });
        state.SetIterationTime(p.node.seconds);
    }
    if (report_error(state, p.error)) return;
    if (malformed) return (void)report_error(state, "received malformed JSON");
    state.SetItemsProcessed(static_cast<std::int64_t>(p.node.messages));
    state.counters["ns_per_msg"] = 1e9 / rate_of(p.node);
    state.counters["nlohmann_dump_parse_per_second"] = rate_of(p.base);
    state.counters["ratio_vs_nlohmann"] = p.median_ratio;
    state.counters["queue_full_backoffs"] = static_cast<double>(p.node.backoffs);
}
BENCHMARK(BM_json_small_rate)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------------------------
// 4. 1 KiB ping-pong round trip vs raw TCP ping-pong with blocking 1 KiB writes and reads.

constexpr std::size_t rtt_size = 1024;

// Rounds of raw TCP ping-pong and of `node_round`, reported as round-trip times. ratio_vs_raw
// here is librats' round-trip time over raw TCP's: lower is better.
template <class NodeRound>
void rtt_rounds(benchmark::State& state, NodeRound&& node_round) {
    paired_rounds p;
    for (auto _ : state) {
        p = run_rounds([&] { return raw_ping_pong(rtt_size, baseline_budget); }, node_round);
        state.SetIterationTime(p.node.seconds);
    }
    if (report_error(state, p.error)) return;
    state.SetItemsProcessed(static_cast<std::int64_t>(p.node.messages));
    state.counters["rtt_us"] = 1e6 / rate_of(p.node);
    state.counters["raw_rtt_us"] = 1e6 / rate_of(p.base);
    state.counters["ratio_vs_raw"] = 1.0 / p.median_ratio;
}

// The echo on b answers every binary message with the same bytes.
void install_echo(node_t& b) {
    b.set_data_handler([&b](const peer_info& from, data_kind kind, std::string_view bytes) {
        b.send_data(from.peer_id, kind, bytes);
    });
}

// Request/response driven from a's handler, as an application on the node's strand would: the
// reply handler sends the next ping until the round's budget is spent. No thread of ours in
// the loop, so each round trip has the same two wake-ups as the raw ping-pong.
void BM_rtt_1KiB(benchmark::State& state) {
    counter finished;
    std::atomic<std::uint64_t> round_trips{0};
    std::atomic<bench_clock::rep> end_at{0};
    std::atomic<bench_clock::rep> last_reply_at{0};
    std::atomic<bool> send_failed{false};
    const std::string ping(rtt_size, 'p');
    node_pair pair;
    install_echo(pair.b());
    const auto b_id = pair.b().peer_id();
    pair.a().set_data_handler([&](const peer_info&, data_kind, std::string_view) {
        const auto now = bench_clock::now().time_since_epoch().count();
        round_trips.fetch_add(1, std::memory_order_relaxed);
        if (now < end_at.load(std::memory_order_relaxed)) {
            if (!pair.a().send_data(b_id, data_kind::binary, ping)) return;
            send_failed = true;
        }
        last_reply_at = now;
        finished.add();
    });
    if (report_error(state, pair.connect())) return;
    std::uint64_t chains = 0;
    const auto node_round = [&] {
        rate_result r;
        const auto before = round_trips.load();
        const auto t0 = bench_clock::now();
        end_at = (t0 + node_budget).time_since_epoch().count();
        if (const auto ec = pair.a().send_data(b_id, data_kind::binary, ping)) {
            r.error = "send failed: " + ec.message();
            return r;
        }
        if (!finished.wait_for_value(++chains, t0 + node_budget + 5s)) {
            r.error = "ping-pong stalled";
            return r;
        }
        if (send_failed) r.error = "a send in the ping-pong failed";
        r.seconds = seconds_between(t0, bench_clock::time_point(bench_clock::duration(last_reply_at.load())));
        r.messages = round_trips.load() - before;
        return r;
    };
    rtt_rounds(state, node_round);
}
BENCHMARK(BM_rtt_1KiB)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// The same round trip driven from a thread outside the node (send_data, then block until the
// reply handler signals): adds two cross-thread wake-ups per round trip to the above.
void BM_rtt_1KiB_caller_thread(benchmark::State& state) {
    counter replies;
    const std::string ping(rtt_size, 'p');
    node_pair pair;
    install_echo(pair.b());
    pair.a().set_data_handler([&](const peer_info&, data_kind, std::string_view) { replies.add(); });
    if (report_error(state, pair.connect())) return;
    const auto b_id = pair.b().peer_id();
    const auto node_round = [&] {
        rate_result r;
        const auto t0 = bench_clock::now();
        const auto end = t0 + node_budget;
        while (r.error.empty() && bench_clock::now() < end) {
            for (int i = 0; i < 16; ++i) {
                const auto seen = replies.value();
                if (const auto ec = pair.a().send_data(b_id, data_kind::binary, ping)) {
                    r.error = "send failed: " + ec.message();
                    break;
                }
                if (!replies.wait_for_value(seen + 1, bench_clock::now() + 5s)) {
                    r.error = "no reply within 5 s";
                    break;
                }
                ++r.messages;
            }
        }
        r.seconds = seconds_between(t0, bench_clock::now());
        return r;
    };
    rtt_rounds(state, node_round);
}
BENCHMARK(BM_rtt_1KiB_caller_thread)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------------------------
// 5. Connect + hello: async_connect to a running node until its completion; then disconnect
// and wait (untimed) until both sides dropped the peer. The physical limit: a blocking TCP
// connect to a listening thread, then the same bytes as the plaintext handshake (preamble,
// length, hello) written by the client and answered by the server.

std::size_t handshake_bytes() {
    wire::hello hello;
    hello.peer_id = std::string(40, 'f');
    hello.listen_port = 65535;
    hello.agent = std::string("librats-cpp/") + library_version;
    hello.nonce = ~std::uint64_t{0};
    return wire::preamble_size + 2 + wire::encode_hello(hello).size();
}

rate_result raw_connects(int count) {
    rate_result r;
    const auto size = handshake_bytes();
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address(loopback), 0));
    const auto endpoint = acceptor.local_endpoint();
    // shutdown(2) on the listening socket wakes a thread blocked in accept(2).
    const auto stop_accepting = [&] { ::shutdown(acceptor.native_handle(), SHUT_RDWR); };
    watchdog dog(bench_clock::now() + drain_deadline, stop_accepting);
    std::thread server([&] {
        pin_this_thread(1);
        std::vector<unsigned char> buffer(size);
        for (;;) {
            tcp::socket socket(io);
            std::error_code ec;
            acceptor.accept(socket, ec);
            if (ec) return;
            socket.set_option(tcp::no_delay(true), ec);
            asio::read(socket, asio::buffer(buffer), ec);
            if (!ec) asio::write(socket, asio::buffer(buffer), ec);
        }
    });
    const std::string hello(size, 'h');
    std::string reply(size, '\0');
    std::error_code ec;
    for (int i = 0; i < count && !ec; ++i) {
        const auto t0 = bench_clock::now();
        tcp::socket socket(io);
        socket.connect(endpoint, ec);
        if (!ec) socket.set_option(tcp::no_delay(true), ec);
        if (!ec) asio::write(socket, asio::buffer(hello), ec);
        if (!ec) asio::read(socket, asio::buffer(reply), ec);
        if (!ec) {
            r.seconds += seconds_between(t0, bench_clock::now());
            ++r.messages;
        }
    }
    if (ec) r.error = "raw connect failed: " + ec.message();
    stop_accepting();
    server.join();
    return r;
}

// Dials b from a once per iteration and times it until the dialer's completion; then
// disconnects and waits (untimed) until both sides dropped the peer. The times in µs; empty
// after an error, which is reported.
template <class Pair>
std::vector<double> connect_samples(benchmark::State& state) {
    counter connects;
    counter disconnects;
    std::mutex mutex;
    std::error_code last_ec;
    Pair pair;
    pair.a().set_peer_disconnected_handler([&](const peer_info&, std::error_code) { disconnects.add(); });
    pair.b().set_peer_disconnected_handler([&](const peer_info&, std::error_code) { disconnects.add(); });
    const auto port = pair.b().listen_port();
    const auto b_id = pair.b().peer_id();
    std::vector<double> samples;
    for (auto _ : state) {
        const auto t0 = bench_clock::now();
        pair.a().async_connect(loopback, port, [&](std::error_code ec, std::string) {
            {
                std::lock_guard<std::mutex> lock(mutex);
                last_ec = ec;
            }
            connects.add();
        });
        if (!connects.wait_for_value(samples.size() + 1, t0 + 5s)) {
            state.SkipWithError("connect timed out");
            return {};
        }
        const auto elapsed = seconds_between(t0, bench_clock::now());
        state.SetIterationTime(elapsed);
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (last_ec) {
                state.SkipWithError(("connect failed: " + last_ec.message()).c_str());
                return {};
            }
        }
        samples.push_back(elapsed * 1e6);
        pair.a().disconnect(b_id);
        if (!disconnects.wait_for_value(2 * samples.size(), bench_clock::now() + 5s)) {
            state.SkipWithError("disconnect timed out");
            return {};
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(samples.size()));
    return samples;
}

void BM_connect_hello(benchmark::State& state) {
    const auto raw = raw_connects(500);
    if (report_error(state, raw.error)) return;
    const auto samples = connect_samples<node_pair>(state);
    if (samples.empty()) return;
    double total = 0;
    for (const auto us : samples) total += us;
    const double connect_us = total / static_cast<double>(samples.size());
    const double raw_us = raw.seconds * 1e6 / static_cast<double>(raw.messages);
    state.counters["connect_us"] = connect_us;
    state.counters["raw_connect_us"] = raw_us;
    state.counters["ratio_vs_raw"] = connect_us / raw_us;
}
BENCHMARK(BM_connect_hello)->Iterations(2000)->UseManualTime()->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------------------------
// 6. Noise XX (noise_xx<>, Noise_XX_25519_ChaChaPoly_SHA256) between the two nodes.

constexpr std::size_t noise_record_plaintext = 65535 - 16;

// Botan's ChaCha20Poly1305 alone, one thread, sealing 65,535-byte records in place (65,519
// bytes of plaintext and the tag): the rate the encrypted stream is held to. `messages` counts
// `size`-byte units of plaintext so that the rate compares with a stream of such messages.
rate_result raw_aead(std::size_t size, std::chrono::milliseconds budget) {
    rate_result r;
    auto aead = Botan::AEAD_Mode::create_or_throw("ChaCha20Poly1305", Botan::ENCRYPTION);
    const std::vector<std::uint8_t> key(32, 0x42);
    aead->set_key(key);
    Botan::secure_vector<std::uint8_t> record;
    record.reserve(noise_record_plaintext + 16);
    std::uint8_t nonce[12] = {};
    std::uint64_t n = 0;
    std::uint64_t bytes = 0;
    const auto t0 = bench_clock::now();
    const auto end = t0 + budget;
    while (bench_clock::now() < end) {
        for (int i = 0; i < 16; ++i) {
            std::memcpy(nonce + 4, &n, sizeof n);
            ++n;
            record.assign(noise_record_plaintext, 'a');
            aead->start(nonce, sizeof nonce);
            aead->finish(record, 0);
            bytes += noise_record_plaintext;
        }
    }
    r.seconds = seconds_between(t0, bench_clock::now());
    r.messages = bytes / size;
    return r;
}

void BM_noise_bulk_64KiB(benchmark::State& state) {
    bulk_64KiB<noise_pair>(state, raw_aead, "aead_bytes_per_second", "ratio_vs_aead");
}
BENCHMARK(BM_noise_bulk_64KiB)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

void BM_noise_64B_rate(benchmark::State& state) {
    constexpr std::size_t size = 64;
    counter received;
    noise_pair pair;
    pair.b().set_data_handler([&](const peer_info&, data_kind, std::string_view) { received.add(); });
    if (report_error(state, pair.connect())) return;
    const auto p = binary_rounds(state, pair, received, size, raw_framed_stream);
    if (report_error(state, p.error)) return;
    state.SetItemsProcessed(static_cast<std::int64_t>(p.node.messages));
    state.counters["msgs_per_second"] = rate_of(p.node);
    state.counters["raw_coalesced_msgs_per_second"] = rate_of(p.base);
    state.counters["ratio_vs_raw"] = p.median_ratio;
}
BENCHMARK(BM_noise_64B_rate)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// One X25519 scalar multiplication, median of many: Noise XX does eight in sequence per
// handshake (four on each side), the floor of a handshake's latency.
double x25519_us() {
    std::uint8_t secret[32], point[32], out[32];
    std::memset(secret, 7, sizeof secret);
    Botan::curve25519_basepoint(point, secret);
    std::vector<double> samples;
    for (int i = 0; i < 201; ++i) {
        const auto t0 = bench_clock::now();
        Botan::curve25519_donna(out, secret, point);
        samples.push_back(seconds_between(t0, bench_clock::now()) * 1e6);
        benchmark::DoNotOptimize(out);
    }
    std::sort(samples.begin(), samples.end());
    return samples[samples.size() / 2];
}

double median_of(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// Connect + Noise XX handshake + hellos (connect_samples); reports the median.
void BM_noise_connect_handshake(benchmark::State& state) {
    const auto raw = raw_connects(500);
    if (report_error(state, raw.error)) return;
    const double x25519 = x25519_us();
    const auto samples = connect_samples<noise_pair>(state);
    if (samples.empty()) return;
    state.counters["median_us"] = median_of(samples);
    state.counters["raw_connect_us"] = raw.seconds * 1e6 / static_cast<double>(raw.messages);
    state.counters["x25519_us"] = x25519;
    state.counters["eight_x25519_us"] = 8 * x25519;
}
BENCHMARK(BM_noise_connect_handshake)->Iterations(1000)->UseManualTime()->Unit(benchmark::kMicrosecond);

// Handshakes one node accepts per second: 16 dialer nodes (on one other thread) each dial the
// hub, drop the connection once it is up, and dial again, for one second. Counts the hub's
// completed handshakes. The limit reported beside it: the hub's share of the X25519 work (four
// scalar multiplications per handshake) on one CPU.
void BM_noise_handshakes_per_second(benchmark::State& state) {
    constexpr int dialer_count = 16;
    const double x25519 = x25519_us();
    counter accepted;
    counter chains_done;
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> failures{0};
    io_thread hub_io(1), dialer_io(0);
    node_options hub_options = bench_options();
    hub_options.max_peers = 4 * dialer_count;
    noise_node_t hub(hub_io.executor(), hub_options);
    hub.set_peer_connected_handler([&](const peer_info&) { accepted.add(); });
    hub.start();
    std::vector<std::unique_ptr<noise_node_t>> dialers;
    for (int i = 0; i < dialer_count; ++i) {
        dialers.push_back(std::make_unique<noise_node_t>(dialer_io.executor(), bench_options()));
        dialers.back()->start();
    }
    const auto port = hub.listen_port();
    std::function<void(int)> dial = [&](int i) {
        dialers[i]->async_connect(loopback, port, [&, i](std::error_code ec, std::string id) {
            if (ec) failures++;
            else dialers[i]->disconnect(id);
            if (stopping) return (void)chains_done.add();
            dial(i);
        });
    };
    double seconds = 0;
    std::uint64_t count = 0;
    for (auto _ : state) {
        const auto before = accepted.value();
        const auto t0 = bench_clock::now();
        for (int i = 0; i < dialer_count; ++i) dial(i);
        std::this_thread::sleep_for(1s);
        stopping = true;
        seconds = seconds_between(t0, bench_clock::now());
        count = accepted.value() - before;
        state.SetIterationTime(seconds);
        if (!chains_done.wait_for_value(dialer_count, bench_clock::now() + 10s))
            state.SkipWithError("dialers did not stop");
    }
    for (auto& d : dialers) d->async_stop(asio::use_future).wait_for(5s);
    hub.async_stop(asio::use_future).wait_for(5s);
    if (failures) state.counters["failed_dials"] = static_cast<double>(failures);
    state.SetItemsProcessed(static_cast<std::int64_t>(count));
    state.counters["handshakes_per_second"] = static_cast<double>(count) / seconds;
    state.counters["hub_x25519_limit_per_second"] = 1e6 / (4 * x25519);
}
BENCHMARK(BM_noise_handshakes_per_second)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

// With LIBRATS_BENCH_PIN=1 the benchmark thread (the sender, and a's side) runs on CPU 0 with
// node a's thread, the receiving side (node b, the raw reader or echo) on CPU 1.
int main(int argc, char** argv) {
    pin_this_thread(0);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
