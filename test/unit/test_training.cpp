// SplitMix64 and the epoch order of multi-pass training (docs/algorithms.md "Multi-pass training").
#include "test_util.hpp"
#include "core/models/training.hpp"

#include <algorithm>
#include <numeric>

namespace pg_learn::test {
namespace {

using core::run_epochs;
using core::shuffle_order;
using core::SplitMix64;

TEST(SplitMix64, PublishedOutputs) {
    // Vigna's splitmix64.c with the state starting at 0: first output 0xe220a8397b1dcdaf.
    SplitMix64 r(0);
    EXPECT_EQ(r.next(), 0xe220a8397b1dcdafull);
    EXPECT_EQ(r.next(), 0x6e789e6aa1b965f4ull);
    EXPECT_EQ(r.next(), 0x06c45d188009454full);
    EXPECT_EQ(r.next(), 0xf88bb8a8724c81ecull);
    EXPECT_EQ(r.next(), 0x1b39896a51a8749bull);
    // seed 1234567: 6457827717110365317, 3203168211198807973, ... (the common test vector)
    SplitMix64 s(1234567);
    EXPECT_EQ(s.next(), 6457827717110365317ull);
    EXPECT_EQ(s.next(), 3203168211198807973ull);
    EXPECT_EQ(s.next(), 9817491932198370423ull);
    EXPECT_EQ(s.next(), 4593380528125082431ull);
    EXPECT_EQ(s.next(), 16408922859458223821ull);
}

TEST(Shuffle, DeterministicForASeed) {
    // Fisher-Yates from the top, j = next() mod i (computed independently in Python).
    SplitMix64 r(0);
    std::vector<size_t> o(10);
    std::iota(o.begin(), o.end(), size_t(0));
    shuffle_order(o, r);
    EXPECT_EQ(o, (std::vector<size_t>{6, 3, 2, 9, 8, 1, 4, 7, 0, 5}));
    shuffle_order(o, r);
    EXPECT_EQ(o, (std::vector<size_t>{7, 8, 5, 1, 2, 9, 0, 4, 3, 6}));
    SplitMix64 r42(42);
    std::iota(o.begin(), o.end(), size_t(0));
    shuffle_order(o, r42);
    EXPECT_EQ(o, (std::vector<size_t>{0, 9, 5, 8, 6, 4, 7, 2, 1, 3}));
    // trivial sizes
    std::vector<size_t> empty, one{0};
    shuffle_order(empty, r);
    shuffle_order(one, r);
    EXPECT_EQ(one, std::vector<size_t>{0});
}

std::vector<size_t> visits(size_t n, int epochs, bool shuffle, uint64_t seed, int* ticks = nullptr) {
    std::vector<size_t> out;
    int t = 0;
    run_epochs(n, epochs, shuffle, seed, [&](size_t i) { out.push_back(i); }, [&] { t++; });
    if (ticks) *ticks = t;
    return out;
}

TEST(Epochs, FirstEpochInOrderLaterOnesShuffled) {
    const size_t n = 50;
    auto v = visits(n, 4, true, 7);
    ASSERT_EQ(v.size(), 4 * n);
    for (size_t i = 0; i < n; i++) EXPECT_EQ(v[i], i);
    std::vector<size_t> ident(n);
    std::iota(ident.begin(), ident.end(), size_t(0));
    for (int e = 1; e < 4; e++) {
        std::vector<size_t> ep(v.begin() + e * n, v.begin() + (e + 1) * n);
        EXPECT_NE(ep, ident) << "epoch " << e;
        std::vector<size_t> sorted = ep;
        std::sort(sorted.begin(), sorted.end());
        EXPECT_EQ(sorted, ident) << "epoch " << e << " is a permutation";
    }
    // each epoch shuffles the previous order with the same generator
    SplitMix64 r(7);
    std::vector<size_t> o = ident;
    for (int e = 1; e < 4; e++) {
        shuffle_order(o, r);
        EXPECT_EQ(o, std::vector<size_t>(v.begin() + e * n, v.begin() + (e + 1) * n));
    }
}

TEST(Epochs, ReproducibleAndSeedDependent) {
    EXPECT_EQ(visits(30, 3, true, 0), visits(30, 3, true, 0));
    EXPECT_NE(visits(30, 3, true, 0), visits(30, 3, true, 1));
    auto fixed = visits(30, 3, false, 5);
    for (size_t k = 0; k < fixed.size(); k++) EXPECT_EQ(fixed[k], k % 30);
    EXPECT_TRUE(visits(0, 3, true, 0).empty());
}

TEST(Epochs, CallsEverySoOftenEvery1024Rows) {
    int ticks = 0;
    visits(1000, 3, true, 0, &ticks);
    EXPECT_EQ(ticks, 2);  // 3000 rows
    visits(1024, 1, false, 0, &ticks);
    EXPECT_EQ(ticks, 1);
    visits(1023, 1, false, 0, &ticks);
    EXPECT_EQ(ticks, 0);
}

TEST(Epochs, EpochCountIsChecked) {
    for (int bad : {0, -1, core::kMaxEpochs + 1})
        expect_error(ErrorKind::InvalidParameter, [&] { visits(3, bad, true, 0); });
    EXPECT_EQ(visits(1, core::kMaxEpochs, true, 0).size(), size_t(core::kMaxEpochs));
}

}  // namespace
}  // namespace pg_learn::test
