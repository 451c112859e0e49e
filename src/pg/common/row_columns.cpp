// Rows as features: the column plan of a row type (row_columns.hpp).
#include "pg/common/row_columns.hpp"

extern "C" {
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
}

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
        default:
            if (type_is_enum(base)) {
                bool varlena;
                getTypeOutputInfo(base, &output_fn, &varlena);
                return ColumnKind::Enum;
            }
            return ColumnKind::Unsupported;
    }
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

}  // namespace pg_learn::pg
