// The DNS codec on its own: byte-exact packets laid out by hand from RFC 1035 §4, compression,
// the mDNS bits (QU, cache-flush), DNS-SD TXT rules, every way a hostile packet can be wrong, and
// random mutations that must neither crash nor decode into more than the packet can hold.

#include <librats/mdns/dns.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace librats::mdns::dns {
namespace {

using namespace std::string_literals;

// The header: ID, flags and the four counts.
std::string header(std::uint16_t flags, std::uint16_t qd, std::uint16_t an, std::uint16_t ns, std::uint16_t ar) {
    std::string h;
    for (const std::uint16_t v : {std::uint16_t{0}, flags, qd, an, ns, ar}) {
        h.push_back(static_cast<char>(v >> 8));
        h.push_back(static_cast<char>(v & 0xff));
    }
    return h;
}

const std::string http_query = header(0, 1, 0, 0, 0) + "\x05_http\x04_tcp\x05local\x00"s + "\x00\x0c\x00\x01"s;

// SRV web._http._tcp.local -> host.local:80, TXT "path=/", A host.local 192.168.1.10, with the
// compression a careful encoder produces: owner at 12, "local" at 27, "host.local" at 50.
const std::string web_response = header(0x8400, 0, 1, 0, 2) +
                                 "\x03web\x05_http\x04_tcp\x05local\x00"s +                  // 12
                                 "\x00\x21\x80\x01\x00\x00\x00\x78\x00\x0d"s +                // SRV, flush, 120 s
                                 "\x00\x00\x00\x00\x00\x50\x04host\xc0\x1b"s +                // 0 0 80 host.<27>
                                 "\xc0\x0c\x00\x10\x80\x01\x00\x00\x11\x94\x00\x07\x06path=/"s +  // TXT 4500 s
                                 "\xc0\x32\x00\x01\x80\x01\x00\x00\x00\x78\x00\x04\xc0\xa8\x01\x0a"s;

message web_message() {
    message m;
    m.flags = flag_response | flag_authoritative;
    const auto owner = make_name("web._http._tcp.local");
    const auto host = make_name("host.local");
    m.answers.push_back({owner, rr_type::srv, class_in, true, 120, srv_rdata{0, 0, 80, host}});
    m.additionals.push_back({owner, rr_type::txt, class_in, true, 4500, txt_rdata{{"path=/"}}});
    m.additionals.push_back({host, rr_type::a, class_in, true, 120, asio::ip::make_address_v4("192.168.1.10")});
    return m;
}

std::error_code decode_error(const std::string& packet) {
    message m;
    return decode(packet, m);
}

TEST(DnsName, ParsesPrintsAndComparesWithoutCase) {
    name n;
    ASSERT_FALSE(name::parse("My\\.Printer._http._tcp.local.", n));
    EXPECT_EQ(n.labels().size(), 4u);
    EXPECT_EQ(n.first_label(), "My.Printer");
    EXPECT_EQ(n.to_string(), "My\\.Printer._http._tcp.local.");
    EXPECT_EQ(n, make_name("my\\.printer._HTTP._tcp.LOCAL"));
    EXPECT_NE(n, make_name("my\\.printer._http._udp.local"));
    EXPECT_EQ(n.parent(), make_name("_http._tcp.local"));
    EXPECT_TRUE(name().is_root());
    EXPECT_EQ(name().to_string(), ".");
    EXPECT_TRUE(equal_ignoring_case("AbC", "aBc"));
    EXPECT_FALSE(equal_ignoring_case("abc", "abd"));
    EXPECT_LT(compare_ignoring_case("ABC", "abd"), 0);
}

TEST(DnsName, RejectsBadLabelsAndLongNames) {
    name n;
    EXPECT_EQ(name::parse(std::string(64, 'a') + ".local", n), errc::label_too_long);
    EXPECT_EQ(name::parse("a..local", n), errc::empty_label);
    EXPECT_EQ(n.append(""), errc::empty_label);
    // 3 labels of 63 and one of 61: 64 * 3 + 62 + 1 = 255 bytes on the wire, the most allowed.
    const std::string l63(63, 'x');
    EXPECT_FALSE(name::parse(l63 + "." + l63 + "." + l63 + "." + std::string(61, 'y'), n));
    EXPECT_EQ(n.wire().size(), 255u);
    EXPECT_EQ(name::parse(l63 + "." + l63 + "." + l63 + "." + std::string(62, 'y'), n), errc::name_too_long);
    std::string three_hundred;
    for (int i = 0; i < 50; ++i) three_hundred += "abcde.";
    EXPECT_EQ(name::parse(three_hundred, n), errc::name_too_long);
}

TEST(DnsEncode, PtrQueryIsByteExact) {
    message m;
    m.questions.push_back({make_name("_http._tcp.local"), rr_type::ptr, class_in, false});
    std::string out;
    ASSERT_FALSE(encode(m, out));
    EXPECT_EQ(out, http_query);

    m.questions[0].unicast_response = true;
    ASSERT_FALSE(encode(m, out));
    EXPECT_EQ(static_cast<unsigned char>(out[out.size() - 2]), 0x80);  // QU: the top bit of qclass
}

TEST(DnsEncode, ResponseIsByteExactWithCompression) {
    std::string out;
    ASSERT_FALSE(encode(web_message(), out));
    EXPECT_EQ(out, web_response);
}

TEST(DnsDecode, ResponseBuiltByHand) {
    message m;
    ASSERT_FALSE(decode(web_response, m));
    EXPECT_TRUE(m.is_response());
    EXPECT_FALSE(m.is_truncated());
    ASSERT_EQ(m.answers.size(), 1u);
    ASSERT_EQ(m.additionals.size(), 2u);
    const auto& srv = m.answers[0];
    EXPECT_EQ(srv.owner, make_name("web._http._tcp.local"));
    EXPECT_TRUE(srv.cache_flush);
    EXPECT_EQ(srv.rrclass, class_in);
    EXPECT_EQ(srv.ttl, 120u);
    EXPECT_EQ(std::get<srv_rdata>(srv.data).port, 80);
    EXPECT_EQ(std::get<srv_rdata>(srv.data).target, make_name("host.local"));
    EXPECT_EQ(parse_txt(std::get<txt_rdata>(m.additionals[0].data)).at("path"), "/");
    EXPECT_EQ(m.additionals[1].owner, make_name("host.local"));
    EXPECT_EQ(std::get<asio::ip::address_v4>(m.additionals[1].data), asio::ip::make_address_v4("192.168.1.10"));
}

TEST(DnsDecode, QueryBuiltByHand) {
    message m;
    ASSERT_FALSE(decode(http_query, m));
    EXPECT_FALSE(m.is_response());
    ASSERT_EQ(m.questions.size(), 1u);
    EXPECT_EQ(m.questions[0].qname, make_name("_http._tcp.local"));
    EXPECT_EQ(m.questions[0].type, rr_type::ptr);
    EXPECT_FALSE(m.questions[0].unicast_response);
}

TEST(DnsRoundTrip, EveryRecordTypeAndCompression) {
    message m;
    m.id = 0x1234;
    m.flags = flag_response | flag_authoritative | flag_truncated;
    const auto type = make_name("_librats._tcp.local");
    const auto instance = make_name("Node (2)._librats._tcp.local");
    const auto host = make_name("HOST-1.LOCAL");  // case differs from "local": still compressed
    m.questions.push_back({instance, rr_type::any, class_in, true});
    m.answers.push_back({type, rr_type::ptr, class_in, false, 4500, ptr_rdata{instance}});
    m.answers.push_back({instance, rr_type::srv, class_in, true, 120, srv_rdata{1, 2, 4242, host}});
    m.answers.push_back({instance, rr_type::txt, class_in, true, 4500, txt_rdata{}});
    m.authorities.push_back({host, rr_type::aaaa, class_in, true, 120, asio::ip::make_address_v6("fe80::1")});
    m.additionals.push_back({host, rr_type::nsec, class_in, true, 120, nsec_rdata{host, {rr_type::a, rr_type::aaaa}}});
    m.additionals.push_back({instance, static_cast<rr_type>(99), 3, false, 7, unknown_rdata{"\x01\x02\x00"s}});

    std::string out;
    ASSERT_FALSE(encode(m, out));
    std::size_t uncompressed = header_size;
    for (const auto& q : m.questions) uncompressed += q.qname.wire().size() + 4;
    EXPECT_LT(out.size(), uncompressed + 6 * 40);

    message d;
    ASSERT_FALSE(decode(out, d));
    EXPECT_EQ(d.id, 0x1234);
    EXPECT_TRUE(d.is_truncated());
    ASSERT_EQ(d.questions.size(), 1u);
    EXPECT_TRUE(d.questions[0].unicast_response);
    EXPECT_EQ(d.questions[0].qname, instance);
    ASSERT_EQ(d.answers.size(), 3u);
    EXPECT_EQ(std::get<ptr_rdata>(d.answers[0].data).target, instance);
    EXPECT_FALSE(d.answers[0].cache_flush);
    EXPECT_EQ(std::get<srv_rdata>(d.answers[1].data).priority, 1);
    EXPECT_EQ(std::get<srv_rdata>(d.answers[1].data).weight, 2);
    EXPECT_EQ(std::get<srv_rdata>(d.answers[1].data).port, 4242);
    EXPECT_EQ(std::get<srv_rdata>(d.answers[1].data).target, host);
    // An empty TXT goes out as one empty string (RFC 6763 §6.1) and reads back as no keys.
    EXPECT_EQ(std::get<txt_rdata>(d.answers[2].data).strings, std::vector<std::string>{""});
    EXPECT_TRUE(parse_txt(std::get<txt_rdata>(d.answers[2].data)).empty());
    EXPECT_EQ(std::get<asio::ip::address_v6>(d.authorities[0].data), asio::ip::make_address_v6("fe80::1"));
    const auto& nsec = std::get<nsec_rdata>(d.additionals[0].data);
    EXPECT_EQ(nsec.next, host);
    EXPECT_EQ(nsec.types, (std::vector<rr_type>{rr_type::a, rr_type::aaaa}));
    EXPECT_EQ(d.additionals[1].type, static_cast<rr_type>(99));
    EXPECT_EQ(d.additionals[1].rrclass, 3);
    EXPECT_EQ(std::get<unknown_rdata>(d.additionals[1].data).bytes, "\x01\x02\x00"s);

    // Encoding what was decoded gives the same bytes.
    std::string again;
    ASSERT_FALSE(encode(d, again));
    EXPECT_EQ(again, out);
}

TEST(DnsRoundTrip, CompressionSavesRepeatedSuffixes) {
    message m;
    for (int i = 0; i < 20; ++i)
        m.answers.push_back({make_name("_librats._tcp.local"), rr_type::ptr, class_in, false, 4500,
                             ptr_rdata{make_name("instance " + std::to_string(i) + "._librats._tcp.local")}});
    std::string out;
    ASSERT_FALSE(encode(m, out));
    // Owner: one full name then 2-byte pointers; target: its own label and a pointer.
    EXPECT_LT(out.size(), 12u + 21 + 19 * 2 + 20 * (10 + 12 + 2));
    message d;
    ASSERT_FALSE(decode(out, d));
    ASSERT_EQ(d.answers.size(), 20u);
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(std::get<ptr_rdata>(d.answers[static_cast<std::size_t>(i)].data).target.first_label(),
                  "instance " + std::to_string(i));
}

TEST(DnsTxt, KeysFollowRfc6763) {
    txt_rdata txt;
    EXPECT_EQ(make_txt({{"a=b", "c"}}, txt), errc::bad_txt_key);
    EXPECT_EQ(make_txt({{"", "c"}}, txt), errc::bad_txt_key);
    EXPECT_EQ(make_txt({{"k\x01", "c"}}, txt), errc::bad_txt_key);
    EXPECT_EQ(make_txt({{"k", std::string(254, 'v')}}, txt), errc::txt_string_too_long);
    ASSERT_FALSE(make_txt({{"id", "peer"}, {"Ver", "1=2"}}, txt));
    EXPECT_EQ(txt.strings, (std::vector<std::string>{"id=peer", "Ver=1=2"}));

    const auto map = parse_txt(txt_rdata{{"ID=first", "id=second", "flag", "=novalue", "", "empty="}});
    EXPECT_EQ(map.size(), 3u);
    EXPECT_EQ(map.at("id"), "first");
    EXPECT_EQ(map.at("FLAG"), "");
    EXPECT_EQ(map.at("empty"), "");

    // A string longer than 255 bytes cannot be written.
    message m;
    m.answers.push_back({make_name("x.local"), rr_type::txt, class_in, false, 1, txt_rdata{{std::string(256, 'a')}}});
    std::string out;
    EXPECT_EQ(encode(m, out), errc::txt_string_too_long);
}

TEST(DnsEncode, RejectsRdataOfAnotherType) {
    message m;
    m.answers.push_back({make_name("x.local"), rr_type::srv, class_in, false, 1, asio::ip::make_address_v4("1.2.3.4")});
    std::string out;
    EXPECT_EQ(encode(m, out), errc::bad_rdata);
}

// ---- hostile input

TEST(DnsDecode, TruncationAtEveryLength) {
    for (const auto* packet : {&web_response, &http_query}) {
        for (std::size_t n = 0; n < packet->size(); ++n) {
            const auto ec = decode_error(packet->substr(0, n));
            ASSERT_TRUE(ec) << n;
            if (n < header_size) EXPECT_EQ(ec, errc::truncated);
            else
                EXPECT_TRUE(ec == errc::truncated || ec == errc::counts_exceed_packet || ec == errc::rdlength_past_end)
                    << n << ": " << ec.message();
        }
        EXPECT_FALSE(decode_error(*packet));
    }
    // Past the count check: a cut inside the second owner name, then inside the last rdata.
    EXPECT_EQ(decode_error(web_response.substr(0, 58)), errc::truncated);
    EXPECT_EQ(decode_error(web_response.substr(0, web_response.size() - 1)), errc::rdlength_past_end);
}

TEST(DnsDecode, CountsLargerThanThePacket) {
    EXPECT_EQ(decode_error(header(0, 0xffff, 0, 0, 0)), errc::counts_exceed_packet);
    EXPECT_EQ(decode_error(header(0, 0, 0xffff, 0xffff, 0xffff) + std::string(1000, '\0')), errc::counts_exceed_packet);
    // 2 questions need at least 10 bytes.
    EXPECT_EQ(decode_error(header(0, 2, 0, 0, 0) + std::string(9, '\0')), errc::counts_exceed_packet);
    EXPECT_FALSE(decode_error(header(0, 2, 0, 0, 0) + std::string(10, '\0')));

    // A full-size packet claiming 65535 answers is refused before anything is reserved for them.
    const std::string big = header(0x8400, 0, 0xffff, 0, 0) + std::string(9000, '\0');
    message m;
    EXPECT_EQ(decode(big, m), errc::counts_exceed_packet);
    EXPECT_EQ(m.answers.capacity(), 0u);
}

TEST(DnsDecode, CompressionLoops) {
    // A pointer to itself.
    EXPECT_EQ(decode_error(header(0, 1, 0, 0, 0) + "\xc0\x0c\x00\x01\x00\x01"s), errc::pointer_loop);
    // A label then a pointer back to that label.
    EXPECT_EQ(decode_error(header(0, 1, 0, 0, 0) + "\x01\x61\xc0\x0c\x00\x01\x00\x01"s), errc::pointer_loop);
    // Two names pointing at each other: the second pointer goes back into a name that points
    // forward again.
    EXPECT_EQ(decode_error(header(0, 2, 0, 0, 0) + "\x01\x61\xc0\x14\x00\x01\x00\x01"s + "\xc0\x0c\x00\x01\x00\x01"s),
              errc::forward_pointer);
}

TEST(DnsDecode, ForwardPointer) {
    EXPECT_EQ(decode_error(header(0, 1, 0, 0, 0) + "\xc0\x20\x00\x01\x00\x01"s + std::string(32, '\0')),
              errc::forward_pointer);
}

TEST(DnsDecode, TooManyPointers) {
    // Question 1 is "a."; every later question's name points to the one before it, so the
    // n-th name follows n - 1 pointers.
    const auto chain = [](std::size_t questions) {
        std::string p = header(0, static_cast<std::uint16_t>(questions), 0, 0, 0) + "\x01\x61\x00\x00\x01\x00\x01"s;
        std::size_t previous = 12;
        for (std::size_t i = 1; i < questions; ++i) {
            const std::size_t here = p.size();
            p += static_cast<char>(0xc0 | (previous >> 8));
            p += static_cast<char>(previous & 0xff);
            p += "\x00\x01\x00\x01"s;
            previous = here;
        }
        return p;
    };
    EXPECT_FALSE(decode_error(chain(max_pointer_jumps + 1)));
    EXPECT_EQ(decode_error(chain(max_pointer_jumps + 2)), errc::too_many_pointers);
}

TEST(DnsDecode, BadLabelTypes) {
    EXPECT_EQ(decode_error(header(0, 1, 0, 0, 0) + "\x41\x00\x00\x01\x00\x01"s), errc::bad_label_type);
    EXPECT_EQ(decode_error(header(0, 1, 0, 0, 0) + "\x80\x00\x00\x01\x00\x01"s), errc::bad_label_type);
}

TEST(DnsDecode, OversizedNames) {
    // 300 bytes of labels in one name.
    std::string labels;
    for (int i = 0; i < 5; ++i) labels += '\x3b' + std::string(59, 'a');
    EXPECT_EQ(decode_error(header(0, 1, 0, 0, 0) + labels + "\x00\x00\x01\x00\x01"s), errc::name_too_long);

    // 250 bytes in the first name, and a second that adds a label before pointing to it.
    std::string first;
    for (int i = 0; i < 4; ++i) first += '\x3d' + std::string(61, 'b');
    first += "\x01z"s;
    ASSERT_EQ(first.size() + 1, 251u);
    EXPECT_FALSE(decode_error(header(0, 1, 0, 0, 0) + first + "\x00\x00\x01\x00\x01"s));
    EXPECT_EQ(decode_error(header(0, 2, 0, 0, 0) + first + "\x00\x00\x01\x00\x01"s + "\x05hello\xc0\x0c\x00\x01\x00\x01"s),
              errc::name_too_long);
}

// An NSEC outside the restricted mDNS form is kept as raw data, and the rest of the packet is read.
TEST(DnsDecode, NonStandardNsecStaysRawAndTheOtherRecordsCount) {
    const auto record = [](const std::string& rdata) {
        std::string p = header(0x8400, 0, 2, 0, 0) + "\x01x\x00\x00\x2f\x00\x01\x00\x00\x00\x78"s;
        p += static_cast<char>(rdata.size() >> 8);
        p += static_cast<char>(rdata.size() & 0xff);
        return p + rdata + "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x78\x00\x04\x0a\x00\x00\x01"s;
    };
    for (const auto& rdata : {"\xc0\x0c\x01\x01\x40"s,                       // window 1
                              "\xc0\x0c\x00\x21"s + std::string(33, '\x01'),  // bitmap > 32 bytes
                              "\xc0\x0c\x00\x01"s,                           // bitmap past rdlength
                              "\xc0\x0c\x00\x00\x00\x04\x00\x00\x00\x08"s}) {  // python-zeroconf 0.47
        message m;
        const auto packet = record(rdata);
        ASSERT_FALSE(decode(packet, m)) << rdata.size();
        ASSERT_EQ(m.answers.size(), 2u);
        EXPECT_EQ(std::get<unknown_rdata>(m.answers[0].data).bytes, rdata);
        EXPECT_EQ(m.answers[1].type, rr_type::a);
    }
}

TEST(DnsDecode, RdlengthPastTheEnd) {
    EXPECT_EQ(decode_error(header(0x8400, 0, 1, 0, 0) + "\x00\x00\x01\x00\x01\x00\x00\x00\x78\x01\x00\x01\x02\x03\x04"s),
              errc::rdlength_past_end);
}

TEST(DnsDecode, RdataInconsistentWithItsType) {
    const auto record = [](std::uint8_t type, const std::string& rdata) {
        std::string p = header(0x8400, 0, 1, 0, 0) + "\x01x\x00\x00"s;
        p += static_cast<char>(type);
        p += "\x00\x01\x00\x00\x00\x78"s;
        p += static_cast<char>(rdata.size() >> 8);
        p += static_cast<char>(rdata.size() & 0xff);
        return p + rdata;
    };
    EXPECT_EQ(decode_error(record(1, "\x01\x02\x03\x04\x05"s)), errc::bad_rdata);         // A of 5 bytes
    EXPECT_EQ(decode_error(record(28, "\x01\x02\x03\x04"s)), errc::bad_rdata);             // AAAA of 4
    EXPECT_EQ(decode_error(record(33, "\x00\x00\x00\x00\x00\x50"s)), errc::bad_rdata);     // SRV without target
    EXPECT_EQ(decode_error(record(12, "\x01y\x00\x00"s)), errc::bad_rdata);                // PTR, byte after the name
    EXPECT_EQ(decode_error(record(12, "\x01y"s)), errc::truncated);                        // PTR name cut by the end
    EXPECT_EQ(decode_error(record(16, "\x05" "abc"s)), errc::bad_rdata);                   // TXT string past rdlength
    // The same shapes, well formed.
    EXPECT_FALSE(decode_error(record(1, "\x01\x02\x03\x04"s)));
    EXPECT_FALSE(decode_error(record(16, ""s)));
    EXPECT_FALSE(decode_error(record(47, "\xc0\x0c\x00\x01\x40"s)));
    // A name inside rdata may point back into the message, but not at itself.
    EXPECT_FALSE(decode_error(record(12, "\xc0\x0c"s)));
    EXPECT_EQ(decode_error(record(12, "\xc0\x19"s)), errc::pointer_loop);
}

TEST(DnsDecode, RandomMutationsNeverCrashAndAllocateBoundedly) {
    std::string big_response;
    {
        message m = web_message();
        for (int i = 0; i < 6; ++i) m.answers.push_back(m.answers[0]);
        m.questions.push_back({make_name("_librats._tcp.local"), rr_type::ptr, class_in, true});
        encode(m, big_response);
    }
    const std::vector<std::string> seeds{web_response, http_query, big_response};
    std::mt19937 rng(12345);
    message m;
    std::size_t decoded = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string p = seeds[static_cast<std::size_t>(round) % seeds.size()];
        const int edits = 1 + static_cast<int>(rng() % 8);
        for (int e = 0; e < edits; ++e) {
            const auto at = p.empty() ? 0 : rng() % p.size();
            switch (rng() % 5) {
            case 0: if (!p.empty()) p[at] = static_cast<char>(rng()); break;
            case 1: if (!p.empty()) p[at] = static_cast<char>(p[at] ^ (1 << (rng() % 8))); break;
            case 2: p.insert(at, 1, static_cast<char>(rng())); break;
            case 3: if (!p.empty()) p.erase(at, 1 + rng() % 4); break;
            default: if (!p.empty()) p[at] = static_cast<char>(0xc0 | (rng() % 4)); break;  // a pointer
            }
        }
        if (!decode(p, m)) {
            ++decoded;
            // Every record and question takes bytes of the packet: no more of them than it holds.
            ASSERT_LE(m.questions.size() + m.answers.size() + m.authorities.size() + m.additionals.size(), p.size())
                << round;
        }
        std::string out;
        if (!decode(p, m)) encode(m, out);
    }
    EXPECT_GT(decoded, 0u);
}

}  // namespace
}  // namespace librats::mdns::dns
