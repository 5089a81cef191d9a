#ifndef LIBRATS_PERSISTENCE_DATA_DIRECTORY_HPP
#define LIBRATS_PERSISTENCE_DATA_DIRECTORY_HPP

// What a client keeps between runs, one file per concern in its data directory:
//   identity.key  the Noise static private key, 64 hex digits; mode 0600, never replaced
//   config.json   listen port, settings, protocol and our peer ID (informative)
//   peers.json    peers we were connected to: address, peer ID, last seen, failures
//   dht.json      good nodes of the DHT routing table, for a fast rejoin
// Every write is atomic (atomic_file.hpp). A file that cannot be read as what it should be is
// reported with its name and moved aside (`<name>.corrupt-<time>`), never overwritten, and the
// caller goes on with defaults; a key file with the wrong mode or content is refused as it is.

#include <librats/persistence/atomic_file.hpp>

#include <asio/ip/address.hpp>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace librats::persistence {

inline constexpr const char* identity_file = "identity.key";
inline constexpr const char* config_file = "config.json";
inline constexpr const char* peers_file = "peers.json";
inline constexpr const char* dht_file = "dht.json";
inline constexpr std::size_t max_file_size = 4 * 1024 * 1024;
inline constexpr std::size_t max_historical_peers = 1000;

struct saved_config {
    std::optional<std::uint16_t> listen_port;
    std::optional<std::size_t> max_peers;
    std::optional<bool> encryption_enabled;
    std::string peer_id;
};

struct historical_peer {
    std::string ip;
    std::uint16_t port = 0;  // the peer's listen port
    std::string peer_id;
    std::int64_t last_seen = 0;  // unix seconds
    int failures = 0;            // reconnection attempts that failed since last_seen
};

struct saved_node {
    std::string id_hex;  // 40 hex digits
    std::string ip;
    std::uint16_t port = 0;
};

// The result of a load: loaded, missing (first run), or a problem: then `problem` names the file
// and what is wrong with it, and for a corrupt file where it was moved.
struct load_result {
    enum class status { loaded, missing, corrupt, refused } outcome = status::missing;
    std::string problem;
    bool ok() const noexcept { return outcome == status::loaded || outcome == status::missing; }
};

class data_directory {
public:
    explicit data_directory(std::filesystem::path directory) : directory_(std::move(directory)) {}

    const std::filesystem::path& path() const noexcept { return directory_; }
    std::filesystem::path file(const char* name) const { return directory_ / name; }

    std::error_code create() const {
        std::error_code ec;
        std::filesystem::create_directories(directory_, ec);
        return ec;
    }

    // ---- identity

    load_result load_identity(std::string& key_hex) const {
        const auto path = file(identity_file);
        struct stat info {};
        if (::stat(path.c_str(), &info) != 0) {
            if (errno == ENOENT) return {};
            return refused(path, std::error_code(errno, std::generic_category()).message());
        }
        if ((info.st_mode & 0077) != 0)
            return refused(path, "its mode is " + octal(info.st_mode & 0777) + "; a private key must be 0600 (chmod 600 " +
                                     path.string() + ")");
        std::string text;
        if (const auto ec = read_file(path, text, 1024)) return refused(path, ec.message());
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
        if (text.size() != 64 || text.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
            return refused(path, "it does not hold 64 hex digits (" + std::to_string(text.size()) + " characters)");
        key_hex = std::move(text);
        return {load_result::status::loaded, {}};
    }

    std::error_code save_identity(const std::string& key_hex) const {
        if (const auto ec = create()) return ec;
        return write_file_atomically(file(identity_file), key_hex + '\n', 0600);
    }

    // ---- config.json

    load_result load_config(saved_config& out) const {
        return load_json(config_file, [&out](const nlohmann::json& j) {
            saved_config c;
            if (!j.is_object()) return false;
            if (j.contains("listen_port")) {
                if (!j["listen_port"].is_number_unsigned() || j["listen_port"].get<std::uint64_t>() > 65535) return false;
                c.listen_port = j["listen_port"].get<std::uint16_t>();
            }
            if (j.contains("max_peers")) {
                if (!j["max_peers"].is_number_unsigned()) return false;
                c.max_peers = j["max_peers"].get<std::size_t>();
            }
            if (j.contains("encryption_enabled")) {
                if (!j["encryption_enabled"].is_boolean()) return false;
                c.encryption_enabled = j["encryption_enabled"].get<bool>();
            }
            if (j.contains("peer_id")) {
                if (!j["peer_id"].is_string()) return false;
                c.peer_id = j["peer_id"].get<std::string>();
            }
            out = std::move(c);
            return true;
        });
    }

    std::error_code save_config(const saved_config& c, const std::string& protocol, const std::string& version) const {
        nlohmann::json j = {{"protocol", protocol}, {"version", version}, {"peer_id", c.peer_id}};
        if (c.listen_port) j["listen_port"] = *c.listen_port;
        if (c.max_peers) j["max_peers"] = *c.max_peers;
        if (c.encryption_enabled) j["encryption_enabled"] = *c.encryption_enabled;
        return save_json(config_file, j);
    }

    // ---- peers.json

    load_result load_peers(std::vector<historical_peer>& out) const {
        return load_json(peers_file, [&out](const nlohmann::json& j) {
            if (!j.is_object() || !j.contains("peers") || !j["peers"].is_array()) return false;
            std::vector<historical_peer> peers;
            for (const auto& p : j["peers"]) {
                if (!p.is_object() || !p.contains("ip") || !p["ip"].is_string() || !p.contains("port") ||
                    !p["port"].is_number_unsigned() || p["port"].get<std::uint64_t>() > 65535)
                    return false;
                historical_peer h;
                h.ip = p["ip"].get<std::string>();
                if (!is_ip(h.ip)) return false;
                h.port = p["port"].get<std::uint16_t>();
                if (p.contains("peer_id") && p["peer_id"].is_string()) h.peer_id = p["peer_id"].get<std::string>();
                if (p.contains("last_seen") && p["last_seen"].is_number_integer()) h.last_seen = p["last_seen"].get<std::int64_t>();
                if (p.contains("failures") && p["failures"].is_number_integer()) h.failures = p["failures"].get<int>();
                if (peers.size() < max_historical_peers) peers.push_back(std::move(h));
            }
            out = std::move(peers);
            return true;
        });
    }

    std::error_code save_peers(const std::vector<historical_peer>& peers) const {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& p : peers)
            list.push_back({{"ip", p.ip}, {"port", p.port}, {"peer_id", p.peer_id}, {"last_seen", p.last_seen},
                            {"failures", p.failures}});
        return save_json(peers_file, {{"peers", list}});
    }

    // ---- dht.json

    load_result load_dht_nodes(std::vector<saved_node>& out) const {
        return load_json(dht_file, [&out](const nlohmann::json& j) {
            if (!j.is_object() || !j.contains("nodes") || !j["nodes"].is_array()) return false;
            std::vector<saved_node> nodes;
            for (const auto& n : j["nodes"]) {
                if (!n.is_object() || !n.contains("id") || !n["id"].is_string() || !n.contains("ip") ||
                    !n["ip"].is_string() || !n.contains("port") || !n["port"].is_number_unsigned() ||
                    n["port"].get<std::uint64_t>() > 65535)
                    return false;
                saved_node node{n["id"].get<std::string>(), n["ip"].get<std::string>(), n["port"].get<std::uint16_t>()};
                if (node.id_hex.size() != 40 || node.id_hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos ||
                    !is_ip(node.ip))
                    return false;
                nodes.push_back(std::move(node));
            }
            out = std::move(nodes);
            return true;
        });
    }

    std::error_code save_dht_nodes(const std::vector<saved_node>& nodes) const {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& n : nodes) list.push_back({{"id", n.id_hex}, {"ip", n.ip}, {"port", n.port}});
        return save_json(dht_file, {{"nodes", list}});
    }

private:
    static bool is_ip(const std::string& text) {
        std::error_code ec;
        asio::ip::make_address(text, ec);
        return !ec;
    }

    static std::string octal(unsigned mode) {
        std::string s;
        for (int shift = 6; shift >= 0; shift -= 3) s += static_cast<char>('0' + ((mode >> shift) & 7));
        return '0' + s;
    }

    static load_result refused(const std::filesystem::path& path, const std::string& why) {
        return {load_result::status::refused, path.string() + " refused: " + why};
    }

    // Reads `name` as JSON and hands it to `accept`, which returns false when the shape is wrong.
    template <class Accept>
    load_result load_json(const char* name, Accept&& accept) const {
        const auto path = file(name);
        remove_stale_temporaries(path);
        std::string text, why;
        if (const auto ec = read_file(path, text, max_file_size)) {
            if (ec == std::errc::no_such_file_or_directory) return {};
            if (ec != std::errc::file_too_large) return {load_result::status::refused, path.string() + ": " + ec.message()};
            why = "larger than " + std::to_string(max_file_size) + " bytes";
        }
        if (why.empty()) {
            const auto j = nlohmann::json::parse(text, nullptr, false);
            if (j.is_discarded()) why = "not valid JSON (truncated or corrupted)";
            else if (!accept(j)) why = "valid JSON of the wrong shape or types";
            else return {load_result::status::loaded, {}};
        }
        const auto aside = move_aside(path);
        return {load_result::status::corrupt,
                path.string() + " is " + why + "; " +
                    (aside.empty() ? std::string("it could not be moved aside") : "moved to " + aside.string()) +
                    ", defaults used"};
    }

    std::error_code save_json(const char* name, const nlohmann::json& j) const {
        if (const auto ec = create()) return ec;
        return write_file_atomically(file(name), j.dump(2) + '\n');
    }

    std::filesystem::path directory_;
};

}  // namespace librats::persistence

#endif
