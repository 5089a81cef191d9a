#ifndef LIBRATS_DISCOVERY_DHT_HPP
#define LIBRATS_DISCOVERY_DHT_HPP

// The mainline DHT as a Discovery module: a BEP 5 node on UDP (dht::udp_node) that joins through
// bootstrap nodes, answers the network, and finds librats peers. While enabled it announces our
// TCP port under a discovery key and dials the peers announced there, every discovery_interval.
// It runs only between enable() and disable() (RatsClient: start_dht_discovery), not from the
// node's start alone. With no bootstrap node configured it joins through the public routers.
// Handlers run on the node's strand.

#include <librats/detail/address.hpp>
#include <librats/dht/engine.hpp>
#include <librats/dht/info_hash.hpp>
#include <librats/dht/node_id.hpp>
#include <librats/dht/udp_node.hpp>
#include <librats/discovery/context.hpp>
#include <librats/error.hpp>
#include <librats/log.hpp>
#include <librats/peer_info.hpp>

#include <asio/ip/udp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace librats {

struct dht_settings {
    std::string bind_address = "0.0.0.0";
    // With no bootstrap node given, join through public_dht_routers(). Off: a node that waits to
    // be contacted (the first node of a private DHT).
    bool use_public_routers = true;
    // Announce our TCP port under discovery_key and dial the peers found there.
    bool discover_peers = true;
    std::string discovery_key = "librats peer discovery v1";
    std::chrono::milliseconds discovery_interval{60'000};
    // Announces are refreshed this often (BEP 5 nodes keep them 30 minutes or more).
    std::chrono::milliseconds announce_interval{15 * 60'000};
    // While the routing table is empty, the bootstrap nodes are tried again this often.
    std::chrono::milliseconds rebootstrap_interval{30'000};
    dht::engine_options engine;
};

// Used only when no bootstrap node is configured.
inline const std::vector<std::pair<std::string, std::uint16_t>>& public_dht_routers() {
    static const std::vector<std::pair<std::string, std::uint16_t>> routers{{"router.bittorrent.com", 6881},
                                                                           {"router.utorrent.com", 6881},
                                                                           {"dht.transmissionbt.com", 6881},
                                                                           {"dht.libtorrent.org", 25401}};
    return routers;
}

class dht_discovery {
public:
    static constexpr const char* name = "dht";
    using peers_handler = std::function<void(const std::vector<std::string>& peers)>;  // "ip:port"

    // ---- configuration (any thread; read by the next enable())

    void add_bootstrap_node(std::string host, std::uint16_t port) {
        std::lock_guard<std::mutex> lock(mutex_);
        bootstrap_.emplace_back(std::move(host), port);
    }
    std::vector<std::pair<std::string, std::uint16_t>> bootstrap_nodes() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return seeds();
    }
    void set_settings(dht_settings s) {
        std::lock_guard<std::mutex> lock(mutex_);
        settings_ = std::move(s);
    }
    dht_settings settings() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return settings_;
    }
    // Persistence: nodes saved from an earlier run seed the routing table (fast rejoin).
    void set_saved_nodes(std::vector<dht::node_contact> nodes) {
        std::lock_guard<std::mutex> lock(mutex_);
        saved_nodes_ = std::move(nodes);
    }
    // The good nodes of the routing table, as of the last second.
    std::vector<dht::node_contact> good_nodes() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return good_nodes_;
    }

    // ---- control (any thread)

    // Binds UDP `port` (0: any) and joins. Fails when the node has not started its modules yet
    // (basic_node::start posts that to its strand; RatsClient::start waits for it) or the bind
    // fails; succeeds at once when already enabled.
    std::error_code enable(std::uint16_t port) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (node_) return {};
        if (!executor_) return make_error_code(errc::not_running);
        std::error_code ec;
        const auto address = asio::ip::make_address(settings_.bind_address, ec);
        if (ec) return ec;
        std::random_device entropy;
        dht::node_id id;
        for (auto& b : id.bytes()) b = static_cast<std::uint8_t>(entropy());
        const std::uint64_t seed = (std::uint64_t{entropy()} << 32) | entropy();
        auto engine_options = settings_.engine;
        engine_options.ipv6 = address.is_v6();
        auto node = dht::udp_node::create(*executor_, id, engine_options, seed);
        if ((ec = node->open({address, port}))) {
            log_->warn("DHT: cannot bind UDP ", settings_.bind_address, ':', port, ": ", ec.message());
            return ec;
        }
        node_ = node;
        port_ = node->local_endpoint().port();
        running_ = true;
        const auto generation = ++generation_;
        asio::post(*executor_, [this, node, generation, seeds = seeds(), saved = saved_nodes_] {
            node->start();
            announce_taken_ = false;
            dialed_.clear();
            node->dht().import_nodes(saved, dht::engine::clock::now());
            log_->info("DHT: node ", node->dht().id().to_hex(), " on UDP port ", node->local_endpoint().port());
            start_rounds(node, generation, seeds);
        });
        return {};
    }

    void disable() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (node_ && executor_) asio::post(*executor_, [node = node_] { node->close(); });
        shut_down();
    }

    bool running() const noexcept { return running_; }
    std::uint16_t port() const noexcept { return port_; }
    std::size_t routing_table_size() const noexcept { return table_size_; }

    // get_peers for key (40 hex digits, or any string: its SHA-1); false when not running.
    bool find_peers(std::string_view key, peers_handler done) {
        return with_node([hash = dht::info_hash_of(key), done = std::move(done)](dht::udp_node& node) mutable {
            node.get_peers(hash, [done = std::move(done)](const dht::lookup_result& r) {
                std::vector<std::string> peers;
                for (const auto& p : r.peers) peers.push_back(detail::format_endpoint(p.address(), p.port()));
                if (done) done(peers);
            });
        });
    }

    // announce_peer for key with a TCP port (0: the node's listen port); false when not running.
    bool announce(std::string_view key, std::uint16_t port = 0, std::function<void(std::size_t accepted)> done = {}) {
        return with_node([this, hash = dht::info_hash_of(key), port, done = std::move(done)](dht::udp_node& node) mutable {
            const auto tcp_port = port ? port : hooks_->listen_port();
            node.announce(hash, tcp_port, [done = std::move(done)](std::size_t accepted, const dht::lookup_result&) {
                if (done) done(accepted);
            });
        });
    }

    // ---- the Discovery concept (on the node's strand)

    template <class Transport>
    void start(discovery_context<Transport>& ctx) {
        std::lock_guard<std::mutex> lock(mutex_);
        executor_ = ctx.get_executor();
        log_ = &ctx.log();
        hooks_ = &ctx.hooks();
    }

    void stop() {
        if (round_timer_) round_timer_->cancel();
        std::lock_guard<std::mutex> lock(mutex_);
        if (node_) node_->close();  // on the strand: no handler of the node runs after this
        shut_down();
        executor_.reset();
    }

private:
    // Under mutex_.
    std::vector<std::pair<std::string, std::uint16_t>> seeds() const {
        if (!bootstrap_.empty() || !settings_.use_public_routers) return bootstrap_;
        return public_dht_routers();
    }

    // The node is closed (or its closing posted) by the caller. A pending round timer sees the new
    // generation and ends (it fires within a second).
    void shut_down() {
        ++generation_;
        running_ = false;
        table_size_ = 0;
        node_.reset();
    }

    template <class F>
    bool with_node(F&& f) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!node_ || !executor_) return false;
        asio::post(*executor_, [node = node_, f = std::forward<F>(f)]() mutable {
            if (node->is_open()) f(*node);
        });
        return true;
    }

    // ---- on the strand

    bool current(std::uint64_t generation) const { return running_ && generation == generation_; }

    void start_rounds(const std::shared_ptr<dht::udp_node>& node, std::uint64_t generation,
                      std::vector<std::pair<std::string, std::uint16_t>> seeds) {
        if (!round_timer_) round_timer_ = std::make_unique<asio::steady_timer>(*executor_);
        resolve_and_bootstrap(node, generation, std::move(seeds));
        round_timer_->expires_after(std::chrono::seconds(1));
        round_timer_->async_wait([this, node, generation](std::error_code ec) {
            if (!ec) on_round_timer(node, generation);
        });
    }

    void resolve_and_bootstrap(const std::shared_ptr<dht::udp_node>& node, std::uint64_t generation,
                               std::vector<std::pair<std::string, std::uint16_t>> seeds) {
        struct pending {
            std::vector<asio::ip::udp::endpoint> endpoints;
            std::size_t left = 0;
        };
        auto state = std::make_shared<pending>();
        auto resolver = std::make_shared<asio::ip::udp::resolver>(*executor_);
        const auto finished = [this, node, generation, state] {
            if (!current(generation)) return;
            node->bootstrap(state->endpoints, [this, node, generation](const dht::lookup_result& r) {
                if (!current(generation)) return;
                log_->debug("DHT: joined, ", r.nodes.size(), " close nodes after ", r.queries, " queries");
                update_status(*node);
                discovery_round(node, generation);
            });
        };
        for (const auto& [host, port] : seeds) {
            std::error_code ec;
            const auto address = asio::ip::make_address(host, ec);
            if (!ec) {
                state->endpoints.emplace_back(address, port);
                continue;
            }
            ++state->left;
            resolver->async_resolve(host, std::to_string(port),
                                    [this, state, resolver, finished, host = host](std::error_code ec, auto results) {
                                        if (ec) log_->info("DHT: cannot resolve bootstrap node ", host, ": ", ec.message());
                                        else
                                            for (const auto& entry : results) state->endpoints.push_back(entry.endpoint());
                                        if (--state->left == 0) finished();
                                    });
        }
        if (state->left == 0) finished();
    }

    // Every second: status for the any-thread queries; every discovery_interval: a discovery
    // round; with an empty table, a new bootstrap.
    void on_round_timer(const std::shared_ptr<dht::udp_node>& node, std::uint64_t generation) {
        if (!current(generation)) return;
        update_status(*node);
        const auto now = std::chrono::steady_clock::now();
        const auto s = settings();
        if (node->dht().table().size() == 0 && now - last_bootstrap_ >= s.rebootstrap_interval) {
            last_bootstrap_ = now;
            resolve_and_bootstrap(node, generation, bootstrap_nodes());
        } else if (now - last_round_ >= s.discovery_interval) {
            discovery_round(node, generation);
        }
        round_timer_->expires_after(std::chrono::seconds(1));
        round_timer_->async_wait([this, node, generation](std::error_code ec) {
            if (!ec) on_round_timer(node, generation);
        });
    }

    void update_status(dht::udp_node& node) {
        auto good = node.dht().export_nodes(dht::engine::clock::now());
        table_size_ = node.dht().table().size();
        std::lock_guard<std::mutex> lock(mutex_);
        good_nodes_ = std::move(good);
    }

    void discovery_round(const std::shared_ptr<dht::udp_node>& node, std::uint64_t generation) {
        const auto s = settings();
        const auto now = std::chrono::steady_clock::now();
        last_round_ = now;
        if (!s.discover_peers) return;
        const auto key = dht::info_hash_of(s.discovery_key);
        const auto own_port = hooks_->listen_port();
        // Announced again each round until some node has taken it (the first node of a network has
        // nobody to announce to), then every announce_interval.
        if (!announce_taken_ || now - last_announce_ >= s.announce_interval) {
            last_announce_ = now;
            node->announce(key, own_port, [this, generation](std::size_t accepted, const dht::lookup_result&) {
                if (!current(generation)) return;
                if (accepted > 0) announce_taken_ = true;
                log_->debug("DHT: discovery announce accepted by ", accepted, " nodes");
            });
        }
        node->get_peers(key, [this, generation, own_port](const dht::lookup_result& r) {
            if (!current(generation)) return;
            for (const auto& peer : r.peers) dial(peer, own_port);
        });
    }

    void dial(const asio::ip::tcp::endpoint& peer, std::uint16_t own_port) {
        const auto& a = peer.address();
        if (peer.port() == own_port && (a.is_loopback() || a.is_unspecified())) return;  // ourselves
        auto& known = dialed_[peer];
        if (known.dialing || (!known.peer_id.empty() && hooks_->is_connected(known.peer_id))) return;
        known.dialing = true;
        log_->debug("DHT: dialing discovered peer ", detail::format_endpoint(a, peer.port()));
        hooks_->connect(a.to_string(), peer.port(), [this, peer](std::error_code ec, const std::string& peer_id) {
            auto& known = dialed_[peer];
            known.dialing = false;
            if (!ec) known.peer_id = peer_id;
        });
    }

    mutable std::mutex mutex_;
    // Guarded by mutex_.
    dht_settings settings_;
    std::vector<std::pair<std::string, std::uint16_t>> bootstrap_;
    std::vector<dht::node_contact> saved_nodes_;
    std::vector<dht::node_contact> good_nodes_;
    std::optional<asio::any_io_executor> executor_;
    std::shared_ptr<dht::udp_node> node_;

    std::atomic<std::uint64_t> generation_{0};  // each enable() starts a new one
    std::atomic<bool> running_{false};
    std::atomic<std::uint16_t> port_{0};
    std::atomic<std::size_t> table_size_{0};

    // Set by start(), used on the strand.
    const logger* log_ = nullptr;
    const discovery_hooks* hooks_ = nullptr;  // the node's, while started

    // Strand only.
    std::unique_ptr<asio::steady_timer> round_timer_;
    std::chrono::steady_clock::time_point last_round_{};
    std::chrono::steady_clock::time_point last_announce_{};
    std::chrono::steady_clock::time_point last_bootstrap_{};
    bool announce_taken_ = false;
    struct dialed_peer {
        bool dialing = false;
        std::string peer_id;  // once connected
    };
    std::map<asio::ip::tcp::endpoint, dialed_peer> dialed_;
};

}  // namespace librats

#endif
