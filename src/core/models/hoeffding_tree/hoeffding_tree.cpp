// The Hoeffding tree classifier (core/models/hoeffding_tree/hoeffding_tree.hpp; docs/models.md,
// "Hoeffding trees").
#include "core/models/hoeffding_tree/hoeffding_tree.hpp"

#include "core/common/error.hpp"
#include "core/models/hoeffding_tree/tree_common.hpp"

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

using hoeffding::bad_json;
using hoeffding::Criterion;
using hoeffding::finite_nonneg;
using hoeffding::Gaussian;
using hoeffding::kActiveLeaf;
using hoeffding::kBranch;
using hoeffding::kInactiveLeaf;

enum class LeafPrediction { MajorityClass, NaiveBayes, Adaptive };

// One feature's statistics at one leaf: a numeric feature's Gaussian per class (and, with the
// histogram splitter, its bins), or a categorical ("key=value") feature's weight per class of the
// examples that had it.
struct Observer {
    std::vector<Gaussian> gauss;
    std::vector<hoeffding::Bin> bins;
    std::vector<double> present;
    bool empty() const { return gauss.empty() && present.empty(); }
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

// A node (core/models/hoeffding_tree/tree_common.hpp, NodeBase): its class weights, and a leaf's
// counters and observers.
struct Node : hoeffding::NodeBase {
    std::vector<double> counts;  // class weights of the examples that reached the node (a leaf: from its split too)
    // Leaf.
    double mc_correct = 0, nb_correct = 0;
    std::vector<double> seen;    // class weights the observers saw (since the leaf was made)
    std::vector<Observer> obs;   // by feature index; empty: the feature was not seen here

    double weight() const { return total_of(counts); }
    double attempt_weight() const { return total_of(counts); }
    // Fewest examples outside the majority class first (river's calculate_promise).
    double promise() const { return counts.empty() ? 0.0 : total_of(counts) - counts[argmax(counts)]; }
    void stop_observing() {
        obs.clear();
        obs.shrink_to_fit();
        seen.clear();
    }
    void clear_leaf() {
        stop_observing();
        last_attempt = mc_correct = nb_correct = 0;
    }
};

// SplitMix64's finalizer: the hashes of the random feature subsets.
uint64_t subset_mix(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

class HoeffdingTreeClassifier final : public hoeffding::TreeModel<Node> {
public:
    HoeffdingTreeClassifier(const ModelFamily& family, FamilySpec spec) : TreeModel(family, std::move(spec)) {
        const json& o = options();
        criterion_ = o["split_criterion"].get<std::string>() == "gini" ? Criterion::Gini : Criterion::InfoGain;
        const std::string lp = o["leaf_prediction"].get<std::string>();
        leaf_prediction_ = lp == "mc" ? LeafPrediction::MajorityClass
                           : lp == "nb" ? LeafPrediction::NaiveBayes
                                        : LeafPrediction::Adaptive;
        nb_threshold_ = static_cast<double>(o["nb_threshold"].get<int64_t>());
        n_splits_ = static_cast<int>(o["n_splits"].get<int64_t>());
        histogram_ = o["splitter"].get<std::string>() == "histogram";
        n_bins_ = static_cast<size_t>(o["n_bins"].get<int64_t>());
        min_branch_fraction_ = o["min_branch_fraction"].get<double>();
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

protected:
    void learn_terms(const std::vector<FeatureTerm>& x, double, uint32_t c) override;
    void proba_terms(const std::vector<FeatureTerm>& x, std::vector<double>& p) const override;
    // Issue 16: TreeSHAP of every class's probability (each leaf valued at its prediction for x).
    void explain_terms(const std::vector<FeatureTerm>& x, Explanation& out) const override;
    void features_added(size_t) override {}
    void classes_added(size_t k) override;
    json state_json() const override;
    void state_from_json(const json& j) override;

    // The tree's hooks (tree_common.hpp).
    void attempt_split(uint32_t leaf) override;
    size_t node_bytes(const Node& n) const override;
    size_t header_bytes() const override { return 8; }
    void write_stats(detail::ByteWriter& w, const Node& n) const override;
    void read_stats(detail::ByteReader& r, Node& n) const override;
    void write_leaf(detail::ByteWriter& w, const Node& n) const override;
    void read_leaf(detail::ByteReader& r, Node& n) const override;
    const char* stats_key() const override { return "class_counts"; }
    json stats_json(const Node& n) const override { return class_weights_json(n.counts); }
    void stats_from_json(const json& j, Node& n) const override { n.counts = class_weights_from_json(j, "class_counts"); }
    void leaf_json(const Node& n, json& j) const override;
    bool leaf_key(const std::string& key, bool active) const override;
    void leaf_from_json(const json& j, Node& n) const override;
    std::string invalid_node_stats(const Node& n) const override;
    std::string invalid_node(const Node& n) const override;

private:
    size_t k() const { return class_dictionary().size(); }
    // Log-votes of naive Bayes at a leaf; false when no class has a finite one.
    bool naive_bayes(const Node& leaf, const std::vector<FeatureTerm>& x, std::vector<double>& p) const;
    void leaf_proba(const Node& leaf, const std::vector<FeatureTerm>& x, std::vector<double>& p) const;
    // With "max_features": whether the leaf at `path` (a hash of the branches taken from the root,
    // stable across the binary and JSON forms) observes feature f: the leaf's features are the
    // max_features ones of smallest hash(seed, path, index) among the features known.
    bool leaf_observes(uint64_t path, uint32_t f) const;
    size_t bin_bytes() const { return 16 + 8 * k(); }
    size_t observer_bytes(const Observer& o) const {
        return 4 + 8 * (o.gauss.size() * 5 + o.present.size()) + (o.gauss.empty() ? 0 : 4 + o.bins.size() * bin_bytes());
    }
    json class_weights_json(const std::vector<double>& v) const;
    std::vector<double> class_weights_from_json(const json& j, const char* what) const;

    // Options (and TreeModel's).
    Criterion criterion_;
    LeafPrediction leaf_prediction_;
    double nb_threshold_;
    int n_splits_;
    bool histogram_;  // splitter: "histogram" (else "gaussian")
    size_t n_bins_;
    double min_branch_fraction_;
    bool subset_ = false;
    double subset_rule_ = 0;  // -1 sqrt, -2 log2, >= 1 a count, <= -3 the fraction -3 - rule
    uint64_t subset_seed_ = 0;
    mutable uint64_t subset_path_ = 0;
    mutable size_t subset_n_ = 0;
    mutable uint64_t subset_threshold_ = 0;
    mutable std::vector<uint64_t> subset_hashes_;
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
    grow(i);
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
// TreeSHAP of each class's probability: a leaf's value is its prediction for x (a naive Bayes
// leaf's depends on x), its cover the class weight it holds.
void HoeffdingTreeClassifier::explain_terms(const std::vector<FeatureTerm>& x, Explanation& out) const {
    const size_t kk = k();
    if (kk == 0) fail(ErrorKind::InvalidParameter, "a hoeffding_tree_classifier that learned no class has nothing to explain");
    std::vector<double> p;
    explain_tree(x, kk, out, [&](const Node& leaf, double* value) {
        leaf_proba(leaf, x, p);
        for (size_t c = 0; c < kk && c < p.size(); c++) value[c] = p[c];
    });
    out.scale = "probability";
    out.outputs = classes();
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
    l.counts = best.left;
    r.counts = best.right;
    for (Node* n : {&l, &r}) {
        n->last_attempt = total_of(n->counts);
        n->seen.assign(k(), 0.0);
    }
    split(i, best.feature, best.threshold, std::move(l), std::move(r));
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

// ---- validation ----------------------------------------------------------------------------------
// (The tree's shape: TreeModel::invalid_state.)

std::string HoeffdingTreeClassifier::invalid_node_stats(const Node& n) const {
    if (n.counts.size() != k()) return "class counts do not match the classes";
    for (double w : n.counts)
        if (!finite_nonneg(w)) return "class counts must be finite and non-negative";
    return {};
}

std::string HoeffdingTreeClassifier::invalid_node(const Node& n) const {
    const size_t kk = k(), nf = features().size();
    if (n.kind == kBranch) {
        if (!n.obs.empty() || !n.seen.empty()) return "a branch holds leaf statistics";
        if (n.last_attempt != 0 || n.mc_correct != 0 || n.nb_correct != 0) return "a branch holds leaf statistics";
        return {};
    }
    if (!finite_nonneg(n.last_attempt) || !finite_nonneg(n.mc_correct) || !finite_nonneg(n.nb_correct))
        return "leaf counters must be finite and non-negative";
    if (n.kind == kInactiveLeaf) {
        if (!n.obs.empty() || !n.seen.empty()) return "an inactive leaf holds observers";
        return {};
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
    return {};
}

// ---- binary form ---------------------------------------------------------------------------------
// The frame is TreeModel's (no extra state): a node's statistics are f64 class counts[k]; a
// leaf's part f64 majority-class and naive-Bayes correct weights; an active leaf's then f64
// seen[k] and its observers' statistics (numeric: n, mean, m2, min, max per class, then u32 bin
// count and per bin f64 lo, hi and weights[k]; categorical: a weight per class).

void HoeffdingTreeClassifier::write_stats(detail::ByteWriter& w, const Node& n) const {
    for (double c : n.counts) w.put<double>(c);
}

void HoeffdingTreeClassifier::read_stats(detail::ByteReader& r, Node& n) const {
    n.counts.resize(k());
    for (double& c : n.counts) c = r.get<double>("tree node");
}

void HoeffdingTreeClassifier::write_leaf(detail::ByteWriter& w, const Node& n) const {
    w.put<double>(n.mc_correct);
    w.put<double>(n.nb_correct);
    if (n.kind != kActiveLeaf) return;
    for (double c : n.seen) w.put<double>(c);
    write_observers(w, n, [&](const Observer& o) {
        for (double p : o.present) w.put<double>(p);
        for (const Gaussian& g : o.gauss)
            for (double v : {g.n, g.mean, g.m2, g.min, g.max}) w.put<double>(v);
        if (o.gauss.empty()) return;
        w.put<uint32_t>(static_cast<uint32_t>(o.bins.size()));
        for (const hoeffding::Bin& b : o.bins) {
            w.put<double>(b.lo);
            w.put<double>(b.hi);
            for (double v : b.w) w.put<double>(v);
        }
    });
}

void HoeffdingTreeClassifier::read_leaf(detail::ByteReader& r, Node& n) const {
    const size_t kk = k();
    n.mc_correct = r.get<double>("tree leaf");
    n.nb_correct = r.get<double>("tree leaf");
    if (n.kind != kActiveLeaf) return;
    n.seen.resize(kk);
    for (double& c : n.seen) c = r.get<double>("tree leaf");
    read_observers(r, n, [&](uint32_t f, Observer& o) {
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
    });
}

// ---- JSON form -----------------------------------------------------------------------------------
// {"growth_allowed": bool, "tree": node}; a node shows its class weights by class name
// ("class_counts"), a branch as TreeModel's; a leaf also its counters "mc_correct" and
// "nb_correct", and while active "seen" and its observers by feature name (per class in the
// order of "classes": [n, mean, m2, min, max] or null when the class was not seen; a weight for
// a categorical feature), with the histogram splitter its "bins".

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

void HoeffdingTreeClassifier::leaf_json(const Node& n, json& j) const {
    j["mc_correct"] = n.mc_correct;
    j["nb_correct"] = n.nb_correct;
    if (n.kind != kActiveLeaf) return;
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
}

json HoeffdingTreeClassifier::state_json() const {
    return {{"growth_allowed", growth_allowed_}, {"tree", node_json(0)}};
}

bool HoeffdingTreeClassifier::leaf_key(const std::string& key, bool active) const {
    return key == "mc_correct" || key == "nb_correct" ||
           (active && (key == "seen" || key == "observers" || (histogram_ && key == "bins")));
}

void HoeffdingTreeClassifier::leaf_from_json(const json& j, Node& n) const {
    const size_t kk = k();
    n.mc_correct = hoeffding::json_number(j, "mc_correct");
    n.nb_correct = hoeffding::json_number(j, "nb_correct");
    if (n.kind != kActiveLeaf) return;
    if (!j.contains("seen") || !j.contains("observers") || !j["observers"].is_object() ||
        (histogram_ && (!j.contains("bins") || !j["bins"].is_object())))
        bad_json(histogram_ ? "an active tree leaf needs \"seen\", \"observers\" and \"bins\""
                            : "an active tree leaf needs \"seen\" and \"observers\"");
    n.seen = class_weights_from_json(j["seen"], "seen");
    for (const auto& [f, v] : observers_by_index(j["observers"])) {
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

void HoeffdingTreeClassifier::state_from_json(const json& j) {
    if (!j.is_object() || j.size() != 2 || !j.contains("growth_allowed") || !j["growth_allowed"].is_boolean() ||
        !j.contains("tree"))
        bad_json("\"state\" must be {\"growth_allowed\": boolean, \"tree\": node}");
    nodes_.clear();
    growth_allowed_ = j["growth_allowed"].get<bool>();
    tree_from_json(j["tree"]);
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
    o["delta"] = hoeffding::delta_option(spec);
    o["tau"] = number_option(spec, "tau", 0.05, 0, 1);
    o["leaf_prediction"] = choice_option(spec, "leaf_prediction", "nba", {"mc", "nb", "nba"});
    o["nb_threshold"] = integer_option(spec, "nb_threshold", 0, 0, 1000000000);
    o["n_splits"] = integer_option(spec, "n_splits", 10, 1, 1000);
    o["splitter"] = choice_option(spec, "splitter", "histogram", {"histogram", "gaussian"});
    o["n_bins"] = integer_option(spec, "n_bins", 8, 2, 1024);
    o["min_branch_fraction"] = number_option(spec, "min_branch_fraction", 0.01, 0, 0.5);
    o["max_size"] = hoeffding::max_size_option(spec);
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
