// The ml_profile type: text (JSON) and binary I/O, the ml_profile(jsonb) / ml_profile(record) /
// ml_profile_merge aggregates with an expanded-object state, the per-feature listing and lookups.
#include "expanded_value.hpp"
#include "features.hpp"

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

#include "profile.hpp"
#include "text.hpp"

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
// The column types a model reads (features.cpp): integers, floating, numeric -> numbers; boolean;
// text, varchar, char(n), name and enums -> strings. Any other column type is an error naming the
// column, as for models (a profile has no "ignore": select the columns to profile).

enum class ColumnKind : uint8_t { Skip, Int2, Int4, Int8, Float4, Float8, Numeric, Bool, Text, Bpchar, Name, Enum };

struct ColumnPlan {
    ColumnKind kind;
    NameData name;
    Oid output_fn;  // enums: the label comes from the output function
};

struct RowPlan {
    Oid type_id;
    int32 typmod;
    TupleDesc desc;
    int natts;
    ColumnPlan* columns;
    Datum* values;
    bool* nulls;
};

bool column_kind(Oid type, ColumnKind& kind, Oid& output_fn) {
    const Oid base = getBaseType(type);
    output_fn = InvalidOid;
    switch (base) {
        case INT2OID: kind = ColumnKind::Int2; return true;
        case INT4OID: kind = ColumnKind::Int4; return true;
        case INT8OID: kind = ColumnKind::Int8; return true;
        case FLOAT4OID: kind = ColumnKind::Float4; return true;
        case FLOAT8OID: kind = ColumnKind::Float8; return true;
        case NUMERICOID: kind = ColumnKind::Numeric; return true;
        case BOOLOID: kind = ColumnKind::Bool; return true;
        case TEXTOID:
        case VARCHAROID: kind = ColumnKind::Text; return true;
        case NAMEOID: kind = ColumnKind::Name; return true;
        case BPCHAROID: kind = ColumnKind::Bpchar; return true;
        default:
            if (type_is_enum(base)) {
                bool varlena;
                kind = ColumnKind::Enum;
                getTypeOutputInfo(base, &output_fn, &varlena);
                return true;
            }
            return false;
    }
}

// Plain C code under pg_guard: may ereport, holds no C++ objects.
RowPlan* build_row_plan(MemoryContext cxt, Oid type_id, int32 typmod) {
    TupleDesc tupdesc = lookup_rowtype_tupdesc(type_id, typmod);
    for (int i = 0; i < tupdesc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(tupdesc, i);
        ColumnKind kind;
        Oid output_fn;
        if (att->attisdropped || column_kind(att->atttypid, kind, output_fn)) continue;
        char* column = pstrdup(NameStr(att->attname));
        char* type = format_type_be(att->atttypid);
        ReleaseTupleDesc(tupdesc);
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("column \"%s\" has type %s, which cannot be a feature", column, type),
                        errhint("ml_profile reads numeric, boolean, text and enum columns; profile a subquery "
                                "of the feature columns (SELECT ml_profile(s) FROM (SELECT a, b FROM t) s), "
                                "cast the column, or pass to_jsonb(t) - 'column'.")));
    }
    MemoryContext old = MemoryContextSwitchTo(cxt);
    auto* plan = static_cast<RowPlan*>(palloc0(sizeof(RowPlan)));
    plan->type_id = type_id;
    plan->typmod = typmod;
    plan->desc = CreateTupleDescCopy(tupdesc);
    plan->natts = tupdesc->natts;
    plan->columns = static_cast<ColumnPlan*>(palloc0(sizeof(ColumnPlan) * Max(1, tupdesc->natts)));
    plan->values = static_cast<Datum*>(palloc0(sizeof(Datum) * Max(1, tupdesc->natts)));
    plan->nulls = static_cast<bool*>(palloc0(sizeof(bool) * Max(1, tupdesc->natts)));
    MemoryContextSwitchTo(old);
    for (int i = 0; i < tupdesc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(tupdesc, i);
        ColumnPlan& c = plan->columns[i];
        c.name = att->attname;
        if (att->attisdropped) c.kind = ColumnKind::Skip;
        else column_kind(att->atttypid, c.kind, c.output_fn);
    }
    ReleaseTupleDesc(tupdesc);
    return plan;
}

// One composite value as one row; the column plan is cached in the transition function's
// fn_extra (its memory lives as long as the function's).
void add_record_row(FunctionCallInfo fcinfo, Profile& p, Datum row) {
    RowPlan* plan = nullptr;
    pg_guard([&]() {
        HeapTupleHeader td = DatumGetHeapTupleHeader(row);
        const Oid type_id = HeapTupleHeaderGetTypeId(td);
        const int32 typmod = HeapTupleHeaderGetTypMod(td);
        plan = static_cast<RowPlan*>(fcinfo->flinfo->fn_extra);
        if (!plan || plan->type_id != type_id || plan->typmod != typmod) {
            plan = build_row_plan(fcinfo->flinfo->fn_mcxt, type_id, typmod);
            fcinfo->flinfo->fn_extra = plan;
        }
        HeapTupleData tuple;
        tuple.t_len = HeapTupleHeaderGetDatumLength(td);
        ItemPointerSetInvalid(&tuple.t_self);
        tuple.t_tableOid = InvalidOid;
        tuple.t_data = td;
        heap_deform_tuple(&tuple, plan->desc, plan->values, plan->nulls);
    });
    p.start_row();
    for (int i = 0; i < plan->natts; i++) {
        const ColumnPlan& c = plan->columns[i];
        if (c.kind == ColumnKind::Skip) continue;
        const std::string_view name(NameStr(c.name), strnlen(NameStr(c.name), NAMEDATALEN));
        if (plan->nulls[i]) {
            p.add_null(name);
            continue;
        }
        const Datum v = plan->values[i];
        switch (c.kind) {
            case ColumnKind::Int2: p.add_number(name, DatumGetInt16(v)); break;
            case ColumnKind::Int4: p.add_number(name, DatumGetInt32(v)); break;
            case ColumnKind::Int8: p.add_number(name, static_cast<double>(DatumGetInt64(v))); break;
            case ColumnKind::Float4: p.add_number(name, DatumGetFloat4(v)); break;
            case ColumnKind::Float8: p.add_number(name, DatumGetFloat8(v)); break;
            case ColumnKind::Bool: p.add_boolean(name, DatumGetBool(v)); break;
            case ColumnKind::Numeric: {
                // NaN and +-Infinity of a numeric column are counted as such.
                Numeric num = nullptr;
                pg_guard([&]() { num = DatumGetNumeric(v); });
                p.add_number(name, numeric_to_double(num));
                break;
            }
            case ColumnKind::Text:
            case ColumnKind::Bpchar: {
                struct varlena* t = nullptr;
                pg_guard([&]() { t = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(v))); });
                size_t len = VARSIZE_ANY_EXHDR(t);
                const char* s = VARDATA_ANY(t);
                if (c.kind == ColumnKind::Bpchar)
                    while (len > 0 && s[len - 1] == ' ') len--;  // char(n) padding is not part of the value
                p.add_string(name, std::string_view(s, len));
                break;
            }
            case ColumnKind::Name: {
                const char* s = NameStr(*DatumGetName(v));
                p.add_string(name, std::string_view(s, strnlen(s, NAMEDATALEN)));
                break;
            }
            case ColumnKind::Enum: {
                char* label = nullptr;
                pg_guard([&]() { label = OidOutputFunctionCall(c.output_fn, v); });
                p.add_string(name, std::string_view(label, std::strlen(label)));
                break;
            }
            case ColumnKind::Skip: break;
        }
    }
}

// The state of a transition function: a new expanded profile when NULL.
Expanded* transition_state(FunctionCallInfo fcinfo, MemoryContext aggcxt) {
    if (PG_ARGISNULL(0)) return Expanded::make(Profile(), aggcxt, kContextName);
    return aggregate_state<Profile>(fcinfo, 0, aggcxt, kContextName);
}

// Rows of a set-returning function, materialized (PostgreSQL's InitMaterializedSRF).
struct Materialized {
    Tuplestorestate* store = nullptr;
    TupleDesc desc = nullptr;
};

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

PGL_FUNCTION(ml_profile_combine) { return merge_into_state(fcinfo, "ml_profile_combine", "ml_profile"); }

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
