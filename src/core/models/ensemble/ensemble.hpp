// Ensembles of models (docs/models.md, "Ensembles"): online bagging of any classifier or
// regressor (Oza & Russell 2001) and the Adaptive Random Forest classifier (Gomes et al. 2017).
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/models/model.hpp"

#include <cstdint>
#include <vector>

namespace pg_learn::core {

// bagging_classifier (code 40), bagging_regressor (41), adaptive_random_forest_classifier (42).
const std::vector<const ModelFamily*>& ensemble_families();

namespace ensemble {

// The ensembles' generator: SplitMix64 (state advanced), its uniform double in [0, 1) from the top
// 53 bits, and a Poisson draw by Knuth's multiplication method (exposed for the unit tests, which
// recompute the draws by hand).
uint64_t next_u64(uint64_t& state);
double next_uniform(uint64_t& state);
uint32_t next_poisson(uint64_t& state, double lambda);

}  // namespace ensemble

}  // namespace pg_learn::core
