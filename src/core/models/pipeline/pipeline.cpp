// Feature pipelines as one model value (docs/pipelines.md).
//
// A pipeline is a list of steps and a final model. A row flows through the steps in order: each
// step reads the row as the steps before it left it and adds features (a target aggregate, date
// parts, interactions, a bin), rewrites values in place (scaler, log, clip) or hides features
// from the model (select; date_parts hides the timestamp it read). The final model learns from
// and predicts on what reaches it. Hidden features can still be read by later steps (a `by`
// column that select left out).
//
// Learning order (progressive honesty): learn(x, y) transforms x with the state as it stands,
// the final model learns the result, and only then do the target aggregates take y: a row's
// aggregate is computed from the labels of earlier rows only, during training as in scoring.
// The standard scaler is unsupervised and follows river's order (it takes x, then scales it).
#include "core/models/pipeline/pipeline.hpp"

#include "core/common/byte_codec.hpp"
#include "core/common/envelope.hpp"
#include "core/common/error.hpp"
#include "core/common/text.hpp"
#include "core/models/common/family_model.hpp"
#include "core/models/common/feature_dictionary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <unordered_map>

namespace pg_learn::core {

using nlohmann::json;

namespace pipeline {

namespace {

// About 3 million years either side of 1970.
constexpr double kMaxSeconds = 1e14;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Howard Hinnant's civil_from_days / days_from_civil.
void civil_from_days(int64_t z, int64_t& y, int& m, int& d) {
    z += 719468;
    const int64_t era = floor_div(z, 146097);
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    if (m <= 2) y++;
}

int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    const int64_t era = floor_div(y, 400);
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

DateParts date_parts(double seconds) {
    // (the step refuses a time this far from 1970; the function stays defined for any input)
    if (!(std::fabs(seconds) < kMaxSeconds)) seconds = 0;
    const double day_f = std::floor(seconds / 86400.0);
    const auto days = static_cast<int64_t>(day_f);
    double sod = seconds - day_f * 86400.0;
    if (sod < 0) sod = 0;
    if (sod >= 86400.0) sod = 86399.0;
    DateParts p{};
    p.hour = static_cast<int>(sod / 3600.0);
    if (p.hour > 23) p.hour = 23;
    // 1970-01-01 was a Thursday (3 with Monday 0).
    p.weekday = static_cast<int>(((days % 7) + 7 + 3) % 7);
    int64_t y;
    int m, d;
    civil_from_days(days, y, m, d);
    p.month = m;
    p.yearday = static_cast<int>(days - days_from_civil(y, 1, 1) + 1);
    return p;
}

bool parse_iso8601(std::string_view s, double& seconds) {
    size_t i = 0;
    auto digits = [&](int n, int& out) {
        if (i + n > s.size()) return false;
        out = 0;
        for (int k = 0; k < n; k++) {
            const char c = s[i + k];
            if (c < '0' || c > '9') return false;
            out = out * 10 + (c - '0');
        }
        i += n;
        return true;
    };
    auto lit = [&](char c) {
        if (i < s.size() && s[i] == c) {
            i++;
            return true;
        }
        return false;
    };
    int y, mo, d, h = 0, mi = 0, se = 0;
    double frac = 0;
    if (!digits(4, y) || !lit('-') || !digits(2, mo) || !lit('-') || !digits(2, d)) return false;
    if (mo < 1 || mo > 12) return false;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y) ? 1 : 0)) return false;
    if (i < s.size() && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        if (!digits(2, h) || !lit(':') || !digits(2, mi)) return false;
        if (lit(':')) {
            if (!digits(2, se)) return false;
            if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
                i++;
                double scale = 0.1;
                const size_t start = i;
                while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
                    frac += (s[i] - '0') * scale;
                    scale /= 10;
                    i++;
                }
                if (i == start) return false;
            }
        }
        if (h > 24 || mi > 59 || se > 60 || (h == 24 && (mi != 0 || se != 0 || frac != 0))) return false;
    }
    int offset = 0;  // seconds east of UTC
    if (i < s.size()) {
        if (s[i] == 'Z' || s[i] == 'z') {
            i++;
        } else if (s[i] == '+' || s[i] == '-') {
            const int sign = s[i] == '-' ? -1 : 1;
            i++;
            int oh, om = 0;
            if (!digits(2, oh)) return false;
            if (lit(':')) {
                if (!digits(2, om)) return false;
            } else if (i < s.size()) {
                if (!digits(2, om)) return false;
            }
            if (oh > 18 || om > 59) return false;
            offset = sign * (oh * 3600 + om * 60);
        } else {
            return false;
        }
    }
    if (i != s.size()) return false;
    seconds = static_cast<double>(days_from_civil(y, mo, d)) * 86400.0 + h * 3600.0 + mi * 60.0 + se + frac - offset;
    return true;
}

}  // namespace pipeline

namespace {

constexpr uint64_t kIdentitySeed = 0x706970656c696e65ull;
constexpr size_t kMaxSteps = 64;
constexpr size_t kMaxColumns = 1000;
constexpr int64_t kDefaultMaxGroups = 100000;
constexpr int64_t kMaxMaxGroups = 10000000;
constexpr size_t kMaxScaled = 100000;
// Most input names (columns, and categories of categorical columns) a pipeline remembers for its
// feature checks (Pipeline::inputs_).
constexpr size_t kMaxInputNames = 4096;
constexpr size_t kMaxEdges = 1000;
const char kNullGroup[] = "\x1e";  // the group key part of a NULL value
const char kKeySeparator = '\x1f';

std::unique_ptr<Model> pipeline_from_spec(const json& spec);
std::unique_ptr<Model> pipeline_from_json(const json& j);
std::unique_ptr<Model> pipeline_decode(const uint8_t* data, size_t size);

// The registry's task is a placeholder: a pipeline's task is its final model's (task()).
const ModelFamily kPipeline{"pipeline", 70, Task::Regression, &pipeline_from_spec, &pipeline_from_json,
                            &pipeline_decode};

[[noreturn]] void bad_spec(const std::string& why, const std::string& hint = {}) {
    fail(ErrorKind::InvalidParameter, "invalid pipeline: " + why, {},
         hint.empty() ? "See docs/pipelines.md for the steps and their options." : hint);
}
[[noreturn]] void bad_json(const std::string& why) { fail(ErrorKind::InvalidParameter, "invalid ml_model: " + why); }

std::string hex_identity(uint64_t id) {
    char buf[17];
    snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
    return buf;
}

std::string number_text(double v) {
    // Whole numbers (hours, codes, ids) are the common group keys: written without snprintf.
    if (v == std::floor(v) && std::fabs(v) < 1e15 && !(v == 0 && std::signbit(v))) {
        char buf[24];
        char* p = buf + sizeof buf;
        auto u = static_cast<uint64_t>(std::fabs(v));
        do {
            *--p = static_cast<char>('0' + u % 10);
            u /= 10;
        } while (u);
        if (v < 0) *--p = '-';
        return std::string(p, buf + sizeof buf - p);
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (std::strtod(buf, nullptr) != v) snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

size_t pad8(size_t n) { return (n + 7) & ~size_t(7); }

enum class StepKind : uint8_t { Select, TargetAgg, Scaler, DateParts, Log, Clip, Interactions, Binning };
enum class How : uint8_t { Count, Mean, Var, EWMean, EWVar, Min, Max };
const char* const kHowNames[] = {"count", "mean", "var", "ewmean", "ewvar", "min", "max"};
const char* const kStepNames[] = {"select", "target_agg", "standard_scaler", "date_parts",
                                  "log", "clip", "interactions", "binning"};
enum Part { kHour = 0, kWeekday = 1, kMonth = 2, kYearday = 3 };
const char* const kPartNames[] = {"hour", "weekday", "month", "yearday"};
const double kPartPeriods[] = {24, 7, 12, 365.25};

// A running statistic: n and two accumulators (Welford's mean and M2; the exponentially weighted
// mean and mean of squares; the extreme).
struct Stat {
    double n = 0, a = 0, b = 0;
};

struct Step {
    StepKind kind = StepKind::Select;
    json spec;                         // canonical
    std::vector<std::string> columns;  // select, log, clip (empty: every numeric feature); by of target_agg
    // target_agg
    How how = How::Mean;
    double alpha = 0.5, prior = 0, prior_weight = 0;
    uint64_t max_groups = 0;
    std::string output;
    std::unordered_map<std::string, Stat> groups;
    // standard_scaler: per feature name
    std::unordered_map<std::string, Stat> stats;
    // date_parts: the column, the parts, and per part its raw, sine and cosine feature names
    std::string column;
    std::vector<int> parts;
    bool raw = true, cyclic = false;
    std::vector<std::string> part_names;
    // log and clip
    double offset = 1, lo = -INFINITY, hi = INFINITY;
    // interactions
    std::vector<std::pair<std::string, std::string>> pairs;
    // binning
    std::vector<double> edges;
    std::string bin_key;
    std::vector<std::string> bin_names;  // "key=i"
    bool keep = false;
};

void stat_update(const Step& st, Stat& s, double y) {
    switch (st.how) {
        case How::Count: s.n++; break;
        case How::Mean:
        case How::Var: {
            s.n++;
            const double d = y - s.a;
            s.a += d / s.n;
            s.b += d * (y - s.a);
            break;
        }
        case How::EWMean:
        case How::EWVar:
            if (s.n == 0) {
                s.a = y;
                s.b = y * y;
            } else {
                s.a = st.alpha * y + (1 - st.alpha) * s.a;
                s.b = st.alpha * y * y + (1 - st.alpha) * s.b;
            }
            s.n++;
            break;
        case How::Min:
            s.a = s.n == 0 ? y : std::min(s.a, y);
            s.n++;
            break;
        case How::Max:
            s.a = s.n == 0 ? y : std::max(s.a, y);
            s.n++;
            break;
    }
}

double stat_value(const Step& st, const Stat* s) {
    if (st.how == How::Count) return s ? s->n : 0;
    if (!s || s->n == 0) return st.prior;
    switch (st.how) {
        case How::Mean:
            return st.prior_weight > 0 ? (st.prior * st.prior_weight + s->a * s->n) / (st.prior_weight + s->n) : s->a;
        case How::Var: return s->n > 1 ? s->b / (s->n - 1) : 0;
        case How::EWMean: return s->a;
        case How::EWVar: return s->b - s->a * s->a;
        default: return s->a;
    }
}

// One feature of the row as it flows through the steps.
struct Cell {
    std::string_view key, name;
    double value;
    bool categorical, missing, pass;
};

// ---- parsing the steps ----------------------------------------------------------------------------

std::vector<std::string> column_list(const json& v, const std::string& what, bool allow_empty = false) {
    std::vector<std::string> out;
    auto add = [&](const json& c) {
        if (!c.is_string() || c.get_ref<const std::string&>().empty())
            bad_spec(what + " must name columns (non-empty strings)");
        const std::string& s = c.get_ref<const std::string&>();
        if (s.size() > kMaxDictionaryNameBytes || !is_valid_utf8(s) || s.find('\0') != std::string::npos)
            bad_spec(what + ": a column name must be UTF-8 text of at most " + std::to_string(kMaxDictionaryNameBytes) +
                     " bytes without NUL");
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    };
    if (v.is_string())
        add(v);
    else if (v.is_array() && v.size() <= kMaxColumns)
        for (const auto& c : v) add(c);
    else
        bad_spec(what + " must be a column name or an array of column names");
    if (out.empty() && !allow_empty) bad_spec(what + " must name at least one column");
    return out;
}

void only_keys(const json& o, const std::string& step, std::initializer_list<const char*> known) {
    for (auto it = o.begin(); it != o.end(); ++it) {
        bool ok = false;
        std::string list;
        for (const char* k : known) {
            ok = ok || it.key() == k;
            list += std::string(list.empty() ? "" : ", ") + k;
        }
        if (!ok)
            bad_spec("unknown option \"" + message_name(it.key()) + "\" of step \"" + step + "\"",
                     "valid options: " + list + " (docs/pipelines.md)");
    }
}

double number_of(const json& o, const char* key, double def, double lo, double hi, const std::string& step) {
    auto it = o.find(key);
    if (it == o.end()) return def;
    if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < lo || it->get<double>() > hi)
        bad_spec("option \"" + std::string(key) + "\" of step \"" + step + "\" must be a number between " +
                 number_text(lo) + " and " + number_text(hi));
    return it->get<double>();
}

Step parse_step(const std::string& name, const json& arg) {
    Step st;
    const std::string& n = name;
    auto obj = [&]() -> const json& {
        if (!arg.is_object()) bad_spec("step \"" + n + "\" takes an object of options");
        return arg;
    };
    if (n == "select") {
        st.kind = StepKind::Select;
        st.columns = column_list(arg, "step \"select\"");
        st.spec = {{"select", st.columns}};
    } else if (n == "target_agg") {
        st.kind = StepKind::TargetAgg;
        const json& o = obj();
        only_keys(o, n, {"by", "how", "prior", "prior_weight", "max_groups", "name"});
        if (!o.contains("by")) bad_spec("step \"target_agg\" needs \"by\", the column(s) to group the labels by");
        st.columns = column_list(o["by"], "\"by\" of step \"target_agg\"");
        const json how = o.contains("how") ? o["how"] : json("mean");
        std::string how_name;
        json how_arg;
        if (how.is_string()) {
            how_name = how.get<std::string>();
        } else if (how.is_object() && how.size() == 1) {
            how_name = how.begin().key();
            how_arg = how.begin().value();
        } else {
            bad_spec("\"how\" of step \"target_agg\" must be a statistic: \"count\", \"mean\", \"var\", \"min\", "
                     "\"max\", {\"ewmean\": alpha} or {\"ewvar\": alpha}");
        }
        bool found = false;
        for (int h = 0; h < 7; h++)
            if (how_name == kHowNames[h]) {
                st.how = static_cast<How>(h);
                found = true;
            }
        if (!found)
            bad_spec("unknown statistic \"" + message_name(how_name) + "\" of step \"target_agg\"",
                     "Statistics: count, mean, var, ewmean, ewvar, min, max.");
        const bool ew = st.how == How::EWMean || st.how == How::EWVar;
        if (!how_arg.is_null()) {
            if (!ew) bad_spec("statistic \"" + how_name + "\" takes no argument");
            if (!how_arg.is_number() || !(how_arg.get<double>() > 0) || how_arg.get<double>() > 1)
                bad_spec("the fading factor of \"" + how_name + "\" must be a number in (0, 1]");
            st.alpha = how_arg.get<double>();
        }
        st.prior = number_of(o, "prior", 0, -1e300, 1e300, n);
        st.prior_weight = number_of(o, "prior_weight", 0, 0, 1e15, n);
        if (st.prior_weight > 0 && st.how != How::Mean)
            bad_spec("\"prior_weight\" applies to the statistic \"mean\" only");
        const double mg = number_of(o, "max_groups", static_cast<double>(kDefaultMaxGroups), 1,
                                    static_cast<double>(kMaxMaxGroups), n);
        if (mg != std::floor(mg)) bad_spec("option \"max_groups\" of step \"target_agg\" must be a whole number");
        st.max_groups = static_cast<uint64_t>(mg);
        std::string by;
        for (const auto& c : st.columns) by += (by.empty() ? "" : "_and_") + c;
        std::string stat = how_name + (ew ? "_" + number_text(st.alpha) : "");
        st.output = "target_" + stat + "_by_" + by;
        if (o.contains("name")) st.output = column_list(o["name"], "\"name\" of step \"target_agg\"")[0];
        json how_canon = ew ? json{{how_name, st.alpha}} : json(how_name);
        st.spec = {{"target_agg",
                    {{"by", st.columns},
                     {"how", how_canon},
                     {"prior", st.prior},
                     {"max_groups", st.max_groups},
                     {"name", st.output}}}};
        if (st.prior_weight > 0) st.spec["target_agg"]["prior_weight"] = st.prior_weight;
    } else if (n == "standard_scaler") {
        st.kind = StepKind::Scaler;
        if (!arg.is_null() && !(arg.is_object() && arg.empty()))
            bad_spec("step \"standard_scaler\" takes no options");
        st.spec = {{"standard_scaler", json::object()}};
    } else if (n == "date_parts") {
        st.kind = StepKind::DateParts;
        json o = arg.is_string() ? json{{"column", arg}} : obj();
        only_keys(o, n, {"column", "parts", "encoding"});
        if (!o.contains("column")) bad_spec("step \"date_parts\" needs \"column\", the timestamp to read");
        st.column = column_list(o["column"], "\"column\" of step \"date_parts\"")[0];
        const json parts = o.contains("parts") ? o["parts"] : json{"hour", "weekday", "month", "yearday"};
        if (!parts.is_array() || parts.empty())
            bad_spec("\"parts\" of step \"date_parts\" must be a non-empty array of hour, weekday, month, yearday");
        for (const auto& p : parts) {
            int found = -1;
            for (int k = 0; k < 4; k++)
                if (p.is_string() && p.get<std::string>() == kPartNames[k]) found = k;
            if (found < 0)
                bad_spec("unknown date part " + p.dump() + " of step \"date_parts\"",
                         "Parts: hour, weekday, month, yearday.");
            if (std::find(st.parts.begin(), st.parts.end(), found) == st.parts.end()) st.parts.push_back(found);
        }
        std::string enc = "raw";
        if (o.contains("encoding")) {
            if (!o["encoding"].is_string()) bad_spec("\"encoding\" of step \"date_parts\" must be a string");
            enc = o["encoding"].get<std::string>();
        }
        if (enc != "raw" && enc != "cyclic" && enc != "both")
            bad_spec("\"encoding\" of step \"date_parts\" must be \"raw\", \"cyclic\" or \"both\"");
        st.raw = enc != "cyclic";
        st.cyclic = enc != "raw";
        json pn = json::array();
        for (int p : st.parts) {
            pn.push_back(kPartNames[p]);
            const std::string base = st.column + "_" + kPartNames[p];
            st.part_names.push_back(base);
            st.part_names.push_back(base + "_sin");
            st.part_names.push_back(base + "_cos");
        }
        st.spec = {{"date_parts", {{"column", st.column}, {"parts", pn}, {"encoding", enc}}}};
    } else if (n == "log") {
        st.kind = StepKind::Log;
        json o = (arg.is_string() || arg.is_array()) ? json{{"columns", arg}} : obj();
        only_keys(o, n, {"columns", "offset"});
        if (!o.contains("columns")) bad_spec("step \"log\" needs \"columns\"");
        st.columns = column_list(o["columns"], "\"columns\" of step \"log\"");
        st.offset = number_of(o, "offset", 1, -1e15, 1e15, n);
        st.spec = {{"log", {{"columns", st.columns}, {"offset", st.offset}}}};
    } else if (n == "clip") {
        st.kind = StepKind::Clip;
        const json& o = obj();
        only_keys(o, n, {"columns", "min", "max"});
        if (o.contains("columns")) st.columns = column_list(o["columns"], "\"columns\" of step \"clip\"");
        if (!o.contains("min") && !o.contains("max")) bad_spec("step \"clip\" needs \"min\", \"max\" or both");
        st.lo = number_of(o, "min", -INFINITY, -1e300, 1e300, n);
        st.hi = number_of(o, "max", INFINITY, -1e300, 1e300, n);
        if (st.lo > st.hi) bad_spec("\"min\" of step \"clip\" is above its \"max\"");
        // (no "columns": every numeric feature; an empty list would not read back)
        st.spec = {{"clip", json::object()}};
        if (!st.columns.empty()) st.spec["clip"]["columns"] = st.columns;
        if (o.contains("min")) st.spec["clip"]["min"] = st.lo;
        if (o.contains("max")) st.spec["clip"]["max"] = st.hi;
    } else if (n == "interactions") {
        st.kind = StepKind::Interactions;
        if (!arg.is_array() || arg.empty() || arg.size() > kMaxColumns)
            bad_spec("step \"interactions\" takes an array of column pairs, e.g. [[\"station\", \"temperature\"]]");
        json canon = json::array();
        for (const auto& p : arg) {
            if (!p.is_array() || p.size() != 2) bad_spec("each interaction is a pair of columns, e.g. [\"a\", \"b\"]");
            const auto a = column_list(p[0], "an interaction"), b = column_list(p[1], "an interaction");
            st.pairs.emplace_back(a[0], b[0]);
            canon.push_back({a[0], b[0]});
        }
        st.spec = {{"interactions", canon}};
    } else if (n == "binning") {
        st.kind = StepKind::Binning;
        const json& o = obj();
        only_keys(o, n, {"column", "edges", "keep", "name"});
        if (!o.contains("column") || !o.contains("edges")) bad_spec("step \"binning\" needs \"column\" and \"edges\"");
        st.column = column_list(o["column"], "\"column\" of step \"binning\"")[0];
        const json& e = o["edges"];
        if (!e.is_array() || e.empty() || e.size() > kMaxEdges)
            bad_spec("\"edges\" of step \"binning\" must be a non-empty array of at most " + std::to_string(kMaxEdges) +
                     " increasing numbers");
        for (const auto& v : e) {
            if (!v.is_number() || !std::isfinite(v.get<double>()) || (!st.edges.empty() && !(v.get<double>() > st.edges.back())))
                bad_spec("\"edges\" of step \"binning\" must be increasing finite numbers");
            st.edges.push_back(v.get<double>());
        }
        if (o.contains("keep")) {
            if (!o["keep"].is_boolean()) bad_spec("\"keep\" of step \"binning\" must be true or false");
            st.keep = o["keep"].get<bool>();
        }
        st.bin_key = o.contains("name") ? column_list(o["name"], "\"name\" of step \"binning\"")[0] : st.column + "_bin";
        for (size_t i = 0; i <= st.edges.size(); i++) st.bin_names.push_back(st.bin_key + "=" + std::to_string(i));
        st.spec = {{"binning", {{"column", st.column}, {"edges", st.edges}, {"keep", st.keep}, {"name", st.bin_key}}}};
    }
    return st;
}

bool is_step_name(const std::string& n) {
    for (const char* s : kStepNames)
        if (n == s) return true;
    return false;
}

std::string step_list() {
    std::string s;
    for (const char* n : kStepNames) s += std::string(s.empty() ? "" : ", ") + n;
    return s;
}

// ---- the model ------------------------------------------------------------------------------------

class Pipeline final : public Model {
public:
    Pipeline(std::vector<Step> steps, std::unique_ptr<Model> final_model, std::vector<std::string> ignore)
        : steps_(std::move(steps)), final_(std::move(final_model)), ignore_(std::move(ignore)) {
        final_identity_ = final_->identity();
        final_spec_ = final_->info()["spec"];
        for (const Step& s : steps_) timestamps_ = timestamps_ || s.kind == StepKind::DateParts;
        set_spec();
    }
    Pipeline(const Pipeline& o)
        : Model(o), steps_(o.steps_), final_(o.final_->clone()), inputs_(o.inputs_), ignore_(o.ignore_),
          spec_(o.spec_), final_spec_(o.final_spec_), identity_(o.identity_), final_identity_(o.final_identity_),
          updates_(o.updates_), n_seen_(o.n_seen_), timestamps_(o.timestamps_) {}
    Pipeline& operator=(const Pipeline& o) {
        if (this == &o) return *this;
        steps_ = o.steps_;
        final_ = o.final_->clone();
        ignore_ = o.ignore_;
        spec_ = o.spec_;
        final_spec_ = o.final_spec_;
        inputs_ = o.inputs_;
        identity_ = o.identity_;
        final_identity_ = o.final_identity_;
        updates_ = o.updates_;
        n_seen_ = o.n_seen_;
        timestamps_ = o.timestamps_;
        scaler_cache_.clear();
        return *this;
    }

    std::unique_ptr<Model> clone() const override { return std::make_unique<Pipeline>(*this); }
    void assign(const Model& other) override {
        const auto* o = dynamic_cast<const Pipeline*>(&other);
        if (!o) fail(ErrorKind::Internal, "assigning a model of another family");
        *this = *o;
    }
    const char* kind() const override { return kPipeline.kind; }
    Task task() const override { return final_->task(); }
    uint64_t identity() const override { return identity_; }
    uint64_t updates() const override { return updates_; }
    uint64_t n_seen() const override { return n_seen_; }
    bool ignores_feature(std::string_view name) const override { return ignored_key(ignore_, name); }
    void ignore_feature(std::string_view name) override {
        if (ignored_key(ignore_, name)) return;
        if (ignore_.size() >= kMaxColumns) fail(ErrorKind::ProgramLimit, "option \"ignore\" lists too many names");
        if (!is_valid_utf8(name) || name.find('\0') != std::string_view::npos)
            fail(ErrorKind::InvalidText, "an ignored feature name must be UTF-8 text without NUL bytes");
        ignore_.emplace_back(name);
        set_spec();
    }
    bool reads_timestamps() const override { return timestamps_; }
    bool features_learn_labels() const override {
        for (const Step& s : steps_)
            if (s.kind == StepKind::TargetAgg) return true;
        return final_->features_learn_labels();
    }
    bool can_learn() const override { return final_->can_learn(); }
    void set_epoch(uint32_t epoch) override { final_->set_epoch(epoch); }

    void learn(const Observation& x, const Label& y) override;
    void learn_dense(const double*, size_t, const Label&) override { dense_refused(); }
    double predict(const Observation& x) const override { return final_->predict(transform(x, false)); }
    double predict_dense(const double*, size_t) const override { dense_refused(); }
    // The row is checked against the columns the pipeline learned from (inputs_), not against
    // the features its steps make: a date part, an aggregate or an interaction of a category with
    // a number ("station=north*temperature") is not a feature the row could give or lack. A value
    // stored before the pipeline kept its inputs checks the steps' features with the model.
    void check_features(const Observation& x, FeatureCheck& out, bool name_missing) const override {
        if (!inputs_.empty()) {
            inputs_.check(input_view(x), ignore_, out, name_missing);
            return;
        }
        try {
            final_->check_features(transform(x, false), out, name_missing);
        } catch (const Error&) {
            out.clear();  // predict says why
        }
    }
    void check_features_dense(size_t, FeatureCheck& out) const override { out.clear(); }
    std::string closest_feature(std::string_view name) const override {
        return inputs_.empty() ? final_->closest_feature(name) : inputs_.closest(name);
    }
    // The row as the input columns are learned and checked: a timestamp given as ISO-8601 text
    // to a date_parts step is its column (a number), not a category of each instant.
    const Observation& input_view(const Observation& x) const {
        bool text_time = false;
        for (size_t i = 0; i < x.size() && !text_time; i++)
            if (x[i].type == FeatureType::Categorical && !x[i].missing)
                for (const Step& st : steps_)
                    if (st.kind == StepKind::DateParts && st.column == x.key(x[i])) text_time = true;
        if (!text_time) return x;
        input_obs_.clear();
        for (size_t i = 0; i < x.size(); i++) {
            const Observation::Entry& e = x[i];
            bool time = false;
            if (e.type == FeatureType::Categorical && !e.missing)
                for (const Step& st : steps_)
                    if (st.kind == StepKind::DateParts && st.column == x.key(e)) time = true;
            if (e.missing)
                input_obs_.add_missing(x.name(e));
            else if (time)
                input_obs_.add_numeric(x.key(e), 0.0);
            else if (e.type == FeatureType::Categorical)
                input_obs_.add_category(x.key(e), x.name(e).substr(x.key(e).size() + 1));
            else
                input_obs_.add_numeric(x.name(e), e.value);
        }
        return input_obs_;
    }
    const std::vector<std::string>& classes() const override { return final_->classes(); }
    void predict_proba(const Observation& x, std::vector<double>& p) const override {
        final_->predict_proba(transform(x, false), p);
    }
    void predict_proba_dense(const double*, size_t, std::vector<double>&) const override { dense_refused(); }
    // Explained by the final model over the features the steps made (date parts, aggregates,
    // interactions, standardised values, as ml_info names them): they add up to the final
    // model's margin, which is the pipeline's. Global importance is the final model's likewise.
    void explain(const Observation& x, Explanation& out) const override { final_->explain(transform(x, false), out); }
    void explain_dense(const double*, size_t, Explanation&) const override { dense_refused(); }
    void importance(FeatureImportance& out) const override { final_->importance(out); }

    // Partial models do not merge: the target aggregates' groups and the scaler would, but the
    // final model learned features that each part computed from its own labels only.
    bool can_merge() const override { return false; }
    void merge(const Model&) override {
        fail(ErrorKind::InvalidParameter, "a pipeline cannot merge partial models", {},
             "Train it without parallel workers (SET max_parallel_workers_per_gather = 0), or with ml_train.");
    }

    size_t encoded_size() const override;
    void encode(uint8_t* out, size_t size) const override;
    json to_json() const override;
    json info() const override;

    const Observation& transform(const Observation& x, bool learning) const;
    const Model& final_model() const { return *final_; }

    // Storage.
    static std::unique_ptr<Model> decode(const uint8_t* data, size_t size);
    static std::unique_ptr<Model> from_json(const json& j);

private:
    [[noreturn]] static void dense_refused() {
        fail(ErrorKind::InvalidParameter, "a pipeline reads named features, not a float8[] array", {},
             "Give the row (a record) or a jsonb object: its steps read columns by name.");
    }
    void set_spec() {
        json steps = json::array();
        for (const Step& s : steps_) steps.push_back(s.spec);
        steps.push_back(final_spec_);
        spec_ = {{"model", kPipeline.kind}, {"steps", steps}};
        if (!ignore_.empty()) spec_["ignore"] = ignore_;
        const std::string canon = spec_.dump();
        identity_ = hash64(canon.data(), canon.size(), kIdentitySeed);
    }
    std::string& scratch() const {
        if (scratch_used_ == scratch_.size()) scratch_.emplace_back();
        std::string& s = scratch_[scratch_used_++];
        s.clear();
        return s;
    }
    const Cell* find(std::string_view key) const {
        for (const Cell& c : row_)
            if (c.key == key) return &c;
        return nullptr;
    }
    [[noreturn]] void missing_column(const std::string& column, const char* step) const {
        fail(ErrorKind::InvalidParameter,
             "column \"" + message_name(column) + "\" read by the pipeline's " + step + " step is missing from the row",
             {}, "Every row the pipeline learns from or scores must hold the columns its steps read (a NULL value is "
                 "accepted).");
    }
    void write_state(detail::ByteWriter& w) const;
    size_t state_size() const;
    void read_state(detail::ByteReader& r);
    json state_json() const;
    void state_from_json(const json& j);
    std::string invalid() const;

    std::vector<Step> steps_;
    std::unique_ptr<Model> final_;
    // The columns (and categories) of the rows learned, for the feature checks: bounded, so that
    // a key of many values (a target aggregate's user id) stops being remembered past
    // kMaxInputNames names; past it, only missing columns are counted.
    FeatureDictionary inputs_{kMaxInputNames, /*bounded=*/true};
    std::vector<FeatureTerm> input_terms_;
    mutable Observation input_obs_;
    std::vector<std::string> ignore_;
    json spec_, final_spec_;
    uint64_t identity_ = 0, final_identity_ = 0, updates_ = 0, n_seen_ = 0;
    bool timestamps_ = false;
    // Scratch of one call.
    mutable std::vector<Cell> row_;
    mutable std::deque<std::string> scratch_;
    mutable size_t scratch_used_ = 0;
    mutable std::vector<std::string> keys_;  // per step: the target aggregate's group key
    // Per step: the scaler's previous row, its feature names and their statistics (pointers
    // into the step's map: cleared whenever the map is replaced).
    mutable std::vector<std::vector<std::pair<std::string, Stat*>>> scaler_cache_;
    mutable Observation obs_;
};

const Observation& Pipeline::transform(const Observation& x, bool learning) const {
    row_.clear();
    scratch_used_ = 0;
    keys_.resize(steps_.size());
    scaler_cache_.resize(steps_.size());
    for (size_t i = 0; i < x.size(); i++) {
        const Observation::Entry& e = x[i];
        const std::string_view key = x.key(e);
        if (ignored_key(ignore_, key)) continue;
        row_.push_back({key, x.name(e), e.value, e.type == FeatureType::Categorical, e.missing, true});
    }
    for (size_t si = 0; si < steps_.size(); si++) {
        const Step& st = steps_[si];
        switch (st.kind) {
            case StepKind::Select:
                for (Cell& c : row_)
                    if (std::find(st.columns.begin(), st.columns.end(), c.key) == st.columns.end()) c.pass = false;
                break;
            case StepKind::TargetAgg: {
                std::string& k = keys_[si];
                k.clear();
                for (size_t b = 0; b < st.columns.size(); b++) {
                    const Cell* c = find(st.columns[b]);
                    if (!c) missing_column(st.columns[b], "target_agg");
                    if (b) k += kKeySeparator;
                    if (c->missing)
                        k += kNullGroup;
                    else if (c->categorical)
                        k += c->name.substr(std::min(c->name.size(), c->key.size() + 1));
                    else
                        k += number_text(c->value);
                }
                auto it = st.groups.find(k);
                if (learning && it == st.groups.end() && st.groups.size() >= st.max_groups)
                    fail(ErrorKind::ProgramLimit, "the pipeline's target_agg step \"" + message_name(st.output) + "\" has too many groups",
                         "the limit is " + std::to_string(st.max_groups) + " groups (max_groups)",
                         "Raise max_groups (at most " + std::to_string(kMaxMaxGroups) +
                             ", each group costs about 100 bytes of the model) or group by fewer columns.");
                row_.push_back({st.output, st.output, stat_value(st, it == st.groups.end() ? nullptr : &it->second),
                                false, false, true});
                break;
            }
            case StepKind::Scaler: {
                auto& stats = const_cast<Step&>(st).stats;
                // The features of a stream repeat row after row: the previous row's names and
                // their statistics are tried first (the map's elements never move).
                auto& cache = scaler_cache_[si];
                size_t k = 0;
                for (Cell& c : row_) {
                    if (!c.pass || c.categorical || c.missing) continue;
                    Stat* s = nullptr;
                    if (k < cache.size() && cache[k].first == c.name) {
                        s = cache[k].second;
                    } else {
                        std::string& name = scratch();
                        name.assign(c.name);
                        auto it = stats.find(name);
                        if (it == stats.end() && learning) {
                            if (stats.size() >= kMaxScaled)
                                fail(ErrorKind::ProgramLimit, "the pipeline's standard_scaler step has too many features",
                                     "the limit is " + std::to_string(kMaxScaled) + " features");
                            it = stats.emplace(name, Stat{}).first;
                        }
                        s = it == stats.end() ? nullptr : &it->second;
                        if (s) {
                            if (k < cache.size())
                                cache[k] = {std::string(c.name), s};
                            else if (k == cache.size())
                                cache.emplace_back(std::string(c.name), s);
                        }
                    }
                    k++;
                    if (learning) {
                        s->n++;
                        const double d = c.value - s->a;
                        s->a += d / s->n;
                        s->b += d * (c.value - s->a);
                    }
                    if (!s) {
                        c.value = 0;
                        continue;
                    }
                    const double var = s->n > 0 ? s->b / s->n : 0;
                    c.value = var > 0 ? (c.value - s->a) / std::sqrt(var) : 0;
                }
                break;
            }
            case StepKind::DateParts: {
                Cell* src = const_cast<Cell*>(find(st.column));
                if (!src) missing_column(st.column, "date_parts");
                src->pass = false;
                if (src->missing) {
                    // A NULL timestamp: its parts are NULL too (a group of their own for a
                    // target aggregate, a missing feature for the model).
                    for (size_t k = 0; k < st.parts.size(); k++)
                        for (int e = 0; e < 3; e++)
                            if ((e == 0 && st.raw) || (e > 0 && st.cyclic)) {
                                const std::string& n = st.part_names[3 * k + e];
                                row_.push_back({n, n, 0, false, true, true});
                            }
                    break;
                }
                double secs = src->value;
                if (src->categorical) {
                    const std::string_view text = src->name.substr(std::min(src->name.size(), src->key.size() + 1));
                    if (!pipeline::parse_iso8601(text, secs))
                        fail(ErrorKind::InvalidParameter,
                             "the value \"" + message_name(text) + "\" of column \"" + message_name(st.column) +
                                 "\" is not a timestamp",
                             {}, "date_parts reads a timestamp, date or timestamptz column, a number of seconds since "
                                 "1970-01-01 00:00:00, or an ISO-8601 text such as \"2024-03-01T08:30:00Z\".");
                }
                if (!(std::fabs(secs) < 1e14))
                    fail(ErrorKind::NumericRange,
                         "the timestamp " + number_text(secs) + " of column \"" + message_name(st.column) + "\" is out of range",
                         {}, "date_parts reads seconds since 1970-01-01 00:00:00 within about 3 million years of it.");
                const pipeline::DateParts p = pipeline::date_parts(secs);
                for (size_t k = 0; k < st.parts.size(); k++) {
                    const int part = st.parts[k];
                    const double v = part == kHour ? p.hour : part == kWeekday ? p.weekday : part == kMonth ? p.month : p.yearday;
                    const std::string* names = &st.part_names[3 * k];
                    if (st.raw) row_.push_back({names[0], names[0], v, false, false, true});
                    if (st.cyclic) {
                        const double phase = (part == kMonth || part == kYearday ? v - 1 : v) / kPartPeriods[part];
                        const double angle = 2 * M_PI * phase;
                        row_.push_back({names[1], names[1], std::sin(angle), false, false, true});
                        row_.push_back({names[2], names[2], std::cos(angle), false, false, true});
                    }
                }
                break;
            }
            case StepKind::Log:
                for (Cell& c : row_) {
                    if (c.categorical || c.missing) continue;
                    if (std::find(st.columns.begin(), st.columns.end(), c.key) == st.columns.end()) continue;
                    const double arg = c.value + st.offset;
                    if (!(arg > 0))
                        fail(ErrorKind::NumericRange,
                             "the pipeline's log step cannot take the log of feature \"" + message_name(c.name) + "\"",
                             "its value plus the offset is " + number_text(arg) + ", not above 0",
                             "Clip the feature first ({\"clip\": {\"min\": 0}}) or raise \"offset\".");
                    c.value = std::log(arg);
                }
                break;
            case StepKind::Clip:
                for (Cell& c : row_) {
                    if (c.categorical || c.missing) continue;
                    if (!st.columns.empty() && std::find(st.columns.begin(), st.columns.end(), c.key) == st.columns.end())
                        continue;
                    c.value = std::min(std::max(c.value, st.lo), st.hi);
                }
                break;
            case StepKind::Interactions: {
                const size_t n = row_.size();
                for (const auto& [a, b] : st.pairs)
                    for (size_t i = 0; i < n; i++) {
                        if (row_[i].key != a || row_[i].missing) continue;
                        for (size_t j = 0; j < n; j++) {
                            if (row_[j].key != b || row_[j].missing || j == i) continue;
                            if (row_[i].categorical && row_[j].categorical) {
                                // Two categories: a category of the pair ("a*b=x*y"), so that the
                                // other pairs of values are not missing features of the row.
                                const std::string_view vi = row_[i].name.substr(std::min(row_[i].name.size(), row_[i].key.size() + 1));
                                const std::string_view vj = row_[j].name.substr(std::min(row_[j].name.size(), row_[j].key.size() + 1));
                                std::string& name = scratch();
                                name.assign(a).append("*").append(b);
                                const size_t key_len = name.size();
                                name.append("=").append(vi).append("*").append(vj);
                                row_.push_back({std::string_view(name).substr(0, key_len), name, 1.0, true, false, true});
                                continue;
                            }
                            std::string& name = scratch();
                            name.assign(row_[i].name).append("*").append(row_[j].name);
                            const double v = (row_[i].categorical ? 1.0 : row_[i].value) *
                                             (row_[j].categorical ? 1.0 : row_[j].value);
                            if (!std::isfinite(v))
                                fail(ErrorKind::NumericRange, "interaction \"" + message_name(name) + "\" overflows");
                            row_.push_back({name, name, v, false, false, true});
                        }
                    }
                break;
            }
            case StepKind::Binning: {
                Cell* src = const_cast<Cell*>(find(st.column));
                if (!src || src->missing || src->categorical) break;
                const size_t bin = std::upper_bound(st.edges.begin(), st.edges.end(), src->value) - st.edges.begin();
                if (!st.keep) src->pass = false;
                row_.push_back({st.bin_key, st.bin_names[bin], 1.0, true, false, true});
                break;
            }
        }
    }
    obs_.clear();
    for (const Cell& c : row_) {
        if (!c.pass) continue;
        if (c.missing)
            obs_.add_missing(c.name);
        else if (c.categorical)
            obs_.add_category(c.key, c.name.substr(std::min(c.name.size(), c.key.size() + 1)));
        else
            obs_.add_numeric_borrowed(c.name, c.value);
    }
    return obs_;
}

double label_number(const Label& y) {
    if (y.type != Label::Type::Text) return y.number;
    if (y.text == "true") return 1;
    if (y.text == "false") return 0;
    double v = 0;
    parse_number_label(y.text, v);
    return v;
}

void Pipeline::learn(const Observation& x, const Label& y) {
    if (!final_->can_learn()) final_->learn(x, y);  // refuses, naming its kind
    check_label(kind(), task(), y);
    const size_t inputs_before = inputs_.size();
    try {
        inputs_.learn_resolve(input_view(x), ignore_, input_terms_);
        const Observation& t = transform(x, true);
        final_->learn(t, y);
    } catch (...) {
        inputs_.truncate(inputs_before);  // a refused row leaves the model as it was
        throw;
    }
    const double v = label_number(y);
    for (size_t si = 0; si < steps_.size(); si++) {
        Step& st = steps_[si];
        if (st.kind != StepKind::TargetAgg) continue;
        stat_update(st, st.groups[keys_[si]], v);
    }
    updates_++;
    n_seen_++;
}

// ---- storage --------------------------------------------------------------------------------------

template <typename Map>
std::vector<const typename Map::value_type*> sorted(const Map& m) {
    std::vector<const typename Map::value_type*> v;
    v.reserve(m.size());
    for (const auto& e : m) v.push_back(&e);
    std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->first < b->first; });
    return v;
}

const std::unordered_map<std::string, Stat>* state_map(const Step& s) {
    if (s.kind == StepKind::TargetAgg) return &s.groups;
    if (s.kind == StepKind::Scaler) return &s.stats;
    return nullptr;
}

size_t Pipeline::state_size() const {
    size_t n = 0;
    for (const Step& s : steps_)
        if (const auto* m = state_map(s)) {
            n += 8;
            for (const auto& e : *m) n += 4 + e.first.size() + 24;
        }
    return n + (inputs_.empty() ? 0 : inputs_.encoded_size());
}

void Pipeline::write_state(detail::ByteWriter& w) const {
    for (const Step& s : steps_)
        if (const auto* m = state_map(s)) {
            w.put<uint64_t>(m->size());
            for (const auto* e : sorted(*m)) {
                w.put<uint32_t>(static_cast<uint32_t>(e->first.size()));
                w.bytes(e->first.data(), e->first.size());
                w.put<double>(e->second.n);
                w.put<double>(e->second.a);
                w.put<double>(e->second.b);
            }
        }
    // The input columns last, when any were learned (a value stored without them reads back).
    if (!inputs_.empty()) inputs_.encode(w);
}

void Pipeline::read_state(detail::ByteReader& r) {
    scaler_cache_.clear();
    for (Step& s : steps_) {
        if (!state_map(s)) continue;
        auto& m = s.kind == StepKind::TargetAgg ? s.groups : s.stats;
        const auto count = r.get<uint64_t>("pipeline state");
        const uint64_t limit = s.kind == StepKind::TargetAgg ? s.max_groups : kMaxScaled;
        if (count > limit || count > r.remaining() / 28) r.corrupt("too many groups in a pipeline step");
        m.clear();
        for (uint64_t i = 0; i < count; i++) {
            const auto len = r.get<uint32_t>("pipeline state");
            if (len > r.remaining()) r.corrupt("truncated in pipeline state");
            const char* p = reinterpret_cast<const char*>(r.take(len, "pipeline state"));
            Stat st;
            st.n = r.get<double>("pipeline state");
            st.a = r.get<double>("pipeline state");
            st.b = r.get<double>("pipeline state");
            if (!m.emplace(std::string(p, len), st).second) r.corrupt("a pipeline step's key repeats");
        }
    }
    inputs_ = FeatureDictionary(kMaxInputNames, /*bounded=*/true);
    if (r.remaining() != 0) {
        inputs_.decode(r);
        if (inputs_.empty()) r.corrupt("the pipeline's input columns are stored but empty");
    }
}

json Pipeline::state_json() const {
    json out = json::array();
    for (const Step& s : steps_) {
        const auto* m = state_map(s);
        if (!m) {
            out.push_back(nullptr);
            continue;
        }
        json keys = json::array(), vals = json::array();
        for (const auto* e : sorted(*m)) {
            keys.push_back(e->first);
            vals.push_back({e->second.n, e->second.a, e->second.b});
        }
        out.push_back({{"keys", keys}, {"stats", vals}});
    }
    return out;
}

void Pipeline::state_from_json(const json& j) {
    if (!j.is_array() || j.size() != steps_.size())
        bad_json("\"state\" must be an array with one element per step (" + std::to_string(steps_.size()) + ")");
    scaler_cache_.clear();
    for (size_t i = 0; i < steps_.size(); i++) {
        Step& s = steps_[i];
        const json& e = j[i];
        if (!state_map(s)) {
            if (!e.is_null()) bad_json("a step without state has a state");
            continue;
        }
        if (!e.is_object() || e.size() != 2 || !e.contains("keys") || !e.contains("stats") || !e["keys"].is_array() ||
            !e["stats"].is_array() || e["keys"].size() != e["stats"].size())
            bad_json("a step's state must be {\"keys\": [...], \"stats\": [...]} of equal lengths");
        const uint64_t limit = s.kind == StepKind::TargetAgg ? s.max_groups : kMaxScaled;
        if (e["keys"].size() > limit) bad_json("too many groups in a pipeline step");
        auto& m = s.kind == StepKind::TargetAgg ? s.groups : s.stats;
        m.clear();
        for (size_t k = 0; k < e["keys"].size(); k++) {
            const json& key = e["keys"][k];
            const json& v = e["stats"][k];
            if (!key.is_string() || !v.is_array() || v.size() != 3 || !v[0].is_number() || !v[1].is_number() ||
                !v[2].is_number())
                bad_json("a step's state holds a key that is not a string or stats that are not three numbers");
            if (!m.emplace(key.get<std::string>(), Stat{v[0].get<double>(), v[1].get<double>(), v[2].get<double>()}).second)
                bad_json("a pipeline step's key repeats");
        }
    }
}

std::string Pipeline::invalid() const {
    if (updates_ < n_seen_) return "fewer updates than examples seen";
    if (std::string why = inputs_.invalid(); !why.empty()) return why;
    if (final_->identity() != final_identity_) return "the final model is not a model of the pipeline's spec";
    for (const Step& s : steps_)
        if (const auto* m = state_map(s))
            for (const auto& [k, st] : *m) {
                if (!std::isfinite(st.n) || !std::isfinite(st.a) || !std::isfinite(st.b))
                    return "a pipeline step holds a statistic that is not finite";
                if (st.n < 1 || st.n != std::floor(st.n) || st.n > 9007199254740992.0)
                    return "a pipeline step holds a count that is not a positive whole number";
                if (k.size() > 64 * 1024 || !is_valid_utf8(k)) return "a pipeline step holds a key that is not UTF-8";
                if ((s.kind == StepKind::Scaler || s.how == How::Mean || s.how == How::Var) && st.b < 0 &&
                    s.how != How::Min && s.how != How::Max)
                    return "a pipeline step holds a negative sum of squares";
            }
    return {};
}

size_t Pipeline::encoded_size() const {
    const size_t n = kEnvelopeHeaderSize + 8 + pad8(spec_.dump().size()) + 8 + pad8(state_size()) + 8 +
                     pad8(final_->encoded_size());
    if (n > kMaxModelBytes)
        fail(ErrorKind::ProgramLimit, "model is too large to store",
             "it needs " + std::to_string(n) + " bytes; the limit is " + std::to_string(kMaxModelBytes));
    return n;
}

void Pipeline::encode(uint8_t* out, size_t size) const {
    if (std::string why = invalid(); !why.empty()) unstorable("ml_model", why);
    std::string body;
    detail::ByteWriter w(body);
    static const char zeros[8] = {};
    auto blob = [&](const std::string& b) {
        w.put<uint64_t>(b.size());
        w.bytes(b.data(), b.size());
        w.bytes(zeros, pad8(b.size()) - b.size());
    };
    blob(spec_.dump());
    std::string state;
    detail::ByteWriter sw(state);
    write_state(sw);
    blob(state);
    std::string fin(final_->encoded_size(), '\0');
    final_->encode(reinterpret_cast<uint8_t*>(fin.data()), fin.size());
    blob(fin);
    if (kEnvelopeHeaderSize + body.size() != size) fail(ErrorKind::Internal, "model encoder size mismatch");
    EnvelopeHeader h{kModelFormatVersion, kPipeline.code, identity_, updates_, n_seen_, 0, 3, static_cast<uint32_t>(size)};
    write_envelope(out, h);
    std::memcpy(out + kEnvelopeHeaderSize, body.data(), body.size());
    seal_envelope(out, size);
}

std::unique_ptr<Model> Pipeline::decode(const uint8_t* data, size_t size) {
    const EnvelopeHeader h = read_envelope(data, size, "ml_model");
    detail::ByteReader r(data + kEnvelopeHeaderSize, size - kEnvelopeHeaderSize, "ml_model");
    if (h.kind != kPipeline.code || h.sections != 3) r.corrupt("wrong number of sections");
    auto blob = [&](const char* what) {
        const auto len = r.get<uint64_t>(what);
        if (len > r.remaining()) r.corrupt(std::string("truncated in ") + what);
        const uint8_t* p = r.take(len, what);
        const uint8_t* pad = r.take(pad8(len) - len, what);
        for (size_t i = 0; i < pad8(len) - len; i++)
            if (pad[i] != 0) r.corrupt(std::string("padding of ") + what + " is not zero");
        return std::pair<const uint8_t*, size_t>(p, len);
    };
    auto [sp, slen] = blob("spec");
    if (json_too_deep(reinterpret_cast<const char*>(sp), slen, 32)) r.corrupt("spec is nested too deeply");
    const json spec = json::parse(sp, sp + slen, nullptr, false);
    if (spec.is_discarded() || !spec.is_object()) r.corrupt("spec is not a JSON object");
    std::unique_ptr<Model> model;
    try {
        model = pipeline_from_spec(spec);
    } catch (const Error& e) {
        r.corrupt(std::string("bad spec: ") + e.what());
    }
    auto* m = static_cast<Pipeline*>(model.get());
    if (m->spec_.dump() != std::string_view(reinterpret_cast<const char*>(sp), slen)) r.corrupt("spec is not in canonical form");
    if (m->identity_ != h.identity) r.corrupt("identity does not match the spec");
    m->updates_ = h.updates;
    m->n_seen_ = h.n_seen;
    auto [stp, stlen] = blob("pipeline state");
    detail::ByteReader sr(stp, stlen, "ml_model");
    m->read_state(sr);
    sr.expect_end();
    auto [fp, flen] = blob("final model");
    m->final_ = decode_model(fp, flen);
    r.expect_end();
    if (std::string why = m->invalid(); !why.empty()) r.corrupt(why);
    return model;
}

json Pipeline::to_json() const {
    if (std::string why = invalid(); !why.empty()) unstorable("ml_model", why);
    json out = {{"pg_learn_model", kModelFormatVersion},
            {"kind", kind()},
            {"spec", spec_},
            {"identity", hex_identity(identity_)},
            {"updates", updates_},
            {"n_seen", n_seen_},
            {"state", state_json()},
            {"final", final_->to_json()}};
    if (!inputs_.empty()) out["inputs"] = inputs_.to_json();
    return out;
}

std::unique_ptr<Model> Pipeline::from_json(const json& j) {
    static const char* known[] = {"pg_learn_model", "kind", "spec", "identity", "updates", "n_seen", "state", "final"};
    for (auto it = j.begin(); it != j.end(); ++it) {
        bool ok = it.key() == "inputs";  // optional: the input columns, once any were learned
        for (const char* k : known) ok = ok || it.key() == k;
        if (!ok) bad_json("unknown key \"" + message_name(it.key()) + "\"");
    }
    for (const char* k : known)
        if (!j.contains(k)) bad_json(std::string("missing key \"") + k + "\"");
    if (!j["spec"].is_object() || j["spec"].value("model", std::string()) != kPipeline.kind)
        bad_json("\"kind\" does not match the spec");
    std::unique_ptr<Model> model = pipeline_from_spec(j["spec"]);
    auto* m = static_cast<Pipeline*>(model.get());
    if (!j["identity"].is_string() || j["identity"].get<std::string>() != hex_identity(m->identity_))
        bad_json("identity does not match the spec");
    for (const char* k : {"updates", "n_seen"})
        if (!j[k].is_number_unsigned()) bad_json(std::string("\"") + k + "\" must be a non-negative integer");
    m->updates_ = j["updates"].get<uint64_t>();
    m->n_seen_ = j["n_seen"].get<uint64_t>();
    m->state_from_json(j["state"]);
    if (j.contains("inputs")) {
        m->inputs_.from_json(j["inputs"]);
        if (m->inputs_.empty()) bad_json("\"inputs\" is given but empty");
    }
    const json& f = j["final"];
    if (!f.is_object() || !f.contains("pg_learn_model")) bad_json("\"final\" must be a whole model's JSON form");
    m->final_ = model_from_json(f);
    if (std::string why = m->invalid(); !why.empty()) bad_json(why);
    return model;
}

json Pipeline::info() const {
    json steps = json::array();
    for (const Step& s : steps_) {
        json e = {{"step", kStepNames[static_cast<int>(s.kind)]}};
        if (s.kind == StepKind::TargetAgg) {
            e["output"] = s.output;
            e["groups"] = s.groups.size();
            e["max_groups"] = s.max_groups;
        } else if (s.kind == StepKind::Scaler) {
            e["features"] = s.stats.size();
        }
        steps.push_back(e);
    }
    const json fin = final_->info();
    json out = {{"kind", kind()},
                {"task", task_name(task())},
                {"spec", spec_},
                {"identity", hex_identity(identity_)},
                {"updates", updates_},
                {"n_seen", n_seen_},
                {"steps", steps},
                {"final", fin},
                {"size_bytes", encoded_size()}};
    for (const char* k : {"n_features", "features", "classes"})
        if (fin.contains(k)) out[k] = fin[k];
    return out;
}

// ---- specs ----------------------------------------------------------------------------------------

// A final model's spec: {"model": kind, ...} or {kind: {options}}.
json final_spec_of(const json& e) {
    if (e.is_object() && e.contains("model")) return e;
    if (e.is_object() && e.size() == 1 && (e.begin().value().is_object() || e.begin().value().is_null())) {
        json s = e.begin().value().is_object() ? e.begin().value() : json::object();
        if (s.contains("model")) bad_spec("the options of model \"" + message_name(e.begin().key()) + "\" must not set \"model\"");
        s["model"] = e.begin().key();
        return s;
    }
    if (e.is_string()) return json{{"model", e}};
    return nullptr;
}

std::unique_ptr<Model> pipeline_from_spec(const json& spec) {
    if (!spec.is_object()) bad_spec("a pipeline spec must be a JSON object");
    for (auto it = spec.begin(); it != spec.end(); ++it)
        if (it.key() != "model" && it.key() != "pipeline" && it.key() != "steps" && it.key() != "ignore")
            bad_spec("unknown option \"" + message_name(it.key()) + "\" for model \"pipeline\"",
                     "valid options: model, steps (or the key pipeline), ignore (docs/pipelines.md)");
    if (spec.contains("model") && spec["model"] != kPipeline.kind) bad_spec("\"model\" must be \"pipeline\"");
    if (spec.contains("pipeline") && spec.contains("steps")) bad_spec("give the steps once, as \"pipeline\" or as \"steps\"");
    const json* list = spec.contains("pipeline") ? &spec["pipeline"] : spec.contains("steps") ? &spec["steps"] : nullptr;
    if (!list || !list->is_array() || list->empty())
        bad_spec("a pipeline needs its steps and its model, e.g. {\"pipeline\": [\"standard_scaler\", {\"linear_regression\": {}}]}");
    if (list->size() > kMaxSteps + 1) fail(ErrorKind::ProgramLimit, "a pipeline has too many steps", "the limit is " + std::to_string(kMaxSteps));
    std::vector<Step> steps;
    std::unique_ptr<Model> final_model;
    const size_t n = list->size();
    for (size_t i = 0; i < n; i++) {
        const json& e = (*list)[i];
        std::string name;
        json arg;
        if (e.is_string()) {
            name = e.get<std::string>();
        } else if (e.is_object() && e.size() == 1) {
            name = e.begin().key();
            arg = e.begin().value();
        } else if (!(e.is_object() && e.contains("model"))) {
            bad_spec("step " + std::to_string(i + 1) + " must be a step (\"standard_scaler\", {\"target_agg\": {...}}) "
                     "or, last, a model spec");
        }
        const std::string where = " (step " + std::to_string(i + 1) + " of " + std::to_string(n) + ")";
        if (!name.empty() && is_step_name(name)) {
            if (final_model || i + 1 == n)
                bad_spec("step \"" + name + "\" comes after the model" + where,
                         "The model is the last element of a pipeline; its steps come before it.");
            steps.push_back(parse_step(name, arg));
            continue;
        }
        if (name == kPipeline.kind) bad_spec("a pipeline cannot hold a pipeline" + where, "List the steps in one pipeline.");
        const json fs = final_spec_of(e);
        const std::string kind = fs.is_object() && fs["model"].is_string() ? fs["model"].get<std::string>() : name;
        if (fs.is_null() || !family_by_kind(kind))
            bad_spec("unknown step \"" + message_name(kind) + "\"" + where,
                     "Steps: " + step_list() + "; the last element is a model (" + known_kinds() + ").");
        if (kind == kPipeline.kind) bad_spec("a pipeline cannot hold a pipeline" + where, "List the steps in one pipeline.");
        if (i + 1 != n) {
            const json& next = (*list)[i + 1];
            const std::string next_name = next.is_string()                          ? next.get<std::string>()
                                          : next.is_object() && next.size() == 1 ? next.begin().key()
                                                                                 : std::string();
            if (is_step_name(next_name))
                bad_spec("step \"" + next_name + "\" comes after the model (step " + std::to_string(i + 2) + " of " +
                             std::to_string(n) + ")",
                         "The model is the last element of a pipeline; its steps come before it.");
            bad_spec("the model \"" + kind + "\" must be the last element" + where,
                     "The model is the last element of a pipeline; its steps come before it.");
        }
        final_model = model_from_json(fs);
    }
    const Task t = final_model->task();
    for (const Step& s : steps)
        if (s.kind == StepKind::TargetAgg && t != Task::Regression && t != Task::Binary)
            bad_spec(std::string("a target_agg step needs a numeric label, and a ") + final_model->kind() + " model's task is " +
                         task_name(t),
                     "Target aggregates serve regressions and binary classifiers.");
    FamilySpec fam;  // the "ignore" list, read as every family reads it
    json ig = json::object();
    if (spec.contains("ignore")) ig["ignore"] = spec["ignore"];
    fam = parse_family_spec(ig, {});
    return std::make_unique<Pipeline>(std::move(steps), std::move(final_model), std::move(fam.ignore));
}

std::unique_ptr<Model> pipeline_from_json(const json& j) { return Pipeline::from_json(j); }
std::unique_ptr<Model> pipeline_decode(const uint8_t* data, size_t size) { return Pipeline::decode(data, size); }

}  // namespace

namespace pipeline {

std::vector<std::pair<std::string, double>> transformed(const Model& m, const Observation& x) {
    const auto* p = dynamic_cast<const Pipeline*>(&m);
    if (!p) fail(ErrorKind::InvalidParameter, "not a pipeline");
    const Observation& o = p->transform(x, false);
    std::vector<std::pair<std::string, double>> out;
    for (size_t i = 0; i < o.size(); i++) out.emplace_back(std::string(o.name(o[i])), o[i].missing ? NAN : o[i].value);
    return out;
}

}  // namespace pipeline

const std::vector<const ModelFamily*>& pipeline_families() {
    static const std::vector<const ModelFamily*> all = {&kPipeline};
    return all;
}

}  // namespace pg_learn::core
