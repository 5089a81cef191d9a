#ifndef LIBRATS_DISCOVERY_MDNS_HPP
#define LIBRATS_DISCOVERY_MDNS_HPP

// mDNS / DNS-SD (RFC 6762/6763) as a Discovery module: while enabled it advertises
// `<instance>._librats._tcp.local.` (SRV with our TCP port, TXT with the user's records and our
// peer ID, A for the interface's address), browses for the same service type, reports every
// instance found, and dials the ones that are not us. It runs between enable() and disable()
// (RatsClient: start_mdns_discovery), not from the node's start alone; disable() and the node's
// stop send the goodbyes. IPv4 on one interface: by default the one the system routes
// multicast through. Handlers run on the node's strand.

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
        if (node_) return {};
        if (!executor_) return make_error_code(errc::not_running);
        std::error_code ec;
        const auto interface = interface_address(ec);
        if (ec) return ec;
        std::random_device entropy;
        auto node = mdns::udp_node::create(*executor_, settings_.engine, (std::uint64_t{entropy()} << 32) | entropy());
        if ((ec = node->open(interface))) {
            log_->warn("mDNS: cannot join 224.0.0.251 on ", interface.to_string(), ": ", ec.message());
            return ec;
        }
        node_ = node;
        running_ = true;
        const auto generation = ++generation_;
        if (instance.empty()) instance = "librats-" + local_peer_id_.substr(0, 12);
        asio::post(*executor_, [this, node, generation, interface, instance = std::move(instance), txt = std::move(txt)] {
            start_node(node, generation, interface, instance, txt);
        });
        return {};
    }

    void disable() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (node_ && executor_) asio::post(*executor_, [node = node_] { node->close(); });
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
        if (!node_ || !executor_) return false;
        asio::post(*executor_, [this, node = node_, generation = generation_.load()] {
            if (current(generation)) browse(node, generation);
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
        connect_ = [&ctx](const std::string& host, std::uint16_t port, std::function<void(std::error_code, const std::string&)> done) {
            ctx.connect(host, port, std::move(done));
        };
        is_connected_ = [&ctx](const std::string& peer_id) { return ctx.is_connected(peer_id); };
        listen_port_ = [&ctx] { return ctx.listen_port(); };
    }

    void stop() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (node_) node_->close();  // on the strand: goodbyes now, no handler after this
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
        node_.reset();
        services_.clear();
    }

    // ---- on the strand

    bool current(std::uint64_t generation) const { return running_ && generation == generation_; }

    void start_node(const std::shared_ptr<mdns::udp_node>& node, std::uint64_t generation,
                    const asio::ip::address_v4& interface, const std::string& instance,
                    const std::map<std::string, std::string>& txt) {
        if (!current(generation)) return;
        node->start();
        mdns::advertisement ad;
        ad.instance = instance;
        ad.host = "librats-" + local_peer_id_.substr(0, 16);
        ad.port = listen_port_();
        ad.addresses = {interface};
        ad.txt.insert(txt.begin(), txt.end());
        ad.peer_id = local_peer_id_;
        if (const auto ec = node->advertise(std::move(ad))) log_->warn("mDNS: cannot advertise ", instance, ": ", ec.message());
        else log_->info("mDNS: advertising ", instance, " on ", interface.to_string());
        browse(node, generation);
    }

    void browse(const std::shared_ptr<mdns::udp_node>& node, std::uint64_t generation) {
        node->browse([this, generation](mdns::service_event event, const mdns::service& s) {
            if (current(generation)) on_service(event, s);
        });
    }

    void on_service(mdns::service_event event, const mdns::service& s) {
        const auto key = s.instance.to_string();
        std::shared_ptr<service_callback> callback;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (event == mdns::service_event::removed) {
                services_.erase(key);
                return;
            }
            if (s.addresses.empty()) return;
            MdnsService entry;
            entry.service_name = s.instance_label;
            entry.host_name = s.host.to_string();
            entry.ip_address = s.addresses.front().to_string();
            entry.port = s.port;
            entry.txt_records.insert(s.txt.begin(), s.txt.end());
            entry.peer_id = s.peer_id;
            services_[key] = entry;
            callback = callback_;
        }
        if (s.peer_id == local_peer_id_) return;  // our own advertisement
        const auto host = s.addresses.front().to_string();
        log_->debug("mDNS: found ", s.instance_label, " at ", host, ':', s.port);
        if (callback && *callback) (*callback)(host, s.port, s.instance_label);
        if (!s.peer_id.empty() && is_connected_(s.peer_id)) return;
        connect_(host, s.port, [this, label = s.instance_label](std::error_code ec, const std::string&) {
            if (ec) log_->debug("mDNS: dialing ", label, " failed: ", ec.message());
        });
    }

    mutable std::mutex mutex_;
    // Guarded by mutex_.
    mdns_settings settings_;
    std::shared_ptr<service_callback> callback_;
    std::optional<asio::any_io_executor> executor_;
    std::shared_ptr<mdns::udp_node> node_;
    std::map<std::string, MdnsService> services_;
    std::string local_peer_id_;

    std::atomic<bool> running_{false};
    std::atomic<std::uint64_t> generation_{0};

    // Set by start(), used on the strand.
    const logger* log_ = nullptr;
    std::function<void(const std::string&, std::uint16_t, std::function<void(std::error_code, const std::string&)>)> connect_;
    std::function<bool(const std::string&)> is_connected_;
    std::function<std::uint16_t()> listen_port_;
};

}  // namespace librats

#endif
