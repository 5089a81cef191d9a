// Bencode: decoding of canonical input, every strictness rule with its error and offset, the
// canonical encoder, and robustness against truncated and mutated input.

#include <librats/dht/bencode.hpp>
#include <librats/error.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace librats::dht::bencode {
namespace {

using namespace std::string_literals;

TEST(BencodeDecode, Integers) {
    const std::pair<std::string, std::int64_t> cases[] = {
        {"i0e", 0},
        {"i42e", 42},
        {"i-42e", -42},
        {"i9223372036854775807e", std::numeric_limits<std::int64_t>::max()},
        {"i-9223372036854775808e", std::numeric_limits<std::int64_t>::min()},
    };
    document doc;
    for (const auto& [input, expected] : cases) {
        const auto result = decode(input, doc);
        ASSERT_FALSE(result.error) << input << ": " << result.error.message();
        ASSERT_TRUE(doc.root().is_integer()) << input;
        EXPECT_EQ(doc.root().integer(), expected) << input;
    }
}

TEST(BencodeDecode, StringsAreViewsIntoTheInput) {
    document doc;
    const std::string input = "6:a\0b\xff:e"s;
    ASSERT_FALSE(decode(input, doc).error);
    ASSERT_TRUE(doc.root().is_string());
    EXPECT_EQ(doc.root().string(), "a\0b\xff:e"s);
    EXPECT_EQ(doc.root().string().data(), input.data() + 2);

    ASSERT_FALSE(decode("0:", doc).error);
    EXPECT_EQ(doc.root().string(), "");
}

TEST(BencodeDecode, ListsAndDictionaries) {
    document doc;
    const std::string input = "d3:bar4:spam3:fooli42eli-1eed0:deee4:zerod0:leee";
    ASSERT_FALSE(decode(input, doc).error);
    const auto root = doc.root();
    ASSERT_TRUE(root.is_dictionary());
    EXPECT_EQ(root.size(), 3u);
    EXPECT_EQ(doc.token_count(), 15u);

    EXPECT_EQ(root.find("bar").string(), "spam");
    EXPECT_FALSE(root.find("baz"));
    EXPECT_FALSE(root.find("a"));
    EXPECT_FALSE(root.find("zz"));
    EXPECT_FALSE(root.find("bar").find("x"));  // not a dictionary

    const auto foo = root.find("foo");
    ASSERT_TRUE(foo.is_list());
    ASSERT_EQ(foo.size(), 3u);
    std::vector<type> kinds;
    for (const auto& item : foo.items()) kinds.push_back(item.kind());
    EXPECT_EQ(kinds, (std::vector<type>{type::integer, type::list, type::dictionary}));
    auto it = foo.items().begin();
    EXPECT_EQ((*it).integer(), 42);
    ++it;
    EXPECT_EQ((*(*it).items().begin()).integer(), -1);
    ++it;
    EXPECT_TRUE((*it).find("").is_dictionary());
    EXPECT_EQ((*it).find("").size(), 0u);

    std::vector<std::string> keys;
    for (const auto& [key, v] : root.pairs()) keys.emplace_back(key);
    EXPECT_EQ(keys, (std::vector<std::string>{"bar", "foo", "zero"}));
    const auto zero = root.find("zero");
    ASSERT_TRUE(zero.is_dictionary());
    ASSERT_TRUE(zero.find("").is_list());
    EXPECT_TRUE(zero.find("").items().empty());
}

TEST(BencodeDecode, FailureLeavesNoRoot) {
    document doc;
    ASSERT_FALSE(decode("li1ee", doc).error);
    ASSERT_TRUE(doc.root());
    EXPECT_TRUE(decode("li1e", doc).error);
    EXPECT_FALSE(doc.root());
    EXPECT_EQ(doc.token_count(), 0u);
}

struct strict_case {
    std::string input;
    errc error;
    std::size_t offset;
};

TEST(BencodeStrict, EachRuleHasItsErrorAndOffset) {
    const strict_case cases[] = {
        {"", errc::bencode_truncated, 0},
        {"i", errc::bencode_truncated, 1},
        {"i42", errc::bencode_truncated, 3},
        {"i-", errc::bencode_truncated, 2},
        {"ie", errc::bencode_bad_integer, 1},
        {"i-e", errc::bencode_bad_integer, 2},
        {"i+1e", errc::bencode_bad_integer, 1},
        {"i4x2e", errc::bencode_bad_integer, 2},
        {"i 1e", errc::bencode_bad_integer, 1},
        {"i03e", errc::bencode_integer_leading_zero, 0},
        {"li1ei00ee", errc::bencode_integer_leading_zero, 4},
        {"i-0e", errc::bencode_negative_zero, 0},
        {"i-03e", errc::bencode_negative_zero, 0},
        {"i9223372036854775808e", errc::bencode_integer_overflow, 0},
        {"i-9223372036854775809e", errc::bencode_integer_overflow, 0},
        {"i99999999999999999999999e", errc::bencode_integer_overflow, 0},
        {"03:abc", errc::bencode_length_leading_zero, 0},
        {"00:", errc::bencode_length_leading_zero, 0},
        {"4294967296:x", errc::bencode_length_overflow, 0},
        {"99999999999999999999999:x", errc::bencode_length_overflow, 0},
        {"5:abc", errc::bencode_string_past_end, 0},
        {"l4294967295:xe", errc::bencode_string_past_end, 1},
        {"3", errc::bencode_truncated, 1},
        {"3x", errc::bencode_bad_string_length, 1},
        {"3:abc4:defg", errc::bencode_trailing_data, 5},
        {"i1ei2e", errc::bencode_trailing_data, 3},
        {"le ", errc::bencode_trailing_data, 2},
        {"x", errc::bencode_unexpected_character, 0},
        {"e", errc::bencode_unexpected_character, 0},
        {"l-1e", errc::bencode_unexpected_character, 1},
        {"l", errc::bencode_unterminated, 1},
        {"li1e", errc::bencode_unterminated, 4},
        {"d", errc::bencode_unterminated, 1},
        {"d1:a", errc::bencode_unterminated, 4},
        {"d1:ai1e", errc::bencode_unterminated, 7},
        {"di1ei2ee", errc::bencode_non_string_key, 1},
        {"d1:ai1eli1eei2ee", errc::bencode_non_string_key, 7},
        {"d1:bi1e1:ai2ee", errc::bencode_unsorted_keys, 7},
        {"d1:bi1e2:abi2ee", errc::bencode_unsorted_keys, 7},
        {"d1:ai1e1:ai2ee", errc::bencode_duplicate_key, 7},
        // Keys compare as unsigned bytes: 0x80 sorts after 0x7f.
        {"d1:\x80i1e1:\x7fi2ee", errc::bencode_unsorted_keys, 7},
        {"d1:ae", errc::bencode_missing_value, 4},
        {"d1:a1:b1:ce", errc::bencode_missing_value, 10},
    };
    document doc;
    for (const auto& c : cases) {
        const auto result = decode(c.input, doc);
        EXPECT_EQ(result.error, make_error_code(c.error)) << '"' << c.input << "\": " << result.error.message();
        EXPECT_EQ(result.offset, c.offset) << '"' << c.input << '"';
        EXPECT_FALSE(doc.root()) << c.input;
    }
    // The same shapes, made valid, pass: the rules reject exactly the defect.
    for (const std::string valid : {"i3e", "i-3e", "3:abc", "d1:ai1e1:bi2ee", "d1:ai1e2:abi2ee", "d1:\x7fi1e1:\x80i2ee",
                                    "d1:a1:be", "l4:spami42ee"}) {
        EXPECT_FALSE(decode(valid, doc).error) << valid;
    }
}

TEST(BencodeStrict, DepthIsBounded) {
    document doc;
    const auto nested = [](std::size_t depth) { return std::string(depth, 'l') + std::string(depth, 'e'); };
    EXPECT_FALSE(decode(nested(32), doc).error);
    auto result = decode(nested(33), doc);
    EXPECT_EQ(result.error, make_error_code(errc::bencode_too_deep));
    EXPECT_EQ(result.offset, 32u);

    result = decode("d1:ad1:bleee", doc, limits{2, 4096});
    EXPECT_EQ(result.error, make_error_code(errc::bencode_too_deep));
    EXPECT_EQ(result.offset, 8u);
    EXPECT_FALSE(decode("d1:ad1:bi1eee", doc, limits{2, 4096}).error);

    // A larger bound is clamped to the fixed stack.
    EXPECT_FALSE(decode(nested(hard_max_depth), doc, limits{1000, 4096}).error);
    result = decode(nested(hard_max_depth + 1), doc, limits{1000, 4096});
    EXPECT_EQ(result.error, make_error_code(errc::bencode_too_deep));
    EXPECT_EQ(result.offset, hard_max_depth);

    // Deep input far beyond the bound fails early, without recursion.
    EXPECT_EQ(decode(std::string(1'000'000, 'l'), doc).error, make_error_code(errc::bencode_too_deep));
}

TEST(BencodeStrict, ElementCountIsBounded) {
    document doc;
    EXPECT_FALSE(decode("li1ei2ee", doc, limits{32, 3}).error);
    const auto result = decode("li1ei2ei3ee", doc, limits{32, 3});
    EXPECT_EQ(result.error, make_error_code(errc::bencode_too_many_elements));
    EXPECT_EQ(result.offset, 7u);

    std::string many = "l";
    for (int i = 0; i < 5000; ++i) many += "i1e";
    many += "e";
    EXPECT_EQ(decode(many, doc).error, make_error_code(errc::bencode_too_many_elements));
    EXPECT_FALSE(decode(many, doc, limits{32, 5001}).error);
}

TEST(BencodeErrors, EveryNewCodeHasItsOwnMessage) {
    std::set<std::string> messages;
    for (int v = static_cast<int>(errc::bencode_truncated); v <= errc_last; ++v) {
        const auto message = make_error_code(static_cast<errc>(v)).message();
        EXPECT_NE(message, "unknown librats error") << v;
        EXPECT_TRUE(messages.insert(message).second) << "duplicate message: " << message;
    }
    // errc_last is the last code with a message.
    EXPECT_EQ(make_error_code(static_cast<errc>(errc_last + 1)).message(), "unknown librats error");
}

TEST(BencodeEncode, CanonicalOutput) {
    entry::dictionary_type dict;
    dict["zeta"] = entry{entry::list_type{entry{1}, entry{"x"}, entry{entry::dictionary_type{}}}};
    dict["alpha"] = entry{-7};
    dict["\x80"s] = entry{"high"};
    dict["\x7f"s] = entry{"low"};
    dict[""] = entry{std::string("a\0b", 3)};
    EXPECT_EQ(encode(entry{dict}), "d0:3:a\0b5:alphai-7e4:zetali1e1:xdee1:\x7f" "3:low1:\x80" "4:highe"s);

    EXPECT_EQ(encode(entry{0}), "i0e");
    EXPECT_EQ(encode(entry{std::numeric_limits<std::int64_t>::min()}), "i-9223372036854775808e");
    EXPECT_EQ(encode(entry{std::numeric_limits<std::int64_t>::max()}), "i9223372036854775807e");
    EXPECT_EQ(encode(entry{""}), "0:");
    EXPECT_EQ(encode(entry{entry::list_type{}}), "le");

    std::string out;
    writer w(out);
    w.begin_dictionary();
    w.string("n");
    w.string_header(3);
    out += "abc";
    w.end();
    EXPECT_EQ(out, "d1:n3:abce");
}

TEST(BencodeRoundTrip, DecodeThenEncodeGivesTheSameBytes) {
    const std::string inputs[] = {
        "i0e", "i-1e", "0:", "le", "de", "l4:spami42ee", "d3:bar4:spam3:fooi42ee",
        "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
        "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
        "lllleeee", "ld0:ld0:leeeee", "d0:i1e1:ai2e2:aai3e1:bi4ee",
    };
    document doc;
    for (const auto& input : inputs) {
        ASSERT_FALSE(decode(input, doc).error) << input;
        const auto owned = to_entry(doc.root());
        EXPECT_EQ(encode(owned), input);
        // And back: the owning value survives a second pass.
        const auto again = encode(owned);
        ASSERT_FALSE(decode(again, doc).error);
        EXPECT_EQ(to_entry(doc.root()), owned);
    }
}

const std::vector<std::string>& valid_samples() {
    static const std::vector<std::string> samples = {
        "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
        "d1:rd2:id20:abcdefghij01234567895:nodes9:def456...5:token8:aoeusnthe1:t2:aa1:y1:re",
        "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
        "d3:bar4:spam3:fooli42eli-1eed0:deee4:zerod0:leee",
        "li-9223372036854775808ei9223372036854775807e0:10:0123456789e",
    };
    return samples;
}

TEST(BencodeRobustness, EveryTruncationFails) {
    document doc;
    for (const auto& sample : valid_samples()) {
        ASSERT_FALSE(decode(sample, doc).error) << sample;
        for (std::size_t n = 0; n < sample.size(); ++n) {
            const auto prefix = sample.substr(0, n);
            const auto result = decode(prefix, doc);
            const auto e = result.error;
            EXPECT_TRUE(e == errc::bencode_truncated || e == errc::bencode_unterminated ||
                        e == errc::bencode_string_past_end)
                << '"' << prefix << "\": " << e.message();
            EXPECT_LE(result.offset, n);
        }
    }
}

// Strict decoding accepts only canonical bencode, so whatever a mutation leaves valid must
// re-encode to the very same bytes.
TEST(BencodeRobustness, RandomMutationsFailCleanlyOrStayCanonical) {
    std::mt19937 rng(20261124);
    const char alphabet[] = "0123456789ilde:-x";
    document doc;
    std::size_t accepted = 0;
    std::size_t rejected = 0;
    for (int round = 0; round < 4000; ++round) {
        const auto& sample = valid_samples()[round % valid_samples().size()];
        std::string input = sample;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int i = 0; i < edits; ++i) {
            const auto at = rng() % (input.size() + 1);
            switch (rng() % 4) {
            case 0:
                if (at < input.size()) input[at] = static_cast<char>(rng());
                break;
            case 1:
                if (at < input.size()) input[at] = alphabet[rng() % (sizeof alphabet - 1)];
                break;
            case 2: input.insert(at, 1, alphabet[rng() % (sizeof alphabet - 1)]); break;
            default:
                if (at < input.size()) input.erase(at, 1);
                break;
            }
        }
        const auto result = decode(input, doc);
        if (result.error) {
            ++rejected;
            EXPECT_EQ(&result.error.category(), &error_category());
            EXPECT_LE(result.offset, input.size());
            EXPECT_FALSE(doc.root());
        } else {
            ++accepted;
            EXPECT_EQ(encode(to_entry(doc.root())), input);
        }
    }
    // Both outcomes occur, so both branches were checked.
    EXPECT_GT(accepted, 50u);
    EXPECT_GT(rejected, 1000u);

    for (int round = 0; round < 2000; ++round) {
        std::string noise(rng() % 64, '\0');
        for (auto& c : noise) c = alphabet[rng() % (sizeof alphabet - 1)];
        const auto result = decode(noise, doc);
        if (!result.error) {
            EXPECT_EQ(encode(to_entry(doc.root())), noise);
        }
    }
}

}  // namespace
}  // namespace librats::dht::bencode
