// The ml_model type: text (JSON) and binary I/O, the expanded form, the decode cache, ml_info.
#include "pg/models/model_datum.hpp"

#include "pg/common/expanded_value.hpp"
#include "pg/models/model_value.hpp"
#include "core/models/training_history.hpp"

extern "C" {
#include "access/detoast.h"
#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

using pg_learn::core::Model;

namespace pg_learn::pg {

namespace {

Size expanded_flat_size(ExpandedObjectHeader* eohptr);
void expanded_flatten(ExpandedObjectHeader* eohptr, void* result, Size allocated_size);

const ExpandedObjectMethods kModelMethods = {expanded_flat_size, expanded_flatten};

Size expanded_flat_size(ExpandedObjectHeader* eohptr) {
    // Called by PostgreSQL's C code: errors must leave as ereport, never as exceptions.
    return boundary([eohptr]() -> Size {
        auto* em = reinterpret_cast<ExpandedModel*>(eohptr);
        resolve_expanded_model(em);  // a combined state travels on as the merge of its parts
        return VARHDRSZ + em->model->encoded_size();
    });
}

void expanded_flatten(ExpandedObjectHeader* eohptr, void* result, Size allocated_size) {
    boundary([=]() {
        auto* em = reinterpret_cast<ExpandedModel*>(eohptr);
        resolve_expanded_model(em);
        size_t n = em->model->encoded_size();
        if (n + VARHDRSZ != allocated_size) core::fail(core::ErrorKind::Internal, "flatten size mismatch");
        em->model->encode(reinterpret_cast<uint8_t*>(VARDATA(result)), n);
        SET_VARSIZE(result, allocated_size);
        return 0;
    });
}

void destroy_expanded(void* arg) {
    auto* em = static_cast<ExpandedModel*>(arg);
    delete em->model;
    em->model = nullptr;
    delete em->leak_check;
    em->leak_check = nullptr;
    delete em->parts;
    em->parts = nullptr;
}

}  // namespace

std::unique_ptr<Model> decode_model_varlena(const struct varlena* v) {
    // (a value with a training history decodes to its model; the history is read where it is shown)
    return core::decode_model_value(reinterpret_cast<const uint8_t*>(VARDATA_ANY(v)), VARSIZE_ANY_EXHDR(v), nullptr);
}

struct varlena* flatten_model_value(const Model& model, const core::TrainingHistory* h, MemoryContext cxt) {
    if (!h) return flatten_model(model, cxt);
    size_t n = core::model_value_size(model, h);
    auto* v = static_cast<struct varlena*>(palloc_or_throw(cxt, n + VARHDRSZ));
    SET_VARSIZE(v, n + VARHDRSZ);
    core::encode_model_value(model, h, reinterpret_cast<uint8_t*>(VARDATA(v)), n);
    return v;
}

bool training_history_arg(FunctionCallInfo fcinfo, int argno, core::TrainingHistory& h) {
    Datum d = PG_GETARG_DATUM(argno);
    if (expanded_model_of(d)) return false;  // an aggregate's state: never one
    auto* raw = reinterpret_cast<struct varlena*>(DatumGetPointer(d));
    uint8_t head[8] = {};
    bool have = false;
    pg_guard([&]() {
        struct varlena* slice = raw;
        if (VARATT_IS_EXTENDED(raw)) slice = pg_detoast_datum_slice(raw, 0, 8);
        if (VARSIZE_ANY_EXHDR(slice) >= 8) {
            std::memcpy(head, VARDATA_ANY(slice), 8);
            have = true;
        }
        if (slice != raw) pfree(slice);
    });
    uint16_t version = 0;
    std::memcpy(&version, head + 4, 2);
    if (!have || version != core::kModelWithHistoryVersion) return false;
    struct varlena* flat = nullptr;
    pg_guard([&]() { flat = pg_detoast_datum(raw); });
    bool has = false;
    std::unique_ptr<Model> m = core::decode_model_value(reinterpret_cast<const uint8_t*>(VARDATA_ANY(flat)),
                                                        VARSIZE_ANY_EXHDR(flat), &h, &has);
    if (flat != raw) pfree(flat);
    return has;
}

ExpandedModel* make_expanded_model(std::unique_ptr<Model> model, MemoryContext parent) {
    Model* owned = model.release();
    ExpandedModel* em = nullptr;
    try {
        pg_guard([&]() {
            MemoryContext cxt = AllocSetContextCreate(parent, "ml_model", ALLOCSET_SMALL_SIZES);
            em = static_cast<ExpandedModel*>(MemoryContextAllocZero(cxt, sizeof(ExpandedModel)));
            EOH_init_header(&em->hdr, &kModelMethods, cxt);
            em->model = owned;
            em->destroy.func = destroy_expanded;
            em->destroy.arg = em;
            MemoryContextRegisterResetCallback(cxt, &em->destroy);
        });
    } catch (...) {
        if (!em || em->model != owned) delete owned;
        throw;
    }
    return em;
}

ExpandedModel* expanded_model_of_unresolved(Datum d) {
    auto* p = reinterpret_cast<struct varlena*>(DatumGetPointer(d));
    if (!VARATT_IS_EXTERNAL_EXPANDED(p)) return nullptr;
    ExpandedObjectHeader* eoh = expanded_header(d);
    if (eoh->eoh_methods != &kModelMethods) return nullptr;
    return reinterpret_cast<ExpandedModel*>(eoh);
}

ExpandedModel* expanded_model_of(Datum d) {
    ExpandedModel* em = expanded_model_of_unresolved(d);
    if (em) resolve_expanded_model(em);
    return em;
}

void resolve_expanded_model(ExpandedModel* em) {
    if (!em->parts || em->parts->empty()) return;
    std::unique_ptr<Model> merged = core::merge_partial_models(*em->parts);
    delete em->model;
    em->model = merged.release();
    em->parts->clear();
}

struct varlena* flatten_model(const Model& model, MemoryContext cxt) {
    size_t n = model.encoded_size();
    auto* v = static_cast<struct varlena*>(palloc_or_throw(cxt, n + VARHDRSZ));
    SET_VARSIZE(v, n + VARHDRSZ);
    model.encode(reinterpret_cast<uint8_t*>(VARDATA(v)), n);
    return v;
}

ModelCache& ModelCache::of(FunctionCallInfo fcinfo) {
    FmgrInfo* flinfo = fcinfo->flinfo;
    if (flinfo->fn_extra == nullptr) {
        void* mem = palloc_or_throw(flinfo->fn_mcxt, sizeof(ModelCache));
        auto* cache = new (mem) ModelCache();
        cache->destroy_.func = destroy;
        cache->destroy_.arg = cache;
        pg_guard([&]() { MemoryContextRegisterResetCallback(flinfo->fn_mcxt, &cache->destroy_); });
        flinfo->fn_extra = cache;
    }
    return *static_cast<ModelCache*>(flinfo->fn_extra);
}

void ModelCache::destroy(void* arg) {
    auto* cache = static_cast<ModelCache*>(arg);
    delete cache->model_;
    cache->~ModelCache();
}

Model& ModelCache::get(FunctionCallInfo fcinfo, int argno, bool for_update) {
    Datum d = PG_GETARG_DATUM(argno);
    if (ExpandedModel* em = expanded_model_of(d)) {
        if (!for_update) return *em->model;
        // Never change a caller's expanded value: work on our own copy.
        valid_ = false;
        if (model_ && std::strcmp(model_->kind(), em->model->kind()) == 0) {
            model_->assign(*em->model);
        } else {
            delete model_;
            model_ = nullptr;
            model_ = em->model->clone().release();
        }
        return *model_;
    }
    auto* raw = reinterpret_cast<struct varlena*>(DatumGetPointer(d));
    uint8_t key[kModelHeaderBytes];
    KeyKind kind = KeyKind::Header;
    bool have_key = false;
    if (VARATT_IS_EXTERNAL_ONDISK(raw)) {
        // A TOAST pointer names one stored value (relation and value OID) for as long as the
        // value exists, which covers the query that holds it.
        varatt_external ptr;
        VARATT_EXTERNAL_GET_POINTER(ptr, raw);
        std::memset(key, 0, sizeof key);
        std::memcpy(key, &ptr, sizeof ptr);
        kind = KeyKind::ToastPointer;
        have_key = true;
    } else if (!VARATT_IS_EXTENDED(raw)) {
        if (VARSIZE(raw) - VARHDRSZ >= kModelHeaderBytes) {
            std::memcpy(key, VARDATA(raw), kModelHeaderBytes);
            have_key = true;
        }
    } else {
        // Read only the header: a compressed model is decompressed only as far as its header.
        pg_guard([&]() {
            struct varlena* slice = raw;
            if (VARATT_IS_EXTENDED(raw)) slice = pg_detoast_datum_slice(raw, 0, kModelHeaderBytes);
            if (VARSIZE_ANY_EXHDR(slice) >= kModelHeaderBytes) {
                std::memcpy(key, VARDATA_ANY(slice), kModelHeaderBytes);
                have_key = true;
            }
            if (slice != raw) pfree(slice);
        });
    }
    if (valid_ && have_key && kind == key_kind_ && std::memcmp(key, header_, kModelHeaderBytes) == 0) {
        if (for_update) valid_ = false;
        return *model_;
    }
    valid_ = false;
    struct varlena* flat = nullptr;
    pg_guard([&]() { flat = pg_detoast_datum(raw); });
    std::unique_ptr<Model> decoded = decode_model_varlena(flat);
    if (flat != raw) pfree(flat);
    delete model_;
    model_ = decoded.release();
    if (have_key && !for_update) {
        std::memcpy(header_, key, kModelHeaderBytes);
        key_kind_ = kind;
        valid_ = true;
    }
    return *model_;
}

void ModelCache::remember_output(const struct varlena* flat) {
    if (VARSIZE_ANY_EXHDR(flat) < kModelHeaderBytes) return;
    std::memcpy(header_, VARDATA_ANY(flat), kModelHeaderBytes);
    key_kind_ = KeyKind::Header;
    valid_ = true;
}

}  // namespace pg_learn::pg

using namespace pg_learn::pg;

PGL_FUNCTION(ml_model_in) {
    const char* text = PG_GETARG_CSTRING(0);
    pg_learn::core::TrainingHistory h;
    bool has = false;
    std::unique_ptr<Model> m = pg_learn::core::model_value_from_text(text, std::strlen(text), &h, &has);
    return PointerGetDatum(flatten_model_value(*m, has ? &h : nullptr, CurrentMemoryContext));
}

PGL_FUNCTION(ml_model_out) {
    Model& m = ModelCache::of(fcinfo).get(fcinfo, 0);
    pg_learn::core::TrainingHistory h;
    const bool has = training_history_arg(fcinfo, 0, h);
    std::string s = pg_learn::core::model_value_to_json(m, has ? &h : nullptr).dump();
    char* out = static_cast<char*>(palloc_or_throw(CurrentMemoryContext, s.size() + 1));
    std::memcpy(out, s.c_str(), s.size() + 1);
    return CStringGetDatum(out);
}

PGL_FUNCTION(ml_model_recv) {
    StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    const auto* p = reinterpret_cast<const uint8_t*>(buf->data + buf->cursor);
    size_t n = static_cast<size_t>(buf->len - buf->cursor);
    pg_learn::core::TrainingHistory h;
    bool has = false;
    // validates every byte before we accept it
    std::unique_ptr<Model> m = pg_learn::core::decode_model_value(p, n, &h, &has);
    buf->cursor = buf->len;
    return PointerGetDatum(flatten_model_value(*m, has ? &h : nullptr, CurrentMemoryContext));
}

PGL_FUNCTION(ml_model_send) {
    Datum d = PG_GETARG_DATUM(0);
    if (ExpandedModel* em = expanded_model_of(d)) {
        struct varlena* v = flatten_model(*em->model, CurrentMemoryContext);
        SET_VARSIZE(v, VARSIZE(v));
        return PointerGetDatum(v);  // bytea has the same layout as our flat varlena
    }
    struct varlena* flat = nullptr;
    pg_guard([&]() { flat = pg_detoast_datum_copy(reinterpret_cast<struct varlena*>(DatumGetPointer(d))); });
    return PointerGetDatum(flat);
}

PGL_FUNCTION(ml_info) {
    Model& m = ModelCache::of(fcinfo).get(fcinfo, 0);
    nlohmann::json info = pg_learn::core::model_info(m);
    pg_learn::core::TrainingHistory h;
    if (training_history_arg(fcinfo, 0, h)) info["training"] = h.to_json();  // issue 16 item 5
    std::string s = info.dump();
    Datum result = 0;
    pg_guard([&]() { result = DirectFunctionCall1(jsonb_in, CStringGetDatum(s.c_str())); });
    return result;
}

// ml_import(format, model): a model another library trained, from the text it saved.
PGL_FUNCTION(ml_import) {
    text* format = nullptr;
    text* model = nullptr;
    pg_guard([&]() {
        format = PG_GETARG_TEXT_PP(0);
        model = PG_GETARG_TEXT_PP(1);
    });
    const std::string_view f(VARDATA_ANY(format), VARSIZE_ANY_EXHDR(format));
    std::unique_ptr<Model> m = pg_learn::core::import_model(f, VARDATA_ANY(model), VARSIZE_ANY_EXHDR(model));
    return PointerGetDatum(flatten_model(*m, CurrentMemoryContext));
}

PGL_FUNCTION(ml_model_from_bytes) {
    struct varlena* b = nullptr;
    pg_guard([&]() { b = PG_GETARG_VARLENA_PP(0); });
    pg_learn::core::TrainingHistory h;
    bool has = false;
    std::unique_ptr<Model> m = pg_learn::core::decode_model_value(reinterpret_cast<const uint8_t*>(VARDATA_ANY(b)),
                                                                  VARSIZE_ANY_EXHDR(b), &h, &has);
    return PointerGetDatum(flatten_model_value(*m, has ? &h : nullptr, CurrentMemoryContext));
}

// ml_model_without_history(model): the model without the training history ml_train recorded (to
// compare it with a model ml_fit learned, or to store it smaller).
PGL_FUNCTION(ml_model_without_history) {
    pg_learn::core::TrainingHistory h;
    if (!training_history_arg(fcinfo, 0, h)) return PG_GETARG_DATUM(0);
    Model& m = ModelCache::of(fcinfo).get(fcinfo, 0);
    return PointerGetDatum(flatten_model(m, CurrentMemoryContext));
}

// ---- equality and order: the bytes of the binary form ----------------------------------------
// Equal models have equal bytes (docs/format.md: one encoding per model), so byte equality is
// model equality; the order (bytes compared as unsigned, then length) only serves sorting,
// btree indexes and merge joins. The hash is of the same bytes.

namespace {

// The binary form of argument argno, detoasted (an expanded model flattened); freed after the
// comparison when it is a copy, as byteacmp does (a sort compares many times).
struct ModelBytes {
    struct varlena* original;
    struct varlena* v;
    std::string_view bytes() const { return std::string_view(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v)); }
};

ModelBytes model_bytes_arg(FunctionCallInfo fcinfo, int argno) {
    ModelBytes b{reinterpret_cast<struct varlena*>(DatumGetPointer(PG_GETARG_DATUM(argno))), nullptr};
    pg_guard([&]() { b.v = pg_detoast_datum_packed(b.original); });
    return b;
}

void release(const ModelBytes& b) {
    if (b.v != b.original) pfree(b.v);
}

int compare_models(FunctionCallInfo fcinfo) {
    ModelBytes ma = model_bytes_arg(fcinfo, 0), mb = model_bytes_arg(fcinfo, 1);
    std::string_view a = ma.bytes(), b = mb.bytes();
    int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
    c = c != 0 ? (c < 0 ? -1 : 1) : a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
    release(ma);
    release(mb);
    return c;
}

bool equal_models(FunctionCallInfo fcinfo) {
    ModelBytes ma = model_bytes_arg(fcinfo, 0), mb = model_bytes_arg(fcinfo, 1);
    std::string_view a = ma.bytes(), b = mb.bytes();
    const bool eq = a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
    release(ma);
    release(mb);
    return eq;
}

}  // namespace

PGL_FUNCTION(ml_model_eq) { return BoolGetDatum(equal_models(fcinfo)); }
PGL_FUNCTION(ml_model_ne) { return BoolGetDatum(!equal_models(fcinfo)); }
PGL_FUNCTION(ml_model_lt) { return BoolGetDatum(compare_models(fcinfo) < 0); }
PGL_FUNCTION(ml_model_le) { return BoolGetDatum(compare_models(fcinfo) <= 0); }
PGL_FUNCTION(ml_model_gt) { return BoolGetDatum(compare_models(fcinfo) > 0); }
PGL_FUNCTION(ml_model_ge) { return BoolGetDatum(compare_models(fcinfo) >= 0); }
PGL_FUNCTION(ml_model_cmp) { return Int32GetDatum(compare_models(fcinfo)); }

PGL_FUNCTION(ml_model_hash) {
    ModelBytes m = model_bytes_arg(fcinfo, 0);
    std::string_view a = m.bytes();
    Datum h = 0;
    pg_guard([&]() { h = hash_any(reinterpret_cast<const unsigned char*>(a.data()), static_cast<int>(a.size())); });
    release(m);
    return h;
}

PGL_FUNCTION(ml_model_hash_extended) {
    ModelBytes m = model_bytes_arg(fcinfo, 0);
    std::string_view a = m.bytes();
    const uint64 seed = static_cast<uint64>(PG_GETARG_INT64(1));
    Datum h = 0;
    pg_guard([&]() {
        h = hash_any_extended(reinterpret_cast<const unsigned char*>(a.data()), static_cast<int>(a.size()), seed);
    });
    release(m);
    return h;
}
