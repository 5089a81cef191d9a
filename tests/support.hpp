#ifndef LIBRATS_TESTS_SUPPORT_HPP
#define LIBRATS_TESTS_SUPPORT_HPP

// Shared test helpers: bounded waiting, log capture.

#include <librats/log.hpp>

#include <asio.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace librats::test {

using namespace std::chrono_literals;

// Runs the io_context until pred() holds or the timeout passes; returns pred().
template <class Pred>
bool run_until(asio::io_context& io, Pred pred, std::chrono::milliseconds timeout = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
        io.restart();
        io.run_for(5ms);
    }
    return pred();
}

// For io_contexts run by other threads: polls pred() until it holds or the timeout passes.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(2ms);
    return pred();
}

// Collects log lines of a logger; thread-safe. The lines live in shared state held by the sink,
// so a node still logging from its thread after this object is gone writes to valid memory.
class log_capture {
public:
    explicit log_capture(logger& log, log_level level = log_level::debug) : state_(std::make_shared<state>()) {
        log.set_level(level);
        log.set_sink([state = state_](log_level, std::string_view, std::string_view message) {
            std::lock_guard<std::mutex> lock(state->mutex);
            state->lines.emplace_back(message);
        });
    }

    bool contains(const std::string& text) const {
        std::lock_guard<std::mutex> lock(state_->mutex);
        for (const auto& line : state_->lines)
            if (line.find(text) != std::string::npos) return true;
        return false;
    }

    std::string all() const {
        std::lock_guard<std::mutex> lock(state_->mutex);
        std::string out;
        for (const auto& line : state_->lines) out += line + '\n';
        return out;
    }

private:
    struct state {
        std::mutex mutex;
        std::vector<std::string> lines;
    };
    std::shared_ptr<state> state_;
};

// use_future tokens that yield the error instead of throwing it: an exception handed between
// threads through std::future trips TSan (libstdc++'s exception_ptr is not instrumented).
inline const auto error_future = asio::use_future([](std::error_code ec) { return ec; });
inline const auto error_and_value_future =
    asio::use_future([](std::error_code ec, auto value) { return std::make_pair(ec, std::move(value)); });

// An io_context run by one background thread for the life of the object.
class io_thread {
public:
    io_thread() : thread_([this] { io_.run(); }) {}
    ~io_thread() {
        work_.reset();
        io_.stop();
        thread_.join();
    }
    asio::io_context& context() noexcept { return io_; }
    asio::any_io_executor executor() { return io_.get_executor(); }

private:
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
    std::thread thread_;
};

}  // namespace librats::test

#endif
