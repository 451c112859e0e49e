-- Feature pipelines as one model value (docs/pipelines.md): a spec with steps and a final model,
-- ml_fit_one, ml_fit, ml_train, predictions, ml_info's steps, the text and binary round trips,
-- the registry with trigger scoring and label feedback, and bad input with its SQLSTATE. The
-- file works in its own schema: the files share one database.
CREATE SCHEMA pipelines;
SET search_path = pipelines, public;

-- A bike-station stream, one row an hour from 2024-01-01 00:00 UTC (ts: seconds since 1970):
-- demand depends on the station, on the hour (busy from 7 to 19) and on the temperature.
CREATE TABLE rides AS
SELECT i, station, ts, temperature,
       CASE station WHEN 'north' THEN 10 WHEN 'south' THEN 20 ELSE 5 END
       + CASE WHEN (i % 24) BETWEEN 7 AND 19 THEN 8 ELSE 0 END + 0.2 * temperature AS bikes
FROM (SELECT i, (ARRAY['north', 'south', 'east'])[1 + (i / 7) % 3] AS station, 1704067200 + i * 3600 AS ts,
             ((i * 7919) % 1009) / 1009.0 * 30 AS temperature
      FROM generate_series(0, 2999) i) s;
CREATE FUNCTION x(r rides) RETURNS jsonb LANGUAGE sql IMMUTABLE AS
$$ SELECT jsonb_build_object('station', r.station, 'ts', r.ts, 'temperature', r.temperature) $$;
\set spec '{"pipeline": [{"select": ["temperature"]}, {"date_parts": {"column": "ts", "parts": ["hour", "weekday"]}}, {"target_agg": {"by": ["station", "ts_hour"], "how": "mean"}}, {"target_agg": {"by": "station", "how": {"ewmean": 0.5}}}, "standard_scaler", {"linear_regression": {"intercept_lr": 0.5}}]}'

-- user did: write the issue's pipeline spec and learn one row: every step's options are written
-- out in the stored spec ({"model": "pipeline", "steps": [...]}), the model's last.
SELECT jsonb_pretty(ml_info(ml_fit_one(:'spec', x(r), r.bikes)) -> 'spec') AS spec FROM rides r WHERE i = 0;
-- user did: give the stored form back as a spec: the same model (same identity).
SELECT ml_info(ml_fit_one((ml_info(ml_fit_one(:'spec', x(r), r.bikes)) -> 'spec')::text::ml_model, x(r), r.bikes)) ->> 'identity'
       = ml_info(ml_fit_one(:'spec', x(r), r.bikes)) ->> 'identity' AS same_identity
FROM rides r WHERE i = 0;

-- user did: fit the pipeline with ml_fit (ORDER BY) and look at its steps in ml_info.
CREATE TABLE fitted AS SELECT ml_fit(:'spec', x(r), r.bikes ORDER BY i) AS m FROM rides r;
SELECT ml_info(m) ->> 'kind' AS kind, ml_info(m) ->> 'task' AS task, ml_info(m) -> 'n_seen' AS n_seen,
       ml_info(m) -> 'trained' AS trained, ml_info(m) -> 'final' ->> 'kind' AS final_kind,
       ml_info(m) -> 'final' -> 'n_seen' AS final_n_seen
FROM fitted;
SELECT e ->> 'step' AS step, e ->> 'output' AS output, e -> 'groups' AS groups, e -> 'features' AS scaled
FROM fitted, jsonb_array_elements(ml_info(m) -> 'steps') e;
-- The features the final model learned: the selected temperature, the date parts and the two
-- aggregates (not the station, nor the raw timestamp).
SELECT ml_info(m) -> 'features' AS features FROM fitted;
-- user did: predict with it: the target aggregates carry the station and hour effects that the
-- bare linear model on the same columns cannot learn.
SELECT round(ml_predict_one(m, '{"station": "south", "ts": 1704186000, "temperature": 10}'::jsonb)::numeric) AS south_at_9,
       round(ml_predict_one(m, '{"station": "east", "ts": 1704160800, "temperature": 10}'::jsonb)::numeric) AS east_at_2
FROM fitted;
SELECT avg(abs(ml_predict_one(f.m, x(r)) - r.bikes)) < 1.0 AS pipeline_accurate,
       avg(abs(ml_predict_one(b.m, jsonb_build_object('temperature', r.temperature, 'ts_hour', r.i % 24)) - r.bikes)) > 2.0 AS bare_model_is_not
FROM rides r, fitted f,
     (SELECT ml_fit('{"model": "linear_regression", "intercept_lr": 0.5}', jsonb_build_object('temperature', temperature, 'ts_hour', i % 24), bikes ORDER BY i) AS m FROM rides) b;

-- user did: give the timestamp as ISO-8601 text in jsonb: the same date parts as the number of
-- seconds (2024-01-02 09:00 UTC is 1704186000; an offset is read as such).
SELECT ml_predict_one(m, '{"station": "south", "ts": "2024-01-02T09:00:00Z", "temperature": 10}'::jsonb)
       = ml_predict_one(m, '{"station": "south", "ts": 1704186000, "temperature": 10}'::jsonb) AS iso_utc,
       ml_predict_one(m, '{"station": "south", "ts": "2024-01-02 11:00:00+02:00", "temperature": 10}'::jsonb)
       = ml_predict_one(m, '{"station": "south", "ts": 1704186000, "temperature": 10}'::jsonb) AS iso_offset
FROM fitted;

-- user did: a station never seen: its aggregates take the prior (0 by default).
SELECT round(ml_predict_one(m, '{"station": "new", "ts": 1704186000, "temperature": 10}'::jsonb)::numeric, 6)
       <> round(ml_predict_one(m, '{"station": "south", "ts": 1704186000, "temperature": 10}'::jsonb)::numeric, 6) AS prior_differs
FROM fitted;

-- user did: learn progressively and look for target leakage: a row's aggregate holds only the
-- labels of earlier rows. The first row of a group is learned with the prior (0), so the linear
-- model's weight of the aggregate stays 0 after it (its feature was 0); the second row of the
-- group is learned with the first row's label (10) as its aggregate.
SELECT (ml_info(m1) -> 'final' -> 'weights' ->> 'target_mean_by_g')::float8 AS weight_after_first_row,
       (m1::text::jsonb) -> 'state' -> 0 AS state_after_first_row,
       (ml_info(ml_fit_one(m1, '{"g": "a"}'::jsonb, 30)) -> 'final' -> 'weights' ->> 'target_mean_by_g')::float8 <> 0 AS weight_after_second_row
FROM (SELECT ml_fit_one('{"pipeline": [{"target_agg": {"by": "g"}}, {"linear_regression": {"optimizer": "sgd", "scale": false}}]}',
                        '{"g": "a"}'::jsonb, 10) AS m1) s;

-- user did: replay the same rows: the same model, byte for byte.
SELECT ml_model_bytes(m) = ml_model_bytes(again) AS same_bytes
FROM fitted, (SELECT ml_fit(:'spec', x(r), r.bikes ORDER BY i) AS again FROM rides r) a;

-- user did: store the pipeline and read it back: the text and binary round trips are exact and
-- score the same; the JSON form holds the steps' state and the final model's whole JSON form.
SELECT m::text::ml_model::text = m::text AS text_round_trip,
       ml_model_bytes(ml_model_from_bytes(ml_model_bytes(m))) = ml_model_bytes(m) AS same_bytes,
       ml_model_bytes(m::text::ml_model) = ml_model_bytes(m) AS text_to_same_bytes,
       jsonb_array_length((m::text::jsonb) -> 'state' -> 2 -> 'keys') AS station_hour_groups,
       (m::text::jsonb) -> 'state' -> 0 AS select_state,
       (m::text::jsonb) -> 'final' ->> 'kind' AS final_kind,
       ml_predict_one(m::text::ml_model, x(r)) = ml_predict_one(m, x(r)) AS same_scores
FROM fitted, rides r WHERE r.i = 17;

-- user did: train with ml_train (3 epochs), then learn one more row with ml_fit_one. The target
-- aggregates learn from labels, so a second pass would read each row's own label among its
-- features (target leakage): ml_train learns the rows once and warns; the model is the one of
-- epochs => 1 (no warning) and of ml_fit over the same rows in the same order.
CREATE TABLE trained AS
SELECT ml_train(:'spec', $$SELECT pipelines.x(r), r.bikes FROM pipelines.rides r ORDER BY i$$, epochs => 3) AS m;
SELECT ml_model_bytes(ml_model_without_history(ml_train(:'spec', $$SELECT pipelines.x(r), r.bikes FROM pipelines.rides r ORDER BY i$$, epochs => 1))) = ml_model_bytes(ml_model_without_history(m)) AS same_as_one_epoch,
       ml_model_bytes(ml_model_without_history(m)) = (SELECT ml_model_bytes(ml_fit(:'spec', x(r), r.bikes ORDER BY i)) FROM rides r) AS same_as_ml_fit
FROM trained;
SELECT ml_info(m) -> 'n_seen' AS n_seen, ml_info(ml_fit_one(m, '{"station": "north", "ts": 1704186000, "temperature": 3}'::jsonb, 12)) -> 'n_seen' AS one_more,
       avg(abs(ml_predict_one(m, x(r)) - r.bikes)) < 1.0 AS accurate
FROM trained, rides r GROUP BY m;

-- user did: a classifier at the end: the pipeline's task is its model's (binary), the target
-- aggregate is the rate of positives; and a multiclass model after stateless steps.
CREATE TABLE clf AS
SELECT ml_fit('{"pipeline": [{"select": ["temperature"]}, {"target_agg": {"by": "station", "how": "mean", "prior": 0.5, "prior_weight": 2}}, {"clip": {"columns": ["temperature"], "min": 5, "max": 25}}, {"logistic_regression": {}}]}',
              x(r), r.bikes > 20 ORDER BY i) AS m
FROM rides r;
SELECT ml_info(m) ->> 'task' AS task, ml_info(m) -> 'classes' AS classes,
       ml_predict_class(m, '{"station": "south", "ts": 0, "temperature": 20}'::jsonb) AS south,
       ml_predict_class(m, '{"station": "east", "ts": 0, "temperature": 20}'::jsonb) AS east
FROM clf;
SELECT ml_predict_class(ml_fit('{"pipeline": [{"binning": {"column": "temperature", "edges": [10, 20]}}, {"interactions": [["station", "temperature_bin"]]}, {"softmax_regression": {}}]}',
                               x(r) - 'ts', CASE WHEN bikes < 12 THEN 'few' WHEN bikes < 24 THEN 'some' ELSE 'many' END ORDER BY i),
                        '{"station": "south", "temperature": 25}'::jsonb) AS softmax_class,
       ml_info(ml_fit('{"pipeline": [{"binning": {"column": "temperature", "edges": [10, 20]}}, {"interactions": [["station", "temperature_bin"]]}, {"softmax_regression": {}}]}',
                      x(r) - 'ts', CASE WHEN bikes < 12 THEN 'few' WHEN bikes < 24 THEN 'some' ELSE 'many' END ORDER BY i)) ->> 'task' AS softmax_task
FROM rides r WHERE i < 1000;

-- user did: interact the station (a category) with the temperature (a number), then score rows
-- with pg_learn.missing_features = 'error': the model learned "station=north*temperature",
-- "station=south*temperature", ...; a row of one station makes only its own, and is checked
-- against the columns the pipeline learned from (station, temperature), so nothing is missing.
-- A row without its temperature is missing that column, by name.
CREATE TABLE inter AS
SELECT ml_fit('{"pipeline": [{"interactions": [["station", "temperature"]]}, {"linear_regression": {}}]}',
              x(r) - 'ts', r.bikes ORDER BY i) AS m
FROM rides r WHERE i < 300;
SET pg_learn.missing_features = 'error';
SELECT ml_info(m) -> 'features' AS features,
       round(ml_predict_one(m, '{"station": "south", "temperature": 20}'::jsonb)::numeric, 3) > 0 AS scored
FROM inter;
SELECT ml_predict_one(m, '{"station": "south"}'::jsonb) FROM inter;
\echo :LAST_ERROR_SQLSTATE
RESET pg_learn.missing_features;
-- The stored model keeps the columns it learned from ("inputs").
SELECT (m::text::jsonb) -> 'inputs' AS inputs FROM inter;

-- user did: fit from whole rows, the label named by its column (never a feature; the pipeline's
-- "ignore" gains it), and score rows of the table by name.
CREATE TABLE from_rows AS
SELECT ml_fit('{"pipeline": [{"target_agg": {"by": "station"}}, "standard_scaler", {"linear_regression": {}}], "ignore": ["i", "ts"]}',
              r, 'bikes'::name ORDER BY i) AS m
FROM rides r;
SELECT ml_info(m) -> 'spec' -> 'ignore' AS ignore, ml_info(m) -> 'features' AS features,
       avg(abs(ml_predict_one(m, r) - r.bikes)) < 5 AS close
FROM from_rows, rides r GROUP BY m;
-- user did: a clustering model at the end: no label, the cluster by ml_predict_class.
SELECT ml_info(m) ->> 'task' AS task, ml_predict_class(m, '{"temperature": 1, "humidity": 0}'::jsonb) IS NOT NULL AS a_cluster
FROM (SELECT ml_fit('{"pipeline": ["standard_scaler", {"kmeans": {"n_clusters": 2}}]}',
                    jsonb_build_object('temperature', temperature, 'humidity', (i % 7) / 7.0) ORDER BY i) AS m
      FROM rides) k;

-- user did: fit a pipeline in a parallel plan: partial pipelines do not merge (each part's
-- aggregates come from its own labels), so the combine step refuses with a hint, or one process
-- learned every row. Never a silently merged model.
CREATE TABLE big AS SELECT r.* FROM rides r, generate_series(1, 10) k;
ANALYZE big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE FUNCTION parallel_fit() RETURNS text LANGUAGE plpgsql AS $$
DECLARE n text;
BEGIN
  SELECT ml_info(ml_fit('{"pipeline": ["standard_scaler", {"linear_regression": {}}]}', jsonb_build_object('t', temperature), bikes)) ->> 'n_seen' INTO n FROM big;
  RETURN 'one process learned ' || n || ' rows';
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN CASE WHEN SQLERRM LIKE '%cannot merge partial models%' THEN 'refused' ELSE SQLERRM END;
END $$;
SELECT parallel_fit() IN ('refused', 'one process learned 30000 rows') AS refused_or_whole;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- Bad input.
\set VERBOSITY default
-- user did: an unknown step; a misspelled option of a step; an unknown statistic.
SELECT ml_fit_one('{"pipeline": [{"target_mean": {"by": "station"}}, {"linear_regression": {}}]}', '{"station": "a"}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"pipeline": [{"target_agg": {"by": "station", "how": "mean", "smoothing": 3}}, {"linear_regression": {}}]}', '{"station": "a"}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"pipeline": [{"target_agg": {"by": "station", "how": "median"}}, {"linear_regression": {}}]}', '{"station": "a"}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
-- user did: a step order that cannot work: a scaler after the model; a model in the middle; no
-- model at all.
SELECT ml_fit_one('{"pipeline": [{"linear_regression": {}}, "standard_scaler"]}', '{"a": 1}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"pipeline": ["standard_scaler", {"linear_regression": {}}, {"log": "a"}, {"linear_regression": {}}]}', '{"a": 1}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"pipeline": ["standard_scaler"]}', '{"a": 1}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
-- user did: a target aggregate before a multiclass model (its labels are not numbers).
SELECT ml_fit_one('{"pipeline": [{"target_agg": {"by": "station"}}, {"softmax_regression": {}}]}', '{"station": "a"}'::jsonb, 'x');
\echo :LAST_ERROR_SQLSTATE
-- user did: a `by` column missing from the row, in learning and in scoring.
SELECT ml_fit_one(:'spec', '{"ts": 0, "temperature": 1}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one(m, '{"station": "north", "temperature": 1}'::jsonb) FROM fitted;
\echo :LAST_ERROR_SQLSTATE
-- user did: too many groups for the memory limit (max_groups 2, a third station).
SELECT ml_fit('{"pipeline": [{"target_agg": {"by": "station", "max_groups": 2}}, {"linear_regression": {}}]}', x(r), r.bikes ORDER BY i)
FROM rides r WHERE i < 15;  -- north (i 0-6), south (7-13), east (14)
\echo :LAST_ERROR_SQLSTATE
-- user did: a timestamp text that is not one; the log of a negative value; a float8[] row.
SELECT ml_predict_one(m, '{"station": "north", "ts": "yesterday", "temperature": 1}'::jsonb) FROM fitted;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"pipeline": [{"log": "a"}, {"linear_regression": {}}]}', '{"a": -3}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"pipeline": ["standard_scaler", {"linear_regression": {}}]}', ARRAY[1.0, 2.0]::float8[], 1);
\echo :LAST_ERROR_SQLSTATE
-- user did: edit the JSON form by hand: a group's count made negative; a corrupted byte.
SELECT jsonb_set(m::text::jsonb, '{state,3,stats,0,0}', '-1')::text::ml_model FROM fitted;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(overlay(ml_model_bytes(m) placing '\xff'::bytea from length(ml_model_bytes(m)) - 20 for 1)) FROM fitted;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse

-- user did: register the pipeline, score inserted rows by trigger, and feed labels back: the
-- version learns its 6 queued labels once; the logged features hold the station, so the target
-- aggregates of the right groups learn them.
SELECT ml_register('pipe_bikes', m) AS version FROM fitted;
SELECT ml_deploy('pipe_bikes', 1);
SELECT name, task, kind FROM ml_models WHERE name = 'pipe_bikes';
SELECT round(ml_predict('pipe_bikes', '{"station": "south", "ts": 1704186000, "temperature": 10}'::jsonb)::numeric) AS by_name;
CREATE TABLE trips (id int PRIMARY KEY, station text, ts bigint, temperature float8, guess float8, truth float8);
SELECT ml_attach('trips', 'pipe_bikes', key => 'id', prediction => 'guess', label => 'truth', features => ARRAY['station', 'ts', 'temperature']);
INSERT INTO trips (id, station, ts, temperature) SELECT i, station, ts, temperature FROM rides WHERE i BETWEEN 1 AND 6;
SELECT id, round(guess::numeric) AS guess FROM trips ORDER BY id;
SELECT (ml_info(ml_get('pipe_bikes', 1)) ->> 'n_seen')::int AS before;
UPDATE trips SET truth = r.bikes FROM rides r WHERE r.i = trips.id;
SELECT ml_learn_pending('pipe_bikes') AS applied;
SELECT ml_learn_pending() AS again;
SELECT (ml_info(ml_get('pipe_bikes', 1)) ->> 'n_seen')::int AS after,
       (ml_info(ml_get('pipe_bikes', 1)) -> 'final' ->> 'n_seen')::int AS final_after;
SELECT ml_detach('trips');
DELETE FROM ml_label_queue WHERE model_name = 'pipe_bikes';
DELETE FROM ml_monitor_inbox WHERE prediction_id IN (SELECT prediction_id FROM ml_prediction_log WHERE model_name = 'pipe_bikes');
DELETE FROM ml_prediction_log WHERE model_name = 'pipe_bikes';
SELECT setval(pg_get_serial_sequence('ml_prediction_log', 'prediction_id'), 1, false) AS log_ids_restart
WHERE NOT EXISTS (SELECT 1 FROM ml_prediction_log WHERE prediction_id > 0);
SELECT ml_unregister('pipe_bikes', force => true);

DROP SCHEMA pipelines CASCADE;
