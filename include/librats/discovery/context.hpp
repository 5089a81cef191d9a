#ifndef LIBRATS_DISCOVERY_CONTEXT_HPP
#define LIBRATS_DISCOVERY_CONTEXT_HPP

// What a node offers its Discovery modules. A module keeps a reference to it between start()
// and stop(); every call on it, and every handler it runs, is on the node's strand.

#include <librats/config.hpp>
#include <librats/log.hpp>

#include <asio/any_io_executor.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <utility>

namespace librats {

// What the node does for its modules. It does not depend on the transport, so a module that is
// not a template keeps a pointer to it (ctx.hooks()) between start() and stop().
struct discovery_hooks {
    // Completion of connect(): the peer ID on success.
    using connect_handler = std::function<void(std::error_code, const std::string& peer_id)>;

    // Dials a found peer (subject to max_peers); completes on the strand.
    std::function<void(const std::string& host, std::uint16_t port, connect_handler)> connect;
    std::function<std::uint16_t()> listen_port;
    std::function<std::size_t()> peer_count;
    std::function<bool(const std::string& peer_id)> is_connected;
};

template <class Transport>
class discovery_context {
public:
    using executor_type = asio::any_io_executor;
    using connect_handler = discovery_hooks::connect_handler;

    discovery_context(executor_type strand, Transport& transport, const logger& log, const node_options& options,
                      std::string local_peer_id, discovery_hooks hooks)
        : strand_(std::move(strand)),
          transport_(transport),
          log_(log),
          options_(options),
          local_peer_id_(std::move(local_peer_id)),
          hooks_(std::move(hooks)) {}

    // The node's strand: timers and sockets of a module run their handlers here.
    executor_type get_executor() const { return strand_; }
    Transport& transport() const noexcept { return transport_; }
    const logger& log() const noexcept { return log_; }
    const node_options& options() const noexcept { return options_; }
    const std::string& local_peer_id() const noexcept { return local_peer_id_; }
    const discovery_hooks& hooks() const noexcept { return hooks_; }

    std::uint16_t listen_port() const { return hooks_.listen_port(); }
    std::size_t peer_count() const { return hooks_.peer_count(); }
    bool is_connected(const std::string& peer_id) const { return hooks_.is_connected(peer_id); }

    // Report a found peer: the node dials it (subject to max_peers) and completes on the strand.
    void connect(const std::string& host, std::uint16_t port, connect_handler done) const {
        hooks_.connect(host, port, std::move(done));
    }

private:
    executor_type strand_;
    Transport& transport_;
    const logger& log_;
    const node_options& options_;
    std::string local_peer_id_;
    discovery_hooks hooks_;
};

}  // namespace librats

#endif
