#ifndef LIBRATS_TRANSPORT_TCP_HPP
#define LIBRATS_TRANSPORT_TCP_HPP

// The real Transport (concepts/transport.hpp) over asio TCP: dual-stack listening, connects to
// host names and IPv4/IPv6 literals, TCP_NODELAY on every stream.

#include <librats/detail/address.hpp>
#include <librats/detail/unique_function.hpp>

#include <asio.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace librats {

namespace detail {

// Nagle off: frames are already coalesced by the node. Non-blocking so the node can drain the
// socket with read_some after a readiness wait, with no buffer held while idle.
inline void configure_tcp_stream(asio::ip::tcp::socket& socket) {
    std::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    socket.non_blocking(true, ignored);
}

}  // namespace detail

class tcp_acceptor {
public:
    explicit tcp_acceptor(asio::any_io_executor ex) : acceptor_(std::move(ex)) {}

    // Completion: void(std::error_code, asio::ip::tcp::socket), on the acceptor's executor.
    template <class Token>
    auto async_accept(Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, asio::ip::tcp::socket)>(
            [this](auto handler) {
                acceptor_.async_accept(
                    [handler = std::move(handler)](std::error_code ec, asio::ip::tcp::socket socket) mutable {
                        if (!ec) detail::configure_tcp_stream(socket);
                        std::move(handler)(ec, std::move(socket));
                    });
            },
            token);
    }

    std::uint16_t port() const {
        std::error_code ec;
        const auto endpoint = acceptor_.local_endpoint(ec);
        return ec ? 0 : endpoint.port();
    }
    bool is_open() const { return acceptor_.is_open(); }
    void close(std::error_code& ec) { acceptor_.close(ec); }
    void close() { acceptor_.close(); }

    asio::ip::tcp::acceptor& native() noexcept { return acceptor_; }

private:
    asio::ip::tcp::acceptor acceptor_;
};

class tcp_transport {
public:
    using stream_type = asio::ip::tcp::socket;
    using acceptor_type = tcp_acceptor;
    using executor_type = asio::any_io_executor;

    explicit tcp_transport(executor_type ex) : ex_(std::move(ex)) {}

    executor_type get_executor() const { return ex_; }

    // "::" (or "") listens on both families; if the host has no IPv6, on 0.0.0.0 instead.
    acceptor_type listen(const std::string& bind_address, std::uint16_t port, std::error_code& ec) {
        acceptor_type acceptor(ex_);
        const auto address = asio::ip::make_address(bind_address.empty() ? "::" : bind_address, ec);
        if (ec) return acceptor;
        open_and_listen(acceptor.native(), {address, port}, ec);
        if (ec && address.is_v6() && address.is_unspecified()) {
            std::error_code ignored;
            acceptor.native().close(ignored);
            ec.clear();
            open_and_listen(acceptor.native(), {asio::ip::address_v4::any(), port}, ec);
        }
        return acceptor;
    }

    // Resolves the host (a name or a literal) and tries each address in turn.
    // Completion: void(std::error_code, stream_type).
    template <class Token>
    auto async_connect(const std::string& host, std::uint16_t port, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, stream_type)>(
            [this](auto handler, const std::string& host, std::uint16_t port) {
                start_connect(host, port, [handler = std::move(handler)](std::error_code ec, stream_type stream) mutable {
                    std::move(handler)(ec, std::move(stream));
                });
            },
            token, host, port);
    }

    static std::string remote_address(const stream_type& stream) {
        std::error_code ec;
        const auto endpoint = stream.remote_endpoint(ec);
        return ec ? std::string() : detail::format_endpoint(endpoint.address(), endpoint.port());
    }

    // Half-close so that queued bytes reach the peer before our FIN and no RST discards them.
    static void shutdown_send(stream_type& stream) {
        std::error_code ignored;
        stream.shutdown(asio::socket_base::shutdown_send, ignored);
    }

private:
    using connect_handler = detail::unique_function<void(std::error_code, stream_type)>;

    // Not a template: asio's resolver and connect operations are instantiated once, whatever
    // the caller's completion token.
    void start_connect(const std::string& host, std::uint16_t port, connect_handler handler) {
        auto socket = std::make_shared<stream_type>(ex_);
        // An IP literal needs no resolver (whose work runs on a private thread).
        std::error_code not_literal;
        const auto literal = asio::ip::make_address(host, not_literal);
        if (!not_literal) {
            socket->async_connect({literal, port}, [socket, handler = std::move(handler)](std::error_code ec) mutable {
                if (!ec) detail::configure_tcp_stream(*socket);
                handler(ec, std::move(*socket));
            });
            return;
        }
        auto resolver = std::make_shared<asio::ip::tcp::resolver>(ex_);
        resolver->async_resolve(host, std::to_string(port),
                                [resolver, socket, handler = std::move(handler)](
                                    std::error_code ec, asio::ip::tcp::resolver::results_type results) mutable {
                                    if (ec) return handler(ec, std::move(*socket));
                                    asio::async_connect(*socket, results,
                                                        [socket, handler = std::move(handler)](
                                                            std::error_code ec, const asio::ip::tcp::endpoint&) mutable {
                                                            if (!ec) detail::configure_tcp_stream(*socket);
                                                            handler(ec, std::move(*socket));
                                                        });
                                });
    }

    static void open_and_listen(asio::ip::tcp::acceptor& acceptor, const asio::ip::tcp::endpoint& endpoint,
                                std::error_code& ec) {
        acceptor.open(endpoint.protocol(), ec);
        if (ec) return;
        if (endpoint.address().is_v6()) acceptor.set_option(asio::ip::v6_only(false), ec);
        if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) acceptor.bind(endpoint, ec);
        if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            std::error_code ignored;
            acceptor.close(ignored);
        }
    }

    executor_type ex_;
};

}  // namespace librats

#endif
