#include <librats/librats.hpp>
#include <iostream>

int main() {
    // Create a rats client listening on port 8080
    librats::RatsClient client(8080);
    
    // Set up event handlers using the modern message API
    client.on("chat", [](const std::string& peer_id, const nlohmann::json& data) {
        std::cout << "Chat from " << peer_id << ": " 
                  << data.value("message", "") << std::endl;
    });
    
    client.on("file_request", [&](const std::string& peer_id, const nlohmann::json& data) {
        std::string filename = data.value("filename", "");
        std::cout << "File request from " << peer_id << ": " << filename << std::endl;
        
        // Respond with file data
        nlohmann::json response;
        response["status"] = "found";
        response["size"] = 12345;
        client.send(peer_id, "file_response", response);
    });
    
    // Set up connection callbacks
    client.set_connection_callback([](auto socket, const std::string& peer_id) {
        std::cout << "New peer connected: " << peer_id << std::endl;
    });
    
    // Start the client with all discovery methods
    client.start();
    
    // Enable automatic peer discovery
    client.start_dht_discovery();           // Wide-area discovery via DHT
    client.start_mdns_discovery("my-node"); // Local network discovery
    client.discover_and_ignore_public_ip(); // NAT traversal setup
    
    // Send a message to all peers
    nlohmann::json chat_msg;
    chat_msg["message"] = "Hello, P2P world!";
    chat_msg["timestamp"] = std::time(nullptr);
    client.send("chat", chat_msg);
    
    // Connect to a specific peer (optional)
    client.connect_to_peer("192.168.1.100", 8081);
    
    // Keep running...
    std::this_thread::sleep_for(std::chrono::minutes(5));
    
    return 0;
}
