#ifndef LIBRATS_DISCOVERY_MDNS_HPP
#define LIBRATS_DISCOVERY_MDNS_HPP

// mDNS / DNS-SD (RFC 6762/6763) as a Discovery module: while enabled it advertises
// `<instance>._librats._tcp.local.` (SRV with our TCP port, TXT with the user's records and our
// peer ID, A for the interface's address), browses for the same service type, reports every
// instance found, and dials the ones that are not us. It runs between enable() and disable()
// (RatsClient: start_mdns_discovery), not from the node's start alone; disable() and the node's
// stop send the goodbyes. One interface: by default the one the system routes IPv4 multicast
// through; IPv4 (224.0.0.251) always, and IPv6 (ff02::fb) too when the interface has an IPv6
// address and IPv6 multicast works on it. Handlers run on the node's strand.

#include <librats/detail/interfaces.hpp>
#include <librats/discovery/context.hpp>
#include <librats/error.hpp>
#include <librats/log.hpp>
#include <librats/mdns/engine.hpp>
#include <librats/mdns/udp_node.hpp>

#include <asio/ip/address.hpp>
#include <asio/ip/udp.hpp>
#include <asio/post.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace librats {

struct mdns_settings {
    // The interface, by one of its IPv4 addresses; empty: the one multicast is routed through.
    std::string interface_address;
    bool ipv6 = true;  // also ff02::fb, if the interface has IPv6
    mdns::engine_options engine;
};

// A discovered librats instance, as get_mdns_services() lists it.
struct MdnsService {
    std::string service_name;  // the instance label
    std::string host_name;     // "<host>.local."
    std::string ip_address;
    std::uint16_t port = 0;
    std::map<std::string, std::string> txt_records;
    std::string peer_id;  // TXT "id"
};

class mdns_discovery {
public:
    static constexpr const char* name = "mdns";
    // host (IP), port, instance label: each newly resolved or changed instance.
    using service_callback = std::function<void(const std::string& host, int port, const std::string& instance)>;

    // ---- configuration (any thread)

    void set_settings(mdns_settings s) {
        std::lock_guard<std::mutex> lock(mutex_);
        settings_ = std::move(s);
    }
    void set_callback(service_callback cb) {
        std::lock_guard<std::mutex> lock(mutex_);
        callback_ = std::make_shared<service_callback>(std::move(cb));
    }

    // ---- control (any thread)

    // Advertises `instance` (empty: "librats-<peer id prefix>") with the TXT records and browses.
    // Fails when the node has not started its modules, or the socket cannot be set up.
    std::error_code enable(std::string instance, std::map<std::string, std::string> txt) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!nodes_.empty()) return {};
        if (!executor_) return make_error_code(errc::not_running);
        std::error_code ec;
        const auto v4 = interface_address(ec);
        if (ec) return ec;
        const auto interfaces = detail::network_interfaces();
        const auto* interface = detail::interface_with(interfaces, v4);
        std::vector<asio::ip::address> addresses{v4};
        if (interface)
            for (const auto& a : interface->addresses)
                if (a.is_v6()) addresses.push_back(a);

        std::random_device entropy;
        const auto seed = [&entropy] { return (std::uint64_t{entropy()} << 32) | entropy(); };
        auto options = settings_.engine;
        options.ipv6 = false;
        auto node = mdns::udp_node::create(*executor_, options, seed());
        if ((ec = node->open(v4))) {
            log_->warn("mDNS: cannot join 224.0.0.251 on ", v4.to_string(), ": ", ec.message());
            return ec;
        }
        std::vector<std::pair<std::shared_ptr<mdns::udp_node>, unsigned>> nodes{{node, 0u}};
        if (settings_.ipv6 && interface && addresses.size() > 1) {
            options.ipv6 = true;
            auto v6 = mdns::udp_node::create(*executor_, options, seed());
            if (const auto v6_error = v6->open({}, interface->index))
                log_->debug("mDNS: no IPv6 on ", interface->name, ": ", v6_error.message());
            else
                nodes.emplace_back(v6, interface->index);
        }
        for (const auto& [n, scope] : nodes) {
            nodes_.push_back(n);
            scopes_.push_back(scope);
        }
        running_ = true;
        const auto generation = ++generation_;
        if (instance.empty()) instance = "librats-" + local_peer_id_.substr(0, 12);
        asio::post(*executor_, [this, nodes, generation, addresses, instance = std::move(instance), txt = std::move(txt)] {
            for (const auto& [n, scope] : nodes) start_node(n, scope, generation, addresses, instance, txt);
        });
        return {};
    }

    void disable() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (executor_)
            asio::post(*executor_, [nodes = nodes_] {
                for (const auto& n : nodes) n->close();
            });
        shut_down();
    }

    bool running() const noexcept { return running_; }

    std::vector<MdnsService> services() const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<MdnsService> out;
        for (const auto& [name, s] : services_) out.push_back(s);
        return out;
    }

    // Browses again at once (the query interval starts over at one second).
    bool query() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (nodes_.empty() || !executor_) return false;
        asio::post(*executor_, [this, nodes = nodes_, scopes = scopes_, generation = generation_.load()] {
            for (std::size_t i = 0; i < nodes.size(); ++i)
                if (current(generation)) browse(nodes[i], scopes[i], generation);
        });
        return true;
    }

    // ---- the Discovery concept (on the node's strand)

    template <class Transport>
    void start(discovery_context<Transport>& ctx) {
        std::lock_guard<std::mutex> lock(mutex_);
        executor_ = ctx.get_executor();
        log_ = &ctx.log();
        local_peer_id_ = ctx.local_peer_id();
        hooks_ = &ctx.hooks();
    }

    void stop() {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& n : nodes_) n->close();  // on the strand: goodbyes now, no handler after this
        shut_down();
        executor_.reset();
    }

private:
    // Under mutex_. An unset interface is the one the system would send multicast through: a
    // connected UDP socket names it without sending anything. A multicast route without a source
    // address (loopback only, as in a test namespace) names none: then it is 127.0.0.1.
    asio::ip::address_v4 interface_address(std::error_code& ec) const {
        if (!settings_.interface_address.empty()) return asio::ip::make_address_v4(settings_.interface_address, ec);
        asio::ip::udp::socket probe(*executor_);
        probe.open(asio::ip::udp::v4(), ec);
        if (!ec) probe.connect(mdns::multicast_endpoint(false), ec);
        if (ec) return {};
        const auto address = probe.local_endpoint(ec).address().to_v4();
        return address.is_unspecified() ? asio::ip::address_v4::loopback() : address;
    }

    void shut_down() {
        ++generation_;
        running_ = false;
        nodes_.clear();
        scopes_.clear();
        services_.clear();
    }

    // ---- on the strand

    bool current(std::uint64_t generation) const { return running_ && generation == generation_; }

    // scope: the interface index for the IPv6 node (link-local addresses need it), 0 for IPv4.
    void start_node(const std::shared_ptr<mdns::udp_node>& node, unsigned scope, std::uint64_t generation,
                    const std::vector<asio::ip::address>& addresses, const std::string& instance,
                    const std::map<std::string, std::string>& txt) {
        if (!current(generation)) return;
        node->start();
        mdns::advertisement ad;
        ad.instance = instance;
        ad.host = "librats-" + local_peer_id_.substr(0, 16);
        ad.port = hooks_->listen_port();
        ad.addresses = addresses;
        ad.txt.insert(txt.begin(), txt.end());
        ad.peer_id = local_peer_id_;
        const auto family = scope ? "IPv6" : "IPv4";
        if (const auto ec = node->advertise(std::move(ad))) log_->warn("mDNS: cannot advertise ", instance, ": ", ec.message());
        else log_->info("mDNS: advertising ", instance, " over ", family, " on ", addresses.front().to_string());
        browse(node, scope, generation);
    }

    void browse(const std::shared_ptr<mdns::udp_node>& node, unsigned scope, std::uint64_t generation) {
        node->browse([this, scope, generation](mdns::service_event event, const mdns::service& s) {
            if (current(generation)) on_service(event, s, scope);
        });
    }

    // The address to dial: IPv4 if the instance has one; an IPv6 link-local one gets the scope.
    static std::optional<asio::ip::address> dial_address(const mdns::service& s, unsigned scope) {
        for (const auto& a : s.addresses)
            if (a.is_v4()) return a;
        for (auto a : s.addresses) {
            auto v6 = a.to_v6();
            if (v6.is_link_local()) v6.scope_id(scope);
            return asio::ip::address(v6);
        }
        return std::nullopt;
    }

    void on_service(mdns::service_event event, const mdns::service& s, unsigned scope) {
        const auto key = s.instance.to_string();
        const auto address = dial_address(s, scope);
        std::shared_ptr<service_callback> callback;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (event == mdns::service_event::removed) {
                services_.erase(key);
                return;
            }
            if (!address) return;
            MdnsService entry;
            entry.service_name = s.instance_label;
            entry.host_name = s.host.to_string();
            entry.ip_address = address->to_string();
            entry.port = s.port;
            entry.txt_records.insert(s.txt.begin(), s.txt.end());
            entry.peer_id = s.peer_id;
            services_[key] = entry;
            callback = callback_;
        }
        if (s.peer_id == local_peer_id_) return;  // our own advertisement
        const auto host = address->to_string();
        log_->debug("mDNS: found ", s.instance_label, " at ", host, " port ", s.port);
        if (callback && *callback) (*callback)(host, s.port, s.instance_label);
        if (!s.peer_id.empty() && hooks_->is_connected(s.peer_id)) return;
        hooks_->connect(host, s.port, [this, label = s.instance_label](std::error_code ec, const std::string&) {
            if (ec) log_->debug("mDNS: dialing ", label, " failed: ", ec.message());
        });
    }

    mutable std::mutex mutex_;
    // Guarded by mutex_.
    mdns_settings settings_;
    std::shared_ptr<service_callback> callback_;
    std::optional<asio::any_io_executor> executor_;
    std::vector<std::shared_ptr<mdns::udp_node>> nodes_;  // IPv4, then IPv6 if any
    std::vector<unsigned> scopes_;                          // per node: 0, the IPv6 interface index
    std::map<std::string, MdnsService> services_;
    std::string local_peer_id_;

    std::atomic<bool> running_{false};
    std::atomic<std::uint64_t> generation_{0};

    // Set by start(), used on the strand.
    const logger* log_ = nullptr;
    const discovery_hooks* hooks_ = nullptr;  // the node's, while started
};

}  // namespace librats

#endif
