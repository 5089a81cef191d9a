// libFuzzer target: the connection set-up parsers of include/librats/wire/handshake.hpp:
// parse_preamble on the first 8 bytes, parse_hello on the rest.
//
// Invariants: an accepted hello satisfies the documented constraints (peer ID of 1 to 128
// printable characters, the protocol name and version, the numbers exactly as sent, not
// narrowed), and encode_hello of it parses back to the same fields.

#include "fuzz_common.hpp"

#include <librats/wire/handshake.hpp>

#include <nlohmann/json.hpp>

#include <cstring>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace librats;
    if (size >= wire::preamble_size) {
        wire::preamble p;
        std::memcpy(p.data(), data, p.size());
        wire::preamble_info info;
        if (!wire::parse_preamble(p, info)) {
            FUZZ_CHECK(info.version == protocol_version);
            // make_preamble of what was read gives the same bytes but the reserved one.
            const auto again = wire::make_preamble(info.crypto_id, info.refusal);
            FUZZ_CHECK(std::memcmp(again.data(), p.data(), 7) == 0);
        }
    }

    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const std::string_view candidate : {text, size >= wire::preamble_size ? text.substr(wire::preamble_size) : text}) {
        wire::hello h;
        if (wire::parse_hello(candidate, h)) continue;
        FUZZ_CHECK(candidate.size() <= wire::max_hello_size);
        FUZZ_CHECK(h.protocol == protocol_name && h.version == protocol_version);
        FUZZ_CHECK(!h.peer_id.empty() && h.peer_id.size() <= 128);
        for (const unsigned char c : h.peer_id) FUZZ_CHECK(c > 0x20 && c < 0x7f);
        // The numbers as sent, read without narrowing: what was accepted is what the peer said.
        const auto j = nlohmann::json::parse(candidate, nullptr, false);
        FUZZ_CHECK(j.at("version").get<std::uint64_t>() == protocol_version);
        FUZZ_CHECK(j.at("listen_port").get<std::uint64_t>() == h.listen_port);
        FUZZ_CHECK(j.at("nonce").get<std::uint64_t>() == h.nonce);

        const std::string encoded = wire::encode_hello(h);
        wire::hello back;
        if (encoded.size() <= wire::max_hello_size) {
            FUZZ_CHECK(!wire::parse_hello(encoded, back));
            FUZZ_CHECK(back.peer_id == h.peer_id && back.listen_port == h.listen_port && back.agent == h.agent &&
                       back.nonce == h.nonce);
        }
    }
    return 0;
}
