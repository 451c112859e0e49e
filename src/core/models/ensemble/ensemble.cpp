// Online bagging (Oza & Russell 2001) of a multiclass or binary classifier or a regressor, and the Adaptive Random Forest classifier (Gomes et al.
// 2017), docs/models.md "Ensembles".
//
// The members are whole models (the contract of core/models/model.hpp), made from a spec. The
// ensemble resolves each example through its own feature dictionary (its "ignore" list, its
// feature checks) and gives the members the example rebuilt from those terms: the same names
// and values, without the ignored keys and the missing values. Each member learns it k times,
// k ~ Poisson(lambda) drawn from the ensemble's generator, whose state is part of the model: a
// replay of the same rows gives the same model, byte for byte.
//
// A member that refuses an example fails the example with its error; the ensemble's counters,
// classes and generator do not move. The members share one spec, so a refusal that depends on
// the row alone comes from the first member that learns it and nothing changed; one that depends
// on a member's state (a linear member diverging) leaves the members learned before it with the
// example. The contract allows it (a refused learn() may have changed the model):
// every SQL path discards the value on error, and ml_learn_pending restores its snapshot.
#include "core/models/ensemble/ensemble.hpp"

#include "core/common/error.hpp"
#include "core/common/text.hpp"
#include "core/drift/detectors.hpp"
#include "core/models/common/family_model.hpp"
#include "core/models/common/nested_models.hpp"
#include "core/models/families.hpp"

#include <cmath>
#include <string>
#include <unordered_map>

namespace pg_learn::core {

using nlohmann::json;

namespace ensemble {

uint64_t next_u64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double next_uniform(uint64_t& state) { return static_cast<double>(next_u64(state) >> 11) * 0x1.0p-53; }

uint32_t next_poisson(uint64_t& state, double lambda) {
    const double limit = std::exp(-lambda);
    uint32_t k = 0;
    double p = next_uniform(state);
    while (p > limit && k < 1000) {
        k++;
        p *= next_uniform(state);
    }
    return k;
}

}  // namespace ensemble

namespace {

using ensemble::next_poisson;
using ensemble::next_u64;

constexpr int64_t kMaxMembers = 100;
constexpr int64_t kMaxSeed = (int64_t(1) << 53) - 1;
const char* const kTreeKind = "hoeffding_tree_classifier";

std::unique_ptr<Model> ensemble_from_spec(const json& spec);

const ModelFamily kBaggingClassifier = family_entry("bagging_classifier", 40, Task::Multiclass, &ensemble_from_spec);
const ModelFamily kBaggingRegressor = family_entry("bagging_regressor", 41, Task::Regression, &ensemble_from_spec);
const ModelFamily kArf = family_entry("adaptive_random_forest_classifier", 42, Task::Multiclass, &ensemble_from_spec);
// Bagging of a binary classifier (logistic regression, the PA classifier): the same spec kind, a
// binary model (its probability is the members' mean), so its own code. A spec names
// "bagging_classifier"; its base's task picks this entry or kBaggingClassifier.
const ModelFamily kBaggingBinary = family_entry("bagging_classifier", 43, Task::Binary, &ensemble_from_spec);

bool is_ensemble_kind(const std::string& k) {
    return k == kBaggingClassifier.kind || k == kBaggingRegressor.kind || k == kArf.kind;
}

[[noreturn]] void bad_spec(const std::string& why, const std::string& hint = {}) {
    fail(ErrorKind::InvalidParameter, "invalid model spec: " + why, {}, hint);
}
[[noreturn]] void bad_json(const std::string& why) { fail(ErrorKind::InvalidParameter, "invalid ml_model: " + why); }

using nested::encode_model;
using nested::get_blob;
using nested::put_blob;

DriftDetector adwin(double delta) { return DriftDetector::create("adwin", json{{"delta", delta}}.dump()); }

class Ensemble final : public FamilyModel {
public:
    // Issue 16: the mean of the members' importances (members of one kind measure alike).
    void importance(FeatureImportance& out) const override;
    Ensemble(const ModelFamily& family, FamilySpec spec) : FamilyModel(family, std::move(spec)) {
        const json& o = options();
        arf_ = &family == &kArf;
        n_ = static_cast<size_t>(o["n_models"].get<int64_t>());
        lambda_ = o["lambda"].get<double>();
        rng_ = static_cast<uint64_t>(o["seed"].get<int64_t>());
        if (arf_) {
            delta_warning_ = o["delta_warning"].get<double>();
            delta_drift_ = o["delta_drift"].get<double>();
            tree_spec_ = o["tree"];
            tree_spec_["model"] = kTreeKind;
            tree_spec_["max_features"] = o["max_features"];
        } else {
            base_spec_ = o["base"];
            base_identity_ = model_from_json(base_spec_)->identity();
        }
        for (size_t i = 0; i < n_; i++) members_.push_back(new_member(rng_));
        if (arf_) {
            background_.resize(n_);
            warnings_.assign(n_, 0);
            drifts_.assign(n_, 0);
            for (size_t i = 0; i < n_; i++) {
                warn_.push_back(adwin(delta_warning_));
                drift_.push_back(adwin(delta_drift_));
            }
        }
    }

    Ensemble(const Ensemble& o)
        : FamilyModel(o), arf_(o.arf_), n_(o.n_), lambda_(o.lambda_), delta_warning_(o.delta_warning_),
          delta_drift_(o.delta_drift_), base_spec_(o.base_spec_), tree_spec_(o.tree_spec_),
          base_identity_(o.base_identity_), rng_(o.rng_), members_(clone_all(o.members_)),
          background_(clone_all(o.background_)), warn_(o.warn_), drift_(o.drift_), warnings_(o.warnings_),
          drifts_(o.drifts_) {}

    Ensemble& operator=(const Ensemble& o) {
        if (this == &o) return *this;
        FamilyModel::operator=(o);
        arf_ = o.arf_;
        n_ = o.n_;
        lambda_ = o.lambda_;
        delta_warning_ = o.delta_warning_;
        delta_drift_ = o.delta_drift_;
        base_spec_ = o.base_spec_;
        tree_spec_ = o.tree_spec_;
        base_identity_ = o.base_identity_;
        rng_ = o.rng_;
        members_ = clone_all(o.members_);
        background_ = clone_all(o.background_);
        warn_ = o.warn_;
        drift_ = o.drift_;
        warnings_ = o.warnings_;
        drifts_ = o.drifts_;
        return *this;
    }

    std::unique_ptr<Model> clone() const override { return std::make_unique<Ensemble>(*this); }
    void assign(const Model& other) override {
        const auto* o = dynamic_cast<const Ensemble*>(&other);
        if (!o) fail(ErrorKind::Internal, "assigning a model of another family");
        *this = *o;
    }
    // (the members are models of the base spec: a pipeline's, say)
    bool reads_timestamps() const override { return members_[0]->reads_timestamps(); }
    bool features_learn_labels() const override { return members_[0]->features_learn_labels(); }
    // Bagging merges member by member when its base merges; the forest's trees do not.
    bool can_merge() const override { return !arf_ && members_[0]->can_merge(); }
    void begin_aggregation() override {
        FamilyModel::begin_aggregation();
        for (auto& m : members_) m->begin_aggregation();
    }
    void end_aggregation() override {
        FamilyModel::end_aggregation();
        for (auto& m : members_) m->end_aggregation();
    }
    void set_epoch(uint32_t epoch) override {
        for (auto& m : members_) m->set_epoch(epoch);
    }

protected:
    void learn_terms(const std::vector<FeatureTerm>& x, double y_number, uint32_t y_class) override;
    double predict_terms(const std::vector<FeatureTerm>& x) const override;
    void proba_terms(const std::vector<FeatureTerm>& x, std::vector<double>& p) const override;
    // Issue 16: the mean of the members' explanations, where the ensemble's prediction is that
    // mean (a regression's value, a multiclass forest's probabilities); refused otherwise.
    void explain_terms(const std::vector<FeatureTerm>& x, Explanation& out) const override;
    void merge_state(const FamilyModel& other, const std::vector<uint32_t>&, const std::vector<uint32_t>&,
                     const FamilyModel*) override;
    void write_state(detail::ByteWriter& w) const override;
    void read_state(detail::ByteReader& r) override;
    json state_json() const override;
    void state_from_json(const json& j) override;
    std::string invalid_state() const override;
    json info_extra() const override;

private:
    static std::vector<std::unique_ptr<Model>> clone_all(const std::vector<std::unique_ptr<Model>>& v) {
        std::vector<std::unique_ptr<Model>> out;
        out.reserve(v.size());
        for (const auto& m : v) out.push_back(m ? m->clone() : nullptr);
        return out;
    }
    // A fresh member: the base spec's model, or a tree whose feature subsets are seeded from rng.
    std::unique_ptr<Model> new_member(uint64_t& rng) const {
        if (!arf_) return model_from_json(base_spec_);
        json t = tree_spec_;
        t["seed"] = static_cast<int64_t>(next_u64(rng) >> 11);
        return model_from_json(t);
    }
    // Why a decoded member is not one this ensemble makes ("" when it is).
    std::string invalid_member(const Model& m) const;
    const Observation& observation(const std::vector<FeatureTerm>& x) const;
    // The class a member predicts ("" while it knows none).
    const std::string& member_class(const Model& m, const Observation& x) const;

    bool arf_ = false;
    size_t n_ = 0;
    double lambda_ = 1;
    double delta_warning_ = 0, delta_drift_ = 0;
    json base_spec_, tree_spec_;
    uint64_t base_identity_ = 0;
    // State.
    uint64_t rng_ = 0;
    std::vector<std::unique_ptr<Model>> members_;
    // The forest's: per member, its background tree (null: none), its detectors on its 0/1
    // errors, and how many warnings and drifts they signalled.
    std::vector<std::unique_ptr<Model>> background_;
    std::vector<DriftDetector> warn_, drift_;
    std::vector<uint64_t> warnings_, drifts_;
    mutable Observation obs_;
    mutable std::vector<double> q_;
};

// ---- learning and prediction ---------------------------------------------------------------------

const Observation& Ensemble::observation(const std::vector<FeatureTerm>& x) const {
    obs_.clear();
    const FeatureDictionary& d = features();
    for (const FeatureTerm& t : x) {
        const std::string& name = d.name(t.index);
        const size_t eq = name.find('=');
        if (d.type(t.index) == FeatureType::Categorical && eq != std::string::npos)
            obs_.add_category(std::string_view(name).substr(0, eq), std::string_view(name).substr(eq + 1));
        else
            obs_.add_numeric_borrowed(name, t.value);
    }
    return obs_;
}

const std::string& Ensemble::member_class(const Model& m, const Observation& x) const {
    static const std::string none;
    if (m.n_seen() == 0) return none;
    m.predict_proba(x, q_);
    const auto& names = m.classes();
    if (q_.empty() || names.size() != q_.size()) return none;
    size_t best = 0;
    for (size_t i = 1; i < q_.size(); i++)
        if (q_[i] > q_[best]) best = i;
    return names[best];
}

void Ensemble::learn_terms(const std::vector<FeatureTerm>& x, double y_number, uint32_t y_class) {
    const Observation& obs = observation(x);
    const bool classifier = task() == Task::Multiclass;
    if (classifier && y_class >= class_dictionary().size()) fail(ErrorKind::Internal, "class index out of range");
    if (task() == Task::Binary && y_class > 1) fail(ErrorKind::Internal, "binary class index out of range");
    const std::string& name = classifier ? class_dictionary().names()[y_class] : std::string();
    // A binary member learns 0 or 1, whatever spelling (true, '1', 1) the ensemble was given.
    const Label y = classifier ? Label::of_text(name)
                               : Label::of_number(task() == Task::Binary ? static_cast<double>(y_class) : y_number);
    uint64_t rng = rng_;  // committed once every member learned
    if (!arf_) {
        for (size_t i = 0; i < n_; i++) {
            const uint32_t k = next_poisson(rng, lambda_);
            for (uint32_t j = 0; j < k; j++) members_[i]->learn(obs, y);
        }
        rng_ = rng;
        return;
    }
    // The forest (river's ARFClassifier.learn_one): each tree's error is judged before it learns.
    for (size_t i = 0; i < n_; i++) {
        const bool wrong = member_class(*members_[i], obs) != name;
        const uint32_t k = next_poisson(rng, lambda_);
        if (k == 0) continue;
        for (uint32_t j = 0; j < k; j++) {
            if (background_[i]) background_[i]->learn(obs, y);
            members_[i]->learn(obs, y);
        }
        const double err = wrong ? 1.0 : 0.0;
        warn_[i].update(err);
        if (warn_[i].drift()) {
            background_[i] = new_member(rng);
            warn_[i] = adwin(delta_warning_);
            warnings_[i]++;
        }
        drift_[i].update(err);
        if (drift_[i].drift()) {
            members_[i] = background_[i] ? std::move(background_[i]) : new_member(rng);
            background_[i].reset();
            warn_[i] = adwin(delta_warning_);
            drift_[i] = adwin(delta_drift_);
            drifts_[i]++;
        }
    }
    rng_ = rng;
}

double Ensemble::predict_terms(const std::vector<FeatureTerm>& x) const {
    if (task() == Task::Multiclass) return FamilyModel::predict_terms(x);  // refuses, naming ml_predict_class
    const Observation& obs = observation(x);
    double s = 0;
    if (task() == Task::Regression) {
        for (const auto& m : members_) s += m->predict(obs);
        return s / static_cast<double>(n_);
    }
    // Binary: the mean of the members' probabilities of class 1, over the members that learned
    // (as the multiclass ensemble averages only those); before any learned, over all of them.
    size_t n = 0;
    for (const auto& m : members_)
        if (m->n_seen() > 0) {
            s += m->predict(obs);
            n++;
        }
    if (n > 0) return s / static_cast<double>(n);
    for (const auto& m : members_) s += m->predict(obs);
    return s / static_cast<double>(n_);
}

void Ensemble::proba_terms(const std::vector<FeatureTerm>& x, std::vector<double>& p) const {
    if (task() == Task::Binary) return FamilyModel::proba_terms(x, p);  // 1 - p1, p1
    const Observation& obs = observation(x);
    const ClassDictionary& classes = class_dictionary();
    p.assign(classes.size(), 0.0);
    double total = 0;
    // The members' probabilities by class name: each learned the classes in its own order.
    for (const auto& m : members_) {
        if (m->n_seen() == 0) continue;
        m->predict_proba(obs, q_);
        const auto& names = m->classes();
        for (size_t j = 0; j < q_.size() && j < names.size(); j++) {
            const uint32_t c = classes.find(Label::of_text(names[j]));
            if (c == UINT32_MAX || !std::isfinite(q_[j])) continue;
            p[c] += q_[j];
            total += q_[j];
        }
    }
    if (p.empty()) return;
    if (total > 0)
        for (double& v : p) v /= total;
    else
        for (double& v : p) v = 1.0 / static_cast<double>(p.size());
}

// ---- issue 16: explanations ---------------------------------------------------------------------
// A bagging regressor predicts the mean of its members' values, a multiclass ensemble the sum of
// its learned members' probabilities of each class divided by their total (1 per member): both
// are linear in the members' predictions, so the same mean of the members' explanations adds up
// to the ensemble's prediction exactly. A binary ensemble averages probabilities whose members
// (logistic regressions, passive-aggressive classifiers) explain another scale: refused.
void Ensemble::explain_terms(const std::vector<FeatureTerm>& x, Explanation& out) const {
    if (task() == Task::Binary)
        fail(ErrorKind::FeatureNotSupported,
             std::string("a binary ") + kind() + " has no explanations",
             "It averages its members' probabilities, while its members explain their log-odds: the mean of their "
             "explanations would not add up to its prediction.",
             "Explain one member (its spec's kind), or use a bagging_regressor or a multiclass ensemble.");
    const Observation& obs = observation(x);
    out.clear();
    out.method = "mean_of_members";
    const bool classifier = task() == Task::Multiclass;
    const ClassDictionary& classes = class_dictionary();
    const size_t k = classifier ? classes.size() : 1;
    if (classifier && k == 0)
        fail(ErrorKind::InvalidParameter, std::string("a ") + kind() + " that learned no class has nothing to explain");
    out.features = features().names();
    out.values.assign(out.features.size(), std::nan(""));
    for (const FeatureTerm& t : x)
        if (t.index < out.values.size()) out.values[t.index] = t.value;
    std::unordered_map<std::string, size_t> at;
    for (size_t j = 0; j < out.features.size(); j++) at.emplace(out.features[j], j);
    // Sums by output (class) and feature, then divided once.
    std::vector<std::vector<double>> sums(k, std::vector<double>(out.features.size(), 0.0));
    std::vector<double> base(k, 0.0);
    double total = 0;
    Explanation e;
    std::string scale;
    for (const auto& m : members_) {
        if (classifier && m->n_seen() == 0) continue;
        m->explain(obs, e);
        if (scale.empty()) scale = e.scale;
        if (e.scale != scale || (classifier && e.scale != "probability") || (!classifier && e.scale != "value"))
            fail(ErrorKind::FeatureNotSupported,
                 std::string("this ") + kind() + " has no explanations: its members explain their " + e.scale +
                     ", not the " + (classifier ? "probabilities" : "values") + " it averages",
                 {}, "Explain one member (its spec's kind) instead.");
        const size_t nf = e.features.size();
        std::vector<size_t> fidx(nf);
        for (size_t j = 0; j < nf; j++) {
            auto [it, fresh] = at.emplace(e.features[j], out.features.size());
            if (fresh) {
                out.features.push_back(e.features[j]);
                out.values.push_back(e.values[j]);
                for (auto& row : sums) row.push_back(0.0);
            }
            fidx[j] = it->second;
        }
        const size_t outputs = e.outputs.empty() ? 1 : e.outputs.size();
        for (size_t o = 0; o < outputs; o++) {
            size_t c = 0;
            if (classifier) {
                c = classes.find(Label::of_text(e.outputs[o]));
                if (c == UINT32_MAX) continue;
            }
            double sum = e.base[o];
            base[c] += e.base[o];
            for (size_t j = 0; j < nf; j++) {
                sums[c][fidx[j]] += e.contributions[o * nf + j];
                sum += e.contributions[o * nf + j];
            }
            if (std::isfinite(sum)) total += sum;
        }
    }
    // The divisor proba_terms uses: the members' probabilities summed (a regression: n members).
    double div = classifier ? total : static_cast<double>(n_);
    out.scale = classifier ? "probability" : "value";
    if (classifier) out.outputs = classes.names();
    const size_t nf = out.features.size();
    out.base.assign(k, 0.0);
    out.contributions.assign(k * nf, 0.0);
    if (!(div > 0)) {  // no member learned: the uniform probabilities
        for (size_t c = 0; c < k; c++) out.base[c] = 1.0 / static_cast<double>(k);
        return;
    }
    for (size_t c = 0; c < k; c++) {
        out.base[c] = base[c] / div;
        for (size_t j = 0; j < nf; j++) out.contributions[c * nf + j] = sums[c][j] / div;
    }
}

void Ensemble::importance(FeatureImportance& out) const {
    out.kind.clear();
    out.features = features().names();
    out.importance.assign(out.features.size(), 0.0);
    std::unordered_map<std::string, size_t> at;
    for (size_t j = 0; j < out.features.size(); j++) at.emplace(out.features[j], j);
    FeatureImportance m;
    for (const auto& member : members_) {
        member->importance(m);
        if (out.kind.empty()) out.kind = m.kind;
        for (size_t j = 0; j < m.features.size() && j < m.importance.size(); j++) {
            auto [it, fresh] = at.emplace(m.features[j], out.features.size());
            if (fresh) {
                out.features.push_back(m.features[j]);
                out.importance.push_back(0.0);
            }
            out.importance[it->second] += m.importance[j] / static_cast<double>(members_.size());
        }
    }
}

void Ensemble::merge_state(const FamilyModel& other_model, const std::vector<uint32_t>&, const std::vector<uint32_t>&,
                           const FamilyModel*) {
    // Member i with the other part's member i (each merges as its own kind does, counting the
    // aggregation base once); the generator continues from both parts' states.
    const auto& other = static_cast<const Ensemble&>(other_model);
    for (size_t i = 0; i < n_; i++) members_[i]->merge(*other.members_[i]);
    uint64_t s = rng_ ^ other.rng_;
    rng_ = next_u64(s);
}

// ---- storage -------------------------------------------------------------------------------------

std::string Ensemble::invalid_member(const Model& m) const {
    if (!arf_) return m.identity() == base_identity_ ? "" : "a member is not a model of the base spec";
    if (std::string(m.kind()) != kTreeKind) return "a member is not a Hoeffding tree classifier";
    json spec = m.info()["spec"];
    spec.erase("seed");
    return spec == tree_spec_ ? "" : "a member is not a tree of the forest's spec";
}

void Ensemble::write_state(detail::ByteWriter& w) const {
    w.put<uint32_t>(static_cast<uint32_t>(n_));
    w.put<uint32_t>(arf_ ? 1 : 0);
    w.put<uint64_t>(rng_);
    for (const auto& m : members_) put_blob(w, encode_model(*m));
    if (!arf_) return;
    for (size_t i = 0; i < n_; i++) {
        w.put<uint64_t>(warnings_[i]);
        w.put<uint64_t>(drifts_[i]);
        put_blob(w, warn_[i].encode());
        put_blob(w, drift_[i].encode());
        w.put<uint64_t>(background_[i] ? 1 : 0);
        if (background_[i]) put_blob(w, encode_model(*background_[i]));
    }
}

void Ensemble::read_state(detail::ByteReader& r) {
    if (r.get<uint32_t>("ensemble") != n_) r.corrupt("member count does not match the spec");
    if (r.get<uint32_t>("ensemble") != (arf_ ? 1u : 0u)) r.corrupt("ensemble flags do not match the kind");
    rng_ = r.get<uint64_t>("ensemble");
    auto member = [&](const char* what) {
        auto [p, len] = get_blob(r, what);
        std::unique_ptr<Model> m = decode_model(p, len);
        if (std::string why = invalid_member(*m); !why.empty()) r.corrupt(why);
        return m;
    };
    auto detector = [&](double delta) {
        auto [p, len] = get_blob(r, "detector");
        DriftDetector d = DriftDetector::decode(p, len);
        if (d.kind() != DetectorKind::Adwin || d.options().delta != delta) r.corrupt("a detector is not the forest's ADWIN");
        return d;
    };
    members_.clear();
    for (size_t i = 0; i < n_; i++) members_.push_back(member("member"));
    if (!arf_) return;
    warn_.clear();
    drift_.clear();
    for (size_t i = 0; i < n_; i++) {
        warnings_[i] = r.get<uint64_t>("ensemble");
        drifts_[i] = r.get<uint64_t>("ensemble");
        warn_.push_back(detector(delta_warning_));
        drift_.push_back(detector(delta_drift_));
        const auto has = r.get<uint64_t>("ensemble");
        if (has > 1) r.corrupt("background flag is not 0 or 1");
        background_[i] = has ? member("background member") : nullptr;
    }
}

json Ensemble::state_json() const {
    json members = json::array();
    for (const auto& m : members_) members.push_back(m->to_json());
    json out = {{"rng", rng_}, {"members", members}};
    if (!arf_) return out;
    json w = json::array(), d = json::array(), bg = json::array();
    for (size_t i = 0; i < n_; i++) {
        w.push_back(json::parse(warn_[i].to_text()));
        d.push_back(json::parse(drift_[i].to_text()));
        bg.push_back(background_[i] ? background_[i]->to_json() : json());
    }
    out["warnings"] = warnings_;
    out["drifts"] = drifts_;
    out["warning_detectors"] = w;
    out["drift_detectors"] = d;
    out["background"] = bg;
    return out;
}

void Ensemble::state_from_json(const json& j) {
    const size_t keys = arf_ ? 7 : 2;
    if (!j.is_object() || j.size() != keys || !j.contains("rng") || !j.contains("members"))
        bad_json(arf_ ? "\"state\" must be an object with the keys rng, members, warnings, drifts, "
                        "warning_detectors, drift_detectors and background"
                      : "\"state\" must be an object with the keys \"rng\" and \"members\"");
    if (!j["rng"].is_number_unsigned()) bad_json("\"rng\" must be a non-negative integer");
    rng_ = j["rng"].get<uint64_t>();
    auto member = [&](const json& mj) {
        if (!mj.is_object() || !mj.contains("pg_learn_model")) bad_json("a member must be a whole model's JSON form");
        std::unique_ptr<Model> m = model_from_json(mj);
        if (std::string why = invalid_member(*m); !why.empty()) bad_json(why);
        return m;
    };
    auto array_of_n = [&](const char* key) -> const json& {
        if (!j.contains(key) || !j[key].is_array() || j[key].size() != n_)
            bad_json(std::string("\"") + key + "\" must be an array of " + std::to_string(n_) + " elements");
        return j[key];
    };
    const json& ms = array_of_n("members");
    members_.clear();
    for (const auto& mj : ms) members_.push_back(member(mj));
    if (!arf_) return;
    const json &w = array_of_n("warnings"), &d = array_of_n("drifts"), &wd = array_of_n("warning_detectors"),
               &dd = array_of_n("drift_detectors"), &bg = array_of_n("background");
    warn_.clear();
    drift_.clear();
    auto detector = [&](const json& dj, double delta) {
        const std::string text = dj.dump();
        DriftDetector det = DriftDetector::from_text(text);
        if (det.kind() != DetectorKind::Adwin || det.options().delta != delta) bad_json("a detector is not the forest's ADWIN");
        return det;
    };
    for (size_t i = 0; i < n_; i++) {
        if (!w[i].is_number_unsigned() || !d[i].is_number_unsigned())
            bad_json("\"warnings\" and \"drifts\" must hold non-negative integers");
        warnings_[i] = w[i].get<uint64_t>();
        drifts_[i] = d[i].get<uint64_t>();
        warn_.push_back(detector(wd[i], delta_warning_));
        drift_.push_back(detector(dd[i], delta_drift_));
        background_[i] = bg[i].is_null() ? nullptr : member(bg[i]);
    }
}

std::string Ensemble::invalid_state() const {
    if (members_.size() != n_) return "member count does not match the spec";
    for (const auto& m : members_)
        if (!m) return "a member is missing";
    if (arf_ && (background_.size() != n_ || warn_.size() != n_ || drift_.size() != n_ || warnings_.size() != n_ ||
                 drifts_.size() != n_))
        return "per-member state does not match the member count";
    return {};
}

json Ensemble::info_extra() const {
    json members = json::array();
    uint64_t warnings = 0, drifts = 0, background = 0;
    for (size_t i = 0; i < n_; i++) {
        json m = {{"n_seen", members_[i]->n_seen()}, {"updates", members_[i]->updates()}};
        if (arf_) {
            m["warnings"] = warnings_[i];
            m["drifts"] = drifts_[i];
            m["background"] = background_[i] ? json(background_[i]->n_seen()) : json();
            warnings += warnings_[i];
            drifts += drifts_[i];
            background += background_[i] ? 1 : 0;
        }
        members.push_back(m);
    }
    json out = {{"n_models", n_}, {"members", members}};
    if (arf_) {
        out["warnings"] = warnings;
        out["drifts"] = drifts;
        out["background_members"] = background;
    }
    return out;
}

// ---- specs ---------------------------------------------------------------------------------------

std::unique_ptr<Model> arf_from_spec(const json& spec) {
    FamilySpec s = parse_family_spec(
        spec, {"n_models", "lambda", "seed", "max_features", "delta_warning", "delta_drift", "tree"});
    json& o = s.options;
    o["n_models"] = integer_option(spec, "n_models", 10, 1, kMaxMembers);
    const double lambda = number_option(spec, "lambda", 6.0, 0, 100);
    if (!(lambda > 0)) bad_spec("\"lambda\" must be more than 0");
    o["lambda"] = lambda;
    o["seed"] = integer_option(spec, "seed", 0, 0, kMaxSeed);
    for (const char* key : {"delta_warning", "delta_drift"}) {
        const double d = number_option(spec, key, key[6] == 'w' ? 0.01 : 0.001, 0, 1);
        if (!(d > 0 && d < 1)) bad_spec(std::string("\"") + key + "\" must be between 0 and 1 (exclusive)");
        o[key] = d;
    }
    json tree = spec.contains("tree") ? spec["tree"] : json::object();
    if (!tree.is_object()) bad_spec("\"tree\" must be an object of hoeffding_tree_classifier options");
    for (const char* key : {"model", "ignore", "max_features", "seed"})
        if (tree.contains(key))
            bad_spec(std::string("\"tree\" must not set \"") + key + "\"",
                     "The forest sets the trees' kind, features, max_features and seeds itself.");
    // river's ARFClassifier trees: grace period 50, delta 0.01.
    if (!tree.contains("grace_period")) tree["grace_period"] = 50;
    if (!tree.contains("delta")) tree["delta"] = 0.01;
    tree["model"] = kTreeKind;
    tree["max_features"] = spec.contains("max_features") ? spec["max_features"] : json("sqrt");
    tree["seed"] = 0;
    json canon = model_from_json(tree)->info()["spec"];
    o["max_features"] = canon["max_features"];
    for (const char* key : {"model", "max_features", "seed"}) canon.erase(key);
    o["tree"] = canon;
    return std::make_unique<Ensemble>(kArf, std::move(s));
}

// The kinds of a task that can be a base, for hints: every registered family but the ensembles
// whose spec {"model": kind} alone makes a model of that task (a kind whose task follows its spec,
// such as a partitioned model or a pipeline, needs more than its name, and a predict-only
// imported kind cannot learn: neither is listed).
std::string kinds_of_task(Task task) {
    std::string out;
    for (const ModelFamily* f : model_families()) {
        if (f->task != task || is_ensemble_kind(f->kind) || family_by_kind(f->kind) != f) continue;
        try {
            const std::unique_ptr<Model> m = model_from_json(json{{"model", f->kind}});
            if (m->task() != task || !m->can_learn()) continue;
        } catch (const Error&) {
            continue;
        }
        out += (out.empty() ? "" : ", ") + std::string(f->kind);
    }
    return out;
}

std::unique_ptr<Model> ensemble_from_spec(const json& spec) {
    if (!spec.is_object()) parse_family_spec(spec, {});  // refuses
    const std::string kind = spec.value("model", std::string());
    if (kind == kArf.kind) return arf_from_spec(spec);
    const bool classifier = kind == kBaggingClassifier.kind;
    FamilySpec s = parse_family_spec(spec, {"base", "n_models", "lambda", "seed"});
    json& o = s.options;
    const json base = spec.contains("base") ? spec["base"]
                                            : json{{"model", classifier ? "hoeffding_tree_classifier" : "linear_regression"}};
    const char* example = classifier ? "{\"model\": \"hoeffding_tree_classifier\"}" : "{\"model\": \"linear_regression\"}";
    if (!base.is_object() || !base.contains("model") || !base["model"].is_string() || base.contains("pg_learn_model"))
        bad_spec("\"base\" must be a model spec, e.g. " + std::string(example));
    const std::string base_kind = base["model"].get<std::string>();
    if (is_ensemble_kind(base_kind))
        bad_spec("the base of an ensemble cannot be an ensemble (\"" + base_kind + "\")",
                 "Use a single model as the base, e.g. " + std::string(example) + ".");
    std::unique_ptr<Model> probe = model_from_json(base);
    const Task want = classifier ? Task::Multiclass : Task::Regression;
    if (probe->task() != want && !(classifier && probe->task() == Task::Binary))
        bad_spec("the base of a " + kind + " must be a " + (classifier ? "classifier" : "regressor") +
                     ", not \"" + base_kind + "\" (task " + task_name(probe->task()) + ")",
                 classifier ? "Multiclass kinds: " + kinds_of_task(Task::Multiclass) +
                                  "; binary kinds: " + kinds_of_task(Task::Binary) + "."
                            : "Regression kinds: " + kinds_of_task(want) + ".");
    o["base"] = probe->info()["spec"];
    o["n_models"] = integer_option(spec, "n_models", 10, 1, kMaxMembers);
    const double lambda = number_option(spec, "lambda", 1.0, 0, 100);
    if (!(lambda > 0)) bad_spec("\"lambda\" must be more than 0");
    o["lambda"] = lambda;
    o["seed"] = integer_option(spec, "seed", 0, 0, kMaxSeed);
    const ModelFamily& family = !classifier ? kBaggingRegressor
                                : probe->task() == Task::Binary ? kBaggingBinary
                                                                : kBaggingClassifier;
    return std::make_unique<Ensemble>(family, std::move(s));
}

}  // namespace

const std::vector<const ModelFamily*>& ensemble_families() {
    static const std::vector<const ModelFamily*> all = {&kBaggingClassifier, &kBaggingRegressor, &kArf, &kBaggingBinary};
    return all;
}

}  // namespace pg_learn::core
