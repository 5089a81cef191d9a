// The persistence files as read at start-up (persistence/data_directory.hpp): arbitrary bytes
// as identity.key, config.json, peers.json or dht.json (the first byte chooses), then loaded.
// A bad file must be reported and moved aside (or refused, for the key), never crash, and a
// loaded one must satisfy the limits the loader promises.

#include "fuzz_common.hpp"

#include <librats/persistence/data_directory.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace {

const std::filesystem::path& directory() {
    static const std::filesystem::path dir = [] {
        const std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
        auto d = base / ("librats-fuzz-persistence-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    librats_fuzz::reader in(data, size);
    const auto which = in.u8() % 4;
    const auto content = in.rest();
    namespace p = librats::persistence;
    const p::data_directory dir(directory());
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator(directory(), ignored))
        std::filesystem::remove(entry.path(), ignored);
    const char* names[] = {p::identity_file, p::config_file, p::peers_file, p::dht_file};
    const auto path = dir.file(names[which]);
    std::ofstream(path, std::ios::binary).write(content.data(), static_cast<std::streamsize>(content.size()));
    ::chmod(path.c_str(), 0600);

    p::load_result r;
    switch (which) {
    case 0: {
        std::string key;
        r = dir.load_identity(key);
        if (r.outcome == p::load_result::status::loaded) FUZZ_CHECK(key.size() == 64);
        break;
    }
    case 1: {
        p::saved_config c;
        r = dir.load_config(c);
        break;
    }
    case 2: {
        std::vector<p::historical_peer> peers;
        r = dir.load_peers(peers);
        FUZZ_CHECK(peers.size() <= p::max_historical_peers);
        break;
    }
    default: {
        std::vector<p::saved_node> nodes;
        r = dir.load_dht_nodes(nodes);
        break;
    }
    }
    // A file that is not what it should be is moved aside (its bytes kept), never left in place.
    if (r.outcome == p::load_result::status::corrupt) FUZZ_CHECK(!std::filesystem::exists(path));
    FUZZ_CHECK(r.ok() || !r.problem.empty());
    return 0;
}
