// Anomalies of a current window against a baseline profile: against a NumPy reference on raw rows,
// hand-built edge cases, strict options, and counts estimated from sketches against brute force.
#include "core/drift/anomalies.hpp"
#include "drift_report_util.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

namespace pg_learn::test {
namespace {

using core::Anomaly;
using core::AnomalyOptions;
using core::AnomalySeverity;
using core::AnomalyType;
using core::Profile;
using nlohmann::json;

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<Anomaly> find(const Profile& b, const Profile& c, const char* options = "{}") {
    return core::find_anomalies(b, c, core::parse_anomaly_options(options));
}

// "FEATURE:ANOMALY=count" lines, for compact comparisons.
std::string summary(const std::vector<Anomaly>& as) {
    std::string s;
    for (const Anomaly& a : as)
        s += (a.feature ? *a.feature : std::string("-")) + ":" + core::anomaly_type_name(a.type) + "=" +
             std::to_string(a.count) + "\n";
    return s;
}

TEST(Anomalies, MatchesNumpyReference) {
    for (const json& c : drift_report_reference()["cases"]) {
        SCOPED_TRACE(c["name"].get<std::string>());
        const Profile b = drift_report_profile_of(c["baseline"]), cur = drift_report_profile_of(c["current"]);
        const auto found = core::find_anomalies(b, cur, core::parse_anomaly_options(c["options_anomalies"].get<std::string>()));
        const json& want = c["anomalies"];
        ASSERT_EQ(found.size(), want.size()) << summary(found);
        for (size_t i = 0; i < found.size(); i++) {
            const Anomaly& a = found[i];
            const json& w = want[i];
            if (w["feature"].is_null()) EXPECT_FALSE(a.feature);
            else EXPECT_EQ(*a.feature, w["feature"].get<std::string>());
            EXPECT_EQ(core::anomaly_type_name(a.type), w["anomaly"].get<std::string>());
            EXPECT_EQ(core::anomaly_severity_name(a.severity), w["severity"].get<std::string>());
            EXPECT_EQ(a.count, w["count"].get<uint64_t>()) << core::anomaly_type_name(a.type);
            // Small windows: the sketches are exact, and so is every count.
            if (a.detail.contains("count_exact")) {
                EXPECT_TRUE(a.detail["count_exact"].get<bool>());
                EXPECT_EQ(a.detail["count_lower"].get<uint64_t>(), a.count);
                EXPECT_EQ(a.detail["count_upper"].get<uint64_t>(), a.count);
            }
            EXPECT_FALSE(a.description.empty());
        }
    }
}

TEST(Anomalies, DescriptionsAndDetails) {
    const json* main = nullptr;
    for (const json& c : drift_report_reference()["cases"])
        if (c["name"] == "main") main = &c;
    ASSERT_TRUE(main);
    const auto found = find(drift_report_profile_of((*main)["baseline"]), drift_report_profile_of((*main)["current"]));
    auto get = [&](const char* feature, AnomalyType t) -> const Anomaly& {
        for (const Anomaly& a : found)
            if (a.feature == std::string(feature) && a.type == t) return a;
        throw std::runtime_error("no such anomaly");
    };
    const Anomaly& city = get("city", AnomalyType::EnumTypeUnexpectedStringValues);
    EXPECT_EQ(city.description,
              "feature \"city\": 100 of 200 strings (50%) are not in the baseline's domain of 3 values (\"d\", \"e\")");
    EXPECT_EQ(city.detail["domain_size"], 3);
    EXPECT_EQ(city.detail["unexpected_values"].size(), 2u);
    EXPECT_EQ(city.detail["unexpected_values"][0]["value"], "d");
    EXPECT_EQ(city.detail["unexpected_values"][0]["count"], 50);
    const Anomaly& score = get("score", AnomalyType::FloatTypeBigFloat);
    EXPECT_EQ(score.description,
              "feature \"score\": 4 of 192 values (2.08%) are above the baseline's max 6 (current max 16)");
    EXPECT_EQ(score.detail["baseline_max"].get<double>(), 6.0);
    const Anomaly& inf = get("score", AnomalyType::FloatTypeHasInf);
    EXPECT_EQ(inf.detail["pos_inf_count"], 2);
    EXPECT_EQ(inf.detail["neg_inf_count"], 2);
    EXPECT_EQ(inf.description, "feature \"score\" has 4 infinite values (2% of its numbers); the baseline had none");
    const Anomaly& tip = get("tip", AnomalyType::FeatureTypeLowFractionPresent);
    EXPECT_EQ(tip.description, "feature \"tip\" is present in 20% of the rows, below the required 45% (baseline 50%)");
    EXPECT_EQ(tip.detail["required_presence"].get<double>(), 0.45);
    const Anomaly& code = get("code", AnomalyType::UnexpectedDataType);
    EXPECT_EQ(code.detail["baseline_type"], "categorical");
    EXPECT_EQ(code.detail["current_type"], "numeric");
    EXPECT_EQ(code.detail["unexpected_types"]["numeric"], 200);
    EXPECT_EQ(get("gone", AnomalyType::SchemaMissingColumn).severity, AnomalySeverity::Error);
    EXPECT_EQ(get("new", AnomalyType::SchemaNewColumn).severity, AnomalySeverity::Warning);
}

TEST(Anomalies, EdgeCases) {
    // Empty against empty: the empty window is the only anomaly.
    EXPECT_EQ(summary(find(Profile(), Profile())), "-:NO_DATA_IN_SPAN=0\n");
    EXPECT_EQ(find(Profile(), Profile(), R"({"severity": {"NO_DATA_IN_SPAN": "off"}})").size(), 0u);

    // Partial type mismatch: a numeric feature with strings, booleans and a nested value now.
    Profile b, c;
    for (int i = 0; i < 10; i++) {
        b.start_row();
        b.add_number("x", i);
        b.add_null("only_null");
        b.add_string("s", i % 2 ? "p" : "q");
    }
    for (int i = 0; i < 10; i++) {
        c.start_row();
        if (i < 6) c.add_number("x", i);
        else if (i < 8) c.add_string("x", "seven");
        else if (i < 9) c.add_boolean("x", true);
        else c.add_nested("x");
        c.add_number("only_null", 1.0);  // the baseline never had a value: no expectation, no anomaly
        c.add_number("s", 3.0);          // strings now numbers: a type change, and no string left to check
    }
    const auto mixed = find(b, c);
    EXPECT_EQ(summary(mixed), "s:UNEXPECTED_DATA_TYPE=10\nx:UNEXPECTED_DATA_TYPE=4\n");
    EXPECT_EQ(mixed[1].detail["unexpected_types"].dump(), R"({"boolean":1,"categorical":2,"nested":1})");
    EXPECT_EQ(mixed[1].detail["current_type"], "numeric");

    // All NULL in the current window: not present (not "low presence").
    Profile allnull;
    for (int i = 0; i < 5; i++) {
        allnull.start_row();
        allnull.add_null("x");
        allnull.add_null("s");
    }
    const auto an = find(b, allnull);
    // (only_null, absent here, had no value in the baseline: it sets no expectation.)
    EXPECT_EQ(summary(an), "s:FEATURE_TYPE_NOT_PRESENT=5\nx:FEATURE_TYPE_NOT_PRESENT=5\n");
    EXPECT_EQ(an[0].detail["null_count"], 5);
}


// rows of one numeric feature "x" (NaN and infinities allowed), and presence by NULLs.
Profile numbers(const std::vector<double>& xs, int nulls = 0) {
    Profile p;
    for (double x : xs) {
        p.start_row();
        p.add_number("x", x);
    }
    for (int i = 0; i < nulls; i++) {
        p.start_row();
        p.add_null("x");
    }
    return p;
}

TEST(Anomalies, PresenceNanAndOptions) {
    // Baseline: 8 of 10 rows have x (presence 0.8), one of them NaN; current: 7 of 10, one +inf.
    const Profile b = numbers({1, 2, 3, 4, 5, 6, 7, kNaN}, 2);
    const Profile c = numbers({1, 2, 3, 4, 5, 6, kInf}, 3);
    // Required 0.8 * 0.9 = 0.72 > 0.7. NaN was in the baseline: allowed; +inf was not.
    EXPECT_EQ(summary(find(b, c)), "x:FEATURE_TYPE_LOW_FRACTION_PRESENT=3\nx:FLOAT_TYPE_HAS_INF=1\n");
    EXPECT_EQ(summary(find(b, c, R"({"min_presence_ratio": 0.8, "allow_inf": true})")), "");
    EXPECT_EQ(summary(find(b, c, R"({"min_presence_ratio": 0, "min_presence": 0.75, "allow_inf": true})")),
              "x:FEATURE_TYPE_LOW_FRACTION_PRESENT=3\n");
    // Per feature over the top level; explicit allow_nan false reports even a baseline's NaN.
    EXPECT_EQ(summary(find(b, numbers({kNaN, 1}), R"({"allow_nan": false, "features": {"x": {"min_presence_ratio": 0}}})")),
              "x:FLOAT_TYPE_HAS_NAN=1\n");
    EXPECT_EQ(summary(find(b, numbers({kNaN, 1}), R"({"allow_nan": false, "features": {"x": {"allow_nan": true}}})")), "");
    EXPECT_EQ(summary(find(b, c, R"({"features": {"x": {"skip": true}}})")), "");
    // Severities: changed, or off.
    const auto sev = find(b, c, R"({"severity": {"FEATURE_TYPE_LOW_FRACTION_PRESENT": "error", "FLOAT_TYPE_HAS_INF": "off"}})");
    ASSERT_EQ(sev.size(), 1u);
    EXPECT_EQ(sev[0].severity, AnomalySeverity::Error);
    // Rows: DATASET_LOW_NUM_EXAMPLES first, without a feature.
    const auto rows = find(b, b, R"({"min_rows": 11})");
    EXPECT_EQ(summary(rows), "-:DATASET_LOW_NUM_EXAMPLES=10\n");
    EXPECT_EQ(rows[0].description, "the current window has 10 rows, fewer than the 11 required");
    EXPECT_EQ(summary(find(b, b, R"({"min_rows": 10})")), "");
    // A new feature seen only as NULL still is new; its count is the rows it appears in.
    Profile n = numbers({1, 2});
    n.start_row();
    n.add_null("fresh");
    EXPECT_EQ(summary(find(numbers({1, 2, 3}), n)), "fresh:SCHEMA_NEW_COLUMN=1\nx:FEATURE_TYPE_LOW_FRACTION_PRESENT=1\n");
    // Ranges: a value below and one above; a fraction limit filters them.
    const Profile r = numbers({-1, 2, 3, 4, 5, 6, 7, 8, 9, 100});
    EXPECT_EQ(summary(find(numbers({0, 10}), r)), "x:FLOAT_TYPE_SMALL_FLOAT=1\nx:FLOAT_TYPE_BIG_FLOAT=1\n");
    EXPECT_EQ(summary(find(numbers({0, 10}), r, R"({"max_out_of_range_fraction": 0.1})")), "");
    EXPECT_EQ(summary(find(numbers({0, 10}), r, R"({"max_out_of_range_fraction": 0.09})")),
              "x:FLOAT_TYPE_SMALL_FLOAT=1\nx:FLOAT_TYPE_BIG_FLOAT=1\n");
    // Infinities are not out of range (they are FLOAT_TYPE_HAS_INF); nor is a baseline without
    // finite values a range.
    EXPECT_EQ(summary(find(numbers({0, 10}), numbers({5, -kInf}))), "x:FLOAT_TYPE_HAS_INF=1\n");
    EXPECT_EQ(summary(find(numbers({kInf, kNaN}), numbers({5, kInf}))), "");
}

TEST(Anomalies, OptionsAreCheckedStrictly) {
    auto msg = [](const char* text) {
        return expect_error(ErrorKind::InvalidParameter, [&] { core::parse_anomaly_options(text); });
    };
    EXPECT_EQ(msg("\"x\""), "invalid ml_anomalies options: a JSON object was expected, not a string");
    EXPECT_EQ(msg("{\"min_presense\": 1}"), "invalid ml_anomalies options: unknown key \"min_presense\"");
    EXPECT_EQ(msg("{\"min_presence\": 1.5}"),
              "invalid ml_anomalies options: \"min_presence\" must be a number between 0 and 1, not 1.5");
    EXPECT_EQ(msg("{\"min_presence_ratio\": \"1\"}"),
              "invalid ml_anomalies options: \"min_presence_ratio\" must be a number between 0 and 1, not a string");
    EXPECT_EQ(msg("{\"max_out_of_range_fraction\": -0.1}"),
              "invalid ml_anomalies options: \"max_out_of_range_fraction\" must be a number between 0 and 1, not -0.1");
    EXPECT_EQ(msg("{\"allow_nan\": \"yes\"}"), "invalid ml_anomalies options: \"allow_nan\" must be true or false, not a string");
    EXPECT_EQ(msg("{\"min_rows\": -1}"),
              "invalid ml_anomalies options: \"min_rows\" must be an integer between 0 and 9223372036854775807, not -1");
    EXPECT_EQ(msg("{\"severity\": []}"), "invalid ml_anomalies options: \"severity\" must be an object, not an array");
    EXPECT_EQ(msg("{\"severity\": {\"schema_new_column\": \"off\"}}"),
              "invalid ml_anomalies options: \"severity\" names an unknown anomaly \"schema_new_column\"");
    EXPECT_EQ(msg("{\"severity\": {\"SCHEMA_NEW_COLUMN\": \"fatal\"}}"),
              "invalid ml_anomalies options: \"severity.SCHEMA_NEW_COLUMN\" must be \"error\", \"warning\" or \"off\", "
              "not \"fatal\"");
    EXPECT_EQ(msg("{\"features\": {\"a\": {\"min_rows\": 3}}}"), "invalid ml_anomalies options: unknown key \"features.a.min_rows\"");
    EXPECT_EQ(msg("{\"features\": {\"a\": {\"skip\": null}}}"),
              "invalid ml_anomalies options: \"features.a.skip\" must be true or false, not null");
    EXPECT_EQ(msg("{\"features\": {\"a\": {\"min_presence\": 2}}}"),
              "invalid ml_anomalies options: \"features.a.min_presence\" must be a number between 0 and 1, not 2");
    const AnomalyOptions d = core::parse_anomaly_options("{}");
    EXPECT_EQ(*d.defaults.min_presence_ratio, 0.9);
    EXPECT_EQ(*d.defaults.max_out_of_range_fraction, 0.0);
    EXPECT_FALSE(d.defaults.allow_nan);
    EXPECT_FALSE(d.min_rows);
    EXPECT_EQ(d.severity[size_t(AnomalyType::SchemaNewColumn)], AnomalySeverity::Warning);
    EXPECT_EQ(d.severity[size_t(AnomalyType::FloatTypeHasNan)], AnomalySeverity::Error);
}

// Large windows: the sketches are no longer exact. The true counts (brute force) must lie in the
// reported bounds, and the estimates be close.
TEST(Anomalies, EstimatedCountsHoldTheTruth) {
    Profile b, c;
    uint64_t above = 0, below = 0;
    for (int64_t i = 0; i < 100000; i++) {
        b.start_row();
        b.add_number("x", (i * 7919) % 10007);  // 0..10006
        b.add_string("s", std::string(1, char('a' + (i * 31) % 10)));  // a closed domain of 10 values
        const double x = double((i * 104729) % 10007) * 1.05 - 200.0;  // -200..10306: both tails out
        above += x > 10006;
        below += x < 0;
        c.start_row();
        c.add_number("x", x);
        // 80% in the domain, 20% among 2,000 new values (more than the summary's 64 counters).
        c.add_string("s", i % 5 ? std::string(1, char('a' + i % 10)) : "new" + std::to_string(i % 2000));
    }
    const auto found = find(b, c);
    ASSERT_EQ(found.size(), 3u) << summary(found);
    const uint64_t unexpected = 20000;
    struct Want {
        AnomalyType type;
        uint64_t truth;
    } want[] = {{AnomalyType::EnumTypeUnexpectedStringValues, unexpected},
                {AnomalyType::FloatTypeSmallFloat, below},
                {AnomalyType::FloatTypeBigFloat, above}};
    for (size_t i = 0; i < 3; i++) {
        const Anomaly& a = found[i];
        SCOPED_TRACE(core::anomaly_type_name(a.type));
        EXPECT_EQ(a.type, want[i].type);
        EXPECT_FALSE(a.detail["count_exact"].get<bool>());
        EXPECT_LE(a.detail["count_lower"].get<uint64_t>(), want[i].truth);
        EXPECT_GE(a.detail["count_upper"].get<uint64_t>(), want[i].truth);
        EXPECT_NEAR(double(a.count), double(want[i].truth), 0.01 * 100000);
        EXPECT_NE(a.description.find("about "), std::string::npos);
    }
    EXPECT_GT(below, 1000u);
    EXPECT_GT(above, 1000u);
}

}  // namespace
}  // namespace pg_learn::test
