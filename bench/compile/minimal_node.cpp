// Size probe: the smallest composition (TCP, plaintext, no discovery) sending one message.
#include <librats/node.hpp>
#include <librats/transport/tcp.hpp>

int main() {
    asio::io_context io;
    librats::node_options options;
    options.bind_address = "127.0.0.1";
    librats::basic_node<librats::tcp_transport> a(io.get_executor(), options), b(io.get_executor(), options);
    a.start();
    b.start();
    bool done = false;
    a.on("hi", [&](const std::string&, const nlohmann::json&) { done = true; });
    b.async_connect("127.0.0.1", a.listen_port(), [&](std::error_code ec, std::string id) {
        if (!ec) b.send(id, "hi", 1);
    });
    io.run_for(std::chrono::seconds(2));
    return done ? 0 : 1;
}
