// softmax_regression against test/reference/softmax_ref.py (NumPy), through the model contract:
// every optimizer and option after 400 steps with classes added on the fly; merge, formats, errors.
#include "test_util.hpp"

#include "core/models/model.hpp"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace pg_learn::test {
namespace {

using core::Label;
using core::Model;
using core::Observation;
using nlohmann::json;

constexpr double kTol = 1e-9;

const json& data() {
    static json d = read_reference("expected_softmax.json");
    return d;
}

::testing::AssertionResult close(double got, double want, const std::string& what) {
    if (std::fabs(got - want) <= kTol * std::max(1.0, std::fabs(want))) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ": got " << std::setprecision(17) << got << ", reference " << want;
}

std::unique_ptr<Model> trained(const json& spec) {
    // softmax_ref.py fills in the stored (0.1.0) defaults, as spec_of does
    std::unique_ptr<Model> m = std::make_unique<core::LinearModel>(spec_of(spec.dump()));
    Observation obs;
    for (const auto& ex : data()["examples"]) {
        to_observation(ex[0], obs);
        const std::string y = ex[1].get<std::string>();
        m->learn(obs, Label::of_text(y));
    }
    return m;
}

class SoftmaxReference : public ::testing::TestWithParam<size_t> {};

TEST_P(SoftmaxReference, MatchesNumPy) {
    const json& c = data()["cases"][GetParam()];
    SCOPED_TRACE(c["name"].get<std::string>());
    std::unique_ptr<Model> m = trained(c["spec"]);
    EXPECT_EQ(m->task(), core::Task::Multiclass);
    EXPECT_EQ(m->n_seen(), c["n_seen"].get<uint64_t>());
    ASSERT_EQ(m->classes(), c["classes"].get<std::vector<std::string>>());
    const json info = m->info();
    for (const auto& [cls, b] : c["intercepts"].items()) (void)cls, (void)b;
    for (size_t k = 0; k < c["classes"].size(); k++) {
        const std::string cls = c["classes"][k];
        EXPECT_TRUE(close(info["intercepts"][cls].get<double>(), c["intercepts"][k].get<double>(), "intercept " + cls));
        for (const auto& [name, w] : c["weights"][cls].items())
            EXPECT_TRUE(close(info["weights"][cls][name].get<double>(), w.get<double>(), "weight " + cls + "/" + name));
    }
    Observation obs;
    std::vector<double> p;
    for (size_t i = 0; i < data()["probes"].size(); i++) {
        to_observation(data()["probes"][i], obs);
        m->predict_proba(obs, p);
        const auto& want = c["probes"][i];
        ASSERT_EQ(p.size(), want.size());
        for (size_t k = 0; k < p.size(); k++)
            EXPECT_TRUE(close(p[k], want[k].get<double>(), "probe " + std::to_string(i) + " class " + std::to_string(k)));
    }
    // The binary and text forms carry the model exactly.
    std::vector<uint8_t> bytes(m->encoded_size());
    m->encode(bytes.data(), bytes.size());
    std::unique_ptr<Model> back = core::decode_model(bytes.data(), bytes.size());
    std::vector<uint8_t> again(back->encoded_size());
    back->encode(again.data(), again.size());
    EXPECT_EQ(bytes, again);
    const std::string text = m->to_text();
    EXPECT_EQ(core::model_from_text(text.data(), text.size())->to_text(), text);
}

INSTANTIATE_TEST_SUITE_P(All, SoftmaxReference, ::testing::Range<size_t>(0, 10));

TEST(Softmax, MergeUnitesClassesAndAveragesByExamples) {
    // Two partial models of one start, each seeing classes the other did not: the merge holds
    // every class, and its parameters are the example-weighted average, class by class.
    std::unique_ptr<Model> start = core::model_from_json(json::parse(R"({"model":"softmax_regression"})"));
    start->begin_aggregation();
    std::unique_ptr<Model> a = start->clone(), b = start->clone();
    a->learn(num({{"x", 1}}), Label::of_text("p"));
    a->learn(num({{"x", 2}}), Label::of_text("q"));
    a->learn(num({{"x", 3}}), Label::of_text("q"));
    b->learn(num({{"y", 1}}), Label::of_text("r"));
    b->learn(num({{"x", -1}}), Label::of_text("p"));
    const json ia = a->info(), ib = b->info();
    a->merge(*b);
    a->end_aggregation();
    const json im = a->info();
    EXPECT_EQ(a->n_seen(), 5u);
    EXPECT_EQ(a->classes(), (std::vector<std::string>{"p", "q", "r"}));
    const double fa = 3.0 / 5, fb = 2.0 / 5;
    EXPECT_NEAR(im["weights"]["p"]["x"].get<double>(), fa * ia["weights"]["p"]["x"].get<double>() + fb * ib["weights"]["p"]["x"].get<double>(), 1e-15);
    // q was never seen by b: its side counts as zero weights and the initial intercept.
    EXPECT_NEAR(im["weights"]["q"]["x"].get<double>(), fa * ia["weights"]["q"]["x"].get<double>(), 1e-15);
    EXPECT_NEAR(im["intercepts"]["q"].get<double>(), fa * ia["intercepts"]["q"].get<double>(), 1e-15);
    EXPECT_NEAR(im["weights"]["r"]["y"].get<double>(), fb * ib["weights"]["r"]["y"].get<double>(), 1e-15);
    EXPECT_NEAR(im["intercepts"]["r"].get<double>(), fb * ib["intercepts"]["r"].get<double>(), 1e-15);
}

TEST(Softmax, MergeRefusesAnotherKind) {
    std::unique_ptr<Model> s = core::model_from_json(json::parse(R"({"model":"softmax_regression"})"));
    std::unique_ptr<Model> l = core::model_from_json(json::parse(R"({"model":"logistic_regression"})"));
    expect_error(ErrorKind::InvalidParameter, [&] { s->merge(*l); });
}

TEST(Softmax, LabelsAndLimits) {
    std::unique_ptr<Model> m = core::model_from_json(json::parse(R"({"model":"softmax_regression"})"));
    const Observation x = num({{"a", 1}});
    m->learn(x, Label::of_number(3));
    m->learn(x, Label::of_boolean(true));
    m->learn(x, Label::of_text("three"));
    EXPECT_EQ(m->classes(), (std::vector<std::string>{"3", "true", "three"}));
    expect_error(ErrorKind::InvalidParameter, [&] { m->learn(x, Label::of_number(2.5)); });
    expect_error(ErrorKind::NumericRange, [&] { m->learn(x, Label::of_number(NAN)); });
    expect_error(ErrorKind::InvalidParameter, [&] { m->learn(x, Label::of_text("")); });
    expect_error(ErrorKind::InvalidText, [&] { m->learn(x, Label::of_text(std::string_view("a\0b", 3))); });
    expect_error(ErrorKind::InvalidParameter, [&] { m->predict(x); });
    for (int i = 0; i < 997; i++) m->learn(x, Label::of_text("c" + std::to_string(i)));
    EXPECT_EQ(m->classes().size(), core::kMaxClasses);
    expect_error(ErrorKind::ProgramLimit, [&] { m->learn(x, Label::of_text("one too many")); });
    EXPECT_EQ(m->classes().size(), core::kMaxClasses);  // refused before anything changed
}

TEST(Softmax, BeforeAnyClassThereIsNoProbability) {
    std::unique_ptr<Model> m = core::model_from_json(json::parse(R"({"model":"softmax_regression"})"));
    std::vector<double> p{1.0};
    m->predict_proba(num({{"a", 1}}), p);
    EXPECT_TRUE(p.empty());
    m->learn(num({{"a", 1}}), Label::of_text("only"));
    m->predict_proba(num({{"a", 1}}), p);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0], 1.0);
}

TEST(Softmax, TasksAndClassesOfTheLinearKinds) {
    std::unique_ptr<Model> lin = core::model_from_json(json::parse(R"({"model":"linear_regression"})"));
    std::unique_ptr<Model> log = core::model_from_json(json::parse(R"({"model":"logistic_regression"})"));
    EXPECT_EQ(lin->task(), core::Task::Regression);
    EXPECT_EQ(log->task(), core::Task::Binary);
    EXPECT_EQ(log->classes(), (std::vector<std::string>{"0", "1"}));
    expect_error(ErrorKind::InvalidParameter, [&] { lin->classes(); });
    // Text that spells a number is that number for numeric models; other text is refused.
    log->learn(num({{"a", 1}}), Label::of_text("1"));
    log->learn(num({{"a", 1}}), Label::of_text("false"));
    expect_error(ErrorKind::InvalidParameter, [&] { log->learn(num({{"a", 1}}), Label::of_text("yes")); });
    lin->learn(num({{"a", 1}}), Label::of_text("2.5"));
    expect_error(ErrorKind::InvalidParameter, [&] { lin->learn(num({{"a", 1}}), Label::of_text("cat")); });
    EXPECT_EQ(std::string(core::task_name(core::Task::Multiclass)), "multiclass");
}

TEST(Softmax, FutureFormatVersionIsRefusedClearly) {
    std::unique_ptr<Model> m = core::model_from_json(json::parse(R"({"model":"softmax_regression"})"));
    m->learn(num({{"a", 1}}), Label::of_text("x"));
    std::vector<uint8_t> bytes(m->encoded_size());
    m->encode(bytes.data(), bytes.size());
    bytes[4] = 2;  // format version 2: written by a newer pg_learn
    const std::string msg = expect_error(ErrorKind::InvalidBinary, [&] { core::decode_model(bytes.data(), bytes.size()); });
    EXPECT_NE(msg.find("newer"), std::string::npos) << msg;
}

}  // namespace
}  // namespace pg_learn::test
