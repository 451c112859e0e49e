// Partial aggregate states merged in an order fixed by their bytes, whatever order they arrive in.
#pragma once

#include "core/common/cpp_only.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace pg_learn::core {

// The partial states one combine phase received (from parallel workers, Citus shards or
// partitions), each kept intact as its encoded bytes. PostgreSQL and Citus combine partials in
// the order they arrive, which varies between runs; a merge that rounds (a model's weighted
// average, Chan's pooled moments, a quantile sketch's compactions) then differs in the last bits.
// Merging the collected parts in canonical order (bytewise ascending) instead makes the result
// a function of the multiset of partial states only (docs/algorithms.md, "Reproducible
// combines"). Memory: every part is held until the merge, i.e. the number of partials times
// their size.
class PartialStates {
public:
    using Bytes = std::vector<uint8_t>;

    void add(const uint8_t* p, size_t n) { parts_.emplace_back(p, p + n); }
    void add(Bytes bytes) { parts_.push_back(std::move(bytes)); }
    // v's binary form (T: encoded_size() and encode(out, n)).
    template <typename T>
    void add_value(const T& v) {
        Bytes b(v.encoded_size());
        v.encode(b.data(), b.size());
        parts_.push_back(std::move(b));
    }
    void add_all(const PartialStates& o) { parts_.insert(parts_.end(), o.parts_.begin(), o.parts_.end()); }

    bool empty() const { return parts_.empty(); }
    size_t size() const { return parts_.size(); }
    void clear() { parts_.clear(); }

    // The parts in canonical order: bytewise ascending (a proper prefix first); equal parts are
    // interchangeable, so the order depends on the multiset only.
    const std::vector<Bytes>& sorted() {
        std::sort(parts_.begin(), parts_.end());
        return parts_;
    }

    // The merge of every part in canonical order: decode(p, n) of the first, then acc.merge of
    // each next one's decode (T: static decode(p, n) and merge(const T&)). At least one part.
    template <typename T>
    T merged() {
        const std::vector<Bytes>& s = sorted();
        T acc = T::decode(s[0].data(), s[0].size());
        for (size_t i = 1; i < s.size(); i++) acc.merge(T::decode(s[i].data(), s[i].size()));
        return acc;
    }

private:
    std::vector<Bytes> parts_;
};

}  // namespace pg_learn::core
