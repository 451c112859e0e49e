// Hyperparameter search (issue 16 item 4): a search space mirroring a model spec, its grid and its
// random draws, each trial's spec, and the trials evaluated on a holdout split or by k-fold
// cross-validation (core/evaluation), as BigQuery ML's ML.TRIAL_INFO lists them.
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/evaluation/evaluation.hpp"
#include "core/models/training.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pg_learn::core {

// ---- the search space -----------------------------------------------------------------------
// A JSON object mirroring a spec. At any place:
//   - an array of values is a choice among them ([0.001, 0.01], ["sgd", "adam"], [[...], [...]]);
//   - {"uniform": [a, b]}, {"log_uniform": [a, b]} (0 < a), {"int_uniform": [a, b]} (integers),
//     {"choice": [v, ...]} are distributions (an object with one of these keys has no other key);
//   - any other object is recursed into (its keys are spec options);
//   - a scalar (number, string, boolean, null) is fixed: set in every trial's spec.
// A dimension's name is its path joined by "." (e.g. "optimizer.adam.lr"). Dimensions come in the
// order of their paths compared key by key (object keys sorted), which is scikit-learn's
// ParameterGrid order for flat names: sorted names, the last one varying fastest in the grid.
struct SearchDimension {
    enum class Kind { Choice, Uniform, LogUniform, IntUniform };
    std::vector<std::string> path;
    Kind kind = Kind::Choice;
    std::vector<nlohmann::json> values;  // Choice
    double low = 0, high = 0;            // Uniform, LogUniform
    int64_t ilow = 0, ihigh = 0;         // IntUniform
    std::string name() const;
};

inline constexpr uint64_t kMaxSearchTrials = 100000;

class SearchSpace {
public:
    // Parsed and validated: InvalidParameter for an empty array, a space without any dimension,
    // a distribution that is not [a, b] of finite numbers with a <= b (log_uniform: a > 0;
    // int_uniform: integers), an object mixing a distribution's key with others.
    static SearchSpace parse(const nlohmann::json& space);

    const std::vector<SearchDimension>& dimensions() const { return dims_; }
    // True when every dimension is a list of values (a grid exists).
    bool is_grid() const;
    // The number of grid points, saturating at UINT64_MAX; InvalidParameter naming the first
    // distribution when one is not a list.
    uint64_t grid_size() const;
    // Point `index` (0-based, < grid_size()) of the grid: the last dimension varies fastest.
    std::vector<nlohmann::json> grid_point(uint64_t index) const;
    // One random trial: each dimension drawn in order from rng (see search.cpp for the exact use of
    // its outputs: u = (next() >> 11) * 2^-53; uniform a + (b - a) u; log_uniform exp(ln a + (ln b -
    // ln a) u); a choice of k values and int_uniform's k = b - a + 1 integers take the high 64 bits
    // of next() * k).
    std::vector<nlohmann::json> draw(SplitMix64& rng) const;
    // `count` distinct grid indices drawn without replacement (a partial Fisher-Yates shuffle of
    // 0..grid_size()-1 whose j-th swap partner is j + high64(next() * (size - j))).
    std::vector<uint64_t> draw_grid_indices(uint64_t count, SplitMix64& rng) const;
    // The base spec with the fixed values and the chosen ones (one per dimension) set at their
    // paths; an object missing on a path is created, a non-object value on it is replaced.
    nlohmann::json apply(const nlohmann::json& base, const std::vector<nlohmann::json>& values) const;
    // {"optimizer.adam.lr": 0.01, ...}: the chosen values by dimension name.
    nlohmann::json named(const std::vector<nlohmann::json>& values) const;

private:
    void walk(const nlohmann::json& node, std::vector<std::string>& path);
    std::vector<SearchDimension> dims_;
    std::vector<std::pair<std::vector<std::string>, nlohmann::json>> fixed_;
};

// JSON text of a search argument (the base spec, the space) parsed, nested at most 32 deep
// ("<what> text is nested too deeply" otherwise).
nlohmann::json search_json(const std::string& text, const char* what);

// ---- metrics to choose by -------------------------------------------------------------------
// Whether a larger value of the metric is better (auc, accuracy, precision, recall, f1, r2) or a
// smaller one (logloss, mae, rmse, mape); InvalidParameter for a metric without a direction
// (mean_error: 0 is best) or an unknown name.
bool higher_is_better(std::string_view metric);
// The metric a search chooses by when none is named: logloss for binary and multiclass models,
// rmse for regressions.
std::string default_search_metric(Task task);
// The metric checked against the task (check_metrics) and for a direction.
std::string check_search_metric(std::string_view kind, Task task, const std::string& metric);

// ---- running the trials ---------------------------------------------------------------------
// Halving: successive halving (Jamieson and Talwalkar 2016) for online models. The candidates are
// the grid's points (every dimension a list, no trials), else `trials` of them drawn as random
// search draws. With s = floor(log_3(candidates)), rung k = 0..s lets every surviving candidate's
// model (one per split) go on learning its training stream (the same stream as a grid trial's:
// its rows in order, then epochs - 1 shuffled passes) up to ceil(L * 3^(k - s)) of its L steps,
// then scores it; the best floor(survivors / 3) (at least 1) go on to the next rung. A survivor of
// the last rung learned all L steps: its value is the grid trial's value of its spec.
enum class SearchMethod { Grid, Random, Halving };
inline constexpr int kHalvingEta = 3;
SearchMethod search_method_by_name(std::string_view name);  // InvalidParameter otherwise
const char* search_method_name(SearchMethod m);

struct SearchOptions {
    SearchMethod method = SearchMethod::Grid;
    std::string metric;                  // checked, with a direction
    std::vector<std::string> metrics;    // every metric reported (metric first)
    int64_t folds = 0;                   // 0: holdout (rows' folds: 1 test, 2 train); else k-fold
    std::optional<int64_t> trials;       // grid: at most this many; random: this many (> 0)
    std::optional<double> seconds;       // no trial starts after this wall time (> 0)
    int epochs = 1;
    uint64_t seed = 0;
    // Seconds since the search started (steady clock by default; tests pass their own).
    std::function<double()> elapsed;
};

struct Trial {
    int64_t number = 0;              // 1, 2, ... in the order run
    nlohmann::json spec;             // the trial's spec
    nlohmann::json values;           // the chosen values by dimension name
    bool succeeded = false;
    std::string message;             // why it failed, or a note (a single pass)
    std::optional<double> value, sd; // the metric (mean over folds) and its sd over folds
    std::vector<std::optional<double>> values_of_metrics;  // options.metrics' means
    double seconds = 0;
    bool is_best = false;
    int rung = 0;                    // halving: the last rung it was scored at (1-based)
};

struct SearchResult {
    std::vector<Trial> trials;
    uint64_t planned = 0;            // trials the method would have run
    bool stopped_by_time = false;    // the seconds budget stopped it before `planned`
    bool capped = false;             // random over a grid: trials above the grid's size
    std::optional<size_t> best;      // index into trials
    int rungs = 1;                   // halving: rungs planned
    int rungs_run = 0;               // halving: rungs run
};

// Runs the trials: each trial's spec is made into a model (a refused spec fails the trial), which
// must have the base task; it is evaluated as cross_validate does (folds > 0) or on the holdout
// split (rows.folds: 1 test, 2 train); a trial whose learning fails (divergence, a label its model
// refuses) fails without stopping the search. Errors of other kinds than core::Error (the
// glue's cancel) and Internal errors propagate. The best is the succeeded trial with the best
// defined value (the first of equal ones).
// The options checked against the space (trials, seconds, epochs, folds, a random search's
// budget, a grid's size and lists), as run_search checks them before any trial: for the glue to
// refuse bad input before reading the rows.
void check_search(const nlohmann::json& base, const SearchSpace& space, const SearchOptions& options);

SearchResult run_search(const nlohmann::json& base, Task task, const SearchSpace& space, const EvalRows& rows,
                        const SearchOptions& options, const std::function<void()>& every_so_often);

// A model of `spec` trained on every row (epochs passes, later ones shuffled with seed; one pass
// for a model computing features from labels, with *single_pass set): what the search registers.
std::unique_ptr<Model> fit_on_all_rows(const nlohmann::json& spec, const EvalRows& rows, int epochs, uint64_t seed,
                                       const std::function<void()>& every_so_often, bool* single_pass = nullptr);

}  // namespace pg_learn::core
