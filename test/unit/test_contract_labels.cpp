// The model contract's answers to small user mistakes (issue 11, items 6 and 9): which label types
// each task takes, and ml_info's "trained" flag and note for a model that has seen no example.
#include "test_util.hpp"

#include "core/models/model.hpp"

#include <string>

namespace pg_learn::test {
namespace {

using core::Label;
using core::Model;
using core::Task;
using nlohmann::json;

std::unique_ptr<Model> fresh(const char* spec) { return core::model_from_json(json::parse(spec)); }

TEST(ContractLabels, ABooleanIsNotARegressionTarget) {
    const std::string msg = expect_error(ErrorKind::InvalidParameter, [] {
        core::check_label("linear_regression", Task::Regression, Label::of_boolean(true));
    });
    EXPECT_NE(msg.find("cannot learn a boolean label"), std::string::npos) << msg;
    std::unique_ptr<Model> reg = fresh(R"({"model":"linear_regression"})");
    const core::Observation x = num({{"a", 1}});
    const double dense[] = {1.0};
    expect_error(ErrorKind::InvalidParameter, [&] { reg->learn(x, Label::of_boolean(false)); });
    expect_error(ErrorKind::InvalidParameter, [&] { reg->learn_dense(dense, 1, Label::of_boolean(true)); });
    EXPECT_EQ(reg->n_seen(), 0u);  // refused before anything changed
    // The same value as a number, or as text that spells one, is a target.
    reg->learn(x, Label::of_number(1));
    reg->learn(x, Label::of_text("0"));
    EXPECT_EQ(reg->n_seen(), 2u);
}

// Issue 13: what a prediction is follows the task, which the glue reads (never the kind): a name
// (class, cluster: a text prediction column) for multiclass and clustering, a number otherwise.
TEST(ContractLabels, WhatAPredictionIsFollowsTheTask) {
    EXPECT_TRUE(core::predicts_name(Task::Multiclass));
    EXPECT_TRUE(core::predicts_name(Task::Clustering));
    EXPECT_FALSE(core::predicts_name(Task::Regression));
    EXPECT_FALSE(core::predicts_name(Task::Binary));
    EXPECT_FALSE(core::predicts_name(Task::Anomaly));
    // k-means names its clusters (as ml_predict_class); Half-Space Trees give a number.
    std::unique_ptr<Model> km = fresh(R"({"model":"kmeans","n_clusters":3})");
    EXPECT_TRUE(core::predicts_name(km->task()));
    EXPECT_FALSE(core::is_classifier(km->task()));
    EXPECT_EQ(km->classes().size(), 3u);
    std::unique_ptr<Model> hst = fresh(R"({"model":"half_space_trees"})");
    EXPECT_FALSE(core::predicts_name(hst->task()));
    EXPECT_TRUE(core::learns_without_labels(hst->task()));
}

TEST(ContractLabels, ClassifiersTakeBooleansAndWholeNumbers) {
    std::unique_ptr<Model> bin = fresh(R"({"model":"logistic_regression"})");
    const core::Observation x = num({{"a", 1}});
    EXPECT_NO_THROW(core::check_label("logistic_regression", Task::Binary, Label::of_boolean(true)));
    bin->learn(x, Label::of_boolean(true));
    bin->learn(x, Label::of_number(0));
    EXPECT_EQ(bin->n_seen(), 2u);
    expect_error(ErrorKind::InvalidParameter, [&] { bin->learn(x, Label::of_number(2)); });
    std::unique_ptr<Model> multi = fresh(R"({"model":"softmax_regression"})");
    multi->learn(x, Label::of_number(7));
    multi->learn(x, Label::of_boolean(false));
    EXPECT_EQ(multi->classes(), (std::vector<std::string>{"7", "false"}));
}

TEST(ContractLabels, InfoSaysWhetherTheModelHasLearned) {
    for (const char* spec : {R"({"model":"linear_regression"})", R"({"model":"logistic_regression"})",
                             R"({"model":"softmax_regression"})"}) {
        std::unique_ptr<Model> m = fresh(spec);
        json before = core::model_info(*m);
        EXPECT_EQ(before["trained"], false) << spec;
        ASSERT_TRUE(before.contains("note")) << spec;
        EXPECT_NE(before["note"].get<std::string>().find("no labelled example"), std::string::npos);
        // Every key of the family's own info() stays, with its value.
        const json family = m->info();
        for (auto& [k, v] : family.items()) EXPECT_EQ(before[k], v) << spec << " key " << k;
        m->learn(num({{"a", 1}}), Label::of_number(1));
        json after = core::model_info(*m);
        EXPECT_EQ(after["trained"], true) << spec;
        EXPECT_FALSE(after.contains("note")) << spec;
        EXPECT_EQ(after.size(), m->info().size() + 1) << spec;
    }
}

}  // namespace
}  // namespace pg_learn::test
