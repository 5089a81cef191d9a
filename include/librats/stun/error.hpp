#ifndef LIBRATS_STUN_ERROR_HPP
#define LIBRATS_STUN_ERROR_HPP

// Errors of the STUN codec (RFC 8489 §5, §14), of a client transaction and of discovery.

#include <librats/detail/error_category.hpp>

#include <system_error>

namespace librats::stun {

enum class errc {
    truncated_header = 1,
    not_stun,
    bad_magic_cookie,
    bad_message_length,
    length_mismatch,
    attribute_past_end,
    bad_attribute_length,
    bad_address_family,
    bad_error_code,
    bad_fingerprint,
    fingerprint_not_last,
    unknown_required_attribute,
    missing_mapped_address,
    error_response,
    timed_out,
    resolve_timed_out,
    no_usable_address,
    no_servers,
    not_open,
    discovery_in_progress,
};

// What each value means: error_category().message() says it.
inline const char* describe(errc e) noexcept {
    switch (e) {
    case errc::truncated_header: return "STUN: datagram shorter than the 20-byte header";
    case errc::not_stun: return "STUN: first two bits of the message are not zero";
    case errc::bad_magic_cookie: return "STUN: wrong magic cookie";
    case errc::bad_message_length: return "STUN: message length is not a multiple of 4";
    case errc::length_mismatch: return "STUN: message length does not match the datagram size";
    case errc::attribute_past_end: return "STUN: attribute runs past the end of the message";
    case errc::bad_attribute_length: return "STUN: attribute has a length invalid for its type";
    case errc::bad_address_family: return "STUN: address attribute with an unknown family";
    case errc::bad_error_code: return "STUN: ERROR-CODE class or number out of range";
    case errc::bad_fingerprint: return "STUN: FINGERPRINT does not match the message";
    case errc::fingerprint_not_last: return "STUN: attribute after FINGERPRINT";
    case errc::unknown_required_attribute: return "STUN: unknown comprehension-required attribute";
    case errc::missing_mapped_address: return "STUN: success response without a mapped address";
    case errc::error_response: return "STUN: server answered with an error response";
    case errc::timed_out: return "STUN: transaction timed out";
    case errc::resolve_timed_out: return "STUN: resolving the server timed out";
    case errc::no_usable_address: return "STUN: server has no address of the socket's family";
    case errc::no_servers: return "STUN: no servers to ask";
    case errc::not_open: return "STUN: client socket is not open";
    case errc::discovery_in_progress: return "STUN: a discovery is already running";
    }
    return "unknown STUN error";
}

inline const std::error_category& error_category() noexcept {
    static const librats::detail::enum_error_category<errc, describe> category("librats.stun");
    return category;
}

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace librats::stun

template <>
struct std::is_error_code_enum<librats::stun::errc> : std::true_type {};

#endif
