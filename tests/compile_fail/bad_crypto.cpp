// Must not compile: the crypto policy lacks a cipher. The test checks the concept's message.
#include "../archetypes.hpp"

#include <librats/node.hpp>

int main() {
    using node = librats::basic_node<librats::test::archetype::transport,
                                     librats::test::archetype::crypto_without_cipher>;
    node* n = nullptr;
    return sizeof(*n) > 0 ? 0 : 1;
}
