// Update rules checked against steps computed by hand from docs/algorithms.md.
#include "test_util.hpp"

#include <cmath>

namespace pg_learn::test {
namespace {

using core::LinearModel;
using core::Observation;

double weight(const LinearModel& m, const std::string& name) {
    const auto& names = m.feature_names();
    for (size_t i = 0; i < names.size(); i++)
        if (names[i] == name) return m.weights()[i];
    ADD_FAILURE() << "no feature " << name;
    return NAN;
}

// lr and intercept_lr are powers of two so every number below is exact.
TEST(HandSgd, TwoStepsOfSquaredLoss) {
    LinearModel m = model_of(R"({"model":"linear_regression","optimizer":{"sgd":{"lr":0.25}},"intercept_lr":0.5})");
    // p = 0, g = 2 (0 - 3) = -6; b = 0 + 0.5 * 6 = 3; w_a = 0 - 0.25 * (-6 * 2) = 3
    m.learn(num({{"a", 2}}), 3);
    EXPECT_EQ(m.intercept(), 3.0);
    EXPECT_EQ(weight(m, "a"), 3.0);
    // p = 3 + 3 * 1 = 6, g = 10; b = 3 - 5 = -2; w_a = 3 - 2.5 = 0.5; w_b = 0 - 0.25 * (10 * -1) = 2.5
    m.learn(num({{"a", 1}, {"b", -1}}), 1);
    EXPECT_EQ(m.intercept(), -2.0);
    EXPECT_EQ(weight(m, "a"), 0.5);
    EXPECT_EQ(weight(m, "b"), 2.5);
    EXPECT_EQ(m.n_seen(), 2u);
    EXPECT_EQ(m.updates(), 2u);
    // -2 + 0.5 * 4 + 2.5 * 2; unseen names are ignored when predicting
    EXPECT_EQ(m.predict(num({{"a", 4}, {"b", 2}, {"zzz", 100}})), 5.0);
    EXPECT_EQ(m.n_features(), 2u);  // predicting did not add "zzz"
    EXPECT_EQ(m.predict(Observation()), -2.0);
}

TEST(HandSgd, L2IsLazyAndUsesTheCurrentWeight) {
    LinearModel m = model_of(
        R"({"model":"linear_regression","optimizer":{"sgd":{"lr":0.25}},"intercept_lr":0.5,"l2":0.5})");
    m.learn(num({{"a", 2}}), 3);  // w_a was 0: same as without L2
    EXPECT_EQ(weight(m, "a"), 3.0);
    m.learn(num({{"b", -1}}), 1);  // a absent: its weight does not decay
    // p = 3, g = 4, b = 3 - 2 = 1; w_b = 0 - 0.25 * (4 * -1) = 1
    EXPECT_EQ(weight(m, "a"), 3.0);
    EXPECT_EQ(weight(m, "b"), 1.0);
    EXPECT_EQ(m.intercept(), 1.0);
    // p = 1 + 3 + 1 * (-1)... with {a:1, b:1}: p = 1 + 3 + 1 = 5, g = 2 (5 - 1) = 8, b = 1 - 4 = -3
    // w_a: gi = 8 * 1 + 2 * 0.5 * 3 = 11 -> 3 - 2.75 = 0.25;  w_b: gi = 8 + 1 = 9 -> 1 - 2.25 = -1.25
    m.learn(num({{"a", 1}, {"b", 1}}), 1);
    EXPECT_EQ(m.intercept(), -3.0);
    EXPECT_EQ(weight(m, "a"), 0.25);
    EXPECT_EQ(weight(m, "b"), -1.25);
}

TEST(HandSgd, L1TruncatesTowardZeroAndStopsThere) {
    LinearModel m = model_of(
        R"({"model":"linear_regression","optimizer":{"sgd":{"lr":0.25}},"intercept_lr":0.5,"l1":2})");
    // shrink = lr * l1 = 0.5.  Step 1: w_a = 3 -> 2.5
    m.learn(num({{"a", 2}}), 3);
    EXPECT_EQ(weight(m, "a"), 2.5);
    // p = 3 + 2.5 = 5.5, g = 9, b = 3 - 4.5 = -1.5
    // w_a = 2.5 - 2.25 = 0.25 -> |0.25| <= 0.5 -> exactly 0;  w_b = 0 + 2.25 = 2.25 -> 1.75
    m.learn(num({{"a", 1}, {"b", -1}}), 1);
    EXPECT_EQ(m.intercept(), -1.5);
    EXPECT_EQ(weight(m, "a"), 0.0);
    EXPECT_FALSE(std::signbit(weight(m, "a")));
    EXPECT_EQ(weight(m, "b"), 1.75);
    // A negative weight moves up: {b: 1}, y = 0: p = -1.5 + 1.75 = 0.25, g = 0.5; w_b = 1.75 - 0.125 = 1.625 -> 1.125
    m.learn(num({{"b", 1}}), 0);
    EXPECT_EQ(weight(m, "b"), 1.125);
    EXPECT_EQ(weight(m, "a"), 0.0);  // absent: untouched
}

TEST(HandSgd, GradientClipping) {
    LinearModel m = model_of(
        R"({"model":"linear_regression","optimizer":{"sgd":{"lr":0.25}},"intercept_lr":0.5,"clip_gradient":1})");
    // g = -6 clipped to -1: b = 0.5, w_a = 0.25 * 1 * 2 = 0.5
    m.learn(num({{"a", 2}}), 3);
    EXPECT_EQ(m.intercept(), 0.5);
    EXPECT_EQ(weight(m, "a"), 0.5);
    // p = 0.5 + 0.5 * 2 = 1.5, y = 1.75: g = -0.5, inside the clip: b = 0.75, w_a = 0.5 + 0.25 = 0.75
    m.learn(num({{"a", 2}}), 1.75);
    EXPECT_EQ(m.intercept(), 0.75);
    EXPECT_EQ(weight(m, "a"), 0.75);
    // upward clip: p = 0.75 + 0.75 * 2 = 2.25, y = -10: g = 24.5 -> 1: b = 0.25, w_a = 0.75 - 0.5 = 0.25
    m.learn(num({{"a", 2}}), -10);
    EXPECT_EQ(m.intercept(), 0.25);
    EXPECT_EQ(weight(m, "a"), 0.25);
}

TEST(HandSgd, InterceptLrZeroFreezesTheIntercept) {
    LinearModel m = model_of(R"({"model":"linear_regression","intercept_init":1.5,"intercept_lr":0})");
    for (int i = 0; i < 10; i++) m.learn(num({{"a", 1}}), 10);
    EXPECT_EQ(m.intercept(), 1.5);
    EXPECT_GT(weight(m, "a"), 0.0);
}

TEST(HandLogistic, OneStepOfLogLoss) {
    LinearModel m = model_of(R"({"model":"logistic_regression","optimizer":{"sgd":{"lr":1}},"intercept_lr":1})");
    EXPECT_EQ(m.predict(num({{"a", 1}})), 0.5);
    // p = 0.5, g = p - y = -0.5: b = 0.5, w_a = 0.5
    m.learn(num({{"a", 1}}), 1);
    EXPECT_EQ(m.intercept(), 0.5);
    EXPECT_EQ(weight(m, "a"), 0.5);
    EXPECT_NEAR(m.predict(num({{"a", 1}})), 0.7310585786300049, 1e-16);   // sigmoid(1)
    EXPECT_NEAR(m.predict(num({{"a", -3}})), 0.2689414213699951, 1e-16);  // sigmoid(-1)
    // Extreme scores stay finite probabilities.
    EXPECT_EQ(m.predict(num({{"a", 4000}})), 1.0);
    EXPECT_EQ(m.predict(num({{"a", -4000}})), 0.0);
    // y = 0 from p = sigmoid(1): g = 0.7310585786300049
    m.learn(num({{"a", 1}}), 0);
    EXPECT_NEAR(m.intercept(), 0.5 - 0.7310585786300049, 1e-15);
    EXPECT_NEAR(weight(m, "a"), 0.5 - 0.7310585786300049, 1e-15);
}

TEST(HandAdagrad, FirstStepIsLrTimesSign) {
    LinearModel m = model_of(R"({"model":"linear_regression","optimizer":{"adagrad":{"lr":0.5}}})");
    // g = -6, gi = -12, G = 144: w = 0.5 * 12 / sqrt(144 + 1e-8)
    m.learn(num({{"a", 2}}), 3);
    EXPECT_NEAR(weight(m, "a"), 6.0 / std::sqrt(144.0 + 1e-8), 1e-15);
    EXPECT_NEAR(m.intercept(), 0.06, 1e-15);
    auto j = m.to_json();
    EXPECT_EQ(j["optimizer_state"]["g2"][0].get<double>(), 144.0);
}

TEST(HandAdam, FirstStepIsAboutLr) {
    LinearModel m = model_of(R"({"model":"linear_regression","optimizer":"adam"})");
    // gi = -12: m = -1.2, v = 0.144; rate = 0.1 sqrt(0.001) / 0.1; w = rate * 1.2 / (sqrt(0.144) + 1e-8) ~ 0.1
    m.learn(num({{"a", 2}}), 3);
    const double expected = 0.1 * std::sqrt(1 - 0.999) / (1 - 0.9) * 1.2 / (std::sqrt(0.144) + 1e-8);
    EXPECT_NEAR(weight(m, "a"), expected, 1e-15);
    EXPECT_NEAR(weight(m, "a"), 0.1, 1e-7);
    auto j = m.to_json();
    EXPECT_NEAR(j["optimizer_state"]["m"][0].get<double>(), -1.2, 1e-15);
    EXPECT_NEAR(j["optimizer_state"]["v"][0].get<double>(), 0.144, 1e-15);
}

TEST(HandFtrl, L1BandKeepsTheWeightExactlyZero) {
    LinearModel m = model_of(
        R"({"model":"linear_regression","optimizer":{"ftrl":{"alpha":1,"beta":1,"l1":1,"l2":0}}})");
    // step 1: p = 0, g = -0.5 = gi; sigma = sqrt(0.25) = 0.5; z = -0.5; n = 0.25: |z| <= 1 -> w = 0
    m.learn(num({{"a", 1}}), 0.25);
    EXPECT_EQ(weight(m, "a"), 0.0);
    EXPECT_EQ(m.to_json()["optimizer_state"]["z"][0].get<double>(), -0.5);
    EXPECT_EQ(m.to_json()["optimizer_state"]["n"][0].get<double>(), 0.25);
    // step 2: b = 0.005, g = 2 (0.005 - 0.25) = -0.49; z = -0.99, still inside the band
    m.learn(num({{"a", 1}}), 0.25);
    EXPECT_EQ(weight(m, "a"), 0.0);
    EXPECT_NEAR(m.to_json()["optimizer_state"]["z"][0].get<double>(), -0.99, 1e-15);
    // step 3: b = 0.0099, g = -0.4802; z = -1.4702 leaves the band, n = 0.4901 + 0.4802^2
    m.learn(num({{"a", 1}}), 0.25);
    const double n = 0.25 + 0.49 * 0.49 + 0.4802 * 0.4802;
    EXPECT_NEAR(weight(m, "a"), 0.4702 / (1 + std::sqrt(n)), 1e-14);
    EXPECT_GT(weight(m, "a"), 0.0);
}

TEST(HandFtrl, FirstStepWithDefaults) {
    LinearModel m = model_of(R"({"model":"linear_regression","optimizer":{"ftrl":{"alpha":1}}})");
    // gi = -0.5, z = -0.5, n = 0.25, l1 = 0, l2 = 1: w = 0.5 / ((1 + 0.5) / 1 + 1) = 0.2
    m.learn(num({{"a", 1}}), 0.25);
    EXPECT_NEAR(weight(m, "a"), 0.2, 1e-16);
    // The second step uses the stored weight in sigma * w: z = -0.5 + gi - sigma * 0.2
    const double b = 0.005, p = b + 0.2, g = 2 * (p - 0.25);
    const double sigma = std::sqrt(0.25 + g * g) - 0.5;
    const double z = -0.5 + g - sigma * 0.2, nn = 0.25 + g * g;
    m.learn(num({{"a", 1}}), 0.25);
    EXPECT_NEAR(weight(m, "a"), -z / (1 + std::sqrt(nn) + 1), 1e-15);
}

TEST(HandScale, ValueIsStandardisedAfterItsOwnUpdate) {
    LinearModel m = model_of(
        R"({"model":"linear_regression","optimizer":{"sgd":{"lr":0.25}},"intercept_lr":0.5,"scale":true})");
    // first value: count 1, variance 0 -> scaled to 0: the weight does not move
    m.learn(num({{"a", 5}}), 2);
    EXPECT_EQ(weight(m, "a"), 0.0);
    EXPECT_EQ(m.intercept(), 2.0);  // g = -4
    // second value 7: mean 6, M2 = 2, sd = 1 -> scaled 1; p = 2, y = 4: g = -4; w = 1; b = 4
    m.learn(num({{"a", 7}}), 4);
    EXPECT_EQ(weight(m, "a"), 1.0);
    EXPECT_EQ(m.intercept(), 4.0);
    // predicting uses the statistics without updating them: (8 - 6) / 1 = 2 -> 4 + 2
    EXPECT_EQ(m.predict(num({{"a", 8}})), 6.0);
    EXPECT_EQ(m.predict(num({{"a", 8}})), 6.0);
    auto fs = m.to_json()["feature_stats"];
    EXPECT_EQ(fs["count"][0].get<double>(), 2.0);
    EXPECT_EQ(fs["mean"][0].get<double>(), 6.0);
    EXPECT_EQ(fs["m2"][0].get<double>(), 2.0);
}

TEST(HandScale, CategoricalValuesAreNeverScaled) {
    LinearModel m = model_of(
        R"({"model":"linear_regression","optimizer":{"sgd":{"lr":0.25}},"intercept_lr":0.5,"scale":true})");
    Observation o;
    o.add_category("color", "red");
    m.learn(o, 2);  // g = -4: w = 0.25 * 4 * 1 = 1 (unscaled 1, not 0)
    EXPECT_EQ(weight(m, "color=red"), 1.0);
}

TEST(HandDivergence, NonFiniteWeightsAreErrorsNotStoredNaN) {
    // (the default clip_gradient, 1e12, would keep this one finite)
    LinearModel m = model_of(R"({"model":"linear_regression","optimizer":{"sgd":{"lr":1000}},"clip_gradient":1e300})");
    expect_error(ErrorKind::NumericRange, [&] { m.learn(num({{"a", 1e200}}), 1e300); });
    LinearModel p = model_of(R"({"model":"linear_regression","intercept_init":1e12})");
    p.learn(num({{"a", 1e150}}), 0);  // g = 2e12 clipped to 1e12: w_a = -0.01 * 1e12 * 1e150, finite
    EXPECT_DOUBLE_EQ(p.weights()[0], -1e160);
    // now z = w_a * 1e160 overflows: the prediction is not finite
    expect_error(ErrorKind::NumericRange, [&] { p.learn(num({{"a", 1e160}}), 0); });
}

}  // namespace
}  // namespace pg_learn::test
