// Hyperparameter search (issue 16 item 4): ml_search runs the core's trials (core/evaluation/
// search) over a query's rows read as ml_cross_validate reads them, returns the table of trials and
// registers the best trial's model through ml_register; _ml_metric_higher_is_better gives the
// registry's ml_deploy(name, strategy => 'best') the core's direction of a metric.
#include "pg/common/args.hpp"
#include "pg/common/spi.hpp"
#include "pg/evaluation/eval_rows.hpp"
#include "pg/models/model_datum.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
}

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "core/evaluation/search.hpp"

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;
using pg_learn::core::Model;
using namespace pg_learn::pg;
using namespace pg_learn::pg::eval;
using json = nlohmann::json;

namespace {

Datum jsonb_datum(const json& j) {
    const std::string s = j.dump();
    Datum d = 0;
    pg_guard([&]() { d = DirectFunctionCall1(jsonb_in, CStringGetDatum(s.c_str())); });
    return d;
}

// The metrics of a trial as a JSON object (undefined and non-finite values left out).
json metrics_object(const std::vector<std::string>& names, const std::vector<std::optional<double>>& values) {
    json o = json::object();
    for (size_t i = 0; i < names.size() && i < values.size(); i++)
        if (values[i] && std::isfinite(*values[i])) o[names[i]] = *values[i];
    return o;
}

void notice(const std::string& msg, const std::string& hint = {}) {
    pg_guard([&]() {
        if (hint.empty()) ereport(NOTICE, (errmsg("%s", msg.c_str())));
        else ereport(NOTICE, (errmsg("%s", msg.c_str()), errhint("%s", hint.c_str())));
    });
}

// ml_register(name, model, provenance => ..., metrics => ...) of the extension's schema, with the
// caller's rights (who may not register gets ml_register's permission error); returns the version.
int32 register_model(FunctionCallInfo fcinfo, const std::string& name, const Model& model, const json& provenance,
                     const json& metrics) {
    Datum args[4];
    args[0] = text_datum(name);
    args[2] = jsonb_datum(provenance);
    args[3] = jsonb_datum(metrics);
    int32 version = 0;
    spi_guard([&]() {
        const Oid nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
        extension_table_owner(nsp, "ml_models", "registry");
        args[1] = PointerGetDatum(flatten_model(model, CurrentMemoryContext));
        Oid types[4] = {TEXTOID, extension_model_type(), JSONBOID, JSONBOID};
        char* sql = psprintf("SELECT %s.ml_register($1, $2, provenance => $3, metrics => $4)", extension_schema_quoted());
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
        const int rc = SPI_execute_with_args(sql, 4, types, args, nullptr, false, 1);
        if (rc != SPI_OK_SELECT || SPI_processed != 1) elog(ERROR, "ml_register failed: %s", SPI_result_code_string(rc));
        bool isnull = true;
        const Datum v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        version = isnull ? 0 : DatumGetInt32(v);
        SPI_finish();
    });
    return version;
}

// Before any trial: the caller may execute ml_register (else the search would run to its end and
// then fail on the permission), and the name is one the registry takes.
void check_can_register(FunctionCallInfo fcinfo, const std::string& name) {
    Datum arg = text_datum(name);
    bool can = false, valid = false;
    spi_guard([&]() {
        const Oid nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
        extension_table_owner(nsp, "ml_models", "registry");
        const char* s = extension_schema_quoted();
        Datum args[2] = {arg, CStringGetTextDatum(psprintf("%s.ml_register(text, %s.ml_model, text, jsonb, %s.ml_profile, jsonb, int)", s, s, s))};
        const char* sql =
            "SELECT pg_catalog.has_function_privilege($2, 'EXECUTE'), $1 OPERATOR(pg_catalog.~) '^[A-Za-z_][-A-Za-z0-9_.]*$' "
            "AND pg_catalog.octet_length($1) OPERATOR(pg_catalog.<=) 63";
        Oid types[2] = {TEXTOID, TEXTOID};
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
        if (SPI_execute_with_args(sql, 2, types, args, nullptr, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
            elog(ERROR, "checking ml_register's privilege failed");
        bool isnull = true;
        can = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
        valid = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
        SPI_finish();
    });
    if (!can)
        pg_fail(ERRCODE_INSUFFICIENT_PRIVILEGE, "permission denied for function ml_register",
                "register => name registers the best trial's model through ml_register.",
                "Ask for EXECUTE on ml_register, or search without register and register the model yourself.");
    if (!valid)
        pg_fail(ERRCODE_INVALID_NAME, "invalid model name \"" + name.substr(0, 80) + "\"",
                "Model names are 1 to 63 bytes: a letter or underscore, then letters, digits, \"_\", \".\" or \"-\".");
}

}  // namespace

// ml_search(base jsonb, space jsonb, query text, method text, metric text, folds int,
//           test_fraction float8, trials int, seconds float8, epochs int, seed bigint, register text)
//   RETURNS TABLE(trial int, spec jsonb, params jsonb, status text, value float8, sd float8,
//                 metrics jsonb, duration float8, is_best boolean, message text)
PGL_FUNCTION(ml_search) {
    check_not_null(fcinfo, 0, "base");
    check_not_null(fcinfo, 1, "space");
    check_not_null(fcinfo, 2, "query");
    check_not_null(fcinfo, 3, "method");
    check_not_null(fcinfo, 6, "test_fraction");
    check_not_null(fcinfo, 9, "epochs");
    check_not_null(fcinfo, 10, "seed");
    const json base = pg_learn::core::search_json(jsonb_arg_text(fcinfo, 0), "the base spec");
    const json space_json = pg_learn::core::search_json(jsonb_arg_text(fcinfo, 1), "the search space");
    if (!base.is_object() || base.contains("pg_learn_model"))
        fail(ErrorKind::InvalidParameter, "base must be a model spec, a JSON object such as {\"model\": ...}");
    // The base spec's model gives the task (every trial must have it) and reads the rows.
    const std::unique_ptr<Model> start = pg_learn::core::model_from_json(base);
    const pg_learn::core::SearchSpace space = pg_learn::core::SearchSpace::parse(space_json);
    pg_learn::core::SearchOptions o;
    o.method = pg_learn::core::search_method_by_name(text_arg_string(fcinfo, 3));
    o.metric = pg_learn::core::check_search_metric(start->kind(), start->task(),
                                                   PG_ARGISNULL(4) ? std::string() : text_arg_string(fcinfo, 4));
    o.metrics = {o.metric};
    for (const auto& m : pg_learn::core::default_metrics(start->task()))
        if (m != o.metric) o.metrics.push_back(m);
    const double test_fraction = PG_GETARG_FLOAT8(6);
    if (!PG_ARGISNULL(5)) {
        o.folds = PG_GETARG_INT32(5);
        pg_learn::core::check_folds(o.folds);
    } else if (!(test_fraction > 0 && test_fraction < 1)) {
        fail(ErrorKind::InvalidParameter, "test_fraction must be between 0 and 1 (exclusive)",
             "got " + std::to_string(test_fraction), "A holdout split needs rows to learn and rows to score.");
    }
    if (!PG_ARGISNULL(7)) o.trials = PG_GETARG_INT32(7);
    if (!PG_ARGISNULL(8)) o.seconds = PG_GETARG_FLOAT8(8);
    o.epochs = PG_GETARG_INT32(9);
    const int64_t seed = PG_GETARG_INT64(10);
    o.seed = static_cast<uint64_t>(seed);
    std::optional<std::string> register_name;
    if (!PG_ARGISNULL(11)) register_name = text_arg_string(fcinfo, 11);
    pg_learn::core::check_search(base, space, o);
    if (register_name) check_can_register(fcinfo, *register_name);

    // The rows, in folds by the key's hash (ml_fold), or 1 (test) and 2 (train) by ml_split.
    const std::string query = query_arg(fcinfo, 2);
    pg_learn::core::EvalRows rows;
    const int64_t folds = o.folds;
    read_eval_rows(fcinfo, "ml_search", query, *start, Third::Key, seed, rows, [folds, test_fraction](uint64_t h) {
        if (folds > 0) return pg_learn::core::fold_of_hash(h, folds);
        return pg_learn::core::is_test_hash(h, test_fraction) ? 1u : 2u;
    });
    if (rows.size() == 0)
        fail(ErrorKind::InvalidParameter, "the query of ml_search returned no rows with features and label");
    if (folds == 0) {
        size_t test = 0;
        for (uint32_t f : rows.folds) test += f == 1;
        if (test == 0 || test == rows.size())
            fail(ErrorKind::InvalidParameter,
                 std::string("the holdout split left no rows to ") + (test == 0 ? "score" : "learn"),
                 std::to_string(rows.size()) + " rows, test_fraction " + std::to_string(test_fraction),
                 "Use more rows, another test_fraction or seed, or folds => k for cross-validation.");
    }

    const auto interrupts = []() { pg_guard([]() { CHECK_FOR_INTERRUPTS(); }); };
    const pg_learn::core::SearchResult res = pg_learn::core::run_search(base, start->task(), space, rows, o, interrupts);
    if (res.stopped_by_time && o.method == pg_learn::core::SearchMethod::Halving)
        notice("the seconds budget stopped the search after rung " + std::to_string(res.rungs_run) + " of " +
                   std::to_string(res.rungs),
               "The rung that started before the budget ran out finished; is_best is the best of that rung.");
    else if (res.stopped_by_time)
        notice("the seconds budget stopped the search after " + std::to_string(res.trials.size()) + " of " +
                   std::to_string(res.planned) + " trials",
               "Trials that started before the budget ran out finished; no trial started after it.");
    if (res.capped)
        notice(std::string(o.method == pg_learn::core::SearchMethod::Halving ? "halving" : "random search") +
                   " ran each of the " + std::to_string(res.planned) + " points of the grid once",
               "Every dimension is a list of values: draws are points of the grid without replacement.");

    // The best trial's spec learns every row and is registered.
    if (register_name) {
        if (!res.best) {
            pg_guard([&]() {
                ereport(WARNING, (errmsg("no trial has a value of %s: nothing was registered", o.metric.c_str()),
                                  errhint("The message column says why each trial failed.")));
            });
        } else {
            const pg_learn::core::Trial& best = res.trials[*res.best];
            bool single_pass = false;
            const std::unique_ptr<Model> model =
                pg_learn::core::fit_on_all_rows(best.spec, rows, o.epochs, o.seed, interrupts, &single_pass);
            json search = {{"method", pg_learn::core::search_method_name(o.method)},
                           {"space", space_json},
                           {"base", base},
                           {"trial", best.number},
                           {"trials", res.trials.size()},
                           {"metric", o.metric},
                           {"epochs", single_pass ? 1 : o.epochs},
                           {"seed", seed},
                           {"query", query},
                           {"rows", rows.size()}};
            if (folds > 0) search["folds"] = folds;
            else search["test_fraction"] = test_fraction;
            const int32 version = register_model(fcinfo, *register_name, *model, json{{"search", search}},
                                                 metrics_object(o.metrics, best.values_of_metrics));
            notice("registered trial " + std::to_string(best.number) + " as version " + std::to_string(version) +
                   " of model \"" + *register_name + "\"",
                   "It learned every row of the query; ml_models.metrics holds the trial's " +
                       std::string(folds > 0 ? "cross-validated" : "holdout") + " metrics.");
        }
    }

    const Materialized m = materialize(fcinfo);
    for (const auto& t : res.trials) {
        Datum spec = jsonb_datum(t.spec), params = jsonb_datum(t.values);
        Datum metrics = jsonb_datum(metrics_object(o.metrics, t.values_of_metrics));
        Datum status = text_datum(t.succeeded ? "succeeded" : "failed");
        std::optional<Datum> message;
        if (!t.message.empty()) message = text_datum(t.message);
        pg_guard([&]() {
            RowValues<10> row;
            row.set(0, Int32GetDatum(static_cast<int32>(t.number)));
            row.set(1, spec);
            row.set(2, params);
            row.set(3, status);
            if (t.value) row.set(4, Float8GetDatum(*t.value));
            if (t.sd) row.set(5, Float8GetDatum(*t.sd));
            row.set(6, metrics);
            row.set(7, Float8GetDatum(t.seconds));
            row.set(8, BoolGetDatum(t.is_best));
            if (message) row.set(9, *message);
            tuplestore_putvalues(m.store, m.desc, row.v, row.n);
        });
    }
    return Datum(0);
}

// _ml_metric_higher_is_better(metric text) RETURNS boolean: for ml_deploy(name, 'best', metric).
PGL_FUNCTION(ml_metric_higher_is_better) {
    return BoolGetDatum(pg_learn::core::higher_is_better(text_arg_string(fcinfo, 0)));
}
