// Model evaluation: splits, task metrics, progressive validation and k-fold cross-validation.
#include "core/evaluation/evaluation.hpp"

#include "core/common/error.hpp"
#include "core/models/training.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pg_learn::core {

// ---- splits ---------------------------------------------------------------------------------

void check_folds(int64_t folds) {
    if (folds < 2)
        fail(ErrorKind::InvalidParameter, "folds must be at least 2", "got " + std::to_string(folds),
             "k-fold cross-validation trains on k - 1 folds and tests on the remaining one.");
}

void check_test_fraction(double f) {
    if (!(f >= 0.0 && f <= 1.0))
        fail(ErrorKind::InvalidParameter, "test_fraction must be between 0 and 1", "got " + std::to_string(f));
}

uint32_t fold_of_hash(uint64_t h, int64_t folds) {
    check_folds(folds);
    if (folds > std::numeric_limits<uint32_t>::max() - 1)
        fail(ErrorKind::InvalidParameter, "folds must be at most 4294967294", "got " + std::to_string(folds));
    const unsigned __int128 p = static_cast<unsigned __int128>(h) * static_cast<uint64_t>(folds);
    return static_cast<uint32_t>(p >> 64) + 1;
}

bool is_test_hash(uint64_t h, double f) {
    check_test_fraction(f);
    if (f >= 1.0) return true;
    // u < f  <=>  h < f * 2^64; f * 2^64 is exact (a power-of-two scaling) and below 2^64 here.
    const double limit = std::ldexp(f, 64);
    // h converts to the nearest double, which may round up to limit: compare as integers instead.
    const uint64_t lim = static_cast<uint64_t>(limit);  // f < 1: limit < 2^64, an integer when >= 2^53
    if (limit != std::floor(limit)) return h <= lim;    // h < limit with limit fractional: h <= floor
    return h < lim;
}

// ---- metrics of a task ----------------------------------------------------------------------

std::vector<std::string> metrics_of_task(Task task) {
    switch (task) {
        case Task::Regression: return {"mae", "rmse", "r2", "mape", "mean_error"};
        case Task::Binary: return {"auc", "logloss", "accuracy", "precision", "recall", "f1"};
        case Task::Multiclass: return {"accuracy", "logloss", "precision", "recall", "f1"};
        default: return {};
    }
}

std::vector<std::string> default_metrics(Task task) {
    switch (task) {
        case Task::Regression: return {"mae", "rmse", "r2"};
        case Task::Binary: return {"auc", "logloss", "accuracy"};
        case Task::Multiclass: return {"accuracy", "logloss", "f1"};
        default: return {};
    }
}

namespace {
// "a regression", "an anomaly": the task with its article, for messages.
std::string a_task(Task task) {
    const std::string t = task_name(task);
    return (std::string("aeiou").find(t[0]) != std::string::npos ? "an " : "a ") + t;
}
}  // namespace

std::vector<std::string> check_metrics(std::string_view kind, Task task, const std::vector<std::string>& names) {
    if (learns_without_labels(task))
        fail(ErrorKind::InvalidParameter,
             a_task(task) + " model has no labels to be evaluated against",
             std::string("The model is a ") + std::string(kind) + ".",
             "Evaluation compares predictions with labels: regression, binary and multiclass models.");
    if (names.empty()) return default_metrics(task);
    const std::vector<std::string> known = metrics_of_task(task);
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    std::vector<std::string> out;
    for (const auto& n : names) {
        if (std::find(known.begin(), known.end(), n) == known.end())
            fail(ErrorKind::InvalidParameter,
                 "metric \"" + n + "\" does not fit " + a_task(task) + " model",
                 std::string("The model is a ") + std::string(kind) + ".",
                 "The metrics of " + a_task(task) + " model: " + list + ".");
        if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    }
    return out;
}

EvalMetrics::EvalMetrics(Task task, const std::vector<std::string>& metrics, bool moving_auc)
    : task_(task), names_(metrics), moving_auc_(moving_auc) {
    want_auc_ = std::find(names_.begin(), names_.end(), "auc") != names_.end();
    if (want_auc_ && moving_auc_) window_.emplace();
}

void EvalMetrics::clear() {
    n_ = 0;
    if (window_) window_.emplace();
    ranking_ = RankingCounts();
    confusion_ = ConfusionCounts();
    logloss_ = LogLossSum();
    regression_ = RegressionSums();
    classes_ = ClassMetricState(true);
}

namespace {

bool positive_label(std::string_view kind, Task task, const Label& y) {
    // The common labels without the general check's strings: a boolean, or the number 0 or 1.
    if (y.type == Label::Type::Boolean || (y.type == Label::Type::Number && (y.number == 0 || y.number == 1)))
        return y.number != 0;
    check_label(kind, task, y);
    const std::string c = class_of_label(y);
    return c == "1" || c == "true";
}

double number_label(std::string_view kind, Task task, const Label& y) {
    if (y.type == Label::Type::Number && std::isfinite(y.number)) return y.number;
    check_label(kind, task, y);
    if (y.type == Label::Type::Text) {
        double v = 0;
        parse_number_label(y.text, v);
        return v;
    }
    return y.number;
}

}  // namespace

EvalMetrics::Prediction EvalMetrics::predict(const Model& m, const Observation* x, const double* dense, size_t n) {
    Prediction p;
    if (m.task() == Task::Multiclass) {
        std::vector<double> pr;
        if (x) m.predict_proba(*x, pr);
        else m.predict_proba_dense(dense, n, pr);
        if (pr.empty()) {
            p.scored = false;
            return p;
        }
        const std::vector<std::string>& cls = m.classes();
        for (size_t c = 0; c < pr.size() && c < cls.size(); c++)
            p.proba.push_back(ProbaEntry{cls[c], std::min(1.0, std::max(0.0, pr[c])), "number"});
        return p;
    }
    p.value = x ? m.predict(*x) : m.predict_dense(dense, n);
    return p;
}

void EvalMetrics::add_prediction(std::string_view kind, const Prediction& p, const Label& y) {
    if (!p.scored) return;
    switch (task_) {
        case Task::Regression: regression_.add(p.value, number_label(kind, task_, y)); break;
        case Task::Binary: {
            const bool pos = positive_label(kind, task_, y);
            if (!std::isfinite(p.value)) fail(ErrorKind::NumericRange, "the model predicted a non-finite probability");
            if (want_auc_) {
                if (window_) window_->add(p.value, pos);
                else ranking_.add(p.value, pos);
            }
            confusion_.add(p.value, pos);
            logloss_.add(p.value, pos);
            break;
        }
        case Task::Multiclass:
            check_label(kind, task_, y);
            actual_ = class_of_label(y);
            classes_.add_proba(actual_, p.proba);
            break;
        default: fail(ErrorKind::InvalidParameter, a_task(task_) + " model cannot be evaluated");
    }
    n_++;
}

void EvalMetrics::add(const Model& m, const Observation* x, const double* dense, size_t n, const Label& y) {
    switch (task_) {
        case Task::Regression: {
            const double t = number_label(m.kind(), task_, y);
            const double p = x ? m.predict(*x) : m.predict_dense(dense, n);
            regression_.add(p, t);
            break;
        }
        case Task::Binary: {
            const bool pos = positive_label(m.kind(), task_, y);
            const double p = x ? m.predict(*x) : m.predict_dense(dense, n);
            if (!std::isfinite(p)) fail(ErrorKind::NumericRange, "the model predicted a non-finite probability");
            if (want_auc_) {
                if (window_) window_->add(p, pos);
                else ranking_.add(p, pos);
            }
            confusion_.add(p, pos);
            logloss_.add(p, pos);
            break;
        }
        case Task::Multiclass: {
            check_label(m.kind(), task_, y);
            actual_ = class_of_label(y);
            if (x) m.predict_proba(*x, proba_);
            else m.predict_proba_dense(dense, n, proba_);
            // A model that knows no class yet predicts nothing: the row is not scored (river's
            // progressive_val_score skips an empty prediction alike).
            if (proba_.empty()) return;
            const std::vector<std::string>& cls = m.classes();
            entries_.clear();
            for (size_t c = 0; c < proba_.size() && c < cls.size(); c++)
                entries_.push_back(ProbaEntry{cls[c], std::min(1.0, std::max(0.0, proba_[c])), "number"});
            classes_.add_proba(actual_, entries_);
            break;
        }
        default:
            fail(ErrorKind::InvalidParameter, a_task(task_) + " model cannot be evaluated");
    }
    n_++;
}

std::optional<double> EvalMetrics::value(size_t i) const {
    const std::string& name = names_.at(i);
    if (n_ == 0) return std::nullopt;
    switch (task_) {
        case Task::Regression:
            if (name == "mae") return regression_.mae();
            if (name == "rmse") return regression_.rmse();
            if (name == "r2") return regression_.r2();
            if (name == "mape") return regression_.mape();
            if (name == "mean_error") return regression_.mean_error();
            break;
        case Task::Binary:
            if (name == "auc") {
                if (window_) return window_->auc();
                return MetricState(ranking_).auc();
            }
            if (name == "logloss") return MetricState(logloss_).logloss();
            if (name == "accuracy") return MetricState(confusion_).accuracy();
            if (name == "precision") return MetricState(confusion_).precision();
            if (name == "recall") return MetricState(confusion_).recall();
            if (name == "f1") return MetricState(confusion_).f1();
            break;
        case Task::Multiclass:
            if (name == "accuracy") return classes_.accuracy();
            if (name == "logloss") return classes_.logloss();
            if (name == "precision") return classes_.precision(Average::Macro);
            if (name == "recall") return classes_.recall(Average::Macro);
            if (name == "f1") return classes_.f1(Average::Macro);
            break;
        default: break;
    }
    fail(ErrorKind::Internal, "unknown metric " + name);
}

// ---- progressive validation -----------------------------------------------------------------

ProgressiveValidation::ProgressiveValidation(std::unique_ptr<Model> model, const std::vector<std::string>& metrics,
                                             const ProgressiveOptions& options, bool timed)
    : model_(std::move(model)), opt_(options), timed_(timed),
      step_(model_->task(), metrics, false), total_(model_->task(), metrics, /*moving_auc=*/true) {
    if (opt_.every < 1)
        fail(ErrorKind::InvalidParameter, "every must be at least 1", "got " + std::to_string(opt_.every));
    if (opt_.delay_rows < 0)
        fail(ErrorKind::InvalidParameter, "delay must not be negative", "got " + std::to_string(opt_.delay_rows));
    if (opt_.delay_time && *opt_.delay_time < 0)
        fail(ErrorKind::InvalidParameter, "delay must not be negative");
    if (opt_.bucket < 0) fail(ErrorKind::InvalidParameter, "bucket must be positive");
    if ((opt_.delay_time || opt_.bucket > 0) && !timed_)
        fail(ErrorKind::InvalidParameter, "a delay or bucket in time needs a time column",
             "the query returns two columns (features, label)",
             "Return the row's time (timestamptz, timestamp or date) as a third column, in time order.");
    if (opt_.delay_time && opt_.delay_rows > 0)
        fail(ErrorKind::InvalidParameter, "a label delay is in rows or in time, not both");
    if (!model_->can_learn())
        fail(ErrorKind::InvalidParameter,
             std::string("progressive validation learns every row, and the ") + model_->kind() + " model cannot learn (it is predict-only)",
             {}, "Score a predict-only model with the metric aggregates over ml_predict_one.");
}

void ProgressiveValidation::reveal(uint64_t row_index, std::optional<int64_t> time) {
    while (!pending_.empty()) {
        const Pending& p = pending_.front();
        const bool due = opt_.delay_time ? (time && p.due_time <= *time) : p.due_row <= row_index;
        if (!due) break;
        if (p.is_dense) model_->learn_dense(p.dense.data(), p.dense.size(), p.y.view());
        else model_->learn(p.x, p.y.view());
        pending_.pop_front();
    }
}

void ProgressiveValidation::close_step() {
    if (step_.count() == 0) return;
    steps_++;
    for (size_t i = 0; i < step_.names().size(); i++)
        series_.push_back(SeriesValue{steps_, opt_.bucket > 0 ? step_bucket_ : step_time_,
                                      static_cast<int64_t>(step_.count()), step_.names()[i], step_.value(i),
                                      total_.value(i)});
    step_.clear();
}

namespace {
int64_t bucket_start(int64_t t, int64_t width) {
    int64_t q = t / width;
    if (t % width != 0 && t < 0) q--;
    return q * width;
}
}  // namespace

void ProgressiveValidation::row(const Observation* x, const double* dense, size_t n, const Label& y,
                                std::optional<int64_t> time) {
    if (timed_) {
        if (!time) fail(ErrorKind::NullValue, "the time column of a row is NULL", {}, "Every row needs its time.");
        if (last_time_ && *time < *last_time_)
            fail(ErrorKind::InvalidParameter, "the rows must come in time order",
                 "a row's time is before the previous row's", "ORDER BY the time column in the query.");
        last_time_ = time;
        if (opt_.bucket > 0) {
            const int64_t b = bucket_start(*time, opt_.bucket);
            if (step_bucket_ && *step_bucket_ != b) close_step();
            step_bucket_ = b;
        }
    }
    const uint64_t index = rows_++;
    reveal(index, time);
    // Scored first (the model has not seen this label), then queued or learned; one prediction
    // feeds the step's metrics and the running ones.
    const EvalMetrics::Prediction p = EvalMetrics::predict(*model_, x, dense, n);
    step_.add_prediction(model_->kind(), p, y);
    total_.add_prediction(model_->kind(), p, y);
    if (timed_) step_time_ = time;
    if (!opt_.delay_time && opt_.delay_rows <= 1) {
        // No delay: learned at once (the same as revealed before the next row).
        if (x) model_->learn(*x, y);
        else model_->learn_dense(dense, n, y);
    } else {
        Pending p;
        p.is_dense = x == nullptr;
        if (p.is_dense) p.dense.assign(dense, dense + n);
        else p.x = *x;
        p.y = StoredLabel::of(y);
        p.due_row = index + static_cast<uint64_t>(opt_.delay_rows);
        p.due_time = opt_.delay_time && time ? *time + *opt_.delay_time : 0;
        pending_.push_back(std::move(p));
    }
    if (opt_.bucket == 0 && static_cast<int64_t>(step_.count()) >= opt_.every) close_step();
}

void ProgressiveValidation::finish() {
    close_step();
    reveal(std::numeric_limits<uint64_t>::max(), std::numeric_limits<int64_t>::max());
    for (size_t i = 0; i < total_.names().size(); i++)
        series_.push_back(SeriesValue{std::nullopt, std::nullopt, static_cast<int64_t>(total_.count()),
                                      total_.names()[i], total_.value(i), total_.value(i)});
}

// ---- k-fold cross-validation ----------------------------------------------------------------

void EvalRows::learn(Model& m, size_t i) const {
    if (dense) m.learn_dense(values.data() + i * dim, dim, labels[i].view());
    else m.learn(named[i], labels[i].view());
}

std::vector<FoldResult> cross_validate(const Model& start, const EvalRows& rows, int64_t folds,
                                       const std::vector<std::string>& metrics, int epochs, bool shuffle,
                                       uint64_t seed, const std::function<void()>& every_so_often) {
    check_folds(folds);
    if (!start.can_learn())
        fail(ErrorKind::InvalidParameter,
             std::string("cross-validation trains a model per fold, and the ") + start.kind() + " model cannot learn (it is predict-only)",
             {}, "Score a predict-only model with the metric aggregates over ml_predict_one.");
    std::vector<FoldResult> out;
    for (int64_t f = 1; f <= folds; f++)
        out.push_back(evaluate_fold(start, rows, static_cast<uint32_t>(f), metrics, epochs, shuffle, seed, every_so_often));
    return out;
}

FoldResult evaluate_fold(const Model& start, const EvalRows& rows, uint32_t fold,
                         const std::vector<std::string>& metrics, int epochs, bool shuffle, uint64_t seed,
                         const std::function<void()>& every_so_often) {
    std::vector<size_t> train;
    train.reserve(rows.size());
    for (size_t i = 0; i < rows.size(); i++)
        if (rows.folds[i] != fold) train.push_back(i);
    std::unique_ptr<Model> m = start.clone();
    run_epochs(train.size(), epochs, shuffle, seed, [&](size_t j) { rows.learn(*m, train[j]); }, every_so_often,
               [&](uint32_t e) { m->set_epoch(e); });
    EvalMetrics acc(m->task(), metrics);
    uint64_t tested = 0;
    for (size_t i = 0; i < rows.size(); i++) {
        if (rows.folds[i] != fold) continue;
        if (rows.dense) acc.add(*m, nullptr, rows.values.data() + i * rows.dim, rows.dim, rows.labels[i].view());
        else acc.add(*m, &rows.named[i], nullptr, 0, rows.labels[i].view());
        if ((++tested & 1023) == 0) every_so_often();
    }
    FoldResult r{fold, train.size(), tested, {}};
    for (size_t i = 0; i < metrics.size(); i++) r.values.push_back(acc.value(i));
    return r;
}

double percentile_linear(const std::vector<double>& v, double q) {
    const double pos = q * static_cast<double>(v.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, v.size() - 1);
    const double frac = pos - static_cast<double>(lo);
    // numpy's _lerp: a + (b - a) * t, and b - (b - a) * (1 - t) when t >= 0.5
    const double a = v[lo], b = v[hi], d = b - a;
    return frac >= 0.5 ? b - d * (1 - frac) : a + d * frac;
}

std::vector<CompareRow> compare_models(const std::vector<const Model*>& models, const EvalRows& rows,
                                       const std::vector<std::string>& metrics, int64_t resamples,
                                       double confidence, uint64_t seed,
                                       const std::function<void()>& every_so_often) {
    if (models.empty()) fail(ErrorKind::InvalidParameter, "no model to compare");
    if (resamples < 1 || resamples > 1000000)
        fail(ErrorKind::InvalidParameter, "resamples must be between 1 and 1000000", "got " + std::to_string(resamples));
    if (!(confidence > 0 && confidence < 1))
        fail(ErrorKind::InvalidParameter, "confidence must be between 0 and 1 (exclusive)");
    const Task task = models[0]->task();
    for (size_t k = 1; k < models.size(); k++)
        if (models[k]->task() != task)
            fail(ErrorKind::InvalidParameter, "the models to compare must have one task",
                 std::string("model 1 is ") + a_task(task) + " model, model " + std::to_string(k + 1) + " " +
                     a_task(models[k]->task()) + " model");
    const size_t n = rows.size(), K = models.size(), M = metrics.size();
    // Every model's prediction of every row, once.
    std::vector<std::vector<EvalMetrics::Prediction>> pred(K);
    for (size_t k = 0; k < K; k++) {
        pred[k].reserve(n);
        for (size_t i = 0; i < n; i++) {
            pred[k].push_back(rows.dense ? EvalMetrics::predict(*models[k], nullptr, rows.values.data() + i * rows.dim, rows.dim)
                                         : EvalMetrics::predict(*models[k], &rows.named[i], nullptr, 0));
            if ((i & 1023) == 1023) every_so_often();
        }
    }
    auto evaluate = [&](size_t k, const std::vector<uint32_t>* idx, std::vector<std::optional<double>>& out) {
        EvalMetrics acc(task, metrics);
        if (idx)
            for (uint32_t i : *idx) acc.add_prediction(models[k]->kind(), pred[k][i], rows.labels[i].view());
        else
            for (size_t i = 0; i < n; i++) acc.add_prediction(models[k]->kind(), pred[k][i], rows.labels[i].view());
        out.resize(M);
        for (size_t m = 0; m < M; m++) out[m] = acc.value(m);
    };
    std::vector<std::vector<std::optional<double>>> full(K);
    for (size_t k = 0; k < K; k++) evaluate(k, nullptr, full[k]);
    // boot[k][m]: the resampled values; diff[k][m]: paired differences to model 1.
    std::vector<std::vector<std::vector<double>>> boot(K, std::vector<std::vector<double>>(M)),
        diff(K, std::vector<std::vector<double>>(M));
    SplitMix64 rng(seed);
    std::vector<uint32_t> idx(n);
    std::vector<std::vector<std::optional<double>>> vals(K);
    if (n > 0)
        for (int64_t b = 0; b < resamples; b++) {
            for (size_t j = 0; j < n; j++)
                idx[j] = static_cast<uint32_t>((static_cast<unsigned __int128>(rng.next()) * n) >> 64);
            for (size_t k = 0; k < K; k++) evaluate(k, &idx, vals[k]);
            for (size_t k = 0; k < K; k++)
                for (size_t m = 0; m < M; m++) {
                    if (vals[k][m]) boot[k][m].push_back(*vals[k][m]);
                    if (k > 0 && vals[k][m] && vals[0][m]) diff[k][m].push_back(*vals[k][m] - *vals[0][m]);
                }
            every_so_often();
        }
    const double lo_q = (1 - confidence) / 2, hi_q = (1 + confidence) / 2;
    std::vector<CompareRow> out;
    for (size_t k = 0; k < K; k++)
        for (size_t m = 0; m < M; m++) {
            CompareRow r;
            r.model = static_cast<uint32_t>(k + 1);
            r.metric = metrics[m];
            r.value = full[k][m];
            std::vector<double>& bv = boot[k][m];
            if (!bv.empty()) {
                std::sort(bv.begin(), bv.end());
                r.lower = percentile_linear(bv, lo_q);
                r.upper = percentile_linear(bv, hi_q);
            }
            if (k > 0) {
                if (full[k][m] && full[0][m]) r.difference = *full[k][m] - *full[0][m];
                std::vector<double>& dv = diff[k][m];
                if (!dv.empty()) {
                    size_t le = 0, ge = 0;
                    for (double d : dv) {
                        if (d <= 0) le++;
                        if (d >= 0) ge++;
                    }
                    std::sort(dv.begin(), dv.end());
                    r.diff_lower = percentile_linear(dv, lo_q);
                    r.diff_upper = percentile_linear(dv, hi_q);
                    r.p_value = std::min(1.0, 2.0 * static_cast<double>(std::min(le, ge)) / static_cast<double>(dv.size()));
                }
            }
            out.push_back(std::move(r));
        }
    return out;
}

std::optional<double> mean_of(const std::vector<std::optional<double>>& v) {
    double s = 0;
    size_t n = 0;
    for (const auto& x : v)
        if (x) {
            s += *x;
            n++;
        }
    if (n == 0) return std::nullopt;
    return s / static_cast<double>(n);
}

std::optional<double> sd_of(const std::vector<std::optional<double>>& v) {
    const std::optional<double> m = mean_of(v);
    size_t n = 0;
    double ss = 0;
    for (const auto& x : v)
        if (x) {
            ss += (*x - *m) * (*x - *m);
            n++;
        }
    if (n < 2) return std::nullopt;
    return std::sqrt(ss / static_cast<double>(n - 1));
}

}  // namespace pg_learn::core
