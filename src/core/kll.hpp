// KLL quantile sketch over doubles: mergeable, deterministic, with a rank-error bound it can certify.
#pragma once

#include "cpp_only.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pg_learn::core {

// Karnin, Lang & Liberty, "Optimal Quantile Approximation in Streams" (FOCS 2016), in the
// layout of Apache DataSketches' KLL: a stack of compactors, level h holding items of weight
// 2^h, level capacities k * (2/3)^depth (at least kKllMinLevelWidth), lazy compaction of the
// lowest full level. See docs/statistics.md for the error analysis and the choice of k.
//
// Ranks are inclusive: rank(x) is the fraction of the stream <= x; quantile(q) is the smallest
// retained item whose inclusive rank is >= q (quantile(0) = min, quantile(1) = max, both exact).
//
// Determinism: compaction coins come from a SplitMix64 stream held in the sketch (rng_state),
// so the same input in the same order gives the same sketch, bit for bit, on every platform
// (level capacities are computed in integers, not with pow()). The stream's seed is mixed, at
// the first compaction, with a hash of the first buffered values: two partial sketches built
// in parallel over different rows then draw different coins, so their errors are independent
// and add in quadrature on merge instead of linearly.
//
// NaN never enters: update(NaN) is ignored (callers count NaNs elsewhere, e.g. ShiftedMoments).
// Infinities are ordinary, orderable items.
// k = 400, not DataSketches' default 200: the issue asks for rank error <= 1% at the default
// size. DataSketches' published 99% fits give 1.33% (rank) and 1.65% (pmf) at k = 200, and
// 0.68% / 0.86% at k = 400; our certified Hoeffding bound (rank_error_bound) at k = 400 never
// exceeded 0.72% at delta = 0.01 (0.99% at delta = 1e-4) for any stream length tried.
constexpr uint32_t kKllDefaultK = 400;
constexpr uint32_t kKllMinK = 8;
constexpr uint32_t kKllMaxK = 65535;
constexpr uint32_t kKllMinLevelWidth = 8;
constexpr uint32_t kKllMaxLevels = 61;

class KllSketch {
public:
    explicit KllSketch(uint32_t k = kKllDefaultK);

    void update(double x);
    void merge(const KllSketch& other);

    uint32_t k() const { return k_; }
    uint64_t n() const { return n_; }
    bool empty() const { return n_ == 0; }
    // Exact extremes; NaN when empty.
    double min() const;
    double max() const;
    // Items retained (what memory and the binary size grow with).
    size_t retained() const;
    size_t num_levels() const { return levels_.size(); }

    // Fraction of the stream <= x (inclusive). NaN when empty or x is NaN.
    double rank(double x) const;
    // q in [0, 1]; InvalidParameter otherwise. NaN when empty.
    double quantile(double q) const;
    std::vector<double> quantiles(const std::vector<double>& qs) const;
    // Split points must be strictly increasing and not NaN (InvalidParameter otherwise).
    // cdf returns size()+1 values: rank(s_0), ..., rank(s_{m-1}), 1.0.
    // pmf returns size()+1 masses: (-inf, s_0], (s_0, s_1], ..., (s_{m-1}, +inf).
    std::vector<double> cdf(const std::vector<double>& splits) const;
    std::vector<double> pmf(const std::vector<double>& splits) const;

    // A bound eps such that, for any single query, |rank estimate - true rank| <= eps with
    // probability >= 1 - delta over the compaction coins. Certified from this sketch's own
    // history of compactions (Hoeffding over the independent +-2^h coin errors); 0 while
    // nothing has been compacted, when the sketch is exact.
    double rank_error_bound(double delta = 0.01) const;
    // DataSketches' published empirical 99%-confidence rank error for k: 2.296 / k^0.9723
    // (single query), or 2.446 / k^0.9433 for pmf (differences of two ranks).
    static double documented_rank_error(uint32_t k, bool pmf = false);

    // Every retained item with its weight (2^level), ascending by value: the sketch's step cdf.
    std::vector<std::pair<double, uint64_t>> weighted_items() const;

    size_t serialized_size() const;
    void encode(std::string& out) const;  // appends
    static KllSketch decode(const uint8_t* data, size_t size);
    static KllSketch decode(const std::string& s) {
        return decode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    }

    bool operator==(const KllSketch& o) const;
    bool operator!=(const KllSketch& o) const { return !(*this == o); }

private:
    struct SortedView {
        std::vector<double> items;
        std::vector<uint64_t> cum;  // inclusive cumulative weight
    };
    SortedView sorted_view() const;
    double quantile_in(const SortedView& v, double q) const;

    uint32_t level_capacity(size_t h, size_t nlevels) const;
    size_t total_capacity() const { return capacity_; }
    size_t total_size() const { return items_; }
    void refresh();  // recomputes the cached item count and capacity
    void compact_level(size_t h);
    void compress_to_fit(size_t extra);  // until total_size() + extra <= capacity
    bool next_coin();

    uint32_t k_;
    uint64_t n_ = 0;
    double min_ = 0.0, max_ = 0.0;
    uint64_t rng_state_;
    bool rng_seeded_ = false;
    // Level 0 is unsorted; levels >= 1 are sorted ascending.
    std::vector<std::vector<double>> levels_;
    // Reused by compact_level; not part of the sketch's value (ignored by ==, not encoded).
    std::vector<double> scratch_;
    // level_capacity(h, levels_.size()) for each level, kept by refresh().
    std::vector<uint32_t> level_caps_;
    // Compactions done per level (merged by addition): the certified error bound's input.
    std::vector<uint64_t> compactions_;
    size_t items_ = 0;     // cached: sum of level sizes
    size_t capacity_ = 0;  // cached: sum of level capacities for k_ and levels_.size()
};

}  // namespace pg_learn::core
