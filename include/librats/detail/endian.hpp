#ifndef LIBRATS_DETAIL_ENDIAN_HPP
#define LIBRATS_DETAIL_ENDIAN_HPP

#include <cstdint>

namespace librats::detail {

// Network byte order, byte by byte: alignment-free and compiled to a bswap.
inline void put_u16(unsigned char* out, std::uint16_t v) noexcept {
    out[0] = static_cast<unsigned char>(v >> 8);
    out[1] = static_cast<unsigned char>(v);
}
inline void put_u32(unsigned char* out, std::uint32_t v) noexcept {
    out[0] = static_cast<unsigned char>(v >> 24);
    out[1] = static_cast<unsigned char>(v >> 16);
    out[2] = static_cast<unsigned char>(v >> 8);
    out[3] = static_cast<unsigned char>(v);
}
inline std::uint16_t get_u16(const unsigned char* in) noexcept {
    return static_cast<std::uint16_t>((in[0] << 8) | in[1]);
}
inline std::uint32_t get_u32(const unsigned char* in) noexcept {
    return (std::uint32_t{in[0]} << 24) | (std::uint32_t{in[1]} << 16) | (std::uint32_t{in[2]} << 8) | in[3];
}

}  // namespace librats::detail

#endif
