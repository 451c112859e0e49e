// Every stored model can be read back: random updates with extreme values (±1e308, subnormals,
// -0, values whose squares overflow, long streams) either keep the model encodable, decodable
// and re-encodable to the same bytes, or are refused at the update with a core::Error.
#include "test_util.hpp"

#include "core/metrics/class_metrics.hpp"
#include "core/metrics/metrics.hpp"
#include "core/models/model.hpp"
#include "core/sketches/hll.hpp"
#include "core/sketches/kll.hpp"
#include "core/sketches/space_saving.hpp"
#include "core/stats/feature_stats.hpp"
#include "core/stats/profile.hpp"

#include <cmath>
#include <limits>
#include <random>

namespace pg_learn::test {
namespace {

using core::Label;
using core::Model;
using core::Observation;

std::vector<uint8_t> bytes_of(const Model& m) {
    std::vector<uint8_t> b(m.encoded_size());
    m.encode(b.data(), b.size());
    return b;
}

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
                      R"({"model":"passive_aggressive_regressor","variant":"pa","epsilon":0})"));

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
    if constexpr (!std::is_same_v<T, core::KllSketch> && !std::is_same_v<T, core::HyperLogLog> &&
                  !std::is_same_v<T, core::SpaceSaving>) {
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
    run_stream(core::KllSketch(8), 5000, "KLL sketch", [](core::KllSketch& k, std::mt19937_64& rng, int step) {
        k.update(extreme_or_special(rng));
        if (step % 700 == 699) {
            core::KllSketch o(8);
            for (int i = 0; i < 100; i++) o.update(extreme(rng));
            k.merge(o);
        }
    });
    run_stream(core::HyperLogLog(4), 2000, "HyperLogLog", [](core::HyperLogLog& h, std::mt19937_64& rng, int) {
        h.add(category(rng) + std::to_string(rng()));
    });
    run_stream(core::SpaceSaving(4), 2000, "Space-Saving summary",
               [](core::SpaceSaving& t, std::mt19937_64& rng, int step) {
                   // Huge weights: the counts must never wrap.
                   const uint64_t w = step % 50 == 0 ? std::numeric_limits<uint64_t>::max() / 3 : 1 + rng() % 3;
                   t.update(category(rng), w);
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

}  // namespace
}  // namespace pg_learn::test
