// Rollouts: the models of the statement, the variant (champion or challenger) that serves a key, and
// a model's prediction of a row by its task.
#include "pg/feedback/feedback.hpp"

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;

namespace pg_learn::pg::feedback {

// ---- models of the statement -----------------------------------------------------------------

// A copy (the model is shared): the entries may be cleared or moved by the next call.
DeployedModel statement_model(Oid nsp, const std::string& name, const std::string& alias) {
    StatementModels& sm = state().statement;
    const SnapshotData* snap = ActiveSnapshotSet() ? GetActiveSnapshot() : nullptr;
    if (!snap || !sm.fingerprint.matches(snap)) {
        sm.entries.clear();
        sm.fingerprint.valid = false;
    }
    for (const auto& e : sm.entries)
        if (e.name == name && e.alias == alias) return e.model;
    DeployedModel d = registry_resolve(nsp, name, alias);
    if (snap && !sm.fingerprint.valid) sm.fingerprint.take(snap);
    sm.entries.push_back({name, alias, d});
    return d;
}

// ---- scoring ---------------------------------------------------------------------------------

// The variant that serves a key: a challenger whose slice holds the key's place, or the champion.
Served served_variant(Oid nsp, const Attachment& a, std::string_view key) {
    const std::string* alias = &a.alias;
    if (!a.challengers.empty()) {
        size_t i = core::route(core::route_fraction(a.model, key), a.shares);
        if (i < a.challengers.size()) alias = &a.challengers[i];
    }
    return {alias, statement_model(nsp, a.model, *alias)};
}


Prediction predict_row(const core::Model& model, const core::Observation& obs, bool with_probabilities) {
    Prediction p;
    if (!core::predicts_name(model.task())) {
        p.score = model.predict(obs);
        return p;
    }
    p.multiclass = true;
    std::vector<double>& probs = state().probabilities;
    model.predict_proba(obs, probs);
    p.class_null = false;  // (most_probable_class sets it only when there is no class)
    p.predicted_class = most_probable_class(model, probs, &p.class_null);
    // A cluster is a hard assignment (its "probability" is always 1): no score, no probabilities.
    if (!core::is_classifier(model.task())) {
        p.score_null = true;
        return p;
    }
    p.score_null = p.class_null;
    if (!p.class_null) p.score = *std::max_element(probs.begin(), probs.end());
    if (with_probabilities && !p.class_null) p.probabilities = class_probabilities(model, probs);
    return p;
}

}  // namespace pg_learn::pg::feedback
