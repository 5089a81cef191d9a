// librats_stun_bench: STUN codec rates, no I/O. Decoding RFC 5769's IPv4 Binding response
// (SOFTWARE, XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY skipped, FINGERPRINT verified with Botan's
// CRC-32) and encoding a Binding request with SOFTWARE and FINGERPRINT, as stun_client sends.
// The buffer and the message are reused across iterations, as the client does.

#include <librats/stun/message.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

namespace {

using namespace librats::stun;

const transaction_id vector_id{0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

// RFC 5769 §2.2.
const unsigned char sample_ipv4_response[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

void set_rate(benchmark::State& state, std::size_t bytes) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.counters["packet_bytes"] = static_cast<double>(bytes);
}

void BM_stun_decode_rfc5769_ipv4_response(benchmark::State& state) {
    const std::string_view packet(reinterpret_cast<const char*>(sample_ipv4_response), sizeof sample_ipv4_response);
    message m;
    for (auto _ : state) {
        const auto ec = decode(packet, m);
        if (ec || !m.has_fingerprint) state.SkipWithError("RFC 5769 response did not decode");
        benchmark::DoNotOptimize(m.xor_mapped_address);
    }
    set_rate(state, packet.size());
}

void BM_stun_encode_binding_request(benchmark::State& state) {
    std::string out;
    for (auto _ : state) {
        encode_binding_request(out, vector_id, "librats");
        benchmark::DoNotOptimize(out.data());
    }
    set_rate(state, out.size());
}

}  // namespace

BENCHMARK(BM_stun_decode_rfc5769_ipv4_response);
BENCHMARK(BM_stun_encode_binding_request);

BENCHMARK_MAIN();
