// The seed README's "API Documentation" (RatsClient and the event callbacks), checked against
// librats::RatsClient at compile time: every listed member function, as a member function pointer
// of exactly the type the seed writes (return type, parameter types, const), plus each call as
// the seed's defaults allow it; the callback typedefs; MdnsService. The run-time part is trivial.
//
// The three "Configuration persistence" functions are checked only with LIBRATS_TEST_PERSISTENCE_API
// defined to 1 (they are being added).

#include <librats/librats.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#ifndef LIBRATS_TEST_PERSISTENCE_API
#define LIBRATS_TEST_PERSISTENCE_API 0
#endif

namespace librats {
namespace {

using Client = RatsClient;

// `Client::name` has a member of exactly type `R (Client::*)(Params...) [const]`: the static_cast
// picks that overload or fails to compile (an added noexcept would still match, nothing else would).
#define SEED_MEMBER(R, name, PARAMS, ...) \
    static_assert(static_cast<R (Client::*) PARAMS __VA_ARGS__>(&Client::name) != nullptr, #name)

// The seed's callback parameter of find_peers_by_hash ("callback").
using PeersCallback = std::function<void(const std::vector<std::string>&)>;
using MdnsCallback = std::function<void(const std::string&, int, const std::string&)>;

// ---- Connection management
SEED_MEMBER(bool, connect_to_peer, (const std::string& host, int port));
SEED_MEMBER(void, disconnect_peer_by_hash, (const std::string& peer_hash_id));

// ---- Modern message exchange API
SEED_MEMBER(void, on, (const std::string& message_type, Client::MessageCallback callback));
SEED_MEMBER(void, once, (const std::string& message_type, Client::MessageCallback callback));
SEED_MEMBER(void, off, (const std::string& message_type));
SEED_MEMBER(void, send, (const std::string& message_type, const nlohmann::json& data, Client::SendCallback callback));
SEED_MEMBER(void, send,
            (const std::string& peer_id, const std::string& message_type, const nlohmann::json& data,
             Client::SendCallback callback));

// ---- Legacy data transmission
SEED_MEMBER(bool, send_to_peer_by_hash, (const std::string& peer_hash_id, const std::string& data));
SEED_MEMBER(int, broadcast_to_peers, (const std::string& data));

// ---- DHT operations
SEED_MEMBER(bool, start_dht_discovery, (int dht_port));
SEED_MEMBER(bool, find_peers_by_hash, (const std::string& content_hash, PeersCallback callback));
SEED_MEMBER(bool, announce_for_hash, (const std::string& content_hash, uint16_t port));

// ---- mDNS operations
SEED_MEMBER(bool, start_mdns_discovery,
            (const std::string& service_instance_name, const std::map<std::string, std::string>& txt_records));
SEED_MEMBER(void, stop_mdns_discovery, ());
SEED_MEMBER(void, set_mdns_callback, (MdnsCallback callback));
SEED_MEMBER(std::vector<MdnsService>, get_mdns_services, (), const);

// ---- STUN operations
SEED_MEMBER(bool, discover_and_ignore_public_ip, (const std::string& stun_server, int stun_port));
SEED_MEMBER(std::string, get_public_ip, (), const);

// ---- Encryption management
SEED_MEMBER(bool, initialize_encryption, (bool enable));
SEED_MEMBER(void, set_encryption_enabled, (bool enabled));
SEED_MEMBER(bool, is_encryption_enabled, (), const);
SEED_MEMBER(std::string, get_encryption_key, (), const);
SEED_MEMBER(bool, set_encryption_key, (const std::string& key_hex));

// ---- Configuration persistence
#if LIBRATS_TEST_PERSISTENCE_API
SEED_MEMBER(bool, load_configuration, ());
SEED_MEMBER(bool, save_configuration, ());
SEED_MEMBER(int, load_and_reconnect_peers, ());
#endif

#undef SEED_MEMBER

// ---- the seed's default arguments: each call with the defaulted parameters left out
static_assert(std::is_same_v<decltype(std::declval<Client&>().send("type", nlohmann::json{})), void>);
static_assert(std::is_same_v<decltype(std::declval<Client&>().send("peer", "type", nlohmann::json{})), void>);
static_assert(std::is_same_v<decltype(std::declval<Client&>().start_dht_discovery()), bool>);
static_assert(std::is_same_v<decltype(std::declval<Client&>().announce_for_hash("hash")), bool>);
static_assert(std::is_same_v<decltype(std::declval<Client&>().start_mdns_discovery()), bool>);
static_assert(std::is_same_v<decltype(std::declval<Client&>().start_mdns_discovery("name")), bool>);
static_assert(std::is_same_v<decltype(std::declval<Client&>().discover_and_ignore_public_ip()), bool>);
static_assert(std::is_same_v<decltype(std::declval<Client&>().discover_and_ignore_public_ip("stun.example")), bool>);
static_assert(std::is_same_v<decltype(std::declval<Client&>().initialize_encryption()), bool>);
// ...and as the seed's programs call them: a lambda for each callback (named here: C++17 allows no
// lambda in decltype), nullptr for SendCallback.
inline constexpr auto send_lambda = [](bool, const std::string&) {};
inline constexpr auto peers_lambda = [](const std::vector<std::string>&) {};
inline constexpr auto mdns_lambda = [](const std::string&, int, const std::string&) {};
inline constexpr auto connection_lambda = [](auto, const std::string&) {};  // Basic Usage's `auto socket`
inline constexpr auto message_lambda = [](const std::string&, const nlohmann::json&) {};
static_assert(std::is_same_v<decltype(std::declval<Client&>().send("type", nlohmann::json{}, nullptr)), void>);
static_assert(std::is_same_v<decltype(std::declval<Client&>().send("type", nlohmann::json{}, send_lambda)), void>);
static_assert(std::is_same_v<decltype(std::declval<Client&>().send("peer", "type", nlohmann::json{}, send_lambda)), void>);
static_assert(std::is_same_v<decltype(std::declval<Client&>().find_peers_by_hash("hash", peers_lambda)), bool>);
static_assert(std::is_same_v<decltype(std::declval<Client&>().set_mdns_callback(mdns_lambda)), void>);
static_assert(std::is_same_v<decltype(std::declval<Client&>().set_connection_callback(connection_lambda)), void>);
static_assert(std::is_same_v<decltype(std::declval<Client&>().on("type", message_lambda)), void>);
static_assert(std::is_same_v<decltype(std::declval<Client&>().once("type", message_lambda)), void>);
static_assert(std::is_constructible_v<Client, int>);

// ---- Event callbacks (RatsClient's member typedefs, as in the seed's library)
static_assert(std::is_same_v<Client::MessageCallback,
                             std::function<void(const std::string& peer_id, const nlohmann::json& data)>>);
static_assert(std::is_same_v<Client::SendCallback, std::function<void(bool success, const std::string& error)>>);
static_assert(std::is_same_v<Client::ConnectionCallback,
                             std::function<void(socket_t, const std::string& peer_hash_id)>>);
static_assert(std::is_same_v<Client::DataCallback, std::function<void(socket_t, const std::string& peer_hash_id,
                                                                       const std::string& data)>>);
static_assert(std::is_same_v<Client::DisconnectCallback,
                             std::function<void(socket_t, const std::string& peer_hash_id)>>);
static_assert(std::is_same_v<decltype(&Client::set_connection_callback), void (Client::*)(Client::ConnectionCallback)>);
static_assert(std::is_same_v<decltype(&Client::set_data_callback), void (Client::*)(Client::DataCallback)>);
static_assert(std::is_same_v<decltype(&Client::set_disconnect_callback), void (Client::*)(Client::DisconnectCallback)>);

// ---- MdnsService: a value type in namespace librats
static_assert(std::is_class_v<librats::MdnsService>);
static_assert(std::is_default_constructible_v<MdnsService> && std::is_copy_constructible_v<MdnsService>);

TEST(SeedApiTest, UnstartedClientAnswersTheSeedQueries) {
    Client client(0, 10, "127.0.0.1");
    EXPECT_TRUE(client.is_encryption_enabled());  // "enabled by default"
    EXPECT_TRUE(client.get_public_ip().empty());
    EXPECT_TRUE(client.get_mdns_services().empty());
    EXPECT_FALSE(client.get_encryption_key().empty());
    EXPECT_TRUE(client.initialize_encryption(true));
    client.on("chat", [](const std::string&, const nlohmann::json&) {});
    client.once("chat", [](const std::string&, const nlohmann::json&) {});
    client.off("chat");
    EXPECT_FALSE(client.connect_to_peer("127.0.0.1", 1));  // not started
#if LIBRATS_TEST_PERSISTENCE_API
    SUCCEED() << "persistence API checked at compile time";
#endif
}

}  // namespace
}  // namespace librats
