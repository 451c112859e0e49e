// Reads features out of jsonb objects, float8[] arrays and rows, validating as it goes.
#include "pg/common/features.hpp"

#include "pg/common/feature_check.hpp"

#include "pg/models/model_datum.hpp"
#include "pg/common/row_columns.hpp"

#include "core/common/text.hpp"
#include "core/models/families.hpp"

extern "C" {
#include "access/htup_details.h"
#include "common/shortest_dec.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/typcache.h"
}

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace pg_learn::pg {

using core::ErrorKind;
using core::fail;

// --- numeric ---------------------------------------------------------------------------------
//
// The on-disk numeric layout is private to numeric.c but fixed by pg_upgrade compatibility; we
// read it to avoid numeric_float8's round trip through text. A significand below 2^53 with a
// power of ten exact in a double is one correctly rounded multiplication or division; one below
// 2^63 with |exponent| <= 27 (any value printed from a float8) is computed in long double and
// rounded to double, which is exact but for a detectable midpoint case (extended_fast_path);
// anything else is printed to digits and parsed with from_chars, correctly rounded as strtod in
// numeric_float8. sql/features.sql checks the results against ::float8.
namespace {

constexpr uint16_t kSignMask = 0xC000, kNeg = 0x4000, kShort = 0x8000, kSpecial = 0xC000;
constexpr uint16_t kShortSign = 0x2000, kShortWeightSign = 0x0040, kShortWeightMask = 0x003F;

const double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                         1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// 10^k for k <= 27 is exact in a 64-bit significand (5^27 < 2^63).
const long double kPow10L[] = {1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
                               1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
                               1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};

// acc * 10^exp10 (acc < 2^63, |exp10| <= 27) correctly rounded to a double, when a long double
// has at least 64 significand bits (x86's extended precision; quad elsewhere); nullopt when
// this cannot decide. acc and 10^|exp10| are exact there, so the product or quotient is rounded
// once, to 64 bits, and then once more to 53. Rounding twice gives the correctly rounded double
// except when the first result lands exactly on a midpoint between two doubles: rounding to 64
// bits is monotone and keeps every 64-bit number in place, the midpoints (54 bits) among them,
// so the true value and its 64-bit rounding lie strictly between the same two midpoints, where
// exactly one double is nearest to both. That case is detected (exactly, in long double) and
// left to the general path. The results range over [1e-27, 1e46]: no overflow, no subnormals.
std::optional<double> extended_fast_path(uint64_t acc, int exp10) {
    const long double a = static_cast<long double>(acc);
    const long double v = exp10 >= 0 ? a * kPow10L[exp10] : a / kPow10L[-exp10];
    const double r = static_cast<double>(v);
    const long double diff = v - static_cast<long double>(r);  // exact
    if (diff != 0) {
        // The gap between r (a positive normal double) and its neighbour on diff's side: the
        // ulp of r's binade, or half of it below a power of two. v is a midpoint when diff is
        // half the gap (all exact: powers of two and a difference of nearby values).
        uint64_t bits;
        std::memcpy(&bits, &r, 8);
        const uint64_t biased = bits >> 52;  // sign 0; r >= 1e-27, so biased > 52
        const uint64_t ulp_bits = (biased - 52) << 52;
        double gap;
        std::memcpy(&gap, &ulp_bits, 8);
        if (diff < 0 && (bits & ((uint64_t(1) << 52) - 1)) == 0) gap /= 2;
        if (2 * (diff < 0 ? -diff : diff) == static_cast<long double>(gap)) return std::nullopt;
    }
    return r;
}

}  // namespace

double numeric_to_double(Numeric num) {
    const auto* v = reinterpret_cast<const struct varlena*>(num);
    const char* p = VARDATA_ANY(v);
    size_t len = VARSIZE_ANY_EXHDR(v);
    if (len < 2) fail(ErrorKind::InvalidBinary, "malformed numeric value");
    uint16_t head;
    std::memcpy(&head, p, 2);
    uint16_t flags = head & kSignMask;
    if (flags == kSpecial) {  // rejected by the caller, which names the feature
        if (head == 0xD000) return HUGE_VAL;
        if (head == 0xF000) return -HUGE_VAL;
        return std::nan("");
    }
    bool negative;
    int weight;
    const char* digits;
    size_t ndigits;
    if (flags == kShort) {
        negative = (head & kShortSign) != 0;
        weight = (head & kShortWeightSign) ? static_cast<int>(~kShortWeightMask | (head & kShortWeightMask))
                                           : static_cast<int>(head & kShortWeightMask);
        digits = p + 2;
        ndigits = (len - 2) / 2;
    } else {
        if (len < 4) fail(ErrorKind::InvalidBinary, "malformed numeric value");
        negative = flags == kNeg;
        int16_t w;
        std::memcpy(&w, p + 2, 2);
        weight = w;
        digits = p + 4;
        ndigits = (len - 4) / 2;
    }
    if (ndigits == 0) return negative ? -0.0 : 0.0;
    auto digit = [&](size_t i) {
        int16_t d;
        std::memcpy(&d, digits + 2 * i, 2);
        return static_cast<int64_t>(d);
    };
    {
        // The decimal significand, while it fits in 63 bits (every value that came from a
        // float8, 17 significant digits at most, does).
        constexpr uint64_t kExact = uint64_t(1) << 53;
        constexpr uint64_t kWide = uint64_t(1) << 63;
        uint64_t acc = 0;
        bool fits = true;
        for (size_t i = 0; i + 1 < ndigits; i++) {
            if (acc > kWide / 10000) {
                fits = false;
                break;
            }
            acc = acc * 10000 + static_cast<uint64_t>(digit(i));
        }
        if (fits) {
            // Only the last base-10000 digit can end in decimal zeros (numeric strips zero digits).
            int64_t last = digit(ndigits - 1);
            int tz = 0;
            uint64_t scale = 10000;
            while (tz < 3 && last != 0 && last % 10 == 0) {
                last /= 10;
                scale /= 10;
                tz++;
            }
            // acc * scale + last <= 2^63, without a 64-bit division (scale is 10^(4 - tz)).
            const unsigned __int128 full =
                static_cast<unsigned __int128>(acc) * scale + static_cast<uint64_t>(last);
            if (full <= kWide) {
                acc = static_cast<uint64_t>(full);
                const int exp10 = 4 * (weight - static_cast<int>(ndigits) + 1) + tz;
                if (acc <= kExact && exp10 >= -22 && exp10 <= 22) {
                    // Clinger's fast path: an integer below 2^53 and a power of ten exact in a
                    // double, so one IEEE operation on exact operands rounds correctly.
                    double a = static_cast<double>(acc);
                    double r = exp10 >= 0 ? a * kPow10[exp10] : a / kPow10[-exp10];
                    return negative ? -r : r;
                }
                if constexpr (std::numeric_limits<long double>::digits >= 64) {
                    if (exp10 >= -27 && exp10 <= 27) {
                        if (auto r = extended_fast_path(acc, exp10)) return negative ? -*r : *r;
                    }
                }
            }
        }
    }
    // General case: "<digits>e<exp>" parsed by std::from_chars, which rounds correctly (as
    // strtod in numeric_float8 does) and is several times faster than strtod. Every digit is
    // kept: a value just above a halfway point between two doubles may differ from it only
    // after hundreds of digits (up to ~770 near the subnormals), so truncating would round wrong.
    char stack_buf[16 + 4 * 48];
    std::string heap_buf;
    char* buf = stack_buf;
    size_t cap = sizeof stack_buf;
    if (ndigits > 48) {
        heap_buf.resize(16 + 4 * ndigits);
        buf = heap_buf.data();
        cap = heap_buf.size();
    }
    char* out = buf;
    size_t used = ndigits;
    for (size_t i = 0; i < used; i++) {
        int d = static_cast<int>(digit(i));
        out[0] = static_cast<char>('0' + d / 1000);
        out[1] = static_cast<char>('0' + d / 100 % 10);
        out[2] = static_cast<char>('0' + d / 10 % 10);
        out[3] = static_cast<char>('0' + d % 10);
        out += 4;
    }
    int exp10 = 4 * (weight - static_cast<int>(used) + 1);
    *out++ = 'e';
    out = std::to_chars(out, buf + cap, exp10).ptr;
    double r = 0;
    auto res = std::from_chars(buf, out, r);
    if (res.ec == std::errc::result_out_of_range) {
        // from_chars leaves r alone on overflow/underflow: follow strtod (inf, or 0 / subnormal).
        r = std::strtod(std::string(buf, out).c_str(), nullptr);
    } else if (res.ec != std::errc()) {
        fail(ErrorKind::Internal, "numeric conversion failed");
    }
    return negative ? -r : r;
}

namespace {

// A sequential scan reads a heap page's tuples in line-pointer order, and tuples stored in that
// order sit one below the other: the next row's value usually lies just below this one. Asking
// now for the cache lines below this value, while this row is learned or scored, hides the
// memory latency the next call would otherwise wait for (the loops read every element, where a
// baseline such as sum(x[1]) touches one line). Measured on 1,000,000 rows of 20 features:
// ml_fit 1.87x -> 1.60x and scoring 1.55x -> 1.25x the time of sum(x[1]). Only a hint: a
// prefetch never faults, whatever the address, and for a value from elsewhere (a detoasted
// copy, a tuple of an updated page) it merely fetches a few idle lines.
inline void prefetch_next_tuple(const void* value, size_t value_bytes) {
    const char* v = static_cast<const char*>(value);
    const size_t lines = std::min<size_t>((value_bytes + 64) / 64, 16);  // a little more than the value
    for (size_t k = 1; k <= lines; k++) {
        const char* p = v - 64 * k;
        __builtin_prefetch(p);
        // GCC deletes a loop that only prefetches (it has no effect it must keep): an empty
        // asm statement taking the address is one.
        asm volatile("" : : "r"(p));
    }
}

}  // namespace

// --- jsonb -----------------------------------------------------------------------------------

namespace {

// to_jsonb, jsonb_build_object and row_to_json write a float8 NaN or infinity as the string
// float8out gives it ("NaN", "Infinity", "-Infinity"), jsonb having no such numbers. Such a
// string is the number it came from, refused as the float8[] and row readers refuse it (22003,
// naming the feature); only those exact spellings, so "nan", "inf" or "NaN " stay categories. The
// prediction log writes text columns as strings, and reads them back as categories
// (specials_are_numbers false): a text column holding 'NaN' is a category there.
void add_json_string(core::Observation& obs, std::string_view key, std::string_view s, bool specials_are_numbers) {
    if (specials_are_numbers && s.size() >= 3 && s.size() <= 9 && (s == "NaN" || s == "Infinity" || s == "-Infinity"))
        fail(ErrorKind::NumericRange,
             "feature \"" + core::message_name(key) + "\" is " + (s == "NaN" ? "NaN" : "infinite"),
             "The JSON string \"" + std::string(s) + "\" is how to_jsonb and jsonb_build_object write a float8 " +
                 (s == "NaN" ? "NaN" : "infinity") + ".",
             "Features must be finite numbers; use NULL for a missing value.");
    obs.add_category(key, s);
}

}  // namespace

void jsonb_features(Datum datum, core::Observation& obs, bool borrow_names, bool specials_are_numbers) {
    obs.clear();
    Jsonb* jb = nullptr;
    pg_guard([&]() { jb = DatumGetJsonbP(datum); });
    if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
        fail(ErrorKind::InvalidParameter, "features must be a JSON object",
             JB_ROOT_IS_SCALAR(jb) ? "got a scalar" : "got an array",
             "Write features as {\"name\": value, ...}.");
    if (reinterpret_cast<Pointer>(jb) == DatumGetPointer(datum)) prefetch_next_tuple(jb, VARSIZE(jb));
    // The object's container read in place, as jsonb_util.c's iterator reads it but without
    // its allocations and state machine: n keys (children 0..n-1, sorted) then their n values
    // (children n..2n-1); each JEntry holds its child's length, or every JB_OFFSET_STRIDE-th
    // its end offset, from the data that follows the JEntry array; numeric and container
    // values start at the next 4-byte boundary.
    const JsonbContainer* jc = &jb->root;
    const uint32 n = JsonContainerSize(jc);
    if (n == 0) return;
    const char* base = reinterpret_cast<const char*>(jc->children + 2 * n);
    uint32 key_off = 0;
    uint32 value_off = getJsonbOffset(jc, static_cast<int>(n));
    for (uint32 i = 0; i < n; i++) {
        const JEntry ke = jc->children[i];
        const uint32 key_start = key_off;
        JBE_ADVANCE_OFFSET(key_off, ke);
        const std::string_view key(base + key_start, key_off - key_start);
        const JEntry ve = jc->children[n + i];
        const uint32 value_start = value_off;
        JBE_ADVANCE_OFFSET(value_off, ve);
        switch (ve & JENTRY_TYPEMASK) {
            case JENTRY_ISNUMERIC: {
                const double v =
                    numeric_to_double(reinterpret_cast<Numeric>(const_cast<char*>(base + INTALIGN(value_start))));
                if (borrow_names) obs.add_numeric_borrowed(key, v);
                else obs.add_numeric(key, v);
                break;
            }
            case JENTRY_ISSTRING:
                add_json_string(obs, key, std::string_view(base + value_start, value_off - value_start),
                                specials_are_numbers);
                break;
            case JENTRY_ISBOOL_TRUE: obs.add_numeric(key, 1.0); break;
            case JENTRY_ISBOOL_FALSE: obs.add_numeric(key, 0.0); break;
            case JENTRY_ISNULL: obs.add_missing(key); break;
            default:
                // Cut the name for the message at a character boundary, never inside one.
                fail(ErrorKind::InvalidParameter,
                     "feature \"" + std::string(key.substr(0, pg_mbcliplen(key.data(), static_cast<int>(key.size()), 64))) +
                         "\" is a nested object or array",
                     {}, "Features must be numbers, strings, booleans or null.");
        }
    }
}

// --- float8[] --------------------------------------------------------------------------------


DenseArray dense_features(Datum datum) {
    ArrayType* arr = nullptr;
    if (!VARATT_IS_EXTENDED(DatumGetPointer(datum))) arr = reinterpret_cast<ArrayType*>(DatumGetPointer(datum));
    else pg_guard([&]() { arr = DatumGetArrayTypeP(datum); });
    if (ARR_ELEMTYPE(arr) != FLOAT8OID) fail(ErrorKind::InvalidParameter, "features must be float8[]");
    if (ARR_NDIM(arr) != 1) {
        if (ARR_NDIM(arr) == 0) fail(ErrorKind::InvalidParameter, "feature array is empty");
        fail(ErrorKind::InvalidParameter, "feature array must have one dimension",
             "it has " + std::to_string(ARR_NDIM(arr)));
    }
    if (ARR_HASNULL(arr) && array_contains_nulls(arr))
        fail(ErrorKind::NullValue, "feature array contains NULL elements",
             {}, "Arrays are the dense fast path; pass features as jsonb or a row to use missing values.");
    if (reinterpret_cast<Pointer>(arr) == DatumGetPointer(datum)) prefetch_next_tuple(arr, ARR_SIZE(arr));  // not a copy
    return {reinterpret_cast<const double*>(ARR_DATA_PTR(arr)), static_cast<size_t>(ARR_DIMS(arr)[0])};
}

// --- rows ------------------------------------------------------------------------------------

namespace {
void read_row_columns(const RowPlan* plan, const core::Model& model, core::Observation& obs, int skip);
}  // namespace

void row_features(FunctionCallInfo fcinfo, Datum row, const core::Model& model, core::Observation& obs) {
    obs.clear();
    RowPlan* plan = nullptr;
    // All PostgreSQL work first (detoast, plan, deform), then the core sees plain data. The row
    // plan is cached beside the model cache, in the function's memory context.
    ModelCache* cache = static_cast<ModelCache*>(fcinfo->flinfo->fn_extra);
    RowPlan* cached = cache ? static_cast<RowPlan*>(cache->row_plan) : nullptr;
    pg_guard([&]() {
        bool rebuilt;
        plan = deform_row(row, fcinfo->flinfo->fn_mcxt, &cached, &rebuilt);
    });
    if (cache) cache->row_plan = cached;
    if (plan->anonymous) refuse_anonymous_row(plan, &model);
    read_row_columns(plan, model, obs, /*skip=*/-1);
}

namespace {

// The features of a deformed row: every column but column skip (-1: none).
void read_row_columns(const RowPlan* plan, const core::Model& model, core::Observation& obs, int skip) {
    struct Sink {
        core::Observation& obs;
        std::string_view name;
        void number(double v) { obs.add_numeric(name, v); }
        void boolean(bool b) { obs.add_numeric(name, b ? 1.0 : 0.0); }
        void string(std::string_view s) { obs.add_category(name, s); }
    };
    for (int i = 0; i < plan->natts; i++) {
        const ColumnPlan& c = plan->columns[i];
        if (c.kind == ColumnKind::Skip || i == skip) continue;
        const std::string_view name = column_name(c);
        if (c.kind == ColumnKind::Unsupported) {
            // An error only if the model does not ignore the column (a key or label column of
            // any type may be listed in "ignore").
            if (model.ignores_feature(name)) continue;
            pg_guard([&]() {
                ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                                errmsg("column \"%s\" has type %s, which cannot be a feature",
                                       NameStr(c.name), format_type_be(c.type_id)),
                                errhint("Features must be numeric, boolean, text or enum columns; "
                                        "select the feature columns in a subquery, cast them, or name "
                                        "the column in the spec's \"ignore\".")));
            });
        }
        if (is_timestamp_kind(c.kind) && !model.reads_timestamps()) {
            // A number of seconds is not a feature a model learns well from: only a model with
            // a step that takes date parts reads it (Model::reads_timestamps); the others refuse
            // it as before, unless they ignore the column.
            if (model.ignores_feature(name)) continue;
            pg_guard([&]() {
                ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                                errmsg("column \"%s\" has type %s, which cannot be a feature",
                                       NameStr(c.name), format_type_be(c.type_id)),
                                errhint("A timestamp or date column is read by %s; for this model, select the "
                                        "feature columns in a subquery, derive numbers from it (extract(hour "
                                        "FROM ...)), or name the column in the spec's \"ignore\".",
                                        core::timestamp_readers())));
            });
        }
        if (plan->nulls[i]) {
            obs.add_missing(name);
            continue;
        }
        visit_column_value(c, plan->values[i], Sink{obs, name});
    }
}

}  // namespace

std::optional<core::Label> row_features_and_label(FunctionCallInfo fcinfo, Datum row, std::string_view label_column,
                                                  const core::Model& model, core::Observation& obs, bool names_given) {
    obs.clear();
    ModelCache& cache = ModelCache::of(fcinfo);
    RowPlan* cached = static_cast<RowPlan*>(cache.row_plan);
    RowPlan* plan = nullptr;
    bool rebuilt = false;
    pg_guard([&]() { plan = deform_row(row, fcinfo->flinfo->fn_mcxt, &cached, &rebuilt); });
    cache.row_plan = cached;
    if (plan->anonymous && !names_given) {
        // Before the label's column is looked up: ROW(a, b, y) has no column "y" either.
        int skip = -1;
        for (int i = 0; i < plan->natts; i++)
            if (column_name(plan->columns[i]) == label_column) skip = i;
        refuse_anonymous_row(plan, &model, skip);
    }
    // The label's column, looked up again only when the row type or the name changes.
    if (rebuilt || cache.label_column < 0 || cache.label_column_name != label_column) {
        cache.label_column = -1;
        for (int i = 0; i < plan->natts; i++)
            if (plan->columns[i].kind != ColumnKind::Skip && column_name(plan->columns[i]) == label_column) {
                cache.label_column = i;
                break;
            }
        if (cache.label_column < 0) {
            const std::string name(label_column);
            pg_guard([&]() {
                ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                                errmsg("the row has no column \"%s\" to be the label", name.c_str()),
                                errhint("The label is named by its column: ml_fit(spec, t, 'y'::name) and "
                                        "ml_train(spec, query, label => 'y') learn t.y from the other columns.")));
            });
        }
        cache.label_column_name.assign(label_column);
    }
    const ColumnPlan& lc = plan->columns[cache.label_column];
    if (lc.kind == ColumnKind::Unsupported || is_timestamp_kind(lc.kind))
        pg_guard([&]() {
            ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                            errmsg("label column \"%s\" has type %s, which cannot be a label", NameStr(lc.name),
                                   format_type_be(lc.type_id)),
                            errhint("A label is a number, a boolean or text.")));
        });
    // A row without its label teaches nothing (as a NULL label of ml_fit).
    if (plan->nulls[cache.label_column]) return std::nullopt;
    struct LabelSink {
        core::Label y;
        void number(double v) { y = core::Label::of_number(v); }
        void boolean(bool b) { y = core::Label::of_boolean(b); }
        void string(std::string_view s) { y = core::Label::of_text(s); }
    } sink;
    visit_column_value(lc, plan->values[cache.label_column], sink);
    read_row_columns(plan, model, obs, cache.label_column);
    return sink.y;
}

// --- label leakage ---------------------------------------------------------------------------

void warn_label_leaks(const core::LeakCheck& check, const core::Model& model, std::string_view trainer) {
    for (const std::string& feature : check.leaking()) {
        if (model.ignores_feature(feature)) continue;
        const std::string name = core::message_name(feature);
        const std::string q = "\"" + name + "\"";
        std::string hint;
        if (trainer == "ml_fit")
            hint = "Leave " + q + " out of the features: for a row that holds its label, name the label by its column (ml_fit(spec, t, '" +
                   name + "'::name) learns t." + name + " from the other columns); otherwise list " + q + " in the spec's \"ignore\".";
        else if (trainer == "ml_train")
            hint = "Leave " + q + " out of the features: for rows that hold their label, name the label by its column (ml_train(spec, 'SELECT * FROM t', label => '" +
                   name + "')); otherwise list " + q + " in the spec's \"ignore\".";
        else
            hint = "Leave " + q + " out of the attachment's features (ml_attach(..., features => ARRAY[...])) or list it in the "
                   "spec's \"ignore\".";
        const std::string detail = "It equals the label on all " + std::to_string(check.examples()) +
                                   " rows checked, and the label takes more than one value: the model learns to copy it.";
        pg_guard([&]() {
            ereport(WARNING, (errmsg("feature \"%s\" equals the label on every training row", name.c_str()),
                              errdetail("%s", detail.c_str()), errhint("%s", hint.c_str())));
        });
    }
}

// --- labels ----------------------------------------------------------------------------------

bool is_label_type(Oid type) {
    switch (type) {
        case FLOAT8OID: case FLOAT4OID: case INT2OID: case INT4OID: case INT8OID: case NUMERICOID:
        case BOOLOID: case TEXTOID: case VARCHAROID: case BPCHAROID: case NAMEOID:
            return true;
    }
    return false;
}

core::Label label_of(Datum d, Oid type) {
    switch (type) {
        case FLOAT8OID: return core::Label::of_number(DatumGetFloat8(d));
        case FLOAT4OID: return core::Label::of_number(DatumGetFloat4(d));
        case INT2OID: return core::Label::of_number(DatumGetInt16(d));
        case INT4OID: return core::Label::of_number(DatumGetInt32(d));
        case INT8OID: return core::Label::of_number(static_cast<double>(DatumGetInt64(d)));
        case NUMERICOID: return core::Label::of_number(numeric_to_double(DatumGetNumeric(d)));
        case BOOLOID: return core::Label::of_boolean(DatumGetBool(d));
        case NAMEOID: {
            const char* s = NameStr(*DatumGetName(d));
            return core::Label::of_text(std::string_view(s, std::strlen(s)));
        }
        case TEXTOID: case VARCHAROID: case BPCHAROID: {
            struct varlena* t = nullptr;
            pg_guard([&]() { t = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(d))); });
            std::string_view s(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
            // char(n) pads with blanks that are not part of the value
            if (type == BPCHAROID)
                while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
            return core::Label::of_text(s);
        }
    }
    core::fail(core::ErrorKind::InvalidParameter, "a label must be a number, a boolean or text");
}

core::Label label_arg(FunctionCallInfo fcinfo, int argno, Oid& type) {
    if (type == InvalidOid) {
        Oid t = InvalidOid;
        pg_guard([&]() { t = get_fn_expr_argtype(fcinfo->flinfo, argno); });
        // Called without an expression tree (DirectFunctionCall): the C entry's own type.
        type = t == InvalidOid ? FLOAT8OID : t;
    }
    return label_of(PG_GETARG_DATUM(argno), type);
}

// --- predictions -----------------------------------------------------------------------------

double predict_number(const core::Model& model, Form form, Datum x, FunctionCallInfo row_fcinfo,
                      core::Observation& obs) {
    switch (form) {
        case Form::Jsonb: {
            jsonb_features(x, obs, /*borrow_names=*/true);
            const double r = model.predict(obs);
            check_scored(model, obs);
            return r;
        }
        case Form::Array: {
            DenseArray a = dense_features(x);
            const double r = model.predict_dense(a.data, a.n);
            check_scored_dense(model, a.n);
            return r;
        }
        case Form::Row: {
            row_features(row_fcinfo, x, model, obs);
            const double r = model.predict(obs);
            check_scored(model, obs);
            return r;
        }
    }
    return 0;
}

void predict_probabilities(const core::Model& model, Form form, Datum x, FunctionCallInfo row_fcinfo,
                           core::Observation& obs, std::vector<double>& p) {
    switch (form) {
        case Form::Jsonb:
            jsonb_features(x, obs, /*borrow_names=*/true);
            model.predict_proba(obs, p);
            check_scored(model, obs);
            return;
        case Form::Array: {
            DenseArray a = dense_features(x);
            model.predict_proba_dense(a.data, a.n, p);
            check_scored_dense(model, a.n);
            return;
        }
        case Form::Row:
            row_features(row_fcinfo, x, model, obs);
            model.predict_proba(obs, p);
            check_scored(model, obs);
            return;
    }
}

Datum most_probable_class(const core::Model& model, const std::vector<double>& p, bool* isnull) {
    const std::vector<std::string>& classes = model.classes();
    if (p.empty() || classes.size() != p.size()) {
        *isnull = true;
        return Datum(0);
    }
    size_t best = 0;
    for (size_t c = 1; c < p.size(); c++)
        if (p[c] > p[best]) best = c;
    const std::string& s = classes[best];
    Datum out = 0;
    pg_guard([&]() { out = PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size()))); });
    return out;
}

Datum class_probabilities(const core::Model& model, const std::vector<double>& p) {
    const std::vector<std::string>& classes = model.classes();
    Datum out = 0;
    // Built as a jsonb value directly (no JSON text to parse again); each probability as the
    // shortest decimal that reads back as the same double, so ->> '1' gives back the double.
    pg_guard([&]() {
        JsonbParseState* state = nullptr;
        pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
        char buf[DOUBLE_SHORTEST_DECIMAL_LEN];
        for (size_t c = 0; c < p.size() && c < classes.size(); c++) {
            JsonbValue key, value;
            key.type = jbvString;
            key.val.string.val = const_cast<char*>(classes[c].data());
            key.val.string.len = static_cast<int>(classes[c].size());
            pushJsonbValue(&state, WJB_KEY, &key);
            double_to_shortest_decimal_buf(p[c], buf);
            value.type = jbvNumeric;
            value.val.numeric = DatumGetNumeric(
                DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
            pushJsonbValue(&state, WJB_VALUE, &value);
        }
        JsonbValue* result = pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
        out = JsonbPGetDatum(JsonbValueToJsonb(result));
    });
    return out;
}

}  // namespace pg_learn::pg
