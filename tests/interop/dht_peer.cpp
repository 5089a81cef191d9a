// A RatsClient with its DHT on 127.0.0.1, driven over stdin/stdout by dht_interop.py against a
// network of libtorrent sessions. One JSON object per line each way:
//
//   librats_dht_peer --bootstrap 127.0.0.1:PORT [--bootstrap ...]
//     prints {"event": "ready", "dht_port": N, "tcp_port": M}
//   {"cmd": "table"}                      -> {"event": "table", "size": N, "nodes": ["ip:port", ...]}
//   {"cmd": "find", "hash": H}            -> {"event": "peers", "hash": H, "peers": ["ip:port", ...]}
//   {"cmd": "announce", "hash": H, "port": P}
//                                         -> {"event": "announced", "hash": H, "accepted": N}
//   {"cmd": "quit"}                       -> exits
//
// find uses RatsClient::find_peers_by_hash; announce the module's announce (the client's
// announce_for_hash has no completion to report how many nodes took it).

#include <librats/librats.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

using json = nlohmann::json;

void emit(const json& j) { std::cout << j.dump() << std::endl; }

template <class T>
T wait(std::future<T>& f) {
    if (f.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
        std::cerr << "librats_dht_peer: no answer within 60 s\n";
        std::exit(3);
    }
    return f.get();
}

}  // namespace

int main(int argc, char** argv) {
    librats::RatsClient client(0, 10, "127.0.0.1");
    client.set_log_level(librats::LogLevel::WARN);
    auto& dht = client.get_node().get<librats::dht_discovery>();
    librats::dht_settings settings;
    settings.bind_address = "127.0.0.1";
    settings.use_public_routers = false;
    settings.discover_peers = false;  // only what the script asks
    dht.set_settings(settings);

    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        const auto colon = value.rfind(':');
        if (flag != "--bootstrap" || colon == std::string::npos) {
            std::cerr << "usage: librats_dht_peer --bootstrap HOST:PORT [--bootstrap HOST:PORT ...]\n";
            return 2;
        }
        client.add_dht_bootstrap_node(value.substr(0, colon), std::stoi(value.substr(colon + 1)));
    }
    if (!client.start() || !client.start_dht_discovery(0)) return 1;
    emit({{"event", "ready"}, {"dht_port", dht.port()}, {"tcp_port", client.get_listen_port()}});

    std::string line;
    while (std::getline(std::cin, line)) {
        const auto cmd = json::parse(line, nullptr, false);
        if (cmd.is_discarded() || !cmd.contains("cmd")) {
            emit({{"event", "error"}, {"line", line}});
            continue;
        }
        const auto what = cmd["cmd"].get<std::string>();
        if (what == "quit") break;
        if (what == "table") {
            std::vector<std::string> nodes;
            for (const auto& n : dht.good_nodes())
                nodes.push_back(n.endpoint.address().to_string() + ':' + std::to_string(n.endpoint.port()));
            emit({{"event", "table"}, {"size", client.get_dht_routing_table_size()}, {"nodes", nodes}});
        } else if (what == "find") {
            const auto hash = cmd.value("hash", "");
            auto done = std::make_shared<std::promise<std::vector<std::string>>>();
            auto f = done->get_future();
            if (!client.find_peers_by_hash(hash, [done](const std::vector<std::string>& peers) { done->set_value(peers); }))
                return 1;
            emit({{"event", "peers"}, {"hash", hash}, {"peers", wait(f)}});
        } else if (what == "announce") {
            const auto hash = cmd.value("hash", "");
            auto done = std::make_shared<std::promise<std::size_t>>();
            auto f = done->get_future();
            if (!dht.announce(hash, cmd.value("port", std::uint16_t{0}), [done](std::size_t n) { done->set_value(n); }))
                return 1;
            emit({{"event", "announced"}, {"hash", hash}, {"accepted", wait(f)}});
        } else {
            emit({{"event", "error"}, {"line", line}});
        }
    }
    client.stop();
    return 0;
}
