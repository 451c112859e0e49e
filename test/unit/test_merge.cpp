// Combining partial models (docs/algorithms.md "Combining partial models") and info().
#include "test_util.hpp"

#include <cmath>
#include <map>

namespace pg_learn::test {
namespace {

using core::LinearModel;
using core::Observation;
using nlohmann::json;

std::map<std::string, double> named(const LinearModel& m, const char* section = nullptr, const char* key = nullptr) {
    json j = m.to_json();
    const json& arr = section ? j[section][key] : j["weights"];
    std::map<std::string, double> out;
    for (size_t i = 0; i < j["features"].size(); i++) out[j["features"][i]] = arr[i].get<double>();
    return out;
}

double at(const std::map<std::string, double>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? 0.0 : it->second;  // a feature one partial never saw counts as 0
}

const char* kSgd = R"({"model":"linear_regression","optimizer":{"sgd":{"lr":0.25}},"intercept_lr":0.5})";

TEST(Merge, ExampleWeightedAverage) {
    LinearModel start = model_of(kSgd);
    LinearModel a = start, b = start;
    a.begin_aggregation();
    b.begin_aggregation();
    a.learn(num({{"a", 2}}), 3);  // b = 3, w_a = 3
    for (int i = 0; i < 3; i++) b.learn(num({{"b", 1}}), 1);
    const auto wb = named(b);
    const double ib = b.intercept();
    ASSERT_EQ(wb.size(), 1u);
    a.merge(b);
    EXPECT_EQ(a.n_seen(), 4u);
    EXPECT_DOUBLE_EQ(at(named(a), "a"), 3.0 / 4);
    EXPECT_DOUBLE_EQ(at(named(a), "b"), 3.0 * wb.at("b") / 4);
    EXPECT_DOUBLE_EQ(a.intercept(), (3.0 + 3.0 * ib) / 4);
    EXPECT_EQ(a.feature_names(), (std::vector<std::string>{"a", "b"}));
    a.end_aggregation();
    EXPECT_EQ(a.aggregation_base(), 0u);
}

TEST(Merge, CountsOnlyExamplesSinceTheAggregationBegan) {
    LinearModel start = model_of(R"({"model":"linear_regression","optimizer":"adagrad"})");
    for (int i = 0; i < 5; i++) start.learn(num({{"a", i * 0.5}, {"b", 1}}), i);
    LinearModel a = start, b = start;
    a.begin_aggregation();
    b.begin_aggregation();
    EXPECT_EQ(a.aggregation_base(), 5u);
    for (int i = 0; i < 2; i++) a.learn(num({{"a", 1}, {"c", -1}}), 2);
    for (int i = 0; i < 6; i++) b.learn(num({{"b", 0.5}, {"d", i}}), -1);
    const auto wa = named(a), wb = named(b);
    const auto ga = named(a, "optimizer_state", "g2"), gb = named(b, "optimizer_state", "g2");
    const double ia = a.intercept(), ib = b.intercept();
    a.merge(b);
    EXPECT_EQ(a.n_seen(), 5u + 2 + 6);
    for (const char* f : {"a", "b", "c", "d"}) {
        EXPECT_NEAR(at(named(a), f), (2 * at(wa, f) + 6 * at(wb, f)) / 8, 1e-15) << f;
        EXPECT_NEAR(at(named(a, "optimizer_state", "g2"), f), (2 * at(ga, f) + 6 * at(gb, f)) / 8, 1e-12) << f;
    }
    EXPECT_NEAR(a.intercept(), (2 * ia + 6 * ib) / 8, 1e-15);
}

TEST(Merge, IsSymmetric) {
    LinearModel start = model_of(R"({"model":"logistic_regression","optimizer":"adam","scale":true})");
    LinearModel a = start, b = start;
    a.begin_aggregation();
    b.begin_aggregation();
    for (int i = 0; i < 7; i++) a.learn(num({{"a", std::sin(i)}, {"c", 1.0 * i}}), i % 2);
    for (int i = 0; i < 4; i++) b.learn(num({{"b", std::cos(i)}, {"a", 2.0 * i}}), (i + 1) % 2);
    LinearModel ab = a, ba = b;
    ab.merge(b);
    ba.merge(a);
    EXPECT_EQ(ab.n_seen(), ba.n_seen());
    EXPECT_EQ(bits(ab.intercept()), bits(ba.intercept()));
    for (const char* f : {"a", "b", "c"}) {
        EXPECT_EQ(bits(at(named(ab), f)), bits(at(named(ba), f))) << f;
        EXPECT_EQ(bits(at(named(ab, "optimizer_state", "m"), f)), bits(at(named(ba, "optimizer_state", "m"), f))) << f;
        EXPECT_DOUBLE_EQ(at(named(ab, "feature_stats", "mean"), f), at(named(ba, "feature_stats", "mean"), f)) << f;
    }
}

TEST(Merge, FtrlAveragesZAndNThenRecomputesWeights) {
    const char* spec = R"({"model":"linear_regression","optimizer":{"ftrl":{"alpha":1,"beta":1,"l1":3,"l2":0}}})";
    LinearModel a = model_of(spec), b = model_of(spec);
    a.begin_aggregation();
    b.begin_aggregation();
    // A: g = -10 -> z = -10, n = 100 -> w = 7 / 11, outside the band
    a.learn(num({{"a", 1}}), 5);
    EXPECT_NEAR(at(named(a), "a"), 7.0 / 11, 1e-15);
    // B: three examples with zero gradient on a (p = y = 0): z = n = 0
    for (int i = 0; i < 3; i++) b.learn(num({{"a", 1}}), 0);
    EXPECT_EQ(at(named(b), "a"), 0.0);
    a.merge(b);
    // z = -10 / 4 = -2.5, inside the band |z| <= 3: exactly zero although A's weight was not
    EXPECT_DOUBLE_EQ(at(named(a, "optimizer_state", "z"), "a"), -2.5);
    EXPECT_DOUBLE_EQ(at(named(a, "optimizer_state", "n"), "a"), 25.0);
    EXPECT_EQ(at(named(a), "a"), 0.0);

    // outside the band after averaging: w = -(z - sign(z) l1) / ((beta + sqrt(n)) / alpha + l2)
    LinearModel c = model_of(spec), d = model_of(spec);
    c.begin_aggregation();
    d.begin_aggregation();
    c.learn(num({{"a", 1}}), 5);
    d.learn(num({{"a", 1}}), 4);  // g = -8: z = -8, n = 64
    c.merge(d);
    EXPECT_DOUBLE_EQ(at(named(c, "optimizer_state", "z"), "a"), -9.0);
    EXPECT_DOUBLE_EQ(at(named(c, "optimizer_state", "n"), "a"), 82.0);
    EXPECT_NEAR(at(named(c), "a"), 6.0 / (1 + std::sqrt(82.0)), 1e-15);
}

TEST(Merge, StatisticsArePooledExactly) {
    const char* spec = R"({"model":"linear_regression","scale":true})";
    LinearModel a = model_of(spec), b = model_of(spec);
    a.begin_aggregation();
    b.begin_aggregation();
    for (double v : {1.0, 2.0, 3.0}) a.learn(num({{"x", v}}), 0);
    for (double v : {10.0, 20.0}) b.learn(num({{"x", v}, {"only_b", v}}), 0);
    a.merge(b);
    // NumPy: x = [1, 2, 3, 10, 20]: mean 7.2, sum of squared deviations 254.8
    EXPECT_EQ(at(named(a, "feature_stats", "count"), "x"), 5.0);
    EXPECT_NEAR(at(named(a, "feature_stats", "mean"), "x"), 7.2, 1e-14);
    EXPECT_NEAR(at(named(a, "feature_stats", "m2"), "x"), 254.80000000000004, 1e-12);
    EXPECT_EQ(at(named(a, "feature_stats", "count"), "only_b"), 2.0);
    EXPECT_EQ(at(named(a, "feature_stats", "mean"), "only_b"), 15.0);
    EXPECT_EQ(at(named(a, "feature_stats", "m2"), "only_b"), 50.0);
}

TEST(Merge, NothingLearnedLeavesTheModel) {
    LinearModel start = model_of(kSgd);
    start.learn(num({{"a", 2}}), 3);
    LinearModel a = start, b = start;
    a.begin_aggregation();
    b.begin_aggregation();
    a.merge(b);
    EXPECT_EQ(a.n_seen(), 1u);
    EXPECT_EQ(a.intercept(), 3.0);
    EXPECT_EQ(a.weights(), start.weights());
    // one empty partial: the other's parameters
    LinearModel c = start, d = start;
    c.begin_aggregation();
    d.begin_aggregation();
    d.learn(num({{"a", 1}, {"b", 1}}), 0);
    c.merge(d);
    EXPECT_EQ(named(c), named(d));
    EXPECT_EQ(c.intercept(), d.intercept());
    EXPECT_EQ(c.n_seen(), 2u);
}

TEST(Merge, HashedModelsShareTheirIndexSpace) {
    const char* spec = R"({"model":"linear_regression","hash_bits":4,"optimizer":{"sgd":{"lr":0.25}},"intercept_lr":0.5})";
    LinearModel a = model_of(spec), b = model_of(spec);
    a.begin_aggregation();
    b.begin_aggregation();
    a.learn(num({{"f0", 2}}), 3);   // slot 5: 3
    b.learn(num({{"f1", 2}}), 3);   // slot 1: 3
    b.learn(num({{"f34", 1}}), 0);  // slot 5 in b too
    const double b5 = b.weights()[5];
    a.merge(b);
    EXPECT_EQ(a.n_weights(), 16u);
    EXPECT_DOUBLE_EQ(a.weights()[5], (3.0 + 2 * b5) / 3);
    EXPECT_DOUBLE_EQ(a.weights()[1], 2 * b.weights()[1] / 3);
    EXPECT_EQ(a.feature_names(), (std::vector<std::string>{"f0", "f1", "f34"}));
}

TEST(Merge, IncompatibleModelsAreRefused) {
    LinearModel a = model_of(kSgd);
    LinearModel b = model_of(R"({"model":"linear_regression"})");
    expect_error(ErrorKind::InvalidParameter, [&] { a.merge(b); });
    LinearModel c = model_of(kSgd), d = model_of(kSgd);
    double x2[] = {1, 2}, x3[] = {1, 2, 3};
    c.learn_dense(x2, 2, 1);
    d.learn_dense(x3, 3, 1);
    expect_error(ErrorKind::InvalidParameter, [&] { c.merge(d); });
    // arrays of the same length, or one side without arrays, combine
    LinearModel e = model_of(kSgd);
    e.learn(num({{"x1", 1}}), 1);
    e.merge(d);
    EXPECT_EQ(e.dense_dim(), 3u);
}

TEST(Info, Contents) {
    LinearModel m = model_of(R"({"model":"logistic_regression","optimizer":{"sgd":{"lr":1}},"intercept_lr":1,"l1":0.75})");
    Observation o = num({{"a", 1}, {"z", 0.25}});
    o.add_category("c", "x");
    m.learn(o, 1);  // g = -0.5: b = 0.5; w_a = 0.5 -> l1 (shrink 0.75) -> 0; w_c=x -> 0; w_z = 0.125 -> 0
    m.learn(num({{"a", 4}}), 1);
    json j = m.info();
    EXPECT_EQ(j["kind"], "logistic_regression");
    EXPECT_EQ(j["spec"], m.spec().to_json());
    EXPECT_EQ(j["identity"].get<std::string>().size(), 16u);
    EXPECT_EQ(j["updates"], 2);
    EXPECT_EQ(j["n_seen"], 2);
    EXPECT_EQ(j["n_weights"], 3);
    EXPECT_EQ(j["n_features"], 3);
    EXPECT_EQ(j["features"], json::parse(R"(["a","z","c=x"])"));
    EXPECT_EQ(j["feature_types"], json::parse(R"(["numeric","numeric","categorical"])"));
    EXPECT_EQ(j["dense_dim"], 0);
    EXPECT_EQ(j["intercept"].get<double>(), m.intercept());
    // second step: p = sigmoid(0.5), w_a = 4 (1 - p) - 0.75
    const double p = 1 / (1 + std::exp(-0.5));
    EXPECT_NEAR(j["weights"]["a"].get<double>(), 4 * (1 - p) - 0.75, 1e-15);
    EXPECT_EQ(j["weights"]["z"].get<double>(), 0.0);
    EXPECT_EQ(j["weights"]["c=x"].get<double>(), 0.0);
    EXPECT_EQ(j["n_nonzero_weights"], 1);
    EXPECT_EQ(j["size_bytes"].get<size_t>(), m.encoded_size());
    // two equal specs have the same identity, whatever the models learned
    EXPECT_EQ(j["identity"], model_of(m.spec().canonical_text()).info()["identity"]);

    double x[] = {1, 2};
    LinearModel d = model_of(R"({"model":"linear_regression","hash_bits":2})");
    d.learn_dense(x, 2, 1);
    json k = d.info();
    EXPECT_EQ(k["dense_dim"], 2);
    EXPECT_EQ(k["n_weights"], 4);
    EXPECT_EQ(k["features"], json::parse(R"(["x1","x2"])"));
}

}  // namespace
}  // namespace pg_learn::test
