#ifndef LIBRATS_DHT_TOKEN_ISSUER_HPP
#define LIBRATS_DHT_TOKEN_ISSUER_HPP

// get_peers write tokens (BEP 5): a keyed hash of the querier's IP address under a secret that
// changes every five minutes; a token from the current or the previous secret is accepted, so a
// token stays valid for five to ten minutes. HMAC-SHA-256 from Botan (truncated to 8 bytes), keys from the system RNG.

#include <asio/ip/address.hpp>

#include <botan/mac.h>
#include <botan/system_rng.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace librats::dht {

class token_issuer {
public:
    using clock = std::chrono::steady_clock;
    static constexpr clock::duration rotation = std::chrono::minutes(5);
    static constexpr std::size_t token_size = 8;

    explicit token_issuer(clock::time_point now)
        : current_(Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)")),
          previous_(Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)")),
          rotated_at_(now) {
        rekey(*current_);
        rekey(*previous_);
    }

    std::string issue(const asio::ip::address& address) { return compute(*current_, address); }

    bool valid(const asio::ip::address& address, std::string_view token) {
        return token.size() == token_size &&
               (token == compute(*current_, address) || token == compute(*previous_, address));
    }

    // Call now and then: retires the previous secret once the current one is five minutes old.
    void rotate_if_due(clock::time_point now) {
        if (now - rotated_at_ < rotation) return;
        std::swap(current_, previous_);
        rekey(*current_);
        rotated_at_ = now;
    }

private:
    static void rekey(Botan::MessageAuthenticationCode& mac) {
        std::array<std::uint8_t, 32> key{};
        Botan::system_rng().randomize(key.data(), key.size());
        mac.set_key(key.data(), key.size());
    }

    static std::string compute(Botan::MessageAuthenticationCode& mac, const asio::ip::address& address) {
        if (address.is_v4()) {
            const auto bytes = address.to_v4().to_bytes();
            mac.update(bytes.data(), bytes.size());
        } else {
            const auto bytes = address.to_v6().to_bytes();
            mac.update(bytes.data(), bytes.size());
        }
        std::array<std::uint8_t, 32> tag{};
        mac.final(tag.data());
        return std::string(reinterpret_cast<const char*>(tag.data()), token_size);
    }

    std::unique_ptr<Botan::MessageAuthenticationCode> current_;
    std::unique_ptr<Botan::MessageAuthenticationCode> previous_;
    clock::time_point rotated_at_;
};

}  // namespace librats::dht

#endif
