// Monitoring's inbox events of the predictions the log writer inserts itself: buffered, written
// in bulk (see inbox.hpp). Plain PostgreSQL code: nothing here owns a C++ object.
#include "pg/monitoring/inbox.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
}

namespace pg_learn::pg {

namespace {

struct Event {
    int64 id;
    SubTransactionId subxid;
    int16 events;
};

// An event of an outer subtransaction (owner, its log row's) written in an inner one (in) by
// inbox_write_pending, kept until the two share one fate again.
struct Written {
    int64 id;
    SubTransactionId owner;
    SubTransactionId in;
    int16 events;
};

// The events not written yet, in the order they were queued, and those written early, in
// TopMemoryContext. g_events has room for both (g_count + g_wcount <= g_cap), so that an event
// written early can be queued again while a subtransaction aborts, without allocating.
Event* g_events = nullptr;
int g_count = 0;
int g_cap = 0;
Written* g_written = nullptr;
int g_wcount = 0;
int g_wcap = 0;
Oid g_inbox_nsp = InvalidOid;
// The inbox of g_inbox_oid_nsp, looked up by name once per backend and again after a relcache
// invalidation of it (DROP or ALTER of the table, DROP EXTENSION, ALTER EXTENSION UPDATE, a cache
// reset): the look-up by name cost a one-row INSERT ~3.5k instructions.
Oid g_inbox_oid = InvalidOid;
Oid g_inbox_oid_nsp = InvalidOid;
bool g_installed = false;
bool g_relcache_registered = false;
// Whether the inbox g_direct_relid is exactly as the extension creates it (inbox_is_direct), so
// that its rows may be written directly; cleared with g_inbox_oid by a relcache invalidation of it.
Oid g_direct_relid = InvalidOid;
bool g_direct = false;
// Events being written (flush): the executor's end of the INSERT that writes them, or of a
// statement of a user's trigger on the inbox, writes nothing more meanwhile.
bool g_flushing = false;
ExecutorFinish_hook_type g_prev_finish = nullptr;

// A statement that logs more rows (a COPY, a large INSERT ... SELECT) writes its events every
// kFlushAt rows instead of holding them all.
constexpr int kFlushAt = 8192;
constexpr int kBatch = 1000;  // rows per heap_multi_insert

void on_relcache(Datum, Oid relid) {
    if (relid == InvalidOid || relid == g_inbox_oid) g_inbox_oid = InvalidOid;
    if (relid == InvalidOid || relid == g_direct_relid) g_direct_relid = InvalidOid;
}

void register_relcache() {
    if (g_relcache_registered) return;
    CacheRegisterRelcacheCallback(on_relcache, Datum(0));
    g_relcache_registered = true;
}

// The inbox's columns as created, and its one CHECK (events BETWEEN 1 AND 3) as deparsed.
const char* const kColumnNames[2] = {"prediction_id", "events"};
const Oid kColumnTypes[2] = {INT8OID, INT2OID};
const char* const kOwnCheck = "((events >= 1) AND (events <= 3))";

// Whether rel is the inbox exactly as created: a plain heap table with its two columns (none
// dropped or added, no identity, default or generated value), no index, trigger, rule or row
// security, and no constraint but NOT NULL and the extension's own CHECK, which the events
// written always pass. Then a heap insert does all an INSERT would.
bool compute_direct(Relation rel) {
    const Form_pg_class c = rel->rd_rel;
    // (relhasindex and relhastriggers stay true after the last index or trigger is dropped)
    if (c->relkind != RELKIND_RELATION || c->relam != HEAP_TABLE_AM_OID || c->relrowsecurity || rel->trigdesc ||
        rel->rd_rules)
        return false;
    if (RelationGetIndexList(rel) != NIL) return false;
    TupleDesc desc = RelationGetDescr(rel);
    if (desc->natts != 2) return false;
    for (int i = 0; i < 2; i++) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        if (att->attisdropped || att->atttypid != kColumnTypes[i] || att->atttypmod != -1 || att->atthasdef ||
            att->attidentity || att->attgenerated || strcmp(NameStr(att->attname), kColumnNames[i]) != 0)
            return false;
    }
    if (const TupleConstr* constr = desc->constr) {
        if (constr->num_defval || constr->has_generated_stored || constr->num_check > 1) return false;
        if (constr->num_check == 1) {
            List* cxt = deparse_context_for(RelationGetRelationName(rel), RelationGetRelid(rel));
            char* text = deparse_expression(static_cast<Node*>(stringToNode(constr->check[0].ccbin)), cxt, false, false);
            if (strcmp(text, kOwnCheck) != 0) return false;
        }
    }
    return true;
}

// Whether the inbox rel (open) is as created, cached until a relcache invalidation of it.
bool inbox_is_direct(Relation rel) {
    register_relcache();
    if (g_direct_relid != RelationGetRelid(rel)) {
        g_direct = compute_direct(rel);
        g_direct_relid = RelationGetRelid(rel);
    }
    return g_direct;
}

// Writes n events into the inbox rel (open, and closed here) with an INSERT, as the inbox's owner
// (the owner of the extension's tables), for an inbox a user changed: the executor adds the index
// entries, fires the triggers, checks the constraints and converts the values to the columns'
// types, or fails with the INSERT's own error.
void insert_events(Relation rel, const int64* ids, const int16* events, int n) {
    const Oid owner = rel->rd_rel->relowner;
    const char* sql = psprintf(
        "INSERT INTO %s.%s (prediction_id, events) "
        "SELECT * FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), pg_catalog.unnest($2::pg_catalog.int2[]))",
        quote_identifier(get_namespace_name(RelationGetNamespace(rel))), quote_identifier(RelationGetRelationName(rel)));
    table_close(rel, NoLock);
    Datum* d1 = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    Datum* d2 = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    for (int i = 0; i < n; i++) {
        d1[i] = Int64GetDatum(ids[i]);
        d2[i] = Int16GetDatum(events[i]);
    }
    Oid types[2] = {INT8ARRAYOID, INT2ARRAYOID};
    Datum args[2] = {PointerGetDatum(construct_array(d1, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)),
                     PointerGetDatum(construct_array(d2, n, INT2OID, 2, true, TYPALIGN_SHORT))};
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_learn: SPI_connect failed");
    Oid saved_user = InvalidOid;
    int saved_sec = 0;
    GetUserIdAndSecContext(&saved_user, &saved_sec);
    SetUserIdAndSecContext(owner, saved_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    // (Before commit no snapshot is active: the INSERT takes one, as deferred triggers do there.)
    const bool pushed = !ActiveSnapshotSet();
    if (pushed) PushActiveSnapshot(GetTransactionSnapshot());
    PG_TRY();
    {
        const int rc = SPI_execute_with_args(sql, 2, types, args, nullptr, false, 0);
        if (rc != SPI_OK_INSERT) elog(ERROR, "pg_learn: writing the inbox's events failed: %s", SPI_result_code_string(rc));
    }
    PG_FINALLY();
    {
        SetUserIdAndSecContext(saved_user, saved_sec);
    }
    PG_END_TRY();
    SPI_finish();
    if (pushed) PopActiveSnapshot();
}

// Opens the inbox with RowExclusiveLock. Taking the lock processes the invalidations other
// sessions committed meanwhile: when one was the inbox's (dropped, or recreated under another OID
// by DROP and CREATE EXTENSION), it is looked up by name again.
Relation open_inbox() {
    for (;;) {
        if (!OidIsValid(g_inbox_oid) || g_inbox_oid_nsp != g_inbox_nsp) {
            const Oid oid = get_relname_relid("ml_monitor_inbox", g_inbox_nsp);
            if (!OidIsValid(oid))
                ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("the pg_learn table ml_monitor_inbox does not exist")));
            g_inbox_oid = oid;
            g_inbox_oid_nsp = g_inbox_nsp;
        }
        const Oid oid = g_inbox_oid;
        Relation rel = try_relation_open(oid, RowExclusiveLock);
        if (rel && g_inbox_oid == oid) return rel;
        if (rel) relation_close(rel, NoLock);
        g_inbox_oid = InvalidOid;
    }
}

// Writes the queued events of the current subtransaction, or all of them (before commit, when no
// subtransaction is left; inbox_write_pending, which records those of outer subtransactions in
// g_written), and keeps the others.
void flush(bool all, bool at_commit = false) {
    if (g_count == 0 || g_flushing) return;
    const SubTransactionId cur = GetCurrentSubTransactionId();
    int n = 0, outer = 0;
    for (int i = 0; i < g_count; i++) {
        if (g_events[i].subxid == cur) n++;
        else if (all) outer++;
    }
    if (n + outer == 0) return;
    if (g_wcount + outer > g_wcap) {
        const int cap = Max(Max(2 * g_wcap, g_wcount + outer), 16);
        g_written = static_cast<Written*>(g_written ? repalloc(g_written, sizeof(Written) * cap)
                                                    : MemoryContextAlloc(TopMemoryContext, sizeof(Written) * cap));
        g_wcap = cap;
    }
    // The events queued meanwhile (by a user's trigger on the inbox that logs predictions) follow
    // these and stay queued.
    const int count = g_count;
    MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "pg_learn inbox events", ALLOCSET_DEFAULT_SIZES);
    MemoryContext old = MemoryContextSwitchTo(cxt);
    Relation inbox = open_inbox();
    if (inbox_is_direct(inbox)) {
        TupleDesc desc = RelationGetDescr(inbox);
        const int nslots = Min(n + outer, kBatch);
        TupleTableSlot** slots = static_cast<TupleTableSlot**>(palloc(sizeof(TupleTableSlot*) * nslots));
        for (int j = 0; j < nslots; j++) slots[j] = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
        const CommandId cid = GetCurrentCommandId(true);
        int filled = 0;
        for (int i = 0; i < count; i++) {
            const Event e = g_events[i];
            if (!all && e.subxid != cur) continue;
            TupleTableSlot* s = slots[filled++];
            ExecClearTuple(s);
            s->tts_values[0] = Int64GetDatum(e.id);
            s->tts_values[1] = Int16GetDatum(e.events);
            s->tts_isnull[0] = s->tts_isnull[1] = false;
            ExecStoreVirtualTuple(s);
            if (filled == nslots) {
                heap_multi_insert(inbox, slots, filled, cid, 0, nullptr);
                filled = 0;
            }
        }
        if (filled > 0) heap_multi_insert(inbox, slots, filled, cid, 0, nullptr);
        for (int j = 0; j < nslots; j++) ExecDropSingleTupleTableSlot(slots[j]);
        table_close(inbox, NoLock);
    } else {
        int64* ids = static_cast<int64*>(palloc(sizeof(int64) * (n + outer)));
        int16* evs = static_cast<int16*>(palloc(sizeof(int16) * (n + outer)));
        int k = 0;
        for (int i = 0; i < count; i++) {
            if (!all && g_events[i].subxid != cur) continue;
            ids[k] = g_events[i].id;
            evs[k++] = g_events[i].events;
        }
        g_flushing = true;
        PG_TRY();
        {
            insert_events(inbox, ids, evs, k);
            // Before commit the deferred triggers have fired already: those the INSERT queued (a
            // user's deferred constraint trigger on the inbox) fire now, as they would at commit.
            if (at_commit) AfterTriggerFireDeferred();
        }
        PG_FINALLY();
        {
            g_flushing = false;
        }
        PG_END_TRY();
    }
    MemoryContextSwitchTo(old);
    MemoryContextDelete(cxt);
    // Every row is in (an error above leaves the queue as it was, its rows rolled back with the
    // subtransaction): the events written leave the queue, those of outer subtransactions recorded.
    int kept = 0;
    for (int i = 0; i < g_count; i++) {
        const Event e = g_events[i];
        if (i < count && e.subxid == cur) continue;
        if (i < count && all) g_written[g_wcount++] = Written{e.id, e.subxid, cur, e.events};
        else g_events[kept++] = e;
    }
    g_count = kept;
}

void forget_all() {
    g_count = 0;
    g_wcount = 0;
    if (g_cap > 2 * kFlushAt) {  // give back what a large transaction made the buffer grow to
        pfree(g_events);
        g_events = nullptr;
        g_cap = 0;
    }
    if (g_wcap > 2 * kFlushAt) {
        pfree(g_written);
        g_written = nullptr;
        g_wcap = 0;
    }
}

void on_finish(QueryDesc* qd) {
    if (g_prev_finish) g_prev_finish(qd);
    else standard_ExecutorFinish(qd);
    if (g_count > 0 && !g_flushing && !IsInParallelMode()) flush(false);
}

void on_xact(XactEvent event, void*) {
    switch (event) {
        case XACT_EVENT_PRE_COMMIT:
        case XACT_EVENT_PRE_PREPARE:
            // (A user's trigger on the inbox that logs predictions queues more events.)
            while (g_count > 0 && !g_flushing) flush(true, true);
            break;
        case XACT_EVENT_PARALLEL_PRE_COMMIT: break;  // (a parallel worker logs nothing)
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PARALLEL_ABORT:
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_PARALLEL_COMMIT:
        case XACT_EVENT_PREPARE:
            forget_all();
            g_flushing = false;
            break;
    }
}

// (A subtransaction started after sub, and still known here, is sub or one of its descendants:
// those that ended were merged into their parents or dropped. Hence the comparisons of ids.)
void on_subxact(SubXactEvent event, SubTransactionId sub, SubTransactionId parent, void*) {
    if (g_count == 0 && g_wcount == 0) return;
    if (event == SUBXACT_EVENT_COMMIT_SUB) {
        // Its events are its parent's now, to be written in the parent.
        for (int i = 0; i < g_count; i++)
            if (g_events[i].subxid == sub) g_events[i].subxid = parent;
        // What it wrote is its parent's; written in its log row's subtransaction, an event is
        // as any other.
        int kept = 0;
        for (int i = 0; i < g_wcount; i++) {
            Written w = g_written[i];
            if (w.owner == sub) w.owner = parent;
            if (w.in == sub) w.in = parent;
            if (w.in != w.owner) g_written[kept++] = w;
        }
        g_wcount = kept;
    } else if (event == SUBXACT_EVENT_ABORT_SUB) {
        // Its log rows are gone: so are their events (and those of its children, which ended
        // before it and were either given to it or dropped).
        int kept = 0;
        for (int i = 0; i < g_count; i++)
            if (g_events[i].subxid < sub) g_events[kept++] = g_events[i];
        g_count = kept;
        // An event of an outer subtransaction that it wrote is gone, its log row is not: queued
        // again (g_events has room).
        kept = 0;
        for (int i = 0; i < g_wcount; i++) {
            const Written w = g_written[i];
            if (w.owner >= sub) continue;
            if (w.in >= sub) g_events[g_count++] = Event{w.id, w.owner, w.events};
            else g_written[kept++] = w;
        }
        g_wcount = kept;
    }
}

}  // namespace

void inbox_add(Oid nsp, int64 prediction_id, int16 events) {
    if (!g_installed) {
        RegisterXactCallback(on_xact, nullptr);
        RegisterSubXactCallback(on_subxact, nullptr);
        g_prev_finish = ExecutorFinish_hook;
        ExecutorFinish_hook = on_finish;
        register_relcache();
        g_installed = true;
    }
    g_inbox_nsp = nsp;
    if (g_count + g_wcount >= g_cap) {
        const int cap = g_cap ? 2 * g_cap : 64;
        g_events = static_cast<Event*>(g_events ? repalloc(g_events, sizeof(Event) * cap)
                                                : MemoryContextAlloc(TopMemoryContext, sizeof(Event) * cap));
        g_cap = cap;
    }
    g_events[g_count++] = Event{prediction_id, GetCurrentSubTransactionId(), events};
    if (g_count >= kFlushAt && !g_flushing) flush(false);
}

void inbox_write_pending() {
    if (g_count > 0 && !IsInParallelMode()) flush(true);
}

void inbox_write_one(Oid inbox_oid, int64 prediction_id, int16 events) {
    Relation inbox = table_open(inbox_oid, RowExclusiveLock);
    if (!inbox_is_direct(inbox)) {
        insert_events(inbox, &prediction_id, &events, 1);
        return;
    }
    Datum values[2] = {Int64GetDatum(prediction_id), Int16GetDatum(events)};
    bool nulls[2] = {false, false};
    HeapTuple tup = heap_form_tuple(RelationGetDescr(inbox), values, nulls);
    simple_heap_insert(inbox, tup);
    heap_freetuple(tup);
    table_close(inbox, NoLock);
}

}  // namespace pg_learn::pg
