// Imported XGBoost models (docs/imported.md): the gbtree booster of XGBoost's JSON model format,
// scored the way XGBoost's CPU predictor scores it, so that predictions equal Booster.predict:
// - inputs are float32 (a value converted as XGBoost's DMatrix converts it); NaN is missing and
//   takes the node's default direction;
// - a numerical split sends x < threshold (float32) left;
// - a categorical split (enable_categorical) sends the categories of its set right and every
//   other value left: a category is the input truncated to an integer, and a negative one or one
//   past the set's bit field (an unseen category) goes left, as XGBoost 1.7 sends it;
// - an input that is infinite as a float32 is refused, as XGBoost refuses it;
// - the margin is a float32 sum: the base margin (base_score through the objective's link), then
//   each tree's leaf in tree order, into the output group the tree belongs to;
// - the objective's transform follows, in float32 as XGBoost computes it: sigmoid, exp or
//   softmax, or none (raw margin).
// The trees up to the best iteration (the "best_iteration" attribute early stopping writes) are
// used when the model has one, else all trees.
#include "core/models/imported/xgboost.hpp"

#include "core/common/envelope.hpp"
#include "core/common/error.hpp"
#include "core/common/text.hpp"
#include "core/models/common/family_model.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace pg_learn::core {

using nlohmann::json;

namespace {

constexpr int kMaxImportJsonDepth = 16;
// Categories are whole numbers below 2^24 (XGBoost's limit: a float32 holds them exactly).
constexpr uint32_t kMaxCategory = 1u << 24;
constexpr uint32_t kMaxCategoryWords = kMaxCategory / 32;
// The category sets of all nodes together, in 32-bit words (64 MB): a set's bit field is as long
// as its largest category, so a few huge categories must not make a model of gigabytes.
constexpr size_t kMaxCategoryWordsTotal = size_t(1) << 24;

enum class Link : uint8_t { Identity, Sigmoid, Exp, Softmax };

struct Objective {
    const char* name;
    Task task;
    Link link;
};

// The objectives scored (the others are refused: their transform is not one of these).
const Objective kObjectives[] = {
    {"reg:squarederror", Task::Regression, Link::Identity},
    {"reg:linear", Task::Regression, Link::Identity},
    {"reg:logistic", Task::Regression, Link::Sigmoid},
    {"binary:logistic", Task::Binary, Link::Sigmoid},
    {"binary:logitraw", Task::Regression, Link::Identity},
    {"count:poisson", Task::Regression, Link::Exp},
    {"multi:softprob", Task::Multiclass, Link::Softmax},
    {"multi:softmax", Task::Multiclass, Link::Softmax},
    {"rank:pairwise", Task::Regression, Link::Identity},
    {"rank:ndcg", Task::Regression, Link::Identity},
    {"rank:map", Task::Regression, Link::Identity},
};

const Objective* objective_by_name(const std::string& name) {
    for (const Objective& o : kObjectives)
        if (name == o.name) return &o;
    return nullptr;
}

std::string objective_list() {
    std::string out;
    for (const Objective& o : kObjectives) out += (out.empty() ? "" : ", ") + std::string(o.name);
    return out;
}

[[noreturn]] void bad_json(const std::string& why) { fail(ErrorKind::InvalidParameter, "invalid ml_model: " + why); }
[[noreturn]] void bad_model(const std::string& why, std::string hint = {}) {
    fail(ErrorKind::InvalidParameter, "invalid XGBoost model: " + why, {}, std::move(hint));
}

std::string class_name(size_t i) { return std::to_string(i); }

std::string number_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

// One node of a tree, children after their parent (a leaf has left == -1).
struct Node {
    int32_t left = -1, right = -1;
    uint32_t feature = 0;
    float value = 0;  // the split threshold, or the leaf's value
    float gain = 0;   // the split's loss change (importance by gain)
    uint8_t default_left = 0;
    uint8_t categorical = 0;
    uint32_t cat_begin = 0, cat_words = 0;  // the category set's bit field in cat_bits_
    float cover = 0;  // issue 16: the node's sum of hessians (TreeSHAP's weights), when known
};

struct Tree {
    uint32_t group = 0;
    uint32_t first = 0;  // its nodes are nodes_[first, first + size)
    uint32_t size = 0;
};

std::unique_ptr<Model> xgboost_from_spec(const json& spec);

const ModelFamily kXGBoost = family_entry("xgboost", 80, Task::Regression, &xgboost_from_spec);

class XGBoostModel final : public FamilyModel {
public:
    explicit XGBoostModel(FamilySpec spec) : FamilyModel(kXGBoost, std::move(spec)) {
        const json& o = options();
        objective_ = objective_by_name(o["objective"].get<std::string>());
        num_class_ = static_cast<uint32_t>(o["num_class"].get<int64_t>());
        if (!objective_) fail(ErrorKind::Internal, "unknown objective after parsing");
        if (objective_->task == Task::Multiclass) {
            if (num_class_ < 2)
                fail(ErrorKind::InvalidParameter, "a multi:* objective needs \"num_class\" of at least 2");
            for (uint32_t c = 0; c < num_class_; c++) imported_classes().learn(Label::of_text(class_name(c)));
        } else if (num_class_ != 0) {
            fail(ErrorKind::InvalidParameter, "\"num_class\" is for the multi:* objectives only");
        }
        derive();  // a model of this spec without trees predicts its base score
    }

    std::unique_ptr<Model> clone() const override { return std::make_unique<XGBoostModel>(*this); }
    void assign(const Model& other) override {
        const auto* o = dynamic_cast<const XGBoostModel*>(&other);
        if (!o) fail(ErrorKind::Internal, "assigning a model of another family");
        *this = *o;
    }
    Task task() const override { return objective_->task; }
    bool can_learn() const override { return false; }
    bool can_merge() const override { return false; }

    void learn(const Observation&, const Label&) override { refuse_learning(); }
    void learn_dense(const double*, size_t, const Label&) override { refuse_learning(); }

    // float8[]: element i is feature i (whatever its name); NaN is a missing value.
    double predict_dense(const double* x, size_t n) const override {
        dense_input(x, n);
        return from_margins();
    }
    void predict_proba_dense(const double* x, size_t n, std::vector<double>& p) const override {
        classes();
        dense_input(x, n);
        proba_from_margins(p);
    }
    // A key left out is XGBoost's missing value (the node's default direction), as a NULL is, not
    // a missing feature: only unknown names, categories and type mismatches are counted.
    void check_features(const Observation& x, FeatureCheck& out, bool name_missing = false) const override {
        FamilyModel::check_features(x, out, name_missing);
        out.missing_features = 0;
        out.missing_feature.clear();
    }
    void check_features_dense(size_t n, FeatureCheck& out) const override {
        out.clear();
        out.checked = out.names_known = true;
        if (n > num_feature_) {
            out.unknown_features = static_cast<uint32_t>(n - num_feature_);
            out.unknown_feature = position_name(num_feature_);
        } else if (n < num_feature_) {
            out.missing_features = static_cast<uint32_t>(num_feature_ - n);
            out.missing_feature = position_name(n);
        }
    }

    // ---- issue 16: explanations (TreeSHAP, as XGBoost's predict(pred_contribs=True)) -------------
    void explain_dense(const double* x, size_t n, Explanation& out) const override {
        need_covers();
        if (n != num_feature_)
            fail(ErrorKind::InvalidParameter,
                 "the float8[] has " + std::to_string(n) + " elements for a model of " + std::to_string(num_feature_) + " features",
                 {}, "Give one element per feature of the XGBoost model, in its order (NaN for a missing value).");
        for (size_t i = 0; i < n; i++) xf_[i] = as_float(x[i], i);
        tree_shap(out);
    }
    void importance(FeatureImportance& out) const override {
        // XGBoost's "total_gain": the loss change of every split on the feature, in the trees used.
        out.kind = "total_gain";
        out.features = features().names();
        out.importance.assign(num_feature_, 0.0);
        for (uint64_t k = 0; k < used_; k++) {
            const Tree& t = trees_[k];
            for (uint32_t i = 0; i < t.size; i++) {
                const Node& n = nodes_[t.first + i];
                if (n.left >= 0) out.importance[n.feature] += static_cast<double>(n.gain);
            }
        }
    }

    // ---- import ---------------------------------------------------------------------------------
    void import(const json& learner, const json& booster_model, const ImportLimits& limits);

protected:
    void learn_terms(const std::vector<FeatureTerm>&, double, uint32_t) override { refuse_learning(); }
    void explain_terms(const std::vector<FeatureTerm>& x, Explanation& out) const override {
        need_covers();
        std::fill(xf_.begin(), xf_.end(), NAN);
        for (const FeatureTerm& t : x)
            if (t.index < num_feature_ && feature_types_.size() == num_feature_) xf_[t.index] = as_float(t.value, t.index);
        tree_shap(out);
    }
    double predict_terms(const std::vector<FeatureTerm>& x) const override {
        if (task() == Task::Multiclass) FamilyModel::predict_terms(x);  // refuses: no single number
        terms_input(x);
        return from_margins();
    }
    void proba_terms(const std::vector<FeatureTerm>& x, std::vector<double>& p) const override {
        terms_input(x);
        proba_from_margins(p);
    }
    void merge_state(const FamilyModel&, const std::vector<uint32_t>&, const std::vector<uint32_t>&,
                     const FamilyModel*) override {
        fail(ErrorKind::InvalidParameter, "imported xgboost models cannot be merged");
    }

    void write_state(detail::ByteWriter& w) const override {
        w.put<uint32_t>(num_feature_);
        w.put<uint32_t>(num_parallel_tree_);
        w.put<float>(base_score_);
        w.put<int64_t>(best_iteration_);
        w.put<uint32_t>(static_cast<uint32_t>(feature_types_.size()));
        w.bytes(feature_types_.data(), feature_types_.size());
        w.put<uint32_t>(static_cast<uint32_t>(trees_.size()));
        for (const Tree& t : trees_) {
            w.put<uint32_t>(t.group);
            w.put<uint32_t>(t.size);
        }
        w.put<uint64_t>(cat_bits_.size());
        for (const Node& n : nodes_) {
            w.put<int32_t>(n.left);
            w.put<int32_t>(n.right);
            w.put<uint32_t>(n.feature);
            w.put<float>(n.value);
            w.put<float>(n.gain);
            w.put<uint8_t>(n.default_left);
            w.put<uint8_t>(n.categorical);
            w.put<uint16_t>(0);
            w.put<uint32_t>(n.cat_begin);
            w.put<uint32_t>(n.cat_words);
        }
        w.bytes(cat_bits_.data(), cat_bits_.size() * sizeof(uint32_t));
        // Issue 16: the nodes' covers (for ml_explain's TreeSHAP), after the rest so that a model
        // imported before them still reads (it has no covers, and refuses explanations).
        if (has_cover_)
            for (const Node& n : nodes_) w.put<float>(n.cover);
    }
    void read_state(detail::ByteReader& r) override {
        num_feature_ = r.get<uint32_t>("xgboost state");
        num_parallel_tree_ = r.get<uint32_t>("xgboost state");
        base_score_ = r.get<float>("xgboost state");
        best_iteration_ = r.get<int64_t>("xgboost state");
        const auto nt = r.get<uint32_t>("xgboost state");
        if (nt > r.remaining()) r.corrupt("truncated in feature types");
        feature_types_.assign(nt, 0);
        r.bytes(feature_types_.data(), nt, "feature types");
        const auto ntrees = r.get<uint32_t>("xgboost state");
        if (ntrees > r.remaining() / 8) r.corrupt("truncated in trees");
        trees_.assign(ntrees, Tree{});
        uint64_t total = 0;
        for (Tree& t : trees_) {
            t.group = r.get<uint32_t>("trees");
            t.size = r.get<uint32_t>("trees");
            t.first = static_cast<uint32_t>(total);
            total += t.size;
            if (total > kMaxStoredNodes) r.corrupt("too many nodes");
        }
        const auto nbits = r.get<uint64_t>("xgboost state");
        if (total > r.remaining() / 32) r.corrupt("truncated in nodes");
        nodes_.assign(total, Node{});
        for (Node& n : nodes_) {
            n.left = r.get<int32_t>("nodes");
            n.right = r.get<int32_t>("nodes");
            n.feature = r.get<uint32_t>("nodes");
            n.value = r.get<float>("nodes");
            n.gain = r.get<float>("nodes");
            n.default_left = r.get<uint8_t>("nodes");
            n.categorical = r.get<uint8_t>("nodes");
            if (r.get<uint16_t>("nodes") != 0) r.corrupt("reserved node field is not zero");
            n.cat_begin = r.get<uint32_t>("nodes");
            n.cat_words = r.get<uint32_t>("nodes");
        }
        if (nbits > r.remaining() / 4) r.corrupt("truncated in category sets");
        cat_bits_.assign(nbits, 0);
        r.bytes(cat_bits_.data(), nbits * sizeof(uint32_t), "category sets");
        has_cover_ = r.remaining() > 0;
        if (has_cover_) {
            if (r.remaining() != total * sizeof(float)) r.corrupt("node covers of the wrong size");
            for (Node& n : nodes_) n.cover = r.get<float>("node covers");
        }
        derive();
    }
    json state_json() const override {
        json trees = json::array();
        for (const Tree& t : trees_) {
            json left = json::array(), right = json::array(), feature = json::array(), value = json::array(),
                 gain = json::array(), dleft = json::array(), cats = json::object(), cover = json::array();
            for (uint32_t i = 0; i < t.size; i++) {
                const Node& n = nodes_[t.first + i];
                left.push_back(n.left);
                right.push_back(n.right);
                feature.push_back(n.feature);
                value.push_back(static_cast<double>(n.value));
                gain.push_back(static_cast<double>(n.gain));
                dleft.push_back(n.default_left != 0);
                cover.push_back(static_cast<double>(n.cover));
                if (n.categorical) {
                    json set = json::array();
                    for (uint32_t c = 0; c < n.cat_words * 32; c++)
                        if (cat_bits_[n.cat_begin + c / 32] >> (c % 32) & 1u) set.push_back(c);
                    cats[std::to_string(i)] = {{"bits", n.cat_words * 32}, {"set", set}};
                }
            }
            trees.push_back({{"group", t.group}, {"left", left}, {"right", right}, {"feature", feature},
                             {"value", value}, {"gain", gain}, {"default_left", dleft}, {"categories", cats}});
            if (has_cover_) trees.back()["cover"] = cover;
        }
        json types = json::array();
        for (uint8_t t : feature_types_) types.push_back(t ? "c" : "q");
        return {{"num_feature", num_feature_},
                {"num_parallel_tree", num_parallel_tree_},
                {"base_score", static_cast<double>(base_score_)},
                {"best_iteration", best_iteration_},
                {"feature_types", types},
                {"trees", trees}};
    }
    void state_from_json(const json& j) override {
        if (!j.is_object()) bad_json("\"state\" must be an object");
        for (const char* k : {"num_feature", "num_parallel_tree", "base_score", "best_iteration", "feature_types", "trees"})
            if (!j.contains(k)) bad_json(std::string("\"state\" lacks \"") + k + "\"");
        if (j.size() != 6) bad_json("\"state\" has unknown keys");
        num_feature_ = json_u32(j["num_feature"], "num_feature");
        num_parallel_tree_ = json_u32(j["num_parallel_tree"], "num_parallel_tree");
        base_score_ = json_float(j["base_score"], "base_score");
        if (!j["best_iteration"].is_number_integer()) bad_json("\"best_iteration\" must be an integer");
        best_iteration_ = j["best_iteration"].get<int64_t>();
        const json& types = j["feature_types"];
        if (!types.is_array() || types.size() > kMaxDictionaryNames) bad_json("\"feature_types\" must be an array");
        feature_types_.clear();
        for (const json& t : types) {
            if (t != "q" && t != "c") bad_json("\"feature_types\" holds \"q\" or \"c\"");
            feature_types_.push_back(t == "c");
        }
        const json& trees = j["trees"];
        if (!trees.is_array()) bad_json("\"trees\" must be an array");
        trees_.clear();
        nodes_.clear();
        cat_bits_.clear();
        // Issue 16: every tree has "cover" (the nodes' covers) or none has.
        has_cover_ = !trees.empty() && trees[0].is_object() && trees[0].contains("cover");
        for (const json& t : trees) {
            const size_t keys = has_cover_ ? 9 : 8;
            if (!t.is_object() || t.size() != keys)
                bad_json(has_cover_ ? "a tree must be an object of 9 keys (every tree has \"cover\" or none has)"
                                    : "a tree must be an object of 8 keys");
            if (has_cover_ && !t.contains("cover")) bad_json("every tree has \"cover\" or none has");
            for (const char* k : {"group", "left", "right", "feature", "value", "gain", "default_left", "categories"})
                if (!t.contains(k)) bad_json(std::string("a tree lacks \"") + k + "\"");
            Tree tr;
            tr.group = json_u32(t["group"], "group");
            tr.first = static_cast<uint32_t>(nodes_.size());
            const json& left = t["left"];
            if (!left.is_array()) bad_json("\"left\" must be an array");
            const size_t n = left.size();
            if (nodes_.size() + n > kMaxStoredNodes) bad_json("too many nodes");
            for (const char* k : {"right", "feature", "value", "gain", "default_left"})
                if (!t[k].is_array() || t[k].size() != n) bad_json(std::string("\"") + k + "\" must be an array as long as \"left\"");
            if (has_cover_ && (!t["cover"].is_array() || t["cover"].size() != n))
                bad_json("\"cover\" must be an array as long as \"left\"");
            if (!t["categories"].is_object()) bad_json("\"categories\" must be an object");
            for (size_t i = 0; i < n; i++) {
                Node nd;
                nd.left = json_i32(t["left"][i], "left");
                nd.right = json_i32(t["right"][i], "right");
                nd.feature = json_u32(t["feature"][i], "feature");
                nd.value = json_float(t["value"][i], "value");
                nd.gain = json_float(t["gain"][i], "gain");
                if (!t["default_left"][i].is_boolean()) bad_json("\"default_left\" holds booleans");
                nd.default_left = t["default_left"][i].get<bool>();
                if (has_cover_) nd.cover = json_float(t["cover"][i], "cover");
                nodes_.push_back(nd);
            }
            for (auto it = t["categories"].begin(); it != t["categories"].end(); ++it) {
                char* end = nullptr;
                errno = 0;
                const unsigned long i = std::strtoul(it.key().c_str(), &end, 10);
                if (it.key().empty() || *end || errno || i >= n || it.key() != std::to_string(i))
                    bad_json("\"categories\" is keyed by node numbers");
                const json& c = it.value();
                if (!c.is_object() || c.size() != 2 || !c.contains("bits") || !c.contains("set") || !c["set"].is_array())
                    bad_json("a category set is {\"bits\": n, \"set\": [...]}");
                const uint32_t bits = json_u32(c["bits"], "bits");
                if (bits == 0 || bits % 32 || bits > kMaxCategory) bad_json("\"bits\" must be a positive multiple of 32");
                if (cat_bits_.size() + bits / 32 > kMaxCategoryWordsTotal) bad_json("category sets too large");
                Node& nd = nodes_[tr.first + i];
                nd.categorical = 1;
                nd.cat_begin = static_cast<uint32_t>(cat_bits_.size());
                nd.cat_words = bits / 32;
                cat_bits_.resize(cat_bits_.size() + nd.cat_words, 0);
                for (const json& v : c["set"]) {
                    const uint32_t cat = json_u32(v, "set");
                    if (cat >= bits) bad_json("a category past its set's bits");
                    cat_bits_[nd.cat_begin + cat / 32] |= 1u << (cat % 32);
                }
            }
            tr.size = static_cast<uint32_t>(n);
            trees_.push_back(tr);
        }
        derive();
    }
    std::string invalid_state() const override {
        if (features().size() != num_feature_) return "the model names " + std::to_string(features().size()) +
                                                      " features for " + std::to_string(num_feature_) + " in its trees";
        if (feature_types_.size() != num_feature_) return "one feature type per feature is needed";
        if (dense_dim() != num_feature_) return "the float8[] length differs from the feature count";
        if (task() == Task::Multiclass) {
            if (class_dictionary().size() != num_class_) return "a multiclass model has num_class classes";
            for (uint32_t c = 0; c < num_class_; c++)
                if (class_dictionary().names()[c] != class_name(c)) return "the classes of a multiclass model are 0 .. num_class - 1";
        }
        if (num_parallel_tree_ == 0 || num_parallel_tree_ > 100000) return "num_parallel_tree out of range";
        if (!std::isfinite(base_score_)) return "base_score is not finite";
        if (!std::isfinite(base_margin_)) return "base_score is outside the objective's range";
        if (trees_.size() % iteration_trees() != 0) return "the trees are not whole iterations";
        if (best_iteration_ < -1 || (best_iteration_ >= 0 && static_cast<uint64_t>(best_iteration_) >= iterations()))
            return "best_iteration out of range";
        size_t expect = 0;
        std::vector<uint8_t> parented;
        for (const Tree& t : trees_) {
            if (t.group >= groups()) return "a tree's output group is out of range";
            if (t.first != expect || t.size == 0) return "a tree without nodes";
            expect += t.size;
            parented.assign(t.size, 0);
            for (uint32_t i = 0; i < t.size; i++) {
                const Node& n = nodes_[t.first + i];
                if (has_cover_ && !(n.cover >= 0.0f && std::isfinite(n.cover))) return "a node's cover is negative or not finite";
                if (n.left == -1 || n.right == -1) {
                    if (n.left != -1 || n.right != -1) return "a node with one child";
                    if (!std::isfinite(n.value)) return "a leaf value is not finite";
                    if (n.categorical) return "a leaf with a category set";
                    continue;
                }
                // Children follow their parent: a traversal always ends.
                if (n.left <= static_cast<int32_t>(i) || n.right <= static_cast<int32_t>(i) ||
                    n.left >= static_cast<int32_t>(t.size) || n.right >= static_cast<int32_t>(t.size) || n.left == n.right)
                    return "a child index out of order";
                if (parented[n.left]++ || parented[n.right]++) return "a node with two parents";
                if (n.feature >= num_feature_) return "a split on feature " + std::to_string(n.feature) + " of " +
                                                      std::to_string(num_feature_);
                if (n.default_left > 1 || n.categorical > 1) return "a flag is not 0 or 1";
                if (n.categorical) {
                    if (n.cat_words == 0 || n.cat_words > kMaxCategoryWords || n.cat_begin > cat_bits_.size() ||
                        n.cat_words > cat_bits_.size() - n.cat_begin)
                        return "a category set out of range";
                } else if (std::isnan(n.value)) {
                    return "a split threshold is NaN";
                }
            }
            for (uint32_t i = 1; i < t.size; i++)
                if (!parented[i]) return "a node without a parent";
        }
        if (expect != nodes_.size()) return "nodes outside the trees";
        return {};
    }
    json info_extra() const override {
        json split_count = json::object(), gain = json::object(), total_gain = json::object();
        std::vector<uint64_t> count(num_feature_, 0);
        std::vector<double> sum(num_feature_, 0.0);
        uint64_t leaves = 0;
        for (const Node& n : nodes_) {
            if (n.left < 0) {
                leaves++;
                continue;
            }
            count[n.feature]++;
            sum[n.feature] += n.gain;
        }
        for (uint32_t f = 0; f < num_feature_; f++) {
            if (!count[f]) continue;
            const std::string& name = features().name(f);
            split_count[name] = count[f];
            gain[name] = sum[f] / static_cast<double>(count[f]);
            total_gain[name] = sum[f];
        }
        json types = json::array();
        for (uint8_t t : feature_types_) types.push_back(t ? "categorical" : "numeric");
        json out = {{"imported_from", "xgboost"},
                    {"objective", objective_->name},
                    {"base_score", static_cast<double>(base_score_)},
                    {"trees", trees_.size()},
                    {"trees_used", used_},
                    {"iterations", iterations()},
                    {"num_parallel_tree", num_parallel_tree_},
                    {"max_depth", max_depth_},
                    {"leaves", leaves},
                    {"feature_types", types},
                    {"importance", {{"split_count", split_count}, {"gain", gain}, {"total_gain", total_gain}}}};
        out["best_iteration"] = best_iteration_ >= 0 ? json(best_iteration_) : json(nullptr);
        if (task() == Task::Multiclass) out["num_class"] = num_class_;
        return out;
    }

private:
    static constexpr uint64_t kMaxStoredNodes = uint64_t(1) << 26;

    [[noreturn]] void refuse_learning() const {
        fail(ErrorKind::InvalidParameter, "an imported xgboost model cannot learn",
             "It was trained by XGBoost and is predict-only: it scores, and its predictions can be logged and monitored.",
             "Retrain it in XGBoost and import the new model with ml_import('xgboost', ...).");
    }
    static uint32_t json_u32(const json& v, const char* what) {
        if (!v.is_number_unsigned() || v.get<uint64_t>() > UINT32_MAX)
            bad_json(std::string("\"") + what + "\" must be a non-negative integer");
        return static_cast<uint32_t>(v.get<uint64_t>());
    }
    static int32_t json_i32(const json& v, const char* what) {
        if (!v.is_number_integer() || v.get<int64_t>() < -1 || v.get<int64_t>() > INT32_MAX)
            bad_json(std::string("\"") + what + "\" must be an integer");
        return static_cast<int32_t>(v.get<int64_t>());
    }
    static float json_float(const json& v, const char* what) {
        if (v.is_null()) return NAN;  // a categorical split's threshold
        if (!v.is_number()) bad_json(std::string("\"") + what + "\" must be a number");
        const double d = v.get<double>();
        const float f = static_cast<float>(d);
        if (std::isfinite(d) && static_cast<double>(f) != d) bad_json(std::string("\"") + what + "\" is not a float32 value");
        return f;
    }

    uint32_t groups() const { return task() == Task::Multiclass ? num_class_ : 1; }
    uint64_t iteration_trees() const { return static_cast<uint64_t>(groups()) * std::max<uint32_t>(num_parallel_tree_, 1); }
    uint64_t iterations() const { return trees_.size() / iteration_trees(); }

    // What follows from the state: the base margin, the trees used, the depth.
    void derive() {
        switch (objective_->link) {
            case Link::Sigmoid: base_margin_ = -std::log(1.0f / base_score_ - 1.0f); break;
            case Link::Exp: base_margin_ = std::log(base_score_); break;
            default: base_margin_ = base_score_;
        }
        // binary:logitraw's margin starts from the logit of base_score too.
        if (std::string(objective_->name) == "binary:logitraw") base_margin_ = -std::log(1.0f / base_score_ - 1.0f);
        used_ = trees_.size();
        if (best_iteration_ >= 0 && num_parallel_tree_ > 0)
            used_ = std::min<uint64_t>(trees_.size(), (static_cast<uint64_t>(best_iteration_) + 1) * iteration_trees());
        max_depth_ = 0;
        std::vector<uint32_t> depth;
        for (const Tree& t : trees_) {
            depth.assign(t.size, 0);
            for (uint32_t i = 0; i < t.size; i++) {
                const Node& n = nodes_[t.first + i];
                if (n.left > static_cast<int32_t>(i) && n.left < static_cast<int32_t>(t.size)) depth[n.left] = depth[i] + 1;
                if (n.right > static_cast<int32_t>(i) && n.right < static_cast<int32_t>(t.size)) depth[n.right] = depth[i] + 1;
                max_depth_ = std::max(max_depth_, depth[i]);
            }
        }
        // Issue 16: each node's mean value (its subtree's leaves weighted by cover, in float32 as
        // XGBoost's FillNodeMeanValues computes it), children first.
        node_mean_.assign(has_cover_ ? nodes_.size() : 0, 0.0f);
        if (has_cover_)
            for (const Tree& t : trees_)
                for (uint32_t i = t.size; i-- > 0;) {
                    const Node& n = nodes_[t.first + i];
                    float& m = node_mean_[t.first + i];
                    if (n.left < 0 || n.left >= static_cast<int32_t>(t.size) || n.right >= static_cast<int32_t>(t.size) ||
                        n.left <= static_cast<int32_t>(i) || n.right <= static_cast<int32_t>(i)) {
                        m = n.value;  // a leaf (or a node invalid_state refuses)
                        continue;
                    }
                    const Node& l = nodes_[t.first + n.left];
                    const Node& r = nodes_[t.first + n.right];
                    float v = node_mean_[t.first + n.left] * l.cover;
                    v += node_mean_[t.first + n.right] * r.cover;
                    v /= n.cover;
                    m = v;
                }
        margins_.assign(groups(), 0.0f);
        xf_.assign(std::min<size_t>(num_feature_, kMaxDictionaryNames), NAN);  // invalid_state refuses more
    }

    void dense_input(const double* x, size_t n) const {
        if (n != num_feature_)
            fail(ErrorKind::InvalidParameter,
                 "the float8[] has " + std::to_string(n) + " elements for a model of " + std::to_string(num_feature_) + " features",
                 {}, "Give one element per feature of the XGBoost model, in its order (NaN for a missing value).");
        for (size_t i = 0; i < n; i++) xf_[i] = as_float(x[i], i);
        compute_margins();
    }
    void terms_input(const std::vector<FeatureTerm>& x) const {
        std::fill(xf_.begin(), xf_.end(), NAN);
        for (const FeatureTerm& t : x)
            if (t.index < num_feature_ && feature_types_.size() == num_feature_) xf_[t.index] = as_float(t.value, t.index);
        compute_margins();
    }

    // An input as XGBoost reads it: a float32, NaN for missing; infinite is refused.
    float as_float(double v, size_t i) const {
        const float f = static_cast<float>(v);
        if (std::isinf(f))
            fail(ErrorKind::NumericRange, "feature \"" + message_name(features().name(i)) + "\" is too large for an XGBoost model",
                 number_text(v) + " is infinite as a float32, and XGBoost refuses infinite inputs.",
                 "Use NaN (or leave the feature out) for a missing value.");
        return f;
    }

    // The child of split node n that the input value f goes to (XGBoost's GetNextNode).
    static int32_t next_node(const Node& n, float f, const uint32_t* cat_bits) {
        if (std::isnan(f)) return n.default_left ? n.left : n.right;
        if (n.categorical) {
            bool left = true;  // a category outside the set's bit field is not in the set
            if (f >= 0.0f && f < static_cast<float>(n.cat_words * 32)) {
                const uint32_t c = static_cast<uint32_t>(static_cast<int32_t>(f));
                left = !(cat_bits[n.cat_begin + c / 32] >> (c % 32) & 1u);
            }
            return left ? n.left : n.right;
        }
        return f < n.value ? n.left : n.right;
    }

    void need_covers() const {
        if (!has_cover_)
            fail(ErrorKind::FeatureNotSupported, "this xgboost model has no node covers, which explanations need",
                 "It was imported from a file without \"sum_hessian\", or before explanations existed.",
                 "Import the model again from the file Booster.save_model(\"m.json\") writes.");
        if (max_depth_ > kMaxShapDepth)
            fail(ErrorKind::ProgramLimit, "the xgboost model's trees are too deep to explain",
                 "A tree is " + std::to_string(max_depth_) + " levels deep; explanations take trees of at most " +
                     std::to_string(kMaxShapDepth) + ".");
    }

    // Lundberg et al. 2018, Algorithm 2 (path-dependent TreeSHAP), in float32 and in the order of
    // operations XGBoost's RegTree::CalculateContributions uses, so that the contributions agree
    // with predict(pred_contribs=True): per tree into phi, then added to the totals.
    struct PathElement {
        int feature_index;
        float zero_fraction, one_fraction, pweight;
    };
    static void extend_path(PathElement* p, unsigned d, float zero_fraction, float one_fraction, int feature_index) {
        p[d].feature_index = feature_index;
        p[d].zero_fraction = zero_fraction;
        p[d].one_fraction = one_fraction;
        p[d].pweight = (d == 0 ? 1.0f : 0.0f);
        for (int i = static_cast<int>(d) - 1; i >= 0; i--) {
            p[i + 1].pweight += one_fraction * p[i].pweight * (i + 1) / static_cast<float>(d + 1);
            p[i].pweight = zero_fraction * p[i].pweight * (d - i) / static_cast<float>(d + 1);
        }
    }
    static void unwind_path(PathElement* p, unsigned d, unsigned path_index) {
        const float one_fraction = p[path_index].one_fraction;
        const float zero_fraction = p[path_index].zero_fraction;
        float next_one_portion = p[d].pweight;
        for (int i = static_cast<int>(d) - 1; i >= 0; --i) {
            if (one_fraction != 0) {
                const float tmp = p[i].pweight;
                p[i].pweight = next_one_portion * (d + 1) / static_cast<float>((i + 1) * one_fraction);
                next_one_portion = tmp - p[i].pweight * zero_fraction * (d - i) / static_cast<float>(d + 1);
            } else {
                p[i].pweight = (p[i].pweight * (d + 1)) / static_cast<float>(zero_fraction * (d - i));
            }
        }
        for (unsigned i = path_index; i < d; ++i) {
            p[i].feature_index = p[i + 1].feature_index;
            p[i].zero_fraction = p[i + 1].zero_fraction;
            p[i].one_fraction = p[i + 1].one_fraction;
        }
    }
    static float unwound_path_sum(const PathElement* p, unsigned d, unsigned path_index) {
        const float one_fraction = p[path_index].one_fraction;
        const float zero_fraction = p[path_index].zero_fraction;
        float next_one_portion = p[d].pweight;
        float total = 0;
        for (int i = static_cast<int>(d) - 1; i >= 0; --i) {
            if (one_fraction != 0) {
                const float tmp = next_one_portion * (d + 1) / static_cast<float>((i + 1) * one_fraction);
                total += tmp;
                next_one_portion = p[i].pweight - tmp * zero_fraction * ((d - i) / static_cast<float>(d + 1));
            } else if (zero_fraction != 0) {
                total += (p[i].pweight / zero_fraction) / ((d - i) / static_cast<float>(d + 1));
            }
        }
        return total;
    }
    void shap_node(const Node* nd, float* phi, int32_t node_index, unsigned unique_depth, PathElement* parent_path,
                   float parent_zero_fraction, float parent_one_fraction, int parent_feature_index) const {
        const Node& node = nd[node_index];
        PathElement* unique_path = parent_path + unique_depth + 1;
        std::copy(parent_path, parent_path + unique_depth + 1, unique_path);
        extend_path(unique_path, unique_depth, parent_zero_fraction, parent_one_fraction, parent_feature_index);
        if (node.left < 0) {
            for (unsigned i = 1; i <= unique_depth; ++i) {
                const float w = unwound_path_sum(unique_path, unique_depth, i);
                const PathElement& el = unique_path[i];
                phi[el.feature_index] += w * (el.one_fraction - el.zero_fraction) * node.value;
            }
            return;
        }
        const unsigned split_index = node.feature;
        const int32_t hot_index = next_node(node, xf_[split_index], cat_bits_.data());
        const int32_t cold_index = hot_index == node.left ? node.right : node.left;
        const float w = node.cover;
        const float hot_zero_fraction = nd[hot_index].cover / w;
        const float cold_zero_fraction = nd[cold_index].cover / w;
        float incoming_zero_fraction = 1;
        float incoming_one_fraction = 1;
        unsigned path_index = 0;
        for (; path_index <= unique_depth; ++path_index)
            if (static_cast<unsigned>(unique_path[path_index].feature_index) == split_index) break;
        if (path_index != unique_depth + 1) {
            incoming_zero_fraction = unique_path[path_index].zero_fraction;
            incoming_one_fraction = unique_path[path_index].one_fraction;
            unwind_path(unique_path, unique_depth, path_index);
            unique_depth -= 1;
        }
        shap_node(nd, phi, hot_index, unique_depth + 1, unique_path, hot_zero_fraction * incoming_zero_fraction,
                  incoming_one_fraction, static_cast<int>(split_index));
        shap_node(nd, phi, cold_index, unique_depth + 1, unique_path, cold_zero_fraction * incoming_zero_fraction, 0,
                  static_cast<int>(split_index));
    }
    void tree_shap(Explanation& out) const {
        out.clear();
        out.method = "tree_shap";
        switch (objective_->link) {
            case Link::Sigmoid: out.scale = "log_odds"; break;
            case Link::Exp: out.scale = "log"; break;
            case Link::Softmax: out.scale = "logit"; break;
            default: out.scale = std::string(objective_->name) == "binary:logitraw" ? "log_odds"
                                 : std::string(objective_->name).rfind("rank:", 0) == 0 ? "score" : "value";
        }
        const size_t nf = num_feature_, cols = nf + 1, g = groups();
        out.features = features().names();
        out.values.resize(nf);
        for (size_t i = 0; i < nf; i++) out.values[i] = static_cast<double>(xf_[i]);
        if (task() == Task::Multiclass) out.outputs = class_dictionary().names();
        contribs_.assign(g * cols, 0.0f);
        phi_.resize(cols);
        const size_t maxd = max_depth_ + 2;
        path_.resize(maxd * (maxd + 1) / 2 + maxd);
        for (uint64_t k = 0; k < used_; k++) {
            const Tree& t = trees_[k];
            std::fill(phi_.begin(), phi_.end(), 0.0f);
            phi_[nf] += node_mean_[t.first];
            shap_node(nodes_.data() + t.first, phi_.data(), 0, 0, path_.data(), 1, 1, -1);
            float* p = contribs_.data() + size_t(t.group) * cols;
            for (size_t c = 0; c < cols; c++) p[c] += phi_[c];
        }
        out.base.resize(g);
        out.contributions.resize(g * nf);
        for (size_t o = 0; o < g; o++) {
            float* p = contribs_.data() + o * cols;
            p[nf] += base_margin_;
            out.base[o] = static_cast<double>(p[nf]);
            for (size_t i = 0; i < nf; i++) out.contributions[o * nf + i] = static_cast<double>(p[i]);
        }
    }

    void compute_margins() const {
        const float* x = xf_.data();
        std::fill(margins_.begin(), margins_.end(), base_margin_);
        for (uint64_t k = 0; k < used_; k++) {
            const Tree& t = trees_[k];
            const Node* nd = nodes_.data() + t.first;
            int32_t i = 0;
            while (nd[i].left >= 0) {
                const Node& n = nd[i];
                const float f = x[n.feature];
                if (std::isnan(f)) {
                    i = n.default_left ? n.left : n.right;
                } else if (n.categorical) {
                    bool left = true;  // a category outside the set's bit field is not in the set
                    if (f >= 0.0f && f < static_cast<float>(n.cat_words * 32)) {
                        const uint32_t c = static_cast<uint32_t>(static_cast<int32_t>(f));
                        left = !(cat_bits_[n.cat_begin + c / 32] >> (c % 32) & 1u);
                    }
                    i = left ? n.left : n.right;
                } else {
                    i = f < n.value ? n.left : n.right;
                }
            }
            margins_[t.group] += nd[i].value;
        }
    }

    // The transforms in float32, as XGBoost computes them (its sigmoid clamps the exponent).
    double from_margins() const {
        const float m = margins_[0];
        switch (objective_->link) {
            case Link::Sigmoid: return 1.0f / (std::exp(std::min(-m, 88.7f)) + 1.0f);
            case Link::Exp: return std::exp(m);
            default: return m;
        }
    }
    void proba_from_margins(std::vector<double>& p) const {
        if (task() == Task::Binary) {
            const double p1 = from_margins();
            p.assign({1.0 - p1, p1});
            return;
        }
        // XGBoost's softmax: float32 exponentials of the margins less their maximum, summed in
        // double, each divided by the float32 of the sum.
        p.resize(num_class_);
        float mx = margins_[0];
        for (uint32_t c = 1; c < num_class_; c++) mx = std::max(mx, margins_[c]);
        double sum = 0;
        for (uint32_t c = 0; c < num_class_; c++) {
            const float e = std::exp(margins_[c] - mx);
            p[c] = e;
            sum += e;
        }
        const float fsum = static_cast<float>(sum);
        for (double& v : p) v = static_cast<float>(static_cast<float>(v) / fsum);
    }

    const Objective* objective_ = nullptr;
    uint32_t num_class_ = 0;
    uint32_t num_feature_ = 0;
    uint32_t num_parallel_tree_ = 1;
    float base_score_ = 0.5f;
    int64_t best_iteration_ = -1;
    std::vector<uint8_t> feature_types_;  // 1: categorical
    std::vector<Tree> trees_;
    std::vector<Node> nodes_;
    std::vector<uint32_t> cat_bits_;
    bool has_cover_ = false;  // issue 16: every node's cover is known (explanations)
    // Derived.
    float base_margin_ = 0;
    uint64_t used_ = 0;
    uint32_t max_depth_ = 0;
    mutable std::vector<float> margins_;
    mutable std::vector<float> xf_;
    // Issue 16: TreeSHAP's node means, and its scratch.
    static constexpr uint32_t kMaxShapDepth = 256;
    std::vector<float> node_mean_;
    mutable std::vector<float> contribs_, phi_;
    mutable std::vector<PathElement> path_;
};

std::unique_ptr<Model> xgboost_from_spec(const json& spec) {
    FamilySpec s = parse_family_spec(spec, {"objective", "num_class"});
    std::initializer_list<const char*> names = {
        "reg:squarederror", "reg:linear", "reg:logistic", "binary:logistic", "binary:logitraw", "count:poisson",
        "multi:softprob", "multi:softmax", "rank:pairwise", "rank:ndcg", "rank:map"};
    s.options["objective"] = choice_option(spec, "objective", "reg:squarederror", names);
    s.options["num_class"] = integer_option(spec, "num_class", 0, 0, static_cast<int64_t>(kMaxClasses));
    return std::make_unique<XGBoostModel>(std::move(s));
}

// ---- reading XGBoost's JSON ------------------------------------------------------------------

// XGBoost writes NaN (a categorical split's threshold) and Infinity as bare tokens, which JSON
// lacks: they become null, "Infinity" and "-Infinity" before parsing.
std::string quote_special_numbers(const char* text, size_t len) {
    std::string out;
    out.reserve(len + len / 16);
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        const char c = text[i];
        if (in_string) {
            out += c;
            if (c == '\\' && i + 1 < len) out += text[++i];
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
            out += c;
        } else if (c == 'N' && len - i >= 3 && std::memcmp(text + i, "NaN", 3) == 0) {
            out += "null";
            i += 2;
        } else if (c == 'I' && len - i >= 8 && std::memcmp(text + i, "Infinity", 8) == 0) {
            out += "\"Infinity\"";
            i += 7;
        } else if (c == '-' && len - i >= 9 && std::memcmp(text + i, "-Infinity", 9) == 0) {
            out += "\"-Infinity\"";
            i += 8;
        } else {
            out += c;
        }
    }
    return out;
}

const json& member(const json& j, const char* key, const char* where) {
    if (!j.is_object() || !j.contains(key)) bad_model(std::string("no \"") + key + "\" in " + where);
    return j[key];
}

// XGBoost writes parameters as strings ("5E-1", "[5E-1]" in newer versions) and arrays as numbers.
double number_of(const json& v, const char* what) {
    if (v.is_number()) return v.get<double>();
    if (v.is_array() && v.size() == 1) return number_of(v[0], what);
    if (v.is_string()) {
        std::string s = v.get<std::string>();
        if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
        if (s == "Infinity") return INFINITY;
        if (s == "-Infinity") return -INFINITY;
        char* end = nullptr;
        errno = 0;
        const double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && *end == '\0' && errno == 0) return d;
    }
    if (v.is_null()) return NAN;
    bad_model(std::string("\"") + what + "\" is not a number");
}

int64_t integer_of(const json& v, const char* what, int64_t lo, int64_t hi) {
    const double d = number_of(v, what);
    if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || d != std::floor(d))
        bad_model(std::string("\"") + what + "\" out of range");
    return static_cast<int64_t>(d);
}

const json& array_of(const json& tree, const char* key, size_t n) {
    const json& a = member(tree, key, "a tree");
    if (!a.is_array() || a.size() != n)
        bad_model(std::string("a tree's \"") + key + "\" must be an array of one element per node");
    return a;
}

}  // namespace

void XGBoostModel::import(const json& learner, const json& booster_model, const ImportLimits& limits) {
    // Features: their names (f0, f1, ... when the model has none) and types.
    num_feature_ = static_cast<uint32_t>(
        integer_of(member(member(learner, "learner_model_param", "the learner"), "num_feature", "learner_model_param"),
                   "num_feature", 0, static_cast<int64_t>(kMaxDictionaryNames)));
    std::vector<std::string> names;
    if (learner.contains("feature_names")) {
        const json& fn = learner["feature_names"];
        if (!fn.is_array()) bad_model("\"feature_names\" must be an array");
        for (const json& n : fn) {
            if (!n.is_string()) bad_model("\"feature_names\" must hold strings");
            names.push_back(n.get<std::string>());
        }
    }
    if (!names.empty() && names.size() != num_feature_)
        bad_model("the model names " + std::to_string(names.size()) + " features but has " + std::to_string(num_feature_));
    if (names.empty())
        for (uint32_t i = 0; i < num_feature_; i++) names.push_back("f" + std::to_string(i));
    feature_types_.assign(num_feature_, 0);
    if (learner.contains("feature_types") && !learner["feature_types"].empty()) {
        const json& ft = learner["feature_types"];
        if (!ft.is_array() || ft.size() != num_feature_) bad_model("\"feature_types\" must hold one type per feature");
        for (uint32_t i = 0; i < num_feature_; i++) {
            if (!ft[i].is_string()) bad_model("\"feature_types\" must hold strings");
            const std::string t = ft[i].get<std::string>();
            if (t == "c") feature_types_[i] = 1;
            else if (t != "q" && t != "float" && t != "int" && t != "i")
                bad_model("feature type \"" + message_name(t) + "\" is not supported", "Numerical (q, float, int, i) and categorical (c) features are.");
        }
    }
    FeatureDictionary& dict = imported_features();
    for (uint32_t i = 0; i < num_feature_; i++) {
        if (dict.find(names[i]) != kUnknownFeature) bad_model("the feature name \"" + message_name(names[i]) + "\" repeats");
        dict.add(names[i], FeatureType::Numeric);
    }
    set_dense_dim(num_feature_);

    const json& lmp = learner["learner_model_param"];
    base_score_ = static_cast<float>(number_of(member(lmp, "base_score", "learner_model_param"), "base_score"));
    if (lmp.contains("num_target") && integer_of(lmp["num_target"], "num_target", 0, INT32_MAX) > 1)
        bad_model("multi-output models (num_target > 1) are not supported");
    const bool sigmoid = objective_->link == Link::Sigmoid || std::string(objective_->name) == "binary:logitraw";
    if (sigmoid && !(base_score_ > 0.0f && base_score_ < 1.0f))
        bad_model("base_score must lie in (0, 1) for " + std::string(objective_->name));
    if (objective_->link == Link::Exp && !(base_score_ > 0.0f)) bad_model("base_score must be positive for count:poisson");

    // The best iteration (early stopping), when recorded.
    best_iteration_ = -1;
    if (learner.contains("attributes") && learner["attributes"].is_object() && learner["attributes"].contains("best_iteration"))
        best_iteration_ = integer_of(learner["attributes"]["best_iteration"], "best_iteration", 0, INT32_MAX);

    num_parallel_tree_ = 1;
    const json& gmp = member(booster_model, "gbtree_model_param", "the gbtree model");
    if (gmp.contains("num_parallel_tree"))
        num_parallel_tree_ = static_cast<uint32_t>(integer_of(gmp["num_parallel_tree"], "num_parallel_tree", 1, 100000));
    if (gmp.contains("size_leaf_vector") && integer_of(gmp["size_leaf_vector"], "size_leaf_vector", 0, INT32_MAX) > 1)
        bad_model("vector-leaf trees are not supported");
    const json& trees = member(booster_model, "trees", "the gbtree model");
    const json& info = member(booster_model, "tree_info", "the gbtree model");
    if (!trees.is_array() || !info.is_array() || trees.size() != info.size())
        bad_model("\"trees\" and \"tree_info\" must be arrays of one element per tree");
    if (trees.size() > limits.max_trees)
        fail(ErrorKind::ProgramLimit, "the XGBoost model has too many trees",
             std::to_string(trees.size()) + " trees; at most " + std::to_string(limits.max_trees) + " are imported.");
    if (gmp.contains("num_trees") && integer_of(gmp["num_trees"], "num_trees", 0, INT32_MAX) != static_cast<int64_t>(trees.size()))
        bad_model("\"num_trees\" differs from the number of trees");

    trees_.clear();
    nodes_.clear();
    cat_bits_.clear();
    size_t total = 0;
    std::vector<int32_t> order, new_id;
    for (size_t k = 0; k < trees.size(); k++) {
        const json& t = trees[k];
        if (!t.is_object()) bad_model("a tree must be an object");
        const json& tp = member(t, "tree_param", "a tree");
        if (tp.contains("size_leaf_vector") && integer_of(tp["size_leaf_vector"], "size_leaf_vector", 0, INT32_MAX) > 1)
            bad_model("vector-leaf trees are not supported");
        const int64_t n = integer_of(member(tp, "num_nodes", "tree_param"), "num_nodes", 1, INT32_MAX);
        total += static_cast<size_t>(n);
        if (total > limits.max_nodes)
            fail(ErrorKind::ProgramLimit, "the XGBoost model has too many nodes",
                 "At most " + std::to_string(limits.max_nodes) + " nodes (all trees together) are imported.");
        const size_t nn = static_cast<size_t>(n);
        const json& left = array_of(t, "left_children", nn);
        const json& right = array_of(t, "right_children", nn);
        const json& feat = array_of(t, "split_indices", nn);
        const json& cond = array_of(t, "split_conditions", nn);
        const json& dleft = array_of(t, "default_left", nn);
        const json* stype = t.contains("split_type") ? &array_of(t, "split_type", nn) : nullptr;
        const json* gain = t.contains("loss_changes") ? &array_of(t, "loss_changes", nn) : nullptr;
        // Issue 16: the nodes' sums of hessians, TreeSHAP's covers (every tree has them, or the
        // model has no explanations).
        const json* hess = t.contains("sum_hessian") ? &array_of(t, "sum_hessian", nn) : nullptr;
        if (k == 0) has_cover_ = hess != nullptr;
        else if (!hess) has_cover_ = false;
        // Categories: node categories_nodes[i] holds categories[segments[i] .. + sizes[i]).
        std::vector<int64_t> cat_seg(nn, -1), cat_size(nn, 0);
        const json* cats = nullptr;
        if (t.contains("categories_nodes")) {
            const json& cn = member(t, "categories_nodes", "a tree");
            const json& cs = member(t, "categories_segments", "a tree");
            const json& cz = member(t, "categories_sizes", "a tree");
            cats = &member(t, "categories", "a tree");
            if (!cn.is_array() || !cs.is_array() || !cz.is_array() || !cats->is_array() || cs.size() != cn.size() ||
                cz.size() != cn.size())
                bad_model("a tree's category arrays do not match");
            for (size_t i = 0; i < cn.size(); i++) {
                const int64_t node = integer_of(cn[i], "categories_nodes", 0, n - 1);
                const int64_t seg = integer_of(cs[i], "categories_segments", 0, static_cast<int64_t>(cats->size()));
                const int64_t size = integer_of(cz[i], "categories_sizes", 0, static_cast<int64_t>(cats->size()) - seg);
                cat_seg[node] = seg;
                cat_size[node] = size;
            }
        }
        // Nodes in depth-first order from the root (children after their parent): the
        // reachable nodes only (XGBoost keeps deleted nodes in place).
        order.clear();
        new_id.assign(nn, -1);
        std::vector<int32_t> stack = {0};
        while (!stack.empty()) {
            const int32_t i = stack.back();
            stack.pop_back();
            if (new_id[i] != -1) bad_model("tree " + std::to_string(k) + " is not a tree (a node is reached twice)");
            new_id[i] = static_cast<int32_t>(order.size());
            order.push_back(i);
            const int64_t l = integer_of(left[i], "left_children", -1, n - 1);
            const int64_t r = integer_of(right[i], "right_children", -1, n - 1);
            if ((l == -1) != (r == -1)) bad_model("tree " + std::to_string(k) + " has a node with one child");
            if (l == -1) continue;
            if (l == 0 || r == 0) bad_model("tree " + std::to_string(k) + " is not a tree (a child is the root)");
            stack.push_back(static_cast<int32_t>(r));
            stack.push_back(static_cast<int32_t>(l));
        }
        Tree tr;
        tr.group = static_cast<uint32_t>(integer_of(info[k], "tree_info", 0, static_cast<int64_t>(groups()) - 1));
        tr.first = static_cast<uint32_t>(nodes_.size());
        tr.size = static_cast<uint32_t>(order.size());
        for (const int32_t i : order) {
            Node nd;
            if (hess) nd.cover = static_cast<float>(number_of((*hess)[i], "sum_hessian"));
            const int64_t l = integer_of(left[i], "left_children", -1, n - 1);
            if (l == -1) {
                nd.value = static_cast<float>(number_of(cond[i], "split_conditions"));
                if (!std::isfinite(nd.value)) bad_model("tree " + std::to_string(k) + " has a leaf value that is not finite");
                nodes_.push_back(nd);
                continue;
            }
            nd.left = new_id[l];
            nd.right = new_id[integer_of(right[i], "right_children", -1, n - 1)];
            const int64_t f = integer_of(feat[i], "split_indices", 0, INT32_MAX);
            if (f >= static_cast<int64_t>(num_feature_))
                bad_model("tree " + std::to_string(k) + " splits on feature " + std::to_string(f) + " but the model has " +
                              std::to_string(num_feature_) + " features",
                          "num_feature in learner_model_param must count every feature the trees use.");
            nd.feature = static_cast<uint32_t>(f);
            nd.default_left = integer_of(dleft[i], "default_left", 0, 1) != 0;
            if (gain) nd.gain = static_cast<float>(number_of((*gain)[i], "loss_changes"));
            if (!std::isfinite(nd.gain)) nd.gain = 0;
            const int64_t st = stype ? integer_of((*stype)[i], "split_type", 0, 1) : 0;
            if (st == 1) {
                if (cat_seg[i] < 0) bad_model("tree " + std::to_string(k) + " has a categorical split without categories");
                nd.categorical = 1;
                uint32_t max_cat = 0;
                std::vector<uint32_t> set;
                for (int64_t c = 0; c < cat_size[i]; c++) {
                    const auto v = static_cast<uint32_t>(
                        integer_of((*cats)[cat_seg[i] + c], "categories", 0, static_cast<int64_t>(kMaxCategory) - 1));
                    set.push_back(v);
                    max_cat = std::max(max_cat, v);
                }
                // XGBoost's bit field holds max category + 1 bits, in whole 32-bit words.
                nd.cat_words = set.empty() ? 1 : max_cat / 32 + 1;
                if (cat_bits_.size() + nd.cat_words > kMaxCategoryWordsTotal)
                    fail(ErrorKind::ProgramLimit, "the XGBoost model's category sets are too large",
                         "At most " + std::to_string(kMaxCategoryWordsTotal * 32) + " bits of category sets (all splits together) are imported.");
                nd.cat_begin = static_cast<uint32_t>(cat_bits_.size());
                cat_bits_.resize(cat_bits_.size() + nd.cat_words, 0);
                for (uint32_t c : set) cat_bits_[nd.cat_begin + c / 32] |= 1u << (c % 32);
            } else {
                nd.value = static_cast<float>(number_of(cond[i], "split_conditions"));
                if (std::isnan(nd.value)) bad_model("tree " + std::to_string(k) + " has a split threshold that is NaN");
            }
            nodes_.push_back(nd);
        }
        trees_.push_back(tr);
    }
    if (trees_.empty()) has_cover_ = false;
    if (trees_.size() % iteration_trees() != 0)
        bad_model(std::to_string(trees_.size()) + " trees are not whole iterations of " + std::to_string(iteration_trees()) + " trees");
    if (best_iteration_ >= 0 && static_cast<uint64_t>(best_iteration_) >= iterations()) best_iteration_ = -1;
    derive();
    if (std::string why = invalid_state(); !why.empty()) bad_model(why);
}

std::unique_ptr<Model> import_xgboost(const char* text, size_t len, const ImportLimits& limits) {
    if (len > limits.max_text_bytes)
        fail(ErrorKind::ProgramLimit, "the XGBoost model text is too large",
             std::to_string(len) + " bytes; at most " + std::to_string(limits.max_text_bytes) + " are imported.");
    if (len > 0 && (static_cast<unsigned char>(text[0]) == '{' && len > 1 && text[1] == 'L'))
        bad_model("this looks like XGBoost's UBJSON format", "Save the model as JSON: Booster.save_model(\"m.json\").");
    check_json_depth(text, len, kMaxImportJsonDepth, "XGBoost model");
    const std::string clean = quote_special_numbers(text, len);
    const json j = json::parse(clean, nullptr, false);
    if (j.is_discarded())
        fail(ErrorKind::InvalidText, "the XGBoost model is not valid JSON",
             "The text is truncated or corrupt.", "Give the whole file Booster.save_model(\"m.json\") wrote.");
    if (!j.is_object() || !j.contains("learner"))
        bad_model("this is not XGBoost's JSON model format (no \"learner\")",
                  "ml_import('xgboost', ...) takes the file Booster.save_model(\"m.json\") writes (not a dump, nor a config).");
    const json& learner = j["learner"];
    const json& obj = member(learner, "objective", "the learner");
    const json& oname = member(obj, "name", "the objective");
    if (!oname.is_string()) bad_model("the objective's name is not a string");
    const std::string objective = oname.get<std::string>();
    if (!objective_by_name(objective))
        fail(ErrorKind::InvalidParameter, "the XGBoost objective \"" + message_name(objective) + "\" is not supported",
             {}, "Supported objectives: " + objective_list() + ".");
    const json& gb = member(learner, "gradient_booster", "the learner");
    const json& bname = member(gb, "name", "the gradient booster");
    if (!bname.is_string()) bad_model("the booster's name is not a string");
    if (bname.get<std::string>() != "gbtree")
        fail(ErrorKind::InvalidParameter, "the XGBoost booster \"" + message_name(bname.get<std::string>()) + "\" is not supported",
             "Only gbtree models are imported (dart weighs its trees at prediction, gblinear has none).",
             "Train with booster=\"gbtree\".");
    int64_t num_class = integer_of(member(member(learner, "learner_model_param", "the learner"), "num_class", "learner_model_param"),
                                   "num_class", 0, static_cast<int64_t>(kMaxClasses));
    const bool multi = objective_by_name(objective)->task == Task::Multiclass;
    if (multi && num_class < 2) bad_model("a multi:* objective needs num_class of at least 2");
    if (!multi && num_class > 1) bad_model("num_class is " + std::to_string(num_class) + " for " + objective);
    if (!multi) num_class = 0;
    const json spec = {{"model", "xgboost"}, {"objective", objective}, {"num_class", num_class}};
    std::unique_ptr<Model> m = xgboost_from_spec(spec);
    auto* xm = static_cast<XGBoostModel*>(m.get());
    xm->import(learner, member(gb, "model", "the gradient booster"), limits);
    return m;
}

std::unique_ptr<Model> import_model(std::string_view format, const char* text, size_t len) {
    if (format == "xgboost") return import_xgboost(text, len);
    if (format == "lightgbm")
        fail(ErrorKind::InvalidParameter, "importing LightGBM models is not supported yet",
             {}, "Formats ml_import reads: xgboost.");
    fail(ErrorKind::InvalidParameter, "unknown model format \"" + message_name(format) + "\"", {},
         "Formats ml_import reads: xgboost (XGBoost's JSON model, Booster.save_model(\"m.json\")).");
}

const std::vector<const ModelFamily*>& imported_families() {
    static const std::vector<const ModelFamily*> all = {&kXGBoost};
    return all;
}

}  // namespace pg_learn::core
