#ifndef LIBRATS_CONCEPTS_TRANSPORT_HPP
#define LIBRATS_CONCEPTS_TRANSPORT_HPP

// Transport: how a node makes byte streams. tcp_transport is the real one, memory_transport the
// in-process one for tests and simulations. Minimal shape (see tests/core/concepts_test.cpp for
// an archetype):
//
//   struct my_transport {
//     using stream_type = ...;     // asio AsyncWriteStream + async_wait(wait_read) + non-blocking
//                                  // read_some(buffers, ec) and write_some(buffers, ec)
//     using acceptor_type = ...;   // async_accept(void(error_code, stream_type)), port(), close(error_code&)
//     using executor_type = ...;
//     my_transport(executor_type);                                      // or more arguments, forwarded by the node
//     acceptor_type listen(const std::string& bind, uint16_t port, std::error_code&);
//     void async_connect(const std::string& host, uint16_t port, Handler);   // void(error_code, stream_type)
//     static std::string remote_address(const stream_type&);              // "ip:port"
//     static void shutdown_send(stream_type&);                            // half-close after the last write
//   };

#include <asio/buffer.hpp>
#include <asio/socket_base.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace librats::concepts {

namespace archetype {
struct wait_handler {
    void operator()(std::error_code) {}
};
struct io_handler {
    void operator()(std::error_code, std::size_t) {}
};
template <class Stream>
struct stream_handler {
    void operator()(std::error_code, Stream) {}
};
}  // namespace archetype

namespace detail {

template <class T, class = void>
struct has_stream_type : std::false_type {};
template <class T>
struct has_stream_type<T, std::void_t<typename T::stream_type>> : std::true_type {};

template <class T, class = void>
struct has_acceptor_type : std::false_type {};
template <class T>
struct has_acceptor_type<T, std::void_t<typename T::acceptor_type>> : std::true_type {};

template <class S, class = void>
struct is_transport_stream : std::false_type {};
template <class S>
struct is_transport_stream<
    S, std::void_t<decltype(std::declval<S&>().async_wait(asio::socket_base::wait_read, archetype::wait_handler{})),
                   decltype(std::declval<S&>().read_some(asio::mutable_buffer(), std::declval<std::error_code&>())),
                   decltype(std::declval<S&>().async_write_some(asio::const_buffer(), archetype::io_handler{})),
                   decltype(std::declval<S&>().write_some(asio::const_buffer(), std::declval<std::error_code&>())),
                   decltype(std::declval<S&>().close(std::declval<std::error_code&>())),
                   decltype(std::declval<S&>().get_executor())>> : std::is_move_constructible<S> {};

template <class A, class S, class = void>
struct is_transport_acceptor : std::false_type {};
template <class A, class S>
struct is_transport_acceptor<
    A, S,
    std::void_t<decltype(std::declval<A&>().async_accept(archetype::stream_handler<S>{})),
                decltype(std::uint16_t{std::declval<const A&>().port()}),
                decltype(std::declval<A&>().close(std::declval<std::error_code&>()))>> : std::true_type {};

template <class T, class = void>
struct has_listen : std::false_type {};
template <class T>
struct has_listen<T, std::void_t<decltype(std::declval<T&>().listen(std::declval<const std::string&>(), std::uint16_t{},
                                                                    std::declval<std::error_code&>()))>>
    : std::is_same<decltype(std::declval<T&>().listen(std::declval<const std::string&>(), std::uint16_t{},
                                                      std::declval<std::error_code&>())),
                   typename T::acceptor_type> {};

template <class T, class = void>
struct has_async_connect : std::false_type {};
template <class T>
struct has_async_connect<T, std::void_t<decltype(std::declval<T&>().async_connect(
                                std::declval<const std::string&>(), std::uint16_t{},
                                archetype::stream_handler<typename T::stream_type>{}))>> : std::true_type {};

template <class T, class = void>
struct has_stream_helpers : std::false_type {};
template <class T>
struct has_stream_helpers<
    T, std::void_t<decltype(std::string{T::remote_address(std::declval<const typename T::stream_type&>())}),
                   decltype(T::shutdown_send(std::declval<typename T::stream_type&>()))>> : std::true_type {};

template <class T, bool = has_stream_type<T>::value && has_acceptor_type<T>::value>
struct transport_members {
    static constexpr bool stream = false, acceptor = false, listen = false, connect = false, helpers = false;
};
template <class T>
struct transport_members<T, true> {
    static constexpr bool stream = is_transport_stream<typename T::stream_type>::value;
    static constexpr bool acceptor = is_transport_acceptor<typename T::acceptor_type, typename T::stream_type>::value;
    static constexpr bool listen = has_listen<T>::value;
    static constexpr bool connect = has_async_connect<T>::value;
    static constexpr bool helpers = has_stream_helpers<T>::value;
};

}  // namespace detail

template <class T>
inline constexpr bool is_transport_v = detail::has_stream_type<T>::value && detail::has_acceptor_type<T>::value &&
                                       detail::transport_members<T>::stream && detail::transport_members<T>::acceptor &&
                                       detail::transport_members<T>::listen && detail::transport_members<T>::connect &&
                                       detail::transport_members<T>::helpers;

// Names the first missing piece; basic_node asserts on this.
template <class T>
constexpr bool check_transport() {
    static_assert(detail::has_stream_type<T>::value && detail::has_acceptor_type<T>::value,
                  "Transport: missing `stream_type` or `acceptor_type` (see librats/concepts/transport.hpp)");
    static_assert(detail::transport_members<T>::stream || !detail::has_stream_type<T>::value,
                  "Transport: `stream_type` needs async_wait, read_some(buffer, ec), write_some(buffer, ec), "
                  "async_write_some, close(ec), "
                  "get_executor (see librats/concepts/transport.hpp)");
    static_assert(detail::transport_members<T>::acceptor || !detail::has_acceptor_type<T>::value,
                  "Transport: `acceptor_type` needs async_accept(void(error_code, stream_type)), port(), "
                  "close(ec) (see librats/concepts/transport.hpp)");
    static_assert(detail::transport_members<T>::listen || !detail::has_acceptor_type<T>::value,
                  "Transport: missing `acceptor_type listen(const std::string&, uint16_t, std::error_code&)` "
                  "(see librats/concepts/transport.hpp)");
    static_assert(detail::transport_members<T>::connect || !detail::has_stream_type<T>::value,
                  "Transport: missing `async_connect(host, port, void(error_code, stream_type))` "
                  "(see librats/concepts/transport.hpp)");
    static_assert(detail::transport_members<T>::helpers || !detail::has_stream_type<T>::value,
                  "Transport: missing `static std::string remote_address(const stream_type&)` or "
                  "`static void shutdown_send(stream_type&)` (see librats/concepts/transport.hpp)");
    return true;
}

}  // namespace librats::concepts

#endif
