#ifndef LIBRATS_TESTS_TAMPER_PROXY_HPP
#define LIBRATS_TESTS_TAMPER_PROXY_HPP

// A man in the middle for tests: a TCP relay on 127.0.0.1 between a dialer and a node, on its
// own io_thread. It cuts each direction's byte stream into the units of docs/PROTOCOL.md (unit 0:
// the 8-byte preamble; then each [u16 big-endian length][body]: handshake messages, then records)
// and can tamper with the k-th unit of a direction: flip bits of its body, replay it, drop it, or
// truncate it and close the connection. It records every byte it reads, for "what is visible on
// the wire" assertions, and can pause a direction (stop reading it) to hold back a sender.
//
// Rules apply to every connection the proxy relays; tests use one proxy per connection.

#include "support.hpp"

#include <asio.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace librats::test {

class tamper_proxy {
public:
    enum class direction : int {
        to_node = 0,    // from the dialer (the initiator) to the node (the responder)
        to_dialer = 1,  // back
    };

    enum class action {
        flip_bits,           // body[offset] ^= mask (unit 0: the preamble's bytes)
        duplicate,           // forward the unit twice (a replay)
        drop,                // forward nothing of it
        truncate_and_close,  // forward its length and the first `offset` bytes of its body, then close
    };

    struct rule {
        direction dir;
        std::size_t unit;  // 0: the preamble; 1, 2, ...: the length-prefixed units after it
        action act;
        std::size_t offset = 0;
        unsigned char mask = 0x01;
    };

    static constexpr std::size_t preamble_size = 8;

    explicit tamper_proxy(std::uint16_t node_port, std::vector<rule> rules = {})
        : core_(std::make_shared<core>(io_.context(), node_port, std::move(rules))) {
        asio::post(io_.context(), [c = core_] { c->accept(); });
    }

    tamper_proxy(const tamper_proxy&) = delete;
    tamper_proxy& operator=(const tamper_proxy&) = delete;

    // Closes the listener and every relayed socket, on the proxy's thread, before it stops.
    ~tamper_proxy() {
        std::promise<void> closed;
        auto done = closed.get_future();
        asio::post(io_.context(), [c = core_, &closed] {
            c->stop();
            closed.set_value();
        });
        done.wait_for(std::chrono::seconds(10));
    }

    std::uint16_t port() const noexcept { return core_->port; }

    // Every byte read from that direction's sender so far (before any tampering), all connections.
    std::string captured(direction d) const {
        std::lock_guard<std::mutex> lock(core_->shared->mutex);
        return core_->shared->captured[index(d)];
    }
    // Whole units seen in that direction, all connections (the preamble counts).
    std::size_t units_seen(direction d) const { return core_->shared->units[index(d)].load(); }
    // How many times a rule was applied.
    std::size_t rules_applied() const { return core_->shared->applied.load(); }
    std::size_t connections_accepted() const { return core_->shared->accepted.load(); }
    // Relayed connections whose sockets are all closed.
    std::size_t connections_closed() const { return core_->shared->closed.load(); }

    // Stops reading from that direction's sender (a read already under way still forwards).
    void pause(direction d) { core_->shared->paused[index(d)] = true; }
    void resume(direction d) {
        core_->shared->paused[index(d)] = false;
        asio::post(io_.context(), [c = core_, d] {
            for (const auto& conn : c->connections) conn->resume(d);
        });
    }

private:
    static constexpr int buffer_size = 128 * 1024;

    static constexpr int index(direction d) noexcept { return static_cast<int>(d); }

    // What the test thread reads while the proxy's thread writes.
    struct shared_state {
        mutable std::mutex mutex;
        std::string captured[2];
        std::atomic<std::size_t> units[2]{{0}, {0}};
        std::atomic<bool> paused[2]{{false}, {false}};
        std::atomic<std::size_t> applied{0}, accepted{0}, closed{0};
    };

    // One relayed connection; everything runs on the proxy's single thread.
    class connection : public std::enable_shared_from_this<connection> {
    public:
        connection(asio::ip::tcp::socket dialer, std::vector<rule> rules, std::shared_ptr<shared_state> shared)
            : dialer_(std::move(dialer)), node_(dialer_.get_executor()), rules_(std::move(rules)), shared_(std::move(shared)) {}

        void start(std::uint16_t node_port) {
            const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), node_port);
            std::error_code ec;
            node_.open(endpoint.protocol(), ec);
            if (!ec) node_.set_option(asio::socket_base::receive_buffer_size(buffer_size), ec);
            if (!ec) node_.set_option(asio::socket_base::send_buffer_size(buffer_size), ec);
            if (ec) return close_all();
            node_.async_connect(endpoint, [self = this->shared_from_this()](std::error_code ec) {
                if (ec || self->closed_) return self->close_all();
                std::error_code ignored;
                self->dialer_.set_option(asio::ip::tcp::no_delay(true), ignored);
                self->node_.set_option(asio::ip::tcp::no_delay(true), ignored);
                self->read(direction::to_node);
                self->read(direction::to_dialer);
            });
        }

        void resume(direction d) {
            auto& p = pipes_[index(d)];
            if (!p.parked || closed_) return;
            p.parked = false;
            read(d);
        }

        void close_all() {
            if (closed_) return;
            closed_ = true;
            std::error_code ignored;
            dialer_.shutdown(asio::socket_base::shutdown_both, ignored);
            node_.shutdown(asio::socket_base::shutdown_both, ignored);
            dialer_.close(ignored);
            node_.close(ignored);
            shared_->closed++;
        }

    private:
        struct pipe {
            std::array<char, 65536> buffer;
            std::string pending;  // bytes of a unit not yet whole
            std::string out;      // what is being written on
            std::size_t unit = 0;
            bool parked = false;
            bool eof = false;
            bool close_after_write = false;
        };

        asio::ip::tcp::socket& source(direction d) { return d == direction::to_node ? dialer_ : node_; }
        asio::ip::tcp::socket& sink(direction d) { return d == direction::to_node ? node_ : dialer_; }

        void read(direction d) {
            if (closed_) return;
            auto& p = pipes_[index(d)];
            if (shared_->paused[index(d)]) {
                p.parked = true;
                return;
            }
            source(d).async_read_some(asio::buffer(p.buffer), [self = this->shared_from_this(), d](std::error_code ec,
                                                                                                  std::size_t n) {
                self->on_read(d, ec, n);
            });
        }

        void on_read(direction d, std::error_code ec, std::size_t n) {
            if (closed_) return;
            auto& p = pipes_[index(d)];
            if (ec == asio::error::eof) {
                // Forward what is left of a partial unit, then pass the half-close on; once both
                // directions ended, the connection is done.
                p.eof = true;
                p.out.swap(p.pending);
                return write(d);
            }
            if (ec) return close_all();
            {
                std::lock_guard<std::mutex> lock(shared_->mutex);
                shared_->captured[index(d)].append(p.buffer.data(), n);
            }
            p.pending.append(p.buffer.data(), n);
            cut_units(d, p);
            write(d);
        }

        // Writes p.out on, then reads again (or ends that direction, or the connection).
        void write(direction d) {
            auto& p = pipes_[index(d)];
            if (p.out.empty()) return after_write(d);
            asio::async_write(sink(d), asio::buffer(p.out), [self = this->shared_from_this(), d](std::error_code ec, std::size_t) {
                if (self->closed_) return;
                self->pipes_[index(d)].out.clear();
                if (ec) return self->close_all();
                self->after_write(d);
            });
        }

        void after_write(direction d) {
            auto& p = pipes_[index(d)];
            if (p.close_after_write) return close_all();
            if (!p.eof) return read(d);
            std::error_code ignored;
            sink(d).shutdown(asio::socket_base::shutdown_send, ignored);
            if (pipes_[0].eof && pipes_[1].eof) close_all();
        }

        // Moves every whole unit of p.pending to p.out, tampered with as the rules say.
        void cut_units(direction d, pipe& p) {
            while (!p.close_after_write) {
                std::size_t header = 0, body = 0;
                if (p.unit == 0) {
                    body = preamble_size;
                } else {
                    if (p.pending.size() < 2) return;
                    header = 2;
                    body = static_cast<std::size_t>(static_cast<unsigned char>(p.pending[0])) << 8 |
                           static_cast<unsigned char>(p.pending[1]);
                }
                if (p.pending.size() < header + body) return;
                std::string unit = p.pending.substr(0, header + body);
                p.pending.erase(0, header + body);
                shared_->units[index(d)]++;
                apply_rules(d, p.unit++, header, unit, p);
            }
        }

        void apply_rules(direction d, std::size_t number, std::size_t header, std::string& unit, pipe& p) {
            for (const auto& r : rules_) {
                if (r.dir != d || r.unit != number) continue;
                shared_->applied++;
                switch (r.act) {
                case action::flip_bits:
                    if (header + r.offset < unit.size()) unit[header + r.offset] ^= static_cast<char>(r.mask);
                    break;
                case action::duplicate: p.out += unit; break;
                case action::drop: return;
                case action::truncate_and_close:
                    p.out.append(unit, 0, std::min(unit.size(), header + r.offset));
                    p.close_after_write = true;
                    return;
                }
            }
            p.out += unit;
        }

        asio::ip::tcp::socket dialer_;
        asio::ip::tcp::socket node_;
        const std::vector<rule> rules_;
        std::shared_ptr<shared_state> shared_;
        pipe pipes_[2];
        bool closed_ = false;
    };

    // The listener and the connections; handlers hold it, so nothing they touch dies under them.
    struct core : std::enable_shared_from_this<core> {
        core(asio::io_context& io, std::uint16_t target_port, std::vector<rule> r)
            : node_port(target_port), rules(std::move(r)), shared(std::make_shared<shared_state>()), acceptor(io) {
            const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
            acceptor.open(endpoint.protocol());
            acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true));
            // Small kernel buffers (inherited by accepted sockets): a paused direction holds its
            // sender back after a few hundred KiB instead of the tens of MiB autotuning allows.
            acceptor.set_option(asio::socket_base::receive_buffer_size(buffer_size));
            acceptor.set_option(asio::socket_base::send_buffer_size(buffer_size));
            acceptor.bind(endpoint);
            acceptor.listen();
            port = acceptor.local_endpoint().port();
        }

        void accept() {
            acceptor.async_accept([self = this->shared_from_this()](std::error_code ec, asio::ip::tcp::socket socket) {
                if (self->stopped) return;
                if (!ec) {
                    self->shared->accepted++;
                    auto c = std::make_shared<connection>(std::move(socket), self->rules, self->shared);
                    self->connections.push_back(c);
                    c->start(self->node_port);
                }
                self->accept();
            });
        }

        void stop() {
            stopped = true;
            std::error_code ignored;
            acceptor.close(ignored);
            for (const auto& c : connections) c->close_all();
            connections.clear();
        }

        std::uint16_t node_port;
        std::uint16_t port = 0;
        const std::vector<rule> rules;
        std::shared_ptr<shared_state> shared;
        asio::ip::tcp::acceptor acceptor;
        std::vector<std::shared_ptr<connection>> connections;
        bool stopped = false;
    };

    io_thread io_;  // first: destroyed last, after the core's sockets
    std::shared_ptr<core> core_;
};

}  // namespace librats::test

#endif
