#ifndef LIBRATS_MDNS_DNS_HPP
#define LIBRATS_MDNS_DNS_HPP

// DNS messages (RFC 1035) as mDNS (RFC 6762) and DNS-SD (RFC 6763) use them. Sans-I/O: bytes in,
// bytes out.
//
// decode() is strict where a hostile packet could cost memory or time: names are at most 255
// bytes, compression pointers must point before every byte of the name read so far (so they
// cannot loop) and are followed at most max_pointer_jumps times, section counts are checked
// against what the packet can hold before anything is read, and nothing is reserved by a count.
// Trailing bytes after the last record are ignored. encode() compresses every name it may
// (RFC 6762 §18.14: owner names, PTR, SRV and NSEC data).

#include <librats/detail/endian.hpp>
#include <librats/mdns/error.hpp>

#include <asio/ip/address_v4.hpp>
#include <asio/ip/address_v6.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace librats::mdns::dns {

inline constexpr std::size_t header_size = 12;
inline constexpr std::size_t max_label_size = 63;
inline constexpr std::size_t max_name_size = 255;  // on the wire, length bytes and the root included
inline constexpr std::size_t max_pointer_jumps = 32;
inline constexpr std::size_t max_message_size = 65535;

// Header flags.
inline constexpr std::uint16_t flag_response = 0x8000;       // QR
inline constexpr std::uint16_t flag_authoritative = 0x0400;  // AA
inline constexpr std::uint16_t flag_truncated = 0x0200;      // TC

inline constexpr std::uint16_t class_in = 1;
inline constexpr std::uint16_t class_any = 255;
// The top bit of a question's class asks for a unicast reply (QU); of a record's class, it tells
// caches to flush other records of that name and type (RFC 6762 §5.4, §10.2).
inline constexpr std::uint16_t class_top_bit = 0x8000;

enum class rr_type : std::uint16_t { a = 1, ptr = 12, txt = 16, aaaa = 28, srv = 33, nsec = 47, any = 255 };

// ---- case-insensitive comparison (ASCII only, as DNS names compare)

inline char to_lower_ascii(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline int compare_ignoring_case(std::string_view a, std::string_view b) noexcept {
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const auto x = static_cast<unsigned char>(to_lower_ascii(a[i]));
        const auto y = static_cast<unsigned char>(to_lower_ascii(b[i]));
        if (x != y) return x < y ? -1 : 1;
    }
    return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

inline bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && compare_ignoring_case(a, b) == 0;
}

struct less_ignoring_case {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept { return compare_ignoring_case(a, b) < 0; }
};

// ---- names

// A domain name held in uncompressed wire form: length-prefixed labels ending with the root's
// zero byte. Labels may hold any byte, dots included; comparison ignores ASCII case.
class name {
public:
    name() : wire_(1, '\0') {}

    // Dotted text; "\." and "\\" put a dot or a backslash inside a label; a final dot is optional.
    static std::error_code parse(std::string_view text, name& out) {
        name result;
        std::string label;
        bool escaped = false;
        for (const char c : text) {
            if (escaped) {
                label.push_back(c);
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '.') {
                if (const auto ec = result.append(label)) return ec;
                label.clear();
            } else {
                label.push_back(c);
            }
        }
        if (escaped) label.push_back('\\');
        if (!label.empty())
            if (const auto ec = result.append(label)) return ec;
        out = std::move(result);
        return {};
    }

    // Adds a label after the existing ones (before the root).
    std::error_code append(std::string_view label) {
        if (const auto ec = check_label(label)) return ec;
        wire_.pop_back();
        wire_.push_back(static_cast<char>(label.size()));
        wire_.append(label);
        wire_.push_back('\0');
        return {};
    }

    // Adds a label in front: "host" + "local." gives "host.local.".
    std::error_code prepend(std::string_view label) {
        if (const auto ec = check_label(label)) return ec;
        std::string w;
        w.reserve(wire_.size() + 1 + label.size());
        w.push_back(static_cast<char>(label.size()));
        w.append(label);
        w.append(wire_);
        wire_ = std::move(w);
        return {};
    }

    std::string_view wire() const noexcept { return wire_; }
    bool is_root() const noexcept { return wire_.size() == 1; }

    std::vector<std::string_view> labels() const {
        std::vector<std::string_view> out;
        for (std::size_t i = 0; wire_[i] != 0; i += 1 + static_cast<unsigned char>(wire_[i]))
            out.push_back(std::string_view(wire_).substr(i + 1, static_cast<unsigned char>(wire_[i])));
        return out;
    }

    // The leftmost label; empty for the root.
    std::string_view first_label() const noexcept {
        return std::string_view(wire_).substr(1, static_cast<unsigned char>(wire_[0]));
    }

    // The name without its leftmost label; the root stays the root.
    name parent() const {
        name p;
        if (!is_root()) p.wire_ = wire_.substr(1 + static_cast<unsigned char>(wire_[0]));
        return p;
    }

    // Dotted text with a final dot; dots and backslashes inside labels are escaped.
    std::string to_string() const {
        if (is_root()) return ".";
        std::string out;
        for (const auto label : labels()) {
            for (const char c : label) {
                if (c == '.' || c == '\\') out.push_back('\\');
                out.push_back(c);
            }
            out.push_back('.');
        }
        return out;
    }

    friend bool operator==(const name& a, const name& b) noexcept { return equal_ignoring_case(a.wire_, b.wire_); }
    friend bool operator!=(const name& a, const name& b) noexcept { return !(a == b); }
    friend bool operator<(const name& a, const name& b) noexcept { return compare_ignoring_case(a.wire_, b.wire_) < 0; }

private:
    friend class reader;

    std::error_code check_label(std::string_view label) const {
        if (label.empty()) return errc::empty_label;
        if (label.size() > max_label_size) return errc::label_too_long;
        if (wire_.size() + 1 + label.size() > max_name_size) return errc::name_too_long;
        return {};
    }

    std::string wire_;
};

// Names from literals known to be valid; an invalid one gives the root.
inline name make_name(std::string_view text) {
    name n;
    name::parse(text, n);
    return n;
}

// ---- records

struct ptr_rdata {
    name target;
};

struct srv_rdata {
    std::uint16_t priority = 0;
    std::uint16_t weight = 0;
    std::uint16_t port = 0;
    name target;
};

// Character strings as they are on the wire; see make_txt() and parse_txt() for DNS-SD's
// key=value view. No strings is written as one empty string (RFC 6763 §6.1).
struct txt_rdata {
    std::vector<std::string> strings;
};

// The restricted form mDNS uses (RFC 6762 §6.1): the next name is the record's own name and the
// bitmap has window 0 only, so it lists types below 256.
struct nsec_rdata {
    name next;
    std::vector<rr_type> types;
};

// Any type this codec does not parse: the rdata bytes as received (names inside stay compressed
// and cannot be read out of the message).
struct unknown_rdata {
    std::string bytes;
};

using rdata = std::variant<unknown_rdata, asio::ip::address_v4, asio::ip::address_v6, ptr_rdata, srv_rdata, txt_rdata,
                           nsec_rdata>;

struct question {
    name qname;
    rr_type type = rr_type::any;
    std::uint16_t qclass = class_in;  // without the QU bit
    bool unicast_response = false;    // QU
};

struct resource_record {
    name owner;
    rr_type type = rr_type::a;
    std::uint16_t rrclass = class_in;  // without the cache-flush bit
    bool cache_flush = false;
    std::uint32_t ttl = 0;
    rdata data;
};

struct message {
    std::uint16_t id = 0;
    std::uint16_t flags = 0;
    std::vector<question> questions;
    std::vector<resource_record> answers;
    std::vector<resource_record> authorities;
    std::vector<resource_record> additionals;

    bool is_response() const noexcept { return (flags & flag_response) != 0; }
    bool is_truncated() const noexcept { return (flags & flag_truncated) != 0; }
};

// ---- DNS-SD TXT (RFC 6763 §6)

using txt_map = std::map<std::string, std::string, less_ignoring_case>;

// One "key=value" string per entry. Keys are printable ASCII without '=', not empty; a string is
// at most 255 bytes.
inline std::error_code make_txt(const txt_map& entries, txt_rdata& out) {
    txt_rdata result;
    for (const auto& [key, value] : entries) {
        if (key.empty()) return errc::bad_txt_key;
        for (const char c : key)
            if (c < 0x20 || c > 0x7e || c == '=') return errc::bad_txt_key;
        if (key.size() + 1 + value.size() > 255) return errc::txt_string_too_long;
        result.strings.push_back(key + '=' + value);
    }
    out = std::move(result);
    return {};
}

// Keys compare without case and the first of a repeated key wins (§6.4); a string without '='
// is a key with an empty value; a string starting with '=' has no key and is skipped.
inline txt_map parse_txt(const txt_rdata& txt) {
    txt_map out;
    for (const auto& s : txt.strings) {
        const auto eq = s.find('=');
        if (eq == 0 || s.empty()) continue;
        if (eq == std::string::npos) out.emplace(s, std::string());
        else out.emplace(s.substr(0, eq), s.substr(eq + 1));
    }
    return out;
}

// ---- decoding

class reader {
public:
    explicit reader(std::string_view packet) noexcept
        : data_(reinterpret_cast<const unsigned char*>(packet.data())), size_(packet.size()) {}

    // Reads the name at pos and moves pos past its bytes at that place (up to and including the
    // first pointer, if any).
    std::error_code read_name(std::size_t& pos, name& out) const {
        auto& w = out.wire_;
        w.clear();
        std::size_t p = pos;
        std::size_t lowest = pos;  // every byte read so far is at or after this offset
        std::size_t jumps = 0;
        bool jumped = false;
        for (;;) {
            if (p >= size_) return errc::truncated;
            const unsigned char len = data_[p];
            if ((len & 0xc0) == 0xc0) {
                if (p + 1 >= size_) return errc::truncated;
                const std::size_t target = (std::size_t{len & 0x3fu} << 8) | data_[p + 1];
                if (target > p) return errc::forward_pointer;
                if (target >= lowest) return errc::pointer_loop;
                if (++jumps > max_pointer_jumps) return errc::too_many_pointers;
                if (!jumped) pos = p + 2;
                jumped = true;
                p = lowest = target;
                continue;
            }
            if (len & 0xc0) return errc::bad_label_type;
            if (len == 0) {
                w.push_back('\0');
                if (!jumped) pos = p + 1;
                return {};
            }
            if (p + 1 + len > size_) return errc::truncated;
            if (w.size() + 1 + len + 1 > max_name_size) return errc::name_too_long;
            w.append(reinterpret_cast<const char*>(data_ + p), 1 + std::size_t{len});
            p += 1 + std::size_t{len};
        }
    }

    std::error_code read_question(std::size_t& pos, question& q) const {
        if (const auto ec = read_name(pos, q.qname)) return ec;
        if (pos + 4 > size_) return errc::truncated;
        q.type = static_cast<rr_type>(librats::detail::get_u16(data_ + pos));
        const std::uint16_t qclass = librats::detail::get_u16(data_ + pos + 2);
        q.qclass = qclass & ~class_top_bit;
        q.unicast_response = (qclass & class_top_bit) != 0;
        pos += 4;
        return {};
    }

    std::error_code read_record(std::size_t& pos, resource_record& r) const {
        if (const auto ec = read_name(pos, r.owner)) return ec;
        if (pos + 10 > size_) return errc::truncated;
        r.type = static_cast<rr_type>(librats::detail::get_u16(data_ + pos));
        const std::uint16_t rrclass = librats::detail::get_u16(data_ + pos + 2);
        r.rrclass = rrclass & ~class_top_bit;
        r.cache_flush = (rrclass & class_top_bit) != 0;
        r.ttl = librats::detail::get_u32(data_ + pos + 4);
        const std::size_t length = librats::detail::get_u16(data_ + pos + 8);
        pos += 10;
        if (length > size_ - pos) return errc::rdlength_past_end;
        const std::size_t end = pos + length;
        const auto ec = read_rdata(pos, end, r);
        pos = end;
        return ec;
    }

private:
    std::error_code read_rdata(std::size_t pos, std::size_t end, resource_record& r) const {
        const std::size_t length = end - pos;
        switch (r.type) {
        case rr_type::a: {
            if (length != 4) return errc::bad_rdata;
            asio::ip::address_v4::bytes_type b;
            std::copy(data_ + pos, data_ + end, b.begin());
            r.data = asio::ip::address_v4(b);
            return {};
        }
        case rr_type::aaaa: {
            if (length != 16) return errc::bad_rdata;
            asio::ip::address_v6::bytes_type b;
            std::copy(data_ + pos, data_ + end, b.begin());
            r.data = asio::ip::address_v6(b);
            return {};
        }
        case rr_type::ptr: {
            ptr_rdata ptr;
            if (const auto ec = read_name(pos, ptr.target)) return ec;
            if (pos != end) return errc::bad_rdata;
            r.data = std::move(ptr);
            return {};
        }
        case rr_type::srv: {
            if (length < 7) return errc::bad_rdata;
            srv_rdata srv;
            srv.priority = librats::detail::get_u16(data_ + pos);
            srv.weight = librats::detail::get_u16(data_ + pos + 2);
            srv.port = librats::detail::get_u16(data_ + pos + 4);
            pos += 6;
            if (const auto ec = read_name(pos, srv.target)) return ec;
            if (pos != end) return errc::bad_rdata;
            r.data = std::move(srv);
            return {};
        }
        case rr_type::txt: {
            txt_rdata txt;
            while (pos < end) {
                const std::size_t len = data_[pos];
                if (len + 1 > end - pos) return errc::bad_rdata;
                txt.strings.emplace_back(reinterpret_cast<const char*>(data_ + pos + 1), len);
                pos += 1 + len;
            }
            r.data = std::move(txt);
            return {};
        }
        case rr_type::nsec: {
            // An NSEC outside the restricted mDNS form (python-zeroconf 0.47 writes the window
            // and length as 16-bit fields) stays raw data: it is bounded by rdlength, and the
            // packet's other records are still good.
            nsec_rdata nsec;
            const auto start = pos;
            if (!read_name(pos, nsec.next) && pos + 2 <= end) {
                const std::size_t window = data_[pos];
                const std::size_t bitmap = data_[pos + 1];
                pos += 2;
                if (window == 0 && bitmap != 0 && bitmap <= 32 && pos + bitmap == end) {
                    for (std::size_t i = 0; i < bitmap * 8; ++i)
                        if (data_[pos + i / 8] & (0x80u >> (i % 8))) nsec.types.push_back(static_cast<rr_type>(i));
                    r.data = std::move(nsec);
                    return {};
                }
            }
            r.data = unknown_rdata{std::string(reinterpret_cast<const char*>(data_ + start), length)};
            return {};
        }
        default:
            r.data = unknown_rdata{std::string(reinterpret_cast<const char*>(data_ + pos), length)};
            return {};
        }
    }

    const unsigned char* data_;
    std::size_t size_;
};

// Decodes a whole message into out, whose vectors are reused. On error, out holds what was read.
inline std::error_code decode(std::string_view packet, message& out) {
    out.questions.clear();
    out.answers.clear();
    out.authorities.clear();
    out.additionals.clear();
    if (packet.size() < header_size) return errc::truncated;
    const auto* h = reinterpret_cast<const unsigned char*>(packet.data());
    out.id = librats::detail::get_u16(h);
    out.flags = librats::detail::get_u16(h + 2);
    const std::size_t qd = librats::detail::get_u16(h + 4);
    const std::size_t an = librats::detail::get_u16(h + 6);
    const std::size_t ns = librats::detail::get_u16(h + 8);
    const std::size_t ar = librats::detail::get_u16(h + 10);
    // The smallest question is 5 bytes (root name, type, class), the smallest record 11.
    if (qd * 5 + (an + ns + ar) * 11 > packet.size() - header_size) return errc::counts_exceed_packet;

    const reader in(packet);
    std::size_t pos = header_size;
    for (std::size_t i = 0; i < qd; ++i) {
        out.questions.emplace_back();
        if (const auto ec = in.read_question(pos, out.questions.back())) return ec;
    }
    for (auto* section : {&out.answers, &out.authorities, &out.additionals}) {
        const std::size_t count = section == &out.answers ? an : section == &out.authorities ? ns : ar;
        for (std::size_t i = 0; i < count; ++i) {
            section->emplace_back();
            if (const auto ec = in.read_record(pos, section->back())) return ec;
        }
    }
    return {};
}

// ---- encoding

namespace detail {

inline void put16(std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xff));
}

inline void put32(std::string& out, std::uint32_t v) {
    put16(out, static_cast<std::uint16_t>(v >> 16));
    put16(out, static_cast<std::uint16_t>(v & 0xffff));
}

inline bool rdata_matches(rr_type type, const rdata& data) noexcept {
    switch (data.index()) {
    case 0: return true;
    case 1: return type == rr_type::a;
    case 2: return type == rr_type::aaaa;
    case 3: return type == rr_type::ptr;
    case 4: return type == rr_type::srv;
    case 5: return type == rr_type::txt;
    default: return type == rr_type::nsec;
    }
}

// Writes rdata; write_name(out, name) writes a name the way the caller wants (compressed or not).
template <class NameWriter>
std::error_code append_rdata(std::string& out, const rdata& data, NameWriter&& write_name) {
    if (const auto* raw = std::get_if<unknown_rdata>(&data)) {
        out.append(raw->bytes);
    } else if (const auto* v4 = std::get_if<asio::ip::address_v4>(&data)) {
        const auto b = v4->to_bytes();
        out.append(reinterpret_cast<const char*>(b.data()), b.size());
    } else if (const auto* v6 = std::get_if<asio::ip::address_v6>(&data)) {
        const auto b = v6->to_bytes();
        out.append(reinterpret_cast<const char*>(b.data()), b.size());
    } else if (const auto* ptr = std::get_if<ptr_rdata>(&data)) {
        write_name(out, ptr->target);
    } else if (const auto* srv = std::get_if<srv_rdata>(&data)) {
        put16(out, srv->priority);
        put16(out, srv->weight);
        put16(out, srv->port);
        write_name(out, srv->target);
    } else if (const auto* txt = std::get_if<txt_rdata>(&data)) {
        if (txt->strings.empty()) out.push_back('\0');
        for (const auto& s : txt->strings) {
            if (s.size() > 255) return errc::txt_string_too_long;
            out.push_back(static_cast<char>(s.size()));
            out.append(s);
        }
    } else {
        const auto& nsec = std::get<nsec_rdata>(data);
        write_name(out, nsec.next);
        unsigned char bitmap[32] = {};
        std::size_t used = 1;
        for (const auto t : nsec.types) {
            const auto v = static_cast<std::uint16_t>(t);
            if (v > 255) return errc::bad_rdata;
            bitmap[v / 8] |= static_cast<unsigned char>(0x80u >> (v % 8));
            used = std::max<std::size_t>(used, v / 8 + 1u);
        }
        out.push_back('\0');
        out.push_back(static_cast<char>(used));
        out.append(reinterpret_cast<const char*>(bitmap), used);
    }
    return {};
}

}  // namespace detail

// The rdata with names uncompressed and lowercased: equal for records that mean the same
// (known-answer suppression, conflicts) and ordered as RFC 6762 §8.2 compares them.
inline std::string canonical_rdata(const rdata& data) {
    std::string out;
    detail::append_rdata(out, data, [](std::string& o, const name& n) {
        for (const char c : n.wire()) o.push_back(to_lower_ascii(c));
    });
    return out;
}

// Writes messages with name compression: every name suffix written at an offset a pointer can
// reach is remembered and reused. One writer per message.
class writer {
public:
    explicit writer(std::string& out) : out_(out) {}

    std::error_code write(const message& m) {
        out_.clear();
        suffixes_.clear();
        detail::put16(out_, m.id);
        detail::put16(out_, m.flags);
        for (const std::size_t count :
             {m.questions.size(), m.answers.size(), m.authorities.size(), m.additionals.size()}) {
            if (count > 0xffff) return errc::message_too_large;
            detail::put16(out_, static_cast<std::uint16_t>(count));
        }
        for (const auto& q : m.questions) {
            write_name(q.qname);
            detail::put16(out_, static_cast<std::uint16_t>(q.type));
            detail::put16(out_, static_cast<std::uint16_t>(q.qclass | (q.unicast_response ? class_top_bit : 0)));
        }
        for (const auto* section : {&m.answers, &m.authorities, &m.additionals})
            for (const auto& r : *section)
                if (const auto ec = write_record(r)) return ec;
        if (out_.size() > max_message_size) return errc::message_too_large;
        return {};
    }

private:
    struct suffix {
        std::string_view wire;  // into a name of the message being written
        std::uint16_t offset;
    };

    std::error_code write_record(const resource_record& r) {
        if (!detail::rdata_matches(r.type, r.data)) return errc::bad_rdata;
        write_name(r.owner);
        detail::put16(out_, static_cast<std::uint16_t>(r.type));
        detail::put16(out_, static_cast<std::uint16_t>(r.rrclass | (r.cache_flush ? class_top_bit : 0)));
        detail::put32(out_, r.ttl);
        const std::size_t length_at = out_.size();
        detail::put16(out_, 0);
        if (const auto ec = detail::append_rdata(out_, r.data, [this](std::string&, const name& n) { write_name(n); }))
            return ec;
        const std::size_t length = out_.size() - length_at - 2;
        if (length > 0xffff) return errc::message_too_large;
        out_[length_at] = static_cast<char>(length >> 8);
        out_[length_at + 1] = static_cast<char>(length & 0xff);
        return {};
    }

    void write_name(const name& n) {
        const std::string_view w = n.wire();
        std::size_t i = 0;
        while (w[i] != 0) {
            const std::string_view rest = w.substr(i);
            for (const auto& s : suffixes_) {
                if (equal_ignoring_case(s.wire, rest)) {
                    detail::put16(out_, static_cast<std::uint16_t>(0xc000 | s.offset));
                    return;
                }
            }
            if (out_.size() < 0x4000) suffixes_.push_back({rest, static_cast<std::uint16_t>(out_.size())});
            const std::size_t len = static_cast<unsigned char>(w[i]);
            out_.append(w.substr(i, 1 + len));
            i += 1 + len;
        }
        out_.push_back('\0');
    }

    std::string& out_;
    std::vector<suffix> suffixes_;
};

inline std::error_code encode(const message& m, std::string& out) { return writer(out).write(m); }

}  // namespace librats::mdns::dns

#endif
