#ifndef LIBRATS_PERSISTENCE_ATOMIC_FILE_HPP
#define LIBRATS_PERSISTENCE_ATOMIC_FILE_HPP

// Files that are either the old version or the new one, whatever happens mid-write (a crash, a
// SIGKILL, a power cut): the content goes to a temporary file in the same directory, which is
// flushed to disk (fsync), renamed over the target (atomic on POSIX file systems), and then the
// directory itself is flushed so that the rename survives a power cut. POSIX calls: the
// standard library cannot fsync.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>

namespace librats::persistence {

namespace detail {

inline std::error_code last_error() { return {errno, std::generic_category()}; }

// Closes on scope exit.
class file_descriptor {
public:
    explicit file_descriptor(int fd) noexcept : fd_(fd) {}
    file_descriptor(const file_descriptor&) = delete;
    file_descriptor& operator=(const file_descriptor&) = delete;
    ~file_descriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const noexcept { return fd_; }
    std::error_code close() {
        const int fd = fd_;
        fd_ = -1;
        return ::close(fd) == 0 ? std::error_code{} : last_error();
    }

private:
    int fd_;
};

inline std::error_code write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const auto n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return last_error();
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

}  // namespace detail

// When `candidate` is a temporary file of `path` (left behind only by a crash;
// remove_stale_temporaries cleans up): the pid its name holds, 0 when it holds none.
inline std::optional<long> temporary_writer_pid(const std::filesystem::path& candidate,
                                                const std::filesystem::path& path) {
    const auto name = candidate.filename().string();
    const auto prefix = path.filename().string() + ".tmp-";
    if (name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    return std::atol(name.c_str() + prefix.size());
}

// Replaces `path` with `content` atomically; the file gets `mode` (e.g. 0600 for keys).
inline std::error_code write_file_atomically(const std::filesystem::path& path, std::string_view content,
                                             mode_t mode = 0644) {
    std::random_device entropy;
    const auto temporary = path.string() + ".tmp-" + std::to_string(::getpid()) + '-' + std::to_string(entropy());
    detail::file_descriptor file(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (file.get() < 0) return detail::last_error();
    std::error_code ec;
    if (::fchmod(file.get(), mode) != 0) ec = detail::last_error();  // the umask may have narrowed it
    if (!ec) ec = detail::write_all(file.get(), content);
    if (!ec && ::fsync(file.get()) != 0) ec = detail::last_error();
    if (const auto closed = file.close(); !ec) ec = closed;
    if (!ec && ::rename(temporary.c_str(), path.c_str()) != 0) ec = detail::last_error();
    if (ec) {
        ::unlink(temporary.c_str());
        return ec;
    }
    const auto directory = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    detail::file_descriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0) return detail::last_error();
    if (::fsync(dir.get()) != 0) return detail::last_error();
    return {};
}

// The whole file, refused when larger than max_size (a file is never trusted to be small).
inline std::error_code read_file(const std::filesystem::path& path, std::string& out, std::size_t max_size) {
    detail::file_descriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (file.get() < 0) return detail::last_error();
    struct stat info {};
    if (::fstat(file.get(), &info) != 0) return detail::last_error();
    if (static_cast<std::size_t>(info.st_size) > max_size) return std::make_error_code(std::errc::file_too_large);
    out.assign(static_cast<std::size_t>(info.st_size), '\0');
    std::size_t done = 0;
    while (done < out.size()) {
        const auto n = ::read(file.get(), out.data() + done, out.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return detail::last_error();
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    out.resize(done);
    return {};
}

// Temporary files a crash left next to `path`: those of processes that no longer run (the name
// holds the writer's pid). A save in progress, in this process or another, is left alone.
inline void remove_stale_temporaries(const std::filesystem::path& path) {
    std::error_code ec;
    const auto directory = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
        const auto writer = temporary_writer_pid(entry.path(), path);
        if (!writer) continue;
        const auto pid = *writer;
        if (pid > 0 && (pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) continue;
        std::filesystem::remove(entry.path(), ec);
    }
}

// Moves a file that cannot be read aside to `<name>.corrupt-<unix time>`, so nothing is lost and
// the next save does not overwrite it. Returns the new path (empty on failure).
inline std::filesystem::path move_aside(const std::filesystem::path& path) {
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    auto target = std::filesystem::path(path.string() + ".corrupt-" + std::to_string(seconds));
    for (int n = 1; std::filesystem::exists(target) && n < 100; ++n)
        target = std::filesystem::path(path.string() + ".corrupt-" + std::to_string(seconds) + '-' + std::to_string(n));
    std::error_code ec;
    std::filesystem::rename(path, target, ec);
    return ec ? std::filesystem::path() : target;
}

}  // namespace librats::persistence

#endif
