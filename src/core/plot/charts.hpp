// The charts pg_learn draws from its values (docs/plots.md): ROC, precision-recall and
// calibration curves of a metric state, a histogram of feature statistics, a baseline and a
// current distribution overlaid (the bins drift is measured on), and series over time. Each
// returns a Chart for render_svg; an empty or one-class state gives a chart that says so.
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/plot/chart.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pg_learn::core {
class MetricState;
class FeatureStats;
class Profile;
}  // namespace pg_learn::core

namespace pg_learn::core::plot {

// A ranking state (ml_metric_state of scores and boolean labels); InvalidParameter for another
// kind, naming the state the chart needs. No state (nullptr: SQL's NULL, the state of an
// aggregate over no row) draws "no data".
Chart roc_chart(const MetricState* state);
Chart pr_chart(const MetricState* state);
// A ranking state of probabilities (bins: default 10) or a calibration state (its own bins).
Chart calibration_chart(const MetricState* state, std::optional<int64_t> bins);
// Equal-width bins of the finite values (numeric statistics); categorical statistics: the top
// values' counts.
Chart histogram_chart(const FeatureStats* stats, uint32_t bins);
// One feature of two profiles: the proportions of each side in the bins its drift is measured on
// (numeric: the baseline's quantile bins; categorical: the values listed, then "other").
// A feature missing from a side (or a side missing) is drawn as "no data" with the reason.
Chart drift_chart(const Profile* baseline, const Profile* current, const std::string& feature);
// The same for the statistics of one column on each side (ml_stats of the same kind).
Chart drift_chart(const FeatureStats* baseline, const FeatureStats* current, const std::string& title);

// Points of named series over time (seconds since 1970), in any order: ml_plot_series.
struct TimePoint {
    double t, value;
    std::string series;
};
Chart series_chart(std::vector<TimePoint> points, const std::string& title, const std::string& y_label);

}  // namespace pg_learn::core::plot
