// Issue 16: path-dependent TreeSHAP (Lundberg, Erion, Lee 2018, "Consistent individualized
// feature attribution for tree ensembles", Algorithm 2) of one binary tree, in double precision,
// with one value per output at each leaf: what the online trees' explanations use. (The imported
// xgboost kind has its own float32 copy, in XGBoost's order of operations.)
#pragma once

#include "core/common/cpp_only.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pg_learn::core {

// A tree as TreeSHAP reads it, the root at node 0. The family fills it for one observation: each
// branch's `hot` child is the one the observation goes to, and each leaf's values are its
// prediction (outputs values per node, used at leaves only).
struct ShapTree {
    size_t outputs = 1;
    std::vector<int32_t> left, right;  // children (-1 at a leaf)
    std::vector<uint32_t> feature;     // the feature a branch tests
    std::vector<int32_t> hot;          // the child the observation goes to
    std::vector<double> cover;         // a leaf's weight of training examples (branches: their leaves')
    std::vector<double> value;         // outputs values per node (leaves)

    void clear(size_t n_outputs) {
        outputs = n_outputs;
        left.clear();
        right.clear();
        feature.clear();
        hot.clear();
        cover.clear();
        value.clear();
    }
    // Appends a node; returns its index. Children are set later with set_children.
    int32_t add_node() {
        left.push_back(-1);
        right.push_back(-1);
        feature.push_back(0);
        hot.push_back(-1);
        cover.push_back(0);
        value.resize(value.size() + outputs, 0.0);
        return static_cast<int32_t>(left.size() - 1);
    }
};

// Adds the tree's SHAP values to phi (n_features * outputs values, feature-major: phi[f * outputs
// + o]) and its expected value (the leaves' values weighted by the share of the training weight
// that reaches them) to base (outputs values): base + the SHAP values = the hot leaf's values.
// A branch's weight is the sum of its leaves' covers; one that reached no weight shares it evenly.
void tree_shap(const ShapTree& t, double* phi, double* base);

}  // namespace pg_learn::core
