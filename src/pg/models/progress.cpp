// Issue 16 item 5: ml_train's progress in a small array of slots in shared memory (read by the
// view ml_training_progress from any session) and as NOTICEs at a set interval.
#include "pg/models/progress.hpp"

extern "C" {
#include "catalog/pg_authid.h"
#include "commands/dbcommands.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
}

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

namespace pg_learn::pg {

namespace {

// Concurrent trainings shown at once; more train as well, unseen.
constexpr int kSlots = 64;
constexpr const char* kShmemName = "pg_learn training progress";

struct Slot {
    int32 pid;  // 0: free
    Oid dbid;
    Oid userid;
    uint8 phase;
    int32 epoch;
    int32 epochs;
    uint64 rows_done;
    uint64 rows_total;  // 0: not known yet (reading)
    double rows_per_second;
    TimestampTz started;
};

struct Shared {
    slock_t mutex;  // held for a copy of a slot, never across a call that can fail
    Slot slots[kSlots];
};

Shared* g_shared = nullptr;
bool g_unavailable = false;  // no room in shared memory: progress is not shown, training goes on
bool g_exit_callback = false;
int g_notice_interval = 0;   // seconds; 0: no NOTICEs
shmem_request_hook_type g_prev_request = nullptr;
shmem_startup_hook_type g_prev_startup = nullptr;

// Under AddinShmemInitLock: finds or makes the slots.
void init_shared() {
    bool found = false;
    g_shared = static_cast<Shared*>(ShmemInitStruct(kShmemName, sizeof(Shared), &found));
    if (!found) {
        std::memset(static_cast<void*>(g_shared), 0, sizeof(Shared));
        SpinLockInit(&g_shared->mutex);
    }
}

void request_shmem() {
    if (g_prev_request) g_prev_request();
    RequestAddinShmemSpace(MAXALIGN(sizeof(Shared)));
}

void startup_shmem() {
    if (g_prev_startup) g_prev_startup();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    init_shared();
    LWLockRelease(AddinShmemInitLock);
}

// The slots, attached on first use when the library was not preloaded (a few KB from the shared
// segment's spare space); nullptr when there is no room.
Shared* shared() {
    if (g_shared || g_unavailable) return g_shared;
    try {
        pg_guard([]() {
            LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
            PG_TRY();
            { init_shared(); }
            PG_FINALLY();
            { LWLockRelease(AddinShmemInitLock); }
            PG_END_TRY();
        });
    } catch (const PgError&) {
        g_shared = nullptr;
        g_unavailable = true;
    }
    return g_shared;
}

void release_own_slots(int, Datum) {
    if (!g_shared) return;
    SpinLockAcquire(&g_shared->mutex);
    for (Slot& s : g_shared->slots)
        if (s.pid == MyProcPid) s.pid = 0;
    SpinLockRelease(&g_shared->mutex);
}

const char* phase_name(uint8 phase) {
    switch (static_cast<ProgressPhase>(phase)) {
        case ProgressPhase::Reading: return "reading";
        case ProgressPhase::Training: return "training";
        case ProgressPhase::Validating: return "validating";
    }
    return "unknown";
}

// "1 h 2 min", "3 min 4 s", "5 s"
std::string duration_text(double seconds) {
    const long s = static_cast<long>(std::llround(seconds));
    char buf[64];
    if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld h %ld min", s / 3600, (s % 3600) / 60);
    else if (s >= 60) std::snprintf(buf, sizeof buf, "%ld min %ld s", s / 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%ld s", s);
    return buf;
}

}  // namespace

void define_training_progress_settings() {
    DefineCustomIntVariable(
        "pg_learn.progress_notice_interval",
        "Seconds between the progress NOTICEs of a long ml_train (0: none).",
        "Each NOTICE gives the epoch, the rows done, rows per second and the estimated time left; "
        "the view ml_training_progress shows the same from any session whatever this setting.",
        &g_notice_interval, 0, 0, 86400, PGC_USERSET, GUC_UNIT_S, nullptr, nullptr, nullptr);
    if (process_shared_preload_libraries_in_progress) {
        g_prev_request = shmem_request_hook;
        shmem_request_hook = request_shmem;
        g_prev_startup = shmem_startup_hook;
        shmem_startup_hook = startup_shmem;
    }
}

TrainingProgress::TrainingProgress() {
    started_ = training_started_ = last_notice_ = GetCurrentTimestamp();
    Shared* sh = shared();
    if (!sh) return;
    if (!g_exit_callback) {
        try {
            pg_guard([]() { before_shmem_exit(release_own_slots, 0); });
            g_exit_callback = true;
        } catch (const PgError&) {
            return;  // (no callback: no slot, so that none outlives this backend)
        }
    }
    SpinLockAcquire(&sh->mutex);
    for (int i = 0; i < kSlots; i++) {
        Slot& s = sh->slots[i];
        if (s.pid != 0) continue;
        s = Slot{};
        s.pid = MyProcPid;
        s.dbid = MyDatabaseId;
        s.userid = GetUserId();
        s.phase = static_cast<uint8>(ProgressPhase::Reading);
        s.started = started_;
        slot_ = i;
        break;
    }
    SpinLockRelease(&sh->mutex);
}

TrainingProgress::~TrainingProgress() {
    if (slot_ < 0 || !g_shared) return;
    SpinLockAcquire(&g_shared->mutex);
    if (g_shared->slots[slot_].pid == MyProcPid) g_shared->slots[slot_].pid = 0;
    SpinLockRelease(&g_shared->mutex);
}

void TrainingProgress::publish(ProgressPhase phase, int epoch, uint64_t rows_done, uint64_t rows_total) {
    const TimestampTz now = GetCurrentTimestamp();
    const TimestampTz since = phase == ProgressPhase::Reading ? started_ : training_started_;
    const double secs = static_cast<double>(now - since) / USECS_PER_SEC;
    const double rate = secs > 0 ? static_cast<double>(rows_done) / secs : 0.0;
    if (slot_ >= 0 && g_shared) {
        SpinLockAcquire(&g_shared->mutex);
        Slot& s = g_shared->slots[slot_];
        if (s.pid == MyProcPid) {
            s.phase = static_cast<uint8>(phase);
            s.epoch = epoch;
            s.epochs = epochs_;
            s.rows_done = rows_done;
            s.rows_total = rows_total;
            s.rows_per_second = rate;
        }
        SpinLockRelease(&g_shared->mutex);
    }
    if (g_notice_interval <= 0 || now - last_notice_ < static_cast<int64>(g_notice_interval) * USECS_PER_SEC) return;
    last_notice_ = now;
    char buf[256];
    if (phase == ProgressPhase::Reading) {
        std::snprintf(buf, sizeof buf, "ml_train: reading the rows, %llu read, %.0f rows/s",
                      static_cast<unsigned long long>(rows_done), rate);
    } else {
        const double left = rate > 0 ? static_cast<double>(rows_total - std::min(rows_total, rows_done)) / rate : 0;
        std::snprintf(buf, sizeof buf, "ml_train: epoch %d of %d (%s), %llu of %llu rows, %.0f rows/s, about %s left",
                      epoch, epochs_, phase_name(static_cast<uint8>(phase)), static_cast<unsigned long long>(rows_done),
                      static_cast<unsigned long long>(rows_total), rate, duration_text(left).c_str());
    }
    pg_guard([&]() { ereport(NOTICE, (errmsg("%s", buf))); });
}

void TrainingProgress::reading(uint64_t rows_read, bool validation) {
    (void)validation;
    publish(ProgressPhase::Reading, 0, rows_read, 0);
}

void TrainingProgress::start_training(int epochs, uint64_t rows_per_epoch, uint64_t validation_rows) {
    epochs_ = epochs;
    per_epoch_ = rows_per_epoch;
    validation_rows_ = validation_rows;
    training_started_ = GetCurrentTimestamp();
    publish(ProgressPhase::Training, 1, 0, static_cast<uint64_t>(epochs) * (rows_per_epoch + validation_rows));
}

void TrainingProgress::update(ProgressPhase phase, int epoch, uint64_t rows_in_phase) {
    const uint64_t per = per_epoch_ + validation_rows_;
    uint64_t done = static_cast<uint64_t>(epoch - 1) * per + rows_in_phase;
    if (phase == ProgressPhase::Validating) done += per_epoch_;
    publish(phase, epoch, done, static_cast<uint64_t>(epochs_) * per);
}

}  // namespace pg_learn::pg

using namespace pg_learn::pg;

// The rows of the view ml_training_progress: every ml_train running in the cluster. As in
// pg_stat_activity, a role sees the progress of its own trainings (and of the roles it is a
// member of); members of pg_read_all_stats see all; others see who trains, not how far.
PGL_FUNCTION(ml_training_progress_slots) {
    Materialized out = materialize(fcinfo);
    Shared* sh = shared();
    if (!sh) return Datum(0);
    Slot copy[kSlots];
    SpinLockAcquire(&sh->mutex);
    std::memcpy(static_cast<void*>(copy), sh->slots, sizeof copy);
    SpinLockRelease(&sh->mutex);
    pg_guard([&]() {
        const bool all = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);
        for (const Slot& s : copy) {
            if (s.pid == 0) continue;
            Datum v[11];
            bool n[11] = {};
            v[0] = Int32GetDatum(s.pid);
            char* db = get_database_name(s.dbid);
            if (db) v[1] = DirectFunctionCall1(namein, CStringGetDatum(db));
            else n[1] = true;
            const char* user = GetUserNameFromId(s.userid, true);
            if (user) v[2] = DirectFunctionCall1(namein, CStringGetDatum(user));
            else n[2] = true;
            v[3] = TimestampTzGetDatum(s.started);
            if (all || has_privs_of_role(GetUserId(), s.userid)) {
                v[4] = CStringGetTextDatum(phase_name(s.phase));
                n[5] = s.epoch == 0;
                v[5] = Int32GetDatum(s.epoch);
                n[6] = s.epochs == 0;
                v[6] = Int32GetDatum(s.epochs);
                v[7] = Int64GetDatum(static_cast<int64>(s.rows_done));
                n[8] = s.rows_total == 0;
                v[8] = Int64GetDatum(static_cast<int64>(s.rows_total));
                v[9] = Float8GetDatum(s.rows_per_second);
                // The time left at the rate so far (training and validating; unknown while reading).
                n[10] = s.rows_total == 0 || s.rows_per_second <= 0;
                if (!n[10]) {
                    const double left = static_cast<double>(s.rows_total - std::min(s.rows_total, s.rows_done)) /
                                        s.rows_per_second;
                    Interval* iv = static_cast<Interval*>(palloc0(sizeof(Interval)));
                    iv->time = static_cast<int64>(std::llround(left * USECS_PER_SEC));
                    v[10] = IntervalPGetDatum(iv);
                }
            } else {
                for (int i = 4; i < 11; i++) n[i] = true;
            }
            tuplestore_putvalues(out.store, out.desc, v, n);
        }
    });
    return Datum(0);
}
