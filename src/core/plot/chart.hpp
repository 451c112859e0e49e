// Charts as self-contained SVG documents (docs/plots.md): axes with ticks, labels, a legend and a
// title, drawn from series of points or bars. No script, no external reference: a browser, an
// <img> tag or an HTML report shows the text as it is.
#pragma once

#include "core/common/cpp_only.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pg_learn::core::plot {

// How a series is drawn: a polyline (with a dot at each point when it has few), a staircase
// (each y held until the next x), dots only, or bars (x is a category's index, see
// Chart::categories).
enum class Mark : uint8_t { Line, Step, Points, Bars };

struct Series {
    std::string name;  // the legend's text ("" keeps the series out of the legend)
    std::vector<double> x, y;
    Mark mark = Mark::Line;
    bool dashed = false;     // a reference line (the diagonal of a ROC curve)
    bool muted = false;      // drawn grey, behind the others
};

struct Chart {
    std::string title;
    std::string note;  // one line under the title (a summary: "AUC 0.873 over 1,204 rows")
    std::string x_label, y_label;
    std::vector<Series> series;
    // Fixed axis ranges (both ends); otherwise the range of the finite points, widened to nice
    // ticks (a single value becomes a range around it).
    std::optional<std::pair<double, double>> x_range, y_range;
    bool x_time = false;  // x holds seconds since 1970-01-01 UTC: ticks fall on calendar steps
    // Bar charts: x is the index of categories[i]; the bars of several series stand side by side.
    std::vector<std::string> categories;
    // Drawn in the middle of the plot area when no series has a finite point.
    std::string empty_message = "no data";
    int width = 600, height = 400;
};

// The SVG document. Points whose x or y is not finite are left out; the note then says how many.
std::string render_svg(const Chart& chart);

// Ticks at 1, 2 or 5 times a power of ten covering [lo, hi] with about `target` of them (lo <= hi,
// both finite); lo == hi gives ticks around the value.
std::vector<double> nice_ticks(double lo, double hi, int target);
// A tick's label: as many decimals as the step needs, no "-0", 1e6 and above in exponent form.
std::string tick_label(double value, double step);
// Calendar ticks over [lo, hi] seconds since 1970 (UTC): the step among 1, 2, 5, 10, 15, 30
// minutes, 1, 2, 3, 6, 12 hours, 1, 2, 7 days, 1, 3 months, 1 year that gives 3 to 8 ticks, and
// the labels' format ("2026-03-01", "03-01 12:00", "12:30", "2026-03").
struct TimeTicks {
    std::vector<double> at;
    std::vector<std::string> labels;
};
TimeTicks time_ticks(double lo, double hi);

// Text made safe inside an XML element or attribute.
std::string xml_escape(const std::string& text);

}  // namespace pg_learn::core::plot
