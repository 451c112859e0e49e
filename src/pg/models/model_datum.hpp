// ml_model Datums: flat varlena or expanded object, and the per-query cache of decoded models.
#pragma once

#include "pg/common/glue.hpp"

extern "C" {
#include "utils/expandeddatum.h"
}

#include <cstring>

#include "core/common/partial_states.hpp"
#include "core/features/leak_check.hpp"
#include "core/models/model.hpp"

#include <memory>
#include <string>
#include <vector>

namespace pg_learn::pg {

constexpr size_t kModelHeaderBytes = 48;

// An ml_model held in memory while a loop (an aggregate) updates it in place.
struct ExpandedModel {
    ExpandedObjectHeader hdr;
    core::Model* model;  // owned; destroyed with the object's memory context
    MemoryContextCallback destroy;
    core::LeakCheck* leak_check;  // owned, or nullptr: ml_fit's label-leak check of the rows (fit.cpp)
    // ml_fit: the starting model of the group (its 48-byte header, which names the value, and
    // its TOAST pointer when it had one), so that a later row passing another model is refused.
    bool start_known;
    bool start_toasted;
    uint8_t start_header[kModelHeaderBytes];
    uint8_t start_toast[sizeof(varatt_external)];
    const ExpandedModel* start_expanded;  // or the expanded object it was
    // ml_fit_combine's collected partial models (their binary forms), or nullptr. When it holds
    // parts, they are the value (model is stale): resolve_expanded_model merges them in
    // canonical order, so the result does not depend on the order the partials arrived in.
    core::PartialStates* parts;
};

// A read/write expanded ml_model in a new child context of parent.
ExpandedModel* make_expanded_model(std::unique_ptr<core::Model> model, MemoryContext parent);
// The expanded ml_model behind d, or nullptr when d is not one of ours; its model is current
// (collected partial models merged).
ExpandedModel* expanded_model_of(Datum d);
// The same without merging collected partial models (for the combine that collects them).
ExpandedModel* expanded_model_of_unresolved(Datum d);
// em->model becomes the canonical merge of the collected partial models, if any (the same
// value, now computed); the parts are dropped.
void resolve_expanded_model(ExpandedModel* em);
// A flat varlena holding the model, allocated in cxt.
struct varlena* flatten_model(const core::Model& model, MemoryContext cxt);
// Decodes a flat ml_model (validated completely; failures are InvalidBinary errors).
std::unique_ptr<core::Model> decode_model_varlena(const struct varlena* v);

// Decoding a model once per query, not once per row: the cache lives in fn_extra and is keyed by
// the model's header (identity, update counter, examples seen, checksum, length).
class ModelCache {
public:
    // The model in argument argno: an expanded model directly, or the cached decode of a flat one.
    // For_update: the caller will change the returned model (ml_fit_one), so the cache is
    // invalidated until remember_output() names the bytes that now match it.
    core::Model& get(FunctionCallInfo fcinfo, int argno, bool for_update = false);
    void remember_output(const struct varlena* flat);

    core::Observation observation;  // reused across rows
    Oid label_type = InvalidOid;    // the declared type of the call's label argument
    std::vector<double> probabilities;  // reused across rows
    void* row_plan = nullptr;       // features.cpp's column plan for row inputs, in fn_mcxt
    int label_column = -1;          // row_features_and_label: the label's column in row_plan
    std::string label_column_name;  // and its name

    static ModelCache& of(FunctionCallInfo fcinfo);

private:
    // What identifies the cached model: the model's own header, or, for a value stored out of
    // line, its TOAST pointer (so a stored model is not re-fetched, even in part, per row).
    enum class KeyKind : uint8_t { Header, ToastPointer };
    core::Model* model_ = nullptr;
    bool valid_ = false;
    KeyKind key_kind_ = KeyKind::Header;
    uint8_t header_[kModelHeaderBytes];
    MemoryContextCallback destroy_;
    static void destroy(void* arg);
};

}  // namespace pg_learn::pg
