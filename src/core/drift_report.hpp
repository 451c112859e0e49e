// Drift between two ml_stats values (the measure, its p-value, its detail), and the drift report
// and anomalies between two profiles: methods, thresholds, status, TFDV-named anomalies.
#pragma once

#include "cpp_only.hpp"

#include "drift.hpp"
#include "feature_stats.hpp"

#include <nlohmann/json.hpp>

#include <optional>

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

}  // namespace pg_learn::core
