#ifndef LIBRATS_MDNS_UDP_NODE_HPP
#define LIBRATS_MDNS_UDP_NODE_HPP

// The mDNS engine on a real socket: UDP port 5353 shared with other responders on the host
// (SO_REUSEADDR), the group 224.0.0.251 (or ff02::fb) joined on one interface, multicast sent out
// of that interface with TTL 255 and looped back (the engine recognises its own packets). A
// receive loop feeds engine::receive and a timer runs engine::tick at the engine's deadline.
// Everything but open() runs on the executor given (a strand, or one thread).

#include <librats/detail/udp_engine_driver.hpp>
#include <librats/mdns/engine.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/multicast.hpp>
#include <asio/ip/udp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/socket_base.hpp>

#include <cstdint>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>

namespace librats::mdns {

class udp_node : public librats::detail::udp_engine_driver {
public:
    static std::shared_ptr<udp_node> create(asio::any_io_executor ex, engine_options options, std::uint64_t seed) {
        return std::shared_ptr<udp_node>(new udp_node(std::move(ex), std::move(options), seed));
    }

    // The interface is named by one of its addresses (IPv4), or by its index (IPv6; 0: the
    // system's choice).
    std::error_code open(const asio::ip::address_v4& interface_v4, unsigned interface_index = 0) {
        const bool v6 = ipv6_;
        const auto group = multicast_endpoint(v6);
        std::error_code ec;
        socket_.open(group.protocol(), ec);
        if (!ec) socket_.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec && v6) socket_.set_option(asio::ip::v6_only(true), ec);
        if (!ec)
            socket_.bind({v6 ? asio::ip::address(asio::ip::address_v6::any()) : asio::ip::address(asio::ip::address_v4::any()),
                          mdns_port},
                         ec);
        if (!ec) {
            if (v6) socket_.set_option(asio::ip::multicast::join_group(group.address().to_v6(), interface_index), ec);
            else socket_.set_option(asio::ip::multicast::join_group(group.address().to_v4(), interface_v4), ec);
        }
        if (!ec) {
            if (v6) socket_.set_option(asio::ip::multicast::outbound_interface(interface_index), ec);
            else socket_.set_option(asio::ip::multicast::outbound_interface(interface_v4), ec);
        }
        if (!ec) socket_.set_option(asio::ip::multicast::hops(255), ec);
        if (!ec) socket_.set_option(asio::ip::multicast::enable_loopback(true), ec);
        if (!ec) socket_.non_blocking(true, ec);
        if (ec) socket_.close();
        return ec;
    }

    // On the executor from here on.
    void start() { receive(); }

    // Sends the goodbyes, then closes.
    void close() {
        engine_.stop();
        close_socket();
    }

    engine& mdns() noexcept { return engine_; }

    std::error_code advertise(advertisement ad) {
        const auto ec = engine_.advertise(std::move(ad), clock::now());
        arm_timer();
        return ec;
    }
    void browse(engine::service_handler on_service) {
        engine_.browse(std::move(on_service), clock::now());
        arm_timer();
    }

private:
    udp_node(asio::any_io_executor ex, engine_options options, std::uint64_t seed)
        : udp_engine_driver(ex, 9000),
          ipv6_(options.ipv6),
          engine_(std::move(options), seed,
                  [this](const asio::ip::udp::endpoint& to, std::string_view packet) { send(to, packet); }) {}

    void send(const asio::ip::udp::endpoint& to, std::string_view packet) {
        std::error_code ec;
        socket_.send_to(asio::buffer(packet.data(), packet.size()), to, 0, ec);  // a lost datagram is retried by mDNS
    }

    void deliver(const asio::ip::udp::endpoint& from, std::string_view datagram, clock::time_point now) override {
        engine_.receive(from, datagram, now);
    }
    void tick(clock::time_point now) override { engine_.tick(now); }
    clock::time_point next_deadline() const override { return engine_.next_deadline(); }

    bool ipv6_;
    engine engine_;
};

}  // namespace librats::mdns

#endif
