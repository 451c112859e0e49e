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

-- ml_register stores the task.
CREATE OR REPLACE FUNCTION @extschema@._ml_register(p_name text, p_model @extschema@.ml_model, p_notes text,
                                         p_provenance jsonb, p_baseline @extschema@.ml_profile, p_metrics jsonb,
                                         p_parent_version int, p_actor name) RETURNS int
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    info jsonb;
    v int;
    e int;
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
    INSERT INTO @extschema@.ml_models (name, version, model, kind, spec, created_by, parent_version,
                                       provenance, baseline, metrics, notes, event, task)
    VALUES (p_name, v, p_model, info ->> 'kind', info -> 'spec', p_actor, p_parent_version,
            coalesce(p_provenance, '{}'), p_baseline, coalesce(p_metrics, '{}'), p_notes, e, info ->> 'task');
    RETURN v;
END
$$;

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

-- ---------------------------------------------------------------------------------------------
-- Part 60: monitoring.

-- A binary classifier is known by the task the core stored (ml_models.task), not by its kind's name.
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
        SELECT l.model_name, l.version, l.variant,
               pg_catalog.date_bin(width, l.predicted_at, '2000-01-01 00:00:00+00'::timestamptz) AS bucket,
               (t.events & 1) <> 0 AS is_prediction,
               (t.events & 2) <> 0 AND l.label IS NOT NULL AS is_label,
               m.task = 'binary' AS classifier,
               l.predicted_at, l.score, l.features, l.label, l.labeled_at
        FROM taken t
        JOIN @extschema@.ml_prediction_log l ON l.prediction_id = t.prediction_id
        JOIN @extschema@.ml_models m ON m.name = l.model_name AND m.version = l.version
    ), scored AS (
        -- A label enters the metric state when its score is finite and, for a classifier, the
        -- label is 0 or 1; otherwise it is counted in unscored_labels.
        SELECT ev.*,
               ev.is_label AND ev.score > '-Infinity'::float8 AND ev.score < 'Infinity'::float8
               AND CASE WHEN ev.classifier THEN ev.label IN (0, 1)
                        ELSE ev.label > '-Infinity'::float8 AND ev.label < 'Infinity'::float8 END AS in_metrics
        FROM ev
        WHERE oldest IS NULL OR ev.bucket >= oldest
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
                            FILTER (WHERE s.in_metrics AND NOT s.classifier)) AS metric_state,
               bool_and(s.score >= 0 AND s.score <= 1) FILTER (WHERE s.in_metrics) AS unit_scores,
               count(*) FILTER (WHERE s.is_label AND NOT s.in_metrics) AS unscored_labels
        FROM scored s
        GROUP BY s.model_name, s.version, s.variant, s.bucket
    ), up AS (
        INSERT INTO @extschema@.ml_monitor_windows AS w
            (model_name, version, variant, bucket, predictions, first_predicted_at, last_predicted_at, scores,
             features, labels, label_values, label_delay, last_labeled_at, metric_state, unit_scores,
             unscored_labels, updated_at)
        SELECT a.model_name, a.version, a.variant, a.bucket, a.predictions, a.first_predicted_at,
               a.last_predicted_at, a.scores, a.features, a.labels, a.label_values, a.label_delay,
               a.last_labeled_at, a.metric_state, a.unit_scores, a.unscored_labels, now()
        FROM agg a
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
            updated_at = excluded.updated_at
        RETURNING 1
    )
    SELECT count(*) INTO n FROM taken;
    UPDATE @extschema@.ml_monitor_state
    SET refreshed_at = now(), refreshed_by = p_actor, refreshed_events = n, total_events = total_events + n;
    RETURN n;
END
$$;

CREATE OR REPLACE VIEW @extschema@.ml_model_metrics WITH (security_barrier) AS
SELECT w.bucket AS time, w.model_name AS model, w.version::text AS version, w.variant, x.metric, x.value
FROM @extschema@.ml_monitor_windows w
JOIN @extschema@.ml_models m ON m.name = w.model_name AND m.version = w.version
JOIN @extschema@._ml_monitor_config c ON c.model_name = w.model_name AND c.setting = 'classification_threshold'
CROSS JOIN LATERAL (
    SELECT m.task = 'binary' AS classifier
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
    (12, 'accuracy', CASE WHEN k.classifier THEN @extschema@.ml_accuracy(w.metric_state, c.value::float8) END),
    (13, 'auc', CASE WHEN k.classifier THEN @extschema@.ml_auc(w.metric_state) END),
    (14, 'logloss', CASE WHEN k.classifier AND w.unit_scores THEN @extschema@.ml_logloss(w.metric_state) END),
    (15, 'mae', CASE WHEN NOT k.classifier THEN @extschema@.ml_mae(w.metric_state) END),
    (16, 'rmse', CASE WHEN NOT k.classifier THEN @extschema@.ml_rmse(w.metric_state) END),
    (17, 'r2', CASE WHEN NOT k.classifier THEN @extschema@.ml_r2(w.metric_state) END)
) x(ord, metric, value)
WHERE x.value IS NOT NULL
ORDER BY w.bucket, w.model_name, w.version, w.variant, x.ord;

DROP FUNCTION @extschema@._ml_is_classifier(text);
