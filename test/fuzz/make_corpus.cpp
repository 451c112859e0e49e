// Writes the seed corpus of the fuzz harnesses (test/fuzz/corpus/<harness>/) from real values
// made through the core's own API: models of every kind fresh and trained (pipelines with every
// step, partitioned models of one and two levels, ensembles, with and without a training
// history), XGBoost models of every objective with and without node covers, ml_stats of both kinds
// (with NULLs, NaN, infinities, a compacted quantile sketch), profiles, metric states of every
// kind, class metric states, the sketches alone, feature objects and option texts. Run by
// test/fuzz/make_corpus.sh; the output is committed. Deterministic: the same files every run.
#include "core/common/error.hpp"
#include "core/drift/detectors.hpp"
#include "core/metrics/class_metrics.hpp"
#include "core/metrics/metrics.hpp"
#include "core/models/model.hpp"
#include "core/models/training_history.hpp"
#include "core/sketches/hll.hpp"
#include "core/sketches/kll.hpp"
#include "core/sketches/space_saving.hpp"
#include "core/stats/feature_stats.hpp"
#include "core/stats/profile.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace pg_learn;
namespace fs = std::filesystem;

namespace {

fs::path root;

// One file per distinct input of a harness (a second spec that makes the same model, say, is
// left out: the corpus stays small).
void put(const std::string& harness, const std::string& name, const std::string& bytes) {
    static std::map<std::string, std::set<std::string>> seen;
    if (!seen[harness].insert(bytes).second) return;
    fs::create_directories(root / harness);
    std::ofstream(root / harness / name, std::ios::binary) << bytes;
}

std::string model_bytes(const core::Model& m) {
    std::string out(m.encoded_size(), '\0');
    m.encode(reinterpret_cast<uint8_t*>(out.data()), out.size());
    return out;
}

template <typename T>
std::string state_bytes(const T& v) {
    std::string out(v.encoded_size(), '\0');
    v.encode(reinterpret_cast<uint8_t*>(out.data()), out.size());
    return out;
}

// The rows a model learns: mixed (numbers, a category, a missing value), numbers only (for the
// kinds that take no category), or mixed with a timestamp "t" (seconds since 1970) and a second
// partition key "k" (for pipelines' date parts and partitioned models' levels).
enum class Rows { Mixed, Numbers, Timed };

struct Spec {
    const char* text;
    Rows rows;
};

const Spec kSpecs[] = {
    {R"({"model":"linear_regression"})", Rows::Mixed},
    {R"({"model":"linear_regression","scale":true,"scale_target":true})", Rows::Mixed},
    {R"({"model":"linear_regression","missing":"mean","optimizer":"adagrad","l2":0.01})", Rows::Mixed},
    {R"({"model":"logistic_regression","scale":true,"check_divergence":true})", Rows::Mixed},
    {R"({"model":"logistic_regression","optimizer":"adam","ignore":["y"]})", Rows::Mixed},
    {R"({"model":"logistic_regression","optimizer":"ftrl","hash_bits":4})", Rows::Mixed},
    {R"({"model":"softmax_regression","scale":true,"optimizer":"adagrad"})", Rows::Mixed},
    {R"({"model":"softmax_regression","hash_bits":3,"optimizer":"adam"})", Rows::Mixed},
    {R"({"model":"passive_aggressive_classifier","ignore":["y"]})", Rows::Mixed},
    {R"({"model":"passive_aggressive_regressor","variant":"pa-ii","C":0.5})", Rows::Mixed},
    {R"({"model":"bernoulli_nb","alpha":0.5})", Rows::Mixed},
    {R"({"model":"hoeffding_tree_classifier","grace_period":4,"delta":0.5,"tau":1,"leaf_prediction":"nba"})", Rows::Mixed},
    // (these take numbers only, and the counts of multinomial_nb are not negative)
    {R"({"model":"gaussian_nb","var_smoothing":1e-6})", Rows::Numbers},
    {R"({"model":"multinomial_nb","alpha":0.5})", Rows::Numbers},
    {R"({"model":"kmeans","n_clusters":3,"halflife":0.3,"seed":7})", Rows::Numbers},
    {R"({"model":"half_space_trees","n_trees":3,"height":4,"window_size":5,"seed":1})", Rows::Numbers},
    {R"({"model":"hoeffding_tree_regressor","grace_period":4,"leaf_prediction":"adaptive"})", Rows::Numbers},
    {R"({"model":"bagging_regressor","n_models":2,"seed":3})", Rows::Numbers},
    {R"({"model":"bagging_classifier","base":{"model":"logistic_regression"},"n_models":2,"seed":5})", Rows::Numbers},
    {R"({"model":"bagging_classifier","base":{"model":"gaussian_nb"},"n_models":2})", Rows::Numbers},
    {R"({"model":"adaptive_random_forest_classifier","n_models":2,"tree":{"grace_period":4}})", Rows::Numbers},
    {R"({"model":"xgboost"})", Rows::Numbers},
    // Ensembles of other members, and ensembles' trees with categories.
    {R"({"model":"bagging_regressor","base":{"model":"hoeffding_tree_regressor","grace_period":3},"n_models":2,"seed":4})", Rows::Mixed},
    {R"({"model":"bagging_classifier","base":{"model":"hoeffding_tree_classifier","grace_period":3},"n_models":3,"seed":6})", Rows::Mixed},
    {R"({"model":"adaptive_random_forest_classifier","n_models":3,"seed":2,"tree":{"grace_period":3}})", Rows::Mixed},
    // Partitioned models (issue 14): one level, two levels (a hierarchy: k, then c within k),
    // a numeric key, a bound on partitions, bases of other families.
    {R"({"model":"partitioned","by":["b"],"min_examples":2,"base":{"model":"linear_regression"}})", Rows::Mixed},
    {R"({"model":"partitioned","by":["k","c"],"min_examples":2,"base":{"model":"logistic_regression","scale":true}})", Rows::Timed},
    {R"({"model":"partitioned","by":["c","k"],"min_examples":3,"max_partitions":6,"base":{"model":"softmax_regression"}})", Rows::Timed},
    {R"({"model":"partitioned","by":["k"],"min_examples":1,"base":{"model":"hoeffding_tree_regressor","grace_period":3}})", Rows::Timed},
    {R"({"model":"partitioned","by":["c"],"min_examples":2,"base":{"model":"bagging_classifier","base":{"model":"gaussian_nb"},"n_models":2}})", Rows::Mixed},
    // Pipelines (docs/pipelines.md): every step kind, every target_agg statistic, every date_parts
    // encoding, and final models of each task.
    {R"({"pipeline":[{"target_agg":{"by":"b","how":"mean"}},"standard_scaler",{"clip":{"min":-5,"max":5}},{"linear_regression":{}}]})", Rows::Mixed},
    {R"({"pipeline":[{"select":["a","b","c","t","k"]},{"date_parts":{"column":"t","parts":["hour","weekday"],"encoding":"raw"}},{"target_agg":{"by":["k","t_hour"],"how":"count"}},{"target_agg":{"by":"c","how":{"ewmean":0.5},"name":"c_ew"}},{"logistic_regression":{"scale":true}}]})", Rows::Timed},
    {R"({"pipeline":[{"date_parts":{"column":"t","encoding":"cyclic"}},{"target_agg":{"by":"k","how":"var"}},{"target_agg":{"by":"c","how":"min","name":"c_min"}},{"target_agg":{"by":"c","how":"max","name":"c_max","max_groups":2}},{"target_agg":{"by":["c","k"],"how":{"ewvar":0.3}}},{"model":"hoeffding_tree_regressor","grace_period":3}]})", Rows::Timed},
    {R"({"pipeline":[{"date_parts":{"column":"t","parts":["month","yearday"],"encoding":"both"}},{"clip":{"columns":["a"],"min":0}},{"log":{"columns":["a"],"offset":1}},{"interactions":[["c","k"],["a","b"]]},{"binning":{"column":"b","edges":[-1,0,500]}},{"binning":{"column":"a","edges":[0.5],"keep":true,"name":"a_cut"}},{"softmax_regression":{}}]})", Rows::Timed},
    {R"({"pipeline":[{"interactions":[["c","a"]]},{"binning":{"column":"a","edges":[-1,0,1,2]}},"standard_scaler",{"model":"partitioned","by":["c"],"min_examples":2,"base":{"model":"linear_regression"}}]})", Rows::Mixed},
    {R"({"pipeline":[{"log":{"columns":["b"],"offset":2}},"standard_scaler",{"model":"bagging_classifier","base":{"model":"logistic_regression"},"n_models":2,"seed":1}],"ignore":["d"]})", Rows::Numbers},
    {R"({"model":"pipeline","steps":[{"select":["a","b"]},"standard_scaler",{"model":"kmeans","n_clusters":2,"seed":3}]})", Rows::Numbers},
};

core::Observation row(Rows kind, unsigned i) {
    core::Observation x;
    if (kind == Rows::Numbers) {
        x.add_numeric("a", 0.5 * i);
        x.add_numeric("b", i % 3 ? 3.0 : 0.0);
        return x;
    }
    x.add_numeric("a", 0.5 * i - 2);
    x.add_numeric("b", i % 3 ? 1e3 : -1e-3);
    x.add_category("c", i % 2 ? "u" : "v");
    if (i % 4 == 0) x.add_missing("d");
    if (kind == Rows::Timed) {
        x.add_numeric("t", 1.7e9 + 40000.0 * i);  // 2023-11, a few hours and days apart
        if (i % 5 == 4) x.add_missing("k");        // a path that ends early
        else x.add_category("k", i % 3 ? "FR" : "DE");
    }
    return x;
}

core::Label label(const core::Model& m, unsigned i) {
    if (core::learns_without_labels(m.task())) return core::Label::none();
    if (m.task() == core::Task::Multiclass) return core::Label::of_text(i % 3 == 0 ? "p" : i % 3 == 1 ? "q" : "r");
    if (m.task() == core::Task::Binary) return core::Label::of_number(i % 2);
    return core::Label::of_number(0.25 * i);
}

// A model's value with a training history (format version 2), as ml_train returns it.
core::TrainingHistory history_of(const core::Model& m) {
    core::TrainingHistory h;
    h.loss = core::loss_of_task(m.task());
    h.epochs = 5;
    h.epochs_run = 3;
    h.rows = 20;
    const double none = std::numeric_limits<double>::quiet_NaN();
    const bool lossy = h.loss != core::LossKind::None;
    if (lossy) {
        h.patience = 2;
        h.stopped_early = true;
        h.best_epoch = 1;
        h.validation_rows = 4;
    }
    h.records = {{lossy ? 0.5 : none, lossy ? 0.4 : none}, {lossy ? 0.3 : none, lossy ? 0.45 : none},
                 {lossy ? 0.2 : none, lossy ? 0.5 : none}};
    return h;
}

void put_model(const std::string& tag, const core::Model& m, bool with_history) {
    put("fuzz_model_binary", tag + ".bin", model_bytes(m));
    put("fuzz_model_text", tag + ".json", m.to_text());
    if (!with_history) return;
    const core::TrainingHistory h = history_of(m);
    std::string bytes(core::model_value_size(m, &h), '\0');
    core::encode_model_value(m, &h, reinterpret_cast<uint8_t*>(bytes.data()), bytes.size());
    put("fuzz_model_binary", "history_" + tag + ".bin", bytes);
    put("fuzz_model_text", "history_" + tag + ".json", core::model_value_to_json(m, &h).dump());
}

// Every spec: the spec itself (fuzz_spec, fuzz_model_text), the fresh model, and the model
// trained on 12 rows, in binary and JSON forms (seven of them also with a training history).
void models() {
    int n = 0;
    for (const Spec& s : kSpecs) {
        const std::string tag = std::to_string(n++);
        put("fuzz_spec", "spec" + tag + ".json", s.text);
        put("fuzz_model_text", "spec" + tag + ".json", s.text);
        std::unique_ptr<core::Model> m;
        try {
            m = core::model_from_text(s.text, std::strlen(s.text));
            put("fuzz_model_binary", "fresh" + tag + ".bin", model_bytes(*m));
            if (!m->can_learn()) continue;  // (an imported kind only predicts)
            for (unsigned i = 0; i < 12; i++) m->learn(row(s.rows, i), label(*m, i));
        } catch (const core::Error& e) {
            std::fprintf(stderr, "spec %s: %s\n", s.text, e.what());
            std::exit(1);
        }
        // A history for a model of each task (and loss) and for the nested kinds only: the value
        // around the model is the same for all (and every seed costs the fixed exploration time).
        const bool with_history = n - 1 == 0 || n - 1 == 3 || n - 1 == 6 || n - 1 == 14 || n - 1 == 15 ||
                                  n - 1 == 26 || n - 1 == 31;
        put_model("trained" + tag, *m, with_history);
    }
}

// ml_import('xgboost', ...): a hand-written binary:logistic model with a numeric and a categorical
// split (the one of test/unit/test_xgboost_import.cpp, which xgboost 1.7 loads), with its node
// covers ("sum_hessian", which ml_explain's TreeSHAP needs), then the same trees under every
// objective scored (a multi:* one with two classes, a tree each), and without covers (a model
// imported so refuses explanations; its stored form has no cover section, as before issue 16).
// Each: the XGBoost file (fuzz_import_xgboost), and the imported model's binary and JSON forms.
void imported() {
    const std::string binary = R"json({"learner":{"attributes":{},"feature_names":["a","c"],"feature_types":["q","c"],"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"2","size_leaf_vector":"0"},"tree_info":[0,0],"trees":[{"base_weights":[0.0,-0.4,0.6],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"default_left":[1,0,0],"id":0,"left_children":[1,-1,-1],"loss_changes":[2.5,0.0,0.0],"parents":[2147483647,0,0],"right_children":[2,-1,-1],"split_conditions":[0.5,-0.4,0.6],"split_indices":[0,0,0],"split_type":[0,0,0],"sum_hessian":[10.0,5.0,5.0],"tree_param":{"num_deleted":"0","num_feature":"2","num_nodes":"3","size_leaf_vector":"0"}},{"base_weights":[0.0,-0.1,0.2],"categories":[1,3],"categories_nodes":[0],"categories_segments":[0],"categories_sizes":[2],"default_left":[0,0,0],"id":1,"left_children":[1,-1,-1],"loss_changes":[1.5,0.0,0.0],"parents":[2147483647,0,0],"right_children":[2,-1,-1],"split_conditions":[NaN,-0.1,0.2],"split_indices":[1,0,0],"split_type":[1,0,0],"sum_hessian":[10.0,6.0,4.0],"tree_param":{"num_deleted":"0","num_feature":"2","num_nodes":"3","size_leaf_vector":"0"}}]},"name":"gbtree"},"learner_model_param":{"base_score":"5E-1","boost_from_average":"1","num_class":"0","num_feature":"2","num_target":"1"},"objective":{"name":"binary:logistic","reg_loss_param":{"scale_pos_weight":"1"}}},"version":[1,7,4]})json";
    auto replaced = [](std::string text, const std::string& from, const std::string& to) {
        const size_t at = text.find(from);
        if (at == std::string::npos) {
            std::fprintf(stderr, "make_corpus: \"%s\" not in the XGBoost model\n", from.c_str());
            std::exit(1);
        }
        return text.replace(at, from.size(), to);
    };
    const std::string objective = "binary:logistic";
    std::vector<std::pair<std::string, std::string>> files = {{"binary", binary}};
    for (const char* o : {"reg:squarederror", "reg:linear", "reg:logistic", "binary:logitraw", "count:poisson",
                          "rank:pairwise", "rank:ndcg", "rank:map"})
        files.emplace_back(std::string(o).replace(std::string(o).find(':'), 1, "_"), replaced(binary, objective, o));
    for (const char* o : {"multi:softprob", "multi:softmax"}) {
        std::string multi = replaced(binary, objective, o);
        multi = replaced(multi, R"("num_class":"0")", R"("num_class":"2")");
        multi = replaced(multi, R"("tree_info":[0,0])", R"("tree_info":[0,1])");
        files.emplace_back(std::string(o).replace(std::string(o).find(':'), 1, "_"), multi);
    }
    // Without covers: every tree's "sum_hessian" left out.
    std::string bare = binary;
    for (size_t at; (at = bare.find(R"("sum_hessian":[)")) != std::string::npos;)
        bare.erase(at, bare.find(']', at) + 2 - at);  // the array and its comma
    files.emplace_back("binary_no_covers", bare);
    for (const auto& [name, text] : files) {
        put("fuzz_import_xgboost", name + ".json", text);
        try {
            const std::unique_ptr<core::Model> m = core::import_model("xgboost", text.data(), text.size());
            put_model("imported_" + name, *m, false);
        } catch (const core::Error& e) {
            std::fprintf(stderr, "import %s: %s\n", name.c_str(), e.what());
            std::exit(1);
        }
    }
}

void stats() {
    core::FeatureStats small(core::StatsKind::Numeric);
    for (double x : {1.0, -2.5, 0.0, 3e10, -0.0}) small.add(x);
    small.add(std::numeric_limits<double>::quiet_NaN());
    small.add(std::numeric_limits<double>::infinity());
    small.add_null();
    core::FeatureStats big(core::StatsKind::Numeric);
    for (int i = 0; i < 3000; i++) big.add(std::sin(i) * 100 + i);  // the quantile sketch compacts
    core::FeatureStats cat(core::StatsKind::Categorical);
    for (int i = 0; i < 200; i++) cat.add("v" + std::to_string(i % 70));
    cat.add_null();
    core::FeatureStats empty(core::StatsKind::Numeric);
    int n = 0;
    for (const core::FeatureStats* s : {&small, &big, &cat, &empty}) {
        const std::string tag = std::to_string(n++);
        put("fuzz_stats_binary", "stats" + tag + ".bin", s->encode());
        put("fuzz_stats_text", "stats" + tag + ".json", s->to_text());
    }
    std::string out;
    small.quantile_sketch().encode(out);
    put("fuzz_kll_binary", "small.bin", out);
    out.clear();
    big.quantile_sketch().encode(out);
    put("fuzz_kll_binary", "compacted.bin", out);
    out.clear();
    core::KllSketch(8).encode(out);
    put("fuzz_kll_binary", "empty_k8.bin", out);
    out.clear();
    cat.top_k_summary().encode(out);
    put("fuzz_topk_binary", "evicting.bin", out);
    out.clear();
    core::SpaceSaving few(4);
    few.update("x");
    few.update("y", 3);
    few.encode(out);
    put("fuzz_topk_binary", "few.bin", out);
    out.clear();
    cat.distinct_sketch().encode(out);
    put("fuzz_hll_binary", "sparse.bin", out);
    out.clear();
    core::HyperLogLog dense(4);
    for (int i = 0; i < 100; i++) dense.add(std::to_string(i));
    dense.encode(out);
    put("fuzz_hll_binary", "dense_p4.bin", out);
}

void profiles() {
    core::Profile p;
    for (int i = 0; i < 40; i++) {
        p.start_row();
        if (i % 11 == 0) p.add_string("age", "unknown");  // a type conflict
        else p.add_number("age", 20 + i % 50);
        if (i % 3) p.add_string("city", i % 2 ? "Lyon" : "Nice");
        else p.add_null("city");
        p.add_boolean("vip", i % 5 == 0);
        if (i % 7 == 0) p.add_nested("extra");
    }
    core::Profile empty;
    put("fuzz_profile_binary", "profile.bin", p.encode());
    put("fuzz_profile_text", "profile.json", p.to_text());
    put("fuzz_profile_binary", "empty.bin", empty.encode());
    put("fuzz_profile_text", "empty.json", empty.to_text());
}

void metrics() {
    std::vector<core::MetricState> all = {core::MetricState::make_ranking(), core::MetricState::make_confusion(0.3),
                                          core::MetricState::make_logloss(), core::MetricState::make_calibration(5),
                                          core::MetricState::make_regression(), core::MetricState::make_equality()};
    for (int i = 0; i < 30; i++) {
        const double p = (i * 37 % 100) / 100.0;
        const bool pos = i % 3 != 0;
        all[0].as<core::RankingCounts>().add(p, pos);
        all[1].as<core::ConfusionCounts>().add(p, pos);
        all[2].as<core::LogLossSum>().add(p, pos);
        all[3].as<core::CalibrationBins>().add(p, pos);
        all[4].as<core::RegressionSums>().add(p * 10, i * 0.3 - 1e-3);
        all[5].as<core::EqualityCounts>().add(pos);
    }
    int n = 0;
    for (const core::MetricState& s : all) {
        const std::string tag = core::metric_kind_name(s.kind());
        put("fuzz_metric_binary", tag + ".bin", state_bytes(s));
        put("fuzz_metric_text", tag + ".json", s.to_text());
        n++;
    }
    core::ClassMetricState plain(false, core::Average::Macro), proba(true);
    const char* cls[] = {"cat", "dog", "émeu"};
    for (int i = 0; i < 20; i++) {
        plain.add(cls[i % 3], cls[(i * 7) % 3]);
        std::vector<core::ProbaEntry> pe = {{cls[0], 0.2, "number"}, {cls[1], 0.5, "number"}, {cls[2], 0.3, "number"}};
        proba.add_proba(cls[i % 3], pe);
    }
    put("fuzz_class_metric_binary", "plain.bin", state_bytes(plain));
    put("fuzz_class_metric_text", "plain.json", plain.to_text());
    put("fuzz_class_metric_binary", "proba.bin", state_bytes(proba));
    put("fuzz_class_metric_text", "proba.json", proba.to_text());
    core::ClassMetricState weighted(false, core::Average::Weighted), micro(true, core::Average::Micro);
    for (int i = 0; i < 9; i++) {
        weighted.add(cls[i % 2], cls[i % 3]);
        std::vector<core::ProbaEntry> pe = {{"1", 0.7, "number"}, {"2", 0.3, "number"}};
        micro.add_proba(i % 2 ? "1" : "2", pe);
    }
    put("fuzz_class_metric_binary", "weighted.bin", state_bytes(weighted));
    put("fuzz_class_metric_text", "weighted.json", weighted.to_text());
    put("fuzz_class_metric_binary", "micro_proba.bin", state_bytes(micro));
    put("fuzz_class_metric_text", "micro_proba.json", micro.to_text());
    core::ClassMetricState none;
    put("fuzz_class_metric_binary", "empty.bin", state_bytes(none));
    put("fuzz_class_metric_text", "empty.json", none.to_text());
}

void features_and_options() {
    put("fuzz_features", "mixed.json", R"({"a": 1.5, "b": -2, "c": "u", "d": null, "e": true})");
    put("fuzz_features", "extreme.json", R"({"a": 1e308, "b": -1e-310, "c": 1e155, "z": -0.0})");
    put("fuzz_features", "special.json", R"({"a": "NaN", "b": "Infinity", "n": {"x": 1}})");
    put("fuzz_features", "unicode.json", R"({"ville": "Saint-Étienne", "": 0, "c=u": 1})");
    const std::string o[] = {
        std::string(1, '\0') + R"({"min_presence_ratio": 1, "max_out_of_range_fraction": 0.001, "severity": {"SCHEMA_NEW_COLUMN": "off"}, "features": {"tip": {"min_presence": 0.5}}})",
        std::string(1, '\1') + R"({"method": "psi", "psi": {"warn": 0.1, "alert": 0.25}, "bins": 20, "features": {"age": {"method": "ks", "alert": 0.01}, "id": {"skip": true}}})",
        std::string(1, '\2') + "jensen_shannon",
        std::string(1, '\3') + "weighted",
        std::string(1, '\4') + "-0.5e3",
        std::string(1, '\5') + "-0x3p-1",
        std::string(1, '\6') + "[[[[{\"a\":[[]]}]]]]",
        std::string(1, '\7') + R"({"optimizer": {"adam": {"lr": [0.001, 0.01, 0.1]}}, "l2": {"log_uniform": [1e-6, 1e-2]}, "scale": true})",
        std::string(1, '\7') + R"({"model": {"choice": ["logistic_regression", "passive_aggressive_classifier"]}, "ignore": [["a"], ["a", "b"]], "hash_bits": {"int_uniform": [2, 5]}, "l1": {"uniform": [0, 0.5]}})",
        std::string(1, '\7') + R"({"pipeline": [["standard_scaler", {"model": "logistic_regression"}], [{"clip": {"min": 0}}, {"model": "logistic_regression"}]]})",
        std::string(1, '\10') + "halving",
        std::string(1, '\11') + "adwin\n{\"delta\": 0.01, \"clock\": 4}",
        std::string(1, '\11') + "kswin\n{\"alpha\": 0.01, \"window_size\": 30, \"stat_size\": 10, \"seed\": 3}",
        std::string(1, '\11') + "page_hinkley\n{\"threshold\": 5, \"mode\": \"both\"}",
        std::string(1, '\11') + "ddm",
    };
    for (size_t i = 0; i < sizeof o / sizeof o[0]; i++) put("fuzz_options", "opt" + std::to_string(i), o[i]);
}

}  // namespace

// Issue 13: drift detectors of every kind, fresh and after streams with changes.
void detectors() {
    const std::pair<const char*, const char*> kinds[] = {
        {"adwin", "{}"}, {"adwin", R"({"clock":1,"max_buckets":2,"min_window_length":2,"grace_period":0})"},
        {"page_hinkley", R"({"threshold":5,"min_instances":5,"mode":"up"})"}, {"ddm", R"({"warm_start":5})"},
        {"kswin", R"({"window_size":20,"stat_size":5,"seed":9})"}};
    int i = 0;
    for (const auto& [kind, options] : kinds) {
        core::DriftDetector d = core::DriftDetector::create(kind, options);
        for (int t = 0; t < 3; t++) {
            const std::string tag = std::string(kind) + "_" + std::to_string(i) + "_" + std::to_string(t);
            put("fuzz_detector_binary", tag + ".bin", d.encode());
            put("fuzz_detector_text", tag + ".json", d.to_text());
            for (int k = 0; k < 150; k++) d.update(((k * 37) % 10 < (t ? 7 : 2)) ? 1.0 : 0.0);
        }
        i++;
    }
}

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    root = argv[1];
    models();
    imported();
    stats();
    profiles();
    metrics();
    features_and_options();
    detectors();
    return 0;
}
