// ml_predict_one for each form of features: the model is decoded once per query, not per row.
#include "pg/common/features.hpp"
#include "pg/models/model_datum.hpp"

using namespace pg_learn::pg;

PGL_FUNCTION(ml_predict_one_jsonb) {
    ModelCache& cache = ModelCache::of(fcinfo);
    const auto& model = cache.get(fcinfo, 0);
    jsonb_features(PG_GETARG_DATUM(1), cache.observation, /*borrow_names=*/true);
    return Float8GetDatum(model.predict(cache.observation));
}

PGL_FUNCTION(ml_predict_one_array) {
    ModelCache& cache = ModelCache::of(fcinfo);
    const auto& model = cache.get(fcinfo, 0);
    DenseArray x = dense_features(PG_GETARG_DATUM(1));
    return Float8GetDatum(model.predict_dense(x.data, x.n));
}

PGL_FUNCTION(ml_predict_one_row) {
    ModelCache& cache = ModelCache::of(fcinfo);
    const auto& model = cache.get(fcinfo, 0);
    row_features(fcinfo, PG_GETARG_DATUM(1), model.spec(), cache.observation);
    return Float8GetDatum(model.predict(cache.observation));
}
