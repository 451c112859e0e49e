// Explanations as jsonb (explain.cpp), for the functions that take a model value and for those
// that take a registered name (registry.cpp).
#pragma once

#include "pg/common/features.hpp"

namespace pg_learn::pg {

// The explanation of x (jsonb, float8[] or a row, as `form` says) by `model`, as ml_explain's
// jsonb. row_fcinfo reads a row (features.cpp's row reader keeps its column plan with it);
// obs is the caller's scratch observation.
Datum explanation_of(FunctionCallInfo row_fcinfo, const core::Model& model, Form form, Datum x, core::Observation& obs);

}  // namespace pg_learn::pg
