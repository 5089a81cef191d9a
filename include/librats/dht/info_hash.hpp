#ifndef LIBRATS_DHT_INFO_HASH_HPP
#define LIBRATS_DHT_INFO_HASH_HPP

// What the client API accepts as a DHT key: 40 hex digits are an info-hash as is; any other
// string names content, and its SHA-1 (Botan) is the key, as BitTorrent hashes its info
// dictionaries.

#include <librats/dht/node_id.hpp>

#include <botan/hash.h>

#include <string_view>

namespace librats::dht {

inline node_id info_hash_of(std::string_view key) {
    if (key.size() == 2 * node_id::size)
        if (const auto id = node_id::from_hex(key)) return *id;
    const auto sha1 = Botan::HashFunction::create_or_throw("SHA-1");
    sha1->update(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
    node_id id;
    sha1->final(id.bytes().data());
    return id;
}

}  // namespace librats::dht

#endif
