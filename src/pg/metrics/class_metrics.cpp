// The ml_class_metric_state type and the multiclass metric aggregates: transitions, inverse
// transitions for moving windows, combine, and the accessors (also the aggregates' final functions).
#include "pg/common/expanded_value.hpp"
#include "pg/common/features.hpp"

extern "C" {
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/metrics/class_metrics.hpp"

using pg_learn::core::Average;
using pg_learn::core::ClassMetricState;
using pg_learn::core::ErrorKind;
using pg_learn::core::fail;
using pg_learn::core::ProbaEntry;
using namespace pg_learn::pg;

namespace {

using Expanded = ExpandedValue<ClassMetricState>;
constexpr const char* kContextName = "ml_class_metric_state";

Datum null_result(FunctionCallInfo fcinfo) {
    fcinfo->isnull = true;
    return Datum(0);
}

Datum flat_datum(const ClassMetricState& s) { return PointerGetDatum(flatten_value(s, CurrentMemoryContext)); }

Datum optional_float8(FunctionCallInfo fcinfo, std::optional<double> v) {
    if (!v) return null_result(fcinfo);
    return Float8GetDatum(*v);
}

struct StateArg {
    std::optional<ClassMetricState> holder;
    const ClassMetricState& get(FunctionCallInfo fcinfo, int argno) {
        return read_value<ClassMetricState>(PG_GETARG_DATUM(argno), holder);
    }
};

// A text argument as bytes (detoasted in the current memory context, which outlives the call).
std::string_view text_arg(FunctionCallInfo fcinfo, int argno) {
    text* t = nullptr;
    pg_guard([&]() { t = PG_GETARG_TEXT_PP(argno); });
    return std::string_view(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

Average average_arg(FunctionCallInfo fcinfo, int argno) {
    if (PG_ARGISNULL(argno)) fail(ErrorKind::NullValue, "average must not be NULL");
    return pg_learn::core::parse_average(text_arg(fcinfo, argno));
}

// A jsonb object {"class": probability, ...}, read in place (as jsonb_features reads features):
// keys are sorted, values follow them; numeric and container values start 4-byte aligned.
std::vector<ProbaEntry> proba_arg(FunctionCallInfo fcinfo, int argno) {
    Jsonb* jb = nullptr;
    pg_guard([&]() { jb = PG_GETARG_JSONB_P(argno); });
    if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
        fail(ErrorKind::InvalidParameter, "probabilities must be a JSON object",
             JB_ROOT_IS_SCALAR(jb) ? "got a scalar" : "got an array",
             "Write them as {\"class\": probability, ...}, as ml_predict_proba returns them.");
    const JsonbContainer* jc = &jb->root;
    const uint32 n = JsonContainerSize(jc);
    std::vector<ProbaEntry> out;
    out.reserve(n);
    if (n == 0) return out;
    const char* base = reinterpret_cast<const char*>(jc->children + 2 * n);
    uint32 key_off = 0;
    uint32 value_off = getJsonbOffset(jc, static_cast<int>(n));
    for (uint32 i = 0; i < n; i++) {
        const JEntry ke = jc->children[i];
        const uint32 key_start = key_off;
        JBE_ADVANCE_OFFSET(key_off, ke);
        const JEntry ve = jc->children[n + i];
        const uint32 value_start = value_off;
        JBE_ADVANCE_OFFSET(value_off, ve);
        ProbaEntry e{std::string_view(base + key_start, key_off - key_start), std::nullopt, "number"};
        switch (ve & JENTRY_TYPEMASK) {
            case JENTRY_ISNUMERIC:
                e.p = numeric_to_double(reinterpret_cast<Numeric>(const_cast<char*>(base + INTALIGN(value_start))));
                break;
            case JENTRY_ISSTRING: e.type_name = "string"; break;
            case JENTRY_ISBOOL_TRUE:
            case JENTRY_ISBOOL_FALSE: e.type_name = "boolean"; break;
            case JENTRY_ISNULL: e.type_name = "null"; break;
            default: e.type_name = "object or array"; break;
        }
        out.push_back(e);
    }
    return out;
}

// The state of a transition or inverse function: the expanded state, or a new one made by make()
// when it is NULL (also for a skipped row: moving-window mode requires a state).
template <typename Make>
Expanded* state_of(FunctionCallInfo fcinfo, const char* fn, const char* aggregate, Make&& make) {
    MemoryContext aggcxt = aggregate_context(fcinfo, fn, aggregate);
    if (PG_ARGISNULL(0)) return Expanded::make(make(), aggcxt, kContextName);
    return aggregate_state<ClassMetricState>(fcinfo, 0, aggcxt, kContextName);
}

// (actual text, predicted text[, average text]).
Datum labels_step(FunctionCallInfo fcinfo, bool inverse) {
    const Average avg = PG_NARGS() >= 4 ? average_arg(fcinfo, 3) : Average::None;
    Expanded* ev = state_of(fcinfo, "ml_class_transition", avg == Average::None ? "ml_class_state" : "ml_f1",
                            [avg] { return ClassMetricState(false, avg); });
    ClassMetricState& s = *ev->value;
    if (s.with_proba())
        fail(ErrorKind::InvalidParameter, "a class metric state built from probabilities was given to an aggregate "
                                          "of predicted classes");
    if (s.average() != avg)
        fail(ErrorKind::InvalidParameter, "the average must be the same for every row",
             std::string("got ") + pg_learn::core::average_name(avg) + " after " +
                 pg_learn::core::average_name(s.average()));
    if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2)) {
        const std::string_view actual = text_arg(fcinfo, 1), predicted = text_arg(fcinfo, 2);
        if (inverse) s.remove(actual, predicted);
        else s.add(actual, predicted);
    }
    return ev->rw_datum();
}

// (actual text, proba jsonb).
Datum proba_step(FunctionCallInfo fcinfo, bool inverse) {
    Expanded* ev = state_of(fcinfo, "ml_class_proba_transition", "ml_class_state",
                            [] { return ClassMetricState(true); });
    ClassMetricState& s = *ev->value;
    if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2)) {
        const std::string_view actual = text_arg(fcinfo, 1);
        const std::vector<ProbaEntry> proba = proba_arg(fcinfo, 2);
        if (inverse) s.remove_proba(actual, proba);
        else s.add_proba(actual, proba);
    }
    return ev->rw_datum();
}

Datum merge_states(FunctionCallInfo fcinfo, const char* fn, const char* aggregate) {
    MemoryContext aggcxt = aggregate_context(fcinfo, fn, aggregate);
    if (PG_ARGISNULL(1)) {
        if (PG_ARGISNULL(0)) return null_result(fcinfo);
        return PG_GETARG_DATUM(0);
    }
    if (PG_ARGISNULL(0)) return aggregate_state<ClassMetricState>(fcinfo, 1, aggcxt, kContextName)->rw_datum();
    Expanded* ev = aggregate_state<ClassMetricState>(fcinfo, 0, aggcxt, kContextName);
    StateArg other;
    ev->value->merge(other.get(fcinfo, 1));
    return ev->rw_datum();
}

Average average_or_default(FunctionCallInfo fcinfo, int argno) {
    if (PG_NARGS() <= argno) return Average::Macro;
    return pg_learn::core::parse_average(text_arg(fcinfo, argno));
}

}  // namespace

// ---- I/O ----------------------------------------------------------------------------------------

PGL_FUNCTION(ml_class_metric_state_in) {
    const char* text = PG_GETARG_CSTRING(0);
    return flat_datum(ClassMetricState::from_text(text, std::strlen(text)));
}

PGL_FUNCTION(ml_class_metric_state_out) {
    StateArg a;
    const std::string s = a.get(fcinfo, 0).to_text();
    char* out = static_cast<char*>(palloc_or_throw(CurrentMemoryContext, s.size() + 1));
    std::memcpy(out, s.c_str(), s.size() + 1);
    return CStringGetDatum(out);
}

PGL_FUNCTION(ml_class_metric_state_recv) {
    StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    const auto* p = reinterpret_cast<const uint8_t*>(buf->data + buf->cursor);
    const size_t n = static_cast<size_t>(buf->len - buf->cursor);
    ClassMetricState s = ClassMetricState::decode(p, n);  // validates every byte before we accept it
    buf->cursor = buf->len;
    return flat_datum(s);
}

// Also ml_class_metric_state_bytes: the binary form as bytea (a flat state has bytea's layout).
PGL_FUNCTION(ml_class_metric_state_send) {
    Datum d = PG_GETARG_DATUM(0);
    if (Expanded* ev = Expanded::of(d)) return flat_datum(*ev->value);
    struct varlena* flat = nullptr;
    pg_guard([&]() { flat = pg_detoast_datum_copy(reinterpret_cast<struct varlena*>(DatumGetPointer(d))); });
    return PointerGetDatum(flat);
}

PGL_FUNCTION(ml_class_metric_state_from_bytes) {
    struct varlena* b = nullptr;
    pg_guard([&]() { b = PG_GETARG_VARLENA_PP(0); });
    return flat_datum(ClassMetricState::decode(reinterpret_cast<const uint8_t*>(VARDATA_ANY(b)), VARSIZE_ANY_EXHDR(b)));
}

// ---- transitions, inverse transitions, combine, final --------------------------------------------

PGL_FUNCTION(ml_class_transition) { return labels_step(fcinfo, false); }
PGL_FUNCTION(ml_class_inverse) { return labels_step(fcinfo, true); }
PGL_FUNCTION(ml_class_proba_transition) { return proba_step(fcinfo, false); }
PGL_FUNCTION(ml_class_proba_inverse) { return proba_step(fcinfo, true); }
PGL_FUNCTION(ml_class_combine) { return merge_states(fcinfo, "ml_class_combine", "class metric"); }
PGL_FUNCTION(ml_class_merge_transition) { return merge_states(fcinfo, "ml_class_merge_transition", "ml_metric_merge"); }

PGL_FUNCTION(ml_class_state_final) {
    if (PG_ARGISNULL(0)) return null_result(fcinfo);
    StateArg a;  // read-only: a state may be finalized more than once
    return flat_datum(a.get(fcinfo, 0));
}

// ---- accessors ----------------------------------------------------------------------------------

PGL_FUNCTION(ml_class_accuracy) {
    StateArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).accuracy());
}
PGL_FUNCTION(ml_class_logloss) {
    StateArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).logloss());
}
PGL_FUNCTION(ml_class_precision) {
    StateArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).precision(average_or_default(fcinfo, 1)));
}
PGL_FUNCTION(ml_class_recall) {
    StateArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).recall(average_or_default(fcinfo, 1)));
}
PGL_FUNCTION(ml_class_f1) {
    StateArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).f1(average_or_default(fcinfo, 1)));
}
// Final function of ml_f1(actual, predicted, average): the average the state carries.
PGL_FUNCTION(ml_class_f1_final) {
    if (PG_ARGISNULL(0)) return null_result(fcinfo);
    StateArg a;
    const ClassMetricState& s = a.get(fcinfo, 0);
    return optional_float8(fcinfo, s.f1(s.average() == Average::None ? Average::Macro : s.average()));
}
PGL_FUNCTION(ml_class_count) {
    StateArg a;
    return Int64GetDatum(int64(a.get(fcinfo, 0).count()));
}

PGL_FUNCTION(ml_class_confusion_matrix) {
    StateArg a;
    const std::vector<pg_learn::core::ClassCell> cells = a.get(fcinfo, 0).confusion_matrix();
    const Materialized m = materialize(fcinfo);
    pg_guard([&]() {
        for (const auto& c : cells) {
            CHECK_FOR_INTERRUPTS();
            Datum values[3] = {PointerGetDatum(cstring_to_text_with_len(c.actual.data(), int(c.actual.size()))),
                               PointerGetDatum(cstring_to_text_with_len(c.predicted.data(), int(c.predicted.size()))),
                               Int64GetDatum(int64(c.n))};
            bool nulls[3] = {false, false, false};
            tuplestore_putvalues(m.store, m.desc, values, nulls);
        }
    });
    return Datum(0);
}

PGL_FUNCTION(ml_class_report) {
    StateArg a;
    const std::vector<pg_learn::core::ClassScores> rows = a.get(fcinfo, 0).report();
    const Materialized m = materialize(fcinfo);
    pg_guard([&]() {
        for (const auto& r : rows) {
            Datum values[5] = {PointerGetDatum(cstring_to_text_with_len(r.cls.data(), int(r.cls.size()))),
                               Float8GetDatum(r.precision), Float8GetDatum(r.recall), Float8GetDatum(r.f1),
                               Int64GetDatum(int64(r.support))};
            bool nulls[5] = {false, false, false, false, false};
            tuplestore_putvalues(m.store, m.desc, values, nulls);
        }
    });
    return Datum(0);
}
