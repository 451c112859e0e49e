// Imported XGBoost models (core/models/imported): a hand-written XGBoost 1.7 JSON model whose
// predictions are computed by hand (XGBoost's own Booster.predict gives the same values, see
// sql/imported_models.sql), float32 threshold comparisons, categorical splits, missing values,
// the binary and JSON round trips, the refusals, and the import limits.
#include "test_util.hpp"

#include "core/models/imported/xgboost.hpp"
#include "core/models/model.hpp"

#include <cmath>
#include <string>

namespace pg_learn::test {
namespace {

using core::Label;
using core::Model;
using core::Observation;

const std::string kBinary = R"json({"learner":{"attributes":{},"feature_names":["a","c"],"feature_types":["q","c"],"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"2","size_leaf_vector":"0"},"tree_info":[0,0],"trees":[{"base_weights":[0.0,-0.4,0.6],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"default_left":[1,0,0],"id":0,"left_children":[1,-1,-1],"loss_changes":[2.5,0.0,0.0],"parents":[2147483647,0,0],"right_children":[2,-1,-1],"split_conditions":[0.5,-0.4,0.6],"split_indices":[0,0,0],"split_type":[0,0,0],"sum_hessian":[10.0,5.0,5.0],"tree_param":{"num_deleted":"0","num_feature":"2","num_nodes":"3","size_leaf_vector":"0"}},{"base_weights":[0.0,-0.1,0.2],"categories":[1,3],"categories_nodes":[0],"categories_segments":[0],"categories_sizes":[2],"default_left":[0,0,0],"id":1,"left_children":[1,-1,-1],"loss_changes":[1.5,0.0,0.0],"parents":[2147483647,0,0],"right_children":[2,-1,-1],"split_conditions":[NaN,-0.1,0.2],"split_indices":[1,0,0],"split_type":[1,0,0],"sum_hessian":[10.0,6.0,4.0],"tree_param":{"num_deleted":"0","num_feature":"2","num_nodes":"3","size_leaf_vector":"0"}}]},"name":"gbtree"},"learner_model_param":{"base_score":"5E-1","boost_from_average":"1","num_class":"0","num_feature":"2","num_target":"1"},"objective":{"name":"binary:logistic","reg_loss_param":{"scale_pos_weight":"1"}}},"version":[1,7,4]})json";

std::unique_ptr<Model> binary() { return core::import_model("xgboost", kBinary.data(), kBinary.size()); }

double sigmoid(double m) { return 1.0 / (1.0 + std::exp(-m)); }

TEST(XGBoostImport, HandComputedPredictions) {
    auto m = binary();
    EXPECT_STREQ(m->kind(), "xgboost");
    EXPECT_EQ(m->task(), core::Task::Binary);
    EXPECT_FALSE(m->can_learn());
    // Tree 0: a < 0.5 -> -0.4 else 0.6 (missing left); tree 1: c in {1, 3} -> 0.2 else -0.1 (missing right).
    const double x1[] = {0, 1}, x2[] = {1, 2}, x3[] = {NAN, NAN}, x4[] = {0.49999999, 2}, x5[] = {0.4999, 40},
                 x6[] = {1, 3.7}, x7[] = {-1, -2};
    EXPECT_NEAR(m->predict_dense(x1, 2), sigmoid(-0.2), 1e-7);
    EXPECT_NEAR(m->predict_dense(x2, 2), sigmoid(0.5), 1e-7);
    EXPECT_NEAR(m->predict_dense(x3, 2), sigmoid(-0.2), 1e-7);
    // 0.49999999 is 0.5 as a float32: not below the threshold 0.5.
    EXPECT_NEAR(m->predict_dense(x4, 2), sigmoid(0.5), 1e-7);
    // 0.4999 is below; category 40 lies past the set's 32 bits: left.
    EXPECT_NEAR(m->predict_dense(x5, 2), sigmoid(-0.5), 1e-7);
    // 3.7 is category 3 (truncated), in the set.
    EXPECT_NEAR(m->predict_dense(x6, 2), sigmoid(0.8), 1e-7);
    EXPECT_NEAR(m->predict_dense(x7, 2), sigmoid(-0.5), 1e-7);
    // By name: a missing key is a missing value.
    EXPECT_NEAR(m->predict(num({{"a", 1}})), sigmoid(0.8), 1e-7);
    EXPECT_NEAR(m->predict(num({{"c", 3}})), sigmoid(-0.2), 1e-7);
    std::vector<double> p;
    m->predict_proba_dense(x2, 2, p);
    ASSERT_EQ(p.size(), 2u);
    EXPECT_NEAR(p[1], sigmoid(0.5), 1e-7);
    EXPECT_NEAR(p[0] + p[1], 1.0, 1e-12);
}

// A key left out is XGBoost's missing value, not a missing feature; an unknown key and a text
// value for a numeric feature still count.
TEST(XGBoostImport, FeatureChecksOfKeysLeftOut) {
    auto m = binary();
    core::FeatureCheck c;
    m->check_features(num({{"a", 1}}), c, true);
    EXPECT_TRUE(c.checked);
    EXPECT_EQ(c.missing_features, 0u);
    EXPECT_TRUE(c.missing_feature.empty());
    m->check_features(num({{"a", 1}, {"b", 2}}), c, true);
    EXPECT_EQ(c.unknown_features, 1u);
    EXPECT_EQ(c.unknown_feature, "b");
    EXPECT_EQ(c.missing_features, 0u);
    Observation x;
    x.add_category("a", "high");
    m->check_features(x, c, true);
    EXPECT_EQ(c.type_mismatches, 1u);
    EXPECT_EQ(c.mismatch, "a");
    // An array shorter than the model's features still misses its last positions.
    m->check_features_dense(1, c);
    EXPECT_EQ(c.missing_features, 1u);
}

TEST(XGBoostImport, RoundTripsAndInfo) {
    auto m = binary();
    std::vector<uint8_t> bytes(m->encoded_size());
    m->encode(bytes.data(), bytes.size());
    auto back = core::decode_model(bytes.data(), bytes.size());
    auto from_json = core::model_from_json(m->to_json());
    const double x[] = {1, 3};
    EXPECT_EQ(back->predict_dense(x, 2), m->predict_dense(x, 2));
    EXPECT_EQ(from_json->predict_dense(x, 2), m->predict_dense(x, 2));
    EXPECT_EQ(from_json->to_json(), m->to_json());
    const nlohmann::json info = core::model_info(*m);
    EXPECT_EQ(info["trees"], 2);
    EXPECT_EQ(info["max_depth"], 1);
    EXPECT_EQ(info["importance"]["split_count"]["a"], 1);
    EXPECT_EQ(info["importance"]["gain"]["c"], 1.5);
    EXPECT_EQ(info["trained"], true);
    // A corrupted binary form is refused (a child index pointing back).
    nlohmann::json j = m->to_json();
    j["state"]["trees"][0]["left"][0] = 0;
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(j); });
}

TEST(XGBoostImport, Refusals) {
    auto m = binary();
    expect_error(ErrorKind::InvalidParameter, [&] { m->learn(num({{"a", 1}}), Label::of_number(1)); });
    const double x3[] = {1, 2, 3}, inf[] = {1e300, 1};
    expect_error(ErrorKind::InvalidParameter, [&] { m->predict_dense(x3, 3); });
    expect_error(ErrorKind::NumericRange, [&] { m->predict_dense(inf, 2); });
    auto import = [](const std::string& s) { return core::import_model("xgboost", s.data(), s.size()); };
    auto replaced = [](std::string s, const std::string& from, const std::string& to) {
        const size_t at = s.find(from);
        EXPECT_NE(at, std::string::npos);
        return s.replace(at, from.size(), to);
    };
    expect_error(ErrorKind::InvalidText, [&] { import(kBinary.substr(0, 200)); });
    expect_error(ErrorKind::InvalidParameter, [&] { import(R"({"model":"linear_regression"})"); });
    expect_error(ErrorKind::InvalidParameter, [&] { import(replaced(kBinary, "binary:logistic", "reg:gamma")); });
    expect_error(ErrorKind::InvalidParameter, [&] { import(replaced(kBinary, "\"gbtree\"", "\"dart\"")); });
    expect_error(ErrorKind::InvalidParameter, [&] { import(replaced(kBinary, "\"left_children\":[1,-1,-1]", "\"left_children\":[1,1,-1]")); });
    expect_error(ErrorKind::InvalidParameter, [&] { import(replaced(kBinary, "\"split_indices\":[1,0,0]", "\"split_indices\":[2,0,0]")); });
    expect_error(ErrorKind::InvalidParameter, [&] { import(replaced(kBinary, "\"5E-1\"", "\"1.5\"")); });
    expect_error(ErrorKind::ProgramLimit, [&] {
        core::ImportLimits small;
        small.max_nodes = 5;
        core::import_xgboost(kBinary.data(), kBinary.size(), small);
    });
    expect_error(ErrorKind::ProgramLimit, [&] {
        core::ImportLimits small;
        small.max_text_bytes = 100;
        core::import_xgboost(kBinary.data(), kBinary.size(), small);
    });
    const std::string deep = "{\"learner\":" + std::string(100, '[') + std::string(100, ']') + "}";
    EXPECT_THROW(import(deep), core::Error);
}

TEST(XGBoostImport, CategorySetsLimit) {
    // 40 copies of the categorical tree, each split's set holding category 2^24 - 1: 2^19 words
    // of bit field per split, past the 2^24 words all splits may hold together.
    const size_t from = kBinary.find("{\"base_weights\":[0.0,-0.1,0.2]");
    const size_t to = kBinary.find("]},\"name\":\"gbtree\"");
    ASSERT_NE(from, std::string::npos);
    ASSERT_NE(to, std::string::npos);
    std::string tree = kBinary.substr(from, to - from);
    tree.replace(tree.find("\"categories\":[1,3]"), 18, "\"categories\":[1,16777215]");
    std::string trees, info;
    for (int i = 0; i < 40; i++) {
        trees += (i ? "," : "") + tree;
        info += i ? ",0" : "0";
    }
    const size_t trees_at = kBinary.find("\"trees\":[");
    std::string text = kBinary.substr(0, trees_at) + "\"trees\":[" + trees + kBinary.substr(to);
    text.replace(text.find("\"tree_info\":[0,0]"), 17, "\"tree_info\":[" + info + "]");
    text.replace(text.find("\"num_trees\":\"2\""), 15, "\"num_trees\":\"40\"");
    expect_error(ErrorKind::ProgramLimit, [&] { core::import_model("xgboost", text.data(), text.size()); });
    // One copy fits: it imports and scores category 2^24 - 1 (in the set) and its neighbour.
    std::string small = kBinary.substr(0, trees_at) + "\"trees\":[" + tree + kBinary.substr(to);
    small.replace(small.find("\"tree_info\":[0,0]"), 17, "\"tree_info\":[0]");
    small.replace(small.find("\"num_trees\":\"2\""), 15, "\"num_trees\":\"1\"");
    auto m = core::import_model("xgboost", small.data(), small.size());
    const double in_set[] = {0, 16777215}, out_of_set[] = {0, 16777214};
    EXPECT_NEAR(m->predict_dense(in_set, 2), sigmoid(0.2), 1e-7);
    EXPECT_NEAR(m->predict_dense(out_of_set, 2), sigmoid(-0.1), 1e-7);
}

TEST(XGBoostImport, SpecWithoutTrees) {
    // A spec alone makes a model without trees: it predicts base_score (0.5) and cannot learn.
    auto m = core::model_from_text(R"({"model":"xgboost"})", 20);
    EXPECT_EQ(m->predict(num({{"a", 1}})), 0.5);
    EXPECT_EQ(m->predict_dense(nullptr, 0), 0.5);
    expect_error(ErrorKind::InvalidParameter, [&] { m->learn(num({{"a", 1}}), Label::of_number(1)); });
    std::vector<uint8_t> bytes(m->encoded_size());
    m->encode(bytes.data(), bytes.size());
    EXPECT_EQ(core::decode_model(bytes.data(), bytes.size())->predict_dense(nullptr, 0), 0.5);
    auto multi = core::model_from_text(R"({"model":"xgboost","objective":"multi:softprob","num_class":3})", 62);
    std::vector<double> p;
    multi->predict_proba_dense(nullptr, 0, p);
    ASSERT_EQ(p.size(), 3u);
    EXPECT_NEAR(p[0], 1.0 / 3, 1e-7);
    const std::string no_classes = R"({"model":"xgboost","objective":"multi:softprob"})";
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_text(no_classes.data(), no_classes.size()); });
}

}  // namespace
}  // namespace pg_learn::test
