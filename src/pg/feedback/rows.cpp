// Reading a row of an attached or labels table: its features (as scored and as logged), key and label.
#include "pg/feedback/feedback.hpp"
#include "core/models/families.hpp"

extern "C" {
#include "catalog/pg_operator.h"
#include "parser/parse_coerce.h"
#include "parser/parse_oper.h"
#include "utils/syscache.h"
}

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;

namespace pg_learn::pg::feedback {

// ---- reading a row ---------------------------------------------------------------------------

namespace {

// A finite double as the numeric of its shortest exact decimal (plain PostgreSQL code). The
// decimal's digits as an integer d and its exponent e (d x 10^e): with e <= 0 the numeric is
// d / 10^-e with display scale -e, which int64_div_fast_to_numeric builds without parsing text,
// the same value and scale numeric_in gives the decimal (a fifth of its cost: issue 12 item 7).
// Other decimals (e > 0, or d x 10^k, the digit alignment it multiplies by, beyond int64: PostgreSQL
// 15's fallback for that case overflows an int): numeric_in.
Datum shortest_numeric(double v) {
    char buf[DOUBLE_SHORTEST_DECIMAL_LEN];
    double_to_shortest_decimal_buf(v, buf);
    // buf: [-]digits[.digits][e(+|-)digits], at most 17 significant digits
    const char* p = buf;
    const bool negative = *p == '-';
    if (negative) p++;
    int64 d = 0;
    int e = 0, digits = 0;
    bool ok = true;
    for (; *p >= '0' && *p <= '9'; p++, digits++) d = d * 10 + (*p - '0');
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, digits++, e--) d = d * 10 + (*p - '0');
    if (*p == 'e') {
        p++;
        const bool eneg = *p == '-';
        if (*p == '-' || *p == '+') p++;
        int x = 0;
        for (; *p >= '0' && *p <= '9' && x < 10000; p++) x = x * 10 + (*p - '0');
        e += eneg ? -x : x;
    }
    ok = *p == '\0' && digits > 0 && digits <= 18 && e <= 0 && -e <= NUMERIC_MAX_DISPLAY_SCALE;
    if (ok) {
        // int64_div_fast_to_numeric aligns the digits to base-10000 groups: d x 10^((4 - (-e) % 4) % 4)
        static const int64 kAlign[4] = {1, 1000, 100, 10};
        int64 aligned = 0;
        ok = !__builtin_mul_overflow(d, kAlign[(-e) % 4], &aligned);
    }
    if (ok) return NumericGetDatum(int64_div_fast_to_numeric(negative ? -d : d, -e));
    return DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

}  // namespace

// log's jsonb will hold: integers and numerics exactly, floats as their shortest exact decimal
// (so the logged value reads back as the very double that was scored).
void read_features(const Attachment& a, HeapTuple tuple, TupleDesc desc, std::vector<Value>& values, bool json) {
    values.resize(a.features.size());
    Value* out = values.data();
    const Column* cols = a.features.data();
    const size_t n = a.features.size();
    pg_guard([&]() {
        for (size_t i = 0; i < n; i++) {
            const Column& c = cols[i];
            Value& v = out[i];
            v.jnum = 0;
            v.str = nullptr;
            v.len = 0;
            v.num = 0;
            Datum d = heap_getattr(tuple, c.att, desc, &v.isnull);
            if (v.isnull) continue;
            switch (c.kind) {
                case Kind::Int2: v.num = DatumGetInt16(d); if (json) v.jnum = NumericGetDatum(int64_to_numeric(DatumGetInt16(d))); break;
                case Kind::Int4: v.num = DatumGetInt32(d); if (json) v.jnum = NumericGetDatum(int64_to_numeric(DatumGetInt32(d))); break;
                case Kind::Int8:
                    v.num = static_cast<double>(DatumGetInt64(d));
                    if (json) v.jnum = NumericGetDatum(int64_to_numeric(DatumGetInt64(d)));
                    break;
                case Kind::Float4:
                case Kind::Float8:
                    v.num = c.kind == Kind::Float4 ? static_cast<double>(DatumGetFloat4(d)) : DatumGetFloat8(d);
                    if (json && std::isfinite(v.num)) v.jnum = shortest_numeric(v.num);
                    break;
                case Kind::Numeric: {
                    Numeric num = DatumGetNumeric(d);
                    v.num = numeric_to_double(num);
                    if (json && std::isfinite(v.num)) v.jnum = NumericGetDatum(num);
                    break;
                }
                case Kind::Bool: v.num = DatumGetBool(d) ? 1.0 : 0.0; break;
                case Kind::Text:
                case Kind::Bpchar: {
                    struct varlena* t = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(d)));
                    v.str = VARDATA_ANY(t);
                    v.len = static_cast<int>(VARSIZE_ANY_EXHDR(t));
                    if (c.kind == Kind::Bpchar)
                        while (v.len > 0 && v.str[v.len - 1] == ' ') v.len--;  // char(n) padding is not the value
                    break;
                }
                case Kind::Name:
                    v.str = NameStr(*DatumGetName(d));
                    v.len = static_cast<int>(strnlen(v.str, NAMEDATALEN));
                    break;
                case Kind::Enum:
                    v.str = OidOutputFunctionCall(c.output_fn, d);
                    v.len = static_cast<int>(std::strlen(v.str));
                    break;
                case Kind::Timestamp:  // features only (seconds since 1970: check_reads_timestamps)
                case Kind::TimestampTz:
                case Kind::Date:
                    v.num = c.kind == Kind::Date ? date_seconds(DatumGetInt32(d)) : timestamp_seconds(DatumGetInt64(d));
                    if (json && std::isfinite(v.num)) v.jnum = shortest_numeric(v.num);
                    break;
                case Kind::Skip:
                case Kind::Unsupported: break;
            }
        }
    });
}

void check_reads_timestamps(const Attachment& a, const core::Model& m, const std::string& alias, int32_t version) {
    if (a.timestamp_feature.empty() || m.reads_timestamps()) return;
    pg_fail(ERRCODE_DATATYPE_MISMATCH,
            "feature column \"" + a.timestamp_feature + "\" of table " + a.table_text + " is a timestamp, which version " +
                std::to_string(version) + " of model \"" + a.model + "\" (alias \"" + alias + "\") does not read",
            core::timestamp_readers_sentence(),
            "Deploy a version that reads them, or ml_detach and ml_attach the table without the column.");
}

// The observation the model scores: the features in jsonb key order, exactly as the log's jsonb
// reads back (so scoring the logged features gives the logged score, bit for bit).
void fill_observation(const Attachment& a, const std::vector<Value>& values, core::Observation& obs) {
    obs.clear();
    for (size_t i = 0; i < a.features.size(); i++) {
        const Column& c = a.features[i];
        const Value& v = values[i];
        if (v.isnull) obs.add_missing(c.name);
        else if (is_category(c.kind)) obs.add_category(c.name, std::string_view(v.str, static_cast<size_t>(v.len)));
        else obs.add_numeric(c.name, v.num);  // NaN or infinity: 22003 naming the feature
    }
}

Jsonb* features_jsonb(const Attachment& a, const std::vector<Value>& values) {
    Jsonb* result = nullptr;
    const Column* cols = a.features.data();
    const Value* vals = values.data();
    const size_t n = a.features.size();
    // The features are in jsonb key order and their names distinct: the object is written as is,
    // without pushJsonbValue's sort.
    pg_guard([&]() {
        JsonbPair* pairs = static_cast<JsonbPair*>(palloc(sizeof(JsonbPair) * n));
        for (size_t i = 0; i < n; i++) {
            JsonbValue& k = pairs[i].key;
            JsonbValue& v = pairs[i].value;
            pairs[i].order = static_cast<uint32>(i);
            k.type = jbvString;
            k.val.string.val = const_cast<char*>(cols[i].name.data());
            k.val.string.len = static_cast<int>(cols[i].name.size());
            if (vals[i].isnull) {
                v.type = jbvNull;
            } else if (cols[i].kind == Kind::Bool) {
                v.type = jbvBool;
                v.val.boolean = vals[i].num != 0;
            } else if (is_category(cols[i].kind)) {
                v.type = jbvString;
                v.val.string.val = const_cast<char*>(vals[i].str);
                v.val.string.len = vals[i].len;
            } else {
                v.type = jbvNumeric;
                v.val.numeric = DatumGetNumeric(vals[i].jnum);
            }
        }
        JsonbValue obj;
        obj.type = jbvObject;
        obj.val.object.nPairs = static_cast<int>(n);
        obj.val.object.pairs = pairs;
        result = JsonbValueToJsonb(&obj);
    });
    return result;
}

// The key of a row as text (the column's output function; integers and text directly).
text* key_text(const Column& key, HeapTuple tuple, TupleDesc desc, const std::string& table) {
    text* result = nullptr;
    bool isnull = false;
    pg_guard([&]() {
        Datum d = heap_getattr(tuple, key.att, desc, &isnull);
        if (isnull) return;
        char buf[32];
        switch (key.kind) {
            case Kind::Int2: pg_ltoa(DatumGetInt16(d), buf); result = cstring_to_text(buf); break;
            case Kind::Int4: pg_ltoa(DatumGetInt32(d), buf); result = cstring_to_text(buf); break;
            case Kind::Int8: pg_lltoa(DatumGetInt64(d), buf); result = cstring_to_text(buf); break;
            case Kind::Text: result = reinterpret_cast<text*>(pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(d)))); break;
            default: result = cstring_to_text(OidOutputFunctionCall(key.output_fn, d)); break;
        }
    });
    if (isnull)
        pg_fail(ERRCODE_NOT_NULL_VIOLATION, "key column \"" + key.name + "\" of table " + table + " is NULL",
                "A scored row needs a key: labels find their prediction by it.");
    return result;
}


// A label column's value as a double; false when NULL.
bool label_value(const Column& c, HeapTuple tuple, TupleDesc desc, core::Label& y) {
    bool isnull = false;
    Datum d = 0;
    pg_guard([&]() { d = heap_getattr(tuple, c.att, desc, &isnull); });
    if (isnull) return false;
    switch (c.kind) {
        case Kind::Int2: y = core::Label::of_number(DatumGetInt16(d)); break;
        case Kind::Int4: y = core::Label::of_number(DatumGetInt32(d)); break;
        case Kind::Int8: y = core::Label::of_number(static_cast<double>(DatumGetInt64(d))); break;
        case Kind::Float4: y = core::Label::of_number(DatumGetFloat4(d)); break;
        case Kind::Float8: y = core::Label::of_number(DatumGetFloat8(d)); break;
        case Kind::Numeric: {
            Numeric n = nullptr;
            pg_guard([&]() { n = DatumGetNumeric(d); });
            y = core::Label::of_number(numeric_to_double(n));
            break;
        }
        case Kind::Bool: y = core::Label::of_boolean(DatumGetBool(d)); break;
        case Kind::Text:
        case Kind::Bpchar:
        case Kind::Name:
        case Kind::Enum: {
            // A class name, as a categorical feature of that column would read it.
            const char* str = nullptr;
            size_t len = 0;
            pg_guard([&]() {
                if (c.kind == Kind::Name) {
                    str = NameStr(*DatumGetName(d));
                    len = strnlen(str, NAMEDATALEN);
                } else if (c.kind == Kind::Enum) {
                    str = OidOutputFunctionCall(c.output_fn, d);
                    len = std::strlen(str);
                } else {
                    struct varlena* t = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(d)));
                    str = VARDATA_ANY(t);
                    len = VARSIZE_ANY_EXHDR(t);
                    if (c.kind == Kind::Bpchar)
                        while (len > 0 && str[len - 1] == ' ') len--;  // char(n) padding is not the value
                }
            });
            y = core::Label::of_text(std::string_view(str, len));
            break;
        }
        default: fail(ErrorKind::Internal, "label column of an unexpected type");
    }
    return true;
}

bool column_is_null(const Column& c, HeapTuple tuple, TupleDesc desc) {
    bool isnull = false;
    pg_guard([&]() { (void)heap_getattr(tuple, c.att, desc, &isnull); });
    return isnull;
}

bool same_value(const Column& c, HeapTuple a, HeapTuple b, TupleDesc desc) {
    bool same = false;
    pg_guard([&]() {
        bool na = false, nb = false;
        Datum da = heap_getattr(a, c.att, desc, &na);
        Datum db = heap_getattr(b, c.att, desc, &nb);
        same = na == nb && (na || datum_image_eq(da, db, c.typbyval, c.typlen));
    });
    return same;
}

void resolve_equality(Column& c) {
    c.eq_fn = InvalidOid;
    pg_guard([&]() {
        // As ml_attach's WHEN clauses resolved "=" (their search_path: pg_catalog, pg_temp), for
        // two values of the column's type; an operator reached only through a cast that is not a
        // plain relabelling is not called on the raw values (the images are compared instead).
        List* name = list_make2(makeString(pstrdup("pg_catalog")), makeString(pstrdup("=")));
        Operator op = oper(nullptr, name, c.type, c.type, true, -1);
        if (!op) return;
        Form_pg_operator form = reinterpret_cast<Form_pg_operator>(GETSTRUCT(op));
        if (IsBinaryCoercible(c.type, form->oprleft) && IsBinaryCoercible(c.type, form->oprright) &&
            form->oprresult == BOOLOID)
            c.eq_fn = form->oprcode;
        ReleaseSysCache(op);
    });
}

bool distinct_value(const Column& c, HeapTuple a, HeapTuple b, TupleDesc desc) {
    bool distinct = false;
    pg_guard([&]() {
        bool na = false, nb = false;
        Datum da = heap_getattr(a, c.att, desc, &na);
        Datum db = heap_getattr(b, c.att, desc, &nb);
        if (na || nb) {
            distinct = na != nb;
            return;
        }
        // The same bytes are the same value for every type "=" is an equality of.
        if (datum_image_eq(da, db, c.typbyval, c.typlen)) return;
        distinct = !OidIsValid(c.eq_fn) || !DatumGetBool(OidFunctionCall2Coll(c.eq_fn, c.collation, da, db));
    });
    return distinct;
}

}  // namespace pg_learn::pg::feedback
