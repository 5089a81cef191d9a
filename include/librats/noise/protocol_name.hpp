#ifndef LIBRATS_NOISE_PROTOCOL_NAME_HPP
#define LIBRATS_NOISE_PROTOCOL_NAME_HPP

// The protocol name of §8, "Noise_XX_25519_ChaChaPoly_SHA256", from a pattern and a suite's
// names; constexpr, so a fixed composition spells its name at compile time:
//
//   constexpr auto name = make_protocol_name<botan_suite<sha256>>(patterns::XX);

#include <librats/noise/pattern.hpp>

#include <cstddef>
#include <string_view>

namespace librats::noise {

class protocol_name {
public:
    static constexpr std::size_t max_size = 255;  // §8

    constexpr std::string_view view() const noexcept { return {chars_, size_}; }
    constexpr const char* c_str() const noexcept { return chars_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }

    // Empty if the name would exceed max_size.
    static constexpr protocol_name join(std::string_view pattern, std::string_view dh, std::string_view cipher,
                                        std::string_view hash) noexcept {
        const std::string_view parts[] = {"Noise_", pattern, "_", dh, "_", cipher, "_", hash};
        protocol_name name;
        for (const auto part : parts) {
            if (part.size() > max_size - name.size_) return {};
            for (const char c : part) name.chars_[name.size_++] = c;
        }
        return name;
    }

private:
    char chars_[max_size + 1] = {};
    std::size_t size_ = 0;
};

template <class Suite>
constexpr protocol_name make_protocol_name(const handshake_pattern& pattern) noexcept {
    return protocol_name::join(pattern.name, Suite::dh_name, Suite::cipher_name, Suite::hash_name);
}

}  // namespace librats::noise

#endif
