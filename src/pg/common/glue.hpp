// The wall between C++ and PostgreSQL: the error boundary of every SQL entry point, and the guard
// that turns a PostgreSQL error raised under C++ frames into a C++ exception.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
}

#include <exception>
#include <new>
#include <utility>

#include "core/common/error.hpp"

namespace pg_learn::pg {

// A PostgreSQL error caught by pg_guard, carried across C++ frames and re-thrown at the boundary.
class PgError : public std::exception {
public:
    explicit PgError(ErrorData* edata) : edata_(edata) {}
    ErrorData* edata() const { return edata_; }
    const char* what() const noexcept override { return edata_ && edata_->message ? edata_->message : "error"; }

private:
    ErrorData* edata_;
};

// Everything needed to raise an error once the C++ stack has unwound: plain data only.
// Left uninitialised on purpose: boundary() creates one per SQL call, and zero-filling 2.5 kB per
// row was a fifth of a cheap aggregate's time. capture_current_exception() sets every field.
struct PendingError {
    int sqlstate;
    ErrorData* edata;
    char message[1024];
    char detail[1024];
    char hint[512];
};

// The SQLSTATE (an ERRCODE_ value) of a core error kind.
int sqlstate_of(core::ErrorKind kind);

void capture_current_exception(PendingError& pending) noexcept;
[[noreturn]] void raise_pending(const PendingError& pending);

// Runs f, which may call PostgreSQL; a PostgreSQL error becomes a PgError exception. f must not
// hold objects with destructors across a PostgreSQL call: the longjmp skips them.
template <typename F>
void pg_guard(F&& f) {
    sigjmp_buf* volatile saved_stack = PG_exception_stack;
    ErrorContextCallback* volatile saved_context = error_context_stack;
    MemoryContext volatile saved_cxt = CurrentMemoryContext;
    sigjmp_buf local;
    std::exception_ptr cpp_error;
    ErrorData* volatile edata = nullptr;
    if (sigsetjmp(local, 0) == 0) {
        PG_exception_stack = &local;
        try {
            f();
        } catch (...) {
            cpp_error = std::current_exception();
        }
    } else {
        MemoryContextSwitchTo(saved_cxt);
        edata = CopyErrorData();
        FlushErrorState();
    }
    PG_exception_stack = saved_stack;
    error_context_stack = saved_context;
    if (edata) throw PgError(edata);
    if (cpp_error) std::rethrow_exception(cpp_error);
}

// Runs the C++ body of an SQL entry point (or of a callback PostgreSQL makes into us): no
// exception escapes; any error is raised with ereport after the body's frames are gone.
template <typename F>
auto boundary(F&& f) -> decltype(f()) {
    PendingError pending;
    {
        try {
            return f();
        } catch (...) {
            capture_current_exception(pending);
        }
    }
    raise_pending(pending);
}

// palloc that reports out-of-memory as std::bad_alloc instead of a longjmp.
void* palloc_or_throw(MemoryContext cxt, size_t size);

// The rows of a set-returning function, materialized (PostgreSQL's InitMaterializedSRF): put
// tuples built against desc into store.
struct Materialized {
    Tuplestorestate* store = nullptr;
    TupleDesc desc = nullptr;
};
Materialized materialize(FunctionCallInfo fcinfo);

}  // namespace pg_learn::pg

// Declares an SQL-callable function whose body is C++: `PGL_FUNCTION(ml_info) { ... }`.
#define PGL_FUNCTION(name)                                                                     \
    static Datum name##_body(FunctionCallInfo fcinfo);                                         \
    extern "C" {                                                                               \
    PG_FUNCTION_INFO_V1(name);                                                                 \
    PGDLLEXPORT Datum name(PG_FUNCTION_ARGS) {                                                 \
        return pg_learn::pg::boundary([fcinfo]() { return name##_body(fcinfo); });            \
    }                                                                                          \
    }                                                                                          \
    static Datum name##_body(FunctionCallInfo fcinfo)
