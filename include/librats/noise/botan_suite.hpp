#ifndef LIBRATS_NOISE_BOTAN_SUITE_HPP
#define LIBRATS_NOISE_BOTAN_SUITE_HPP

// The Noise primitives 25519, ChaChaPoly and one hash function (spec §12), from Botan 2. Every
// Botan call of librats is in this header, so that a Botan 3 suite can live beside it.
//
// A suite is a stateless type: compile-time names and lengths, static functions, and the
// small stateful helpers the Noise states hold (secret, aead).

#include <botan/aead.h>
#include <botan/curve25519.h>
#include <botan/exceptn.h>
#include <botan/hash.h>
#include <botan/mac.h>
#include <botan/mem_ops.h>
#include <botan/system_rng.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace librats::noise {

// The hash functions of the spec (§12.3-12.5) and Botan's names for them.
struct sha256 {
    static constexpr std::string_view name = "SHA256";
    static constexpr std::size_t hash_len = 32;
    static constexpr std::size_t block_len = 64;
    static constexpr const char* botan_name = "SHA-256";
};

struct blake2b {
    static constexpr std::string_view name = "BLAKE2b";
    static constexpr std::size_t hash_len = 64;
    static constexpr std::size_t block_len = 128;
    static constexpr const char* botan_name = "BLAKE2b(512)";
};

struct sha512 {
    static constexpr std::string_view name = "SHA512";
    static constexpr std::size_t hash_len = 64;
    static constexpr std::size_t block_len = 128;
    static constexpr const char* botan_name = "SHA-512";
};

template <class Hash>
struct botan_suite {
    static constexpr std::string_view dh_name = "25519";
    static constexpr std::string_view cipher_name = "ChaChaPoly";
    static constexpr std::string_view hash_name = Hash::name;
    static constexpr std::size_t dh_len = 32;
    static constexpr std::size_t key_len = 32;
    static constexpr std::size_t tag_len = 16;
    static constexpr std::size_t hash_len = Hash::hash_len;
    static constexpr std::size_t block_len = Hash::block_len;

    // The same primitives with another hash (the peer ID is SHA-256 whatever the suite's hash).
    template <class OtherHash>
    using with_hash = botan_suite<OtherHash>;

    static void scrub(void* data, std::size_t size) noexcept { Botan::secure_scrub_memory(data, size); }

    // Fixed-size key material, wiped when destroyed or overwritten.
    template <std::size_t N>
    class secret {
    public:
        secret() noexcept = default;
        secret(const secret&) noexcept = default;
        secret& operator=(const secret&) noexcept = default;
        ~secret() { scrub(bytes_, N); }

        static constexpr std::size_t size() noexcept { return N; }
        unsigned char* data() noexcept { return bytes_; }
        const unsigned char* data() const noexcept { return bytes_; }

    private:
        unsigned char bytes_[N] = {};
    };

    using public_key = std::array<unsigned char, dh_len>;

    struct keypair {
        secret<dh_len> priv;
        public_key pub{};
    };

    // Botan's X25519 clamps the scalar itself, so any 32 bytes are a private key.
    static keypair keypair_from_private(const unsigned char* priv) {
        keypair kp;
        std::memcpy(kp.priv.data(), priv, dh_len);
        Botan::curve25519_basepoint(kp.pub.data(), kp.priv.data());
        return kp;
    }

    static keypair generate_keypair() {
        secret<dh_len> priv;
        Botan::system_rng().randomize(priv.data(), dh_len);
        return keypair_from_private(priv.data());
    }

    // DH(key_pair, public_key) of §4.1. A low-order public key yields zeros, which the spec allows.
    static void dh(const keypair& kp, const unsigned char* remote_public, unsigned char* out) {
        Botan::curve25519_donna(out, kp.priv.data(), remote_public);
    }

    struct bytes {
        const unsigned char* data;
        std::size_t size;
    };

    // HASH(parts...) into hash_len bytes. One Botan object per thread: parsed once, and it holds
    // no input once final() returns.
    static void hash(std::initializer_list<bytes> parts, unsigned char* out) {
        thread_local const std::unique_ptr<Botan::HashFunction> function =
            Botan::HashFunction::create_or_throw(Hash::botan_name);
        for (const auto& part : parts) function->update(part.data, part.size);
        function->final(out);
    }

    // HMAC-HASH(key, parts...) of §4.3 into hash_len bytes, with Botan's HMAC. One object per
    // thread, parsed once; its keyed state is cleared before it returns.
    static void hmac(const unsigned char* key, std::size_t key_size, std::initializer_list<bytes> parts,
                     unsigned char* out) {
        thread_local const std::unique_ptr<Botan::MessageAuthenticationCode> function =
            Botan::MessageAuthenticationCode::create_or_throw(std::string("HMAC(") + Hash::botan_name + ")");
        function->set_key(key, key_size);
        for (const auto& part : parts) function->update(part.data, part.size);
        function->final(out);
        function->clear();
    }

    // ChaChaPoly of §12.2 (RFC 8439, nonce = 32 zero bits then n little-endian), in place. The
    // Botan objects live as long as this one and are re-keyed only when the key changes.
    class aead {
    public:
        void set_key(const unsigned char* key) {
            std::memcpy(key_.data(), key, key_len);
            if (encryptor_) encryptor_->set_key(key_.data(), key_len);
            if (decryptor_) decryptor_->set_key(key_.data(), key_len);
        }

        void encrypt(std::uint64_t n, const unsigned char* ad, std::size_t ad_size, unsigned char* data,
                     std::size_t size, unsigned char* tag_out) {
            auto& mode = start(encryptor_, Botan::ENCRYPTION, n, ad, ad_size);
            mode.process(data, size);
            // finish() appends the tag to a vector; this one keeps its capacity between messages.
            tail_.clear();
            mode.finish(tail_);
            std::memcpy(tag_out, tail_.data(), tag_len);
        }

        // False if the tag is wrong. Botan decrypts before it checks the tag, so then data is wiped:
        // unauthenticated plaintext must not outlive the error.
        bool decrypt(std::uint64_t n, const unsigned char* ad, std::size_t ad_size, unsigned char* data,
                     std::size_t size, const unsigned char* tag) {
            auto& mode = start(decryptor_, Botan::DECRYPTION, n, ad, ad_size);
            mode.process(data, size);
            tail_.assign(tag, tag + tag_len);
            try {
                mode.finish(tail_);
            } catch (const Botan::Invalid_Authentication_Tag&) {
                scrub(data, size);
                return false;
            }
            return true;
        }

    private:
        Botan::AEAD_Mode& start(std::unique_ptr<Botan::AEAD_Mode>& mode, Botan::Cipher_Dir direction,
                                std::uint64_t n, const unsigned char* ad, std::size_t ad_size) {
            if (!mode) {
                mode = Botan::AEAD_Mode::create_or_throw("ChaCha20Poly1305", direction);
                mode->set_key(key_.data(), key_len);
                tail_.reserve(tag_len);
            }
            unsigned char nonce[12] = {};
            for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<unsigned char>(n >> (8 * i));
            mode->set_associated_data(ad, ad_size);
            mode->start(nonce, sizeof nonce);
            return *mode;
        }

        secret<key_len> key_;
        std::unique_ptr<Botan::AEAD_Mode> encryptor_;
        std::unique_ptr<Botan::AEAD_Mode> decryptor_;
        Botan::secure_vector<std::uint8_t> tail_;
    };
};

}  // namespace librats::noise

#endif
