#include <librats/librats.hpp>
using namespace librats;

int main() {
    RatsClient client(8080);
    
    // Enable encryption (enabled by default)
    client.set_encryption_enabled(true);
    
    // Set up chat message handler
    client.on("chat", [](const std::string& peer_id, const nlohmann::json& data) {
        std::string message = data.value("message", "");
        std::string sender = data.value("sender", "Anonymous");
        std::time_t timestamp = data.value("timestamp", 0);
        
        std::cout << "[" << std::ctime(&timestamp) << "] " 
                  << sender << ": " << message << std::endl;
    });
    
    // Set up file sharing
    client.on("file_request", [&](const std::string& peer_id, const nlohmann::json& data) {
        std::string filename = data.value("filename", "");
        // Handle file request logic...
        
        nlohmann::json response;
        response["filename"] = filename;
        response["available"] = true;
        response["size"] = 12345;
        client.send(peer_id, "file_response", response);
    });
    
    client.start();
    
    // Start all discovery methods
    std::map<std::string, std::string> mdns_info;
    mdns_info["app"] = "chat";
    mdns_info["version"] = "1.0";
    mdns_info["features"] = "encryption,files";
    
    client.start_dht_discovery();
    client.start_mdns_discovery("chat-node", mdns_info);
    client.discover_and_ignore_public_ip();
    
    // Main chat loop
    std::string input;
    while (std::getline(std::cin, input)) {
        if (input == "/quit") break;
        
        nlohmann::json chat_msg;
        chat_msg["message"] = input;
        chat_msg["sender"] = "User";
        chat_msg["timestamp"] = std::time(nullptr);
        
        client.send("chat", chat_msg, [](bool success, const std::string& error) {
            if (!success) {
                std::cerr << "Failed to send message: " << error << std::endl;
            }
        });
    }
    
    return 0;
}
