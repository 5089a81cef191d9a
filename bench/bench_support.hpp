#ifndef LIBRATS_BENCH_SUPPORT_HPP
#define LIBRATS_BENCH_SUPPORT_HPP

// Helpers shared by the benchmarks: an io_context on its own thread, bounded waits.

#include <asio.hpp>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <string_view>
#include <thread>

namespace librats::bench {

using bench_clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline double seconds_between(bench_clock::time_point a, bench_clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// Pins the calling thread to one CPU (modulo the CPUs there are) if LIBRATS_BENCH_PIN is set
// to something else than 0; a no-op otherwise or where the OS refuses.
inline bool pinning_enabled() {
    const char* env = std::getenv("LIBRATS_BENCH_PIN");
    return env != nullptr && std::string_view(env) != "0";
}

inline void pin_this_thread(unsigned cpu) {
    if (!pinning_enabled()) return;
    const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % cpus, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

// An io_context run by one background thread for the life of the object, optionally pinned.
class io_thread {
public:
    explicit io_thread(int cpu = -1) : thread_([this, cpu] {
        if (cpu >= 0) pin_this_thread(static_cast<unsigned>(cpu));
        io_.run();
    }) {}
    io_thread(const io_thread&) = delete;
    io_thread& operator=(const io_thread&) = delete;
    ~io_thread() {
        work_.reset();
        io_.stop();
        thread_.join();
    }
    asio::any_io_executor executor() { return io_.get_executor(); }

private:
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
    std::thread thread_;
};

// A monotonic counter bumped by one thread (a handler) and awaited by another without spinning:
// the bumping side only takes the mutex once the awaited value is reached, so the hot path is
// one atomic add and one atomic load.
class counter {
public:
    std::uint64_t add(std::uint64_t n = 1) {
        const auto v = value_.fetch_add(n) + n;
        if (v >= target_.load()) {
            std::lock_guard<std::mutex> lock(mutex_);
            cv_.notify_all();
        }
        return v;
    }

    std::uint64_t value() const { return value_.load(); }

    // Waits until value() >= target or the deadline passes; returns whether it was reached.
    bool wait_for_value(std::uint64_t target, bench_clock::time_point deadline) {
        target_.store(target);
        bool reached;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            reached = cv_.wait_until(lock, deadline, [&] { return value_.load() >= target; });
        }
        target_.store(std::numeric_limits<std::uint64_t>::max());
        return reached;
    }

    // Waits until value() differs from `seen`.
    bool wait_for_change(std::uint64_t seen, bench_clock::time_point deadline) {
        return wait_for_value(seen + 1, deadline);
    }

private:
    std::atomic<std::uint64_t> value_{0};
    std::atomic<std::uint64_t> target_{std::numeric_limits<std::uint64_t>::max()};
    std::mutex mutex_;
    std::condition_variable cv_;
};

}  // namespace librats::bench

#endif
