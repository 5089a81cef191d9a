#ifndef LIBRATS_STUN_TRANSACTION_HPP
#define LIBRATS_STUN_TRANSACTION_HPP

// One Binding client transaction over UDP (RFC 8489 §6.2.1, §6.3) without I/O. The caller
// sends the request when it creates the transaction and again whenever on_timeout() says so,
// calls on_timeout() at next_deadline(), and passes every datagram the socket receives to
// on_response(). With the defaults requests go out at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s
// and the transaction fails at 39.5 s.

#include <librats/stun/error.hpp>
#include <librats/stun/message.hpp>

#include <asio/ip/udp.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

namespace librats::stun {

struct transaction_options {
    std::chrono::steady_clock::duration rto = std::chrono::milliseconds(500);  // first wait, doubled after each
    unsigned request_count = 7;                                                // Rc: requests in all
    unsigned last_wait_multiplier = 16;  // Rm: after the last request, wait Rm times the first RTO
};

// Datagrams that did not complete the transaction. A response counts only from the address the
// request went to: anyone who can guess a port could otherwise forge the mapped address.
struct transaction_statistics {
    std::uint64_t malformed = 0;     // not STUN, or a response to us that fails validation
    std::uint64_t unmatched = 0;     // another transaction ID, or not a Binding response
    std::uint64_t wrong_source = 0;  // our transaction ID from another address
};

class transaction {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;

    enum class state { waiting, succeeded, failed };
    enum class timeout_action { wait, retransmit, failed };

    // The first request goes out at now.
    transaction(const transaction_id& id, asio::ip::udp::endpoint server, transaction_options options, time_point now)
        : id_(id), server_(std::move(server)), options_(options), wait_(options.rto), deadline_(now + first_wait()) {}

    const transaction_id& id() const noexcept { return id_; }
    const asio::ip::udp::endpoint& server() const noexcept { return server_; }
    state current_state() const noexcept { return state_; }
    unsigned requests_sent() const noexcept { return requests_sent_; }
    const transaction_statistics& statistics() const noexcept { return stats_; }

    // Once the transaction is over: why it failed, what the server mapped us to, and the
    // server's ERROR-CODE when it failed with errc::error_response (absent if the response had none).
    std::error_code error() const noexcept { return error_; }
    const asio::ip::udp::endpoint& mapped() const noexcept { return mapped_; }
    const std::optional<error_status>& error_response() const noexcept { return error_response_; }

    // time_point::max() once the transaction is over.
    time_point next_deadline() const noexcept { return state_ == state::waiting ? deadline_ : time_point::max(); }

    // Before the deadline (or when over) nothing is due; calling early is harmless.
    timeout_action on_timeout(time_point now) {
        if (state_ != state::waiting || now < deadline_) return timeout_action::wait;
        if (requests_sent_ >= options_.request_count) {
            fail(errc::timed_out);
            return timeout_action::failed;
        }
        ++requests_sent_;
        wait_ *= 2;
        deadline_ = now + (requests_sent_ == options_.request_count ? options_.rto * options_.last_wait_multiplier : wait_);
        return timeout_action::retransmit;
    }

    // True when the datagram completed the transaction (see current_state()). Responses that
    // fail validation are dropped and the requests go on (§6.3), except those with unknown
    // comprehension-required attributes, which fail the transaction (§6.3.3, §6.3.4).
    bool on_response(const asio::ip::udp::endpoint& from, std::string_view packet) {
        if (state_ != state::waiting) return false;
        message_header header;
        if (decode_header(packet, header)) {
            ++stats_.malformed;
            return false;
        }
        if (header.id != id_ || header.method != binding || header.cls == message_class::request ||
            header.cls == message_class::indication) {
            ++stats_.unmatched;
            return false;
        }
        if (from != server_) {
            ++stats_.wrong_source;
            return false;
        }
        const auto ec = decode(packet, message_);
        if (ec == errc::unknown_required_attribute) return fail(ec);
        if (ec) {
            ++stats_.malformed;
            return false;
        }
        if (header.cls == message_class::error_response) {
            error_response_ = message_.error;
            return fail(errc::error_response);
        }
        const auto mapped = message_.mapped();
        if (!mapped) return fail(errc::missing_mapped_address);
        mapped_ = *mapped;
        state_ = state::succeeded;
        return true;
    }

private:
    // Rc = 1 sends one request and waits only the last wait.
    clock::duration first_wait() const {
        return options_.request_count <= 1 ? options_.rto * options_.last_wait_multiplier : options_.rto;
    }

    bool fail(std::error_code ec) {
        error_ = ec;
        state_ = state::failed;
        return true;
    }

    transaction_id id_;
    asio::ip::udp::endpoint server_;
    transaction_options options_;
    clock::duration wait_;
    time_point deadline_;
    unsigned requests_sent_ = 1;
    state state_ = state::waiting;
    std::error_code error_;
    asio::ip::udp::endpoint mapped_;
    std::optional<error_status> error_response_;
    transaction_statistics stats_;
    message message_;  // reused across responses
};

}  // namespace librats::stun

#endif
