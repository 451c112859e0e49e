-- pg_learn 0.2.0, part 20: evaluation metrics as aggregates, and their state type ml_metric_state.

-- ---------------------------------------------------------------------------------------------
-- The state of every metric aggregate: one kind of accumulator (ranking: distinct scores with
-- label counts; confusion counts at a threshold; log loss; calibration bins; regression sums;
-- equal/total), JSON text (exact sums as hex floats), versioned binary send/recv with a
-- checksum, both validated completely.
-- ---------------------------------------------------------------------------------------------
CREATE TYPE ml_metric_state;

CREATE FUNCTION ml_metric_state_in(cstring) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_metric_state_out(ml_metric_state) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_metric_state_recv(internal) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_metric_state_send(ml_metric_state) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE ml_metric_state (
    INPUT = ml_metric_state_in,
    OUTPUT = ml_metric_state_out,
    RECEIVE = ml_metric_state_recv,
    SEND = ml_metric_state_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);
COMMENT ON TYPE ml_metric_state IS
    'Mergeable state of an evaluation metric (exact: scores with label counts, counts, exact sums)';

CREATE FUNCTION ml_metric_state_bytes(state ml_metric_state) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ml_metric_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_metric_state_from_bytes(bytes bytea) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_metric_state_from_bytes(bytea) IS
    'A metric state from its binary form (ml_metric_state_bytes), validated completely';
CREATE FUNCTION ml_metric_count(state ml_metric_state) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_metric_count(ml_metric_state) IS 'Rows the state holds (NULL rows are not held)';
CREATE FUNCTION ml_metric_kind(state ml_metric_state) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_metric_kind(ml_metric_state) IS
    'ranking, confusion, logloss, calibration, regression or equality';

-- ---------------------------------------------------------------------------------------------
-- Accessors: a metric from a state. They are also the aggregates' final functions (read-only).
-- NULL where the metric is undefined. A ranking state (ml_binary_state) gives every binary
-- metric, at any threshold or bin count; a confusion or calibration state only at its own.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_auc(state ml_metric_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_metric_auc' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_logloss(state ml_metric_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_metric_logloss' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_accuracy(state ml_metric_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_metric_accuracy' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_accuracy(state ml_metric_state, threshold float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_metric_accuracy' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_precision(state ml_metric_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_metric_precision' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_precision(state ml_metric_state, threshold float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_metric_precision' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_recall(state ml_metric_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_metric_recall' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_recall(state ml_metric_state, threshold float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_metric_recall' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_f1(state ml_metric_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_metric_f1' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_f1(state ml_metric_state, threshold float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_metric_f1' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_confusion_matrix(state ml_metric_state) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_metric_confusion_matrix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_confusion_matrix(state ml_metric_state, threshold float8) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_metric_confusion_matrix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_roc_curve(state ml_metric_state) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_metric_roc_curve' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_roc_curve(state ml_metric_state, drop_intermediate boolean) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_metric_roc_curve' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_pr_curve(state ml_metric_state) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_metric_pr_curve' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_calibration(state ml_metric_state) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_metric_calibration' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_calibration(state ml_metric_state, bins int) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_metric_calibration' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_mae(state ml_metric_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_metric_mae' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_rmse(state ml_metric_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_metric_rmse' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_r2(state ml_metric_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_metric_r2' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_mape(state ml_metric_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_metric_mape' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_mean_error(state ml_metric_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_metric_mean_error' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ---------------------------------------------------------------------------------------------
-- Transition functions. Not STRICT: a row with a NULL score, probability, prediction or label is
-- skipped, but a state is always returned (moving-window mode requires it); an empty state
-- reads as NULL. Inverse transitions remove a row exactly (counts and exact sums), so windows
-- `OVER (... ROWS BETWEEN n PRECEDING AND CURRENT ROW)` cost O(1) (O(log n) for the ranking
-- metrics, whose moving state is an order-statistics tree) per row.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_metric_ranking_transition(state ml_metric_state, score float8, label boolean) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_ranking_transition_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_ranking_transition(state ml_metric_state, score float8, label int) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_ranking_transition_int' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_ranking_mtransition(state internal, score float8, label boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ml_metric_ranking_mtransition_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_ranking_mtransition(state internal, score float8, label int) RETURNS internal
    AS 'MODULE_PATHNAME', 'ml_metric_ranking_mtransition_int' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_ranking_minverse(state internal, score float8, label boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'ml_metric_ranking_minverse_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_ranking_minverse(state internal, score float8, label int) RETURNS internal
    AS 'MODULE_PATHNAME', 'ml_metric_ranking_minverse_int' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_ranking_mauc(state internal) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_ranking_mroc(state internal) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_ranking_mpr(state internal) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION ml_metric_confusion_transition(state ml_metric_state, score float8, label boolean) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_confusion_transition_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_confusion_transition(state ml_metric_state, score float8, label int) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_confusion_transition_int' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_confusion_transition(state ml_metric_state, score float8, label boolean, threshold float8) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_confusion_transition_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_confusion_transition(state ml_metric_state, score float8, label int, threshold float8) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_confusion_transition_int' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_confusion_inverse(state ml_metric_state, score float8, label boolean) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_confusion_inverse_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_confusion_inverse(state ml_metric_state, score float8, label int) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_confusion_inverse_int' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_confusion_inverse(state ml_metric_state, score float8, label boolean, threshold float8) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_confusion_inverse_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_confusion_inverse(state ml_metric_state, score float8, label int, threshold float8) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_confusion_inverse_int' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION ml_metric_logloss_transition(state ml_metric_state, p float8, label boolean) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_logloss_transition_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_logloss_transition(state ml_metric_state, p float8, label int) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_logloss_transition_int' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_logloss_inverse(state ml_metric_state, p float8, label boolean) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_logloss_inverse_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_logloss_inverse(state ml_metric_state, p float8, label int) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_logloss_inverse_int' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION ml_metric_calibration_transition(state ml_metric_state, p float8, label boolean) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_calibration_transition_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_calibration_transition(state ml_metric_state, p float8, label int) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_calibration_transition_int' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_calibration_transition(state ml_metric_state, p float8, label boolean, bins int) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_calibration_transition_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_calibration_transition(state ml_metric_state, p float8, label int, bins int) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_calibration_transition_int' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_calibration_inverse(state ml_metric_state, p float8, label boolean) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_calibration_inverse_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_calibration_inverse(state ml_metric_state, p float8, label int) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_calibration_inverse_int' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_calibration_inverse(state ml_metric_state, p float8, label boolean, bins int) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_calibration_inverse_bool' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_calibration_inverse(state ml_metric_state, p float8, label int, bins int) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME', 'ml_metric_calibration_inverse_int' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION ml_metric_regression_transition(state ml_metric_state, pred float8, y float8) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_regression_inverse(state ml_metric_state, pred float8, y float8) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Equality uses the type's default equality operator and the call's collation.
CREATE FUNCTION ml_metric_equality_transition(state ml_metric_state, pred anycompatible, label anycompatible) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_equality_inverse(state ml_metric_state, pred anycompatible, label anycompatible) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION ml_metric_combine(a ml_metric_state, b ml_metric_state) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_merge_transition(state ml_metric_state, other ml_metric_state) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_metric_state_final(state ml_metric_state) RETURNS ml_metric_state
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- ---------------------------------------------------------------------------------------------
-- Binary classification. label is boolean, or int 0/1 (other integers are an error); scores and
-- probabilities must be finite (22003); probabilities outside [0, 1] are an error (22023).
-- Ranking metrics (AUC, curves) keep every distinct score: exact, as scikit-learn.
-- ---------------------------------------------------------------------------------------------
-- Ranking metrics keep every distinct score; their moving-window state is an order-statistics
-- tree (internal, never stored): O(log n) per added or removed row, the AUC in O(1).
CREATE AGGREGATE ml_auc(score float8, label boolean) (
    SFUNC = ml_metric_ranking_transition, STYPE = ml_metric_state, SSPACE = 65536,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_auc, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_ranking_mtransition, MINVFUNC = ml_metric_ranking_minverse,
    MSTYPE = internal, MFINALFUNC = ml_metric_ranking_mauc,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_roc_curve(score float8, label boolean) (
    SFUNC = ml_metric_ranking_transition, STYPE = ml_metric_state, SSPACE = 65536,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_roc_curve, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_ranking_mtransition, MINVFUNC = ml_metric_ranking_minverse,
    MSTYPE = internal, MFINALFUNC = ml_metric_ranking_mroc,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_pr_curve(score float8, label boolean) (
    SFUNC = ml_metric_ranking_transition, STYPE = ml_metric_state, SSPACE = 65536,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_pr_curve, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_ranking_mtransition, MINVFUNC = ml_metric_ranking_minverse,
    MSTYPE = internal, MFINALFUNC = ml_metric_ranking_mpr,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_auc(score float8, label int) (
    SFUNC = ml_metric_ranking_transition, STYPE = ml_metric_state, SSPACE = 65536,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_auc, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_ranking_mtransition, MINVFUNC = ml_metric_ranking_minverse,
    MSTYPE = internal, MFINALFUNC = ml_metric_ranking_mauc,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_roc_curve(score float8, label int) (
    SFUNC = ml_metric_ranking_transition, STYPE = ml_metric_state, SSPACE = 65536,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_roc_curve, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_ranking_mtransition, MINVFUNC = ml_metric_ranking_minverse,
    MSTYPE = internal, MFINALFUNC = ml_metric_ranking_mroc,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_pr_curve(score float8, label int) (
    SFUNC = ml_metric_ranking_transition, STYPE = ml_metric_state, SSPACE = 65536,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_pr_curve, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_ranking_mtransition, MINVFUNC = ml_metric_ranking_minverse,
    MSTYPE = internal, MFINALFUNC = ml_metric_ranking_mpr,
    PARALLEL = SAFE
);
-- The whole ranking state, for roll-ups (ml_metric_merge) and any binary metric later.
CREATE AGGREGATE ml_binary_state(score float8, label boolean) (
    SFUNC = ml_metric_ranking_transition, STYPE = ml_metric_state, SSPACE = 65536,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_metric_state_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_binary_state(score float8, label int) (
    SFUNC = ml_metric_ranking_transition, STYPE = ml_metric_state, SSPACE = 65536,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_metric_state_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_logloss(p float8, label boolean) (
    SFUNC = ml_metric_logloss_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_logloss, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_logloss_transition, MINVFUNC = ml_metric_logloss_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_logloss, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_logloss(p float8, label int) (
    SFUNC = ml_metric_logloss_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_logloss, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_logloss_transition, MINVFUNC = ml_metric_logloss_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_logloss, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
-- Counts at a threshold: score >= threshold is predicted positive; 0.5 without one. The
-- threshold must be the same on every row.
CREATE AGGREGATE ml_precision(score float8, label boolean) (
    SFUNC = ml_metric_confusion_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_precision, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_confusion_transition, MINVFUNC = ml_metric_confusion_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_precision, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_precision(score float8, label boolean, threshold float8) (
    SFUNC = ml_metric_confusion_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_precision, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_confusion_transition, MINVFUNC = ml_metric_confusion_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_precision, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_precision(score float8, label int) (
    SFUNC = ml_metric_confusion_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_precision, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_confusion_transition, MINVFUNC = ml_metric_confusion_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_precision, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_precision(score float8, label int, threshold float8) (
    SFUNC = ml_metric_confusion_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_precision, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_confusion_transition, MINVFUNC = ml_metric_confusion_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_precision, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_recall(score float8, label boolean) (
    SFUNC = ml_metric_confusion_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_recall, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_confusion_transition, MINVFUNC = ml_metric_confusion_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_recall, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_recall(score float8, label boolean, threshold float8) (
    SFUNC = ml_metric_confusion_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_recall, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_confusion_transition, MINVFUNC = ml_metric_confusion_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_recall, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_recall(score float8, label int) (
    SFUNC = ml_metric_confusion_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_recall, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_confusion_transition, MINVFUNC = ml_metric_confusion_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_recall, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_recall(score float8, label int, threshold float8) (
    SFUNC = ml_metric_confusion_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_recall, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_confusion_transition, MINVFUNC = ml_metric_confusion_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_recall, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_f1(score float8, label boolean) (
    SFUNC = ml_metric_confusion_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_f1, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_confusion_transition, MINVFUNC = ml_metric_confusion_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_f1, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_f1(score float8, label boolean, threshold float8) (
    SFUNC = ml_metric_confusion_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_f1, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_confusion_transition, MINVFUNC = ml_metric_confusion_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_f1, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_f1(score float8, label int) (
    SFUNC = ml_metric_confusion_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_f1, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_confusion_transition, MINVFUNC = ml_metric_confusion_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_f1, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_f1(score float8, label int, threshold float8) (
    SFUNC = ml_metric_confusion_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_f1, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_confusion_transition, MINVFUNC = ml_metric_confusion_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_f1, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_confusion_matrix(score float8, label boolean) (
    SFUNC = ml_metric_confusion_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_confusion_matrix, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_confusion_transition, MINVFUNC = ml_metric_confusion_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_confusion_matrix, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_confusion_matrix(score float8, label boolean, threshold float8) (
    SFUNC = ml_metric_confusion_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_confusion_matrix, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_confusion_transition, MINVFUNC = ml_metric_confusion_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_confusion_matrix, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_confusion_matrix(score float8, label int) (
    SFUNC = ml_metric_confusion_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_confusion_matrix, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_confusion_transition, MINVFUNC = ml_metric_confusion_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_confusion_matrix, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_confusion_matrix(score float8, label int, threshold float8) (
    SFUNC = ml_metric_confusion_transition, STYPE = ml_metric_state, SSPACE = 200,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_confusion_matrix, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_confusion_transition, MINVFUNC = ml_metric_confusion_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_confusion_matrix, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
-- Reliability bins, uniform (10 without a count; the count must be the same on every row).
CREATE AGGREGATE ml_calibration(p float8, label boolean) (
    SFUNC = ml_metric_calibration_transition, STYPE = ml_metric_state, SSPACE = 1024,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_calibration, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_calibration_transition, MINVFUNC = ml_metric_calibration_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_calibration, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_calibration(p float8, label boolean, bins int) (
    SFUNC = ml_metric_calibration_transition, STYPE = ml_metric_state, SSPACE = 1024,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_calibration, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_calibration_transition, MINVFUNC = ml_metric_calibration_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_calibration, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_calibration(p float8, label int) (
    SFUNC = ml_metric_calibration_transition, STYPE = ml_metric_state, SSPACE = 1024,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_calibration, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_calibration_transition, MINVFUNC = ml_metric_calibration_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_calibration, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_calibration(p float8, label int, bins int) (
    SFUNC = ml_metric_calibration_transition, STYPE = ml_metric_state, SSPACE = 1024,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_calibration, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_calibration_transition, MINVFUNC = ml_metric_calibration_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_calibration, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);

COMMENT ON AGGREGATE ml_auc(float8, boolean) IS
    'ROC AUC, exact (Mann-Whitney, ties count 1/2, as scikit-learn); NULL unless both classes occur';
COMMENT ON AGGREGATE ml_logloss(float8, boolean) IS
    'Mean log loss of probabilities p, clipped to [2^-52, 1 - 2^-52] as scikit-learn 1.2';
COMMENT ON AGGREGATE ml_precision(float8, boolean, float8) IS 'Precision at a threshold (score >= threshold is positive)';
COMMENT ON AGGREGATE ml_recall(float8, boolean, float8) IS 'Recall at a threshold (score >= threshold is positive)';
COMMENT ON AGGREGATE ml_f1(float8, boolean, float8) IS 'F1 score at a threshold (score >= threshold is positive)';
COMMENT ON AGGREGATE ml_confusion_matrix(float8, boolean, float8) IS
    'Confusion matrix at a threshold as jsonb: tn, fp, fn, tp, matrix [[tn, fp], [fn, tp]]';
COMMENT ON AGGREGATE ml_roc_curve(float8, boolean) IS
    'ROC curve as jsonb arrays thresholds, fpr, tpr (scikit-learn 1.2 roc_curve, drop_intermediate)';
COMMENT ON AGGREGATE ml_pr_curve(float8, boolean) IS
    'Precision-recall curve as jsonb arrays precision, recall, thresholds (scikit-learn precision_recall_curve)';
COMMENT ON AGGREGATE ml_calibration(float8, boolean, int) IS
    'Reliability bins (uniform): bin, lower, upper, count, mean_predicted, fraction_positive (non-empty bins)';
COMMENT ON AGGREGATE ml_binary_state(float8, boolean) IS
    'The ranking state of (score, label): every binary metric can be read from it, and states merge';

-- Accuracy of predictions against labels of any type with an equality operator.
CREATE AGGREGATE ml_accuracy(pred anycompatible, label anycompatible) (
    SFUNC = ml_metric_equality_transition, STYPE = ml_metric_state, SSPACE = 100,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_accuracy, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_equality_transition, MINVFUNC = ml_metric_equality_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_accuracy, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_accuracy(anycompatible, anycompatible) IS
    'Fraction of rows where pred = label (the type''s equality operator); rows with a NULL are skipped';
-- Text against a number has no common type: PostgreSQL would otherwise pick the accessor
-- ml_accuracy(ml_metric_state, float8) for ml_accuracy('1', 1) and report the literal as a bad
-- ml_metric_state, or say that ml_accuracy(text, integer) does not exist. This overload exists
-- only to say what is wrong, on any row and with no rows (its final function is not strict).
-- Its pred is varchar, not text: a string literal and a text, varchar or char(n) column reach it
-- (no exact match), but ml_accuracy(text_column, 'literal') still resolves to anycompatible.
CREATE FUNCTION ml_accuracy_type_mismatch(state ml_metric_state, pred varchar, label float8) RETURNS ml_metric_state
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RAISE EXCEPTION 'ml_accuracy compares a prediction and a label of one type, not text with a number'
        USING ERRCODE = 'datatype_mismatch',
              DETAIL = 'pred is text (as an untyped string literal such as ''1'' is) and label a number; ml_accuracy(state, threshold) reads an ml_metric_state.',
              HINT = 'Cast one side to the other''s type: ml_accuracy(pred::int, label), ml_accuracy(pred, label::text), ml_accuracy(''1''::int, 1).';
END
$$;
CREATE FUNCTION ml_accuracy_type_mismatch(state ml_metric_state) RETURNS float8
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    PERFORM @extschema@.ml_accuracy_type_mismatch(state, NULL::varchar, NULL::float8);
    RETURN NULL;
END
$$;
CREATE AGGREGATE ml_accuracy(pred varchar, label float8) (
    SFUNC = ml_accuracy_type_mismatch, STYPE = ml_metric_state,
    FINALFUNC = ml_accuracy_type_mismatch, PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_accuracy(varchar, float8) IS
    'An error that explains itself: predictions and labels must have one type (cast one side)';

-- ---------------------------------------------------------------------------------------------
-- Regression: error = pred - y. Exact sums: the same value in any order, in parallel, and after
-- any window's removals.
-- ---------------------------------------------------------------------------------------------
CREATE AGGREGATE ml_mae(pred float8, y float8) (
    SFUNC = ml_metric_regression_transition, STYPE = ml_metric_state, SSPACE = 1024,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_mae, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_regression_transition, MINVFUNC = ml_metric_regression_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_mae, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_rmse(pred float8, y float8) (
    SFUNC = ml_metric_regression_transition, STYPE = ml_metric_state, SSPACE = 1024,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_rmse, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_regression_transition, MINVFUNC = ml_metric_regression_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_rmse, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_r2(pred float8, y float8) (
    SFUNC = ml_metric_regression_transition, STYPE = ml_metric_state, SSPACE = 1024,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_r2, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_regression_transition, MINVFUNC = ml_metric_regression_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_r2, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_mape(pred float8, y float8) (
    SFUNC = ml_metric_regression_transition, STYPE = ml_metric_state, SSPACE = 1024,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_mape, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_regression_transition, MINVFUNC = ml_metric_regression_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_mape, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_mean_error(pred float8, y float8) (
    SFUNC = ml_metric_regression_transition, STYPE = ml_metric_state, SSPACE = 1024,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_mean_error, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_metric_regression_transition, MINVFUNC = ml_metric_regression_inverse,
    MSTYPE = ml_metric_state, MFINALFUNC = ml_mean_error, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_regression_state(pred float8, y float8) (
    SFUNC = ml_metric_regression_transition, STYPE = ml_metric_state, SSPACE = 1024,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_metric_state_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_mae(float8, float8) IS 'Mean absolute error';
COMMENT ON AGGREGATE ml_rmse(float8, float8) IS 'Root mean squared error';
COMMENT ON AGGREGATE ml_r2(float8, float8) IS
    'Coefficient of determination (scikit-learn r2_score); NULL below two rows; constant y: 1 if exact, else 0';
COMMENT ON AGGREGATE ml_mape(float8, float8) IS
    'Mean absolute percentage error as a fraction (scikit-learn: |pred - y| / max(|y|, 2^-52))';
COMMENT ON AGGREGATE ml_mean_error(float8, float8) IS 'Mean of pred - y (positive: predictions too high)';
COMMENT ON AGGREGATE ml_regression_state(float8, float8) IS
    'The regression state of (pred, y): every regression metric can be read from it, and states merge';

-- Roll-up of stored states (kinds and thresholds/bins must agree); NULLs are skipped.
CREATE AGGREGATE ml_metric_merge(state ml_metric_state) (
    SFUNC = ml_metric_merge_transition, STYPE = ml_metric_state,
    COMBINEFUNC = ml_metric_combine, FINALFUNC = ml_metric_state_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_metric_merge(ml_metric_state) IS
    'Merges metric states: per-hour states roll up to a day with the result of one pass over all rows';

-- ---------------------------------------------------------------------------------------------
-- Multiclass classification over text class labels: the state ml_class_metric_state holds the
-- confusion matrix (actual x predicted class counts, classes in byte order, at most 10,000) and,
-- when built from probabilities, the exact sum of -log(p of the actual class). JSON text and a
-- versioned, checksummed binary form, both validated completely; held as an expanded object
-- while aggregating. Metrics follow scikit-learn 1.2: labels are the union of actual and
-- predicted classes, a zero division gives 0.
-- ---------------------------------------------------------------------------------------------
CREATE TYPE ml_class_metric_state;

CREATE FUNCTION ml_class_metric_state_in(cstring) RETURNS ml_class_metric_state
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_class_metric_state_out(ml_class_metric_state) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_class_metric_state_recv(internal) RETURNS ml_class_metric_state
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_class_metric_state_send(ml_class_metric_state) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE ml_class_metric_state (
    INPUT = ml_class_metric_state_in,
    OUTPUT = ml_class_metric_state_out,
    RECEIVE = ml_class_metric_state_recv,
    SEND = ml_class_metric_state_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);
COMMENT ON TYPE ml_class_metric_state IS
    'Mergeable state of multiclass metrics: confusion matrix over text classes, exact log-loss sum';

CREATE FUNCTION ml_class_metric_state_bytes(state ml_class_metric_state) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ml_class_metric_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_class_metric_state_from_bytes(bytes bytea) RETURNS ml_class_metric_state
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_class_metric_state_from_bytes(bytea) IS
    'A class metric state from its binary form (ml_class_metric_state_bytes), validated completely';
CREATE FUNCTION ml_metric_count(state ml_class_metric_state) RETURNS bigint
    AS 'MODULE_PATHNAME', 'ml_class_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Accessors. NULL without rows (ml_logloss also for a state built without probabilities).
CREATE FUNCTION ml_accuracy(state ml_class_metric_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_class_accuracy' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_logloss(state ml_class_metric_state) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_class_logloss' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_precision(state ml_class_metric_state, average text DEFAULT 'macro') RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_class_precision' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_recall(state ml_class_metric_state, average text DEFAULT 'macro') RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_class_recall' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_f1(state ml_class_metric_state, average text DEFAULT 'macro') RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_class_f1' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_confusion_matrix(state ml_class_metric_state)
    RETURNS TABLE(actual text, predicted text, n bigint)
    AS 'MODULE_PATHNAME', 'ml_class_confusion_matrix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
CREATE FUNCTION ml_class_report(state ml_class_metric_state)
    RETURNS TABLE(class text, "precision" float8, recall float8, f1 float8, support bigint)
    AS 'MODULE_PATHNAME', 'ml_class_report' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 5;
COMMENT ON FUNCTION ml_precision(ml_class_metric_state, text) IS
    'Multiclass precision, averaged macro (default), micro or weighted (scikit-learn precision_score)';
COMMENT ON FUNCTION ml_recall(ml_class_metric_state, text) IS
    'Multiclass recall, averaged macro (default), micro or weighted (scikit-learn recall_score)';
COMMENT ON FUNCTION ml_f1(ml_class_metric_state, text) IS
    'Multiclass F1, averaged macro (default), micro or weighted (scikit-learn f1_score)';
COMMENT ON FUNCTION ml_confusion_matrix(ml_class_metric_state) IS
    'Non-zero cells of the confusion matrix, ordered by actual then predicted class (byte order)';
COMMENT ON FUNCTION ml_class_report(ml_class_metric_state) IS
    'Per class: precision, recall, F1 and support (scikit-learn precision_recall_fscore_support)';

-- Transitions: not STRICT (a row with a NULL is skipped, a state is always returned).
CREATE FUNCTION ml_class_transition(state ml_class_metric_state, actual text, predicted text)
    RETURNS ml_class_metric_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_class_inverse(state ml_class_metric_state, actual text, predicted text)
    RETURNS ml_class_metric_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_class_transition(state ml_class_metric_state, actual text, predicted text, average text)
    RETURNS ml_class_metric_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_class_inverse(state ml_class_metric_state, actual text, predicted text, average text)
    RETURNS ml_class_metric_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_class_proba_transition(state ml_class_metric_state, actual text, proba jsonb)
    RETURNS ml_class_metric_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_class_proba_inverse(state ml_class_metric_state, actual text, proba jsonb)
    RETURNS ml_class_metric_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_class_combine(a ml_class_metric_state, b ml_class_metric_state)
    RETURNS ml_class_metric_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_class_merge_transition(state ml_class_metric_state, other ml_class_metric_state)
    RETURNS ml_class_metric_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_class_state_final(state ml_class_metric_state)
    RETURNS ml_class_metric_state AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_class_f1_final(state ml_class_metric_state)
    RETURNS float8 AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE ml_class_state(actual text, predicted text) (
    SFUNC = ml_class_transition, STYPE = ml_class_metric_state, SSPACE = 1024,
    COMBINEFUNC = ml_class_combine, FINALFUNC = ml_class_state_final, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_class_transition, MINVFUNC = ml_class_inverse,
    MSTYPE = ml_class_metric_state, MFINALFUNC = ml_class_state_final, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_class_state(actual text, proba jsonb) (
    SFUNC = ml_class_proba_transition, STYPE = ml_class_metric_state, SSPACE = 1024,
    COMBINEFUNC = ml_class_combine, FINALFUNC = ml_class_state_final, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_class_proba_transition, MINVFUNC = ml_class_proba_inverse,
    MSTYPE = ml_class_metric_state, MFINALFUNC = ml_class_state_final, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
-- F1 of predicted classes in one call; the average must be the same on every row. (Accuracy of
-- text classes is the existing ml_accuracy(pred anycompatible, label anycompatible).)
CREATE AGGREGATE ml_f1(actual text, predicted text, average text) (
    SFUNC = ml_class_transition, STYPE = ml_class_metric_state, SSPACE = 1024,
    COMBINEFUNC = ml_class_combine, FINALFUNC = ml_class_f1_final, FINALFUNC_MODIFY = READ_ONLY,
    MSFUNC = ml_class_transition, MINVFUNC = ml_class_inverse,
    MSTYPE = ml_class_metric_state, MFINALFUNC = ml_class_f1_final, MFINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_metric_merge(state ml_class_metric_state) (
    SFUNC = ml_class_merge_transition, STYPE = ml_class_metric_state,
    COMBINEFUNC = ml_class_combine, FINALFUNC = ml_class_state_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_class_state(text, text) IS
    'The multiclass state of (actual, predicted) classes: accuracy, precision, recall, F1, confusion matrix';
COMMENT ON AGGREGATE ml_class_state(text, jsonb) IS
    'The multiclass state of (actual class, {"class": probability}): the predicted class is the most '
    'probable (ties: first in byte order); also log loss (p clipped to [2^-52, 1 - 2^-52])';
COMMENT ON AGGREGATE ml_f1(text, text, text) IS 'Multiclass F1 of predicted classes, averaged macro, micro or weighted';
COMMENT ON AGGREGATE ml_metric_merge(ml_class_metric_state) IS
    'Merges class metric states (all built from probabilities, or all from predicted classes)';
