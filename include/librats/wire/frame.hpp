#ifndef LIBRATS_WIRE_FRAME_HPP
#define LIBRATS_WIRE_FRAME_HPP

// The message layer, sans-I/O (docs/PROTOCOL.md, "Frames"). After the handshake both directions
// carry a byte stream of frames: u8 type, u32 big-endian payload length, payload. That stream is
// cut into records of at most 65,535 bytes on the wire (see record.hpp); a frame may span records
// and a record may hold many frames, so small messages coalesce and large ones are chunked.

#include <librats/detail/endian.hpp>
#include <librats/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace librats::wire {

enum class frame_type : std::uint8_t {
    binary = 0x01,   // opaque bytes (send_binary_*)
    text = 0x02,     // opaque bytes sent as a string (send_to_peer_by_hash, broadcast_to_peers)
    json = 0x03,     // typed JSON message: u8 type length, type, JSON text
    ping = 0x10,     // keepalive; payload echoed in the pong
    pong = 0x11,
    goodbye = 0x12,  // u16 error code (0: normal close), UTF-8 reason; the sender closes after it
    rekey = 0x13,    // empty; the last frame of its record: the sender's key changes after it
};

inline constexpr std::size_t frame_header_size = 5;
inline constexpr std::size_t max_json_type_size = 255;

inline bool is_known(frame_type type) noexcept {
    switch (type) {
    case frame_type::binary:
    case frame_type::text:
    case frame_type::json:
    case frame_type::ping:
    case frame_type::pong:
    case frame_type::goodbye:
    case frame_type::rekey: return true;
    }
    return false;
}

inline void append_frame_header(std::string& out, frame_type type, std::uint32_t payload_size) {
    unsigned char header[frame_header_size];
    header[0] = static_cast<unsigned char>(type);
    detail::put_u32(header + 1, payload_size);
    out.append(reinterpret_cast<const char*>(header), frame_header_size);
}

inline void append_frame(std::string& out, frame_type type, std::string_view payload) {
    append_frame_header(out, type, static_cast<std::uint32_t>(payload.size()));
    out.append(payload);
}

// JSON frame payload: the message type travels before the JSON text so that the receiver can
// route without parsing, and the JSON is exactly what the sender's data dumps to.
struct json_payload {
    std::string_view type;
    std::string_view json_text;
};

inline void append_json_frame(std::string& out, std::string_view type, std::string_view json_text) {
    append_frame_header(out, frame_type::json, static_cast<std::uint32_t>(1 + type.size() + json_text.size()));
    out.push_back(static_cast<char>(type.size()));
    out.append(type);
    out.append(json_text);
}

inline std::error_code parse_json_payload(std::string_view payload, json_payload& out) noexcept {
    if (payload.empty()) return errc::malformed_frame;
    const auto type_size = static_cast<unsigned char>(payload[0]);
    if (type_size == 0 || payload.size() < 1u + type_size) return errc::malformed_frame;
    out.type = payload.substr(1, type_size);
    out.json_text = payload.substr(1u + type_size);
    return {};
}

struct goodbye_payload {
    std::uint16_t code = 0;
    std::string_view reason;
};

inline std::string encode_goodbye(std::uint16_t code, std::string_view reason) {
    std::string payload(2, '\0');
    detail::put_u16(reinterpret_cast<unsigned char*>(payload.data()), code);
    payload.append(reason.substr(0, 1024));
    return payload;
}

inline std::error_code parse_goodbye(std::string_view payload, goodbye_payload& out) noexcept {
    if (payload.size() < 2) return errc::malformed_frame;
    out.code = detail::get_u16(reinterpret_cast<const unsigned char*>(payload.data()));
    out.reason = payload.substr(2);
    return {};
}

// Incremental frame decoder. A frame that lies whole in the fed bytes is handed out as a view
// of them without a copy; only a frame split across feeds is assembled in an owned buffer. That
// buffer keeps its capacity while messages stream (no allocation per message); release_idle()
// gives it back, so an idle connection holds no payload memory.
class frame_parser {
public:
    explicit frame_parser(std::size_t max_message_size) noexcept : max_message_size_(max_message_size) {}

    // Calls on_frame(frame_type, std::string_view payload) -> std::error_code for each complete
    // frame, in order. Stops at the first error (its own or the handler's) and returns it.
    template <class Handler>
    std::error_code feed(const unsigned char* data, std::size_t size, Handler&& on_frame) {
        while (size > 0) {
            if (!in_payload_) {
                if (header_have_ == 0 && size >= frame_header_size) {
                    if (auto ec = begin_frame(data)) return ec;
                    data += frame_header_size;
                    size -= frame_header_size;
                    if (size >= remaining_) {
                        const auto length = remaining_;
                        in_payload_ = false;
                        remaining_ = 0;
                        if (auto ec = on_frame(type_, std::string_view(reinterpret_cast<const char*>(data), length)))
                            return ec;
                        data += length;
                        size -= length;
                        continue;
                    }
                } else {
                    const auto take = std::min(frame_header_size - header_have_, size);
                    std::copy(data, data + take, header_ + header_have_);
                    header_have_ += take;
                    data += take;
                    size -= take;
                    if (header_have_ < frame_header_size) return {};
                    header_have_ = 0;
                    if (auto ec = begin_frame(header_)) return ec;
                }
                if (remaining_ == 0) {
                    in_payload_ = false;
                    if (auto ec = on_frame(type_, std::string_view())) return ec;
                    continue;
                }
                payload_.clear();
                // One allocation for the usual sizes; a huge declared length must be backed by
                // bytes actually received before it costs more than 1 MiB.
                payload_.reserve(std::min<std::size_t>(remaining_, 1 << 20));
            }
            const auto take = std::min<std::size_t>(remaining_, size);
            payload_.append(reinterpret_cast<const char*>(data), take);
            remaining_ -= static_cast<std::uint32_t>(take);
            data += take;
            size -= take;
            if (remaining_ > 0) return {};
            in_payload_ = false;
            auto ec = on_frame(type_, std::string_view(payload_));
            payload_.clear();
            if (ec) return ec;
        }
        return {};
    }

    // True while a frame has begun but not ended.
    bool partial() const noexcept { return in_payload_ || header_have_ > 0; }

    // Frees the assembly buffer unless a frame is being assembled in it.
    void release_idle() {
        if (!in_payload_) std::string().swap(payload_);
    }

private:
    std::error_code begin_frame(const unsigned char* header) noexcept {
        type_ = static_cast<frame_type>(header[0]);
        if (!is_known(type_)) return errc::unknown_frame_type;
        remaining_ = detail::get_u32(header + 1);
        if (remaining_ > max_message_size_) return errc::message_too_large;
        in_payload_ = true;
        return {};
    }

    std::size_t max_message_size_;
    unsigned char header_[frame_header_size] = {};
    std::size_t header_have_ = 0;
    bool in_payload_ = false;
    frame_type type_ = frame_type::binary;
    std::uint32_t remaining_ = 0;
    std::string payload_;
};

}  // namespace librats::wire

#endif
