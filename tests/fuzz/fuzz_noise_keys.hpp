// The fixed keys of fuzz_noise.cpp, shared with make_corpus.cpp so that the seed corpus holds
// the genuine messages 1 and 2 of a handshake between these parties.
#ifndef LIBRATS_TESTS_FUZZ_NOISE_KEYS_HPP
#define LIBRATS_TESTS_FUZZ_NOISE_KEYS_HPP

#include <librats/noise/botan_suite.hpp>
#include <librats/wire/handshake.hpp>

#include <array>
#include <string>

namespace librats_fuzz {

using noise_suite = librats::noise::botan_suite<librats::noise::sha256>;

inline noise_suite::keypair fixed_keypair(unsigned char fill) {
    std::array<unsigned char, 32> priv;
    for (std::size_t i = 0; i < priv.size(); ++i) priv[i] = static_cast<unsigned char>(fill + i * 7);
    return noise_suite::keypair_from_private(priv.data());
}

struct noise_keys {
    noise_suite::keypair initiator_static = fixed_keypair(0x10);
    noise_suite::keypair initiator_ephemeral = fixed_keypair(0x20);
    noise_suite::keypair responder_static = fixed_keypair(0x30);
    noise_suite::keypair responder_ephemeral = fixed_keypair(0x40);
    std::string prologue = librats::wire::handshake_prologue(1);
};

inline const noise_keys& fixed_noise_keys() {
    static const noise_keys k;
    return k;
}

// cipher_decrypts' key.
inline std::array<unsigned char, 32> fixed_cipher_key() {
    std::array<unsigned char, 32> k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(0xA0 + i);
    return k;
}

}  // namespace librats_fuzz

#endif
