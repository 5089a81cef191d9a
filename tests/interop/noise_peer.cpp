// One end of a Noise_XX_25519_ChaChaPoly_SHA256 session over TCP on 127.0.0.1, driven by
// noise_interop.py against another implementation (dissononce_peer.py speaks the same script).
//
//   librats_noise_peer --role initiator|responder --port N --schedule i20,r15,i15,i0,r1,...
//
// Each Noise message travels with a 2-byte big-endian length. The schedule names who sends each
// payload and its size; the first three entries are the handshake's messages. A responder given
// port 0 listens on a free port and prints {"port": N} first. At the end the peer prints a JSON
// report: handshake hash, both static keys, and [size, SHA-256] of every payload sent and received.
//
//   librats_noise_peer --role node --port N
//
// A whole librats node (basic_node<tcp_transport, noise_xx<>>) for node_interop.py: it dials
// 127.0.0.1:N, or with port 0 listens and prints {"port": P, "peer_id": ID}. It answers each JSON
// "ping" with a "pong" carrying the same data (rekeying its sending direction after the first),
// echoes binary messages, and on "bye" prints a JSON report and exits.

#include <librats/crypto/noise_xx.hpp>
#include <librats/detail/hex.hpp>
#include <librats/node.hpp>
#include <librats/noise/botan_suite.hpp>
#include <librats/noise/cipher_state.hpp>
#include <librats/noise/handshake_state.hpp>
#include <librats/transport/tcp.hpp>

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using suite = librats::noise::botan_suite<librats::noise::sha256>;
using asio::ip::tcp;

struct step {
    bool from_initiator;
    std::size_t size;
};

std::vector<step> parse_schedule(const std::string& text) {
    std::vector<step> steps;
    std::size_t at = 0;
    while (at < text.size()) {
        const auto end = std::min(text.find(',', at), text.size());
        if (end - at < 2 || (text[at] != 'i' && text[at] != 'r')) throw std::invalid_argument("bad schedule: " + text);
        steps.push_back({text[at] == 'i', std::stoul(text.substr(at + 1, end - at - 1))});
        at = end + 1;
    }
    if (steps.size() < 3 || !steps[0].from_initiator || steps[1].from_initiator || !steps[2].from_initiator)
        throw std::invalid_argument("the schedule must start with XX's three messages: i, r, i");
    return steps;
}

nlohmann::json digest(const std::string& payload) {
    unsigned char h[suite::hash_len];
    suite::hash({{reinterpret_cast<const unsigned char*>(payload.data()), payload.size()}}, h);
    return nlohmann::json::array({payload.size(), librats::detail::to_hex(h, sizeof h)});
}

void send_message(tcp::socket& socket, const std::string& message) {
    if (message.size() > 65535) throw std::runtime_error("message over 65535 bytes");
    const unsigned char length[2] = {static_cast<unsigned char>(message.size() >> 8),
                                     static_cast<unsigned char>(message.size())};
    asio::write(socket, std::array<asio::const_buffer, 2>{asio::buffer(length), asio::buffer(message)});
}

std::string receive_message(tcp::socket& socket) {
    unsigned char length[2];
    asio::read(socket, asio::buffer(length));
    std::string message(static_cast<std::size_t>(length[0] << 8 | length[1]), '\0');
    asio::read(socket, asio::buffer(message));
    return message;
}

void check(std::error_code ec, const char* what) {
    if (ec) throw std::runtime_error(std::string(what) + ": " + ec.message());
}

int run(bool initiator, unsigned short port, const std::vector<step>& schedule) {
    asio::io_context io;
    tcp::socket socket(io);
    if (initiator) {
        socket.connect({asio::ip::address_v4::loopback(), port});
    } else {
        tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), port});
        std::cout << nlohmann::json{{"port", acceptor.local_endpoint().port()}} << std::endl;
        acceptor.accept(socket);
    }

    const auto s = suite::generate_keypair();
    librats::noise::handshake_state<suite> handshake;
    check(handshake.initialize(librats::noise::patterns::XX, initiator, "librats noise interop", &s), "initialize");
    librats::noise::cipher_state<suite> c1, c2;
    auto sent = nlohmann::json::array(), received = nlohmann::json::array();

    for (std::size_t i = 0; i < schedule.size(); ++i) {
        const bool mine = schedule[i].from_initiator == initiator;
        std::string payload;
        if (mine) {
            payload.resize(schedule[i].size);
            for (std::size_t j = 0; j < payload.size(); ++j) payload[j] = static_cast<char>(i * 131 + j * 7);
            sent.push_back(digest(payload));
        }
        if (i < 3) {
            std::string message;
            if (mine) {
                check(handshake.write_message(payload, message), "write_message");
                send_message(socket, message);
            } else {
                check(handshake.read_message(receive_message(socket), payload), "read_message");
                received.push_back(digest(payload));
            }
            if (i == 2) check(handshake.split(c1, c2), "split");
            continue;
        }
        auto& cipher = schedule[i].from_initiator ? c1 : c2;
        if (mine) {
            std::string message = payload + std::string(cipher.tag_size, '\0');
            auto* data = reinterpret_cast<unsigned char*>(message.data());
            check(cipher.encrypt(data, payload.size(), data + payload.size()), "encrypt");
            send_message(socket, message);
        } else {
            std::string message = receive_message(socket);
            check(cipher.decrypt(reinterpret_cast<unsigned char*>(message.data()), message.size()), "decrypt");
            message.resize(message.size() - cipher.tag_size);
            received.push_back(digest(message));
        }
    }

    const auto h = handshake.handshake_hash();
    const auto& rs = *handshake.remote_static();
    std::cout << nlohmann::json{{"implementation", "librats"},
                                {"handshake_hash", librats::detail::to_hex(h.data(), h.size())},
                                {"local_static", librats::detail::to_hex(s.pub.data(), s.pub.size())},
                                {"remote_static", librats::detail::to_hex(rs.data(), rs.size())},
                                {"sent", sent},
                                {"received", received}}
              << std::endl;
    return 0;
}

int run_node(unsigned short dial_port) {
    asio::io_context io;
    librats::node_options options;
    options.bind_address = "127.0.0.1";
    librats::basic_node<librats::tcp_transport, librats::noise_xx<>> node(io.get_executor(), options);
    nlohmann::json report = {{"peer_id", node.peer_id()},
                             {"public_key", node.crypto().static_public_key_hex()},
                             {"pings", 0},
                             {"binaries", 0}};
    bool rekeyed = false, bye = false;
    std::string failure;
    node.on("ping", [&](const std::string& peer, const nlohmann::json& data) {
        report["pings"] = report["pings"].get<int>() + 1;
        node.send(peer, "pong", data);
        if (!rekeyed) node.rekey(peer);
        rekeyed = true;
    });
    node.on("bye", [&](const std::string&, const nlohmann::json&) { bye = true; });
    node.set_data_handler([&](const librats::peer_info& from, librats::data_kind kind, std::string_view bytes) {
        report["binaries"] = report["binaries"].get<int>() + 1;
        node.send_data(from.peer_id, kind, bytes);
    });
    node.set_peer_connected_handler([&](const librats::peer_info& peer) {
        report["remote_peer_id"] = peer.peer_id;
        report["remote_static"] = peer.public_key;
        report["handshake_hash"] = peer.handshake_hash;
        report["encrypted"] = peer.encrypted;
    });
    node.start();
    if (dial_port != 0) {
        node.async_connect("127.0.0.1", dial_port, [&](std::error_code ec, std::string) {
            if (ec) failure = "connect failed: " + ec.message();
        });
    } else {
        std::cout << nlohmann::json{{"port", node.listen_port()}, {"peer_id", node.peer_id()}} << std::endl;
    }
    while (!bye && failure.empty()) io.run_for(std::chrono::milliseconds(10));
    if (!failure.empty()) throw std::runtime_error(failure);
    const auto stats = node.statistics();
    report["rekeys_sent"] = stats.rekeys_sent;
    report["rekeys_received"] = stats.rekeys_received;
    node.stop();
    io.run_for(std::chrono::milliseconds(100));
    std::cout << report << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // Bounded even if the driver dies: a stuck peer must not outlive the test.
    std::thread([] {
        std::this_thread::sleep_for(std::chrono::seconds(30));
        std::fputs("librats_noise_peer: timed out\n", stderr);
        std::_Exit(2);
    }).detach();
    try {
        std::string role, schedule;
        unsigned long port = 0;
        for (int i = 1; i + 1 < argc; i += 2) {
            const std::string flag = argv[i];
            if (flag == "--role") role = argv[i + 1];
            else if (flag == "--port") port = std::stoul(argv[i + 1]);
            else if (flag == "--schedule") schedule = argv[i + 1];
            else throw std::invalid_argument("unknown flag " + flag);
        }
        if (role == "node" && port <= 65535) return run_node(static_cast<unsigned short>(port));
        if ((role != "initiator" && role != "responder") || port > 65535)
            throw std::invalid_argument(
                "usage: librats_noise_peer --role initiator|responder --port N --schedule S | --role node --port N");
        return run(role == "initiator", static_cast<unsigned short>(port), parse_schedule(schedule));
    } catch (const std::exception& e) {
        std::cerr << "librats_noise_peer: " << e.what() << '\n';
        return 1;
    }
}
