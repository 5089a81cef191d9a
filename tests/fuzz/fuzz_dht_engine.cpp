// libFuzzer target: the whole DHT engine (include/librats/dht/engine.hpp) fed hostile packets.
//
// Setup (fixed): an IPv4 engine with a fixed ID and seed, time starting at t0; it bootstraps
// through two fixed endpoints and starts a get_peers and an announce, so it has queries in
// flight. Input byte 0 picks the options (small limits or the defaults, read-only). The rest is
// up to 64 packets separated by DE AD BE EF; each packet's first byte picks the source (one of
// eight fixed endpoints, one of them IPv6 and one with port 0) and how far the virtual clock
// moves, the rest is the datagram. In a datagram, "1:t2:##" is replaced by the transaction ID
// of the engine's latest query to that source, so responses can match. tick() runs whenever
// the clock passes next_deadline().
//
// Invariants: every packet the engine sends decodes as KRPC; the state stays bounded
// (transactions, rate-limit sources, stored peers, routing table, lookups).

#include "fuzz_common.hpp"

#include <librats/dht/engine.hpp>
#include <librats/dht/krpc.hpp>

#include <array>
#include <chrono>
#include <map>
#include <string>

namespace {

using namespace librats::dht;
using namespace std::chrono_literals;
using udp = asio::ip::udp;

const engine::time_point t0 = engine::time_point{} + 24h;

node_id make_id(unsigned char fill) {
    std::string raw(node_id::size, static_cast<char>(fill));
    raw[19] = 1;
    return *node_id::from_bytes(raw);
}

const std::array<udp::endpoint, 8>& sources() {
    static const std::array<udp::endpoint, 8> e = {
        udp::endpoint(asio::ip::make_address("10.0.0.1"), 6881),
        udp::endpoint(asio::ip::make_address("10.0.0.2"), 6881),
        udp::endpoint(asio::ip::make_address("10.0.0.3"), 6881),
        udp::endpoint(asio::ip::make_address("10.0.0.1"), 7000),
        udp::endpoint(asio::ip::make_address("192.168.1.1"), 1),
        udp::endpoint(asio::ip::make_address("127.0.0.1"), 65535),
        udp::endpoint(asio::ip::make_address("::1"), 6881),       // wrong family
        udp::endpoint(asio::ip::make_address("10.0.0.9"), 0),     // port 0
    };
    return e;
}

struct harness {
    std::map<udp::endpoint, std::string> last_tid;  // of our latest query to each endpoint
    bencode::document scratch;
    krpc::message decoded;
    std::size_t sent = 0;
    std::size_t handler_calls = 0;

    void on_send(const udp::endpoint& to, std::string_view packet) {
        ++sent;
        FUZZ_CHECK(!to.address().is_v6());  // an IPv4 node
        FUZZ_CHECK(to.port() != 0);
        FUZZ_CHECK(!krpc::decode(packet, scratch, decoded));  // whatever we send is valid KRPC
        if (decoded.type == krpc::message_type::query) last_tid[to] = std::string(decoded.transaction_id);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    librats_fuzz::reader in(data, size);
    const std::uint8_t config = in.u8();
    engine_options o;
    if (config & 1) {
        o.k = 2;
        o.alpha = 1;
        o.max_lookup_candidates = 4;
        o.max_transactions = 4;
        o.max_rate_limited_sources = 2;
        o.query_burst = 2;
        o.max_values_per_reply = 2;
        o.max_peers_per_lookup = 3;
        o.store.max_info_hashes = 2;
        o.store.max_peers_per_hash = 2;
        o.max_packet_size = 512;
    }
    o.read_only = (config & 2) != 0;

    harness h;
    auto now = t0;
    engine e(make_id(0x80), o, 42, [&h](const udp::endpoint& to, std::string_view p) { h.on_send(to, p); }, now);
    const auto& src = sources();
    e.bootstrap({src[0], src[1]}, now, [&](const lookup_result&) { ++h.handler_calls; });
    e.get_peers(make_id(0x11), now, [&](const lookup_result& r) {
        ++h.handler_calls;
        // Handlers may call back into the engine.
        if (h.handler_calls < 4) e.find_node(r.target, now, [&](const lookup_result&) { ++h.handler_calls; });
    });
    e.announce(make_id(0x22), (config & 4) ? 0 : 6881, now, [&](std::size_t, const lookup_result&) { ++h.handler_calls; });
    e.ping(src[2], now);

    static constexpr engine::clock::duration steps[] = {0ms, 10ms, 500ms, 1s, 5s, 11s, 60s, 16min};
    for (const std::string_view raw : librats_fuzz::split_packets(in.rest())) {
        if (raw.empty()) continue;
        const auto header = static_cast<std::uint8_t>(raw[0]);
        const auto& from = src[header & 7];
        const std::uint8_t step = (header >> 3) & 7;
        std::string packet(raw.substr(1));
        const auto marker = packet.find("1:t2:##");
        if (marker != std::string::npos) {
            const auto it = h.last_tid.find(from);
            if (it != h.last_tid.end() && it->second.size() == 2) packet.replace(marker + 5, 2, it->second);
        }
        now += steps[step];
        e.receive(from, packet, now);
        if (header & 0x40) now = std::max(now, e.next_deadline());
        if (now >= e.next_deadline()) e.tick(now);

        FUZZ_CHECK(e.outstanding_queries() <= o.max_transactions);
        FUZZ_CHECK(e.tracked_sources() <= o.max_rate_limited_sources);
        FUZZ_CHECK(e.store().info_hashes() <= o.store.max_info_hashes);
        FUZZ_CHECK(e.store().peers() <= o.store.max_info_hashes * o.store.max_peers_per_hash);
        FUZZ_CHECK(e.table().bucket_count() <= routing_table::max_buckets);
        FUZZ_CHECK(e.table().size() <= e.table().bucket_count() * o.k);
        for (std::size_t b = 0; b < e.table().bucket_count(); ++b) FUZZ_CHECK(e.table().replacement_count(b) <= o.k);
        FUZZ_CHECK(e.active_lookups() <= 8 + 2 * routing_table::max_buckets);
    }
    // Let every query time out: the lookups finish and nothing stays in flight.
    for (int i = 0; i < 8 && e.outstanding_queries() > 0; ++i) {
        now = std::max(now + 1s, e.next_deadline());
        e.tick(now);
    }
    return 0;
}
