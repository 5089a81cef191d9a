#include <librats/dht/routing_table.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace librats::dht {
namespace {

using namespace std::chrono_literals;
using time_point = routing_table::time_point;

const time_point t0 = time_point{} + 24h;

// Leading bits as given ("0110"), then n in the last four bytes, zeros between.
node_id id_with_prefix(const std::string& bits, std::uint32_t n) {
    node_id id;
    for (std::size_t i = 0; i < bits.size(); ++i)
        if (bits[i] == '1') id.bytes()[i / 8] |= static_cast<std::uint8_t>(0x80u >> (i % 8));
    for (int i = 0; i < 4; ++i) id.bytes()[16 + i] |= static_cast<std::uint8_t>(n >> (24 - 8 * i));
    return id;
}

node_id random_id(std::mt19937& rng) {
    node_id id;
    for (auto& b : id.bytes()) b = static_cast<std::uint8_t>(rng());
    return id;
}

asio::ip::udp::endpoint endpoint_for(std::uint32_t n, std::uint16_t port = 6881) {
    return {asio::ip::address_v4(0x0a000000u + n), port};
}

node_contact contact(const node_id& id, std::uint32_t n) { return {id, endpoint_for(n)}; }

TEST(RoutingTable, RejectsOwnId) {
    const auto own = id_with_prefix("1010", 7);
    routing_table table(own);
    EXPECT_EQ(table.heard_response(contact(own, 1), t0).outcome, routing_table::status::rejected);
    EXPECT_EQ(table.heard_from_query(contact(own, 1), t0).outcome, routing_table::status::rejected);
    EXPECT_EQ(table.size(), 0u);
}

TEST(RoutingTable, OnlyTheBucketHoldingOurIdSplits) {
    routing_table table(node_id{});  // all zeros
    for (std::uint32_t i = 0; i < 8; ++i)
        EXPECT_EQ(table.heard_response(contact(id_with_prefix("1", i), i), t0).outcome, routing_table::status::added);
    EXPECT_EQ(table.bucket_count(), 1u);

    // The full bucket holds our ID: it splits into "1..." (full) and "0..."; the 9th waits.
    EXPECT_EQ(table.heard_response(contact(id_with_prefix("1", 8), 8), t0).outcome, routing_table::status::cached);
    EXPECT_EQ(table.bucket_count(), 2u);
    EXPECT_EQ(table.bucket_size(0), 8u);
    EXPECT_EQ(table.replacement_count(0), 1u);

    // "1..." no longer holds our ID: more nodes there never split it.
    for (std::uint32_t i = 9; i < 40; ++i) table.heard_response(contact(id_with_prefix("1", i), i), t0);
    EXPECT_EQ(table.bucket_count(), 2u);
    EXPECT_EQ(table.size(), 8u);
    EXPECT_EQ(table.replacement_count(0), 8u);  // bounded by k

    // "0..." holds our ID: filling it and one more splits it.
    for (std::uint32_t i = 0; i < 8; ++i) table.heard_response(contact(id_with_prefix("01", i), 100 + i), t0);
    EXPECT_EQ(table.bucket_count(), 2u);
    table.heard_response(contact(id_with_prefix("01", 8), 108), t0);
    EXPECT_EQ(table.bucket_count(), 3u);
    EXPECT_EQ(table.bucket_size(1), 8u);
    EXPECT_EQ(table.bucket_size(2), 0u);
    EXPECT_EQ(table.size(), 16u);
}

TEST(RoutingTable, SplitsRepeatedlyUntilTheNodesSeparate) {
    routing_table table(node_id{});
    for (std::uint32_t i = 0; i < 8; ++i) table.heard_response(contact(id_with_prefix("0001", i), i), t0);
    EXPECT_EQ(table.bucket_count(), 1u);
    // 1, 01, 001 split off empty; 0001 stays full and 0000 becomes ours.
    EXPECT_EQ(table.heard_response(contact(id_with_prefix("0001", 8), 8), t0).outcome, routing_table::status::cached);
    EXPECT_EQ(table.bucket_count(), 5u);
    EXPECT_EQ(table.bucket_size(3), 8u);
    EXPECT_EQ(table.replacement_count(3), 1u);
    EXPECT_EQ(table.heard_response(contact(id_with_prefix("1", 0), 50), t0).outcome, routing_table::status::added);
    EXPECT_EQ(table.bucket_size(0), 1u);
}

TEST(RoutingTable, FullFarBucketSendsNewcomersToTheReplacementCache) {
    routing_table table(node_id{}, 4);
    for (std::uint32_t i = 0; i < 5; ++i) table.heard_response(contact(id_with_prefix("11", i), i), t0 + 1s * i);
    ASSERT_EQ(table.bucket_count(), 2u);
    ASSERT_EQ(table.bucket_size(0), 4u);
    // All good: nothing to ping, the newcomer just waits; the table keeps the first four.
    const auto r = table.heard_response(contact(id_with_prefix("10", 1), 20), t0 + 10s);
    EXPECT_EQ(r.outcome, routing_table::status::cached);
    EXPECT_FALSE(r.ping);
    EXPECT_EQ(table.replacement_count(0), 2u);
    EXPECT_FALSE(table.state(id_with_prefix("10", 1), t0 + 10s));
    for (std::uint32_t i = 0; i < 4; ++i)
        EXPECT_EQ(table.state(id_with_prefix("11", i), t0 + 10s), node_state::good);
    // Most recent kept: a cache of k = 4 drops the oldest.
    for (std::uint32_t i = 0; i < 10; ++i) table.heard_response(contact(id_with_prefix("10", 100 + i), 100 + i), t0 + 11s);
    EXPECT_EQ(table.replacement_count(0), 4u);
    EXPECT_EQ(table.size(), 4u);
}

TEST(RoutingTable, NodeStatesFollowBep5) {
    routing_table table(node_id{});
    const auto a = contact(id_with_prefix("1", 1), 1);
    const auto q = contact(id_with_prefix("1", 2), 2);
    table.heard_response(a, t0);
    table.heard_from_query(q, t0);
    EXPECT_EQ(table.state(a.id, t0 + 14min), node_state::good);
    EXPECT_EQ(table.state(q.id, t0), node_state::questionable);  // never answered us
    EXPECT_EQ(table.state(a.id, t0 + 15min), node_state::questionable);
    // Has answered once, and queried us recently: good again.
    table.heard_from_query(a, t0 + 20min);
    EXPECT_EQ(table.state(a.id, t0 + 30min), node_state::good);
    EXPECT_EQ(table.state(a.id, t0 + 35min), node_state::questionable);
    table.timed_out(a.id, t0 + 36min);
    EXPECT_EQ(table.state(a.id, t0 + 36min), node_state::questionable);
    table.timed_out(a.id, t0 + 37min);
    EXPECT_EQ(table.state(a.id, t0 + 37min), node_state::bad);
    // An answer rehabilitates it.
    table.heard_response(a, t0 + 38min);
    EXPECT_EQ(table.state(a.id, t0 + 38min), node_state::good);
    // One timeout makes even a recently answering node questionable.
    table.timed_out(a.id, t0 + 39min);
    EXPECT_EQ(table.state(a.id, t0 + 39min), node_state::questionable);
}

// Our ID all zeros, k = 8: "1..." full (node i heard at t0 + i s) and split off by one "01..." node.
routing_table full_far_bucket() {
    routing_table table(node_id{});
    for (std::uint32_t i = 0; i < 8; ++i) table.heard_response(contact(id_with_prefix("1", i), i), t0 + 1s * i);
    table.heard_response(contact(id_with_prefix("01", 0), 99), t0);
    return table;
}

TEST(RoutingTable, QuestionableNodeIsPingedAndReplacedAfterTimeouts) {
    auto table = full_far_bucket();
    ASSERT_EQ(table.bucket_count(), 2u);
    const auto first = table.heard_response(contact(id_with_prefix("1", 100), 100), t0);
    EXPECT_EQ(first.outcome, routing_table::status::cached);
    EXPECT_FALSE(first.ping);  // all good: nobody to ping
    ASSERT_EQ(table.replacement_count(0), 1u);

    const auto later = t0 + 20min;  // everyone questionable
    const auto newcomer = contact(id_with_prefix("1", 200), 200);
    const auto r = table.heard_response(newcomer, later);
    EXPECT_EQ(r.outcome, routing_table::status::cached);
    ASSERT_TRUE(r.ping);
    EXPECT_EQ(*r.ping, contact(id_with_prefix("1", 0), 0));  // least recently seen

    // While that ping is in flight, the next newcomer asks for the next-oldest one.
    const auto r2 = table.heard_about(contact(id_with_prefix("1", 300), 300), later);
    ASSERT_TRUE(r2.ping);
    EXPECT_EQ(*r2.ping, contact(id_with_prefix("1", 1), 1));

    // First timeout: ping again; second: bad, and the best replacement (answered, most recent) moves in.
    const auto again = table.timed_out(id_with_prefix("1", 0), later + 10s);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, contact(id_with_prefix("1", 0), 0));
    EXPECT_EQ(table.state(id_with_prefix("1", 0), later + 10s), node_state::questionable);
    EXPECT_FALSE(table.timed_out(id_with_prefix("1", 0), later + 20s));
    EXPECT_FALSE(table.state(id_with_prefix("1", 0), later + 20s));
    EXPECT_EQ(table.state(newcomer.id, later + 20s), node_state::good);
    EXPECT_EQ(table.bucket_size(0), 8u);
    EXPECT_EQ(table.replacement_count(0), 2u);

    // The other pinged node answers: it stays, the waiting ones keep waiting.
    EXPECT_EQ(table.heard_response(contact(id_with_prefix("1", 1), 1), later + 21s).outcome,
              routing_table::status::updated);
    EXPECT_EQ(table.state(id_with_prefix("1", 1), later + 21s), node_state::good);
    EXPECT_EQ(table.replacement_count(0), 2u);
}

TEST(RoutingTable, NewcomerTakesTheSlotOfABadNode) {
    auto table = full_far_bucket();
    table.heard_response(contact(id_with_prefix("1", 100), 100), t0);
    ASSERT_EQ(table.bucket_count(), 2u);
    // The cached node moves in as soon as node 3 goes bad.
    table.timed_out(id_with_prefix("1", 3), t0 + 1min);
    table.timed_out(id_with_prefix("1", 3), t0 + 2min);
    EXPECT_FALSE(table.state(id_with_prefix("1", 3), t0 + 2min));
    EXPECT_EQ(table.state(id_with_prefix("1", 100), t0 + 2min), node_state::good);
    EXPECT_EQ(table.replacement_count(0), 0u);
    // Cache empty: node 4 goes bad and stays until a newcomer replaces it.
    table.timed_out(id_with_prefix("1", 4), t0 + 3min);
    table.timed_out(id_with_prefix("1", 4), t0 + 4min);
    EXPECT_EQ(table.state(id_with_prefix("1", 4), t0 + 4min), node_state::bad);
    EXPECT_EQ(table.heard_about(contact(id_with_prefix("1", 101), 101), t0 + 5min).outcome,
              routing_table::status::added);
    EXPECT_FALSE(table.state(id_with_prefix("1", 4), t0 + 5min));
    EXPECT_EQ(table.state(id_with_prefix("1", 101), t0 + 5min), node_state::questionable);
    EXPECT_EQ(table.size(), 9u);
}

TEST(RoutingTable, ClosestNeverReturnsBadNodes) {
    std::mt19937 rng(7);
    routing_table table(random_id(rng));
    std::vector<node_id> ids;
    for (std::uint32_t i = 0; i < 300; ++i) {
        ids.push_back(random_id(rng));
        table.heard_response(contact(ids.back(), i), t0);
    }
    std::vector<node_id> bad;
    for (const auto& id : ids) {
        if (table.state(id, t0) && bad.size() < 20) {
            table.timed_out(id, t0 + 1s);
            table.timed_out(id, t0 + 2s);
            if (table.state(id, t0 + 2s) == node_state::bad) bad.push_back(id);
        }
    }
    ASSERT_GE(bad.size(), 5u);  // some buckets had no replacements: their bad nodes stay
    for (const auto& id : bad) {
        for (const auto& c : table.closest(id, table.size())) EXPECT_NE(c.id, id);
        EXPECT_TRUE(table.closest(id, 1).empty() || table.closest(id, 1)[0].id != id);
    }
    EXPECT_EQ(table.closest(random_id(rng), 10000).size(), table.size() - bad.size());
}

TEST(RoutingTable, ClosestMatchesBruteForce) {
    std::mt19937 rng(12345);
    for (int round = 0; round < 4; ++round) {
        routing_table table(random_id(rng));
        std::vector<node_id> ids;
        for (std::uint32_t i = 0; i < 3000; ++i) {
            // Half near our ID, so that deep buckets fill too.
            auto id = random_id(rng);
            if (i % 2) {
                const auto keep = rng() % 40;
                for (std::size_t b = 0; b < keep; ++b) {
                    const auto mask = static_cast<std::uint8_t>(0x80u >> (b % 8));
                    auto& x = id.bytes()[b / 8];
                    x = static_cast<std::uint8_t>(table.own_id().bit(b) ? (x | mask) : (x & ~mask));
                }
            }
            ids.push_back(id);
            table.heard_response(contact(id, i), t0);
            if (rng() % 10 == 0) {
                table.timed_out(id, t0);
                table.timed_out(id, t0);
            }
        }
        std::vector<node_id> live;
        for (const auto& id : ids)
            if (const auto s = table.state(id, t0); s && *s != node_state::bad) live.push_back(id);
        ASSERT_GT(table.bucket_count(), 10u);
        for (int q = 0; q < 200; ++q) {
            auto target = random_id(rng);
            if (q % 3 == 0) target = live[rng() % live.size()];
            if (q % 3 == 1) target = ids[rng() % ids.size()] ^ id_with_prefix("", rng() % 256);
            const std::size_t count = q % 2 ? 8 : 1 + rng() % 60;
            auto expected = live;
            std::sort(expected.begin(), expected.end(),
                      [&](const node_id& a, const node_id& b) { return closer_to(target, a, b); });
            expected.resize(std::min(count, expected.size()));
            const auto got = table.closest(target, count);
            ASSERT_EQ(got.size(), expected.size());
            for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i].id, expected[i]) << "query " << q;
        }
    }
}

TEST(RoutingTable, RefreshTargetsFallInsideTheirBucket) {
    std::mt19937 rng(99);
    const auto own = random_id(rng);
    routing_table table(own);
    for (std::uint32_t i = 0; i < 2000; ++i) table.heard_response(contact(random_id(rng), i), t0);
    const auto n = table.bucket_count();
    ASSERT_GT(n, 5u);
    // Just after the table got nodes, the deepest buckets changed at t0 (split ones inherit).
    EXPECT_TRUE(table.refresh_targets(t0 + 14min, rng).empty());

    std::mt19937 target_rng(5);
    for (int round = 0; round < 20; ++round) {
        const auto now = t0 + 15min + round * 16min;
        const auto targets = table.refresh_targets(now, target_rng);
        ASSERT_EQ(targets.size(), n);  // nothing changed since: all stale
        for (std::size_t i = 0; i < n; ++i) {
            EXPECT_EQ(targets[i].bucket, i);
            EXPECT_EQ(table.bucket_for(targets[i].target), i);
            const auto cpl = common_prefix_length(own, targets[i].target);
            if (i + 1 < n) {
                EXPECT_EQ(cpl, i);
            } else {
                EXPECT_GE(cpl, i);
            }
        }
        // Reported ones count as refreshed.
        EXPECT_TRUE(table.refresh_targets(now + 1min, target_rng).empty());
    }

    // A response in a bucket keeps it fresh.
    const auto later = t0 + 15min + 20 * 16min;
    table.refresh_targets(later, rng);
    const auto node = table.closest(own, 1).at(0);
    table.heard_response(node, later + 10min);
    const auto targets = table.refresh_targets(later + 16min, rng);
    EXPECT_EQ(targets.size(), n - 1);
    for (const auto& t : targets) EXPECT_NE(t.bucket, table.bucket_for(node.id));
}

TEST(RoutingTable, EmptyTableWantsARefresh) {
    std::mt19937 rng(1);
    routing_table table(random_id(rng));
    EXPECT_EQ(table.refresh_targets(t0, rng).size(), 1u);
}

TEST(RoutingTable, SpoofedIdAtAnotherEndpointDoesNotReplaceAGoodNode) {
    routing_table table(node_id{});
    const auto real = contact(id_with_prefix("1", 1), 1);
    table.heard_response(real, t0);
    auto spoof = real;
    spoof.endpoint = endpoint_for(66, 7777);
    EXPECT_EQ(table.heard_from_query(spoof, t0 + 1s).outcome, routing_table::status::rejected);
    EXPECT_EQ(table.heard_response(spoof, t0 + 1s).outcome, routing_table::status::rejected);
    EXPECT_EQ(table.heard_about(spoof, t0 + 1s).outcome, routing_table::status::rejected);
    // Still rejected once questionable: only a bad entry yields.
    EXPECT_EQ(table.heard_response(spoof, t0 + 20min).outcome, routing_table::status::rejected);
    const auto found = table.closest(real.id, 1);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0], real);
    EXPECT_EQ(table.size(), 1u);

    // The real node moved: once the old endpoint is bad, the new one takes over.
    table.timed_out(real.id, t0 + 21min);
    table.timed_out(real.id, t0 + 22min);
    EXPECT_EQ(table.heard_response(spoof, t0 + 23min).outcome, routing_table::status::added);
    EXPECT_EQ(table.closest(real.id, 1).at(0), spoof);
    EXPECT_EQ(table.size(), 1u);
}

TEST(RoutingTable, MemoryIsBoundedUnderRandomInserts) {
    std::mt19937 rng(2024);
    routing_table table(random_id(rng));
    for (std::uint32_t i = 0; i < 100000; ++i) {
        const auto c = contact(random_id(rng), i);
        const auto now = t0 + 1ms * i;
        switch (i % 3) {
            case 0: table.heard_response(c, now); break;
            case 1: table.heard_from_query(c, now); break;
            default: table.heard_about(c, now); break;
        }
    }
    EXPECT_LE(table.size(), 160u * table.k());
    EXPECT_GE(table.bucket_count(), 12u);
    EXPECT_LE(table.bucket_count(), 160u);
    for (std::size_t b = 0; b < table.bucket_count(); ++b) {
        EXPECT_LE(table.bucket_size(b), table.k());
        EXPECT_LE(table.replacement_count(b), table.k());
    }
}

TEST(RoutingTable, MemoryIsBoundedWhenNodesCrowdOurId) {
    std::mt19937 rng(3);
    const auto own = random_id(rng);
    routing_table table(own);
    for (std::uint32_t i = 0; i < 100000; ++i) {
        // Shares a random number (0..159) of leading bits with our ID, then random.
        auto id = random_id(rng);
        const auto keep = rng() % 160;
        for (std::size_t b = 0; b <= keep && b < 160; ++b) {
            const auto mask = static_cast<std::uint8_t>(0x80u >> (b % 8));
            const bool bit = b == keep ? !own.bit(b) : own.bit(b);
            auto& x = id.bytes()[b / 8];
            x = static_cast<std::uint8_t>(bit ? (x | mask) : (x & ~mask));
        }
        table.heard_response(contact(id, i), t0);
    }
    // Only IDs sharing >= 157 bits with ours are too few (< k) to fill a bucket and split it.
    EXPECT_GE(table.bucket_count(), 150u);
    EXPECT_LE(table.bucket_count(), 160u);
    EXPECT_LE(table.size(), 160u * table.k());
    for (std::size_t b = 0; b < table.bucket_count(); ++b) {
        EXPECT_LE(table.bucket_size(b), table.k());
        EXPECT_LE(table.replacement_count(b), table.k());
    }
}

TEST(RoutingTable, GoodNodesExportImportRoundTrip) {
    std::mt19937 rng(77);
    const auto own = random_id(rng);
    routing_table table(own);
    for (std::uint32_t i = 0; i < 500; ++i) {
        const auto c = contact(random_id(rng), i);
        if (i % 4 == 0) {
            table.heard_from_query(c, t0);  // never answered: not exported
        } else {
            table.heard_response(c, t0);
        }
    }
    const auto saved = table.good_nodes(t0 + 1min);
    ASSERT_GT(saved.size(), 20u);
    std::size_t good = 0;
    for (const auto& target : table.closest(own, 10000))
        if (table.state(target.id, t0 + 1min) == node_state::good) ++good;
    EXPECT_EQ(saved.size(), good);
    for (const auto& c : saved) EXPECT_EQ(table.state(c.id, t0 + 1min), node_state::good);

    routing_table restored(own);
    for (const auto& c : saved) EXPECT_EQ(restored.heard_about(c, t0 + 2h).outcome, routing_table::status::added);
    EXPECT_EQ(restored.size(), saved.size());
    for (const auto& c : saved) {
        EXPECT_EQ(restored.state(c.id, t0 + 2h), node_state::questionable);
        EXPECT_EQ(restored.closest(c.id, 1).at(0), c);
    }
    EXPECT_TRUE(restored.good_nodes(t0 + 2h).empty());
    restored.heard_response(saved[0], t0 + 2h);
    EXPECT_EQ(restored.good_nodes(t0 + 2h).size(), 1u);
    // Exported after 15 quiet minutes: nothing is good any more.
    EXPECT_TRUE(table.good_nodes(t0 + 15min).empty());
}

}  // namespace
}  // namespace librats::dht
