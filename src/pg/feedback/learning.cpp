// Learning queued labels: ml_learn_pending, and sync labels at the commit of their transaction.
#include "pg/feedback/feedback.hpp"

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;

namespace pg_learn::pg::feedback {

// The learners share one routine: lock the version (or take the lock the caller holds), delete its
// queued labels, set learned_at on their log rows, learn them in prediction_id order from the
// logged features, and store the model once.

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

// Takes the queued labels of version v and learns them (SPI connected as the owner). locked: the
// version as the caller locked it (sync mode), or nullptr to lock it here, skipping a version
// another transaction is learning (ml_learn_pending, ml_learn, a committing sync labeller): it is
// left for the next call, so learners never wait for each other and cannot deadlock. The labels
// are those of the sync queue (limit < 0) or the oldest `limit` queued ones. Returns how many.
uint64 learn_version(Oid nsp, const Version& v, LockedModel* locked, int32 limit) {
    LockedModel own;
    if (!locked) {
        own = registry_lock_version(nsp, v.model, v.version, true);
        if (!own.locked) return 0;
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
                             " u AS (UPDATE %s.ml_prediction_log l SET learned_at = pg_catalog.clock_timestamp() FROM d" +
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
    if (rows == 0) return 0;
    core::Observation& obs = state().observation;
    core::LeakCheck leak;
    SPITupleTable* tt = SPI_tuptable;
    for (uint64 i = 0; i < rows; i++) {
        Datum d[4];
        bool dn[4];
        spi_row(tt, i, 4, d, dn);
        // The log's strings are text columns (a NaN feature is never logged): categories.
        jsonb_features(d[1], obs, /*borrow_names=*/false, /*specials_are_numbers=*/false);
        if (dn[3]) {
            const core::Label y = core::Label::of_number(DatumGetFloat8(d[2]));
            locked->model->learn(obs, y);
            leak.observe(obs, y);
        } else {  // a class (multiclass)
            const std::string cls = text_of(d[3]);
            const core::Label y = core::Label::of_text(cls);
            locked->model->learn(obs, y);
            leak.observe(obs, y);
        }
        if ((i & 255) == 255) pg_guard([]() { CHECK_FOR_INTERRUPTS(); });
    }
    // A feature column that repeats the label (another name for it, or the labels table's value
    // copied into the attached table) over the labels learned now: a WARNING.
    warn_label_leaks(leak, *locked->model, "ml_learn_pending");
    registry_store(nsp, v.model, v.version, std::move(locked->model), rows);
    return rows;
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
    for (size_t k = 0; k < versions.size(); k++) learn_version(nsp, versions[k], &locked[k], -1);
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

    int64 applied = 0;
    auto learn_one = [&](const Version& v) -> uint64 {
        return learn_version(nsp, v, nullptr, static_cast<int32>(max_rows - applied));
    };
    for (const Version& v : versions) {
        if (applied >= max_rows) break;
        if (one_model) {  // one model: its error is the caller's
            applied += static_cast<int64>(learn_one(v));
            continue;
        }
        // Every model: each version in a subtransaction of its own, so that one that cannot
        // learn (its weights diverge) is reported and skipped, its labels left queued, and the
        // others still learn. Cancellation and transaction-level failures stop the call.
        MemoryContext cxt = CurrentMemoryContext;
        ResourceOwner owner = CurrentResourceOwner;
        pg_guard([&]() {
            BeginInternalSubTransaction(nullptr);
            MemoryContextSwitchTo(cxt);
        });
        std::string failure, failure_detail;
        try {
            uint64 n = learn_one(v);
            pg_guard([&]() {
                ReleaseCurrentSubTransaction();
                MemoryContextSwitchTo(cxt);
                CurrentResourceOwner = owner;
            });
            applied += static_cast<int64>(n);
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
