// The Hoeffding tree classifier (VFDT; Domingos & Hulten 2000, with river's rules): its kind's
// registration, and the split statistics it is built from (exposed for the unit tests).
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/models/model.hpp"

#include <cstddef>
#include <limits>
#include <vector>

namespace pg_learn::core {

// hoeffding_tree_classifier (kind code 30).
const std::vector<const ModelFamily*>& hoeffding_tree_families();

namespace hoeffding {

// With probability 1 - delta, the true mean of a variable of range `range` is within this of the
// mean of n observations: sqrt(range^2 ln(1/delta) / (2n)).
double hoeffding_bound(double range, double delta, double n);

// Entropy in bits of a class distribution (weights, not necessarily normalized); 0 when empty.
double entropy(const std::vector<double>& dist);
// Information gain of splitting `pre` into the branches `post`: H(pre) minus the branches'
// weighted entropy; -infinity when fewer than two branches hold more than min_branch_fraction of
// the weight (river's InfoGainSplitCriterion).
double info_gain_merit(const std::vector<double>& pre, const std::vector<std::vector<double>>& post,
                       double min_branch_fraction);
// The range of information gain: log2 of the classes present in pre (at least 2).
double info_gain_range(const std::vector<double>& pre);
// 1 minus the branches' weighted Gini impurity (river's GiniSplitCriterion); its range is 1.
double gini_merit(const std::vector<std::vector<double>>& post);

// One numeric feature's values for one class: weighted count, mean, sum of squared deviations
// (Welford), minimum and maximum. An empty one has n 0, mean and m2 0, min +inf, max -inf.
struct Gaussian {
    double n = 0, mean = 0, m2 = 0;
    double min = std::numeric_limits<double>::infinity();
    double max = -std::numeric_limits<double>::infinity();
    void add(double x);
    double variance() const { return n > 1 ? m2 / (n - 1) : 0.0; }  // sample variance
    double cdf(double x) const;
    // The density at x; 0 when the variance is 0 (river's proba.Gaussian).
    double log_pdf(double x) const;
    // log_pdf's normalizing term 0.5 ln(2 pi variance), remembered for the variance it was
    // computed at (scoring asks for it per row; the stored forms do not hold it).
    mutable double norm_variance = std::numeric_limits<double>::quiet_NaN(), log_norm = 0;
};

// The best binary split "x <= threshold" of a numeric feature observed per class, among n_splits
// thresholds evenly spaced strictly between the smallest and the largest value seen (river's
// GaussianSplitter): the weight of each class on each side is its Gaussian's cdf at the threshold.
struct NumericSplit {
    double merit = -std::numeric_limits<double>::infinity();
    double threshold = 0;
    std::vector<double> left, right;
};
enum class Criterion { InfoGain, Gini };
NumericSplit best_numeric_split(const std::vector<Gaussian>& per_class, const std::vector<double>& pre,
                                int n_splits, Criterion criterion, double min_branch_fraction);

// One numeric feature's values at a leaf, binned for exact split candidates (the "histogram"
// splitter): at most `capacity` bins in increasing order, each the interval [lo, hi] of the
// values it took and their weight per class. A value within a bin's interval is added to it;
// any other value opens a bin of its own, and past the capacity the two adjacent bins whose
// union is narrowest (the first such pair) merge into one. Bins never overlap, so the weight
// of each class on each side of a threshold between two bins is exact for the values seen.
struct Bin {
    double lo, hi;
    std::vector<double> w;  // weight per class
};
void histogram_add(std::vector<Bin>& bins, double x, size_t c, size_t k, size_t capacity);
// The best binary split "x <= threshold" among the thresholds halfway between adjacent bins
// (the weights on each side summed from the bins).
NumericSplit best_histogram_split(const std::vector<Bin>& bins, const std::vector<double>& pre, Criterion criterion,
                                  double min_branch_fraction);

}  // namespace hoeffding

}  // namespace pg_learn::core
