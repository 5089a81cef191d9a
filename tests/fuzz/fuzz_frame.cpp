// libFuzzer target: wire::frame_parser (include/librats/wire/frame.hpp) fed an arbitrary byte
// stream in arbitrary chunks, plus the per-frame payload parsers (parse_json_payload,
// parse_goodbye) the session runs on what it hands out.
//
// Input: byte 0 picks max_message_size, byte 1 the chunking mode, byte 2 a frame index at which
// the handler returns an error, bytes 3..10 the chunk-size pattern; the rest is the stream.
// Invariant: the frames (type, payload) and the final error are the same whether the stream is
// fed at once or in chunks (with release_idle() between some of them), and no payload exceeds
// max_message_size.

#include "fuzz_common.hpp"

#include <librats/error.hpp>
#include <librats/wire/frame.hpp>

#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {

using namespace librats;

struct outcome {
    std::vector<std::pair<wire::frame_type, std::string>> frames;
    std::error_code error;
};

struct handler {
    outcome& out;
    std::size_t max_size;
    std::size_t stop_at;
    std::error_code operator()(wire::frame_type type, std::string_view payload) {
        FUZZ_CHECK(wire::is_known(type));
        FUZZ_CHECK(payload.size() <= max_size);
        if (type == wire::frame_type::json) {
            wire::json_payload p;
            if (!wire::parse_json_payload(payload, p)) {
                FUZZ_CHECK(!p.type.empty() && p.type.size() <= wire::max_json_type_size);
                FUZZ_CHECK(1 + p.type.size() + p.json_text.size() == payload.size());
            }
        } else if (type == wire::frame_type::goodbye) {
            wire::goodbye_payload g;
            if (!wire::parse_goodbye(payload, g)) FUZZ_CHECK(g.reason.size() + 2 == payload.size());
        }
        out.frames.emplace_back(type, std::string(payload));
        if (out.frames.size() == stop_at) return errc::malformed_frame;  // the handler's own error
        return {};
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    librats_fuzz::reader in(data, size);
    static constexpr std::size_t max_sizes[] = {0, 1, 16, 255, 4096, 65536, 1 << 20, 16u << 20};
    const std::size_t max_size = max_sizes[in.u8() % 8];
    const std::uint8_t mode = in.u8();
    const std::size_t stop_at = in.u8();  // 0: never
    std::uint8_t pattern[8];
    for (auto& b : pattern) b = in.u8();
    const std::string_view stream = in.rest();
    const auto* bytes = reinterpret_cast<const unsigned char*>(stream.data());

    outcome whole;
    {
        wire::frame_parser parser(max_size);
        whole.error = parser.feed(bytes, stream.size(), handler{whole, max_size, stop_at});
        if (!whole.error) FUZZ_CHECK(parser.partial() == (stream.size() > 0 && [&] {
            // Partial iff the stream does not end on a frame boundary: recomputed independently.
            std::size_t at = 0;
            while (stream.size() - at >= wire::frame_header_size) {
                const std::size_t len = librats::detail::get_u32(bytes + at + 1);
                if (stream.size() - at - wire::frame_header_size < len) return true;
                at += wire::frame_header_size + len;
            }
            return at != stream.size();
        }()));
    }

    outcome chunked;
    {
        wire::frame_parser parser(max_size);
        handler h{chunked, max_size, stop_at};
        std::size_t at = 0;
        std::size_t i = 0;
        while (at < stream.size()) {
            std::size_t n;
            const std::uint8_t p = pattern[i % 8];
            switch (mode % 4) {
            case 0: n = 1 + p % 8; break;              // tiny chunks: headers split everywhere
            case 1: n = 1 + p; break;                  // up to 256
            case 2: n = 1 + (std::size_t{p} << 4); break;  // up to 4 KiB
            default: n = p % 2 ? 1 : stream.size(); break;  // one byte, then the rest
            }
            n = std::min(n, stream.size() - at);
            chunked.error = parser.feed(bytes + at, n, h);
            if (chunked.error) break;
            at += n;
            if ((mode >> 2) & (1u << (i % 6))) parser.release_idle();
            ++i;
        }
    }
    FUZZ_CHECK(whole.error == chunked.error);
    FUZZ_CHECK(whole.frames == chunked.frames);
    return 0;
}
