#ifndef LIBRATS_NOISE_PATTERN_HPP
#define LIBRATS_NOISE_PATTERN_HPP

// Handshake patterns (Noise spec §7) as constexpr data: pre-messages and message patterns,
// each a list of tokens. Messages alternate, starting with the initiator.

#include <cstddef>
#include <string_view>

namespace librats::noise {

enum class token : unsigned char { e, s, ee, es, se, ss };

struct message_pattern {
    static constexpr std::size_t max_tokens = 6;
    token tokens[max_tokens] = {};
    std::size_t size = 0;

    constexpr const token* begin() const noexcept { return tokens; }
    constexpr const token* end() const noexcept { return tokens + size; }
};

struct handshake_pattern {
    static constexpr std::size_t max_messages = 6;
    std::string_view name;
    message_pattern initiator_pre;  // only e and s
    message_pattern responder_pre;
    message_pattern messages[max_messages] = {};
    std::size_t message_count = 0;
};

namespace patterns {

inline constexpr handshake_pattern NN = {
    "NN", {}, {}, {{{token::e}, 1}, {{token::e, token::ee}, 2}}, 2};

inline constexpr handshake_pattern XX = {
    "XX", {}, {}, {{{token::e}, 1}, {{token::e, token::ee, token::s, token::es}, 4}, {{token::s, token::se}, 2}}, 3};

inline constexpr handshake_pattern IK = {
    "IK", {}, {{token::s}, 1}, {{{token::e, token::es, token::s, token::ss}, 4}, {{token::e, token::ee, token::se}, 3}}, 2};

}  // namespace patterns

}  // namespace librats::noise

#endif
