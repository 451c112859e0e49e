// Rows as features: which columns of a composite value a model or a profile reads, and their
// values. Shared by row_features (features.cpp) and ml_profile(record) (profile_type.cpp).
#pragma once

#include "pg/common/features.hpp"
#include "pg/common/glue.hpp"

extern "C" {
#include "access/htup_details.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
}

#include <cstdint>
#include <cstring>
#include <string_view>

namespace pg_learn::pg {

// Integers, floating and numeric columns are numbers; boolean; text, varchar, char(n), name and
// enums are strings (domains count as their base type). timestamp, timestamptz and date are
// Timestamp, TimestampTz and Date: numbers of seconds since 1970-01-01 00:00:00 for a model whose
// reads_timestamps() says so (the model readers decide, read_row_columns), unsupported for every
// other reader (profiles, labels, attachments). Dropped columns are Skip; a column of any other
// type is Unsupported (an error for whoever reads it, decided by the caller).
enum class ColumnKind : uint8_t { Skip, Int2, Int4, Int8, Float4, Float8, Numeric, Bool, Text, Bpchar, Name, Enum,
                                  Timestamp, TimestampTz, Date, Unsupported };

inline bool is_timestamp_kind(ColumnKind k) { return k >= ColumnKind::Timestamp && k <= ColumnKind::Date; }

// A timestamp (microseconds since 2000-01-01 00:00:00; a timestamptz's are UTC) and a date (days
// since 2000-01-01) as seconds since 1970-01-01 00:00:00, a date at its midnight. 'infinity' and
// '-infinity' are +-Infinity (refused as features, 22003, as a float8 infinity is).
double timestamp_seconds(int64_t microseconds);
double date_seconds(int32_t days);

// The one rule for which SQL types are features (and labels, and scores): a column's kind, by its
// base type; an enum's output function goes to output_fn (InvalidOid otherwise). Plain PostgreSQL
// code (syscache look-ups): call under pg_guard.
ColumnKind column_kind(Oid type, Oid& output_fn);

struct ColumnPlan {
    ColumnKind kind;
    NameData name;
    Oid output_fn;  // enums: the label comes from the output function
    Oid type_id;    // the column's type, for the error about an unsupported type
};

// The plan of one row type with room for one deformed row.
struct RowPlan {
    Oid type_id;
    int32 typmod;
    TupleDesc desc;
    int natts;
    ColumnPlan* columns;
    Datum* values;
    bool* nulls;
    // An anonymous record: its type is RECORD and its fields are named f1, f2, ... fn in order,
    // as PostgreSQL names the fields of a ROW(...) constructor (and as Citus ships a subquery's
    // rows to its workers). Such names say nothing of the columns the values came from, so the
    // readers refuse them as features (row_features; docs/citus.md). A whole-row reference to a
    // table or a subquery, and a named composite type, keep their column names: their type may
    // be RECORD too, but their names are not f1..fn, unless the columns really are named so,
    // which the descriptor cannot tell apart (an aggregate's arguments have no expression to
    // look at either).
    bool anonymous;
};

// Plain C code, to be run under pg_guard (may ereport; holds no C++ objects). *cached is the
// plan of the previous call (or NULL); it is rebuilt in cxt when the row's type differs, and
// *rebuilt says so. The row is deformed into the plan's values and nulls.
RowPlan* deform_row(Datum row, MemoryContext cxt, RowPlan** cached, bool* rebuilt);

// Refuses an anonymous record (plan->anonymous) as features (42804), with the cause and the ways
// to name the columns; `reader` is "ml_profile" for a profile's message, nullptr for the model
// readers'. A model that already learned the names f1, f2, ... (from jsonb keys "f1", ...,
// or such a row read before) may read it: every field but column skip (-1: none) is a feature
// the model knows or ignores (Model::check_features, the contract's view of the names learned).
// A profile (model nullptr) has no names to compare with and always refuses it. Does nothing for
// a row that is not anonymous.
void refuse_anonymous_row(const RowPlan* plan, const core::Model* model, int skip = -1, const char* reader = nullptr);

inline std::string_view column_name(const ColumnPlan& c) {
    return std::string_view(NameStr(c.name), strnlen(NameStr(c.name), NAMEDATALEN));
}

// The value of a non-NULL column of a supported kind, handed to sink.number(double),
// sink.boolean(bool) or sink.string(std::string_view) (valid during the call). char(n) loses
// its padding; enums give their label; timestamps and dates their seconds since 1970 (only the
// model readers visit them, for a model that reads timestamps).
template <class Sink>
void visit_column_value(const ColumnPlan& c, Datum v, Sink&& sink) {
    switch (c.kind) {
        case ColumnKind::Int2: sink.number(DatumGetInt16(v)); break;
        case ColumnKind::Int4: sink.number(DatumGetInt32(v)); break;
        case ColumnKind::Int8: sink.number(static_cast<double>(DatumGetInt64(v))); break;
        case ColumnKind::Float4: sink.number(DatumGetFloat4(v)); break;
        case ColumnKind::Float8: sink.number(DatumGetFloat8(v)); break;
        case ColumnKind::Bool: sink.boolean(DatumGetBool(v)); break;
        case ColumnKind::Numeric: {
            // NaN and +-Infinity of a numeric column stay NaN and +-Infinity.
            Numeric num = nullptr;
            pg_guard([&]() { num = DatumGetNumeric(v); });
            sink.number(numeric_to_double(num));
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
            sink.string(std::string_view(s, len));
            break;
        }
        case ColumnKind::Name: {
            const char* s = NameStr(*DatumGetName(v));  // fixed-length, not a varlena
            sink.string(std::string_view(s, strnlen(s, NAMEDATALEN)));
            break;
        }
        case ColumnKind::Enum: {
            char* label = nullptr;
            pg_guard([&]() { label = OidOutputFunctionCall(c.output_fn, v); });
            sink.string(std::string_view(label, std::strlen(label)));
            break;
        }
        case ColumnKind::Timestamp:
        case ColumnKind::TimestampTz: sink.number(timestamp_seconds(DatumGetInt64(v))); break;
        case ColumnKind::Date: sink.number(date_seconds(DatumGetInt32(v))); break;
        case ColumnKind::Skip:
        case ColumnKind::Unsupported: break;
    }
}

}  // namespace pg_learn::pg
