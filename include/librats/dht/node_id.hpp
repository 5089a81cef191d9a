#ifndef LIBRATS_DHT_NODE_ID_HPP
#define LIBRATS_DHT_NODE_ID_HPP

// BEP 5 identifiers: 160-bit node IDs and infohashes, the XOR metric, and a node's contact
// (ID + UDP endpoint). Sans-I/O: no sockets here.

#include <librats/detail/hex.hpp>

#include <asio/ip/udp.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace librats::dht {

class node_id {
public:
    static constexpr std::size_t size = 20;
    using bytes_type = std::array<std::uint8_t, size>;

    constexpr node_id() noexcept = default;
    explicit node_id(const bytes_type& bytes) noexcept : bytes_(bytes) {}

    // Exactly 20 raw bytes (as in KRPC messages), or nothing.
    static std::optional<node_id> from_bytes(std::string_view raw) {
        if (raw.size() != size) return std::nullopt;
        node_id id;
        std::memcpy(id.bytes_.data(), raw.data(), size);
        return id;
    }
    // Exactly 40 hex digits, or nothing.
    static std::optional<node_id> from_hex(std::string_view hex) {
        node_id id;
        if (!detail::from_hex(hex, id.bytes_.data(), size)) return std::nullopt;
        return id;
    }

    const bytes_type& bytes() const noexcept { return bytes_; }
    bytes_type& bytes() noexcept { return bytes_; }
    std::string_view view() const noexcept { return {reinterpret_cast<const char*>(bytes_.data()), size}; }
    std::string to_hex() const { return detail::to_hex(bytes_.data(), size); }

    // Bit i, counted from the most significant bit of the first byte (bit 0).
    bool bit(std::size_t i) const noexcept { return (bytes_[i / 8] >> (7 - i % 8)) & 1; }

    friend node_id operator^(const node_id& a, const node_id& b) noexcept {
        node_id d;
        for (std::size_t i = 0; i < size; ++i) d.bytes_[i] = a.bytes_[i] ^ b.bytes_[i];
        return d;
    }
    // Big-endian order: as distances, smaller is closer.
    friend bool operator<(const node_id& a, const node_id& b) noexcept { return a.bytes_ < b.bytes_; }
    friend bool operator==(const node_id& a, const node_id& b) noexcept { return a.bytes_ == b.bytes_; }
    friend bool operator!=(const node_id& a, const node_id& b) noexcept { return !(a == b); }

private:
    bytes_type bytes_{};
};

// Number of leading bits a and b share (160 if equal): the bucket index of b seen from a.
inline std::size_t common_prefix_length(const node_id& a, const node_id& b) noexcept {
    const auto d = a ^ b;
    for (std::size_t i = 0; i < node_id::size; ++i) {
        const auto byte = d.bytes()[i];
        if (byte == 0) continue;
        std::size_t n = i * 8;
        for (int bit = 7; bit >= 0 && !((byte >> bit) & 1); --bit) ++n;
        return n;
    }
    return node_id::size * 8;
}

// True if a is closer to target than b.
inline bool closer_to(const node_id& target, const node_id& a, const node_id& b) noexcept {
    return (a ^ target) < (b ^ target);
}

// A DHT node as others know it.
struct node_contact {
    node_id id;
    asio::ip::udp::endpoint endpoint;

    friend bool operator==(const node_contact& a, const node_contact& b) noexcept {
        return a.id == b.id && a.endpoint == b.endpoint;
    }
};

}  // namespace librats::dht

#endif
