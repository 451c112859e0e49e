// Moments: Welford's update and Chan's merge against NumPy, and the counts kept apart.
#include "moments.hpp"
#include "test_util.hpp"

#include <cmath>
#include <iomanip>
#include <limits>

namespace pg_learn::test {
namespace {

using core::Moments;

// NumPy (/usr/bin/python3): x = [3.25, -1.5, 1e6, 0.0, -0.0, 7.125, 2.5e-3, -42.0, 1e-9, 123456.789]
const double kX[] = {3.25, -1.5, 1e6, 0.0, -0.0, 7.125, 2.5e-3, -42.0, 1e-9, 123456.789};
constexpr double kMean = 112342.3666500001;            // x.mean()
constexpr double kM2 = 889033507132.5381;              // x.var() * 10
constexpr double kVarSamp = 98781500792.50423;         // x.var(ddof=1)
constexpr double kStdSamp = 314295.24462279765;        // x.std(ddof=1)
constexpr double kVarPop = 88903350713.25381;          // x.var()

::testing::AssertionResult rel(double got, double want, double tol = 1e-13) {
    if (std::fabs(got - want) <= tol * std::fabs(want)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << std::setprecision(17) << got << " vs " << want;
}

TEST(Moments, OnePassMatchesNumPy) {
    Moments m;
    for (double x : kX) m.add(x);
    EXPECT_EQ(m.count, 10u);
    EXPECT_EQ(m.zeros, 2u);  // 0.0 and -0.0
    EXPECT_TRUE(rel(m.mean, kMean));
    EXPECT_TRUE(rel(m.m2, kM2));
    EXPECT_TRUE(rel(m.variance_sample(), kVarSamp));
    EXPECT_TRUE(rel(m.stddev_sample(), kStdSamp));
    EXPECT_TRUE(rel(m.variance_population(), kVarPop));
    EXPECT_EQ(m.min, -42.0);
    EXPECT_EQ(m.max, 1e6);
    EXPECT_EQ(m.non_null(), 10u);
}

TEST(Moments, NonFiniteAndNullCountedApart) {
    Moments m;
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    m.add(1.0);
    m.add(nan);
    m.add(inf);
    m.add(inf);
    m.add(-inf);
    m.add_null();
    m.add_null();
    m.add(3.0);
    m.add(0.0);
    EXPECT_EQ(m.count, 3u);
    EXPECT_EQ(m.nans, 1u);
    EXPECT_EQ(m.pos_infs, 2u);
    EXPECT_EQ(m.neg_infs, 1u);
    EXPECT_EQ(m.nulls, 2u);
    EXPECT_EQ(m.zeros, 1u);
    EXPECT_EQ(m.non_null(), 7u);
    EXPECT_TRUE(rel(m.mean, 4.0 / 3, 1e-15));
    EXPECT_EQ(m.min, 0.0);
    EXPECT_EQ(m.max, 3.0);
    EXPECT_TRUE(rel(m.variance_sample(), 7.0 / 3));  // deviations 1/3, 5/3, 4/3: 42/9 / 2
}

TEST(Moments, EmptyAndSingle) {
    Moments m;
    EXPECT_EQ(m.count, 0u);
    EXPECT_EQ(m.variance_population(), 0.0);
    EXPECT_TRUE(std::isnan(m.variance_sample()));
    EXPECT_TRUE(std::isnan(m.stddev_sample()));
    EXPECT_EQ(m.min, std::numeric_limits<double>::infinity());
    EXPECT_EQ(m.max, -std::numeric_limits<double>::infinity());
    m.add(5.5);
    EXPECT_EQ(m.mean, 5.5);
    EXPECT_EQ(m.m2, 0.0);
    EXPECT_TRUE(std::isnan(m.variance_sample()));
    EXPECT_EQ(m.variance_population(), 0.0);
}

TEST(Moments, MergeEqualsOnePassWhateverTheSplit) {
    Moments one;
    for (double x : kX) one.add(x);
    const size_t n = sizeof kX / sizeof kX[0];
    for (size_t cut = 0; cut <= n; cut++) {
        Moments a, b;
        for (size_t i = 0; i < cut; i++) a.add(kX[i]);
        for (size_t i = cut; i < n; i++) b.add(kX[i]);
        a.add_null();
        b.add(std::numeric_limits<double>::quiet_NaN());
        a.merge(b);
        EXPECT_EQ(a.count, one.count) << cut;
        EXPECT_EQ(a.zeros, one.zeros) << cut;
        EXPECT_EQ(a.nulls, 1u);
        EXPECT_EQ(a.nans, 1u);
        EXPECT_TRUE(rel(a.mean, kMean, 1e-12)) << cut;
        EXPECT_TRUE(rel(a.m2, kM2, 1e-12)) << cut;
        EXPECT_EQ(a.min, one.min);
        EXPECT_EQ(a.max, one.max);
    }
    // merging into and from empty is exact
    Moments empty, copy = one;
    copy.merge(empty);
    EXPECT_EQ(copy.mean, one.mean);
    EXPECT_EQ(copy.m2, one.m2);
    empty.merge(one);
    EXPECT_EQ(empty.mean, one.mean);
    EXPECT_EQ(empty.m2, one.m2);
    EXPECT_EQ(empty.min, one.min);
}

TEST(Moments, HugeValuesDoNotOverflowTheMerge) {
    Moments a, b;
    a.add(1e308);
    a.add(1e308);
    b.add(1e308);
    a.merge(b);
    EXPECT_EQ(a.count, 3u);
    EXPECT_EQ(a.mean, 1e308);
    EXPECT_EQ(a.m2, 0.0);
}

}  // namespace
}  // namespace pg_learn::test
