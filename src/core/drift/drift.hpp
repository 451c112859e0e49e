// Drift measures between a baseline and a current window, computed on their mergeable sketches.
#pragma once

#include "core/common/cpp_only.hpp"

#include "core/sketches/kll.hpp"
#include "core/sketches/space_saving.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pg_learn::core {

// docs/statistics.md, "Drift between a baseline and a current window", defines every measure,
// its bins, its smoothing and its error bound. In short:
//  - numeric (KLL sketches): PSI and Jensen-Shannon distance on bins fixed by the baseline's
//    quantiles (plus one bin below and one above the baseline's range), the Kolmogorov-Smirnov
//    statistic, and the Wasserstein-1 distance divided by the baseline's standard deviation;
//  - categorical (Space-Saving summaries): L-infinity, PSI and Jensen-Shannon over the union of
//    both top-k lists plus an "other" bucket;
//  - every result carries an interval [lower, upper] that holds the value the same measure
//    would take on the raw rows (on the same bins), derived from the sketches' error bounds:
//    with probability >= 1 - delta for KLL sketches, always for Space-Saving summaries.
enum class DriftMethod : uint8_t {
    Auto = 0,               // numeric: JensenShannon; categorical: LInfinity (as TFDV)
    Psi = 1,                // population stability index, epsilon-smoothed
    JensenShannon = 2,      // Jensen-Shannon distance, base 2, in [0, 1]
    KolmogorovSmirnov = 3,  // sup |F_b - F_c|, numeric only
    Wasserstein = 4,        // W1 / baseline standard deviation, numeric only
    LInfinity = 5,          // max |p_b - p_c| over values, categorical only
};

// Accepted spellings (case-insensitive): auto; psi; js, jensen_shannon; ks,
// kolmogorov_smirnov; wasserstein, emd; linf, l_infinity. Anything else is InvalidParameter.
DriftMethod parse_drift_method(std::string_view text);
const char* drift_method_name(DriftMethod method);  // "auto", "psi", "js", "ks", "wasserstein", "linf"

constexpr DriftMethod kDefaultNumericDrift = DriftMethod::JensenShannon;
constexpr DriftMethod kDefaultCategoricalDrift = DriftMethod::LInfinity;

constexpr uint32_t kDriftDefaultBins = 10;
constexpr uint32_t kDriftMaxBins = 10000;
constexpr double kDriftDefaultEpsilon = 1e-4;
constexpr double kDriftDefaultDelta = 0.01;

struct DriftOptions {
    uint32_t bins = kDriftDefaultBins;      // quantile bins of the baseline, 1..kDriftMaxBins
    double epsilon = kDriftDefaultEpsilon;  // PSI's floor on proportions, in (0, 0.5]
    double delta = kDriftDefaultDelta;      // the bounds fail with probability <= delta, in (0, 1)
};

struct DriftResult {
    DriftMethod method;  // the method applied (never Auto)
    double value;
    // The same measure on the raw rows (same bins; same values and "other" bucket) lies in
    // [lower, upper] (probability >= 1 - delta with KLL sketches; always with Space-Saving).
    // lower == value == upper when both sketches are exact. A worst case: the observed error
    // is usually 10-100 times smaller than the half-width (docs/statistics.md).
    double lower;
    double upper;
};

// Proportions of one side per bin: the sketch's estimate, and bounds on the true proportion.
struct Proportions {
    std::vector<double> estimate, lower, upper;
};

// Numeric bins: split points s_0 < ... < s_{m-1} (m + 1 bins: (-inf, s_0], (s_0, s_1], ...,
// (s_{m-1}, +inf)), as KllSketch::pmf.
struct NumericBins {
    std::vector<double> splits;
    Proportions baseline, current;
};

// Categorical bins: the union of both sides' listed values (ascending bytes), then "other". A
// value's estimate is the middle of its Space-Saving interval ([count - error, count] if listed,
// [0, unmonitored bound] if not) over n; "other" is 1 - the rest. Exact when every value is listed.
struct CategoricalBins {
    std::vector<std::string> values;  // estimate.size() == values.size() + 1
    Proportions baseline, current;
};

// Bins of the numeric measures. Empty baseline or current: nullopt.
std::optional<NumericBins> numeric_bins(const KllSketch& baseline, const KllSketch& current,
                                        const DriftOptions& options = {});
std::optional<CategoricalBins> categorical_bins(const SpaceSaving& baseline, const SpaceSaving& current);

// One measure between two numeric sketches. baseline_stddev is the baseline's sample standard
// deviation (ml_stddev; only Wasserstein reads it; NaN when it does not exist). nullopt when
// either side is empty. LInfinity is InvalidParameter here; Auto means kDefaultNumericDrift.
std::optional<DriftResult> numeric_drift(const KllSketch& baseline, const KllSketch& current,
                                         double baseline_stddev, DriftMethod method,
                                         const DriftOptions& options = {});
// One measure between two categorical summaries; KolmogorovSmirnov and Wasserstein are
// InvalidParameter here; Auto means kDefaultCategoricalDrift. nullopt when either side is empty.
std::optional<DriftResult> categorical_drift(const SpaceSaving& baseline, const SpaceSaving& current,
                                             DriftMethod method, const DriftOptions& options = {});

// The asymptotic two-sided p-value of the Kolmogorov-Smirnov statistic between the two
// sketches: kolmogorov_sf(D * sqrt(n m / (n + m))). Approximate twice over: Smirnov's limit
// distribution, and D from sketches. nullopt when either side is empty.
std::optional<double> ks_pvalue(const KllSketch& baseline, const KllSketch& current);
// The same from a statistic d in [0, 1] and the two sample sizes (>= 1); InvalidParameter
// otherwise.
double ks_pvalue(double d, uint64_t n, uint64_t m);
// Kolmogorov's limit distribution: P(K > lambda) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2)
// (scipy.special.kolmogorov). 1 for lambda <= 0; NaN for NaN.
double kolmogorov_sf(double lambda);

// The measures on proportion vectors of equal length (tests and callers with their own bins).
// psi: sum (c' - b') ln(c' / b') with b' = max(b, epsilon), c' = max(c, epsilon).
double psi(const std::vector<double>& baseline, const std::vector<double>& current,
           double epsilon = kDriftDefaultEpsilon);
// As scipy.spatial.distance.jensenshannon(p, q, base=2): each side normalized by its sum.
double js_distance(const std::vector<double>& p, const std::vector<double>& q);
double linf_distance(const std::vector<double>& p, const std::vector<double>& q);

// A bound u such that |rank estimate(x) - true rank(x)| <= u for every x at once, with
// probability >= 1 - delta: min over M of eps(delta / 2M) + 1/M, eps being the sketch's
// certified per-query bound (KllSketch::rank_error_bound). 0 for an exact sketch.
double kll_uniform_rank_error(const KllSketch& sketch, double delta = kDriftDefaultDelta);

}  // namespace pg_learn::core
