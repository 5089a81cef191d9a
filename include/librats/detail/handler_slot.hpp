#ifndef LIBRATS_DETAIL_HANDLER_SLOT_HPP
#define LIBRATS_DETAIL_HANDLER_SLOT_HPP

#include <memory>
#include <mutex>
#include <utility>

namespace librats::detail {

// A user callback that one thread may replace while another calls it. Callers take a counted
// snapshot and call it without the lock held, so a callback replaced mid-call finishes safely
// and a callback may replace itself.
template <class Function>
class handler_slot {
public:
    void set(Function function) {
        auto shared = function ? std::make_shared<const Function>(std::move(function)) : nullptr;
        std::lock_guard<std::mutex> lock(mutex_);
        function_ = std::move(shared);
    }

    std::shared_ptr<const Function> get() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return function_;
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const Function> function_;
};

}  // namespace librats::detail

#endif
