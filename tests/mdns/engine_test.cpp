// The mDNS engine on an in-memory link with virtual time: probing and announcing, discovery of
// each other's service (SRV port, TXT, addresses), conflicts and renaming, simultaneous probes,
// known-answer suppression, goodbyes, TTL expiry, the per-record rate limit, unicast and legacy
// replies, bounded caches, and hostile packets. No sockets: every packet is a string in a queue.

#include <librats/mdns/dns.hpp>
#include <librats/mdns/engine.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace librats::mdns {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using udp_endpoint = asio::ip::udp::endpoint;
using time_point = engine::time_point;

const time_point t0 = time_point{} + 24h;

// A link that delivers multicast packets to every attached engine, the sender included (as
// IP_MULTICAST_LOOP does), and unicast packets to the engine at that address.
class link {
public:
    struct packet {
        udp_endpoint from;
        udp_endpoint to;
        std::string data;
        time_point at;
    };

    struct member {
        udp_endpoint endpoint;
        std::unique_ptr<engine> mdns;
        bool attached = true;
        std::vector<std::pair<service_event, service>> events;

        std::size_t count(service_event e) const {
            std::size_t n = 0;
            for (const auto& [event, s] : events) n += event == e;
            return n;
        }
    };

    member& add(const char* address, engine_options o = {}) {
        auto m = std::make_unique<member>();
        m->endpoint = udp_endpoint(asio::ip::make_address(address), mdns_port);
        auto* self = m.get();
        m->mdns = std::make_unique<engine>(o, members_.size() + 1, [this, self](const udp_endpoint& to, std::string_view p) {
            if (self->attached) queue_.push_back({self->endpoint, to, std::string(p), now});
        });
        members_.push_back(std::move(m));
        return *members_.back();
    }

    static advertisement ad(const char* instance, const char* host, const char* address, std::uint16_t port,
                            const char* peer_id) {
        advertisement a;
        a.instance = instance;
        a.host = host;
        a.port = port;
        a.addresses = {asio::ip::make_address(address)};
        a.txt = {{"proto", "1"}};
        a.peer_id = peer_id;
        return a;
    }

    void browse(member& m) {
        m.mdns->browse([&m](service_event e, const service& s) { m.events.emplace_back(e, s); }, now);
    }

    // A packet from outside the engines (a querier or an attacker).
    void inject(const udp_endpoint& from, const udp_endpoint& to, std::string data) {
        queue_.push_back({from, to, std::move(data), now});
        deliver();
    }

    void deliver() {
        while (!queue_.empty()) {
            const auto p = std::move(queue_.front());
            queue_.pop_front();
            log.push_back(p);
            for (auto& m : members_) {
                if (!m->attached) continue;
                if (p.to.address().is_multicast() || p.to == m->endpoint) m->mdns->receive(p.from, p.data, now);
            }
        }
    }

    // Runs every engine's timers until `until`.
    void run_for(std::chrono::steady_clock::duration d) {
        const auto until = now + d;
        deliver();
        for (;;) {
            auto next = time_point::max();
            for (const auto& m : members_)
                if (m->attached) next = std::min(next, m->mdns->next_deadline());
            if (next > until) break;
            now = std::max(now, next);
            for (auto& m : members_)
                if (m->attached && m->mdns->next_deadline() <= now) m->mdns->tick(now);
            deliver();
        }
        now = until;
    }

    // Packets sent by `from` since log index `since`, decoded.
    std::vector<std::pair<packet, dns::message>> sent_by(const member& from, std::size_t since = 0) const {
        std::vector<std::pair<packet, dns::message>> out;
        for (std::size_t i = since; i < log.size(); ++i) {
            if (log[i].from != from.endpoint) continue;
            dns::message m;
            EXPECT_FALSE(dns::decode(log[i].data, m));
            out.emplace_back(log[i], std::move(m));
        }
        return out;
    }

    time_point now = t0;
    std::vector<packet> log;

private:
    std::deque<packet> queue_;
    std::vector<std::unique_ptr<member>> members_;
};

std::string encoded(const dns::message& m) {
    std::string out;
    EXPECT_FALSE(dns::encode(m, out));
    return out;
}

std::string ptr_query(bool unicast_response = false, std::uint16_t id = 0) {
    dns::message m;
    m.id = id;
    m.questions.push_back({dns::make_name("_librats._tcp.local"), dns::rr_type::ptr, dns::class_in, unicast_response});
    return encoded(m);
}

const udp_endpoint querier(asio::ip::make_address("10.0.0.99"), mdns_port);

TEST(MdnsEngine, ProbesThreeTimesThenAnnouncesTwice) {
    link net;
    auto& a = net.add("10.0.0.1");
    ASSERT_FALSE(a.mdns->advertise(link::ad("alpha", "host-a", "10.0.0.1", 4000, "peer-a"), net.now));
    EXPECT_EQ(a.mdns->state(), advertising_state::probing);
    net.run_for(5s);
    EXPECT_EQ(a.mdns->state(), advertising_state::announced);

    const auto sent = net.sent_by(a);
    ASSERT_EQ(sent.size(), 5u);
    for (std::size_t i = 0; i < 3; ++i) {
        const auto& [p, m] = sent[i];
        EXPECT_FALSE(m.is_response());
        ASSERT_EQ(m.questions.size(), 2u);
        EXPECT_EQ(m.questions[0].qname, dns::make_name("alpha._librats._tcp.local"));
        EXPECT_EQ(m.questions[0].type, dns::rr_type::any);
        EXPECT_TRUE(m.questions[0].unicast_response);
        EXPECT_EQ(m.questions[1].qname, dns::make_name("host-a.local"));
        EXPECT_EQ(m.authorities.size(), 3u);  // SRV, TXT, A
        if (i == 0) {
            EXPECT_LE(p.at - t0, 250ms);  // §8.1: a random 0–250 ms before the first probe
        } else {
            EXPECT_EQ(p.at - sent[i - 1].first.at, 250ms);
        }
        EXPECT_EQ(p.to, multicast_endpoint(false));
    }
    for (std::size_t i = 3; i < 5; ++i) {
        const auto& [p, m] = sent[i];
        EXPECT_TRUE(m.is_response());
        EXPECT_TRUE(m.flags & dns::flag_authoritative);
        ASSERT_EQ(m.answers.size(), 5u);  // 2 PTR, SRV, TXT, A
        for (const auto& r : m.answers) EXPECT_EQ(r.cache_flush, r.type != dns::rr_type::ptr);
    }
    EXPECT_EQ(sent[3].first.at - sent[2].first.at, 250ms);
    EXPECT_EQ(sent[4].first.at - sent[3].first.at, 1s);
    EXPECT_EQ(a.mdns->statistics().conflicts, 0u);  // its own packets, looped back, are no conflict
    EXPECT_EQ(a.mdns->statistics().probes_sent, 3u);
    EXPECT_EQ(a.mdns->statistics().announcements_sent, 2u);
}

TEST(MdnsEngine, RejectsUnencodableAdvertisements) {
    link net;
    auto& a = net.add("10.0.0.1");
    EXPECT_EQ(a.mdns->advertise(link::ad(std::string(64, 'x').c_str(), "h", "10.0.0.1", 1, "p"), net.now),
              errc::label_too_long);
    auto bad_txt = link::ad("alpha", "h", "10.0.0.1", 1, "p");
    bad_txt.txt["a=b"] = "c";
    EXPECT_EQ(a.mdns->advertise(bad_txt, net.now), errc::bad_txt_key);
    EXPECT_EQ(a.mdns->state(), advertising_state::idle);
}

TEST(MdnsEngine, TwoEnginesDiscoverEachOther) {
    link net;
    auto& a = net.add("10.0.0.1");
    auto& b = net.add("10.0.0.2");
    ASSERT_FALSE(a.mdns->advertise(link::ad("alpha", "host-a", "10.0.0.1", 4000, "peer-a"), net.now));
    ASSERT_FALSE(b.mdns->advertise(link::ad("beta", "host-b", "10.0.0.2", 5000, "peer-b"), net.now));
    net.browse(a);
    net.browse(b);
    net.run_for(5s);

    ASSERT_EQ(a.mdns->services().size(), 1u);
    ASSERT_EQ(b.mdns->services().size(), 1u);
    const auto& seen_by_a = a.mdns->services().begin()->second;
    EXPECT_EQ(seen_by_a.instance_label, "beta");
    EXPECT_EQ(seen_by_a.instance, dns::make_name("beta._librats._tcp.local"));
    EXPECT_EQ(seen_by_a.host, dns::make_name("host-b.local"));
    EXPECT_EQ(seen_by_a.port, 5000);
    EXPECT_EQ(seen_by_a.addresses, std::vector<asio::ip::address>{asio::ip::make_address("10.0.0.2")});
    EXPECT_EQ(seen_by_a.peer_id, "peer-b");
    EXPECT_EQ(seen_by_a.txt.at("proto"), "1");
    const auto& seen_by_b = b.mdns->services().begin()->second;
    EXPECT_EQ(seen_by_b.instance_label, "alpha");
    EXPECT_EQ(seen_by_b.port, 4000);
    EXPECT_EQ(seen_by_b.peer_id, "peer-a");
    EXPECT_EQ(a.count(service_event::resolved), 1u);
    EXPECT_EQ(b.count(service_event::resolved), 1u);
    EXPECT_EQ(a.count(service_event::updated) + a.count(service_event::removed), 0u);

    // A browser that starts late learns of both through its queries.
    auto& c = net.add("10.0.0.3");
    net.browse(c);
    net.run_for(3s);
    EXPECT_EQ(c.mdns->services().size(), 2u);
    EXPECT_EQ(c.count(service_event::resolved), 2u);
}

TEST(MdnsEngine, ConflictRenamesTheLaterInstance) {
    link net;
    auto& a = net.add("10.0.0.1");
    auto& b = net.add("10.0.0.2");
    net.browse(a);
    net.browse(b);
    ASSERT_FALSE(a.mdns->advertise(link::ad("node", "host-a", "10.0.0.1", 4000, "peer-a"), net.now));
    net.run_for(3s);
    ASSERT_EQ(a.mdns->state(), advertising_state::announced);
    ASSERT_FALSE(b.mdns->advertise(link::ad("node", "host-b", "10.0.0.2", 5000, "peer-b"), net.now));
    net.run_for(5s);

    EXPECT_EQ(a.mdns->instance_label(), "node");
    EXPECT_EQ(b.mdns->instance_label(), "node (2)");
    EXPECT_EQ(b.mdns->instance_name(), dns::make_name("node (2)._librats._tcp.local"));
    EXPECT_EQ(b.mdns->statistics().renames, 1u);
    EXPECT_EQ(a.mdns->statistics().renames, 0u);
    EXPECT_EQ(b.mdns->state(), advertising_state::announced);
    ASSERT_EQ(a.mdns->services().size(), 1u);
    EXPECT_EQ(a.mdns->services().begin()->second.instance_label, "node (2)");
    EXPECT_EQ(a.mdns->services().begin()->second.peer_id, "peer-b");
    ASSERT_EQ(b.mdns->services().size(), 1u);
    EXPECT_EQ(b.mdns->services().begin()->second.instance_label, "node");
}

TEST(MdnsEngine, RenamingKeepsLabelsShortAndUtf8Whole) {
    link net;
    auto& a = net.add("10.0.0.1");
    auto& b = net.add("10.0.0.2");
    // 62 bytes: "xy" then 30 two-byte characters. " (2)" leaves 59 bytes, which would split the
    // 29th character: it goes whole.
    std::string label = "xy";
    for (int i = 0; i < 30; ++i) label += "\xc3\xa9";
    ASSERT_FALSE(a.mdns->advertise(link::ad(label.c_str(), "host-a", "10.0.0.1", 4000, "peer-a"), net.now));
    net.run_for(3s);
    ASSERT_FALSE(b.mdns->advertise(link::ad(label.c_str(), "host-b", "10.0.0.2", 5000, "peer-b"), net.now));
    net.run_for(3s);
    EXPECT_EQ(b.mdns->instance_label(), label.substr(0, 58) + " (2)");
    EXPECT_EQ(b.mdns->state(), advertising_state::announced);
}

TEST(MdnsEngine, SimultaneousProbesEndWithDistinctNames) {
    link net;
    auto& a = net.add("10.0.0.1");
    auto& b = net.add("10.0.0.2");
    ASSERT_FALSE(a.mdns->advertise(link::ad("node", "host-a", "10.0.0.1", 4000, "peer-a"), net.now));
    ASSERT_FALSE(b.mdns->advertise(link::ad("node", "host-b", "10.0.0.2", 5000, "peer-b"), net.now));
    net.run_for(10s);
    EXPECT_EQ(a.mdns->state(), advertising_state::announced);
    EXPECT_EQ(b.mdns->state(), advertising_state::announced);
    EXPECT_NE(a.mdns->instance_name(), b.mdns->instance_name());
    // One loses the tie-break (once per probe of the winner it hears), waits, probes again, meets
    // the winner's records and renames.
    const auto& loser = a.mdns->statistics().tie_breaks_lost > 0 ? a : b;
    const auto& winner = &loser == &a ? b : a;
    EXPECT_GE(loser.mdns->statistics().tie_breaks_lost, 1u);
    EXPECT_EQ(winner.mdns->statistics().tie_breaks_lost, 0u);
    EXPECT_EQ(loser.mdns->statistics().renames, 1u);
    EXPECT_EQ(loser.mdns->instance_label(), "node (2)");
    EXPECT_EQ(winner.mdns->instance_label(), "node");
    EXPECT_EQ(a.mdns->statistics().renames + b.mdns->statistics().renames, 1u);
}

TEST(MdnsEngine, HostNameConflictRenamesTheHost) {
    link net;
    auto& a = net.add("10.0.0.1");
    auto& b = net.add("10.0.0.2");
    ASSERT_FALSE(a.mdns->advertise(link::ad("alpha", "shared", "10.0.0.1", 4000, "peer-a"), net.now));
    net.run_for(3s);
    ASSERT_FALSE(b.mdns->advertise(link::ad("beta", "shared", "10.0.0.2", 5000, "peer-b"), net.now));
    net.run_for(3s);
    EXPECT_EQ(b.mdns->host_name(), dns::make_name("shared-2.local"));
    EXPECT_EQ(b.mdns->instance_label(), "beta");
}

TEST(MdnsEngine, KnownAnswersSuppressRepeatedAnswers) {
    link net;
    auto& a = net.add("10.0.0.1");
    auto& b = net.add("10.0.0.2");
    ASSERT_FALSE(a.mdns->advertise(link::ad("alpha", "host-a", "10.0.0.1", 4000, "peer-a"), net.now));
    net.run_for(3s);
    net.browse(b);
    net.run_for(2s);
    ASSERT_EQ(b.mdns->services().size(), 1u);
    const auto responses = a.mdns->statistics().responses_sent;
    net.run_for(30s);  // queries at 1, 2, 4, 8, 16 s carry alpha's PTR as a known answer
    EXPECT_GE(b.mdns->statistics().known_answers_sent, 4u);
    EXPECT_GE(a.mdns->statistics().known_answers_suppressed, 4u);
    EXPECT_EQ(a.mdns->statistics().responses_sent, responses);

    // The query b sent carries the PTR with its remaining TTL.
    const auto sent = net.sent_by(b);
    ASSERT_FALSE(sent.empty());
    const auto& last = sent.back().second;
    ASSERT_EQ(last.answers.size(), 1u);
    EXPECT_EQ(std::get<dns::ptr_rdata>(last.answers[0].data).target, dns::make_name("alpha._librats._tcp.local"));
    EXPECT_GT(last.answers[0].ttl, 4500u / 2);
    EXPECT_LT(last.answers[0].ttl, 4500u);
}

TEST(MdnsEngine, BrowseQueriesBackOffExponentially) {
    link net;
    engine_options o;
    o.max_browse_interval = 16s;
    auto& b = net.add("10.0.0.2", o);
    net.browse(b);
    net.run_for(60s);
    const auto sent = net.sent_by(b);
    ASSERT_GE(sent.size(), 6u);
    EXPECT_EQ(sent[1].first.at - sent[0].first.at, 1s);
    EXPECT_EQ(sent[2].first.at - sent[1].first.at, 2s);
    EXPECT_EQ(sent[3].first.at - sent[2].first.at, 4s);
    EXPECT_EQ(sent[4].first.at - sent[3].first.at, 8s);
    EXPECT_EQ(sent[5].first.at - sent[4].first.at, 16s);
    EXPECT_EQ(sent[6].first.at - sent[5].first.at, 16s);
    EXPECT_GE(sent[0].first.at - t0, 20ms);
    EXPECT_LE(sent[0].first.at - t0, 120ms);
}

TEST(MdnsEngine, GoodbyeRemovesTheServiceAfterOneSecond) {
    link net;
    auto& a = net.add("10.0.0.1");
    auto& b = net.add("10.0.0.2");
    ASSERT_FALSE(a.mdns->advertise(link::ad("alpha", "host-a", "10.0.0.1", 4000, "peer-a"), net.now));
    net.browse(b);
    net.run_for(4s);
    ASSERT_EQ(b.mdns->services().size(), 1u);

    const auto since = net.log.size();
    a.mdns->stop();
    net.deliver();
    const auto sent = net.sent_by(a, since);
    ASSERT_EQ(sent.size(), 1u);
    for (const auto& r : sent[0].second.answers) EXPECT_EQ(r.ttl, 0u);
    EXPECT_EQ(a.mdns->statistics().goodbyes_sent, 1u);
    EXPECT_EQ(b.mdns->services().size(), 1u);  // still there for a second
    net.run_for(500ms);
    EXPECT_EQ(b.mdns->services().size(), 1u);
    net.run_for(600ms);
    EXPECT_TRUE(b.mdns->services().empty());
    EXPECT_EQ(b.count(service_event::removed), 1u);
    EXPECT_EQ(b.events.back().second.instance_label, "alpha");
}

TEST(MdnsEngine, ServiceExpiresWhenItsRecordsAreNotRefreshed) {
    link net;
    auto& a = net.add("10.0.0.1");
    auto& b = net.add("10.0.0.2");
    ASSERT_FALSE(a.mdns->advertise(link::ad("alpha", "host-a", "10.0.0.1", 4000, "peer-a"), net.now));
    net.browse(b);
    net.run_for(4s);
    ASSERT_EQ(b.mdns->services().size(), 1u);
    a.attached = false;  // gone without a goodbye
    const auto since = net.log.size();
    net.run_for(115s);
    EXPECT_EQ(b.mdns->services().size(), 1u);
    // Refresh queries for the 120 s records at 80 % of their TTL and later.
    bool refreshed = false;
    for (const auto& [p, m] : net.sent_by(b, since))
        for (const auto& q : m.questions) refreshed = refreshed || q.type == dns::rr_type::srv;
    EXPECT_TRUE(refreshed);
    net.run_for(10s);
    EXPECT_TRUE(b.mdns->services().empty());
    EXPECT_EQ(b.count(service_event::removed), 1u);
}

TEST(MdnsEngine, RefreshedRecordsKeepTheServiceAlive) {
    link net;
    auto& a = net.add("10.0.0.1");
    auto& b = net.add("10.0.0.2");
    ASSERT_FALSE(a.mdns->advertise(link::ad("alpha", "host-a", "10.0.0.1", 4000, "peer-a"), net.now));
    net.browse(b);
    net.run_for(600s);
    EXPECT_EQ(b.mdns->services().size(), 1u);
    EXPECT_EQ(b.count(service_event::removed), 0u);
    EXPECT_EQ(b.count(service_event::updated), 0u);
}

TEST(MdnsEngine, MulticastAnswersAreRateLimitedPerRecord) {
    link net;
    auto& a = net.add("10.0.0.1");
    ASSERT_FALSE(a.mdns->advertise(link::ad("alpha", "host-a", "10.0.0.1", 4000, "peer-a"), net.now));
    net.run_for(3s);
    const auto before = a.mdns->statistics().responses_sent;
    net.inject(querier, multicast_endpoint(false), ptr_query());
    EXPECT_EQ(a.mdns->statistics().responses_sent, before + 1);
    const auto reply = net.sent_by(a, net.log.size() - 1);
    ASSERT_EQ(reply.size(), 1u);
    EXPECT_EQ(reply[0].first.to, multicast_endpoint(false));
    EXPECT_EQ(reply[0].second.answers.size(), 1u);      // the PTR
    EXPECT_EQ(reply[0].second.additionals.size(), 3u);  // SRV, TXT, A

    net.run_for(500ms);
    net.inject(querier, multicast_endpoint(false), ptr_query());
    EXPECT_EQ(a.mdns->statistics().responses_sent, before + 1);
    EXPECT_EQ(a.mdns->statistics().rate_limited, 1u);

    net.run_for(600ms);
    net.inject(querier, multicast_endpoint(false), ptr_query());
    EXPECT_EQ(a.mdns->statistics().responses_sent, before + 2);
}

TEST(MdnsEngine, UnicastAndLegacyReplies) {
    link net;
    auto& a = net.add("10.0.0.1");
    ASSERT_FALSE(a.mdns->advertise(link::ad("alpha", "host-a", "10.0.0.1", 4000, "peer-a"), net.now));
    net.run_for(3s);

    // QU from port 5353: a unicast reply to the querier, not rate limited.
    auto since = net.log.size();
    net.inject(querier, multicast_endpoint(false), ptr_query(true));
    auto reply = net.sent_by(a, since);
    ASSERT_EQ(reply.size(), 1u);
    EXPECT_EQ(reply[0].first.to, querier);
    EXPECT_EQ(reply[0].second.answers[0].ttl, 4500u);

    // From another port: a conventional reply with the query's ID and question, TTLs of 10 s.
    const udp_endpoint resolver(asio::ip::make_address("10.0.0.98"), 40000);
    since = net.log.size();
    net.inject(resolver, multicast_endpoint(false), ptr_query(false, 0x4242));
    reply = net.sent_by(a, since);
    ASSERT_EQ(reply.size(), 1u);
    EXPECT_EQ(reply[0].first.to, resolver);
    EXPECT_EQ(reply[0].second.id, 0x4242);
    ASSERT_EQ(reply[0].second.questions.size(), 1u);
    for (const auto* section : {&reply[0].second.answers, &reply[0].second.additionals}) {
        for (const auto& r : *section) {
            EXPECT_LE(r.ttl, 10u);
            EXPECT_FALSE(r.cache_flush);
        }
    }
}

TEST(MdnsEngine, AnswersServiceEnumeration) {
    link net;
    auto& a = net.add("10.0.0.1");
    ASSERT_FALSE(a.mdns->advertise(link::ad("alpha", "host-a", "10.0.0.1", 4000, "peer-a"), net.now));
    net.run_for(3s);
    dns::message q;
    q.questions.push_back({dns::make_name("_services._dns-sd._udp.local"), dns::rr_type::ptr, dns::class_in, true});
    const auto since = net.log.size();
    net.inject(querier, multicast_endpoint(false), encoded(q));
    const auto reply = net.sent_by(a, since);
    ASSERT_EQ(reply.size(), 1u);
    ASSERT_EQ(reply[0].second.answers.size(), 1u);
    EXPECT_EQ(std::get<dns::ptr_rdata>(reply[0].second.answers[0].data).target, dns::make_name("_librats._tcp.local"));
}

TEST(MdnsEngine, HostilePacketsAreIgnoredAndCounted) {
    link net;
    auto& a = net.add("10.0.0.1");
    ASSERT_FALSE(a.mdns->advertise(link::ad("alpha", "host-a", "10.0.0.1", 4000, "peer-a"), net.now));
    net.browse(a);
    net.run_for(3s);
    const auto mc = multicast_endpoint(false);
    const auto before = a.mdns->statistics().malformed_packets;
    net.inject(querier, mc, "\x00\x00\x84\x00\xff\xff\xff\xff\xff\xff\xff\xff"s);                 // huge counts
    net.inject(querier, mc, "\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x0c\x00\x01"s);  // loop
    net.inject(querier, mc, "\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x20\x00\x0c\x00\x01"s);  // forward
    net.inject(querier, mc, "garbage"s);
    net.inject(querier, mc, std::string(10000, '\0'));  // larger than any mDNS packet
    EXPECT_EQ(a.mdns->statistics().malformed_packets, before + 5);

    // Not mDNS: a response from another port, an opcode other than QUERY, another family.
    const auto ignored = a.mdns->statistics().ignored_packets;
    dns::message fake;
    fake.flags = dns::flag_response;
    fake.answers.push_back({dns::make_name("_librats._tcp.local"), dns::rr_type::ptr, dns::class_in, false, 100,
                            dns::ptr_rdata{dns::make_name("evil._librats._tcp.local")}});
    net.inject(udp_endpoint(querier.address(), 1234), mc, encoded(fake));
    fake.flags = dns::flag_response | 0x2800;  // opcode 5
    net.inject(querier, mc, encoded(fake));
    a.mdns->receive(udp_endpoint(asio::ip::make_address("fe80::1"), mdns_port), ptr_query(), net.now);
    EXPECT_EQ(a.mdns->statistics().ignored_packets, ignored + 3);
    EXPECT_EQ(a.mdns->cached_records(), 0u);

    // Still answering.
    net.run_for(2s);
    const auto responses = a.mdns->statistics().responses_sent;
    net.inject(querier, mc, ptr_query());
    EXPECT_EQ(a.mdns->statistics().responses_sent, responses + 1);
}

TEST(MdnsEngine, MutatedTrafficNeverBreaksAnEngine) {
    link net;
    auto& a = net.add("10.0.0.1");
    auto& b = net.add("10.0.0.2");
    ASSERT_FALSE(a.mdns->advertise(link::ad("alpha", "host-a", "10.0.0.1", 4000, "peer-a"), net.now));
    ASSERT_FALSE(b.mdns->advertise(link::ad("beta", "host-b", "10.0.0.2", 5000, "peer-b"), net.now));
    net.browse(a);
    net.browse(b);
    net.run_for(5s);
    const auto traffic = net.log;  // probes, announcements, queries with known answers

    // A third engine, advertising and browsing, takes mutations of all of it.
    auto& c = net.add("10.0.0.3");
    ASSERT_FALSE(c.mdns->advertise(link::ad("gamma", "host-c", "10.0.0.3", 6000, "peer-c"), net.now));
    net.browse(c);
    net.run_for(3s);
    std::mt19937 rng(7);
    for (int round = 0; round < 5000; ++round) {
        std::string p = traffic[static_cast<std::size_t>(round) % traffic.size()].data;
        for (int e = 1 + static_cast<int>(rng() % 4); e > 0; --e) {
            const auto at = rng() % p.size();
            if (rng() % 2) p[at] = static_cast<char>(rng());
            else p[at] = static_cast<char>(p[at] ^ (1 << (rng() % 8)));
        }
        c.mdns->receive(querier, p, net.now);
        if (round % 100 == 0) {
            net.now += 100ms;
            c.mdns->tick(net.now);
        }
    }
    EXPECT_GT(c.mdns->statistics().malformed_packets, 0u);
    EXPECT_LE(c.mdns->cached_records(), engine_options{}.max_cache_records);
    // Some mutations rename gamma (a record seems to claim its name); it settles again.
    net.run_for(60s);
    EXPECT_EQ(c.mdns->state(), advertising_state::announced);
}

TEST(MdnsEngine, CacheAndServicesAreBounded) {
    link net;
    engine_options o;
    o.max_cache_records = 16;
    o.max_services = 4;
    auto& b = net.add("10.0.0.2", o);
    net.browse(b);
    dns::message flood;
    flood.flags = dns::flag_response | dns::flag_authoritative;
    for (int i = 0; i < 100; ++i) {
        const auto instance = dns::make_name("x" + std::to_string(i) + "._librats._tcp.local");
        const auto host = dns::make_name("h" + std::to_string(i) + ".local");
        flood.answers.push_back({dns::make_name("_librats._tcp.local"), dns::rr_type::ptr, dns::class_in, false, 4500,
                                 dns::ptr_rdata{instance}});
        flood.additionals.push_back({instance, dns::rr_type::srv, dns::class_in, true, 120,
                                     dns::srv_rdata{0, 0, 1, host}});
        flood.additionals.push_back({host, dns::rr_type::a, dns::class_in, true, 120,
                                     asio::ip::make_address_v4(0x0a000100u + static_cast<unsigned>(i))});
    }
    net.inject(querier, multicast_endpoint(false), encoded(flood));
    EXPECT_LE(b.mdns->cached_records(), 16u);
    EXPECT_GT(b.mdns->statistics().cache_full, 0u);
    EXPECT_LE(b.mdns->services().size(), 4u);
    net.run_for(10s);  // resolve queries for what is incomplete stay bounded too
    EXPECT_LE(b.mdns->cached_records(), 16u);
}

TEST(MdnsEngine, CacheFlushReplacesOldData) {
    link net;
    auto& b = net.add("10.0.0.2");
    net.browse(b);
    const auto instance = dns::make_name("x._librats._tcp.local");
    const auto host = dns::make_name("hx.local");
    const auto response = [&](std::uint16_t port, std::uint32_t address) {
        dns::message m;
        m.flags = dns::flag_response | dns::flag_authoritative;
        m.answers.push_back({dns::make_name("_librats._tcp.local"), dns::rr_type::ptr, dns::class_in, false, 4500,
                             dns::ptr_rdata{instance}});
        m.answers.push_back({instance, dns::rr_type::srv, dns::class_in, true, 120, dns::srv_rdata{0, 0, port, host}});
        m.answers.push_back({host, dns::rr_type::a, dns::class_in, true, 120, asio::ip::make_address_v4(address)});
        return encoded(m);
    };
    net.inject(querier, multicast_endpoint(false), response(1000, 0x0a000001));
    ASSERT_EQ(b.mdns->services().size(), 1u);
    net.run_for(5s);
    net.inject(querier, multicast_endpoint(false), response(2000, 0x0a000002));
    net.run_for(2s);
    ASSERT_EQ(b.mdns->services().size(), 1u);
    const auto& s = b.mdns->services().begin()->second;
    EXPECT_EQ(s.port, 2000);
    EXPECT_EQ(s.addresses, std::vector<asio::ip::address>{asio::ip::make_address("10.0.0.2")});
    EXPECT_GE(b.count(service_event::updated), 1u);
}

}  // namespace
}  // namespace librats::mdns
