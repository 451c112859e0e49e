// kmeans against test/reference/unsupervised_ref.py (an independent implementation of river's
// KMeans rules with the same generator): centers, counts and assignments; formats; bad input.
#include "unsupervised_util.hpp"

#include <cmath>

namespace pg_learn::test {
namespace {

using core::Label;
using core::Model;
using core::Observation;
using nlohmann::json;

size_t predicted_cluster(const Model& m, const Observation& x) {
    std::vector<double> p;
    m.predict_proba(x, p);
    EXPECT_EQ(p.size(), m.classes().size());
    size_t best = 0;
    double sum = 0;
    for (size_t i = 0; i < p.size(); i++) {
        sum += p[i];
        if (p[i] > p[best]) best = i;
    }
    EXPECT_EQ(sum, 1.0);  // a hard assignment: one 1, zeros
    EXPECT_EQ(p[best], 1.0);
    return best;
}

class KMeansReference : public ::testing::TestWithParam<size_t> {};

TEST_P(KMeansReference, MatchesIndependentImplementation) {
    const json& c = unsupervised_reference()["kmeans"][GetParam()];
    SCOPED_TRACE(c["name"].get<std::string>());
    std::unique_ptr<Model> m = model_from(c["spec"].dump());
    EXPECT_EQ(m->task(), core::Task::Clustering);
    Observation obs;
    size_t i = 0;
    for (const auto& x : c["train"]) {
        to_observation(x, obs);
        EXPECT_EQ(predicted_cluster(*m, obs), c["predictions_before_learning"][i].get<size_t>()) << "example " << i;
        m->learn(obs, Label::none());
        i++;
    }
    EXPECT_EQ(m->n_seen(), c["train"].size());
    const json info = m->info();
    EXPECT_EQ(info["features"], c["features"]);
    EXPECT_EQ(info["counts"], c["counts"]);
    const json& want = c["centers"];
    ASSERT_EQ(info["centers"].size(), want.size());
    for (size_t k = 0; k < want.size(); k++)
        for (size_t f = 0; f < want[k].size(); f++)
            EXPECT_TRUE(near_rel(info["centers"][k][f].get<double>(), want[k][f].get<double>(), 1e-12,
                                 "center " + std::to_string(k) + " feature " + std::to_string(f)));
    i = 0;
    for (const auto& x : c["test"]) {
        to_observation(x, obs);
        EXPECT_EQ(predicted_cluster(*m, obs), c["test_predictions"][i++].get<size_t>());
    }
    expect_round_trips(*m);
}

INSTANTIATE_TEST_SUITE_P(Cases, KMeansReference,
                         ::testing::Range(size_t(0), unsupervised_reference()["kmeans"].size()));

TEST(KMeans, DenseArraysLearnAsNamedFeatures) {
    // A float8[] is the features x1, x2, ...: the same model as the named form.
    std::unique_ptr<Model> a = model_from(R"({"model":"kmeans","n_clusters":3,"seed":4})");
    std::unique_ptr<Model> b = model_from(R"({"model":"kmeans","n_clusters":3,"seed":4})");
    const double rows[][2] = {{1, 2}, {5, 5}, {-3, 4}, {1.5, 2.5}, {5.5, 4}};
    for (const auto& r : rows) {
        a->learn_dense(r, 2, Label::none());
        b->learn(num({{"x1", r[0]}, {"x2", r[1]}}), Label::none());
    }
    EXPECT_EQ(a->info()["centers"], b->info()["centers"]);
    expect_round_trips(*a);
}

TEST(KMeans, SpecIsStrictAndSpelledOut) {
    std::unique_ptr<Model> m = model_from(R"({"model":"kmeans"})");
    EXPECT_EQ(m->info()["spec"], json::parse(R"({"model":"kmeans","n_clusters":5,"halflife":0.5,"mu":0.0,
        "sigma":1.0,"p":2.0,"seed":0})"));
    EXPECT_EQ(m->classes(), (std::vector<std::string>{"0", "1", "2", "3", "4"}));
    auto bad = [](const char* spec) { return expect_error(ErrorKind::InvalidParameter, [&] { model_from(spec); }); };
    EXPECT_NE(bad(R"({"model":"kmeans","k":3})").find("unknown option \"k\""), std::string::npos);
    bad(R"({"model":"kmeans","n_clusters":0})");
    bad(R"({"model":"kmeans","n_clusters":2.5})");
    bad(R"({"model":"kmeans","n_clusters":1001})");
    bad(R"({"model":"kmeans","halflife":0})");
    bad(R"({"model":"kmeans","halflife":1.5})");
    bad(R"({"model":"kmeans","sigma":-1})");
    bad(R"({"model":"kmeans","p":0.5})");
    bad(R"({"model":"kmeans","seed":-1})");
    bad(R"({"model":"kmeans","mu":"zero"})");
}

TEST(KMeans, LabelsAndSingleNumbersAreRefused) {
    std::unique_ptr<Model> m = model_from(R"({"model":"kmeans","n_clusters":2})");
    const std::string msg =
        expect_error(ErrorKind::InvalidParameter, [&] { m->learn(num({{"a", 1}}), Label::of_number(1)); });
    EXPECT_NE(msg.find("learns without labels"), std::string::npos) << msg;
    EXPECT_EQ(m->n_seen(), 0u);
    expect_error(ErrorKind::InvalidParameter, [&] { m->predict(num({{"a", 1}})); });
    // A model that needs a label refuses the label-less form.
    std::unique_ptr<Model> lin = model_from(R"({"model":"linear_regression"})");
    EXPECT_NE(expect_error(ErrorKind::InvalidParameter,
                           [&] { core::check_label(lin->kind(), lin->task(), Label::none()); })
                  .find("needs a label"),
              std::string::npos);
}

TEST(KMeans, FewerExamplesThanClusters) {
    // Documented: every center starts at a random point; before any feature is learned all are
    // empty and every example is in cluster 0; with fewer examples than clusters, centers that
    // took no example keep their random start (count 0) and still take the examples nearest them.
    std::unique_ptr<Model> m = model_from(R"({"model":"kmeans","n_clusters":5,"seed":1})");
    Observation x = num({{"a", 0.3}, {"b", -0.2}});
    std::vector<double> p;
    m->predict_proba(x, p);
    EXPECT_EQ(p, (std::vector<double>{1, 0, 0, 0, 0}));
    EXPECT_FALSE(core::model_info(*m)["trained"].get<bool>());
    m->learn(num({{"a", 10}, {"b", 10}}), Label::none());
    m->learn(num({{"a", 10.5}, {"b", 9.5}}), Label::none());
    const json info = m->info();
    uint64_t zero = 0, total = 0;
    for (const auto& n : info["counts"]) {
        total += n.get<uint64_t>();
        zero += n.get<uint64_t>() == 0;
    }
    EXPECT_EQ(total, 2u);
    EXPECT_GE(zero, 3u);
    // Every center is finite and a prediction is one of the five clusters.
    for (const auto& c : info["centers"])
        for (const auto& v : c) EXPECT_TRUE(std::isfinite(v.get<double>()));
    m->predict_proba(x, p);
    EXPECT_EQ(p.size(), 5u);
    expect_round_trips(*m);
}

TEST(KMeans, NonFiniteInputIsRefusedAndChangesNothing) {
    std::unique_ptr<Model> m = model_from(R"({"model":"kmeans","n_clusters":2})");
    m->learn(num({{"a", 1}}), Label::none());
    const std::vector<uint8_t> before = bytes_of(*m);
    expect_error(ErrorKind::NumericRange, [&] { m->learn(num({{"a", std::nan("")}}), Label::none()); });
    const double dense[] = {1.0, INFINITY};
    expect_error(ErrorKind::NumericRange, [&] { m->learn_dense(dense, 2, Label::none()); });
    EXPECT_EQ(bytes_of(*m), before);
}

TEST(KMeans, TooManyCenterValuesAreRefusedAndChangeNothing) {
    // 1000 centers of 70,000 features pass the limit of 64 Mi values: refused (54000) before any
    // draw, and the model keeps its value (the kit forgets the names the example added).
    std::unique_ptr<Model> m = model_from(R"({"model":"kmeans","n_clusters":1000})");
    m->learn(num({{"x1", 1}}), Label::none());
    const std::vector<uint8_t> before = bytes_of(*m);
    std::vector<double> wide(70000, 0.5);
    expect_error(ErrorKind::ProgramLimit, [&] { m->learn_dense(wide.data(), wide.size(), Label::none()); });
    EXPECT_EQ(bytes_of(*m), before);
    m->learn(num({{"x1", 2}, {"x2", 3}}), Label::none());  // and learns on
    EXPECT_EQ(m->n_seen(), 2u);
    expect_round_trips(*m);
}

TEST(KMeans, PartialModelsDoNotMerge) {
    std::unique_ptr<Model> a = model_from(R"({"model":"kmeans"})");
    std::unique_ptr<Model> b = model_from(R"({"model":"kmeans"})");
    a->learn(num({{"a", 1}}), Label::none());
    b->learn(num({{"a", 2}}), Label::none());
    EXPECT_FALSE(a->can_merge());
    const std::vector<uint8_t> before = bytes_of(*a);
    const std::string msg = expect_error(ErrorKind::InvalidParameter, [&] { a->merge(*b); });
    EXPECT_NE(msg.find("cannot merge"), std::string::npos) << msg;
    EXPECT_EQ(bytes_of(*a), before);
}

TEST(KMeans, CorruptStatesAreRefused) {
    std::unique_ptr<Model> m = model_from(R"({"model":"kmeans","n_clusters":2})");
    m->learn(num({{"a", 1}, {"b", 2}}), Label::none());
    json j = json::parse(m->to_text());
    auto refused = [](const json& v) {
        const std::string t = v.dump();
        expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_text(t.data(), t.size()); });
    };
    json bad = j;
    bad["state"]["counts"] = {5, 0};  // more than the examples seen
    refused(bad);
    bad = j;
    bad["state"]["centers"][0] = {1.0};  // one value for two features
    refused(bad);
    bad = j;
    bad["state"]["rng"] = "xyz";
    refused(bad);
    bad = j;
    bad["state"]["extra"] = 1;
    refused(bad);
    // Every truncation of the binary form is refused.
    const std::vector<uint8_t> b = bytes_of(*m);
    for (size_t n = 0; n < b.size(); n += 7)
        EXPECT_THROW(core::decode_model(b.data(), n), core::Error) << n;
}

}  // namespace
}  // namespace pg_learn::test
