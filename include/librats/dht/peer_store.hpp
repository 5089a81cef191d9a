#ifndef LIBRATS_DHT_PEER_STORE_HPP
#define LIBRATS_DHT_PEER_STORE_HPP

// The peers others announced to us (announce_peer), by info-hash: each entry expires unless
// re-announced, and both the number of info-hashes and the peers per info-hash are capped so that
// a flood of announces cannot grow memory without bound.

#include <librats/dht/node_id.hpp>

#include <asio/ip/tcp.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <iterator>
#include <map>
#include <random>
#include <vector>

namespace librats::dht {

struct peer_store_limits {
    std::size_t max_info_hashes = 2000;
    std::size_t max_peers_per_hash = 100;
    std::chrono::steady_clock::duration ttl = std::chrono::minutes(45);  // peers re-announce every 30 minutes or so
};

class peer_store {
public:
    using clock = std::chrono::steady_clock;

    using limits = peer_store_limits;

    explicit peer_store(limits l = {}) : limits_(l) {}

    // False when the store is full of other info-hashes (the announce is not kept).
    bool add(const node_id& info_hash, const asio::ip::tcp::endpoint& peer, clock::time_point now) {
        auto it = hashes_.find(info_hash);
        if (it == hashes_.end()) {
            if (hashes_.size() >= limits_.max_info_hashes) return false;
            it = hashes_.emplace(info_hash, std::vector<entry>{}).first;
        }
        auto& peers = it->second;
        const auto expires = now + limits_.ttl;
        if (auto same = std::find_if(peers.begin(), peers.end(), [&](const entry& e) { return e.peer == peer; });
            same != peers.end()) {
            same->expires = expires;
        } else if (peers.size() < limits_.max_peers_per_hash) {
            peers.push_back(entry{peer, expires});
        } else {
            // Full: the newcomer replaces the entry closest to expiry.
            *std::min_element(peers.begin(), peers.end(),
                              [](const entry& a, const entry& b) { return a.expires < b.expires; }) =
                entry{peer, expires};
        }
        return true;
    }

    // Up to `count` live peers of the info-hash, a random choice when there are more.
    template <class Generator>
    std::vector<asio::ip::tcp::endpoint> sample(const node_id& info_hash, std::size_t count, clock::time_point now,
                                                Generator& gen) const {
        std::vector<asio::ip::tcp::endpoint> out;
        const auto it = hashes_.find(info_hash);
        if (it == hashes_.end()) return out;
        for (const auto& e : it->second)
            if (e.expires > now) out.push_back(e.peer);
        if (out.size() > count) {
            std::shuffle(out.begin(), out.end(), gen);
            out.resize(count);
        }
        return out;
    }

    void expire(clock::time_point now) {
        for (auto it = hashes_.begin(); it != hashes_.end();) {
            auto& peers = it->second;
            peers.erase(std::remove_if(peers.begin(), peers.end(), [now](const entry& e) { return e.expires <= now; }),
                        peers.end());
            it = peers.empty() ? hashes_.erase(it) : std::next(it);
        }
    }

    std::size_t info_hashes() const noexcept { return hashes_.size(); }
    std::size_t peers() const noexcept {
        std::size_t n = 0;
        for (const auto& [hash, peers] : hashes_) n += peers.size();
        return n;
    }

private:
    struct entry {
        asio::ip::tcp::endpoint peer;
        clock::time_point expires;
    };

    limits limits_;
    std::map<node_id, std::vector<entry>> hashes_;
};

}  // namespace librats::dht

#endif
