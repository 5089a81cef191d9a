#ifndef LIBRATS_LIBRATS_HPP
#define LIBRATS_LIBRATS_HPP

// librats: the default composition, and the amalgamation root of single_include/.
//
//   librats::node        basic_node over TCP, Noise XX encrypted, with the default discovery modules
//   librats::RatsClient  the seed API over librats::node, with its own network thread
//   librats::memory_transport  an in-process network with fault injection, for tests
//   librats::dht_discovery  the mainline DHT (BEP 5) as a discovery module; librats::dht::... its parts
//   librats::mdns_discovery local peers by mDNS / DNS-SD (RFC 6762/6763); librats::mdns::... its parts
//   librats::stun_discovery our public address from STUN servers (RFC 8489); librats::stun::... its parts
//
// Compose your own with basic_node<Transport, Crypto, Discovery...> (librats/node.hpp).

#include <librats/client.hpp>
#include <librats/config.hpp>
#include <librats/crypto/noise_xx.hpp>
#include <librats/crypto/plaintext.hpp>
#include <librats/detail/deadline_timer.hpp>
#include <librats/dht/bencode.hpp>
#include <librats/dht/engine.hpp>
#include <librats/dht/info_hash.hpp>
#include <librats/dht/krpc.hpp>
#include <librats/dht/node_id.hpp>
#include <librats/dht/routing_table.hpp>
#include <librats/dht/udp_node.hpp>
#include <librats/discovery/dht.hpp>
#include <librats/discovery/mdns.hpp>
#include <librats/discovery/static_peers.hpp>
#include <librats/discovery/stun.hpp>
#include <librats/error.hpp>
#include <librats/log.hpp>
#include <librats/mdns/dns.hpp>
#include <librats/mdns/engine.hpp>
#include <librats/mdns/error.hpp>
#include <librats/mdns/udp_node.hpp>
#include <librats/node.hpp>
#include <librats/peer_info.hpp>
#include <librats/persistence/atomic_file.hpp>
#include <librats/persistence/data_directory.hpp>
#include <librats/stun/client.hpp>
#include <librats/stun/error.hpp>
#include <librats/stun/message.hpp>
#include <librats/stun/transaction.hpp>
#include <librats/test/memory_transport.hpp>
#include <librats/transport/tcp.hpp>
#include <librats/version.hpp>

// The seed's programs (examples/seed/) include only "librats.h" and use std::cout, std::cin,
// std::getline, std::time, std::ctime, std::map, std::thread, std::this_thread::sleep_for and
// std::chrono without including them: the umbrella header provides them on purpose, not by accident.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace librats {

using node = basic_node<tcp_transport, noise_xx<>, static_peers, dht_discovery, mdns_discovery, stun_discovery>;
using RatsClient = basic_rats_client<node>;

}  // namespace librats

#endif
