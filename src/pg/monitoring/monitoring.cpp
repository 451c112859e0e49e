// The monitoring glue: the prediction log's trigger that queues its events for the window
// statistics, and the entry points (ml_monitor_set, ml_monitor_refresh, ml_prune_log,
// ml_monitor_reset) that run their private _ml_<name> SQL functions as the owner of the
// monitoring tables, with the calling role as the actor (docs/registry.md, "Privileges").
#include "pg/common/spi.hpp"
#include "pg/monitoring/inbox.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "commands/trigger.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}


namespace pg_learn::pg {

namespace {

const char* const kEntryPoints[] = {"ml_monitor_set", "ml_monitor_refresh", "ml_prune_log", "ml_monitor_reset",
                                    "ml_partition_log"};

}  // namespace

}  // namespace pg_learn::pg

using namespace pg_learn::pg;

// The prediction log's AFTER ROW trigger (INSERT, and UPDATE OF label or label_class when a label
// arrives):
// queues the row's events in ml_monitor_inbox, in the writer's transaction. Written in C because
// it runs for every prediction logged: a heap insert into the inbox as created (no index, no
// trigger, no constraint but the CHECK that the values below always pass) costs a few
// microseconds, where a PL/pgSQL trigger doubled the cost of logging a prediction; an inbox a user
// changed gets an INSERT (inbox.hpp). It needs no privilege on the inbox: writing the log is what
// queues an event, whoever may do that.
PGL_FUNCTION(ml_monitor_enqueue) {
    pg_guard([&]() {
        if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "pg_learn: ml_monitor_enqueue must be called as a trigger");
        TriggerData* td = reinterpret_cast<TriggerData*>(fcinfo->context);
        const TriggerEvent ev = td->tg_event;
        if (!TRIGGER_FIRED_AFTER(ev) || !TRIGGER_FIRED_FOR_ROW(ev) ||
            !(TRIGGER_FIRED_BY_INSERT(ev) || TRIGGER_FIRED_BY_UPDATE(ev)))
            elog(ERROR, "pg_learn: ml_monitor_enqueue must fire AFTER INSERT OR UPDATE FOR EACH ROW");
        const bool update = TRIGGER_FIRED_BY_UPDATE(ev);
        HeapTuple row = update ? td->tg_newtuple : td->tg_trigtuple;
        TupleDesc desc = RelationGetDescr(td->tg_relation);
        // The columns and the inbox, looked up once per trigger call info (a statement, or the
        // log writer's transaction) and again when the log's descriptor is another one (issue 12
        // item 7: looking them up for every row cost ~3k instructions of a logged prediction's).
        struct Lookups {
            TupleDesc desc;
            Oid relid;
            int id_att, label_att, class_att;
            Oid inbox_oid;
        };
        auto* lk = static_cast<Lookups*>(fcinfo->flinfo->fn_extra);
        if (!lk || lk->desc != desc || lk->relid != RelationGetRelid(td->tg_relation)) {
            Lookups l;
            l.desc = desc;
            l.relid = RelationGetRelid(td->tg_relation);
            l.id_att = SPI_fnumber(desc, "prediction_id");
            l.label_att = SPI_fnumber(desc, "label");
            l.class_att = SPI_fnumber(desc, "label_class");  // a multiclass model's label
            if (l.id_att <= 0 || l.label_att <= 0 || TupleDescAttr(desc, l.id_att - 1)->atttypid != INT8OID)
                elog(ERROR, "pg_learn: ml_monitor_enqueue fired on a table without prediction_id bigint and label");
            Oid nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
            l.inbox_oid = get_relname_relid("ml_monitor_inbox", nsp);
            if (!OidIsValid(l.inbox_oid))
                ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("the pg_learn table ml_monitor_inbox does not exist")));
            if (!lk) lk = static_cast<Lookups*>(MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(Lookups)));
            *lk = l;
            fcinfo->flinfo->fn_extra = lk;
        }
        const int id_att = lk->id_att, label_att = lk->label_att, class_att = lk->class_att;
        bool isnull = false;
        Datum id = heap_getattr(row, id_att, desc, &isnull);
        if (isnull) elog(ERROR, "pg_learn: ml_monitor_enqueue: prediction_id is NULL");
        bool no_label = false;
        heap_getattr(row, label_att, desc, &no_label);
        if (update) {
            // An update queues an event when a label arrives: label or label_class from NULL to a
            // value. (Until 0.2.0, ml_monitor_label's WHEN clause; prepared again by every
            // statement that fires it, it cost a label ~67k instructions.)
            bool old_null = false, old_class_null = true, class_null = true;
            heap_getattr(td->tg_trigtuple, label_att, desc, &old_null);
            if (class_att > 0) {
                heap_getattr(td->tg_trigtuple, class_att, desc, &old_class_null);
                heap_getattr(row, class_att, desc, &class_null);
            }
            if (!(old_null && !no_label) && !(old_class_null && !class_null)) return;
        }
        if (no_label && class_att > 0) heap_getattr(row, class_att, desc, &no_label);
        const int16 events = update ? 2 : (no_label ? 1 : 3);

        inbox_write_one(lk->inbox_oid, DatumGetInt64(id), events);
    });
    return PointerGetDatum(nullptr);
}

// The events this backend's log writer still holds are written first (inbox.hpp): a refresh, a
// prune or a reset run inside the statement that logged the rows (a user's trigger or function),
// in a savepoint after it, or right after a COPY (which ends without an executor's end) sees them
// as it sees the log rows. Otherwise a prune could delete a row whose event, written later, would
// then name no row (the prediction missing from the windows), a reset would queue the row again
// beside its own event (counted twice), and a refresh would miss it until the next one.
PGL_FUNCTION(ml_monitor_write) {
    pg_guard([]() { inbox_write_pending(); });
    return run_private_function(fcinfo, kEntryPoints, 5, "ml_monitor_write", "ml_monitor_windows", "monitoring");
}
