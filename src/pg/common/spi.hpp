// SPI glue shared by the registry, feedback and monitoring: errors with any SQLSTATE, running as
// the owner of the extension's tables, the extension's schema, kept plans, and the entry points
// that run a private _ml_<name> SQL function as that owner with the caller as actor.
#pragma once

#include "pg/common/glue.hpp"

extern "C" {
#include "executor/spi.h"
}

#include <cstdint>
#include <string>

namespace pg_learn::pg {

// ---- errors ---------------------------------------------------------------------------------

// Raises a PostgreSQL error with any SQLSTATE as a C++ exception (PgError), so that C++ frames
// unwind before the boundary reports it.
[[noreturn]] void pg_fail(int sqlstate, const std::string& message, const std::string& detail = {},
                          const std::string& hint = {});

// pg_guard for the extension's own SQL: an error keeps its message and SQLSTATE but loses the
// CONTEXT lines ("PL/pgSQL function _ml_deploy ...", "SQL statement ..."), which name private
// implementation details rather than anything the caller wrote.
template <typename F>
void spi_guard(F&& f) {
    try {
        pg_guard(std::forward<F>(f));
    } catch (const PgError& e) {
        if (e.edata()) e.edata()->context = nullptr;
        throw;
    }
}

// ---- the extension's schema -------------------------------------------------------------------

// Points the schema state at nsp (the schema of the calling extension function) and returns the
// owner of the table `table` there (the owner of every table of the extension); `area` names the
// part it belongs to in the error when it does not exist ("the pg_learn registry table ..."). Plain
// PostgreSQL code (may ereport).
Oid extension_table_owner(Oid nsp, const char* table, const char* area);
// The extension's schema, as of the last extension_table_owner.
Oid extension_schema();
// The extension's schema name, quoted for SQL, as of the last extension_table_owner (prepared plans
// made with it name every object schema-qualified, so search_path does not matter to them).
const char* extension_schema_quoted();
// The OID of type ml_model in the extension's schema, as of the last extension_table_owner.
Oid extension_model_type();
// Changes whenever the schema, its name, its ml_models table or its ml_model type changed since the
// previous extension_table_owner (DROP and CREATE EXTENSION in one session, a renamed schema):
// plans kept for the old one must be made again.
uint64_t extension_schema_generation();

// ---- plans ----------------------------------------------------------------------------------

// SPI_prepare + SPI_keepplan; plain PostgreSQL code (may ereport).
SPIPlanPtr keep_plan(const char* sql, int nargs, Oid* types);
// The plan in slot, or prepared and kept there from fmt, in which every %s (at most four) is the
// extension's schema. Plain PostgreSQL code.
SPIPlanPtr schema_plan(SPIPlanPtr& slot, const char* fmt, int nargs, Oid* types);
// The same, always executed with its generic plan (CURSOR_OPT_GENERIC_PLAN): for statements run
// once per row whose custom plans would be planned again on every execution (the plan cache keeps
// choosing a custom plan when the generic one's estimate is worse, e.g. for `= ANY ($1)`).
SPIPlanPtr schema_generic_plan(SPIPlanPtr& slot, const char* fmt, int nargs, Oid* types);

// ---- running and reading ----------------------------------------------------------------------

// SPI_execute_plan, failing (elog) unless the result code is `expected`; returns SPI_processed.
// `what` names the work in the error ("reading ml_attachments"). Plain PostgreSQL code.
uint64 spi_run(SPIPlanPtr plan, Datum* args, const char* nulls, bool read_only, long count, int expected,
               const char* what);
// The first n columns of row i of a result (guarded: callable with C++ objects alive).
void spi_row(SPITupleTable* tt, uint64 i, int n, Datum* values, bool* nulls);

// ---- SPI as another role ----------------------------------------------------------------------

// Connects to SPI and runs as `role`, with security-restricted operation as PostgreSQL's own RI
// triggers do; the caller's privileges were checked when it was allowed to EXECUTE the function.
// On an error, the (sub)transaction abort that follows ends the SPI connection; the user is
// restored by the destructor as the C++ stack unwinds.
class SpiAs {
public:
    explicit SpiAs(Oid role);
    SpiAs(const SpiAs&) = delete;
    SpiAs& operator=(const SpiAs&) = delete;
    ~SpiAs() { restore_user(); }

    void finish();

protected:
    SpiAs() = default;
    void connect_as(Oid role);  // plain PostgreSQL code

private:
    void restore_user() noexcept;
    Oid saved_user_ = InvalidOid;
    int saved_sec_ = 0;
    bool connected_ = false;
    bool switched_ = false;
};

// SPI as the owner of the extension's tables in schema nsp (the owner of ml_models).
class SpiAsOwner : public SpiAs {
public:
    explicit SpiAsOwner(Oid nsp);
};

// ---- private functions ------------------------------------------------------------------------

// The body of an entry point whose SQL name is one of `names` (n of them): runs the private
// function _<name> with the same arguments plus the caller's role name, as the owner of table
// `owner_table` (of part `area`, for the error when it is missing), and returns its result.
// `entry` names the C entry point in internal errors. before_call, when given, runs (plain
// PostgreSQL code) once the schema is known, before the call.
Datum run_private_function(FunctionCallInfo fcinfo, const char* const* names, int n, const char* entry,
                           const char* owner_table, const char* area, void (*before_call)(Oid nsp) = nullptr);

}  // namespace pg_learn::pg
