// Whole models stored inside another model's state (the ensembles' members, a partitioned
// model's partitions): a model's binary form, and a length-prefixed blob in the family state.
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/models/common/family_model.hpp"

#include <cstdint>
#include <string>
#include <utility>

namespace pg_learn::core::nested {

inline std::string encode_model(const Model& m) {
    std::string b(m.encoded_size(), '\0');
    m.encode(reinterpret_cast<uint8_t*>(b.data()), b.size());
    return b;
}

// u64 length, then the bytes.
inline void put_blob(detail::ByteWriter& w, const std::string& b) {
    w.put<uint64_t>(b.size());
    w.bytes(b.data(), b.size());
}

inline std::pair<const uint8_t*, size_t> get_blob(detail::ByteReader& r, const char* what) {
    const auto len = r.get<uint64_t>(what);
    if (len > r.remaining()) r.corrupt(std::string("truncated in ") + what);
    return {r.take(len, what), static_cast<size_t>(len)};
}

}  // namespace pg_learn::core::nested
