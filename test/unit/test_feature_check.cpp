// Feature mismatches (Model::check_features): unknown features, unknown categories, missing
// features and type mismatches per observation, the names they report and the "did you mean" hint.
#include "test_util.hpp"

#include <string>

namespace pg_learn::test {
namespace {

using core::FeatureCheck;
using core::LinearModel;
using core::Observation;

// A model that learned price (numeric), month (categorical: jan, feb) and qty (numeric).
LinearModel trained(const std::string& spec = R"({"model":"linear_regression"})") {
    LinearModel m = model_of(spec);
    Observation o;
    for (const char* month : {"jan", "feb"}) {
        o.clear();
        o.add_numeric("price", 12.5);
        o.add_category("month", month);
        o.add_numeric("qty", 3);
        m.learn(o, 1.0);
    }
    return m;
}

FeatureCheck check(const LinearModel& m, const Observation& o, bool name_missing = true) {
    FeatureCheck c;
    m.check_features(o, c, name_missing);
    return c;
}

TEST(FeatureCheck, AMatchingObservationHasNoIssue) {
    LinearModel m = trained();
    Observation o;
    o.add_numeric("price", 10);
    o.add_category("month", "feb");
    o.add_numeric("qty", 1);
    FeatureCheck c = check(m, o);
    EXPECT_TRUE(c.names_known);
    EXPECT_FALSE(c.any());
    EXPECT_TRUE(c.checked);
}

// user did: a misspelled key ("prise" for "price")
TEST(FeatureCheck, MisspelledKeyIsUnknownAndItsFeatureMissing) {
    LinearModel m = trained();
    Observation o;
    o.add_numeric("prise", 10);
    o.add_category("month", "jan");
    o.add_numeric("qty", 1);
    FeatureCheck c = check(m, o);
    EXPECT_EQ(c.unknown_features, 1u);
    EXPECT_EQ(c.missing_features, 1u);
    EXPECT_EQ(c.unknown_categories, 0u);
    EXPECT_EQ(c.type_mismatches, 0u);
    EXPECT_EQ(c.unknown_feature, "prise");
    EXPECT_EQ(c.missing_feature, "price");
    EXPECT_EQ(m.closest_feature("prise"), "price");
}

// user did: "MONTH" instead of "month"
TEST(FeatureCheck, KeyInAnotherCaseIsUnknownAndTheHintNamesTheKnownOne) {
    LinearModel m = trained();
    Observation o;
    o.add_numeric("price", 10);
    o.add_category("MONTH", "jan");
    o.add_numeric("qty", 1);
    FeatureCheck c = check(m, o);
    EXPECT_EQ(c.unknown_features, 1u);
    EXPECT_EQ(c.missing_features, 1u);
    EXPECT_EQ(c.unknown_feature, "MONTH");
    EXPECT_EQ(c.missing_feature, "month");
    EXPECT_EQ(m.closest_feature("MONTH"), "month");
    EXPECT_EQ(m.closest_feature("Qty"), "qty");
    EXPECT_EQ(m.closest_feature("weather"), "");  // nothing close
}

TEST(FeatureCheck, UnknownCategoryOfAKnownCategoricalKey) {
    LinearModel m = trained();
    Observation o;
    o.add_numeric("price", 10);
    o.add_category("month", "JAN");
    o.add_numeric("qty", 1);
    FeatureCheck c = check(m, o);
    EXPECT_EQ(c.unknown_categories, 1u);
    EXPECT_EQ(c.unknown_features, 0u);
    EXPECT_EQ(c.missing_features, 0u);  // the key is there, with a value never learned
    EXPECT_EQ(c.category_key, "month");
    EXPECT_EQ(c.category_value, "JAN");
    EXPECT_EQ(m.closest_feature("month=JAN"), "month=jan");
}

// user did: a number sent as a string ({"price": "12.5"})
TEST(FeatureCheck, NumberSentAsStringIsATypeMismatch) {
    LinearModel m = trained();
    Observation o;
    o.add_category("price", "12.5");
    o.add_category("month", "jan");
    o.add_numeric("qty", 1);
    FeatureCheck c = check(m, o);
    EXPECT_EQ(c.type_mismatches, 1u);
    EXPECT_EQ(c.unknown_features, 0u);
    EXPECT_EQ(c.unknown_categories, 0u);
    EXPECT_EQ(c.missing_features, 0u);
    EXPECT_EQ(c.mismatch, "price");
    EXPECT_TRUE(c.mismatch_is_string);
    EXPECT_EQ(c.mismatch_value, "12.5");
}

TEST(FeatureCheck, CategoryKeySentAsNumberIsATypeMismatch) {
    LinearModel m = trained();
    Observation o;
    o.add_numeric("price", 1);
    o.add_numeric("month", 1);
    o.add_numeric("qty", 1);
    FeatureCheck c = check(m, o);
    EXPECT_EQ(c.type_mismatches, 1u);
    EXPECT_EQ(c.mismatch, "month");
    EXPECT_FALSE(c.mismatch_is_string);
    EXPECT_EQ(c.missing_features, 0u);
}

// user did: a missing column
TEST(FeatureCheck, MissingKeysAreCountedAndTheFirstNamed) {
    LinearModel m = trained();
    Observation o;
    o.add_numeric("price", 10);
    FeatureCheck c = check(m, o);
    EXPECT_EQ(c.missing_features, 2u);
    EXPECT_EQ(c.unknown_features, 0u);
    EXPECT_EQ(c.missing_feature, "month");
    // Without name_missing, the count alone.
    FeatureCheck quick = check(m, o, false);
    EXPECT_EQ(quick.missing_features, 2u);
    EXPECT_EQ(quick.missing_feature, "");
}

TEST(FeatureCheck, NullValuesArePresentNotMissingAndNeverUnknown) {
    LinearModel m = trained();
    Observation o;
    o.add_missing("price");
    o.add_missing("month");
    o.add_numeric("qty", 1);
    o.add_missing("never_learned");
    FeatureCheck c = check(m, o);
    EXPECT_FALSE(c.any());
}

TEST(FeatureCheck, IgnoredKeysAreNeitherUnknownNorMissing) {
    LinearModel m = trained(R"({"model":"linear_regression","ignore":["id"]})");
    Observation o;
    o.add_numeric("id", 7);
    o.add_numeric("price", 10);
    o.add_category("month", "jan");
    o.add_numeric("qty", 1);
    EXPECT_FALSE(check(m, o).any());
}

TEST(FeatureCheck, UntrainedModelChecksNothing) {
    LinearModel m = model_of(R"({"model":"logistic_regression"})");
    FeatureCheck c = check(m, num({{"a", 1}}));
    EXPECT_FALSE(c.checked);
    EXPECT_FALSE(c.names_known);
    EXPECT_FALSE(c.any());
}

TEST(FeatureCheck, VerdictsFollowTheModelAsItLearns) {
    LinearModel m = trained();
    Observation o;
    o.add_numeric("price", 10);
    o.add_category("month", "jan");
    o.add_numeric("qty", 1);
    o.add_numeric("discount", 0.1);
    EXPECT_EQ(check(m, o).unknown_features, 1u);
    EXPECT_EQ(check(m, o).unknown_features, 1u);  // the cached verdicts give the same answer
    m.learn(o, 2.0);
    EXPECT_FALSE(check(m, o).any());
    // A different name at a position replaces the cached verdict.
    Observation p;
    p.add_numeric("price", 10);
    p.add_category("month", "mar");
    p.add_numeric("qty", 1);
    p.add_numeric("discount", 0.1);
    FeatureCheck c = check(m, p);
    EXPECT_EQ(c.unknown_categories, 1u);
    EXPECT_EQ(c.unknown_features, 0u);
}

TEST(FeatureCheck, CopiesAndMergesKeepTheirOwnView) {
    LinearModel a = trained();
    LinearModel b = trained();
    b.learn(num({{"extra", 1}}), 1.0);
    Observation o = num({{"extra", 2}});
    EXPECT_EQ(check(a, o).unknown_features, 1u);
    LinearModel c = a;
    c.merge(b);
    EXPECT_EQ(check(c, o).unknown_features, 0u);
    EXPECT_EQ(check(a, o).unknown_features, 1u);
}

TEST(FeatureCheck, DenseArraysAgainstNamedFeatures) {
    LinearModel m = model_of(R"({"model":"linear_regression"})");
    const double x[3] = {1, 2, 3};
    m.learn_dense(x, 3, 1.0);
    FeatureCheck c;
    m.check_features_dense(3, c);
    EXPECT_TRUE(c.names_known);
    EXPECT_FALSE(c.any());
    // A model learned from named features scored with an array: every position is unknown.
    LinearModel named = trained();
    named.check_features_dense(2, c);
    EXPECT_EQ(c.unknown_features, 2u);
    EXPECT_EQ(c.missing_features, 3u);
    EXPECT_EQ(c.unknown_feature, "x1");
    EXPECT_EQ(c.missing_feature, "price");
    named.check_features_dense(2, c);  // cached
    EXPECT_EQ(c.unknown_features, 2u);
    // A model learned from jsonb keys x1, x2 accepts an array of two.
    LinearModel xs = model_of(R"({"model":"linear_regression"})");
    xs.learn(num({{"x1", 1}, {"x2", 2}}), 1.0);
    xs.check_features_dense(2, c);
    EXPECT_FALSE(c.any());
    xs.check_features_dense(1, c);
    EXPECT_EQ(c.missing_features, 1u);
    EXPECT_EQ(c.missing_feature, "x2");
}

TEST(FeatureCheck, HashedModelsKnowTheNamesTheyRemember) {
    LinearModel m = trained(R"({"model":"linear_regression","hash_bits":10})");
    Observation o;
    o.add_numeric("prise", 10);
    o.add_category("month", "mar");
    FeatureCheck c = check(m, o);
    EXPECT_TRUE(c.names_known);
    EXPECT_EQ(c.unknown_features, 1u);
    EXPECT_EQ(c.unknown_categories, 1u);
    EXPECT_EQ(c.missing_features, 2u);  // price and qty

    // Past the names a hashed model remembers, an unknown name cannot be told from a forgotten
    // one: only missing features are counted (against the names remembered).
    LinearModel big = model_of(R"({"model":"linear_regression","hash_bits":12})");
    Observation many;
    for (size_t i = 0; i < core::kMaxRememberedNames + 5; i++) {
        many.clear();
        many.add_numeric("f" + std::to_string(i), 1);
        big.learn(many, 1.0);
    }
    FeatureCheck h = check(big, num({{"never_seen", 1}}));
    EXPECT_TRUE(h.checked);
    EXPECT_FALSE(h.names_known);
    EXPECT_EQ(h.unknown_features, 0u);
    EXPECT_EQ(h.missing_features, core::kMaxRememberedNames);
}

TEST(FeatureCheck, SoftmaxModelsCheckAsTheOthers) {
    LinearModel m = model_of(R"({"model":"softmax_regression"})");
    Observation o;
    o.add_category("color", "red");
    o.add_numeric("size", 2);
    m.learn(o, core::Label::of_text("a"));
    Observation p;
    p.add_category("colour", "red");
    p.add_category("size", "2");
    FeatureCheck c = check(m, p);
    EXPECT_EQ(c.unknown_features, 1u);
    EXPECT_EQ(c.type_mismatches, 1u);
    EXPECT_EQ(c.missing_features, 1u);
    EXPECT_EQ(c.missing_feature, "color");
    EXPECT_EQ(m.closest_feature("colour"), "color");
}

}  // namespace
}  // namespace pg_learn::test
