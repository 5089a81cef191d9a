#ifndef LIBRATS_CRYPTO_PLAINTEXT_HPP
#define LIBRATS_CRYPTO_PLAINTEXT_HPP

// The Crypto policy without encryption: for tests, benchmark baselines and users who opt out.
// It has the shape the Noise policy fills (concepts/crypto.hpp): a handshake of messages that
// carries each side's hello, then a cipher that seals and opens records (here: leaves them be).

#include <librats/detail/random.hpp>
#include <librats/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace librats {

class plaintext {
public:
    static constexpr const char* name = "plaintext";

    std::uint8_t wire_id() const noexcept { return 0; }
    bool encrypted() const noexcept { return false; }

    // A fresh random 160-bit peer ID; persistence may replace it before the node starts.
    plaintext() : peer_id_(detail::random_hex(20)) {}

    const std::string& local_peer_id() const noexcept { return peer_id_; }
    void set_local_peer_id(std::string peer_id) { peer_id_ = std::move(peer_id); }

    class cipher {
    public:
        // Sealing changes nothing, so the node may write frames straight from its queue.
        static constexpr bool is_identity = true;

        std::size_t tag_size() const noexcept { return 0; }

        std::error_code seal(unsigned char*, std::size_t, unsigned char*) noexcept { return {}; }
        std::error_code open(unsigned char*, std::size_t) noexcept { return {}; }
    };

    // Initiator sends its hello, responder answers with its own: one round trip.
    class handshake {
    public:
        enum class action { write, read, done };

        handshake(const plaintext&, bool initiator, std::string_view /*prologue*/, std::string local_payload)
            : initiator_(initiator), local_payload_(std::move(local_payload)) {}

        action next() const noexcept {
            if (initiator_) return !sent_ ? action::write : !received_ ? action::read : action::done;
            return !received_ ? action::read : !sent_ ? action::write : action::done;
        }

        std::error_code write_message(std::string& out) {
            out.append(local_payload_);
            sent_ = true;
            return {};
        }

        std::error_code read_message(std::string_view in) {
            remote_payload_.assign(in);
            received_ = true;
            return {};
        }

        const std::string& remote_payload() const noexcept { return remote_payload_; }
        // Plaintext cannot prove who the peer is: the node trusts the hello's peer ID.
        std::string authenticated_peer_id() const { return {}; }
        cipher split() const noexcept { return {}; }

    private:
        bool initiator_;
        bool sent_ = false;
        bool received_ = false;
        std::string local_payload_;
        std::string remote_payload_;
    };

private:
    std::string peer_id_;
};

}  // namespace librats

#endif
