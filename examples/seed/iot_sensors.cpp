#include <librats/librats.hpp>
using namespace librats;

class IoTSensorNode {
private:
    RatsClient client;
    std::string node_type;
    
public:
    IoTSensorNode(int port, const std::string& type) 
        : client(port), node_type(type) {
        
        // Handle sensor data requests
        client.on("get_sensor_data", [this](const std::string& peer_id, const nlohmann::json& data) {
            nlohmann::json sensor_data;
            sensor_data["node_type"] = node_type;
            sensor_data["temperature"] = read_temperature();
            sensor_data["humidity"] = read_humidity();
            sensor_data["timestamp"] = std::time(nullptr);
            
            client.send(peer_id, "sensor_data", sensor_data);
        });
        
        // Handle configuration updates
        client.on("config_update", [this](const std::string& peer_id, const nlohmann::json& data) {
            apply_configuration(data);
            
            nlohmann::json ack;
            ack["status"] = "configured";
            ack["node_id"] = client.get_our_peer_id();
            client.send(peer_id, "config_ack", ack);
        });
    }
    
    void start() {
        client.start();
        
        // Use mDNS for local IoT network discovery
        std::map<std::string, std::string> device_info;
        device_info["device_type"] = node_type;
        device_info["protocol"] = "iot_sensors_v1";
        device_info["capabilities"] = "temperature,humidity";
        
        client.start_mdns_discovery(node_type + "_sensor", device_info);
        
        // Periodically broadcast sensor data
        std::thread([this]() {
            while (true) {
                std::this_thread::sleep_for(std::chrono::seconds(30));
                
                nlohmann::json broadcast_data;
                broadcast_data["node_type"] = node_type;
                broadcast_data["temperature"] = read_temperature();
                broadcast_data["humidity"] = read_humidity();
                broadcast_data["battery"] = read_battery_level();
                broadcast_data["timestamp"] = std::time(nullptr);
                
                client.send("sensor_broadcast", broadcast_data);
            }
        }).detach();
    }
    
private:
    double read_temperature() { return 22.5; /* Sensor reading */ }
    double read_humidity() { return 45.0; /* Sensor reading */ }
    int read_battery_level() { return 85; /* Battery level */ }
    void apply_configuration(const nlohmann::json& config) { /* Config logic */ }
};

// ---- not in the seed: a main that constructs and starts the class above. Arguments: [port]
// [seconds to run], defaults 8080 and 60 (the seed's class would run until its client is destroyed).
#include <cstdlib>
int main(int argc, char** argv) {
    const int port = argc > 1 ? std::atoi(argv[1]) : 8080;
    const int seconds = argc > 2 ? std::atoi(argv[2]) : 60;
    IoTSensorNode node(port, "thermostat");
    node.start();
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    return 0;
}
