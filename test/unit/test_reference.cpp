// The core against test/reference/reference.py: every update rule and option, after 520 steps.
#include "test_util.hpp"

#include <cmath>
#include <fstream>
#include <map>
#include <iomanip>
#include <set>
#include <sstream>

namespace pg_learn::test {
namespace {

using core::LinearModel;
using core::Observation;
using nlohmann::json;

constexpr double kTol = 1e-9;

const json& load(const char* file) {
    static std::map<std::string, json> cache;
    auto it = cache.find(file);
    if (it != cache.end()) return it->second;
    return cache[file] = read_reference(file);
}

::testing::AssertionResult close(double got, double want, const std::string& what) {
    if (std::fabs(got - want) <= kTol * std::max(1.0, std::fabs(want)))
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ": got " << std::setprecision(17) << got << ", reference "
                                         << want << " (diff " << got - want << ")";
}

// Name -> value of a per-weight array of the model's JSON form.
std::map<std::string, double> by_name(const json& mj, const json& arr) {
    std::map<std::string, double> out;
    const json& names = mj["features"];
    for (size_t i = 0; i < names.size(); i++) out[names[i].get<std::string>()] = arr[i].get<double>();
    return out;
}

void compare_named(const json& mj, const json& arr, const json& want, const std::string& what) {
    auto got = by_name(mj, arr);
    EXPECT_EQ(got.size(), want.size()) << what << ": number of features";
    for (auto it = want.begin(); it != want.end(); ++it) {
        auto g = got.find(it.key());
        if (g == got.end()) {
            ADD_FAILURE() << what << ": feature " << it.key() << " missing";
            continue;
        }
        EXPECT_TRUE(close(g->second, it.value().get<double>(), what + "[" + it.key() + "]"));
    }
}

void compare_indexed(const json& arr, const json& want, const std::string& what) {
    ASSERT_EQ(arr.size(), want.size()) << what;
    for (size_t i = 0; i < want.size(); i++)
        EXPECT_TRUE(close(arr[i].get<double>(), want[i].get<double>(), what + "[" + std::to_string(i) + "]"));
}

// Checks a model against one reference snapshot.
void compare_snapshot(const LinearModel& m, const json& snap, const std::string& where) {
    const json mj = m.to_json();
    EXPECT_EQ(m.n_seen(), snap["n_seen"].get<uint64_t>()) << where;
    EXPECT_TRUE(close(m.intercept(), snap["intercept"].get<double>(), where + " intercept"));
    const bool hashed = m.spec().hashed();
    if (hashed) {
        compare_indexed(mj["weights"], snap["weights_by_index"], where + " w");
        EXPECT_EQ(mj["features"], snap["names"]) << where << ": remembered names";
    } else {
        compare_named(mj, mj["weights"], snap["weights"], where + " w");
    }
    const json* os = mj.contains("optimizer_state") ? &mj["optimizer_state"] : nullptr;
    auto slot = [&](const char* k1) -> const json& {
        for (const char* k : {"g2", "m", "z"})
            if (os->contains(k) && std::string(k1) == "s1") return (*os)[k];
        for (const char* k : {"v", "n"})
            if (os->contains(k)) return (*os)[k];
        throw std::runtime_error("no optimizer state");
    };
    for (const char* s : {"s1", "s2"}) {
        if (!snap.contains(s)) continue;
        ASSERT_NE(os, nullptr) << where;
        if (hashed) compare_indexed(slot(s), snap[s], where + " " + s);
        else compare_named(mj, slot(s), snap[s], where + " " + s);
    }
    if (snap.contains("stats")) {
        ASSERT_TRUE(mj.contains("feature_stats")) << where;
        const json& fs = mj["feature_stats"];
        auto cnt = by_name(mj, fs["count"]), mean = by_name(mj, fs["mean"]), m2 = by_name(mj, fs["m2"]);
        for (auto it = snap["stats"].begin(); it != snap["stats"].end(); ++it) {
            const std::string& n = it.key();
            EXPECT_EQ(cnt[n], it.value()[0].get<double>()) << where << " count[" << n << "]";
            EXPECT_TRUE(close(mean[n], it.value()[1].get<double>(), where + " mean[" + n + "]"));
            EXPECT_TRUE(close(m2[n], it.value()[2].get<double>(), where + " m2[" + n + "]"));
        }
    }
    // The training state: label statistics and the progressive loss.
    EXPECT_EQ(mj.contains("training_state"), snap.contains("training")) << where;
    if (snap.contains("training") && mj.contains("training_state")) {
        const json& ts = mj["training_state"];
        const char* keys[] = {"label_count", "label_mean", "label_m2", "loss_count", "loss_mean", "loss_recent"};
        for (size_t k = 0; k < 6; k++)
            EXPECT_TRUE(close(ts[keys[k]].get<double>(), snap["training"][k].get<double>(), where + " " + keys[k]));
    }
}

std::vector<std::string> case_names(const char* file) {
    std::vector<std::string> out;
    for (const auto& c : load(file)) out.push_back(c["name"].get<std::string>());
    return out;
}

const json& find_case(const char* file, const std::string& name) {
    for (const auto& c : load(file))
        if (c["name"] == name) return c;
    throw std::runtime_error("no case " + name);
}

class ReferenceModel : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceModel, AgreesWithNumPyReference) {
    const json& c = find_case("expected_models.json", GetParam());
    const json& data = load("expected_data.json")[c["dataset"].get<std::string>()];
    LinearModel m(core::ModelSpec::from_json(c["spec"], core::SpecDefaults::Stored));
    Observation obs;
    size_t t = 0, next = 0;
    const json& cps = c["checkpoints"];
    for (const auto& row : data["train"]) {
        to_observation(row["x"], obs);
        m.learn(obs, row["y"].get<double>());
        t++;
        if (next < cps.size() && cps[next]["n_seen"].get<size_t>() == t) {
            compare_snapshot(m, cps[next], GetParam() + " after " + std::to_string(t));
            next++;
        }
    }
    EXPECT_EQ(next, cps.size());
    EXPECT_GE(t, 500u);
    const json& preds = c["predictions"];
    ASSERT_EQ(preds.size(), data["test"].size());
    for (size_t i = 0; i < preds.size(); i++) {
        to_observation(data["test"][i], obs);
        EXPECT_TRUE(close(m.predict(obs), preds[i].get<double>(), "prediction " + std::to_string(i)));
    }
    // Predicting learned nothing: the final snapshot still holds.
    compare_snapshot(m, cps.back(), GetParam() + " after predicting");

    // The stored forms carry the exact same model.
    LinearModel again = LinearModel::from_text(m.to_text().data(), m.to_text().size());
    auto buf = encode(m);
    LinearModel decoded = LinearModel::decode(buf.data(), buf.size());
    for (size_t i = 0; i < preds.size(); i++) {
        to_observation(data["test"][i], obs);
        EXPECT_EQ(bits(again.predict(obs)), bits(m.predict(obs)));
        EXPECT_EQ(bits(decoded.predict(obs)), bits(m.predict(obs)));
    }
}

INSTANTIATE_TEST_SUITE_P(All, ReferenceModel, ::testing::ValuesIn(case_names("expected_models.json")),
                         [](const auto& info) { return info.param; });

TEST(ReferenceCoverage, EveryOptimizerAndModelIsCovered) {
    std::set<std::string> seen;
    for (const auto& c : load("expected_models.json")) {
        auto s = core::ModelSpec::from_json(c["spec"], core::SpecDefaults::Stored);
        seen.insert(std::string(core::model_kind_name(s.kind)) + "/" + core::optimizer_name(s.optimizer.kind));
    }
    for (const char* m : {"linear_regression", "logistic_regression"})
        for (const char* o : {"sgd", "adagrad", "adam", "ftrl"})
            EXPECT_TRUE(seen.count(std::string(m) + "/" + o)) << m << "/" << o;
}

// Parallel combine: start on rows [0,100), partial A on [100,250), partial B on [250,520)
// without the categorical column and with an extra feature only_b = 0.5 (gen_expected.py).
class ReferenceMerge : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceMerge, AgreesWithNumPyReference) {
    const json& c = find_case("expected_merge.json", GetParam());
    const json& data = load("expected_data.json")[c["dataset"].get<std::string>()];
    const json& train = data["train"];
    LinearModel start(core::ModelSpec::from_json(c["spec"], core::SpecDefaults::Stored));
    Observation obs;
    for (size_t i = 0; i < 100; i++) {
        to_observation(train[i]["x"], obs);
        start.learn(obs, train[i]["y"].get<double>());
    }
    LinearModel a = start, b = start;
    a.begin_aggregation();
    b.begin_aggregation();
    for (size_t i = 100; i < 250; i++) {
        to_observation(train[i]["x"], obs);
        a.learn(obs, train[i]["y"].get<double>());
    }
    for (size_t i = 250; i < 520; i++) {
        json x = json::array();
        for (const auto& kv : train[i]["x"])
            if (kv[0] != "color" && kv[0] != "shape") x.push_back(kv);
        x.push_back(json::array({"only_b", 0.5}));
        to_observation(x, obs);
        b.learn(obs, train[i]["y"].get<double>());
    }
    a.merge(b);
    a.end_aggregation();
    compare_snapshot(a, c["merged"], GetParam() + " merged");
    for (size_t i = 0; i < c["predictions"].size(); i++) {
        to_observation(data["test"][i], obs);
        EXPECT_TRUE(close(a.predict(obs), c["predictions"][i].get<double>(), "prediction " + std::to_string(i)));
    }
}

INSTANTIATE_TEST_SUITE_P(All, ReferenceMerge, ::testing::ValuesIn(case_names("expected_merge.json")),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pg_learn::test
