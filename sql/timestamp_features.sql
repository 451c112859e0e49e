-- Timestamp, timestamptz and date columns of a row as features (docs/features.md, "Timestamps"):
-- a model that reads timestamps (a pipeline with a date_parts step, Model::reads_timestamps)
-- gets them as numbers of seconds since 1970-01-01 00:00:00 (a timestamptz as its UTC wall
-- clock, a date at midnight); any other model refuses such a column (42804) with a hint naming
-- the date_parts step, unless its spec ignores the column.
CREATE SCHEMA timestamp_features;
SET search_path = timestamp_features, public;
\set VERBOSITY default
\set lin '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'

CREATE TABLE rentals (station text, at timestamp, at_utc timestamptz, day date, temperature float8, open boolean, n int);
INSERT INTO rentals VALUES
    ('S01', '2026-03-02 08:00:00', '2026-03-02 08:00:00+00', '2026-03-02', 11.5, true, 14),
    ('S02', '2026-03-02 17:30:00', '2026-03-02 18:30:00+01', '2026-03-02', 13.0, true, 9),
    ('S01', '2026-03-07 12:15:30.25', '2026-03-07 12:15:30.25+00', '2026-03-07', 15.5, false, 3);

-- user did: ml_fit_one of a linear model on a row with a timestamp column
SELECT ml_fit_one(:'lin', r, 1) FROM (SELECT temperature, at FROM rentals LIMIT 1) r;
\echo :LAST_ERROR_SQLSTATE
-- user did: the same with a timestamptz column, and with a date column
SELECT ml_fit_one(:'lin', r, 1) FROM (SELECT temperature, at_utc FROM rentals LIMIT 1) r;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one(:'lin', r, 1) FROM (SELECT temperature, day FROM rentals LIMIT 1) r;
\echo :LAST_ERROR_SQLSTATE
-- user did: ml_fit over a whole table row (the label named by its column) with a linear model
SELECT ml_fit(:'lin', r, 'n'::name) FROM rentals r;
\echo :LAST_ERROR_SQLSTATE
-- user did: ml_train of a linear model on a query returning timestamp columns
SELECT ml_train(:'lin', 'SELECT temperature, at, n FROM timestamp_features.rentals', label => 'n');
\echo :LAST_ERROR_SQLSTATE
-- user did: scored such a row with ml_predict_one (a model trained on other columns)
SELECT ml_predict_one(ml_fit_one(:'lin', '{"temperature": 1}'::jsonb, 1), r) FROM (SELECT temperature, at FROM rentals LIMIT 1) r;
\echo :LAST_ERROR_SQLSTATE
-- user did: listed the timestamp columns in the spec's "ignore": they are left out, as before
-- (the same predictions as a model of the same spec trained on the rows without them)
\set lin_ign '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["at", "at_utc", "day"]}'
SELECT bool_and(ml_predict_one(f.m, s.r) = ml_predict_one(f2.m, s.r2)) AS ignored_timestamps_left_out, count(*)
FROM (SELECT ml_fit(:'lin_ign', r, 'n'::name ORDER BY r.n) AS m FROM rentals r) f,
     (SELECT ml_fit(:'lin_ign', r, 'n'::name ORDER BY r.n) AS m FROM (SELECT station, temperature, open, n FROM rentals) r) f2,
     (SELECT r, r2 FROM rentals r0
      CROSS JOIN LATERAL (SELECT r0.station, r0.at, r0.at_utc, r0.day, r0.temperature, r0.open) r
      CROSS JOIN LATERAL (SELECT r0.station, r0.temperature, r0.open) r2) s;

-- user did: named a timestamp column as the label: a timestamp is no label, whatever the model
SELECT ml_fit(:'lin', r, 'at'::name) FROM (SELECT temperature, at FROM rentals) r;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train(:'lin', 'SELECT temperature, day FROM timestamp_features.rentals', label => 'day');
\echo :LAST_ERROR_SQLSTATE

-- A pipeline with a date_parts step reads timestamps (Model::reads_timestamps): the glue hands
-- the row's timestamp, timestamptz and date columns over as seconds since 1970-01-01.
-- The groups of a target aggregate by the parts are the parts the step took: hours 8 and 17 (the
-- timestamp's wall clock), 8 and 17 UTC (the timestamptz 18:30+01), 12 (12:15:30.25). Its group
-- keys, from the JSON form (the parts joined by U+001F, shown as " / "):
CREATE FUNCTION group_keys(m ml_model, step int) RETURNS text LANGUAGE sql AS
$$ SELECT string_agg(replace(k, chr(31), ' / '), ', ' ORDER BY k)
   FROM jsonb_array_elements_text((m::text::jsonb) -> 'state' -> step -> 'keys') k $$;
\set by_hour '{"pipeline": [{"date_parts": {"column": "at", "parts": ["hour", "weekday", "yearday"]}}, {"target_agg": {"by": ["at_hour", "at_weekday", "at_yearday"], "how": "count"}}, {"linear_regression": {}}]}'
\set by_hour_utc '{"pipeline": [{"date_parts": {"column": "at_utc", "parts": ["hour", "weekday", "yearday"]}}, {"target_agg": {"by": ["at_utc_hour", "at_utc_weekday", "at_utc_yearday"], "how": "count"}}, {"linear_regression": {}}]}'
\set by_day '{"pipeline": [{"date_parts": {"column": "day", "parts": ["hour", "weekday", "yearday"]}}, {"target_agg": {"by": ["day_hour", "day_weekday", "day_yearday"], "how": "count"}}, {"linear_regression": {}}]}'
-- user did: ml_fit of a pipeline over rows with a timestamp column (hour, weekday 0 = Monday,
-- day of the year: 2026-03-02 is a Monday, day 61; 2026-03-07 a Saturday, day 66)
SELECT group_keys(ml_fit(:'by_hour', r, r.n ORDER BY r.n), 1) AS timestamp_hour_weekday_yearday
FROM (SELECT at, n FROM rentals) r;
-- user did: the same with a timestamptz column, in another session time zone: its UTC wall clock
SET TimeZone = 'America/New_York';
SELECT group_keys(ml_fit(:'by_hour_utc', r, r.n ORDER BY r.n), 1) AS timestamptz_hour_weekday_yearday
FROM (SELECT at_utc, n FROM rentals) r;
RESET TimeZone;
-- user did: the same with a date column: midnight
SELECT group_keys(ml_fit(:'by_day', r, r.n ORDER BY r.n), 1) AS date_hour_weekday_yearday
FROM (SELECT day, n FROM rentals) r;

-- user did: train a pipeline on a mixed-type row (text, timestamp, timestamptz, date, float8,
-- boolean columns): the very model (equal binary forms) that the same
-- rows give as jsonb with the seconds since 1970 that extract(epoch ...) computes (a timestamp
-- without time zone as its wall clock in UTC, a date at midnight). The row's columns are in the
-- jsonb's key order (shorter keys first), so that the models learn their features in one order.
\set mixed '{"pipeline": [{"date_parts": {"column": "at", "parts": ["hour", "weekday"], "encoding": "both"}}, {"date_parts": {"column": "day", "parts": ["weekday"]}}, {"target_agg": {"by": ["station", "at_hour"], "how": "mean"}}, "standard_scaler", {"linear_regression": {}}]}'
CREATE TABLE mixed AS
SELECT (SELECT ml_fit(:'mixed', r, x.n ORDER BY x.n)
        FROM rentals x, LATERAL (SELECT x.at, x.day, x.open, x.at_utc, x.station, x.temperature) r) AS from_rows,
       (SELECT ml_fit(:'mixed', jsonb_build_object('station', station, 'at', extract(epoch FROM at),
                                                   'at_utc', extract(epoch FROM at_utc), 'day', extract(epoch FROM day),
                                                   'temperature', temperature, 'open', open),
                      n ORDER BY n) FROM rentals) AS from_jsonb;
SELECT from_rows = from_jsonb AS same_model, ml_info(from_rows) -> 'features' AS features FROM mixed;
-- and scores a row as that jsonb (ml_predict_one, and ml_predict_one with the ISO-8601 text)
SELECT bool_and(ml_predict_one(from_rows, r) = ml_predict_one(from_rows, jsonb_build_object(
                    'station', station, 'at', extract(epoch FROM at), 'at_utc', extract(epoch FROM at_utc),
                    'day', extract(epoch FROM day), 'temperature', temperature, 'open', open))) AS row_scores_as_jsonb,
       bool_and(ml_predict_one(from_rows, r) = ml_predict_one(from_rows, jsonb_build_object(
                    'station', station, 'at', to_char(at, 'YYYY-MM-DD"T"HH24:MI:SS.US'),
                    'at_utc', extract(epoch FROM at_utc), 'day', extract(epoch FROM day),
                    'temperature', temperature, 'open', open))) AS row_scores_as_iso_text,
       count(*)
FROM mixed, (SELECT at, day, open, at_utc, station, temperature FROM rentals) r;

-- user did: a NULL timestamp: a missing feature (no date parts), learned and scored
\set no_agg '{"pipeline": [{"date_parts": {"column": "at", "parts": ["hour"]}}, {"date_parts": {"column": "day", "parts": ["weekday"]}}, {"linear_regression": {}}]}'
SELECT ml_info(m) -> 'features' AS null_timestamp_features, ml_predict_one(m, r) AS score
FROM (SELECT 'S09'::text AS station, NULL::timestamp AS at, NULL::date AS day, 1.5::float8 AS temperature) r,
     LATERAL (SELECT ml_fit_one(:'no_agg', r, 5) AS m) f;
-- (a target aggregate by a part of that timestamp groups it with the NULL part: one group, whose
-- statistic took the label)
SELECT ml_info(m) -> 'steps' -> 2 -> 'groups' AS groups, (m::text::jsonb) -> 'state' -> 2 -> 'stats' AS stats
FROM (SELECT ml_fit_one(:'mixed', r, 5) AS m
      FROM (SELECT 'S09'::text AS station, NULL::timestamp AS at, NULL::date AS day, 1.5::float8 AS temperature) r) f;
-- user did: 'infinity' in a timestamp or date column: not a finite number of seconds (22003)
SELECT ml_fit_one(:'mixed', r, 5) FROM (SELECT 'S09'::text AS station, 'infinity'::timestamp AS at) r;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one(:'mixed', r, 5) FROM (SELECT 'S09'::text AS station, '-infinity'::date AS day) r;
\echo :LAST_ERROR_SQLSTATE
-- user did: a date before 1970 and a timestamp with a fraction of a second before 1970: negative
-- seconds, the parts of their wall clock (1969-12-31 23:59:59.5 is a Wednesday, hour 23)
SELECT group_keys(ml_fit(:'by_hour', r, 1), 1) AS before_1970
FROM (SELECT timestamp '1969-12-31 23:59:59.5' AS at) r;
-- user did: the exact seconds, before 1970 and far from it: a timestamp that no date_parts step
-- consumes reaches the final model as its number of seconds, the same model as the jsonb of
-- extract(epoch ...) (fractions of a second before 1970 floor to the second below, then add).
SELECT bool_and(ml_fit_one(:'no_agg', r, 5)
                = ml_fit_one(:'no_agg', jsonb_build_object('at', extract(epoch FROM r.at), 't2', extract(epoch FROM r.t2),
                                                           'day', extract(epoch FROM r.day)), 5)) AS same_seconds,
       count(*)
FROM (VALUES (timestamp '1969-12-31 23:59:59.5', timestamptz '1969-12-31 23:59:59.999999+00', date '1900-02-28'),
             (timestamp '2026-03-07 12:15:30.000001', timestamptz '4000-01-01 00:00:00.5-03', date '2100-12-31'),
             (timestamp '0044-03-15 12:00:00 BC', timestamptz '1970-01-01 00:00:00+00', date '1970-01-01')) v(a, b, c),
     LATERAL (SELECT v.a AS at, v.b AS t2, v.c AS day) r;

-- user did: attach a table with a timestamptz column to a pipeline that reads it (date_parts):
-- the trigger scores each INSERT from the row's own timestamp, as the jsonb of its seconds
-- scores; the log holds the seconds, and a label teaches the version through them.
\set VERBOSITY default
\set att '{"pipeline": [{"date_parts": {"column": "at", "parts": ["hour"]}}, {"target_agg": {"by": ["station", "at_hour"], "how": "mean"}}, {"linear_regression": {}}]}'
SELECT ml_register('ts_rides', ml_fit(:'att', jsonb_build_object('station', s, 'at', extract(epoch FROM at)), y ORDER BY at)) AS version
FROM (SELECT 'S' || (i % 3) AS s, timestamptz '2026-01-05 00:00+00' + i * interval '1 hour' AS at,
             (i % 24) + (i % 3) * 10 AS y
      FROM generate_series(0, 499) i) w;
SELECT ml_deploy('ts_rides', 1);
CREATE TABLE rides (id int PRIMARY KEY, station text, at timestamptz, guess float8, riders float8);
SELECT ml_attach('rides', 'ts_rides', key => 'id', prediction => 'guess', label => 'riders', features => ARRAY['station', 'at']);
INSERT INTO rides (id, station, at) VALUES (1, 'S1', '2026-02-01 08:00+00'), (2, 'S2', '2026-02-01 17:00+00');
SELECT r.id,
       r.guess = ml_predict_one(ml_get('ts_rides', 1), jsonb_build_object('station', r.station, 'at', extract(epoch FROM r.at))) AS same_as_jsonb,
       l.features -> 'at' = to_jsonb(extract(epoch FROM r.at)) AS logged_seconds
FROM rides r JOIN ml_prediction_log l ON l.table_name = 'rides'::regclass AND l.key = r.id::text ORDER BY r.id;
UPDATE rides SET riders = 30 WHERE id = 1;
SELECT ml_learn_pending('ts_rides') AS learned;
SELECT (ml_info(ml_get('ts_rides', 1)) ->> 'n_seen')::int AS n_seen;
-- user did: deploy a version that does not read timestamps under that alias: refused (42804),
-- and as a shadow too (a shadow scores every row)
SELECT ml_register('ts_rides', ml_fit_one('{"model": "linear_regression"}', '{"x": 1}'::jsonb, 1)) AS plain;
SELECT ml_deploy('ts_rides', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_deploy('ts_rides', 2, 'plain');
SELECT ml_rollout('ts_rides', 'plain', 'shadow');
\echo :LAST_ERROR_SQLSTATE
-- (the trigger's backstop: a version that does not read timestamps, put under the alias behind
-- ml_deploy's back by editing the registry table, cannot score the row: 42804, nothing inserted)
UPDATE ml_aliases SET version = 2 WHERE name = 'ts_rides' AND alias = 'production';
INSERT INTO rides (id, station, at) VALUES (3, 'S1', '2026-02-02 08:00+00');
\echo :LAST_ERROR_SQLSTATE
UPDATE ml_aliases SET version = 1 WHERE name = 'ts_rides' AND alias = 'production';
SELECT count(*) AS rows FROM rides;
-- user did: attach a version that does not read timestamps to a table with a timestamp feature
CREATE TABLE rides2 (LIKE rides);
SELECT ml_attach('rides2', 'ts_rides', key => 'id', alias => 'plain', prediction => 'guess', features => ARRAY['station', 'at']);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_detach('rides');
DELETE FROM ml_label_queue WHERE model_name = 'ts_rides';
DELETE FROM ml_monitor_inbox WHERE prediction_id IN (SELECT prediction_id FROM ml_prediction_log WHERE model_name = 'ts_rides');
DELETE FROM ml_prediction_log WHERE model_name = 'ts_rides';
SELECT setval(pg_get_serial_sequence('ml_prediction_log', 'prediction_id'), 1, false) AS log_ids_restart
WHERE NOT EXISTS (SELECT 1 FROM ml_prediction_log WHERE prediction_id > 0);
SELECT ml_unregister('ts_rides', force => true);
