// Feature mismatches at scoring (docs/features.md, "Feature mismatches"): the settings
// pg_learn.unknown_features, pg_learn.missing_features and pg_learn.unknown_categories (ignore,
// warn, error), and the warnings and errors they ask for.
#pragma once

#include "pg/common/glue.hpp"

#include "core/features/observation.hpp"
#include "core/models/model.hpp"

namespace pg_learn::pg {

// Defines the settings (from _PG_init).
void define_feature_check_settings();

// True when a setting is not 'ignore': only then does scoring check what it scored.
extern bool g_feature_check_on;

// After scoring an observation (or a float8[] of n elements) with model: its mismatches, as the
// settings ask (a warning, rate-limited per statement, or a 22023 error).
void check_scored_slow(const core::Model& model, const core::Observation& obs);
void check_scored_dense_slow(const core::Model& model, size_t n);
inline void check_scored(const core::Model& model, const core::Observation& obs) {
    if (g_feature_check_on) check_scored_slow(model, obs);
}
inline void check_scored_dense(const core::Model& model, size_t n) {
    if (g_feature_check_on) check_scored_dense_slow(model, n);
}
// The same for a check already made (the feedback trigger makes it for the log): obs names a
// missing feature for the message.
void report_feature_check(const core::Model& model, const core::FeatureCheck& check, const core::Observation& obs);

}  // namespace pg_learn::pg
