// libFuzzer target: how a node turns a JSON frame's payload into (type, data).
//
// The node does it inline in the private member node_impl::dispatch_json
// (include/librats/detail/node_impl.hpp): wire::parse_json_payload(payload, message), then
// nlohmann::json::parse(message.json_text.begin(), message.json_text.end(), nullptr, false),
// is_discarded() -> errc::invalid_json, then std::string(message.type) as the handler map key.
// That function is not callable without a running node, so this target runs the same calls in
// the same order (nothing is factored out of the library). A handler then typically reads the
// data, so the value is also dumped and the dump re-parsed.

#include "fuzz_common.hpp"

#include <librats/error.hpp>
#include <librats/wire/frame.hpp>

#include <nlohmann/json.hpp>

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace librats;
    const std::string_view payload(reinterpret_cast<const char*>(data), size);

    wire::json_payload message;
    if (wire::parse_json_payload(payload, message)) return 0;
    FUZZ_CHECK(!message.type.empty() && message.type.size() <= wire::max_json_type_size);
    const auto parsed = nlohmann::json::parse(message.json_text.begin(), message.json_text.end(), nullptr, false);
    if (parsed.is_discarded()) return 0;  // errc::invalid_json
    const std::string key(message.type);
    FUZZ_CHECK(key.size() == message.type.size());

    // What the sender side does with data: dump() (append_json_frame), and the peer parses it.
    const std::string dumped = parsed.dump();
    const auto again = nlohmann::json::parse(dumped, nullptr, false);
    FUZZ_CHECK(!again.is_discarded());
    FUZZ_CHECK(again.dump() == dumped);

    std::string frame;
    wire::append_json_frame(frame, message.type, dumped);
    wire::json_payload round;
    FUZZ_CHECK(!wire::parse_json_payload(std::string_view(frame).substr(wire::frame_header_size), round));
    FUZZ_CHECK(round.type == message.type && round.json_text == dumped);
    return 0;
}
