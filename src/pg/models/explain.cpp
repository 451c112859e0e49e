// Issue 16, explanations: ml_explain (a prediction's margin as a base value plus one contribution
// per feature, for each form of features) and ml_importance's jsonb. The model computes them
// (core/models/model.hpp, Model::explain); this file reads the features and writes the jsonb.
#include "pg/models/explain.hpp"

#include "pg/models/model_datum.hpp"

extern "C" {
#include "catalog/pg_type_d.h"
#include "common/shortest_dec.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

#include <cmath>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

using namespace pg_learn::pg;
using pg_learn::core::Explanation;
using pg_learn::core::FeatureImportance;

namespace {

// A cache for the explanation (and a name -> summed contribution scratch) with the call site.
struct ExplainCache {
    Explanation e;
};

ExplainCache& explain_cache() {
    // fn_extra holds a ModelCache (by value) or a registry call site (by name); the explanation's
    // buffers live per backend (one call at a time).
    static ExplainCache* cache = new ExplainCache();
    return *cache;
}

void push_key(JsonbParseState** state, const char* s, size_t n) {
    JsonbValue key;
    key.type = jbvString;
    key.val.string.val = const_cast<char*>(s);
    key.val.string.len = static_cast<int>(n);
    pushJsonbValue(state, WJB_KEY, &key);
}

void push_key(JsonbParseState** state, const std::string& s) { push_key(state, s.data(), s.size()); }

// The bytes must outlive the jsonb's construction (pushJsonbValue keeps the pointer): a kind's
// name (static), or a string of the explanation kept with the call.
void push_string(JsonbParseState** state, const char* s, size_t n) {
    JsonbValue v;
    v.type = jbvString;
    v.val.string.val = const_cast<char*>(s);
    v.val.string.len = static_cast<int>(n);
    pushJsonbValue(state, WJB_VALUE, &v);
}

void push_string(JsonbParseState** state, const std::string& s) { push_string(state, s.data(), s.size()); }

// A finite double as the numeric of its shortest decimal (the digits that read back as the same
// double): the digits as an int64 and a power of ten, which int64_div_fast_to_numeric turns into
// the numeric numeric_in would make of the text (same value and scale), without parsing it.
Numeric numeric_of(double d) {
    char buf[DOUBLE_SHORTEST_DECIMAL_LEN];
    double_to_shortest_decimal_buf(d, buf);
    int64 mantissa = 0;
    int fraction = 0, exponent = 0, digits = 0;
    bool negative = false, in_fraction = false;
    const char* p = buf;
    if (*p == '-') {
        negative = true;
        p++;
    }
    for (; *p && *p != 'e'; p++) {
        if (*p == '.') {
            in_fraction = true;
            continue;
        }
        mantissa = mantissa * 10 + (*p - '0');
        digits++;
        if (in_fraction) fraction++;
    }
    if (*p == 'e') exponent = static_cast<int>(std::strtol(p + 1, nullptr, 10));
    if (digits > 18)  // not reached: a shortest decimal has at most 17 digits
        return DatumGetNumeric(
            DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
    return int64_div_fast_to_numeric(negative ? -mantissa : mantissa, fraction - exponent);
}

// A double as the shortest decimal that reads back as the same double (NaN, infinities: null).
void push_number(JsonbParseState** state, double d) {
    JsonbValue v;
    if (!std::isfinite(d)) {
        v.type = jbvNull;
    } else {
        v.type = jbvNumeric;
        v.val.numeric = numeric_of(d);
    }
    pushJsonbValue(state, WJB_VALUE, &v);
}

// One output's base, margin and contributions by feature name (a name given twice: one feature,
// its contributions summed).
void push_output(JsonbParseState** state, const Explanation& e, size_t o) {
    const size_t n = e.features.size();
    const double* c = e.contributions.data() + o * n;
    double margin = e.base[o];
    for (size_t j = 0; j < n; j++) margin += c[j];
    push_key(state, "base", 4);
    push_number(state, e.base[o]);
    push_key(state, "margin", 6);
    push_number(state, margin);
    push_key(state, "contributions", 13);
    pushJsonbValue(state, WJB_BEGIN_OBJECT, nullptr);
    // A name given twice (a jsonb key and a row column of one name): rare, checked cheaply for
    // the few features of a row (pairwise), through a hash set past 32.
    bool repeated = false;
    if (n <= 32) {
        for (size_t j = 1; j < n && !repeated; j++)
            for (size_t i = 0; i < j && !repeated; i++) repeated = e.features[i] == e.features[j];
    } else {
        std::unordered_map<std::string_view, int> seen;
        for (size_t j = 0; j < n && !repeated; j++) repeated = !seen.emplace(e.features[j], 0).second;
    }
    if (!repeated) {
        for (size_t j = 0; j < n; j++) {
            push_key(state, e.features[j]);
            push_number(state, c[j]);
        }
    } else {
        std::vector<std::string_view> order;
        std::unordered_map<std::string_view, double> sum;
        for (size_t j = 0; j < n; j++) {
            auto [it, fresh] = sum.emplace(e.features[j], 0.0);
            if (fresh) order.push_back(e.features[j]);
            it->second += c[j];
        }
        for (std::string_view name : order) {
            push_key(state, name.data(), name.size());
            push_number(state, sum[name]);
        }
    }
    pushJsonbValue(state, WJB_END_OBJECT, nullptr);
}

Datum explanation_jsonb(const pg_learn::core::Model& model, const Explanation& e) {
    Datum out = 0;
    pg_guard([&]() {
        JsonbParseState* state = nullptr;
        pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
        push_key(&state, "kind", 4);
        push_string(&state, model.kind(), strlen(model.kind()));
        push_key(&state, "method", 6);
        push_string(&state, e.method);
        push_key(&state, "scale", 5);
        push_string(&state, e.scale);
        if (e.outputs.empty()) {
            push_output(&state, e, 0);
        } else {
            push_key(&state, "classes", 7);
            pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
            for (size_t o = 0; o < e.outputs.size(); o++) {
                push_key(&state, e.outputs[o]);
                pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
                push_output(&state, e, o);
                pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
            }
            pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
        }
        JsonbValue* result = pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
        out = JsonbPGetDatum(JsonbValueToJsonb(result));
    });
    return out;
}

Datum explain(FunctionCallInfo fcinfo, Form form) {
    ModelCache& cache = ModelCache::of(fcinfo);
    const auto& model = cache.get(fcinfo, 0);
    return explanation_of(fcinfo, model, form, PG_GETARG_DATUM(1), cache.observation);
}

}  // namespace

Datum pg_learn::pg::explanation_of(FunctionCallInfo row_fcinfo, const pg_learn::core::Model& model, Form form, Datum x,
                                   pg_learn::core::Observation& obs) {
    Explanation& e = explain_cache().e;
    switch (form) {
        case Form::Jsonb:
            jsonb_features(x, obs, /*borrow_names=*/true);
            model.explain(obs, e);
            break;
        case Form::Array: {
            DenseArray a = dense_features(x);
            model.explain_dense(a.data, a.n, e);
            break;
        }
        case Form::Row:
            row_features(row_fcinfo, x, model, obs);
            model.explain(obs, e);
            break;
    }
    if (e.base.empty() || e.contributions.size() != e.base.size() * e.features.size())
        pg_learn::core::fail(pg_learn::core::ErrorKind::Internal, "an explanation of inconsistent size");
    return explanation_jsonb(model, e);
}

Datum pg_learn::pg::explanation_of(const pg_learn::core::Model& model, const pg_learn::core::Observation& x) {
    Explanation& e = explain_cache().e;
    model.explain(x, e);
    if (e.base.empty() || e.contributions.size() != e.base.size() * e.features.size())
        pg_learn::core::fail(pg_learn::core::ErrorKind::Internal, "an explanation of inconsistent size");
    return explanation_jsonb(model, e);
}

// _ml_explain_refusal(model): NULL when the model explains its predictions, else why not (the
// core's message). ml_attach(explain => true) and the deploys to such a table ask it. A kind
// without explanations refuses whatever the features (FeatureNotSupported), as does a structure
// that cannot be explained (an ensemble of another scale, an imported model without covers, trees
// too deep): both are asked with no feature at all. Any other error (a multiclass ensemble that
// learned no class yet) depends on the model's state or the row, and is the scoring's to raise.
PGL_FUNCTION(ml_explain_refusal) {
    const auto& model = ModelCache::of(fcinfo).get(fcinfo, 0);
    std::string why;
    try {
        pg_learn::core::Observation none;
        Explanation e;
        model.explain(none, e);
    } catch (const pg_learn::core::Error& err) {
        if (err.kind() == pg_learn::core::ErrorKind::FeatureNotSupported || err.kind() == pg_learn::core::ErrorKind::ProgramLimit)
            why = err.what();
    }
    if (why.empty()) {
        fcinfo->isnull = true;
        return Datum(0);
    }
    Datum out = 0;
    pg_guard([&]() { out = PointerGetDatum(cstring_to_text_with_len(why.data(), static_cast<int>(why.size()))); });
    return out;
}

PGL_FUNCTION(ml_explain_jsonb) { return explain(fcinfo, Form::Jsonb); }
PGL_FUNCTION(ml_explain_array) { return explain(fcinfo, Form::Array); }
PGL_FUNCTION(ml_explain_row) { return explain(fcinfo, Form::Row); }

// ml_contributions(model, float8[]): the explanation of a float8[] row as XGBoost's
// predict(pred_contribs=True) lays it out: the n contributions of the row's positions, then the
// base (bias) last; a multiclass model's is a 2-D array, a row of n + 1 per class (its classes()
// order). Written straight into the array's bytes: no jsonb to build.
PGL_FUNCTION(ml_contributions_array) {
    ModelCache& cache = ModelCache::of(fcinfo);
    const auto& model = cache.get(fcinfo, 0);
    Explanation& e = explain_cache().e;
    DenseArray a = dense_features(PG_GETARG_DATUM(1));
    model.explain_dense(a.data, a.n, e);
    const size_t n = e.features.size(), outputs = e.base.size();
    if (outputs == 0 || e.contributions.size() != outputs * n)
        pg_learn::core::fail(pg_learn::core::ErrorKind::Internal, "an explanation of inconsistent size");
    const int ndim = e.outputs.empty() ? 1 : 2;
    const size_t count = outputs * (n + 1);
    const size_t bytes = ARR_OVERHEAD_NONULLS(ndim) + count * sizeof(float8);
    if (count > MaxArraySize || !AllocSizeIsValid(bytes))
        pg_learn::core::fail(pg_learn::core::ErrorKind::ProgramLimit, "the explanation is too large for an array");
    ArrayType* out = nullptr;
    pg_guard([&]() { out = static_cast<ArrayType*>(palloc0(bytes)); });
    SET_VARSIZE(out, bytes);
    out->ndim = ndim;
    out->dataoffset = 0;
    out->elemtype = FLOAT8OID;
    int* dims = ARR_DIMS(out);
    int* lbs = ARR_LBOUND(out);
    if (ndim == 1) {
        dims[0] = static_cast<int>(n + 1);
        lbs[0] = 1;
    } else {
        dims[0] = static_cast<int>(outputs);
        dims[1] = static_cast<int>(n + 1);
        lbs[0] = lbs[1] = 1;
    }
    float8* v = reinterpret_cast<float8*>(ARR_DATA_PTR(out));
    for (size_t o = 0; o < outputs; o++) {
        std::memcpy(v, e.contributions.data() + o * n, n * sizeof(float8));
        v[n] = e.base[o];
        v += n + 1;
    }
    PG_RETURN_ARRAYTYPE_P(out);
}

// ml_importance's jsonb: {"kind": ..., "features": [...], "importance": [...]}.
PGL_FUNCTION(ml_importance_jsonb) {
    const auto& model = ModelCache::of(fcinfo).get(fcinfo, 0);
    FeatureImportance imp;
    model.importance(imp);
    Datum out = 0;
    pg_guard([&]() {
        JsonbParseState* state = nullptr;
        pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
        push_key(&state, "kind", 4);
        push_string(&state, imp.kind);
        push_key(&state, "features", 8);
        pushJsonbValue(&state, WJB_BEGIN_ARRAY, nullptr);
        for (const auto& f : imp.features) {
            JsonbValue v;
            v.type = jbvString;
            v.val.string.val = const_cast<char*>(f.data());
            v.val.string.len = static_cast<int>(f.size());
            pushJsonbValue(&state, WJB_ELEM, &v);
        }
        pushJsonbValue(&state, WJB_END_ARRAY, nullptr);
        push_key(&state, "importance", 10);
        pushJsonbValue(&state, WJB_BEGIN_ARRAY, nullptr);
        for (double d : imp.importance) {
            JsonbValue v;
            v.type = jbvNumeric;
            v.val.numeric = numeric_of(std::isfinite(d) ? d : 0.0);
            pushJsonbValue(&state, WJB_ELEM, &v);
        }
        pushJsonbValue(&state, WJB_END_ARRAY, nullptr);
        JsonbValue* result = pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
        out = JsonbPGetDatum(JsonbValueToJsonb(result));
    });
    return out;
}
