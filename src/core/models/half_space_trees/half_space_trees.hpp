// Half-Space Trees (Tan, Ting and Liu 2011; river's anomaly.HalfSpaceTrees): the family of kind
// "half_space_trees" (task anomaly).
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/models/model.hpp"

#include <vector>

namespace pg_learn::core {

// The kinds of the Half-Space Trees family, for models/families.cpp.
const std::vector<const ModelFamily*>& half_space_trees_families();

}  // namespace pg_learn::core
