// Learning queued labels: ml_learn_pending, and sync labels at the commit of their transaction.
#include "pg/feedback/feedback.hpp"

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;

namespace pg_learn::pg::feedback {

// The learners share one routine: lock the version (or take the lock the caller holds), delete its
// queued labels, set learned_at on their log rows (one time per batch, taken under the version's
// lock, so that learned_at then prediction_id is the order the version learned them in), learn
// them in prediction_id order from the logged features, move a label the model refuses (a poison
// label: it diverges on it) to ml_rejected_labels, and store the model once.

namespace {

struct Version {
    std::string model;
    int32 version;
};

// The versions the query finds labels for (it returns model_name, version), in (name, version)
// order: the order every learner locks them in.
std::vector<Version> queued_versions(SPIPlanPtr& slot, const char* sql, int nargs, Oid* types, Datum* args,
                                     const char* nulls, bool read_only) {
    uint64 n = 0;
    spi_guard([&]() {
        n = spi_run(schema_plan(slot, sql, nargs, types), args, nulls, read_only, 0, SPI_OK_SELECT, "reading ml_label_queue");
    });
    std::vector<Version> versions;
    SPITupleTable* vt = SPI_tuptable;
    for (uint64 i = 0; i < n; i++) {
        Datum d[2];
        bool dn[2];
        spi_row(vt, i, 2, d, dn);
        versions.push_back({text_of(d[0]), DatumGetInt32(d[1])});
    }
    std::sort(versions.begin(), versions.end(), [](const Version& x, const Version& y) {
        return x.model != y.model ? x.model < y.model : x.version < y.version;
    });
    return versions;
}

// What a learner did with a version: the labels it took from the queue and those it learned (the
// others were rejected).
struct Taken {
    uint64 taken = 0;
    uint64 learned = 0;
};

// A poison label: its prediction and the error learning it raised.
struct Rejected {
    int64 prediction_id;
    int sqlstate;
    std::string message;
    std::string detail;
};

// Moves rejected labels to ml_rejected_labels (with their error, the logged features and label)
// and clears learned_at on their log rows: they were taken from the queue but not learned. One
// WARNING per version and batch.
void reject_labels(const Version& v, const std::vector<Rejected>& rejected, const char* who) {
    spi_guard([&]() {
        const int n = static_cast<int>(rejected.size());
        Datum* ids = static_cast<Datum*>(palloc(sizeof(Datum) * n));
        Datum* codes = static_cast<Datum*>(palloc(sizeof(Datum) * n));
        Datum* messages = static_cast<Datum*>(palloc(sizeof(Datum) * n));
        Datum* details = static_cast<Datum*>(palloc(sizeof(Datum) * n));
        bool* detail_nulls = static_cast<bool*>(palloc(sizeof(bool) * n));
        for (int k = 0; k < n; k++) {
            const Rejected& r = rejected[k];
            ids[k] = Int64GetDatum(r.prediction_id);
            codes[k] = PointerGetDatum(cstring_to_text(unpack_sql_state(r.sqlstate)));
            messages[k] = PointerGetDatum(cstring_to_text_with_len(r.message.data(), static_cast<int>(r.message.size())));
            details[k] = PointerGetDatum(cstring_to_text_with_len(r.detail.data(), static_cast<int>(r.detail.size())));
            detail_nulls[k] = r.detail.empty();
        }
        int dims[1] = {n};
        int lbs[1] = {1};
        Oid types[4] = {INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
        Datum args[4] = {
            PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
            PointerGetDatum(construct_array(codes, n, TEXTOID, -1, false, TYPALIGN_INT)),
            PointerGetDatum(construct_array(messages, n, TEXTOID, -1, false, TYPALIGN_INT)),
            PointerGetDatum(construct_md_array(details, detail_nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT))};
        SPIPlanPtr p = schema_plan(
            g_plans.reject,
            "WITH r AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3),"
            " pg_catalog.unnest($4)) AS r(prediction_id, sqlstate, message, detail)),"
            " u AS (UPDATE %s.ml_prediction_log l SET learned_at = NULL FROM r"
            " WHERE l.prediction_id OPERATOR(pg_catalog.=) r.prediction_id"
            " RETURNING l.prediction_id, l.model_name, l.version, l.label, l.label_class, l.labeled_at, l.features)"
            " INSERT INTO %s.ml_rejected_labels (prediction_id, model_name, version, label, label_class, labeled_at,"
            " features, sqlstate, message, detail)"
            " SELECT u.prediction_id, u.model_name, u.version, u.label, u.label_class, u.labeled_at, u.features,"
            " r.sqlstate, r.message, r.detail FROM u JOIN r ON r.prediction_id OPERATOR(pg_catalog.=) u.prediction_id",
            4, types);
        spi_run(p, args, nullptr, false, 0, SPI_OK_INSERT, "moving rejected labels to ml_rejected_labels");
    });
    const Rejected& first = rejected.front();
    const std::string what = "model \"" + v.model + "\" version " + std::to_string(v.version);
    const size_t n = rejected.size();
    pg_guard([&]() {
        ereport(WARNING,
                (errmsg("%s: %s rejected %zu label%s: %s", who, what.c_str(), n, n == 1 ? "" : "s", first.message.c_str()),
                 first.detail.empty() ? 0 : errdetail("%s", first.detail.c_str()),
                 errhint("The rejected labels are in ml_rejected_labels with their errors; the version learned the others.")));
    });
}

// Takes the queued labels of version v and learns them (SPI connected as the owner). locked: the
// version as the caller locked it (sync mode), or nullptr to lock it here, skipping a version
// another transaction is learning (ml_learn_pending, ml_learn, a committing sync labeller): it is
// left for the next call, so learners never wait for each other and cannot deadlock. The labels
// are those of the sync queue (limit < 0) or the oldest `limit` queued ones. Returns how many.
Taken learn_version(Oid nsp, const Version& v, LockedModel* locked, int32 limit, const char* who) {
    LockedModel own;
    if (!locked) {
        own = registry_lock_version(nsp, v.model, v.version, true);
        if (!own.locked) return {};
        locked = &own;
    }
    const bool sync = limit < 0;
    uint64 rows = 0;
    // Both return the labels taken, in prediction_id order. A partitioned log (issue 12):
    // each log row is found in its partition by the queue's predicted_at (NOT NULL there).
    const bool part = g_log_partitioned;
    const char* const d_cols = part ? " RETURNING q.prediction_id, q.label, q.label_class, q.predicted_at),"
                                    : " RETURNING q.prediction_id, q.label, q.label_class),";
    const char* const join = part ? " WHERE l.prediction_id OPERATOR(pg_catalog.=) d.prediction_id"
                                    " AND l.predicted_at OPERATOR(pg_catalog.=) d.predicted_at"
                                  : " WHERE l.prediction_id OPERATOR(pg_catalog.=) d.prediction_id";
    const std::string rest = std::string(d_cols) +
                             " u AS (UPDATE %s.ml_prediction_log l SET learned_at = (SELECT pg_catalog.clock_timestamp()) FROM d" +
                             join +
                             " RETURNING l.prediction_id, l.features, d.label, d.label_class)"
                             " SELECT u.prediction_id, u.features, u.label, u.label_class FROM u ORDER BY u.prediction_id";
    const std::string sync_sql = std::string("WITH d AS (DELETE FROM %s.ml_label_queue q WHERE q.sync"
                                             " AND q.model_name OPERATOR(pg_catalog.=) $1 AND q.version OPERATOR(pg_catalog.=) $2") + rest;
    const std::string take_sql =
        std::string("WITH d AS (DELETE FROM %s.ml_label_queue q WHERE q.prediction_id OPERATOR(pg_catalog.=) ANY (ARRAY("
                    "SELECT q2.prediction_id FROM %s.ml_label_queue q2"
                    " WHERE q2.model_name OPERATOR(pg_catalog.=) $1 AND q2.version OPERATOR(pg_catalog.=) $2"
                    " ORDER BY q2.prediction_id LIMIT $3))") + rest;
    spi_guard([&]() {
        Oid types[3] = {TEXTOID, INT4OID, INT4OID};
        Datum args[3] = {PointerGetDatum(cstring_to_text_with_len(v.model.data(), static_cast<int>(v.model.size()))),
                         Int32GetDatum(v.version), Int32GetDatum(limit)};
        SPIPlanPtr p = sync ? schema_plan(part ? g_plans.sync_take_part : g_plans.sync_take, sync_sql.c_str(), 2, types)
                            : schema_plan(part ? g_plans.take_part : g_plans.take, take_sql.c_str(), 3, types);
        rows = spi_run(p, args, nullptr, false, 0, SPI_OK_SELECT, "taking queued labels");
    });
    // (none: taken by a learner that committed before our lock)
    if (rows == 0) return {};
    core::Observation& obs = state().observation;
    core::LeakCheck leak;
    SPITupleTable* tt = SPI_tuptable;
    core::Model& model = *locked->model;
    // (a class label's text lives in label_text until the next row: Label borrows it)
    std::string label_text;
    auto label_of = [&](uint64 i) {
        Datum d[4];
        bool dn[4];
        spi_row(tt, i, 4, d, dn);
        // The log's strings are text columns (a NaN feature is never logged): categories.
        jsonb_features(d[1], obs, /*borrow_names=*/false, /*specials_are_numbers=*/false);
        if (dn[3]) return core::Label::of_number(DatumGetFloat8(d[2]));
        label_text = text_of(d[3]);
        return core::Label::of_text(label_text);
    };
    // A label the model refuses (core::Error from learn: it diverges on it, a statistic would
    // overflow) is a poison label: it goes to ml_rejected_labels with its error and the batch goes
    // on without it, from the model as it was before that label. learn() may have changed the
    // model before refusing, so the model is restored from the snapshot taken before the batch (or
    // the last rejection) and the labels learned since are applied again: a batch without poison
    // costs one copy of the model.
    std::unique_ptr<core::Model> snapshot = model.clone();
    uint64 snapshot_at = 0;
    std::vector<Rejected> rejected;
    std::vector<bool> skip;
    for (uint64 i = 0; i < rows; i++) {
        try {
            const core::Label y = label_of(i);
            model.learn(obs, y);
            leak.observe(obs, y);
        } catch (const core::Error& e) {
            if (e.kind() == core::ErrorKind::Internal) throw;
            Datum d[1];
            bool dn[1];
            spi_row(tt, i, 1, d, dn);
            rejected.push_back({DatumGetInt64(d[0]), sqlstate_of(e.kind()), e.what(), e.detail()});
            if (skip.empty()) skip.assign(rows, false);
            skip[i] = true;
            model.assign(*snapshot);
            for (uint64 j = snapshot_at; j < i; j++) {
                if (skip[j]) continue;
                const core::Label y = label_of(j);  // (reads obs)
                model.learn(obs, y);
            }
            snapshot = model.clone();
            snapshot_at = i + 1;
        }
        if ((i & 255) == 255) pg_guard([]() { CHECK_FOR_INTERRUPTS(); });
    }
    const uint64 learned = rows - rejected.size();
    if (!rejected.empty()) reject_labels(v, rejected, who);
    // A feature column that repeats the label (another name for it, or the labels table's value
    // copied into the attached table) over the labels learned now: a WARNING.
    warn_label_leaks(leak, *locked->model, who);
    if (learned > 0) registry_store(nsp, v.model, v.version, std::move(locked->model), learned);
    return {rows, learned};
}

// Sync mode, at commit (the PRE_COMMIT / PRE_PREPARE transaction callback, once per transaction
// that queued sync labels): learns every sync label in ml_label_queue, that is those this
// transaction queued (others' are uncommitted, so unseen; a committed one, which only a
// transaction that ended without this callback leaves, is learned here or by ml_learn_pending).
// Labelling locks no version; here all the versions involved are locked (waiting) in
// (name, version) order before any is written, as the last thing the transaction does, so sync
// labellers acquire version locks in one global order and cannot deadlock with each other;
// ml_learn_pending never waits for a version (SKIP LOCKED) and never sees these uncommitted
// rows. Each version's labels are applied in prediction_id order, from the logged features.
void learn_sync(Oid nsp) {
    // (the extension dropped, or its schema renamed, since the labels were queued: they went with it)
    bool present = false;
    pg_guard([&]() {
        present = OidIsValid(get_relname_relid("ml_attachments", nsp)) && OidIsValid(get_relname_relid("ml_label_queue", nsp));
    });
    if (!present) return;
    SpiAsOwner spi(nsp);
    pg_guard([&]() { check_schema(nsp); });
    std::vector<Version> versions = queued_versions(g_plans.sync_versions,
                                                    "SELECT q.model_name, q.version FROM %s.ml_label_queue q WHERE q.sync"
                                                    " GROUP BY q.model_name, q.version",
                                                    0, nullptr, nullptr, nullptr, false);
    std::vector<LockedModel> locked;
    for (const Version& v : versions) {
        LockedModel lm = registry_lock_version(nsp, v.model, v.version, false);
        // (not reached: the queue's foreign key keeps a version with queued labels registered)
        if (!lm.found)
            pg_fail(ERRCODE_UNDEFINED_OBJECT, "model \"" + v.model + "\" has no version " + std::to_string(v.version));
        locked.push_back(std::move(lm));
    }
    for (size_t k = 0; k < versions.size(); k++) learn_version(nsp, versions[k], &locked[k], -1, "sync labels at commit");
    spi.finish();
}

// The sync labels of the transaction are learned before it commits (or prepares). The flag is set
// when one is queued and stays set through a rolled-back subtransaction (learn_sync then finds
// fewer rows, or none).
bool g_sync_pending = false;
Oid g_sync_nsp = InvalidOid;
bool g_sync_callback = false;

void sync_on_xact(XactEvent event, void*) {
    switch (event) {
        case XACT_EVENT_PRE_COMMIT:
        case XACT_EVENT_PRE_PREPARE:
            if (g_sync_pending) {
                g_sync_pending = false;
                // An error here (a version that cannot learn: 22003) aborts the transaction.
                // (SPI needs an outer snapshot; its statements take fresh ones of their own)
                PushActiveSnapshot(GetTransactionSnapshot());
                boundary([]() { learn_sync(g_sync_nsp); });
                PopActiveSnapshot();
            }
            break;
        default:
            g_sync_pending = false;
            break;
    }
}

}  // namespace

void sync_queued(Oid nsp) {
    if (!g_sync_callback) {
        pg_guard([]() { RegisterXactCallback(sync_on_xact, nullptr); });
        g_sync_callback = true;
    }
    g_sync_pending = true;
    g_sync_nsp = nsp;
}

// ---- ml_learn_pending ------------------------------------------------------------------------

int64 learn_pending(FunctionCallInfo fcinfo) {
    if (PG_ARGISNULL(1)) fail(ErrorKind::NullValue, "max_rows must not be NULL");
    const int32 max_rows = PG_GETARG_INT32(1);
    if (max_rows < 1) fail(ErrorKind::InvalidParameter, "max_rows must be at least 1", "got " + std::to_string(max_rows));
    std::string model;
    const bool one_model = !PG_ARGISNULL(0);
    if (one_model) model = text_of(PG_GETARG_DATUM(0));
    Oid nsp = InvalidOid;
    const Oid fn_oid = fcinfo->flinfo->fn_oid;
    pg_guard([&]() { nsp = get_func_namespace(fn_oid); });

    SpiAsOwner spi(nsp);
    Datum model_text = 0;
    pg_guard([&]() {
        check_schema(nsp);
        if (one_model) model_text = PointerGetDatum(cstring_to_text_with_len(model.data(), static_cast<int>(model.size())));
    });
    if (one_model) {
        bool exists = false;
        spi_guard([&]() {
            Oid types[1] = {TEXTOID};
            Datum args[1] = {model_text};
            StringInfoData sql;
            initStringInfo(&sql);
            appendStringInfo(&sql, "SELECT 1 FROM %s.ml_model_names WHERE name OPERATOR(pg_catalog.=) $1",
                             extension_schema_quoted());
            int rc = SPI_execute_with_args(sql.data, 1, types, args, nullptr, true, 1);
            if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: registry look-up failed");
            exists = SPI_processed == 1;
        });
        if (!exists) pg_fail(ERRCODE_UNDEFINED_OBJECT, "model \"" + model.substr(0, 80) + "\" does not exist");
    }

    // The versions with queued labels.
    Oid types[1] = {TEXTOID};
    Datum args[1] = {model_text};
    char nulls[2] = {one_model ? ' ' : 'n', '\0'};
    std::vector<Version> versions = queued_versions(g_plans.pending,
                                                    "SELECT q.model_name, q.version FROM %s.ml_label_queue q"
                                                    " WHERE $1 IS NULL OR q.model_name OPERATOR(pg_catalog.=) $1"
                                                    " GROUP BY q.model_name, q.version",
                                                    1, types, args, nulls, true);

    int64 applied = 0, taken = 0;  // labels learned; taken from the queue (learned or rejected)
    auto learn_one = [&](const Version& v) {
        return learn_version(nsp, v, nullptr, static_cast<int32>(max_rows - taken), "ml_learn_pending");
    };
    for (const Version& v : versions) {
        if (taken >= max_rows) break;
        if (one_model) {  // one model: its error is the caller's
            const Taken t = learn_one(v);
            applied += static_cast<int64>(t.learned);
            taken += static_cast<int64>(t.taken);
            continue;
        }
        // Every model: each version in a subtransaction of its own, so that one that cannot
        // learn for another reason than a poison label (those are rejected one by one) is reported
        // and skipped, its labels left queued, and the others still learn. Cancellation and
        // transaction-level failures stop the call.
        MemoryContext cxt = CurrentMemoryContext;
        ResourceOwner owner = CurrentResourceOwner;
        pg_guard([&]() {
            BeginInternalSubTransaction(nullptr);
            MemoryContextSwitchTo(cxt);
        });
        std::string failure, failure_detail;
        try {
            const Taken t = learn_one(v);
            pg_guard([&]() {
                ReleaseCurrentSubTransaction();
                MemoryContextSwitchTo(cxt);
                CurrentResourceOwner = owner;
            });
            applied += static_cast<int64>(t.learned);
            taken += static_cast<int64>(t.taken);
            continue;
        } catch (const PgError& e) {
            int code = e.edata() ? e.edata()->sqlerrcode : ERRCODE_INTERNAL_ERROR;
            if (code == ERRCODE_QUERY_CANCELED || code == ERRCODE_T_R_SERIALIZATION_FAILURE ||
                code == ERRCODE_T_R_DEADLOCK_DETECTED || code == ERRCODE_ADMIN_SHUTDOWN)
                throw;
            failure = e.what();  // copied before the rollback frees the error's memory
            if (e.edata() && e.edata()->detail) failure_detail = e.edata()->detail;
        } catch (const core::Error& e) {
            failure = e.what();
            failure_detail = e.detail();
        }
        const std::string what = "model \"" + v.model + "\" version " + std::to_string(v.version);
        pg_guard([&]() {
            RollbackAndReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(cxt);
            CurrentResourceOwner = owner;
            ereport(WARNING, (errmsg("ml_learn_pending: %s did not learn: %s", what.c_str(), failure.c_str()),
                              failure_detail.empty() ? 0 : errdetail("%s", failure_detail.c_str()),
                              errhint("Its labels stay queued; the other models learned theirs.")));
        });
    }
    spi.finish();
    return applied;
}

}  // namespace pg_learn::pg::feedback
