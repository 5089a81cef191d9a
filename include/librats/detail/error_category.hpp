#ifndef LIBRATS_DETAIL_ERROR_CATEGORY_HPP
#define LIBRATS_DETAIL_ERROR_CATEGORY_HPP

// The std::error_category of one of librats' error enums ("librats", "librats.mdns",
// "librats.stun"): a name, and the function that describes each value.

#include <string>
#include <system_error>

namespace librats::detail {

template <class Errc, const char* (*Describe)(Errc) noexcept>
class enum_error_category final : public std::error_category {
public:
    explicit constexpr enum_error_category(const char* name) noexcept : name_(name) {}

    const char* name() const noexcept override { return name_; }
    std::string message(int value) const override { return Describe(static_cast<Errc>(value)); }

private:
    const char* name_;
};

}  // namespace librats::detail

#endif
