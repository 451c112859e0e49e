// The Hoeffding tree regressor: variance reduction and the numeric observer's best split against
// computations done here from the raw values, a step function learned exactly, linear leaves, the
// binary and JSON forms, the memory budget and bad input.
#include "core/models/hoeffding_tree/tree_regressor.hpp"

#include "core/models/model.hpp"
#include "test_util.hpp"

#include <cmath>
#include <functional>
#include <map>
#include <random>

namespace pg_learn::test {
namespace {

using core::Label;
using core::Model;
using core::Observation;
namespace ht = core::hoeffding;

std::unique_ptr<Model> tree(const std::string& spec) { return core::model_from_text(spec.data(), spec.size()); }

// Two-pass sample variance (ddof 1), as NumPy's var(ddof=1).
double sample_var(const std::vector<double>& v) {
    if (v.size() < 2) return 0;
    double m = 0;
    for (double x : v) m += x;
    m /= static_cast<double>(v.size());
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return s / static_cast<double>(v.size() - 1);
}

ht::TargetStats stats_of(const std::vector<double>& v) {
    ht::TargetStats s;
    for (double x : v) s.add(x);
    return s;
}

// ---- the statistics, by hand ---------------------------------------------------------------------

TEST(TreeRegressor, VarianceReductionByHand) {
    // y 1, 2, 3 | 10, 11, 12: var(pre) = 125.5 / 5 = 25.1, each side 1: merit 25.1 - 1/2 - 1/2.
    const auto pre = stats_of({1, 2, 3, 10, 11, 12});
    EXPECT_NEAR(pre.variance(), 25.1, 1e-12);
    const std::vector<ht::TargetStats> post = {stats_of({1, 2, 3}), stats_of({10, 11, 12})};
    EXPECT_NEAR(ht::variance_reduction_merit(pre, post, 3), 24.1, 1e-12);
    // A branch with fewer than min_samples_split rows: no split.
    EXPECT_EQ(ht::variance_reduction_merit(pre, post, 4), -INFINITY);
    // The rest of a total is what the other rows give.
    const auto rest = ht::TargetStats::minus(pre, post[0]);
    EXPECT_NEAR(rest.n, 3, 1e-12);
    EXPECT_NEAR(rest.mean, 11, 1e-12);
    EXPECT_NEAR(rest.m2, 2, 1e-9);
    auto sum = post[0];
    sum.merge(post[1]);
    EXPECT_NEAR(sum.mean, pre.mean, 1e-12);
    EXPECT_NEAR(sum.m2, pre.m2, 1e-9);
}

TEST(TreeRegressor, ObserverBestSplitMatchesBruteForce) {
    // While a feature has at most max_bins distinct values the observer is river's EBST: every
    // distinct value v is a candidate "x <= v". Checked against a brute force over the raw rows.
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<int> xi(0, 29);
    std::normal_distribution<double> noise(0, 1);
    for (int trial = 0; trial < 5; trial++) {
        std::vector<double> xs, ys;
        ht::BinObserver obs;
        ht::TargetStats pre;
        for (int i = 0; i < 300; i++) {
            const double x = xi(rng) * 0.5;
            const double y = (x > 4 + trial ? 3.0 : 0.0) + x * 0.1 * trial + noise(rng);
            xs.push_back(x);
            ys.push_back(y);
            obs.add(x, y, 64);
            pre.add(y);
        }
        const ht::RegressionSplit s = ht::best_regression_split(obs, pre, 5);
        std::map<double, int> distinct;
        for (double x : xs) distinct[x]++;
        ASSERT_EQ(obs.bins.size(), distinct.size());
        double best = -INFINITY, best_t = 0;
        const double var_all = sample_var(ys);
        for (auto it = distinct.begin(); std::next(it) != distinct.end(); ++it) {
            std::vector<double> l, r;
            for (size_t i = 0; i < xs.size(); i++) (xs[i] <= it->first ? l : r).push_back(ys[i]);
            if (l.size() < 5 || r.size() < 5) continue;
            const double n = static_cast<double>(ys.size());
            const double merit = var_all - l.size() / n * sample_var(l) - r.size() / n * sample_var(r);
            if (merit > best) {
                best = merit;
                best_t = it->first;
            }
        }
        EXPECT_NEAR(s.merit, best, 1e-9 * std::max(1.0, std::fabs(best))) << trial;
        EXPECT_EQ(s.threshold, best_t) << trial;
    }
}

TEST(TreeRegressor, ObserverStaysWithinMaxBins) {
    // 10,000 distinct values into 16 bins: sorted, disjoint, every row counted once, and the
    // target's statistics over the bins add up to the whole.
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> u(-5, 5);
    ht::BinObserver obs;
    ht::TargetStats all;
    for (int i = 0; i < 10000; i++) {
        const double x = u(rng), y = x * x;
        obs.add(x, y, 16);
        all.add(y);
    }
    ASSERT_EQ(obs.bins.size(), 16u);
    ht::TargetStats sum;
    for (size_t i = 0; i < obs.bins.size(); i++) {
        const auto& b = obs.bins[i];
        EXPECT_LE(b.lo, b.xmean);
        EXPECT_LE(b.xmean, b.hi);
        if (i) {
            EXPECT_LT(obs.bins[i - 1].hi, b.lo);
        }
        sum.merge(b.y);
    }
    EXPECT_EQ(sum.n, 10000);
    EXPECT_NEAR(sum.mean, all.mean, 1e-9);
    EXPECT_NEAR(sum.m2, all.m2, 1e-6 * all.m2);
    // y = x^2 is symmetric: the best split is near 0 or near +-2.9 (where each side's variance
    // is lowest), never at the edges.
    const auto s = ht::best_regression_split(obs, all, 5);
    EXPECT_GT(s.merit, 0);
    EXPECT_GT(s.threshold, -4.5);
    EXPECT_LT(s.threshold, 4.5);
}

// ---- learning ------------------------------------------------------------------------------------

// y = 1 for x <= 0.5 and 5 above, x on a grid of 11 values; z is noise.
void feed_step(Model& m, int n, uint64_t seed = 7) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> xi(0, 10);
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < n; i++) {
        Observation o;
        const double x = xi(rng) / 10.0;
        o.add_numeric("x", x);
        o.add_numeric("z", u(rng));
        m.learn(o, Label::of_number(x <= 0.5 ? 1 : 5));
    }
}

TEST(TreeRegressor, LearnsAStepFunctionExactly) {
    for (const char* lp : {"mean", "adaptive"}) {
        auto m = tree(std::string(R"({"model": "hoeffding_tree_regressor", "leaf_prediction": ")") + lp + "\"}");
        feed_step(*m, 199);
        EXPECT_EQ(m->info()["n_leaves"], 1) << lp;
        feed_step(*m, 1000, 8);
        const auto t = m->to_json()["state"]["tree"];
        ASSERT_TRUE(t.contains("feature")) << lp;
        EXPECT_EQ(t["feature"], "x");
        EXPECT_EQ(t["threshold"], 0.5);
        // Each side is pure: no further split (variance reduction 0).
        EXPECT_EQ(m->info()["n_leaves"], 2) << lp;
        for (double x : {0.0, 0.2, 0.5, 0.55, 0.8, 1.0, 7.0}) {
            Observation o;
            o.add_numeric("x", x);
            o.add_numeric("z", 0.3);
            EXPECT_EQ(m->predict(o), x <= 0.5 ? 1.0 : 5.0) << lp << " at " << x;
        }
        EXPECT_EQ(t["le"]["target"]["mean"], 1.0);
        EXPECT_EQ(t["gt"]["target"]["mean"], 5.0);
    }
}

TEST(TreeRegressor, LinearLeavesFitALine) {
    // One leaf (a grace period longer than the stream): mean leaves predict the mean, model
    // leaves the line y = 3x - 2z + 2, and adaptive leaves pick the model (its error is lower).
    std::map<std::string, double> err;
    for (const char* lp : {"mean", "model", "adaptive"}) {
        auto m = tree(std::string(R"({"model": "hoeffding_tree_regressor", "grace_period": 100000, "leaf_prediction": ")") + lp + "\"}");
        std::mt19937_64 rng(3);
        std::uniform_real_distribution<double> u(-1, 1);
        for (int i = 0; i < 5000; i++) {
            Observation o;
            const double x = u(rng), z = u(rng);
            o.add_numeric("x", x);
            o.add_numeric("z", z);
            m->learn(o, Label::of_number(3 * x - 2 * z + 2));
        }
        Observation o;
        o.add_numeric("x", 0.5);
        o.add_numeric("z", -0.5);
        err[lp] = std::fabs(m->predict(o) - 4.5);
        if (std::string(lp) == "model") {
            // The weights are on the features standardized by the scaler: back in the
            // features' units they are the line's.
            const auto state = m->to_json()["state"];
            const auto model = state["tree"]["model"];
            double intercept = model["intercept"].get<double>();
            std::map<std::string, double> raw;
            for (const char* f : {"x", "z"}) {
                const auto s = state["scaler"][f];
                EXPECT_EQ(s["n"], 5000);
                const double sd = std::sqrt(s["m2"].get<double>() / 4999), w = model["weights"][f].get<double>();
                raw[f] = w / sd;
                intercept -= w * s["mean"].get<double>() / sd;
            }
            EXPECT_NEAR(intercept, 2, 1e-2);
            EXPECT_NEAR(raw["x"], 3, 1e-2);
            EXPECT_NEAR(raw["z"], -2, 1e-2);
        }
    }
    EXPECT_GT(err["mean"], 2);
    EXPECT_LT(err["model"], 1e-2);
    EXPECT_EQ(err["adaptive"], err["model"]);
}

TEST(TreeRegressor, CategoricalSplitIsValueVersusRest) {
    auto m = tree(R"({"model": "hoeffding_tree_regressor", "leaf_prediction": "mean"})");
    const char* colors[] = {"red", "green", "blue"};
    for (int i = 0; i < 200; i++) {
        Observation o;
        o.add_category("color", colors[i % 3]);
        m->learn(o, Label::of_number(i % 3 == 0 ? 10 : 2 + (i % 2)));
    }
    const auto t = m->to_json()["state"]["tree"];
    ASSERT_TRUE(t.contains("feature"));
    EXPECT_EQ(t["feature"], "color=red");
    EXPECT_EQ(t["is"]["target"]["n"], 67);
    EXPECT_EQ(t["is"]["target"]["mean"], 10);
    Observation red, blue, none;
    red.add_category("color", "red");
    blue.add_category("color", "blue");
    EXPECT_EQ(m->predict(red), 10);
    EXPECT_NEAR(m->predict(blue), 2.5, 0.01);
    EXPECT_EQ(m->predict(none), m->predict(blue));  // no color: the rest
}

TEST(TreeRegressor, MaxDepthStopsGrowth) {
    auto m = tree(R"({"model": "hoeffding_tree_regressor", "max_depth": 2, "grace_period": 50})");
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < 20000; i++) {
        Observation o;
        const double a = u(rng), b = u(rng);
        o.add_numeric("a", a);
        o.add_numeric("b", b);
        m->learn(o, Label::of_number(std::sin(6 * a) + b * b));
    }
    const auto info = m->info();
    EXPECT_EQ(info["depth"].get<int>(), 2);
    EXPECT_EQ(info["n_leaves"].get<int>(), 4);
    EXPECT_EQ(info["n_active_leaves"].get<int>(), 0);
}

// ---- the stored forms ----------------------------------------------------------------------------

std::unique_ptr<Model> grown_tree(const char* lp = "adaptive") {
    auto m = tree(std::string(R"({"model": "hoeffding_tree_regressor", "grace_period": 50, "max_depth": 6, "max_bins": 16, "leaf_prediction": ")") + lp + "\"}");
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> u(0, 1);
    const char* colors[] = {"red", "green", "blue"};
    for (int i = 0; i < 3000; i++) {
        Observation o;
        const double a = u(rng), b = u(rng);
        const int c = static_cast<int>(u(rng) * 3);
        o.add_numeric("a", a);
        if (i % 10) o.add_numeric("b", b);  // sometimes missing
        o.add_category("color", colors[c]);
        m->learn(o, Label::of_number(10 * a * b + (c == 0 ? 3 : 0) + u(rng)));
    }
    return m;
}

TEST(TreeRegressor, BinaryAndJsonRoundTripsGiveTheSameBytes) {
    for (const char* lp : {"mean", "model", "adaptive"}) {
        auto m = grown_tree(lp);
        ASSERT_GT(m->info()["n_leaves"].get<int>(), 3) << lp;
        const auto b = bytes_of(*m);
        auto d = core::decode_model(b.data(), b.size());
        EXPECT_EQ(bytes_of(*d), b);
        const std::string text = m->to_text();
        auto j = core::model_from_text(text.data(), text.size());
        EXPECT_EQ(bytes_of(*j), b) << lp;
        EXPECT_EQ(j->to_text(), text);
        // The size ml_info reports is what is written; tree_bytes is kept up to date as it grows.
        EXPECT_EQ(m->info()["size_bytes"].get<size_t>(), b.size());
        EXPECT_EQ(m->info()["tree_bytes"], d->info()["tree_bytes"]) << lp;
        // Both copies go on learning alike.
        Observation o;
        o.add_numeric("a", 0.9);
        o.add_numeric("b", 0.8);
        o.add_category("color", "red");
        for (int i = 0; i < 100; i++) {
            m->learn(o, Label::of_number(i));
            d->learn(o, Label::of_number(i));
        }
        EXPECT_EQ(bytes_of(*d), bytes_of(*m));
        EXPECT_EQ(m->predict(o), d->predict(o));
        EXPECT_EQ(m->info()["tree_bytes"], core::decode_model(bytes_of(*m).data(), bytes_of(*m).size())->info()["tree_bytes"]);
    }
}

TEST(TreeRegressor, MemoryBudgetStopsGrowthButKeepsLearning) {
    std::mt19937_64 rng(13);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<Observation> xs(22000);
    std::vector<double> ys(xs.size());
    for (size_t i = 0; i < xs.size(); i++) {
        const double a = u(rng), b = u(rng);
        for (int f = 0; f < 4; f++) xs[i].add_numeric("f" + std::to_string(f), f == 0 ? a : f == 1 ? b : u(rng));
        ys[i] = std::sin(6 * a) + 2 * b;
    }
    auto m = tree(R"({"model": "hoeffding_tree_regressor", "grace_period": 20, "max_size": 0.01})");
    auto big = tree(R"({"model": "hoeffding_tree_regressor", "grace_period": 20})");
    for (size_t i = 0; i < 20000; i++) {
        m->learn(xs[i], Label::of_number(ys[i]));
        big->learn(xs[i], Label::of_number(ys[i]));
    }
    const auto info = m->info();
    EXPECT_EQ(info["n_seen"], 20000);
    EXPECT_LT(info["n_active_leaves"].get<int>(), info["n_leaves"].get<int>());
    EXPECT_LE(info["tree_bytes"].get<double>(), 0.01 * 1024 * 1024);
    const auto b = bytes_of(*m);
    EXPECT_EQ(bytes_of(*core::decode_model(b.data(), b.size())), b);
    const int nodes = info["n_nodes"].get<int>();
    const auto before = m->to_json()["state"]["tree"];
    for (size_t i = 20000; i < xs.size(); i++) m->learn(xs[i], Label::of_number(ys[i]));
    // Still within the budget; a tree that stopped growing keeps its shape.
    EXPECT_LE(m->info()["tree_bytes"].get<double>(), 0.01 * 1024 * 1024);
    if (!info["growth_allowed"].get<bool>()) {
        EXPECT_EQ(m->info()["n_nodes"].get<int>(), nodes);
    }
    EXPECT_NE(m->to_json()["state"]["tree"], before);
    EXPECT_TRUE(std::isfinite(m->predict(xs[0])));
    EXPECT_GT(big->info()["n_nodes"].get<int>(), nodes);
    EXPECT_TRUE(big->info()["growth_allowed"].get<bool>());
    // A budget smaller than one leaf with its observers: the root stops observing at once and
    // the tree stops growing for good; it still learns its mean and its model, and predicts.
    auto tiny = tree(R"({"model": "hoeffding_tree_regressor", "grace_period": 20, "max_size": 0.0002})");
    for (size_t i = 0; i < 5000; i++) tiny->learn(xs[i], Label::of_number(ys[i]));
    const auto ti = tiny->info();
    EXPECT_FALSE(ti["growth_allowed"].get<bool>());
    EXPECT_EQ(ti["n_nodes"], 1);
    EXPECT_EQ(ti["n_active_leaves"], 0);
    EXPECT_EQ(tiny->to_json()["state"]["tree"]["target"]["n"], 5000);
    EXPECT_TRUE(std::isfinite(tiny->predict(xs[1])));
    const auto tb = bytes_of(*tiny);
    EXPECT_EQ(bytes_of(*core::decode_model(tb.data(), tb.size())), tb);
}

TEST(TreeRegressor, RefusesMerging) {
    auto a = grown_tree(), b = grown_tree();
    EXPECT_FALSE(a->can_merge());
    const auto before = bytes_of(*a);
    const std::string msg = expect_error(ErrorKind::InvalidParameter, [&] { a->merge(*b); });
    EXPECT_NE(msg.find("cannot merge"), std::string::npos) << msg;
    EXPECT_EQ(bytes_of(*a), before);
}

// ---- bad input -----------------------------------------------------------------------------------

TEST(TreeRegressor, StrictOptions) {
    auto m = tree(R"({"model": "hoeffding_tree_regressor"})");
    const auto spec = m->info()["spec"];
    EXPECT_EQ(spec["grace_period"], 200);
    EXPECT_EQ(spec["delta"], 1e-7);
    EXPECT_EQ(spec["tau"], 0.05);
    EXPECT_EQ(spec["leaf_prediction"], "adaptive");
    EXPECT_EQ(spec["max_bins"], 32);
    EXPECT_EQ(spec["min_samples_split"], 5);
    EXPECT_EQ(spec["max_size"], 100);
    EXPECT_EQ(m->info()["task"], "regression");
    for (const char* bad : {R"({"model": "hoeffding_tree_regressor", "grace": 5})",
                            R"({"model": "hoeffding_tree_regressor", "grace_period": 0})",
                            R"({"model": "hoeffding_tree_regressor", "delta": 0})",
                            R"({"model": "hoeffding_tree_regressor", "delta": 1})",
                            R"({"model": "hoeffding_tree_regressor", "tau": 2})",
                            R"({"model": "hoeffding_tree_regressor", "max_depth": 51})",
                            R"({"model": "hoeffding_tree_regressor", "leaf_prediction": "nba"})",
                            R"({"model": "hoeffding_tree_regressor", "leaf_learning_rate": 2})",
                            R"({"model": "hoeffding_tree_regressor", "leaf_learning_rate": 0})",
                            R"({"model": "hoeffding_tree_regressor", "model_selector_decay": 1.5})",
                            R"({"model": "hoeffding_tree_regressor", "max_bins": 1})",
                            R"({"model": "hoeffding_tree_regressor", "min_samples_split": 0})",
                            R"({"model": "hoeffding_tree_regressor", "split_criterion": "gini"})",
                            R"({"model": "hoeffding_tree_regressor", "max_size": 0})"}) {
        const std::string text = bad;
        expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_text(text.data(), text.size()); });
    }
}

TEST(TreeRegressor, RefusesBadLabels) {
    auto m = tree(R"({"model": "hoeffding_tree_regressor"})");
    Observation o;
    o.add_numeric("x", 1);
    expect_error(ErrorKind::InvalidParameter, [&] { m->learn(o, Label::of_text("high")); });
    expect_error(ErrorKind::InvalidParameter, [&] { m->learn(o, Label::of_number(1e200)); });
    EXPECT_EQ(m->n_seen(), 0u);
    // Huge features leave the leaf model as it was; the tree stays storable.
    Observation big;
    big.add_numeric("x", 1e300);
    m->learn(big, Label::of_number(1));
    const auto b = bytes_of(*m);
    EXPECT_EQ(bytes_of(*core::decode_model(b.data(), b.size())), b);
}

TEST(TreeRegressor, RefusesBrokenStoredForms) {
    auto m = grown_tree();
    const auto good = bytes_of(*m);
    for (size_t n = 0; n < good.size(); n += 7)
        expect_error(ErrorKind::InvalidBinary, [&] { core::decode_model(good.data(), n); });
    for (size_t i = 0; i < good.size(); i += 13) {
        auto b = good;
        b[i] ^= 0x5a;
        try {
            core::decode_model(b.data(), b.size());
        } catch (const Error&) {
        }
    }
    auto j = m->to_json();
    for (auto edit : std::vector<std::function<void(nlohmann::json&)>>{
             [](nlohmann::json& t) { t["state"]["tree"]["feature"] = "nope"; },
             [](nlohmann::json& t) { t["state"]["tree"]["target"]["n"] = -1; },
             [](nlohmann::json& t) { t["state"]["tree"]["extra"] = 1; },
             [](nlohmann::json& t) { t["state"]["growth_allowed"] = "yes"; },
             [](nlohmann::json& t) { t["state"]["tree"]["threshold"] = "high"; },
             // Statistics no learning makes (labels lie within +-1e100), which could overflow.
             [](nlohmann::json& t) { t["state"]["tree"]["target"]["mean"] = 1e200; },
             [](nlohmann::json& t) { t["state"]["tree"]["target"]["n"] = 1e300; },
         }) {
        auto bad = j;
        edit(bad);
        expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(bad); });
    }
    // A leaf's observer with bins out of order.
    auto fresh = tree(R"({"model": "hoeffding_tree_regressor"})");
    Observation o;
    for (double x : {1.0, 2.0}) {
        o = Observation{};
        o.add_numeric("x", x);
        fresh->learn(o, Label::of_number(x));
    }
    auto fj = fresh->to_json();
    ASSERT_EQ(fj["state"]["tree"]["observers"]["x"].size(), 2u);
    std::swap(fj["state"]["tree"]["observers"]["x"][0], fj["state"]["tree"]["observers"]["x"][1]);
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(fj); });
}

}  // namespace
}  // namespace pg_learn::test
