// One-pass, mergeable summary moments of a numeric column: counts, mean, variance, min, max.
#pragma once

#include "cpp_only.hpp"

#include <cstdint>
#include <limits>

namespace pg_learn::core {

// Welford's update and Chan et al.'s pairwise merge: merging partial moments gives the same
// count, mean and M2 as one pass (up to rounding), whatever the split. NaN and infinities are
// counted apart and never enter the mean, so one bad value cannot poison it.
struct Moments {
    uint64_t count = 0;      // finite values
    uint64_t nulls = 0;      // SQL NULLs
    uint64_t nans = 0;
    uint64_t pos_infs = 0;
    uint64_t neg_infs = 0;
    uint64_t zeros = 0;
    double mean = 0.0;
    double m2 = 0.0;         // sum of squared deviations from the mean
    double min = std::numeric_limits<double>::infinity();
    double max = -std::numeric_limits<double>::infinity();

    void add(double x);
    void add_null() { nulls++; }
    void merge(const Moments& other);

    uint64_t non_null() const { return count + nans + pos_infs + neg_infs; }
    double variance_population() const { return count > 0 ? m2 / static_cast<double>(count) : 0.0; }
    // Sample variance (n - 1), as SQL's var_samp / stddev; NaN below two values.
    double variance_sample() const;
    double stddev_sample() const;
};

}  // namespace pg_learn::core
