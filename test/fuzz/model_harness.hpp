// What the model harnesses (fuzz_model_binary, fuzz_model_text, fuzz_spec, fuzz_features) check
// of an ml_model they obtained: its binary form reads back to the same bytes, its JSON form to
// the same text, and it can be used: checking features, predicting, explaining (ml_explain,
// ml_importance), learning one more example and merging with itself are refused with a
// core::Error or give a model that round-trips too (an update never stores a value that cannot
// be read back).
#pragma once

#include "fuzz_util.hpp"

#include "core/features/observation.hpp"
#include "core/models/model.hpp"

#include <memory>
#include <string>
#include <vector>

namespace pg_learn::fuzz {

inline std::string model_bytes(const core::Model& m) {
    std::string out(m.encoded_size(), '\0');
    m.encode(reinterpret_cast<uint8_t*>(out.data()), out.size());
    return out;
}

inline void check_model_round_trips(const core::Model& m, const std::string& encoded) {
    must("a model's own binary form reads back", [&] {
        const std::unique_ptr<core::Model> back = core::decode_model(bytes_of(encoded), encoded.size());
        FUZZ_REQUIRE(model_bytes(*back) == encoded, "decode(encode(m)) re-encodes to the same bytes");
    });
    must("a model's own JSON form reads back", [&] {
        const std::string text = m.to_text();
        const std::unique_ptr<core::Model> back = core::model_from_text(text.data(), text.size());
        FUZZ_REQUIRE(back->to_text() == text, "from_text(to_text(m)) prints the same text");
        FUZZ_REQUIRE(model_bytes(*back) == encoded, "from_text(to_text(m)) encodes to m's bytes");
    });
}

// A label of the model's task, chosen by `pick` (one of a few values, extremes included).
inline core::Label label_for(const core::Model& m, unsigned pick) {
    static const double numbers[] = {0.0, 1.0, -2.5, 1e308, -1e-310, 3e154};
    static const char* const classes[] = {"a", "b", "c"};
    switch (m.task()) {
        case core::Task::Binary: return core::Label::of_number(pick % 2);
        case core::Task::Multiclass: return core::Label::of_text(classes[pick % 3]);
        default: return core::Label::of_number(numbers[pick % 6]);
    }
}

// Uses m with observation x as the SQL functions do; `pick` varies the label.
inline void use_model(const core::Model& m, const core::Observation& x, unsigned pick) {
    (void)accepts([&] {
        core::FeatureCheck check;
        m.check_features(x, check, true);
    });
    (void)accepts([&] { (void)m.info().dump(); });
    (void)accepts([&] { (void)core::model_info(m).dump(); });
    // ml_explain, ml_importance (issue 16: TreeSHAP over an imported model's node covers, the
    // exact linear form, a pipeline's or a partition's member) and the prediction log's segment.
    (void)accepts([&] {
        core::Explanation e;
        m.explain(x, e);
        // (what the glue checks before building the jsonb: otherwise an Internal error)
        FUZZ_REQUIRE(!e.base.empty() && e.contributions.size() == e.base.size() * e.features.size(),
                     "an explanation has a base and one contribution per output and feature");
        FUZZ_REQUIRE(e.outputs.empty() || e.outputs.size() == e.base.size(), "one base value per named output");
    });
    (void)accepts([&] {
        core::FeatureImportance imp;
        m.importance(imp);
        FUZZ_REQUIRE(imp.importance.size() == imp.features.size(), "one importance per feature");
    });
    (void)accepts([&] { (void)m.segment(x); });
    if (m.task() == core::Task::Multiclass) {
        (void)accepts([&] {
            std::vector<double> p;
            m.predict_proba(x, p);
        });
    } else {
        (void)accepts([&] { (void)m.predict(x); });
    }
    if (m.can_learn()) {
        std::unique_ptr<core::Model> next = m.clone();
        if (accepts([&] { next->learn(x, label_for(m, pick)); })) {
            std::string encoded;
            must("a model that learned encodes", [&] { encoded = model_bytes(*next); });
            check_model_round_trips(*next, encoded);
        }
    }
    if (m.can_merge()) {
        std::unique_ptr<core::Model> merged = m.clone();
        if (accepts([&] { merged->merge(m); })) {
            std::string encoded;
            must("a merged model encodes", [&] { encoded = model_bytes(*merged); });
            check_model_round_trips(*merged, encoded);
        }
    }
}

// The observation the binary and text harnesses score and learn with.
inline const core::Observation& probe_observation() {
    static const core::Observation x = [] {
        core::Observation o;
        o.add_numeric("a", 1.5);
        o.add_numeric("b", -2.0);
        o.add_category("c", "u");
        o.add_missing("d");
        return o;
    }();
    return x;
}

}  // namespace pg_learn::fuzz
