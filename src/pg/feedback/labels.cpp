// Label arrival: a label joined to its logged prediction (and its shadows') and queued, once.
#include "pg/feedback/feedback.hpp"

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;

namespace pg_learn::pg::feedback {

void LabelBatch::add(int64 id, std::string_view kind, core::Task task, const core::Label& y) {
    if (task == core::Task::Multiclass) {
        core::check_label(kind, task, y);
        class_ids.push_back(id);
        return;
    }
    // Other tasks learn numbers: a boolean is 1 or 0, as it always was.
    core::check_label(kind, task, y.type == core::Label::Type::Boolean ? core::Label::of_number(y.number) : y);
    ids.push_back(id);
}

namespace {

// The label as the log and the queue store it: a number (label), or a class (label_class).
void queue_label(const Attachment& a, const std::vector<int64>& ids, TimestampTz at, const core::Label& y, bool as_class,
                 uint64& queued) {
    if (ids.empty()) return;
    std::string cls;
    double number = y.number;
    if (as_class) cls = core::class_of_label(y);
    else if (y.type == core::Label::Type::Text && !core::parse_number_label(y.text, number))
        fail(ErrorKind::Internal, "a text label that is not a number");  // (not reached: check_label refuses it)
    TimestampTz now = GetCurrentTimestamp();
    // Sync labels are queued too, marked: learn_sync learns them just before the transaction
    // commits. Unmarked ones wait for ml_learn_pending.
    spi_guard([&]() {
        Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * ids.size()));
        for (size_t i = 0; i < ids.size(); i++) elems[i] = Int64GetDatum(ids[i]);
        ArrayType* arr = construct_array(elems, static_cast<int>(ids.size()), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
        Oid types[6] = {INT8ARRAYOID, FLOAT8OID, TIMESTAMPTZOID, BOOLOID, TEXTOID, TIMESTAMPTZOID};
        Datum args[6] = {PointerGetDatum(arr), Float8GetDatum(number), TimestampTzGetDatum(now), BoolGetDatum(a.sync),
                         as_class ? PointerGetDatum(cstring_to_text_with_len(cls.data(), static_cast<int>(cls.size())))
                                  : Datum(0),
                         TimestampTzGetDatum(at)};
        const char nulls[7] = {' ', as_class ? 'n' : ' ', ' ', ' ', as_class ? ' ' : 'n', ' ', '\0'};
        // (predicted_at = $6: the predictions of one scoring share it; a partitioned log is then
        // read in that partition only)
        queued += spi_run(
            schema_plan(g_plans.label_queue,
                 "WITH u AS (UPDATE %s.ml_prediction_log l SET label = $2, label_class = $5, labeled_at = $3"
                 " WHERE l.prediction_id OPERATOR(pg_catalog.=) ANY ($1) AND l.predicted_at OPERATOR(pg_catalog.=) $6"
                 " AND l.label IS NULL AND l.label_class IS NULL"
                 " RETURNING l.prediction_id, l.model_name, l.version, l.predicted_at)"
                 " INSERT INTO %s.ml_label_queue (prediction_id, model_name, version, label, sync, label_class, predicted_at)"
                 " SELECT u.prediction_id, u.model_name, u.version, $2, $4, $5, u.predicted_at FROM u",
                 6, types),
            args, nulls, false, 0, SPI_OK_INSERT, "queueing a label");
    });
}

}  // namespace

// (marked sync for a sync attachment: learned when the transaction commits)
void apply_label(Oid nsp, const Attachment& a, const LabelBatch& batch, const core::Label& y) {
    uint64 n = 0;
    queue_label(a, batch.ids, batch.predicted_at, y, false, n);
    queue_label(a, batch.class_ids, batch.predicted_at, y, true, n);
    if (a.sync && n > 0) sync_queued(nsp);
}

// A label that arrived for a key: joined to the latest served prediction of that key in the
// table and the shadow predictions made with it. Ignored when that prediction has its label
// already (a label is set once) or when the key was never scored.
namespace {

// A partitioned log (ml_partition_log): how far back the latest prediction of a key is looked
// for first (twice the partitions' width, read once per transaction), before every partition.
Interval* recent_window() {
    static LocalTransactionId lxid = InvalidLocalTransactionId;
    static Interval window;
    static bool have = false;
    if (lxid != MyProc->lxid) {
        have = false;
        spi_guard([&]() {
            uint64 n = spi_run(schema_plan(g_plans.log_window,
                                           "SELECT 2 OPERATOR(pg_catalog.*) log_partition_interval FROM %s.ml_monitor_state"
                                           " WHERE log_partition_interval IS NOT NULL",
                                           0, nullptr),
                               nullptr, nullptr, true, 1, SPI_OK_SELECT, "reading ml_monitor_state");
            if (n == 1) {
                bool isnull = false;
                Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
                if (!isnull) {
                    window = *DatumGetIntervalP(d);
                    have = true;
                }
            }
        });
        lxid = MyProc->lxid;
    }
    return have ? &window : nullptr;
}

}  // namespace

// A label that arrived for a key: joined to the latest served prediction of that key in the
// table and the shadow predictions made with it. Ignored when that prediction has its label
// already (a label is set once) or when the key was never scored.
void label_key(Oid nsp, const Attachment& a, text* key, const core::Label& y) {
    uint64 n = 0;
    if (g_log_partitioned) {
        // A partitioned log: the key's latest served prediction, in the recent partitions first
        // (pruned by predicted_at), then in all; then the predictions of that scoring, in its
        // partition alone (they share its predicted_at). Without the partition key, every
        // partition's index would be probed twice per label.
        Interval* window = recent_window();
        bool found = false;
        Datum latest_id = 0, latest_at = 0;
        for (int pass = window ? 0 : 1; pass < 2 && !found; pass++) {
            spi_guard([&]() {
                Oid types[3] = {REGCLASSOID, TEXTOID, TIMESTAMPTZOID};
                Datum since = 0;
                if (pass == 0)
                    since = DirectFunctionCall2(timestamptz_mi_interval, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
                                                PointerGetDatum(window));
                Datum args[3] = {ObjectIdGetDatum(a.rel), PointerGetDatum(key), since};
                const char nulls[4] = {' ', ' ', pass == 0 ? ' ' : 'n', '\0'};
                // (the first prunes the older partitions, by predicted_at, as its plan starts)
                uint64 k = spi_run(
                    pass == 0 ? schema_plan(g_plans.find_recent,
                                            "SELECT p.prediction_id, p.predicted_at FROM %s.ml_prediction_log p"
                                            " WHERE p.table_name OPERATOR(pg_catalog.=) $1 AND p.key OPERATOR(pg_catalog.=) $2"
                                            " AND p.served AND p.predicted_at OPERATOR(pg_catalog.>=) $3"
                                            " ORDER BY p.prediction_id DESC LIMIT 1",
                                            3, types)
                              : schema_plan(g_plans.find_all,
                                            "SELECT p.prediction_id, p.predicted_at FROM %s.ml_prediction_log p"
                                            " WHERE p.table_name OPERATOR(pg_catalog.=) $1 AND p.key OPERATOR(pg_catalog.=) $2"
                                            " AND p.served ORDER BY p.prediction_id DESC LIMIT 1",
                                            2, types),
                    // Not read-only: a fresh snapshot in READ COMMITTED, so that a prediction
                    // committed while this statement waited for the row it labels is the one found.
                    args, nulls, false, 1, SPI_OK_SELECT, "finding a prediction");
                if (k == 1) {
                    bool isnull = false;
                    latest_id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
                    latest_at = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
                    found = true;
                }
            });
        }
        if (!found) return;  // never scored: nothing to learn from
        spi_guard([&]() {
            Oid types[4] = {REGCLASSOID, TEXTOID, INT8OID, TIMESTAMPTZOID};
            Datum args[4] = {ObjectIdGetDatum(a.rel), PointerGetDatum(key), latest_id, latest_at};
            n = spi_run(
                schema_plan(g_plans.find_at,
                     "SELECT l.prediction_id, l.served, l.label IS NOT NULL OR l.label_class IS NOT NULL, m.kind, l.predicted_at"
                     " FROM %s.ml_prediction_log l LEFT JOIN %s.ml_models m"
                     " ON m.name OPERATOR(pg_catalog.=) l.model_name AND m.version OPERATOR(pg_catalog.=) l.version"
                     " WHERE l.table_name OPERATOR(pg_catalog.=) $1 AND l.key OPERATOR(pg_catalog.=) $2"
                     " AND l.predicted_at OPERATOR(pg_catalog.=) $4 AND l.prediction_id OPERATOR(pg_catalog.>=) $3"
                     " ORDER BY l.prediction_id",
                     4, types),
                args, nullptr, false, 0, SPI_OK_SELECT, "finding a prediction");
        });
    } else {
        spi_guard([&]() {
            Oid types[2] = {REGCLASSOID, TEXTOID};
            Datum args[2] = {ObjectIdGetDatum(a.rel), PointerGetDatum(key)};
            n = spi_run(
                schema_plan(g_plans.find,
                     "SELECT l.prediction_id, l.served, l.label IS NOT NULL OR l.label_class IS NOT NULL, m.kind, l.predicted_at"
                     " FROM %s.ml_prediction_log l LEFT JOIN %s.ml_models m"
                     " ON m.name OPERATOR(pg_catalog.=) l.model_name AND m.version OPERATOR(pg_catalog.=) l.version"
                     " WHERE l.table_name OPERATOR(pg_catalog.=) $1 AND l.key OPERATOR(pg_catalog.=) $2"
                     " AND l.prediction_id OPERATOR(pg_catalog.>=) (SELECT pg_catalog.max(p.prediction_id)"
                     " FROM %s.ml_prediction_log p WHERE p.table_name OPERATOR(pg_catalog.=) $1"
                     " AND p.key OPERATOR(pg_catalog.=) $2 AND p.served)"
                     " ORDER BY l.prediction_id",
                     2, types),
                // Not read-only: a fresh snapshot in READ COMMITTED, so that a prediction committed
                // while this statement waited for the row it labels is the one found.
                args, nullptr, false, 0, SPI_OK_SELECT, "finding a prediction");
        });
    }
    if (n == 0) return;  // never scored: nothing to learn from
    LabelBatch batch;
    SPITupleTable* tt = SPI_tuptable;
    for (uint64 i = 0; i < n; i++) {
        Datum d[5];
        bool dn[5];
        spi_row(tt, i, 5, d, dn);
        bool served = DatumGetBool(d[1]), labelled = DatumGetBool(d[2]);
        if (i == 0 && labelled) return;  // the served prediction has its label: set once
        if (i > 0 && served) continue;   // (not reached: the first row is the latest served one)
        if (i == 0) batch.predicted_at = DatumGetTimestampTz(d[4]);
        if (labelled) continue;
        if (DatumGetTimestampTz(d[4]) != batch.predicted_at) continue;  // (not reached: one scoring shares it)
        if (dn[3]) fail(ErrorKind::Internal, "the version that made prediction " + std::to_string(DatumGetInt64(d[0])) + " no longer exists");
        const std::string kind = text_of(d[3]);
        const core::ModelFamily* family = core::family_by_kind(kind);
        if (!family) fail(ErrorKind::Internal, "unknown model kind");
        batch.add(DatumGetInt64(d[0]), kind, family->task, y);
    }
    apply_label(nsp, a, batch, y);
}

}  // namespace pg_learn::pg::feedback
