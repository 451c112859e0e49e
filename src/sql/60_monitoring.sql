-- pg_learn 0.2.0, part 60: monitoring. Settings, per-window mergeable statistics of the prediction
-- log (part 50) maintained incrementally by ml_monitor_refresh, the views a dashboard reads
-- (ml_model_metrics, ml_feature_drift, ml_data_quality, ml_model_health), and log retention
-- (ml_prune_log). docs/monitoring.md is the reference.
--
-- As in part 40: every body names the extension's objects as @extschema@.name and runs with
-- search_path = pg_catalog, pg_temp; the tables belong to the extension's owner; the writing
-- functions are C entry points (src/pg/monitoring/monitoring.cpp) that run the private _ml_* functions as
-- that owner, recording the caller as the actor. The views run with their owner's rights, so a
-- role granted SELECT on them reads what they show and nothing else.

-- ---------------------------------------------------------------------------------------------
-- Settings. ml_settings holds what was set (ml_monitor_set); the defaults live in
-- _ml_monitor_setting_defs. A model's value is its own, else the global one, else the default;
-- the two jsonb options (drift_options, anomaly_options) merge instead: the default, then the
-- global object, then the model's, key by key (jsonb ||).
-- ---------------------------------------------------------------------------------------------
CREATE TABLE @extschema@.ml_settings (
    model_name text        REFERENCES @extschema@.ml_model_names (name) ON DELETE CASCADE,  -- NULL: global
    setting    text        NOT NULL,
    value      text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by name        NOT NULL,
    CONSTRAINT ml_settings_key UNIQUE NULLS NOT DISTINCT (model_name, setting)
);
COMMENT ON TABLE @extschema@.ml_settings IS
    'pg_learn monitoring: settings changed with ml_monitor_set, global (model_name NULL) or per model';

-- The known settings: scope (global: one value for every model; model: per model, or global as
-- every model's default), value kind, default (NULL: none), description. A view of constants, so
-- that the monitoring views can read it with their owner's rights.
CREATE VIEW @extschema@._ml_monitor_setting_defs (setting, scope, kind, default_value, description) AS
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

-- The effective settings of every model name (and of model_name NULL: the global values).
CREATE VIEW @extschema@._ml_monitor_config AS
SELECT n.name AS model_name, d.setting,
       CASE WHEN d.kind = 'object'
            THEN ((d.default_value)::jsonb || coalesce((g.value)::jsonb, '{}') || coalesce((s.value)::jsonb, '{}'))::text
            ELSE coalesce(s.value, g.value, d.default_value) END AS value,
       CASE WHEN s.value IS NOT NULL THEN 'model' WHEN g.value IS NOT NULL THEN 'global' ELSE 'default' END AS source
FROM (SELECT m.name FROM @extschema@.ml_model_names m UNION ALL SELECT NULL::text) n
CROSS JOIN @extschema@._ml_monitor_setting_defs d
LEFT JOIN @extschema@.ml_settings g ON g.model_name IS NULL AND g.setting = d.setting
LEFT JOIN @extschema@.ml_settings s ON s.model_name = n.name AND s.setting = d.setting AND d.scope = 'model';

-- ---------------------------------------------------------------------------------------------
-- Window statistics: one row per (model, version, variant, bucket of predicted_at), holding
-- mergeable sketches, so that any longer window rolls up with ml_stats_merge, ml_profile_merge
-- and ml_metric_merge, and the views never read the log. Labels count in the bucket of their
-- prediction, whenever they arrive.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE @extschema@.ml_monitor_windows (
    model_name         text        NOT NULL,
    version            int         NOT NULL,
    variant            text        NOT NULL,
    bucket             timestamptz NOT NULL,
    predictions        bigint      NOT NULL DEFAULT 0 CHECK (predictions >= 0),
    first_predicted_at timestamptz,
    last_predicted_at  timestamptz,
    scores             @extschema@.ml_stats,       -- of every prediction's score: NULL, NaN, ±Infinity counted
    features           @extschema@.ml_profile,     -- of the logged features (jsonb objects)
    labels             bigint      NOT NULL DEFAULT 0 CHECK (labels >= 0),
    label_values       @extschema@.ml_stats,       -- of the labels
    label_delay        @extschema@.ml_stats,       -- seconds from predicted_at to labeled_at
    last_labeled_at    timestamptz,
    metric_state       @extschema@.ml_metric_state, -- (score, label): ranking for classifiers, regression otherwise
    unit_scores        boolean,                    -- every score in metric_state is in [0, 1] (log loss applies)
    unscored_labels    bigint      NOT NULL DEFAULT 0 CHECK (unscored_labels >= 0),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    -- a multiclass model's (label class, class probabilities): accuracy, log loss, F1, per-class recall
    class_state        @extschema@.ml_class_metric_state,
    -- Feature mismatches (docs/features.md): the predictions logged with counts (the others'
    -- are NULL), the sums of their counts, and those with at least one mismatch.
    feature_checks         bigint NOT NULL DEFAULT 0 CHECK (feature_checks >= 0),
    unknown_features       bigint NOT NULL DEFAULT 0 CHECK (unknown_features >= 0),
    unknown_categories     bigint NOT NULL DEFAULT 0 CHECK (unknown_categories >= 0),
    missing_features       bigint NOT NULL DEFAULT 0 CHECK (missing_features >= 0),
    type_mismatches        bigint NOT NULL DEFAULT 0 CHECK (type_mismatches >= 0),
    mismatched_predictions bigint NOT NULL DEFAULT 0 CHECK (mismatched_predictions >= 0),
    -- Issue 13: how many predictions named each class or cluster (multiclass, clustering),
    -- {name: count}; NULL for the tasks that predict a number
    predicted_classes      jsonb,
    PRIMARY KEY (model_name, version, variant, bucket),
    FOREIGN KEY (model_name, version) REFERENCES @extschema@.ml_models (name, version) ON DELETE CASCADE
);
CREATE INDEX ml_monitor_windows_bucket ON @extschema@.ml_monitor_windows (bucket);
COMMENT ON TABLE @extschema@.ml_monitor_windows IS
    'pg_learn monitoring: per (model, version, variant, time bucket) counts and mergeable statistics of predictions and labels';

-- Issue 13, drift detectors: per (model, version, variant), a detector (setting error_detector:
-- ADWIN with its default options unless set) over the errors of its labelled predictions, fed by ml_monitor_refresh as it rolls the labels up, and the time of
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
    'pg_learn monitoring: per (model, version, variant) a drift detector (setting error_detector) over the errors of its labelled predictions';

-- Events of the prediction log not rolled up yet: 1 = a prediction, 2 = its label, 3 = both (a
-- row logged with its label). Filled by the log's triggers in the writer's transaction, so an
-- event becomes visible exactly when its log row does; ml_monitor_refresh consumes it with
-- DELETE ... RETURNING in the transaction that updates the windows. No index: it is only ever
-- read whole or by ctid, and it stays small when the refresh is scheduled.
CREATE TABLE @extschema@.ml_monitor_inbox (
    prediction_id bigint   NOT NULL,
    events        smallint NOT NULL CHECK (events BETWEEN 1 AND 3)
) USING heap;
COMMENT ON TABLE @extschema@.ml_monitor_inbox IS
    'pg_learn monitoring: prediction-log events (1 prediction, 2 label, 3 both) not yet rolled up by ml_monitor_refresh';

-- One row: the lock that serializes refreshes, prunes and resets, and their last results.
CREATE TABLE @extschema@.ml_monitor_state (
    id                boolean     PRIMARY KEY DEFAULT true CHECK (id),
    refreshed_at      timestamptz,
    refreshed_by      name,
    refreshed_events  bigint      NOT NULL DEFAULT 0,   -- by the last refresh
    total_events      bigint      NOT NULL DEFAULT 0,   -- by every refresh since the last reset
    pruned_at         timestamptz,
    pruned_rows       bigint      NOT NULL DEFAULT 0,   -- by the last prune
    reset_at          timestamptz,
    -- A partitioned log (ml_partition_log, issue 12): the width of its partitions, how many
    -- ml_prune_log keeps created ahead, and the end of the last range partition.
    log_partition_interval interval,
    log_partition_premake  int,
    log_partitioned_until  timestamptz
);
INSERT INTO @extschema@.ml_monitor_state DEFAULT VALUES;
COMMENT ON TABLE @extschema@.ml_monitor_state IS
    'pg_learn monitoring: the last refresh, prune and reset (one row, locked by each of them)';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.ml_settings', '');
-- (issue 13: not dumped, as the windows are not: after a restore the log's rows are queued again
-- and the refresh rebuilds the detectors, as ml_monitor_reset does)
REVOKE ALL ON TABLE @extschema@.ml_monitor_detectors FROM PUBLIC;

REVOKE ALL ON TABLE @extschema@.ml_settings, @extschema@.ml_monitor_windows, @extschema@.ml_monitor_inbox,
                    @extschema@.ml_monitor_state, @extschema@._ml_monitor_config
FROM PUBLIC;
-- The list of settings with their defaults and descriptions: constants, readable by everyone.
GRANT SELECT ON @extschema@._ml_monitor_setting_defs TO PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Private helpers (run as the tables' owner through the entry points below).
-- ---------------------------------------------------------------------------------------------

-- The effective value of a setting for a model (NULL: the global value).
CREATE FUNCTION @extschema@._ml_setting(p_setting text, p_model text DEFAULT NULL) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT c.value FROM @extschema@._ml_monitor_config c
    WHERE c.setting = p_setting AND c.model_name IS NOT DISTINCT FROM p_model;
END;

-- The bucket of a time: date_bin on a fixed origin, so that buckets of every width line up with
-- UTC midnights (for widths that divide a day).
CREATE FUNCTION @extschema@._ml_bucket(t timestamptz, width interval) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.date_bin(width, t, '2000-01-01 00:00:00+00'::timestamptz);

-- Changes a setting (p_value NULL: back to the global value or the default); returns the
-- effective value. Values are checked and stored normalized (intervals in the postgres style).
CREATE FUNCTION @extschema@._ml_monitor_set(p_setting text, p_value text, p_model text, p_actor name) RETURNS text
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

-- Checks the options objects handed to ml_drift_report / ml_anomalies (part 35) by running them
-- on two empty profiles: their own strict parsers name what is wrong (22023).
CREATE FUNCTION @extschema@._ml_monitor_check_options(p_setting text, p_options jsonb) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    empty @extschema@.ml_profile := '{"pg_learn_profile": 1, "rows": 0, "features": []}';
BEGIN
    IF p_setting = 'drift_options' THEN
        PERFORM * FROM @extschema@.ml_drift_report(empty, empty, p_options);
    ELSIF p_setting = 'anomaly_options' THEN
        PERFORM * FROM @extschema@.ml_anomalies(empty, empty, p_options);
    END IF;
END
$$;

-- Issue 13: two {name: count} objects added up (a NULL one is empty; both NULL: NULL).
CREATE FUNCTION @extschema@._ml_count_merge(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a ELSE
        (SELECT jsonb_object_agg(e.k, e.n)
         FROM (SELECT x.key AS k, sum((x.value)::bigint) AS n
               FROM (SELECT * FROM jsonb_each_text(a) UNION ALL SELECT * FROM jsonb_each_text(b)) x
               GROUP BY x.key) e) END
$$;

-- Rolls up the events of the inbox (all, or the first p_max_events) into the windows, in one
-- statement: the DELETE that takes the events and the upsert of the windows share one snapshot
-- and one transaction, so each event is rolled up exactly once (an event whose writer has not
-- committed is invisible, and taken by a later refresh; a refresh that rolls back gives its
-- events back). Events of log rows or model versions that no longer exist are dropped.
CREATE FUNCTION @extschema@._ml_monitor_refresh(p_max_events bigint, p_actor name) RETURNS bigint
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

-- The partitions of a partitioned log, with their bounds (lower NULL: MINVALUE; both NULL: the
-- DEFAULT partition). Empty while the log is not partitioned.
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

-- Creates the partitions of a partitioned log from the current bucket to p_premake intervals
-- ahead (those missing); returns how many. A range where the DEFAULT partition holds rows is
-- not created (its rows stay in the DEFAULT partition, pruned row by row).
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

-- Deletes the log rows predicted before now() - p_older_than (NULL: the log_retention setting)
-- whose events are rolled up and whose label, if any, is not waiting in ml_label_queue; deletes
-- the windows older than window_retention, if set. Returns the log rows deleted. A partitioned
-- log (ml_partition_log) loses its partitions wholly older than that at once (DETACH and DROP),
-- rows are deleted one by one only in the others; missing partitions are created ahead.
CREATE FUNCTION @extschema@._ml_prune_log(p_older_than interval, p_actor name) RETURNS bigint
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

-- Makes the prediction log a table partitioned by predicted_at in partitions of p_every
-- (issue 12), or changes the width of the partitions it creates from now on; creates the
-- partitions up to p_premake intervals ahead, and a DEFAULT partition. The log as it was becomes
-- the partition of everything before the first new range (no row is copied; an empty log is
-- dropped); the queue's foreign key becomes (prediction_id, predicted_at). Returns the
-- partitions created (counting the DEFAULT one and the old log).
CREATE FUNCTION @extschema@._ml_partition_log(p_every interval, p_premake int, p_actor name) RETURNS int
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

-- Empties the windows and queues every log row again (predictions, and the labels already
-- there); returns the events queued. In one statement, so that an event committed meanwhile is
-- either left in the inbox or re-queued from the log, never both.
CREATE FUNCTION @extschema@._ml_monitor_reset(p_actor name) RETURNS bigint
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

-- The log's triggers: an event per inserted row, and one when a label arrives (NULL -> value).
-- In C (src/pg/monitoring/monitoring.cpp): a plain heap insert into the inbox, a few microseconds per row
-- (an INSERT when a user changed the inbox: an index, a trigger, a constraint, a column).
CREATE FUNCTION @extschema@._ml_monitor_enqueue() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ml_monitor_enqueue' LANGUAGE C;
CREATE TRIGGER ml_monitor_prediction AFTER INSERT ON @extschema@.ml_prediction_log
    FOR EACH ROW EXECUTE FUNCTION @extschema@._ml_monitor_enqueue();
-- (ml_monitor_label has no WHEN clause: its function queues an event only when label or
-- label_class goes from NULL to a value, since a WHEN clause is prepared again by every
-- statement that fires it, and a label's update of the log is a statement of its own.)
CREATE TRIGGER ml_monitor_label AFTER UPDATE OF label, label_class ON @extschema@.ml_prediction_log
    FOR EACH ROW EXECUTE FUNCTION @extschema@._ml_monitor_enqueue();

REVOKE EXECUTE ON FUNCTION
    @extschema@._ml_setting(text, text),
    @extschema@._ml_monitor_set(text, text, text, name),
    @extschema@._ml_monitor_check_options(text, jsonb),
    @extschema@._ml_monitor_refresh(bigint, name),
    @extschema@._ml_prune_log(interval, name),
    @extschema@._ml_log_partitions(),
    @extschema@._ml_log_premake(),
    @extschema@._ml_log_columns(regclass),
    @extschema@._ml_partition_log(interval, int, name),
    @extschema@._ml_monitor_reset(name),
    @extschema@._ml_monitor_enqueue()
FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- The entry points. Not executable by PUBLIC: GRANT EXECUTE to the roles that administer
-- monitoring (docs/monitoring.md, "Privileges"); they need no right on the tables.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.ml_monitor_set(setting text, value text, model text DEFAULT NULL)
    RETURNS text AS 'MODULE_PATHNAME', 'ml_monitor_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_monitor_set(text, text, text) IS
    'Changes a monitoring setting, global or for one model (value NULL: back to the default); returns the value now in effect';

CREATE FUNCTION @extschema@.ml_monitor_refresh(max_events bigint DEFAULT NULL)
    RETURNS bigint AS 'MODULE_PATHNAME', 'ml_monitor_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_monitor_refresh(bigint) IS
    'Rolls the prediction-log events not rolled up yet into the window statistics, exactly once; returns the events taken';

CREATE FUNCTION @extschema@.ml_prune_log(older_than interval DEFAULT NULL)
    RETURNS bigint AS 'MODULE_PATHNAME', 'ml_monitor_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_prune_log(interval) IS
    'Deletes prediction-log rows older than the interval (default: log_retention) once rolled up and learned; returns the rows deleted';

CREATE FUNCTION @extschema@.ml_partition_log(every interval, premake int DEFAULT 3)
    RETURNS int AS 'MODULE_PATHNAME', 'ml_monitor_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_partition_log(interval, int) IS
    'Partitions the prediction log by predicted_at (partitions of the given width, created premake ahead), so that ml_prune_log drops whole partitions; returns the partitions created';

CREATE FUNCTION @extschema@.ml_monitor_reset()
    RETURNS bigint AS 'MODULE_PATHNAME', 'ml_monitor_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_monitor_reset() IS
    'Discards the window statistics and queues the whole prediction log to be rolled up again; returns the events queued';

REVOKE EXECUTE ON FUNCTION
    @extschema@.ml_monitor_set(text, text, text),
    @extschema@.ml_monitor_refresh(bigint),
    @extschema@.ml_prune_log(interval),
    @extschema@.ml_partition_log(interval, int),
    @extschema@.ml_monitor_reset()
FROM PUBLIC;

-- The settings in effect, globally (model NULL) or for a model. Caller's rights: needs SELECT
-- on ml_settings (and on ml_model_names to name a model); the list of settings and their
-- defaults (_ml_monitor_setting_defs) is readable by everyone.
CREATE FUNCTION @extschema@.ml_monitor_settings(model text DEFAULT NULL)
    RETURNS TABLE (setting text, value text, source text, scope text, description text)
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF model IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.ml_model_names n WHERE n.name = model) THEN
        RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object';
    END IF;
    RETURN QUERY
    SELECT d.setting,
           CASE WHEN d.kind = 'object'
                THEN ((d.default_value)::jsonb || coalesce((g.value)::jsonb, '{}') || coalesce((s.value)::jsonb, '{}'))::text
                ELSE coalesce(s.value, g.value, d.default_value) END,
           CASE WHEN s.value IS NOT NULL THEN 'model' WHEN g.value IS NOT NULL THEN 'global' ELSE 'default' END,
           d.scope, d.description
    FROM @extschema@._ml_monitor_setting_defs d
    LEFT JOIN @extschema@.ml_settings g ON g.model_name IS NULL AND g.setting = d.setting
    LEFT JOIN @extschema@.ml_settings s ON s.model_name = ml_monitor_settings.model AND s.setting = d.setting
                                         AND d.scope = 'model'
    ORDER BY d.setting;
END
$$;
COMMENT ON FUNCTION @extschema@.ml_monitor_settings(text) IS
    'The monitoring settings in effect, globally or for a model, with where each comes from (default, global, model)';

-- ---------------------------------------------------------------------------------------------
-- The views. Long and narrow, for Grafana's PostgreSQL data source: a time column, text labels
-- (the version too: a numeric column would be read as a value), one numeric value per row,
-- sorted by time. security_barrier: a reader's own conditions are applied to the rows the view
-- shows, never earlier to rows it hides. They run with the owner's rights and call only
-- functions everyone may execute, so SELECT on a view is all a reader needs.
-- ---------------------------------------------------------------------------------------------

-- Per model, version, variant and bucket. Classifier metrics (accuracy at the model's
-- classification_threshold, AUC, log loss when every score is a probability) or regression
-- metrics (MAE, RMSE, R²) over the labels received so far for the bucket's predictions.
-- Issue 13: models that learn without labels (clustering, anomaly) have no label rows; a
-- clustering model's prediction is a cluster (no score): the share of the predictions in each
-- cluster; an anomaly model's score is its anomaly score: its quantiles.
CREATE VIEW @extschema@.ml_model_metrics WITH (security_barrier) AS
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

-- Per deployed model (name, alias): its version's age, examples seen, pending labels, time
-- since it last learned and since its last prediction, and over the health window its prediction
-- rate and NaN / infinite scores. time is the time of reading.
CREATE VIEW @extschema@.ml_model_health WITH (security_barrier) AS
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
COMMENT ON VIEW @extschema@.ml_model_health IS
    'Per deployed model: age, examples seen, pending and rejected labels, time since it learned and predicted, prediction rate, NaN/Inf scores, changes its error detector (ADWIN unless set) detected in its labelled errors (when, in which bucket)';

-- Issue 11, monitoring traps: the history of ml_model_health's time-varying metrics, per bucket of
-- the window statistics (time = the bucket's start), for every model, alias (the variant that
-- scored) and version that has windows: predictions, prediction_rate, nan_scores, inf_scores,
-- labels. prediction_rate divides by the time the bucket covers: from its start (from its first
-- prediction when it is the first bucket of its model, version and alias) to its end, or to the
-- last refresh for the bucket still filling (or its last prediction, if later).
CREATE VIEW @extschema@.ml_model_health_history WITH (security_barrier) AS
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

-- Per feature, model, version, variant and bucket: drift of the bucket's logged features against
-- the version's training baseline (ml_models.baseline; versions without one have no rows), with
-- the model's drift_options: method, value and its interval, thresholds, status (ok, warn,
-- alert, no_data) and status_level (0, 1, 2; NULL for no_data) to alert on.
-- Issue 11, monitoring traps: a version without a baseline has one row per bucket, feature NULL,
-- status 'no_baseline'; a measure on fewer values than the model's min_rows setting (in the
-- window or the baseline) has status 'insufficient_data' (status_level NULL); row_count is the
-- bucket's rows.
CREATE VIEW @extschema@.ml_feature_drift WITH (security_barrier) AS
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

-- Per model, version, variant and bucket: anomalies of the bucket's logged features against the
-- schema of the version's training baseline, named as TensorFlow Data Validation names them
-- (SCHEMA_MISSING_COLUMN, SCHEMA_NEW_COLUMN, FEATURE_TYPE_LOW_FRACTION_PRESENT,
-- ENUM_TYPE_UNEXPECTED_STRING_VALUES, FLOAT_TYPE_BIG_FLOAT, FLOAT_TYPE_HAS_NAN, ...), with the
-- count of rows or values concerned, with the model's anomaly_options. feature is NULL for the
-- anomalies of the bucket as a whole.
-- Issue 11, monitoring traps: row_count is the bucket's rows; a bucket of fewer rows than the
-- model's min_rows setting reports DATASET_LOW_NUM_EXAMPLES (anomaly_options' own min_rows wins).
CREATE VIEW @extschema@.ml_data_quality WITH (security_barrier) AS
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
COMMENT ON VIEW @extschema@.ml_data_quality IS
    'Per model, version, variant and time bucket: anomalies of the logged features against the training baseline''s schema (TFDV names), with counts';

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

REVOKE ALL ON TABLE @extschema@.ml_model_metrics, @extschema@.ml_model_health, @extschema@.ml_feature_drift,
                    @extschema@.ml_data_quality
FROM PUBLIC;
-- (issue 11, monitoring traps)
REVOKE ALL ON TABLE @extschema@.ml_model_health_history FROM PUBLIC;
