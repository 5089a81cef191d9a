// Shared helpers for the libFuzzer targets in tests/fuzz/: a byte reader for the harness's own
// choices, the packet splitter of the engine targets, and a check that aborts (so libFuzzer
// records a crash) when an invariant of the library does not hold.
#ifndef LIBRATS_TESTS_FUZZ_COMMON_HPP
#define LIBRATS_TESTS_FUZZ_COMMON_HPP

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

namespace librats_fuzz {

// Consumes bytes from the front of the input; past the end it yields zeros.
class reader {
public:
    reader(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}
    std::uint8_t u8() noexcept { return pos_ < size_ ? data_[pos_++] : 0; }
    std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(u8() << 8 | u8()); }
    std::uint64_t u64() noexcept {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v = v << 8 | u8();
        return v;
    }
    std::string_view rest() const noexcept {
        return {reinterpret_cast<const char*>(data_ + pos_), size_ - pos_};
    }
    std::size_t left() const noexcept { return size_ - pos_; }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

// Several datagrams per input: split at a 4-byte delimiter (also listed in the dictionaries).
inline constexpr std::string_view packet_delimiter{"\xde\xad\xbe\xef", 4};

inline std::vector<std::string_view> split_packets(std::string_view in, std::size_t max_packets = 64) {
    std::vector<std::string_view> out;
    while (out.size() + 1 < max_packets) {
        const auto at = in.find(packet_delimiter);
        if (at == std::string_view::npos) break;
        out.push_back(in.substr(0, at));
        in.remove_prefix(at + packet_delimiter.size());
    }
    out.push_back(in);
    return out;
}

}  // namespace librats_fuzz

#endif
