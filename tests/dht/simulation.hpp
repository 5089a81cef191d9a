#ifndef LIBRATS_TESTS_DHT_SIMULATION_HPP
#define LIBRATS_TESTS_DHT_SIMULATION_HPP

// A whole DHT in one process (sim_network): n nodes join through a few seeds, then random nodes
// look up random node IDs (find_node must end at the exact node) and announced info-hashes
// (get_peers must return the announced port). Shared by the simulation test and the benchmark.

#include "dht/sim_network.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace librats::dht::sim {

struct report {
    std::size_t nodes = 0;
    std::size_t joined = 0;               // bootstraps that completed
    std::size_t lookups = 0;
    std::size_t lookups_found = 0;        // find_node ended at the exact target node
    std::size_t peer_lookups = 0;
    std::size_t peer_lookups_found = 0;   // get_peers returned the announced peer
    double median_queries = 0;            // RPCs per find_node lookup
    double median_peer_queries = 0;       // RPCs per get_peers lookup
    double mean_table_size = 0;
    clock::duration virtual_time{};
    std::uint64_t packets = 0;

    double success_rate() const { return lookups ? double(lookups_found) / double(lookups) : 0; }
    double peer_success_rate() const { return peer_lookups ? double(peer_lookups_found) / double(peer_lookups) : 0; }
};

inline double median(std::vector<std::size_t> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 ? double(v[n / 2]) : (double(v[n / 2 - 1]) + double(v[n / 2])) / 2;
}

// Joins `count` nodes (five seeds first, then batches bootstrapping off three random seeds), runs
// `lookups` find_node lookups and `peer_lookups` get_peers lookups after 10 announces.
inline report simulate(std::size_t count, std::size_t lookups, std::size_t peer_lookups, std::uint64_t seed = 1) {
    network::options o;
    o.seed = seed;
    network net(o);
    std::mt19937_64 rng(seed * 7919 + 1);
    report r;
    r.nodes = count;
    const auto start = net.now();
    for (std::size_t i = 0; i < count; ++i) net.add_node();

    const std::size_t seeds = std::min<std::size_t>(5, count);
    std::size_t joined = 0;
    const auto on_joined = [&joined](const lookup_result&) { ++joined; };
    for (std::size_t i = 0; i < seeds; ++i) {
        std::vector<asio::ip::udp::endpoint> others;
        for (std::size_t j = 0; j < seeds; ++j)
            if (j != i) others.push_back(net.endpoint(j));
        net.node(i).bootstrap(others, net.now(), on_joined);
    }
    net.run([&] { return joined == seeds; }, 30s);
    constexpr std::size_t batch = 100;
    for (std::size_t first = seeds; first < count; first += batch) {
        for (std::size_t i = first; i < std::min(count, first + batch); ++i) {
            std::vector<asio::ip::udp::endpoint> via;
            for (int s = 0; s < 3; ++s) via.push_back(net.endpoint(rng() % seeds));
            net.node(i).bootstrap(via, net.now(), on_joined);
        }
        net.run_for(500ms);
    }
    net.run([&] { return joined == count; }, 60s);
    r.joined = joined;
    // Let the late joiners become known: buckets fill as the network answers their queries.
    net.run_for(30s);

    std::vector<std::size_t> queries;
    std::size_t pending = 0;
    for (std::size_t i = 0; i < lookups; ++i) {
        const auto from = rng() % count;
        auto to = rng() % count;
        if (to == from) to = (to + 1) % count;
        const auto target = net.node(to).id();
        ++pending;
        net.node(from).find_node(target, net.now(), [&, target](const lookup_result& res) {
            --pending;
            queries.push_back(res.queries);
            if (!res.nodes.empty() && res.nodes.front().id == target) ++r.lookups_found;
        });
        if (i % 50 == 49) net.run([&] { return pending == 0; }, 60s);
    }
    net.run([&] { return pending == 0; }, 60s);
    r.lookups = lookups;
    r.median_queries = median(queries);

    struct announced_hash {
        node_id hash;
        std::uint16_t port;
    };
    std::vector<announced_hash> hashes;
    for (std::uint16_t i = 0; i < 10; ++i) {
        const announced_hash a{random_id(rng), static_cast<std::uint16_t>(20000 + i)};
        hashes.push_back(a);
        ++pending;
        net.node(rng() % count).announce(a.hash, a.port, net.now(), [&](std::size_t, const lookup_result&) { --pending; });
    }
    net.run([&] { return pending == 0; }, 60s);
    std::vector<std::size_t> peer_queries;
    for (std::size_t i = 0; i < peer_lookups; ++i) {
        const auto a = hashes[i % hashes.size()];
        ++pending;
        net.node(rng() % count).get_peers(a.hash, net.now(), [&, a](const lookup_result& res) {
            --pending;
            peer_queries.push_back(res.queries);
            for (const auto& p : res.peers)
                if (p.port() == a.port) {
                    ++r.peer_lookups_found;
                    break;
                }
        });
        if (i % 50 == 49) net.run([&] { return pending == 0; }, 60s);
    }
    net.run([&] { return pending == 0; }, 60s);
    r.peer_lookups = peer_lookups;
    r.median_peer_queries = median(peer_queries);

    double table = 0;
    for (std::size_t i = 0; i < count; ++i) table += double(net.node(i).table().size());
    r.mean_table_size = count ? table / double(count) : 0;
    r.virtual_time = net.now() - start;
    r.packets = net.packets_delivered();
    return r;
}

}  // namespace librats::dht::sim

#endif
