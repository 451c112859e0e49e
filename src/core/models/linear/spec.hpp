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

const char* model_kind_name(ModelKind kind);
// The kind named by model_kind_name's spelling; false for any other name.
bool model_kind_from_name(std::string_view name, ModelKind& kind);
const char* optimizer_name(OptimizerKind kind);
const char* missing_policy_name(MissingPolicy policy);

// Every field has river's default where river has one (docs/algorithms.md lists them).
struct OptimizerSpec {
    OptimizerKind kind = OptimizerKind::Sgd;
    double lr = 0.01;      // sgd 0.01, adagrad 0.1, adam 0.1
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
    int hash_bits = 0;  // 0: one weight per distinct feature name
    MissingPolicy missing = MissingPolicy::Zero;
    std::vector<std::string> ignore;  // feature names left out (e.g. the label column of a row)

    bool hashed() const { return hash_bits > 0; }
    bool keeps_feature_stats() const { return scale || missing == MissingPolicy::Mean; }
    bool ignores(const char* name, size_t len) const;

    // Throws Error(InvalidParameter) naming the offending option.
    static ModelSpec from_json(const nlohmann::json& j);
    // Canonical form: every option spelled out, so two equal specs print the same.
    nlohmann::json to_json() const;
    std::string canonical_text() const;
};

// Limits on what one model may hold; exceeding one is a ProgramLimit error.
inline constexpr int kMaxHashBits = 24;
inline constexpr size_t kMaxFeatures = 1u << 22;        // distinct names without hashing
inline constexpr size_t kMaxRememberedNames = 10000;    // names kept by a hashed model
inline constexpr size_t kMaxFeatureNameBytes = 1024;
inline constexpr size_t kMaxIgnoredNames = 1000;

}  // namespace pg_learn::core
