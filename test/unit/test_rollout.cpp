// Rollout routing: the key's place in [0, 1) (XXH64, pinned by values from an independent Python
// implementation of XXH64's specification), slices per challenger, and share validation.
#include "test_util.hpp"

#include "core/registry/rollout.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace pg_learn::test {
namespace {

using core::route;
using core::route_fraction;

TEST(Rollout, FractionKnownAnswers) {
    // xxh64(model || 0x00 || key) >> 11, times 2^-53: computed by a separate Python XXH64.
    EXPECT_DOUBLE_EQ(route_fraction("churn", "42"), 0.6465457482584583);
    EXPECT_DOUBLE_EQ(route_fraction("churn", "43"), 0.36418371522549975);
    EXPECT_DOUBLE_EQ(route_fraction("fraud.v2", "customer-0001"), 0.5897073827241467);
    EXPECT_DOUBLE_EQ(route_fraction("m", ""), 0.049813889801497924);
    // Exactly the hash's top 53 bits (XXH64 = 0xa58405ac234f3d05 by the Python implementation).
    EXPECT_EQ(route_fraction("churn", "42"), static_cast<double>(0xa58405ac234f3d05ull >> 11) * 0x1.0p-53);
}

TEST(Rollout, FractionSeparatesModelFromKey) {
    // The zero byte keeps ("ab", "c") and ("a", "bc") apart.
    EXPECT_NE(route_fraction("ab", "c"), route_fraction("a", "bc"));
    EXPECT_NE(route_fraction("churn", "42"), route_fraction("fraud", "42"));
}

TEST(Rollout, FractionIsUniform) {
    // 100,000 keys in 20 buckets: chi-square with 19 degrees of freedom stays far below 43.8
    // (p = 0.001); every fraction in [0, 1).
    constexpr int kKeys = 100000, kBuckets = 20;
    std::vector<int> counts(kBuckets, 0);
    for (int i = 0; i < kKeys; i++) {
        double f = route_fraction("churn", std::to_string(i));
        ASSERT_GE(f, 0.0);
        ASSERT_LT(f, 1.0);
        counts[static_cast<int>(f * kBuckets)]++;
    }
    double expected = double(kKeys) / kBuckets, chi2 = 0;
    for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
    EXPECT_LT(chi2, 43.8);
}

TEST(Rollout, SlicesInOrder) {
    std::vector<double> shares = {0.1, 0.25};
    EXPECT_EQ(route(0.0, shares), 0u);
    EXPECT_EQ(route(0.0999, shares), 0u);
    EXPECT_EQ(route(0.1, shares), 1u);
    EXPECT_EQ(route(0.3499, shares), 1u);
    EXPECT_EQ(route(0.35, shares), 2u);  // the champion
    EXPECT_EQ(route(0.99, shares), 2u);
    EXPECT_EQ(route(0.5, {}), 0u);       // no challenger: always the champion
}

TEST(Rollout, ShareOfKeysMatchesShare) {
    std::vector<double> shares = {0.2};
    int challenger = 0;
    for (int i = 0; i < 50000; i++)
        if (route(route_fraction("m", std::to_string(i)), shares) == 0) challenger++;
    // Binomial(50000, 0.2): sd ~ 89; 5 sd.
    EXPECT_NEAR(challenger, 10000, 450);
}

TEST(Rollout, SharesValidated) {
    EXPECT_NO_THROW(core::check_shares({0.5, 0.49}));
    EXPECT_NO_THROW(core::check_shares({}));
    EXPECT_THROW(core::check_shares({0.0}), core::Error);
    EXPECT_THROW(core::check_shares({1.0}), core::Error);
    EXPECT_THROW(core::check_shares({std::nan("")}), core::Error);
    EXPECT_THROW(core::check_shares({0.5, 0.5}), core::Error);
    EXPECT_THROW(core::check_shares({0.6, 0.6}), core::Error);
}

TEST(Rollout, LabelsCheckedByKind) {
    using core::ModelKind;
    EXPECT_NO_THROW(core::check_label(ModelKind::LinearRegression, 3.5));
    EXPECT_NO_THROW(core::check_label(ModelKind::LogisticRegression, 1.0));
    EXPECT_NO_THROW(core::check_label(ModelKind::LogisticRegression, 0.0));
    EXPECT_THROW(core::check_label(ModelKind::LogisticRegression, 0.5), core::Error);
    EXPECT_THROW(core::check_label(ModelKind::LinearRegression, std::nan("")), core::Error);
    EXPECT_THROW(core::check_label(ModelKind::LinearRegression, INFINITY), core::Error);
    core::ModelKind k = ModelKind::LinearRegression;
    EXPECT_TRUE(core::model_kind_from_name("logistic_regression", k));
    EXPECT_EQ(k, ModelKind::LogisticRegression);
    EXPECT_FALSE(core::model_kind_from_name("svm", k));
}

}  // namespace
}  // namespace pg_learn::test
