#ifndef LIBRATS_ERROR_HPP
#define LIBRATS_ERROR_HPP

#include <librats/detail/error_category.hpp>

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
    bencode_truncated,
    bencode_unexpected_character,
    bencode_bad_integer,
    bencode_integer_leading_zero,
    bencode_negative_zero,
    bencode_integer_overflow,
    bencode_bad_string_length,
    bencode_length_leading_zero,
    bencode_length_overflow,
    bencode_string_past_end,
    bencode_non_string_key,
    bencode_unsorted_keys,
    bencode_duplicate_key,
    bencode_missing_value,
    bencode_unterminated,
    bencode_trailing_data,
    bencode_too_deep,
    bencode_too_many_elements,
    krpc_not_a_dictionary,
    krpc_missing_field,
    krpc_wrong_type,
    krpc_bad_message_type,
    krpc_unknown_method,
    krpc_bad_id,
    krpc_bad_compact_length,
    krpc_bad_port,
    krpc_bad_token,
    krpc_bad_error,
    ignored_address,
};

// The highest errc value: a goodbye code above it comes from a newer peer.
inline constexpr int errc_last = static_cast<int>(errc::ignored_address);

// What each value means: error_category().message() says it.
inline const char* describe(errc e) noexcept {
    switch (e) {
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
    case errc::bencode_truncated: return "bencode: input ends inside a value";
    case errc::bencode_unexpected_character: return "bencode: unexpected character where a value should start";
    case errc::bencode_bad_integer: return "bencode: malformed integer";
    case errc::bencode_integer_leading_zero: return "bencode: integer with a leading zero";
    case errc::bencode_negative_zero: return "bencode: negative zero";
    case errc::bencode_integer_overflow: return "bencode: integer outside the 64-bit range";
    case errc::bencode_bad_string_length: return "bencode: malformed string length";
    case errc::bencode_length_leading_zero: return "bencode: string length with a leading zero";
    case errc::bencode_length_overflow: return "bencode: string length too large";
    case errc::bencode_string_past_end: return "bencode: string runs past the end of the input";
    case errc::bencode_non_string_key: return "bencode: dictionary key is not a string";
    case errc::bencode_unsorted_keys: return "bencode: dictionary keys out of order";
    case errc::bencode_duplicate_key: return "bencode: duplicate dictionary key";
    case errc::bencode_missing_value: return "bencode: dictionary key without a value";
    case errc::bencode_unterminated: return "bencode: list or dictionary not terminated";
    case errc::bencode_trailing_data: return "bencode: data after the top-level value";
    case errc::bencode_too_deep: return "bencode: nesting too deep";
    case errc::bencode_too_many_elements: return "bencode: too many elements";
    case errc::krpc_not_a_dictionary: return "KRPC: message is not a dictionary";
    case errc::krpc_missing_field: return "KRPC: required key missing";
    case errc::krpc_wrong_type: return "KRPC: key has the wrong type";
    case errc::krpc_bad_message_type: return "KRPC: unknown message type";
    case errc::krpc_unknown_method: return "KRPC: unknown query method";
    case errc::krpc_bad_id: return "KRPC: node ID or infohash is not 20 bytes";
    case errc::krpc_bad_compact_length: return "KRPC: compact node or peer info has a bad length";
    case errc::krpc_bad_port: return "KRPC: port out of range";
    case errc::krpc_bad_token: return "KRPC: token empty or too long";
    case errc::krpc_bad_error: return "KRPC: malformed error list";
    case errc::ignored_address: return "address is on the ignore list (our own address)";
    }
    return "unknown librats error";
}

inline const std::error_category& error_category() noexcept {
    static const librats::detail::enum_error_category<errc, describe> category("librats");
    return category;
}

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace librats

template <>
struct std::is_error_code_enum<librats::errc> : std::true_type {};

#endif
