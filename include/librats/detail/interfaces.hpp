#ifndef LIBRATS_DETAIL_INTERFACES_HPP
#define LIBRATS_DETAIL_INTERFACES_HPP

// The host's network interfaces with their addresses (POSIX getifaddrs; asio has no such call):
// mDNS needs an interface's index to join ff02::fb on it, and its addresses for A/AAAA records.

#include <asio/ip/address.hpp>

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

namespace librats::detail {

struct network_interface {
    std::string name;
    unsigned index = 0;
    std::vector<asio::ip::address> addresses;
};

inline std::vector<network_interface> network_interfaces() {
    std::vector<network_interface> out;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return out;
    for (const ifaddrs* it = list; it; it = it->ifa_next) {
        if (!it->ifa_addr || !(it->ifa_flags & IFF_UP)) continue;
        const auto family = it->ifa_addr->sa_family;
        if (family != AF_INET && family != AF_INET6) continue;
        auto entry = std::find_if(out.begin(), out.end(), [&](const network_interface& i) { return i.name == it->ifa_name; });
        if (entry == out.end()) {
            out.push_back({it->ifa_name, if_nametoindex(it->ifa_name), {}});
            entry = std::prev(out.end());
        }
        if (family == AF_INET) {
            asio::ip::address_v4::bytes_type bytes;
            std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in*>(it->ifa_addr)->sin_addr, bytes.size());
            entry->addresses.emplace_back(asio::ip::address_v4(bytes));
        } else {
            const auto* v6 = reinterpret_cast<const sockaddr_in6*>(it->ifa_addr);
            asio::ip::address_v6::bytes_type bytes;
            std::memcpy(bytes.data(), &v6->sin6_addr, bytes.size());
            entry->addresses.emplace_back(asio::ip::address_v6(bytes, v6->sin6_scope_id));
        }
    }
    freeifaddrs(list);
    return out;
}

// The interface holding `address`, if any.
inline const network_interface* interface_with(const std::vector<network_interface>& interfaces,
                                               const asio::ip::address& address) {
    for (const auto& i : interfaces)
        for (const auto& a : i.addresses)
            if (a.is_v4() == address.is_v4() && (a.is_v4() ? a == address : a.to_v6().to_bytes() == address.to_v6().to_bytes()))
                return &i;
    return nullptr;
}

}  // namespace librats::detail

#endif
