// The ml_stats type: text (JSON) and binary I/O, the ml_stats / ml_stats_merge aggregates with an
// expanded-object state, and the accessors (moments, quantiles, histograms, top-k, distinct).
#include "pg/common/expanded_value.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "nodes/execnodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"
}

#include <optional>
#include <string>
#include <vector>

#include "core/stats/feature_stats.hpp"

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;
using pg_learn::core::FeatureStats;
using pg_learn::core::StatsKind;
using namespace pg_learn::pg;

namespace {

using Expanded = ExpandedValue<FeatureStats>;
constexpr const char* kContextName = "ml_stats";

// The ml_stats in argument argno, read in place when it is an expanded value.
struct StatsArg {
    std::optional<FeatureStats> holder;
    const FeatureStats& get(FunctionCallInfo fcinfo, int argno) {
        return read_value<FeatureStats>(PG_GETARG_DATUM(argno), holder);
    }
};

Datum flat_datum(const FeatureStats& s) { return PointerGetDatum(flatten_value(s, CurrentMemoryContext)); }

Datum null_result(FunctionCallInfo fcinfo) {
    fcinfo->isnull = true;
    return Datum(0);
}

Datum optional_float8(FunctionCallInfo fcinfo, std::optional<double> v) {
    if (!v) return null_result(fcinfo);
    return Float8GetDatum(*v);
}

uint32_t bins_arg(FunctionCallInfo fcinfo, int argno) {
    const int32 bins = PG_GETARG_INT32(argno);
    if (bins < 1 || uint32_t(bins) > pg_learn::core::kStatsMaxBins)
        fail(ErrorKind::InvalidParameter,
             "the number of bins must be between 1 and " + std::to_string(pg_learn::core::kStatsMaxBins),
             "got " + std::to_string(bins));
    return uint32_t(bins);
}

// The state of a transition function: a new expanded FeatureStats of kind when NULL.
Expanded* transition_state(FunctionCallInfo fcinfo, const char* fn, StatsKind kind) {
    MemoryContext aggcxt = aggregate_context(fcinfo, fn, "ml_stats");
    if (PG_ARGISNULL(0)) return Expanded::make(FeatureStats(kind), aggcxt, kContextName);
    return aggregate_state<FeatureStats>(fcinfo, 0, aggcxt, kContextName);
}

}  // namespace

// ---- I/O ------------------------------------------------------------------------------------

PGL_FUNCTION(ml_stats_in) {
    const char* text = PG_GETARG_CSTRING(0);
    return flat_datum(FeatureStats::from_text(text, std::strlen(text)));
}

PGL_FUNCTION(ml_stats_out) {
    StatsArg a;
    const std::string s = a.get(fcinfo, 0).to_text();
    char* out = static_cast<char*>(palloc_or_throw(CurrentMemoryContext, s.size() + 1));
    std::memcpy(out, s.c_str(), s.size() + 1);
    return CStringGetDatum(out);
}

PGL_FUNCTION(ml_stats_recv) {
    StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    const auto* p = reinterpret_cast<const uint8_t*>(buf->data + buf->cursor);
    const size_t n = static_cast<size_t>(buf->len - buf->cursor);
    FeatureStats s = FeatureStats::decode(p, n);  // validates every byte before we accept it
    buf->cursor = buf->len;
    return flat_datum(s);
}

// Also ml_stats_bytes: the binary form as bytea (a flat ml_stats has bytea's layout).
PGL_FUNCTION(ml_stats_send) {
    Datum d = PG_GETARG_DATUM(0);
    if (Expanded* ev = Expanded::of(d)) return flat_datum(*ev->value);
    struct varlena* flat = nullptr;
    pg_guard([&]() { flat = pg_detoast_datum_copy(reinterpret_cast<struct varlena*>(DatumGetPointer(d))); });
    return PointerGetDatum(flat);
}

PGL_FUNCTION(ml_stats_from_bytes) {
    struct varlena* b = nullptr;
    pg_guard([&]() { b = PG_GETARG_VARLENA_PP(0); });
    FeatureStats s =
        FeatureStats::decode(reinterpret_cast<const uint8_t*>(VARDATA_ANY(b)), VARSIZE_ANY_EXHDR(b));
    return flat_datum(s);
}

PGL_FUNCTION(ml_stats_jsonb) {
    StatsArg a;
    // Values of a categorical column are the database's bytes: invalid UTF-8 (possible only in
    // a database of another encoding) is replaced rather than refused.
    const std::string s = a.get(fcinfo, 0).summary().dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    Datum result = 0;
    pg_guard([&]() { result = DirectFunctionCall1(jsonb_in, CStringGetDatum(s.c_str())); });
    return result;
}

// ---- aggregates -----------------------------------------------------------------------------

namespace {

// Every row but the first of a plain aggregate: nodeAgg's own read/write state (what
// AggCheckCallContext accepts), updated in place; the nullptr when the row needs more.
inline Expanded* plain_aggregate_state(FunctionCallInfo fcinfo) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || !fcinfo->context || !IsA(fcinfo->context, AggState) ||
        !VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(PG_GETARG_DATUM(0))))
        return nullptr;
    Expanded* ev = Expanded::of_unresolved(PG_GETARG_DATUM(0));
    return ev && !ev->has_parts() ? ev : nullptr;  // (a transition state never has parts)
}

Datum stats_transition_float8(FunctionCallInfo fcinfo);

}  // namespace

// Written out instead of PGL_FUNCTION: the common row (plain_aggregate_state and
// FeatureStats::try_add_fast, which cannot throw) returns before the error boundary is set up.
extern "C" {
PG_FUNCTION_INFO_V1(ml_stats_transition_float8);
PGDLLEXPORT Datum ml_stats_transition_float8(PG_FUNCTION_ARGS) {
    if (Expanded* ev = plain_aggregate_state(fcinfo); ev && ev->value->try_add_fast(PG_GETARG_FLOAT8(1)))
        return ev->rw_datum();
    return pg_learn::pg::boundary([fcinfo]() { return stats_transition_float8(fcinfo); });
}
}

namespace {

Datum stats_transition_float8(FunctionCallInfo fcinfo) {
    if (Expanded* ev = plain_aggregate_state(fcinfo)) {
        ev->value->add(PG_GETARG_FLOAT8(1));
        return ev->rw_datum();
    }
    Expanded* ev = transition_state(fcinfo, "ml_stats_transition", StatsKind::Numeric);
    if (PG_ARGISNULL(1)) ev->value->add_null();
    else ev->value->add(PG_GETARG_FLOAT8(1));
    return ev->rw_datum();
}

}  // namespace

namespace {

// trim_blanks: a char(n) value, whose trailing blanks pad it and are not part of the value.
Datum stats_transition_text(FunctionCallInfo fcinfo, bool trim_blanks) {
    Expanded* ev = transition_state(fcinfo, "ml_stats_transition", StatsKind::Categorical);
    if (PG_ARGISNULL(1)) {
        ev->value->add_null();
    } else {
        struct varlena* raw = reinterpret_cast<struct varlena*>(DatumGetPointer(PG_GETARG_DATUM(1)));
        struct varlena* t = nullptr;
        pg_guard([&]() { t = pg_detoast_datum_packed(raw); });
        std::string_view v(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
        if (trim_blanks)
            while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
        ev->value->add(v);
        if (t != raw) pfree(t);
    }
    return ev->rw_datum();
}

}  // namespace

PGL_FUNCTION(ml_stats_transition_text) { return stats_transition_text(fcinfo, false); }
PGL_FUNCTION(ml_stats_transition_bpchar) { return stats_transition_text(fcinfo, true); }

// ml_stats_merge's transition: NULL inputs are skipped, so only NULLs (or no rows) give NULL.
PGL_FUNCTION(ml_stats_merge_transition) {
    MemoryContext aggcxt = aggregate_context(fcinfo, "ml_stats_merge_transition", "ml_stats_merge");
    if (PG_ARGISNULL(1)) {
        if (PG_ARGISNULL(0)) return null_result(fcinfo);
        return PG_GETARG_DATUM(0);
    }
    if (PG_ARGISNULL(0)) return aggregate_state<FeatureStats>(fcinfo, 1, aggcxt, kContextName)->rw_datum();
    Expanded* ev = aggregate_state<FeatureStats>(fcinfo, 0, aggcxt, kContextName);
    StatsArg other;
    ev->value->merge(other.get(fcinfo, 1));
    return ev->rw_datum();
}

// The partial states are merged in canonical order, not in their order of arrival (docs/statistics.md).
PGL_FUNCTION(ml_stats_combine) {
    MemoryContext aggcxt = aggregate_context(fcinfo, "ml_stats_combine", "ml_stats");
    if (PG_ARGISNULL(1)) {
        if (PG_ARGISNULL(0)) return null_result(fcinfo);
        return PG_GETARG_DATUM(0);
    }
    if (PG_ARGISNULL(0)) return aggregate_state<FeatureStats>(fcinfo, 1, aggcxt, kContextName)->rw_datum();
    return combine_partial_states<FeatureStats>(fcinfo, aggcxt, kContextName);
}

PGL_FUNCTION(ml_stats_final) {
    if (PG_ARGISNULL(0)) return null_result(fcinfo);
    // Read-only: the state may be finalized more than once (window aggregates).
    StatsArg a;
    return flat_datum(a.get(fcinfo, 0));
}

// ---- accessors ------------------------------------------------------------------------------

PGL_FUNCTION(ml_stats_count) {
    StatsArg a;
    return Int64GetDatum(int64(a.get(fcinfo, 0).count()));
}

PGL_FUNCTION(ml_stats_null_count) {
    StatsArg a;
    return Int64GetDatum(int64(a.get(fcinfo, 0).null_count()));
}

PGL_FUNCTION(ml_stats_nan_count) {
    StatsArg a;
    return Int64GetDatum(int64(a.get(fcinfo, 0).nan_count()));
}

PGL_FUNCTION(ml_stats_inf_count) {
    StatsArg a;
    const FeatureStats& s = a.get(fcinfo, 0);
    return Int64GetDatum(int64(s.pos_inf_count() + s.neg_inf_count()));
}

PGL_FUNCTION(ml_stats_zero_count) {
    StatsArg a;
    return Int64GetDatum(int64(a.get(fcinfo, 0).zero_count()));
}

PGL_FUNCTION(ml_stats_mean) {
    StatsArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).mean());
}

PGL_FUNCTION(ml_stats_stddev) {
    StatsArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).stddev());
}

PGL_FUNCTION(ml_stats_variance) {
    StatsArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).variance());
}

PGL_FUNCTION(ml_stats_min) {
    StatsArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).min());
}

PGL_FUNCTION(ml_stats_max) {
    StatsArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).max());
}

PGL_FUNCTION(ml_stats_quantile) {
    StatsArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).quantile(PG_GETARG_FLOAT8(1)));
}

PGL_FUNCTION(ml_stats_quantiles) {
    StatsArg a;
    const FeatureStats& s = a.get(fcinfo, 0);
    std::vector<double> qs;
    bool has_null = false;
    int ndim = 0;
    pg_guard([&]() {
        ArrayType* arr = PG_GETARG_ARRAYTYPE_P(1);
        ndim = ARR_NDIM(arr);
        Datum* elems = nullptr;
        bool* nulls = nullptr;
        int n = 0;
        if (ndim <= 1) {
            deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &n);
            for (int i = 0; i < n; i++) {
                if (nulls[i]) has_null = true;
                else qs.push_back(DatumGetFloat8(elems[i]));
            }
        }
    });
    if (ndim > 1)
        fail(ErrorKind::InvalidParameter, "the quantiles of ml_quantiles must be a one-dimensional array",
             "got " + std::to_string(ndim) + " dimensions");
    if (has_null) fail(ErrorKind::NullValue, "the quantiles of ml_quantiles must not be NULL");
    const auto vs = s.quantiles(qs);
    if (!vs) return null_result(fcinfo);
    Datum result = 0;
    pg_guard([&]() {
        Datum* ds = static_cast<Datum*>(palloc(sizeof(Datum) * (vs->size() + 1)));
        for (size_t i = 0; i < vs->size(); i++) ds[i] = Float8GetDatum((*vs)[i]);
        result = PointerGetDatum(
            construct_array(ds, int(vs->size()), FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
    });
    return result;
}

PGL_FUNCTION(ml_stats_rank_error) {
    StatsArg a;
    return Float8GetDatum(a.get(fcinfo, 0).rank_error_bound(0.01));
}

namespace {

Datum histogram_rows(FunctionCallInfo fcinfo, bool equal_count) {
    StatsArg a;
    const FeatureStats& s = a.get(fcinfo, 0);
    const uint32_t bins = bins_arg(fcinfo, 1);
    const std::vector<pg_learn::core::HistogramBin> hs =
        equal_count ? s.histogram_equal_count(bins) : s.histogram(bins);
    const Materialized m = materialize(fcinfo);
    pg_guard([&]() {
        for (size_t i = 0; i < hs.size(); i++) {
            Datum values[5] = {Int32GetDatum(int32(i + 1)), Float8GetDatum(hs[i].lo), Float8GetDatum(hs[i].hi),
                               Int64GetDatum(int64(hs[i].count)), Float8GetDatum(hs[i].fraction)};
            bool nulls[5] = {false, false, false, false, false};
            tuplestore_putvalues(m.store, m.desc, values, nulls);
        }
    });
    return Datum(0);
}

}  // namespace

PGL_FUNCTION(ml_stats_histogram) { return histogram_rows(fcinfo, false); }
PGL_FUNCTION(ml_stats_histogram_equal_count) { return histogram_rows(fcinfo, true); }

PGL_FUNCTION(ml_stats_top_k) {
    StatsArg a;
    const std::vector<pg_learn::core::TopKEntry> top = a.get(fcinfo, 0).top_k();
    const Materialized m = materialize(fcinfo);
    pg_guard([&]() {
        for (const auto& e : top) {
            Datum values[4] = {PointerGetDatum(cstring_to_text_with_len(e.value.data(), int(e.value.size()))),
                               Int64GetDatum(int64(e.count)), Int64GetDatum(int64(e.error)),
                               Float8GetDatum(e.fraction)};
            bool nulls[4] = {false, false, false, false};
            tuplestore_putvalues(m.store, m.desc, values, nulls);
        }
    });
    return Datum(0);
}

PGL_FUNCTION(ml_stats_distinct) {
    StatsArg a;
    return Int64GetDatum(int64(a.get(fcinfo, 0).distinct()));
}

PGL_FUNCTION(ml_stats_kind) {
    StatsArg a;
    const char* k = pg_learn::core::stats_kind_name(a.get(fcinfo, 0).kind());
    Datum result = 0;
    pg_guard([&]() { result = PointerGetDatum(cstring_to_text(k)); });
    return result;
}
