// A C++ value held as a PostgreSQL expanded object: the in-memory form of aggregate states.
#pragma once

#include "pg/common/glue.hpp"

extern "C" {
#include "access/detoast.h"
#include "utils/expandeddatum.h"
}

#include "core/common/partial_states.hpp"

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

namespace pg_learn::pg {

// DatumGetEOHP inline (it is a call into PostgreSQL, once per row of an aggregate): the
// expanded object's address, from the pointer datum's payload. d must be an expanded datum.
inline ExpandedObjectHeader* expanded_header(Datum d) {
    varatt_expanded ptr;
    std::memcpy(&ptr, VARDATA_EXTERNAL(DatumGetPointer(d)), sizeof(ptr));
    return ptr.eohptr;
}

// ExpandedValue<T> keeps one T alive across the calls of an aggregate, so the state is not
// flattened and decoded at every row; PostgreSQL flattens it (through T::encode) only when it
// travels: to a parallel leader, into a tuple, to a Citus coordinator.
//
// T must provide
//     size_t encoded_size() const;                         // bytes of the flat form
//     void encode(uint8_t* out, size_t n) const;           // writes exactly n = encoded_size() bytes
// and, for decode_datum / read_value / aggregate_state,
//     static T decode(const uint8_t* p, size_t n);         // validates; throws core::Error
// The flat form on disk is a varlena whose data are the encoded bytes.
//
// The T lives on the C++ heap and is deleted by a reset callback of the object's own memory
// context, so it goes away with the aggregate's memory (also on error or cancel), never leaks.
// Each T gets its own methods table; ExpandedValue<T>::of() recognises only its own objects.
template <typename T>
struct ExpandedValue {
    ExpandedObjectHeader hdr;  // first: PostgreSQL sees the object through it
    T* value;                  // owned; deleted when the object's context is reset or deleted
    MemoryContextCallback destroy;
    // A combine's collected partial states (combine_partial_states below), or nullptr. When it
    // holds parts, they are the value (value is stale): resolve() merges them in canonical order.
    core::PartialStates* parts;
    void (*merge_parts)(ExpandedValue*);  // set with parts (only mergeable T's instantiate it)

    // A new read/write expanded object owning v, in a new child context of parent (for an
    // aggregate state: the aggregate context, as nodeAgg requires to keep it in place).
    // context_name must outlive the context: pass a string literal.
    static ExpandedValue* make(T&& v, MemoryContext parent, const char* context_name) {
        auto* owned = new T(std::move(v));
        ExpandedValue* ev = nullptr;
        try {
            pg_guard([&]() {
                // AllocSetContextCreate's macro insists on a literal it can see; ours comes as a pointer.
                MemoryContext cxt = AllocSetContextCreateInternal(parent, context_name, ALLOCSET_SMALL_SIZES);
                ev = static_cast<ExpandedValue*>(MemoryContextAllocZero(cxt, sizeof(ExpandedValue)));
                EOH_init_header(&ev->hdr, &methods, cxt);
                ev->value = owned;
                ev->destroy.func = destroy_value;
                ev->destroy.arg = ev;
                MemoryContextRegisterResetCallback(cxt, &ev->destroy);
            });
        } catch (...) {
            if (!ev || ev->value != owned) delete owned;
            throw;
        }
        return ev;
    }

    // The expanded object of this T behind d (read/write or read-only), or nullptr; its value
    // is current (collected partial states merged, see resolve()).
    static ExpandedValue* of(Datum d) {
        ExpandedValue* ev = of_unresolved(d);
        if (ev) ev->resolve();
        return ev;
    }
    // The same without merging collected parts (for the combine that collects them).
    static ExpandedValue* of_unresolved(Datum d) {
        auto* p = reinterpret_cast<struct varlena*>(DatumGetPointer(d));
        if (!VARATT_IS_EXTERNAL_EXPANDED(p)) return nullptr;
        ExpandedObjectHeader* eoh = expanded_header(d);
        if (eoh->eoh_methods != &methods) return nullptr;
        return reinterpret_cast<ExpandedValue*>(eoh);
    }

    bool has_parts() const { return parts && !parts->empty(); }
    // value becomes the merge of the collected parts in canonical order (the same value, now
    // computed), and the parts are dropped.
    void resolve() {
        if (has_parts()) merge_parts(this);
    }

    Datum rw_datum() { return EOHPGetRWDatum(&hdr); }
    Datum ro_datum() { return EOHPGetRODatum(&hdr); }

private:
    static Size flat_size(ExpandedObjectHeader* eoh) {
        // Called by PostgreSQL's C code: errors must leave as ereport, never as exceptions.
        return boundary([eoh]() -> Size {
            auto* ev = reinterpret_cast<ExpandedValue*>(eoh);
            ev->resolve();  // a combined state travels on as the merge of its parts
            return VARHDRSZ + ev->value->encoded_size();
        });
    }

    static void flatten(ExpandedObjectHeader* eoh, void* result, Size allocated_size) {
        boundary([=]() {
            auto* ev = reinterpret_cast<ExpandedValue*>(eoh);
            ev->resolve();
            const T& v = *ev->value;
            size_t n = v.encoded_size();
            if (n + VARHDRSZ != allocated_size) core::fail(core::ErrorKind::Internal, "flatten size mismatch");
            v.encode(reinterpret_cast<uint8_t*>(VARDATA(result)), n);
            SET_VARSIZE(result, allocated_size);
            return 0;
        });
    }

    static void destroy_value(void* arg) {
        auto* ev = static_cast<ExpandedValue*>(arg);
        delete ev->value;
        ev->value = nullptr;
        delete ev->parts;
        ev->parts = nullptr;
    }

public:
    // One table per T: its address is how of() tells our objects from any other.
    static inline const ExpandedObjectMethods methods = {flat_size, flatten};
};

// A flat varlena holding v's encoding, allocated in cxt.
template <typename T>
struct varlena* flatten_value(const T& v, MemoryContext cxt) {
    size_t n = v.encoded_size();
    auto* out = static_cast<struct varlena*>(palloc_or_throw(cxt, n + VARHDRSZ));
    SET_VARSIZE(out, n + VARHDRSZ);
    v.encode(reinterpret_cast<uint8_t*>(VARDATA(out)), n);
    return out;
}

// Decodes a flat (possibly toasted or compressed) datum of T; T::decode validates every byte.
template <typename T>
T decode_datum(Datum d) {
    auto* raw = reinterpret_cast<struct varlena*>(DatumGetPointer(d));
    struct varlena* flat = nullptr;
    pg_guard([&]() { flat = pg_detoast_datum(raw); });
    std::optional<T> v;
    try {
        v.emplace(T::decode(reinterpret_cast<const uint8_t*>(VARDATA_ANY(flat)), VARSIZE_ANY_EXHDR(flat)));
    } catch (...) {
        if (flat != raw) pfree(flat);
        throw;
    }
    if (flat != raw) pfree(flat);
    return std::move(*v);
}

// Reads d as a T without copying an expanded value: the expanded T itself when d is one,
// otherwise the decode of the flat bytes, kept in holder.
template <typename T>
const T& read_value(Datum d, std::optional<T>& holder) {
    if (ExpandedValue<T>* ev = ExpandedValue<T>::of(d)) return *ev->value;
    holder.emplace(decode_datum<T>(d));
    return *holder;
}

// The aggregate context of a transition or combine function; outside an aggregate, a clear error.
inline MemoryContext aggregate_context(FunctionCallInfo fcinfo, const char* fn, const char* aggregate) {
    MemoryContext aggcxt = nullptr;
    if (!AggCheckCallContext(fcinfo, &aggcxt))
        core::fail(core::ErrorKind::InvalidParameter,
                   std::string(fn) + " can only be called by the " + aggregate + " aggregate");
    return aggcxt;
}

// Argument argno (not NULL) as a read/write expanded T the caller may change in place: the state
// itself when it already is ours and read/write (nodeAgg's own state), otherwise a new copy in
// aggcxt (a flat state, e.g. from a parallel worker or a strict combine's first input, or a
// read-only one we must not change).
template <typename T>
ExpandedValue<T>* aggregate_state(FunctionCallInfo fcinfo, int argno, MemoryContext aggcxt,
                                  const char* context_name) {
    Datum d = PG_GETARG_DATUM(argno);
    if (ExpandedValue<T>* ev = ExpandedValue<T>::of(d)) {
        if (VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d))) return ev;
        return ExpandedValue<T>::make(T(*ev->value), aggcxt, context_name);
    }
    return ExpandedValue<T>::make(decode_datum<T>(d), aggcxt, context_name);
}

// The combine function of an aggregate whose state T merges with rounding (ml_stats,
// ml_profile): instead of merging the partial states in the order they arrive, which varies
// between runs, the state collects them intact (their binary forms) and merges them in canonical
// order when it is read (the final function) or travels on (flattened): the result is a function
// of the multiset of partial states (core/common/partial_states.hpp). Returns the state.
template <typename T>
Datum combine_partial_states(FunctionCallInfo fcinfo, MemoryContext aggcxt, const char* context_name) {
    // (Arguments not NULL; the caller handles NULLs.)
    Datum d0 = PG_GETARG_DATUM(0);
    ExpandedValue<T>* ev = ExpandedValue<T>::of_unresolved(d0);
    if (!ev || !VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d0)))
        ev = aggregate_state<T>(fcinfo, 0, aggcxt, context_name);  // ours to change
    if (!ev->parts) {
        ev->parts = new core::PartialStates();
        ev->merge_parts = [](ExpandedValue<T>* e) {
            *e->value = e->parts->template merged<T>();
            e->parts->clear();
        };
    }
    if (ev->parts->empty()) ev->parts->add_value(*ev->value);
    Datum d1 = PG_GETARG_DATUM(1);
    if (ExpandedValue<T>* other = ExpandedValue<T>::of_unresolved(d1)) {
        if (other->has_parts()) ev->parts->add_all(*other->parts);  // its parts, not their merge
        else ev->parts->add_value(*other->value);
    } else {
        auto* raw = reinterpret_cast<struct varlena*>(DatumGetPointer(d1));
        struct varlena* flat = nullptr;
        pg_guard([&]() { flat = pg_detoast_datum(raw); });
        // Validated when merged (T::decode checks every byte), like any flat input.
        ev->parts->add(reinterpret_cast<const uint8_t*>(VARDATA_ANY(flat)), VARSIZE_ANY_EXHDR(flat));
        if (flat != raw) pfree(flat);
    }
    return ev->rw_datum();
}

}  // namespace pg_learn::pg
