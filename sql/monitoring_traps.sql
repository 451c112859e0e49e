-- Monitoring traps (issue 11, item 8): what a new user did that monitoring answered wrongly
-- without a word, each now a right answer or a clear signal.
-- - a challenger registered from the deployed model inherits its drift baseline (or is warned
--   about, and shown as no_baseline);
-- - drift and quality rows carry their row count; a drift from fewer values than the min_rows
--   setting is insufficient_data, a smaller bucket reports DATASET_LOW_NUM_EXAMPLES;
-- - pending labels are counted per labelled prediction, shadows' included, everywhere;
-- - ml_model_health_history, per bucket;
-- - prediction_rate divides by the time the buckets cover.
CREATE SCHEMA monitoring_traps;
SET search_path = monitoring_traps, public;
SET TimeZone = 'UTC';
SELECT ml_monitor_refresh() >= 0 AS drained;

-- The training features: x spread over [0, 0.98], colour red / blue / green in equal parts.
CREATE TABLE train AS
SELECT i, jsonb_build_object('x', ((i * 13) % 50) / 50.0,
                             'colour', (ARRAY['red', 'blue', 'green'])[i % 3 + 1]) AS features
FROM generate_series(0, 999) i;

-- Logs n predictions of (model, version, variant) from the training distribution, one every
-- `step` from `t0` (as the scoring triggers log them).
CREATE FUNCTION log_rows(p_model text, p_version int, p_variant text, t0 timestamptz, n int,
                         step interval DEFAULT '30 seconds') RETURNS bigint LANGUAGE sql AS $$
    WITH ins AS (
        INSERT INTO ml_prediction_log (model_name, version, variant, served, key, predicted_at, score, features)
        SELECT p_model, p_version, p_variant, true, p_model || ':' || t0 || ':' || i, t0 + i * step,
               ((i * 37) % 101) / 100.0,
               jsonb_build_object('x', ((i * 13) % 50) / 50.0, 'colour', (ARRAY['red', 'blue', 'green'])[i % 3 + 1])
        FROM generate_series(0, n - 1) i
        RETURNING 1
    ) SELECT count(*) FROM ins
$$;

-- ---------------------------------------------------------------------------------------------
-- Baselines of new versions.
-- ---------------------------------------------------------------------------------------------
SELECT ml_register('trap_clf', ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, 1),
                   baseline => (SELECT ml_profile(features) FROM train)) AS v1;
SELECT ml_deploy('trap_clf', 1);
-- user did: registered a challenger from the deployed model, naming where it came from
-- (parent_version), without a baseline: it inherits version 1's, with a NOTICE.
SELECT ml_register('trap_clf', ml_get('trap_clf'), parent_version => 1) AS v2;
-- user did: registered a challenger from the deployed model without parent_version or baseline:
-- it is a copy of version 1 (production; version 2 is one too), so it inherits version 1's.
SELECT ml_register('trap_clf', ml_get('trap_clf')) AS v3;
-- user did: registered a retrained model without parent_version or baseline: a WARNING says that
-- its drift cannot be measured, and how to give it a baseline.
SELECT ml_register('trap_clf', ml_fit_one(ml_get('trap_clf'), '{"x": 0.5}'::jsonb, 0)) AS v4;
-- A parent without a baseline has none to hand down: the same WARNING (another version has one).
SELECT ml_register('trap_clf', ml_get('trap_clf', 4), parent_version => 4) AS v5;
-- A baseline given wins over the parent's, silently.
SELECT ml_register('trap_clf', ml_get('trap_clf'), parent_version => 1,
                   baseline => (SELECT ml_profile(features) FROM train WHERE i < 500)) AS v6;
SELECT version, parent_version, ml_profile_rows(baseline) AS baseline_rows,
       ml_profile_bytes(baseline) IS NOT DISTINCT FROM
           (SELECT ml_profile_bytes(b.baseline) FROM ml_models b WHERE b.name = 'trap_clf' AND b.version = 1) AS same_as_version_1
FROM ml_models WHERE name = 'trap_clf' ORDER BY version;
-- A model none of whose versions has a baseline (monitoring without drift) registers silently.
SELECT ml_register('trap_nob', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, 2)) AS v1,
       ml_register('trap_nob', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, 3), parent_version => 1) AS v2;
-- A failed registration changes nothing (the parent must exist).
SELECT ml_register('trap_clf', ml_get('trap_clf'), parent_version => 99);

SELECT ml_deploy('trap_clf', 2, 'challenger'), ml_deploy('trap_clf', 4, 'other');
SELECT log_rows('trap_clf', 1, 'production', '2024-03-01 00:00:00+00', 120),
       log_rows('trap_clf', 2, 'challenger', '2024-03-01 00:00:00+00', 120),
       log_rows('trap_clf', 4, 'other', '2024-03-01 00:00:00+00', 120);
SELECT ml_monitor_refresh() > 0 AS rolled_up;
-- The challenger is measured against the inherited baseline exactly as its champion is (same
-- rows logged, same baseline); version 4 shows that it has no baseline instead of no rows.
SELECT variant, version, feature, method, round(value::numeric, 4) AS value, status, status_level, row_count
FROM ml_feature_drift WHERE model = 'trap_clf' ORDER BY variant, feature;

-- ---------------------------------------------------------------------------------------------
-- Row counts and min_rows.
-- ---------------------------------------------------------------------------------------------
-- user did: looked at the drift of a bucket that had one row. It used to say JS 0.871, "alert";
-- now its value is shown with status insufficient_data (and no level to alert on).
SELECT log_rows('trap_clf', 1, 'production', '2024-03-01 05:17:00+00', 1);
SELECT ml_monitor_refresh() AS rolled_up;
SELECT time, feature, method, round(value::numeric, 3) AS value, status, status_level, current_count, row_count
FROM ml_feature_drift WHERE model = 'trap_clf' AND variant = 'production' ORDER BY time, feature;
-- and in ml_data_quality: DATASET_LOW_NUM_EXAMPLES, with the bucket's row count on every row.
SELECT time, feature, anomaly, severity, count, row_count, description
FROM ml_data_quality WHERE model = 'trap_clf' AND variant = 'production' ORDER BY time, feature NULLS FIRST, anomaly;
-- min_rows is a setting, per model: 0 measures every bucket (the old answer, "alert"), a larger
-- one marks the 120-row bucket too.
SELECT ml_monitor_set('min_rows', '0', 'trap_clf') AS min_rows;
SELECT time, feature, round(value::numeric, 3) AS value, status, status_level
FROM ml_feature_drift WHERE model = 'trap_clf' AND variant = 'production' ORDER BY time, feature;
SELECT count(*) AS low_num_examples FROM ml_data_quality WHERE model = 'trap_clf' AND anomaly = 'DATASET_LOW_NUM_EXAMPLES';
SELECT ml_monitor_set('min_rows', '121', 'trap_clf') AS min_rows;
SELECT time, feature, status FROM ml_feature_drift WHERE model = 'trap_clf' AND variant = 'production' ORDER BY time, feature;
-- anomaly_options' own min_rows wins in ml_data_quality.
SELECT ml_monitor_set('anomaly_options', '{"min_rows": 1}', 'trap_clf') IS NOT NULL AS set;
SELECT count(*) AS low_num_examples FROM ml_data_quality WHERE model = 'trap_clf' AND anomaly = 'DATASET_LOW_NUM_EXAMPLES';
SELECT ml_monitor_set('anomaly_options', NULL, 'trap_clf') IS NOT NULL AS reset,
       ml_monitor_set('min_rows', NULL, 'trap_clf') AS min_rows;
SELECT setting, value, source, scope FROM ml_monitor_settings('trap_clf') WHERE setting = 'min_rows';
-- A feature present in too few of a large bucket's rows (colour: 10 of 150) is
-- insufficient_data, the others measured.
INSERT INTO ml_prediction_log (model_name, version, variant, served, key, predicted_at, score, features)
SELECT 'trap_clf', 1, 'production', true, 'trap_clf:sparse:' || i, '2024-03-01 07:00:00+00'::timestamptz + i * interval '10 seconds', 0.5,
       jsonb_build_object('x', ((i * 13) % 50) / 50.0)
       || CASE WHEN i < 10 THEN jsonb_build_object('colour', (ARRAY['red', 'blue', 'green'])[i % 3 + 1]) ELSE '{}' END
FROM generate_series(0, 149) i;
SELECT ml_monitor_refresh() AS rolled_up;
SELECT feature, status, baseline_count, current_count, row_count FROM ml_feature_drift
WHERE model = 'trap_clf' AND variant = 'production' AND time = '2024-03-01 07:00:00+00' ORDER BY feature;
-- A baseline of a few rows is as weak as a small window.
SELECT ml_register('trap_small', ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, 1),
                   baseline => (SELECT ml_profile(features) FROM train WHERE i < 20)) AS v1;
SELECT log_rows('trap_small', 1, 'production', '2024-03-01 00:00:00+00', 120);
SELECT ml_monitor_refresh() AS rolled_up;
SELECT feature, status, baseline_count, current_count, row_count FROM ml_feature_drift WHERE model = 'trap_small' ORDER BY feature;
-- What min_rows accepts: a whole number of rows, 0 or more.
CREATE FUNCTION err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT q AS statement, err(q) AS error FROM (VALUES
    ($$SELECT ml_monitor_set('min_rows', 'many')$$),
    ($$SELECT ml_monitor_set('min_rows', '1.5')$$),
    ($$SELECT ml_monitor_set('min_rows', '-1')$$),
    ($$SELECT ml_monitor_set('min_rows', '30', 'no_such_model')$$)
) v(q);
SELECT ml_monitor_set('min_rows', ' 030 ') AS normalized, ml_monitor_set('min_rows', NULL) AS back_to_default;

-- ---------------------------------------------------------------------------------------------
-- Prediction rate and ml_model_health_history, with controlled timestamps.
-- ---------------------------------------------------------------------------------------------
SELECT ml_register('trap_rate', ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, 1)) AS v1;
SELECT ml_deploy('trap_rate', 1);
-- user did: deployed at 00:30 and served one prediction every 30 seconds. The first bucket
-- (00:00-01:00) covers 00:30-01:00: 60 predictions in 1800 s, the same rate (1/30 per second) as
-- the full bucket after it (120 in 3600 s), not half of it.
SELECT log_rows('trap_rate', 1, 'production', '2024-03-01 00:30:00+00', 180);
SELECT ml_monitor_refresh() AS rolled_up;
SELECT time, alias, version, metric, value FROM ml_model_health_history WHERE model = 'trap_rate';
-- The bucket still filling covers its start to the last refresh. The rows: 10 in the previous
-- bucket (its first bucket: from 10 minutes before its end), 10 in the current one up to now.
SELECT ml_register('trap_live', ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, 1)) AS v1;
SELECT ml_deploy('trap_live', 1);
SELECT log_rows('trap_live', 1, 'production', date_bin('1 hour', now(), '2000-01-01') - interval '10 minutes', 10, '1 minute')
     + log_rows('trap_live', 1, 'production', date_bin('1 hour', now(), '2000-01-01'), 10,
                (now() - date_bin('1 hour', now(), '2000-01-01')) / 10) AS logged;
SELECT ml_monitor_refresh() AS rolled_up;
-- Expected, from the log and the time of the refresh, by the definition (docs/monitoring.md).
CREATE TEMP TABLE live_expected AS
WITH b AS (
    SELECT date_bin('1 hour', l.predicted_at, '2000-01-01') AS bucket, count(*) AS n,
           min(l.predicted_at) AS first_at, max(l.predicted_at) AS last_at
    FROM ml_prediction_log l WHERE l.model_name = 'trap_live' GROUP BY 1
), st AS (SELECT refreshed_at FROM ml_monitor_state)
SELECT b.bucket, b.n,
       b.n / greatest(extract(epoch FROM least(b.bucket + interval '1 hour', greatest(st.refreshed_at, b.last_at))
                                         - CASE WHEN b.bucket = (SELECT min(bucket) FROM b) THEN b.first_at ELSE b.bucket END), 1)::float8
           AS bucket_rate,
       (SELECT sum(n) FROM b) / greatest(extract(epoch FROM greatest(st.refreshed_at, (SELECT max(last_at) FROM b))
                                                    - (SELECT min(first_at) FROM b)), 1)::float8 AS health_rate
FROM b, st;
SELECT count(*) AS buckets, sum(n) AS predictions FROM live_expected;
SELECT h.time = e.bucket AS same_bucket, abs(h.value - e.bucket_rate) <= 1e-9 * e.bucket_rate AS rate_as_defined
FROM ml_model_health_history h JOIN live_expected e ON e.bucket = h.time
WHERE h.model = 'trap_live' AND h.metric = 'prediction_rate' ORDER BY h.time;
-- ml_model_health over a health window that covers both buckets: 20 predictions over the time
-- from the first one to the last refresh (the old rate divided by the time since the start of
-- the previous bucket, 50 minutes more than the model served).
SELECT ml_monitor_set('health_window', '1 day') AS health_window;
SELECT abs(h.value - (SELECT DISTINCT health_rate FROM live_expected)) <= 1e-9 * h.value AS rate_as_defined,
       h.value > 20 / extract(epoch FROM now() - (SELECT min(bucket) FROM live_expected))::float8 AS above_the_diluted_rate
FROM ml_model_health h WHERE h.model = 'trap_live' AND h.metric = 'prediction_rate';
SELECT ml_monitor_set('health_window', NULL) AS back_to_default;

-- ---------------------------------------------------------------------------------------------
-- Pending labels, with a shadow: counted per labelled prediction everywhere.
-- ---------------------------------------------------------------------------------------------
SELECT ml_register('trap_fb', ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, 1)) AS v1,
       ml_register('trap_fb', ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, 0)) AS v2;
SELECT ml_deploy('trap_fb', 1), ml_deploy('trap_fb', 2, 'shadow');
SELECT ml_rollout('trap_fb', 'shadow', 'shadow');
CREATE TABLE sessions (id int PRIMARY KEY, x float8, p float8, y boolean);
SELECT ml_attach('monitoring_traps.sessions', 'trap_fb', key => 'id', prediction => 'p', label => 'y');
INSERT INTO sessions (id, x) SELECT i, i / 10.0 FROM generate_series(1, 5) i;
-- user did: labelled 3 of the 5 rows with a shadow rolled out: 3 labels reach the served
-- predictions and the shadow's, 6 labelled predictions wait, 3 for each version.
UPDATE sessions SET y = (id % 2 = 0) WHERE id <= 3;
SELECT variant, served, count(*) AS predictions, count(label) AS labelled
FROM ml_prediction_log WHERE model_name = 'trap_fb' GROUP BY 1, 2 ORDER BY 1;
SELECT ml_pending_labels('trap_fb') AS pending;
SELECT ml_monitor_refresh() > 0 AS rolled_up;
SELECT alias, version, value AS pending_labels FROM ml_model_health
WHERE model = 'trap_fb' AND metric = 'pending_labels' ORDER BY alias;
SELECT sum(value) = ml_pending_labels('trap_fb') AS health_sums_to_ml_pending_labels
FROM ml_model_health WHERE model = 'trap_fb' AND metric = 'pending_labels';
SELECT variant, version, value AS labels FROM ml_model_metrics WHERE model = 'trap_fb' AND metric = 'labels' ORDER BY variant;
SELECT alias, version, value AS labels FROM ml_model_health_history WHERE model = 'trap_fb' AND metric = 'labels' ORDER BY alias;
SELECT ml_learn_pending('trap_fb') AS learned;
SELECT ml_pending_labels('trap_fb') AS pending,
       (SELECT sum(value) FROM ml_model_health WHERE model = 'trap_fb' AND metric = 'pending_labels') AS in_health;
SELECT ml_detach('monitoring_traps.sessions');
SELECT ml_rollout_remove('trap_fb', 'shadow');

-- ---------------------------------------------------------------------------------------------
-- Privileges: ml_model_health_history is read like the other views (SELECT on it is enough;
-- PUBLIC has none), a security barrier owned by the extension's owner.
-- ---------------------------------------------------------------------------------------------
SELECT c.reloptions, pg_get_userbyid(c.relowner) = current_user AS owned_by_extension_owner
FROM pg_class c WHERE c.oid = 'ml_model_health_history'::regclass;
CREATE ROLE regress_traps_reader;
GRANT USAGE ON SCHEMA monitoring_traps TO regress_traps_reader;
SET ROLE regress_traps_reader;
SELECT count(*) FROM ml_model_health_history;
RESET ROLE;
GRANT SELECT ON ml_model_health_history TO regress_traps_reader;
SET ROLE regress_traps_reader;
SELECT count(*) AS rows FROM ml_model_health_history WHERE model = 'trap_rate';
SELECT count(*) FROM ml_monitor_windows;
RESET ROLE;
REVOKE SELECT ON ml_model_health_history FROM regress_traps_reader;
DROP OWNED BY regress_traps_reader;
DROP ROLE regress_traps_reader;

-- Clean up: this file's log rows, models (with their windows and settings) and schema.
DELETE FROM ml_label_queue WHERE model_name LIKE 'trap\_%';
DELETE FROM ml_prediction_log WHERE model_name LIKE 'trap\_%';
SELECT ml_unregister(n, true) FROM unnest(ARRAY['trap_clf', 'trap_nob', 'trap_small', 'trap_rate', 'trap_live', 'trap_fb']) n;
SELECT ml_monitor_refresh() >= 0 AS drained,
       (SELECT count(*) FROM ml_monitor_windows WHERE model_name LIKE 'trap\_%') AS windows_left,
       (SELECT count(*) FROM ml_settings) AS settings_left;
DROP SCHEMA monitoring_traps CASCADE;
