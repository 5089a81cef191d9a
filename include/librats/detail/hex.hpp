#ifndef LIBRATS_DETAIL_HEX_HPP
#define LIBRATS_DETAIL_HEX_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace librats::detail {

// Lowercase hex, as peer IDs and keys are shown.
inline std::string to_hex(const void* data, std::size_t size) {
    static constexpr char digits[] = "0123456789abcdef";
    const auto* bytes = static_cast<const unsigned char*>(data);
    std::string out(size * 2, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0xf];
    }
    return out;
}

inline std::string to_hex(std::string_view bytes) { return to_hex(bytes.data(), bytes.size()); }

// Exactly 2 * size hex digits (either case) into out; false, with out partly written, otherwise.
inline bool from_hex(std::string_view hex, unsigned char* out, std::size_t size) {
    if (hex.size() != 2 * size) return false;
    const auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < size; ++i) {
        const int high = nibble(hex[2 * i]);
        const int low = nibble(hex[2 * i + 1]);
        if (high < 0 || low < 0) return false;
        out[i] = static_cast<unsigned char>(high << 4 | low);
    }
    return true;
}

}  // namespace librats::detail

#endif
