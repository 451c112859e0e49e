// The SQL entry points of the feedback glue (src/sql/50_feedback.sql).
#include "pg/feedback/feedback.hpp"

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;

using namespace pg_learn::pg;
using namespace pg_learn::pg::feedback;

PGL_FUNCTION(ml_feedback_trigger) { return trigger(fcinfo); }

PGL_FUNCTION(ml_learn_pending) { return Int64GetDatum(learn_pending(fcinfo)); }

PGL_FUNCTION(ml_route_fraction) {
    std::string model = text_of(PG_GETARG_DATUM(0));
    std::string key = text_of(PG_GETARG_DATUM(1));
    return Float8GetDatum(pg_learn::core::route_fraction(model, key));
}

// Every change of ml_attachments or ml_rollouts: a relcache invalidation of ml_attachments, which
// every backend receives when the transaction commits (and this one at once, or at its abort),
// and which empties the attachment caches.
PGL_FUNCTION(ml_feedback_invalidate) {
    const Oid fn_oid = fcinfo->flinfo->fn_oid;
    pg_guard([&]() {
        Oid nsp = get_func_namespace(fn_oid);
        Oid rel = get_relname_relid("ml_attachments", nsp);
        if (OidIsValid(rel)) CacheInvalidateRelcacheByRelid(rel);
    });
    fcinfo->isnull = true;
    return Datum(0);
}

// sql_drop: forgets the attachments of dropped tables (as the extension's owner). Does nothing
// while the extension itself is being dropped.
PGL_FUNCTION(ml_feedback_on_drop) {
    if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
        pg_fail(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED, "_ml_feedback_on_drop is an event trigger function");
    const Oid fn_oid = fcinfo->flinfo->fn_oid;
    Oid nsp = InvalidOid;
    bool present = false;
    pg_guard([&]() {
        nsp = get_func_namespace(fn_oid);
        present = OidIsValid(nsp) && OidIsValid(get_relname_relid("ml_attachments", nsp)) &&
                  OidIsValid(get_relname_relid("ml_models", nsp));
    });
    if (!present) return Datum(0);
    SpiAsOwner spi(nsp);
    spi_guard([&]() {
        int rc = SPI_execute(psprintf("SELECT %s._ml_forget_dropped()", extension_schema_quoted()), false, 0);
        if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: forgetting dropped tables failed: %s", SPI_result_code_string(rc));
    });
    spi.finish();
    return Datum(0);
}

// ml_attach, ml_detach, ml_rollout, ml_rollout_remove: each runs its private _ml_<name> function
// with the same arguments plus the caller's role name, as the owner of the extension's tables.
PGL_FUNCTION(ml_feedback_write) {
    static const char* const names[] = {"ml_attach", "ml_detach", "ml_rollout", "ml_rollout_remove"};
    // ml_attach(tbl, ...) of a Citus table: refused first, with the caller's search path and rights.
    if (fcinfo->flinfo && !PG_ARGISNULL(0)) {
        bool attach = false;
        pg_guard([&]() {
            const char* p = get_func_name(fcinfo->flinfo->fn_oid);
            attach = p && strcmp(p, "ml_attach") == 0;
        });
        if (attach) refuse_citus_table(PG_GETARG_OID(0));
    }
    return run_private_function(fcinfo, names, 4, "ml_feedback_write", "ml_models", "registry", check_schema);
}
