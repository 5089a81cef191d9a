// librats_memory: the memory a basic_node<tcp_transport, plaintext> costs, then the same for
// basic_node<tcp_transport, noise_xx<>> (keys "noise_..."):
//
//   (a) idle: RSS (VmRSS) and heap in use (mallinfo2) of this process with one started node;
//   (b) per idle connection: a forked child opens 1,000 raw TCP connections to the node (the
//       "hub") on 127.0.0.1 and performs the handshake by hand on each (plaintext, or Noise XX
//       with librats' Noise states and a fresh static key), with a distinct peer ID; once the hub
//       lists 1,000 peers, the growth of the hub process's heap and RSS is divided by 1,000.
//
// Output: one "key: value" line per result, for scripts. Exit status 0 if every step worked
// (a missed target is only reported), non-zero otherwise.

#include "bench_support.hpp"

#include <librats/crypto/noise_xx.hpp>
#include <librats/crypto/plaintext.hpp>
#include <librats/detail/endian.hpp>
#include <librats/node.hpp>
#include <librats/transport/tcp.hpp>
#include <librats/wire/handshake.hpp>

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <string>
#include <vector>

namespace {

using namespace librats;
using namespace librats::bench;
using noise_suite = noise::botan_suite<noise::sha256>;

constexpr int connections = 1000;
constexpr std::size_t target_bytes_per_connection = 24 * 1024;

// ---- measurements

long rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    return -1;
}

struct heap_usage {
    std::size_t arena_in_use = 0;  // mallinfo2().uordblks: allocated from the malloc arenas
    std::size_t mmapped = 0;       // mallinfo2().hblkhd: large blocks malloc got from mmap
    std::size_t total() const { return arena_in_use + mmapped; }
};

heap_usage heap_in_use() {
    const auto info = mallinfo2();
    return {info.uordblks, info.hblkhd};
}

// ---- pipes between the hub and the child

bool write_all(int fd, const void* data, std::size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        const auto n = ::write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

bool read_all(int fd, void* data, std::size_t size) {
    auto* p = static_cast<char*>(data);
    while (size > 0) {
        const auto n = ::read(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// ---- the child: 1,000 hand-made plaintext peers on blocking sockets with 5 s timeouts

// One handshake message behind its 2-byte length (docs/PROTOCOL.md).
void append_unit(std::string& out, std::string_view body) {
    unsigned char length[2];
    detail::put_u16(length, static_cast<std::uint16_t>(body.size()));
    out.append(reinterpret_cast<const char*>(length), 2);
    out.append(body);
}

bool read_unit(int fd, std::string& body) {
    unsigned char length[2];
    if (!read_all(fd, length, 2)) return false;
    body.assign(detail::get_u16(length), '\0');
    return read_all(fd, body.data(), body.size());
}

int open_peer(std::uint16_t port, int index, bool encrypted) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    const std::uint8_t crypto_id = encrypted ? noise_xx<>::suite_wire_id : 0;
    const auto preamble = wire::make_preamble(crypto_id);
    wire::hello hello;
    char id[32];
    std::snprintf(id, sizeof id, "memory-bench-peer-%04d", index);
    hello.peer_id = id;
    hello.listen_port = 1;
    hello.agent = "librats-memory-bench";
    hello.nonce = static_cast<std::uint64_t>(index) + 1;
    std::string out(preamble.begin(), preamble.end());
    unsigned char reply[wire::preamble_size];
    std::string remote;
    bool ok = true;
    if (!encrypted) {
        // Preamble and hello; then the hub's preamble and hello.
        append_unit(out, wire::encode_hello(hello));
        ok = write_all(fd, out.data(), out.size()) && read_all(fd, reply, sizeof reply) && read_unit(fd, remote);
    } else {
        // Noise XX: an empty message 1, the hub's hello in message 2, ours in message 3.
        const auto s = noise_suite::generate_keypair();
        hello.peer_id = noise_xx<>::peer_id_from_public_key(s.pub);
        noise::handshake_state<noise_suite> handshake;
        std::string message;
        ok = !handshake.initialize(noise::patterns::XX, true, wire::handshake_prologue(crypto_id), &s) && !handshake.write_message({}, message);
        append_unit(out, message);
        ok = ok && write_all(fd, out.data(), out.size()) && read_all(fd, reply, sizeof reply) &&
             read_unit(fd, message) && !handshake.read_message(message, remote);
        message.clear();
        out.clear();
        ok = ok && !handshake.write_message(wire::encode_hello(hello), message);
        append_unit(out, message);
        ok = ok && write_all(fd, out.data(), out.size());
    }
    if (!ok || std::memcmp(reply, "RATS", 4) != 0 || reply[5] != crypto_id || reply[6] != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Reads the hub's port, connects, reports 'R' (ready) or 'E' (error) and then holds the
// connections until the hub closes the pipe or kills it (at most two minutes).
[[noreturn]] void child_main(int command_fd, int status_fd, bool encrypted) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    std::uint16_t port = 0;
    if (!read_all(command_fd, &port, sizeof port)) ::_exit(2);
    std::vector<int> fds;
    fds.reserve(connections);
    for (int i = 0; i < connections; ++i) {
        const int fd = open_peer(port, i, encrypted);
        if (fd < 0) {
            std::fprintf(stderr, "child: connection %d failed: %s\n", i, std::strerror(errno));
            write_all(status_fd, "E", 1);
            ::_exit(3);
        }
        fds.push_back(fd);
    }
    write_all(status_fd, "R", 1);
    pollfd wait_for_hub{command_fd, POLLIN, 0};
    ::poll(&wait_for_hub, 1, 120'000);
    ::_exit(0);
}

bool raise_fd_limit(rlim_t wanted) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
    if (limit.rlim_cur >= wanted) return true;
    limit.rlim_cur = std::min(wanted, limit.rlim_max);
    return ::setrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur >= wanted;
}

// One hub of type Node and its 1,000 peers; results printed with keys starting with `prefix`.
// Called when no other thread exists: the forked child is a plain single-threaded client.
template <class Node>
bool measure(const char* prefix, bool encrypted) {
    int command_pipe[2];
    int status_pipe[2];
    if (::pipe(command_pipe) != 0 || ::pipe(status_pipe) != 0) {
        std::perror("pipe");
        return false;
    }
    const pid_t child = ::fork();
    if (child < 0) {
        std::perror("fork");
        return false;
    }
    if (child == 0) {
        ::close(command_pipe[1]);
        ::close(status_pipe[0]);
        child_main(command_pipe[0], status_pipe[1], encrypted);
    }
    ::close(command_pipe[0]);
    ::close(status_pipe[1]);

    bool ok = true;
    const long process_rss = rss_kib();
    const auto process_heap = heap_in_use();
    {
        node_options options;
        options.bind_address = "127.0.0.1";
        options.max_peers = connections + 100;
        io_thread io;
        Node hub(io.executor(), options);
        std::error_code ec;
        hub.start(ec);
        if (ec) {
            std::fprintf(stderr, "hub: start failed: %s\n", ec.message().c_str());
            ::kill(child, SIGKILL);
            ::waitpid(child, nullptr, 0);
            return false;
        }
        std::this_thread::sleep_for(200ms);  // the node's start-up work on its strand

        // (a) idle
        const long idle_rss = rss_kib();
        const auto idle_heap = heap_in_use();
        std::printf("%sprocess_rss_kib_before_node: %ld\n", prefix, process_rss);
        std::printf("%sprocess_heap_bytes_before_node: %zu\n", prefix, process_heap.total());
        std::printf("%sidle_rss_kib: %ld\n", prefix, idle_rss);
        std::printf("%sidle_heap_bytes: %zu\n", prefix, idle_heap.arena_in_use);
        std::printf("%sidle_heap_mmap_bytes: %zu\n", prefix, idle_heap.mmapped);

        // (b) 1,000 idle connections
        const std::uint16_t port = hub.listen_port();
        const auto t0 = bench_clock::now();
        if (!write_all(command_pipe[1], &port, sizeof port)) {
            std::fprintf(stderr, "cannot reach the child\n");
            ok = false;
        }
        char status = 0;
        if (ok) {
            pollfd from_child{status_pipe[0], POLLIN, 0};
            if (::poll(&from_child, 1, 60'000) != 1 || !read_all(status_pipe[0], &status, 1) || status != 'R') {
                std::fprintf(stderr, "child failed to open %d connections (status '%c')\n", connections,
                             status ? status : '?');
                ok = false;
            }
        }
        if (ok) {
            const auto deadline = bench_clock::now() + 30s;
            while (hub.peer_count() < static_cast<std::size_t>(connections) && bench_clock::now() < deadline)
                std::this_thread::sleep_for(5ms);
            if (hub.peer_count() != static_cast<std::size_t>(connections)) {
                std::fprintf(stderr, "hub lists %zu peers, expected %d\n", hub.peer_count(), connections);
                ok = false;
            }
        }
        if (ok) {
            const auto setup_ms = std::chrono::duration<double, std::milli>(bench_clock::now() - t0).count();
            std::this_thread::sleep_for(300ms);  // let the strand finish its post-handshake work
            const long loaded_rss = rss_kib();
            const auto loaded_heap = heap_in_use();
            const double heap_per = (static_cast<double>(loaded_heap.total()) - static_cast<double>(idle_heap.total())) /
                                    connections;
            const double arena_per = (static_cast<double>(loaded_heap.arena_in_use) -
                                      static_cast<double>(idle_heap.arena_in_use)) / connections;
            const double rss_per = static_cast<double>(loaded_rss - idle_rss) * 1024.0 / connections;
            std::printf("%sconnections: %d\n", prefix, connections);
            std::printf("%sconnect_all_ms: %.1f\n", prefix, setup_ms);
            std::printf("%sloaded_rss_kib: %ld\n", prefix, loaded_rss);
            std::printf("%sloaded_heap_bytes: %zu\n", prefix, loaded_heap.arena_in_use);
            std::printf("%sloaded_heap_mmap_bytes: %zu\n", prefix, loaded_heap.mmapped);
            std::printf("%sper_conn_heap_bytes: %.0f\n", prefix, heap_per);
            std::printf("%sper_conn_heap_arena_bytes: %.0f\n", prefix, arena_per);
            std::printf("%sper_conn_rss_bytes: %.0f\n", prefix, rss_per);
            std::printf("%sper_conn_target_bytes: %zu\n", prefix, target_bytes_per_connection);
            std::printf("%sper_conn_heap_within_target: %s\n", prefix,
                        heap_per <= static_cast<double>(target_bytes_per_connection) ? "yes" : "no");
            std::printf("%sper_conn_rss_within_target: %s\n", prefix,
                        rss_per <= static_cast<double>(target_bytes_per_connection) ? "yes" : "no");
        }

        ::kill(child, SIGKILL);
        int child_status = 0;
        ::waitpid(child, &child_status, 0);
        ::close(command_pipe[1]);
        ::close(status_pipe[0]);

        auto stopped = hub.async_stop(asio::use_future);
        if (stopped.wait_for(10s) != std::future_status::ready) {
            std::fprintf(stderr, "hub did not stop within 10 s\n");
            ok = false;
        }
    }
    return ok;
}

}  // namespace

int main() {
    // Both processes hold ~1,000 descriptors; leave room.
    if (!raise_fd_limit(connections + 256)) {
        std::fprintf(stderr, "cannot raise RLIMIT_NOFILE to %d\n", connections + 256);
        return 1;
    }
    const bool ok = measure<basic_node<tcp_transport, plaintext>>("", false) &&
                    measure<basic_node<tcp_transport, noise_xx<>>>("noise_", true);
    std::printf("status: %s\n", ok ? "ok" : "failed");
    std::fflush(stdout);
    return ok ? 0 : 1;
}
