#ifndef LIBRATS_DETAIL_NODE_IMPL_HPP
#define LIBRATS_DETAIL_NODE_IMPL_HPP

// The state behind a basic_node. It lives in a shared_ptr so that handlers in flight keep it
// alive after the basic_node handle is gone. Peer state is confined to the strand; the peer
// table and the handler registry are also read from other threads, under their mutexes.

#include <librats/config.hpp>
#include <librats/detail/bound_handler.hpp>
#include <librats/detail/buffer_pool.hpp>
#include <librats/detail/handler_slot.hpp>
#include <librats/detail/peer_session.hpp>
#include <librats/detail/unique_function.hpp>
#include <librats/discovery/context.hpp>
#include <librats/concepts/discovery.hpp>
#include <librats/error.hpp>
#include <librats/log.hpp>
#include <librats/peer_info.hpp>
#include <librats/version.hpp>
#include <librats/wire/frame.hpp>
#include <librats/wire/handshake.hpp>

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace librats::detail {

// A frame to send, written straight into each peer's queue without an intermediate copy.
struct outgoing_frame {
    wire::frame_type type;
    std::string_view json_type;  // JSON frames only
    std::string_view body;

    std::size_t payload_size() const noexcept {
        return type == wire::frame_type::json ? 1 + json_type.size() + body.size() : body.size();
    }
    std::size_t size() const noexcept { return wire::frame_header_size + payload_size(); }
    void append_to(std::string& out) const {
        if (type == wire::frame_type::json)
            wire::append_json_frame(out, json_type, body);
        else
            wire::append_frame(out, type, body);
    }
};

// Errors that mean the peer misbehaved or went silent: logged as warnings and counted as drops.
inline bool is_peer_fault(std::error_code ec) noexcept {
    if (ec.category() != error_category()) return false;
    switch (static_cast<errc>(ec.value())) {
    case errc::bad_preamble:
    case errc::bad_hello:
    case errc::protocol_mismatch:
    case errc::encryption_mismatch:
    case errc::authentication_failed:
    case errc::peer_id_mismatch:
    case errc::handshake_timeout:
    case errc::idle_timeout:
    case errc::frame_timeout:
    case errc::malformed_frame:
    case errc::unknown_frame_type:
    case errc::message_too_large:
    case errc::invalid_json: return true;
    default: return false;
    }
}

template <class Transport, class Crypto, class... Discovery>
class node_impl final : public session_owner<Transport, Crypto>,
                        public std::enable_shared_from_this<node_impl<Transport, Crypto, Discovery...>> {
public:
    using session_type = peer_session<Transport, Crypto>;
    using session_ptr = std::shared_ptr<session_type>;
    using strand_type = asio::strand<asio::any_io_executor>;
    using message_handler = std::function<void(const std::string& peer_id, const nlohmann::json& data)>;
    using peer_handler = std::function<void(const peer_info&)>;
    using disconnect_handler = std::function<void(const peer_info&, std::error_code)>;
    using data_handler = std::function<void(const peer_info&, data_kind, std::string_view)>;
    using connect_completion = unique_function<void(std::error_code, std::string)>;
    using broadcast_completion = unique_function<void(std::error_code, std::size_t)>;

    template <class... TransportArgs>
    node_impl(const asio::any_io_executor& ex, node_options options, TransportArgs&&... transport_args)
        : strand_(asio::make_strand(ex)),
          options_(std::move(options)),
          transport_(asio::any_io_executor(strand_), std::forward<TransportArgs>(transport_args)...),
          tick_timer_(strand_),
          accept_retry_timer_(strand_),
          max_peers_(options_.max_peers),
          rng_(std::random_device{}()) {}

    // ---- lifecycle (any thread)

    std::error_code start() {
        std::lock_guard<std::mutex> lock(lifecycle_mutex_);
        if (running_) return errc::already_running;
        std::error_code ec;
        auto acceptor = transport_.listen(options_.bind_address, options_.listen_port, ec);
        if (ec) {
            log_.error("cannot listen on ", options_.bind_address, " port ", options_.listen_port, ": ", ec.message());
            return ec;
        }
        listen_port_ = acceptor.port();
        running_ = true;
        post_task([self = this->shared_from_this(), acceptor = std::move(acceptor)]() mutable {
            self->do_start(std::move(acceptor));
        });
        return {};
    }

    // After the completion, no user handler of this node runs again (until a new start()).
    void stop(unique_function<void()> done) {
        {
            std::lock_guard<std::mutex> lock(lifecycle_mutex_);
            running_ = false;
        }
        post_task([self = this->shared_from_this(), done = std::move(done)]() mutable {
            self->do_stop();
            if (done) done();
        });
    }

    bool is_running() const noexcept { return running_; }
    std::uint16_t listen_port() const noexcept { return listen_port_; }
    std::string local_peer_id() const { return crypto_.local_peer_id(); }
    const strand_type& strand() const noexcept { return strand_; }

    // ---- connections

    // A non-empty expected_peer_id makes any other peer at that address an authentication failure.
    void connect(std::string host, std::uint16_t port, std::string expected_peer_id, connect_completion done) {
        post_task([self = this->shared_from_this(), host = std::move(host), port,
                   expected_peer_id = std::move(expected_peer_id), done = std::move(done)]() mutable {
            self->do_connect(host, port, std::move(done), std::move(expected_peer_id));
        });
    }

    void rekey(const std::string& peer_id) {
        post_task([self = this->shared_from_this(), peer_id] {
            if (auto session = self->find_session(peer_id)) session->request_rekey();
        });
    }

    void disconnect(const std::string& peer_id) {
        post_task([self = this->shared_from_this(), peer_id] {
            if (auto session = self->find_session(peer_id)) session->close(errc::closed_by_request);
        });
    }

    // ---- sending (any thread). The returned error is also delivered to `done`, if given.

    std::error_code send_frame(const std::string& peer_id, const outgoing_frame& frame, send_completion done) {
        if (auto ec = check_sendable(frame)) return reject(ec, done);
        auto session = find_session(peer_id);
        if (!session) return reject(errc::peer_not_found, done);
        const auto ec = session->enqueue(
            frame.size(), [&frame](std::string& out) { frame.append_to(out); }, std::move(done));
        if (ec)
            counters_.sends_rejected++;
        else
            counters_.messages_sent++;
        return ec;
    }

    // Returns how many peers the frame was queued for. `done` runs once, after every queued copy
    // was written or failed: success if all were written.
    std::size_t broadcast_frame(const outgoing_frame& frame, broadcast_completion done) {
        if (auto ec = check_sendable(frame)) {
            counters_.sends_rejected++;
            if (done) done(ec, 0);
            return 0;
        }
        const auto sessions = active_sessions();
        if (sessions.empty()) {
            if (done) done(errc::no_peers, 0);
            return 0;
        }
        struct tally {
            std::mutex mutex;
            std::size_t remaining;
            std::size_t delivered = 0;
            std::error_code first_error;
            broadcast_completion done;
        };
        std::shared_ptr<tally> shared;
        if (done) {
            shared = std::make_shared<tally>();
            shared->remaining = sessions.size();
            shared->done = std::move(done);
        }
        std::size_t queued = 0;
        for (const auto& session : sessions) {
            send_completion per_peer;
            if (shared) {
                per_peer = [shared](std::error_code ec) {
                    std::unique_lock<std::mutex> lock(shared->mutex);
                    if (ec && !shared->first_error) shared->first_error = ec;
                    if (!ec) ++shared->delivered;
                    if (--shared->remaining > 0) return;
                    lock.unlock();
                    shared->done(shared->first_error, shared->delivered);
                };
            }
            const auto ec = session->enqueue(
                frame.size(), [&frame](std::string& out) { frame.append_to(out); }, std::move(per_peer));
            if (ec) {
                counters_.sends_rejected++;
            } else {
                counters_.messages_sent++;
                ++queued;
            }
        }
        return queued;
    }

    // ---- handlers (any thread)

    void add_message_handler(std::string type, message_handler handler, bool once) {
        std::lock_guard<std::mutex> lock(handlers_mutex_);
        message_handlers_[std::move(type)].push_back({std::make_shared<const message_handler>(std::move(handler)), once});
    }

    void remove_message_handlers(const std::string& type) {
        std::lock_guard<std::mutex> lock(handlers_mutex_);
        message_handlers_.erase(type);
    }

    void set_connected_handler(peer_handler h) { connected_handler_.set(std::move(h)); }
    void set_disconnected_handler(disconnect_handler h) { disconnected_handler_.set(std::move(h)); }
    void set_data_handler(data_handler h) { data_handler_.set(std::move(h)); }
    void set_writable_handler(peer_handler h) { writable_handler_.set(std::move(h)); }

    // ---- queries (any thread)

    std::vector<peer_info> peers() const {
        std::lock_guard<std::mutex> lock(peers_mutex_);
        std::vector<peer_info> out;
        out.reserve(peers_.size());
        for (const auto& entry : peers_)
            if (const auto session = entry.second.lock()) out.push_back(session->info());
        return out;
    }

    std::optional<peer_info> find_peer(const std::string& peer_id) const {
        std::lock_guard<std::mutex> lock(peers_mutex_);
        const auto it = peers_.find(peer_id);
        const auto session = it == peers_.end() ? nullptr : it->second.lock();
        if (!session) return std::nullopt;
        return session->info();
    }

    std::size_t peer_count() const {
        std::lock_guard<std::mutex> lock(peers_mutex_);
        return peers_.size();
    }

    std::size_t max_peers() const noexcept { return max_peers_; }
    void set_max_peers(std::size_t n) noexcept { max_peers_ = n; }

    // Hosts never dialed (our own public address, learned by STUN): connects fail at once.
    void ignore_host(const std::string& host) {
        std::lock_guard<std::mutex> lock(ignored_mutex_);
        ignored_hosts_.insert(host);
    }
    bool is_ignored(const std::string& host) const {
        std::lock_guard<std::mutex> lock(ignored_mutex_);
        return ignored_hosts_.count(host) > 0;
    }
    std::vector<std::string> ignored_hosts() const {
        std::lock_guard<std::mutex> lock(ignored_mutex_);
        return {ignored_hosts_.begin(), ignored_hosts_.end()};
    }

    node_statistics statistics() const noexcept {
        node_statistics s;
        s.bytes_sent = counters_.bytes_sent;
        s.bytes_received = counters_.bytes_received;
        s.messages_sent = counters_.messages_sent;
        s.messages_received = counters_.messages_received;
        s.connections_accepted = counters_.connections_accepted;
        s.connections_initiated = counters_.connections_initiated;
        s.handshakes_failed = counters_.handshakes_failed;
        s.peers_dropped = counters_.peers_dropped;
        s.sends_rejected = counters_.sends_rejected;
        s.writes = counters_.writes;
        s.rekeys_sent = counters_.rekeys_sent;
        s.rekeys_received = counters_.rekeys_received;
        return s;
    }

    logger& mutable_log() noexcept { return log_; }
    Crypto& mutable_crypto() noexcept { return crypto_; }
    Transport& transport() noexcept { return transport_; }
    std::tuple<Discovery...>& discovery() noexcept { return discovery_; }
    const std::tuple<Discovery...>& discovery() const noexcept { return discovery_; }

    // ---- session_owner

    const Crypto& crypto() const override { return crypto_; }
    const node_options& options() const override { return options_; }
    const logger& log() const override { return log_; }
    node_counters& counters() override { return counters_; }
    buffer_pool& buffers() override { return buffers_; }

    std::error_code on_handshake_complete(const session_ptr& session) override {
        handshaking_.erase(session.get());
        const auto& info = session->info();
        if (info.peer_id == crypto_.local_peer_id()) return errc::self_connection;
        std::unique_lock<std::mutex> lock(peers_mutex_);
        const auto existing = peers_.find(info.peer_id);
        const auto current = existing == peers_.end() ? nullptr : existing->second.lock();
        if (current) {
            // Both ends order the two connections the same way, so both keep the same one.
            const auto key = [](const session_ptr& s) { return std::make_pair(s->initiator_id(), s->initiator_nonce()); };
            const auto loser = key(session) < key(current) ? current : session;
            if (loser == current) {
                loser->hand_over_queue(*session);
                existing->second = session;
            }
            lock.unlock();
            log_.debug("duplicate connection to ", info.peer_id, "; keeping the one from ",
                       key(loser == session ? current : session).first);
            complete_attempt(session, {}, info.peer_id);
            if (loser != session) {
                loser->close(errc::duplicate_connection);
                return {};
            }
            return errc::duplicate_connection;
        }
        if (!current && existing != peers_.end()) peers_.erase(existing);
        if (peers_.size() >= max_peers_) return errc::max_peers_reached;
        peers_.emplace(info.peer_id, session);
        lock.unlock();
        log_.info("connected to peer ", info.peer_id, " at ", info.address, info.outbound ? " (outbound)" : " (inbound)");
        complete_attempt(session, {}, info.peer_id);
        if (auto handler = connected_handler_.get()) guarded("connection handler", [&] { (*handler)(info); });
        std::apply([&](auto&... module) { (notify_connected(module, info), ...); }, discovery_);
        return {};
    }

    std::error_code on_frame(const session_ptr& session, wire::frame_type type, std::string_view payload) override {
        if (type == wire::frame_type::json) return dispatch_json(session->info(), payload);
        if (auto handler = data_handler_.get()) {
            const auto kind = type == wire::frame_type::binary ? data_kind::binary : data_kind::text;
            guarded("data handler", [&] { (*handler)(session->info(), kind, payload); });
        }
        return {};
    }

    void on_closed(const session_ptr& session, std::error_code ec) override {
        const bool was_handshaking = handshaking_.erase(session.get()) > 0;
        const auto& info = session->info();
        bool was_active = false;
        {
            std::lock_guard<std::mutex> lock(peers_mutex_);
            const auto it = peers_.find(info.peer_id);
            if (it != peers_.end() && (it->second.expired() || it->second.lock() == session)) {
                was_active = !it->second.expired();
                peers_.erase(it);
            }
        }
        complete_attempt(session, ec, {});
        const auto who = info.peer_id.empty() ? info.address : info.peer_id + " (" + info.address + ")";
        if (is_peer_fault(ec) && !session->closed_by_peer()) {
            counters_.peers_dropped++;
            log_.warn("dropping peer ", who, ": ", ec.message());
        } else {
            log_.info("connection to ", who, " closed: ", ec.message());
        }
        if (was_handshaking && ec != errc::shutting_down) counters_.handshakes_failed++;
        if (!was_active || stopping_) return;
        if (auto handler = disconnected_handler_.get()) guarded("disconnect handler", [&] { (*handler)(info, ec); });
        std::apply([&](auto&... module) { (notify_disconnected(module, info, ec), ...); }, discovery_);
    }

    void on_writable(const session_ptr& session) override {
        if (auto handler = writable_handler_.get()) guarded("writable handler", [&] { (*handler)(session->info()); });
    }

private:
    struct handler_entry {
        std::shared_ptr<const message_handler> handler;
        bool once;
    };

    // A throwing user callback must not unwind into the network code.
    template <class F>
    void guarded(const char* what, F&& f) const {
        try {
            f();
        } catch (const std::exception& e) {
            log_.error(what, " threw: ", e.what());
        } catch (...) {
            log_.error(what, " threw a non-standard exception");
        }
    }

    std::error_code dispatch_json(const peer_info& info, std::string_view payload) {
        wire::json_payload message;
        if (auto ec = wire::parse_json_payload(payload, message)) return ec;
        const auto data = nlohmann::json::parse(message.json_text.begin(), message.json_text.end(), nullptr, false);
        if (data.is_discarded()) return errc::invalid_json;
        std::vector<std::shared_ptr<const message_handler>> handlers;
        {
            std::lock_guard<std::mutex> lock(handlers_mutex_);
            const auto it = message_handlers_.find(std::string(message.type));
            if (it != message_handlers_.end()) {
                auto& entries = it->second;
                for (const auto& entry : entries) handlers.push_back(entry.handler);
                entries.erase(std::remove_if(entries.begin(), entries.end(), [](const handler_entry& e) { return e.once; }),
                              entries.end());
                if (entries.empty()) message_handlers_.erase(it);
            }
        }
        if (handlers.empty()) log_.debug("no handler for message type '", message.type, "' from ", info.peer_id);
        for (const auto& handler : handlers) guarded("message handler", [&] { (*handler)(info.peer_id, data); });
        return {};
    }

    std::error_code check_sendable(const outgoing_frame& frame) const {
        if (!running_) return errc::not_running;
        if (frame.type == wire::frame_type::json &&
            (frame.json_type.empty() || frame.json_type.size() > wire::max_json_type_size))
            return std::make_error_code(std::errc::invalid_argument);
        if (frame.payload_size() > options_.max_message_size) return errc::message_too_large;
        return {};
    }

    std::error_code reject(std::error_code ec, send_completion& done) {
        counters_.sends_rejected++;
        if (done) done(ec);
        return ec;
    }

    session_ptr find_session(const std::string& peer_id) const {
        std::lock_guard<std::mutex> lock(peers_mutex_);
        const auto it = peers_.find(peer_id);
        return it == peers_.end() ? nullptr : it->second.lock();
    }

    std::vector<session_ptr> active_sessions() const {
        std::lock_guard<std::mutex> lock(peers_mutex_);
        std::vector<session_ptr> out;
        out.reserve(peers_.size());
        for (const auto& entry : peers_)
            if (auto session = entry.second.lock()) out.push_back(std::move(session));
        return out;
    }

    // Every session: established ones and those still in their handshake. Strand only.
    std::vector<session_ptr> all_sessions() const {
        auto out = active_sessions();
        for (const auto& entry : handshaking_)
            if (auto session = entry.second.lock()) out.push_back(std::move(session));
        return out;
    }

    void complete_attempt(const session_ptr& session, std::error_code ec, std::string peer_id) {
        if (const auto& attempt = session->attempt()) attempt->complete(ec, std::move(peer_id));
    }

    template <class Module>
    static void notify_connected(Module& module, const peer_info& info) {
        if constexpr (concepts::detail::has_on_peer_connected<Module>::value) module.on_peer_connected(info);
    }

    template <class Module>
    static void notify_disconnected(Module& module, const peer_info& info, std::error_code ec) {
        if constexpr (concepts::detail::has_on_peer_disconnected<Module>::value) module.on_peer_disconnected(info, ec);
    }

    wire::hello make_hello() {
        wire::hello hello;
        hello.peer_id = crypto_.local_peer_id();
        hello.listen_port = listen_port_;
        hello.agent = std::string("librats-cpp/") + library_version;
        hello.nonce = rng_();
        return hello;
    }

    // ---- strand-confined operations

    void do_start(typename Transport::acceptor_type acceptor) {
        stopping_ = false;
        acceptor_.emplace(std::move(acceptor));
        do_accept();
        schedule_tick();
        discovery_context_.emplace(asio::any_io_executor(strand_), transport_, log_, options_, crypto_.local_peer_id(),
                                   discovery_hooks{
                                       [self = this->weak_from_this()](const std::string& host, std::uint16_t port,
                                                                       std::function<void(std::error_code, const std::string&)> done) {
                                           if (auto node = self.lock())
                                               node->do_connect(host, port, [done = std::move(done)](std::error_code ec, std::string id) {
                                                   if (done) done(ec, id);
                                               });
                                       },
                                       [this] { return listen_port(); },
                                       [this] { return peer_count(); },
                                       [this](const std::string& id) { return find_session(id) != nullptr; }});
        std::apply([this](auto&... module) { (module.start(*discovery_context_), ...); }, discovery_);
        log_.info("node ", crypto_.local_peer_id(), " listening on port ", listen_port_);
    }

    void do_stop() {
        if (stopping_) return;
        stopping_ = true;
        std::apply([](auto&... module) { (module.stop(), ...); }, discovery_);
        if (acceptor_) {
            std::error_code ignored;
            acceptor_->close(ignored);
            acceptor_.reset();
        }
        tick_timer_.cancel();
        accept_retry_timer_.cancel();
        for (const auto& session : all_sessions()) session->close(errc::shutting_down);
    }

    // Cold paths (start, stop, connect) share one posted type: see bound_handler.hpp.
    void post_task(unique_function<void()> task) { asio::post(strand_, std::move(task)); }

    using timer_handler = bound_handler<node_impl, std::error_code>;

    void do_accept() {
        using accept_handler = bound_handler<node_impl, std::error_code, typename Transport::stream_type>;
        acceptor_->async_accept(accept_handler(this->shared_from_this(), [](node_impl& self, std::error_code ec,
                                                                            typename Transport::stream_type stream) {
            if (self.stopping_ || !self.acceptor_) return;
            if (ec) {
                self.log_.warn("accept failed: ", ec.message());
                // Out of descriptors and the like: try again shortly rather than spin.
                self.accept_retry_timer_.expires_after(std::chrono::milliseconds(100));
                self.accept_retry_timer_.async_wait(timer_handler(self.shared_from_this(), [](node_impl& node, std::error_code) {
                    if (!node.stopping_ && node.acceptor_) node.do_accept();
                }));
                return;
            }
            self.counters_.connections_accepted++;
            self.accept_stream(std::move(stream));
            self.do_accept();
        }));
    }

    void accept_stream(typename Transport::stream_type stream) {
        if (handshaking_.size() >= options_.max_pending_handshakes) {
            log_.warn("too many pending handshakes; refusing ", Transport::remote_address(stream));
            std::error_code ignored;
            stream.close(ignored);
            return;
        }
        const auto refusal = peer_count() >= max_peers_ ? static_cast<std::uint8_t>(errc::max_peers_reached) : 0;
        auto session = std::make_shared<session_type>(std::move(stream), this->shared_from_this(), next_connection_id(), false);
        handshaking_.emplace(session.get(), session);
        session->start(make_hello(), refusal);
    }

    void do_connect(const std::string& host, std::uint16_t port, connect_completion done,
                    std::string expected_peer_id = {}) {
        if (stopping_ || !running_) return done(errc::not_running, {});
        if (peer_count() >= max_peers_) return done(errc::max_peers_reached, {});
        if (is_ignored(host)) return done(errc::ignored_address, {});
        counters_.connections_initiated++;
        auto attempt = std::make_shared<connect_attempt>();
        attempt->handler = std::move(done);
        attempt->expected_peer_id = std::move(expected_peer_id);
        auto timer = std::make_shared<asio::steady_timer>(strand_, options_.connect_timeout);
        timer->async_wait(bound_handler<connect_attempt, std::error_code>(attempt, [](connect_attempt& a, std::error_code ec) {
            if (!ec) a.complete(errc::connect_timeout, {});
        }));
        log_.debug("connecting to ", host, " port ", port);
        transport_.async_connect(host, port, [self = this->shared_from_this(), attempt, timer](
                                                 std::error_code ec, typename Transport::stream_type stream) {
            timer->cancel();
            if (!attempt->handler) {
                std::error_code ignored;
                stream.close(ignored);
                return;
            }
            if (ec) return attempt->complete(ec, {});
            if (self->stopping_) return attempt->complete(errc::shutting_down, {});
            auto session = std::make_shared<session_type>(std::move(stream), self, self->next_connection_id(), true);
            session->set_connect_attempt(attempt);
            self->handshaking_.emplace(session.get(), session);
            session->start(self->make_hello());
        });
    }

    connection_id next_connection_id() noexcept { return ++last_connection_id_; }

    std::chrono::milliseconds tick_interval() const {
        const auto shortest = std::min({options_.keepalive_interval, options_.idle_timeout, options_.frame_timeout,
                                        options_.handshake_timeout});
        return std::clamp(shortest / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
    }

    void schedule_tick() {
        tick_timer_.expires_after(tick_interval());
        tick_timer_.async_wait(timer_handler(this->shared_from_this(), [](node_impl& self, std::error_code ec) {
            if (ec || self.stopping_) return;
            const auto now = clock::now();
            for (const auto& session : self.all_sessions()) session->on_tick(now);
            self.schedule_tick();
        }));
    }

    strand_type strand_;
    const node_options options_;
    logger log_;
    Crypto crypto_;
    Transport transport_;
    std::tuple<Discovery...> discovery_;
    std::optional<discovery_context<Transport>> discovery_context_;
    std::optional<typename Transport::acceptor_type> acceptor_;
    asio::steady_timer tick_timer_;
    asio::steady_timer accept_retry_timer_;
    buffer_pool buffers_;
    node_counters counters_;

    std::mutex lifecycle_mutex_;
    std::atomic<bool> running_{false};
    bool stopping_ = false;  // strand only
    std::atomic<std::uint16_t> listen_port_{0};
    std::atomic<std::size_t> max_peers_;
    connection_id last_connection_id_ = 0;
    std::mt19937_64 rng_;

    mutable std::mutex peers_mutex_;
    mutable std::mutex ignored_mutex_;
    std::set<std::string> ignored_hosts_;
    // Weak: a session is kept alive by its own pending operations, so that dropping the node
    // and its io_context frees everything even if the stop never ran.
    std::unordered_map<std::string, std::weak_ptr<session_type>> peers_;
    std::unordered_map<const session_type*, std::weak_ptr<session_type>> handshaking_;  // strand only

    mutable std::mutex handlers_mutex_;
    std::unordered_map<std::string, std::vector<handler_entry>> message_handlers_;
    handler_slot<peer_handler> connected_handler_;
    handler_slot<disconnect_handler> disconnected_handler_;
    handler_slot<data_handler> data_handler_;
    handler_slot<peer_handler> writable_handler_;
};

}  // namespace librats::detail

#endif
