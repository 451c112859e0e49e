// Parsing and printing of model specs, with one clear error per bad option.
#include "core/models/linear/spec.hpp"

#include "core/common/error.hpp"
#include "core/common/text.hpp"

#include <cmath>
#include <cstring>

namespace pg_learn::core {

using nlohmann::json;

const char* model_kind_name(ModelKind kind) {
    switch (kind) {
        case ModelKind::LinearRegression: return "linear_regression";
        case ModelKind::LogisticRegression: return "logistic_regression";
        case ModelKind::SoftmaxRegression: return "softmax_regression";
    }
    return "unknown";
}

bool model_kind_from_name(std::string_view name, ModelKind& kind) {
    for (ModelKind k : {ModelKind::LinearRegression, ModelKind::LogisticRegression, ModelKind::SoftmaxRegression})
        if (name == model_kind_name(k)) {
            kind = k;
            return true;
        }
    return false;
}

const char* optimizer_name(OptimizerKind kind) {
    switch (kind) {
        case OptimizerKind::Sgd: return "sgd";
        case OptimizerKind::AdaGrad: return "adagrad";
        case OptimizerKind::Adam: return "adam";
        case OptimizerKind::Ftrl: return "ftrl";
    }
    return "unknown";
}

const char* missing_policy_name(MissingPolicy policy) {
    switch (policy) {
        case MissingPolicy::Zero: return "zero";
        case MissingPolicy::Mean: return "mean";
        case MissingPolicy::Error: return "error";
    }
    return "unknown";
}

bool ModelSpec::ignores(const char* name, size_t len) const {
    for (const auto& s : ignore)
        if (s.size() == len && std::memcmp(s.data(), name, len) == 0) return true;
    return false;
}

namespace {

[[noreturn]] void bad_option(const std::string& what, const std::string& detail = {},
                             const std::string& hint = {}) {
    fail(ErrorKind::InvalidParameter, what, detail,
         hint.empty() ? "See docs/algorithms.md for the options of each model and optimizer." : hint);
}

const char* json_type(const json& v) { return v.type_name(); }

// A number as the user gave it: integers exactly, other numbers in their shortest exact
// decimal form. JSON text cannot hold an infinity (the parser refuses 1e400), but a json built
// in memory can, and json::dump() would print it as null.
std::string given_number(const json& v) {
    if (v.is_number_integer()) return v.dump();  // signed or unsigned, every digit
    const double d = v.get<double>();
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "infinity" : "-infinity";
    std::string s = format_double(d);
    // a JSON float with an integral value (24.0) is not the integer 24
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
}

double number_option(const json& obj, const char* key, double dflt, const std::string& where,
                     double lo, double hi, bool lo_open) {
    auto it = obj.find(key);
    if (it == obj.end()) return dflt;
    if (!it->is_number())
        bad_option("option \"" + where + key + "\" must be a number, not " + json_type(*it));
    double v = it->get<double>();
    if (!std::isfinite(v) || v < lo || v > hi || (lo_open && v == lo))
        bad_option("option \"" + where + key + "\" must be " + (lo_open ? "greater than " : "at least ") +
                       format_double(lo) + " and at most " + format_double(hi),
                   "got " + given_number(*it));
    return v;
}

void reject_unknown(const json& obj, std::initializer_list<const char*> known,
                    const std::string& where) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        bool ok = false;
        for (const char* k : known)
            if (it.key() == k) ok = true;
        if (!ok) {
            std::string list;
            for (const char* k : known) list += std::string(list.empty() ? "" : ", ") + k;
            bad_option("unknown option \"" + where + message_name(it.key()) + "\"", "known options: " + list);
        }
    }
}

OptimizerSpec parse_optimizer(const json& j, SpecDefaults defaults) {
    OptimizerSpec o;
    std::string name;
    json params = json::object();
    if (j.is_string()) {
        name = j.get<std::string>();
    } else if (j.is_object() && j.size() == 1) {
        name = j.begin().key();
        params = j.begin().value();
        if (params.is_null()) params = json::object();
        if (!params.is_object())
            bad_option("options of optimizer \"" + message_name(name) + "\" must be a JSON object, not " +
                       json_type(params));
    } else {
        bad_option("option \"optimizer\" must be a name or an object with one key",
                   "e.g. \"adam\" or {\"sgd\": {\"lr\": 0.01}}");
    }
    const std::string where = "optimizer." + name + ".";
    if (name == "sgd") {
        o.kind = OptimizerKind::Sgd;
        reject_unknown(params, {"lr"}, where);
        o.lr = number_option(params, "lr", 0.01, where, 0, 1e6, true);
    } else if (name == "adagrad") {
        o.kind = OptimizerKind::AdaGrad;
        reject_unknown(params, {"lr", "eps"}, where);
        o.lr = number_option(params, "lr", 0.1, where, 0, 1e6, true);
        o.eps = number_option(params, "eps", 1e-8, where, 0, 1, true);
    } else if (name == "adam") {
        o.kind = OptimizerKind::Adam;
        reject_unknown(params, {"lr", "beta1", "beta2", "eps"}, where);
        // Adam at 0.1 (river's default, and 0.1.0's) overshoots on standardised features; a new
        // spec gets 0.01 (docs/algorithms.md, "Defaults").
        o.lr = number_option(params, "lr", defaults == SpecDefaults::Current ? 0.01 : 0.1, where, 0, 1e6, true);
        o.beta1 = number_option(params, "beta1", 0.9, where, 0, 0.999999999, false);
        o.beta2 = number_option(params, "beta2", 0.999, where, 0, 0.999999999, false);
        o.eps = number_option(params, "eps", 1e-8, where, 0, 1, true);
    } else if (name == "ftrl") {
        o.kind = OptimizerKind::Ftrl;
        reject_unknown(params, {"alpha", "beta", "l1", "l2"}, where);
        o.alpha = number_option(params, "alpha", 0.05, where, 0, 1e6, true);
        o.beta = number_option(params, "beta", 1.0, where, 0, 1e6, false);
        o.l1 = number_option(params, "l1", 0.0, where, 0, 1e6, false);
        o.l2 = number_option(params, "l2", 1.0, where, 0, 1e6, false);
    } else {
        bad_option("unknown optimizer \"" + message_name(name) + "\"", "known optimizers: sgd, adagrad, adam, ftrl");
    }
    return o;
}

}  // namespace

ModelSpec ModelSpec::from_json(const json& j, SpecDefaults defaults) {
    if (!j.is_object()) bad_option("a model spec must be a JSON object, not " + std::string(json_type(j)));
    ModelSpec s;
    auto m = j.find("model");
    if (m == j.end())
        bad_option("a model spec needs the key \"model\"",
                   "e.g. {\"model\": \"logistic_regression\"}");
    if (!m->is_string()) bad_option("option \"model\" must be a string, not " + std::string(json_type(*m)));
    const std::string kind = m->get<std::string>();
    if (!model_kind_from_name(kind, s.kind))
        bad_option("unknown model \"" + message_name(kind) + "\"", "known models: linear_regression, logistic_regression, softmax_regression");

    reject_unknown(j, {"model", "optimizer", "l1", "l2", "intercept_init", "intercept_lr",
                       "clip_gradient", "scale", "scale_target", "check_divergence", "hash_bits",
                       "missing", "ignore"}, "");
    const bool current = defaults == SpecDefaults::Current;
    // This release's defaults (docs/algorithms.md, "Defaults"): standardised features, AdaGrad,
    // a regression's label standardised too, and the divergence check. A stored spec lacks
    // only options its release did not have, which default to that release's behaviour.
    auto bool_option = [&](const char* key, bool dflt) {
        auto it = j.find(key);
        if (it == j.end()) return dflt;
        if (!it->is_boolean())
            bad_option(std::string("option \"") + key + "\" must be true or false, not " + json_type(*it));
        return it->get<bool>();
    };
    if (auto o = j.find("optimizer"); o != j.end()) s.optimizer = parse_optimizer(*o, defaults);
    else if (current) s.optimizer = parse_optimizer(json("adagrad"), defaults);
    s.scale = bool_option("scale", current);
    const bool regression = s.kind == ModelKind::LinearRegression;
    s.scale_target = bool_option("scale_target", current && regression);
    if (s.scale_target && !regression)
        bad_option("option \"scale_target\" applies to linear_regression only",
                   "a " + kind + " learns classes, not numbers");
    s.check_divergence = bool_option("check_divergence", current);
    s.l1 = number_option(j, "l1", 0.0, "", 0, 1e6, false);
    s.l2 = number_option(j, "l2", 0.0, "", 0, 1e6, false);
    s.intercept_init = number_option(j, "intercept_init", 0.0, "", -1e12, 1e12, false);
    // With a standardised label the intercept sits near 0 and only needs small corrections: a
    // large step there is noise in every prediction (docs/algorithms.md, "Defaults").
    s.intercept_lr = number_option(j, "intercept_lr", current && s.scale_target ? 0.001 : 0.01, "", 0, 1e6, false);
    s.clip_gradient = number_option(j, "clip_gradient", 1e12, "", 0, 1e300, true);
    if (s.optimizer.kind == OptimizerKind::Ftrl && (s.l1 != 0 || s.l2 != 0))
        bad_option("options \"l1\" and \"l2\" do not apply to the ftrl optimizer",
                   {}, "Set them inside the optimizer: {\"ftrl\": {\"l1\": 1.0, \"l2\": 1.0}}.");
    if (auto it = j.find("hash_bits"); it != j.end()) {
        const std::string range = "an integer between 0 and " + std::to_string(kMaxHashBits);
        if (!it->is_number())
            bad_option("option \"hash_bits\" must be " + range + ", not " + std::string(json_type(*it)));
        // an unsigned above INT64_MAX would wrap in get<int64_t>: compare in its own type
        if (!it->is_number_integer() || (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(kMaxHashBits)) ||
            it->get<int64_t>() < 0 || it->get<int64_t>() > kMaxHashBits)
            bad_option("option \"hash_bits\" must be " + range, "got " + given_number(*it));
        auto b = it->get<int64_t>();
        s.hash_bits = static_cast<int>(b);
    }
    if (auto it = j.find("missing"); it != j.end()) {
        if (!it->is_string()) bad_option("option \"missing\" must be a string, not " + std::string(json_type(*it)));
        const auto p = it->get<std::string>();
        if (p == "zero") s.missing = MissingPolicy::Zero;
        else if (p == "mean") s.missing = MissingPolicy::Mean;
        else if (p == "error") s.missing = MissingPolicy::Error;
        else bad_option("unknown missing-value policy \"" + message_name(p) + "\"", "known policies: zero, mean, error");
    }
    if (auto it = j.find("ignore"); it != j.end()) {
        if (!it->is_array()) bad_option("option \"ignore\" must be an array of feature names");
        if (it->size() > kMaxIgnoredNames) fail(ErrorKind::ProgramLimit, "option \"ignore\" lists too many names");
        for (const auto& v : *it) {
            if (!v.is_string()) bad_option("option \"ignore\" must hold only strings");
            s.ignore.push_back(v.get<std::string>());
        }
    }
    return s;
}

json ModelSpec::to_json() const {
    json o;
    switch (optimizer.kind) {
        case OptimizerKind::Sgd: o = {{"sgd", {{"lr", optimizer.lr}}}}; break;
        case OptimizerKind::AdaGrad: o = {{"adagrad", {{"lr", optimizer.lr}, {"eps", optimizer.eps}}}}; break;
        case OptimizerKind::Adam:
            o = {{"adam", {{"lr", optimizer.lr}, {"beta1", optimizer.beta1}, {"beta2", optimizer.beta2},
                           {"eps", optimizer.eps}}}};
            break;
        case OptimizerKind::Ftrl:
            o = {{"ftrl", {{"alpha", optimizer.alpha}, {"beta", optimizer.beta}, {"l1", optimizer.l1},
                           {"l2", optimizer.l2}}}};
            break;
    }
    json j = {{"model", model_kind_name(kind)},
              {"optimizer", o},
              {"l1", l1},
              {"l2", l2},
              {"intercept_init", intercept_init},
              {"intercept_lr", intercept_lr},
              {"clip_gradient", clip_gradient},
              {"scale", scale},
              {"scale_target", scale_target},
              {"check_divergence", check_divergence},
              {"hash_bits", hash_bits},
              {"missing", missing_policy_name(missing)}};
    j["ignore"] = ignore;
    return j;
}

std::string ModelSpec::canonical_text() const {
    json j = to_json();
    // Options later than release 0.1.0, at their stored default (false), are left out.
    if (!scale_target) j.erase("scale_target");
    if (!check_divergence) j.erase("check_divergence");
    return j.dump();
}

}  // namespace pg_learn::core
