// Evaluation (issue 16): ml_fold, ml_split and ml_time_split; ml_progressive_validate and
// ml_cross_validate over a query's rows. The key's hash is PostgreSQL's (the type's extended hash
// function); splitting, scoring and training are the core's (core/evaluation).
#include "pg/common/features.hpp"
#include "pg/evaluation/eval_rows.hpp"
#include "pg/models/model_datum.hpp"
#include "core/models/families.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
}

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "core/evaluation/evaluation.hpp"
#include "core/models/training.hpp"

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;
using pg_learn::core::Label;
using pg_learn::core::Model;
using namespace pg_learn::pg;
using namespace pg_learn::pg::eval;

namespace {

// ---- the key's hash -------------------------------------------------------------------------

// The extended hash (hash opclass support function 2, e.g. hashtextextended, hashint8extended) of
// the key in argument argno, of type type, with seed: what ml_fold and ml_split read.
uint64_t key_hash(Datum key, Oid type, Oid collation, int64_t seed) {
    uint64_t h = 0;
    pg_guard([&]() {
        TypeCacheEntry* tc = lookup_type_cache(type, TYPECACHE_HASH_EXTENDED_PROC_FINFO);
        if (!OidIsValid(tc->hash_extended_proc))
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
                            errmsg("a key of type %s cannot be hashed", format_type_be(type)),
                            errhint("A key is a value of a type with a hash operator class (integers, text, "
                                    "uuid, dates, ...); cast it, e.g. key::text.")));
        h = DatumGetUInt64(FunctionCall2Coll(&tc->hash_extended_proc_finfo, collation, key, Int64GetDatum(seed)));
    });
    return h;
}

Oid arg_type(FunctionCallInfo fcinfo, int argno) {
    Oid t = InvalidOid;
    pg_guard([&]() { t = get_fn_expr_argtype(fcinfo->flinfo, argno); });
    if (!OidIsValid(t)) fail(ErrorKind::Internal, "could not determine the type of the key");
    return t;
}

// An interval as microseconds: a month has no fixed length, so an interval with months is refused.
int64_t interval_micros(const Interval* iv, const char* what) {
    if (iv->month != 0)
        fail(ErrorKind::InvalidParameter, std::string(what) + " must not count months or years",
             "a month has no fixed length", "Write it in days, e.g. '30 days'.");
    if (iv->day > 1000000 || iv->day < -1000000)
        fail(ErrorKind::InvalidParameter, std::string(what) + " must be less than a million days");
    return static_cast<int64_t>(iv->day) * USECS_PER_DAY + iv->time;
}

}  // namespace

// ml_fold(key anyelement, folds int, seed bigint) RETURNS int: 1..folds.
PGL_FUNCTION(ml_fold) {
    const int32 folds = PG_GETARG_INT32(1);
    pg_learn::core::check_folds(folds);
    const uint64_t h = key_hash(PG_GETARG_DATUM(0), arg_type(fcinfo, 0), PG_GET_COLLATION(), PG_GETARG_INT64(2));
    return Int32GetDatum(static_cast<int32>(pg_learn::core::fold_of_hash(h, folds)));
}

// ml_split(key anyelement, test_fraction float8, seed bigint) RETURNS text: 'train' or 'test'.
PGL_FUNCTION(ml_split) {
    const double f = PG_GETARG_FLOAT8(1);
    pg_learn::core::check_test_fraction(f);
    const uint64_t h = key_hash(PG_GETARG_DATUM(0), arg_type(fcinfo, 0), PG_GET_COLLATION(), PG_GETARG_INT64(2));
    return text_datum(pg_learn::core::is_test_hash(h, f) ? "test" : "train");
}

namespace {
const char* time_split(bool before_cutoff, bool at_or_after_test) {
    return at_or_after_test ? "test" : before_cutoff ? "train" : "gap";
}
}  // namespace

// ml_time_split(at, test_from, gap): 'train' before test_from - gap, 'test' from test_from on,
// 'gap' in between (left out of both).
PGL_FUNCTION(ml_time_split_timestamptz) {
    const TimestampTz at = PG_GETARG_TIMESTAMPTZ(0), from = PG_GETARG_TIMESTAMPTZ(1);
    TimestampTz cutoff = 0;
    pg_guard([&]() {
        cutoff = DatumGetTimestampTz(
            DirectFunctionCall2(timestamptz_mi_interval, TimestampTzGetDatum(from), PG_GETARG_DATUM(2)));
    });
    if (cutoff > from) fail(ErrorKind::InvalidParameter, "gap must not be negative");
    return text_datum(time_split(at < cutoff, at >= from));
}

PGL_FUNCTION(ml_time_split_timestamp) {
    const Timestamp at = PG_GETARG_TIMESTAMP(0), from = PG_GETARG_TIMESTAMP(1);
    Timestamp cutoff = 0;
    pg_guard([&]() {
        cutoff = DatumGetTimestamp(DirectFunctionCall2(timestamp_mi_interval, TimestampGetDatum(from), PG_GETARG_DATUM(2)));
    });
    if (cutoff > from) fail(ErrorKind::InvalidParameter, "gap must not be negative");
    return text_datum(time_split(at < cutoff, at >= from));
}

PGL_FUNCTION(ml_time_split_float8) {
    const double at = PG_GETARG_FLOAT8(0), from = PG_GETARG_FLOAT8(1), gap = PG_GETARG_FLOAT8(2);
    if (std::isnan(at) || std::isnan(from) || std::isnan(gap))
        fail(ErrorKind::NumericRange, "ml_time_split takes no NaN");
    if (gap < 0) fail(ErrorKind::InvalidParameter, "gap must not be negative");
    return text_datum(time_split(at < from - gap, at >= from));
}

// ---- reading a query's rows -----------------------------------------------------------------

namespace pg_learn::pg::eval {

Datum text_datum(const std::string& s) {
    Datum d = 0;
    pg_guard([&]() { d = PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size()))); });
    return d;
}

void read_rows(FunctionCallInfo fcinfo, const char* fn, const std::string& query, const Model& model, Third third,
               int64_t seed, bool& has_third, const RowFn& on_row) {
    Portal portal = nullptr;
    MemoryContext batch_cxt = nullptr;
    pg_guard([&]() {
        batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "evaluation batch", ALLOCSET_DEFAULT_SIZES);
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
        SPIPlanPtr plan = SPI_prepare(query.c_str(), 0, nullptr);
        if (!plan) elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        bool select_only = SPI_is_cursor_plan(plan);
        List* sources = SPI_plan_get_plan_sources(plan);
        if (list_length(sources) != 1) select_only = false;
        else {
            ListCell* lc;
            foreach (lc, static_cast<CachedPlanSource*>(linitial(sources))->query_list) {
                Query* q = lfirst_node(Query, lc);
                if (q->commandType != CMD_SELECT || q->hasModifyingCTE || q->rowMarks != NIL) select_only = false;
            }
        }
        if (!select_only)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("the query of %s must be a SELECT returning features and label", fn),
                            errdetail("It must be one read-only query (no data-modifying WITH, no FOR UPDATE).")));
        portal = SPI_cursor_open(nullptr, plan, nullptr, nullptr, true);
    });
    TupleDesc desc = portal->tupDesc;
    const char* third_what = third == Third::Key ? "a key" : "the row's time (timestamptz, timestamp or date)";
    if (third == Third::None ? desc->natts != 2 : desc->natts != 2 && desc->natts != 3)
        fail(ErrorKind::InvalidParameter,
             third == Third::None ? std::string("the query of ") + fn + " must return two columns: features and label"
                                  : std::string("the query of ") + fn + " must return features, label and optionally " +
                                        third_what,
             "it returns " + std::to_string(desc->natts) + " columns");
    has_third = desc->natts == 3;
    const Oid xtype = TupleDescAttr(desc, 0)->atttypid, ytype = TupleDescAttr(desc, 1)->atttypid;
    const Oid ttype = has_third ? TupleDescAttr(desc, 2)->atttypid : InvalidOid;
    Oid tcoll = has_third ? TupleDescAttr(desc, 2)->attcollation : InvalidOid;
    char typtype = 0;
    pg_guard([&]() { typtype = get_typtype(xtype); });
    Form form;
    if (xtype == JSONBOID) form = Form::Jsonb;
    else if (xtype == FLOAT8ARRAYOID) form = Form::Array;
    else if (xtype == RECORDOID || typtype == TYPTYPE_COMPOSITE) form = Form::Row;
    else
        fail(ErrorKind::InvalidParameter, std::string("the first column of the ") + fn +
                                              " query (the features) must be jsonb, float8[] or a row");
    if (!is_label_type(ytype))
        fail(ErrorKind::InvalidParameter, std::string("the second column of the ") + fn +
                                              " query (the label) must be a number, a boolean or text");
    if (has_third && third == Third::Time && ttype != TIMESTAMPTZOID && ttype != TIMESTAMPOID && ttype != DATEOID)
        fail(ErrorKind::InvalidParameter,
             std::string("the third column of the ") + fn + " query (the time) must be timestamptz, timestamp or date");
    // The key's hash function, looked up once (a type without one is refused before any row).
    const Oid key_type = has_third ? ttype : INT8OID;
    FmgrInfo* hash_fn = nullptr;
    if (third == Third::Key)
        pg_guard([&]() {
            TypeCacheEntry* tc = lookup_type_cache(key_type, TYPECACHE_HASH_EXTENDED_PROC_FINFO);
            if (!OidIsValid(tc->hash_extended_proc))
                ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
                                errmsg("a key of type %s cannot be hashed", format_type_be(key_type)),
                                errhint("A key is a value of a type with a hash operator class (integers, text, "
                                        "uuid, dates, ...); cast it, e.g. key::text.")));
            hash_fn = &tc->hash_extended_proc_finfo;
        });
    if (!has_third) tcoll = InvalidOid;
    // One batch's columns, read with one guard per batch rather than per row.
    struct Cell {
        Datum x, y, t;
        bool xnull, ynull, tnull;
        uint64_t hash;
    };
    std::vector<Cell> cells;
    pg_learn::core::Observation obs;
    uint64_t ordinal = 0;
    for (;;) {
        uint64 got = 0;
        SPITupleTable* tt = nullptr;
        pg_guard([&]() {
            CHECK_FOR_INTERRUPTS();
            SPI_cursor_fetch(portal, true, 10000);
            got = SPI_processed;
            tt = SPI_tuptable;
        });
        if (got == 0) break;
        cells.resize(got);
        const uint64_t first = ordinal;
        pg_guard([&]() {
            for (uint64 r = 0; r < got; r++) {
                Cell& c = cells[r];
                c.x = SPI_getbinval(tt->vals[r], tt->tupdesc, 1, &c.xnull);
                c.y = SPI_getbinval(tt->vals[r], tt->tupdesc, 2, &c.ynull);
                c.tnull = true;
                c.t = 0;
                if (has_third) c.t = SPI_getbinval(tt->vals[r], tt->tupdesc, 3, &c.tnull);
                c.hash = 0;
                // Without a key column, the row's position (1, 2, ...) in the query is its key.
                if (hash_fn && !(has_third && c.tnull))
                    c.hash = DatumGetUInt64(FunctionCall2Coll(
                        hash_fn, tcoll, has_third ? c.t : Int64GetDatum(static_cast<int64>(first + r + 1)),
                        Int64GetDatum(seed)));
            }
        });
        MemoryContext spi_cxt = MemoryContextSwitchTo(batch_cxt);
        for (uint64 r = 0; r < got; r++) {
            ordinal++;
            const Cell& c = cells[r];
            if (c.xnull || c.ynull) continue;
            std::optional<int64_t> third_value;
            if (third == Third::Key) {
                if (has_third && c.tnull) fail(ErrorKind::NullValue, std::string("the key of a row of ") + fn + " is NULL");
                third_value = static_cast<int64_t>(c.hash);
            } else if (has_third && !c.tnull) {
                bool finite = true;
                if (ttype == DATEOID) {
                    finite = !DATE_NOT_FINITE(DatumGetDateADT(c.t));
                    third_value = static_cast<int64_t>(DatumGetDateADT(c.t)) * USECS_PER_DAY;
                } else {
                    third_value = DatumGetInt64(c.t);  // timestamp and timestamptz: microseconds since 2000
                    finite = !TIMESTAMP_NOT_FINITE(*third_value);
                }
                if (!finite)
                    fail(ErrorKind::InvalidParameter, std::string("the time of a row of ") + fn + " is infinite");
            }
            const Label label = label_of(c.y, ytype);
            if (form == Form::Array) {
                DenseArray a = dense_features(c.x);
                on_row(nullptr, a.data, a.n, label, third_value, ordinal);
            } else {
                if (form == Form::Jsonb) jsonb_features(c.x, obs);
                else row_features(fcinfo, c.x, model, obs);
                on_row(&obs, nullptr, 0, label, third_value, ordinal);
            }
        }
        MemoryContextSwitchTo(spi_cxt);
        pg_guard([&]() {
            SPI_freetuptable(tt);
            MemoryContextReset(batch_cxt);
        });
    }
    pg_guard([&]() {
        SPI_cursor_close(portal);
        SPI_finish();
        MemoryContextDelete(batch_cxt);
    });
}

// The metric names of a text[] argument (NULL: none, the task's defaults).
std::vector<std::string> metric_names(FunctionCallInfo fcinfo, int argno) {
    std::vector<std::string> out;
    if (PG_ARGISNULL(argno)) return out;
    bool has_null = false;
    pg_guard([&]() {
        ArrayType* arr = PG_GETARG_ARRAYTYPE_P(argno);
        Datum* elems = nullptr;
        bool* nulls = nullptr;
        int n = 0;
        deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
        for (int i = 0; i < n; i++) {
            if (nulls[i]) {
                has_null = true;
                continue;
            }
            char* s = TextDatumGetCString(elems[i]);
            out.emplace_back(s);
        }
    });
    if (has_null) fail(ErrorKind::NullValue, "a metric name must not be NULL");
    if (out.empty()) fail(ErrorKind::InvalidParameter, "metrics must name at least one metric", {},
                          "Pass NULL for the task's default metrics.");
    return out;
}

std::string query_arg(FunctionCallInfo fcinfo, int argno) {
    std::string q;
    pg_guard([&]() {
        char* s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
        q = s;
    });
    return q;
}

void check_not_null(FunctionCallInfo fcinfo, int argno, const char* name) {
    if (PG_ARGISNULL(argno)) fail(ErrorKind::NullValue, std::string(name) + " must not be NULL");
}

void read_eval_rows(FunctionCallInfo fcinfo, const char* fn, const std::string& query, const Model& model, Third third,
                    int64_t seed, pg_learn::core::EvalRows& rows, const std::function<uint32_t(uint64_t)>& fold_of) {
    bool has_third = false, first = true;
    read_rows(fcinfo, fn, query, model, third, seed, has_third,
              [&](const pg_learn::core::Observation* x, const double* d, size_t n, const Label& y,
                  std::optional<int64_t> key_hash_value, uint64_t) {
                  if (first) {
                      rows.dense = x == nullptr;
                      rows.dim = n;
                      first = false;
                  }
                  if (rows.dense) {
                      if (x != nullptr || n != rows.dim)
                          fail(ErrorKind::InvalidParameter, std::string("feature arrays of the ") + fn + " query differ in length",
                               std::to_string(n) + " elements after " + std::to_string(rows.dim));
                      rows.values.insert(rows.values.end(), d, d + n);
                  } else {
                      rows.named.push_back(*x);
                  }
                  rows.labels.push_back(pg_learn::core::StoredLabel::of(y));
                  rows.folds.push_back(fold_of && key_hash_value ? fold_of(static_cast<uint64_t>(*key_hash_value)) : 0);
              });
}

}  // namespace pg_learn::pg::eval

// ml_progressive_validate(model, query, metrics text[], every bigint, delay bigint,
//                         delay_time interval, bucket interval)
//   RETURNS TABLE(step bigint, time timestamptz, n bigint, metric text, value float8, cumulative float8)
PGL_FUNCTION(ml_progressive_validate) {
    check_not_null(fcinfo, 0, "model");
    check_not_null(fcinfo, 1, "query");
    check_not_null(fcinfo, 3, "every");
    check_not_null(fcinfo, 4, "delay");
    ModelCache& cache = ModelCache::of(fcinfo);
    std::unique_ptr<Model> model = cache.get(fcinfo, 0).clone();
    const std::vector<std::string> metrics =
        pg_learn::core::check_metrics(model->kind(), model->task(), metric_names(fcinfo, 2));
    pg_learn::core::ProgressiveOptions opt;
    opt.every = PG_GETARG_INT64(3);
    opt.delay_rows = PG_GETARG_INT64(4);
    if (!PG_ARGISNULL(5)) opt.delay_time = interval_micros(PG_GETARG_INTERVAL_P(5), "delay_time");
    if (!PG_ARGISNULL(6)) {
        opt.bucket = interval_micros(PG_GETARG_INTERVAL_P(6), "bucket");
        if (opt.bucket <= 0) fail(ErrorKind::InvalidParameter, "bucket must be positive");
    }
    const std::string query = query_arg(fcinfo, 1);
    // The columns decide whether rows are timed; the core is made at the first row.
    std::optional<pg_learn::core::ProgressiveValidation> pv;
    bool has_third = false;
    const Model& reader_model = *model;
    std::unique_ptr<Model> owned = std::move(model);
    read_rows(fcinfo, "ml_progressive_validate", query, reader_model, Third::Time, 0, has_third,
              [&](const pg_learn::core::Observation* x, const double* d, size_t n, const Label& y,
                  std::optional<int64_t> t, uint64_t ordinal) {
                  if (!pv) pv.emplace(owned->clone(), metrics, opt, has_third);
                  pv->row(x, d, n, y, t);
                  if ((ordinal & 1023) == 0) pg_guard([]() { CHECK_FOR_INTERRUPTS(); });
              });
    // No rows: options are still checked (a bucket without a time column is an error).
    if (!pv) pv.emplace(owned->clone(), metrics, opt, has_third);
    pv->finish();
    const Materialized m = materialize(fcinfo);
    for (const auto& s : pv->series()) {
        Datum metric = text_datum(s.metric);
        pg_guard([&]() {
            RowValues<6> row;
            if (s.step) row.set(0, Int64GetDatum(*s.step));
            if (s.time) row.set(1, TimestampTzGetDatum(*s.time));
            row.set(2, Int64GetDatum(s.n));
            row.set(3, metric);
            if (s.value) row.set(4, Float8GetDatum(*s.value));
            if (s.cumulative) row.set(5, Float8GetDatum(*s.cumulative));
            tuplestore_putvalues(m.store, m.desc, row.v, row.n);
        });
    }
    return Datum(0);
}

// ml_cross_validate(model, query, folds int, metrics text[], epochs int, shuffle boolean, seed bigint)
//   RETURNS TABLE(fold int, metric text, value float8, sd float8, n_train bigint, n_test bigint)
PGL_FUNCTION(ml_cross_validate) {
    check_not_null(fcinfo, 0, "model");
    check_not_null(fcinfo, 1, "query");
    check_not_null(fcinfo, 2, "folds");
    check_not_null(fcinfo, 4, "epochs");
    check_not_null(fcinfo, 5, "shuffle");
    check_not_null(fcinfo, 6, "seed");
    ModelCache& cache = ModelCache::of(fcinfo);
    std::unique_ptr<Model> start = cache.get(fcinfo, 0).clone();
    const int32 folds = PG_GETARG_INT32(2);
    pg_learn::core::check_folds(folds);
    const std::vector<std::string> metrics =
        pg_learn::core::check_metrics(start->kind(), start->task(), metric_names(fcinfo, 3));
    int epochs = PG_GETARG_INT32(4);
    const bool shuffle = PG_GETARG_BOOL(5);
    const int64_t seed = PG_GETARG_INT64(6);
    if (epochs < 1 || epochs > pg_learn::core::kMaxEpochs)
        fail(ErrorKind::InvalidParameter, "epochs must be between 1 and " + std::to_string(pg_learn::core::kMaxEpochs),
             "got " + std::to_string(epochs));
    if (!start->can_learn())
        fail(ErrorKind::InvalidParameter,
             std::string("cross-validation trains a model per fold, and the ") + start->kind() + " model cannot learn (it is predict-only)",
             {}, "Score a predict-only model with the metric aggregates over ml_predict_one.");
    const std::string query = query_arg(fcinfo, 1);
    pg_learn::core::EvalRows rows;
    read_eval_rows(fcinfo, "ml_cross_validate", query, *start, Third::Key, seed, rows,
                   [folds](uint64_t h) { return pg_learn::core::fold_of_hash(h, folds); });
    // A model whose features learn from labels (target aggregates) sees each row once, as in ml_train.
    if (epochs > 1 && start->features_learn_labels()) {
        const std::string msg = "ml_cross_validate learned each fold's rows once, not " + std::to_string(epochs) + " times";
        epochs = 1;
        pg_guard([&]() {
            ereport(WARNING, (errmsg("%s", msg.c_str()),
                              errdetail("The model computes features from the labels it learned (%s): a second pass "
                                        "would read each row's own label among its features.",
                                        pg_learn::core::label_features_source())));
        });
    }
    const std::vector<pg_learn::core::FoldResult> results = pg_learn::core::cross_validate(
        *start, rows, folds, metrics, epochs, shuffle, static_cast<uint64_t>(seed),
        []() { pg_guard([]() { CHECK_FOR_INTERRUPTS(); }); });
    const Materialized m = materialize(fcinfo);
    std::vector<Datum> names;
    for (const auto& s : metrics) names.push_back(text_datum(s));
    for (const auto& r : results)
        for (size_t i = 0; i < metrics.size(); i++)
            pg_guard([&]() {
                RowValues<6> row;
                row.set(0, Int32GetDatum(static_cast<int32>(r.fold)));
                row.set(1, names[i]);
                if (r.values[i]) row.set(2, Float8GetDatum(*r.values[i]));
                row.set(4, Int64GetDatum(static_cast<int64>(r.n_train)));
                row.set(5, Int64GetDatum(static_cast<int64>(r.n_test)));
                tuplestore_putvalues(m.store, m.desc, row.v, row.n);
            });
    // The summary of each metric: fold NULL, the mean over the folds (where defined) and its
    // sample standard deviation, as avg(value) and stddev(value) over the fold rows.
    for (size_t i = 0; i < metrics.size(); i++) {
        std::vector<std::optional<double>> v;
        for (const auto& r : results) v.push_back(r.values[i]);
        const std::optional<double> mean = pg_learn::core::mean_of(v), sd = pg_learn::core::sd_of(v);
        pg_guard([&]() {
            RowValues<6> row;
            row.set(1, names[i]);
            if (mean) row.set(2, Float8GetDatum(*mean));
            if (sd) row.set(3, Float8GetDatum(*sd));
            row.set(5, Int64GetDatum(static_cast<int64>(rows.size())));
            tuplestore_putvalues(m.store, m.desc, row.v, row.n);
        });
    }
    return Datum(0);
}

// ml_compare(models ml_model[], query, metrics text[], resamples int, confidence float8, seed bigint)
//   RETURNS TABLE(model int, metric text, value float8, lower float8, upper float8,
//                 difference float8, diff_lower float8, diff_upper float8, p_value float8)
PGL_FUNCTION(ml_compare) {
    check_not_null(fcinfo, 0, "models");
    check_not_null(fcinfo, 1, "query");
    check_not_null(fcinfo, 3, "resamples");
    check_not_null(fcinfo, 4, "confidence");
    check_not_null(fcinfo, 5, "seed");
    // The models, decoded (an expanded element is flattened by the array itself).
    std::vector<std::unique_ptr<Model>> owned;
    std::vector<const struct varlena*> flats;
    bool has_null = false;
    pg_guard([&]() {
        ArrayType* arr = PG_GETARG_ARRAYTYPE_P(0);
        int16 typlen;
        bool typbyval;
        char typalign;
        get_typlenbyvalalign(ARR_ELEMTYPE(arr), &typlen, &typbyval, &typalign);
        Datum* elems = nullptr;
        bool* nulls = nullptr;
        int n = 0;
        deconstruct_array(arr, ARR_ELEMTYPE(arr), typlen, typbyval, typalign, &elems, &nulls, &n);
        for (int i = 0; i < n; i++) {
            if (nulls[i]) has_null = true;
            else flats.push_back(PG_DETOAST_DATUM(elems[i]));
        }
    });
    if (has_null) fail(ErrorKind::NullValue, "a model to compare must not be NULL");
    if (flats.empty()) fail(ErrorKind::InvalidParameter, "models must hold at least one model");
    for (const struct varlena* v : flats) owned.push_back(decode_model_varlena(v));
    std::vector<const Model*> models;
    for (const auto& m : owned) models.push_back(m.get());
    const std::vector<std::string> metrics =
        pg_learn::core::check_metrics(models[0]->kind(), models[0]->task(), metric_names(fcinfo, 2));
    const std::string query = query_arg(fcinfo, 1);
    pg_learn::core::EvalRows rows;
    read_eval_rows(fcinfo, "ml_compare", query, *models[0], Third::None, 0, rows);
    if (rows.size() > std::numeric_limits<uint32_t>::max())
        fail(ErrorKind::ProgramLimit, "ml_compare takes at most 4294967295 rows");
    const std::vector<pg_learn::core::CompareRow> out = pg_learn::core::compare_models(
        models, rows, metrics, PG_GETARG_INT32(3), PG_GETARG_FLOAT8(4), static_cast<uint64_t>(PG_GETARG_INT64(5)),
        []() { pg_guard([]() { CHECK_FOR_INTERRUPTS(); }); });
    const Materialized m = materialize(fcinfo);
    for (const auto& r : out) {
        Datum metric = text_datum(r.metric);
        pg_guard([&]() {
            RowValues<9> row;
            row.set(0, Int32GetDatum(static_cast<int32>(r.model)));
            row.set(1, metric);
            const std::optional<double>* v[] = {&r.value, &r.lower, &r.upper, &r.difference,
                                                &r.diff_lower, &r.diff_upper, &r.p_value};
            for (int i = 0; i < 7; i++)
                if (*v[i]) row.set(2 + i, Float8GetDatum(**v[i]));
            tuplestore_putvalues(m.store, m.desc, row.v, row.n);
        });
    }
    return Datum(0);
}
