#ifndef LIBRATS_DETAIL_UNIQUE_FUNCTION_HPP
#define LIBRATS_DETAIL_UNIQUE_FUNCTION_HPP

#include <memory>
#include <type_traits>
#include <utility>

namespace librats::detail {

template <class Signature>
class unique_function;

// A move-only std::function: completion handlers (use_future's promise, coroutine resumers)
// cannot be copied, and asio 1.22 has no any_completion_handler.
template <class R, class... Args>
class unique_function<R(Args...)> {
public:
    unique_function() noexcept = default;
    unique_function(std::nullptr_t) noexcept {}

    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, unique_function>>>
    unique_function(F&& f) : impl_(std::make_unique<model<std::decay_t<F>>>(std::forward<F>(f))) {}

    explicit operator bool() const noexcept { return static_cast<bool>(impl_); }

    R operator()(Args... args) { return impl_->call(std::forward<Args>(args)...); }

private:
    struct concept_base {
        virtual ~concept_base() = default;
        virtual R call(Args... args) = 0;
    };
    template <class F>
    struct model final : concept_base {
        explicit model(F&& f) : f(std::move(f)) {}
        explicit model(const F& f) : f(f) {}
        R call(Args... args) override { return f(std::forward<Args>(args)...); }
        F f;
    };
    std::unique_ptr<concept_base> impl_;
};

}  // namespace librats::detail

#endif
