// passive_aggressive_classifier / _regressor against scikit-learn (test/reference/
// passive_aggressive_ref.py) and by hand; the family kit's shared parts through them: binary and
// JSON forms, merging, feature checks, errors.
#include "test_util.hpp"

#include "core/models/model.hpp"
#include "core/models/passive_aggressive/passive_aggressive.hpp"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace pg_learn::test {
namespace {

using core::Label;
using core::Model;
using core::Observation;
using core::PassiveAggressive;
using nlohmann::json;

const json& data() {
    static json d = read_reference("expected_passive_aggressive.json");
    return d;
}

::testing::AssertionResult close(double got, double want, const std::string& what) {
    if (std::fabs(got - want) <= 1e-9 * std::max(1.0, std::fabs(want))) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ": got " << std::setprecision(17) << got << ", scikit-learn " << want;
}

std::unique_ptr<Model> from_spec(const std::string& spec) { return core::model_from_text(spec.data(), spec.size()); }

std::unique_ptr<Model> decoded(const std::vector<uint8_t>& b) { return core::decode_model(b.data(), b.size()); }

std::unique_ptr<Model> trained(const json& c, size_t from = 0, size_t to = SIZE_MAX) {
    std::unique_ptr<Model> m = from_spec(c["spec"].dump());
    const bool classifier = c["spec"]["model"] == "passive_aggressive_classifier";
    const json& train = data()["train"];
    to = std::min(to, train.size());
    for (size_t i = from; i < to; i++) {
        const std::vector<double> x = train[i].get<std::vector<double>>();
        const Label y = classifier ? Label::of_number(data()["y_class"][i].get<double>())
                                   : Label::of_number(data()["y_value"][i].get<double>());
        m->learn_dense(x.data(), x.size(), y);
    }
    return m;
}

class PassiveAggressiveReference : public ::testing::TestWithParam<size_t> {};

TEST_P(PassiveAggressiveReference, MatchesScikitLearn) {
    const json& c = data()["cases"][GetParam()];
    SCOPED_TRACE(c["spec"].dump());
    std::unique_ptr<Model> m = trained(c);
    const auto& pa = dynamic_cast<const PassiveAggressive&>(*m);
    const auto want_w = c["weights"].get<std::vector<double>>();
    ASSERT_EQ(pa.weights().size(), want_w.size());
    for (size_t i = 0; i < want_w.size(); i++) EXPECT_TRUE(close(pa.weights()[i], want_w[i], "weight " + std::to_string(i)));
    EXPECT_TRUE(close(pa.intercept(), c["intercept"].get<double>(), "intercept"));
    const json& test = data()["test"];
    for (size_t i = 0; i < test.size(); i++) {
        const std::vector<double> x = test[i].get<std::vector<double>>();
        const double want = c["decision"][i].get<double>();
        EXPECT_TRUE(close(pa.decision_dense(x.data(), x.size()), want, "decision " + std::to_string(i)));
        if (m->task() == core::Task::Binary) {
            const double p = m->predict_dense(x.data(), x.size());
            EXPECT_EQ(p > 0.5, want > 0) << "probability " << p << " against margin " << want;
        } else {
            EXPECT_TRUE(close(m->predict_dense(x.data(), x.size()), want, "prediction " + std::to_string(i)));
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Cases, PassiveAggressiveReference, ::testing::Range<size_t>(0, 16));

TEST(PassiveAggressive, PlainPaByHand) {
    // PA (no C): tau = loss / |x|^2. Example 1: margin 0, hinge loss 1, |x|^2 = 1 + 4 = 5,
    // tau = 0.2, y = +1: w = (0.2, 0.4), b = 0.2. Example 2 (a=1, b=0, y=0, i.e. -1): margin
    // 0.2 + 0.2 = 0.4, loss 1.4, |x|^2 = 1, tau = 1.4: w = (-1.2, 0.4), b = -1.2.
    std::unique_ptr<Model> m = from_spec(R"({"model":"passive_aggressive_classifier","variant":"pa"})");
    Observation x;
    x.add_numeric("a", 1);
    x.add_numeric("b", 2);
    m->learn(x, Label::of_number(1));
    Observation x2;
    x2.add_numeric("a", 1);
    m->learn(x2, Label::of_boolean(false));
    const auto& pa = dynamic_cast<const PassiveAggressive&>(*m);
    EXPECT_NEAR(pa.weights()[0], -1.2, 1e-15);
    EXPECT_NEAR(pa.weights()[1], 0.4, 1e-15);
    EXPECT_NEAR(pa.intercept(), -1.2, 1e-15);
    EXPECT_EQ(m->n_seen(), 2u);
    // A passive step: the margin already exceeds 1 (b = 2 gives -1.2*0 + 0.4*2 - 1.2 = -0.4 < 1,
    // so take a = -10: 12 + 0 - 1.2 = 10.8 >= 1 for y = +1): nothing changes.
    Observation x3;
    x3.add_numeric("a", -10);
    const std::vector<uint8_t> before = bytes_of(*m);
    m->learn(x3, Label::of_number(1));
    EXPECT_EQ(m->n_seen(), 3u);
    EXPECT_EQ(pa.weights()[0], -1.2 + 0.0);
}

TEST(PassiveAggressive, RegressorEpsilonInsensitiveByHand) {
    // PA-I, C = 0.5, epsilon 1: y = 5 at x = 2: loss 4, |x|^2 = 4, tau = min(0.5, 1) = 0.5:
    // w = 1, b = 0.5; prediction at x = 2: 2.5. y = 3 at x = 2: |3 - 2.5| = 0.5 <= epsilon.
    std::unique_ptr<Model> m =
        from_spec(R"({"model":"passive_aggressive_regressor","C":0.5,"epsilon":1})");
    Observation x;
    x.add_numeric("x", 2);
    m->learn(x, Label::of_number(5));
    EXPECT_DOUBLE_EQ(m->predict(x), 2.5);
    m->learn(x, Label::of_number(3));
    EXPECT_DOUBLE_EQ(m->predict(x), 2.5);
    EXPECT_EQ(m->task(), core::Task::Regression);
}

TEST(PassiveAggressive, BinaryAndJsonFormsRoundTrip) {
    for (const json& c : data()["cases"]) {
        std::unique_ptr<Model> m = trained(c, 0, 40);
        const std::vector<uint8_t> b = bytes_of(*m);
        std::unique_ptr<Model> d = decoded(b);
        EXPECT_EQ(bytes_of(*d), b);
        const std::string text = m->to_text();
        std::unique_ptr<Model> t = core::model_from_text(text.data(), text.size());
        EXPECT_EQ(bytes_of(*t), b);
        EXPECT_EQ(t->to_text(), text);
    }
    // Categorical features and an ignored key travel too.
    std::unique_ptr<Model> m = from_spec(R"({"model":"passive_aggressive_classifier","ignore":["id"]})");
    Observation x;
    x.add_category("colour", "red");
    x.add_numeric("size", 3);
    x.add_numeric("id", 17);
    m->learn(x, Label::of_text("true"));
    EXPECT_EQ(dynamic_cast<const core::FamilyModel&>(*m).features().names(),
              (std::vector<std::string>{"colour=red", "size"}));
    const std::vector<uint8_t> b = bytes_of(*m);
    EXPECT_EQ(bytes_of(*decoded(b)), b);
    EXPECT_EQ(m->info()["spec"]["ignore"], json::array({"id"}));
}

TEST(PassiveAggressive, CorruptedBinaryIsRefused) {
    std::unique_ptr<Model> m = trained(data()["cases"][0], 0, 20);
    const std::vector<uint8_t> b = bytes_of(*m);
    for (size_t at : {size_t(60), size_t(100), b.size() - 3}) {
        std::vector<uint8_t> c = b;
        c[at] ^= 0x40;
        expect_error(ErrorKind::InvalidBinary, [&] { decoded(c); });
    }
    expect_error(ErrorKind::InvalidBinary, [&] { decoded(std::vector<uint8_t>(b.begin(), b.end() - 8)); });
}

TEST(PassiveAggressive, MergeAveragesByExamples) {
    const json& c = data()["cases"][1];
    std::unique_ptr<Model> a = trained(c, 0, 100), b = trained(c, 100, 300);
    const auto& pa = dynamic_cast<const PassiveAggressive&>(*a);
    const auto& pb = dynamic_cast<const PassiveAggressive&>(*b);
    std::vector<double> want(pa.weights().size());
    for (size_t i = 0; i < want.size(); i++) want[i] = (100 * pa.weights()[i] + 200 * pb.weights()[i]) / 300;
    const double want_b = (100 * pa.intercept() + 200 * pb.intercept()) / 300;
    std::unique_ptr<Model> ab = a->clone();
    ab->merge(*b);
    std::unique_ptr<Model> ba = b->clone();
    ba->merge(*a);
    const auto& m = dynamic_cast<const PassiveAggressive&>(*ab);
    for (size_t i = 0; i < want.size(); i++) EXPECT_NEAR(m.weights()[i], want[i], 1e-12);
    EXPECT_NEAR(m.intercept(), want_b, 1e-12);
    EXPECT_EQ(bytes_of(*ab), bytes_of(*ba));
    EXPECT_EQ(ab->n_seen(), 300u);
    // Partial models that started from one trained model count it once.
    std::unique_ptr<Model> start = trained(c, 0, 50);
    std::unique_ptr<Model> p1 = start->clone(), p2 = start->clone();
    p1->begin_aggregation();
    p2->begin_aggregation();
    const json& train = data()["train"];
    for (size_t i = 50; i < 60; i++) {
        const auto x = train[i].get<std::vector<double>>();
        (i % 2 ? p1 : p2)->learn_dense(x.data(), x.size(), Label::of_number(data()["y_class"][i].get<double>()));
    }
    const std::vector<uint8_t> p1_bytes = bytes_of(*p1);
    EXPECT_EQ(bytes_of(*decoded(p1_bytes)), p1_bytes);  // the base travels with a partial model
    p1->merge(*decoded(bytes_of(*p2)));
    p1->end_aggregation();
    EXPECT_EQ(p1->n_seen(), 60u);
    // A model of another spec is refused.
    std::unique_ptr<Model> other = from_spec(R"({"model":"passive_aggressive_classifier","C":2})");
    expect_error(ErrorKind::InvalidParameter, [&] { a->merge(*other); });
}

TEST(PassiveAggressive, FeatureChecksNameUnknownFeatures) {
    std::unique_ptr<Model> m = from_spec(R"({"model":"passive_aggressive_regressor"})");
    Observation x;
    x.add_numeric("price", 3);
    x.add_category("city", "Paris");
    m->learn(x, Label::of_number(1));
    Observation y;
    y.add_numeric("prise", 3);
    y.add_category("city", "Lyon");
    core::FeatureCheck fc;
    m->check_features(y, fc, true);
    EXPECT_TRUE(fc.checked);
    EXPECT_EQ(fc.unknown_features, 1u);
    EXPECT_EQ(fc.unknown_categories, 1u);
    EXPECT_EQ(fc.missing_features, 1u);
    EXPECT_EQ(fc.missing_feature, "price");
    EXPECT_EQ(m->closest_feature("prise"), "price");
    // Predicting with unknown names leaves them out and learns nothing.
    m->predict(y);
    EXPECT_EQ(dynamic_cast<const core::FamilyModel&>(*m).features().size(), 2u);
}

TEST(PassiveAggressive, BadInputGivesClearErrors) {
    std::string msg = expect_error(ErrorKind::InvalidParameter,
                                   [] { from_spec(R"({"model":"passive_aggressive_classifier","epsilon":0.1})"); });
    EXPECT_NE(msg.find("unknown option \"epsilon\""), std::string::npos) << msg;
    expect_error(ErrorKind::InvalidParameter, [] { from_spec(R"({"model":"passive_aggressive_regressor","C":0})"); });
    expect_error(ErrorKind::InvalidParameter, [] { from_spec(R"({"model":"passive_aggressive_regressor","C":"big"})"); });
    expect_error(ErrorKind::InvalidParameter,
                 [] { from_spec(R"({"model":"passive_aggressive_regressor","variant":"pa-iii"})"); });
    std::unique_ptr<Model> c = from_spec(R"({"model":"passive_aggressive_classifier"})");
    std::unique_ptr<Model> r = from_spec(R"({"model":"passive_aggressive_regressor"})");
    const double x[2] = {1, 2};
    expect_error(ErrorKind::InvalidParameter, [&] { c->learn_dense(x, 2, Label::of_number(2)); });
    expect_error(ErrorKind::InvalidParameter, [&] { c->learn_dense(x, 2, Label::of_text("cat")); });
    expect_error(ErrorKind::NumericRange, [&] { r->learn_dense(x, 2, Label::of_number(std::nan(""))); });
    expect_error(ErrorKind::InvalidParameter, [&] { r->learn_dense(x, 2, Label::of_boolean(true)); });
    const double bad[2] = {1, std::nan("")};
    expect_error(ErrorKind::NumericRange, [&] { r->learn_dense(bad, 2, Label::of_number(1)); });
    r->learn_dense(x, 2, Label::of_number(1));
    const double three[3] = {1, 2, 3};
    expect_error(ErrorKind::InvalidParameter, [&] { r->predict_dense(three, 3); });
    EXPECT_EQ(r->n_seen(), 1u);
    // A step that would overflow a weight is refused, and the model keeps its value.
    std::unique_ptr<Model> p = from_spec(R"({"model":"passive_aggressive_regressor","variant":"pa","epsilon":0})");
    const double tiny[1] = {1e-150};
    const std::vector<uint8_t> before = bytes_of(*p);
    expect_error(ErrorKind::NumericRange, [&] { p->learn_dense(tiny, 1, Label::of_number(1e300)); });
    EXPECT_EQ(bytes_of(*p), before);
    // A regressor has no classes; a classifier's probabilities have two.
    expect_error(ErrorKind::InvalidParameter, [&] { r->classes(); });
    std::vector<double> proba;
    c->learn_dense(x, 2, Label::of_number(1));
    c->predict_proba_dense(x, 2, proba);
    ASSERT_EQ(proba.size(), 2u);
}

}  // namespace
}  // namespace pg_learn::test
