// Hyperparameter search (core/evaluation/search): the space's dimensions and their order, the grid
// (scikit-learn's ParameterGrid order), random draws against SplitMix64 outputs worked out by hand
// (an independent Python transcription, values below), the trial's spec, and trials whose metric
// equals a model trained and scored by hand.
#include "test_util.hpp"
#include "core/evaluation/search.hpp"

#include <cmath>
#include <set>

namespace pg_learn::test {
namespace {

using namespace pg_learn::core;
using json = nlohmann::json;

SearchSpace space_of(const char* text) { return SearchSpace::parse(json::parse(text)); }

TEST(SearchSpace, DimensionsInPathOrderWithFixedValues) {
    const SearchSpace s = space_of(
        R"({"optimizer": {"adam": {"lr": [0.001, 0.01, 0.1]}}, "l2": {"log_uniform": [1e-6, 1e-2]},
            "scale": true, "hash_bits": {"int_uniform": [4, 8]}, "l1": {"choice": [0, 0.5]}})");
    ASSERT_EQ(s.dimensions().size(), 4u);
    EXPECT_EQ(s.dimensions()[0].name(), "hash_bits");
    EXPECT_EQ(s.dimensions()[1].name(), "l1");
    EXPECT_EQ(s.dimensions()[2].name(), "l2");
    EXPECT_EQ(s.dimensions()[3].name(), "optimizer.adam.lr");
    EXPECT_EQ(s.dimensions()[0].kind, SearchDimension::Kind::IntUniform);
    EXPECT_EQ(s.dimensions()[1].kind, SearchDimension::Kind::Choice);
    EXPECT_EQ(s.dimensions()[2].kind, SearchDimension::Kind::LogUniform);
    EXPECT_FALSE(s.is_grid());
    // The fixed value and the chosen ones land in the spec; the base's string optimizer is replaced.
    const json spec = s.apply(json::parse(R"({"model": "linear_regression", "optimizer": "sgd", "l2": 1})"),
                              {json(5), json(0.5), json(1e-3), json(0.01)});
    EXPECT_EQ(spec, json::parse(R"({"model": "linear_regression", "optimizer": {"adam": {"lr": 0.01}},
                                   "l2": 0.001, "l1": 0.5, "hash_bits": 5, "scale": true})"));
    EXPECT_EQ(s.named({json(5), json(0.5), json(1e-3), json(0.01)}),
              json::parse(R"({"hash_bits": 5, "l1": 0.5, "l2": 0.001, "optimizer.adam.lr": 0.01})"));
}

TEST(SearchSpace, BadSpacesAreRefused) {
    for (const char* bad : {R"({"l2": []})", R"({})", R"({"scale": true})", R"({"a": {}})", R"([1, 2])",
                            R"({"l2": {"uniform": [1, 0]}})", R"({"l2": {"uniform": [0]}})",
                            R"({"l2": {"uniform": ["a", 1]}})", R"({"l2": {"log_uniform": [0, 1]}})",
                            R"({"l2": {"log_uniform": [-1, 1]}})", R"({"b": {"int_uniform": [1.5, 3]}})",
                            R"({"b": {"int_uniform": [3, 1]}})", R"({"b": {"choice": []}})",
                            R"({"b": {"choice": 3}})", R"({"b": {"uniform": [0, 1], "x": 2}})"})
        expect_error(ErrorKind::InvalidParameter, [&] { space_of(bad); });
    // Integral floats are integers; equal bounds are one value.
    const SearchSpace s = space_of(R"({"b": {"int_uniform": [2.0, 2]}, "u": {"uniform": [1, 1]}})");
    SplitMix64 r(1);
    const auto v = s.draw(r);
    EXPECT_EQ(v[0], json(2));
    EXPECT_EQ(v[1], json(1.0));
}

TEST(SearchSpace, GridIsScikitLearnsParameterGridOrder) {
    // ParameterGrid({"b": [1, 2, 3], "a.x": ["p", "q"]}): sorted names, the last varying fastest.
    const SearchSpace s = space_of(R"({"b": [1, 2, 3], "a": {"x": ["p", "q"]}})");
    ASSERT_EQ(s.grid_size(), 6u);
    const char* expected[6][2] = {{"p", "1"}, {"p", "2"}, {"p", "3"}, {"q", "1"}, {"q", "2"}, {"q", "3"}};
    for (uint64_t i = 0; i < 6; i++) {
        const auto p = s.grid_point(i);
        EXPECT_EQ(p[0].get<std::string>(), expected[i][0]);
        EXPECT_EQ(p[1].dump(), expected[i][1]);
    }
    // A distribution has no grid.
    const std::string msg = expect_error(ErrorKind::InvalidParameter, [] {
        space_of(R"({"a": [1, 2], "l2": {"uniform": [0, 1]}})").grid_size();
    });
    EXPECT_NE(msg.find("\"l2\" is a distribution"), std::string::npos) << msg;
}

TEST(SearchSpace, RandomDrawsFollowSplitMix64) {
    // Seed 7: the outputs 0x63cbe1e459320dd7, 0x044c3cd7f43c661c, 0xe6984080bab12a02, ... read as
    // a: high64(next * 3) -> index 1 (20); b: exp(ln 1e-4 + (ln 1e-2 - ln 1e-4) u), u = (next >> 11) / 2^53;
    // c: -2 + high64(next * 8); d: 0.5 + u. Worked out in Python with the same formulas.
    const SearchSpace s = space_of(R"({"a": [10, 20, 30], "b": {"log_uniform": [1e-4, 1e-2]},
                                       "c": {"int_uniform": [-2, 5]}, "d": {"uniform": [0.5, 1.5]}})");
    SplitMix64 r(7);
    auto v = s.draw(r);
    EXPECT_EQ(v[0], json(20));
    EXPECT_DOUBLE_EQ(v[1].get<double>(), 0.00010803801321650748);
    EXPECT_EQ(v[2], json(5));
    EXPECT_DOUBLE_EQ(v[3].get<double>(), 1.082930293028078);
    v = s.draw(r);
    EXPECT_EQ(v[0], json(20));
    EXPECT_DOUBLE_EQ(v[1].get<double>(), 0.00031540098446626455);
    EXPECT_EQ(v[2], json(1));
    EXPECT_DOUBLE_EQ(v[3].get<double>(), 0.8280767391525029);
    // Bounds hold over many draws; a log-uniform draw's logarithm is uniform (mean at the middle).
    double sum_log = 0;
    for (int i = 0; i < 20000; i++) {
        v = s.draw(r);
        const double b = v[1].get<double>(), d = v[3].get<double>();
        const int64_t c = v[2].get<int64_t>();
        ASSERT_TRUE(b >= 1e-4 && b <= 1e-2);
        ASSERT_TRUE(c >= -2 && c <= 5);
        ASSERT_TRUE(d >= 0.5 && d < 1.5);
        sum_log += std::log10(b);
    }
    EXPECT_NEAR(sum_log / 20000, -3.0, 0.02);
}

TEST(SearchSpace, GridPointsDrawnWithoutReplacement) {
    // Seed 3, 6 points, 4 drawn: a partial Fisher-Yates shuffle gives 0, 4, 1, 3 (by hand in Python).
    const SearchSpace s = space_of(R"({"a": [1, 2], "b": [1, 2, 3]})");
    SplitMix64 r(3);
    EXPECT_EQ(s.draw_grid_indices(4, r), (std::vector<uint64_t>{0, 4, 1, 3}));
    SplitMix64 r2(11);
    const auto all = s.draw_grid_indices(100, r2);
    EXPECT_EQ(all.size(), 6u);
    EXPECT_EQ(std::set<uint64_t>(all.begin(), all.end()).size(), 6u);
}

TEST(SearchMetrics, DirectionAndTaskFit) {
    EXPECT_TRUE(higher_is_better("auc"));
    EXPECT_TRUE(higher_is_better("r2"));
    EXPECT_FALSE(higher_is_better("logloss"));
    EXPECT_FALSE(higher_is_better("rmse"));
    expect_error(ErrorKind::InvalidParameter, [] { higher_is_better("mean_error"); });
    expect_error(ErrorKind::InvalidParameter, [] { higher_is_better("nope"); });
    EXPECT_EQ(check_search_metric("linear_regression", Task::Regression, ""), "rmse");
    EXPECT_EQ(check_search_metric("logistic_regression", Task::Binary, ""), "logloss");
    EXPECT_EQ(check_search_metric("logistic_regression", Task::Binary, "auc"), "auc");
    expect_error(ErrorKind::InvalidParameter, [] { check_search_metric("logistic_regression", Task::Binary, "rmse"); });
    expect_error(ErrorKind::InvalidParameter, [] { check_search_metric("linear_regression", Task::Regression, "auc"); });
    expect_error(ErrorKind::InvalidParameter, [] { search_method_by_name("bayes"); });
}

// y = 3 x + 1 with a little noise; rows alternate test (fold 1) and train (fold 2).
EvalRows line_rows() {
    EvalRows rows;
    rows.dense = true;
    rows.dim = 1;
    SplitMix64 r(5);
    for (int i = 0; i < 400; i++) {
        const double x = (static_cast<double>(r.next() >> 11) * 0x1.0p-53) * 4 - 2;
        const double noise = (static_cast<double>(r.next() >> 11) * 0x1.0p-53) - 0.5;
        rows.values.push_back(x);
        rows.labels.push_back(StoredLabel::of(Label::of_number(3 * x + 1 + 0.1 * noise)));
        rows.folds.push_back(i % 5 == 0 ? 1 : 2);
    }
    return rows;
}

TEST(Search, HoldoutTrialsEqualModelsTrainedByHand) {
    const EvalRows rows = line_rows();
    const json base = json::parse(R"({"model": "linear_regression", "scale": false, "scale_target": false})");
    // l2 -1 is refused by the spec parser: that trial fails and the others go on.
    const SearchSpace space = space_of(R"({"optimizer": {"sgd": {"lr": [0.001, 0.05]}}, "l2": [0, -1]})");
    SearchOptions o;
    o.metric = "rmse";
    o.metrics = {"rmse", "mae"};
    o.epochs = 2;
    o.seed = 4;
    const SearchResult res = run_search(base, Task::Regression, space, rows, o, [] {});
    ASSERT_EQ(res.trials.size(), 4u);
    EXPECT_EQ(res.planned, 4u);
    // Grid order: l2 first, then the learning rate fastest.
    const double lrs[4] = {0.001, 0.05, 0.001, 0.05};
    for (int k = 0; k < 4; k++) {
        const Trial& t = res.trials[k];
        EXPECT_EQ(t.number, k + 1);
        EXPECT_EQ(t.spec["optimizer"]["sgd"]["lr"].get<double>(), lrs[k]);
        if (k >= 2) {
            EXPECT_FALSE(t.succeeded);
            EXPECT_FALSE(t.value);
            EXPECT_NE(t.message.find("l2"), std::string::npos) << t.message;
            continue;
        }
        ASSERT_TRUE(t.succeeded) << t.message;
        // By hand: the train rows (fold 2) learned in order, then shuffled as run_epochs does.
        auto m = model_from_json(t.spec);
        std::vector<size_t> train;
        for (size_t i = 0; i < rows.size(); i++)
            if (rows.folds[i] == 2) train.push_back(i);
        run_epochs(train.size(), 2, true, 4, [&](size_t j) { rows.learn(*m, train[j]); }, [] {});
        double se = 0, ae = 0;
        int n = 0;
        for (size_t i = 0; i < rows.size(); i++) {
            if (rows.folds[i] != 1) continue;
            const double e = m->predict_dense(&rows.values[i], 1) - rows.labels[i].number;
            se += e * e;
            ae += std::fabs(e);
            n++;
        }
        EXPECT_NEAR(*t.value, std::sqrt(se / n), 1e-12);
        EXPECT_NEAR(*t.values_of_metrics[1], ae / n, 1e-12);
        EXPECT_FALSE(t.sd);  // one split: no spread
    }
    // The larger rate learns the line in two passes; the smaller does not: the best is trial 2.
    ASSERT_TRUE(res.best);
    EXPECT_EQ(*res.best, 1u);
    EXPECT_TRUE(res.trials[1].is_best);
    EXPECT_LT(*res.trials[1].value, *res.trials[0].value);
}

TEST(Search, CrossValidatedTrialsAreMeansOverFolds) {
    EvalRows rows = line_rows();
    for (size_t i = 0; i < rows.size(); i++) rows.folds[i] = 1 + i % 3;
    const json base = json::parse(R"({"model": "linear_regression"})");
    const SearchSpace space = space_of(R"({"l2": [0, 0.5]})");
    SearchOptions o;
    o.metric = "r2";
    o.metrics = {"r2"};
    o.folds = 3;
    const SearchResult res = run_search(base, Task::Regression, space, rows, o, [] {});
    ASSERT_EQ(res.trials.size(), 2u);
    for (const Trial& t : res.trials) {
        const auto folds = cross_validate(*model_from_json(t.spec), rows, 3, {"r2"}, 1, true, 0, [] {});
        std::vector<std::optional<double>> v;
        for (const auto& f : folds) v.push_back(f.values[0]);
        EXPECT_EQ(*t.value, *mean_of(v));
        EXPECT_EQ(*t.sd, *sd_of(v));
    }
    // r2: higher is better.
    ASSERT_TRUE(res.best);
    const size_t other = 1 - *res.best;
    EXPECT_GE(*res.trials[*res.best].value, *res.trials[other].value);
}

TEST(Search, BudgetsAndRandomReproducibility) {
    const EvalRows rows = line_rows();
    const json base = json::parse(R"({"model": "linear_regression"})");
    const SearchSpace space = space_of(R"({"l2": {"log_uniform": [1e-6, 1e-1]}, "intercept_lr": [0.01, 0.1]})");
    SearchOptions o;
    o.method = SearchMethod::Random;
    o.metric = "mae";
    o.metrics = {"mae"};
    o.trials = 5;
    o.seed = 42;
    const SearchResult a = run_search(base, Task::Regression, space, rows, o, [] {});
    const SearchResult b = run_search(base, Task::Regression, space, rows, o, [] {});
    ASSERT_EQ(a.trials.size(), 5u);
    for (size_t k = 0; k < 5; k++) {
        EXPECT_EQ(a.trials[k].spec, b.trials[k].spec);
        EXPECT_EQ(*a.trials[k].value, *b.trials[k].value);
    }
    // The draws are the space's draws from SplitMix64(seed), in order.
    SplitMix64 r(42);
    for (size_t k = 0; k < 5; k++) EXPECT_EQ(a.trials[k].spec, space.apply(base, space.draw(r)));
    // A seconds budget on a clock that advances 1 s per reading: trials start while < 2.5 s.
    double now = 0;
    o.trials.reset();
    o.seconds = 2.5;
    o.elapsed = [&now]() { return now += 1.0; };
    const SearchResult c = run_search(base, Task::Regression, space, rows, o, [] {});
    EXPECT_TRUE(c.stopped_by_time);
    EXPECT_EQ(c.trials.size(), 1u);  // readings: trial start 1, end 2 (1 s); the next check reads 3 >= 2.5: stop
    EXPECT_EQ(c.trials[0].seconds, 1.0);
    // Bad budgets.
    o.elapsed = nullptr;
    o.seconds.reset();
    expect_error(ErrorKind::InvalidParameter, [&] { run_search(base, Task::Regression, space, rows, o, [] {}); });
    o.trials = 0;
    expect_error(ErrorKind::InvalidParameter, [&] { run_search(base, Task::Regression, space, rows, o, [] {}); });
    o.trials = -3;
    expect_error(ErrorKind::InvalidParameter, [&] { run_search(base, Task::Regression, space, rows, o, [] {}); });
    o.trials.reset();
    o.seconds = 0;
    expect_error(ErrorKind::InvalidParameter, [&] { run_search(base, Task::Regression, space, rows, o, [] {}); });
    // Grid: trials caps the points run, in grid order.
    SearchOptions g;
    g.metric = "mae";
    g.metrics = {"mae"};
    g.trials = 2;
    const SearchSpace grid = space_of(R"({"l2": [0, 0.1, 0.2]})");
    const SearchResult d = run_search(base, Task::Regression, grid, rows, g, [] {});
    ASSERT_EQ(d.trials.size(), 2u);
    EXPECT_EQ(d.trials[1].spec["l2"].get<double>(), 0.1);
    // Random over a grid of 3 points asked for 5: each point once.
    g.method = SearchMethod::Random;
    g.trials = 5;
    const SearchResult e = run_search(base, Task::Regression, grid, rows, g, [] {});
    EXPECT_EQ(e.trials.size(), 3u);
    EXPECT_TRUE(e.capped);
}

TEST(Search, SuccessiveHalvingKeepsTheBestThirdAtEachRung) {
    const EvalRows rows = line_rows();  // 320 train rows, 80 test
    const json base = json::parse(R"({"model": "linear_regression", "scale": false, "scale_target": false,
                                      "optimizer": "sgd"})");
    const SearchSpace space = space_of(R"({"optimizer": {"sgd": {"lr": [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.02, 0.03, 0.05, 0.07]}}})");
    SearchOptions o;
    o.method = SearchMethod::Halving;
    o.metric = "rmse";
    o.metrics = {"rmse"};
    o.epochs = 2;
    o.seed = 9;
    const SearchResult h = run_search(base, Task::Regression, space, rows, o, [] {});
    ASSERT_EQ(h.trials.size(), 9u);
    EXPECT_EQ(h.rungs, 3);  // 9 candidates, eta 3: rungs of 9, 3 and 1
    int at[4] = {0, 0, 0, 0};
    for (const Trial& t : h.trials) {
        ASSERT_TRUE(t.succeeded) << t.message;
        at[t.rung]++;
    }
    EXPECT_EQ(at[1], 6);
    EXPECT_EQ(at[2], 2);
    EXPECT_EQ(at[3], 1);
    ASSERT_TRUE(h.best);
    EXPECT_EQ(h.trials[*h.best].rung, 3);
    // The last rung's model learned the whole stream: its value is the grid trial's.
    o.method = SearchMethod::Grid;
    const SearchResult g = run_search(base, Task::Regression, space, rows, o, [] {});
    EXPECT_EQ(*h.trials[*h.best].value, *g.trials[*h.best].value);
    // A rung-1 value is a model that learned the first ceil(640 / 9) = 72 steps of that stream.
    std::vector<size_t> train;
    for (size_t i = 0; i < rows.size(); i++)
        if (rows.folds[i] == 2) train.push_back(i);
    for (const Trial& t : h.trials) {
        if (t.rung != 1) continue;
        auto m = model_from_json(t.spec);
        size_t steps = 0;
        run_epochs(train.size(), 2, true, 9, [&](size_t j) { if (steps++ < 72) rows.learn(*m, train[j]); }, [] {});
        double se = 0;
        int n = 0;
        for (size_t i = 0; i < rows.size(); i++)
            if (rows.folds[i] == 1) {
                const double e = m->predict_dense(&rows.values[i], 1) - rows.labels[i].number;
                se += e * e;
                n++;
            }
        EXPECT_NEAR(*t.value, std::sqrt(se / n), 1e-12) << t.spec.dump();  // (our sums are exact)
    }
    // Without trials, halving over a distribution is refused.
    const SearchSpace dist = space_of(R"({"l2": {"uniform": [0, 1]}})");
    o.method = SearchMethod::Halving;
    expect_error(ErrorKind::InvalidParameter, [&] { check_search(base, dist, o); });
    o.trials = 4;
    check_search(base, dist, o);
}

TEST(Search, ATrialOfAnotherTaskFails) {
    const EvalRows rows = line_rows();
    const SearchSpace space = space_of(R"({"model": ["linear_regression", "logistic_regression"]})");
    SearchOptions o;
    o.metric = "rmse";
    o.metrics = {"rmse"};
    const SearchResult r = run_search(json::parse(R"({"model": "linear_regression"})"), Task::Regression, space, rows, o, [] {});
    ASSERT_EQ(r.trials.size(), 2u);
    EXPECT_TRUE(r.trials[0].succeeded);
    EXPECT_FALSE(r.trials[1].succeeded);
    EXPECT_NE(r.trials[1].message.find("binary"), std::string::npos) << r.trials[1].message;
    EXPECT_EQ(*r.best, 0u);
    // A whole model is no base.
    expect_error(ErrorKind::InvalidParameter, [&] {
        run_search(json::parse(R"({"pg_learn_model": 1, "kind": "linear_regression"})"), Task::Regression, space, rows, o, [] {});
    });
}

}  // namespace
}  // namespace pg_learn::test
