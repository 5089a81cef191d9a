// Compile-cost probe: the single header and the default composition, started and stopped.
#include <librats/librats.hpp>

int main() {
    librats::RatsClient client(0, 10, "127.0.0.1");
    client.on("chat", [](const std::string&, const nlohmann::json& data) { (void)data.dump(); });
    if (!client.start()) return 1;
    client.send("chat", {{"message", "hello"}});
    client.stop();
    return 0;
}
