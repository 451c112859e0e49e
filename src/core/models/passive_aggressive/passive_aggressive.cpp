// The Passive-Aggressive update rules (docs/models.md, "Passive-Aggressive").
#include "core/models/passive_aggressive/passive_aggressive.hpp"

#include "core/common/error.hpp"

#include <cmath>

namespace pg_learn::core {

using nlohmann::json;

namespace {

std::unique_ptr<Model> pa_from_spec(const json& spec);

const ModelFamily kClassifier =
    family_entry("passive_aggressive_classifier", 10, Task::Binary, &pa_from_spec);
const ModelFamily kRegressor = family_entry("passive_aggressive_regressor", 11, Task::Regression, &pa_from_spec);

std::unique_ptr<Model> pa_from_spec(const json& spec) {
    const bool classifier = spec.value("model", std::string()) == kClassifier.kind;
    FamilySpec fs = classifier ? parse_family_spec(spec, {"C", "variant", "fit_intercept"})
                               : parse_family_spec(spec, {"C", "variant", "fit_intercept", "epsilon"});
    fs.options["C"] = number_option(spec, "C", 1.0, 1e-12, 1e12);
    fs.options["variant"] = choice_option(spec, "variant", "pa-i", {"pa", "pa-i", "pa-ii"});
    fs.options["fit_intercept"] = boolean_option(spec, "fit_intercept", true);
    if (!classifier) fs.options["epsilon"] = number_option(spec, "epsilon", 0.1, 0.0, 1e300);
    return std::make_unique<PassiveAggressive>(classifier ? kClassifier : kRegressor, std::move(fs));
}

inline double sigmoid(double z) {
    const double e = std::exp(-std::fabs(z));
    return (z >= 0 ? 1.0 : e) / (1.0 + e);
}

}  // namespace

const std::vector<const ModelFamily*>& passive_aggressive_families() {
    static const std::vector<const ModelFamily*> all = {&kClassifier, &kRegressor};
    return all;
}

PassiveAggressive::PassiveAggressive(const ModelFamily& family, FamilySpec spec)
    : FamilyModel(family, std::move(spec)), classifier_(&family == &kClassifier) {
    const json& o = options();
    c_ = o["C"].get<double>();
    const std::string v = o["variant"].get<std::string>();
    variant_ = v == "pa" ? Variant::PA : v == "pa-i" ? Variant::PA1 : Variant::PA2;
    fit_intercept_ = o["fit_intercept"].get<bool>();
    epsilon_ = classifier_ ? 0.0 : o["epsilon"].get<double>();
}

void PassiveAggressive::assign(const Model& other) {
    const auto* o = dynamic_cast<const PassiveAggressive*>(&other);
    if (!o) fail(ErrorKind::Internal, "assigning a model of another family");
    *this = *o;
}

double PassiveAggressive::score(const std::vector<FeatureTerm>& x) const {
    double z = b_;
    for (const FeatureTerm& t : x) z += w_[t.index] * t.value;
    return z;
}

double PassiveAggressive::decision(const Observation& x) const {
    features().resolve(x, ignored(), scratch_);
    return score(scratch_);
}

double PassiveAggressive::decision_dense(const double* x, size_t n) const {
    check_dense_input(x, n, dense_dim());
    features().resolve_dense(x, n, ignored(), scratch_);
    return score(scratch_);
}

double PassiveAggressive::predict_terms(const std::vector<FeatureTerm>& x) const {
    const double z = score(x);
    // A classifier has no probabilities: its score through the logistic function, above 0.5
    // exactly when the margin is positive (docs/models.md).
    return classifier_ ? sigmoid(z) : z;
}

void PassiveAggressive::learn_terms(const std::vector<FeatureTerm>& x, double y_number, uint32_t y_class) {
    const double p = score(x);
    double sqnorm = 0;
    for (const FeatureTerm& t : x) sqnorm += t.value * t.value;
    // The loss and the direction of the step: the hinge loss of a margin y.p (y = -1 or +1), or
    // the epsilon-insensitive loss of a regression.
    double loss, direction;
    if (classifier_) {
        direction = y_class == 1 ? 1.0 : -1.0;
        loss = std::max(0.0, 1.0 - direction * p);
    } else {
        loss = std::max(0.0, std::fabs(y_number - p) - epsilon_);
        direction = y_number - p < 0 ? -1.0 : 1.0;
    }
    if (loss == 0.0) return;  // passive
    double tau = 0;
    switch (variant_) {
        case Variant::PA:
            if (sqnorm == 0.0) return;
            tau = loss / sqnorm;
            break;
        case Variant::PA1:
            if (sqnorm == 0.0) return;
            tau = std::min(c_, loss / sqnorm);
            break;
        case Variant::PA2: tau = loss / (sqnorm + 0.5 / c_); break;
    }
    const double step = tau * direction;
    // Every new value is checked before any is written: an example that would overflow a weight
    // is refused and the model stays as it was.
    if (!std::isfinite(step) || (fit_intercept_ && !std::isfinite(b_ + step)))
        fail(ErrorKind::NumericRange, "model diverged: a weight is no longer finite",
             {}, "Scale the features or lower C.");
    for (const FeatureTerm& t : x)
        if (!std::isfinite(w_[t.index] + step * t.value))
            fail(ErrorKind::NumericRange, "model diverged: a weight is no longer finite",
                 "feature \"" + features().name(t.index) + "\"", "Scale the features or lower C.");
    for (const FeatureTerm& t : x) w_[t.index] += step * t.value;
    if (fit_intercept_) b_ += step;
}

void PassiveAggressive::merge_state(const FamilyModel& other_model, const std::vector<uint32_t>& feature_map,
                                    const std::vector<uint32_t>&, const FamilyModel* base_model) {
    // Example-weighted average of the parameters, each partial model weighted by the examples it
    // learned since the base (docs/models.md, "Combining partial models").
    const auto& other = static_cast<const PassiveAggressive&>(other_model);
    const auto* base = static_cast<const PassiveAggressive*>(base_model);
    const double base_n = base ? double(base->n_seen()) : 0.0;
    const double na = std::max(0.0, double(n_seen()) - base_n), nb = std::max(0.0, double(other.n_seen()) - base_n);
    if (na + nb == 0) return;
    const double fa = na / (na + nb), fb = nb / (na + nb);
    std::vector<double> wb(w_.size(), 0.0);
    // A feature one side never learned holds that side's starting value: the base's, or zero.
    if (base)
        for (size_t i = 0; i < base->w_.size(); i++) wb[features().find(base->features().name(i))] = base->w_[i];
    std::vector<double> other_w = wb;
    for (size_t i = 0; i < feature_map.size(); i++) other_w[feature_map[i]] = other.w_[i];
    for (size_t i = 0; i < w_.size(); i++) w_[i] = fa * w_[i] + fb * other_w[i];
    b_ = fa * b_ + fb * other.b_;
}

void PassiveAggressive::write_state(detail::ByteWriter& w) const {
    w.put<double>(b_);
    w.put<uint64_t>(w_.size());
    w.bytes(w_.data(), 8 * w_.size());
}

void PassiveAggressive::read_state(detail::ByteReader& r) {
    b_ = r.get<double>("state");
    const auto n = r.get<uint64_t>("state");
    if (n != features().size() || n > r.remaining() / 8) r.corrupt("weight count does not match the features");
    w_.resize(n);
    r.bytes(w_.data(), 8 * n, "weights");
}

json PassiveAggressive::state_json() const { return {{"intercept", b_}, {"weights", w_}}; }

void PassiveAggressive::state_from_json(const json& j) {
    auto bad = [](const std::string& why) { fail(ErrorKind::InvalidParameter, "invalid ml_model: " + why); };
    if (!j.is_object() || j.size() != 2 || !j.contains("intercept") || !j.contains("weights"))
        bad("\"state\" must be an object with the keys \"intercept\" and \"weights\"");
    if (!j["intercept"].is_number()) bad("\"intercept\" must be a number");
    b_ = j["intercept"].get<double>();
    const json& w = j["weights"];
    if (!w.is_array() || w.size() != features().size()) bad("\"weights\" must hold one number per feature");
    for (size_t i = 0; i < w.size(); i++) {
        if (!w[i].is_number()) bad("\"weights\" must hold one number per feature");
        w_[i] = w[i].get<double>();
    }
}

std::string PassiveAggressive::invalid_state() const {
    if (w_.size() != features().size()) return "weight count does not match the features";
    if (!std::isfinite(b_)) return "intercept is not finite";
    for (double v : w_)
        if (!std::isfinite(v)) return "a weight is not finite";
    if (!fit_intercept_ && b_ != 0.0) return "intercept of a model without one is not zero";
    return {};
}

// ---- issue 16: explanations ---------------------------------------------------------------------

void PassiveAggressive::explain_terms(const std::vector<FeatureTerm>& x, Explanation& out) const {
    out.clear();
    out.method = "exact_linear";
    out.scale = classifier_ ? "log_odds" : "value";
    out.base.assign(1, b_);
    for (const FeatureTerm& t : x) {
        out.features.push_back(features().name(t.index));
        out.values.push_back(t.value);
        out.contributions.push_back(w_[t.index] * t.value);
    }
}

void PassiveAggressive::importance(FeatureImportance& out) const {
    out.kind = "abs_weight";
    out.features = features().names();
    out.importance.resize(w_.size());
    for (size_t i = 0; i < w_.size(); i++) out.importance[i] = std::fabs(w_[i]);
}

json PassiveAggressive::info_extra() const {
    json weights = json::object();
    for (size_t i = 0; i < w_.size(); i++) weights[features().name(i)] = w_[i];
    return {{"intercept", b_}, {"weights", weights}};
}

}  // namespace pg_learn::core
