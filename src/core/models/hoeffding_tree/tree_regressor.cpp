// The Hoeffding tree regressor (core/models/hoeffding_tree/tree_regressor.hpp; docs/models.md,
// "Hoeffding tree regressor").
#include "core/models/hoeffding_tree/tree_regressor.hpp"

#include "core/common/error.hpp"
#include "core/models/hoeffding_tree/hoeffding_tree.hpp"
#include "core/models/hoeffding_tree/tree_common.hpp"

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

using hoeffding::bad_json;
using hoeffding::BinObserver;
using hoeffding::finite_nonneg;
using hoeffding::kActiveLeaf;
using hoeffding::kBranch;
using hoeffding::kInactiveLeaf;
using hoeffding::TargetBin;
using hoeffding::TargetStats;

enum class LeafPrediction { Mean, Model, Adaptive };

// One feature's statistics at one leaf: a numeric feature's bins, or the target statistics of
// the rows that had a categorical ("key=value") feature.
struct Observer {
    uint8_t used = 0;  // 0: not seen here; 1: numeric; 2: categorical
    BinObserver numeric;
    TargetStats present;
    bool empty() const { return used == 0; }
};

// A leaf's linear model, learned online: intercept plus a weight per feature index (features past
// the end of weights have weight 0).
struct LeafModel {
    double intercept = 0;
    std::vector<double> weights;
};

// A node (core/models/hoeffding_tree/tree_common.hpp, NodeBase): the target's statistics, and a
// leaf's model, running errors and observers.
struct Node : hoeffding::NodeBase {
    TargetStats stats;  // the target over the rows that reached the node (a leaf: from its split too)
    // Leaf (last_attempt: the observed weight at the last split attempt).
    double fmse_mean = 0, fmse_model = 0;   // faded squared errors of the two predictions (adaptive)
    LeafModel model;
    TargetStats seen;           // the target over the rows the observers saw (since the leaf was made)
    std::vector<Observer> obs;  // by feature index

    double weight() const { return stats.n; }
    double attempt_weight() const { return seen.n; }
    // The deepest first (river's calculate_promise for regression leaves: minus the depth).
    double promise() const { return -static_cast<double>(depth); }
    // An inactive leaf keeps its model (it goes on learning) and its running errors.
    void stop_observing() {
        obs.clear();
        obs.shrink_to_fit();
        seen = TargetStats{};
        last_attempt = 0;
    }
    void clear_leaf() {
        stop_observing();
        model = LeafModel{};
        fmse_mean = fmse_model = 0;
    }
};

// Labels (and the scaler's values) lie within +-1e100 and weights are counts of rows (at most
// 2^53), so the statistics learning makes stay far from overflowing; larger ones (a hand-edited
// model) could overflow as it learns.
std::string invalid_stats(const TargetStats& s) {
    if (!(s.n >= 0 && s.n <= 9007199254740992.0) || !(std::fabs(s.mean) <= 1e100) || !(s.m2 >= 0 && s.m2 <= 1e300))
        return "target statistics out of range";
    if (s.n == 0 && (s.mean != 0 || s.m2 != 0)) return "empty target statistics hold values";
    return {};
}

json target_json(const TargetStats& s) { return {{"n", s.n}, {"mean", s.mean}, {"m2", s.m2}}; }

TargetStats target_from_json(const json& j, const char* what) {
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

void put_target(detail::ByteWriter& w, const TargetStats& s) {
    for (double v : {s.n, s.mean, s.m2}) w.put<double>(v);
}

void get_target(detail::ByteReader& r, TargetStats& s, const char* what) {
    for (double* v : {&s.n, &s.mean, &s.m2}) *v = r.get<double>(what);
}

class HoeffdingTreeRegressor final : public hoeffding::TreeModel<Node> {
public:
    HoeffdingTreeRegressor(const ModelFamily& family, FamilySpec spec) : TreeModel(family, std::move(spec)) {
        const json& o = options();
        const std::string lp = o["leaf_prediction"].get<std::string>();
        leaf_prediction_ = lp == "mean" ? LeafPrediction::Mean : lp == "model" ? LeafPrediction::Model : LeafPrediction::Adaptive;
        learning_rate_ = o["leaf_learning_rate"].get<double>();
        decay_ = o["model_selector_decay"].get<double>();
        min_samples_split_ = static_cast<double>(o["min_samples_split"].get<int64_t>());
        max_bins_ = static_cast<size_t>(o["max_bins"].get<int64_t>());
        nodes_.assign(1, Node{});
        recount_bytes();
    }

    std::unique_ptr<Model> clone() const override { return std::make_unique<HoeffdingTreeRegressor>(*this); }
    void assign(const Model& other) override { *this = dynamic_cast<const HoeffdingTreeRegressor&>(other); }

protected:
    void learn_terms(const std::vector<FeatureTerm>& x, double y, uint32_t) override;
    double predict_terms(const std::vector<FeatureTerm>& x) const override;
    // Issue 16: TreeSHAP of the prediction (each leaf valued at its prediction for x).
    void explain_terms(const std::vector<FeatureTerm>& x, Explanation& out) const override;
    json state_json() const override;
    void state_from_json(const json& j) override;

    // The tree's hooks (tree_common.hpp).
    void attempt_split(uint32_t leaf) override;
    size_t node_bytes(const Node& n) const override;
    size_t header_bytes() const override { return 12 + 24 * scale_.size(); }
    void write_stats(detail::ByteWriter& w, const Node& n) const override { put_target(w, n.stats); }
    void read_stats(detail::ByteReader& r, Node& n) const override { get_target(r, n.stats, "tree node"); }
    void write_leaf(detail::ByteWriter& w, const Node& n) const override;
    void read_leaf(detail::ByteReader& r, Node& n) const override;
    void write_extra(detail::ByteWriter& w) const override;
    void read_extra(detail::ByteReader& r) override;
    const char* stats_key() const override { return "target"; }
    json stats_json(const Node& n) const override { return target_json(n.stats); }
    void stats_from_json(const json& j, Node& n) const override { n.stats = target_from_json(j, "target"); }
    void leaf_json(const Node& n, json& j) const override;
    bool leaf_key(const std::string& key, bool active) const override;
    void leaf_from_json(const json& j, Node& n) const override;
    std::string invalid_extra() const override;
    std::string invalid_node_stats(const Node& n) const override { return invalid_stats(n.stats); }
    std::string invalid_node(const Node& n) const override;

private:
    bool uses_model() const { return leaf_prediction_ != LeafPrediction::Mean; }
    double scaled(const FeatureTerm& t) const;
    void learn_scale(const std::vector<FeatureTerm>& x);
    double model_predict(const LeafModel& m, const std::vector<FeatureTerm>& x) const;
    void model_learn(LeafModel& m, const std::vector<FeatureTerm>& x, double y);
    double leaf_predict(const Node& leaf, const std::vector<FeatureTerm>& x) const;
    static size_t observer_bytes(const Observer& o) {
        return 4 + (o.used == 2 ? 24 : 4 + 48 * o.numeric.bins.size());
    }

    // Options (and TreeModel's).
    LeafPrediction leaf_prediction_;
    double learning_rate_, decay_;
    double min_samples_split_;
    size_t max_bins_;
    // State (and TreeModel's).
    std::vector<TargetStats> scale_;  // by feature index: the numeric features' values (model leaves)
};

// ---- learning and prediction ---------------------------------------------------------------------

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
    const uint32_t i = find_leaf(values_);
    clear_values(x);
    return leaf_predict(nodes_[i], x);
}

// ---- issue 16: explanations ---------------------------------------------------------------------
// TreeSHAP of the prediction: a leaf's value is its prediction for x (a leaf model's depends on
// x), its cover the weight of the rows it holds.
void HoeffdingTreeRegressor::explain_terms(const std::vector<FeatureTerm>& x, Explanation& out) const {
    explain_tree(x, 1, out, [&](const Node& leaf, double* value) { *value = leaf_predict(leaf, x); });
    out.scale = "value";
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
    grow(i);
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
    l.stats = best.left;
    r.stats = best.right;
    l.model = r.model = leaf.model;
    split(i, best.feature, best.threshold, std::move(l), std::move(r));
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

// ---- validation ----------------------------------------------------------------------------------
// (The tree's shape: TreeModel::invalid_state.)

std::string HoeffdingTreeRegressor::invalid_extra() const {
    const size_t nf = features().size();
    if (scale_.size() > nf) return "the scaler names an unknown feature";
    if (!uses_model() && !scale_.empty()) return "mean leaves have no scaler";
    for (size_t f = 0; f < scale_.size(); f++) {
        if (std::string why = invalid_stats(scale_[f]); !why.empty()) return why;
        if (features().type(f) == FeatureType::Categorical && scale_[f].n != 0) return "the scaler holds a categorical feature";
    }
    return {};
}

std::string HoeffdingTreeRegressor::invalid_node(const Node& n) const {
    const size_t nf = features().size();
    const bool empty_leaf_part = n.obs.empty() && n.seen.n == 0 && n.seen.mean == 0 && n.seen.m2 == 0 &&
                                 n.last_attempt == 0;
    if (n.kind == kBranch) {
        if (!empty_leaf_part || n.fmse_mean != 0 || n.fmse_model != 0 || n.model.intercept != 0 ||
            !n.model.weights.empty())
            return "a branch holds leaf statistics";
        return {};
    }
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
        return {};
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
    return {};
}

// ---- binary form ---------------------------------------------------------------------------------
// The frame is TreeModel's; its extra state, after the flags: u32 scaler count s, f64 n, mean,
// m2 of each of the first s features' values (model leaves' standardization; 0s for a
// categorical feature). A node's statistics: f64 n, mean, m2 of the target; a leaf's part: f64
// faded squared errors of the mean and of the model, u32 model weight count w, f64 intercept,
// f64 weights[w]; an active leaf's then f64 n, mean, m2 of the target its observers saw and its
// observers' statistics (categorical: n, mean, m2; numeric: u32 bin count, per bin f64 lo, hi,
// xmean, n, mean, m2).

void HoeffdingTreeRegressor::write_extra(detail::ByteWriter& w) const {
    w.put<uint32_t>(static_cast<uint32_t>(scale_.size()));
    for (const TargetStats& f : scale_) put_target(w, f);
}

void HoeffdingTreeRegressor::read_extra(detail::ByteReader& r) {
    const auto ns = r.get<uint32_t>("tree scaler");
    if (ns > features().size()) r.corrupt("the scaler names an unknown feature");
    scale_.assign(ns, TargetStats{});
    for (TargetStats& f : scale_) get_target(r, f, "tree scaler");
}

void HoeffdingTreeRegressor::write_leaf(detail::ByteWriter& w, const Node& n) const {
    w.put<double>(n.fmse_mean);
    w.put<double>(n.fmse_model);
    w.put<uint32_t>(static_cast<uint32_t>(n.model.weights.size()));
    w.put<double>(n.model.intercept);
    for (double v : n.model.weights) w.put<double>(v);
    if (n.kind != kActiveLeaf) return;
    put_target(w, n.seen);
    write_observers(w, n, [&](const Observer& o) {
        if (o.used == 2) {
            put_target(w, o.present);
            return;
        }
        w.put<uint32_t>(static_cast<uint32_t>(o.numeric.bins.size()));
        for (const TargetBin& b : o.numeric.bins)
            for (double v : {b.lo, b.hi, b.xmean, b.y.n, b.y.mean, b.y.m2}) w.put<double>(v);
    });
}

void HoeffdingTreeRegressor::read_leaf(detail::ByteReader& r, Node& n) const {
    n.fmse_mean = r.get<double>("tree leaf");
    n.fmse_model = r.get<double>("tree leaf");
    const auto nw = r.get<uint32_t>("tree leaf");
    if (nw > features().size()) r.corrupt("a leaf model has more weights than features");
    n.model.intercept = r.get<double>("tree leaf");
    n.model.weights.resize(nw);
    for (double& v : n.model.weights) v = r.get<double>("tree leaf");
    if (n.kind != kActiveLeaf) return;
    get_target(r, n.seen, "tree leaf");
    read_observers(r, n, [&](uint32_t f, Observer& o) {
        if (features().type(f) == FeatureType::Categorical) {
            o.used = 2;
            get_target(r, o.present, "observer");
            return;
        }
        o.used = 1;
        const auto nb = r.get<uint32_t>("observer");
        if (nb == 0 || nb > max_bins_) r.corrupt("a numeric observer's bin count is out of range");
        o.numeric.bins.resize(nb);
        for (TargetBin& b : o.numeric.bins)
            for (double* v : {&b.lo, &b.hi, &b.xmean, &b.y.n, &b.y.mean, &b.y.m2}) *v = r.get<double>("observer");
    });
}

// ---- JSON form -----------------------------------------------------------------------------------
// {"growth_allowed": bool, "scaler": {feature: {"n", "mean", "m2"}} (the numeric features' values
// the leaf models are standardized by; empty with mean leaves), "tree": node}; every node shows
// "target": {"n", "mean", "m2"} (the rows that reached it), a branch as TreeModel's; a leaf also,
// with model leaves, its "model" ({"intercept", "weights": by feature name}), with adaptive
// leaves "mse_mean" and "mse_model" (the faded squared errors), and while active "seen" (the
// target its observers saw) and its "observers" by feature name: a numeric one a list of bins
// [lo, hi, xmean, n, mean, m2], a categorical one the target's {"n", "mean", "m2"} over the rows
// that had it.

void HoeffdingTreeRegressor::leaf_json(const Node& n, json& j) const {
    if (uses_model()) {
        json w = json::object();
        for (size_t f = 0; f < n.model.weights.size(); f++) w[features().name(f)] = n.model.weights[f];
        j["model"] = {{"intercept", n.model.intercept}, {"weights", w}};
    }
    if (leaf_prediction_ == LeafPrediction::Adaptive) {
        j["mse_mean"] = n.fmse_mean;
        j["mse_model"] = n.fmse_model;
    }
    if (n.kind != kActiveLeaf) return;
    j["seen"] = target_json(n.seen);
    json obs = json::object();
    for (uint32_t f = 0; f < n.obs.size(); f++) {
        const Observer& o = n.obs[f];
        if (o.used == 0) continue;
        if (o.used == 2) {
            obs[features().name(f)] = target_json(o.present);
            continue;
        }
        json bins = json::array();
        for (const TargetBin& b : o.numeric.bins) bins.push_back({b.lo, b.hi, b.xmean, b.y.n, b.y.mean, b.y.m2});
        obs[features().name(f)] = bins;
    }
    j["observers"] = obs;
}

json HoeffdingTreeRegressor::state_json() const {
    json scaler = json::object();
    for (size_t f = 0; f < scale_.size(); f++) scaler[features().name(f)] = target_json(scale_[f]);
    return {{"growth_allowed", growth_allowed_}, {"scaler", scaler}, {"tree", node_json(0)}};
}

bool HoeffdingTreeRegressor::leaf_key(const std::string& key, bool active) const {
    return (uses_model() && key == "model") ||
           (leaf_prediction_ == LeafPrediction::Adaptive && (key == "mse_mean" || key == "mse_model")) ||
           (active && (key == "seen" || key == "observers"));
}

void HoeffdingTreeRegressor::leaf_from_json(const json& j, Node& n) const {
    if (leaf_prediction_ == LeafPrediction::Adaptive) {
        n.fmse_mean = hoeffding::json_number(j, "mse_mean");
        n.fmse_model = hoeffding::json_number(j, "mse_model");
    }
    if (uses_model()) {
        const json* m = j.contains("model") ? &j["model"] : nullptr;
        if (!m || !m->is_object() || m->size() != 2 || !m->contains("weights") || !(*m)["weights"].is_object())
            bad_json("a model leaf needs \"model\": {\"intercept\": number, \"weights\": {feature: number}}");
        n.model.intercept = hoeffding::json_number(*m, "intercept");
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
    if (n.kind != kActiveLeaf) return;
    if (!j.contains("seen") || !j.contains("observers") || !j["observers"].is_object())
        bad_json("an active tree leaf needs \"seen\" and \"observers\"");
    n.seen = target_from_json(j["seen"], "seen");
    for (const auto& [f, v] : observers_by_index(j["observers"])) {
        n.obs.resize(f + 1);
        Observer& o = n.obs[f];
        if (features().type(f) == FeatureType::Categorical) {
            o.used = 2;
            o.present = target_from_json(*v, "observers");
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
        scale_[f] = target_from_json(it.value(), "scaler");
    }
    if (scale_.size() != j["scaler"].size()) bad_json("the scaler lists every feature up to its last");
    tree_from_json(j["tree"]);
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
    o["delta"] = hoeffding::delta_option(spec);
    o["tau"] = number_option(spec, "tau", 0.05, 0, 1);
    o["leaf_prediction"] = choice_option(spec, "leaf_prediction", "adaptive", {"mean", "model", "adaptive"});
    const double rate = number_option(spec, "leaf_learning_rate", 0.1, 0, 2);
    if (!(rate > 0 && rate < 2))
        fail(ErrorKind::InvalidParameter, "invalid model spec: \"leaf_learning_rate\" must be between 0 and 2 (exclusive)");
    o["leaf_learning_rate"] = rate;
    o["model_selector_decay"] = number_option(spec, "model_selector_decay", 0.95, 0, 1);
    o["min_samples_split"] = integer_option(spec, "min_samples_split", 5, 1, 1000000000);
    o["max_bins"] = integer_option(spec, "max_bins", 32, 2, 100000);
    o["max_size"] = hoeffding::max_size_option(spec);
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
