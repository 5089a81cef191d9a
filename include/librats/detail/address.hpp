#ifndef LIBRATS_DETAIL_ADDRESS_HPP
#define LIBRATS_DETAIL_ADDRESS_HPP

#include <asio/ip/address.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace librats::detail {

// "ip:port", IPv6 as "[ip]:port"; an IPv4-mapped IPv6 address (dual-stack accept) prints as IPv4.
inline std::string format_endpoint(const asio::ip::address& address, std::uint16_t port) {
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return format_endpoint(asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()), port);
    if (address.is_v6()) return '[' + address.to_string() + "]:" + std::to_string(port);
    return address.to_string() + ':' + std::to_string(port);
}

struct host_port {
    std::string host;
    std::uint16_t port = 0;
};

// Accepts "host:port", "1.2.3.4:port" and "[v6]:port"; false when malformed.
inline bool parse_host_port(std::string_view text, host_port& out) {
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos || text.find(':') != colon) return false;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (host.empty() || port.empty() || port.size() > 5) return false;
    unsigned value = 0;
    for (const char c : port) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return false;
    out.host.assign(host);
    out.port = static_cast<std::uint16_t>(value);
    return true;
}

}  // namespace librats::detail

#endif
