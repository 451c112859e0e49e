// The ml_profile type: text (JSON) and binary I/O, the ml_profile(jsonb) / ml_profile(record) /
// ml_profile_merge aggregates with an expanded-object state, the per-feature listing and lookups.
#include "pg/common/expanded_value.hpp"
#include "pg/common/features.hpp"
#include "pg/common/row_columns.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "miscadmin.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"
}

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/stats/profile.hpp"
#include "core/common/text.hpp"

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;
using pg_learn::core::FeatureProfile;
using pg_learn::core::FeatureStats;
using pg_learn::core::Profile;
using pg_learn::core::StatsKind;
using pg_learn::core::ValueType;
using namespace pg_learn::pg;

namespace {

using Expanded = ExpandedValue<Profile>;
constexpr const char* kContextName = "ml_profile";

// The ml_profile in argument argno, read in place when it is an expanded value.
struct ProfileArg {
    std::optional<Profile> holder;
    const Profile& get(FunctionCallInfo fcinfo, int argno) {
        return read_value<Profile>(PG_GETARG_DATUM(argno), holder);
    }
};

Datum null_result(FunctionCallInfo fcinfo) {
    fcinfo->isnull = true;
    return Datum(0);
}

// ---- jsonb rows ---------------------------------------------------------------------------------

// One jsonb object as one row: numbers, strings, booleans and null by their type; a nested object
// or array is counted as a "nested" value (the profile records it instead of failing the
// aggregate at the first odd row, which is what data validation is for). A non-object x is an
// error (it names no features), as for models.
void add_jsonb_row(Profile& p, Datum datum) {
    Jsonb* jb = nullptr;
    pg_guard([&]() { jb = DatumGetJsonbP(datum); });
    if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
        fail(ErrorKind::InvalidParameter, "ml_profile: x must be a JSON object",
             JB_ROOT_IS_SCALAR(jb) ? "got a scalar" : "got an array", "Write rows as {\"name\": value, ...}.");
    p.start_row();
    JsonbIterator* it = nullptr;
    JsonbValue v;
    JsonbIteratorToken tok;
    std::string_view key;
    // As in features.cpp: with skipNested, JsonbIteratorNext neither allocates nor fails (it
    // returns a nested container as one jbvBinary value without descending into it).
    pg_guard([&]() { it = JsonbIteratorInit(&jb->root); });
    while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
        if (tok == WJB_KEY) {
            key = std::string_view(v.val.string.val, v.val.string.len);
            continue;
        }
        if (tok != WJB_VALUE) continue;
        switch (v.type) {
            case jbvNumeric: p.add_number(key, numeric_to_double(v.val.numeric)); break;
            case jbvString: p.add_string(key, std::string_view(v.val.string.val, v.val.string.len)); break;
            case jbvBool: p.add_boolean(key, v.val.boolean); break;
            case jbvNull: p.add_null(key); break;
            default: p.add_nested(key); break;
        }
    }
}

// ---- record rows --------------------------------------------------------------------------------
//
// One composite value as one row. A column of a type that cannot be a feature is an error
// naming the column, as for models (a profile has no "ignore": select the columns to profile);
// it is found when the plan of the row type is built. The plan is cached in the transition
// function's fn_extra (its memory lives as long as the function's).
void add_record_row(FunctionCallInfo fcinfo, Profile& p, Datum row) {
    RowPlan* plan = nullptr;
    pg_guard([&]() {
        RowPlan* cached = static_cast<RowPlan*>(fcinfo->flinfo->fn_extra);
        bool rebuilt;
        plan = deform_row(row, fcinfo->flinfo->fn_mcxt, &cached, &rebuilt);
        fcinfo->flinfo->fn_extra = cached;
        if (!rebuilt) return;
        for (int i = 0; i < plan->natts; i++) {
            const ColumnPlan& c = plan->columns[i];
            if (c.kind != ColumnKind::Unsupported && !is_timestamp_kind(c.kind)) continue;  // timestamps: models only
            fcinfo->flinfo->fn_extra = nullptr;  // the next row must fail too
            ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                            errmsg("column \"%s\" has type %s, which cannot be a feature",
                                   NameStr(c.name), format_type_be(c.type_id)),
                            errhint("ml_profile reads numeric, boolean, text and enum columns; profile a subquery "
                                    "of the feature columns (SELECT ml_profile(s) FROM (SELECT a, b FROM t) s), "
                                    "cast the column, or pass to_jsonb(t) - 'column'.")));
        }
    });
    // ROW(a, b) would profile features f1 and f2, which no model of named columns knows.
    if (plan->anonymous) refuse_anonymous_row(plan, nullptr, -1, "ml_profile");
    struct Sink {
        Profile& p;
        std::string_view name;
        void number(double v) { p.add_number(name, v); }
        void boolean(bool b) { p.add_boolean(name, b); }
        void string(std::string_view s) { p.add_string(name, s); }
    };
    p.start_row();
    for (int i = 0; i < plan->natts; i++) {
        const ColumnPlan& c = plan->columns[i];
        if (c.kind == ColumnKind::Skip) continue;
        const std::string_view name = column_name(c);
        if (plan->nulls[i]) {
            p.add_null(name);
            continue;
        }
        visit_column_value(c, plan->values[i], Sink{p, name});
    }
}

// The state of a transition function: a new expanded profile when NULL.
Expanded* transition_state(FunctionCallInfo fcinfo, MemoryContext aggcxt) {
    if (PG_ARGISNULL(0)) return Expanded::make(Profile(), aggcxt, kContextName);
    return aggregate_state<Profile>(fcinfo, 0, aggcxt, kContextName);
}

// A text argument's bytes, detoasted in the current memory context.
std::string_view text_arg(FunctionCallInfo fcinfo, int argno) {
    text* t = nullptr;
    pg_guard([&]() { t = PG_GETARG_TEXT_PP(argno); });
    return std::string_view(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

StatsKind kind_arg(FunctionCallInfo fcinfo, int argno) {
    const std::string_view k = text_arg(fcinfo, argno);
    if (k == "numeric") return StatsKind::Numeric;
    if (k == "categorical") return StatsKind::Categorical;
    fail(ErrorKind::InvalidParameter, "the kind of statistics must be 'numeric' or 'categorical'",
         "got '" + pg_learn::core::message_name(k) + "'");
}

}  // namespace

// ---- I/O ------------------------------------------------------------------------------------

PGL_FUNCTION(ml_profile_in) {
    const char* text = PG_GETARG_CSTRING(0);
    return PointerGetDatum(flatten_value(Profile::from_text(text, std::strlen(text)), CurrentMemoryContext));
}

PGL_FUNCTION(ml_profile_out) {
    ProfileArg a;
    const std::string s = a.get(fcinfo, 0).to_text();
    char* out = static_cast<char*>(palloc_or_throw(CurrentMemoryContext, s.size() + 1));
    std::memcpy(out, s.c_str(), s.size() + 1);
    return CStringGetDatum(out);
}

PGL_FUNCTION(ml_profile_recv) {
    StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    const auto* p = reinterpret_cast<const uint8_t*>(buf->data + buf->cursor);
    const size_t n = static_cast<size_t>(buf->len - buf->cursor);
    Profile v = Profile::decode(p, n);  // validates every byte before we accept it
    buf->cursor = buf->len;
    return PointerGetDatum(flatten_value(v, CurrentMemoryContext));
}

// Also ml_profile_bytes: the binary form as bytea (a flat ml_profile has bytea's layout).
PGL_FUNCTION(ml_profile_send) {
    Datum d = PG_GETARG_DATUM(0);
    if (Expanded* ev = Expanded::of(d)) return PointerGetDatum(flatten_value(*ev->value, CurrentMemoryContext));
    struct varlena* flat = nullptr;
    pg_guard([&]() { flat = pg_detoast_datum_copy(reinterpret_cast<struct varlena*>(DatumGetPointer(d))); });
    return PointerGetDatum(flat);
}

PGL_FUNCTION(ml_profile_from_bytes) {
    struct varlena* b = nullptr;
    pg_guard([&]() { b = PG_GETARG_VARLENA_PP(0); });
    Profile v = Profile::decode(reinterpret_cast<const uint8_t*>(VARDATA_ANY(b)), VARSIZE_ANY_EXHDR(b));
    return PointerGetDatum(flatten_value(v, CurrentMemoryContext));
}

PGL_FUNCTION(ml_profile_jsonb) {
    ProfileArg a;
    // Categorical values are the database's bytes: invalid UTF-8 (possible only in a database of
    // another encoding) is replaced rather than refused, as in ml_stats::jsonb.
    const std::string s =
        a.get(fcinfo, 0).summary().dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    Datum result = 0;
    pg_guard([&]() { result = DirectFunctionCall1(jsonb_in, CStringGetDatum(s.c_str())); });
    return result;
}

// ---- aggregates -----------------------------------------------------------------------------
//
// A NULL x (no row at all, e.g. the missing side of an outer join) is skipped, as count(x) skips
// it: only rows that exist are counted. A row whose columns are all NULL is a row.

PGL_FUNCTION(ml_profile_transition_jsonb) {
    MemoryContext aggcxt = aggregate_context(fcinfo, "ml_profile_transition", "ml_profile");
    if (PG_ARGISNULL(1)) {
        if (PG_ARGISNULL(0)) return null_result(fcinfo);
        return PG_GETARG_DATUM(0);
    }
    Expanded* ev = transition_state(fcinfo, aggcxt);
    add_jsonb_row(*ev->value, PG_GETARG_DATUM(1));
    return ev->rw_datum();
}

PGL_FUNCTION(ml_profile_transition_record) {
    MemoryContext aggcxt = aggregate_context(fcinfo, "ml_profile_transition", "ml_profile");
    if (PG_ARGISNULL(1)) {
        if (PG_ARGISNULL(0)) return null_result(fcinfo);
        return PG_GETARG_DATUM(0);
    }
    Expanded* ev = transition_state(fcinfo, aggcxt);
    add_record_row(fcinfo, *ev->value, PG_GETARG_DATUM(1));
    return ev->rw_datum();
}

namespace {

// state merged with argument 1; NULL inputs are skipped.
Datum merge_into_state(FunctionCallInfo fcinfo, const char* fn, const char* aggregate) {
    MemoryContext aggcxt = aggregate_context(fcinfo, fn, aggregate);
    if (PG_ARGISNULL(1)) {
        if (PG_ARGISNULL(0)) return null_result(fcinfo);
        return PG_GETARG_DATUM(0);
    }
    if (PG_ARGISNULL(0)) return aggregate_state<Profile>(fcinfo, 1, aggcxt, kContextName)->rw_datum();
    Expanded* ev = aggregate_state<Profile>(fcinfo, 0, aggcxt, kContextName);
    ProfileArg other;
    ev->value->merge(other.get(fcinfo, 1));
    return ev->rw_datum();
}

}  // namespace

PGL_FUNCTION(ml_profile_merge_transition) {
    return merge_into_state(fcinfo, "ml_profile_merge_transition", "ml_profile_merge");
}

// The partial states are merged in canonical order, not in their order of arrival (docs/statistics.md).
PGL_FUNCTION(ml_profile_combine) {
    MemoryContext aggcxt = aggregate_context(fcinfo, "ml_profile_combine", "ml_profile");
    if (PG_ARGISNULL(1)) {
        if (PG_ARGISNULL(0)) return null_result(fcinfo);
        return PG_GETARG_DATUM(0);
    }
    if (PG_ARGISNULL(0)) return aggregate_state<Profile>(fcinfo, 1, aggcxt, kContextName)->rw_datum();
    return combine_partial_states<Profile>(fcinfo, aggcxt, kContextName);
}

PGL_FUNCTION(ml_profile_final) {
    if (PG_ARGISNULL(0)) return null_result(fcinfo);
    // Read-only: the state may be finalized more than once (window aggregates).
    ProfileArg a;
    return PointerGetDatum(flatten_value(a.get(fcinfo, 0), CurrentMemoryContext));
}

// ---- lookups --------------------------------------------------------------------------------

PGL_FUNCTION(ml_profile_rows) {
    ProfileArg a;
    return Int64GetDatum(int64(a.get(fcinfo, 0).rows()));
}

// ml_profile_stats(p, name) and ml_profile_stats(p, name, kind).
PGL_FUNCTION(ml_profile_stats) {
    ProfileArg a;
    const Profile& p = a.get(fcinfo, 0);
    const FeatureProfile* f = p.find(text_arg(fcinfo, 1));
    std::optional<StatsKind> kind;
    if (PG_NARGS() > 2) kind = kind_arg(fcinfo, 2);
    if (!f) return null_result(fcinfo);
    const std::optional<FeatureStats> s = kind ? f->stats(*kind) : f->stats();
    if (!s) return null_result(fcinfo);
    return PointerGetDatum(flatten_value(*s, CurrentMemoryContext));
}

PGL_FUNCTION(ml_profile_features) {
    ProfileArg a;
    const Profile& p = a.get(fcinfo, 0);
    const Materialized m = materialize(fcinfo);
    constexpr int kColumns = 22;
    for (const auto& entry : p.features()) {
        // (No structured binding: C++17 lambdas cannot capture one, and clang says so.)
        const std::string& name = entry.first;
        const FeatureProfile& f = entry.second;
        pg_guard([]() { CHECK_FOR_INTERRUPTS(); });
        // The C++ work first; then only PostgreSQL calls, under the guard.
        const auto type = f.type();
        const FeatureStats* num = f.values(StatsKind::Numeric);
        const FeatureStats* cat = f.values(StatsKind::Categorical);
        const std::vector<std::string> domain = f.domain();
        const std::optional<FeatureStats> stats = f.stats();
        std::optional<double> mean, stddev, min, max;
        const uint64_t distinct = cat ? cat->distinct() : 0;
        const bool complete = f.domain_complete();
        if (num) {
            mean = num->mean();
            stddev = num->stddev();
            min = num->min();
            max = num->max();
        }
        struct varlena* stats_flat = stats ? flatten_value(*stats, CurrentMemoryContext) : nullptr;
        pg_guard([&]() {
            Datum v[kColumns];
            bool n[kColumns];
            for (int i = 0; i < kColumns; i++) {
                v[i] = 0;
                n[i] = true;
            }
            auto set = [&](int i, Datum d) {
                v[i] = d;
                n[i] = false;
            };
            set(0, PointerGetDatum(cstring_to_text_with_len(name.data(), int(name.size()))));
            if (type) set(1, PointerGetDatum(cstring_to_text(pg_learn::core::value_type_name(*type))));
            set(2, BoolGetDatum(f.type_conflict()));
            set(3, Float8GetDatum(p.presence(f)));
            set(4, Int64GetDatum(int64(f.count())));
            set(5, Int64GetDatum(int64(f.null_count())));
            set(6, Int64GetDatum(int64(p.missing_count(f))));
            set(7, Int64GetDatum(int64(f.type_count(ValueType::Numeric))));
            set(8, Int64GetDatum(int64(f.type_count(ValueType::Boolean))));
            set(9, Int64GetDatum(int64(f.type_count(ValueType::Categorical))));
            set(10, Int64GetDatum(int64(f.type_count(ValueType::Nested))));
            if (num) {
                set(11, Int64GetDatum(int64(num->nan_count())));
                set(12, Int64GetDatum(int64(num->pos_inf_count() + num->neg_inf_count())));
                set(13, Int64GetDatum(int64(num->zero_count())));
            }
            if (mean) set(14, Float8GetDatum(*mean));
            if (stddev) set(15, Float8GetDatum(*stddev));
            if (min) set(16, Float8GetDatum(*min));
            if (max) set(17, Float8GetDatum(*max));
            if (cat) {
                set(18, Int64GetDatum(int64(distinct)));
                Datum* ds = static_cast<Datum*>(palloc(sizeof(Datum) * (domain.size() + 1)));
                for (size_t i = 0; i < domain.size(); i++)
                    ds[i] = PointerGetDatum(cstring_to_text_with_len(domain[i].data(), int(domain[i].size())));
                set(19, PointerGetDatum(construct_array(ds, int(domain.size()), TEXTOID, -1, false, TYPALIGN_INT)));
                set(20, BoolGetDatum(complete));
            }
            if (stats_flat) set(21, PointerGetDatum(stats_flat));
            tuplestore_putvalues(m.store, m.desc, v, n);
            // The tuple store has copied the row: a profile of many features must not keep
            // every feature's statistics in this call's memory.
            if (stats_flat) pfree(stats_flat);
            if (!n[19]) pfree(DatumGetPointer(v[19]));
        });
    }
    return Datum(0);
}
