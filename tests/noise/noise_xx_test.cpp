// The noise_xx Crypto policy: the concept, identity, the handshake as the node drives it, the
// cipher, and the disabled mode talking to librats::plaintext.

#include <librats/concepts/crypto.hpp>
#include <librats/crypto/noise_xx.hpp>
#include <librats/crypto/plaintext.hpp>
#include <librats/error.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace librats {
namespace {

static_assert(concepts::check_crypto<noise_xx<>>());
static_assert(concepts::is_crypto_v<noise_xx<noise::botan_suite<noise::blake2b>>>);
static_assert(concepts::is_crypto_v<noise_xx<noise::botan_suite<noise::sha512>>>);
static_assert(noise_xx<>::protocol_name.view() == "Noise_XX_25519_ChaChaPoly_SHA256");
static_assert(noise_xx<>::suite_wire_id == 1);
static_assert(noise_xx<noise::botan_suite<noise::blake2b>>::suite_wire_id == 2);
static_assert(noise_xx<noise::botan_suite<noise::sha512>>::suite_wire_id == 3);

// Moves messages between two handshakes the way the node does, until both are done; each
// message passes through on_message (which may change it) on its way.
template <class I, class R>
std::error_code drive(I& initiator, R& responder, const std::function<void(int, std::string&)>& on_message = {}) {
    for (int i = 0; i < 8; ++i) {
        const bool initiator_done = initiator.next() == I::action::done;
        const bool responder_done = responder.next() == R::action::done;
        if (initiator_done && responder_done) return {};
        std::string message;
        std::error_code ec;
        if (initiator.next() == I::action::write && responder.next() == R::action::read) {
            if ((ec = initiator.write_message(message))) return ec;
            if (on_message) on_message(i, message);
            ec = responder.read_message(message);
        } else if (responder.next() == R::action::write && initiator.next() == I::action::read) {
            if ((ec = responder.write_message(message))) return ec;
            if (on_message) on_message(i, message);
            ec = initiator.read_message(message);
        } else {
            return errc::invalid_handshake_state;
        }
        if (ec) return ec;
    }
    return errc::invalid_handshake_state;
}

template <class Cipher>
std::string seal(Cipher& c, const std::string& plaintext) {
    std::string buffer = plaintext + std::string(c.tag_size(), '\0');
    auto* data = reinterpret_cast<unsigned char*>(buffer.data());
    c.seal(data, plaintext.size(), data + plaintext.size());
    return buffer;
}

template <class Cipher>
std::error_code open(Cipher& c, std::string& buffer) {
    auto ec = c.open(reinterpret_cast<unsigned char*>(buffer.data()), buffer.size());
    if (!ec) buffer.resize(buffer.size() - c.tag_size());
    return ec;
}

template <class Policy>
class NoiseXxPolicy : public ::testing::Test {};
using suites = ::testing::Types<noise_xx<>, noise_xx<noise::botan_suite<noise::blake2b>>,
                                noise_xx<noise::botan_suite<noise::sha512>>>;
TYPED_TEST_SUITE(NoiseXxPolicy, suites);

TYPED_TEST(NoiseXxPolicy, HandshakeDeliversHellosAndAuthenticatesPeers) {
    TypeParam a, b;
    EXPECT_TRUE(a.encrypted());
    EXPECT_EQ(a.wire_id(), TypeParam::suite_wire_id);
    typename TypeParam::handshake ha(a, true, "librats v1", "hello from a");
    typename TypeParam::handshake hb(b, false, "librats v1", "hello from b");
    std::vector<std::string> wire;
    ASSERT_FALSE(drive(ha, hb, [&](int, std::string& m) { wire.push_back(m); }));

    ASSERT_EQ(wire.size(), 3u);
    EXPECT_EQ(wire[0].size(), 32u);  // e only: no hello before there is a key
    for (const auto& m : wire) {
        EXPECT_EQ(m.find("hello from"), std::string::npos);
        EXPECT_EQ(m.find(std::string(reinterpret_cast<const char*>(a.static_public_key().data()), 32)), std::string::npos);
    }
    EXPECT_EQ(ha.remote_payload(), "hello from b");
    EXPECT_EQ(hb.remote_payload(), "hello from a");
    EXPECT_EQ(ha.handshake_hash(), hb.handshake_hash());
    EXPECT_EQ(ha.handshake_hash().size(), TypeParam::suite::hash_len);
    EXPECT_EQ(ha.authenticated_peer_id(), b.local_peer_id());
    EXPECT_EQ(hb.authenticated_peer_id(), a.local_peer_id());
    EXPECT_EQ(ha.remote_static_key(), std::string(reinterpret_cast<const char*>(b.static_public_key().data()), 32));

    auto ca = ha.split();
    auto cb = hb.split();
    EXPECT_EQ(ca.tag_size(), 16u);
    for (int i = 0; i < 3; ++i) {
        auto to_b = seal(ca, "a->b " + std::to_string(i));
        ASSERT_FALSE(open(cb, to_b));
        EXPECT_EQ(to_b, "a->b " + std::to_string(i));
        auto to_a = seal(cb, "b->a " + std::to_string(i));
        ASSERT_FALSE(open(ca, to_a));
        EXPECT_EQ(to_a, "b->a " + std::to_string(i));
    }
    EXPECT_EQ(ca.messages_sent(), 3u);
    EXPECT_EQ(ca.messages_received(), 3u);
}

TEST(NoiseXx, PeerIdIsDerivedFromTheStaticKey) {
    noise_xx<> a, b;
    EXPECT_NE(a.local_peer_id(), b.local_peer_id());
    EXPECT_EQ(a.local_peer_id().size(), plaintext().local_peer_id().size());
    EXPECT_EQ(a.local_peer_id().find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(a.local_peer_id(), noise_xx<>::peer_id_from_public_key(a.static_public_key()));
    EXPECT_EQ(a.static_public_key_hex().size(), 64u);

    ASSERT_TRUE(b.set_static_private_key_hex(a.static_private_key_hex()));
    EXPECT_EQ(b.local_peer_id(), a.local_peer_id());
    EXPECT_EQ(b.static_public_key(), a.static_public_key());
    EXPECT_FALSE(b.set_static_private_key_hex("xyz"));
    EXPECT_FALSE(b.set_static_private_key_hex(std::string(64, 'g')));
    EXPECT_EQ(b.local_peer_id(), a.local_peer_id());

    noise_xx<> c;
    c.set_static_private_key(a.static_private_key());
    EXPECT_EQ(c.local_peer_id(), a.local_peer_id());

    // RFC 7748 §6.1: Alice's key pair; the ID is SHA-256 of the public key, first 20 bytes.
    ASSERT_TRUE(c.set_static_private_key_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
    EXPECT_EQ(c.static_public_key_hex(), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    EXPECT_EQ(c.local_peer_id(), "300c9c9603b92a4b39ed3958bf9240114804db4f");
}

TEST(NoiseXx, PrologueMismatchFails) {
    noise_xx<> a, b;
    noise_xx<>::handshake ha(a, true, "librats v1", "a");
    noise_xx<>::handshake hb(b, false, "librats v2", "b");
    EXPECT_EQ(drive(ha, hb), errc::authentication_failed);
}

TEST(NoiseXx, TamperedHandshakeMessagesFail) {
    for (int target = 0; target < 3; ++target) {
        noise_xx<> a, b;
        noise_xx<>::handshake ha(a, true, "p", "hello a");
        noise_xx<>::handshake hb(b, false, "p", "hello b");
        EXPECT_EQ(drive(ha, hb,
                        [&](int i, std::string& m) {
                            if (i == target) m[m.size() / 2] ^= 0x10;
                        }),
                  errc::authentication_failed)
            << "message " << target;
    }
}

TEST(NoiseXx, FirstMessageMustCarryNoPayload) {
    noise_xx<> a, b;
    noise_xx<>::handshake ha(a, true, "p", "hello a");
    noise_xx<>::handshake hb(b, false, "p", "hello b");
    EXPECT_EQ(drive(ha, hb,
                    [](int i, std::string& m) {
                        if (i == 0) m += "sneaky";
                    }),
              errc::malformed_handshake);
}

TEST(NoiseXx, CipherRejectsTamperingReplayAndOneSidedRekey) {
    noise_xx<> a, b;
    noise_xx<>::handshake ha(a, true, "p", "a");
    noise_xx<>::handshake hb(b, false, "p", "b");
    ASSERT_FALSE(drive(ha, hb));
    auto ca = ha.split();
    auto cb = hb.split();

    auto sealed = seal(ca, "secret payload");
    auto tampered = sealed;
    tampered[3] ^= 1;
    EXPECT_EQ(open(cb, tampered), errc::authentication_failed);
    EXPECT_EQ(tampered.find("secret"), std::string::npos);
    auto good = sealed;
    ASSERT_FALSE(open(cb, good));
    auto replay = sealed;
    EXPECT_EQ(open(cb, replay), errc::authentication_failed);

    ASSERT_FALSE(ca.rekey_send());
    ASSERT_FALSE(cb.rekey_receive());
    auto after = seal(ca, "after rekey");
    ASSERT_FALSE(open(cb, after));
    EXPECT_EQ(after, "after rekey");
    ASSERT_FALSE(cb.rekey_send());
    auto one_sided = seal(cb, "one-sided");
    EXPECT_EQ(open(ca, one_sided), errc::authentication_failed);
}

TEST(NoiseXx, CipherOfAnUnfinishedHandshakeRefuses) {
    noise_xx<> a;
    noise_xx<>::handshake ha(a, true, "p", "a");
    auto c = ha.split();
    std::string data = "plaintext";
    unsigned char tag[16];
    EXPECT_EQ(c.seal(reinterpret_cast<unsigned char*>(data.data()), data.size(), tag), errc::invalid_handshake_state);
    EXPECT_EQ(data, std::string(data.size(), '\0'));
    std::string in(20, 'x');
    EXPECT_EQ(open(c, in), errc::invalid_handshake_state);
}

TEST(NoiseXx, DisabledTalksToPlaintextBothWays) {
    noise_xx<> n;
    n.set_enabled(false);
    plaintext p;
    EXPECT_FALSE(n.encrypted());
    EXPECT_EQ(n.wire_id(), p.wire_id());

    for (const bool noise_initiates : {true, false}) {
        SCOPED_TRACE(noise_initiates ? "noise initiates" : "plaintext initiates");
        noise_xx<>::handshake hn(n, noise_initiates, "p", "hello from noise");
        plaintext::handshake hp(p, !noise_initiates, "p", "hello from plaintext");
        std::vector<std::string> wire;
        const auto record = [&](int, std::string& m) { wire.push_back(m); };
        ASSERT_FALSE(noise_initiates ? drive(hn, hp, record) : drive(hp, hn, record));
        ASSERT_EQ(wire.size(), 2u);
        EXPECT_EQ(wire[noise_initiates ? 0 : 1], "hello from noise");
        EXPECT_EQ(hn.remote_payload(), "hello from plaintext");
        EXPECT_EQ(hp.remote_payload(), "hello from noise");
        EXPECT_EQ(hn.authenticated_peer_id(), "");
        EXPECT_EQ(hn.handshake_hash(), "");

        auto cn = hn.split();
        auto cp = hp.split();
        EXPECT_EQ(cn.tag_size(), 0u);
        auto to_p = seal(cn, "record");
        EXPECT_EQ(to_p, "record");
        ASSERT_FALSE(open(cp, to_p));
        auto to_n = seal(cp, "reply");
        ASSERT_FALSE(open(cn, to_n));
        EXPECT_EQ(to_n, "reply");
    }
}

}  // namespace
}  // namespace librats
