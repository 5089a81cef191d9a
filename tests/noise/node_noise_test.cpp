// basic_node<tcp_transport, noise_xx<>> on 127.0.0.1: identities proven by the handshake, nothing
// readable on the wire, mismatched crypto, expected peer IDs, rekeying, a man in the middle who
// flips, replays, drops and truncates (tests/tamper_proxy.hpp), a stalled handshake, and the
// encryption API of RatsClient.

#include "client_pair.hpp"
#include "raw_peer.hpp"
#include "support.hpp"
#include "tamper_proxy.hpp"

#include <librats/client.hpp>
#include <librats/crypto/noise_xx.hpp>
#include <librats/crypto/plaintext.hpp>
#include <librats/detail/hex.hpp>
#include <librats/librats.hpp>
#include <librats/node.hpp>
#include <librats/transport/tcp.hpp>
#include <librats/version.hpp>
#include <librats/wire/handshake.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <future>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace librats {
namespace {

using namespace std::chrono_literals;
using test::io_thread;
using test::tamper_proxy;
using test::wait_until;
using noise_node = basic_node<tcp_transport, noise_xx<>>;
using plain_node = basic_node<tcp_transport, plaintext>;
using direction = tamper_proxy::direction;
using action = tamper_proxy::action;

// Generous: CI runs the sanitizer builds on two shared cores.
constexpr auto patience = 10'000ms;

node_options loopback() {
    node_options options;
    options.bind_address = "127.0.0.1";
    return options;
}

std::string random_bytes(std::size_t size, unsigned seed) {
    std::mt19937 rng(seed);
    std::string out(size, '\0');
    for (auto& c : out) c = static_cast<char>(rng());
    return out;
}

bool is_lower_hex(const std::string& s, std::size_t size) {
    if (s.size() != size) return false;
    for (const char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

noise_xx<>::key key_from_hex(const std::string& hex) {
    noise_xx<>::key key{};
    EXPECT_TRUE(detail::from_hex(hex, key.data(), key.size())) << hex;
    return key;
}

std::string as_string(const noise_xx<>::key& key) { return std::string(reinterpret_cast<const char*>(key.data()), key.size()); }

// Dials 127.0.0.1:port; the error (connect_timeout if no completion came) and the peer ID.
template <class Node>
std::pair<std::error_code, std::string> dial(Node& from, std::uint16_t port, const std::string& expected_peer_id = {}) {
    auto result = from.async_connect("127.0.0.1", port, expected_peer_id, test::error_and_value_future);
    if (result.wait_for(patience) != std::future_status::ready)
        return {make_error_code(errc::connect_timeout), "(no completion)"};
    return result.get();
}

template <class Node>
std::error_code send_json(Node& from, const std::string& to, const std::string& type, const nlohmann::json& data) {
    auto sent = from.async_send(to, type, data, test::error_future);
    if (sent.wait_for(patience) != std::future_status::ready) return make_error_code(errc::connect_timeout);
    return sent.get();
}

template <class Node>
std::error_code send_bytes(Node& from, const std::string& to, data_kind kind, const std::string& bytes) {
    auto sent = from.async_send_data(to, kind, bytes, test::error_future);
    if (sent.wait_for(patience) != std::future_status::ready) return make_error_code(errc::connect_timeout);
    return sent.get();
}

// Stops a node and waits: no handler of it runs afterwards.
template <class Node>
void stop_and_wait(Node& node) {
    node.async_stop(asio::use_future).wait_for(patience);
}

// What a node's handlers received, in order; shared with the handlers, so it outlives them.
class inbox {
public:
    struct message {
        std::string from;
        std::string type;  // the JSON type, or "binary" / "text"
        nlohmann::json json;
        std::string bytes;
    };

    template <class Node>
    static std::shared_ptr<inbox> attach(Node& node, std::initializer_list<const char*> json_types) {
        auto box = std::make_shared<inbox>();
        for (const std::string type : json_types)
            node.on(type, [box, type](const std::string& from, const nlohmann::json& data) {
                box->add({from, type, data, {}});
            });
        node.set_data_handler([box](const peer_info& info, data_kind kind, std::string_view bytes) {
            box->add({info.peer_id, kind == data_kind::binary ? "binary" : "text", nullptr, std::string(bytes)});
        });
        return box;
    }

    void add(message m) {
        std::lock_guard<std::mutex> lock(mutex_);
        messages_.push_back(std::move(m));
    }
    std::size_t size() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return messages_.size();
    }
    std::size_t count_from(const std::string& peer_id) const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::size_t n = 0;
        for (const auto& m : messages_) n += m.from == peer_id;
        return n;
    }
    std::vector<message> snapshot() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return messages_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<message> messages_;
};

// ---- 1. an encrypted connection

TEST(NodeNoiseTest, EncryptedConnectionProvesBothIdentitiesAndCarriesEveryKindOfMessage) {
    io_thread io;
    noise_node a(io.executor(), loopback()), b(io.executor(), loopback());
    const auto a_box = inbox::attach(a, {"chat"});
    const auto b_box = inbox::attach(b, {"chat"});
    a.start();
    b.start();

    // The peer ID is the hash of the static public key.
    EXPECT_EQ(a.peer_id(), noise_xx<>::peer_id_from_public_key(a.crypto().static_public_key()));
    EXPECT_EQ(b.peer_id(), noise_xx<>::peer_id_from_public_key(b.crypto().static_public_key()));
    EXPECT_TRUE(is_lower_hex(a.peer_id(), 40)) << a.peer_id();
    EXPECT_NE(a.peer_id(), b.peer_id());

    const auto [ec, a_id] = dial(b, a.listen_port());
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(a_id, a.peer_id());
    ASSERT_TRUE(wait_until([&] { return a.find_peer(b.peer_id()).has_value(); }, patience));
    const auto at_a = a.find_peer(b.peer_id());  // a's view of b
    const auto at_b = b.find_peer(a.peer_id());
    ASSERT_TRUE(at_a && at_b);
    EXPECT_TRUE(at_a->encrypted);
    EXPECT_TRUE(at_b->encrypted);
    EXPECT_FALSE(at_a->outbound);
    EXPECT_TRUE(at_b->outbound);
    EXPECT_EQ(at_a->agent, std::string("librats-cpp/") + library_version);

    EXPECT_EQ(at_a->public_key, b.crypto().static_public_key_hex());
    EXPECT_EQ(at_b->public_key, a.crypto().static_public_key_hex());
    EXPECT_TRUE(is_lower_hex(at_a->public_key, 64)) << at_a->public_key;
    EXPECT_EQ(noise_xx<>::peer_id_from_public_key(key_from_hex(at_a->public_key)), b.peer_id());
    EXPECT_EQ(noise_xx<>::peer_id_from_public_key(key_from_hex(at_b->public_key)), a.peer_id());
    EXPECT_EQ(at_a->peer_id, b.crypto().local_peer_id());
    EXPECT_EQ(at_b->peer_id, a.crypto().local_peer_id());

    EXPECT_TRUE(is_lower_hex(at_a->handshake_hash, 64)) << at_a->handshake_hash;
    EXPECT_EQ(at_a->handshake_hash, at_b->handshake_hash);
    EXPECT_NE(at_a->handshake_hash, std::string(64, '0'));

    // JSON, a 1 MiB binary message (16 records) and text, both ways.
    const nlohmann::json hello_a = {{"text", "hello a"}, {"n", 1}, {"list", {1, 2, 3}}};
    const nlohmann::json hello_b = {{"text", "hello b"}, {"n", 2}, {"nested", {{"k", "v"}}}};
    const auto big_to_a = random_bytes(1 << 20, 1);
    const auto big_to_b = random_bytes(1 << 20, 2);
    ASSERT_FALSE(send_json(b, a.peer_id(), "chat", hello_a));
    ASSERT_FALSE(send_json(a, b.peer_id(), "chat", hello_b));
    ASSERT_FALSE(send_bytes(b, a.peer_id(), data_kind::binary, big_to_a));
    ASSERT_FALSE(send_bytes(a, b.peer_id(), data_kind::binary, big_to_b));
    ASSERT_FALSE(send_bytes(b, a.peer_id(), data_kind::text, "text to a"));
    ASSERT_FALSE(send_bytes(a, b.peer_id(), data_kind::text, "text to b"));
    ASSERT_TRUE(wait_until([&] { return a_box->size() == 3 && b_box->size() == 3; }, patience))
        << a_box->size() << " " << b_box->size();

    const auto at_a_messages = a_box->snapshot();
    for (const auto& m : at_a_messages) EXPECT_EQ(m.from, b.peer_id());
    EXPECT_EQ(at_a_messages[0].type, "chat");
    EXPECT_EQ(at_a_messages[0].json, hello_a);
    EXPECT_EQ(at_a_messages[1].type, "binary");
    EXPECT_TRUE(at_a_messages[1].bytes == big_to_a) << "the 1 MiB message arrived changed, size "
                                                    << at_a_messages[1].bytes.size();
    EXPECT_EQ(at_a_messages[2].type, "text");
    EXPECT_EQ(at_a_messages[2].bytes, "text to a");

    const auto at_b_messages = b_box->snapshot();
    for (const auto& m : at_b_messages) EXPECT_EQ(m.from, a.peer_id());
    EXPECT_EQ(at_b_messages[0].json, hello_b);
    EXPECT_TRUE(at_b_messages[1].bytes == big_to_b) << "size " << at_b_messages[1].bytes.size();
    EXPECT_EQ(at_b_messages[2].bytes, "text to b");

    // Another connection between other keys has another handshake hash.
    noise_node c(io.executor(), loopback());
    c.start();
    ASSERT_FALSE(dial(c, a.listen_port()).first);
    ASSERT_TRUE(wait_until([&] { return a.find_peer(c.peer_id()).has_value(); }, patience));
    const auto c_at_a = a.find_peer(c.peer_id());
    ASSERT_TRUE(c_at_a);
    EXPECT_NE(c_at_a->handshake_hash, at_a->handshake_hash);
    EXPECT_EQ(c_at_a->public_key, c.crypto().static_public_key_hex());

    stop_and_wait(a);
    stop_and_wait(b);
    stop_and_wait(c);
}

// ---- 2. what a passive observer sees

TEST(NodeNoiseTest, NothingReadableOnTheWire) {
    io_thread io;
    noise_node dialer(io.executor(), loopback()), node(io.executor(), loopback());
    const auto node_box = inbox::attach(node, {"secret"});
    const auto dialer_box = inbox::attach(dialer, {"secret"});
    dialer.start();
    node.start();
    tamper_proxy proxy(node.listen_port());

    const std::string secret = "TOP-SECRET:9f4c2e71-the-eagle-lands-at-dawn";
    const auto [ec, node_id] = dial(dialer, proxy.port());
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(node_id, node.peer_id());
    ASSERT_TRUE(wait_until([&] { return node.find_peer(dialer.peer_id()).has_value(); }, patience));

    ASSERT_FALSE(send_json(dialer, node_id, "secret", {{"secret", secret}, {"from", dialer.peer_id()}}));
    ASSERT_FALSE(send_bytes(dialer, node_id, data_kind::binary, "binary " + secret + std::string(1000, '\0')));
    ASSERT_FALSE(send_bytes(dialer, node_id, data_kind::text, "text " + secret));
    ASSERT_FALSE(send_json(node, dialer.peer_id(), "secret", {{"secret", secret}, {"from", node.peer_id()}}));
    ASSERT_FALSE(send_bytes(node, dialer.peer_id(), data_kind::binary, "binary " + secret));
    ASSERT_TRUE(wait_until([&] { return node_box->size() == 3 && dialer_box->size() == 2; }, patience));
    EXPECT_EQ(node_box->snapshot()[0].json.value("secret", ""), secret);
    EXPECT_EQ(dialer_box->snapshot()[1].bytes, "binary " + secret);

    // A graceful close: the goodbyes travel too.
    dialer.disconnect(node_id);
    ASSERT_TRUE(wait_until([&] { return proxy.connections_closed() == 1; }, patience));

    const std::vector<std::pair<std::string, std::string>> needles = {
        {"the secret", secret},
        {"the secret's tail", "the-eagle-lands-at-dawn"},
        {"the dialer's peer ID", dialer.peer_id()},
        {"the node's peer ID", node.peer_id()},
        {"the agent", std::string("librats-cpp/") + library_version},
        {"the hello's field names", "\"peer_id\""},
        {"the dialer's static key", as_string(dialer.crypto().static_public_key())},
        {"the node's static key", as_string(node.crypto().static_public_key())},
        {"the dialer's static key in hex", dialer.crypto().static_public_key_hex()},
    };
    for (const auto d : {direction::to_node, direction::to_dialer}) {
        const auto wire = proxy.captured(d);
        const char* name = d == direction::to_node ? "dialer -> node" : "node -> dialer";
        // Handshake, three messages' records and a goodbye each way.
        ASSERT_GT(wire.size(), 8u + 32u) << name;
        EXPECT_EQ(wire.substr(0, 4), "RATS") << name;
        EXPECT_EQ(static_cast<int>(wire[5]), 1) << name << ": the crypto ID of Noise XX";
        EXPECT_GE(proxy.units_seen(d), d == direction::to_node ? 6u : 4u) << name;
        for (const auto& [what, needle] : needles)
            EXPECT_EQ(wire.find(needle), std::string::npos) << name << " shows " << what;
    }
    stop_and_wait(dialer);
    stop_and_wait(node);
}

// ---- 3. crypto mismatch

// from dials to; both must fail the handshake with encryption_mismatch.
template <class From, class To>
void expect_mismatch(From& from, To& to) {
    test::log_capture from_logs(from.log()), to_logs(to.log());
    const auto from_failed = from.statistics().handshakes_failed;
    const auto to_failed = to.statistics().handshakes_failed;
    const auto [ec, id] = dial(from, to.listen_port());
    EXPECT_EQ(ec, make_error_code(errc::encryption_mismatch)) << ec.message();
    EXPECT_TRUE(id.empty());
    // The completion may run before the node's bookkeeping of the failure: wait for it.
    EXPECT_TRUE(wait_until([&] { return to.statistics().handshakes_failed == to_failed + 1; }, patience));
    EXPECT_TRUE(wait_until([&] { return from.statistics().handshakes_failed == from_failed + 1; }, patience));
    EXPECT_TRUE(wait_until([&] { return to_logs.contains("encryption mismatch"); }, patience)) << to_logs.all();
    EXPECT_TRUE(wait_until([&] { return from_logs.contains("encryption mismatch"); }, patience)) << from_logs.all();
    EXPECT_EQ(from.peer_count(), 0u);
    EXPECT_EQ(to.peer_count(), 0u);
}

TEST(NodeNoiseTest, EncryptedAndPlaintextNodesRefuseEachOther) {
    io_thread io;
    noise_node encrypted(io.executor(), loopback());
    plain_node plain(io.executor(), loopback());
    encrypted.start();
    plain.start();
    {
        SCOPED_TRACE("noise dials plaintext");
        expect_mismatch(encrypted, plain);
    }
    {
        SCOPED_TRACE("plaintext dials noise");
        expect_mismatch(plain, encrypted);
    }
    stop_and_wait(encrypted);
    stop_and_wait(plain);
}

TEST(NodeNoiseTest, EnabledAndDisabledNoiseRefuseEachOther) {
    io_thread io;
    noise_node enabled(io.executor(), loopback()), disabled(io.executor(), loopback());
    disabled.crypto().set_enabled(false);
    EXPECT_FALSE(disabled.crypto().encrypted());
    EXPECT_EQ(disabled.crypto().wire_id(), 0);
    enabled.start();
    disabled.start();
    {
        SCOPED_TRACE("enabled dials disabled");
        expect_mismatch(enabled, disabled);
    }
    {
        SCOPED_TRACE("disabled dials enabled");
        expect_mismatch(disabled, enabled);
    }
    stop_and_wait(enabled);
    stop_and_wait(disabled);
}

TEST(NodeNoiseTest, DisabledNoiseTalksToAPlaintextNode) {
    io_thread io;
    noise_node disabled(io.executor(), loopback());
    plain_node plain(io.executor(), loopback()), plain2(io.executor(), loopback());
    disabled.crypto().set_enabled(false);
    const auto disabled_box = inbox::attach(disabled, {"m"});
    const auto plain_box = inbox::attach(plain, {"m"});
    const auto plain2_box = inbox::attach(plain2, {"m"});
    disabled.start();
    plain.start();
    plain2.start();

    // The disabled node dials...
    const auto [ec, plain_id] = dial(disabled, plain.listen_port());
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(plain_id, plain.peer_id());
    ASSERT_TRUE(wait_until([&] { return plain.find_peer(disabled.peer_id()).has_value(); }, patience));
    const auto at_disabled = disabled.find_peer(plain.peer_id());
    const auto at_plain = plain.find_peer(disabled.peer_id());
    ASSERT_TRUE(at_disabled && at_plain);
    EXPECT_FALSE(at_disabled->encrypted);
    EXPECT_FALSE(at_plain->encrypted);
    EXPECT_TRUE(at_disabled->public_key.empty());
    EXPECT_TRUE(at_disabled->handshake_hash.empty());
    ASSERT_FALSE(send_json(disabled, plain_id, "m", {{"n", 1}}));
    ASSERT_FALSE(send_json(plain, disabled.peer_id(), "m", {{"n", 2}}));
    ASSERT_TRUE(wait_until([&] { return plain_box->size() == 1 && disabled_box->size() == 1; }, patience));
    EXPECT_EQ(plain_box->snapshot()[0].json.value("n", 0), 1);
    EXPECT_EQ(disabled_box->snapshot()[0].json.value("n", 0), 2);

    // ...and is dialed.
    const auto [ec2, disabled_id] = dial(plain2, disabled.listen_port());
    ASSERT_FALSE(ec2) << ec2.message();
    EXPECT_EQ(disabled_id, disabled.peer_id());
    ASSERT_FALSE(send_bytes(plain2, disabled_id, data_kind::binary, "to disabled"));
    ASSERT_TRUE(wait_until([&] { return disabled_box->size() == 2; }, patience));
    EXPECT_EQ(disabled_box->snapshot()[1].bytes, "to disabled");
    ASSERT_TRUE(wait_until([&] { return disabled.find_peer(plain2.peer_id()).has_value(); }, patience));
    ASSERT_FALSE(send_bytes(disabled, plain2.peer_id(), data_kind::text, "to plain2"));
    ASSERT_TRUE(wait_until([&] { return plain2_box->size() == 1; }, patience));
    EXPECT_EQ(plain2_box->snapshot()[0].bytes, "to plain2");

    stop_and_wait(disabled);
    stop_and_wait(plain);
    stop_and_wait(plain2);
}

// ---- 4. expected peer IDs and configured keys

TEST(NodeNoiseTest, ExpectedPeerIdIsProvenByTheHandshake) {
    io_thread io;
    noise_node a(io.executor(), loopback()), b(io.executor(), loopback()), c(io.executor(), loopback());
    a.start();
    b.start();
    c.start();

    const auto [ok, id] = dial(b, a.listen_port(), a.peer_id());
    ASSERT_FALSE(ok) << ok.message();
    EXPECT_EQ(id, a.peer_id());

    // c expects b at a's port: a proves another key in message 2, so c stops before message 3
    // and a never learns who c is.
    std::mutex seen_mutex;
    std::vector<std::string> a_saw;
    a.set_peer_connected_handler([&](const peer_info& info) {
        std::lock_guard<std::mutex> lock(seen_mutex);
        a_saw.push_back(info.peer_id);
    });
    const auto a_failed_before = a.statistics().handshakes_failed;
    test::log_capture c_logs(c.log());
    const auto [ec, none] = dial(c, a.listen_port(), b.peer_id());
    EXPECT_EQ(ec, make_error_code(errc::authentication_failed)) << ec.message();
    EXPECT_TRUE(none.empty());
    EXPECT_TRUE(c_logs.contains("not the expected")) << c_logs.all();
    EXPECT_EQ(c.peer_count(), 0u);
    EXPECT_TRUE(wait_until([&] { return c.statistics().handshakes_failed == 1; }, patience));
    EXPECT_FALSE(c.find_peer(a.peer_id()));
    EXPECT_TRUE(wait_until([&] { return a.statistics().handshakes_failed == a_failed_before + 1; }, patience));
    {
        std::lock_guard<std::mutex> lock(seen_mutex);
        EXPECT_EQ(std::count(a_saw.begin(), a_saw.end(), c.peer_id()), 0) << "c revealed itself to a";
    }
    EXPECT_FALSE(a.find_peer(c.peer_id()));
    // b's connection is untouched.
    EXPECT_TRUE(a.find_peer(b.peer_id()));

    stop_and_wait(a);
    stop_and_wait(b);
    stop_and_wait(c);
}

TEST(NodeNoiseTest, ConfiguredStaticKeyDeterminesThePeerId) {
    const noise_xx<> holder;  // the key's owner elsewhere, e.g. a key file
    const auto key_hex = holder.static_private_key_hex();
    ASSERT_TRUE(is_lower_hex(key_hex, 64));

    io_thread io;
    noise_node keyed(io.executor(), loopback()), dialer(io.executor(), loopback());
    const auto generated_id = keyed.peer_id();
    EXPECT_FALSE(keyed.crypto().set_static_private_key_hex("not hex"));
    EXPECT_FALSE(keyed.crypto().set_static_private_key_hex(key_hex.substr(1)));
    EXPECT_FALSE(keyed.crypto().set_static_private_key_hex(key_hex + "00"));
    EXPECT_EQ(keyed.peer_id(), generated_id) << "a rejected key changed the identity";
    ASSERT_TRUE(keyed.crypto().set_static_private_key_hex(key_hex));
    EXPECT_EQ(keyed.peer_id(), holder.local_peer_id());
    EXPECT_EQ(keyed.peer_id(), noise_xx<>::peer_id_from_public_key(holder.static_public_key()));
    EXPECT_NE(keyed.peer_id(), generated_id);
    EXPECT_EQ(keyed.crypto().static_public_key_hex(), holder.static_public_key_hex());
    EXPECT_EQ(keyed.crypto().static_private_key_hex(), key_hex);

    keyed.start();
    dialer.start();
    const auto [ec, id] = dial(dialer, keyed.listen_port(), holder.local_peer_id());
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(id, holder.local_peer_id());
    const auto info = dialer.find_peer(id);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->public_key, holder.static_public_key_hex());

    stop_and_wait(keyed);
    stop_and_wait(dialer);
}

// ---- 5. rekey

TEST(NodeNoiseTest, RekeyAfterEightRecordsKeepsEveryMessageInOrder) {
    io_thread io;
    auto sender_options = loopback();
    sender_options.rekey_after_records = 8;
    noise_node receiver(io.executor(), loopback()), sender(io.executor(), sender_options);
    // Sequence numbers of everything received, JSON and binary alike.
    auto order = std::make_shared<std::pair<std::mutex, std::vector<int>>>();
    auto corrupt = std::make_shared<std::atomic<int>>(0);
    receiver.on("seq", [order](const std::string&, const nlohmann::json& data) {
        std::lock_guard<std::mutex> lock(order->first);
        order->second.push_back(data.at("i").get<int>());
    });
    receiver.set_data_handler([order, corrupt](const peer_info&, data_kind, std::string_view bytes) {
        const int i = std::stoi(std::string(bytes.substr(0, bytes.find(':'))));
        if (bytes.size() != 200 * 1024 || bytes.find_first_not_of(static_cast<char>('a' + i % 26), bytes.find(':') + 1) !=
                                               std::string_view::npos)
            ++*corrupt;
        std::lock_guard<std::mutex> lock(order->first);
        order->second.push_back(i);
    });
    receiver.start();
    sender.start();
    const auto [ec, id] = dial(sender, receiver.listen_port());
    ASSERT_FALSE(ec) << ec.message();

    // Each send waits for the previous one: one batch, so at least one record, each.
    constexpr int total = 2000;
    for (int i = 0; i < total; ++i) {
        std::error_code sent;
        if (i % 200 == 100) {
            std::string big = std::to_string(i) + ':';
            big.resize(200 * 1024, static_cast<char>('a' + i % 26));
            sent = send_bytes(sender, id, data_kind::binary, big);
        } else {
            sent = send_json(sender, id, "seq", {{"i", i}, {"pad", "small"}});
        }
        ASSERT_FALSE(sent) << "message " << i << ": " << sent.message();
    }
    ASSERT_TRUE(wait_until(
        [&] {
            std::lock_guard<std::mutex> lock(order->first);
            return order->second.size() == total;
        },
        patience));
    {
        std::lock_guard<std::mutex> lock(order->first);
        for (int i = 0; i < total; ++i) ASSERT_EQ(order->second[i], i) << "out of order at " << i;
    }
    EXPECT_EQ(*corrupt, 0);
    EXPECT_GT(sender.statistics().rekeys_sent, 100u);
    EXPECT_TRUE(wait_until([&] { return receiver.statistics().rekeys_received == sender.statistics().rekeys_sent; },
                           patience))
        << receiver.statistics().rekeys_received << " received, " << sender.statistics().rekeys_sent << " sent";
    EXPECT_EQ(receiver.statistics().rekeys_sent, 0u);
    EXPECT_EQ(sender.statistics().rekeys_received, 0u);
    EXPECT_EQ(receiver.statistics().peers_dropped, 0u);
    EXPECT_TRUE(receiver.find_peer(sender.peer_id()));

    stop_and_wait(receiver);
    stop_and_wait(sender);
}

TEST(NodeNoiseTest, RekeyAfterBytesKeepsLargeMessagesIntact) {
    io_thread io;
    auto sender_options = loopback();
    sender_options.rekey_after_records = 0;  // off: bytes only
    sender_options.rekey_after_bytes = 100'000;
    noise_node receiver(io.executor(), loopback()), sender(io.executor(), sender_options);
    const auto box = inbox::attach(receiver, {});
    receiver.start();
    sender.start();
    const auto [ec, id] = dial(sender, receiver.listen_port());
    ASSERT_FALSE(ec) << ec.message();
    // 64 KiB per batch. A batch that starts past 100,000 bytes ends in the rekey frame: every
    // third batch here.
    constexpr int total = 20;
    for (int i = 0; i < total; ++i) ASSERT_FALSE(send_bytes(sender, id, data_kind::binary, random_bytes(64 * 1024, 100 + i)));
    ASSERT_TRUE(wait_until([&] { return box->size() == total; }, patience));
    const auto received = box->snapshot();
    for (int i = 0; i < total; ++i) EXPECT_TRUE(received[i].bytes == random_bytes(64 * 1024, 100 + i)) << "message " << i;
    EXPECT_GE(sender.statistics().rekeys_sent, 5u);
    EXPECT_LE(sender.statistics().rekeys_sent, 10u);
    EXPECT_TRUE(wait_until([&] { return receiver.statistics().rekeys_received == sender.statistics().rekeys_sent; },
                           patience));
    stop_and_wait(receiver);
    stop_and_wait(sender);
}

TEST(NodeNoiseTest, RekeyOnRequestReplacesOneKeyAndTrafficGoesOn) {
    io_thread io;
    noise_node a(io.executor(), loopback()), b(io.executor(), loopback());
    const auto a_box = inbox::attach(a, {"m"});
    const auto b_box = inbox::attach(b, {"m"});
    a.start();
    b.start();
    const auto [ec, a_id] = dial(b, a.listen_port());
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_TRUE(wait_until([&] { return a.find_peer(b.peer_id()).has_value(); }, patience));
    ASSERT_FALSE(send_json(b, a_id, "m", {{"n", 0}}));
    ASSERT_TRUE(wait_until([&] { return a_box->size() == 1; }, patience));
    EXPECT_EQ(b.statistics().rekeys_sent, 0u);

    // Nothing queued: the rekey frame goes alone.
    b.rekey(a_id);
    EXPECT_TRUE(wait_until([&] { return a.statistics().rekeys_received == 1; }, patience));
    EXPECT_EQ(b.statistics().rekeys_sent, 1u);
    EXPECT_EQ(a.statistics().rekeys_sent, 0u);
    ASSERT_FALSE(send_json(b, a_id, "m", {{"n", 1}}));
    ASSERT_FALSE(send_json(a, b.peer_id(), "m", {{"n", 2}}));
    ASSERT_TRUE(wait_until([&] { return a_box->size() == 2 && b_box->size() == 1; }, patience));

    // The other direction.
    a.rekey(b.peer_id());
    EXPECT_TRUE(wait_until([&] { return b.statistics().rekeys_received == 1; }, patience));
    EXPECT_EQ(a.statistics().rekeys_sent, 1u);
    EXPECT_EQ(b.statistics().rekeys_sent, 1u);
    ASSERT_FALSE(send_json(b, a_id, "m", {{"n", 3}}));
    ASSERT_FALSE(send_json(a, b.peer_id(), "m", {{"n", 4}}));
    ASSERT_TRUE(wait_until([&] { return a_box->size() == 3 && b_box->size() == 2; }, patience));
    EXPECT_EQ(a_box->snapshot()[2].json.value("n", -1), 3);
    EXPECT_EQ(b_box->snapshot()[1].json.value("n", -1), 4);

    // Unknown peers and plaintext connections: nothing happens.
    b.rekey("no-such-peer");
    EXPECT_EQ(a.peer_count(), 1u);
    stop_and_wait(a);
    stop_and_wait(b);
}

// A request made while a write is in flight must still go out once that write is done.
TEST(NodeNoiseTest, RekeyRequestedWhileAWriteIsInFlightIsNotLost) {
    io_thread io;
    auto options = loopback();
    noise_node node(io.executor(), options), sender(io.executor(), options);
    const auto box = inbox::attach(node, {"m"});
    node.start();
    sender.start();
    tamper_proxy proxy(node.listen_port());
    const auto [ec, id] = dial(sender, proxy.port());
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_TRUE(wait_until([&] { return node.find_peer(sender.peer_id()).has_value(); }, patience));

    // The relay stops reading: a 16 MiB write (far more than the kernel buffers between) cannot
    // finish until it resumes.
    proxy.pause(direction::to_node);
    auto sent = sender.async_send_data(id, data_kind::binary, std::string(16 * 1024 * 1024, 'z'), test::error_future);
    sender.rekey(id);
    // Strand order: once this runs, the rekey request has been handled.
    auto handled = asio::post(sender.get_executor(), asio::use_future);
    ASSERT_EQ(handled.wait_for(patience), std::future_status::ready);
    if (sent.wait_for(0ms) == std::future_status::ready) {
        proxy.resume(direction::to_node);
        GTEST_SKIP() << "the kernel buffered the whole message: no write was in flight";
    }
    proxy.resume(direction::to_node);
    ASSERT_EQ(sent.wait_for(patience), std::future_status::ready);
    EXPECT_FALSE(sent.get());
    ASSERT_TRUE(wait_until([&] { return box->size() == 1; }, patience));

    EXPECT_TRUE(wait_until([&] { return sender.statistics().rekeys_sent == 1; }, 3000ms))
        << "the rekey requested during the write never went out";
    EXPECT_TRUE(wait_until([&] { return node.statistics().rekeys_received == sender.statistics().rekeys_sent; }, patience));
    // And the connection still works after it.
    ASSERT_FALSE(send_json(sender, id, "m", {{"after", true}}));
    EXPECT_TRUE(wait_until([&] { return box->size() == 2; }, patience));
    stop_and_wait(node);
    stop_and_wait(sender);
}

// ---- 6. a man in the middle

class NodeNoiseTamperTest : public ::testing::Test {
protected:
    NodeNoiseTamperTest()
        : node_(io_.executor(), loopback()), dialer_(io_.executor(), loopback()), node_logs_(node_.log()),
          dialer_logs_(dialer_.log()), box_(inbox::attach(node_, {"msg"})), connected_(std::make_shared<connected_ids>()) {
        node_.set_peer_connected_handler([ids = connected_](const peer_info& info) {
            std::lock_guard<std::mutex> lock(ids->mutex);
            ids->ids.push_back(info.peer_id);
        });
        node_.start();
        dialer_.start();
    }

    ~NodeNoiseTamperTest() override {
        stop_and_wait(node_);
        stop_and_wait(dialer_);
    }

    struct connected_ids {
        std::mutex mutex;
        std::vector<std::string> ids;
    };

    bool node_connected_to(const std::string& id) const {
        std::lock_guard<std::mutex> lock(connected_->mutex);
        for (const auto& c : connected_->ids)
            if (c == id) return true;
        return false;
    }

    std::pair<std::error_code, std::string> dial_through(const tamper_proxy& proxy) {
        return dial(dialer_, proxy.port());
    }

    // A handshake message was tampered with: nobody keeps a connection, the node counts the failure.
    void expect_handshake_failed(tamper_proxy& proxy) {
        EXPECT_EQ(proxy.rules_applied(), 1u);
        EXPECT_TRUE(wait_until([&] { return node_.statistics().handshakes_failed == 1; }, patience))
            << node_logs_.all();
        EXPECT_TRUE(wait_until([&] { return proxy.connections_closed() == 1; }, patience));
        EXPECT_TRUE(wait_until([&] { return dialer_.peer_count() == 0 && node_.peer_count() == 0; }, patience));
        EXPECT_FALSE(node_connected_to(dialer_.peer_id())) << "the node accepted a tampered handshake";
        EXPECT_EQ(node_.statistics().messages_received, 0u);
    }

    // Connected through the proxy, each side knows the other.
    std::string connect_through(tamper_proxy& proxy) {
        const auto [ec, id] = dial_through(proxy);
        EXPECT_FALSE(ec) << ec.message();
        EXPECT_EQ(id, node_.peer_id());
        EXPECT_TRUE(wait_until([&] { return node_.find_peer(dialer_.peer_id()).has_value(); }, patience));
        return id;
    }

    // The node closed the tampered connection, naming the reason.
    void expect_dropped_for(tamper_proxy& proxy, const std::string& reason) {
        const auto line = "dropping peer " + dialer_.peer_id();
        EXPECT_TRUE(wait_until([&] { return node_logs_.contains(line) && node_logs_.contains(reason); }, patience))
            << "expected \"" << line << ": " << reason << "\" in:\n"
            << node_logs_.all();
        EXPECT_TRUE(wait_until([&] { return node_.peer_count() == 0 && dialer_.peer_count() == 0; }, patience));
        EXPECT_TRUE(wait_until([&] { return proxy.connections_closed() == 1; }, patience));
        EXPECT_GE(node_.statistics().peers_dropped, 1u);
    }

    // A fresh, direct connection to the node exchanges messages both ways.
    void expect_node_keeps_serving() {
        noise_node fresh(io_.executor(), loopback());
        const auto fresh_box = inbox::attach(fresh, {"msg"});
        fresh.start();
        const auto [ec, id] = dial(fresh, node_.listen_port(), node_.peer_id());
        ASSERT_FALSE(ec) << ec.message();
        ASSERT_FALSE(send_json(fresh, id, "msg", {{"from", "fresh"}}));
        EXPECT_TRUE(wait_until([&] { return box_->count_from(fresh.peer_id()) == 1; }, patience));
        ASSERT_TRUE(wait_until([&] { return node_.find_peer(fresh.peer_id()).has_value(); }, patience));
        ASSERT_FALSE(send_json(node_, fresh.peer_id(), "msg", {{"from", "node"}}));
        EXPECT_TRUE(wait_until([&] { return fresh_box->count_from(node_.peer_id()) == 1; }, patience));
        stop_and_wait(fresh);
    }

    io_thread io_;
    noise_node node_;
    noise_node dialer_;
    test::log_capture node_logs_;
    test::log_capture dialer_logs_;
    std::shared_ptr<inbox> box_;
    std::shared_ptr<connected_ids> connected_;
};

// Message 1 (the initiator's ephemeral key, in the clear): the responder cannot tell, but its
// message 2 then fails to authenticate at the initiator.
TEST_F(NodeNoiseTamperTest, BitFlipInHandshakeMessage1) {
    tamper_proxy proxy(node_.listen_port(), {{direction::to_node, 1, action::flip_bits, 5, 0x10}});
    const auto [ec, id] = dial_through(proxy);
    EXPECT_EQ(ec, make_error_code(errc::authentication_failed)) << ec.message();
    EXPECT_TRUE(id.empty());
    EXPECT_TRUE(wait_until([&] { return dialer_logs_.contains("authentication failed"); }, patience)) << dialer_logs_.all();
    EXPECT_TRUE(wait_until([&] { return dialer_.statistics().handshakes_failed == 1; }, patience));
    expect_handshake_failed(proxy);
    expect_node_keeps_serving();
}

// Message 2 (the responder's keys and hello): the initiator rejects it.
TEST_F(NodeNoiseTamperTest, BitFlipInHandshakeMessage2) {
    tamper_proxy proxy(node_.listen_port(), {{direction::to_dialer, 1, action::flip_bits, 40, 0x01}});
    const auto [ec, id] = dial_through(proxy);
    EXPECT_EQ(ec, make_error_code(errc::authentication_failed)) << ec.message();
    EXPECT_TRUE(id.empty());
    EXPECT_TRUE(wait_until([&] { return dialer_logs_.contains("authentication failed"); }, patience)) << dialer_logs_.all();
    expect_handshake_failed(proxy);
    expect_node_keeps_serving();
}

// Message 3 (the initiator's static key and hello): the responder rejects it. The initiator is
// done after writing it, so its connect may succeed before the responder hangs up.
TEST_F(NodeNoiseTamperTest, BitFlipInHandshakeMessage3) {
    tamper_proxy proxy(node_.listen_port(), {{direction::to_node, 2, action::flip_bits, 40, 0x80}});
    const auto [ec, id] = dial_through(proxy);
    if (!ec) {
        EXPECT_EQ(id, node_.peer_id());
    }
    EXPECT_TRUE(wait_until([&] { return node_logs_.contains("authentication failed"); }, patience)) << node_logs_.all();
    EXPECT_TRUE(node_logs_.contains("dropping peer 127.0.0.1:")) << node_logs_.all();
    expect_handshake_failed(proxy);
    expect_node_keeps_serving();
}

TEST_F(NodeNoiseTamperTest, BitFlipInFirstTransportRecordDeliversNothing) {
    // Dialer -> node: preamble, message 1, message 3, then the first record (unit 3).
    tamper_proxy proxy(node_.listen_port(), {{direction::to_node, 3, action::flip_bits, 20, 0x04}});
    const auto id = connect_through(proxy);
    ASSERT_FALSE(send_json(dialer_, id, "msg", {{"secret", "must never arrive"}}));
    expect_dropped_for(proxy, "authentication failed");
    EXPECT_EQ(proxy.rules_applied(), 1u);
    // The node said why before closing.
    EXPECT_TRUE(wait_until([&] { return dialer_logs_.contains("said goodbye: authentication failed"); }, patience))
        << dialer_logs_.all();
    expect_node_keeps_serving();
    EXPECT_EQ(box_->count_from(dialer_.peer_id()), 0u) << "a tampered record was delivered";
    EXPECT_EQ(box_->size(), 1u);
}

TEST_F(NodeNoiseTamperTest, ReplayedTransportRecordIsRejected) {
    tamper_proxy proxy(node_.listen_port(), {{direction::to_node, 3, action::duplicate}});
    const auto id = connect_through(proxy);
    ASSERT_FALSE(send_json(dialer_, id, "msg", {{"n", 1}}));
    expect_dropped_for(proxy, "authentication failed");
    EXPECT_EQ(proxy.rules_applied(), 1u);
    // The original is delivered once; its replay is not.
    EXPECT_EQ(box_->count_from(dialer_.peer_id()), 1u);
    expect_node_keeps_serving();
    EXPECT_EQ(box_->count_from(dialer_.peer_id()), 1u) << "a replayed record was delivered";
}

TEST_F(NodeNoiseTamperTest, DroppedTransportRecordFailsTheNextOne) {
    tamper_proxy proxy(node_.listen_port(), {{direction::to_node, 3, action::drop}});
    const auto id = connect_through(proxy);
    // Two records: the send completes once the first is handed to the socket.
    ASSERT_FALSE(send_json(dialer_, id, "msg", {{"n", 1}}));
    ASSERT_FALSE(send_json(dialer_, id, "msg", {{"n", 2}}));
    expect_dropped_for(proxy, "authentication failed");
    EXPECT_EQ(proxy.rules_applied(), 1u);
    EXPECT_EQ(proxy.units_seen(direction::to_node), 5u);
    expect_node_keeps_serving();
    EXPECT_EQ(box_->count_from(dialer_.peer_id()), 0u) << "a record after a gap was delivered";
}

TEST_F(NodeNoiseTamperTest, TruncatedRecordThenCloseDeliversNothing) {
    tamper_proxy proxy(node_.listen_port(), {{direction::to_node, 3, action::truncate_and_close, 10}});
    const auto id = connect_through(proxy);
    ASSERT_FALSE(send_json(dialer_, id, "msg", {{"secret", "half a record"}}));
    const auto line = "connection to " + dialer_.peer_id();
    EXPECT_TRUE(wait_until([&] { return node_logs_.contains(line) || node_logs_.contains("dropping peer " + dialer_.peer_id()); },
                           patience))
        << node_logs_.all();
    EXPECT_TRUE(wait_until([&] { return node_.peer_count() == 0 && dialer_.peer_count() == 0; }, patience));
    EXPECT_EQ(proxy.connections_closed(), 1u);
    EXPECT_EQ(proxy.rules_applied(), 1u);
    expect_node_keeps_serving();
    EXPECT_EQ(box_->count_from(dialer_.peer_id()), 0u) << "a truncated record was delivered";
}

// ---- 7. a stalled handshake

TEST(NodeNoiseTest, StalledHandshakeIsDroppedAfterTheTimeout) {
    io_thread io;
    auto options = loopback();
    options.handshake_timeout = 300ms;
    noise_node node(io.executor(), options), good(io.executor(), loopback());
    test::log_capture logs(node.log());
    const auto box = inbox::attach(node, {"ok"});
    node.start();
    good.start();

    {
        // A valid Noise preamble, then silence.
        const auto started = std::chrono::steady_clock::now();
        test::raw_peer stalled(node.listen_port());
        const auto preamble = wire::make_preamble(1);
        stalled.send(std::string(preamble.begin(), preamble.end()));
        EXPECT_TRUE(stalled.closed_by_peer(patience)) << "the node kept a silent peer";
        EXPECT_GE(std::chrono::steady_clock::now() - started, 250ms) << "dropped before the timeout";
        EXPECT_TRUE(wait_until([&] { return logs.contains("dropping peer 127.0.0.1:") && logs.contains("handshake timed out"); },
                               patience))
            << logs.all();
        EXPECT_EQ(node.statistics().handshakes_failed, 1u);
    }
    {
        // Message 1 too, then silence while the node waits for message 3.
        test::raw_peer stalled(node.listen_port());
        const auto preamble = wire::make_preamble(1);
        const noise_xx<> crypto;
        std::string prologue = "librats";
        prologue += '\x01';
        prologue += '\x01';
        noise_xx<>::handshake hs(crypto, true, prologue, "{}");
        std::string message;
        ASSERT_FALSE(hs.write_message(message));
        stalled.send(std::string(preamble.begin(), preamble.end()) + test::raw_peer::with_length(message));
        EXPECT_TRUE(stalled.closed_by_peer(patience)) << "the node kept a peer stalled after message 1";
        EXPECT_TRUE(wait_until([&] { return node.statistics().handshakes_failed == 2; }, patience)) << logs.all();
    }

    const auto [ec, id] = dial(good, node.listen_port());
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_FALSE(send_json(good, id, "ok", {{"still", "serving"}}));
    EXPECT_TRUE(wait_until([&] { return box->count_from(good.peer_id()) == 1; }, patience));
    stop_and_wait(node);
    stop_and_wait(good);
}

// ---- 8. RatsClient's encryption API

using test::client_pair;

TEST(RatsClientNoiseTest, ClientsEncryptByDefaultAndAgreeOnTheChannel) {
    client_pair p;
    EXPECT_TRUE(p.a.is_encryption_enabled());
    EXPECT_TRUE(p.b.is_encryption_enabled());
    EXPECT_TRUE(p.a.get_connection_statistics().value("encryption_enabled", false));
    std::promise<std::string> got;
    p.a.on("chat", [&](const std::string&, const nlohmann::json& data) { got.set_value(data.value("text", "")); });
    p.connect();

    const auto a_id = p.a.get_our_peer_id(), b_id = p.b.get_our_peer_id();
    EXPECT_TRUE(p.a.is_peer_encrypted(b_id));
    EXPECT_TRUE(p.b.is_peer_encrypted(a_id));
    EXPECT_FALSE(p.a.is_peer_encrypted("no-such-peer"));
    EXPECT_EQ(p.a.get_peer_noise_public_key(b_id), p.b.get_node().crypto().static_public_key_hex());
    EXPECT_EQ(p.b.get_peer_noise_public_key(a_id), p.a.get_node().crypto().static_public_key_hex());
    EXPECT_EQ(noise_xx<>::peer_id_from_public_key(key_from_hex(p.a.get_peer_noise_public_key(b_id))), b_id);
    const auto hash = p.a.get_peer_handshake_hash(b_id);
    EXPECT_TRUE(is_lower_hex(hash, 64)) << hash;
    EXPECT_EQ(p.b.get_peer_handshake_hash(a_id), hash);
    EXPECT_EQ(p.a.get_peer_handshake_hash("no-such-peer"), "");
    const auto peer = p.a.get_peer_by_id(b_id);
    ASSERT_TRUE(peer);
    EXPECT_TRUE(peer->encryption_enabled);

    p.b.send(a_id, "chat", {{"text", "encrypted hello"}});
    auto text = got.get_future();
    ASSERT_EQ(text.wait_for(patience), std::future_status::ready);
    EXPECT_EQ(text.get(), "encrypted hello");
}

TEST(RatsClientNoiseTest, EncryptionKeyIsTheIdentity) {
    const noise_xx<> holder;
    const auto key_hex = holder.static_private_key_hex();
    RatsClient client(0, 10, "127.0.0.1");
    test::log_capture logs(client.get_node().log());
    const auto original_id = client.get_our_peer_id();
    const auto original_key = client.get_encryption_key();
    EXPECT_TRUE(is_lower_hex(original_key, 64)) << original_key;
    EXPECT_EQ(client.get_our_peer_id(), noise_xx<>::peer_id_from_public_key(client.get_node().crypto().static_public_key()));

    // Invalid keys change nothing.
    for (const std::string& bad : {std::string(), std::string("zz"), key_hex.substr(2), key_hex + "ab",
                                  std::string(63, 'a') + "g"}) {
        EXPECT_FALSE(client.set_encryption_key(bad)) << bad;
        EXPECT_EQ(client.get_our_peer_id(), original_id);
        EXPECT_EQ(client.get_encryption_key(), original_key);
    }

    // Before start: the key sets the peer ID; hex of either case, read back in lower case.
    std::string upper = key_hex;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    ASSERT_TRUE(client.set_encryption_key(upper));
    EXPECT_EQ(client.get_encryption_key(), key_hex);
    EXPECT_EQ(client.get_our_peer_id(), holder.local_peer_id());

    const auto generated = client.generate_new_encryption_key();
    EXPECT_TRUE(is_lower_hex(generated, 64)) << generated;
    EXPECT_EQ(client.get_encryption_key(), generated);
    EXPECT_NE(client.get_our_peer_id(), holder.local_peer_id());
    noise_xx<> check;
    ASSERT_TRUE(check.set_static_private_key_hex(generated));
    EXPECT_EQ(client.get_our_peer_id(), check.local_peer_id());

    ASSERT_TRUE(client.set_encryption_key(key_hex));
    EXPECT_EQ(client.get_our_peer_id(), holder.local_peer_id());

    // While running: refused, with a logged reason.
    ASSERT_TRUE(client.start());
    EXPECT_FALSE(client.set_encryption_key(check.static_private_key_hex()));
    EXPECT_EQ(client.generate_new_encryption_key(), "");
    EXPECT_EQ(client.get_our_peer_id(), holder.local_peer_id());
    EXPECT_EQ(client.get_encryption_key(), key_hex);
    EXPECT_TRUE(logs.contains("before start")) << logs.all();

    // A peer that expects the key holder reaches this client.
    io_thread io;
    noise_node dialer(io.executor(), loopback());
    dialer.start();
    const auto [ec, id] = dial(dialer, static_cast<std::uint16_t>(client.get_listen_port()), holder.local_peer_id());
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(id, holder.local_peer_id());
    EXPECT_TRUE(wait_until([&] { return client.is_peer_encrypted(dialer.peer_id()); }, patience));
    stop_and_wait(dialer);
    client.stop();

    // Stopped again: the key may change.
    EXPECT_FALSE(client.generate_new_encryption_key().empty());
    EXPECT_NE(client.get_our_peer_id(), holder.local_peer_id());
}

TEST(RatsClientNoiseTest, ClientsWithEncryptionDisabledConnectInTheClear) {
    client_pair p;
    EXPECT_TRUE(p.a.initialize_encryption(false));
    p.b.set_encryption_enabled(false);
    EXPECT_FALSE(p.a.is_encryption_enabled());
    EXPECT_FALSE(p.b.is_encryption_enabled());
    EXPECT_FALSE(p.a.get_connection_statistics().value("encryption_enabled", true));
    std::promise<std::string> got;
    p.a.on("chat", [&](const std::string&, const nlohmann::json& data) { got.set_value(data.value("text", "")); });
    p.connect();

    const auto a_id = p.a.get_our_peer_id(), b_id = p.b.get_our_peer_id();
    EXPECT_FALSE(p.a.is_peer_encrypted(b_id));
    EXPECT_FALSE(p.b.is_peer_encrypted(a_id));
    EXPECT_EQ(p.a.get_peer_noise_public_key(b_id), "");
    EXPECT_EQ(p.a.get_peer_handshake_hash(b_id), "");
    EXPECT_EQ(p.b.get_peer_handshake_hash(a_id), "");
    const auto peer = p.a.get_peer_by_id(b_id);
    ASSERT_TRUE(peer);
    EXPECT_FALSE(peer->encryption_enabled);

    p.b.send(a_id, "chat", {{"text", "clear hello"}});
    auto text = got.get_future();
    ASSERT_EQ(text.wait_for(patience), std::future_status::ready);
    EXPECT_EQ(text.get(), "clear hello");
}

TEST(RatsClientNoiseTest, EncryptedAndUnencryptedClientsDoNotConnect) {
    RatsClient encrypted(0, 10, "127.0.0.1"), clear(0, 10, "127.0.0.1");
    test::log_capture logs(encrypted.get_node().log()), clear_logs(clear.get_node().log());
    clear.set_encryption_enabled(false);
    ASSERT_TRUE(encrypted.start());
    ASSERT_TRUE(clear.start());
    ASSERT_TRUE(clear.connect_to_peer("127.0.0.1", encrypted.get_listen_port()));
    EXPECT_TRUE(wait_until([&] { return encrypted.get_node().statistics().handshakes_failed == 1; }, patience));
    EXPECT_TRUE(wait_until([&] { return logs.contains("encryption mismatch"); }, patience)) << logs.all();
    EXPECT_TRUE(wait_until([&] { return clear_logs.contains("failed: encryption mismatch"); }, patience))
        << clear_logs.all();
    EXPECT_EQ(encrypted.get_peer_count(), 0);
    EXPECT_EQ(clear.get_peer_count(), 0);
}

}  // namespace
}  // namespace librats
