#ifndef LIBRATS_LOG_HPP
#define LIBRATS_LOG_HPP

#include <librats/detail/handler_slot.hpp>

#include <atomic>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>

namespace librats {

enum class log_level : int { trace, debug, info, warn, error, off };

inline const char* to_string(log_level level) noexcept {
    switch (level) {
    case log_level::trace: return "TRACE";
    case log_level::debug: return "DEBUG";
    case log_level::info: return "INFO";
    case log_level::warn: return "WARN";
    case log_level::error: return "ERROR";
    case log_level::off: return "OFF";
    }
    return "?";
}

// Per-node logger. The level check is one relaxed atomic load, and a message whose level is
// disabled is never formatted. The sink may be replaced from any thread.
class logger {
public:
    using sink_type = std::function<void(log_level, std::string_view component, std::string_view message)>;

    logger() = default;
    explicit logger(std::string component) : component_(std::move(component)) {}

    void set_level(log_level level) noexcept { level_.store(level, std::memory_order_relaxed); }
    log_level level() const noexcept { return level_.load(std::memory_order_relaxed); }
    bool enabled(log_level level) const noexcept { return level != log_level::off && level >= this->level(); }

    // An empty sink restores the default: one line per message on stderr.
    void set_sink(sink_type sink) { sink_.set(std::move(sink)); }

    template <class... Args>
    void log(log_level level, const Args&... args) const {
        if (!enabled(level)) return;
        std::ostringstream out;
        (out << ... << args);
        emit(level, out.str());
    }

    template <class... Args> void trace(const Args&... args) const { log(log_level::trace, args...); }
    template <class... Args> void debug(const Args&... args) const { log(log_level::debug, args...); }
    template <class... Args> void info(const Args&... args) const { log(log_level::info, args...); }
    template <class... Args> void warn(const Args&... args) const { log(log_level::warn, args...); }
    template <class... Args> void error(const Args&... args) const { log(log_level::error, args...); }

private:
    void emit(log_level level, const std::string& message) const {
        if (const auto sink = sink_.get()) {
            (*sink)(level, component_, message);
            return;
        }
        std::ostringstream line;
        line << "[librats] " << to_string(level) << ' ' << component_ << ": " << message << '\n';
        std::cerr << line.str();
    }

    std::string component_ = "node";
    std::atomic<log_level> level_{log_level::warn};
    detail::handler_slot<sink_type> sink_;
};

}  // namespace librats

#endif
