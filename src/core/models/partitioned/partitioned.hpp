// Partitioned models (docs/models.md, "Partitioned models"): a global model and one model per
// partition path of a hierarchy of keys (["country", "city"]), each made from one base spec;
// predictions come from the most specific partition trained enough, else its parent, ..., else
// the global model (Uber's Michelangelo).
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/models/model.hpp"

#include <vector>

namespace pg_learn::core {

// partitioned (code 71).
const std::vector<const ModelFamily*>& partitioned_families();

}  // namespace pg_learn::core
