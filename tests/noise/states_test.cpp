// The Noise states under misuse and attack: tampering, truncation, replay, size limits, nonce
// exhaustion and rekeying.

#include "noise/hex.hpp"

#include <librats/error.hpp>
#include <librats/noise/botan_suite.hpp>
#include <librats/noise/handshake_state.hpp>
#include <librats/noise/protocol_name.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace librats::noise {
namespace {

using suite = botan_suite<sha256>;
using state = handshake_state<suite>;
using cipher = cipher_state<suite>;

static_assert(make_protocol_name<suite>(patterns::XX).view() == "Noise_XX_25519_ChaChaPoly_SHA256");
static_assert(make_protocol_name<botan_suite<blake2b>>(patterns::IK).view() == "Noise_IK_25519_ChaChaPoly_BLAKE2b");
static_assert(make_protocol_name<botan_suite<sha512>>(patterns::NN).view() == "Noise_NN_25519_ChaChaPoly_SHA512");

// Both ends of an XX handshake; tamper(i, message) may change message i on the way.
struct xx_pair {
    suite::keypair initiator_static = suite::generate_keypair();
    suite::keypair responder_static = suite::generate_keypair();
    state initiator, responder;
    cipher c1[2], c2[2];  // [initiator, responder]

    xx_pair() {
        EXPECT_FALSE(initiator.initialize(patterns::XX, true, "prologue", &initiator_static));
        EXPECT_FALSE(responder.initialize(patterns::XX, false, "prologue", &responder_static));
    }

    std::error_code run(const std::function<void(int, std::string&)>& tamper = {}) {
        for (int i = 0; i < 3; ++i) {
            auto& writer = i % 2 == 0 ? initiator : responder;
            auto& reader = i % 2 == 0 ? responder : initiator;
            std::string message, payload;
            if (auto ec = writer.write_message("payload " + std::to_string(i), message)) return ec;
            const std::string sent = message;
            if (tamper) tamper(i, message);
            if (auto ec = reader.read_message(message, payload)) return ec;
            // Message 0 is unauthenticated: a change surfaces when message 1 is read.
            if (message == sent) {
                EXPECT_EQ(payload, "payload " + std::to_string(i));
            }
        }
        EXPECT_FALSE(initiator.split(c1[0], c2[0]));
        EXPECT_FALSE(responder.split(c1[1], c2[1]));
        return {};
    }
};

std::string seal(cipher& c, const std::string& plaintext) {
    std::string buffer = plaintext + std::string(cipher::tag_size, '\0');
    auto* data = reinterpret_cast<unsigned char*>(buffer.data());
    EXPECT_FALSE(c.encrypt(data, plaintext.size(), data + plaintext.size()));
    return buffer;
}

std::error_code open(cipher& c, std::string& buffer) {
    auto ec = c.decrypt(reinterpret_cast<unsigned char*>(buffer.data()), buffer.size());
    if (!ec) buffer.resize(buffer.size() - cipher::tag_size);
    return ec;
}

TEST(NoiseHandshake, XxCompletesAndAgrees) {
    xx_pair p;
    ASSERT_FALSE(p.run());
    EXPECT_EQ(p.initiator.handshake_hash(), p.responder.handshake_hash());
    ASSERT_TRUE(p.initiator.remote_static());
    ASSERT_TRUE(p.responder.remote_static());
    EXPECT_EQ(*p.initiator.remote_static(), p.responder_static.pub);
    EXPECT_EQ(*p.responder.remote_static(), p.initiator_static.pub);
    auto sealed = seal(p.c1[0], "to responder");
    ASSERT_FALSE(open(p.c1[1], sealed));
    EXPECT_EQ(sealed, "to responder");
    sealed = seal(p.c2[1], "to initiator");
    ASSERT_FALSE(open(p.c2[0], sealed));
    EXPECT_EQ(sealed, "to initiator");
}

TEST(NoiseHandshake, BitFlipInAnyMessageFails) {
    for (int target = 0; target < 3; ++target) {
        for (const std::size_t at : {std::size_t{0}, std::size_t{31}, std::size_t{40}, ~std::size_t{0}}) {
            SCOPED_TRACE("message " + std::to_string(target) + " byte " + std::to_string(at));
            xx_pair p;
            const auto ec = p.run([&](int i, std::string& m) {
                if (i == target) m[std::min(at, m.size() - 1)] ^= 0x01;
            });
            EXPECT_EQ(ec, errc::authentication_failed);
            EXPECT_FALSE(p.initiator.done() && p.responder.done());
        }
    }
}

TEST(NoiseHandshake, TruncatedMessagesFail) {
    for (int target = 0; target < 3; ++target) {
        for (const std::size_t cut : {1, 17, 40}) {
            SCOPED_TRACE("message " + std::to_string(target) + " minus " + std::to_string(cut));
            xx_pair p;
            const auto ec = p.run([&](int i, std::string& m) {
                if (i == target) m.resize(m.size() - std::min(cut, m.size()));
            });
            EXPECT_TRUE(ec == errc::authentication_failed || ec == errc::malformed_handshake) << ec.message();
        }
    }
    // Shorter than an ephemeral key.
    xx_pair p;
    EXPECT_EQ(p.run([](int i, std::string& m) {
        if (i == 0) m.resize(31);
    }),
              errc::malformed_handshake);
}

TEST(NoiseHandshake, ErrorEndsTheHandshake) {
    xx_pair p;
    std::string message, payload;
    ASSERT_FALSE(p.initiator.write_message("", message));
    message[5] ^= 1;
    ASSERT_FALSE(p.responder.read_message(message, payload));
    message.clear();
    ASSERT_FALSE(p.responder.write_message("x", message));
    EXPECT_EQ(p.initiator.read_message(message, payload), errc::authentication_failed);
    EXPECT_TRUE(payload.empty());
    EXPECT_EQ(p.initiator.read_message(message, payload), errc::invalid_handshake_state);
    EXPECT_EQ(p.initiator.write_message("", message), errc::invalid_handshake_state);
    cipher a, b;
    EXPECT_EQ(p.initiator.split(a, b), errc::invalid_handshake_state);
    EXPECT_FALSE(a.has_key());
}

TEST(NoiseHandshake, OutOfTurnIsRefused) {
    xx_pair p;
    std::string message, payload;
    EXPECT_EQ(p.responder.write_message("", message), errc::invalid_handshake_state);
    EXPECT_TRUE(message.empty());
    cipher a, b;
    EXPECT_EQ(p.initiator.split(a, b), errc::invalid_handshake_state);
}

TEST(NoiseHandshake, MessagesOverMaxSizeAreRejected) {
    // Message 2 of XX: encrypted s (48) + payload + tag (16).
    const std::size_t max_payload = state::max_message_size - 48 - 16;
    {
        xx_pair p;
        std::string message, payload;
        ASSERT_FALSE(p.initiator.write_message("", message));
        ASSERT_FALSE(p.responder.read_message(message, payload));
        message.clear();
        ASSERT_FALSE(p.responder.write_message("", message));
        ASSERT_FALSE(p.initiator.read_message(message, payload));
        message = "unchanged";
        EXPECT_EQ(p.initiator.write_message(std::string(max_payload + 1, 'x'), message), errc::message_too_large);
        EXPECT_EQ(message, "unchanged");
        message.clear();
        ASSERT_FALSE(p.initiator.write_message(std::string(max_payload, 'x'), message));
        EXPECT_EQ(message.size(), state::max_message_size);
        ASSERT_FALSE(p.responder.read_message(message, payload));
        EXPECT_EQ(payload, std::string(max_payload, 'x'));
    }
    xx_pair p;
    std::string payload;
    EXPECT_EQ(p.responder.read_message(std::string(state::max_message_size + 1, 'x'), payload), errc::message_too_large);
}

TEST(NoiseHandshake, MissingKeysAreErrors) {
    state s;
    const auto responder = suite::generate_keypair();
    // IK needs the responder's static key before the first message.
    EXPECT_EQ(s.initialize(patterns::IK, true, "", &responder), errc::invalid_handshake_state);
    // XX without a static key fails where it would send it.
    state initiator, r;
    ASSERT_FALSE(initiator.initialize(patterns::XX, true, ""));
    ASSERT_FALSE(r.initialize(patterns::XX, false, ""));
    std::string message, payload;
    ASSERT_FALSE(initiator.write_message("", message));
    ASSERT_FALSE(r.read_message(message, payload));
    message.clear();
    EXPECT_EQ(r.write_message("", message), errc::invalid_handshake_state);
}

TEST(NoiseSymmetricState, LongProtocolNameIsHashed) {
    symmetric_state<suite> s;
    s.initialize("Noise_XXpsk3_25519_ChaChaPoly_SHA256");  // 36 bytes > HASHLEN
    EXPECT_EQ(detail::to_hex(s.handshake_hash(), 32),
              "d4163f913dcc89f7801c4345e2ef79367b58f64cfc64090982a334eedc9a3bd9");
}

TEST(NoiseCipherState, WithoutKeyIsIdentity) {
    cipher c;
    EXPECT_FALSE(c.has_key());
    EXPECT_EQ(c.overhead(), 0u);
    std::string data = "clear";
    unsigned char tag[16] = {};
    ASSERT_FALSE(c.encrypt(reinterpret_cast<unsigned char*>(data.data()), data.size(), tag));
    EXPECT_EQ(data, "clear");
    EXPECT_EQ(c.rekey(), errc::invalid_handshake_state);
}

TEST(NoiseTransport, BitFlipAndTruncationFailAndWipe) {
    xx_pair p;
    ASSERT_FALSE(p.run());
    const std::string secret = "attack at dawn";
    for (std::size_t at = 0; at < secret.size() + cipher::tag_size; ++at) {
        auto sealed = seal(p.c1[0], secret);
        p.c1[1].set_nonce(p.c1[0].nonce() - 1);
        sealed[at] ^= 0x80;
        EXPECT_EQ(open(p.c1[1], sealed), errc::authentication_failed);
        EXPECT_EQ(sealed, std::string(sealed.size(), '\0'));
        EXPECT_EQ(p.c1[1].nonce(), p.c1[0].nonce() - 1);  // not advanced by a failure
    }
    auto sealed = seal(p.c1[0], secret);
    p.c1[1].set_nonce(p.c1[0].nonce() - 1);
    sealed.pop_back();
    EXPECT_EQ(open(p.c1[1], sealed), errc::authentication_failed);
    std::string tiny(15, 'x');
    EXPECT_EQ(open(p.c1[1], tiny), errc::authentication_failed);
}

TEST(NoiseTransport, ReplayFails) {
    xx_pair p;
    ASSERT_FALSE(p.run());
    const auto sealed = seal(p.c2[1], "once");
    auto first = sealed;
    ASSERT_FALSE(open(p.c2[0], first));
    auto replay = sealed;
    EXPECT_EQ(open(p.c2[0], replay), errc::authentication_failed);
    // The stream goes on after the rejected copy.
    auto next = seal(p.c2[1], "twice");
    ASSERT_FALSE(open(p.c2[0], next));
    EXPECT_EQ(next, "twice");
}

TEST(NoiseTransport, NonceExhaustionIsAnError) {
    xx_pair p;
    ASSERT_FALSE(p.run());
    p.c1[0].set_nonce(cipher::max_nonce - 1);
    p.c1[1].set_nonce(cipher::max_nonce - 1);
    auto last = seal(p.c1[0], "last");
    ASSERT_FALSE(open(p.c1[1], last));
    EXPECT_EQ(last, "last");
    EXPECT_EQ(p.c1[0].nonce(), cipher::max_nonce);

    std::string data = "never sent";
    unsigned char tag[16];
    std::fill(std::begin(tag), std::end(tag), 0xaa);
    EXPECT_EQ(p.c1[0].encrypt(reinterpret_cast<unsigned char*>(data.data()), data.size(), tag), errc::nonce_exhausted);
    EXPECT_EQ(data, std::string(data.size(), '\0'));
    EXPECT_EQ(tag[0], 0);
    EXPECT_EQ(p.c1[0].nonce(), cipher::max_nonce);  // no wrap
    std::string incoming(32, 'x');
    EXPECT_EQ(open(p.c1[1], incoming), errc::nonce_exhausted);
}

TEST(NoiseTransport, RekeyBothSidesWorksOneSidedFails) {
    xx_pair p;
    ASSERT_FALSE(p.run());
    ASSERT_FALSE(p.c1[0].rekey());
    ASSERT_FALSE(p.c1[1].rekey());
    for (int i = 0; i < 3; ++i) {
        auto sealed = seal(p.c1[0], "after rekey " + std::to_string(i));
        ASSERT_FALSE(open(p.c1[1], sealed));
        EXPECT_EQ(sealed, "after rekey " + std::to_string(i));
    }
    // The other direction is unaffected.
    auto back = seal(p.c2[1], "back");
    ASSERT_FALSE(open(p.c2[0], back));

    ASSERT_FALSE(p.c1[0].rekey());
    auto sealed = seal(p.c1[0], "one-sided");
    EXPECT_EQ(open(p.c1[1], sealed), errc::authentication_failed);
}

TEST(NoiseTransport, LargestMessageRoundTrips) {
    xx_pair p;
    ASSERT_FALSE(p.run());
    std::string plaintext(65535 - 16, '\0');
    for (std::size_t i = 0; i < plaintext.size(); ++i) plaintext[i] = static_cast<char>(i * 7);
    auto sealed = seal(p.c2[1], plaintext);
    EXPECT_EQ(sealed.size(), 65535u);
    ASSERT_FALSE(open(p.c2[0], sealed));
    EXPECT_EQ(sealed, plaintext);
}

}  // namespace
}  // namespace librats::noise
