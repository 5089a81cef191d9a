#ifndef LIBRATS_DHT_ROUTING_TABLE_HPP
#define LIBRATS_DHT_ROUTING_TABLE_HPP

// The BEP 5 routing table: k-buckets over the 160-bit ID space, where only the bucket holding our
// own ID splits, node states (good / questionable / bad), per-bucket replacement caches and
// refresh targets. Sans-I/O: no sockets, no timers; the caller passes the time ("now") and sends
// the pings the table asks for. One table per address family: BEP 32 keeps IPv4 and IPv6 nodes
// apart, so a dual-stack node creates two instances (nothing here stops mixing them in one).

#include <librats/dht/node_id.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace librats::dht {

enum class node_state { good, questionable, bad };

class routing_table {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;

    static constexpr std::size_t max_buckets = node_id::size * 8;
    // BEP 5: a node is questionable after 15 minutes without activity; buckets likewise go stale.
    static constexpr clock::duration inactivity_limit = std::chrono::minutes(15);
    // "Fails to respond to multiple queries in a row".
    static constexpr int bad_after_failures = 2;
    // A ping the table asked for is not asked for again while this young: the caller's query is
    // still in flight (KRPC timeouts are seconds).
    static constexpr clock::duration ping_pending_for = std::chrono::seconds(30);

    enum class status {
        added,     // now in a bucket (new, or in place of a bad node)
        updated,   // already known: times refreshed
        cached,    // bucket full: waits in the bucket's replacement cache
        rejected,  // our own ID, or a known ID at another endpoint
    };
    struct update_result {
        status outcome;
        // A questionable node of the full bucket the caller should ping (then report the response
        // or the timeout), so that a newcomer in the cache may take its place.
        std::optional<node_contact> ping;
    };
    struct refresh_target {
        std::size_t bucket;
        node_id target;  // random, inside the bucket's range: look it up (find_node)
    };

    explicit routing_table(const node_id& own, std::size_t k = 8) : own_(own), k_(std::max<std::size_t>(k, 1)) {
        buckets_.emplace_back();
    }

    const node_id& own_id() const noexcept { return own_; }
    std::size_t k() const noexcept { return k_; }

    // The node sent us a query.
    update_result heard_from_query(const node_contact& contact, time_point now) {
        return upsert(contact, now, event::query);
    }
    // The node answered one of our queries.
    update_result heard_response(const node_contact& contact, time_point now) {
        return upsert(contact, now, event::response);
    }
    // The node was named by another node (find_node reply) or loaded from disk: questionable until
    // it answers us. Re-insert saved good_nodes() this way.
    update_result heard_about(const node_contact& contact, time_point now) {
        return upsert(contact, now, event::hearsay);
    }

    // Our query to the node failed. Returns a node to ping again: this one, when it is not bad yet
    // and newcomers wait for its place. Once bad, the best waiting newcomer replaces it.
    std::optional<node_contact> timed_out(const node_id& id, time_point now) {
        auto& b = buckets_[bucket_for(id)];
        if (auto it = find(b.nodes, id); it != b.nodes.end()) {
            ++it->failures;
            it->pinged_at.reset();
            if (state_of(*it, now) == node_state::bad) {
                if (auto r = best_replacement(b); r != b.replacements.end()) {
                    *it = *r;
                    b.replacements.erase(r);
                    b.last_changed = now;
                }
                return std::nullopt;
            }
            if (best_replacement(b) == b.replacements.end()) return std::nullopt;
            it->pinged_at = now;
            return it->contact;
        }
        if (auto it = find(b.replacements, id); it != b.replacements.end()) {
            if (++it->failures >= bad_after_failures) b.replacements.erase(it);
        }
        return std::nullopt;
    }

    // Up to count good or questionable nodes (never bad), closest to target first.
    std::vector<node_contact> closest(const node_id& target, std::size_t count) const {
        // Bucket groups by distance to target, each wholly farther than the one before: target's
        // own bucket c, then all deeper buckets (their distances share leading bit c), then c-1,
        // c-2, ..., 0. Whole groups are gathered until count is reached, so sorting them suffices.
        std::vector<std::pair<node_id, const node_contact*>> found;
        const auto gather = [&](const bucket& b) {
            for (const auto& e : b.nodes)
                if (e.failures < bad_after_failures) found.emplace_back(e.contact.id ^ target, &e.contact);
        };
        const std::size_t c = bucket_for(target);
        gather(buckets_[c]);
        if (found.size() < count)
            for (std::size_t i = c + 1; i < buckets_.size(); ++i) gather(buckets_[i]);
        for (std::size_t i = c; i-- > 0 && found.size() < count;) gather(buckets_[i]);
        const auto n = std::min(count, found.size());
        std::partial_sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(n), found.end(),
                          [](const auto& a, const auto& b) { return a.first < b.first; });
        std::vector<node_contact> out;
        out.reserve(n);
        for (std::size_t i = 0; i < n; ++i) out.push_back(*found[i].second);
        return out;
    }

    // Targets for the buckets not changed for 15 minutes. A reported bucket counts as changed now,
    // so each stale bucket is reported once per 15 minutes. Generator: a UniformRandomBitGenerator.
    template <class Generator>
    std::vector<refresh_target> refresh_targets(time_point now, Generator& gen) {
        std::vector<refresh_target> out;
        for (std::size_t i = 0; i < buckets_.size(); ++i) {
            auto& b = buckets_[i];
            if (b.last_changed && now - *b.last_changed < inactivity_limit) continue;
            b.last_changed = now;
            out.push_back({i, random_id_in(i, gen)});
        }
        return out;
    }

    // For persistence: the good nodes (re-insert them with heard_about).
    std::vector<node_contact> good_nodes(time_point now) const {
        std::vector<node_contact> out;
        for (const auto& b : buckets_)
            for (const auto& e : b.nodes)
                if (state_of(e, now) == node_state::good) out.push_back(e.contact);
        return out;
    }

    // The state of a node in the buckets (not the replacement caches), if there.
    std::optional<node_state> state(const node_id& id, time_point now) const {
        const auto& nodes = buckets_[bucket_for(id)].nodes;
        const auto it = std::find_if(nodes.begin(), nodes.end(), [&](const entry& e) { return e.contact.id == id; });
        if (it == nodes.end()) return std::nullopt;
        return state_of(*it, now);
    }

    // Nodes in the buckets (replacement caches not counted).
    std::size_t size() const noexcept {
        std::size_t n = 0;
        for (const auto& b : buckets_) n += b.nodes.size();
        return n;
    }
    std::size_t bucket_count() const noexcept { return buckets_.size(); }
    std::size_t bucket_size(std::size_t index) const { return buckets_.at(index).nodes.size(); }
    std::size_t replacement_count(std::size_t index) const { return buckets_.at(index).replacements.size(); }

    // The bucket whose range holds id: bucket i < last holds the IDs sharing exactly i leading bits
    // with ours; the last one holds the rest (our own ID among them).
    std::size_t bucket_for(const node_id& id) const noexcept {
        return std::min(common_prefix_length(own_, id), buckets_.size() - 1);
    }

    // A random ID inside bucket index's range (a lookup target that refreshes that bucket).
    template <class Generator>
    node_id random_id_in(std::size_t index, Generator& gen) const {
        std::uniform_int_distribution<unsigned> byte(0, 255);
        node_id id;
        for (auto& x : id.bytes()) x = static_cast<std::uint8_t>(byte(gen));
        // Bucket i < last: our first i bits, then bit i flipped. Last: our first `last` bits.
        const bool is_last = index == buckets_.size() - 1;
        const std::size_t prefix = is_last ? index : index + 1;
        for (std::size_t i = 0; i < prefix; ++i) {
            const bool bit = own_.bit(i) != (!is_last && i == index);
            const auto mask = static_cast<std::uint8_t>(0x80u >> (i % 8));
            auto& x = id.bytes()[i / 8];
            x = static_cast<std::uint8_t>(bit ? (x | mask) : (x & ~mask));
        }
        return id;
    }

private:
    enum class event { hearsay, query, response };

    struct entry {
        node_contact contact;
        std::optional<time_point> last_response;
        std::optional<time_point> last_query;
        std::optional<time_point> pinged_at;
        int failures = 0;  // consecutive timeouts
    };
    struct bucket {
        std::vector<entry> nodes;         // at most k
        std::vector<entry> replacements;  // at most k, oldest first
        std::optional<time_point> last_changed;
    };

    // A node that just failed to answer is not counted good, whatever it did before.
    static node_state state_of(const entry& e, time_point now) {
        if (e.failures >= bad_after_failures) return node_state::bad;
        const auto recent = [&](const std::optional<time_point>& t) { return t && now - *t < inactivity_limit; };
        if (e.failures == 0 && e.last_response && (recent(e.last_response) || recent(e.last_query)))
            return node_state::good;
        return node_state::questionable;
    }

    static std::optional<time_point> last_seen(const entry& e) {
        if (!e.last_response) return e.last_query;
        if (!e.last_query) return e.last_response;
        return std::max(*e.last_response, *e.last_query);
    }

    static std::vector<entry>::iterator find(std::vector<entry>& v, const node_id& id) {
        return std::find_if(v.begin(), v.end(), [&](const entry& e) { return e.contact.id == id; });
    }

    static void touch(entry& e, event ev, time_point now) {
        if (ev == event::query) e.last_query = now;
        if (ev == event::response) {
            e.last_response = now;
            e.failures = 0;
            e.pinged_at.reset();
        }
    }

    // Preferably one that has answered us, then the most recent; end() if none is usable.
    static std::vector<entry>::iterator best_replacement(bucket& b) {
        auto best = b.replacements.end();
        for (auto it = b.replacements.end(); it != b.replacements.begin();) {
            --it;
            if (it->failures >= bad_after_failures) continue;
            if (it->last_response) return it;
            if (best == b.replacements.end()) best = it;
        }
        return best;
    }

    update_result upsert(const node_contact& contact, time_point now, event ev) {
        if (contact.id == own_) return {status::rejected, std::nullopt};
        auto* b = &buckets_[bucket_for(contact.id)];
        if (auto it = find(b->nodes, contact.id); it != b->nodes.end()) {
            if (it->contact.endpoint != contact.endpoint) {
                // Same ID elsewhere: a spoof, or a node that moved; only a bad entry yields.
                if (state_of(*it, now) != node_state::bad) return {status::rejected, std::nullopt};
                *it = entry{contact, {}, {}, {}, 0};
                touch(*it, ev, now);
                b->last_changed = now;
                return {status::added, std::nullopt};
            }
            touch(*it, ev, now);
            if (ev == event::response) b->last_changed = now;
            return {status::updated, std::nullopt};
        }

        entry fresh{contact, {}, {}, {}, 0};
        if (auto it = find(b->replacements, contact.id); it != b->replacements.end()) {
            // Waiting newcomers are not verified by us unless they answered: those keep their ID.
            if (it->contact.endpoint != contact.endpoint && it->last_response) return {status::rejected, std::nullopt};
            if (it->contact.endpoint == contact.endpoint) fresh = *it;
            b->replacements.erase(it);
        }
        touch(fresh, ev, now);

        const auto is_bad = [](const entry& e) { return e.failures >= bad_after_failures; };
        while (b->nodes.size() >= k_ && std::none_of(b->nodes.begin(), b->nodes.end(), is_bad) &&
               b == &buckets_.back() && buckets_.size() < max_buckets) {
            split();
            b = &buckets_[bucket_for(contact.id)];
        }
        if (b->nodes.size() < k_) {
            b->nodes.push_back(fresh);
            b->last_changed = now;
            return {status::added, std::nullopt};
        }
        if (const auto bad = std::find_if(b->nodes.begin(), b->nodes.end(), is_bad); bad != b->nodes.end()) {
            *bad = fresh;
            b->last_changed = now;
            return {status::added, std::nullopt};
        }
        if (b->replacements.size() >= k_) b->replacements.erase(b->replacements.begin());
        b->replacements.push_back(fresh);
        return {status::cached, ping_candidate(*b, now)};
    }

    // The least recently seen questionable node with no ping of ours in flight.
    static std::optional<node_contact> ping_candidate(bucket& b, time_point now) {
        entry* oldest = nullptr;
        for (auto& e : b.nodes) {
            if (state_of(e, now) != node_state::questionable) continue;
            if (e.pinged_at && now - *e.pinged_at < ping_pending_for) continue;
            if (!oldest || last_seen(e) < last_seen(*oldest)) oldest = &e;
        }
        if (!oldest) return std::nullopt;
        oldest->pinged_at = now;
        return oldest->contact;
    }

    // The last bucket (ours) becomes two: the IDs sharing exactly `last` leading bits with ours
    // stay, the deeper ones move to the new last bucket. Each half refills from its cache.
    void split() {
        const std::size_t last = buckets_.size() - 1;
        buckets_.emplace_back();
        auto& low = buckets_[last];
        auto& high = buckets_.back();
        high.last_changed = low.last_changed;
        const auto moves = [&](const entry& e) { return common_prefix_length(own_, e.contact.id) > last; };
        for (const auto list : {&bucket::nodes, &bucket::replacements}) {
            auto& from = low.*list;
            const auto mid = std::stable_partition(from.begin(), from.end(), [&](const entry& e) { return !moves(e); });
            (high.*list).assign(mid, from.end());
            from.erase(mid, from.end());
        }
        for (auto* b : {&low, &high}) {
            while (b->nodes.size() < k_) {
                const auto r = best_replacement(*b);
                if (r == b->replacements.end()) break;
                b->nodes.push_back(*r);
                b->replacements.erase(r);
            }
        }
    }


    node_id own_;
    std::size_t k_;
    std::vector<bucket> buckets_;  // at most max_buckets
};

}  // namespace librats::dht

#endif
