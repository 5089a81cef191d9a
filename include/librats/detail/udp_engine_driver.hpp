#ifndef LIBRATS_DETAIL_UDP_ENGINE_DRIVER_HPP
#define LIBRATS_DETAIL_UDP_ENGINE_DRIVER_HPP

// What every UDP driver of a sans-I/O engine (the DHT's, mDNS') runs: a receive loop that hands
// each datagram to the engine and a timer that ticks the engine at its next deadline. Not a
// template, so the loops are compiled once however many engines a program drives. A driver
// lives in a shared_ptr, calls receive() once it is open and arm_timer() after each call into
// its engine; everything runs on the socket's executor.

#include <librats/detail/deadline_timer.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/ip/udp.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>
#include <system_error>
#include <vector>

namespace librats::detail {

class udp_engine_driver : public std::enable_shared_from_this<udp_engine_driver> {
public:
    using clock = std::chrono::steady_clock;

    udp_engine_driver(const udp_engine_driver&) = delete;
    udp_engine_driver& operator=(const udp_engine_driver&) = delete;
    virtual ~udp_engine_driver() = default;

    bool is_open() const noexcept { return socket_.is_open(); }

protected:
    udp_engine_driver(const asio::any_io_executor& ex, std::size_t max_datagram)
        : socket_(ex), timer_(ex), buffer_(max_datagram) {}

    // The engine's side.
    virtual void deliver(const asio::ip::udp::endpoint& from, std::string_view datagram, clock::time_point now) = 0;
    virtual void tick(clock::time_point now) = 0;
    virtual clock::time_point next_deadline() const = 0;

    void receive() {
        socket_.async_receive_from(asio::buffer(buffer_), sender_, [self = shared_from_this()](std::error_code ec, std::size_t n) {
            if (ec == asio::error::operation_aborted || !self->socket_.is_open()) return;
            // ICMP errors (connection refused) surface here on Linux: skip them.
            if (!ec) self->deliver(self->sender_, {self->buffer_.data(), n}, clock::now());
            self->arm_timer();
            self->receive();
        });
    }

    void arm_timer() {
        if (!socket_.is_open()) return;
        timer_.arm_at(next_deadline(), [self = shared_from_this()] {
            if (!self->socket_.is_open()) return;
            self->tick(clock::now());
            self->arm_timer();
        });
    }

    void close_socket() {
        std::error_code ignored;
        socket_.close(ignored);
        timer_.cancel();
    }

    asio::ip::udp::socket socket_;

private:
    deadline_timer timer_;
    std::vector<char> buffer_;
    asio::ip::udp::endpoint sender_;
};

}  // namespace librats::detail

#endif
