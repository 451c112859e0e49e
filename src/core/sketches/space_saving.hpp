// Space-Saving top-k of categorical values: per-item counts with error bounds, mergeable.
#pragma once

#include "core/common/cpp_only.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pg_learn::core {

// Metwally, Agrawal & El Abbadi, "Efficient Computation of Frequent and Top-k Elements in Data
// Streams" (ICDT 2005), with m counters, and the merge of Agarwal, Cormode, Huang, Phillips,
// Wei & Yi, "Mergeable Summaries" (PODS 2012), written in Space-Saving's terms.
//
// Guarantees, after any sequence of updates and merges (docs/statistics.md has the proofs):
//  - a listed item x with (count, error) has true frequency f(x) in [count - error, count];
//  - an item not listed has f(x) <= unmonitored_bound() (0 while fewer than m are listed);
//  - the counts add up to at most n, so unmonitored_bound() <= n / m: every item with
//    f(x) > n / m is listed.
// Deterministic: the evicted item on a miss is the one with the smallest count, then the
// largest error, then the greatest bytes; top() orders by count desc, error asc, bytes asc.
constexpr uint32_t kSpaceSavingDefaultCapacity = 64;
constexpr uint32_t kSpaceSavingMaxCapacity = 1u << 16;
constexpr size_t kSpaceSavingMaxItemBytes = size_t(1) << 20;

class SpaceSaving {
public:
    struct Counter {
        std::string item;
        uint64_t count;  // upper bound on the frequency
        uint64_t error;  // count - error is a lower bound
        bool operator==(const Counter& o) const {
            return item == o.item && count == o.count && error == o.error;
        }
    };

    explicit SpaceSaving(uint32_t capacity = kSpaceSavingDefaultCapacity);

    void update(std::string_view item, uint64_t weight = 1);
    void merge(const SpaceSaving& other);

    uint32_t capacity() const { return capacity_; }
    uint64_t n() const { return n_; }
    size_t size() const { return counters_.size(); }
    uint64_t unmonitored_bound() const { return mu_; }
    // All listed counters in canonical order (count desc, error asc, bytes asc).
    std::vector<Counter> top() const;
    // The listed counter of item, or nullptr.
    const Counter* find(std::string_view item) const;
    // Upper and lower bounds on f(item), whether listed or not.
    uint64_t upper_bound(std::string_view item) const;
    uint64_t lower_bound(std::string_view item) const;

    size_t serialized_size() const;
    // Refuses (NumericRange, core::unstorable) a summary that inconsistency() finds wrong: what
    // decode() would refuse is never written.
    void encode(std::string& out) const;  // appends
    static SpaceSaving decode(const uint8_t* data, size_t size);
    static SpaceSaving decode(const std::string& s) {
        return decode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    }
    // The one validation of a summary's value, run by decode() (after reading the bytes) and by
    // encode(): empty when the guarantees above can hold (capacity in range, at most capacity
    // counters, a zero bound until full, every count positive, above its error and at least the
    // bound, counts adding up to at most n, no value twice), else why not.
    std::string inconsistency() const;

    // Same capacity, n, bound and counters (in any internal order).
    bool operator==(const SpaceSaving& o) const;
    bool operator!=(const SpaceSaving& o) const { return !(*this == o); }

private:
    friend struct SketchTestAccess;  // unit tests only (test/unit/test_hardening.cpp)
    struct Slot {
        Counter c;
        uint64_t hash;
    };
    static bool ranks_before(const Counter& a, const Counter& b);  // canonical order
    size_t lookup(std::string_view item, uint64_t hash) const;     // npos if absent
    void rebuild_index();
    void set_from_sorted(std::vector<Counter> cs);

    static constexpr size_t npos = size_t(-1);
    uint32_t capacity_;
    uint64_t n_ = 0;
    uint64_t mu_ = 0;
    std::vector<Slot> counters_;
    // Open addressing, linear probing over counter positions; rebuilt on every eviction (an
    // eviction already costs a scan of the m counters for the minimum).
    std::vector<uint32_t> index_;
};

}  // namespace pg_learn::core
