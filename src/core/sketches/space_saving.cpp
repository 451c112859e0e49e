// Space-Saving updates, the mergeable-summaries merge, queries and the validated binary form.
#include "core/sketches/space_saving.hpp"

#include "core/common/byte_codec.hpp"
#include "core/common/envelope.hpp"
#include "core/common/error.hpp"
#include "core/common/xxhash.hpp"

#include <algorithm>
#include <limits>

namespace pg_learn::core {

using detail::ByteReader;
using detail::ByteWriter;

namespace {

// magic "PLSS", version, then reserved, capacity, counter count, n, error bound;
// no length nor checksum: the enclosing ml_stats value has them.
constexpr HeaderSpec kHeader{"top-k summary", {'P', 'L', 'S', 'S'}, 1, 32,
                             LengthField::None, 0, ChecksumKind::None, 0, 0,
                             HeaderWording::Brief};
constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kSeed = 0x73732D70676C6561ull;

uint64_t add_checked(uint64_t a, uint64_t b) {
    if (a > std::numeric_limits<uint64_t>::max() - b)
        fail(ErrorKind::ProgramLimit, "Space-Saving count overflow");
    return a + b;
}

size_t table_size(uint32_t capacity) {
    size_t s = 4;
    while (s < 2 * size_t(capacity)) s *= 2;
    return s;
}

}  // namespace

SpaceSaving::SpaceSaving(uint32_t capacity) : capacity_(capacity) {
    if (capacity < 1 || capacity > kSpaceSavingMaxCapacity)
        fail(ErrorKind::InvalidParameter,
             "top-k capacity must be between 1 and " + std::to_string(kSpaceSavingMaxCapacity),
             "capacity = " + std::to_string(capacity));
    index_.assign(table_size(capacity), kEmpty);
}

bool SpaceSaving::ranks_before(const Counter& a, const Counter& b) {
    if (a.count != b.count) return a.count > b.count;
    if (a.error != b.error) return a.error < b.error;
    return a.item < b.item;
}

size_t SpaceSaving::lookup(std::string_view item, uint64_t hash) const {
    const size_t mask = index_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const uint32_t j = index_[i];
        if (j == kEmpty) return npos;
        if (counters_[j].hash == hash && counters_[j].c.item == item) return j;
    }
}

void SpaceSaving::rebuild_index() {
    std::fill(index_.begin(), index_.end(), kEmpty);
    const size_t mask = index_.size() - 1;
    for (size_t j = 0; j < counters_.size(); j++) {
        size_t i = counters_[j].hash & mask;
        while (index_[i] != kEmpty) i = (i + 1) & mask;
        index_[i] = static_cast<uint32_t>(j);
    }
}

void SpaceSaving::update(std::string_view item, uint64_t weight) {
    if (weight == 0) return;
    if (item.size() > kSpaceSavingMaxItemBytes)
        fail(ErrorKind::ProgramLimit, "value too long for a top-k summary",
             std::to_string(item.size()) + " bytes; the limit is " +
                 std::to_string(kSpaceSavingMaxItemBytes));
    const uint64_t n = add_checked(n_, weight);
    const uint64_t h = xxh64(item.data(), item.size(), kSeed);
    const size_t j = lookup(item, h);
    if (j != npos) {
        counters_[j].c.count = add_checked(counters_[j].c.count, weight);
        n_ = n;
        return;
    }
    if (counters_.size() < capacity_) {
        counters_.push_back({{std::string(item), weight, 0}, h});
        const size_t mask = index_.size() - 1;
        size_t i = h & mask;
        while (index_[i] != kEmpty) i = (i + 1) & mask;
        index_[i] = static_cast<uint32_t>(counters_.size() - 1);
        n_ = n;
        return;
    }
    // Evict the smallest count (ties: largest error, then greatest bytes): the newcomer may
    // have occurred up to that many times unseen, which becomes its error.
    size_t v = 0;
    for (size_t i = 1; i < counters_.size(); i++)
        if (ranks_before(counters_[v].c, counters_[i].c)) v = i;
    Slot& s = counters_[v];
    const uint64_t floor = s.c.count;
    mu_ = std::max(mu_, floor);
    s.c.item.assign(item.data(), item.size());
    s.c.count = add_checked(floor, weight);
    s.c.error = floor;
    s.hash = h;
    n_ = n;
    rebuild_index();
}

void SpaceSaving::set_from_sorted(std::vector<Counter> cs) {
    counters_.clear();
    counters_.reserve(cs.size());
    for (auto& c : cs) {
        const uint64_t h = xxh64(c.item.data(), c.item.size(), kSeed);
        counters_.push_back({std::move(c), h});
    }
    rebuild_index();
}

void SpaceSaving::merge(const SpaceSaving& o) {
    // Every item of either summary gets, from the other, its counter if listed there or that
    // summary's bound for an unlisted item (count mu, error mu). Keep the top m of the union;
    // the new bound is the larger of the two bounds' sum and the best count dropped. The
    // counts of the kept items still add up to at most n (docs/statistics.md).
    const uint32_t m = std::min(capacity_, o.capacity_);
    const uint64_t n = add_checked(n_, o.n_);
    const uint64_t mu_sum = add_checked(mu_, o.mu_);
    std::vector<Counter> all;
    all.reserve(counters_.size() + o.counters_.size());
    for (const Slot& s : counters_) {
        const size_t j = o.lookup(s.c.item, s.hash);
        if (j != npos)
            all.push_back({s.c.item, add_checked(s.c.count, o.counters_[j].c.count),
                           add_checked(s.c.error, o.counters_[j].c.error)});
        else
            all.push_back({s.c.item, add_checked(s.c.count, o.mu_), add_checked(s.c.error, o.mu_)});
    }
    for (const Slot& s : o.counters_) {
        if (lookup(s.c.item, s.hash) != npos) continue;
        all.push_back({s.c.item, add_checked(s.c.count, mu_), add_checked(s.c.error, mu_)});
    }
    std::sort(all.begin(), all.end(), ranks_before);
    uint64_t mu = mu_sum;
    if (all.size() > m) {
        mu = std::max(mu, all[m].count);
        all.resize(m);
    }
    capacity_ = m;
    index_.assign(table_size(m), kEmpty);
    n_ = n;
    mu_ = mu;
    set_from_sorted(std::move(all));
}

std::vector<SpaceSaving::Counter> SpaceSaving::top() const {
    std::vector<Counter> out;
    out.reserve(counters_.size());
    for (const Slot& s : counters_) out.push_back(s.c);
    std::sort(out.begin(), out.end(), ranks_before);
    return out;
}

const SpaceSaving::Counter* SpaceSaving::find(std::string_view item) const {
    const size_t j = lookup(item, xxh64(item.data(), item.size(), kSeed));
    return j == npos ? nullptr : &counters_[j].c;
}

uint64_t SpaceSaving::upper_bound(std::string_view item) const {
    const Counter* c = find(item);
    return c ? c->count : mu_;
}

uint64_t SpaceSaving::lower_bound(std::string_view item) const {
    const Counter* c = find(item);
    return c ? c->count - c->error : 0;
}

size_t SpaceSaving::serialized_size() const {
    size_t s = 32;
    for (const Slot& c : counters_) s += 20 + c.c.item.size();
    return s;
}

std::string SpaceSaving::inconsistency() const {
    if (capacity_ < 1 || capacity_ > kSpaceSavingMaxCapacity) return "capacity out of range";
    if (counters_.size() > capacity_) return "more counters than the capacity";
    if (counters_.size() < capacity_ && mu_ != 0) return "a summary that is not full has a nonzero bound";
    uint64_t total = 0;  // kept <= n
    for (size_t j = 0; j < counters_.size(); j++) {
        const Counter& c = counters_[j].c;
        if (c.item.size() > kSpaceSavingMaxItemBytes) return "value too long";
        if (c.count == 0) return "zero count";
        if (c.error >= c.count) return "error bound not below the count";
        if (c.count < mu_) return "a count below the bound for unlisted values";
        if (c.count > n_ - total) return "counts add up to more than the total";
        total += c.count;
        if (lookup(c.item, counters_[j].hash) != j) return "a value appears twice";
    }
    return {};
}

void SpaceSaving::encode(std::string& out) const {
    // The decoder's own check: never write what it would refuse.
    if (const std::string why = inconsistency(); !why.empty()) unstorable("top-k summary", why);
    out.reserve(out.size() + serialized_size());
    ByteWriter w(out);
    begin_header(kHeader, w);
    w.put<uint16_t>(0);
    w.put<uint32_t>(capacity_);
    w.put<uint32_t>(static_cast<uint32_t>(counters_.size()));
    w.put<uint64_t>(n_);
    w.put<uint64_t>(mu_);
    for (const Counter& c : top()) {
        w.put<uint64_t>(c.count);
        w.put<uint64_t>(c.error);
        w.put<uint32_t>(static_cast<uint32_t>(c.item.size()));
        w.bytes(c.item.data(), c.item.size());
    }
}

SpaceSaving SpaceSaving::decode(const uint8_t* data, size_t size) {
    ByteReader r(data, size, "top-k summary");
    open_header(kHeader, r, size);
    if (r.get<uint16_t>("header") != 0) r.corrupt("reserved field is not zero");
    const uint32_t capacity = r.get<uint32_t>("header");
    if (capacity < 1 || capacity > kSpaceSavingMaxCapacity) r.corrupt("capacity out of range");
    const uint32_t count = r.get<uint32_t>("header");
    if (count > capacity) r.corrupt("more counters than the capacity");
    const uint64_t n = r.get<uint64_t>("header");
    const uint64_t mu = r.get<uint64_t>("header");
    if (r.remaining() < size_t(count) * 20) r.corrupt("truncated in counters");

    std::vector<Counter> cs;
    cs.reserve(count);
    for (uint32_t i = 0; i < count; i++) {
        Counter c;
        c.count = r.get<uint64_t>("counters");
        c.error = r.get<uint64_t>("counters");
        const uint32_t len = r.get<uint32_t>("counters");
        if (len > kSpaceSavingMaxItemBytes) r.corrupt("value too long");
        const uint8_t* p = r.take(len, "counter values");
        c.item.assign(reinterpret_cast<const char*>(p), len);
        // The bytes' own rule: counters are written in canonical order.
        if (i && !ranks_before(cs.back(), c)) r.corrupt("counters are not in canonical order");
        cs.push_back(std::move(c));
    }
    r.expect_end();
    SpaceSaving s(capacity);
    s.n_ = n;
    s.mu_ = mu;
    s.set_from_sorted(std::move(cs));
    if (const std::string why = s.inconsistency(); !why.empty()) r.corrupt(why);
    return s;
}

bool SpaceSaving::operator==(const SpaceSaving& o) const {
    return capacity_ == o.capacity_ && n_ == o.n_ && mu_ == o.mu_ && top() == o.top();
}

}  // namespace pg_learn::core
