// librats_mdns_bench: DNS codec rates for the packets mDNS discovery exchanges most (no I/O): a
// DNS-SD response (PTR, SRV, TXT, A, as an announcement or an answer to a browse) decoded, and a
// browse query (one PTR question) encoded; and the queries an advertising engine answers per
// second. The message and the output buffer are reused across iterations, as the engine does.

#include <librats/mdns/dns.hpp>
#include <librats/mdns/engine.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace {

using namespace librats::mdns;

dns::message dns_sd_response() {
    const auto type = dns::make_name("_librats._tcp.local");
    const auto instance = dns::make_name("librats 0123abcd._librats._tcp.local");
    const auto host = dns::make_name("librats-0123abcd.local");
    dns::txt_rdata txt;
    dns::make_txt({{"id", "0123456789abcdef0123456789abcdef01234567"}, {"proto", "1"}}, txt);
    dns::message m;
    m.flags = dns::flag_response | dns::flag_authoritative;
    m.answers.push_back({type, dns::rr_type::ptr, dns::class_in, false, 4500, dns::ptr_rdata{instance}});
    m.additionals.push_back({instance, dns::rr_type::srv, dns::class_in, true, 120, dns::srv_rdata{0, 0, 8080, host}});
    m.additionals.push_back({instance, dns::rr_type::txt, dns::class_in, true, 4500, txt});
    m.additionals.push_back({host, dns::rr_type::a, dns::class_in, true, 120, asio::ip::make_address_v4("192.168.1.20")});
    return m;
}

dns::message browse_query() {
    dns::message m;
    m.questions.push_back({dns::make_name("_librats._tcp.local"), dns::rr_type::ptr, dns::class_in, false});
    return m;
}

void set_rate(benchmark::State& state, std::size_t bytes) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.counters["packet_bytes"] = static_cast<double>(bytes);
}

void BM_dns_decode_dns_sd_response(benchmark::State& state) {
    std::string packet;
    dns::encode(dns_sd_response(), packet);
    dns::message m;
    for (auto _ : state) {
        const auto ec = dns::decode(packet, m);
        if (ec) state.SkipWithError(ec.message().c_str());
        benchmark::DoNotOptimize(m.additionals.data());
    }
    set_rate(state, packet.size());
}

void BM_dns_encode_browse_query(benchmark::State& state) {
    const auto q = browse_query();
    std::string out;
    for (auto _ : state) {
        dns::encode(q, out);
        benchmark::DoNotOptimize(out.data());
    }
    set_rate(state, out.size());
}

void BM_dns_encode_dns_sd_response(benchmark::State& state) {
    const auto m = dns_sd_response();
    std::string out;
    for (auto _ : state) {
        dns::encode(m, out);
        benchmark::DoNotOptimize(out.data());
    }
    set_rate(state, out.size());
}

// A browse query from another host's resolver port each time (legacy unicast: no rate limit),
// answered with the PTR and its SRV, TXT and A.
void BM_engine_answer_browse_query(benchmark::State& state) {
    std::size_t answered = 0;
    engine e({}, 1, [&](const asio::ip::udp::endpoint&, std::string_view p) { answered += p.size(); });
    auto now = engine::time_point{} + std::chrono::hours(1);
    advertisement ad;
    ad.instance = "librats 0123abcd";
    ad.host = "librats-0123abcd";
    ad.port = 8080;
    ad.addresses = {asio::ip::make_address("192.168.1.20")};
    ad.peer_id = "0123456789abcdef0123456789abcdef01234567";
    e.advertise(ad, now);
    for (int i = 0; i < 10; ++i) {
        now += std::chrono::seconds(1);
        e.tick(now);
    }
    std::string query;
    dns::encode(browse_query(), query);
    const asio::ip::udp::endpoint from(asio::ip::make_address("192.168.1.30"), 40000);
    for (auto _ : state) e.receive(from, query, now);
    if (static_cast<std::int64_t>(e.statistics().responses_sent) < state.iterations()) state.SkipWithError("queries went unanswered");
    set_rate(state, query.size());
}

BENCHMARK(BM_dns_decode_dns_sd_response);
BENCHMARK(BM_dns_encode_browse_query);
BENCHMARK(BM_dns_encode_dns_sd_response);
BENCHMARK(BM_engine_answer_browse_query);

}  // namespace

BENCHMARK_MAIN();
