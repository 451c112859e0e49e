// Gradient-boosted trees trained by XGBoost and imported from its JSON model format
// (Booster.save_model("m.json")): the predict-only kind "xgboost" (docs/imported.md).
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/models/model.hpp"

#include <cstddef>
#include <memory>
#include <vector>

namespace pg_learn::core {

// The kinds of imported models, for models/families.cpp.
const std::vector<const ModelFamily*>& imported_families();

// Limits of an imported model: trees, nodes of all trees together, and the model text's bytes.
struct ImportLimits {
    size_t max_trees = 100000;
    size_t max_nodes = size_t(1) << 24;
    size_t max_text_bytes = size_t(512) << 20;
};

// An XGBoost JSON model (the text Booster.save_model writes, NaN tokens included) as a model of
// kind "xgboost"; everything it cannot score exactly as XGBoost does is refused.
std::unique_ptr<Model> import_xgboost(const char* text, size_t len, const ImportLimits& limits = {});

}  // namespace pg_learn::core
