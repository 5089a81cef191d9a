#ifndef LIBRATS_VERSION_HPP
#define LIBRATS_VERSION_HPP

#define LIBRATS_VERSION_MAJOR 0
#define LIBRATS_VERSION_MINOR 1
#define LIBRATS_VERSION_PATCH 0

namespace librats {

// Library release, reported in the hello's "agent" field.
inline constexpr const char* library_version = "0.1.0";

// Wire protocol version carried in the connection preamble; bump on incompatible change.
inline constexpr unsigned protocol_version = 1;
inline constexpr const char* protocol_name = "librats";

}  // namespace librats

#endif
