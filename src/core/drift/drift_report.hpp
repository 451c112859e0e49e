// Drift between two ml_stats values (the measure, its p-value, its detail), and the drift report
// between two profiles: method per feature, thresholds, status. (Anomalies: anomalies.hpp.)
#pragma once

#include "core/common/cpp_only.hpp"

#include "core/drift/drift.hpp"
#include "core/stats/feature_stats.hpp"
#include "core/stats/profile.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pg_learn::core {

// ---- drift between two FeatureStats (ml_drift, ml_drift_pvalue, ml_drift_detail) -------------

// True when method (Auto included) can compare statistics of this kind: numeric takes psi, js,
// ks and wasserstein; categorical takes linf, psi and js.
bool drift_method_applies(StatsKind kind, DriftMethod method);
// Auto replaced by the kind's default; a method of the other kind is InvalidParameter, with a
// hint listing the methods of this kind.
DriftMethod resolve_drift_method(StatsKind kind, DriftMethod method);

// The measure between a baseline and a current window of the same kind (else InvalidParameter).
// nullopt when either side has no value to compare (numeric: no non-NaN value; categorical: no
// non-NULL value). Wasserstein is normalized by the baseline's sample standard deviation.
std::optional<DriftResult> stats_drift(const FeatureStats& baseline, const FeatureStats& current,
                                       DriftMethod method, const DriftOptions& options = {});
// The Kolmogorov-Smirnov p-value (ks_pvalue); numeric statistics only (else InvalidParameter).
std::optional<double> stats_ks_pvalue(const FeatureStats& baseline, const FeatureStats& current);
// stats_drift with everything behind it, for people (ml_drift_detail): method, kind, value,
// lower, upper, delta, the counts compared, and per method its bins with both sides'
// proportions (psi, js, linf), the p-value (ks), or the unnormalized W1 and the baseline's
// standard deviation (wasserstein). Infinities are the strings "Infinity" and "-Infinity".
// nullopt exactly when stats_drift is.
std::optional<nlohmann::ordered_json> stats_drift_detail(const FeatureStats& baseline,
                                                         const FeatureStats& current, DriftMethod method,
                                                         const DriftOptions& options = {});

// ---- the drift report between two profiles (ml_drift_report) -----------------------------------
//
// docs/statistics.md, "Drift report". One row per feature named by either profile: the measure of
// the feature's values (of the baseline's kind), its thresholds and a status.

enum class DriftStatus : uint8_t { Ok = 0, Warn = 1, Alert = 2, NoData = 3 };
const char* drift_status_name(DriftStatus status);  // "ok", "warn", "alert", "no_data"

// Thresholds of one method. Distances (psi, js, wasserstein, linf) are worse when larger: warn
// when value >= warn, alert when value >= alert (warn <= alert). The Kolmogorov-Smirnov test is
// judged by its p-value, worse when smaller: warn when p < warn, alert when p < alert (alert <= warn).
struct DriftThresholds {
    double warn;
    double alert;
};
// True for the methods judged by their p-value (ks).
bool drift_thresholds_on_pvalue(DriftMethod method);
// The documented defaults: psi 0.1 / 0.25, js 0.1 / 0.2, ks p 0.05 / 0.01, wasserstein 0.1 / 0.25
// (in baseline standard deviations), linf 0.1 / 0.2. Auto is InvalidParameter.
DriftThresholds default_drift_thresholds(DriftMethod method);
// The status of a score (the value, or the p-value for ks) against thresholds.
DriftStatus drift_status(DriftMethod method, double score, const DriftThresholds& t);

// Per-feature settings of a report; unset fields fall back to the report's.
struct DriftFeatureConfig {
    std::optional<DriftMethod> method;  // any method; must fit the feature's kind
    std::optional<uint32_t> bins;
    std::optional<double> warn, alert;
    bool skip = false;  // no row for this feature
};

// The options of ml_drift_report, parsed and checked (parse_drift_report_config).
struct DriftReportConfig {
    // "method" applies to the features whose kind takes it (psi, js: all; ks, wasserstein:
    // numeric; linf: categorical); "numeric_method" and "categorical_method" (of their kind)
    // take precedence over it. Unset: auto.
    std::optional<DriftMethod> method, numeric_method, categorical_method;
    uint32_t bins = kDriftDefaultBins;
    std::map<DriftMethod, DriftThresholds> thresholds;  // every method but Auto
    std::map<std::string, DriftFeatureConfig, std::less<>> features;

    DriftReportConfig();  // the defaults
    // The method and thresholds of a feature of this kind (per-feature settings first).
    // An explicit per-feature method of the other kind is InvalidParameter, naming the feature.
    DriftMethod method_for(std::string_view feature, StatsKind kind) const;
    DriftThresholds thresholds_for(std::string_view feature, DriftMethod resolved) const;
    uint32_t bins_for(std::string_view feature) const;
};

// The options as a JSON object (docs/statistics.md, "Drift report"), e.g.
//   {"method": "psi", "psi": {"warn": 0.1, "alert": 0.25}, "bins": 20,
//    "features": {"age": {"method": "ks", "alert": 0.01}, "id": {"skip": true}}}
// Unknown keys, wrong types, numbers out of range and thresholds in the wrong order are
// InvalidParameter with the key's path in the message.
DriftReportConfig parse_drift_report_config(std::string_view json_text);

struct DriftReportRow {
    std::string feature;
    std::optional<StatsKind> kind;       // the baseline's kind (else the current's); none: no values
    std::optional<DriftMethod> method;   // resolved; none when kind is none
    std::optional<DriftResult> result;   // none: status NoData
    std::optional<double> pvalue;        // ks only
    std::optional<DriftThresholds> thresholds;  // with method
    DriftStatus status = DriftStatus::NoData;
    uint64_t baseline_count = 0;  // the values compared: non-NaN numbers or non-NULL strings
    uint64_t current_count = 0;
};

// One row per feature named by either profile (except skipped ones), in byte order of names.
std::vector<DriftReportRow> drift_report(const Profile& baseline, const Profile& current,
                                         const DriftReportConfig& config = DriftReportConfig());

}  // namespace pg_learn::core
