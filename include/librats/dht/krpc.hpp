#ifndef LIBRATS_DHT_KRPC_HPP
#define LIBRATS_DHT_KRPC_HPP

// KRPC messages of the BitTorrent DHT (BEP 5) with IPv6 (BEP 32), the external address "ip"
// (BEP 42) and read-only nodes "ro" (BEP 43). Sans-I/O: bytes in, bytes out.
//
// A decoded message is a set of views into the packet and into the bencode document used to
// decode it: both must outlive the message.

#include <librats/detail/endian.hpp>
#include <librats/dht/bencode.hpp>
#include <librats/dht/node_id.hpp>
#include <librats/error.hpp>

#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace librats::dht::krpc {

inline constexpr std::size_t compact_peer_v4_size = 6;
inline constexpr std::size_t compact_peer_v6_size = 18;
inline constexpr std::size_t compact_node_v4_size = node_id::size + compact_peer_v4_size;  // 26
inline constexpr std::size_t compact_node_v6_size = node_id::size + compact_peer_v6_size;  // 38
inline constexpr std::size_t max_token_size = 64;

// Error codes of "e" messages (BEP 5).
inline constexpr int generic_error = 201;
inline constexpr int server_error = 202;
inline constexpr int protocol_error = 203;
inline constexpr int method_unknown = 204;

// ---- compact info: address and port in network byte order, after the ID for nodes

// 6 bytes for IPv4, 18 for IPv6 (a v4-mapped IPv6 address stays IPv6).
inline void append_compact_endpoint(std::string& out, const asio::ip::address& address, std::uint16_t port) {
    unsigned char port_bytes[2];
    detail::put_u16(port_bytes, port);
    if (address.is_v4()) {
        const auto bytes = address.to_v4().to_bytes();
        out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    } else {
        const auto bytes = address.to_v6().to_bytes();
        out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    out.append(reinterpret_cast<const char*>(port_bytes), 2);
}

// Exactly 6 or 18 bytes.
inline std::optional<std::pair<asio::ip::address, std::uint16_t>> decode_compact_endpoint(std::string_view raw) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
    if (raw.size() == compact_peer_v4_size) {
        asio::ip::address_v4::bytes_type a;
        std::memcpy(a.data(), bytes, a.size());
        return std::pair{asio::ip::address{asio::ip::address_v4(a)}, detail::get_u16(bytes + 4)};
    }
    if (raw.size() == compact_peer_v6_size) {
        asio::ip::address_v6::bytes_type a;
        std::memcpy(a.data(), bytes, a.size());
        return std::pair{asio::ip::address{asio::ip::address_v6(a)}, detail::get_u16(bytes + 16)};
    }
    return std::nullopt;
}

inline void append_compact_peer(std::string& out, const asio::ip::tcp::endpoint& peer) {
    append_compact_endpoint(out, peer.address(), peer.port());
}

inline std::optional<asio::ip::tcp::endpoint> decode_compact_peer(std::string_view raw) {
    const auto endpoint = decode_compact_endpoint(raw);
    if (!endpoint) return std::nullopt;
    return asio::ip::tcp::endpoint(endpoint->first, endpoint->second);
}

// 26 bytes for an IPv4 contact, 38 for IPv6.
inline void append_compact_node(std::string& out, const node_contact& node) {
    out.append(node.id.view());
    append_compact_endpoint(out, node.endpoint.address(), node.endpoint.port());
}

// Exactly 26 or 38 bytes.
inline std::optional<node_contact> decode_compact_node(std::string_view raw) {
    if (raw.size() != compact_node_v4_size && raw.size() != compact_node_v6_size) return std::nullopt;
    const auto endpoint = decode_compact_endpoint(raw.substr(node_id::size));
    return node_contact{*node_id::from_bytes(raw.substr(0, node_id::size)),
                        asio::ip::udp::endpoint(endpoint->first, endpoint->second)};
}

// The contacts of a "nodes" (26-byte records) or "nodes6" (38-byte) string, whose length
// decode() has checked.
class compact_nodes {
public:
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = node_contact;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = node_contact;

        iterator() noexcept = default;
        node_contact operator*() const { return *decode_compact_node(std::string_view(at_, stride_)); }
        iterator& operator++() noexcept {
            at_ += stride_;
            return *this;
        }
        iterator operator++(int) noexcept {
            auto copy = *this;
            at_ += stride_;
            return copy;
        }
        friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.at_ == b.at_; }
        friend bool operator!=(const iterator& a, const iterator& b) noexcept { return a.at_ != b.at_; }

    private:
        friend class compact_nodes;
        iterator(const char* at, std::size_t stride) noexcept : at_(at), stride_(stride) {}
        const char* at_ = nullptr;
        std::size_t stride_ = compact_node_v4_size;
    };

    compact_nodes() noexcept = default;
    // raw.size() must be a multiple of stride (26 or 38).
    compact_nodes(std::string_view raw, std::size_t stride) noexcept : raw_(raw), stride_(stride) {}

    std::string_view raw() const noexcept { return raw_; }
    std::size_t size() const noexcept { return raw_.size() / stride_; }
    bool empty() const noexcept { return raw_.empty(); }
    node_contact operator[](std::size_t i) const { return *decode_compact_node(raw_.substr(i * stride_, stride_)); }
    iterator begin() const noexcept { return {raw_.data(), stride_}; }
    iterator end() const noexcept { return {raw_.data() + raw_.size(), stride_}; }

private:
    std::string_view raw_;
    std::size_t stride_ = compact_node_v4_size;
};

// The peers of a "values" list, each of whose strings decode() has checked (6 or 18 bytes).
class compact_peers {
public:
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = asio::ip::tcp::endpoint;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = asio::ip::tcp::endpoint;

        iterator() noexcept = default;
        asio::ip::tcp::endpoint operator*() const { return *decode_compact_peer((*it_).string()); }
        iterator& operator++() noexcept {
            ++it_;
            return *this;
        }
        iterator operator++(int) noexcept {
            auto copy = *this;
            ++it_;
            return copy;
        }
        friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.it_ == b.it_; }
        friend bool operator!=(const iterator& a, const iterator& b) noexcept { return a.it_ != b.it_; }

    private:
        friend class compact_peers;
        using base = bencode::detail::child_range<false>::iterator;
        explicit iterator(base it) noexcept : it_(it) {}
        base it_;
    };

    compact_peers() noexcept = default;
    explicit compact_peers(const bencode::value& list) noexcept : items_(list.items()) {}

    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    iterator begin() const noexcept { return iterator{items_.begin()}; }
    iterator end() const noexcept { return iterator{items_.end()}; }

private:
    bencode::detail::child_range<false> items_;
};

// ---- messages

enum class method : std::uint8_t { ping, find_node, get_peers, announce_peer };

inline std::string_view method_name(method m) noexcept {
    switch (m) {
    case method::ping: return "ping";
    case method::find_node: return "find_node";
    case method::get_peers: return "get_peers";
    case method::announce_peer: return "announce_peer";
    }
    return {};
}

// BEP 32 "want": the address families whose nodes the querier wants; neither means the family
// the query came over.
struct want_flags {
    bool n4 = false;
    bool n6 = false;
    friend bool operator==(want_flags a, want_flags b) noexcept { return a.n4 == b.n4 && a.n6 == b.n6; }
};

struct ping_args {};
struct find_node_args {
    node_id target;
    want_flags want;
};
struct get_peers_args {
    node_id info_hash;
    want_flags want;
};
struct announce_peer_args {
    node_id info_hash;
    std::uint16_t port = 0;
    std::string_view token;
    bool implied_port = false;  // use the query's source port instead of port
};

struct query {
    node_id id;
    // Alternatives in the order of method.
    std::variant<ping_args, find_node_args, get_peers_args, announce_peer_args> args;

    method which() const noexcept { return static_cast<method>(args.index()); }
};

struct response {
    node_id id;
    compact_nodes nodes{{}, compact_node_v4_size};
    compact_nodes nodes6{{}, compact_node_v6_size};
    std::optional<compact_peers> values;
    std::optional<std::string_view> token;
};

struct error {
    std::int64_t code = generic_error;
    std::string_view message;
};

enum class message_type : char { query = 'q', response = 'r', error = 'e' };

struct message {
    // decode() sets these two as soon as it has read them, so a failed query can still be
    // answered with an error (error_reply_code).
    std::string_view transaction_id;                // "t": opaque, echoed in the reply
    std::optional<message_type> type;               // "y"
    std::optional<std::string_view> version;        // "v": client version
    std::optional<asio::ip::udp::endpoint> ip;      // "ip": our address as the sender sees it (BEP 42)
    bool read_only = false;                         // "ro": the sender does not answer queries (BEP 43)
    std::variant<query, response, error> body;      // alternative index follows type
};

// The "e" code to answer a query that decode() rejected with ec.
inline int error_reply_code(const std::error_code& ec) noexcept {
    return ec == errc::krpc_unknown_method ? method_unknown : protocol_error;
}

namespace detail {

inline std::error_code get_string(const bencode::value& dict, std::string_view key, std::string_view& out) {
    const auto v = dict.find(key);
    if (!v) return errc::krpc_missing_field;
    if (!v.is_string()) return errc::krpc_wrong_type;
    out = v.string();
    return {};
}

inline std::error_code get_id(const bencode::value& dict, std::string_view key, node_id& out) {
    std::string_view raw;
    if (auto ec = get_string(dict, key, raw)) return ec;
    const auto id = node_id::from_bytes(raw);
    if (!id) return errc::krpc_bad_id;
    out = *id;
    return {};
}

// Absent is fine; present must be a string.
inline std::error_code get_optional_string(const bencode::value& dict, std::string_view key,
                                           std::optional<std::string_view>& out) {
    const auto v = dict.find(key);
    if (!v) return {};
    if (!v.is_string()) return errc::krpc_wrong_type;
    out = v.string();
    return {};
}

inline std::error_code get_token(const bencode::value& dict, std::optional<std::string_view>& out) {
    if (auto ec = get_optional_string(dict, "token", out)) return ec;
    if (out && (out->empty() || out->size() > max_token_size)) return errc::krpc_bad_token;
    return {};
}

inline std::error_code get_want(const bencode::value& args, want_flags& out) {
    const auto v = args.find("want");
    if (!v) return {};
    if (!v.is_list()) return errc::krpc_wrong_type;
    for (const auto& item : v.items()) {
        if (!item.is_string()) return errc::krpc_wrong_type;
        // Unknown families are ignored: a future BEP may add some.
        if (item.string() == "n4") out.n4 = true;
        if (item.string() == "n6") out.n6 = true;
    }
    return {};
}

inline std::error_code decode_query(const bencode::value& top, query& out) {
    std::string_view name;
    if (auto ec = get_string(top, "q", name)) return ec;
    method m;
    if (name == "ping") m = method::ping;
    else if (name == "find_node") m = method::find_node;
    else if (name == "get_peers") m = method::get_peers;
    else if (name == "announce_peer") m = method::announce_peer;
    else return errc::krpc_unknown_method;

    const auto args = top.find("a");
    if (!args) return errc::krpc_missing_field;
    if (!args.is_dictionary()) return errc::krpc_wrong_type;
    if (auto ec = get_id(args, "id", out.id)) return ec;

    switch (m) {
    case method::ping: out.args = ping_args{}; return {};
    case method::find_node: {
        find_node_args a;
        if (auto ec = get_id(args, "target", a.target)) return ec;
        if (auto ec = get_want(args, a.want)) return ec;
        out.args = a;
        return {};
    }
    case method::get_peers: {
        get_peers_args a;
        if (auto ec = get_id(args, "info_hash", a.info_hash)) return ec;
        if (auto ec = get_want(args, a.want)) return ec;
        out.args = a;
        return {};
    }
    case method::announce_peer: {
        announce_peer_args a;
        if (auto ec = get_id(args, "info_hash", a.info_hash)) return ec;
        const auto implied = args.find("implied_port");
        if (implied) {
            if (!implied.is_integer()) return errc::krpc_wrong_type;
            if (implied.integer() != 0 && implied.integer() != 1) return errc::krpc_bad_port;
            a.implied_port = implied.integer() == 1;
        }
        const auto port = args.find("port");
        if (!port) return errc::krpc_missing_field;
        if (!port.is_integer()) return errc::krpc_wrong_type;
        if (port.integer() < (a.implied_port ? 0 : 1) || port.integer() > 65535) return errc::krpc_bad_port;
        a.port = static_cast<std::uint16_t>(port.integer());
        std::optional<std::string_view> token;
        if (auto ec = get_token(args, token)) return ec;
        if (!token) return errc::krpc_missing_field;
        a.token = *token;
        out.args = a;
        return {};
    }
    }
    return errc::krpc_unknown_method;
}

inline std::error_code get_nodes(const bencode::value& r, std::string_view key, std::size_t stride, compact_nodes& out) {
    std::optional<std::string_view> raw;
    if (auto ec = get_optional_string(r, key, raw)) return ec;
    if (!raw) return {};
    if (raw->size() % stride != 0) return errc::krpc_bad_compact_length;
    out = compact_nodes(*raw, stride);
    return {};
}

inline std::error_code decode_response(const bencode::value& top, response& out) {
    const auto r = top.find("r");
    if (!r) return errc::krpc_missing_field;
    if (!r.is_dictionary()) return errc::krpc_wrong_type;
    if (auto ec = get_id(r, "id", out.id)) return ec;
    if (auto ec = get_nodes(r, "nodes", compact_node_v4_size, out.nodes)) return ec;
    if (auto ec = get_nodes(r, "nodes6", compact_node_v6_size, out.nodes6)) return ec;
    if (auto ec = get_token(r, out.token)) return ec;
    if (const auto values = r.find("values")) {
        if (!values.is_list()) return errc::krpc_wrong_type;
        for (const auto& item : values.items()) {
            if (!item.is_string()) return errc::krpc_wrong_type;
            const auto size = item.string().size();
            if (size != compact_peer_v4_size && size != compact_peer_v6_size) return errc::krpc_bad_compact_length;
        }
        out.values.emplace(values);
    }
    return {};
}

inline std::error_code decode_error(const bencode::value& top, error& out) {
    const auto e = top.find("e");
    if (!e) return errc::krpc_missing_field;
    if (!e.is_list()) return errc::krpc_wrong_type;
    if (e.size() != 2) return errc::krpc_bad_error;
    auto it = e.items().begin();
    const auto code = *it++;
    const auto text = *it;
    if (!code.is_integer() || !text.is_string()) return errc::krpc_bad_error;
    out.code = code.integer();
    out.message = text.string();
    return {};
}

}  // namespace detail

// Decodes one KRPC packet into out, using scratch for the bencode tree. Unknown keys are
// ignored; known keys with a wrong type or size are errors (errc::krpc_*, or errc::bencode_* for
// malformed bencode). errc::krpc_unknown_method: a well-formed query of a method this does not
// know (answer 204); any other error on a query: answer 203.
inline std::error_code decode(std::string_view packet, bencode::document& scratch, message& out) {
    out = message{};
    if (auto result = bencode::decode(packet, scratch); result.error) return result.error;
    const auto top = scratch.root();
    if (!top.is_dictionary()) return errc::krpc_not_a_dictionary;

    if (auto ec = detail::get_string(top, "t", out.transaction_id)) return ec;
    std::string_view y;
    if (auto ec = detail::get_string(top, "y", y)) return ec;
    if (y == "q") out.type = message_type::query;
    else if (y == "r") out.type = message_type::response;
    else if (y == "e") out.type = message_type::error;
    else return errc::krpc_bad_message_type;

    if (auto ec = detail::get_optional_string(top, "v", out.version)) return ec;
    std::optional<std::string_view> ip;
    if (auto ec = detail::get_optional_string(top, "ip", ip)) return ec;
    if (ip) {
        const auto endpoint = decode_compact_endpoint(*ip);
        if (!endpoint) return errc::krpc_bad_compact_length;
        out.ip.emplace(endpoint->first, endpoint->second);
    }
    if (const auto ro = top.find("ro")) {
        if (!ro.is_integer()) return errc::krpc_wrong_type;
        out.read_only = ro.integer() == 1;
    }

    switch (*out.type) {
    case message_type::query: return detail::decode_query(top, out.body.emplace<query>());
    case message_type::response: return detail::decode_response(top, out.body.emplace<response>());
    case message_type::error: return detail::decode_error(top, out.body.emplace<error>());
    }
    return errc::krpc_bad_message_type;
}

// ---- encoding: each function replaces out's contents (its capacity is reused)

// Top-level keys every message may carry.
struct envelope {
    std::string_view transaction_id;
    std::string_view version;                  // "v", omitted if empty
    bool read_only = false;                    // "ro": 1, queries only (BEP 43)
    std::optional<asio::ip::udp::endpoint> ip; // "ip": the receiver's address (BEP 42)
};

// What a response carries; encode_response writes the IPv4 contacts of nodes to "nodes" and the
// IPv6 ones to "nodes6", each key only if it has a contact.
struct response_data {
    node_id id;
    std::vector<node_contact> nodes;
    std::vector<asio::ip::tcp::endpoint> values;  // "values" if not empty
    std::optional<std::string_view> token;
};

namespace detail {

inline std::size_t compact_endpoint_size(const asio::ip::address& address) noexcept {
    return address.is_v4() ? compact_peer_v4_size : compact_peer_v6_size;
}

// Top-level keys in ascending order: a, e, ip, q, r, ro, t, v, y.
inline void write_ip(std::string& out, bencode::writer& w, const envelope& env) {
    if (!env.ip) return;
    w.string("ip");
    w.string_header(compact_endpoint_size(env.ip->address()));
    append_compact_endpoint(out, env.ip->address(), env.ip->port());
}

inline void write_tail(bencode::writer& w, const envelope& env, char y) {
    if (env.read_only && y == 'q') {
        w.string("ro");
        w.integer(1);
    }
    w.string("t");
    w.string(env.transaction_id);
    if (!env.version.empty()) {
        w.string("v");
        w.string(env.version);
    }
    w.string("y");
    w.string(std::string_view(&y, 1));
    w.end();
}

inline void write_want(bencode::writer& w, want_flags want) {
    if (!want.n4 && !want.n6) return;
    w.string("want");
    w.begin_list();
    if (want.n4) w.string("n4");
    if (want.n6) w.string("n6");
    w.end();
}

}  // namespace detail

inline void encode_query(std::string& out, const envelope& env, const query& q) {
    out.clear();
    bencode::writer w(out);
    w.begin_dictionary();
    w.string("a");
    w.begin_dictionary();
    w.string("id");
    w.string(q.id.view());
    switch (q.which()) {
    case method::ping: break;
    case method::find_node: {
        const auto& a = std::get<find_node_args>(q.args);
        w.string("target");
        w.string(a.target.view());
        detail::write_want(w, a.want);
        break;
    }
    case method::get_peers: {
        const auto& a = std::get<get_peers_args>(q.args);
        w.string("info_hash");
        w.string(a.info_hash.view());
        detail::write_want(w, a.want);
        break;
    }
    case method::announce_peer: {
        const auto& a = std::get<announce_peer_args>(q.args);
        if (a.implied_port) {
            w.string("implied_port");
            w.integer(1);
        }
        w.string("info_hash");
        w.string(a.info_hash.view());
        w.string("port");
        w.integer(a.port);
        w.string("token");
        w.string(a.token);
        break;
    }
    }
    w.end();
    detail::write_ip(out, w, env);
    w.string("q");
    w.string(method_name(q.which()));
    detail::write_tail(w, env, 'q');
}

inline void encode_response(std::string& out, const envelope& env, const response_data& r) {
    out.clear();
    bencode::writer w(out);
    w.begin_dictionary();
    detail::write_ip(out, w, env);
    w.string("r");
    w.begin_dictionary();
    w.string("id");
    w.string(r.id.view());
    for (const bool v6 : {false, true}) {
        std::size_t count = 0;
        for (const auto& node : r.nodes) count += node.endpoint.address().is_v6() == v6;
        if (count == 0) continue;
        w.string(v6 ? "nodes6" : "nodes");
        w.string_header(count * (v6 ? compact_node_v6_size : compact_node_v4_size));
        for (const auto& node : r.nodes)
            if (node.endpoint.address().is_v6() == v6) append_compact_node(out, node);
    }
    if (r.token) {
        w.string("token");
        w.string(*r.token);
    }
    if (!r.values.empty()) {
        w.string("values");
        w.begin_list();
        for (const auto& peer : r.values) {
            w.string_header(detail::compact_endpoint_size(peer.address()));
            append_compact_peer(out, peer);
        }
        w.end();
    }
    w.end();
    detail::write_tail(w, env, 'r');
}

inline void encode_error(std::string& out, const envelope& env, std::int64_t code, std::string_view text) {
    out.clear();
    bencode::writer w(out);
    w.begin_dictionary();
    w.string("e");
    w.begin_list();
    w.integer(code);
    w.string(text);
    w.end();
    detail::write_ip(out, w, env);
    detail::write_tail(w, env, 'e');
}

}  // namespace librats::dht::krpc

#endif
