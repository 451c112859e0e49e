// FeatureStats (the ml_stats value): moments against exact/NumPy references, quantiles within the
// certified rank error, merges, histograms, top-k and distinct counts, the binary and text forms.
#include "core/stats/feature_stats.hpp"
#include "test_util.hpp"
#include "core/common/xxhash.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <sstream>

namespace pg_learn::test {
namespace {

using core::FeatureStats;
using core::HistogramBin;
using core::StatsKind;
using nlohmann::json;

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

const json& reference() {
    static const json j = read_reference("expected_stats.json");
    return j;
}

::testing::AssertionResult rel(double got, double want, double tol, const std::string& what) {
    if (got == want || std::fabs(got - want) <= tol * std::fabs(want)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ": got " << std::setprecision(17) << got << ", want " << want
                                         << " (relative " << std::fabs(got - want) / std::fabs(want) << ")";
}

std::vector<double> values_of(const json& c) { return c["values"].get<std::vector<double>>(); }

FeatureStats numeric_of(const std::vector<double>& xs, size_t from = 0, size_t to = SIZE_MAX) {
    FeatureStats s(StatsKind::Numeric);
    for (size_t i = from; i < std::min(to, xs.size()); i++) s.add(xs[i]);
    return s;
}

// A generator whose output does not depend on the standard library's distributions.
using Rng = SplitMix64Rng;

// Distance from q to the interval of true (normalized) ranks that value v occupies.
double rank_distance(const std::vector<double>& sorted, double v, double q) {
    const double n = double(sorted.size());
    const double lo = double(std::lower_bound(sorted.begin(), sorted.end(), v) - sorted.begin()) / n;
    const double hi = double(std::upper_bound(sorted.begin(), sorted.end(), v) - sorted.begin()) / n;
    return q < lo ? lo - q : q > hi ? q - hi : 0.0;
}

// ---- moments --------------------------------------------------------------------------------

TEST(FeatureStats, MomentsMatchExactAndNumPyReferences) {
    const json& ref = reference();
    std::vector<std::string> inexact = ref["numpy_inexact"].get<std::vector<std::string>>();
    ASSERT_GE(ref["datasets"].size(), 13u);
    for (const json& c : ref["datasets"]) {
        const std::string name = c["name"];
        SCOPED_TRACE(name);
        const std::vector<double> xs = values_of(c);
        const FeatureStats s = numeric_of(xs);
        EXPECT_EQ(s.count(), c["count"].get<uint64_t>());
        EXPECT_EQ(s.finite_count(), xs.size());
        EXPECT_EQ(s.zero_count(), c["zeros"].get<uint64_t>());
        EXPECT_EQ(s.null_count(), 0u);
        EXPECT_EQ(*s.min(), c["min"].get<double>());
        EXPECT_EQ(*s.max(), c["max"].get<double>());
        EXPECT_TRUE(rel(*s.mean(), c["mean"].get<double>(), 1e-9, "mean vs exact"));
        if (c["variance"].is_null()) {
            EXPECT_FALSE(s.variance().has_value());
            EXPECT_FALSE(s.stddev().has_value());
        } else {
            EXPECT_TRUE(rel(*s.variance(), c["variance"].get<double>(), 1e-9, "variance vs exact"));
            EXPECT_TRUE(rel(*s.stddev(), c["stddev"].get<double>(), 1e-9, "stddev vs exact"));
        }
        for (const char* key : {"mean", "variance", "stddev"}) {
            if (c[key].is_null()) continue;
            if (std::find(inexact.begin(), inexact.end(), name + "." + key) != inexact.end()) continue;
            const double got = std::string(key) == "mean" ? *s.mean() : std::string(key) == "variance" ? *s.variance() : *s.stddev();
            const double np = c[std::string("numpy_") + key].get<double>();
            // NumPy's own rounding on a constant column (its stddev is 8.9e-16, ours exactly 0).
            if (c[key].get<double>() == 0.0) EXPECT_LE(std::fabs(np), 1e-9) << key;
            else EXPECT_TRUE(rel(got, np, 1e-9, std::string(key) + " vs NumPy"));
        }
    }
}

TEST(FeatureStats, ConstantColumnHasZeroVarianceExactly) {
    FeatureStats s(StatsKind::Numeric);
    for (int i = 0; i < 100000; i++) s.add(3.14159);
    EXPECT_EQ(*s.mean(), 3.14159);
    EXPECT_EQ(*s.variance(), 0.0);
    EXPECT_EQ(*s.stddev(), 0.0);
}

TEST(FeatureStats, MergeOfSplitStreamsEqualsOnePass) {
    for (const json& c : reference()["datasets"]) {
        const std::string name = c["name"];
        SCOPED_TRACE(name);
        const std::vector<double> xs = values_of(c);
        const FeatureStats one = numeric_of(xs);
        // Uneven chunks, merged left to right.
        const size_t cuts[] = {0, 1, 8, 333, 1000, 1001, 1999, SIZE_MAX};
        FeatureStats seq(StatsKind::Numeric);
        for (size_t i = 0; i + 1 < std::size(cuts); i++) seq.merge(numeric_of(xs, cuts[i], cuts[i + 1]));
        // And as a balanced tree of 16 parts.
        std::vector<FeatureStats> parts;
        for (size_t p = 0; p < 16; p++) parts.push_back(numeric_of(xs, xs.size() * p / 16, xs.size() * (p + 1) / 16));
        while (parts.size() > 1) {
            std::vector<FeatureStats> next;
            for (size_t i = 0; i < parts.size(); i += 2) {
                next.push_back(parts[i]);
                next.back().merge(parts[i + 1]);
            }
            parts.swap(next);
        }
        for (const FeatureStats* m : {&seq, &parts[0]}) {
            EXPECT_EQ(m->count(), one.count());
            EXPECT_EQ(m->zero_count(), one.zero_count());
            EXPECT_EQ(*m->min(), *one.min());
            EXPECT_EQ(*m->max(), *one.max());
            EXPECT_TRUE(rel(*m->mean(), *one.mean(), 1e-12, "merged mean vs one pass"));
            EXPECT_TRUE(rel(*m->mean(), c["mean"].get<double>(), 1e-9, "merged mean vs exact"));
            if (xs.size() >= 2) {
                EXPECT_TRUE(rel(*m->variance(), *one.variance(), 1e-9, "merged variance vs one pass"));
                EXPECT_TRUE(rel(*m->variance(), c["variance"].get<double>(), 1e-9, "merged variance vs exact"));
            }
            EXPECT_EQ(m->quantile_sketch().n(), xs.size());
        }
    }
}

// ---- quantiles ------------------------------------------------------------------------------

TEST(FeatureStats, QuantilesEqualPercentileDiscWhileExact) {
    const std::vector<double> qs = reference()["quantile_qs"].get<std::vector<double>>();
    for (const json& c : reference()["datasets"]) {
        SCOPED_TRACE(c["name"].get<std::string>());
        const std::vector<double> xs = values_of(c);
        const FeatureStats s = numeric_of(xs, 0, 400);
        ASSERT_EQ(s.rank_error_bound(), 0.0);  // nothing compacted yet: exact
        const std::vector<double> want = c["quantiles_head400"].get<std::vector<double>>();
        const auto got = s.quantiles(qs);
        ASSERT_TRUE(got.has_value());
        for (size_t i = 0; i < qs.size(); i++) {
            EXPECT_EQ((*got)[i], want[i]) << "q = " << qs[i];
            EXPECT_EQ(*s.quantile(qs[i]), want[i]) << "q = " << qs[i];
        }
        // All values: within the certified bound of the sketch at hand.
        const FeatureStats all = numeric_of(xs);
        std::vector<double> sorted = xs;
        std::sort(sorted.begin(), sorted.end());
        const double eps = all.rank_error_bound(0.01);
        const std::vector<double> np = c["quantiles"].get<std::vector<double>>();
        for (size_t i = 0; i < qs.size(); i++) {
            const double v = *all.quantile(qs[i]);
            EXPECT_LE(rank_distance(sorted, v, qs[i]), eps) << "q = " << qs[i];
            EXPECT_LE(rank_distance(sorted, np[i], qs[i]), 0.0) << "NumPy's own quantile, q = " << qs[i];
        }
        EXPECT_EQ(*all.quantile(0.0), c["min"].get<double>());
        EXPECT_EQ(*all.quantile(1.0), c["max"].get<double>());
    }
}

TEST(FeatureStats, MillionLognormalQuantilesWithinCertifiedBound) {
    Rng g(7);
    std::vector<double> xs(1000000);
    for (auto& x : xs) x = std::exp(2.0 * g.normal());
    std::vector<double> sorted = xs;
    std::sort(sorted.begin(), sorted.end());
    std::vector<double> qs;
    for (int i = 0; i <= 1000; i++) qs.push_back(i / 1000.0);

    auto check = [&](const FeatureStats& s, const char* what) {
        SCOPED_TRACE(what);
        const double eps = s.rank_error_bound(0.01);
        EXPECT_GT(eps, 0.0);
        EXPECT_LE(eps, 0.01);  // the 1% at the default size
        const auto vs = s.quantiles(qs);
        ASSERT_TRUE(vs.has_value());
        double worst = 0;
        for (size_t i = 0; i < qs.size(); i++) worst = std::max(worst, rank_distance(sorted, (*vs)[i], qs[i]));
        EXPECT_LE(worst, eps);
        // The equal-count histogram's edges are those quantiles: each bin holds about 1/20.
        const auto bins = s.histogram_equal_count(20);
        ASSERT_EQ(bins.size(), 20u);
        for (const HistogramBin& b : bins) {
            const double truth = double(std::upper_bound(sorted.begin(), sorted.end(), b.hi) -
                                        (b.lo == sorted.front() ? sorted.begin()
                                                                : std::upper_bound(sorted.begin(), sorted.end(), b.lo)));
            EXPECT_LE(std::fabs(double(b.count) - truth), 2 * eps * double(xs.size()));
            EXPECT_NEAR(b.fraction, 0.05, 2 * eps);
        }
    };
    const FeatureStats one = numeric_of(xs);
    check(one, "one stream");
    FeatureStats merged(StatsKind::Numeric);
    for (size_t p = 0; p < 10; p++) merged.merge(numeric_of(xs, xs.size() * p / 10, xs.size() * (p + 1) / 10));
    check(merged, "ten parts merged");
    const FeatureStats decoded = FeatureStats::decode(one.encode());
    check(decoded, "decoded");
    EXPECT_EQ(decoded.quantiles(qs), one.quantiles(qs));
}

// ---- special values -------------------------------------------------------------------------

TEST(FeatureStats, NullNanAndInfinitiesAreCountedNotAveraged) {
    FeatureStats s(StatsKind::Numeric);
    for (double x : {1.0, kNaN, 2.0, kInf, 0.0, -kInf, kInf, 3.0, -0.0}) s.add(x);
    s.add_null();
    s.add_null();
    EXPECT_EQ(s.count(), 9u);  // non-NULL, as count(x)
    EXPECT_EQ(s.null_count(), 2u);
    EXPECT_EQ(s.nan_count(), 1u);
    EXPECT_EQ(s.pos_inf_count(), 2u);
    EXPECT_EQ(s.neg_inf_count(), 1u);
    EXPECT_EQ(s.zero_count(), 2u);
    EXPECT_EQ(s.finite_count(), 5u);
    EXPECT_DOUBLE_EQ(*s.mean(), 1.2);  // (1 + 2 + 0 + 3 + 0) / 5
    EXPECT_DOUBLE_EQ(*s.variance(), 1.7);  // hand: squares 0.04+0.64+1.44+3.24+1.44 = 6.8, / 4
    EXPECT_EQ(*s.min(), -0.0);
    EXPECT_EQ(*s.max(), 3.0);
    // Quantiles order the infinities with the rest (8 non-NaN values), as percentile_disc would.
    EXPECT_EQ(*s.quantile(0.0), -kInf);
    EXPECT_EQ(*s.quantile(1.0), kInf);
    EXPECT_EQ(*s.quantile(0.5), 1.0);  // -inf, -0, 0, 1 | 2, 3, inf, inf
    // Histograms cover the finite values only.
    const auto h = s.histogram(3);  // [-0, 1] (1, 2] (2, 3]
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h[0].count, 3u);
    EXPECT_EQ(h[1].count, 1u);
    EXPECT_EQ(h[2].count, 1u);
    EXPECT_DOUBLE_EQ(h[0].fraction, 0.6);
}

TEST(FeatureStats, EmptyNullOnlyAndSingleValue) {
    FeatureStats e(StatsKind::Numeric);
    EXPECT_EQ(e.count(), 0u);
    EXPECT_FALSE(e.mean() || e.variance() || e.stddev() || e.min() || e.max() || e.quantile(0.5));
    EXPECT_FALSE(e.quantiles({0.1, 0.9}).has_value());
    EXPECT_TRUE(e.histogram(5).empty());
    EXPECT_TRUE(e.histogram_equal_count(5).empty());
    e.add_null();
    EXPECT_EQ(e.null_count(), 1u);
    EXPECT_FALSE(e.mean().has_value());
    EXPECT_EQ(FeatureStats::decode(e.encode()), e);
    FeatureStats only_nan(StatsKind::Numeric);
    only_nan.add(kNaN);
    EXPECT_FALSE(only_nan.mean() || only_nan.quantile(0.5));
    FeatureStats only_inf(StatsKind::Numeric);
    only_inf.add(kInf);
    EXPECT_FALSE(only_inf.mean().has_value());
    EXPECT_EQ(*only_inf.quantile(0.5), kInf);
    EXPECT_TRUE(only_inf.histogram(4).empty());
    EXPECT_EQ(FeatureStats::decode(only_inf.encode()), only_inf);
    EXPECT_EQ(FeatureStats::from_text(only_inf.to_text()), only_inf);

    FeatureStats one(StatsKind::Numeric);
    one.add(-7.5);
    EXPECT_EQ(*one.mean(), -7.5);
    EXPECT_FALSE(one.variance().has_value());  // as SQL's variance() of one row
    EXPECT_EQ(*one.quantile(0.3), -7.5);
    const auto h = one.histogram(10);
    ASSERT_EQ(h.size(), 1u);  // a constant column: one bin
    EXPECT_EQ(h[0].lo, -7.5);
    EXPECT_EQ(h[0].hi, -7.5);
    EXPECT_EQ(h[0].count, 1u);
}

TEST(FeatureStats, BadArguments) {
    FeatureStats s(StatsKind::Numeric);
    s.add(1.0);
    for (double q : {-0.1, 1.5, kNaN}) expect_error(ErrorKind::InvalidParameter, [&] { s.quantile(q); });
    expect_error(ErrorKind::InvalidParameter, [&] { s.quantiles({0.5, 2.0}); });
    expect_error(ErrorKind::InvalidParameter, [&] { FeatureStats(StatsKind::Numeric).quantile(-1); });
    expect_error(ErrorKind::InvalidParameter, [&] { s.histogram(0); });
    expect_error(ErrorKind::InvalidParameter, [&] { s.histogram_equal_count(core::kStatsMaxBins + 1); });
    FeatureStats c(StatsKind::Categorical);
    c.add(std::string_view("a"));
    // The wrong kind: a clear InvalidParameter naming both kinds.
    const std::string msg = expect_error(ErrorKind::InvalidParameter, [&] { c.quantile(0.5); });
    EXPECT_NE(msg.find("numeric"), std::string::npos) << msg;
    expect_error(ErrorKind::InvalidParameter, [&] { c.mean(); });
    expect_error(ErrorKind::InvalidParameter, [&] { c.histogram(3); });
    expect_error(ErrorKind::InvalidParameter, [&] { c.add(1.0); });
    expect_error(ErrorKind::InvalidParameter, [&] { s.top_k(); });
    expect_error(ErrorKind::InvalidParameter, [&] { s.distinct(); });
    expect_error(ErrorKind::InvalidParameter, [&] { s.add(std::string_view("x")); });
    expect_error(ErrorKind::InvalidParameter, [&] { s.merge(c); });
    expect_error(ErrorKind::InvalidParameter, [&] { c.merge(s); });
}

// ---- histograms -----------------------------------------------------------------------------

TEST(FeatureStats, HistogramsByHand) {
    FeatureStats s(StatsKind::Numeric);
    for (int i = 1; i <= 10; i++) s.add(double(i));
    s.add(-kInf);
    s.add(kInf);
    s.add(kNaN);
    auto h = s.histogram(2);  // [1, 5.5] (5.5, 10]
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0].lo, 1.0);
    EXPECT_EQ(h[0].hi, 5.5);
    EXPECT_EQ(h[0].count, 5u);
    EXPECT_EQ(h[1].lo, 5.5);
    EXPECT_EQ(h[1].hi, 10.0);
    EXPECT_EQ(h[1].count, 5u);
    h = s.histogram(3);  // [1, 4] (4, 7] (7, 10]
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h[1].lo, 4.0);
    EXPECT_EQ(h[1].hi, 7.0);
    EXPECT_EQ(h[0].count, 4u);
    EXPECT_EQ(h[1].count, 3u);
    EXPECT_EQ(h[2].count, 3u);
    EXPECT_DOUBLE_EQ(h[0].fraction, 0.4);
    h = s.histogram_equal_count(2);  // median of 1..10 (percentile_disc) is 5
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0].lo, 1.0);
    EXPECT_EQ(h[0].hi, 5.0);
    EXPECT_EQ(h[0].count, 5u);
    EXPECT_EQ(h[1].count, 5u);
    h = s.histogram_equal_count(5);  // edges 1, 2, 4, 6, 8, 10
    ASSERT_EQ(h.size(), 5u);
    const double edges[] = {1, 2, 4, 6, 8, 10};
    const uint64_t counts[] = {2, 2, 2, 2, 2};
    for (size_t i = 0; i < 5; i++) {
        EXPECT_EQ(h[i].lo, edges[i]);
        EXPECT_EQ(h[i].hi, edges[i + 1]);
        EXPECT_EQ(h[i].count, counts[i]);
    }
    // Ties: 90% zeros. Equal-count edges coincide and their bins are joined.
    FeatureStats z(StatsKind::Numeric);
    for (int i = 0; i < 90; i++) z.add(0.0);
    for (int i = 1; i <= 10; i++) z.add(double(i));
    h = z.histogram_equal_count(10);  // edges 0 x 9, then 1: [0, 0] (0, 10]
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0].hi, 0.0);
    EXPECT_EQ(h[0].count, 90u);
    EXPECT_EQ(h[1].count, 10u);
}

TEST(FeatureStats, HistogramMatchesBruteForceWithinBound) {
    Rng g(11);
    std::vector<double> xs(300000);
    for (auto& x : xs) x = g.normal() * 3.0 + 100.0;
    const FeatureStats s = numeric_of(xs);
    const double eps = s.rank_error_bound(0.01);
    const auto h = s.histogram(25);
    ASSERT_EQ(h.size(), 25u);
    uint64_t total = 0;
    for (size_t i = 0; i < h.size(); i++) {
        uint64_t truth = 0;
        for (double x : xs) truth += (i == 0 ? x >= h[i].lo : x > h[i].lo) && x <= h[i].hi;
        EXPECT_LE(std::fabs(double(h[i].count) - double(truth)), 2 * eps * double(xs.size())) << "bin " << i;
        total += h[i].count;
        if (i) {
            EXPECT_EQ(h[i].lo, h[i - 1].hi);
        }
    }
    EXPECT_EQ(total, xs.size());  // counts always add up to the finite values
    EXPECT_EQ(h.front().lo, *s.min());
    EXPECT_EQ(h.back().hi, *s.max());
}

TEST(FeatureStats, HugeRangeHistogramDoesNotOverflow) {
    FeatureStats s(StatsKind::Numeric);
    for (double x : {-1.5e308, -1e308, 0.0, 1e308, 1.7e308}) s.add(x);
    const auto h = s.histogram(4);
    ASSERT_EQ(h.size(), 4u);
    uint64_t total = 0;
    for (const auto& b : h) {
        EXPECT_TRUE(std::isfinite(b.lo) && std::isfinite(b.hi));
        EXPECT_LE(b.lo, b.hi);
        total += b.count;
    }
    EXPECT_EQ(total, 5u);
}

// ---- categorical ----------------------------------------------------------------------------

TEST(FeatureStats, CategoricalSmallIsExact) {
    FeatureStats s(StatsKind::Categorical);
    const char* vs[] = {"red", "green", "red", "blue", "red", "green", "", "é"};
    for (const char* v : vs) s.add(std::string_view(v));
    s.add_null();
    EXPECT_EQ(s.count(), 8u);
    EXPECT_EQ(s.null_count(), 1u);
    EXPECT_TRUE(s.distinct_is_exact());
    EXPECT_EQ(s.distinct(), 5u);
    const auto top = s.top_k();
    ASSERT_EQ(top.size(), 5u);
    EXPECT_EQ(top[0].value, "red");
    EXPECT_EQ(top[0].count, 3u);
    EXPECT_EQ(top[0].error, 0u);
    EXPECT_DOUBLE_EQ(top[0].fraction, 3.0 / 8.0);
    EXPECT_EQ(top[1].value, "green");
    EXPECT_EQ(top[2].value, "");  // ties by bytes: "" < "blue" < "é"
    EXPECT_EQ(top[3].value, "blue");
    EXPECT_EQ(top[4].value, "é");
    EXPECT_EQ(s.top_k_unlisted_bound(), 0u);
    const auto j = s.summary();
    EXPECT_EQ(j["kind"], "categorical");
    EXPECT_EQ(j["distinct"], 5);
    EXPECT_EQ(j["top_k"][0]["value"], "red");
}

TEST(FeatureStats, CategoricalZipfTopKAndDistinct) {
    Rng g(3);
    // Zipf(1.1) over 20,000 values, by inverse CDF on the exact weights.
    const size_t V = 20000, N = 400000;
    std::vector<double> cdf(V);
    double acc = 0;
    for (size_t i = 0; i < V; i++) cdf[i] = acc += 1.0 / std::pow(double(i + 1), 1.1);
    std::map<std::string, uint64_t> truth;
    FeatureStats s(StatsKind::Categorical);
    std::vector<FeatureStats> parts(4, FeatureStats(StatsKind::Categorical));
    for (size_t i = 0; i < N; i++) {
        const size_t k = size_t(std::lower_bound(cdf.begin(), cdf.end(), g.uniform() * acc) - cdf.begin());
        const std::string v = "v" + std::to_string(k);
        truth[v]++;
        s.add(std::string_view(v));
        parts[i % 4].add(std::string_view(v));
    }
    FeatureStats merged = parts[0];
    for (size_t p = 1; p < 4; p++) merged.merge(parts[p]);
    for (const FeatureStats* x : {&s, &merged}) {
        EXPECT_EQ(x->count(), N);
        EXPECT_FALSE(x->distinct_is_exact());
        const double d = double(truth.size());
        // HyperLogLog at p = 14: relative standard error 0.81%; allow 3 sigma.
        EXPECT_NEAR(double(x->distinct()), d, 3 * 0.0081 * d);
        const auto top = x->top_k();
        ASSERT_EQ(top.size(), 64u);
        for (const auto& e : top) {
            const uint64_t f = truth[e.value];
            EXPECT_LE(e.count - e.error, f) << e.value;
            EXPECT_GE(e.count, f) << e.value;
        }
        for (int r = 0; r < 5; r++) EXPECT_EQ(top[r].value, "v" + std::to_string(r));
        EXPECT_LE(x->top_k_unlisted_bound(), N / 64);
    }
}

// ---- determinism, binary and text forms -----------------------------------------------------

std::vector<FeatureStats> samples() {
    std::vector<FeatureStats> out;
    out.emplace_back(StatsKind::Numeric);  // empty
    FeatureStats a(StatsKind::Numeric);
    Rng g(5);
    for (int i = 0; i < 5000; i++) a.add(g.normal() * 1e8 + 1e-3);
    for (double x : {kNaN, kInf, -kInf, 0.0, -0.0}) a.add(x);
    a.add_null();
    out.push_back(a);
    FeatureStats b(StatsKind::Numeric);
    b.add(0.1);
    out.push_back(b);
    out.emplace_back(StatsKind::Categorical);
    FeatureStats c(StatsKind::Categorical);
    for (int i = 0; i < 3000; i++) c.add(std::string_view("value " + std::to_string(i % 700 * i % 97)));
    c.add_null();
    out.push_back(c);
    return out;
}

TEST(FeatureStats, DeterministicForTheSameInputOrder) {
    const auto a = samples(), b = samples();
    for (size_t i = 0; i < a.size(); i++) {
        EXPECT_EQ(a[i].encode(), b[i].encode());
        EXPECT_EQ(a[i].to_text(), b[i].to_text());
    }
}

TEST(FeatureStats, BinaryAndTextRoundTripsAreExact) {
    for (const FeatureStats& s : samples()) {
        const std::string bin = s.encode();
        ASSERT_EQ(bin.size(), s.encoded_size());
        std::string raw(s.encoded_size(), '\0');
        s.encode(reinterpret_cast<uint8_t*>(raw.data()), raw.size());
        EXPECT_EQ(raw, bin);
        const FeatureStats d = FeatureStats::decode(bin);
        EXPECT_EQ(d.encode(), bin);
        const std::string text = s.to_text();
        const FeatureStats t = FeatureStats::from_text(text);
        EXPECT_EQ(t.encode(), bin);
        EXPECT_EQ(t.to_text(), text);
        EXPECT_EQ(t.summary().dump(), s.summary().dump());
        // A decoded value goes on exactly as the original would.
        FeatureStats x = s, y = d;
        for (int i = 0; i < 3000; i++) {
            if (s.numeric()) {
                x.add(std::sin(i) * 1e3);
                y.add(std::sin(i) * 1e3);
            } else {
                x.add(std::string_view(std::to_string(i % 91)));
                y.add(std::string_view(std::to_string(i % 91)));
            }
        }
        EXPECT_EQ(x.encode(), y.encode());
    }
    // Doubles in the text form read back bit for bit.
    FeatureStats s(StatsKind::Numeric);
    for (double v : {0.1, 1.0 / 3.0, 5e-324, 1.7976931348623157e308, -2.2250738585072014e-308}) s.add(v);
    const FeatureStats t = FeatureStats::from_text(s.to_text());
    EXPECT_EQ(bits(*t.mean()), bits(*s.mean()));
    EXPECT_EQ(bits(t.moments().m2), bits(s.moments().m2));
    EXPECT_EQ(bits(*t.min()), bits(*s.min()));
}

// Header offsets of the documented binary form (docs/statistics.md).
constexpr size_t kLengthAt = 8, kChecksumAt = 16, kBodyAt = 24;

// Recomputes the checksum the way the format defines it, so a test can lie in a field and still
// reach the check of that field.
std::string reseal(std::string b) {
    const uint64_t head = core::xxh64(b.data(), kChecksumAt, 0x706C2D7374617473ull);
    const uint64_t sum = core::xxh64(b.data() + kBodyAt, b.size() - kBodyAt, head);
    std::memcpy(&b[kChecksumAt], &sum, 8);
    return b;
}

template <typename T>
std::string with(std::string b, size_t at, T v) {
    std::memcpy(&b[at], &v, sizeof v);
    return b;
}

template <typename T, typename U>
std::string with(std::string b, size_t at, T v, size_t at2, U v2) {
    return with(with(std::move(b), at, v), at2, v2);
}

#define decode_error(b) \
    ([&](const std::string& buf) { \
        SCOPED_TRACE(::testing::Message() << "line " << __LINE__); \
        return expect_error(ErrorKind::InvalidBinary, [&] { FeatureStats::decode(buf); }); \
    }(b))

TEST(FeatureStats, CorruptBinaryIsRejected) {
    for (const FeatureStats& s : samples()) {
        const std::string b = s.encode();
        ASSERT_EQ(FeatureStats::decode(reseal(b)).encode(), b);  // reseal is the format's checksum
        for (size_t len = 0; len < b.size(); len += (len < 200 ? 1 : 97)) decode_error(b.substr(0, len));
        decode_error(b + std::string(1, '\0'));
        EXPECT_NE(decode_error(with<char>(b, 0, 'X')).find("bad magic"), std::string::npos);
        EXPECT_NE(decode_error(with<uint16_t>(b, 4, 2)).find("version 2"), std::string::npos);
        EXPECT_NE(decode_error(with<uint8_t>(b, b.size() - 1, uint8_t(b.back() ^ 1))).find("checksum"),
                  std::string::npos);
        EXPECT_NE(decode_error(with<uint8_t>(b, 30, uint8_t(b[30] ^ 0x10))).find("checksum"), std::string::npos);
        // Lying fields, with a correct checksum so that the field's own check must catch them.
        EXPECT_NE(decode_error(reseal(with<uint32_t>(b, kLengthAt, uint32_t(b.size() + 8)))).find("length field"),
                  std::string::npos);
        EXPECT_NE(decode_error(reseal(with<uint8_t>(b, 6, 3))).find("kind"), std::string::npos);
        decode_error(reseal(with<uint8_t>(b, 6, s.numeric() ? 2 : 1)));  // the other kind's layout
        EXPECT_NE(decode_error(reseal(with<uint8_t>(b, 7, 1))).find("flags"), std::string::npos);
        EXPECT_NE(decode_error(reseal(with<uint32_t>(b, 12, 1))).find("reserved"), std::string::npos);
        if (s.numeric()) {
            const size_t lens = kBodyAt + 88;
            uint32_t len;
            std::memcpy(&len, &b[lens], 4);
            for (uint32_t lie : {len - 8, len + 8, 0u, 0xFFFFFFFFu})
                EXPECT_NE(decode_error(reseal(with<uint32_t>(b, lens, lie))).find("length"), std::string::npos) << lie;
            uint64_t finite;
            std::memcpy(&finite, &b[kBodyAt], 8);
            decode_error(reseal(with<uint64_t>(b, kBodyAt, finite + 1)));            // count vs sketch
            decode_error(reseal(with<uint64_t>(b, kBodyAt + 24, 1 + (s.pos_inf_count()))));  // +Inf count
            decode_error(reseal(with<uint64_t>(b, kBodyAt + 40, finite + 1)));       // zeros > finite
            decode_error(reseal(with<uint64_t>(b, kBodyAt + 16, 1, kBodyAt + 8, ~uint64_t(0))));  // overflow
            decode_error(reseal(with<double>(b, kBodyAt + 64, -1.0)));               // m2 < 0
            if (finite) {
                decode_error(reseal(with<double>(b, kBodyAt + 72, *s.max() + 1)));   // min > max
                // The finite min against the sketch's exact min (when no -Infinity hides it).
                if (!s.neg_inf_count()) decode_error(reseal(with<double>(b, kBodyAt + 72, *s.min() - 1)));
                decode_error(reseal(with<double>(b, kBodyAt + 80, kNaN)));           // max NaN
            } else {
                decode_error(reseal(with<double>(b, kBodyAt + 48, 1.0)));            // shift of nothing
                decode_error(reseal(with<double>(b, kBodyAt + 56, 1.0)));            // mean of nothing
            }
        } else {
            const size_t lens = kBodyAt + 16;
            uint32_t tlen, hlen;
            std::memcpy(&tlen, &b[lens], 4);
            std::memcpy(&hlen, &b[lens + 4], 4);
            EXPECT_NE(decode_error(reseal(with<uint32_t>(b, lens, tlen + 1))).find("length"), std::string::npos);
            decode_error(reseal(with<uint32_t>(b, lens, tlen - 1)));
            decode_error(reseal(with<uint32_t>(b, lens + 4, hlen + 1)));
            uint64_t count;
            std::memcpy(&count, &b[kBodyAt], 8);
            decode_error(reseal(with<uint64_t>(b, kBodyAt, count + 1)));  // count vs the top-k total
        }
    }
}

// Random bytes changed behind a recomputed checksum reach every field's own validation: each
// such buffer is refused with InvalidBinary or, when it happens to describe a valid value,
// decodes to a value that encodes and decodes stably. Never anything else (run under ASan).
TEST(FeatureStats, RandomCorruptionBehindAValidChecksum) {
    Rng g(99);
    size_t refused = 0, accepted = 0;
    for (const FeatureStats& s : samples()) {
        const std::string b = s.encode();
        for (int trial = 0; trial < 3000; trial++) {
            std::string m = b;
            const int edits = 1 + int(g.next() % 3);
            for (int e = 0; e < edits; e++) {
                const size_t at = kBodyAt + size_t(g.next() % (m.size() - kBodyAt));
                m[at] = char(g.next() & 0xFF);
            }
            m = reseal(m);
            try {
                const FeatureStats d = FeatureStats::decode(m);
                const std::string again = d.encode();
                EXPECT_EQ(FeatureStats::decode(again).encode(), again);
                accepted++;
            } catch (const core::Error& e) {
                EXPECT_EQ(int(e.kind()), int(ErrorKind::InvalidBinary)) << e.what();
                refused++;
            }
        }
    }
    EXPECT_GT(refused, 10000u);
    std::printf("random corruptions: %zu refused, %zu accepted as other valid values\n", refused, accepted);
}

std::string text_error(const std::string& t) {
    return expect_error(ErrorKind::InvalidText, [&] { FeatureStats::from_text(t); });
}

TEST(FeatureStats, CorruptTextIsRejected) {
    const auto all = samples();
    const FeatureStats& num = all[1];
    const FeatureStats& cat = all[4];
    const json nj = json::parse(num.to_text()), cj = json::parse(cat.to_text());
    auto edit = [](json j, const std::string& key, const json& v) {
        if (v.is_discarded()) j.erase(key);
        else j[key] = v;
        return j.dump();
    };
    const json gone(json::value_t::discarded);
    text_error("");
    text_error("{");
    text_error("[1, 2]");
    text_error("{\"pg_learn_stats\": 1, \"kind\": \"numeric\"");
    text_error(std::string(100, '[') + std::string(100, ']'));
    EXPECT_NE(text_error(edit(nj, "pg_learn_stats", 2)).find("version"), std::string::npos);
    EXPECT_NE(text_error(edit(nj, "kind", "ordinal")).find("kind"), std::string::npos);
    EXPECT_NE(text_error(edit(nj, "extra", 1)).find("unknown key"), std::string::npos);
    EXPECT_NE(text_error(edit(cj, "shift", 1.0)).find("unknown key"), std::string::npos);
    EXPECT_NE(text_error(edit(nj, "quantile_sketch", gone)).find("missing key"), std::string::npos);
    EXPECT_NE(text_error(edit(nj, "kind", "categorical")).find("unknown key"), std::string::npos);
    text_error(edit(nj, "finite_count", -1));
    text_error(edit(nj, "finite_count", 1.5));
    text_error(edit(nj, "finite_count", "5"));
    text_error(edit(nj, "finite_count", nj["finite_count"].get<uint64_t>() + 1));  // vs the sketch
    text_error(edit(nj, "min", "-Infinity"));
    text_error(edit(nj, "shifted_mean", "zero"));
    text_error(edit(nj, "shifted_mean", nullptr));
    text_error(edit(nj, "shift", "Infinity"));
    text_error(edit(nj, "m2", -1.0));
    const std::string sk = nj["quantile_sketch"];
    EXPECT_NE(text_error(edit(nj, "quantile_sketch", sk.substr(0, sk.size() - 1))).find("base64"), std::string::npos);
    text_error(edit(nj, "quantile_sketch", "*" + sk.substr(1)));
    text_error(edit(nj, "quantile_sketch", sk.substr(0, sk.size() - 4)));  // truncated sketch
    text_error(edit(nj, "quantile_sketch", 12));
    text_error(edit(nj, "quantile_sketch", cj["top_k"]));  // another sketch's bytes
    text_error(edit(cj, "count", cj["count"].get<uint64_t>() + 1));
    text_error(edit(cj, "distinct_sketch", cj["top_k"]));
    text_error(edit(cj, "top_k", "QUJD"));  // "ABC"
    // Non-canonical base64 (non-zero padding bits) would let two texts mean one value.
    text_error(edit(cj, "top_k", "QR=="));
}

TEST(FeatureStats, SummaryHasEverything) {
    FeatureStats s(StatsKind::Numeric);
    for (int i = 1; i <= 100; i++) s.add(double(i));
    s.add(kNaN);
    s.add(kInf);
    s.add_null();
    const auto j = s.summary();
    EXPECT_EQ(j["kind"], "numeric");
    EXPECT_EQ(j["count"], 102);
    EXPECT_EQ(j["null_count"], 1);
    EXPECT_EQ(j["nan_count"], 1);
    EXPECT_EQ(j["pos_inf_count"], 1);
    EXPECT_EQ(j["finite_count"], 100);
    EXPECT_EQ(j["mean"], 50.5);
    EXPECT_EQ(j["min"], 1.0);
    EXPECT_EQ(j["max"], 100.0);
    EXPECT_EQ(j["percentiles"]["p50"], 51.0);  // 101 non-NaN values (with +Inf): the 51st
    EXPECT_EQ(j["percentiles"]["p99"], 100.0);
    EXPECT_EQ(j["rank_error_bound"], 0.0);
    ASSERT_EQ(j["histogram"].size(), 10u);
    EXPECT_EQ(j["histogram"][0]["count"], 10);
    FeatureStats inf(StatsKind::Numeric);
    inf.add(kInf);
    const auto k = inf.summary();
    EXPECT_TRUE(k["mean"].is_null());
    EXPECT_EQ(k["percentiles"]["p50"], "Infinity");
}

}  // namespace
}  // namespace pg_learn::test
