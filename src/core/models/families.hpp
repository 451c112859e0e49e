// Every model family this build knows, by kind: the one list a new family is added to.
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/models/model.hpp"

#include <vector>

namespace pg_learn::core {

// The registered families in a fixed order (the order messages list them in).
const std::vector<const ModelFamily*>& model_families();

}  // namespace pg_learn::core
