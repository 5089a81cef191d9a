#ifndef LIBRATS_TESTS_SUPPORT_HPP
#define LIBRATS_TESTS_SUPPORT_HPP

// Shared test helpers: bounded waiting, log capture.

#include <librats/log.hpp>

#include <asio.hpp>

#include <chrono>
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

// Collects log lines of a logger; thread-safe.
class log_capture {
public:
    explicit log_capture(logger& log, log_level level = log_level::debug) {
        log.set_level(level);
        log.set_sink([this](log_level, std::string_view, std::string_view message) {
            std::lock_guard<std::mutex> lock(mutex_);
            lines_.emplace_back(message);
        });
    }

    bool contains(const std::string& text) const {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& line : lines_)
            if (line.find(text) != std::string::npos) return true;
        return false;
    }

    std::string all() const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::string out;
        for (const auto& line : lines_) out += line + '\n';
        return out;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

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
