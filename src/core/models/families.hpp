// Every model family this build knows, by kind: the one list a new family is added to.
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/models/model.hpp"

#include <vector>

namespace pg_learn::core {

// The registered families in a fixed order (the order messages list them in).
const std::vector<const ModelFamily*>& model_families();

// Texts for the glue's messages that name which kinds do something (the glue names no family):
// which models read timestamp columns (Model::reads_timestamps), as a phrase and as a sentence,
// and what computes features from the labels learned (Model::features_learn_labels).
const char* timestamp_readers();          // "a pipeline with a \"date_parts\" step (hour, ...)"
const char* timestamp_readers_sentence();  // "Only a model with a date_parts step ... reads timestamps ..."
const char* label_features_source();      // "a pipeline's target aggregates"
// A spec to show in hints: {"model":"logistic_regression"}.
const char* example_spec();

}  // namespace pg_learn::core
