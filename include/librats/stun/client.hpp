#ifndef LIBRATS_STUN_CLIENT_HPP
#define LIBRATS_STUN_CLIENT_HPP

// Asks STUN servers which address and port a NAT maps our UDP socket to (RFC 8489 Binding).
// The client owns one socket (IPv4 or IPv6, as bound) and tries the servers in turn: a server
// that does not resolve in time, times out (transaction.hpp) or answers with an error hands over
// to the next; the first mapped address wins. A discovery therefore ends within, per server,
// resolve_timeout plus the transaction's time (39.5 s by default).
//
// Everything but open() runs on the executor given (a strand, or one thread). Handlers are
// posted to it, never run inside the call that completes them.

#include <librats/stun/error.hpp>
#include <librats/stun/message.hpp>
#include <librats/stun/transaction.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/ip/udp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <botan/system_rng.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace librats::stun {

struct server_address {
    std::string host;  // a name or a literal address of the socket's family
    std::uint16_t port = 3478;
};

struct client_options {
    transaction_options transaction;
    std::chrono::steady_clock::duration resolve_timeout = std::chrono::seconds(5);
    std::string software = "librats";  // SOFTWARE of the requests; empty sends none
    bool fingerprint = true;
};

struct client_statistics {
    transaction_statistics ignored;  // datagrams of every finished transaction that completed none
    std::uint64_t requests_sent = 0;
    std::uint64_t send_failures = 0;
    std::uint64_t servers_tried = 0;
};

class stun_client : public std::enable_shared_from_this<stun_client> {
public:
    using clock = std::chrono::steady_clock;
    using discover_handler = std::function<void(std::error_code, asio::ip::udp::endpoint mapped)>;

    static std::shared_ptr<stun_client> create(asio::any_io_executor ex, client_options options = {}) {
        return std::shared_ptr<stun_client>(new stun_client(std::move(ex), std::move(options)));
    }

    // Opens and binds the socket; its family is the one of bind's address.
    std::error_code open(const asio::ip::udp::endpoint& bind) {
        std::error_code ec;
        socket_.open(bind.protocol(), ec);
        if (!ec) socket_.bind(bind, ec);
        if (!ec) socket_.non_blocking(true, ec);
        if (ec) socket_.close();
        return ec;
    }

    bool is_open() const noexcept { return socket_.is_open(); }
    asio::ip::udp::endpoint local_endpoint() const {
        std::error_code ec;
        return socket_.local_endpoint(ec);
    }
    const client_statistics& statistics() const noexcept { return stats_; }
    // The ERROR-CODE of the last error response a server sent, if any.
    const std::optional<error_status>& last_error_response() const noexcept { return last_error_response_; }

    // One discovery at a time. Completes with the mapped address, or with the error of the last
    // server tried.
    void async_discover(std::vector<server_address> servers, discover_handler handler) {
        std::error_code refused;
        if (handler_) {
            refused = errc::discovery_in_progress;
        } else if (!socket_.is_open()) {
            refused = errc::not_open;
        } else if (servers.empty()) {
            refused = errc::no_servers;
        }
        if (refused) {
            asio::post(socket_.get_executor(), [handler = std::move(handler), refused] { handler(refused, {}); });
            return;
        }
        servers_ = std::move(servers);
        next_server_ = 0;
        handler_ = std::move(handler);
        last_error_ = {};
        last_error_response_.reset();
        if (!receiving_) receive();
        try_next_server();
    }

    // The running discovery, if any, completes with asio::error::operation_aborted.
    void cancel() {
        if (handler_) finish(asio::error::operation_aborted, {});
    }

    void close() {
        cancel();
        std::error_code ignored;
        socket_.close(ignored);
    }

private:
    stun_client(asio::any_io_executor ex, client_options options)
        : socket_(ex), resolver_(ex), timer_(ex), options_(std::move(options)) {}

    void try_next_server() {
        retire_transaction();
        ++attempt_;
        if (next_server_ == servers_.size()) return finish(last_error_, {});
        const auto& server = servers_[next_server_++];
        ++stats_.servers_tried;
        timer_.expires_after(options_.resolve_timeout);
        timer_.async_wait([self = shared_from_this(), attempt = attempt_](std::error_code ec) {
            if (ec == asio::error::operation_aborted || attempt != self->attempt_) return;
            self->resolver_.cancel();
            self->server_failed(errc::resolve_timed_out);
        });
        resolver_.async_resolve(local_endpoint().protocol(), server.host, std::to_string(server.port),
                                asio::ip::udp::resolver::numeric_service,
                                [self = shared_from_this(), attempt = attempt_](
                                    std::error_code ec, const asio::ip::udp::resolver::results_type& results) {
                                    if (attempt != self->attempt_) return;
                                    if (ec) return self->server_failed(ec);
                                    if (results.empty()) return self->server_failed(errc::no_usable_address);
                                    self->start_transaction(results.begin()->endpoint());
                                });
    }

    void server_failed(std::error_code ec) {
        last_error_ = ec;
        try_next_server();
    }

    void start_transaction(const asio::ip::udp::endpoint& server) {
        // Unpredictable IDs: an off-path attacker must not be able to answer for the server.
        transaction_id id;
        Botan::system_rng().randomize(id.data(), id.size());
        encode_binding_request(request_, id, options_.software, options_.fingerprint);
        transaction_.emplace(id, server, options_.transaction, clock::now());
        send();
        arm_timer();
    }

    void send() {
        ++stats_.requests_sent;
        std::error_code ec;
        socket_.send_to(asio::buffer(request_), transaction_->server(), 0, ec);
        if (ec) ++stats_.send_failures;  // a lost request: the retransmissions cover it
    }

    void arm_timer() {
        timer_.expires_at(transaction_->next_deadline());
        timer_.async_wait([self = shared_from_this(), attempt = attempt_](std::error_code ec) {
            if (ec == asio::error::operation_aborted || attempt != self->attempt_) return;
            self->on_timer();
        });
    }

    void on_timer() {
        switch (transaction_->on_timeout(clock::now())) {
        case transaction::timeout_action::wait: return arm_timer();
        case transaction::timeout_action::retransmit:
            send();
            return arm_timer();
        case transaction::timeout_action::failed: return server_failed(transaction_->error());
        }
    }

    void receive() {
        receiving_ = true;
        socket_.async_receive_from(asio::buffer(buffer_), sender_,
                                   [self = shared_from_this()](std::error_code ec, std::size_t n) {
                                       self->receiving_ = false;
                                       if (!self->socket_.is_open() || !self->handler_) return;
                                       // ICMP errors (port unreachable) surface here on Linux: the
                                       // transaction's timeout handles that server.
                                       if (!ec && self->transaction_) self->on_datagram(n);
                                       if (self->handler_ && !self->receiving_) self->receive();
                                   });
    }

    void on_datagram(std::size_t size) {
        auto& t = *transaction_;
        if (!t.on_response(sender_, {buffer_.data(), size})) return;
        if (t.current_state() == transaction::state::succeeded) return finish({}, t.mapped());
        if (t.error_response()) last_error_response_ = t.error_response();
        server_failed(t.error());
    }

    void retire_transaction() {
        if (!transaction_) return;
        const auto& s = transaction_->statistics();
        stats_.ignored.malformed += s.malformed;
        stats_.ignored.unmatched += s.unmatched;
        stats_.ignored.wrong_source += s.wrong_source;
        transaction_.reset();
    }

    // Stops every operation of the discovery and posts its handler.
    void finish(std::error_code ec, asio::ip::udp::endpoint mapped) {
        retire_transaction();
        ++attempt_;
        resolver_.cancel();
        timer_.cancel();
        if (receiving_) {
            std::error_code ignored;
            socket_.cancel(ignored);
        }
        asio::post(socket_.get_executor(),
                   [handler = std::move(handler_), ec, mapped] { handler(ec, mapped); });
        handler_ = nullptr;
    }

    asio::ip::udp::socket socket_;
    asio::ip::udp::resolver resolver_;
    asio::steady_timer timer_;
    client_options options_;
    std::vector<server_address> servers_;
    std::size_t next_server_ = 0;
    discover_handler handler_;
    std::error_code last_error_;
    std::optional<error_status> last_error_response_;
    std::optional<transaction> transaction_;
    std::uint64_t attempt_ = 0;  // bumped per server and at the end: stale completions see a new value
    std::string request_;        // the bytes of the current request, resent as they are
    std::array<char, 65536> buffer_{};
    asio::ip::udp::endpoint sender_;
    bool receiving_ = false;
    client_statistics stats_;
};

}  // namespace librats::stun

#endif
