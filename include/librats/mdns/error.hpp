#ifndef LIBRATS_MDNS_ERROR_HPP
#define LIBRATS_MDNS_ERROR_HPP

// Errors of the DNS wire codec and of the mDNS engine's inputs. They never leave the process.

#include <librats/detail/error_category.hpp>

#include <system_error>

namespace librats::mdns {

enum class errc {
    truncated = 1,
    bad_label_type,
    forward_pointer,
    pointer_loop,
    too_many_pointers,
    label_too_long,
    empty_label,
    name_too_long,
    rdlength_past_end,
    bad_rdata,
    counts_exceed_packet,
    bad_txt_key,
    txt_string_too_long,
    message_too_large,
};

// What each value means: error_category().message() says it.
inline const char* describe(errc e) noexcept {
    switch (e) {
    case errc::truncated: return "DNS message truncated";
    case errc::bad_label_type: return "DNS label type 0x40 or 0x80 is not supported";
    case errc::forward_pointer: return "DNS compression pointer points forward";
    case errc::pointer_loop: return "DNS compression pointer loops";
    case errc::too_many_pointers: return "DNS name follows too many compression pointers";
    case errc::label_too_long: return "DNS label longer than 63 bytes";
    case errc::empty_label: return "DNS name has an empty label";
    case errc::name_too_long: return "DNS name longer than 255 bytes";
    case errc::rdlength_past_end: return "DNS record data extends past the message";
    case errc::bad_rdata: return "DNS record data does not match its type";
    case errc::counts_exceed_packet: return "DNS section counts exceed what the message can hold";
    case errc::bad_txt_key: return "DNS-SD TXT key is empty, has '=' or is not printable ASCII";
    case errc::txt_string_too_long: return "DNS TXT string longer than 255 bytes";
    case errc::message_too_large: return "DNS message larger than 65535 bytes";
    }
    return "unknown mDNS error";
}

inline const std::error_category& error_category() noexcept {
    static const librats::detail::enum_error_category<errc, describe> category("librats.mdns");
    return category;
}

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace librats::mdns

template <>
struct std::is_error_code_enum<librats::mdns::errc> : std::true_type {};

#endif
