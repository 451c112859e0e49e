// Feature pipelines: the target aggregates' statistics recomputed by hand (NumPy's np.var(ddof=1)
// and river's EWMean/EWVar/BayesianMean on the same numbers), progressive honesty (a row's
// aggregate holds only earlier labels), river's StandardScaler order, date parts and ISO-8601
// text, the stateless steps, the binary and JSON round trips, and bad specs and rows.
#include "core/models/pipeline/pipeline.hpp"

#include "core/models/model.hpp"
#include "test_util.hpp"

#include <cmath>
#include <map>

namespace pg_learn::test {
namespace {

using core::Label;
using core::Model;
using core::Observation;
using nlohmann::json;

std::unique_ptr<Model> make(const std::string& spec) { return core::model_from_text(spec.data(), spec.size()); }

// The features the final model would see, by name.
std::map<std::string, double> seen(const Model& m, const Observation& x) {
    std::map<std::string, double> out;
    for (const auto& [k, v] : core::pipeline::transformed(m, x)) out[k] = v;
    return out;
}

Observation row(const char* station, double t) {
    Observation o;
    o.add_category("station", station);
    o.add_numeric("t", t);
    return o;
}

double agg_after(const std::string& how, const std::vector<double>& ys, const std::string& extra = "") {
    auto m = make(R"({"pipeline": [{"target_agg": {"by": "station", "how": )" + how + extra +
                  R"(, "name": "agg"}}, {"linear_regression": {}}]})");
    for (double y : ys) m->learn(row("a", 1), Label::of_number(y));
    return seen(*m, row("a", 1)).at("agg");
}

TEST(Pipeline, TargetAggregatesByHand) {
    // y = 2, 4, 9 in one group.
    EXPECT_DOUBLE_EQ(agg_after("\"count\"", {2, 4, 9}), 3);
    EXPECT_DOUBLE_EQ(agg_after("\"mean\"", {2, 4, 9}), 5);
    EXPECT_DOUBLE_EQ(agg_after("\"var\"", {2, 4, 9}), 13);  // np.var([2, 4, 9], ddof=1)
    EXPECT_DOUBLE_EQ(agg_after("\"var\"", {2}), 0);         // river: 0 until n > ddof
    // EWMean(0.5): 2, then 0.5*4 + 0.5*2 = 3, then 0.5*9 + 0.5*3 = 6.
    EXPECT_DOUBLE_EQ(agg_after("{\"ewmean\": 0.5}", {2, 4, 9}), 6);
    // EWVar(0.5): mean 6, mean of squares 4 -> 10 -> 45.5: 45.5 - 36 = 9.5.
    EXPECT_DOUBLE_EQ(agg_after("{\"ewvar\": 0.5}", {2, 4, 9}), 9.5);
    EXPECT_DOUBLE_EQ(agg_after("\"min\"", {4, 2, 9}), 2);
    EXPECT_DOUBLE_EQ(agg_after("\"max\"", {4, 2, 9}), 9);
    // BayesianMean(prior 3, weight 2): (3 * 2 + 15) / (2 + 3) = 4.2.
    EXPECT_DOUBLE_EQ(agg_after("\"mean\"", {2, 4, 9}, ", \"prior\": 3, \"prior_weight\": 2"), 4.2);
    // A group not seen yet: the prior (0 by default); its count is 0.
    EXPECT_DOUBLE_EQ(agg_after("\"mean\"", {}), 0);
    EXPECT_DOUBLE_EQ(agg_after("\"max\"", {}, ", \"prior\": -7"), -7);
    EXPECT_DOUBLE_EQ(agg_after("\"count\"", {}, ", \"prior\": 5"), 0);
}

TEST(Pipeline, ProgressiveHonesty) {
    // Each row's aggregate, as the final model learns it, is the mean of the earlier labels of
    // its group: transformed() before learn() shows exactly what learn() feeds the model.
    auto m = make(R"({"pipeline": [{"target_agg": {"by": "station"}}, {"linear_regression": {}}]})");
    const std::vector<std::pair<const char*, double>> rows = {{"a", 10}, {"a", 20}, {"b", 5}, {"a", 0}, {"b", 7}};
    const std::vector<double> expect = {0, 10, 0, 15, 5};
    for (size_t i = 0; i < rows.size(); i++) {
        EXPECT_DOUBLE_EQ(seen(*m, row(rows[i].first, 1)).at("target_mean_by_station"), expect[i]) << "row " << i;
        m->learn(row(rows[i].first, 1), Label::of_number(rows[i].second));
    }
    EXPECT_DOUBLE_EQ(seen(*m, row("a", 1)).at("target_mean_by_station"), 10);
    EXPECT_DOUBLE_EQ(seen(*m, row("b", 1)).at("target_mean_by_station"), 6);
    // Two by columns, one a number: groups (a, 1) and (a, 2) are apart.
    auto m2 = make(R"({"pipeline": [{"target_agg": {"by": ["station", "t"], "how": "count"}}, {"linear_regression": {}}]})");
    m2->learn(row("a", 1), Label::of_number(1));
    m2->learn(row("a", 1), Label::of_number(1));
    m2->learn(row("a", 2), Label::of_number(1));
    EXPECT_DOUBLE_EQ(seen(*m2, row("a", 1)).at("target_count_by_station_and_t"), 2);
    EXPECT_DOUBLE_EQ(seen(*m2, row("a", 2)).at("target_count_by_station_and_t"), 1);
}

TEST(Pipeline, ScalerFollowsRiver) {
    // river's StandardScaler in a pipeline: learn x, then scale it (population variance).
    auto m = make(R"({"pipeline": [{"select": ["t"]}, "standard_scaler", {"linear_regression": {}}]})");
    EXPECT_DOUBLE_EQ(seen(*m, row("a", 5)).at("t"), 0);  // nothing learned: 0
    m->learn(row("a", 1), Label::of_number(0));
    m->learn(row("a", 3), Label::of_number(0));
    // mean 2, variance ((1-2)^2 + (3-2)^2) / 2 = 1: 4 -> 2.
    const auto f = seen(*m, row("a", 4));
    EXPECT_DOUBLE_EQ(f.at("t"), 2);
    EXPECT_EQ(f.count("station=a"), 0u);  // not selected
    EXPECT_EQ(f.size(), 1u);
}

TEST(Pipeline, DateParts) {
    // 2024-01-02 09:00:00 UTC: a Tuesday (Monday is 0), January, day 2.
    auto p = core::pipeline::date_parts(1704186000);
    EXPECT_EQ(p.hour, 9);
    EXPECT_EQ(p.weekday, 1);
    EXPECT_EQ(p.month, 1);
    EXPECT_EQ(p.yearday, 2);
    // 1969-12-31 23:00: before 1970 (a Wednesday), day 365.
    p = core::pipeline::date_parts(-3600);
    EXPECT_EQ(p.hour, 23);
    EXPECT_EQ(p.weekday, 2);
    EXPECT_EQ(p.month, 12);
    EXPECT_EQ(p.yearday, 365);
    double s = 0;
    ASSERT_TRUE(core::pipeline::parse_iso8601("2024-12-31T23:59:59Z", s));
    EXPECT_DOUBLE_EQ(s, 1735689599);
    p = core::pipeline::date_parts(s);
    EXPECT_EQ(p.yearday, 366);  // a leap year
    EXPECT_EQ(p.weekday, 1);
    ASSERT_TRUE(core::pipeline::parse_iso8601("2024-01-02 11:00:00+02:00", s));
    EXPECT_DOUBLE_EQ(s, 1704186000);
    ASSERT_TRUE(core::pipeline::parse_iso8601("2024-01-02T09:00", s));
    EXPECT_DOUBLE_EQ(s, 1704186000);
    ASSERT_TRUE(core::pipeline::parse_iso8601("2024-01-02", s));
    EXPECT_DOUBLE_EQ(s, 1704153600);
    ASSERT_TRUE(core::pipeline::parse_iso8601("2024-01-02T09:00:00.25-0130", s));
    EXPECT_DOUBLE_EQ(s, 1704186000.25 + 5400);
    for (const char* bad : {"yesterday", "2024-02-30", "2023-02-29", "2024-01-02T25:00", "2024-1-2", "2024-01-02T09:00Q", ""})
        EXPECT_FALSE(core::pipeline::parse_iso8601(bad, s)) << bad;

    // The step: raw and cyclic parts; the timestamp itself does not reach the model.
    auto m = make(R"({"pipeline": [{"date_parts": {"column": "ts", "parts": ["hour", "month"], "encoding": "both"}}, {"linear_regression": {}}]})");
    EXPECT_TRUE(m->reads_timestamps());
    EXPECT_FALSE(make(R"({"pipeline": ["standard_scaler", {"linear_regression": {}}]})")->reads_timestamps());
    Observation o;
    o.add_numeric("ts", 1704067200 + 6 * 3600);  // 06:00, January
    const auto f = seen(*m, o);
    EXPECT_EQ(f.count("ts"), 0u);
    EXPECT_DOUBLE_EQ(f.at("ts_hour"), 6);
    EXPECT_NEAR(f.at("ts_hour_sin"), 1, 1e-15);
    EXPECT_NEAR(f.at("ts_hour_cos"), 0, 1e-15);
    EXPECT_DOUBLE_EQ(f.at("ts_month"), 1);
    EXPECT_DOUBLE_EQ(f.at("ts_month_sin"), 0);
    EXPECT_DOUBLE_EQ(f.at("ts_month_cos"), 1);
    Observation text;
    text.add_category("ts", "2024-01-01T06:00:00Z");
    EXPECT_EQ(seen(*m, text), f);
    Observation bad;
    bad.add_category("ts", "soon");
    expect_error(ErrorKind::InvalidParameter, [&] { m->predict(bad); });
    // A NULL timestamp: NULL parts, which a target aggregate groups as NULL.
    auto agg = make(R"({"pipeline": [{"date_parts": {"column": "ts", "parts": ["hour"]}}, {"target_agg": {"by": "ts_hour", "how": "count"}}, {"linear_regression": {}}]})");
    Observation null_ts;
    null_ts.add_missing("ts");
    agg->learn(null_ts, Label::of_number(1));
    agg->learn(null_ts, Label::of_number(1));
    const auto nf = seen(*agg, null_ts);
    EXPECT_DOUBLE_EQ(nf.at("target_count_by_ts_hour"), 2);
    EXPECT_TRUE(std::isnan(nf.at("ts_hour")));  // missing
    Observation far;
    far.add_numeric("ts", 1e300);
    expect_error(ErrorKind::NumericRange, [&] { m->predict(far); });
}

TEST(Pipeline, StatelessSteps) {
    auto m = make(R"({"pipeline": [{"log": {"columns": ["a"]}}, {"clip": {"columns": ["b"], "max": 5}},
                                    {"binning": {"column": "t", "edges": [10, 20]}}, {"interactions": [["station", "b"], ["station", "t_bin"]]},
                                    {"linear_regression": {}}]})");
    auto obs = [](double a, double b, double t) {
        Observation o;
        o.add_numeric("a", a);
        o.add_numeric("b", b);
        o.add_numeric("t", t);
        o.add_category("station", "x");
        return o;
    };
    auto f = seen(*m, obs(std::exp(1.0) - 1, 7, 15));
    EXPECT_DOUBLE_EQ(f.at("a"), 1);            // log(a + 1)
    EXPECT_DOUBLE_EQ(f.at("b"), 5);            // clipped
    EXPECT_DOUBLE_EQ(f.at("t_bin=1"), 1);      // 10 <= 15 < 20
    EXPECT_EQ(f.count("t"), 0u);               // replaced by its bin
    EXPECT_DOUBLE_EQ(f.at("station=x*b"), 5);  // VW -q: the category's 1 times b
    EXPECT_DOUBLE_EQ(f.at("station*t_bin=x*1"), 1);  // two categories: a category of the pair
    EXPECT_EQ(seen(*m, obs(0, 0, 20)).count("t_bin=2"), 1u);
    EXPECT_EQ(seen(*m, obs(0, 0, 9.5)).count("t_bin=0"), 1u);
    expect_error(ErrorKind::NumericRange, [&] { m->predict(obs(-3, 0, 0)); });
}

TEST(Pipeline, RoundTripsAndTask) {
    const std::string spec = R"({"pipeline": [{"date_parts": "ts"}, {"target_agg": {"by": ["station", "ts_hour"]}},
        {"target_agg": {"by": "station", "how": {"ewmean": 0.5}}}, "standard_scaler", {"linear_regression": {"intercept_lr": 0.5}}]})";
    auto m = make(spec);
    EXPECT_STREQ(m->kind(), "pipeline");
    EXPECT_EQ(m->task(), core::Task::Regression);
    double abs_error = 0;
    for (int i = 0; i < 2000; i++) {
        Observation o;
        o.add_category("station", i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "c");
        o.add_numeric("ts", 1704067200 + i * 3600.0);
        o.add_numeric("temp", (i * 37) % 11);
        const double y = 10.0 * (i % 3) + (i % 24 > 7 ? 5 : 0) + 0.1 * ((i * 37) % 11);
        if (i >= 1500) abs_error += std::fabs(m->predict(o) - y);  // progressive: predict, then learn
        m->learn(o, Label::of_number(y));
    }
    // The aggregates carry the station and hour effects: the progressive error of the last 500
    // rows is small against the label's spread (0 to 26).
    EXPECT_LT(abs_error / 500, 1.0);
    EXPECT_EQ(m->n_seen(), 2000u);
    const auto b = bytes_of(*m);
    auto back = core::decode_model(b.data(), b.size());
    EXPECT_EQ(bytes_of(*back), b);
    const std::string text = m->to_text();
    auto back2 = make(text);
    EXPECT_EQ(bytes_of(*back2), b);
    EXPECT_EQ(back2->to_text(), text);
    // The stored spec gives the same model back (the same identity).
    const std::string stored = m->info()["spec"].dump();
    EXPECT_EQ(make(stored)->identity(), m->identity());
    EXPECT_EQ(make(stored)->info()["spec"], m->info()["spec"]);
    Observation o;
    o.add_category("station", "a");
    o.add_numeric("ts", 1704067200 + 1977 * 3600.0);  // row 1977's time: 09:00
    o.add_numeric("temp", 3);
    EXPECT_EQ(back->predict(o), m->predict(o));
    // A corrupted byte is refused.
    auto c = b;
    c[c.size() - 20] ^= 0xff;
    expect_error(ErrorKind::InvalidBinary, [&] { core::decode_model(c.data(), c.size()); });
    // A binary classifier at the end: the pipeline's task and classes are its model's.
    auto clf = make(R"({"pipeline": [{"target_agg": {"by": "station"}}, {"logistic_regression": {}}]})");
    EXPECT_EQ(clf->task(), core::Task::Binary);
    clf->learn(row("a", 1), Label::of_boolean(true));
    clf->learn(row("b", 1), Label::of_text("false"));
    EXPECT_DOUBLE_EQ(seen(*clf, row("a", 1)).at("target_mean_by_station"), 1);
    EXPECT_DOUBLE_EQ(seen(*clf, row("b", 1)).at("target_mean_by_station"), 0);
    EXPECT_EQ(clf->classes().size(), 2u);
    // Partial pipelines do not merge.
    EXPECT_FALSE(m->can_merge());
    expect_error(ErrorKind::InvalidParameter, [&] { m->merge(*back); });
}

// Fuzz finding (test/fuzz/corpus/fuzz_model_text/regress-pipeline-clip-every-column): a "clip"
// step without "columns" (every numeric feature) was stored with "columns": [], which its decoder
// refuses, so the model could not be read back. Every form now reads back to the same bytes.
TEST(Pipeline, ClipOfEveryColumnReadsBack) {
    auto m = make(R"({"pipeline":[{"target_agg":{"by":"b","how":"mean"}},"standard_scaler",{"clip":{"min":-5,"max":5}},{"linear_regression":{}}]})");
    const auto fresh = bytes_of(*m);
    EXPECT_EQ(bytes_of(*core::decode_model(fresh.data(), fresh.size())), fresh);
    EXPECT_FALSE(m->info()["spec"]["steps"][2]["clip"].contains("columns"));
    for (int i = 0; i < 20; i++) {
        Observation o;
        o.add_numeric("a", i * 3.0 - 30);
        o.add_numeric("b", i % 2);
        m->learn(o, Label::of_number(i));
    }
    const auto b = bytes_of(*m);
    EXPECT_EQ(bytes_of(*core::decode_model(b.data(), b.size())), b);
    const std::string text = m->to_text();
    EXPECT_EQ(bytes_of(*make(text)), b);
    // A clip of named columns keeps them.
    auto named = make(R"({"pipeline":[{"clip":{"columns":["a"],"max":1}},{"linear_regression":{}}]})");
    EXPECT_EQ(named->info()["spec"]["steps"][0]["clip"]["columns"], nlohmann::json::array({"a"}));
    const auto nb = bytes_of(*named);
    EXPECT_EQ(bytes_of(*core::decode_model(nb.data(), nb.size())), nb);
}

// The feature checks compare a row with the columns the pipeline learned from, not with the
// features its steps make: an interaction of a category with a number is one numeric feature per
// category ("station=a*t"), which rows of the other categories used to count as missing.
TEST(Pipeline, FeatureChecksOfInputColumns) {
    auto m = make(R"({"pipeline": [{"interactions": [["station", "t"]]}, {"date_parts": "ts"}, {"linear_regression": {}}]})");
    auto obs = [](const char* station, bool with_t, const char* ts) {
        Observation o;
        o.add_category("station", station);
        if (with_t) o.add_numeric("t", 2);
        o.add_category("ts", ts);  // ISO-8601 text, read by date_parts
        return o;
    };
    core::FeatureCheck c;
    m->check_features(obs("a", true, "2024-03-01T08:00:00Z"), c, true);
    EXPECT_FALSE(c.checked);  // nothing learned yet
    const char* stations[] = {"a", "b", "c"};
    for (int i = 0; i < 30; i++) {
        char ts[32];
        std::snprintf(ts, sizeof ts, "2024-03-01T%02d:00:00Z", i % 24);
        m->learn(obs(stations[i % 3], true, ts), Label::of_number(i % 3));
    }
    EXPECT_TRUE(seen(*m, obs("b", true, "2024-03-02T10:00:00Z")).count("station=b*t"));
    // A row of one station gives every column: nothing missing, unknown or mismatched, although
    // the model learned "station=a*t", "station=c*t", ... that this row does not make; a new
    // instant is not an unknown category.
    m->check_features(obs("b", true, "2025-01-01T00:00:00Z"), c, true);
    EXPECT_TRUE(c.checked);
    EXPECT_FALSE(c.any());
    // A column left out is missing, by its name; a new station is an unknown category.
    m->check_features(obs("a", false, "2024-03-01T08:00:00Z"), c, true);
    EXPECT_EQ(c.missing_features, 1u);
    EXPECT_EQ(c.missing_feature, "t");
    m->check_features(obs("z", true, "2024-03-01T08:00:00Z"), c, true);
    EXPECT_EQ(c.unknown_categories, 1u);
    EXPECT_EQ(c.category_key, "station");
    EXPECT_EQ(c.category_value, "z");
    EXPECT_EQ(c.missing_features, 0u);
    Observation extra = obs("a", true, "2024-03-01T08:00:00Z");
    extra.add_numeric("humidity", 3);
    m->check_features(extra, c, true);
    EXPECT_EQ(c.unknown_features, 1u);
    EXPECT_EQ(c.unknown_feature, "humidity");
    EXPECT_EQ(m->closest_feature("T"), "t");
    // The input columns are stored: both forms read back to the same bytes and the same checks.
    const auto b = bytes_of(*m);
    auto back = core::decode_model(b.data(), b.size());
    EXPECT_EQ(bytes_of(*back), b);
    auto back2 = make(m->to_text());
    EXPECT_EQ(bytes_of(*back2), b);
    EXPECT_EQ(bytes_of(*m->clone()), b);  // a copy keeps them (ml_fit's aggregate copies)
    auto assigned = make(R"({"pipeline": [{"interactions": [["station", "t"]]}, {"date_parts": "ts"}, {"linear_regression": {}}]})");
    assigned->assign(*m);
    EXPECT_EQ(bytes_of(*assigned), b);
    EXPECT_TRUE(nlohmann::json::parse(m->to_text()).contains("inputs"));
    back2->check_features(obs("a", false, "2024-03-01T08:00:00Z"), c, true);
    EXPECT_EQ(c.missing_feature, "t");
    // A refused row adds no input column.
    const auto before = bytes_of(*m);
    Observation bad = obs("a", true, "not a time");
    bad.add_numeric("new_column", 1);
    expect_error(ErrorKind::InvalidParameter, [&] { m->learn(bad, Label::of_number(1)); });
    EXPECT_EQ(bytes_of(*m), before);
    // "inputs" given but empty is refused.
    json j = json::parse(m->to_text());
    j["inputs"] = json{{"names", json::array()}, {"types", json::array()}};
    const std::string t = j.dump();
    expect_error(ErrorKind::InvalidParameter, [&] { make(t); });
}

TEST(Pipeline, BadSpecsAndRows) {
    auto bad = [](const std::string& spec, ErrorKind kind, const char* needle) {
        const std::string msg = expect_error(kind, [&] { make(spec); });
        EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    };
    bad(R"({"pipeline": [{"linear_regression": {}}, "standard_scaler"]})", ErrorKind::InvalidParameter, "after the model");
    bad(R"({"pipeline": [{"bogus": {}}, {"linear_regression": {}}]})", ErrorKind::InvalidParameter, "unknown step");
    bad(R"({"pipeline": ["standard_scaler"]})", ErrorKind::InvalidParameter, "after the model");
    bad(R"({"pipeline": []})", ErrorKind::InvalidParameter, "needs its steps");
    bad(R"({"pipeline": [{"target_agg": {"by": "s"}}, {"softmax_regression": {}}]})", ErrorKind::InvalidParameter, "numeric label");
    bad(R"({"pipeline": [{"target_agg": {"how": "mean"}}, {"linear_regression": {}}]})", ErrorKind::InvalidParameter, "needs \"by\"");
    bad(R"({"pipeline": [{"target_agg": {"by": "s", "how": {"ewmean": 2}}}, {"linear_regression": {}}]})", ErrorKind::InvalidParameter, "fading factor");
    bad(R"({"pipeline": [{"pipeline": ["standard_scaler", {"linear_regression": {}}]}, {"linear_regression": {}}]})",
        ErrorKind::InvalidParameter, "cannot hold a pipeline");
    bad(R"({"pipeline": ["standard_scaler", {"pipeline": [{"linear_regression": {}}]}]})", ErrorKind::InvalidParameter, "cannot hold a pipeline");
    bad(R"({"pipeline": [{"binning": {"column": "t", "edges": [2, 1]}}, {"linear_regression": {}}]})", ErrorKind::InvalidParameter, "increasing");
    bad(R"({"model": "pipeline", "steps": ["standard_scaler", {"linear_regression": {}}], "extra": 1})", ErrorKind::InvalidParameter, "unknown option");

    auto m = make(R"({"pipeline": [{"target_agg": {"by": "station", "max_groups": 2}}, {"linear_regression": {}}]})");
    Observation no_station;
    no_station.add_numeric("t", 1);
    std::string msg = expect_error(ErrorKind::InvalidParameter, [&] { m->learn(no_station, Label::of_number(1)); });
    EXPECT_NE(msg.find("missing from the row"), std::string::npos) << msg;
    expect_error(ErrorKind::InvalidParameter, [&] { m->predict(no_station); });
    m->learn(row("a", 1), Label::of_number(1));
    m->learn(row("b", 1), Label::of_number(1));
    msg = expect_error(ErrorKind::ProgramLimit, [&] { m->learn(row("c", 1), Label::of_number(1)); });
    EXPECT_NE(msg.find("too many groups"), std::string::npos) << msg;
    EXPECT_EQ(m->n_seen(), 2u);
    // Scoring a new group past the limit is fine: it takes the prior and adds nothing.
    EXPECT_NO_THROW(m->predict(row("c", 1)));
    // A NULL by value is a group of its own.
    Observation null_station;
    null_station.add_missing("station");
    null_station.add_numeric("t", 1);
    EXPECT_DOUBLE_EQ(seen(*m, null_station).at("target_mean_by_station"), 0);
    const double x[2] = {1, 2};
    expect_error(ErrorKind::InvalidParameter, [&] { m->learn_dense(x, 2, Label::of_number(1)); });
    // A label the final model refuses changes nothing.
    expect_error(ErrorKind::InvalidParameter, [&] { m->learn(row("a", 1), Label::of_text("up")); });
    EXPECT_EQ(m->n_seen(), 2u);
}

}  // namespace
}  // namespace pg_learn::test
