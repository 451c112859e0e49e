// Model evaluation (issue 16): deterministic splits from a key's hash, the metrics of a task,
// progressive validation (river's progressive_val_score) and k-fold cross-validation.
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/features/observation.hpp"
#include "core/metrics/class_metrics.hpp"
#include "core/metrics/metrics.hpp"
#include "core/models/model.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pg_learn::core {

// ---- splits ---------------------------------------------------------------------------------
// A key's 64-bit hash h (PostgreSQL's extended hash of the key's type with the seed) read as
// u = h / 2^64 in [0, 1): the fold is 1 + floor(u * folds), computed exactly as the high 64 bits
// of h * folds; the row is in the test set when u < test_fraction, i.e. h < test_fraction * 2^64.
// A larger fraction only moves rows from train to test.
uint32_t fold_of_hash(uint64_t h, int64_t folds);     // 1..folds; InvalidParameter unless folds >= 2
bool is_test_hash(uint64_t h, double test_fraction);  // InvalidParameter unless 0 <= fraction <= 1
void check_folds(int64_t folds);
void check_test_fraction(double test_fraction);

// ---- labels kept beyond the call that read them ---------------------------------------------
struct StoredLabel {
    Label::Type type = Label::Type::Number;
    double number = 0;
    std::string text;
    static StoredLabel of(const Label& y) { return {y.type, y.number, std::string(y.text)}; }
    Label view() const { return {type, number, text}; }
};

// ---- the metrics of a task ------------------------------------------------------------------
// Names: regression mae, rmse, r2, mape, mean_error; binary auc, logloss, accuracy, precision,
// recall, f1 (at threshold 0.5); multiclass accuracy, logloss, precision, recall, f1 (macro
// averages). The defaults are ml_model_metrics': mae, rmse, r2 / auc, logloss, accuracy /
// accuracy, logloss, f1.
std::vector<std::string> default_metrics(Task task);
std::vector<std::string> metrics_of_task(Task task);
// The names checked against the task (InvalidParameter naming the task's metrics otherwise;
// duplicates removed, order kept); empty: the defaults. Clustering and anomaly models have no
// labels to evaluate against: InvalidParameter naming the kind.
std::vector<std::string> check_metrics(std::string_view kind, Task task, const std::vector<std::string>& names);

// One metric accumulator for a task: the prediction of a model for an example compared with its
// label. moving_auc keeps the AUC in an order-statistics tree (O(log n) per row, read in O(1)),
// for a value read after every group of rows; otherwise the distinct scores are sorted once.
class EvalMetrics {
public:
    EvalMetrics(Task task, const std::vector<std::string>& metrics, bool moving_auc = false);
    // The model's prediction of x (dense or named) scored against y, which the task accepts
    // (InvalidParameter otherwise, as when learning).
    void add(const Model& m, const Observation* x, const double* dense, size_t n, const Label& y);
    // The same from a prediction made before (Prediction below): for resampling without
    // predicting again.
    struct Prediction {
        double value = 0;             // regression value, or probability of class 1
        std::vector<ProbaEntry> proba;  // multiclass: the classes' probabilities (names borrowed from the model)
        bool scored = true;           // false: the model predicted nothing (no class known)
    };
    static Prediction predict(const Model& m, const Observation* x, const double* dense, size_t n);
    void add_prediction(std::string_view kind, const Prediction& p, const Label& y);
    uint64_t count() const { return n_; }
    // The value of metric i (in the order given), nullopt where undefined.
    std::optional<double> value(size_t i) const;
    const std::vector<std::string>& names() const { return names_; }
    void clear();

private:
    Task task_;
    std::vector<std::string> names_;
    bool moving_auc_;
    bool want_auc_ = false;
    uint64_t n_ = 0;
    std::optional<RankingWindow> window_;
    RankingCounts ranking_;
    ConfusionCounts confusion_;
    LogLossSum logloss_;
    RegressionSums regression_;
    ClassMetricState classes_{true};
    std::vector<double> proba_;
    std::vector<ProbaEntry> entries_;
    std::string actual_;
};

// ---- progressive validation -----------------------------------------------------------------
// Rows come in stream order. Each row is predicted by the model as it is then, scored against its
// label, and its label is learned once it is revealed: delay_rows k learns row i's label before
// row i + max(k, 1) is predicted; delay_time d (in the time column's units, microseconds) learns
// it before the first row whose time is at least time_i + d (river's simulate_qa, with labels
// revealed in the order they were asked). Metrics are grouped every `every` scored rows, or by
// time bucket of `bucket` (aligned on time 0) when bucket > 0.
struct ProgressiveOptions {
    int64_t every = 1000;
    int64_t delay_rows = 0;
    std::optional<int64_t> delay_time;
    int64_t bucket = 0;
};

struct SeriesValue {
    std::optional<int64_t> step;  // 1, 2, ...; nullopt for the overall rows
    std::optional<int64_t> time;  // bucket start, or the time of the step's last row
    int64_t n;                    // rows scored in the step (all rows for the overall rows)
    std::string metric;
    std::optional<double> value, cumulative;
};

class ProgressiveValidation {
public:
    ProgressiveValidation(std::unique_ptr<Model> model, const std::vector<std::string>& metrics,
                          const ProgressiveOptions& options, bool timed);
    // One row: x named (or dense, x == nullptr), its label, its time (required when timed).
    void row(const Observation* x, const double* dense, size_t n, const Label& y, std::optional<int64_t> time);
    // Closes the last step and appends the overall rows.
    void finish();
    const std::vector<SeriesValue>& series() const { return series_; }
    const Model& model() const { return *model_; }

private:
    struct Pending {
        Observation x;
        std::vector<double> dense;
        bool is_dense;
        StoredLabel y;
        uint64_t due_row;
        int64_t due_time;
    };
    void reveal(uint64_t row_index, std::optional<int64_t> time);
    void close_step();

    std::unique_ptr<Model> model_;
    ProgressiveOptions opt_;
    bool timed_;
    EvalMetrics step_, total_;
    std::deque<Pending> pending_;
    uint64_t rows_ = 0;
    int64_t steps_ = 0;
    std::optional<int64_t> last_time_, step_time_, step_bucket_;
    std::vector<SeriesValue> series_;
};

// ---- k-fold cross-validation ----------------------------------------------------------------
// Rows held in memory (all dense, or all named), with their labels and folds (1..k).
struct EvalRows {
    bool dense = true;
    size_t dim = 0;
    std::vector<double> values;        // dense: row i at values[i * dim]
    std::vector<Observation> named;    // named
    std::vector<StoredLabel> labels;
    std::vector<uint32_t> folds;
    size_t size() const { return labels.size(); }
    void learn(Model& m, size_t i) const;
};

struct FoldResult {
    uint32_t fold;
    uint64_t n_train, n_test;
    std::vector<std::optional<double>> values;  // in the order of the metric names
};

// Fold `fold` of rows scored by a copy of start that learned the rows of the other folds (epochs
// passes, the first in row order, later ones shuffled, as ml_train: run_epochs with seed). A
// holdout split is fold 1 (test) against fold 2 (train).
FoldResult evaluate_fold(const Model& start, const EvalRows& rows, uint32_t fold,
                         const std::vector<std::string>& metrics, int epochs, bool shuffle, uint64_t seed,
                         const std::function<void()>& every_so_often);

// For each fold f: a copy of start learns the rows of the other folds (epochs passes, the first
// in row order, later ones shuffled, as ml_train: run_epochs with seed), then scores the rows of
// fold f. every_so_often runs every 1024 rows (the glue checks for cancel there).
std::vector<FoldResult> cross_validate(const Model& start, const EvalRows& rows, int64_t folds,
                                       const std::vector<std::string>& metrics, int epochs, bool shuffle,
                                       uint64_t seed, const std::function<void()>& every_so_often);

// ---- comparison of models on one query (issue 16 item 7) -----------------------------------
// Every model scores every row (all of one task); each metric's value per model with a bootstrap
// percentile interval, and for every model but the first the paired difference to the first
// (value - first's value) with its bootstrap interval and a two-sided bootstrap p-value. The
// resamples are shared by all models (paired): resample b draws n rows with replacement, row j
// of it being row floor(n * u) of the data, u = SplitMix64(seed)'s next output / 2^64. The
// interval is the (1 - confidence) / 2 and (1 + confidence) / 2 percentiles of the resampled
// values where the metric is defined (numpy.percentile's linear interpolation); the p-value is
// min(1, 2 * min(share of differences <= 0, share >= 0)) over the defined ones.
struct CompareRow {
    uint32_t model;  // 1-based position in the array
    std::string metric;
    std::optional<double> value, lower, upper, difference, diff_lower, diff_upper, p_value;
};
std::vector<CompareRow> compare_models(const std::vector<const Model*>& models, const EvalRows& rows,
                                       const std::vector<std::string>& metrics, int64_t resamples,
                                       double confidence, uint64_t seed,
                                       const std::function<void()>& every_so_often);
// numpy.percentile(v, q * 100) with its default linear interpolation; v sorted, not empty.
double percentile_linear(const std::vector<double>& sorted, double q);

// Mean and sample standard deviation (n - 1, SQL's stddev) of the defined values, as avg and
// stddev skip NULLs: nullopt with no value (sd: with fewer than two).
std::optional<double> mean_of(const std::vector<std::optional<double>>& v);
std::optional<double> sd_of(const std::vector<std::optional<double>>& v);

}  // namespace pg_learn::core
