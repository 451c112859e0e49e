// XXH64 (Yann Collet's xxHash, 64-bit variant), implemented from its specification.
#pragma once

#include "core/common/cpp_only.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pg_learn::core {

// The hash of the sketches (HyperLogLog, Space-Saving's index): full avalanche on every output
// bit, which HyperLogLog needs (it reads the top bits as a register index and the rest as a
// geometric variable). hash64 in observation.hpp is a fast mixer without a final avalanche and
// with no published reference, so it is kept for what it already does. Output is identical to
// the reference library's XXH64() (checked by known-answer tests), on any host.
uint64_t xxh64(const void* data, size_t len, uint64_t seed = 0);
inline uint64_t xxh64_string(std::string_view s, uint64_t seed = 0) {
    return xxh64(s.data(), s.size(), seed);
}

}  // namespace pg_learn::core
