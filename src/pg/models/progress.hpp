// Issue 16 item 5: a long ml_train's progress, in shared memory (the view ml_training_progress)
// and as NOTICEs every pg_learn.progress_notice_interval seconds.
#pragma once

#include "pg/common/glue.hpp"

#include <cstdint>

namespace pg_learn::pg {

// Defines pg_learn.progress_notice_interval and, when the library is preloaded, requests the
// shared memory (from _PG_init).
void define_training_progress_settings();

enum class ProgressPhase : uint8_t { Reading = 1, Training = 2, Validating = 3 };

// The progress of one ml_train in this backend: a slot claimed when made and released when
// destroyed (also on error, as the C++ stack unwinds, and at backend exit). Without a free slot
// (or shared memory to hold them) the training runs the same; only its progress is not shown.
class TrainingProgress {
public:
    TrainingProgress();
    ~TrainingProgress();
    TrainingProgress(const TrainingProgress&) = delete;
    TrainingProgress& operator=(const TrainingProgress&) = delete;

    // Reading the query's rows (phase reading): rows read so far.
    void reading(uint64_t rows_read, bool validation);
    // Training starts: epochs of rows_per_epoch learned and validation_rows scored each.
    void start_training(int epochs, uint64_t rows_per_epoch, uint64_t validation_rows);
    // In epoch (1-based), phase training or validating, rows done of this phase in this epoch.
    void update(ProgressPhase phase, int epoch, uint64_t rows_in_phase);

private:
    void publish(ProgressPhase phase, int epoch, uint64_t rows_done, uint64_t rows_total);
    void maybe_notice(ProgressPhase phase, int epoch, uint64_t rows_done, uint64_t rows_total);
    int slot_ = -1;
    int epochs_ = 0;
    uint64_t per_epoch_ = 0, validation_rows_ = 0;
    int64_t started_ = 0, training_started_ = 0, last_notice_ = 0;
};

}  // namespace pg_learn::pg
