// The cacophony vectors (tests/data/noise/) byte for byte: every handshake message, the
// handshake hash, and the transport messages after it.

#include "noise/hex.hpp"

#include <librats/noise/botan_suite.hpp>
#include <librats/noise/handshake_state.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

namespace librats::noise {
namespace {

using test::from_hex;
using detail::to_hex;
using test::to_hex_bytes;

constexpr std::size_t expected_vectors = 9;  // {XX, IK, NN} x {SHA256, BLAKE2b, SHA512}

nlohmann::json load_vectors() {
    std::ifstream in(LIBRATS_TEST_DATA_DIR "/noise/cacophony.json");
    EXPECT_TRUE(in) << "cannot open " LIBRATS_TEST_DATA_DIR "/noise/cacophony.json";
    return nlohmann::json::parse(in, nullptr, false);
}

const handshake_pattern* find_pattern(std::string_view name) {
    for (const auto* p : {&patterns::NN, &patterns::XX, &patterns::IK})
        if (p->name == name) return p;
    return nullptr;
}

template <class Suite>
void run_vector(const nlohmann::json& v) {
    using state = handshake_state<Suite>;
    const std::string name = v["protocol_name"];
    SCOPED_TRACE(name);
    const auto* pattern = find_pattern(name.substr(6, 2));
    ASSERT_NE(pattern, nullptr);

    const auto keypair = [&](const char* field) -> std::optional<typename Suite::keypair> {
        if (!v.contains(field)) return std::nullopt;
        return Suite::keypair_from_private(reinterpret_cast<const unsigned char*>(from_hex(v[field].get<std::string>()).data()));
    };
    const auto public_key = [&](const char* field) -> std::optional<typename Suite::public_key> {
        if (!v.contains(field)) return std::nullopt;
        typename Suite::public_key key;
        const auto bytes = from_hex(v[field].get<std::string>());
        std::copy(bytes.begin(), bytes.end(), key.begin());
        return key;
    };
    const auto ptr = [](const auto& optional) { return optional ? &*optional : nullptr; };

    const auto is = keypair("init_static"), ie = keypair("init_ephemeral"), rs = keypair("resp_static"),
               re = keypair("resp_ephemeral");
    const auto irs = public_key("init_remote_static"), rrs = public_key("resp_remote_static");
    state initiator, responder;
    ASSERT_FALSE(initiator.initialize(*pattern, true, from_hex(v["init_prologue"].get<std::string>()), ptr(is), ptr(ie),
                                      ptr(irs)));
    ASSERT_FALSE(responder.initialize(*pattern, false, from_hex(v["resp_prologue"].get<std::string>()), ptr(rs),
                                      ptr(re), ptr(rrs)));

    cipher_state<Suite> c1[2], c2[2];  // [initiator, responder]
    const auto& messages = v["messages"];
    ASSERT_GT(messages.size(), pattern->message_count);
    for (std::size_t i = 0; i < messages.size(); ++i) {
        SCOPED_TRACE("message " + std::to_string(i));
        const auto payload = from_hex(messages[i]["payload"].get<std::string>());
        const std::string expected = messages[i]["ciphertext"];
        const bool from_initiator = i % 2 == 0;
        if (i < pattern->message_count) {
            auto& writer = from_initiator ? initiator : responder;
            auto& reader = from_initiator ? responder : initiator;
            std::string message, received;
            ASSERT_FALSE(writer.write_message(payload, message));
            EXPECT_EQ(to_hex(message), expected);
            ASSERT_FALSE(reader.read_message(message, received));
            EXPECT_EQ(received, payload);
            if (i + 1 == pattern->message_count) {
                ASSERT_TRUE(initiator.done());
                ASSERT_TRUE(responder.done());
                EXPECT_EQ(to_hex_bytes(initiator.handshake_hash()), v["handshake_hash"].get<std::string>());
                EXPECT_EQ(to_hex_bytes(responder.handshake_hash()), v["handshake_hash"].get<std::string>());
                ASSERT_FALSE(initiator.split(c1[0], c2[0]));
                ASSERT_FALSE(responder.split(c1[1], c2[1]));
            }
            continue;
        }
        auto& send = from_initiator ? c1[0] : c2[1];
        auto& receive = from_initiator ? c1[1] : c2[0];
        std::string buffer = payload + std::string(send.tag_size, '\0');
        auto* data = reinterpret_cast<unsigned char*>(buffer.data());
        ASSERT_FALSE(send.encrypt(data, payload.size(), data + payload.size()));
        EXPECT_EQ(to_hex(buffer), expected);
        ASSERT_FALSE(receive.decrypt(data, buffer.size()));
        EXPECT_EQ(buffer.substr(0, payload.size()), payload);
    }
}

TEST(NoiseVectors, CacophonyByteForByte) {
    const auto doc = load_vectors();
    ASSERT_TRUE(doc.is_object());
    std::size_t run = 0;
    for (const auto& v : doc["vectors"]) {
        const std::string name = v["protocol_name"];
        if (name.size() < 7 || name.find("psk") != std::string::npos) continue;
        const auto hash = name.substr(name.rfind('_') + 1);
        if (hash == "SHA256") run_vector<botan_suite<sha256>>(v);
        else if (hash == "BLAKE2b") run_vector<botan_suite<blake2b>>(v);
        else if (hash == "SHA512") run_vector<botan_suite<sha512>>(v);
        else continue;
        ++run;
    }
    EXPECT_EQ(run, expected_vectors);
}

}  // namespace
}  // namespace librats::noise
