// libFuzzer target: the Noise code (include/librats/noise/handshake_state.hpp,
// cipher_state.hpp with botan_suite<sha256>, and crypto/noise_xx.hpp's handshake) reading
// attacker-controlled bytes. Every key, ephemeral ones included, is fixed, so runs are
// deterministic (noise_xx's constructor draws one random key, replaced at once by a fixed one).
//
// Input byte 0 picks the mode (the rest is the mode's input):
//   0  a Noise_XX responder reads an arbitrary message 1; if accepted, writes message 2. The
//      same bytes go to noise_xx<>::handshake (responder), which must agree and also reject a
//      non-empty first payload.
//   1  an initiator that has written message 1 reads an arbitrary message 2 (and if accepted,
//      writes message 3 and splits).
//   2  a whole XX handshake between fixed parties, with fuzzer-chosen payloads and one
//      fuzzer-chosen bit flip in message 1, 2 or 3 or a transport message: an untouched run must
//      complete and deliver everything; a flipped message 2, 3 or transport message must fail.
//   3  a cipher_state with a fixed key and a fuzzer-chosen nonce decrypts arbitrary bytes: on
//      failure the buffer is wiped and the nonce unchanged; success only for a genuine ciphertext.

#include "fuzz_common.hpp"
#include "fuzz_noise_keys.hpp"

#include <librats/crypto/noise_xx.hpp>
#include <librats/noise/botan_suite.hpp>
#include <librats/noise/cipher_state.hpp>
#include <librats/noise/handshake_state.hpp>
#include <librats/noise/pattern.hpp>
#include <librats/wire/handshake.hpp>

#include <algorithm>
#include <array>
#include <string>

namespace {

using namespace librats;
using suite = noise::botan_suite<noise::sha256>;
using state = noise::handshake_state<suite>;
using cipher = noise::cipher_state<suite>;

const librats_fuzz::noise_keys& fixed() { return librats_fuzz::fixed_noise_keys(); }

bool all_zero(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

void responder_reads_message1(std::string_view message) {
    const auto& k = fixed();
    state responder;
    FUZZ_CHECK(!responder.initialize(noise::patterns::XX, false, k.prologue, &k.responder_static,
                                     &k.responder_ephemeral));
    std::string payload;
    const auto ec = responder.read_message(message, payload);
    FUZZ_CHECK(!ec == (message.size() >= 32 && message.size() <= state::max_message_size));
    if (!ec) {
        FUZZ_CHECK(payload == message.substr(32));  // message 1 is e and a plaintext payload
        FUZZ_CHECK(responder.is_my_turn());
        std::string message2;
        FUZZ_CHECK(!responder.write_message("responder hello", message2));
        FUZZ_CHECK(message2.size() == 32 + 48 + 15 + 16);
    } else {
        FUZZ_CHECK(payload.empty());
        std::string out;
        FUZZ_CHECK(responder.write_message("", out) && out.empty());  // failed for good
    }

    // The same message through the Crypto policy, as a node's responder session reads it.
    static noise_xx<suite>* crypto = [] {
        auto* c = new noise_xx<suite>();
        c->set_static_private_key(noise_xx<suite>::key{});
        return c;
    }();
    noise_xx<suite>::handshake hs(*crypto, false, fixed().prologue, "{}");
    FUZZ_CHECK(hs.next() == noise_xx<suite>::handshake::action::read);
    const auto ec2 = hs.read_message(message);
    FUZZ_CHECK(!ec2 == (!ec && payload.empty()));
    if (!ec2) FUZZ_CHECK(hs.next() == noise_xx<suite>::handshake::action::write);
}

void initiator_reads_message2(std::string_view message) {
    const auto& k = fixed();
    state initiator;
    FUZZ_CHECK(!initiator.initialize(noise::patterns::XX, true, k.prologue, &k.initiator_static,
                                     &k.initiator_ephemeral));
    std::string message1;
    FUZZ_CHECK(!initiator.write_message("", message1));
    std::string payload;
    const auto ec = initiator.read_message(message, payload);
    if (ec) {
        FUZZ_CHECK(payload.empty());
        FUZZ_CHECK(!initiator.is_my_turn() && !initiator.done());
        return;
    }
    // Only the genuine responder could have produced it (the seed corpus has that message).
    FUZZ_CHECK(message.size() >= 32 + 48 + 16);
    FUZZ_CHECK(initiator.remote_static() && *initiator.remote_static() == k.responder_static.pub);
    std::string message3;
    FUZZ_CHECK(!initiator.write_message("initiator hello", message3));
    cipher c1, c2;
    FUZZ_CHECK(!initiator.split(c1, c2));
}

void full_handshake(librats_fuzz::reader& in) {
    const auto& k = fixed();
    const std::uint8_t flip_in = in.u8() % 8;  // 0..2: handshake message, 3: transport, else none
    const std::size_t flip_at = in.u16();
    const auto flip_mask = static_cast<unsigned char>(1u << (in.u8() % 8));
    const std::size_t size2 = in.u8(), size3 = in.u8();
    const std::uint8_t rekeys = in.u8() % 4;
    std::string_view rest = in.rest();
    const auto take = [&](std::size_t n) {
        const auto s = rest.substr(0, std::min(n, rest.size()));
        rest.remove_prefix(s.size());
        return s;
    };
    const std::string_view payloads[3] = {{}, take(size2), take(size3)};
    const std::string_view transport = rest;

    state initiator, responder;
    FUZZ_CHECK(!initiator.initialize(noise::patterns::XX, true, k.prologue, &k.initiator_static, &k.initiator_ephemeral));
    FUZZ_CHECK(!responder.initialize(noise::patterns::XX, false, k.prologue, &k.responder_static, &k.responder_ephemeral));
    bool flipped = false;
    for (int i = 0; i < 3; ++i) {
        auto& writer = i % 2 == 0 ? initiator : responder;
        auto& reader = i % 2 == 0 ? responder : initiator;
        std::string message, payload;
        FUZZ_CHECK(!writer.write_message(payloads[i], message));
        if (flip_in == i && !message.empty()) {
            message[flip_at % message.size()] ^= static_cast<char>(flip_mask);
            flipped = true;
        }
        const auto ec = reader.read_message(message, payload);
        if (!flipped) {
            FUZZ_CHECK(!ec);
            FUZZ_CHECK(payload == payloads[i]);
        } else if (i > 0) {
            // Message 1 is unauthenticated; from message 2 on, a change anywhere fails.
            FUZZ_CHECK(ec);
            FUZZ_CHECK(payload.empty());
            return;
        }
    }
    FUZZ_CHECK(initiator.done() && responder.done());
    FUZZ_CHECK(initiator.handshake_hash() == responder.handshake_hash());

    cipher send[2], receive[2];  // [initiator, responder]
    FUZZ_CHECK(!initiator.split(send[0], receive[0]));
    FUZZ_CHECK(!responder.split(receive[1], send[1]));
    for (int r = 0; r < rekeys; ++r) {
        FUZZ_CHECK(!send[0].rekey());
        FUZZ_CHECK(!receive[1].rekey());
    }
    std::string buffer(transport);
    buffer.append(cipher::tag_size, '\0');
    auto* p = reinterpret_cast<unsigned char*>(buffer.data());
    FUZZ_CHECK(!send[0].encrypt(p, transport.size(), p + transport.size()));
    if (flip_in == 3) buffer[flip_at % buffer.size()] ^= static_cast<char>(flip_mask);
    const auto ec = receive[1].decrypt(p, buffer.size());
    if (flip_in == 3) {
        FUZZ_CHECK(ec == errc::authentication_failed);
        FUZZ_CHECK(all_zero(buffer));
        FUZZ_CHECK(receive[1].nonce() == 0);
    } else {
        FUZZ_CHECK(!ec);
        FUZZ_CHECK(std::string_view(buffer).substr(0, transport.size()) == transport);
        FUZZ_CHECK(receive[1].nonce() == 1);
    }
}

void cipher_decrypts(librats_fuzz::reader& in) {
    static const std::array<unsigned char, 32> key = librats_fuzz::fixed_cipher_key();
    const std::uint8_t nonce_choice = in.u8();
    const std::uint64_t nonce = nonce_choice < 128 ? nonce_choice % 4 : nonce_choice < 192 ? in.u64() : cipher::max_nonce;
    std::string buffer(in.rest());
    const std::string original = buffer;

    cipher c;
    c.initialize_key(key.data());
    c.set_nonce(nonce);
    const auto ec = c.decrypt(reinterpret_cast<unsigned char*>(buffer.data()), buffer.size());
    if (ec) {
        FUZZ_CHECK(ec == errc::authentication_failed || ec == errc::nonce_exhausted);
        FUZZ_CHECK(all_zero(buffer));  // no unauthenticated plaintext survives
        FUZZ_CHECK(c.nonce() == nonce);
        return;
    }
    // Accepted: it must be what encrypting the plaintext at that nonce gives.
    FUZZ_CHECK(nonce != cipher::max_nonce && original.size() >= cipher::tag_size);
    FUZZ_CHECK(c.nonce() == nonce + 1);
    cipher e;
    e.initialize_key(key.data());
    e.set_nonce(nonce);
    std::string again = buffer.substr(0, buffer.size() - cipher::tag_size);
    again.append(cipher::tag_size, '\0');
    auto* p = reinterpret_cast<unsigned char*>(again.data());
    FUZZ_CHECK(!e.encrypt(p, again.size() - cipher::tag_size, p + again.size() - cipher::tag_size));
    FUZZ_CHECK(again == original);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    librats_fuzz::reader in(data, size);
    switch (in.u8() % 4) {
    case 0: responder_reads_message1(in.rest()); break;
    case 1: initiator_reads_message2(in.rest()); break;
    case 2: full_handshake(in); break;
    default: cipher_decrypts(in); break;
    }
    return 0;
}
