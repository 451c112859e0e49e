// Drift between two FeatureStats (ml_drift, ml_drift_pvalue, ml_drift_detail) against hand
// computations and the sketch-level measures.
#include "core/drift/drift_report.hpp"
#include "drift_report_util.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

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

// ---- the drift report over two profiles -------------------------------------------------------

namespace report {

using core::DriftReportConfig;
using core::DriftReportRow;
using core::DriftStatus;
using core::DriftThresholds;
using core::Profile;
using nlohmann::json;

double number_of(const json& v) {
    if (v.is_string()) return v == "Infinity" ? kInf : -kInf;
    return v.get<double>();
}

const json& find_case(const std::string& name) {
    for (const json& c : drift_report_reference()["cases"])
        if (c["name"] == name) return c;
    throw std::runtime_error("no reference case " + name);
}

TEST(DriftReportProfiles, MatchesNumpyReference) {
    for (const json& c : drift_report_reference()["cases"]) {
        SCOPED_TRACE(c["name"].get<std::string>());
        const Profile b = drift_report_profile_of(c["baseline"]), cur = drift_report_profile_of(c["current"]);
        const DriftReportConfig config = core::parse_drift_report_config(c["options_report"].get<std::string>());
        const std::vector<DriftReportRow> rows = core::drift_report(b, cur, config);
        const json& want = c["report"];
        ASSERT_EQ(rows.size(), want.size());
        for (size_t i = 0; i < rows.size(); i++) {
            const DriftReportRow& r = rows[i];
            const json& w = want[i];
            SCOPED_TRACE(r.feature);
            EXPECT_EQ(r.feature, w["feature"].get<std::string>());
            if (w["kind"].is_null()) EXPECT_FALSE(r.kind);
            else EXPECT_EQ(core::stats_kind_name(*r.kind), w["kind"].get<std::string>());
            if (w["method"].is_null()) {
                EXPECT_FALSE(r.method);
                EXPECT_FALSE(r.thresholds);
            } else {
                EXPECT_EQ(core::drift_method_name(*r.method), w["method"].get<std::string>());
                EXPECT_EQ(r.thresholds->warn, w["warn"].get<double>());
                EXPECT_EQ(r.thresholds->alert, w["alert"].get<double>());
            }
            EXPECT_EQ(core::drift_status_name(r.status), w["status"].get<std::string>());
            EXPECT_EQ(r.baseline_count, w["baseline_count"].get<uint64_t>());
            EXPECT_EQ(r.current_count, w["current_count"].get<uint64_t>());
            if (w["value"].is_null()) {
                EXPECT_FALSE(r.result);
            } else {
                ASSERT_TRUE(r.result);
                const double want_value = number_of(w["value"]);
                EXPECT_NEAR(r.result->value, want_value, 1e-9 * std::max(1.0, std::fabs(want_value)));
                // Exact sketches: the interval is the value.
                EXPECT_EQ(r.result->lower, r.result->value);
                EXPECT_EQ(r.result->upper, r.result->value);
            }
            if (w["pvalue"].is_null()) {
                EXPECT_FALSE(r.pvalue);
            } else {
                ASSERT_TRUE(r.pvalue);
                const double p = w["pvalue"].get<double>();
                EXPECT_NEAR(*r.pvalue, p, 1e-9 * p + 1e-300);
            }
        }
    }
}

TEST(DriftReportProfiles, DefaultThresholdsAndStatus) {
    using core::default_drift_thresholds;
    using core::drift_status;
    EXPECT_EQ(default_drift_thresholds(DriftMethod::Psi).warn, 0.1);
    EXPECT_EQ(default_drift_thresholds(DriftMethod::Psi).alert, 0.25);
    EXPECT_EQ(default_drift_thresholds(DriftMethod::JensenShannon).warn, 0.1);
    EXPECT_EQ(default_drift_thresholds(DriftMethod::KolmogorovSmirnov).warn, 0.05);
    EXPECT_EQ(default_drift_thresholds(DriftMethod::KolmogorovSmirnov).alert, 0.01);
    EXPECT_EQ(default_drift_thresholds(DriftMethod::Wasserstein).alert, 0.25);
    EXPECT_EQ(default_drift_thresholds(DriftMethod::LInfinity).warn, 0.1);
    expect_error(ErrorKind::InvalidParameter, [] { default_drift_thresholds(DriftMethod::Auto); });
    // Distances: at the threshold counts (PSI's ">= 0.25 is significant").
    const DriftThresholds psi{0.1, 0.25};
    EXPECT_EQ(drift_status(DriftMethod::Psi, 0.0, psi), DriftStatus::Ok);
    EXPECT_EQ(drift_status(DriftMethod::Psi, std::nextafter(0.1, 0.0), psi), DriftStatus::Ok);
    EXPECT_EQ(drift_status(DriftMethod::Psi, 0.1, psi), DriftStatus::Warn);
    EXPECT_EQ(drift_status(DriftMethod::Psi, 0.2499, psi), DriftStatus::Warn);
    EXPECT_EQ(drift_status(DriftMethod::Psi, 0.25, psi), DriftStatus::Alert);
    EXPECT_EQ(drift_status(DriftMethod::Wasserstein, kInf, {0.1, 0.25}), DriftStatus::Alert);
    EXPECT_EQ(drift_status(DriftMethod::Psi, kNaN, psi), DriftStatus::NoData);
    // p-values: strictly below counts (p = 0.05 is not significant at 0.05).
    const DriftThresholds ks{0.05, 0.01};
    EXPECT_EQ(drift_status(DriftMethod::KolmogorovSmirnov, 1.0, ks), DriftStatus::Ok);
    EXPECT_EQ(drift_status(DriftMethod::KolmogorovSmirnov, 0.05, ks), DriftStatus::Ok);
    EXPECT_EQ(drift_status(DriftMethod::KolmogorovSmirnov, 0.049, ks), DriftStatus::Warn);
    EXPECT_EQ(drift_status(DriftMethod::KolmogorovSmirnov, 0.01, ks), DriftStatus::Warn);
    EXPECT_EQ(drift_status(DriftMethod::KolmogorovSmirnov, 0.0099, ks), DriftStatus::Alert);
    EXPECT_EQ(drift_status(DriftMethod::KolmogorovSmirnov, 0.0, ks), DriftStatus::Alert);
    // Equal thresholds: no warn band.
    EXPECT_EQ(drift_status(DriftMethod::JensenShannon, 0.3, {0.3, 0.3}), DriftStatus::Alert);
    EXPECT_STREQ(core::drift_status_name(DriftStatus::NoData), "no_data");
    EXPECT_STREQ(core::drift_status_name(DriftStatus::Warn), "warn");
}

TEST(DriftReportProfiles, MethodResolution) {
    using core::parse_drift_report_config;
    const DriftReportConfig d;
    EXPECT_EQ(d.method_for("x", StatsKind::Numeric), DriftMethod::JensenShannon);
    EXPECT_EQ(d.method_for("x", StatsKind::Categorical), DriftMethod::LInfinity);
    EXPECT_EQ(d.bins_for("x"), 10u);
    // A global method applies where it fits; the kind's own method comes first.
    const DriftReportConfig ks = parse_drift_report_config(R"({"method": "KS"})");
    EXPECT_EQ(ks.method_for("x", StatsKind::Numeric), DriftMethod::KolmogorovSmirnov);
    EXPECT_EQ(ks.method_for("x", StatsKind::Categorical), DriftMethod::LInfinity);
    const DriftReportConfig psi = parse_drift_report_config(R"({"method": "psi", "categorical_method": "js"})");
    EXPECT_EQ(psi.method_for("x", StatsKind::Numeric), DriftMethod::Psi);
    EXPECT_EQ(psi.method_for("x", StatsKind::Categorical), DriftMethod::JensenShannon);
    const DriftReportConfig f = parse_drift_report_config(
        R"({"numeric_method": "wasserstein", "bins": 20, "ks": {"warn": 0.1},
            "features": {"a": {"method": "ks", "alert": 0.001, "bins": 4}, "b": {"method": "auto"},
                         "c": {"warn": 0.15}}})");
    EXPECT_EQ(f.method_for("a", StatsKind::Numeric), DriftMethod::KolmogorovSmirnov);
    EXPECT_EQ(f.method_for("b", StatsKind::Numeric), DriftMethod::JensenShannon);
    EXPECT_EQ(f.method_for("z", StatsKind::Numeric), DriftMethod::Wasserstein);
    EXPECT_EQ(f.bins_for("a"), 4u);
    EXPECT_EQ(f.bins_for("z"), 20u);
    // Feature thresholds over the method's, over the defaults.
    EXPECT_EQ(f.thresholds_for("a", DriftMethod::KolmogorovSmirnov).warn, 0.1);
    EXPECT_EQ(f.thresholds_for("a", DriftMethod::KolmogorovSmirnov).alert, 0.001);
    EXPECT_EQ(f.thresholds_for("c", DriftMethod::Wasserstein).warn, 0.15);
    EXPECT_EQ(f.thresholds_for("c", DriftMethod::Wasserstein).alert, 0.25);
    // A feature's explicit method of the other kind fails when the feature is of that kind.
    EXPECT_EQ(expect_error(ErrorKind::InvalidParameter, [&] { f.method_for("a", StatsKind::Categorical); }),
              "drift method ks of feature \"a\" does not apply to its categorical values");
}

TEST(DriftReportProfiles, OptionsAreCheckedStrictly) {
    auto msg = [](const char* text) {
        return expect_error(ErrorKind::InvalidParameter, [&] { core::parse_drift_report_config(text); });
    };
    EXPECT_EQ(msg("[]"), "invalid ml_drift_report options: a JSON object was expected, not an array");
    EXPECT_EQ(msg("{\"metod\": \"psi\"}"), "invalid ml_drift_report options: unknown key \"metod\"");
    EXPECT_EQ(msg("{\"method\": 3}"), "invalid ml_drift_report options: \"method\" must be a string, not a number");
    EXPECT_EQ(msg("{\"method\": \"chi2\"}"),
              "invalid ml_drift_report options: \"method\" is not a drift method: unknown drift method \"chi2\"");
    EXPECT_EQ(msg("{\"numeric_method\": \"linf\"}"),
              "invalid ml_drift_report options: \"numeric_method\" must be a method for numeric statistics, not linf");
    EXPECT_EQ(msg("{\"categorical_method\": \"ks\"}"),
              "invalid ml_drift_report options: \"categorical_method\" must be a method for categorical statistics, "
              "not ks");
    EXPECT_EQ(msg("{\"bins\": 0}"), "invalid ml_drift_report options: \"bins\" must be an integer between 1 and 10000, not 0");
    EXPECT_EQ(msg("{\"bins\": 2.5}"),
              "invalid ml_drift_report options: \"bins\" must be an integer between 1 and 10000, not 2.5");
    EXPECT_EQ(core::parse_drift_report_config("{\"bins\": 12.0}").bins, 12u);
    EXPECT_EQ(msg("{\"bins\": \"10\"}"),
              "invalid ml_drift_report options: \"bins\" must be an integer between 1 and 10000, not a string");
    EXPECT_EQ(msg("{\"bins\": 18446744073709551615}"),
              "invalid ml_drift_report options: \"bins\" must be an integer between 1 and 10000, not "
              "18446744073709551615");
    EXPECT_EQ(msg("{\"psi\": 0.2}"), "invalid ml_drift_report options: \"psi\" must be an object, not a number");
    EXPECT_EQ(msg("{\"psi\": {\"warning\": 0.2}}"), "invalid ml_drift_report options: unknown key \"psi.warning\"");
    EXPECT_EQ(msg("{\"psi\": {\"warn\": -1}}"),
              "invalid ml_drift_report options: \"psi.warn\" must be a number >= 0, not -1");
    EXPECT_EQ(msg("{\"psi\": {\"warn\": null}}"),
              "invalid ml_drift_report options: \"psi.warn\" must be a number >= 0, not null");
    EXPECT_EQ(msg("{\"ks\": {\"warn\": 2}}"),
              "invalid ml_drift_report options: \"ks.warn\" must be a number between 0 and 1, not 2");
    EXPECT_EQ(msg("{\"psi\": {\"warn\": 0.3}}"),
              "invalid ml_drift_report options: \"psi\" thresholds must have warn <= alert; got warn 0.3, alert 0.25");
    EXPECT_EQ(msg("{\"ks\": {\"alert\": 0.1}}"),
              "invalid ml_drift_report options: \"ks\" p-value thresholds must have alert <= warn (a smaller p-value "
              "is worse); got warn 0.05, alert 0.1");
    EXPECT_EQ(msg("{\"features\": []}"), "invalid ml_drift_report options: \"features\" must be an object, not an array");
    EXPECT_EQ(msg("{\"features\": {\"age\": 1}}"),
              "invalid ml_drift_report options: \"features.age\" must be an object, not a number");
    EXPECT_EQ(msg("{\"features\": {\"age\": {\"treshold\": 1}}}"),
              "invalid ml_drift_report options: unknown key \"features.age.treshold\"");
    EXPECT_EQ(msg("{\"features\": {\"age\": {\"skip\": 1}}}"),
              "invalid ml_drift_report options: \"features.age.skip\" must be true or false, not a number");
    EXPECT_EQ(msg("{\"features\": {\"age\": {\"method\": \"ks\", \"alert\": 3}}}"),
              "invalid ml_drift_report options: \"features.age.alert\" must be a number between 0 and 1, not 3");
    // The feature's thresholds with either kind's method: js (0.1 / 0.2) for numbers, linf for strings.
    EXPECT_EQ(msg("{\"features\": {\"age\": {\"warn\": 0.3}}}"),
              "invalid ml_drift_report options: \"features.age\" with method js: thresholds must have warn <= alert; "
              "got warn 0.3, alert 0.2");
    EXPECT_EQ(msg("{\"numeric_method\": \"ks\", \"features\": {\"age\": {\"warn\": 1.5}}}"),
              "invalid ml_drift_report options: \"features.age\" thresholds are p-values for method ks and must be "
              "between 0 and 1");
    EXPECT_NE(msg("{\"numeric_method\": \"ks\", \"features\": {\"age\": {\"warn\": 0.5}}}"), "");
    EXPECT_EQ(msg("{\"features\": {\"age\": {\"method\": \"ks\", \"warn\": 0.001}}}"),
              "invalid ml_drift_report options: \"features.age\" with method ks: p-value thresholds must have alert "
              "<= warn (a smaller p-value is worse); got warn 0.001, alert 0.01");
    EXPECT_EQ(msg("{\"bins\": 1e999}"), "invalid ml_drift_report options: not valid JSON, or a number out of range");
    // Valid: empty, and a feature that no profile names.
    EXPECT_NO_THROW(core::parse_drift_report_config("{}"));
    EXPECT_NO_THROW(core::parse_drift_report_config(R"({"features": {"nowhere": {"skip": true}}})"));
}

TEST(DriftReportProfiles, EdgeCases) {
    const json& main = find_case("main");
    const Profile b = drift_report_profile_of(main["baseline"]), c = drift_report_profile_of(main["current"]);
    // Empty profiles: no features, no rows.
    EXPECT_TRUE(core::drift_report(Profile(), Profile()).empty());
    // Against an empty current window every feature is no_data, with its baseline count.
    const auto vs_empty = core::drift_report(b, Profile());
    ASSERT_EQ(vs_empty.size(), b.size());
    for (const auto& r : vs_empty) {
        EXPECT_EQ(r.status, DriftStatus::NoData);
        EXPECT_FALSE(r.result);
        EXPECT_EQ(r.current_count, 0u);
        EXPECT_TRUE(r.method);  // the kind is known from the baseline
    }
    // A feature of only NULLs (or nested values) has no kind, no method, no measure.
    Profile nulls;
    for (int i = 0; i < 3; i++) {
        nulls.start_row();
        nulls.add_null("n");
        nulls.add_nested("o");
    }
    const auto rn = core::drift_report(nulls, nulls);
    ASSERT_EQ(rn.size(), 2u);
    for (const auto& r : rn) {
        EXPECT_FALSE(r.kind);
        EXPECT_FALSE(r.method);
        EXPECT_FALSE(r.thresholds);
        EXPECT_EQ(r.status, DriftStatus::NoData);
    }
    // Categorical baseline, numeric current ("code"): the baseline's kind, no current value of it.
    const auto rows = core::drift_report(b, c);
    const auto code = std::find_if(rows.begin(), rows.end(), [](const DriftReportRow& r) { return r.feature == "code"; });
    ASSERT_NE(code, rows.end());
    EXPECT_EQ(*code->kind, StatsKind::Categorical);
    EXPECT_EQ(code->status, DriftStatus::NoData);
    EXPECT_EQ(code->current_count, 0u);
    // Skipped features have no row; a method that does not fit the baseline's kind is an error.
    EXPECT_EQ(core::drift_report(b, c, core::parse_drift_report_config(R"({"features": {"age": {"skip": true}}})")).size(),
              rows.size() - 1);
    EXPECT_EQ(expect_error(ErrorKind::InvalidParameter,
                           [&] {
                               core::drift_report(
                                   b, c, core::parse_drift_report_config(R"({"features": {"city": {"method": "ks"}}})"));
                           }),
              "drift method ks of feature \"city\" does not apply to its categorical values");
    // A mixed feature: 3 strings and 2 numbers is categorical; its numbers are not compared.
    Profile m1, m2;
    for (const char* s : {"u", "v", "u"}) {
        m1.start_row();
        m1.add_string("m", s);
    }
    for (double x : {1.0, 2.0}) {
        m1.start_row();
        m1.add_number("m", x);
    }
    for (const char* s : {"u", "u"}) {
        m2.start_row();
        m2.add_string("m", s);
    }
    const auto rm = core::drift_report(m1, m2);
    ASSERT_EQ(rm.size(), 1u);
    EXPECT_EQ(*rm[0].kind, StatsKind::Categorical);
    EXPECT_EQ(rm[0].baseline_count, 3u);
    EXPECT_EQ(rm[0].current_count, 2u);
    EXPECT_NEAR(rm[0].result->value, 1.0 / 3.0, 1e-15);  // u: 2/3 -> 1
    EXPECT_EQ(rm[0].status, DriftStatus::Alert);
}

TEST(DriftReportProfiles, KsPvalueIsTheStatisticsPvalue) {
    const json& main = find_case("main");
    const Profile b = drift_report_profile_of(main["baseline"]), c = drift_report_profile_of(main["current"]);
    const auto rows = core::drift_report(b, c, core::parse_drift_report_config(R"({"numeric_method": "ks"})"));
    for (const auto& r : rows) {
        if (!r.result || r.method != DriftMethod::KolmogorovSmirnov) continue;
        const auto p = core::stats_ks_pvalue(*b.find(r.feature)->values(StatsKind::Numeric),
                                             *c.find(r.feature)->values(StatsKind::Numeric));
        EXPECT_EQ(*r.pvalue, *p) << r.feature;
        EXPECT_EQ(r.status, core::drift_status(DriftMethod::KolmogorovSmirnov, *p, {0.05, 0.01}));
    }
}

}  // namespace report

}  // namespace
}  // namespace pg_learn::test
