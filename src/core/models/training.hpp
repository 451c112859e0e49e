// Multi-pass training over rows held in memory: the epoch order and its shuffling policy.
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/models/model.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pg_learn::core {

// SplitMix64 (Steele, Lea and Flood 2014): small, fast, and the same on every platform.
class SplitMix64 {
public:
    explicit SplitMix64(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }

private:
    uint64_t state_;
};

// Runs `epochs` passes over rows 0..n-1, calling learn_row(i) for each: the first pass in the
// given order, later passes in a fresh Fisher-Yates permutation when shuffle is true.
// every_so_often() runs every 1024 rows (the glue checks for query cancel there). set_epoch, when
// given, is told each pass's number before it (1, 2, ...) and 0 after the last: the trainer's side
// of Model::set_epoch (pass [&](uint32_t e) { m.set_epoch(e); }).
void run_epochs(size_t n, int epochs, bool shuffle, uint64_t seed,
                const std::function<void(size_t)>& learn_row,
                const std::function<void()>& every_so_often,
                const std::function<void(uint32_t)>& set_epoch = {});

// The permutation run_epochs uses for epoch e (e >= 1) given the previous order; exposed for tests.
void shuffle_order(std::vector<size_t>& order, SplitMix64& rng);

inline constexpr int kMaxEpochs = 100000;

// ---- Issue 16, item 5: losses per epoch and early stopping (docs/training.md) -----------------

// The loss a task's training is measured by: squared error for a regression, log loss for a
// classifier; clustering and anomaly models have none (their history records rows and time).
enum class LossKind : uint8_t { None = 0, SquaredError = 1, LogLoss = 2 };
LossKind loss_of_task(Task task);
// "squared_error", "log_loss"; "" for None.
const char* loss_name(LossKind loss);

// The loss of the model's prediction for x against the label y, as the model is now (ml_train
// calls it before learning the row: the progressive loss). Squared error (y - prediction)^2; log
// loss -log p(y) with p clipped to [2^-52, 1 - 2^-52] as scikit-learn's log_loss (a class the
// model never learned has p = 0). NaN when the task has no loss or the model cannot predict yet
// (a classifier that learned no class). A label the task refuses throws, as learning it would.
double example_loss(const Model& m, const Observation& x, const Label& y);
double example_loss_dense(const Model& m, const double* x, size_t n, const Label& y);

// A mean of per-row losses; rows without a loss (NaN) are not counted.
struct LossMean {
    double sum = 0;
    uint64_t count = 0;
    void add(double loss) {
        if (loss == loss) {
            sum += loss;
            count++;
        }
    }
    double mean() const;  // NaN when no row had a loss
};

// Early stopping: an epoch improves on the best loss so far when its loss is below best by more
// than this fraction of best (scikit-learn's tol, made relative so that it means the same for a
// squared error in any unit). The first epoch with a loss always improves.
inline constexpr double kMinRelativeImprovement = 1e-4;
bool improves(double loss, double best);

// One epoch of ml_train: its mean progressive training loss and its validation loss (the mean
// loss over the validation rows after the epoch). NaN: no such loss. (No wall-clock time: equal
// trainings give equal values, bit for bit; the progress view and NOTICEs report time.)
struct EpochRecord {
    double train_loss;
    double validation_loss;
};

// Epochs a history keeps: the last ones, when a training ran more.
inline constexpr size_t kMaxHistoryEpochs = 1000;

// What ml_train records in the model it returns (ml_info's "training", ml_training_info).
struct TrainingHistory {
    LossKind loss = LossKind::None;
    uint32_t epochs = 0;      // asked for
    uint32_t epochs_run = 0;  // run (fewer when stopped early, or a model learning its features from labels)
    uint32_t patience = 0;    // 0: no early stopping
    double min_delta = kMinRelativeImprovement;
    bool stopped_early = false;
    uint32_t best_epoch = 0;  // with patience: the epoch whose model was returned (0: none had a loss)
    uint64_t rows = 0;        // rows learned per epoch
    uint64_t validation_rows = 0;
    std::vector<EpochRecord> records;  // the last min(epochs_run, kMaxHistoryEpochs) epochs, in order

    uint32_t first_epoch() const { return epochs_run - static_cast<uint32_t>(records.size()) + 1; }
    // "" when valid, else what is wrong (both decoders and the encoders run it).
    std::string invalid() const;
    nlohmann::json to_json() const;
    static TrainingHistory from_json(const nlohmann::json& j);  // InvalidParameter on anything wrong
    bool operator==(const TrainingHistory& o) const;
};

// What ml_train asks of the epoch loop.
struct TrainingPlan {
    size_t rows = 0;
    int epochs = 1;
    bool shuffle = true;
    uint64_t seed = 0;
    int patience = 0;         // 0: every epoch runs
    bool validation = false;  // hooks.validate gives each epoch's validation loss
    uint64_t validation_rows = 0;
    LossKind loss = LossKind::None;
    int epochs_asked = 0;     // recorded as asked (0: epochs); epochs may be fewer (see features_learn_labels)
};

enum class TrainingPhase : uint8_t { Training = 1, Validating = 2 };

struct TrainingHooks {
    // Learns row i and returns its progressive loss (example_loss before learning; NaN: none).
    std::function<double(size_t)> learn_row;
    // The mean validation loss of the model as it is now (called after each epoch, with validation).
    std::function<double()> validate;
    // The model as it is now is the best so far (with patience): the caller keeps a copy.
    std::function<void()> keep_best;
    // Every 1024 rows learned and at the start of each epoch: rows learned so far in this epoch.
    std::function<void(int epoch, uint64_t rows_in_epoch)> every_so_often;
    // Before each epoch its number (1, 2, ...), and 0 after the last (however the epochs end):
    // the trainer's side of Model::set_epoch.
    std::function<void(uint32_t epoch)> set_epoch;
};

// Runs the epochs as run_epochs does (the same row order), records each epoch's losses and time,
// and stops early after `patience` epochs without improvement of the validation loss (of the
// training loss without validation). The caller returns the model keep_best saw last when
// history.best_epoch > 0 and patience was given.
TrainingHistory train_epochs(const TrainingPlan& plan, const TrainingHooks& hooks);

}  // namespace pg_learn::core
