// Second translation unit of the link test (link_a.cpp). It starts with a modular header: in
// single-header mode (LIBRATS_TEST_SINGLE_HEADER) that is a forwarding header, and the check
// below proves that it brought in the whole amalgamation, not just the wire codec.

#include <librats/wire/frame.hpp>

#if defined(LIBRATS_TEST_SINGLE_HEADER) && \
    !(defined(LIBRATS_LIBRATS_HPP) && defined(LIBRATS_CLIENT_HPP) && defined(LIBRATS_TEST_MEMORY_TRANSPORT_HPP))
#error "single-header mode, but <librats/wire/frame.hpp> is not the amalgamation"
#endif

#include <librats/librats.hpp>

#include "exercise.hpp"

#include <system_error>

const std::error_category* link_b_error_category() { return &librats::error_category(); }

int link_b_main() { return exercise("link_b"); }
