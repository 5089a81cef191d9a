// librats_dht_bench: KRPC encode and decode rates (bencode + validation, no I/O) for the two
// most frequent DHT packets, a ping query and a get_peers response carrying 8 IPv4 nodes; the
// routing table's insert and closest-8 rates; queries a node answers per second; and whole
// simulated networks of 1,000 and 10,000 nodes (tests/dht/simulation.hpp: every node joins,
// then random lookups), reporting lookup success, RPCs per lookup and memory. Buffers, the
// bencode document and the message are reused across iterations, as a node does.

#include "dht/simulation.hpp"

#include <librats/dht/engine.hpp>
#include <librats/dht/krpc.hpp>
#include <librats/dht/routing_table.hpp>

#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <chrono>
#include <random>
#include <string>

namespace {

using namespace librats::dht;

node_id filled(unsigned char byte) {
    node_id::bytes_type bytes;
    bytes.fill(byte);
    return node_id(bytes);
}

const krpc::envelope envelope{"ab", "LR01", false, std::nullopt};

krpc::query ping() { return {filled(1), krpc::ping_args{}}; }

krpc::response_data get_peers_response() {
    krpc::response_data data;
    data.id = filled(2);
    for (unsigned char i = 0; i < 8; ++i)
        data.nodes.push_back({filled(static_cast<unsigned char>(0x10 + i)),
                              asio::ip::udp::endpoint(asio::ip::make_address_v4(0x0a000001u + i),
                                                      static_cast<unsigned short>(6881 + i))});
    data.token = "0123456789abcdef0123";
    return data;
}

void set_rate(benchmark::State& state, std::size_t bytes) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.counters["packet_bytes"] = static_cast<double>(bytes);
}

void BM_krpc_encode_ping(benchmark::State& state) {
    const auto q = ping();
    std::string out;
    for (auto _ : state) {
        krpc::encode_query(out, envelope, q);
        benchmark::DoNotOptimize(out.data());
    }
    set_rate(state, out.size());
}

void BM_krpc_decode_ping(benchmark::State& state) {
    std::string packet;
    krpc::encode_query(packet, envelope, ping());
    bencode::document doc;
    krpc::message m;
    for (auto _ : state) {
        const auto ec = krpc::decode(packet, doc, m);
        if (ec) state.SkipWithError(ec.message().c_str());
        benchmark::DoNotOptimize(m);
    }
    set_rate(state, packet.size());
}

void BM_krpc_encode_get_peers_response(benchmark::State& state) {
    const auto data = get_peers_response();
    std::string out;
    for (auto _ : state) {
        krpc::encode_response(out, envelope, data);
        benchmark::DoNotOptimize(out.data());
    }
    set_rate(state, out.size());
}

// Decoding includes reading the 8 contacts back, which a node always does.
void BM_krpc_decode_get_peers_response(benchmark::State& state) {
    std::string packet;
    krpc::encode_response(packet, envelope, get_peers_response());
    bencode::document doc;
    krpc::message m;
    for (auto _ : state) {
        const auto ec = krpc::decode(packet, doc, m);
        if (ec) state.SkipWithError(ec.message().c_str());
        for (const auto& node : std::get<krpc::response>(m.body).nodes) benchmark::DoNotOptimize(node);
    }
    set_rate(state, packet.size());
}

BENCHMARK(BM_krpc_encode_ping);
BENCHMARK(BM_krpc_decode_ping);
BENCHMARK(BM_krpc_encode_get_peers_response);
BENCHMARK(BM_krpc_decode_get_peers_response);

node_id random_id(std::mt19937& rng) {
    node_id id;
    for (auto& b : id.bytes()) b = static_cast<std::uint8_t>(rng());
    return id;
}

const routing_table::time_point bench_now = routing_table::time_point{} + std::chrono::hours(1);

// Responses from random nodes; most land in full far buckets (replacement caches), as on the
// real network.
void BM_routing_table_insert(benchmark::State& state) {
    std::mt19937 rng(1);
    routing_table table(random_id(rng));
    unsigned i = 0;
    for (auto _ : state) {
        ++i;
        benchmark::DoNotOptimize(table.heard_response({random_id(rng), {asio::ip::address_v4(i), 6881}}, bench_now));
    }
    state.counters["nodes"] = static_cast<double>(table.size());
}
BENCHMARK(BM_routing_table_insert);

void BM_routing_table_closest8(benchmark::State& state) {
    std::mt19937 rng(2);
    routing_table table(random_id(rng));
    for (int i = 0; i < state.range(0); ++i)
        table.heard_response({random_id(rng), {asio::ip::address_v4(static_cast<unsigned>(i)), 6881}}, bench_now);
    for (auto _ : state) benchmark::DoNotOptimize(table.closest(random_id(rng), 8));
    state.counters["nodes"] = static_cast<double>(table.size());
}
BENCHMARK(BM_routing_table_closest8)->Arg(1000)->Arg(100000);

// A full node answering queries from many addresses: decode, rate limit, routing-table update,
// reply encoding. get_peers replies carry a token (HMAC-SHA-256) and 8 nodes.
void answer(benchmark::State& state, const krpc::query& q) {
    engine_options options;
    options.queries_per_second = 1e9;
    options.query_burst = 1e9;
    options.max_rate_limited_sources = 1 << 20;
    std::int64_t replies = 0;
    engine node(filled(0x80), options, 1, [&](const asio::ip::udp::endpoint&, std::string_view) { ++replies; }, bench_now);
    std::mt19937 rng(3);
    for (unsigned i = 0; i < 2000; ++i) {
        std::string packet;
        krpc::query hello{random_id(rng), krpc::ping_args{}};
        krpc::encode_query(packet, envelope, hello);
        node.receive({asio::ip::address_v4(0x0b000000u + i), 6881}, packet, bench_now);
    }
    std::string packet;
    krpc::encode_query(packet, envelope, q);
    replies = 0;
    unsigned i = 0;
    for (auto _ : state) node.receive({asio::ip::address_v4(0x0c000000u + (++i & 0xfff)), 6881}, packet, bench_now);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    if (replies < state.iterations()) state.SkipWithError("queries went unanswered");
}
void BM_engine_answer_ping(benchmark::State& state) { answer(state, ping()); }
void BM_engine_answer_get_peers(benchmark::State& state) {
    answer(state, krpc::query{filled(1), krpc::get_peers_args{filled(0x42), {}}});
}
BENCHMARK(BM_engine_answer_ping);
BENCHMARK(BM_engine_answer_get_peers);

long max_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

// The targets at 10,000 nodes: >= 99.9 % of lookups succeed, median <= 25 RPCs each.
void BM_dht_simulation(benchmark::State& state) {
    const auto nodes = static_cast<std::size_t>(state.range(0));
    const long rss_before = max_rss_kib();
    librats::dht::sim::report r;
    for (auto _ : state) r = librats::dht::sim::simulate(nodes, 2000, 500);
    state.counters["find_node_success_pct"] = 100 * r.success_rate();
    state.counters["get_peers_success_pct"] = 100 * r.peer_success_rate();
    state.counters["median_rpcs_find_node"] = r.median_queries;
    state.counters["median_rpcs_get_peers"] = r.median_peer_queries;
    state.counters["joined"] = static_cast<double>(r.joined);
    state.counters["mean_table_nodes"] = r.mean_table_size;
    state.counters["virtual_s"] = std::chrono::duration<double>(r.virtual_time).count();
    state.counters["packets"] = static_cast<double>(r.packets);
    // Peak-RSS growth over the run, per node: an upper bound of a node's footprint here.
    state.counters["peak_rss_growth_per_node_bytes"] =
        static_cast<double>(max_rss_kib() - rss_before) * 1024.0 / static_cast<double>(nodes);
}
BENCHMARK(BM_dht_simulation)->Arg(1000)->Arg(10000)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
