// Maps core errors and C++ exceptions to SQLSTATEs, and raises them once C++ has unwound.
#include "pg/common/glue.hpp"
#include "pg/common/feature_check.hpp"
#include "pg/feedback/feedback.hpp"
#include "pg/models/progress.hpp"

extern "C" {
#include "funcapi.h"
#include "utils/elog.h"
}

#include <cstdio>
#include <cstring>

extern "C" {
PG_MODULE_MAGIC;

// The library's settings (GUCs), defined when it loads.
PGDLLEXPORT void _PG_init(void);
void _PG_init(void) {
    pg_learn::pg::define_training_progress_settings();
    pg_learn::pg::feedback::log_writer_init();
    pg_learn::pg::define_feature_check_settings();  // (last: it reserves the prefix pg_learn)
}
}

namespace pg_learn::pg {

int sqlstate_of(core::ErrorKind kind) {
    switch (kind) {
        case core::ErrorKind::InvalidText: return ERRCODE_INVALID_TEXT_REPRESENTATION;
        case core::ErrorKind::InvalidParameter: return ERRCODE_INVALID_PARAMETER_VALUE;
        case core::ErrorKind::InvalidBinary: return ERRCODE_INVALID_BINARY_REPRESENTATION;
        case core::ErrorKind::NumericRange: return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
        case core::ErrorKind::NullValue: return ERRCODE_NULL_VALUE_NOT_ALLOWED;
        case core::ErrorKind::ProgramLimit: return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
        case core::ErrorKind::Internal: return ERRCODE_INTERNAL_ERROR;
        case core::ErrorKind::FeatureNotSupported: return ERRCODE_FEATURE_NOT_SUPPORTED;
    }
    return ERRCODE_INTERNAL_ERROR;
}

namespace {

void copy(char* dst, size_t cap, const char* src) {
    std::snprintf(dst, cap, "%s", src ? src : "");
}

}  // namespace

void capture_current_exception(PendingError& p) noexcept {
    p.sqlstate = ERRCODE_INTERNAL_ERROR;
    p.edata = nullptr;
    p.message[0] = p.detail[0] = p.hint[0] = '\0';
    try {
        throw;
    } catch (const PgError& e) {
        p.edata = e.edata();
    } catch (const core::Error& e) {
        p.sqlstate = sqlstate_of(e.kind());
        copy(p.message, sizeof p.message, e.what());
        copy(p.detail, sizeof p.detail, e.detail().c_str());
        copy(p.hint, sizeof p.hint, e.hint().c_str());
    } catch (const std::bad_alloc&) {
        p.sqlstate = ERRCODE_OUT_OF_MEMORY;
        copy(p.message, sizeof p.message, "out of memory in pg_learn");
    } catch (const std::exception& e) {
        p.sqlstate = ERRCODE_INTERNAL_ERROR;
        std::snprintf(p.message, sizeof p.message, "pg_learn internal error: %s", e.what());
    } catch (...) {
        p.sqlstate = ERRCODE_INTERNAL_ERROR;
        copy(p.message, sizeof p.message, "pg_learn internal error: unknown exception");
    }
}

void raise_pending(const PendingError& p) {
    if (p.edata) ReThrowError(p.edata);
    ereport(ERROR, (errcode(p.sqlstate), errmsg("%s", p.message),
                    p.detail[0] ? errdetail("%s", p.detail) : 0, p.hint[0] ? errhint("%s", p.hint) : 0));
    pg_unreachable();
}

void* palloc_or_throw(MemoryContext cxt, size_t size) {
    void* p = MemoryContextAllocExtended(cxt, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
    if (!p) throw std::bad_alloc();
    return p;
}

Materialized materialize(FunctionCallInfo fcinfo) {
    Materialized m;
    pg_guard([&]() {
        InitMaterializedSRF(fcinfo, 0);
        auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
        m.store = rsinfo->setResult;
        m.desc = rsinfo->setDesc;
    });
    return m;
}

}  // namespace pg_learn::pg
