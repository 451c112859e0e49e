// Charts as SVG text from SQL (docs/plots.md): ml_plot_roc, ml_plot_pr, ml_plot_calibration of a
// metric state, ml_plot_histogram of ml_stats, ml_plot_drift of two profiles, and the
// ml_plot_series aggregate. The charts are the core's (core/plot); this file reads the arguments
// and returns the text.
#include "pg/common/args.hpp"
#include "pg/common/expanded_value.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

#include <optional>
#include <string>
#include <vector>

#include "core/metrics/metrics.hpp"
#include "core/plot/charts.hpp"
#include "core/stats/feature_stats.hpp"
#include "core/stats/profile.hpp"

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;
using namespace pg_learn::pg;
namespace plot = pg_learn::core::plot;

namespace {

Datum svg_text(const plot::Chart& chart) {
    const std::string svg = plot::render_svg(chart);
    Datum d = 0;
    pg_guard([&]() { d = PointerGetDatum(cstring_to_text_with_len(svg.data(), int(svg.size()))); });
    return d;
}

// Argument argno, or nullptr for NULL (the chart says "no data").
template <typename T>
const T* value_arg(FunctionCallInfo fcinfo, int argno, std::optional<T>& holder) {
    if (PG_ARGISNULL(argno)) return nullptr;
    return &read_value<T>(PG_GETARG_DATUM(argno), holder);
}

// The ml_plot_series state: the points so far and the title (the 4th argument, when given).
struct SeriesState {
    std::vector<plot::TimePoint> points;
    std::string title = "Series";
    bool titled = false;
};
constexpr size_t kMaxSeriesPoints = 1000000;

void delete_series_state(void* arg) { delete static_cast<SeriesState*>(arg); }

}  // namespace

PGL_FUNCTION(ml_plot_roc) {
    std::optional<pg_learn::core::MetricState> h;
    return svg_text(plot::roc_chart(value_arg(fcinfo, 0, h)));
}

PGL_FUNCTION(ml_plot_pr) {
    std::optional<pg_learn::core::MetricState> h;
    return svg_text(plot::pr_chart(value_arg(fcinfo, 0, h)));
}

PGL_FUNCTION(ml_plot_calibration) {
    std::optional<pg_learn::core::MetricState> h;
    std::optional<int64_t> bins;
    if (PG_NARGS() > 1) {
        if (PG_ARGISNULL(1)) fail(ErrorKind::NullValue, "bins must not be NULL");
        bins = PG_GETARG_INT32(1);
    }
    return svg_text(plot::calibration_chart(value_arg(fcinfo, 0, h), bins));
}

PGL_FUNCTION(ml_plot_histogram) {
    std::optional<pg_learn::core::FeatureStats> h;
    if (PG_ARGISNULL(1)) fail(ErrorKind::NullValue, "bins must not be NULL");
    const int32 bins = PG_GETARG_INT32(1);
    if (bins < 1 || bins > 200) fail(ErrorKind::InvalidParameter, "bins must be between 1 and 200", "got " + std::to_string(bins));
    return svg_text(plot::histogram_chart(value_arg(fcinfo, 0, h), uint32_t(bins)));
}

PGL_FUNCTION(ml_plot_drift) {
    std::optional<pg_learn::core::Profile> hb, hc;
    if (PG_ARGISNULL(2)) fail(ErrorKind::NullValue, "feature must not be NULL");
    return svg_text(plot::drift_chart(value_arg(fcinfo, 0, hb), value_arg(fcinfo, 1, hc), text_arg_string(fcinfo, 2)));
}

PGL_FUNCTION(ml_plot_drift_stats) {
    std::optional<pg_learn::core::FeatureStats> hb, hc;
    return svg_text(plot::drift_chart(value_arg(fcinfo, 0, hb), value_arg(fcinfo, 1, hc), "Drift"));
}

// ml_plot_series(t timestamptz, value float8, series text [, title text]): rows with a NULL time
// are skipped; a NULL value is a point not drawn (counted in the note); a NULL series is "".
PGL_FUNCTION(ml_plot_series_transition) {
    MemoryContext aggcxt = aggregate_context(fcinfo, "ml_plot_series_transition", "ml_plot_series");
    SeriesState* st = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<SeriesState*>(PG_GETARG_POINTER(0));
    if (!st) {
        st = new SeriesState();
        pg_guard([&]() {
            auto* cb = static_cast<MemoryContextCallback*>(MemoryContextAlloc(aggcxt, sizeof(MemoryContextCallback)));
            cb->func = delete_series_state;
            cb->arg = st;
            MemoryContextRegisterResetCallback(aggcxt, cb);
        });
    }
    if (PG_NARGS() > 4 && !st->titled && !PG_ARGISNULL(4)) st->title = text_arg_string(fcinfo, 4);
    st->titled = true;
    if (!PG_ARGISNULL(1)) {
        if (st->points.size() >= kMaxSeriesPoints)
            fail(ErrorKind::ProgramLimit, "ml_plot_series draws at most 1000000 points", {},
                 "Aggregate the rows by time bucket first.");
        const double t = double(PG_GETARG_TIMESTAMPTZ(1));  // microseconds since 2000-01-01
        const double secs = t / 1e6 + 946684800.0;
        const double v = PG_ARGISNULL(2) ? std::nan("") : PG_GETARG_FLOAT8(2);
        st->points.push_back({secs, v, PG_ARGISNULL(3) ? std::string() : text_arg_string(fcinfo, 3)});
    }
    PG_RETURN_POINTER(st);
}

PGL_FUNCTION(ml_plot_series_final) {
    SeriesState* st = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<SeriesState*>(PG_GETARG_POINTER(0));
    if (!st) {  // no row: an empty chart
        plot::Chart c = plot::series_chart({}, "Series", "value");
        c.empty_message = "no data: no rows";
        return svg_text(c);
    }
    plot::Chart c = plot::series_chart(st->points, st->title, "value");
    if (st->points.empty()) c.empty_message = "no data: every row's time is NULL";
    return svg_text(c);
}
