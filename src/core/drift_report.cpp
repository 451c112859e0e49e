// Drift between two ml_stats values, and the drift report and anomalies between two profiles.
#include "drift_report.hpp"

#include "error.hpp"

#include <cmath>
#include <limits>
#include <string>

namespace pg_learn::core {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// A double for JSON: finite values as numbers, infinities as strings (JSON has none), NaN null.
nlohmann::ordered_json json_number(double v) {
    if (std::isnan(v)) return nullptr;
    if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
    return v;
}

const char* valid_methods(StatsKind kind) {
    return kind == StatsKind::Numeric ? "auto, psi, js, ks or wasserstein" : "auto, linf, psi or js";
}

void require_same_kind(const FeatureStats& baseline, const FeatureStats& current) {
    if (baseline.kind() != current.kind())
        fail(ErrorKind::InvalidParameter,
             std::string("cannot measure drift between ") + stats_kind_name(baseline.kind()) + " and " +
                 stats_kind_name(current.kind()) + " statistics",
             std::string("the baseline is ") + stats_kind_name(baseline.kind()) + ", the current window " +
                 stats_kind_name(current.kind()));
}

// The number of values the measures compare: non-NaN numbers, or non-NULL strings.
uint64_t compared(const FeatureStats& s) {
    return s.numeric() ? s.quantile_sketch().n() : s.top_k_summary().n();
}

double stddev_or_nan(const FeatureStats& s) {
    return s.stddev().value_or(std::numeric_limits<double>::quiet_NaN());
}

}  // namespace

bool drift_method_applies(StatsKind kind, DriftMethod method) {
    switch (method) {
        case DriftMethod::Auto:
        case DriftMethod::Psi:
        case DriftMethod::JensenShannon:
            return true;
        case DriftMethod::KolmogorovSmirnov:
        case DriftMethod::Wasserstein:
            return kind == StatsKind::Numeric;
        case DriftMethod::LInfinity:
            return kind == StatsKind::Categorical;
    }
    return false;
}

DriftMethod resolve_drift_method(StatsKind kind, DriftMethod method) {
    if (!drift_method_applies(kind, method)) {
        const StatsKind other = kind == StatsKind::Numeric ? StatsKind::Categorical : StatsKind::Numeric;
        fail(ErrorKind::InvalidParameter,
             std::string("drift method ") + drift_method_name(method) + " applies to " + stats_kind_name(other) +
                 " statistics only",
             {}, std::string("for ") + stats_kind_name(kind) + " statistics use " + valid_methods(kind));
    }
    if (method == DriftMethod::Auto)
        return kind == StatsKind::Numeric ? kDefaultNumericDrift : kDefaultCategoricalDrift;
    return method;
}

std::optional<DriftResult> stats_drift(const FeatureStats& baseline, const FeatureStats& current,
                                       DriftMethod method, const DriftOptions& options) {
    require_same_kind(baseline, current);
    method = resolve_drift_method(baseline.kind(), method);
    if (baseline.numeric())
        return numeric_drift(baseline.quantile_sketch(), current.quantile_sketch(), stddev_or_nan(baseline),
                             method, options);
    return categorical_drift(baseline.top_k_summary(), current.top_k_summary(), method, options);
}

std::optional<double> stats_ks_pvalue(const FeatureStats& baseline, const FeatureStats& current) {
    require_same_kind(baseline, current);
    resolve_drift_method(baseline.kind(), DriftMethod::KolmogorovSmirnov);
    return ks_pvalue(baseline.quantile_sketch(), current.quantile_sketch());
}

std::optional<nlohmann::ordered_json> stats_drift_detail(const FeatureStats& baseline,
                                                         const FeatureStats& current, DriftMethod method,
                                                         const DriftOptions& options) {
    const std::optional<DriftResult> r = stats_drift(baseline, current, method, options);
    if (!r) return std::nullopt;
    nlohmann::ordered_json j;
    j["method"] = drift_method_name(r->method);
    j["kind"] = stats_kind_name(baseline.kind());
    j["value"] = json_number(r->value);
    j["lower"] = json_number(r->lower);
    j["upper"] = json_number(r->upper);
    j["delta"] = options.delta;
    if (r->method == DriftMethod::Psi) j["epsilon"] = options.epsilon;
    j["baseline_count"] = compared(baseline);
    j["current_count"] = compared(current);

    auto bin = [](nlohmann::ordered_json b, double pb, double pc) {
        b["baseline"] = pb;
        b["current"] = pc;
        return b;
    };
    nlohmann::ordered_json bins = nlohmann::ordered_json::array();
    const bool binned = r->method == DriftMethod::Psi || r->method == DriftMethod::JensenShannon ||
                        r->method == DriftMethod::LInfinity;
    if (binned && baseline.numeric()) {
        j["quantile_bins"] = options.bins;
        const NumericBins nb = *numeric_bins(baseline.quantile_sketch(), current.quantile_sketch(), options);
        const std::vector<double>& s = nb.splits;
        for (size_t i = 0; i <= s.size(); i++) {
            nlohmann::ordered_json b;
            b["lo"] = json_number(i ? s[i - 1] : -kInf);
            b["hi"] = json_number(i < s.size() ? s[i] : kInf);
            bins.push_back(bin(std::move(b), nb.baseline.estimate[i], nb.current.estimate[i]));
        }
        j["bins"] = std::move(bins);
    } else if (binned) {
        const CategoricalBins cb = *categorical_bins(baseline.top_k_summary(), current.top_k_summary());
        for (size_t i = 0; i <= cb.values.size(); i++) {
            nlohmann::ordered_json b;
            // The last bucket is "other": every value neither summary lists.
            b["value"] = i < cb.values.size() ? nlohmann::ordered_json(cb.values[i]) : nlohmann::ordered_json();
            bins.push_back(bin(std::move(b), cb.baseline.estimate[i], cb.current.estimate[i]));
        }
        j["bins"] = std::move(bins);
    } else if (r->method == DriftMethod::KolmogorovSmirnov) {
        j["pvalue"] = json_number(*ks_pvalue(baseline.quantile_sketch(), current.quantile_sketch()));
    } else {
        // The same distance with a unit scale is W1 itself.
        const DriftResult w = *numeric_drift(baseline.quantile_sketch(), current.quantile_sketch(), 1.0,
                                             DriftMethod::Wasserstein, options);
        j["w1"] = json_number(w.value);
        j["baseline_stddev"] = json_number(stddev_or_nan(baseline));
    }
    return j;
}

}  // namespace pg_learn::core
