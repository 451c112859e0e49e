// Drift detectors: change points of fixed streams against the independent reference
// (test/reference/detectors_ref.py), the exact KS test against scipy, options, bad input, the
// binary and text forms, and the detection delay and false-alarm rate on generated streams.
#include "core/drift/detectors.hpp"
#include "core/common/byte_codec.hpp"
#include "test_util.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

namespace pg_learn::test {
namespace {

using core::DriftDetector;
using nlohmann::json;

const json& reference() {
    static const json j = read_reference("expected_detectors.json");
    return j;
}

DriftDetector make(const std::string& kind, const std::string& options = "{}") {
    return DriftDetector::create(kind, options);
}

void expect_round_trips(const DriftDetector& d) {
    const std::string bin = d.encode();
    EXPECT_EQ(DriftDetector::decode(bin).encode(), bin);
    EXPECT_EQ(DriftDetector::from_text(d.to_text()).encode(), bin);
    EXPECT_EQ(DriftDetector::from_text(d.to_text()).to_text(), d.to_text());
}

// ---- against the reference ------------------------------------------------------------------

TEST(Detectors, ChangePointsMatchTheReference) {
    size_t checked = 0;
    for (const json& s : reference()["streams"]) {
        const std::string name = s["name"].get<std::string>();
        SCOPED_TRACE(name);
        DriftDetector d = make(s["kind"].get<std::string>(), s["options"].dump());
        std::vector<uint64_t> changes;
        uint64_t t = 0;
        for (const json& v : s["values"]) {
            t++;
            if (d.update(v.get<double>())) changes.push_back(t);
            if (t % 977 == 0) {  // the stored forms carry the whole state: the stream goes on alike
                expect_round_trips(d);
                d = DriftDetector::decode(d.encode());
            }
        }
        EXPECT_EQ(changes, s["changes"].get<std::vector<uint64_t>>());
        EXPECT_EQ(d.n(), s["values"].size());
        EXPECT_EQ(d.detections(), changes.size());
        EXPECT_EQ(d.last_change(), changes.empty() ? 0 : changes.back());
        const json& f = s["final"];
        EXPECT_EQ(d.width(), f["width"].get<uint64_t>());
        if (f["estimate"].is_null()) {
            EXPECT_TRUE(std::isnan(d.estimate()));
        } else {
            EXPECT_NEAR(d.estimate(), f["estimate"].get<double>(), 1e-9);
        }
        if (f.contains("warnings")) {
            EXPECT_EQ(d.warnings(), f["warnings"].get<uint64_t>());
        }
        if (f.contains("pvalue") && !f["pvalue"].is_null()) {
            EXPECT_NEAR(d.info()["statistic"].get<double>(), f["statistic"].get<double>(), 1e-12);
            EXPECT_NEAR(d.info()["pvalue"].get<double>(), f["pvalue"].get<double>(),
                        1e-9 * f["pvalue"].get<double>() + 1e-300);
        }
        expect_round_trips(d);
        checked++;
    }
    EXPECT_GE(checked, 13u);
}

TEST(Detectors, KolmogorovSmirnovMatchesScipy) {
    size_t checked = 0;
    for (const json& c : reference()["ks"]) {
        std::vector<double> a = c["a"].get<std::vector<double>>(), b = c["b"].get<std::vector<double>>();
        const core::KsResult r = core::ks_2samp_equal(a, b);
        const double p = c["pvalue"].get<double>();
        EXPECT_NEAR(r.statistic, c["statistic"].get<double>(), 1e-15) << "n = " << a.size();
        EXPECT_NEAR(r.pvalue, p, 1e-10 * p + 1e-300) << "n = " << a.size() << ", D = " << r.statistic;
        checked++;
    }
    EXPECT_GE(checked, 30u);
}

TEST(Detectors, KswinSampleIsFloydsWithSplitMix64) {
    for (const json& c : reference()["samples"]) {
        uint64_t state = c["seed"].get<uint64_t>();
        EXPECT_EQ(core::kswin_sample(state, c["m"].get<uint64_t>(), c["k"].get<uint64_t>()),
                  c["indices"].get<std::vector<uint64_t>>());
    }
}

// ---- hand-checked behaviour -----------------------------------------------------------------

TEST(Detectors, DdmHandComputed) {
    // warm_start 3: from the third value on, p + s is compared with its minimum. Three correct
    // predictions give p = s = 0: the first error is then a change (p + s > 0 + 3 * 0), DDM's rule.
    DriftDetector d = make("ddm", R"({"warm_start": 3})");
    EXPECT_FALSE(d.update(0));
    EXPECT_FALSE(d.update(0));
    EXPECT_FALSE(d.update(0));
    EXPECT_TRUE(d.update(1));
    EXPECT_EQ(d.width(), 0u);  // started over
    EXPECT_EQ(d.last_change(), 4u);
    // 1, 0, 0: p = 1/3, s = sqrt(2/27) (p + s = 0.6055) is the minimum; then a 1 gives p = 1/2,
    // s = 1/4: p + s = 0.75, below the warning level 1/3 + 2 sqrt(2/27) = 0.88.
    EXPECT_FALSE(d.update(1));
    EXPECT_FALSE(d.update(0));
    EXPECT_FALSE(d.update(0));
    EXPECT_FALSE(d.update(1));
    EXPECT_FALSE(d.warning());
    EXPECT_EQ(d.detections(), 1u);
}

TEST(Detectors, PageHinkleyStartsOverAfterAChange) {
    DriftDetector d = make("page_hinkley", R"({"min_instances": 5, "threshold": 3, "delta": 0, "mode": "up"})");
    for (int i = 0; i < 10; i++) EXPECT_FALSE(d.update(0.0));
    // x = 10 after ten zeros: mean 10/11, U = 10 - 10/11 = 9.09 > 3.
    EXPECT_TRUE(d.update(10.0));
    EXPECT_EQ(d.width(), 0u);
    EXPECT_TRUE(std::isnan(d.estimate()));
    EXPECT_FALSE(d.update(10.0));
    EXPECT_EQ(d.width(), 1u);
    EXPECT_DOUBLE_EQ(d.estimate(), 10.0);
    // mode up never reports a decrease
    for (int i = 0; i < 20; i++) EXPECT_FALSE(d.update(-100.0));
}

TEST(Detectors, AdwinShrinksItsWindowAtAChange) {
    DriftDetector d = make("adwin");
    for (int i = 0; i < 2000; i++) d.update(i % 2 ? 0.1 : 0.0);
    EXPECT_EQ(d.detections(), 0u);
    EXPECT_EQ(d.width(), 2000u);
    EXPECT_NEAR(d.estimate(), 0.05, 1e-12);
    bool seen = false;
    for (int i = 0; i < 200 && !seen; i++) seen = d.update(1.0);
    EXPECT_TRUE(seen);
    EXPECT_LT(d.width(), 2200u - 1000u);
    // The bucket rows stay logarithmic: at most max_buckets per row, about log2(n) rows.
    DriftDetector big = make("adwin");
    for (int i = 0; i < 100000; i++) big.update(0.5);
    EXPECT_LE(big.info()["buckets"].get<uint64_t>(), 5u * 17u);
    EXPECT_LT(big.encoded_size(), 2000u);
}

// ---- options and bad input ------------------------------------------------------------------

TEST(Detectors, OptionsAreStrict) {
    auto bad = [](const char* kind, const char* opts, const char* needle, ErrorKind k = ErrorKind::InvalidParameter) {
        const std::string m = expect_error(k, [&] { make(kind, opts); });
        EXPECT_NE(m.find(needle), std::string::npos) << m;
    };
    bad("nope", "{}", "unknown drift detector \"nope\"");
    bad("adwin", R"({"delat": 0.1})", "unknown key \"delat\"");
    bad("adwin", R"({"delta": 0})", "\"delta\" must be a number greater than 0 and less than 1");
    bad("adwin", R"({"delta": 1.5})", "\"delta\"");
    bad("adwin", R"({"clock": 0})", "\"clock\" must be an integer between 1");
    bad("adwin", R"({"clock": 1.5})", "\"clock\"");
    bad("adwin", R"({"max_buckets": 1})", "\"max_buckets\"");
    bad("adwin", R"({"delta": "x"})", "\"delta\" must be a number");
    bad("adwin", R"({"threshold": 3})", "unknown key \"threshold\"");  // another kind's option
    bad("page_hinkley", R"({"mode": "sideways"})", "\"mode\" must be \"up\", \"down\" or \"both\"");
    bad("page_hinkley", R"({"threshold": -1})", "\"threshold\"");
    bad("page_hinkley", R"({"alpha": 1.01})", "\"alpha\"");
    bad("ddm", R"({"warning_threshold": 4})", "\"drift_threshold\" must be a number >= warning_threshold");
    bad("ddm", R"({"warm_start": 0})", "\"warm_start\"");
    bad("kswin", R"({"stat_size": 60})", "\"stat_size\" must be at most half of window_size (100)");
    bad("kswin", R"({"window_size": 1000000})", "\"window_size\"");
    bad("kswin", R"({"seed": -1})", "\"seed\"");
    bad("kswin", R"({"alpha": 0})", "\"alpha\"");
    bad("adwin", "[1]", "a JSON object was expected");
    bad("adwin", "{", "not valid JSON");
    // kinds are case-insensitive, ph is page_hinkley; every option at once is accepted
    EXPECT_EQ(make("ADWIN").kind(), core::DetectorKind::Adwin);
    EXPECT_EQ(make("ph").kind(), core::DetectorKind::PageHinkley);
    const DriftDetector k = make("kswin", R"({"alpha": 0.01, "window_size": 60, "stat_size": 30, "seed": 0})");
    EXPECT_EQ(k.options().window_size, 60);
    EXPECT_EQ(k.options_json().dump(), R"({"alpha":0.01,"window_size":60,"stat_size":30,"seed":0})");
}

TEST(Detectors, NanAndInfinityAreRefusedAndChangeNothing) {
    for (const char* kind : {"adwin", "page_hinkley", "ddm", "kswin"}) {
        SCOPED_TRACE(kind);
        DriftDetector d = make(kind);
        for (int i = 0; i < 50; i++) d.update(i % 3 == 0 ? 1.0 : 0.0);
        const std::string before = d.encode();
        for (double x : {std::nan(""), std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()}) {
            const std::string m = expect_error(ErrorKind::NumericRange, [&] { d.update(x); });
            EXPECT_NE(m.find("a drift detector cannot take"), std::string::npos) << m;
        }
        EXPECT_EQ(d.encode(), before);
    }
    DriftDetector d = make("ddm");
    const std::string m = expect_error(ErrorKind::InvalidParameter, [&] { d.update(0.5); });
    EXPECT_NE(m.find("ddm takes 0"), std::string::npos) << m;
    // Values whose sums overflow are refused, not stored as infinities.
    DriftDetector a = make("adwin");
    a.update(1e308);
    expect_error(ErrorKind::NumericRange, [&] { a.update(1e308); });
}

TEST(Detectors, SkipReportsNoChange) {
    DriftDetector d = make("page_hinkley", R"({"min_instances": 1, "threshold": 1, "mode": "up"})");
    d.update(0);
    EXPECT_TRUE(d.update(100));
    d.skip();
    EXPECT_FALSE(d.drift());
    EXPECT_EQ(d.n(), 2u);
    expect_round_trips(d);
}

// ---- stored forms ---------------------------------------------------------------------------

TEST(Detectors, BinaryFormIsValidatedCompletely) {
    DriftDetector d = make("adwin");
    for (int i = 0; i < 300; i++) d.update(i % 7 * 0.1);
    const std::string bin = d.encode();
    EXPECT_EQ(bin.substr(0, 4), "PLDD");
    // every truncation and every single-byte change is refused (the checksum, then the checks)
    for (size_t n = 0; n < bin.size(); n++)
        expect_error(ErrorKind::InvalidBinary, [&] { DriftDetector::decode(reinterpret_cast<const uint8_t*>(bin.data()), n); });
    for (size_t i = 0; i < bin.size(); i++) {
        std::string b = bin;
        b[i] = char(b[i] ^ 0x20);
        expect_error(ErrorKind::InvalidBinary, [&] { DriftDetector::decode(b); });
    }
    // (impossible states with a consistent checksum: TextFormIsValidated, through the same check)
}

TEST(Detectors, TextFormIsValidated) {
    DriftDetector d = make("kswin", R"({"window_size": 10, "stat_size": 5, "seed": 3})");
    for (int i = 0; i < 12; i++) d.update(i);
    const json j = json::parse(d.to_text());
    EXPECT_EQ(j["kind"], "kswin");
    EXPECT_EQ(j["state"]["window"].size(), 10u);
    auto bad = [](json t, const char* needle) {
        const std::string m = expect_error(ErrorKind::InvalidText, [&] { DriftDetector::from_text(t.dump()); });
        EXPECT_NE(m.find(needle), std::string::npos) << m;
    };
    json t = j;
    t["extra"] = 1;
    bad(t, "unknown key \"extra\"");
    t = j;
    t["options"]["stat_size"] = 6;
    bad(t, "\"stat_size\" must be at most half");
    t = j;
    t["state"]["window"].push_back(1.0);
    bad(t, "the window holds more values than it can");
    t = j;
    t["detections"] = 5;
    t["last_change"] = 0;
    bad(t, "the last change does not match");
    t = j;
    t["state"]["pvalue"] = 2;
    bad(t, "the last test is out of range");
    t = j;
    t.erase("n");
    bad(t, "missing key \"n\"");
    t = j;
    t["kind"] = "ADWIN";
    bad(t, "\"kind\" must be");
    bad(json::parse("[]"), "a JSON object was expected");
    expect_error(ErrorKind::InvalidText, [&] { DriftDetector::from_text(std::string("{\"a\":") + std::string(20, '[')); });
}

// ---- quality: detection delay and false alarms ------------------------------------------------

// Deterministic normal values (SplitMix64, Box-Muller).
struct Gen {
    uint64_t s;
    double uniform() { return double(core::detail::splitmix64(s) >> 11) * 0x1.0p-53; }
    double normal() {
        const double u = 1.0 - uniform(), v = uniform();
        return std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * v);
    }
};

struct Quality {
    double mean_delay;      // values from the change to its first detection (detected runs only)
    double missed;          // fraction of runs without a detection within the horizon
    double false_per_1000;  // detections before the change, per 1000 stable values
};

// runs streams of `stable` values of concept a, then `after` values of concept b.
template <typename A, typename B>
Quality measure(const std::string& kind, const std::string& opts, int runs, int stable, int after, A a, B b) {
    double delays = 0, detected = 0, falses = 0;
    for (int r = 0; r < runs; r++) {
        Gen g{uint64_t(1000 + r)};
        DriftDetector d = make(kind, opts);
        for (int i = 0; i < stable; i++) falses += d.update(a(g));
        for (int i = 1; i <= after; i++) {
            if (d.update(b(g))) {
                delays += i;
                detected++;
                break;
            }
        }
    }
    return {detected ? delays / detected : INFINITY, 1 - detected / runs, 1000 * falses / (double(runs) * stable)};
}

void report(const char* what, const Quality& q) {
    std::printf("[ quality  ] %-34s mean delay %7.1f, missed %4.1f%%, false alarms %.3f per 1000 values\n", what,
                q.mean_delay, 100 * q.missed, q.false_per_1000);
}

TEST(Detectors, QualityDelayAndFalseAlarms) {
    // A mean shift of one standard deviation in a normal stream.
    auto n0 = [](Gen& g) { return g.normal(); };
    auto n1 = [](Gen& g) { return 1.0 + g.normal(); };
    // An error rate from 0.1 to 0.3 (0/1 errors).
    auto e1 = [](Gen& g) { return g.uniform() < 0.1 ? 1.0 : 0.0; };
    auto e3 = [](Gen& g) { return g.uniform() < 0.3 ? 1.0 : 0.0; };
    // A mean shift of two standard deviations for KSWIN, whose test sees only stat_size (30)
    // recent values: its statistic must reach about 0.43 for p <= 0.005 (a shift of one sd gives
    // 0.38 in the limit, a change of sd from 1 to 3 only 0.23: mostly missed).
    auto n2 = [](Gen& g) { return 2.0 + g.normal(); };

    const Quality adwin = measure("adwin", "{}", 30, 3000, 1000, n0, n1);
    report("adwin, mean shift 1 sd", adwin);
    EXPECT_LE(adwin.mean_delay, 150);
    EXPECT_EQ(adwin.missed, 0);
    EXPECT_LE(adwin.false_per_1000, 0.05);

    const Quality adwin_err = measure("adwin", "{}", 30, 3000, 2000, e1, e3);
    report("adwin, error rate 0.1 -> 0.3", adwin_err);
    EXPECT_LE(adwin_err.mean_delay, 250);
    EXPECT_EQ(adwin_err.missed, 0);
    EXPECT_LE(adwin_err.false_per_1000, 0.05);

    const Quality ph = measure("page_hinkley", "{}", 30, 3000, 1000, n0, n1);
    report("page_hinkley, mean shift 1 sd", ph);
    EXPECT_LE(ph.mean_delay, 150);
    EXPECT_EQ(ph.missed, 0);
    // (the cumulative sum of x - mean over a stable stretch is a random walk: at threshold 50 it
    // sometimes crosses; measured 0.48 per 1000 values)
    EXPECT_LE(ph.false_per_1000, 1.0);

    const Quality ddm = measure("ddm", "{}", 30, 3000, 2000, e1, e3);
    report("ddm, error rate 0.1 -> 0.3", ddm);
    EXPECT_LE(ddm.mean_delay, 400);
    EXPECT_LE(ddm.missed, 0.05);
    EXPECT_LE(ddm.false_per_1000, 0.5);

    const Quality ks = measure("kswin", "{}", 30, 3000, 1000, n0, n2);
    report("kswin, mean shift 2 sd", ks);
    EXPECT_LE(ks.mean_delay, 60);
    EXPECT_EQ(ks.missed, 0);
    // KSWIN tests at every value once its window is full; its alarms on a stable stream are
    // river's too (alpha 0.005 per test, tests strongly correlated).
    EXPECT_LE(ks.false_per_1000, 3.0);
}

}  // namespace
}  // namespace pg_learn::test
