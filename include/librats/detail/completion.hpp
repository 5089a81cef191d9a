#ifndef LIBRATS_DETAIL_COMPLETION_HPP
#define LIBRATS_DETAIL_COMPLETION_HPP

#include <librats/detail/unique_function.hpp>

#include <asio/associated_executor.hpp>
#include <asio/post.hpp>

#include <tuple>
#include <utility>

namespace librats::detail {

template <class Signature>
struct posting_completion_impl;

template <class... Args>
struct posting_completion_impl<void(Args...)> {
    // asio handlers are called once, as rvalues.
    template <class Handler>
    static unique_function<void(Args...)> erase(Handler handler) {
        return [handler = std::move(handler)](Args... args) mutable { std::move(handler)(std::move(args)...); };
    }

    template <class Executor>
    static unique_function<void(Args...)> make(unique_function<void(Args...)> handler, Executor ex) {
        return [handler = std::move(handler), ex = std::move(ex)](Args... args) mutable {
            asio::post(ex, [handler = std::move(handler), args = std::make_tuple(std::move(args)...)]() mutable {
                std::apply(std::move(handler), std::move(args));
            });
        };
    }
};

// Turns an asio completion handler into a callable that posts the handler, with its arguments,
// to the handler's associated executor (the node's strand by default): a completion is never
// invoked inside the initiating call, and runs where the caller asked. The handler is erased
// first, so asio's post machinery is instantiated per signature and executor, not per handler.
template <class Signature, class Handler, class Executor>
unique_function<Signature> posting_completion(Handler handler, const Executor& fallback) {
    auto ex = asio::get_associated_executor(handler, fallback);
    using impl = posting_completion_impl<Signature>;
    return impl::make(impl::erase(std::move(handler)), std::move(ex));
}

}  // namespace librats::detail

#endif
