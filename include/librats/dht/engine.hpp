#ifndef LIBRATS_DHT_ENGINE_HPP
#define LIBRATS_DHT_ENGINE_HPP

// A BEP 5 DHT node without I/O: it answers every query type, runs iterative lookups
// (find_node, get_peers, announce_peer), keeps the routing table, write tokens and announced
// peers, and times out its own queries. Packets go out through a send function and come in
// through receive(); the caller passes the time to every call and calls tick() at
// next_deadline(). A node serves one address family (BEP 32 keeps IPv4 and IPv6 apart).
// Handlers run inside the call that completes them; they may call back into the engine.

#include <librats/dht/bencode.hpp>
#include <librats/dht/krpc.hpp>
#include <librats/dht/lookup.hpp>
#include <librats/dht/node_id.hpp>
#include <librats/dht/peer_store.hpp>
#include <librats/dht/routing_table.hpp>
#include <librats/dht/token_issuer.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace librats::dht {

struct engine_options {
    bool ipv6 = false;
    std::size_t k = 8;
    std::size_t alpha = 3;
    std::size_t max_lookup_candidates = 64;
    // A query unanswered this long is failed; after slow_after its lookup queries another node.
    std::chrono::steady_clock::duration query_timeout = std::chrono::seconds(5);
    std::chrono::steady_clock::duration slow_after = std::chrono::seconds(1);
    std::size_t max_transactions = 2048;
    // BEP 43: send "ro": 1 and answer no queries.
    bool read_only = false;
    // Queries answered per source address (IP and port): a token bucket.
    double queries_per_second = 50;
    double query_burst = 100;
    std::size_t max_rate_limited_sources = 4096;
    std::size_t max_packet_size = 8192;
    std::size_t max_values_per_reply = 50;
    std::size_t max_peers_per_lookup = 1000;
    peer_store::limits store;
    std::string version = std::string("LR\x00\x01", 4);  // "v": client "LR", version 0.1
};

struct engine_statistics {
    std::uint64_t packets_received = 0;
    std::uint64_t packets_sent = 0;
    std::uint64_t queries_received = 0;
    std::uint64_t queries_sent = 0;
    std::uint64_t responses_received = 0;
    std::uint64_t errors_received = 0;
    std::uint64_t errors_sent = 0;
    std::uint64_t malformed_packets = 0;
    std::uint64_t unknown_transactions = 0;
    std::uint64_t rate_limited = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t bad_tokens = 0;
    std::uint64_t announces_stored = 0;
};

struct lookup_result {
    node_id target;
    std::vector<node_contact> nodes;              // the closest nodes that answered, closest first
    std::vector<asio::ip::tcp::endpoint> peers;   // get_peers: every peer the nodes returned
    std::size_t queries = 0;                      // RPCs the lookup sent
    std::size_t responses = 0;
};

class engine {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using send_function = std::function<void(const asio::ip::udp::endpoint&, std::string_view)>;
    using lookup_handler = std::function<void(const lookup_result&)>;
    // Announce: how many of the closest nodes accepted the announce, and the get_peers lookup.
    using announce_handler = std::function<void(std::size_t accepted, const lookup_result&)>;

    engine(const node_id& own, engine_options options, std::uint64_t seed, send_function send, time_point now)
        : options_(std::move(options)),
          own_(own),
          table_(own, options_.k),
          store_(options_.store),
          tokens_(now),
          rng_(seed),
          send_(std::move(send)),
          next_tid_(static_cast<std::uint16_t>(rng_())),
          last_maintenance_(now),
          last_input_(now) {}

    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    const node_id& id() const noexcept { return own_; }
    const routing_table& table() const noexcept { return table_; }
    const peer_store& store() const noexcept { return store_; }
    const engine_statistics& statistics() const noexcept { return stats_; }
    std::size_t active_lookups() const noexcept { return lookups_.size(); }
    std::size_t outstanding_queries() const noexcept { return transactions_.size(); }
    std::size_t tracked_sources() const noexcept { return sources_.size(); }

    // ---- input

    void receive(const asio::ip::udp::endpoint& from, std::string_view packet, time_point now) {
        last_input_ = now;
        ++stats_.packets_received;
        if (from.address().is_v6() != options_.ipv6 || from.port() == 0) return drop_malformed();
        if (packet.size() > options_.max_packet_size) return drop_malformed();
        const auto ec = krpc::decode(packet, scratch_, message_);
        if (ec) {
            drop_malformed();
            // A query we could read far enough gets an error back (BEP 5: 203, or 204 for a method
            // we do not know); anything else is dropped silently.
            if (message_.type == krpc::message_type::query && !options_.read_only && admit(from, now))
                send_error(from, message_.transaction_id, krpc::error_reply_code(ec), ec.message());
            return;
        }
        switch (*message_.type) {
        case krpc::message_type::query: return on_query(from, now);
        case krpc::message_type::response:
        case krpc::message_type::error: return on_reply(from, now);
        }
    }

    // Timeouts and upkeep: call at next_deadline() (calling earlier or later is harmless).
    void tick(time_point now) {
        last_input_ = now;
        std::vector<std::uint16_t> expired, slow;
        for (auto d = deadlines_.begin(); d != deadlines_.end() && d->first <= now; ++d) {
            if (now - transactions_.at(d->second).sent >= options_.query_timeout) expired.push_back(d->second);
            else slow.push_back(d->second);
        }
        for (const auto tid : slow) mark_slow(tid, now);
        for (const auto tid : expired) fail(tid, now);

        if (now - last_maintenance_ >= maintenance_interval) {
            last_maintenance_ = now;
            tokens_.rotate_if_due(now);
            store_.expire(now);
            forget_idle_sources(now);
            for (const auto& r : table_.refresh_targets(now, rng_)) {
                if (table_.size() == 0) break;
                start_lookup(r.target, purpose::refresh, now);
            }
        }
    }

    // When tick() has something to do next.
    time_point next_deadline() const {
        const auto maintenance = last_maintenance_ + maintenance_interval;
        return deadlines_.empty() ? maintenance : std::min(maintenance, deadlines_.begin()->first);
    }

    // ---- operations

    // Joins the network through nodes whose IDs we do not know (Kademlia's join): a find_node
    // lookup for our own ID seeded with the routing table and these addresses, then a lookup in
    // each bucket farther away, which makes us known across the ID space. `done` runs after the
    // first lookup.
    void bootstrap(const std::vector<asio::ip::udp::endpoint>& seeds, time_point now, lookup_handler done = {}) {
        auto joined = [this, done = std::move(done)](const lookup_result& r) {
            for (std::size_t i = 0; i + 1 < table_.bucket_count(); ++i)
                start_lookup(table_.random_id_in(i, rng_), purpose::refresh, last_input_);
            if (done) done(r);
        };
        auto& l = start_lookup(own_, purpose::find_node, now, std::move(joined), false);
        for (const auto& seed : seeds) {
            if (seed.address().is_v6() != options_.ipv6) continue;
            if (send_query(seed, std::nullopt, krpc::find_node_args{own_, {}}, l.id, now)) l.state.queried_unknown();
        }
        advance(l.id, now);
    }

    void find_node(const node_id& target, time_point now, lookup_handler done) {
        start_lookup(target, purpose::find_node, now, std::move(done));
    }

    void get_peers(const node_id& info_hash, time_point now, lookup_handler done) {
        start_lookup(info_hash, purpose::get_peers, now, std::move(done));
    }

    // get_peers, then announce_peer to the closest nodes that gave a token. port 0 announces the
    // UDP source port instead (implied_port).
    void announce(const node_id& info_hash, std::uint16_t port, time_point now, announce_handler done) {
        auto& l = start_lookup(info_hash, purpose::announce, now, {}, false);
        l.announce_port = port;
        l.announced = std::move(done);
        advance(l.id, now);
    }

    // Forgets every lookup (their handlers are destroyed, not called) and every query in flight:
    // for shutting down, when handlers may hold what owns the engine.
    void abandon_all() {
        lookups_.clear();
        transactions_.clear();
        deadlines_.clear();
    }

    void ping(const asio::ip::udp::endpoint& to, time_point now) { send_query(to, std::nullopt, krpc::ping_args{}, 0, now); }

    // Persistence: the good nodes now, and nodes saved earlier (questionable until they answer).
    std::vector<node_contact> export_nodes(time_point now) const { return table_.good_nodes(now); }
    void import_nodes(const std::vector<node_contact>& nodes, time_point now) {
        for (const auto& n : nodes)
            if (n.endpoint.address().is_v6() == options_.ipv6) table_.heard_about(n, now);
    }

private:
    static constexpr clock::duration maintenance_interval = std::chrono::seconds(10);

    enum class purpose : std::uint8_t { find_node, get_peers, announce, refresh };

    struct active_lookup {
        std::uint64_t id;
        purpose what;
        lookup state;
        lookup_handler done;
        announce_handler announced;
        std::uint16_t announce_port = 0;
        std::vector<asio::ip::tcp::endpoint> peers;
        std::size_t announces_pending = 0;
        std::size_t announces_accepted = 0;
        bool announcing = false;
    };

    struct transaction {
        asio::ip::udp::endpoint to;
        std::optional<node_id> expected;  // none for bootstrap addresses
        krpc::method method;
        std::uint64_t lookup = 0;  // 0: not part of a lookup
        time_point sent;
        bool slow = false;
    };

    struct source_bucket {
        double tokens;
        time_point last;
    };

    void drop_malformed() { ++stats_.malformed_packets; }

    // ---- queries from others

    void on_query(const asio::ip::udp::endpoint& from, time_point now) {
        ++stats_.queries_received;
        if (options_.read_only || !admit(from, now)) return;
        const auto& q = std::get<krpc::query>(message_.body);
        const auto tid = message_.transaction_id;
        if (!message_.read_only && q.id != own_) note(table_.heard_from_query({q.id, from}, now), now);

        krpc::response_data r;
        r.id = own_;
        std::string token;
        switch (q.which()) {
        case krpc::method::ping: break;
        case krpc::method::find_node:
            r.nodes = table_.closest(std::get<krpc::find_node_args>(q.args).target, options_.k);
            break;
        case krpc::method::get_peers: {
            const auto& a = std::get<krpc::get_peers_args>(q.args);
            token = tokens_.issue(from.address());
            r.token = token;
            r.values = store_.sample(a.info_hash, options_.max_values_per_reply, now, rng_);
            r.nodes = table_.closest(a.info_hash, options_.k);
            break;
        }
        case krpc::method::announce_peer: {
            const auto& a = std::get<krpc::announce_peer_args>(q.args);
            if (!tokens_.valid(from.address(), a.token)) {
                ++stats_.bad_tokens;
                return send_error(from, tid, krpc::protocol_error, "invalid token");
            }
            const std::uint16_t port = a.implied_port ? from.port() : a.port;
            if (!store_.add(a.info_hash, asio::ip::tcp::endpoint(from.address(), port), now))
                return send_error(from, tid, krpc::server_error, "peer store full");
            ++stats_.announces_stored;
            break;
        }
        }
        krpc::envelope env;
        env.transaction_id = tid;
        env.version = options_.version;
        env.ip = from;
        krpc::encode_response(out_, env, r);
        transmit(from);
    }

    // Token bucket per source address; the table of sources is bounded.
    bool admit(const asio::ip::udp::endpoint& from, time_point now) {
        auto it = sources_.find(from);
        if (it == sources_.end()) {
            if (sources_.size() >= options_.max_rate_limited_sources) forget_idle_sources(now);
            if (sources_.size() >= options_.max_rate_limited_sources) {
                ++stats_.rate_limited;
                return false;
            }
            it = sources_.emplace(from, source_bucket{options_.query_burst, now}).first;
        }
        auto& b = it->second;
        const double elapsed = std::chrono::duration<double>(now - b.last).count();
        b.tokens = std::min(options_.query_burst, b.tokens + elapsed * options_.queries_per_second);
        b.last = now;
        if (b.tokens < 1) {
            ++stats_.rate_limited;
            return false;
        }
        b.tokens -= 1;
        return true;
    }

    // Sources whose bucket has refilled carry no state worth keeping.
    void forget_idle_sources(time_point now) {
        const auto refill = std::chrono::duration<double>(options_.query_burst / options_.queries_per_second);
        for (auto it = sources_.begin(); it != sources_.end();)
            it = now - it->second.last >= refill ? sources_.erase(it) : std::next(it);
    }

    void send_error(const asio::ip::udp::endpoint& to, std::string_view tid, int code, std::string_view text) {
        krpc::envelope env;
        env.transaction_id = tid;
        env.version = options_.version;
        krpc::encode_error(out_, env, code, text);
        ++stats_.errors_sent;
        transmit(to);
    }

    // ---- replies to our queries

    void on_reply(const asio::ip::udp::endpoint& from, time_point now) {
        const auto tid = message_.transaction_id;
        const auto it = tid.size() == 2 ? transactions_.find(tid_value(tid)) : transactions_.end();
        if (it == transactions_.end() || it->second.to != from) {
            ++stats_.unknown_transactions;
            return;
        }
        const auto t = take_transaction(it);
        active_lookup* l = t.lookup ? find_lookup(t.lookup) : nullptr;

        if (*message_.type == krpc::message_type::error) {
            ++stats_.errors_received;
            if (l) reply_failed(*l, t, now);
            return;
        }
        ++stats_.responses_received;
        const auto& r = std::get<krpc::response>(message_.body);
        if ((t.expected && *t.expected != r.id) || r.id == own_) {
            // Not the node we asked (it changed its ID, or it is a copy of us): a failure.
            if (t.expected) note_timeout(*t.expected, now);
            if (l) reply_failed(*l, t, now);
            return;
        }
        note(table_.heard_response({r.id, from}, now), now);
        if (!l) return;

        if (t.method == krpc::method::announce_peer) {
            ++l->announces_accepted;
            return announce_settled(*l);
        }
        const auto& nodes = options_.ipv6 ? r.nodes6 : r.nodes;
        std::size_t taken = 0;
        for (const auto contact : nodes) {
            if (++taken > 2 * options_.k) break;  // more than any honest node sends
            if (contact.id != own_ && contact.endpoint.port() != 0) l->state.add(contact);
        }
        if (l->what != purpose::find_node && l->what != purpose::refresh && r.values) {
            for (const auto peer : *r.values) {
                if (l->peers.size() >= options_.max_peers_per_lookup) break;
                if (peer.port() != 0 && std::find(l->peers.begin(), l->peers.end(), peer) == l->peers.end())
                    l->peers.push_back(peer);
            }
        }
        l->state.responded({r.id, from}, r.token.value_or(std::string_view{}), t.slow);
        advance(l->id, now);
    }

    void reply_failed(active_lookup& l, const transaction& t, time_point now) {
        if (t.method == krpc::method::announce_peer) return announce_settled(l);
        l.state.failed(t.to, t.slow);
        advance(l.id, now);
    }

    void mark_slow(std::uint16_t tid, time_point now) {
        const auto it = transactions_.find(tid);
        if (it == transactions_.end()) return;
        deadlines_.erase({due(it->second), tid});
        it->second.slow = true;
        deadlines_.insert({due(it->second), tid});
        if (it->second.method == krpc::method::announce_peer) return;
        if (auto* l = find_lookup(it->second.lookup)) {
            l->state.slow();
            advance(l->id, now);
        }
    }

    void fail(std::uint16_t tid, time_point now) {
        const auto it = transactions_.find(tid);
        if (it == transactions_.end()) return;
        const auto t = take_transaction(it);
        ++stats_.timeouts;
        if (t.expected) note_timeout(*t.expected, now);
        if (auto* l = find_lookup(t.lookup)) reply_failed(*l, t, now);
    }

    // The routing table asks for a ping to decide whether a questionable node stays.
    void note(const routing_table::update_result& r, time_point now) {
        if (r.ping) send_query(r.ping->endpoint, r.ping->id, krpc::ping_args{}, 0, now);
    }
    void note_timeout(const node_id& id, time_point now) {
        if (auto again = table_.timed_out(id, now)) send_query(again->endpoint, again->id, krpc::ping_args{}, 0, now);
    }

    // ---- lookups

    active_lookup& start_lookup(const node_id& target, purpose what, time_point now, lookup_handler done = {},
                                bool run = true) {
        const auto id = ++last_lookup_id_;
        auto l = std::make_unique<active_lookup>(
            active_lookup{id, what, lookup(target, options_.k, options_.alpha, options_.max_lookup_candidates),
                          std::move(done), {}, 0, {}, 0, 0, false});
        for (const auto& c : table_.closest(target, options_.k)) l->state.add(c);
        auto& ref = *l;
        lookups_.emplace(id, std::move(l));
        if (run) advance(id, now);
        return ref;
    }

    active_lookup* find_lookup(std::uint64_t id) {
        const auto it = id ? lookups_.find(id) : lookups_.end();
        return it == lookups_.end() ? nullptr : it->second.get();
    }

    // Sends the next queries of a lookup, or finishes it.
    void advance(std::uint64_t id, time_point now) {
        auto* l = find_lookup(id);
        if (!l || l->announcing) return;
        // A send fails when too many queries are in flight: that candidate counts as failed and the
        // next ones are tried, or the lookup would wait for replies to queries it never sent.
        for (;;) {
            const auto batch = l->state.next();
            std::size_t sent = 0;
            for (const auto& c : batch) {
                if (send_lookup_query(*l, c, now)) ++sent;
                else l->state.failed(c.endpoint, false);
            }
            if (batch.empty() || sent > 0) break;
        }
        if (!l->state.done()) return;
        if (l->what == purpose::announce) return start_announces(*l, now);
        finish(id);
    }

    // find_node for lookups after nodes, get_peers for those after peers (announces included).
    bool send_lookup_query(const active_lookup& l, const node_contact& to, time_point now) {
        if (l.what == purpose::find_node || l.what == purpose::refresh)
            return send_query(to.endpoint, to.id, krpc::find_node_args{l.state.target(), {}}, l.id, now);
        return send_query(to.endpoint, to.id, krpc::get_peers_args{l.state.target(), {}}, l.id, now);
    }

    lookup_result result_of(const active_lookup& l) const {
        lookup_result r;
        r.target = l.state.target();
        for (const auto* c : l.state.closest_responded()) r.nodes.push_back(c->contact);
        r.peers = l.peers;
        r.queries = l.state.queries();
        r.responses = l.state.responses();
        return r;
    }

    void start_announces(active_lookup& l, time_point now) {
        l.announcing = true;
        for (const auto* c : l.state.closest_responded()) {
            if (c->token.empty()) continue;
            krpc::announce_peer_args a{l.state.target(), l.announce_port, c->token, l.announce_port == 0};
            if (send_query(c->contact.endpoint, c->contact.id, a, l.id, now)) ++l.announces_pending;
        }
        if (l.announces_pending == 0) finish(l.id);
    }

    void announce_settled(active_lookup& l) {
        if (l.announces_pending > 0 && --l.announces_pending == 0) finish(l.id);
    }

    // Removes the lookup before its handler runs, so the handler may start others.
    void finish(std::uint64_t id) {
        const auto it = lookups_.find(id);
        if (it == lookups_.end()) return;
        const std::unique_ptr<active_lookup> l = std::move(it->second);
        lookups_.erase(it);
        const auto result = result_of(*l);
        if (l->announced) l->announced(l->announces_accepted, result);
        else if (l->done) l->done(result);
    }

    // ---- sending

    static std::uint16_t tid_value(std::string_view tid) noexcept {
        return static_cast<std::uint16_t>((static_cast<unsigned char>(tid[0]) << 8) | static_cast<unsigned char>(tid[1]));
    }

    template <class Args>
    bool send_query(const asio::ip::udp::endpoint& to, const std::optional<node_id>& expected, const Args& args,
                    std::uint64_t lookup_id, time_point now) {
        if (transactions_.size() >= options_.max_transactions) return false;
        while (transactions_.count(next_tid_)) ++next_tid_;
        const std::uint16_t tid = next_tid_++;
        const char tid_bytes[2] = {static_cast<char>(tid >> 8), static_cast<char>(tid & 0xff)};
        krpc::query q;
        q.id = own_;
        q.args = args;
        krpc::envelope env;
        env.transaction_id = std::string_view(tid_bytes, 2);
        env.version = options_.version;
        env.read_only = options_.read_only;
        krpc::encode_query(out_, env, q);
        const transaction t{to, expected, q.which(), lookup_id, now, false};
        transactions_.emplace(tid, t);
        deadlines_.insert({due(t), tid});
        ++stats_.queries_sent;
        transmit(to);
        return true;
    }

    // When tick() next has to look at a query: it becomes slow, then it fails.
    time_point due(const transaction& t) const {
        return t.sent + (t.slow ? options_.query_timeout : std::min(options_.slow_after, options_.query_timeout));
    }

    transaction take_transaction(std::unordered_map<std::uint16_t, transaction>::iterator it) {
        const auto t = it->second;
        deadlines_.erase({due(t), it->first});
        transactions_.erase(it);
        return t;
    }

    void transmit(const asio::ip::udp::endpoint& to) {
        ++stats_.packets_sent;
        send_(to, out_);
    }

    engine_options options_;
    node_id own_;
    routing_table table_;
    peer_store store_;
    token_issuer tokens_;
    std::mt19937_64 rng_;
    send_function send_;
    std::uint16_t next_tid_;
    time_point last_maintenance_;
    time_point last_input_;  // of the latest receive() or tick(): for work started by handlers
    engine_statistics stats_;
    std::unordered_map<std::uint16_t, transaction> transactions_;
    std::set<std::pair<time_point, std::uint16_t>> deadlines_;  // (due, tid) of every transaction
    std::unordered_map<std::uint64_t, std::unique_ptr<active_lookup>> lookups_;
    std::uint64_t last_lookup_id_ = 0;
    std::unordered_map<asio::ip::udp::endpoint, source_bucket> sources_;
    bencode::document scratch_;
    krpc::message message_;
    std::string out_;
};

}  // namespace librats::dht

#endif
