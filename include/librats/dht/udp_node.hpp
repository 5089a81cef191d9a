#ifndef LIBRATS_DHT_UDP_NODE_HPP
#define LIBRATS_DHT_UDP_NODE_HPP

// The DHT engine on a real UDP socket: a receive loop feeds engine::receive, a timer runs
// engine::tick at the engine's deadline, and the engine's packets go out with non-blocking
// send_to. Everything but open() runs on the executor given (a strand, or one thread); open() may
// be called from any thread before the first operation.

#include <librats/detail/udp_engine_driver.hpp>
#include <librats/dht/engine.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/udp.hpp>
#include <asio/ip/v6_only.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace librats::dht {

class udp_node : public librats::detail::udp_engine_driver {
public:
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
        close_socket();
        engine_.abandon_all();
    }

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
        : udp_engine_driver(ex, 65536),
          engine_(id, std::move(options), seed,
                  [this](const asio::ip::udp::endpoint& to, std::string_view packet) { send(to, packet); }, clock::now()) {}

    void send(const asio::ip::udp::endpoint& to, std::string_view packet) {
        std::error_code ec;
        socket_.send_to(asio::buffer(packet.data(), packet.size()), to, 0, ec);
        if (ec) ++send_failures_;  // a full socket buffer drops the datagram, as the network may
    }

    void deliver(const asio::ip::udp::endpoint& from, std::string_view datagram, clock::time_point now) override {
        engine_.receive(from, datagram, now);
    }
    void tick(clock::time_point now) override { engine_.tick(now); }
    clock::time_point next_deadline() const override { return engine_.next_deadline(); }

    engine engine_;
    std::uint64_t send_failures_ = 0;
};

}  // namespace librats::dht

#endif
