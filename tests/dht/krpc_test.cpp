// KRPC: BEP 5's example messages byte for byte, BEP 32/42/43 extensions, validation of every
// field with its error, compact info, and robustness against truncated and mutated packets.

#include <librats/dht/krpc.hpp>
#include <librats/error.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace librats::dht::krpc {
namespace {

using namespace std::string_literals;
using bencode::entry;
using dict = entry::dictionary_type;
using list = entry::list_type;

node_id id_of(std::string_view raw) { return *node_id::from_bytes(raw); }

asio::ip::udp::endpoint udp(const char* address, std::uint16_t port) {
    return {asio::ip::make_address(address), port};
}
asio::ip::tcp::endpoint tcp(const char* address, std::uint16_t port) {
    return {asio::ip::make_address(address), port};
}

// Decodes packet, failing the test on an error.
message decode_ok(const std::string& packet, bencode::document& doc) {
    message m;
    const auto ec = decode(packet, doc, m);
    EXPECT_FALSE(ec) << ec.message() << " in " << packet;
    return m;
}
// The message views the packet: a temporary would dangle.
message decode_ok(std::string&& packet, bencode::document& doc) = delete;

// ---- BEP 5's examples

const std::string ping_query = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
const std::string ping_response = "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re";
const std::string error_message = "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee";
const std::string find_node_query =
    "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe";
const std::string find_node_response = "d1:rd2:id20:0123456789abcdefghij5:nodes9:def456...e1:t2:aa1:y1:re";
const std::string get_peers_query =
    "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe";
const std::string get_peers_values =
    "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re";
const std::string get_peers_nodes =
    "d1:rd2:id20:abcdefghij01234567895:nodes9:def456...5:token8:aoeusnthe1:t2:aa1:y1:re";
const std::string announce_peer_query =
    "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:"
    "aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe";
const std::string announce_peer_response = "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re";

const envelope aa{"aa", "", false, std::nullopt};

TEST(KrpcSpec, Ping) {
    bencode::document doc;
    auto m = decode_ok(ping_query, doc);
    EXPECT_EQ(m.transaction_id, "aa");
    ASSERT_EQ(m.type, message_type::query);
    const auto& q = std::get<query>(m.body);
    EXPECT_EQ(q.which(), method::ping);
    EXPECT_EQ(q.id, id_of("abcdefghij0123456789"));
    EXPECT_FALSE(m.version);
    EXPECT_FALSE(m.read_only);
    EXPECT_FALSE(m.ip);
    std::string out;
    encode_query(out, aa, q);
    EXPECT_EQ(out, ping_query);

    m = decode_ok(ping_response, doc);
    ASSERT_EQ(m.type, message_type::response);
    const auto& r = std::get<response>(m.body);
    EXPECT_EQ(r.id, id_of("mnopqrstuvwxyz123456"));
    EXPECT_TRUE(r.nodes.empty());
    EXPECT_TRUE(r.nodes6.empty());
    EXPECT_FALSE(r.values);
    EXPECT_FALSE(r.token);
    encode_response(out, aa, response_data{r.id, {}, {}, {}});
    EXPECT_EQ(out, ping_response);
}

TEST(KrpcSpec, Error) {
    bencode::document doc;
    const auto m = decode_ok(error_message, doc);
    ASSERT_EQ(m.type, message_type::error);
    const auto& e = std::get<error>(m.body);
    EXPECT_EQ(e.code, generic_error);
    EXPECT_EQ(e.message, "A Generic Error Ocurred");
    std::string out;
    encode_error(out, aa, generic_error, "A Generic Error Ocurred");
    EXPECT_EQ(out, error_message);
}

TEST(KrpcSpec, FindNode) {
    bencode::document doc;
    const auto m = decode_ok(find_node_query, doc);
    const auto& q = std::get<query>(m.body);
    ASSERT_EQ(q.which(), method::find_node);
    EXPECT_EQ(q.id, id_of("abcdefghij0123456789"));
    const auto& a = std::get<find_node_args>(q.args);
    EXPECT_EQ(a.target, id_of("mnopqrstuvwxyz123456"));
    EXPECT_EQ(a.want, want_flags{});
    std::string out;
    encode_query(out, aa, q);
    EXPECT_EQ(out, find_node_query);
}

TEST(KrpcSpec, GetPeers) {
    bencode::document doc;
    auto m = decode_ok(get_peers_query, doc);
    const auto& q = std::get<query>(m.body);
    ASSERT_EQ(q.which(), method::get_peers);
    EXPECT_EQ(std::get<get_peers_args>(q.args).info_hash, id_of("mnopqrstuvwxyz123456"));
    std::string out;
    encode_query(out, aa, q);
    EXPECT_EQ(out, get_peers_query);

    m = decode_ok(get_peers_values, doc);
    const auto& r = std::get<response>(m.body);
    EXPECT_EQ(r.id, id_of("abcdefghij0123456789"));
    EXPECT_EQ(r.token, "aoeusnth");
    ASSERT_TRUE(r.values);
    // "axje.u": 97.120.106.101, port 0x2e75; "idhtnm": 105.100.104.116, port 0x6e6d.
    const std::vector<asio::ip::tcp::endpoint> peers(r.values->begin(), r.values->end());
    const std::vector<asio::ip::tcp::endpoint> expected{tcp("97.120.106.101", 0x2e75), tcp("105.100.104.116", 0x6e6d)};
    EXPECT_EQ(peers, expected);
    EXPECT_EQ(r.values->size(), 2u);
    encode_response(out, aa, response_data{r.id, {}, expected, "aoeusnth"});
    EXPECT_EQ(out, get_peers_values);
}

TEST(KrpcSpec, AnnouncePeer) {
    bencode::document doc;
    auto m = decode_ok(announce_peer_query, doc);
    const auto& q = std::get<query>(m.body);
    ASSERT_EQ(q.which(), method::announce_peer);
    const auto& a = std::get<announce_peer_args>(q.args);
    EXPECT_EQ(a.info_hash, id_of("mnopqrstuvwxyz123456"));
    EXPECT_EQ(a.port, 6881);
    EXPECT_EQ(a.token, "aoeusnth");
    EXPECT_TRUE(a.implied_port);
    std::string out;
    encode_query(out, aa, q);
    EXPECT_EQ(out, announce_peer_query);

    m = decode_ok(announce_peer_response, doc);
    std::string reply;
    encode_response(reply, aa, response_data{std::get<response>(m.body).id, {}, {}, {}});
    EXPECT_EQ(reply, announce_peer_response);
}

// The spec's "nodes" examples hold the placeholder "def456...", 9 bytes: valid bencode that the
// encoder reproduces, but not a whole number of 26-byte contacts.
TEST(KrpcSpec, PlaceholderNodesAreValidBencodeButNotCompactInfo) {
    for (const auto& packet : {find_node_response, get_peers_nodes}) {
        bencode::document doc;
        ASSERT_FALSE(bencode::decode(packet, doc).error);
        EXPECT_EQ(bencode::encode(bencode::to_entry(doc.root())), packet);
        EXPECT_EQ(doc.root().find("r").find("nodes").string(), "def456...");
        message m;
        EXPECT_EQ(decode(packet, doc, m), make_error_code(errc::krpc_bad_compact_length));
        EXPECT_EQ(m.transaction_id, "aa");
        EXPECT_EQ(m.type, message_type::response);
    }
}

// ---- extensions and round trips

node_contact contact(char fill, const char* address, std::uint16_t port) {
    node_id::bytes_type bytes;
    bytes.fill(static_cast<std::uint8_t>(fill));
    return {node_id(bytes), udp(address, port)};
}

TEST(KrpcRoundTrip, QueriesWithExtensions) {
    const std::string transaction_id = "\x00\xff"s;  // binary, as nodes send them
    const envelope env{transaction_id, "LR01", true, std::nullopt};
    const node_id self = contact('s', "1.2.3.4", 1).id;
    const node_id target = contact('t', "1.2.3.4", 1).id;
    const query queries[] = {
        {self, ping_args{}},
        {self, find_node_args{target, {true, true}}},
        {self, find_node_args{target, {false, true}}},
        {self, get_peers_args{target, {true, false}}},
        {self, announce_peer_args{target, 65535, "tok", false}},
        {self, announce_peer_args{target, 0, std::string_view("\0\1", 2), true}},
    };
    bencode::document doc;
    std::string out;
    for (const auto& q : queries) {
        encode_query(out, env, q);
        const auto m = decode_ok(out, doc);
        EXPECT_EQ(m.transaction_id, "\x00\xff"s);
        EXPECT_EQ(m.version, "LR01");
        EXPECT_TRUE(m.read_only);
        const auto& d = std::get<query>(m.body);
        EXPECT_EQ(d.id, self);
        ASSERT_EQ(d.which(), q.which());
        switch (q.which()) {
        case method::ping: break;
        case method::find_node:
            EXPECT_EQ(std::get<find_node_args>(d.args).target, target);
            EXPECT_EQ(std::get<find_node_args>(d.args).want, std::get<find_node_args>(q.args).want);
            break;
        case method::get_peers:
            EXPECT_EQ(std::get<get_peers_args>(d.args).info_hash, target);
            EXPECT_EQ(std::get<get_peers_args>(d.args).want, std::get<get_peers_args>(q.args).want);
            break;
        case method::announce_peer: {
            const auto& expected = std::get<announce_peer_args>(q.args);
            const auto& got = std::get<announce_peer_args>(d.args);
            EXPECT_EQ(got.info_hash, expected.info_hash);
            EXPECT_EQ(got.port, expected.port);
            EXPECT_EQ(got.token, expected.token);
            EXPECT_EQ(got.implied_port, expected.implied_port);
            break;
        }
        }
    }
    encode_query(out, env, queries[1]);
    EXPECT_NE(out.find("4:wantl2:n42:n6e"), std::string::npos) << out;
    EXPECT_NE(out.find("2:roi1e"), std::string::npos) << out;
}

TEST(KrpcRoundTrip, ResponseWithNodesPeersTokenAndIp) {
    response_data data;
    data.id = contact('r', "1.1.1.1", 1).id;
    for (int i = 0; i < 8; ++i)
        data.nodes.push_back(contact(static_cast<char>('a' + i), ("10.0.0." + std::to_string(i + 1)).c_str(),
                                     static_cast<std::uint16_t>(6881 + i)));
    data.nodes.push_back(contact('x', "2001:db8::1", 443));
    data.nodes.push_back(contact('y', "::ffff:192.0.2.1", 80));  // v4-mapped stays IPv6
    data.values = {tcp("192.0.2.7", 51413), tcp("2001:db8::7", 1)};
    data.token = "secret-token";
    const envelope env{"tx", "", false, udp("203.0.113.9", 4000)};

    std::string out;
    encode_response(out, env, data);
    bencode::document doc;
    const auto m = decode_ok(out, doc);
    ASSERT_TRUE(m.ip);
    EXPECT_EQ(*m.ip, udp("203.0.113.9", 4000));
    const auto& r = std::get<response>(m.body);
    EXPECT_EQ(r.id, data.id);
    ASSERT_EQ(r.nodes.size(), 8u);
    ASSERT_EQ(r.nodes6.size(), 2u);
    EXPECT_EQ(r.nodes.raw().size(), 8 * compact_node_v4_size);
    EXPECT_EQ(r.nodes6.raw().size(), 2 * compact_node_v6_size);
    const std::vector<node_contact> v4(r.nodes.begin(), r.nodes.end());
    const std::vector<node_contact> v6(r.nodes6.begin(), r.nodes6.end());
    EXPECT_EQ(v4, std::vector<node_contact>(data.nodes.begin(), data.nodes.begin() + 8));
    EXPECT_EQ(v6, std::vector<node_contact>(data.nodes.begin() + 8, data.nodes.end()));
    EXPECT_EQ(r.nodes[3], data.nodes[3]);
    ASSERT_TRUE(r.values);
    EXPECT_EQ(std::vector<asio::ip::tcp::endpoint>(r.values->begin(), r.values->end()), data.values);
    EXPECT_EQ(r.token, "secret-token");
    EXPECT_FALSE(m.read_only);  // "ro" is for queries only

    // An IPv6 "ip" in an error.
    encode_error(out, envelope{"tx", "", false, udp("2001:db8::2", 9)}, protocol_error, "bad");
    const auto e = decode_ok(out, doc);
    EXPECT_EQ(*e.ip, udp("2001:db8::2", 9));
    EXPECT_EQ(std::get<error>(e.body).code, protocol_error);
    EXPECT_EQ(std::get<error>(e.body).message, "bad");
}

TEST(KrpcCompact, ExactBytes) {
    std::string out;
    append_compact_peer(out, tcp("127.0.0.1", 6881));
    EXPECT_EQ(out, "\x7f\x00\x00\x01\x1a\xe1"s);
    out.clear();
    append_compact_peer(out, tcp("2001:db8::1", 0x0102));
    EXPECT_EQ(out, "\x20\x01\x0d\xb8"s + std::string(11, '\0') + "\x01\x01\x02"s);
    EXPECT_EQ(*decode_compact_peer(out), tcp("2001:db8::1", 0x0102));

    const auto node = contact('n', "192.168.1.2", 0xfffe);
    out.clear();
    append_compact_node(out, node);
    EXPECT_EQ(out, std::string(20, 'n') + "\xc0\xa8\x01\x02\xff\xfe"s);
    EXPECT_EQ(*decode_compact_node(out), node);
    const auto node6 = contact('m', "fe80::1", 1);
    out.clear();
    append_compact_node(out, node6);
    ASSERT_EQ(out.size(), compact_node_v6_size);
    EXPECT_EQ(*decode_compact_node(out), node6);

    for (std::size_t size : {0, 5, 7, 17, 19, 25, 27, 37, 39}) {
        const std::string raw(size, 'z');
        EXPECT_FALSE(decode_compact_peer(raw)) << size;
        EXPECT_FALSE(decode_compact_node(raw)) << size;
    }
}

// ---- validation

std::string packet(dict d) { return bencode::encode(entry{std::move(d)}); }

const std::string id20 = "abcdefghij0123456789";
const std::string hash20 = "mnopqrstuvwxyz123456";

std::string make_query(const std::string& method_name, dict args) {
    return packet({{"t", "aa"}, {"y", "q"}, {"q", entry{method_name}}, {"a", entry{std::move(args)}}});
}
std::string make_response(dict r) { return packet({{"t", "aa"}, {"y", "r"}, {"r", entry{std::move(r)}}}); }

struct invalid_case {
    const char* what;
    std::string packet;
    errc error;
};

TEST(KrpcValidation, EachDefectHasItsError) {
    const std::string token65(65, 'k');
    const invalid_case cases[] = {
        {"not bencode", "d1:t", errc::bencode_unterminated},
        {"list", "le", errc::krpc_not_a_dictionary},
        {"integer", "i1e", errc::krpc_not_a_dictionary},
        {"no t", packet({{"y", "q"}}), errc::krpc_missing_field},
        {"t integer", packet({{"t", 1}, {"y", "q"}}), errc::krpc_wrong_type},
        {"no y", packet({{"t", "aa"}}), errc::krpc_missing_field},
        {"y list", packet({{"t", "aa"}, {"y", entry{list{}}}}), errc::krpc_wrong_type},
        {"y unknown", packet({{"t", "aa"}, {"y", "x"}}), errc::krpc_bad_message_type},
        {"y two letters", packet({{"t", "aa"}, {"y", "qq"}}), errc::krpc_bad_message_type},
        {"v integer", packet({{"t", "aa"}, {"y", "r"}, {"v", 1}, {"r", entry{dict{{"id", entry{id20}}}}}}),
         errc::krpc_wrong_type},
        {"ro string", packet({{"t", "aa"}, {"y", "r"}, {"ro", "1"}, {"r", entry{dict{{"id", entry{id20}}}}}}),
         errc::krpc_wrong_type},
        {"ip 5 bytes", packet({{"t", "aa"}, {"y", "r"}, {"ip", "12345"}, {"r", entry{dict{{"id", entry{id20}}}}}}),
         errc::krpc_bad_compact_length},
        {"no q", packet({{"t", "aa"}, {"y", "q"}, {"a", entry{dict{{"id", entry{id20}}}}}}), errc::krpc_missing_field},
        {"q integer", packet({{"t", "aa"}, {"y", "q"}, {"q", 1}}), errc::krpc_wrong_type},
        {"unknown method", make_query("get", {{"id", entry{id20}}}), errc::krpc_unknown_method},
        {"method case", make_query("Ping", {{"id", entry{id20}}}), errc::krpc_unknown_method},
        {"no a", packet({{"t", "aa"}, {"y", "q"}, {"q", "ping"}}), errc::krpc_missing_field},
        {"a list", packet({{"t", "aa"}, {"y", "q"}, {"q", "ping"}, {"a", entry{list{}}}}), errc::krpc_wrong_type},
        {"no id", make_query("ping", {}), errc::krpc_missing_field},
        {"id integer", make_query("ping", {{"id", 5}}), errc::krpc_wrong_type},
        {"id 19 bytes", make_query("ping", {{"id", entry{id20.substr(1)}}}), errc::krpc_bad_id},
        {"id 21 bytes", make_query("ping", {{"id", entry{id20 + "x"}}}), errc::krpc_bad_id},
        {"no target", make_query("find_node", {{"id", entry{id20}}}), errc::krpc_missing_field},
        {"target 21", make_query("find_node", {{"id", entry{id20}}, {"target", entry{hash20 + "x"}}}), errc::krpc_bad_id},
        {"want string", make_query("find_node", {{"id", entry{id20}}, {"target", entry{hash20}}, {"want", "n4"}}),
         errc::krpc_wrong_type},
        {"want integers", make_query("get_peers", {{"id", entry{id20}}, {"info_hash", entry{hash20}}, {"want", entry{list{4}}}}),
         errc::krpc_wrong_type},
        {"no info_hash", make_query("get_peers", {{"id", entry{id20}}}), errc::krpc_missing_field},
        {"announce port 0", make_query("announce_peer", {{"id", entry{id20}}, {"info_hash", entry{hash20}}, {"port", 0}, {"token", "t"}}),
         errc::krpc_bad_port},
        {"announce port 65536",
         make_query("announce_peer", {{"id", entry{id20}}, {"info_hash", entry{hash20}}, {"port", 65536}, {"token", "t"}}),
         errc::krpc_bad_port},
        {"announce port -1",
         make_query("announce_peer", {{"id", entry{id20}}, {"implied_port", 1}, {"info_hash", entry{hash20}}, {"port", -1}, {"token", "t"}}),
         errc::krpc_bad_port},
        {"implied_port 2",
         make_query("announce_peer", {{"id", entry{id20}}, {"implied_port", 2}, {"info_hash", entry{hash20}}, {"port", 1}, {"token", "t"}}),
         errc::krpc_bad_port},
        {"implied_port string",
         make_query("announce_peer", {{"id", entry{id20}}, {"implied_port", "1"}, {"info_hash", entry{hash20}}, {"port", 1}, {"token", "t"}}),
         errc::krpc_wrong_type},
        {"no port", make_query("announce_peer", {{"id", entry{id20}}, {"info_hash", entry{hash20}}, {"token", "t"}}),
         errc::krpc_missing_field},
        {"port string", make_query("announce_peer", {{"id", entry{id20}}, {"info_hash", entry{hash20}}, {"port", "1"}, {"token", "t"}}),
         errc::krpc_wrong_type},
        {"no token", make_query("announce_peer", {{"id", entry{id20}}, {"info_hash", entry{hash20}}, {"port", 1}}),
         errc::krpc_missing_field},
        {"empty token", make_query("announce_peer", {{"id", entry{id20}}, {"info_hash", entry{hash20}}, {"port", 1}, {"token", ""}}),
         errc::krpc_bad_token},
        {"token 65", make_query("announce_peer", {{"id", entry{id20}}, {"info_hash", entry{hash20}}, {"port", 1}, {"token", entry{token65}}}),
         errc::krpc_bad_token},
        {"no r", packet({{"t", "aa"}, {"y", "r"}}), errc::krpc_missing_field},
        {"r string", packet({{"t", "aa"}, {"y", "r"}, {"r", "x"}}), errc::krpc_wrong_type},
        {"response no id", make_response({}), errc::krpc_missing_field},
        {"nodes 25", make_response({{"id", entry{id20}}, {"nodes", entry{std::string(25, 'n')}}}), errc::krpc_bad_compact_length},
        {"nodes 27", make_response({{"id", entry{id20}}, {"nodes", entry{std::string(27, 'n')}}}), errc::krpc_bad_compact_length},
        {"nodes list", make_response({{"id", entry{id20}}, {"nodes", entry{list{}}}}), errc::krpc_wrong_type},
        {"nodes6 26", make_response({{"id", entry{id20}}, {"nodes6", entry{std::string(26, 'n')}}}), errc::krpc_bad_compact_length},
        {"values string", make_response({{"id", entry{id20}}, {"values", "abcdef"}}), errc::krpc_wrong_type},
        {"values 7", make_response({{"id", entry{id20}}, {"values", entry{list{"abcdef", "abcdefg"}}}}), errc::krpc_bad_compact_length},
        {"values integer", make_response({{"id", entry{id20}}, {"values", entry{list{6}}}}), errc::krpc_wrong_type},
        {"response token 65", make_response({{"id", entry{id20}}, {"token", entry{token65}}}), errc::krpc_bad_token},
        {"response token integer", make_response({{"id", entry{id20}}, {"token", 1}}), errc::krpc_wrong_type},
        {"no e", packet({{"t", "aa"}, {"y", "e"}}), errc::krpc_missing_field},
        {"e string", packet({{"t", "aa"}, {"y", "e"}, {"e", "x"}}), errc::krpc_wrong_type},
        {"e one item", packet({{"t", "aa"}, {"y", "e"}, {"e", entry{list{201}}}}), errc::krpc_bad_error},
        {"e three items", packet({{"t", "aa"}, {"y", "e"}, {"e", entry{list{201, "a", "b"}}}}), errc::krpc_bad_error},
        {"e swapped", packet({{"t", "aa"}, {"y", "e"}, {"e", entry{list{"a", 201}}}}), errc::krpc_bad_error},
    };
    bencode::document doc;
    for (const auto& c : cases) {
        message m;
        EXPECT_EQ(decode(c.packet, doc, m), make_error_code(c.error)) << c.what << ": " << c.packet;
    }
}

TEST(KrpcValidation, BoundaryValuesAreAccepted) {
    bencode::document doc;
    const std::string token64(64, 'k');
    const std::string max_port = make_query(
        "announce_peer", {{"id", entry{id20}}, {"info_hash", entry{hash20}}, {"port", 65535}, {"token", entry{token64}}});
    auto m = decode_ok(max_port, doc);
    EXPECT_EQ(std::get<announce_peer_args>(std::get<query>(m.body).args).port, 65535);
    EXPECT_EQ(std::get<announce_peer_args>(std::get<query>(m.body).args).token, token64);

    const std::string implied_zero = make_query(
        "announce_peer",
        {{"id", entry{id20}}, {"implied_port", 1}, {"info_hash", entry{hash20}}, {"port", 0}, {"token", "t"}});
    m = decode_ok(implied_zero, doc);
    EXPECT_TRUE(std::get<announce_peer_args>(std::get<query>(m.body).args).implied_port);
    EXPECT_EQ(std::get<announce_peer_args>(std::get<query>(m.body).args).port, 0);

    const std::string not_implied = make_query(
        "announce_peer",
        {{"id", entry{id20}}, {"implied_port", 0}, {"info_hash", entry{hash20}}, {"port", 1}, {"token", "t"}});
    m = decode_ok(not_implied, doc);
    EXPECT_FALSE(std::get<announce_peer_args>(std::get<query>(m.body).args).implied_port);

    // Unknown keys and "want" families are ignored; an empty values list is kept.
    const std::string extra_keys =
        packet({{"t", ""}, {"y", "q"}, {"q", "find_node"}, {"zz", entry{list{}}},
                {"a", entry{dict{{"id", entry{id20}}, {"target", entry{hash20}}, {"want", entry{list{"n9", "n6"}}},
                                 {"x", 1}}}}});
    m = decode_ok(extra_keys, doc);
    EXPECT_EQ(std::get<find_node_args>(std::get<query>(m.body).args).want, (want_flags{false, true}));
    const std::string empty_lists = make_response({{"id", entry{id20}}, {"nodes", ""}, {"values", entry{list{}}}});
    m = decode_ok(empty_lists, doc);
    ASSERT_TRUE(std::get<response>(m.body).values);
    EXPECT_TRUE(std::get<response>(m.body).values->empty());
    EXPECT_TRUE(std::get<response>(m.body).nodes.empty());
}

TEST(KrpcValidation, FailedQueriesKeepWhatAnErrorReplyNeeds) {
    bencode::document doc;
    message m;
    const std::string unknown = make_query("sample_infohashes", {{"id", entry{id20}}});
    auto ec = decode(unknown, doc, m);
    EXPECT_EQ(ec, make_error_code(errc::krpc_unknown_method));
    EXPECT_EQ(error_reply_code(ec), method_unknown);
    EXPECT_EQ(m.transaction_id, "aa");
    EXPECT_EQ(m.type, message_type::query);

    const std::string no_target = make_query("find_node", {{"id", entry{id20}}});
    ec = decode(no_target, doc, m);
    EXPECT_EQ(ec, make_error_code(errc::krpc_missing_field));
    EXPECT_EQ(error_reply_code(ec), protocol_error);
    EXPECT_EQ(m.transaction_id, "aa");
    EXPECT_EQ(m.type, message_type::query);

    const std::string no_type = "d1:t2:bbe";
    ec = decode(no_type, doc, m);
    EXPECT_EQ(ec, make_error_code(errc::krpc_missing_field));
    EXPECT_EQ(m.transaction_id, "bb");
    EXPECT_FALSE(m.type);

    ec = decode("garbage", doc, m);
    EXPECT_EQ(ec, make_error_code(errc::bencode_unexpected_character));
    EXPECT_EQ(error_reply_code(ec), protocol_error);
    EXPECT_TRUE(m.transaction_id.empty());
}

TEST(KrpcValidation, NestingIsBounded) {
    const std::string deep = "d1:ad2:id20:" + id20 + "1:z" + std::string(40, 'l') + std::string(40, 'e') +
                             "e1:q4:ping1:t2:aa1:y1:qe";
    bencode::document doc;
    message m;
    EXPECT_EQ(decode(deep, doc, m), make_error_code(errc::bencode_too_deep));
}

// ---- robustness

std::vector<std::string> valid_packets() {
    std::vector<std::string> packets = {ping_query,      ping_response,   error_message,       find_node_query,
                                        get_peers_query, get_peers_values, announce_peer_query};
    response_data data;
    data.id = contact('r', "1.1.1.1", 1).id;
    for (int i = 0; i < 8; ++i) data.nodes.push_back(contact(static_cast<char>('a' + i), "10.1.2.3", 6881));
    data.nodes.push_back(contact('z', "2001:db8::1", 6881));
    data.values = {tcp("192.0.2.7", 51413), tcp("2001:db8::7", 1)};
    data.token = "tok";
    std::string out;
    encode_response(out, envelope{"tx", "LR01", false, udp("203.0.113.9", 4000)}, data);
    packets.push_back(out);
    encode_query(out, envelope{"tx", "LR01", true, std::nullopt},
                 query{data.id, find_node_args{data.id, {true, true}}});
    packets.push_back(out);
    return packets;
}

// Reads every field a node would, so ASan sees any out-of-bounds view.
std::size_t touch(const message& m) {
    std::size_t sum = m.transaction_id.size() + (m.version ? m.version->size() : 0) + (m.ip ? m.ip->port() : 0);
    if (const auto* r = std::get_if<response>(&m.body)) {
        for (const auto& n : r->nodes) sum += n.endpoint.port() + n.id.bytes()[19];
        for (const auto& n : r->nodes6) sum += n.endpoint.port() + n.id.bytes()[19];
        if (r->values)
            for (const auto& p : *r->values) sum += p.port();
        if (r->token) sum += r->token->size();
    } else if (const auto* e = std::get_if<error>(&m.body)) {
        sum += e->message.size();
    } else if (const auto* q = std::get_if<query>(&m.body)) {
        if (const auto* a = std::get_if<announce_peer_args>(&q->args)) sum += a->token.size();
    }
    return sum;
}

TEST(KrpcRobustness, EveryTruncationFails) {
    bencode::document doc;
    for (const auto& p : valid_packets()) {
        decode_ok(p, doc);
        for (std::size_t n = 0; n < p.size(); ++n) {
            message m;
            const auto ec = decode(p.substr(0, n), doc, m);
            EXPECT_TRUE(ec) << n << " bytes of " << p;
            EXPECT_EQ(&ec.category(), &error_category());
        }
    }
}

TEST(KrpcRobustness, RandomMutationsFailCleanlyOrDecode) {
    std::mt19937 rng(5);
    const auto packets = valid_packets();
    const char alphabet[] = "0123456789ilde:-qrey";
    bencode::document doc;
    std::size_t accepted = 0;
    std::size_t rejected = 0;
    std::size_t checksum = 0;
    for (int round = 0; round < 10000; ++round) {
        std::string p = packets[round % packets.size()];
        const int edits = 1 + static_cast<int>(rng() % 3);
        for (int i = 0; i < edits; ++i) {
            const auto at = rng() % p.size();
            switch (rng() % 3) {
            case 0: p[at] = static_cast<char>(rng()); break;
            case 1: p[at] = alphabet[rng() % (sizeof alphabet - 1)]; break;
            default: p.erase(at, 1); break;
            }
        }
        message m;
        const auto ec = decode(p, doc, m);
        if (ec) {
            ++rejected;
            EXPECT_EQ(&ec.category(), &error_category());
            const int reply = error_reply_code(ec);
            EXPECT_TRUE(reply == protocol_error || reply == method_unknown);
        } else {
            ++accepted;
            ASSERT_TRUE(m.type);
            EXPECT_EQ(static_cast<std::size_t>(*m.type == message_type::query ? 0
                                               : *m.type == message_type::response ? 1
                                                                                   : 2),
                      m.body.index());
            checksum += touch(m);
        }
    }
    // Mutations of string contents often stay valid; structural ones are rejected.
    EXPECT_GT(accepted, 500u);
    EXPECT_GT(rejected, 2000u);
    EXPECT_GT(checksum, 0u);
}

}  // namespace
}  // namespace librats::dht::krpc
