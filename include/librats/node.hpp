#ifndef LIBRATS_NODE_HPP
#define LIBRATS_NODE_HPP

// basic_node<Transport, Crypto, Discovery...>: a peer-to-peer node composed from policies.
//
// Threads: the node runs on a strand of the executor it is given. Every member function may be
// called from any thread. Every handler and completion of the node runs on that strand unless
// the completion token names another executor; handlers must not block it.
//
// Lifetime: the handle may be destroyed at any time (it stops the node); handlers already
// queued may still run until the strand processes the stop, so wait for async_stop() before
// destroying what your handlers use.

#include <librats/concepts/crypto.hpp>
#include <librats/concepts/discovery.hpp>
#include <librats/concepts/transport.hpp>
#include <librats/config.hpp>
#include <librats/crypto/plaintext.hpp>
#include <librats/detail/completion.hpp>
#include <librats/detail/node_impl.hpp>
#include <librats/error.hpp>
#include <librats/log.hpp>
#include <librats/peer_info.hpp>

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace librats {

template <class Transport, class Crypto = plaintext, class... Discovery>
class basic_node {
    // If you get an error on one of the following lines, a policy lacks a member the node needs:
    // the message names it and the concept header that describes the policy.
    static_assert(concepts::check_transport<Transport>());
    static_assert(concepts::check_crypto<Crypto>());
    static_assert(concepts::check_discovery<Transport, Discovery...>());

    using impl_type = detail::node_impl<Transport, Crypto, Discovery...>;

public:
    using transport_type = Transport;
    using crypto_type = Crypto;
    using executor_type = asio::any_io_executor;
    using message_handler = typename impl_type::message_handler;
    using peer_handler = typename impl_type::peer_handler;
    using disconnect_handler = typename impl_type::disconnect_handler;
    using data_handler = typename impl_type::data_handler;

    // Extra arguments construct the transport after its executor (memory_transport: the network).
    template <class... TransportArgs>
    explicit basic_node(const executor_type& ex, node_options options = {}, TransportArgs&&... transport_args)
        : impl_(std::make_shared<impl_type>(ex, std::move(options), std::forward<TransportArgs>(transport_args)...)) {}

    basic_node(const basic_node&) = delete;
    basic_node& operator=(const basic_node&) = delete;
    basic_node(basic_node&&) noexcept = default;
    basic_node& operator=(basic_node&&) noexcept = default;

    ~basic_node() {
        if (impl_) impl_->stop(nullptr);
    }

    // ---- lifecycle

    // Listens (synchronously, so listen_port() is valid on return) and starts discovery.
    void start(std::error_code& ec) { ec = impl_->start(); }
    void start() {
        std::error_code ec;
        start(ec);
        if (ec) throw std::system_error(ec, "librats: start");
    }

    // Closes every connection (peers get a goodbye) and stops discovery. No handler runs after
    // the completion; disconnect handlers are not called for connections closed by stop.
    template <class Token>
    auto async_stop(Token&& token) {
        return asio::async_initiate<Token, void()>(
            [impl = impl_](auto handler) {
                impl->stop(detail::posting_completion<void()>(std::move(handler), impl->strand()));
            },
            token);
    }
    void stop() { impl_->stop(nullptr); }

    bool is_running() const noexcept { return impl_->is_running(); }
    std::uint16_t listen_port() const noexcept { return impl_->listen_port(); }
    std::string peer_id() const { return impl_->local_peer_id(); }
    executor_type get_executor() const { return impl_->strand(); }
    // True inside the node's handlers (and the callbacks they run).
    bool running_in_this_thread() const noexcept { return impl_->strand().running_in_this_thread(); }

    // ---- connections

    // Dials host:port (a name, an IPv4 or an IPv6 literal) and completes after the handshake:
    // void(std::error_code, std::string peer_id). Dialing a peer already connected completes
    // with its ID; the duplicate connection is closed.
    template <class Token>
    auto async_connect(std::string host, std::uint16_t port, Token&& token) {
        return async_connect(std::move(host), port, std::string(), std::forward<Token>(token));
    }

    // The same, for a peer whose ID is known (from a previous session, a DHT or a user): with
    // an encrypting Crypto the handshake proves the ID, and any other peer at that address
    // fails with errc::authentication_failed.
    template <class Token>
    auto async_connect(std::string host, std::uint16_t port, std::string expected_peer_id, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::string)>(
            [impl = impl_](auto handler, std::string host, std::uint16_t port, std::string expected_peer_id) {
                impl->connect(std::move(host), port, std::move(expected_peer_id),
                              detail::posting_completion<void(std::error_code, std::string)>(std::move(handler),
                                                                                             impl->strand()));
            },
            token, std::move(host), port, std::move(expected_peer_id));
    }

    // Closes the connection to peer_id after flushing what was queued for it.
    void disconnect(const std::string& peer_id) { impl_->disconnect(peer_id); }

    // Replaces the key of our direction of an encrypted connection now (Noise rekey; the peer
    // follows at the same point of the stream). node_options sets when it happens by itself.
    void rekey(const std::string& peer_id) { impl_->rekey(peer_id); }

    // ---- typed JSON messages

    // Completes with void(std::error_code) once the message is handed to the socket, or at once
    // with the reason it cannot be (peer_not_found, send_queue_full, message_too_large, ...).
    template <class Token>
    auto async_send(const std::string& peer_id, std::string_view type, const nlohmann::json& data, Token&& token) {
        return initiate_send(peer_id, wire::frame_type::json, type, data.dump(), std::forward<Token>(token));
    }
    std::error_code send(const std::string& peer_id, std::string_view type, const nlohmann::json& data) {
        const auto text = data.dump();
        return impl_->send_frame(peer_id, {wire::frame_type::json, type, text}, nullptr);
    }

    // To every connected peer; returns the number of peers it was queued for. The completion,
    // void(std::error_code, std::size_t delivered), runs once when every copy was written.
    template <class Token>
    auto async_broadcast(std::string_view type, const nlohmann::json& data, Token&& token) {
        return initiate_broadcast(wire::frame_type::json, type, data.dump(), std::forward<Token>(token));
    }
    std::size_t broadcast(std::string_view type, const nlohmann::json& data) {
        const auto text = data.dump();
        return impl_->broadcast_frame({wire::frame_type::json, type, text}, nullptr);
    }

    // ---- opaque bytes (binary, or text for the legacy string API)

    template <class Token>
    auto async_send_data(const std::string& peer_id, data_kind kind, std::string_view bytes, Token&& token) {
        return initiate_send(peer_id, frame_type_of(kind), {}, std::string(bytes), std::forward<Token>(token));
    }
    std::error_code send_data(const std::string& peer_id, data_kind kind, std::string_view bytes) {
        return impl_->send_frame(peer_id, {frame_type_of(kind), {}, bytes}, nullptr);
    }
    template <class Token>
    auto async_broadcast_data(data_kind kind, std::string_view bytes, Token&& token) {
        return initiate_broadcast(frame_type_of(kind), {}, std::string(bytes), std::forward<Token>(token));
    }
    std::size_t broadcast_data(data_kind kind, std::string_view bytes) {
        return impl_->broadcast_frame({frame_type_of(kind), {}, bytes}, nullptr);
    }

    // ---- handlers (run on the strand; an exception thrown by one is logged and dropped)

    void on(std::string type, message_handler handler) { impl_->add_message_handler(std::move(type), std::move(handler), false); }
    void once(std::string type, message_handler handler) { impl_->add_message_handler(std::move(type), std::move(handler), true); }
    void off(const std::string& type) { impl_->remove_message_handlers(type); }

    void set_peer_connected_handler(peer_handler handler) { impl_->set_connected_handler(std::move(handler)); }
    void set_peer_disconnected_handler(disconnect_handler handler) { impl_->set_disconnected_handler(std::move(handler)); }
    void set_data_handler(data_handler handler) { impl_->set_data_handler(std::move(handler)); }
    // Called when a peer's send queue, after refusing a send, has drained below half its limit.
    void set_writable_handler(peer_handler handler) { impl_->set_writable_handler(std::move(handler)); }

    // ---- state

    std::size_t peer_count() const { return impl_->peer_count(); }
    std::vector<peer_info> peers() const { return impl_->peers(); }
    std::optional<peer_info> find_peer(const std::string& peer_id) const { return impl_->find_peer(peer_id); }
    std::size_t max_peers() const noexcept { return impl_->max_peers(); }
    void set_max_peers(std::size_t n) noexcept { impl_->set_max_peers(n); }
    // Dialing an ignored host (an IP literal or a name, as given to connect) fails with
    // errc::ignored_address; RatsClient ignores the public address STUN reports.
    void ignore_host(const std::string& host) { impl_->ignore_host(host); }
    bool is_ignored(const std::string& host) const { return impl_->is_ignored(host); }
    std::vector<std::string> ignored_hosts() const { return impl_->ignored_hosts(); }
    node_statistics statistics() const noexcept { return impl_->statistics(); }

    logger& log() noexcept { return impl_->mutable_log(); }
    const logger& log() const noexcept { return impl_->log(); }
    // The crypto policy, to configure identity before start().
    Crypto& crypto() noexcept { return impl_->mutable_crypto(); }
    const Crypto& crypto() const noexcept { return impl_->crypto(); }
    // A discovery module of this node, e.g. node.get<static_peers>().add_peer("host", 8080).
    template <class Module>
    Module& get() noexcept { return std::get<Module>(impl_->discovery()); }
    template <class Module>
    const Module& get() const noexcept { return std::get<Module>(impl_->discovery()); }
    // Whether Module is one of this node's discovery modules.
    template <class Module>
    static constexpr bool has_module = (std::is_same_v<Module, Discovery> || ...);

private:
    static constexpr wire::frame_type frame_type_of(data_kind kind) noexcept {
        return kind == data_kind::binary ? wire::frame_type::binary : wire::frame_type::text;
    }

    // Everything the initiation uses is passed by value: a deferred token may run it later.
    template <class Token>
    auto initiate_send(const std::string& peer_id, wire::frame_type type, std::string_view json_type, std::string body,
                       Token&& token) {
        return asio::async_initiate<Token, void(std::error_code)>(
            [impl = impl_, type](auto handler, const std::string& peer_id, const std::string& json_type,
                                 const std::string& body) {
                impl->send_frame(peer_id, {type, json_type, body},
                                 detail::posting_completion<void(std::error_code)>(std::move(handler), impl->strand()));
            },
            token, peer_id, std::string(json_type), std::move(body));
    }

    template <class Token>
    auto initiate_broadcast(wire::frame_type type, std::string_view json_type, std::string body, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [impl = impl_, type](auto handler, const std::string& json_type, const std::string& body) {
                impl->broadcast_frame({type, json_type, body},
                                      detail::posting_completion<void(std::error_code, std::size_t)>(
                                          std::move(handler), impl->strand()));
            },
            token, std::string(json_type), std::move(body));
    }

    std::shared_ptr<impl_type> impl_;
};

}  // namespace librats

#endif
