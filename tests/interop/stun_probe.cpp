// One STUN discovery with stun_client, for the interop scripts (stun_coturn.sh, stun_nat_lab.sh):
//
//   librats_stun_probe --server HOST:PORT [--server [V6]:PORT ...] [--bind ADDRESS]
//                      [--rto-ms N] [--requests N]
//
// prints one JSON object and exits 0:
//   {"mapped": {"address": A, "port": P}, "local": {"address": A, "port": P}}
// or, when discovery fails, {"error": MESSAGE, "local": {...}} and exits 1. Usage errors exit 2.

#include <librats/stun/client.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using json = nlohmann::json;

// "host:port" or "[v6]:port".
std::optional<librats::stun::server_address> parse_server(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon + 1 == text.size()) return std::nullopt;
    auto host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const auto port = std::strtoul(std::string(text.substr(colon + 1)).c_str(), nullptr, 10);
    if (host.empty() || port == 0 || port > 65535) return std::nullopt;
    return librats::stun::server_address{std::string(host), static_cast<std::uint16_t>(port)};
}

json endpoint_json(const asio::ip::udp::endpoint& endpoint) {
    return {{"address", endpoint.address().to_string()}, {"port", endpoint.port()}};
}

int usage() {
    std::cerr << "usage: librats_stun_probe --server HOST:PORT [--server ...] [--bind ADDRESS] [--rto-ms N] "
                 "[--requests N]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<librats::stun::server_address> servers;
    std::string bind = "0.0.0.0";
    librats::stun::client_options options;
    options.software = "librats stun probe";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        const std::string value = argv[i + 1];
        if (flag == "--server") {
            const auto server = parse_server(value);
            if (!server) return usage();
            servers.push_back(*server);
        } else if (flag == "--bind") {
            bind = value;
        } else if (flag == "--rto-ms") {
            options.transaction.rto = std::chrono::milliseconds(std::strtoul(value.c_str(), nullptr, 10));
        } else if (flag == "--requests") {
            options.transaction.request_count = static_cast<unsigned>(std::strtoul(value.c_str(), nullptr, 10));
        } else {
            return usage();
        }
    }
    if (servers.empty() || argc % 2 == 0) return usage();

    std::error_code ec;
    const auto bind_address = asio::ip::make_address(bind, ec);
    if (ec) return usage();

    asio::io_context io;
    auto client = librats::stun::stun_client::create(io.get_executor(), options);
    if (const auto open_error = client->open({bind_address, 0})) {
        std::cout << json{{"error", "open: " + open_error.message()}}.dump() << std::endl;
        return 1;
    }
    const auto local = client->local_endpoint();
    int status = 1;
    client->async_discover(servers, [&](std::error_code result, asio::ip::udp::endpoint mapped) {
        json out{{"local", endpoint_json(local)}};
        if (result) {
            out["error"] = result.message();
            if (const auto& response = client->last_error_response())
                out["error_response"] = {{"code", response->code}, {"reason", response->reason}};
        } else {
            out["mapped"] = endpoint_json(mapped);
            status = 0;
        }
        std::cout << out.dump() << std::endl;
        client->close();
    });
    io.run();
    return status;
}
