// The Hoeffding tree regressor (core/models/hoeffding_tree/tree_regressor.hpp; docs/models.md,
// "Hoeffding tree regressor").
#include "core/models/hoeffding_tree/tree_regressor.hpp"

#include "core/common/error.hpp"
#include "core/models/common/family_model.hpp"
#include "core/models/common/tree_shap.hpp"
#include "core/models/hoeffding_tree/hoeffding_tree.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace pg_learn::core {

using nlohmann::json;

// ---- split statistics --------------------------------------------------------------------------

namespace hoeffding {

void TargetStats::add(double y) {
    n += 1;
    const double d = y - mean;
    mean += d / n;
    m2 += d * (y - mean);
}

void TargetStats::merge(const TargetStats& o) {
    if (o.n <= 0) return;
    if (n <= 0) {
        *this = o;
        return;
    }
    const double total = n + o.n;
    const double d = o.mean - mean;
    mean += d * o.n / total;
    m2 += o.m2 + d * d * n * o.n / total;
    n = total;
}

TargetStats TargetStats::minus(const TargetStats& total, const TargetStats& part) {
    TargetStats r;
    r.n = total.n - part.n;
    if (!(r.n > 1e-9)) return TargetStats{};
    r.mean = (total.n * total.mean - part.n * part.mean) / r.n;
    const double d = part.mean - r.mean;
    r.m2 = std::max(0.0, total.m2 - part.m2 - d * d * part.n * r.n / total.n);
    return r;
}

double variance_reduction_merit(const TargetStats& pre, const std::vector<TargetStats>& post,
                                double min_samples_split) {
    for (const TargetStats& s : post)
        if (s.n < min_samples_split) return -std::numeric_limits<double>::infinity();
    if (!(pre.n > 0)) return -std::numeric_limits<double>::infinity();
    double vr = pre.variance();
    for (const TargetStats& s : post) vr -= s.n / pre.n * s.variance();
    return vr;
}

namespace {

TargetBin merged(const TargetBin& a, const TargetBin& b) {
    TargetBin m;
    m.lo = a.lo;
    m.hi = b.hi;
    m.xmean = a.xmean + (b.xmean - a.xmean) * (b.y.n / (a.y.n + b.y.n));
    m.xmean = std::min(std::max(m.xmean, m.lo), m.hi);
    m.y = a.y;
    m.y.merge(b.y);
    return m;
}

}  // namespace

int BinObserver::add(double x, double y, size_t max_bins) {
    // The first bin whose interval ends at or after x.
    auto it = std::lower_bound(bins.begin(), bins.end(), x, [](const TargetBin& b, double v) { return b.hi < v; });
    if (it != bins.end() && it->lo <= x) {
        TargetBin& b = *it;
        b.y.add(y);
        b.xmean += (x - b.xmean) / b.y.n;
        b.xmean = std::min(std::max(b.xmean, b.lo), b.hi);
        return 0;
    }
    TargetBin nb{x, x, x, {}};
    nb.y.add(y);
    bins.insert(it, nb);
    if (bins.size() <= max_bins) return 1;
    // Over the limit: the adjacent pair whose means are closest merges (the first such pair).
    size_t best = 0;
    double gap = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i + 1 < bins.size(); i++) {
        const double g = bins[i + 1].xmean - bins[i].xmean;
        if (g < gap) {
            gap = g;
            best = i;
        }
    }
    bins[best] = merged(bins[best], bins[best + 1]);
    bins.erase(bins.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    return 0;
}

RegressionSplit best_regression_split(const BinObserver& obs, const TargetStats& pre, double min_samples_split) {
    RegressionSplit best;
    const size_t nb = obs.bins.size();
    if (nb < 2) return best;
    // The right sides are summed from the right (not pre minus the left, which rounds), with
    // the rows that lacked the feature.
    std::vector<TargetStats> suffix(nb);
    suffix[nb - 1] = obs.bins[nb - 1].y;
    for (size_t i = nb - 1; i-- > 0;) {
        suffix[i] = obs.bins[i].y;
        suffix[i].merge(suffix[i + 1]);
    }
    const TargetStats missing = TargetStats::minus(pre, suffix[0]);
    TargetStats left;
    std::vector<TargetStats> post(2);
    for (size_t i = 0; i + 1 < nb; i++) {
        left.merge(obs.bins[i].y);
        post[0] = left;
        post[1] = suffix[i + 1];
        post[1].merge(missing);
        const double merit = variance_reduction_merit(pre, post, min_samples_split);
        if (merit > best.merit) {
            best.merit = merit;
            best.threshold = obs.bins[i].hi;
            best.left = post[0];
            best.right = post[1];
        }
    }
    return best;
}

}  // namespace hoeffding

// ---- the model ---------------------------------------------------------------------------------

namespace {

using hoeffding::TargetBin;
using hoeffding::BinObserver;
using hoeffding::TargetStats;

constexpr double kMiB = 1024.0 * 1024.0;
enum class LeafPrediction { Mean, Model, Adaptive };
enum NodeKind : uint8_t { kBranch = 0, kActiveLeaf = 1, kInactiveLeaf = 2 };

[[noreturn]] void bad_json(const std::string& why) { fail(ErrorKind::InvalidParameter, "invalid ml_model: " + why); }

// One feature's statistics at one leaf: a numeric feature's bins, or the target statistics of
// the rows that had a categorical ("key=value") feature.
struct Observer {
    uint8_t used = 0;  // 0: not seen here; 1: numeric; 2: categorical
    BinObserver numeric;
    TargetStats present;
};

// A leaf's linear model, learned online: intercept plus a weight per feature index (features past
// the end of weights have weight 0).
struct LeafModel {
    double intercept = 0;
    std::vector<double> weights;
};

struct Node {
    uint8_t kind = kActiveLeaf;
    uint32_t depth = 0;
    TargetStats stats;  // the target over the rows that reached the node (a leaf: from its split too)
    // Branch: the feature tested, and the children (0: value <= threshold, or the category present).
    uint32_t feature = 0;
    double threshold = 0;
    uint32_t child[2] = {0, 0};
    // Leaf.
    double last_attempt = 0;                // observed weight at the last split attempt
    double fmse_mean = 0, fmse_model = 0;   // faded squared errors of the two predictions (adaptive)
    LeafModel model;
    TargetStats seen;           // the target over the rows the observers saw (since the leaf was made)
    std::vector<Observer> obs;  // by feature index
    bool is_leaf() const { return kind != kBranch; }
};

bool finite_nonneg(double x) { return std::isfinite(x) && x >= 0; }

// Labels (and the scaler's values) lie within +-1e100 and weights are counts of rows (at most
// 2^53), so the statistics learning makes stay far from overflowing; larger ones (a hand-edited
// model) could overflow as it learns.
std::string invalid_stats(const TargetStats& s) {
    if (!(s.n >= 0 && s.n <= 9007199254740992.0) || !(std::fabs(s.mean) <= 1e100) || !(s.m2 >= 0 && s.m2 <= 1e300))
        return "target statistics out of range";
    if (s.n == 0 && (s.mean != 0 || s.m2 != 0)) return "empty target statistics hold values";
    return {};
}

json stats_json(const TargetStats& s) { return {{"n", s.n}, {"mean", s.mean}, {"m2", s.m2}}; }

TargetStats stats_from_json(const json& j, const char* what) {
    if (!j.is_object() || j.size() != 3) bad_json(std::string("\"") + what + "\" must be {\"n\", \"mean\", \"m2\"}");
    TargetStats s;
    double* fields[] = {&s.n, &s.mean, &s.m2};
    const char* names[] = {"n", "mean", "m2"};
    for (int q = 0; q < 3; q++) {
        auto it = j.find(names[q]);
        if (it == j.end() || !it->is_number()) bad_json(std::string("\"") + what + "\" must be {\"n\", \"mean\", \"m2\"}");
        *fields[q] = it->get<double>();
    }
    return s;
}

class HoeffdingTreeRegressor final : public FamilyModel {
public:
    // Issue 16: the share of the training weight routed by splits on each feature.
    void importance(FeatureImportance& out) const override;
    HoeffdingTreeRegressor(const ModelFamily& family, FamilySpec spec) : FamilyModel(family, std::move(spec)) {
        const json& o = options();
        grace_period_ = o["grace_period"].get<int64_t>();
        max_depth_ = static_cast<uint32_t>(o["max_depth"].get<int64_t>());
        delta_ = o["delta"].get<double>();
        tau_ = o["tau"].get<double>();
        const std::string lp = o["leaf_prediction"].get<std::string>();
        leaf_prediction_ = lp == "mean" ? LeafPrediction::Mean : lp == "model" ? LeafPrediction::Model : LeafPrediction::Adaptive;
        learning_rate_ = o["leaf_learning_rate"].get<double>();
        decay_ = o["model_selector_decay"].get<double>();
        min_samples_split_ = static_cast<double>(o["min_samples_split"].get<int64_t>());
        max_bins_ = static_cast<size_t>(o["max_bins"].get<int64_t>());
        max_bytes_ = o["max_size"].get<double>() * kMiB;
        nodes_.assign(1, Node{});
        recount_bytes();
    }

    std::unique_ptr<Model> clone() const override { return std::make_unique<HoeffdingTreeRegressor>(*this); }
    void assign(const Model& other) override { *this = dynamic_cast<const HoeffdingTreeRegressor&>(other); }
    // Partial trees grown on different rows have different splits: no merge (docs/models.md).
    bool can_merge() const override { return false; }

protected:
    void learn_terms(const std::vector<FeatureTerm>& x, double y, uint32_t) override;
    double predict_terms(const std::vector<FeatureTerm>& x) const override;
    // Issue 16: TreeSHAP of the prediction (each leaf valued at its prediction for x).
    void explain_terms(const std::vector<FeatureTerm>& x, Explanation& out) const override;
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
    bool uses_model() const { return leaf_prediction_ != LeafPrediction::Mean; }
    void load_values(const std::vector<FeatureTerm>& x) const;
    void clear_values(const std::vector<FeatureTerm>& x) const;
    uint32_t next_child(const Node& n, const std::vector<double>& values) const;
    double scaled(const FeatureTerm& t) const;
    void learn_scale(const std::vector<FeatureTerm>& x);
    double model_predict(const LeafModel& m, const std::vector<FeatureTerm>& x) const;
    void model_learn(LeafModel& m, const std::vector<FeatureTerm>& x, double y);
    double leaf_predict(const Node& leaf, const std::vector<FeatureTerm>& x) const;
    void attempt_split(uint32_t leaf);
    void deactivate(Node& leaf);
    void enforce_budget();
    size_t node_bytes(const Node& n) const;
    static size_t observer_bytes(const Observer& o) {
        return 4 + (o.used == 2 ? 24 : 4 + 48 * o.numeric.bins.size());
    }
    void recount_bytes();
    std::vector<uint32_t> preorder() const;
    void write_node(detail::ByteWriter& w, uint32_t i) const;
    uint32_t read_node(detail::ByteReader& r, uint32_t depth, size_t& budget);
    json node_json(uint32_t i) const;
    uint32_t node_from_json(const json& j, uint32_t depth, size_t& budget);

    // Options.
    int64_t grace_period_;
    uint32_t max_depth_;
    double delta_, tau_;
    LeafPrediction leaf_prediction_;
    double learning_rate_, decay_;
    double min_samples_split_;
    size_t max_bins_;
    double max_bytes_;
    // State.
    std::vector<Node> nodes_;  // nodes_[0] is the root
    std::vector<TargetStats> scale_;  // by feature index: the numeric features' values (model leaves)
    bool growth_allowed_ = true;
    size_t bytes_ = 0;  // the size of write_state's output, kept up to date
    mutable std::vector<double> values_;  // feature index -> value of the current example (NaN: absent)
};

// ---- learning and prediction ---------------------------------------------------------------------

void HoeffdingTreeRegressor::load_values(const std::vector<FeatureTerm>& x) const {
    if (values_.size() < features().size()) values_.resize(features().size(), std::nan(""));
    for (const FeatureTerm& t : x) values_[t.index] = t.value;
}

void HoeffdingTreeRegressor::clear_values(const std::vector<FeatureTerm>& x) const {
    for (const FeatureTerm& t : x) values_[t.index] = std::nan("");
}

uint32_t HoeffdingTreeRegressor::next_child(const Node& n, const std::vector<double>& values) const {
    const double v = n.feature < values.size() ? values[n.feature] : std::nan("");
    if (features().type(n.feature) == FeatureType::Categorical) return n.child[std::isnan(v) ? 1 : 0];
    if (!std::isnan(v)) return n.child[v <= n.threshold ? 0 : 1];
    // A missing numeric value follows the heavier branch (river's most_common_path).
    return n.child[nodes_[n.child[1]].stats.n > nodes_[n.child[0]].stats.n ? 1 : 0];
}

double HoeffdingTreeRegressor::scaled(const FeatureTerm& t) const {
    if (t.index >= scale_.size() || features().type(t.index) == FeatureType::Categorical) return t.value;
    const TargetStats& s = scale_[t.index];
    const double sd = std::sqrt(s.variance());
    return sd > 0 ? (t.value - s.mean) / sd : t.value - s.mean;
}

double HoeffdingTreeRegressor::model_predict(const LeafModel& m, const std::vector<FeatureTerm>& x) const {
    double p = m.intercept;
    for (const FeatureTerm& t : x)
        if (t.index < m.weights.size()) p += m.weights[t.index] * scaled(t);
    return p;
}

// Normalized least mean squares on the standardized features z: w += rate * (y - p) * z / (1 +
// |z|^2), the intercept's input 1 counted in the norm; stable when 0 < rate < 2.
void HoeffdingTreeRegressor::model_learn(LeafModel& m, const std::vector<FeatureTerm>& x, double y) {
    double norm = 1;
    uint32_t top = 0;
    for (const FeatureTerm& t : x) {
        const double z = scaled(t);
        norm += z * z;
        top = std::max(top, t.index + 1);
    }
    if (!std::isfinite(norm)) return;  // features too large to learn from: the model is left as it was
    if (m.weights.size() < top) {
        bytes_ += 8 * (top - m.weights.size());
        m.weights.resize(top, 0.0);
    }
    const double step = learning_rate_ * (y - model_predict(m, x)) / norm;
    if (!std::isfinite(step)) return;
    m.intercept += step;
    for (const FeatureTerm& t : x) m.weights[t.index] += step * scaled(t);
}

// The running mean and variance of every numeric feature over the rows learned: the leaf models'
// standardization (river's documentation puts a StandardScaler before its tree).
void HoeffdingTreeRegressor::learn_scale(const std::vector<FeatureTerm>& x) {
    for (const FeatureTerm& t : x) {
        if (features().type(t.index) == FeatureType::Categorical || !(std::fabs(t.value) <= 1e100)) continue;
        if (scale_.size() <= t.index) {
            bytes_ += 24 * (t.index + 1 - scale_.size());
            scale_.resize(t.index + 1);
        }
        scale_[t.index].add(t.value);
    }
}

double HoeffdingTreeRegressor::leaf_predict(const Node& leaf, const std::vector<FeatureTerm>& x) const {
    if (leaf_prediction_ == LeafPrediction::Mean ||
        (leaf_prediction_ == LeafPrediction::Adaptive && leaf.fmse_mean < leaf.fmse_model))
        return leaf.stats.mean;
    return model_predict(leaf.model, x);
}

double HoeffdingTreeRegressor::predict_terms(const std::vector<FeatureTerm>& x) const {
    load_values(x);
    uint32_t i = 0;
    while (!nodes_[i].is_leaf()) i = next_child(nodes_[i], values_);
    clear_values(x);
    return leaf_predict(nodes_[i], x);
}

// ---- issue 16: explanations ---------------------------------------------------------------------
// TreeSHAP (core/models/common/tree_shap.hpp) of the prediction: a leaf's value is its prediction
// for x (a leaf model's depends on x), its cover the weight of the rows it holds.
void HoeffdingTreeRegressor::explain_terms(const std::vector<FeatureTerm>& x, Explanation& out) const {
    out.clear();
    out.method = "tree_shap";
    out.scale = "value";
    const size_t nf = features().size();
    out.features = features().names();
    out.values.assign(nf, std::nan(""));
    for (const FeatureTerm& t : x)
        if (t.index < nf) out.values[t.index] = t.value;
    ShapTree tree;
    tree.clear(1);
    load_values(x);
    for (size_t i = 0; i < nodes_.size(); i++) tree.add_node();
    for (size_t i = 0; i < nodes_.size(); i++) {
        const Node& n = nodes_[i];
        if (!n.is_leaf()) {
            tree.left[i] = static_cast<int32_t>(n.child[0]);
            tree.right[i] = static_cast<int32_t>(n.child[1]);
            tree.feature[i] = n.feature;
            tree.hot[i] = static_cast<int32_t>(next_child(n, values_));
            continue;
        }
        tree.cover[i] = n.stats.n;
        tree.value[i] = leaf_predict(n, x);
    }
    clear_values(x);
    std::vector<double> phi(nf, 0.0);
    out.base.assign(1, 0.0);
    tree_shap(tree, phi.data(), out.base.data());
    out.contributions = phi;
}

// Issue 16: ml_importance of a tree: for each feature, the weight of the training examples that
// reached a split on it (summed over its splits), as a share of the examples the root saw.
void HoeffdingTreeRegressor::importance(FeatureImportance& out) const {
    out.kind = "split_weight";
    out.features = features().names();
    out.importance.assign(out.features.size(), 0.0);
    const Node& root = nodes_[0];
    const double total = root.stats.n;
    for (const Node& n : nodes_)
        if (!n.is_leaf() && n.feature < out.importance.size() && total > 0) out.importance[n.feature] += n.stats.n / total;
}

void HoeffdingTreeRegressor::learn_terms(const std::vector<FeatureTerm>& x, double y, uint32_t) {
    // Squared deviations of larger labels overflow the statistics.
    if (!(std::fabs(y) <= 1e100))
        fail(ErrorKind::InvalidParameter, "a hoeffding_tree_regressor learns labels between -1e100 and 1e100",
             "label " + json(y).dump(), "Scale the label down.");
    load_values(x);
    uint32_t i = 0;
    while (!nodes_[i].is_leaf()) {
        nodes_[i].stats.add(y);
        i = next_child(nodes_[i], values_);
    }
    clear_values(x);
    Node& leaf = nodes_[i];
    if (leaf_prediction_ == LeafPrediction::Adaptive) {
        // The running errors of the two predictions, before learning the example (river's).
        const double em = y - leaf.stats.mean, eo = y - model_predict(leaf.model, x);
        leaf.fmse_mean = decay_ * leaf.fmse_mean + em * em;
        leaf.fmse_model = decay_ * leaf.fmse_model + eo * eo;
        if (!std::isfinite(leaf.fmse_mean)) leaf.fmse_mean = std::numeric_limits<double>::max();
        if (!std::isfinite(leaf.fmse_model)) leaf.fmse_model = std::numeric_limits<double>::max();
    }
    leaf.stats.add(y);
    if (uses_model()) {
        learn_scale(x);
        model_learn(leaf.model, x, y);
    }
    if (leaf.kind == kActiveLeaf) {
        leaf.seen.add(y);
        for (const FeatureTerm& t : x) {
            if (leaf.obs.size() <= t.index) leaf.obs.resize(t.index + 1);
            Observer& o = leaf.obs[t.index];
            if (o.used == 0) {
                o.used = features().type(t.index) == FeatureType::Categorical ? 2 : 1;
                bytes_ += observer_bytes(o);
            }
            if (o.used == 2)
                o.present.add(y);
            else
                bytes_ += 48 * o.numeric.add(t.value, y, max_bins_);
        }
    }
    if (bytes_ > max_bytes_) enforce_budget();
    Node& l = nodes_[i];
    if (!growth_allowed_ || l.kind != kActiveLeaf) return;
    if (l.depth >= max_depth_) {
        deactivate(l);
        return;
    }
    if (l.seen.n - l.last_attempt >= static_cast<double>(grace_period_)) {
        const double weight = l.seen.n;
        attempt_split(i);
        if (nodes_[i].is_leaf()) nodes_[i].last_attempt = weight;
    }
}

// ---- growing ------------------------------------------------------------------------------------

// river's rule for regression trees: the best candidate's variance reduction must be positive,
// and the second best's merit over the best's below 1 - the Hoeffding bound (range 1), or the
// bound below tau. Not splitting (VFDT's null split) has merit -infinity here, as in river, so a
// leaf with one candidate feature splits at its first attempt that reduces the variance.
void HoeffdingTreeRegressor::attempt_split(uint32_t i) {
    const Node& leaf = nodes_[i];
    const TargetStats pre = leaf.seen;
    struct Candidate {
        double merit;
        uint32_t feature;
        double threshold;
        TargetStats left, right;
    };
    std::vector<Candidate> cands;
    for (uint32_t f = 0; f < leaf.obs.size(); f++) {
        const Observer& o = leaf.obs[f];
        if (o.used == 2) {
            std::vector<TargetStats> post = {o.present, TargetStats::minus(pre, o.present)};
            cands.push_back({hoeffding::variance_reduction_merit(pre, post, min_samples_split_), f, 0, post[0], post[1]});
        } else if (o.used == 1) {
            hoeffding::RegressionSplit s = hoeffding::best_regression_split(o.numeric, pre, min_samples_split_);
            cands.push_back({s.merit, f, s.threshold, s.left, s.right});
        }
    }
    // Best first; equal merits keep the lower feature index first.
    std::stable_sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) { return a.merit > b.merit; });
    if (cands.empty()) return;
    const Candidate& best = cands[0];
    if (!(best.merit > 0) || !std::isfinite(best.merit)) return;
    const double ratio = cands.size() > 1 && std::isfinite(cands[1].merit) ? cands[1].merit / best.merit : 0.0;
    const double bound = hoeffding::hoeffding_bound(1.0, delta_, pre.n);
    if (!(ratio < 1 - bound || bound < tau_)) return;
    // Split: the leaf becomes a branch over two new active leaves, which start from the split's
    // statistics of their side and a copy of the leaf's model.
    Node l, r;
    l.depth = r.depth = leaf.depth + 1;
    l.stats = best.left;
    r.stats = best.right;
    l.model = r.model = leaf.model;
    bytes_ -= node_bytes(nodes_[i]);
    Node& b = nodes_[i];
    b.kind = kBranch;
    b.feature = best.feature;
    b.threshold = best.threshold;
    b.obs.clear();
    b.obs.shrink_to_fit();
    b.seen = TargetStats{};
    b.model = LeafModel{};
    b.last_attempt = b.fmse_mean = b.fmse_model = 0;
    b.child[0] = static_cast<uint32_t>(nodes_.size());
    b.child[1] = b.child[0] + 1;
    bytes_ += node_bytes(b) + node_bytes(l) + node_bytes(r);
    nodes_.push_back(std::move(l));
    nodes_.push_back(std::move(r));
    if (bytes_ > max_bytes_) enforce_budget();
}

void HoeffdingTreeRegressor::deactivate(Node& leaf) {
    bytes_ -= node_bytes(leaf);
    leaf.kind = kInactiveLeaf;
    leaf.obs.clear();
    leaf.obs.shrink_to_fit();
    leaf.seen = TargetStats{};
    leaf.last_attempt = 0;
    bytes_ += node_bytes(leaf);
}

// Over the memory budget: the deepest active leaves (river's calculate_promise for regression
// leaves: minus the depth) stop observing until the tree fits; a tree left without an active
// leaf, or that does not fit even then, stops growing for good. Leaf models keep learning.
void HoeffdingTreeRegressor::enforce_budget() {
    std::vector<uint32_t> active;
    for (uint32_t i : preorder())
        if (nodes_[i].kind == kActiveLeaf) active.push_back(i);
    std::stable_sort(active.begin(), active.end(), [&](uint32_t a, uint32_t b) { return nodes_[a].depth > nodes_[b].depth; });
    size_t left = active.size();
    for (uint32_t i : active) {
        if (static_cast<double>(bytes_) <= max_bytes_) break;
        deactivate(nodes_[i]);
        left--;
    }
    if (left == 0 || static_cast<double>(bytes_) > max_bytes_) growth_allowed_ = false;
}

// ---- size ----------------------------------------------------------------------------------------

size_t HoeffdingTreeRegressor::node_bytes(const Node& n) const {
    size_t b = 1 + 24;
    if (n.kind == kBranch) return b + 4 + 8;
    b += 24 + 4 + 8 + 8 * n.model.weights.size();
    if (n.kind == kActiveLeaf) {
        b += 24 + 4;
        for (const Observer& o : n.obs)
            if (o.used) b += observer_bytes(o);
    }
    return b;
}

void HoeffdingTreeRegressor::recount_bytes() {
    bytes_ = 12 + 24 * scale_.size();
    for (const Node& n : nodes_) bytes_ += node_bytes(n);
}

std::vector<uint32_t> HoeffdingTreeRegressor::preorder() const {
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

json HoeffdingTreeRegressor::info_extra() const {
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

std::string HoeffdingTreeRegressor::invalid_state() const {
    const size_t nf = features().size();
    if (nodes_.empty()) return "tree has no root";
    const std::vector<uint32_t> order = preorder();
    if (order.size() != nodes_.size()) return "tree nodes are not one tree";
    std::vector<uint8_t> seen_node(nodes_.size(), 0);
    for (uint32_t i : order) {
        if (i >= nodes_.size() || seen_node[i]) return "tree nodes are not one tree";
        seen_node[i] = 1;
    }
    if (nodes_[0].depth != 0) return "tree root depth is not 0";
    if (scale_.size() > nf) return "the scaler names an unknown feature";
    if (!uses_model() && !scale_.empty()) return "mean leaves have no scaler";
    for (size_t f = 0; f < scale_.size(); f++) {
        if (std::string why = invalid_stats(scale_[f]); !why.empty()) return why;
        if (features().type(f) == FeatureType::Categorical && scale_[f].n != 0) return "the scaler holds a categorical feature";
    }
    for (const Node& n : nodes_) {
        if (n.kind > kInactiveLeaf) return "unknown tree node kind";
        if (std::string why = invalid_stats(n.stats); !why.empty()) return why;
        const bool empty_leaf_part = n.obs.empty() && n.seen.n == 0 && n.seen.mean == 0 && n.seen.m2 == 0 &&
                                     n.last_attempt == 0;
        if (n.kind == kBranch) {
            if (n.depth >= max_depth_) return "a branch is deeper than max_depth allows";
            if (n.feature >= nf) return "a split names an unknown feature";
            if (!std::isfinite(n.threshold)) return "a split threshold is not finite";
            if (features().type(n.feature) == FeatureType::Categorical && n.threshold != 0)
                return "a categorical split has a threshold";
            for (uint32_t c : n.child)
                if (c >= nodes_.size() || nodes_[c].depth != n.depth + 1) return "tree node depths are inconsistent";
            if (!empty_leaf_part || n.fmse_mean != 0 || n.fmse_model != 0 || n.model.intercept != 0 ||
                !n.model.weights.empty())
                return "a branch holds leaf statistics";
            continue;
        }
        if (n.depth > max_depth_) return "a leaf is deeper than max_depth allows";
        if (!finite_nonneg(n.last_attempt) || !finite_nonneg(n.fmse_mean) || !finite_nonneg(n.fmse_model))
            return "leaf counters must be finite and non-negative";
        if (leaf_prediction_ != LeafPrediction::Adaptive && (n.fmse_mean != 0 || n.fmse_model != 0))
            return "only adaptive leaves keep running errors";
        if (!std::isfinite(n.model.intercept)) return "a leaf model weight is not finite";
        if (n.model.weights.size() > nf) return "a leaf model has more weights than features";
        for (double w : n.model.weights)
            if (!std::isfinite(w)) return "a leaf model weight is not finite";
        if (!uses_model() && (n.model.intercept != 0 || !n.model.weights.empty())) return "mean leaves have no model";
        if (n.kind == kInactiveLeaf) {
            if (!empty_leaf_part) return "an inactive leaf holds observers";
            continue;
        }
        if (std::string why = invalid_stats(n.seen); !why.empty()) return why;
        if (n.last_attempt > n.seen.n) return "a leaf's last split attempt is past its weight";
        if (n.obs.size() > nf) return "an observer names an unknown feature";
        for (size_t f = 0; f < n.obs.size(); f++) {
            const Observer& o = n.obs[f];
            if (o.used == 0) {
                if (!o.numeric.bins.empty() || o.present.n != 0 || o.present.mean != 0 || o.present.m2 != 0)
                    return "an empty observer holds values";
                continue;
            }
            const bool cat = features().type(f) == FeatureType::Categorical;
            if (o.used != (cat ? 2 : 1)) return "an observer does not match its feature's type";
            if (cat) {
                if (!o.numeric.bins.empty()) return "an observer does not match its feature's type";
                if (std::string why = invalid_stats(o.present); !why.empty()) return why;
                continue;
            }
            if (o.present.n != 0 || o.present.mean != 0 || o.present.m2 != 0)
                return "an observer does not match its feature's type";
            const auto& bins = o.numeric.bins;
            if (bins.empty() || bins.size() > max_bins_) return "a numeric observer's bin count is out of range";
            for (size_t q = 0; q < bins.size(); q++) {
                const TargetBin& b = bins[q];
                if (!std::isfinite(b.lo) || !std::isfinite(b.hi) || !(b.lo <= b.xmean && b.xmean <= b.hi))
                    return "a numeric observer's bin is out of range";
                if (q > 0 && !(bins[q - 1].hi < b.lo)) return "a numeric observer's bins are not in increasing order";
                if (std::string why = invalid_stats(b.y); !why.empty()) return why;
                if (!(b.y.n > 0)) return "a numeric observer's bin is empty";
            }
        }
    }
    return {};
}

// ---- binary form ---------------------------------------------------------------------------------
// u32 flags (bit 0: growth allowed), u32 scaler count s, f64 n, mean, m2 of each of the first s
// features' values (model leaves' standardization; 0s for a categorical feature), u32 node
// count, then the nodes in preorder: u8 kind, f64
// n, mean, m2 of the target; a branch: u32 feature, f64 threshold, then its two children; a leaf:
// f64 last split attempt, f64 faded squared errors of the mean and of the model, u32 model weight
// count w, f64 intercept, f64 weights[w]; an active leaf then f64 n, mean, m2 of the target its
// observers saw, u32 observer count and per observer (by increasing feature) u32 feature and its
// statistics (categorical: n, mean, m2; numeric: u32 bin count, per bin f64 lo, hi, xmean, n,
// mean, m2).

void HoeffdingTreeRegressor::write_node(detail::ByteWriter& w, uint32_t i) const {
    const Node& n = nodes_[i];
    w.put<uint8_t>(n.kind);
    for (double v : {n.stats.n, n.stats.mean, n.stats.m2}) w.put<double>(v);
    if (n.kind == kBranch) {
        w.put<uint32_t>(n.feature);
        w.put<double>(n.threshold);
        write_node(w, n.child[0]);
        write_node(w, n.child[1]);
        return;
    }
    w.put<double>(n.last_attempt);
    w.put<double>(n.fmse_mean);
    w.put<double>(n.fmse_model);
    w.put<uint32_t>(static_cast<uint32_t>(n.model.weights.size()));
    w.put<double>(n.model.intercept);
    for (double v : n.model.weights) w.put<double>(v);
    if (n.kind != kActiveLeaf) return;
    for (double v : {n.seen.n, n.seen.mean, n.seen.m2}) w.put<double>(v);
    uint32_t count = 0;
    for (const Observer& o : n.obs) count += o.used != 0;
    w.put<uint32_t>(count);
    for (uint32_t f = 0; f < n.obs.size(); f++) {
        const Observer& o = n.obs[f];
        if (o.used == 0) continue;
        w.put<uint32_t>(f);
        if (o.used == 2) {
            for (double v : {o.present.n, o.present.mean, o.present.m2}) w.put<double>(v);
            continue;
        }
        w.put<uint32_t>(static_cast<uint32_t>(o.numeric.bins.size()));
        for (const TargetBin& b : o.numeric.bins)
            for (double v : {b.lo, b.hi, b.xmean, b.y.n, b.y.mean, b.y.m2}) w.put<double>(v);
    }
}

void HoeffdingTreeRegressor::write_state(detail::ByteWriter& w) const {
    w.put<uint32_t>(growth_allowed_ ? 1u : 0u);
    w.put<uint32_t>(static_cast<uint32_t>(scale_.size()));
    for (const TargetStats& f : scale_)
        for (double v : {f.n, f.mean, f.m2}) w.put<double>(v);
    w.put<uint32_t>(static_cast<uint32_t>(nodes_.size()));
    write_node(w, 0);
}

uint32_t HoeffdingTreeRegressor::read_node(detail::ByteReader& r, uint32_t depth, size_t& budget) {
    if (budget == 0) r.corrupt("more tree nodes than the count says");
    budget--;
    if (depth > max_depth_) r.corrupt("tree deeper than max_depth");
    const size_t nf = features().size();
    Node n;
    n.depth = depth;
    n.kind = r.get<uint8_t>("tree node");
    if (n.kind > kInactiveLeaf) r.corrupt("unknown tree node kind");
    for (double* v : {&n.stats.n, &n.stats.mean, &n.stats.m2}) *v = r.get<double>("tree node");
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
    n.fmse_mean = r.get<double>("tree leaf");
    n.fmse_model = r.get<double>("tree leaf");
    const auto nw = r.get<uint32_t>("tree leaf");
    if (nw > nf) r.corrupt("a leaf model has more weights than features");
    n.model.intercept = r.get<double>("tree leaf");
    n.model.weights.resize(nw);
    for (double& v : n.model.weights) v = r.get<double>("tree leaf");
    if (n.kind == kActiveLeaf) {
        for (double* v : {&n.seen.n, &n.seen.mean, &n.seen.m2}) *v = r.get<double>("tree leaf");
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
                o.used = 2;
                for (double* v : {&o.present.n, &o.present.mean, &o.present.m2}) *v = r.get<double>("observer");
                continue;
            }
            o.used = 1;
            const auto nb = r.get<uint32_t>("observer");
            if (nb == 0 || nb > max_bins_) r.corrupt("a numeric observer's bin count is out of range");
            o.numeric.bins.resize(nb);
            for (TargetBin& b : o.numeric.bins)
                for (double* v : {&b.lo, &b.hi, &b.xmean, &b.y.n, &b.y.mean, &b.y.m2}) *v = r.get<double>("observer");
        }
    }
    nodes_.push_back(std::move(n));
    return index;
}

void HoeffdingTreeRegressor::read_state(detail::ByteReader& r) {
    const auto flags = r.get<uint32_t>("tree");
    if (flags > 1) r.corrupt("unknown tree flags");
    const auto ns = r.get<uint32_t>("tree scaler");
    if (ns > features().size()) r.corrupt("the scaler names an unknown feature");
    scale_.assign(ns, TargetStats{});
    for (TargetStats& f : scale_)
        for (double* v : {&f.n, &f.mean, &f.m2}) *v = r.get<double>("tree scaler");
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
// {"growth_allowed": bool, "scaler": {feature: {"n", "mean", "m2"}} (the numeric features' values
// the leaf models are standardized by; empty with mean leaves), "tree": node}; every node shows "target": {"n", "mean", "m2"} (the
// rows that reached it); a branch its feature, its threshold (numeric) and its children "le" and
// "gt" (numeric: value <= threshold, greater) or "is" and "is_not" (a categorical "key=value");
// a leaf whether it is active, "last_split_attempt", with model leaves its "model"
// ({"intercept", "weights": by feature name}), with adaptive leaves "mse_mean" and "mse_model"
// (the faded squared errors), and while active "seen" (the target its observers saw) and its
// "observers" by feature name: a numeric one a list of bins [lo, hi, xmean, n, mean, m2], a
// categorical one the target's {"n", "mean", "m2"} over the rows that had it.

json HoeffdingTreeRegressor::node_json(uint32_t i) const {
    const Node& n = nodes_[i];
    json j = {{"target", stats_json(n.stats)}};
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
    if (uses_model()) {
        json w = json::object();
        for (size_t f = 0; f < n.model.weights.size(); f++) w[features().name(f)] = n.model.weights[f];
        j["model"] = {{"intercept", n.model.intercept}, {"weights", w}};
    }
    if (leaf_prediction_ == LeafPrediction::Adaptive) {
        j["mse_mean"] = n.fmse_mean;
        j["mse_model"] = n.fmse_model;
    }
    if (n.kind != kActiveLeaf) return j;
    j["seen"] = stats_json(n.seen);
    json obs = json::object();
    for (uint32_t f = 0; f < n.obs.size(); f++) {
        const Observer& o = n.obs[f];
        if (o.used == 0) continue;
        if (o.used == 2) {
            obs[features().name(f)] = stats_json(o.present);
            continue;
        }
        json bins = json::array();
        for (const TargetBin& b : o.numeric.bins) bins.push_back({b.lo, b.hi, b.xmean, b.y.n, b.y.mean, b.y.m2});
        obs[features().name(f)] = bins;
    }
    j["observers"] = obs;
    return j;
}

json HoeffdingTreeRegressor::state_json() const {
    json scaler = json::object();
    for (size_t f = 0; f < scale_.size(); f++) scaler[features().name(f)] = stats_json(scale_[f]);
    return {{"growth_allowed", growth_allowed_}, {"scaler", scaler}, {"tree", node_json(0)}};
}

uint32_t HoeffdingTreeRegressor::node_from_json(const json& j, uint32_t depth, size_t& budget) {
    if (budget == 0) bad_json("tree too large");
    budget--;
    if (depth > max_depth_) bad_json("tree deeper than max_depth");
    if (!j.is_object()) bad_json("a tree node must be an object");
    auto number = [&](const json& o, const char* key) {
        auto it = o.find(key);
        if (it == o.end() || !it->is_number()) bad_json(std::string("a tree leaf needs a number \"") + key + "\"");
        return it->get<double>();
    };
    Node n;
    n.depth = depth;
    if (!j.contains("target")) bad_json("a tree node needs \"target\"");
    n.stats = stats_from_json(j["target"], "target");
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
            const bool ok = key == "target" || key == "feature" ||
                            (cat ? key == "is" || key == "is_not" : key == "threshold" || key == "le" || key == "gt");
            if (!ok) bad_json("unknown key \"" + key + "\" in a tree split");
        }
        if (!cat) n.threshold = number(j, "threshold");
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
    const bool adaptive = leaf_prediction_ == LeafPrediction::Adaptive;
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& key = it.key();
        const bool ok = key == "target" || key == "active" || key == "last_split_attempt" ||
                        (uses_model() && key == "model") || (adaptive && (key == "mse_mean" || key == "mse_model")) ||
                        (active && (key == "seen" || key == "observers"));
        if (!ok) bad_json("unknown key \"" + key + "\" in a tree leaf");
    }
    n.kind = active ? kActiveLeaf : kInactiveLeaf;
    n.last_attempt = number(j, "last_split_attempt");
    if (adaptive) {
        n.fmse_mean = number(j, "mse_mean");
        n.fmse_model = number(j, "mse_model");
    }
    if (uses_model()) {
        const json* m = j.contains("model") ? &j["model"] : nullptr;
        if (!m || !m->is_object() || m->size() != 2 || !m->contains("weights") || !(*m)["weights"].is_object())
            bad_json("a model leaf needs \"model\": {\"intercept\": number, \"weights\": {feature: number}}");
        n.model.intercept = number(*m, "intercept");
        for (auto it = (*m)["weights"].begin(); it != (*m)["weights"].end(); ++it) {
            const uint32_t f = features().find(it.key());
            if (f == kUnknownFeature) bad_json("a leaf model weighs an unknown feature");
            if (!it->is_number()) bad_json("a leaf model's weights must be numbers");
            if (n.model.weights.size() <= f) n.model.weights.resize(f + 1, 0.0);
            n.model.weights[f] = it->get<double>();
        }
        if (n.model.weights.size() != (*m)["weights"].size())
            bad_json("a leaf model lists a weight for every feature up to its last");
    }
    if (active) {
        if (!j.contains("seen") || !j.contains("observers") || !j["observers"].is_object())
            bad_json("an active tree leaf needs \"seen\" and \"observers\"");
        n.seen = stats_from_json(j["seen"], "seen");
        std::vector<std::pair<uint32_t, const json*>> obs;
        for (auto it = j["observers"].begin(); it != j["observers"].end(); ++it) {
            const uint32_t f = features().find(it.key());
            if (f == kUnknownFeature) bad_json("an observer names an unknown feature");
            obs.emplace_back(f, &it.value());
        }
        std::sort(obs.begin(), obs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [f, v] : obs) {
            n.obs.resize(f + 1);
            Observer& o = n.obs[f];
            if (features().type(f) == FeatureType::Categorical) {
                o.used = 2;
                o.present = stats_from_json(*v, "observers");
                continue;
            }
            o.used = 1;
            if (!v->is_array() || v->empty() || v->size() > max_bins_)
                bad_json("a numeric observer holds 1 to max_bins bins");
            for (const json& e : *v) {
                if (!e.is_array() || e.size() != 6) bad_json("a numeric observer's bin is [lo, hi, xmean, n, mean, m2]");
                TargetBin b;
                double* fields[] = {&b.lo, &b.hi, &b.xmean, &b.y.n, &b.y.mean, &b.y.m2};
                for (size_t q = 0; q < 6; q++) {
                    if (!e[q].is_number()) bad_json("a numeric observer's bin is [lo, hi, xmean, n, mean, m2]");
                    *fields[q] = e[q].get<double>();
                }
                o.numeric.bins.push_back(b);
            }
        }
    }
    nodes_.push_back(std::move(n));
    return index;
}

void HoeffdingTreeRegressor::state_from_json(const json& j) {
    if (!j.is_object() || j.size() != 3 || !j.contains("growth_allowed") || !j["growth_allowed"].is_boolean() ||
        !j.contains("tree") || !j.contains("scaler") || !j["scaler"].is_object())
        bad_json("\"state\" must be {\"growth_allowed\": boolean, \"scaler\": {feature: stats}, \"tree\": node}");
    nodes_.clear();
    growth_allowed_ = j["growth_allowed"].get<bool>();
    scale_.clear();
    for (auto it = j["scaler"].begin(); it != j["scaler"].end(); ++it) {
        const uint32_t f = features().find(it.key());
        if (f == kUnknownFeature) bad_json("the scaler names an unknown feature");
        if (scale_.size() <= f) scale_.resize(f + 1);
        scale_[f] = stats_from_json(it.value(), "scaler");
    }
    if (scale_.size() != j["scaler"].size()) bad_json("the scaler lists every feature up to its last");
    size_t budget = size_t(1) << 24;
    node_from_json(j["tree"], 0, budget);
    if (std::string why = invalid_state(); !why.empty()) bad_json(why);
    recount_bytes();
}

// ---- spec ----------------------------------------------------------------------------------------

const ModelFamily& regressor_family();

std::unique_ptr<Model> regressor_from_spec(const json& spec) {
    FamilySpec s = parse_family_spec(spec, {"grace_period", "max_depth", "delta", "tau", "leaf_prediction",
                                            "leaf_learning_rate", "model_selector_decay", "min_samples_split",
                                            "max_bins", "max_size"});
    json& o = s.options;
    o["grace_period"] = integer_option(spec, "grace_period", 200, 1, 1000000000);
    o["max_depth"] = integer_option(spec, "max_depth", 20, 1, 50);
    const double delta = number_option(spec, "delta", 1e-7, 0, 1);
    if (!(delta > 0 && delta < 1))
        fail(ErrorKind::InvalidParameter, "invalid model spec: \"delta\" must be between 0 and 1 (exclusive)");
    o["delta"] = delta;
    o["tau"] = number_option(spec, "tau", 0.05, 0, 1);
    o["leaf_prediction"] = choice_option(spec, "leaf_prediction", "adaptive", {"mean", "model", "adaptive"});
    const double rate = number_option(spec, "leaf_learning_rate", 0.1, 0, 2);
    if (!(rate > 0 && rate < 2))
        fail(ErrorKind::InvalidParameter, "invalid model spec: \"leaf_learning_rate\" must be between 0 and 2 (exclusive)");
    o["leaf_learning_rate"] = rate;
    o["model_selector_decay"] = number_option(spec, "model_selector_decay", 0.95, 0, 1);
    o["min_samples_split"] = integer_option(spec, "min_samples_split", 5, 1, 1000000000);
    o["max_bins"] = integer_option(spec, "max_bins", 32, 2, 100000);
    const double max_size = number_option(spec, "max_size", 100, 0, 1000);
    if (!(max_size > 0)) fail(ErrorKind::InvalidParameter, "invalid model spec: \"max_size\" must be more than 0 (MiB)");
    o["max_size"] = max_size;
    return std::make_unique<HoeffdingTreeRegressor>(regressor_family(), std::move(s));
}

const ModelFamily& regressor_family() {
    static const ModelFamily f = family_entry("hoeffding_tree_regressor", 31, Task::Regression, &regressor_from_spec);
    return f;
}

}  // namespace

const std::vector<const ModelFamily*>& hoeffding_tree_regressor_families() {
    static const std::vector<const ModelFamily*> all = {&regressor_family()};
    return all;
}

}  // namespace pg_learn::core
