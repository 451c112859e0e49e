// The contract every model family meets (river's learn_one / predict_one), and the families by kind.
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/features/observation.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace pg_learn::core {

class PartialStates;

// What a model predicts, and so which labels it learns from and which metrics describe it.
enum class Task : uint8_t { Regression = 1, Binary = 2, Multiclass = 3, Clustering = 4, Anomaly = 5 };

const char* task_name(Task task);
// The task task_name() spells; false for any other text.
bool task_by_name(std::string_view name, Task& out);
// Binary and multiclass models predict classes (ml_predict_class, ml_predict_proba).
inline bool is_classifier(Task task) { return task == Task::Binary || task == Task::Multiclass; }
// Clustering and anomaly models learn without labels (ml_fit_one(model, x), ml_fit(spec, x)).
inline bool learns_without_labels(Task task) { return task == Task::Clustering || task == Task::Anomaly; }
// Multiclass and clustering models predict a name (a class, a cluster: ml_predict_class), the
// other tasks a number (ml_predict_one: a value, a probability, an anomaly score).
inline bool predicts_name(Task task) { return task == Task::Multiclass || task == Task::Clustering; }

// A label as SQL gave it: a number (any numeric type), a boolean or a class name (text). The
// model decides what it accepts: a regression takes numbers, a classifier classes (a number
// that is a whole number, a boolean, or text). The text is borrowed for the call. None is the
// absent label of the label-less forms, which only clustering and anomaly models take.
struct Label {
    enum class Type : uint8_t { Number, Boolean, Text, None };
    Type type = Type::Number;
    double number = 0;       // Number: the value; Boolean: 0 or 1
    std::string_view text;   // Text: the class name

    static Label of_number(double v) { return {Type::Number, v, {}}; }
    static Label of_boolean(bool b) { return {Type::Boolean, b ? 1.0 : 0.0, {}}; }
    static Label of_text(std::string_view s) { return {Type::Text, 0, s}; }
    static Label none() { return {Type::None, 0, {}}; }
};

// Most classes a classifier may hold; one more is a ProgramLimit error.
inline constexpr size_t kMaxClasses = 1000;
inline constexpr size_t kMaxClassNameBytes = 1024;

// How an observation matches the features a model learned (docs/features.md, "Feature
// mismatches"): per prediction, the names it never learned, the categorical values it never
// learned of a name it knows as categorical, the names it learned that the observation lacks, and
// the names that arrive with the other type (a number learned, a string given, or the reverse).
struct FeatureCheck {
    uint32_t unknown_features = 0;
    uint32_t unknown_categories = 0;
    uint32_t missing_features = 0;
    uint32_t type_mismatches = 0;
    // checked: the model knows feature names to compare with (false before it learned any).
    // names_known: it knows every name it learned, so that an unknown name is known to be
    // unknown; a hashed model remembers a bounded number of names, and past it counts only
    // missing features (the other three stay 0).
    bool checked = false;
    bool names_known = false;
    // The first offender of each kind, for messages: an unknown feature's name, an unknown
    // category's key and value, a mismatched feature's key (and the string given, when a string
    // arrived where a number was learned), a missing feature's name.
    std::string unknown_feature;
    std::string category_key, category_value;
    std::string mismatch;
    bool mismatch_is_string = false;
    std::string mismatch_value;
    std::string missing_feature;

    bool any() const { return unknown_features + unknown_categories + missing_features + type_mismatches != 0; }
    void clear() {
        unknown_features = unknown_categories = missing_features = type_mismatches = 0;
        checked = names_known = mismatch_is_string = false;
        unknown_feature.clear();
        category_key.clear();
        category_value.clear();
        mismatch.clear();
        mismatch_value.clear();
        missing_feature.clear();
    }
};

// Issue 16, explanations (ml_explain, ml_importance; docs/explanations.md): a prediction's margin
// split into a base value plus one contribution per feature of the observation, which add up to
// the margin exactly (up to rounding). One block of base and contributions per output: a single
// one (outputs empty), or one per class of a multiclass model (outputs: its classes()).
struct Explanation {
    // What base + contributions add up to: "value" (a regression's prediction), "log_odds" (a
    // binary classifier's margin: its probability is 1 / (1 + exp(-margin))), "logit" (a class's
    // softmax input), "score" (another kind's raw score).
    std::string scale = "value";
    // How it was computed: "exact_linear", "tree_shap", "mean_of_members".
    std::string method;
    std::vector<std::string> outputs;
    std::vector<std::string> features;  // the observation's features, in its order
    std::vector<double> values;         // each raw value the model read (1 for a category; NaN: missing)
    std::vector<double> base;           // per output
    std::vector<double> contributions;  // output-major: [o * features.size() + j]
    void clear() {
        scale = "value";
        method.clear();
        outputs.clear();
        features.clear();
        values.clear();
        base.clear();
        contributions.clear();
    }
};
// A model's global importance of each feature it learned, and what the number is.
struct FeatureImportance {
    std::string kind;  // e.g. "mean_abs_raw_weight", "split_gain", "split_count"
    std::vector<std::string> features;
    std::vector<double> importance;
};

// Every model family implements this interface; the glue knows nothing else about a model.
class Model {
public:
    virtual ~Model() = default;

    virtual std::unique_ptr<Model> clone() const = 0;
    // *this becomes a copy of other, a model of the same kind (reusing this one's memory).
    virtual void assign(const Model& other) = 0;

    // The spec's name of the kind ("logistic_regression"), and its task.
    virtual const char* kind() const = 0;
    virtual Task task() const = 0;
    // Equal for models of equal spec (docs/format.md), so partial models of one spec can merge.
    virtual uint64_t identity() const = 0;
    virtual uint64_t updates() const = 0;  // updates applied (merges count too)
    virtual uint64_t n_seen() const = 0;   // examples learned from
    // A column or key the spec leaves out of the features (e.g. the label column of a row).
    virtual bool ignores_feature(std::string_view name) const = 0;
    // From now on the model leaves the feature `name` out, as if its spec listed it in "ignore"
    // (the label column named by its column: scoring rows that still hold it neither reads it
    // nor counts it as unknown). The spec, and so the identity, change when the name is new.
    virtual void ignore_feature(std::string_view name) = 0;
    // Whether the model reads timestamps: a kind with a step that takes date parts (a pipeline's
    // date_parts) says true, and the glue then hands a row's timestamp, timestamptz and date
    // columns over as numeric features valued in seconds since 1970-01-01 00:00:00 (a timestamptz
    // as its UTC wall clock, a date at midnight). Other models are refused such a column with a
    // hint, as before: a number of seconds is not a feature a model learns well from.
    virtual bool reads_timestamps() const { return false; }
    // Whether the model computes features from the labels it learned (a pipeline's target
    // aggregates): learning a row a second time would read its own label among its features
    // (target leakage), so multi-pass training (ml_train's epochs) gives such a model one pass
    // over the rows, with a warning.
    virtual bool features_learn_labels() const { return false; }
    // Multi-pass training (ml_train's epochs, and the evaluations and searches that train as it
    // does): the trainer says which pass over its rows the rows learned from now on belong to, 1
    // for the first, 2, 3, ... for the passes that learn the same rows again, and 0 after the
    // last (outside multi-pass training every row learned is a new one). Learning is the same in
    // every pass; a model that counts distinct examples (a partitioned model's min_examples) does
    // not count a row of a later pass again. A model holding models passes it on to them.
    virtual void set_epoch(uint32_t epoch) { (void)epoch; }
    // Issue 14, partitioned models: the segment of the model that answers x (a partitioned
    // model's partition path, e.g. "country=FR/city=Paris", or "(global)"), which the prediction
    // log records for the monitoring views' breakdown. "" (the default): the model has no
    // segments, and the log's column stays NULL.
    virtual std::string segment(const Observation& x) const { (void)x; return {}; }

    // Learning one example. A predict-only kind says so with can_learn() and throws.
    virtual bool can_learn() const { return true; }
    virtual void learn(const Observation& x, const Label& y) = 0;
    virtual void learn_dense(const double* x, size_t n, const Label& y) = 0;

    // The regression value, or the probability of the positive class of a binary classifier.
    // Other tasks have no single number: they throw, naming the function that answers.
    virtual double predict(const Observation& x) const = 0;
    virtual double predict_dense(const double* x, size_t n) const = 0;
    // Issue 14, partitioned models: the model's prediction as a linear form over the caller's
    // feature columns (names, with their types), written into out (linear_form_size(n) doubles,
    // layout in models/common/linear_form.hpp) so that a model holding many models of one spec
    // keeps them in one block of memory. True when score_linear_form then gives predict(x), bit
    // for bit, for every observation without missing values whose entries are columns (of their
    // types) until the model changes; false (the default) when the kind has no such form.
    virtual bool linear_form(const std::vector<std::string_view>& names, const std::vector<FeatureType>& types,
                             double* out) const {
        (void)names;
        (void)types;
        (void)out;
        return false;
    }

    // Feature mismatches of an observation (or of a float8[] of n elements) against what the
    // model learned, into out (cleared first). A kind that keeps no feature names leaves it
    // empty. Cheap when the observation's names repeat the previous call's, as a stream's do.
    // With name_missing, missing_feature names a missing feature (which costs a pass over the
    // names learned: the glue asks for it only for a message).
    virtual void check_features(const Observation& x, FeatureCheck& out, bool name_missing = false) const {
        (void)x;
        (void)name_missing;
        out.clear();
    }
    virtual void check_features_dense(size_t n, FeatureCheck& out) const { (void)n; out.clear(); }
    // The known feature name closest to a name the model does not know (the same name in another
    // case, or one a letter or two away), for "did you mean" hints; "" when none is close.
    virtual std::string closest_feature(std::string_view name) const { (void)name; return {}; }

    // Classifiers: their classes (in the order of predict_proba's probabilities), and one
    // probability per class. Other tasks have no classes and throw.
    virtual const std::vector<std::string>& classes() const;
    virtual void predict_proba(const Observation& x, std::vector<double>& p) const;
    virtual void predict_proba_dense(const double* x, size_t n, std::vector<double>& p) const;

    // Combining partial models of one spec (the combine function of parallel aggregates).
    // A kind that cannot merge says so, and ml_fit then refuses to run in parallel plans.
    virtual bool can_merge() const { return true; }
    virtual void merge(const Model& other) = 0;
    // The examples a partial model learned are those after begin_aggregation().
    virtual void begin_aggregation() {}
    virtual void end_aggregation() {}

    // Binary format (docs/format.md: the shared header, then the family's sections) and JSON.
    virtual size_t encoded_size() const = 0;
    virtual void encode(uint8_t* out, size_t size) const = 0;
    virtual nlohmann::json to_json() const = 0;
    std::string to_text() const { return to_json().dump(); }
    // For ml_info: at least kind, task, spec, identity, updates, n_seen and size_bytes.
    virtual nlohmann::json info() const = 0;

    // Issue 16, explanations: x's margin as a base value plus one contribution per feature, into
    // out (cleared first). A kind without explanations keeps the defaults, which refuse with a
    // FeatureNotSupported error naming the kind.
    virtual void explain(const Observation& x, Explanation& out) const;
    virtual void explain_dense(const double* x, size_t n, Explanation& out) const;
    virtual void importance(FeatureImportance& out) const;
};

// A family of models, as registered: one entry per kind (models/families.cpp lists them).
struct ModelFamily {
    const char* kind;  // as specs name it
    uint16_t code;     // the binary header's model kind
    Task task;
    // A fresh model from a spec object ({"model": kind, ...}).
    std::unique_ptr<Model> (*from_spec)(const nlohmann::json& spec);
    // A whole model from its JSON text form (validated completely).
    std::unique_ptr<Model> (*from_json)(const nlohmann::json& model);
    // A whole model from its binary form (validated completely).
    std::unique_ptr<Model> (*decode)(const uint8_t* data, size_t size);
};

const ModelFamily* family_by_kind(std::string_view kind);
const ModelFamily* family_by_code(uint16_t code);
// "linear_regression, logistic_regression, ..." for messages.
std::string known_kinds();

// A model from its binary form: the header names the family, which decodes and validates.
std::unique_ptr<Model> decode_model(const uint8_t* data, size_t size);
// The partial models a combine phase collected (their binary forms), merged in canonical order
// (core/common/partial_states.hpp): a function of the multiset of parts, not of their arrival
// order. At least one part; parts of different specs are refused as merge() refuses them.
std::unique_ptr<Model> merge_partial_models(PartialStates& parts);
// A model from text: a spec ({"model": "..."}, a fresh model) or a whole model's JSON form.
std::unique_ptr<Model> model_from_text(const char* text, size_t len);
std::unique_ptr<Model> model_from_json(const nlohmann::json& j);

// The class a label names, for classifiers: text as is (not empty, valid UTF-8, no NUL), a
// boolean as "true"/"false", a whole number in decimal ("3"); anything else throws.
std::string class_of_label(const Label& y);

// What a task accepts as a label (throws otherwise, naming the kind in hints): a finite number
// (not a boolean) for a regression, 0 or 1 (false or true, "0" or "1") for a binary classifier,
// a class for a multiclass one; no label (Label::none()) for clustering and anomaly models, which
// refuse a label rather than ignore it (a model that learns without labels is not taught by one).
void check_label(std::string_view kind, Task task, const Label& y);
// A label given as text that spells a number ("0.5", "NaN", "-0"): numeric models read it as
// that number. False for any other text.
bool parse_number_label(std::string_view text, double& out);

// Imported models (ml_import): a model trained by another library, from the file it saves, as a
// predict-only model; format names the library ("xgboost": XGBoost's JSON model format).
std::unique_ptr<Model> import_model(std::string_view format, const char* text, size_t len);

// What ml_info shows: the family's info() plus, for every model, "trained" (false while a model
// that learns has seen no example: it predicts from its initial values) and, then, a "note".
nlohmann::json model_info(const Model& m);

}  // namespace pg_learn::core
