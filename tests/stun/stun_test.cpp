// STUN: RFC 5769's test vectors, encode/decode round trips, every malformed input with its
// error, 20,000 random mutations, the client transaction's retransmission schedule and
// response matching, and stun_client against in-process responders on 127.0.0.1.

#include "stun/responder.hpp"

#include <librats/stun/client.hpp>
#include <librats/stun/error.hpp>
#include <librats/stun/message.hpp>
#include <librats/stun/transaction.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace librats::stun {
namespace {

using test::responder;

using namespace std::chrono_literals;

std::string bytes_of(std::initializer_list<unsigned> bytes) {
    std::string out;
    for (auto b : bytes) out.push_back(static_cast<char>(b));
    return out;
}

// ---- RFC 5769 §2

const transaction_id vector_id{0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

// §2.1: SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, MESSAGE-INTEGRITY, FINGERPRINT.
const std::string sample_request = bytes_of({
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
});

// §2.2: SOFTWARE, XOR-MAPPED-ADDRESS 192.0.2.1:32853, MESSAGE-INTEGRITY, FINGERPRINT.
const std::string sample_ipv4_response = bytes_of({
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
});
// Where its attributes end: after the header, SOFTWARE, XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT.
const std::vector<std::size_t> ipv4_response_boundaries{20, 36, 48, 72, 80};

// §2.3: as §2.2 with 2001:db8:1234:5678:11:2233:4455:6677 port 32853.
const std::string sample_ipv6_response = bytes_of({
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
});

asio::ip::udp::endpoint udp(const char* address, std::uint16_t port) { return {asio::ip::make_address(address), port}; }

message decode_ok(const std::string& packet) {
    message m;
    const auto ec = decode(packet, m);
    EXPECT_FALSE(ec) << ec.message();
    return m;
}

std::error_code decode_error(const std::string& packet) {
    message m;
    return decode(packet, m);
}

// A Binding success response of the given attributes, built by hand.
std::string response_with(const std::vector<std::pair<std::uint16_t, std::string>>& attributes, bool fingerprint = false) {
    std::string out;
    message_writer w(out, binding, message_class::success_response, vector_id);
    for (const auto& [type, value] : attributes) w.add(type, value);
    w.finish(fingerprint);
    return out;
}

void set_length(std::string& packet, std::size_t length) {
    packet[2] = static_cast<char>(length >> 8);
    packet[3] = static_cast<char>(length);
}

TEST(StunVectors, SampleRequest) {
    message m;
    // PRIORITY (0x0024) belongs to ICE, which we do not implement: a server would answer 420.
    EXPECT_EQ(decode(sample_request, m), errc::unknown_required_attribute);
    EXPECT_EQ(m.unrecognized_required, std::vector<std::uint16_t>{0x0024});
    EXPECT_EQ(m.header.method, binding);
    EXPECT_EQ(m.header.cls, message_class::request);
    EXPECT_EQ(m.header.length, 0x58);
    EXPECT_EQ(m.header.id, vector_id);
    EXPECT_EQ(m.software, "STUN test client");
    EXPECT_TRUE(m.has_message_integrity);
    EXPECT_TRUE(m.has_fingerprint);
}

TEST(StunVectors, SampleIpv4Response) {
    const auto m = decode_ok(sample_ipv4_response);
    EXPECT_EQ(m.header.method, binding);
    EXPECT_EQ(m.header.cls, message_class::success_response);
    EXPECT_EQ(m.header.id, vector_id);
    EXPECT_EQ(m.software, "test vector");
    EXPECT_EQ(m.xor_mapped_address, udp("192.0.2.1", 32853));
    EXPECT_EQ(m.mapped(), udp("192.0.2.1", 32853));
    EXPECT_FALSE(m.mapped_address);
    EXPECT_TRUE(m.has_message_integrity);
    EXPECT_TRUE(m.has_fingerprint);
}

TEST(StunVectors, SampleIpv6Response) {
    const auto m = decode_ok(sample_ipv6_response);
    EXPECT_EQ(m.header.cls, message_class::success_response);
    EXPECT_EQ(m.mapped(), udp("2001:db8:1234:5678:11:2233:4455:6677", 32853));
    EXPECT_TRUE(m.has_fingerprint);
}

TEST(StunVectors, EveryFingerprintBitMatters) {
    for (const auto* vector : {&sample_request, &sample_ipv4_response, &sample_ipv6_response}) {
        for (std::size_t bit = 0; bit < 32; ++bit) {
            auto packet = *vector;
            packet[packet.size() - 4 + bit / 8] ^= static_cast<char>(1 << (bit % 8));
            EXPECT_EQ(decode_error(packet), errc::bad_fingerprint);
        }
        // The CRC covers the header too.
        auto packet = *vector;
        packet[19] ^= 1;
        EXPECT_EQ(decode_error(packet), errc::bad_fingerprint);
    }
}

// ---- message types and round trips

TEST(StunMessage, TypeEncoding) {
    EXPECT_EQ(message_type(binding, message_class::request), 0x0001);
    EXPECT_EQ(message_type(binding, message_class::indication), 0x0011);
    EXPECT_EQ(message_type(binding, message_class::success_response), 0x0101);
    EXPECT_EQ(message_type(binding, message_class::error_response), 0x0111);
    for (std::uint16_t method = 0; method < 0x1000; ++method)
        for (auto cls : {message_class::request, message_class::indication, message_class::success_response,
                         message_class::error_response}) {
            const auto type = message_type(method, cls);
            ASSERT_EQ(type & 0xC000, 0);
            ASSERT_EQ(method_of(type), method);
            ASSERT_EQ(class_of(type), cls);
        }
}

TEST(StunMessage, BindingRequestRoundTrip) {
    std::string packet;
    encode_binding_request(packet, vector_id, "librats test");
    EXPECT_EQ(packet.size() % 4, 0u);
    EXPECT_EQ(packet.substr(0, 8), bytes_of({0x00, 0x01, 0x00, static_cast<unsigned>(packet.size() - header_size), 0x21, 0x12, 0xa4, 0x42}));
    const auto m = decode_ok(packet);
    EXPECT_EQ(m.header.cls, message_class::request);
    EXPECT_EQ(m.header.id, vector_id);
    EXPECT_EQ(m.software, "librats test");
    EXPECT_TRUE(m.has_fingerprint);

    encode_binding_request(packet, vector_id, {}, false);
    EXPECT_EQ(packet.size(), header_size);
    const auto bare = decode_ok(packet);
    EXPECT_FALSE(bare.software);
    EXPECT_FALSE(bare.has_fingerprint);

    encode_binding_request(packet, vector_id);
    EXPECT_EQ(packet.size(), header_size + fingerprint_attribute_size);
    EXPECT_TRUE(decode_ok(packet).has_fingerprint);
}

TEST(StunMessage, BindingSuccessRoundTrip) {
    for (const auto& mapped : {udp("203.0.113.7", 1), udp("0.0.0.0", 65535), udp("2001:db8::1", 3478),
                               udp("::ffff:192.0.2.9", 40000)}) {
        std::string packet;
        encode_binding_success(packet, vector_id, mapped, "srv");
        const auto m = decode_ok(packet);
        EXPECT_EQ(m.header.cls, message_class::success_response);
        EXPECT_EQ(m.xor_mapped_address, mapped);
        EXPECT_EQ(m.software, "srv");
        EXPECT_TRUE(m.has_fingerprint);
    }
}

TEST(StunMessage, XorActuallyObfuscates) {
    std::string packet;
    encode_binding_success(packet, vector_id, udp("192.0.2.1", 32853), {}, false);
    // The RFC 5769 response's XOR-MAPPED-ADDRESS value, byte for byte.
    EXPECT_EQ(packet.substr(24, 8), bytes_of({0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43}));
}

TEST(StunMessage, BindingErrorRoundTrip) {
    std::string packet;
    encode_binding_error(packet, vector_id, 420, "Unknown Attribute");
    const auto m = decode_ok(packet);
    EXPECT_EQ(m.header.cls, message_class::error_response);
    ASSERT_TRUE(m.error);
    EXPECT_EQ(m.error->code, 420);
    EXPECT_EQ(m.error->reason, "Unknown Attribute");
    EXPECT_FALSE(m.mapped());
    for (int code : {300, 399, 400, 401, 500, 699}) {
        encode_binding_error(packet, vector_id, code, "");
        EXPECT_EQ(decode_ok(packet).error->code, code);
    }
}

TEST(StunMessage, MappedAddressFallbackAndPreference) {
    std::string packet;
    {
        message_writer w(packet, binding, message_class::success_response, vector_id);
        w.add_mapped_address(udp("198.51.100.4", 5000));
        w.finish(true);
    }
    auto m = decode_ok(packet);
    EXPECT_FALSE(m.xor_mapped_address);
    EXPECT_EQ(m.mapped(), udp("198.51.100.4", 5000));

    packet.clear();
    {
        message_writer w(packet, binding, message_class::success_response, vector_id);
        w.add_mapped_address(udp("198.51.100.4", 5000));
        w.add_xor_mapped_address(udp("2001:db8::5", 6000));
        w.add_xor_mapped_address(udp("2001:db8::6", 7000));  // repeated: the first counts
        w.finish(false);
    }
    m = decode_ok(packet);
    EXPECT_EQ(m.mapped_address, udp("198.51.100.4", 5000));
    EXPECT_EQ(m.mapped(), udp("2001:db8::5", 6000));
}

TEST(StunMessage, UnknownAttributesListAndOptionalAttributesSkipped) {
    const auto packet = response_with({{attribute::unknown_attributes, bytes_of({0x00, 0x24, 0x7f, 0x01})},
                                       {0xC001, "optional, ignored"},
                                       {attribute::username, "user"},
                                       {attribute::realm, "example.org"},
                                       {attribute::nonce, "n"}},
                                      true);
    const auto m = decode_ok(packet);
    EXPECT_EQ(m.unknown_attributes, (std::vector<std::uint16_t>{0x0024, 0x7f01}));
    EXPECT_TRUE(m.unrecognized_required.empty());
}

TEST(StunMessage, AttributesAfterMessageIntegrityIgnored) {
    const auto packet = response_with({{attribute::message_integrity, std::string(20, 'x')},
                                       {0x7777, "unknown but after integrity"},
                                       {attribute::xor_mapped_address, "ignored too, even malformed"},
                                       {attribute::message_integrity_sha256, std::string(32, 'y')}},
                                      true);
    const auto m = decode_ok(packet);
    EXPECT_TRUE(m.has_message_integrity);
    EXPECT_FALSE(m.mapped());
}

TEST(StunMessage, DecodeReusesMessage) {
    message m;
    ASSERT_FALSE(decode(sample_ipv4_response, m));
    std::string packet;
    encode_binding_error(packet, vector_id, 500, "x", {}, false);
    ASSERT_FALSE(decode(packet, m));
    EXPECT_FALSE(m.mapped());
    EXPECT_FALSE(m.software);
    EXPECT_FALSE(m.has_fingerprint);
    EXPECT_FALSE(m.has_message_integrity);
}

// ---- bad input

TEST(StunBadInput, HeaderErrors) {
    for (std::size_t size = 0; size < header_size; ++size)
        EXPECT_EQ(decode_error(sample_ipv4_response.substr(0, size)), errc::truncated_header) << size;

    auto packet = sample_ipv4_response;
    packet[0] |= 0x40;
    EXPECT_EQ(decode_error(packet), errc::not_stun);
    packet = sample_ipv4_response;
    packet[0] |= static_cast<char>(0x80);
    EXPECT_EQ(decode_error(packet), errc::not_stun);

    packet = sample_ipv4_response;
    packet[7] = 0x43;
    EXPECT_EQ(decode_error(packet), errc::bad_magic_cookie);

    packet = sample_ipv4_response.substr(0, 22);
    set_length(packet, 2);
    EXPECT_EQ(decode_error(packet), errc::bad_message_length);

    packet = sample_ipv4_response;
    set_length(packet, 0x40);
    EXPECT_EQ(decode_error(packet), errc::length_mismatch);
    EXPECT_EQ(decode_error(sample_ipv4_response + std::string(4, '\0')), errc::length_mismatch);
}

TEST(StunBadInput, TruncatedAtEveryLength) {
    for (const auto* vector : {&sample_request, &sample_ipv4_response, &sample_ipv6_response})
        for (std::size_t size = header_size; size < vector->size(); ++size)
            EXPECT_EQ(decode_error(vector->substr(0, size)), errc::length_mismatch) << size;
}

// Truncated with the header's length made to agree: a cut inside an attribute runs it past the
// end; a cut between attributes leaves a valid, shorter message.
TEST(StunBadInput, TruncatedWithConsistentLength) {
    for (std::size_t size = header_size; size < sample_ipv4_response.size(); size += 4) {
        auto packet = sample_ipv4_response.substr(0, size);
        set_length(packet, size - header_size);
        const bool boundary = std::find(ipv4_response_boundaries.begin(), ipv4_response_boundaries.end(), size) !=
                              ipv4_response_boundaries.end();
        if (boundary) {
            EXPECT_FALSE(decode_error(packet)) << size;
        } else {
            EXPECT_EQ(decode_error(packet), errc::attribute_past_end) << size;
        }
    }
}

TEST(StunBadInput, AttributeLengthPastTheEnd) {
    auto packet = sample_ipv4_response;
    packet[23] = 0x40;  // SOFTWARE's length 0x40 > 56 bytes left
    EXPECT_EQ(decode_error(packet), errc::attribute_past_end);
    packet = sample_ipv4_response;
    packet[22] = static_cast<char>(0xff);
    EXPECT_EQ(decode_error(packet), errc::attribute_past_end);
    packet = sample_ipv4_response;
    packet[79 - 4] = 0x05;  // FINGERPRINT's length 5 needs 8 bytes with padding
    EXPECT_EQ(decode_error(packet), errc::attribute_past_end);
}

TEST(StunBadInput, AddressAttributes) {
    for (auto type : {attribute::xor_mapped_address, attribute::mapped_address}) {
        EXPECT_EQ(decode_error(response_with({{type, bytes_of({0, 3, 0, 1, 1, 2, 3, 4})}})), errc::bad_address_family);
        EXPECT_EQ(decode_error(response_with({{type, bytes_of({0, 0, 0, 1, 1, 2, 3, 4})}})), errc::bad_address_family);
        EXPECT_EQ(decode_error(response_with({{type, bytes_of({0, 1, 0, 1, 1, 2, 3})}})), errc::bad_attribute_length);
        EXPECT_EQ(decode_error(response_with({{type, bytes_of({0, 1, 0})}})), errc::bad_attribute_length);
        EXPECT_EQ(decode_error(response_with({{type, ""}})), errc::bad_attribute_length);
        EXPECT_EQ(decode_error(response_with({{type, bytes_of({0, 1, 0, 1}) + std::string(16, '\1')}})),
                  errc::bad_attribute_length);  // IPv4 with an IPv6 length
        EXPECT_EQ(decode_error(response_with({{type, bytes_of({0, 2, 0, 1, 1, 2, 3, 4})}})), errc::bad_attribute_length);
        // The reserved first byte is ignored (§14.1).
        EXPECT_FALSE(decode_error(response_with({{type, bytes_of({0xff, 1, 0, 1, 1, 2, 3, 4})}})));
    }
}

TEST(StunBadInput, ErrorCodeAttribute) {
    const auto error_value = [](unsigned cls, unsigned number) { return bytes_of({0, 0, cls, number}) + "reason"; };
    EXPECT_FALSE(decode_error(response_with({{attribute::error_code, error_value(3, 0)}})));
    EXPECT_EQ(decode_error(response_with({{attribute::error_code, error_value(2, 0)}})), errc::bad_error_code);
    EXPECT_EQ(decode_error(response_with({{attribute::error_code, error_value(7, 0)}})), errc::bad_error_code);
    EXPECT_EQ(decode_error(response_with({{attribute::error_code, error_value(4, 100)}})), errc::bad_error_code);
    EXPECT_EQ(decode_error(response_with({{attribute::error_code, bytes_of({0, 0, 4})}})), errc::bad_attribute_length);
    EXPECT_EQ(decode_error(response_with({{attribute::error_code, bytes_of({0, 0, 4, 0}) + std::string(764, 'r')}})),
              errc::bad_attribute_length);
}

TEST(StunBadInput, TextAndListLengths) {
    EXPECT_FALSE(decode_error(response_with({{attribute::software, std::string(max_text_size, 's')}})));
    EXPECT_EQ(decode_error(response_with({{attribute::software, std::string(max_text_size + 1, 's')}})),
              errc::bad_attribute_length);
    EXPECT_EQ(decode_error(response_with({{attribute::username, std::string(max_username_size + 1, 'u')}})),
              errc::bad_attribute_length);
    EXPECT_EQ(decode_error(response_with({{attribute::realm, std::string(max_text_size + 1, 'r')}})),
              errc::bad_attribute_length);
    EXPECT_EQ(decode_error(response_with({{attribute::nonce, std::string(max_text_size + 1, 'n')}})),
              errc::bad_attribute_length);
    EXPECT_EQ(decode_error(response_with({{attribute::unknown_attributes, bytes_of({0, 1, 0})}})),
              errc::bad_attribute_length);
    EXPECT_EQ(decode_error(response_with({{attribute::message_integrity, std::string(19, 'm')}})),
              errc::bad_attribute_length);
    EXPECT_EQ(decode_error(response_with({{attribute::message_integrity_sha256, std::string(12, 'm')}})),
              errc::bad_attribute_length);
    EXPECT_EQ(decode_error(response_with({{attribute::message_integrity_sha256, std::string(18, 'm')}})),
              errc::bad_attribute_length);
}

TEST(StunBadInput, Fingerprint) {
    EXPECT_EQ(decode_error(response_with({{attribute::fingerprint, "abc"}})), errc::bad_attribute_length);
    EXPECT_EQ(decode_error(response_with({{attribute::fingerprint, "abcde"}})), errc::bad_attribute_length);
    EXPECT_EQ(decode_error(response_with({{attribute::fingerprint, "abcd"}})), errc::bad_fingerprint);
    // A valid FINGERPRINT followed by anything.
    auto packet = sample_ipv4_response + bytes_of({0x80, 0x22, 0x00, 0x00});
    set_length(packet, packet.size() - header_size);
    EXPECT_EQ(decode_error(packet), errc::fingerprint_not_last);
}

TEST(StunBadInput, UnknownComprehensionRequiredAttributes) {
    message m;
    const auto packet = response_with({{0x7777, "x"},
                                       {attribute::xor_mapped_address, bytes_of({0, 1, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43})},
                                       {0x0024, "prio"},
                                       {0x7777, "again"},
                                       {0xC0DE, "optional"}},
                                      true);
    EXPECT_EQ(decode(packet, m), errc::unknown_required_attribute);
    EXPECT_EQ(m.unrecognized_required, (std::vector<std::uint16_t>{0x7777, 0x0024}));
    EXPECT_EQ(m.mapped(), udp("192.0.2.1", 32853));  // everything else was read
    EXPECT_TRUE(m.has_fingerprint);
}

TEST(StunBadInput, RandomMutationsNeverCrash) {
    std::mt19937 rng(5769);
    const std::vector<const std::string*> seeds{&sample_request, &sample_ipv4_response, &sample_ipv6_response};
    std::size_t decoded = 0;
    message m;
    for (int i = 0; i < 20000; ++i) {
        auto packet = *seeds[i % seeds.size()];
        const int mutations = 1 + static_cast<int>(rng() % 4);
        for (int j = 0; j < mutations; ++j) {
            switch (rng() % 4) {
            case 0: packet[rng() % packet.size()] = static_cast<char>(rng()); break;
            case 1: packet[rng() % packet.size()] ^= static_cast<char>(1 << (rng() % 8)); break;
            case 2: packet.resize(rng() % (packet.size() + 1)); break;
            case 3: packet.append(rng() % 9, static_cast<char>(rng())); break;
            }
            if (packet.empty()) packet.push_back('\0');
        }
        // Half the time make the length agree, to reach the attribute parser.
        if (rng() % 2 && packet.size() >= header_size) {
            packet.resize(packet.size() & ~std::size_t{3});
            set_length(packet, packet.size() - header_size);
        }
        if (decode(packet, m)) continue;
        // Survivors are mostly cuts between attributes that dropped FINGERPRINT.
        ++decoded;
        ASSERT_EQ(header_size + m.header.length, packet.size());
        ASSERT_EQ(packet.size() % 4, 0u);
    }
    EXPECT_LT(decoded, 2000u);
}

// ---- transaction

using clock = transaction::clock;
const auto t0 = clock::time_point{} + 1h;
const auto server = udp("192.0.2.10", 3478);
const auto mapped_endpoint = udp("198.51.100.1", 40000);

std::string success_for(const transaction_id& id, const asio::ip::udp::endpoint& mapped = mapped_endpoint) {
    std::string packet;
    encode_binding_success(packet, id, mapped);
    return packet;
}

TEST(StunTransaction, DefaultRetransmissionSchedule) {
    transaction t(vector_id, server, {}, t0);
    EXPECT_EQ(t.requests_sent(), 1u);
    // RFC 8489 §6.2.1: requests at 0, 500, 1500, 3500, 7500, 15500, 31500 ms; failure at 39500.
    const std::vector<int> sends{500, 1500, 3500, 7500, 15500, 31500};
    for (std::size_t i = 0; i < sends.size(); ++i) {
        const auto due = t0 + std::chrono::milliseconds(sends[i]);
        EXPECT_EQ(t.next_deadline(), due) << i;
        EXPECT_EQ(t.on_timeout(due - 1ms), transaction::timeout_action::wait);
        EXPECT_EQ(t.on_timeout(due), transaction::timeout_action::retransmit);
        EXPECT_EQ(t.requests_sent(), i + 2);
    }
    EXPECT_EQ(t.requests_sent(), 7u);
    EXPECT_EQ(t.next_deadline(), t0 + 39500ms);  // Rm = 16 times the first RTO after the last
    EXPECT_EQ(t.on_timeout(t0 + 39499ms), transaction::timeout_action::wait);
    EXPECT_EQ(t.on_timeout(t0 + 39500ms), transaction::timeout_action::failed);
    EXPECT_EQ(t.current_state(), transaction::state::failed);
    EXPECT_EQ(t.error(), errc::timed_out);
    EXPECT_EQ(t.next_deadline(), clock::time_point::max());
    EXPECT_EQ(t.on_timeout(t0 + 1h), transaction::timeout_action::wait);
    EXPECT_FALSE(t.on_response(server, success_for(vector_id)));  // too late
}

TEST(StunTransaction, LateTimeoutsRescheduleFromNow) {
    transaction t(vector_id, server, {}, t0);
    EXPECT_EQ(t.on_timeout(t0 + 700ms), transaction::timeout_action::retransmit);
    EXPECT_EQ(t.next_deadline(), t0 + 1700ms);
}

TEST(StunTransaction, ShrunkOptions) {
    transaction_options options;
    options.rto = 10ms;
    options.request_count = 3;
    options.last_wait_multiplier = 4;
    transaction t(vector_id, server, options, t0);
    EXPECT_EQ(t.on_timeout(t0 + 10ms), transaction::timeout_action::retransmit);
    EXPECT_EQ(t.on_timeout(t0 + 30ms), transaction::timeout_action::retransmit);
    EXPECT_EQ(t.next_deadline(), t0 + 70ms);
    EXPECT_EQ(t.on_timeout(t0 + 70ms), transaction::timeout_action::failed);
    EXPECT_EQ(t.requests_sent(), 3u);

    options.request_count = 1;
    transaction single(vector_id, server, options, t0);
    EXPECT_EQ(single.next_deadline(), t0 + 40ms);
    EXPECT_EQ(single.on_timeout(t0 + 40ms), transaction::timeout_action::failed);
}

TEST(StunTransaction, MatchesOnlyItsIdFromItsServer) {
    transaction t(vector_id, server, {}, t0);
    auto other_id = vector_id;
    other_id[11] ^= 1;
    EXPECT_FALSE(t.on_response(server, success_for(other_id)));
    EXPECT_EQ(t.statistics().unmatched, 1u);
    EXPECT_FALSE(t.on_response(udp("192.0.2.10", 3479), success_for(vector_id)));
    EXPECT_FALSE(t.on_response(udp("192.0.2.11", 3478), success_for(vector_id)));
    EXPECT_EQ(t.statistics().wrong_source, 2u);
    EXPECT_FALSE(t.on_response(server, "not stun at all, just some bytes"));
    EXPECT_EQ(t.statistics().malformed, 1u);
    std::string request;
    encode_binding_request(request, vector_id);
    EXPECT_FALSE(t.on_response(server, request));  // our own request reflected
    EXPECT_EQ(t.statistics().unmatched, 2u);
    EXPECT_EQ(t.current_state(), transaction::state::waiting);

    EXPECT_TRUE(t.on_response(server, success_for(vector_id)));
    EXPECT_EQ(t.current_state(), transaction::state::succeeded);
    EXPECT_EQ(t.mapped(), mapped_endpoint);
    EXPECT_FALSE(t.error());
    EXPECT_EQ(t.next_deadline(), clock::time_point::max());
    EXPECT_FALSE(t.on_response(server, success_for(vector_id, udp("192.0.2.99", 1))));  // a duplicate
    EXPECT_EQ(t.mapped(), mapped_endpoint);
}

TEST(StunTransaction, InvalidResponseDroppedAndRequestsGoOn) {
    transaction t(vector_id, server, {}, t0);
    auto bad = success_for(vector_id);
    bad.back() ^= 1;  // FINGERPRINT
    EXPECT_FALSE(t.on_response(server, bad));
    EXPECT_EQ(t.statistics().malformed, 1u);
    EXPECT_EQ(t.on_timeout(t0 + 500ms), transaction::timeout_action::retransmit);
    EXPECT_TRUE(t.on_response(server, success_for(vector_id)));
}

TEST(StunTransaction, ErrorResponseFails) {
    transaction t(vector_id, server, {}, t0);
    std::string packet;
    encode_binding_error(packet, vector_id, 500, "Server Error");
    EXPECT_TRUE(t.on_response(server, packet));
    EXPECT_EQ(t.current_state(), transaction::state::failed);
    EXPECT_EQ(t.error(), errc::error_response);
    ASSERT_TRUE(t.error_response());
    EXPECT_EQ(t.error_response()->code, 500);
    EXPECT_EQ(t.error_response()->reason, "Server Error");
}

TEST(StunTransaction, UnknownRequiredAttributeFails) {
    transaction t(vector_id, server, {}, t0);
    std::string packet;
    message_writer w(packet, binding, message_class::success_response, vector_id);
    w.add_xor_mapped_address(mapped_endpoint);
    w.add(0x7001, "mystery");
    w.finish(true);
    EXPECT_TRUE(t.on_response(server, packet));
    EXPECT_EQ(t.error(), errc::unknown_required_attribute);
}

TEST(StunTransaction, SuccessWithoutAddressFails) {
    transaction t(vector_id, server, {}, t0);
    std::string packet;
    message_writer w(packet, binding, message_class::success_response, vector_id);
    w.finish(true);
    EXPECT_TRUE(t.on_response(server, packet));
    EXPECT_EQ(t.error(), errc::missing_mapped_address);
}

TEST(StunTransaction, AcceptsLegacyMappedAddress) {
    transaction t(vector_id, server, {}, t0);
    std::string packet;
    message_writer w(packet, binding, message_class::success_response, vector_id);
    w.add_mapped_address(mapped_endpoint);
    w.finish(false);
    EXPECT_TRUE(t.on_response(server, packet));
    EXPECT_EQ(t.mapped(), mapped_endpoint);
}

// ---- stun_client on 127.0.0.1

client_options fast_options() {
    client_options options;
    options.transaction.rto = 20ms;
    options.transaction.request_count = 3;
    options.transaction.last_wait_multiplier = 2;  // a silent server fails after 20 + 40 + 40 ms
    return options;
}

struct discovery {
    bool done = false;
    std::error_code ec;
    asio::ip::udp::endpoint mapped;
};

class StunClient : public ::testing::Test {
protected:
    std::shared_ptr<stun_client> open_client(const char* address = "127.0.0.1", client_options options = fast_options()) {
        auto client = stun_client::create(io.get_executor(), std::move(options));
        EXPECT_FALSE(client->open({asio::ip::make_address(address), 0}));
        return client;
    }

    discovery run(const std::shared_ptr<stun_client>& client, std::vector<server_address> servers) {
        discovery result;
        client->async_discover(std::move(servers), [&](std::error_code ec, asio::ip::udp::endpoint mapped) {
            result = {true, ec, mapped};
            client->close();
            io.stop();  // the responders would keep run_for() busy
        });
        io.restart();
        io.run_for(10s);  // bounded: the client's own limits end it far sooner
        EXPECT_TRUE(result.done);
        return result;
    }

    asio::io_context io;
};

TEST_F(StunClient, DiscoversItsOwnAddressOnLoopback) {
    responder server(io, responder::mode::answer);
    auto client = open_client();
    const auto local = client->local_endpoint();
    const auto result = run(client, {server.address()});
    EXPECT_FALSE(result.ec) << result.ec.message();
    EXPECT_EQ(result.mapped, local);
    EXPECT_EQ(client->statistics().servers_tried, 1u);
    EXPECT_EQ(server.requests(), 1u);
}

TEST_F(StunClient, SilentServerThenAnsweringServer) {
    responder silent(io, responder::mode::silent);
    responder answering(io, responder::mode::answer);
    auto client = open_client();
    const auto local = client->local_endpoint();
    const auto started = clock::now();
    const auto result = run(client, {silent.address(), answering.address()});
    EXPECT_FALSE(result.ec) << result.ec.message();
    EXPECT_EQ(result.mapped, local);
    EXPECT_EQ(silent.requests(), 3u);  // Rc requests, then the next server
    EXPECT_EQ(answering.requests(), 1u);
    EXPECT_EQ(client->statistics().servers_tried, 2u);
    EXPECT_EQ(client->statistics().requests_sent, 4u);
    EXPECT_GE(clock::now() - started, 100ms);
}

TEST_F(StunClient, ErrorResponseMovesOnAndLastErrorIsReported) {
    responder failing(io, responder::mode::error);
    responder answering(io, responder::mode::answer);
    auto client = open_client();
    const auto local = client->local_endpoint();
    auto result = run(client, {failing.address(), answering.address()});
    EXPECT_FALSE(result.ec);
    EXPECT_EQ(result.mapped, local);

    auto second = open_client();
    result = run(second, {failing.address()});
    EXPECT_EQ(result.ec, errc::error_response);
    ASSERT_TRUE(second->last_error_response());
    EXPECT_EQ(second->last_error_response()->code, 500);
}

TEST_F(StunClient, AllSilentTimesOut) {
    responder a(io, responder::mode::silent);
    responder b(io, responder::mode::silent);
    auto client = open_client();
    const auto result = run(client, {a.address(), b.address()});
    EXPECT_EQ(result.ec, errc::timed_out);
    EXPECT_EQ(a.requests() + b.requests(), 6u);
}

TEST_F(StunClient, AnswerFromAnotherAddressIsIgnored) {
    responder spoofing(io, responder::mode::answer);
    spoofing.reply_from_another_port();
    auto client = open_client();
    const auto result = run(client, {spoofing.address()});
    EXPECT_EQ(result.ec, errc::timed_out);
    EXPECT_EQ(client->statistics().ignored.wrong_source, 3u);
}

TEST_F(StunClient, ResolvesNamesAndSkipsUnusableHosts) {
    responder answering(io, responder::mode::answer);
    auto client = open_client();
    const auto local = client->local_endpoint();
    // An IPv6 literal cannot serve an IPv4 socket: resolution fails without any network traffic.
    const auto result = run(client, {{"::1", answering.endpoint().port()}, {"localhost", answering.endpoint().port()}});
    EXPECT_FALSE(result.ec) << result.ec.message();
    EXPECT_EQ(result.mapped, local);
    EXPECT_EQ(client->statistics().servers_tried, 2u);
}

TEST_F(StunClient, Ipv6Loopback) {
    std::error_code ec;
    asio::ip::udp::socket probe(io);
    probe.open(asio::ip::udp::v6(), ec);
    if (!ec) probe.bind({asio::ip::make_address("::1"), 0}, ec);
    if (ec) GTEST_SKIP() << "no IPv6 loopback: " << ec.message();
    probe.close();
    responder answering(io, responder::mode::answer, "::1");
    auto client = open_client("::1");
    const auto local = client->local_endpoint();
    const auto result = run(client, {answering.address()});
    EXPECT_FALSE(result.ec) << result.ec.message();
    EXPECT_EQ(result.mapped, local);
}

TEST_F(StunClient, CancelAbortsAndAllowsANewDiscovery) {
    responder silent(io, responder::mode::silent);
    responder answering(io, responder::mode::answer);
    auto options = fast_options();
    options.transaction.rto = 1s;
    auto client = open_client("127.0.0.1", options);
    const auto local = client->local_endpoint();
    discovery first;
    discovery second;
    client->async_discover({silent.address()}, [&](std::error_code ec, asio::ip::udp::endpoint mapped) {
        first = {true, ec, mapped};
        client->async_discover({answering.address()}, [&](std::error_code ec2, asio::ip::udp::endpoint mapped2) {
            second = {true, ec2, mapped2};
            client->close();
            io.stop();
        });
    });
    asio::steady_timer timer(io, 50ms);
    timer.async_wait([&](std::error_code) { client->cancel(); });
    io.run_for(10s);
    ASSERT_TRUE(first.done);
    EXPECT_EQ(first.ec, asio::error::operation_aborted);
    ASSERT_TRUE(second.done);
    EXPECT_FALSE(second.ec) << second.ec.message();
    EXPECT_EQ(second.mapped, local);
    EXPECT_EQ(silent.requests(), 1u);
}

TEST_F(StunClient, RefusedDiscoveries) {
    auto closed = stun_client::create(io.get_executor());
    auto client = open_client();
    responder silent(io, responder::mode::silent);
    std::vector<std::error_code> errors;
    const auto record = [&](std::error_code ec, asio::ip::udp::endpoint) {
        errors.push_back(ec);
        if (errors.size() == 4) io.stop();
    };
    closed->async_discover({silent.address()}, record);
    client->async_discover({}, record);
    client->async_discover({silent.address()}, record);
    client->async_discover({silent.address()}, record);  // while the one above runs
    EXPECT_TRUE(errors.empty());  // never inside the call
    io.run_for(10s);
    ASSERT_EQ(errors.size(), 4u);
    EXPECT_EQ(errors[0], errc::not_open);
    EXPECT_EQ(errors[1], errc::no_servers);
    EXPECT_EQ(errors[2], errc::discovery_in_progress);
    EXPECT_EQ(errors[3], errc::timed_out);
}

TEST(StunError, Category) {
    const std::error_code ec = errc::bad_fingerprint;
    EXPECT_STREQ(ec.category().name(), "librats.stun");
    EXPECT_EQ(ec.message(), "STUN: FINGERPRINT does not match the message");
    EXPECT_EQ(std::error_code(errc::timed_out).message(), "STUN: transaction timed out");
    EXPECT_EQ(ec.category().message(9999), "unknown STUN error");
}

}  // namespace
}  // namespace librats::stun
