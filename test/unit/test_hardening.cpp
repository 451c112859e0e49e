// Every stored model can be read back: random updates with extreme values (±1e308, subnormals,
// -0, values whose squares overflow, long streams) either keep the model encodable, decodable
// and re-encodable to the same bytes, or are refused at the update with a core::Error.
#include "test_util.hpp"

#include "core/common/text.hpp"
#include "core/metrics/class_metrics.hpp"
#include "core/metrics/metrics.hpp"
#include "core/models/model.hpp"
#include "core/sketches/hll.hpp"
#include "core/sketches/kll.hpp"
#include "core/sketches/space_saving.hpp"
#include "core/stats/feature_stats.hpp"
#include "core/stats/profile.hpp"

#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>

namespace pg_learn::core {
// The sketches' private state, to check that their encoders refuse what their decoders refuse
// (a state their public operations cannot produce; the friend declarations are in the headers).
struct SketchTestAccess {
    static std::vector<std::vector<double>>& levels(KllSketch& s) { return s.levels_; }
    static std::vector<uint64_t>& compactions(KllSketch& s) { return s.compactions_; }
    static uint64_t& n(KllSketch& s) { return s.n_; }
    static std::vector<uint8_t>& registers(HyperLogLog& h) { return h.regs_; }
    static SpaceSaving::Counter& counter(SpaceSaving& t, size_t j) { return t.counters_[j].c; }
    static uint64_t& bound(SpaceSaving& t) { return t.mu_; }
};
}  // namespace pg_learn::core

namespace pg_learn::test {
namespace {

using core::Label;
using core::Model;
using core::Observation;

void expect_round_trip(const Model& m, const std::string& where) {
    const std::vector<uint8_t> b = bytes_of(m);
    std::unique_ptr<Model> back;
    try {
        back = core::decode_model(b.data(), b.size());
    } catch (const core::Error& e) {
        FAIL() << where << ": a model that was stored cannot be read back: " << e.what();
    }
    EXPECT_EQ(bytes_of(*back), b) << where;
    const std::string text = m.to_text();
    EXPECT_EQ(core::model_from_text(text.data(), text.size())->to_text(), text) << where;
}

double extreme(std::mt19937_64& rng) {
    static const double values[] = {1e308, -1e308, 1e155, -1e155, 1.34e154, 1e154, 1e-310, -1e-310,
                                    std::numeric_limits<double>::denorm_min(), -0.0, 0.0, 1.0, -1.0,
                                    std::numeric_limits<double>::max(), -std::numeric_limits<double>::max(),
                                    1e-300, 3.5, -2.25, 1e6, 1e-6};
    std::uniform_int_distribution<size_t> pick(0, sizeof values / sizeof values[0] - 1);
    std::normal_distribution<double> normal(0.0, 1.0);
    return std::uniform_int_distribution<int>(0, 2)(rng) == 0 ? normal(rng) : values[pick(rng)];
}

class StoredModelsReadBack : public ::testing::TestWithParam<const char*> {};

TEST_P(StoredModelsReadBack, RandomExtremeUpdates) {
    std::mt19937_64 rng(20261206);
    std::unique_ptr<Model> m = core::model_from_text(GetParam(), std::strlen(GetParam()));
    const bool multi = m->task() == core::Task::Multiclass;
    size_t refused = 0, learned = 0;
    for (int step = 0; step < 1500; step++) {
        Observation x;
        x.add_numeric("a", extreme(rng));
        x.add_numeric("b", extreme(rng));
        if (step % 3 == 0) x.add_category("c", step % 2 ? "u" : "v");
        const double v = extreme(rng);
        Label y = multi ? Label::of_text(step % 3 == 0 ? "p" : step % 3 == 1 ? "q" : "r")
                        : m->task() == core::Task::Binary ? Label::of_number(step % 2)
                                                           : Label::of_number(std::isfinite(v) ? v : 0.0);
        if (core::learns_without_labels(m->task())) y = Label::none();
        // An error aborts the statement, so a refused update leaves the stored model as it was:
        // learn on a copy, keep it only when the update succeeded.
        std::unique_ptr<Model> next = m->clone();
        try {
            next->learn(x, y);
        } catch (const core::Error& e) {
            refused++;
            EXPECT_TRUE(e.kind() == core::ErrorKind::NumericRange) << e.what();
            continue;
        }
        m = std::move(next);
        learned++;
        expect_round_trip(*m, std::string(GetParam()) + " after step " + std::to_string(step));
        if (::testing::Test::HasFailure()) return;
    }
    EXPECT_GT(learned, 0u);
    (void)refused;
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, StoredModelsReadBack,
    ::testing::Values(R"({"model":"linear_regression"})", R"({"model":"linear_regression","scale":true})",
                      R"({"model":"linear_regression","missing":"mean","optimizer":"adagrad"})",
                      R"({"model":"logistic_regression","scale":true})",
                      R"({"model":"logistic_regression","optimizer":"adam","scale":true})",
                      R"({"model":"logistic_regression","optimizer":"ftrl","hash_bits":4})",
                      R"({"model":"softmax_regression","scale":true,"optimizer":"adagrad"})",
                      R"({"model":"softmax_regression","hash_bits":3,"optimizer":"adam"})",
                      R"({"model":"passive_aggressive_classifier"})",
                      R"({"model":"passive_aggressive_classifier","variant":"pa","fit_intercept":false})",
                      R"({"model":"passive_aggressive_regressor","variant":"pa-ii","C":1e6})",
                      R"({"model":"passive_aggressive_regressor","variant":"pa","epsilon":0})",
                      R"({"model":"bernoulli_nb","binarize":1})",
                      R"({"model":"kmeans","n_clusters":3,"halflife":0.9})",
                      R"({"model":"half_space_trees","n_trees":3,"height":4,"window_size":7})",
                      R"({"model":"half_space_trees","n_trees":2,"height":3,"window_size":5,"limits":{"a":[-1e300,1e300]}})"));

// gaussian_nb takes numbers only, multinomial_nb counts >= 0 (a negative one is 22023): the
// same property with numeric features only, and with the values' magnitudes.
void naive_bayes_extreme_updates(const std::string& spec, bool magnitudes) {
    std::mt19937_64 rng(20261206);
    std::unique_ptr<Model> m = core::model_from_text(spec.data(), spec.size());
    size_t learned = 0;
    for (int step = 0; step < 1500; step++) {
        Observation x;
        x.add_numeric("a", magnitudes ? std::fabs(extreme(rng)) : extreme(rng));
        x.add_numeric("b", magnitudes ? std::fabs(extreme(rng)) : extreme(rng));
        std::unique_ptr<Model> next = m->clone();
        try {
            next->learn(x, Label::of_text(step % 3 == 0 ? "p" : step % 3 == 1 ? "q" : "r"));
        } catch (const core::Error& e) {
            EXPECT_TRUE(e.kind() == core::ErrorKind::NumericRange) << e.what();
            continue;
        }
        m = std::move(next);
        learned++;
        expect_round_trip(*m, spec + " after step " + std::to_string(step));
        if (::testing::Test::HasFailure()) return;
    }
    EXPECT_GT(learned, 0u);
}

TEST(StoredModelsReadBack, NaiveBayesRandomExtremeUpdates) {
    naive_bayes_extreme_updates(R"({"model":"gaussian_nb"})", false);
    naive_bayes_extreme_updates(R"({"model":"gaussian_nb","var_smoothing":0.5})", false);
    naive_bayes_extreme_updates(R"({"model":"multinomial_nb","alpha":0.5})", true);
}

// The issue's reproduction: a finite feature above ~1.34e154 in a scaled model is refused when
// learned, with a clear error, instead of producing a model that can no longer be read.
TEST(StoredModelsReadBack, HugeScaledFeatureIsRefusedAtLearning) {
    // (The length was once given as 47 for this 44-byte text: the sanitized unit tests caught the read past its end.)
    const char* spec = R"({"model":"logistic_regression","scale":true})";
    std::unique_ptr<Model> m = core::model_from_text(spec, std::strlen(spec));
    m->learn(num({{"a", 1e155}}), Label::of_number(1));
    const std::string msg = expect_error(ErrorKind::NumericRange, [&] { m->learn(num({{"a", 1}}), Label::of_number(1)); });
    EXPECT_NE(msg.find("too large for its running statistics"), std::string::npos) << msg;
}

// ---- every state type ----------------------------------------------------------------------
// The same property for the other stored values (ml_stats, ml_profile, ml_metric_state,
// ml_class_metric_state and the sketches inside ml_stats): random updates with the same extreme
// values, NaN and infinities, long streams and merges either keep the value readable (binary
// form -> decode -> the same bytes; text form -> parse -> the same bytes and text) or are
// refused at the update with a core::Error, leaving the value as it was.

template <typename T>
std::string state_bytes(const T& v) {
    if constexpr (std::is_same_v<T, core::FeatureStats> || std::is_same_v<T, core::Profile>) {
        return v.encode();
    } else if constexpr (std::is_same_v<T, core::MetricState> || std::is_same_v<T, core::ClassMetricState>) {
        std::string out(v.encoded_size(), '\0');
        v.encode(reinterpret_cast<uint8_t*>(out.data()), out.size());
        return out;
    } else {
        std::string out;
        v.encode(out);
        return out;
    }
}

template <typename T>
void expect_state_round_trip(const T& v, const std::string& where) {
    std::string b;
    try {
        b = state_bytes(v);
    } catch (const core::Error& e) {
        FAIL() << where << ": a value that was updated cannot be encoded: " << e.what();
    }
    try {
        const T back = T::decode(reinterpret_cast<const uint8_t*>(b.data()), b.size());
        EXPECT_EQ(state_bytes(back), b) << where << ": binary form";
    } catch (const core::Error& e) {
        FAIL() << where << ": a value that was stored cannot be read back: " << e.what();
    }
    if constexpr (std::is_same_v<T, core::KllSketch> || std::is_same_v<T, core::HyperLogLog> ||
                  std::is_same_v<T, core::SpaceSaving>) {
        // The one validation the decoder and the encoder share finds nothing wrong.
        EXPECT_EQ(v.inconsistency(), "") << where;
    } else {
        const std::string text = v.to_text();
        try {
            const T back = T::from_text(text.data(), text.size());
            EXPECT_EQ(state_bytes(back), b) << where << ": text form " << text.substr(0, 300);
            EXPECT_EQ(back.to_text(), text) << where;
        } catch (const core::Error& e) {
            FAIL() << where << ": a value's text form cannot be read back: " << e.what() << "\n"
                   << text.substr(0, 300);
        }
    }
}

double extreme_or_special(std::mt19937_64& rng) {
    switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
        case 0: return std::numeric_limits<double>::quiet_NaN();
        case 1: return std::uniform_int_distribution<int>(0, 1)(rng) ? std::numeric_limits<double>::infinity()
                                                                     : -std::numeric_limits<double>::infinity();
        default: return extreme(rng);
    }
}

double probability(std::mt19937_64& rng) {
    static const double values[] = {0.0, -0.0, 1.0, 1e-310, std::numeric_limits<double>::denorm_min(), 0.5,
                                    1.0 - 1e-16, 1e-300, 0.3};
    if (std::uniform_int_distribution<int>(0, 2)(rng) == 0)
        return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    return values[std::uniform_int_distribution<size_t>(0, sizeof values / sizeof values[0] - 1)(rng)];
}

std::string category(std::mt19937_64& rng) {
    static const std::string values[] = {"", "a", "b", "Lyon", "Saint-\xC3\x89tienne", std::string(300, 'x'),
                                         std::string("nul\0byte", 8), "NaN"};
    const int k = std::uniform_int_distribution<int>(0, 9)(rng);
    if (k < 8) return values[k];
    return "v" + std::to_string(std::uniform_int_distribution<int>(0, 500)(rng));
}

// Applies `steps` random updates to v (each on a copy, kept only when it succeeded) and checks
// the round trip after each (every `every`-th once the stream is long).
template <typename T, typename Update>
void run_stream(T v, int steps, const std::string& name, Update&& update) {
    std::mt19937_64 rng(20261206 + std::hash<std::string>{}(name));
    size_t refused = 0, applied = 0;
    for (int step = 0; step < steps; step++) {
        T next = v;
        try {
            update(next, rng, step);
        } catch (const core::Error& e) {
            refused++;
            continue;
        }
        v = std::move(next);
        applied++;
        if (step < 300 || step % 97 == 0 || step == steps - 1) {
            expect_state_round_trip(v, name + " after step " + std::to_string(step));
            if (::testing::Test::HasFailure()) return;
        }
    }
    EXPECT_GT(applied, 0u) << name;
    (void)refused;
}

TEST(StoredStatesReadBack, NumericStats) {
    run_stream(core::FeatureStats(core::StatsKind::Numeric), 4000, "numeric ml_stats",
               [](core::FeatureStats& s, std::mt19937_64& rng, int step) {
                   if (step % 17 == 0) s.add_null();
                   else s.add(extreme_or_special(rng));
                   if (step % 500 == 499) {  // a merge with a stream of its own, as a parallel plan does
                       core::FeatureStats o(core::StatsKind::Numeric);
                       for (int i = 0; i < 50; i++) o.add(extreme(rng));
                       s.merge(o);
                   }
               });
}

TEST(StoredStatesReadBack, NumericStatsOfHugeValuesOnly) {
    // The moments' accumulators overflow first: values near the largest double, of both signs.
    run_stream(core::FeatureStats(core::StatsKind::Numeric), 400, "huge ml_stats",
               [](core::FeatureStats& s, std::mt19937_64& rng, int) {
                   const double m = std::numeric_limits<double>::max();
                   const double v[] = {m, -m, 1e308, -1e308, 1e300};
                   s.add(v[std::uniform_int_distribution<int>(0, 4)(rng)]);
               });
}

TEST(StoredStatesReadBack, CategoricalStats) {
    run_stream(core::FeatureStats(core::StatsKind::Categorical), 3000, "categorical ml_stats",
               [](core::FeatureStats& s, std::mt19937_64& rng, int step) {
                   if (step % 13 == 0) s.add_null();
                   else s.add(category(rng));
               });
}

TEST(StoredStatesReadBack, Profile) {
    run_stream(core::Profile(), 1500, "ml_profile", [](core::Profile& p, std::mt19937_64& rng, int step) {
        p.start_row();
        p.add_number("x", extreme_or_special(rng));
        switch (step % 5) {
            case 0: p.add_string("x2", category(rng)); break;
            case 1: p.add_boolean("x2", step % 2); break;
            case 2: p.add_nested("x2"); break;
            case 3: p.add_null("x2"); break;
            default: p.add_number("x2", extreme(rng));
        }
        if (step % 7 == 0) p.add_string(category(rng), category(rng));
    });
}

TEST(StoredStatesReadBack, MetricStates) {
    using core::MetricState;
    const std::pair<const char*, MetricState> kinds[] = {
        {"ranking", MetricState::make_ranking()},       {"confusion", MetricState::make_confusion(0.5)},
        {"logloss", MetricState::make_logloss()},       {"calibration", MetricState::make_calibration(7)},
        {"regression", MetricState::make_regression()}, {"equality", MetricState::make_equality()},
    };
    for (const auto& [name, initial] : kinds) {
        // Rows added and sometimes removed again (a moving window's inverse transition).
        std::vector<std::pair<double, double>> added;
        run_stream(initial, 1500, std::string(name) + " ml_metric_state",
                   [&added](MetricState& s, std::mt19937_64& rng, int step) {
                       const bool remove = step % 5 == 4 && !added.empty();
                       std::pair<double, double> row;
                       if (remove) {
                           row = added[std::uniform_int_distribution<size_t>(0, added.size() - 1)(rng)];
                       } else {
                           const bool p = s.kind() == core::MetricKind::LogLoss || s.kind() == core::MetricKind::Calibration;
                           row = {p ? probability(rng) : extreme(rng), step % 3 ? 1.0 : extreme(rng)};
                       }
                       const bool pos = row.second != 0.0;
                       switch (s.kind()) {
                           case core::MetricKind::Ranking:
                               if (remove) s.as<core::RankingCounts>().remove(core::check_score(row.first, "score"), pos);
                               else s.as<core::RankingCounts>().add(core::check_score(row.first, "score"), pos);
                               break;
                           case core::MetricKind::Confusion:
                               s.as<core::ConfusionCounts>().change(core::check_score(row.first, "score"), pos, remove ? -1 : 1);
                               break;
                           case core::MetricKind::LogLoss:
                               s.as<core::LogLossSum>().change(core::check_probability(row.first, "p"), pos, remove);
                               break;
                           case core::MetricKind::Calibration:
                               s.as<core::CalibrationBins>().change(core::check_probability(row.first, "p"), pos, remove);
                               break;
                           case core::MetricKind::Regression:
                               s.as<core::RegressionSums>().change(core::check_score(row.first, "prediction"),
                                                                  core::check_score(row.second, "label"), remove);
                               break;
                           case core::MetricKind::Equality:
                               if (remove) s.as<core::EqualityCounts>().remove(pos);
                               else s.as<core::EqualityCounts>().add(pos);
                               break;
                       }
                       if (!remove) added.push_back(row);
                       if (step % 300 == 299) {
                           MetricState o = s;
                           s.merge(o);
                       }
                   });
    }
}

TEST(StoredStatesReadBack, ClassMetricStates) {
    for (const bool proba : {false, true}) {
        run_stream(core::ClassMetricState(proba, proba ? core::Average::None : core::Average::Weighted), 1500,
                   std::string("ml_class_metric_state") + (proba ? " with probabilities" : ""),
                   [proba](core::ClassMetricState& s, std::mt19937_64& rng, int step) {
                       std::string a = category(rng), b = category(rng);
                       if (!proba) {
                           s.add(a, b);
                       } else {
                           const std::vector<core::ProbaEntry> pe = {{a, probability(rng), "number"},
                                                                     {b, probability(rng), "number"}};
                           s.add_proba(step % 2 ? a : b, pe);
                       }
                       if (step % 400 == 399) {
                           core::ClassMetricState o = s;
                           s.merge(o);
                       }
                   });
    }
}

TEST(StoredStatesReadBack, Sketches) {
    // Small and default sizes (the default samples once the stream is long), merges with another
    // stream and with itself (a parallel aggregate's combine step may do that).
    for (const uint32_t k : {8u, core::kKllDefaultK}) {
        const int steps = k == 8 ? 5000 : 30000;
        run_stream(core::KllSketch(k), steps, "KLL sketch k=" + std::to_string(k),
                   [k](core::KllSketch& s, std::mt19937_64& rng, int step) {
                       s.update(extreme_or_special(rng));
                       if (step % 700 == 699) {
                           core::KllSketch o(step % 1400 == 699 ? k : 8);
                           for (int i = 0; i < 100; i++) o.update(extreme(rng));
                           s.merge(o);
                       }
                       if (step % 1900 == 1899) s.merge(s);
                   });
    }
    run_stream(core::HyperLogLog(4), 2000, "HyperLogLog", [](core::HyperLogLog& h, std::mt19937_64& rng, int step) {
        h.add(category(rng) + std::to_string(rng()));
        if (step % 300 == 299) h.merge(h);
    });
    run_stream(core::HyperLogLog(12), 3000, "HyperLogLog p=12", [](core::HyperLogLog& h, std::mt19937_64& rng, int step) {
        h.add_hash(step % 3 ? rng() : rng() >> std::uniform_int_distribution<int>(0, 63)(rng));
        if (step % 500 == 499) {  // folded down to the smaller precision
            core::HyperLogLog o(static_cast<uint8_t>(std::uniform_int_distribution<int>(4, 14)(rng)));
            for (int i = 0; i < 50; i++) o.add_hash(rng());
            h.merge(o);
        }
    });
    run_stream(core::SpaceSaving(4), 2000, "Space-Saving summary",
               [](core::SpaceSaving& t, std::mt19937_64& rng, int step) {
                   // Huge weights: the counts must never wrap.
                   const uint64_t w = step % 50 == 0 ? std::numeric_limits<uint64_t>::max() / 3 : 1 + rng() % 3;
                   t.update(category(rng), w);
               });
    run_stream(core::SpaceSaving(8), 2000, "merged Space-Saving summary",
               [](core::SpaceSaving& t, std::mt19937_64& rng, int step) {
                   t.update(category(rng), 1 + rng() % 1000);
                   if (step % 97 == 96) t.merge(t);
                   if (step % 150 == 149) {
                       core::SpaceSaving o(static_cast<uint32_t>(std::uniform_int_distribution<int>(1, 16)(rng)));
                       for (int i = 0; i < 30; i++) o.update(category(rng), 1 + rng() % 7);
                       t.merge(o);
                   }
               });
}

// Found by the property test above: numeric ml_stats whose moments overflowed (values near the
// largest double) held x86's negative default NaN in m2, which the binary form stored as is; the
// text form prints "NaN", which reads back as the positive NaN, so ml_stats -> text -> ml_stats
// changed the bytes (and = between the two was false). The encoder now writes one quiet NaN.
TEST(StoredStatesReadBack, OverflowedMomentsPrintAndReadBackToTheSameBytes) {
    core::FeatureStats s(core::StatsKind::Numeric);
    const double m = std::numeric_limits<double>::max();
    for (double x : {-m, 1e308, m, -1e308}) s.add(x);
    ASSERT_TRUE(std::isnan(s.moments().m2));
    EXPECT_TRUE(std::signbit(s.moments().m2));  // what the arithmetic gives: the case of the bug
    const std::string text = s.to_text();
    EXPECT_EQ(core::FeatureStats::from_text(text).encode(), s.encode());
    EXPECT_EQ(core::FeatureStats::decode(s.encode()).to_text(), text);
    EXPECT_EQ(core::FeatureStats::from_text(text), s);
}

// The sketches' encoders run the validation their decoders run (inconsistency(), one function
// per type): a value the decoder would refuse is refused when written, as core::unstorable.
TEST(StoredStatesReadBack, SketchEncodersRefuseWhatTheirDecodersRefuse) {
    using core::SketchTestAccess;
    auto refused = [](const auto& v, const char* what, const char* why) {
        std::string out;
        const std::string msg = expect_error(ErrorKind::NumericRange, [&] { v.encode(out); });
        EXPECT_NE(msg.find(std::string(what) + " value cannot be stored: " + why), std::string::npos) << msg;
        EXPECT_EQ(v.inconsistency().find(why), 0u) << v.inconsistency();
        EXPECT_TRUE(out.empty()) << "nothing is written";
    };
    core::KllSketch k(8);
    for (int i = 0; i < 1000; i++) k.update(double(i % 37));
    ASSERT_EQ(k.inconsistency(), "");
    {
        core::KllSketch b = k;
        for (auto& l : SketchTestAccess::levels(b))
            if (!l.empty()) {
                l.front() = std::nan("");
                break;
            }
        refused(b, "KLL sketch", "NaN item");
    }
    {
        core::KllSketch b = k;
        SketchTestAccess::n(b)++;
        refused(b, "KLL sketch", "item weights do not add up to the count");
    }
    {
        core::KllSketch b = k;
        SketchTestAccess::compactions(b).back() = 1;  // nothing lies above the top level
        refused(b, "KLL sketch", "compaction count at level");
    }
    {
        core::KllSketch b = k;
        size_t h = 1;
        auto& levels = SketchTestAccess::levels(b);
        while (h < levels.size() && !(levels[h].size() >= 2 && levels[h].front() < levels[h].back())) h++;
        ASSERT_LT(h, levels.size());
        std::swap(levels[h].front(), levels[h].back());
        refused(b, "KLL sketch", ("level " + std::to_string(h) + " is not sorted").c_str());
    }
    core::HyperLogLog h(6);
    h.add("a");
    {
        core::HyperLogLog b = h;
        SketchTestAccess::registers(b)[3] = 64 - 6 + 2;
        refused(b, "HyperLogLog sketch", "register value out of range");
    }
    {
        core::HyperLogLog b = h;
        SketchTestAccess::registers(b).pop_back();
        refused(b, "HyperLogLog sketch", "register count does not match the precision");
    }
    core::SpaceSaving t(2);
    for (const char* v : {"a", "b", "a", "c", "a"}) t.update(v);
    ASSERT_EQ(t.inconsistency(), "");
    {
        core::SpaceSaving b = t;
        SketchTestAccess::counter(b, 0).error = SketchTestAccess::counter(b, 0).count;
        refused(b, "top-k summary", "error bound not below the count");
    }
    {
        core::SpaceSaving b = t;
        SketchTestAccess::bound(b) = b.n();
        refused(b, "top-k summary", "a count below the bound for unlisted values");
    }
    {
        core::SpaceSaving b = t;
        SketchTestAccess::counter(b, 0).count += b.n();
        refused(b, "top-k summary", "counts add up to more than the total");
    }
}

// ---- fuzz findings (test/fuzz/corpus/<harness>/regress-<bug>, replayed by every fuzz run) ----

std::string fuzz_input(const std::string& harness, const std::string& name) {
    std::ifstream in(std::string(PG_LEARN_TEST_DATA) + "/../fuzz/corpus/" + harness + "/regress-" + name,
                     std::ios::binary);
    EXPECT_TRUE(in.good()) << harness << "/regress-" << name;
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A sketch, merged with itself, each result encoded, read back and re-encoded to the same bytes.
void expect_self_merges_read_back(core::KllSketch s, int times, const std::string& where) {
    for (int i = 0; i < times; i++) {
        s.merge(s);
        expect_state_round_trip(s, where + ", merged with itself " + std::to_string(i + 1) + " times");
    }
}

// fuzz_kll_binary-merge-with-itself: a KLL sketch that decoded, merged with itself, wrote a
// compaction count its own decoder refused ("compaction count exceeds the stream"). The decoder
// bounded each level's count by n >> (h+1); merging keeps only the tighter invariant
// count_h * 2^(h+1) <= the weight held above level h (which every update, compaction, sample and
// merge keeps), and the merge's own compactions then pushed the count past the looser bound. The
// validation now checks that invariant: the finding's input is refused as corrupt, every sketch
// updates and merges make decodes, and so does every merge of decodable sketches.
TEST(FuzzFindings, KllBinaryMergeWithItself) {
    const std::string input = fuzz_input("fuzz_kll_binary", "merge-with-itself");
    ASSERT_FALSE(input.empty());
    const std::string msg = expect_error(ErrorKind::InvalidBinary, [&] { core::KllSketch::decode(input); });
    EXPECT_NE(msg.find("exceeds the weight above it"), std::string::npos) << msg;

    // Real sketches (no sampler, sampling, a wide k), merged with themselves again and again.
    std::mt19937_64 rng(12);
    for (const uint32_t k : {8u, 24u, 200u, core::kKllDefaultK}) {
        for (const int n : {0, 1, 9, 100, 3000, 60000}) {
            core::KllSketch s(k);
            std::lognormal_distribution<double> d(0.0, 2.0);
            for (int i = 0; i < n; i++) s.update(d(rng));
            expect_self_merges_read_back(s, 6, "k=" + std::to_string(k) + " n=" + std::to_string(n));
        }
    }

    // A count the weight above its level cannot account for is refused, though n >> (h+1),
    // the old bound, allows it: nothing lies above the top level, so its count must be 0.
    core::KllSketch s(8);
    for (int i = 0; i < 1000; i++) s.update(double(i));
    std::string b;
    s.encode(b);
    const size_t L = s.num_levels();
    ASSERT_GE(1000u >> L, 1u);
    const uint64_t one = 1;
    std::memcpy(&b[48 + 4 * L + 8 * (L - 1)], &one, 8);
    const std::string m2 = expect_error(ErrorKind::InvalidBinary, [&] { core::KllSketch::decode(b); });
    EXPECT_NE(m2.find("compaction count at level " + std::to_string(L - 1) + " exceeds the weight above it"),
              std::string::npos) << m2;
}

// fuzz_profile_text-invalid-utf8: an ml_profile text form whose top-k sketch (base64 inside the
// text) holds a value that is not valid UTF-8 decoded, and its summary then threw nlohmann's
// type_error 316 when dumped (the glue dumps with the replacing handler, the harness with the
// strict one). The summaries now show such values with U+FFFD in place of their ill-formed
// sequences, as the replacing handler would, and dump under any handler.
TEST(FuzzFindings, ProfileTextInvalidUtf8) {
    const std::string input = fuzz_input("fuzz_profile_text", "invalid-utf8");
    ASSERT_FALSE(input.empty());
    const core::Profile p = core::Profile::from_text(input);
    std::string strict;
    try {
        strict = p.summary().dump();
    } catch (const std::exception& e) {
        FAIL() << "the summary does not dump: " << e.what();
    }
    EXPECT_NE(strict.find("\"Nvb\xEF\xBF\xBD\""), std::string::npos) << strict.substr(0, 2000);
    EXPECT_EQ(p.summary().dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace), strict);

    // The value itself keeps its bytes; only the summary replaces them.
    core::FeatureStats c(core::StatsKind::Categorical);
    c.add(std::string("Nvb\x95"));
    c.add(std::string("Saint-\xC3\x89tienne"));
    EXPECT_EQ(c.top_k().front().value.size() == 4 ? c.top_k().front().value : c.top_k().back().value,
              std::string("Nvb\x95"));
    const std::string cs = c.summary().dump();
    EXPECT_NE(cs.find("\"Nvb\xEF\xBF\xBD\""), std::string::npos) << cs;
    EXPECT_NE(cs.find("\"Saint-\xC3\x89tienne\""), std::string::npos) << cs;
    core::Profile q;
    q.start_row();
    q.add_string("city", std::string("\xC3("));
    const std::string qs = q.summary().dump();
    EXPECT_NE(qs.find("\"domain\":[\"\xEF\xBF\xBD(\"]"), std::string::npos) << qs;

    EXPECT_EQ(core::utf8_or_replacement("plain"), "plain");
    EXPECT_EQ(core::utf8_or_replacement(std::string("a\0b", 3)), std::string("a\0b", 3));
    EXPECT_EQ(core::utf8_or_replacement("\xFF"), "\xEF\xBF\xBD");
    EXPECT_EQ(core::utf8_or_replacement("x\xE2\x82"), "x\xEF\xBF\xBD");  // cut inside a character
}

}  // namespace
}  // namespace pg_learn::test
