#include <librats/librats.hpp>
using namespace librats;

class FileShareNode {
private:
    RatsClient client;
    std::string share_directory;
    
public:
    FileShareNode(int port, const std::string& share_dir) 
        : client(port), share_directory(share_dir) {
        
        // Handle file discovery requests
        client.on("discover_files", [this](const std::string& peer_id, const nlohmann::json& data) {
            std::string pattern = data.value("pattern", "*");
            auto files = scan_directory(share_directory, pattern);
            
            nlohmann::json response;
            response["files"] = files;
            response["node_id"] = client.get_our_peer_id();
            client.send(peer_id, "files_available", response);
        });
        
        // Handle file requests
        client.on("request_file", [this](const std::string& peer_id, const nlohmann::json& data) {
            std::string filename = data.value("filename", "");
            send_file_to_peer(peer_id, filename);
        });
    }
    
    void start() {
        client.start();
        client.start_dht_discovery();
        
        // Announce availability for file sharing
        std::string file_share_hash = "file_share_network_v1";
        client.announce_for_hash(file_share_hash);
        
        // Find other file sharing nodes
        client.find_peers_by_hash(file_share_hash, [this](const std::vector<std::string>& peers) {
            std::cout << "Found " << peers.size() << " file sharing nodes" << std::endl;
            for (const auto& peer : peers) {
                // Connect and discover available files
                // Implementation details...
            }
        });
    }
    
private:
    std::vector<std::string> scan_directory(const std::string& dir, const std::string& pattern) {
        // Directory scanning implementation
        return {};
    }
    
    void send_file_to_peer(const std::string& peer_id, const std::string& filename) {
        // File transfer implementation
    }
};

// ---- not in the seed: a main that constructs and starts the class above. Arguments: [port]
// [seconds to run], defaults 8080 and 60 (the seed's class would run until its client is destroyed).
#include <cstdlib>
int main(int argc, char** argv) {
    const int port = argc > 1 ? std::atoi(argv[1]) : 8080;
    const int seconds = argc > 2 ? std::atoi(argv[2]) : 60;
    FileShareNode node(port, ".");
    node.start();
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    return 0;
}
