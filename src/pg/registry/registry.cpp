// The model registry's glue: ml_predict and ml_learn by name, the per-backend cache of decoded
// models, and the entry points that run the registry's SQL as the tables' owner.
#include "pg/registry/registry.hpp"

#include "pg/common/features.hpp"
#include "pg/models/explain.hpp"
#include "pg/models/model_datum.hpp"

extern "C" {
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/itemptr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;
using pg_learn::core::Model;

namespace pg_learn::pg {

namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s.substr(0, 80)) + "\""; }

// ---- the backend's state --------------------------------------------------------------------

uint64_t g_generation = 1;

void on_xact(XactEvent, void*) { g_generation++; }
void on_subxact(SubXactEvent event, SubTransactionId, SubTransactionId, void*) {
    if (event == SUBXACT_EVENT_ABORT_SUB) g_generation++;
}

// A decoded model and the stored row version it was decoded from. A row version is named by its
// table, TID and inserting transaction (xmin): a TID is reused only after the row version there
// died and was pruned, and a new one then has another xmin (the xid that wrote the dead one is
// never handed out again), so while an entry's key is what the snapshot shows, its model is the
// stored one. (A TRUNCATE, which could reuse TIDs within one transaction, invalidates the
// table's relcache entry, and that empties the cache: see on_relcache.)
struct Entry {
    Oid rel = InvalidOid;
    std::string name;
    int32 version = 0;
    ItemPointerData tid;
    TransactionId xmin = InvalidTransactionId;
    std::shared_ptr<Model> model;
    size_t bytes = 0;
    uint64_t last_used = 0;
};

// Bounds: beyond them the least recently used entries go (a model in use by a running query
// stays alive through its shared_ptr).
constexpr size_t kMaxEntries = 64;
constexpr size_t kMaxBytes = size_t(256) << 20;

struct BackendCache {
    std::vector<Entry> entries;
    uint64_t tick = 0;
    uint64_t resolves = 0;  // registry look-ups (one SPI query each)
    uint64_t hits = 0;      // look-ups answered by a cached decode
    uint64_t decodes = 0;   // models decoded from their stored bytes
    uint64_t learns = 0;    // ml_learn updates
    size_t bytes = 0;

    Entry* find(Oid rel, std::string_view name, int32 version, const ItemPointerData& tid, TransactionId xmin) {
        for (Entry& e : entries)
            if (e.version == version && e.xmin == xmin && ItemPointerEquals(&e.tid, const_cast<ItemPointerData*>(&tid)) &&
                e.rel == rel && e.name == name) {
                e.last_used = ++tick;
                return &e;
            }
        return nullptr;
    }

    // Takes the entry's model out of the cache (ml_learn changes it).
    std::shared_ptr<Model> take(Entry* e) {
        std::shared_ptr<Model> m = std::move(e->model);
        bytes -= e->bytes;
        entries.erase(entries.begin() + (e - entries.data()));
        return m;
    }

    void put(Oid rel, std::string_view name, int32 version, const ItemPointerData& tid, TransactionId xmin,
             std::shared_ptr<Model> model, size_t size) {
        // Another row version of the same (name, version) is an older state of it: drop it.
        for (size_t i = entries.size(); i-- > 0;)
            if (entries[i].version == version && entries[i].rel == rel && entries[i].name == name) {
                bytes -= entries[i].bytes;
                entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(i));
            }
        while (!entries.empty() && (entries.size() >= kMaxEntries || bytes + size > kMaxBytes)) {
            auto lru = std::min_element(entries.begin(), entries.end(),
                                        [](const Entry& a, const Entry& b) { return a.last_used < b.last_used; });
            bytes -= lru->bytes;
            entries.erase(lru);
        }
        Entry e;
        e.rel = rel;
        e.name = std::string(name);
        e.version = version;
        e.tid = tid;
        e.xmin = xmin;
        e.model = std::move(model);
        e.bytes = size;
        e.last_used = ++tick;
        entries.push_back(std::move(e));
        bytes += size;
    }

    void clear() noexcept {
        entries.clear();
        bytes = 0;
    }
};

BackendCache* g_cache = nullptr;
MemoryContextCallback g_cache_destroy;

// Relcache invalidation of the models table (TRUNCATE, DROP, ALTER; relid 0: all relations):
// forget every decoded model. Called while PostgreSQL processes invalidations, which can happen
// inside any catalog or lock operation: it only frees memory and cannot fail. No code holds an
// Entry pointer across a PostgreSQL call (models in use are held by shared_ptr).
void forget_lookups_of(Oid relid) noexcept;  // (below)

void on_relcache(Datum, Oid relid) {
    forget_lookups_of(relid);
    if (g_cache && (relid == InvalidOid || std::any_of(g_cache->entries.begin(), g_cache->entries.end(),
                                                       [relid](const Entry& e) { return e.rel == relid; })))
        g_cache->clear();
}

void destroy_cache(void* arg) {
    static_cast<BackendCache*>(arg)->~BackendCache();
    g_cache = nullptr;
}

// The cache lives in a child of TopMemoryContext; its C++ members are freed by the context's
// reset callback.
BackendCache& cache() {
    if (g_cache) return *g_cache;
    MemoryContext cxt = nullptr;
    pg_guard([&]() {
        cxt = AllocSetContextCreate(TopMemoryContext, "pg_learn registry cache", ALLOCSET_SMALL_SIZES);
        RegisterXactCallback(on_xact, nullptr);
        RegisterSubXactCallback(on_subxact, nullptr);
        CacheRegisterRelcacheCallback(on_relcache, Datum(0));
    });
    void* mem = palloc_or_throw(cxt, sizeof(BackendCache));
    auto* c = new (mem) BackendCache();
    g_cache_destroy.func = destroy_cache;
    g_cache_destroy.arg = c;
    pg_guard([&]() { MemoryContextRegisterResetCallback(cxt, &g_cache_destroy); });
    g_cache = c;
    return *c;
}

// ---- the registry's SQL ---------------------------------------------------------------------

const char* const kWriteNames[] = {"ml_register", "ml_deploy", "ml_rollback", "ml_undeploy", "ml_unregister"};

// Plans prepared once per backend (SPI_keepplan), for the extension's schema. Every name in them
// is schema-qualified and every operator is pg_catalog's, so the search_path in force when a plan
// is made or re-made does not matter.
struct Plans {
    uint64_t generation = 0;  // extension_schema_generation() they were made for
    Oid models_rel = InvalidOid;
    Oid models_pkey = InvalidOid;
    Oid aliases_rel = InvalidOid;
    Oid aliases_pkey = InvalidOid;
    SPIPlanPtr resolve = nullptr;
    SPIPlanPtr learn_lock = nullptr;
    SPIPlanPtr learn_update = nullptr;
    SPIPlanPtr name_exists = nullptr;
    SPIPlanPtr version_lock = nullptr;
    SPIPlanPtr version_lock_skip = nullptr;
};
Plans g_plans;

// Plain PostgreSQL code from here to the end of the section: may ereport, holds no C++ object.

void free_plans() {
    SPIPlanPtr* all[] = {&g_plans.resolve,      &g_plans.learn_lock,      &g_plans.learn_update,
                         &g_plans.name_exists,  &g_plans.version_lock,    &g_plans.version_lock_skip};
    for (SPIPlanPtr* p : all)
        if (*p) {
            SPI_freeplan(*p);
            *p = nullptr;
        }
}

// Points g_plans at the extension's schema as of the last extension_table_owner (SpiAsOwner
// calls it). Plans made for another schema, before a rename, or for objects since dropped and
// created again (DROP and CREATE EXTENSION in one session: the plans' parameter types name the old
// ml_model type) are dropped and made again.
void sync_plans() {
    if (g_plans.generation == extension_schema_generation()) return;
    free_plans();
    const Oid nsp = extension_schema();
    g_plans.generation = extension_schema_generation();
    g_plans.models_rel = get_relname_relid("ml_models", nsp);
    g_plans.aliases_rel = get_relname_relid("ml_aliases", nsp);
    g_plans.models_pkey = get_relname_relid("ml_models_pkey", nsp);
    g_plans.aliases_pkey = get_relname_relid("ml_aliases_pkey", nsp);
}

// Points the schema state and g_plans at schema nsp and returns the owner of the registry tables there.
Oid registry_owner(Oid nsp) {
    Oid owner = extension_table_owner(nsp, "ml_models", "registry");
    sync_plans();
    return owner;
}

// The row version of the model deployed under an alias: version, ctid, xmin, model.
const char* const kResolveSql =
    "SELECT m.version, m.ctid, m.xmin, m.model"
    " FROM %s.ml_aliases a JOIN %s.ml_models m"
    " ON m.name OPERATOR(pg_catalog.=) a.name AND m.version OPERATOR(pg_catalog.=) a.version"
    " WHERE a.name OPERATOR(pg_catalog.=) $1 AND a.alias OPERATOR(pg_catalog.=) $2";

SPIPlanPtr resolve_plan(bool for_update) {
    sync_plans();
    SPIPlanPtr& slot = for_update ? g_plans.learn_lock : g_plans.resolve;
    if (!slot) {
        Oid types[2] = {TEXTOID, TEXTOID};
        // FOR NO KEY UPDATE: concurrent learners queue on the model's row (in READ COMMITTED the
        // waiter then reads the row version its predecessor wrote), while foreign-key checks
        // (deploys, which take KEY SHARE) are not blocked.
        const char* q = extension_schema_quoted();
        const char* sql = psprintf("%s%s", psprintf(kResolveSql, q, q),
                                   for_update ? " FOR NO KEY UPDATE OF m" : "");
        slot = keep_plan(sql, 2, types);
    }
    return slot;
}

SPIPlanPtr name_exists_plan() {
    sync_plans();
    Oid types[1] = {TEXTOID};
    return schema_plan(g_plans.name_exists, "SELECT 1 FROM %s.ml_model_names WHERE name OPERATOR(pg_catalog.=) $1", 1,
                       types);
}

SPIPlanPtr learn_update_plan() {
    sync_plans();
    if (!OidIsValid(extension_model_type())) elog(ERROR, "pg_learn: type ml_model not found");
    Oid types[3] = {TEXTOID, INT4OID, extension_model_type()};
    return schema_plan(g_plans.learn_update,
                       "UPDATE %s.ml_models SET model = $3, updated_at = pg_catalog.now()"
                       " WHERE name OPERATOR(pg_catalog.=) $1 AND version OPERATOR(pg_catalog.=) $2"
                       " RETURNING ctid, xmin",
                       3, types);
}

SPIPlanPtr version_lock_plan(bool skip_locked) {
    sync_plans();
    SPIPlanPtr& slot = skip_locked ? g_plans.version_lock_skip : g_plans.version_lock;
    if (!slot) {
        Oid types[2] = {TEXTOID, INT4OID};
        slot = keep_plan(psprintf("SELECT m.version, m.ctid, m.xmin, m.model FROM %s.ml_models m"
                                  " WHERE m.name OPERATOR(pg_catalog.=) $1 AND m.version OPERATOR(pg_catalog.=) $2"
                                  " FOR NO KEY UPDATE%s",
                                  extension_schema_quoted(), skip_locked ? " SKIP LOCKED" : ""),
                         2, types);
    }
    return slot;
}

// What the look-up of a deployed version returned; model points into SPI's memory.
struct ModelRow {
    Oid rel = InvalidOid;  // the models table the row is in
    bool found = false;
    int32 version = 0;
    ItemPointerData tid;
    TransactionId xmin = InvalidTransactionId;
    Datum model = 0;
    // The ml_aliases row version the deployed version was read from (the direct look-up only).
    bool alias_known = false;
    ItemPointerData alias_tid;
    TransactionId alias_xmin = InvalidTransactionId;
};

// Runs the look-up (plain PostgreSQL code; called under spi_guard).
void fetch_model_row(bool for_update, const char* name, size_t name_len, const char* alias, size_t alias_len,
                     ModelRow& row) {
    Datum args[2] = {PointerGetDatum(cstring_to_text_with_len(name, static_cast<int>(name_len))),
                     PointerGetDatum(cstring_to_text_with_len(alias, static_cast<int>(alias_len)))};
    int rc = SPI_execute_plan(resolve_plan(for_update), args, nullptr, /*read_only=*/!for_update, 1);
    if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: registry look-up failed: %s", SPI_result_code_string(rc));
    row.rel = g_plans.models_rel;
    row.found = SPI_processed == 1;
    if (!row.found) return;
    HeapTuple tup = SPI_tuptable->vals[0];
    TupleDesc desc = SPI_tuptable->tupdesc;
    bool isnull = false;
    row.version = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
    ItemPointer tid = reinterpret_cast<ItemPointer>(DatumGetPointer(SPI_getbinval(tup, desc, 2, &isnull)));
    ItemPointerCopy(tid, &row.tid);
    row.xmin = DatumGetTransactionId(SPI_getbinval(tup, desc, 3, &isnull));
    row.model = SPI_getbinval(tup, desc, 4, &isnull);
}

// The look-up of fetch_model_row(false, ...) without SPI: two primary-key look-ups with the active
// snapshot (what the prepared query does, without starting an executor per statement). Direct
// index scans check no privileges, as the query run as the tables' owner would pass them.
// Returns false when it cannot be done this way (no active snapshot, an index missing).
bool fetch_model_row_direct(const char* name, size_t name_len, const char* alias, size_t alias_len, ModelRow& row) {
    if (!ActiveSnapshotSet() || !OidIsValid(g_plans.aliases_rel) || !OidIsValid(g_plans.aliases_pkey) ||
        !OidIsValid(g_plans.models_pkey))
        return false;
    Snapshot snap = GetActiveSnapshot();
    text* tname = cstring_to_text_with_len(name, static_cast<int>(name_len));
    text* talias = cstring_to_text_with_len(alias, static_cast<int>(alias_len));
    ScanKeyData key[2];
    // ml_aliases (name, alias, version, ...): the version deployed under the alias.
    Relation arel = table_open(g_plans.aliases_rel, AccessShareLock);
    ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, F_TEXTEQ, PointerGetDatum(tname));
    ScanKeyInit(&key[1], 2, BTEqualStrategyNumber, F_TEXTEQ, PointerGetDatum(talias));
    // A text key searches the index under the index's collation (its column's: the database's
    // default), not ScanKeyInit's C: a B-tree sorted by en-US and searched by C order misses rows.
    key[0].sk_collation = TupleDescAttr(RelationGetDescr(arel), 0)->attcollation;
    key[1].sk_collation = TupleDescAttr(RelationGetDescr(arel), 1)->attcollation;
    SysScanDesc scan = systable_beginscan(arel, g_plans.aliases_pkey, true, snap, 2, key);
    HeapTuple tup = systable_getnext(scan);
    bool found = HeapTupleIsValid(tup);
    int32 version = 0;
    row.alias_known = false;
    if (found) {
        bool isnull = false;
        version = DatumGetInt32(heap_getattr(tup, 3, RelationGetDescr(arel), &isnull));
        row.alias_known = true;
        ItemPointerCopy(&tup->t_self, &row.alias_tid);
        row.alias_xmin = HeapTupleHeaderGetRawXmin(tup->t_data);
    }
    systable_endscan(scan);
    table_close(arel, NoLock);
    row.rel = g_plans.models_rel;
    row.found = false;
    if (!found) return true;
    // ml_models (name, version, model, ...): the row version of that version.
    Relation mrel = table_open(g_plans.models_rel, AccessShareLock);
    ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, F_TEXTEQ, PointerGetDatum(tname));
    key[0].sk_collation = TupleDescAttr(RelationGetDescr(mrel), 0)->attcollation;
    ScanKeyInit(&key[1], 2, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(version));
    scan = systable_beginscan(mrel, g_plans.models_pkey, true, snap, 2, key);
    tup = systable_getnext(scan);
    if (HeapTupleIsValid(tup)) {
        bool isnull = false;
        Form_pg_attribute att = TupleDescAttr(RelationGetDescr(mrel), 2);
        Datum model = heap_getattr(tup, 3, RelationGetDescr(mrel), &isnull);
        row.found = !isnull;
        row.version = version;
        ItemPointerCopy(&tup->t_self, &row.tid);
        row.xmin = HeapTupleHeaderGetRawXmin(tup->t_data);
        // (a TOAST pointer, or the value itself when it is stored inline: copied out of the scan)
        if (!isnull) row.model = datumCopy(model, att->attbyval, att->attlen);
    }
    systable_endscan(scan);
    table_close(mrel, NoLock);
    return true;
}

// ---- look-ups remembered across statements (issue 12 item 7) ---------------------------------

// A look-up by name and alias costs two index scans (about 20k instructions): one per statement
// of every INSERT into an attached table. Each look-up's row versions (of ml_aliases and
// ml_models) are remembered; a later statement fetches them by TID with its own snapshot, and
// when both are row versions that snapshot sees, they are what the index scans would find (the
// primary keys let a snapshot see one version of each row), so the answer stands. A deploy,
// undeploy, rollback or learning committed since wrote new row versions: the snapshots that see
// them no longer see the remembered ones, and the look-up is made again. A row version is named
// by its TID and xmin (see Entry); TRUNCATE, which can reuse a TID in one transaction, sends a
// relcache invalidation of the table, which forgets everything (on_relcache).
struct Remembered {
    Oid aliases_rel = InvalidOid, models_rel = InvalidOid;
    std::string name, alias;
    ItemPointerData alias_tid;
    TransactionId alias_xmin = InvalidTransactionId;
    int32 version = 0;
    ItemPointerData model_tid;
    TransactionId model_xmin = InvalidTransactionId;
    uint64_t last_used = 0;
};
constexpr size_t kMaxRemembered = 16;
std::vector<Remembered>* g_remembered = nullptr;  // lives as long as the backend
uint64_t g_remembered_tick = 0;

// Relcache invalidation of ml_aliases or ml_models (or of everything: relid 0).
void forget_lookups_of(Oid relid) noexcept {
    if (!g_remembered) return;
    for (const Remembered& m : *g_remembered)
        if (relid == InvalidOid || m.aliases_rel == relid || m.models_rel == relid) {
            g_remembered->clear();
            return;
        }
}

void remember_lookup(std::string_view name, std::string_view alias, const ModelRow& row) {
    if (!row.found || !row.alias_known) return;
    if (!g_remembered) g_remembered = new std::vector<Remembered>();
    std::vector<Remembered>& r = *g_remembered;
    for (size_t i = r.size(); i-- > 0;)
        if (r[i].name == name && r[i].alias == alias) r.erase(r.begin() + static_cast<std::ptrdiff_t>(i));
    if (r.size() >= kMaxRemembered)
        r.erase(std::min_element(r.begin(), r.end(),
                                 [](const Remembered& a, const Remembered& b) { return a.last_used < b.last_used; }));
    Remembered m;
    m.aliases_rel = g_plans.aliases_rel;
    m.models_rel = row.rel;
    m.name = std::string(name);
    m.alias = std::string(alias);
    m.alias_tid = row.alias_tid;
    m.alias_xmin = row.alias_xmin;
    m.version = row.version;
    m.model_tid = row.tid;
    m.model_xmin = row.xmin;
    m.last_used = ++g_remembered_tick;
    r.push_back(std::move(m));
}

// Whether the row version at tid, inserted by xmin, is one the snapshot sees (plain PostgreSQL
// code). A TID past the table's end (VACUUM truncated the pages of dead rows) is not.
bool row_version_visible(Relation rel, const ItemPointerData& tid, TransactionId xmin, Snapshot snap) {
    if (ItemPointerGetBlockNumber(&tid) >= RelationGetNumberOfBlocks(rel)) return false;
    HeapTupleData tuple;
    tuple.t_self = tid;
    Buffer buf = InvalidBuffer;
    if (!heap_fetch(rel, snap, &tuple, &buf, false)) return false;
    const bool same = HeapTupleHeaderGetRawXmin(tuple.t_data) == xmin;
    ReleaseBuffer(buf);
    return same;
}

// Both remembered row versions checked with the active snapshot (plain PostgreSQL code).
bool remembered_visible(Oid aliases_rel, ItemPointerData alias_tid, TransactionId alias_xmin, Oid models_rel,
                        ItemPointerData model_tid, TransactionId model_xmin) {
    if (!ActiveSnapshotSet()) return false;
    Snapshot snap = GetActiveSnapshot();
    Relation arel = table_open(aliases_rel, AccessShareLock);
    bool ok = arel->rd_rel->relam == HEAP_TABLE_AM_OID && row_version_visible(arel, alias_tid, alias_xmin, snap);
    table_close(arel, NoLock);
    if (!ok) return false;
    Relation mrel = table_open(models_rel, AccessShareLock);
    ok = mrel->rd_rel->relam == HEAP_TABLE_AM_OID && row_version_visible(mrel, model_tid, model_xmin, snap);
    table_close(mrel, NoLock);
    return ok;
}

// The model of a remembered look-up of (name, alias) that the active snapshot still sees, from the
// backend cache (row: its version); nullptr when there is none.
std::shared_ptr<Model> recall_lookup(std::string_view name, std::string_view alias, ModelRow& row) {
    if (!g_remembered || !g_cache) return nullptr;
    const Remembered* found = nullptr;
    for (const Remembered& m : *g_remembered)
        if (m.name == name && m.alias == alias && m.aliases_rel == g_plans.aliases_rel && m.models_rel == g_plans.models_rel)
            found = &m;
    if (!found || !g_cache->find(found->models_rel, name, found->version, found->model_tid, found->model_xmin))
        return nullptr;
    // (copied: an invalidation processed by the checks below may forget every look-up)
    const Remembered m = *found;
    bool visible = false;
    spi_guard([&]() {
        visible = remembered_visible(m.aliases_rel, m.alias_tid, m.alias_xmin, m.models_rel, m.model_tid, m.model_xmin);
    });
    if (!visible) return nullptr;
    BackendCache& c = cache();
    Entry* e = c.find(m.models_rel, name, m.version, m.model_tid, m.model_xmin);
    if (!e) return nullptr;
    c.hits++;
    for (Remembered& r : *g_remembered)
        if (r.name == name && r.alias == alias) r.last_used = ++g_remembered_tick;
    row.rel = m.models_rel;
    row.found = true;
    row.version = m.version;
    row.tid = m.model_tid;
    row.xmin = m.model_xmin;
    return e->model;
}

// The row of (name, version), locked; row.found false when it does not exist or, with
// skip_locked, is locked by another transaction (*exists tells which).
void fetch_version_row(const char* name, size_t name_len, int32 version, bool skip_locked, ModelRow& row,
                       bool* exists) {
    Datum args[2] = {PointerGetDatum(cstring_to_text_with_len(name, static_cast<int>(name_len))),
                     Int32GetDatum(version)};
    int rc = SPI_execute_plan(version_lock_plan(skip_locked), args, nullptr, false, 1);
    if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: registry look-up failed: %s", SPI_result_code_string(rc));
    row.rel = g_plans.models_rel;
    row.found = SPI_processed == 1;
    *exists = row.found;
    if (!row.found) {
        if (skip_locked) {
            // Locked by someone else, or absent? Ask without the lock.
            Datum a2[2] = {args[0], args[1]};
            StringInfoData sql;
            initStringInfo(&sql);
            appendStringInfo(&sql, "SELECT 1 FROM %s.ml_models m WHERE m.name OPERATOR(pg_catalog.=) $1"
                                   " AND m.version OPERATOR(pg_catalog.=) $2", extension_schema_quoted());
            Oid types[2] = {TEXTOID, INT4OID};
            rc = SPI_execute_with_args(sql.data, 2, types, a2, nullptr, true, 1);
            if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: registry look-up failed: %s", SPI_result_code_string(rc));
            *exists = SPI_processed == 1;
        }
        return;
    }
    HeapTuple tup = SPI_tuptable->vals[0];
    TupleDesc desc = SPI_tuptable->tupdesc;
    bool isnull = false;
    row.version = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
    ItemPointer tid = reinterpret_cast<ItemPointer>(DatumGetPointer(SPI_getbinval(tup, desc, 2, &isnull)));
    ItemPointerCopy(tid, &row.tid);
    row.xmin = DatumGetTransactionId(SPI_getbinval(tup, desc, 3, &isnull));
    row.model = SPI_getbinval(tup, desc, 4, &isnull);
}

bool name_exists(const char* name, size_t len) {
    Datum args[1] = {PointerGetDatum(cstring_to_text_with_len(name, static_cast<int>(len)))};
    int rc = SPI_execute_plan(name_exists_plan(), args, nullptr, true, 1);
    if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: registry look-up failed: %s", SPI_result_code_string(rc));
    return SPI_processed > 0;
}

// 42704 for a name or alias that the snapshot does not show (called with SPI connected).
[[noreturn]] void fail_not_deployed(std::string_view name, std::string_view alias) {
    bool exists = false;
    spi_guard([&]() { exists = name_exists(name.data(), name.size()); });
    if (!exists) pg_fail(ERRCODE_UNDEFINED_OBJECT, "model " + quoted(name) + " does not exist");
    pg_fail(ERRCODE_UNDEFINED_OBJECT, "model " + quoted(name) + " has no version deployed as " + quoted(alias),
            {}, "Deploy a version with ml_deploy(name, version, alias).");
}

// The model of a row: from the cache, or decoded (and cached). take: the caller will change it,
// so it leaves the cache (it is put back under the row version the caller writes).
std::shared_ptr<Model> model_of_row(std::string_view name, const ModelRow& row, bool take) {
    BackendCache& c = cache();
    if (Entry* e = c.find(row.rel, name, row.version, row.tid, row.xmin)) {
        c.hits++;
        if (!take) return e->model;
        std::shared_ptr<Model> m = c.take(e);
        // A query still scoring with it keeps its own reference: learn on a copy.
        if (m.use_count() > 1) m = std::shared_ptr<Model>(m->clone());
        return m;
    }
    struct varlena* flat = nullptr;
    pg_guard([&]() { flat = pg_detoast_datum(reinterpret_cast<struct varlena*>(DatumGetPointer(row.model))); });
    size_t size = VARSIZE_ANY_EXHDR(flat);
    std::shared_ptr<Model> m(decode_model_varlena(flat));
    c.decodes++;
    if (!take) c.put(row.rel, name, row.version, row.tid, row.xmin, m, size);
    return m;
}

// ---- arguments ------------------------------------------------------------------------------

std::string_view text_arg(FunctionCallInfo fcinfo, int argno, const char* what) {
    if (PG_ARGISNULL(argno)) fail(ErrorKind::NullValue, std::string(what) + " must not be NULL");
    auto* t = reinterpret_cast<struct varlena*>(DatumGetPointer(PG_GETARG_DATUM(argno)));
    if (VARATT_IS_EXTERNAL(t) || VARATT_IS_COMPRESSED(t)) pg_guard([&]() { t = pg_detoast_datum_packed(t); });
    return {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)};
}

// ---- per call site --------------------------------------------------------------------------

// fn_extra of ml_predict and ml_learn: the models resolved for this call site under the current
// fingerprint (normally: once per query), and the feature-reading state.
struct Site {
    struct Resolved {
        std::string name, alias;
        int32 version;
        std::shared_ptr<Model> model;
    };
    static constexpr size_t kMaxResolved = 8;

    SnapshotFingerprint fingerprint;
    std::vector<Resolved> resolved;
    core::Observation observation;
    std::vector<double> probabilities;
    Oid label_type = InvalidOid;  // of ml_learn's label argument
    // features.cpp's row reader keeps its column plan in a ModelCache found through fn_extra;
    // ours holds a Site, so the row reader gets a call info of its own.
    FmgrInfo row_flinfo;
    FunctionCallInfo row_fcinfo = nullptr;
    MemoryContextCallback destroy_cb;

    static Site& of(FunctionCallInfo fcinfo) {
        FmgrInfo* flinfo = fcinfo->flinfo;
        if (!flinfo) fail(ErrorKind::Internal, "registry functions must be called through the function manager");
        if (flinfo->fn_extra) return *static_cast<Site*>(flinfo->fn_extra);
        void* mem = palloc_or_throw(flinfo->fn_mcxt, sizeof(Site));
        auto* site = new (mem) Site();
        site->destroy_cb.func = [](void* arg) { static_cast<Site*>(arg)->~Site(); };
        site->destroy_cb.arg = site;
        pg_guard([&]() { MemoryContextRegisterResetCallback(flinfo->fn_mcxt, &site->destroy_cb); });
        std::memset(&site->row_flinfo, 0, sizeof site->row_flinfo);
        site->row_flinfo.fn_oid = flinfo->fn_oid;
        site->row_flinfo.fn_mcxt = flinfo->fn_mcxt;
        site->row_fcinfo = static_cast<FunctionCallInfo>(palloc_or_throw(flinfo->fn_mcxt, SizeForFunctionCallInfo(0)));
        std::memset(site->row_fcinfo, 0, SizeForFunctionCallInfo(0));
        site->row_fcinfo->flinfo = &site->row_flinfo;
        ModelCache::of(site->row_fcinfo);  // the row reader's plan cache
        flinfo->fn_extra = site;
        return *site;
    }

    // The model deployed under alias, resolved at most once per call site and fingerprint: the
    // per-row path does no SPI.
    const Model& model(FunctionCallInfo fcinfo, std::string_view name, std::string_view alias) {
        bool have_snapshot = ActiveSnapshotSet();
        const SnapshotData* snap = have_snapshot ? GetActiveSnapshot() : nullptr;
        if (!snap || !fingerprint.matches(snap)) {
            resolved.clear();
            fingerprint.valid = false;
        }
        for (const Resolved& r : resolved)
            if (r.name == name && r.alias == alias) return *r.model;
        Oid nsp = InvalidOid;
        Oid fn_oid = fcinfo->flinfo->fn_oid;
        pg_guard([&]() { nsp = get_func_namespace(fn_oid); });
        DeployedModel d = registry_resolve(nsp, name, alias);
        if (resolved.size() >= kMaxResolved) resolved.erase(resolved.begin());
        resolved.push_back({std::string(name), std::string(alias), d.version, std::move(d.model)});
        // Without a snapshot there is no statement to tie the model to: look up on every call.
        if (snap && !fingerprint.valid) fingerprint.take(snap);
        if (!snap) fingerprint.valid = false;
        return *resolved.back().model;
    }
};

// Writes a model back into the row of (name, version), which this transaction has locked, and keeps
// it in the cache under the row version written. With SPI connected as the owner. The row version
// just written holds exactly this model; were this transaction to roll back, no snapshot would ever
// show that row version and the entry would simply go unused.
void write_back(Oid rel, std::string_view name, int32 version, std::shared_ptr<Model> model, uint64_t examples) {
    struct varlena* flat = flatten_model(*model, CurrentMemoryContext);
    ItemPointerData new_tid;
    TransactionId new_xmin = InvalidTransactionId;
    spi_guard([&]() {
        Datum args[3] = {PointerGetDatum(cstring_to_text_with_len(name.data(), static_cast<int>(name.size()))),
                         Int32GetDatum(version), PointerGetDatum(flat)};
        int rc = SPI_execute_plan(learn_update_plan(), args, nullptr, false, 1);
        if (rc != SPI_OK_UPDATE_RETURNING || SPI_processed != 1)
            elog(ERROR, "pg_learn: updating the model failed: %s", SPI_result_code_string(rc));
        bool isnull = false;
        HeapTuple tup = SPI_tuptable->vals[0];
        ItemPointer tid = reinterpret_cast<ItemPointer>(
            DatumGetPointer(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull)));
        ItemPointerCopy(tid, &new_tid);
        new_xmin = DatumGetTransactionId(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull));
    });
    size_t size = VARSIZE(flat) - VARHDRSZ;
    pg_guard([&]() { pfree(flat); });
    BackendCache& c = cache();
    c.learns += examples;
    c.put(rel, name, version, new_tid, new_xmin, std::move(model), size);
}

// What a prediction by name returns: the number, the most probable class, or every class's
// probability.
enum class Output { Number, Class, Proba };

Datum predict(FunctionCallInfo fcinfo, Form form, Output output = Output::Number) {
    std::string_view name = text_arg(fcinfo, 0, "model name");
    std::string_view alias = text_arg(fcinfo, 2, "alias");
    if (PG_ARGISNULL(1)) {  // no features, no score (as ml_predict_one, which is STRICT)
        fcinfo->isnull = true;
        return Datum(0);
    }
    Site& site = Site::of(fcinfo);
    const Model& model = site.model(fcinfo, name, alias);
    if (output == Output::Number)
        return Float8GetDatum(predict_number(model, form, PG_GETARG_DATUM(1), site.row_fcinfo, site.observation));
    predict_probabilities(model, form, PG_GETARG_DATUM(1), site.row_fcinfo, site.observation, site.probabilities);
    if (output == Output::Class) return most_probable_class(model, site.probabilities, &fcinfo->isnull);
    return class_probabilities(model, site.probabilities);
}

// ml_explain by name: the deployed version found as ml_predict finds it (the call site's cache,
// the registry read as its owner), explained as ml_explain explains a model value.
Datum explain_by_name(FunctionCallInfo fcinfo, Form form) {
    std::string_view name = text_arg(fcinfo, 0, "model name");
    std::string_view alias = text_arg(fcinfo, 2, "alias");
    if (PG_ARGISNULL(1)) {
        fcinfo->isnull = true;
        return Datum(0);
    }
    Site& site = Site::of(fcinfo);
    const Model& model = site.model(fcinfo, name, alias);
    return explanation_of(site.row_fcinfo, model, form, PG_GETARG_DATUM(1), site.observation);
}

Datum learn(FunctionCallInfo fcinfo, Form form) {
    std::string_view name = text_arg(fcinfo, 0, "model name");
    std::string_view alias = text_arg(fcinfo, 3, "alias");
    if (PG_ARGISNULL(1) || PG_ARGISNULL(2)) {  // teaches nothing, as ml_fit_one
        fcinfo->isnull = true;
        return Datum(0);
    }
    Site& site = Site::of(fcinfo);
    const core::Label y = label_arg(fcinfo, 2, site.label_type);
    Oid nsp = InvalidOid;
    Oid fn_oid = fcinfo->flinfo->fn_oid;
    pg_guard([&]() { nsp = get_func_namespace(fn_oid); });

    SpiAsOwner spi(nsp);
    ModelRow row;
    spi_guard([&]() { fetch_model_row(true, name.data(), name.size(), alias.data(), alias.size(), row); });
    if (!row.found) fail_not_deployed(name, alias);
    std::shared_ptr<Model> model = model_of_row(name, row, /*take=*/true);
    switch (form) {
        case Form::Jsonb:
            jsonb_features(PG_GETARG_DATUM(1), site.observation, /*borrow_names=*/true);
            model->learn(site.observation, y);
            break;
        case Form::Array: {
            DenseArray x = dense_features(PG_GETARG_DATUM(1));
            model->learn_dense(x.data, x.n, y);
            break;
        }
        case Form::Row:
            row_features(site.row_fcinfo, PG_GETARG_DATUM(1), *model, site.observation);
            model->learn(site.observation, y);
            break;
    }
    const int32 version = row.version;
    write_back(row.rel, name, version, std::move(model), 1);
    spi.finish();
    return Int32GetDatum(version);
}

}  // namespace

bool SnapshotFingerprint::matches(const SnapshotData* s) const {
    if (!valid || generation != g_generation || completion != s->snapXactCompletionCount || xmin != s->xmin ||
        xmax != s->xmax || curcid != s->curcid || xcnt != s->xcnt || subxcnt != s->subxcnt ||
        suboverflowed != s->suboverflowed)
        return false;
    if (completion != 0) return true;
    return (xcnt == 0 || std::memcmp(xids.data(), s->xip, xcnt * sizeof(TransactionId)) == 0) &&
           (subxcnt <= 0 ||
            std::memcmp(xids.data() + xcnt, s->subxip, static_cast<size_t>(subxcnt) * sizeof(TransactionId)) == 0);
}

void SnapshotFingerprint::take(const SnapshotData* s) {
    valid = true;
    generation = g_generation;
    completion = s->snapXactCompletionCount;
    xmin = s->xmin;
    xmax = s->xmax;
    curcid = s->curcid;
    xcnt = s->xcnt;
    subxcnt = s->subxcnt;
    suboverflowed = s->suboverflowed;
    xids.clear();
    if (completion == 0) {
        if (xcnt > 0) xids.insert(xids.end(), s->xip, s->xip + xcnt);
        if (subxcnt > 0) xids.insert(xids.end(), s->subxip, s->subxip + subxcnt);
    }
}

LockedModel registry_lock_version(Oid nsp, std::string_view name, int32_t version, bool skip_locked) {
    SpiAsOwner spi(nsp);
    ModelRow row;
    bool exists = false;
    spi_guard([&]() { fetch_version_row(name.data(), name.size(), version, skip_locked, row, &exists); });
    LockedModel result;
    result.found = exists;
    result.version = version;
    if (row.found) {
        result.locked = true;
        result.model = model_of_row(name, row, /*take=*/true);
    }
    spi.finish();
    return result;
}

void registry_store(Oid nsp, std::string_view name, int32_t version, std::shared_ptr<Model> model,
                    uint64_t examples) {
    SpiAsOwner spi(nsp);
    pg_guard([]() { sync_plans(); });
    write_back(g_plans.models_rel, name, version, std::move(model), examples);
    spi.finish();
}

uint64_t registry_generation() { return g_generation; }

DeployedModel registry_resolve(Oid nsp, std::string_view name, std::string_view alias) {
    ModelRow row;
    bool direct = false;
    spi_guard([&]() { (void)registry_owner(nsp); });  // points g_plans at nsp
    if (std::shared_ptr<Model> m = recall_lookup(name, alias, row)) {
        cache().resolves++;
        return {row.version, std::move(m)};
    }
    spi_guard([&]() { direct = fetch_model_row_direct(name.data(), name.size(), alias.data(), alias.size(), row); });
    if (direct) {
        cache().resolves++;
        if (!row.found) {
            SpiAsOwner spi(nsp);
            fail_not_deployed(name, alias);
        }
        DeployedModel d;
        d.version = row.version;
        d.model = model_of_row(name, row, /*take=*/false);
        remember_lookup(name, alias, row);
        return d;
    }
    SpiAsOwner spi(nsp);
    spi_guard([&]() { fetch_model_row(false, name.data(), name.size(), alias.data(), alias.size(), row); });
    cache().resolves++;
    if (!row.found) fail_not_deployed(name, alias);
    DeployedModel d;
    d.version = row.version;
    d.model = model_of_row(name, row, /*take=*/false);
    spi.finish();
    return d;
}

}  // namespace pg_learn::pg

using namespace pg_learn::pg;

PGL_FUNCTION(ml_predict_jsonb) { return predict(fcinfo, Form::Jsonb); }
PGL_FUNCTION(ml_predict_array) { return predict(fcinfo, Form::Array); }
PGL_FUNCTION(ml_predict_row) { return predict(fcinfo, Form::Row); }

PGL_FUNCTION(ml_predict_class_by_name_jsonb) { return predict(fcinfo, Form::Jsonb, Output::Class); }
PGL_FUNCTION(ml_predict_class_by_name_array) { return predict(fcinfo, Form::Array, Output::Class); }
PGL_FUNCTION(ml_predict_class_by_name_row) { return predict(fcinfo, Form::Row, Output::Class); }
PGL_FUNCTION(ml_predict_proba_by_name_jsonb) { return predict(fcinfo, Form::Jsonb, Output::Proba); }
PGL_FUNCTION(ml_predict_proba_by_name_array) { return predict(fcinfo, Form::Array, Output::Proba); }
PGL_FUNCTION(ml_predict_proba_by_name_row) { return predict(fcinfo, Form::Row, Output::Proba); }

PGL_FUNCTION(ml_explain_by_name_jsonb) { return explain_by_name(fcinfo, Form::Jsonb); }
PGL_FUNCTION(ml_explain_by_name_array) { return explain_by_name(fcinfo, Form::Array); }
PGL_FUNCTION(ml_explain_by_name_row) { return explain_by_name(fcinfo, Form::Row); }

PGL_FUNCTION(ml_learn_jsonb) { return learn(fcinfo, Form::Jsonb); }
PGL_FUNCTION(ml_learn_array) { return learn(fcinfo, Form::Array); }
PGL_FUNCTION(ml_learn_row) { return learn(fcinfo, Form::Row); }

// ml_register, ml_deploy, ml_rollback, ml_undeploy, ml_unregister: each runs its private
// _ml_<name> function with the same arguments plus the caller's role name, as the owner of the
// registry tables. The caller needs EXECUTE on the public function only.
PGL_FUNCTION(ml_registry_write) {
    return run_private_function(fcinfo, kWriteNames, 5, "ml_registry_write", "ml_models", "registry");
}

PGL_FUNCTION(ml_registry_cache) {
    BackendCache& c = cache();
    nlohmann::json entries = nlohmann::json::array();
    std::vector<const Entry*> sorted;
    for (const Entry& e : c.entries) sorted.push_back(&e);
    std::sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) {
        return a->name != b->name ? a->name < b->name : a->version < b->version;
    });
    for (const Entry* e : sorted)
        entries.push_back({{"name", e->name}, {"version", e->version}, {"bytes", e->bytes},
                           {"n_seen", e->model->n_seen()}, {"updates", e->model->updates()}});
    nlohmann::json j = {{"entries", entries}, {"bytes", c.bytes},       {"resolves", c.resolves},
                        {"hits", c.hits},     {"decodes", c.decodes}, {"learns", c.learns}};
    std::string s = j.dump();
    Datum result = 0;
    pg_guard([&]() { result = DirectFunctionCall1(jsonb_in, CStringGetDatum(s.c_str())); });
    return result;
}

PGL_FUNCTION(ml_registry_cache_reset) {
    BackendCache& c = cache();
    c.clear();
    c.resolves = c.hits = c.decodes = c.learns = 0;
    g_generation++;
    fcinfo->isnull = true;
    return Datum(0);
}
