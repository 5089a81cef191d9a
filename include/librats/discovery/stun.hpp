#ifndef LIBRATS_DISCOVERY_STUN_HPP
#define LIBRATS_DISCOVERY_STUN_HPP

// STUN (RFC 8489) as a Discovery module: on request it asks STUN servers for our public
// address (stun::stun_client, one UDP socket per discovery) and remembers the answer. It finds
// no peers itself: RatsClient puts the public IP on the node's ignore list so that discovery
// never dials us. Nothing is sent unless discover() is called.

#include <librats/discovery/context.hpp>
#include <librats/log.hpp>
#include <librats/stun/client.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/udp.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace librats {

struct stun_settings {
    // The family of the socket, and so of the servers' addresses: "0.0.0.0" or "::".
    std::string bind_address = "0.0.0.0";
    stun::client_options client;
};

class stun_discovery {
public:
    static constexpr const char* name = "stun";
    using discover_handler = std::function<void(std::error_code, const asio::ip::udp::endpoint& mapped)>;

    // ---- configuration (any thread)

    void add_server(std::string host, std::uint16_t port) {
        std::lock_guard<std::mutex> lock(mutex_);
        servers_.push_back({std::move(host), port});
    }
    std::vector<stun::server_address> servers() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return servers_;
    }
    void set_settings(stun_settings s) {
        std::lock_guard<std::mutex> lock(mutex_);
        settings_ = std::move(s);
    }

    // ---- use (any thread)

    // Asks `first` (if given), then the added servers, in turn. The handler runs on the node's
    // strand. False when the node has not started its modules or no server is known.
    bool discover(std::optional<stun::server_address> first, discover_handler done) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!executor_) return false;
        std::vector<stun::server_address> servers;
        if (first) servers.push_back(*first);
        servers.insert(servers.end(), servers_.begin(), servers_.end());
        if (servers.empty()) return false;
        asio::post(*executor_, [this, servers = std::move(servers), settings = settings_, done = std::move(done)]() mutable {
            run(std::move(servers), settings, std::move(done));
        });
        return true;
    }

    // The address the last successful discovery reported.
    std::optional<asio::ip::udp::endpoint> public_address() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return public_address_;
    }

    // ---- the Discovery concept (on the node's strand)

    template <class Transport>
    void start(discovery_context<Transport>& ctx) {
        std::lock_guard<std::mutex> lock(mutex_);
        executor_ = ctx.get_executor();
        log_ = &ctx.log();
    }

    void stop() {
        for (const auto& client : clients_) client->close();  // their handlers complete, aborted
        clients_.clear();
        std::lock_guard<std::mutex> lock(mutex_);
        executor_.reset();
    }

private:
    // On the strand.
    void run(std::vector<stun::server_address> servers, const stun_settings& settings, discover_handler done) {
        std::error_code ec;
        const auto address = asio::ip::make_address(settings.bind_address, ec);
        if (ec) return done(ec, {});
        auto client = stun::stun_client::create(*executor_, settings.client);
        if ((ec = client->open({address, 0}))) return done(ec, {});
        clients_.push_back(client);
        client->async_discover(std::move(servers), [this, client, done = std::move(done)](
                                                       std::error_code ec, asio::ip::udp::endpoint mapped) {
            if (ec == asio::error::operation_aborted) {  // stop(): the module may be gone by now
                if (done) done(ec, {});
                return;
            }
            client->close();
            clients_.erase(std::remove(clients_.begin(), clients_.end(), client), clients_.end());
            if (ec) {
                log_->info("STUN: no public address: ", ec.message());
            } else {
                log_->info("STUN: public address ", mapped.address().to_string(), " port ", mapped.port());
                std::lock_guard<std::mutex> lock(mutex_);
                public_address_ = mapped;
            }
            if (done) done(ec, mapped);
        });
    }

    mutable std::mutex mutex_;
    // Guarded by mutex_.
    std::vector<stun::server_address> servers_;
    stun_settings settings_;
    std::optional<asio::any_io_executor> executor_;
    std::optional<asio::ip::udp::endpoint> public_address_;

    // Strand only.
    const logger* log_ = nullptr;
    std::vector<std::shared_ptr<stun::stun_client>> clients_;
};

}  // namespace librats

#endif
