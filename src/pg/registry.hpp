// The model registry seen from C++: the deployed version of a name, through the per-backend cache.
#pragma once

#include "glue.hpp"

#include <cstdint>
#include <memory>
#include <string_view>

#include "linear_model.hpp"

namespace pg_learn::pg {

// A registered version as the current snapshot sees it. The model is shared with the backend
// cache: read it (predict), never change it.
struct DeployedModel {
    int32_t version = 0;
    std::shared_ptr<core::LinearModel> model;
};

// The version of `name` deployed under `alias`, read with the active snapshot (as a STABLE
// function reads), decoded at most once per stored row version per backend. Unknown name or
// alias: 42704. nsp is the extension's schema (get_func_namespace of an extension function).
// Runs SPI; the caller must not be connected to SPI.
DeployedModel registry_resolve(Oid nsp, std::string_view name, std::string_view alias);

// A counter that changes whenever this backend's view of the registry may have changed without
// the snapshot showing it (a subtransaction rolled back; also at every transaction end).
// Anything that keeps a resolved model across statements compares it, with the snapshot (whose
// command id already tells this backend's own later writes).
uint64_t registry_generation();

}  // namespace pg_learn::pg
