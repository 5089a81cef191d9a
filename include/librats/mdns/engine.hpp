#ifndef LIBRATS_MDNS_ENGINE_HPP
#define LIBRATS_MDNS_ENGINE_HPP

// Multicast DNS (RFC 6762) and DNS-SD (RFC 6763) for one interface and address family, without
// I/O. It advertises one service instance "<instance>.<service type>.local." (PTR, SRV, TXT and
// the host's A/AAAA records): it probes the names, renames on conflict, announces, answers
// queries and says goodbye. It browses for other instances of the service type, caches what it
// hears and reports each service as it resolves, changes and goes away.
//
// Packets go out through a send function (to the multicast endpoint of the family, or unicast to
// one querier) and come in through receive(); the caller passes the time to every call and calls
// tick() at next_deadline(). Randomness comes from the seed. Handlers run inside the call that
// causes them; they may call back into the engine.

#include <librats/mdns/dns.hpp>
#include <librats/mdns/error.hpp>

#include <asio/ip/address.hpp>
#include <asio/ip/udp.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

namespace librats::mdns {

inline constexpr std::uint16_t mdns_port = 5353;

// 224.0.0.251:5353 or [ff02::fb]:5353: where send() is asked to multicast.
inline asio::ip::udp::endpoint multicast_endpoint(bool ipv6) {
    return {ipv6 ? asio::ip::make_address("ff02::fb") : asio::ip::make_address("224.0.0.251"), mdns_port};
}

struct engine_options {
    bool ipv6 = false;
    std::string service_type = "_librats._tcp";  // under "local."
    // RFC 6762 §10: records holding a host name live 120 s, the others 75 minutes.
    std::uint32_t host_ttl = 120;
    std::uint32_t service_ttl = 4500;
    std::size_t max_services = 256;
    std::size_t max_cache_records = 2048;
    std::size_t max_packet_size = 1440;           // of queries we send with known answers
    std::size_t max_received_packet_size = 9000;  // RFC 6762 §17
    std::chrono::steady_clock::duration max_browse_interval = std::chrono::minutes(60);
};

// What advertise() publishes.
struct advertisement {
    std::string instance;  // the instance label, e.g. "librats 1a2b3c"; at most 63 bytes
    std::string host;      // the host label: "<host>.local."; pick one unique to this process
    std::uint16_t port = 0;
    std::vector<asio::ip::address> addresses;  // of the host on this interface, both families
    dns::txt_map txt;
    std::string peer_id;  // published as TXT "id=<peer_id>"
};

// A discovered instance, resolved: it has an SRV record and an address for its host.
struct service {
    dns::name instance;          // "<label>.<service type>.local."
    std::string instance_label;  // "<label>"
    dns::name host;
    std::uint16_t port = 0;
    std::vector<asio::ip::address> addresses;
    dns::txt_map txt;
    std::string peer_id;  // TXT "id", empty if absent

    friend bool operator==(const service& a, const service& b) {
        return a.instance == b.instance && a.host == b.host && a.port == b.port && a.addresses == b.addresses &&
               a.txt == b.txt;
    }
    friend bool operator!=(const service& a, const service& b) { return !(a == b); }
};

enum class service_event : std::uint8_t { resolved, updated, removed };

enum class advertising_state : std::uint8_t { idle, probing, announcing, announced };

struct engine_statistics {
    std::uint64_t packets_received = 0;
    std::uint64_t packets_sent = 0;
    std::uint64_t malformed_packets = 0;
    std::uint64_t ignored_packets = 0;  // wrong family, opcode or rcode, response from a port not 5353
    std::uint64_t queries_received = 0;
    std::uint64_t responses_received = 0;
    std::uint64_t probes_sent = 0;
    std::uint64_t announcements_sent = 0;
    std::uint64_t goodbyes_sent = 0;
    std::uint64_t responses_sent = 0;
    std::uint64_t queries_sent = 0;
    std::uint64_t known_answers_suppressed = 0;  // our answers left out: the querier knew them
    std::uint64_t known_answers_sent = 0;
    std::uint64_t rate_limited = 0;  // answers not multicast: the record went out less than 1 s ago
    std::uint64_t conflicts = 0;
    std::uint64_t renames = 0;
    std::uint64_t tie_breaks_lost = 0;
    std::uint64_t cache_full = 0;
};

class engine {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using send_function = std::function<void(const asio::ip::udp::endpoint&, std::string_view)>;
    using service_handler = std::function<void(service_event, const service&)>;

    // Throws std::system_error if options.service_type is not a valid name.
    engine(engine_options options, std::uint64_t seed, send_function send)
        : options_(std::move(options)), rng_(seed), send_(std::move(send)) {
        if (const auto ec = dns::name::parse(options_.service_type + ".local", service_type_name_))
            throw std::system_error(ec, "librats: mDNS service type");
        enumeration_name_ = dns::make_name("_services._dns-sd._udp.local");
    }

    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    const engine_statistics& statistics() const noexcept { return stats_; }
    advertising_state state() const noexcept { return state_; }
    // The names advertised now: they change when a conflict renames them.
    const dns::name& instance_name() const noexcept { return instance_name_; }
    const dns::name& host_name() const noexcept { return host_name_; }
    const std::string& instance_label() const noexcept { return instance_label_; }
    bool browsing() const noexcept { return static_cast<bool>(on_service_); }
    const std::map<dns::name, service>& services() const noexcept { return services_; }
    std::size_t cached_records() const noexcept { return cache_.size(); }

    // ---- operations

    // Starts probing for the names of `ad` (replacing an earlier advertisement, which says
    // goodbye first). Fails if a label or the TXT data cannot be encoded.
    std::error_code advertise(advertisement ad, time_point now) {
        dns::name instance, host;
        if (const auto ec = make_names(ad.instance, ad.host, instance, host)) return ec;
        if (!ad.peer_id.empty()) ad.txt["id"] = ad.peer_id;
        dns::txt_rdata txt;
        if (const auto ec = dns::make_txt(ad.txt, txt)) return ec;
        stop_advertising();
        ad_ = std::move(ad);
        instance_label_ = ad_.instance;
        host_label_ = ad_.host;
        txt_ = std::move(txt);
        build_records();
        start_probing(now, clock::duration::zero());
        return {};
    }

    // Says goodbye (TTL 0) if the records were announced, and stops answering for them.
    void stop_advertising() {
        if (state_ == advertising_state::announcing || state_ == advertising_state::announced) {
            dns::message m;
            m.flags = dns::flag_response | dns::flag_authoritative;
            for (const auto& o : records_) {
                m.answers.push_back(o.record);
                m.answers.back().ttl = 0;
            }
            ++stats_.goodbyes_sent;
            transmit(multicast_endpoint(options_.ipv6), m);
        }
        state_ = advertising_state::idle;
        records_.clear();
        instance_name_ = host_name_ = dns::name();
    }

    // Queries for the service type (again and again, 1 s, 2 s, 4 s … apart up to
    // max_browse_interval) and reports every instance that resolves, changes or goes away.
    void browse(service_handler on_service, time_point now) {
        on_service_ = std::move(on_service);
        browse_interval_ = std::chrono::seconds(1);
        browse_next_ = now + random_between(std::chrono::milliseconds(20), std::chrono::milliseconds(120));
    }

    // Forgets the cache and the services without reporting them removed.
    void stop_browsing() {
        on_service_ = nullptr;
        cache_.clear();
        services_.clear();
        resolves_.clear();
    }

    void stop() {
        stop_advertising();
        stop_browsing();
    }

    // ---- input

    void receive(const asio::ip::udp::endpoint& from, std::string_view packet, time_point now) {
        ++stats_.packets_received;
        if (from.address().is_v6() != options_.ipv6) return ignore();
        if (packet.size() > options_.max_received_packet_size || dns::decode(packet, in_)) {
            ++stats_.malformed_packets;
            return;
        }
        // RFC 6762 §18.3, §18.11: other opcodes and response codes are not mDNS.
        if ((in_.flags & 0x780f) != 0) return ignore();
        if (in_.is_response()) {
            // §11: a response not from port 5353 is not a multicast DNS response.
            if (from.port() != mdns_port) return ignore();
            on_response(now);
        } else {
            on_query(from, now);
        }
        if (services_dirty_) refresh_services(now);
    }

    // Probes, announcements, queries and cache expiry: call at next_deadline() (earlier or
    // later is harmless).
    void tick(time_point now) {
        if ((state_ == advertising_state::probing || state_ == advertising_state::announcing) && now >= advertise_next_)
            advance_advertising(now);
        if (browsing()) {
            if (now >= browse_next_) send_browse_query(now);
            send_due_resolves(now);
            expire_and_refresh(now);
        }
        if (services_dirty_) refresh_services(now);
    }

    // When tick() has something to do next; time_point::max() if nothing is scheduled.
    time_point next_deadline() const {
        auto at = time_point::max();
        if (state_ == advertising_state::probing || state_ == advertising_state::announcing) at = advertise_next_;
        if (!browsing()) return at;
        at = std::min(at, browse_next_);
        for (const auto& [instance, r] : resolves_) at = std::min(at, r.next);
        for (const auto& [key, e] : cache_) at = std::min({at, e.expires, refresh_due(e)});
        return at;
    }

private:
    static constexpr std::size_t probe_count = 3;
    static constexpr std::size_t announcement_count = 2;
    static constexpr std::size_t resolve_attempts = 3;
    static constexpr std::size_t refresh_count = 4;  // at 80, 85, 90 and 95 % of the TTL (§5.2)
    static constexpr clock::duration probe_interval = std::chrono::milliseconds(250);
    static constexpr clock::duration announce_interval = std::chrono::seconds(1);
    static constexpr clock::duration goodbye_delay = std::chrono::seconds(1);
    static constexpr std::uint32_t legacy_ttl = 10;  // §6.7

    struct owned_record {
        dns::resource_record record;  // unique records carry the cache-flush bit
        std::string rdata;            // canonical
        time_point last_multicast{};
        bool multicast = false;  // last_multicast is set
    };

    struct cache_key {
        dns::name owner;
        dns::rr_type type;
        std::string rdata;  // canonical
        friend bool operator<(const cache_key& a, const cache_key& b) {
            if (a.owner != b.owner) return a.owner < b.owner;
            if (a.type != b.type) return a.type < b.type;
            return a.rdata < b.rdata;
        }
    };

    struct cache_entry {
        dns::resource_record record;
        time_point received;
        time_point expires;
        std::size_t refreshes_sent = 0;
        int refresh_jitter = 0;  // in tenths of a percent of the TTL (§5.2: 0–2 %)
    };

    struct resolve_state {
        std::size_t attempts = 0;
        time_point next;
    };

    void ignore() { ++stats_.ignored_packets; }

    template <class Duration>
    clock::duration random_between(Duration lo, Duration hi) {
        const auto a = std::chrono::duration_cast<clock::duration>(lo).count();
        const auto b = std::chrono::duration_cast<clock::duration>(hi).count();
        return clock::duration(std::uniform_int_distribution<clock::rep>(a, b)(rng_));
    }

    // ---- advertising

    std::error_code make_names(std::string_view instance_label, std::string_view host_label, dns::name& instance,
                               dns::name& host) const {
        instance = service_type_name_;
        if (const auto ec = instance.prepend(instance_label)) return ec;
        host = dns::make_name("local");
        return host.prepend(host_label);
    }

    void build_records() {
        make_names(instance_label_, host_label_, instance_name_, host_name_);
        records_.clear();
        const auto add = [this](const dns::name& owner, dns::rr_type type, bool unique, std::uint32_t ttl,
                                dns::rdata data) {
            owned_record o;
            o.record = {owner, type, dns::class_in, unique, ttl, std::move(data)};
            o.rdata = dns::canonical_rdata(o.record.data);
            records_.push_back(std::move(o));
        };
        add(enumeration_name_, dns::rr_type::ptr, false, options_.service_ttl, dns::ptr_rdata{service_type_name_});
        add(service_type_name_, dns::rr_type::ptr, false, options_.service_ttl, dns::ptr_rdata{instance_name_});
        add(instance_name_, dns::rr_type::srv, true, options_.host_ttl, dns::srv_rdata{0, 0, ad_.port, host_name_});
        add(instance_name_, dns::rr_type::txt, true, options_.service_ttl, txt_);
        for (const auto& a : ad_.addresses) {
            if (a.is_v4()) add(host_name_, dns::rr_type::a, true, options_.host_ttl, a.to_v4());
            else add(host_name_, dns::rr_type::aaaa, true, options_.host_ttl, a.to_v6());
        }
    }

    void start_probing(time_point now, clock::duration extra_delay) {
        state_ = advertising_state::probing;
        steps_ = 0;
        // §8.1: the first probe waits 0–250 ms so that hosts starting together do not collide.
        advertise_next_ = now + extra_delay + random_between(clock::duration::zero(), probe_interval);
    }

    void advance_advertising(time_point now) {
        if (state_ == advertising_state::probing) {
            if (steps_ < probe_count) {
                send_probe();
                ++steps_;
                advertise_next_ = now + probe_interval;
                return;
            }
            state_ = advertising_state::announcing;
            steps_ = 0;
        }
        dns::message m;
        m.flags = dns::flag_response | dns::flag_authoritative;
        for (auto& o : records_) {
            m.answers.push_back(o.record);
            o.last_multicast = now;
            o.multicast = true;
        }
        ++stats_.announcements_sent;
        transmit(multicast_endpoint(options_.ipv6), m);
        if (++steps_ >= announcement_count) state_ = advertising_state::announced;
        else advertise_next_ = now + announce_interval;
    }

    // §8.1: "ANY" questions for the names we want, asking for unicast replies, with the records
    // we propose in the authority section for simultaneous probes to compare.
    void send_probe() {
        dns::message m;
        for (const auto* n : {&instance_name_, &host_name_}) m.questions.push_back({*n, dns::rr_type::any, dns::class_in, true});
        for (const auto& o : records_) {
            if (o.record.owner != instance_name_ && o.record.owner != host_name_) continue;
            m.authorities.push_back(o.record);
            m.authorities.back().cache_flush = false;
        }
        ++stats_.probes_sent;
        transmit(multicast_endpoint(options_.ipv6), m);
    }

    bool owns(const dns::resource_record& r, const std::string& rdata) const {
        for (const auto& o : records_)
            if (o.record.type == r.type && o.record.owner == r.owner && o.rdata == rdata) return true;
        return false;
    }

    bool owns_type(const dns::resource_record& r) const {
        for (const auto& o : records_)
            if (o.record.type == r.type && o.record.owner == r.owner) return true;
        return false;
    }

    // §8.2: simultaneous probes compare their authority records for the name; the
    // lexicographically later set wins and the other host probes again a second later.
    void break_ties(time_point now) {
        using entry = std::tuple<std::uint16_t, std::uint16_t, std::string>;
        for (const auto* n : {&instance_name_, &host_name_}) {
            std::vector<entry> theirs, ours;
            for (const auto& r : in_.authorities)
                if (r.owner == *n) theirs.emplace_back(r.rrclass, static_cast<std::uint16_t>(r.type), dns::canonical_rdata(r.data));
            if (theirs.empty()) continue;
            for (const auto& o : records_)
                if (o.record.owner == *n)
                    ours.emplace_back(o.record.rrclass, static_cast<std::uint16_t>(o.record.type), o.rdata);
            std::sort(theirs.begin(), theirs.end());
            std::sort(ours.begin(), ours.end());
            if (ours < theirs) {
                ++stats_.tie_breaks_lost;
                return start_probing(now, std::chrono::seconds(1));
            }
        }
    }

    // §9: a name someone else holds with other data. While probing the name is renamed; once
    // announced the host probes again, which renames it if the other host still defends it.
    void check_conflicts(time_point now) {
        bool instance = false, host = false;
        for (const auto* section : {&in_.answers, &in_.additionals}) {
            for (const auto& r : *section) {
                if (r.ttl == 0) continue;
                const bool ours_instance = r.owner == instance_name_, ours_host = r.owner == host_name_;
                if (!ours_instance && !ours_host) continue;
                if (state_ != advertising_state::probing && !owns_type(r)) continue;
                if (owns(r, dns::canonical_rdata(r.data))) continue;
                instance = instance || ours_instance;
                host = host || ours_host;
            }
        }
        if (!instance && !host) return;
        ++stats_.conflicts;
        if (state_ != advertising_state::probing) return start_probing(now, clock::duration::zero());
        // §9: after 15 conflicts within 10 s, wait 5 s before probing again.
        if (now - conflict_window_start_ > std::chrono::seconds(10)) {
            conflict_window_start_ = now;
            conflicts_in_window_ = 0;
        }
        const bool too_many = ++conflicts_in_window_ >= 15;
        if (instance) instance_label_ = renamed_instance(instance_label_);
        if (host) host_label_ = renamed_host(host_label_);
        ++stats_.renames;
        build_records();
        start_probing(now, too_many ? std::chrono::seconds(5) : clock::duration::zero());
    }

    // "name" → "name (2)" → "name (3)" (§9); the base is cut to keep the label within 63 bytes.
    static std::string renamed_instance(const std::string& label) {
        std::string base = label;
        unsigned long n = 1;
        const auto open = label.rfind(" (");
        if (open != std::string::npos && label.size() > open + 3 && label.back() == ')') {
            const auto digits = label.substr(open + 2, label.size() - open - 3);
            if (digits.size() <= 6 && std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
                n = std::stoul(digits);
                base = label.substr(0, open);
            }
        }
        const std::string suffix = " (" + std::to_string(n + 1) + ")";
        truncate_utf8(base, dns::max_label_size - suffix.size());
        return base + suffix;
    }

    // "host" → "host-2" → "host-3".
    static std::string renamed_host(const std::string& label) {
        std::string base = label;
        unsigned long n = 1;
        const auto dash = label.rfind('-');
        if (dash != std::string::npos && dash + 1 < label.size() && label.size() - dash - 1 <= 6 &&
            std::all_of(label.begin() + static_cast<std::ptrdiff_t>(dash) + 1, label.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            n = std::stoul(label.substr(dash + 1));
            base = label.substr(0, dash);
        }
        const std::string suffix = "-" + std::to_string(n + 1);
        truncate_utf8(base, dns::max_label_size - suffix.size());
        return base + suffix;
    }

    // Instance labels are UTF-8 (RFC 6763 §4.1.1): a cut never splits a character.
    static void truncate_utf8(std::string& s, std::size_t size) {
        if (s.size() <= size) return;
        while (size > 0 && (static_cast<unsigned char>(s[size]) & 0xc0) == 0x80) --size;
        s.resize(size);
    }

    // ---- answering

    static bool answers(const owned_record& o, const dns::question& q) {
        return (q.type == dns::rr_type::any || q.type == o.record.type) &&
               (q.qclass == dns::class_in || q.qclass == dns::class_any) && o.record.owner == q.qname;
    }

    // §7.1: the querier listed the record with at least half its TTL left.
    bool known(const owned_record& o, const std::vector<std::string>& known_rdata) const {
        for (std::size_t i = 0; i < in_.answers.size(); ++i) {
            const auto& k = in_.answers[i];
            if (k.type == o.record.type && k.ttl >= o.record.ttl / 2 && known_rdata[i] == o.rdata && k.owner == o.record.owner)
                return true;
        }
        return false;
    }

    void on_query(const asio::ip::udp::endpoint& from, time_point now) {
        ++stats_.queries_received;
        if (state_ == advertising_state::probing) break_ties(now);
        if (state_ != advertising_state::announcing && state_ != advertising_state::announced) return;

        std::vector<std::string> known_rdata;
        for (const auto& k : in_.answers) known_rdata.push_back(dns::canonical_rdata(k.data));
        // §6.7: a query from a port other than 5353 comes from a simple resolver: it gets a
        // unicast reply in the conventional form.
        const bool legacy = from.port() != mdns_port;
        std::vector<std::size_t> multicast, unicast;
        const auto add = [](std::vector<std::size_t>& to, std::size_t i) {
            if (std::find(to.begin(), to.end(), i) == to.end()) to.push_back(i);
        };
        for (const auto& q : in_.questions) {
            // A probe (questions with proposed records) may be defended every 250 ms (§6).
            const bool probe = std::any_of(in_.authorities.begin(), in_.authorities.end(),
                                           [&](const dns::resource_record& r) { return r.owner == q.qname; });
            for (std::size_t i = 0; i < records_.size(); ++i) {
                const auto& o = records_[i];
                if (!answers(o, q)) continue;
                if (known(o, known_rdata)) {
                    ++stats_.known_answers_suppressed;
                    continue;
                }
                if (legacy || q.unicast_response) {
                    add(unicast, i);
                    continue;
                }
                if (o.multicast && now - o.last_multicast < (probe ? probe_interval : std::chrono::seconds(1))) {
                    ++stats_.rate_limited;
                    continue;
                }
                add(multicast, i);
            }
        }
        if (!multicast.empty()) respond(multicast_endpoint(options_.ipv6), multicast, known_rdata, false, now);
        if (!unicast.empty()) respond(from, unicast, known_rdata, legacy, now);
    }

    void respond(const asio::ip::udp::endpoint& to, const std::vector<std::size_t>& answer_indices,
                 const std::vector<std::string>& known_rdata, bool legacy, time_point now) {
        dns::message m;
        m.flags = dns::flag_response | dns::flag_authoritative;
        if (legacy) {
            m.id = in_.id;
            m.questions = in_.questions;
            for (auto& q : m.questions) q.unicast_response = false;
        }
        // RFC 6763 §12: a PTR to our instance brings its SRV, TXT and addresses; an SRV brings
        // the addresses.
        std::vector<std::size_t> additional;
        const auto wants = [&](const owned_record& o, std::size_t i) {
            if (std::find(answer_indices.begin(), answer_indices.end(), i) != answer_indices.end()) return;
            if (std::find(additional.begin(), additional.end(), i) != additional.end()) return;
            if (!known(o, known_rdata)) additional.push_back(i);
        };
        for (const auto i : answer_indices) {
            const auto& r = records_[i].record;
            const bool our_ptr = r.type == dns::rr_type::ptr && r.owner == service_type_name_;
            for (std::size_t j = 0; j < records_.size(); ++j) {
                const auto& o = records_[j];
                const bool address = o.record.type == dns::rr_type::a || o.record.type == dns::rr_type::aaaa;
                if ((our_ptr && o.record.owner == instance_name_) || ((our_ptr || r.type == dns::rr_type::srv) && address))
                    wants(o, j);
            }
        }
        const auto append = [&](std::vector<dns::resource_record>& section, std::size_t i) {
            auto& o = records_[i];
            section.push_back(o.record);
            if (legacy) {
                section.back().ttl = std::min(section.back().ttl, legacy_ttl);
                section.back().cache_flush = false;
            } else if (to.address().is_multicast()) {
                o.last_multicast = now;
                o.multicast = true;
            }
        };
        for (const auto i : answer_indices) append(m.answers, i);
        for (const auto i : additional) append(m.additionals, i);
        ++stats_.responses_sent;
        transmit(to, m);
    }

    // ---- browsing

    void on_response(time_point now) {
        ++stats_.responses_received;
        if (state_ != advertising_state::idle) check_conflicts(now);
        if (!browsing()) return;
        // Addresses are kept for hosts named by an SRV record, in this packet or in the cache.
        std::set<dns::name> hosts;
        for (const auto& [key, e] : cache_)
            if (const auto* srv = std::get_if<dns::srv_rdata>(&e.record.data)) hosts.insert(srv->target);
        for (const auto* section : {&in_.answers, &in_.additionals})
            for (const auto& r : *section)
                if (const auto* srv = std::get_if<dns::srv_rdata>(&r.data); srv && relevant(r)) hosts.insert(srv->target);
        for (const auto* section : {&in_.answers, &in_.additionals}) {
            for (const auto& r : *section) {
                const bool address = r.type == dns::rr_type::a || r.type == dns::rr_type::aaaa;
                if (address ? hosts.count(r.owner) && r.owner != host_name_ : relevant(r)) cache(r, now);
            }
        }
    }

    // PTR records of the service type, SRV and TXT records of its instances; not our own.
    bool relevant(const dns::resource_record& r) const {
        if (r.rrclass != dns::class_in) return false;
        if (r.type == dns::rr_type::ptr) {
            const auto* ptr = std::get_if<dns::ptr_rdata>(&r.data);
            return ptr && r.owner == service_type_name_ && ptr->target.parent() == service_type_name_ &&
                   ptr->target != instance_name_;
        }
        if (r.type == dns::rr_type::srv || r.type == dns::rr_type::txt)
            return r.owner.parent() == service_type_name_ && r.owner != instance_name_;
        return false;
    }

    void cache(const dns::resource_record& r, time_point now) {
        cache_key key{r.owner, r.type, dns::canonical_rdata(r.data)};
        const auto it = cache_.find(key);
        if (r.ttl == 0) {
            // §10.1: a goodbye; the record goes one second later.
            if (it != cache_.end()) {
                it->second.expires = std::min(it->second.expires, now + goodbye_delay);
                it->second.refreshes_sent = refresh_count;
            }
            return;
        }
        if (r.cache_flush) {
            // §10.2: other data for this name and type, older than a second, goes a second later.
            for (auto f = cache_.lower_bound(cache_key{r.owner, r.type, {}});
                 f != cache_.end() && f->first.owner == r.owner && f->first.type == r.type; ++f) {
                if (f->first.rdata == key.rdata || now - f->second.received <= std::chrono::seconds(1)) continue;
                f->second.expires = std::min(f->second.expires, now + goodbye_delay);
                f->second.refreshes_sent = refresh_count;
            }
        }
        const auto expires = now + std::chrono::seconds(r.ttl);
        if (it != cache_.end()) {
            it->second.record = r;
            it->second.received = now;
            it->second.expires = expires;
            it->second.refreshes_sent = 0;
            return;
        }
        if (cache_.size() >= options_.max_cache_records) {
            ++stats_.cache_full;
            return;
        }
        const int jitter = std::uniform_int_distribution<int>(0, 20)(rng_);
        cache_.emplace(std::move(key), cache_entry{r, now, expires, 0, jitter});
        services_dirty_ = true;
    }

    time_point refresh_due(const cache_entry& e) const {
        if (e.refreshes_sent >= refresh_count) return time_point::max();
        const auto per_mille = 800 + 50 * static_cast<int>(e.refreshes_sent) + e.refresh_jitter;
        return e.received + std::chrono::milliseconds(std::int64_t{e.record.ttl} * per_mille);
    }

    void expire_and_refresh(time_point now) {
        std::vector<dns::question> questions;
        for (auto it = cache_.begin(); it != cache_.end();) {
            auto& e = it->second;
            if (now >= e.expires) {
                it = cache_.erase(it);
                services_dirty_ = true;
                continue;
            }
            if (now >= refresh_due(e)) {
                // Skip the later stages already passed: one query per call.
                while (e.refreshes_sent < refresh_count && now >= refresh_due(e)) ++e.refreshes_sent;
                dns::question q{e.record.owner, e.record.type, dns::class_in, false};
                const bool seen = std::any_of(questions.begin(), questions.end(),
                                              [&](const dns::question& x) { return x.type == q.type && x.qname == q.qname; });
                if (!seen) questions.push_back(std::move(q));
            }
            ++it;
        }
        if (!questions.empty()) send_query(std::move(questions), {});
    }

    // The PTR query; known answers are our cached PTRs with more than half their TTL left (§7.1),
    // as many as fit the packet size.
    void send_browse_query(time_point now) {
        std::vector<dns::resource_record> known_answers;
        std::size_t size = dns::header_size + service_type_name_.wire().size() + 4;
        for (auto it = cache_.lower_bound(cache_key{service_type_name_, dns::rr_type::ptr, {}});
             it != cache_.end() && it->first.owner == service_type_name_ && it->first.type == dns::rr_type::ptr; ++it) {
            const auto& e = it->second;
            const auto left = std::chrono::duration_cast<std::chrono::seconds>(e.expires - now).count();
            if (left <= 0 || static_cast<std::uint64_t>(left) * 2 <= e.record.ttl) continue;
            // A compressed owner, the fixed fields and at most the whole target name.
            const auto record_size = 2 + 10 + std::get<dns::ptr_rdata>(e.record.data).target.wire().size();
            if (size + record_size > options_.max_packet_size) break;
            size += record_size;
            known_answers.push_back(e.record);
            known_answers.back().ttl = static_cast<std::uint32_t>(left);
            known_answers.back().cache_flush = false;
        }
        stats_.known_answers_sent += known_answers.size();
        send_query({{service_type_name_, dns::rr_type::ptr, dns::class_in, false}}, std::move(known_answers));
        // §5.2: intervals double from one second up to the maximum.
        browse_next_ = now + browse_interval_;
        browse_interval_ = std::min(browse_interval_ * 2, options_.max_browse_interval);
    }

    void send_due_resolves(time_point now) {
        std::vector<dns::question> questions;
        for (auto& [instance, r] : resolves_) {
            if (now < r.next) continue;
            questions.push_back({instance, dns::rr_type::srv, dns::class_in, false});
            questions.push_back({instance, dns::rr_type::txt, dns::class_in, false});
            for (auto it = cache_.lower_bound(cache_key{instance, dns::rr_type::srv, {}});
                 it != cache_.end() && it->first.owner == instance && it->first.type == dns::rr_type::srv; ++it) {
                const auto& host = std::get<dns::srv_rdata>(it->second.record.data).target;
                questions.push_back({host, dns::rr_type::a, dns::class_in, false});
                questions.push_back({host, dns::rr_type::aaaa, dns::class_in, false});
            }
            r.next = ++r.attempts >= resolve_attempts ? time_point::max() : now + std::chrono::seconds(1 << r.attempts);
        }
        if (!questions.empty()) send_query(std::move(questions), {});
    }

    void send_query(std::vector<dns::question> questions, std::vector<dns::resource_record> known_answers) {
        dns::message m;
        m.questions = std::move(questions);
        m.answers = std::move(known_answers);
        ++stats_.queries_sent;
        transmit(multicast_endpoint(options_.ipv6), m);
    }

    // Rebuilds the services from the cache and reports the differences.
    void refresh_services(time_point now) {
        services_dirty_ = false;
        std::map<dns::name, service> fresh;
        std::set<dns::name> unresolved;
        const auto each = [this](const dns::name& owner, dns::rr_type type, auto&& fn) {
            for (auto it = cache_.lower_bound(cache_key{owner, type, {}});
                 it != cache_.end() && it->first.owner == owner && it->first.type == type; ++it)
                fn(it->second.record);
        };
        each(service_type_name_, dns::rr_type::ptr, [&](const dns::resource_record& ptr) {
            if (fresh.size() + unresolved.size() >= options_.max_services) return;
            service s;
            s.instance = std::get<dns::ptr_rdata>(ptr.data).target;
            s.instance_label = std::string(s.instance.first_label());
            bool has_srv = false;
            each(s.instance, dns::rr_type::srv, [&](const dns::resource_record& r) {
                if (has_srv) return;
                has_srv = true;
                const auto& srv = std::get<dns::srv_rdata>(r.data);
                s.host = srv.target;
                s.port = srv.port;
            });
            each(s.instance, dns::rr_type::txt, [&](const dns::resource_record& r) {
                if (s.txt.empty()) s.txt = dns::parse_txt(std::get<dns::txt_rdata>(r.data));
            });
            if (has_srv) {
                for (const auto type : {dns::rr_type::a, dns::rr_type::aaaa}) {
                    each(s.host, type, [&](const dns::resource_record& r) {
                        if (const auto* v4 = std::get_if<asio::ip::address_v4>(&r.data)) s.addresses.emplace_back(*v4);
                        else if (const auto* v6 = std::get_if<asio::ip::address_v6>(&r.data)) s.addresses.emplace_back(*v6);
                    });
                }
            }
            if (!has_srv || s.addresses.empty()) {
                unresolved.insert(s.instance);
                return;
            }
            if (const auto id = s.txt.find("id"); id != s.txt.end()) s.peer_id = id->second;
            fresh.emplace(s.instance, std::move(s));
        });

        for (auto it = resolves_.begin(); it != resolves_.end();)
            it = unresolved.count(it->first) ? std::next(it) : resolves_.erase(it);
        for (const auto& instance : unresolved) resolves_.emplace(instance, resolve_state{0, now});

        std::vector<std::pair<service_event, service>> events;
        for (const auto& [instance, old] : services_)
            if (!fresh.count(instance)) events.emplace_back(service_event::removed, old);
        for (const auto& [instance, s] : fresh) {
            const auto old = services_.find(instance);
            if (old == services_.end()) events.emplace_back(service_event::resolved, s);
            else if (old->second != s) events.emplace_back(service_event::updated, s);
        }
        services_ = std::move(fresh);
        const auto handler = on_service_;
        for (const auto& [event, s] : events)
            if (handler) handler(event, s);
    }

    // ---- sending

    void transmit(const asio::ip::udp::endpoint& to, const dns::message& m) {
        if (dns::encode(m, out_)) return;
        ++stats_.packets_sent;
        send_(to, out_);
    }

    engine_options options_;
    std::mt19937_64 rng_;
    send_function send_;
    engine_statistics stats_;
    dns::name service_type_name_;
    dns::name enumeration_name_;

    // Advertising.
    advertisement ad_;
    std::string instance_label_;
    std::string host_label_;
    dns::txt_rdata txt_;
    dns::name instance_name_;
    dns::name host_name_;
    std::vector<owned_record> records_;
    advertising_state state_ = advertising_state::idle;
    std::size_t steps_ = 0;  // probes or announcements sent in the current state
    time_point advertise_next_{};
    time_point conflict_window_start_{};
    std::size_t conflicts_in_window_ = 0;

    // Browsing.
    service_handler on_service_;
    time_point browse_next_{};
    clock::duration browse_interval_ = std::chrono::seconds(1);
    std::map<cache_key, cache_entry> cache_;
    std::map<dns::name, resolve_state> resolves_;
    std::map<dns::name, service> services_;
    bool services_dirty_ = false;

    dns::message in_;
    std::string out_;
};

}  // namespace librats::mdns

#endif
