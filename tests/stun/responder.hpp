#ifndef LIBRATS_TESTS_STUN_RESPONDER_HPP
#define LIBRATS_TESTS_STUN_RESPONDER_HPP

#include <librats/stun/client.hpp>
#include <librats/stun/message.hpp>

#include <asio/buffer.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include <array>
#include <cstddef>
#include <string>

namespace librats::stun::test {

// A Binding server on its own socket. It answers from reply_from when set, so that the answer
// comes from an address the client did not ask.
class responder {
public:
    enum class mode { answer, silent, error };

    responder(asio::io_context& io, mode how, const char* address = "127.0.0.1")
        : socket_(io, {asio::ip::make_address(address), 0}), reply_socket_(io), how_(how) {
        receive();
    }

    asio::ip::udp::endpoint endpoint() const { return socket_.local_endpoint(); }
    server_address address() const { return {endpoint().address().to_string(), endpoint().port()}; }
    void reply_from_another_port() { reply_socket_.open(socket_.local_endpoint().protocol()); }
    std::size_t requests() const { return requests_; }

private:
    void receive() {
        socket_.async_receive_from(asio::buffer(buffer_), sender_, [this](std::error_code ec, std::size_t n) {
            if (ec) return;
            message m;
            if (!decode({buffer_.data(), n}, m) && m.header.cls == message_class::request && m.header.method == binding) {
                ++requests_;
                std::string reply;
                if (how_ == mode::answer) encode_binding_success(reply, m.header.id, sender_, "test responder");
                if (how_ == mode::error) encode_binding_error(reply, m.header.id, 500, "Server Error");
                auto& out = reply_socket_.is_open() ? reply_socket_ : socket_;
                if (!reply.empty()) out.send_to(asio::buffer(reply), sender_);
            }
            receive();
        });
    }

    asio::ip::udp::socket socket_;
    asio::ip::udp::socket reply_socket_;
    mode how_;
    std::array<char, 2048> buffer_{};
    asio::ip::udp::endpoint sender_;
    std::size_t requests_ = 0;
};

}  // namespace librats::stun::test

#endif
