#ifndef LIBRATS_TESTS_DHT_SIM_NETWORK_HPP
#define LIBRATS_TESTS_DHT_SIM_NETWORK_HPP

// An in-process datagram network with virtual time for DHT engines: packets are delivered after
// a random latency (and optionally lost), ticks run at each engine's deadline, and nothing touches
// a socket. Addresses are 10.x.y.z:6881 and exist only here. Deterministic for a given seed.

#include <librats/dht/engine.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace librats::dht::sim {

using clock = engine::clock;
using time_point = engine::time_point;
using namespace std::chrono_literals;

inline node_id random_id(std::mt19937_64& rng) {
    node_id id;
    for (auto& b : id.bytes()) b = static_cast<std::uint8_t>(rng());
    return id;
}

class network {
public:
    struct options {
        std::uint64_t seed = 1;
        clock::duration min_latency = 5ms;
        clock::duration max_latency = 40ms;
        double loss = 0.0;
        engine_options node;
    };

    explicit network(options o) : options_(std::move(o)), rng_(options_.seed) {}

    time_point now() const noexcept { return now_; }
    std::size_t size() const noexcept { return nodes_.size(); }
    engine& node(std::size_t i) { return *nodes_[i].dht; }
    const asio::ip::udp::endpoint& endpoint(std::size_t i) const { return nodes_[i].address; }
    std::uint64_t packets_delivered() const noexcept { return delivered_; }

    // A node at 10.x.y.z:6881 with a random ID; returns its index.
    std::size_t add_node() {
        const auto index = nodes_.size();
        const auto n = static_cast<std::uint32_t>(index + 1);
        asio::ip::udp::endpoint address(asio::ip::address_v4(0x0a000000u + n), 6881);
        auto dht = std::make_unique<engine>(
            random_id(rng_), options_.node, rng_(),
            [this, address](const asio::ip::udp::endpoint& to, std::string_view packet) { post(address, to, packet); },
            now_);
        nodes_.push_back({address, std::move(dht)});
        by_address_.emplace(address, index);
        return index;
    }

    // Runs until `until` returns true or `limit` of virtual time has passed; false on the limit.
    bool run(const std::function<bool()>& until, clock::duration limit) {
        const auto end = now_ + limit;
        while (!until()) {
            if (now_ >= end) return false;
            step(std::min(end, now_ + tick_interval));
        }
        return true;
    }

    void run_for(clock::duration d) {
        run([] { return false; }, d);
    }

    // Packets from a fake address (for abuse tests): delivered like any other.
    void inject(const asio::ip::udp::endpoint& from, const asio::ip::udp::endpoint& to, std::string_view packet) {
        post(from, to, packet);
    }
    // Packets to addresses that are no node's (fake nodes answer through inject()).
    std::function<void(const asio::ip::udp::endpoint& from, const asio::ip::udp::endpoint& to, std::string_view)>
        on_unrouted;

private:
    static constexpr clock::duration tick_interval = 50ms;

    struct sim_node {
        asio::ip::udp::endpoint address;
        std::unique_ptr<engine> dht;
    };
    struct packet {
        time_point at;
        std::uint64_t order;
        asio::ip::udp::endpoint from;
        asio::ip::udp::endpoint to;
        std::string data;
        bool operator>(const packet& other) const {
            return at != other.at ? at > other.at : order > other.order;
        }
    };

    void post(const asio::ip::udp::endpoint& from, const asio::ip::udp::endpoint& to, std::string_view data) {
        if (options_.loss > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < options_.loss) return;
        const auto span = options_.max_latency - options_.min_latency;
        const auto latency = options_.min_latency + clock::duration(span.count() > 0 ? rng_() % span.count() : 0);
        queue_.push(packet{now_ + latency, ++order_, from, to, std::string(data)});
    }

    // Delivers every packet due before `until`, then ticks the engines whose deadline has come.
    void step(time_point until) {
        while (!queue_.empty() && queue_.top().at <= until) {
            const packet p = queue_.top();
            queue_.pop();
            now_ = std::max(now_, p.at);
            const auto it = by_address_.find(p.to);
            if (it == by_address_.end()) {
                if (on_unrouted) on_unrouted(p.from, p.to, p.data);
                continue;
            }
            ++delivered_;
            nodes_[it->second].dht->receive(p.from, p.data, now_);
        }
        now_ = until;
        for (auto& n : nodes_)
            if (n.dht->next_deadline() <= now_) n.dht->tick(now_);
    }

    options options_;
    std::mt19937_64 rng_;
    time_point now_ = time_point{} + 24h;
    std::vector<sim_node> nodes_;
    std::unordered_map<asio::ip::udp::endpoint, std::size_t> by_address_;
    std::priority_queue<packet, std::vector<packet>, std::greater<>> queue_;
    std::uint64_t order_ = 0;
    std::uint64_t delivered_ = 0;
};

}  // namespace librats::dht::sim

#endif
