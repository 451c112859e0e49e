// Learning: ml_fit_one, the ml_fit aggregate (expanded-object state, combine, final) and ml_train.
#include "pg/common/features.hpp"
#include "pg/models/model_datum.hpp"
#include "pg/common/row_columns.hpp"
#include "core/models/families.hpp"

extern "C" {
#include "access/detoast.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "executor/spi.h"
#include "nodes/execnodes.h"
#include "utils/plancache.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/models/training.hpp"
#include "pg/models/model_value.hpp"
#include "pg/models/progress.hpp"

#include <limits>

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;
using pg_learn::core::Label;
using pg_learn::core::Model;
using namespace pg_learn::pg;

namespace {

// Feeds argument argno (the features) and label to the model, once; and to the leak check, if any.
void learn_from_args(FunctionCallInfo fcinfo, ModelCache& cache, Model& model, Form form,
                     int argno, const Label& y, pg_learn::core::LeakCheck* leak = nullptr) {
    switch (form) {
        case Form::Jsonb:
            jsonb_features(PG_GETARG_DATUM(argno), cache.observation, /*borrow_names=*/true);
            model.learn(cache.observation, y);
            if (leak) leak->observe(cache.observation, y);
            break;
        case Form::Array: {
            DenseArray x = dense_features(PG_GETARG_DATUM(argno));
            model.learn_dense(x.data, x.n, y);
            if (leak) leak->observe_dense(x.data, x.n, y);
            break;
        }
        case Form::Row:
            row_features(fcinfo, PG_GETARG_DATUM(argno), model, cache.observation);
            model.learn(cache.observation, y);
            if (leak) leak->observe(cache.observation, y);
            break;
    }
}

// ---- the label named by its column (ml_fit(spec, t, 'y'::name)) and the label-leak check ----

// Feeds the row in argument row_arg to the model, its label from the column named in argument
// name_arg (never a feature); a row whose label is NULL teaches nothing.
void learn_labelled_row(FunctionCallInfo fcinfo, ModelCache& cache, Model& model, int row_arg, int name_arg,
                        pg_learn::core::LeakCheck* leak = nullptr) {
    const char* n = NameStr(*PG_GETARG_NAME(name_arg));
    const std::optional<Label> y = row_features_and_label(
        fcinfo, PG_GETARG_DATUM(row_arg), std::string_view(n, strnlen(n, NAMEDATALEN)), model, cache.observation);
    if (!y) return;
    // The label's column is not a feature, now or when the model scores rows that hold it.
    model.ignore_feature(std::string_view(n, strnlen(n, NAMEDATALEN)));
    model.learn(cache.observation, *y);
    if (leak) leak->observe(cache.observation, *y);
}

// The aggregate state's leak check, made at its first row.
pg_learn::core::LeakCheck* leak_check_of(ExpandedModel* em) {
    if (!em->leak_check) em->leak_check = new pg_learn::core::LeakCheck();
    return em->leak_check;
}

// One row of the aggregate (arguments: state, model, features, label or label column), learned
// and checked for a feature that equals the label. unlabelled: the label-less form (state, model,
// features) of the models that learn without labels.
void learn_aggregate_row(FunctionCallInfo fcinfo, ExpandedModel* em, Form form, bool label_in_row,
                         bool unlabelled = false) {
    if (unlabelled) {
        pg_learn::core::check_label(em->model->kind(), em->model->task(), Label::none());
        if (PG_ARGISNULL(2)) return;
        learn_from_args(fcinfo, ModelCache::of(fcinfo), *em->model, form, 2, Label::none());
        return;
    }
    if (PG_ARGISNULL(2) || PG_ARGISNULL(3)) return;
    ModelCache& cache = ModelCache::of(fcinfo);
    if (label_in_row) learn_labelled_row(fcinfo, cache, *em->model, 2, 3, leak_check_of(em));
    else learn_from_args(fcinfo, cache, *em->model, form, 2, label_arg(fcinfo, 3, cache.label_type), leak_check_of(em));
}

// A state copied from another keeps its leak check.
void copy_leak_check(ExpandedModel* to, const ExpandedModel* from) {
    if (from->leak_check && !to->leak_check) to->leak_check = new pg_learn::core::LeakCheck(*from->leak_check);
}

// The combined state em gets the other side's leak check too. A side whose state travelled flat
// (a parallel worker's) has no check: the check then covers the rows of the other side only, and
// its warning says how many rows it checked.
void combine_leak_checks(ExpandedModel* em, const ExpandedModel* other) {
    if (other && other->leak_check) leak_check_of(em)->merge(*other->leak_check);
}

// ml_fit's warning, once per state (a window aggregate finalizes its state at every row: the
// check goes on until it finds a leak, then stops).
void report_leaks_once(ExpandedModel* em, const Model& result) {
    if (!em || !em->leak_check || em->leak_check->leaking().empty()) return;
    const pg_learn::core::LeakCheck check = *em->leak_check;
    em->leak_check->stop();
    warn_label_leaks(check, result, "ml_fit");
}

// ml_fit_one(model, x): a model that learns without labels (clustering, anomaly) learns x; any
// other model refuses the label-less form, even for a NULL x.
Datum fit_one_unlabelled(FunctionCallInfo fcinfo, Form form) {
    if (PG_ARGISNULL(0)) fail(ErrorKind::NullValue, "model must not be NULL");
    ModelCache& cache = ModelCache::of(fcinfo);
    Model& model = cache.get(fcinfo, 0, /*for_update=*/true);
    pg_learn::core::check_label(model.kind(), model.task(), Label::none());
    if (PG_ARGISNULL(1)) return PG_GETARG_DATUM(0);  // an example without features teaches nothing
    learn_from_args(fcinfo, cache, model, form, 1, Label::none());
    struct varlena* out = flatten_model(model, CurrentMemoryContext);
    cache.remember_output(out);
    return PointerGetDatum(out);
}

Datum fit_one(FunctionCallInfo fcinfo, Form form, bool label_in_row = false) {
    if (PG_ARGISNULL(0)) fail(ErrorKind::NullValue, "model must not be NULL");
    // An example without features or label teaches nothing: the model comes back unchanged.
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2)) return PG_GETARG_DATUM(0);
    ModelCache& cache = ModelCache::of(fcinfo);
    Model& model = cache.get(fcinfo, 0, /*for_update=*/true);
    if (label_in_row) learn_labelled_row(fcinfo, cache, model, 1, 2);
    else learn_from_args(fcinfo, cache, model, form, 1, label_arg(fcinfo, 2, cache.label_type));
    struct varlena* out = flatten_model(model, CurrentMemoryContext);
    cache.remember_output(out);  // a loop feeding the result back in skips the decode
    return PointerGetDatum(out);
}

MemoryContext aggregate_context(FunctionCallInfo fcinfo, const char* fn) {
    MemoryContext aggcxt = nullptr;
    if (!AggCheckCallContext(fcinfo, &aggcxt))
        fail(ErrorKind::InvalidParameter, std::string(fn) + " can only be called by the ml_fit aggregate");
    return aggcxt;
}

// The state as an expanded model of ours in the aggregate's context (flat states are expanded).
ExpandedModel* state_model(FunctionCallInfo fcinfo, int argno, MemoryContext aggcxt) {
    Datum d = PG_GETARG_DATUM(argno);
    if (ExpandedModel* em = expanded_model_of(d)) {
        if (VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d))) return em;
        ExpandedModel* copy = make_expanded_model(em->model->clone(), aggcxt);
        copy_leak_check(copy, em);  // (a window aggregate's state comes read-only at every row)
        return copy;
    }
    ModelCache& cache = ModelCache::of(fcinfo);
    return make_expanded_model(cache.get(fcinfo, argno).clone(), aggcxt);
}

// The 48-byte header of the model in argument argno, which names the value (it holds the length
// and a checksum of every other byte, docs/format.md); toast: its TOAST pointer, if stored so.
// Reads no more than the header of a stored or compressed value.
void model_header(FunctionCallInfo fcinfo, int argno, uint8_t header[kModelHeaderBytes],
                  bool& toasted, uint8_t toast[sizeof(varatt_external)]) {
    Datum d = PG_GETARG_DATUM(argno);
    toasted = false;
    if (ExpandedModel* em = expanded_model_of(d)) {
        // (A model variable of PL/pgSQL: the header flattening would write.)
        std::vector<uint8_t> bytes(em->model->encoded_size());
        em->model->encode(bytes.data(), bytes.size());
        std::memcpy(header, bytes.data(), kModelHeaderBytes);
        return;
    }
    auto* raw = reinterpret_cast<struct varlena*>(DatumGetPointer(d));
    if (VARATT_IS_EXTERNAL_ONDISK(raw)) {
        varatt_external ptr;
        VARATT_EXTERNAL_GET_POINTER(ptr, raw);
        std::memcpy(toast, &ptr, sizeof ptr);
        toasted = true;
    }
    if (!VARATT_IS_EXTERNAL(raw) && !VARATT_IS_COMPRESSED(raw)) {
        if (VARSIZE_ANY_EXHDR(raw) < kModelHeaderBytes) fail(ErrorKind::InvalidBinary, "ml_model value is too short");
        std::memcpy(header, VARDATA_ANY(raw), kModelHeaderBytes);
        return;
    }
    bool ok = false;
    pg_guard([&]() {
        struct varlena* slice = pg_detoast_datum_slice(raw, 0, kModelHeaderBytes);
        if (VARSIZE_ANY_EXHDR(slice) >= kModelHeaderBytes) {
            std::memcpy(header, VARDATA_ANY(slice), kModelHeaderBytes);
            ok = true;
        }
        if (slice != raw) pfree(slice);
    });
    if (!ok) fail(ErrorKind::InvalidBinary, "ml_model value is too short");
}

// ml_fit learns one model per group from one starting model (or spec): a row of the group that
// passes another one is refused, instead of being learned by the first row's model. The check
// compares 48 bytes per row (a stored model: its TOAST pointer, else its header).
void check_same_start(FunctionCallInfo fcinfo, ExpandedModel* em) {
    if (PG_ARGISNULL(1))
        fail(ErrorKind::NullValue, "the model of ml_fit must not be NULL", {},
             "Pass the same model or spec on every row of a group.");
    uint8_t header[kModelHeaderBytes];
    uint8_t toast[sizeof(varatt_external)];
    bool toasted = false;
    // A model variable of PL/pgSQL is one expanded object for the whole query.
    ExpandedModel* arg_em = expanded_model_of(PG_GETARG_DATUM(1));
    if (arg_em && em->start_known && em->start_expanded == arg_em) return;
    if (em->start_known && em->start_toasted) {
        auto* raw = reinterpret_cast<struct varlena*>(DatumGetPointer(PG_GETARG_DATUM(1)));
        if (VARATT_IS_EXTERNAL_ONDISK(raw)) {
            varatt_external ptr;
            VARATT_EXTERNAL_GET_POINTER(ptr, raw);
            if (std::memcmp(&ptr, em->start_toast, sizeof ptr) == 0) return;
        }
    }
    model_header(fcinfo, 1, header, toasted, toast);
    if (!em->start_known) {
        // The first row of this state (or a state that came back flat): this row's model starts it.
        std::memcpy(em->start_header, header, kModelHeaderBytes);
        em->start_toasted = toasted;
        if (toasted) std::memcpy(em->start_toast, toast, sizeof toast);
        em->start_expanded = arg_em;
        em->start_known = true;
        return;
    }
    if (std::memcmp(header, em->start_header, kModelHeaderBytes) != 0)
        fail(ErrorKind::InvalidParameter, "the model of ml_fit differs between rows of one group",
             "ml_fit learns one model per group, from the model or spec given on its first row.",
             "Pass the same model or spec on every row, or GROUP BY the spec to fit one model per spec.");
}

Datum fit_transition(FunctionCallInfo fcinfo, Form form, bool label_in_row = false, bool unlabelled = false) {
    // Every row but the first of a plain aggregate: nodeAgg's own read/write state, updated in
    // place, with no other check (AggCheckCallContext would accept this context too).
    if (!PG_ARGISNULL(0) && fcinfo->context && IsA(fcinfo->context, AggState) &&
        VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(PG_GETARG_DATUM(0)))) {
        if (ExpandedModel* em = expanded_model_of(PG_GETARG_DATUM(0))) {
            check_same_start(fcinfo, em);
            learn_aggregate_row(fcinfo, em, form, label_in_row, unlabelled);
            return EOHPGetRWDatum(&em->hdr);
        }
    }
    MemoryContext aggcxt = aggregate_context(fcinfo, "ml_fit_transition");
    ExpandedModel* em;
    if (PG_ARGISNULL(0)) {
        if (PG_ARGISNULL(1))
            fail(ErrorKind::NullValue, "the starting model of ml_fit must not be NULL",
                 {}, std::string("Pass a model or a spec such as '") + pg_learn::core::example_spec() + "'.");
        ModelCache& cache = ModelCache::of(fcinfo);
        std::unique_ptr<Model> start = cache.get(fcinfo, 1).clone();
        start->begin_aggregation();
        em = make_expanded_model(std::move(start), aggcxt);
    } else {
        em = state_model(fcinfo, 0, aggcxt);
    }
    check_same_start(fcinfo, em);
    learn_aggregate_row(fcinfo, em, form, label_in_row, unlabelled);
    return EOHPGetRWDatum(&em->hdr);
}

}  // namespace

PGL_FUNCTION(ml_fit_one_jsonb) { return fit_one(fcinfo, Form::Jsonb); }
PGL_FUNCTION(ml_fit_one_array) { return fit_one(fcinfo, Form::Array); }
PGL_FUNCTION(ml_fit_one_row) { return fit_one(fcinfo, Form::Row); }

PGL_FUNCTION(ml_fit_transition_jsonb) { return fit_transition(fcinfo, Form::Jsonb); }
PGL_FUNCTION(ml_fit_transition_array) { return fit_transition(fcinfo, Form::Array); }
PGL_FUNCTION(ml_fit_transition_row) { return fit_transition(fcinfo, Form::Row); }
PGL_FUNCTION(ml_fit_one_jsonb_unlabelled) { return fit_one_unlabelled(fcinfo, Form::Jsonb); }
PGL_FUNCTION(ml_fit_one_array_unlabelled) { return fit_one_unlabelled(fcinfo, Form::Array); }
PGL_FUNCTION(ml_fit_one_row_unlabelled) { return fit_one_unlabelled(fcinfo, Form::Row); }
PGL_FUNCTION(ml_fit_transition_jsonb_unlabelled) { return fit_transition(fcinfo, Form::Jsonb, false, /*unlabelled=*/true); }
PGL_FUNCTION(ml_fit_transition_array_unlabelled) { return fit_transition(fcinfo, Form::Array, false, /*unlabelled=*/true); }
PGL_FUNCTION(ml_fit_transition_row_unlabelled) { return fit_transition(fcinfo, Form::Row, false, /*unlabelled=*/true); }
PGL_FUNCTION(ml_fit_one_row_label) { return fit_one(fcinfo, Form::Row, /*label_in_row=*/true); }
PGL_FUNCTION(ml_fit_transition_row_label) { return fit_transition(fcinfo, Form::Row, /*label_in_row=*/true); }

PGL_FUNCTION(ml_fit_combine) {
    MemoryContext aggcxt = aggregate_context(fcinfo, "ml_fit_combine");
    if (PG_ARGISNULL(1)) {
        if (PG_ARGISNULL(0)) {
            fcinfo->isnull = true;
            return Datum(0);
        }
        return PG_GETARG_DATUM(0);
    }
    if (PG_ARGISNULL(0)) return EOHPGetRWDatum(&state_model(fcinfo, 1, aggcxt)->hdr);
    // The partial models are collected intact and merged in canonical order when the state is
    // read or travels on (resolve_expanded_model): their arrival order, which varies between
    // runs, does not change a bit of the result (docs/algorithms.md, "Reproducible combines").
    Datum d0 = PG_GETARG_DATUM(0);
    ExpandedModel* em = expanded_model_of_unresolved(d0);
    if (!em || !VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d0))) em = state_model(fcinfo, 0, aggcxt);
    if (!em->parts) em->parts = new pg_learn::core::PartialStates();
    if (em->parts->empty()) em->parts->add_value(*em->model);
    Datum d1 = PG_GETARG_DATUM(1);
    ExpandedModel* other = expanded_model_of_unresolved(d1);
    if (other && other->parts && !other->parts->empty()) {
        em->parts->add_all(*other->parts);  // its parts, not their merge
    } else if (other) {
        em->parts->add_value(*other->model);
    } else {
        auto* raw = reinterpret_cast<struct varlena*>(DatumGetPointer(d1));
        struct varlena* flat = nullptr;
        pg_guard([&]() { flat = pg_detoast_datum(raw); });
        // Validated when merged (decode_model checks every byte), as any flat model.
        em->parts->add(reinterpret_cast<const uint8_t*>(VARDATA_ANY(flat)), VARSIZE_ANY_EXHDR(flat));
        if (flat != raw) pfree(flat);
    }
    combine_leak_checks(em, other);
    return EOHPGetRWDatum(&em->hdr);
}

PGL_FUNCTION(ml_fit_final) {
    if (PG_ARGISNULL(0)) {
        fcinfo->isnull = true;
        return Datum(0);
    }
    // Read-only: the state may be finalized more than once (shared or window aggregates).
    ExpandedModel* em = expanded_model_of(PG_GETARG_DATUM(0));
    std::unique_ptr<Model> result = (em ? *em->model : ModelCache::of(fcinfo).get(fcinfo, 0)).clone();
    result->end_aggregation();
    report_leaks_once(em, *result);
    return PointerGetDatum(flatten_model(*result, CurrentMemoryContext));
}

// ---- ml_train -------------------------------------------------------------------------------

namespace {

// The query's columns, for ml_train(..., label => name): the label's column must be there, with
// a type a label can have, beside at least one feature. The rows' descriptor, registered
// (blessed) so that each row becomes a composite value the row reader takes. what: "the query"
// or "the validation query".
TupleDesc labelled_rows_desc(TupleDesc desc, const std::string& label, const char* what) {
    int found = -1;
    for (int i = 0; i < desc->natts; i++)
        if (found < 0 && !TupleDescAttr(desc, i)->attisdropped && label == NameStr(TupleDescAttr(desc, i)->attname))
            found = i;  // the first of that name, as the row reader takes it
    TupleDesc out = nullptr;
    pg_guard([&]() {
        if (found < 0)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                            errmsg("%s of ml_train returns no column \"%s\" to be the label", what, label.c_str()),
                            errhint("With label => name, the query returns the label column and the feature "
                                    "columns, e.g. 'SELECT * FROM t'.")));
        if (desc->natts < 2)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("%s of ml_train returns only the label column \"%s\"", what, label.c_str()),
                            errhint("Every other column of the query is a feature.")));
        Oid output_fn;
        const Oid type = TupleDescAttr(desc, found)->atttypid;
        const ColumnKind label_kind = column_kind(type, output_fn);
        if (label_kind == ColumnKind::Unsupported || is_timestamp_kind(label_kind))
            ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                            errmsg("label column \"%s\" has type %s, which cannot be a label", label.c_str(),
                                   format_type_be(type)),
                            errhint("A label is a number, a boolean or text.")));
        out = BlessTupleDesc(CreateTupleDescCopy(desc));
    });
    return out;
}

// The labels of ml_train's rows, kept in plain memory: numbers and booleans as their number,
// text as one string each.
struct Labels {
    Label::Type type = Label::Type::Number;
    std::vector<double> numbers;
    std::vector<std::string> texts;

    void add(const Label& y) {
        type = y.type;
        if (y.type == Label::Type::Text) texts.emplace_back(y.text);
        else numbers.push_back(y.number);
    }
    size_t size() const { return type == Label::Type::Text ? texts.size() : numbers.size(); }
    Label operator[](size_t i) const {
        switch (type) {
            case Label::Type::Text: return Label::of_text(texts[i]);
            case Label::Type::Boolean: return Label::of_boolean(numbers[i] != 0);
            case Label::Type::None: return Label::none();
            case Label::Type::Number: break;
        }
        return Label::of_number(numbers[i]);
    }
};

// The rows of one query of ml_train (the training rows, or the validation rows), in plain memory.
struct RowSet {
    Form form = Form::Jsonb;
    std::vector<double> dense;  // Form::Array: dim doubles per row
    size_t dim = 0;
    std::vector<pg_learn::core::Observation> named;
    Labels labels;
    uint64 rows = 0;  // read, NULL ones included
    size_t size() const { return labels.size(); }
};

// What ml_train was asked.
struct TrainArgs {
    bool label_named = false;
    std::string label_name;
};

// Opens a read-only cursor over query (one SELECT; what names it in messages).
Portal open_select(const std::string& query, const char* what) {
    Portal portal = nullptr;
    pg_guard([&]() {
        SPIPlanPtr plan = SPI_prepare(query.c_str(), 0, nullptr);
        if (!plan) elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        // One read-only SELECT: anything else (INSERT ... RETURNING, a data-modifying WITH,
        // FOR UPDATE) would otherwise fail in the read-only cursor with PostgreSQL's "not allowed
        // in a non-volatile function", which misleads here.
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
                            errmsg("%s of ml_train must be a SELECT returning features and label", what),
                            errdetail("It must be one read-only query (no data-modifying WITH, no FOR UPDATE).")));
        portal = SPI_cursor_open(nullptr, plan, nullptr, nullptr, true);
    });
    return portal;
}

// Reads every row of query into out. validation: the validation query, whose shape must be the
// training rows' (train: their form and float8[] length); its rows feed no leak check.
void read_rows(FunctionCallInfo fcinfo, Model& model, const std::string& query, const TrainArgs& a, RowSet& out,
               pg_learn::core::LeakCheck* leak, TrainingProgress& progress, const RowSet* train) {
    const bool validation = train != nullptr;
    const char* what = validation ? "the validation query" : "the query";
    const std::string What = validation ? "the validation query" : "the query";
    Portal portal = open_select(query, what);
    Oid xtype = InvalidOid, ytype = InvalidOid;
    TupleDesc row_desc = nullptr;  // label_named: the query's rows as composite values
    bool unlabelled = false;       // a one-column query (features only) for a model learning without labels
    {
        // The columns are checked before any row is read, so a query returning no rows is
        // checked too.
        TupleDesc desc = portal->tupDesc;
        if (a.label_named) row_desc = labelled_rows_desc(desc, a.label_name, what);
        else if (desc->natts == 1 && pg_learn::core::learns_without_labels(model.task())) unlabelled = true;
        else if (desc->natts != 2)
            fail(ErrorKind::InvalidParameter, What + " of ml_train must return two columns: features and label",
                 "it returns " + std::to_string(desc->natts) + " columns",
                 "A clustering or anomaly model learns from a query returning one column, the features.");
        xtype = TupleDescAttr(desc, 0)->atttypid;
        ytype = a.label_named || unlabelled ? InvalidOid : TupleDescAttr(desc, 1)->atttypid;
        char typtype = 0;
        pg_guard([&]() { typtype = get_typtype(xtype); });
        if (a.label_named) out.form = Form::Row;
        else if (xtype == JSONBOID) out.form = Form::Jsonb;
        else if (xtype == FLOAT8ARRAYOID) out.form = Form::Array;
        else if (xtype == RECORDOID || typtype == TYPTYPE_COMPOSITE) out.form = Form::Row;
        else
            fail(ErrorKind::InvalidParameter,
                 "the first column of the ml_train " + std::string(validation ? "validation query" : "query") +
                     " must be jsonb, float8[] or a row");
        if (!a.label_named && !unlabelled && !is_label_type(ytype))
            fail(ErrorKind::InvalidParameter,
                 "the second column of the ml_train " + std::string(validation ? "validation query" : "query") +
                     " (the label) must be a number, a boolean or text");
        if (validation && out.form != train->form)
            fail(ErrorKind::InvalidParameter, "the validation query of ml_train must return rows of the training query's shape",
                 "its features are " + std::string(out.form == Form::Array ? "float8[]" : out.form == Form::Jsonb ? "jsonb" : "a row") +
                     ", the training query's " +
                     (train->form == Form::Array ? "float8[]" : train->form == Form::Jsonb ? "jsonb" : "a row"));
        if (validation) out.dim = train->dim;
    }
    // Detoasted copies of each batch's features live here and go with the batch.
    MemoryContext batch_cxt = nullptr;
    pg_guard([&]() {
        batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "ml_train batch", ALLOCSET_DEFAULT_SIZES);
    });
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
        out.rows += got;
        TupleDesc desc = tt->tupdesc;
        MemoryContext spi_cxt = MemoryContextSwitchTo(batch_cxt);
        for (uint64 r = 0; r < got; r++) {
            if (a.label_named) {
                Datum row = 0;
                pg_guard([&]() { row = heap_copy_tuple_as_datum(tt->vals[r], row_desc); });
                out.named.emplace_back();
                const std::optional<Label> y =
                    row_features_and_label(fcinfo, row, a.label_name, model, out.named.back(), /*names_given=*/true);
                if (!y) {
                    out.named.pop_back();  // as ml_fit: a row without its label teaches nothing
                    continue;
                }
                out.labels.add(*y);
                if (leak) leak->observe(out.named.back(), *y);
                continue;
            }
            bool xnull = false, ynull = false;
            Datum x = 0, y = 0;
            pg_guard([&]() {
                x = SPI_getbinval(tt->vals[r], desc, 1, &xnull);
                if (!unlabelled) y = SPI_getbinval(tt->vals[r], desc, 2, &ynull);
            });
            if (xnull || ynull) continue;  // as ml_fit: a row without features or label teaches nothing
            const Label label = unlabelled ? Label::none() : label_of(y, ytype);
            out.labels.add(label);
            if (out.form == Form::Array) {
                DenseArray arr = dense_features(x);
                if (!unlabelled && leak) leak->observe_dense(arr.data, arr.n, label);
                if (out.dim == 0) out.dim = arr.n;
                if (arr.n != out.dim)
                    fail(ErrorKind::InvalidParameter,
                         "feature arrays of the ml_train " + std::string(validation ? "validation query" : "query") +
                             " differ in length",
                         std::to_string(arr.n) + " elements after " + std::to_string(out.dim));
                out.dense.insert(out.dense.end(), arr.data, arr.data + arr.n);
            } else {
                out.named.emplace_back();
                if (out.form == Form::Jsonb) jsonb_features(x, out.named.back());
                else row_features(fcinfo, x, model, out.named.back());
                if (!unlabelled && leak) leak->observe(out.named.back(), label);
            }
        }
        MemoryContextSwitchTo(spi_cxt);
        pg_guard([&]() {
            SPI_freetuptable(tt);
            MemoryContextReset(batch_cxt);
        });
        progress.reading(out.rows, validation);
    }
    pg_guard([&]() {
        SPI_cursor_close(portal);
        MemoryContextDelete(batch_cxt);
    });
}

// ml_train, and with label_named ml_train(model, query, label name, ...), whose query returns
// rows: the column named label is the label, the others the features. Optional arguments
// (issue 16 item 5): a validation query of the same shape, and patience (early stopping).
Datum train(FunctionCallInfo fcinfo, bool label_named) {
    TrainArgs a;
    a.label_named = label_named;
    const int options = label_named ? 3 : 2;  // the argument number of epochs
    // The arguments of release 0.1.0's STRICT function: a NULL one gives NULL, as it did.
    for (int i = 0; i < options + 3; i++)
        if (PG_ARGISNULL(i)) {
            fcinfo->isnull = true;
            return Datum(0);
        }
    ModelCache& cache = ModelCache::of(fcinfo);
    std::unique_ptr<Model> owned = cache.get(fcinfo, 0).clone();
    Model& model = *owned;
    std::string query;
    pg_guard([&]() {
        char* q = text_to_cstring(PG_GETARG_TEXT_PP(1));
        query = q;
    });
    if (label_named) {
        const char* n = NameStr(*PG_GETARG_NAME(2));
        a.label_name.assign(n, strnlen(n, NAMEDATALEN));
    }
    const int epochs = PG_GETARG_INT32(options);
    const bool shuffle = PG_GETARG_BOOL(options + 1);
    const uint64_t seed = static_cast<uint64_t>(PG_GETARG_INT64(options + 2));
    if (epochs < 1 || epochs > pg_learn::core::kMaxEpochs)
        fail(ErrorKind::InvalidParameter,
             "epochs must be between 1 and " + std::to_string(pg_learn::core::kMaxEpochs),
             "got " + std::to_string(epochs));
    const int validation_arg = options + 3, patience_arg = options + 4;
    const bool has_validation = PG_NARGS() > validation_arg && !PG_ARGISNULL(validation_arg);
    const bool has_patience = PG_NARGS() > patience_arg && !PG_ARGISNULL(patience_arg);
    std::string validation_query;
    if (has_validation)
        pg_guard([&]() {
            char* q = text_to_cstring(PG_GETARG_TEXT_PP(validation_arg));
            validation_query = q;
        });
    const int patience = has_patience ? PG_GETARG_INT32(patience_arg) : 0;
    if (has_patience && (patience < 1 || patience > pg_learn::core::kMaxEpochs))
        fail(ErrorKind::InvalidParameter,
             "patience must be between 1 and " + std::to_string(pg_learn::core::kMaxEpochs),
             "got " + std::to_string(patience), "Leave patience NULL to run every epoch.");
    const pg_learn::core::LossKind loss = pg_learn::core::loss_of_task(model.task());
    if ((has_validation || has_patience) && loss == pg_learn::core::LossKind::None)
        fail(ErrorKind::InvalidParameter,
             std::string(has_validation ? "a validation query" : "early stopping") + " needs a loss, and a " +
                 pg_learn::core::task_name(model.task()) + " model has none",
             "Its training history records the rows of each epoch only.",
             "Leave validation and patience NULL for this model.");

    TrainingProgress progress;  // its slot is released however this call ends
    // Read every row once, into plain memory, then learn with SPI closed.
    RowSet rows, valid;
    pg_learn::core::LeakCheck leak;
    MemoryContext outer_cxt = CurrentMemoryContext;
    pg_guard([&]() {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    });
    read_rows(fcinfo, model, query, a, rows, &leak, progress, nullptr);
    if (has_validation && rows.rows > 0) {
        read_rows(fcinfo, model, validation_query, a, valid, nullptr, progress, &rows);
        if (valid.size() == 0)
            fail(ErrorKind::InvalidParameter, "the validation query of ml_train returned no row to validate on",
                 "A row counts when its features and label are not NULL.");
    }
    pg_guard([&]() { SPI_finish(); });
    MemoryContextSwitchTo(outer_cxt);
    // No rows: NULL, as the ml_fit aggregate (and SQL's aggregates) over no rows. Rows that
    // teach nothing (a NULL feature or label) give the model back unchanged, as ml_fit does.
    if (rows.rows == 0) {
        fcinfo->isnull = true;
        return Datum(0);
    }

    // The label's column is not a feature, now or when the model scores rows that hold it.
    if (label_named && rows.size() > 0) model.ignore_feature(a.label_name);
    // A model whose features come from the labels it learned (target aggregates) sees each row
    // once: a second epoch would read every row's own label among its features.
    int passes = epochs;
    if (epochs > 1 && model.features_learn_labels()) {
        passes = 1;
        const std::string msg = "ml_train learned the rows once, not " + std::to_string(epochs) + " times";
        pg_guard([&]() {
            ereport(WARNING,
                    (errmsg("%s", msg.c_str()),
                     errdetail("The model computes features from the labels it learned (%s): a second pass would "
                               "read each row's own label among its features (target leakage).",
                               pg_learn::core::label_features_source()),
                     errhint("Pass epochs => 1 to say so; learn more rows rather than more passes.")));
        });
    }
    const bool with_loss = loss != pg_learn::core::LossKind::None;
    const double no_loss = std::numeric_limits<double>::quiet_NaN();
    const Form form = rows.form;
    const size_t dim = rows.dim;
    pg_learn::core::TrainingPlan plan;
    plan.rows = rows.size();
    plan.epochs = passes;
    plan.epochs_asked = epochs;
    plan.shuffle = shuffle;
    plan.seed = seed;
    plan.patience = patience;
    plan.validation = has_validation;
    plan.validation_rows = valid.size();
    plan.loss = loss;
    int epoch_now = 1;
    std::unique_ptr<Model> best;
    pg_learn::core::TrainingHooks hooks;
    hooks.learn_row = [&](size_t i) -> double {
        const Label y = rows.labels[i];
        if (form == Form::Array) {
            const double* x = rows.dense.data() + i * dim;
            const double l = with_loss ? pg_learn::core::example_loss_dense(model, x, dim, y) : no_loss;
            model.learn_dense(x, dim, y);
            return l;
        }
        const double l = with_loss ? pg_learn::core::example_loss(model, rows.named[i], y) : no_loss;
        model.learn(rows.named[i], y);
        return l;
    };
    hooks.validate = [&]() -> double {
        pg_learn::core::LossMean m;
        for (size_t i = 0; i < valid.size(); i++) {
            const Label y = valid.labels[i];
            m.add(form == Form::Array ? pg_learn::core::example_loss_dense(model, valid.dense.data() + i * dim, dim, y)
                                      : pg_learn::core::example_loss(model, valid.named[i], y));
            if (((i + 1) & 1023) == 0) {
                pg_guard([]() { CHECK_FOR_INTERRUPTS(); });
                progress.update(ProgressPhase::Validating, epoch_now, i + 1);
            }
        }
        return m.mean();
    };
    hooks.keep_best = [&]() {
        if (best) best->assign(model);
        else best = model.clone();
    };
    hooks.every_so_often = [&](int epoch, uint64_t rows_in_epoch) {
        epoch_now = epoch;
        pg_guard([]() { CHECK_FOR_INTERRUPTS(); });
        progress.update(ProgressPhase::Training, epoch, rows_in_epoch);
    };
    hooks.set_epoch = [&](uint32_t epoch) { model.set_epoch(epoch); };
    progress.start_training(passes, rows.size(), valid.size());
    const pg_learn::core::TrainingHistory history = pg_learn::core::train_epochs(plan, hooks);
    // With patience, the best epoch's model (Keras's restore_best_weights).
    const Model& result = patience > 0 && best ? *best : model;
    warn_label_leaks(leak, result, "ml_train");
    return PointerGetDatum(flatten_model_value(result, &history, CurrentMemoryContext));
}

}  // namespace

PGL_FUNCTION(ml_train) { return train(fcinfo, /*label_named=*/false); }
PGL_FUNCTION(ml_train_label) { return train(fcinfo, /*label_named=*/true); }

// ml_training_info(model): the history ml_train recorded, one row per epoch (BigQuery ML's
// ML.TRAINING_INFO); no rows for a model without one.
PGL_FUNCTION(ml_training_info) {
    Materialized out = materialize(fcinfo);
    pg_learn::core::TrainingHistory h;
    if (!training_history_arg(fcinfo, 0, h)) return Datum(0);
    const char* loss = pg_learn::core::loss_name(h.loss);
    pg_guard([&]() {
        for (size_t i = 0; i < h.records.size(); i++) {
            const pg_learn::core::EpochRecord& r = h.records[i];
            const uint32_t epoch = h.first_epoch() + static_cast<uint32_t>(i);
            Datum v[6];
            bool n[6] = {};
            v[0] = Int32GetDatum(static_cast<int32>(epoch));
            v[1] = Int64GetDatum(static_cast<int64>(h.rows));
            n[2] = r.train_loss != r.train_loss;
            v[2] = Float8GetDatum(r.train_loss);
            n[3] = r.validation_loss != r.validation_loss;
            v[3] = Float8GetDatum(r.validation_loss);
            n[4] = h.loss == pg_learn::core::LossKind::None;
            v[4] = n[4] ? Datum(0) : CStringGetTextDatum(loss);
            v[5] = BoolGetDatum(h.best_epoch == epoch);
            tuplestore_putvalues(out.store, out.desc, v, n);
        }
    });
    return Datum(0);
}
