#ifndef LIBRATS_DHT_UDP_NODE_HPP
#define LIBRATS_DHT_UDP_NODE_HPP

// The DHT engine on a real UDP socket: a receive loop feeds engine::receive, a timer runs
// engine::tick at the engine's deadline, and the engine's packets go out with non-blocking
// send_to. Everything but open() runs on the executor given (a strand, or one thread); open() may
// be called from any thread before the first operation.

#include <librats/detail/deadline_timer.hpp>
#include <librats/dht/engine.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/udp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

namespace librats::dht {

class udp_node : public std::enable_shared_from_this<udp_node> {
public:
    using clock = engine::clock;

    static std::shared_ptr<udp_node> create(asio::any_io_executor ex, const node_id& id, engine_options options,
                                            std::uint64_t seed) {
        return std::shared_ptr<udp_node>(new udp_node(std::move(ex), id, std::move(options), seed));
    }

    // Opens and binds the socket; start() then runs the loops.
    std::error_code open(const asio::ip::udp::endpoint& bind) {
        std::error_code ec;
        socket_.open(bind.protocol(), ec);
        // An IPv6 node serves the IPv6 DHT only (BEP 32): no IPv4-mapped peers on it.
        if (!ec && bind.address().is_v6()) socket_.set_option(asio::ip::v6_only(true), ec);
        if (!ec) socket_.bind(bind, ec);
        if (!ec) socket_.non_blocking(true, ec);
        if (ec) socket_.close();
        return ec;
    }

    // On the executor from here on.
    void start() {
        receive();
        arm_timer();
    }

    // Lookups still running are abandoned: their handlers may hold this node (a cycle otherwise).
    void close() {
        std::error_code ignored;
        socket_.close(ignored);
        timer_.cancel();
        engine_.abandon_all();
    }

    bool is_open() const noexcept { return socket_.is_open(); }
    asio::ip::udp::endpoint local_endpoint() const {
        std::error_code ec;
        return socket_.local_endpoint(ec);
    }

    engine& dht() noexcept { return engine_; }
    std::uint64_t send_failures() const noexcept { return send_failures_; }

    // Engine operations with the current time; the timer follows the engine's new deadline.
    void bootstrap(const std::vector<asio::ip::udp::endpoint>& seeds, engine::lookup_handler done) {
        engine_.bootstrap(seeds, clock::now(), std::move(done));
        arm_timer();
    }
    void find_node(const node_id& target, engine::lookup_handler done) {
        engine_.find_node(target, clock::now(), std::move(done));
        arm_timer();
    }
    void get_peers(const node_id& info_hash, engine::lookup_handler done) {
        engine_.get_peers(info_hash, clock::now(), std::move(done));
        arm_timer();
    }
    void announce(const node_id& info_hash, std::uint16_t port, engine::announce_handler done) {
        engine_.announce(info_hash, port, clock::now(), std::move(done));
        arm_timer();
    }

private:
    udp_node(asio::any_io_executor ex, const node_id& id, engine_options options, std::uint64_t seed)
        : socket_(ex),
          timer_(ex),
          engine_(id, std::move(options), seed,
                  [this](const asio::ip::udp::endpoint& to, std::string_view packet) { send(to, packet); }, clock::now()) {}

    void send(const asio::ip::udp::endpoint& to, std::string_view packet) {
        std::error_code ec;
        socket_.send_to(asio::buffer(packet.data(), packet.size()), to, 0, ec);
        if (ec) ++send_failures_;  // a full socket buffer drops the datagram, as the network may
    }

    void receive() {
        socket_.async_receive_from(asio::buffer(buffer_), sender_,
                                   [self = shared_from_this()](std::error_code ec, std::size_t n) {
                                       if (ec == asio::error::operation_aborted || !self->socket_.is_open()) return;
                                       // ICMP errors (connection refused) surface here on Linux: skip them.
                                       if (!ec) self->engine_.receive(self->sender_, {self->buffer_.data(), n}, clock::now());
                                       self->arm_timer();
                                       self->receive();
                                   });
    }

    void arm_timer() {
        if (!socket_.is_open()) return;
        timer_.arm_at(engine_.next_deadline(), [self = shared_from_this()] {
            if (!self->socket_.is_open()) return;
            self->engine_.tick(clock::now());
            self->arm_timer();
        });
    }

    asio::ip::udp::socket socket_;
    librats::detail::deadline_timer timer_;
    engine engine_;
    std::array<char, 65536> buffer_{};
    asio::ip::udp::endpoint sender_;
    std::uint64_t send_failures_ = 0;
};

}  // namespace librats::dht

#endif
