// The settings of feature-mismatch checking and their warnings and errors (feature_check.hpp).
#include "pg/common/feature_check.hpp"

extern "C" {
#include "access/xact.h"
#include "storage/proc.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
}

#include <string>
#include <vector>

#include "core/common/text.hpp"

namespace pg_learn::pg {

using core::FeatureCheck;

bool g_feature_check_on = true;

namespace {

enum Level { kIgnore = 0, kWarn = 1, kError = 2 };

const struct config_enum_entry kLevels[] = {
    {"ignore", kIgnore, false}, {"warn", kWarn, false}, {"error", kError, false}, {nullptr, 0, false}};

int g_unknown_features = kWarn;    // unknown features and type mismatches
int g_missing_features = kWarn;
int g_unknown_categories = kIgnore;  // new values of a known category are common: counted only

bool any_on() { return g_unknown_features != kIgnore || g_missing_features != kIgnore || g_unknown_categories != kIgnore; }

// Assign hooks run before the variable takes its new value (on SET, RESET and at the end of a
// transaction that rolls a SET back): g_feature_check_on is computed with it.
void unknown_features_set(int v, void*) {
    g_feature_check_on = v != kIgnore || g_missing_features != kIgnore || g_unknown_categories != kIgnore;
}
void missing_features_set(int v, void*) {
    g_feature_check_on = g_unknown_features != kIgnore || v != kIgnore || g_unknown_categories != kIgnore;
}
void unknown_categories_set(int v, void*) {
    g_feature_check_on = g_unknown_features != kIgnore || g_missing_features != kIgnore || v != kIgnore;
}

// The kinds of mismatch in the order their errors and warnings are chosen.
enum class Kind { Mismatch, Unknown, Missing, Category };

int level_of(Kind k) {
    switch (k) {
        case Kind::Mismatch:
        case Kind::Unknown: return g_unknown_features;
        case Kind::Missing: return g_missing_features;
        case Kind::Category: return g_unknown_categories;
    }
    return kIgnore;
}

const char* setting_of(Kind k) {
    switch (k) {
        case Kind::Mismatch:
        case Kind::Unknown: return "pg_learn.unknown_features";
        case Kind::Missing: return "pg_learn.missing_features";
        case Kind::Category: return "pg_learn.unknown_categories";
    }
    return "";
}

uint32_t count_of(const FeatureCheck& c, Kind k) {
    switch (k) {
        case Kind::Mismatch: return c.type_mismatches;
        case Kind::Unknown: return c.unknown_features;
        case Kind::Missing: return c.missing_features;
        case Kind::Category: return c.unknown_categories;
    }
    return 0;
}

std::string in_quotes(std::string_view s) { return "\"" + core::message_name(s) + "\""; }

std::string plural(uint32_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

// "1 unknown feature and 2 missing features": what the prediction has.
std::string counts_text(const FeatureCheck& c) {
    std::vector<std::string> parts;
    auto add = [&](uint32_t n, const char* one, const char* many) {
        if (n != 0) parts.push_back(plural(n, one, many));
    };
    add(c.unknown_features, "unknown feature", "unknown features");
    add(c.type_mismatches, "feature of the wrong type", "features of the wrong type");
    add(c.missing_features, "missing feature", "missing features");
    add(c.unknown_categories, "unknown category", "unknown categories");
    std::string out;
    for (size_t i = 0; i < parts.size(); i++) {
        if (i > 0) out += i + 1 == parts.size() ? " and " : ", ";
        out += parts[i];
    }
    return out;
}

struct Message {
    std::string message, detail, hint;
};

Message message_of(const core::Model& model, const FeatureCheck& c, Kind k) {
    Message m;
    std::string suggestion;
    switch (k) {
        case Kind::Mismatch:
            if (c.mismatch_is_string) {
                m.message = "feature " + in_quotes(c.mismatch) + " is a string but the model learned it as a number";
                m.detail = "The string " + in_quotes(c.mismatch_value) + " is a category the model never learned, so the "
                           "prediction is made without the feature.";
                m.hint = "Send the value as a number (a JSON number, or a numeric column).";
            } else {
                m.message = "feature " + in_quotes(c.mismatch) + " is a number but the model learned it as a category";
                m.detail = "The model learned strings for this feature, so the prediction is made without it.";
                m.hint = "Send the value as a string (a JSON string, or a text column).";
            }
            break;
        case Kind::Unknown:
            m.message = "feature " + in_quotes(c.unknown_feature) + " is unknown to the model";
            m.detail = "The model never learned a feature of this name: the prediction ignores it.";
            suggestion = model.closest_feature(c.unknown_feature);
            if (!suggestion.empty()) m.hint = "Did you mean " + in_quotes(suggestion) + "?";
            break;
        case Kind::Missing:
            m.message = "feature " + in_quotes(c.missing_feature) + " is missing";
            m.detail = "The model learned this feature: the prediction is made without it.";
            m.hint = "Give every feature the model learned (a NULL value is scored by the spec's \"missing\" policy).";
            break;
        case Kind::Category:
            m.message = "feature " + in_quotes(c.category_key) + " has the value " + in_quotes(c.category_value) +
                        ", which the model never learned";
            m.detail = "The prediction is made without the feature.";
            suggestion = model.closest_feature(c.category_key + "=" + c.category_value);
            if (!suggestion.empty() && suggestion.size() > c.category_key.size())
                m.hint = "Did you mean " + in_quotes(std::string_view(suggestion).substr(c.category_key.size() + 1)) + "?";
            break;
    }
    m.detail += " This prediction has " + counts_text(c) + ".";
    return m;
}

// The warnings of one statement: the first prediction with a mismatch warned about, then the
// 10th, the 100th, ... (a trigger or an UPDATE over a million rows gives 7 warnings, not a million).
struct Warned {
    LocalTransactionId lxid = InvalidLocalTransactionId;
    TimestampTz statement = 0;
    uint64_t predictions = 0;
};
Warned g_warned;

bool due_for_warning(uint64_t& nth) {
    const LocalTransactionId lxid = MyProc ? MyProc->lxid : InvalidLocalTransactionId;
    const TimestampTz statement = GetCurrentStatementStartTimestamp();
    if (g_warned.lxid != lxid || g_warned.statement != statement) g_warned = Warned{lxid, statement, 0};
    nth = ++g_warned.predictions;
    for (uint64_t p = 1; p <= nth; p *= 10)
        if (p == nth) return true;
    return false;
}

// The server's log gets one of these warnings per backend per minute at most (the client gets
// every one the statement limit lets through): an application inserting a million rows one
// statement at a time into a table whose trigger scores them must not flood the log. The
// monitoring views count every mismatch.
TimestampTz g_last_logged = 0;
constexpr int64 kLogEveryUsec = 60 * USECS_PER_SEC;

int warning_level() {
    const TimestampTz now = GetCurrentTimestamp();
    if (g_last_logged != 0 && now - g_last_logged < kLogEveryUsec) return WARNING_CLIENT_ONLY;
    g_last_logged = now;
    return WARNING;
}

std::string ordinal(uint64_t n) { return std::to_string(n) + (n == 1 ? "st" : "th"); }

FeatureCheck g_check;  // reused by every scored row

}  // namespace

void define_feature_check_settings() {
    DefineCustomEnumVariable(
        "pg_learn.unknown_features",
        "What scoring does with a feature the model never learned, or one of the wrong type.",
        "ignore, warn (a WARNING for the first such prediction of a statement, then for the 10th, 100th, ...) "
        "or error (SQLSTATE 22023).",
        &g_unknown_features, kWarn, kLevels, PGC_USERSET, 0, nullptr, unknown_features_set, nullptr);
    DefineCustomEnumVariable(
        "pg_learn.missing_features",
        "What scoring does when a feature the model learned is absent.",
        "ignore, warn or error, as pg_learn.unknown_features. A NULL value is not absent: the spec's "
        "\"missing\" policy scores it.",
        &g_missing_features, kWarn, kLevels, PGC_USERSET, 0, nullptr, missing_features_set, nullptr);
    DefineCustomEnumVariable(
        "pg_learn.unknown_categories",
        "What scoring does with a value of a categorical feature that the model never learned.",
        "ignore (the default: new values are common; they are counted in the prediction log), warn or error.",
        &g_unknown_categories, kIgnore, kLevels, PGC_USERSET, 0, nullptr, unknown_categories_set, nullptr);
    MarkGUCPrefixReserved("pg_learn");
    g_feature_check_on = any_on();
}

void report_feature_check(const core::Model& model, const FeatureCheck& c, const core::Observation& obs) {
    if (!c.any()) return;
    const Kind kinds[] = {Kind::Mismatch, Kind::Unknown, Kind::Missing, Kind::Category};
    Kind chosen = Kind::Mismatch;
    int chosen_level = kIgnore;
    for (Kind k : kinds)
        if (count_of(c, k) != 0 && level_of(k) > chosen_level) {
            chosen = k;
            chosen_level = level_of(k);
        }
    if (chosen_level == kIgnore) return;
    uint64_t nth = 0;
    if (chosen_level == kWarn && !due_for_warning(nth)) return;
    const FeatureCheck* named = &c;
    FeatureCheck with_missing;
    if (chosen == Kind::Missing && c.missing_feature.empty()) {
        model.check_features(obs, with_missing, /*name_missing=*/true);
        named = &with_missing;
    }
    Message m = message_of(model, *named, chosen);
    const std::string setting = setting_of(chosen);
    if (chosen_level == kError) {
        if (!m.hint.empty()) m.hint += " ";
        m.hint += "Setting " + setting + " to 'warn' or 'ignore' lets such predictions through.";
        core::fail(core::ErrorKind::InvalidParameter, m.message, m.detail, m.hint);
    }
    if (nth == 1)
        m.detail += " Further predictions of this statement with a feature mismatch are warned about at the 10th, "
                    "100th, 1000th, ... of them.";
    else
        m.message = "the " + ordinal(nth) + " prediction of this statement with a feature mismatch: " + m.message;
    if (!m.hint.empty()) m.hint += " ";
    m.hint += "Setting " + setting + " to 'error' refuses such predictions, to 'ignore' silences this.";
    pg_guard([&]() {
        ereport(warning_level(), (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", m.message.c_str()),
                                  errdetail("%s", m.detail.c_str()), errhint("%s", m.hint.c_str())));
    });
}

void check_scored_slow(const core::Model& model, const core::Observation& obs) {
    model.check_features(obs, g_check);
    report_feature_check(model, g_check, obs);
}

void check_scored_dense_slow(const core::Model& model, size_t n) {
    model.check_features_dense(n, g_check);
    static const core::Observation empty;
    report_feature_check(model, g_check, empty);
}

}  // namespace pg_learn::pg
