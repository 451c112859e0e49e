// Drift between two FeatureStats (ml_drift, ml_drift_pvalue, ml_drift_detail) against hand
// computations and the sketch-level measures.
#include "drift_report.hpp"
#include "test_util.hpp"

#include <cmath>
#include <limits>

namespace pg_learn::test {
namespace {

using core::DriftMethod;
using core::DriftOptions;
using core::FeatureStats;
using core::StatsKind;

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

FeatureStats numbers(const std::vector<double>& xs) {
    FeatureStats s(StatsKind::Numeric);
    for (double x : xs) s.add(x);
    return s;
}

FeatureStats range(int from, int to) {
    FeatureStats s(StatsKind::Numeric);
    for (int i = from; i <= to; i++) s.add(double(i));
    return s;
}

// count copies of each value, in order.
FeatureStats strings(const std::vector<std::pair<std::string, int>>& counts) {
    FeatureStats s(StatsKind::Categorical);
    for (const auto& [v, n] : counts)
        for (int i = 0; i < n; i++) s.add(v);
    return s;
}

double value(const FeatureStats& b, const FeatureStats& c, DriftMethod m) {
    auto r = core::stats_drift(b, c, m);
    if (!r) throw std::runtime_error("unexpected empty drift");
    return r->value;
}

// The error's hint when f throws InvalidParameter.
template <typename F>
std::string hint_of(F&& f) {
    try {
        f();
    } catch (const core::Error& e) {
        EXPECT_EQ(int(e.kind()), int(ErrorKind::InvalidParameter)) << e.what();
        return e.hint();
    }
    ADD_FAILURE() << "nothing was thrown";
    return {};
}

TEST(DriftReport, MethodsByKind) {
    using core::resolve_drift_method;
    EXPECT_EQ(resolve_drift_method(StatsKind::Numeric, DriftMethod::Auto), DriftMethod::JensenShannon);
    EXPECT_EQ(resolve_drift_method(StatsKind::Categorical, DriftMethod::Auto), DriftMethod::LInfinity);
    for (DriftMethod m : {DriftMethod::Psi, DriftMethod::JensenShannon, DriftMethod::KolmogorovSmirnov,
                          DriftMethod::Wasserstein})
        EXPECT_EQ(resolve_drift_method(StatsKind::Numeric, m), m);
    for (DriftMethod m : {DriftMethod::Psi, DriftMethod::JensenShannon, DriftMethod::LInfinity})
        EXPECT_EQ(resolve_drift_method(StatsKind::Categorical, m), m);
    EXPECT_EQ(hint_of([] { resolve_drift_method(StatsKind::Numeric, DriftMethod::LInfinity); }),
              "for numeric statistics use auto, psi, js, ks or wasserstein");
    EXPECT_EQ(hint_of([] { resolve_drift_method(StatsKind::Categorical, DriftMethod::KolmogorovSmirnov); }),
              "for categorical statistics use auto, linf, psi or js");
    EXPECT_EQ(hint_of([] { resolve_drift_method(StatsKind::Categorical, DriftMethod::Wasserstein); }),
              "for categorical statistics use auto, linf, psi or js");
    EXPECT_FALSE(core::drift_method_applies(StatsKind::Numeric, DriftMethod::LInfinity));
    EXPECT_TRUE(core::drift_method_applies(StatsKind::Categorical, DriftMethod::Auto));
}

TEST(DriftReport, KindsMustAgree) {
    const FeatureStats n = range(1, 10), c = strings({{"a", 3}});
    EXPECT_EQ(expect_error(ErrorKind::InvalidParameter, [&] { core::stats_drift(n, c, DriftMethod::Psi); }),
              "cannot measure drift between numeric and categorical statistics");
    EXPECT_EQ(expect_error(ErrorKind::InvalidParameter, [&] { core::stats_ks_pvalue(c, n); }),
              "cannot measure drift between categorical and numeric statistics");
    // Even when a side is empty: the arguments are checked first.
    FeatureStats empty_text(StatsKind::Categorical);
    empty_text.add_null();
    expect_error(ErrorKind::InvalidParameter, [&] { core::stats_drift(n, empty_text, DriftMethod::Auto); });
    expect_error(ErrorKind::InvalidParameter, [&] { core::stats_ks_pvalue(c, c); });
    expect_error(ErrorKind::InvalidParameter, [&] { core::stats_drift_detail(n, n, DriftMethod::LInfinity); });
    DriftOptions bad;
    bad.bins = 0;
    expect_error(ErrorKind::InvalidParameter, [&] { core::stats_drift(n, n, DriftMethod::Psi, bad); });
}

TEST(DriftReport, NoValueOnASideIsNoMeasure) {
    const FeatureStats base = range(1, 10);
    FeatureStats nulls(StatsKind::Numeric), nans(StatsKind::Numeric), none(StatsKind::Numeric);
    nulls.add_null();
    nans.add(kNaN);
    for (const FeatureStats* e : {&nulls, &nans, &none}) {
        for (DriftMethod m : {DriftMethod::Auto, DriftMethod::Psi, DriftMethod::KolmogorovSmirnov,
                              DriftMethod::Wasserstein}) {
            EXPECT_FALSE(core::stats_drift(base, *e, m));
            EXPECT_FALSE(core::stats_drift(*e, base, m));
            EXPECT_FALSE(core::stats_drift_detail(base, *e, m));
        }
        EXPECT_FALSE(core::stats_ks_pvalue(*e, base));
    }
    FeatureStats text_nulls(StatsKind::Categorical);
    text_nulls.add_null();
    EXPECT_FALSE(core::stats_drift(strings({{"a", 1}}), text_nulls, DriftMethod::LInfinity));
}

TEST(DriftReport, HandComputedNumeric) {
    // 1..100 against 201..300: ten baseline deciles of 0.1 (the current has none: 1e-4 floor) and
    // all of the current above the baseline's max.
    const FeatureStats low = range(1, 100), high = range(201, 300);
    const double psi = 10 * (0.1 - 1e-4) * std::log(0.1 / 1e-4) + (1 - 1e-4) * std::log(1 / 1e-4);
    EXPECT_NEAR(value(low, high, DriftMethod::Psi), psi, 1e-12);
    EXPECT_EQ(value(low, high, DriftMethod::JensenShannon), 1.0);
    EXPECT_EQ(value(low, high, DriftMethod::Auto), 1.0);
    EXPECT_EQ(value(low, high, DriftMethod::KolmogorovSmirnov), 1.0);
    // W1 is the shift, 200; the sample sd of 1..100 is sqrt(100 * 101 / 12).
    EXPECT_NEAR(value(low, high, DriftMethod::Wasserstein), 200.0 / std::sqrt(100.0 * 101.0 / 12.0), 1e-12);
    EXPECT_NEAR(*core::stats_ks_pvalue(low, high), core::kolmogorov_sf(std::sqrt(50.0)), 1e-300);
    for (DriftMethod m : {DriftMethod::Psi, DriftMethod::JensenShannon, DriftMethod::KolmogorovSmirnov,
                          DriftMethod::Wasserstein})
        EXPECT_EQ(value(low, low, m), 0.0) << core::drift_method_name(m);
    EXPECT_EQ(*core::stats_ks_pvalue(low, low), 1.0);
}

TEST(DriftReport, SameAsTheSketchMeasures) {
    FeatureStats b(StatsKind::Numeric), c(StatsKind::Numeric);
    for (int i = 0; i < 5000; i++) {
        b.add(std::sin(i * 0.37) * 10 + (i % 13));
        c.add(std::sin(i * 0.41) * 11 + (i % 11) + 0.5);
    }
    for (DriftMethod m : {DriftMethod::Psi, DriftMethod::JensenShannon, DriftMethod::KolmogorovSmirnov,
                          DriftMethod::Wasserstein}) {
        const auto r = *core::stats_drift(b, c, m);
        const auto want = *core::numeric_drift(b.quantile_sketch(), c.quantile_sketch(), *b.stddev(), m);
        EXPECT_EQ(r.method, m);
        EXPECT_EQ(r.value, want.value);
        EXPECT_EQ(r.lower, want.lower);
        EXPECT_EQ(r.upper, want.upper);
    }
    EXPECT_EQ(*core::stats_ks_pvalue(b, c), *core::ks_pvalue(b.quantile_sketch(), c.quantile_sketch()));
}

TEST(DriftReport, HandComputedCategorical) {
    // a 50% -> 30%, b 30%, c 20% unchanged, d 0 -> 20%.
    const FeatureStats b = strings({{"a", 50}, {"b", 30}, {"c", 20}});
    const FeatureStats c = strings({{"a", 30}, {"b", 30}, {"c", 20}, {"d", 20}});
    EXPECT_NEAR(value(b, c, DriftMethod::LInfinity), 0.2, 1e-15);
    EXPECT_EQ(value(b, c, DriftMethod::Auto), value(b, c, DriftMethod::LInfinity));
    EXPECT_NEAR(value(b, c, DriftMethod::Psi), (0.2 - 1e-4) * std::log(0.2 / 1e-4) + (0.3 - 0.5) * std::log(0.3 / 0.5),
                1e-12);
    // JSD in bits: a: 0.5 log2(0.5/0.4) + 0.3 log2(0.3/0.4); d: 0.2 log2(0.2/0.1); halved.
    const double jsd = (0.5 * std::log2(0.5 / 0.4) + 0.3 * std::log2(0.3 / 0.4) + 0.2 * std::log2(2.0)) / 2;
    EXPECT_NEAR(value(b, c, DriftMethod::JensenShannon), std::sqrt(jsd), 1e-12);
}

TEST(DriftReport, DetailOfBinnedMethods) {
    const FeatureStats low = range(1, 100), high = range(201, 300);
    const auto d = *core::stats_drift_detail(low, high, DriftMethod::Psi);
    EXPECT_EQ(d["method"], "psi");
    EXPECT_EQ(d["kind"], "numeric");
    EXPECT_EQ(d["value"].get<double>(), value(low, high, DriftMethod::Psi));
    EXPECT_EQ(d["lower"], d["value"]);  // exact sketches
    EXPECT_EQ(d["upper"], d["value"]);
    EXPECT_EQ(d["epsilon"].get<double>(), 1e-4);
    EXPECT_EQ(d["delta"].get<double>(), 0.01);
    EXPECT_EQ(d["baseline_count"], 100);
    EXPECT_EQ(d["current_count"], 100);
    EXPECT_EQ(d["quantile_bins"], 10);
    // Below the min, ten deciles ending at 10, 20, ..., 100, above the max.
    const auto& bins = d["bins"];
    ASSERT_EQ(bins.size(), 12u);
    EXPECT_EQ(bins[0]["lo"], "-Infinity");
    EXPECT_EQ(bins[0]["hi"].get<double>(), std::nextafter(1.0, -kInf));
    for (int i = 1; i <= 10; i++) {
        EXPECT_EQ(bins[i]["hi"].get<double>(), 10.0 * i);
        EXPECT_NEAR(bins[i]["baseline"].get<double>(), 0.1, 1e-15);
        EXPECT_EQ(bins[i]["current"].get<double>(), 0.0);
    }
    EXPECT_EQ(bins[11]["lo"].get<double>(), 100.0);
    EXPECT_EQ(bins[11]["hi"], "Infinity");
    EXPECT_EQ(bins[11]["current"].get<double>(), 1.0);

    DriftOptions four;
    four.bins = 4;
    const auto d4 = *core::stats_drift_detail(low, high, DriftMethod::JensenShannon, four);
    EXPECT_EQ(d4["quantile_bins"], 4);
    EXPECT_EQ(d4["bins"].size(), 6u);
    EXPECT_FALSE(d4.contains("epsilon"));

    const auto dc = *core::stats_drift_detail(strings({{"x", 3}, {"y", 1}}), strings({{"y", 2}, {"z", 2}}),
                                              DriftMethod::Auto);
    EXPECT_EQ(dc["method"], "linf");
    EXPECT_EQ(dc["kind"], "categorical");
    EXPECT_EQ(dc["value"].get<double>(), 0.75);  // x: 0.75 -> 0
    ASSERT_EQ(dc["bins"].size(), 4u);             // x, y, z, other
    EXPECT_EQ(dc["bins"][0]["value"], "x");
    EXPECT_EQ(dc["bins"][1]["baseline"].get<double>(), 0.25);
    EXPECT_EQ(dc["bins"][1]["current"].get<double>(), 0.5);
    EXPECT_TRUE(dc["bins"][3]["value"].is_null());
    EXPECT_EQ(dc["bins"][3]["baseline"].get<double>(), 0.0);
    EXPECT_FALSE(dc.contains("quantile_bins"));
}

TEST(DriftReport, DetailOfKsAndWasserstein) {
    const FeatureStats low = range(1, 100), high = range(201, 300);
    const auto k = *core::stats_drift_detail(low, high, DriftMethod::KolmogorovSmirnov);
    EXPECT_EQ(k["value"].get<double>(), 1.0);
    EXPECT_EQ(k["pvalue"].get<double>(), *core::stats_ks_pvalue(low, high));
    EXPECT_FALSE(k.contains("bins"));
    const auto w = *core::stats_drift_detail(low, high, DriftMethod::Wasserstein);
    EXPECT_NEAR(w["w1"].get<double>(), 200.0, 1e-12);
    EXPECT_EQ(w["baseline_stddev"].get<double>(), *low.stddev());
    // A constant baseline has no scale: +Infinity, as a string in JSON.
    const FeatureStats constant = numbers({5, 5, 5});
    const auto wc = *core::stats_drift_detail(constant, low, DriftMethod::Wasserstein);
    EXPECT_EQ(wc["value"], "Infinity");
    EXPECT_EQ(wc["upper"], "Infinity");
    EXPECT_EQ(wc["baseline_stddev"].get<double>(), 0.0);
    EXPECT_EQ(value(constant, constant, DriftMethod::Wasserstein), 0.0);
    // One value: no standard deviation at all (null), still +Infinity against anything else.
    const auto w1 = *core::stats_drift_detail(numbers({5}), low, DriftMethod::Wasserstein);
    EXPECT_TRUE(w1["baseline_stddev"].is_null());
    EXPECT_EQ(w1["value"], "Infinity");
}

}  // namespace
}  // namespace pg_learn::test
