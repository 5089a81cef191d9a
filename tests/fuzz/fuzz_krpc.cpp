// libFuzzer target: dht::krpc::decode (include/librats/dht/krpc.hpp), the KRPC (BEP 5) packet
// decoder, plus the encoders on what it decoded.
//
// Invariants: compact node and peer lists decoded are iterable (their sizes were checked), and a
// decoded query, response or error re-encodes (encode_query / encode_response / encode_error)
// to a packet that decodes to the same fields.

#include "fuzz_common.hpp"

#include <librats/dht/krpc.hpp>

#include <string>
#include <vector>

namespace {

using namespace librats::dht;

krpc::envelope envelope_of(const krpc::message& m) {
    krpc::envelope env;
    env.transaction_id = m.transaction_id;
    env.version = m.version.value_or(std::string_view{});
    env.read_only = m.read_only;
    env.ip = m.ip;
    return env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view packet(reinterpret_cast<const char*>(data), size);
    bencode::document scratch;
    krpc::message m;
    const auto ec = krpc::decode(packet, scratch, m);
    if (ec) {
        (void)krpc::error_reply_code(ec);
        (void)ec.message();
        return 0;
    }
    FUZZ_CHECK(m.type);
    std::string out;
    const auto env = envelope_of(m);
    bencode::document scratch2;
    krpc::message back;

    switch (*m.type) {
    case krpc::message_type::query: {
        const auto& q = std::get<krpc::query>(m.body);
        krpc::encode_query(out, env, q);
        FUZZ_CHECK(!krpc::decode(out, scratch2, back));
        FUZZ_CHECK(back.type == m.type && back.transaction_id == m.transaction_id && back.ip == m.ip);
        FUZZ_CHECK(back.read_only == m.read_only);
        const auto& q2 = std::get<krpc::query>(back.body);
        FUZZ_CHECK(q2.id == q.id && q2.which() == q.which());
        if (q.which() == krpc::method::announce_peer) {
            const auto& a = std::get<krpc::announce_peer_args>(q.args);
            const auto& b = std::get<krpc::announce_peer_args>(q2.args);
            FUZZ_CHECK(a.info_hash == b.info_hash && a.port == b.port && a.token == b.token &&
                       a.implied_port == b.implied_port);
        }
        break;
    }
    case krpc::message_type::response: {
        const auto& r = std::get<krpc::response>(m.body);
        krpc::response_data d;
        d.id = r.id;
        for (const auto n : r.nodes) d.nodes.push_back(n);
        for (const auto n : r.nodes6) d.nodes.push_back(n);
        if (r.values)
            for (const auto p : *r.values) d.values.push_back(p);
        d.token = r.token;
        FUZZ_CHECK(d.nodes.size() == r.nodes.size() + r.nodes6.size());
        krpc::encode_response(out, env, d);
        FUZZ_CHECK(!krpc::decode(out, scratch2, back));
        const auto& r2 = std::get<krpc::response>(back.body);
        FUZZ_CHECK(r2.id == r.id && r2.token == r.token);
        FUZZ_CHECK(r2.nodes.size() == r.nodes.size() && r2.nodes6.size() == r.nodes6.size());
        std::size_t i = 0;
        for (const auto n : r2.nodes) {
            FUZZ_CHECK(n.id == r.nodes[i].id && n.endpoint == r.nodes[i].endpoint);
            ++i;
        }
        FUZZ_CHECK(r2.values.has_value() == (r.values && r.values->size() > 0));
        break;
    }
    case krpc::message_type::error: {
        const auto& e = std::get<krpc::error>(m.body);
        krpc::encode_error(out, env, e.code, e.message);
        FUZZ_CHECK(!krpc::decode(out, scratch2, back));
        const auto& e2 = std::get<krpc::error>(back.body);
        FUZZ_CHECK(e2.code == e.code && e2.message == e.message);
        break;
    }
    }
    return 0;
}
