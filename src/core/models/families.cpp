// The registration of the model families: one line per family (its kinds come from its folder).
#include "core/models/families.hpp"

#include "core/models/ensemble/ensemble.hpp"
#include "core/models/half_space_trees/half_space_trees.hpp"
#include "core/models/kmeans/kmeans.hpp"
#include "core/models/hoeffding_tree/hoeffding_tree.hpp"
#include "core/models/hoeffding_tree/tree_regressor.hpp"
#include "core/models/imported/xgboost.hpp"
#include "core/models/linear/linear_model.hpp"
#include "core/models/passive_aggressive/passive_aggressive.hpp"
#include "core/models/partitioned/partitioned.hpp"
#include "core/models/pipeline/pipeline.hpp"
#include "core/models/naive_bayes/naive_bayes.hpp"

namespace pg_learn::core {

const std::vector<const ModelFamily*>& model_families() {
    static const std::vector<const ModelFamily*> families = [] {
        std::vector<const ModelFamily*> all;
        for (const ModelFamily* f : linear_families()) all.push_back(f);
        for (const ModelFamily* f : passive_aggressive_families()) all.push_back(f);
        for (const ModelFamily* f : naive_bayes_families()) all.push_back(f);
        for (const ModelFamily* f : kmeans_families()) all.push_back(f);
        for (const ModelFamily* f : half_space_trees_families()) all.push_back(f);
        for (const ModelFamily* f : hoeffding_tree_families()) all.push_back(f);
        for (const ModelFamily* f : hoeffding_tree_regressor_families()) all.push_back(f);
        for (const ModelFamily* f : ensemble_families()) all.push_back(f);
        for (const ModelFamily* f : partitioned_families()) all.push_back(f);
        for (const ModelFamily* f : pipeline_families()) all.push_back(f);
        for (const ModelFamily* f : imported_families()) all.push_back(f);
        return all;
    }();
    return families;
}

const char* timestamp_readers() {
    return "a pipeline with a \"date_parts\" step (hour, weekday, month, ...), which takes it as seconds since "
           "1970-01-01";
}

const char* timestamp_readers_sentence() {
    return "Only a model with a date_parts step (a pipeline) reads timestamps, as seconds since 1970.";
}

const char* label_features_source() { return "a pipeline's target aggregates"; }

const char* example_spec() { return "{\"model\":\"logistic_regression\"}"; }

}  // namespace pg_learn::core
