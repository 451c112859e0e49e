// ml_model values that may carry a training history (core/models/training_history.hpp): flattening
// one, and reading the history of an argument.
#pragma once

#include "pg/common/glue.hpp"

#include "core/models/model.hpp"
#include "core/models/training.hpp"

namespace pg_learn::pg {

// A flat varlena holding the model and, when h is not null, its training history, in cxt.
struct varlena* flatten_model_value(const core::Model& model, const core::TrainingHistory* h, MemoryContext cxt);
// The training history of the ml_model in argument argno, into h; false when it has none (a
// value of format 1, an aggregate's state). Reads only the header of a value without one.
bool training_history_arg(FunctionCallInfo fcinfo, int argno, core::TrainingHistory& h);

}  // namespace pg_learn::pg
