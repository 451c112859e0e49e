// SVG charts (core/plot): nice ticks and their labels computed by hand, calendar ticks, the SVG
// document well formed (every element closed, text escaped, no NaN coordinates), and the charts
// of metric states, statistics, profiles and series on small inputs whose curves are known
// (sklearn's roc_curve / precision_recall_curve on the same four rows).
#include "core/plot/chart.hpp"
#include "core/plot/charts.hpp"

#include "core/metrics/metrics.hpp"
#include "core/stats/feature_stats.hpp"
#include "core/stats/profile.hpp"
#include "test_util.hpp"

#include <cmath>
#include <regex>
#include <string>
#include <vector>

namespace pg_learn::test {
namespace {

using namespace core::plot;

// Every tag closed in order, attributes quoted, no NaN or infinity written as a number.
void expect_well_formed(const std::string& svg) {
    std::vector<std::string> open;
    size_t i = 0;
    while ((i = svg.find('<', i)) != std::string::npos) {
        const size_t end = svg.find('>', i);
        ASSERT_NE(end, std::string::npos);
        std::string tag = svg.substr(i + 1, end - i - 1);
        i = end + 1;
        if (tag.empty()) FAIL() << "empty tag";
        if (tag[0] == '/') {
            ASSERT_FALSE(open.empty()) << "closing " << tag << " with nothing open";
            EXPECT_EQ(open.back(), tag.substr(1));
            open.pop_back();
        } else if (tag.back() != '/') {
            open.push_back(tag.substr(0, tag.find(' ')));
        }
        // Inside a tag: quotes balanced.
        EXPECT_EQ(std::count(tag.begin(), tag.end(), '"') % 2, 0) << tag;
    }
    EXPECT_TRUE(open.empty());
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
    EXPECT_EQ(svg.find("nan"), std::string::npos);
    EXPECT_EQ(svg.find("inf\""), std::string::npos);
}

TEST(Plot, NiceTicksByHand) {
    EXPECT_EQ(nice_ticks(0, 1, 5), (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
    // -7 .. 93 in about 5 steps: raw step 20 -> 20 (2 x 10), from -20 to 100.
    EXPECT_EQ(nice_ticks(-7, 93, 5), (std::vector<double>{-20, 0, 20, 40, 60, 80, 100}));
    // One value: a range of 10% around it.
    const auto one = nice_ticks(50, 50, 4);
    EXPECT_LE(one.front(), 45);
    EXPECT_GE(one.back(), 55);
    EXPECT_EQ(tick_label(0.25, 0.05), "0.25");
    EXPECT_EQ(tick_label(0.2, 0.2), "0.2");
    EXPECT_EQ(tick_label(40, 20), "40");
    EXPECT_EQ(tick_label(-1e-17, 0.1), "0.0");
    EXPECT_EQ(tick_label(2.5e7, 5e6), "2.5e+07");
    EXPECT_EQ(xml_escape("a<b & \"c\" > 'd'"), "a&lt;b &amp; &quot;c&quot; &gt; &apos;d&apos;");
}

TEST(Plot, CalendarTicks) {
    // 2026-03-01 00:00 UTC is 1772323200 s; nine days: every two days (five ticks), as dates.
    const double day = 86400, t0 = 1772323200;
    TimeTicks t = time_ticks(t0, t0 + 9 * day);
    ASSERT_GE(t.at.size(), 3u);
    ASSERT_LE(t.at.size(), 8u);
    EXPECT_EQ(t.labels[0].size(), 10u);
    EXPECT_TRUE(t.labels[0] == "2026-03-01" || t.labels[0] == "2026-03-02") << t.labels[0];
    for (size_t i = 1; i < t.at.size(); i++) EXPECT_DOUBLE_EQ(t.at[i] - t.at[i - 1], 2 * day);
    // Six hours: hourly, as times.
    t = time_ticks(t0, t0 + 6 * 3600);
    EXPECT_EQ(t.labels, (std::vector<std::string>{"00:00", "01:00", "02:00", "03:00", "04:00", "05:00", "06:00"}));
    // Two years: by quarters or years, labelled by month or year, on the first of a month.
    t = time_ticks(t0, t0 + 730 * day);
    ASSERT_GE(t.at.size(), 2u);
    for (size_t i = 0; i < t.at.size(); i++) EXPECT_EQ(std::fmod(t.at[i], day), 0) << t.labels[i];
    EXPECT_EQ(t.labels[0].substr(0, 4), "2026");
}

TEST(Plot, DocumentsAreWellFormed) {
    Chart c;
    c.title = "Scores <by> \"day\" & more";
    c.x_label = "x";
    c.y_label = "y";
    c.series.push_back({"a & b", {0, 1, 2, 3}, {1, 3, 2, NAN}, Mark::Line, false, false});
    c.series.push_back({"step", {0, 1, 2}, {0, 1, 0}, Mark::Step, false, false});
    const std::string svg = render_svg(c);
    expect_well_formed(svg);
    EXPECT_NE(svg.find("<title>Scores &lt;by&gt; &quot;day&quot; &amp; more</title>"), std::string::npos);
    EXPECT_NE(svg.find("1 point is not finite (not drawn)"), std::string::npos);
    EXPECT_NE(svg.find(">a &amp; b</text>"), std::string::npos);  // the legend
    EXPECT_NE(svg.find(" H"), std::string::npos);                 // the staircase
    EXPECT_NE(svg.find("width=\"600\" height=\"400\""), std::string::npos);
    // Empty: the frame and the message, no mark.
    Chart e;
    e.title = "Nothing";
    e.empty_message = "no data: nothing yet";
    const std::string es = render_svg(e);
    expect_well_formed(es);
    EXPECT_NE(es.find(">no data: nothing yet</text>"), std::string::npos);
    EXPECT_EQ(es.find("<path"), std::string::npos);
    // One point: a dot, inside the plot.
    Chart p;
    p.series.push_back({"", {5}, {7}, Mark::Line, false, false});
    const std::string ps = render_svg(p);
    expect_well_formed(ps);
    EXPECT_NE(ps.find("<circle"), std::string::npos);
    // Bars with categories; long labels shortened.
    Chart b;
    b.categories = {"north", "south", std::string(200, 'x')};
    b.series.push_back({"n", {0, 1, 2}, {3, 0, 5}, Mark::Bars, false, false});
    const std::string bs = render_svg(b);
    expect_well_formed(bs);
    EXPECT_EQ(std::count(bs.begin(), bs.end(), '\n') > 10, true);
    EXPECT_EQ(bs.find(std::string(100, 'x')), std::string::npos);
}

core::MetricState ranking(const std::vector<std::pair<double, bool>>& rows) {
    auto s = core::MetricState::make_ranking();
    for (auto [score, y] : rows) s.as<core::RankingCounts>().add(score, y);
    return s;
}

TEST(Plot, CurvesOfMetricStates) {
    // sklearn: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.75.
    const auto s = ranking({{0.1, false}, {0.4, false}, {0.35, true}, {0.8, true}});
    Chart roc = roc_chart(&s);
    EXPECT_EQ(roc.note, "AUC 0.750, 4 rows, 2 positive");
    ASSERT_EQ(roc.series.size(), 2u);
    // roc_curve(drop_intermediate=True): fpr [0, 0, 0.5, 0.5, 1], tpr [0, 0.5, 0.5, 1, 1].
    EXPECT_EQ(roc.series[1].x, (std::vector<double>{0, 0, 0.5, 0.5, 1}));
    EXPECT_EQ(roc.series[1].y, (std::vector<double>{0, 0.5, 0.5, 1, 1}));
    expect_well_formed(render_svg(roc));
    Chart pr = pr_chart(&s);
    EXPECT_EQ(pr.note, "4 rows, 2 positive (positive rate 0.500)");
    expect_well_formed(render_svg(pr));
    Chart cal = calibration_chart(&s, 2);
    // Bins [0, 0.5): 0.1, 0.4, 0.35 (1 positive of 3); [0.5, 1]: 0.8 (positive).
    EXPECT_EQ(cal.series[1].y, (std::vector<double>{1.0 / 3, 1}));
    EXPECT_NEAR(cal.series[1].x[0], (0.1 + 0.4 + 0.35) / 3, 1e-15);
    expect_well_formed(render_svg(cal));
    // One class: a chart that says so; no rows: no data.
    const auto one_class = ranking({{0.3, true}, {0.5, true}});
    Chart one = roc_chart(&one_class);
    EXPECT_TRUE(one.series.empty());
    EXPECT_EQ(one.empty_message, "no curve: all 2 rows are positive (both classes are needed)");
    EXPECT_NE(render_svg(one).find("both classes are needed"), std::string::npos);
    const auto none = ranking({});
    EXPECT_EQ(roc_chart(&none).empty_message, "no data: the state holds no rows");
    EXPECT_EQ(pr_chart(nullptr).empty_message, "no data: no state (NULL: the aggregate saw no row)");
    expect_well_formed(render_svg(calibration_chart(nullptr, {})));
    // The wrong kind of state.
    const auto regression = core::MetricState::make_regression();
    const auto logloss = core::MetricState::make_logloss();
    expect_error(core::ErrorKind::InvalidParameter, [&] { roc_chart(&regression); });
    expect_error(core::ErrorKind::InvalidParameter, [&] { calibration_chart(&logloss, {}); });
}

TEST(Plot, HistogramsProfilesAndSeries) {
    core::FeatureStats n(core::StatsKind::Numeric);
    for (int i = 0; i < 100; i++) n.add(double(i % 10));
    n.add(NAN);
    n.add(INFINITY);
    n.add_null();
    Chart h = histogram_chart(&n, 5);
    ASSERT_EQ(h.series.size(), 1u);
    EXPECT_EQ(h.series[0].y, (std::vector<double>{20, 20, 20, 20, 20}));
    EXPECT_EQ(h.note, "102 values; not drawn: 1 NaN, 1 infinite, 1 NULL");
    expect_well_formed(render_svg(h));
    core::FeatureStats empty(core::StatsKind::Numeric);
    EXPECT_NE(render_svg(histogram_chart(&empty, 5)).find("no data: the statistics hold no value"), std::string::npos);
    core::FeatureStats cat(core::StatsKind::Categorical);
    for (int i = 0; i < 30; i++) cat.add(i % 3 == 0 ? "north" : "south");
    Chart hc = histogram_chart(&cat, 5);
    EXPECT_EQ(hc.categories, (std::vector<std::string>{"south", "north"}));
    EXPECT_EQ(hc.series[0].y, (std::vector<double>{20, 10}));

    core::Profile base, cur;
    for (int i = 0; i < 400; i++) {
        base.start_row();
        base.add_number("amount", i % 100);
        base.add_string("channel", i % 4 ? "web" : "store");
        cur.start_row();
        cur.add_number("amount", 50 + i % 100);
        cur.add_string("channel", i % 2 ? "web" : "app");
    }
    Chart dn = drift_chart(&base, &cur, "amount");
    ASSERT_EQ(dn.series.size(), 2u);
    // The baseline's quantile bins hold about a tenth each; the shifted current fills the top.
    double bsum = 0, csum = 0;
    for (double v : dn.series[0].y) bsum += v;
    for (double v : dn.series[1].y) csum += v;
    EXPECT_NEAR(bsum, 1, 1e-9);
    EXPECT_NEAR(csum, 1, 1e-9);
    EXPECT_GT(dn.series[1].y.back(), 0.4);
    expect_well_formed(render_svg(dn));
    Chart dc = drift_chart(&base, &cur, "channel");
    EXPECT_EQ(dc.categories, (std::vector<std::string>{"app", "store", "web", "(other)"}));
    EXPECT_NEAR(dc.series[0].y[1], 0.25, 1e-12);
    EXPECT_NEAR(dc.series[1].y[0], 0.5, 1e-12);
    EXPECT_NE(render_svg(drift_chart(&base, &cur, "nope")).find("is not in the baseline"), std::string::npos);
    EXPECT_EQ(drift_chart(&base, nullptr, "amount").empty_message, "no data: no current profile");
    // The same from the statistics of one column on each side; two kinds are refused.
    Chart ds = drift_chart(base.find("amount")->values(core::StatsKind::Numeric),
                           cur.find("amount")->values(core::StatsKind::Numeric), "Drift");
    EXPECT_EQ(ds.series[0].y, dn.series[0].y);
    EXPECT_EQ(ds.series[1].y, dn.series[1].y);
    EXPECT_EQ(ds.categories, dn.categories);
    expect_error(core::ErrorKind::InvalidParameter, [&] {
        drift_chart(base.find("amount")->values(core::StatsKind::Numeric),
                    cur.find("channel")->values(core::StatsKind::Categorical), "Drift");
    });
    EXPECT_TRUE(histogram_chart(nullptr, 5).series.empty());

    std::vector<TimePoint> pts;
    for (int d = 0; d < 9; d++) {
        pts.push_back({1772323200.0 + d * 86400, 0.8 + d * 0.01, "auc"});
        pts.push_back({1772323200.0 + d * 86400, 0.7, "accuracy"});
    }
    Chart s = series_chart(pts, "Quality", "value");
    ASSERT_EQ(s.series.size(), 2u);
    EXPECT_EQ(s.series[0].name, "accuracy");  // by name
    const std::string svg = render_svg(s);
    expect_well_formed(svg);
    EXPECT_NE(svg.find(">2026-03-0"), std::string::npos);
    std::vector<TimePoint> many;
    for (int k = 0; k < 11; k++) many.push_back({0, 1, "s" + std::to_string(k)});
    expect_error(core::ErrorKind::InvalidParameter, [&] { series_chart(many, "", ""); });
}

}  // namespace
}  // namespace pg_learn::test
