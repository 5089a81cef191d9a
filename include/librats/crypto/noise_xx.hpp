#ifndef LIBRATS_CRYPTO_NOISE_XX_HPP
#define LIBRATS_CRYPTO_NOISE_XX_HPP

// The Crypto policy (concepts/crypto.hpp) of Noise_XX_25519_ChaChaPoly_<hash>: each node has a
// static X25519 key, and its peer ID is derived from the public half, so the handshake proves
// the ID. The initiator's first message is empty; the responder's hello travels in the second,
// the initiator's in the third, both encrypted.
//
// set_enabled(false) turns it into crypto/plaintext.hpp on the wire (wire ID 0, one hello each
// way in the clear, no tag), so a node with encryption off talks to a plaintext node.

#include <librats/detail/hex.hpp>
#include <librats/error.hpp>
#include <librats/noise/botan_suite.hpp>
#include <librats/noise/cipher_state.hpp>
#include <librats/noise/handshake_state.hpp>
#include <librats/noise/pattern.hpp>
#include <librats/noise/protocol_name.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

namespace librats {

// The wire IDs of the preamble's crypto byte (0 is plaintext); 0 for a protocol without one.
constexpr std::uint8_t noise_wire_id(std::string_view protocol_name) noexcept {
    if (protocol_name == "Noise_XX_25519_ChaChaPoly_SHA256") return 1;
    if (protocol_name == "Noise_XX_25519_ChaChaPoly_BLAKE2b") return 2;
    if (protocol_name == "Noise_XX_25519_ChaChaPoly_SHA512") return 3;
    return 0;
}

template <class Suite = noise::botan_suite<noise::sha256>>
class noise_xx {
public:
    using suite = Suite;
    using key = std::array<unsigned char, Suite::dh_len>;

    static constexpr noise::protocol_name protocol_name = noise::make_protocol_name<Suite>(noise::patterns::XX);
    static constexpr std::uint8_t suite_wire_id = noise_wire_id(protocol_name.view());
    static_assert(suite_wire_id != 0, "noise_xx: this suite's protocol name has no wire ID (noise_wire_id)");

    // A fresh static key pair; persistence may replace it before the node starts.
    noise_xx() : static_(Suite::generate_keypair()), peer_id_(peer_id_from_public_key(static_.pub)) {}

    std::uint8_t wire_id() const noexcept { return encrypted() ? suite_wire_id : 0; }
    bool encrypted() const noexcept { return enabled_.load(std::memory_order_relaxed); }
    // Any thread; connections made afterwards follow it.
    void set_enabled(bool enabled) noexcept { enabled_.store(enabled, std::memory_order_relaxed); }

    const std::string& local_peer_id() const noexcept { return peer_id_; }

    // Not while a node using this policy runs: the key is its identity.
    void generate_static_key() {
        use_static_key(Suite::generate_keypair());
    }

    void set_static_private_key(const key& private_key) {
        use_static_key(Suite::keypair_from_private(private_key.data()));
    }
    // The caller owns (and should wipe) the copy.
    key static_private_key() const {
        key k;
        std::memcpy(k.data(), static_.priv.data(), k.size());
        return k;
    }
    const key& static_public_key() const noexcept { return static_.pub; }

    // Lowercase hex, e.g. for a key file. False (and no change) unless 64 hex digits.
    bool set_static_private_key_hex(std::string_view hex) {
        typename Suite::template secret<Suite::dh_len> bytes;
        if (!detail::from_hex(hex, bytes.data(), bytes.size())) return false;
        use_static_key(Suite::keypair_from_private(bytes.data()));
        return true;
    }
    std::string static_private_key_hex() const { return detail::to_hex(static_.priv.data(), Suite::dh_len); }
    std::string static_public_key_hex() const { return detail::to_hex(static_.pub.data(), Suite::dh_len); }

    // Lowercase hex of the first 20 bytes of SHA-256(public key): 40 characters.
    static std::string peer_id_from_public_key(const key& public_key) {
        unsigned char digest[noise::sha256::hash_len];
        Suite::template with_hash<noise::sha256>::hash({{public_key.data(), public_key.size()}}, digest);
        return detail::to_hex(digest, 20);
    }

    class handshake;

    class cipher {
    public:
        static constexpr bool is_identity = false;

        std::size_t tag_size() const noexcept { return encrypted_ ? Suite::tag_len : 0; }

        // In place; tag_out receives tag_size() bytes. On error (nonce exhausted, or a cipher
        // from an unfinished handshake) data and tag are wiped: they must not be sent.
        std::error_code seal(unsigned char* data, std::size_t size, unsigned char* tag_out) {
            if (!encrypted_) return {};
            if (!send_.has_key()) {
                Suite::scrub(data, size);
                Suite::scrub(tag_out, Suite::tag_len);
                return errc::invalid_handshake_state;
            }
            return send_.encrypt(data, size, tag_out);
        }

        // In place: data[0, size_with_tag - tag_size()) is the plaintext if no error.
        std::error_code open(unsigned char* data, std::size_t size_with_tag) {
            if (!encrypted_) return {};
            if (!receive_.has_key()) {
                Suite::scrub(data, size_with_tag);
                return errc::invalid_handshake_state;
            }
            return receive_.decrypt(data, size_with_tag);
        }

        // §11.3: both ends rekey the same direction at the same point of the stream.
        std::error_code rekey_send() { return encrypted_ ? send_.rekey() : std::error_code(); }
        std::error_code rekey_receive() { return encrypted_ ? receive_.rekey() : std::error_code(); }

        // The nonces are the counts of messages sealed and opened.
        std::uint64_t messages_sent() const noexcept { return send_.nonce(); }
        std::uint64_t messages_received() const noexcept { return receive_.nonce(); }

    private:
        friend class handshake;
        bool encrypted_ = false;
        noise::cipher_state<Suite> send_;
        noise::cipher_state<Suite> receive_;
    };

    class handshake {
    public:
        enum class action { write, read, done };

        handshake(const noise_xx& crypto, bool initiator, std::string_view prologue, std::string local_payload)
            : encrypted_(crypto.encrypted()), initiator_(initiator), local_payload_(std::move(local_payload)) {
            if (encrypted_) state_.initialize(noise::patterns::XX, initiator, prologue, &crypto.static_);
        }

        action next() const noexcept {
            if (encrypted_) return state_.done() ? action::done : state_.is_my_turn() ? action::write : action::read;
            if (initiator_) return !sent_ ? action::write : !received_ ? action::read : action::done;
            return !received_ ? action::read : !sent_ ? action::write : action::done;
        }

        // Appends the next message.
        std::error_code write_message(std::string& out) {
            if (!encrypted_) {
                out.append(local_payload_);
                sent_ = true;
                return {};
            }
            const bool first = initiator_ && !sent_;
            sent_ = true;
            return state_.write_message(first ? std::string_view() : std::string_view(local_payload_), out);
        }

        std::error_code read_message(std::string_view message) {
            if (!encrypted_) {
                remote_payload_.assign(message);
                received_ = true;
                return {};
            }
            if (auto ec = state_.read_message(message, remote_payload_)) return ec;
            // The first message carries no hello: anything there was sent unencrypted.
            if (!initiator_ && !received_ && !remote_payload_.empty()) return errc::malformed_handshake;
            received_ = true;
            return {};
        }

        const std::string& remote_payload() const noexcept { return remote_payload_; }

        // The peer ID the peer's static key proves; "" with encryption off or before it is known.
        std::string authenticated_peer_id() const {
            const auto& rs = state_.remote_static();
            return encrypted_ && rs ? peer_id_from_public_key(*rs) : std::string();
        }

        // Raw bytes; empty with encryption off.
        std::string handshake_hash() const {
            if (!encrypted_) return {};
            const auto h = state_.handshake_hash();
            return std::string(reinterpret_cast<const char*>(h.data()), h.size());
        }
        std::string remote_static_key() const {
            const auto& rs = state_.remote_static();
            if (!encrypted_ || !rs) return {};
            return std::string(reinterpret_cast<const char*>(rs->data()), rs->size());
        }

        // Before the handshake is done, an encrypted cipher refuses to seal or open anything.
        cipher split() const {
            cipher c;
            c.encrypted_ = encrypted_;
            if (encrypted_) {
                if (initiator_) state_.split(c.send_, c.receive_);
                else state_.split(c.receive_, c.send_);
            }
            return c;
        }

    private:
        bool encrypted_;
        bool initiator_;
        bool sent_ = false;
        bool received_ = false;
        std::string local_payload_;
        std::string remote_payload_;
        noise::handshake_state<Suite> state_;
    };

private:
    // The key is the identity: the peer ID follows it.
    void use_static_key(const typename Suite::keypair& keypair) {
        static_ = keypair;
        peer_id_ = peer_id_from_public_key(static_.pub);
    }

    typename Suite::keypair static_;
    std::string peer_id_;
    std::atomic<bool> enabled_{true};
};

}  // namespace librats

#endif
