#ifndef LIBRATS_TEST_MEMORY_TRANSPORT_HPP
#define LIBRATS_TEST_MEMORY_TRANSPORT_HPP

// In-process stream transport for deterministic tests and simulations.
//
// memory_transport has the same shape as the TCP transport (listen,
// async_connect, AsyncRead/WriteStream streams) but moves bytes through shared
// in-memory pipes, so whole networks of nodes can run in one process, on one
// or many io_contexts, with injectable faults: latency, dropped connects,
// aborted connections and partitions.
//
// Threading: all shared state of one memory_network is guarded by one mutex.
// Results are recorded under it and posted to the handlers' executors after it
// is released, so no user code ever runs under the lock. As with any asio I/O
// object, streams, acceptors and transports must be destroyed before the
// io_context they use, and one object must not be used from two threads at
// once.

#include <asio.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

namespace librats {

// Per-network fault injection; memory_network's setters change it at any time.
struct memory_faults {
    std::chrono::milliseconds delay{0};  // added to every delivery of written bytes
};

class memory_stream;
class memory_acceptor;

namespace detail {

using memory_clock = std::chrono::steady_clock;

// Operations are completed in two steps: the result is recorded while the
// network lock is held, then posted once it is released.
struct op_base {
    virtual ~op_base() = default;
    virtual void post() = 0;
};

template <class... Args>
struct result_op : op_base {
    void set(Args... args) { result.emplace(std::move(args)...); }
    std::optional<std::tuple<Args...>> result;
};

// Type-erased by hand because asio 1.22 has no any_completion_handler; must
// not require copying, since handlers such as use_awaitable's are move-only.
template <class Handler, class... Args>
class handler_op final : public result_op<Args...> {
public:
    handler_op(Handler handler, const asio::any_io_executor& io)
        : handler_(std::move(handler)), work_(asio::get_associated_executor(handler_, io)) {}

    // The post itself counts as work, so work_ may end with this object.
    void post() override {
        asio::post(work_.get_executor(), [handler = std::move(handler_), result = std::move(*this->result)]() mutable {
            std::apply(std::move(handler), std::move(result));
        });
    }

private:
    Handler handler_;
    // Keeps the handler's context running while the operation is pending.
    asio::executor_work_guard<asio::associated_executor_t<Handler, asio::any_io_executor>> work_;
};

template <class... Args, class Handler>
std::unique_ptr<result_op<Args...>> make_op(Handler&& handler, const asio::any_io_executor& io) {
    return std::make_unique<handler_op<std::decay_t<Handler>, Args...>>(std::forward<Handler>(handler), io);
}

// Declared before the lock guard, so its destructor posts the collected
// operations after the lock has been released.
class post_batch {
public:
    post_batch() = default;
    post_batch(const post_batch&) = delete;
    post_batch& operator=(const post_batch&) = delete;
    ~post_batch() {
        for (auto& op : ops_) op->post();
    }
    void add(std::unique_ptr<op_base> op) { ops_.push_back(std::move(op)); }

private:
    std::vector<std::unique_ptr<op_base>> ops_;
};

using read_op = result_op<std::error_code, std::size_t>;
using wait_op = result_op<std::error_code>;
using stream_op = result_op<std::error_code, memory_stream>;

struct chunk {
    std::vector<char> bytes;
    memory_clock::time_point ready_at;  // when the configured delay has passed
    bool held;                          // written across a partition; released on heal
};

struct pending_read {
    std::vector<asio::mutable_buffer> buffers;
    std::unique_ptr<read_op> op;
};

// One end of a connection. Kept small while idle: buffers exist only while
// bytes are in flight, the timer only once a delayed read had to wait.
struct end_state {
    end_state(asio::any_io_executor e, std::string h, std::uint16_t p)
        : ex(std::move(e)), host(std::move(h)), port(p) {}

    asio::any_io_executor ex;
    std::string host;
    std::uint16_t port;
    bool open = true;          // false once closed locally
    bool sending = true;       // false after shutdown_send or close: the peer reads EOF once drained
    std::list<chunk> inbox;    // bytes written by the peer, oldest first
    std::size_t consumed = 0;  // bytes of inbox.front() already read
    std::list<pending_read> reads;
    std::list<std::unique_ptr<wait_op>> waits;
    std::unique_ptr<asio::steady_timer> timer;  // on ex: wakes reads waiting for delayed bytes
    std::optional<memory_clock::time_point> timer_due;
};

inline std::string address(const end_state& e) { return e.host + ":" + std::to_string(e.port); }

struct link;
struct connect_request;
struct acceptor_state;

struct network_state {
    bool partitioned(const std::string& a, const std::string& b) const {
        return partitions.count(std::minmax(a, b)) != 0;
    }

    std::mutex mu;
    memory_faults faults;
    std::optional<std::size_t> close_after;  // one-shot, taken by the next connection
    std::set<std::string> dropped;
    std::set<std::pair<std::string, std::string>> partitions;  // stored as (min, max)
    std::map<std::pair<std::string, std::uint16_t>, acceptor_state*> listeners;
    std::set<link*> links;               // connections with at least one open end
    std::list<connect_request> stalled;  // connects held back by drops and partitions
    std::uint64_t next_host = 1;
    std::uint64_t next_transport = 1;
    std::uint16_t next_ephemeral = 49152;
};

struct link : std::enable_shared_from_this<link> {
    static constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

    link(std::shared_ptr<network_state> n, end_state client, end_state server, std::size_t limit)
        : net(std::move(n)), ends{{std::move(client), std::move(server)}}, budget(limit), reset(limit == 0) {}

    const std::shared_ptr<network_state> net;
    std::array<end_state, 2> ends;  // [0] connecting side, [1] accepting side
    std::size_t budget;             // bytes still writable before the close_after abort
    bool reset;                     // aborted: each end sees connection_reset once drained
};

// Everything below runs with net->mu held.

inline bool front_ready(const end_state& e, memory_clock::time_point now) {
    return !e.inbox.empty() && !e.inbox.front().held && e.inbox.front().ready_at <= now;
}

// Readable in the async_wait sense: data, EOF or an error is there to be read.
inline bool readable(const link& l, int side, memory_clock::time_point now) {
    const end_state& e = l.ends[side];
    return front_ready(e, now) || (e.inbox.empty() && (l.reset || !l.ends[1 - side].sending));
}

template <class MutableBufferSequence>
std::size_t take(link& l, int side, const MutableBufferSequence& buffers, std::error_code& ec) {
    ec = {};
    if (asio::buffer_size(buffers) == 0) return 0;
    end_state& e = l.ends[side];
    const auto now = memory_clock::now();
    std::size_t n = 0;
    for (auto it = asio::buffer_sequence_begin(buffers);
         it != asio::buffer_sequence_end(buffers) && front_ready(e, now); ++it) {
        asio::mutable_buffer dst(*it);
        while (dst.size() > 0 && front_ready(e, now)) {
            chunk& c = e.inbox.front();
            const std::size_t k = asio::buffer_copy(dst, asio::buffer(c.bytes) + e.consumed);
            dst += k;
            e.consumed += k;
            n += k;
            if (e.consumed == c.bytes.size()) {  // release memory as soon as it is drained
                e.inbox.pop_front();
                e.consumed = 0;
            }
        }
    }
    if (n == 0) {
        if (!e.inbox.empty())
            ec = asio::error::would_block;
        else if (l.reset)
            ec = asio::error::connection_reset;
        else if (!l.ends[1 - side].sending)
            ec = asio::error::eof;
        else
            ec = asio::error::would_block;
    }
    return n;
}

inline void service(link& l, int side, post_batch& done);

// Wakes the end when its oldest delayed chunk becomes due. If that moment has
// already passed the timer fires at once, which closes the gap between a
// caller's readiness check and this call.
inline void arm_timer(link& l, int side) {
    end_state& e = l.ends[side];
    if ((e.reads.empty() && e.waits.empty()) || e.inbox.empty()) return;
    const chunk& front = e.inbox.front();
    if (front.held || e.timer_due == front.ready_at) return;
    if (!e.timer) e.timer = std::make_unique<asio::steady_timer>(e.ex);
    e.timer->expires_at(front.ready_at);
    e.timer_due = front.ready_at;
    e.timer->async_wait([self = l.weak_from_this(), side, due = front.ready_at](std::error_code ec) {
        if (ec) return;  // re-armed or closed
        const std::shared_ptr<link> locked = self.lock();
        if (!locked) return;
        post_batch done;
        std::lock_guard<std::mutex> lock(locked->net->mu);
        if (locked->ends[side].timer_due == due) locked->ends[side].timer_due.reset();
        service(*locked, side, done);
    });
}

// Completes whatever pending reads and waits of this end can now complete.
inline void service(link& l, int side, post_batch& done) {
    end_state& e = l.ends[side];
    if (!e.open) return;
    while (!e.reads.empty()) {
        pending_read& r = e.reads.front();
        std::error_code ec;
        const std::size_t n = take(l, side, r.buffers, ec);
        if (ec == asio::error::would_block) break;
        r.op->set(ec, n);
        done.add(std::move(r.op));
        e.reads.pop_front();
    }
    if (readable(l, side, memory_clock::now())) {
        for (auto& op : e.waits) {
            op->set({});
            done.add(std::move(op));
        }
        e.waits.clear();
    }
    arm_timer(l, side);
}

template <class ConstBufferSequence>
std::size_t put(link& l, int side, const ConstBufferSequence& buffers, std::error_code& ec, post_batch& done) {
    ec = {};
    const std::size_t size = asio::buffer_size(buffers);
    if (size == 0) return 0;
    end_state& to = l.ends[1 - side];
    if (l.reset) {
        ec = asio::error::connection_reset;
        return 0;
    }
    if (!l.ends[side].sending || !to.open) {
        ec = asio::error::broken_pipe;
        return 0;
    }
    const std::size_t n = std::min(size, l.budget);
    std::vector<char> bytes(n);
    asio::buffer_copy(asio::buffer(bytes), buffers);
    memory_clock::time_point ready_at = memory_clock::now() + l.net->faults.delay;
    // A shorter delay set meanwhile must not let these bytes overtake earlier ones.
    if (!to.inbox.empty()) ready_at = std::max(ready_at, to.inbox.back().ready_at);
    const bool held = l.net->partitioned(l.ends[side].host, to.host);
    to.inbox.push_back(chunk{std::move(bytes), ready_at, held});
    if (l.budget != link::unlimited) {
        l.budget -= n;
        if (l.budget == 0) {
            l.reset = true;
            service(l, side, done);
        }
    }
    service(l, 1 - side, done);
    return n;
}

inline void close_end(link& l, int side, post_batch& done) {
    end_state& e = l.ends[side];
    e.open = false;
    e.sending = false;
    e.inbox.clear();
    e.consumed = 0;
    for (pending_read& r : e.reads) {
        r.op->set(asio::error::operation_aborted, 0);
        done.add(std::move(r.op));
    }
    e.reads.clear();
    for (auto& op : e.waits) {
        op->set(asio::error::operation_aborted);
        done.add(std::move(op));
    }
    e.waits.clear();
    e.timer.reset();  // the link may outlive this end's io_context; its timer must not
    e.timer_due.reset();
    if (!l.ends[1 - side].open) l.net->links.erase(&l);
    service(l, 1 - side, done);  // the peer sees EOF once it has drained
}

inline void connect(network_state& net, connect_request&& request, post_batch& done);

}  // namespace detail

// One end of a connected pair.
class memory_stream {
public:
    using executor_type = asio::any_io_executor;

    // An unconnected stream, like tcp::socket(ex); failed connects and accepts
    // complete with one.
    explicit memory_stream(executor_type ex) : ex_(std::move(ex)) {}
    memory_stream(memory_stream&& other) noexcept : ex_(other.ex_), link_(std::move(other.link_)), side_(other.side_) {}
    memory_stream& operator=(memory_stream&& other) noexcept {
        if (this != &other) {
            close();
            ex_ = other.ex_;
            link_ = std::move(other.link_);
            side_ = other.side_;
        }
        return *this;
    }
    ~memory_stream() { close(); }

    executor_type get_executor() const noexcept { return ex_; }

    template <class MutableBufferSequence, class Token>
    auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [this](auto handler, const MutableBufferSequence& bufs) {
                auto op = detail::make_op<std::error_code, std::size_t>(std::move(handler), ex_);
                detail::post_batch done;
                if (!link_) {
                    op->set(asio::error::bad_descriptor, 0);
                    done.add(std::move(op));
                    return;
                }
                std::lock_guard<std::mutex> lock(link_->net->mu);
                detail::end_state& e = link_->ends[side_];
                if (e.reads.empty()) {  // earlier reads get the bytes first
                    std::error_code ec;
                    const std::size_t n = detail::take(*link_, side_, bufs, ec);
                    if (ec != asio::error::would_block) {
                        op->set(ec, n);
                        done.add(std::move(op));
                        return;
                    }
                }
                e.reads.push_back(
                    detail::pending_read{std::vector<asio::mutable_buffer>(asio::buffer_sequence_begin(bufs),
                                                                           asio::buffer_sequence_end(bufs)),
                                         std::move(op)});
                detail::arm_timer(*link_, side_);
            },
            token, buffers);
    }

    template <class ConstBufferSequence, class Token>
    auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [this](auto handler, const ConstBufferSequence& bufs) {
                std::error_code ec;
                const std::size_t n = write_some(bufs, ec);
                auto op = detail::make_op<std::error_code, std::size_t>(std::move(handler), ex_);
                op->set(ec, n);
                op->post();
            },
            token, buffers);
    }

    // wait_read completes once data, EOF or an error is there to be read;
    // wait_write at once, since writes never block; wait_error is not supported.
    template <class Token>
    auto async_wait(asio::socket_base::wait_type type, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code)>(
            [this](auto handler, asio::socket_base::wait_type w) {
                auto op = detail::make_op<std::error_code>(std::move(handler), ex_);
                detail::post_batch done;
                if (!link_ || w != asio::socket_base::wait_read) {
                    if (!link_)
                        op->set(asio::error::bad_descriptor);
                    else if (w == asio::socket_base::wait_write)
                        op->set({});
                    else
                        op->set(asio::error::operation_not_supported);
                    done.add(std::move(op));
                    return;
                }
                std::lock_guard<std::mutex> lock(link_->net->mu);
                if (detail::readable(*link_, side_, detail::memory_clock::now())) {
                    op->set({});
                    done.add(std::move(op));
                    return;
                }
                link_->ends[side_].waits.push_back(std::move(op));
                detail::arm_timer(*link_, side_);
            },
            token, type);
    }

    // Non-blocking: would_block while nothing is readable, eof once the peer
    // closed and everything was read, connection_reset after an abort,
    // bad_descriptor when closed locally.
    template <class MutableBufferSequence>
    std::size_t read_some(const MutableBufferSequence& buffers, std::error_code& ec) {
        if (!link_) {
            ec = asio::error::bad_descriptor;
            return 0;
        }
        std::lock_guard<std::mutex> lock(link_->net->mu);
        return detail::take(*link_, side_, buffers, ec);
    }

    // Never blocks: buffers without bound. broken_pipe once the peer closed or
    // after shutdown_send.
    template <class ConstBufferSequence>
    std::size_t write_some(const ConstBufferSequence& buffers, std::error_code& ec) {
        if (!link_) {
            ec = asio::error::bad_descriptor;
            return 0;
        }
        detail::post_batch done;
        std::lock_guard<std::mutex> lock(link_->net->mu);
        return detail::put(*link_, side_, buffers, ec, done);
    }

    // The peer reads what was already written, then EOF; pending local
    // operations complete with operation_aborted.
    void close(std::error_code& ec) {
        ec = {};
        if (!link_) return;
        const std::shared_ptr<detail::link> l = std::move(link_);  // released after the lock
        detail::post_batch done;
        std::lock_guard<std::mutex> lock(l->net->mu);
        detail::close_end(*l, side_, done);
    }
    void close() {
        std::error_code ignored;  // closing cannot fail
        close(ignored);
    }
    bool is_open() const { return link_ != nullptr; }

    // Half-close: the peer reads what was already written, then EOF, while
    // this end can still read.
    void shutdown_send(std::error_code& ec) {
        if (!link_) {
            ec = asio::error::bad_descriptor;
            return;
        }
        ec = {};
        detail::post_batch done;
        std::lock_guard<std::mutex> lock(link_->net->mu);
        link_->ends[side_].sending = false;
        detail::service(*link_, 1 - side_, done);
    }

    // "host:port"; empty once closed. Addresses never change, so no lock.
    std::string local_address() const { return link_ ? detail::address(link_->ends[side_]) : ""; }
    std::string remote_address() const { return link_ ? detail::address(link_->ends[1 - side_]) : ""; }

private:
    friend class memory_acceptor;
    friend void detail::connect(detail::network_state&, detail::connect_request&&, detail::post_batch&);

    memory_stream(executor_type ex, std::shared_ptr<detail::link> l, int side)
        : ex_(std::move(ex)), link_(std::move(l)), side_(side) {}

    executor_type ex_;
    std::shared_ptr<detail::link> link_;  // null when closed
    int side_ = 0;
};

namespace detail {

struct connect_request {
    std::unique_ptr<stream_op> op;
    std::uint64_t transport;  // whose destruction aborts the request while stalled
    asio::any_io_executor ex;
    std::string from;
    std::string to;
    std::uint16_t port;
    bool dropped = false;  // dropped connects are never retried
};

struct acceptor_state {
    acceptor_state(std::shared_ptr<network_state> n, asio::any_io_executor e, std::string h, std::uint16_t p)
        : net(std::move(n)), ex(std::move(e)), host(std::move(h)), port(p) {}

    const std::shared_ptr<network_state> net;
    const asio::any_io_executor ex;
    const std::string host;
    const std::uint16_t port;
    std::list<std::shared_ptr<link>> backlog;  // connected, not yet accepted (like a TCP backlog)
    std::list<std::unique_ptr<stream_op>> accepts;
};

// Pending memory operations hold their handlers, and a handler may own the very stream it
// waits on: a cycle no one breaks if the io_context is destroyed without running again. Like
// asio's own I/O services, this one destroys (never invokes) such operations at shutdown.
class memory_service final : public asio::detail::execution_context_service_base<memory_service> {
public:
    explicit memory_service(asio::execution_context& context)
        : asio::detail::execution_context_service_base<memory_service>(context) {}

    void track(const std::shared_ptr<network_state>& net) {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& known : networks_)
            if (known.lock() == net) return;
        networks_.push_back(net);
    }

    void shutdown() override {
        std::vector<std::weak_ptr<network_state>> networks;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            networks.swap(networks_);
        }
        std::vector<std::unique_ptr<op_base>> doomed;
        for (const auto& weak : networks) {
            const auto net = weak.lock();
            if (!net) continue;
            std::lock_guard<std::mutex> lock(net->mu);
            for (link* l : net->links)
                for (end_state& e : l->ends) {
                    if (!ours(e.ex)) continue;
                    for (pending_read& r : e.reads) doomed.push_back(std::move(r.op));
                    e.reads.clear();
                    for (auto& op : e.waits) doomed.push_back(std::move(op));
                    e.waits.clear();
                }
            for (auto& listener : net->listeners) {
                if (!ours(listener.second->ex)) continue;
                for (auto& op : listener.second->accepts) doomed.push_back(std::move(op));
                listener.second->accepts.clear();
            }
            for (auto it = net->stalled.begin(); it != net->stalled.end();) {
                if (!ours(it->ex)) {
                    ++it;
                    continue;
                }
                doomed.push_back(std::move(it->op));
                it = net->stalled.erase(it);
            }
        }
        doomed.clear();  // outside the locks: destroying a handler may close streams
    }

private:
    bool ours(const asio::any_io_executor& ex) {
        return &asio::query(ex, asio::execution::context) == &context();
    }

    std::mutex mutex_;
    std::vector<std::weak_ptr<network_state>> networks_;
};

inline void connect(network_state& net, connect_request&& request, post_batch& done) {
    const bool dropped = net.dropped.count(request.to) != 0;
    if (dropped || net.partitioned(request.from, request.to)) {
        request.dropped = dropped;
        net.stalled.push_back(std::move(request));
        return;
    }
    const auto it = net.listeners.find({request.to, request.port});
    if (it == net.listeners.end()) {
        request.op->set(asio::error::connection_refused, memory_stream(request.ex));
        done.add(std::move(request.op));
        return;
    }
    acceptor_state& acceptor = *it->second;
    const std::uint16_t local_port = net.next_ephemeral;
    net.next_ephemeral = local_port == 65535 ? 49152 : static_cast<std::uint16_t>(local_port + 1);
    auto l = std::make_shared<link>(acceptor.net, end_state(request.ex, request.from, local_port),
                                    end_state(acceptor.ex, acceptor.host, acceptor.port),
                                    net.close_after.value_or(link::unlimited));
    net.close_after.reset();
    net.links.insert(l.get());
    request.op->set({}, memory_stream(request.ex, l, 0));
    done.add(std::move(request.op));
    if (acceptor.accepts.empty()) {
        acceptor.backlog.push_back(std::move(l));
        return;
    }
    acceptor.accepts.front()->set({}, memory_stream(acceptor.ex, std::move(l), 1));
    done.add(std::move(acceptor.accepts.front()));
    acceptor.accepts.pop_front();
}

// After a partition was lifted: releases held bytes and retries held connects.
inline void heal(network_state& net, post_batch& done) {
    for (link* l : net.links) {
        if (net.partitioned(l->ends[0].host, l->ends[1].host)) continue;
        for (int side = 0; side < 2; ++side) {
            for (chunk& c : l->ends[side].inbox) c.held = false;
            service(*l, side, done);
        }
    }
    std::list<connect_request> retry;
    for (auto it = net.stalled.begin(); it != net.stalled.end();) {
        const auto next = std::next(it);
        if (!it->dropped && !net.partitioned(it->from, it->to)) {
            retry.splice(retry.end(), net.stalled, it);
        }
        it = next;
    }
    for (connect_request& request : retry) connect(net, std::move(request), done);
}

template <class Pred>
void abort_stalled(network_state& net, Pred pred, post_batch& done) {
    for (auto it = net.stalled.begin(); it != net.stalled.end();) {
        if (!pred(*it)) {
            ++it;
            continue;
        }
        it->op->set(asio::error::operation_aborted, memory_stream(it->ex));
        done.add(std::move(it->op));
        it = net.stalled.erase(it);
    }
}

}  // namespace detail

class memory_acceptor {
public:
    memory_acceptor(memory_acceptor&& other) noexcept : ex_(other.ex_), state_(std::move(other.state_)) {}
    memory_acceptor& operator=(memory_acceptor&& other) noexcept {
        if (this != &other) {
            close();
            ex_ = other.ex_;
            state_ = std::move(other.state_);
        }
        return *this;
    }
    ~memory_acceptor() { close(); }

    template <class Token>
    auto async_accept(Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, memory_stream)>(
            [this](auto handler) {
                auto op = detail::make_op<std::error_code, memory_stream>(std::move(handler), ex_);
                detail::post_batch done;
                if (!state_) {
                    op->set(asio::error::bad_descriptor, memory_stream(ex_));
                    done.add(std::move(op));
                    return;
                }
                std::lock_guard<std::mutex> lock(state_->net->mu);
                if (state_->backlog.empty()) {
                    state_->accepts.push_back(std::move(op));
                    return;
                }
                op->set({}, memory_stream(ex_, std::move(state_->backlog.front()), 1));
                state_->backlog.pop_front();
                done.add(std::move(op));
            },
            token);
    }

    std::uint16_t port() const { return state_ ? state_->port : 0; }  // 0 once closed

    // Pending accepts complete with operation_aborted; connections not yet
    // accepted are reset, as TCP does.
    void close(std::error_code& ec) {
        ec = {};
        if (!state_) return;
        const std::unique_ptr<detail::acceptor_state> state = std::move(state_);
        std::list<std::shared_ptr<detail::link>> backlog;  // released after the lock
        detail::post_batch done;
        std::lock_guard<std::mutex> lock(state->net->mu);
        state->net->listeners.erase({state->host, state->port});
        for (auto& op : state->accepts) {
            op->set(asio::error::operation_aborted, memory_stream(ex_));
            done.add(std::move(op));
        }
        backlog.swap(state->backlog);
        for (auto& l : backlog) {
            l->reset = true;
            detail::close_end(*l, 1, done);
        }
    }
    void close() {
        std::error_code ignored;  // closing cannot fail
        close(ignored);
    }
    bool is_open() const { return state_ != nullptr; }

private:
    friend class memory_transport;

    memory_acceptor(asio::any_io_executor ex, std::unique_ptr<detail::acceptor_state> state)
        : ex_(std::move(ex)), state_(std::move(state)) {}

    asio::any_io_executor ex_;
    std::unique_ptr<detail::acceptor_state> state_;  // null when closed
};

// Registry of listeners plus the fault configuration, shared by many
// transports. Transports and streams may outlive it.
class memory_network {
public:
    memory_network() : memory_network(memory_faults{}) {}
    explicit memory_network(memory_faults faults) : state_(std::make_shared<detail::network_state>()) {
        state_->faults = faults;
    }
    memory_network(const memory_network&) = delete;
    memory_network& operator=(const memory_network&) = delete;
    // Held connects would otherwise never complete.
    ~memory_network() {
        detail::post_batch done;
        std::lock_guard<std::mutex> lock(state_->mu);
        detail::abort_stalled(
            *state_, [](const detail::connect_request&) { return true; }, done);
    }

    // Applies to bytes written from now on.
    void set_delay(std::chrono::milliseconds delay) {
        std::lock_guard<std::mutex> lock(state_->mu);
        state_->faults.delay = delay;
    }

    // Connects to host stall, like SYNs being dropped, until their transport or
    // this network is destroyed; they then complete with operation_aborted (if
    // the connecting io_context was stopped for good, the handler never runs).
    // Lifting the drop affects later connects only.
    void drop_connects_to(const std::string& host, bool drop) {
        std::lock_guard<std::mutex> lock(state_->mu);
        if (drop)
            state_->dropped.insert(host);
        else
            state_->dropped.erase(host);
    }

    // The next connection established is aborted once `bytes` were written on
    // it in total (both directions). The write that reaches the limit is cut
    // short; each end can still read what was written before it, then sees
    // connection_reset.
    void close_after(std::size_t bytes) {
        std::lock_guard<std::mutex> lock(state_->mu);
        state_->close_after = bytes;
    }

    // While on, bytes written between the hosts are held and connects between
    // them stall; healing delivers the held bytes and resumes the connects.
    void partition(const std::string& host_a, const std::string& host_b, bool on) {
        detail::post_batch done;
        std::lock_guard<std::mutex> lock(state_->mu);
        const auto key = std::minmax(host_a, host_b);
        if (on) {
            state_->partitions.insert(key);
            return;
        }
        state_->partitions.erase(key);
        detail::heal(*state_, done);
    }

    // Connections of which at least one end is still open.
    std::size_t connection_count() const {
        std::lock_guard<std::mutex> lock(state_->mu);
        return state_->links.size();
    }

private:
    friend class memory_transport;
    std::shared_ptr<detail::network_state> state_;
};

class memory_transport {
public:
    using stream_type = memory_stream;
    using acceptor_type = memory_acceptor;
    using executor_type = asio::any_io_executor;

    memory_transport(executor_type ex, memory_network& net, std::string host = "")
        : ex_(std::move(ex)), net_(net.state_), host_(std::move(host)) {
        asio::use_service<detail::memory_service>(asio::query(ex_, asio::execution::context)).track(net_);
        std::lock_guard<std::mutex> lock(net_->mu);
        id_ = net_->next_transport++;
        if (host_.empty()) host_ = "mem" + std::to_string(net_->next_host++);
    }
    memory_transport(memory_transport&&) = default;
    memory_transport& operator=(memory_transport&& other) {
        if (this != &other) {
            abort_connects();
            ex_ = std::move(other.ex_);
            net_ = std::move(other.net_);
            host_ = std::move(other.host_);
            id_ = other.id_;
        }
        return *this;
    }
    ~memory_transport() { abort_connects(); }

    const std::string& host() const { return host_; }
    executor_type get_executor() const { return ex_; }

    // Port 0 picks the lowest free port from 10000 up, which keeps runs
    // deterministic.
    acceptor_type listen(const std::string& /*bind_address*/, std::uint16_t port, std::error_code& ec) {
        std::lock_guard<std::mutex> lock(net_->mu);
        auto& listeners = net_->listeners;
        for (std::uint32_t p = 10000; port == 0 && p <= 65535; ++p) {
            const auto candidate = static_cast<std::uint16_t>(p);
            if (listeners.count({host_, candidate}) == 0) port = candidate;
        }
        if (port == 0 || listeners.count({host_, port}) != 0) {
            ec = asio::error::address_in_use;
            return acceptor_type(ex_, nullptr);
        }
        auto state = std::make_unique<detail::acceptor_state>(net_, ex_, host_, port);
        listeners.emplace(std::make_pair(host_, port), state.get());
        ec = {};
        return acceptor_type(ex_, std::move(state));
    }

    template <class Token>
    auto async_connect(const std::string& host, std::uint16_t port, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, memory_stream)>(
            [this](auto handler, std::string to, std::uint16_t to_port) {
                auto op = detail::make_op<std::error_code, memory_stream>(std::move(handler), ex_);
                detail::connect_request request{std::move(op), id_, ex_, host_, std::move(to), to_port};
                detail::post_batch done;
                std::lock_guard<std::mutex> lock(net_->mu);
                detail::connect(*net_, std::move(request), done);
            },
            token, host, port);
    }

    // The static helpers the node uses on any transport's streams.
    static std::string remote_address(const stream_type& stream) { return stream.remote_address(); }
    // Half-close, so that bytes already written reach the peer before its EOF.
    static void shutdown_send(stream_type& stream) {
        std::error_code ignored;  // fails only on a closed stream, where there is nothing to flush
        stream.shutdown_send(ignored);
    }

private:
    // Connects this transport left stalled would otherwise never complete.
    void abort_connects() {
        if (!net_) return;  // moved from
        detail::post_batch done;
        std::lock_guard<std::mutex> lock(net_->mu);
        detail::abort_stalled(
            *net_, [this](const detail::connect_request& r) { return r.transport == id_; }, done);
    }

    executor_type ex_;
    std::shared_ptr<detail::network_state> net_;
    std::string host_;
    std::uint64_t id_ = 0;
};

}  // namespace librats

#endif
