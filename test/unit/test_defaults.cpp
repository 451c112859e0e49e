// This release's defaults, the stored specs that keep 0.1.0's, the training state (label
// scaling, progressive loss, divergence) and a parallel aggregate that counts its starting
// model's statistics once (docs/algorithms.md, "Options and defaults", "Divergence and the
// training loss", "Combining partial models").
#include "test_util.hpp"

#include "core/models/linear/linear_model.hpp"
#include "core/models/model.hpp"

#include <cmath>
#include <cstring>
#include <random>

namespace pg_learn::test {
namespace {

using core::ErrorKind;
using core::LinearModel;
using core::ModelSpec;
using core::Observation;
using core::SpecDefaults;
using nlohmann::json;

TEST(Defaults, NewSpecsLearnOnRawData) {
    const ModelSpec lin = current_spec_of(R"({"model":"linear_regression"})");
    EXPECT_EQ(lin.optimizer.kind, core::OptimizerKind::AdaGrad);
    EXPECT_EQ(lin.optimizer.lr, 0.1);
    EXPECT_TRUE(lin.scale);
    EXPECT_TRUE(lin.scale_target);
    EXPECT_TRUE(lin.check_divergence);
    EXPECT_EQ(lin.intercept_lr, 0.001);
    const ModelSpec log = current_spec_of(R"({"model":"logistic_regression"})");
    EXPECT_FALSE(log.scale_target);
    EXPECT_EQ(log.intercept_lr, 0.01);
    EXPECT_TRUE(log.scale);
    EXPECT_EQ(current_spec_of(R"({"model":"linear_regression","optimizer":"adam"})").optimizer.lr, 0.01);
    EXPECT_EQ(current_spec_of(R"({"model":"linear_regression","scale_target":false})").intercept_lr, 0.01);
    // what a user spells out wins
    const ModelSpec sgd = current_spec_of(R"({"model":"linear_regression","optimizer":"sgd","scale":false})");
    EXPECT_EQ(sgd.optimizer.kind, core::OptimizerKind::Sgd);
    EXPECT_FALSE(sgd.scale);
    expect_error(ErrorKind::InvalidParameter, [] { current_spec_of(R"({"model":"softmax_regression","scale_target":true})"); });
    expect_error(ErrorKind::InvalidParameter, [] { current_spec_of(R"({"model":"linear_regression","check_divergence":"yes"})"); });
}

TEST(Defaults, StoredSpecsKeepTheirReleasesMeaning) {
    // 0.1.0's canonical text of {"model":"linear_regression"}, as docs/format.md prints it
    const std::string v010 =
        R"({"clip_gradient":1000000000000.0,"hash_bits":0,"ignore":[],"intercept_init":0.0,"intercept_lr":0.01,"l1":0.0,"l2":0.0,"missing":"zero","model":"linear_regression","optimizer":{"sgd":{"lr":0.01}},"scale":false})";
    const ModelSpec s = ModelSpec::from_json(json::parse(v010), SpecDefaults::Stored);
    EXPECT_FALSE(s.scale_target);
    EXPECT_FALSE(s.check_divergence);
    EXPECT_EQ(s.canonical_text(), v010);  // the same bytes, so the same identity
    EXPECT_FALSE(s.keeps_training_state());
    // the display form spells out every option
    EXPECT_EQ(s.to_json()["scale_target"], false);
    EXPECT_EQ(s.to_json()["check_divergence"], false);
    // a new spec's canonical text carries the new options, and reads back as the same spec
    const ModelSpec n = current_spec_of(R"({"model":"linear_regression"})");
    const std::string t = n.canonical_text();
    EXPECT_NE(t.find("\"scale_target\":true"), std::string::npos);
    EXPECT_EQ(ModelSpec::from_json(json::parse(t), SpecDefaults::Stored).canonical_text(), t);
    EXPECT_EQ(ModelSpec::from_json(json::parse(t), SpecDefaults::Current).canonical_text(), t);
}

// y = 3a - 2b + 1e5 with a in 1e3 units, b in 1e-2 units: raw units a plain SGD cannot take.
void raw_stream(std::vector<std::pair<Observation, double>>& out, int n) {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> z(0, 1);
    for (int i = 0; i < n; i++) {
        const double a = 1000 * z(rng) + 5000, b = 0.01 * z(rng);
        out.push_back({num({{"a", a}, {"b", b}}), 3 * a - 20000 * b + 1e5 + 10 * z(rng)});
    }
}

TEST(Defaults, ScaleTargetLearnsAndPredictsInTheLabelsUnits) {
    std::vector<std::pair<Observation, double>> data;
    raw_stream(data, 4000);
    LinearModel m(current_spec_of(R"({"model":"linear_regression"})"));
    EXPECT_EQ(m.predict(data[0].first), 0.0);  // intercept_init before any label
    for (int epoch = 0; epoch < 3; epoch++)
        for (auto& [x, y] : data) m.learn(x, y);
    double se = 0, var = 0, mean = 0;
    for (auto& [x, y] : data) mean += y / data.size();
    for (auto& [x, y] : data) {
        const double e = m.predict(x) - y;
        se += e * e;
        var += (y - mean) * (y - mean);
    }
    EXPECT_LT(se / var, 0.01) << "R^2 " << 1 - se / var;
    // the label statistics are those of every label learned (3 epochs)
    const auto& ts = m.training_state();
    EXPECT_EQ(ts.y_count, 3.0 * data.size());
    EXPECT_NEAR(ts.y_mean, mean, 1e-9 * std::fabs(mean));
    EXPECT_EQ(ts.loss_count, 3.0 * data.size());
    EXPECT_GT(ts.loss_mean, 0.0);
    EXPECT_LT(ts.loss_recent, 0.01 * var / data.size());
    const json info = m.info();
    EXPECT_EQ(info["training_loss"]["loss"], "squared_error");
    EXPECT_EQ(info["training_loss"]["examples"], 3 * data.size());
    EXPECT_EQ(info["label"]["count"], 3 * data.size());
}

TEST(Defaults, ProgressiveLossByHand) {
    // logistic: the first example's loss is log 2 (score 0), the recent loss starts at it
    LinearModel log(current_spec_of(R"({"model":"logistic_regression"})"));
    log.learn(num({{"a", 1}}), 1.0);
    EXPECT_DOUBLE_EQ(log.training_state().loss_mean, std::log(2.0));
    EXPECT_DOUBLE_EQ(log.training_state().loss_recent, std::log(2.0));
    // regression with scale_target: the first label's prediction is the label itself (sd 0),
    // so its loss is 0; the second: label stats (1, 3) -> mean 2, sd 1; y' = 1; the score is
    // the intercept after one step (0, since y' was 0) and a's scaled value 1 times its weight 0:
    // the prediction is 0 * 1 + 2 = 2, loss (2 - 3)^2 = 1; recent = 0 + 0.01 * (1 - 0)
    LinearModel lin(current_spec_of(R"({"model":"linear_regression"})"));
    lin.learn(num({{"a", 1}}), 1.0);
    EXPECT_EQ(lin.training_state().loss_mean, 0.0);
    lin.learn(num({{"a", 2}}), 3.0);
    EXPECT_DOUBLE_EQ(lin.training_state().loss_mean, 0.5);
    EXPECT_DOUBLE_EQ(lin.training_state().loss_recent, 0.01);
    EXPECT_DOUBLE_EQ(lin.training_state().y_mean, 2.0);
    EXPECT_DOUBLE_EQ(lin.training_state().y_m2, 2.0);
}

TEST(Divergence, AnExplodingRegressionStopsWithAnErrorAndKeepsItsValue) {
    std::vector<std::pair<Observation, double>> data;
    raw_stream(data, 2000);
    // 0.1.0's defaults (plain SGD, raw units) with the divergence check on
    LinearModel m(current_spec_of(R"({"model":"linear_regression","optimizer":"sgd","scale":false,"scale_target":false})"));
    size_t learned = 0;
    std::string msg;
    for (auto& [x, y] : data) {
        const auto before = encode(m);
        try {
            m.learn(x, y);
            learned++;
        } catch (const core::Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::NumericRange);
            msg = e.what();
            // the refused update changed nothing the model stores but the label statistics
            // of this example, which the caller's statement discards with the error
            break;
        }
        (void)before;
    }
    EXPECT_NE(msg.find("diverged"), std::string::npos) << msg;
    EXPECT_LT(learned, 50u);  // caught within a few dozen examples, not after 1e16 garbage
    // and with the check off, the same stream gives finite garbage or a non-finite error:
    // what 0.1.0 did, which is now only what a user asks for
    LinearModel off(spec_of(R"({"model":"linear_regression"})"));
    bool garbage = false;
    try {
        for (auto& [x, y] : data) off.learn(x, y);
        garbage = std::fabs(off.predict(data[0].first) - data[0].second) > 1e9;
    } catch (const core::Error&) {
        garbage = true;
    }
    EXPECT_TRUE(garbage);
}

TEST(Divergence, ALegitimateModelIsNeverStopped) {
    // noisy labels with outliers, a model that learns well: no false alarm
    std::mt19937_64 rng(3);
    std::normal_distribution<double> z(0, 1);
    LinearModel m(current_spec_of(R"({"model":"linear_regression"})"));
    LinearModel c(current_spec_of(R"({"model":"logistic_regression"})"));
    for (int i = 0; i < 20000; i++) {
        const double a = z(rng);
        const double y = i % 500 == 0 ? 1e4 : a + 0.1 * z(rng);
        EXPECT_NO_THROW(m.learn(num({{"a", a}}), y));
        EXPECT_NO_THROW(c.learn(num({{"a", a}}), (i % 97 == 0) ? double(a < 0) : double(a > 0)));
    }
}

TEST(Format, TrainingStateRoundTripsAndIsValidated) {
    LinearModel m(current_spec_of(R"({"model":"linear_regression"})"));
    for (int i = 0; i < 20; i++) m.learn(num({{"a", double(i)}}), 2.0 * i);
    const auto bytes = encode(m);
    const LinearModel d = LinearModel::decode(bytes.data(), bytes.size());
    EXPECT_EQ(encode(d), bytes);
    EXPECT_EQ(d.training_state().y_m2, m.training_state().y_m2);
    const std::string text = m.to_text();
    EXPECT_EQ(encode(LinearModel::from_text(text.data(), text.size())), bytes);
    // a wrong training state is refused in the text form
    json j = json::parse(text);
    for (const char* key : {"label_count", "label_m2", "loss_mean", "loss_count"}) {
        json k = j;
        k["training_state"][key] = -1.0;
        const std::string t = k.dump();
        expect_error(ErrorKind::InvalidParameter, [&] { LinearModel::from_text(t.data(), t.size()); });
    }
    json k = j;
    k.erase("training_state");
    std::string t = k.dump();
    expect_error(ErrorKind::InvalidParameter, [&] { LinearModel::from_text(t.data(), t.size()); });
    // a classifier has no label statistics
    LinearModel c(current_spec_of(R"({"model":"logistic_regression"})"));
    c.learn(num({{"a", 1}}), 1.0);
    json cj = json::parse(c.to_text());
    cj["training_state"]["label_count"] = 1.0;
    t = cj.dump();
    expect_error(ErrorKind::InvalidParameter, [&] { LinearModel::from_text(t.data(), t.size()); });
    // the binary form refuses a flipped byte of the section (checksum) and a bad value
    std::vector<uint8_t> bad = bytes;
    bad[bad.size() - 8] ^= 1;
    expect_error(ErrorKind::InvalidBinary, [&] { LinearModel::decode(bad.data(), bad.size()); });
}

// A trained model starts a parallel aggregate: two partial models learn disjoint rows; the
// merged statistics equal those of every example once.
TEST(Merge, TheStartingModelsStatisticsCountOnce) {
    std::vector<std::pair<Observation, double>> data;
    raw_stream(data, 900);
    LinearModel start(current_spec_of(R"({"model":"linear_regression"})"));
    for (int i = 0; i < 300; i++) start.learn(data[i].first, data[i].second);
    LinearModel a = start, b = start;
    a.begin_aggregation();
    b.begin_aggregation();
    for (int i = 300; i < 500; i++) a.learn(data[i].first, data[i].second);
    for (int i = 500; i < 900; i++) b.learn(data[i].first, data[i].second);
    // b crosses a process boundary: its binary form carries its aggregation base
    const auto bb = encode(b);
    const LinearModel b2 = LinearModel::decode(bb.data(), bb.size());
    EXPECT_EQ(encode(b2), bb);
    a.merge(b2);
    a.end_aggregation();
    double n = 0, mean = 0, m2 = 0, ym = 0, ym2 = 0;
    for (auto& [x, y] : data) {  // Welford over every example: feature a, and the label
        n++;
        const double v = x[0].value, d = v - mean;
        mean += d / n;
        m2 += d * (v - mean);
        const double dy = y - ym;
        ym += dy / n;
        ym2 += dy * (y - ym);
    }
    const json fs = json::parse(a.to_text())["feature_stats"];
    EXPECT_EQ(fs["count"][0].get<double>(), 900.0);
    EXPECT_NEAR(fs["mean"][0].get<double>(), mean, 1e-9 * std::fabs(mean));
    EXPECT_NEAR(fs["m2"][0].get<double>(), m2, 1e-7 * m2);
    EXPECT_EQ(a.training_state().y_count, 900.0);
    EXPECT_NEAR(a.training_state().y_mean, ym, 1e-9 * std::fabs(ym));
    EXPECT_NEAR(a.training_state().y_m2, ym2, 1e-7 * ym2);
    EXPECT_EQ(a.training_state().loss_count, 900.0);
    EXPECT_EQ(a.n_seen(), 900u);
    // the final model holds no aggregation base, and is a stored model like any other
    EXPECT_FALSE(json::parse(a.to_text()).contains("aggregation_base_state"));
    // a fresh start has no base: nothing to remove
    LinearModel f(current_spec_of(R"({"model":"linear_regression"})"));
    f.begin_aggregation();
    EXPECT_FALSE(json::parse(f.to_text()).contains("aggregation_base_state"));
}

// A hashed model keeps its base sparse: only the positions in use travel with a partial state.
TEST(Merge, AHashedModelsBaseIsSmallAndCountsOnce) {
    std::vector<std::pair<Observation, double>> data;
    raw_stream(data, 300);
    LinearModel start(current_spec_of(R"({"model":"linear_regression","hash_bits":20})"));
    for (int i = 0; i < 100; i++) start.learn(data[i].first, data[i].second);
    LinearModel a = start, b = start;
    const size_t plain = encode(start).size();
    a.begin_aggregation();
    b.begin_aggregation();
    const auto ab = encode(a);
    EXPECT_LT(ab.size(), plain + 200) << "two used positions and the training state";
    EXPECT_EQ(encode(LinearModel::decode(ab.data(), ab.size())), ab);
    const std::string at = a.to_text();
    EXPECT_EQ(encode(LinearModel::from_text(at.data(), at.size())), ab);
    for (int i = 100; i < 200; i++) a.learn(data[i].first, data[i].second);
    for (int i = 200; i < 300; i++) b.learn(data[i].first, data[i].second);
    const auto bb = encode(b);
    a.merge(LinearModel::decode(bb.data(), bb.size()));
    a.end_aggregation();
    const json fs = json::parse(a.to_text())["feature_stats"];
    double total = 0;
    for (const auto& c : fs["count"]) total += c.get<double>();
    EXPECT_EQ(total, 600.0);  // two features, 300 examples each, once
    EXPECT_EQ(a.training_state().y_count, 300.0);
    // a corrupted position is refused
    json j = json::parse(at);
    j["aggregation_base_state"]["positions"][0] = 1u << 21;
    const std::string t = j.dump();
    expect_error(ErrorKind::InvalidParameter, [&] { LinearModel::from_text(t.data(), t.size()); });
}

// A spec that spells out this release's defaults is the same spec as one that leaves them out:
// through ml_model's input (model_from_text: a user's spec, SpecDefaults::Current) the two give
// byte-identical models, before and after learning. A linear_regression's defaults are scale
// true and scale_target true (docs/algorithms.md, "Options and defaults"), so writing them
// changes nothing, and writing either false gives another model.
TEST(Defaults, SpelledOutDefaultsGiveTheSameModel) {
    auto model = [](const char* spec) { return core::model_from_text(spec, std::strlen(spec)); };
    const auto plain = model(R"({"model":"linear_regression"})");
    const auto& spec = dynamic_cast<const LinearModel&>(*plain).spec();
    EXPECT_TRUE(spec.scale);
    EXPECT_TRUE(spec.scale_target);
    EXPECT_EQ(plain->info()["spec"]["scale"], true);
    EXPECT_EQ(plain->info()["spec"]["scale_target"], true);
    const auto both = model(R"({"model":"linear_regression","scale":true,"scale_target":true})");
    // every option at this release's default, as docs/algorithms.md's table gives them
    const auto all = model(R"({"model":"linear_regression","optimizer":{"adagrad":{"lr":0.1,"eps":1e-8}},"l1":0,"l2":0,)"
                           R"("intercept_init":0,"intercept_lr":0.001,"clip_gradient":1e12,"scale":true,"scale_target":true,)"
                           R"("check_divergence":true,"hash_bits":0,"missing":"zero","ignore":[]})");
    const auto no_scale = model(R"({"model":"linear_regression","scale":false})");
    const auto no_scale_target = model(R"({"model":"linear_regression","scale_target":false})");
    const auto neither = model(R"({"model":"linear_regression","scale":false,"scale_target":false})");
    EXPECT_EQ(bytes_of(*both), bytes_of(*plain));
    EXPECT_EQ(bytes_of(*all), bytes_of(*plain));
    EXPECT_NE(bytes_of(*no_scale), bytes_of(*plain));
    EXPECT_NE(bytes_of(*no_scale_target), bytes_of(*plain));
    EXPECT_NE(bytes_of(*neither), bytes_of(*no_scale));
    EXPECT_FALSE(dynamic_cast<const LinearModel&>(*no_scale).spec().scale);
    EXPECT_TRUE(dynamic_cast<const LinearModel&>(*no_scale).spec().scale_target);
    EXPECT_TRUE(dynamic_cast<const LinearModel&>(*no_scale_target).spec().scale);
    EXPECT_FALSE(dynamic_cast<const LinearModel&>(*no_scale_target).spec().scale_target);
    // the same rows learned: still the same bytes, and other predictions without the defaults
    std::vector<std::pair<Observation, double>> data;
    raw_stream(data, 200);
    for (auto* m : {plain.get(), both.get(), all.get(), no_scale.get(), no_scale_target.get()})
        for (auto& [x, y] : data) m->learn(x, core::Label::of_number(y));
    EXPECT_EQ(bytes_of(*both), bytes_of(*plain));
    EXPECT_EQ(bytes_of(*all), bytes_of(*plain));
    EXPECT_EQ(both->predict(data[0].first), plain->predict(data[0].first));
    EXPECT_NE(no_scale->predict(data[0].first), plain->predict(data[0].first));
    EXPECT_NE(no_scale_target->predict(data[0].first), plain->predict(data[0].first));
}

}  // namespace
}  // namespace pg_learn::test
