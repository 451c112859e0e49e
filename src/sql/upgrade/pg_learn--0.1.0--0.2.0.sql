\echo Use "ALTER EXTENSION pg_learn UPDATE TO '0.2.0'" to load this file. \quit
-- pg_learn upgrade from 0.1.0 to 0.2.0.
--
-- EVERY SQL CHANGE SINCE 0.1.0 MUST APPEAR HERE. Whatever is added to, changed in or removed
-- from the fragments src/sql/NN_*.sql (which build pg_learn--0.2.0.sql, the fresh install) is
-- written here too, so that ALTER EXTENSION pg_learn UPDATE gives a 0.1.0 database exactly the
-- objects a fresh CREATE EXTENSION gives: functions (arguments, result, body, volatility,
-- strictness, parallel safety, SET options), aggregates, types, tables and their columns, views,
-- triggers, comments and grants. test/integration/test_upgrade.py compares the two catalogs and
-- fails on any difference.
--
-- Rules (pgvector's convention):
-- - Once 0.2.0 is released this file is immutable; changes after it go into
--   pg_learn--0.2.0--<next>.sql.
-- - Statements run in the extension's schema as @extschema@.name, as in the fragments; CREATE
--   FUNCTION for a new function, CREATE OR REPLACE for a changed body, DROP then CREATE when the
--   result type or arguments change (and re-GRANT / re-COMMENT what the fragment grants or
--   comments). New objects are members of the extension automatically.
-- - Stored values (ml_model, ml_stats, ml_profile, ml_metric_state, the registry's and the
--   monitoring's tables) are never rewritten here: the library decodes every format it ever
--   wrote.
-- - Keep the sections below in the fragments' order, one per fragment; within a section,
--   append in the order changes were made, each with a one-line comment saying what and why.
-- - A function changed more than once before the release is written once, in its final form, at
--   the place of its last change (where everything its body and signature name exists), with the
--   grants and comments of a new function after it: not once per change.
--
-- Changes of 0.2.0 that need no SQL: the fragments' comments only (header lines, file paths
-- of the C sources in part 60).

-- ---------------------------------------------------------------------------------------------
-- Part 00: the ml_model type, online linear models, ml_fit, ml_train, ml_info.

-- Classifiers: ml_predict_class and ml_predict_proba on a model value.
CREATE FUNCTION ml_predict_class(model ml_model, x jsonb) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_predict_class_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_predict_class(model ml_model, x float8[]) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_predict_class_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_predict_class(model ml_model, x record) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_predict_class_row' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_predict_class(ml_model, jsonb) IS
    'The most probable class of one example, for a classifier';
CREATE FUNCTION ml_predict_proba(model ml_model, x jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_predict_proba_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_predict_proba(model ml_model, x float8[]) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_predict_proba_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_predict_proba(model ml_model, x record) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_predict_proba_row' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_predict_proba(ml_model, jsonb) IS
    'The probability of each class for one example, for a classifier: {"class": probability}';

-- Labels as classes (text or boolean) for ml_fit_one and the ml_fit aggregate.
CREATE FUNCTION ml_fit_one(model ml_model, x jsonb, y text) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_jsonb' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_one(model ml_model, x float8[], y text) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_array' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_one(model ml_model, x record, y text) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_one(model ml_model, x jsonb, y boolean) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_jsonb' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_one(model ml_model, x float8[], y boolean) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_array' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_one(model ml_model, x record, y boolean) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x jsonb, y text) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_jsonb' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x float8[], y text) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_array' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x record, y text) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x jsonb, y boolean) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_jsonb' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x float8[], y boolean) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_array' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x record, y boolean) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE ml_fit(model ml_model, x jsonb, y text) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_fit(model ml_model, x float8[], y text) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_fit(model ml_model, x record, y text) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_fit(model ml_model, x jsonb, y boolean) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_fit(model ml_model, x float8[], y boolean) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_fit(model ml_model, x record, y boolean) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);

-- ---------------------------------------------------------------------------------------------
-- Part 10: ml_stats.

-- ---------------------------------------------------------------------------------------------
-- Part 20: metrics and ml_metric_state.

-- Multiclass classification metrics: the ml_class_metric_state type and its aggregates.
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

-- ---------------------------------------------------------------------------------------------
-- Part 30: ml_profile.

-- ---------------------------------------------------------------------------------------------
-- Part 35: drift.

-- ---------------------------------------------------------------------------------------------
-- Part 40: the registry.

-- What each version predicts, as the core says (ml_info's task); monitoring reads it instead of
-- matching kind names. Filled for the stored versions from their models.
ALTER TABLE @extschema@.ml_models ADD COLUMN task text;
UPDATE @extschema@.ml_models SET task = @extschema@.ml_info(model) ->> 'task';
ALTER TABLE @extschema@.ml_models ALTER COLUMN task SET NOT NULL;

-- ml_learn with classes as text or boolean.
CREATE FUNCTION @extschema@.ml_learn(name text, x jsonb, y text, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_learn_jsonb' LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION @extschema@.ml_learn(name text, x float8[], y text, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_learn_array' LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION @extschema@.ml_learn(name text, x record, y text, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_learn_row' LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION @extschema@.ml_learn(name text, x jsonb, y boolean, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_learn_jsonb' LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION @extschema@.ml_learn(name text, x float8[], y boolean, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_learn_array' LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION @extschema@.ml_learn(name text, x record, y boolean, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_learn_row' LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- A classifier's most probable class and class probabilities, by name.
CREATE FUNCTION @extschema@.ml_predict_class(name text, x jsonb, alias text DEFAULT 'production')
    RETURNS text AS 'MODULE_PATHNAME', 'ml_predict_class_by_name_jsonb' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_predict_class(name text, x float8[], alias text DEFAULT 'production')
    RETURNS text AS 'MODULE_PATHNAME', 'ml_predict_class_by_name_array' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_predict_class(name text, x record, alias text DEFAULT 'production')
    RETURNS text AS 'MODULE_PATHNAME', 'ml_predict_class_by_name_row' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_predict_proba(name text, x jsonb, alias text DEFAULT 'production')
    RETURNS jsonb AS 'MODULE_PATHNAME', 'ml_predict_proba_by_name_jsonb' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_predict_proba(name text, x float8[], alias text DEFAULT 'production')
    RETURNS jsonb AS 'MODULE_PATHNAME', 'ml_predict_proba_by_name_array' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_predict_proba(name text, x record, alias text DEFAULT 'production')
    RETURNS jsonb AS 'MODULE_PATHNAME', 'ml_predict_proba_by_name_row' LANGUAGE C STABLE PARALLEL SAFE;

REVOKE EXECUTE ON FUNCTION
    @extschema@.ml_learn(text, jsonb, text, text),
    @extschema@.ml_learn(text, float8[], text, text),
    @extschema@.ml_learn(text, record, text, text),
    @extschema@.ml_learn(text, jsonb, boolean, text),
    @extschema@.ml_learn(text, float8[], boolean, text),
    @extschema@.ml_learn(text, record, boolean, text),
    @extschema@.ml_predict_class(text, jsonb, text),
    @extschema@.ml_predict_class(text, float8[], text),
    @extschema@.ml_predict_class(text, record, text),
    @extschema@.ml_predict_proba(text, jsonb, text),
    @extschema@.ml_predict_proba(text, float8[], text),
    @extschema@.ml_predict_proba(text, record, text)
FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Part 50: scoring triggers, the prediction log, feedback, rollouts.

-- Multiclass models through feedback: a text prediction column receives the most probable class
-- and an optional probability column its probability (ml_attach's new last argument, so the
-- 0.1.0 call forms keep working); the log carries the predicted class, the class probabilities
-- and a class label; the queue carries a number or a class.
ALTER TABLE @extschema@.ml_attachments ADD COLUMN probability_column name;
ALTER TABLE @extschema@.ml_prediction_log ADD COLUMN predicted_class text, ADD COLUMN probabilities jsonb,
    ADD COLUMN label_class text;
ALTER TABLE @extschema@.ml_label_queue ALTER COLUMN label DROP NOT NULL, ADD COLUMN label_class text,
    ADD CONSTRAINT ml_label_queue_one_label CHECK ((label IS NULL) <> (label_class IS NULL));
DROP FUNCTION @extschema@.ml_attach(regclass, text, name, name, name, text[], text, text, regclass, name, name);
DROP FUNCTION @extschema@._ml_attach(regclass, text, name, name, name, text[], text, text, regclass, name, name, name);

-- ---------------------------------------------------------------------------------------------
-- Part 60: monitoring.

-- (A binary classifier known by the task the core stored (ml_models.task), not by its kind's
-- name; multiclass class states; feature-mismatch counts: _ml_monitor_refresh and
-- ml_model_metrics are re-created once, in their final form, further below.)

-- Multiclass models in monitoring: per-window class states (ml_class_metric_state), the label
-- trigger also fires for a class label, ml_monitor_refresh rolls them up, ml_model_metrics shows
-- accuracy, logloss, macro_f1 and recall:<class>.
ALTER TABLE @extschema@.ml_monitor_windows ADD COLUMN class_state @extschema@.ml_class_metric_state;
DROP TRIGGER ml_monitor_label ON @extschema@.ml_prediction_log;
-- (ml_monitor_label has no WHEN clause: its function queues an event only when label or
-- label_class goes from NULL to a value, since a WHEN clause is prepared again by every
-- statement that fires it, and a label's update of the log is a statement of its own.)
CREATE TRIGGER ml_monitor_label AFTER UPDATE OF label, label_class ON @extschema@.ml_prediction_log
    FOR EACH ROW EXECUTE FUNCTION @extschema@._ml_monitor_enqueue();

-- BEGIN issue 11 item 8 (monitoring traps)
-- ---------------------------------------------------------------------------------------------
-- Issue 11, item 8: monitoring traps. A version registered with parent_version and no baseline
-- inherits its parent's (NOTICE), one left without while another version has one gets a WARNING;
-- the min_rows setting and the insufficient_data / no_baseline statuses and row_count columns of
-- ml_feature_drift and ml_data_quality; ml_model_health's prediction rate over the time its
-- buckets cover; ml_model_health_history. (Part 40, then part 60: the new columns at the end of
-- the views, as CREATE OR REPLACE VIEW requires.)

-- Part 40: _ml_register stores the task (ml_info's), inherits the parent's baseline, or warns
-- (created once, here, in its final form).
CREATE OR REPLACE FUNCTION @extschema@._ml_register(p_name text, p_model @extschema@.ml_model, p_notes text,
                                         p_provenance jsonb, p_baseline @extschema@.ml_profile, p_metrics jsonb,
                                         p_parent_version int, p_actor name) RETURNS int
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    info jsonb;
    v int;
    e int;
    the_baseline @extschema@.ml_profile := p_baseline;  -- given, or inherited
    inherited_from int;
    with_baseline int;
BEGIN
    PERFORM @extschema@._ml_check_name('model name', p_name);
    IF p_model IS NULL THEN
        RAISE EXCEPTION 'model must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_provenance IS NOT NULL AND jsonb_typeof(p_provenance) <> 'object' THEN
        RAISE EXCEPTION 'provenance must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'got a JSON ' || jsonb_typeof(p_provenance);
    END IF;
    IF p_metrics IS NOT NULL AND jsonb_typeof(p_metrics) <> 'object' THEN
        RAISE EXCEPTION 'metrics must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'got a JSON ' || jsonb_typeof(p_metrics);
    END IF;
    info := @extschema@.ml_info(p_model);
    -- Creates the name or locks its row: concurrent registrations of one name queue here and
    -- get consecutive versions.
    INSERT INTO @extschema@.ml_model_names AS n (name, latest_version, latest_event, created_by)
    VALUES (p_name, 1, 1, p_actor)
    ON CONFLICT (name) DO UPDATE SET latest_version = n.latest_version + 1,
                                     latest_event = n.latest_event + 1
    RETURNING n.latest_version, n.latest_event INTO v, e;
    IF p_parent_version IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM @extschema@.ml_models m WHERE m.name = p_name AND m.version = p_parent_version) THEN
        RAISE EXCEPTION 'model "%" has no version %', p_name, p_parent_version
            USING ERRCODE = 'undefined_object', DETAIL = 'parent_version must name an existing version.';
    END IF;
    -- Issue 11, monitoring traps: the drift baseline of a version registered without one.
    -- A version registered from another inherits that version's baseline, so that a challenger
    -- made from the deployed model shows drift like its champion (NOTICE): from its
    -- parent_version, or, without one, from the version it is a byte-for-byte copy of
    -- (ml_register(name, ml_get(name))). A version left without a baseline while other versions of
    -- the name have one gets a WARNING: the monitoring views could not compare its predictions
    -- (ml_feature_drift says 'no_baseline').
    IF the_baseline IS NULL THEN
        IF p_parent_version IS NOT NULL THEN
            SELECT m.baseline, m.version INTO the_baseline, inherited_from FROM @extschema@.ml_models m
            WHERE m.name = p_name AND m.version = p_parent_version;
        ELSE
            -- (production's first, else the latest of the equal versions)
            SELECT m.baseline, m.version INTO the_baseline, inherited_from FROM @extschema@.ml_models m
            WHERE m.name = p_name AND m.baseline IS NOT NULL
              AND @extschema@.ml_model_bytes(m.model) = @extschema@.ml_model_bytes(p_model)
            ORDER BY EXISTS (SELECT 1 FROM @extschema@.ml_aliases a
                             WHERE a.name = m.name AND a.version = m.version AND a.alias = 'production') DESC,
                     m.version DESC
            LIMIT 1;
        END IF;
        IF the_baseline IS NOT NULL THEN
            RAISE NOTICE 'version % of model "%" inherits the drift baseline of version % (%)', v, p_name, inherited_from,
                         CASE WHEN p_parent_version IS NOT NULL THEN 'its parent_version'
                              ELSE 'it is a copy of that version' END
                USING HINT = 'Pass baseline => ml_profile of its own training features if it was trained on other data.';
        ELSE
            -- (the version with a baseline to name: production's, else the latest)
            SELECT m.version INTO with_baseline FROM @extschema@.ml_models m
            WHERE m.name = p_name AND m.baseline IS NOT NULL
            ORDER BY EXISTS (SELECT 1 FROM @extschema@.ml_aliases a
                             WHERE a.name = m.name AND a.version = m.version AND a.alias = 'production') DESC,
                     m.version DESC
            LIMIT 1;
            IF with_baseline IS NOT NULL THEN
                RAISE WARNING 'version % of model "%" has no drift baseline: ml_feature_drift and ml_data_quality cannot compare its predictions',
                              v, p_name
                    USING DETAIL = format('Version %s of the model has a baseline.', with_baseline),
                          HINT = format('Pass baseline => (SELECT ml_profile(features) FROM <its training data>), '
                                        'or parent_version => %s to inherit that version''s baseline.', with_baseline);
            END IF;
        END IF;
    END IF;
    INSERT INTO @extschema@.ml_models (name, version, model, kind, spec, created_by, parent_version,
                                       provenance, baseline, metrics, notes, event, task)
    VALUES (p_name, v, p_model, info ->> 'kind', info -> 'spec', p_actor, p_parent_version,
            coalesce(p_provenance, '{}'), the_baseline, coalesce(p_metrics, '{}'), p_notes, e, info ->> 'task');
    RETURN v;
END
$$;

-- Issue 12, poison labels: labels a version refused to learn (its weights would diverge on one,
-- or a statistic overflow), moved here from the queue with their error by ml_learn_pending and by
-- sync mode's commit; the version learned the others. A copy of the prediction's logged features
-- and label, so that a row outlives the log's retention. No foreign key: a rejected label never
-- keeps a version registered or a log row from being pruned.
CREATE TABLE @extschema@.ml_rejected_labels (
    prediction_id bigint      PRIMARY KEY,
    model_name    text        NOT NULL,
    version       int         NOT NULL,
    label         float8,
    label_class   text,
    labeled_at    timestamptz,
    features      jsonb       NOT NULL,
    rejected_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    sqlstate      text        NOT NULL,
    message       text        NOT NULL,
    detail        text
);
CREATE INDEX ml_rejected_labels_version ON @extschema@.ml_rejected_labels (model_name, version);
COMMENT ON TABLE @extschema@.ml_rejected_labels IS
    'pg_learn: labels a version refused to learn (poison labels), with their error; the version learned the others';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.ml_rejected_labels', '');
REVOKE ALL ON TABLE @extschema@.ml_rejected_labels FROM PUBLIC;

COMMENT ON VIEW @extschema@.ml_model_health IS
    'Per deployed model: age, examples seen, pending and rejected labels, time since it learned and predicted, prediction rate, NaN/Inf scores';

-- Part 60: ml_feature_drift's insufficient_data and no_baseline statuses and row_count.
CREATE OR REPLACE VIEW @extschema@.ml_feature_drift WITH (security_barrier) AS
SELECT w.bucket AS time, w.model_name AS model, w.version::text AS version, w.variant, r.feature, r.kind,
       r.method, r.value, r.lower, r.upper, r.pvalue, r.warn_threshold, r.alert_threshold, st.status,
       CASE st.status WHEN 'ok' THEN 0 WHEN 'warn' THEN 1 WHEN 'alert' THEN 2 END AS status_level,
       r.baseline_count, r.current_count, @extschema@.ml_profile_rows(w.features) AS row_count
FROM @extschema@.ml_monitor_windows w
JOIN @extschema@.ml_models m ON m.name = w.model_name AND m.version = w.version
JOIN @extschema@._ml_monitor_config c ON c.model_name = w.model_name AND c.setting = 'drift_options'
JOIN @extschema@._ml_monitor_config n ON n.model_name = w.model_name AND n.setting = 'min_rows'
CROSS JOIN LATERAL (
    SELECT d.feature, d.kind, d.method, d.value, d.lower, d.upper, d.pvalue, d.warn_threshold,
           d.alert_threshold, d.status, d.baseline_count, d.current_count
    FROM @extschema@.ml_drift_report(m.baseline, w.features, (c.value)::jsonb) d
    UNION ALL
    SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'no_baseline', NULL, NULL
    WHERE m.baseline IS NULL AND w.features IS NOT NULL
) r
CROSS JOIN LATERAL (
    SELECT CASE WHEN r.status IN ('ok', 'warn', 'alert')
                     AND least(r.baseline_count, r.current_count) < (n.value)::bigint
                THEN 'insufficient_data' ELSE r.status END AS status
) st
ORDER BY w.bucket, w.model_name, w.version, w.variant, r.feature;
COMMENT ON VIEW @extschema@.ml_feature_drift IS
    'Per feature, model, version, variant and time bucket: drift of the logged features against the training baseline (method, value, thresholds, status: ok, warn, alert, no_data, insufficient_data, no_baseline; row count)';

-- Part 60: ml_data_quality's row_count and DATASET_LOW_NUM_EXAMPLES below min_rows.
CREATE OR REPLACE VIEW @extschema@.ml_data_quality WITH (security_barrier) AS
SELECT w.bucket AS time, w.model_name AS model, w.version::text AS version, w.variant, a.feature,
       a.anomaly, a.severity, a.count, a.description, @extschema@.ml_profile_rows(w.features) AS row_count
FROM @extschema@.ml_monitor_windows w
JOIN @extschema@.ml_models m ON m.name = w.model_name AND m.version = w.version
JOIN @extschema@._ml_monitor_config c ON c.model_name = w.model_name AND c.setting = 'anomaly_options'
JOIN @extschema@._ml_monitor_config n ON n.model_name = w.model_name AND n.setting = 'min_rows'
CROSS JOIN LATERAL (
    SELECT x.*, row_number() OVER () AS ord
    FROM @extschema@.ml_anomalies(m.baseline, w.features,
                                  pg_catalog.jsonb_build_object('min_rows', (n.value)::bigint) || (c.value)::jsonb) x
) a
ORDER BY w.bucket, w.model_name, w.version, w.variant, a.ord;

-- END issue 11 item 8 (monitoring traps)
-- Issue 11, item 5 (no label leakage): the label named by its column of a row.
-- The label named by its column, every other column of the row a feature (as BigQuery ML's
-- input_label_cols): the label never becomes a feature. The argument is a name, not text: a text
-- third argument is a class label. ml_fit(spec, t, 'y'::name) learns t.y from t's other columns.
CREATE FUNCTION ml_fit_one(model ml_model, x record, label name) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_row_label' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_fit_one(ml_model, record, name) IS
    'The model after learning one row, its label the column named label (never a feature)';
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x record, label name) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_row_label' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE ml_fit(model ml_model, x record, label name) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_fit(ml_model, record, name) IS
    'The model after one online pass over the rows, their label the column named label (never a feature)';

-- ---------------------------------------------------------------------------------------------
-- Issue 11, items 6, 7 and 9 (errors that point the right way, small silent acceptances).
-- ---------------------------------------------------------------------------------------------
-- Part 00: equality and order of ml_model (GROUP BY, DISTINCT, UNION, IN on models).
CREATE FUNCTION ml_model_eq(a ml_model, b ml_model) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_ne(a ml_model, b ml_model) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_lt(a ml_model, b ml_model) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_le(a ml_model, b ml_model) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_gt(a ml_model, b ml_model) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_ge(a ml_model, b ml_model) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_cmp(a ml_model, b ml_model) RETURNS int
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_hash(m ml_model) RETURNS int
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_hash_extended(m ml_model, seed bigint) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR = (
    LEFTARG = ml_model, RIGHTARG = ml_model, FUNCTION = ml_model_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR <> (
    LEFTARG = ml_model, RIGHTARG = ml_model, FUNCTION = ml_model_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR < (
    LEFTARG = ml_model, RIGHTARG = ml_model, FUNCTION = ml_model_lt,
    COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR <= (
    LEFTARG = ml_model, RIGHTARG = ml_model, FUNCTION = ml_model_le,
    COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR > (
    LEFTARG = ml_model, RIGHTARG = ml_model, FUNCTION = ml_model_gt,
    COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
CREATE OPERATOR >= (
    LEFTARG = ml_model, RIGHTARG = ml_model, FUNCTION = ml_model_ge,
    COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR CLASS ml_model_ops DEFAULT FOR TYPE ml_model USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 ml_model_cmp(ml_model, ml_model);
CREATE OPERATOR CLASS ml_model_ops DEFAULT FOR TYPE ml_model USING hash AS
    OPERATOR 1 =,
    FUNCTION 1 ml_model_hash(ml_model),
    FUNCTION 2 ml_model_hash_extended(ml_model, bigint);
COMMENT ON OPERATOR = (ml_model, ml_model) IS 'equal models (equal binary forms)';

-- Part 10: ml_stats(char(n) column) is an aggregate, not a cast to ml_stats.
CREATE FUNCTION ml_stats_transition(state ml_stats, x bpchar) RETURNS ml_stats
    AS 'MODULE_PATHNAME', 'ml_stats_transition_bpchar' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE ml_stats(x bpchar) (
    SFUNC = ml_stats_transition, STYPE = ml_stats, SSPACE = 20000,
    COMBINEFUNC = ml_stats_combine, FINALFUNC = ml_stats_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_stats(bpchar) IS 'ml_stats(text) for char(n) columns (trailing blanks removed)';

-- Part 20: ml_accuracy('1', 1) (text against a number) says what is wrong.
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

-- Part 40: ml_unregister says what still uses the model (attached tables, queued labels) instead
-- of failing on a foreign key (both refused even with force => true); force removes the rollouts.
CREATE OR REPLACE FUNCTION @extschema@._ml_unregister(p_name text, p_force boolean, p_actor name) RETURNS int
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    deployed text;
    tables text;
    queued bigint;
    n int;
BEGIN
    PERFORM @extschema@._ml_check_name('model name', p_name);
    IF p_force IS NULL THEN
        RAISE EXCEPTION 'force must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM @extschema@._ml_lock_name(p_name);
    SELECT string_agg(format('%s -> %s', a.alias, a.version), ', ' ORDER BY a.alias) INTO deployed
    FROM @extschema@.ml_aliases a WHERE a.name = p_name;
    IF deployed IS NOT NULL AND NOT p_force THEN
        RAISE EXCEPTION 'model "%" is deployed (%)', p_name, deployed
            USING ERRCODE = 'object_in_use', HINT = 'Undeploy it first, or pass force => true.';
    END IF;
    -- What still uses the model (part 50), said plainly instead of as a foreign-key violation.
    -- Locking the versions first waits for a transaction queueing a label meanwhile.
    PERFORM 1 FROM @extschema@.ml_models m WHERE m.name = p_name FOR UPDATE;
    SELECT string_agg(t.table_name::text, ', ' ORDER BY t.table_name::text) INTO tables
    FROM @extschema@.ml_attachments t WHERE t.model_name = p_name;
    IF tables IS NOT NULL THEN
        RAISE EXCEPTION 'model "%" is attached to %', p_name, tables
            USING ERRCODE = 'object_in_use', HINT = 'Detach the tables first (ml_detach), even with force => true.';
    END IF;
    -- A queued label is a promise to learn: not even force breaks it.
    SELECT count(*) INTO queued FROM @extschema@.ml_label_queue q WHERE q.model_name = p_name;
    IF queued > 0 THEN
        RAISE EXCEPTION 'model "%" has % labels waiting to be learned', p_name, queued
            USING ERRCODE = 'object_in_use',
                  DETAIL = 'Queued labels keep their model registered, even with force => true.',
                  HINT = format('Learn them first: SELECT @extschema@.ml_learn_pending(%L);', p_name);
    END IF;
    -- force: the rollouts of its aliases go with the aliases.
    DELETE FROM @extschema@.ml_rollouts r WHERE r.model_name = p_name;
    DELETE FROM @extschema@.ml_deployments d WHERE d.name = p_name;
    DELETE FROM @extschema@.ml_aliases a WHERE a.name = p_name;
    DELETE FROM @extschema@.ml_models m WHERE m.name = p_name;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM @extschema@.ml_model_names r WHERE r.name = p_name;
    RETURN n;
END
$$;

-- Part 60: a classification_threshold outside (0, 1) is refused.
-- (_ml_monitor_set: re-created once above, with the monitoring block's min_rows setting)

-- ---------------------------------------------------------------------------------------------
-- Issue 11, item 3: feature mismatches are visible. The prediction log counts each prediction's
-- unknown features, unknown categories, missing features and type mismatches (NULL for the rows
-- logged before); the window statistics sum them, ml_monitor_refresh rolls them up, and
-- ml_model_metrics shows their rates per model version and bucket.
ALTER TABLE @extschema@.ml_prediction_log
    ADD COLUMN unknown_features   int,
    ADD COLUMN unknown_categories int,
    ADD COLUMN missing_features   int,
    ADD COLUMN type_mismatches    int;
ALTER TABLE @extschema@.ml_monitor_windows
    ADD COLUMN feature_checks         bigint NOT NULL DEFAULT 0 CHECK (feature_checks >= 0),
    ADD COLUMN unknown_features       bigint NOT NULL DEFAULT 0 CHECK (unknown_features >= 0),
    ADD COLUMN unknown_categories     bigint NOT NULL DEFAULT 0 CHECK (unknown_categories >= 0),
    ADD COLUMN missing_features       bigint NOT NULL DEFAULT 0 CHECK (missing_features >= 0),
    ADD COLUMN type_mismatches        bigint NOT NULL DEFAULT 0 CHECK (type_mismatches >= 0),
    ADD COLUMN mismatched_predictions bigint NOT NULL DEFAULT 0 CHECK (mismatched_predictions >= 0);

-- ml_model_metrics: the feature mismatch rates (written here, and again in its final form further
-- below, because the DROP of _ml_is_classifier that follows needs the view off it).
CREATE OR REPLACE VIEW @extschema@.ml_model_metrics WITH (security_barrier) AS
SELECT w.bucket AS time, w.model_name AS model, w.version::text AS version, w.variant, x.metric, x.value
FROM @extschema@.ml_monitor_windows w
JOIN @extschema@.ml_models m ON m.name = w.model_name AND m.version = w.version
JOIN @extschema@._ml_monitor_config c ON c.model_name = w.model_name AND c.setting = 'classification_threshold'
CROSS JOIN LATERAL (
    SELECT m.task = 'binary' AS classifier, m.task = 'multiclass' AS multiclass
) k
CROSS JOIN LATERAL (VALUES
    (1, 'predictions', w.predictions::float8),
    (2, 'labels', w.labels::float8),
    (3, 'label_coverage', CASE WHEN w.predictions > 0 THEN w.labels::float8 / w.predictions END),
    (4, 'label_delay_mean', @extschema@.ml_mean(w.label_delay)),
    (5, 'label_delay_p50', @extschema@.ml_quantile(w.label_delay, 0.5)),
    (6, 'label_delay_p95', @extschema@.ml_quantile(w.label_delay, 0.95)),
    (7, 'score_mean', @extschema@.ml_mean(w.scores)),
    (8, 'nan_scores', @extschema@.ml_nan_count(w.scores)::float8),
    (9, 'inf_scores', @extschema@.ml_inf_count(w.scores)::float8),
    (10, 'label_mean', @extschema@.ml_mean(w.label_values)),
    (11, 'unscored_labels', w.unscored_labels::float8),
    (12, 'accuracy', CASE WHEN k.classifier THEN @extschema@.ml_accuracy(w.metric_state, c.value::float8)
                          WHEN k.multiclass THEN @extschema@.ml_accuracy(w.class_state) END),
    (13, 'auc', CASE WHEN k.classifier THEN @extschema@.ml_auc(w.metric_state) END),
    (14, 'logloss', CASE WHEN k.classifier AND w.unit_scores THEN @extschema@.ml_logloss(w.metric_state)
                         WHEN k.multiclass THEN @extschema@.ml_logloss(w.class_state) END),
    (15, 'mae', CASE WHEN NOT k.classifier AND NOT k.multiclass THEN @extschema@.ml_mae(w.metric_state) END),
    (16, 'rmse', CASE WHEN NOT k.classifier AND NOT k.multiclass THEN @extschema@.ml_rmse(w.metric_state) END),
    (17, 'r2', CASE WHEN NOT k.classifier AND NOT k.multiclass THEN @extschema@.ml_r2(w.metric_state) END),
    (18, 'macro_f1', CASE WHEN k.multiclass THEN @extschema@.ml_f1(w.class_state, 'macro') END),
    -- feature mismatches per prediction checked (docs/features.md), and the fraction of the
    -- predictions with at least one
    (40, 'unknown_feature_rate', w.unknown_features::float8 / nullif(w.feature_checks, 0)),
    (41, 'unknown_category_rate', w.unknown_categories::float8 / nullif(w.feature_checks, 0)),
    (42, 'missing_feature_rate', w.missing_features::float8 / nullif(w.feature_checks, 0)),
    (43, 'type_mismatch_rate', w.type_mismatches::float8 / nullif(w.feature_checks, 0)),
    (44, 'feature_mismatch_rate', w.mismatched_predictions::float8 / nullif(w.feature_checks, 0))
    -- a multiclass model's recall of each class, by class (byte order)
    UNION ALL
    SELECT 100 + r.n, 'recall:' || r.class, r.recall
    FROM @extschema@.ml_class_report(w.class_state) WITH ORDINALITY r(class, "precision", recall, f1, support, n)
    WHERE k.multiclass
) x(ord, metric, value)
WHERE x.value IS NOT NULL
ORDER BY w.bucket, w.model_name, w.version, w.variant, x.ord;
COMMENT ON VIEW @extschema@.ml_model_metrics IS
    'Per model, version, variant and time bucket: predictions, label coverage and delay, score mean, NaN/Inf scores, accuracy/AUC/log loss or MAE/RMSE/R2 (multiclass: accuracy, log loss, macro F1, recall per class), feature mismatch rates';
-- The 0.1.0 view used _ml_is_classifier; the classifier is now known by ml_models.task.
DROP FUNCTION @extschema@._ml_is_classifier(text);

-- BEGIN issue 12 item 4 (partitioned attached tables, partitioned prediction log)
-- The queue keeps the prediction's predicted_at: the partition key of a partitioned log, whose
-- foreign key is then (prediction_id, predicted_at) (ml_partition_log).
ALTER TABLE @extschema@.ml_label_queue ADD COLUMN predicted_at timestamptz;
UPDATE @extschema@.ml_label_queue q SET predicted_at = l.predicted_at
FROM @extschema@.ml_prediction_log l WHERE l.prediction_id = q.prediction_id;
ALTER TABLE @extschema@.ml_monitor_state ADD COLUMN log_partition_interval interval,
    ADD COLUMN log_partition_premake int, ADD COLUMN log_partitioned_until timestamptz;

-- ml_attach accepts partitioned tables (and refuses a partition of an attached one); ml_detach says so.

CREATE OR REPLACE FUNCTION @extschema@._ml_detach(p_table regclass, p_actor name) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    att @extschema@.ml_attachments;
    owner oid;
    trg name;
    detail text;
BEGIN
    IF p_table IS NULL THEN
        RAISE EXCEPTION 'table must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT c.relowner INTO owner FROM pg_class c WHERE c.oid = p_table;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', p_table::oid USING ERRCODE = 'undefined_table';
    END IF;
    IF NOT pg_has_role(p_actor, owner, 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', p_table USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', p_table);
    DELETE FROM @extschema@.ml_attachments t WHERE t.table_name = p_table RETURNING * INTO att;
    IF NOT FOUND THEN
        SELECT format('It is a partition of %s, which is attached to model "%s".', anc.relid::regclass, t.model_name)
        INTO detail
        FROM pg_partition_ancestors(p_table) anc JOIN @extschema@.ml_attachments t ON t.table_name = anc.relid
        LIMIT 1;
        IF detail IS NOT NULL THEN
            RAISE EXCEPTION 'table % is not attached to a model', p_table USING ERRCODE = 'undefined_object',
                DETAIL = detail, HINT = 'ml_detach the partitioned table (all its partitions), or ALTER TABLE ... DETACH PARTITION this one (its rows are then no longer scored).';
        END IF;
        RAISE EXCEPTION 'table % is not attached to a model', p_table USING ERRCODE = 'undefined_object';
    END IF;
    -- (A trigger dropped by hand is not an error: detaching removes what is left. Dropping a
    -- partitioned table's trigger drops its clones on the partitions.)
    FOR trg IN SELECT g.tgname FROM pg_trigger g
               WHERE g.tgrelid = p_table
                 AND g.tgname IN ('pg_learn_score_insert', 'pg_learn_score_update', 'pg_learn_log_insert', 'pg_learn_log_update',
                                  'pg_learn_log_delete')
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', trg, p_table);
    END LOOP;
    IF att.label_table IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM @extschema@.ml_attachments t WHERE t.label_table = att.label_table)
       AND EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = att.label_table AND g.tgname = 'pg_learn_label') THEN
        EXECUTE format('DROP TRIGGER pg_learn_label ON %s', att.label_table);
    END IF;
    PERFORM @extschema@._ml_feedback_invalidate();
END
$$;

-- ml_partition_log, and ml_prune_log dropping whole partitions.
CREATE FUNCTION @extschema@._ml_log_partitions()
    RETURNS TABLE (part regclass, lower_bound timestamptz, upper_bound timestamptz, is_default boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid::regclass,
           (substring(b.expr FROM 'FROM \(''([^'']*)''\)'))::timestamptz,
           (substring(b.expr FROM 'TO \(''([^'']*)''\)'))::timestamptz,
           b.expr = 'DEFAULT'
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS expr) b
    WHERE i.inhparent = '@extschema@.ml_prediction_log'::regclass
$$;

CREATE FUNCTION @extschema@._ml_log_premake() RETURNS int
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    st @extschema@.ml_monitor_state;
    b timestamptz;
    latest timestamptz;
    def regclass;
    n int := 0;
BEGIN
    SELECT * INTO st FROM @extschema@.ml_monitor_state;
    IF st.log_partition_interval IS NULL THEN
        RETURN 0;
    END IF;
    b := greatest(st.log_partitioned_until,
                  date_bin(st.log_partition_interval, now(), '2000-01-01 00:00:00+00'::timestamptz));
    SELECT p.part INTO def FROM @extschema@._ml_log_partitions() p WHERE p.is_default;
    IF def IS NOT NULL THEN
        EXECUTE format('SELECT max(predicted_at) FROM %s', def) INTO latest;
    END IF;
    IF latest >= b THEN
        b := date_bin(st.log_partition_interval, latest, '2000-01-01 00:00:00+00'::timestamptz) + st.log_partition_interval;
    END IF;
    WHILE b < now() + st.log_partition_premake * st.log_partition_interval LOOP
        EXECUTE format('CREATE TABLE @extschema@.%I PARTITION OF @extschema@.ml_prediction_log FOR VALUES FROM (%L) TO (%L)',
                       'ml_prediction_log_p' || to_char(b AT TIME ZONE 'UTC', 'YYYYMMDD"_"HH24MISS'),
                       b, b + st.log_partition_interval);
        b := b + st.log_partition_interval;
        n := n + 1;
        UPDATE @extschema@.ml_monitor_state SET log_partitioned_until = b;
    END LOOP;
    RETURN n;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._ml_prune_log(p_older_than interval, p_actor name) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    older_than interval := coalesce(p_older_than, @extschema@._ml_setting('log_retention')::interval);
    keep_windows interval := @extschema@._ml_setting('window_retention')::interval;
    ids bigint[];
    n bigint;
    dropped bigint := 0;
    p record;
    rows_in bigint;
    busy boolean;
    saved_timeout text;
BEGIN
    IF older_than < interval '0' THEN
        RAISE EXCEPTION 'older_than must not be negative' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Roll everything committed up first (this also takes the lock that serializes with other
    -- refreshes and prunes), so that what is old enough can go.
    PERFORM @extschema@._ml_monitor_refresh(NULL, p_actor);
    -- Whole partitions (issue 12): those that end before the cutoff, with no event waiting in the
    -- inbox and no label in the queue. Each is locked first, without waiting (a labeller or
    -- learner writing to it keeps it for the next prune); DETACH PARTITION then checks the
    -- queue's foreign key again. The log itself is locked for a moment (lock_timeout 1s).
    FOR p IN SELECT x.part FROM @extschema@._ml_log_partitions() x
             WHERE NOT x.is_default AND x.upper_bound <= now() - older_than
             ORDER BY x.upper_bound
    LOOP
        saved_timeout := current_setting('lock_timeout');
        BEGIN
            PERFORM set_config('lock_timeout', '1s', true);
            EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE NOWAIT', p.part);
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM @extschema@.ml_label_queue q JOIN %1$s l ON l.prediction_id = q.prediction_id)'
                           ' OR EXISTS (SELECT 1 FROM @extschema@.ml_monitor_inbox i JOIN %1$s l ON l.prediction_id = i.prediction_id)',
                           p.part) INTO busy;
            IF NOT busy THEN
                EXECUTE format('SELECT count(*) FROM %s', p.part) INTO rows_in;
                EXECUTE format('ALTER TABLE @extschema@.ml_prediction_log DETACH PARTITION %s', p.part);
                EXECUTE format('DROP TABLE %s', p.part);
                dropped := dropped + rows_in;
            END IF;
        EXCEPTION WHEN lock_not_available THEN
            NULL;  -- in use: left for the next prune (its old rows are deleted below meanwhile)
        END;
        PERFORM set_config('lock_timeout', saved_timeout, true);
    END LOOP;
    -- Lock the candidates, skipping rows another transaction is changing (a label arriving).
    -- The next statement takes a new snapshot: a label committed before the lock was granted is
    -- visible there together with its inbox event and queue entry, and keeps its row.
    ids := ARRAY(SELECT l.prediction_id FROM @extschema@.ml_prediction_log l
                 WHERE l.predicted_at < now() - older_than
                 FOR UPDATE SKIP LOCKED);
    DELETE FROM @extschema@.ml_prediction_log l
    WHERE l.prediction_id = ANY (ids) AND l.predicted_at < now() - older_than
      AND NOT EXISTS (SELECT 1 FROM @extschema@.ml_monitor_inbox i WHERE i.prediction_id = l.prediction_id)
      AND NOT EXISTS (SELECT 1 FROM @extschema@.ml_label_queue q WHERE q.prediction_id = l.prediction_id);
    GET DIAGNOSTICS n = ROW_COUNT;
    n := n + dropped;
    IF keep_windows IS NOT NULL THEN
        DELETE FROM @extschema@.ml_monitor_windows w
        WHERE w.bucket < @extschema@._ml_bucket(now() - keep_windows, @extschema@._ml_setting('bucket_width')::interval);
    END IF;
    PERFORM @extschema@._ml_log_premake();
    UPDATE @extschema@.ml_monitor_state SET pruned_at = now(), pruned_rows = n;
    RETURN n;
END
$$;

CREATE FUNCTION @extschema@.ml_partition_log(every interval, premake int DEFAULT 3)
    RETURNS int AS 'MODULE_PATHNAME', 'ml_monitor_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_partition_log(interval, int) IS
    'Partitions the prediction log by predicted_at (partitions of the given width, created premake ahead), so that ml_prune_log drops whole partitions; returns the partitions created';

REVOKE EXECUTE ON FUNCTION @extschema@.ml_partition_log(interval, int) FROM PUBLIC;
-- END issue 12 item 4
-- Issue 12 item 7 (feedback speed): room on the log's pages for the label's and learned_at's new
-- row versions, so that those updates are HOT (as in src/sql/50_feedback.sql). Pages written
-- before the upgrade keep theirs full; new rows leave the room.
ALTER TABLE @extschema@.ml_prediction_log SET (fillfactor = 80);
-- Issue 13, concept-drift detectors (as in src/sql/37_detectors.sql): the ml_detector type,
-- ml_detector / ml_detector_update / ml_detector_info, the ml_drift_detector and ml_detector_run
-- aggregates; the error-stream detectors of monitoring: the table ml_monitor_detectors, fed by
-- _ml_monitor_refresh, emptied by _ml_monitor_reset, read by ml_model_health (as in
-- src/sql/60_monitoring.sql).

-- ---------------------------------------------------------------------------------------------
-- A detector's whole state: JSON text (exact state; a bare kind name reads as a fresh detector),
-- versioned binary send/recv, both validated completely.
-- ---------------------------------------------------------------------------------------------
CREATE TYPE ml_detector;

CREATE FUNCTION ml_detector_in(cstring) RETURNS ml_detector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_detector_out(ml_detector) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_detector_recv(internal) RETURNS ml_detector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_detector_send(ml_detector) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE ml_detector (
    INPUT = ml_detector_in,
    OUTPUT = ml_detector_out,
    RECEIVE = ml_detector_recv,
    SEND = ml_detector_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);
COMMENT ON TYPE ml_detector IS
    'A concept-drift detector over a stream of numbers (adwin, page_hinkley, ddm, kswin) with its options and state';

CREATE FUNCTION ml_detector_bytes(detector ml_detector) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ml_detector_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_detector_from_bytes(bytes bytea) RETURNS ml_detector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_detector_from_bytes(bytea) IS
    'A detector from its binary form (ml_detector_bytes), validated completely';

-- A fresh detector. Kinds: adwin, page_hinkley (or ph), ddm, kswin (case-insensitive); options
-- checked strictly (unknown key, wrong type, out of range: 22023 naming the key).
CREATE FUNCTION ml_detector(kind text, options jsonb DEFAULT '{}') RETURNS ml_detector
    AS 'MODULE_PATHNAME', 'ml_detector_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_detector(text, jsonb) IS
    'A fresh drift detector: adwin, page_hinkley, ddm or kswin, with options (docs/detectors.md)';

-- The detector after one more value (row by row: UPDATE t SET d = ml_detector_update(d, x)).
-- NULL x leaves the state as it was (nothing learned, no change reported); NaN and infinities
-- are errors (22003); ddm takes only 0 and 1 (22023).
CREATE FUNCTION ml_detector_update(detector ml_detector, x float8) RETURNS ml_detector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_detector_update(ml_detector, float8) IS
    'The detector after the value x; ml_detector_drift tells whether a change was detected at x';
CREATE FUNCTION ml_detector_drift(detector ml_detector) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_detector_drift(ml_detector) IS 'Whether a change was detected at the last value';
CREATE FUNCTION ml_detector_info(detector ml_detector) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_detector_info(ml_detector) IS
    'Kind, options, values seen, detections, last change (1-based index), drift at the last value, window width, estimate, test values';

-- ---------------------------------------------------------------------------------------------
-- Aggregates over an ordered stream. ml_drift_detector is true at the rows where a change is
-- detected when used as a window function: ml_drift_detector('adwin', err) OVER (ORDER BY ts)
-- (order by a unique key, or use ROWS: peers of a RANGE frame share one answer).
-- ml_detector_run gives the detector after the whole stream (write ORDER BY inside the call).
-- The state is ml_detector itself, expanded in memory; kind and options are read at the first
-- row. Detectors depend on the order of the values, so the aggregates have no combine function
-- and never run in parallel (docs/detectors.md, "Order and parallelism").
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_drift_detector_transition(state ml_detector, kind text, x float8) RETURNS ml_detector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_drift_detector_transition(state ml_detector, kind text, options jsonb, x float8) RETURNS ml_detector
    AS 'MODULE_PATHNAME', 'ml_drift_detector_transition_options' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_drift_detector_transition(state ml_detector, detector ml_detector, x float8) RETURNS ml_detector
    AS 'MODULE_PATHNAME', 'ml_drift_detector_transition_continue' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_drift_detector_final(state ml_detector) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_detector_state_final(state ml_detector) RETURNS ml_detector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE ml_drift_detector(kind text, x float8) (
    SFUNC = ml_drift_detector_transition, STYPE = ml_detector, SSPACE = 2000,
    FINALFUNC = ml_drift_detector_final, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_drift_detector(text, float8) IS
    'As a window function over ORDER BY: true at the rows where the detector (adwin, page_hinkley, ddm, kswin) detects a change';
CREATE AGGREGATE ml_drift_detector(kind text, options jsonb, x float8) (
    SFUNC = ml_drift_detector_transition, STYPE = ml_detector, SSPACE = 2000,
    FINALFUNC = ml_drift_detector_final, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_drift_detector(text, jsonb, float8) IS
    'ml_drift_detector(kind, x) with options';
CREATE AGGREGATE ml_drift_detector(detector ml_detector, x float8) (
    SFUNC = ml_drift_detector_transition, STYPE = ml_detector, SSPACE = 2000,
    FINALFUNC = ml_drift_detector_final, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_drift_detector(ml_detector, float8) IS
    'ml_drift_detector(kind, x) continuing a stored detector (its counters go on)';
CREATE AGGREGATE ml_detector_run(kind text, x float8) (
    SFUNC = ml_drift_detector_transition, STYPE = ml_detector, SSPACE = 2000,
    FINALFUNC = ml_detector_state_final, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_detector_run(text, float8) IS
    'The detector after the stream (write ORDER BY in the call): ml_detector_info shows its detections and last change';
CREATE AGGREGATE ml_detector_run(kind text, options jsonb, x float8) (
    SFUNC = ml_drift_detector_transition, STYPE = ml_detector, SSPACE = 2000,
    FINALFUNC = ml_detector_state_final, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_detector_run(text, jsonb, float8) IS 'ml_detector_run(kind, x) with options';
CREATE AGGREGATE ml_detector_run(detector ml_detector, x float8) (
    SFUNC = ml_drift_detector_transition, STYPE = ml_detector, SSPACE = 2000,
    FINALFUNC = ml_detector_state_final, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_detector_run(ml_detector, float8) IS
    'A stored detector after more values (write ORDER BY in the call)';

-- Issue 13, drift detectors: per (model, version, variant), ADWIN (default options) over the errors
-- of its labelled predictions, fed by ml_monitor_refresh as it rolls the labels up, and the time of
-- the prediction at which it last detected a change. ml_model_health reads it.
CREATE TABLE @extschema@.ml_monitor_detectors (
    model_name     text        NOT NULL,
    version        int         NOT NULL,
    variant        text        NOT NULL,
    detector       @extschema@.ml_detector NOT NULL,
    last_change_at timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model_name, version, variant),
    FOREIGN KEY (model_name, version) REFERENCES @extschema@.ml_models (name, version) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.ml_monitor_detectors IS
    'pg_learn monitoring: per (model, version, variant) an ADWIN detector over the errors of its labelled predictions';

-- (issue 13: not dumped, as the windows are not: after a restore the log's rows are queued again
-- and the refresh rebuilds the detectors, as ml_monitor_reset does)
REVOKE ALL ON TABLE @extschema@.ml_monitor_detectors FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@._ml_monitor_reset(p_actor name) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM 1 FROM @extschema@.ml_monitor_state FOR UPDATE;
    DELETE FROM @extschema@.ml_monitor_windows;
    DELETE FROM @extschema@.ml_monitor_detectors;  -- (issue 13: rebuilt from the events queued again)
    WITH gone AS (
        DELETE FROM @extschema@.ml_monitor_inbox RETURNING 1
    ), queued AS (
        INSERT INTO @extschema@.ml_monitor_inbox (prediction_id, events)
        SELECT l.prediction_id, CASE WHEN l.label IS NULL AND l.label_class IS NULL THEN 1 ELSE 3 END
        FROM @extschema@.ml_prediction_log l
        RETURNING 1
    )
    SELECT count(*) INTO n FROM queued;
    UPDATE @extschema@.ml_monitor_state SET reset_at = now(), total_events = 0;
    RETURN n;
END
$$;

COMMENT ON VIEW @extschema@.ml_model_health IS
    'Per deployed model: age, examples seen, pending and rejected labels, time since it learned and predicted, prediction rate, NaN/Inf scores, changes ADWIN detected in its labelled errors (when, in which bucket)';
-- END issue 13 drift detectors

-- Issue 13 (k-means, Half-Space Trees): label-less learning, as in src/sql/00_model.sql.
-- Models that learn without labels (clustering, anomaly: issue 13's k-means and Half-Space
-- Trees): the label-less forms. A model that needs a label refuses them.
CREATE FUNCTION ml_fit_one(model ml_model, x jsonb) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_jsonb_unlabelled' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_one(model ml_model, x float8[]) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_array_unlabelled' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_one(model ml_model, x record) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_row_unlabelled' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_fit_one(ml_model, jsonb) IS
    'The model after learning one example without a label (clustering and anomaly models)';
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x jsonb) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_jsonb_unlabelled' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x float8[]) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_array_unlabelled' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x record) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_row_unlabelled' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE ml_fit(model ml_model, x jsonb) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_fit(model ml_model, x float8[]) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_fit(model ml_model, x record) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_fit(ml_model, float8[]) IS
    'The model after one online pass over the rows without labels (clustering and anomaly models)';
-- END issue 13 label-less learning

-- BEGIN issue 12 item 7 (feedback speed: no trigger WHEN clauses)
-- ---------------------------------------------------------------------------------------------
-- Issue 12, item 7: pg_learn_log_update (on each attached table) and ml_monitor_label (on the
-- log, re-created above) have no WHEN clause any more: their functions test the same condition,
-- since PostgreSQL prepares a WHEN clause again in every statement that fires it (~67k
-- instructions per label each). The attached tables' pg_learn_log_update triggers are re-created
-- without it (a partitioned table's clones with it); one whose table the upgrading role cannot
-- alter keeps its clause, which tests what its function tests.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT g.tgrelid::regclass AS tbl, pg_get_triggerdef(g.oid) AS def
             FROM pg_trigger g
             WHERE g.tgname = 'pg_learn_log_update' AND g.tgparentid = 0 AND g.tgqual IS NOT NULL
               AND g.tgrelid IN (SELECT a.table_name FROM @extschema@.ml_attachments a)
    LOOP
        BEGIN
            EXECUTE format('DROP TRIGGER pg_learn_log_update ON %s', t.tbl);
            EXECUTE regexp_replace(t.def, ' WHEN \(.*\) EXECUTE FUNCTION ', ' EXECUTE FUNCTION ');
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;
        END;
    END LOOP;
END
$$;
-- END issue 12 item 7

-- BEGIN issue 13 clustering and anomaly models in scoring triggers and monitoring (wt-unsup)

-- A clustering model's prediction column is text (the cluster); a label column or labels table for
-- a clustering or anomaly model is refused (22023), and so is rolling such a version out on a model
-- with a table attached with labels (_ml_attach and _ml_rollout, in their final form further below).
-- The monitoring (as in src/sql/60_monitoring.sql): ml_monitor_windows.predicted_classes (the
-- predictions of each class or cluster), _ml_count_merge, _ml_monitor_refresh filling it, and
-- ml_model_metrics, ml_model_health, ml_model_health_history without label rows for models that
-- learn without labels (cluster shares for clustering, score quantiles for anomaly).

ALTER TABLE @extschema@.ml_monitor_windows ADD COLUMN predicted_classes jsonb;

-- Issue 13: two {name: count} objects added up (a NULL one is empty; both NULL: NULL).
CREATE FUNCTION @extschema@._ml_count_merge(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a ELSE
        (SELECT jsonb_object_agg(e.k, e.n)
         FROM (SELECT x.key AS k, sum((x.value)::bigint) AS n
               FROM (SELECT * FROM jsonb_each_text(a) UNION ALL SELECT * FROM jsonb_each_text(b)) x
               GROUP BY x.key) e) END
$$;

CREATE OR REPLACE VIEW @extschema@.ml_model_metrics WITH (security_barrier) AS
SELECT w.bucket AS time, w.model_name AS model, w.version::text AS version, w.variant, x.metric, x.value
FROM @extschema@.ml_monitor_windows w
JOIN @extschema@.ml_models m ON m.name = w.model_name AND m.version = w.version
JOIN @extschema@._ml_monitor_config c ON c.model_name = w.model_name AND c.setting = 'classification_threshold'
CROSS JOIN LATERAL (
    SELECT m.task = 'binary' AS classifier, m.task = 'multiclass' AS multiclass,
           m.task IN ('clustering', 'anomaly') AS unsupervised, m.task = 'clustering' AS clustering,
           m.task = 'anomaly' AS anomaly
) k
CROSS JOIN LATERAL (VALUES
    (1, 'predictions', w.predictions::float8),
    (2, 'labels', CASE WHEN NOT k.unsupervised THEN w.labels::float8 END),
    (3, 'label_coverage', CASE WHEN w.predictions > 0 AND NOT k.unsupervised THEN w.labels::float8 / w.predictions END),
    (4, 'label_delay_mean', @extschema@.ml_mean(w.label_delay)),
    (5, 'label_delay_p50', @extschema@.ml_quantile(w.label_delay, 0.5)),
    (6, 'label_delay_p95', @extschema@.ml_quantile(w.label_delay, 0.95)),
    (7, 'score_mean', CASE WHEN NOT k.clustering THEN @extschema@.ml_mean(w.scores) END),
    (8, 'nan_scores', CASE WHEN NOT k.clustering THEN @extschema@.ml_nan_count(w.scores)::float8 END),
    (9, 'inf_scores', CASE WHEN NOT k.clustering THEN @extschema@.ml_inf_count(w.scores)::float8 END),
    (10, 'label_mean', @extschema@.ml_mean(w.label_values)),
    (11, 'unscored_labels', CASE WHEN NOT k.unsupervised THEN w.unscored_labels::float8 END),
    (12, 'accuracy', CASE WHEN k.classifier THEN @extschema@.ml_accuracy(w.metric_state, c.value::float8)
                          WHEN k.multiclass THEN @extschema@.ml_accuracy(w.class_state) END),
    (13, 'auc', CASE WHEN k.classifier THEN @extschema@.ml_auc(w.metric_state) END),
    (14, 'logloss', CASE WHEN k.classifier AND w.unit_scores THEN @extschema@.ml_logloss(w.metric_state)
                         WHEN k.multiclass THEN @extschema@.ml_logloss(w.class_state) END),
    (15, 'mae', CASE WHEN NOT k.classifier AND NOT k.multiclass THEN @extschema@.ml_mae(w.metric_state) END),
    (16, 'rmse', CASE WHEN NOT k.classifier AND NOT k.multiclass THEN @extschema@.ml_rmse(w.metric_state) END),
    (17, 'r2', CASE WHEN NOT k.classifier AND NOT k.multiclass THEN @extschema@.ml_r2(w.metric_state) END),
    (18, 'macro_f1', CASE WHEN k.multiclass THEN @extschema@.ml_f1(w.class_state, 'macro') END),
    -- issue 13: the distribution of an anomaly model's scores
    (19, 'score_p50', CASE WHEN k.anomaly THEN @extschema@.ml_quantile(w.scores, 0.5) END),
    (20, 'score_p95', CASE WHEN k.anomaly THEN @extschema@.ml_quantile(w.scores, 0.95) END),
    (21, 'score_p99', CASE WHEN k.anomaly THEN @extschema@.ml_quantile(w.scores, 0.99) END),
    -- feature mismatches per prediction checked (docs/features.md), and the fraction of the
    -- predictions with at least one
    (40, 'unknown_feature_rate', w.unknown_features::float8 / nullif(w.feature_checks, 0)),
    (41, 'unknown_category_rate', w.unknown_categories::float8 / nullif(w.feature_checks, 0)),
    (42, 'missing_feature_rate', w.missing_features::float8 / nullif(w.feature_checks, 0)),
    (43, 'type_mismatch_rate', w.type_mismatches::float8 / nullif(w.feature_checks, 0)),
    (44, 'feature_mismatch_rate', w.mismatched_predictions::float8 / nullif(w.feature_checks, 0))
    -- a multiclass model's recall of each class, by class (byte order)
    UNION ALL
    SELECT 100 + r.n, 'recall:' || r.class, r.recall
    FROM @extschema@.ml_class_report(w.class_state) WITH ORDINALITY r(class, "precision", recall, f1, support, n)
    WHERE k.multiclass
    -- issue 13: a clustering model's share of the predictions in each cluster (jsonb's key order:
    -- shorter first, so "2" before "10")
    UNION ALL
    SELECT 1000 + e.n, 'cluster_share:' || e.cluster, (e.count)::float8 / w.predictions
    FROM jsonb_each_text(w.predicted_classes) WITH ORDINALITY e(cluster, count, n)
    WHERE k.clustering AND w.predictions > 0
) x(ord, metric, value)
WHERE x.value IS NOT NULL
ORDER BY w.bucket, w.model_name, w.version, w.variant, x.ord;
COMMENT ON VIEW @extschema@.ml_model_metrics IS
    'Per model, version, variant and time bucket: predictions, label coverage and delay, score mean, NaN/Inf scores, accuracy/AUC/log loss or MAE/RMSE/R2 (multiclass: accuracy, log loss, macro F1, recall per class; clustering: share per cluster, no labels; anomaly: score quantiles, no labels), feature mismatch rates';

CREATE OR REPLACE VIEW @extschema@.ml_model_health WITH (security_barrier) AS
SELECT now() AS time, a.name AS model, a.alias, a.version::text AS version, x.metric, x.value
FROM @extschema@.ml_aliases a
JOIN @extschema@.ml_models m ON m.name = a.name AND m.version = a.version
LEFT JOIN LATERAL (
    SELECT sum(w.predictions) AS predictions, min(w.bucket) AS since,
           sum(@extschema@.ml_nan_count(w.scores)) AS nan_scores,
           sum(@extschema@.ml_inf_count(w.scores)) AS inf_scores,
           -- (issue 11: the first prediction of the first bucket, the last of them all)
           (array_agg(w.first_predicted_at ORDER BY w.bucket))[1] AS first_predicted_at,
           max(w.last_predicted_at) AS last_predicted_at
    FROM @extschema@.ml_monitor_windows w
    WHERE w.model_name = a.name AND w.version = a.version AND w.variant = a.alias
      AND w.bucket > now() - (SELECT (c.value)::interval FROM @extschema@._ml_monitor_config c
                              WHERE c.model_name IS NULL AND c.setting = 'health_window')
                           - (SELECT (c.value)::interval FROM @extschema@._ml_monitor_config c
                              WHERE c.model_name IS NULL AND c.setting = 'bucket_width')
) h ON true
-- Issue 11, monitoring traps: the time those buckets cover, so that the prediction rate is not
-- diluted by a bucket's start. From the first bucket's start, or from its first prediction when it
-- is the first bucket this (model, version, alias) has; to the last refresh (what the windows
-- hold), or the last prediction rolled up if later.
CROSS JOIN LATERAL (
    SELECT CASE WHEN h.first_predicted_at IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM @extschema@.ml_monitor_windows e
                                     WHERE e.model_name = a.name AND e.version = a.version
                                       AND e.variant = a.alias AND e.bucket < h.since)
                THEN greatest(h.since, h.first_predicted_at) ELSE h.since END AS since,
           greatest((SELECT st.refreshed_at FROM @extschema@.ml_monitor_state st), h.last_predicted_at) AS until
) cover
-- Issue 13, drift detectors: the error-stream detector of this version under this alias.
LEFT JOIN @extschema@.ml_monitor_detectors dt ON dt.model_name = a.name AND dt.version = a.version AND dt.variant = a.alias
CROSS JOIN LATERAL (SELECT @extschema@.ml_detector_info(dt.detector) AS info) ed
CROSS JOIN LATERAL (VALUES
    (1, 'age_seconds', extract(epoch FROM now() - m.created_at)::float8),
    (2, 'deployed_seconds', extract(epoch FROM now() - a.deployed_at)::float8),
    (3, 'examples_seen', (@extschema@.ml_info(m.model) ->> 'n_seen')::float8),
    -- (issue 13: none for a model that learns without labels, clustering or anomaly)
    (4, 'pending_labels', CASE WHEN m.task NOT IN ('clustering', 'anomaly') THEN
                              (SELECT count(*) FROM @extschema@.ml_label_queue q
                               WHERE q.model_name = a.name AND q.version = a.version)::float8 END),
    -- Issue 12, poison labels: the labels this version refused (moved to ml_rejected_labels)
    (5, 'rejected_labels', CASE WHEN m.task NOT IN ('clustering', 'anomaly') THEN
                               (SELECT count(*) FROM @extschema@.ml_rejected_labels r
                                WHERE r.model_name = a.name AND r.version = a.version)::float8 END),
    (6, 'seconds_since_learned', CASE WHEN m.updated_at > m.created_at
                                      THEN extract(epoch FROM now() - m.updated_at)::float8 END),
    (7, 'seconds_since_prediction',
        extract(epoch FROM now() - (SELECT w.last_predicted_at FROM @extschema@.ml_monitor_windows w
                                    WHERE w.model_name = a.name AND w.version = a.version
                                      AND w.variant = a.alias AND w.predictions > 0
                                    ORDER BY w.bucket DESC LIMIT 1))::float8),
    (8, 'prediction_rate', CASE WHEN h.since IS NULL THEN 0
                                ELSE h.predictions / greatest(extract(epoch FROM cover.until - cover.since), 1) END::float8),
    -- (issue 13: a clustering model's prediction is a cluster, without a score)
    (9, 'nan_scores', CASE WHEN m.task <> 'clustering' THEN coalesce(h.nan_scores, 0)::float8 END),
    (10, 'inf_scores', CASE WHEN m.task <> 'clustering' THEN coalesce(h.inf_scores, 0)::float8 END),
    (11, 'seconds_since_refresh',
         extract(epoch FROM now() - (SELECT st.refreshed_at FROM @extschema@.ml_monitor_state st))::float8),
    -- issue 13: the error-stream detector (absent without labelled predictions; the last change's
    -- time and bucket absent while it never fired)
    (12, 'error_drift_rows', (ed.info ->> 'n')::float8),
    (13, 'error_drift_detections', (ed.info ->> 'detections')::float8),
    (14, 'error_drift_last_at', extract(epoch FROM dt.last_change_at)::float8),
    (15, 'error_drift_last_bucket',
         extract(epoch FROM pg_catalog.date_bin((SELECT (c.value)::interval FROM @extschema@._ml_monitor_config c
                                                 WHERE c.model_name IS NULL AND c.setting = 'bucket_width'),
                                                dt.last_change_at, '2000-01-01 00:00:00+00'::timestamptz))::float8),
    (16, 'seconds_since_error_drift', extract(epoch FROM now() - dt.last_change_at)::float8),
    (17, 'error_drift_window_rows', (ed.info ->> 'width')::float8),
    (18, 'error_drift_window_mean', (ed.info ->> 'estimate')::float8)
) x(ord, metric, value)
WHERE x.value IS NOT NULL
ORDER BY a.name, a.alias, x.ord;

CREATE OR REPLACE VIEW @extschema@.ml_model_health_history WITH (security_barrier) AS
SELECT w.bucket AS time, w.model_name AS model, w.variant AS alias, w.version::text AS version, x.metric, x.value
FROM @extschema@.ml_monitor_windows w
-- (issue 13: a model that learns without labels has no labels row, a clustering model no score rows)
JOIN @extschema@.ml_models m ON m.name = w.model_name AND m.version = w.version
CROSS JOIN LATERAL (
    SELECT CASE WHEN w.first_predicted_at IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM @extschema@.ml_monitor_windows e
                                     WHERE e.model_name = w.model_name AND e.version = w.version
                                       AND e.variant = w.variant AND e.bucket < w.bucket)
                THEN greatest(w.bucket, w.first_predicted_at) ELSE w.bucket END AS since,
           least(w.bucket + (SELECT (c.value)::interval FROM @extschema@._ml_monitor_config c
                             WHERE c.model_name IS NULL AND c.setting = 'bucket_width'),
                 greatest((SELECT st.refreshed_at FROM @extschema@.ml_monitor_state st), w.last_predicted_at)) AS until
) cover
CROSS JOIN LATERAL (VALUES
    (1, 'predictions', w.predictions::float8),
    (2, 'prediction_rate', w.predictions / greatest(extract(epoch FROM cover.until - cover.since), 1)::float8),
    (3, 'nan_scores', CASE WHEN m.task <> 'clustering' THEN coalesce(@extschema@.ml_nan_count(w.scores), 0)::float8 END),
    (4, 'inf_scores', CASE WHEN m.task <> 'clustering' THEN coalesce(@extschema@.ml_inf_count(w.scores), 0)::float8 END),
    (5, 'labels', CASE WHEN m.task NOT IN ('clustering', 'anomaly') THEN w.labels::float8 END)
) x(ord, metric, value)
WHERE x.value IS NOT NULL
ORDER BY w.bucket, w.model_name, w.variant, w.version, x.ord;
COMMENT ON VIEW @extschema@.ml_model_health_history IS
    'Per time bucket, model, alias and version: predictions, prediction rate (over the time the bucket covers), NaN/Inf scores, labels';
REVOKE ALL ON TABLE @extschema@.ml_model_health_history FROM PUBLIC;

-- END issue 13 clustering and anomaly models

-- BEGIN issue 13 monitoring error_detector setting
-- Issue 13: the setting error_detector chooses the detector ml_monitor_refresh runs over each
-- version's labelled errors (ADWIN by default, as before): the settings view, ml_monitor_set's
-- check, the refresh and the comments in their final form.
CREATE OR REPLACE VIEW @extschema@._ml_monitor_setting_defs (setting, scope, kind, default_value, description) AS
VALUES
    ('bucket_width', 'global', 'interval', '01:00:00',
     'width of the time buckets of the window statistics (1 minute or more, no months); aligned on 2000-01-01 00:00 UTC'),
    ('health_window', 'global', 'interval', '01:00:00',
     'ml_model_health counts predictions, NaN and infinite scores over the buckets that overlap this last interval'),
    ('log_retention', 'global', 'interval', '30 days',
     'what ml_prune_log() without an argument keeps of the prediction log'),
    ('window_retention', 'global', 'interval', NULL,
     'window statistics older than this are deleted by ml_prune_log (default: kept for ever)'),
    ('classification_threshold', 'model', 'number', '0.5',
     'a classifier''s score >= threshold counts as predicting 1 (accuracy)'),
    ('drift_options', 'model', 'object', '{}',
     'options of ml_drift_report for ml_feature_drift: method, thresholds, bins, per-feature settings'),
    ('anomaly_options', 'model', 'object', '{}',
     'options of ml_anomalies for ml_data_quality: presence, out-of-range and domain fractions, severities'),
    -- issue 11, monitoring traps: no drift status from a handful of rows
    ('min_rows', 'model', 'count', '100',
     'drift measured on fewer values than this (in the window or the baseline) has status insufficient_data; ml_data_quality reports DATASET_LOW_NUM_EXAMPLES for a window of fewer rows'),
    -- issue 13: the detector over each deployed version's labelled errors (ml_model_health)
    ('error_detector', 'model', 'detector', '{"method": "adwin"}',
     'the drift detector ml_monitor_refresh runs over the errors of each version''s labelled predictions (ml_model_health error_drift_*): {"method": "adwin" | "page_hinkley" | "kswin"} and that method''s ml_detector options; changing it starts the detectors over');

CREATE OR REPLACE FUNCTION @extschema@._ml_monitor_set(p_setting text, p_value text, p_model text, p_actor name) RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp SET IntervalStyle = postgres AS $$
DECLARE
    def record;
    v text;
    iv interval;
    num float8;
    obj jsonb;
    cnt bigint;
BEGIN
    IF p_setting IS NULL THEN
        RAISE EXCEPTION 'setting must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO def FROM @extschema@._ml_monitor_setting_defs d WHERE d.setting = p_setting;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown monitoring setting "%"', p_setting USING ERRCODE = 'invalid_parameter_value',
            HINT = 'The settings are ' || (SELECT string_agg(d.setting, ', ' ORDER BY d.setting)
                                           FROM @extschema@._ml_monitor_setting_defs d) || '.';
    END IF;
    IF p_model IS NOT NULL THEN
        IF def.scope = 'global' THEN
            RAISE EXCEPTION 'setting "%" is global: it cannot be set for one model', p_setting
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Leave model NULL.';
        END IF;
        -- Locks the name (as every registry writer does), so that it cannot be unregistered meanwhile.
        PERFORM 1 FROM @extschema@.ml_model_names n WHERE n.name = p_model FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'model "%" does not exist', p_model USING ERRCODE = 'undefined_object';
        END IF;
    END IF;
    IF p_value IS NOT NULL THEN
        IF def.kind = 'interval' THEN
            BEGIN
                iv := p_value::interval;
            EXCEPTION WHEN data_exception THEN
                RAISE EXCEPTION 'invalid value for setting "%": %', p_setting, SQLERRM
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Give an interval, such as ''15 minutes''.';
            END;
            IF iv <= interval '0' THEN
                RAISE EXCEPTION 'invalid value for setting "%": % is not a positive interval', p_setting, p_value
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF p_setting = 'bucket_width' THEN
                IF extract(month FROM iv) <> 0 OR extract(year FROM iv) <> 0 THEN
                    RAISE EXCEPTION 'invalid value for setting "bucket_width": % has months or years', p_value
                        USING ERRCODE = 'invalid_parameter_value', HINT = 'Use days instead (''30 days'').';
                END IF;
                IF iv < interval '1 minute' THEN
                    RAISE EXCEPTION 'invalid value for setting "bucket_width": % is shorter than a minute', p_value
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
            END IF;
            v := iv::text;
        ELSIF def.kind = 'number' THEN
            BEGIN
                num := p_value::float8;
            EXCEPTION WHEN data_exception THEN
                RAISE EXCEPTION 'invalid value for setting "%": %', p_setting, SQLERRM
                    USING ERRCODE = 'invalid_parameter_value';
            END;
            IF num = 'NaN'::float8 OR num IN ('Infinity'::float8, '-Infinity'::float8) THEN
                RAISE EXCEPTION 'invalid value for setting "%": % is not finite', p_setting, p_value
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            -- A threshold of 0 or 1 or beyond makes every prediction one class: refused.
            IF p_setting = 'classification_threshold' AND NOT (num > 0 AND num < 1) THEN
                RAISE EXCEPTION 'invalid value for setting "classification_threshold": % is not between 0 and 1', p_value
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'A classifier''s score is a probability: give a threshold strictly between 0 and 1, such as 0.5.';
            END IF;
            v := num::text;
        ELSIF def.kind = 'count' THEN
            BEGIN
                cnt := p_value::bigint;
            EXCEPTION WHEN data_exception THEN
                RAISE EXCEPTION 'invalid value for setting "%": %', p_setting, SQLERRM
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Give a whole number of rows, such as ''100''.';
            END;
            IF cnt < 0 THEN
                RAISE EXCEPTION 'invalid value for setting "%": % is negative', p_setting, p_value
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            v := cnt::text;
        ELSIF def.kind = 'detector' THEN
            -- issue 13: {"method": ..., options}, checked by making the detector (ml_detector's own
            -- strict parser names a wrong option). DDM takes only 0/1 errors, and a regressor's
            -- error is real-valued: left out here (ADWIN over a classifier's 0/1 errors does its job).
            BEGIN
                obj := p_value::jsonb;
            EXCEPTION WHEN data_exception THEN
                RAISE EXCEPTION 'invalid value for setting "%": %', p_setting, SQLERRM
                    USING ERRCODE = 'invalid_parameter_value';
            END;
            IF jsonb_typeof(obj) <> 'object' OR jsonb_typeof(obj -> 'method') IS DISTINCT FROM 'string' THEN
                RAISE EXCEPTION 'invalid value for setting "%": not a JSON object with a "method"', p_setting
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'For example {"method": "page_hinkley", "threshold": 25}.';
            END IF;
            IF lower(obj ->> 'method') = 'ddm' THEN
                RAISE EXCEPTION 'invalid value for setting "%": method "ddm" cannot watch every model''s errors', p_setting
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'DDM takes only 0/1 errors, and a regressor''s errors are real numbers; adwin over a classifier''s 0/1 errors detects the same changes.';
            END IF;
            IF lower(obj ->> 'method') NOT IN ('adwin', 'page_hinkley', 'pagehinkley', 'ph', 'kswin') THEN
                RAISE EXCEPTION 'invalid value for setting "%": method "%" is not one of adwin, page_hinkley, kswin',
                                p_setting, obj ->> 'method'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            PERFORM @extschema@.ml_detector(obj ->> 'method', obj - 'method');
            v := obj::text;
        ELSE
            BEGIN
                obj := p_value::jsonb;
            EXCEPTION WHEN data_exception THEN
                RAISE EXCEPTION 'invalid value for setting "%": %', p_setting, SQLERRM
                    USING ERRCODE = 'invalid_parameter_value';
            END;
            IF jsonb_typeof(obj) <> 'object' THEN
                RAISE EXCEPTION 'invalid value for setting "%": not a JSON object', p_setting
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            PERFORM @extschema@._ml_monitor_check_options(p_setting, obj);
            v := obj::text;
        END IF;
    END IF;
    IF p_setting = 'bucket_width' THEN
        -- The buckets already stored were cut at the old width: a late label could not find its
        -- prediction's bucket. Changing it needs empty window statistics (ml_monitor_reset).
        PERFORM 1 FROM @extschema@.ml_monitor_state FOR UPDATE;
        IF v IS DISTINCT FROM @extschema@._ml_setting('bucket_width')
           AND EXISTS (SELECT 1 FROM @extschema@.ml_monitor_windows) THEN
            RAISE EXCEPTION 'bucket_width cannot change while window statistics exist'
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'ml_monitor_reset() empties them; the next ml_monitor_refresh() rebuilds them at the new width from the prediction log.';
        END IF;
    END IF;
    IF v IS NULL THEN
        DELETE FROM @extschema@.ml_settings s WHERE s.model_name IS NOT DISTINCT FROM p_model AND s.setting = p_setting;
    ELSE
        INSERT INTO @extschema@.ml_settings AS s (model_name, setting, value, updated_by)
        VALUES (p_model, p_setting, v, p_actor)
        ON CONFLICT ON CONSTRAINT ml_settings_key
        DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by;
    END IF;
    IF p_setting = 'error_detector' THEN
        -- The detectors of the models this value applies to start over with it at the next refresh
        -- (their counts and last change are those of the old detector: dropped with it).
        DELETE FROM @extschema@.ml_monitor_detectors dt
        WHERE dt.model_name = p_model
           OR (p_model IS NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.ml_settings s
                                               WHERE s.model_name = dt.model_name AND s.setting = 'error_detector'));
    END IF;
    RETURN @extschema@._ml_setting(p_setting, p_model);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._ml_monitor_refresh(p_max_events bigint, p_actor name) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    width interval;
    oldest timestamptz;
    n bigint;
BEGIN
    IF p_max_events IS NOT NULL AND p_max_events < 1 THEN
        RAISE EXCEPTION 'max_events must be positive (or NULL: every pending event)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM 1 FROM @extschema@.ml_monitor_state FOR UPDATE;
    width := @extschema@._ml_setting('bucket_width')::interval;
    -- The oldest bucket still kept (window_retention), NULL when every bucket is.
    oldest := @extschema@._ml_bucket(now() - @extschema@._ml_setting('window_retention')::interval, width);
    WITH taken AS (
        DELETE FROM @extschema@.ml_monitor_inbox i
        WHERE i.ctid = ANY (ARRAY(SELECT j.ctid FROM @extschema@.ml_monitor_inbox j LIMIT p_max_events))
        RETURNING i.prediction_id, i.events
    ), ev AS (
        -- (_ml_bucket written out: a function with SET search_path is not inlined, and this runs
        -- per event; a binary classifier's score is the probability of label 1)
        SELECT l.model_name, l.version, l.variant, l.prediction_id, l.predicted_class,
               pg_catalog.date_bin(width, l.predicted_at, '2000-01-01 00:00:00+00'::timestamptz) AS bucket,
               (t.events & 1) <> 0 AS is_prediction,
               (t.events & 2) <> 0 AND (l.label IS NOT NULL OR l.label_class IS NOT NULL) AS is_label,
               m.task = 'binary' AS classifier,
               m.task = 'multiclass' AS multiclass,
               l.predicted_at, l.score, l.features, l.label, l.labeled_at, l.label_class, l.probabilities,
               l.unknown_features, l.unknown_categories, l.missing_features, l.type_mismatches
        FROM taken t
        JOIN @extschema@.ml_prediction_log l ON l.prediction_id = t.prediction_id
        JOIN @extschema@.ml_models m ON m.name = l.model_name AND m.version = l.version
    ), scored AS (
        -- A label enters the metric state when its score is finite and, for a classifier, the
        -- label is 0 or 1 (a multiclass model's: a class, with the class probabilities logged);
        -- otherwise it is counted in unscored_labels.
        SELECT ev.*,
               ev.is_label AND ev.score > '-Infinity'::float8 AND ev.score < 'Infinity'::float8
               AND CASE WHEN ev.multiclass THEN ev.label_class IS NOT NULL AND ev.probabilities IS NOT NULL
                        WHEN ev.classifier THEN ev.label IN (0, 1)
                        ELSE ev.label > '-Infinity'::float8 AND ev.label < 'Infinity'::float8 END AS in_metrics
        FROM ev
        WHERE oldest IS NULL OR ev.bucket >= oldest
    ), fresh AS MATERIALIZED (
        -- the detector a version's error stream starts from (setting error_detector), made once
        -- per model name
        SELECT ec.model_name, @extschema@.ml_detector(o.value ->> 'method', o.value - 'method') AS detector
        FROM @extschema@._ml_monitor_config ec CROSS JOIN LATERAL (SELECT (ec.value)::jsonb AS value) o
        WHERE ec.setting = 'error_detector' AND ec.model_name IS NOT NULL
    ), errs AS (
        -- Issue 13: the errors of the labels in metrics, for the error-stream detectors: a
        -- classifier's 0/1 error at its classification_threshold (multiclass: predicted class <>
        -- label class), a regressor's absolute error (NULL, so skipped, if it overflows); in the
        -- order of the refreshes, and within one by predicted_at, continuing the stored detector.
        SELECT s.model_name, s.version, s.variant, s.predicted_at, s.prediction_id,
               coalesce(d.detector, f.detector) AS start,
               CASE WHEN s.multiclass THEN (s.predicted_class IS DISTINCT FROM s.label_class)::int::float8
                    WHEN s.classifier THEN CASE WHEN (s.score >= (c.value)::float8) = (s.label = 1) THEN 0 ELSE 1 END::float8
                    WHEN abs(s.score - s.label) < 'Infinity'::float8 THEN abs(s.score - s.label) END AS err
        FROM scored s
        JOIN @extschema@._ml_monitor_config c ON c.model_name = s.model_name AND c.setting = 'classification_threshold'
        JOIN fresh f ON f.model_name = s.model_name
        LEFT JOIN @extschema@.ml_monitor_detectors d
               ON d.model_name = s.model_name AND d.version = s.version AND d.variant = s.variant
        WHERE s.in_metrics
    ), fed AS (
        SELECT e.*, @extschema@.ml_drift_detector(e.start, e.err)
                        OVER (PARTITION BY e.model_name, e.version, e.variant ORDER BY e.predicted_at, e.prediction_id
                              ROWS UNBOUNDED PRECEDING) AS change
        FROM errs e
    ), det AS (
        INSERT INTO @extschema@.ml_monitor_detectors AS dt (model_name, version, variant, detector, last_change_at)
        SELECT f.model_name, f.version, f.variant,
               @extschema@.ml_detector_run(f.start, f.err ORDER BY f.predicted_at, f.prediction_id),
               max(f.predicted_at) FILTER (WHERE f.change)
        FROM fed f
        GROUP BY f.model_name, f.version, f.variant
        ORDER BY f.model_name, f.version, f.variant
        ON CONFLICT (model_name, version, variant) DO UPDATE SET
            detector = excluded.detector,
            last_change_at = coalesce(excluded.last_change_at, dt.last_change_at),
            updated_at = now()
        RETURNING 1
    ), agg AS (
        SELECT s.model_name, s.version, s.variant, s.bucket,
               count(*) FILTER (WHERE s.is_prediction) AS predictions,
               min(s.predicted_at) FILTER (WHERE s.is_prediction) AS first_predicted_at,
               max(s.predicted_at) FILTER (WHERE s.is_prediction) AS last_predicted_at,
               @extschema@.ml_stats(s.score) FILTER (WHERE s.is_prediction) AS scores,
               @extschema@.ml_profile(s.features)
                   FILTER (WHERE s.is_prediction AND jsonb_typeof(s.features) = 'object') AS features,
               count(*) FILTER (WHERE s.is_label) AS labels,
               @extschema@.ml_stats(s.label) FILTER (WHERE s.is_label) AS label_values,
               @extschema@.ml_stats(extract(epoch FROM s.labeled_at - s.predicted_at)::float8)
                   FILTER (WHERE s.is_label AND s.labeled_at IS NOT NULL) AS label_delay,
               max(s.labeled_at) FILTER (WHERE s.is_label) AS last_labeled_at,
               coalesce(@extschema@.ml_binary_state(s.score, CASE WHEN s.label = 1 THEN 1 ELSE 0 END)
                            FILTER (WHERE s.in_metrics AND s.classifier),
                        @extschema@.ml_regression_state(s.score, s.label)
                            FILTER (WHERE s.in_metrics AND NOT s.classifier AND NOT s.multiclass)) AS metric_state,
               @extschema@.ml_class_state(s.label_class, s.probabilities)
                   FILTER (WHERE s.in_metrics AND s.multiclass) AS class_state,
               bool_and(s.score >= 0 AND s.score <= 1) FILTER (WHERE s.in_metrics) AS unit_scores,
               count(*) FILTER (WHERE s.is_label AND NOT s.in_metrics) AS unscored_labels,
               -- feature mismatches (predictions logged with their counts)
               count(*) FILTER (WHERE s.is_prediction AND s.unknown_features IS NOT NULL) AS feature_checks,
               coalesce(sum(s.unknown_features) FILTER (WHERE s.is_prediction), 0) AS unknown_features,
               coalesce(sum(s.unknown_categories) FILTER (WHERE s.is_prediction), 0) AS unknown_categories,
               coalesce(sum(s.missing_features) FILTER (WHERE s.is_prediction), 0) AS missing_features,
               coalesce(sum(s.type_mismatches) FILTER (WHERE s.is_prediction), 0) AS type_mismatches,
               count(*) FILTER (WHERE s.is_prediction AND s.unknown_features + s.unknown_categories
                                      + s.missing_features + s.type_mismatches > 0) AS mismatched_predictions
        FROM scored s
        GROUP BY s.model_name, s.version, s.variant, s.bucket
    ), named AS (
        -- Issue 13: the predictions of each class or cluster (multiclass, clustering)
        SELECT q.model_name, q.version, q.variant, q.bucket, jsonb_object_agg(q.predicted_class, q.n) AS predicted_classes
        FROM (SELECT s.model_name, s.version, s.variant, s.bucket, s.predicted_class, count(*) AS n
              FROM scored s
              WHERE s.is_prediction AND s.predicted_class IS NOT NULL
              GROUP BY s.model_name, s.version, s.variant, s.bucket, s.predicted_class) q
        GROUP BY q.model_name, q.version, q.variant, q.bucket
    ), up AS (
        INSERT INTO @extschema@.ml_monitor_windows AS w
            (model_name, version, variant, bucket, predictions, first_predicted_at, last_predicted_at, scores,
             features, labels, label_values, label_delay, last_labeled_at, metric_state, unit_scores,
             unscored_labels, updated_at, class_state,
             feature_checks, unknown_features, unknown_categories, missing_features, type_mismatches,
             mismatched_predictions, predicted_classes)
        SELECT a.model_name, a.version, a.variant, a.bucket, a.predictions, a.first_predicted_at,
               a.last_predicted_at, a.scores, a.features, a.labels, a.label_values, a.label_delay,
               a.last_labeled_at, a.metric_state, a.unit_scores, a.unscored_labels, now(), a.class_state,
               a.feature_checks, a.unknown_features, a.unknown_categories, a.missing_features, a.type_mismatches,
               a.mismatched_predictions, nm.predicted_classes
        FROM agg a
        LEFT JOIN named nm ON nm.model_name = a.model_name AND nm.version = a.version AND nm.variant = a.variant
                          AND nm.bucket = a.bucket
        ORDER BY a.model_name, a.version, a.variant, a.bucket
        ON CONFLICT (model_name, version, variant, bucket) DO UPDATE SET
            predictions = w.predictions + excluded.predictions,
            first_predicted_at = least(w.first_predicted_at, excluded.first_predicted_at),
            last_predicted_at = greatest(w.last_predicted_at, excluded.last_predicted_at),
            scores = (SELECT @extschema@.ml_stats_merge(x) FROM (VALUES (w.scores), (excluded.scores)) v(x)),
            features = (SELECT @extschema@.ml_profile_merge(x) FROM (VALUES (w.features), (excluded.features)) v(x)),
            labels = w.labels + excluded.labels,
            label_values = (SELECT @extschema@.ml_stats_merge(x) FROM (VALUES (w.label_values), (excluded.label_values)) v(x)),
            label_delay = (SELECT @extschema@.ml_stats_merge(x) FROM (VALUES (w.label_delay), (excluded.label_delay)) v(x)),
            last_labeled_at = greatest(w.last_labeled_at, excluded.last_labeled_at),
            metric_state = (SELECT @extschema@.ml_metric_merge(x) FROM (VALUES (w.metric_state), (excluded.metric_state)) v(x)),
            unit_scores = CASE WHEN w.unit_scores IS NULL THEN excluded.unit_scores
                               WHEN excluded.unit_scores IS NULL THEN w.unit_scores
                               ELSE w.unit_scores AND excluded.unit_scores END,
            unscored_labels = w.unscored_labels + excluded.unscored_labels,
            updated_at = excluded.updated_at,
            class_state = (SELECT @extschema@.ml_metric_merge(x) FROM (VALUES (w.class_state), (excluded.class_state)) v(x)),
            feature_checks = w.feature_checks + excluded.feature_checks,
            unknown_features = w.unknown_features + excluded.unknown_features,
            unknown_categories = w.unknown_categories + excluded.unknown_categories,
            missing_features = w.missing_features + excluded.missing_features,
            type_mismatches = w.type_mismatches + excluded.type_mismatches,
            mismatched_predictions = w.mismatched_predictions + excluded.mismatched_predictions,
            predicted_classes = @extschema@._ml_count_merge(w.predicted_classes, excluded.predicted_classes)
        RETURNING 1
    )
    SELECT count(*) INTO n FROM taken;
    UPDATE @extschema@.ml_monitor_state
    SET refreshed_at = now(), refreshed_by = p_actor, refreshed_events = n, total_events = total_events + n;
    RETURN n;
END
$$;

COMMENT ON TABLE @extschema@.ml_monitor_detectors IS
    'pg_learn monitoring: per (model, version, variant) a drift detector (setting error_detector) over the errors of its labelled predictions';

COMMENT ON VIEW @extschema@.ml_model_health IS
    'Per deployed model: age, examples seen, pending and rejected labels, time since it learned and predicted, prediction rate, NaN/Inf scores, changes its error detector (ADWIN unless set) detected in its labelled errors (when, in which bucket)';

-- END issue 13 monitoring error_detector setting

-- Issue 13/14: ml_deploy, ml_rollback and ml_rollout check that the version fits the tables the
-- alias serves (_ml_check_serving, in its final form further below): labels, prediction,
-- probability and label columns.
CREATE OR REPLACE FUNCTION @extschema@._ml_deploy(p_name text, p_version int, p_alias text, p_actor name) RETURNS int
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    old int;
BEGIN
    PERFORM @extschema@._ml_check_name('model name', p_name);
    PERFORM @extschema@._ml_check_name('alias', p_alias);
    IF p_version IS NULL THEN
        RAISE EXCEPTION 'version must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM @extschema@._ml_lock_name(p_name);
    IF NOT EXISTS (SELECT 1 FROM @extschema@.ml_models m WHERE m.name = p_name AND m.version = p_version) THEN
        RAISE EXCEPTION 'model "%" has no version %', p_name, p_version USING ERRCODE = 'undefined_object';
    END IF;
    SELECT a.version INTO old FROM @extschema@.ml_aliases a WHERE a.name = p_name AND a.alias = p_alias;
    IF old = p_version THEN
        RETURN old;  -- already there: nothing changes, nothing is recorded
    END IF;
    -- The version must fit the tables the alias serves (50_feedback.sql, _ml_check_serving).
    PERFORM @extschema@._ml_check_serving(p_name, p_alias, m.task, p_version)
    FROM @extschema@.ml_models m WHERE m.name = p_name AND m.version = p_version;
    INSERT INTO @extschema@.ml_aliases AS a (name, alias, version, deployed_at, deployed_by)
    VALUES (p_name, p_alias, p_version, now(), p_actor)
    ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, deployed_at = excluded.deployed_at,
                                            deployed_by = excluded.deployed_by;
    INSERT INTO @extschema@.ml_deployments (name, event, alias, action, from_version, to_version, deployed_by)
    VALUES (p_name, @extschema@._ml_next_event(p_name), p_alias, 'deploy', old, p_version, p_actor);
    RETURN old;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._ml_rollback(p_name text, p_alias text, p_actor name) RETURNS int
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ev @extschema@.ml_deployments;
    cur int;
BEGIN
    PERFORM @extschema@._ml_check_name('model name', p_name);
    PERFORM @extschema@._ml_check_name('alias', p_alias);
    PERFORM @extschema@._ml_lock_name(p_name);
    SELECT * INTO ev FROM @extschema@.ml_deployments d
    WHERE d.name = p_name AND d.alias = p_alias AND d.action <> 'rollback'
      AND NOT EXISTS (SELECT 1 FROM @extschema@.ml_deployments r WHERE r.name = d.name AND r.undoes = d.event)
    ORDER BY d.event DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'model "%" has no deployment under alias "%" to roll back', p_name, p_alias
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF ev.from_version IS NULL THEN
        RAISE EXCEPTION 'version % was the first version of model "%" deployed under alias "%": there is no earlier version to roll back to',
                        ev.to_version, p_name, p_alias
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'ml_undeploy removes the alias.';
    END IF;
    SELECT a.version INTO cur FROM @extschema@.ml_aliases a WHERE a.name = p_name AND a.alias = p_alias;
    PERFORM @extschema@._ml_check_serving(p_name, p_alias, m.task, ev.from_version)
    FROM @extschema@.ml_models m WHERE m.name = p_name AND m.version = ev.from_version;
    INSERT INTO @extschema@.ml_aliases AS a (name, alias, version, deployed_at, deployed_by)
    VALUES (p_name, p_alias, ev.from_version, now(), p_actor)
    ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, deployed_at = excluded.deployed_at,
                                            deployed_by = excluded.deployed_by;
    INSERT INTO @extschema@.ml_deployments (name, event, alias, action, from_version, to_version, undoes, deployed_by)
    VALUES (p_name, @extschema@._ml_next_event(p_name), p_alias, 'rollback', cur, ev.from_version, ev.event, p_actor);
    RETURN ev.from_version;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@._ml_rollout(p_model text, p_alias text, p_role text, p_share float8, p_actor name)
    RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    champions text;
    total float8;
    task text;
BEGIN
    PERFORM @extschema@._ml_check_name('model name', p_model);
    PERFORM @extschema@._ml_check_name('alias', p_alias);
    IF p_role IS NULL THEN
        RAISE EXCEPTION 'role must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_role NOT IN ('challenger', 'shadow') THEN
        RAISE EXCEPTION 'unknown rollout role "%"', left(p_role, 80) USING ERRCODE = 'invalid_parameter_value',
            HINT = 'role is ''challenger'' (serves a share of the keys) or ''shadow'' (scores every row, serves none).';
    END IF;
    IF p_role = 'shadow' AND p_share IS NOT NULL THEN
        RAISE EXCEPTION 'a shadow serves no traffic: its share must be NULL' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_role = 'challenger' AND p_share IS NULL THEN
        RAISE EXCEPTION 'a challenger needs a traffic share' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'e.g. share => 0.1 serves a tenth of the keys.';
    END IF;
    IF p_role = 'challenger' AND NOT (p_share > 0 AND p_share < 1) THEN
        RAISE EXCEPTION 'traffic share % is not between 0 and 1', p_share USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Serializes the rollout changes (and deploys) of a name: the shares' sum stays below 1.
    PERFORM @extschema@._ml_lock_name(p_model);
    IF NOT EXISTS (SELECT 1 FROM @extschema@.ml_aliases x WHERE x.name = p_model AND x.alias = p_alias) THEN
        RAISE EXCEPTION 'model "%" has no version deployed as "%"', p_model, p_alias
            USING ERRCODE = 'undefined_object', HINT = 'Deploy a version with ml_deploy(name, version, alias).';
    END IF;
    SELECT string_agg(t.table_name::text, ', ' ORDER BY t.table_name::text) INTO champions
    FROM @extschema@.ml_attachments t WHERE t.model_name = p_model AND t.alias = p_alias;
    IF champions IS NOT NULL THEN
        RAISE EXCEPTION 'alias "%" of model "%" is the champion of %', p_alias, p_model, champions
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A challenger or shadow is another alias than the one the table is attached to.';
    END IF;
    -- The version behind the alias must fit every table it will serve (labels, prediction and
    -- probability columns): a version that learns without labels (clustering, anomaly) on a table
    -- attached with labels would fail each label; a challenger of another task each INSERT.
    SELECT m.task INTO task
    FROM @extschema@.ml_aliases x JOIN @extschema@.ml_models m ON m.name = x.name AND m.version = x.version
    WHERE x.name = p_model AND x.alias = p_alias;
    PERFORM @extschema@._ml_check_serving(p_model, p_alias, task, NULL, p_role);
    IF p_role = 'challenger' THEN
        SELECT coalesce(sum(r.share), 0) INTO total FROM @extschema@.ml_rollouts r
        WHERE r.model_name = p_model AND r.role = 'challenger' AND r.alias <> p_alias;
        IF total + p_share >= 1 THEN
            RAISE EXCEPTION 'the challengers of model "%" would serve % of the keys', p_model, total + p_share
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'The champion serves what the challengers do not: their shares must add up to less than 1.';
        END IF;
    END IF;
    INSERT INTO @extschema@.ml_rollouts AS r (model_name, alias, role, share, created_by)
    VALUES (p_model, p_alias, p_role, p_share, p_actor)
    ON CONFLICT (model_name, alias) DO UPDATE SET role = excluded.role, share = excluded.share,
                                                 created_at = excluded.created_at, created_by = excluded.created_by;
    PERFORM @extschema@._ml_feedback_invalidate();
END
$$;

-- END _ml_check_serving

-- BEGIN issue 14 part 2, partitioned models: the prediction log records the segment that
-- answered (a partitioned model's partition), the log's partitioned form keeps the column (and
-- points ml_segment_metrics at the new log), and ml_segment_metrics breaks the metrics down by it.
ALTER TABLE @extschema@.ml_prediction_log ADD COLUMN segment text;

-- Issue 14, partitioned models: per model, version, variant, time bucket and segment (the part
-- of the version that answered, ml_prediction_log.segment: a partitioned model's partition such
-- as "country=FR/city=Paris", or "(global)" for its global model), the predictions and, over the
-- labels received so far, accuracy (binary at the model's classification_threshold, multiclass)
-- or MAE and RMSE (regression). Unlike the views above it reads the prediction log (the rows of
-- models with segments only): filter it by model and time.
CREATE VIEW @extschema@.ml_segment_metrics WITH (security_barrier) AS
SELECT s.time, s.model, s.version, s.variant, s.segment, x.metric, x.value
FROM (
    SELECT @extschema@._ml_bucket(l.predicted_at, (b.value)::interval) AS time, l.model_name AS model,
           l.version::text AS version, l.variant, l.segment, m.task,
           count(*) AS predictions,
           count(*) FILTER (WHERE l.label IS NOT NULL OR l.label_class IS NOT NULL) AS labels,
           avg(l.score) FILTER (WHERE l.score IS NOT NULL AND l.score NOT IN ('NaN', 'Infinity', '-Infinity')) AS score_mean,
           avg(abs(l.score - l.label)) FILTER (WHERE l.label IS NOT NULL) AS mae,
           sqrt(avg((l.score - l.label) ^ 2) FILTER (WHERE l.label IS NOT NULL)) AS rmse,
           avg(CASE WHEN m.task = 'binary' THEN ((l.score >= (t.value)::float8) = (l.label = 1))::int
                    ELSE (l.predicted_class IS NOT DISTINCT FROM l.label_class)::int END)
               FILTER (WHERE l.label IS NOT NULL OR l.label_class IS NOT NULL) AS accuracy
    FROM @extschema@.ml_prediction_log l
    JOIN @extschema@.ml_models m ON m.name = l.model_name AND m.version = l.version
    JOIN @extschema@._ml_monitor_config b ON b.model_name = l.model_name AND b.setting = 'bucket_width'
    JOIN @extschema@._ml_monitor_config t ON t.model_name = l.model_name AND t.setting = 'classification_threshold'
    WHERE l.segment IS NOT NULL
    GROUP BY 1, l.model_name, l.version, l.variant, l.segment, m.task, t.value
) s
CROSS JOIN LATERAL (VALUES
    (1, 'predictions', s.predictions::float8),
    (2, 'labels', CASE WHEN s.task NOT IN ('clustering', 'anomaly') THEN s.labels::float8 END),
    (3, 'label_coverage', CASE WHEN s.task NOT IN ('clustering', 'anomaly') THEN s.labels::float8 / s.predictions END),
    (4, 'score_mean', s.score_mean),
    (5, 'accuracy', CASE WHEN s.task IN ('binary', 'multiclass') THEN s.accuracy END),
    (6, 'mae', CASE WHEN s.task = 'regression' THEN s.mae END),
    (7, 'rmse', CASE WHEN s.task = 'regression' THEN s.rmse END)
) x(ord, metric, value)
WHERE x.value IS NOT NULL
ORDER BY s.time, s.model, s.version, s.variant, s.segment, x.ord;
COMMENT ON VIEW @extschema@.ml_segment_metrics IS
    'Per model, version, variant, time bucket and segment (a partitioned model''s partition that answered): predictions, labels, label coverage, score mean, accuracy or MAE/RMSE, from the prediction log';
REVOKE ALL ON TABLE @extschema@.ml_segment_metrics FROM PUBLIC;

-- END issue 14 part 2, partitioned models

-- Imported models (issue 15): a model trained by another library, predict-only.
CREATE FUNCTION ml_import(format text, model text) RETURNS ml_model
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_import(text, text) IS
    'A predict-only model from the file another library saved: ml_import(''xgboost'', the text of Booster.save_model(''m.json''))';

-- Issue 14: timestamp, timestamptz and date columns are features of an attached table whose
-- version reads timestamps (a pipeline with date_parts): _ml_column_class gives them the class
-- 'timestamp', ml_attach accepts them for such a version, and _ml_check_serving refuses a
-- version that does not read them.
CREATE OR REPLACE FUNCTION @extschema@._ml_column_class(p_type oid) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE t(oid, typtype, typbasetype) AS (
        SELECT y.oid, y.typtype, y.typbasetype FROM pg_type y WHERE y.oid = p_type
        UNION ALL
        SELECT b.oid, b.typtype, b.typbasetype FROM pg_type b JOIN t ON b.oid = t.typbasetype
        WHERE t.typtype = 'd'
    )
    SELECT CASE
        WHEN t.oid IN ('float8'::regtype, 'float4'::regtype, 'numeric'::regtype) THEN 'float'
        WHEN t.oid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) THEN 'integer'
        WHEN t.oid = 'bool'::regtype THEN 'boolean'
        WHEN t.oid IN ('timestamp'::regtype, 'timestamptz'::regtype, 'date'::regtype) THEN 'timestamp'
        WHEN t.oid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype, 'name'::regtype)
             OR t.typtype = 'e' THEN 'category'
        ELSE 'other' END
    FROM t WHERE t.typtype <> 'd'
$$;

-- END timestamp features of attached tables

-- BEGIN charts as SVG (issue 17 part 2): ml_plot_roc, ml_plot_pr, ml_plot_calibration, ml_plot_histogram, ml_plot_drift, ml_plot_series (as in src/sql/70_plots.sql)
CREATE FUNCTION ml_plot_roc(state ml_metric_state) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_plot_roc' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_plot_roc(ml_metric_state) IS
    'The ROC curve of a ranking state (scores and boolean labels) as an SVG document, with its AUC';
CREATE FUNCTION ml_plot_pr(state ml_metric_state) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_plot_pr' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_plot_pr(ml_metric_state) IS
    'The precision-recall curve of a ranking state as an SVG document, with the positive rate';
CREATE FUNCTION ml_plot_calibration(state ml_metric_state) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_plot_calibration' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_plot_calibration(state ml_metric_state, bins int) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_plot_calibration' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_plot_calibration(ml_metric_state) IS
    'The reliability curve of a ranking state of probabilities (10 bins) or of a calibration state, as an SVG document';
COMMENT ON FUNCTION ml_plot_calibration(ml_metric_state, int) IS
    'The reliability curve of a ranking state of probabilities in the given number of bins, as an SVG document';
CREATE FUNCTION ml_plot_histogram(stats ml_stats, bins int DEFAULT 20) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_plot_histogram' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_plot_histogram(ml_stats, int) IS
    'Equal-width bins of the finite values (categorical statistics: the most frequent values) as an SVG bar chart; NaN, infinite and NULL counts in its note';
CREATE FUNCTION ml_plot_drift(baseline ml_profile, current ml_profile, feature text) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_plot_drift' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_plot_drift(ml_profile, ml_profile, text) IS
    'A feature of two profiles overlaid, in the bins its drift is measured on (numeric: the baseline''s quantile bins; categorical: the values listed and "other"), as an SVG bar chart';
CREATE FUNCTION ml_plot_drift(baseline ml_stats, current ml_stats) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_plot_drift_stats' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_plot_drift(ml_stats, ml_stats) IS
    'The statistics of one column on two sides overlaid, in the bins its drift is measured on, as an SVG bar chart';

CREATE FUNCTION _ml_plot_series_transition(internal, timestamptz, float8, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ml_plot_series_transition' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION _ml_plot_series_transition(internal, timestamptz, float8, text, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ml_plot_series_transition' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION _ml_plot_series_final(internal) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_plot_series_final' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE AGGREGATE ml_plot_series(t timestamptz, value float8, series text) (
    SFUNC = _ml_plot_series_transition, STYPE = internal, FINALFUNC = _ml_plot_series_final
);
CREATE AGGREGATE ml_plot_series(t timestamptz, value float8, series text, title text) (
    SFUNC = _ml_plot_series_transition, STYPE = internal, FINALFUNC = _ml_plot_series_final
);
COMMENT ON AGGREGATE ml_plot_series(timestamptz, float8, text) IS
    'A metric over time, one line per series (at most 10), as an SVG document';
COMMENT ON AGGREGATE ml_plot_series(timestamptz, float8, text, text) IS
    'A metric over time, one line per series (at most 10), with a title, as an SVG document';

-- END charts as SVG

-- BEGIN ml_report (issue 17 part 3; as in src/sql/75_report.sql)
-- Text made safe in HTML (element content and quoted attributes).
CREATE FUNCTION @extschema@._ml_html(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT replace(replace(replace(replace(replace(coalesce(t, ''), '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
                           '"', '&quot;'), '''', '&#39;')
$$;

-- An HTML table of a query's rows: the query's columns in order, each value as text (NULL empty).
CREATE FUNCTION @extschema@._ml_html_table(q text, empty_text text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    head text;
    body text;
    first_row json;
BEGIN
    -- One run of the query: the rows, and the first row (its column names make the header).
    EXECUTE format('SELECT string_agg(''<tr>'' || (SELECT string_agg(''<td>'' || @extschema@._ml_html(e.value) || ''</td>'', '''' ORDER BY e.n)
                                                 FROM json_each_text(r.j) WITH ORDINALITY e(key, value, n)) || ''</tr>'', E''\n''),
                           (array_agg(r.j))[1]
                    FROM (SELECT row_to_json(q) AS j FROM (%s) q) r', q)
        INTO body, first_row;
    IF body IS NULL THEN
        RETURN '<p class="empty">' || @extschema@._ml_html(empty_text) || '</p>';
    END IF;
    SELECT string_agg('<th>' || @extschema@._ml_html(e.key) || '</th>', '' ORDER BY e.n)
    FROM json_each_text(first_row) WITH ORDINALITY e(key, value, n)
    INTO head;
    RETURN '<table><thead><tr>' || head || '</tr></thead><tbody>' || E'\n' || body || E'\n</tbody></table>';
END
$$;

CREATE FUNCTION @extschema@.ml_report(name text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m text := name;
    h text;
    svg text;
    w record;
    f record;
    task text;
    n int;
    qual text[] := ARRAY['auc', 'accuracy', 'logloss', 'macro_f1', 'mae', 'rmse', 'r2'];
BEGIN
    IF m IS NULL THEN
        RAISE EXCEPTION 'model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.ml_model_names x WHERE x.name = m) THEN
        RAISE EXCEPTION 'model "%" does not exist', m USING ERRCODE = 'undefined_object',
              HINT = 'ml_models lists the registered models.';
    END IF;
    SELECT x.task INTO task FROM @extschema@.ml_models x WHERE x.name = m ORDER BY x.version DESC LIMIT 1;

    h := '<!DOCTYPE html>' || E'\n' || '<html lang="en"><head><meta charset="utf-8"/>'
         || '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
         || '<title>pg_learn report: ' || @extschema@._ml_html(m) || '</title>' || E'\n'
         || '<style>'
         || 'body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1260px;color:#222;background:#fafafa}'
         || 'h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}'
         || 'h3{font-size:15px;margin:16px 0 6px}p.meta{color:#666;margin:0 0 16px}p.empty{color:#777;font-style:italic}'
         || 'table{border-collapse:collapse;margin:6px 0 12px;font-size:13px;background:#fff}'
         || 'th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f0f0f0}'
         || '.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{border:1px solid #ddd;background:#fff}'
         || '.status-alert{color:#c00;font-weight:bold}.status-warn{color:#c60}.status-ok{color:#070}'
         || '</style></head><body>' || E'\n'
         || '<h1>Model ' || @extschema@._ml_html(m) || '</h1>'
         || '<p class="meta">' || @extschema@._ml_html(coalesce(task, '') || ' model; report of '
                                                      || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
                                                      || ', pg_learn '
                                                      || (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'pg_learn'))
         || '</p>' || E'\n';

    -- 1. Versions, deployments and rollouts.
    h := h || '<h2 id="versions">Versions</h2>'
         || @extschema@._ml_html_table(format(
                'SELECT version, array_to_string(aliases, '', '') AS aliases, kind, n_seen, parent_version,
                        to_char(created_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD HH24:MI'') AS created_utc, notes
                 FROM @extschema@.ml_versions(%L) ORDER BY version DESC', m), 'No version.')
         || '<h2 id="deployments">Deployments and rollouts</h2>'
         || @extschema@._ml_html_table(format(
                'SELECT r.alias, r.role, r.share, a.version,
                        to_char(r.created_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD HH24:MI'') AS since_utc
                 FROM @extschema@.ml_rollouts r JOIN @extschema@.ml_aliases a ON a.name = r.model_name AND a.alias = r.alias
                 WHERE r.model_name = %L ORDER BY r.alias', m), 'No rollout in progress (no challenger or shadow).')
         || '<h3>History</h3>'
         || @extschema@._ml_html_table(format(
                'SELECT event, to_char(at AT TIME ZONE ''UTC'', ''YYYY-MM-DD HH24:MI'') AS at_utc, action, alias,
                        from_version, to_version, actor
                 FROM @extschema@.ml_history(%L) ORDER BY event DESC LIMIT 50', m), 'No event.');

    -- 2. Metrics over time.
    h := h || '<h2 id="metrics">Metrics over time</h2>';
    IF NOT EXISTS (SELECT 1 FROM @extschema@.ml_monitor_windows x WHERE x.model_name = m) THEN
        h := h || '<p class="empty">No monitoring data yet: attach the model to a table (ml_attach), '
               || 'let it score rows and run ml_monitor_refresh().</p>';
    ELSE
        h := h || '<div class="charts">';
        SELECT @extschema@.ml_plot_series(x.time, x.value, x.version || '/' || x.variant || ' ' || x.metric, 'Quality by version and variant')
          INTO svg FROM @extschema@.ml_model_metrics x
         WHERE x.model = m AND x.metric = ANY (qual)
           AND (x.version, x.variant) IN (SELECT y.version, y.variant FROM @extschema@.ml_model_metrics y
                                          WHERE y.model = m AND y.metric = 'predictions'
                                          GROUP BY 1, 2 ORDER BY max(y.time) DESC LIMIT 3);
        h := h || svg;
        SELECT @extschema@.ml_plot_series(x.time, x.value, x.version || '/' || x.variant || ' ' || x.metric, 'Predictions and labels')
          INTO svg FROM @extschema@.ml_model_metrics x
         WHERE x.model = m AND x.metric IN ('predictions', 'labels')
           AND (x.version, x.variant) IN (SELECT y.version, y.variant FROM @extschema@.ml_model_metrics y
                                          WHERE y.model = m AND y.metric = 'predictions'
                                          GROUP BY 1, 2 ORDER BY max(y.time) DESC LIMIT 4);
        h := h || svg || '</div>';
    END IF;

    -- 3. The latest window with labels: ROC and calibration (binary classifiers).
    h := h || '<h2 id="latest">Latest labelled window</h2>';
    SELECT x.bucket, x.version, x.variant, x.metric_state, x.unit_scores, x.labels INTO w
    FROM @extschema@.ml_monitor_windows x
    WHERE x.model_name = m AND x.labels > 0 AND x.metric_state IS NOT NULL
    ORDER BY x.bucket DESC, x.labels DESC LIMIT 1;
    IF NOT FOUND THEN
        h := h || '<p class="empty">No labelled window yet.</p>';
    ELSE
        h := h || '<p>' || @extschema@._ml_html(format('Window of %s UTC, version %s, variant %s: %s labels.',
                                                      to_char(w.bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
                                                      w.version, w.variant, w.labels)) || '</p>';
        IF @extschema@.ml_metric_kind(w.metric_state) = 'ranking' THEN
            h := h || '<div class="charts">' || @extschema@.ml_plot_roc(w.metric_state)
                   || CASE WHEN w.unit_scores THEN @extschema@.ml_plot_calibration(w.metric_state) ELSE '' END
                   || '</div>';
        ELSE
            h := h || @extschema@._ml_html_table(format(
                          'SELECT metric, round(value::numeric, 4) AS value FROM @extschema@.ml_model_metrics
                           WHERE model = %L AND time = %L AND version = %L AND variant = %L AND metric = ANY (%L)',
                          m, w.bucket, w.version::text, w.variant, qual), 'No metric.');
        END IF;
    END IF;

    -- 4. Feature drift of the latest window, with a chart per feature.
    h := h || '<h2 id="drift">Feature drift</h2>';
    SELECT x.time, x.version, x.variant INTO w FROM @extschema@.ml_feature_drift x
    WHERE x.model = m AND x.feature IS NOT NULL ORDER BY x.time DESC, x.version DESC LIMIT 1;
    IF NOT FOUND THEN
        h := h || '<p class="empty">No drift to show: the model needs a baseline (ml_register(..., baseline => ...)) '
               || 'and monitored predictions.</p>';
    ELSE
        h := h || '<p>' || @extschema@._ml_html(format('Window of %s UTC, version %s, variant %s, against the version''s baseline.',
                                                      to_char(w.time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), w.version, w.variant))
               || '</p><table><thead><tr><th>feature</th><th>kind</th><th>method</th><th>value</th><th>warn</th>'
               || '<th>alert</th><th>status</th></tr></thead><tbody>';
        FOR f IN SELECT x.feature, x.kind, x.method, x.value, x.warn_threshold, x.alert_threshold, x.status
                 FROM @extschema@.ml_feature_drift x
                 WHERE x.model = m AND x.time = w.time AND x.version = w.version AND x.variant = w.variant
                   AND x.feature IS NOT NULL ORDER BY x.status_level DESC NULLS LAST, x.feature LOOP
            h := h || '<tr><td>' || @extschema@._ml_html(f.feature) || '</td><td>' || @extschema@._ml_html(f.kind)
                   || '</td><td>' || @extschema@._ml_html(f.method) || '</td><td>'
                   || coalesce(round(f.value::numeric, 4)::text, '') || '</td><td>'
                   || coalesce(f.warn_threshold::text, '') || '</td><td>' || coalesce(f.alert_threshold::text, '')
                   || '</td><td class="status-' || @extschema@._ml_html(f.status) || '">' || @extschema@._ml_html(f.status)
                   || '</td></tr>';
        END LOOP;
        h := h || '</tbody></table><div class="charts">';
        n := 0;
        FOR f IN SELECT x.feature, mm.baseline, ww.features
                 FROM @extschema@.ml_feature_drift x
                 JOIN @extschema@.ml_models mm ON mm.name = m AND mm.version = x.version::int
                 JOIN @extschema@.ml_monitor_windows ww ON ww.model_name = m AND ww.version = x.version::int
                                                       AND ww.variant = x.variant AND ww.bucket = x.time
                 WHERE x.model = m AND x.time = w.time AND x.version = w.version AND x.variant = w.variant
                   AND x.feature IS NOT NULL
                 ORDER BY x.status_level DESC NULLS LAST, x.feature LIMIT 20 LOOP
            h := h || @extschema@.ml_plot_drift(f.baseline, f.features, f.feature);
            n := n + 1;
        END LOOP;
        h := h || '</div>';
    END IF;

    -- 5. Data-quality anomalies (the latest 50).
    h := h || '<h2 id="quality">Data-quality anomalies</h2>'
         || @extschema@._ml_html_table(format(
                'SELECT to_char(time AT TIME ZONE ''UTC'', ''YYYY-MM-DD HH24:MI'') AS window_utc, version, variant,
                        feature, anomaly, severity, count, description
                 FROM @extschema@.ml_data_quality WHERE model = %L ORDER BY time DESC, feature, anomaly LIMIT 50', m),
                'No anomaly in the monitored windows.');

    -- 6. Label delay and queue health.
    h := h || '<h2 id="health">Label delay and queue health</h2>'
         || @extschema@._ml_html_table(format(
                'SELECT alias, version,
                        max(value) FILTER (WHERE metric = ''examples_seen'') AS examples_seen,
                        max(value) FILTER (WHERE metric = ''pending_labels'') AS pending_labels,
                        max(value) FILTER (WHERE metric = ''rejected_labels'') AS rejected_labels,
                        round(max(value) FILTER (WHERE metric = ''seconds_since_learned'')::numeric) AS seconds_since_learned,
                        round(max(value) FILTER (WHERE metric = ''seconds_since_prediction'')::numeric) AS seconds_since_prediction,
                        round(max(value) FILTER (WHERE metric = ''seconds_since_refresh'')::numeric) AS seconds_since_refresh
                 FROM @extschema@.ml_model_health WHERE model = %L GROUP BY alias, version ORDER BY alias', m),
                'The model is not deployed (no alias).')
         || '<h3>Label delay by window (seconds)</h3>'
         || @extschema@._ml_html_table(format(
                'SELECT to_char(time AT TIME ZONE ''UTC'', ''YYYY-MM-DD HH24:MI'') AS window_utc, version, variant,
                        round(max(value) FILTER (WHERE metric = ''label_coverage'')::numeric, 3) AS label_coverage,
                        round(max(value) FILTER (WHERE metric = ''label_delay_p50'')::numeric) AS delay_p50,
                        round(max(value) FILTER (WHERE metric = ''label_delay_p95'')::numeric) AS delay_p95
                 FROM @extschema@.ml_model_metrics WHERE model = %L
                 GROUP BY time, version, variant ORDER BY time DESC, version, variant LIMIT 14', m),
                'No labels yet.');
    h := h || E'\n</body></html>\n';
    RETURN h;
END
$$;
COMMENT ON FUNCTION @extschema@.ml_report(text) IS
    'One self-contained HTML page about a model: versions, deployments, metrics over time, ROC and calibration, drift with charts, anomalies, label delay and queue health';

-- END ml_report

-- BEGIN issue 16 item 6, explanations (wt-explain): ml_explain (by value and by name, for jsonb,
-- float8[] and record features), ml_importance (src/sql/45_explain.sql)
CREATE FUNCTION @extschema@.ml_explain(model @extschema@.ml_model, x jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_explain_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_explain(model @extschema@.ml_model, x float8[]) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_explain_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_explain(model @extschema@.ml_model, x record) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_explain_row' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ml_explain(@extschema@.ml_model, jsonb) IS
    'A prediction explained: {"kind", "method", "scale", "base", "margin", "contributions": {feature: value}} (per class under "classes" for multiclass models); base + contributions = margin';
-- By registered name: the version deployed under an alias, found as ml_predict finds it (the
-- registry read as its owner, decoded once per backend). Like ml_predict, not executable by
-- PUBLIC: GRANT EXECUTE to the roles that may explain (docs/registry.md, Privileges).
CREATE FUNCTION @extschema@.ml_explain(name text, x jsonb, alias text DEFAULT 'production') RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_explain_by_name_jsonb' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_explain(name text, x float8[], alias text DEFAULT 'production') RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_explain_by_name_array' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_explain(name text, x record, alias text DEFAULT 'production') RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_explain_by_name_row' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ml_explain(text, jsonb, text) IS
    'Explains a prediction of the version of a model deployed under an alias (production by default)';
REVOKE EXECUTE ON FUNCTION
    @extschema@.ml_explain(text, jsonb, text),
    @extschema@.ml_explain(text, float8[], text),
    @extschema@.ml_explain(text, record, text)
FROM PUBLIC;

CREATE FUNCTION @extschema@._ml_importance(model @extschema@.ml_model) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_importance_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_importance(model @extschema@.ml_model)
    RETURNS TABLE (feature text, importance float8, kind text)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT f.name, (i.value #>> '{}')::float8, s.j ->> 'kind'
    FROM (SELECT @extschema@._ml_importance(model) AS j) s,
         jsonb_array_elements_text(s.j -> 'features') WITH ORDINALITY AS f(name, n)
         JOIN jsonb_array_elements(s.j -> 'importance') WITH ORDINALITY AS i(value, n) USING (n)
    ORDER BY n;
END;
COMMENT ON FUNCTION @extschema@.ml_importance(@extschema@.ml_model) IS
    'Global importance of each feature the model learned, and what the number is (kind)';

-- END issue 16 item 6, explanations

-- BEGIN issue 16 items 1-3: evaluation (splits, progressive validation, cross-validation; src/sql/22_evaluation.sql)

-- ---------------------------------------------------------------------------------------------
-- Splits. A key's fold or side is a function of the key and the seed only: the type's extended
-- hash (its hash operator class's support function 2: hashtextextended, hashint8extended, ...)
-- read as u = hash / 2^64 in [0, 1). Stable across runs, inserts and servers of one PostgreSQL
-- major version.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_fold(key anyelement, folds int, seed bigint DEFAULT 0) RETURNS int
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_fold(anyelement, int, bigint) IS
    'The fold (1..folds) of a key: 1 + floor(folds * u), u the key''s extended hash with the seed / 2^64';
CREATE FUNCTION ml_split(key anyelement, test_fraction float8 DEFAULT 0.2, seed bigint DEFAULT 0) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_split(anyelement, float8, bigint) IS
    '''test'' when u < test_fraction, else ''train'' (u the key''s extended hash with the seed / 2^64)';

-- A split in time: 'train' before test_from - gap, 'test' from test_from on, 'gap' in between.
-- (timestamptz minus an interval of days depends on the time zone: STABLE.)
CREATE FUNCTION ml_time_split(at timestamptz, test_from timestamptz, gap interval DEFAULT '0') RETURNS text
    AS 'MODULE_PATHNAME', 'ml_time_split_timestamptz' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_time_split(at timestamp, test_from timestamp, gap interval DEFAULT '0') RETURNS text
    AS 'MODULE_PATHNAME', 'ml_time_split_timestamp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_time_split(at float8, test_from float8, gap float8 DEFAULT 0) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_time_split_float8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_time_split(timestamptz, timestamptz, interval) IS
    '''train'' before test_from - gap, ''test'' from test_from on, ''gap'' in between';

-- ---------------------------------------------------------------------------------------------
-- Progressive validation (river's progressive_val_score): the query's rows (features, label[,
-- time]) in its order, each predicted by the model as it is, then learned once its label is
-- revealed. A row of metrics every `every` rows (or per time bucket), then the overall rows.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_progressive_validate(model ml_model, query text, metrics text[] DEFAULT NULL,
                                        every bigint DEFAULT 1000, delay bigint DEFAULT 0,
                                        delay_time interval DEFAULT NULL, bucket interval DEFAULT NULL)
    RETURNS TABLE (step bigint, "time" timestamptz, n bigint, metric text, value float8, cumulative float8)
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 20;
COMMENT ON FUNCTION ml_progressive_validate(ml_model, text, text[], bigint, bigint, interval, interval) IS
    'Progressive validation (predict, then learn, row by row, with an optional label delay): metrics per step and overall';

-- ---------------------------------------------------------------------------------------------
-- k-fold cross-validation: the query's rows (features, label[, key]) in folds by the key's hash
-- (ml_fold(key, folds, seed); without a key, the row's position 1, 2, ... in the query), a model
-- trained on the other folds scores each fold. Rows per fold, then per metric the mean and sample
-- standard deviation over the folds (fold NULL).
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_cross_validate(model ml_model, query text, folds int DEFAULT 5, metrics text[] DEFAULT NULL,
                                  epochs int DEFAULT 1, shuffle boolean DEFAULT true, seed bigint DEFAULT 0)
    RETURNS TABLE (fold int, metric text, value float8, sd float8, n_train bigint, n_test bigint)
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 24;
COMMENT ON FUNCTION ml_cross_validate(ml_model, text, int, text[], int, boolean, bigint) IS
    'k-fold cross-validation: each fold scored by a model trained on the others; per fold, then mean and sd (fold NULL)';

-- ---------------------------------------------------------------------------------------------
-- Comparison (issue 16 item 7): several models of one task scored on one query (features, label);
-- each metric per model with a bootstrap percentile interval, and for every model but the first
-- the paired difference to the first, its interval and a two-sided bootstrap p-value (the
-- resamples are shared: paired).
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_compare(models ml_model[], query text, metrics text[] DEFAULT NULL, resamples int DEFAULT 1000,
                           confidence float8 DEFAULT 0.95, seed bigint DEFAULT 0)
    RETURNS TABLE (model int, metric text, value float8, lower float8, upper float8,
                   difference float8, diff_lower float8, diff_upper float8, p_value float8)
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 12;
COMMENT ON FUNCTION ml_compare(ml_model[], text, text[], int, float8, bigint) IS
    'Models side by side on one query: each metric with a bootstrap interval, the paired difference to the first model and its p-value';

-- END issue 16 items 1-3: evaluation

-- BEGIN session 8: ml_contributions (explanations of float8[] rows as arrays)
-- The explanation of a float8[] row as an array, laid out as XGBoost's
-- predict(pred_contribs=True): the contributions of positions 1..n, then the base (bias) last; a
-- multiclass model's is a 2-D array with a row of n + 1 per class (ml_info's class order).
CREATE FUNCTION @extschema@.ml_contributions(model @extschema@.ml_model, x float8[]) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'ml_contributions_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ml_contributions(@extschema@.ml_model, float8[]) IS
    'A float8[] row''s explanation as XGBoost''s pred_contribs: the contribution of each position, then the base; a row per class for multiclass models';
-- END session 8: ml_contributions

-- BEGIN monitor-only labels and logged explanations (wt-labels)
-- Issue 14/15 leftover, monitor-only labels: ml_attach(..., learn => false) logs the labels of a
-- table for the monitoring metrics without queueing them; the labels of a version that cannot
-- learn (an imported model) are logged the same way, whatever learn says (src/pg/feedback/labels.cpp).
-- Issue 16 item 6 leftover: ml_attach(..., explain => true) logs each prediction's explanation
-- (ml_explain's jsonb) in the log's new explanation column; a version that cannot explain is
-- refused at ml_attach and at a deploy to such a table (0A000).
ALTER TABLE @extschema@.ml_attachments ADD COLUMN learn boolean NOT NULL DEFAULT true,
                                       ADD COLUMN explain boolean NOT NULL DEFAULT false;
ALTER TABLE @extschema@.ml_prediction_log ADD COLUMN explanation jsonb;

CREATE FUNCTION @extschema@._ml_explain_refusal(model @extschema@.ml_model) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_explain_refusal' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
REVOKE EXECUTE ON FUNCTION @extschema@._ml_explain_refusal(@extschema@.ml_model) FROM PUBLIC;

CREATE FUNCTION @extschema@._ml_attach(p_table regclass, p_model text, p_key name, p_prediction name,
                                       p_label name, p_features text[], p_alias text, p_mode text,
                                       p_label_table regclass, p_label_key name, p_label_value name,
                                       p_probability name, p_learn boolean, p_explain boolean,
                                       p_actor name) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rel pg_class;
    lrel pg_class;
    a pg_attribute;
    key_type oid;
    feats text[];
    f text;
    cls text;
    ignored jsonb;
    reads_ts boolean;
    reads_ts_version int;
    watched text;
    old_row text;
    new_row text;
    cond text;
    task text;
    other_table regclass;
    other_model text;
BEGIN
    -- Arguments.
    IF p_table IS NULL THEN
        RAISE EXCEPTION 'table must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_key IS NULL THEN
        RAISE EXCEPTION 'key column must not be NULL' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'The key names the row a label will arrive for, e.g. key => ''id''.';
    END IF;
    PERFORM @extschema@._ml_check_name('model name', p_model);
    PERFORM @extschema@._ml_check_name('alias', p_alias);
    IF p_mode IS NULL THEN
        RAISE EXCEPTION 'mode must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_mode NOT IN ('queue', 'sync') THEN
        RAISE EXCEPTION 'unknown mode "%"', left(p_mode, 80) USING ERRCODE = 'invalid_parameter_value',
            HINT = 'mode is ''queue'' (labels wait for ml_learn_pending) or ''sync'' (learned when they arrive).';
    END IF;
    IF p_learn IS NULL OR p_explain IS NULL THEN
        RAISE EXCEPTION 'learn and explain must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- (monitor-only labels are never learned: a mode saying when to learn them contradicts it)
    IF NOT p_learn AND p_mode = 'sync' THEN
        RAISE EXCEPTION 'mode ''sync'' learns labels, but learn => false logs them for monitoring only'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave mode out (''queue'') with learn => false.';
    END IF;

    -- The model and the version that will serve.
    IF NOT EXISTS (SELECT 1 FROM @extschema@.ml_model_names n WHERE n.name = p_model) THEN
        RAISE EXCEPTION 'model "%" does not exist', p_model USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.ml_aliases x WHERE x.name = p_model AND x.alias = p_alias) THEN
        RAISE EXCEPTION 'model "%" has no version deployed as "%"', p_model, p_alias
            USING ERRCODE = 'undefined_object', HINT = 'Deploy a version with ml_deploy(name, version, alias).';
    END IF;
    -- What the champion predicts (the task the core stored): a multiclass model's prediction is a
    -- class, a clustering model's a cluster (both text); the other tasks' a number.
    SELECT m.task INTO task
    FROM @extschema@.ml_aliases x JOIN @extschema@.ml_models m ON m.name = x.name AND m.version = x.version
    WHERE x.name = p_model AND x.alias = p_alias;
    -- Issue 13: clustering and anomaly models learn without labels, so no label reaches them.
    IF task IN ('clustering', 'anomaly') AND (p_label IS NOT NULL OR p_label_table IS NOT NULL) THEN
        RAISE EXCEPTION 'model "%" learns without labels (its task is %)', p_model, task
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'An attached table''s labels are learned by the deployed version; this version cannot learn one.',
                  HINT = 'Attach it without label => and label_table =>: its rows are scored and logged. To update it, '
                         'train a version without labels (ml_fit(spec, x), ml_train), ml_register and ml_deploy it.';
    END IF;
    -- (and no challenger or shadow that learns without labels: each label would fail for it)
    IF p_label IS NOT NULL OR p_label_table IS NOT NULL THEN
        SELECT string_agg(format('%s (%s)', r.alias, m.task), ', ' ORDER BY r.alias) INTO other_model
        FROM @extschema@.ml_rollouts r
        JOIN @extschema@.ml_aliases x ON x.name = r.model_name AND x.alias = r.alias
        JOIN @extschema@.ml_models m ON m.name = x.name AND m.version = x.version
        WHERE r.model_name = p_model AND m.task IN ('clustering', 'anomaly');
        IF other_model IS NOT NULL THEN
            RAISE EXCEPTION 'model "%" has rolled-out aliases that learn without labels: %', p_model, other_model
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'The labels of an attached table are learned by every variant that scored the row.',
                      HINT = 'Attach it without labels, or remove those rollouts with ml_rollout_remove first.';
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.ml_rollouts r WHERE r.model_name = p_model AND r.alias = p_alias) THEN
        RAISE EXCEPTION 'alias "%" of model "%" is rolled out as a challenger or shadow', p_alias, p_model
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The alias a table is attached to is the champion; remove the rollout with ml_rollout_remove first.';
    END IF;

    -- The table, and what the caller may do: own it, and score (and, with labels, teach) the model.
    SELECT * INTO rel FROM pg_class c WHERE c.oid = p_table;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', p_table::oid USING ERRCODE = 'undefined_table';
    END IF;
    IF rel.relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '% is not a table', p_table USING ERRCODE = 'wrong_object_type',
            DETAIL = 'Only ordinary and partitioned tables can be attached.';
    END IF;
    IF NOT pg_has_role(p_actor, rel.relowner, 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', p_table USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT has_function_privilege(p_actor, '@extschema@.ml_predict(text, record, text)', 'EXECUTE') THEN
        RAISE EXCEPTION 'permission denied to score with model "%"', p_model USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Attaching a table needs EXECUTE on ml_predict(text, record, text).',
            HINT = format('The extension''s owner can grant it: GRANT EXECUTE ON FUNCTION @extschema@.ml_predict(text, record, text) TO %I;',
                          p_actor);
    END IF;
    -- (monitor-only labels teach nothing: learn => false needs no right to teach)
    IF (p_label IS NOT NULL OR p_label_table IS NOT NULL) AND p_learn
       AND NOT has_function_privilege(p_actor, '@extschema@.ml_learn(text, record, float8, text)', 'EXECUTE') THEN
        RAISE EXCEPTION 'permission denied to teach model "%"', p_model USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Attaching a table with labels needs EXECUTE on ml_learn(text, record, float8, text).',
            HINT = format('The extension''s owner can grant it: GRANT EXECUTE ON FUNCTION @extschema@.ml_learn(text, record, float8, text) TO %I;',
                          p_actor);
    END IF;
    -- Concurrent attaches of one table queue here; the second then sees the first.
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', p_table);
    IF EXISTS (SELECT 1 FROM @extschema@.ml_attachments t WHERE t.table_name = p_table) THEN
        RAISE EXCEPTION 'table % is already attached to model "%"', p_table,
                        (SELECT t.model_name FROM @extschema@.ml_attachments t WHERE t.table_name = p_table)
            USING ERRCODE = 'duplicate_object', HINT = 'ml_detach it first.';
    END IF;
    -- Partitions (issue 12): the triggers of a partitioned table are cloned to its partitions,
    -- present and future, so a partition is scored through its attached ancestor; one table of
    -- a partition tree is attached at most.
    SELECT anc.relid::regclass, t.model_name INTO other_table, other_model
    FROM pg_partition_ancestors(p_table) anc JOIN @extschema@.ml_attachments t ON t.table_name = anc.relid
    WHERE anc.relid <> p_table LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'table % is a partition of %, which is attached to model "%"', p_table, other_table, other_model
            USING ERRCODE = 'duplicate_object',
                  DETAIL = 'The rows of every partition of an attached table are scored and logged already.';
    END IF;
    IF rel.relkind = 'p' THEN
        SELECT d.relid::regclass, t.model_name INTO other_table, other_model
        FROM pg_partition_tree(p_table) d JOIN @extschema@.ml_attachments t ON t.table_name = d.relid
        WHERE d.relid <> p_table LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'partition % of table % is attached to model "%"', other_table, p_table, other_model
                USING ERRCODE = 'duplicate_object', HINT = format('ml_detach(%L) first.', other_table::text);
        END IF;
    END IF;

    -- The key, prediction and label columns.
    a := @extschema@._ml_attribute(p_table, p_key, 'key');
    key_type := a.atttypid;
    IF p_prediction IS NOT NULL THEN
        a := @extschema@._ml_attribute(p_table, p_prediction, 'prediction');
        IF task = 'multiclass' AND a.atttypid NOT IN ('text'::regtype, 'varchar'::regtype) THEN
            RAISE EXCEPTION 'prediction column "%" has type %, but model "%" is multiclass', p_prediction,
                            format_type(a.atttypid, a.atttypmod), p_model
                USING ERRCODE = 'datatype_mismatch',
                      HINT = 'A multiclass model''s prediction column is text (the most probable class); '
                             'probability => names a float8 column for its probability.';
        END IF;
        IF task = 'clustering' AND a.atttypid NOT IN ('text'::regtype, 'varchar'::regtype) THEN
            RAISE EXCEPTION 'prediction column "%" has type %, but model "%" is clustering', p_prediction,
                            format_type(a.atttypid, a.atttypmod), p_model
                USING ERRCODE = 'datatype_mismatch',
                      HINT = 'A clustering model''s prediction column is text (the cluster, as ml_predict_class gives it).';
        END IF;
        IF task IS DISTINCT FROM 'multiclass' AND task IS DISTINCT FROM 'clustering'
           AND @extschema@._ml_column_class(a.atttypid) <> 'float' THEN
            RAISE EXCEPTION 'prediction column "%" has type %', p_prediction, format_type(a.atttypid, a.atttypmod)
                USING ERRCODE = 'datatype_mismatch', HINT = 'A prediction column is float8, float4 or numeric.';
        END IF;
        IF a.attgenerated <> '' THEN
            RAISE EXCEPTION 'prediction column "%" is a generated column', p_prediction
                USING ERRCODE = 'feature_not_supported';
        END IF;
        -- (a BEFORE trigger cannot move a row to another partition)
        IF rel.relkind = 'p' AND EXISTS (
                SELECT 1 FROM pg_partition_tree(p_table) d JOIN pg_partitioned_table pt ON pt.partrelid = d.relid
                CROSS JOIN LATERAL unnest(pt.partattrs::int2[]) k(attnum)
                JOIN pg_attribute c ON c.attrelid = d.relid AND c.attnum = k.attnum
                WHERE c.attname IN (p_prediction, p_probability)) THEN
            RAISE EXCEPTION 'the prediction or probability column of % is a partition key column', p_table
                USING ERRCODE = 'feature_not_supported',
                      DETAIL = 'The prediction is written by a BEFORE trigger, which cannot move a row to another partition.';
        END IF;
    END IF;
    IF p_label IS NOT NULL THEN
        a := @extschema@._ml_attribute(p_table, p_label, 'label');
        IF @extschema@._ml_column_class(a.atttypid) NOT IN ('float', 'integer', 'boolean')
           AND NOT (task = 'multiclass' AND @extschema@._ml_column_class(a.atttypid) = 'category') THEN
            RAISE EXCEPTION 'label column "%" has type %', p_label, format_type(a.atttypid, a.atttypmod)
                USING ERRCODE = 'datatype_mismatch', HINT = 'A label column is numeric or boolean.';
        END IF;
    END IF;
    IF p_key = p_prediction OR p_key = p_label OR p_prediction = p_label THEN
        RAISE EXCEPTION 'the key, prediction and label columns must be different columns'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The probability of a multiclass model's prediction.
    IF p_probability IS NOT NULL THEN
        IF p_prediction IS NULL OR task IS DISTINCT FROM 'multiclass' THEN
            RAISE EXCEPTION 'a probability column goes with a prediction column of a multiclass model'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        a := @extschema@._ml_attribute(p_table, p_probability, 'probability');
        IF @extschema@._ml_column_class(a.atttypid) <> 'float' THEN
            RAISE EXCEPTION 'probability column "%" has type %', p_probability, format_type(a.atttypid, a.atttypmod)
                USING ERRCODE = 'datatype_mismatch', HINT = 'A probability column is float8, float4 or numeric.';
        END IF;
        IF a.attgenerated <> '' THEN
            RAISE EXCEPTION 'probability column "%" is a generated column', p_probability
                USING ERRCODE = 'feature_not_supported';
        END IF;
        IF p_probability IN (p_key, p_prediction, p_label) THEN
            RAISE EXCEPTION 'the key, prediction, probability and label columns must be different columns'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;

    -- A labels table: rows (key, value) arriving later.
    IF p_label_table IS NOT NULL THEN
        IF p_label IS NOT NULL THEN
            RAISE EXCEPTION 'labels come from a label column or from a labels table, not both'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF p_label_key IS NULL OR p_label_value IS NULL THEN
            RAISE EXCEPTION 'a labels table needs label_key and label_value' USING ERRCODE = 'invalid_parameter_value',
                HINT = 'label_key names its column holding the key, label_value its column holding the label.';
        END IF;
        IF p_label_table = p_table THEN
            RAISE EXCEPTION 'the labels table is the attached table itself' USING ERRCODE = 'invalid_parameter_value',
                HINT = 'Use label => column for a label column of the attached table.';
        END IF;
        SELECT * INTO lrel FROM pg_class c WHERE c.oid = p_label_table;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'relation with OID % does not exist', p_label_table::oid USING ERRCODE = 'undefined_table';
        END IF;
        IF lrel.relkind NOT IN ('r', 'p') THEN
            RAISE EXCEPTION '% is not a table', p_label_table USING ERRCODE = 'wrong_object_type';
        END IF;
        IF NOT pg_has_role(p_actor, lrel.relowner, 'USAGE') THEN
            RAISE EXCEPTION 'must be owner of table %', p_label_table USING ERRCODE = 'insufficient_privilege';
        END IF;
        a := @extschema@._ml_attribute(p_label_table, p_label_key, 'label key');
        IF a.atttypid <> key_type THEN
            RAISE EXCEPTION 'label key column "%" has type %, but key column "%" has type %', p_label_key,
                            format_type(a.atttypid, NULL), p_key, format_type(key_type, NULL)
                USING ERRCODE = 'datatype_mismatch';
        END IF;
        a := @extschema@._ml_attribute(p_label_table, p_label_value, 'label value');
        IF @extschema@._ml_column_class(a.atttypid) NOT IN ('float', 'integer', 'boolean')
           AND NOT (task = 'multiclass' AND @extschema@._ml_column_class(a.atttypid) = 'category') THEN
            RAISE EXCEPTION 'label value column "%" has type %', p_label_value, format_type(a.atttypid, a.atttypmod)
                USING ERRCODE = 'datatype_mismatch', HINT = 'A label is numeric or boolean.';
        END IF;
        IF p_label_key = p_label_value THEN
            RAISE EXCEPTION 'label_key and label_value must be different columns' USING ERRCODE = 'invalid_parameter_value';
        END IF;
    ELSIF p_label_key IS NOT NULL OR p_label_value IS NOT NULL THEN
        RAISE EXCEPTION 'label_key and label_value go with label_table' USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- The features: given, or every column but the key, prediction and label columns (and
    -- those the model's spec ignores).
    IF p_features IS NULL THEN
        SELECT m.spec -> 'ignore' INTO ignored
        FROM @extschema@.ml_aliases x JOIN @extschema@.ml_models m ON m.name = x.name AND m.version = x.version
        WHERE x.name = p_model AND x.alias = p_alias;
        SELECT array_agg(c.attname::text ORDER BY c.attnum) INTO feats
        FROM pg_attribute c
        WHERE c.attrelid = p_table AND c.attnum > 0 AND NOT c.attisdropped
          AND c.attname IS DISTINCT FROM p_key AND c.attname IS DISTINCT FROM p_prediction
          AND c.attname IS DISTINCT FROM p_label AND c.attname IS DISTINCT FROM p_probability
          AND NOT coalesce(ignored ? c.attname::text, false);
        IF feats IS NULL THEN
            RAISE EXCEPTION 'table % has no column left to be a feature', p_table USING ERRCODE = 'invalid_parameter_value';
        END IF;
    ELSE
        IF cardinality(p_features) = 0 THEN
            RAISE EXCEPTION 'features must name at least one column' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF array_position(p_features, NULL) IS NOT NULL THEN
            RAISE EXCEPTION 'features must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF (SELECT count(DISTINCT x) FROM unnest(p_features) x) <> cardinality(p_features) THEN
            RAISE EXCEPTION 'features name a column more than once' USING ERRCODE = 'duplicate_column';
        END IF;
        feats := p_features;
    END IF;
    -- (a timestamp, timestamptz or date column is a feature of a version that reads timestamps:
    -- a pipeline with a date_parts step, which takes it as seconds since 1970)
    SELECT coalesce((@extschema@.ml_info(m.model) ->> 'reads_timestamps')::boolean, false) INTO reads_ts
    FROM @extschema@.ml_aliases x JOIN @extschema@.ml_models m ON m.name = x.name AND m.version = x.version
    WHERE x.name = p_model AND x.alias = p_alias;
    FOREACH f IN ARRAY feats LOOP
        a := @extschema@._ml_attribute(p_table, f, 'feature');
        IF f IN (p_key, p_prediction, p_label) OR f = p_probability THEN
            RAISE EXCEPTION 'column "%" is the key, prediction or label column and cannot also be a feature', f
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        cls := @extschema@._ml_column_class(a.atttypid);
        IF cls = 'other' OR (cls = 'timestamp' AND NOT reads_ts) THEN
            RAISE EXCEPTION 'column "%" has type %, which cannot be a feature', f, format_type(a.atttypid, a.atttypmod)
                USING ERRCODE = 'datatype_mismatch',
                      HINT = CASE WHEN cls = 'timestamp'
                                  THEN 'A timestamp or date column is a feature of a pipeline with a "date_parts" step; '
                                       'choose the features with features => ARRAY[...].'
                                  ELSE 'Features are numeric, boolean, text or enum columns; choose them with features => ARRAY[...].' END;
        END IF;
        IF a.attgenerated <> '' AND p_prediction IS NOT NULL THEN
            RAISE EXCEPTION 'feature column "%" is a generated column', f USING ERRCODE = 'feature_not_supported',
                DETAIL = 'Generated columns are computed after BEFORE triggers, which write the prediction column.';
        END IF;
    END LOOP;

    -- Issue 16 item 6: explanations logged for audit need a champion that explains (the
    -- challengers and shadows are checked by _ml_check_serving below): never a log that silently
    -- lacks them.
    IF p_explain THEN
        SELECT @extschema@._ml_explain_refusal(m.model), m.version INTO cls, reads_ts_version
        FROM @extschema@.ml_aliases x JOIN @extschema@.ml_models m ON m.name = x.name AND m.version = x.version
        WHERE x.name = p_model AND x.alias = p_alias;
        IF cls IS NOT NULL THEN
            RAISE EXCEPTION 'version % of model "%" cannot explain its predictions, which explain => true logs',
                            reads_ts_version, p_model
                USING ERRCODE = 'feature_not_supported', DETAIL = cls,
                      HINT = 'Attach without explain => true, or deploy a version that explains (docs/explanations.md).';
        END IF;
    END IF;

    INSERT INTO @extschema@.ml_attachments (table_name, model_name, alias, key_column, prediction_column,
                                            label_column, features, label_table, label_key_column,
                                            label_value_column, mode, created_by, probability_column,
                                            learn, explain)
    VALUES (p_table, p_model, p_alias, p_key, p_prediction, p_label, feats, p_label_table, p_label_key,
            p_label_value, p_mode, p_actor, p_probability, p_learn, p_explain);
    -- The challengers and shadows of the model score the table too: each must fit it.
    PERFORM @extschema@._ml_check_serving(p_model, r.alias, m.task, NULL)
    FROM @extschema@.ml_rollouts r
    JOIN @extschema@.ml_aliases x ON x.name = r.model_name AND x.alias = r.alias
    JOIN @extschema@.ml_models m ON m.name = x.name AND m.version = x.version
    WHERE r.model_name = p_model;

    -- The triggers. A change of the key or of a feature scores the row again; WHEN clauses keep
    -- an UPDATE that changes neither (nor brings a label) from reaching the trigger function.
    SELECT string_agg(quote_ident(c), ', '), 'ROW(' || string_agg('OLD.' || quote_ident(c), ', ') || ')',
           'ROW(' || string_agg('NEW.' || quote_ident(c), ', ') || ')'
    INTO watched, old_row, new_row
    FROM unnest(ARRAY[p_key::text] || feats) c;
    IF p_prediction IS NOT NULL THEN
        EXECUTE format('CREATE TRIGGER pg_learn_score_insert BEFORE INSERT ON %s FOR EACH ROW '
                       'EXECUTE FUNCTION @extschema@._ml_feedback_trigger(%L)', p_table, 'score');
        EXECUTE format('CREATE TRIGGER pg_learn_score_update BEFORE UPDATE OF %s ON %s FOR EACH ROW '
                       'WHEN (%s IS DISTINCT FROM %s) EXECUTE FUNCTION @extschema@._ml_feedback_trigger(%L)',
                       watched, p_table, old_row, new_row, 'score');
    END IF;
    EXECUTE format('CREATE TRIGGER pg_learn_log_insert AFTER INSERT ON %s FOR EACH ROW '
                   'EXECUTE FUNCTION @extschema@._ml_feedback_trigger(%L)', p_table, 'log');
    -- pg_learn_log_update has no WHEN clause: its function tests the condition the clause held
    -- (the key or a feature IS DISTINCT FROM, or the label from NULL to a value: log_update_fires
    -- in src/pg/feedback/trigger.cpp), since a WHEN clause is prepared again by every statement
    -- that fires it. A column type without "=", which the clause could not be made for, is
    -- refused as the clause refused it.
    SELECT string_agg(format('NULL::%1$s IS DISTINCT FROM NULL::%1$s', format_type(t.atttypid, NULL)), ' AND ')
    INTO cond
    FROM unnest(ARRAY[p_key::text] || feats) c
    JOIN pg_attribute t ON t.attrelid = p_table AND t.attname = c AND t.attnum > 0 AND NOT t.attisdropped;
    EXECUTE 'SELECT ' || cond;
    IF p_label IS NOT NULL THEN
        watched := watched || ', ' || quote_ident(p_label);
    END IF;
    EXECUTE format('CREATE TRIGGER pg_learn_log_update AFTER UPDATE OF %s ON %s FOR EACH ROW '
                   'EXECUTE FUNCTION @extschema@._ml_feedback_trigger(%L)', watched, p_table, 'log');
    -- A partitioned table with a label column: an UPDATE that moves a labelled row to another
    -- partition is a DELETE and an INSERT that carries the label; this trigger tells the INSERT's
    -- that the label arrived already (learned once, docs/feedback.md "Partitioned tables").
    IF rel.relkind = 'p' AND p_label IS NOT NULL THEN
        EXECUTE format('CREATE TRIGGER pg_learn_log_delete AFTER DELETE ON %s FOR EACH ROW WHEN (OLD.%I IS NOT NULL) '
                       'EXECUTE FUNCTION @extschema@._ml_feedback_trigger(%L)', p_table, p_label, 'move');
    END IF;
    -- One label trigger per labels table, whatever the number of tables it labels.
    IF p_label_table IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM pg_trigger g WHERE g.tgrelid = p_label_table AND g.tgname = 'pg_learn_label') THEN
        EXECUTE format('CREATE TRIGGER pg_learn_label AFTER INSERT OR UPDATE ON %s FOR EACH ROW '
                       'EXECUTE FUNCTION @extschema@._ml_feedback_trigger(%L)', p_label_table, 'label');
    END IF;
    PERFORM @extschema@._ml_feedback_invalidate();
END
$$;
REVOKE EXECUTE ON FUNCTION
    @extschema@._ml_attach(regclass, text, name, name, name, text[], text, text, regclass, name, name, name, boolean, boolean, name)
FROM PUBLIC;
CREATE FUNCTION @extschema@.ml_attach(tbl regclass, model text, key name, prediction name DEFAULT NULL,
                                      label name DEFAULT NULL, features text[] DEFAULT NULL,
                                      alias text DEFAULT 'production', mode text DEFAULT 'queue',
                                      label_table regclass DEFAULT NULL, label_key name DEFAULT NULL,
                                      label_value name DEFAULT NULL, probability name DEFAULT NULL,
                                      learn boolean DEFAULT true, explain boolean DEFAULT false)
    RETURNS void AS 'MODULE_PATHNAME', 'ml_feedback_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_attach(regclass, text, name, name, name, text[], text, text, regclass, name, name, name, boolean, boolean) IS
    'Scores the rows of a table with a model as they arrive, logs the predictions and learns from their labels';
REVOKE EXECUTE ON FUNCTION
    @extschema@.ml_attach(regclass, text, name, name, name, text[], text, text, regclass, name, name, name, boolean, boolean)
FROM PUBLIC;

-- A deploy to a table attached with explain => true needs a version that explains.
CREATE OR REPLACE FUNCTION @extschema@._ml_check_serving(p_model text, p_alias text, p_task text, p_version int,
                                              p_role text DEFAULT NULL)
    RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    subject text;
    t record;
    role text := p_role;
    names boolean := p_task IN ('multiclass', 'clustering');
    a pg_attribute;
    reads_ts boolean;
    ts_feature text;
    explain_checked boolean := false;
    explain_refusal text;
BEGIN
    subject := CASE WHEN p_version IS NULL THEN format('alias "%s" of model "%s"', p_alias, p_model)
                    ELSE format('version %s of model "%s"', p_version, p_model) END;
    IF role IS NULL THEN
        SELECT r.role INTO role FROM @extschema@.ml_rollouts r WHERE r.model_name = p_model AND r.alias = p_alias;
    END IF;
    FOR t IN SELECT * FROM @extschema@.ml_attachments x
             WHERE x.model_name = p_model AND (x.alias = p_alias OR role IS NOT NULL)
             ORDER BY x.table_name::text
    LOOP
        IF p_task IN ('clustering', 'anomaly') AND (t.label_column IS NOT NULL OR t.label_table IS NOT NULL) THEN
            RAISE EXCEPTION '% learns without labels (its task is %), but % brings labels', subject, p_task, t.table_name
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'The labels of an attached table are learned by every variant that scored the row.',
                      HINT = 'Attach the table without labels, or deploy a version that learns from them.';
        END IF;
        -- (the champion and challengers write the prediction column; a shadow only logs)
        IF t.prediction_column IS NOT NULL AND role IS DISTINCT FROM 'shadow' THEN
            SELECT * INTO a FROM pg_attribute c WHERE c.attrelid = t.table_name AND c.attname = t.prediction_column;
            IF FOUND AND (names AND a.atttypid NOT IN ('text'::regtype, 'varchar'::regtype)
                          OR NOT names AND @extschema@._ml_column_class(a.atttypid) <> 'float') THEN
                RAISE EXCEPTION '% is %, but prediction column "%" of % has type %', subject, p_task,
                                t.prediction_column, t.table_name, format_type(a.atttypid, a.atttypmod)
                    USING ERRCODE = 'datatype_mismatch',
                          DETAIL = CASE WHEN names THEN 'It predicts a name (a class or a cluster), written as text.'
                                        ELSE 'It predicts a number.' END,
                          HINT = 'Deploy a version of the task the table was attached with, or ml_detach and '
                                 'ml_attach the table again with a prediction column of the new type.';
            END IF;
        END IF;
        -- (a timestamp feature is read by a version that reads timestamps; shadows score too)
        SELECT c.attname::text INTO ts_feature FROM pg_attribute c
        WHERE c.attrelid = t.table_name AND c.attname::text = ANY (t.features) AND NOT c.attisdropped
          AND @extschema@._ml_column_class(c.atttypid) = 'timestamp'
        ORDER BY c.attnum LIMIT 1;
        IF ts_feature IS NOT NULL THEN
            IF reads_ts IS NULL THEN
                SELECT coalesce((@extschema@.ml_info(m.model) ->> 'reads_timestamps')::boolean, false) INTO reads_ts
                FROM @extschema@.ml_models m
                WHERE m.name = p_model
                  AND m.version = coalesce(p_version, (SELECT x.version FROM @extschema@.ml_aliases x
                                                       WHERE x.name = p_model AND x.alias = p_alias));
            END IF;
            IF NOT reads_ts THEN
                RAISE EXCEPTION '% does not read timestamps, but feature column "%" of % is one', subject, ts_feature, t.table_name
                    USING ERRCODE = 'datatype_mismatch',
                          HINT = 'Only a model with a date_parts step (a pipeline) reads timestamp and date columns.';
            END IF;
        END IF;
        IF t.probability_column IS NOT NULL AND p_task IS DISTINCT FROM 'multiclass' AND role IS DISTINCT FROM 'shadow' THEN
            RAISE EXCEPTION '% is %, but % has a probability column "%", which only a multiclass version fills',
                            subject, p_task, t.table_name, t.probability_column
                USING ERRCODE = 'datatype_mismatch',
                      HINT = 'Deploy a multiclass version, or attach the table again without probability =>.';
        END IF;
        IF p_task IS DISTINCT FROM 'multiclass' AND p_task NOT IN ('clustering', 'anomaly') THEN
            SELECT * INTO a FROM pg_attribute c
            WHERE (c.attrelid, c.attname) = (t.table_name, t.label_column)
               OR (c.attrelid, c.attname) = (t.label_table, t.label_value_column);
            IF FOUND AND @extschema@._ml_column_class(a.atttypid) = 'category' THEN
                RAISE EXCEPTION '% is %, but the labels of % are text (classes)', subject, p_task, t.table_name
                    USING ERRCODE = 'datatype_mismatch',
                          HINT = 'Text labels are classes, which a multiclass version learns.';
            END IF;
        END IF;
        -- Issue 16 item 6: a table attached with explain => true logs every variant's explanation.
        IF t.explain THEN
            IF NOT explain_checked THEN
                SELECT @extschema@._ml_explain_refusal(m.model) INTO explain_refusal
                FROM @extschema@.ml_models m
                WHERE m.name = p_model
                  AND m.version = coalesce(p_version, (SELECT x.version FROM @extschema@.ml_aliases x
                                                       WHERE x.name = p_model AND x.alias = p_alias));
                explain_checked := true;
            END IF;
            IF explain_refusal IS NOT NULL THEN
                RAISE EXCEPTION '% cannot explain its predictions, but % was attached with explain => true', subject, t.table_name
                    USING ERRCODE = 'feature_not_supported', DETAIL = explain_refusal,
                          HINT = 'Deploy a version that explains (docs/explanations.md), or ml_detach and ml_attach the '
                                 'table again without explain => true.';
            END IF;
        END IF;
    END LOOP;
END
$$;
REVOKE EXECUTE ON FUNCTION @extschema@._ml_check_serving(text, text, text, int, text) FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- s8-harden (issue 12 item 7, INSERT cost): the log's index by model and time is gone (nothing of
-- pg_learn reads the log that way; its entry cost every logged prediction), and ml_partition_log
-- makes none.
DROP INDEX IF EXISTS @extschema@.ml_prediction_log_model_time;
-- The partitioned log has the explanation column too (and, as above, no index by model and time).
CREATE OR REPLACE FUNCTION @extschema@._ml_partition_log(p_every interval, p_premake int, p_actor name) RETURNS int
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    log_rel regclass := '@extschema@.ml_prediction_log'::regclass;
    seq text;
    next_id bigint;
    boundary timestamptz;
    latest timestamptz;
    fk name;
    g record;
    n int := 0;
    -- (issue 14: ml_segment_metrics reads the log; it is pointed at the new one below)
    segment_view text := pg_get_viewdef('@extschema@.ml_segment_metrics'::regclass);
BEGIN
    IF p_every IS NULL OR p_premake IS NULL THEN
        RAISE EXCEPTION 'every and premake must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_every < interval '1 minute' OR extract(month FROM p_every) <> 0 OR extract(year FROM p_every) <> 0 THEN
        RAISE EXCEPTION 'partition width % is not 1 minute or more without months', p_every
            USING ERRCODE = 'invalid_parameter_value', HINT = 'e.g. interval ''1 day'' or ''7 days''.';
    END IF;
    IF p_premake < 1 OR p_premake > 1000 THEN
        RAISE EXCEPTION 'premake % is not between 1 and 1000', p_premake USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM 1 FROM @extschema@.ml_monitor_state FOR UPDATE;
    IF (SELECT c.relkind FROM pg_class c WHERE c.oid = log_rel) = 'p' THEN
        UPDATE @extschema@.ml_monitor_state SET log_partition_interval = p_every, log_partition_premake = p_premake;
        RETURN @extschema@._ml_log_premake();
    END IF;

    -- The log as it is becomes ml_prediction_log_before, the partition of every row up to the end
    -- of its latest prediction's bucket (the current one, or an earlier one: predictions between
    -- that and the current bucket, if any, go to the DEFAULT partition).
    LOCK TABLE @extschema@.ml_prediction_log IN ACCESS EXCLUSIVE MODE;
    LOCK TABLE @extschema@.ml_label_queue IN SHARE ROW EXCLUSIVE MODE;
    SELECT max(l.predicted_at) INTO latest FROM @extschema@.ml_prediction_log l;
    boundary := date_bin(p_every, coalesce(latest, now()), '2000-01-01 00:00:00+00'::timestamptz) + p_every;
    seq := pg_get_serial_sequence('@extschema@.ml_prediction_log', 'prediction_id');
    EXECUTE format('SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %s', seq) INTO next_id;
    SELECT c.conname INTO fk FROM pg_constraint c
    WHERE c.conrelid = '@extschema@.ml_label_queue'::regclass AND c.confrelid = log_rel AND c.contype = 'f';
    IF fk IS NOT NULL THEN
        EXECUTE format('ALTER TABLE @extschema@.ml_label_queue DROP CONSTRAINT %I', fk);
    END IF;
    UPDATE @extschema@.ml_label_queue q SET predicted_at = l.predicted_at
    FROM @extschema@.ml_prediction_log l
    WHERE l.prediction_id = q.prediction_id AND q.predicted_at IS DISTINCT FROM l.predicted_at;
    DROP TRIGGER ml_monitor_prediction ON @extschema@.ml_prediction_log;
    DROP TRIGGER ml_monitor_label ON @extschema@.ml_prediction_log;
    IF EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = seq::regclass
               AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e') THEN
        EXECUTE format('ALTER EXTENSION pg_learn DROP SEQUENCE %s', seq);
    END IF;
    ALTER EXTENSION pg_learn DROP TABLE @extschema@.ml_prediction_log;
    ALTER TABLE @extschema@.ml_prediction_log ALTER COLUMN prediction_id DROP IDENTITY;
    ALTER TABLE @extschema@.ml_prediction_log DROP CONSTRAINT ml_prediction_log_pkey;
    ALTER TABLE @extschema@.ml_prediction_log RENAME TO ml_prediction_log_before;
    ALTER INDEX @extschema@.ml_prediction_log_table_key RENAME TO ml_prediction_log_before_table_key;
    EXECUTE format('ALTER TABLE @extschema@.ml_prediction_log_before ADD CONSTRAINT ml_prediction_log_before_range'
                   ' CHECK (predicted_at < %L)', boundary);

    -- The partitioned log: the same columns (those of the log it replaces), the partition key in
    -- its primary key.
    EXECUTE format('CREATE TABLE @extschema@.ml_prediction_log (prediction_id bigint GENERATED ALWAYS AS IDENTITY'
                   ' (START WITH %s), %s, PRIMARY KEY (prediction_id, predicted_at)) PARTITION BY RANGE (predicted_at)',
                   next_id, @extschema@._ml_log_columns('@extschema@.ml_prediction_log_before'));
    ALTER EXTENSION pg_learn ADD TABLE @extschema@.ml_prediction_log;
    -- The view that reads the log reads the new one (its definition as read before the rename).
    EXECUTE 'CREATE OR REPLACE VIEW @extschema@.ml_segment_metrics WITH (security_barrier) AS ' || segment_view;
    CREATE INDEX ml_prediction_log_table_key ON @extschema@.ml_prediction_log (table_name, key);
    COMMENT ON TABLE @extschema@.ml_prediction_log IS
        'pg_learn: every prediction of an attached model, with the features as scored and the label when it arrives';
    REVOKE ALL ON TABLE @extschema@.ml_prediction_log FROM PUBLIC;
    -- (the grants of the log as it was: SELECT for a dashboard's role, ...)
    FOR g IN SELECT a.grantee, a.privilege_type, a.is_grantable
             FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
             WHERE c.oid = log_rel AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('GRANT %s ON @extschema@.ml_prediction_log TO %s%s', g.privilege_type,
                       CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(g.grantee::regrole::text) END,
                       CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    IF latest IS NULL THEN
        -- (an empty log: nothing to keep, no partition of the past)
        DROP TABLE @extschema@.ml_prediction_log_before;
        boundary := date_bin(p_every, now(), '2000-01-01 00:00:00+00'::timestamptz);
    ELSE
        EXECUTE format('ALTER TABLE @extschema@.ml_prediction_log ATTACH PARTITION @extschema@.ml_prediction_log_before'
                       ' FOR VALUES FROM (MINVALUE) TO (%L)', boundary);
        ALTER TABLE @extschema@.ml_prediction_log_before DROP CONSTRAINT ml_prediction_log_before_range;
        n := 1;
    END IF;
    CREATE TABLE @extschema@.ml_prediction_log_default PARTITION OF @extschema@.ml_prediction_log DEFAULT;
    -- The monitoring's triggers (as in its definition above), cloned to every partition.
    CREATE TRIGGER ml_monitor_prediction AFTER INSERT ON @extschema@.ml_prediction_log
        FOR EACH ROW EXECUTE FUNCTION @extschema@._ml_monitor_enqueue();
    CREATE TRIGGER ml_monitor_label AFTER UPDATE OF label, label_class ON @extschema@.ml_prediction_log
        FOR EACH ROW EXECUTE FUNCTION @extschema@._ml_monitor_enqueue();
    -- (NOT NULL: a label is found in its partition by it; the foreign key checks the pair)
    ALTER TABLE @extschema@.ml_label_queue ALTER COLUMN predicted_at SET NOT NULL,
        ADD CONSTRAINT ml_label_queue_prediction_fkey
        FOREIGN KEY (prediction_id, predicted_at) REFERENCES @extschema@.ml_prediction_log (prediction_id, predicted_at);
    UPDATE @extschema@.ml_monitor_state
    SET log_partition_interval = p_every, log_partition_premake = p_premake, log_partitioned_until = boundary;
    PERFORM @extschema@._ml_feedback_invalidate();
    RETURN n + 1 + @extschema@._ml_log_premake();
END
$$;
REVOKE EXECUTE ON FUNCTION
    @extschema@._ml_log_partitions(),
    @extschema@._ml_log_premake(),
    @extschema@._ml_partition_log(interval, int, name)
FROM PUBLIC;
-- END monitor-only labels and logged explanations (wt-labels)
-- ---------------------------------------------------------------------------------------------
-- Issue 11, defaults that learn: ml_train runs 10 epochs unless told otherwise (new specs also get
-- new defaults, which the C code decides; stored models keep their stored specs); issue 11 item 5:
-- ml_train(model, query, label name, ...) over rows whose column named label is the label.
-- Issue 16 item 5: training history and progress. ml_train gains validation and patience (its
-- old calls still work: the new arguments default to NULL); ml_training_info; the view
-- ml_training_progress.
-- ---------------------------------------------------------------------------------------------
DROP FUNCTION ml_train(ml_model, text, int, boolean, bigint);
CREATE FUNCTION ml_train(model ml_model, query text, epochs int DEFAULT 10,
                         shuffle boolean DEFAULT true, seed bigint DEFAULT 0,
                         validation text DEFAULT NULL, patience int DEFAULT NULL) RETURNS ml_model
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml_train(ml_model, text, int, boolean, bigint, text, int) IS
    'The model after several online passes over the rows of a query returning (features, label), with its training history (loss per epoch, optional validation query and early stopping)';
-- The same over a query returning rows (SELECT * FROM t): the column named label is the label,
-- every other column a feature.
CREATE FUNCTION ml_train(model ml_model, query text, label name, epochs int DEFAULT 10,
                         shuffle boolean DEFAULT true, seed bigint DEFAULT 0,
                         validation text DEFAULT NULL, patience int DEFAULT NULL) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_train_label' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml_train(ml_model, text, name, int, boolean, bigint, text, int) IS
    'The model after several online passes over the rows of a query, their label the column named label (never a feature), with its training history';

-- Issue 16 item 5: the training history ml_train recorded in the model, one row per epoch (the
-- last 1000), as BigQuery ML's ML.TRAINING_INFO; no rows for a model without one.
CREATE FUNCTION ml_training_info(model ml_model)
    RETURNS TABLE (epoch int, rows bigint, train_loss float8, validation_loss float8, loss text, best boolean)
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_training_info(ml_model) IS
    'The training history ml_train recorded: per epoch, rows, mean progressive training loss, validation loss';
-- The model without its training history (to compare it with a model ml_fit learned, or to
-- store it smaller).
CREATE FUNCTION ml_model_without_history(model ml_model) RETURNS ml_model
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_model_without_history(ml_model) IS
    'The model without the training history ml_train recorded in it';
-- The progress of every ml_train running in the cluster (shared memory), as pg_stat_progress_*:
-- a role sees its own trainings' progress, members of pg_read_all_stats everyone's.
CREATE FUNCTION ml_training_progress_slots()
    RETURNS TABLE (pid int, datname name, usename name, started timestamptz, phase text, epoch int, epochs int,
                   rows_done bigint, rows_total bigint, rows_per_second float8, eta interval)
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml_training_progress_slots() IS
    'The rows of the view ml_training_progress';
CREATE VIEW @extschema@.ml_training_progress AS
    SELECT pid, datname, usename, started, phase, epoch, epochs, rows_done, rows_total, rows_per_second, eta
    FROM @extschema@.ml_training_progress_slots();
COMMENT ON VIEW @extschema@.ml_training_progress IS
    'Each running ml_train: phase (reading, training, validating), epoch, rows done of the total, rows per second, estimated time left';
GRANT SELECT ON @extschema@.ml_training_progress TO PUBLIC;

-- END issue 16 item 5: training history and progress

-- ---------------------------------------------------------------------------------------------
-- s8-harden (issue 12): pg_dump and pg_restore of a partitioned log.
-- pg_dump and pg_restore of a partitioned log (issue 12). pg_dump writes the log's partitions as
-- tables of their own (they are not members of the extension), then, in this order: ALTER TABLE
-- ONLY ml_prediction_log ATTACH PARTITION for each (pre-data), their rows and the queue's rows
-- (data), and their primary keys and indexes followed by ALTER INDEX ml_prediction_log_pkey (and
-- ml_prediction_log_table_key) ATTACH PARTITION for each (post-data). The restored CREATE
-- EXTENSION makes the unpartitioned log, which cannot take partitions: these event triggers
-- turn it into the partitioned log at the first ATTACH PARTITION of a restore (the log is empty
-- then), without indexes, so that the dumped partitions' own primary keys and indexes are
-- created as the dump says; the parent's indexes are made (ON ONLY) at the first ALTER INDEX that
-- attaches to them; when the last partition's primary key is attached (the parent's is then
-- valid), the queue's foreign key to the log is added back (the restored queue rows are checked
-- then), the log's identity continues after its largest prediction_id, and the partitioning
-- settings are read back from the partitions' bounds. Each step only acts on the exact
-- statement pg_dump writes, naming this schema's log.
CREATE FUNCTION @extschema@._ml_log_restore() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    q text := ltrim(current_query());
    nsp text := '@extschema@';  -- (as pg_dump writes it: quoted where needed)
    log_rel regclass;
    segment_view text;
    fk name;
    seq text;
    every interval;
    until timestamptz;
BEGIN
    -- Every other ALTER TABLE and ALTER INDEX of the database: nothing but this test. The steps'
    -- own DDL (with the restore's statement still current) does not come back here.
    IF NOT (position(format('ALTER TABLE ONLY %s.ml_prediction_log ATTACH PARTITION ', nsp) IN q) = 1
            OR position(format('ALTER INDEX %s.ml_prediction_log_pkey ATTACH PARTITION ', nsp) IN q) = 1
            OR position(format('ALTER INDEX %s.ml_prediction_log_table_key ATTACH PARTITION ', nsp) IN q) = 1)
       OR current_setting('pg_learn_restore.active', true) = 'on' THEN
        RETURN;
    END IF;
    log_rel := to_regclass('@extschema@.ml_prediction_log');
    IF log_rel IS NULL THEN
        RETURN;
    END IF;
    PERFORM set_config('pg_learn_restore.active', 'on', true);
    IF TG_TAG = 'ALTER TABLE' AND TG_EVENT = 'ddl_command_start' THEN
        IF position(format('ALTER TABLE ONLY %s.ml_prediction_log ATTACH PARTITION ', nsp) IN q) <> 1
           OR (SELECT c.relkind FROM pg_class c WHERE c.oid = log_rel) <> 'r'
           OR EXISTS (SELECT 1 FROM @extschema@.ml_prediction_log) THEN
            PERFORM set_config('pg_learn_restore.active', 'off', true);
            RETURN;
        END IF;
        segment_view := pg_get_viewdef('@extschema@.ml_segment_metrics'::regclass);
        LOCK TABLE @extschema@.ml_prediction_log IN ACCESS EXCLUSIVE MODE;
        SELECT c.conname INTO fk FROM pg_constraint c
        WHERE c.conrelid = '@extschema@.ml_label_queue'::regclass AND c.confrelid = log_rel AND c.contype = 'f';
        IF fk IS NOT NULL THEN
            EXECUTE format('ALTER TABLE @extschema@.ml_label_queue DROP CONSTRAINT %I', fk);
        END IF;
        seq := pg_get_serial_sequence('@extschema@.ml_prediction_log', 'prediction_id');
        IF EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = seq::regclass
                   AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e') THEN
            EXECUTE format('ALTER EXTENSION pg_learn DROP SEQUENCE %s', seq);
        END IF;
        ALTER EXTENSION pg_learn DROP TABLE @extschema@.ml_prediction_log;
        ALTER TABLE @extschema@.ml_prediction_log RENAME TO ml_prediction_log_unpartitioned;
        -- (the columns of the log the extension's script made)
        EXECUTE format('CREATE TABLE @extschema@.ml_prediction_log (prediction_id bigint GENERATED ALWAYS AS IDENTITY,'
                       ' %s) PARTITION BY RANGE (predicted_at)',
                       @extschema@._ml_log_columns('@extschema@.ml_prediction_log_unpartitioned'));
        ALTER EXTENSION pg_learn ADD TABLE @extschema@.ml_prediction_log;
        EXECUTE 'CREATE OR REPLACE VIEW @extschema@.ml_segment_metrics WITH (security_barrier) AS ' || segment_view;
        DROP TABLE @extschema@.ml_prediction_log_unpartitioned;
        COMMENT ON TABLE @extschema@.ml_prediction_log IS
            'pg_learn: every prediction of an attached model, with the features as scored and the label when it arrives';
        REVOKE ALL ON TABLE @extschema@.ml_prediction_log FROM PUBLIC;
        CREATE TRIGGER ml_monitor_prediction AFTER INSERT ON @extschema@.ml_prediction_log
            FOR EACH ROW EXECUTE FUNCTION @extschema@._ml_monitor_enqueue();
        CREATE TRIGGER ml_monitor_label AFTER UPDATE OF label, label_class ON @extschema@.ml_prediction_log
            FOR EACH ROW EXECUTE FUNCTION @extschema@._ml_monitor_enqueue();
        PERFORM @extschema@._ml_feedback_invalidate();
    ELSIF TG_TAG = 'ALTER INDEX' AND TG_EVENT = 'ddl_command_start' THEN
        IF (SELECT c.relkind FROM pg_class c WHERE c.oid = log_rel) <> 'p' THEN
            NULL;
        ELSIF position(format('ALTER INDEX %s.ml_prediction_log_pkey ATTACH PARTITION ', nsp) IN q) = 1
              AND to_regclass('@extschema@.ml_prediction_log_pkey') IS NULL THEN
            ALTER TABLE ONLY @extschema@.ml_prediction_log ADD CONSTRAINT ml_prediction_log_pkey
                PRIMARY KEY (prediction_id, predicted_at);
        ELSIF position(format('ALTER INDEX %s.ml_prediction_log_table_key ATTACH PARTITION ', nsp) IN q) = 1
              AND to_regclass('@extschema@.ml_prediction_log_table_key') IS NULL THEN
            CREATE INDEX ml_prediction_log_table_key ON ONLY @extschema@.ml_prediction_log (table_name, key);
        END IF;
    ELSIF TG_TAG = 'ALTER INDEX' AND TG_EVENT = 'ddl_command_end' THEN
        IF position(format('ALTER INDEX %s.ml_prediction_log_pkey ATTACH PARTITION ', nsp) IN q) <> 1
           OR (SELECT c.relkind FROM pg_class c WHERE c.oid = log_rel) <> 'p'
           OR NOT (SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = '@extschema@.ml_prediction_log_pkey'::regclass)
           OR EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = '@extschema@.ml_label_queue'::regclass
                      AND c.confrelid = log_rel AND c.contype = 'f') THEN
            PERFORM set_config('pg_learn_restore.active', 'off', true);
            RETURN;
        END IF;
        ALTER TABLE @extschema@.ml_label_queue ALTER COLUMN predicted_at SET NOT NULL,
            ADD CONSTRAINT ml_label_queue_prediction_fkey
            FOREIGN KEY (prediction_id, predicted_at) REFERENCES @extschema@.ml_prediction_log (prediction_id, predicted_at);
        seq := pg_get_serial_sequence('@extschema@.ml_prediction_log', 'prediction_id');
        PERFORM setval(seq, coalesce((SELECT max(l.prediction_id) FROM @extschema@.ml_prediction_log l), 1),
                       EXISTS (SELECT 1 FROM @extschema@.ml_prediction_log));
        SELECT p.upper_bound - p.lower_bound INTO every FROM @extschema@._ml_log_partitions() p
        WHERE p.lower_bound IS NOT NULL AND p.upper_bound IS NOT NULL ORDER BY p.upper_bound DESC LIMIT 1;
        SELECT max(p.upper_bound) INTO until FROM @extschema@._ml_log_partitions() p;
        UPDATE @extschema@.ml_monitor_state
        SET log_partition_interval = coalesce(every, interval '1 day'),
            log_partition_premake = coalesce(log_partition_premake, 3),
            log_partitioned_until = coalesce(until, date_bin(coalesce(every, interval '1 day'), now(), '2000-01-01 00:00:00+00'::timestamptz));
        PERFORM @extschema@._ml_feedback_invalidate();
    END IF;
    PERFORM set_config('pg_learn_restore.active', 'off', true);
END
$$;
CREATE EVENT TRIGGER pg_learn_log_restore_start ON ddl_command_start WHEN TAG IN ('ALTER TABLE', 'ALTER INDEX')
    EXECUTE FUNCTION @extschema@._ml_log_restore();
CREATE EVENT TRIGGER pg_learn_log_restore_end ON ddl_command_end WHEN TAG IN ('ALTER INDEX')
    EXECUTE FUNCTION @extschema@._ml_log_restore();
REVOKE EXECUTE ON FUNCTION @extschema@._ml_log_restore() FROM PUBLIC;
-- BEGIN issue 16 item 4: hyperparameter search (ml_search; ml_deploy by the best metric)
-- ---------------------------------------------------------------------------------------------
-- Hyperparameter search (issue 16 item 4): trials of the base spec with values from the space
-- (grid: every combination of the listed values; random: draws), each evaluated on a holdout split
-- by the key's hash (ml_split) or by k-fold cross-validation (ml_fold), as BigQuery ML's
-- ML.TRIAL_INFO lists them. A failed trial is a row, not an error. register: the best trial's
-- spec learns every row and is registered under that name (docs/evaluation.md, "Search").
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_search(base jsonb, space jsonb, query text, method text DEFAULT 'grid', metric text DEFAULT NULL,
                          folds int DEFAULT NULL, test_fraction float8 DEFAULT 0.2, trials int DEFAULT NULL,
                          seconds float8 DEFAULT NULL, epochs int DEFAULT 1, seed bigint DEFAULT 0,
                          register text DEFAULT NULL)
    RETURNS TABLE (trial int, spec jsonb, params jsonb, status text, value float8, sd float8, metrics jsonb,
                   duration float8, is_best boolean, message text)
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 20;
COMMENT ON FUNCTION ml_search(jsonb, jsonb, text, text, text, int, float8, int, float8, int, bigint, text) IS
    'Hyperparameter search (grid or random) evaluated on a holdout split or by cross-validation: one row per trial';

-- Issue 16, search: the core's direction of a metric (true: higher is better; 22023 for a metric
-- without one), for ml_deploy(name, 'best', metric).
CREATE FUNCTION @extschema@._ml_metric_higher_is_better(metric text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ml_metric_higher_is_better' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ml_deploy(name, strategy => 'best', metric => m): the version whose ml_models.metrics has the best
-- number under key m (versions without it are skipped; equal values: the latest version), deployed
-- through _ml_deploy (the same lock, checks and audit as a deploy by version).
CREATE FUNCTION @extschema@._ml_deploy(p_name text, p_strategy text, p_metric text, p_alias text, p_actor name)
    RETURNS int
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    higher boolean;
    v int;
    best numeric;
BEGIN
    PERFORM @extschema@._ml_check_name('model name', p_name);
    PERFORM @extschema@._ml_check_name('alias', p_alias);
    IF p_strategy IS NULL OR p_metric IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', CASE WHEN p_strategy IS NULL THEN 'strategy' ELSE 'metric' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_strategy <> 'best' THEN
        RAISE EXCEPTION 'unknown deploy strategy "%"', left(p_strategy, 80)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The strategy is ''best'': the version with the best value of a metric in ml_models.metrics. '
                         'To deploy a version by number, pass an integer: ml_deploy(name, 3).';
    END IF;
    higher := @extschema@._ml_metric_higher_is_better(p_metric);
    PERFORM @extschema@._ml_lock_name(p_name);
    SELECT m.version, (m.metrics -> p_metric)::numeric INTO v, best
    FROM @extschema@.ml_models m
    WHERE m.name = p_name AND jsonb_typeof(m.metrics -> p_metric) = 'number'
    ORDER BY CASE WHEN higher THEN (m.metrics -> p_metric)::numeric ELSE -(m.metrics -> p_metric)::numeric END DESC,
             m.version DESC
    LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no version of model "%" has the metric "%"', p_name, p_metric
            USING ERRCODE = 'undefined_object',
                  HINT = 'ml_search(..., register => name) records its metrics; ml_register(..., metrics => ''{"auc": 0.9}'') too.';
    END IF;
    RAISE NOTICE 'deploying version % of model "%" as "%": the best % (%)', v, p_name, p_alias, p_metric, best;
    RETURN @extschema@._ml_deploy(p_name, v, p_alias, p_actor);
END
$$;

-- The version with the best value of a metric in ml_models.metrics (strategy 'best', PostgresML's
-- best_score). metric has no default, so that ml_deploy(name, NULL) and every two-argument call
-- stay the deploy by version.
CREATE FUNCTION @extschema@.ml_deploy(name text, strategy text, metric text, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_registry_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_deploy(text, text, text, text) IS
    'Points an alias at the version with the best value of a metric in ml_models.metrics; returns the version it pointed to before';

REVOKE EXECUTE ON FUNCTION
    @extschema@._ml_deploy(text, text, text, text, name),
    @extschema@._ml_metric_higher_is_better(text),
    @extschema@.ml_deploy(text, text, text, text)
FROM PUBLIC;

-- END issue 16 item 4: hyperparameter search

-- BEGIN session 8: the partitioned log takes its columns from the log it replaces
-- The columns of a log table after its prediction_id, as CREATE TABLE writes them (name, type,
-- NOT NULL): the partitioned log that _ml_partition_log and a restore (_ml_log_restore) make takes
-- its columns from the log it replaces, so a column added to the log is never left out of it.
CREATE FUNCTION @extschema@._ml_log_columns(p_log regclass) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT string_agg(format('%I %s%s', a.attname, format_type(a.atttypid, a.atttypmod),
                             CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END), ', ' ORDER BY a.attnum)
    FROM pg_attribute a
    WHERE a.attrelid = p_log AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'prediction_id'
$$;

REVOKE EXECUTE ON FUNCTION @extschema@._ml_log_columns(regclass) FROM PUBLIC;
-- END session 8: _ml_log_columns
