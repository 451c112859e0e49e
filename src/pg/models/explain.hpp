// Explanations as jsonb, for the scoring trigger's log (issue 16 item 6): ml_explain's form.
#pragma once

#include "pg/common/glue.hpp"

#include "core/models/model.hpp"

namespace pg_learn::pg {

// x explained by model, as the jsonb ml_explain(model, x) returns (a kind that cannot explain
// throws its FeatureNotSupported error: the caller's statement fails, nothing is logged without it).
Datum explanation_of(const core::Model& model, const core::Observation& x);

}  // namespace pg_learn::pg
