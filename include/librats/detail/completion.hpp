#ifndef LIBRATS_DETAIL_COMPLETION_HPP
#define LIBRATS_DETAIL_COMPLETION_HPP

#include <librats/detail/unique_function.hpp>

#include <asio/associated_executor.hpp>
#include <asio/post.hpp>

#include <tuple>
#include <utility>

namespace librats::detail {

// Turns an asio completion handler into a callable that posts the handler, with its arguments,
// to the handler's associated executor (the node's strand by default): a completion is never
// invoked inside the initiating call, and runs where the caller asked.
template <class Signature, class Handler, class Executor>
unique_function<Signature> posting_completion(Handler handler, const Executor& fallback) {
    auto ex = asio::get_associated_executor(handler, fallback);
    return [handler = std::move(handler), ex](auto... args) mutable {
        asio::post(ex, [handler = std::move(handler), args = std::make_tuple(std::move(args)...)]() mutable {
            std::apply(std::move(handler), std::move(args));
        });
    };
}

}  // namespace librats::detail

#endif
