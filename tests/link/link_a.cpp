// Two-translation-unit link test, with link_b.cpp: all of librats is compiled into two objects of
// one program. A non-template function or a variable defined in a header without `inline` is
// then defined twice and the link fails; a function-local static duplicated per translation unit
// (a `static` or unnamed-namespace function) is caught at run time below.

#include <librats/librats.hpp>

#include "exercise.hpp"

#include <cstdio>
#include <system_error>

const std::error_category* link_b_error_category();
int link_b_main();

int main() {
    int failures = exercise("link_a") + link_b_main();
    if (&librats::error_category() != link_b_error_category()) {
        std::fprintf(stderr, "librats::error_category() differs between translation units\n");
        ++failures;
    }
    if (failures == 0) std::printf("link test passed\n");
    return failures == 0 ? 0 : 1;
}
