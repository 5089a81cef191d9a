#ifndef LIBRATS_DETAIL_BUFFER_POOL_HPP
#define LIBRATS_DETAIL_BUFFER_POOL_HPP

#include <cstddef>
#include <memory>
#include <vector>

namespace librats::detail {

// Read buffers shared by a node's connections: a connection holds one only while bytes are in
// flight, so idle connections cost no buffer. Used on the node's strand only.
class buffer_pool {
public:
    // Room for the largest record (2 + 65,535 bytes) plus what follows it in the same read.
    static constexpr std::size_t buffer_size = 128 * 1024;
    static constexpr std::size_t max_free = 16;

    std::unique_ptr<unsigned char[]> acquire() {
        if (free_.empty()) return std::unique_ptr<unsigned char[]>(new unsigned char[buffer_size]);
        auto buffer = std::move(free_.back());
        free_.pop_back();
        return buffer;
    }

    void release(std::unique_ptr<unsigned char[]> buffer) {
        if (buffer && free_.size() < max_free) free_.push_back(std::move(buffer));
    }

private:
    std::vector<std::unique_ptr<unsigned char[]>> free_;
};

}  // namespace librats::detail

#endif
