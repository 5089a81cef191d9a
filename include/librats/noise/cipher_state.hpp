#ifndef LIBRATS_NOISE_CIPHER_STATE_HPP
#define LIBRATS_NOISE_CIPHER_STATE_HPP

// CipherState of the Noise spec (§5.1): a key k, a nonce n, and AEAD in place. Nonce 2^64-1 is
// reserved for Rekey(), so reaching it is an error, never a wrap.

#include <librats/error.hpp>

#include <cstddef>
#include <cstdint>
#include <system_error>

namespace librats::noise {

template <class Suite>
class cipher_state {
public:
    static constexpr std::size_t key_size = Suite::key_len;
    static constexpr std::size_t tag_size = Suite::tag_len;
    static constexpr std::uint64_t max_nonce = ~std::uint64_t{0};

    // InitializeKey(key): a key of key_size bytes, nonce 0.
    void initialize_key(const unsigned char* key) {
        aead_.set_key(key);
        has_key_ = true;
        n_ = 0;
    }

    bool has_key() const noexcept { return has_key_; }
    void set_nonce(std::uint64_t n) noexcept { n_ = n; }
    std::uint64_t nonce() const noexcept { return n_; }

    // Bytes a message grows by: the tag once there is a key, nothing before (§5.1).
    std::size_t overhead() const noexcept { return has_key_ ? tag_size : 0; }

    // EncryptWithAd: encrypts data[0, size) in place and writes the tag to tag_out (nothing
    // without a key). On error data and tag are wiped, so they cannot be sent as if sealed.
    std::error_code encrypt_with_ad(const unsigned char* ad, std::size_t ad_size, unsigned char* data,
                                    std::size_t size, unsigned char* tag_out) {
        if (!has_key_) return {};
        if (n_ == max_nonce) {
            Suite::scrub(data, size);
            Suite::scrub(tag_out, tag_size);
            return errc::nonce_exhausted;
        }
        aead_.encrypt(n_, ad, ad_size, data, size, tag_out);
        ++n_;
        return {};
    }

    // DecryptWithAd: data holds ciphertext then tag; afterwards data[0, size_with_tag -
    // overhead()) is the plaintext. On error the buffer is wiped and n is unchanged.
    std::error_code decrypt_with_ad(const unsigned char* ad, std::size_t ad_size, unsigned char* data,
                                    std::size_t size_with_tag) {
        if (!has_key_) return {};
        if (n_ == max_nonce) {
            Suite::scrub(data, size_with_tag);
            return errc::nonce_exhausted;
        }
        if (size_with_tag < tag_size) {
            Suite::scrub(data, size_with_tag);
            return errc::authentication_failed;
        }
        const std::size_t size = size_with_tag - tag_size;
        if (!aead_.decrypt(n_, ad, ad_size, data, size, data + size)) {
            Suite::scrub(data + size, tag_size);
            return errc::authentication_failed;
        }
        ++n_;
        return {};
    }

    // The transport phase: no associated data.
    std::error_code encrypt(unsigned char* data, std::size_t size, unsigned char* tag_out) {
        return encrypt_with_ad(nullptr, 0, data, size, tag_out);
    }
    std::error_code decrypt(unsigned char* data, std::size_t size_with_tag) {
        return decrypt_with_ad(nullptr, 0, data, size_with_tag);
    }

    // Rekey() (§11.3): k = the first 32 bytes of ENCRYPT(k, maxnonce, zerolen, zeros[32]); n stays.
    std::error_code rekey() {
        if (!has_key_) return errc::invalid_handshake_state;
        typename Suite::template secret<key_size> key;
        unsigned char tag[tag_size];
        aead_.encrypt(max_nonce, nullptr, 0, key.data(), key_size, tag);
        aead_.set_key(key.data());
        return {};
    }

private:
    typename Suite::aead aead_;
    std::uint64_t n_ = 0;
    bool has_key_ = false;
};

}  // namespace librats::noise

#endif
