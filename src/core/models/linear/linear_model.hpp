// The linear family: online linear, logistic and softmax regression behind the model contract;
// one update per example, four optimizers, in-model preprocessing.
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/features/observation.hpp"
#include "core/models/common/feature_dictionary.hpp"
#include "core/models/linear/spec.hpp"
#include "core/models/model.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace pg_learn::core {

// Throws NumericRange for a NaN or infinite label, InvalidParameter for a label a model of this
// kind cannot learn (a logistic regression learns 0 and 1 only). What learn() checks first.
void check_label(ModelKind kind, double y);

// The families of the linear kinds, for models/families.cpp.
const std::vector<const ModelFamily*>& linear_families();

// The exact update rules are written out in docs/algorithms.md and re-implemented
// independently in test/reference/reference.py. A softmax regression is the same model with one
// weight per (feature, class): its per-weight arrays hold K consecutive values per feature.
class LinearModel final : public Model {
public:
    explicit LinearModel(ModelSpec spec);

    // The contract (core/models/model.hpp).
    std::unique_ptr<Model> clone() const override { return std::make_unique<LinearModel>(*this); }
    void assign(const Model& other) override;
    const char* kind() const override { return model_kind_name(spec_.kind); }
    Task task() const override;
    bool ignores_feature(std::string_view name) const override { return spec_.ignores(name.data(), name.size()); }
    void ignore_feature(std::string_view name) override;
    void learn(const Observation& x, const Label& y) override;
    void learn_dense(const double* x, size_t n, const Label& y) override;
    const std::vector<std::string>& classes() const override;
    void predict_proba(const Observation& x, std::vector<double>& p) const override;
    void predict_proba_dense(const double* x, size_t n, std::vector<double>& p) const override;
    void merge(const Model& other) override;
    void check_features(const Observation& x, FeatureCheck& out, bool name_missing = false) const override;
    void check_features_dense(size_t n, FeatureCheck& out) const override;
    std::string closest_feature(std::string_view name) const override;
    // Issue 16: exact explanations (each feature's weight times its value as the model read it,
    // scaled: in raw units, relative to the feature's mean), and importance.
    void explain(const Observation& x, Explanation& out) const override;
    void explain_dense(const double* x, size_t n, Explanation& out) const override;
    void importance(FeatureImportance& out) const override;
    // The weight of one raw unit of the feature at weight index idx (output c of a softmax; a
    // category's weight is per presence, unscaled),
    // and the intercept in raw units: the margin at all-zero raw features (docs/explanations.md).
    double raw_weight(uint32_t idx, size_t c, bool numeric) const;
    double raw_intercept(size_t c = 0) const;

    const ModelSpec& spec() const { return spec_; }
    uint64_t identity() const override { return identity_; }
    uint64_t updates() const override { return updates_; }
    uint64_t n_seen() const override { return n_seen_; }
    size_t n_weights() const { return w_.size(); }
    size_t n_features() const { return dict_.size(); }
    uint32_t dense_dim() const { return dense_dim_; }
    double intercept() const { return intercept_; }
    // Softmax: the intercept of each class, in classes() order.
    const std::vector<double>& intercepts() const { return b_; }
    size_t n_outputs() const { return multi() ? classes_.size() : 1; }
    const std::vector<double>& weights() const { return w_; }
    const std::vector<std::string>& feature_names() const { return dict_.names(); }

    // The training state (spec().keeps_training_state()): running statistics of a regression's
    // label (count, mean, sum of squared deviations; what "scale_target" divides by) and the
    // progressive training loss: the loss of each example as learned, before its update, in the
    // label's units (squared error) or in nats (log loss); its mean over every example learned
    // and its exponentially weighted mean over the recent ones (docs/algorithms.md).
    struct TrainingState {
        double y_count = 0, y_mean = 0, y_m2 = 0;
        double loss_count = 0, loss_mean = 0, loss_recent = 0;
    };
    const TrainingState& training_state() const { return ts_; }
    // The weight of the newest example in loss_recent.
    static constexpr double kRecentLossWeight = 0.01;

    // Regression value, or probability of the positive class; a softmax regression refuses.
    double predict(const Observation& x) const override;
    double predict_dense(const double* x, size_t n) const override;
    bool linear_form(const std::vector<std::string_view>& names, const std::vector<FeatureType>& types,
                     double* out) const override;
    // A numeric label (a softmax regression reads it as a class: a whole number).
    void learn(const Observation& x, double y);
    void learn_dense(const double* x, size_t n, double y);

    // Parallel combine: example-weighted average of the parameters learned since
    // begin_aggregation(); see docs/algorithms.md "Combining partial models".
    void merge(const LinearModel& other);
    // A partial model keeps the running statistics it started from (the aggregation base):
    // every partial model of one aggregate holds them, and merge() counts them once.
    void begin_aggregation() override;
    void end_aggregation() override;
    uint64_t aggregation_base() const { return agg_base_; }

    nlohmann::json info() const override;

    // Binary format (docs/format.md); decode validates everything and throws InvalidBinary.
    size_t encoded_size() const override;
    void encode(uint8_t* out, size_t size) const override;
    static LinearModel decode(const uint8_t* data, size_t size);

    // Text format: JSON. from_text accepts a bare spec (a fresh model) or a full model.
    nlohmann::json to_json() const override;
    static LinearModel from_json(const nlohmann::json& j);
    static LinearModel from_text(const char* text, size_t len);

private:
    struct Term {
        uint32_t index;
        double value;
        bool numeric;   // scaled when the spec asks for scaling
        bool observed;  // a real value (not imputed): its statistics are updated when learning
    };

    void check_label(double y) const;
    bool multi() const { return spec_.kind == ModelKind::SoftmaxRegression; }
    // Softmax: the index of a label's class, adding the class when learning.
    uint32_t class_index(const Label& y, bool learning);
    void add_class(const std::string& name);
    // Softmax: the probabilities of the features for_each lists (or of the resolved terms) into
    // probs_, false when one is not finite; a step on them; whether a float8[] of n elements
    // can be read directly (no statistics, position i is weight i).
    template <typename ForEach>
    bool softmax_of(const ForEach& for_each) const;
    bool softmax_terms() const;
    template <typename ForEach>
    void learn_multi(uint32_t cls, const ForEach& for_each);
    void learn_terms_multi(uint32_t cls);
    bool dense_direct(size_t n) const;
    void check_dense(const double* x, size_t n, bool learning) const;
    // Resolves names to weight indices into terms_ (duplicates summed); grows the dictionary
    // only when learning.
    void resolve(const Observation& x, bool learning) const;
    void resolve_dense(const double* x, size_t n, bool learning) const;
    uint32_t index_of(std::string_view name, FeatureType type, bool learning) const;
    void remember(std::string_view name, FeatureType type) const;
    void ensure_dense_map(size_t n) const;
    void grow(size_t n) const;
    double link(double z) const;
    // A prediction from a score: link(z), in the label's units when the label is standardised.
    double output(double z) const;
    double label_sd() const;
    // Updates the label statistics; the label to learn (standardised when the spec says so).
    double prepare_label(double y);
    // Adds one example's progressive loss to the training state, failing with NumericRange
    // (and changing nothing else) when the model has diverged.
    void track_loss(double loss);
    double score_terms() const;
    // explain's part after the terms are resolved and scaled, names[i] naming terms_[i].
    void explain_terms(Explanation& out) const;
    double feature_sd(uint32_t idx) const;
    void update_stats_and_scale(bool learning) const;
    [[noreturn]] void stats_overflow(uint32_t index, double value) const;
    void merge_repeated_terms() const;
    // One update from the score z of the example whose terms for_each(f) lists, calling
    // f(weight index, value) for each in order (terms_ or a dense array through dense_map_).
    template <typename ForEach>
    void step(double z, double y, const ForEach& for_each);
    // The optimizer's loop, one instantiation per optimizer: drive(apply) calls apply(weight
    // index, loss gradient * value) once per weight to update; false when a weight is not finite.
    template <OptimizerKind K, bool L1, typename Drive>
    bool update_weights(const Drive& drive);
    // update_weights for the spec's optimizer (chosen once per example).
    template <typename Drive>
    bool update_all_weights(const Drive& drive);
    // learn_dense without the terms: no statistics, a complete map without collisions; false
    // (nothing changed) when an element is not finite, for learn_dense's checks to name it.
    bool learn_dense_direct(const double* x, size_t n, double y);

    ModelSpec spec_;
    uint64_t identity_;
    uint64_t updates_ = 0;
    uint64_t n_seen_ = 0;
    uint64_t agg_base_ = 0;
    // The statistics at begin_aggregation() of a model that had learned (empty otherwise): the
    // feature statistics of the positions whose count was not zero (sparse: a hashed model's
    // 2^hash_bits positions are mostly unused), and the training state.
    struct AggregationBase {
        std::vector<uint32_t> at;         // positions, increasing
        std::vector<double> cnt, mean, m2;  // at those positions
        TrainingState ts;
        bool empty() const { return at.empty() && ts.y_count == 0 && ts.loss_count == 0; }
    };
    AggregationBase base_;
    uint32_t dense_dim_ = 0;
    double intercept_;
    TrainingState ts_;

    // mutable: predicting never changes the model's value, but resolving a new name, or the
    // dense-position map, is cached here; the dictionary itself only grows when learning.
    // Softmax: classes in the order first learned; one intercept per class; K = classes_.size()
    // and the per-weight arrays (weights, optimizer state) hold n_idx_ * K values, feature-major.
    std::vector<std::string> classes_;
    std::unordered_map<std::string, uint32_t> class_index_;
    uint32_t last_class_ = 0;  // the class of the previous example learned (a lookup shortcut)
    std::vector<double> b_;
    mutable size_t n_idx_ = 0;  // feature indices (weights per output)
    mutable std::vector<double> probs_;  // scratch of softmax_terms
    std::vector<double> grads_;          // scratch of learn_multi

    mutable std::vector<double> w_;
    mutable std::vector<double> s1_, s2_;             // optimizer state (docs/algorithms.md)
    mutable std::vector<double> cnt_, mean_, m2_;     // per-weight feature statistics
    // The names learned and their types (a hashed model remembers at most kMaxRememberedNames:
    // its weight indices are hashes, not the dictionary's); feature mismatches are its checks.
    mutable FeatureDictionary dict_;
    mutable std::vector<int64_t> dense_map_;         // position -> weight index, -1 unknown, -2 ignored
    mutable bool dense_map_collides_ = false;        // two positions share a hashed weight
    mutable bool dense_map_complete_ = false;        // no position is unknown (-1)
    mutable bool dense_map_identity_ = false;        // position i is weight i, for every i
    mutable bool terms_may_collide_ = false;         // set by resolve*: terms_ may repeat an index
    mutable std::vector<Term> terms_;
    mutable std::vector<uint32_t> term_order_;     // scratch of merge_repeated_terms
    // The previous example's names and their indices, by position: a stream's rows usually
    // carry the same names in the same order, so one comparison replaces a hash lookup.
    struct RecentName {
        std::string name;
        uint32_t index;
    };
    mutable std::vector<RecentName> recent_;
    mutable std::string scratch_;

    friend struct LinearModelCodec;
    // A model of a spec whose identity the caller already has.
    LinearModel(ModelSpec spec, uint64_t identity);
    // The identity of a spec: the hash of its canonical text.
    static uint64_t identity_of(const std::string& canonical_spec);
};

}  // namespace pg_learn::core
