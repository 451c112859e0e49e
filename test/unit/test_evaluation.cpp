// Evaluation (core/evaluation): folds and splits from a hash, task metrics, progressive validation
// against a hand-written predict-then-learn loop, k-fold cross-validation against models trained
// by hand on each fold's complement.
#include "test_util.hpp"
#include "core/evaluation/evaluation.hpp"
#include "core/models/training.hpp"

#include <cmath>
#include <map>

namespace pg_learn::test {
namespace {

using namespace pg_learn::core;

std::unique_ptr<Model> spec(const std::string& s) { return model_from_text(s.data(), s.size()); }

TEST(Splits, FoldOfHashIsTheHighWordOfHashTimesFolds) {
    EXPECT_EQ(fold_of_hash(0, 5), 1u);
    EXPECT_EQ(fold_of_hash(~0ull, 5), 5u);
    EXPECT_EQ(fold_of_hash(~0ull / 2, 2), 1u);      // u just below 1/2
    EXPECT_EQ(fold_of_hash(~0ull / 2 + 1, 2), 2u);  // u = 1/2 exactly
    // 3 folds: edges at ceil(2^64 / 3) and ceil(2 * 2^64 / 3)
    EXPECT_EQ(fold_of_hash(6148914691236517205ull, 3), 1u);
    EXPECT_EQ(fold_of_hash(6148914691236517206ull, 3), 2u);
    EXPECT_EQ(fold_of_hash(12297829382473034410ull, 3), 2u);
    EXPECT_EQ(fold_of_hash(12297829382473034411ull, 3), 3u);
    // Uniform over a well-mixed stream of hashes.
    SplitMix64 r(1);
    std::map<uint32_t, int> count;
    for (int i = 0; i < 70000; i++) count[fold_of_hash(r.next(), 7)]++;
    EXPECT_EQ(count.size(), 7u);
    for (const auto& [f, n] : count) EXPECT_NEAR(n, 10000, 400) << "fold " << f;
    expect_error(ErrorKind::InvalidParameter, [] { fold_of_hash(1, 1); });
    expect_error(ErrorKind::InvalidParameter, [] { fold_of_hash(1, -3); });
}

TEST(Splits, TestWhenTheHashIsBelowTheFraction) {
    EXPECT_TRUE(is_test_hash(0, 0.2));
    EXPECT_FALSE(is_test_hash(0, 0.0));
    EXPECT_TRUE(is_test_hash(~0ull, 1.0));
    EXPECT_TRUE(is_test_hash((1ull << 63) - 1, 0.5));
    EXPECT_FALSE(is_test_hash(1ull << 63, 0.5));
    // A fraction whose 2^64 multiple is not an integer: h < f * 2^64 exactly.
    const double tiny = std::ldexp(3.0, -66);  // f * 2^64 = 0.75
    EXPECT_TRUE(is_test_hash(0, tiny));
    EXPECT_FALSE(is_test_hash(1, tiny));
    // Monotone: the test set at 0.2 is inside the one at 0.3.
    SplitMix64 r(2);
    int t2 = 0;
    for (int i = 0; i < 10000; i++) {
        const uint64_t h = r.next();
        if (is_test_hash(h, 0.2)) {
            t2++;
            EXPECT_TRUE(is_test_hash(h, 0.3));
        }
    }
    EXPECT_NEAR(t2, 2000, 150);
    expect_error(ErrorKind::InvalidParameter, [] { is_test_hash(1, 1.5); });
    expect_error(ErrorKind::InvalidParameter, [] { is_test_hash(1, std::nan("")); });
}

TEST(Metrics, NamesFitTheTask) {
    EXPECT_EQ(check_metrics("linear_regression", Task::Regression, {}), (std::vector<std::string>{"mae", "rmse", "r2"}));
    EXPECT_EQ(check_metrics("x", Task::Binary, {"f1", "auc", "f1"}), (std::vector<std::string>{"f1", "auc"}));
    const std::string msg =
        expect_error(ErrorKind::InvalidParameter, [] { check_metrics("logistic_regression", Task::Binary, {"rmse"}); });
    EXPECT_NE(msg.find("does not fit a binary model"), std::string::npos) << msg;
    expect_error(ErrorKind::InvalidParameter, [] { check_metrics("kmeans", Task::Clustering, {}); });
}

// Rows of a small regression stream: x = (i % 7, i % 3), y linear in them.
struct Stream {
    std::vector<std::vector<double>> x;
    std::vector<double> y;
    explicit Stream(int n) {
        for (int i = 1; i <= n; i++) {
            x.push_back({double(i % 7) * 0.5, double(i % 3)});
            y.push_back((i % 7) * 1.5 + (i % 3) + 1);
        }
    }
};

TEST(Progressive, IsPredictThenLearnWithTheDelay) {
    const Stream s(200);
    for (int delay : {0, 1, 5}) {
        // By hand: row i's label is learned before row i + max(delay, 1) is predicted.
        std::unique_ptr<Model> m = spec(R"({"model": "linear_regression"})");
        RegressionSums hand, step1;
        size_t learned = 0;
        for (size_t i = 0; i < s.y.size(); i++) {
            while (learned + std::max(delay, 1) <= i) {
                m->learn_dense(s.x[learned].data(), 2, Label::of_number(s.y[learned]));
                learned++;
            }
            const double p = m->predict_dense(s.x[i].data(), 2);
            hand.add(p, s.y[i]);
            if (i < 50) step1.add(p, s.y[i]);
        }
        ProgressiveOptions opt;
        opt.every = 50;
        opt.delay_rows = delay;
        ProgressiveValidation pv(spec(R"({"model": "linear_regression"})"), {"mae", "rmse"}, opt, false);
        for (size_t i = 0; i < s.y.size(); i++) pv.row(nullptr, s.x[i].data(), 2, Label::of_number(s.y[i]), std::nullopt);
        pv.finish();
        const auto& series = pv.series();
        ASSERT_EQ(series.size(), 4u * 2 + 2);
        EXPECT_EQ(*series[0].step, 1);
        EXPECT_EQ(series[0].metric, "mae");
        EXPECT_EQ(series[0].n, 50);
        EXPECT_EQ(*series[0].value, *step1.mae()) << "delay " << delay;
        EXPECT_EQ(*series[0].cumulative, *step1.mae());
        EXPECT_FALSE(series[8].step.has_value());
        EXPECT_EQ(series[8].n, 200);
        EXPECT_EQ(*series[8].value, *hand.mae()) << "delay " << delay;
        EXPECT_EQ(*series[9].value, *hand.rmse()) << "delay " << delay;
        EXPECT_EQ(*series[6].cumulative, *hand.mae());  // the last step's cumulative is the overall
    }
}

TEST(Progressive, DelayInTimeRevealsWhenTheStreamReachesIt) {
    const Stream s(120);
    const int64_t hour = 3600LL * 1000000;
    // Two rows an hour; a 3-hour delay: row i's label is learned before the first row at or after t_i + 3h.
    auto time_of = [&](size_t i) { return int64_t(i / 2) * hour; };
    std::unique_ptr<Model> m = spec(R"({"model": "linear_regression"})");
    RegressionSums hand;
    size_t learned = 0;
    for (size_t i = 0; i < s.y.size(); i++) {
        while (learned < i && time_of(learned) + 3 * hour <= time_of(i)) {
            m->learn_dense(s.x[learned].data(), 2, Label::of_number(s.y[learned]));
            learned++;
        }
        hand.add(m->predict_dense(s.x[i].data(), 2), s.y[i]);
    }
    ProgressiveOptions opt;
    opt.delay_time = 3 * hour;
    opt.bucket = 24 * hour;
    ProgressiveValidation pv(spec(R"({"model": "linear_regression"})"), {"mae"}, opt, true);
    for (size_t i = 0; i < s.y.size(); i++) pv.row(nullptr, s.x[i].data(), 2, Label::of_number(s.y[i]), time_of(i));
    pv.finish();
    const auto& series = pv.series();
    ASSERT_EQ(series.size(), 3u + 1);  // 60 hours: buckets of days 0, 1, 2, then overall
    EXPECT_EQ(*series[0].time, 0);
    EXPECT_EQ(series[0].n, 48);
    EXPECT_EQ(*series[2].time, 48 * hour);
    EXPECT_EQ(series[2].n, 24);
    EXPECT_EQ(*series[3].value, *hand.mae());
    // Time going backwards is refused.
    ProgressiveValidation back(spec(R"({"model": "linear_regression"})"), {"mae"}, opt, true);
    back.row(nullptr, s.x[0].data(), 2, Label::of_number(1), 10);
    expect_error(ErrorKind::InvalidParameter, [&] { back.row(nullptr, s.x[0].data(), 2, Label::of_number(1), 9); });
    expect_error(ErrorKind::NullValue, [&] { back.row(nullptr, s.x[0].data(), 2, Label::of_number(1), std::nullopt); });
}

TEST(Progressive, RefusesBadOptions) {
    ProgressiveOptions opt;
    opt.every = 0;
    expect_error(ErrorKind::InvalidParameter, [&] { ProgressiveValidation(spec(R"({"model": "linear_regression"})"), {"mae"}, opt, false); });
    opt.every = 10;
    opt.bucket = 5;
    expect_error(ErrorKind::InvalidParameter, [&] { ProgressiveValidation(spec(R"({"model": "linear_regression"})"), {"mae"}, opt, false); });
    opt.bucket = 0;
    opt.delay_rows = 2;
    opt.delay_time = 5;
    expect_error(ErrorKind::InvalidParameter, [&] { ProgressiveValidation(spec(R"({"model": "linear_regression"})"), {"mae"}, opt, true); });
}

TEST(CrossValidation, EachFoldIsAModelTrainedOnTheOthers) {
    const Stream s(300);
    EvalRows rows;
    rows.dense = true;
    rows.dim = 2;
    SplitMix64 r(9);
    for (size_t i = 0; i < s.y.size(); i++) {
        rows.values.insert(rows.values.end(), s.x[i].begin(), s.x[i].end());
        rows.labels.push_back(StoredLabel::of(Label::of_number(s.y[i])));
        rows.folds.push_back(fold_of_hash(r.next(), 4));
    }
    for (int epochs : {1, 3}) {
        const auto start = spec(R"({"model": "linear_regression"})");
        const auto res = cross_validate(*start, rows, 4, {"mae", "r2"}, epochs, true, 5, [] {});
        ASSERT_EQ(res.size(), 4u);
        uint64_t tested = 0;
        for (const FoldResult& f : res) {
            std::vector<size_t> train;
            for (size_t i = 0; i < rows.size(); i++)
                if (rows.folds[i] != f.fold) train.push_back(i);
            auto m = start->clone();
            run_epochs(train.size(), epochs, true, 5, [&](size_t j) { rows.learn(*m, train[j]); }, [] {});
            RegressionSums sums;
            for (size_t i = 0; i < rows.size(); i++)
                if (rows.folds[i] == f.fold) sums.add(m->predict_dense(&rows.values[i * 2], 2), s.y[i]);
            EXPECT_EQ(f.n_train, train.size());
            EXPECT_EQ(f.n_test, sums.n);
            EXPECT_EQ(*f.values[0], *sums.mae()) << "fold " << f.fold << " epochs " << epochs;
            EXPECT_EQ(*f.values[1], *sums.r2());
            tested += f.n_test;
        }
        EXPECT_EQ(tested, rows.size());
    }
}

TEST(CrossValidation, BinaryAndMulticlassMetrics) {
    EvalRows rows;
    rows.dense = true;
    rows.dim = 1;
    for (int i = 0; i < 200; i++) {
        rows.values.push_back(i % 10);
        rows.labels.push_back(StoredLabel::of(Label::of_boolean(i % 10 >= 5)));
        rows.folds.push_back(1 + i % 2);
    }
    const auto res = cross_validate(*spec(R"({"model": "logistic_regression"})"), rows, 2, {"auc", "accuracy"}, 5, true, 0, [] {});
    EXPECT_EQ(*res[0].values[0], 1.0);  // separable: every fold ranks perfectly
    EXPECT_GT(*res[1].values[1], 0.7);
    for (auto& l : rows.labels) l = StoredLabel::of(Label::of_text(l.number ? "hi" : "lo"));
    const auto mc = cross_validate(*spec(R"({"model": "gaussian_nb"})"), rows, 2, {"accuracy", "logloss"}, 1, true, 0, [] {});
    // By hand: fold 1 (even rows) scored by a model of the odd rows, through the class metrics.
    auto m = spec(R"({"model": "gaussian_nb"})");
    for (size_t i = 1; i < rows.size(); i += 2) rows.learn(*m, i);
    ClassMetricState hand(true);
    std::vector<double> p;
    for (size_t i = 0; i < rows.size(); i += 2) {
        m->predict_proba_dense(&rows.values[i], 1, p);
        std::vector<ProbaEntry> e;
        for (size_t c = 0; c < p.size(); c++) e.push_back(ProbaEntry{m->classes()[c], p[c], "number"});
        hand.add_proba(rows.labels[i].text, e);
    }
    EXPECT_EQ(mc[0].n_test, 100u);
    EXPECT_EQ(*mc[0].values[0], *hand.accuracy());
    EXPECT_EQ(*mc[0].values[1], *hand.logloss());
    EXPECT_GT(*mc[0].values[0], 0.7);
}

TEST(CrossValidation, MeanAndSampleSd) {
    EXPECT_EQ(*mean_of({1.0, std::nullopt, 3.0}), 2.0);
    EXPECT_DOUBLE_EQ(*sd_of({1.0, 2.0, 3.0, 4.0}), std::sqrt(5.0 / 3.0));
    EXPECT_FALSE(sd_of({1.0, std::nullopt}).has_value());
    EXPECT_FALSE(mean_of({std::nullopt}).has_value());
}

TEST(Compare, PercentilesAsNumpy) {
    // numpy.quantile([1, 2, 4, 8], q): 0.025 -> 1.075, 0.5 -> 3.0, 0.975 -> 7.7, 1 -> 8
    const std::vector<double> v{1, 2, 4, 8};
    EXPECT_DOUBLE_EQ(percentile_linear(v, 0.025), 1.075);
    EXPECT_EQ(percentile_linear(v, 0.5), 3.0);
    EXPECT_DOUBLE_EQ(percentile_linear(v, 0.975), 7.7);
    EXPECT_EQ(percentile_linear(v, 1.0), 8.0);
    EXPECT_EQ(percentile_linear({5.0}, 0.3), 5.0);
}

TEST(Compare, PairedBootstrapOfTwoModels) {
    const Stream s(120);
    EvalRows rows;
    rows.dense = true;
    rows.dim = 2;
    for (size_t i = 0; i < s.y.size(); i++) {
        rows.values.insert(rows.values.end(), s.x[i].begin(), s.x[i].end());
        rows.labels.push_back(StoredLabel::of(Label::of_number(s.y[i])));
    }
    auto a = spec(R"({"model": "linear_regression"})"), b = spec(R"({"model": "linear_regression"})");
    for (size_t i = 0; i < 30; i++) a->learn_dense(s.x[i].data(), 2, Label::of_number(s.y[i]));
    for (size_t i = 0; i < 120; i++) b->learn_dense(s.x[i].data(), 2, Label::of_number(s.y[i]));
    const auto out = compare_models({a.get(), b.get()}, rows, {"mae"}, 50, 0.9, 1, [] {});
    ASSERT_EQ(out.size(), 2u);
    RegressionSums ra, rb;
    for (size_t i = 0; i < rows.size(); i++) {
        ra.add(a->predict_dense(s.x[i].data(), 2), s.y[i]);
        rb.add(b->predict_dense(s.x[i].data(), 2), s.y[i]);
    }
    EXPECT_EQ(*out[0].value, *ra.mae());
    EXPECT_EQ(*out[1].value, *rb.mae());
    EXPECT_EQ(*out[1].difference, *rb.mae() - *ra.mae());
    EXPECT_FALSE(out[0].p_value.has_value());
    EXPECT_LE(*out[0].lower, *out[0].upper);
    EXPECT_LE(*out[1].diff_lower, *out[1].diff_upper);
    // The first resample by hand: rows floor(n * u) of SplitMix64(1)'s outputs.
    SplitMix64 r(1);
    RegressionSums first;
    for (size_t j = 0; j < rows.size(); j++) {
        const size_t i = static_cast<size_t>((static_cast<unsigned __int128>(r.next()) * rows.size()) >> 64);
        first.add(a->predict_dense(s.x[i].data(), 2), s.y[i]);
    }
    const auto one = compare_models({a.get()}, rows, {"mae"}, 1, 0.9, 1, [] {});
    EXPECT_EQ(*one[0].lower, *first.mae());
    EXPECT_EQ(*one[0].upper, *first.mae());
    expect_error(ErrorKind::InvalidParameter, [&] { compare_models({a.get()}, rows, {"mae"}, 0, 0.9, 1, [] {}); });
    expect_error(ErrorKind::InvalidParameter, [&] { compare_models({a.get()}, rows, {"mae"}, 10, 1.0, 1, [] {}); });
    auto c = spec(R"({"model": "logistic_regression"})");
    expect_error(ErrorKind::InvalidParameter, [&] { compare_models({a.get(), c.get()}, rows, {"mae"}, 10, 0.9, 1, [] {}); });
}

}  // namespace
}  // namespace pg_learn::test
