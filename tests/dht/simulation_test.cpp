// A thousand DHT engines in one process (sim_network, virtual time): every node joins through
// a few seeds, then random find_node and get_peers lookups. The figures go to the test's output
// and properties; bench/dht_bench.cpp scales the same simulation to 10,000 nodes.

#include "dht/simulation.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

namespace librats::dht::sim {
namespace {

void print(const report& r, double wall_seconds) {
    std::cout << r.nodes << " nodes: " << r.joined << " joined; find_node " << r.lookups_found << '/' << r.lookups
              << " (median " << r.median_queries << " RPCs); get_peers " << r.peer_lookups_found << '/'
              << r.peer_lookups << " (median " << r.median_peer_queries << " RPCs); mean routing table "
              << r.mean_table_size << " nodes; " << r.packets << " packets in "
              << std::chrono::duration<double>(r.virtual_time).count() << " s virtual, " << wall_seconds
              << " s wall\n";
}

TEST(DhtSimulation, ThousandNodesJoinAndEveryLookupSucceeds) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = simulate(1000, 1000, 200);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    print(r, wall);
    RecordProperty("find_node_success_permille", static_cast<int>(r.success_rate() * 1000));
    RecordProperty("median_rpcs_per_lookup", static_cast<int>(r.median_queries));
    EXPECT_EQ(r.joined, 1000u);
    EXPECT_GE(r.success_rate(), 0.999);
    EXPECT_GE(r.peer_success_rate(), 0.999);
    EXPECT_LE(r.median_queries, 25);
    EXPECT_LE(r.median_peer_queries, 25);
}

}  // namespace
}  // namespace librats::dht::sim
