#ifndef LIBRATS_STUN_MESSAGE_HPP
#define LIBRATS_STUN_MESSAGE_HPP

// STUN messages (RFC 8489 §5, §14): the header, and the attributes a Binding client and a
// minimal Binding server need. Sans-I/O: bytes in, bytes out. A decoded message owns its
// contents (text attributes are copied), so the packet may go once decode() returns.

#include <librats/detail/endian.hpp>
#include <librats/stun/error.hpp>

#include <asio/ip/address.hpp>
#include <asio/ip/udp.hpp>

#include <botan/hash.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace librats::stun {

inline constexpr std::size_t header_size = 20;
inline constexpr std::size_t attribute_header_size = 4;
inline constexpr std::uint32_t magic_cookie = 0x2112A442;
// FINGERPRINT is the message's CRC-32 XORed with "STUN" (§14.7), so that it differs from the
// CRC of protocols sharing the port.
inline constexpr std::uint32_t fingerprint_xor = 0x5354554E;
inline constexpr std::size_t fingerprint_attribute_size = attribute_header_size + 4;
// USERNAME is under 513 bytes; SOFTWARE, REALM, NONCE and the reason phrase under 128
// characters, 763 bytes (§14.3, §14.8, §14.9, §14.10).
inline constexpr std::size_t max_username_size = 513;
inline constexpr std::size_t max_text_size = 763;
inline constexpr std::uint16_t binding = 0x001;

using transaction_id = std::array<unsigned char, 12>;

enum class message_class : std::uint8_t { request = 0, indication = 1, success_response = 2, error_response = 3 };

// Attribute types (§18.3). An agent must understand every type below 0x8000 it receives or
// reject the message; it skips unknown types from 0x8000 on.
namespace attribute {
inline constexpr std::uint16_t mapped_address = 0x0001;
inline constexpr std::uint16_t username = 0x0006;
inline constexpr std::uint16_t message_integrity = 0x0008;
inline constexpr std::uint16_t error_code = 0x0009;
inline constexpr std::uint16_t unknown_attributes = 0x000A;
inline constexpr std::uint16_t realm = 0x0014;
inline constexpr std::uint16_t nonce = 0x0015;
inline constexpr std::uint16_t message_integrity_sha256 = 0x001C;
inline constexpr std::uint16_t xor_mapped_address = 0x0020;
inline constexpr std::uint16_t software = 0x8022;
inline constexpr std::uint16_t fingerprint = 0x8028;

inline constexpr bool comprehension_required(std::uint16_t type) noexcept { return type < 0x8000; }
}  // namespace attribute

// The message type interleaves the 12-bit method with the 2 class bits C0 (bit 4) and C1
// (bit 8) (§5, figure 3).
inline constexpr std::uint16_t message_type(std::uint16_t method, message_class cls) noexcept {
    const auto c = static_cast<unsigned>(cls);
    return static_cast<std::uint16_t>((method & 0x000Fu) | ((method & 0x0070u) << 1) | ((method & 0x0F80u) << 2) |
                                      ((c & 1u) << 4) | ((c & 2u) << 7));
}
inline constexpr std::uint16_t method_of(std::uint16_t type) noexcept {
    return static_cast<std::uint16_t>((type & 0x000Fu) | ((type & 0x00E0u) >> 1) | ((type & 0x3E00u) >> 2));
}
inline constexpr message_class class_of(std::uint16_t type) noexcept {
    return static_cast<message_class>(((type >> 4) & 1u) | ((type >> 7) & 2u));
}

struct message_header {
    std::uint16_t method = 0;
    message_class cls = message_class::request;
    std::uint16_t length = 0;  // of the attributes, after the header
    transaction_id id{};
};

// ERROR-CODE: code is class * 100 + number, 300 to 699 (§14.8).
struct error_status {
    int code = 0;
    std::string reason;
};

struct message {
    message_header header;
    std::optional<asio::ip::udp::endpoint> xor_mapped_address;
    std::optional<asio::ip::udp::endpoint> mapped_address;
    std::optional<error_status> error;
    std::optional<std::string> software;
    std::vector<std::uint16_t> unknown_attributes;     // UNKNOWN-ATTRIBUTES: types the peer did not know
    std::vector<std::uint16_t> unrecognized_required;  // comprehension-required types we do not know
    bool has_message_integrity = false;                // present; not verified (no credentials here)
    bool has_fingerprint = false;                      // present, last and verified

    // XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS, which RFC 3489 servers send instead (§14.1).
    std::optional<asio::ip::udp::endpoint> mapped() const { return xor_mapped_address ? xor_mapped_address : mapped_address; }
};

namespace detail {

// The CRC-32 of ISO 3309 that FINGERPRINT uses, from Botan. One object per thread: create()
// looks the algorithm up by name each time.
inline std::uint32_t crc32(const unsigned char* data, std::size_t size) {
    thread_local const std::unique_ptr<Botan::HashFunction> crc = Botan::HashFunction::create_or_throw("CRC32");
    crc->update(data, size);
    unsigned char digest[4];
    crc->final(digest);
    return librats::detail::get_u32(digest);  // Botan writes the CRC big-endian, as FINGERPRINT carries it
}

inline std::uint16_t xor_port(std::uint16_t port) noexcept { return static_cast<std::uint16_t>(port ^ (magic_cookie >> 16)); }

// The XOR pad of an address: the cookie, then for IPv6 the transaction ID (§14.2).
inline std::array<unsigned char, 16> address_pad(const transaction_id& id) noexcept {
    std::array<unsigned char, 16> pad{};
    librats::detail::put_u32(pad.data(), magic_cookie);
    std::memcpy(pad.data() + 4, id.data(), id.size());
    return pad;
}

// The value of MAPPED-ADDRESS or XOR-MAPPED-ADDRESS: reserved byte, family, port, address.
inline std::error_code decode_address(const unsigned char* value, std::size_t size, bool xored, const transaction_id& id,
                                      asio::ip::udp::endpoint& out) {
    if (size < 4) return errc::bad_attribute_length;
    const unsigned char family = value[1];
    std::size_t address_size = 0;
    if (family == 0x01) {
        address_size = 4;
    } else if (family == 0x02) {
        address_size = 16;
    } else {
        return errc::bad_address_family;
    }
    if (size != 4 + address_size) return errc::bad_attribute_length;
    std::uint16_t port = librats::detail::get_u16(value + 2);
    std::array<unsigned char, 16> bytes{};
    std::memcpy(bytes.data(), value + 4, address_size);
    if (xored) {
        port = xor_port(port);
        const auto pad = address_pad(id);
        for (std::size_t i = 0; i < address_size; ++i) bytes[i] ^= pad[i];
    }
    if (family == 0x01) {
        asio::ip::address_v4::bytes_type v4;
        std::memcpy(v4.data(), bytes.data(), v4.size());
        out = {asio::ip::address_v4(v4), port};
    } else {
        asio::ip::address_v6::bytes_type v6;
        std::memcpy(v6.data(), bytes.data(), v6.size());
        out = {asio::ip::address_v6(v6), port};
    }
    return {};
}

inline std::error_code decode_error_code(const unsigned char* value, std::size_t size, error_status& out) {
    if (size < 4 || size - 4 > max_text_size) return errc::bad_attribute_length;
    const int error_class = value[2] & 0x07;
    const int number = value[3];
    if (error_class < 3 || error_class > 6 || number > 99) return errc::bad_error_code;
    out.code = error_class * 100 + number;
    out.reason.assign(reinterpret_cast<const char*>(value + 4), size - 4);
    return {};
}

inline void reset(message& m) {
    m.header = {};
    m.xor_mapped_address.reset();
    m.mapped_address.reset();
    m.error.reset();
    m.software.reset();
    m.unknown_attributes.clear();  // clear() keeps the capacity of a reused message
    m.unrecognized_required.clear();
    m.has_message_integrity = false;
    m.has_fingerprint = false;
}

}  // namespace detail

// The 20-byte header, with the datagram's size checked against the length it announces.
inline std::error_code decode_header(std::string_view packet, message_header& out) {
    if (packet.size() < header_size) return errc::truncated_header;
    const auto* bytes = reinterpret_cast<const unsigned char*>(packet.data());
    const std::uint16_t type = librats::detail::get_u16(bytes);
    if (type & 0xC000u) return errc::not_stun;
    if (librats::detail::get_u32(bytes + 4) != magic_cookie) return errc::bad_magic_cookie;
    const std::uint16_t length = librats::detail::get_u16(bytes + 2);
    if (length % 4 != 0) return errc::bad_message_length;
    if (header_size + length != packet.size()) return errc::length_mismatch;
    out.method = method_of(type);
    out.cls = class_of(type);
    out.length = length;
    std::memcpy(out.id.data(), bytes + 8, out.id.size());
    return {};
}

// A whole message. On unknown_required_attribute everything else was read, and
// out.unrecognized_required lists the types (a server answers 420 with them, §6.3.1.1).
// The first of repeated attributes counts (§14); attributes after MESSAGE-INTEGRITY other than
// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are ignored (§14.5).
inline std::error_code decode(std::string_view packet, message& out) {
    detail::reset(out);
    if (auto ec = decode_header(packet, out.header)) return ec;
    const auto* bytes = reinterpret_cast<const unsigned char*>(packet.data());
    const std::size_t end = packet.size();
    bool after_integrity = false;
    // end and every attribute start are multiples of 4, so an attribute header always fits and
    // an attribute whose value fits also fits its padding.
    for (std::size_t at = header_size; at < end;) {
        const std::uint16_t type = librats::detail::get_u16(bytes + at);
        const std::size_t size = librats::detail::get_u16(bytes + at + 2);
        const std::size_t value_at = at + attribute_header_size;
        if (size > end - value_at) return errc::attribute_past_end;
        const unsigned char* value = bytes + value_at;
        const std::size_t next = value_at + ((size + 3) & ~std::size_t{3});

        if (type == attribute::fingerprint) {
            if (size != 4) return errc::bad_attribute_length;
            if (next != end) return errc::fingerprint_not_last;
            // The header's length already counts FINGERPRINT, as its CRC requires.
            if ((detail::crc32(bytes, at) ^ fingerprint_xor) != librats::detail::get_u32(value)) return errc::bad_fingerprint;
            out.has_fingerprint = true;
        } else if (type == attribute::message_integrity_sha256) {
            if (size < 16 || size > 32 || size % 4 != 0) return errc::bad_attribute_length;
            out.has_message_integrity = true;
            after_integrity = true;
        } else if (!after_integrity) {
            switch (type) {
            case attribute::xor_mapped_address:
            case attribute::mapped_address: {
                const bool xored = type == attribute::xor_mapped_address;
                asio::ip::udp::endpoint address;
                if (auto ec = detail::decode_address(value, size, xored, out.header.id, address)) return ec;
                auto& slot = xored ? out.xor_mapped_address : out.mapped_address;
                if (!slot) slot = address;
                break;
            }
            case attribute::error_code: {
                error_status status;
                if (auto ec = detail::decode_error_code(value, size, status)) return ec;
                if (!out.error) out.error = std::move(status);
                break;
            }
            case attribute::software:
                if (size > max_text_size) return errc::bad_attribute_length;
                if (!out.software) out.software.emplace(reinterpret_cast<const char*>(value), size);
                break;
            case attribute::unknown_attributes:
                if (size % 2 != 0) return errc::bad_attribute_length;
                if (out.unknown_attributes.empty())
                    for (std::size_t i = 0; i < size; i += 2)
                        out.unknown_attributes.push_back(librats::detail::get_u16(value + i));
                break;
            case attribute::message_integrity:
                if (size != 20) return errc::bad_attribute_length;
                out.has_message_integrity = true;
                after_integrity = true;
                break;
            // Authentication attributes: understood as far as a client without credentials needs,
            // so a 401 error response reads as one.
            case attribute::username:
                if (size > max_username_size) return errc::bad_attribute_length;
                break;
            case attribute::realm:
            case attribute::nonce:
                if (size > max_text_size) return errc::bad_attribute_length;
                break;
            default:
                if (attribute::comprehension_required(type) &&
                    std::find(out.unrecognized_required.begin(), out.unrecognized_required.end(), type) ==
                        out.unrecognized_required.end())
                    out.unrecognized_required.push_back(type);
            }
        }
        at = next;
    }
    if (!out.unrecognized_required.empty()) return errc::unknown_required_attribute;
    return {};
}

// Appends one message to a buffer, attribute by attribute; finish() completes it. Attribute
// values must be under 64 KiB and the whole message too (the length field has 16 bits).
class message_writer {
public:
    message_writer(std::string& out, std::uint16_t method, message_class cls, const transaction_id& id)
        : out_(out), start_(out.size()), id_(id) {
        unsigned char header[header_size];
        librats::detail::put_u16(header, message_type(method, cls));
        librats::detail::put_u16(header + 2, 0);
        librats::detail::put_u32(header + 4, magic_cookie);
        std::memcpy(header + 8, id.data(), id.size());
        out_.append(reinterpret_cast<const char*>(header), header_size);
    }

    message_writer(const message_writer&) = delete;
    message_writer& operator=(const message_writer&) = delete;

    // Any attribute, zero-padded to 4 bytes.
    void add(std::uint16_t type, std::string_view value) {
        unsigned char head[attribute_header_size];
        librats::detail::put_u16(head, type);
        librats::detail::put_u16(head + 2, static_cast<std::uint16_t>(value.size()));
        out_.append(reinterpret_cast<const char*>(head), sizeof head);
        out_.append(value);
        out_.append((4 - value.size() % 4) % 4, '\0');
    }

    void add_xor_mapped_address(const asio::ip::udp::endpoint& endpoint) { add_address(attribute::xor_mapped_address, endpoint, true); }
    void add_mapped_address(const asio::ip::udp::endpoint& endpoint) { add_address(attribute::mapped_address, endpoint, false); }

    // code from 300 to 699.
    void add_error_code(int code, std::string_view reason) {
        std::string value(4, '\0');
        value[2] = static_cast<char>(code / 100);
        value[3] = static_cast<char>(code % 100);
        value.append(reason);
        add(attribute::error_code, value);
    }

    void add_software(std::string_view software) { add(attribute::software, software); }

    // Sets the length and, when asked, appends FINGERPRINT over everything before it.
    void finish(bool fingerprint) {
        const std::size_t body = out_.size() - start_ - header_size;
        set_length(body + (fingerprint ? fingerprint_attribute_size : 0));
        if (!fingerprint) return;
        const auto crc = detail::crc32(reinterpret_cast<const unsigned char*>(out_.data()) + start_, out_.size() - start_);
        unsigned char value[4];
        librats::detail::put_u32(value, crc ^ fingerprint_xor);
        add(attribute::fingerprint, {reinterpret_cast<const char*>(value), sizeof value});
    }

private:
    void add_address(std::uint16_t type, const asio::ip::udp::endpoint& endpoint, bool xored) {
        const auto& address = endpoint.address();
        std::array<unsigned char, 16> bytes{};
        std::size_t address_size = 4;
        if (address.is_v4()) {
            const auto v4 = address.to_v4().to_bytes();
            std::memcpy(bytes.data(), v4.data(), v4.size());
        } else {
            const auto v6 = address.to_v6().to_bytes();
            std::memcpy(bytes.data(), v6.data(), v6.size());
            address_size = 16;
        }
        std::uint16_t port = endpoint.port();
        if (xored) {
            port = detail::xor_port(port);
            const auto pad = detail::address_pad(id_);
            for (std::size_t i = 0; i < address_size; ++i) bytes[i] ^= pad[i];
        }
        unsigned char value[20] = {0, static_cast<unsigned char>(address_size == 4 ? 0x01 : 0x02)};
        librats::detail::put_u16(value + 2, port);
        std::memcpy(value + 4, bytes.data(), address_size);
        add(type, {reinterpret_cast<const char*>(value), 4 + address_size});
    }

    void set_length(std::size_t length) {
        librats::detail::put_u16(reinterpret_cast<unsigned char*>(&out_[start_ + 2]), static_cast<std::uint16_t>(length));
    }

    std::string& out_;
    std::size_t start_;
    transaction_id id_;
};

// The encoders replace out's contents.

inline void encode_binding_request(std::string& out, const transaction_id& id, std::string_view software = {},
                                   bool fingerprint = true) {
    out.clear();
    message_writer w(out, binding, message_class::request, id);
    if (!software.empty()) w.add_software(software);
    w.finish(fingerprint);
}

inline void encode_binding_success(std::string& out, const transaction_id& id, const asio::ip::udp::endpoint& mapped,
                                   std::string_view software = {}, bool fingerprint = true) {
    out.clear();
    message_writer w(out, binding, message_class::success_response, id);
    w.add_xor_mapped_address(mapped);
    if (!software.empty()) w.add_software(software);
    w.finish(fingerprint);
}

inline void encode_binding_error(std::string& out, const transaction_id& id, int code, std::string_view reason,
                                 std::string_view software = {}, bool fingerprint = true) {
    out.clear();
    message_writer w(out, binding, message_class::error_response, id);
    w.add_error_code(code, reason);
    if (!software.empty()) w.add_software(software);
    w.finish(fingerprint);
}

}  // namespace librats::stun

#endif
