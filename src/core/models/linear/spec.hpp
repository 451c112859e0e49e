// A model's specification: kind, optimizer, regularisation and preprocessing, parsed from JSON.
#pragma once

#include "core/common/cpp_only.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace pg_learn::core {

// The kinds of the linear family; the values are the binary header's model kind codes.
enum class ModelKind : uint16_t { LinearRegression = 1, LogisticRegression = 2, SoftmaxRegression = 3 };
enum class OptimizerKind : uint16_t { Sgd = 1, AdaGrad = 2, Adam = 3, Ftrl = 4 };
enum class MissingPolicy : uint8_t { Zero = 0, Mean = 1, Error = 2 };

// What an option a spec's JSON leaves out means. A spec the user writes gets this release's
// defaults, which learn on raw data without tuning (docs/algorithms.md, "Defaults"); the spec
// inside a stored model (the binary spec section, a model's JSON form) was written out in full
// by the release that stored it, and an option it lacks is one that release did not have: it
// means that release's behaviour, so a stored model never changes what it does.
enum class SpecDefaults : uint8_t { Current, Stored };

const char* model_kind_name(ModelKind kind);
// The kind named by model_kind_name's spelling; false for any other name.
bool model_kind_from_name(std::string_view name, ModelKind& kind);
const char* optimizer_name(OptimizerKind kind);
const char* missing_policy_name(MissingPolicy policy);

// The fields' initial values are those of a stored spec (SpecDefaults::Stored, release 0.1.0's
// defaults); ModelSpec::from_json with SpecDefaults::Current gives a new spec this release's.
struct OptimizerSpec {
    OptimizerKind kind = OptimizerKind::Sgd;
    double lr = 0.01;      // sgd 0.01, adagrad 0.1, adam 0.1 (0.01 in a new spec)
    double eps = 1e-8;     // adagrad, adam
    double beta1 = 0.9;    // adam
    double beta2 = 0.999;  // adam
    double alpha = 0.05;   // ftrl
    double beta = 1.0;     // ftrl
    double l1 = 0.0;       // ftrl
    double l2 = 1.0;       // ftrl
};

struct ModelSpec {
    ModelKind kind = ModelKind::LinearRegression;
    OptimizerSpec optimizer;
    double l1 = 0.0;
    double l2 = 0.0;
    double intercept_init = 0.0;
    double intercept_lr = 0.01;
    double clip_gradient = 1e12;
    bool scale = false;
    // A linear_regression learns the label standardised by its running mean and standard
    // deviation and predicts in the label's units (river's TargetStandardScaler).
    bool scale_target = false;
    // The model keeps its progressive training loss and stops with an error when it explodes.
    bool check_divergence = false;
    int hash_bits = 0;  // 0: one weight per distinct feature name
    MissingPolicy missing = MissingPolicy::Zero;
    std::vector<std::string> ignore;  // feature names left out (e.g. the label column of a row)

    bool hashed() const { return hash_bits > 0; }
    bool keeps_feature_stats() const { return scale || missing == MissingPolicy::Mean; }
    // The training-state section (label statistics, progressive loss) is kept.
    bool keeps_training_state() const { return scale_target || check_divergence; }
    bool ignores(const char* name, size_t len) const;

    // Throws Error(InvalidParameter) naming the offending option.
    static ModelSpec from_json(const nlohmann::json& j, SpecDefaults defaults = SpecDefaults::Current);
    // Every option spelled out (what ml_info and a model's JSON form print).
    nlohmann::json to_json() const;
    // The stored form (the binary spec section, the identity's input): every option of release
    // 0.1.0 spelled out, and a later option only when it differs from its stored default, so a
    // model stored by 0.1.0 keeps its bytes and its identity.
    std::string canonical_text() const;
};

// Limits on what one model may hold; exceeding one is a ProgramLimit error.
inline constexpr int kMaxHashBits = 24;
inline constexpr size_t kMaxFeatures = 1u << 22;        // distinct names without hashing
inline constexpr size_t kMaxRememberedNames = 10000;    // names kept by a hashed model
inline constexpr size_t kMaxFeatureNameBytes = 1024;
inline constexpr size_t kMaxIgnoredNames = 1000;

}  // namespace pg_learn::core
