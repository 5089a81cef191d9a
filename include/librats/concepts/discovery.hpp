#ifndef LIBRATS_CONCEPTS_DISCOVERY_HPP
#define LIBRATS_CONCEPTS_DISCOVERY_HPP

// Discovery: a module the node starts and stops, that finds peers and reports them through the
// discovery_context. Minimal shape (discovery/static_peers.hpp is a full model):
//
//   struct my_discovery {
//     static constexpr const char* name = "my_discovery";          // for logs
//     template <class Transport> void start(discovery_context<Transport>& ctx);   // on the strand
//     void stop();                                                  // on the strand; cancels timers
//     // optional, detected: void on_peer_connected(const peer_info&);
//     //                     void on_peer_disconnected(const peer_info&, std::error_code);
//   };
//
// It must be default-constructible; users configure it through node.get<my_discovery>().

#include <librats/discovery/context.hpp>
#include <librats/peer_info.hpp>

#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace librats::concepts {

namespace detail {

template <class D, class T, class = void>
struct has_discovery_members : std::false_type {};
template <class D, class T>
struct has_discovery_members<D, T,
                             std::void_t<decltype(std::string_view{D::name}),
                                         decltype(std::declval<D&>().start(std::declval<discovery_context<T>&>())),
                                         decltype(std::declval<D&>().stop())>>
    : std::is_default_constructible<D> {};

template <class D, class = void>
struct has_on_peer_connected : std::false_type {};
template <class D>
struct has_on_peer_connected<D, std::void_t<decltype(std::declval<D&>().on_peer_connected(
                                    std::declval<const peer_info&>()))>> : std::true_type {};

template <class D, class = void>
struct has_on_peer_disconnected : std::false_type {};
template <class D>
struct has_on_peer_disconnected<D, std::void_t<decltype(std::declval<D&>().on_peer_disconnected(
                                       std::declval<const peer_info&>(), std::error_code()))>> : std::true_type {};

}  // namespace detail

template <class D, class Transport>
inline constexpr bool is_discovery_v = detail::has_discovery_members<D, Transport>::value;

template <class Transport, class... Ds>
constexpr bool check_discovery() {
    static_assert((is_discovery_v<Ds, Transport> && ...),
                  "Discovery: each module needs `static constexpr const char* name`, "
                  "`start(discovery_context<Transport>&)`, `stop()` and a default constructor "
                  "(see librats/concepts/discovery.hpp)");
    return true;
}

}  // namespace librats::concepts

#endif
