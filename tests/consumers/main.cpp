// Consumer smoke test (tests/consumers/, run by tools/consumer-tests.sh): two nodes on
// 127.0.0.1 with OS-chosen ports, the second connects to the first and sends one JSON message.
// Exit 0 when it arrives intact, 1 on anything else or after the deadline.

#include <librats/librats.hpp>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

int main() {
    using namespace std::chrono_literals;
    const auto deadline = std::chrono::steady_clock::now() + 15s;

    librats::RatsClient receiver(0, 4, "127.0.0.1");
    librats::RatsClient sender(0, 4, "127.0.0.1");

    std::mutex mutex;
    std::condition_variable arrived_cv;
    bool arrived = false;
    nlohmann::json received;
    receiver.on("consumer", [&](const std::string&, const nlohmann::json& data) {
        std::lock_guard<std::mutex> lock(mutex);
        received = data;
        arrived = true;
        arrived_cv.notify_all();
    });

    if (!receiver.start() || !sender.start()) {
        std::cerr << "consumer: cannot start the nodes\n";
        return 1;
    }
    if (!sender.connect_to_peer("127.0.0.1", receiver.get_listen_port())) {
        std::cerr << "consumer: connect_to_peer refused\n";
        return 1;
    }
    while ((sender.get_peer_count() < 1 || receiver.get_peer_count() < 1) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    if (sender.get_peer_count() < 1) {
        std::cerr << "consumer: the nodes did not connect in time\n";
        return 1;
    }

    const nlohmann::json message = {{"text", "hello from a consumer"}, {"version", librats::library_version}};
    sender.send("consumer", message);

    bool ok = false;
    {
        std::unique_lock<std::mutex> lock(mutex);
        arrived_cv.wait_until(lock, deadline, [&] { return arrived; });
        ok = arrived && received == message;
    }
    sender.stop();
    receiver.stop();
    if (!ok) {
        std::cerr << "consumer: the message did not arrive intact in time\n";
        return 1;
    }
    std::cout << "consumer: message delivered (librats " << librats::library_version << ")\n";
    return 0;
}
