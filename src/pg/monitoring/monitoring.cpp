// The monitoring glue: the prediction log's trigger that queues its events for the window
// statistics, and the entry points (ml_monitor_set, ml_monitor_refresh, ml_prune_log,
// ml_monitor_reset) that run their private _ml_<name> SQL functions as the owner of the
// monitoring tables, with the calling role as the actor (docs/registry.md, "Privileges").
#include "pg/common/glue.hpp"

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

#include <cstring>
#include <string>

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;

namespace pg_learn::pg {

namespace {

const char* const kEntryPoints[] = {"ml_monitor_set", "ml_monitor_refresh", "ml_prune_log", "ml_monitor_reset"};

// pg_guard that drops the CONTEXT lines of an error raised by the private functions ("PL/pgSQL
// function _ml_monitor_set ..."): they name implementation details, not what the caller wrote.
template <typename F>
void spi_guard(F&& f) {
    try {
        pg_guard(std::forward<F>(f));
    } catch (const PgError& e) {
        if (e.edata()) e.edata()->context = nullptr;
        throw;
    }
}

// Connected to SPI and running as another role, with security-restricted operation (as
// PostgreSQL's foreign-key triggers run); the caller's right to do this was checked when it
// was allowed to EXECUTE the entry point. On an error the (sub)transaction abort ends the SPI
// connection; the user is restored by the destructor as the C++ stack unwinds.
class SpiAs {
public:
    explicit SpiAs(Oid role) {
        pg_guard([&]() {
            if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_learn: SPI_connect failed");
            connected_ = true;
            GetUserIdAndSecContext(&saved_user_, &saved_sec_);
            SetUserIdAndSecContext(role, saved_sec_ | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
            switched_ = true;
        });
    }
    SpiAs(const SpiAs&) = delete;
    SpiAs& operator=(const SpiAs&) = delete;
    ~SpiAs() { restore_user(); }

    void finish() {
        restore_user();
        if (connected_) {
            connected_ = false;
            pg_guard([]() { SPI_finish(); });
        }
    }

private:
    void restore_user() noexcept {
        if (switched_) {
            SetUserIdAndSecContext(saved_user_, saved_sec_);
            switched_ = false;
        }
    }
    Oid saved_user_ = InvalidOid;
    int saved_sec_ = 0;
    bool connected_ = false;
    bool switched_ = false;
};

// What one call needs, found before switching roles: the statement calling the private function,
// its argument types, the owner of the monitoring tables and the result type.
struct Call {
    char* sql = nullptr;
    Oid* types = nullptr;
    int nargs = 0;
    Oid owner = InvalidOid;
    Oid rettype = InvalidOid;
    NameData actor;
};

void prepare(FunctionCallInfo fcinfo, Call& call) {
    const Oid fn_oid = fcinfo->flinfo->fn_oid;
    char* proname = get_func_name(fn_oid);
    bool known = false;
    for (const char* n : kEntryPoints)
        if (proname && strcmp(proname, n) == 0) known = true;
    if (!known) elog(ERROR, "pg_learn: ml_monitor_write called as %s", proname ? proname : "?");
    Oid nsp = get_func_namespace(fn_oid);
    char* nsp_name = get_namespace_name(nsp);
    if (!nsp_name) elog(ERROR, "pg_learn: schema %u does not exist", nsp);
    Oid* argtypes = nullptr;
    call.rettype = get_func_signature(fn_oid, &argtypes, &call.nargs);
    if (call.nargs != fcinfo->nargs) elog(ERROR, "pg_learn: %s called with %d arguments", proname, fcinfo->nargs);

    Oid rel = get_relname_relid("ml_monitor_windows", nsp);
    if (!OidIsValid(rel))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("the pg_learn monitoring table %s.ml_monitor_windows does not exist",
                               quote_identifier(nsp_name))));
    HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
    if (!HeapTupleIsValid(tup)) elog(ERROR, "pg_learn: cache lookup failed for relation %u", rel);
    call.owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tup))->relowner;
    ReleaseSysCache(tup);

    // Everything schema-qualified, the arguments typed: the caller's search_path plays no part.
    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfo(&sql, "SELECT %s.%s(", quote_identifier(nsp_name), quote_identifier(psprintf("_%s", proname)));
    call.types = static_cast<Oid*>(palloc(sizeof(Oid) * (call.nargs + 1)));
    for (int i = 0; i <= call.nargs; i++) {
        appendStringInfo(&sql, "%s$%d", i ? ", " : "", i + 1);
        call.types[i] = i < call.nargs ? argtypes[i] : NAMEOID;
    }
    appendStringInfoChar(&sql, ')');
    call.sql = sql.data;
    namestrcpy(&call.actor, GetUserNameFromId(GetUserId(), false));
}

}  // namespace

}  // namespace pg_learn::pg

using namespace pg_learn::pg;

// The prediction log's AFTER ROW trigger (INSERT, and UPDATE OF label when a label arrives):
// queues the row's events in ml_monitor_inbox, in the writer's transaction. Written in C because
// it runs for every prediction logged: a heap insert into the inbox (no index, no trigger, no
// constraint but the CHECK that the values below always pass) costs a few microseconds, where a
// PL/pgSQL trigger doubled the cost of logging a prediction. It needs no privilege on the inbox:
// writing the log is what queues an event, whoever may do that.
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
        int id_att = SPI_fnumber(desc, "prediction_id");
        int label_att = SPI_fnumber(desc, "label");
        if (id_att <= 0 || label_att <= 0 || TupleDescAttr(desc, id_att - 1)->atttypid != INT8OID)
            elog(ERROR, "pg_learn: ml_monitor_enqueue fired on a table without prediction_id bigint and label");
        bool isnull = false;
        Datum id = heap_getattr(row, id_att, desc, &isnull);
        if (isnull) elog(ERROR, "pg_learn: ml_monitor_enqueue: prediction_id is NULL");
        bool no_label = false;
        heap_getattr(row, label_att, desc, &no_label);
        const int16 events = update ? 2 : (no_label ? 1 : 3);

        Oid nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
        Oid inbox_oid = get_relname_relid("ml_monitor_inbox", nsp);
        if (!OidIsValid(inbox_oid))
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("the pg_learn table ml_monitor_inbox does not exist")));
        Relation inbox = table_open(inbox_oid, RowExclusiveLock);
        TupleDesc idesc = RelationGetDescr(inbox);
        if (idesc->natts != 2 || TupleDescAttr(idesc, 0)->atttypid != INT8OID ||
            TupleDescAttr(idesc, 1)->atttypid != INT2OID || inbox->rd_rel->relkind != RELKIND_RELATION)
            elog(ERROR, "pg_learn: ml_monitor_inbox does not have the expected columns");
        Datum values[2] = {id, Int16GetDatum(events)};
        bool nulls[2] = {false, false};
        HeapTuple tup = heap_form_tuple(idesc, values, nulls);
        simple_heap_insert(inbox, tup);
        heap_freetuple(tup);
        table_close(inbox, NoLock);
    });
    return PointerGetDatum(nullptr);
}

PGL_FUNCTION(ml_monitor_write) {
    if (!fcinfo->flinfo) fail(ErrorKind::Internal, "monitoring functions must be called through the function manager");
    Call call;
    pg_guard([&]() { prepare(fcinfo, call); });
    SpiAs spi(call.owner);
    bool isnull = true;
    Datum result = 0;
    spi_guard([&]() {
        const int n = call.nargs;
        Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * (n + 1)));
        char* nulls = static_cast<char*>(palloc(n + 2));
        for (int i = 0; i < n; i++) {
            values[i] = fcinfo->args[i].value;
            nulls[i] = fcinfo->args[i].isnull ? 'n' : ' ';
        }
        values[n] = NameGetDatum(&call.actor);
        nulls[n] = ' ';
        nulls[n + 1] = '\0';
        int rc = SPI_execute_with_args(call.sql, n + 1, call.types, values, nulls, false, 1);
        if (rc != SPI_OK_SELECT || SPI_processed != 1)
            elog(ERROR, "pg_learn: %s failed: %s", call.sql, SPI_result_code_string(rc));
        Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        if (!isnull && call.rettype != VOIDOID) {
            int16 typlen;
            bool typbyval;
            get_typlenbyval(call.rettype, &typlen, &typbyval);
            result = SPI_datumTransfer(d, typbyval, typlen);
        }
    });
    spi.finish();
    if (call.rettype == VOIDOID) return Datum(0);
    if (isnull) {
        fcinfo->isnull = true;
        return Datum(0);
    }
    return result;
}
