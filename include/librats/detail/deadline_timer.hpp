#ifndef LIBRATS_DETAIL_DEADLINE_TIMER_HPP
#define LIBRATS_DETAIL_DEADLINE_TIMER_HPP

// One asio timer that follows a sans-I/O engine's next_deadline(): arming it for a later time
// than it already waits for changes nothing, arming it earlier moves it. The UDP drivers of the
// DHT and mDNS engines tick their engine with it.

#include <asio/any_io_executor.hpp>
#include <asio/error.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <system_error>
#include <utility>

namespace librats::detail {

class deadline_timer {
public:
    using time_point = std::chrono::steady_clock::time_point;

    explicit deadline_timer(const asio::any_io_executor& ex) : timer_(ex) {}

    // `due` runs at `at` (or at the earlier time already armed); never after cancel(), and
    // time_point::max() means no deadline. `due` should hold what keeps this timer alive.
    template <class Due>
    void arm_at(time_point at, Due due) {
        if (at == time_point::max() || (armed_ && armed_at_ <= at)) return;
        armed_ = true;
        armed_at_ = at;
        timer_.expires_at(at);
        timer_.async_wait([this, due = std::move(due)](std::error_code ec) mutable {
            if (ec == asio::error::operation_aborted) return;
            armed_ = false;
            due();
        });
    }

    void cancel() {
        timer_.cancel();
        armed_ = false;
    }

private:
    asio::steady_timer timer_;
    bool armed_ = false;
    time_point armed_at_{};
};

}  // namespace librats::detail

#endif
