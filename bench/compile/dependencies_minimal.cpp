// A second, thinner compile-cost baseline: the dependencies used only as much as a tiny program
// would (a TCP listener, an async accept, one write, a timer, JSON dump and parse, a hash). The
// target compares with dependencies_only.cpp, which does the node's jobs; this one is reported
// beside it by bench/compile_cost.sh so that the node's own share is visible too.
#include <asio.hpp>
#include <botan/hash.h>
#include <nlohmann/json.hpp>

int main() {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    acceptor.async_accept([](std::error_code, asio::ip::tcp::socket socket) {
        asio::async_write(socket, asio::buffer("x", 1), [](std::error_code, std::size_t) {});
    });
    asio::steady_timer timer(io, std::chrono::milliseconds(1));
    timer.async_wait([&](std::error_code) { acceptor.close(); });
    const auto text = nlohmann::json{{"message", "hello"}}.dump();
    const auto back = nlohmann::json::parse(text);
    auto hash = Botan::HashFunction::create_or_throw("SHA-256");
    hash->update(text);
    io.run();
    return back.size() == 1 && hash->final().size() == 32 ? 0 : 1;
}
