// Streaming statistics of one feature (the ml_stats value): moments and quantiles of a numeric
// column, or top-k values and a distinct count of a categorical one; mergeable and serializable.
#pragma once

#include "core/common/cpp_only.hpp"

#include "core/sketches/hll.hpp"
#include "core/sketches/kll.hpp"
#include "core/sketches/space_saving.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pg_learn::core {

enum class StatsKind : uint8_t { Numeric = 1, Categorical = 2 };
const char* stats_kind_name(StatsKind kind);

// Histograms ask for at most this many bins (InvalidParameter beyond).
constexpr uint32_t kStatsMaxBins = 10000;

// Moments of the finite values by Welford's update and Chan's merge on shifted data (Chan, Golub
// & LeVeque 1983, "Algorithms for computing the sample variance"): the accumulators hold
// x - shift, shift being the first finite value (or 0 when that is beyond +-1e300, where the
// subtraction could overflow). Without the shift, values of 1e8 + U(0, 1) lose the variance to
// about 1e-8 relative (the mean's rounding, ulp(1e8) = 1.5e-8, enters every deviation), and a
// merge of partial means near 2^53 loses it entirely; with it, x - shift is exact for values
// within a factor of two of the shift (Sterbenz), and the variance keeps about 1e-15.
struct ShiftedMoments {
    uint64_t count = 0;  // finite values
    uint64_t nulls = 0;
    uint64_t nans = 0;
    uint64_t pos_infs = 0;
    uint64_t neg_infs = 0;
    uint64_t zeros = 0;
    double shift = 0.0;
    double shifted_mean = 0.0;  // mean of x - shift
    double m2 = 0.0;            // sum of squared deviations from the mean
    double min = std::numeric_limits<double>::infinity();
    double max = -std::numeric_limits<double>::infinity();

    __attribute__((always_inline)) void add(double x) {
        // Finite and not the first: the per-row case, inline.
        if (count != 0 && x - x == 0) {
            if (x == 0.0) zeros++;
            min = std::min(min, x);
            max = std::max(max, x);
            count++;
            const double y = x - shift;
            const double d = y - shifted_mean;
            shifted_mean += d / static_cast<double>(count);
            m2 += d * (y - shifted_mean);
            return;
        }
        add_general(x);
    }
    void add_null() { nulls++; }
    void merge(const ShiftedMoments& other);
    double mean() const { return shift + shifted_mean; }
    uint64_t non_null() const { return count + nans + pos_infs + neg_infs; }

private:
    void add_general(double x);
};

// One bin [lo, hi] (the first) or (lo, hi] (the others) of the finite values, with the number of
// finite values in it as the quantile sketch estimates it (exact while the sketch is).
struct HistogramBin {
    double lo, hi;
    uint64_t count;
    double fraction;  // count / finite values
};

struct TopKEntry {
    std::string value;
    uint64_t count;  // upper bound on the value's frequency
    uint64_t error;  // count - error is a lower bound
    double fraction;  // count / non-null values
};

// The numeric kind keeps ShiftedMoments (exact counts of NULL, NaN, +-Inf and zeros; mean and
// variance of the finite values, min and max) and a KLL sketch of all non-NaN values (infinities are
// orderable items there). The categorical kind keeps the count of non-NULL values, the NULL
// count, a Space-Saving top-k summary and a HyperLogLog sketch of the values' bytes.
//
// Conventions (docs/statistics.md, "Feature statistics"):
//  - count() is the number of non-NULL values (NaN and infinities included), as SQL's count(x);
//  - mean, variance, stddev, min and max are over the finite values; quantiles over all
//    non-NaN values; histograms over the finite values between min and max;
//  - an answer that does not exist (the mean of no value, the variance of one) is nullopt;
//  - asking a numeric question of categorical stats, or the reverse, is InvalidParameter.
// Same input in the same order gives the same value, byte for byte.
class FeatureStats {
public:
    explicit FeatureStats(StatsKind kind);

    StatsKind kind() const { return kind_; }
    bool numeric() const { return kind_ == StatsKind::Numeric; }

    // add(x) for the common case that cannot fail or allocate (numeric statistics that have a
    // value already, x finite, the quantile sketch appending to its sampler's buffer): true when
    // done; false when nothing was changed and add() must be called.
    __attribute__((always_inline)) bool try_add_fast(double x) noexcept {
        if (kind_ != StatsKind::Numeric || moments_.count == 0 || !(x - x == 0)) return false;
        if (!kll_->try_update_fast(x)) return false;
        moments_.add(x);  // the finite, not-first case: inline arithmetic only
        return true;
    }
    __attribute__((always_inline)) void add(double x) {  // numeric kind
        if (kind_ != StatsKind::Numeric) require(StatsKind::Numeric, "adding a number");
        moments_.add(x);
        kll_->update(x);  // ignores NaN; infinities are ordinary items
    }
    void add(std::string_view value);  // categorical kind
    void add_null();
    // Same kind only; the result summarizes both inputs' rows (moments as one pass would).
    void merge(const FeatureStats& other);

    uint64_t count() const;
    uint64_t null_count() const;

    // Numeric kind only.
    uint64_t nan_count() const;
    uint64_t pos_inf_count() const;
    uint64_t neg_inf_count() const;
    uint64_t zero_count() const;
    uint64_t finite_count() const;
    std::optional<double> mean() const;
    std::optional<double> variance() const;  // sample (n - 1), as SQL's variance(); two values at least
    std::optional<double> stddev() const;    // sample, as SQL's stddev()
    std::optional<double> min() const;
    std::optional<double> max() const;
    // q in [0, 1] (InvalidParameter otherwise): the smallest retained value whose inclusive rank
    // reaches q (percentile_disc's rule; exact while the sketch is). nullopt without values.
    std::optional<double> quantile(double q) const;
    std::optional<std::vector<double>> quantiles(const std::vector<double>& qs) const;
    // The certified per-query rank error of the quantile sketch at confidence 1 - delta.
    double rank_error_bound(double delta = 0.01) const;
    // bins equal-width bins from min to max; empty without finite values; fewer bins when the
    // range is too narrow to split (a constant column gives one bin).
    std::vector<HistogramBin> histogram(uint32_t bins) const;
    // Bins holding about the same number of values: edges at the quantiles of the finite
    // values; bins whose edges coincide (ties) are joined.
    std::vector<HistogramBin> histogram_equal_count(uint32_t bins) const;

    // Categorical kind only.
    std::vector<TopKEntry> top_k() const;  // count desc, error asc, bytes asc
    uint64_t top_k_unlisted_bound() const;  // no value not listed occurred more often
    // Exact (the top-k summary still lists every value seen) or the HyperLogLog estimate,
    // rounded and kept within [values listed, count].
    uint64_t distinct() const;
    bool distinct_is_exact() const;

    const ShiftedMoments& moments() const;
    const KllSketch& quantile_sketch() const;
    const SpaceSaving& top_k_summary() const;
    const HyperLogLog& distinct_sketch() const;

    // Binary form (docs/statistics.md): magic, version, kind, length, checksum of everything,
    // then the fields and the sketches' own validated forms. decode() checks every field and
    // the consistency of the parts; bad input is InvalidBinary.
    size_t encoded_size() const;
    void encode(uint8_t* out, size_t size) const;  // size must be encoded_size()
    std::string encode() const;
    static FeatureStats decode(const uint8_t* data, size_t size);
    static FeatureStats decode(const std::string& s) {
        return decode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    }

    // Text form: a JSON object of the exact state (counts, moments, sketches in base64) that
    // reads back to the same value, byte for byte. Bad text is InvalidText.
    std::string to_text() const;
    static FeatureStats from_text(const char* text, size_t len);
    static FeatureStats from_text(const std::string& s) { return from_text(s.data(), s.size()); }

    // Everything at once, for people and dashboards (ml_stats::jsonb): counts, moments,
    // percentiles, a 10-bin histogram, or the top-k list and distinct count. Values that do
    // not exist are null; infinite ones the strings "Infinity" / "-Infinity".
    nlohmann::ordered_json summary() const;

    bool operator==(const FeatureStats& o) const { return encode() == o.encode(); }
    bool operator!=(const FeatureStats& o) const { return !(*this == o); }

private:
    FeatureStats() = default;
    void require(StatsKind kind, const char* what) const;
    // Empty when the parts agree (counts against sketches, extremes, defaults), else why not.
    std::string inconsistency() const;
    std::vector<HistogramBin> bins_from_edges(std::vector<double> edges) const;

    StatsKind kind_ = StatsKind::Numeric;
    // Numeric.
    ShiftedMoments moments_;
    std::optional<KllSketch> kll_;
    // Categorical.
    uint64_t cat_count_ = 0;
    uint64_t cat_nulls_ = 0;
    std::optional<SpaceSaving> topk_;
    std::optional<HyperLogLog> hll_;
};

}  // namespace pg_learn::core
