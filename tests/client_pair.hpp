#ifndef LIBRATS_TESTS_CLIENT_PAIR_HPP
#define LIBRATS_TESTS_CLIENT_PAIR_HPP

// Two RatsClients on 127.0.0.1; connect() starts both and has b dial a.

#include "support.hpp"

#include <librats/librats.hpp>

#include <gtest/gtest.h>

#include <chrono>

namespace librats::test {

struct client_pair {
    RatsClient a{0, 10, "127.0.0.1"};
    RatsClient b{0, 10, "127.0.0.1"};

    void connect(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        ASSERT_TRUE(a.start());
        ASSERT_TRUE(b.start());
        ASSERT_TRUE(b.connect_to_peer("127.0.0.1", a.get_listen_port()));
        ASSERT_TRUE(wait_until([&] { return a.get_peer_count() == 1 && b.get_peer_count() == 1; }, timeout));
    }
};

}  // namespace librats::test

#endif
