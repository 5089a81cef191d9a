#ifndef LIBRATS_DETAIL_PEER_SESSION_HPP
#define LIBRATS_DETAIL_PEER_SESSION_HPP

// One connection: preamble and crypto handshake, then records in both directions. Everything
// but enqueue() runs on the node's strand (the stream's executor); enqueue() may be called from
// any thread and only touches the send queue under its mutex.

#include <librats/concepts/crypto.hpp>
#include <librats/config.hpp>
#include <librats/detail/bound_handler.hpp>
#include <librats/detail/buffer_pool.hpp>
#include <librats/detail/endian.hpp>
#include <librats/detail/hex.hpp>
#include <librats/detail/unique_function.hpp>
#include <librats/error.hpp>
#include <librats/log.hpp>
#include <librats/peer_info.hpp>
#include <librats/wire/frame.hpp>
#include <librats/wire/handshake.hpp>

#include <asio.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace librats::detail {

using clock = std::chrono::steady_clock;
using send_completion = unique_function<void(std::error_code)>;

// The pending outcome of a dial: completed once, by timeout, failure or handshake.
struct connect_attempt {
    unique_function<void(std::error_code, std::string)> handler;
    std::string expected_peer_id;  // if not empty, any other peer fails with authentication_failed

    void complete(std::error_code ec, std::string peer_id) {
        if (!handler) return;
        auto h = std::move(handler);
        handler = nullptr;
        h(ec, std::move(peer_id));
    }
};

// Counters shared by a node's sessions; relaxed atomics, read by statistics().
struct node_counters {
    std::atomic<std::uint64_t> bytes_sent{0}, bytes_received{0}, messages_sent{0}, messages_received{0},
        connections_accepted{0}, connections_initiated{0}, handshakes_failed{0}, peers_dropped{0}, sends_rejected{0},
        writes{0}, rekeys_sent{0}, rekeys_received{0};
};

template <class Transport, class Crypto>
class peer_session;

// What a session needs from its node.
template <class Transport, class Crypto>
class session_owner {
public:
    using session_ptr = std::shared_ptr<peer_session<Transport, Crypto>>;

    virtual ~session_owner() = default;
    // The handshake finished and the peer is known: accept (empty) or refuse it.
    virtual std::error_code on_handshake_complete(const session_ptr& session) = 0;
    // A binary, text or JSON frame; an error drops the peer.
    virtual std::error_code on_frame(const session_ptr& session, wire::frame_type type, std::string_view payload) = 0;
    // The session began closing (once); ec says why.
    virtual void on_closed(const session_ptr& session, std::error_code ec) = 0;
    // The send queue drained below half its limit after a send was refused.
    virtual void on_writable(const session_ptr& session) = 0;

    virtual const Crypto& crypto() const = 0;
    virtual const node_options& options() const = 0;
    virtual const logger& log() const = 0;
    virtual node_counters& counters() = 0;
    virtual buffer_pool& buffers() = 0;
};

template <class Transport, class Crypto>
class peer_session : public std::enable_shared_from_this<peer_session<Transport, Crypto>> {
public:
    using stream_type = typename Transport::stream_type;
    using owner_type = session_owner<Transport, Crypto>;
    using cipher_type = typename Crypto::cipher;
    using handshake_type = typename Crypto::handshake;

    enum class state { handshaking, open, closing, closed };

    peer_session(stream_type stream, std::shared_ptr<owner_type> owner, connection_id id, bool outbound)
        : stream_(std::move(stream)),
          owner_(std::move(owner)),
          parser_(owner_->options().max_message_size),
          linger_timer_(stream_.get_executor()) {
        info_.connection = id;
        info_.outbound = outbound;
        info_.encrypted = owner_->crypto().encrypted();
        info_.address = Transport::remote_address(stream_);
        started_ = clock::now();
    }

    const peer_info& info() const noexcept { return info_; }
    state current_state() const noexcept { return state_; }
    bool is_open() const noexcept { return state_ == state::open; }
    const wire::hello& remote_hello() const noexcept { return remote_hello_; }
    const wire::hello& local_hello() const noexcept { return local_hello_; }
    const std::string& initiator_id() const noexcept { return info_.outbound ? local_hello_.peer_id : info_.peer_id; }
    std::uint64_t initiator_nonce() const noexcept { return info_.outbound ? local_hello_.nonce : remote_hello_.nonce; }

    void set_connect_attempt(std::shared_ptr<connect_attempt> attempt) { attempt_ = std::move(attempt); }
    const std::shared_ptr<connect_attempt>& attempt() const noexcept { return attempt_; }

    // Starts the handshake. A non-zero refusal (an errc) is announced in our preamble instead.
    void start(wire::hello local_hello, std::uint8_t refusal = 0) {
        local_hello_ = std::move(local_hello);
        const auto preamble = wire::make_preamble(owner_->crypto().wire_id(), refusal);
        hs_out_.assign(reinterpret_cast<const char*>(preamble.data()), preamble.size());
        if (refusal != 0) {
            refusal_ = static_cast<errc>(refusal);
            return write_handshake_bytes(hs_step::refused);
        }
        hs_.emplace(owner_->crypto(), info_.outbound, wire::handshake_prologue(owner_->crypto().wire_id()),
                    wire::encode_hello(local_hello_));
        if (info_.outbound && !append_handshake_message()) return;
        write_handshake_bytes(hs_step::preamble);
    }

    // Queues a frame of `size` bytes written by `write(std::string&)`. Control frames (pongs,
    // goodbyes) ignore the limit. On refusal the completion (if any) still runs, with the error.
    template <class Writer>
    std::error_code enqueue(std::size_t size, Writer&& write, send_completion done, bool control = false) {
        std::error_code ec;
        bool kick = false;
        {
            std::lock_guard<std::mutex> lock(send_mutex_);
            if (send_closed_) {
                ec = send_closed_reason_;
            } else if (!control && queued_bytes_ > 0 && queued_bytes_ + size > owner_->options().send_queue_limit) {
                blocked_ = true;
                ec = errc::send_queue_full;
            } else {
                write(pending_);
                queued_bytes_ += size;
                if (done) pending_callbacks_.push_back({pending_.size(), std::move(done)});
                kick = !write_scheduled_ && writes_enabled_;
                if (kick) write_scheduled_ = true;
            }
        }
        if (ec) {
            if (done) done(ec);
            return ec;
        }
        if (kick && dispatching() == this)
            flush_after_dispatch_ = true;
        else if (kick)
            post_start_write();
        return {};
    }

    // Moves what was queued here and not yet written to `successor`: a duplicate connection
    // is being replaced and no queued message may be lost.
    void hand_over_queue(peer_session& successor) {
        std::string bytes;
        std::vector<queued_completion> callbacks;
        {
            std::lock_guard<std::mutex> lock(send_mutex_);
            bytes.swap(pending_);
            callbacks.swap(pending_callbacks_);
            queued_bytes_ -= bytes.size();
        }
        if (bytes.empty() && callbacks.empty()) return;
        std::lock_guard<std::mutex> lock(successor.send_mutex_);
        for (auto& c : successor.pending_callbacks_) c.end += bytes.size();
        successor.pending_.insert(0, bytes);
        successor.queued_bytes_ += bytes.size();
        successor.pending_callbacks_.insert(successor.pending_callbacks_.begin(),
                                            std::make_move_iterator(callbacks.begin()),
                                            std::make_move_iterator(callbacks.end()));
    }

    // Periodic checks, from the node's timer.
    void on_tick(clock::time_point now) {
        const auto& opt = owner_->options();
        if (state_ == state::handshaking) {
            if (now - started_ > opt.handshake_timeout) close(errc::handshake_timeout);
            return;
        }
        if (state_ != state::open) return;
        release_idle_buffers();
        if (record_started_ && now - *record_started_ > opt.frame_timeout) return close(errc::frame_timeout);
        if (now - last_received_ > opt.idle_timeout) return close(errc::idle_timeout);
        if (now - last_sent_ >= opt.keepalive_interval) {
            last_sent_ = now;  // one ping per interval even if the write is still pending
            send_control(wire::frame_type::ping, std::string_view());
        }
    }

    enum class close_mode {
        abort,    // close the stream now
        linger,   // half-close, then read until the peer closes (or close_linger passes)
        goodbye,  // flush a goodbye frame naming the reason, then linger
    };

    // Closes the connection (once): queued sends fail with ec, the owner hears of it at once.
    // Lingering keeps our close from resetting the connection before the peer read our last bytes.
    void close(std::error_code ec, close_mode mode = close_mode::goodbye) {
        if (state_ == state::closing || state_ == state::closed) {
            delivering_while_closing_ = false;  // an error in what the peer still sent, or its goodbye
            return;
        }
        if (mode == close_mode::goodbye && state_ != state::open) mode = close_mode::abort;
        state_ = state::closing;
        close_reason_ = ec;
        // The losing one of two connections to a peer: what the peer sent on it before it learned
        // is still delivered, until its goodbye or close.
        delivering_while_closing_ = ec == errc::duplicate_connection;
        {
            std::lock_guard<std::mutex> lock(send_mutex_);
            send_closed_ = true;
            send_closed_reason_ = ec;
        }
        // A goodbye goes out after what is already queued; other modes drop the queue now.
        if (mode != close_mode::goodbye) fail_pending(ec);
        auto self = this->shared_from_this();
        owner_->on_closed(self, ec);
        if (mode == close_mode::abort) return finish_close();
        linger_timer_.expires_after(owner_->options().close_linger);
        linger_timer_.async_wait(
            bound_handler<peer_session, std::error_code>(self, [](peer_session& s, std::error_code timer_ec) {
                if (!timer_ec) s.finish_close();
            }));
        if (!read_pending_) wait_readable();
        if (mode == close_mode::linger) return Transport::shutdown_send(stream_);
        const bool local = ec == errc::closed_by_request || ec == errc::shutting_down;
        const auto code = local || ec.category() != error_category() ? 0 : ec.value();
        const auto goodbye = wire::encode_goodbye(static_cast<std::uint16_t>(code), ec.message());
        std::lock_guard<std::mutex> lock(send_mutex_);
        wire::append_frame(pending_, wire::frame_type::goodbye, goodbye);
        queued_bytes_ += wire::frame_header_size + goodbye.size();
        flush_then_shutdown_ = true;
        if (!write_scheduled_) {
            write_scheduled_ = true;
            post_start_write();
        }
    }

    std::error_code close_reason() const noexcept { return close_reason_; }
    // The peer said goodbye: the close reason is its own.
    bool closed_by_peer() const noexcept { return closed_by_peer_; }

    // Replaces our send key now (encrypted connections; otherwise nothing happens).
    void request_rekey() {
        if (state_ != state::open || cipher_->tag_size() == 0 || !concepts::supports_rekey_v<cipher_type>) return;
        rekey_requested_ = true;
        bool kick = false;
        {
            std::lock_guard<std::mutex> lock(send_mutex_);
            kick = !write_scheduled_ && writes_enabled_;
            if (kick) write_scheduled_ = true;
        }
        if (kick) start_write();
    }

private:
    bool append_handshake_message() {
        std::string message;
        if (auto ec = hs_->write_message(message)) {
            close(ec, close_mode::abort);
            return false;
        }
        if (message.size() > wire::max_handshake_message_size) {
            close(errc::malformed_frame, close_mode::abort);
            return false;
        }
        unsigned char length[2];
        put_u16(length, static_cast<std::uint16_t>(message.size()));
        hs_out_.append(reinterpret_cast<const char*>(length), 2);
        hs_out_.append(message);
        return true;
    }

    // The handshake's I/O: one write and one read completion handler, each switching on what was
    // written or read, so the set-up instantiates asio's composed operations only once.
    enum class hs_step { refused, preamble, length, message };

    using io_handler = bound_handler<peer_session, std::error_code, std::size_t>;

    void write_handshake_bytes(hs_step then) {
        hs_write_then_ = then;
        const auto on_written = [](peer_session& s, std::error_code ec, std::size_t n) {
            s.owner_->counters().bytes_sent += n;
            s.hs_out_.clear();
            if (s.state_ != state::handshaking) return;
            if (ec) return s.close(ec, close_mode::abort);
            if (s.hs_write_then_ == hs_step::refused) return s.close(make_error_code(s.refusal_), close_mode::linger);
            if (s.hs_write_then_ == hs_step::preamble) return s.read_handshake_bytes(hs_step::preamble);
            s.handshake_step();
        };
        asio::async_write(stream_, asio::buffer(hs_out_), io_handler(this->shared_from_this(), on_written));
    }

    void read_handshake_bytes(hs_step step, std::size_t size = 0) {
        hs_read_step_ = step;
        hs_in_.resize(step == hs_step::preamble ? wire::preamble_size : step == hs_step::length ? 2 : size);
        const auto on_read = [](peer_session& s, std::error_code ec, std::size_t n) {
            s.owner_->counters().bytes_received += n;
            if (s.state_ != state::handshaking) return;
            if (ec) return s.close(ec == asio::error::eof ? make_error_code(errc::peer_closed) : ec, close_mode::abort);
            s.on_handshake_bytes(s.hs_read_step_);
        };
        asio::async_read(stream_, asio::buffer(hs_in_), io_handler(this->shared_from_this(), on_read));
    }

    void on_handshake_bytes(hs_step step) {
        const auto* bytes = reinterpret_cast<const unsigned char*>(hs_in_.data());
        switch (step) {
        case hs_step::preamble: {
            wire::preamble remote;
            std::memcpy(remote.data(), bytes, remote.size());
            wire::preamble_info info;
            if (auto ec = wire::parse_preamble(remote, info)) return close(ec, close_mode::abort);
            if (info.refusal != 0) return close(make_error_code(static_cast<errc>(info.refusal)), close_mode::abort);
            if (info.crypto_id != owner_->crypto().wire_id()) return close(errc::encryption_mismatch, close_mode::abort);
            return handshake_step();
        }
        case hs_step::length: {
            const auto length = get_u16(bytes);
            if (length == 0) return close(errc::malformed_frame, close_mode::abort);
            return read_handshake_bytes(hs_step::message, length);
        }
        case hs_step::message:
            if (auto ec = hs_->read_message(hs_in_)) return close(ec, close_mode::abort);
            return handshake_step();
        case hs_step::refused: return;
        }
    }

    void handshake_step() {
        switch (hs_->next()) {
        case handshake_type::action::write:
            // A dialer that knows whom it expects stops before it reveals its own identity.
            if (!expected_peer_proven()) return close(errc::authentication_failed, close_mode::abort);
            if (append_handshake_message()) write_handshake_bytes(hs_step::message);
            return;
        case handshake_type::action::read: return read_handshake_bytes(hs_step::length);
        case handshake_type::action::done: return finish_handshake();
        }
    }

    void finish_handshake() {
        if (auto ec = wire::parse_hello(hs_->remote_payload(), remote_hello_)) return close(ec, close_mode::abort);
        const auto authenticated = hs_->authenticated_peer_id();
        if (!authenticated.empty() && authenticated != remote_hello_.peer_id) return close(errc::peer_id_mismatch, close_mode::abort);
        if (!expected_peer_proven(remote_hello_.peer_id)) return close(errc::authentication_failed, close_mode::abort);
        if constexpr (concepts::has_channel_binding_v<handshake_type>) {
            info_.public_key = to_hex(hs_->remote_static_key());
            info_.handshake_hash = to_hex(hs_->handshake_hash());
        }
        info_.peer_id = remote_hello_.peer_id;
        info_.listen_port = remote_hello_.listen_port;
        info_.agent = remote_hello_.agent;
        cipher_.emplace(hs_->split());
        hs_.reset();
        std::string().swap(hs_in_);
        std::string().swap(hs_out_);
        const auto now = clock::now();
        info_.connected_at = now;
        last_received_ = now;
        last_sent_ = now;
        state_ = state::open;
        if (auto ec = owner_->on_handshake_complete(this->shared_from_this())) return close(ec);
        if (state_ != state::open) return;
        bool kick = false;
        {
            std::lock_guard<std::mutex> lock(send_mutex_);
            writes_enabled_ = true;
            kick = !pending_.empty() && !write_scheduled_;
            if (kick) write_scheduled_ = true;
        }
        if (kick) start_write();
        wait_readable();
    }

    // False if this dial expected another peer than `peer_id` (by default, the one the
    // handshake has proven so far; while nothing is proven there is no mismatch).
    bool expected_peer_proven(std::string peer_id = {}) const {
        if (!attempt_ || attempt_->expected_peer_id.empty()) return true;
        if (peer_id.empty() && hs_) peer_id = hs_->authenticated_peer_id();
        if (peer_id.empty() || peer_id == attempt_->expected_peer_id) return true;
        owner_->log().warn("peer at ", info_.address, " is ", peer_id, ", not the expected ", attempt_->expected_peer_id);
        return false;
    }

    void send_control(wire::frame_type type, std::string_view payload) {
        enqueue(
            wire::frame_header_size + payload.size(),
            [&](std::string& out) { wire::append_frame(out, type, payload); }, nullptr, true);
    }

    // ---- reading: wait for readiness, then drain with non-blocking reads into a pooled buffer
    void wait_readable() {
        read_pending_ = true;
        stream_.async_wait(asio::socket_base::wait_read,
                           bound_handler<peer_session, std::error_code>(
                               this->shared_from_this(), [](peer_session& s, std::error_code ec) { s.on_readable(ec); }));
    }

    void on_readable(std::error_code ec) {
        read_pending_ = false;
        if (state_ == state::closed) return;
        if (ec) return read_failed(ec);
        if (!rbuf_) rbuf_ = owner_->buffers().acquire();
        // Bounded so one busy peer cannot starve the others sharing the strand.
        for (int round = 0; round < 16; ++round) {
            const auto room = buffer_pool::buffer_size - rend_;
            const auto n = stream_.read_some(asio::buffer(rbuf_.get() + rend_, room), ec);
            if (ec == asio::error::would_block || ec == asio::error::try_again) {
                ec.clear();
                break;
            }
            if (ec) return read_failed(ec);
            owner_->counters().bytes_received += n;
            rend_ += n;
            if (receiving()) dispatch_records();
            if (state_ == state::closed) return;
            if (!receiving()) rbegin_ = rend_ = 0;  // draining until the peer's close
            // A short read emptied the socket: the next read would only say would_block.
            if (n < room) break;
        }
        if (rbegin_ == rend_) {
            rbegin_ = rend_ = 0;
            owner_->buffers().release(std::move(rbuf_));
        }
        wait_readable();
    }

    // Records are opened and their frames handled.
    bool receiving() const noexcept {
        return state_ == state::open || (state_ == state::closing && delivering_while_closing_);
    }

    void read_failed(std::error_code ec) {
        if (state_ == state::closing) return finish_close();
        if (ec == asio::error::eof) ec = errc::peer_closed;
        close(ec, close_mode::abort);
    }

    // Replies that frame handlers queue on this session are written once the batch of records
    // is handled, in the same pass of the strand: no post, and replies to a batch coalesce.
    void dispatch_records() {
        dispatching() = this;
        process_records();
        dispatching() = nullptr;
        if (flush_after_dispatch_) {
            flush_after_dispatch_ = false;
            start_write();
        }
    }

    static peer_session*& dispatching() {
        thread_local peer_session* current = nullptr;
        return current;
    }

    // Opens and parses every whole record in the buffer. False once the session closed.
    bool process_records() {
        constexpr std::size_t header = 2;
        while (rend_ - rbegin_ >= header) {
            unsigned char* record = rbuf_.get() + rbegin_;
            const std::size_t length = get_u16(record);
            if (length <= cipher_->tag_size()) {
                close(errc::malformed_frame);
                return false;
            }
            if (rend_ - rbegin_ < header + length) break;
            if (auto ec = cipher_->open(record + header, length)) {
                close(ec);
                return false;
            }
            last_received_ = clock::now();
            auto self = this->shared_from_this();
            const auto ec = parser_.feed(record + header, length - cipher_->tag_size(),
                                         [this, &self](wire::frame_type type, std::string_view payload) {
                                             return handle_frame(self, type, payload);
                                         });
            if (!receiving()) return false;
            if (ec) {
                close(ec);
                return false;
            }
            if (rekey_receive_pending_) {
                if (auto rekey_ec = receive_rekey()) {
                    close(rekey_ec);
                    return false;
                }
            }
            rbegin_ += header + length;
        }
        if (rbegin_ == rend_) {
            rbegin_ = rend_ = 0;
            record_started_.reset();
        } else {
            if (!record_started_) record_started_ = clock::now();
            if (buffer_pool::buffer_size - rend_ < header + 65535) {
                std::memmove(rbuf_.get(), rbuf_.get() + rbegin_, rend_ - rbegin_);
                rend_ -= rbegin_;
                rbegin_ = 0;
            }
        }
        return true;
    }

    std::error_code handle_frame(const std::shared_ptr<peer_session>& self, wire::frame_type type,
                                 std::string_view payload) {
        if (rekey_receive_pending_) return errc::malformed_frame;
        switch (type) {
        case wire::frame_type::ping: send_control(wire::frame_type::pong, payload); return {};
        case wire::frame_type::pong: return {};
        case wire::frame_type::rekey:
            // Only an encrypted peer rekeys, and nothing may follow in the record (the key changes).
            if (!payload.empty() || cipher_->tag_size() == 0) return errc::malformed_frame;
            rekey_receive_pending_ = true;
            return {};
        case wire::frame_type::goodbye: {
            wire::goodbye_payload goodbye;
            if (auto ec = wire::parse_goodbye(payload, goodbye)) return ec;
            owner_->log().info("peer ", info_.peer_id, " (", info_.address, ") said goodbye: ", goodbye.reason);
            const bool known = goodbye.code > 0 && goodbye.code <= errc_last;
            closed_by_peer_ = true;
            // A peer dropping a duplicate connection still reads it: flush what is queued on it.
            const auto reason = known ? make_error_code(static_cast<errc>(goodbye.code)) : make_error_code(errc::peer_closed);
            close(reason, reason == errc::duplicate_connection ? close_mode::goodbye : close_mode::linger);
            return {};
        }
        default:
            owner_->counters().messages_received++;
            return owner_->on_frame(self, type, payload);
        }
    }

    // ---- writing: swap the queue out, cut it into records, one gathered write. The write is
    // tried at once on the non-blocking stream; only what does not fit waits for async_write.
    void post_start_write() {
        asio::post(stream_.get_executor(),
                   bound_handler<peer_session>(this->shared_from_this(), [](peer_session& s) { s.start_write(); }));
    }

    void start_write() {
        for (;;) {
            std::size_t batch_size = 0;
            {
                std::lock_guard<std::mutex> lock(send_mutex_);
                if ((pending_.empty() && !rekey_requested_) || state_ == state::closed) {
                    write_scheduled_ = false;
                    return;
                }
                writing_.swap(pending_);
                writing_callbacks_.swap(pending_callbacks_);
                // A rekey frame ends the batch, so it is the last frame of the last record.
                rekey_batch_ = rekey_due();
                if (rekey_batch_) {
                    wire::append_frame(writing_, wire::frame_type::rekey, {});
                    queued_bytes_ += wire::frame_header_size;
                }
                batch_size = writing_.size();
            }
            if (auto ec = build_records(batch_size)) {
                finish_write(ec, 0, batch_size);
                return;
            }
            owner_->counters().writes++;
            std::error_code ec;
            const std::size_t total = asio::buffer_size(gather_);
            // asio writes at most 64 buffers per call; longer lists go the async way at once.
            const std::size_t first = gather_.size() <= 64 ? stream_.write_some(gather_, ec) : 0;
            if (ec == asio::error::would_block || ec == asio::error::try_again) ec.clear();
            if (ec || first == total) {
                if (!finish_write(ec, first, batch_size)) return;
                continue;
            }
            consume_gathered(first);
            write_batch_size_ = batch_size;
            write_direct_bytes_ = first;
            const auto on_written = [](peer_session& s, std::error_code ec, std::size_t n) {
                if (s.finish_write(ec, s.write_direct_bytes_ + n, s.write_batch_size_)) s.start_write();
            };
            asio::async_write(stream_, gather_, io_handler(this->shared_from_this(), on_written));
            return;
        }
    }

    // Cuts the batch into records and seals each in place; gather_ lists header, body and tag
    // of every record, so the batch reaches the socket without being copied.
    std::error_code build_records(std::size_t batch_size) {
        const std::size_t tag_size = cipher_->tag_size();
        const std::size_t max_plain = 65535 - tag_size;
        const std::size_t records = (batch_size + max_plain - 1) / max_plain;
        gather_.clear();
        record_headers_.resize(records);
        record_tags_.resize(records * tag_size);
        records_since_rekey_ += records;
        bytes_since_rekey_ += batch_size;
        auto* text = reinterpret_cast<unsigned char*>(writing_.data());
        for (std::size_t i = 0; i < records; ++i) {
            const auto offset = i * max_plain;
            const auto size = std::min(max_plain, batch_size - offset);
            put_u16(record_headers_[i].data(), static_cast<std::uint16_t>(size + tag_size));
            gather_.push_back(asio::buffer(record_headers_[i]));
            gather_.push_back(asio::buffer(text + offset, size));
            if constexpr (!cipher_type::is_identity) {
                if (tag_size == 0) continue;
                auto* tag = record_tags_.data() + i * tag_size;
                if (auto ec = cipher_->seal(text + offset, size, tag)) return ec;
                gather_.push_back(asio::buffer(tag, tag_size));
            }
        }
        return rekey_batch_ ? send_rekey() : std::error_code();
    }

    // ---- rekey (Noise §11.3): the sender switches after the record ending in a rekey frame, the
    // receiver after opening that record, so both sides change keys at the same point.
    bool rekey_due() const noexcept {
        if constexpr (!concepts::supports_rekey_v<cipher_type>) {
            return false;
        } else {
            if (cipher_->tag_size() == 0) return false;
            const auto& o = owner_->options();
            return rekey_requested_ || (o.rekey_after_records != 0 && records_since_rekey_ >= o.rekey_after_records) ||
                   (o.rekey_after_bytes != 0 && bytes_since_rekey_ >= o.rekey_after_bytes);
        }
    }

    std::error_code send_rekey() {
        if constexpr (concepts::supports_rekey_v<cipher_type>) {
            if (auto ec = cipher_->rekey_send()) return ec;
            rekey_requested_ = false;
            records_since_rekey_ = bytes_since_rekey_ = 0;
            owner_->counters().rekeys_sent++;
        }
        return {};
    }

    std::error_code receive_rekey() {
        rekey_receive_pending_ = false;
        if constexpr (concepts::supports_rekey_v<cipher_type>) {
            if (parser_.partial()) return errc::malformed_frame;
            if (auto ec = cipher_->rekey_receive()) return ec;
            owner_->counters().rekeys_received++;
        }
        return {};
    }

    // Drops the first `bytes` of the gathered buffers (a partial direct write).
    void consume_gathered(std::size_t bytes) {
        auto it = gather_.begin();
        while (bytes > 0 && bytes >= it->size()) {
            bytes -= it->size();
            ++it;
        }
        if (bytes > 0) *it += bytes;
        gather_.erase(gather_.begin(), it);
    }

    // Completes a written batch. True if more is queued and the writer should go on.
    bool finish_write(std::error_code ec, std::size_t written, std::size_t batch_size) {
        owner_->counters().bytes_sent += written;
        // A message counts as sent once its last record is wholly handed to the socket, even if
        // a later part of the same write failed.
        auto callbacks = std::move(writing_callbacks_);
        writing_callbacks_.clear();
        const std::size_t tag_size = cipher_ ? cipher_->tag_size() : 0;
        const std::size_t max_plain = 65535 - tag_size;
        for (auto& c : callbacks) {
            const auto records = (c.end + max_plain - 1) / max_plain;
            const auto wire_end = std::min(records * max_plain, batch_size) + records * (2 + tag_size);
            c.done(ec && written < wire_end ? ec : std::error_code());
        }
        writing_.clear();  // keeps its capacity while the connection is busy; on_tick releases it
        if (ec) {
            {
                std::lock_guard<std::mutex> lock(send_mutex_);
                write_scheduled_ = false;
                queued_bytes_ -= batch_size;
            }
            if (state_ == state::closing)
                finish_close();
            else
                close(ec, close_mode::abort);
            return false;
        }
        last_sent_ = clock::now();
        bool more = false;
        bool notify = false;
        bool shutdown = false;
        {
            std::lock_guard<std::mutex> lock(send_mutex_);
            queued_bytes_ -= batch_size;
            notify = blocked_ && queued_bytes_ <= owner_->options().send_queue_limit / 2;
            if (notify) blocked_ = false;
            // A rekey requested while this batch was in flight still goes out, alone if need be.
            more = !pending_.empty() || (rekey_requested_ && state_ == state::open);
            if (!more) {
                write_scheduled_ = false;
                shutdown = flush_then_shutdown_;
            }
        }
        if (notify && state_ == state::open) owner_->on_writable(this->shared_from_this());
        if (shutdown) Transport::shutdown_send(stream_);
        return more;
    }

    // Buffers keep their capacity while data flows (no allocation or page faults per message);
    // at a tick, the parser's between frames and an empty send queue give theirs back.
    void release_idle_buffers() {
        parser_.release_idle();
        std::lock_guard<std::mutex> lock(send_mutex_);
        if (write_scheduled_ || !pending_.empty()) return;
        std::string().swap(pending_);
        std::string().swap(writing_);
    }

    void fail_pending(std::error_code ec) {
        std::vector<queued_completion> failed;
        {
            std::lock_guard<std::mutex> lock(send_mutex_);
            failed.swap(pending_callbacks_);
            queued_bytes_ -= pending_.size();
            pending_.clear();
        }
        for (auto& c : failed) c.done(ec);
    }

    void finish_close() {
        if (state_ == state::closed) return;
        state_ = state::closed;
        fail_pending(close_reason_);
        std::error_code ignored;
        linger_timer_.cancel();
        stream_.close(ignored);
        rbegin_ = rend_ = 0;
        owner_->buffers().release(std::move(rbuf_));
    }

    stream_type stream_;
    std::shared_ptr<owner_type> owner_;
    peer_info info_;
    wire::hello local_hello_;
    wire::hello remote_hello_;
    state state_ = state::handshaking;
    std::error_code close_reason_;
    clock::time_point started_;
    std::shared_ptr<connect_attempt> attempt_;

    std::optional<handshake_type> hs_;
    errc refusal_ = errc::max_peers_reached;  // what a refusing preamble announced
    std::string hs_in_;
    std::string hs_out_;
    std::optional<cipher_type> cipher_;

    std::unique_ptr<unsigned char[]> rbuf_;
    std::size_t rbegin_ = 0;
    std::size_t rend_ = 0;
    wire::frame_parser parser_;
    clock::time_point last_received_{};
    clock::time_point last_sent_{};
    std::optional<clock::time_point> record_started_;
    bool read_pending_ = false;
    bool flush_after_dispatch_ = false;
    bool closed_by_peer_ = false;
    bool delivering_while_closing_ = false;  // see close()
    hs_step hs_write_then_ = hs_step::preamble;
    hs_step hs_read_step_ = hs_step::preamble;
    std::size_t write_batch_size_ = 0;    // of the batch async_write is finishing
    bool rekey_batch_ = false;             // the batch being sealed ends in a rekey frame
    bool rekey_requested_ = false;
    bool rekey_receive_pending_ = false;   // a rekey frame was read; the key changes after its record
    std::uint64_t records_since_rekey_ = 0;
    std::uint64_t bytes_since_rekey_ = 0;
    std::size_t write_direct_bytes_ = 0;  // of that batch, written before async_write began

    std::mutex send_mutex_;
    std::string pending_;
    // Completions of queued messages, with the offset in the queue where each message ends.
    struct queued_completion {
        std::size_t end;
        send_completion done;
    };
    std::vector<queued_completion> pending_callbacks_;
    std::size_t queued_bytes_ = 0;
    bool write_scheduled_ = false;
    bool writes_enabled_ = false;
    bool blocked_ = false;
    bool send_closed_ = false;
    bool flush_then_shutdown_ = false;
    std::error_code send_closed_reason_;

    std::string writing_;
    std::vector<queued_completion> writing_callbacks_;
    std::vector<std::array<unsigned char, 2>> record_headers_;
    std::vector<unsigned char> record_tags_;
    std::vector<asio::const_buffer> gather_;
    asio::steady_timer linger_timer_;
};

}  // namespace librats::detail

#endif
