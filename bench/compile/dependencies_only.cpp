// Compile-cost baseline: the dependencies (asio, nlohmann_json, Botan) used for the same jobs the
// default node gives them, written by hand as simply as possible: a strand, a listener and an
// async accept, a resolve + connect, a handshake read with async_read, a readiness wait and
// non-blocking read_some, a gathered async_write, timers, JSON built, dumped and parsed, and
// the primitives of Noise XX (X25519, ChaCha20Poly1305, SHA-256, HMAC, the system RNG).
// bench/compile_cost.sh compares the single header's default node against this.
#include <asio.hpp>
#include <botan/aead.h>
#include <botan/curve25519.h>
#include <botan/hash.h>
#include <botan/mac.h>
#include <botan/system_rng.h>
#include <nlohmann/json.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace {

struct connection : std::enable_shared_from_this<connection> {
    explicit connection(asio::ip::tcp::socket s) : socket(std::move(s)) {}

    void read_hello() {
        asio::async_read(socket, asio::buffer(header), [self = shared_from_this()](std::error_code ec, std::size_t) {
            if (!ec) self->wait_readable();
        });
    }

    void wait_readable() {
        socket.async_wait(asio::socket_base::wait_read, [self = shared_from_this()](std::error_code ec) {
            if (ec) return;
            std::array<char, 4096> buffer;
            const auto n = self->socket.read_some(asio::buffer(buffer), ec);
            if (ec) return;
            const auto message = nlohmann::json::parse(std::string(buffer.data(), n), nullptr, false);
            if (!message.is_discarded()) self->received = message.value("message", std::string());
            self->socket.close(ec);
        });
    }

    void send(const nlohmann::json& message) {
        body = message.dump();
        header = {0, 0, 0, static_cast<char>(body.size())};
        const std::vector<asio::const_buffer> buffers{asio::buffer(header), asio::buffer(body)};
        asio::async_write(socket, buffers, [self = shared_from_this()](std::error_code, std::size_t) {});
    }

    asio::ip::tcp::socket socket;
    std::array<char, 4> header{};
    std::string body;
    std::string received;
};

}  // namespace

int main() {
    asio::io_context io;
    auto strand = asio::make_strand(io);
    asio::ip::tcp::acceptor acceptor(strand, {asio::ip::make_address("127.0.0.1"), 0});
    std::shared_ptr<connection> server;
    acceptor.async_accept([&](std::error_code ec, asio::ip::tcp::socket socket) {
        if (ec) return;
        socket.set_option(asio::ip::tcp::no_delay(true));
        server = std::make_shared<connection>(std::move(socket));
        server->read_hello();
    });
    auto resolver = std::make_shared<asio::ip::tcp::resolver>(strand);
    auto client = std::make_shared<connection>(asio::ip::tcp::socket(strand));
    resolver->async_resolve("localhost", std::to_string(acceptor.local_endpoint().port()),
                            [client, resolver](std::error_code ec, asio::ip::tcp::resolver::results_type results) {
                                if (ec) return;
                                asio::async_connect(client->socket, results,
                                                    [client](std::error_code ec, const asio::ip::tcp::endpoint&) {
                                                        if (!ec) client->send({{"message", "hello"}});
                                                    });
                            });
    asio::steady_timer timer(strand, std::chrono::seconds(2));
    timer.async_wait([&](std::error_code) { acceptor.close(); });
    asio::post(strand, [] {});
    std::uint8_t secret[32], public_key[32], shared[32];
    Botan::system_rng().randomize(secret, sizeof secret);
    Botan::curve25519_basepoint(public_key, secret);
    Botan::curve25519_donna(shared, secret, public_key);
    auto hash = Botan::HashFunction::create_or_throw("SHA-256");
    hash->update(shared, sizeof shared);
    auto hmac = Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)");
    hmac->set_key(shared, sizeof shared);
    hmac->update("hello");
    auto aead = Botan::AEAD_Mode::create_or_throw("ChaCha20Poly1305", Botan::ENCRYPTION);
    aead->set_key(hmac->final());
    Botan::secure_vector<std::uint8_t> record(64, 'r');
    const std::uint8_t nonce[12] = {};
    aead->start(nonce, sizeof nonce);
    aead->finish(record);
    io.run_for(std::chrono::seconds(3));
    return hash->final().size() == 32 && record.size() == 80 ? 0 : 1;
}
