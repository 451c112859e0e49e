// Drift between two ml_stats values, and the drift report between two profiles.
#include "core/drift/drift_report.hpp"

#include "core/common/error.hpp"
#include "core/common/json_options.hpp"
#include "core/common/text.hpp"

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

// ---- the drift report ------------------------------------------------------------------------

namespace {

constexpr DriftMethod kMethods[] = {DriftMethod::Psi, DriftMethod::JensenShannon, DriftMethod::KolmogorovSmirnov,
                                    DriftMethod::Wasserstein, DriftMethod::LInfinity};

const detail::JsonOptions kReportOptions("ml_drift_report options");

// Why t is not a usable pair of thresholds for method (empty when it is).
std::string threshold_problem(DriftMethod method, const DriftThresholds& t) {
    if (drift_thresholds_on_pvalue(method)) {
        if (t.alert > t.warn)
            return "p-value thresholds must have alert <= warn (a smaller p-value is worse); got warn " +
                   format_double(t.warn) + ", alert " + format_double(t.alert);
    } else if (t.warn > t.alert) {
        return "thresholds must have warn <= alert; got warn " + format_double(t.warn) + ", alert " +
               format_double(t.alert);
    }
    return {};
}

DriftMethod method_at(const nlohmann::json& v, const std::string& path) {
    const std::string text = kReportOptions.string(v, path);
    try {
        return parse_drift_method(text);
    } catch (const Error& e) {
        kReportOptions.fail_at(path, std::string("is not a drift method: ") + e.what(), e.hint());
    }
}

DriftMethod kind_method_at(const nlohmann::json& v, const std::string& path, StatsKind kind) {
    const DriftMethod m = method_at(v, path);
    if (!drift_method_applies(kind, m))
        kReportOptions.fail_at(path, std::string("must be a method for ") + stats_kind_name(kind) +
                                         " statistics, not " + drift_method_name(m),
                               std::string("use ") + valid_methods(kind));
    return m;
}

// The upper end of a threshold of method: p-values are in [0, 1], distances in [0, inf).
double threshold_max(DriftMethod method) {
    return drift_thresholds_on_pvalue(method) ? 1.0 : std::numeric_limits<double>::infinity();
}

uint32_t bins_at(const nlohmann::json& v, const std::string& path) {
    return static_cast<uint32_t>(kReportOptions.integer(v, path, 1, kDriftMaxBins));
}

}  // namespace

const char* drift_status_name(DriftStatus status) {
    switch (status) {
        case DriftStatus::Ok: return "ok";
        case DriftStatus::Warn: return "warn";
        case DriftStatus::Alert: return "alert";
        case DriftStatus::NoData: return "no_data";
    }
    return "unknown";
}

bool drift_thresholds_on_pvalue(DriftMethod method) { return method == DriftMethod::KolmogorovSmirnov; }

DriftThresholds default_drift_thresholds(DriftMethod method) {
    switch (method) {
        case DriftMethod::Psi: return {0.1, 0.25};
        case DriftMethod::JensenShannon: return {0.1, 0.2};
        case DriftMethod::KolmogorovSmirnov: return {0.05, 0.01};
        case DriftMethod::Wasserstein: return {0.1, 0.25};
        case DriftMethod::LInfinity: return {0.1, 0.2};
        case DriftMethod::Auto: break;
    }
    fail(ErrorKind::InvalidParameter, "auto has no thresholds of its own: resolve the method first");
}

DriftStatus drift_status(DriftMethod method, double score, const DriftThresholds& t) {
    if (std::isnan(score)) return DriftStatus::NoData;
    if (drift_thresholds_on_pvalue(method)) {
        if (score < t.alert) return DriftStatus::Alert;
        if (score < t.warn) return DriftStatus::Warn;
        return DriftStatus::Ok;
    }
    if (score >= t.alert) return DriftStatus::Alert;
    if (score >= t.warn) return DriftStatus::Warn;
    return DriftStatus::Ok;
}

DriftReportConfig::DriftReportConfig() {
    for (DriftMethod m : kMethods) thresholds[m] = default_drift_thresholds(m);
}

DriftMethod DriftReportConfig::method_for(std::string_view feature, StatsKind kind) const {
    auto f = features.find(feature);
    if (f != features.end() && f->second.method) {
        const DriftMethod m = *f->second.method;
        if (!drift_method_applies(kind, m))
            fail(ErrorKind::InvalidParameter,
                 std::string("drift method ") + drift_method_name(m) + " of feature \"" + message_name(feature) +
                     "\" does not apply to its " + stats_kind_name(kind) + " values",
                 {}, std::string("for ") + stats_kind_name(kind) + " statistics use " + valid_methods(kind));
        return resolve_drift_method(kind, m);
    }
    const std::optional<DriftMethod>& of_kind = kind == StatsKind::Numeric ? numeric_method : categorical_method;
    if (of_kind) return resolve_drift_method(kind, *of_kind);
    if (method && drift_method_applies(kind, *method)) return resolve_drift_method(kind, *method);
    return resolve_drift_method(kind, DriftMethod::Auto);
}

DriftThresholds DriftReportConfig::thresholds_for(std::string_view feature, DriftMethod resolved) const {
    DriftThresholds t = thresholds.at(resolved);
    auto f = features.find(feature);
    if (f != features.end()) {
        if (f->second.warn) t.warn = *f->second.warn;
        if (f->second.alert) t.alert = *f->second.alert;
    }
    return t;
}

uint32_t DriftReportConfig::bins_for(std::string_view feature) const {
    auto f = features.find(feature);
    return f != features.end() && f->second.bins ? *f->second.bins : bins;
}

DriftReportConfig parse_drift_report_config(std::string_view json_text) {
    const detail::JsonOptions& o = kReportOptions;
    const nlohmann::json j = o.parse(json_text);
    o.check_keys(j, "", {"method", "numeric_method", "categorical_method", "bins", "psi", "js", "ks",
                         "wasserstein", "linf", "features"});
    DriftReportConfig c;
    if (j.contains("method")) c.method = method_at(j["method"], "method");
    if (j.contains("numeric_method"))
        c.numeric_method = kind_method_at(j["numeric_method"], "numeric_method", StatsKind::Numeric);
    if (j.contains("categorical_method"))
        c.categorical_method = kind_method_at(j["categorical_method"], "categorical_method", StatsKind::Categorical);
    if (j.contains("bins")) c.bins = bins_at(j["bins"], "bins");
    for (DriftMethod m : kMethods) {
        const std::string key = drift_method_name(m);
        if (!j.contains(key)) continue;
        const nlohmann::json& t = j[key];
        o.require_object(t, key);
        o.check_keys(t, key, {"warn", "alert"});
        DriftThresholds& th = c.thresholds[m];
        if (t.contains("warn")) th.warn = o.number(t["warn"], key + ".warn", 0.0, threshold_max(m));
        if (t.contains("alert")) th.alert = o.number(t["alert"], key + ".alert", 0.0, threshold_max(m));
        if (std::string why = threshold_problem(m, th); !why.empty()) o.fail_at(key, why);
    }
    if (j.contains("features")) {
        const nlohmann::json& fs = j["features"];
        o.require_object(fs, "features");
        for (auto it = fs.begin(); it != fs.end(); ++it) {
            const std::string path = detail::JsonOptions::join("features", it.key());
            const nlohmann::json& fj = *it;
            o.require_object(fj, path);
            o.check_keys(fj, path, {"method", "bins", "warn", "alert", "skip"});
            DriftFeatureConfig f;
            if (fj.contains("method")) f.method = method_at(fj["method"], path + ".method");
            if (fj.contains("bins")) f.bins = bins_at(fj["bins"], path + ".bins");
            if (fj.contains("skip")) f.skip = o.boolean(fj["skip"], path + ".skip");
            // Bounds of the methods this feature can take (the p-value's [0, 1] only if ks alone).
            const bool only_ks = f.method == DriftMethod::KolmogorovSmirnov;
            const double hi = only_ks ? 1.0 : std::numeric_limits<double>::infinity();
            if (fj.contains("warn")) f.warn = o.number(fj["warn"], path + ".warn", 0.0, hi);
            if (fj.contains("alert")) f.alert = o.number(fj["alert"], path + ".alert", 0.0, hi);
            c.features.emplace(it.key(), f);
        }
        // Each feature's thresholds, with the method it takes for either kind of values, must be
        // in order: checked here, so a report never fails on a threshold because of the data.
        for (const auto& [name, f] : c.features) {
            if (!f.warn && !f.alert) continue;
            std::vector<DriftMethod> candidates;
            if (f.method) {
                candidates.push_back(f.method == DriftMethod::Auto ? kDefaultNumericDrift : *f.method);
                if (f.method == DriftMethod::Auto) candidates.push_back(kDefaultCategoricalDrift);
            } else {
                candidates = {c.method_for(name, StatsKind::Numeric), c.method_for(name, StatsKind::Categorical)};
            }
            for (DriftMethod m : candidates) {
                const DriftThresholds t = c.thresholds_for(name, m);
                const std::string path = detail::JsonOptions::join("features", name);
                if (drift_thresholds_on_pvalue(m) && (t.warn > 1.0 || t.alert > 1.0))
                    o.fail_at(path, std::string("thresholds are p-values for method ") + drift_method_name(m) +
                                        " and must be between 0 and 1");
                if (std::string why = threshold_problem(m, t); !why.empty())
                    o.fail_at(path, std::string("with method ") + drift_method_name(m) + ": " + why);
            }
        }
    }
    return c;
}

std::vector<DriftReportRow> drift_report(const Profile& baseline, const Profile& current,
                                         const DriftReportConfig& config) {
    std::vector<DriftReportRow> rows;
    const Profile::Features& bf = baseline.features();
    const Profile::Features& cf = current.features();
    auto bi = bf.begin();
    auto ci = cf.begin();
    while (bi != bf.end() || ci != cf.end()) {
        const FeatureProfile* b = nullptr;
        const FeatureProfile* c = nullptr;
        const std::string* name;
        if (ci == cf.end() || (bi != bf.end() && bi->first <= ci->first)) {
            name = &bi->first;
            b = &bi->second;
            if (ci != cf.end() && ci->first == bi->first) c = &(ci++)->second;
            ++bi;
        } else {
            name = &ci->first;
            c = &(ci++)->second;
        }
        auto fc = config.features.find(*name);
        if (fc != config.features.end() && fc->second.skip) continue;

        DriftReportRow row;
        row.feature = *name;
        if (b && b->stats_kind()) row.kind = b->stats_kind();
        else if (c && c->stats_kind()) row.kind = c->stats_kind();
        if (row.kind) {
            const StatsKind kind = *row.kind;
            const DriftMethod method = config.method_for(*name, kind);
            row.method = method;
            row.thresholds = config.thresholds_for(*name, method);
            const FeatureStats* bv = b ? b->values(kind) : nullptr;
            const FeatureStats* cv = c ? c->values(kind) : nullptr;
            if (bv) row.baseline_count = compared(*bv);
            if (cv) row.current_count = compared(*cv);
            if (bv && cv) {
                DriftOptions options;
                options.bins = config.bins_for(*name);
                row.result = stats_drift(*bv, *cv, method, options);
            }
            if (row.result) {
                double score = row.result->value;
                if (drift_thresholds_on_pvalue(method)) {
                    row.pvalue = ks_pvalue(row.result->value, row.baseline_count, row.current_count);
                    score = *row.pvalue;
                }
                row.status = drift_status(method, score, *row.thresholds);
            }
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

}  // namespace pg_learn::core
