// The prediction log: rows written directly (heap and indexes) or through SPI, served and shadow.
#include "pg/feedback/feedback.hpp"
#include "pg/models/explain.hpp"
#include "pg/monitoring/inbox.hpp"

extern "C" {
#include "access/genam.h"
#include "catalog/pg_trigger.h"
#include "tcop/utility.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
}

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;

namespace pg_learn::pg::feedback {

// ---- writing the log -------------------------------------------------------------------------

// The log's rows are inserted directly (heap and indexes, with its constraints checked), not
// through SPI: starting an executor per row would cost more than the row itself. While the log
// table has triggers of its own (pg_learn creates none), or columns this code does not know, rows
// go through SPI.
//
// What the insert needs is built once per backend, not once per transaction (issue 12 item 7: it
// cost every transaction that logged about 12k instructions): the checks of the log's shape, its
// indexes' IndexInfo, the result relation with its trigger descriptor, a slot and an executor
// state (where constraint expressions are prepared once), in a memory context of their own. A
// relcache invalidation of the log or of one of its indexes (any DDL on them, ml_partition_log,
// DROP EXTENSION, a full cache reset) marks it stale, and the next transaction that logs builds
// it again. The locks and the relcache references are still taken in every transaction (table_open
// and index_open, owned by the top transaction, so that a subtransaction that rolls back leaves
// them) and dropped before commit (the locks stay until the end of the transaction).
struct LogShape {
    bool valid = false;
    bool stale = false;
    Oid relid = InvalidOid;
    bool direct = false;
    MemoryContext cxt = nullptr;
    EState* estate = nullptr;
    ResultRelInfo* rri = nullptr;
    TupleTableSlot* slot = nullptr;
    int nindexes = 0;
    Oid* index_oids = nullptr;
    // Monitoring's trigger ml_monitor_prediction is the log's only INSERT trigger, enabled as it is
    // created: its events are queued by inbox_add, in bulk, instead of as trigger events.
    bool inbox = false;
};
LogShape g_shape;

// This transaction's use of it.
struct LogWriter {
    LocalTransactionId lxid = InvalidLocalTransactionId;
    bool open = false;
    bool direct = false;
    Relation rel = nullptr;
    EState* estate = nullptr;
    ResultRelInfo* rri = nullptr;
    TupleTableSlot* slot = nullptr;
    Oid seq = InvalidOid;
};
LogWriter g_log;
bool g_log_callbacks = false;
// A row being inserted (ExecSimpleRelationInsert: its CHECKs and index entries may run a user's
// function), when the references must stay.
int g_log_inserting = 0;
ProcessUtility_hook_type g_prev_utility = nullptr;

constexpr int kLogColumns = 22;
const char* const kLogColumnNames[kLogColumns] = {
    "prediction_id", "model_name", "version", "variant", "served", "table_name", "key",
    "predicted_at", "score", "features", "label", "labeled_at", "learned_at",
    "predicted_class", "probabilities", "label_class",
    "unknown_features", "unknown_categories", "missing_features", "type_mismatches", "segment", "explanation"};
// Their types, as the values are made (a column altered to another type or with a length, e.g.
// numeric or varchar(n), takes the SPI path, where the INSERT converts and checks the value).
const Oid kLogColumnTypes[kLogColumns] = {
    INT8OID, TEXTOID, INT4OID, TEXTOID, BOOLOID, REGCLASSOID, TEXTOID, TIMESTAMPTZOID, FLOAT8OID, JSONBOID,
    FLOAT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, JSONBOID, TEXTOID,
    INT4OID, INT4OID, INT4OID, INT4OID, TEXTOID, JSONBOID};

// Plain PostgreSQL code. Drops this transaction's references (commit: the locks stay until its
// end; abort: the resource owner releases them). The shape stays.
void log_close(bool commit) {
    if (g_log.open && commit && g_log.direct) {
        ResourceOwner save = CurrentResourceOwner;
        CurrentResourceOwner = TopTransactionResourceOwner;
        ResultRelInfo* rri = g_log.rri;
        for (int i = 0; i < rri->ri_NumIndices; i++) {
            if (rri->ri_IndexRelationDescs[i]) index_close(rri->ri_IndexRelationDescs[i], NoLock);
            rri->ri_IndexRelationDescs[i] = nullptr;
        }
        table_close(g_log.rel, NoLock);
        rri->ri_RelationDesc = nullptr;
        CurrentResourceOwner = save;
    } else if (g_shape.rri) {
        // After an abort the pointers are not to be used again before the next open sets them.
        for (int i = 0; i < g_shape.rri->ri_NumIndices; i++) g_shape.rri->ri_IndexRelationDescs[i] = nullptr;
        g_shape.rri->ri_RelationDesc = nullptr;
    }
    g_log = LogWriter{};
}

void log_on_xact(XactEvent event, void*) {
    switch (event) {
        case XACT_EVENT_PRE_COMMIT:
        case XACT_EVENT_PARALLEL_PRE_COMMIT:
        case XACT_EVENT_PRE_PREPARE: log_close(true); break;
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PARALLEL_ABORT:
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_PARALLEL_COMMIT:
        case XACT_EVENT_PREPARE: log_close(false); break;
    }
}

// DDL on the log in the transaction that logged (CREATE INDEX or TRUNCATE on it, ml_partition_log,
// DROP EXTENSION): PostgreSQL refuses to change a table the session still has open ("cannot ALTER
// TABLE because it is being used by active queries in this session"), and the writer's relation
// and index references were kept until commit. They are dropped before every utility statement
// (the locks stay until the transaction ends); the next row logged opens them again. Utility
// statements are rare beside rows: the cost is one test per statement.
void log_on_utility(PlannedStmt* pstmt, const char* query, bool read_only_tree, ProcessUtilityContext context,
                    ParamListInfo params, QueryEnvironment* env, DestReceiver* dest, QueryCompletion* qc) {
    if (g_log.open && g_log_inserting == 0) log_close(true);
    if (g_prev_utility) g_prev_utility(pstmt, query, read_only_tree, context, params, env, dest, qc);
    else standard_ProcessUtility(pstmt, query, read_only_tree, context, params, env, dest, qc);
}

void log_on_relcache(Datum, Oid relid) {
    if (!g_shape.valid) return;
    bool mine = relid == InvalidOid || relid == g_shape.relid;
    for (int i = 0; !mine && i < g_shape.nindexes; i++) mine = relid == g_shape.index_oids[i];
    if (mine) g_shape.stale = true;
}

// A function created, replaced or dropped: a CHECK of the log that calls an SQL function was
// planned with its body inlined (expression_planner), which a relcache invalidation of the log
// does not renew; an INSERT plans its checks again (review of session 10: the writer kept
// checking the old body). Rare enough to build the shape again after any.
void log_on_function(Datum, int, uint32) {
    if (g_shape.valid) g_shape.stale = true;
}

// Builds the shape for rel (opened with RowExclusiveLock, as the top transaction's resource owner,
// in CurrentMemoryContext of the transaction), its indexes opened for this transaction as well.
void log_shape_build(Relation rel) {
    if (g_shape.cxt) MemoryContextDelete(g_shape.cxt);
    g_shape = LogShape{};
    g_shape.cxt = AllocSetContextCreate(CacheMemoryContext, "pg_learn prediction log writer", ALLOCSET_SMALL_SIZES);
    MemoryContext old = MemoryContextSwitchTo(g_shape.cxt);
    TupleDesc desc = RelationGetDescr(rel);
    // (Foreign keys referencing the log give it triggers for UPDATE and DELETE, which an insert
    // does not fire.) The monitoring trigger ml_monitor_prediction (AFTER ROW) is queued by
    // ExecSimpleRelationInsert as an INSERT would queue it, and fires at the end of the
    // statement's trigger round, at the same query level; any other trigger: SPI (labels.cpp).
    bool direct = desc->natts == kLogColumns && rel->rd_rel->relkind == RELKIND_RELATION &&
                  own_triggers_only(rel, TRIGGER_TYPE_INSERT, g_nsp);
    for (int i = 0; direct && i < kLogColumns; i++) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        direct = !att->attisdropped && strcmp(NameStr(att->attname), kLogColumnNames[i]) == 0 &&
                 att->atttypid == kLogColumnTypes[i] && att->atttypmod == -1;
    }
    LogShape s;
    s.cxt = g_shape.cxt;
    s.relid = RelationGetRelid(rel);
    s.direct = direct;
    if (direct) {
        s.estate = CreateExecutorState();
        RangeTblEntry* rte = makeNode(RangeTblEntry);
        rte->rtekind = RTE_RELATION;
        rte->relid = s.relid;
        rte->relkind = RELKIND_RELATION;
        rte->rellockmode = RowExclusiveLock;
        ExecInitRangeTable(s.estate, list_make1(rte));
        s.rri = makeNode(ResultRelInfo);
        InitResultRelInfo(s.rri, rel, 1, nullptr, 0);
        ExecOpenIndices(s.rri, false);  // index_open with RowExclusiveLock, IndexInfo built here
        s.nindexes = s.rri->ri_NumIndices;
        s.index_oids = static_cast<Oid*>(palloc0(sizeof(Oid) * (s.nindexes + 1)));
        for (int i = 0; i < s.nindexes; i++) s.index_oids[i] = RelationGetRelid(s.rri->ri_IndexRelationDescs[i]);
        // Monitoring's AFTER ROW trigger (ml_monitor_enqueue) made a trigger event for every logged
        // prediction, fired at the end of the statement to insert one inbox row (about 7k
        // instructions a row, issue 12 item 7): when it is the log's only INSERT trigger, enabled
        // as created (fires on origin), the writer queues the same event itself (1: a prediction
        // without label) and the inbox rows are written together. The result relation's copy of
        // the trigger descriptor then fires no INSERT trigger.
        TriggerDesc* td = s.rri->ri_TrigDesc;
        if (td && td->trig_insert_after_row && !td->trig_insert_before_row && !td->trig_insert_instead_row &&
            !td->trig_insert_after_statement && !td->trig_insert_before_statement && !td->trig_insert_new_table) {
            int monitors = 0, others = 0;
            for (int i = 0; i < td->numtriggers; i++) {
                const Trigger& t = td->triggers[i];
                if (!(t.tgtype & TRIGGER_TYPE_INSERT)) continue;
                if (is_monitor_trigger(t, g_nsp) && t.tgenabled == TRIGGER_FIRES_ON_ORIGIN && !t.tgqual && t.tgnargs == 0)
                    monitors++;
                else
                    others++;
            }
            if (monitors == 1 && others == 0) {
                td->trig_insert_after_row = false;
                s.inbox = true;
            }
        }
        // A copy of the descriptor: a slot over the relcache's would pin it in the transaction's
        // resource owner.
        s.slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(desc), &TTSOpsVirtual);
    }
    MemoryContextSwitchTo(old);
    s.valid = true;
    g_shape = s;
}

void log_open(Oid relid) {
    if (!g_log_callbacks) {
        RegisterXactCallback(log_on_xact, nullptr);
        CacheRegisterRelcacheCallback(log_on_relcache, Datum(0));
        CacheRegisterSyscacheCallback(PROCOID, log_on_function, Datum(0));
        g_log_callbacks = true;
    }
    if (g_log.open && g_log.lxid != MyProc->lxid) log_close(false);  // a transaction we missed the end of
    if (g_log.open && (g_shape.stale || g_shape.relid != relid)) log_close(true);
    if (g_log.open) return;
    ResourceOwner save = CurrentResourceOwner;
    CurrentResourceOwner = TopTransactionResourceOwner;
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    Relation rel = try_table_open(relid, RowExclusiveLock);  // takes in any invalidation of the shape
    // The log replaced while its lock was awaited (ml_partition_log committed in another session
    // after this statement looked the log up): its name now names another table (or none: an
    // empty log is dropped), and its identity sequence is gone. Looked up again, as a statement
    // naming it looks it up after locking (review of session 10: "could not open relation").
    for (Oid now; !rel || (now = get_relname_relid("ml_prediction_log", g_nsp)) != relid;) {
        if (rel) table_close(rel, RowExclusiveLock);
        now = get_relname_relid("ml_prediction_log", g_nsp);
        if (!OidIsValid(now))
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("the pg_learn table ml_prediction_log does not exist")));
        check_schema(g_nsp);  // g_log_rel and g_log_seq of the log there now
        relid = now;
        rel = try_table_open(relid, RowExclusiveLock);
    }
    bool built = false;
    if (!g_shape.valid || g_shape.stale || g_shape.relid != relid) {
        log_shape_build(rel);
        built = true;
    }
    LogWriter w;
    w.lxid = MyProc->lxid;
    w.open = true;
    w.direct = g_shape.direct;
    if (g_shape.direct) {
        ResultRelInfo* rri = g_shape.rri;
        if (!built) {
            for (int i = 0; i < g_shape.nindexes; i++)
                rri->ri_IndexRelationDescs[i] = index_open(g_shape.index_oids[i], RowExclusiveLock);
            if (g_shape.stale) {
                // An index changed while its lock was awaited: build again, with what is known now.
                for (int i = 0; i < g_shape.nindexes; i++) index_close(rri->ri_IndexRelationDescs[i], NoLock);
                log_shape_build(rel);
                rri = g_shape.rri;
                w.direct = g_shape.direct;
            }
        }
        if (w.direct) {
            rri->ri_RelationDesc = rel;
            // An index AM's per-insert cache (BRIN's, GIN's) holds the index's descriptor: it lives
            // with this transaction's references.
            for (int i = 0; i < rri->ri_NumIndices; i++) {
                rri->ri_IndexRelationInfo[i]->ii_AmCache = nullptr;
                rri->ri_IndexRelationInfo[i]->ii_Context = TopTransactionContext;
            }
            w.rel = rel;
            w.estate = g_shape.estate;
            w.rri = rri;
            w.slot = g_shape.slot;
            w.seq = g_log_seq;
        }
    }
    if (!w.direct) table_close(rel, NoLock);
    CurrentResourceOwner = save;
    MemoryContextSwitchTo(old);
    g_log = w;
}

// Inserts one row (values in the log's column order, prediction_id filled here); returns its id.
int64 log_insert_direct(Datum* values, bool* nulls) {
    int64 id = nextval_internal(g_log.seq, false);
    values[0] = Int64GetDatum(id);
    nulls[0] = false;
    TupleTableSlot* slot = g_log.slot;
    ExecClearTuple(slot);
    memcpy(slot->tts_values, values, sizeof(Datum) * kLogColumns);
    memcpy(slot->tts_isnull, nulls, sizeof(bool) * kLogColumns);
    ExecStoreVirtualTuple(slot);
    g_log.estate->es_output_cid = GetCurrentCommandId(true);
    g_log_inserting++;
    PG_TRY();
    {
        ExecSimpleRelationInsert(g_log.rri, g_log.estate, slot);
    }
    PG_FINALLY();
    {
        g_log_inserting--;
    }
    PG_END_TRY();
    ResetPerTupleExprContext(g_log.estate);
    // (the trigger would not fire in a session with session_replication_role = replica)
    if (g_shape.inbox && SessionReplicationRole != SESSION_REPLICATION_ROLE_REPLICA) inbox_add(g_nsp, id, 1);
    return id;
}

void log_writer_init() {
    g_prev_utility = ProcessUtility_hook;
    ProcessUtility_hook = log_on_utility;
}

// ---- logging ---------------------------------------------------------------------------------

// Logs the served prediction and every shadow's (SPI connected as the owner).
void log_predictions(Oid nsp, LazySpi& spi, const Attachment& a, text* key, Served served, const Prediction& served_pred,
                     const core::FeatureCheck& check, Jsonb* features, const core::Observation& obs,
                     std::vector<Logged>& logged) {
    logged.clear();
    TimestampTz now = GetCurrentTimestamp();
    pg_guard([&]() { log_open(g_log_rel); });
    auto insert = [&](const std::string& alias, const DeployedModel& m, bool is_served, const Prediction& p,
                      const core::FeatureCheck& c) {
        // The row in the log's column order; the SPI path binds columns 1 to 21 as $1 to $21
        // (label, labeled_at, learned_at and label_class stay NULL).
        const std::string segment = m.model->segment(obs);  // "" (NULL): the model has no segments
        // explain => true (issue 16 item 6): the version's explanation of the row, or its error.
        const Datum explanation = a.explain ? explanation_of(*m.model, obs) : Datum(0);
        Datum values[kLogColumns];
        bool nulls[kLogColumns];
        pg_guard([&]() {
            for (int i = 0; i < kLogColumns; i++) nulls[i] = true;
            values[1] = PointerGetDatum(cstring_to_text_with_len(a.model.data(), static_cast<int>(a.model.size())));
            values[2] = Int32GetDatum(m.version);
            values[3] = PointerGetDatum(cstring_to_text_with_len(alias.data(), static_cast<int>(alias.size())));
            values[4] = BoolGetDatum(is_served);
            values[5] = ObjectIdGetDatum(a.rel);
            values[6] = PointerGetDatum(key);
            values[7] = TimestampTzGetDatum(now);
            values[8] = Float8GetDatum(p.score);
            values[9] = JsonbPGetDatum(features);
            for (int i = 1; i <= 9; i++) nulls[i] = false;
            nulls[8] = p.score_null;
            values[13] = p.predicted_class;
            nulls[13] = p.class_null;
            values[14] = p.probabilities;
            nulls[14] = p.probabilities == 0;
            // Feature mismatches, NULL when the version cannot tell (it knows no names, or not all).
            const uint32_t counts[4] = {c.unknown_features, c.unknown_categories, c.missing_features, c.type_mismatches};
            for (int i = 0; i < 4; i++) {
                values[16 + i] = Int32GetDatum(static_cast<int32>(std::min<uint32_t>(counts[i], PG_INT32_MAX)));
                nulls[16 + i] = !c.names_known;
            }
            if (!segment.empty()) {
                values[20] = PointerGetDatum(cstring_to_text_with_len(segment.data(), static_cast<int>(segment.size())));
                nulls[20] = false;
            }
            values[21] = explanation;
            nulls[21] = explanation == 0;
        });
        int64 id = 0;
        if (g_log.direct) {
            pg_guard([&]() { id = log_insert_direct(values, nulls); });
            logged.push_back({id, m, now});
            return;
        }
        spi.need();
        spi_guard([&]() {
            Oid types[21] = {TEXTOID, INT4OID, TEXTOID, BOOLOID, REGCLASSOID, TEXTOID, TIMESTAMPTZOID, FLOAT8OID, JSONBOID,
                             FLOAT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, JSONBOID, TEXTOID,
                             INT4OID, INT4OID, INT4OID, INT4OID, TEXTOID, JSONBOID};
            char n[22];
            for (int i = 0; i < 21; i++) n[i] = nulls[i + 1] ? 'n' : ' ';
            n[21] = '\0';
            spi_run(schema_plan(g_plans.log,
                                "INSERT INTO %s.ml_prediction_log (model_name, version, variant, served, table_name, key,"
                                " predicted_at, score, features, label, labeled_at, learned_at, predicted_class,"
                                " probabilities, label_class, unknown_features, unknown_categories, missing_features,"
                                " type_mismatches, segment, explanation) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
                                " $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) RETURNING prediction_id",
                                21, types),
                    values + 1, n, false, 1, SPI_OK_INSERT_RETURNING, "logging a prediction");
            bool isnull = false;
            id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
        });
        logged.push_back({id, m, now});
    };
    insert(*served.alias, served.model, true, served_pred, check);
    for (const std::string& shadow : a.shadows) {
        DeployedModel m = statement_model(nsp, a.model, shadow);
        check_reads_timestamps(a, *m.model, shadow, m.version);
        const Prediction p = predict_row(*m.model, obs, true);
        core::FeatureCheck& c = state().shadow_check;
        m.model->check_features(obs, c);
        insert(shadow, m, false, p, c);
    }
}

}  // namespace pg_learn::pg::feedback
