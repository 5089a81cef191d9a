#ifndef LIBRATS_NOISE_HANDSHAKE_STATE_HPP
#define LIBRATS_NOISE_HANDSHAKE_STATE_HPP

// HandshakeState of the Noise spec (§5.3), sans-I/O: the caller moves the messages. After the
// pattern's last message, split() yields the two transport CipherStates. Any error ends the
// handshake: every later call fails.

#include <librats/error.hpp>
#include <librats/noise/cipher_state.hpp>
#include <librats/noise/pattern.hpp>
#include <librats/noise/protocol_name.hpp>
#include <librats/noise/symmetric_state.hpp>

#include <array>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace librats::noise {

template <class Suite>
class handshake_state {
public:
    using keypair = typename Suite::keypair;
    using public_key = typename Suite::public_key;
    static constexpr std::size_t dh_len = Suite::dh_len;
    static constexpr std::size_t hash_len = Suite::hash_len;
    static constexpr std::size_t max_message_size = 65535;  // §3

    // Initialize(): s, e, rs, re may be null. A given e replaces GENERATE_KEYPAIR() where the
    // pattern sends "e" (how test vectors fix ephemeral keys). Fails if a pre-message key is missing.
    std::error_code initialize(const handshake_pattern& pattern, bool initiator, std::string_view prologue,
                               const keypair* s = nullptr, const keypair* e = nullptr,
                               const public_key* rs = nullptr, const public_key* re = nullptr) {
        pattern_ = pattern;
        initiator_ = initiator;
        index_ = 0;
        failed_ = true;
        assign(s_, s);
        assign(e_, e);
        assign(rs_, rs);
        assign(re_, re);
        const auto name = make_protocol_name<Suite>(pattern);
        if (name.empty()) return errc::invalid_handshake_state;
        symmetric_.initialize(name.view());
        symmetric_.mix_hash(reinterpret_cast<const unsigned char*>(prologue.data()), prologue.size());
        for (const bool initiator_keys : {true, false}) {
            const bool local = initiator_keys == initiator_;
            for (const token t : initiator_keys ? pattern_.initiator_pre : pattern_.responder_pre) {
                const unsigned char* key = nullptr;
                if (t == token::e) key = local ? (e_ ? e_->pub.data() : nullptr) : (re_ ? re_->data() : nullptr);
                if (t == token::s) key = local ? (s_ ? s_->pub.data() : nullptr) : (rs_ ? rs_->data() : nullptr);
                if (!key) return errc::invalid_handshake_state;
                symmetric_.mix_hash(key, dh_len);
            }
        }
        failed_ = false;
        return {};
    }

    bool is_initiator() const noexcept { return initiator_; }
    bool done() const noexcept { return !failed_ && index_ == pattern_.message_count; }
    // True when the next message is ours to write (false once done or failed).
    bool is_my_turn() const noexcept { return !failed_ && index_ < pattern_.message_count && (index_ % 2 == 0) == initiator_; }

    // WriteMessage(payload): appends the next message to out.
    std::error_code write_message(std::string_view payload, std::string& out) {
        if (!is_my_turn()) return fail(errc::invalid_handshake_state);
        const message_pattern& message = pattern_.messages[index_];
        // The size first, so that an oversized payload changes nothing.
        bool keyed = symmetric_.has_key();
        std::size_t size = 0;
        for (const token t : message) {
            if (t == token::e) size += dh_len;
            else if (t == token::s) size += dh_len + (keyed ? Suite::tag_len : 0);
            else keyed = true;
        }
        size += payload.size() + (keyed ? Suite::tag_len : 0);
        if (size > max_message_size) return errc::message_too_large;

        const std::size_t start = out.size();
        out.resize(start + size);
        auto* p = reinterpret_cast<unsigned char*>(&out[start]);
        for (const token t : message) {
            std::error_code ec;
            if (t == token::e) {
                if (!e_) e_ = Suite::generate_keypair();
                std::memcpy(p, e_->pub.data(), dh_len);
                symmetric_.mix_hash(p, dh_len);
                p += dh_len;
            } else if (t == token::s) {
                if (!s_) ec = errc::invalid_handshake_state;
                else {
                    std::memcpy(p, s_->pub.data(), dh_len);
                    ec = symmetric_.encrypt_and_hash(p, dh_len);
                    p += dh_len + symmetric_.overhead();
                }
            } else {
                ec = mix_dh(t);
            }
            if (ec) {
                out.resize(start);
                return fail(ec);
            }
        }
        // An empty payload may have a null data(): memcpy's arguments must not be null.
        if (!payload.empty()) std::memcpy(p, payload.data(), payload.size());
        if (auto ec = symmetric_.encrypt_and_hash(p, payload.size())) {
            out.resize(start);
            return fail(ec);
        }
        ++index_;
        return {};
    }

    // ReadMessage(message): payload receives the decrypted payload.
    std::error_code read_message(std::string_view message, std::string& payload) {
        if (failed_ || index_ >= pattern_.message_count || is_my_turn()) return fail(errc::invalid_handshake_state);
        if (message.size() > max_message_size) return fail(errc::message_too_large);
        // Decrypted in place in payload's buffer, then the tokens' bytes are dropped.
        payload.assign(message);
        auto* p = reinterpret_cast<unsigned char*>(payload.data());
        std::size_t left = payload.size();
        for (const token t : pattern_.messages[index_]) {
            std::error_code ec;
            if (t == token::e) {
                if (left < dh_len) return fail(errc::malformed_handshake, payload);
                re_.emplace();
                std::memcpy(re_->data(), p, dh_len);
                symmetric_.mix_hash(p, dh_len);
                p += dh_len;
                left -= dh_len;
            } else if (t == token::s) {
                const std::size_t size = dh_len + symmetric_.overhead();
                if (left < size) return fail(errc::malformed_handshake, payload);
                if ((ec = symmetric_.decrypt_and_hash(p, size))) return fail(ec, payload);
                rs_.emplace();
                std::memcpy(rs_->data(), p, dh_len);
                p += size;
                left -= size;
            } else if ((ec = mix_dh(t))) {
                return fail(ec, payload);
            }
        }
        if (left < symmetric_.overhead()) return fail(errc::malformed_handshake, payload);
        if (auto ec = symmetric_.decrypt_and_hash(p, left)) return fail(ec, payload);
        const std::size_t offset = static_cast<std::size_t>(p - reinterpret_cast<unsigned char*>(payload.data()));
        payload.erase(offset + left - symmetric_.overhead());
        payload.erase(0, offset);
        ++index_;
        return {};
    }

    // Split(): c1 for messages from initiator to responder, c2 for the other way. Only when done.
    std::error_code split(cipher_state<Suite>& c1, cipher_state<Suite>& c2) const {
        if (!done()) return errc::invalid_handshake_state;
        symmetric_.split(c1, c2);
        return {};
    }

    // GetHandshakeHash(): binds the whole handshake, e.g. for channel binding.
    std::array<unsigned char, hash_len> handshake_hash() const {
        std::array<unsigned char, hash_len> h;
        std::memcpy(h.data(), symmetric_.handshake_hash(), hash_len);
        return h;
    }

    // The peer's static public key, once a message or a pre-message carried it.
    const std::optional<public_key>& remote_static() const noexcept { return rs_; }
    const std::optional<public_key>& remote_ephemeral() const noexcept { return re_; }
    const std::optional<keypair>& local_ephemeral() const noexcept { return e_; }

private:
    template <class T>
    static void assign(std::optional<T>& slot, const T* value) {
        if (value) slot = *value;
        else slot.reset();
    }

    std::error_code fail(std::error_code ec) {
        failed_ = true;
        return ec;
    }
    std::error_code fail(std::error_code ec, std::string& payload) {
        Suite::scrub(payload.data(), payload.size());
        payload.clear();
        return fail(ec);
    }

    // ee, es, se, ss: MixKey(DH(...)) with our key and theirs as the token names them.
    std::error_code mix_dh(token t) {
        const bool ours_ephemeral = t == token::ee || (initiator_ ? t == token::es : t == token::se);
        const bool theirs_ephemeral = t == token::ee || (initiator_ ? t == token::se : t == token::es);
        const std::optional<keypair>& local = ours_ephemeral ? e_ : s_;
        const std::optional<public_key>& remote = theirs_ephemeral ? re_ : rs_;
        if (!local || !remote) return errc::invalid_handshake_state;
        typename Suite::template secret<dh_len> shared;
        Suite::dh(*local, remote->data(), shared.data());
        symmetric_.mix_key(shared.data(), dh_len);
        return {};
    }

    handshake_pattern pattern_;
    bool initiator_ = false;
    bool failed_ = true;
    std::size_t index_ = 0;
    symmetric_state<Suite> symmetric_;
    std::optional<keypair> s_;
    std::optional<keypair> e_;
    std::optional<public_key> rs_;
    std::optional<public_key> re_;
};

}  // namespace librats::noise

#endif
