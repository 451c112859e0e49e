// The Hoeffding tree classifier (core/models/hoeffding_tree/hoeffding_tree.hpp; docs/models.md,
// "Hoeffding trees").
#include "core/models/hoeffding_tree/hoeffding_tree.hpp"

#include "core/common/error.hpp"
#include "core/models/common/family_model.hpp"
#include "core/models/common/tree_shap.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace pg_learn::core {

using nlohmann::json;

// ---- split statistics --------------------------------------------------------------------------

namespace hoeffding {

double hoeffding_bound(double range, double delta, double n) {
    return std::sqrt(range * range * std::log(1.0 / delta) / (2.0 * n));
}

namespace {

double sum_of(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s;
}

}  // namespace

double entropy(const std::vector<double>& dist) {
    const double total = sum_of(dist);
    if (total <= 0) return 0;
    double h = 0;
    for (double w : dist)
        if (w > 0) {
            const double p = w / total;
            h -= p * std::log2(p);
        }
    return h;
}

double info_gain_merit(const std::vector<double>& pre, const std::vector<std::vector<double>>& post,
                       double min_branch_fraction) {
    double total = 0;
    std::vector<double> weights(post.size());
    for (size_t i = 0; i < post.size(); i++) total += weights[i] = sum_of(post[i]);
    int big = 0;
    for (double w : weights)
        if (total > 0 && w / total > min_branch_fraction) big++;
    if (big < 2) return -std::numeric_limits<double>::infinity();
    double after = 0;
    for (size_t i = 0; i < post.size(); i++) after += weights[i] * entropy(post[i]);
    return entropy(pre) - after / total;
}

double info_gain_range(const std::vector<double>& pre) {
    int present = 0;
    for (double w : pre) present += w > 0;
    return std::log2(std::max(present, 2));
}

double gini_merit(const std::vector<std::vector<double>>& post) {
    double total = 0;
    std::vector<double> weights(post.size());
    for (size_t i = 0; i < post.size(); i++) total += weights[i] = sum_of(post[i]);
    if (total <= 0) return -std::numeric_limits<double>::infinity();
    double impurity = 0;
    for (size_t i = 0; i < post.size(); i++) {
        if (weights[i] <= 0) continue;
        double g = 1;
        for (double w : post[i]) g -= (w / weights[i]) * (w / weights[i]);
        impurity += weights[i] / total * g;
    }
    return 1 - impurity;
}

void Gaussian::add(double x) {
    n += 1;
    const double d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
    min = std::min(min, x);
    max = std::max(max, x);
}

double Gaussian::cdf(double x) const {
    const double sd = std::sqrt(variance());
    if (!(sd > 0)) return x >= mean ? 1.0 : 0.0;
    return 0.5 * (1.0 + std::erf((x - mean) / (sd * std::sqrt(2.0))));
}

double Gaussian::log_pdf(double x) const {
    const double v = variance();
    if (!(v > 0)) return -std::numeric_limits<double>::infinity();
    if (v != norm_variance) {
        log_norm = 0.5 * std::log(6.283185307179586 * v);
        norm_variance = v;
    }
    return -(x - mean) * (x - mean) / (2 * v) - log_norm;
}

NumericSplit best_numeric_split(const std::vector<Gaussian>& per_class, const std::vector<double>& pre,
                                int n_splits, Criterion criterion, double min_branch_fraction) {
    NumericSplit best;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const Gaussian& g : per_class)
        if (g.n > 0) {
            lo = std::min(lo, g.min);
            hi = std::max(hi, g.max);
        }
    if (!(lo < hi)) return best;
    const double step = (hi - lo) / (n_splits + 1);
    const size_t k = per_class.size();
    std::vector<std::vector<double>> post(2, std::vector<double>(k));
    for (int i = 0; i < n_splits; i++) {
        const double t = lo + step * (i + 1);
        if (!(t > lo && t < hi)) continue;
        for (size_t c = 0; c < k; c++) {
            const Gaussian& g = per_class[c];
            double l = 0, r = 0;
            if (g.n <= 0) {
            } else if (t < g.min) {
                r = g.n;
            } else if (t >= g.max) {
                l = g.n;
            } else {
                l = g.cdf(t) * g.n;
                r = g.n - l;
            }
            post[0][c] = l;
            post[1][c] = r;
        }
        const double merit = criterion == Criterion::InfoGain ? info_gain_merit(pre, post, min_branch_fraction)
                                                              : gini_merit(post);
        if (merit > best.merit) {
            best.merit = merit;
            best.threshold = t;
            best.left = post[0];
            best.right = post[1];
        }
    }
    return best;
}

void histogram_add(std::vector<Bin>& bins, double x, size_t c, size_t k, size_t capacity) {
    // The first bin whose upper end is at or above x.
    auto it = std::lower_bound(bins.begin(), bins.end(), x, [](const Bin& b, double v) { return b.hi < v; });
    if (it != bins.end() && it->lo <= x) {
        it->w[c] += 1;
        return;
    }
    const size_t p = static_cast<size_t>(it - bins.begin()), n = bins.size();
    if (n < capacity || n < 2) {
        Bin b{x, x, std::vector<double>(k, 0.0)};
        b.w[c] = 1;
        bins.insert(it, std::move(b));
        return;
    }
    // Full: x's bin would make n + 1, and the narrowest union of two adjacent bins of those would
    // merge. Found over the n + 1 bins with x's at position p, then done in place (no allocation).
    auto lo = [&](size_t j) { return j < p ? bins[j].lo : j == p ? x : bins[j - 1].lo; };
    auto hi = [&](size_t j) { return j < p ? bins[j].hi : j == p ? x : bins[j - 1].hi; };
    size_t best = 0;
    double width = hi(1) - lo(0);
    for (size_t j = 1; j < n; j++)
        if (hi(j + 1) - lo(j) < width) {
            width = hi(j + 1) - lo(j);
            best = j;
        }
    if (best + 1 == p) {  // x joins the bin below it
        bins[p - 1].hi = x;
        bins[p - 1].w[c] += 1;
        return;
    }
    if (best == p) {  // x joins the bin above it
        bins[p].lo = x;
        bins[p].w[c] += 1;
        return;
    }
    // Two other bins merge (bins[m] takes bins[m + 1]); the freed bin moves to x's place.
    const size_t m = best < p ? best : best - 1;
    bins[m].hi = bins[m + 1].hi;
    for (size_t j = 0; j < k; j++) bins[m].w[j] += bins[m + 1].w[j];
    size_t at;
    if (m < p) {  // bins m+2 .. p-1 move down one
        std::rotate(bins.begin() + static_cast<std::ptrdiff_t>(m + 1), bins.begin() + static_cast<std::ptrdiff_t>(m + 2),
                    bins.begin() + static_cast<std::ptrdiff_t>(p));
        at = p - 1;
    } else {  // bins p .. m move up one
        std::rotate(bins.begin() + static_cast<std::ptrdiff_t>(p), bins.begin() + static_cast<std::ptrdiff_t>(m + 1),
                    bins.begin() + static_cast<std::ptrdiff_t>(m + 2));
        at = p;
    }
    Bin& b = bins[at];
    b.lo = b.hi = x;
    std::fill(b.w.begin(), b.w.end(), 0.0);
    b.w[c] = 1;
}

NumericSplit best_histogram_split(const std::vector<Bin>& bins, const std::vector<double>& pre, Criterion criterion,
                                  double min_branch_fraction) {
    NumericSplit best;
    if (bins.size() < 2) return best;
    const size_t k = pre.size();
    std::vector<double> total(k, 0.0);
    for (const Bin& b : bins)
        for (size_t c = 0; c < k; c++) total[c] += b.w[c];
    std::vector<std::vector<double>> post(2, std::vector<double>(k, 0.0));
    for (size_t i = 0; i + 1 < bins.size(); i++) {
        for (size_t c = 0; c < k; c++) {
            post[0][c] += bins[i].w[c];
            post[1][c] = std::max(0.0, total[c] - post[0][c]);
        }
        const double merit = criterion == Criterion::InfoGain ? info_gain_merit(pre, post, min_branch_fraction)
                                                              : gini_merit(post);
        if (merit > best.merit) {
            best.merit = merit;
            best.threshold = bins[i].hi + (bins[i + 1].lo - bins[i].hi) / 2;
            if (!(best.threshold < bins[i + 1].lo)) best.threshold = bins[i].hi;  // adjacent doubles
            best.left = post[0];
            best.right = post[1];
        }
    }
    return best;
}

}  // namespace hoeffding

// ---- the model ---------------------------------------------------------------------------------

namespace {

using hoeffding::Criterion;
using hoeffding::Gaussian;

constexpr double kMiB = 1024.0 * 1024.0;
enum class LeafPrediction { MajorityClass, NaiveBayes, Adaptive };
enum NodeKind : uint8_t { kBranch = 0, kActiveLeaf = 1, kInactiveLeaf = 2 };

[[noreturn]] void bad_json(const std::string& why) { fail(ErrorKind::InvalidParameter, "invalid ml_model: " + why); }

// One feature's statistics at one leaf: a numeric feature's Gaussian per class (and, with the
// histogram splitter, its bins), or a categorical ("key=value") feature's weight per class of the
// examples that had it.
struct Observer {
    std::vector<Gaussian> gauss;
    std::vector<hoeffding::Bin> bins;
    std::vector<double> present;
    bool empty() const { return gauss.empty() && present.empty(); }
};

struct Node {
    uint8_t kind = kActiveLeaf;
    uint32_t depth = 0;
    std::vector<double> counts;  // class weights of the examples that reached the node (a leaf: from its split too)
    // Branch: the feature tested, and the children (0: value <= threshold, or the category present).
    uint32_t feature = 0;
    double threshold = 0;
    uint32_t child[2] = {0, 0};
    // Leaf.
    double last_attempt = 0;  // total weight at the last split attempt
    double mc_correct = 0, nb_correct = 0;
    std::vector<double> seen;    // class weights the observers saw (since the leaf was made)
    std::vector<Observer> obs;   // by feature index; empty: the feature was not seen here
    bool is_leaf() const { return kind != kBranch; }
};

double total_of(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s;
}

size_t argmax(const std::vector<double>& v) {
    size_t best = 0;
    for (size_t i = 1; i < v.size(); i++)
        if (v[i] > v[best]) best = i;
    return best;
}

bool finite_nonneg(double x) { return std::isfinite(x) && x >= 0; }

// SplitMix64's finalizer: the hashes of the random feature subsets.
uint64_t subset_mix(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

class HoeffdingTreeClassifier final : public FamilyModel {
public:
    // Issue 16: the share of the training weight routed by splits on each feature.
    void importance(FeatureImportance& out) const override;
    HoeffdingTreeClassifier(const ModelFamily& family, FamilySpec spec) : FamilyModel(family, std::move(spec)) {
        const json& o = options();
        grace_period_ = o["grace_period"].get<int64_t>();
        max_depth_ = static_cast<uint32_t>(o["max_depth"].get<int64_t>());
        criterion_ = o["split_criterion"].get<std::string>() == "gini" ? Criterion::Gini : Criterion::InfoGain;
        delta_ = o["delta"].get<double>();
        tau_ = o["tau"].get<double>();
        const std::string lp = o["leaf_prediction"].get<std::string>();
        leaf_prediction_ = lp == "mc" ? LeafPrediction::MajorityClass
                           : lp == "nb" ? LeafPrediction::NaiveBayes
                                        : LeafPrediction::Adaptive;
        nb_threshold_ = static_cast<double>(o["nb_threshold"].get<int64_t>());
        n_splits_ = static_cast<int>(o["n_splits"].get<int64_t>());
        histogram_ = o["splitter"].get<std::string>() == "histogram";
        n_bins_ = static_cast<size_t>(o["n_bins"].get<int64_t>());
        min_branch_fraction_ = o["min_branch_fraction"].get<double>();
        max_bytes_ = o["max_size"].get<double>() * kMiB;
        // Random feature subsets per leaf (the Adaptive Random Forest's trees): absent, every feature.
        if (auto it = o.find("max_features"); it != o.end()) {
            subset_ = true;
            if (it->is_string()) subset_rule_ = it->get<std::string>() == "sqrt" ? -1.0 : -2.0;
            else if (it->is_number_integer()) subset_rule_ = static_cast<double>(it->get<int64_t>());
            else subset_rule_ = -3.0 - it->get<double>();  // a fraction f is stored as -3 - f
            subset_seed_ = static_cast<uint64_t>(o.value("seed", int64_t(0)));
        }
        nodes_.assign(1, Node{});
        recount_bytes();
    }

    std::unique_ptr<Model> clone() const override { return std::make_unique<HoeffdingTreeClassifier>(*this); }
    void assign(const Model& other) override { *this = dynamic_cast<const HoeffdingTreeClassifier&>(other); }
    // Partial trees grown on different rows have different splits: no merge (docs/models.md).
    bool can_merge() const override { return false; }

protected:
    void learn_terms(const std::vector<FeatureTerm>& x, double, uint32_t c) override;
    void proba_terms(const std::vector<FeatureTerm>& x, std::vector<double>& p) const override;
    // Issue 16: TreeSHAP of every class's probability (each leaf valued at its prediction for x).
    void explain_terms(const std::vector<FeatureTerm>& x, Explanation& out) const override;
    void features_added(size_t) override {}
    void classes_added(size_t k) override;
    void merge_state(const FamilyModel&, const std::vector<uint32_t>&, const std::vector<uint32_t>&,
                     const FamilyModel*) override {
        fail(ErrorKind::Internal, "a Hoeffding tree has no merge");  // can_merge() is false
    }
    void write_state(detail::ByteWriter& w) const override;
    void read_state(detail::ByteReader& r) override;
    json state_json() const override;
    void state_from_json(const json& j) override;
    std::string invalid_state() const override;
    json info_extra() const override;

private:
    size_t k() const { return class_dictionary().size(); }
    void load_values(const std::vector<FeatureTerm>& x) const;
    void clear_values(const std::vector<FeatureTerm>& x) const;
    uint32_t find_leaf(const std::vector<double>& values) const;
    uint32_t next_child(const Node& n, const std::vector<double>& values) const;
    // Log-votes of naive Bayes at a leaf; false when no class has a finite one.
    bool naive_bayes(const Node& leaf, const std::vector<FeatureTerm>& x, std::vector<double>& p) const;
    void leaf_proba(const Node& leaf, const std::vector<FeatureTerm>& x, std::vector<double>& p) const;
    void attempt_split(uint32_t leaf);
    // With "max_features": whether the leaf at `path` (a hash of the branches taken from the root,
    // stable across the binary and JSON forms) observes feature f: the leaf's features are the
    // max_features ones of smallest hash(seed, path, index) among the features known.
    bool leaf_observes(uint64_t path, uint32_t f) const;
    void deactivate(Node& leaf);
    void enforce_budget();
    size_t node_bytes(const Node& n) const;
    size_t bin_bytes() const { return 16 + 8 * k(); }
    size_t observer_bytes(const Observer& o) const {
        return 4 + 8 * (o.gauss.size() * 5 + o.present.size()) + (o.gauss.empty() ? 0 : 4 + o.bins.size() * bin_bytes());
    }
    void recount_bytes();
    std::vector<uint32_t> preorder() const;
    void write_node(detail::ByteWriter& w, uint32_t i) const;
    uint32_t read_node(detail::ByteReader& r, uint32_t depth, size_t& budget);
    json node_json(uint32_t i) const;
    uint32_t node_from_json(const json& j, uint32_t depth, size_t& budget);
    json class_weights_json(const std::vector<double>& v) const;
    std::vector<double> class_weights_from_json(const json& j, const char* what) const;

    // Options.
    int64_t grace_period_;
    uint32_t max_depth_;
    Criterion criterion_;
    double delta_, tau_;
    LeafPrediction leaf_prediction_;
    double nb_threshold_;
    int n_splits_;
    bool histogram_;  // splitter: "histogram" (else "gaussian")
    size_t n_bins_;
    double min_branch_fraction_;
    double max_bytes_;
    bool subset_ = false;
    double subset_rule_ = 0;  // -1 sqrt, -2 log2, >= 1 a count, <= -3 the fraction -3 - rule
    uint64_t subset_seed_ = 0;
    mutable uint64_t subset_path_ = 0;
    mutable size_t subset_n_ = 0;
    mutable uint64_t subset_threshold_ = 0;
    mutable std::vector<uint64_t> subset_hashes_;
    // State.
    std::vector<Node> nodes_;  // nodes_[0] is the root
    bool growth_allowed_ = true;
    size_t bytes_ = 0;         // the size of write_state's output, kept up to date
    mutable std::vector<double> values_;  // feature index -> value of the current example (NaN: absent)
    mutable std::vector<double> scratch_;
};

// ---- learning and prediction ---------------------------------------------------------------------

bool HoeffdingTreeClassifier::leaf_observes(uint64_t path, uint32_t f) const {
    const size_t n = features().size();
    double want = subset_rule_ == -1.0   ? std::round(std::sqrt(double(n)))
                  : subset_rule_ == -2.0 ? std::round(std::log2(double(n)))
                  : subset_rule_ >= 1.0  ? subset_rule_
                                         : std::floor((-3.0 - subset_rule_) * double(n));
    const size_t m = static_cast<size_t>(std::max(1.0, want));
    if (m >= n) return true;
    auto hash = [&](uint64_t i) { return subset_mix(subset_seed_ ^ subset_mix(path ^ subset_mix(i))); };
    if (subset_n_ != n || subset_path_ != path) {
        subset_hashes_.resize(n);
        for (size_t i = 0; i < n; i++) subset_hashes_[i] = hash(i);
        std::nth_element(subset_hashes_.begin(), subset_hashes_.begin() + (m - 1), subset_hashes_.end());
        subset_threshold_ = subset_hashes_[m - 1];
        subset_n_ = n;
        subset_path_ = path;
    }
    return hash(f) <= subset_threshold_;
}

void HoeffdingTreeClassifier::load_values(const std::vector<FeatureTerm>& x) const {
    if (values_.size() < features().size()) values_.resize(features().size(), std::nan(""));
    for (const FeatureTerm& t : x) values_[t.index] = t.value;
}

void HoeffdingTreeClassifier::clear_values(const std::vector<FeatureTerm>& x) const {
    for (const FeatureTerm& t : x) values_[t.index] = std::nan("");
}

uint32_t HoeffdingTreeClassifier::next_child(const Node& n, const std::vector<double>& values) const {
    const double v = n.feature < values.size() ? values[n.feature] : std::nan("");
    if (features().type(n.feature) == FeatureType::Categorical) return n.child[std::isnan(v) ? 1 : 0];
    if (!std::isnan(v)) return n.child[v <= n.threshold ? 0 : 1];
    // A missing numeric value follows the heavier branch (river's most_common_path).
    return n.child[total_of(nodes_[n.child[1]].counts) > total_of(nodes_[n.child[0]].counts) ? 1 : 0];
}

uint32_t HoeffdingTreeClassifier::find_leaf(const std::vector<double>& values) const {
    uint32_t i = 0;
    while (!nodes_[i].is_leaf()) i = next_child(nodes_[i], values);
    return i;
}

void HoeffdingTreeClassifier::learn_terms(const std::vector<FeatureTerm>& x, double, uint32_t c) {
    if (c >= k()) fail(ErrorKind::Internal, "class index out of range");
    load_values(x);
    uint32_t i = 0;
    uint64_t path = 0x5eed;
    while (!nodes_[i].is_leaf()) {
        nodes_[i].counts[c] += 1;
        const uint32_t next = next_child(nodes_[i], values_);
        if (subset_) path = subset_mix(path * 3 + (next == nodes_[i].child[1] ? 2 : 1));
        i = next;
    }
    clear_values(x);
    Node& leaf = nodes_[i];
    if (leaf.kind == kActiveLeaf) {
        if (leaf_prediction_ == LeafPrediction::Adaptive) {
            // Which of the two predictions would have been right, before learning the example.
            if (total_of(leaf.counts) <= 0 || argmax(leaf.counts) == c) leaf.mc_correct += 1;
            if (naive_bayes(leaf, x, scratch_) && argmax(scratch_) == c) leaf.nb_correct += 1;
        }
        leaf.seen[c] += 1;
        for (const FeatureTerm& t : x) {
            if (subset_ && (leaf.obs.size() <= t.index || leaf.obs[t.index].empty()) && !leaf_observes(path, t.index))
                continue;
            if (leaf.obs.size() <= t.index) leaf.obs.resize(t.index + 1);
            Observer& o = leaf.obs[t.index];
            if (o.empty()) {
                if (features().type(t.index) == FeatureType::Categorical)
                    o.present.assign(k(), 0.0);
                else
                    o.gauss.assign(k(), Gaussian{});
                bytes_ += observer_bytes(o);
            }
            if (!o.present.empty()) {
                o.present[c] += 1;
            } else {
                o.gauss[c].add(t.value);
                if (histogram_) {
                    const size_t before = o.bins.size();
                    hoeffding::histogram_add(o.bins, t.value, c, k(), n_bins_);
                    bytes_ += (o.bins.size() - before) * bin_bytes();  // a bin more, or none
                }
            }
        }
    }
    leaf.counts[c] += 1;
    if (bytes_ > max_bytes_) enforce_budget();
    Node& l = nodes_[i];
    if (!growth_allowed_ || l.kind != kActiveLeaf) return;
    if (l.depth >= max_depth_) {
        deactivate(l);
        return;
    }
    const double weight = total_of(l.counts);
    if (weight - l.last_attempt >= static_cast<double>(grace_period_)) {
        attempt_split(i);
        if (nodes_[i].is_leaf()) nodes_[i].last_attempt = weight;
    }
}

bool HoeffdingTreeClassifier::naive_bayes(const Node& leaf, const std::vector<FeatureTerm>& x,
                                          std::vector<double>& p) const {
    const size_t kk = k();
    p.assign(kk, -std::numeric_limits<double>::infinity());
    const double total = total_of(leaf.counts);
    if (total <= 0) return false;
    bool any = false;
    for (size_t c = 0; c < kk; c++) {
        if (leaf.counts[c] <= 0) continue;
        double l = std::log(leaf.counts[c] / total);
        for (const FeatureTerm& t : x) {
            if (t.index >= leaf.obs.size() || leaf.obs[t.index].empty()) continue;
            const Observer& o = leaf.obs[t.index];
            if (!o.present.empty())
                l += std::log((o.present[c] + 1) / (leaf.seen[c] + 2));  // Laplace, two values: has it or not
            else
                l += o.gauss[c].n > 0 ? o.gauss[c].log_pdf(t.value) : -std::numeric_limits<double>::infinity();
        }
        p[c] = l;
        any = any || std::isfinite(l);
    }
    return any;
}

void HoeffdingTreeClassifier::leaf_proba(const Node& leaf, const std::vector<FeatureTerm>& x,
                                         std::vector<double>& p) const {
    const size_t kk = k();
    bool nb = false;
    if (leaf.kind == kActiveLeaf) {
        if (leaf_prediction_ == LeafPrediction::NaiveBayes) nb = total_of(leaf.counts) >= nb_threshold_;
        if (leaf_prediction_ == LeafPrediction::Adaptive) nb = leaf.nb_correct >= leaf.mc_correct;
    }
    if (nb && naive_bayes(leaf, x, p)) {
        double top = -std::numeric_limits<double>::infinity();
        for (double l : p) top = std::max(top, l);
        double s = 0;
        for (double& l : p) s += l = std::exp(l - top);
        for (double& l : p) l /= s;
        return;
    }
    const double total = total_of(leaf.counts);
    p.assign(kk, kk ? 1.0 / static_cast<double>(kk) : 0.0);
    if (total > 0)
        for (size_t c = 0; c < kk; c++) p[c] = leaf.counts[c] / total;
}

void HoeffdingTreeClassifier::proba_terms(const std::vector<FeatureTerm>& x, std::vector<double>& p) const {
    load_values(x);
    const uint32_t i = find_leaf(values_);
    clear_values(x);
    leaf_proba(nodes_[i], x, p);
}

// ---- issue 16: explanations ---------------------------------------------------------------------
// TreeSHAP (core/models/common/tree_shap.hpp) of each class's probability: a leaf's value is its
// prediction for x (a naive Bayes leaf's depends on x), its cover the class weight it holds.
void HoeffdingTreeClassifier::explain_terms(const std::vector<FeatureTerm>& x, Explanation& out) const {
    out.clear();
    out.method = "tree_shap";
    out.scale = "probability";
    const size_t kk = k(), nf = features().size();
    if (kk == 0) fail(ErrorKind::InvalidParameter, "a hoeffding_tree_classifier that learned no class has nothing to explain");
    out.outputs = classes();
    out.features = features().names();
    out.values.assign(nf, std::nan(""));
    for (const FeatureTerm& t : x)
        if (t.index < nf) out.values[t.index] = t.value;
    ShapTree tree;
    tree.clear(kk);
    load_values(x);
    for (size_t i = 0; i < nodes_.size(); i++) tree.add_node();
    std::vector<double> p;
    for (size_t i = 0; i < nodes_.size(); i++) {
        const Node& n = nodes_[i];
        if (!n.is_leaf()) {
            tree.left[i] = static_cast<int32_t>(n.child[0]);
            tree.right[i] = static_cast<int32_t>(n.child[1]);
            tree.feature[i] = n.feature;
            tree.hot[i] = static_cast<int32_t>(next_child(n, values_));
            continue;
        }
        tree.cover[i] = total_of(n.counts);
        leaf_proba(n, x, p);
        for (size_t c = 0; c < kk && c < p.size(); c++) tree.value[i * kk + c] = p[c];
    }
    clear_values(x);
    std::vector<double> phi(nf * kk, 0.0);
    out.base.assign(kk, 0.0);
    tree_shap(tree, phi.data(), out.base.data());
    out.contributions.resize(kk * nf);
    for (size_t c = 0; c < kk; c++)
        for (size_t f = 0; f < nf; f++) out.contributions[c * nf + f] = phi[f * kk + c];
}

// Issue 16: ml_importance of a tree: for each feature, the weight of the training examples that
// reached a split on it (summed over its splits), as a share of the examples the root saw.
void HoeffdingTreeClassifier::importance(FeatureImportance& out) const {
    out.kind = "split_weight";
    out.features = features().names();
    out.importance.assign(out.features.size(), 0.0);
    const Node& root = nodes_[0];
    const double total = total_of(root.counts);
    for (const Node& n : nodes_)
        if (!n.is_leaf() && n.feature < out.importance.size() && total > 0) out.importance[n.feature] += total_of(n.counts) / total;
}

// ---- growing ------------------------------------------------------------------------------------

void HoeffdingTreeClassifier::attempt_split(uint32_t i) {
    const std::vector<double> pre = nodes_[i].counts;
    int classes_present = 0;
    for (double w : pre) classes_present += w > 0;
    if (classes_present < 2) return;  // pure: nothing to gain
    struct Candidate {
        double merit;
        uint32_t feature;  // UINT32_MAX: the null split (no split)
        double threshold;
        std::vector<double> left, right;
    };
    std::vector<Candidate> cands;
    // Not splitting is a candidate (VFDT's pre-pruning): a split must beat it by the bound.
    const double null_merit = criterion_ == Criterion::InfoGain ? 0.0 : hoeffding::gini_merit({pre});
    cands.push_back({null_merit, UINT32_MAX, 0, {}, {}});
    const Node& leaf = nodes_[i];
    for (uint32_t f = 0; f < leaf.obs.size(); f++) {
        const Observer& o = leaf.obs[f];
        if (o.empty()) continue;
        if (!o.present.empty()) {
            std::vector<std::vector<double>> post(2, std::vector<double>(k()));
            for (size_t c = 0; c < k(); c++) {
                post[0][c] = o.present[c];
                post[1][c] = std::max(0.0, leaf.seen[c] - o.present[c]);
            }
            const double merit = criterion_ == Criterion::InfoGain
                                     ? hoeffding::info_gain_merit(pre, post, min_branch_fraction_)
                                     : hoeffding::gini_merit(post);
            cands.push_back({merit, f, 0, post[0], post[1]});
        } else {
            hoeffding::NumericSplit s =
                histogram_ ? hoeffding::best_histogram_split(o.bins, pre, criterion_, min_branch_fraction_)
                           : hoeffding::best_numeric_split(o.gauss, pre, n_splits_, criterion_, min_branch_fraction_);
            cands.push_back({s.merit, f, s.threshold, std::move(s.left), std::move(s.right)});
        }
    }
    // Best first; equal merits keep the null split, then the lower feature index, first.
    std::stable_sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) { return a.merit > b.merit; });
    if (cands.size() < 2) return;
    const Candidate& best = cands[0];
    if (best.feature == UINT32_MAX || !std::isfinite(best.merit)) return;
    const double range = criterion_ == Criterion::InfoGain ? hoeffding::info_gain_range(pre) : 1.0;
    const double bound = hoeffding::hoeffding_bound(range, delta_, total_of(pre));
    if (!(best.merit - cands[1].merit > bound || bound < tau_)) return;
    // Split: the leaf becomes a branch over two new active leaves.
    Node l, r;
    l.depth = r.depth = leaf.depth + 1;
    l.counts = best.left;
    r.counts = best.right;
    for (Node* n : {&l, &r}) {
        n->last_attempt = total_of(n->counts);
        n->seen.assign(k(), 0.0);
    }
    bytes_ -= node_bytes(nodes_[i]);
    Node& b = nodes_[i];
    b.kind = kBranch;
    b.feature = best.feature;
    b.threshold = best.threshold;
    b.obs.clear();
    b.obs.shrink_to_fit();
    b.seen.clear();
    b.last_attempt = b.mc_correct = b.nb_correct = 0;
    b.child[0] = static_cast<uint32_t>(nodes_.size());
    b.child[1] = b.child[0] + 1;
    bytes_ += node_bytes(b) + node_bytes(l) + node_bytes(r);
    nodes_.push_back(std::move(l));
    nodes_.push_back(std::move(r));
    if (bytes_ > max_bytes_) enforce_budget();
}

void HoeffdingTreeClassifier::deactivate(Node& leaf) {
    bytes_ -= node_bytes(leaf);
    leaf.kind = kInactiveLeaf;
    leaf.obs.clear();
    leaf.obs.shrink_to_fit();
    leaf.seen.clear();
    bytes_ += node_bytes(leaf);
}

// Over the memory budget: the least promising active leaves (fewest examples outside their
// majority class, river's calculate_promise) stop observing until the tree fits; a tree left
// without an active leaf, or that does not fit even then, stops growing for good.
void HoeffdingTreeClassifier::enforce_budget() {
    std::vector<uint32_t> active;
    for (uint32_t i : preorder())
        if (nodes_[i].kind == kActiveLeaf) active.push_back(i);
    auto promise = [&](uint32_t i) {
        const auto& c = nodes_[i].counts;
        return c.empty() ? 0.0 : total_of(c) - c[argmax(c)];
    };
    std::stable_sort(active.begin(), active.end(), [&](uint32_t a, uint32_t b) { return promise(a) < promise(b); });
    size_t left = active.size();
    for (uint32_t i : active) {
        if (static_cast<double>(bytes_) <= max_bytes_) break;
        deactivate(nodes_[i]);
        left--;
    }
    if (left == 0 || static_cast<double>(bytes_) > max_bytes_) growth_allowed_ = false;
}

void HoeffdingTreeClassifier::classes_added(size_t kk) {
    for (Node& n : nodes_) {
        n.counts.resize(kk, 0.0);
        if (n.kind != kActiveLeaf) continue;
        n.seen.resize(kk, 0.0);
        for (Observer& o : n.obs) {
            if (!o.present.empty()) o.present.resize(kk, 0.0);
            if (!o.gauss.empty()) o.gauss.resize(kk, Gaussian{});
            for (hoeffding::Bin& b : o.bins) b.w.resize(kk, 0.0);
        }
    }
    recount_bytes();
}

// ---- size ----------------------------------------------------------------------------------------

size_t HoeffdingTreeClassifier::node_bytes(const Node& n) const {
    size_t b = 1 + 8 * k();
    if (n.kind == kBranch) return b + 4 + 8;
    b += 24;
    if (n.kind == kActiveLeaf) {
        b += 8 * k() + 4;
        for (const Observer& o : n.obs)
            if (!o.empty()) b += observer_bytes(o);
    }
    return b;
}

void HoeffdingTreeClassifier::recount_bytes() {
    bytes_ = 8;
    for (const Node& n : nodes_) bytes_ += node_bytes(n);
}

std::vector<uint32_t> HoeffdingTreeClassifier::preorder() const {
    std::vector<uint32_t> out, stack = {0};
    out.reserve(nodes_.size());
    while (!stack.empty() && out.size() <= nodes_.size()) {
        const uint32_t i = stack.back();
        stack.pop_back();
        out.push_back(i);
        if (i < nodes_.size() && !nodes_[i].is_leaf()) {
            stack.push_back(nodes_[i].child[1]);
            stack.push_back(nodes_[i].child[0]);
        }
    }
    return out;
}

json HoeffdingTreeClassifier::info_extra() const {
    size_t leaves = 0, active = 0, depth = 0;
    for (const Node& n : nodes_) {
        if (!n.is_leaf()) continue;
        leaves++;
        active += n.kind == kActiveLeaf;
        depth = std::max<size_t>(depth, n.depth);
    }
    return {{"n_nodes", nodes_.size()}, {"n_leaves", leaves},   {"n_active_leaves", active},
            {"depth", depth},           {"growth_allowed", growth_allowed_}, {"tree_bytes", bytes_}};
}

// ---- validation ----------------------------------------------------------------------------------

std::string HoeffdingTreeClassifier::invalid_state() const {
    const size_t kk = k(), nf = features().size();
    if (nodes_.empty()) return "tree has no root";
    const std::vector<uint32_t> order = preorder();
    if (order.size() != nodes_.size()) return "tree nodes are not one tree";
    std::vector<uint8_t> seen_node(nodes_.size(), 0);
    for (uint32_t i : order) {
        if (i >= nodes_.size() || seen_node[i]) return "tree nodes are not one tree";
        seen_node[i] = 1;
    }
    if (nodes_[0].depth != 0) return "tree root depth is not 0";
    for (const Node& n : nodes_) {
        if (n.kind > kInactiveLeaf) return "unknown tree node kind";
        if (n.counts.size() != kk) return "class counts do not match the classes";
        for (double w : n.counts)
            if (!finite_nonneg(w)) return "class counts must be finite and non-negative";
        if (n.kind == kBranch) {
            if (n.depth >= max_depth_) return "a branch is deeper than max_depth allows";
            if (n.feature >= nf) return "a split names an unknown feature";
            if (!std::isfinite(n.threshold)) return "a split threshold is not finite";
            if (features().type(n.feature) == FeatureType::Categorical && n.threshold != 0)
                return "a categorical split has a threshold";
            for (uint32_t c : n.child)
                if (c >= nodes_.size() || nodes_[c].depth != n.depth + 1) return "tree node depths are inconsistent";
            if (!n.obs.empty() || !n.seen.empty()) return "a branch holds leaf statistics";
            if (n.last_attempt != 0 || n.mc_correct != 0 || n.nb_correct != 0) return "a branch holds leaf statistics";
            continue;
        }
        if (n.depth > max_depth_) return "a leaf is deeper than max_depth allows";
        if (!finite_nonneg(n.last_attempt) || !finite_nonneg(n.mc_correct) || !finite_nonneg(n.nb_correct))
            return "leaf counters must be finite and non-negative";
        if (n.kind == kInactiveLeaf) {
            if (!n.obs.empty() || !n.seen.empty()) return "an inactive leaf holds observers";
            continue;
        }
        if (n.seen.size() != kk) return "leaf class weights do not match the classes";
        for (double w : n.seen)
            if (!finite_nonneg(w)) return "leaf class weights must be finite and non-negative";
        if (n.obs.size() > nf) return "an observer names an unknown feature";
        for (size_t f = 0; f < n.obs.size(); f++) {
            const Observer& o = n.obs[f];
            if (o.empty()) continue;
            const bool cat = features().type(f) == FeatureType::Categorical;
            if (cat ? (o.present.size() != kk || !o.gauss.empty()) : (o.gauss.size() != kk || !o.present.empty()))
                return "an observer does not match its feature's type or the classes";
            for (double w : o.present)
                if (!finite_nonneg(w)) return "observer weights must be finite and non-negative";
            for (const Gaussian& g : o.gauss) {
                if (!finite_nonneg(g.n)) return "observer weights must be finite and non-negative";
                if (g.n == 0) {
                    if (g.mean != 0 || g.m2 != 0 || g.min != std::numeric_limits<double>::infinity() ||
                        g.max != -std::numeric_limits<double>::infinity())
                        return "an empty observer holds values";
                } else if (!std::isfinite(g.mean) || !finite_nonneg(g.m2) || !std::isfinite(g.min) ||
                           !std::isfinite(g.max) || g.min > g.max) {
                    return "observer statistics out of range";
                }
            }
            if (o.bins.size() > (histogram_ && !cat ? n_bins_ : 0)) return "more observer bins than the spec allows";
            std::vector<double> binned(kk, 0.0);
            for (size_t b = 0; b < o.bins.size(); b++) {
                const hoeffding::Bin& bin = o.bins[b];
                if (!std::isfinite(bin.lo) || !std::isfinite(bin.hi) || bin.lo > bin.hi || bin.w.size() != kk ||
                    (b > 0 && !(o.bins[b - 1].hi < bin.lo)))
                    return "observer bins out of order or overlapping";
                for (size_t c = 0; c < kk; c++) {
                    if (!finite_nonneg(bin.w[c])) return "observer weights must be finite and non-negative";
                    binned[c] += bin.w[c];
                }
            }
            // Each value seen is in one bin (whole weights: the sums are exact).
            if (histogram_ && !cat)
                for (size_t c = 0; c < kk; c++)
                    if (binned[c] != o.gauss[c].n) return "an observer's bins do not hold its values";
        }
    }
    return {};
}

// ---- binary form ---------------------------------------------------------------------------------
// u32 flags (bit 0: growth allowed), u32 node count, then the nodes in preorder: u8 kind, f64
// class counts[k]; a branch: u32 feature, f64 threshold, then its two children; a leaf: f64 last
// split attempt, f64 majority-class and naive-Bayes correct weights; an active leaf then f64
// seen[k], u32 observer count and per observer (by increasing feature) u32 feature and its
// statistics (numeric: n, mean, m2, min, max per class, then u32 bin count and per bin f64 lo,
// hi and weights[k]; categorical: a weight per class).

void HoeffdingTreeClassifier::write_node(detail::ByteWriter& w, uint32_t i) const {
    const Node& n = nodes_[i];
    w.put<uint8_t>(n.kind);
    for (double c : n.counts) w.put<double>(c);
    if (n.kind == kBranch) {
        w.put<uint32_t>(n.feature);
        w.put<double>(n.threshold);
        write_node(w, n.child[0]);
        write_node(w, n.child[1]);
        return;
    }
    w.put<double>(n.last_attempt);
    w.put<double>(n.mc_correct);
    w.put<double>(n.nb_correct);
    if (n.kind != kActiveLeaf) return;
    for (double c : n.seen) w.put<double>(c);
    uint32_t count = 0;
    for (const Observer& o : n.obs) count += !o.empty();
    w.put<uint32_t>(count);
    for (uint32_t f = 0; f < n.obs.size(); f++) {
        const Observer& o = n.obs[f];
        if (o.empty()) continue;
        w.put<uint32_t>(f);
        for (double p : o.present) w.put<double>(p);
        for (const Gaussian& g : o.gauss)
            for (double v : {g.n, g.mean, g.m2, g.min, g.max}) w.put<double>(v);
        if (o.gauss.empty()) continue;
        w.put<uint32_t>(static_cast<uint32_t>(o.bins.size()));
        for (const hoeffding::Bin& b : o.bins) {
            w.put<double>(b.lo);
            w.put<double>(b.hi);
            for (double v : b.w) w.put<double>(v);
        }
    }
}

void HoeffdingTreeClassifier::write_state(detail::ByteWriter& w) const {
    w.put<uint32_t>(growth_allowed_ ? 1u : 0u);
    w.put<uint32_t>(static_cast<uint32_t>(nodes_.size()));
    write_node(w, 0);
}

uint32_t HoeffdingTreeClassifier::read_node(detail::ByteReader& r, uint32_t depth, size_t& budget) {
    if (budget == 0) r.corrupt("more tree nodes than the count says");
    budget--;
    if (depth > max_depth_) r.corrupt("tree deeper than max_depth");
    const size_t kk = k(), nf = features().size();
    Node n;
    n.depth = depth;
    n.kind = r.get<uint8_t>("tree node");
    if (n.kind > kInactiveLeaf) r.corrupt("unknown tree node kind");
    n.counts.resize(kk);
    for (double& c : n.counts) c = r.get<double>("tree node");
    const auto index = static_cast<uint32_t>(nodes_.size());
    if (n.kind == kBranch) {
        n.feature = r.get<uint32_t>("tree node");
        n.threshold = r.get<double>("tree node");
        if (n.feature >= nf) r.corrupt("a split names an unknown feature");
        nodes_.push_back(std::move(n));
        const uint32_t a = read_node(r, depth + 1, budget);
        const uint32_t b = read_node(r, depth + 1, budget);
        nodes_[index].child[0] = a;
        nodes_[index].child[1] = b;
        return index;
    }
    n.last_attempt = r.get<double>("tree leaf");
    n.mc_correct = r.get<double>("tree leaf");
    n.nb_correct = r.get<double>("tree leaf");
    if (n.kind == kActiveLeaf) {
        n.seen.resize(kk);
        for (double& c : n.seen) c = r.get<double>("tree leaf");
        const auto count = r.get<uint32_t>("tree leaf");
        if (count > nf) r.corrupt("more observers than features");
        int64_t last = -1;
        for (uint32_t j = 0; j < count; j++) {
            const auto f = r.get<uint32_t>("observer");
            if (f >= nf || static_cast<int64_t>(f) <= last) r.corrupt("observer features out of order or unknown");
            last = f;
            n.obs.resize(f + 1);
            Observer& o = n.obs[f];
            if (features().type(f) == FeatureType::Categorical) {
                o.present.resize(kk);
                for (double& p : o.present) p = r.get<double>("observer");
            } else {
                o.gauss.resize(kk);
                for (Gaussian& g : o.gauss)
                    for (double* v : {&g.n, &g.mean, &g.m2, &g.min, &g.max}) *v = r.get<double>("observer");
                const auto bins = r.get<uint32_t>("observer");
                if (bins > n_bins_ || (!histogram_ && bins != 0)) r.corrupt("more observer bins than the spec allows");
                o.bins.resize(bins);
                for (hoeffding::Bin& b : o.bins) {
                    b.lo = r.get<double>("observer bin");
                    b.hi = r.get<double>("observer bin");
                    b.w.resize(kk);
                    for (double& v : b.w) v = r.get<double>("observer bin");
                }
            }
            if (kk == 0) r.corrupt("an observer without classes");
        }
    }
    nodes_.push_back(std::move(n));
    return index;
}

void HoeffdingTreeClassifier::read_state(detail::ByteReader& r) {
    const auto flags = r.get<uint32_t>("tree");
    if (flags > 1) r.corrupt("unknown tree flags");
    const auto count = r.get<uint32_t>("tree");
    if (count == 0 || count > r.remaining()) r.corrupt("tree node count out of range");
    nodes_.clear();
    growth_allowed_ = flags == 1;
    size_t budget = count;
    read_node(r, 0, budget);
    if (budget != 0) r.corrupt("fewer tree nodes than the count says");
    if (std::string why = invalid_state(); !why.empty()) r.corrupt(why);
    recount_bytes();
}

// ---- JSON form -----------------------------------------------------------------------------------
// {"growth_allowed": bool, "tree": node}; a node shows its class weights by class name
// ("class_counts"); a branch its feature, its threshold (numeric) and its children "le" and "gt"
// (numeric: value <= threshold, greater) or "is" and "is_not" (a categorical "key=value"); a
// leaf whether it is active, its counters and its observers by feature name (per class in the
// order of "classes": [n, mean, m2, min, max] or null when the class was not seen; a weight for
// a categorical feature).

json HoeffdingTreeClassifier::class_weights_json(const std::vector<double>& v) const {
    json o = json::object();
    for (size_t c = 0; c < v.size(); c++) o[class_dictionary().names()[c]] = v[c];
    return o;
}

std::vector<double> HoeffdingTreeClassifier::class_weights_from_json(const json& j, const char* what) const {
    if (!j.is_object() || j.size() != k()) bad_json(std::string("\"") + what + "\" must hold one weight per class");
    std::vector<double> v(k());
    const auto& names = class_dictionary().names();
    for (size_t c = 0; c < names.size(); c++) {
        auto it = j.find(names[c]);
        if (it == j.end() || !it->is_number()) bad_json(std::string("\"") + what + "\" must hold one weight per class");
        v[c] = it->get<double>();
    }
    return v;
}

json HoeffdingTreeClassifier::node_json(uint32_t i) const {
    const Node& n = nodes_[i];
    json j = {{"class_counts", class_weights_json(n.counts)}};
    if (n.kind == kBranch) {
        j["feature"] = features().name(n.feature);
        if (features().type(n.feature) == FeatureType::Categorical) {
            j["is"] = node_json(n.child[0]);
            j["is_not"] = node_json(n.child[1]);
        } else {
            j["threshold"] = n.threshold;
            j["le"] = node_json(n.child[0]);
            j["gt"] = node_json(n.child[1]);
        }
        return j;
    }
    j["active"] = n.kind == kActiveLeaf;
    j["last_split_attempt"] = n.last_attempt;
    j["mc_correct"] = n.mc_correct;
    j["nb_correct"] = n.nb_correct;
    if (n.kind != kActiveLeaf) return j;
    j["seen"] = class_weights_json(n.seen);
    json obs = json::object(), bins = json::object();
    for (uint32_t f = 0; f < n.obs.size(); f++) {
        const Observer& o = n.obs[f];
        if (o.empty()) continue;
        json per = json::array();
        for (double p : o.present) per.push_back(p);
        for (const Gaussian& g : o.gauss) {
            if (g.n == 0)
                per.push_back(nullptr);
            else
                per.push_back({g.n, g.mean, g.m2, g.min, g.max});
        }
        obs[features().name(f)] = per;
        if (!histogram_ || o.gauss.empty()) continue;
        json hist = json::array();
        for (const hoeffding::Bin& b : o.bins) {
            json e = {b.lo, b.hi};
            for (double v : b.w) e.push_back(v);
            hist.push_back(std::move(e));
        }
        bins[features().name(f)] = std::move(hist);
    }
    j["observers"] = obs;
    if (histogram_) j["bins"] = bins;
    return j;
}

json HoeffdingTreeClassifier::state_json() const {
    return {{"growth_allowed", growth_allowed_}, {"tree", node_json(0)}};
}

uint32_t HoeffdingTreeClassifier::node_from_json(const json& j, uint32_t depth, size_t& budget) {
    if (budget == 0) bad_json("tree too large");
    budget--;
    if (depth > max_depth_) bad_json("tree deeper than max_depth");
    if (!j.is_object()) bad_json("a tree node must be an object");
    auto number = [&](const char* key) {
        auto it = j.find(key);
        if (it == j.end() || !it->is_number()) bad_json(std::string("a tree leaf needs a number \"") + key + "\"");
        return it->get<double>();
    };
    const size_t kk = k();
    Node n;
    n.depth = depth;
    if (!j.contains("class_counts")) bad_json("a tree node needs \"class_counts\"");
    n.counts = class_weights_from_json(j["class_counts"], "class_counts");
    const auto index = static_cast<uint32_t>(nodes_.size());
    if (j.contains("feature")) {
        n.kind = kBranch;
        const json& f = j["feature"];
        const uint32_t fi = f.is_string() ? features().find(f.get<std::string>()) : kUnknownFeature;
        if (fi == kUnknownFeature) bad_json("a split names an unknown feature");
        n.feature = fi;
        const bool cat = features().type(fi) == FeatureType::Categorical;
        for (auto it = j.begin(); it != j.end(); ++it) {
            const std::string& key = it.key();
            const bool ok = key == "class_counts" || key == "feature" ||
                            (cat ? key == "is" || key == "is_not" : key == "threshold" || key == "le" || key == "gt");
            if (!ok) bad_json("unknown key \"" + key + "\" in a tree split");
        }
        if (!cat) n.threshold = number("threshold");
        const char* a = cat ? "is" : "le";
        const char* b = cat ? "is_not" : "gt";
        if (!j.contains(a) || !j.contains(b)) bad_json(std::string("a tree split needs \"") + a + "\" and \"" + b + "\"");
        nodes_.push_back(std::move(n));
        const uint32_t ca = node_from_json(j[a], depth + 1, budget);
        const uint32_t cb = node_from_json(j[b], depth + 1, budget);
        nodes_[index].child[0] = ca;
        nodes_[index].child[1] = cb;
        return index;
    }
    if (!j.contains("active") || !j["active"].is_boolean()) bad_json("a tree leaf needs a boolean \"active\"");
    const bool active = j["active"].get<bool>();
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& key = it.key();
        const bool ok = key == "class_counts" || key == "active" || key == "last_split_attempt" ||
                        key == "mc_correct" || key == "nb_correct" ||
                        (active && (key == "seen" || key == "observers" || (histogram_ && key == "bins")));
        if (!ok) bad_json("unknown key \"" + key + "\" in a tree leaf");
    }
    n.kind = active ? kActiveLeaf : kInactiveLeaf;
    n.last_attempt = number("last_split_attempt");
    n.mc_correct = number("mc_correct");
    n.nb_correct = number("nb_correct");
    if (active) {
        if (!j.contains("seen") || !j.contains("observers") || !j["observers"].is_object() ||
            (histogram_ && (!j.contains("bins") || !j["bins"].is_object())))
            bad_json(histogram_ ? "an active tree leaf needs \"seen\", \"observers\" and \"bins\""
                                : "an active tree leaf needs \"seen\" and \"observers\"");
        n.seen = class_weights_from_json(j["seen"], "seen");
        // Observers by feature index (JSON objects list their keys in name order).
        std::vector<std::pair<uint32_t, const json*>> obs;
        for (auto it = j["observers"].begin(); it != j["observers"].end(); ++it) {
            const uint32_t f = features().find(it.key());
            if (f == kUnknownFeature) bad_json("an observer names an unknown feature");
            obs.emplace_back(f, &it.value());
        }
        std::sort(obs.begin(), obs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [f, v] : obs) {
            if (!v->is_array() || v->size() != kk || kk == 0) bad_json("an observer must hold one entry per class");
            n.obs.resize(f + 1);
            Observer& o = n.obs[f];
            const bool cat = features().type(f) == FeatureType::Categorical;
            for (const json& e : *v) {
                if (cat) {
                    if (!e.is_number()) bad_json("a categorical observer holds one weight per class");
                    o.present.push_back(e.get<double>());
                } else if (e.is_null()) {
                    o.gauss.push_back(Gaussian{});
                } else {
                    if (!e.is_array() || e.size() != 5) bad_json("a numeric observer holds [n, mean, m2, min, max] or null per class");
                    Gaussian g;
                    double* fields[] = {&g.n, &g.mean, &g.m2, &g.min, &g.max};
                    for (size_t q = 0; q < 5; q++) {
                        if (!e[q].is_number()) bad_json("a numeric observer holds [n, mean, m2, min, max] or null per class");
                        *fields[q] = e[q].get<double>();
                    }
                    if (g.n == 0) bad_json("a numeric observer's class without values is null");
                    o.gauss.push_back(g);
                }
            }
        }
        // The histogram splitter's bins, by numeric feature: [lo, hi, weight per class] each.
        if (histogram_)
            for (auto it = j["bins"].begin(); it != j["bins"].end(); ++it) {
                const uint32_t f = features().find(it.key());
                if (f == kUnknownFeature || f >= n.obs.size() || n.obs[f].gauss.empty())
                    bad_json("\"bins\" names a feature without a numeric observer");
                if (!it->is_array() || it->size() > n_bins_) bad_json("a feature's bins must be an array of at most n_bins");
                for (const json& e : *it) {
                    if (!e.is_array() || e.size() != 2 + kk) bad_json("a bin holds [lo, hi, a weight per class]");
                    for (const json& v : e)
                        if (!v.is_number()) bad_json("a bin holds [lo, hi, a weight per class]");
                    hoeffding::Bin b{e[0].get<double>(), e[1].get<double>(), {}};
                    for (size_t c = 0; c < kk; c++) b.w.push_back(e[2 + c].get<double>());
                    n.obs[f].bins.push_back(std::move(b));
                }
            }
    }
    nodes_.push_back(std::move(n));
    return index;
}

void HoeffdingTreeClassifier::state_from_json(const json& j) {
    if (!j.is_object() || j.size() != 2 || !j.contains("growth_allowed") || !j["growth_allowed"].is_boolean() ||
        !j.contains("tree"))
        bad_json("\"state\" must be {\"growth_allowed\": boolean, \"tree\": node}");
    nodes_.clear();
    growth_allowed_ = j["growth_allowed"].get<bool>();
    size_t budget = size_t(1) << 24;
    node_from_json(j["tree"], 0, budget);
    if (std::string why = invalid_state(); !why.empty()) bad_json(why);
    recount_bytes();
}

// ---- spec ----------------------------------------------------------------------------------------

const ModelFamily& classifier_family();

std::unique_ptr<Model> classifier_from_spec(const json& spec) {
    FamilySpec s = parse_family_spec(spec, {"grace_period", "max_depth", "split_criterion", "delta", "tau",
                                            "leaf_prediction", "nb_threshold", "n_splits", "min_branch_fraction",
                                            "max_size", "splitter", "n_bins", "max_features", "seed"});
    json& o = s.options;
    o["grace_period"] = integer_option(spec, "grace_period", 200, 1, 1000000000);
    o["max_depth"] = integer_option(spec, "max_depth", 20, 1, 50);
    o["split_criterion"] = choice_option(spec, "split_criterion", "info_gain", {"info_gain", "gini"});
    const double delta = number_option(spec, "delta", 1e-7, 0, 1);
    if (!(delta > 0 && delta < 1))
        fail(ErrorKind::InvalidParameter, "invalid model spec: \"delta\" must be between 0 and 1 (exclusive)");
    o["delta"] = delta;
    o["tau"] = number_option(spec, "tau", 0.05, 0, 1);
    o["leaf_prediction"] = choice_option(spec, "leaf_prediction", "nba", {"mc", "nb", "nba"});
    o["nb_threshold"] = integer_option(spec, "nb_threshold", 0, 0, 1000000000);
    o["n_splits"] = integer_option(spec, "n_splits", 10, 1, 1000);
    o["splitter"] = choice_option(spec, "splitter", "histogram", {"histogram", "gaussian"});
    o["n_bins"] = integer_option(spec, "n_bins", 8, 2, 1024);
    o["min_branch_fraction"] = number_option(spec, "min_branch_fraction", 0.01, 0, 0.5);
    const double max_size = number_option(spec, "max_size", 100, 0, 1000);
    if (!(max_size > 0)) fail(ErrorKind::InvalidParameter, "invalid model spec: \"max_size\" must be more than 0 (MiB)");
    o["max_size"] = max_size;
    // A random feature subset per leaf (docs/models.md): written out only when given, so that
    // the specs (and identities) of the trees without it stay as they were.
    if (auto it = spec.find("max_features"); it != spec.end()) {
        const char* what = "invalid model spec: \"max_features\" must be \"sqrt\", \"log2\", a whole number of features "
                           "(1 to 1000000) or a fraction in (0, 1]";
        if (it->is_string()) {
            const std::string& v = it->get_ref<const std::string&>();
            if (v != "sqrt" && v != "log2") fail(ErrorKind::InvalidParameter, what);
            o["max_features"] = v;
        } else if (it->is_number_integer()) {
            const int64_t v = it->get<int64_t>();
            if (v < 1 || v > 1000000) fail(ErrorKind::InvalidParameter, what);
            o["max_features"] = v;
        } else if (it->is_number_float()) {
            const double v = it->get<double>();
            if (!(v > 0 && v <= 1)) fail(ErrorKind::InvalidParameter, what);
            o["max_features"] = v;
        } else {
            fail(ErrorKind::InvalidParameter, what);
        }
        o["seed"] = integer_option(spec, "seed", 0, 0, (int64_t(1) << 53) - 1);
    } else if (spec.contains("seed")) {
        fail(ErrorKind::InvalidParameter, "invalid model spec: \"seed\" chooses the random feature subsets of \"max_features\"",
             {}, "Give \"max_features\" too, or leave \"seed\" out.");
    }
    return std::make_unique<HoeffdingTreeClassifier>(classifier_family(), std::move(s));
}

const ModelFamily& classifier_family() {
    static const ModelFamily f = family_entry("hoeffding_tree_classifier", 30, Task::Multiclass, &classifier_from_spec);
    return f;
}

}  // namespace

const std::vector<const ModelFamily*>& hoeffding_tree_families() {
    static const std::vector<const ModelFamily*> all = {&classifier_family()};
    return all;
}

}  // namespace pg_learn::core
