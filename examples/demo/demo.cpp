// The main job: three RatsClients on this machine find each other through a private mainline
// DHT (BEP 5) of their own: node-0's DHT node is the network's first, the others bootstrap off
// it, each announces its TCP port under librats' discovery key and dials the peers it finds
// there. Then each one greets the others and the demo checks that every greeting arrived, over
// connections encrypted with Noise XX (the default; each peer ID is proven by the peer's static
// key). Nothing leaves 127.0.0.1: with bootstrap nodes given, the public DHT routers are never
// contacted.
//
// With --mdns the nodes also advertise and browse by mDNS, and each must find the other two
// that way too. Multicast belongs inside a network namespace: tools/demo.sh runs it so (as root,
// through tools/in_netns.sh).

#include <librats/librats.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
    using namespace std::chrono_literals;
    constexpr int node_count = 3;
    const bool with_mdns = argc > 1 && std::string(argv[1]) == "--mdns";

    std::vector<std::unique_ptr<librats::RatsClient>> clients;
    std::mutex print_mutex;
    std::set<std::pair<std::string, std::string>> greetings;  // (from, to)
    std::atomic<int> plaintext_connections{0};
    std::set<std::pair<std::string, std::string>> mdns_found;  // (finder, instance found)

    for (int i = 0; i < node_count; ++i) {
        clients.push_back(std::make_unique<librats::RatsClient>(0, 10, "127.0.0.1"));
        auto& client = *clients.back();
        const auto name = "node-" + std::to_string(i);
        client.on("greeting", [&, name](const std::string& peer_id, const nlohmann::json& data) {
            std::lock_guard<std::mutex> lock(print_mutex);
            std::cout << name << " <- " << data.value("from", "?") << " (" << peer_id.substr(0, 8)
                      << "): " << data.value("text", "") << '\n';
            greetings.emplace(data.value("from", "?"), name);
        });
        client.set_connection_callback([&, name](librats::socket_t, const std::string& peer_id) {
            const bool encrypted = client.is_peer_encrypted(peer_id);
            if (!encrypted) ++plaintext_connections;
            std::lock_guard<std::mutex> lock(print_mutex);
            std::cout << name << " connected to " << peer_id.substr(0, 8)
                      << (encrypted ? " (Noise XX, handshake hash " + client.get_peer_handshake_hash(peer_id).substr(0, 16) + "...)"
                                    : std::string(" (NOT encrypted)"))
                      << '\n';
        });
        if (!client.start()) {
            std::cerr << "cannot start " << name << '\n';
            return 1;
        }
        std::cout << name << " is " << client.get_our_peer_id().substr(0, 8) << " on port "
                  << client.get_listen_port() << '\n';
    }

    // Discovery through the DHT only: nobody dials anybody by hand.
    for (int i = 0; i < node_count; ++i) {
        auto& dht = clients[i]->get_node().get<librats::dht_discovery>();
        librats::dht_settings settings;
        settings.bind_address = "127.0.0.1";
        settings.use_public_routers = false;     // node-0 waits to be contacted
        settings.discovery_interval = 500ms;     // the default, a minute, suits the real network
        dht.set_settings(settings);
        if (i > 0) clients[i]->add_dht_bootstrap_node("127.0.0.1", clients[0]->get_node().get<librats::dht_discovery>().port());
        if (!clients[i]->start_dht_discovery(0)) {
            std::cerr << "cannot start the DHT of node-" << i << '\n';
            return 1;
        }
        std::cout << "node-" << i << " runs a DHT node on UDP port " << dht.port() << '\n';
        if (!with_mdns) continue;
        const auto name = "node-" + std::to_string(i);
        clients[i]->set_mdns_callback([&, name](const std::string& host, int port, const std::string& instance) {
            std::lock_guard<std::mutex> lock(print_mutex);
            if (mdns_found.emplace(name, instance).second)
                std::cout << name << " found " << instance << " at " << host << ':' << port << " by mDNS\n";
        });
        if (!clients[i]->start_mdns_discovery(name, {{"demo", "librats"}})) {
            std::cerr << "cannot start mDNS for " << name << " (run it in a network namespace: tools/demo.sh)\n";
            return 1;
        }
    }
    const auto mdns_done = [&] {
        std::lock_guard<std::mutex> lock(print_mutex);
        return !with_mdns || mdns_found.size() == node_count * (node_count - 1);
    };

    const auto deadline = std::chrono::steady_clock::now() + 20s;
    auto all_connected = [&] {
        for (const auto& c : clients)
            if (c->get_peer_count() != node_count - 1) return false;
        return true;
    };
    while (!(all_connected() && mdns_done()) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    if (!all_connected()) {
        std::cerr << "nodes did not connect in time\n";
        return 1;
    }
    if (!mdns_done()) {
        std::cerr << "demo failed: " << mdns_found.size() << " of " << node_count * (node_count - 1)
                  << " mDNS discoveries\n";
        return 1;
    }

    std::atomic<int> send_failures{0};
    for (int i = 0; i < node_count; ++i) {
        const nlohmann::json greeting = {{"from", "node-" + std::to_string(i)}, {"text", "hello, peers!"}};
        clients[i]->send("greeting", greeting, [&](bool ok, const std::string& error) {
            if (!ok) {
                ++send_failures;
                std::cerr << "send failed: " << error << '\n';
            }
        });
    }

    const std::size_t expected = node_count * (node_count - 1);
    auto done = [&] {
        std::lock_guard<std::mutex> lock(print_mutex);
        return greetings.size() == expected;
    };
    while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);

    for (auto& c : clients) c->stop();
    if (plaintext_connections > 0) {
        std::cerr << "demo failed: " << plaintext_connections << " connections were not encrypted\n";
        return 1;
    }
    if (!done() || send_failures > 0) {
        std::cerr << "demo failed: " << greetings.size() << " of " << expected << " greetings arrived\n";
        return 1;
    }
    std::cout << "demo ok: " << node_count << " nodes found each other through the DHT"
              << (with_mdns ? " and by mDNS, " : ", ") << expected << " greetings delivered, all encrypted\n";
    return 0;
}
