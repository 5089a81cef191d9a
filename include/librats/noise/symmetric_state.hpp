#ifndef LIBRATS_NOISE_SYMMETRIC_STATE_HPP
#define LIBRATS_NOISE_SYMMETRIC_STATE_HPP

// SymmetricState of the Noise spec (§5.2): the chaining key ck, the handshake hash h and a
// CipherState, with HKDF built from the suite's HMAC as §4.3 defines it.

#include <librats/noise/cipher_state.hpp>

#include <cstddef>
#include <cstring>
#include <string_view>
#include <system_error>

namespace librats::noise {

template <class Suite>
class symmetric_state {
public:
    static constexpr std::size_t hash_len = Suite::hash_len;

    // InitializeSymmetric(protocol_name).
    void initialize(std::string_view protocol_name) {
        const auto* name = reinterpret_cast<const unsigned char*>(protocol_name.data());
        if (protocol_name.size() <= hash_len) {
            std::memset(h_, 0, hash_len);
            std::memcpy(h_, name, protocol_name.size());
        } else {
            Suite::hash({{name, protocol_name.size()}}, h_);
        }
        std::memcpy(ck_.data(), h_, hash_len);
        cipher_ = cipher_state<Suite>();
    }

    void mix_key(const unsigned char* ikm, std::size_t size) {
        secret temp_k;
        hkdf(ikm, size, ck_.data(), temp_k.data());
        cipher_.initialize_key(temp_k.data());  // the first 32 bytes when HASHLEN is 64
    }

    void mix_hash(const unsigned char* data, std::size_t size) { Suite::hash({{h_, hash_len}, {data, size}}, h_); }

    void mix_key_and_hash(const unsigned char* ikm, std::size_t size) {
        secret temp_h;
        secret temp_k;
        hkdf(ikm, size, ck_.data(), temp_h.data(), temp_k.data());
        mix_hash(temp_h.data(), hash_len);
        cipher_.initialize_key(temp_k.data());
    }

    const unsigned char* handshake_hash() const noexcept { return h_; }
    bool has_key() const noexcept { return cipher_.has_key(); }
    std::size_t overhead() const noexcept { return cipher_.overhead(); }

    // EncryptAndHash in place: data has room for overhead() more bytes, the tag.
    std::error_code encrypt_and_hash(unsigned char* data, std::size_t size) {
        if (auto ec = cipher_.encrypt_with_ad(h_, hash_len, data, size, data + size)) return ec;
        mix_hash(data, size + cipher_.overhead());
        return {};
    }

    // DecryptAndHash in place: h absorbs the ciphertext, so it is hashed before it is decrypted.
    std::error_code decrypt_and_hash(unsigned char* data, std::size_t size_with_tag) {
        unsigned char next_h[hash_len];
        Suite::hash({{h_, hash_len}, {data, size_with_tag}}, next_h);
        if (auto ec = cipher_.decrypt_with_ad(h_, hash_len, data, size_with_tag)) return ec;
        std::memcpy(h_, next_h, hash_len);
        return {};
    }

    // Split(): c1 for initiator to responder, c2 for the other way.
    void split(cipher_state<Suite>& c1, cipher_state<Suite>& c2) const {
        secret temp_k1;
        secret temp_k2;
        hkdf(nullptr, 0, temp_k1.data(), temp_k2.data());
        c1.initialize_key(temp_k1.data());
        c2.initialize_key(temp_k2.data());
    }

private:
    using secret = typename Suite::template secret<hash_len>;

    // HKDF(ck, ikm) with two or three outputs; out1 may be ck itself.
    void hkdf(const unsigned char* ikm, std::size_t size, unsigned char* out1, unsigned char* out2,
              unsigned char* out3 = nullptr) const {
        secret temp_key;
        Suite::hmac(ck_.data(), hash_len, {{ikm, size}}, temp_key.data());
        const unsigned char one = 1, two = 2, three = 3;
        Suite::hmac(temp_key.data(), hash_len, {{&one, 1}}, out1);
        Suite::hmac(temp_key.data(), hash_len, {{out1, hash_len}, {&two, 1}}, out2);
        if (out3) Suite::hmac(temp_key.data(), hash_len, {{out2, hash_len}, {&three, 1}}, out3);
    }

    secret ck_;
    unsigned char h_[hash_len] = {};
    cipher_state<Suite> cipher_;
};

}  // namespace librats::noise

#endif
