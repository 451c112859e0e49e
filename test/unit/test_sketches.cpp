// Unit tests of the streaming sketches: KLL quantiles, HyperLogLog, Space-Saving, and XXH64.
#include "core/common/error.hpp"
#include "core/sketches/hll.hpp"
#include "core/sketches/kll.hpp"
#include "core/sketches/space_saving.hpp"
#include "core/common/xxhash.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace pg_learn::core;

namespace {

// A generator whose output does not depend on the standard library's distributions.
using Rng = pg_learn::test::SplitMix64Rng;

std::vector<double> lognormal_values(size_t n, uint64_t seed) {
    Rng g(seed);
    std::vector<double> xs(n);
    for (auto& x : xs) x = g.lognormal(2.0);
    return xs;
}

// Distance from q to the interval of true (normalized) ranks that value v occupies.
double rank_distance(const std::vector<double>& sorted, double v, double q) {
    const double n = double(sorted.size());
    const double lo = double(std::lower_bound(sorted.begin(), sorted.end(), v) - sorted.begin()) / n;
    const double hi = double(std::upper_bound(sorted.begin(), sorted.end(), v) - sorted.begin()) / n;
    return q < lo ? lo - q : q > hi ? q - hi : 0.0;
}

struct Errors {
    double quantile = 0, rank = 0;
};

Errors measure(const KllSketch& s, const std::vector<double>& sorted) {
    Errors e;
    std::vector<double> qs;
    for (int i = 0; i <= 1000; i++) qs.push_back(i / 1000.0);
    const std::vector<double> vs = s.quantiles(qs);
    const double n = double(sorted.size());
    for (size_t i = 0; i < qs.size(); i++) {
        e.quantile = std::max(e.quantile, rank_distance(sorted, vs[i], qs[i]));
        // rank() at the exact quantile value: the inclusive true rank of that value.
        const double x = sorted[std::min(sorted.size() - 1, size_t(qs[i] * n))];
        const double truth = double(std::upper_bound(sorted.begin(), sorted.end(), x) - sorted.begin()) / n;
        e.rank = std::max(e.rank, std::fabs(s.rank(x) - truth));
    }
    return e;
}

// Every proper prefix of a valid buffer must be rejected as InvalidBinary.
template <typename Decode>
void expect_truncations_rejected(const std::string& buf, Decode decode) {
    for (size_t len = 0; len < buf.size(); len++) {
        try {
            decode(reinterpret_cast<const uint8_t*>(buf.data()), len);
            ADD_FAILURE() << "a truncation to " << len << " of " << buf.size() << " bytes was accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::InvalidBinary) << e.what();
        }
    }
    std::string longer = buf + '\0';
    EXPECT_THROW(decode(reinterpret_cast<const uint8_t*>(longer.data()), longer.size()), Error);
}

// Flips each bit mask at each byte. A flip is either rejected as InvalidBinary or decodes to
// something usable (probe runs on it); `must_reject(pos, mask)` says which flips are detectable.
template <typename Decode, typename Probe>
size_t check_flips(const std::string& buf, Decode decode, Probe probe,
                   std::function<bool(size_t, uint8_t)> must_reject) {
    size_t rejected = 0;
    for (size_t pos = 0; pos < buf.size(); pos++) {
        for (uint8_t mask : {uint8_t(0x01), uint8_t(0x10), uint8_t(0x80)}) {
            std::string b = buf;
            b[pos] = char(uint8_t(b[pos]) ^ mask);
            bool threw = false;
            try {
                auto s = decode(reinterpret_cast<const uint8_t*>(b.data()), b.size());
                probe(s);
            } catch (const Error& e) {
                EXPECT_EQ(e.kind(), ErrorKind::InvalidBinary) << e.what();
                threw = true;
                rejected++;
            }
            if (must_reject(pos, mask)) {
                EXPECT_TRUE(threw) << "flip " << int(mask) << " at byte " << pos;
            }
        }
    }
    return rejected;
}

}  // namespace

// ---------------------------------------------------------------- XXH64

TEST(XxHashSketch, KnownAnswers) {
    // Reference values from the xxHash library itself (libxxhash 0.8.1, XXH64()).
    std::string alnum = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    std::string bytes;
    for (int r = 0; r < 4; r++)
        for (int i = 0; i < 256; i++) bytes.push_back(char(i));
    EXPECT_EQ(xxh64_string("", 0), 0xEF46DB3751D8E999ull);
    EXPECT_EQ(xxh64_string("a", 0), 0xD24EC4F1A98C6E5Bull);
    EXPECT_EQ(xxh64_string("abc", 0), 0x44BC2CF5AD770999ull);
    EXPECT_EQ(xxh64_string("", 1), 0xD5AFBA1336A3BE4Bull);
    EXPECT_EQ(xxh64_string("abc", 0x9E3779B185EBCA87ull), 0xA7CB2AAC405E36C7ull);
    EXPECT_EQ(xxh64_string("0123456", 7), 0xD10B8EDE5489A161ull);
    EXPECT_EQ(xxh64_string("Nobody inspects the spammish repetition", 0), 0xFBCEA83C8A378BF1ull);
    EXPECT_EQ(xxh64_string("01234567890123456789012345678901", 0), 0xE5CC9F411EA110BAull);
    EXPECT_EQ(xxh64_string(alnum, 0), 0x7639D419DE614EEDull);
    EXPECT_EQ(xxh64_string(alnum, 123456789), 0x326C3AA3FA490B78ull);
    EXPECT_EQ(xxh64_string(bytes, 0), 0x6F3914F18FE4DF57ull);
    // Unaligned input hashes like aligned input.
    std::string shifted = "x" + alnum;
    EXPECT_EQ(xxh64(shifted.data() + 1, alnum.size(), 0), 0x7639D419DE614EEDull);
}

// ---------------------------------------------------------------- KLL

TEST(KllSketch, DefaultSizeBoundsAreAtMostOnePercent) {
    EXPECT_EQ(KllSketch().k(), 480u);
    EXPECT_LE(KllSketch::documented_rank_error(kKllDefaultK), 0.01);
    EXPECT_LE(KllSketch::documented_rank_error(kKllDefaultK, true), 0.01);
    // DataSketches' default k = 200 would not do: 1.65% for pmf.
    EXPECT_GT(KllSketch::documented_rank_error(200, true), 0.016);
}

TEST(KllSketch, RankErrorOnMillionLognormalValues) {
    const auto xs = lognormal_values(1000000, 42);
    auto sorted = xs;
    std::sort(sorted.begin(), sorted.end());
    KllSketch s;
    for (double x : xs) s.update(x);
    EXPECT_EQ(s.n(), xs.size());
    EXPECT_EQ(s.min(), sorted.front());
    EXPECT_EQ(s.max(), sorted.back());
    EXPECT_EQ(s.quantile(0), sorted.front());
    EXPECT_EQ(s.quantile(1), sorted.back());
    // Per query at 99%; and at 1 - 1e-4 per query, so that any 100 quantiles (say, the
    // percentiles) hold together with probability >= 99% by the union bound.
    const double bound = s.rank_error_bound(0.01);
    EXPECT_LE(bound, 0.01);
    EXPECT_LE(s.rank_error_bound(1e-4), 0.01);
    const Errors e = measure(s, sorted);
    EXPECT_LE(e.quantile, bound);
    EXPECT_LE(e.rank, bound);
    std::printf("[ KLL k=%u n=1e6 lognormal ] retained %zu, %zu bytes; max error over 1001 "
                "quantiles %.5f, ranks %.5f; certified 99%% bound %.5f\n",
                s.k(), s.retained(), s.serialized_size(), e.quantile, e.rank, bound);

    // Interval masses (pmf) are sums of the same +-2^h coin errors: same bound per interval.
    std::vector<double> splits;
    for (int i = 1; i < 20; i++) splits.push_back(sorted[size_t(i * 50000)]);
    const auto pmf = s.pmf(splits);
    const auto cdf = s.cdf(splits);
    ASSERT_EQ(pmf.size(), splits.size() + 1);
    double total = 0, worst = 0;
    for (size_t i = 0; i < pmf.size(); i++) {
        const double lo = i ? double(std::upper_bound(sorted.begin(), sorted.end(), splits[i - 1]) - sorted.begin()) : 0.0;
        const double hi = i < splits.size() ? double(std::upper_bound(sorted.begin(), sorted.end(), splits[i]) - sorted.begin()) : double(sorted.size());
        worst = std::max(worst, std::fabs(pmf[i] - (hi - lo) / double(sorted.size())));
        total += pmf[i];
        if (i < splits.size()) {
            EXPECT_NEAR(cdf[i], hi / double(sorted.size()), bound);
        }
    }
    EXPECT_DOUBLE_EQ(cdf.back(), 1.0);
    EXPECT_NEAR(total, 1.0, 1e-12);
    EXPECT_LE(worst, bound);
}

TEST(KllSketch, MergeOfTenPartsWithinBound) {
    const auto xs = lognormal_values(1000000, 7);
    auto sorted = xs;
    std::sort(sorted.begin(), sorted.end());
    KllSketch merged;
    for (int p = 0; p < 10; p++) {
        KllSketch part;
        for (size_t i = p * 100000; i < (p + 1) * 100000u; i++) part.update(xs[i]);
        merged.merge(part);
    }
    EXPECT_EQ(merged.n(), xs.size());
    EXPECT_EQ(merged.min(), sorted.front());
    EXPECT_EQ(merged.max(), sorted.back());
    const double bound = merged.rank_error_bound(0.01);
    EXPECT_LE(bound, 0.01);
    const Errors e = measure(merged, sorted);
    EXPECT_LE(e.quantile, bound);
    EXPECT_LE(e.rank, bound);
    std::printf("[ KLL merge of 10 ] retained %zu; max error quantiles %.5f, ranks %.5f; "
                "certified bound %.5f\n",
                merged.retained(), e.quantile, e.rank, bound);

    // A tree of merges (as parallel workers and roll-ups do) stays within its bound too.
    std::vector<KllSketch> parts(16);
    for (size_t i = 0; i < xs.size(); i++) parts[i % 16].update(xs[i]);
    while (parts.size() > 1) {
        std::vector<KllSketch> next;
        for (size_t i = 0; i < parts.size(); i += 2) {
            next.push_back(parts[i]);
            next.back().merge(parts[i + 1]);
        }
        parts.swap(next);
    }
    const Errors t = measure(parts[0], sorted);
    EXPECT_LE(t.quantile, parts[0].rank_error_bound(0.01));
    EXPECT_LE(parts[0].rank_error_bound(0.01), 0.01);
}

TEST(KllSketch, DeterministicForTheSameInputOrder) {
    const auto xs = lognormal_values(200000, 3);
    KllSketch a, b;
    for (double x : xs) a.update(x);
    for (double x : xs) b.update(x);
    EXPECT_TRUE(a == b);
    std::string ea, eb;
    a.encode(ea);
    b.encode(eb);
    EXPECT_EQ(ea, eb);
    // Merging is deterministic as well.
    KllSketch c = a, d = b;
    c.merge(b);
    d.merge(a);
    EXPECT_TRUE(c == d);
    // And a decoded sketch goes on exactly like the original: the state is all in the bytes.
    KllSketch r = KllSketch::decode(ea);
    for (int i = 0; i < 50000; i++) {
        a.update(i * 0.5);
        r.update(i * 0.5);
    }
    EXPECT_TRUE(a == r);
}

TEST(KllSketch, SamplerLevelFollowsTheNarrowLevels) {
    // k = 480: levels deeper than 8 would be narrower than kKllSamplerWidth (480 (2/3)^8 < 24).
    for (size_t L = 1; L <= 8; L++) EXPECT_EQ(kll_sampler_level(480, L), 0u) << L;
    EXPECT_EQ(kll_sampler_level(480, 9), 1u);
    EXPECT_EQ(kll_sampler_level(480, 12), 4u);
    EXPECT_EQ(kll_sampler_level(480, 18), 10u);
    EXPECT_EQ(kll_sampler_level(480, 40), kKllMaxSamplerLevel);  // the buffer stays small
    // A small k keeps plain compactors: its levels are all narrow, a sampler would be all.
    for (size_t L = 1; L <= 40; L++) EXPECT_EQ(kll_sampler_level(16, L), 0u) << L;
    // The smallest k that samples is 52: ceil(52 (2/3)^2) = 24, ceil(51 (2/3)^2) = 23.
    for (size_t L = 1; L <= 40; L++) EXPECT_EQ(kll_sampler_level(51, L), 0u) << L;
    EXPECT_EQ(kll_sampler_level(52, 5), 2u);
    for (size_t L = 1; L <= 3; L++) EXPECT_EQ(kll_sampler_level(kKllMaxK, L), 0u) << L;
}

TEST(KllSketch, SamplingSketchStaysWithinItsBoundAndRoundTrips) {
    const auto xs = lognormal_values(3000000, 21);
    KllSketch s;
    for (double x : xs) s.update(x);
    const uint32_t level = kll_sampler_level(s.k(), s.num_levels());
    ASSERT_GT(level, 2u);  // 3,000,000 values: the sampler runs, with blocks of 8 or more
    // Level 0 is the sampler's buffer: fewer than 2^s raw items (level sizes at offset 48).
    std::string buf;
    s.encode(buf);
    uint32_t raw = 0;
    std::memcpy(&raw, &buf[48], 4);
    EXPECT_LT(raw, 1u << level);
    EXPECT_LE(s.retained(), 1600u + raw);
    auto sorted = xs;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(s.min(), sorted.front());
    EXPECT_EQ(s.max(), sorted.back());
    const double bound = s.rank_error_bound(0.01);
    EXPECT_LE(bound, 0.0072);
    EXPECT_LE(s.rank_error_bound(1e-4), 0.01);
    const Errors e = measure(s, sorted);
    EXPECT_LE(e.quantile, bound);
    EXPECT_LE(e.rank, bound);
    std::printf("[ KLL k=%u n=3e6 sampling at level %u ] retained %zu; max error quantiles %.5f, "
                "ranks %.5f; certified 99%% bound %.5f\n",
                s.k(), level, s.retained(), e.quantile, e.rank, bound);
    // The decoded sketch is the same and goes on the same (the sampler's state is in the bytes).
    KllSketch r = KllSketch::decode(buf);
    EXPECT_TRUE(r == s);
    for (double x : lognormal_values(100001, 22)) {
        s.update(x);
        r.update(x);
    }
    EXPECT_TRUE(r == s);
    // Merging sampling sketches with partly filled buffers keeps every weight (decode checks
    // that the weights add up to n) and the bound.
    KllSketch a, b;
    for (size_t i = 0; i < xs.size(); i++) (i % 3 ? a : b).update(xs[i]);
    a.merge(b);
    EXPECT_EQ(a.n(), xs.size());
    std::string mb;
    a.encode(mb);
    EXPECT_TRUE(KllSketch::decode(mb) == a);
    const Errors m = measure(a, sorted);
    EXPECT_LE(m.quantile, a.rank_error_bound(0.01));
    EXPECT_LE(a.rank_error_bound(0.01), 0.0072);
}

TEST(KllSketch, DecodesALevelZeroBeyondTheSamplersBlock) {
    // A sketch written before the sampler existed may hold more than 2^s - 1 items in level 0.
    // Make one: a sampling sketch (s = 1) with one item of level 1 (weight 2) replaced by two
    // copies in level 0 (weight 1 each), weights unchanged. It decodes, answers, and its next
    // update samples the buffer down below the block size.
    KllSketch s;
    Rng g(31);
    while (kll_sampler_level(s.k(), s.num_levels()) == 0) s.update(g.lognormal(1.0));
    ASSERT_EQ(kll_sampler_level(s.k(), s.num_levels()), 1u);
    std::string buf;
    s.encode(buf);
    const size_t L = s.num_levels();
    uint32_t sz0, sz1;
    std::memcpy(&sz0, &buf[48], 4);
    std::memcpy(&sz1, &buf[52], 4);
    ASSERT_GE(sz1, 1u);
    const size_t items = 48 + 12 * L;
    double v;
    std::memcpy(&v, &buf[items + 8 * sz0], 8);  // the first (smallest) item of level 1
    std::string old = buf.substr(0, items + 8 * sz0);
    old.append(reinterpret_cast<const char*>(&v), 8);
    old.append(reinterpret_cast<const char*>(&v), 8);
    old.append(buf.substr(items + 8 * sz0 + 8));
    const uint32_t n0 = sz0 + 2, n1 = sz1 - 1;
    std::memcpy(&old[48], &n0, 4);
    std::memcpy(&old[52], &n1, 4);
    ASSERT_GE(n0, 2u);  // at least the block size: the new code never writes that
    KllSketch r = KllSketch::decode(old);
    EXPECT_EQ(r.n(), s.n());
    EXPECT_EQ(r.quantile(0.5), s.quantile(0.5));
    r.update(1.0);
    std::string after;
    r.encode(after);
    uint32_t a0;
    std::memcpy(&a0, &after[48], 4);
    EXPECT_LT(a0, 2u);
    EXPECT_TRUE(KllSketch::decode(after) == r);
}

TEST(KllSketch, ExactWhileNothingIsCompacted) {
    KllSketch s(kKllDefaultK);
    std::vector<double> v;
    for (int i = 0; i < 300; i++) {
        v.push_back((i * 37) % 300);
        s.update(v.back());
    }
    EXPECT_EQ(s.rank_error_bound(), 0.0);
    EXPECT_EQ(s.retained(), 300u);
    EXPECT_DOUBLE_EQ(s.rank(149), 150.0 / 300.0);
    EXPECT_EQ(s.quantile(0.5), 149);
    EXPECT_EQ(s.quantile(0.501), 150);
    EXPECT_EQ(s.quantile(0.0), 0);
    EXPECT_EQ(s.quantile(1.0), 299);
    EXPECT_DOUBLE_EQ(s.rank(-1), 0.0);
    EXPECT_DOUBLE_EQ(s.rank(1e9), 1.0);
}

TEST(KllSketch, SpecialValuesAndBadArguments) {
    KllSketch s;
    EXPECT_TRUE(std::isnan(s.quantile(0.5)));
    EXPECT_TRUE(std::isnan(s.rank(1)));
    EXPECT_TRUE(std::isnan(s.min()));
    s.update(std::nan(""));
    EXPECT_EQ(s.n(), 0u);  // NaN never enters
    s.update(1.0);
    s.update(INFINITY);
    s.update(-INFINITY);
    EXPECT_EQ(s.n(), 3u);
    EXPECT_EQ(s.min(), -INFINITY);
    EXPECT_EQ(s.quantile(0.5), 1.0);
    EXPECT_TRUE(std::isnan(s.rank(std::nan(""))));
    auto kind_of = [](const std::function<void()>& f) {
        try {
            f();
        } catch (const Error& e) {
            return e.kind();
        }
        return ErrorKind::Internal;
    };
    EXPECT_EQ(kind_of([&] { s.quantile(1.5); }), ErrorKind::InvalidParameter);
    EXPECT_EQ(kind_of([&] { s.quantile(std::nan("")); }), ErrorKind::InvalidParameter);
    EXPECT_EQ(kind_of([&] { s.quantiles({0.1, -0.1}); }), ErrorKind::InvalidParameter);
    EXPECT_EQ(kind_of([&] { s.cdf({1, 1}); }), ErrorKind::InvalidParameter);
    EXPECT_EQ(kind_of([&] { s.pmf({2, 1}); }), ErrorKind::InvalidParameter);
    EXPECT_EQ(kind_of([&] { s.cdf({std::nan("")}); }), ErrorKind::InvalidParameter);
    EXPECT_EQ(kind_of([&] { KllSketch bad(4); }), ErrorKind::InvalidParameter);
    EXPECT_EQ(kind_of([&] { s.rank_error_bound(0); }), ErrorKind::InvalidParameter);
}

TEST(KllSketch, MergeOfDifferentSizesAndEmpties) {
    KllSketch a(200), b(400), e;
    for (int i = 0; i < 100000; i++) (i % 2 ? a : b).update(i);
    KllSketch m = e;
    m.merge(a);
    m.merge(e);
    m.merge(b);
    EXPECT_EQ(m.k(), 200u);
    EXPECT_EQ(m.n(), 100000u);
    EXPECT_EQ(m.min(), 0);
    EXPECT_EQ(m.max(), 99999);
    EXPECT_NEAR(m.rank(50000), 0.5, m.rank_error_bound());
    std::string buf;
    m.encode(buf);
    EXPECT_TRUE(KllSketch::decode(buf) == m);
}

TEST(KllSketch, SerializationRoundTripAndCorruption) {
    std::vector<KllSketch> cases;
    cases.emplace_back();  // empty
    {
        KllSketch s;
        s.update(3.5);
        cases.push_back(s);
    }
    {
        KllSketch s(16);
        for (double x : lognormal_values(3000, 11)) s.update(x);
        cases.push_back(s);
    }
    {
        KllSketch s;
        for (double x : lognormal_values(100000, 12)) s.update(x);
        cases.push_back(s);
    }
    for (const auto& s : cases) {
        std::string buf;
        s.encode(buf);
        EXPECT_EQ(buf.size(), s.serialized_size());
        KllSketch r = KllSketch::decode(buf);
        EXPECT_TRUE(r == s);
        std::string again;
        r.encode(again);
        EXPECT_EQ(again, buf);
        if (!s.empty()) {
            EXPECT_EQ(r.quantile(0.5), s.quantile(0.5));
        }
    }
    // Every truncation and every detectable flip of a small multi-level sketch.
    const KllSketch& small = cases[2];
    ASSERT_GT(small.num_levels(), 3u);
    std::string buf;
    small.encode(buf);
    expect_truncations_rejected(buf, [](const uint8_t* p, size_t n) { return KllSketch::decode(p, n); });
    const size_t L = small.num_levels();
    const size_t rejected = check_flips(
        buf, [](const uint8_t* p, size_t n) { return KllSketch::decode(p, n); },
        [](const KllSketch& s) {
            s.quantiles({0, 0.25, 0.5, 1});
            s.rank(1.0);
            s.rank_error_bound();
            std::string again;
            s.encode(again);
            KllSketch::decode(again);
        },
        [L](size_t pos, uint8_t mask) {
            if (pos < 6) return true;                      // magic, version
            if (pos == 6) return mask != 0x01;             // flags (bit 0 is "seeded")
            if (pos == 7) return mask != 0x01;             // level count
            if (pos >= 12 && pos < 24) return true;        // reserved, n
            if (pos >= 48 && pos < 48 + 4 * L) return true;  // level sizes
            return false;
        });
    std::printf("[ KLL corruption ] %zu of %zu single-bit flips rejected\n", rejected, buf.size() * 3);

    // Structural corruptions that single flips may miss.
    auto patched = [&](size_t off, const void* v, size_t n) {
        std::string b = buf;
        std::memcpy(&b[off], v, n);
        return b;
    };
    const double nan = std::nan("");
    const size_t items = 48 + 12 * L;
    EXPECT_THROW(KllSketch::decode(patched(items, &nan, 8)), Error);  // NaN item
    const double big = 1e300;
    EXPECT_THROW(KllSketch::decode(patched(items, &big, 8)), Error);  // above max
    // An unsorted level >= 1: swap the first two items of the first such level holding two.
    {
        size_t off = items;
        bool swapped = false;
        for (size_t h = 0; h < L && !swapped; h++) {
            uint32_t sz;
            std::memcpy(&sz, &buf[48 + 4 * h], 4);
            double x = 0, y = 0;
            if (h >= 1 && sz >= 2) {
                std::memcpy(&x, &buf[off], 8);
                std::memcpy(&y, &buf[off + 8], 8);
            }
            if (x < y) {
                std::string b = buf;
                std::memcpy(&b[off], &y, 8);
                std::memcpy(&b[off + 8], &x, 8);
                EXPECT_THROW(KllSketch::decode(b), Error);
                swapped = true;
            }
            off += 8 * sz;
        }
        EXPECT_TRUE(swapped);
    }
    const double lo = 5.0, hi = 4.0;
    EXPECT_THROW(KllSketch::decode(patched(24, &lo, 8) .substr(0, 32) + patched(32, &hi, 8).substr(32)), Error);
    EXPECT_THROW(KllSketch::decode(std::string()), Error);
    EXPECT_THROW(KllSketch::decode(std::string(1000, '\0')), Error);
}

// ---------------------------------------------------------------- HyperLogLog

TEST(HllSketch, EstimatesWithinThreeStandardErrors) {
    const double se = HyperLogLog::relative_standard_error(kHllDefaultPrecision);
    EXPECT_NEAR(se, 0.0081, 0.0001);
    for (uint64_t n : {100ull, 1000ull, 10000ull, 30000ull, 100000ull, 1000000ull}) {
        HyperLogLog h;
        for (uint64_t i = 0; i < n; i++) {
            const std::string v = "value-" + std::to_string(i);
            h.add(v);
            if (i % 3 == 0) h.add(v);  // duplicates change nothing
        }
        const double est = h.estimate();
        std::printf("[ HLL p=14 ] n=%llu estimate %.1f relative error %+.5f (3 SE = %.4f)\n",
                    (unsigned long long)n, est, est / double(n) - 1.0, 3 * se);
        EXPECT_LE(std::fabs(est / double(n) - 1.0), 3 * se) << "n = " << n;
    }
}

TEST(HllSketch, NoBiasAcrossTheTransitionRange) {
    // Averaged over 20 independent sketches the relative bias is far below one standard error,
    // including 2.5m..5m where the raw HLL estimate is biased upwards by several percent.
    const double se = HyperLogLog::relative_standard_error(14);
    Rng g(99);
    for (uint64_t n : {5000ull, 20000ull, 40000ull, 60000ull, 90000ull}) {
        double bias = 0, raw_bias = 0;
        for (int t = 0; t < 20; t++) {
            HyperLogLog h;
            for (uint64_t i = 0; i < n; i++) h.add_hash(g.next());
            bias += (h.estimate() / double(n) - 1.0) / 20;
            raw_bias += (h.estimate_raw() / double(n) - 1.0) / 20;
        }
        EXPECT_LE(std::fabs(bias), 3 * se / std::sqrt(20.0)) << "n = " << n;
        if (n == 40000) {
            EXPECT_GT(raw_bias, 0.015);
        }
    }
}

TEST(HllSketch, MergeEqualsUnion) {
    HyperLogLog a, b, all;
    for (int i = 0; i < 600000; i++) a.add("k" + std::to_string(i));
    for (int i = 400000; i < 1000000; i++) b.add("k" + std::to_string(i));
    for (int i = 0; i < 1000000; i++) all.add("k" + std::to_string(i));
    HyperLogLog m = a;
    m.merge(b);
    EXPECT_TRUE(m == all);
    HyperLogLog m2 = b;
    m2.merge(a);
    EXPECT_TRUE(m2 == all);
    EXPECT_NEAR(m.estimate(), 1e6, 3e6 * HyperLogLog::relative_standard_error(14));
    HyperLogLog e;
    e.merge(HyperLogLog());
    EXPECT_EQ(e.estimate(), 0.0);
    EXPECT_TRUE(e.empty());
}

TEST(HllSketch, MergeAcrossPrecisionsFoldsExactly) {
    Rng g(5);
    HyperLogLog hi(16), lo(12), lo_direct(12);
    for (int i = 0; i < 200000; i++) {
        const uint64_t h = g.next();
        hi.add_hash(h);
        lo_direct.add_hash(h);
    }
    lo.merge(hi);
    EXPECT_EQ(lo.precision(), 12);
    EXPECT_TRUE(lo == lo_direct);
    HyperLogLog hi2 = hi;
    hi2.merge(HyperLogLog(12));
    EXPECT_TRUE(hi2 == lo_direct);
}

TEST(HllSketch, SerializationRoundTripAndCorruption) {
    HyperLogLog sparse, dense;
    for (int i = 0; i < 500; i++) sparse.add("s" + std::to_string(i));
    for (int i = 0; i < 100000; i++) dense.add("d" + std::to_string(i));
    const HyperLogLog tiny(4);
    const HyperLogLog* all[] = {&sparse, &dense, &tiny};
    for (const HyperLogLog* h : all) {
        std::string buf;
        h->encode(buf);
        EXPECT_EQ(buf.size(), h->serialized_size());
        EXPECT_TRUE(HyperLogLog::decode(buf) == *h);
    }
    std::string sbuf, dbuf;
    sparse.encode(sbuf);
    dense.encode(dbuf);
    EXPECT_LT(sbuf.size(), dbuf.size());
    EXPECT_EQ(dbuf.size(), 12u + 16384u);
    auto dec = [](const uint8_t* p, size_t n) { return HyperLogLog::decode(p, n); };
    auto probe = [](const HyperLogLog& h) { h.estimate(); };
    expect_truncations_rejected(sbuf, dec);
    expect_truncations_rejected(dbuf, dec);
    // Dense: every high-bit flip is detectable (registers never exceed 64 - p + 1 < 128).
    check_flips(dbuf, dec, probe, [](size_t, uint8_t mask) { return mask == 0x80; });
    // Sparse: header, and the high bytes of indexes (index >= 2^p).
    check_flips(sbuf, dec, probe, [](size_t pos, uint8_t mask) {
        if (pos < 12) return !(pos == 6 && mask == 0x01);  // p 14 -> 15 is a valid precision
        const size_t in = (pos - 12) % 5;  // index bytes 0..3 (little-endian), value byte 4
        return (in == 1 && mask == 0x80) || in == 2 || in == 3 || (in == 4 && mask == 0x80);
    });
    // A sparse entry out of order is rejected.
    std::string b = sbuf;
    std::swap_ranges(b.begin() + 12, b.begin() + 17, b.begin() + 17);
    EXPECT_THROW(HyperLogLog::decode(b), Error);
}

// ---------------------------------------------------------------- Space-Saving

namespace {

// Zipf(s) over {0..universe-1} by inverse CDF.
std::vector<uint32_t> zipf_values(size_t n, uint32_t universe, double s, uint64_t seed) {
    std::vector<double> cdf(universe);
    double c = 0;
    for (uint32_t i = 0; i < universe; i++) cdf[i] = (c += 1.0 / std::pow(i + 1.0, s));
    for (auto& x : cdf) x /= c;
    Rng g(seed);
    std::vector<uint32_t> out(n);
    for (auto& v : out)
        v = uint32_t(std::min<size_t>(universe - 1, std::lower_bound(cdf.begin(), cdf.end(), g.uniform()) - cdf.begin()));
    return out;
}

void check_guarantees(const SpaceSaving& ss, const std::map<std::string, uint64_t>& truth, uint64_t n) {
    ASSERT_EQ(ss.n(), n);
    uint64_t sum = 0;
    for (const auto& c : ss.top()) {
        sum += c.count;
        const auto it = truth.find(c.item);
        const uint64_t f = it == truth.end() ? 0 : it->second;
        EXPECT_LE(c.count - c.error, f) << c.item;
        EXPECT_GE(c.count, f) << c.item;
    }
    EXPECT_LE(sum, n);
    if (ss.size() == ss.capacity()) {
        EXPECT_LE(ss.unmonitored_bound(), n / ss.capacity());
    }
    for (const auto& [item, f] : truth) {
        EXPECT_LE(ss.lower_bound(item), f);
        EXPECT_GE(ss.upper_bound(item), f);
        if (f > n / ss.capacity()) {
            EXPECT_NE(ss.find(item), nullptr) << item << " f=" << f;
        }
    }
}

}  // namespace

TEST(SpaceSavingSketch, GuaranteesOnZipf) {
    const auto vals = zipf_values(1000000, 100000, 1.1, 21);
    std::map<std::string, uint64_t> truth;
    SpaceSaving ss;
    for (uint32_t v : vals) {
        const std::string s = "cat" + std::to_string(v);
        truth[s]++;
        ss.update(s);
    }
    check_guarantees(ss, truth, vals.size());
    // The true top 10 are the top 10 listed, in order.
    std::vector<std::pair<uint64_t, std::string>> exact;
    for (const auto& [k, f] : truth) exact.emplace_back(f, k);
    std::sort(exact.rbegin(), exact.rend());
    const auto top = ss.top();
    for (int i = 0; i < 10; i++) EXPECT_EQ(top[i].item, exact[i].second);
    std::printf("[ Space-Saving m=64 Zipf(1.1) n=1e6 ] bound for unlisted values %llu (n/m = %llu), "
                "top error %llu\n",
                (unsigned long long)ss.unmonitored_bound(), (unsigned long long)(vals.size() / 64),
                (unsigned long long)top[0].error);
}

TEST(SpaceSavingSketch, MergeKeepsGuarantees) {
    std::map<std::string, uint64_t> truth;
    SpaceSaving merged;
    uint64_t n = 0;
    for (int p = 0; p < 10; p++) {
        // Each part has its own heavy hitters on top of a shared Zipf tail.
        const auto vals = zipf_values(100000, 50000, 1.05, 100 + p);
        SpaceSaving part;
        for (size_t i = 0; i < vals.size(); i++) {
            const std::string s = i % 7 == 0 ? "part" + std::to_string(p) + "-" + std::to_string(i % 3)
                                             : "v" + std::to_string(vals[i]);
            truth[s]++;
            part.update(s);
            n++;
        }
        merged.merge(part);
    }
    check_guarantees(merged, truth, n);
    // Merging in a tree gives summaries with the same guarantees.
    SpaceSaving a, b;
    for (const auto& [k, f] : truth) (k.size() % 2 ? a : b).update(k, f);
    SpaceSaving ab = a;
    ab.merge(b);
    check_guarantees(ab, truth, n);
}

TEST(SpaceSavingSketch, MergeAcrossCapacitiesAndWithItself) {
    std::map<std::string, uint64_t> truth;
    SpaceSaving big(256), small(32);
    const auto vals = zipf_values(200000, 20000, 1.0, 77);
    for (size_t i = 0; i < vals.size(); i++) {
        const std::string s = std::to_string(vals[i]);
        truth[s]++;
        (i % 3 ? big : small).update(s);
    }
    SpaceSaving m = big;
    m.merge(small);
    EXPECT_EQ(m.capacity(), 32u);
    check_guarantees(m, truth, vals.size());
    SpaceSaving twice = m;
    twice.merge(twice);
    for (auto& [k, f] : truth) f *= 2;
    check_guarantees(twice, truth, 2 * vals.size());
    KllSketch k;
    for (int i = 0; i < 5000; i++) k.update(i);
    k.merge(k);
    EXPECT_EQ(k.n(), 10000u);
    EXPECT_NEAR(k.rank(2500), 0.5, k.rank_error_bound() + 1e-9);
}

TEST(SpaceSavingSketch, DeterministicTieBreaking) {
    SpaceSaving ss(2);
    ss.update("a");
    ss.update("b");
    ss.update("c");  // a and b tie at (1, 0): the greater bytes, "b", goes
    ASSERT_NE(ss.find("a"), nullptr);
    EXPECT_EQ(ss.find("b"), nullptr);
    ASSERT_NE(ss.find("c"), nullptr);
    EXPECT_EQ(ss.find("c")->count, 2u);
    EXPECT_EQ(ss.find("c")->error, 1u);
    EXPECT_EQ(ss.unmonitored_bound(), 1u);
    EXPECT_EQ(ss.upper_bound("b"), 1u);
    EXPECT_EQ(ss.top()[0].item, "c");
    // Same input, same bytes; merge order does not matter for the result's content.
    const auto vals = zipf_values(20000, 5000, 1.0, 8);
    SpaceSaving x, y, z;
    for (size_t i = 0; i < vals.size(); i++) {
        x.update(std::to_string(vals[i]));
        y.update(std::to_string(vals[i]));
        z.update(std::to_string(vals[vals.size() - 1 - i]));
    }
    std::string ex, ey;
    x.encode(ex);
    y.encode(ey);
    EXPECT_EQ(ex, ey);
    SpaceSaving xz = x, zx = z;
    xz.merge(z);
    zx.merge(x);
    EXPECT_TRUE(xz == zx);
}

TEST(SpaceSavingSketch, SerializationRoundTripAndCorruption) {
    SpaceSaving ss(8);
    const auto vals = zipf_values(5000, 300, 1.2, 4);
    for (uint32_t v : vals) ss.update("value " + std::to_string(v));
    ss.update(std::string("\0bin\xff", 5), 1000);
    for (const SpaceSaving& s : {SpaceSaving(), SpaceSaving(3), ss}) {
        std::string buf;
        s.encode(buf);
        EXPECT_EQ(buf.size(), s.serialized_size());
        SpaceSaving r = SpaceSaving::decode(buf);
        EXPECT_TRUE(r == s);
        std::string again;
        r.encode(again);
        EXPECT_EQ(again, buf);
    }
    std::string buf;
    ss.encode(buf);
    auto dec = [](const uint8_t* p, size_t n) { return SpaceSaving::decode(p, n); };
    expect_truncations_rejected(buf, dec);
    check_flips(
        buf, dec,
        [](const SpaceSaving& s) {
            s.top();
            s.upper_bound("value 1");
            std::string again;
            s.encode(again);
            SpaceSaving::decode(again);
        },
        [](size_t pos, uint8_t) { return pos < 16; });  // magic, version, reserved, capacity, size
    // A repeated value, and counters out of canonical order, are rejected.
    SpaceSaving two(2);
    two.update("x", 5);
    two.update("y", 3);
    std::string b;
    two.encode(b);
    std::string dup = b;
    // Second counter starts at 32 + 20 + 1; make its value "x" and its count equal.
    dup[32 + 21 + 20] = 'x';
    EXPECT_THROW(SpaceSaving::decode(dup), Error);
    std::string swapped = b.substr(0, 32) + b.substr(53, 21) + b.substr(32, 21);
    EXPECT_THROW(SpaceSaving::decode(swapped), Error);
    // Weighted updates and bad arguments.
    EXPECT_THROW(SpaceSaving(0), Error);
    EXPECT_EQ(two.upper_bound("x"), 5u);
    EXPECT_EQ(two.n(), 8u);
}
