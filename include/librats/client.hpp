#ifndef LIBRATS_CLIENT_HPP
#define LIBRATS_CLIENT_HPP

// RatsClient: the seed API (upstream librats 1.x names) over a basic_node. It owns an
// io_context and one network thread; every callback runs on that thread. All members are
// thread-safe. Do not call stop() or destroy the client from inside one of its callbacks.

#include <librats/config.hpp>
#include <librats/detail/address.hpp>
#include <librats/discovery/dht.hpp>
#include <librats/discovery/mdns.hpp>
#include <librats/discovery/stun.hpp>
#include <librats/persistence/data_directory.hpp>
#include <librats/version.hpp>
#include <librats/detail/handler_slot.hpp>
#include <librats/log.hpp>
#include <librats/node.hpp>
#include <librats/peer_info.hpp>

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace librats {

// The legacy socket handle: here the node's connection ID, unique per connection.
using socket_t = connection_id;
inline constexpr socket_t INVALID_SOCKET_VALUE = -1;

enum class LogLevel { DEBUG = 0, INFO = 1, WARN = 2, ERROR = 3 };

struct RatsPeer {
    std::string peer_id;
    std::string ip;
    std::uint16_t port = 0;  // the peer's listen port
    socket_t socket = INVALID_SOCKET_VALUE;
    std::string normalized_address;  // "ip:port" of the connection
    std::chrono::steady_clock::time_point connected_at{};
    bool is_outgoing = false;
    std::string version;  // the peer's agent string
    bool encryption_enabled = false;
};

template <class Node>
class basic_rats_client {
public:
    using node_type = Node;
    using MessageCallback = std::function<void(const std::string& peer_id, const nlohmann::json& data)>;
    using SendCallback = std::function<void(bool success, const std::string& error)>;
    using ConnectionCallback = std::function<void(socket_t, const std::string& peer_hash_id)>;
    using StringDataCallback = std::function<void(socket_t, const std::string& peer_hash_id, const std::string& data)>;
    using DataCallback = StringDataCallback;
    using BinaryDataCallback =
        std::function<void(socket_t, const std::string& peer_hash_id, const std::vector<std::uint8_t>& data)>;
    using DisconnectCallback = std::function<void(socket_t, const std::string& peer_hash_id)>;

    explicit basic_rats_client(int listen_port, int max_peers = 10, const std::string& bind_address = "")
        : work_(asio::make_work_guard(io_)),
          node_(io_.get_executor(), make_options(listen_port, max_peers, bind_address)),
          bind_address_(bind_address) {
        node_.set_peer_connected_handler([this](const peer_info& info) {
            if (const auto* hooks = persistence_.load()) hooks->remember_peer(*this, info);
            if (auto cb = connection_callback_.get()) (*cb)(info.connection, info.peer_id);
        });
        node_.set_peer_disconnected_handler([this](const peer_info& info, std::error_code) {
            if (auto cb = disconnect_callback_.get()) (*cb)(info.connection, info.peer_id);
        });
        node_.set_data_handler([this](const peer_info& info, data_kind kind, std::string_view data) {
            auto binary = kind == data_kind::binary ? binary_callback_.get() : nullptr;
            if (binary) return (*binary)(info.connection, info.peer_id, std::vector<std::uint8_t>(data.begin(), data.end()));
            if (auto text = string_callback_.get()) (*text)(info.connection, info.peer_id, std::string(data));
        });
    }

    basic_rats_client(const basic_rats_client&) = delete;
    basic_rats_client& operator=(const basic_rats_client&) = delete;

    ~basic_rats_client() {
        stop();
        work_.reset();
        if (thread_.joinable()) thread_.join();
    }

    // ---- lifecycle

    // Listens and starts the network thread; false (with the reason logged) if it cannot.
    bool start() {
        if (const auto* hooks = persistence_.load(); hooks && !configuration_loaded_) hooks->load(*this);
        std::lock_guard<std::mutex> lock(lifecycle_mutex_);
        if (node_.is_running()) return false;
        std::error_code ec;
        node_.start(ec);
        if (ec) return false;
        if (!thread_.joinable()) {
            io_.restart();
            thread_ = std::thread([this] { io_.run(); });
        }
        // The node starts its discovery modules on its strand: wait for that, so that
        // start_dht_discovery() and the like work as soon as start() returns.
        auto started = std::make_shared<std::promise<void>>();
        auto done = started->get_future();
        asio::post(node_.get_executor(), [started] { started->set_value(); });
        done.wait();
        return true;
    }

    // Closes every connection (no disconnect callbacks) and stops the network thread. With
    // persistence on, the configuration, the known peers and the DHT nodes are saved first.
    void stop() {
        if (const auto* hooks = persistence_.load(); hooks && node_.is_running()) hooks->save(*this);
        std::lock_guard<std::mutex> lock(lifecycle_mutex_);
        if (!thread_.joinable()) return;
        if (std::this_thread::get_id() == thread_.get_id()) {
            // From a callback: we cannot wait for ourselves; the destructor joins.
            node_.stop();
            return;
        }
        if (node_.is_running()) {
            auto stopped = std::make_shared<std::promise<void>>();
            auto done = stopped->get_future();
            node_.async_stop([stopped] { stopped->set_value(); });
            done.wait_for(std::chrono::seconds(5));
        }
        io_.stop();
        thread_.join();
    }

    bool is_running() const { return node_.is_running(); }
    int get_listen_port() const { return node_.listen_port(); }
    std::string get_bind_address() const { return bind_address_; }

    // ---- connections

    // Starts dialing and returns at once, as upstream does: true when the attempt started (the
    // connection callback reports success), false when not running, the address is invalid or
    // the peer limit is reached.
    bool connect_to_peer(const std::string& host, int port) {
        if (!is_running() || host.empty() || port <= 0 || port > 65535 || is_peer_limit_reached()) return false;
        node_.async_connect(host, static_cast<std::uint16_t>(port), [this, host, port](std::error_code ec, const std::string&) {
            if (ec) node_.log().warn("connecting to ", host, ':', port, " failed: ", ec.message());
        });
        return true;
    }

    void disconnect_peer_by_hash(const std::string& peer_hash_id) { node_.disconnect(peer_hash_id); }
    void disconnect_peer_by_id(const std::string& peer_id) { node_.disconnect(peer_id); }
    void disconnect_peer(socket_t socket) {
        const auto id = get_peer_id(socket);
        if (!id.empty()) node_.disconnect(id);
    }

    // ---- typed JSON messages

    void on(const std::string& message_type, MessageCallback callback) { node_.on(message_type, std::move(callback)); }
    void once(const std::string& message_type, MessageCallback callback) { node_.once(message_type, std::move(callback)); }
    void off(const std::string& message_type) { node_.off(message_type); }

    // To every connected peer; the callback runs once: success when every copy was written.
    void send(const std::string& message_type, const nlohmann::json& data, SendCallback callback = nullptr) {
        if (!callback) {
            node_.broadcast(message_type, data);
            return;
        }
        node_.async_broadcast(message_type, data, [callback = std::move(callback)](std::error_code ec, std::size_t) {
            callback(!ec, ec ? ec.message() : std::string());
        });
    }

    void send(const std::string& peer_id, const std::string& message_type, const nlohmann::json& data,
              SendCallback callback = nullptr) {
        if (!callback) {
            node_.send(peer_id, message_type, data);
            return;
        }
        node_.async_send(peer_id, message_type, data, [callback = std::move(callback)](std::error_code ec) {
            callback(!ec, ec ? ec.message() : std::string());
        });
    }

    // ---- legacy data; true / the count of peers means queued

    bool send_to_peer_by_hash(const std::string& peer_hash_id, const std::string& data) {
        return !node_.send_data(peer_hash_id, data_kind::text, data);
    }
    bool send_string_to_peer_id(const std::string& peer_id, const std::string& data) {
        return send_to_peer_by_hash(peer_id, data);
    }
    int broadcast_to_peers(const std::string& data) {
        return static_cast<int>(node_.broadcast_data(data_kind::text, data));
    }
    int broadcast_string_to_peers(const std::string& data) { return broadcast_to_peers(data); }

    bool send_binary_to_peer_id(const std::string& peer_id, const std::vector<std::uint8_t>& data) {
        return !node_.send_data(peer_id, data_kind::binary, as_view(data));
    }
    bool send_binary_to_peer(socket_t socket, const std::vector<std::uint8_t>& data) {
        const auto id = get_peer_id(socket);
        return !id.empty() && send_binary_to_peer_id(id, data);
    }
    int broadcast_binary_to_peers(const std::vector<std::uint8_t>& data) {
        return static_cast<int>(node_.broadcast_data(data_kind::binary, as_view(data)));
    }

    // ---- legacy callbacks (on the network thread)

    void set_connection_callback(ConnectionCallback cb) { connection_callback_.set(std::move(cb)); }
    void set_disconnect_callback(DisconnectCallback cb) { disconnect_callback_.set(std::move(cb)); }
    // Text data; also binary data when no binary callback is set.
    void set_data_callback(DataCallback cb) { string_callback_.set(std::move(cb)); }
    void set_string_data_callback(StringDataCallback cb) { string_callback_.set(std::move(cb)); }
    void set_binary_data_callback(BinaryDataCallback cb) { binary_callback_.set(std::move(cb)); }

    // ---- peers

    int get_peer_count() const { return static_cast<int>(node_.peer_count()); }
    std::string get_our_peer_id() const { return node_.peer_id(); }
    std::vector<RatsPeer> get_all_peers() const {
        std::vector<RatsPeer> out;
        for (const auto& info : node_.peers()) out.push_back(to_rats_peer(info));
        return out;
    }
    std::optional<RatsPeer> get_peer_by_id(const std::string& peer_id) const {
        const auto info = node_.find_peer(peer_id);
        if (!info) return std::nullopt;
        return to_rats_peer(*info);
    }
    std::string get_peer_id(socket_t socket) const {
        for (const auto& info : node_.peers())
            if (info.connection == socket) return info.peer_id;
        return {};
    }
    socket_t get_peer_socket_by_id(const std::string& peer_id) const {
        const auto info = node_.find_peer(peer_id);
        return info ? info->connection : INVALID_SOCKET_VALUE;
    }
    int get_max_peers() const { return static_cast<int>(node_.max_peers()); }
    void set_max_peers(int max_peers) { node_.set_max_peers(static_cast<std::size_t>(std::max(0, max_peers))); }
    bool is_peer_limit_reached() const { return node_.peer_count() >= node_.max_peers(); }

    // Upstream's keys, plus traffic counters.
    nlohmann::json get_connection_statistics() const {
        const auto s = node_.statistics();
        const auto peers = node_.peer_count();
        return {{"total_peers", peers},
                {"validated_peers", peers},
                {"max_peers", node_.max_peers()},
                {"running", node_.is_running()},
                {"listen_port", node_.listen_port()},
                {"our_peer_id", node_.peer_id()},
                {"encryption_enabled", node_.crypto().encrypted()},
                {"dht_running", dht_running()},
                {"mdns_running", mdns_running()},
                {"bytes_sent", s.bytes_sent},
                {"bytes_received", s.bytes_received},
                {"messages_sent", s.messages_sent},
                {"messages_received", s.messages_received},
                {"connections_accepted", s.connections_accepted},
                {"connections_initiated", s.connections_initiated},
                {"handshakes_failed", s.handshakes_failed},
                {"peers_dropped", s.peers_dropped},
                {"sends_rejected", s.sends_rejected},
                {"writes", s.writes}};
    }

    // ---- DHT (the composition needs a dht_discovery module, as librats::node has). Give
    // bootstrap nodes before start_dht_discovery(); with none, the public routers are used.
    // A hash is 40 hex digits (an info-hash) or any string, which is hashed with SHA-1.

    bool start_dht_discovery(int dht_port = 6881) {
        if (dht_port < 0 || dht_port > 65535) return false;
        const auto ec = dht_module().enable(static_cast<std::uint16_t>(dht_port));
        if (ec) node_.log().warn("start_dht_discovery: ", ec.message());
        return !ec;
    }
    void stop_dht_discovery() { dht_module().disable(); }
    bool is_dht_running() const { return dht_module().running(); }
    std::size_t get_dht_routing_table_size() const { return dht_module().routing_table_size(); }
    void add_dht_bootstrap_node(const std::string& host, int port) {
        if (port > 0 && port <= 65535) dht_module().add_bootstrap_node(host, static_cast<std::uint16_t>(port));
    }
    // The callback gets the peers as "ip:port" once the lookup ends (on the network thread).
    bool find_peers_by_hash(const std::string& content_hash,
                            std::function<void(const std::vector<std::string>&)> callback) {
        return dht_module().find_peers(content_hash, std::move(callback));
    }
    // port 0: our TCP listen port.
    bool announce_for_hash(const std::string& content_hash, std::uint16_t port = 0) {
        return dht_module().announce(content_hash, port);
    }

    // ---- mDNS (the composition needs an mdns_discovery module, as librats::node has)

    // Advertises this node as `<name>._librats._tcp.local.` (empty: "librats-<peer ID prefix>")
    // with the TXT records, browses, and dials the librats instances it finds.
    bool start_mdns_discovery(const std::string& service_instance_name = "",
                              const std::map<std::string, std::string>& txt_records = {}) {
        const auto ec = module<mdns_discovery>().enable(service_instance_name, txt_records);
        if (ec) node_.log().warn("start_mdns_discovery: ", ec.message());
        return !ec;
    }
    void stop_mdns_discovery() { module<mdns_discovery>().disable(); }
    bool is_mdns_running() const { return module<mdns_discovery>().running(); }
    // Called with (ip, port, instance) for each instance found (on the network thread).
    void set_mdns_callback(std::function<void(const std::string&, int, const std::string&)> callback) {
        module<mdns_discovery>().set_callback(std::move(callback));
    }
    std::vector<MdnsService> get_mdns_services() const { return module<mdns_discovery>().services(); }
    // Queries the network again now; false if mDNS is not running.
    bool query_mdns_services() { return module<mdns_discovery>().query(); }

    // ---- STUN (the composition needs a stun_discovery module, as librats::node has)

    // Asks stun_server, then any add_stun_server() ones, for our public address; blocks until
    // one answers or all fail (RFC 8489 retransmissions: up to 39.5 s per server by default).
    // On success the address is kept (get_public_ip) and put on the ignore list, so that
    // discovery never dials this node. Not from a callback: the network thread would wait on itself.
    bool discover_and_ignore_public_ip(const std::string& stun_server = "stun.l.google.com", int stun_port = 19302) {
        if (stun_port <= 0 || stun_port > 65535) return false;
        if (node_.running_in_this_thread()) {
            node_.log().error("discover_and_ignore_public_ip: called on the network thread, which it would block");
            return false;
        }
        auto result = std::make_shared<std::promise<std::error_code>>();
        auto done = result->get_future();
        if (!module<stun_discovery>().discover(stun::server_address{stun_server, static_cast<std::uint16_t>(stun_port)},
                                              [result](std::error_code ec, const asio::ip::udp::endpoint&) {
                                                  result->set_value(ec);
                                              }))
            return false;
        while (done.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready)
            if (!node_.is_running()) return false;
        if (done.get()) return false;
        node_.ignore_host(get_public_ip());
        return true;
    }
    void add_stun_server(const std::string& host, int port) {
        if (port > 0 && port <= 65535) module<stun_discovery>().add_server(host, static_cast<std::uint16_t>(port));
    }
    // The bare IP ("" before a discovery succeeded).
    std::string get_public_ip() const {
        const auto mapped = module<stun_discovery>().public_address();
        return mapped ? mapped->address().to_string() : std::string();
    }
    // "ip:port" ("[ip]:port" for IPv6) of the discovery's socket as the server saw it, or "".
    std::string get_public_address() const {
        const auto mapped = module<stun_discovery>().public_address();
        return mapped ? detail::format_endpoint(mapped->address(), mapped->port()) : std::string();
    }

    // ---- persistence. Off until set_data_directory() or load_configuration() is called: a
    // client without a data directory touches no file, and two clients sharing one would be one
    // peer. Once on, start() loads the identity key (creating it on the first run), config.json,
    // the known peers and the DHT nodes; connections update the known peers (saved a second
    // later); stop() saves everything. Files and their rules: persistence/data_directory.hpp.

    // Before start(); creates the directory. False while running or if it cannot be created.
    bool set_data_directory(const std::string& directory) {
        if (node_.is_running()) return false;
        persistence::data_directory dir(directory.empty() ? "." : directory);
        if (const auto ec = dir.create()) {
            node_.log().error("set_data_directory(", directory, "): ", ec.message());
            return false;
        }
        std::lock_guard<std::mutex> lock(persistence_mutex_);
        data_directory_ = std::move(dir);
        configuration_loaded_ = false;
        persistence_ = &persistence_hooks_;
        return true;
    }
    std::string get_data_directory() const {
        std::lock_guard<std::mutex> lock(persistence_mutex_);
        return data_directory_ ? data_directory_->path().string() : std::string(".");
    }

    // Loads everything (the identity only before start()). False, with the file and the problem
    // logged, if a file was corrupt (it is moved aside; defaults are used) or the key file was
    // refused (it is left as it is, and this run keeps a key of its own that is not saved).
    bool load_configuration() {
        auto dir = directory();
        bool clean = true;
        const auto report = [&](const persistence::load_result& r) {
            if (r.ok()) return;
            clean = false;
            node_.log().error(r.problem);
        };
        if (!node_.is_running()) {
            std::string key_hex;
            const auto identity = dir.load_identity(key_hex);
            report(identity);
            identity_refused_ = identity.outcome == persistence::load_result::status::refused;
            if (identity.outcome == persistence::load_result::status::loaded) set_encryption_key(key_hex);
            else if (identity.outcome == persistence::load_result::status::missing) save_identity(dir);
        }
        persistence::saved_config config;
        report(dir.load_config(config));
        if (config.max_peers) node_.set_max_peers(*config.max_peers);
        if (config.encryption_enabled) set_encryption_enabled(*config.encryption_enabled);
        std::vector<persistence::historical_peer> peers;
        report(dir.load_peers(peers));
        std::vector<persistence::saved_node> nodes;
        report(dir.load_dht_nodes(nodes));
        if constexpr (Node::template has_module<dht_discovery>) dht_module().set_saved_nodes(to_contacts(nodes));
        std::lock_guard<std::mutex> lock(persistence_mutex_);
        historical_ = std::move(peers);
        configuration_loaded_ = true;
        return clean;
    }

    bool save_configuration() {
        auto dir = directory();
        persistence::saved_config config;
        config.listen_port = static_cast<std::uint16_t>(node_.listen_port());
        config.max_peers = node_.max_peers();
        config.encryption_enabled = is_encryption_enabled();
        config.peer_id = node_.peer_id();
        bool ok = log_failure(dir.save_config(config, "librats", library_version), "config.json");
        ok = save_historical_peers() && ok;
        if constexpr (Node::template has_module<dht_discovery>) {
            std::vector<persistence::saved_node> nodes;
            for (const auto& n : dht_module().good_nodes())
                nodes.push_back({n.id.to_hex(), n.endpoint.address().to_string(), n.endpoint.port()});
            ok = log_failure(dir.save_dht_nodes(nodes), "dht.json") && ok;
        }
        return ok;
    }

    // Dials every known peer that is not connected, most recently seen first (at most
    // max_peers); returns how many it tries. Failures are counted in peers.json.
    int load_and_reconnect_peers() {
        if (!node_.is_running()) return 0;
        auto peers = get_historical_peers();
        std::sort(peers.begin(), peers.end(), [](const RatsPeer& a, const RatsPeer& b) { return a.connected_at > b.connected_at; });
        int tried = 0;
        for (const auto& p : peers) {
            if (tried >= get_max_peers()) break;
            if (p.port == 0 || (!p.peer_id.empty() && node_.find_peer(p.peer_id))) continue;
            ++tried;
            node_.async_connect(p.ip, p.port, [this, ip = p.ip, port = p.port](std::error_code ec, const std::string&) {
                if (!ec) return;
                node_.log().info("reconnecting to ", ip, ':', port, " failed: ", ec.message());
                {
                    std::lock_guard<std::mutex> lock(persistence_mutex_);
                    for (auto& h : historical_)
                        if (h.ip == ip && h.port == port) ++h.failures;
                }
                schedule_save();
            });
        }
        return tried;
    }

    bool load_historical_peers() {
        std::vector<persistence::historical_peer> peers;
        const auto r = directory().load_peers(peers);
        if (!r.ok()) node_.log().error(r.problem);
        std::lock_guard<std::mutex> lock(persistence_mutex_);
        historical_ = std::move(peers);
        return r.ok();
    }
    bool save_historical_peers() {
        std::vector<persistence::historical_peer> peers;
        {
            std::lock_guard<std::mutex> lock(persistence_mutex_);
            peers = historical_;
        }
        return log_failure(directory().save_peers(peers), "peers.json");
    }
    void clear_historical_peers() {
        {
            std::lock_guard<std::mutex> lock(persistence_mutex_);
            historical_.clear();
        }
        if (const auto* hooks = persistence_.load()) hooks->save_peers(*this);
    }
    // Known peers: ip, listen port, peer ID, and the time last seen as connected_at.
    std::vector<RatsPeer> get_historical_peers() const {
        std::lock_guard<std::mutex> lock(persistence_mutex_);
        std::vector<RatsPeer> out;
        for (const auto& h : historical_) {
            RatsPeer p;
            p.peer_id = h.peer_id;
            p.ip = h.ip;
            p.port = h.port;
            std::error_code ec;
            p.normalized_address = detail::format_endpoint(asio::ip::make_address(h.ip, ec), h.port);
            p.connected_at = std::chrono::steady_clock::now() -
                             std::chrono::seconds(std::max<std::int64_t>(0, unix_now() - h.last_seen));
            out.push_back(std::move(p));
        }
        return out;
    }

    // A new static key, so a new peer ID: saved (with persistence on), and a running client
    // reconnects to the peers it had, which then know it by the new ID. Returns the new peer ID.
    std::string rotate_identity() {
        if constexpr (has_switchable_encryption) {
            std::vector<std::pair<std::string, std::uint16_t>> peers;
            for (const auto& info : node_.peers()) {
                detail::host_port connection;
                if (info.listen_port && detail::parse_host_port(info.address, connection))
                    peers.emplace_back(connection.host, info.listen_port);
            }
            const bool was_running = node_.is_running();
            if (was_running) stop();
            {
                std::lock_guard<std::mutex> lock(lifecycle_mutex_);
                node_.crypto().generate_static_key();
            }
            if (const auto* hooks = persistence_.load(); hooks && !identity_refused_) hooks->save_identity(*this);
            if (was_running && start())
                for (const auto& [ip, port] : peers) connect_to_peer(ip, port);
            return node_.peer_id();
        }
        return {};
    }

    // ---- encryption (Noise XX, on by default). The key is the node's static X25519 private key,
    // 64 hex digits; the peer ID is derived from its public half, so changing the key changes
    // the peer ID, and is refused while the client runs.

    bool initialize_encryption(bool enable = true) {
        set_encryption_enabled(enable);
        return is_encryption_enabled() == enable;
    }
    // Connections made afterwards follow it; both ends must agree or they fail to connect.
    void set_encryption_enabled(bool enabled) {
        if constexpr (has_switchable_encryption) {
            node_.crypto().set_enabled(enabled);
        } else if (enabled) {
            node_.log().error("this composition's crypto policy cannot encrypt");
        }
    }
    bool is_encryption_enabled() const { return node_.crypto().encrypted(); }

    std::string get_encryption_key() const {
        if constexpr (has_switchable_encryption) return node_.crypto().static_private_key_hex();
        return {};
    }
    bool set_encryption_key(const std::string& key_hex) {
        if constexpr (has_switchable_encryption) {
            std::lock_guard<std::mutex> lock(lifecycle_mutex_);
            if (refuse_identity_change_while_running()) return false;
            return node_.crypto().set_static_private_key_hex(key_hex);
        }
        return false;
    }
    // A fresh key (and so a new peer ID); "" if the client runs or its crypto has no key.
    std::string generate_new_encryption_key() {
        if constexpr (has_switchable_encryption) {
            std::lock_guard<std::mutex> lock(lifecycle_mutex_);
            if (refuse_identity_change_while_running()) return {};
            node_.crypto().generate_static_key();
            return node_.crypto().static_private_key_hex();
        }
        return {};
    }

    bool is_peer_encrypted(const std::string& peer_id) const {
        const auto info = node_.find_peer(peer_id);
        return info && info->encrypted;
    }
    // The peer's static public key (its proven identity), hex; "" if unknown or not encrypted.
    std::string get_peer_noise_public_key(const std::string& peer_id) const {
        const auto info = node_.find_peer(peer_id);
        return info ? info->public_key : std::string();
    }
    // The Noise handshake hash of the connection, the same on both ends (channel binding), hex.
    std::string get_peer_handshake_hash(const std::string& peer_id) const {
        const auto info = node_.find_peer(peer_id);
        return info ? info->handshake_hash : std::string();
    }

    // ---- logging (default: warnings and errors on stderr)

    void set_log_level(LogLevel level) { node_.log().set_level(static_cast<log_level>(static_cast<int>(level) + 1)); }
    void set_log_level(const std::string& level) {
        std::string upper(level);
        std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
        if (upper == "DEBUG")
            set_log_level(LogLevel::DEBUG);
        else if (upper == "WARN" || upper == "WARNING")
            set_log_level(LogLevel::WARN);
        else if (upper == "ERROR")
            set_log_level(LogLevel::ERROR);
        else
            set_log_level(LogLevel::INFO);
    }
    LogLevel get_log_level() const {
        const auto level = node_.log().level();
        if (level <= log_level::debug) return LogLevel::DEBUG;
        return static_cast<LogLevel>(std::min(3, static_cast<int>(level) - 1));
    }
    void set_console_logging_enabled(bool enabled) { node_.log().set_level(enabled ? log_level::warn : log_level::off); }
    // Receives every message at or above the level instead of stderr; empty restores stderr.
    void set_log_sink(logger::sink_type sink) { node_.log().set_sink(std::move(sink)); }

    // The composed node, for what the seed API does not cover (completion tokens, modules).
    Node& get_node() noexcept { return node_; }
    const Node& get_node() const noexcept { return node_; }

private:
    template <class C, class = void>
    struct switchable_encryption : std::false_type {};
    template <class C>
    struct switchable_encryption<C, std::void_t<decltype(std::declval<C&>().set_enabled(true)),
                                                decltype(std::declval<C&>().generate_static_key()),
                                                decltype(std::string{std::declval<const C&>().static_private_key_hex()}),
                                                decltype(bool{std::declval<C&>().set_static_private_key_hex("")})>>
        : std::true_type {};
    static constexpr bool has_switchable_encryption = switchable_encryption<typename Node::crypto_type>::value;

    template <class Module>
    Module& module() {
        static_assert(Node::template has_module<Module>,
                      "RatsClient: this call needs the discovery module in the node's composition");
        return node_.template get<Module>();
    }
    template <class Module>
    const Module& module() const {
        static_assert(Node::template has_module<Module>,
                      "RatsClient: this call needs the discovery module in the node's composition");
        return node_.template get<Module>();
    }
    dht_discovery& dht_module() { return module<dht_discovery>(); }
    const dht_discovery& dht_module() const { return module<dht_discovery>(); }
    bool mdns_running() const {
        if constexpr (Node::template has_module<mdns_discovery>) return module<mdns_discovery>().running();
        return false;
    }
    bool dht_running() const {
        if constexpr (Node::template has_module<dht_discovery>) return dht_module().running();
        return false;
    }

    bool refuse_identity_change_while_running() const {
        if (!node_.is_running()) return false;
        node_.log().error("the encryption key is the peer identity: change it before start()");
        return true;
    }

    static node_options make_options(int listen_port, int max_peers, const std::string& bind_address) {
        node_options options;
        options.listen_port = static_cast<std::uint16_t>(std::clamp(listen_port, 0, 65535));
        options.max_peers = static_cast<std::size_t>(std::max(0, max_peers));
        if (!bind_address.empty()) options.bind_address = bind_address;
        return options;
    }

    static std::string_view as_view(const std::vector<std::uint8_t>& data) {
        return {reinterpret_cast<const char*>(data.data()), data.size()};
    }

    static RatsPeer to_rats_peer(const peer_info& info) {
        RatsPeer peer;
        peer.peer_id = info.peer_id;
        detail::host_port address;
        if (detail::parse_host_port(info.address, address)) peer.ip = address.host;
        peer.port = info.listen_port;
        peer.socket = info.connection;
        peer.normalized_address = info.address;
        peer.connected_at = info.connected_at;
        peer.is_outgoing = info.outbound;
        peer.version = info.agent;
        peer.encryption_enabled = info.encrypted;
        return peer;
    }

    // What start(), stop(), a new connection and rotate_identity() do with persistence on. They
    // reach persistence only through this table, which only the persistence calls install, so a
    // program that never turns persistence on does not compile its code (issue 3: compile cost).
    struct persistence_hooks {
        void (*load)(basic_rats_client&);
        void (*save)(basic_rats_client&);
        void (*save_peers)(basic_rats_client&);
        void (*save_identity)(basic_rats_client&);
        void (*remember_peer)(basic_rats_client&, const peer_info&);
    };
    static inline const persistence_hooks persistence_hooks_{
        [](basic_rats_client& c) { c.load_configuration(); },
        [](basic_rats_client& c) { c.save_configuration(); },
        [](basic_rats_client& c) { c.save_historical_peers(); },
        [](basic_rats_client& c) { c.save_identity(c.directory()); },
        [](basic_rats_client& c, const peer_info& info) { c.remember_peer(info); },
    };

    // The data directory; load_configuration() without one turns persistence on in ".".
    persistence::data_directory directory() {
        std::lock_guard<std::mutex> lock(persistence_mutex_);
        if (!data_directory_) data_directory_.emplace(".");
        persistence_ = &persistence_hooks_;
        return *data_directory_;
    }
    void save_identity(const persistence::data_directory& dir) {
        if constexpr (has_switchable_encryption)
            log_failure(dir.save_identity(node_.crypto().static_private_key_hex()), persistence::identity_file);
    }
    bool log_failure(std::error_code ec, const char* file) {
        if (ec) node_.log().error("saving ", file, " in ", get_data_directory(), " failed: ", ec.message());
        return !ec;
    }
    static std::int64_t unix_now() {
        return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    }
    static std::vector<dht::node_contact> to_contacts(const std::vector<persistence::saved_node>& nodes) {
        std::vector<dht::node_contact> out;
        for (const auto& n : nodes) {
            const auto id = dht::node_id::from_hex(n.id_hex);
            std::error_code ec;
            const auto ip = asio::ip::make_address(n.ip, ec);
            if (id && !ec) out.push_back({*id, {ip, n.port}});
        }
        return out;
    }

    // On the network thread: a connected peer joins (or refreshes) the known peers.
    void remember_peer(const peer_info& info) {
        detail::host_port connection;
        if (info.listen_port == 0 || !detail::parse_host_port(info.address, connection)) return;
        std::error_code ec;
        const auto ip = asio::ip::make_address(connection.host, ec);
        if (ec) return;
        {
            std::lock_guard<std::mutex> lock(persistence_mutex_);
            auto it = std::find_if(historical_.begin(), historical_.end(),
                                   [&](const persistence::historical_peer& h) { return h.peer_id == info.peer_id; });
            if (it == historical_.end()) {
                if (historical_.size() >= persistence::max_historical_peers) historical_.erase(historical_.begin());
                it = historical_.insert(historical_.end(), persistence::historical_peer{});
            }
            it->ip = ip.to_string();
            it->port = info.listen_port;
            it->peer_id = info.peer_id;
            it->last_seen = unix_now();
            it->failures = 0;
        }
        schedule_save();
    }

    // Saves the known peers a second after a change, once for a burst of changes.
    void schedule_save() {
        if (save_pending_.exchange(true)) return;
        save_timer_.expires_after(std::chrono::seconds(1));
        save_timer_.async_wait([this](std::error_code ec) {
            save_pending_ = false;
            if (!ec) save_historical_peers();
        });
    }

    asio::io_context io_{1};
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    Node node_;
    std::string bind_address_;
    std::thread thread_;
    std::mutex lifecycle_mutex_;
    detail::handler_slot<ConnectionCallback> connection_callback_;
    detail::handler_slot<DisconnectCallback> disconnect_callback_;
    detail::handler_slot<StringDataCallback> string_callback_;
    detail::handler_slot<BinaryDataCallback> binary_callback_;
    mutable std::mutex persistence_mutex_;
    std::optional<persistence::data_directory> data_directory_;
    std::atomic<const persistence_hooks*> persistence_{nullptr};
    std::vector<persistence::historical_peer> historical_;
    std::atomic<bool> configuration_loaded_{false};
    std::atomic<bool> identity_refused_{false};
    std::atomic<bool> save_pending_{false};
    asio::steady_timer save_timer_{io_};
};

}  // namespace librats

#endif
