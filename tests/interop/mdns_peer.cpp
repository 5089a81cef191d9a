// A RatsClient that discovers by mDNS only, for mdns_interop.py (run inside a network namespace).
// One JSON object per line on stdout; commands on stdin.
//
//   librats_mdns_peer [--name INSTANCE] [--interface IPV4] [--txt KEY=VALUE ...] [--timeout S]
//     {"event": "ready", "peer_id": ID, "port": TCP_PORT}
//     {"event": "found", "host": IP, "port": N, "instance": LABEL}        set_mdns_callback
//     {"event": "connected", "peer_id": ID, "encrypted": true}           then it greets the peer
//     {"event": "message", "from": ID, "text": TEXT}                      a peer's greeting
//   stdin "services" -> {"event": "services", "services": [{name, host, ip, port, txt, peer_id}]}
//   stdin "quit" or end of input -> stop_mdns_discovery (goodbyes), {"event": "exit"}; after the
//   timeout the process exits with 3.

#include <librats/librats.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace {

std::mutex out_mutex;
void emit(const nlohmann::json& j) {
    std::lock_guard<std::mutex> lock(out_mutex);
    std::cout << j.dump() << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
    std::string name, interface;
    std::map<std::string, std::string> txt;
    int timeout = 30;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--name" && has_value) name = argv[++i];
        else if (arg == "--interface" && has_value) interface = argv[++i];
        else if (arg == "--timeout" && has_value) timeout = std::stoi(argv[++i]);
        else if (arg == "--txt" && has_value) {
            const std::string kv = argv[++i];
            const auto eq = kv.find('=');
            txt[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
        } else {
            std::cerr << "usage: librats_mdns_peer [--name N] [--interface IPV4] [--txt K=V ...] [--timeout S]\n";
            return 2;
        }
    }

    librats::RatsClient client(0, 10);
    client.set_log_level(librats::LogLevel::WARN);
    librats::mdns_settings settings;
    settings.interface_address = interface;
    client.get_node().get<librats::mdns_discovery>().set_settings(settings);
    client.set_mdns_callback([](const std::string& host, int port, const std::string& instance) {
        emit({{"event", "found"}, {"host", host}, {"port", port}, {"instance", instance}});
    });
    client.set_connection_callback([&client](librats::socket_t, const std::string& peer_id) {
        emit({{"event", "connected"}, {"peer_id", peer_id}, {"encrypted", client.is_peer_encrypted(peer_id)}});
        client.send(peer_id, "greeting", {{"text", "hello from " + client.get_our_peer_id()}});
    });
    client.on("greeting", [](const std::string& from, const nlohmann::json& data) {
        emit({{"event", "message"}, {"from", from}, {"text", data.value("text", "")}});
    });
    if (!client.start() || !client.start_mdns_discovery(name, txt)) return 1;
    emit({{"event", "ready"}, {"peer_id", client.get_our_peer_id()}, {"port", client.get_listen_port()}});

    // Bounded even if nobody says quit.
    std::thread([timeout] {
        std::this_thread::sleep_for(std::chrono::seconds(timeout));
        std::cerr << "librats_mdns_peer: timed out\n";
        std::_Exit(3);
    }).detach();
    std::string line;
    while (std::getline(std::cin, line) && line != "quit") {
        if (line != "services") continue;
        nlohmann::json list = nlohmann::json::array();
        for (const auto& s : client.get_mdns_services())
            list.push_back({{"name", s.service_name},
                            {"host", s.host_name},
                            {"ip", s.ip_address},
                            {"port", s.port},
                            {"txt", s.txt_records},
                            {"peer_id", s.peer_id}});
        emit({{"event", "services"}, {"services", list}});
    }
    client.stop_mdns_discovery();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the goodbye leaves on the network thread
    client.stop();
    emit({{"event", "exit"}});
    return 0;
}
