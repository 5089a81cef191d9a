#ifndef LIBRATS_PEER_INFO_HPP
#define LIBRATS_PEER_INFO_HPP

#include <chrono>
#include <cstdint>
#include <string>

namespace librats {

// How opaque bytes were sent: send_binary_* (binary) or send_to_peer_by_hash / broadcast_to_peers (text).
enum class data_kind { binary, text };

// An opaque handle naming one connection, unique within a node (the legacy socket_t).
using connection_id = int;

// A connected peer as the node reports it.
struct peer_info {
    std::string peer_id;
    std::string address;            // remote "ip:port" of this connection
    std::uint16_t listen_port = 0;  // the port the peer accepts connections on (from its hello)
    connection_id connection = 0;
    bool outbound = false;          // we dialed it
    bool encrypted = false;
    std::string agent;              // the peer's software, from its hello
    // Encrypted connections: the peer's static public key (its identity) and the handshake
    // hash (the same on both ends: channel binding), both lowercase hex.
    std::string public_key;
    std::string handshake_hash;
    std::chrono::steady_clock::time_point connected_at{};
};

// Counters since start; all totals.
struct node_statistics {
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t messages_sent = 0;
    std::uint64_t messages_received = 0;
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_initiated = 0;
    std::uint64_t handshakes_failed = 0;
    std::uint64_t peers_dropped = 0;  // closed by us for bad input or timeouts
    std::uint64_t sends_rejected = 0;  // queue full, unknown peer, not running
    std::uint64_t writes = 0;          // gathered writes handed to the transport (frames coalesce)
    std::uint64_t rekeys_sent = 0;     // send keys replaced (Noise rekey)
    std::uint64_t rekeys_received = 0;
};

}  // namespace librats

#endif
