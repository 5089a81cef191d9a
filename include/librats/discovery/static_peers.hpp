#ifndef LIBRATS_DISCOVERY_STATIC_PEERS_HPP
#define LIBRATS_DISCOVERY_STATIC_PEERS_HPP

// A Discovery module for a fixed list of host:port peers: it dials each, and redials with
// exponential backoff after a failure or a disconnect, for as long as the node runs.

#include <librats/discovery/context.hpp>
#include <librats/peer_info.hpp>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace librats {

class static_peers {
public:
    static constexpr const char* name = "static_peers";

    // Thread-safe; a peer added while the node runs is dialed at once.
    void add_peer(std::string host, std::uint16_t port) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto e = std::make_shared<entry>();
        e->host = std::move(host);
        e->port = port;
        entries_.push_back(std::move(e));
        if (executor_) asio::post(*executor_, [this, e = entries_.back()] { dial(e); });
    }

    // First retry after `initial`, doubling up to `max`. Set before start().
    void set_backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max) {
        std::lock_guard<std::mutex> lock(mutex_);
        initial_backoff_ = initial;
        max_backoff_ = std::max(initial, max);
    }

    // "host:port" of each configured peer.
    std::vector<std::string> peers() const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<std::string> out;
        for (const auto& e : entries_) out.push_back(e->host + ':' + std::to_string(e->port));
        return out;
    }

    template <class Transport>
    void start(discovery_context<Transport>& ctx) {
        std::vector<std::shared_ptr<entry>> entries;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            executor_ = ctx.get_executor();
            hooks_ = &ctx.hooks();
            log_ = &ctx.log();
            entries = entries_;
        }
        running_ = true;
        for (const auto& e : entries) dial(e);
    }

    void stop() {
        running_ = false;
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& e : entries_) {
            if (e->retry) e->retry->cancel();
            e->connecting = false;
        }
        executor_.reset();
    }

    void on_peer_disconnected(const peer_info& info, std::error_code) {
        for (const auto& e : snapshot())
            if (!e->peer_id.empty() && e->peer_id == info.peer_id) schedule_retry(e);
    }

private:
    struct entry {
        std::string host;
        std::uint16_t port = 0;
        std::string peer_id;  // once connected
        std::chrono::milliseconds delay{0};
        bool connecting = false;
        std::unique_ptr<asio::steady_timer> retry;
    };

    std::vector<std::shared_ptr<entry>> snapshot() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return entries_;
    }

    // On the strand from here on.
    void dial(const std::shared_ptr<entry>& e) {
        if (!running_ || e->connecting) return;
        e->connecting = true;
        hooks_->connect(e->host, e->port, [this, e](std::error_code ec, const std::string& peer_id) {
            e->connecting = false;
            if (!running_) return;
            if (ec) {
                log_->info("static peer ", e->host, ':', e->port, " unreachable: ", ec.message());
                return schedule_retry(e);
            }
            e->peer_id = peer_id;
            e->delay = std::chrono::milliseconds(0);
        });
    }

    void schedule_retry(const std::shared_ptr<entry>& e) {
        if (!running_) return;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            e->delay = e->delay.count() == 0 ? initial_backoff_ : std::min(e->delay * 2, max_backoff_);
            if (!e->retry) e->retry = std::make_unique<asio::steady_timer>(*executor_);
        }
        e->retry->expires_after(e->delay);
        e->retry->async_wait([this, e](std::error_code ec) {
            if (!ec) dial(e);
        });
    }

    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<entry>> entries_;
    std::optional<asio::any_io_executor> executor_;
    const discovery_hooks* hooks_ = nullptr;  // the node's, while started
    const logger* log_ = nullptr;
    bool running_ = false;  // strand only
    std::chrono::milliseconds initial_backoff_{1000};
    std::chrono::milliseconds max_backoff_{60'000};
};

}  // namespace librats

#endif
