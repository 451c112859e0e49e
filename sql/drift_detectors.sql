-- Concept-drift detectors (issue 13): the ml_detector type, ml_drift_detector as a window
-- function, a stored detector updated row by row, options, bad input, text and binary forms.
CREATE SCHEMA drift_detectors;
SET search_path = drift_detectors, public;

-- SQLSTATE and message of a statement's error, or 'ok'.
CREATE FUNCTION err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- A stream with known change points: values in [-0.5, 0.5) (a fixed pseudo-random sequence),
-- shifted by +1 from row 601 and back from row 1201; a 0/1 error stream whose error rate goes
-- from about 0.1 to about 0.5 at row 801.
CREATE TABLE stream AS
SELECT i AS ts,
       ((i * 7919) % 1000) / 1000.0 - 0.5 + CASE WHEN i BETWEEN 601 AND 1200 THEN 1 ELSE 0 END AS x,
       CASE WHEN ((i * 104729) % 1000) < CASE WHEN i <= 800 THEN 100 ELSE 500 END THEN 1 ELSE 0 END AS err
FROM generate_series(1, 1800) i;

-- user did: ml_drift_detector('adwin', x) OVER (ORDER BY ts): true at the rows where a change is detected
SELECT ts FROM (
    SELECT ts, ml_drift_detector('adwin', x) OVER (ORDER BY ts) AS change FROM stream
) s WHERE change ORDER BY ts;
-- (each change found after its true point, and soon: within 100 rows)
SELECT count(*) FILTER (WHERE ts BETWEEN 601 AND 700) > 0 AS found_first,
       count(*) FILTER (WHERE ts BETWEEN 1201 AND 1300) > 0 AS found_second,
       count(*) FILTER (WHERE ts <= 600) AS false_alarms_before
FROM (SELECT ts, ml_drift_detector('adwin', x) OVER (ORDER BY ts) AS change FROM stream) s WHERE change;

-- user did: every kind, with options, as window functions
SELECT 'page_hinkley' AS kind, array_agg(ts ORDER BY ts) FROM (
    SELECT ts, ml_drift_detector('page_hinkley', '{"threshold": 20}', x) OVER (ORDER BY ts) AS c FROM stream) s WHERE c
UNION ALL
SELECT 'ddm', array_agg(ts ORDER BY ts) FROM (
    SELECT ts, ml_drift_detector('ddm', err) OVER (ORDER BY ts) AS c FROM stream) s WHERE c
UNION ALL
SELECT 'kswin', array_agg(ts ORDER BY ts) FROM (
    SELECT ts, ml_drift_detector('kswin', '{"seed": 42}', x) OVER (ORDER BY ts) AS c FROM stream) s WHERE c
UNION ALL
SELECT 'adwin on errors', array_agg(ts ORDER BY ts) FROM (
    SELECT ts, ml_drift_detector('adwin', '{"delta": 0.01}', err) OVER (ORDER BY ts) AS c FROM stream) s WHERE c;

-- user did: the same stream twice gives the same change points (KSWIN's sampling is seeded)
SELECT (SELECT array_agg(ts ORDER BY ts) FROM (SELECT ts, ml_drift_detector('kswin', x) OVER (ORDER BY ts) c FROM stream) s WHERE c)
     = (SELECT array_agg(ts ORDER BY ts) FROM (SELECT ts, ml_drift_detector('kswin', x) OVER (ORDER BY ts) c FROM stream) s WHERE c)
  AS reproducible;

-- user did: the detector after the whole stream, and what it says
SELECT ml_detector_info(ml_detector_run('adwin', x ORDER BY ts)) FROM stream;
SELECT ml_detector_info(ml_detector_run('ddm', '{"warm_start": 50}', err ORDER BY ts)) FROM stream;

-- user did: a detector stored in a table, updated row by row as the values arrive
CREATE TABLE monitor (name text PRIMARY KEY, d ml_detector NOT NULL);
INSERT INTO monitor VALUES ('x', ml_detector('adwin')), ('err', ml_detector('ddm', '{"warm_start": 50}')),
                           ('ph', 'page_hinkley'::ml_detector);
CREATE TABLE fired (name text, ts int);
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM stream ORDER BY ts LOOP
    UPDATE monitor SET d = ml_detector_update(d, CASE name WHEN 'err' THEN r.err ELSE r.x END);
    INSERT INTO fired SELECT name, r.ts FROM monitor WHERE ml_detector_drift(d);
  END LOOP;
END $$;
-- the stored states equal the aggregate's, byte for byte, and fired at the window function's rows
SELECT m.name, m.d::text = a.d::text AS same_state,
       (SELECT array_agg(ts ORDER BY ts) FROM fired f WHERE f.name = m.name)
       IS NOT DISTINCT FROM
       (SELECT array_agg(ts ORDER BY ts) FROM (
           SELECT ts, CASE m.name WHEN 'x' THEN ml_drift_detector('adwin', x) OVER w
                                  WHEN 'err' THEN ml_drift_detector('ddm', '{"warm_start": 50}', err) OVER w
                                  ELSE ml_drift_detector('ph', x) OVER w END AS c
           FROM stream WINDOW w AS (ORDER BY ts)) s WHERE c) AS same_changes
FROM monitor m
JOIN (SELECT 'x' AS name, ml_detector_run('adwin', x ORDER BY ts) AS d FROM stream
      UNION ALL SELECT 'err', ml_detector_run('ddm', '{"warm_start": 50}', err ORDER BY ts) FROM stream
      UNION ALL SELECT 'ph', ml_detector_run('page_hinkley', x ORDER BY ts) FROM stream) a USING (name)
ORDER BY m.name;
SELECT name, ml_detector_info(d) -> 'detections' AS detections, ml_detector_info(d) -> 'last_change' AS last_change
FROM monitor ORDER BY name;

-- user did: fed a stored detector a batch of rows (ml_detector_run continuing it), and asked where
-- a stored detector fires in new rows (ml_drift_detector continuing it): the same as one pass
CREATE TABLE half AS SELECT ml_detector_run('adwin', x ORDER BY ts) AS d FROM stream WHERE ts <= 900;
SELECT (SELECT ml_detector_run(h.d, x ORDER BY ts) FROM stream WHERE ts > 900)::text
       = (SELECT ml_detector_run('adwin', x ORDER BY ts) FROM stream)::text AS same_state,
       (SELECT array_agg(ts ORDER BY ts) FROM (SELECT ts, ml_drift_detector(h.d, x) OVER (ORDER BY ts) c
                                              FROM stream WHERE ts > 900) s WHERE c)
       = (SELECT array_agg(ts ORDER BY ts) FROM (SELECT ts, ml_drift_detector('adwin', x) OVER (ORDER BY ts) c
                                                 FROM stream) s WHERE c AND ts > 900) AS same_changes
FROM half h;
SELECT err($$SELECT ml_detector_run(NULL::ml_detector, 1.0)$$);

-- user did: NULL values in the stream: skipped (false at their rows), the stored state unchanged
SELECT ts, c FROM (
    SELECT ts, ml_drift_detector('page_hinkley', '{"min_instances": 1, "threshold": 1, "mode": "up"}', v)
               OVER (ORDER BY ts) AS c
    FROM (VALUES (1, 0.0), (2, 10.0), (3, NULL), (4, 0.0)) v(ts, v)) s ORDER BY ts;
SELECT ml_detector_update(d, NULL)::text = d::text AS unchanged, ml_detector_update(NULL, 1.0) IS NULL AS null_state
FROM monitor WHERE name = 'x';

-- ---- bad input --------------------------------------------------------------------------------
-- user did: an unknown kind, an unknown option, an option out of range, an option of another kind
SELECT err($$SELECT ml_detector('adwn')$$);
SELECT err($$SELECT 'adwn'::ml_detector$$);
SELECT err($$SELECT ml_drift_detector('nope', x) OVER (ORDER BY ts) FROM stream$$);
SELECT err($$SELECT ml_detector('adwin', '{"delat": 0.1}')$$);
SELECT err($$SELECT ml_detector('adwin', '{"delta": 2}')$$);
SELECT err($$SELECT ml_detector('adwin', '{"clock": 0}')$$);
SELECT err($$SELECT ml_detector('kswin', '{"stat_size": 80}')$$);
SELECT err($$SELECT ml_detector('page_hinkley', '{"mode": "sideways"}')$$);
SELECT err($$SELECT ml_detector('ddm', '{"threshold": 3}')$$);
SELECT err($$SELECT ml_drift_detector('adwin', '{"grace_period": -1}', x) OVER (ORDER BY ts) FROM stream$$);
SELECT err($$SELECT ml_detector('adwin', '[1, 2]')$$);
-- user did: fed a detector NaN or an infinity (22003), a non-0/1 value to ddm (22023), a NULL kind
SELECT err($$SELECT ml_detector_update(ml_detector('adwin'), 'NaN')$$);
SELECT err($$SELECT ml_detector_update(ml_detector('kswin'), '-Infinity')$$);
SELECT err($$SELECT ml_drift_detector('adwin', v) OVER (ORDER BY i)
             FROM (VALUES (1, 0.5::float8), (2, 'NaN')) t(i, v)$$);
SELECT err($$SELECT ml_detector_update(ml_detector('ddm'), 0.5)$$);
SELECT err($$SELECT ml_drift_detector(NULL, x) OVER (ORDER BY ts) FROM stream$$);
SELECT err($$SELECT ml_drift_detector_transition(NULL, 'adwin', 1.0)$$);
\set VERBOSITY sqlstate
SELECT ml_detector_update(ml_detector('page_hinkley'), 'NaN');
\set VERBOSITY default

-- ---- text and binary forms --------------------------------------------------------------------
-- user did: printed a detector and read it back; exported its binary form and imported it
SELECT name, ml_detector_in(ml_detector_out(d))::text = d::text AS text_round_trip,
       ml_detector_from_bytes(ml_detector_bytes(d))::text = d::text AS binary_round_trip,
       substr(ml_detector_bytes(d), 1, 4) AS magic
FROM monitor ORDER BY name;
SELECT ml_detector('kswin', '{"window_size": 4, "stat_size": 2, "seed": 5}')::text;
SELECT ml_detector_update(ml_detector_update(ml_detector('page_hinkley', '{"min_instances": 5}'), 1), 2)::text;
-- a stored state goes on as the one in memory would
SELECT ml_detector_info(ml_detector_update(d::text::ml_detector, 5.0)) = ml_detector_info(ml_detector_update(d, 5.0)) AS same
FROM monitor WHERE name = 'x';
-- user did: bad text and bytes
SELECT err($$SELECT '{"pg_learn_detector": 1}'::ml_detector$$);
SELECT err($$SELECT '{"pg_learn_detector": 1, "kind": "ddm", "options": {}, "n": 1, "detections": 2, "last_change": 1, "warnings": 0, "drift": false, "warning": false, "state": {"count": 1, "errors": 0, "has_min": false, "p_min": 0, "s_min": 0}}'::ml_detector$$);
SELECT err($$SELECT '{"pg_learn_detector": 1, "kind": "ddm", "options": {"warm_start": 0}, "n": 0, "detections": 0, "last_change": 0, "warnings": 0, "drift": false, "warning": false, "state": {"count": 0, "errors": 0, "has_min": false, "p_min": 0, "s_min": 0}}'::ml_detector$$);
SELECT err($$SELECT '{"pg_learn_detector": 1, "kind": "ddm"'::ml_detector$$);
SELECT err($$SELECT ml_detector_from_bytes('\x00')$$);
SELECT err(format('SELECT ml_detector_from_bytes(%L::bytea)',
                  overlay(ml_detector_bytes(ml_detector('adwin')) placing '\xff'::bytea from 30 for 1)))
FROM monitor WHERE name = 'x';
-- ---- order and parallelism --------------------------------------------------------------------
-- user did: asked for a parallel plan: the aggregate has no combine function, so no partial aggregate
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE TABLE big AS SELECT i AS ts, (i % 10)::float8 AS x FROM generate_series(1, 20000) i;
ANALYZE big;
EXPLAIN (COSTS OFF) SELECT ml_detector_run('adwin', x) FROM big;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- ---- monitoring: ml_model_health's error-stream detector --------------------------------------
-- user did: deployed a classifier and a regressor whose logged errors change mid-stream, rolled the
-- log up (ml_monitor_refresh) and read ml_model_health. The classifier scores 0.9 (predicts 1)
-- every minute from 2024-05-01; its labels are 1 nine times in ten up to prediction 1000, then one
-- time in two. The regressor's absolute error grows from about 0.25 to about 1.25 at prediction
-- 700. Labels on every prediction but every tenth (unlabelled rows are not read). The rows get
-- negative ids of their own (OVERRIDING SYSTEM VALUE), so that the log's identity, which later
-- files print, does not move.
SELECT ml_monitor_refresh() >= 0 AS drained;
SELECT ml_register('dd_clf', ml_fit_one('{"model": "logistic_regression"}', '{"x": 1}'::jsonb, 1)) AS clf,
       ml_register('dd_reg', ml_fit_one('{"model": "linear_regression"}', '{"x": 1}'::jsonb, 1.0)) AS reg;
SELECT ml_deploy('dd_clf', 1), ml_deploy('dd_reg', 1);
INSERT INTO ml_prediction_log (prediction_id, model_name, version, variant, served, key, predicted_at, score, features, label, labeled_at)
OVERRIDING SYSTEM VALUE
SELECT -i, 'dd_clf', 1, 'production', true, 'dd_clf:' || i, timestamptz '2024-05-01 00:00:00+00' + i * interval '1 minute',
       0.9, '{"x": 1}', CASE WHEN i % 10 = 0 THEN NULL
                             WHEN ((i * 7919) % 100) < CASE WHEN i <= 1000 THEN 10 ELSE 50 END THEN 0 ELSE 1 END,
       timestamptz '2024-05-02 00:00:00+00'
FROM generate_series(1, 2000) i;
INSERT INTO ml_prediction_log (prediction_id, model_name, version, variant, served, key, predicted_at, score, features, label, labeled_at)
OVERRIDING SYSTEM VALUE
SELECT -100000 - i, 'dd_reg', 1, 'production', true, 'dd_reg:' || i, timestamptz '2024-05-01 00:00:00+00' + i * interval '1 minute',
       10 + ((i * 7919) % 1000) / 1000.0 - 0.5 + CASE WHEN i > 700 THEN 1.0 ELSE 0 END, '{"x": 1}',
       CASE WHEN i % 10 <> 0 THEN 10 END, timestamptz '2024-05-02 00:00:00+00'
FROM generate_series(1, 1200) i;
-- before the refresh, nothing is known
SELECT count(*) AS drift_rows_before_refresh FROM ml_model_health WHERE model LIKE 'dd\_%' AND metric LIKE '%error_drift%';
SELECT ml_monitor_refresh() AS events;
SELECT model, metric,
       CASE WHEN metric IN ('error_drift_rows', 'error_drift_detections', 'error_drift_window_rows') THEN value END AS value,
       CASE WHEN metric IN ('error_drift_last_at', 'error_drift_last_bucket')
            THEN to_timestamp(value) AT TIME ZONE 'UTC' END AS at,
       CASE WHEN metric = 'seconds_since_error_drift' THEN value > 0
            WHEN metric = 'error_drift_window_mean' THEN value BETWEEN 0.3 AND 1.5 END AS plausible
FROM ml_model_health WHERE model LIKE 'dd\_%' AND metric LIKE '%error_drift%' ORDER BY model, metric;
-- the last change is the one the window function finds over the same stream
SELECT (SELECT to_timestamp(value) FROM ml_model_health WHERE model = 'dd_clf' AND metric = 'error_drift_last_at')
     = (SELECT max(predicted_at) FROM (
            SELECT predicted_at, ml_drift_detector('adwin', ((score >= 0.5) <> (label = 1))::int)
                                     OVER (ORDER BY predicted_at, prediction_id) AS c
            FROM ml_prediction_log WHERE model_name = 'dd_clf' AND label IS NOT NULL) s WHERE c) AS same_last_change;
-- user did: more labelled predictions arrive: the stored detector goes on from where it was (the
-- same as one pass over every error), its last change stays known
INSERT INTO ml_prediction_log (prediction_id, model_name, version, variant, served, key, predicted_at, score, features, label)
OVERRIDING SYSTEM VALUE
SELECT -100000 - i, 'dd_reg', 1, 'production', true, 'dd_reg:' || i, timestamptz '2024-05-01 00:00:00+00' + i * interval '1 minute',
       11, '{"x": 1}', 10
FROM generate_series(1201, 1500) i;
SELECT ml_monitor_refresh() AS events;
SELECT metric, value FROM ml_model_health
WHERE model = 'dd_reg' AND metric IN ('error_drift_rows', 'error_drift_detections') ORDER BY metric;
SELECT d.detector::text = (SELECT ml_detector_run('adwin', abs(score - label) ORDER BY predicted_at, prediction_id)::text
                           FROM ml_prediction_log WHERE model_name = 'dd_reg' AND label IS NOT NULL) AS same_as_one_pass
FROM ml_monitor_detectors d WHERE d.model_name = 'dd_reg';
-- user did: ml_monitor_reset: the detectors are rebuilt from the log, to the same state
CREATE TABLE detectors_before AS SELECT model_name, detector::text AS d, last_change_at FROM ml_monitor_detectors WHERE model_name LIKE 'dd\_%';
SELECT ml_monitor_reset() > 0 AS requeued, ml_monitor_refresh() > 0 AS refreshed;
SELECT b.model_name, b.d = d.detector::text AS same_detector, b.last_change_at = d.last_change_at AS same_last_change
FROM detectors_before b JOIN ml_monitor_detectors d USING (model_name) ORDER BY 1;
-- user did: chose Page-Hinkley for the regressor's error stream (setting error_detector): its
-- detector starts over (the classifier's stays), and after a reset the refresh rebuilds it as one
-- Page-Hinkley pass with those options over the same errors; the classifier keeps ADWIN
SELECT ml_monitor_set('error_detector', '{"method": "page_hinkley", "threshold": 5}', 'dd_reg') AS set;
SELECT model_name, count(*) AS detectors FROM ml_monitor_detectors WHERE model_name LIKE 'dd\_%' GROUP BY 1 ORDER BY 1;
SELECT ml_monitor_reset() > 0 AS requeued, ml_monitor_refresh() > 0 AS refreshed;
SELECT d.model_name, ml_detector_info(d.detector) ->> 'kind' AS kind,
       d.detector::text = (SELECT CASE WHEN d.model_name = 'dd_reg'
                                       THEN ml_detector_run('page_hinkley', '{"threshold": 5}', abs(score - label)
                                                            ORDER BY predicted_at, prediction_id)
                                       ELSE ml_detector_run('adwin', ((score >= 0.5) <> (label = 1))::int
                                                            ORDER BY predicted_at, prediction_id) END::text
                           FROM ml_prediction_log WHERE model_name = d.model_name AND label IS NOT NULL) AS same_as_one_pass
FROM ml_monitor_detectors d WHERE d.model_name LIKE 'dd\_%' ORDER BY 1;
SELECT setting, value, source FROM ml_monitor_settings('dd_reg') WHERE setting = 'error_detector';
-- user did: gave error_detector bad values: each is refused (22023), naming what is wrong
SELECT v, err(format('SELECT ml_monitor_set(%L, %L, %L)', 'error_detector', v, 'dd_reg')) AS result
FROM (VALUES ('adwin'), ('[1]'), ('{"delta": 0.1}'), ('{"method": "ddm"}'), ('{"method": "cusum"}'),
             ('{"method": "adwin", "delta": 2}'), ('{"method": "kswin", "window": 3}')) t(v);
DO $$ BEGIN PERFORM ml_monitor_set('error_detector', '{"method": "ddm"}', 'dd_reg'); EXCEPTION WHEN OTHERS THEN
  DECLARE h text; BEGIN GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT; RAISE NOTICE 'hint: %', h; END; END $$;
-- user did: set a global value: the detectors of the models without a value of their own start
-- over (dd_clf's), dd_reg's stays; then removed it again
SELECT ml_monitor_set('error_detector', '{"method": "kswin", "alpha": 0.001}') AS global;
SELECT model_name, ml_detector_info(detector) ->> 'kind' AS kind FROM ml_monitor_detectors WHERE model_name LIKE 'dd\_%' ORDER BY 1;
SELECT setting, value, source FROM ml_monitor_settings('dd_clf') WHERE setting = 'error_detector';
SELECT ml_monitor_set('error_detector', NULL) AS global_removed;
-- user did: set it back (NULL): the detector is dropped; the next labelled predictions start ADWIN
SELECT ml_monitor_set('error_detector', NULL, 'dd_reg') AS reset;
SELECT ml_monitor_refresh() >= 0 AS refreshed;
SELECT count(*) AS reg_detectors FROM ml_monitor_detectors WHERE model_name = 'dd_reg';
SELECT ml_unregister('dd_clf', force => true), ml_unregister('dd_reg', force => true);

DROP SCHEMA drift_detectors CASCADE;
