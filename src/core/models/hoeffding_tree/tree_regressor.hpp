// The Hoeffding tree regressor (river's HoeffdingTreeRegressor, after Ikonomovska's FIMT): its
// kind's registration, and the split statistics it is built from (exposed for the unit tests).
// docs/models.md, "Hoeffding tree regressor".
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/models/model.hpp"

#include <cstddef>
#include <limits>
#include <vector>

namespace pg_learn::core {

// hoeffding_tree_regressor (kind code 31).
const std::vector<const ModelFamily*>& hoeffding_tree_regressor_families();

namespace hoeffding {

// A target's running statistics: weight, mean and sum of squared deviations (Welford; river's
// stats.Var with ddof 1). Two of them add (Chan et al.) and subtract (the rest of a total).
struct TargetStats {
    double n = 0, mean = 0, m2 = 0;
    void add(double y);
    void merge(const TargetStats& o);
    // total minus part: the statistics of the rows of total that are not in part (n and m2
    // clamped at 0 against rounding).
    static TargetStats minus(const TargetStats& total, const TargetStats& part);
    double variance() const { return n > 1 ? m2 / (n - 1) : 0.0; }  // sample variance
};

// Variance reduction (river's VarianceReductionSplitCriterion): the sample variance of pre minus
// the branches' variances weighted by their share of pre's weight; -infinity when a branch has
// fewer than min_samples_split rows.
double variance_reduction_merit(const TargetStats& pre, const std::vector<TargetStats>& post,
                                double min_samples_split);

// A numeric feature's observer at a leaf: the target statistics of the rows per interval of the
// feature's values, in increasing order of disjoint intervals [lo, hi] (xmean: the mean of the
// values in it). While the feature has at most max_bins distinct values each bin holds one value
// and the observer is river's extended binary search tree (EBSTSplitter) in a sorted array; past
// it, a new value that falls between bins makes a bin of its own and the two adjacent bins whose
// means are closest merge (Ben-Haim & Tom-Tov's streaming histogram), so the observer never
// holds more than max_bins bins.
struct TargetBin {
    double lo, hi, xmean;
    TargetStats y;
};
struct BinObserver {
    std::vector<TargetBin> bins;
    // Returns the change in the number of bins (+1, 0, or 0 after a merge).
    int add(double x, double y, size_t max_bins);
};

// The best binary split "x <= threshold" of a numeric feature: every boundary between adjacent
// bins (threshold: the left bin's largest value), the left side the bins up to it and the right
// side the bins after it and the rows without the feature (they go right, as in river).
struct RegressionSplit {
    double merit = -std::numeric_limits<double>::infinity();
    double threshold = 0;
    TargetStats left, right;
};
RegressionSplit best_regression_split(const BinObserver& obs, const TargetStats& pre, double min_samples_split);

}  // namespace hoeffding

}  // namespace pg_learn::core
