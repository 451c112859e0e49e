// Scoring with a model value, for each form of features: ml_predict_one, ml_predict_class and
// ml_predict_proba. The model is decoded once per query, not per row.
#include "pg/common/features.hpp"
#include "pg/models/model_datum.hpp"

#include <vector>

using namespace pg_learn::pg;

namespace {

Datum predict_one(FunctionCallInfo fcinfo, Form form) {
    ModelCache& cache = ModelCache::of(fcinfo);
    const auto& model = cache.get(fcinfo, 0);
    return Float8GetDatum(predict_number(model, form, PG_GETARG_DATUM(1), fcinfo, cache.observation));
}

// The probabilities of every class, in a buffer kept with the call site.
const std::vector<double>& probabilities(FunctionCallInfo fcinfo, Form form, const pg_learn::core::Model*& model) {
    ModelCache& cache = ModelCache::of(fcinfo);
    model = &cache.get(fcinfo, 0);
    predict_probabilities(*model, form, PG_GETARG_DATUM(1), fcinfo, cache.observation, cache.probabilities);
    return cache.probabilities;
}

Datum predict_class(FunctionCallInfo fcinfo, Form form) {
    const pg_learn::core::Model* model = nullptr;
    const std::vector<double>& p = probabilities(fcinfo, form, model);
    return most_probable_class(*model, p, &fcinfo->isnull);
}

Datum predict_proba(FunctionCallInfo fcinfo, Form form) {
    const pg_learn::core::Model* model = nullptr;
    const std::vector<double>& p = probabilities(fcinfo, form, model);
    return class_probabilities(*model, p);
}

}  // namespace

PGL_FUNCTION(ml_predict_one_jsonb) { return predict_one(fcinfo, Form::Jsonb); }
PGL_FUNCTION(ml_predict_one_array) { return predict_one(fcinfo, Form::Array); }
PGL_FUNCTION(ml_predict_one_row) { return predict_one(fcinfo, Form::Row); }

PGL_FUNCTION(ml_predict_class_jsonb) { return predict_class(fcinfo, Form::Jsonb); }
PGL_FUNCTION(ml_predict_class_array) { return predict_class(fcinfo, Form::Array); }
PGL_FUNCTION(ml_predict_class_row) { return predict_class(fcinfo, Form::Row); }

PGL_FUNCTION(ml_predict_proba_jsonb) { return predict_proba(fcinfo, Form::Jsonb); }
PGL_FUNCTION(ml_predict_proba_array) { return predict_proba(fcinfo, Form::Array); }
PGL_FUNCTION(ml_predict_proba_row) { return predict_proba(fcinfo, Form::Row); }
