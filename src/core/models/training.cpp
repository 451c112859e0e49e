// Epoch loop and shuffling for ml_train.
#include "core/models/training.hpp"

#include "core/common/error.hpp"

#include <numeric>
#include <utility>

namespace pg_learn::core {

void shuffle_order(std::vector<size_t>& order, SplitMix64& rng) {
    for (size_t i = order.size(); i > 1; i--) {
        size_t j = static_cast<size_t>(rng.next() % i);
        std::swap(order[i - 1], order[j]);
    }
}

namespace {

// Tells set_epoch 0 when the epochs end, by an error too (the model may live on: a search's).
struct EpochReset {
    const std::function<void(uint32_t)>& set_epoch;
    explicit EpochReset(const std::function<void(uint32_t)>& f) : set_epoch(f) {}
    ~EpochReset() {
        if (set_epoch) set_epoch(0);
    }
    EpochReset(const EpochReset&) = delete;
    EpochReset& operator=(const EpochReset&) = delete;
};

}  // namespace

void run_epochs(size_t n, int epochs, bool shuffle, uint64_t seed,
                const std::function<void(size_t)>& learn_row,
                const std::function<void()>& every_so_often, const std::function<void(uint32_t)>& set_epoch) {
    if (epochs < 1 || epochs > kMaxEpochs)
        fail(ErrorKind::InvalidParameter, "epochs must be between 1 and " + std::to_string(kMaxEpochs),
             "got " + std::to_string(epochs));
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    SplitMix64 rng(seed);
    size_t done = 0;
    EpochReset reset(set_epoch);
    for (int e = 0; e < epochs; e++) {
        if (e > 0 && shuffle) shuffle_order(order, rng);
        if (set_epoch) set_epoch(static_cast<uint32_t>(e + 1));
        for (size_t i : order) {
            learn_row(i);
            if ((++done & 1023) == 0) every_so_often();
        }
    }
}

}  // namespace pg_learn::core

// ---- Issue 16, item 5: losses per epoch and early stopping ------------------------------------

#include "core/metrics/metrics.hpp"

#include <cmath>
#include <limits>

namespace pg_learn::core {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A binary classifier's label as "positive?" (checked by check_label before).
bool positive_label(const Label& y) {
    if (y.type == Label::Type::Text) {
        if (y.text == "true") return true;
        if (y.text == "false") return false;
        double v = 0;
        parse_number_label(y.text, v);
        return v == 1.0;
    }
    return y.number == 1.0;
}

double regression_target(const Label& y) {
    if (y.type == Label::Type::Text) {
        double v = 0;
        parse_number_label(y.text, v);
        return v;
    }
    return y.number;
}

// The loss given a way to predict (the observation's form is the caller's).
template <typename Predict, typename Proba>
double loss_of(const Model& m, const Label& y, Predict predict, Proba proba) {
    const Task task = m.task();
    if (loss_of_task(task) == LossKind::None) return kNaN;
    check_label(m.kind(), task, y);
    try {
        switch (task) {
            case Task::Regression: {
                const double d = regression_target(y) - predict();
                return d * d;
            }
            case Task::Binary: return logloss_term(predict(), positive_label(y));
            case Task::Multiclass: {
                const std::vector<std::string>& classes = m.classes();
                if (classes.empty()) return kNaN;
                const std::string c = class_of_label(y);
                std::vector<double> p;
                proba(p);
                for (size_t k = 0; k < classes.size() && k < p.size(); k++)
                    if (classes[k] == c) return logloss_term(p[k], true);
                return logloss_term(0.0, true);  // a class the model never learned
            }
            default: return kNaN;
        }
    } catch (const Error&) {
        return kNaN;  // the model cannot predict yet
    }
}

}  // namespace

LossKind loss_of_task(Task task) {
    switch (task) {
        case Task::Regression: return LossKind::SquaredError;
        case Task::Binary:
        case Task::Multiclass: return LossKind::LogLoss;
        case Task::Clustering:
        case Task::Anomaly: break;
    }
    return LossKind::None;
}

const char* loss_name(LossKind loss) {
    switch (loss) {
        case LossKind::SquaredError: return "squared_error";
        case LossKind::LogLoss: return "log_loss";
        case LossKind::None: break;
    }
    return "";
}

double example_loss(const Model& m, const Observation& x, const Label& y) {
    return loss_of(m, y, [&] { return m.predict(x); }, [&](std::vector<double>& p) { m.predict_proba(x, p); });
}

double example_loss_dense(const Model& m, const double* x, size_t n, const Label& y) {
    return loss_of(m, y, [&] { return m.predict_dense(x, n); },
                   [&](std::vector<double>& p) { m.predict_proba_dense(x, n, p); });
}

double LossMean::mean() const { return count > 0 ? sum / static_cast<double>(count) : kNaN; }

bool improves(double loss, double best) {
    if (!(loss == loss)) return false;
    if (!(best == best)) return true;  // no loss yet
    return loss < best - kMinRelativeImprovement * std::fabs(best);
}

TrainingHistory train_epochs(const TrainingPlan& plan, const TrainingHooks& hooks) {
    if (plan.epochs < 1 || plan.epochs > kMaxEpochs)
        fail(ErrorKind::InvalidParameter, "epochs must be between 1 and " + std::to_string(kMaxEpochs),
             "got " + std::to_string(plan.epochs));
    if (plan.patience < 0 || plan.patience > kMaxEpochs)
        fail(ErrorKind::InvalidParameter, "patience must be between 1 and " + std::to_string(kMaxEpochs),
             "got " + std::to_string(plan.patience));
    if (plan.patience > 0 && plan.loss == LossKind::None)
        fail(ErrorKind::InvalidParameter, "early stopping needs a loss, and this model's task has none");
    TrainingHistory h;
    h.loss = plan.loss;
    h.epochs = static_cast<uint32_t>(plan.epochs_asked > 0 ? plan.epochs_asked : plan.epochs);
    h.patience = static_cast<uint32_t>(plan.patience);
    h.rows = plan.rows;
    h.validation_rows = plan.validation ? plan.validation_rows : 0;
    std::vector<size_t> order(plan.rows);
    for (size_t i = 0; i < plan.rows; i++) order[i] = i;
    SplitMix64 rng(plan.seed);
    double best = kNaN;
    int since_best = 0;
    uint64_t done = 0;
    EpochReset reset(hooks.set_epoch);
    for (int e = 0; e < plan.epochs; e++) {
        if (e > 0 && plan.shuffle) shuffle_order(order, rng);
        if (hooks.set_epoch) hooks.set_epoch(static_cast<uint32_t>(e + 1));
        if (hooks.every_so_often) hooks.every_so_often(e + 1, 0);
        LossMean train;
        uint64_t in_epoch = 0;
        for (size_t i : order) {
            train.add(hooks.learn_row(i));
            in_epoch++;
            if ((++done & 1023) == 0 && hooks.every_so_often) hooks.every_so_often(e + 1, in_epoch);
        }
        EpochRecord r{train.mean(), kNaN};
        if (plan.validation) r.validation_loss = hooks.validate();
        if (r.validation_loss != r.validation_loss) r.validation_loss = kNaN;  // one NaN, bit for bit
        if (h.records.size() == kMaxHistoryEpochs) h.records.erase(h.records.begin());
        h.records.push_back(r);
        h.epochs_run = static_cast<uint32_t>(e + 1);
        if (plan.patience > 0) {
            const double monitored = plan.validation ? r.validation_loss : r.train_loss;
            if (improves(monitored, best)) {
                best = monitored;
                h.best_epoch = h.epochs_run;
                since_best = 0;
                hooks.keep_best();
            } else if (++since_best >= plan.patience && e + 1 < plan.epochs) {
                h.stopped_early = true;
                break;
            }
        }
    }
    return h;
}

}  // namespace pg_learn::core
