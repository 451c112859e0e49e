// half_space_trees against test/reference/unsupervised_ref.py (an independent implementation of
// river's HalfSpaceTrees rules with the same generator): anomaly scores at checkpoints; formats;
// bad input.
#include "unsupervised_util.hpp"

#include <cmath>

namespace pg_learn::test {
namespace {

using core::Label;
using core::Model;
using core::Observation;
using nlohmann::json;

class HalfSpaceTreesReference : public ::testing::TestWithParam<size_t> {};

TEST_P(HalfSpaceTreesReference, MatchesIndependentImplementation) {
    const json& c = unsupervised_reference()["half_space_trees"][GetParam()];
    SCOPED_TRACE(c["name"].get<std::string>());
    std::unique_ptr<Model> m = model_from(c["spec"].dump());
    EXPECT_EQ(m->task(), core::Task::Anomaly);
    Observation obs;
    std::vector<Observation> test;
    for (const auto& x : c["test"]) {
        test.emplace_back();
        to_observation(x, test.back());
    }
    size_t seen = 0, checked = 0;
    for (const auto& cp : c["checkpoints"]) {
        const size_t after = cp["after"].get<size_t>();
        for (; seen < after; seen++) {
            to_observation(c["train"][seen], obs);
            m->learn(obs, Label::none());
        }
        for (size_t i = 0; i < test.size(); i++) {
            const double s = m->predict(test[i]);
            EXPECT_GE(s, 0.0);
            EXPECT_LE(s, 1.0);
            EXPECT_TRUE(near_rel(s, cp["scores"][i].get<double>(), 1e-12,
                                 "after " + std::to_string(after) + ", test " + std::to_string(i)));
        }
        checked++;
        // A model read back scores and learns as the original.
        expect_round_trips(*m);
    }
    EXPECT_GE(checked, 3u);
}

INSTANTIATE_TEST_SUITE_P(Cases, HalfSpaceTreesReference,
                         ::testing::Range(size_t(0), unsupervised_reference()["half_space_trees"].size()));

TEST(HalfSpaceTrees, OutliersScoreHigher) {
    // A held-out check of the scores' meaning on the reference's data: the planted corner points
    // (the last 20 test points) score above the ordinary ones.
    const json& c = unsupervised_reference()["half_space_trees"][0];
    const json& last = c["checkpoints"].back()["scores"];
    double normal = 0, outlier = 0;
    for (size_t i = 0; i < 40; i++) normal += last[i].get<double>() / 40;
    for (size_t i = 40; i < 60; i++) outlier += last[i].get<double>() / 20;
    EXPECT_GT(outlier, normal + 0.1);
}

TEST(HalfSpaceTrees, SpecIsStrictAndSpelledOut) {
    std::unique_ptr<Model> m = model_from(R"({"model":"half_space_trees"})");
    EXPECT_EQ(m->info()["spec"], json::parse(R"({"model":"half_space_trees","n_trees":10,"height":8,
        "window_size":250,"limits":{},"seed":0})"));
    auto bad = [](const char* spec, ErrorKind kind = ErrorKind::InvalidParameter) {
        return expect_error(kind, [&] { model_from(spec); });
    };
    EXPECT_NE(bad(R"({"model":"half_space_trees","trees":3})").find("unknown option \"trees\""), std::string::npos);
    bad(R"({"model":"half_space_trees","n_trees":0})");
    bad(R"({"model":"half_space_trees","height":0})");
    bad(R"({"model":"half_space_trees","height":21})");
    bad(R"({"model":"half_space_trees","window_size":0})");
    bad(R"({"model":"half_space_trees","limits":[0,1]})");
    bad(R"({"model":"half_space_trees","limits":{"a":[1,0]}})");
    bad(R"({"model":"half_space_trees","limits":{"a":[0]}})");
    bad(R"({"model":"half_space_trees","limits":{"a":[0,"1"]}})");
    bad(R"({"model":"half_space_trees","n_trees":1000,"height":20})", ErrorKind::ProgramLimit);
}

TEST(HalfSpaceTrees, ScoresZeroDuringTheFirstWindow) {
    std::unique_ptr<Model> m = model_from(R"({"model":"half_space_trees","window_size":5,"n_trees":3,"height":3})");
    EXPECT_EQ(m->predict(num({{"a", 0.5}})), 0.0);
    for (int i = 0; i < 4; i++) m->learn(num({{"a", 0.1 * i}}), Label::none());
    EXPECT_EQ(m->predict(num({{"a", 0.9}})), 0.0);
    EXPECT_FALSE(m->info()["scoring"].get<bool>());
    m->learn(num({{"a", 0.45}}), Label::none());
    EXPECT_TRUE(m->info()["scoring"].get<bool>());
    EXPECT_GT(m->predict(num({{"a", 0.9}})), 0.0);
    expect_round_trips(*m);
}

TEST(HalfSpaceTrees, RefusesLabelsNaNAndAFeaturelessFirstExample) {
    std::unique_ptr<Model> m = model_from(R"({"model":"half_space_trees"})");
    expect_error(ErrorKind::InvalidParameter, [&] { m->learn(num({{"a", 0.5}}), Label::of_number(0)); });
    expect_error(ErrorKind::InvalidParameter, [&] { m->learn(Observation(), Label::none()); });
    expect_error(ErrorKind::NumericRange, [&] { m->learn(num({{"a", std::nan("")}}), Label::none()); });
    m->learn(num({{"a", 0.5}}), Label::none());
    const std::vector<uint8_t> before = bytes_of(*m);
    expect_error(ErrorKind::NumericRange, [&] { m->learn(num({{"a", INFINITY}}), Label::none()); });
    EXPECT_EQ(bytes_of(*m), before);
    std::vector<double> p;
    expect_error(ErrorKind::InvalidParameter, [&] { m->predict_proba(num({{"a", 0.5}}), p); });
}

TEST(HalfSpaceTrees, PartialModelsDoNotMerge) {
    std::unique_ptr<Model> a = model_from(R"({"model":"half_space_trees"})");
    std::unique_ptr<Model> b = model_from(R"({"model":"half_space_trees"})");
    a->learn(num({{"a", 0.1}}), Label::none());
    b->learn(num({{"a", 0.2}}), Label::none());
    EXPECT_FALSE(a->can_merge());
    const std::vector<uint8_t> before = bytes_of(*a);
    expect_error(ErrorKind::InvalidParameter, [&] { a->merge(*b); });
    EXPECT_EQ(bytes_of(*a), before);
}

TEST(HalfSpaceTrees, CorruptStatesAreRefused) {
    std::unique_ptr<Model> m = model_from(R"({"model":"half_space_trees","n_trees":2,"height":2,"window_size":3})");
    for (int i = 0; i < 4; i++) m->learn(num({{"a", 0.2 * i}, {"b", 0.1}}), Label::none());
    const json j = json::parse(m->to_text());
    auto refused = [](const json& v) {
        const std::string t = v.dump();
        expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_text(t.data(), t.size()); });
    };
    json bad = j;
    bad["state"]["trees"][0]["l_mass"][1] = 99;  // children no longer add up
    refused(bad);
    bad = j;
    bad["state"]["trees"][1]["feature"][0] = 7;  // no such tree feature
    refused(bad);
    bad = j;
    bad["state"]["counter"] = 3;  // a full window that did not pivot
    refused(bad);
    bad = j;
    bad["state"]["trees"].erase(1);
    refused(bad);
    bad = j;
    bad["state"]["tree_features"][1]["name"] = "a";  // repeated
    refused(bad);
    const std::vector<uint8_t> b = bytes_of(*m);
    for (size_t n = 0; n < b.size(); n += 5)
        EXPECT_THROW(core::decode_model(b.data(), n), core::Error) << n;
    // A flipped byte in the body breaks the checksum or the state's checks.
    for (size_t at = 48; at < b.size(); at += 11) {
        std::vector<uint8_t> c = b;
        c[at] ^= 0x5a;
        EXPECT_THROW(core::decode_model(c.data(), c.size()), core::Error) << at;
    }
}

}  // namespace
}  // namespace pg_learn::test
