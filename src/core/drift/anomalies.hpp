// Anomalies of a current window against the schema of a baseline profile, named as TensorFlow Data
// Validation names them (tensorflow_metadata's anomalies.proto): missing and new features, low
// presence, unexpected types, out-of-domain strings, values out of range, NaN and infinities.
#pragma once

#include "core/common/cpp_only.hpp"

#include "core/stats/profile.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pg_learn::core {

// In the order a report lists a feature's anomalies. docs/statistics.md, "Anomalies".
enum class AnomalyType : uint8_t {
    NoDataInSpan = 0,                  // NO_DATA_IN_SPAN: the current window has no row
    DatasetLowNumExamples,             // DATASET_LOW_NUM_EXAMPLES: fewer rows than min_rows
    SchemaMissingColumn,               // SCHEMA_MISSING_COLUMN: no current row names the feature
    FeatureTypeNotPresent,             // FEATURE_TYPE_NOT_PRESENT: named, but never with a value
    FeatureTypeLowFractionPresent,     // FEATURE_TYPE_LOW_FRACTION_PRESENT: presence below required
    SchemaNewColumn,                   // SCHEMA_NEW_COLUMN: a feature the baseline never named
    UnexpectedDataType,                // UNEXPECTED_DATA_TYPE: values of a type the baseline never had
    EnumTypeUnexpectedStringValues,    // ENUM_TYPE_UNEXPECTED_STRING_VALUES: strings outside the domain
    FloatTypeSmallFloat,               // FLOAT_TYPE_SMALL_FLOAT: numbers below the baseline's min
    FloatTypeBigFloat,                 // FLOAT_TYPE_BIG_FLOAT: numbers above the baseline's max
    FloatTypeHasNan,                   // FLOAT_TYPE_HAS_NAN
    FloatTypeHasInf,                   // FLOAT_TYPE_HAS_INF
};
constexpr size_t kAnomalyTypes = 12;
const char* anomaly_type_name(AnomalyType type);  // the TFDV name, e.g. "SCHEMA_NEW_COLUMN"

enum class AnomalySeverity : uint8_t { Warning = 0, Error = 1, Off = 2 };
const char* anomaly_severity_name(AnomalySeverity s);  // "warning", "error", "off"
// Error: NO_DATA_IN_SPAN, SCHEMA_MISSING_COLUMN, FEATURE_TYPE_NOT_PRESENT, UNEXPECTED_DATA_TYPE,
// FLOAT_TYPE_HAS_NAN, FLOAT_TYPE_HAS_INF; the others Warning.
AnomalySeverity default_anomaly_severity(AnomalyType type);

// Settings of the per-feature checks; per-feature overrides replace single fields.
struct AnomalyFeatureOptions {
    // Required presence = max(min_presence, baseline presence * min_presence_ratio).
    std::optional<double> min_presence, min_presence_ratio;
    // Reported only when the fraction of the current values concerned is above these.
    std::optional<double> max_out_of_range_fraction;      // of its finite numbers
    std::optional<double> max_unexpected_value_fraction;  // of its strings (1 - TFDV's min_domain_mass)
    // NaN / infinities allowed? Unset: as in the baseline (allowed when it had some).
    std::optional<bool> allow_nan, allow_inf;
    bool skip = false;
};

struct AnomalyOptions {
    std::optional<uint64_t> min_rows;  // DATASET_LOW_NUM_EXAMPLES below this
    AnomalyFeatureOptions defaults;    // every optional set but allow_nan / allow_inf
    std::map<std::string, AnomalyFeatureOptions, std::less<>> features;
    std::array<AnomalySeverity, kAnomalyTypes> severity;

    AnomalyOptions();  // min_presence 0, min_presence_ratio 0.9, both fractions 0, default severities
    // The options of one feature: its overrides over the defaults.
    AnomalyFeatureOptions for_feature(std::string_view name) const;
};

// The options as a JSON object (docs/statistics.md, "Anomalies"), e.g.
//   {"min_presence_ratio": 1, "max_out_of_range_fraction": 0.001,
//    "severity": {"SCHEMA_NEW_COLUMN": "off"}, "features": {"tip": {"min_presence": 0.5}}}
// Unknown keys, wrong types and numbers out of range are InvalidParameter.
AnomalyOptions parse_anomaly_options(std::string_view json_text);

struct Anomaly {
    std::optional<std::string> feature;  // none for the dataset's own anomalies
    AnomalyType type;
    AnomalySeverity severity;  // never Off
    std::string description;
    // How many of the current window's rows or values are concerned (docs: per type). Estimated
    // from the sketches for out-of-domain and out-of-range values when they are not exact; then
    // detail holds "count_exact": false and the bounds "count_lower", "count_upper".
    uint64_t count;
    nlohmann::ordered_json detail;
};

// The anomalies of current against baseline: the dataset's first, then per feature in byte order
// of names, each feature's in AnomalyType order. Bounds on estimated counts hold with
// probability >= 1 - delta (KLL; delta = 0.01) or always (Space-Saving).
std::vector<Anomaly> find_anomalies(const Profile& baseline, const Profile& current,
                                    const AnomalyOptions& options = AnomalyOptions());

}  // namespace pg_learn::core
