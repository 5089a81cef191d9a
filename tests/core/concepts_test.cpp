#include "archetypes.hpp"

#include <librats/concepts/crypto.hpp>
#include <librats/concepts/discovery.hpp>
#include <librats/concepts/transport.hpp>
#include <librats/crypto/plaintext.hpp>
#include <librats/discovery/static_peers.hpp>
#include <librats/node.hpp>
#include <librats/test/memory_transport.hpp>
#include <librats/transport/tcp.hpp>

#include <gtest/gtest.h>

namespace librats {
namespace {

namespace arch = test::archetype;

// The archetypes are the minimal shapes; the shipped policies model the same concepts.
static_assert(concepts::is_transport_v<arch::transport>);
static_assert(concepts::is_transport_v<tcp_transport>);
static_assert(concepts::is_transport_v<memory_transport>);
static_assert(!concepts::is_transport_v<arch::transport_without_connect>);
static_assert(!concepts::is_transport_v<int>);

static_assert(concepts::is_crypto_v<arch::crypto>);
static_assert(concepts::is_crypto_v<plaintext>);
static_assert(!concepts::is_crypto_v<arch::crypto_without_cipher>);
static_assert(!concepts::is_crypto_v<tcp_transport>);

static_assert(concepts::is_discovery_v<arch::discovery, arch::transport>);
static_assert(concepts::is_discovery_v<static_peers, tcp_transport>);
static_assert(!concepts::is_discovery_v<int, tcp_transport>);
static_assert(concepts::detail::has_on_peer_disconnected<static_peers>::value);
static_assert(!concepts::detail::has_on_peer_connected<arch::discovery>::value);

// basic_node accepts a composition of archetypes (its policy checks pass).
static_assert(sizeof(basic_node<arch::transport, arch::crypto, arch::discovery>) > 0);

TEST(ConceptsTest, StaticChecksCompiled) {
    EXPECT_TRUE(concepts::check_transport<tcp_transport>());
    EXPECT_TRUE(concepts::check_crypto<plaintext>());
    EXPECT_TRUE((concepts::check_discovery<tcp_transport, static_peers>()));
}

}  // namespace
}  // namespace librats
