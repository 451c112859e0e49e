// Half-Space Trees (Tan, Ting and Liu 2011, as river's anomaly.HalfSpaceTrees; docs/models.md,
// "Half-Space Trees"): n_trees random trees of the given height, built at the first example
// over the features' limits (the spec's "limits", else the first example's features on [0, 1]);
// each example adds one to the current window's mass of every node on its path, and every
// window_size examples the current masses become the reference masses. The anomaly score of an
// example is 1 - (sum over trees and over the nodes of its path, down to the first node whose
// reference mass is under a tenth of the window, of mass * 2^depth) / (n_trees * window_size *
// (2^(height+1) - 1)): in [0, 1], high for examples in sparse regions; 0 during the first window.
#include "core/models/half_space_trees/half_space_trees.hpp"

#include "core/common/error.hpp"
#include "core/common/text.hpp"
#include "core/models/common/family_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

namespace pg_learn::core {

using nlohmann::json;

namespace {

constexpr int64_t kMaxTrees = 1000;
constexpr int64_t kMaxHeight = 20;
// Nodes of all trees together (each ~28 bytes stored).
constexpr double kMaxNodes = 4.0 * 1024 * 1024;
constexpr size_t kMaxLimits = 10000;
constexpr double kPadding = 0.15;     // river's padding of split points
constexpr double kSizeLimit = 0.1;    // the paper's sizeLimit, as a share of the window

// SplitMix64 (its state is part of the model), uniforms on [0, 1) from the top 53 bits.
struct Rng {
    uint64_t state = 0;
    uint64_t next() {
        uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

[[noreturn]] void bad_json(const std::string& why) { fail(ErrorKind::InvalidParameter, "invalid ml_model: " + why); }

std::unique_ptr<Model> hst_from_spec(const json& spec);

const ModelFamily kHST = family_entry("half_space_trees", 60, Task::Anomaly, &hst_from_spec);

class HalfSpaceTreesModel final : public FamilyModel {
public:
    explicit HalfSpaceTreesModel(FamilySpec spec) : FamilyModel(kHST, std::move(spec)) {
        const json& o = options();
        n_trees_ = static_cast<size_t>(o["n_trees"].get<int64_t>());
        height_ = static_cast<int>(o["height"].get<int64_t>());
        window_ = static_cast<uint64_t>(o["window_size"].get<int64_t>());
        seed_ = static_cast<uint64_t>(o["seed"].get<int64_t>());
        for (auto it = o["limits"].begin(); it != o["limits"].end(); ++it)
            limits_.emplace(it.key(), std::make_pair((*it)[0].get<double>(), (*it)[1].get<double>()));
        nodes_ = (size_t(1) << (height_ + 1)) - 1;
        inner_ = (size_t(1) << height_) - 1;
    }

    std::unique_ptr<Model> clone() const override { return std::make_unique<HalfSpaceTreesModel>(*this); }
    void assign(const Model& other) override {
        const auto* o = dynamic_cast<const HalfSpaceTreesModel*>(&other);
        if (!o) fail(ErrorKind::Internal, "assigning a model of another family");
        *this = *o;
    }
    // The window of masses depends on the order of the examples across partial models: merging
    // them would give a model no stream gives (docs/models.md, "Half-Space Trees").
    bool can_merge() const override { return false; }

protected:
    void features_added(size_t n) override {
        (void)n;
        map_features();
    }

    void learn_terms(const std::vector<FeatureTerm>& x, double, uint32_t) override {
        for (const FeatureTerm& t : x)
            if (!std::isfinite(t.value)) fail(ErrorKind::NumericRange, "feature value is not finite");
        if (tree_features_.empty()) build(x);
        if (tree_features_.empty()) return;  // (not reached: build refuses an example without features)
        values(x);
        for (size_t t = 0; t < n_trees_; t++) {
            size_t node = 0;
            for (int depth = 0;; depth++) {
                r_mass_[t * nodes_ + node]++;
                if (depth == height_) break;
                node = child(t, node);
            }
        }
        if (++counter_ == window_) {
            for (size_t i = 0; i < l_mass_.size(); i++) {
                l_mass_[i] = r_mass_[i];
                r_mass_[i] = 0;
            }
            counter_ = 0;
            windows_++;
        }
    }

    double predict_terms(const std::vector<FeatureTerm>& x) const override {
        if (windows_ == 0) return 0.0;  // river's score during the first window
        for (const FeatureTerm& t : x)
            if (!std::isfinite(t.value)) fail(ErrorKind::NumericRange, "feature value is not finite");
        values(x);
        const double size_limit = kSizeLimit * double(window_);
        double score = 0;
        for (size_t t = 0; t < n_trees_; t++) {
            size_t node = 0;
            for (int depth = 0;; depth++) {
                const double m = double(l_mass_[t * nodes_ + node]);
                score += m * std::ldexp(1.0, depth);
                if (m < size_limit || depth == height_) break;
                node = child(t, node);
            }
        }
        const double max_score = double(n_trees_) * double(window_) * (std::ldexp(1.0, height_ + 1) - 1.0);
        return 1.0 - score / max_score;
    }

    void merge_state(const FamilyModel&, const std::vector<uint32_t>&, const std::vector<uint32_t>&,
                     const FamilyModel*) override {
        fail(ErrorKind::Internal, "half_space_trees models do not merge");
    }

    void write_state(detail::ByteWriter& w) const override {
        w.put<uint64_t>(counter_);
        w.put<uint64_t>(windows_);
        w.put<uint32_t>(static_cast<uint32_t>(tree_features_.size()));
        w.put<uint32_t>(0);
        for (size_t i = 0; i < tree_features_.size(); i++) {
            w.put<uint32_t>(static_cast<uint32_t>(tree_features_[i].size()));
            w.bytes(tree_features_[i].data(), tree_features_[i].size());
            w.put<uint8_t>(tree_categorical_[i]);
        }
        if (tree_features_.empty()) return;
        for (uint32_t f : split_feature_) w.put<uint32_t>(f);
        for (double v : threshold_) w.put<double>(v);
        for (uint64_t m : l_mass_) w.put<uint64_t>(m);
        for (uint64_t m : r_mass_) w.put<uint64_t>(m);
    }

    void read_state(detail::ByteReader& r) override {
        counter_ = r.get<uint64_t>("half_space_trees state");
        windows_ = r.get<uint64_t>("half_space_trees state");
        const auto nf = r.get<uint32_t>("half_space_trees state");
        if (r.get<uint32_t>("half_space_trees state") != 0) r.corrupt("reserved field is not zero");
        if (nf > kMaxDictionaryNames) r.corrupt("too many tree features");
        tree_features_.clear();
        tree_categorical_.clear();
        for (uint32_t i = 0; i < nf; i++) {
            const auto len = r.get<uint32_t>("tree features");
            if (len > kMaxDictionaryNameBytes) r.corrupt("tree feature name too long");
            const uint8_t* p = r.take(len, "tree features");
            tree_features_.emplace_back(reinterpret_cast<const char*>(p), len);
            tree_categorical_.push_back(r.get<uint8_t>("tree features"));
        }
        // (Checked before allocating: a short input cannot make the decoder allocate much.)
        const double need = nf ? double(n_trees_) * (double(inner_) * 12.0 + double(nodes_) * 16.0) : 0.0;
        if (need > double(r.remaining())) r.corrupt("truncated in the trees");
        allocate(nf != 0);
        if (nf == 0) return;
        for (uint32_t& f : split_feature_) f = r.get<uint32_t>("tree splits");
        for (double& v : threshold_) v = r.get<double>("tree splits");
        for (uint64_t& m : l_mass_) m = r.get<uint64_t>("tree masses");
        for (uint64_t& m : r_mass_) m = r.get<uint64_t>("tree masses");
        map_features();
    }

    json state_json() const override {
        json trees = json::array();
        for (size_t t = 0; t < (tree_features_.empty() ? 0 : n_trees_); t++) {
            json feature = json::array(), threshold = json::array(), l = json::array(), rm = json::array();
            for (size_t i = 0; i < inner_; i++) {
                feature.push_back(split_feature_[t * inner_ + i]);
                threshold.push_back(threshold_[t * inner_ + i]);
            }
            for (size_t i = 0; i < nodes_; i++) {
                l.push_back(l_mass_[t * nodes_ + i]);
                rm.push_back(r_mass_[t * nodes_ + i]);
            }
            trees.push_back({{"feature", std::move(feature)}, {"threshold", std::move(threshold)},
                             {"l_mass", std::move(l)}, {"r_mass", std::move(rm)}});
        }
        json tf = json::array();
        for (size_t i = 0; i < tree_features_.size(); i++)
            tf.push_back({{"name", tree_features_[i]}, {"categorical", tree_categorical_[i] != 0}});
        return {{"counter", counter_}, {"windows", windows_}, {"tree_features", std::move(tf)}, {"trees", std::move(trees)}};
    }

    void state_from_json(const json& j) override {
        if (!j.is_object() || j.size() != 4)
            bad_json("the state of a half_space_trees model is {\"counter\", \"windows\", \"tree_features\", \"trees\"}");
        for (const char* k : {"counter", "windows"})
            if (!j.contains(k) || !j[k].is_number_unsigned()) bad_json(std::string("\"") + k + "\" must be a non-negative integer");
        if (!j.contains("tree_features") || !j["tree_features"].is_array() || !j.contains("trees") || !j["trees"].is_array())
            bad_json("\"tree_features\" and \"trees\" must be arrays");
        counter_ = j["counter"].get<uint64_t>();
        windows_ = j["windows"].get<uint64_t>();
        tree_features_.clear();
        tree_categorical_.clear();
        for (const json& f : j["tree_features"]) {
            if (!f.is_object() || f.size() != 2 || !f.contains("name") || !f["name"].is_string() ||
                !f.contains("categorical") || !f["categorical"].is_boolean())
                bad_json("each tree feature is {\"name\": text, \"categorical\": boolean}");
            tree_features_.push_back(f["name"].get<std::string>());
            tree_categorical_.push_back(f["categorical"].get<bool>() ? 1 : 0);
        }
        const json& trees = j["trees"];
        const bool built = !tree_features_.empty();
        if (trees.size() != (built ? n_trees_ : 0)) bad_json("\"trees\" must hold n_trees trees once built, none before");
        auto arr = [&](const json& tr, const char* k, size_t n) -> const json& {
            if (!tr.contains(k) || !tr[k].is_array() || tr[k].size() != n)
                bad_json(std::string("a tree's \"") + k + "\" must hold " + std::to_string(n) + " values");
            return tr[k];
        };
        // Every tree's shape first, so that the arrays are allocated for a state that has them.
        for (const json& tr : trees) {
            if (!tr.is_object() || tr.size() != 4) bad_json("a tree is {\"feature\", \"threshold\", \"l_mass\", \"r_mass\"}");
            arr(tr, "feature", inner_), arr(tr, "threshold", inner_), arr(tr, "l_mass", nodes_), arr(tr, "r_mass", nodes_);
        }
        allocate(built);
        for (size_t t = 0; t < trees.size(); t++) {
            const json& tr = trees[t];
            const json &f = tr["feature"], &th = tr["threshold"], &l = tr["l_mass"], &rm = tr["r_mass"];
            for (size_t i = 0; i < inner_; i++) {
                if (!f[i].is_number_unsigned() || f[i].get<uint64_t>() > UINT32_MAX) bad_json("a split feature is not a tree feature");
                split_feature_[t * inner_ + i] = static_cast<uint32_t>(f[i].get<uint64_t>());
                if (!th[i].is_number()) bad_json("a threshold is not a number");
                threshold_[t * inner_ + i] = th[i].get<double>();
            }
            for (size_t i = 0; i < nodes_; i++) {
                if (!l[i].is_number_unsigned() || !rm[i].is_number_unsigned()) bad_json("a mass is not a non-negative integer");
                l_mass_[t * nodes_ + i] = l[i].get<uint64_t>();
                r_mass_[t * nodes_ + i] = rm[i].get<uint64_t>();
            }
        }
        map_features();
    }

    std::string invalid_state() const override {
        const bool built = !tree_features_.empty();
        if (counter_ >= window_) return "half_space_trees window counter out of range";
        if (!built) return n_seen() == 0 && windows_ == 0 && counter_ == 0 ? "" : "half_space_trees trees are missing";
        if (n_seen() != windows_ * window_ + counter_) return "half_space_trees counters do not match the examples seen";
        std::vector<std::string> sorted = tree_features_;
        std::sort(sorted.begin(), sorted.end());
        if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return "tree features repeat";
        for (const std::string& f : tree_features_)
            if (f.empty() || !is_valid_utf8(f) || f.find('\0') != std::string::npos) return "a tree feature name is not valid";
        for (uint8_t c : tree_categorical_)
            if (c > 1) return "a tree feature's type is not valid";
        for (uint32_t f : split_feature_)
            if (f >= tree_features_.size()) return "a split feature is not a tree feature";
        for (double v : threshold_)
            if (!std::isfinite(v)) return "a threshold is not finite";
        for (size_t t = 0; t < n_trees_; t++) {
            // Every example of a window passes the root, and the masses of a node's children add up
            // to its own (each example goes down one path).
            const uint64_t* l = &l_mass_[t * nodes_];
            const uint64_t* r = &r_mass_[t * nodes_];
            if (l[0] != (windows_ ? window_ : 0) || r[0] != counter_) return "half_space_trees masses do not match the window";
            for (size_t i = 0; i < inner_; i++)
                if (l[2 * i + 1] + l[2 * i + 2] != l[i] || r[2 * i + 1] + r[2 * i + 2] != r[i])
                    return "half_space_trees masses do not add up";
        }
        return {};
    }

    json info_extra() const override {
        json tf = json::array();
        for (const std::string& f : tree_features_) tf.push_back(f);
        return {{"tree_features", std::move(tf)}, {"windows", windows_}, {"window_counter", counter_},
                {"scoring", windows_ > 0}};
    }

private:
    size_t child(size_t t, size_t node) const {
        const uint32_t f = split_feature_[t * inner_ + node];
        const double v = value_[f];
        if (std::isnan(v)) {
            // A missing feature: down to the child with more reference mass (the left one on a tie).
            const uint64_t* l = &l_mass_[t * nodes_];
            return l[2 * node + 1] < l[2 * node + 2] ? 2 * node + 2 : 2 * node + 1;
        }
        return v < threshold_[t * inner_ + node] ? 2 * node + 1 : 2 * node + 2;
    }

    // The example's value of each tree feature (NaN: missing; a categorical one absent is 0).
    void values(const std::vector<FeatureTerm>& x) const {
        value_.assign(tree_features_.size(), std::nan(""));
        for (size_t i = 0; i < tree_features_.size(); i++)
            if (tree_categorical_[i]) value_[i] = 0.0;
        for (const FeatureTerm& t : x)
            if (t.index < dict_to_tree_.size() && dict_to_tree_[t.index] != UINT32_MAX)
                value_[dict_to_tree_[t.index]] = t.value;
    }

    // The dictionary index -> tree feature map, after the dictionary grew or the state was read.
    void map_features() {
        const FeatureDictionary& d = features();
        dict_to_tree_.assign(d.size(), UINT32_MAX);
        for (size_t i = 0; i < tree_features_.size(); i++) {
            const uint32_t at = d.find(tree_features_[i]);
            if (at != kUnknownFeature) dict_to_tree_[at] = static_cast<uint32_t>(i);
        }
    }

    void allocate(bool built) {
        const size_t n = built ? n_trees_ : 0;
        split_feature_.assign(n * inner_, 0);
        threshold_.assign(n * inner_, 0.0);
        l_mass_.assign(n * nodes_, 0);
        r_mass_.assign(n * nodes_, 0);
    }

    // The trees, at the first example: over the spec's limits, else over the example's features
    // on [0, 1]; the features in name order, each tree from the generator seeded by the spec.
    void build(const std::vector<FeatureTerm>& x) {
        std::vector<std::pair<double, double>> lim;
        std::vector<std::string> names;
        std::vector<uint8_t> cat;
        const FeatureDictionary& d = features();
        if (!limits_.empty()) {
            for (const auto& [name, ab] : limits_) {
                names.push_back(name);
                lim.push_back(ab);
                const uint32_t at = d.find(name);
                cat.push_back(at != kUnknownFeature && d.type(at) == FeatureType::Categorical ? 1 : 0);
            }
        } else {
            std::map<std::string, uint8_t> seen;
            for (const FeatureTerm& t : x) seen.emplace(d.name(t.index), d.type(t.index) == FeatureType::Categorical ? 1 : 0);
            if (seen.empty())
                fail(ErrorKind::InvalidParameter, "the first example of a half_space_trees model has no feature",
                     {}, "Its trees are built over the first example's features (or the spec's \"limits\").");
            for (const auto& [name, c] : seen) {
                names.push_back(name);
                lim.emplace_back(0.0, 1.0);
                cat.push_back(c);
            }
        }
        tree_features_ = std::move(names);
        tree_categorical_ = std::move(cat);
        allocate(true);
        Rng rng{seed_};
        for (size_t t = 0; t < n_trees_; t++) grow(rng, t, 0, 0, lim);
        map_features();
    }

    // river's make_padded_tree: a feature drawn with probability proportional to its range, the
    // split point uniform in the range's middle 70%; the left subtree first, then the right.
    void grow(Rng& rng, size_t t, size_t node, int depth, std::vector<std::pair<double, double>>& lim) {
        if (depth == height_) return;
        double total = 0;
        for (const auto& ab : lim) total += ab.second - ab.first;
        const double u = rng.uniform() * total;
        size_t on = 0;
        double cum = 0;
        for (on = 0; on < lim.size(); on++) {
            cum += lim[on].second - lim[on].first;
            if (u < cum) break;
        }
        if (on == lim.size()) on = lim.size() - 1;
        const double a = lim[on].first, b = lim[on].second;
        const double lo = a + kPadding * (b - a), hi = b - kPadding * (b - a);
        const double at = lo + (hi - lo) * rng.uniform();
        split_feature_[t * inner_ + node] = static_cast<uint32_t>(on);
        threshold_[t * inner_ + node] = at;
        const auto saved = lim[on];
        lim[on].second = at;
        grow(rng, t, 2 * node + 1, depth + 1, lim);
        lim[on] = {at, saved.second};
        grow(rng, t, 2 * node + 2, depth + 1, lim);
        lim[on] = saved;
    }

    size_t n_trees_ = 10;
    int height_ = 8;
    uint64_t window_ = 250;
    uint64_t seed_ = 0;
    std::map<std::string, std::pair<double, double>> limits_;
    size_t nodes_ = 0, inner_ = 0;  // per tree: all nodes, and the inner ones (heap order)
    uint64_t counter_ = 0;          // examples in the current window
    uint64_t windows_ = 0;          // windows completed
    std::vector<std::string> tree_features_;
    std::vector<uint8_t> tree_categorical_;
    std::vector<uint32_t> split_feature_;  // per tree, per inner node: an index into tree_features_
    std::vector<double> threshold_;
    std::vector<uint64_t> l_mass_, r_mass_;  // per tree, per node: reference and current masses
    std::vector<uint32_t> dict_to_tree_;
    mutable std::vector<double> value_;
};

std::unique_ptr<Model> hst_from_spec(const json& spec) {
    FamilySpec s = parse_family_spec(spec, {"n_trees", "height", "window_size", "limits", "seed"});
    s.options["n_trees"] = integer_option(spec, "n_trees", 10, 1, kMaxTrees);
    s.options["height"] = integer_option(spec, "height", 8, 1, kMaxHeight);
    s.options["window_size"] = integer_option(spec, "window_size", 250, 1, int64_t(1) << 31);
    s.options["seed"] = integer_option(spec, "seed", 0, 0, (int64_t(1) << 53));
    const double nodes = double(s.options["n_trees"].get<int64_t>()) *
                         (std::ldexp(1.0, int(s.options["height"].get<int64_t>()) + 1) - 1.0);
    if (nodes > kMaxNodes)
        fail(ErrorKind::ProgramLimit, "half_space_trees model is too large",
             std::to_string(static_cast<long long>(nodes)) + " nodes; the limit is " +
                 std::to_string(static_cast<long long>(kMaxNodes)),
             "Lower n_trees or height.");
    json limits = json::object();
    if (auto it = spec.find("limits"); it != spec.end()) {
        const std::string hint = "e.g. \"limits\": {\"amount\": [0, 5000], \"x1\": [-1, 1]}";
        if (!it->is_object())
            fail(ErrorKind::InvalidParameter, "option \"limits\" must be an object of feature: [low, high]", {}, hint);
        if (it->size() > kMaxLimits) fail(ErrorKind::ProgramLimit, "option \"limits\" lists too many features");
        for (auto f = it->begin(); f != it->end(); ++f) {
            const json& ab = *f;
            if (f.key().empty() || f.key().size() > kMaxDictionaryNameBytes || !is_valid_utf8(f.key()) ||
                f.key().find('\0') != std::string::npos)
                fail(ErrorKind::InvalidParameter, "option \"limits\" names a feature that is not valid", {}, hint);
            if (!ab.is_array() || ab.size() != 2 || !ab[0].is_number() || !ab[1].is_number())
                fail(ErrorKind::InvalidParameter,
                     "the limits of feature \"" + message_name(f.key()) + "\" must be [low, high]", {}, hint);
            const double a = ab[0].get<double>(), b = ab[1].get<double>();
            if (!std::isfinite(a) || !std::isfinite(b) || !(a < b) || !std::isfinite(b - a))
                fail(ErrorKind::InvalidParameter,
                     "the limits of feature \"" + message_name(f.key()) + "\" must be finite with low < high", {}, hint);
            limits[f.key()] = json::array({a, b});
        }
    }
    s.options["limits"] = std::move(limits);
    return std::make_unique<HalfSpaceTreesModel>(std::move(s));
}

}  // namespace

const std::vector<const ModelFamily*>& half_space_trees_families() {
    static const std::vector<const ModelFamily*> all = {&kHST};
    return all;
}

}  // namespace pg_learn::core
