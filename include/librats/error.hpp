#ifndef LIBRATS_ERROR_HPP
#define LIBRATS_ERROR_HPP

#include <string>
#include <system_error>

namespace librats {

// Errors of the node and its wire protocol. Values are stable: they travel in goodbye frames.
enum class errc {
    not_running = 1,
    already_running,
    peer_not_found,
    send_queue_full,
    message_too_large,
    max_peers_reached,
    self_connection,
    duplicate_connection,
    protocol_mismatch,
    bad_preamble,
    bad_hello,
    handshake_timeout,
    idle_timeout,
    frame_timeout,
    malformed_frame,
    unknown_frame_type,
    invalid_json,
    peer_closed,
    peer_id_mismatch,
    encryption_mismatch,
    connect_timeout,
    shutting_down,
    invalid_address,
    no_peers,
    authentication_failed,
    closed_by_request,
    nonce_exhausted,
    malformed_handshake,
    invalid_handshake_state,
};

// The highest errc value: a goodbye code above it comes from a newer peer.
inline constexpr int errc_last = static_cast<int>(errc::invalid_handshake_state);

namespace detail {

class error_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "librats"; }

    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::not_running: return "node is not running";
        case errc::already_running: return "node is already running";
        case errc::peer_not_found: return "peer not found";
        case errc::send_queue_full: return "send queue full";
        case errc::message_too_large: return "message too large";
        case errc::max_peers_reached: return "maximum number of peers reached";
        case errc::self_connection: return "connected to self";
        case errc::duplicate_connection: return "duplicate connection to the same peer";
        case errc::protocol_mismatch: return "protocol version mismatch";
        case errc::bad_preamble: return "not a librats peer (bad preamble)";
        case errc::bad_hello: return "malformed hello";
        case errc::handshake_timeout: return "handshake timed out";
        case errc::idle_timeout: return "peer idle for too long";
        case errc::frame_timeout: return "partial frame stalled";
        case errc::malformed_frame: return "malformed frame";
        case errc::unknown_frame_type: return "unknown frame type";
        case errc::invalid_json: return "invalid JSON message";
        case errc::peer_closed: return "peer closed the connection";
        case errc::peer_id_mismatch: return "peer ID does not match";
        case errc::encryption_mismatch: return "encryption mismatch";
        case errc::connect_timeout: return "connect timed out";
        case errc::shutting_down: return "node is shutting down";
        case errc::invalid_address: return "invalid address";
        case errc::no_peers: return "no connected peers";
        case errc::authentication_failed: return "authentication failed";
        case errc::closed_by_request: return "connection closed by request";
        case errc::nonce_exhausted: return "cipher nonce exhausted";
        case errc::malformed_handshake: return "malformed handshake message";
        case errc::invalid_handshake_state: return "handshake operation out of order or missing a key";
        }
        return "unknown librats error";
    }
};

}  // namespace detail

inline const std::error_category& error_category() noexcept {
    static const detail::error_category_impl category;
    return category;
}

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace librats

template <>
struct std::is_error_code_enum<librats::errc> : std::true_type {};

#endif
