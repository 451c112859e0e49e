// The ml_detector type: text (JSON) and binary I/O, a fresh detector, the row-by-row update,
// ml_detector_info, and the ml_drift_detector aggregate (a window function over an ordered stream)
// with an expanded-object state. docs/detectors.md.
#include "pg/common/args.hpp"
#include "pg/common/expanded_value.hpp"

extern "C" {
#include "libpq/pqformat.h"
#include "nodes/execnodes.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

#include <cctype>
#include <cstring>
#include <optional>
#include <string>

#include "core/drift/detectors.hpp"

using pg_learn::core::DriftDetector;
using namespace pg_learn::pg;

namespace {

using Expanded = ExpandedValue<DriftDetector>;
constexpr const char* kContextName = "ml_detector";

struct DetectorArg {
    std::optional<DriftDetector> holder;
    const DriftDetector& get(FunctionCallInfo fcinfo, int argno) {
        return read_value<DriftDetector>(PG_GETARG_DATUM(argno), holder);
    }
};

Datum flat_datum(const DriftDetector& d) { return PointerGetDatum(flatten_value(d, CurrentMemoryContext)); }

Datum null_result(FunctionCallInfo fcinfo) {
    fcinfo->isnull = true;
    return Datum(0);
}

// A bare kind name ("adwin") as text input is a fresh detector of that kind with its default
// options: so that ml_detector('adwin'), which PostgreSQL reads as a cast of the literal, works.
DriftDetector detector_from_text(const char* text, size_t len) {
    size_t i = 0;
    while (i < len && std::isspace(static_cast<unsigned char>(text[i]))) i++;
    if (i < len && text[i] != '{' && text[i] != '[' && text[i] != '"')
        return DriftDetector::create(std::string_view(text + i, len - i), "{}");
    return DriftDetector::from_text(text, len);
}

}  // namespace

// ---- I/O ------------------------------------------------------------------------------------

PGL_FUNCTION(ml_detector_in) {
    const char* text = PG_GETARG_CSTRING(0);
    return flat_datum(detector_from_text(text, std::strlen(text)));
}

PGL_FUNCTION(ml_detector_out) {
    DetectorArg a;
    const std::string s = a.get(fcinfo, 0).to_text();
    char* out = static_cast<char*>(palloc_or_throw(CurrentMemoryContext, s.size() + 1));
    std::memcpy(out, s.c_str(), s.size() + 1);
    return CStringGetDatum(out);
}

PGL_FUNCTION(ml_detector_recv) {
    StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    const auto* p = reinterpret_cast<const uint8_t*>(buf->data + buf->cursor);
    const size_t n = static_cast<size_t>(buf->len - buf->cursor);
    DriftDetector d = DriftDetector::decode(p, n);  // validates every byte before we accept it
    buf->cursor = buf->len;
    return flat_datum(d);
}

// Also ml_detector_bytes: the binary form as bytea (a flat ml_detector has bytea's layout).
PGL_FUNCTION(ml_detector_send) {
    Datum d = PG_GETARG_DATUM(0);
    if (Expanded* ev = Expanded::of(d)) return flat_datum(*ev->value);
    struct varlena* flat = nullptr;
    pg_guard([&]() { flat = pg_detoast_datum_copy(reinterpret_cast<struct varlena*>(DatumGetPointer(d))); });
    return PointerGetDatum(flat);
}

PGL_FUNCTION(ml_detector_from_bytes) {
    struct varlena* b = nullptr;
    pg_guard([&]() { b = PG_GETARG_VARLENA_PP(0); });
    return flat_datum(DriftDetector::decode(reinterpret_cast<const uint8_t*>(VARDATA_ANY(b)), VARSIZE_ANY_EXHDR(b)));
}

// ---- a stored detector ------------------------------------------------------------------------

PGL_FUNCTION(ml_detector_new) {
    return flat_datum(DriftDetector::create(text_arg_string(fcinfo, 0), jsonb_arg_text(fcinfo, 1)));
}

// Not STRICT: a NULL value leaves the state as it was (nothing learned, no change at it), so that
// UPDATE ... SET d = ml_detector_update(d, x) never loses a stored state to a NULL.
PGL_FUNCTION(ml_detector_update) {
    if (PG_ARGISNULL(0)) return null_result(fcinfo);
    DriftDetector d = decode_datum<DriftDetector>(PG_GETARG_DATUM(0));
    if (PG_ARGISNULL(1)) d.skip();
    else d.update(PG_GETARG_FLOAT8(1));
    return flat_datum(d);
}

PGL_FUNCTION(ml_detector_info) {
    DetectorArg a;
    const std::string s = a.get(fcinfo, 0).info().dump();
    Datum result = 0;
    pg_guard([&]() { result = DirectFunctionCall1(jsonb_in, CStringGetDatum(s.c_str())); });
    return result;
}

PGL_FUNCTION(ml_detector_drift) {
    DetectorArg a;
    return BoolGetDatum(a.get(fcinfo, 0).drift());
}

// ---- the aggregate ----------------------------------------------------------------------------

namespace {

// (state, kind, [options,] x): the kind and options are read at the first row.
Datum drift_transition(FunctionCallInfo fcinfo, bool with_options) {
    MemoryContext aggcxt = aggregate_context(fcinfo, "ml_drift_detector_transition", "ml_drift_detector");
    const int xarg = with_options ? 3 : 2;
    Expanded* ev;
    if (PG_ARGISNULL(0)) {
        if (PG_ARGISNULL(1))
            pg_learn::core::fail(pg_learn::core::ErrorKind::NullValue, "the kind of ml_drift_detector must not be NULL");
        if (with_options && PG_ARGISNULL(2))
            pg_learn::core::fail(pg_learn::core::ErrorKind::NullValue, "the options of ml_drift_detector must not be NULL");
        ev = Expanded::make(DriftDetector::create(text_arg_string(fcinfo, 1), with_options ? jsonb_arg_text(fcinfo, 2) : "{}"),
                            aggcxt, kContextName);
    } else {
        ev = aggregate_state<DriftDetector>(fcinfo, 0, aggcxt, kContextName);
    }
    if (PG_ARGISNULL(xarg)) ev->value->skip();
    else ev->value->update(PG_GETARG_FLOAT8(xarg));
    return ev->rw_datum();
}

}  // namespace

PGL_FUNCTION(ml_drift_detector_transition) { return drift_transition(fcinfo, false); }
PGL_FUNCTION(ml_drift_detector_transition_options) { return drift_transition(fcinfo, true); }

// (state, detector, x): a stored detector continued over the rows (read at the first row).
PGL_FUNCTION(ml_drift_detector_transition_continue) {
    MemoryContext aggcxt = aggregate_context(fcinfo, "ml_drift_detector_transition", "ml_drift_detector");
    Expanded* ev;
    if (PG_ARGISNULL(0)) {
        if (PG_ARGISNULL(1))
            pg_learn::core::fail(pg_learn::core::ErrorKind::NullValue, "the detector of ml_drift_detector must not be NULL");
        DetectorArg a;
        ev = Expanded::make(DriftDetector(a.get(fcinfo, 1)), aggcxt, kContextName);
    } else {
        ev = aggregate_state<DriftDetector>(fcinfo, 0, aggcxt, kContextName);
    }
    if (PG_ARGISNULL(2)) ev->value->skip();
    else ev->value->update(PG_GETARG_FLOAT8(2));
    return ev->rw_datum();
}

// Read-only: a window aggregate finalizes the same state at every row.
PGL_FUNCTION(ml_drift_detector_final) {
    if (PG_ARGISNULL(0)) return null_result(fcinfo);
    DetectorArg a;
    return BoolGetDatum(a.get(fcinfo, 0).drift());
}

PGL_FUNCTION(ml_detector_state_final) {
    if (PG_ARGISNULL(0)) return null_result(fcinfo);
    DetectorArg a;
    return flat_datum(a.get(fcinfo, 0));
}
