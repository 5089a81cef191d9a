#ifndef LIBRATS_CONCEPTS_CRYPTO_HPP
#define LIBRATS_CONCEPTS_CRYPTO_HPP

// Crypto: how a connection is secured. plaintext and noise_xx<Suite> model it.
// Minimal shape (see crypto/plaintext.hpp for a full model):
//
//   struct my_crypto {
//     std::uint8_t wire_id() const;                // announced in the preamble; both ends must agree
//     bool encrypted() const;                      // whether connections made now are encrypted
//     const std::string& local_peer_id() const;    // our identity as peers will see it
//     class cipher {                               // one per established connection, both directions
//       std::size_t tag_size() const;              // bytes a sealed record grows by
//       static constexpr bool is_identity;         // true if seal/open never change anything
//       std::error_code seal(unsigned char* data, std::size_t size, unsigned char* tag_out);   // in place
//       std::error_code open(unsigned char* data, std::size_t size_with_tag);   // in place
//     };
//     class handshake {                            // sans-I/O: the node moves the messages
//       enum class action { write, read, done };
//       handshake(const my_crypto&, bool initiator, std::string_view prologue, std::string local_payload);
//       action next() const;
//       std::error_code write_message(std::string& out);        // appends the next message
//       std::error_code read_message(std::string_view message);
//       const std::string& remote_payload() const;              // valid once done
//       std::string authenticated_peer_id() const;              // "" if the crypto proves no identity
//       cipher split();
//     };
//   };
//
// wire_id(), encrypted() and tag_size() are run-time values so that one policy can switch
// encryption on and off (RatsClient::set_encryption_enabled) before the node starts.
//
// Optional members the node uses when present (crypto/noise_xx.hpp has them):
//   cipher::rekey_send(), cipher::rekey_receive() -> std::error_code    (Noise §11.3 rekey)
//   handshake::handshake_hash(), handshake::remote_static_key() -> std::string of raw bytes

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace librats::concepts {

namespace detail {

template <class C, class = void>
struct has_crypto_identity : std::false_type {};
template <class C>
struct has_crypto_identity<C, std::void_t<decltype(std::uint8_t{std::declval<const C&>().wire_id()}),
                                          decltype(bool{std::declval<const C&>().encrypted()}),
                                          decltype(std::string{std::declval<const C&>().local_peer_id()})>>
    : std::true_type {};

template <class C, class = void>
struct has_cipher : std::false_type {};
template <class C>
struct has_cipher<
    C, std::void_t<decltype(std::size_t{std::declval<const typename C::cipher&>().tag_size()}),
                   decltype(bool{C::cipher::is_identity}),
                   decltype(std::error_code{std::declval<typename C::cipher&>().seal(
                       std::declval<unsigned char*>(), std::size_t{}, std::declval<unsigned char*>())}),
                   decltype(std::error_code{
                       std::declval<typename C::cipher&>().open(std::declval<unsigned char*>(), std::size_t{})})>>
    : std::true_type {};

template <class C, class = void>
struct has_handshake : std::false_type {};
template <class C>
struct has_handshake<
    C, std::void_t<typename C::cipher,
                   decltype(typename C::handshake(std::declval<const C&>(), true, std::string_view(), std::string())),
                   decltype(std::declval<const typename C::handshake&>().next() == C::handshake::action::done),
                   decltype(C::handshake::action::write), decltype(C::handshake::action::read),
                   decltype(std::error_code{std::declval<typename C::handshake&>().write_message(
                       std::declval<std::string&>())}),
                   decltype(std::error_code{std::declval<typename C::handshake&>().read_message(std::string_view())}),
                   decltype(std::string{std::declval<const typename C::handshake&>().remote_payload()}),
                   decltype(std::string{std::declval<const typename C::handshake&>().authenticated_peer_id()})>>
    : std::is_convertible<decltype(std::declval<typename C::handshake&>().split()), typename C::cipher> {};

template <class Cipher, class = void>
struct has_rekey : std::false_type {};
template <class Cipher>
struct has_rekey<Cipher, std::void_t<decltype(std::error_code{std::declval<Cipher&>().rekey_send()}),
                                     decltype(std::error_code{std::declval<Cipher&>().rekey_receive()})>>
    : std::true_type {};

template <class Handshake, class = void>
struct has_channel_binding : std::false_type {};
template <class Handshake>
struct has_channel_binding<Handshake,
                           std::void_t<decltype(std::string{std::declval<const Handshake&>().handshake_hash()}),
                                       decltype(std::string{std::declval<const Handshake&>().remote_static_key()})>>
    : std::true_type {};

}  // namespace detail

// Optional members (see the top of this header).
template <class Cipher>
inline constexpr bool supports_rekey_v = detail::has_rekey<Cipher>::value;
template <class Handshake>
inline constexpr bool has_channel_binding_v = detail::has_channel_binding<Handshake>::value;

template <class C>
inline constexpr bool is_crypto_v = detail::has_crypto_identity<C>::value && detail::has_cipher<C>::value &&
                                    detail::has_handshake<C>::value;

template <class C>
constexpr bool check_crypto() {
    static_assert(detail::has_crypto_identity<C>::value,
                  "Crypto: missing `wire_id()`, `encrypted()` or `local_peer_id()` "
                  "(see librats/concepts/crypto.hpp)");
    static_assert(detail::has_cipher<C>::value,
                  "Crypto: missing `cipher` with tag_size(), is_identity, seal(data, size, tag) and open(data, size) "
                  "returning std::error_code "
                  "(see librats/concepts/crypto.hpp)");
    static_assert(detail::has_handshake<C>::value,
                  "Crypto: missing `handshake` with next(), write_message, read_message, remote_payload, "
                  "authenticated_peer_id, split() (see librats/concepts/crypto.hpp)");
    return true;
}

}  // namespace librats::concepts

#endif
