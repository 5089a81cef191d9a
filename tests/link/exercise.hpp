#ifndef LIBRATS_TESTS_LINK_EXERCISE_HPP
#define LIBRATS_TESTS_LINK_EXERCISE_HPP

// Used by link_a.cpp and link_b.cpp: one copy per translation unit (internal linkage), so each
// object file instantiates and emits everything librats needs for its main types.

#include <librats/librats.hpp>

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

namespace {

class checker {
public:
    explicit checker(const char* unit) : unit_(unit) {}
    void operator()(bool ok, const char* what) {
        if (ok) return;
        std::fprintf(stderr, "%s: %s failed\n", unit_, what);
        ++failures_;
    }
    int failures() const { return failures_; }

private:
    const char* unit_;
    int failures_ = 0;
};

template <class Pred>
bool run_until(asio::io_context& io, Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
        io.restart();
        io.run_for(std::chrono::milliseconds(5));
    }
    return pred();
}

void exercise_errors_and_log(checker& check) {
    const std::error_code ec = librats::errc::peer_not_found;
    check(ec.category() == librats::error_category(), "error category");
    check(ec == librats::make_error_code(librats::errc::peer_not_found), "make_error_code");
    check(ec.message() == "peer not found", "error message");

    librats::logger log("link");
    std::string line;
    log.set_level(librats::log_level::info);
    log.set_sink([&](librats::log_level, std::string_view, std::string_view message) { line = message; });
    log.debug("dropped");
    log.info("value ", 42);
    check(line == "value 42", "logger");
    check(std::string_view(librats::to_string(librats::log_level::warn)) == "WARN", "log level names");
}

void exercise_wire(checker& check) {
    namespace wire = librats::wire;
    std::string bytes;
    wire::append_json_frame(bytes, "greet", R"({"n":1})");
    wire::append_frame(bytes, wire::frame_type::goodbye, wire::encode_goodbye(7, "bye"));
    wire::frame_parser parser(1 << 20);
    int frames = 0;
    const auto ec = parser.feed(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                                [&](wire::frame_type type, std::string_view payload) -> std::error_code {
                                    ++frames;
                                    if (type == wire::frame_type::json) {
                                        wire::json_payload json;
                                        if (auto e = wire::parse_json_payload(payload, json)) return e;
                                        check(json.type == "greet" && json.json_text == R"({"n":1})", "json frame");
                                    } else {
                                        wire::goodbye_payload bye;
                                        if (auto e = wire::parse_goodbye(payload, bye)) return e;
                                        check(bye.code == 7 && bye.reason == "bye", "goodbye frame");
                                    }
                                    return {};
                                });
    check(!ec && frames == 2 && !parser.partial(), "frame parser");

    wire::preamble_info info;
    check(!wire::parse_preamble(wire::make_preamble(0), info) && info.version == librats::protocol_version,
          "preamble");
    wire::hello hello;
    hello.peer_id = "link-peer";
    hello.nonce = 5;
    wire::hello parsed;
    check(!wire::parse_hello(wire::encode_hello(hello), parsed) && parsed.peer_id == "link-peer" && parsed.nonce == 5,
          "hello");
}

// Two nodes over the in-process network: connect, one JSON message, stop.
void exercise_memory_nodes(checker& check) {
    using memory_node = librats::basic_node<librats::memory_transport>;
    asio::io_context io;
    librats::memory_network network;
    librats::node_options options;
    options.listen_port = 1000;
    memory_node a(io.get_executor(), options, network, "a");
    options.listen_port = 2000;
    memory_node b(io.get_executor(), options, network, "b");
    a.log().set_level(librats::log_level::off);
    b.log().set_level(librats::log_level::off);
    a.start();
    b.start();

    std::string greeting;
    b.on("greet", [&](const std::string&, const nlohmann::json& data) { greeting = data.value("text", ""); });
    std::string connected;
    a.async_connect("b", 2000, [&](std::error_code ec, std::string peer_id) {
        if (!ec) connected = std::move(peer_id);
    });
    check(run_until(io, [&] { return !connected.empty(); }), "memory connect");
    check(connected == b.peer_id(), "memory peer id");
    check(!a.send(connected, "greet", {{"text", "hi"}}), "memory send");
    check(run_until(io, [&] { return greeting == "hi"; }), "memory receive");

    bool stopped = false;
    a.async_stop([&] { stopped = true; });
    check(run_until(io, [&] { return stopped; }), "memory stop");
    b.stop();
}

// The default TCP composition and the seed API: listen on loopback, then stop.
void exercise_tcp(checker& check) {
    asio::io_context io;
    librats::node_options options;
    options.bind_address = "127.0.0.1";
    librats::node node(io.get_executor(), options);
    node.log().set_level(librats::log_level::off);
    node.get<librats::static_peers>();
    std::error_code ec;
    node.start(ec);
    check(!ec && node.is_running() && node.listen_port() != 0, "librats::node start");
    node.stop();

    librats::RatsClient client(0, 10, "127.0.0.1");
    client.set_console_logging_enabled(false);
    check(client.start() && client.get_listen_port() != 0, "RatsClient start");
    check(client.get_connection_statistics().at("running").get<bool>(), "RatsClient statistics");
    client.stop();
    check(!client.is_running(), "RatsClient stop");
}

int exercise(const char* unit) {
    checker check(unit);
    exercise_errors_and_log(check);
    exercise_wire(check);
    exercise_memory_nodes(check);
    exercise_tcp(check);
    return check.failures();
}

}  // namespace

#endif
