// Passive-Aggressive classifier and regressor (Crammer, Dekel, Keshet, Shalev-Shwartz and Singer,
// "Online Passive-Aggressive Algorithms", JMLR 2006): PA, PA-I and PA-II, one update per example,
// the step scikit-learn's PassiveAggressiveClassifier/Regressor take (docs/models.md).
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/models/common/family_model.hpp"

#include <vector>

namespace pg_learn::core {

// passive_aggressive_classifier (binary) and passive_aggressive_regressor.
const std::vector<const ModelFamily*>& passive_aggressive_families();

class PassiveAggressive final : public FamilyModel {
public:
    enum class Variant : uint8_t { PA, PA1, PA2 };

    PassiveAggressive(const ModelFamily& family, FamilySpec spec);

    std::unique_ptr<Model> clone() const override { return std::make_unique<PassiveAggressive>(*this); }
    void assign(const Model& other) override;

    // The decision function: intercept + w . x (a classifier's margin, a regressor's value).
    double decision(const Observation& x) const;
    double decision_dense(const double* x, size_t n) const;
    const std::vector<double>& weights() const { return w_; }
    double intercept() const { return b_; }
    // Issue 16: the decision function is linear, so its explanation is exact (weight x value per
    // feature, the intercept as base; a classifier's on the log-odds scale of its sigmoid).
    void importance(FeatureImportance& out) const override;

protected:
    void learn_terms(const std::vector<FeatureTerm>& x, double y_number, uint32_t y_class) override;
    double predict_terms(const std::vector<FeatureTerm>& x) const override;
    void explain_terms(const std::vector<FeatureTerm>& x, Explanation& out) const override;
    void features_added(size_t n) override { w_.resize(n, 0.0); }
    void merge_state(const FamilyModel& other, const std::vector<uint32_t>& feature_map,
                     const std::vector<uint32_t>& class_map, const FamilyModel* base) override;
    void write_state(detail::ByteWriter& w) const override;
    void read_state(detail::ByteReader& r) override;
    nlohmann::json state_json() const override;
    void state_from_json(const nlohmann::json& j) override;
    std::string invalid_state() const override;
    nlohmann::json info_extra() const override;

private:
    double score(const std::vector<FeatureTerm>& x) const;

    bool classifier_;
    Variant variant_;
    double c_;
    double epsilon_;
    bool fit_intercept_;
    std::vector<double> w_;  // one weight per feature of the dictionary
    double b_ = 0.0;
    mutable std::vector<FeatureTerm> scratch_;
};

}  // namespace pg_learn::core
