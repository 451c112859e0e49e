// The shared part of the model families other than the linear one: the contract's feature
// handling, labels, classes, counters, merging, and the binary and JSON forms, so that a family
// writes only its learning rule, its prediction and its state (docs/format.md, "Family models").
//
// A family derives from FamilyModel, implements the protected hooks below, and registers its
// kinds with family_entry() (models/families.cpp). Its model then
// - reads observations through a FeatureDictionary: learn_terms() and predict_terms() see
//   (feature index, value) pairs; ignored keys and missing values (NULL) are left out, and a name
//   new to the model is added while learning only (features_added() says so);
// - learns labels checked for its task: a regression a finite number (text spelling a number
//   too), a binary classifier 0 or 1 (booleans, "true"/"false"), a multiclass classifier any
//   class, indexed in classes() in the order first learned; clustering and anomaly kinds learn
//   without a label;
// - is stored as the shared envelope plus the sections spec, state, features, classes, family
//   state and (a partial model of an aggregate that started from a trained model) the
//   aggregation base; every section is validated by one function on both paths.
#pragma once

#include "core/common/byte_codec.hpp"
#include "core/common/envelope.hpp"
#include "core/common/cpp_only.hpp"
#include "core/models/common/feature_dictionary.hpp"
#include "core/models/model.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace pg_learn::core {

// The classes a classifier learned, in the order first learned.
class ClassDictionary {
public:
    size_t size() const { return names_.size(); }
    const std::vector<std::string>& names() const { return names_; }
    // The index of the label's class, or UINT32_MAX when unknown.
    uint32_t find(const Label& y) const;
    // The index of the label's class, adding it when new (at most kMaxClasses).
    uint32_t learn(const Label& y);
    // Forgets the classes after the first k (an example that added one was refused).
    void truncate(size_t k);
    std::string invalid() const;
    void encode(detail::ByteWriter& w) const;  // u32 count, then per class u32 length and bytes
    size_t encoded_size() const;
    void decode(detail::ByteReader& r);
    nlohmann::json to_json() const { return names_; }
    void from_json(const nlohmann::json& j);

private:
    void rebuild_index();
    std::vector<std::string> names_;
    std::unordered_map<std::string, uint32_t> index_;
};

// What a family's spec parser returns: every option of the family spelled out (the stored
// spec, and the identity's input), and the feature names it leaves out.
struct FamilySpec {
    nlohmann::json options = nlohmann::json::object();  // without "model" and "ignore"
    std::vector<std::string> ignore;
};

// Reads the keys every family spec shares ("model", "ignore") from a spec object and checks that
// every other key is one of `known` (an InvalidParameter error naming the unknown key and listing
// the known ones otherwise). Options are then read from spec with the helpers below.
FamilySpec parse_family_spec(const nlohmann::json& spec, std::initializer_list<const char*> known);
// A spec option: absent gives the default; otherwise a finite number in [lo, hi] (an
// InvalidParameter error naming the option otherwise); integer_option requires a whole number.
double number_option(const nlohmann::json& spec, const char* key, double def, double lo, double hi);
int64_t integer_option(const nlohmann::json& spec, const char* key, int64_t def, int64_t lo, int64_t hi);
bool boolean_option(const nlohmann::json& spec, const char* key, bool def);
// One of `allowed` (strings).
std::string choice_option(const nlohmann::json& spec, const char* key, const char* def,
                          std::initializer_list<const char*> allowed);

class FamilyModel : public Model {
public:
    // The contract, for every family (core/models/model.hpp).
    const char* kind() const override { return family_->kind; }
    Task task() const override { return family_->task; }
    uint64_t identity() const override { return identity_; }
    uint64_t updates() const override { return updates_; }
    uint64_t n_seen() const override { return n_seen_; }
    bool ignores_feature(std::string_view name) const override { return ignored_key(ignore_, name); }
    void ignore_feature(std::string_view name) override;
    void learn(const Observation& x, const Label& y) override;
    void learn_dense(const double* x, size_t n, const Label& y) override;
    double predict(const Observation& x) const override;
    double predict_dense(const double* x, size_t n) const override;
    const std::vector<std::string>& classes() const override;
    void predict_proba(const Observation& x, std::vector<double>& p) const override;
    void predict_proba_dense(const double* x, size_t n, std::vector<double>& p) const override;
    void check_features(const Observation& x, FeatureCheck& out, bool name_missing = false) const override;
    void check_features_dense(size_t n, FeatureCheck& out) const override;
    std::string closest_feature(std::string_view name) const override;
    void merge(const Model& other) override;
    void begin_aggregation() override;
    void end_aggregation() override { agg_base_.reset(); }
    size_t encoded_size() const override;
    void encode(uint8_t* out, size_t size) const override;
    nlohmann::json to_json() const override;
    nlohmann::json info() const override;
    // Issue 16: the observation's terms handed to explain_terms (the family's part).
    void explain(const Observation& x, Explanation& out) const override;
    void explain_dense(const double* x, size_t n, Explanation& out) const override;

    const FeatureDictionary& features() const { return features_; }
    // The keys the spec leaves out (its "ignore" list).
    const std::vector<std::string>& ignored() const { return ignore_; }
    const nlohmann::json& options() const { return options_; }
    uint32_t dense_dim() const { return dense_dim_; }
    // The model a partial model of an aggregate started from (nullptr: a fresh one).
    const FamilyModel* aggregation_base() const { return agg_base_.get(); }

    // The registered family's shared decoders: the envelope's kind names the family, whose
    // from_spec makes the model the sections are then read into.
    static std::unique_ptr<Model> decode_any(const uint8_t* data, size_t size);
    static std::unique_ptr<Model> from_json_any(const nlohmann::json& j);

protected:
    FamilyModel(const ModelFamily& family, FamilySpec spec);
    FamilyModel(const FamilyModel& other);
    FamilyModel& operator=(const FamilyModel& other);

    // ---- the family's part --------------------------------------------------------------------
    // One example: its terms and its label, checked for the task. A classifier's label is also
    // given as its class index (Binary: 0 or 1; Multiclass: in classes(), the class added when
    // new); other tasks get UINT32_MAX. A regression's label is y_number; clustering and anomaly
    // kinds get NaN. Throw (changing nothing) to refuse the example.
    virtual void learn_terms(const std::vector<FeatureTerm>& x, double y_number, uint32_t y_class) = 0;
    // Regression value, or binary probability of class "1", or the anomaly score (default:
    // the task has no single number: an error naming the function that answers).
    virtual double predict_terms(const std::vector<FeatureTerm>& x) const;
    // Classifiers (and clustering): one probability per class in classes() order.
    virtual void proba_terms(const std::vector<FeatureTerm>& x, std::vector<double>& p) const;
    // A clustering kind's "classes" (its cluster names, "0", "1", ...).
    virtual const std::vector<std::string>& cluster_names() const;
    // The dictionary now holds n names: it grew (learning, merging, decoding), or shrank back to
    // what it was when an example was refused. Per-feature state is resized to match (the
    // names keep their indices: a resize keeps the first n features' state).
    virtual void features_added(size_t n) { (void)n; }
    // A multiclass model's class dictionary now holds k classes (grew, or shrank back).
    virtual void classes_added(size_t k) { (void)k; }
    // Adds a partial model of the same spec (other's features and classes are already mapped:
    // feature_map[i] is the index in this model of other's feature i, class_map likewise).
    // base: the model both started from (nullptr when fresh), whose state other also holds.
    virtual void merge_state(const FamilyModel& other, const std::vector<uint32_t>& feature_map,
                             const std::vector<uint32_t>& class_map, const FamilyModel* base) = 0;
    // The family's state: binary (read_state replaces it; r.corrupt on anything unreadable),
    // JSON (state_from_json throws InvalidParameter "invalid ml_model: ..."), and the one check
    // both paths run after reading and the encoders before writing ("" when valid), with the
    // dictionary sizes known (features().size(), classes().size()).
    virtual void write_state(detail::ByteWriter& w) const = 0;
    virtual void read_state(detail::ByteReader& r) = 0;
    virtual nlohmann::json state_json() const = 0;
    virtual void state_from_json(const nlohmann::json& j) = 0;
    virtual std::string invalid_state() const = 0;
    // Issue 16: x's explanation (core/models/model.hpp, Model::explain); the default refuses,
    // naming the kind.
    virtual void explain_terms(const std::vector<FeatureTerm>& x, Explanation& out) const;
    // Extra ml_info fields (merged into the shared ones).
    virtual nlohmann::json info_extra() const { return nlohmann::json::object(); }
    // A fresh copy of this model's kind and spec (the aggregation base's clone).
    std::unique_ptr<FamilyModel> clone_family() const;

    // The class dictionary (Multiclass tasks).
    const ClassDictionary& class_dictionary() const { return classes_; }
    // A predict-only kind that imports a model made elsewhere names its features, classes and
    // float8[] length once, from the file it reads (it never learns them).
    FeatureDictionary& imported_features() { return features_; }
    ClassDictionary& imported_classes() { return classes_; }
    void set_dense_dim(uint32_t n) { dense_dim_ = n; }

private:
    void learn_common(double y_number, uint32_t y_class, size_t f_before, size_t k_before, const Label& y);
    void forget_new_names(size_t f_before, size_t k_before);
    void label_of(const Label& y, double& number, uint32_t& cls);
    std::string invalid() const;
    std::string encode_state() const;
    static void read_sections(FamilyModel& m, const EnvelopeHeader& h, const uint8_t* data, size_t size);

    const ModelFamily* family_;
    nlohmann::json options_;
    std::vector<std::string> ignore_;
    uint64_t identity_ = 0;
    uint64_t updates_ = 0;
    uint64_t n_seen_ = 0;
    uint32_t dense_dim_ = 0;
    FeatureDictionary features_;
    ClassDictionary classes_;
    std::unique_ptr<FamilyModel> agg_base_;
    mutable std::vector<FeatureTerm> terms_;

    void set_identity();
};

// A family's registration entry: its kind, binary kind code, task and spec parser; decoding and
// the JSON form are FamilyModel's.
constexpr ModelFamily family_entry(const char* kind, uint16_t code, Task task,
                                   std::unique_ptr<Model> (*from_spec)(const nlohmann::json&)) {
    return ModelFamily{kind, code, task, from_spec, &FamilyModel::from_json_any, &FamilyModel::decode_any};
}

}  // namespace pg_learn::core
