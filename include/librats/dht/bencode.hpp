#ifndef LIBRATS_DHT_BENCODE_HPP
#define LIBRATS_DHT_BENCODE_HPP

// Bencode (BEP 3): a strict decoder that accepts only canonical input, and a canonical encoder.
//
// decode() parses into a document: a flat, pre-order array of tokens whose strings are views
// into the input, so the caller keeps the input alive while reading the document. A document
// reused across calls keeps its capacity: decoding then allocates nothing.

#include <librats/error.hpp>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace librats::dht::bencode {

enum class type : std::uint8_t { integer, string, list, dictionary };

// Nesting is bounded by a fixed stack: max_depth above hard_max_depth is clamped.
inline constexpr std::size_t hard_max_depth = 64;

struct limits {
    std::size_t max_depth = 32;       // containers inside containers; the top level counts 1
    std::size_t max_elements = 4096;  // values of any type, keys included
};

struct decode_result {
    std::error_code error;  // an errc::bencode_* value, or none
    std::size_t offset = 0; // of the byte where the input stopped being valid
};

class document;

namespace detail {

struct token {
    std::int64_t integer;  // integers only
    std::uint32_t offset;  // strings: first byte of the contents in the input
    std::uint32_t length;  // strings: bytes; lists: items; dictionaries: pairs
    std::uint32_t next;    // index of the first token after this value's subtree
    type kind;
};

template <bool Pairs>
class child_range;

}  // namespace detail

// One value of a document; default-constructed (or a missing key): "none", false in a test.
class value {
public:
    value() noexcept = default;

    explicit operator bool() const noexcept { return doc_ != nullptr; }
    type kind() const noexcept;
    bool is_integer() const noexcept { return doc_ && kind() == type::integer; }
    bool is_string() const noexcept { return doc_ && kind() == type::string; }
    bool is_list() const noexcept { return doc_ && kind() == type::list; }
    bool is_dictionary() const noexcept { return doc_ && kind() == type::dictionary; }

    // Each requires the matching kind.
    std::int64_t integer() const noexcept;
    std::string_view string() const noexcept;
    // Items of a list, pairs of a dictionary.
    std::size_t size() const noexcept;
    detail::child_range<false> items() const noexcept;  // a list's values
    detail::child_range<true> pairs() const noexcept;   // a dictionary's (key, value) pairs

    // A dictionary's value for key; none if absent or this is not a dictionary.
    value find(std::string_view key) const noexcept;

private:
    friend class document;
    template <bool>
    friend class detail::child_range;
    value(const document* doc, std::uint32_t index) noexcept : doc_(doc), index_(index) {}
    const detail::token& tok() const noexcept;

    const document* doc_ = nullptr;
    std::uint32_t index_ = 0;
};

class document {
public:
    // The top-level value; none unless the last decode succeeded.
    value root() const noexcept { return tokens_.empty() ? value{} : value{this, 0}; }
    std::string_view input() const noexcept { return input_; }
    // Tokens of the last successful decode: one per value, dictionary keys included.
    std::size_t token_count() const noexcept { return tokens_.size(); }

private:
    friend class value;
    template <bool>
    friend class detail::child_range;
    friend decode_result decode(std::string_view input, document& doc, const limits& lim);

    std::string_view input_;
    std::vector<detail::token> tokens_;
};

namespace detail {

// Children of a list (values) or of a dictionary (key, value pairs), in input order.
template <bool Pairs>
class child_range {
public:
    using element = std::conditional_t<Pairs, std::pair<std::string_view, value>, value>;

    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = element;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = element;

        iterator() noexcept = default;
        element operator*() const noexcept {
            if constexpr (Pairs) {
                return {value{doc_, index_}.string(), value{doc_, index_ + 1}};
            } else {
                return value{doc_, index_};
            }
        }
        iterator& operator++() noexcept {
            // A key is a string: its value is the next token.
            index_ = doc_->tokens_[Pairs ? index_ + 1 : index_].next;
            --remaining_;
            return *this;
        }
        iterator operator++(int) noexcept {
            auto copy = *this;
            ++*this;
            return copy;
        }
        friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.remaining_ == b.remaining_; }
        friend bool operator!=(const iterator& a, const iterator& b) noexcept { return !(a == b); }

    private:
        friend class child_range;
        iterator(const document* doc, std::uint32_t index, std::uint32_t remaining) noexcept
            : doc_(doc), index_(index), remaining_(remaining) {}
        const document* doc_ = nullptr;
        std::uint32_t index_ = 0;
        std::uint32_t remaining_ = 0;
    };

    child_range() noexcept = default;
    child_range(const document* doc, std::uint32_t first, std::uint32_t count) noexcept
        : doc_(doc), first_(first), count_(count) {}

    iterator begin() const noexcept { return {doc_, first_, count_}; }
    iterator end() const noexcept { return {doc_, 0, 0}; }
    std::size_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }

private:
    const document* doc_ = nullptr;
    std::uint32_t first_ = 0;
    std::uint32_t count_ = 0;
};

}  // namespace detail

inline const detail::token& value::tok() const noexcept { return doc_->tokens_[index_]; }
inline type value::kind() const noexcept { return tok().kind; }
inline std::int64_t value::integer() const noexcept { return tok().integer; }
inline std::string_view value::string() const noexcept { return doc_->input_.substr(tok().offset, tok().length); }
inline std::size_t value::size() const noexcept { return tok().length; }

inline detail::child_range<false> value::items() const noexcept {
    if (!is_list()) return {};
    return {doc_, index_ + 1, tok().length};
}

inline detail::child_range<true> value::pairs() const noexcept {
    if (!is_dictionary()) return {};
    return {doc_, index_ + 1, tok().length};
}

inline value value::find(std::string_view key) const noexcept {
    for (const auto& [k, v] : pairs()) {
        const int order = k.compare(key);
        if (order == 0) return v;
        if (order > 0) break;  // keys are sorted
    }
    return {};
}

// Decodes exactly one value spanning all of input. On failure doc.root() is none.
inline decode_result decode(std::string_view input, document& doc, const limits& lim = {}) {
    struct frame {
        std::uint32_t token;
        std::uint32_t count;      // items, or completed pairs
        std::string_view last_key;
        bool dictionary;
        bool want_value;          // dictionaries: a key was read, its value is next
    };
    std::array<frame, hard_max_depth> stack;
    const std::size_t max_depth = lim.max_depth < hard_max_depth ? lim.max_depth : hard_max_depth;

    auto& tokens = doc.tokens_;
    doc.input_ = input;
    tokens.clear();
    const auto fail = [&](errc e, std::size_t at) {
        tokens.clear();
        return decode_result{make_error_code(e), at};
    };
    const std::size_t n = input.size();
    // Offsets and lengths are 32-bit.
    if (n > std::numeric_limits<std::uint32_t>::max()) return fail(errc::bencode_length_overflow, 0);
    const auto digit = [&](std::size_t i) { return input[i] >= '0' && input[i] <= '9'; };

    std::size_t pos = 0;
    std::size_t depth = 0;
    for (;;) {
        if (pos == n) return fail(depth ? errc::bencode_unterminated : errc::bencode_truncated, pos);
        frame* top = depth ? &stack[depth - 1] : nullptr;
        const char c = input[pos];

        if (c == 'e' && top) {
            if (top->dictionary && top->want_value) return fail(errc::bencode_missing_value, pos);
            auto& t = tokens[top->token];
            t.length = top->count;
            t.next = static_cast<std::uint32_t>(tokens.size());
            ++pos;
            if (--depth == 0) break;
            top = &stack[depth - 1];
        } else {
            const bool key = top && top->dictionary && !top->want_value;
            if (key && !digit(pos)) return fail(errc::bencode_non_string_key, pos);
            if (tokens.size() >= lim.max_elements) return fail(errc::bencode_too_many_elements, pos);
            const std::size_t start = pos;
            const auto index = static_cast<std::uint32_t>(tokens.size());

            if (c == 'i') {
                ++pos;
                const bool negative = pos < n && input[pos] == '-';
                if (negative) ++pos;
                if (pos == n) return fail(errc::bencode_truncated, pos);
                if (!digit(pos)) return fail(errc::bencode_bad_integer, pos);
                if (input[pos] == '0') {
                    if (negative) return fail(errc::bencode_negative_zero, start);
                    if (pos + 1 < n && digit(pos + 1)) return fail(errc::bencode_integer_leading_zero, start);
                }
                const std::uint64_t max = negative ? std::uint64_t{1} << 63 : (std::uint64_t{1} << 63) - 1;
                std::uint64_t magnitude = 0;
                for (; pos < n && digit(pos); ++pos) {
                    const auto d = static_cast<std::uint64_t>(input[pos] - '0');
                    if (magnitude > (max - d) / 10) return fail(errc::bencode_integer_overflow, start);
                    magnitude = magnitude * 10 + d;
                }
                if (pos == n) return fail(errc::bencode_truncated, pos);
                if (input[pos] != 'e') return fail(errc::bencode_bad_integer, pos);
                ++pos;
                // Two's complement: -(2^63) has no positive counterpart, hence the unsigned negation.
                const auto integer = negative ? static_cast<std::int64_t>(~magnitude + 1) : static_cast<std::int64_t>(magnitude);
                tokens.push_back({integer, static_cast<std::uint32_t>(start), 0, index + 1, type::integer});
            } else if (digit(pos)) {
                if (input[pos] == '0' && pos + 1 < n && digit(pos + 1))
                    return fail(errc::bencode_length_leading_zero, start);
                std::uint64_t length = 0;
                for (; pos < n && digit(pos); ++pos) {
                    length = length * 10 + static_cast<std::uint64_t>(input[pos] - '0');
                    if (length > std::numeric_limits<std::uint32_t>::max())
                        return fail(errc::bencode_length_overflow, start);
                }
                if (pos == n) return fail(errc::bencode_truncated, pos);
                if (input[pos] != ':') return fail(errc::bencode_bad_string_length, pos);
                ++pos;
                if (length > n - pos) return fail(errc::bencode_string_past_end, start);
                const std::string_view contents = input.substr(pos, length);
                if (key) {
                    if (top->count > 0) {
                        const int order = contents.compare(top->last_key);
                        if (order == 0) return fail(errc::bencode_duplicate_key, start);
                        if (order < 0) return fail(errc::bencode_unsorted_keys, start);
                    }
                    top->last_key = contents;
                }
                tokens.push_back({0, static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(length), index + 1,
                                  type::string});
                pos += length;
            } else if (c == 'l' || c == 'd') {
                if (depth >= max_depth) return fail(errc::bencode_too_deep, pos);
                const bool dictionary = c == 'd';
                tokens.push_back({0, static_cast<std::uint32_t>(pos), 0, 0, dictionary ? type::dictionary : type::list});
                stack[depth++] = frame{index, 0, {}, dictionary, false};
                ++pos;
                continue;  // complete at its 'e'
            } else {
                return fail(errc::bencode_unexpected_character, pos);
            }
            if (!top) break;  // a top-level integer or string
        }

        // A value is complete inside top.
        if (!top->dictionary) {
            ++top->count;
        } else if (top->want_value) {
            top->want_value = false;
            ++top->count;
        } else {
            top->want_value = true;
        }
    }
    if (pos != n) return fail(errc::bencode_trailing_data, pos);
    return {};
}

// ---- encoding

// Appends bencode to a string. Dictionary keys must be written in ascending byte order (the
// decoder rejects anything else); entry below sorts them itself.
class writer {
public:
    explicit writer(std::string& out) noexcept : out_(out) {}

    void integer(std::int64_t v) {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
        out_ += 'i';
        out_.append(digits, end);
        out_ += 'e';
    }
    void string(std::string_view s) {
        string_header(s.size());
        out_.append(s);
    }
    // The length prefix of a string whose length bytes the caller then appends to the output
    // itself: building in place saves a copy.
    void string_header(std::size_t length) {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, length).ptr;
        out_.append(digits, end);
        out_ += ':';
    }
    void begin_list() { out_ += 'l'; }
    void begin_dictionary() { out_ += 'd'; }
    void end() { out_ += 'e'; }

private:
    std::string& out_;
};

// An owning bencode value, for building arbitrary messages; std::map keeps keys in byte order,
// so encode() is canonical.
struct entry {
    using list_type = std::vector<entry>;
    using dictionary_type = std::map<std::string, entry, std::less<>>;

    std::variant<std::int64_t, std::string, list_type, dictionary_type> data;

    entry() = default;
    entry(std::int64_t v) : data(v) {}
    entry(int v) : data(std::int64_t{v}) {}
    entry(std::string v) : data(std::move(v)) {}
    entry(const char* v) : data(std::string(v)) {}
    entry(list_type v) : data(std::move(v)) {}
    entry(dictionary_type v) : data(std::move(v)) {}

    friend bool operator==(const entry& a, const entry& b) { return a.data == b.data; }
    friend bool operator!=(const entry& a, const entry& b) { return !(a == b); }
};

inline void encode(const entry& e, writer& w) {
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::int64_t>) {
                w.integer(v);
            } else if constexpr (std::is_same_v<T, std::string>) {
                w.string(v);
            } else if constexpr (std::is_same_v<T, entry::list_type>) {
                w.begin_list();
                for (const auto& item : v) encode(item, w);
                w.end();
            } else {
                w.begin_dictionary();
                for (const auto& [key, item] : v) {
                    w.string(key);
                    encode(item, w);
                }
                w.end();
            }
        },
        e.data);
}

inline std::string encode(const entry& e) {
    std::string out;
    writer w(out);
    encode(e, w);
    return out;
}

// An owning copy of a decoded value (none gives an empty string).
inline entry to_entry(const value& v) {
    if (!v) return entry{std::string{}};
    switch (v.kind()) {
    case type::integer: return entry{v.integer()};
    case type::string: return entry{std::string(v.string())};
    case type::list: {
        entry::list_type list;
        list.reserve(v.size());
        for (const auto& item : v.items()) list.push_back(to_entry(item));
        return entry{std::move(list)};
    }
    case type::dictionary: {
        entry::dictionary_type dictionary;
        for (const auto& [key, item] : v.pairs()) dictionary.emplace(std::string(key), to_entry(item));
        return entry{std::move(dictionary)};
    }
    }
    return entry{};
}

}  // namespace librats::dht::bencode

#endif
