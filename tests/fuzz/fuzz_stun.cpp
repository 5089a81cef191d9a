// libFuzzer target: STUN (include/librats/stun/message.hpp decode and
// include/librats/stun/transaction.hpp on_response).
//
// Input byte 0 holds the harness's fix-ups, so that the fuzzer gets past the checks it cannot
// solve by mutation: bit 0 writes the transaction's ID into the header, bit 1 sets the header's
// length field to the datagram's, bit 2 recomputes a trailing FINGERPRINT's CRC, bit 3 sends the
// datagram from an address other than the server's, bits 4-5 pick the transaction's state
// (fresh, after retransmissions, timed out). The rest is the datagram.
//
// Invariants: decode_header and decode agree; a decoded XOR-MAPPED-ADDRESS re-encodes
// (encode_binding_success) to a message that decodes to the same address; a transaction
// completes only with a matching response from its server, and only once.

#include "fuzz_common.hpp"

#include <librats/stun/message.hpp>
#include <librats/stun/transaction.hpp>

#include <chrono>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace librats;
    using namespace std::chrono_literals;
    librats_fuzz::reader in(data, size);
    const std::uint8_t flags = in.u8();
    std::string packet(in.rest());

    stun::transaction_id id;
    for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<unsigned char>(0xB7 + i);
    if ((flags & 1) && packet.size() >= stun::header_size) std::memcpy(&packet[8], id.data(), id.size());
    if ((flags & 2) && packet.size() >= stun::header_size && packet.size() - stun::header_size <= 0xffff)
        librats::detail::put_u16(reinterpret_cast<unsigned char*>(&packet[2]),
                                 static_cast<std::uint16_t>(packet.size() - stun::header_size));
    if ((flags & 4) && packet.size() >= stun::header_size + stun::fingerprint_attribute_size) {
        auto* b = reinterpret_cast<unsigned char*>(packet.data());
        const std::size_t at = packet.size() - stun::fingerprint_attribute_size;
        librats::detail::put_u16(b + at, stun::attribute::fingerprint);
        librats::detail::put_u16(b + at + 2, 4);
        librats::detail::put_u32(b + at + 4, stun::detail::crc32(b, at) ^ stun::fingerprint_xor);
    }

    stun::message m;
    const auto ec = stun::decode(packet, m);
    stun::message_header header;
    const auto header_ec = stun::decode_header(packet, header);
    if (header_ec) FUZZ_CHECK(ec == header_ec);
    if (!ec) {
        FUZZ_CHECK(!header_ec);
        FUZZ_CHECK(m.unrecognized_required.empty());
        if (m.software) FUZZ_CHECK(m.software->size() <= stun::max_text_size);
        if (m.error) FUZZ_CHECK(m.error->code >= 300 && m.error->code <= 699);
        if (m.xor_mapped_address) {
            std::string out;
            stun::encode_binding_success(out, m.header.id, *m.xor_mapped_address, m.software.value_or(""));
            stun::message back;
            FUZZ_CHECK(!stun::decode(out, back));
            FUZZ_CHECK(back.has_fingerprint && back.xor_mapped_address == m.xor_mapped_address);
            FUZZ_CHECK(back.software == (m.software && !m.software->empty() ? m.software : std::nullopt));
        }
        if (m.error) {
            std::string out;
            stun::encode_binding_error(out, m.header.id, m.error->code, m.error->reason);
            stun::message back;
            FUZZ_CHECK(!stun::decode(out, back));
            FUZZ_CHECK(back.error && back.error->code == m.error->code);
        }
    }

    const asio::ip::udp::endpoint server(asio::ip::make_address("192.0.2.1"), 3478);
    const asio::ip::udp::endpoint other(asio::ip::make_address("192.0.2.2"), 3478);
    const auto t0 = stun::transaction::time_point{} + 1h;
    stun::transaction t(id, server, {}, t0);
    auto now = t0;
    const int ticks = (flags >> 4) & 3;
    for (int i = 0; i < (ticks == 3 ? 100 : ticks); ++i) {
        now = std::max(now, t.next_deadline() == stun::transaction::time_point::max() ? now : t.next_deadline());
        (void)t.on_timeout(now);
    }
    const auto before = t.current_state();
    const bool done = t.on_response((flags & 8) ? other : server, packet);
    if (before != stun::transaction::state::waiting || (flags & 8)) FUZZ_CHECK(!done);
    if (done) {
        FUZZ_CHECK(!header_ec && header.id == id && header.method == stun::binding);
        FUZZ_CHECK(t.current_state() != stun::transaction::state::waiting);
        FUZZ_CHECK(t.next_deadline() == stun::transaction::time_point::max());
        if (t.current_state() == stun::transaction::state::succeeded) {
            FUZZ_CHECK(!ec && m.mapped() && *m.mapped() == t.mapped());
        }
        FUZZ_CHECK(!t.on_response(server, packet));  // over: nothing completes it again
    } else {
        FUZZ_CHECK(t.current_state() == before);
    }
    return 0;
}
