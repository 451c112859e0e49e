// Every aggregate state's combine gives the same bytes whatever order its partial states arrive in
// (docs/algorithms.md, "Reproducible combines"): each state type, every permutation of several
// different partial states, and, for the exact states, several combine tree shapes.
#include "test_util.hpp"

#include "core/common/partial_states.hpp"
#include "core/metrics/class_metrics.hpp"
#include "core/metrics/metrics.hpp"
#include "core/stats/feature_stats.hpp"
#include "core/stats/profile.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace pg_learn::test {
namespace {

using core::ClassMetricState;
using core::FeatureStats;
using core::LinearModel;
using core::MetricState;
using core::Model;
using core::PartialStates;
using core::Profile;
using core::StatsKind;
using Bytes = std::vector<uint8_t>;

template <typename T>
Bytes bytes_of(const T& v) {
    Bytes b(v.encoded_size());
    v.encode(b.data(), b.size());
    return b;
}

// Every permutation of 0..n-1, f called with each.
void each_permutation(size_t n, const std::function<void(const std::vector<size_t>&)>& f) {
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    do f(order);
    while (std::next_permutation(order.begin(), order.end()));
}

// What ml_fit_combine / the state types' combine functions do with parts arriving in `order`:
// the first one becomes the state (decoded: a flat partial is expanded), each next one is
// collected (the state's own value first, as its binary form), and the final function or a
// flattening merges the collection (merge_partial_models / PartialStates::merged).
Bytes combine_models(const std::vector<Bytes>& parts, const std::vector<size_t>& order) {
    std::unique_ptr<Model> state = core::decode_model(parts[order[0]].data(), parts[order[0]].size());
    if (order.size() == 1) return bytes_of(*state);
    PartialStates collected;
    collected.add_value(*state);
    for (size_t i = 1; i < order.size(); i++) collected.add(parts[order[i]]);
    return bytes_of(*core::merge_partial_models(collected));
}

template <typename T>
Bytes combine_states(const std::vector<Bytes>& parts, const std::vector<size_t>& order) {
    T state = T::decode(parts[order[0]].data(), parts[order[0]].size());
    PartialStates collected;
    collected.add_value(state);
    for (size_t i = 1; i < order.size(); i++) collected.add(parts[order[i]]);
    return bytes_of(collected.merged<T>());
}

// The plain fold of the partial models in `order` (what the combine did before: arrival order).
Bytes fold_models(const std::vector<Bytes>& parts, const std::vector<size_t>& order) {
    std::unique_ptr<Model> acc = core::decode_model(parts[order[0]].data(), parts[order[0]].size());
    for (size_t i = 1; i < order.size(); i++)
        acc->merge(*core::decode_model(parts[order[i]].data(), parts[order[i]].size()));
    return bytes_of(*acc);
}

// The combine of every permutation gives the bytes of the first; the model's final function
// (end_aggregation) too. Returns how many permutations the plain fold got different bytes for.
size_t expect_model_order_independent(const std::vector<LinearModel>& partials) {
    std::vector<Bytes> parts;
    for (const LinearModel& m : partials) parts.push_back(bytes_of(m));
    std::vector<size_t> identity(parts.size());
    std::iota(identity.begin(), identity.end(), 0);
    const Bytes want = combine_models(parts, identity);
    const Bytes fold0 = fold_models(parts, identity);
    size_t fold_differs = 0, n = 0;
    each_permutation(parts.size(), [&](const std::vector<size_t>& order) {
        n++;
        EXPECT_EQ(combine_models(parts, order), want) << "permutation " << n;
        if (fold_models(parts, order) != fold0) fold_differs++;
    });
    // The final function reads the merged model: the finished model is the same too.
    std::unique_ptr<Model> fin = core::decode_model(want.data(), want.size());
    fin->end_aggregation();
    EXPECT_EQ(bytes_of(*fin).size(), fin->encoded_size());
    return fold_differs;
}

// Partial models as ml_fit's transitions make them: copies of start, begin_aggregation(), then
// each its own rows.
std::vector<LinearModel> partials_of(const LinearModel& start, size_t n,
                                     const std::function<void(LinearModel&, size_t)>& learn) {
    std::vector<LinearModel> out;
    for (size_t k = 0; k < n; k++) {
        LinearModel m = start;
        m.begin_aggregation();
        learn(m, k);
        out.push_back(std::move(m));
    }
    return out;
}

TEST(CombineOrder, LinearRegressionWithDifferentFeatureSets) {
    const LinearModel start = model_of(R"({"model":"linear_regression","optimizer":{"sgd":{"lr":0.05}}})");
    const char* names[] = {"a", "b", "c", "d", "e"};
    auto partials = partials_of(start, 4, [&](LinearModel& m, size_t k) {
        for (int i = 0; i < 7 + int(k) * 3; i++) {
            core::Observation x;
            x.add_numeric(names[k], 0.1 * i + 0.3);           // a feature only this partial has
            x.add_numeric(names[(k + 1) % 5], 1.0 / (i + 1));  // one it shares with the next
            m.learn(x, 0.7 * i - double(k));
        }
    });
    // Before: arrival order decided the feature order and the rounding of the averages.
    EXPECT_GT(expect_model_order_independent(partials), 0u);
}

TEST(CombineOrder, ScaledLogisticFromATrainedStartKeepsItsAggregationBase) {
    // "scale" keeps feature statistics and "check_divergence" the training state: both are
    // pooled on merge, the start's statistics (the aggregation base) counted once.
    LinearModel start = core::LinearModel(current_spec_of(
        R"({"model":"logistic_regression","scale":true,"check_divergence":true,"optimizer":"adam"})"));
    for (int i = 0; i < 20; i++) start.learn(num({{"a", i * 1.5}, {"b", 3.0 - i}}), double(i % 2));
    auto partials = partials_of(start, 4, [&](LinearModel& m, size_t k) {
        for (int i = 0; i < 10 + int(k); i++) {
            core::Observation x;
            x.add_numeric("a", 100.0 * double(k) + i);
            x.add_category("city", k % 2 ? "Lyon" : "Oslo");
            if (k == 3) x.add_numeric("late", 1e3 + i);
            m.learn(x, double((i + k) % 2));
        }
    });
    ASSERT_EQ(partials[0].aggregation_base(), 20u);
    expect_model_order_independent(partials);
}

TEST(CombineOrder, SoftmaxWithDifferentClasses) {
    const LinearModel start = model_of(R"({"model":"softmax_regression","optimizer":"adagrad"})");
    const char* classes[] = {"red", "green", "blue", "cyan", "plum"};
    auto partials = partials_of(start, 5, [&](LinearModel& m, size_t k) {
        for (int i = 0; i < 9; i++) {
            core::Observation x;
            x.add_numeric("x", 0.25 * i - double(k));
            x.add_numeric(k % 2 ? "odd" : "even", 1.0);
            m.learn(x, core::Label::of_text(classes[(k + size_t(i)) % (k + 2 < 5 ? k + 2 : 5)]));
        }
    });
    EXPECT_GT(expect_model_order_independent(partials), 0u);
}

TEST(CombineOrder, HashedModelsAndDenseArrays) {
    const LinearModel start = model_of(R"({"model":"linear_regression","hash_bits":12,"optimizer":"ftrl"})");
    auto partials = partials_of(start, 4, [&](LinearModel& m, size_t k) {
        for (int i = 0; i < 6; i++) {
            core::Observation x;
            x.add_numeric("f" + std::to_string(k * 7 + size_t(i)), 1.0 + i);
            x.add_category("g", std::to_string(i % 3));
            m.learn(x, double(i) - 2.5 * double(k));
        }
    });
    expect_model_order_independent(partials);
    const LinearModel dense = model_of(R"({"model":"linear_regression","optimizer":"adam"})");
    auto dense_parts = partials_of(dense, 3, [&](LinearModel& m, size_t k) {
        for (int i = 0; i < 5 + int(k); i++) {
            const double x[3] = {double(i), 1.0 / (1 + i + double(k)), -double(k)};
            m.learn_dense(x, 3, 2.0 * i + double(k));
        }
    });
    expect_model_order_independent(dense_parts);
}

// A combined state that meets another combined state in memory (partitionwise aggregation under
// a Finalize Aggregate) takes over its parts, not their merge: every grouping of the same
// partial models gives the bits of one collection. Duplicates count as often as they arrive.
TEST(CombineOrder, NestedCollectionsAndDuplicates) {
    const LinearModel start = model_of(R"({"model":"linear_regression","optimizer":"adagrad"})");
    auto partials = partials_of(start, 4, [&](LinearModel& m, size_t k) {
        for (int i = 0; i < 5 + int(k); i++) m.learn(num({{"x", i * 0.5 + double(k)}, {k % 2 ? "p" : "q", 1.0}}), double(i));
    });
    std::vector<Bytes> parts;
    for (const LinearModel& m : partials) parts.push_back(bytes_of(m));
    PartialStates all;
    for (const Bytes& b : parts) all.add(b);
    const Bytes want = bytes_of(*core::merge_partial_models(all));
    each_permutation(parts.size(), [&](const std::vector<size_t>& o) {
        PartialStates left, right;  // (o0 + o1) + (o2 + o3), each side collected on its own
        left.add(parts[o[0]]);
        left.add(parts[o[1]]);
        right.add(parts[o[2]]);
        right.add(parts[o[3]]);
        left.add_all(right);
        EXPECT_EQ(bytes_of(*core::merge_partial_models(left)), want);
    });
    // The same partial twice is two partials (two workers that read the same rows in the same
    // order): it weighs twice, and the order of the copies does not matter either.
    PartialStates twice, twice_other_order;
    twice.add(parts[0]);
    twice.add(parts[0]);
    twice.add(parts[1]);
    twice_other_order.add(parts[1]);
    twice_other_order.add(parts[0]);
    twice_other_order.add(parts[0]);
    const Bytes t = bytes_of(*core::merge_partial_models(twice));
    EXPECT_EQ(bytes_of(*core::merge_partial_models(twice_other_order)), t);
    EXPECT_NE(t, want);
    EXPECT_EQ(core::decode_model(t.data(), t.size())->n_seen(), partials[0].n_seen() * 2 + partials[1].n_seen());
}

TEST(CombineOrder, ModelsOfDifferentSpecsAreRefusedInAnyOrder) {
    const LinearModel a = model_of(R"({"model":"linear_regression"})");
    const LinearModel b = model_of(R"({"model":"linear_regression","l2":0.5})");
    PartialStates s;
    s.add_value(a);
    s.add_value(b);
    expect_error(ErrorKind::InvalidParameter, [&] { core::merge_partial_models(s); });
}

// The state types merged by PartialStates: every permutation gives the first one's bytes.
template <typename T>
size_t expect_states_order_independent(const std::vector<T>& partials) {
    std::vector<Bytes> parts;
    for (const T& s : partials) parts.push_back(bytes_of(s));
    std::vector<size_t> identity(parts.size());
    std::iota(identity.begin(), identity.end(), 0);
    const Bytes want = combine_states<T>(parts, identity);
    T fold0 = T::decode(parts[0].data(), parts[0].size());
    for (size_t i = 1; i < parts.size(); i++) fold0.merge(T::decode(parts[i].data(), parts[i].size()));
    const Bytes fold0_bytes = bytes_of(fold0);
    size_t fold_differs = 0, n = 0;
    each_permutation(parts.size(), [&](const std::vector<size_t>& order) {
        n++;
        EXPECT_EQ(combine_states<T>(parts, order), want) << "permutation " << n;
        T fold = T::decode(parts[order[0]].data(), parts[order[0]].size());
        for (size_t i = 1; i < order.size(); i++) fold.merge(T::decode(parts[order[i]].data(), parts[order[i]].size()));
        if (bytes_of(fold) != fold0_bytes) fold_differs++;
    });
    return fold_differs;
}

TEST(CombineOrder, NumericStatsWithCompactedQuantileSketches) {
    std::mt19937_64 rng(7);
    std::vector<FeatureStats> partials;
    for (int k = 0; k < 4; k++) {
        FeatureStats s(StatsKind::Numeric);
        std::normal_distribution<double> d(1e6 * k, 1.0 + k);
        for (int i = 0; i < 3000 + 500 * k; i++) s.add(d(rng));
        s.add_null();
        if (k == 2) s.add(std::numeric_limits<double>::infinity());
        partials.push_back(std::move(s));
    }
    // Before: Chan's pooling and the sketch's compactions depended on the arrival order.
    EXPECT_GT(expect_states_order_independent(partials), 0u);
}

TEST(CombineOrder, CategoricalStatsBeyondTheTopKCapacity) {
    std::vector<FeatureStats> partials;
    for (int k = 0; k < 4; k++) {
        FeatureStats s(StatsKind::Categorical);
        for (int i = 0; i < 400; i++) s.add("v" + std::to_string((i * (k + 3)) % (97 + 40 * k)));
        for (int i = 0; i < 30; i++) s.add("common");
        partials.push_back(std::move(s));
    }
    expect_states_order_independent(partials);
}

TEST(CombineOrder, Profiles) {
    std::vector<Profile> partials;
    for (int k = 0; k < 4; k++) {
        Profile p;
        for (int i = 0; i < 300; i++) {
            p.start_row();
            p.add_number("amount", 10.0 * k + 0.37 * i);
            p.add_string("city", k % 2 ? "Lyon" : "Oslo");
            if (k == 1) p.add_null("tip");
            if (k == 3) p.add_boolean("vip", i % 2);
        }
        partials.push_back(std::move(p));
    }
    expect_states_order_independent(partials);
}

// Exact states: the plain merge is already order-independent, bit for bit, in every permutation
// and tree shape; their combine functions merge directly.
template <typename T>
void expect_exact_merge(const std::vector<T>& partials) {
    ASSERT_GE(partials.size(), 3u);
    auto merged = [](T a, const T& b) {
        a.merge(b);
        return a;
    };
    T first = partials[0];
    for (size_t i = 1; i < partials.size(); i++) first.merge(partials[i]);
    const Bytes want = bytes_of(first);
    size_t n = 0;
    each_permutation(partials.size(), [&](const std::vector<size_t>& order) {
        n++;
        T acc = partials[order[0]];
        for (size_t i = 1; i < order.size(); i++) acc.merge(partials[order[i]]);
        EXPECT_EQ(bytes_of(acc), want) << "left fold, permutation " << n;
        // Right fold: a + (b + (c + ...)), each step through the binary form (as partials travel).
        std::vector<Bytes> flat;
        for (size_t i : order) flat.push_back(bytes_of(partials[i]));
        Bytes right = flat.back();
        for (size_t i = flat.size() - 1; i-- > 0;) {
            T l = T::decode(flat[i].data(), flat[i].size());
            l.merge(T::decode(right.data(), right.size()));
            right = bytes_of(l);
        }
        EXPECT_EQ(right, want) << "right fold, permutation " << n;
        // Pairs: (p0 + p1) + (p2 + p3 ...).
        const size_t half = order.size() / 2;
        T l = partials[order[0]], r = partials[order[half]];
        for (size_t i = 1; i < half; i++) l.merge(partials[order[i]]);
        for (size_t i = half + 1; i < order.size(); i++) r.merge(partials[order[i]]);
        EXPECT_EQ(bytes_of(merged(l, r)), want) << "pairs, permutation " << n;
    });
}

TEST(CombineOrder, MetricStatesAreExact) {
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> u(0, 1);
    auto four = [&](const std::function<MetricState()>& make, const std::function<void(MetricState&, int)>& add) {
        std::vector<MetricState> out;
        for (int k = 0; k < 4; k++) {
            MetricState s = make();
            for (int i = 0; i < 200 + 50 * k; i++) add(s, k);
            out.push_back(std::move(s));
        }
        return out;
    };
    expect_exact_merge(four(MetricState::make_ranking, [&](MetricState& s, int k) {
        s.as<core::RankingCounts>().add(std::round(u(rng) * 50) / 50 + k, u(rng) < 0.4);
    }));
    expect_exact_merge(four([] { return MetricState::make_confusion(0.5); }, [&](MetricState& s, int) {
        s.as<core::ConfusionCounts>().add(u(rng), u(rng) < 0.5);
    }));
    expect_exact_merge(four(MetricState::make_logloss, [&](MetricState& s, int) {
        s.as<core::LogLossSum>().add(u(rng), u(rng) < 0.3);
    }));
    expect_exact_merge(four([] { return MetricState::make_calibration(7); }, [&](MetricState& s, int) {
        s.as<core::CalibrationBins>().add(u(rng), u(rng) < 0.6);
    }));
    expect_exact_merge(four(MetricState::make_regression, [&](MetricState& s, int k) {
        const double y = 1e8 * k + u(rng);
        s.as<core::RegressionSums>().add(y + u(rng) * 1e-3 - 5e-4, y);
    }));
    expect_exact_merge(four(MetricState::make_equality, [&](MetricState& s, int) {
        s.as<core::EqualityCounts>().add(u(rng) < 0.7);
    }));
}

TEST(CombineOrder, ClassMetricStatesAreExact) {
    const char* classes[] = {"ant", "bee", "cat", "dog", "eel"};
    std::mt19937_64 rng(5);
    std::vector<ClassMetricState> plain, proba;
    for (int k = 0; k < 4; k++) {
        ClassMetricState s(false, core::Average::Macro), p(true, core::Average::Weighted);
        for (int i = 0; i < 100; i++) {
            const char* actual = classes[(rng() % (2 + k))];
            s.add(actual, classes[rng() % 5]);
            const double q = double(rng() % 1000) / 1000.0;
            p.add_proba(actual, {{classes[k], q}, {classes[(k + 1) % 5], 1.0 - q}});
        }
        plain.push_back(std::move(s));
        proba.push_back(std::move(p));
    }
    expect_exact_merge(plain);
    expect_exact_merge(proba);
}

}  // namespace
}  // namespace pg_learn::test
