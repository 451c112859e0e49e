// The Hoeffding tree classifier: its split statistics checked by hand, the splits it must make,
// its binary and JSON forms, its memory budget and its bad input.
#include "core/models/hoeffding_tree/hoeffding_tree.hpp"

#include "core/models/model.hpp"
#include "test_util.hpp"

#include <cmath>
#include <random>

namespace pg_learn::test {
namespace {

using core::Label;
using core::Model;
using core::Observation;
namespace ht = core::hoeffding;

std::unique_ptr<Model> tree(const std::string& spec) { return core::model_from_text(spec.data(), spec.size()); }

// ---- the statistics, by hand ---------------------------------------------------------------------

TEST(HoeffdingTree, BoundByHand) {
    // sqrt(1 * ln(1e7) / 400), computed outside (Python's math module).
    EXPECT_NEAR(ht::hoeffding_bound(1.0, 1e-7, 200), 0.20073674085078647, 1e-15);
    // Three classes, delta 1e-3, 50 examples: range log2(3).
    EXPECT_NEAR(ht::hoeffding_bound(std::log2(3.0), 1e-3, 50), 0.4165694944644572, 1e-15);
}

TEST(HoeffdingTree, InfoGainAndGiniByHand) {
    // 5/5 split into 4/1 and 1/4: 1 - H(0.8, 0.2) = 1 - 0.7219280948873623.
    EXPECT_NEAR(ht::info_gain_merit({5, 5}, {{4, 1}, {1, 4}}, 0.01), 0.2780719051126377, 1e-15);
    EXPECT_NEAR(ht::entropy({1, 1, 2}), 1.5, 1e-15);
    EXPECT_EQ(ht::info_gain_merit({5, 5}, {{5, 5}, {0, 0}}, 0.01), -INFINITY);  // one branch only
    EXPECT_EQ(ht::info_gain_range({3, 0, 0}), 1.0);                             // at least 2 classes
    EXPECT_NEAR(ht::info_gain_range({3, 1, 2}), std::log2(3.0), 1e-15);
    // Gini: each branch 1 - 0.64 - 0.04 = 0.32, so the merit is 1 - 0.32.
    EXPECT_NEAR(ht::gini_merit({{4, 1}, {1, 4}}), 0.68, 1e-15);
}

TEST(HoeffdingTree, GaussianSplitByHand) {
    // Class 0 at 1, 2, 3; class 1 at 7, 8, 9: 10 thresholds 1 + 8i/11 (i = 1..10); the first
    // that separates the classes, 1 + 24/11, wins with the whole entropy (1 bit).
    std::vector<ht::Gaussian> g(2);
    for (double v : {1, 2, 3}) g[0].add(v);
    for (double v : {7, 8, 9}) g[1].add(v);
    EXPECT_DOUBLE_EQ(g[0].variance(), 1.0);
    EXPECT_NEAR(g[0].cdf(2.0), 0.5, 1e-15);
    const ht::NumericSplit s = ht::best_numeric_split(g, {3, 3}, 10, ht::Criterion::InfoGain, 0.01);
    EXPECT_NEAR(s.threshold, 1 + 24.0 / 11, 1e-12);
    EXPECT_NEAR(s.merit, 1.0, 1e-12);
    EXPECT_EQ(s.left, (std::vector<double>{3, 0}));
    EXPECT_EQ(s.right, (std::vector<double>{0, 3}));
    // Overlapping classes: the weight on each side is the Gaussian's cdf. One threshold (n_splits
    // 1) halfway between 0 and 4: class 0 (0, 2, 4; mean 2, sd 2) half and half.
    std::vector<ht::Gaussian> h(2);
    for (double v : {0, 2, 4}) h[0].add(v);
    for (double v : {1, 3}) h[1].add(v);
    const ht::NumericSplit t = ht::best_numeric_split(h, {3, 2}, 1, ht::Criterion::Gini, 0.01);
    EXPECT_NEAR(t.threshold, 2.0, 1e-15);
    EXPECT_NEAR(t.left[0], 1.5, 1e-12);
    EXPECT_NEAR(t.left[1], 1.0, 1e-12);
}

TEST(HoeffdingTree, HistogramBinsByHand) {
    // Capacity 3. 1 (a), 5 (b), 2 (a): three bins of one value. 1.5 (b) opens a fourth bin
    // between 1 and 2: the narrowest unions are [1, 1.5] and [1.5, 2] (width 0.5 each), the first
    // merges. 1.2 (a) falls in [1, 1.5]; 2 (b) in [2, 2]; 7 (b) opens a fourth bin again: the
    // unions are [1, 2] (1), [2, 5] (3), [5, 7] (2), so [1, 1.5] and [2, 2] merge.
    std::vector<ht::Bin> bins;
    const std::pair<double, size_t> adds[] = {{1, 0}, {5, 1}, {2, 0}, {1.5, 1}};
    for (const auto& [x, c] : adds) ht::histogram_add(bins, x, c, 2, 3);
    ASSERT_EQ(bins.size(), 3u);
    EXPECT_EQ(bins[0].lo, 1);
    EXPECT_EQ(bins[0].hi, 1.5);
    EXPECT_EQ(bins[0].w, (std::vector<double>{1, 1}));
    EXPECT_EQ(bins[1].lo, 2);
    EXPECT_EQ(bins[2].lo, 5);
    ht::histogram_add(bins, 1.2, 0, 2, 3);
    ht::histogram_add(bins, 2, 1, 2, 3);
    EXPECT_EQ(bins[0].w, (std::vector<double>{2, 1}));
    EXPECT_EQ(bins[1].w, (std::vector<double>{1, 1}));
    ht::histogram_add(bins, 7, 1, 2, 3);
    ASSERT_EQ(bins.size(), 3u);
    EXPECT_EQ(bins[0].lo, 1);
    EXPECT_EQ(bins[0].hi, 2);
    EXPECT_EQ(bins[0].w, (std::vector<double>{3, 2}));
    EXPECT_EQ(bins[1].lo, 5);
    EXPECT_EQ(bins[1].hi, 5);
    EXPECT_EQ(bins[1].w, (std::vector<double>{0, 1}));
    EXPECT_EQ(bins[2].lo, 7);
    EXPECT_EQ(bins[2].w, (std::vector<double>{0, 1}));
    // The thresholds: 3.5 (halfway between 2 and 5) and 6. At 3.5: {3, 2} | {0, 2}; Gini merit
    // 1 - 5/7 (1 - 0.36 - 0.16) = 4.6/7; at 6: {3, 3} | {0, 1}, 1 - 6/7 0.5 = 4/7.
    ht::NumericSplit s = ht::best_histogram_split(bins, {3, 4}, ht::Criterion::Gini, 0.01);
    EXPECT_EQ(s.threshold, 3.5);
    EXPECT_NEAR(s.merit, 4.6 / 7, 1e-15);
    EXPECT_EQ(s.left, (std::vector<double>{3, 2}));
    EXPECT_EQ(s.right, (std::vector<double>{0, 2}));
    // Information gain: H(3/7, 4/7) - 5/7 H(3/5, 2/5) (the right side is pure), computed outside
    // (Python's math module); the other threshold gains 0.12808527889139443.
    s = ht::best_histogram_split(bins, {3, 4}, ht::Criterion::InfoGain, 0.01);
    EXPECT_EQ(s.threshold, 3.5);
    EXPECT_NEAR(s.merit, 0.2916919971380596, 1e-15);
    // One bin: no threshold.
    std::vector<ht::Bin> one;
    ht::histogram_add(one, 4, 0, 2, 3);
    ht::histogram_add(one, 4, 1, 2, 3);
    EXPECT_EQ(one.size(), 1u);
    EXPECT_EQ(ht::best_histogram_split(one, {1, 1}, ht::Criterion::Gini, 0.01).merit, -INFINITY);
}

// The rule as written (docs/models.md): insert x's bin, then merge the first narrowest adjacent
// pair; histogram_add does the same in place.
void insert_then_merge(std::vector<ht::Bin>& bins, double x, size_t c, size_t k, size_t capacity) {
    size_t p = 0;
    while (p < bins.size() && bins[p].hi < x) p++;
    if (p < bins.size() && bins[p].lo <= x) {
        bins[p].w[c] += 1;
        return;
    }
    ht::Bin b{x, x, std::vector<double>(k, 0.0)};
    b.w[c] = 1;
    bins.insert(bins.begin() + static_cast<std::ptrdiff_t>(p), b);
    if (bins.size() <= capacity) return;
    size_t best = 0;
    for (size_t i = 1; i + 1 < bins.size(); i++)
        if (bins[i + 1].hi - bins[i].lo < bins[best + 1].hi - bins[best].lo) best = i;
    bins[best].hi = bins[best + 1].hi;
    for (size_t j = 0; j < k; j++) bins[best].w[j] += bins[best + 1].w[j];
    bins.erase(bins.begin() + static_cast<std::ptrdiff_t>(best) + 1);
}

TEST(HoeffdingTree, HistogramAddIsInsertThenMerge) {
    std::mt19937_64 rng(17);
    std::uniform_real_distribution<double> u(0, 1);
    std::normal_distribution<double> g(0, 1);
    for (size_t capacity : {2, 3, 8, 64}) {
        std::vector<ht::Bin> fast, slow;
        for (int i = 0; i < 5000; i++) {
            // Uniform, clustered and repeated values, three classes.
            const double x = i % 3 == 0 ? u(rng) : i % 3 == 1 ? std::round(g(rng) * 4) / 4 : 5 + g(rng) * 0.01;
            const size_t c = static_cast<size_t>(u(rng) * 3);
            ht::histogram_add(fast, x, c, 3, capacity);
            insert_then_merge(slow, x, c, 3, capacity);
            ASSERT_EQ(fast.size(), slow.size());
            for (size_t b = 0; b < fast.size(); b++) {
                ASSERT_EQ(fast[b].lo, slow[b].lo) << capacity << " " << i;
                ASSERT_EQ(fast[b].hi, slow[b].hi);
                ASSERT_EQ(fast[b].w, slow[b].w);
            }
        }
        EXPECT_EQ(fast.size(), capacity);
    }
}

// ---- growing -------------------------------------------------------------------------------------

// x1 separates the classes (1-3 vs 7-9), x2 is noise: at the 200th example (the grace period)
// the first split attempt splits on x1 (at 5 with the histogram splitter, at 1 + 24/11 with
// the Gaussian one).
void feed_separable(Model& m, int n) {
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> noise(0, 1);
    for (int i = 0; i < n; i++) {
        Observation o;
        const bool b = i % 2;
        o.add_numeric("x1", (b ? 7 : 1) + i % 3);
        o.add_numeric("x2", noise(rng));
        m.learn(o, Label::of_text(b ? "b" : "a"));
    }
}

TEST(HoeffdingTree, SplitsOnTheFeatureThatSeparates) {
    // The histogram splitter (the default): halfway between the classes' values, 3 and 7.
    auto h = tree(R"({"model": "hoeffding_tree_classifier"})");
    feed_separable(*h, 200);
    const auto ht_ = h->to_json()["state"]["tree"];
    ASSERT_TRUE(ht_.contains("feature"));
    EXPECT_EQ(ht_["feature"], "x1");
    EXPECT_EQ(ht_["threshold"].get<double>(), 5.0);
    EXPECT_EQ(ht_["le"]["class_counts"]["a"], 100);
    EXPECT_EQ(ht_["le"]["class_counts"]["b"], 0);
    EXPECT_EQ(ht_["gt"]["class_counts"]["b"], 100);
    // The Gaussian splitter: the first of its 10 evenly spaced thresholds that separates them.
    auto m = tree(R"({"model": "hoeffding_tree_classifier", "splitter": "gaussian"})");
    feed_separable(*m, 199);
    EXPECT_FALSE(m->to_json()["state"]["tree"].contains("feature"));
    EXPECT_EQ(m->info()["n_leaves"], 1);
    feed_separable(*m, 1);  // the 200th example
    // (feed_separable restarts its sequence: example 200 is an "a" at x1 = 1.)
    const auto t = m->to_json()["state"]["tree"];
    ASSERT_TRUE(t.contains("feature"));
    EXPECT_EQ(t["feature"], "x1");
    EXPECT_NEAR(t["threshold"].get<double>(), 1 + 24.0 / 11, 1e-12);
    EXPECT_EQ(t["le"]["class_counts"]["a"], 101);
    EXPECT_EQ(t["le"]["class_counts"]["b"], 0);
    EXPECT_EQ(t["gt"]["class_counts"]["b"], 99);
    std::vector<double> p;
    Observation lo, hi;
    lo.add_numeric("x1", 2);
    hi.add_numeric("x1", 8);
    m->predict_proba(lo, p);
    EXPECT_EQ(p, (std::vector<double>{1, 0}));
    m->predict_proba(hi, p);
    EXPECT_EQ(p, (std::vector<double>{0, 1}));
}

TEST(HoeffdingTree, NoSplitWithinTheBoundOrBeforeTheGracePeriod) {
    // Labels independent of the feature: the gain stays far below the bound (0.2 bits at 200).
    auto m = tree(R"({"model": "hoeffding_tree_classifier", "grace_period": 50})");
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < 400; i++) {
        Observation o;
        o.add_numeric("x", u(rng));
        m->learn(o, Label::of_text(u(rng) < 0.5 ? "a" : "b"));
    }
    EXPECT_EQ(m->info()["n_leaves"], 1);
    // A larger tau ties: the bound (about 0.18 at 300 examples) is below tau, so it splits.
    auto t = tree(R"({"model": "hoeffding_tree_classifier", "grace_period": 300, "tau": 0.5})");
    for (int i = 0; i < 300; i++) {
        Observation o;
        o.add_numeric("x", u(rng));
        t->learn(o, Label::of_text(u(rng) < 0.5 ? "a" : "b"));
    }
    EXPECT_EQ(t->info()["n_leaves"], 2);
}

TEST(HoeffdingTree, CategoricalSplitIsValueVersusRest) {
    auto m = tree(R"({"model": "hoeffding_tree_classifier", "leaf_prediction": "mc"})");
    const char* colors[] = {"red", "green", "blue"};
    for (int i = 0; i < 200; i++) {
        Observation o;
        o.add_category("color", colors[i % 3]);
        m->learn(o, Label::of_text(i % 3 == 0 ? "stop" : "go"));
    }
    const auto t = m->to_json()["state"]["tree"];
    ASSERT_TRUE(t.contains("feature"));
    EXPECT_EQ(t["feature"], "color=red");
    EXPECT_EQ(t["is"]["class_counts"]["stop"], 67);
    EXPECT_EQ(t["is_not"]["class_counts"]["go"], 133);
    Observation red, blue, none;
    red.add_category("color", "red");
    blue.add_category("color", "blue");
    std::vector<double> p;
    m->predict_proba(red, p);
    EXPECT_EQ(m->classes()[p[0] > p[1] ? 0 : 1], "stop");
    m->predict_proba(blue, p);
    EXPECT_EQ(m->classes()[p[0] > p[1] ? 0 : 1], "go");
    m->predict_proba(none, p);  // no color: the rest
    EXPECT_EQ(m->classes()[p[0] > p[1] ? 0 : 1], "go");
}

TEST(HoeffdingTree, MaxDepthStopsGrowth) {
    auto m = tree(R"({"model": "hoeffding_tree_classifier", "max_depth": 1, "grace_period": 20})");
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < 5000; i++) {
        Observation o;
        const double a = u(rng), b = u(rng);
        o.add_numeric("a", a);
        o.add_numeric("b", b);
        m->learn(o, Label::of_text(a + b > 1 ? "x" : "y"));
    }
    // The root split; its children, at depth 1, stopped observing.
    const auto info = m->info();
    EXPECT_EQ(info["depth"].get<int>(), 1);
    EXPECT_EQ(info["n_leaves"].get<int>(), 2);
    EXPECT_EQ(info["n_active_leaves"].get<int>(), 0);
}

TEST(HoeffdingTree, NaiveBayesLeavesUseTheFeatures) {
    // Before any split (a grace period longer than the stream), majority-class leaves predict the
    // prior and naive-Bayes leaves the class whose Gaussian fits x.
    for (const char* lp : {"mc", "nb", "nba"}) {
        auto m = tree(std::string(R"({"model": "hoeffding_tree_classifier", "grace_period": 100000, "leaf_prediction": ")") + lp + "\"}");
        for (int i = 0; i < 300; i++) {
            Observation o;
            const bool b = i % 3 == 0;  // "b" a third of the time, at x near 5
            o.add_numeric("x", (b ? 5 : 0) + (i % 7) * 0.1);
            m->learn(o, Label::of_text(b ? "b" : "a"));
        }
        Observation o;
        o.add_numeric("x", 5.2);
        std::vector<double> p;
        m->predict_proba(o, p);
        const size_t a = m->classes()[0] == "a" ? 0 : 1, b = 1 - a;
        if (std::string(lp) == "mc") {
            EXPECT_NEAR(p[a], 200.0 / 300, 1e-12);
        } else {
            EXPECT_GT(p[b], 0.99) << lp;
        }
    }
}

// ---- the stored forms ----------------------------------------------------------------------------

std::unique_ptr<Model> grown_tree() {
    auto m = tree(R"({"model": "hoeffding_tree_classifier", "grace_period": 50, "max_depth": 6})");
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
        const char* y = a + b > 1 ? (c == 0 ? "p" : "q") : "r";
        m->learn(o, Label::of_text(y));
    }
    return m;
}

TEST(HoeffdingTree, BinaryAndJsonRoundTripsGiveTheSameBytes) {
    auto m = grown_tree();
    ASSERT_GT(m->info()["n_leaves"].get<int>(), 3);
    const auto b = bytes_of(*m);
    auto d = core::decode_model(b.data(), b.size());
    EXPECT_EQ(bytes_of(*d), b);
    const std::string text = m->to_text();
    auto j = core::model_from_text(text.data(), text.size());
    EXPECT_EQ(bytes_of(*j), b);
    EXPECT_EQ(j->to_text(), text);
    // The size ml_info reports is what is written.
    EXPECT_EQ(m->info()["size_bytes"].get<size_t>(), b.size());
    // Both copies go on learning alike.
    Observation o;
    o.add_numeric("a", 0.9);
    o.add_numeric("b", 0.8);
    o.add_category("color", "red");
    for (int i = 0; i < 100; i++) {
        m->learn(o, Label::of_text("p"));
        d->learn(o, Label::of_text("p"));
    }
    EXPECT_EQ(bytes_of(*d), bytes_of(*m));
    std::vector<double> p1, p2;
    m->predict_proba(o, p1);
    d->predict_proba(o, p2);
    EXPECT_EQ(p1, p2);
}

TEST(HoeffdingTree, TreeBytesCountedAsWritten) {
    auto m = grown_tree();
    // tree_bytes is kept up to date as the tree grows; a decoded copy recounts it from scratch.
    const auto b = bytes_of(*m);
    auto d = core::decode_model(b.data(), b.size());
    EXPECT_EQ(m->info()["tree_bytes"], d->info()["tree_bytes"]);
}

TEST(HoeffdingTree, MemoryBudgetStopsGrowthButKeepsLearning) {
    // A budget of 1 KiB: the tree deactivates its least promising leaves to stay within it; it
    // still learns (its class counts) and predicts, and stays storable.
    std::mt19937_64 rng(13);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<Observation> xs(22000);
    std::vector<const char*> ys(xs.size());
    for (size_t i = 0; i < xs.size(); i++) {
        const double a = u(rng), b = u(rng);
        for (int f = 0; f < 4; f++) xs[i].add_numeric("f" + std::to_string(f), f == 0 ? a : f == 1 ? b : u(rng));
        ys[i] = a * a + b > 0.7 ? "in" : "out";
    }
    auto m = tree(R"({"model": "hoeffding_tree_classifier", "grace_period": 20, "max_size": 0.001})");
    auto big = tree(R"({"model": "hoeffding_tree_classifier", "grace_period": 20})");
    for (size_t i = 0; i < 20000; i++) {
        m->learn(xs[i], Label::of_text(ys[i]));
        big->learn(xs[i], Label::of_text(ys[i]));
    }
    const auto info = m->info();
    EXPECT_EQ(info["n_seen"], 20000);
    EXPECT_LT(info["n_active_leaves"].get<int>(), info["n_leaves"].get<int>());
    EXPECT_LE(info["tree_bytes"].get<double>(), 0.001 * 1024 * 1024);
    const auto before = m->to_json()["state"]["tree"];
    const auto b = bytes_of(*m);
    auto d = core::decode_model(b.data(), b.size());
    EXPECT_EQ(bytes_of(*d), b);
    // Learning goes on in the leaves' counts; the shape stays.
    const int nodes = info["n_nodes"].get<int>();
    for (size_t i = 20000; i < xs.size(); i++) m->learn(xs[i], Label::of_text(ys[i]));
    EXPECT_EQ(m->info()["n_nodes"].get<int>(), nodes);
    EXPECT_NE(m->to_json()["state"]["tree"], before);
    std::vector<double> p;
    m->predict_proba(xs[0], p);
    EXPECT_EQ(p.size(), 2u);
    // The same stream with budget to spare grows a larger tree.
    EXPECT_GT(big->info()["n_nodes"].get<int>(), nodes);
    EXPECT_TRUE(big->info()["growth_allowed"].get<bool>());
    EXPECT_EQ(big->info()["n_active_leaves"], big->info()["n_leaves"]);
    // A budget smaller than one leaf with its four observers (397 bytes): the root stops
    // observing at once and the tree stops growing for good; it still counts and predicts.
    auto tiny = tree(R"({"model": "hoeffding_tree_classifier", "grace_period": 20, "max_size": 0.0002})");
    for (size_t i = 0; i < 5000; i++) tiny->learn(xs[i], Label::of_text(ys[i]));
    const auto ti = tiny->info();
    EXPECT_FALSE(ti["growth_allowed"].get<bool>());
    EXPECT_EQ(ti["n_nodes"], 1);
    EXPECT_EQ(ti["n_active_leaves"], 0);
    EXPECT_EQ(ti["n_seen"], 5000);
    const auto counts = tiny->to_json()["state"]["tree"]["class_counts"];
    EXPECT_EQ(counts["in"].get<double>() + counts["out"].get<double>(), 5000);
    tiny->predict_proba(xs[1], p);
    EXPECT_NEAR(p[0] + p[1], 1.0, 1e-15);
    const auto tb = bytes_of(*tiny);
    EXPECT_EQ(bytes_of(*core::decode_model(tb.data(), tb.size())), tb);
}

TEST(HoeffdingTree, RefusesMerging) {
    auto a = grown_tree(), b = grown_tree();
    EXPECT_FALSE(a->can_merge());
    const auto before = bytes_of(*a);
    const std::string msg = expect_error(ErrorKind::InvalidParameter, [&] { a->merge(*b); });
    EXPECT_NE(msg.find("cannot merge"), std::string::npos) << msg;
    EXPECT_EQ(bytes_of(*a), before);
}

// ---- bad input -----------------------------------------------------------------------------------

TEST(HoeffdingTree, StrictOptions) {
    auto m = tree(R"({"model": "hoeffding_tree_classifier"})");
    const auto spec = m->info()["spec"];
    EXPECT_EQ(spec["grace_period"], 200);
    EXPECT_EQ(spec["delta"], 1e-7);
    EXPECT_EQ(spec["tau"], 0.05);
    EXPECT_EQ(spec["leaf_prediction"], "nba");
    EXPECT_EQ(spec["split_criterion"], "info_gain");
    EXPECT_EQ(spec["max_size"], 100);
    EXPECT_EQ(spec["splitter"], "histogram");
    EXPECT_EQ(spec["n_bins"], 8);
    EXPECT_EQ(m->info()["task"], "multiclass");
    for (const char* bad : {R"({"model": "hoeffding_tree_classifier", "grace": 5})",
                            R"({"model": "hoeffding_tree_classifier", "grace_period": 0})",
                            R"({"model": "hoeffding_tree_classifier", "grace_period": 1.5})",
                            R"({"model": "hoeffding_tree_classifier", "delta": 0})",
                            R"({"model": "hoeffding_tree_classifier", "delta": 1})",
                            R"({"model": "hoeffding_tree_classifier", "tau": -0.1})",
                            R"({"model": "hoeffding_tree_classifier", "max_depth": 0})",
                            R"({"model": "hoeffding_tree_classifier", "max_depth": 51})",
                            R"({"model": "hoeffding_tree_classifier", "split_criterion": "entropy"})",
                            R"({"model": "hoeffding_tree_classifier", "leaf_prediction": "mean"})",
                            R"({"model": "hoeffding_tree_classifier", "max_size": 0})",
                            R"({"model": "hoeffding_tree_classifier", "n_splits": 0})",
                            R"({"model": "hoeffding_tree_classifier", "n_bins": 1})",
                            R"({"model": "hoeffding_tree_classifier", "n_bins": 1025})",
                            R"({"model": "hoeffding_tree_classifier", "splitter": "exhaustive"})"}) {
        const std::string text = bad;
        expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_text(text.data(), text.size()); });
    }
}

TEST(HoeffdingTree, RefusesBrokenStoredForms) {
    auto m = grown_tree();
    const auto good = bytes_of(*m);
    // Every truncation, and a flipped byte anywhere, is refused (never a crash).
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
    // JSON: a split on a feature the model does not know, a leaf with a bad count.
    auto j = m->to_json();
    auto bad = j;
    bad["state"]["tree"]["feature"] = "nope";
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(bad); });
    bad = j;
    bad["state"]["tree"]["class_counts"]["p"] = -1;
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(bad); });
    bad = j;
    bad["state"]["tree"]["extra"] = 1;
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(bad); });
    bad = j;
    bad["state"]["growth_allowed"] = "yes";
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(bad); });
}

TEST(HoeffdingTree, RefusesBrokenBins) {
    // A leaf (no split yet) with n_bins 3 sees x = 0, 1, 2 (class a), then 10, 11 (class b).
    // At 10 the narrowest union is [0, 1] (width 1, the first of two); at 11 it is [10, 11].
    auto m = tree(R"({"model": "hoeffding_tree_classifier", "n_bins": 3})");
    for (double x : {0, 1, 2, 10, 11}) {
        Observation o;
        o.add_numeric("x", x);
        m->learn(o, Label::of_text(x < 5 ? "a" : "b"));
    }
    const auto j = m->to_json();
    EXPECT_EQ(j["state"]["tree"]["bins"]["x"], nlohmann::json::parse("[[0, 1, 2, 0], [2, 2, 1, 0], [10, 11, 0, 2]]"));
    // The text form reads back to the same bytes.
    const std::string text = m->to_text();
    EXPECT_EQ(bytes_of(*core::model_from_text(text.data(), text.size())), bytes_of(*m));
    auto refused = [&](const nlohmann::json& b) {
        auto bad = j;
        bad["state"]["tree"]["bins"]["x"] = b;
        expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(bad); });
    };
    refused(nlohmann::json::parse("[[0, 2, 3, 0], [2, 10, 0, 1], [11, 11, 0, 1]]"));   // overlapping
    refused(nlohmann::json::parse("[[0, 2, 3, 0], [11, 11, 0, 1], [10, 10, 0, 1]]"));   // out of order
    refused(nlohmann::json::parse("[[0, 2, 3, 0], [10, 11, 0, 1]]"));                   // b: 1, not 2 values
    refused(nlohmann::json::parse("[[0, 2, 3, 0], [10, 10, 0, 1], [11, 11, 0, 1], [12, 12, 0, 0]]"));  // > n_bins
    refused(nlohmann::json::parse("[[0, 2, 3], [10, 10, 0, 1], [11, 11, 0, 1]]"));      // a weight short
    auto bad = j;
    bad["state"]["tree"].erase("bins");
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(bad); });
    // The same bins, valid, in another order of merging: accepted.
    auto good = j;
    good["state"]["tree"]["bins"]["x"] = nlohmann::json::parse("[[0, 0, 1, 0], [1, 2, 2, 0], [10, 11, 0, 2]]");
    EXPECT_EQ(core::model_from_json(good)->to_json()["state"]["tree"]["bins"]["x"].size(), 3u);
    // The Gaussian splitter keeps no bins.
    auto g = tree(R"({"model": "hoeffding_tree_classifier", "splitter": "gaussian"})");
    Observation o;
    o.add_numeric("x", 1);
    g->learn(o, Label::of_text("a"));
    EXPECT_FALSE(g->to_json()["state"]["tree"].contains("bins"));
    const auto gb = bytes_of(*g);
    EXPECT_EQ(bytes_of(*core::decode_model(gb.data(), gb.size())), gb);
}

TEST(HoeffdingTree, RefusesNumericLabelsAsRegression) {
    // A multiclass kind: a whole number is a class, a fraction is refused.
    auto m = tree(R"({"model": "hoeffding_tree_classifier"})");
    Observation o;
    o.add_numeric("x", 1);
    m->learn(o, Label::of_number(3));
    EXPECT_EQ(m->classes(), (std::vector<std::string>{"3"}));
    expect_error(ErrorKind::InvalidParameter, [&] { m->learn(o, Label::of_number(0.5)); });
    expect_error(ErrorKind::InvalidParameter, [&] { m->predict(o); });
}

}  // namespace
}  // namespace pg_learn::test
