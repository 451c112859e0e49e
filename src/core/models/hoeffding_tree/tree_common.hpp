// What the two Hoeffding trees share (the classifier, hoeffding_tree.cpp, and the regressor,
// tree_regressor.cpp): the nodes' shape and the walk down them, the memory budget, the frame of
// the binary and JSON forms, the checks of the tree's shape, TreeSHAP's input and the importance.
// A family's node adds its statistics and observers, and the family its leaves' prediction, its
// split rule and the encoding of what its nodes add (docs/models.md, "Hoeffding trees").
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/common/error.hpp"
#include "core/models/common/family_model.hpp"
#include "core/models/common/tree_shap.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pg_learn::core::hoeffding {

inline constexpr double kMiB = 1024.0 * 1024.0;
enum NodeKind : uint8_t { kBranch = 0, kActiveLeaf = 1, kInactiveLeaf = 2 };

[[noreturn]] inline void bad_json(const std::string& why) {
    fail(ErrorKind::InvalidParameter, "invalid ml_model: " + why);
}

inline bool finite_nonneg(double x) { return std::isfinite(x) && x >= 0; }

// A number under `key` of a JSON node.
inline double json_number(const nlohmann::json& o, const char* key) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_number()) bad_json(std::string("a tree leaf needs a number \"") + key + "\"");
    return it->get<double>();
}

// Two spec options every tree has, with bounds of their own. Each family's parser calls them in
// its own order of options, which decides the error a spec with several bad options gets.
inline double delta_option(const nlohmann::json& spec) {
    const double delta = number_option(spec, "delta", 1e-7, 0, 1);
    if (!(delta > 0 && delta < 1))
        fail(ErrorKind::InvalidParameter, "invalid model spec: \"delta\" must be between 0 and 1 (exclusive)");
    return delta;
}

inline double max_size_option(const nlohmann::json& spec) {
    const double max_size = number_option(spec, "max_size", 100, 0, 1000);
    if (!(max_size > 0)) fail(ErrorKind::InvalidParameter, "invalid model spec: \"max_size\" must be more than 0 (MiB)");
    return max_size;
}

// What every node holds. A family's node derives from it and adds its statistics, its leaf's
// observers `obs` (by feature index; an Observer has empty()), and
//   double weight() const          the training weight that reached the node: a missing numeric
//                                  value follows the heavier child; TreeSHAP's cover; importance
//   double attempt_weight() const  the weight the grace period between split attempts counts
//   double promise() const         over the memory budget, the active leaves of least promise
//                                  stop observing first (river's calculate_promise)
//   void stop_observing()          an active leaf made inactive drops its observers
//   void clear_leaf()              a leaf made a branch drops everything of a leaf
struct NodeBase {
    uint8_t kind = kActiveLeaf;
    uint32_t depth = 0;
    // Branch: the feature tested, and the children (0: value <= threshold, or the category present).
    uint32_t feature = 0;
    double threshold = 0;
    uint32_t child[2] = {0, 0};
    // Leaf: the attempt weight at the last split attempt.
    double last_attempt = 0;
    bool is_leaf() const { return kind != kBranch; }
};

// A Hoeffding tree model over the family's Node. The tree's state: the nodes (nodes_[0] the
// root, children after their parent in the order made), whether it may still grow and its
// binary size, kept up to date.
template <class Node>
class TreeModel : public FamilyModel {
public:
    // Issue 16, ml_importance: for each feature, the weight of the training examples that reached
    // a split on it (summed over its splits), as a share of the examples the root saw.
    // Partial trees grown on different rows have different splits: no merge (docs/models.md).
    bool can_merge() const override { return false; }

    void importance(FeatureImportance& out) const override {
        out.kind = "split_weight";
        out.features = features().names();
        out.importance.assign(out.features.size(), 0.0);
        const double total = nodes_[0].weight();
        for (const Node& n : nodes_)
            if (!n.is_leaf() && n.feature < out.importance.size() && total > 0)
                out.importance[n.feature] += n.weight() / total;
    }

protected:
    using json = nlohmann::json;

    // Reads the options every tree has (the spec parser checked them).
    TreeModel(const ModelFamily& family, FamilySpec spec) : FamilyModel(family, std::move(spec)) {
        const json& o = options();
        grace_period_ = o["grace_period"].get<int64_t>();
        max_depth_ = static_cast<uint32_t>(o["max_depth"].get<int64_t>());
        delta_ = o["delta"].get<double>();
        tau_ = o["tau"].get<double>();
        max_bytes_ = o["max_size"].get<double>() * kMiB;
    }

    void merge_state(const FamilyModel&, const std::vector<uint32_t>&, const std::vector<uint32_t>&,
                     const FamilyModel*) override {
        fail(ErrorKind::Internal, "a Hoeffding tree has no merge");  // can_merge() is false
    }

    // ---- the family's part --------------------------------------------------------------------
    // Tries to split the active leaf i (a grace period of weight after the last attempt).
    virtual void attempt_split(uint32_t i) = 0;
    // Bytes write_state gives for the node alone, and for the state besides the nodes.
    virtual size_t node_bytes(const Node& n) const = 0;
    virtual size_t header_bytes() const = 0;
    // The binary form of what the family's node adds: its statistics (every node), and a leaf's
    // part after its last split attempt; read_* check what they read (r.corrupt).
    virtual void write_stats(detail::ByteWriter& w, const Node& n) const = 0;
    virtual void read_stats(detail::ByteReader& r, Node& n) const = 0;
    virtual void write_leaf(detail::ByteWriter& w, const Node& n) const = 0;
    virtual void read_leaf(detail::ByteReader& r, Node& n) const = 0;
    // The state between the flags and the node count (none by default).
    virtual void write_extra(detail::ByteWriter& w) const { (void)w; }
    virtual void read_extra(detail::ByteReader& r) { (void)r; }
    // The JSON form: every node's statistics under stats_key(); a leaf's keys besides the
    // statistics, "active" and "last_split_attempt" (leaf_key says which it may hold).
    virtual const char* stats_key() const = 0;
    virtual json stats_json(const Node& n) const = 0;
    virtual void stats_from_json(const json& j, Node& n) const = 0;
    virtual void leaf_json(const Node& n, json& j) const = 0;
    virtual bool leaf_key(const std::string& key, bool active) const = 0;
    virtual void leaf_from_json(const json& j, Node& n) const = 0;
    // The checks of invalid_state beyond the tree's shape: the state besides the nodes, a node's
    // statistics, and what else a branch or a leaf holds ("" when valid).
    virtual std::string invalid_extra() const { return {}; }
    virtual std::string invalid_node_stats(const Node& n) const = 0;
    virtual std::string invalid_node(const Node& n) const = 0;

    // ---- the walk -------------------------------------------------------------------------------
    void load_values(const std::vector<FeatureTerm>& x) const {
        if (values_.size() < features().size()) values_.resize(features().size(), std::nan(""));
        for (const FeatureTerm& t : x) values_[t.index] = t.value;
    }

    void clear_values(const std::vector<FeatureTerm>& x) const {
        for (const FeatureTerm& t : x) values_[t.index] = std::nan("");
    }

    uint32_t next_child(const Node& n, const std::vector<double>& values) const {
        const double v = n.feature < values.size() ? values[n.feature] : std::nan("");
        if (features().type(n.feature) == FeatureType::Categorical) return n.child[std::isnan(v) ? 1 : 0];
        if (!std::isnan(v)) return n.child[v <= n.threshold ? 0 : 1];
        // A missing numeric value follows the heavier branch (river's most_common_path).
        return n.child[nodes_[n.child[1]].weight() > nodes_[n.child[0]].weight() ? 1 : 0];
    }

    uint32_t find_leaf(const std::vector<double>& values) const {
        uint32_t i = 0;
        while (!nodes_[i].is_leaf()) i = next_child(nodes_[i], values);
        return i;
    }

    // The nodes from the root, parents before children, "le" children before "gt" ones (stops
    // after more indices than nodes: a cycle).
    std::vector<uint32_t> preorder() const {
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

    // Issue 16: TreeSHAP (core/models/common/tree_shap.hpp) of x: `outputs` values per leaf, which
    // value(leaf, values) writes (its prediction for x), each leaf's cover its weight. The caller
    // sets the scale and the outputs' names.
    template <class LeafValue>
    void explain_tree(const std::vector<FeatureTerm>& x, size_t outputs, Explanation& out, LeafValue&& value) const {
        out.clear();
        out.method = "tree_shap";
        const size_t nf = features().size();
        out.features = features().names();
        out.values.assign(nf, std::nan(""));
        for (const FeatureTerm& t : x)
            if (t.index < nf) out.values[t.index] = t.value;
        ShapTree tree;
        tree.clear(outputs);
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
            tree.cover[i] = n.weight();
            value(n, &tree.value[i * outputs]);
        }
        clear_values(x);
        std::vector<double> phi(nf * outputs, 0.0);
        out.base.assign(outputs, 0.0);
        tree_shap(tree, phi.data(), out.base.data());
        out.contributions.resize(outputs * nf);
        for (size_t c = 0; c < outputs; c++)
            for (size_t f = 0; f < nf; f++) out.contributions[c * nf + f] = phi[f * outputs + c];
    }

    // ---- growing and the memory budget ----------------------------------------------------------

    // After an example reached leaf i and was learned: the budget, then growth (a leaf at
    // max_depth stops observing; one a grace period past its last attempt tries to split).
    void grow(uint32_t i) {
        if (bytes_ > max_bytes_) enforce_budget();
        Node& l = nodes_[i];
        if (!growth_allowed_ || l.kind != kActiveLeaf) return;
        if (l.depth >= max_depth_) {
            deactivate(l);
            return;
        }
        const double weight = l.attempt_weight();
        if (weight - l.last_attempt >= static_cast<double>(grace_period_)) {
            attempt_split(i);
            if (nodes_[i].is_leaf()) nodes_[i].last_attempt = weight;
        }
    }

    // The leaf i becomes a branch testing the feature over two new active leaves l and r.
    void split(uint32_t i, uint32_t feature, double threshold, Node l, Node r) {
        l.depth = r.depth = nodes_[i].depth + 1;
        bytes_ -= node_bytes(nodes_[i]);
        Node& b = nodes_[i];
        b.kind = kBranch;
        b.feature = feature;
        b.threshold = threshold;
        b.clear_leaf();
        b.child[0] = static_cast<uint32_t>(nodes_.size());
        b.child[1] = b.child[0] + 1;
        bytes_ += node_bytes(b) + node_bytes(l) + node_bytes(r);
        nodes_.push_back(std::move(l));
        nodes_.push_back(std::move(r));
        if (bytes_ > max_bytes_) enforce_budget();
    }

    void deactivate(Node& leaf) {
        bytes_ -= node_bytes(leaf);
        leaf.kind = kInactiveLeaf;
        leaf.stop_observing();
        bytes_ += node_bytes(leaf);
    }

    // Over the memory budget: the least promising active leaves stop observing until the tree
    // fits; a tree left without an active leaf, or that does not fit even then, stops growing
    // for good.
    void enforce_budget() {
        std::vector<uint32_t> active;
        for (uint32_t i : preorder())
            if (nodes_[i].kind == kActiveLeaf) active.push_back(i);
        std::stable_sort(active.begin(), active.end(),
                         [&](uint32_t a, uint32_t b) { return nodes_[a].promise() < nodes_[b].promise(); });
        size_t left = active.size();
        for (uint32_t i : active) {
            if (static_cast<double>(bytes_) <= max_bytes_) break;
            deactivate(nodes_[i]);
            left--;
        }
        if (left == 0 || static_cast<double>(bytes_) > max_bytes_) growth_allowed_ = false;
    }

    void recount_bytes() {
        bytes_ = header_bytes();
        for (const Node& n : nodes_) bytes_ += node_bytes(n);
    }

    json info_extra() const override {
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

    // ---- validation -----------------------------------------------------------------------------

    std::string invalid_state() const override {
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
        if (std::string why = invalid_extra(); !why.empty()) return why;
        for (const Node& n : nodes_) {
            if (n.kind > kInactiveLeaf) return "unknown tree node kind";
            if (std::string why = invalid_node_stats(n); !why.empty()) return why;
            if (n.kind == kBranch) {
                if (n.depth >= max_depth_) return "a branch is deeper than max_depth allows";
                if (n.feature >= nf) return "a split names an unknown feature";
                if (!std::isfinite(n.threshold)) return "a split threshold is not finite";
                if (features().type(n.feature) == FeatureType::Categorical && n.threshold != 0)
                    return "a categorical split has a threshold";
                for (uint32_t c : n.child)
                    if (c >= nodes_.size() || nodes_[c].depth != n.depth + 1) return "tree node depths are inconsistent";
            } else if (n.depth > max_depth_) {
                return "a leaf is deeper than max_depth allows";
            }
            if (std::string why = invalid_node(n); !why.empty()) return why;
        }
        return {};
    }

    // ---- binary form ----------------------------------------------------------------------------
    // u32 flags (bit 0: growth allowed), the family's extra state, u32 node count, then the nodes
    // in preorder: u8 kind, the node's statistics; a branch: u32 feature, f64 threshold, then its
    // two children; a leaf: f64 last split attempt, then the family's leaf part. An active leaf's
    // observers: u32 count, then per observer (by increasing feature) u32 feature and its part.

    void write_state(detail::ByteWriter& w) const override {
        w.put<uint32_t>(growth_allowed_ ? 1u : 0u);
        write_extra(w);
        w.put<uint32_t>(static_cast<uint32_t>(nodes_.size()));
        write_node(w, 0);
    }

    void read_state(detail::ByteReader& r) override {
        const auto flags = r.get<uint32_t>("tree");
        if (flags > 1) r.corrupt("unknown tree flags");
        read_extra(r);
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

    template <class WriteObserver>
    static void write_observers(detail::ByteWriter& w, const Node& n, WriteObserver&& write) {
        uint32_t count = 0;
        for (const auto& o : n.obs) count += !o.empty();
        w.put<uint32_t>(count);
        for (uint32_t f = 0; f < n.obs.size(); f++) {
            const auto& o = n.obs[f];
            if (o.empty()) continue;
            w.put<uint32_t>(f);
            write(o);
        }
    }

    // read(f, observer) reads feature f's observer.
    template <class ReadObserver>
    void read_observers(detail::ByteReader& r, Node& n, ReadObserver&& read) const {
        const size_t nf = features().size();
        const auto count = r.get<uint32_t>("tree leaf");
        if (count > nf) r.corrupt("more observers than features");
        int64_t last = -1;
        for (uint32_t j = 0; j < count; j++) {
            const auto f = r.get<uint32_t>("observer");
            if (f >= nf || static_cast<int64_t>(f) <= last) r.corrupt("observer features out of order or unknown");
            last = f;
            n.obs.resize(f + 1);
            read(f, n.obs[f]);
        }
    }

    // ---- JSON form ------------------------------------------------------------------------------
    // A node: its statistics; a branch its feature, its threshold (numeric) and its children "le"
    // and "gt" (numeric: value <= threshold, greater) or "is" and "is_not" (a categorical
    // "key=value"); a leaf whether it is active, "last_split_attempt" and the family's leaf part.

    json node_json(uint32_t i) const {
        const Node& n = nodes_[i];
        json j = {{stats_key(), stats_json(n)}};
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
        leaf_json(n, j);
        return j;
    }

    // The tree of a JSON state (at most 2^24 nodes), checked.
    void tree_from_json(const json& tree) {
        size_t budget = size_t(1) << 24;
        node_from_json(tree, 0, budget);
        if (std::string why = invalid_state(); !why.empty()) bad_json(why);
        recount_bytes();
    }

    // A leaf's "observers" by feature index (JSON objects list their keys in name order).
    std::vector<std::pair<uint32_t, const json*>> observers_by_index(const json& observers) const {
        std::vector<std::pair<uint32_t, const json*>> obs;
        for (auto it = observers.begin(); it != observers.end(); ++it) {
            const uint32_t f = features().find(it.key());
            if (f == kUnknownFeature) bad_json("an observer names an unknown feature");
            obs.emplace_back(f, &it.value());
        }
        std::sort(obs.begin(), obs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        return obs;
    }

    // Options.
    int64_t grace_period_;
    uint32_t max_depth_;
    double delta_, tau_;
    double max_bytes_;
    // State.
    std::vector<Node> nodes_;  // nodes_[0] is the root
    bool growth_allowed_ = true;
    size_t bytes_ = 0;                    // the size of write_state's output, kept up to date
    mutable std::vector<double> values_;  // feature index -> value of the current example (NaN: absent)

private:
    void write_node(detail::ByteWriter& w, uint32_t i) const {
        const Node& n = nodes_[i];
        w.put<uint8_t>(n.kind);
        write_stats(w, n);
        if (n.kind == kBranch) {
            w.put<uint32_t>(n.feature);
            w.put<double>(n.threshold);
            write_node(w, n.child[0]);
            write_node(w, n.child[1]);
            return;
        }
        w.put<double>(n.last_attempt);
        write_leaf(w, n);
    }

    uint32_t read_node(detail::ByteReader& r, uint32_t depth, size_t& budget) {
        if (budget == 0) r.corrupt("more tree nodes than the count says");
        budget--;
        if (depth > max_depth_) r.corrupt("tree deeper than max_depth");
        Node n;
        n.depth = depth;
        n.kind = r.get<uint8_t>("tree node");
        if (n.kind > kInactiveLeaf) r.corrupt("unknown tree node kind");
        read_stats(r, n);
        const auto index = static_cast<uint32_t>(nodes_.size());
        if (n.kind == kBranch) {
            n.feature = r.get<uint32_t>("tree node");
            n.threshold = r.get<double>("tree node");
            if (n.feature >= features().size()) r.corrupt("a split names an unknown feature");
            nodes_.push_back(std::move(n));
            const uint32_t a = read_node(r, depth + 1, budget);
            const uint32_t b = read_node(r, depth + 1, budget);
            nodes_[index].child[0] = a;
            nodes_[index].child[1] = b;
            return index;
        }
        n.last_attempt = r.get<double>("tree leaf");
        read_leaf(r, n);
        nodes_.push_back(std::move(n));
        return index;
    }

    uint32_t node_from_json(const json& j, uint32_t depth, size_t& budget) {
        if (budget == 0) bad_json("tree too large");
        budget--;
        if (depth > max_depth_) bad_json("tree deeper than max_depth");
        if (!j.is_object()) bad_json("a tree node must be an object");
        const std::string stats = stats_key();
        Node n;
        n.depth = depth;
        if (!j.contains(stats)) bad_json("a tree node needs \"" + stats + "\"");
        stats_from_json(j[stats], n);
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
                const bool ok = key == stats || key == "feature" ||
                                (cat ? key == "is" || key == "is_not" : key == "threshold" || key == "le" || key == "gt");
                if (!ok) bad_json("unknown key \"" + key + "\" in a tree split");
            }
            if (!cat) n.threshold = json_number(j, "threshold");
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
            const bool ok = key == stats || key == "active" || key == "last_split_attempt" || leaf_key(key, active);
            if (!ok) bad_json("unknown key \"" + key + "\" in a tree leaf");
        }
        n.kind = active ? kActiveLeaf : kInactiveLeaf;
        n.last_attempt = json_number(j, "last_split_attempt");
        leaf_from_json(j, n);
        nodes_.push_back(std::move(n));
        return index;
    }
};

}  // namespace pg_learn::core::hoeffding
