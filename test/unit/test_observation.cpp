// Observations and feature resolution: names, missing-value policies, ignore list, bad values and labels.
#include "test_util.hpp"

#include "core/common/text.hpp"

#include <cmath>
#include <limits>

namespace pg_learn::test {
namespace {

using core::LinearModel;
using core::Observation;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

double weight(const LinearModel& m, const std::string& name) {
    const auto& names = m.feature_names();
    for (size_t i = 0; i < names.size(); i++)
        if (names[i] == name) return m.weights()[i];
    return NAN;
}

bool knows(const LinearModel& m, const std::string& name) {
    for (const auto& n : m.feature_names())
        if (n == name) return true;
    return false;
}

TEST(Observation, NamesKeysAndValues) {
    Observation o;
    o.add_numeric("age", 42.5);
    o.add_category("color", "red");
    o.add_missing("income");
    o.add_category("empty", "");
    ASSERT_EQ(o.size(), 4u);
    EXPECT_EQ(o.name(o[0]), "age");
    EXPECT_EQ(o.key(o[0]), "age");
    EXPECT_EQ(o[0].value, 42.5);
    EXPECT_EQ(o[0].type, core::FeatureType::Numeric);
    EXPECT_FALSE(o[0].missing);
    EXPECT_EQ(o.name(o[1]), "color=red");
    EXPECT_EQ(o.key(o[1]), "color");
    EXPECT_EQ(o[1].value, 1.0);
    EXPECT_EQ(o[1].type, core::FeatureType::Categorical);
    EXPECT_EQ(o.name(o[2]), "income");
    EXPECT_TRUE(o[2].missing);
    EXPECT_EQ(o.name(o[3]), "empty=");
    o.clear();
    EXPECT_EQ(o.size(), 0u);
    o.add_numeric("x", 1);
    EXPECT_EQ(o.name(o[0]), "x");
}

TEST(Observation, NaNAndInfinityRejectedNamingTheFeature) {
    Observation o;
    for (double bad : {kNaN, kInf, -kInf}) {
        std::string msg = expect_error(ErrorKind::NumericRange, [&] { o.add_numeric("weight_kg", bad); });
        EXPECT_NE(msg.find("weight_kg"), std::string::npos) << msg;
    }
    EXPECT_EQ(o.size(), 0u);
    o.add_numeric("big", std::numeric_limits<double>::max());
    o.add_numeric("tiny", std::numeric_limits<double>::denorm_min());
    EXPECT_EQ(o.size(), 2u);
}

// A long name is quoted cut at 64 bytes, at a character boundary: never half a character.
TEST(Observation, LongMultiByteNameIsCutAtACharacterInMessages) {
    const std::string e_acute = "\xc3\xa9";                 // 2 bytes
    const std::string grin = "\xf0\x9f\x98\x80";            // 4 bytes
    struct Case {
        std::string name, quoted;
    };
    for (const Case& c : {Case{std::string(63, 'a') + e_acute + "z", std::string(63, 'a')},
                          Case{std::string(62, 'a') + grin + "z", std::string(62, 'a')},
                          Case{std::string(61, 'a') + grin, std::string(61, 'a')},
                          Case{std::string(60, 'a') + grin + "z", std::string(60, 'a') + grin},
                          Case{[&] { std::string s; for (int i = 0; i < 40; i++) s += e_acute; return s; }(),
                               [&] { std::string s; for (int i = 0; i < 32; i++) s += e_acute; return s; }()}}) {
        Observation o;
        std::string msg = expect_error(ErrorKind::NumericRange, [&] { o.add_numeric(c.name, kNaN); });
        EXPECT_NE(msg.find("feature \"" + c.quoted + "\" is NaN"), std::string::npos) << msg;
        EXPECT_TRUE(core::is_valid_utf8(msg)) << msg;

        LinearModel m = model_of(R"({"model":"linear_regression","missing":"error"})");
        Observation miss;
        miss.add_missing(c.name);
        msg = expect_error(ErrorKind::NullValue, [&] { m.learn(miss, 1); });
        EXPECT_NE(msg.find("feature \"" + c.quoted + "\" is missing (NULL)"), std::string::npos) << msg;
        EXPECT_TRUE(core::is_valid_utf8(msg)) << msg;
    }
    // short names are quoted whole
    Observation o;
    std::string msg = expect_error(ErrorKind::NumericRange, [&] { o.add_numeric("prix_€", kInf); });
    EXPECT_NE(msg.find("feature \"prix_€\" is infinite"), std::string::npos) << msg;
}

// A model remembers only UTF-8 names without NUL bytes (what its text form and decoding
// require); an unknown name that is not UTF-8 is still just unknown when predicting.
TEST(Observation, ModelsRememberOnlyUtf8Names) {
    LinearModel m = model_of(R"({"model":"linear_regression"})");
    m.learn(num({{"a", 1}}), 1);
    const std::string before = m.to_text();
    for (const std::string& bad : {std::string("caf\xe9"), std::string("\xff"), std::string("x\xed\xa0\x80"),
                                   std::string("n\0ul", 4)}) {
        SCOPED_TRACE(testing::PrintToString(bad));
        Observation o = num({{"a", 2}});
        o.add_numeric(bad, 1);
        std::string msg = expect_error(ErrorKind::InvalidText, [&] { m.learn(o, 1); });
        EXPECT_TRUE(msg.find("UTF-8") != std::string::npos || msg.find("NUL") != std::string::npos) << msg;
        EXPECT_EQ(m.predict(o), m.predict(num({{"a", 2}})));  // unknown, so weight 0
        Observation c;
        c.add_category("city", bad);
        expect_error(ErrorKind::InvalidText, [&] { m.learn(c, 1); });
        // the same for a hashed model, which remembers names for ml_info
        LinearModel h = model_of(R"({"model":"linear_regression","hash_bits":4})");
        expect_error(ErrorKind::InvalidText, [&] { h.learn(o, 1); });
    }
    EXPECT_EQ(m.feature_names(), std::vector<std::string>{"a"});
    EXPECT_EQ(m.n_seen(), 1u);
    EXPECT_EQ(m.to_text(), before);
    Observation ok = num({{"café", 1}, {"€", 2}, {"\xf0\x9f\x98\x80", 3}});
    m.learn(ok, 1);
    EXPECT_EQ(m.feature_names().size(), 4u);
    const std::string text = m.to_text();
    EXPECT_EQ(encode(LinearModel::from_text(text.data(), text.size())), encode(m));
}

TEST(Observation, FeatureNameLengthLimit) {
    Observation o;
    std::string longest(core::kMaxFeatureNameBytes, 'n');
    o.add_numeric(longest, 1);
    expect_error(ErrorKind::ProgramLimit, [&] { o.add_numeric(longest + "n", 1); });
    // the limit counts the whole "key=value"
    std::string key(core::kMaxFeatureNameBytes - 2, 'k');
    o.add_category(key, "v");
    expect_error(ErrorKind::ProgramLimit, [&] { o.add_category(key, "vv"); });
    expect_error(ErrorKind::ProgramLimit, [&] { o.add_missing(longest + "n"); });
}

TEST(Labels, NonFiniteLabelsRejected) {
    for (const char* spec : {R"({"model":"linear_regression"})", R"({"model":"logistic_regression"})"}) {
        LinearModel m = model_of(spec);
        for (double bad : {kNaN, kInf, -kInf})
            expect_error(ErrorKind::NumericRange, [&] { m.learn(num({{"a", 1}}), bad); });
        double x[] = {1.0, 2.0};
        expect_error(ErrorKind::NumericRange, [&] { m.learn_dense(x, 2, kNaN); });
        EXPECT_EQ(m.n_seen(), 0u);
        EXPECT_EQ(m.n_features(), 0u);  // nothing was added by the rejected example
        EXPECT_EQ(m.dense_dim(), 0u);
    }
}

TEST(Labels, ClassifierLabelsMustBeZeroOrOne) {
    LinearModel m = model_of(R"({"model":"logistic_regression"})");
    for (double bad : {0.5, -1.0, 2.0, 1.0000000000000002, -0.0000001}) {
        std::string msg = expect_error(ErrorKind::InvalidParameter, [&] { m.learn(num({{"a", 1}}), bad); });
        EXPECT_NE(msg.find("label"), std::string::npos) << msg;
    }
    double x[] = {1.0};
    expect_error(ErrorKind::InvalidParameter, [&] { m.learn_dense(x, 1, 3.0); });
    EXPECT_EQ(m.n_seen(), 0u);
    m.learn(num({{"a", 1}}), 0.0);
    m.learn(num({{"a", 1}}), 1.0);
    m.learn(num({{"a", 1}}), -0.0);
    EXPECT_EQ(m.n_seen(), 3u);
    // a regression accepts any finite label
    LinearModel r = model_of(R"({"model":"linear_regression"})");
    r.learn(num({{"a", 1}}), -123.456);
    r.learn(num({{"a", 1}}), 1e10);
    EXPECT_EQ(r.n_seen(), 2u);
}

TEST(Missing, ZeroLeavesTheFeatureOut) {
    LinearModel m = model_of(R"({"model":"linear_regression"})");
    LinearModel ref = model_of(R"({"model":"linear_regression"})");
    Observation o = num({{"a", 2}});
    o.add_missing("b");
    m.learn(o, 3);
    ref.learn(num({{"a", 2}}), 3);
    EXPECT_FALSE(knows(m, "b"));
    EXPECT_EQ(m.n_features(), 1u);
    EXPECT_EQ(bits(weight(m, "a")), bits(weight(ref, "a")));
    EXPECT_EQ(bits(m.intercept()), bits(ref.intercept()));
    // a known feature given as missing contributes nothing to a prediction
    m.learn(num({{"a", 1}, {"b", 5}}), 1);
    Observation p = num({{"a", 1}});
    p.add_missing("b");
    EXPECT_EQ(bits(m.predict(p)), bits(m.intercept() + weight(m, "a")));
}

TEST(Missing, MeanImputesTheRunningMeanWithoutUpdatingIt) {
    const char* spec = R"({"model":"linear_regression","optimizer":{"sgd":{"lr":0.25}},"intercept_lr":0.5,"missing":"mean"})";
    LinearModel m = model_of(spec);
    LinearModel ref = model_of(spec);
    for (auto* mm : {&m, &ref}) {
        mm->learn(num({{"b", 2}}), 0);
        mm->learn(num({{"b", 4}}), 0);
    }
    Observation o = num({{"a", 1}});
    o.add_missing("b");
    m.learn(o, 1);
    ref.learn(num({{"a", 1}, {"b", 3}}), 1);  // the mean of 2 and 4, given explicitly
    EXPECT_EQ(bits(weight(m, "b")), bits(weight(ref, "b")));
    EXPECT_EQ(bits(weight(m, "a")), bits(weight(ref, "a")));
    EXPECT_EQ(bits(m.intercept()), bits(ref.intercept()));
    // ... but m's statistic of b did not count the imputed value, ref's did
    auto fs = m.to_json()["feature_stats"];
    auto rs = ref.to_json()["feature_stats"];
    EXPECT_EQ(fs["count"][0].get<double>(), 2.0);
    EXPECT_EQ(fs["mean"][0].get<double>(), 3.0);
    EXPECT_EQ(fs["m2"][0].get<double>(), 2.0);
    EXPECT_EQ(rs["count"][0].get<double>(), 3.0);
    // predicting: missing b is worth w_b * 3
    Observation p;
    p.add_missing("b");
    EXPECT_EQ(bits(m.predict(p)), bits(m.intercept() + weight(m, "b") * 3.0));
    // a feature never seen has no mean: it is left out and not added to the dictionary
    Observation q = num({{"a", 1}});
    q.add_missing("never");
    m.learn(q, 0);
    EXPECT_FALSE(knows(m, "never"));
}

TEST(Missing, MeanWithScalingImputesZero) {
    LinearModel m = model_of(R"({"model":"linear_regression","missing":"mean","scale":true})");
    m.learn(num({{"b", 2}}), 0);
    m.learn(num({{"b", 4}}), 1);
    Observation p;
    p.add_missing("b");
    EXPECT_EQ(m.predict(p), m.intercept());
}

TEST(Missing, ErrorRaisesNullValue) {
    LinearModel m = model_of(R"({"model":"linear_regression","missing":"error"})");
    Observation o = num({{"a", 1}});
    o.add_missing("income");
    std::string msg = expect_error(ErrorKind::NullValue, [&] { m.learn(o, 1); });
    EXPECT_NE(msg.find("income"), std::string::npos) << msg;
    expect_error(ErrorKind::NullValue, [&] { m.predict(o); });
    EXPECT_EQ(m.n_seen(), 0u);
    EXPECT_EQ(m.intercept(), 0.0);
}

TEST(Ignore, IgnoredKeysAreLeftOutEvenWhenMissingOrCategorical) {
    LinearModel m = model_of(R"({"model":"linear_regression","missing":"error","ignore":["y","id","label"]})");
    Observation o = num({{"a", 1}, {"y", 5}});
    o.add_category("id", "row-17");   // ignored by its key
    o.add_missing("label");           // ignored before the missing policy
    o.add_numeric("identity", 2);     // not a prefix match
    m.learn(o, 1);
    EXPECT_EQ(m.feature_names(), (std::vector<std::string>{"a", "identity"}));
    // ignored names do not count in predictions either
    LinearModel ref = model_of(R"({"model":"linear_regression","missing":"error","ignore":["y","id","label"]})");
    ref.learn(num({{"a", 1}, {"identity", 2}}), 1);
    Observation p = num({{"a", 2}, {"y", 100}});
    EXPECT_EQ(bits(m.predict(p)), bits(ref.predict(num({{"a", 2}}))));
    // arrays: the position names x<i> can be ignored
    LinearModel d = model_of(R"({"model":"linear_regression","ignore":["x2"]})");
    double x[] = {1, 2, 3};
    d.learn_dense(x, 3, 1);
    EXPECT_EQ(d.feature_names(), (std::vector<std::string>{"x1", "x3"}));
}

TEST(Dense, ArraysAreTheFeaturesX1ToXn) {
    for (const char* spec : {R"({"model":"linear_regression","optimizer":"adam","l2":0.1})",
                             R"({"model":"logistic_regression","optimizer":"ftrl","scale":true})",
                             R"({"model":"linear_regression","hash_bits":3,"optimizer":"adagrad"})"}) {
        LinearModel d = model_of(spec), n = model_of(spec);
        const bool cls = std::string(spec).find("logistic") != std::string::npos;
        for (int i = 0; i < 50; i++) {
            double x[] = {std::sin(i), std::cos(i * 0.7), double(i % 3)};
            double y = cls ? double(i % 2) : x[0] * 2 - x[1];
            d.learn_dense(x, 3, y);
            n.learn(num({{"x1", x[0]}, {"x2", x[1]}, {"x3", x[2]}}), y);
        }
        EXPECT_EQ(d.dense_dim(), 3u);
        EXPECT_EQ(d.feature_names(), n.feature_names()) << spec;
        ASSERT_EQ(d.weights().size(), n.weights().size());
        for (size_t i = 0; i < d.weights().size(); i++) EXPECT_EQ(bits(d.weights()[i]), bits(n.weights()[i])) << spec;
        double q[] = {0.5, -1, 2};
        EXPECT_DOUBLE_EQ(d.predict_dense(q, 3), n.predict(num({{"x1", 0.5}, {"x2", -1}, {"x3", 2}})));
        EXPECT_DOUBLE_EQ(d.predict(num({{"x1", 0.5}, {"x2", -1}, {"x3", 2}})), d.predict_dense(q, 3));
    }
}

TEST(Dense, LengthAndValueChecks) {
    LinearModel m = model_of(R"({"model":"linear_regression"})");
    double x[] = {1, 2, 3};
    expect_error(ErrorKind::InvalidParameter, [&] { m.learn_dense(x, 0, 1); });
    m.learn_dense(x, 2, 1);
    std::string msg = expect_error(ErrorKind::InvalidParameter, [&] { m.learn_dense(x, 3, 1); });
    EXPECT_NE(msg.find("3"), std::string::npos);
    expect_error(ErrorKind::InvalidParameter, [&] { m.predict_dense(x, 3); });
    expect_error(ErrorKind::InvalidParameter, [&] { m.predict_dense(x, 0); });
    double bad[] = {1, kNaN};
    msg = expect_error(ErrorKind::NumericRange, [&] { m.predict_dense(bad, 2); });
    EXPECT_NE(msg.find("element 2"), std::string::npos) << msg;
    double inf[] = {-kInf, 1};
    expect_error(ErrorKind::NumericRange, [&] { m.learn_dense(inf, 2, 1); });
    EXPECT_EQ(m.n_seen(), 1u);
    // an array model scored with fewer/other named features: unknown names are ignored
    EXPECT_EQ(bits(m.predict(num({{"x1", 1}, {"x2", 2}}))), bits(m.predict_dense(x, 2)));
}

}  // namespace
}  // namespace pg_learn::test
