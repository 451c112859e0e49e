// Explanations as jsonb (explain.cpp), for the functions that take a model value and for those
// that take a registered name (registry.cpp).
#pragma once

#include "pg/common/features.hpp"

namespace pg_learn::pg {

// The explanation of x (jsonb, float8[] or a row, as `form` says) by `model`, as ml_explain's
// jsonb. row_fcinfo reads a row (features.cpp's row reader keeps its column plan with it);
// obs is the caller's scratch observation.
Datum explanation_of(FunctionCallInfo row_fcinfo, const core::Model& model, Form form, Datum x, core::Observation& obs);

// An observation read already (the scoring trigger's, issue 16 item 6: explanations logged for
// audit) explained by model, as ml_explain's jsonb. A kind that cannot explain throws its
// FeatureNotSupported error: the caller's statement fails, nothing is logged without it.
Datum explanation_of(const core::Model& model, const core::Observation& x);

}  // namespace pg_learn::pg
