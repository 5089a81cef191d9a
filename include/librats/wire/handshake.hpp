#ifndef LIBRATS_WIRE_HANDSHAKE_HPP
#define LIBRATS_WIRE_HANDSHAKE_HPP

// Connection set-up, sans-I/O (docs/PROTOCOL.md, "Connection set-up"): both sides first send an
// 8-byte preamble naming the protocol version and the crypto in use, then the crypto's handshake
// messages, each behind a 2-byte big-endian length (the Noise spec's framing). The hello below is
// the payload each side delivers through its handshake.

#include <librats/detail/endian.hpp>
#include <librats/error.hpp>
#include <librats/version.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace librats::wire {

inline constexpr std::size_t preamble_size = 8;
inline constexpr std::size_t max_handshake_message_size = 65535;
inline constexpr std::size_t max_hello_size = 4096;

using preamble = std::array<unsigned char, preamble_size>;

// "RATS", protocol version, crypto id, refusal (0: accepted, else an errc value such as
// max_peers_reached, after which the sender closes), one reserved zero byte.
inline preamble make_preamble(std::uint8_t crypto_id, std::uint8_t refusal = 0) noexcept {
    return {'R', 'A', 'T', 'S', static_cast<unsigned char>(protocol_version), crypto_id, refusal, 0};
}

// The handshake's prologue (docs/PROTOCOL.md, section 2): "librats", the protocol version, the
// crypto id. Binds the handshake to the protocol and the crypto both sides announced.
inline std::string handshake_prologue(std::uint8_t crypto_id) {
    std::string prologue = protocol_name;
    prologue.push_back(static_cast<char>(protocol_version));
    prologue.push_back(static_cast<char>(crypto_id));
    return prologue;
}

struct preamble_info {
    unsigned version = 0;
    std::uint8_t crypto_id = 0;
    std::uint8_t refusal = 0;
};

inline std::error_code parse_preamble(const preamble& in, preamble_info& out) noexcept {
    if (in[0] != 'R' || in[1] != 'A' || in[2] != 'T' || in[3] != 'S') return errc::bad_preamble;
    out.version = in[4];
    out.crypto_id = in[5];
    out.refusal = in[6];
    if (out.version != protocol_version) return errc::protocol_mismatch;
    return {};
}

struct hello {
    std::string protocol = protocol_name;
    unsigned version = protocol_version;
    std::string peer_id;
    std::uint16_t listen_port = 0;
    std::string agent;
    // Chosen by each side per connection; the initiator's orders duplicate connections.
    std::uint64_t nonce = 0;
};

inline std::string encode_hello(const hello& h) {
    nlohmann::json j = {{"protocol", h.protocol},
                        {"version", h.version},
                        {"peer_id", h.peer_id},
                        {"listen_port", h.listen_port},
                        {"agent", h.agent},
                        {"nonce", h.nonce}};
    return j.dump();
}

// Strict: every field present with the right type, a peer ID of 1 to 128 printable characters.
inline std::error_code parse_hello(std::string_view text, hello& out) {
    if (text.size() > max_hello_size) return errc::bad_hello;
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return errc::bad_hello;
    const auto protocol = j.find("protocol");
    const auto version = j.find("version");
    const auto peer_id = j.find("peer_id");
    const auto port = j.find("listen_port");
    if (protocol == j.end() || !protocol->is_string() || version == j.end() || !version->is_number_unsigned() ||
        peer_id == j.end() || !peer_id->is_string() || port == j.end() || !port->is_number_unsigned())
        return errc::bad_hello;
    out.protocol = protocol->get<std::string>();
    // Compared at full width: get<unsigned>() would truncate, so 2^32 + 1 would pass as version 1.
    const auto version_value = version->get<std::uint64_t>();
    if (out.protocol != protocol_name || version_value != protocol_version) return errc::protocol_mismatch;
    out.version = static_cast<unsigned>(version_value);
    out.peer_id = peer_id->get<std::string>();
    if (out.peer_id.empty() || out.peer_id.size() > 128) return errc::bad_hello;
    for (const unsigned char c : out.peer_id)
        if (c <= 0x20 || c >= 0x7f) return errc::bad_hello;
    const auto port_value = port->get<std::uint64_t>();
    if (port_value > 65535) return errc::bad_hello;
    out.listen_port = static_cast<std::uint16_t>(port_value);
    const auto agent = j.find("agent");
    out.agent = agent != j.end() && agent->is_string() ? agent->get<std::string>() : std::string();
    const auto nonce = j.find("nonce");
    if (nonce == j.end() || !nonce->is_number_unsigned()) return errc::bad_hello;
    out.nonce = nonce->get<std::uint64_t>();
    return {};
}

}  // namespace librats::wire

#endif
