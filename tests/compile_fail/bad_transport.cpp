// Must not compile: the transport lacks async_connect. The test checks the concept's message.
#include "../archetypes.hpp"

#include <librats/node.hpp>

int main() {
    librats::basic_node<librats::test::archetype::transport_without_connect>* node = nullptr;
    return sizeof(*node) > 0 ? 0 : 1;
}
