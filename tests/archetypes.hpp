#ifndef LIBRATS_TESTS_ARCHETYPES_HPP
#define LIBRATS_TESTS_ARCHETYPES_HPP

// The least a policy may provide, per concept. Declared, never defined: they exist to be
// checked at compile time (concepts_test.cpp, compile_fail/).

#include <librats/discovery/context.hpp>

#include <asio.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace librats::test::archetype {

struct stream {
    using executor_type = asio::any_io_executor;
    stream(stream&&) noexcept;
    executor_type get_executor();
    template <class Handler>
    void async_wait(asio::socket_base::wait_type, Handler&&);
    std::size_t read_some(asio::mutable_buffer, std::error_code&);
    std::size_t write_some(asio::const_buffer, std::error_code&);
    template <class Handler>
    void async_write_some(asio::const_buffer, Handler&&);
    void close(std::error_code&);
};

struct acceptor {
    template <class Handler>
    void async_accept(Handler&&);
    std::uint16_t port() const;
    void close(std::error_code&);
};

struct transport_without_connect {
    using stream_type = stream;
    using acceptor_type = acceptor;
    acceptor_type listen(const std::string&, std::uint16_t, std::error_code&);
    static std::string remote_address(const stream_type&);
    static void shutdown_send(stream_type&);
};

struct transport : transport_without_connect {
    template <class Handler>
    void async_connect(const std::string&, std::uint16_t, Handler&&);
};

struct cipher {
    static constexpr bool is_identity = false;
    std::size_t tag_size() const;
    std::error_code seal(unsigned char*, std::size_t, unsigned char*);
    std::error_code open(unsigned char*, std::size_t);
};

struct crypto_without_cipher {
    std::uint8_t wire_id() const;
    bool encrypted() const;
    const std::string& local_peer_id() const;
    struct handshake {
        enum class action { write, read, done };
        handshake(const crypto_without_cipher&, bool, std::string_view, std::string);
        action next() const;
        std::error_code write_message(std::string&);
        std::error_code read_message(std::string_view);
        const std::string& remote_payload() const;
        std::string authenticated_peer_id() const;
        cipher split();
    };
};

struct crypto : crypto_without_cipher {
    using cipher = archetype::cipher;
    struct handshake : crypto_without_cipher::handshake {
        handshake(const crypto&, bool, std::string_view, std::string);
    };
};

struct discovery {
    static constexpr const char* name = "archetype";
    template <class Transport>
    void start(discovery_context<Transport>&);
    void stop();
};

}  // namespace librats::test::archetype

#endif
