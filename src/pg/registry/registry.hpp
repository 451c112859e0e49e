// The model registry seen from C++: the deployed version of a name, through the per-backend cache;
// learning a stored version in place.
#pragma once

#include "pg/common/spi.hpp"

extern "C" {
#include "utils/snapshot.h"
}

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/models/model.hpp"

namespace pg_learn::pg {

// ---- reading -------------------------------------------------------------------------------

// A registered version as the current snapshot sees it. The model is shared with the backend
// cache: read it (predict), never change it.
struct DeployedModel {
    int32_t version = 0;
    std::shared_ptr<core::Model> model;
};

// The version of `name` deployed under `alias`, read with the active snapshot (as a STABLE
// function reads), decoded at most once per stored row version per backend. Unknown name or
// alias: 42704. nsp is the extension's schema (get_func_namespace of an extension function).
// Connects to SPI itself (nesting inside a caller's SPI connection is fine).
DeployedModel registry_resolve(Oid nsp, std::string_view name, std::string_view alias);

// A counter that changes whenever this backend's view of the registry may have changed without
// the snapshot showing it (a subtransaction rolled back; also at every transaction end).
// Anything that keeps a resolved model across statements compares it, with the snapshot (whose
// command id already tells this backend's own later writes).
uint64_t registry_generation();

// What a statement's view of the registry depends on: its snapshot and registry_generation().
// Two snapshots with equal xmin, xmax, command id and transaction-completion count see the same
// rows (PostgreSQL reuses a snapshot's contents on exactly that condition); a snapshot without a
// completion count (restored in a parallel worker, imported) is compared xid by xid.
struct SnapshotFingerprint {
    bool valid = false;
    uint64_t generation = 0;
    uint64 completion = 0;
    TransactionId xmin = InvalidTransactionId, xmax = InvalidTransactionId;
    CommandId curcid = 0;
    uint32 xcnt = 0;
    int32 subxcnt = 0;
    bool suboverflowed = false;
    std::vector<TransactionId> xids;

    bool matches(const SnapshotData* s) const;
    void take(const SnapshotData* s);
};

// ---- learning in place ---------------------------------------------------------------------

// A stored version locked FOR NO KEY UPDATE by this transaction, for the caller to change and
// store back. The model is the caller's own (taken out of the backend cache, or a copy).
struct LockedModel {
    bool found = false;   // the version exists
    bool locked = false;  // false only with skip_locked, when another transaction holds the lock
    int32_t version = 0;
    std::shared_ptr<core::Model> model;
};

// Locks the row of (name, version) in ml_models FOR NO KEY UPDATE (waiting, or with skip_locked
// giving up at once when another transaction holds it), and decodes it. In READ COMMITTED a
// waiter then reads the row version its predecessor wrote, so no update is lost.
LockedModel registry_lock_version(Oid nsp, std::string_view name, int32_t version, bool skip_locked);
// Writes a model locked by registry_lock_version back in place (updated_at = now()) and keeps
// it in the backend cache under the row version written. examples: how many updates it took
// (the cache's learns counter).
void registry_store(Oid nsp, std::string_view name, int32_t version, std::shared_ptr<core::Model> model,
                    uint64_t examples);

}  // namespace pg_learn::pg
