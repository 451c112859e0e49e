// Monitoring's inbox events of the predictions the log writer inserts itself: buffered, written
// in bulk (see inbox.hpp). Plain PostgreSQL code: nothing here owns a C++ object.
#include "pg/monitoring/inbox.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

namespace pg_learn::pg {

namespace {

struct Event {
    int64 id;
    SubTransactionId subxid;
    int16 events;
};

// The events not written yet, in the order they were queued, in TopMemoryContext.
Event* g_events = nullptr;
int g_count = 0;
int g_cap = 0;
Oid g_inbox_nsp = InvalidOid;
bool g_installed = false;
ExecutorFinish_hook_type g_prev_finish = nullptr;

// A statement that logs more rows (a COPY, a large INSERT ... SELECT) writes its events every
// kFlushAt rows instead of holding them all.
constexpr int kFlushAt = 8192;
constexpr int kBatch = 1000;  // rows per heap_multi_insert

// Writes the queued events of the current subtransaction (all: every one, before commit, when
// no subtransaction is left) and keeps the others.
void flush(bool all) {
    if (g_count == 0) return;
    const SubTransactionId cur = GetCurrentSubTransactionId();
    int n = 0;
    for (int i = 0; i < g_count; i++)
        if (all || g_events[i].subxid == cur) n++;
    if (n == 0) return;
    Oid inbox_oid = get_relname_relid("ml_monitor_inbox", g_inbox_nsp);
    if (!OidIsValid(inbox_oid))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("the pg_learn table ml_monitor_inbox does not exist")));
    MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "pg_learn inbox events", ALLOCSET_DEFAULT_SIZES);
    MemoryContext old = MemoryContextSwitchTo(cxt);
    Relation inbox = table_open(inbox_oid, RowExclusiveLock);
    TupleDesc desc = RelationGetDescr(inbox);
    if (desc->natts != 2 || TupleDescAttr(desc, 0)->atttypid != INT8OID || TupleDescAttr(desc, 1)->atttypid != INT2OID ||
        inbox->rd_rel->relkind != RELKIND_RELATION)
        elog(ERROR, "pg_learn: ml_monitor_inbox does not have the expected columns");
    const int nslots = Min(n, kBatch);
    TupleTableSlot** slots = static_cast<TupleTableSlot**>(palloc(sizeof(TupleTableSlot*) * nslots));
    for (int j = 0; j < nslots; j++) slots[j] = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
    const CommandId cid = GetCurrentCommandId(true);
    int kept = 0, filled = 0;
    for (int i = 0; i < g_count; i++) {
        const Event e = g_events[i];
        if (!all && e.subxid != cur) {
            g_events[kept++] = e;
            continue;
        }
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
    MemoryContextSwitchTo(old);
    MemoryContextDelete(cxt);
    g_count = kept;
}

void forget_all() {
    g_count = 0;
    if (g_cap > 2 * kFlushAt) {  // give back what a large transaction made the buffer grow to
        pfree(g_events);
        g_events = nullptr;
        g_cap = 0;
    }
}

void on_finish(QueryDesc* qd) {
    if (g_prev_finish) g_prev_finish(qd);
    else standard_ExecutorFinish(qd);
    if (g_count > 0 && !IsInParallelMode()) flush(false);
}

void on_xact(XactEvent event, void*) {
    switch (event) {
        case XACT_EVENT_PRE_COMMIT:
        case XACT_EVENT_PRE_PREPARE: flush(true); break;
        case XACT_EVENT_PARALLEL_PRE_COMMIT: break;  // (a parallel worker logs nothing)
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PARALLEL_ABORT:
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_PARALLEL_COMMIT:
        case XACT_EVENT_PREPARE: forget_all(); break;
    }
}

void on_subxact(SubXactEvent event, SubTransactionId sub, SubTransactionId parent, void*) {
    if (g_count == 0) return;
    if (event == SUBXACT_EVENT_COMMIT_SUB) {
        // Its events are its parent's now, to be written in the parent.
        for (int i = 0; i < g_count; i++)
            if (g_events[i].subxid == sub) g_events[i].subxid = parent;
    } else if (event == SUBXACT_EVENT_ABORT_SUB) {
        // Its log rows are gone: so are their events (and those of its children, which ended
        // before it and were either given to it or dropped).
        int kept = 0;
        for (int i = 0; i < g_count; i++)
            if (g_events[i].subxid < sub) g_events[kept++] = g_events[i];
        g_count = kept;
    }
}

}  // namespace

void inbox_add(Oid nsp, int64 prediction_id, int16 events) {
    if (!g_installed) {
        RegisterXactCallback(on_xact, nullptr);
        RegisterSubXactCallback(on_subxact, nullptr);
        g_prev_finish = ExecutorFinish_hook;
        ExecutorFinish_hook = on_finish;
        g_installed = true;
    }
    g_inbox_nsp = nsp;
    if (g_count == g_cap) {
        const int cap = g_cap ? 2 * g_cap : 64;
        g_events = static_cast<Event*>(g_events ? repalloc(g_events, sizeof(Event) * cap)
                                                : MemoryContextAlloc(TopMemoryContext, sizeof(Event) * cap));
        g_cap = cap;
    }
    g_events[g_count++] = Event{prediction_id, GetCurrentSubTransactionId(), events};
    if (g_count >= kFlushAt) flush(false);
}

}  // namespace pg_learn::pg
