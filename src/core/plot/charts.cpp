// Charts of metric states, statistics and profiles (charts.hpp).
#include "core/plot/charts.hpp"

#include "core/common/error.hpp"
#include "core/drift/drift.hpp"
#include "core/metrics/metrics.hpp"
#include "core/stats/feature_stats.hpp"
#include "core/stats/profile.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace pg_learn::core::plot {
namespace {

std::string fixed(double v, int decimals) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", decimals, v);
    return b;
}

// A bin edge in 4 significant digits: 22.17, 1206, 0.0005, 1.5e+07.
std::string short_number(double v) {
    if (v < 0 && v > -1e-300) return "< 0";  // a split just below 0 (the largest negative double)
    char b[32];
    std::snprintf(b, sizeof b, "%.4g", v == 0 ? 0.0 : v);
    return b;
}

// 1234567 -> "1,234,567"
std::string grouped(uint64_t n) {
    std::string s = std::to_string(n), out;
    for (size_t i = 0; i < s.size(); i++) {
        if (i && (s.size() - i) % 3 == 0) out += ',';
        out += s[i];
    }
    return out;
}

std::vector<double> numbers(const nlohmann::json& a) {
    std::vector<double> v;
    for (const auto& e : a) v.push_back(e.is_number() ? e.get<double>() : std::nan(""));
    return v;
}

const RankingCounts& ranking(const MetricState& s, const char* chart) {
    if (s.kind() != MetricKind::Ranking)
        fail(ErrorKind::InvalidParameter,
             std::string("a ") + chart + " needs a ranking state, not a " + metric_kind_name(s.kind()) + " state",
             {}, "Build it from scores and boolean labels: ml_binary_state(score, label) or the monitoring windows' "
                 "metric_state.");
    return s.as<RankingCounts>();
}

std::string rows_note(const RankingCounts& r) {
    return grouped(r.count()) + " rows, " + grouped(r.positives()) + " positive";
}

std::string one_class_message(const RankingCounts& r) {
    if (r.count() == 0) return "no data: the state holds no rows";
    return "no curve: all " + grouped(r.count()) + " rows are " + (r.positives() ? "positive" : "negative") +
           " (both classes are needed)";
}

constexpr const char* kNoState = "no data: no state (NULL: the aggregate saw no row)";

// A chart over [0, 1] x [0, 1] (the curves of a binary classifier), "no data" until filled.
Chart unit_square(const char* title, const char* x_label, const char* y_label) {
    Chart c;
    c.title = title;
    c.x_label = x_label;
    c.y_label = y_label;
    c.x_range = {0, 1};
    c.y_range = {0, 1};
    c.empty_message = kNoState;
    return c;
}

}  // namespace

Chart roc_chart(const MetricState* st) {
    Chart c = unit_square("ROC curve", "false positive rate", "true positive rate");
    if (!st) return c;
    const MetricState& state = *st;
    const RankingCounts& r = ranking(state, "ROC curve");
    const auto curve = state.roc_curve(true);
    if (!curve) {
        c.empty_message = one_class_message(r);
        return c;
    }
    c.note = "AUC " + fixed(state.auc().value_or(std::nan("")), 3) + ", " + rows_note(r);
    c.series.push_back({"chance", {0, 1}, {0, 1}, Mark::Line, true, true});
    c.series.push_back({"model", numbers((*curve)["fpr"]), numbers((*curve)["tpr"]), Mark::Line, false, false});
    return c;
}

Chart pr_chart(const MetricState* st) {
    Chart c = unit_square("Precision-recall curve", "recall", "precision");
    if (!st) return c;
    const MetricState& state = *st;
    const RankingCounts& r = ranking(state, "precision-recall curve");
    const auto curve = state.pr_curve();
    if (!curve) {
        c.empty_message = one_class_message(r);
        return c;
    }
    const double rate = double(r.positives()) / double(r.count());
    c.note = rows_note(r) + " (positive rate " + fixed(rate, 3) + ")";
    c.series.push_back({"positive rate", {0, 1}, {rate, rate}, Mark::Line, true, true});
    // sklearn's curve runs from recall 1 down to 0; precision holds until recall drops.
    c.series.push_back({"model", numbers((*curve)["recall"]), numbers((*curve)["precision"]), Mark::Step, false, false});
    return c;
}

Chart calibration_chart(const MetricState* st, std::optional<int64_t> bins) {
    Chart c = unit_square("Calibration", "mean predicted probability", "fraction positive");
    if (!st) return c;
    const MetricState& state = *st;
    if (state.kind() != MetricKind::Ranking && state.kind() != MetricKind::Calibration)
        fail(ErrorKind::InvalidParameter,
             std::string("a calibration chart needs a ranking or calibration state, not a ") +
                 metric_kind_name(state.kind()) + " state",
             {}, "Build it from probabilities and boolean labels: ml_binary_state(probability, label).");
    const auto cal = state.calibration(bins);
    if (!cal) {
        c.empty_message = "no data: the state holds no rows";
        return c;
    }
    uint64_t n = 0;
    for (const auto& k : (*cal)["count"]) n += k.get<uint64_t>();
    c.note = grouped(n) + " rows in " + std::to_string((*cal)["n_bins"].get<uint32_t>()) + " bins";
    c.series.push_back({"perfectly calibrated", {0, 1}, {0, 1}, Mark::Line, true, true});
    c.series.push_back({"model", numbers((*cal)["mean_predicted"]), numbers((*cal)["fraction_positive"]), Mark::Line,
                        false, false});
    return c;
}

Chart histogram_chart(const FeatureStats* st, uint32_t bins) {
    Chart c;
    c.title = "Histogram";
    c.y_label = "count";
    if (!st) {
        c.empty_message = "no data: no statistics (NULL: the aggregate saw no row)";
        return c;
    }
    const FeatureStats& stats = *st;
    Series s{"", {}, {}, Mark::Bars, false, false};
    if (stats.numeric()) {
        const auto h = stats.histogram(bins);
        for (size_t i = 0; i < h.size(); i++) {
            const std::string lo = tick_label(h[i].lo, std::max(std::fabs(h[i].hi - h[i].lo), 1e-12));
            c.categories.push_back(lo);
            s.x.push_back(double(i));
            s.y.push_back(double(h[i].count));
        }
        c.x_label = h.empty() ? "value" : "value (bins from their lower edge; last upper edge " +
                                              tick_label(h.back().hi, std::max(std::fabs(h.back().hi - h.back().lo), 1e-12)) + ")";
        std::string note = grouped(stats.count()) + " values";
        std::vector<std::string> left_out;
        if (stats.nan_count()) left_out.push_back(grouped(stats.nan_count()) + " NaN");
        if (stats.pos_inf_count() + stats.neg_inf_count())
            left_out.push_back(grouped(stats.pos_inf_count() + stats.neg_inf_count()) + " infinite");
        if (stats.null_count()) left_out.push_back(grouped(stats.null_count()) + " NULL");
        for (size_t i = 0; i < left_out.size(); i++) note += (i ? ", " : "; not drawn: ") + left_out[i];
        c.note = note;
        c.empty_message = stats.count() ? "no finite value to draw" : "no data: the statistics hold no value";
    } else {
        c.title = "Most frequent values";
        c.x_label = "value";
        const auto top = stats.top_k();
        for (size_t i = 0; i < top.size() && i < 20; i++) {
            c.categories.push_back(top[i].value);
            s.x.push_back(double(i));
            s.y.push_back(double(top[i].count));
        }
        c.note = grouped(stats.count()) + " values, " + grouped(stats.distinct()) +
                 (stats.distinct_is_exact() ? "" : " (estimated)") + " distinct" +
                 (top.size() > 20 ? "; the 20 most frequent" : "") +
                 (stats.null_count() ? "; " + grouped(stats.null_count()) + " NULL" : "");
        c.empty_message = "no data: the statistics hold no value";
    }
    if (!s.x.empty()) c.series.push_back(std::move(s));
    return c;
}

// The bars of a drift chart: both sides' proportions in the bins drift is measured on.
static void stats_drift(Chart& c, const FeatureStats& bs, const FeatureStats& cs) {
    Series sb{"baseline", {}, {}, Mark::Bars, false, false}, sc{"current", {}, {}, Mark::Bars, false, false};
    if (bs.numeric()) {
        const auto bins = numeric_bins(bs.quantile_sketch(), cs.quantile_sketch());
        if (!bins) {
            c.empty_message = "no data: a side holds no value";
            return;
        }
        const auto& sp = bins->splits;
        for (size_t i = 0; i <= sp.size(); i++)
            c.categories.push_back(sp.empty()         ? std::string("all values")
                                   : i == sp.size() ? "> " + short_number(sp.back())
                                   : sp[i] < 0 && sp[i] > -1e-300 ? short_number(sp[i])
                                                    : "\xE2\x89\xA4 " + short_number(sp[i]));
        c.x_label = "bins of the baseline's quantiles (upper edge)";
        sb.y = bins->baseline.estimate;
        sc.y = bins->current.estimate;
    } else {
        const auto bins = categorical_bins(bs.top_k_summary(), cs.top_k_summary());
        if (!bins) {
            c.empty_message = "no data: a side holds no value";
            return;
        }
        c.categories = bins->values;
        c.categories.push_back("(other)");
        c.x_label = "value";
        sb.y = bins->baseline.estimate;
        sc.y = bins->current.estimate;
    }
    for (size_t i = 0; i < c.categories.size(); i++) {
        sb.x.push_back(double(i));
        sc.x.push_back(double(i));
    }
    c.note = "baseline " + grouped(bs.count()) + " values, current " + grouped(cs.count());
    c.series.push_back(std::move(sb));
    c.series.push_back(std::move(sc));
}

Chart drift_chart(const Profile* baseline, const Profile* current, const std::string& feature) {
    Chart c;
    c.title = "Drift of " + feature;
    c.y_label = "proportion";
    if (!baseline || !current) {
        c.empty_message = std::string("no data: no ") + (!baseline ? "baseline" : "current") + " profile";
        return c;
    }
    const FeatureProfile* b = baseline->find(feature);
    const FeatureProfile* k = current->find(feature);
    const auto kind = b ? b->stats_kind() : (k ? k->stats_kind() : std::nullopt);
    if (!b || !k || !kind) {
        c.empty_message = std::string("no data: feature \"") + feature + "\" is not in the " +
                          (!b ? "baseline" : !k ? "current profile" : "profiles as a number or a string");
        return c;
    }
    const FeatureStats* bs = b->values(*kind);
    const FeatureStats* cs = k->values(*kind);
    if (!bs || !cs) {
        c.empty_message = std::string("no data: the ") + (!bs ? "baseline" : "current profile") + " has no " +
                          (*kind == StatsKind::Numeric ? "number" : "string") + " for this feature";
        return c;
    }
    stats_drift(c, *bs, *cs);
    return c;
}

Chart drift_chart(const FeatureStats* baseline, const FeatureStats* current, const std::string& title) {
    Chart c;
    c.title = title.empty() ? "Drift" : title;
    c.y_label = "proportion";
    if (!baseline || !current) {
        c.empty_message = std::string("no data: no ") + (!baseline ? "baseline" : "current") + " statistics";
        return c;
    }
    if (baseline->kind() != current->kind())
        fail(ErrorKind::InvalidParameter, "the baseline and current statistics are of different kinds",
             std::string("one is ") + (baseline->numeric() ? "numeric" : "categorical") + ", the other not",
             "Compare the statistics of one column: ml_stats(x) over the baseline's rows and over the current ones.");
    stats_drift(c, *baseline, *current);
    return c;
}

Chart series_chart(std::vector<TimePoint> points, const std::string& title, const std::string& y_label) {
    Chart c;
    c.title = title;
    c.y_label = y_label;
    c.x_label = "time (UTC)";
    c.x_time = true;
    std::stable_sort(points.begin(), points.end(), [](const TimePoint& a, const TimePoint& b) {
        return a.series != b.series ? a.series < b.series : a.t < b.t;
    });
    for (const TimePoint& p : points) {
        if (c.series.empty() || c.series.back().name != p.series)
            c.series.push_back({p.series, {}, {}, Mark::Line, false, false});
        c.series.back().x.push_back(p.t);
        c.series.back().y.push_back(p.value);
    }
    if (c.series.size() > 10)
        fail(ErrorKind::InvalidParameter, "ml_plot_series draws at most 10 series, not " + std::to_string(c.series.size()),
             {}, "Filter the rows, or aggregate the series in the query.");
    if (c.series.size() == 1 && c.series[0].name.empty()) c.series[0].name.clear();
    return c;
}

}  // namespace pg_learn::core::plot
