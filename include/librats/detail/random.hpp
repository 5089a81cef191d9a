#ifndef LIBRATS_DETAIL_RANDOM_HPP
#define LIBRATS_DETAIL_RANDOM_HPP

#include <cstddef>
#include <random>
#include <string>

namespace librats::detail {

// Identifiers only (never key material): std::random_device reads the OS entropy source.
inline std::string random_hex(std::size_t bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::random_device device;
    std::string out;
    out.reserve(bytes * 2);
    for (std::size_t i = 0; i < bytes; ++i) {
        const auto byte = static_cast<unsigned>(device()) & 0xffu;
        out.push_back(digits[byte >> 4]);
        out.push_back(digits[byte & 0xf]);
    }
    return out;
}

}  // namespace librats::detail

#endif
