// SPI glue shared by the registry, feedback and monitoring (spi.hpp).
#include "pg/common/spi.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include <cstring>
#include <vector>

namespace pg_learn::pg {

namespace {

// The schema the extension's plans are made for.
struct Schema {
    Oid nsp = InvalidOid;
    char name[NAMEDATALEN] = {0};
    char quoted[2 * NAMEDATALEN + 3] = {0};
    Oid model_type = InvalidOid;
    Oid models_rel = InvalidOid;
    uint64_t generation = 0;
};
Schema g_schema;

// The plans of run_private_function, one per entry point, for the schema generation they were made in.
struct PrivateCall {
    Oid fn = InvalidOid;
    uint64_t generation = 0;
    SPIPlanPtr plan = nullptr;
};
std::vector<PrivateCall> g_private_calls;

}  // namespace

void pg_fail(int sqlstate, const std::string& message, const std::string& detail, const std::string& hint) {
    pg_guard([&]() {
        ereport(ERROR, (errcode(sqlstate), errmsg("%s", message.c_str()),
                        detail.empty() ? 0 : errdetail("%s", detail.c_str()),
                        hint.empty() ? 0 : errhint("%s", hint.c_str())));
    });
    pg_unreachable();
}

Oid extension_table_owner(Oid nsp, const char* table, const char* area) {
    char* name = get_namespace_name(nsp);
    if (!name) elog(ERROR, "pg_learn: schema %u does not exist", nsp);
    Oid model_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("ml_model"), ObjectIdGetDatum(nsp));
    Oid models_rel = get_relname_relid("ml_models", nsp);
    if (g_schema.nsp != nsp || strcmp(g_schema.name, name) != 0 || g_schema.model_type != model_type ||
        g_schema.models_rel != models_rel) {
        g_schema.nsp = nsp;
        strlcpy(g_schema.name, name, sizeof g_schema.name);
        strlcpy(g_schema.quoted, quote_identifier(name), sizeof g_schema.quoted);
        g_schema.model_type = model_type;
        g_schema.models_rel = models_rel;
        g_schema.generation++;
    }
    Oid rel = strcmp(table, "ml_models") == 0 ? models_rel : get_relname_relid(table, nsp);
    if (!OidIsValid(rel))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("the pg_learn %s table %s.%s does not exist", area, quote_identifier(name), table)));
    HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
    if (!HeapTupleIsValid(tup)) elog(ERROR, "pg_learn: cache lookup failed for relation %u", rel);
    Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tup))->relowner;
    ReleaseSysCache(tup);
    return owner;
}

Oid extension_schema() { return g_schema.nsp; }
const char* extension_schema_quoted() { return g_schema.quoted; }
Oid extension_model_type() { return g_schema.model_type; }
uint64_t extension_schema_generation() { return g_schema.generation; }

SPIPlanPtr keep_plan(const char* sql, int nargs, Oid* types) {
    SPIPlanPtr p = SPI_prepare(sql, nargs, types);
    if (!p) elog(ERROR, "pg_learn: SPI_prepare failed (%s) for: %s", SPI_result_code_string(SPI_result), sql);
    if (SPI_keepplan(p) != 0) elog(ERROR, "pg_learn: SPI_keepplan failed");
    return p;
}

SPIPlanPtr schema_plan(SPIPlanPtr& slot, const char* fmt, int nargs, Oid* types) {
    if (!slot) {
        const char* s = extension_schema_quoted();
        slot = keep_plan(psprintf(fmt, s, s, s, s), nargs, types);
    }
    return slot;
}

SPIPlanPtr schema_generic_plan(SPIPlanPtr& slot, const char* fmt, int nargs, Oid* types) {
    if (!slot) {
        const char* s = extension_schema_quoted();
        const char* sql = psprintf(fmt, s, s, s, s);
        SPIPlanPtr p = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);
        if (!p) elog(ERROR, "pg_learn: SPI_prepare failed (%s) for: %s", SPI_result_code_string(SPI_result), sql);
        if (SPI_keepplan(p) != 0) elog(ERROR, "pg_learn: SPI_keepplan failed");
        slot = p;
    }
    return slot;
}

uint64 spi_run(SPIPlanPtr plan, Datum* args, const char* nulls, bool read_only, long count, int expected,
               const char* what) {
    int rc = SPI_execute_plan(plan, args, nulls, read_only, count);
    if (rc != expected) elog(ERROR, "pg_learn: %s failed: %s", what, SPI_result_code_string(rc));
    return SPI_processed;
}

void spi_row(SPITupleTable* tt, uint64 i, int n, Datum* values, bool* nulls) {
    pg_guard([&]() {
        for (int j = 0; j < n; j++) values[j] = SPI_getbinval(tt->vals[i], tt->tupdesc, j + 1, &nulls[j]);
    });
}

SpiAs::SpiAs(Oid role) {
    pg_guard([&]() { connect_as(role); });
}

void SpiAs::connect_as(Oid role) {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_learn: SPI_connect failed");
    connected_ = true;
    GetUserIdAndSecContext(&saved_user_, &saved_sec_);
    SetUserIdAndSecContext(role, saved_sec_ | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    switched_ = true;
}

void SpiAs::finish() {
    restore_user();
    if (connected_) {
        connected_ = false;
        pg_guard([]() { SPI_finish(); });
    }
}

void SpiAs::restore_user() noexcept {
    if (switched_) {
        SetUserIdAndSecContext(saved_user_, saved_sec_);
        switched_ = false;
    }
}

SpiAsOwner::SpiAsOwner(Oid nsp) {
    pg_guard([&]() { connect_as(extension_table_owner(nsp, "ml_models", "registry")); });
}

Datum run_private_function(FunctionCallInfo fcinfo, const char* const* names, int n, const char* entry,
                           const char* owner_table, const char* area, void (*before_call)(Oid nsp)) {
    if (!fcinfo->flinfo)
        core::fail(core::ErrorKind::Internal, "pg_learn functions must be called through the function manager");
    const Oid fn_oid = fcinfo->flinfo->fn_oid;
    Oid nsp = InvalidOid;
    Oid owner = InvalidOid;
    Oid rettype = InvalidOid;
    Oid* argtypes = nullptr;
    int nargs = 0;
    NameData actor;
    char proname[NAMEDATALEN];
    pg_guard([&]() {
        char* p = get_func_name(fn_oid);
        bool known = false;
        for (int i = 0; i < n && p; i++)
            if (strcmp(p, names[i]) == 0) known = true;
        if (!known) elog(ERROR, "pg_learn: %s called as %s", entry, p ? p : "?");
        strlcpy(proname, p, sizeof proname);
        nsp = get_func_namespace(fn_oid);
        rettype = get_func_signature(fn_oid, &argtypes, &nargs);
        if (nargs != fcinfo->nargs) elog(ERROR, "pg_learn: %s called with %d arguments", p, fcinfo->nargs);
        owner = extension_table_owner(nsp, owner_table, area);
        namestrcpy(&actor, GetUserNameFromId(GetUserId(), false));
    });
    SpiAs spi(owner);
    bool isnull = true;
    Datum result = 0;
    spi_guard([&]() {
        if (before_call) before_call(nsp);
        PrivateCall* call = nullptr;
        for (PrivateCall& c : g_private_calls)
            if (c.fn == fn_oid) call = &c;
        if (!call) {
            g_private_calls.push_back({fn_oid, 0, nullptr});
            call = &g_private_calls.back();
        }
        if (call->plan && call->generation != g_schema.generation) {
            SPI_freeplan(call->plan);
            call->plan = nullptr;
        }
        if (!call->plan) {
            // Everything schema-qualified, the arguments typed: the caller's search_path plays no part.
            StringInfoData sql;
            initStringInfo(&sql);
            appendStringInfo(&sql, "SELECT %s.%s(", g_schema.quoted, quote_identifier(psprintf("_%s", proname)));
            Oid* types = static_cast<Oid*>(palloc(sizeof(Oid) * (nargs + 1)));
            for (int i = 0; i <= nargs; i++) {
                appendStringInfo(&sql, "%s$%d", i ? ", " : "", i + 1);
                types[i] = i < nargs ? argtypes[i] : NAMEOID;
            }
            appendStringInfoChar(&sql, ')');
            call->plan = keep_plan(sql.data, nargs + 1, types);
            call->generation = g_schema.generation;
        }
        Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * (nargs + 1)));
        char* nulls = static_cast<char*>(palloc(nargs + 2));
        for (int i = 0; i < nargs; i++) {
            values[i] = fcinfo->args[i].value;
            nulls[i] = fcinfo->args[i].isnull ? 'n' : ' ';
        }
        values[nargs] = NameGetDatum(&actor);
        nulls[nargs] = ' ';
        nulls[nargs + 1] = '\0';
        int rc = SPI_execute_plan(call->plan, values, nulls, false, 1);
        if (rc != SPI_OK_SELECT || SPI_processed != 1)
            elog(ERROR, "pg_learn: %s failed: %s", proname, SPI_result_code_string(rc));
        Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        if (!isnull && rettype != VOIDOID) {
            int16 typlen;
            bool typbyval;
            get_typlenbyval(rettype, &typlen, &typbyval);
            result = SPI_datumTransfer(d, typbyval, typlen);
        }
    });
    spi.finish();
    if (isnull || rettype == VOIDOID) {
        fcinfo->isnull = true;
        return Datum(0);
    }
    return result;
}

}  // namespace pg_learn::pg
