// Writes the seed corpora of the fuzz targets: fuzz_make_corpus <dir> fills <dir>/<target>/ with
// small valid inputs, each prefixed with the harness's control bytes where the target has them
// (see each fuzz_*.cpp). Seeds come from the specifications (BEP 5 KRPC examples, RFC 5769 STUN
// vectors) and from librats itself (frames, a hello, Noise XX messages 1 and 2 between the fixed
// keys of fuzz_noise_keys.hpp, packets a DHT and an mDNS engine send). Deterministic.

#include "fuzz_common.hpp"
#include "fuzz_noise_keys.hpp"

#include <librats/crypto/noise_xx.hpp>
#include <librats/dht/engine.hpp>
#include <librats/dht/krpc.hpp>
#include <librats/mdns/dns.hpp>
#include <librats/mdns/engine.hpp>
#include <librats/noise/cipher_state.hpp>
#include <librats/noise/handshake_state.hpp>
#include <librats/stun/message.hpp>
#include <librats/wire/frame.hpp>
#include <librats/wire/handshake.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace std::string_literals;
using namespace std::chrono_literals;
using namespace librats;

namespace {

fs::path root;

void put(const std::string& target, const std::string& name, const std::string& bytes) {
    const auto dir = root / target;
    fs::create_directories(dir);
    std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string bytes_of(std::initializer_list<unsigned> bytes) {
    std::string out;
    for (auto b : bytes) out.push_back(static_cast<char>(b));
    return out;
}

std::string join_packets(const std::vector<std::string>& packets) {
    std::string out;
    for (std::size_t i = 0; i < packets.size(); ++i) {
        if (i) out.append(librats_fuzz::packet_delimiter);
        out += packets[i];
    }
    return out;
}

void frames() {
    std::string stream;
    wire::append_frame(stream, wire::frame_type::binary, "\x00\x01\x02"s);
    wire::append_frame(stream, wire::frame_type::text, "hello");
    wire::append_json_frame(stream, "chat", R"({"text":"hi"})");
    wire::append_frame(stream, wire::frame_type::ping, "12345678");
    wire::append_frame(stream, wire::frame_type::pong, "12345678");
    wire::append_frame(stream, wire::frame_type::binary, "");
    // control: max size 64 KiB, chunk mode, no handler error, chunk pattern
    const std::string control_tiny = "\x05\x00\x00"s + "\x01\x02\x03\x04\x05\x06\x07\x00"s;
    const std::string control_mid = "\x05\x01\x00"s + "\x10\x20\x03\xff\x05\x06\x07\x80"s;
    put("fuzz_frame", "all_types_tiny_chunks", control_tiny + stream);
    put("fuzz_frame", "all_types_mid_chunks", control_mid + stream);
    std::string close;
    wire::append_frame(close, wire::frame_type::goodbye, wire::encode_goodbye(0, "bye"));
    wire::append_frame(close, wire::frame_type::rekey, "");
    put("fuzz_frame", "goodbye_rekey", "\x04\x03\x00"s + "\x01\x00\x01\x00\x01\x00\x01\x00"s + close);
    std::string big;
    wire::append_frame(big, wire::frame_type::binary, std::string(3000, 'x'));
    put("fuzz_frame", "large_frame_release_idle", "\x05\x06\x00"s + "\x7f\x01\x33\x02\x44\x05\x06\x07"s + big);
}

void hellos() {
    wire::hello h;
    h.peer_id = "3f7a0c1b9d2e4f5a6b7c8d9e0f1a2b3c4d5e6f70";
    h.listen_port = 8080;
    h.agent = "librats/0.1";
    h.nonce = 0x0123456789abcdefULL;
    const auto p = wire::make_preamble(1);
    const std::string preamble(reinterpret_cast<const char*>(p.data()), p.size());
    put("fuzz_handshake", "preamble_hello", preamble + wire::encode_hello(h));
    put("fuzz_handshake", "hello", wire::encode_hello(h));
    h.agent.clear();
    h.listen_port = 0;
    h.nonce = 0;
    put("fuzz_handshake", "hello_minimal", wire::encode_hello(h));
    const auto refused = wire::make_preamble(0, 7);
    put("fuzz_handshake", "preamble_refused", std::string(reinterpret_cast<const char*>(refused.data()), refused.size()));
}

void json_envelopes() {
    const auto payload = [](std::string_view type, std::string_view json) {
        std::string frame;
        wire::append_json_frame(frame, type, json);
        return frame.substr(wire::frame_header_size);
    };
    put("fuzz_json_envelope", "chat", payload("chat", R"({"text":"hello","n":1})"));
    put("fuzz_json_envelope", "nested", payload("state", R"({"a":[1,2.5,-3e10,true,false,null],"b":{"c":"\u00e9\ud83d\ude00"}})"));
    put("fuzz_json_envelope", "scalar", payload("x", "42"));
    put("fuzz_json_envelope", "empty_object", payload("ping", "{}"));
}

void noise_messages() {
    using suite = librats_fuzz::noise_suite;
    using state = noise::handshake_state<suite>;
    const auto& k = librats_fuzz::fixed_noise_keys();
    state initiator, responder;
    initiator.initialize(noise::patterns::XX, true, k.prologue, &k.initiator_static, &k.initiator_ephemeral);
    responder.initialize(noise::patterns::XX, false, k.prologue, &k.responder_static, &k.responder_ephemeral);
    std::string m1, m2, payload;
    initiator.write_message("", m1);
    responder.read_message(m1, payload);
    wire::hello h;
    h.peer_id = "responder";
    responder.write_message(wire::encode_hello(h), m2);
    put("fuzz_noise", "mode0_message1", "\x00"s + m1);
    put("fuzz_noise", "mode0_message1_with_payload", "\x00"s + m1 + "early data");
    put("fuzz_noise", "mode1_message2_genuine", "\x01"s + m2);
    // Mode 2: flip none / in message 2 / in transport; payload sizes 5 and 7, one rekey.
    put("fuzz_noise", "mode2_clean", "\x02\x07\x00\x00\x00\x05\x07\x01"s + "helloworld!!transport data");
    put("fuzz_noise", "mode2_flip_msg2", "\x02\x01\x00\x40\x03\x05\x07\x00"s + "helloworld!!transport data");
    put("fuzz_noise", "mode2_flip_transport", "\x02\x03\x00\x02\x05\x00\x00\x02"s + "x");
    // Mode 3: a genuine ciphertext at nonce 0, and garbage.
    noise::cipher_state<suite> c;
    const auto key = librats_fuzz::fixed_cipher_key();
    c.initialize_key(key.data());
    std::string sealed = "transport plaintext" + std::string(16, '\0');
    auto* p = reinterpret_cast<unsigned char*>(sealed.data());
    c.encrypt(p, sealed.size() - 16, p + sealed.size() - 16);
    put("fuzz_noise", "mode3_genuine", "\x03\x00"s + sealed);
    put("fuzz_noise", "mode3_garbage_max_nonce", "\x03\xff"s + std::string(40, 'g'));
    put("fuzz_noise", "mode3_short", "\x03\x01"s + "abc");
}

void bencode_docs() {
    const std::string lim = "\x1c";  // depth 32, 4096 elements
    put("fuzz_bencode", "dict", lim + "d3:bar4:spam3:fooi42ee");
    put("fuzz_bencode", "list", lim + "l4:spami-7ei0el1:ad1:bi1eeee");
    put("fuzz_bencode", "int_min", lim + "i-9223372036854775808e");
    put("fuzz_bencode", "string", lim + "0:");
    put("fuzz_bencode", "krpc_ping", lim + "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe");
    put("fuzz_bencode", "deep_tight_limit", "\x02"s + "lllleeee");
}

const std::vector<std::pair<std::string, std::string>> bep5 = {
    {"ping_query", "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"},
    {"ping_response", "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re"},
    {"error", "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee"},
    {"find_node_query", "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe"},
    {"find_node_response", "d1:rd2:id20:0123456789abcdefghij5:nodes9:def456...e1:t2:aa1:y1:re"},
    {"get_peers_query", "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe"},
    {"get_peers_values", "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re"},
    {"get_peers_nodes", "d1:rd2:id20:abcdefghij01234567895:nodes9:def456...5:token8:aoeusnthe1:t2:aa1:y1:re"},
    {"announce_peer_query",
     "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:"
     "aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe"},
};

dht::node_contact contact(char fill, const char* address, std::uint16_t port) {
    return {*dht::node_id::from_bytes(std::string(20, fill)), asio::ip::udp::endpoint(asio::ip::make_address(address), port)};
}

void krpc_packets() {
    for (const auto& [name, packet] : bep5) put("fuzz_krpc", name, packet);
    static const std::string version = "LR\x00\x01"s;
    dht::krpc::envelope env{"ab", version, false, asio::ip::udp::endpoint(asio::ip::make_address("10.0.0.7"), 6881)};
    dht::krpc::response_data r;
    r.id = *dht::node_id::from_bytes(std::string(20, 'r'));
    r.nodes = {contact('a', "10.0.0.2", 6881), contact('b', "10.0.0.3", 6881), contact('c', "2001:db8::1", 6881)};
    r.values = {asio::ip::tcp::endpoint(asio::ip::make_address("10.1.1.1"), 5000),
                asio::ip::tcp::endpoint(asio::ip::make_address("2001:db8::2"), 5001)};
    const std::string token = "tok";
    r.token = token;
    std::string out;
    dht::krpc::encode_response(out, env, r);
    put("fuzz_krpc", "librats_response_nodes_nodes6_values", out);
    dht::krpc::query q;
    q.id = r.id;
    q.args = dht::krpc::get_peers_args{r.id, {true, true}};
    env.read_only = true;
    dht::krpc::encode_query(out, env, q);
    put("fuzz_krpc", "librats_get_peers_want_ro_ip", out);
}

void dht_engine_packets() {
    // Header byte: source index (bits 0-2), clock step (bits 3-5), jump to the deadline (bit 6).
    const auto from = [](int source, int step = 0) { return std::string(1, static_cast<char>(source | step << 3)); };
    // Responses to the bootstrap's find_node (to 10.0.0.1:6881, source 0) with nodes at sources 1 and 2;
    // "1:t2:##" takes the engine's transaction ID.
    dht::krpc::response_data r;
    r.id = *dht::node_id::from_bytes(std::string(20, 'A'));
    r.nodes = {contact('B', "10.0.0.2", 6881), contact('C', "10.0.0.3", 6881)};
    const std::string token = "secret";
    r.token = token;
    r.values = {asio::ip::tcp::endpoint(asio::ip::make_address("10.9.9.9"), 4000)};
    std::string response;
    dht::krpc::encode_response(response, {"##", "", false, std::nullopt}, r);
    dht::krpc::response_data r2;
    r2.id = *dht::node_id::from_bytes(std::string(20, 'B'));
    r2.nodes = {contact('D', "10.0.0.1", 7000)};
    std::string response2;
    dht::krpc::encode_response(response2, {"##", "", false, std::nullopt}, r2);
    std::vector<std::string> packets = {from(0) + response, from(1, 1) + response2};
    for (const auto& [name, packet] : bep5) packets.push_back(from(3, 1) + packet);
    packets.push_back(from(0, 4) + "d1:eli202e6:Server1:t2:##1:y1:ee");
    put("fuzz_dht_engine", "bootstrap_responses_and_queries", "\x00"s + join_packets(packets));
    put("fuzz_dht_engine", "small_limits", "\x01"s + join_packets(packets));
    put("fuzz_dht_engine", "read_only_implied", "\x06"s + join_packets({from(0) + response, from(5, 6) + bep5[8].second}));
    std::vector<std::string> timeouts = {from(0, 5) + response, from(1, 7) + response2, from(2, 7) + bep5[0].second};
    put("fuzz_dht_engine", "timeouts_refresh", "\x00"s + join_packets(timeouts));
}

std::vector<std::string> mdns_traffic() {
    std::vector<std::string> sent;
    mdns::engine_options o;
    mdns::engine b(o, 99, [&](const asio::ip::udp::endpoint&, std::string_view p) { sent.emplace_back(p); });
    auto now = mdns::engine::time_point{} + 24h;
    mdns::advertisement ad;
    ad.instance = "peer b";
    ad.host = "host-b";
    ad.port = 5000;
    ad.addresses = {asio::ip::make_address("10.0.0.2"), asio::ip::make_address("fe80::2")};
    ad.txt = {{"proto", "1"}, {"flag", ""}};
    ad.peer_id = "peer-b";
    b.advertise(ad, now);
    b.browse([](mdns::service_event, const mdns::service&) {}, now);
    for (int i = 0; i < 40 && sent.size() < 12; ++i) {
        now = std::max(now + 10ms, b.next_deadline());
        b.tick(now);
    }
    b.stop();
    return sent;
}

void dns_packets(const std::vector<std::string>& traffic) {
    const auto header = [](std::uint16_t flags, std::uint16_t qd, std::uint16_t an, std::uint16_t ns, std::uint16_t ar) {
        std::string h(4, '\0');
        h[2] = static_cast<char>(flags >> 8);
        h[3] = static_cast<char>(flags & 0xff);
        for (const auto v : {qd, an, ns, ar}) {
            h.push_back(static_cast<char>(v >> 8));
            h.push_back(static_cast<char>(v & 0xff));
        }
        return h;
    };
    put("fuzz_dns", "ptr_query", header(0, 1, 0, 0, 0) + "\x08_librats\x04_tcp\x05local\x00"s + "\x00\x0c\x00\x01"s);
    put("fuzz_dns", "dnssd_response",
        header(0x8400, 0, 1, 0, 2) + "\x03web\x05_http\x04_tcp\x05local\x00"s + "\x00\x21\x80\x01\x00\x00\x00\x78\x00\x0d"s +
            "\x00\x00\x00\x00\x00\x50\x04host\xc0\x1b"s + "\xc0\x0c\x00\x10\x80\x01\x00\x00\x11\x94\x00\x07\x06path=/"s +
            "\xc0\x32\x00\x01\x80\x01\x00\x00\x00\x78\x00\x04\xc0\xa8\x01\x0a"s);
    put("fuzz_dns", "pointer_loop_rejected", header(0, 1, 0, 0, 0) + "\xc0\x0c\x00\x01\x00\x01"s);
    for (std::size_t i = 0; i < traffic.size() && i < 6; ++i) put("fuzz_dns", "engine_packet_" + std::to_string(i), traffic[i]);
}

void mdns_engine_packets(const std::vector<std::string>& traffic) {
    // Header byte: source (bits 0-2; 0 is 10.0.0.2:5353), clock step (bits 3-5), loopback (bit 6).
    std::vector<std::string> packets;
    for (std::size_t i = 0; i < traffic.size(); ++i)
        packets.push_back(std::string(1, static_cast<char>(0 | (i % 3 == 0 ? 2 : 1) << 3)) + traffic[i]);
    put("fuzz_mdns_engine", "peer_b_traffic", "\x00"s + join_packets(packets));
    put("fuzz_mdns_engine", "peer_b_traffic_small_limits", "\x01"s + join_packets(packets));
    if (!traffic.empty())
        put("fuzz_mdns_engine", "legacy_query_loopback", "\x02"s + join_packets({"\x42"s + traffic[0], "\x5a"s + traffic.back()}));
}

void stun_packets() {
    const std::string sample_request = bytes_of({
        0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
        0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
        0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
        0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
        0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
        0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
        0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
    });
    const std::string sample_ipv4_response = bytes_of({
        0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
        0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
        0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
        0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
        0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
    });
    const std::string sample_ipv6_response = bytes_of({
        0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
        0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
        0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
        0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
        0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
        0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
    });
    // Flags 0: as is, from the server. 1: with the transaction's ID (and so it matches).
    put("fuzz_stun", "rfc5769_request", "\x00"s + sample_request);
    put("fuzz_stun", "rfc5769_ipv4_response", "\x00"s + sample_ipv4_response);
    put("fuzz_stun", "rfc5769_ipv6_response", "\x00"s + sample_ipv6_response);
    put("fuzz_stun", "rfc5769_ipv4_response_our_id_fixed_crc", "\x05"s + sample_ipv4_response);
    stun::transaction_id id;
    for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<unsigned char>(0xB7 + i);
    std::string out;
    stun::encode_binding_success(out, id, asio::ip::udp::endpoint(asio::ip::make_address("203.0.113.5"), 40000), "librats");
    put("fuzz_stun", "binding_success_ours", "\x00"s + out);
    stun::encode_binding_success(out, id, asio::ip::udp::endpoint(asio::ip::make_address("2001:db8::5"), 1), "", false);
    put("fuzz_stun", "binding_success_v6_no_fingerprint", "\x10"s + out);
    stun::encode_binding_error(out, id, 420, "Unknown Attribute");
    put("fuzz_stun", "binding_error_ours", "\x00"s + out);
    stun::encode_binding_request(out, id, "client");
    put("fuzz_stun", "binding_request", "\x00"s + out);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
        return 2;
    }
    root = argv[1];
    frames();
    hellos();
    json_envelopes();
    noise_messages();
    bencode_docs();
    krpc_packets();
    dht_engine_packets();
    const auto traffic = mdns_traffic();
    dns_packets(traffic);
    mdns_engine_packets(traffic);
    stun_packets();
    return 0;
}
