// Label arrival: a label joined to its logged prediction (and its shadows') and queued, once.
#include "pg/feedback/feedback.hpp"
#include "pg/models/model_datum.hpp"

extern "C" {
#include "access/genam.h"
#include "access/relscan.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/tableam.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_trigger.h"
#include "nodes/readfuncs.h"
#include "optimizer/optimizer.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
}

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;

namespace pg_learn::pg::feedback {

// Whether the triggers of rel that fire for `event` (TRIGGER_TYPE_INSERT or _UPDATE) are only ones
// that may fire from a direct write: AFTER ROW triggers without transition tables whose function
// is a foreign-key check (which runs as the table's owner) or the log's own monitoring trigger
// (_ml_monitor_enqueue of schema nsp, which checks no privilege). Any other trigger (a user's, a
// BEFORE or statement trigger) needs a statement of its own, run as the owner: SPI. Plain
// PostgreSQL code.
bool own_triggers_only(Relation rel, int16 event, Oid nsp) {
    TriggerDesc* td = rel->trigdesc;
    if (!td) return true;
    for (int i = 0; i < td->numtriggers; i++) {
        const Trigger& t = td->triggers[i];
        if (!(t.tgtype & event)) continue;
        if (!TRIGGER_FOR_ROW(t.tgtype) || !TRIGGER_FOR_AFTER(t.tgtype) || t.tgoldtable || t.tgnewtable) return false;
        if (RI_FKey_trigger_type(t.tgfoid) != RI_TRIGGER_NONE) continue;
        if (!is_monitor_trigger(t, nsp)) return false;
    }
    return true;
}

// Whether t is an AFTER ROW trigger of monitoring's function _ml_monitor_enqueue of schema nsp
// (ml_monitor_prediction, ml_monitor_label). Plain PostgreSQL code.
bool is_monitor_trigger(const Trigger& t, Oid nsp) {
    if (!TRIGGER_FOR_ROW(t.tgtype) || !TRIGGER_FOR_AFTER(t.tgtype) || t.tgoldtable || t.tgnewtable) return false;
    char* name = get_func_name(t.tgfoid);
    return name && strcmp(name, "_ml_monitor_enqueue") == 0 && get_func_namespace(t.tgfoid) == nsp;
}

void LabelBatch::add(int64 id, std::string_view kind, core::Task task, const core::Label& y, bool learns) {
    // (a monitor-only label is checked as a learned one: the metrics read it as the task's label)
    if (task == core::Task::Multiclass) {
        core::check_label(kind, task, y);
        (learns ? class_ids : monitor_class_ids).push_back(id);
        return;
    }
    // Other tasks learn numbers: a boolean is 1 or 0, as it always was.
    core::check_label(kind, task, y.type == core::Label::Type::Boolean ? core::Label::of_number(y.number) : y);
    (learns ? ids : monitor_ids).push_back(id);
}

// ---- which versions learn their labels ---------------------------------------------------------

namespace {

// Per backend: whether a version can learn (the core's Model::can_learn: an imported model cannot),
// by (name, version), checked against the row's created_at (a version unregistered and registered
// again under its number is another row). A version's kind, and so can_learn, never changes.
struct Learns {
    std::string name;
    int32 version;
    TimestampTz created_at;
    bool learns;
};
std::vector<Learns>* g_learns = nullptr;

}  // namespace

bool version_learns(const std::string& name, int32 version, TimestampTz created_at) {
    if (!g_learns) g_learns = new std::vector<Learns>();  // lives as long as the backend
    for (const Learns& l : *g_learns)
        if (l.version == version && l.created_at == created_at && l.name == name) return l.learns;
    bool found = false;
    struct varlena* flat = nullptr;
    spi_guard([&]() {
        Oid types[2] = {TEXTOID, INT4OID};
        Datum args[2] = {PointerGetDatum(cstring_to_text_with_len(name.data(), static_cast<int>(name.size()))),
                         Int32GetDatum(version)};
        found = spi_run(schema_plan(g_plans.version_model,
                                    "SELECT m.model FROM %s.ml_models m WHERE m.name OPERATOR(pg_catalog.=) $1"
                                    " AND m.version OPERATOR(pg_catalog.=) $2",
                                    2, types),
                        args, nullptr, false, 1, SPI_OK_SELECT, "reading a version") == 1;
        if (!found) return;
        bool isnull = false;
        Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        if (!isnull) flat = pg_detoast_datum_copy(reinterpret_cast<struct varlena*>(DatumGetPointer(d)));
    });
    if (!found || !flat)
        fail(ErrorKind::Internal, "version " + std::to_string(version) + " of model \"" + name + "\" no longer exists");
    const bool learns = decode_model_varlena(flat)->can_learn();
    pg_guard([&]() { pfree(flat); });
    if (g_learns->size() >= 256) g_learns->clear();  // (bounded: a few versions are labelled at a time)
    g_learns->push_back({name, version, created_at, learns});
    return learns;
}

namespace {

// The task a version's row names (ml_models.task, written by ml_register from ml_info), which is
// what decides the labels it takes: a wrapper kind (a pipeline, a partitioned model) has the task
// of its inner model, so the kind alone cannot say.
core::Task task_of_version(const std::string& task) {
    core::Task t;
    if (!core::task_by_name(task, t)) fail(ErrorKind::Internal, "unknown model task \"" + task + "\"");
    return t;
}

// Whether column `attnum` of rel is `name` of type `type`, without a type modifier (the layout
// this code knows: a column altered to another type, or to one with a length, is read and written
// by the statements run through SPI, which convert and check its values).
bool column_at(Relation rel, AttrNumber attnum, const char* name, Oid type) {
    TupleDesc desc = RelationGetDescr(rel);
    if (attnum > desc->natts) return false;
    Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
    return !att->attisdropped && strcmp(NameStr(att->attname), name) == 0 && att->atttypid == type &&
           att->atttypmod == -1;
}

// An index of rel named `name` in nsp, valid, plain btree, whose leading columns are the heap
// attributes `atts` (n of them); InvalidOid otherwise. Plain PostgreSQL code.
Oid leading_index(Oid nsp, Relation rel, const char* name, const AttrNumber* atts, int n) {
    Oid idx = get_relname_relid(name, nsp);
    if (!OidIsValid(idx) || get_rel_relkind(idx) != RELKIND_INDEX) return InvalidOid;
    List* indexes = RelationGetIndexList(rel);
    bool ours = list_member_oid(indexes, idx);
    list_free(indexes);
    if (!ours) return InvalidOid;
    HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(idx));
    if (!HeapTupleIsValid(tup)) return InvalidOid;
    auto* form = reinterpret_cast<Form_pg_index>(GETSTRUCT(tup));
    bool ok = form->indisvalid && form->indisready && form->indislive && form->indnkeyatts >= n &&
              heap_attisnull(tup, Anum_pg_index_indexprs, nullptr) && heap_attisnull(tup, Anum_pg_index_indpred, nullptr);
    for (int i = 0; ok && i < n; i++) ok = form->indkey.values[i] == atts[i];
    ReleaseSysCache(tup);
    return ok ? idx : InvalidOid;
}

// The log opened with lockmode, when g_log_rel is still the log of schema nsp once locked; nullptr
// otherwise: replaced or dropped while the lock was awaited (ml_partition_log committed in another
// session; an empty log is dropped), and the caller runs its statement, which finds the log by
// name (review of session 10: "could not open relation with OID n"). Plain PostgreSQL code.
Relation open_log(Oid nsp, LOCKMODE lockmode) {
    Relation log = try_table_open(g_log_rel, lockmode);
    if (log && get_relname_relid("ml_prediction_log", nsp) != g_log_rel) {
        table_close(log, lockmode);
        log = nullptr;
    }
    return log;
}

// An equality scan key on index column `col` (1-based) of idx, with the index's own collation
// (a text key compared under another collation than the index's order could miss rows).
void eq_key(ScanKey k, Relation idx, int col, RegProcedure proc, Datum arg) {
    ScanKeyEntryInitialize(k, 0, col, BTEqualStrategyNumber, InvalidOid, idx->rd_indcollation[col - 1], proc, arg);
}

// ---- giving the label and queueing it without SPI ----------------------------------------------

// The queue's foreign keys, checked by queue_direct itself instead of by their RI triggers (issue
// 12 item 7: each RI check is a query of its own, ~37k instructions, the two of them a fifth of a
// label's cost). Known: (prediction_id) REFERENCES the log (prediction_id), and (model_name,
// version) REFERENCES ml_models (name, version).
struct QueueKeys {
    bool known = false;  // every INSERT trigger of the queue is the RI check of one of these two
    bool log_fk = false, models_fk = false;
    NameData models_fk_name;  // (plain data: this is code that may raise a PostgreSQL error)
};

// Whether column numbers `got` (an int2[] of pg_constraint) are exactly `want`.
bool same_columns(HeapTuple tup, int attnum, std::initializer_list<int16> want) {
    bool isnull = false;
    Datum d = SysCacheGetAttr(CONSTROID, tup, attnum, &isnull);
    if (isnull) return false;
    ArrayType* arr = DatumGetArrayTypeP(d);
    if (ARR_NDIM(arr) != 1 || ARR_HASNULL(arr) || ARR_ELEMTYPE(arr) != INT2OID ||
        ARR_DIMS(arr)[0] != static_cast<int>(want.size()))
        return false;
    const int16* cols = reinterpret_cast<const int16*>(ARR_DATA_PTR(arr));
    size_t i = 0;
    for (int16 w : want)
        if (cols[i++] != w) return false;
    return true;
}

// The INSERT triggers of the queue, when they are only the RI checks of its two known foreign
// keys (as ml_label_queue is created); known = false otherwise (another trigger, another key: the
// triggers are queued as an INSERT queues them). Plain PostgreSQL code.
QueueKeys queue_keys(Relation queue, Oid log_oid, Oid models_oid) {
    QueueKeys k;
    TriggerDesc* td = queue->trigdesc;
    k.known = true;
    for (int i = 0; td && i < td->numtriggers && k.known; i++) {
        const Trigger& t = td->triggers[i];
        if (!(t.tgtype & TRIGGER_TYPE_INSERT)) continue;
        k.known = RI_FKey_trigger_type(t.tgfoid) == RI_TRIGGER_FK && TRIGGER_FOR_ROW(t.tgtype) &&
                  TRIGGER_FOR_AFTER(t.tgtype) && !t.tgoldtable && !t.tgnewtable && OidIsValid(t.tgconstraint);
        if (!k.known) break;
        HeapTuple tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(t.tgconstraint));
        if (!HeapTupleIsValid(tup)) {
            k.known = false;
            break;
        }
        auto* con = reinterpret_cast<Form_pg_constraint>(GETSTRUCT(tup));
        const bool plain = con->contype == CONSTRAINT_FOREIGN && con->conrelid == RelationGetRelid(queue) &&
                           con->confmatchtype == FKCONSTR_MATCH_SIMPLE;
        if (plain && con->confrelid == log_oid && same_columns(tup, Anum_pg_constraint_conkey, {1}) &&
            same_columns(tup, Anum_pg_constraint_confkey, {1})) {
            k.log_fk = true;
        } else if (plain && con->confrelid == models_oid && same_columns(tup, Anum_pg_constraint_conkey, {2, 3}) &&
                   same_columns(tup, Anum_pg_constraint_confkey, {1, 2})) {
            k.models_fk = true;
            k.models_fk_name = con->conname;
        } else {
            k.known = false;
        }
        ReleaseSysCache(tup);
    }
    return k;
}

// What the UPDATE ... INSERT statement of queue_label does, with the executor's row routines and
// no plan: for each prediction, finds its row (primary key, a fresh snapshot as the statement
// would take), locks its latest version as UPDATE does (in READ COMMITTED a row updated
// concurrently is rechecked in its new version; in REPEATABLE READ that is a serialization
// failure), and when it has no label yet gives it the label and labeled_at
// (ExecSimpleRelationUpdate: constraints, indexes, AFTER ROW triggers queued) and inserts the
// queue row (ExecSimpleRelationInsert: the CHECK, the indexes with their unique check, the
// foreign keys' checks queued). The foreign-key checks and the monitoring trigger fire at the end
// of the labelling statement's trigger round, as the statement's own AFTER triggers do.
// Returns false (nothing done) when the tables are not those this code knows: the caller runs
// the statement through SPI. Plain PostgreSQL code.
struct LabelRow {
    Datum label;  // float8, or 0 for a class
    Datum label_class;  // text, or 0 for a number
    bool sync;
    TimestampTz now;
    bool queue = true;  // false: a monitor-only label, the log row updated and no queue row
};

// The RI check of the queue's (model_name, version) foreign key, as its query does it: the row of
// ml_models with that key, locked FOR KEY SHARE (as LockRows locks it: in READ COMMITTED its latest
// version, in REPEATABLE READ a concurrent update or delete is a serialization failure); none is
// 23503, with the RI check's message. Plain PostgreSQL code.
void lock_version_row(Relation models, Relation pkey, TupleTableSlot* slot, Snapshot snap, const NameData& fk_name,
                      Datum name, Datum version) {
    ScanKeyData k[2];
    eq_key(&k[0], pkey, 1, F_TEXTEQ, name);
    eq_key(&k[1], pkey, 2, F_INT4EQ, version);
    IndexScanDesc scan = index_beginscan(models, pkey, snap, 2, 0);
    index_rescan(scan, k, 2, nullptr, 0);
    bool visible = index_getnext_slot(scan, ForwardScanDirection, slot);
    index_endscan(scan);
    bool exists = false;
    if (visible) {
        ItemPointerData tid = slot->tts_tid;
        TM_FailureData tmfd;
        const int flags = TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS |
                          (IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION);
        TM_Result res = table_tuple_lock(models, &tid, snap, slot, GetCurrentCommandId(false), LockTupleKeyShare,
                                         LockWaitBlock, flags, &tmfd);
        switch (res) {
            case TM_Ok:
            case TM_SelfModified: exists = true; break;  // (changed by this transaction: it is there)
            case TM_Updated:
                if (IsolationUsesXactSnapshot())
                    ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                                    errmsg("could not serialize access due to concurrent update")));
                elog(ERROR, "pg_learn: unexpected result %d locking a version", static_cast<int>(res));
                break;
            case TM_Deleted:
                if (IsolationUsesXactSnapshot())
                    ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                                    errmsg("could not serialize access due to concurrent delete")));
                break;  // gone
            default: elog(ERROR, "pg_learn: unexpected result %d locking a version", static_cast<int>(res));
        }
    }
    if (!exists)
        ereport(ERROR, (errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
                        errmsg("insert or update on table \"ml_label_queue\" violates foreign key constraint \"%s\"",
                               NameStr(fk_name)),
                        errdetail("Key (model_name, version)=(%s, %d) is not present in table \"ml_models\".",
                                  TextDatumGetCString(name), DatumGetInt32(version))));
}

// The queue's CHECK constraints, read from their stored form and planned once per backend (and
// again after any invalidation of the queue's relcache entry), then prepared for each executor
// state as ExecConstraints would prepare them (issue 12 item 7: reading and planning them again
// for every label cost ~17k instructions). Plain PostgreSQL code.
struct QueueChecks {
    Oid rel = InvalidOid;
    int n = 0;
    // Marked by an invalidation, freed by the next prepare_checks: an invalidation taken in while a
    // check runs (its function opens a table) must not free the expressions it runs.
    bool stale = false;
    MemoryContext cxt = nullptr;
    Expr** exprs = nullptr;  // planned, in the order of the relcache's check array
};
QueueChecks g_checks;
bool g_checks_callback = false;

void checks_on_relcache(Datum, Oid relid) {
    if (g_checks.cxt && (relid == InvalidOid || relid == g_checks.rel)) g_checks.stale = true;
}

// A function created, replaced or dropped: a check calling an SQL function was planned with its
// body inlined, which no invalidation of the queue renews (review of session 10: the old body
// kept being checked). Rare enough to plan them again after any.
void checks_on_function(Datum, int, uint32) {
    if (g_checks.cxt) g_checks.stale = true;
}

void prepare_checks(Relation rel, ResultRelInfo* rri, EState* estate) {
    TupleConstr* constr = RelationGetDescr(rel)->constr;
    if (!constr || constr->num_check == 0) return;
    if (!g_checks_callback) {
        CacheRegisterRelcacheCallback(checks_on_relcache, Datum(0));
        CacheRegisterSyscacheCallback(PROCOID, checks_on_function, Datum(0));
        g_checks_callback = true;
    }
    const int n = constr->num_check;
    if (!g_checks.cxt || g_checks.stale || g_checks.rel != RelationGetRelid(rel) || g_checks.n != n) {
        if (g_checks.cxt) MemoryContextDelete(g_checks.cxt);
        g_checks = QueueChecks{};
        MemoryContext cxt = AllocSetContextCreate(CacheMemoryContext, "pg_learn queue checks", ALLOCSET_SMALL_SIZES);
        Expr** exprs = static_cast<Expr**>(MemoryContextAlloc(cxt, sizeof(Expr*) * n));
        MemoryContext old = MemoryContextSwitchTo(cxt);
        PG_TRY();
        {
            for (int i = 0; i < n; i++)
                exprs[i] = expression_planner(static_cast<Expr*>(stringToNode(constr->check[i].ccbin)));
        }
        PG_CATCH();
        {
            MemoryContextSwitchTo(old);
            MemoryContextDelete(cxt);
            PG_RE_THROW();
        }
        PG_END_TRY();
        MemoryContextSwitchTo(old);
        g_checks.rel = RelationGetRelid(rel);
        g_checks.n = n;
        g_checks.cxt = cxt;
        g_checks.exprs = exprs;
    }
    MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
    rri->ri_ConstraintExprs = static_cast<ExprState**>(palloc(sizeof(ExprState*) * n));
    for (int i = 0; i < n; i++) rri->ri_ConstraintExprs[i] = ExecInitExpr(g_checks.exprs[i], nullptr);
    MemoryContextSwitchTo(old);
}

bool queue_direct(Oid nsp, const int64* ids, size_t n, const LabelRow& row, uint64& queued) {
    Oid queue_oid = get_relname_relid("ml_label_queue", nsp);
    if (!OidIsValid(g_log_rel) || !OidIsValid(queue_oid)) return false;
    Relation log = open_log(nsp, RowExclusiveLock);
    if (!log) return false;
    Relation queue = table_open(queue_oid, RowExclusiveLock);
    // ml_prediction_log: 1 prediction_id, 2 model_name, 3 version, 11 label, 12 labeled_at,
    // 16 label_class; ml_label_queue (prediction_id, model_name, version, label, queued_at, sync,
    // label_class, predicted_at); the log's 8 predicted_at
    const AttrNumber pk_att[1] = {1};
    Oid log_pkey = InvalidOid;
    bool ok = log->rd_rel->relkind == RELKIND_RELATION && queue->rd_rel->relkind == RELKIND_RELATION &&
              column_at(log, 1, "prediction_id", INT8OID) && column_at(log, 2, "model_name", TEXTOID) && column_at(log, 3, "version", INT4OID) &&
              column_at(log, 8, "predicted_at", TIMESTAMPTZOID) && column_at(log, 11, "label", FLOAT8OID) && column_at(log, 12, "labeled_at", TIMESTAMPTZOID) &&
              column_at(log, 16, "label_class", TEXTOID) && RelationGetDescr(queue)->natts == 8 && column_at(queue, 1, "prediction_id", INT8OID) &&
              column_at(queue, 2, "model_name", TEXTOID) && column_at(queue, 3, "version", INT4OID) && column_at(queue, 4, "label", FLOAT8OID) &&
              column_at(queue, 5, "queued_at", TIMESTAMPTZOID) && column_at(queue, 6, "sync", BOOLOID) && column_at(queue, 7, "label_class", TEXTOID) &&
              column_at(queue, 8, "predicted_at", TIMESTAMPTZOID) && own_triggers_only(log, TRIGGER_TYPE_UPDATE, nsp) && own_triggers_only(queue, TRIGGER_TYPE_INSERT, nsp);
    if (ok) log_pkey = leading_index(nsp, log, "ml_prediction_log_pkey", pk_att, 1);
    if (!OidIsValid(log_pkey)) {
        table_close(queue, NoLock);
        table_close(log, NoLock);
        return false;
    }
    // The queue's foreign keys, checked here when its only INSERT triggers are their RI checks:
    // the log's row is the one locked (and updated) below, held until the transaction ends as
    // FOR KEY SHARE would hold it; the version's row in ml_models is locked FOR KEY SHARE here,
    // as the RI check's query locks it. Otherwise the RI triggers are queued as before.
    Oid models_oid = get_relname_relid("ml_models", nsp);
    QueueKeys keys;
    if (OidIsValid(models_oid)) keys = queue_keys(queue, g_log_rel, models_oid);
    Relation models = nullptr, models_pkey = nullptr;
    if (keys.known && keys.models_fk) {
        models = table_open(models_oid, RowShareLock);
        const AttrNumber model_atts[2] = {1, 2};
        Oid idx = InvalidOid;
        if (models->rd_rel->relkind == RELKIND_RELATION && column_at(models, 1, "name", TEXTOID) && column_at(models, 2, "version", INT4OID))
            idx = leading_index(nsp, models, "ml_models_pkey", model_atts, 2);
        if (OidIsValid(idx)) {
            models_pkey = index_open(idx, AccessShareLock);
        } else {
            keys.known = false;
            table_close(models, NoLock);
            models = nullptr;
        }
    }

    CommandCounterIncrement();
    Snapshot snap = RegisterSnapshot(GetTransactionSnapshot());
    snap->curcid = GetCurrentCommandId(false);

    EState* estate = CreateExecutorState();
    RangeTblEntry* rte_log = makeNode(RangeTblEntry);
    rte_log->rtekind = RTE_RELATION;
    rte_log->relid = g_log_rel;
    rte_log->relkind = RELKIND_RELATION;
    rte_log->rellockmode = RowExclusiveLock;
    // the columns set: what UPDATE OF triggers (the monitoring one) are matched against
    for (AttrNumber att : {11, 12, 16})
        rte_log->updatedCols = bms_add_member(rte_log->updatedCols, att - FirstLowInvalidHeapAttributeNumber);
    RangeTblEntry* rte_queue = makeNode(RangeTblEntry);
    rte_queue->rtekind = RTE_RELATION;
    rte_queue->relid = queue_oid;
    rte_queue->relkind = RELKIND_RELATION;
    rte_queue->rellockmode = RowExclusiveLock;
    ExecInitRangeTable(estate, list_make2(rte_log, rte_queue));
    estate->es_snapshot = snap;
    estate->es_output_cid = GetCurrentCommandId(true);
    ResultRelInfo* log_rri = makeNode(ResultRelInfo);
    InitResultRelInfo(log_rri, log, 1, nullptr, 0);
    ExecOpenIndices(log_rri, false);
    ResultRelInfo* queue_rri = makeNode(ResultRelInfo);
    InitResultRelInfo(queue_rri, queue, 2, nullptr, 0);
    if (keys.known) queue_rri->ri_TrigDesc = nullptr;  // (the RI checks: done below)
    ExecOpenIndices(queue_rri, false);
    prepare_checks(queue, queue_rri, estate);
    TupleTableSlot* found = table_slot_create(log, nullptr);
    TupleTableSlot* locked = table_slot_create(log, nullptr);
    TupleTableSlot* updated = MakeSingleTupleTableSlot(RelationGetDescr(log), &TTSOpsVirtual);
    TupleTableSlot* qslot = MakeSingleTupleTableSlot(RelationGetDescr(queue), &TTSOpsVirtual);
    Relation pkey = index_open(log_pkey, RowExclusiveLock);
    const int natts = RelationGetDescr(log)->natts;
    TupleTableSlot* model_slot = models ? table_slot_create(models, nullptr) : nullptr;
    text* locked_name = nullptr;  // the version whose ml_models row is locked (FOR KEY SHARE) already
    int32 locked_version = 0;

    for (size_t i = 0; i < n; i++) {
        // The row version the snapshot sees.
        ScanKeyData k;
        eq_key(&k, pkey, 1, F_INT8EQ, Int64GetDatum(ids[i]));
        IndexScanDesc scan = index_beginscan(log, pkey, snap, 1, 0);
        index_rescan(scan, &k, 1, nullptr, 0);
        bool visible = index_getnext_slot(scan, ForwardScanDirection, found);
        index_endscan(scan);
        if (!visible) continue;  // (not reached: found by this statement's snapshot)
        // Its latest version, locked as UPDATE locks it.
        ItemPointerData tid = found->tts_tid;
        TM_FailureData tmfd;
        TM_Result res = table_tuple_lock(log, &tid, snap, locked, GetCurrentCommandId(false), LockTupleNoKeyExclusive,
                                         LockWaitBlock, TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &tmfd);
        if (res == TM_Ok && tmfd.traversed && IsolationUsesXactSnapshot())
            ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                            errmsg("could not serialize access due to concurrent update")));
        if (res == TM_Deleted) {
            if (IsolationUsesXactSnapshot())
                ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                                errmsg("could not serialize access due to concurrent delete")));
            continue;  // gone: nothing to label, as UPDATE finds nothing
        }
        if (res == TM_SelfModified) continue;  // (changed by this very command: UPDATE skips it too)
        if (res != TM_Ok) elog(ERROR, "pg_learn: unexpected result %d locking prediction %lld", static_cast<int>(res),
                               static_cast<long long>(ids[i]));
        slot_getallattrs(locked);
        // label IS NULL AND label_class IS NULL, rechecked on the version locked: a label is set once.
        if (!locked->tts_isnull[10] || !locked->tts_isnull[15]) continue;
        ExecClearTuple(updated);
        memcpy(updated->tts_values, locked->tts_values, sizeof(Datum) * natts);
        memcpy(updated->tts_isnull, locked->tts_isnull, sizeof(bool) * natts);
        updated->tts_values[10] = row.label;
        updated->tts_isnull[10] = row.label_class != 0;
        updated->tts_values[11] = TimestampTzGetDatum(row.now);
        updated->tts_isnull[11] = false;
        updated->tts_values[15] = row.label_class;
        updated->tts_isnull[15] = row.label_class == 0;
        ExecStoreVirtualTuple(updated);
        ExecSimpleRelationUpdate(log_rri, estate, nullptr, locked, updated);
        if (!row.queue) {
            ResetPerTupleExprContext(estate);
            continue;  // monitor-only: logged, not queued
        }

        ExecClearTuple(qslot);
        Datum* qv = qslot->tts_values;
        bool* qn = qslot->tts_isnull;
        qv[0] = Int64GetDatum(ids[i]);
        qv[1] = locked->tts_values[1];
        qv[2] = locked->tts_values[2];
        qv[3] = row.label;
        qv[4] = TimestampTzGetDatum(GetCurrentTimestamp());  // (the column's default: clock_timestamp())
        qv[5] = BoolGetDatum(row.sync);
        qv[6] = row.label_class;
        qv[7] = locked->tts_values[7];  // the prediction's predicted_at
        for (int j = 0; j < 8; j++) qn[j] = false;
        qn[7] = locked->tts_isnull[7];
        qn[1] = locked->tts_isnull[1];
        qn[2] = locked->tts_isnull[2];
        qn[3] = row.label_class != 0;
        qn[6] = row.label_class == 0;
        ExecStoreVirtualTuple(qslot);
        if (models) {
            text* name = DatumGetTextPP(qv[1]);
            if (!locked_name || locked_version != DatumGetInt32(qv[2]) ||
                VARSIZE_ANY_EXHDR(locked_name) != VARSIZE_ANY_EXHDR(name) ||
                memcmp(VARDATA_ANY(locked_name), VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name)) != 0) {
                lock_version_row(models, models_pkey, model_slot, snap, keys.models_fk_name, PointerGetDatum(name), qv[2]);
                locked_name = reinterpret_cast<text*>(pg_detoast_datum_copy(reinterpret_cast<struct varlena*>(name)));
                locked_version = DatumGetInt32(qv[2]);
            }
        }
        ExecSimpleRelationInsert(queue_rri, estate, qslot);
        ResetPerTupleExprContext(estate);
        queued++;
    }

    index_close(pkey, NoLock);
    if (models) {
        ExecDropSingleTupleTableSlot(model_slot);
        index_close(models_pkey, NoLock);
        table_close(models, NoLock);
    }
    ExecDropSingleTupleTableSlot(found);
    ExecDropSingleTupleTableSlot(locked);
    ExecDropSingleTupleTableSlot(updated);
    ExecDropSingleTupleTableSlot(qslot);
    ExecCloseIndices(log_rri);
    ExecCloseIndices(queue_rri);
    ExecResetTupleTable(estate->es_tupleTable, false);  // the AFTER triggers' slots (old row: a pinned buffer)
    FreeExecutorState(estate);
    UnregisterSnapshot(snap);
    table_close(queue, NoLock);
    table_close(log, NoLock);
    return true;
}

// The label as the log and the queue store it: a number (label), or a class (label_class).
void queue_label(const Attachment& a, const std::vector<int64>& ids, TimestampTz at, const core::Label& y, bool as_class,
                 bool queue, uint64& queued) {
    if (ids.empty()) return;
    std::string cls;
    double number = y.number;
    if (as_class) cls = core::class_of_label(y);
    else if (y.type == core::Label::Type::Text && !core::parse_number_label(y.text, number))
        fail(ErrorKind::Internal, "a text label that is not a number");  // (not reached: check_label refuses it)
    TimestampTz now = GetCurrentTimestamp();
    // Sync labels are queued too, marked: learn_sync learns them just before the transaction
    // commits. Unmarked ones wait for ml_learn_pending.
    bool direct = false;
    pg_guard([&]() {
        LabelRow row;
        row.label = as_class ? Datum(0) : Float8GetDatum(number);
        row.label_class = as_class ? PointerGetDatum(cstring_to_text_with_len(cls.data(), static_cast<int>(cls.size()))) : Datum(0);
        row.sync = a.sync;
        row.now = now;
        row.queue = queue;
        direct = queue_direct(g_nsp, ids.data(), ids.size(), row, queued);
    });
    if (direct) return;
    if (!queue) {
        // A monitor-only label through SPI (a partitioned log, a user's trigger on the log): the
        // UPDATE of the queueing statement, without its INSERT.
        spi_guard([&]() {
            Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * ids.size()));
            for (size_t i = 0; i < ids.size(); i++) elems[i] = Int64GetDatum(ids[i]);
            ArrayType* arr = construct_array(elems, static_cast<int>(ids.size()), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
            Oid types[5] = {INT8ARRAYOID, FLOAT8OID, TIMESTAMPTZOID, TEXTOID, TIMESTAMPTZOID};
            Datum args[5] = {PointerGetDatum(arr), Float8GetDatum(number), TimestampTzGetDatum(now),
                             as_class ? PointerGetDatum(cstring_to_text_with_len(cls.data(), static_cast<int>(cls.size())))
                                      : Datum(0),
                             TimestampTzGetDatum(at)};
            const char nulls[6] = {' ', as_class ? 'n' : ' ', ' ', as_class ? ' ' : 'n', ' ', '\0'};
            spi_run(schema_generic_plan(g_plans.label_only,
                                        "UPDATE %s.ml_prediction_log l SET label = $2, label_class = $4, labeled_at = $3"
                                        " WHERE l.prediction_id OPERATOR(pg_catalog.=) ANY ($1)"
                                        " AND l.predicted_at OPERATOR(pg_catalog.=) $5"
                                        " AND l.label IS NULL AND l.label_class IS NULL",
                                        5, types),
                    args, nulls, false, 0, SPI_OK_UPDATE, "logging a label");
        });
        return;
    }
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
            schema_generic_plan(g_plans.label_queue,
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
    queue_label(a, batch.ids, batch.predicted_at, y, false, true, n);
    queue_label(a, batch.class_ids, batch.predicted_at, y, true, true, n);
    uint64 logged = 0;
    queue_label(a, batch.monitor_ids, batch.predicted_at, y, false, false, logged);
    queue_label(a, batch.monitor_class_ids, batch.predicted_at, y, true, false, logged);
    if (a.sync && n > 0) sync_queued(nsp);
}

namespace {

// ---- finding the labelled predictions without SPI ---------------------------------------------

// A prediction of the key, as the find query returns it.
struct Found {
    int64 id;
    bool served, labelled, kind_null;
    std::string kind;
    TimestampTz at;    // predicted_at
    std::string task;  // the version's task (ml_models.task): a wrapper kind's task is its inner model's
    std::string model_name;
    int32 version = 0;
    TimestampTz created_at = 0;  // the version's (version_learns' cache)
};

// The find query of label_key done with two index scans and no executor: the predictions of
// (table, key) from the latest served one on, in prediction_id order, each with its version's
// kind and task. Same snapshot as the query run through SPI read-write (a new command, and in READ
// COMMITTED a fresh snapshot, so that a prediction committed while this statement waited for the
// row it labels is the one found). Returns false when the log or ml_models is not the plain table
// with the indexes this code knows (a partitioned log, a dropped index): the caller runs the query.
// Direct scans check no privileges, as the query run as the tables' owner would pass them.
// Plain PostgreSQL code, except out (filled after the scans).
bool find_direct(Oid nsp, const Attachment& a, text* key, std::vector<Found>& out) {
    if (!OidIsValid(g_log_rel)) return false;
    Oid models_oid = get_relname_relid("ml_models", nsp);
    if (!OidIsValid(models_oid)) return false;
    Relation log = open_log(nsp, AccessShareLock);
    if (!log) return false;
    // ml_prediction_log: 1 prediction_id, 2 model_name, 3 version, 5 served, 6 table_name, 7 key,
    // 11 label, 16 label_class; index (table_name, key)
    const AttrNumber log_atts[2] = {6, 7};
    Oid log_idx = InvalidOid;
    if (log->rd_rel->relkind == RELKIND_RELATION && column_at(log, 1, "prediction_id", INT8OID) && column_at(log, 2, "model_name", TEXTOID) &&
        column_at(log, 3, "version", INT4OID) && column_at(log, 5, "served", BOOLOID) && column_at(log, 6, "table_name", REGCLASSOID) &&
        column_at(log, 7, "key", TEXTOID) && column_at(log, 8, "predicted_at", TIMESTAMPTZOID) && column_at(log, 11, "label", FLOAT8OID) &&
        column_at(log, 16, "label_class", TEXTOID))
        log_idx = leading_index(nsp, log, "ml_prediction_log_table_key", log_atts, 2);
    if (!OidIsValid(log_idx)) {
        table_close(log, AccessShareLock);
        return false;
    }
    Relation models = table_open(models_oid, AccessShareLock);
    const AttrNumber model_atts[2] = {1, 2};
    Oid models_idx = InvalidOid;
    // (task was added by the 0.2.0 upgrade at the end of the table: found by name)
    AttrNumber task_att = get_attnum(models_oid, "task");
    if (models->rd_rel->relkind == RELKIND_RELATION && column_at(models, 1, "name", TEXTOID) && column_at(models, 2, "version", INT4OID) &&
        column_at(models, 4, "kind", TEXTOID) && column_at(models, 6, "created_at", TIMESTAMPTZOID) && task_att != InvalidAttrNumber &&
        column_at(models, task_att, "task", TEXTOID))
        models_idx = leading_index(nsp, models, "ml_models_pkey", model_atts, 2);
    if (!OidIsValid(models_idx)) {
        table_close(models, AccessShareLock);
        table_close(log, AccessShareLock);
        return false;
    }

    CommandCounterIncrement();
    Snapshot snap = RegisterSnapshot(GetTransactionSnapshot());
    snap->curcid = GetCurrentCommandId(false);

    struct Row {
        int64 id;
        bool served, labelled;
        Datum model_name;  // text, copied
        int32 version;
        TimestampTz at;  // predicted_at
    };
    List* rows = NIL;  // of Row*, palloc'd
    int64 latest_served = -1;
    {
        Relation idx = index_open(log_idx, AccessShareLock);
        ScanKeyData k[2];
        eq_key(&k[0], idx, 1, F_OIDEQ, ObjectIdGetDatum(a.rel));
        eq_key(&k[1], idx, 2, F_TEXTEQ, PointerGetDatum(key));
        TupleTableSlot* slot = table_slot_create(log, nullptr);
        IndexScanDesc scan = index_beginscan(log, idx, snap, 2, 0);
        index_rescan(scan, k, 2, nullptr, 0);
        while (index_getnext_slot(scan, ForwardScanDirection, slot)) {
            bool isnull = false;
            // (the index holds no collation-free duplicates of other keys; rechecked all the same)
            Datum t = slot_getattr(slot, 6, &isnull);
            if (isnull || DatumGetObjectId(t) != a.rel) continue;
            Datum kd = slot_getattr(slot, 7, &isnull);
            if (isnull || !DatumGetBool(DirectFunctionCall2Coll(texteq, idx->rd_indcollation[1], kd, PointerGetDatum(key))))
                continue;
            Row* r = static_cast<Row*>(palloc(sizeof(Row)));
            r->id = DatumGetInt64(slot_getattr(slot, 1, &isnull));
            r->served = DatumGetBool(slot_getattr(slot, 5, &isnull));
            bool no_label = false, no_class = false;
            slot_getattr(slot, 11, &no_label);
            slot_getattr(slot, 16, &no_class);
            r->labelled = !no_label || !no_class;
            r->model_name = PointerGetDatum(pg_detoast_datum_copy(reinterpret_cast<struct varlena*>(
                DatumGetPointer(slot_getattr(slot, 2, &isnull)))));
            r->version = DatumGetInt32(slot_getattr(slot, 3, &isnull));
            r->at = DatumGetTimestampTz(slot_getattr(slot, 8, &isnull));
            if (r->served && r->id > latest_served) latest_served = r->id;
            rows = lappend(rows, r);
        }
        index_endscan(scan);
        ExecDropSingleTupleTableSlot(slot);
        index_close(idx, AccessShareLock);
    }
    // From the latest served prediction on, in prediction_id order, each with its version's kind
    // (LEFT JOIN ml_models: NULL when the version is gone).
    std::vector<Row*> kept;
    ListCell* lc;
    foreach (lc, rows) {
        Row* r = static_cast<Row*>(lfirst(lc));
        if (latest_served >= 0 && r->id >= latest_served) kept.push_back(r);
    }
    std::sort(kept.begin(), kept.end(), [](const Row* x, const Row* y) { return x->id < y->id; });
    Relation midx = kept.empty() ? nullptr : index_open(models_idx, AccessShareLock);
    for (Row* r : kept) {
        ScanKeyData k[2];
        eq_key(&k[0], midx, 1, F_TEXTEQ, r->model_name);
        eq_key(&k[1], midx, 2, F_INT4EQ, Int32GetDatum(r->version));
        TupleTableSlot* slot = table_slot_create(models, nullptr);
        IndexScanDesc scan = index_beginscan(models, midx, snap, 2, 0);
        index_rescan(scan, k, 2, nullptr, 0);
        Found f{r->id, r->served, r->labelled, true, {}, r->at, {}, {}, r->version, 0};
        {
            text* mn = DatumGetTextPP(r->model_name);
            f.model_name.assign(VARDATA_ANY(mn), VARSIZE_ANY_EXHDR(mn));
        }
        if (index_getnext_slot(scan, ForwardScanDirection, slot)) {
            bool isnull = false, task_null = false, created_null = false;
            Datum kind = slot_getattr(slot, 4, &isnull);
            Datum task = slot_getattr(slot, task_att, &task_null);
            Datum created = slot_getattr(slot, 6, &created_null);
            if (!created_null) f.created_at = DatumGetTimestampTz(created);
            if (!isnull && !task_null) {
                text* kt = DatumGetTextPP(kind);
                f.kind_null = false;
                f.kind.assign(VARDATA_ANY(kt), VARSIZE_ANY_EXHDR(kt));
                text* tt = DatumGetTextPP(task);
                f.task.assign(VARDATA_ANY(tt), VARSIZE_ANY_EXHDR(tt));
            }
        }
        index_endscan(scan);
        ExecDropSingleTupleTableSlot(slot);
        out.push_back(std::move(f));
    }
    if (midx) index_close(midx, AccessShareLock);
    UnregisterSnapshot(snap);
    table_close(models, NoLock);
    table_close(log, NoLock);
    return true;
}

}  // namespace

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
    std::vector<Found> found;
    bool direct = false;
    pg_guard([&]() { direct = find_direct(nsp, a, key, found); });
    if (direct) {
        LabelBatch batch;
        for (size_t i = 0; i < found.size(); i++) {
            const Found& f = found[i];
            if (i == 0 && f.labelled) return;  // the served prediction has its label: set once
            if (i > 0 && f.served) continue;   // (not reached: the first row is the latest served one)
            if (i == 0) batch.predicted_at = f.at;
            if (f.labelled) continue;
            if (f.at != batch.predicted_at) continue;  // (not reached: one scoring shares it)
            if (f.kind_null) fail(ErrorKind::Internal, "the version that made prediction " + std::to_string(f.id) + " no longer exists");
            batch.add(f.id, f.kind, task_of_version(f.task), y, a.learn && version_learns(f.model_name, f.version, f.created_at));
        }
        if (!found.empty()) apply_label(nsp, a, batch, y);
        return;
    }
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
                     "SELECT l.prediction_id, l.served, l.label IS NOT NULL OR l.label_class IS NOT NULL, m.kind, l.predicted_at, m.task,"
                     " l.model_name, l.version, m.created_at"
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
                schema_generic_plan(g_plans.find,
                     "SELECT l.prediction_id, l.served, l.label IS NOT NULL OR l.label_class IS NOT NULL, m.kind, l.predicted_at, m.task,"
                     " l.model_name, l.version, m.created_at"
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
        Datum d[9];
        bool dn[9];
        spi_row(tt, i, 9, d, dn);
        bool served = DatumGetBool(d[1]), labelled = DatumGetBool(d[2]);
        if (i == 0 && labelled) return;  // the served prediction has its label: set once
        if (i > 0 && served) continue;   // (not reached: the first row is the latest served one)
        if (i == 0) batch.predicted_at = DatumGetTimestampTz(d[4]);
        if (labelled) continue;
        if (DatumGetTimestampTz(d[4]) != batch.predicted_at) continue;  // (not reached: one scoring shares it)
        if (dn[3]) fail(ErrorKind::Internal, "the version that made prediction " + std::to_string(DatumGetInt64(d[0])) + " no longer exists");
        const std::string kind = text_of(d[3]);
        const std::string model_name = text_of(d[6]);
        const bool learns = a.learn && version_learns(model_name, DatumGetInt32(d[7]), DatumGetTimestampTz(d[8]));
        // (version_learns may run SPI: the result read above is the query's, read before)
        batch.add(DatumGetInt64(d[0]), kind, task_of_version(text_of(d[5])), y, learns);
    }
    apply_label(nsp, a, batch, y);
}

}  // namespace pg_learn::pg::feedback
