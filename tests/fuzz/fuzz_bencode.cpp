// libFuzzer target: dht::bencode::decode (include/librats/dht/bencode.hpp) under limits chosen
// by the first input byte.
//
// Invariants: on success the token count respects max_elements, and since the decoder accepts
// only canonical bencode, to_entry() of the root re-encodes to exactly the input. On failure the
// offset lies within the input and root() is none. A reused document gives the same result.

#include "fuzz_common.hpp"

#include <librats/dht/bencode.hpp>

#include <string>

namespace {

using namespace librats::dht;

// Walks the tree the way the KRPC decoder does (items, pairs, find) and counts the values.
std::size_t walk(const bencode::value& v, std::size_t depth, std::size_t max_depth) {
    FUZZ_CHECK(v);
    std::size_t n = 1;
    switch (v.kind()) {
    case bencode::type::integer: (void)v.integer(); break;
    case bencode::type::string: (void)v.string(); break;
    case bencode::type::list: {
        FUZZ_CHECK(depth + 1 <= max_depth);
        std::size_t items = 0;
        for (const auto& item : v.items()) {
            n += walk(item, depth + 1, max_depth);
            ++items;
        }
        FUZZ_CHECK(items == v.size());
        break;
    }
    case bencode::type::dictionary: {
        FUZZ_CHECK(depth + 1 <= max_depth);
        std::size_t pairs = 0;
        std::string_view previous;
        for (const auto& [key, item] : v.pairs()) {
            FUZZ_CHECK(pairs == 0 || previous < key);  // sorted, no duplicates
            previous = key;
            FUZZ_CHECK(v.find(key));  // binary-order lookup finds every key
            n += 1 + walk(item, depth + 1, max_depth);
            ++pairs;
        }
        FUZZ_CHECK(pairs == v.size());
        (void)v.find("id");
        break;
    }
    }
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    librats_fuzz::reader in(data, size);
    const std::uint8_t choice = in.u8();
    bencode::limits lim;
    static constexpr std::size_t depths[] = {0, 1, 2, 4, 32, 64, 100, 1000};
    static constexpr std::size_t elements[] = {0, 1, 8, 4096, 100000, 1, 16, 4096};
    lim.max_depth = depths[choice % 8];
    lim.max_elements = elements[(choice >> 3) % 8];
    const std::string_view input = in.rest();

    static bencode::document reused;  // keeps its capacity across inputs, as the engine's does
    bencode::document fresh;
    const auto r1 = bencode::decode(input, fresh, lim);
    const auto r2 = bencode::decode(input, reused, lim);
    FUZZ_CHECK(r1.error == r2.error && r1.offset == r2.offset);
    if (r1.error) {
        FUZZ_CHECK(!fresh.root());
        FUZZ_CHECK(r1.offset <= input.size());
        return 0;
    }
    FUZZ_CHECK(fresh.token_count() <= lim.max_elements);
    FUZZ_CHECK(fresh.token_count() == reused.token_count());
    const std::size_t effective_depth = std::min(lim.max_depth, bencode::hard_max_depth);
    FUZZ_CHECK(walk(fresh.root(), 0, effective_depth) == fresh.token_count());
    FUZZ_CHECK(bencode::encode(bencode::to_entry(fresh.root())) == input);
    return 0;
}
