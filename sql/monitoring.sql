-- Monitoring: settings, the window statistics rolled up from the prediction log by
-- ml_monitor_refresh (incremental, exactly once, late labels), the views ml_model_metrics,
-- ml_feature_drift, ml_data_quality and ml_model_health, ml_prune_log, ml_monitor_reset,
-- privileges, errors.
-- Each file works in its own schema: the files share one database. The extension's tables live
-- in its schema (public here); this file only looks at its own models (mon_*).
CREATE SCHEMA monitoring;
SET search_path = monitoring, public;
SET TimeZone = 'UTC';

-- What other files logged is rolled up first, so that the counts below are this file's own.
SELECT ml_monitor_refresh() >= 0 AS drained;

-- Settings and window statistics are extension configuration tables: pg_dump keeps their rows.
SELECT t AS monitoring_table, to_regclass('public.' || t)::oid = ANY (e.extconfig) AS dumped_by_pg_dump
FROM pg_extension e, unnest(ARRAY['ml_settings', 'ml_monitor_windows', 'ml_monitor_inbox', 'ml_monitor_state']) t
WHERE e.extname = 'pg_learn'
ORDER BY 1;

-- ---------------------------------------------------------------------------------------------
-- Models: a classifier with a champion (v1) and a challenger (v2), a regressor, and a model
-- without a training baseline. The baselines are profiles of the training features: x spread
-- over [0, 0.98], colour red / blue / green in equal parts.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE train AS
SELECT i, jsonb_build_object('x', ((i * 13) % 50) / 50.0,
                             'colour', (ARRAY['red', 'blue', 'green'])[i % 3 + 1]) AS features
FROM generate_series(0, 999) i;
SELECT ml_register('mon_clf', ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, 1),
                   baseline => (SELECT ml_profile(features) FROM train)) AS v1,
       ml_register('mon_clf', ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, 0),
                   baseline => (SELECT ml_profile(features) FROM train)) AS v2,
       ml_register('mon_reg', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, 2),
                   baseline => (SELECT ml_profile(features) FROM train)) AS reg,
       ml_register('mon_nob', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, 2)) AS nob;
SELECT ml_deploy('mon_clf', 1), ml_deploy('mon_clf', 2, 'challenger'), ml_deploy('mon_reg', 1);

-- Logs predictions as the scoring triggers do: hour h (0, 1, 2) of 2024-03-01 UTC, a prediction
-- every 2 minutes per model; every fifth classifier row is served by the challenger. From hour
-- 2 on the features drift: x moves up by 0.8 and a new colour appears.
CREATE FUNCTION log_hour(h int) RETURNS bigint LANGUAGE sql AS $$
    WITH ins AS (
        INSERT INTO ml_prediction_log (model_name, version, variant, served, key, predicted_at, score, features)
        SELECT m.model, CASE WHEN m.model = 'mon_clf' AND i % 5 = 0 THEN 2 ELSE 1 END,
               CASE WHEN m.model = 'mon_clf' AND i % 5 = 0 THEN 'challenger' ELSE 'production' END, true,
               m.model || ':' || i, timestamptz '2024-03-01 00:00:00+00' + i * interval '2 minutes',
               CASE WHEN m.model = 'mon_clf' THEN ((i * 37) % 101) / 100.0 ELSE ((i * 37) % 101) / 10.0 END,
               jsonb_build_object('x', ((i * 13) % 50) / 50.0 + CASE WHEN h >= 2 THEN 0.8 ELSE 0 END,
                                  'colour', CASE WHEN h >= 2 AND i % 3 = 2 THEN 'purple'
                                                 ELSE (ARRAY['red', 'blue', 'green'])[i % 3 + 1] END)
        FROM generate_series(30 * h, 30 * h + 29) i,
             (VALUES ('mon_clf'), ('mon_reg'), ('mon_nob')) m(model)
        RETURNING 1
    ) SELECT count(*) FROM ins
$$;
-- Labels arrive as the label triggers set them: once, NULL -> value, with the time they came.
CREATE FUNCTION label_rows(first_i int, last_i int, delay interval) RETURNS bigint LANGUAGE sql AS $$
    WITH up AS (
        UPDATE ml_prediction_log l
        SET label = CASE WHEN l.model_name = 'mon_clf' THEN ((split_part(l.key, ':', 2)::int * 7) % 10 < 5)::int
                         ELSE ((split_part(l.key, ':', 2)::int * 41) % 97) / 10.0 END,
            labeled_at = l.predicted_at + delay
        WHERE l.model_name LIKE 'mon\_%' AND l.label IS NULL
          AND split_part(l.key, ':', 2)::int BETWEEN first_i AND last_i
        RETURNING 1
    ) SELECT count(*) FROM up
$$;
-- The window statistics of this file's models as text, to compare before and after.
CREATE FUNCTION windows_digest() RETURNS text LANGUAGE sql AS $$
    SELECT md5(string_agg(concat_ws('|', model_name, version, variant, bucket, predictions, first_predicted_at,
                                    last_predicted_at, encode(ml_stats_bytes(scores), 'hex'),
                                    encode(ml_profile_bytes(features), 'hex'), labels,
                                    encode(ml_stats_bytes(label_values), 'hex'),
                                    encode(ml_stats_bytes(label_delay), 'hex'), last_labeled_at,
                                    encode(ml_metric_state_bytes(metric_state), 'hex'), unit_scores,
                                    unscored_labels), ';' ORDER BY model_name, version, variant, bucket))
    FROM ml_monitor_windows WHERE model_name LIKE 'mon\_%'
$$;
CREATE FUNCTION windows() RETURNS TABLE (model text, version int, variant text, bucket timestamptz,
                                         predictions bigint, labels bigint, unscored bigint, metric_kind text)
LANGUAGE sql AS $$
    SELECT model_name, version, variant, bucket, predictions, labels, unscored_labels, ml_metric_kind(metric_state)
    FROM ml_monitor_windows WHERE model_name LIKE 'mon\_%' ORDER BY 1, 2, 3, 4
$$;

-- ---------------------------------------------------------------------------------------------
-- Rolling up: every event once. The log's triggers queue an event per prediction and one per
-- label; a refresh takes them all and a second one finds nothing.
-- ---------------------------------------------------------------------------------------------
SELECT log_hour(0) AS logged;
SELECT count(*) AS queued_events FROM ml_monitor_inbox;
SELECT ml_monitor_refresh() AS rolled_up;
SELECT * FROM windows();
SELECT windows_digest() AS digest \gset
SELECT ml_monitor_refresh() AS rolled_up_again;
SELECT windows_digest() = :'digest' AS unchanged;

-- Late labels count in the bucket of their prediction (hour 0), whatever the time they arrive.
SELECT log_hour(1) AS logged, label_rows(0, 14, interval '30 minutes') AS labelled;
-- In batches: max_events takes part of the queue; the rest waits for the next call.
SELECT ml_monitor_refresh(7) AS first_batch, (SELECT count(*) FROM ml_monitor_inbox) AS still_queued;
SELECT ml_monitor_refresh() AS rest;
SELECT * FROM windows();

-- A refresh whose transaction rolls back gives its events back.
SELECT log_hour(2) AS logged, label_rows(15, 80, interval '2 hours') AS labelled;
SELECT count(*) AS queued_events FROM ml_monitor_inbox;
BEGIN;
SELECT ml_monitor_refresh() AS rolled_up_then_rolled_back;
ROLLBACK;
SELECT count(*) AS queued_events FROM ml_monitor_inbox;
BEGIN;
SAVEPOINT s;
SELECT ml_monitor_refresh() > 0 AS rolled_up_in_savepoint;
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT count(*) AS queued_events FROM ml_monitor_inbox;
-- Odd rows: NaN and infinite scores, a classifier label that is neither 0 nor 1, a label for a
-- NaN score, features that are not an object. They are counted, and kept out of the metrics
-- (and of the profile); a refresh never fails on them.
INSERT INTO ml_prediction_log (model_name, version, variant, served, key, predicted_at, score, features, label, labeled_at)
VALUES ('mon_clf', 1, 'production', true, 'mon_clf:odd1', '2024-03-01 01:10:00+00', 'NaN', '{"x": 0.5, "colour": "red"}', 1, '2024-03-01 01:11:00+00'),
       ('mon_clf', 1, 'production', true, 'mon_clf:odd2', '2024-03-01 01:20:00+00', 'Infinity', '{"x": 0.5, "colour": "red"}', NULL, NULL),
       ('mon_clf', 1, 'production', true, 'mon_clf:odd3', '2024-03-01 01:30:00+00', 0.25, '{"x": 0.5, "colour": "red"}', 0.5, '2024-03-01 01:31:00+00'),
       ('mon_reg', 1, 'production', true, 'mon_reg:odd4', '2024-03-01 01:40:00+00', '-Infinity', '{"x": 0.5, "colour": "red"}', 3, '2024-03-01 01:41:00+00'),
       ('mon_reg', 1, 'production', true, 'mon_reg:odd5', '2024-03-01 01:50:00+00', 2, '[0.5, "red"]', 3, '2024-03-01 01:51:00+00');
SELECT ml_monitor_refresh() AS rolled_up;
SELECT * FROM windows();
SELECT ml_monitor_refresh() AS rolled_up_again;

-- The windows equal one pass over the log: counts exactly, metrics exactly (the metric states
-- are exact), moments to rounding.
CREATE TABLE direct AS
SELECT l.model_name, l.version, l.variant, date_bin('1 hour', l.predicted_at, '2000-01-01 00:00:00+00') AS bucket,
       count(*) AS predictions, count(l.label) AS labels,
       ml_stats(l.score) AS scores, ml_profile(l.features) FILTER (WHERE jsonb_typeof(l.features) = 'object') AS features,
       ml_stats(l.label) AS label_values,
       ml_stats(extract(epoch FROM l.labeled_at - l.predicted_at)::float8) AS label_delay,
       ml_auc(l.score, l.label::int) FILTER (WHERE clf) AS auc,
       ml_accuracy(l.score >= 0.5, l.label = 1) FILTER (WHERE clf) AS accuracy,
       ml_logloss(l.score, l.label::int) FILTER (WHERE clf) AS logloss,
       ml_mae(l.score, l.label) FILTER (WHERE reg) AS mae,
       ml_rmse(l.score, l.label) FILTER (WHERE reg) AS rmse,
       ml_r2(l.score, l.label) FILTER (WHERE reg) AS r2
FROM ml_prediction_log l,
     LATERAL (SELECT l.score > '-Infinity' AND l.score < 'Infinity' AS finite) f,
     LATERAL (SELECT f.finite AND l.model_name = 'mon_clf' AND l.label IN (0, 1) AS clf,
                     f.finite AND l.model_name <> 'mon_clf' AS reg) k
WHERE l.model_name LIKE 'mon\_%'
GROUP BY 1, 2, 3, 4;
SELECT d.model_name, d.version, d.variant, d.bucket,
       w.predictions = d.predictions AND w.labels = d.labels AS counts,
       ml_count(w.scores) = ml_count(d.scores) AND ml_nan_count(w.scores) = ml_nan_count(d.scores)
           AND ml_inf_count(w.scores) = ml_inf_count(d.scores)
           AND abs(ml_mean(w.scores) - ml_mean(d.scores)) < 1e-12 AS scores,
       ml_profile_rows(w.features) = ml_profile_rows(d.features)
           AND (SELECT array_agg((f.name, f.count, f.min, f.max, f.distinct_count) ORDER BY f.name) FROM ml_profile_features(w.features) f)
             = (SELECT array_agg((f.name, f.count, f.min, f.max, f.distinct_count) ORDER BY f.name) FROM ml_profile_features(d.features) f) AS features,
       ml_count(w.label_values) IS NOT DISTINCT FROM ml_count(d.label_values)
           AND ml_quantile(w.label_delay, 0.5) IS NOT DISTINCT FROM ml_quantile(d.label_delay, 0.5) AS labels_and_delays,
       CASE WHEN d.model_name = 'mon_clf'
            THEN ml_auc(w.metric_state) IS NOT DISTINCT FROM d.auc
                 AND ml_accuracy(w.metric_state, 0.5) IS NOT DISTINCT FROM d.accuracy
                 AND ml_logloss(w.metric_state) IS NOT DISTINCT FROM d.logloss
            ELSE ml_mae(w.metric_state) IS NOT DISTINCT FROM d.mae AND ml_rmse(w.metric_state) IS NOT DISTINCT FROM d.rmse
                 AND ml_r2(w.metric_state) IS NOT DISTINCT FROM d.r2 END AS metrics_exactly
FROM direct d JOIN ml_monitor_windows w USING (model_name, version, variant, bucket)
ORDER BY 1, 2, 3, 4;
SELECT (SELECT count(*) FROM direct) = (SELECT count(*) FROM ml_monitor_windows WHERE model_name LIKE 'mon\_%') AS same_windows;
-- Windows roll up to any longer period with the merge aggregates: the day of the champion.
SELECT date_trunc('day', bucket, 'UTC') AS day, sum(predictions) AS predictions,
       ml_auc(ml_metric_merge(metric_state)) = (SELECT ml_auc(score, label::int) FROM ml_prediction_log
                                                WHERE model_name = 'mon_clf' AND variant = 'production'
                                                  AND label IN (0, 1) AND score < 'Infinity') AS day_auc_exact,
       ml_count(ml_stats_merge(scores)) AS scores
FROM ml_monitor_windows WHERE model_name = 'mon_clf' AND variant = 'production' GROUP BY 1;

-- ---------------------------------------------------------------------------------------------
-- ml_model_metrics: long and narrow, sorted by time; classifier metrics for mon_clf, regression
-- metrics for the others.
-- ---------------------------------------------------------------------------------------------
SELECT time, model, version, variant, metric, round(value::numeric, 6) AS value
FROM ml_model_metrics WHERE model = 'mon_clf' AND variant = 'production';
SELECT time, model, version, variant, metric, round(value::numeric, 6) AS value
FROM ml_model_metrics WHERE model = 'mon_reg' AND metric IN ('predictions', 'labels', 'mae', 'rmse', 'r2', 'inf_scores', 'unscored_labels');
-- The view's values are those of the stored states; the challenger is a series of its own.
SELECT v.metric, v.value = CASE v.metric WHEN 'auc' THEN ml_auc(w.metric_state)
                                         WHEN 'logloss' THEN ml_logloss(w.metric_state)
                                         WHEN 'accuracy' THEN ml_accuracy(w.metric_state, 0.5) END AS same
FROM ml_model_metrics v JOIN ml_monitor_windows w
  ON w.model_name = v.model AND w.version::text = v.version AND w.variant = v.variant AND w.bucket = v.time
WHERE v.model = 'mon_clf' AND v.variant = 'challenger' AND v.metric IN ('auc', 'logloss', 'accuracy')
ORDER BY v.time, v.metric;
-- Sorted by time across models, as Grafana wants it.
SELECT bool_and(ordered) AS sorted_by_time FROM (
    SELECT time >= lag(time, 1, time) OVER () AS ordered FROM ml_model_metrics WHERE model LIKE 'mon\_%') s;
-- The column types a dashboard sees: a time, text labels, one numeric value.
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'ml_model_metrics'::regclass AND attnum > 0 ORDER BY attnum;
-- The classification threshold is a setting of the model: accuracy follows it.
SELECT ml_monitor_set('classification_threshold', '0.9', 'mon_clf');
SELECT time, round(value::numeric, 6) AS accuracy_at_0_9 FROM ml_model_metrics
WHERE model = 'mon_clf' AND variant = 'production' AND metric = 'accuracy';
SELECT ml_monitor_set('classification_threshold', NULL, 'mon_clf') AS back_to_default;

-- ---------------------------------------------------------------------------------------------
-- ml_feature_drift: each bucket's logged features against the version's training baseline.
-- Hours 0 and 1 come from the training distribution; in hour 2 x moved and a colour appeared.
-- mon_nob has no baseline, hence one no_baseline row per bucket. The buckets here have 6 to 30
-- rows: min_rows 0 measures them all (monitoring_traps.sql tests the minimum).
-- ---------------------------------------------------------------------------------------------
SELECT ml_monitor_set('min_rows', '0') AS measure_small_buckets;
SELECT time, model, version, variant, feature, kind, method, round(value::numeric, 4) AS value,
       warn_threshold, alert_threshold, status, status_level, baseline_count, current_count
FROM ml_feature_drift WHERE model IN ('mon_clf', 'mon_nob') AND variant = 'production';
-- The method and thresholds are settings: globally, and per model over the global ones.
SELECT ml_monitor_set('drift_options', '{"numeric_method": "psi", "psi": {"warn": 0.2, "alert": 5}}');
SELECT ml_monitor_set('drift_options', '{"psi": {"warn": 0.5, "alert": 1}}', 'mon_reg');
SELECT model, time, feature, method, round(value::numeric, 4) AS value, warn_threshold, alert_threshold, status
FROM ml_feature_drift WHERE model IN ('mon_clf', 'mon_reg') AND variant = 'production' AND feature = 'x'
ORDER BY model, time;
SELECT setting, value, source FROM ml_monitor_settings('mon_reg') WHERE setting = 'drift_options';
SELECT ml_monitor_set('drift_options', NULL), ml_monitor_set('drift_options', NULL, 'mon_reg');

-- ---------------------------------------------------------------------------------------------
-- ml_data_quality: anomalies of each bucket against the baseline's schema, with counts.
-- ---------------------------------------------------------------------------------------------
SELECT time, model, version, variant, feature, anomaly, severity, count
FROM ml_data_quality WHERE model IN ('mon_clf', 'mon_nob');
SELECT description FROM ml_data_quality
WHERE model = 'mon_clf' AND variant = 'production' AND time = '2024-03-01 02:00:00+00';
-- Options per model: unexpected strings tolerated up to half of the values, values above the
-- training range raised to errors.
SELECT ml_monitor_set('anomaly_options', '{"max_unexpected_value_fraction": 0.5, "severity": {"FLOAT_TYPE_BIG_FLOAT": "error"}}', 'mon_clf');
SELECT time, variant, feature, anomaly, severity, count FROM ml_data_quality WHERE model = 'mon_clf';
SELECT ml_monitor_set('anomaly_options', NULL, 'mon_clf') AS back_to_default;
SELECT ml_monitor_set('min_rows', NULL) AS back_to_default;

-- ---------------------------------------------------------------------------------------------
-- ml_model_health: one set of rows per deployed model (mon_nob is not deployed). The data are
-- from 2024: a health window of a century sees them.
-- ---------------------------------------------------------------------------------------------
SELECT ml_monitor_set('health_window', '36500 days');
-- Four labels still waiting to be learned by version 1 of mon_clf.
INSERT INTO ml_label_queue (prediction_id, model_name, version, label)
SELECT prediction_id, model_name, version, label FROM ml_prediction_log
WHERE model_name = 'mon_clf' AND version = 1 AND label IS NOT NULL
  AND key IN ('mon_clf:1', 'mon_clf:2', 'mon_clf:8', 'mon_clf:23');
SELECT model, alias, version, metric,
       CASE WHEN metric IN ('examples_seen', 'pending_labels', 'rejected_labels', 'nan_scores', 'inf_scores',
                            'error_drift_rows', 'error_drift_detections', 'error_drift_window_rows') THEN value END AS value,
       CASE metric WHEN 'age_seconds' THEN value BETWEEN 0 AND 3600
                   WHEN 'deployed_seconds' THEN value BETWEEN 0 AND 3600
                   WHEN 'seconds_since_prediction' THEN value > 0
                   WHEN 'prediction_rate' THEN value > 0 AND value < 1
                   WHEN 'seconds_since_refresh' THEN value BETWEEN 0 AND 3600 END AS plausible
FROM ml_model_health WHERE model LIKE 'mon\_%';
SELECT count(DISTINCT time) = 1 AS one_time FROM ml_model_health;
-- seconds_since_learned appears once the deployed version has learned.
SELECT ml_learn('mon_reg', '{"x": 0.5}'::jsonb, 1.0) AS learned_version;
SELECT metric, value >= 0 AS plausible FROM ml_model_health WHERE model = 'mon_reg' AND metric = 'seconds_since_learned';
SELECT ml_monitor_set('health_window', NULL) AS back_to_default;

-- ---------------------------------------------------------------------------------------------
-- Settings: defaults, global and per-model values, and what is refused.
-- ---------------------------------------------------------------------------------------------
SELECT setting, value, source, scope FROM ml_monitor_settings();
SELECT ml_monitor_set('classification_threshold', '0.7') AS global_value,
       ml_monitor_set('classification_threshold', '0.25', 'mon_clf') AS model_value;
SELECT model_name, setting, value, updated_by = current_user AS by_me FROM ml_settings ORDER BY 1, 2;
SELECT (SELECT value FROM ml_monitor_settings('mon_reg') WHERE setting = 'classification_threshold') AS mon_reg_inherits,
       (SELECT source FROM ml_monitor_settings('mon_reg') WHERE setting = 'classification_threshold') AS source;
SELECT ml_monitor_set('classification_threshold', NULL, 'mon_clf') AS model_value_removed,
       ml_monitor_set('classification_threshold', NULL) AS global_value_removed;
SELECT count(*) AS settings_left FROM ml_settings;
-- Intervals are stored in one style, whatever the session's.
SET IntervalStyle = 'iso_8601';
SELECT ml_monitor_set('log_retention', 'P14D') AS iso_input;
RESET IntervalStyle;
SELECT value FROM ml_settings WHERE setting = 'log_retention';
SELECT ml_monitor_set('log_retention', NULL);
-- Errors, with their SQLSTATEs; a failed call changes nothing.
CREATE FUNCTION err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  hint text;
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
  RETURN SQLSTATE || ': ' || SQLERRM || CASE WHEN hint <> '' THEN ' (hint: ' || hint || ')' ELSE '' END;
END $$;
SELECT q AS statement, err(q) AS error FROM (VALUES
    ($$SELECT ml_monitor_set('bucket_size', '1 hour')$$),                    -- unknown setting
    ($$SELECT ml_monitor_set(NULL, '1 hour')$$),
    ($$SELECT ml_monitor_set('bucket_width', '1 hour', 'mon_clf')$$),        -- global only
    ($$SELECT ml_monitor_set('classification_threshold', '0.5', 'no_such')$$),
    ($$SELECT ml_monitor_set('log_retention', 'one week')$$),
    ($$SELECT ml_monitor_set('log_retention', '-1 day')$$),
    ($$SELECT ml_monitor_set('bucket_width', '1 month')$$),
    ($$SELECT ml_monitor_set('bucket_width', '30 seconds')$$),
    ($$SELECT ml_monitor_set('classification_threshold', 'high')$$),
    ($$SELECT ml_monitor_set('classification_threshold', 'NaN')$$),
    ($$SELECT ml_monitor_set('drift_options', '[1, 2]')$$),
    ($$SELECT ml_monitor_set('drift_options', '{"method": "kl"}')$$),       -- ml_drift_report's own check
    ($$SELECT ml_monitor_set('anomaly_options', '{"min_presence": 2}')$$),  -- ml_anomalies' own check
    ($$SELECT ml_monitor_set('drift_options', '{')$$),
    -- The bucket width cannot change under stored windows (late labels would miss their bucket).
    ($$SELECT ml_monitor_set('bucket_width', '15 minutes')$$),
    ($$SELECT ml_monitor_settings('no_such')$$),
    ($$SELECT ml_monitor_refresh(0)$$),
    ($$SELECT ml_prune_log('-1 day')$$)
) v(q);
SELECT ml_monitor_set('bucket_width', '1 hour') AS same_width_is_fine;
SELECT setting, value FROM ml_settings ORDER BY 1;
SELECT ml_monitor_set('bucket_width', NULL) AS back_to_default;

-- ---------------------------------------------------------------------------------------------
-- Privileges. A read-only role granted SELECT on the four views reads them and nothing else;
-- an operator granted EXECUTE on the monitoring functions runs them without any table right.
-- ---------------------------------------------------------------------------------------------
CREATE ROLE regress_monitor_reader;
CREATE ROLE regress_monitor_operator;
GRANT USAGE ON SCHEMA monitoring TO regress_monitor_reader, regress_monitor_operator;
GRANT SELECT ON ml_model_metrics, ml_feature_drift, ml_data_quality, ml_model_health TO regress_monitor_reader;
GRANT EXECUTE ON FUNCTION ml_monitor_refresh(bigint), ml_prune_log(interval), ml_monitor_set(text, text, text)
    TO regress_monitor_operator;
-- The views are security barriers, owned by the extension's owner.
SELECT c.relname, c.reloptions, pg_get_userbyid(c.relowner) = current_user AS owned_by_extension_owner
FROM pg_class c WHERE c.relname IN ('ml_model_metrics', 'ml_feature_drift', 'ml_data_quality', 'ml_model_health')
ORDER BY 1;
SET ROLE regress_monitor_reader;
SELECT (SELECT count(*) FROM ml_model_metrics WHERE model = 'mon_clf') AS metrics,
       (SELECT count(*) FROM ml_feature_drift WHERE model = 'mon_clf') AS drift,
       (SELECT count(*) FROM ml_data_quality WHERE model = 'mon_clf') AS quality,
       (SELECT count(*) FROM ml_model_health WHERE model = 'mon_clf') AS health;
-- What the views do not show: the undeployed model in ml_model_health, the weights, the baselines.
SELECT DISTINCT model FROM ml_model_health WHERE model LIKE 'mon\_%' ORDER BY 1;
SELECT count(*) FROM ml_models;
SELECT count(*) FROM ml_monitor_windows;
SELECT count(*) FROM ml_prediction_log;
SELECT count(*) FROM ml_settings;
SELECT count(*) FROM ml_monitor_inbox;
SELECT * FROM ml_monitor_settings();
SELECT ml_get('mon_clf');
SELECT ml_predict('mon_clf', '{"x": 1}'::jsonb);
SELECT ml_monitor_refresh();
SELECT ml_monitor_set('health_window', '2 hours');
SELECT ml_prune_log();
SELECT ml_monitor_reset();
RESET ROLE;
SET ROLE regress_monitor_operator;
SELECT ml_monitor_refresh() AS rolled_up_by_operator;
SELECT ml_monitor_set('health_window', '2 hours') AS set_by_operator;
SELECT count(*) FROM ml_monitor_windows;
SELECT count(*) FROM ml_model_metrics;
RESET ROLE;
SELECT setting, updated_by FROM ml_settings ORDER BY 1;
SELECT refreshed_by FROM ml_monitor_state;
SELECT ml_monitor_set('health_window', NULL);

-- A hostile search_path changes nothing: look-alikes of the extension's objects and of
-- pg_catalog functions are not used.
CREATE SCHEMA evil;
CREATE TABLE evil.ml_monitor_inbox (prediction_id bigint, events smallint);
CREATE FUNCTION evil._ml_monitor_refresh(bigint, name) RETURNS bigint LANGUAGE sql AS 'SELECT -1::bigint';
CREATE FUNCTION evil.date_bin(interval, timestamptz, timestamptz) RETURNS timestamptz LANGUAGE sql AS $$SELECT 'epoch'::timestamptz$$;
SET search_path = evil, monitoring, public, pg_catalog;
SELECT log_hour(3) AS logged;
SELECT public.ml_monitor_refresh() AS rolled_up;
SELECT count(*) AS evil_inbox FROM evil.ml_monitor_inbox;
SET search_path = monitoring, public;
DROP SCHEMA evil CASCADE;
SELECT bucket, predictions FROM ml_monitor_windows WHERE model_name = 'mon_reg' ORDER BY bucket;

-- ---------------------------------------------------------------------------------------------
-- Retention. ml_prune_log deletes old log rows once rolled up, never a label still queued for
-- learning, and the window statistics stay as they were.
-- ---------------------------------------------------------------------------------------------
SELECT count(*) AS log_rows FROM ml_prediction_log WHERE model_name LIKE 'mon\_%';
-- Events not rolled up yet: a prune rolls them up first (here it deletes nothing: nothing is a
-- century old).
SELECT log_hour(4) AS logged;
SELECT count(*) AS queued_events FROM ml_monitor_inbox;
SELECT ml_prune_log('36500 days') AS pruned_nothing_that_old;
SELECT count(*) AS queued_events FROM ml_monitor_inbox;
SELECT windows_digest() AS digest \gset
SELECT ml_prune_log() AS pruned;  -- log_retention: 30 days
SELECT key FROM ml_prediction_log WHERE model_name LIKE 'mon\_%' ORDER BY key;
SELECT count(*) AS queued_labels FROM ml_label_queue;
SELECT windows_digest() = :'digest' AS windows_unchanged;
SELECT bucket, sum(predictions) AS predictions FROM ml_monitor_windows WHERE model_name LIKE 'mon\_%'
GROUP BY bucket ORDER BY bucket;
SELECT pruned_rows FROM ml_monitor_state;
-- The views read the windows only: the same numbers as before the prune.
SELECT time, metric, round(value::numeric, 6) AS value FROM ml_model_metrics
WHERE model = 'mon_clf' AND variant = 'production' AND metric IN ('predictions', 'auc') ORDER BY time, metric;
-- Window retention: windows older than it go at the next prune.
SELECT ml_monitor_set('window_retention', '365 days');
SELECT ml_prune_log() AS pruned;
SELECT count(*) AS windows_left FROM ml_monitor_windows WHERE model_name LIKE 'mon\_%';
-- Events of predictions older than the window retention are dropped, not counted in a window of
-- their own (a late prediction, then its label).
INSERT INTO ml_prediction_log (model_name, version, variant, served, key, predicted_at, score, features)
VALUES ('mon_clf', 1, 'production', true, 'mon_clf:late', '2024-03-01 05:00:00+00', 0.5, '{"x": 0.5}');
UPDATE ml_prediction_log SET label = 1, labeled_at = '2024-03-02 00:00:00+00' WHERE key = 'mon_clf:late';
SELECT ml_monitor_refresh() AS rolled_up, (SELECT count(*) FROM ml_monitor_windows WHERE model_name LIKE 'mon\_%') AS windows;
DELETE FROM ml_prediction_log WHERE key = 'mon_clf:late';
SELECT ml_monitor_set('window_retention', NULL);

-- ---------------------------------------------------------------------------------------------
-- Reset: the windows are rebuilt from what the log still holds, at a new bucket width if wanted.
-- ---------------------------------------------------------------------------------------------
SELECT ml_monitor_reset() >= 4 AS queued_again;
SELECT ml_monitor_set('bucket_width', '15 minutes');
SELECT ml_monitor_refresh() >= 4 AS rolled_up;
SELECT * FROM windows();
SELECT ml_monitor_set('bucket_width', NULL);  -- refused: windows exist
SELECT ml_monitor_reset() >= 4 AS queued_again;
SELECT ml_monitor_set('bucket_width', NULL) AS width;
SELECT ml_monitor_refresh() >= 4 AS rolled_up;
SELECT * FROM windows();

-- ---------------------------------------------------------------------------------------------
-- Unregistering a model removes its window statistics and settings with it.
-- ---------------------------------------------------------------------------------------------
SELECT ml_monitor_set('classification_threshold', '0.6', 'mon_nob');
DELETE FROM ml_label_queue WHERE model_name LIKE 'mon\_%';
DELETE FROM ml_prediction_log WHERE model_name LIKE 'mon\_%';
SELECT ml_unregister('mon_nob', true), ml_unregister('mon_clf', true), ml_unregister('mon_reg', true);
SELECT (SELECT count(*) FROM ml_monitor_windows WHERE model_name LIKE 'mon\_%') AS windows,
       (SELECT count(*) FROM ml_settings) AS settings;
-- The events of the deleted log rows find nothing to roll up.
SELECT ml_monitor_refresh() >= 0 AS drained, (SELECT count(*) FROM ml_monitor_inbox) AS queued_events;

DROP OWNED BY regress_monitor_reader, regress_monitor_operator;
DROP ROLE regress_monitor_reader, regress_monitor_operator;
DROP SCHEMA monitoring CASCADE;
