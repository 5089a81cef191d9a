#ifndef LIBRATS_CONFIG_HPP
#define LIBRATS_CONFIG_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace librats {

// Settings of a basic_node. Defaults suit a desktop peer; tests shrink the timeouts.
struct node_options {
    // "::" listens dual-stack and falls back to IPv4 when the host has no IPv6.
    std::string bind_address = "::";
    std::uint16_t listen_port = 0;  // 0: the OS picks one; listen_port() tells which

    std::size_t max_peers = 10;
    std::size_t max_pending_handshakes = 64;

    std::size_t max_message_size = 16 * 1024 * 1024;
    // Bytes queued towards one peer and not yet handed to its socket. A send that would exceed
    // it fails at once, unless the queue is empty (so one maximal message always fits). Small
    // on purpose: a shallow queue stays in cache (bulk transfers run 2-3x faster than with
    // 32 MiB, bench/README.md) and the kernel's socket buffer adds its own megabytes.
    std::size_t send_queue_limit = 1024 * 1024;

    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds handshake_timeout{10'000};
    // A ping goes out when nothing was sent for this long.
    std::chrono::milliseconds keepalive_interval{30'000};
    // A peer from which no complete record arrived for this long is dropped.
    std::chrono::milliseconds idle_timeout{90'000};
    // A record (at most 64 KiB) must arrive whole within this time once it has begun:
    // this drops peers that trickle bytes to hold a connection open.
    std::chrono::milliseconds frame_timeout{30'000};
    // Time a closing connection may take to flush and read the peer's close.
    std::chrono::milliseconds close_linger{2'000};

    // Encrypted connections replace their send key (Noise rekey) after this many records or
    // bytes, whichever comes first; 0 turns that trigger off. basic_node::rekey asks at once.
    std::uint64_t rekey_after_records = 1'000'000;
    std::uint64_t rekey_after_bytes = std::uint64_t{1} << 32;
};

}  // namespace librats

#endif
