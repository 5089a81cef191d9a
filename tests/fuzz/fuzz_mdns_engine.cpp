// libFuzzer target: the mDNS / DNS-SD engine (include/librats/mdns/engine.hpp) fed hostile
// packets with a virtual clock.
//
// Setup (fixed): an IPv4 engine, seed 7, advertising "node" on host "host-a" (10.0.0.1,
// _librats._tcp) and browsing. Input byte 0 picks small limits, and whether to advertise and
// browse. The rest is up to 64 packets separated by DE AD BE EF; each packet's first byte picks
// the source (bits 0-2: one of eight fixed endpoints, port 5353 or not, one IPv6), the clock step
// (bits 3-5), and whether the engine's own latest packet is looped back first (bit 6, as
// IP_MULTICAST_LOOP does); the rest is the datagram. tick() runs whenever the clock passes
// next_deadline().
//
// Invariants: every packet sent decodes as DNS; the cache and the services stay within their
// limits; a service reported resolved has its instance under the browsed type.

#include "fuzz_common.hpp"

#include <librats/mdns/dns.hpp>
#include <librats/mdns/engine.hpp>

#include <array>
#include <chrono>
#include <string>

namespace {

using namespace librats::mdns;
using namespace std::chrono_literals;
using udp = asio::ip::udp;

const std::array<udp::endpoint, 8>& sources() {
    static const std::array<udp::endpoint, 8> e = {
        udp::endpoint(asio::ip::make_address("10.0.0.2"), 5353),
        udp::endpoint(asio::ip::make_address("10.0.0.3"), 5353),
        udp::endpoint(asio::ip::make_address("10.0.0.2"), 40000),  // legacy unicast querier
        udp::endpoint(asio::ip::make_address("10.0.0.1"), 5353),   // our own address
        udp::endpoint(asio::ip::make_address("169.254.1.1"), 5353),
        udp::endpoint(asio::ip::make_address("10.0.0.4"), 5353),
        udp::endpoint(asio::ip::make_address("fe80::1"), 5353),    // wrong family
        udp::endpoint(asio::ip::make_address("10.0.0.5"), 1),
    };
    return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    librats_fuzz::reader in(data, size);
    const std::uint8_t config = in.u8();
    engine_options o;
    if (config & 1) {
        o.max_cache_records = 8;
        o.max_services = 2;
        o.max_packet_size = 512;
        o.max_received_packet_size = 1500;
    }
    const bool advertise = !(config & 2);
    const bool browse = !(config & 4);

    std::string last_sent;
    dns::message decoded;
    std::size_t events = 0;
    engine e(o, 7, [&](const udp::endpoint& to, std::string_view packet) {
        FUZZ_CHECK(!to.address().is_v6());
        FUZZ_CHECK(!dns::decode(packet, decoded));  // whatever we send is valid DNS
        last_sent.assign(packet);
    });
    const auto t0 = engine::time_point{} + 24h;
    auto now = t0;
    if (advertise) {
        advertisement ad;
        ad.instance = "node";
        ad.host = "host-a";
        ad.port = 4000;
        ad.addresses = {asio::ip::make_address("10.0.0.1"), asio::ip::make_address("fe80::1")};
        ad.txt = {{"proto", "1"}};
        ad.peer_id = "peer-a";
        FUZZ_CHECK(!e.advertise(std::move(ad), now));
    }
    if (browse) {
        e.browse(
            [&](service_event, const service& s) {
                ++events;
                FUZZ_CHECK(s.instance.labels().size() >= 4);  // <label>._librats._tcp.local
            },
            now);
    }

    static constexpr engine::clock::duration steps[] = {0ms, 20ms, 250ms, 1s, 5s, 100s, 30min, 3h};
    const auto& src = sources();
    for (const std::string_view raw : librats_fuzz::split_packets(in.rest())) {
        if (raw.empty()) continue;
        const auto header = static_cast<std::uint8_t>(raw[0]);
        now += steps[(header >> 3) & 7];
        if ((header & 0x40) && !last_sent.empty()) {
            const std::string own = last_sent;
            e.receive(src[3], own, now);
        }
        e.receive(src[header & 7], raw.substr(1), now);
        if (now >= e.next_deadline()) e.tick(now);
        if (header & 0x80) {
            now = std::max(now, e.next_deadline() == engine::time_point::max() ? now : e.next_deadline());
            e.tick(now);
        }
        FUZZ_CHECK(e.cached_records() <= o.max_cache_records);
        FUZZ_CHECK(e.services().size() <= o.max_services);
    }
    e.stop();
    return 0;
}
