// The feature names a model learned, with the type each was learned as: the index of a name,
// the terms of an observation, and what the contract's check_features and closest_feature report
// (docs/features.md, "Feature mismatches"). Every family that keeps per-feature state holds one.
#pragma once

#include "core/common/byte_codec.hpp"
#include "core/common/cpp_only.hpp"
#include "core/features/observation.hpp"
#include "core/models/model.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace pg_learn::core {

inline constexpr uint32_t kUnknownFeature = UINT32_MAX;
// Most distinct names one dictionary holds, and the longest name.
inline constexpr size_t kMaxDictionaryNames = 1u << 22;
inline constexpr size_t kMaxDictionaryNameBytes = 1024;

// The name a float8[]'s element i (from 0) has: "x1", "x2", ...
std::string position_name(size_t i);

// An observation's feature as a family sees it: the dictionary's index of its name and its value
// (1.0 for a categorical "key=value").
struct FeatureTerm {
    uint32_t index;
    double value;
};

// Names a spec's "ignore" lists: keys (a column or a JSON key) left out of the features.
bool ignored_key(const std::vector<std::string>& ignore, std::string_view key);

class FeatureDictionary {
public:
    // bounded: past `limit` names the dictionary stops remembering (a hashed model, whose weights
    // do not depend on it) instead of refusing the name with a ProgramLimit error.
    explicit FeatureDictionary(size_t limit = kMaxDictionaryNames, bool bounded = false)
        : limit_(limit), bounded_(bounded) {}
    // What the limit's error adds: " without hashing" to its detail, a hint.
    void set_limit_message(std::string context, std::string hint) {
        limit_context_ = std::move(context);
        limit_hint_ = std::move(hint);
    }

    size_t size() const { return names_.size(); }
    bool empty() const { return names_.empty(); }
    const std::vector<std::string>& names() const { return names_; }
    const std::string& name(size_t i) const { return names_[i]; }
    FeatureType type(size_t i) const { return static_cast<FeatureType>(types_[i]); }
    const std::vector<uint8_t>& types() const { return types_; }
    // Every name learned is remembered (false once a bounded dictionary is full): only then is
    // a name it lacks known to be unknown.
    bool complete() const { return !bounded_ || names_.size() < limit_; }

    // The index of a name, or kUnknownFeature.
    uint32_t find(std::string_view name) const;
    // The index of a name, adding it when new: a name must be UTF-8 without NUL bytes (it is
    // printed in the model's JSON form), at most kMaxDictionaryNameBytes long; one name past
    // the limit is a ProgramLimit error (kUnknownFeature from a bounded dictionary).
    uint32_t add(std::string_view name, FeatureType type);
    // Forgets the names after the first n (an example that added them was refused).
    void truncate(size_t n);
    // Replaces the contents as they are (a decoder that validates them itself).
    void assign(std::vector<std::string> names, std::vector<uint8_t> types);

    // The observation's terms in its order: keys the ignore list holds and missing values (NULL)
    // are left out; a name the dictionary lacks is left out (resolve) or added (learn_resolve).
    void resolve(const Observation& x, const std::vector<std::string>& ignore, std::vector<FeatureTerm>& out) const;
    void learn_resolve(const Observation& x, const std::vector<std::string>& ignore, std::vector<FeatureTerm>& out);
    // The same for a float8[] of n elements, element i being the numeric feature position_name(i).
    // The elements must be finite (check_dense_input).
    void resolve_dense(const double* x, size_t n, const std::vector<std::string>& ignore,
                       std::vector<FeatureTerm>& out) const;
    void learn_resolve_dense(const double* x, size_t n, const std::vector<std::string>& ignore,
                             std::vector<FeatureTerm>& out);

    // The contract's check_features, check_features_dense and closest_feature against the names
    // learned (docs/features.md, "Feature mismatches").
    void check(const Observation& x, const std::vector<std::string>& ignore, FeatureCheck& out,
               bool name_missing) const;
    void check_dense(size_t n, const std::vector<std::string>& ignore, FeatureCheck& out) const;
    std::string closest(std::string_view name) const;

    // Why the dictionary could not be stored or read back ("" when it can): the encoders and the
    // decoders of every family run it (one check, both paths).
    std::string invalid() const;
    // Binary form: u32 count, then per name u32 length, u8 type (0 numeric, 1 categorical) and
    // the bytes. decode replaces the contents and validates them (r.corrupt on failure).
    size_t encoded_size() const;
    void encode(detail::ByteWriter& w) const;
    void decode(detail::ByteReader& r);
    // JSON form: {"names": [...], "types": ["numeric" | "categorical", ...]}; from_json throws
    // InvalidParameter "invalid ml_model: ..." on anything else.
    nlohmann::json to_json() const;
    void from_json(const nlohmann::json& j);

private:
    void rebuild_index();
    void build_check_keys() const;
    void remember_recent(size_t position, std::string_view name, uint32_t index) const;

    size_t limit_;
    bool bounded_;
    std::string limit_context_, limit_hint_;
    std::vector<std::string> names_;
    std::vector<uint8_t> types_;
    std::unordered_map<std::string, uint32_t> index_;
    // The previous observation's names by position: a stream repeats its names in one order, so
    // a comparison usually replaces a hash look-up.
    struct Recent {
        std::string name;
        uint32_t index;
    };
    mutable std::vector<Recent> recent_;
    mutable std::vector<uint32_t> dense_;  // position -> index (kUnknownFeature), for dense_n_ elements
    mutable size_t dense_n_ = SIZE_MAX;
    mutable std::string scratch_;

    // check()'s view: each key (a numeric name, or a categorical name up to its first '=') with
    // the types it was learned as; rebuilt when names were added since.
    static constexpr uint8_t kKeyNumeric = 1, kKeyCategorical = 2;
    mutable std::unordered_map<std::string, uint8_t> check_keys_;
    mutable size_t check_keys_names_ = SIZE_MAX;
    // The previous observation's verdicts by position, and the previous array length's result.
    enum class CheckIssue : uint8_t { None, UnknownFeature, UnknownCategory, TypeMismatch };
    struct CheckedName {
        std::string name;
        bool missing;
        bool present;  // the entry gives a key the dictionary holds (whatever the verdict)
        CheckIssue issue;
    };
    CheckedName check_entry(const Observation& x, const Observation::Entry& e) const;
    mutable std::vector<CheckedName> check_recent_;
    mutable size_t check_dense_n_ = SIZE_MAX, check_dense_ignored_ = SIZE_MAX;
    mutable FeatureCheck check_dense_;
};

// A float8[] given to a model: not empty, at most kMaxDictionaryNames elements, every element
// finite, and (dense_dim != 0) as long as the arrays the model learned from.
void check_dense_input(const double* x, size_t n, uint32_t dense_dim);

}  // namespace pg_learn::core
