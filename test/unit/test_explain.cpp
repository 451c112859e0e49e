// Issue 16, explanations: TreeSHAP against the Shapley values of its value function computed by
// brute force, the exact linear explanations (in raw units), the trees', the ensembles' and the
// imported xgboost kind's (by hand), and the kinds that refuse.
#include "test_util.hpp"

#include "core/models/common/tree_shap.hpp"
#include "core/models/imported/xgboost.hpp"
#include "core/models/model.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

namespace pg_learn::test {
namespace {

using core::Explanation;
using core::Label;
using core::Model;
using core::Observation;
using core::ShapTree;

std::unique_ptr<Model> make(const std::string& spec) { return core::model_from_text(spec.data(), spec.size()); }

double sum_of(const Explanation& e, size_t o) {
    const size_t n = e.features.size();
    double s = e.base[o];
    for (size_t j = 0; j < n; j++) s += e.contributions[o * n + j];
    return s;
}

double contribution(const Explanation& e, const std::string& f, size_t o = 0) {
    for (size_t j = 0; j < e.features.size(); j++)
        if (e.features[j] == f) return e.contributions[o * e.features.size() + j];
    ADD_FAILURE() << "no feature " << f;
    return NAN;
}

// ---- TreeSHAP against brute force ----------------------------------------------------------------

// The path-dependent value function: E[f(x) | x_S], following x at a split on a feature of S and
// averaging both children by their weight otherwise (Lundberg et al. 2018, Algorithm 1).
double subtree_weight(const ShapTree& t, int32_t i) {
    return t.left[i] < 0 ? t.cover[i] : subtree_weight(t, t.left[i]) + subtree_weight(t, t.right[i]);
}
double value_of(const ShapTree& t, int32_t i, unsigned set, size_t o) {
    if (t.left[i] < 0) return t.value[size_t(i) * t.outputs + o];
    if (set >> t.feature[i] & 1u) return value_of(t, t.hot[i], set, o);
    const double wl = subtree_weight(t, t.left[i]), wr = subtree_weight(t, t.right[i]);
    const double l = value_of(t, t.left[i], set, o), r = value_of(t, t.right[i], set, o);
    return wl + wr > 0 ? (wl * l + wr * r) / (wl + wr) : (l + r) / 2;
}

// A random tree of the given depth over m features (a feature may repeat along a path).
void random_tree(ShapTree& t, std::mt19937_64& rng, int depth, int32_t i, size_t m) {
    std::uniform_real_distribution<double> u(0, 1);
    if (depth == 0 || (i != 0 && u(rng) < 0.2)) {
        t.cover[i] = std::floor(u(rng) * 20);  // some leaves hold no weight
        for (size_t o = 0; o < t.outputs; o++) t.value[size_t(i) * t.outputs + o] = u(rng) * 4 - 2;
        return;
    }
    const int32_t l = t.add_node(), r = t.add_node();
    t.left[i] = l;
    t.right[i] = r;
    t.feature[i] = static_cast<uint32_t>(rng() % m);
    t.hot[i] = rng() % 2 ? l : r;
    random_tree(t, rng, depth - 1, l, m);
    random_tree(t, rng, depth - 1, r, m);
}

TEST(Explanations, TreeShapIsTheShapleyValueOfThePathDependentValueFunction) {
    std::mt19937_64 rng(16);
    const size_t m = 4;
    for (int trial = 0; trial < 200; trial++) {
        ShapTree t;
        t.clear(2);
        t.add_node();
        random_tree(t, rng, 1 + trial % 5, 0, m);
        std::vector<double> phi(m * 2, 0.0), base(2, 0.0);
        core::tree_shap(t, phi.data(), base.data());
        for (size_t o = 0; o < 2; o++) {
            EXPECT_NEAR(base[o], value_of(t, 0, 0u, o), 1e-12);
            double fact[m + 1] = {1, 1, 2, 6, 24};
            double total = base[o];
            for (size_t i = 0; i < m; i++) {
                double s = 0;
                for (unsigned set = 0; set < (1u << m); set++) {
                    if (set >> i & 1u) continue;
                    const size_t k = static_cast<size_t>(__builtin_popcount(set));
                    s += fact[k] * fact[m - k - 1] / fact[m] * (value_of(t, 0, set | (1u << i), o) - value_of(t, 0, set, o));
                }
                EXPECT_NEAR(phi[i * 2 + o], s, 1e-10) << "trial " << trial << " feature " << i;
                total += phi[i * 2 + o];
            }
            // Efficiency: base + contributions = the value at x (every feature known).
            EXPECT_NEAR(total, value_of(t, 0, (1u << m) - 1, o), 1e-10);
        }
    }
}

// ---- linear models: exact, in raw units ------------------------------------------------------------

TEST(Explanations, LinearRegressionIsExactInRawUnits) {
    auto m = make(R"({"model": "linear_regression", "scale": true, "optimizer": {"sgd": {"lr": 0.05}}})");
    std::mt19937_64 rng(1);
    std::normal_distribution<double> n(0, 1);
    double sum_a = 0;
    for (int i = 0; i < 500; i++) {
        const double a = 3 + 2 * n(rng), b = 100 + 50 * n(rng);
        sum_a += a;
        Observation o;
        o.add_numeric("a", a);
        o.add_numeric("b", b);
        o.add_category("colour", i % 2 ? "red" : "blue");
        m->learn(o, Label::of_number(1 + 2 * a - 0.01 * b + (i % 2) * 0.5));
    }
    Observation x;
    x.add_numeric("a", 4);
    x.add_numeric("b", 80);
    x.add_category("colour", "red");
    x.add_numeric("never_seen", 7);
    Explanation e;
    m->explain(x, e);
    EXPECT_EQ(e.method, "exact_linear");
    EXPECT_EQ(e.scale, "value");
    ASSERT_EQ(e.features.size(), 4u);
    EXPECT_EQ(e.features[2], "colour=red");
    EXPECT_DOUBLE_EQ(sum_of(e, 0), m->predict(x));  // the same sum, in the same order
    EXPECT_EQ(contribution(e, "never_seen"), 0.0);
    // Raw units: the raw weight (ml_info) times the distance from the training mean.
    const nlohmann::json info = m->info();
    const double raw_a = info["raw_weights"]["a"].get<double>();
    EXPECT_NEAR(contribution(e, "a"), raw_a * (4 - sum_a / 500), 1e-9);
    EXPECT_NEAR(raw_a, 2.0, 0.05);
    // The raw intercept and weights predict in raw units.
    const double raw = info["raw_intercept"].get<double>() + 4 * raw_a + 80 * info["raw_weights"]["b"].get<double>() +
                       info["raw_weights"]["colour=red"].get<double>();
    EXPECT_NEAR(raw, m->predict(x), 1e-9);
    // float8[] likewise.
    auto d = make(R"({"model": "linear_regression", "scale": true})");
    for (int i = 0; i < 200; i++) {
        const double v[] = {double(i % 7), double(i % 5) * 10};
        d->learn_dense(v, 2, Label::of_number(v[0] - v[1] / 10));
    }
    const double v[] = {3, 20};
    d->explain_dense(v, 2, e);
    ASSERT_EQ(e.features.size(), 2u);
    EXPECT_EQ(e.features[0], "x1");
    EXPECT_DOUBLE_EQ(sum_of(e, 0), d->predict_dense(v, 2));
    const double bad[] = {1, 2, 3};
    expect_error(ErrorKind::InvalidParameter, [&] { d->explain_dense(bad, 3, e); });
}

TEST(Explanations, LogisticAndSoftmaxExplainTheirMargins) {
    auto lg = make(R"({"model": "logistic_regression", "scale": true})");
    auto sm = make(R"({"model": "softmax_regression", "scale": true})");
    for (int i = 0; i < 300; i++) {
        Observation o;
        o.add_numeric("a", i % 11);
        o.add_numeric("b", (i * 7) % 13);
        lg->learn(o, Label::of_number(i % 11 > 5 ? 1 : 0));
        sm->learn(o, Label::of_text(i % 11 < 4 ? "low" : i % 11 < 8 ? "mid" : "high"));
    }
    Observation x;
    x.add_numeric("a", 7);
    x.add_numeric("b", 2);
    Explanation e;
    lg->explain(x, e);
    EXPECT_EQ(e.scale, "log_odds");
    EXPECT_NEAR(1 / (1 + std::exp(-sum_of(e, 0))), lg->predict(x), 1e-12);
    sm->explain(x, e);
    EXPECT_EQ(e.scale, "logit");
    ASSERT_EQ(e.outputs.size(), 3u);
    std::vector<double> p;
    sm->predict_proba(x, p);
    double z = 0;
    for (size_t c = 0; c < 3; c++) z += std::exp(sum_of(e, c));
    for (size_t c = 0; c < 3; c++) EXPECT_NEAR(std::exp(sum_of(e, c)) / z, p[c], 1e-12);
    // Importance: every feature learned, by |weight| per sd.
    core::FeatureImportance imp;
    lg->importance(imp);
    EXPECT_EQ(imp.kind, "abs_weight_per_sd");
    ASSERT_EQ(imp.features.size(), 2u);
    EXPECT_GT(imp.importance[0], imp.importance[1]);  // a decides the label, b is noise
}

TEST(Explanations, PassiveAggressiveIsExact) {
    auto c = make(R"({"model": "passive_aggressive_classifier"})");
    auto r = make(R"({"model": "passive_aggressive_regressor"})");
    for (int i = 0; i < 200; i++) {
        const Observation o = num({{"a", double(i % 9)}, {"b", double(i % 4)}});
        c->learn(o, Label::of_boolean(i % 9 > 4));
        r->learn(o, Label::of_number(0.5 * (i % 9) - (i % 4)));
    }
    const Observation x = num({{"a", 6}, {"b", 1}});
    Explanation e;
    c->explain(x, e);
    EXPECT_EQ(e.scale, "log_odds");
    EXPECT_NEAR(1 / (1 + std::exp(-sum_of(e, 0))), c->predict(x), 1e-12);
    r->explain(x, e);
    EXPECT_EQ(e.scale, "value");
    EXPECT_DOUBLE_EQ(sum_of(e, 0), r->predict(x));
    core::FeatureImportance imp;
    r->importance(imp);
    EXPECT_EQ(imp.kind, "abs_weight");
    ASSERT_EQ(imp.importance.size(), 2u);
}

// ---- trees and ensembles -----------------------------------------------------------------------

TEST(Explanations, HoeffdingTreesAndEnsemblesAddUpToTheirPredictions) {
    auto c = make(R"({"model": "hoeffding_tree_classifier", "grace_period": 50, "delta": 0.01})");
    auto r = make(R"({"model": "hoeffding_tree_regressor", "grace_period": 50, "leaf_prediction": "model"})");
    auto f = make(R"({"model": "adaptive_random_forest_classifier", "n_models": 3, "seed": 3, "tree": {"grace_period": 50}})");
    auto b = make(R"({"model": "bagging_regressor", "n_models": 3, "seed": 3, "base": {"model": "hoeffding_tree_regressor", "grace_period": 50}})");
    std::mt19937_64 rng(2);
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < 2000; i++) {
        Observation o;
        const double a = u(rng), z = u(rng);
        o.add_numeric("a", a);
        o.add_numeric("z", z);
        o.add_category("colour", i % 3 ? "red" : "blue");
        const std::string cls = a > 0.5 ? (z > 0.3 ? "x" : "y") : "z";
        c->learn(o, Label::of_text(cls));
        f->learn(o, Label::of_text(cls));
        r->learn(o, Label::of_number(a > 0.5 ? 5 + z : 1 - z));
        b->learn(o, Label::of_number(a > 0.5 ? 5 + z : 1 - z));
    }
    ASSERT_GT(c->info()["n_leaves"].get<int>(), 1);
    Explanation e;
    std::vector<double> p;
    for (int i = 0; i < 50; i++) {
        Observation x;
        if (i % 5) x.add_numeric("a", u(rng));  // sometimes missing
        x.add_numeric("z", u(rng));
        if (i % 2) x.add_category("colour", "red");
        c->explain(x, e);
        EXPECT_EQ(e.method, "tree_shap");
        c->predict_proba(x, p);
        for (size_t k = 0; k < p.size(); k++) {
            ASSERT_EQ(e.outputs[k], c->classes()[k]);
            EXPECT_NEAR(sum_of(e, k), p[k], 1e-12);
        }
        r->explain(x, e);
        EXPECT_NEAR(sum_of(e, 0), r->predict(x), 1e-9);
        f->explain(x, e);
        EXPECT_EQ(e.method, "mean_of_members");
        f->predict_proba(x, p);
        for (size_t k = 0; k < p.size(); k++) EXPECT_NEAR(sum_of(e, k), p[k], 1e-12);
        b->explain(x, e);
        EXPECT_NEAR(sum_of(e, 0), b->predict(x), 1e-9);
    }
    // Importance: the root's feature routes all of the weight (1, plus any deeper split on it);
    // the forest gives the mean of its trees'.
    core::FeatureImportance imp;
    c->importance(imp);
    EXPECT_EQ(imp.kind, "split_weight");
    double top = 0;
    for (double v : imp.importance) top = std::max(top, v);
    EXPECT_GE(top, 1.0 - 1e-12);
    f->importance(imp);
    EXPECT_EQ(imp.kind, "split_weight");
    // The split feature carries the weight: a, not colour, moves the classifier most.
    Observation x;
    x.add_numeric("a", 0.9);
    x.add_numeric("z", 0.9);
    c->explain(x, e);
    EXPECT_GT(std::fabs(contribution(e, "a", 0)), 0.05);
}

TEST(Explanations, KindsWithoutExplanationsRefuse) {
    Explanation e;
    core::FeatureImportance imp;
    auto k = make(R"({"model": "kmeans", "n_clusters": 2})");
    const std::string msg = expect_error(ErrorKind::FeatureNotSupported, [&] { k->explain(num({{"a", 1}}), e); });
    EXPECT_NE(msg.find("kmeans"), std::string::npos) << msg;
    expect_error(ErrorKind::FeatureNotSupported, [&] { k->importance(imp); });
    auto nb = make(R"({"model": "gaussian_nb"})");
    const double v[] = {1};
    expect_error(ErrorKind::FeatureNotSupported, [&] { nb->explain_dense(v, 1, e); });
    auto bag = make(R"({"model": "bagging_classifier", "n_models": 2, "base": {"model": "logistic_regression"}})");
    bag->learn(num({{"a", 1}}), Label::of_boolean(true));
    expect_error(ErrorKind::FeatureNotSupported, [&] { bag->explain(num({{"a", 1}}), e); });
}

// ---- imported xgboost --------------------------------------------------------------------------

const std::string kBinary = R"json({"learner":{"attributes":{},"feature_names":["a","c"],"feature_types":["q","c"],"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"2","size_leaf_vector":"0"},"tree_info":[0,0],"trees":[{"base_weights":[0.0,-0.4,0.6],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"default_left":[1,0,0],"id":0,"left_children":[1,-1,-1],"loss_changes":[2.5,0.0,0.0],"parents":[2147483647,0,0],"right_children":[2,-1,-1],"split_conditions":[0.5,-0.4,0.6],"split_indices":[0,0,0],"split_type":[0,0,0],"sum_hessian":[10.0,5.0,5.0],"tree_param":{"num_deleted":"0","num_feature":"2","num_nodes":"3","size_leaf_vector":"0"}},{"base_weights":[0.0,-0.1,0.2],"categories":[1,3],"categories_nodes":[0],"categories_segments":[0],"categories_sizes":[2],"default_left":[0,0,0],"id":1,"left_children":[1,-1,-1],"loss_changes":[1.5,0.0,0.0],"parents":[2147483647,0,0],"right_children":[2,-1,-1],"split_conditions":[NaN,-0.1,0.2],"split_indices":[1,0,0],"split_type":[1,0,0],"sum_hessian":[10.0,6.0,4.0],"tree_param":{"num_deleted":"0","num_feature":"2","num_nodes":"3","size_leaf_vector":"0"}}]},"name":"gbtree"},"learner_model_param":{"base_score":"5E-1","boost_from_average":"1","num_class":"0","num_feature":"2","num_target":"1"},"objective":{"name":"binary:logistic","reg_loss_param":{"scale_pos_weight":"1"}}},"version":[1,7,4]})json";


TEST(Explanations, XGBoostTreeShapByHand) {
    auto m = core::import_model("xgboost", kBinary.data(), kBinary.size());
    // Tree 0: a < 0.5 -> -0.4 (cover 5) else 0.6 (cover 5): mean 0.1. Tree 1: c in {1, 3} -> 0.2
    // (cover 4) else -0.1 (cover 6): mean 0.02. Base: 0 (logit of 0.5) + 0.1 + 0.02.
    Explanation e;
    const double x[] = {0, 1};
    m->explain_dense(x, 2, e);
    EXPECT_EQ(e.method, "tree_shap");
    EXPECT_EQ(e.scale, "log_odds");
    ASSERT_EQ(e.features.size(), 2u);
    EXPECT_NEAR(e.base[0], 0.12, 1e-7);
    EXPECT_NEAR(e.contributions[0], -0.5, 1e-7);
    EXPECT_NEAR(e.contributions[1], 0.18, 1e-7);
    EXPECT_NEAR(1 / (1 + std::exp(-sum_of(e, 0))), m->predict_dense(x, 2), 1e-7);
    const Explanation e0 = e;
    // Missing a goes left (default); by name, c missing goes right.
    m->explain(num({{"a", 1}}), e);
    EXPECT_NEAR(e.contributions[0], 0.5, 1e-7);
    EXPECT_NEAR(e.contributions[1], 0.18, 1e-7);
    // The covers survive the binary and JSON forms.
    std::vector<uint8_t> bytes(m->encoded_size());
    m->encode(bytes.data(), bytes.size());
    core::decode_model(bytes.data(), bytes.size())->explain_dense(x, 2, e);
    EXPECT_EQ(e.contributions, e0.contributions);
    EXPECT_EQ(e.base, e0.base);
    core::model_from_json(m->to_json())->explain_dense(x, 2, e);
    EXPECT_EQ(e.contributions, e0.contributions);
    EXPECT_EQ(e.base, e0.base);
    // Importance: total gain.
    core::FeatureImportance imp;
    m->importance(imp);
    EXPECT_EQ(imp.kind, "total_gain");
    EXPECT_EQ(imp.importance, (std::vector<double>{2.5, 1.5}));
    // A model file without sum_hessian imports, scores, and refuses explanations.
    std::string no_cover = kBinary;
    for (size_t at; (at = no_cover.find("\"sum_hessian\"")) != std::string::npos;)
        no_cover.replace(at, 13, "\"sum_hessianx\"");
    auto bare = core::import_model("xgboost", no_cover.data(), no_cover.size());
    EXPECT_NEAR(bare->predict_dense(x, 2), m->predict_dense(x, 2), 1e-12);
    expect_error(ErrorKind::FeatureNotSupported, [&] { bare->explain_dense(x, 2, e); });
}

// ---- wrappers: partitioned models and pipelines ------------------------------------------------

// A partitioned model explains a row by the model that answers it, over the rest of the row: the
// same explanation as a model of the base spec given exactly that partition's rows without the
// keys (or, under min_examples, the global model given every row).
TEST(Explanations, PartitionedExplainsByTheAnsweringModel) {
    const std::string base = R"({"model": "linear_regression", "optimizer": {"sgd": {"lr": 0.05}}})";
    auto m = make(R"({"model": "partitioned", "by": "city", "min_examples": 20, "base": )" + base + "}");
    auto paris = make(base), global = make(base);
    for (int i = 0; i < 200; i++) {
        const bool in_paris = i % 10 != 0;  // 20 rows of Lyon: at min_examples
        const double a = i % 13, b = (i * 7) % 5;
        const double y = in_paris ? 2 * a - b : 10 - a;
        Observation x;
        x.add_category("city", in_paris ? "Paris" : (i < 100 ? "Lyon" : "Nice"));
        x.add_numeric("a", a);
        x.add_numeric("b", b);
        m->learn(x, Label::of_number(y));
        const Observation rest = num({{"a", a}, {"b", b}});
        global->learn(rest, Label::of_number(y));
        if (in_paris) paris->learn(rest, Label::of_number(y));
    }
    Explanation e, want;
    Observation x;
    x.add_category("city", "Paris");
    x.add_numeric("a", 4);
    x.add_numeric("b", 1);
    m->explain(x, e);
    paris->explain(num({{"a", 4}, {"b", 1}}), want);
    ASSERT_EQ(e.features, want.features);  // the key is not among them
    EXPECT_EQ(e.method, "exact_linear");
    EXPECT_EQ(e.base, want.base);
    EXPECT_EQ(e.contributions, want.contributions);
    EXPECT_DOUBLE_EQ(sum_of(e, 0), m->predict(x));
    // Lyon learned 10 rows (under min_examples) and Nice never reached 20 either: the global model.
    for (const char* city : {"Lyon", "Nice", "Rome"}) {
        Observation y;
        y.add_category("city", city);
        y.add_numeric("a", 4);
        y.add_numeric("b", 1);
        m->explain(y, e);
        global->explain(num({{"a", 4}, {"b", 1}}), want);
        EXPECT_EQ(e.contributions, want.contributions) << city;
        EXPECT_EQ(e.base, want.base) << city;
        EXPECT_DOUBLE_EQ(sum_of(e, 0), m->predict(y)) << city;
    }
}

// A pipeline explains by its final model over the features its steps made: here river's
// StandardScaler (learn x, then scale it by the population variance) before a linear regression,
// replayed by hand into a bare linear regression.
TEST(Explanations, PipelineExplainsByItsFinalModel) {
    auto m = make(R"({"pipeline": [{"select": ["t", "u"]}, "standard_scaler", {"linear_regression": {}}]})");
    auto bare = make(R"({"model": "linear_regression"})");
    double n = 0, mean[2] = {0, 0}, m2[2] = {0, 0};
    auto scaled = [&](const double* v, double* z) {
        for (int k = 0; k < 2; k++) {
            const double sd = n > 0 ? std::sqrt(m2[k] / n) : 0;
            z[k] = sd > 0 ? (v[k] - mean[k]) / sd : 0;
        }
    };
    for (int i = 0; i < 300; i++) {
        const double v[2] = {double(i % 17), 100.0 + (i * 11) % 23};
        const double y = 3 * v[0] - 0.5 * v[1];
        Observation x;
        x.add_numeric("t", v[0]);
        x.add_numeric("u", v[1]);
        x.add_category("station", "north");  // not selected
        m->learn(x, Label::of_number(y));
        n += 1;
        for (int k = 0; k < 2; k++) {
            const double d = v[k] - mean[k];
            mean[k] += d / n;
            m2[k] += d * (v[k] - mean[k]);
        }
        double z[2];
        scaled(v, z);
        bare->learn(num({{"t", z[0]}, {"u", z[1]}}), Label::of_number(y));
    }
    Observation x;
    x.add_numeric("t", 5);
    x.add_numeric("u", 110);
    x.add_category("station", "north");
    Explanation e, want;
    m->explain(x, e);
    const double v[2] = {5, 110};
    double z[2];
    scaled(v, z);
    bare->explain(num({{"t", z[0]}, {"u", z[1]}}), want);
    ASSERT_EQ(e.features, (std::vector<std::string>{"t", "u"}));
    EXPECT_EQ(e.method, "exact_linear");
    for (size_t j = 0; j < 2; j++) EXPECT_NEAR(e.contributions[j], want.contributions[j], 1e-9);
    EXPECT_NEAR(e.base[0], want.base[0], 1e-9);
    EXPECT_DOUBLE_EQ(sum_of(e, 0), m->predict(x));
    core::FeatureImportance imp;
    m->importance(imp);
    EXPECT_EQ(imp.features.size(), 2u);
    // A pipeline whose final model has no explanations refuses, naming that kind.
    auto nb = make(R"({"pipeline": ["standard_scaler", {"gaussian_nb": {}}]})");
    nb->learn(num({{"a", 1}}), Label::of_text("x"));
    const std::string msg = expect_error(ErrorKind::FeatureNotSupported, [&] { nb->explain(num({{"a", 1}}), e); });
    EXPECT_NE(msg.find("gaussian_nb"), std::string::npos) << msg;
}

}  // namespace
}  // namespace pg_learn::test
