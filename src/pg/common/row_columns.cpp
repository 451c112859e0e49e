// Rows as features: the column plan of a row type (row_columns.hpp).
#include "pg/common/row_columns.hpp"

extern "C" {
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/lsyscache.h"
#include "datatype/timestamp.h"
#include "utils/typcache.h"
}

#include <cmath>
#include <cstdio>

namespace pg_learn::pg {

ColumnKind column_kind(Oid type, Oid& output_fn) {
    const Oid base = getBaseType(type);
    output_fn = InvalidOid;
    switch (base) {
        case INT2OID: return ColumnKind::Int2;
        case INT4OID: return ColumnKind::Int4;
        case INT8OID: return ColumnKind::Int8;
        case FLOAT4OID: return ColumnKind::Float4;
        case FLOAT8OID: return ColumnKind::Float8;
        case NUMERICOID: return ColumnKind::Numeric;
        case BOOLOID: return ColumnKind::Bool;
        case TEXTOID:
        case VARCHAROID: return ColumnKind::Text;
        case NAMEOID: return ColumnKind::Name;
        case BPCHAROID: return ColumnKind::Bpchar;
        case TIMESTAMPOID: return ColumnKind::Timestamp;
        case TIMESTAMPTZOID: return ColumnKind::TimestampTz;
        case DATEOID: return ColumnKind::Date;
        default:
            if (type_is_enum(base)) {
                bool varlena;
                getTypeOutputInfo(base, &output_fn, &varlena);
                return ColumnKind::Enum;
            }
            return ColumnKind::Unsupported;
    }
}

double timestamp_seconds(int64_t us) {
    if (us == PG_INT64_MAX) return HUGE_VAL;  // 'infinity' (DT_NOEND)
    if (us == PG_INT64_MIN) return -HUGE_VAL;  // '-infinity' (DT_NOBEGIN)
    // Microseconds since 1970 (in 128 bits: the shift may overflow 64 near the range's ends),
    // then one division by 10^6. Below 2^53 microseconds (about 285 years either side of 1970)
    // both operands are exact doubles, so the quotient is correctly rounded: the double that
    // extract(epoch FROM ...) gives when read as a float8. Further out, in long double (exact
    // operands there too) and rounded to a double: within an ulp.
    constexpr int64_t kEpochShift = int64_t(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
    const __int128 unix_us = static_cast<__int128>(us) + kEpochShift;
    constexpr __int128 kExact = __int128(1) << 53;
    if (unix_us > -kExact && unix_us < kExact) return static_cast<double>(static_cast<int64_t>(unix_us)) / 1e6;
    return static_cast<double>(static_cast<long double>(unix_us) / 1e6L);
}

double date_seconds(int32_t days) {
    if (days == PG_INT32_MAX) return HUGE_VAL;   // 'infinity' (DATEVAL_NOEND)
    if (days == PG_INT32_MIN) return -HUGE_VAL;  // '-infinity' (DATEVAL_NOBEGIN)
    return (static_cast<double>(days) + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)) * SECS_PER_DAY;
}

namespace {

RowPlan* build_row_plan(MemoryContext cxt, Oid type_id, int32 typmod) {
    TupleDesc tupdesc = lookup_rowtype_tupdesc(type_id, typmod);
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
        c.type_id = att->atttypid;
        c.kind = att->attisdropped ? ColumnKind::Skip : column_kind(att->atttypid, c.output_fn);
    }
    plan->anonymous = type_id == RECORDOID && plan->natts > 0;
    for (int i = 0; i < plan->natts && plan->anonymous; i++) {
        char expected[16];
        snprintf(expected, sizeof expected, "f%d", i + 1);
        plan->anonymous = plan->columns[i].kind != ColumnKind::Skip && strcmp(NameStr(plan->columns[i].name), expected) == 0;
    }
    ReleaseTupleDesc(tupdesc);
    return plan;
}

}  // namespace

RowPlan* deform_row(Datum row, MemoryContext cxt, RowPlan** cached, bool* rebuilt) {
    HeapTupleHeader td = DatumGetHeapTupleHeader(row);
    const Oid type_id = HeapTupleHeaderGetTypeId(td);
    const int32 typmod = HeapTupleHeaderGetTypMod(td);
    RowPlan* plan = *cached;
    *rebuilt = false;
    if (!plan || plan->type_id != type_id || plan->typmod != typmod) {
        plan = build_row_plan(cxt, type_id, typmod);
        *cached = plan;
        *rebuilt = true;
    }
    HeapTupleData tuple;
    tuple.t_len = HeapTupleHeaderGetDatumLength(td);
    ItemPointerSetInvalid(&tuple.t_self);
    tuple.t_tableOid = InvalidOid;
    tuple.t_data = td;
    heap_deform_tuple(&tuple, plan->desc, plan->values, plan->nulls);
    return plan;
}

void refuse_anonymous_row(const RowPlan* plan, const core::Model* model, int skip, const char* reader) {
    if (!plan->anonymous) return;
    if (model) {
        // The fields' names as numeric features: a name the model learned (with either type) or
        // ignores is no unknown feature; one it never learned is. A hashed model past the names
        // it remembers cannot say (names_known false): refused, as a model that learned none.
        static core::Observation names;
        static core::FeatureCheck check;
        names.clear();
        for (int i = 0; i < plan->natts; i++)
            if (i != skip) names.add_numeric(column_name(plan->columns[i]), 0.0);
        model->check_features(names, check);
        if (check.checked && check.names_known && check.unknown_features == 0) return;
    }
    const int n = plan->natts;
    const bool profile = reader != nullptr;
    pg_guard([&]() {
        const char* fields = n == 1 ? "Its field is named f1" : n == 2 ? "Its fields are named f1 and f2"
                                                                         : psprintf("Its fields are named f1, ..., f%d", n);
        ereport(ERROR,
                (errcode(ERRCODE_DATATYPE_MISMATCH),
                 errmsg("an anonymous record cannot be %s", profile ? "profiled as features" : "read as features"),
                 profile ? errdetail("%s by PostgreSQL, as for every ROW(...) (and every row Citus sends its workers from "
                                     "a subquery), not after the columns its values came from: the profile would "
                                     "describe features no model of named columns knows.",
                                     fields)
                         : errdetail("%s by PostgreSQL, as for every ROW(...) (and every row Citus sends its workers from "
                                     "a subquery), not after the columns its values came from: a model trained on named "
                                     "columns would score it with its intercept alone, and an \"ignore\" list such as "
                                     "[\"y\"] would match nothing.",
                                     fields),
                 errhint("Name the columns: pass a subquery's row (s of FROM (SELECT a, b FROM t) s), a composite "
                         "type (ROW(a, b)::my_type), to_jsonb(s) or a float8[] array. A subquery whose columns "
                         "are really named f1, f2, ... looks the same: rename them.")));
    });
}

}  // namespace pg_learn::pg
