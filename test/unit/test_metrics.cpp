// Metric accumulators: exact sums by hand, every metric against scikit-learn (metrics_ref.py),
// inverse transitions, merges and both serialized forms.
#include "core/metrics/metrics.hpp"

#include "core/common/byte_codec.hpp"
#include "test_util.hpp"
#include "core/common/xxhash.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <random>
#include <sstream>

namespace pg_learn::test {
namespace {

using core::CalibrationBins;
using core::ExactSum;
using core::MetricKind;
using core::MetricState;
using core::RankingCounts;
using core::RankingWindow;
using core::RegressionSums;
using core::ScoreCount;
using nlohmann::json;

constexpr double kTol = 1e-9;

const json& reference() {
    static json j = read_reference("expected_metrics.json");
    return j;
}

::testing::AssertionResult close(std::optional<double> got, const json& want, const std::string& what,
                                 double tol = kTol) {
    if (want.is_null()) {
        if (!got) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << what << ": got " << *got << ", reference undefined (null)";
    }
    if (!got) return ::testing::AssertionFailure() << what << ": got undefined, reference " << want;
    const double w = want.get<double>();
    if (std::fabs(*got - w) <= tol * std::max(1.0, std::fabs(w)) || *got == w) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ": got " << std::setprecision(17) << *got << ", reference " << w
                                         << " (relative diff " << (*got - w) / w << ")";
}

// Relative, not absolute, for values far from 1 (1e150 residuals, 1e-154 errors).
::testing::AssertionResult rel_close(std::optional<double> got, const json& want, const std::string& what) {
    if (want.is_null() || !got) return close(got, want, what);
    const double w = want.get<double>();
    if (*got == w || std::fabs(*got - w) <= kTol * std::fabs(w)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ": got " << std::setprecision(17) << *got << ", reference " << w
                                         << " (relative diff " << (*got - w) / w << ")";
}

void expect_array(const json& got, const json& want, const std::string& what, bool identical) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < want.size(); i++) {
        const double g = got[i].get<double>(), w = want[i].get<double>();
        if (identical) EXPECT_EQ(bits(g), bits(w)) << what << "[" << i << "]: " << g << " vs " << w;
        else EXPECT_TRUE(close(g, w, what + "[" + std::to_string(i) + "]"));
    }
}

MetricState ranking_of(const json& c) {
    MetricState s = MetricState::make_ranking();
    for (size_t i = 0; i < c["score"].size(); i++)
        s.as<RankingCounts>().add(c["score"][i].get<double>(), c["label"][i].get<int>() == 1);
    return s;
}

// ---- ExactSum by hand ----------------------------------------------------------------------------

TEST(ExactSum, SumsWithoutRounding) {
    ExactSum s;
    for (int i = 0; i < 10; i++) s.add(0.1);
    // 10 * fl(0.1) = 10 * 0x1999999999999a / 2^56 = (2^54 + 1) / 2^54 = 1 + 2^-54, exactly; the
    // nearest double is 1.0.
    EXPECT_EQ(s.to_hex(), "0x40000000000001p-54");
    EXPECT_EQ(s.to_double(), 1.0);
    // Catastrophic cancellation is not a problem for an exact sum.
    ExactSum c;
    c.add(1e100);
    c.add(1.0);
    c.sub(1e100);
    EXPECT_EQ(c.to_double(), 1.0);
    c.add(-1.0);
    EXPECT_TRUE(c.is_zero());
    EXPECT_EQ(c.to_hex(), "0");
    // Signs cross zero many times at small magnitudes far below the top of the range.
    ExactSum z;
    z.add(1e300);
    z.sub(1e300);
    for (int i = 0; i < 100; i++) (i % 2 ? z.sub(3e-300) : z.add(3e-300));
    EXPECT_TRUE(z.is_zero());
}

TEST(ExactSum, ProductsAreExact) {
    ExactSum s;
    // (2^53 - 1)^2 = 2^106 - 2^54 + 1 needs 106 bits.
    const double m = 9007199254740991.0;
    s.add_product(m, m);
    EXPECT_EQ(s.to_hex(), "0x3ffffffffffffc0000000000001p0");
    ExactSum h;
    h.add(1.5);
    EXPECT_EQ(h.to_hex(), "0x3p-1");
    h.add(10.5);
    EXPECT_EQ(h.to_hex(), "0x3p2");
    s.sub(std::ldexp(1.0, 106));
    s.add(std::ldexp(1.0, 54));
    EXPECT_EQ(s.to_double(), 1.0);
    // Beyond the double range: 1e300^2, held exactly, read through the scaled form.
    ExactSum big;
    big.add_product(1e300, 1e300);
    EXPECT_TRUE(std::isinf(big.to_double()));
    ExactSum::Scaled sc = big.scaled();
    EXPECT_NEAR(std::log2(std::fabs(sc.mant)) + double(sc.exp), 2 * std::log2(1e300), 1e-12);
    big.sub_product(1e300, 1e300);
    EXPECT_TRUE(big.is_zero());
    // Subnormal times subnormal: 2^-2148, the bottom of the range.
    ExactSum tiny;
    tiny.add_product(std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::denorm_min());
    EXPECT_EQ(tiny.to_hex(), "0x1p-2148");
    EXPECT_EQ(tiny.to_double(), 0.0);
    EXPECT_EQ(tiny.sign(), 1);
}

TEST(ExactSum, RoundsToNearestEven) {
    const double u = std::ldexp(1.0, -53);  // half an ulp of 1
    ExactSum a;
    a.add(1.0);
    a.add(u);  // a tie: stays at 1 (even)
    EXPECT_EQ(a.to_double(), 1.0);
    a.add(std::ldexp(1.0, -200));  // just above the tie
    EXPECT_EQ(a.to_double(), std::nextafter(1.0, 2.0));
    ExactSum b;
    b.add(std::nextafter(1.0, 2.0));
    b.add(u);  // a tie from an odd mantissa: rounds up
    EXPECT_EQ(b.to_double(), 1.0 + 4 * u);
    ExactSum c;
    c.sub(1.0);
    c.sub(std::ldexp(1.0, -200));
    EXPECT_EQ(c.to_double(), -1.0);
    EXPECT_EQ(c.sign(), -1);
}

TEST(ExactSum, OrderAndMergeDoNotMatter) {
    std::mt19937_64 rng(7);
    std::vector<double> v;
    std::normal_distribution<double> nd;
    for (int i = 0; i < 2000; i++) v.push_back(nd(rng) * std::pow(10.0, double(int(rng() % 40)) - 20));
    ExactSum a, b, left, right;
    for (double x : v) a.add_product(x, x + 1);
    std::shuffle(v.begin(), v.end(), rng);
    for (size_t i = 0; i < v.size(); i++) (i < 700 ? left : right).add_product(v[i], v[i] + 1);
    left.add(right);
    for (double x : v) b.add_product(x, x + 1);
    EXPECT_EQ(a, b);
    EXPECT_EQ(a, left);
    // Removing what was added restores the previous value bit for bit.
    ExactSum c = a;
    for (int i = 0; i < 500; i++) c.add_product(v[size_t(i)], 3.0);
    for (int i = 0; i < 500; i++) c.sub_product(v[size_t(i)], 3.0);
    EXPECT_EQ(c, a);
}

// A long running sum stays a few limbs wide, and an emptied one is the canonical zero.
TEST(ExactSum, StaysCompact) {
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> u(-1, 1);
    ExactSum s;
    std::vector<double> v(100000);
    for (auto& x : v) {
        x = u(rng) * 1e8;
        s.add(x);
        s.add_product(x, x);
    }
    // Sums below 2^80; the low end is set by the smallest |x| drawn (~1e8 * 1e-5) and its square's
    // last bit: a handful of limbs, not the 72 the full range would take.
    EXPECT_LE(s.encoded_size(), 4u + 8 * 6);
    for (double x : v) {
        s.sub(x);
        s.sub_product(x, x);
    }
    EXPECT_TRUE(s.is_zero());
    EXPECT_EQ(s, ExactSum());
    EXPECT_EQ(s.encoded_size(), 4u);
    EXPECT_EQ(s.to_hex(), "0");
}

TEST(ExactSum, TimesAndHexRoundTrip) {
    ExactSum a, b;
    a.add(-3.5);
    a.add(std::ldexp(1.0, -80));
    b.add(1e20);
    b.add(-7.25);
    ExactSum p = a.times(b);
    // (-3.5 + 2^-80)(1e20 - 7.25) expanded by hand with exact products.
    ExactSum q;
    q.add_product(-3.5, 1e20);
    q.add_product(-3.5, -7.25);
    q.add_product(std::ldexp(1.0, -80), 1e20);
    q.add_product(std::ldexp(1.0, -80), -7.25);
    EXPECT_EQ(p, q);
    EXPECT_EQ(a.times(uint64_t(3)).to_double(), -10.5);
    for (const ExactSum& x : {a, b, p, q, ExactSum()}) EXPECT_EQ(ExactSum::from_hex(x.to_hex()), x) << x.to_hex();
    EXPECT_EQ(ExactSum::from_hex("0x18p-1").to_double(), 12.0);
    EXPECT_EQ(ExactSum::from_hex("-0x1p+3").to_double(), -8.0);
    EXPECT_EQ(ExactSum::from_hex("0xAbp0").to_double(), 171.0);
    for (const char* bad : {"", "1", "0x", "0xp1", "0x1", "0x1p", "0x1p1.5", "0xgp0", " 0x1p0", "0x1p12345678", "0x1P3", "0X1p3"})
        expect_error(ErrorKind::InvalidText, [&] { ExactSum::from_hex(bad); });
    expect_error(ErrorKind::InvalidParameter, [] { ExactSum::from_hex("0x1p9999"); });
}

// ---- binary metrics against scikit-learn ---------------------------------------------------------

void check_binary(const json& c, const MetricState& s) {
    const std::string name = c["name"];
    // The AUC is exact: bit-identical to the rational Mann-Whitney value rounded once; sklearn's
    // trapezoid sum in floating point can differ from it in the last bit or two.
    std::optional<double> auc = s.auc();
    if (c["auc_exact"].is_null()) {
        EXPECT_FALSE(auc) << name;
    } else {
        ASSERT_TRUE(auc) << name;
        EXPECT_EQ(bits(*auc), bits(c["auc_exact"].get<double>())) << name << " " << std::setprecision(17) << *auc;
        EXPECT_TRUE(close(auc, c["auc"], name + " auc vs sklearn", 1e-15));
    }
    if (c["roc"].is_null()) {
        EXPECT_FALSE(s.roc_curve(true)) << name;
    } else {
        for (bool drop : {true, false}) {
            auto r = s.roc_curve(drop);
            ASSERT_TRUE(r) << name;
            const json& w = c["roc"][drop ? "drop" : "all"];
            for (const char* k : {"fpr", "tpr", "thresholds"}) expect_array((*r)[k], w[k], name + " roc " + k, true);
        }
    }
    auto pr = s.pr_curve();
    ASSERT_TRUE(pr);
    for (const char* k : {"precision", "recall", "thresholds"}) expect_array((*pr)[k], c["pr"][k], name + " pr " + k, true);
    for (const json& t : c["thresholds"]) {
        const double th = t["threshold"];
        const std::string at = name + " at " + std::to_string(th);
        EXPECT_TRUE(close(s.accuracy(th), t["accuracy"], at + " accuracy"));
        EXPECT_TRUE(close(s.precision(th), t["precision"], at + " precision"));
        EXPECT_TRUE(close(s.recall(th), t["recall"], at + " recall"));
        EXPECT_TRUE(close(s.f1(th), t["f1"], at + " f1"));
        auto cm = s.confusion_matrix(th);
        ASSERT_TRUE(cm);
        for (const char* k : {"tn", "fp", "fn", "tp"}) EXPECT_EQ((*cm)[k], t[k]) << at << " " << k;
        // The compact confusion state counts the same.
        MetricState cs = MetricState::make_confusion(th);
        for (size_t i = 0; i < c["score"].size(); i++)
            cs.as<core::ConfusionCounts>().add(c["score"][i].get<double>(), c["label"][i].get<int>() == 1);
        EXPECT_EQ(*cs.confusion_matrix(), *cm) << at;
        EXPECT_TRUE(close(cs.f1(), t["f1"], at + " f1 (confusion state)"));
    }
    if (c["probabilities"].get<bool>()) {
        EXPECT_TRUE(close(s.logloss(), c["logloss"], name + " logloss"));
        MetricState ls = MetricState::make_logloss();
        for (size_t i = 0; i < c["score"].size(); i++)
            ls.as<core::LogLossSum>().add(c["score"][i].get<double>(), c["label"][i].get<int>() == 1);
        EXPECT_TRUE(close(ls.logloss(), c["logloss"], name + " logloss (logloss state)"));
        for (const json& cal : c["calibration"]) {
            const int64_t nb = cal["n_bins"];
            MetricState cs = MetricState::make_calibration(nb);
            for (size_t i = 0; i < c["score"].size(); i++)
                cs.as<CalibrationBins>().add(c["score"][i].get<double>(), c["label"][i].get<int>() == 1);
            for (const MetricState* st : std::initializer_list<const MetricState*>{&s, &cs}) {
                auto got = st->calibration(nb);
                ASSERT_TRUE(got);
                const std::string w = name + " calibration " + std::to_string(nb);
                EXPECT_EQ((*got)["bin"], cal["bin"]) << w;
                EXPECT_EQ((*got)["count"], cal["count"]) << w;
                expect_array((*got)["mean_predicted"], cal["mean_predicted"], w + " mean_predicted", false);
                expect_array((*got)["fraction_positive"], cal["fraction_positive"], w + " fraction_positive", false);
            }
        }
    } else {
        expect_error(ErrorKind::InvalidParameter, [&] { s.logloss(); });
        expect_error(ErrorKind::InvalidParameter, [&] { s.calibration(); });
    }
}

TEST(BinaryMetrics, MatchScikitLearn) {
    for (const json& c : reference()["binary"]) {
        SCOPED_TRACE(c["name"].get<std::string>());
        check_binary(c, ranking_of(c));
    }
}

TEST(BinaryMetrics, SameAfterMergeAndBothForms) {
    for (const json& c : reference()["binary"]) {
        SCOPED_TRACE(c["name"].get<std::string>());
        const MetricState whole = ranking_of(c);
        // Three partial states over interleaved rows, merged.
        std::vector<MetricState> parts(3, MetricState::make_ranking());
        for (size_t i = 0; i < c["score"].size(); i++)
            parts[(i * 7) % 3].as<RankingCounts>().add(c["score"][i].get<double>(), c["label"][i].get<int>() == 1);
        parts[2].merge(parts[0]);
        parts[2].merge(parts[1]);
        EXPECT_TRUE(parts[2] == whole);
        std::vector<uint8_t> buf(whole.encoded_size());
        whole.encode(buf.data(), buf.size());
        MetricState back = MetricState::decode(buf.data(), buf.size());
        EXPECT_TRUE(back == whole);
        const std::string text = whole.to_text();
        MetricState fromtext = MetricState::from_text(text.data(), text.size());
        EXPECT_TRUE(fromtext == whole);
        check_binary(c, fromtext);
    }
}

// The window treap agrees with a fresh plain state after every add and remove.
TEST(BinaryMetrics, WindowMatchesPlainOverEveryFrame) {
    for (const char* which : {"ties_heavy", "rounded", "offset_1e8"}) {
        const json* cp = nullptr;
        for (const json& c : reference()["binary"])
            if (c["name"] == which) cp = &c;
        ASSERT_TRUE(cp);
        const json& c = *cp;
        const size_t n = std::min<size_t>(c["score"].size(), 500), w = 37;
        RankingWindow win;
        for (size_t i = 0; i < n; i++) {
            win.add(c["score"][i].get<double>(), c["label"][i].get<int>() == 1);
            if (i >= w) win.remove(c["score"][i - w].get<double>(), c["label"][i - w].get<int>() == 1);
            RankingCounts plain;
            for (size_t j = i >= w ? i - w + 1 : 0; j <= i; j++)
                plain.add(c["score"][j].get<double>(), c["label"][j].get<int>() == 1);
            auto a = win.auc(), b = core::ranking::auc(plain.distinct());
            ASSERT_EQ(a.has_value(), b.has_value()) << which << " row " << i;
            if (a) {
                ASSERT_EQ(bits(*a), bits(*b)) << which << " row " << i;
            }
            const auto d1 = win.distinct();
            const auto& d2 = plain.distinct();
            ASSERT_EQ(d1.size(), d2.size());
            for (size_t k = 0; k < d1.size(); k++) {
                ASSERT_EQ(d1[k].score, d2[k].score);
                ASSERT_EQ(d1[k].pos, d2[k].pos);
                ASSERT_EQ(d1[k].neg, d2[k].neg);
            }
            // RankingCounts::remove too.
            if (i >= w) {
                RankingCounts r = plain;
                r.add(c["score"][i - w].get<double>(), c["label"][i - w].get<int>() == 1);
                r.remove(c["score"][i - w].get<double>(), c["label"][i - w].get<int>() == 1);
                ASSERT_EQ(r.distinct().size(), d2.size());
            }
        }
        // Emptied completely, then used again.
        for (size_t i = n - w; i < n; i++) win.remove(c["score"][i].get<double>(), c["label"][i].get<int>() == 1);
        EXPECT_EQ(win.distinct_count(), 0u);
        EXPECT_FALSE(win.auc());
        win.add(0.5, true);
        win.add(0.25, false);
        EXPECT_EQ(*win.auc(), 1.0);
    }
}

TEST(BinaryMetrics, HandComputedTies) {
    // Scores 1,1,2,2 with labels 0,1,0,1: pairs (pos,neg): (1,1) tie, (1,2) wrong, (2,1) right,
    // (2,2) tie: U = 1 + 0.5 + 0.5 = 2 of 4.
    MetricState s = MetricState::make_ranking();
    auto& r = s.as<RankingCounts>();
    r.add(1, false);
    r.add(1, true);
    r.add(2, false);
    r.add(2, true);
    EXPECT_EQ(*s.auc(), 0.5);
    r.add(3, true);  // + 2 right pairs: 4 of 6
    EXPECT_EQ(*s.auc(), 4.0 / 6.0);
    auto roc = *s.roc_curve(false);
    EXPECT_EQ(roc["thresholds"], json({4.0, 3.0, 2.0, 1.0}));
    EXPECT_EQ(roc["tpr"], json({0.0, 1.0 / 3, 2.0 / 3, 1.0}));
    EXPECT_EQ(roc["fpr"], json({0.0, 0.0, 0.5, 1.0}));
    // -0 and +0 are one score.
    MetricState z = MetricState::make_ranking();
    z.as<RankingCounts>().add(-0.0, true);
    z.as<RankingCounts>().add(0.0, false);
    EXPECT_EQ(z.as<RankingCounts>().distinct().size(), 1u);
    EXPECT_EQ(*z.auc(), 0.5);
}

TEST(BinaryMetrics, LargeStateSortsInBatches) {
    // More rows than one batch: waiting rows are sorted in; the result is the same as a merge of
    // single-row states and the AUC is the exact count.
    std::mt19937_64 rng(3);
    RankingCounts a;
    RankingWindow w;
    for (int i = 0; i < 30000; i++) {
        const double s = double(rng() % 5000) / 100;
        const bool y = (rng() % 3) == 0;
        a.add(s, y);
        w.add(s, y);
    }
    EXPECT_EQ(bits(*core::ranking::auc(a.distinct())), bits(*w.auc()));
}

// ---- regression against scikit-learn -------------------------------------------------------------

RegressionSums regression_of(const json& c, size_t from = 0, size_t to = SIZE_MAX) {
    RegressionSums r;
    to = std::min(to, c["y"].size());
    for (size_t i = from; i < to; i++) r.add(c["pred"][i].get<double>(), c["y"][i].get<double>());
    return r;
}

TEST(RegressionMetrics, MatchScikitLearn) {
    for (const json& c : reference()["regression"]) {
        const std::string name = c["name"];
        SCOPED_TRACE(name);
        MetricState s(regression_of(c));
        EXPECT_TRUE(rel_close(s.mae(), c["mae"], name + " mae"));
        EXPECT_TRUE(rel_close(s.rmse(), c["rmse"], name + " rmse"));
        EXPECT_TRUE(close(s.r2(), c["r2"], name + " r2"));
        EXPECT_TRUE(rel_close(s.mape(), c["mape"], name + " mape"));
        // The mean of signed errors cancels: compare relative to the mean absolute error.
        ASSERT_TRUE(s.mean_error());
        EXPECT_LE(std::fabs(*s.mean_error() - c["mean_error"].get<double>()), kTol * c["mae"].get<double>() + 1e-300)
            << name << " mean_error " << *s.mean_error() << " vs " << c["mean_error"];
        // Both serialized forms and a three-way merge give the same state, bit for bit.
        std::vector<uint8_t> buf(s.encoded_size());
        s.encode(buf.data(), buf.size());
        EXPECT_TRUE(MetricState::decode(buf.data(), buf.size()) == s);
        const std::string text = s.to_text();
        EXPECT_TRUE(MetricState::from_text(text.data(), text.size()) == s);
        const size_t n = c["y"].size();
        MetricState m(regression_of(c, n / 3, 2 * n / 3));
        m.merge(MetricState(regression_of(c, 0, n / 3)));
        m.merge(MetricState(regression_of(c, 2 * n / 3)));
        EXPECT_TRUE(m == s);
    }
}

TEST(RegressionMetrics, RemoveRestoresEveryFrameExactly) {
    for (const json& c : reference()["regression"]) {
        SCOPED_TRACE(c["name"].get<std::string>());
        const size_t n = std::min<size_t>(c["y"].size(), 120), w = 9;
        RegressionSums win;
        for (size_t i = 0; i < n; i++) {
            win.add(c["pred"][i].get<double>(), c["y"][i].get<double>());
            if (i >= w) win.remove(c["pred"][i - w].get<double>(), c["y"][i - w].get<double>());
            ASSERT_TRUE(MetricState(win) == MetricState(regression_of(c, i >= w ? i - w + 1 : 0, i + 1))) << i;
        }
    }
}

TEST(RegressionMetrics, HandComputed) {
    RegressionSums r;
    r.add(3, 1);   // e = 2
    r.add(1, 2);   // e = -1
    r.add(4, 4);   // e = 0
    MetricState s(r);
    EXPECT_EQ(*s.mae(), 1.0);
    EXPECT_EQ(*s.mean_error(), 1.0 / 3);
    EXPECT_EQ(*s.rmse(), std::sqrt(5.0 / 3));
    // y = 1, 2, 4: mean 7/3, SS_tot = 16/9 + 1/9 + 25/9 = 42/9; R^2 = 1 - 5 / (42/9) = 1 - 45/42.
    EXPECT_DOUBLE_EQ(*s.r2(), 1 - 45.0 / 42);
    EXPECT_DOUBLE_EQ(*s.mape(), (2.0 / 1 + 1.0 / 2 + 0) / 3);
    // 1e8 offsets: y = 1e8 + {0, 1, 2}, pred = y: R^2 exactly 1; pred = mean: exactly 0.
    RegressionSums o;
    for (double d : {0.0, 1.0, 2.0}) o.add(1e8 + 1, 1e8 + d);
    EXPECT_EQ(*MetricState(o).r2(), 0.0);
    EXPECT_EQ(*MetricState(o).rmse(), std::sqrt(2.0 / 3));
    // Residuals beyond the double range stay exact.
    RegressionSums h;
    h.add(1.5e308, -1.5e308);
    EXPECT_EQ(*MetricState(h).mae(), std::numeric_limits<double>::infinity());  // 3e308 > DBL_MAX
    EXPECT_EQ(*MetricState(h).mean_error(), std::numeric_limits<double>::infinity());
    h.add(-1.5e308, 1.5e308);
    EXPECT_EQ(*MetricState(h).mean_error(), 0.0);
    // MAPE's terms are rounded per row as sklearn's: |pred - y| overflows, the term is infinite.
    EXPECT_EQ(*MetricState(h).mape(), std::numeric_limits<double>::infinity());
    EXPECT_EQ(*MetricState(h).r2(), -3.0);  // SS_res = 2 * (3e308)^2, SS_tot = 2 * (1.5e308)^2
    // MAPE with y = 0 divides by eps; with an infinite term it is infinite, as sklearn.
    RegressionSums z;
    z.add(1e300, 0);
    EXPECT_EQ(*MetricState(z).mape(), std::numeric_limits<double>::infinity());
    z.remove(1e300, 0);
    z.add(1, 0);
    EXPECT_EQ(*MetricState(z).mape(), 1 / std::numeric_limits<double>::epsilon());
    // Undefined: nothing, or R^2 of one row.
    EXPECT_FALSE(MetricState::make_regression().mae());
    EXPECT_FALSE(MetricState(z).r2());
}

// ---- equality, errors, and the validated forms ---------------------------------------------------

TEST(Metrics, EqualityAndKinds) {
    MetricState e = MetricState::make_equality();
    e.as<core::EqualityCounts>().add(true);
    e.as<core::EqualityCounts>().add(false);
    e.as<core::EqualityCounts>().add(true);
    EXPECT_EQ(*e.accuracy(), 2.0 / 3);
    e.as<core::EqualityCounts>().remove(false);
    EXPECT_EQ(*e.accuracy(), 1.0);
    expect_error(ErrorKind::InvalidParameter, [&] { e.auc(); });
    expect_error(ErrorKind::InvalidParameter, [&] { e.accuracy(0.5); });
    expect_error(ErrorKind::InvalidParameter, [&] { e.merge(MetricState::make_ranking()); });
    expect_error(ErrorKind::InvalidParameter, [&] { MetricState::make_regression().auc(); });
    expect_error(ErrorKind::InvalidParameter, [&] { MetricState::make_ranking().mae(); });
    MetricState c5 = MetricState::make_confusion(0.5);
    expect_error(ErrorKind::InvalidParameter, [&] { c5.merge(MetricState::make_confusion(0.6)); });
    expect_error(ErrorKind::InvalidParameter, [&] { c5.precision(0.6); });
    EXPECT_FALSE(c5.precision(0.5));  // empty: undefined
    expect_error(ErrorKind::InvalidParameter,
                 [&] { MetricState::make_calibration(10).merge(MetricState::make_calibration(5)); });
    expect_error(ErrorKind::InvalidParameter, [&] { MetricState::make_calibration(10).calibration(5); });
    expect_error(ErrorKind::InvalidParameter, [] { MetricState::make_calibration(0); });
    expect_error(ErrorKind::InvalidParameter, [] { MetricState::make_calibration(10001); });
    expect_error(ErrorKind::InvalidParameter, [] { MetricState::make_confusion(std::nan("")); });
}

TEST(Metrics, BadInputs) {
    const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
    RankingCounts r;
    expect_error(ErrorKind::NumericRange, [&] { r.add(nan, true); });
    expect_error(ErrorKind::NumericRange, [&] { r.add(-inf, true); });
    expect_error(ErrorKind::InvalidParameter, [&] { r.remove(0.5, true); });
    RankingWindow w;
    expect_error(ErrorKind::NumericRange, [&] { w.add(inf, false); });
    w.add(0.5, true);
    expect_error(ErrorKind::InvalidParameter, [&] { w.remove(0.5, false); });
    expect_error(ErrorKind::InvalidParameter, [&] { w.remove(0.25, true); });
    core::LogLossSum l;
    expect_error(ErrorKind::InvalidParameter, [&] { l.add(1.5, true); });
    expect_error(ErrorKind::InvalidParameter, [&] { l.add(-0.1, true); });
    expect_error(ErrorKind::NumericRange, [&] { l.add(nan, true); });
    expect_error(ErrorKind::InvalidParameter, [&] { l.remove(0.5, true); });
    CalibrationBins cb;
    expect_error(ErrorKind::InvalidParameter, [&] { cb.add(2, true); });
    RegressionSums g;
    expect_error(ErrorKind::NumericRange, [&] { g.add(nan, 1); });
    expect_error(ErrorKind::NumericRange, [&] { g.add(1, -inf); });
    expect_error(ErrorKind::InvalidParameter, [&] { g.remove(1, 1); });
    // A ranking state with scores outside [0, 1] has no log loss or calibration.
    MetricState s = MetricState::make_ranking();
    s.as<RankingCounts>().add(3, true);
    expect_error(ErrorKind::InvalidParameter, [&] { s.logloss(); });
    expect_error(ErrorKind::InvalidParameter, [&] { s.calibration(); });
}

std::vector<MetricState> one_of_each() {
    std::vector<MetricState> v;
    v.push_back(MetricState::make_ranking());
    v.back().as<RankingCounts>().add(0.25, true);
    v.back().as<RankingCounts>().add(0.75, false);
    v.push_back(MetricState::make_confusion(0.3));
    v.back().as<core::ConfusionCounts>().add(0.25, true);
    v.push_back(MetricState::make_logloss());
    v.back().as<core::LogLossSum>().add(0.1, true);
    v.push_back(MetricState::make_calibration(4));
    v.back().as<CalibrationBins>().add(0.9, false);
    v.push_back(MetricState::make_regression());
    v.back().as<RegressionSums>().add(1.1, 1e8);
    v.push_back(MetricState::make_equality());
    v.back().as<core::EqualityCounts>().add(true);
    v.push_back(MetricState::make_regression());  // empty
    return v;
}

TEST(MetricForms, EveryTruncationAndByteFlipIsRejected) {
    for (const MetricState& s : one_of_each()) {
        SCOPED_TRACE(core::metric_kind_name(s.kind()));
        std::vector<uint8_t> buf(s.encoded_size());
        s.encode(buf.data(), buf.size());
        EXPECT_TRUE(MetricState::decode(buf.data(), buf.size()) == s);
        for (size_t k = 0; k < buf.size(); k++)
            expect_error(ErrorKind::InvalidBinary, [&] { MetricState::decode(buf.data(), k); });
        for (size_t k = 0; k < buf.size(); k++) {
            std::vector<uint8_t> b = buf;
            b[k] ^= 0x5A;
            expect_error(ErrorKind::InvalidBinary, [&] { MetricState::decode(b.data(), b.size()); });
        }
        std::vector<uint8_t> longer = buf;
        longer.push_back(0);
        expect_error(ErrorKind::InvalidBinary, [&] { MetricState::decode(longer.data(), longer.size()); });
        const std::string t = s.to_text();
        EXPECT_TRUE(MetricState::from_text(t.data(), t.size()) == s) << t;
    }
}

// A corrupted payload with a recomputed checksum is still caught by the semantic checks.
TEST(MetricForms, ConsistentChecksumButInconsistentContent) {
    auto reencode = [](std::vector<uint8_t>& b) {
        const uint64_t sum = core::xxh64(b.data() + 24, b.size() - 24);
        std::memcpy(b.data() + 16, &sum, 8);
    };
    MetricState r = one_of_each()[0];
    std::vector<uint8_t> buf(r.encoded_size());
    r.encode(buf.data(), buf.size());
    {
        auto b = buf;  // class count of the header disagrees with the scores
        b[24] = 7;
        reencode(b);
        std::string msg = expect_error(ErrorKind::InvalidBinary, [&] { MetricState::decode(b.data(), b.size()); });
        EXPECT_NE(msg.find("class counts"), std::string::npos) << msg;
    }
    {
        auto b = buf;  // second score made equal to the first: not strictly ascending
        std::memcpy(b.data() + 48 + 24, b.data() + 48, 8);
        reencode(b);
        std::string msg = expect_error(ErrorKind::InvalidBinary, [&] { MetricState::decode(b.data(), b.size()); });
        EXPECT_NE(msg.find("ascending"), std::string::npos) << msg;
    }
    MetricState e = one_of_each()[5];
    std::vector<uint8_t> eb(e.encoded_size());
    e.encode(eb.data(), eb.size());
    eb[24] = 2;  // equal = 2 > total = 1
    reencode(eb);
    std::string msg = expect_error(ErrorKind::InvalidBinary, [&] { MetricState::decode(eb.data(), eb.size()); });
    EXPECT_NE(msg.find("more equal rows"), std::string::npos) << msg;
}

TEST(MetricForms, TextIsValidated) {
    auto parse = [](const std::string& s) { return MetricState::from_text(s.data(), s.size()); };
    EXPECT_EQ(parse(R"({"version":1,"kind":"equality","equal":2,"total":3})").accuracy().value(), 2.0 / 3);
    EXPECT_EQ(parse(R"({"version":1,"kind":"ranking","positives":1,"negatives":1,"scores":[[0.1,0,1],[0.2,1,0]]})")
                  .auc()
                  .value(),
              1.0);
    EXPECT_EQ(parse(R"({"version":1,"kind":"logloss","count":1,"positives":1,"sum":"0x1p-1"})").logloss().value(), 0.5);
    for (const char* bad : {"", "[]", "{", R"({"version":1})", R"({"version":2,"kind":"equality","equal":0,"total":0})",
                            R"({"version":1,"kind":"nope"})", R"({"version":1,"kind":"equality","equal":-1,"total":0})",
                            R"({"version":1,"kind":"equality","equal":1.5,"total":2})",
                            R"({"version":1,"kind":"equality","equal":0,"total":0,"extra":1})",
                            R"({"version":1,"kind":"logloss","count":1,"positives":0,"sum":0.5})",
                            R"({"version":1,"kind":"ranking","positives":0,"negatives":0,"scores":[[0.1,1]]})"})
        expect_error(ErrorKind::InvalidText, [&] { parse(bad); });
    for (const char* bad :
         {R"({"version":1,"kind":"equality","equal":4,"total":3})",
          R"({"version":1,"kind":"ranking","positives":1,"negatives":0,"scores":[[0.2,1,0],[0.1,0,0]]})",
          R"({"version":1,"kind":"ranking","positives":2,"negatives":0,"scores":[[0.2,1,0]]})",
          R"({"version":1,"kind":"logloss","count":1,"positives":0,"sum":"0x1p10"})",
          R"({"version":1,"kind":"logloss","count":1,"positives":0,"sum":"-0x1p-1"})",
          R"({"version":1,"kind":"confusion","threshold":0.5,"tp":18446744073709551615,"fp":1,"tn":0,"fn":0})",
          R"({"version":1,"kind":"calibration","bins":2,"count":[1,0],"positives":[0,0],"sum":["0x1p1","0"]})",
          R"({"version":1,"kind":"regression","count":0,"sum_error":"0x1p0","sum_abs_error":"0x1p0","sum_squared_error":"0",)"
          R"("sum_ape":"0","ape_infinite":0,"sum_y":"0","sum_y2":"0"})",
          R"({"version":1,"kind":"regression","count":2,"sum_error":"0","sum_abs_error":"0","sum_squared_error":"0",)"
          R"("sum_ape":"0","ape_infinite":0,"sum_y":"0x1p4","sum_y2":"0x1p0"})"})
        expect_error(ErrorKind::InvalidParameter, [&] { parse(bad); });
}

TEST(MetricForms, CalibrationBinsFollowLinspace) {
    // numpy.linspace(0, 1, 11)[3] = 0.30000000000000004: 0.3 is below it and falls in bin 2, and a
    // p exactly on an edge joins the lower bin (searchsorted side='left').
    EXPECT_EQ(core::calibration_bin(0.3, 10), 2u);
    EXPECT_EQ(core::calibration_bin(0.30000000000000004, 10), 2u);
    EXPECT_EQ(core::calibration_bin(0.3000000000000001, 10), 3u);
    EXPECT_EQ(core::calibration_bin(0.0, 10), 0u);
    EXPECT_EQ(core::calibration_bin(1.0, 10), 9u);
    EXPECT_EQ(core::calibration_bin(0.1, 10), 0u);
    EXPECT_EQ(core::calibration_bin(0.7, 10), 6u);  // edge 7 is 0.7000000000000001
    EXPECT_EQ(core::calibration_bin(0.5, 1), 0u);
}

}  // namespace
}  // namespace pg_learn::test
