#ifndef LIBRATS_MDNS_UDP_NODE_HPP
#define LIBRATS_MDNS_UDP_NODE_HPP

// The mDNS engine on a real socket: UDP port 5353 shared with other responders on the host
// (SO_REUSEADDR), the group 224.0.0.251 (or ff02::fb) joined on one interface, multicast sent out
// of that interface with TTL 255 and looped back (the engine recognises its own packets). A
// receive loop feeds engine::receive and a timer runs engine::tick at the engine's deadline.
// Everything but open() runs on the executor given (a strand, or one thread).

#include <librats/detail/deadline_timer.hpp>
#include <librats/mdns/engine.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/multicast.hpp>
#include <asio/ip/udp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/socket_base.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>

namespace librats::mdns {

class udp_node : public std::enable_shared_from_this<udp_node> {
public:
    using clock = engine::clock;

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
        std::error_code ignored;
        socket_.close(ignored);
        timer_.cancel();
    }

    bool is_open() const noexcept { return socket_.is_open(); }
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
        : ipv6_(options.ipv6),
          socket_(ex),
          timer_(ex),
          engine_(std::move(options), seed,
                  [this](const asio::ip::udp::endpoint& to, std::string_view packet) { send(to, packet); }) {}

    void send(const asio::ip::udp::endpoint& to, std::string_view packet) {
        std::error_code ec;
        socket_.send_to(asio::buffer(packet.data(), packet.size()), to, 0, ec);  // a lost datagram is retried by mDNS
    }

    void receive() {
        socket_.async_receive_from(asio::buffer(buffer_), sender_, [self = shared_from_this()](std::error_code ec, std::size_t n) {
            if (ec == asio::error::operation_aborted || !self->socket_.is_open()) return;
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

    bool ipv6_;
    asio::ip::udp::socket socket_;
    librats::detail::deadline_timer timer_;
    engine engine_;
    std::array<char, 9000> buffer_{};
    asio::ip::udp::endpoint sender_;
};

}  // namespace librats::mdns

#endif
