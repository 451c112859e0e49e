// Multi-pass training over rows held in memory: the epoch order and its shuffling policy.
#pragma once

#include "core/common/cpp_only.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace pg_learn::core {

// SplitMix64 (Steele, Lea and Flood 2014): small, fast, and the same on every platform.
class SplitMix64 {
public:
    explicit SplitMix64(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }

private:
    uint64_t state_;
};

// Runs `epochs` passes over rows 0..n-1, calling learn_row(i) for each: the first pass in the
// given order, later passes in a fresh Fisher-Yates permutation when shuffle is true.
// every_so_often() runs every 1024 rows (the glue checks for query cancel there).
void run_epochs(size_t n, int epochs, bool shuffle, uint64_t seed,
                const std::function<void(size_t)>& learn_row,
                const std::function<void()>& every_so_often);

// The permutation run_epochs uses for epoch e (e >= 1) given the previous order; exposed for tests.
void shuffle_order(std::vector<size_t>& order, SplitMix64& rng);

inline constexpr int kMaxEpochs = 100000;

}  // namespace pg_learn::core
