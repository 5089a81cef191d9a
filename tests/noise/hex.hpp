#ifndef LIBRATS_TESTS_NOISE_HEX_HPP
#define LIBRATS_TESTS_NOISE_HEX_HPP

// Hex of any length for the test vectors, on top of librats' own hex helpers.

#include <librats/detail/hex.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace librats::test {

// Even-length hex (the vectors' format) to bytes; throws on anything else.
inline std::string from_hex(std::string_view hex) {
    std::string out(hex.size() / 2, '\0');
    if (!detail::from_hex(hex, reinterpret_cast<unsigned char*>(out.data()), out.size()))
        throw std::invalid_argument("not hex: " + std::string(hex));
    return out;
}

template <class Bytes>
std::string to_hex_bytes(const Bytes& bytes) {
    return detail::to_hex(bytes.data(), bytes.size());
}

}  // namespace librats::test

#endif
