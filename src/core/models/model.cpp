// The model contract's shared parts: tasks, classes of labels, and dispatch to the families.
#include "core/models/model.hpp"

#include "core/common/envelope.hpp"
#include "core/common/error.hpp"
#include "core/common/partial_states.hpp"
#include "core/common/text.hpp"
#include "core/models/families.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pg_learn::core {

using nlohmann::json;

const char* task_name(Task task) {
    switch (task) {
        case Task::Regression: return "regression";
        case Task::Binary: return "binary";
        case Task::Multiclass: return "multiclass";
        case Task::Clustering: return "clustering";
        case Task::Anomaly: return "anomaly";
    }
    return "unknown";
}

bool task_by_name(std::string_view name, Task& out) {
    for (Task t : {Task::Regression, Task::Binary, Task::Multiclass, Task::Clustering, Task::Anomaly})
        if (name == task_name(t)) {
            out = t;
            return true;
        }
    return false;
}

namespace {

[[noreturn]] void no_classes(const Model& m) {
    fail(ErrorKind::InvalidParameter,
         std::string("a ") + m.kind() + " model has no classes (its task is " + task_name(m.task()) + ")",
         {}, "ml_predict_class and ml_predict_proba take classifiers; use ml_predict_one.");
}

}  // namespace

const std::vector<std::string>& Model::classes() const { no_classes(*this); }
void Model::predict_proba(const Observation&, std::vector<double>&) const { no_classes(*this); }
void Model::predict_proba_dense(const double*, size_t, std::vector<double>&) const { no_classes(*this); }

// Issue 16: the kinds without explanations refuse, naming the kind and the kinds that explain.
namespace {
[[noreturn]] void no_explanations(const Model& m, const char* what) {
    fail(ErrorKind::FeatureNotSupported, std::string("models of kind \"") + m.kind() + "\" have no " + what, {},
         "Explanations are offered by linear_regression, logistic_regression, softmax_regression, "
         "passive_aggressive_classifier, passive_aggressive_regressor, hoeffding_tree_classifier, "
         "hoeffding_tree_regressor, xgboost, ensembles of these, and pipelines and partitioned models over them "
         "(docs/explanations.md).");
}
}  // namespace

void Model::explain(const Observation&, Explanation&) const { no_explanations(*this, "explanations (ml_explain)"); }
void Model::explain_dense(const double*, size_t, Explanation&) const {
    no_explanations(*this, "explanations (ml_explain)");
}
void Model::importance(FeatureImportance&) const { no_explanations(*this, "feature importance (ml_importance)"); }

const ModelFamily* family_by_kind(std::string_view kind) {
    for (const ModelFamily* f : model_families())
        if (kind == f->kind) return f;
    return nullptr;
}

const ModelFamily* family_by_code(uint16_t code) {
    for (const ModelFamily* f : model_families())
        if (code == f->code) return f;
    return nullptr;
}

std::string known_kinds() {
    std::string s;
    for (const ModelFamily* f : model_families()) {
        // A kind whose task follows its spec registers one entry per task (bagging_classifier):
        // named once.
        if (family_by_kind(f->kind) != f) continue;
        if (!s.empty()) s += ", ";
        s += f->kind;
    }
    return s;
}

std::unique_ptr<Model> decode_model(const uint8_t* data, size_t size) {
    const EnvelopeHeader h = read_envelope(data, size, "ml_model", /*check_sum=*/false);
    const ModelFamily* f = family_by_code(h.kind);
    if (!f) fail(ErrorKind::InvalidBinary, "invalid binary ml_model: unknown model kind " + std::to_string(h.kind));
    return f->decode(data, size);
}

std::unique_ptr<Model> merge_partial_models(PartialStates& parts) {
    if (parts.empty()) fail(ErrorKind::Internal, "no partial model to merge");
    const std::vector<PartialStates::Bytes>& s = parts.sorted();
    std::unique_ptr<Model> acc = decode_model(s[0].data(), s[0].size());
    for (size_t i = 1; i < s.size(); i++) acc->merge(*decode_model(s[i].data(), s[i].size()));
    return acc;
}

namespace {

constexpr int kMaxJsonDepth = 32;

// Text that did not parse: says why when the reason is not a syntax error.
[[noreturn]] void explain_bad_text(const char* text, size_t len) {
    const std::string_view sv(text, len);
    if (size_t at = utf8_invalid_offset(sv); at != len)
        fail(ErrorKind::InvalidText, "invalid input syntax for type ml_model: not valid UTF-8",
             "the byte at offset " + std::to_string(at) + " does not start a valid UTF-8 character");
    // nlohmann/json refuses a number beyond the range of a double ("number overflow parsing
    // '1e400'") rather than reading it as infinity; parse again to learn which one.
    try {
        [[maybe_unused]] json again = json::parse(text, text + len);
    } catch (const json::out_of_range& e) {
        const std::string what = e.what();
        const size_t open = what.find('\''), close = what.rfind('\'');
        if (e.id == 406 && open != std::string::npos && close > open) {
            const std::string number = what.substr(open + 1, close - open - 1);
            fail(ErrorKind::NumericRange,
                 "number \"" + message_name(number) + "\" is out of range for type double precision");
        }
    } catch (const json::exception&) {
    }
    fail(ErrorKind::InvalidText, "invalid input syntax for type ml_model: not valid JSON", {},
         "A fresh model is written as a spec, e.g. '{\"model\":\"logistic_regression\"}'.");
}

}  // namespace

std::unique_ptr<Model> model_from_json(const json& j) {
    if (!j.is_object())
        fail(ErrorKind::InvalidParameter, std::string("ml_model text must be a JSON object, not ") + j.type_name());
    // A whole model names its format version and kind; a spec names its model (the messages
    // for a spec are those of the spec parsers, docs/algorithms.md).
    const bool whole = j.contains("pg_learn_model");
    const std::string spec_hint = "See docs/algorithms.md for the options of each model and optimizer.";
    auto it = j.find(whole ? "kind" : "model");
    // A pipeline's spec may name its steps by the key "pipeline" alone ({"pipeline": [...]}).
    if (it == j.end() && !whole && j.contains("pipeline"))
        if (const ModelFamily* f = family_by_kind("pipeline")) return f->from_spec(j);
    if (it == j.end()) {
        if (whole) fail(ErrorKind::InvalidParameter, "invalid ml_model: missing key \"kind\"");
        fail(ErrorKind::InvalidParameter, "a model spec needs the key \"model\"",
             "e.g. {\"model\": \"logistic_regression\"}", spec_hint);
    }
    if (!it->is_string()) {
        if (whole) fail(ErrorKind::InvalidParameter, "invalid ml_model: \"kind\" does not match the spec");
        fail(ErrorKind::InvalidParameter, std::string("option \"model\" must be a string, not ") + it->type_name(),
             {}, spec_hint);
    }
    const std::string& kind = it->get_ref<const std::string&>();
    const ModelFamily* f = family_by_kind(kind);
    if (!f) {
        if (whole) fail(ErrorKind::InvalidParameter, "invalid ml_model: \"kind\" does not match the spec");
        fail(ErrorKind::InvalidParameter, "unknown model \"" + message_name(kind) + "\"",
             "known models: " + known_kinds(), spec_hint);
    }
    if (whole) {
        const json& ver = j["pg_learn_model"];
        if (ver.is_number_unsigned() && ver.get<uint64_t>() > kModelFormatVersion)
            fail(ErrorKind::InvalidParameter,
                 "ml_model format version " + ver.dump() + " is newer than this pg_learn reads",
                 "this build reads format versions up to " + std::to_string(kModelFormatVersion),
                 "The value was written by a newer pg_learn: upgrade the extension to read it.");
        return f->from_json(j);
    }
    return f->from_spec(j);
}

std::unique_ptr<Model> model_from_text(const char* text, size_t len) {
    check_json_depth(text, len, kMaxJsonDepth, "ml_model");
    json j = json::parse(text, text + len, nullptr, false);
    if (j.is_discarded()) explain_bad_text(text, len);
    return model_from_json(j);
}

bool parse_number_label(std::string_view text, double& out) {
    if (text.empty() || text.size() > 64 || std::isspace(static_cast<unsigned char>(text[0]))) return false;
    char buf[65];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(buf, &end);
    if (end != buf + text.size() || errno == ERANGE) return false;
    out = v;
    return true;
}

void check_label(std::string_view kind, Task task, const Label& y) {
    const std::string k(kind);
    if (learns_without_labels(task)) {
        if (y.type == Label::Type::None) return;
        fail(ErrorKind::InvalidParameter, "a " + k + " model learns without labels",
             std::string("Its task is ") + task_name(task) + ".",
             "Leave the label out: ml_fit_one(model, x), ml_fit(spec, x), or ml_train with a query returning "
             "only the features.");
    }
    if (y.type == Label::Type::None)
        fail(ErrorKind::InvalidParameter, "a " + k + " model needs a label to learn",
             std::string("Its task is ") + task_name(task) + "; only clustering and anomaly models learn without labels.",
             "Give the label: ml_fit_one(model, x, y) or ml_fit(spec, x, y).");
    switch (task) {
        case Task::Regression:
        case Task::Binary: {
            if (y.type == Label::Type::Text) {
                if (task == Task::Binary && (y.text == "true" || y.text == "false")) return;
                // A number written as text ('0.5', 'NaN') is that number.
                double v;
                if (parse_number_label(y.text, v)) return check_label(kind, task, Label::of_number(v));
                if (task == Task::Binary)
                    fail(ErrorKind::InvalidParameter,
                         "label \"" + message_name(y.text) + "\" is not a class of a binary classifier",
                         {}, "Labels of " + k + " must be 0 or 1 (false or true).");
                fail(ErrorKind::InvalidParameter, "a " + k + " model cannot learn a text label",
                     {}, "Its labels are numbers; classes are learned by classifiers such as softmax_regression.");
            }
            // A boolean is a class: a regression on it is almost always the wrong model.
            if (task == Task::Regression && y.type == Label::Type::Boolean)
                fail(ErrorKind::InvalidParameter, "a " + k + " model cannot learn a boolean label", {},
                     "Its labels are numbers; a boolean is a class, learned by a classifier such as "
                     "logistic_regression. To regress on it anyway, cast the label to a number (y::int).");
            const double v = y.number;
            if (!std::isfinite(v))
                fail(ErrorKind::NumericRange, std::string("label is ") + (std::isnan(v) ? "NaN" : "infinite"));
            if (task == Task::Binary && v != 0.0 && v != 1.0) {
                char buf[64];
                snprintf(buf, sizeof buf, "%.17g", v);
                fail(ErrorKind::InvalidParameter, std::string("label ") + buf + " is not a class of a binary classifier",
                     {}, "Labels of " + k + " must be 0 or 1 (false or true).");
            }
            return;
        }
        case Task::Multiclass: class_of_label(y); return;
        case Task::Clustering:
        case Task::Anomaly: return;  // (checked above)
    }
}

nlohmann::json model_info(const Model& m) {
    nlohmann::json out = m.info();
    const bool trained = !m.can_learn() || m.n_seen() > 0;
    out["trained"] = trained;
    // (the SQL of ml_attach and ml_deploy asks it: may a table's timestamp columns be features)
    if (m.reads_timestamps()) out["reads_timestamps"] = true;
    if (!trained)
        out["note"] = learns_without_labels(m.task())
                          ? "this model has seen no example yet: it predicts from its initial values"
                          : "this model has seen no labelled example yet: it predicts from its initial values";
    return out;
}

std::string class_of_label(const Label& y) {
    switch (y.type) {
        case Label::Type::Boolean: return y.number != 0 ? "true" : "false";
        case Label::Type::Number: {
            const double v = y.number;
            if (!std::isfinite(v))
                fail(ErrorKind::NumericRange, std::string("label is ") + (std::isnan(v) ? "NaN" : "infinite"));
            if (v != std::floor(v) || std::fabs(v) >= 9007199254740992.0) {
                char buf[64];
                snprintf(buf, sizeof buf, "%.17g", v);
                fail(ErrorKind::InvalidParameter, std::string("label ") + buf + " is not a class",
                     {}, "A class is text, a boolean or a whole number.");
            }
            char buf[32];
            snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
            return buf;
        }
        case Label::Type::None: fail(ErrorKind::InvalidParameter, "a class label is missing");
        case Label::Type::Text: break;
    }
    const std::string_view s = y.text;
    if (s.empty()) fail(ErrorKind::InvalidParameter, "class must not be empty", {}, "A class is a non-empty text.");
    if (s.size() > kMaxClassNameBytes)
        fail(ErrorKind::ProgramLimit, "class name is too long",
             "it has " + std::to_string(s.size()) + " bytes; the limit is " + std::to_string(kMaxClassNameBytes));
    if (size_t at = utf8_invalid_offset(s); at != s.size())
        fail(ErrorKind::InvalidText, "class name is not valid UTF-8");
    if (s.find('\0') != std::string_view::npos) fail(ErrorKind::InvalidText, "class name contains a NUL byte");
    return std::string(s);
}

}  // namespace pg_learn::core
