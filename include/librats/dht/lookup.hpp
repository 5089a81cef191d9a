#ifndef LIBRATS_DHT_LOOKUP_HPP
#define LIBRATS_DHT_LOOKUP_HPP

// One iterative Kademlia lookup (BEP 5): the candidates closest to a target, which of them to
// query next (at most alpha outstanding) and when the lookup is over (the k closest candidates
// that did not fail have all answered). Sans-I/O: the engine sends the queries and reports each
// answer, failure or slow reply back here.

#include <librats/dht/node_id.hpp>

#include <asio/ip/udp.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace librats::dht {

class lookup {
public:
    enum class state : std::uint8_t { fresh, queried, responded, failed };
    struct candidate {
        node_contact contact;
        state status = state::fresh;
        std::string token;  // get_peers: the write token the node gave us
    };

    // max_candidates bounds memory against nodes that answer with long lists of made-up contacts.
    lookup(const node_id& target, std::size_t k, std::size_t alpha, std::size_t max_candidates)
        : target_(target), k_(std::max<std::size_t>(k, 1)), alpha_(std::max<std::size_t>(alpha, 1)),
          max_candidates_(std::max(max_candidates, k_)) {}

    const node_id& target() const noexcept { return target_; }

    // A contact someone named (or the routing table's): queried later if it is among the closest.
    // Its new candidate, or nullptr if its ID or address is known already or the list is full of
    // closer ones.
    candidate* add(const node_contact& contact) {
        for (const auto& c : candidates_)
            if (c.contact.id == contact.id || c.contact.endpoint == contact.endpoint) return nullptr;
        const auto at = std::lower_bound(candidates_.begin(), candidates_.end(), contact.id,
                                         [this](const candidate& c, const node_id& id) {
                                             return closer_to(target_, c.contact.id, id);
                                         });
        if (candidates_.size() >= max_candidates_ && at == candidates_.end()) return nullptr;
        const auto index = static_cast<std::size_t>(at - candidates_.begin());
        candidates_.insert(at, candidate{contact, state::fresh, {}});
        if (candidates_.size() > max_candidates_) candidates_.pop_back();
        return &candidates_[index];
    }

    // The next contacts to query: marks them queried and counts them outstanding.
    std::vector<node_contact> next() {
        std::vector<node_contact> out;
        std::size_t alive = 0;
        for (auto& c : candidates_) {
            if (active_ >= alpha_ || alive >= k_) break;
            if (c.status == state::failed) continue;
            ++alive;
            if (c.status != state::fresh) continue;
            c.status = state::queried;
            ++active_;
            ++outstanding_;
            ++queries_;
            out.push_back(c.contact);
        }
        return out;
    }

    // A query sent to an address whose node ID we do not know yet (a bootstrap node).
    void queried_unknown() {
        ++active_;
        ++outstanding_;
        ++queries_;
    }

    // The answer to one of our queries; `slow` says whether it was reported slow before.
    void responded(const node_contact& from, std::string_view token, bool slow) {
        settle(slow);
        ++responses_;
        if (auto* c = find(from.endpoint)) {
            if (c->contact.id == from.id) {
                c->status = state::responded;
                c->token.assign(token);
                return;
            }
            c->status = state::failed;  // answered with another ID than the one it was named by
        }
        if (auto* c = add(from)) {
            c->status = state::responded;
            c->token.assign(token);
        }
    }

    void failed(const asio::ip::udp::endpoint& from, bool slow) {
        settle(slow);
        if (auto* c = find(from)) c->status = state::failed;
    }

    // A query outstanding for long: its slot goes to another candidate, its answer still counts.
    void slow() {
        if (active_ > 0) --active_;
    }

    // Over when nothing is outstanding among the k closest candidates that did not fail and none of
    // them is left to query (or when every candidate failed and nothing is outstanding).
    bool done() const noexcept {
        std::size_t alive = 0;
        for (const auto& c : candidates_) {
            if (alive >= k_) break;
            if (c.status == state::failed) continue;
            ++alive;
            if (c.status != state::responded) return false;
        }
        return outstanding_unknown() == 0;
    }

    // The k closest candidates that answered, closest first (with their tokens, for announces).
    std::vector<const candidate*> closest_responded() const {
        std::vector<const candidate*> out;
        for (const auto& c : candidates_) {
            if (out.size() >= k_) break;
            if (c.status == state::responded) out.push_back(&c);
        }
        return out;
    }

    std::size_t outstanding() const noexcept { return outstanding_; }
    std::size_t queries() const noexcept { return queries_; }
    std::size_t responses() const noexcept { return responses_; }

private:
    candidate* find(const asio::ip::udp::endpoint& endpoint) {
        for (auto& c : candidates_)
            if (c.contact.endpoint == endpoint) return &c;
        return nullptr;
    }

    void settle(bool slow) {
        if (outstanding_ > 0) --outstanding_;
        if (!slow && active_ > 0) --active_;
    }

    // Outstanding queries whose candidate is not among those in `queried` state, such as queries
    // to bootstrap addresses: the lookup waits for them too.
    std::size_t outstanding_unknown() const noexcept {
        std::size_t queried = 0;
        for (const auto& c : candidates_) queried += c.status == state::queried;
        return outstanding_ > queried ? outstanding_ - queried : 0;
    }

    node_id target_;
    std::size_t k_;
    std::size_t alpha_;
    std::size_t max_candidates_;
    std::vector<candidate> candidates_;  // closest first
    std::size_t active_ = 0;             // outstanding and not slow: at most alpha
    std::size_t outstanding_ = 0;
    std::size_t queries_ = 0;
    std::size_t responses_ = 0;
};

}  // namespace librats::dht

#endif
