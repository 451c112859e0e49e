// KLL compactors, queries, the certified error bound and the validated binary form.
#include "core/sketches/kll.hpp"

#include "core/common/byte_codec.hpp"
#include "core/common/envelope.hpp"
#include "core/common/error.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

namespace pg_learn::core {

using detail::ByteReader;
using detail::ByteWriter;

namespace {

// magic "PLKQ", version, then flags, level count, k, reserved, n, min, max, sampler state;
// no length nor checksum: the enclosing ml_stats value has them.
constexpr HeaderSpec kHeader{"KLL sketch", {'P', 'L', 'K', 'Q'}, 1, 48,
                             LengthField::None, 0, ChecksumKind::None, 0, 0,
                             HeaderWording::Brief};
constexpr size_t kHeaderSize = kHeader.size;
constexpr uint64_t kDefaultSeed = 0x6B6C6C2D70676C65ull;  // "kll-pgle"
constexpr uint8_t kFlagSeeded = 1;

// ceil(k * (2/3)^depth), at least kKllMinLevelWidth, in exact integer arithmetic so that
// every platform lays out (and so compacts) the same sketch identically.
uint32_t capacity_at_depth(uint32_t k, size_t depth) {
    if (depth > 30) return kKllMinLevelWidth;  // 65535 * (2/3)^23 < 8 already
    uint64_t num = uint64_t(k) << depth, den = 1;
    for (size_t i = 0; i < depth; i++) den *= 3;
    uint64_t c = (num + den - 1) / den;
    return static_cast<uint32_t>(std::max<uint64_t>(c, kKllMinLevelWidth));
}

// Depth from which a level would be narrower than kKllSamplerWidth: the first d with
// ceil(k (2/3)^d) < kKllSamplerWidth.
size_t sampler_depth(uint32_t k) {
    size_t d = 0;
    while (d <= 30) {
        uint64_t num = uint64_t(k) << d, den = 1;
        for (size_t i = 0; i < d; i++) den *= 3;
        if ((num + den - 1) / den < kKllSamplerWidth) break;
        d++;
    }
    return d;
}

// Capacity of the compactor levels: all levels, or levels 1.. when level 0 is a sampler's
// buffer (which holds fewer than 2^s items between samples).
size_t capacity_total(uint32_t k, size_t nlevels, bool with_level0 = false) {
    const uint32_t s = kll_sampler_level(k, nlevels);
    size_t t = 0;
    for (size_t h = s && !with_level0 ? 1 : 0; h < nlevels; h++) t += capacity_at_depth(k, nlevels - 1 - h);
    return t;
}

void check_k(uint32_t k) {
    if (k < kKllMinK || k > kKllMaxK)
        fail(ErrorKind::InvalidParameter, "KLL sketch size k must be between " +
                                              std::to_string(kKllMinK) + " and " +
                                              std::to_string(kKllMaxK),
             "k = " + std::to_string(k));
}

}  // namespace

uint32_t kll_sampler_level(uint32_t k, size_t nlevels) {
    // The nlevels - d bottom levels, those deeper than d = sampler_depth(k), would be narrower
    // than kKllSamplerWidth: a sampler takes their place (level 0 is then never sorted). At
    // least two compactor levels stay above it; a small k (d < 3) never samples.
    const size_t d = sampler_depth(k);
    if (d < 3 || nlevels <= d) return 0;
    return static_cast<uint32_t>(std::min<size_t>(std::min(nlevels - d, nlevels - 2), kKllMaxSamplerLevel));
}

KllSketch::KllSketch(uint32_t k) : k_(k), rng_state_(kDefaultSeed) {
    check_k(k);
    levels_.resize(1);
    compactions_.resize(1);
    refresh();
}

double KllSketch::min() const { return n_ ? min_ : std::nan(""); }
double KllSketch::max() const { return n_ ? max_ : std::nan(""); }

void KllSketch::refresh() {
    items_ = 0;
    for (const auto& l : levels_) items_ += l.size();
    capacity_ = capacity_total(k_, levels_.size());
    sampler_level_ = kll_sampler_level(k_, levels_.size());
    const size_t L = levels_.size();
    level_caps_.resize(L);
    for (size_t h = 0; h < L; h++) level_caps_[h] = capacity_at_depth(k_, L - 1 - h);
}

size_t KllSketch::retained() const { return items_; }

uint32_t KllSketch::level_capacity(size_t h, size_t nlevels) const {
    return capacity_at_depth(k_, nlevels - 1 - h);
}


uint64_t KllSketch::next_random() {
    if (!rng_seeded_) {
        // Mix the seed with the first buffered values (in input order) so that partial
        // sketches over different rows draw different coins; see kll.hpp.
        uint64_t h = rng_state_;
        for (double v : levels_[0]) {
            uint64_t s = h ^ detail::double_bits(v);
            h = detail::splitmix64(s);
        }
        rng_state_ = h;
        rng_seeded_ = true;
    }
    return detail::splitmix64(rng_state_);
}

void KllSketch::compact_level(size_t h) {
    if (h + 1 >= levels_.size()) fail(ErrorKind::Internal, "KLL compaction of the top level");
    std::vector<double>& lv = levels_[h];
    // The coin is drawn before sorting level 0 so that the seed mixes input order.
    const bool coin = next_coin();
    if (h == 0) std::sort(lv.begin(), lv.end());
    const size_t odd = lv.size() & 1;  // an odd item stays behind, unchanged (no error)
    const size_t half = (lv.size() - odd) / 2;
    // Merge every other item of lv (from odd + coin) into the sorted level above, through a
    // scratch buffer that is reused, so a steady stream of updates allocates nothing. Ties take
    // the level above's item first (as std::merge would).
    std::vector<double>& up = levels_[h + 1];
    scratch_.clear();
    scratch_.reserve(up.size() + half);
    const double* p = lv.data() + odd + (coin ? 1 : 0);
    const double* const p_end = p + 2 * half;
    auto u = up.cbegin();
    while (p != p_end && u != up.cend()) {
        if (*p < *u) {
            scratch_.push_back(*p);
            p += 2;
        } else {
            scratch_.push_back(*u++);
        }
    }
    for (; p != p_end; p += 2) scratch_.push_back(*p);
    scratch_.insert(scratch_.end(), u, up.cend());
    up.swap(scratch_);
    lv.resize(odd);
    compactions_[h]++;
    items_ -= half;
}

void KllSketch::compress_to_fit(size_t extra) {
    // Lazy compaction, as DataSketches: while over capacity, compact the lowest level at or
    // over its own capacity, growing a level on top when that is the top one. While sampling,
    // level 0 is the sampler's buffer, not a compactor.
    for (;;) {
        if (compactor_items() + extra <= capacity_) return;
        const size_t L = levels_.size();
        size_t h = sampler_level_ ? 1 : 0;
        while (h < L && levels_[h].size() < level_caps_[h]) h++;
        if (h == L) fail(ErrorKind::Internal, "KLL sketch over capacity with no full level");
        if (h == L - 1) {
            if (L >= kKllMaxLevels) fail(ErrorKind::ProgramLimit, "KLL sketch has too many levels");
            levels_.emplace_back();
            compactions_.push_back(0);
            refresh();
        }
        compact_level(h);
    }
}

void KllSketch::sample_full_blocks() {
    for (;;) {
        const size_t s = sampler_level_;
        if (s == 0) return;
        const size_t block = size_t(1) << s;
        std::vector<double>& raw = levels_[0];
        if (raw.size() < block) return;
        // One item of the block's 2^s, uniformly at random, stands for all of them: an
        // unbiased estimate of every rank, off by less than 2^s, like a compaction at level
        // s - 1 (docs/statistics.md); counted as one for the certified bound.
        const size_t start = raw.size() - block;
        const double v = raw[start + (next_random() >> (64 - s))];
        raw.resize(start);
        items_ -= block - 1;
        std::vector<double>& lv = levels_[s];
        lv.insert(std::upper_bound(lv.begin(), lv.end(), v), v);
        compactions_[s - 1]++;
        compress_to_fit(0);  // may add a level, and so raise the sampler's level
    }
}

void KllSketch::update_general(double x) {
    if (std::isnan(x)) return;
    if (n_ == 0) {
        min_ = max_ = x;
    } else {
        if (x < min_) min_ = x;
        if (x > max_) max_ = x;
    }
    n_++;
    if (sampler_level_) {
        levels_[0].push_back(x);
        items_++;
        if (levels_[0].size() >= (size_t(1) << sampler_level_)) sample_full_blocks();
        return;
    }
    if (items_ >= capacity_) compress_to_fit(1);
    levels_[0].push_back(x);
    items_++;
    // Growing a level may have started the sampler: level 0 is then its buffer.
    if (sampler_level_ && levels_[0].size() >= (size_t(1) << sampler_level_)) sample_full_blocks();
}

void KllSketch::merge(const KllSketch& o) {
    if (&o == this) {
        const KllSketch copy = o;
        merge(copy);
        return;
    }
    if (o.n_ == 0) return;
    if (n_ > std::numeric_limits<uint64_t>::max() - o.n_)
        fail(ErrorKind::ProgramLimit, "KLL sketch count overflow on merge");
    const uint32_t k = std::min(k_, o.k_);
    if (n_ == 0) {
        const uint64_t st = rng_state_;
        *this = o;
        rng_state_ = st ^ o.rng_state_;
        detail::splitmix64(rng_state_);
    } else {
        n_ += o.n_;
        min_ = std::min(min_, o.min_);
        max_ = std::max(max_, o.max_);
        uint64_t mix = rng_state_ ^ ((o.rng_state_ << 23) | (o.rng_state_ >> 41));
        rng_state_ = detail::splitmix64(mix);
        rng_seeded_ = rng_seeded_ || o.rng_seeded_;
        if (o.levels_.size() > levels_.size()) {
            levels_.resize(o.levels_.size());
            compactions_.resize(o.levels_.size(), 0);
        }
        levels_[0].insert(levels_[0].end(), o.levels_[0].begin(), o.levels_[0].end());
        for (size_t h = 1; h < o.levels_.size(); h++) {
            std::vector<double> merged;
            merged.reserve(levels_[h].size() + o.levels_[h].size());
            std::merge(levels_[h].begin(), levels_[h].end(), o.levels_[h].begin(),
                       o.levels_[h].end(), std::back_inserter(merged));
            levels_[h].swap(merged);
        }
        for (size_t h = 0; h < o.compactions_.size(); h++) compactions_[h] += o.compactions_[h];
    }
    k_ = k;
    refresh();
    compress_to_fit(0);
    sample_full_blocks();
}

std::vector<std::pair<double, uint64_t>> KllSketch::weighted_items() const {
    std::vector<std::pair<double, uint64_t>> all;
    all.reserve(total_size());
    for (size_t h = 0; h < levels_.size(); h++)
        for (double v : levels_[h]) all.emplace_back(v, uint64_t(1) << h);
    std::sort(all.begin(), all.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return all;
}

KllSketch::SortedView KllSketch::sorted_view() const {
    const std::vector<std::pair<double, uint64_t>> all = weighted_items();
    SortedView v;
    v.items.reserve(all.size());
    v.cum.reserve(all.size());
    uint64_t c = 0;
    for (const auto& [x, w] : all) {
        c += w;
        v.items.push_back(x);
        v.cum.push_back(c);
    }
    return v;
}

double KllSketch::rank(double x) const {
    if (n_ == 0 || std::isnan(x)) return std::nan("");
    uint64_t w = 0;
    for (double v : levels_[0]) w += (v <= x);
    for (size_t h = 1; h < levels_.size(); h++) {
        const auto& l = levels_[h];
        w += uint64_t(std::upper_bound(l.begin(), l.end(), x) - l.begin()) << h;
    }
    return static_cast<double>(w) / static_cast<double>(n_);
}

static void check_q(double q) {
    if (!(q >= 0.0 && q <= 1.0))
        fail(ErrorKind::InvalidParameter, "quantile must be between 0 and 1",
             "got " + std::to_string(q));
}

double KllSketch::quantile_in(const SortedView& v, double q) const {
    if (q == 0.0) return min_;
    if (q == 1.0) return max_;
    // The smallest item whose inclusive cumulative weight reaches ceil(q * n).
    double target = std::ceil(q * static_cast<double>(n_));
    auto it = std::lower_bound(v.cum.begin(), v.cum.end(), target,
                               [](uint64_t c, double t) { return static_cast<double>(c) < t; });
    if (it == v.cum.end()) return max_;
    return v.items[size_t(it - v.cum.begin())];
}

double KllSketch::quantile(double q) const {
    check_q(q);
    if (n_ == 0) return std::nan("");
    return quantile_in(sorted_view(), q);
}

std::vector<double> KllSketch::quantiles(const std::vector<double>& qs) const {
    for (double q : qs) check_q(q);
    std::vector<double> out;
    out.reserve(qs.size());
    if (n_ == 0) {
        out.assign(qs.size(), std::nan(""));
        return out;
    }
    const SortedView v = sorted_view();
    for (double q : qs) out.push_back(quantile_in(v, q));
    return out;
}

std::vector<double> KllSketch::cdf(const std::vector<double>& splits) const {
    for (size_t i = 0; i < splits.size(); i++) {
        if (std::isnan(splits[i]))
            fail(ErrorKind::InvalidParameter, "split points must not be NaN");
        if (i && !(splits[i - 1] < splits[i]))
            fail(ErrorKind::InvalidParameter, "split points must be strictly increasing");
    }
    std::vector<double> out;
    out.reserve(splits.size() + 1);
    if (n_ == 0) {
        out.assign(splits.size() + 1, std::nan(""));
        return out;
    }
    const SortedView v = sorted_view();
    const double n = static_cast<double>(n_);
    for (double s : splits) {
        size_t i = size_t(std::upper_bound(v.items.begin(), v.items.end(), s) - v.items.begin());
        out.push_back(i ? static_cast<double>(v.cum[i - 1]) / n : 0.0);
    }
    out.push_back(1.0);
    return out;
}

std::vector<double> KllSketch::pmf(const std::vector<double>& splits) const {
    std::vector<double> c = cdf(splits);
    if (n_ == 0) return c;
    for (size_t i = c.size(); i-- > 1;) c[i] -= c[i - 1];
    return c;
}

double KllSketch::rank_error_bound(double delta) const {
    if (!(delta > 0.0 && delta < 1.0))
        fail(ErrorKind::InvalidParameter, "confidence delta must be between 0 and 1 (exclusive)");
    if (n_ == 0) return 0.0;
    // For one query, a compaction at level h changes the estimated rank by +-2^h with
    // probability 1/2 each (odd count of items <= x in the compacted run) or not at all.
    // These are independent, zero-mean and bounded, so by Hoeffding's inequality
    // P(|err| >= t) <= 2 exp(-t^2 / (2 V)) with V = sum_h compactions_h * 4^h.
    double var = 0.0;
    for (size_t h = 0; h < compactions_.size(); h++)
        var += static_cast<double>(compactions_[h]) * std::ldexp(1.0, int(2 * h));
    return std::sqrt(2.0 * std::log(2.0 / delta) * var) / static_cast<double>(n_);
}

double KllSketch::documented_rank_error(uint32_t k, bool pmf) {
    check_k(k);
    return pmf ? 2.446 / std::pow(double(k), 0.9433) : 2.296 / std::pow(double(k), 0.9723);
}

size_t KllSketch::serialized_size() const {
    return kHeaderSize + levels_.size() * 12 + 8 * total_size();
}

std::string KllSketch::inconsistency() const {
    if (k_ < kKllMinK || k_ > kKllMaxK) return "k out of range";
    const size_t L = levels_.size();
    if (L < 1 || L > kKllMaxLevels) return "level count out of range";
    if (compactions_.size() != L) return "not one compaction count per level";
    size_t total = 0;
    for (const auto& l : levels_) total += l.size();
    // At most the capacity of all L levels, plus, while sampling (docs/statistics.md), a
    // sampler's buffer of fewer than 2^s items. (A sketch written before the sampler existed
    // may hold more than 2^s - 1 items in level 0, or more than the compactor capacity above
    // it; the next update or merge samples and compacts them.)
    const uint32_t sampler = kll_sampler_level(k_, L);
    if (total > capacity_total(k_, L, /*with_level0=*/true) + (sampler ? (size_t(1) << sampler) - 1 : 0))
        return "more items than the sketch can hold";
    if (n_ != 0 && (std::isnan(min_) || std::isnan(max_) || min_ > max_)) return "bad min or max";
    uint64_t weight = 0;
    for (size_t h = 0; h < L; h++) {
        const auto& l = levels_[h];
        for (size_t i = 0; i < l.size(); i++) {
            if (std::isnan(l[i])) return "NaN item";
            if (l[i] < min_ || l[i] > max_) return "item outside [min, max]";
            if (h && i && l[i] < l[i - 1]) return "level " + std::to_string(h) + " is not sorted";
        }
        if (l.size() > ((std::numeric_limits<uint64_t>::max() - weight) >> h)) return "item weights overflow";
        weight += uint64_t(l.size()) << h;
    }
    if (weight != n_) return "item weights do not add up to the count";
    // A compaction at level h moves at least two items of weight 2^h up as at least one item of
    // weight 2^(h+1) (a sampled block of 2^(h+1) raw items, counted at level h, likewise), and
    // weight never moves down again: so compactions_h * 2^(h+1) <= the weight held above level
    // h. Merging adds both sides of that inequality, so every merge of valid sketches keeps it
    // (the weaker bound compactions_h <= n >> (h+1) does not survive a merge's compactions:
    // test/fuzz/crashes' fuzz_kll_binary-merge-with-itself, test_hardening.cpp).
    uint64_t above = 0;  // <= weight: no overflow
    for (size_t h = L; h-- > 0;) {
        if (compactions_[h] > (above >> (h + 1)))
            return "compaction count at level " + std::to_string(h) + " exceeds the weight above it";
        above += uint64_t(levels_[h].size()) << h;
    }
    return {};
}

void KllSketch::encode(std::string& out) const {
    // The decoder's own check: never write what it would refuse.
    if (const std::string why = inconsistency(); !why.empty()) unstorable("KLL sketch", why);
    out.reserve(out.size() + serialized_size());
    ByteWriter w(out);
    begin_header(kHeader, w);
    w.put<uint8_t>(rng_seeded_ ? kFlagSeeded : 0);
    w.put<uint8_t>(static_cast<uint8_t>(levels_.size()));
    w.put<uint32_t>(k_);
    w.put<uint32_t>(0);
    w.put<uint64_t>(n_);
    w.put<double>(n_ ? min_ : std::nan(""));
    w.put<double>(n_ ? max_ : std::nan(""));
    w.put<uint64_t>(rng_state_);
    for (const auto& l : levels_) w.put<uint32_t>(static_cast<uint32_t>(l.size()));
    for (uint64_t c : compactions_) w.put<uint64_t>(c);
    for (const auto& l : levels_) w.bytes(l.data(), 8 * l.size());
}

KllSketch KllSketch::decode(const uint8_t* data, size_t size) {
    ByteReader r(data, size, "KLL sketch");
    open_header(kHeader, r, size);
    const uint8_t flags = r.get<uint8_t>("header");
    if (flags & ~kFlagSeeded) r.corrupt("unknown flags");
    const uint8_t nlevels = r.get<uint8_t>("header");
    if (nlevels < 1 || nlevels > kKllMaxLevels) r.corrupt("level count out of range");
    const uint32_t k = r.get<uint32_t>("header");
    if (k < kKllMinK || k > kKllMaxK) r.corrupt("k out of range");
    if (r.get<uint32_t>("header") != 0) r.corrupt("reserved field is not zero");
    const uint64_t n = r.get<uint64_t>("header");
    const double mn = r.get<double>("header"), mx = r.get<double>("header");
    const uint64_t rng = r.get<uint64_t>("header");
    // The bytes' own rule: an empty sketch's min and max are NaN (the value has none).
    if (n == 0 && (!std::isnan(mn) || !std::isnan(mx))) r.corrupt("empty sketch with min or max");

    KllSketch s(k);
    s.n_ = n;
    s.rng_state_ = rng;
    s.rng_seeded_ = (flags & kFlagSeeded) != 0;
    s.levels_.assign(nlevels, {});
    s.compactions_.assign(nlevels, 0);
    if (n) {
        s.min_ = mn;
        s.max_ = mx;
    }

    std::vector<uint32_t> sizes(nlevels);
    size_t total = 0;
    for (auto& z : sizes) {
        z = r.get<uint32_t>("level sizes");
        total += z;  // each <= 2^32, at most 61 of them: no overflow in size_t
    }
    for (size_t h = 0; h < nlevels; h++) s.compactions_[h] = r.get<uint64_t>("compaction counts");
    if (r.remaining() != 8 * total) r.corrupt("item section length does not match level sizes");
    for (size_t h = 0; h < nlevels; h++) {
        auto& l = s.levels_[h];
        l.resize(sizes[h]);
        r.bytes(l.data(), 8 * l.size(), "items");
    }
    r.expect_end();
    s.refresh();
    if (const std::string why = s.inconsistency(); !why.empty()) r.corrupt(why);
    return s;
}

bool KllSketch::operator==(const KllSketch& o) const {
    if (k_ != o.k_ || n_ != o.n_ || rng_state_ != o.rng_state_ || rng_seeded_ != o.rng_seeded_ ||
        levels_.size() != o.levels_.size() || compactions_ != o.compactions_)
        return false;
    if (n_ && (detail::double_bits(min_) != detail::double_bits(o.min_) ||
               detail::double_bits(max_) != detail::double_bits(o.max_)))
        return false;
    for (size_t h = 0; h < levels_.size(); h++) {
        const auto& a = levels_[h];
        const auto& b = o.levels_[h];
        if (a.size() != b.size() || (a.size() && std::memcmp(a.data(), b.data(), 8 * a.size()) != 0))
            return false;
    }
    return true;
}

}  // namespace pg_learn::core
