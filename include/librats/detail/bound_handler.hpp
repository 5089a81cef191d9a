#ifndef LIBRATS_DETAIL_BOUND_HANDLER_HPP
#define LIBRATS_DETAIL_BOUND_HANDLER_HPP

#include <memory>
#include <utility>

namespace librats::detail {

// A completion handler that calls `function(*owner, args...)` and keeps the owner alive.
// asio instantiates its operation machinery once per handler type; a lambda per call site made
// each one a new type, and that dominated compile time (bench/compile_cost.sh). With this, all
// of an owner's completions of one signature share one type. State a lambda would have captured
// lives in the owner instead.
template <class Owner, class... Args>
class bound_handler {
public:
    using function_type = void (*)(Owner&, Args...);

    bound_handler(std::shared_ptr<Owner> owner, function_type function) noexcept
        : owner_(std::move(owner)), function_(function) {}

    void operator()(Args... args) { function_(*owner_, std::move(args)...); }

private:
    std::shared_ptr<Owner> owner_;
    function_type function_;
};

}  // namespace librats::detail

#endif
