// Turning a SQL value (jsonb object, float8[] or row) into the core's feature input.
#pragma once

#include "pg/common/glue.hpp"

extern "C" {
#include "utils/numeric.h"
}

#include "core/features/observation.hpp"
#include "core/models/linear/spec.hpp"

namespace pg_learn::pg {

// Fills obs from a jsonb object; nested values and non-objects are errors. With borrow_names,
// the names of numeric features point into the jsonb value instead of being copied: only for
// an observation used (and cleared or refilled) before the argument goes away, as in one call.
void jsonb_features(Datum jsonb, core::Observation& obs, bool borrow_names = false);
// Fills obs from a composite value; the column plan is cached in fn_extra-owned memory. A column
// of a type that cannot be a feature is an error unless the spec ignores it.
void row_features(FunctionCallInfo fcinfo, Datum row, const core::ModelSpec& spec, core::Observation& obs);

// A float8[] as contiguous doubles: one dimension, no NULLs. The pointer is valid while the
// detoasted array lives (in the current memory context).
struct DenseArray {
    const double* data;
    size_t n;
};
DenseArray dense_features(Datum array);

// A jsonb numeric as a double, without going through text when it can be done exactly.
double numeric_to_double(Numeric num);

}  // namespace pg_learn::pg
