// SVG charts: scales, ticks, marks, legend (chart.hpp).
#include "core/plot/chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace pg_learn::core::plot {
namespace {

// Tableau 10: distinguishable, and readable on white.
const char* const kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
constexpr double kCharWidth = 6.6;  // of a 12px sans-serif character, about

std::string num(double v) {  // a coordinate: 2 decimals, no "-0"
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", v);
    std::string s(b);
    if (s == "-0.00") s = "0.00";
    return s;
}

std::string text_of(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.6g", v);
    return b;
}

// Proleptic Gregorian calendar from days since 1970-01-01, and back.
void civil_from_days(int64_t z, int64_t& y, int& m, int& d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    d = int(doy - (153 * mp + 2) / 5 + 1);
    m = int(mp < 10 ? mp + 3 : mp - 9);
    if (m <= 2) y++;
}

int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

std::string time_label(double t, const char* format) {
    const int64_t secs = int64_t(std::floor(t));
    const int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    const int64_t rem = secs - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, y, m, d);
    char b[48];
    const int hh = int(rem / 3600), mm = int(rem % 3600 / 60);
    const std::string f(format);
    if (f == "date") std::snprintf(b, sizeof b, "%04lld-%02d-%02d", (long long)y, m, d);
    else if (f == "datetime") std::snprintf(b, sizeof b, "%02d-%02d %02d:%02d", m, d, hh, mm);
    else if (f == "time") std::snprintf(b, sizeof b, "%02d:%02d", hh, mm);
    else if (f == "month") std::snprintf(b, sizeof b, "%04lld-%02d", (long long)y, m);
    else std::snprintf(b, sizeof b, "%04lld", (long long)y);
    return b;
}

struct Range {
    double lo, hi;
};

// The finite extent of the series' x or y; nullopt without a finite point.
std::optional<Range> extent(const std::vector<Series>& series, bool x) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const Series& s : series)
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); i++)
            if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
                const double v = x ? s.x[i] : s.y[i];
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
    if (!(lo <= hi)) return std::nullopt;
    return Range{lo, hi};
}

struct Axis {
    Range range;
    std::vector<double> ticks;
    std::vector<std::string> labels;
};

Axis numeric_axis(std::optional<Range> data, std::optional<std::pair<double, double>> fixed, int target) {
    Axis a;
    if (fixed) {
        a.range = {fixed->first, fixed->second};
        a.ticks = nice_ticks(a.range.lo, a.range.hi, target);
        a.ticks.erase(std::remove_if(a.ticks.begin(), a.ticks.end(),
                                     [&](double t) { return t < a.range.lo - 1e-12 || t > a.range.hi + 1e-12; }),
                      a.ticks.end());
    } else {
        const Range r = data ? *data : Range{0, 1};
        a.ticks = nice_ticks(r.lo, r.hi, target);
        a.range = {std::min(r.lo, a.ticks.front()), std::max(r.hi, a.ticks.back())};
    }
    const double step = a.ticks.size() > 1 ? a.ticks[1] - a.ticks[0] : std::max(std::fabs(a.range.hi), 1.0);
    for (double t : a.ticks) a.labels.push_back(tick_label(t, step));
    if (!(a.range.hi > a.range.lo)) a.range.hi = a.range.lo + 1;
    return a;
}

void text(std::string& out, double x, double y, const std::string& s, const char* anchor, const char* extra = "") {
    out += "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor + "\"" + extra + ">" +
           xml_escape(s) + "</text>\n";
}

std::string shorten(const std::string& s, double width) {
    const size_t max_chars = size_t(std::max(3.0, width / kCharWidth));
    if (s.size() <= max_chars) return s;
    size_t cut = max_chars - 1;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) cut--;  // whole UTF-8 characters
    return s.substr(0, cut) + "\xE2\x80\xA6";
}

}  // namespace

std::string xml_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default:
                // Control characters are not allowed in XML 1.0 (tab, newline and return are).
                if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') out += ' ';
                else out += c;
        }
    }
    return out;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
    if (!std::isfinite(lo) || !std::isfinite(hi)) return {0, 1};
    if (lo > hi) std::swap(lo, hi);
    if (hi - lo < 1e-12 * std::max(1.0, std::fabs(lo))) {  // one value: a range around it
        const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
        lo -= pad;
        hi += pad;
    }
    target = std::max(2, target);
    const double raw = (hi - lo) / target;
    const double mag = std::pow(10, std::floor(std::log10(raw)));
    double step = mag;
    for (double f : {1.0, 2.0, 5.0, 10.0})
        if (raw <= f * mag * 1.0000001) {
            step = f * mag;
            break;
        }
    const double first = std::floor(lo / step + 1e-9) * step, last = std::ceil(hi / step - 1e-9) * step;
    std::vector<double> ticks;
    for (int i = 0; i <= 1000; i++) {
        double t = first + i * step;
        if (t > last + step * 1e-6) break;
        if (std::fabs(t) < step * 1e-9) t = 0;
        ticks.push_back(t);
    }
    return ticks;
}

std::string tick_label(double v, double step) {
    if (std::fabs(v) < std::fabs(step) * 1e-9) v = 0;
    char b[48];
    if (std::fabs(v) >= 1e6 || (std::fabs(step) < 1e-5 && v != 0)) {
        std::snprintf(b, sizeof b, "%.3g", v);
        return b;
    }
    int decimals = 0;
    for (double s = std::fabs(step); decimals < 10 && std::fabs(s - std::round(s)) > 1e-6 * std::max(1.0, s); s *= 10)
        decimals++;
    std::snprintf(b, sizeof b, "%.*f", decimals, v);
    std::string s(b);
    if (s.find_first_not_of("-0.") == std::string::npos && s[0] == '-') s.erase(0, 1);  // "-0.0"
    return s;
}

TimeTicks time_ticks(double lo, double hi) {
    TimeTicks out;
    if (!std::isfinite(lo) || !std::isfinite(hi)) return out;
    if (hi - lo < 60) {
        lo -= 1800;
        hi += 1800;
    }
    struct Step {
        double seconds;  // 0: months (months field)
        int months;
        const char* format;
    };
    const Step steps[] = {{60, 0, "time"},        {120, 0, "time"},      {300, 0, "time"},    {600, 0, "time"},
                          {900, 0, "time"},       {1800, 0, "time"},     {3600, 0, "time"},   {7200, 0, "time"},
                          {10800, 0, "time"},     {21600, 0, "time"},    {43200, 0, "time"},  {86400, 0, "date"},
                          {172800, 0, "date"},    {604800, 0, "date"},   {0, 1, "month"},     {0, 3, "month"},
                          {0, 12, "year"},        {0, 60, "year"},       {0, 120, "year"},    {0, 600, "year"}};
    for (const Step& st : steps) {
        std::vector<double> at;
        if (st.seconds > 0) {
            // Aligned to UTC midnight (weeks: to Mondays, 1970-01-05).
            const double origin = st.seconds == 604800 ? 345600 : 0;
            for (double t = std::ceil((lo - origin) / st.seconds) * st.seconds + origin; t <= hi && at.size() < 9;
                 t += st.seconds)
                at.push_back(t);
        } else {
            int64_t y;
            int m, d;
            civil_from_days(int64_t(std::floor(lo / 86400)), y, m, d);
            int64_t months = y * 12 + (m - 1);
            months = (months + st.months - 1) / st.months * st.months;  // the next multiple
            for (;; months += st.months) {
                const double t = double(days_from_civil(months / 12, int(months % 12) + 1, 1)) * 86400;
                if (t < lo) continue;
                if (t > hi || at.size() >= 9) break;
                at.push_back(t);
            }
        }
        if (at.size() <= 8) {  // the finest step with at most 8 ticks
            const bool sub_day = st.seconds > 0 && st.seconds < 86400;
            const char* format = sub_day && hi - lo > 86400 ? "datetime" : st.format;
            out.at = at;
            for (double t : at) out.labels.push_back(time_label(t, format));
            return out;
        }
    }
    return out;
}

std::string render_svg(const Chart& c) {
    const double W = std::max(200, c.width), H = std::max(150, c.height);
    const bool bars = !c.categories.empty();
    // Points left out: not finite.
    size_t dropped = 0;
    bool any = false;
    for (const Series& s : c.series)
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); i++) {
            if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) any = true;
            else dropped++;
        }
    std::string note = c.note;
    if (dropped) {
        if (!note.empty()) note += "; ";
        note += std::to_string(dropped) + (dropped == 1 ? " point is" : " points are") + " not finite (not drawn)";
    }

    // Axes.
    Axis ya;
    {
        std::optional<Range> data = extent(c.series, false);
        if (bars && data) data = Range{std::min(0.0, data->lo), std::max(0.0, data->hi)};
        ya = numeric_axis(any ? data : std::nullopt, c.y_range, 6);
    }
    Axis xa;
    if (bars) {
        xa.range = {-0.5, double(c.categories.size()) - 0.5};
    } else if (c.x_time && !c.x_range) {
        const auto data = extent(c.series, true);
        const Range r = data ? *data : Range{0, 86400};
        // A little room on both sides, so that the first and last points are whole.
        const double pad = r.hi > r.lo ? (r.hi - r.lo) * 0.03 : 1800;
        xa.range = {r.lo - pad, r.hi + pad};
        const TimeTicks t = time_ticks(xa.range.lo, xa.range.hi);
        for (size_t i = 0; i < t.at.size(); i++)
            if (t.at[i] >= xa.range.lo && t.at[i] <= xa.range.hi) {
                xa.ticks.push_back(t.at[i]);
                xa.labels.push_back(t.labels[i]);
            }
    } else {
        xa = numeric_axis(any ? extent(c.series, true) : std::nullopt, c.x_range, 6);
    }

    // Margins: room for the y labels, the title and note, the x labels and the axis titles.
    size_t ylab = 1;
    for (const auto& l : ya.labels) ylab = std::max(ylab, l.size());
    // The legend stands right of the plot area (never over the marks), as wide as its longest
    // name up to 170px.
    std::vector<size_t> named;
    for (size_t i = 0; i < c.series.size(); i++)
        if (!c.series[i].name.empty()) named.push_back(i);
    size_t longest = 0;
    for (size_t i : named) longest = std::max(longest, c.series[i].name.size());
    const double legend_w = named.empty() || !any ? 0 : std::min(170.0, 34 + double(longest) * kCharWidth);
    const double left = std::min(140.0, 30 + ylab * kCharWidth), right = 18 + (legend_w > 0 ? legend_w + 8 : 0);
    const double top = note.empty() ? 38 : 54, bottom = c.x_label.empty() ? 30 : 48;
    const double pw = W - left - right, ph = H - top - bottom;
    auto sx = [&](double x) { return left + (x - xa.range.lo) / (xa.range.hi - xa.range.lo) * pw; };
    auto sy = [&](double y) { return top + ph - (y - ya.range.lo) / (ya.range.hi - ya.range.lo) * ph; };

    std::string o;
    o.reserve(8192);
    o += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + text_of(W) + "\" height=\"" + text_of(H) +
         "\" viewBox=\"0 0 " + text_of(W) + " " + text_of(H) +
         "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\" role=\"img\">\n";
    o += "<title>" + xml_escape(c.title) + "</title>\n";
    o += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
    // The clip path's id names its rectangle, so that charts inlined in one HTML page (ml_report)
    // never clip by another chart's area: equal ids are equal rectangles.
    const std::string clip = "pgl-clip-" + num(left) + "-" + num(top) + "-" + num(pw) + "-" + num(ph);
    std::string clip_id;
    for (char ch : clip) clip_id += ch == '.' ? '_' : ch;
    o += "<defs><clipPath id=\"" + clip_id + "\"><rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" +
         num(pw) + "\" height=\"" + num(ph) + "\"/></clipPath></defs>\n";
    text(o, W / 2, 22, c.title, "middle", " font-size=\"16\" font-weight=\"bold\" fill=\"#222\"");
    if (!note.empty()) text(o, W / 2, 40, note, "middle", " fill=\"#555\"");

    // Grid and ticks.
    o += "<g class=\"grid\" stroke=\"#e5e5e5\" stroke-width=\"1\">\n";
    for (double t : ya.ticks)
        o += "<line x1=\"" + num(left) + "\" x2=\"" + num(left + pw) + "\" y1=\"" + num(sy(t)) + "\" y2=\"" +
             num(sy(t)) + "\"/>\n";
    if (!bars)
        for (double t : xa.ticks)
            o += "<line x1=\"" + num(sx(t)) + "\" x2=\"" + num(sx(t)) + "\" y1=\"" + num(top) + "\" y2=\"" +
                 num(top + ph) + "\"/>\n";
    o += "</g>\n<g class=\"axes\" fill=\"#333\">\n";
    o += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(pw) + "\" height=\"" + num(ph) +
         "\" fill=\"none\" stroke=\"#888\"/>\n";
    for (size_t i = 0; i < ya.ticks.size(); i++) text(o, left - 6, sy(ya.ticks[i]) + 4, ya.labels[i], "end");
    if (bars) {
        const double band = pw / double(c.categories.size());
        const size_t every = size_t(std::ceil(70.0 / std::max(band, 1.0)));  // labels 70px apart at least
        for (size_t i = 0; i < c.categories.size(); i += std::max<size_t>(every, 1))
            text(o, sx(double(i)), top + ph + 16, shorten(c.categories[i], band * std::max<size_t>(every, 1) - 4),
                 "middle");
    } else {
        for (size_t i = 0; i < xa.ticks.size(); i++) text(o, sx(xa.ticks[i]), top + ph + 16, xa.labels[i], "middle");
    }
    if (!c.x_label.empty()) text(o, left + pw / 2, H - 10, c.x_label, "middle", " fill=\"#222\"");
    if (!c.y_label.empty()) {
        const double yx = 14, yy = top + ph / 2;
        o += "<text x=\"" + num(yx) + "\" y=\"" + num(yy) + "\" text-anchor=\"middle\" fill=\"#222\" transform=\"rotate(-90 " +
             num(yx) + " " + num(yy) + ")\">" + xml_escape(c.y_label) + "</text>\n";
    }
    o += "</g>\n";

    if (!any) {
        text(o, left + pw / 2, top + ph / 2, c.empty_message, "middle", " font-size=\"14\" fill=\"#777\"");
        o += "</svg>\n";
        return o;
    }

    // Marks: muted series first, then the others in order.
    o += "<g class=\"marks\" clip-path=\"url(#" + clip_id + ")\">\n";
    size_t n_bar_series = 0;
    for (const Series& s : c.series) n_bar_series += s.mark == Mark::Bars;
    size_t colour = 0, bar_index = 0;
    std::vector<std::string> colours(c.series.size());
    for (size_t i = 0; i < c.series.size(); i++)
        colours[i] = c.series[i].muted ? "#999999" : kPalette[colour++ % (sizeof kPalette / sizeof kPalette[0])];
    for (int pass = 0; pass < 2; pass++)
        for (size_t si = 0; si < c.series.size(); si++) {
            const Series& s = c.series[si];
            if (s.muted != (pass == 0)) continue;
            const std::string& col = colours[si];
            std::vector<std::pair<double, double>> pts;
            for (size_t i = 0; i < s.x.size() && i < s.y.size(); i++)
                if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) pts.emplace_back(sx(s.x[i]), sy(s.y[i]));
            const std::string dash = s.dashed ? " stroke-dasharray=\"6 4\"" : "";
            o += "<g class=\"series\" data-name=\"" + xml_escape(s.name) + "\">\n";
            if (s.mark == Mark::Bars) {
                const double band = pw / double(std::max<size_t>(c.categories.size(), 1));
                const double bw = band * 0.8 / double(std::max<size_t>(n_bar_series, 1));
                const double zero = sy(std::max(ya.range.lo, std::min(0.0, ya.range.hi)));
                for (size_t i = 0; i < s.x.size() && i < s.y.size(); i++) {
                    if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
                    const double x = sx(s.x[i]) - band * 0.4 + bw * double(bar_index), y = sy(s.y[i]);
                    o += "<rect x=\"" + num(x) + "\" y=\"" + num(std::min(y, zero)) + "\" width=\"" + num(bw) +
                         "\" height=\"" + num(std::fabs(zero - y)) + "\" fill=\"" + col + "\" fill-opacity=\"0.85\"/>\n";
                }
                bar_index++;
            } else if (s.mark == Mark::Points) {
                for (const auto& [x, y] : pts)
                    o += "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"2.5\" fill=\"" + col + "\"/>\n";
            } else {
                if (pts.size() > 1) {
                    std::string d = "M" + num(pts[0].first) + " " + num(pts[0].second);
                    for (size_t i = 1; i < pts.size(); i++) {
                        if (s.mark == Mark::Step) d += " H" + num(pts[i].first) + " V" + num(pts[i].second);
                        else d += " L" + num(pts[i].first) + " " + num(pts[i].second);
                    }
                    o += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + col + "\" stroke-width=\"" +
                         (s.muted ? "1" : "2") + "\"" + dash + "/>\n";
                }
                if (pts.size() <= 40 && !s.muted)
                    for (const auto& [x, y] : pts)
                        o += "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"3\" fill=\"" + col + "\"/>\n";
            }
            o += "</g>\n";
        }
    o += "</g>\n";

    // Legend: the named series, right of the plot area.
    if (legend_w > 0) {
        const double lw = legend_w;
        const double lh = 8 + 16 * double(named.size());
        const double lx = left + pw + 8, ly = top;
        o += "<g class=\"legend\">\n<rect x=\"" + num(lx) + "\" y=\"" + num(ly) + "\" width=\"" + num(lw) +
             "\" height=\"" + num(lh) + "\" fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n";
        for (size_t k = 0; k < named.size(); k++) {
            const Series& s = c.series[named[k]];
            const double y = ly + 14 + 16 * double(k);
            if (s.mark == Mark::Bars)
                o += "<rect x=\"" + num(lx + 6) + "\" y=\"" + num(y - 9) + "\" width=\"14\" height=\"10\" fill=\"" +
                     colours[named[k]] + "\"/>\n";
            else
                o += "<line x1=\"" + num(lx + 6) + "\" x2=\"" + num(lx + 20) + "\" y1=\"" + num(y - 4) + "\" y2=\"" +
                     num(y - 4) + "\" stroke=\"" + colours[named[k]] + "\" stroke-width=\"2\"" +
                     (s.dashed ? " stroke-dasharray=\"4 3\"" : "") + "/>\n";
            text(o, lx + 26, y, shorten(s.name, lw - 30), "start", " fill=\"#222\"");
        }
        o += "</g>\n";
    }
    o += "</svg>\n";
    return o;
}

}  // namespace pg_learn::core::plot
