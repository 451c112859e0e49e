// Anomalies of a current window against a baseline profile: presence, types, domains, ranges,
// NaN and infinities, with counts exact from the profile or estimated from its sketches.
#include "core/drift/anomalies.hpp"

#include "core/common/error.hpp"
#include "core/common/json_options.hpp"
#include "core/common/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

namespace pg_learn::core {

using nlohmann::ordered_json;

namespace {

constexpr double kBoundDelta = 0.01;  // the estimated counts' bounds fail with probability <= this
constexpr size_t kListedValues = 20;  // out-of-domain values listed in a detail

const detail::JsonOptions kAnomalyOptions("ml_anomalies options");

const char* const kTypeNames[kAnomalyTypes] = {
    "NO_DATA_IN_SPAN",
    "DATASET_LOW_NUM_EXAMPLES",
    "SCHEMA_MISSING_COLUMN",
    "FEATURE_TYPE_NOT_PRESENT",
    "FEATURE_TYPE_LOW_FRACTION_PRESENT",
    "SCHEMA_NEW_COLUMN",
    "UNEXPECTED_DATA_TYPE",
    "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
    "FLOAT_TYPE_SMALL_FLOAT",
    "FLOAT_TYPE_BIG_FLOAT",
    "FLOAT_TYPE_HAS_NAN",
    "FLOAT_TYPE_HAS_INF",
};

// "3.12%": a fraction for people, three significant digits.
std::string percent(double f) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g%%", 100.0 * f);
    return buf;
}

std::string quote_name(std::string_view s) { return "\"" + message_name(s) + "\""; }

ordered_json type_counts(const FeatureProfile& f) {
    ordered_json j = ordered_json::object();
    for (size_t t = 0; t < kValueTypes; t++)
        if (f.type_count(ValueType(t))) j[value_type_name(ValueType(t))] = f.type_count(ValueType(t));
    return j;
}

ordered_json type_of(const FeatureProfile& f) {
    const auto t = f.type();
    return t ? ordered_json(value_type_name(*t)) : ordered_json(nullptr);
}

double ratio(uint64_t a, uint64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0; }

// A count estimated from a sketch, with bounds.
struct Estimate {
    uint64_t value, lower, upper;
    void to(ordered_json& j) const {
        j["count_exact"] = lower == upper;
        j["count_lower"] = lower;
        j["count_upper"] = upper;
    }
};

// The finite values of s strictly below lo (below = true) or above hi, when s's finite min (max)
// says there is at least one: KLL's weight of the items beyond, less the exact count of the
// infinities among them; bounds from the sketch's certified rank error.
Estimate beyond(const FeatureStats& s, double edge, bool below) {
    const KllSketch& k = s.quantile_sketch();
    uint64_t total = 0;
    for (const auto& [x, w] : k.weighted_items())
        if (below ? x < edge : x > edge) total += w;
    const uint64_t infs = below ? s.neg_inf_count() : s.pos_inf_count();
    const uint64_t finite = s.finite_count();
    const uint64_t est = std::clamp<uint64_t>(total > infs ? total - infs : 0, 1, finite);
    const double eps = k.rank_error_bound(kBoundDelta) * static_cast<double>(k.n());
    if (eps == 0.0) return {est, est, est};
    const double lo = std::max(1.0, std::floor(static_cast<double>(est) - eps));
    const double hi = std::min(static_cast<double>(finite), std::ceil(static_cast<double>(est) + eps));
    return {est, static_cast<uint64_t>(lo), static_cast<uint64_t>(hi)};
}

AnomalySeverity severity_at(const nlohmann::json& v, const std::string& path) {
    const std::string s = kAnomalyOptions.string(v, path);
    if (s == "error") return AnomalySeverity::Error;
    if (s == "warning") return AnomalySeverity::Warning;
    if (s == "off") return AnomalySeverity::Off;
    kAnomalyOptions.fail_at(path, "must be \"error\", \"warning\" or \"off\", not \"" + message_name(s) + "\"");
}

// The per-feature keys, at the top level (defaults) or under "features".
void read_feature_options(const nlohmann::json& j, const std::string& path, AnomalyFeatureOptions& f) {
    const detail::JsonOptions& o = kAnomalyOptions;
    auto at = [&](const char* key) { return detail::JsonOptions::join(path, key); };
    if (j.contains("min_presence")) f.min_presence = o.number(j["min_presence"], at("min_presence"), 0, 1);
    if (j.contains("min_presence_ratio"))
        f.min_presence_ratio = o.number(j["min_presence_ratio"], at("min_presence_ratio"), 0, 1);
    if (j.contains("max_out_of_range_fraction"))
        f.max_out_of_range_fraction = o.number(j["max_out_of_range_fraction"], at("max_out_of_range_fraction"), 0, 1);
    if (j.contains("max_unexpected_value_fraction"))
        f.max_unexpected_value_fraction =
            o.number(j["max_unexpected_value_fraction"], at("max_unexpected_value_fraction"), 0, 1);
    if (j.contains("allow_nan")) f.allow_nan = o.boolean(j["allow_nan"], at("allow_nan"));
    if (j.contains("allow_inf")) f.allow_inf = o.boolean(j["allow_inf"], at("allow_inf"));
}

}  // namespace

const char* anomaly_type_name(AnomalyType type) {
    const size_t i = size_t(type);
    return i < kAnomalyTypes ? kTypeNames[i] : "UNKNOWN_TYPE";
}

const char* anomaly_severity_name(AnomalySeverity s) {
    switch (s) {
        case AnomalySeverity::Warning: return "warning";
        case AnomalySeverity::Error: return "error";
        case AnomalySeverity::Off: return "off";
    }
    return "unknown";
}

AnomalySeverity default_anomaly_severity(AnomalyType type) {
    switch (type) {
        case AnomalyType::NoDataInSpan:
        case AnomalyType::SchemaMissingColumn:
        case AnomalyType::FeatureTypeNotPresent:
        case AnomalyType::UnexpectedDataType:
        case AnomalyType::FloatTypeHasNan:
        case AnomalyType::FloatTypeHasInf:
            return AnomalySeverity::Error;
        default:
            return AnomalySeverity::Warning;
    }
}

AnomalyOptions::AnomalyOptions() {
    defaults.min_presence = 0.0;
    defaults.min_presence_ratio = 0.9;
    defaults.max_out_of_range_fraction = 0.0;
    defaults.max_unexpected_value_fraction = 0.0;
    for (size_t t = 0; t < kAnomalyTypes; t++) severity[t] = default_anomaly_severity(AnomalyType(t));
}

AnomalyFeatureOptions AnomalyOptions::for_feature(std::string_view name) const {
    AnomalyFeatureOptions r = defaults;
    auto it = features.find(name);
    if (it == features.end()) return r;
    const AnomalyFeatureOptions& f = it->second;
    if (f.min_presence) r.min_presence = f.min_presence;
    if (f.min_presence_ratio) r.min_presence_ratio = f.min_presence_ratio;
    if (f.max_out_of_range_fraction) r.max_out_of_range_fraction = f.max_out_of_range_fraction;
    if (f.max_unexpected_value_fraction) r.max_unexpected_value_fraction = f.max_unexpected_value_fraction;
    if (f.allow_nan) r.allow_nan = f.allow_nan;
    if (f.allow_inf) r.allow_inf = f.allow_inf;
    r.skip = f.skip;
    return r;
}

AnomalyOptions parse_anomaly_options(std::string_view json_text) {
    const detail::JsonOptions& o = kAnomalyOptions;
    const nlohmann::json j = o.parse(json_text);
    o.check_keys(j, "", {"min_rows", "min_presence", "min_presence_ratio", "max_out_of_range_fraction",
                         "max_unexpected_value_fraction", "allow_nan", "allow_inf", "severity", "features"});
    AnomalyOptions a;
    if (j.contains("min_rows"))
        a.min_rows = uint64_t(o.integer(j["min_rows"], "min_rows", 0, std::numeric_limits<int64_t>::max()));
    read_feature_options(j, "", a.defaults);
    if (j.contains("severity")) {
        const nlohmann::json& s = j["severity"];
        o.require_object(s, "severity");
        for (auto it = s.begin(); it != s.end(); ++it) {
            size_t t = 0;
            while (t < kAnomalyTypes && it.key() != kTypeNames[t]) t++;
            if (t == kAnomalyTypes) {
                std::string list;
                for (const char* n : kTypeNames) list += std::string(list.empty() ? "" : ", ") + n;
                o.fail_at("severity", "names an unknown anomaly \"" + message_name(it.key()) + "\"", "anomalies: " + list);
            }
            a.severity[t] = severity_at(*it, detail::JsonOptions::join("severity", it.key()));
        }
    }
    if (j.contains("features")) {
        const nlohmann::json& fs = j["features"];
        o.require_object(fs, "features");
        for (auto it = fs.begin(); it != fs.end(); ++it) {
            const std::string path = detail::JsonOptions::join("features", it.key());
            o.require_object(*it, path);
            o.check_keys(*it, path, {"min_presence", "min_presence_ratio", "max_out_of_range_fraction",
                                     "max_unexpected_value_fraction", "allow_nan", "allow_inf", "skip"});
            AnomalyFeatureOptions f;
            read_feature_options(*it, path, f);
            if (it->contains("skip")) f.skip = o.boolean((*it)["skip"], detail::JsonOptions::join(path, "skip"));
            a.features.emplace(it.key(), f);
        }
    }
    return a;
}

std::vector<Anomaly> find_anomalies(const Profile& baseline, const Profile& current, const AnomalyOptions& options) {
    std::vector<Anomaly> out;
    auto emit = [&](const std::string* feature, AnomalyType type, std::string description, uint64_t count,
                    ordered_json detail) {
        const AnomalySeverity sev = options.severity[size_t(type)];
        if (sev == AnomalySeverity::Off) return;
        Anomaly a;
        if (feature) a.feature = *feature;
        a.type = type;
        a.severity = sev;
        a.description = std::move(description);
        a.count = count;
        a.detail = std::move(detail);
        out.push_back(std::move(a));
    };
    const uint64_t rows = current.rows();
    if (rows == 0) {
        // Every feature would be missing: the one anomaly is the empty window.
        emit(nullptr, AnomalyType::NoDataInSpan, "the current window has no rows", 0,
             {{"rows", 0}, {"baseline_rows", baseline.rows()}});
        return out;
    }
    if (options.min_rows && rows < *options.min_rows)
        emit(nullptr, AnomalyType::DatasetLowNumExamples,
             "the current window has " + std::to_string(rows) + " rows, fewer than the " +
                 std::to_string(*options.min_rows) + " required",
             rows, {{"rows", rows}, {"min_rows", *options.min_rows}});

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
        const AnomalyFeatureOptions fo = options.for_feature(*name);
        if (fo.skip) continue;
        const std::string fq = "feature " + quote_name(*name);

        if (!b) {
            const uint64_t appears = c->count() + c->null_count();
            emit(name, AnomalyType::SchemaNewColumn,
                 fq + " is not in the baseline; it appears in " + std::to_string(appears) + " of " +
                     std::to_string(rows) + " rows",
                 appears,
                 {{"type", type_of(*c)},
                  {"presence", current.presence(*c)},
                  {"count", c->count()},
                  {"null_count", c->null_count()}});
            continue;
        }
        // A baseline feature without a single value sets no expectation (no type, no presence).
        if (b->count() == 0) continue;

        const double bp = baseline.presence(*b);
        const double required = std::max(*fo.min_presence, bp * *fo.min_presence_ratio);
        auto presence_detail = [&](ordered_json j) {
            j["baseline_presence"] = bp;
            j["required_presence"] = required;
            return j;
        };
        if (!c) {
            if (required > 0.0)
                emit(name, AnomalyType::SchemaMissingColumn,
                     fq + " is missing: no row of the current window has it (present in " + percent(bp) +
                         " of the baseline's rows)",
                     rows, presence_detail({{"rows", rows}}));
            continue;
        }
        if (c->count() == 0) {
            if (required > 0.0)
                emit(name, AnomalyType::FeatureTypeNotPresent,
                     fq + " has no value in the current window (" + std::to_string(c->null_count()) +
                         " NULLs; present in " + percent(bp) + " of the baseline's rows)",
                     rows,
                     presence_detail({{"rows", rows},
                                      {"null_count", c->null_count()},
                                      {"missing_count", current.missing_count(*c)}}));
            continue;
        }
        const double cp = current.presence(*c);
        if (cp < required)
            emit(name, AnomalyType::FeatureTypeLowFractionPresent,
                 fq + " is present in " + percent(cp) + " of the rows, below the required " + percent(required) +
                     " (baseline " + percent(bp) + ")",
                 rows - c->count(),
                 presence_detail({{"presence", cp},
                                  {"rows", rows},
                                  {"null_count", c->null_count()},
                                  {"missing_count", current.missing_count(*c)}}));

        // Types the baseline never had.
        uint64_t unexpected = 0;
        ordered_json unexpected_types = ordered_json::object();
        for (size_t t = 0; t < kValueTypes; t++) {
            const ValueType vt = ValueType(t);
            if (b->type_count(vt) == 0 && c->type_count(vt) > 0) {
                unexpected += c->type_count(vt);
                unexpected_types[value_type_name(vt)] = c->type_count(vt);
            }
        }
        if (unexpected > 0) {
            std::string types;
            for (auto it = unexpected_types.begin(); it != unexpected_types.end(); ++it)
                types += (types.empty() ? "" : ", ") + it.key();
            emit(name, AnomalyType::UnexpectedDataType,
                 fq + " has " + std::to_string(unexpected) + " values of a type the baseline never had (" + types +
                     "); the baseline's type is " + type_of(*b).get<std::string>(),
                 unexpected,
                 {{"baseline_type", type_of(*b)},
                  {"current_type", type_of(*c)},
                  {"unexpected_types", unexpected_types},
                  {"baseline_type_counts", type_counts(*b)},
                  {"current_type_counts", type_counts(*c)}});
        }

        const std::optional<StatsKind> kind = b->stats_kind();
        // Strings outside a closed domain (the baseline's summary listed every string it saw).
        const FeatureStats* cs = c->values(StatsKind::Categorical);
        if (kind == StatsKind::Categorical && b->domain_complete() && cs) {
            const std::vector<std::string> domain = b->domain();
            const std::set<std::string, std::less<>> in(domain.begin(), domain.end());
            const SpaceSaving& ss = cs->top_k_summary();
            const uint64_t n = ss.n();
            uint64_t in_lo = 0, in_hi = 0;
            double in_mid = 0.0;
            for (const std::string& v : domain) {
                const uint64_t lo = ss.lower_bound(v), hi = ss.upper_bound(v);
                in_lo += lo;
                in_hi += hi;
                in_mid += (static_cast<double>(lo) + static_cast<double>(hi)) / 2.0;
            }
            Estimate e;
            e.lower = n - std::min(n, in_hi);
            e.upper = n - std::min(n, in_lo);
            e.value = std::clamp<uint64_t>(
                static_cast<uint64_t>(std::llround(std::max(0.0, static_cast<double>(n) - in_mid))), e.lower, e.upper);
            const double fraction = ratio(e.value, n);
            if (e.value > 0 && fraction > *fo.max_unexpected_value_fraction) {
                ordered_json values = ordered_json::array();
                size_t listed = 0;
                std::string examples;
                for (const auto& counter : ss.top()) {
                    if (in.count(counter.item)) continue;
                    if (listed < kListedValues)
                        values.push_back({{"value", counter.item},
                                          {"count", counter.count},
                                          {"count_lower", counter.count - counter.error}});
                    if (listed < 3) examples += (examples.empty() ? "" : ", ") + quote_name(counter.item);
                    listed++;
                }
                ordered_json d = {{"fraction", fraction},
                                  {"values", n},
                                  {"domain_size", domain.size()},
                                  {"max_unexpected_value_fraction", *fo.max_unexpected_value_fraction}};
                e.to(d);
                d["unexpected_values"] = std::move(values);
                d["unexpected_values_listed"] = listed;
                emit(name, AnomalyType::EnumTypeUnexpectedStringValues,
                     fq + ": " + std::string(e.lower == e.upper ? "" : "about ") + std::to_string(e.value) + " of " +
                         std::to_string(n) + " strings (" + percent(fraction) +
                         ") are not in the baseline's domain of " + std::to_string(domain.size()) + " values" +
                         (examples.empty() ? "" : " (" + examples + (listed > 3 ? ", ..." : "") + ")"),
                     e.value, std::move(d));
            }
        }

        // Numbers beyond the baseline's finite range, NaN and infinities.
        const FeatureStats* bn = b->values(StatsKind::Numeric);
        const FeatureStats* cn = c->values(StatsKind::Numeric);
        if (kind == StatsKind::Numeric && bn && cn) {
            const std::optional<double> bmin = bn->min(), bmax = bn->max();
            const std::optional<double> cmin = cn->min(), cmax = cn->max();
            const uint64_t finite = cn->finite_count();
            auto range = [&](bool below) {
                const double edge = below ? *bmin : *bmax;
                const Estimate e = beyond(*cn, edge, below);
                const double fraction = ratio(e.value, finite);
                if (!(fraction > *fo.max_out_of_range_fraction)) return;
                ordered_json d = {{"fraction", fraction},
                                  {"finite_values", finite},
                                  {"baseline_min", *bmin},
                                  {"baseline_max", *bmax},
                                  {"current_min", *cmin},
                                  {"current_max", *cmax},
                                  {"max_out_of_range_fraction", *fo.max_out_of_range_fraction}};
                e.to(d);
                emit(name, below ? AnomalyType::FloatTypeSmallFloat : AnomalyType::FloatTypeBigFloat,
                     fq + ": " + std::string(e.lower == e.upper ? "" : "about ") + std::to_string(e.value) + " of " +
                         std::to_string(finite) + " values (" + percent(fraction) + ") are " +
                         (below ? "below the baseline's min " : "above the baseline's max ") + format_double(edge) +
                         " (current " + (below ? "min " : "max ") + format_double(below ? *cmin : *cmax) + ")",
                     e.value, std::move(d));
            };
            if (bmin && cmin && *cmin < *bmin) range(true);
            if (bmax && cmax && *cmax > *bmax) range(false);

            const uint64_t nans = cn->nan_count(), infs = cn->pos_inf_count() + cn->neg_inf_count();
            const uint64_t b_nans = bn->nan_count(), b_infs = bn->pos_inf_count() + bn->neg_inf_count();
            const uint64_t cvals = cn->count();
            const bool nan_ok = fo.allow_nan ? *fo.allow_nan : b_nans > 0;
            const bool inf_ok = fo.allow_inf ? *fo.allow_inf : b_infs > 0;
            if (nans > 0 && !nan_ok)
                emit(name, AnomalyType::FloatTypeHasNan,
                     fq + " has " + std::to_string(nans) + " NaN values (" + percent(ratio(nans, cvals)) +
                         " of its numbers)" + (b_nans ? "" : "; the baseline had none"),
                     nans,
                     {{"fraction", ratio(nans, cvals)},
                      {"numbers", cvals},
                      {"baseline_nan_count", b_nans},
                      {"baseline_fraction", ratio(b_nans, bn->count())}});
            if (infs > 0 && !inf_ok)
                emit(name, AnomalyType::FloatTypeHasInf,
                     fq + " has " + std::to_string(infs) + " infinite values (" + percent(ratio(infs, cvals)) +
                         " of its numbers)" + (b_infs ? "" : "; the baseline had none"),
                     infs,
                     {{"fraction", ratio(infs, cvals)},
                      {"numbers", cvals},
                      {"pos_inf_count", cn->pos_inf_count()},
                      {"neg_inf_count", cn->neg_inf_count()},
                      {"baseline_inf_count", b_infs},
                      {"baseline_fraction", ratio(b_infs, bn->count())}});
        }
    }
    return out;
}

}  // namespace pg_learn::core
