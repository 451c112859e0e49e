// The naive Bayes family: Gaussian (numeric features), multinomial (counts) and Bernoulli
// (binary features) classifiers, as scikit-learn's GaussianNB, MultinomialNB and BernoulliNB
// learn them with partial_fit; their state is sufficient statistics, so merging is exact.
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/models/common/family_model.hpp"

#include <vector>

namespace pg_learn::core {

// The kinds gaussian_nb (code 20), multinomial_nb (21) and bernoulli_nb (22), for
// models/families.cpp.
const std::vector<const ModelFamily*>& naive_bayes_families();

// What the three kinds share: per class the number of examples learned, and per class and
// feature one to three statistics ("tables"). A class's rows are as long as the dictionary
// (features()); in memory a row may be shorter (its missing tail is zeros) until the class
// learns a feature past its end, so that a model read back never allocates more than its bytes.
class NaiveBayesModel : public FamilyModel {
public:
    void assign(const Model& other) override;

    const std::vector<double>& class_counts() const { return class_count_; }

protected:
    NaiveBayesModel(const ModelFamily& family, FamilySpec spec, size_t n_tables);

    // The tables' names in the JSON form ("feature_count"; "count", "mean", "m2").
    virtual const char* table_name(size_t t) const = 0;
    // Checks one class's statistics ("" when valid).
    virtual std::string invalid_row(size_t c) const = 0;

    void features_added(size_t n) override;
    void classes_added(size_t k) override;
    void write_state(detail::ByteWriter& w) const override;
    void read_state(detail::ByteReader& r) override;
    nlohmann::json state_json() const override;
    void state_from_json(const nlohmann::json& j) override;
    std::string invalid_state() const override;
    nlohmann::json info_extra() const override;

    // Table t's statistic of class c and feature f (0 past the row's end).
    double at(size_t t, size_t c, size_t f) const {
        const std::vector<double>& row = tables_[t][c];
        return f < row.size() ? row[f] : 0.0;
    }
    // Makes class c's rows as long as the dictionary.
    void widen(size_t c);
    // The index in this model of a class of `from` (named), or of a feature (named).
    uint32_t class_index(const FamilyModel& from, size_t c) const;
    uint32_t feature_index(const FamilyModel& from, size_t f) const;
    // proba from per-class joint log-likelihoods (classes that learned nothing get 0; an empty
    // vector when none learned anything).
    static void normalize(std::vector<double>& jll, const std::vector<double>& class_count, std::vector<double>& p);

    size_t n_tables_;
    std::vector<double> class_count_;
    std::vector<std::vector<double>> tables_[3];
};

}  // namespace pg_learn::core
