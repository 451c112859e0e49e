// Spec parsing: documented defaults, canonical form, and one clear error per bad option.
#include "test_util.hpp"

#include <cmath>
#include <limits>

namespace pg_learn::test {
namespace {

using core::MissingPolicy;
using core::ModelKind;
using core::ModelSpec;
using core::OptimizerKind;

TEST(Spec, DefaultsAsDocumented) {
    ModelSpec s = spec_of(R"({"model":"linear_regression"})");
    EXPECT_EQ(s.kind, ModelKind::LinearRegression);
    EXPECT_EQ(s.optimizer.kind, OptimizerKind::Sgd);
    EXPECT_EQ(s.optimizer.lr, 0.01);
    EXPECT_EQ(s.l1, 0.0);
    EXPECT_EQ(s.l2, 0.0);
    EXPECT_EQ(s.intercept_init, 0.0);
    EXPECT_EQ(s.intercept_lr, 0.01);
    EXPECT_EQ(s.clip_gradient, 1e12);
    EXPECT_FALSE(s.scale);
    EXPECT_EQ(s.hash_bits, 0);
    EXPECT_FALSE(s.hashed());
    EXPECT_EQ(s.missing, MissingPolicy::Zero);
    EXPECT_TRUE(s.ignore.empty());
    EXPECT_FALSE(s.keeps_feature_stats());

    ModelSpec c = spec_of(R"({"model":"logistic_regression"})");
    EXPECT_EQ(c.kind, ModelKind::LogisticRegression);
    EXPECT_EQ(c.optimizer.kind, OptimizerKind::Sgd);
    EXPECT_EQ(c.optimizer.lr, 0.01);
}

TEST(Spec, OptimizerDefaultsByName) {
    ModelSpec a = spec_of(R"({"model":"linear_regression","optimizer":"adagrad"})");
    EXPECT_EQ(a.optimizer.kind, OptimizerKind::AdaGrad);
    EXPECT_EQ(a.optimizer.lr, 0.1);
    EXPECT_EQ(a.optimizer.eps, 1e-8);

    ModelSpec d = spec_of(R"({"model":"linear_regression","optimizer":"adam"})");
    EXPECT_EQ(d.optimizer.kind, OptimizerKind::Adam);
    EXPECT_EQ(d.optimizer.lr, 0.1);
    EXPECT_EQ(d.optimizer.beta1, 0.9);
    EXPECT_EQ(d.optimizer.beta2, 0.999);
    EXPECT_EQ(d.optimizer.eps, 1e-8);

    ModelSpec f = spec_of(R"({"model":"logistic_regression","optimizer":"ftrl"})");
    EXPECT_EQ(f.optimizer.kind, OptimizerKind::Ftrl);
    EXPECT_EQ(f.optimizer.alpha, 0.05);
    EXPECT_EQ(f.optimizer.beta, 1.0);
    EXPECT_EQ(f.optimizer.l1, 0.0);
    EXPECT_EQ(f.optimizer.l2, 1.0);

    ModelSpec g = spec_of(R"({"model":"linear_regression","optimizer":"sgd"})");
    EXPECT_EQ(g.optimizer.kind, OptimizerKind::Sgd);
    EXPECT_EQ(g.optimizer.lr, 0.01);

    // The object form with partial parameters keeps the other defaults; null params = defaults.
    ModelSpec p = spec_of(R"({"model":"linear_regression","optimizer":{"adam":{"beta1":0.5}}})");
    EXPECT_EQ(p.optimizer.lr, 0.1);
    EXPECT_EQ(p.optimizer.beta1, 0.5);
    EXPECT_EQ(p.optimizer.beta2, 0.999);
    ModelSpec n = spec_of(R"({"model":"linear_regression","optimizer":{"adagrad":null}})");
    EXPECT_EQ(n.optimizer.lr, 0.1);
}

TEST(Spec, ExplicitValues) {
    ModelSpec s = spec_of(R"({"model":"linear_regression","optimizer":{"sgd":{"lr":0.5}},
        "l1":0.25,"l2":0.125,"intercept_init":-3,"intercept_lr":0,"clip_gradient":2.5,
        "scale":true,"hash_bits":24,"missing":"mean","ignore":["y","id"]})");
    EXPECT_EQ(s.optimizer.lr, 0.5);
    EXPECT_EQ(s.l1, 0.25);
    EXPECT_EQ(s.l2, 0.125);
    EXPECT_EQ(s.intercept_init, -3.0);
    EXPECT_EQ(s.intercept_lr, 0.0);  // 0 freezes the intercept: allowed
    EXPECT_EQ(s.clip_gradient, 2.5);
    EXPECT_TRUE(s.scale);
    EXPECT_EQ(s.hash_bits, 24);
    EXPECT_TRUE(s.hashed());
    EXPECT_EQ(s.missing, MissingPolicy::Mean);
    ASSERT_EQ(s.ignore.size(), 2u);
    EXPECT_TRUE(s.ignores("y", 1));
    EXPECT_TRUE(s.ignores("id", 2));
    EXPECT_FALSE(s.ignores("i", 1));
    EXPECT_FALSE(s.ignores("idx", 3));
    EXPECT_TRUE(s.keeps_feature_stats());

    EXPECT_EQ(spec_of(R"({"model":"linear_regression","missing":"error"})").missing, MissingPolicy::Error);
    EXPECT_EQ(spec_of(R"({"model":"linear_regression","missing":"zero"})").missing, MissingPolicy::Zero);
    EXPECT_TRUE(spec_of(R"({"model":"linear_regression","missing":"mean"})").keeps_feature_stats());
    EXPECT_EQ(spec_of(R"({"model":"linear_regression","hash_bits":0})").hash_bits, 0);
    EXPECT_EQ(spec_of(R"({"model":"linear_regression","hash_bits":1})").hash_bits, 1);
}

TEST(Spec, CanonicalFormRoundTrips) {
    const char* texts[] = {
        R"({"model":"linear_regression"})",
        R"({"model":"logistic_regression","optimizer":"adam","l2":0.5,"scale":true})",
        R"({"model":"logistic_regression","optimizer":{"ftrl":{"l1":2,"alpha":0.1}},"hash_bits":10})",
        R"({"model":"linear_regression","optimizer":{"adagrad":{"eps":1e-6}},"missing":"mean","ignore":["a"]})",
    };
    for (const char* t : texts) {
        ModelSpec s = spec_of(t);
        ModelSpec again = ModelSpec::from_json(s.to_json());
        EXPECT_EQ(again.canonical_text(), s.canonical_text()) << t;
    }
    // Equal specs spelled differently print the same.
    EXPECT_EQ(spec_of(R"({"model":"linear_regression"})").canonical_text(),
              spec_of(R"({"optimizer":{"sgd":{"lr":0.01}},"l1":0,"model":"linear_regression"})").canonical_text());
    EXPECT_NE(spec_of(R"({"model":"linear_regression"})").canonical_text(),
              spec_of(R"({"model":"linear_regression","l1":0.5})").canonical_text());
    // Every option is spelled out.
    auto j = spec_of(R"({"model":"linear_regression"})").to_json();
    for (const char* k : {"model", "optimizer", "l1", "l2", "intercept_init", "intercept_lr",
                          "clip_gradient", "scale", "hash_bits", "missing", "ignore"})
        EXPECT_TRUE(j.contains(k)) << k;
    EXPECT_EQ(j["optimizer"], nlohmann::json::parse(R"({"sgd":{"lr":0.01}})"));
}

TEST(Spec, NameHelpers) {
    EXPECT_STREQ(core::model_kind_name(ModelKind::LinearRegression), "linear_regression");
    EXPECT_STREQ(core::model_kind_name(ModelKind::LogisticRegression), "logistic_regression");
    EXPECT_STREQ(core::optimizer_name(OptimizerKind::Sgd), "sgd");
    EXPECT_STREQ(core::optimizer_name(OptimizerKind::AdaGrad), "adagrad");
    EXPECT_STREQ(core::optimizer_name(OptimizerKind::Adam), "adam");
    EXPECT_STREQ(core::optimizer_name(OptimizerKind::Ftrl), "ftrl");
    EXPECT_STREQ(core::missing_policy_name(MissingPolicy::Zero), "zero");
    EXPECT_STREQ(core::missing_policy_name(MissingPolicy::Mean), "mean");
    EXPECT_STREQ(core::missing_policy_name(MissingPolicy::Error), "error");
}

// Each bad spec raises InvalidParameter and its message names the option.
struct BadSpec {
    const char* text;
    const char* names;  // a substring the message must contain
};

void PrintTo(const BadSpec& b, std::ostream* os) { *os << b.text; }

class SpecErrors : public ::testing::TestWithParam<BadSpec> {};

TEST_P(SpecErrors, InvalidParameterNamingTheOption) {
    const BadSpec& b = GetParam();
    std::string msg = expect_error(ErrorKind::InvalidParameter, [&] { spec_of(b.text); });
    EXPECT_NE(msg.find(b.names), std::string::npos) << "message \"" << msg << "\" should name " << b.names;
}

INSTANTIATE_TEST_SUITE_P(
    All, SpecErrors,
    ::testing::Values(
        // not an object / no model / unknown model
        BadSpec{R"([1,2])", "spec"},
        BadSpec{R"("linear_regression")", "spec"},
        BadSpec{R"({})", "model"},
        BadSpec{R"({"optimizer":"sgd"})", "model"},
        BadSpec{R"({"model":"svm"})", "svm"},
        BadSpec{R"({"model":"Linear_Regression"})", "Linear_Regression"},
        BadSpec{R"({"model":1})", "model"},
        BadSpec{R"({"model":null})", "model"},
        // unknown options
        BadSpec{R"({"model":"linear_regression","lr":0.1})", "lr"},
        BadSpec{R"({"model":"linear_regression","hashbits":4})", "hashbits"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"sgd":{"eps":1}}})", "optimizer.sgd.eps"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"adam":{"beta":1}}})", "optimizer.adam.beta"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"ftrl":{"lr":1}}})", "optimizer.ftrl.lr"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"adagrad":{"beta1":1}}})", "optimizer.adagrad.beta1"},
        BadSpec{R"({"model":"linear_regression","optimizer":"rmsprop"})", "rmsprop"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"nadam":{}}})", "nadam"},
        // optimizer shape
        BadSpec{R"({"model":"linear_regression","optimizer":{"sgd":{},"adam":{}}})", "optimizer"},
        BadSpec{R"({"model":"linear_regression","optimizer":{}})", "optimizer"},
        BadSpec{R"({"model":"linear_regression","optimizer":3})", "optimizer"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"sgd":0.1}})", "sgd"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"sgd":[0.1]}})", "sgd"},
        // wrong types
        BadSpec{R"({"model":"linear_regression","l1":"0.1"})", "l1"},
        BadSpec{R"({"model":"linear_regression","l2":true})", "l2"},
        BadSpec{R"({"model":"linear_regression","intercept_lr":null})", "intercept_lr"},
        BadSpec{R"({"model":"linear_regression","intercept_init":[0]})", "intercept_init"},
        BadSpec{R"({"model":"linear_regression","clip_gradient":{}})", "clip_gradient"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"sgd":{"lr":"big"}}})", "optimizer.sgd.lr"},
        BadSpec{R"({"model":"linear_regression","scale":1})", "scale"},
        BadSpec{R"({"model":"linear_regression","scale":"true"})", "scale"},
        BadSpec{R"({"model":"linear_regression","hash_bits":2.5})", "hash_bits"},
        BadSpec{R"({"model":"linear_regression","hash_bits":"8"})", "hash_bits"},
        BadSpec{R"({"model":"linear_regression","missing":0})", "missing"},
        BadSpec{R"({"model":"linear_regression","missing":"drop"})", "drop"},
        BadSpec{R"({"model":"linear_regression","ignore":"y"})", "ignore"},
        BadSpec{R"({"model":"linear_regression","ignore":["y",1]})", "ignore"},
        // out of range
        BadSpec{R"({"model":"linear_regression","optimizer":{"sgd":{"lr":0}}})", "optimizer.sgd.lr"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"sgd":{"lr":-0.1}}})", "optimizer.sgd.lr"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"adagrad":{"eps":0}}})", "optimizer.adagrad.eps"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"adam":{"beta1":1}}})", "optimizer.adam.beta1"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"adam":{"beta2":1.5}}})", "optimizer.adam.beta2"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"adam":{"beta1":-0.1}}})", "optimizer.adam.beta1"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"ftrl":{"alpha":0}}})", "optimizer.ftrl.alpha"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"ftrl":{"l1":-1}}})", "optimizer.ftrl.l1"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"ftrl":{"l2":-1}}})", "optimizer.ftrl.l2"},
        BadSpec{R"({"model":"linear_regression","optimizer":{"ftrl":{"beta":-1}}})", "optimizer.ftrl.beta"},
        BadSpec{R"({"model":"linear_regression","l1":-0.5})", "l1"},
        BadSpec{R"({"model":"linear_regression","l2":-1e-9})", "l2"},
        BadSpec{R"({"model":"linear_regression","intercept_lr":-0.01})", "intercept_lr"},
        BadSpec{R"({"model":"linear_regression","clip_gradient":0})", "clip_gradient"},
        BadSpec{R"({"model":"linear_regression","clip_gradient":-1})", "clip_gradient"},
        BadSpec{R"({"model":"linear_regression","intercept_init":1e13})", "intercept_init"},
        BadSpec{R"({"model":"linear_regression","hash_bits":-1})", "hash_bits"},
        BadSpec{R"({"model":"linear_regression","hash_bits":25})", "hash_bits"},
        BadSpec{R"({"model":"linear_regression","hash_bits":4294967297})", "hash_bits"},
        // model-level l1/l2 do not apply to ftrl
        BadSpec{R"({"model":"linear_regression","optimizer":"ftrl","l1":0.1})", "l1"},
        BadSpec{R"({"model":"logistic_regression","optimizer":"ftrl","l2":0.1})", "l2"}),
    [](const ::testing::TestParamInfo<BadSpec>& info) { return "case" + std::to_string(info.index); });

TEST(Spec, TooManyIgnoredNamesIsAProgramLimit) {
    nlohmann::json j = {{"model", "linear_regression"}};
    j["ignore"] = nlohmann::json::array();
    for (size_t i = 0; i <= core::kMaxIgnoredNames; i++) j["ignore"].push_back("c" + std::to_string(i));
    expect_error(ErrorKind::ProgramLimit, [&] { ModelSpec::from_json(j); });
    j["ignore"].erase(j["ignore"].size() - 1);
    EXPECT_EQ(ModelSpec::from_json(j).ignore.size(), core::kMaxIgnoredNames);
}

TEST(Spec, ErrorsCarryAHint) {
    try {
        spec_of(R"({"model":"linear_regression","optimizer":"ftrl","l1":0.1})");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(e.hint().find("ftrl"), std::string::npos) << e.hint();
    }
    try {
        spec_of(R"({"model":"linear_regression","bogus":1})");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(e.detail().find("hash_bits"), std::string::npos) << "detail lists known options: " << e.detail();
    }
}


// Range errors print the bound as the shortest exact decimal and the given value as it was given.
TEST(Spec, RangeMessagesPrintTheValueAndTheBoundReadably) {
    struct Case {
        const char* text;
        const char* message;
        const char* detail;
    };
    for (const Case& c : {
             Case{R"({"model":"linear_regression","optimizer":{"adam":{"beta1":1.5}}})",
                  "option \"optimizer.adam.beta1\" must be at least 0 and at most 0.999999999", "got 1.5"},
             Case{R"({"model":"linear_regression","optimizer":{"adam":{"beta2":1}}})",
                  "option \"optimizer.adam.beta2\" must be at least 0 and at most 0.999999999", "got 1"},
             Case{R"({"model":"linear_regression","optimizer":{"sgd":{"lr":-1}}})",
                  "option \"optimizer.sgd.lr\" must be greater than 0 and at most 1000000", "got -1"},
             Case{R"({"model":"linear_regression","optimizer":{"adagrad":{"eps":0.0}}})",
                  "option \"optimizer.adagrad.eps\" must be greater than 0 and at most 1", "got 0.0"},
             Case{R"({"model":"linear_regression","intercept_init":1e13})",
                  "option \"intercept_init\" must be at least -1000000000000 and at most 1000000000000",
                  "got 10000000000000.0"},
             Case{R"({"model":"linear_regression","clip_gradient":0})",
                  "option \"clip_gradient\" must be greater than 0 and at most 1e300", "got 0"},
             Case{R"({"model":"linear_regression","l2":-1e-9})",
                  "option \"l2\" must be at least 0 and at most 1000000", "got -1e-9"},
             Case{R"({"model":"linear_regression","l1":18446744073709551615})",
                  "option \"l1\" must be at least 0 and at most 1000000", "got 18446744073709551615"},
             Case{R"({"model":"linear_regression","hash_bits":40})",
                  "option \"hash_bits\" must be an integer between 0 and 24", "got 40"},
             Case{R"({"model":"linear_regression","hash_bits":-3})",
                  "option \"hash_bits\" must be an integer between 0 and 24", "got -3"},
             Case{R"({"model":"linear_regression","hash_bits":2.5})",
                  "option \"hash_bits\" must be an integer between 0 and 24", "got 2.5"},
             Case{R"({"model":"linear_regression","hash_bits":8.0})",
                  "option \"hash_bits\" must be an integer between 0 and 24", "got 8.0"},
             Case{R"({"model":"linear_regression","hash_bits":18446744073709551615})",
                  "option \"hash_bits\" must be an integer between 0 and 24", "got 18446744073709551615"},
             Case{R"({"model":"linear_regression","hash_bits":1e30})",
                  "option \"hash_bits\" must be an integer between 0 and 24", "got 1e30"},
         }) {
        SCOPED_TRACE(c.text);
        try {
            spec_of(c.text);
            ADD_FAILURE() << "no error";
        } catch (const Error& e) {
            EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(ErrorKind::InvalidParameter));
            EXPECT_EQ(std::string(e.what()), c.message);
            EXPECT_EQ(e.detail(), c.detail);
        }
    }
    // wrong types keep naming the type
    std::string msg = expect_error(ErrorKind::InvalidParameter,
                                   [&] { spec_of(R"({"model":"linear_regression","hash_bits":"8"})"); });
    EXPECT_EQ(msg, "option \"hash_bits\" must be an integer between 0 and 24, not string");
}

// JSON text cannot carry an infinity (see Text.NumberOutOfRangeIsNamed), but a json built in
// memory can; json::dump() would print it as "null".
TEST(Spec, NonFiniteOptionValuesArePrintedAsSuch) {
    for (double v : {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()}) {
        nlohmann::json j = {{"model", "linear_regression"}, {"l2", v}};
        try {
            ModelSpec::from_json(j);
            ADD_FAILURE() << "no error";
        } catch (const Error& e) {
            EXPECT_STREQ(e.what(), "option \"l2\" must be at least 0 and at most 1000000");
            EXPECT_EQ(e.detail(), std::isnan(v) ? "got NaN" : v > 0 ? "got infinity" : "got -infinity");
        }
    }
}

// Unknown names are quoted cut at 64 bytes, at a character boundary.
TEST(Spec, LongUnknownNamesAreCutInMessages) {
    const std::string name = std::string(63, 'o') + "\xc3\xa9" + std::string(100, 'x');
    nlohmann::json j = {{"model", "linear_regression"}, {name, 1}};
    std::string msg = expect_error(ErrorKind::InvalidParameter, [&] { ModelSpec::from_json(j); });
    EXPECT_EQ(msg, "unknown option \"" + std::string(63, 'o') + "\"");
    j = {{"model", name}};
    msg = expect_error(ErrorKind::InvalidParameter, [&] { ModelSpec::from_json(j); });
    EXPECT_EQ(msg, "unknown model \"" + std::string(63, 'o') + "\"");
}

}  // namespace
}  // namespace pg_learn::test
