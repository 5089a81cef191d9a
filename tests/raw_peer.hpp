#ifndef LIBRATS_TESTS_RAW_PEER_HPP
#define LIBRATS_TESTS_RAW_PEER_HPP

// A peer played by hand over a plain TCP socket, speaking the plaintext protocol byte by byte
// (docs/PROTOCOL.md), for tests of what a well-behaved node would never send.

#include <librats/crypto/plaintext.hpp>
#include <librats/detail/endian.hpp>
#include <librats/wire/frame.hpp>
#include <librats/wire/handshake.hpp>

#include <asio.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace librats::test {

using namespace std::chrono_literals;

// A hand-driven peer on a blocking socket.
class raw_peer {
public:
    explicit raw_peer(std::uint16_t port) : socket_(io_) {
        socket_.connect({asio::ip::make_address("127.0.0.1"), port});
        socket_.set_option(asio::ip::tcp::no_delay(true));
    }

    void send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }

    // Preamble and hello, as the initiator of a plaintext connection. Of two connections of one
    // peer, the node keeps the one whose hello has the smaller nonce.
    void handshake(const std::string& peer_id = "raw-peer-1", std::uint64_t nonce = 7) {
        const auto preamble = wire::make_preamble(0);
        wire::hello hello;
        hello.peer_id = peer_id;
        hello.listen_port = 1;
        hello.nonce = nonce;
        send(std::string(preamble.begin(), preamble.end()) + with_length(wire::encode_hello(hello)));
        std::string reply(wire::preamble_size + 2, '\0');
        asio::read(socket_, asio::buffer(reply));
        const auto length = detail::get_u16(reinterpret_cast<const unsigned char*>(reply.data()) + wire::preamble_size);
        std::string remote_hello(length, '\0');
        asio::read(socket_, asio::buffer(remote_hello));
    }

    static std::string with_length(const std::string& bytes) {
        unsigned char length[2];
        detail::put_u16(length, static_cast<std::uint16_t>(bytes.size()));
        return std::string(reinterpret_cast<const char*>(length), 2) + bytes;
    }

    static std::string frame(wire::frame_type type, const std::string& payload) {
        std::string out;
        wire::append_frame(out, type, payload);
        return out;
    }

    static std::string json_frame(const std::string& type, const std::string& json_text) {
        std::string out;
        wire::append_json_frame(out, type, json_text);
        return out;
    }

    // One record holding the given frame bytes.
    void send_record(const std::string& frames) { send(with_length(frames)); }

    // Reads whatever arrived, without blocking; the byte count, or -1 once the node closed.
    long drain() {
        socket_.non_blocking(true);
        char buffer[65536];
        long total = 0;
        for (;;) {
            std::error_code ec;
            const auto n = socket_.read_some(asio::buffer(buffer), ec);
            if (ec == asio::error::would_block) return total;
            if (ec) return -1;
            total += static_cast<long>(n);
        }
    }

    // True once the node closed the connection (EOF or reset) within the timeout.
    bool closed_by_peer(std::chrono::milliseconds timeout = 5000ms) {
        socket_.non_blocking(true);
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        char buffer[4096];
        while (std::chrono::steady_clock::now() < deadline) {
            std::error_code ec;
            socket_.read_some(asio::buffer(buffer), ec);
            if (ec == asio::error::would_block) {
                std::this_thread::sleep_for(5ms);
                continue;
            }
            if (ec) return true;
        }
        return false;
    }

private:
    asio::io_context io_;
    asio::ip::tcp::socket socket_;
};

}  // namespace librats::test

#endif
