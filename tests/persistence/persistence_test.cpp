// Persistence: atomic writes (also under SIGKILL at random moments), corrupt and wrong-typed
// files moved aside with a clear error, refused key files left as they are, a restarted client
// that keeps its peer ID and reconnects, identity rotation, and the DHT routing table kept.

#include "support.hpp"

#include <librats/librats.hpp>
#include <librats/persistence/atomic_file.hpp>
#include <librats/persistence/data_directory.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace librats {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::wait_until;

// A fresh directory under the system's temporary directory, removed afterwards.
struct temp_dir {
    fs::path path;
    temp_dir() {
        std::random_device entropy;
        path = fs::temp_directory_path() / ("librats-test-" + std::to_string(::getpid()) + '-' + std::to_string(entropy()));
        fs::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_raw(const fs::path& p, const std::string& content) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

std::vector<fs::path> files_starting_with(const fs::path& dir, const std::string& prefix) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
    return out;
}

// Records what a client logs at error level.
struct error_log {
    std::mutex mutex;
    std::vector<std::string> lines;
    void attach(RatsClient& c) {
        c.set_log_sink([this](log_level level, std::string_view, std::string_view message) {
            if (level != log_level::error) return;
            std::lock_guard<std::mutex> lock(mutex);
            lines.emplace_back(message);
        });
    }
    bool mentions(const std::string& text) {
        std::lock_guard<std::mutex> lock(mutex);
        for (const auto& l : lines)
            if (l.find(text) != std::string::npos) return true;
        return false;
    }
};

TEST(PersistenceFiles, AtomicWriteReplacesTheWholeFileWithTheModeAsked) {
    temp_dir dir;
    const auto file = dir.path / "key";
    ASSERT_FALSE(persistence::write_file_atomically(file, "first", 0600));
    ASSERT_FALSE(persistence::write_file_atomically(file, "second, longer", 0600));
    EXPECT_EQ(read_all(file), "second, longer");
    struct stat info {};
    ASSERT_EQ(::stat(file.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    EXPECT_EQ(files_starting_with(dir.path, "key.tmp-").size(), 0u);
    // A temporary left by a crashed process is removed by the next load; one of a live process
    // (this one) is not.
    write_raw(dir.path / "peers.json.tmp-999999999-2", "half a fi");
    write_raw(dir.path / ("peers.json.tmp-" + std::to_string(::getpid()) + "-3"), "in progress");
    std::vector<persistence::historical_peer> peers;
    EXPECT_TRUE(persistence::data_directory(dir.path).load_peers(peers).ok());
    EXPECT_EQ(files_starting_with(dir.path, "peers.json.tmp-").size(), 1u);
    // An unwritable place fails with an error, not silently.
    EXPECT_TRUE(persistence::write_file_atomically(dir.path / "missing-dir" / "x", "y"));
}

// Each round starts a writer at generation round * 10^6, waits until it has saved at least once
// (so the kill lands while it saves in a loop, however slow the build), kills it 0-5 ms later,
// and checks that peers.json is one whole version.
TEST(PersistenceFiles, SigkillDuringSavesLeavesAWholeFile) {
    temp_dir dir;
    const auto peers_path = dir.path / persistence::peers_file;
    const auto load = [&](std::vector<persistence::historical_peer>& peers) {
        return persistence::data_directory(dir.path).load_peers(peers);
    };
    std::mt19937 rng(11);
    int kills = 0, rounds_with_a_save = 0;
    for (int round = 1; round <= 200; ++round) {
        const std::int64_t first = std::int64_t{round} * 1'000'000;
        pid_t child = 0;
        std::string directory = dir.path.string(), first_text = std::to_string(first);
        char* args[] = {const_cast<char*>(LIBRATS_PERSISTENCE_WRITER), directory.data(), first_text.data(), nullptr};
        ASSERT_EQ(posix_spawn(&child, LIBRATS_PERSISTENCE_WRITER, nullptr, nullptr, args, environ), 0);
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        for (std::vector<persistence::historical_peer> peers; std::chrono::steady_clock::now() < deadline;) {
            if (fs::exists(peers_path) && load(peers).ok() && !peers.empty() && peers.front().last_seen >= first) break;
            std::this_thread::sleep_for(200us);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 5000));
        ASSERT_EQ(::kill(child, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ++kills;
        std::vector<persistence::historical_peer> peers;
        const auto r = load(peers);
        ASSERT_EQ(r.outcome, persistence::load_result::status::loaded) << "round " << round << ": " << r.problem;
        ASSERT_FALSE(peers.empty());
        const auto generation = peers.front().last_seen;
        ASSERT_EQ(peers.size(), static_cast<std::size_t>(generation % 200 + 1)) << "round " << round;
        for (const auto& p : peers) ASSERT_EQ(p.last_seen, generation) << "round " << round;
        rounds_with_a_save += generation >= first;
    }
    EXPECT_EQ(kills, 200);
    EXPECT_EQ(rounds_with_a_save, 200);  // every kill hit a writer that was saving
}

TEST(PersistenceClient, CorruptTruncatedAndWrongTypedFilesAreMovedAsideWithAClearError) {
    for (const std::string content : {"{\"listen_port\": 80", "\x01\x02garbage", "{\"listen_port\": \"eighty\"}", "[1, 2]"}) {
        temp_dir dir;
        write_raw(dir.path / persistence::config_file, content);
        RatsClient client(0, 10, "127.0.0.1");
        error_log errors;
        errors.attach(client);
        ASSERT_TRUE(client.set_data_directory(dir.path.string()));
        EXPECT_FALSE(client.load_configuration()) << content;
        EXPECT_TRUE(errors.mentions((dir.path / persistence::config_file).string())) << content;
        const auto aside = files_starting_with(dir.path, "config.json.corrupt-");
        ASSERT_EQ(aside.size(), 1u) << content;
        EXPECT_EQ(read_all(aside[0]), content);  // nothing lost
        // The client runs on defaults, and its next save writes a good file.
        ASSERT_TRUE(client.start());
        client.stop();
        persistence::saved_config saved;
        EXPECT_EQ(persistence::data_directory(dir.path).load_config(saved).outcome, persistence::load_result::status::loaded);
        EXPECT_EQ(saved.peer_id, client.get_our_peer_id());
    }
}

TEST(PersistenceClient, KnownPeersAndDhtNodesWithBadAddressesAreMovedAside) {
    temp_dir dir;
    write_raw(dir.path / persistence::peers_file, R"({"peers": [{"ip": "not an address", "port": 1}]})");
    write_raw(dir.path / persistence::dht_file, R"({"nodes": [{"id": "xyz", "ip": "10.0.0.1", "port": 6881}]})");
    RatsClient client(0, 10, "127.0.0.1");
    error_log errors;
    errors.attach(client);
    ASSERT_TRUE(client.set_data_directory(dir.path.string()));
    EXPECT_FALSE(client.load_configuration());
    EXPECT_TRUE(errors.mentions((dir.path / persistence::peers_file).string()));
    EXPECT_TRUE(errors.mentions((dir.path / persistence::dht_file).string()));
    EXPECT_TRUE(client.get_historical_peers().empty());
    EXPECT_EQ(files_starting_with(dir.path, "peers.json.corrupt-").size(), 1u);
    EXPECT_EQ(files_starting_with(dir.path, "dht.json.corrupt-").size(), 1u);
}

TEST(PersistenceClient, AKeyFileWithTheWrongModeOrContentIsRefusedAndNeverReplaced) {
    const std::string key = std::string(64, 'a') + "\n";
    for (const auto& [content, mode] : std::vector<std::pair<std::string, mode_t>>{
             {key, 0644}, {std::string(63, 'a'), 0600}, {std::string(64, 'z'), 0600}}) {
        temp_dir dir;
        const auto path = dir.path / persistence::identity_file;
        write_raw(path, content);
        ::chmod(path.c_str(), mode);
        RatsClient client(0, 10, "127.0.0.1");
        error_log errors;
        errors.attach(client);
        ASSERT_TRUE(client.set_data_directory(dir.path.string()));
        EXPECT_FALSE(client.load_configuration());
        EXPECT_TRUE(errors.mentions(path.string() + " refused")) << content.size();
        EXPECT_NE(client.get_encryption_key(), std::string(64, 'a'));
        ASSERT_TRUE(client.start());
        client.stop();
        EXPECT_EQ(read_all(path), content);  // untouched, also by the save at stop()
        struct stat info {};
        ASSERT_EQ(::stat(path.c_str(), &info), 0);
        EXPECT_EQ(info.st_mode & 0777, mode);
    }
}

TEST(PersistenceClient, ARestartedClientKeepsItsPeerIdAndReconnectsToItsPeers) {
    temp_dir a_dir, b_dir;
    RatsClient b(0, 10, "127.0.0.1");
    ASSERT_TRUE(b.set_data_directory(b_dir.path.string()));
    ASSERT_TRUE(b.start());
    std::string a_id;
    {
        RatsClient a(0, 10, "127.0.0.1");
        ASSERT_TRUE(a.set_data_directory(a_dir.path.string()));
        ASSERT_TRUE(a.start());
        a_id = a.get_our_peer_id();
        ASSERT_TRUE(a.connect_to_peer("127.0.0.1", b.get_listen_port()));
        ASSERT_TRUE(wait_until([&] { return a.get_peer_count() == 1; }, 5s));
        // The key file is private.
        struct stat info {};
        ASSERT_EQ(::stat((a_dir.path / persistence::identity_file).c_str(), &info), 0);
        EXPECT_EQ(info.st_mode & 0777, 0600u);
    }  // stop(): saved
    ASSERT_TRUE(wait_until([&] { return b.get_peer_count() == 0; }, 5s));

    RatsClient again(0, 10, "127.0.0.1");
    ASSERT_TRUE(again.set_data_directory(a_dir.path.string()));
    ASSERT_TRUE(again.start());
    EXPECT_EQ(again.get_our_peer_id(), a_id);
    const auto known = again.get_historical_peers();
    ASSERT_EQ(known.size(), 1u);
    EXPECT_EQ(known[0].peer_id, b.get_our_peer_id());
    EXPECT_EQ(known[0].port, b.get_listen_port());
    EXPECT_EQ(again.load_and_reconnect_peers(), 1);
    EXPECT_TRUE(wait_until([&] { return again.get_peer_count() == 1 && b.get_peer_count() == 1; }, 5s));
    EXPECT_TRUE(b.get_peer_by_id(a_id).has_value());
    EXPECT_EQ(again.load_and_reconnect_peers(), 0);  // already connected

    again.clear_historical_peers();
    EXPECT_TRUE(again.get_historical_peers().empty());
    EXPECT_TRUE(again.load_historical_peers());
    EXPECT_TRUE(again.get_historical_peers().empty());
}

TEST(PersistenceClient, RotatingTheIdentityChangesThePeerIdAndReconnects) {
    temp_dir a_dir;
    RatsClient b(0, 10, "127.0.0.1");
    ASSERT_TRUE(b.start());
    RatsClient a(0, 10, "127.0.0.1");
    ASSERT_TRUE(a.set_data_directory(a_dir.path.string()));
    ASSERT_TRUE(a.start());
    const auto old_id = a.get_our_peer_id();
    ASSERT_TRUE(a.connect_to_peer("127.0.0.1", b.get_listen_port()));
    ASSERT_TRUE(wait_until([&] { return b.get_peer_count() == 1; }, 5s));
    const auto new_id = a.rotate_identity();
    EXPECT_NE(new_id, old_id);
    EXPECT_EQ(new_id, a.get_our_peer_id());
    EXPECT_TRUE(wait_until([&] { return b.get_peer_by_id(new_id).has_value(); }, 5s));
    EXPECT_FALSE(b.get_peer_by_id(old_id).has_value());
    std::string key_hex;
    ASSERT_EQ(persistence::data_directory(a_dir.path).load_identity(key_hex).outcome, persistence::load_result::status::loaded);
    EXPECT_EQ(key_hex, a.get_encryption_key());
}

TEST(PersistenceClient, TheDhtRoutingTableIsKeptForAFastRejoin) {
    temp_dir dir;
    RatsClient seed(0, 10, "127.0.0.1");
    dht_settings s;
    s.bind_address = "127.0.0.1";
    s.use_public_routers = false;
    s.discover_peers = false;
    seed.get_node().get<dht_discovery>().set_settings(s);
    ASSERT_TRUE(seed.start());
    ASSERT_TRUE(seed.start_dht_discovery(0));
    {
        RatsClient c(0, 10, "127.0.0.1");
        c.get_node().get<dht_discovery>().set_settings(s);
        ASSERT_TRUE(c.set_data_directory(dir.path.string()));
        c.add_dht_bootstrap_node("127.0.0.1", seed.get_node().get<dht_discovery>().port());
        ASSERT_TRUE(c.start());
        ASSERT_TRUE(c.start_dht_discovery(0));
        ASSERT_TRUE(wait_until([&] { return c.get_node().get<dht_discovery>().good_nodes().size() == 1; }, 10s));
    }
    std::vector<persistence::saved_node> nodes;
    ASSERT_EQ(persistence::data_directory(dir.path).load_dht_nodes(nodes).outcome, persistence::load_result::status::loaded);
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0].port, seed.get_node().get<dht_discovery>().port());

    // No bootstrap node this time: the saved one is enough.
    RatsClient rejoin(0, 10, "127.0.0.1");
    rejoin.get_node().get<dht_discovery>().set_settings(s);
    ASSERT_TRUE(rejoin.set_data_directory(dir.path.string()));
    ASSERT_TRUE(rejoin.start());
    ASSERT_TRUE(rejoin.start_dht_discovery(0));
    EXPECT_TRUE(wait_until([&] { return rejoin.get_dht_routing_table_size() >= 1; }, 10s));
}

TEST(PersistenceClient, WithoutADataDirectoryNoFileIsWritten) {
    temp_dir dir;
    const auto previous = fs::current_path();
    fs::current_path(dir.path);
    {
        RatsClient c(0, 10, "127.0.0.1");
        ASSERT_TRUE(c.start());
        c.stop();
    }
    fs::current_path(previous);
    EXPECT_TRUE(fs::is_empty(dir.path));
}

}  // namespace
}  // namespace librats
