// A terminal chat in the spirit of the seed's example:
//   librats_chat <listen-port> [peer-host peer-port]...
// Lines typed are sent to every connected peer; "/peers" lists them, "/quit" leaves.

#include <librats/librats.hpp>

#include <ctime>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    if (argc < 2 || argc % 2 != 0) {
        std::cerr << "usage: " << argv[0] << " <listen-port> [peer-host peer-port]...\n";
        return 2;
    }
    librats::RatsClient client(std::stoi(argv[1]));

    client.on("chat", [](const std::string& peer_id, const nlohmann::json& data) {
        std::time_t timestamp = data.value("timestamp", std::time_t{0});
        char when[32];
        std::strftime(when, sizeof when, "%H:%M:%S", std::localtime(&timestamp));
        std::cout << '[' << when << "] " << data.value("sender", peer_id.substr(0, 8)) << ": "
                  << data.value("message", "") << std::endl;
    });
    client.set_connection_callback([&client](librats::socket_t, const std::string& peer_id) {
        std::cout << "* " << peer_id.substr(0, 8) << " joined"
                  << (client.is_peer_encrypted(peer_id) ? " (encrypted)" : " (NOT encrypted)") << std::endl;
    });
    client.set_disconnect_callback([](librats::socket_t, const std::string& peer_id) {
        std::cout << "* " << peer_id.substr(0, 8) << " left" << std::endl;
    });

    if (!client.start()) {
        std::cerr << "cannot listen on port " << argv[1] << '\n';
        return 1;
    }
    std::cout << "you are " << client.get_our_peer_id().substr(0, 8) << " on port " << client.get_listen_port()
              << std::endl;
    for (int i = 2; i + 1 < argc; i += 2) client.connect_to_peer(argv[i], std::stoi(argv[i + 1]));

    const std::string me = client.get_our_peer_id().substr(0, 8);
    std::string input;
    while (std::getline(std::cin, input)) {
        if (input == "/quit") break;
        if (input == "/peers") {
            for (const auto& peer : client.get_all_peers())
                std::cout << "  " << peer.peer_id.substr(0, 8) << " at " << peer.normalized_address << '\n';
            continue;
        }
        nlohmann::json message = {{"message", input}, {"sender", me}, {"timestamp", std::time(nullptr)}};
        client.send("chat", message, [](bool ok, const std::string& error) {
            if (!ok) std::cerr << "not sent: " << error << std::endl;
        });
    }
    return 0;
}
