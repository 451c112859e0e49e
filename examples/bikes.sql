-- pg_learn example: creme's bike-sharing stations, a static model against an online pipeline.
--   A city's bike-sharing scheme: 30 stations (31 from day 12), hour by hour for three weeks, the
--   rentals each station sees in each hour. The model of each is creme's pipeline (docs/pipelines.md):
--     select the weather, take the hour of the timestamp, the mean rentals of the (station, hour)
--     so far, the exponentially weighted mean of the station's rentals, a standard scaler and a
--     linear regression. The aggregates live in the model: the scoring trigger computes them
--     exactly as training did.
--   Both models learn week 1 (days 0-6, read with ml_train from a table with a timestamptz column).
--   Then days 7-20 stream in, an hour at a time, into two tables attached to them: each row is
--   scored on INSERT and logged; its rentals (the label) arrive at the end of the hour.
--     bikes_static never learns again; bikes_online learns every label (ml_learn_pending) before
--     the next hour is scored: predict, then learn.
--   On day 12 a large station, S31, opens next to S05 and S06, which lose most of their riders
--   to it, and an office district makes S10-S14 busier. ml_model_metrics shows the static model
--   degrade and the online one hold: the mean absolute error by day.
-- No pg_cron needed: the jobs it would run every minute are called directly. Run on a throwaway
-- database as a superuser (it resets pg_learn's monitoring windows, and moves logged predictions
-- to their simulated times):   psql -X -f examples/bikes.sql
\set ON_ERROR_STOP on
\set QUIET on
\pset footer off
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bikes CASCADE;
CREATE SCHEMA bikes;
SET search_path = bikes, public;
CREATE EXTENSION IF NOT EXISTS pg_learn WITH SCHEMA public;
\o /dev/null
-- Start from scratch: no models 'bikes_static' and 'bikes_online', no log of them, no windows.
DELETE FROM ml_label_queue WHERE model_name IN ('bikes_static', 'bikes_online');
DELETE FROM ml_prediction_log WHERE model_name IN ('bikes_static', 'bikes_online');
SELECT ml_unregister(name, force => true) FROM ml_model_names WHERE name IN ('bikes_static', 'bikes_online');
SELECT ml_monitor_reset();
SELECT ml_monitor_set('bucket_width', '1 day');       -- one window per simulated day
\o

-- The world: 30 stations of a bike-sharing city, hour by hour for three weeks from Monday
-- 2026-05-04 (days 0-20), and the rentals each station saw in each hour. Demand is a station's
-- size times the hour's profile (commuter peaks at 8:00 and 18:00 on weekdays, one broad
-- afternoon peak at weekends), times the weather (warmth helps, rain and wind hurt), with
-- Poisson-like noise. On day 12 (a Saturday) the city changes: a large station, S31, opens
-- beside S05 and S06, which lose 60% of their riders to it, and an office district opens around
-- S10-S14, whose riders grow by 80%.
SET max_parallel_workers_per_gather = 0;   -- one random() sequence: the same world every run
\o /dev/null
SELECT setseed(0.14);
\o
CREATE TABLE weather AS
SELECT d, h,
       round((14 + day_temp + 6 * sin(2 * pi() * (h - 9) / 24) + 1.5 * (random() - 0.5))::numeric, 1)::float8 AS temperature,
       CASE WHEN random() < rain_p THEN round((random() * 6)::numeric, 1)::float8 ELSE 0 END AS rain,
       round((day_wind + 8 * random())::numeric, 1)::float8 AS wind
FROM (SELECT d, 8 * (random() - 0.5) AS day_temp, CASE WHEN random() < 0.3 THEN 0.5 ELSE 0.05 END AS rain_p,
             10 * random() AS day_wind
      FROM generate_series(0, 20) AS d) AS days,
     generate_series(0, 23) AS h
ORDER BY d, h;
CREATE TABLE stations AS
SELECT format('S%s', lpad(i::text, 2, '0')) AS station,
       CASE WHEN i = 31 THEN 24 ELSE 2 + (i * 37) % 17 END AS size,
       CASE WHEN i = 31 THEN 12 ELSE 0 END AS opens_on
FROM generate_series(1, 31) AS i;
CREATE TABLE world (id bigint PRIMARY KEY, at timestamptz NOT NULL, day int NOT NULL, station text NOT NULL,
                    temperature float8, rain float8, wind float8, rentals int NOT NULL);
INSERT INTO world
SELECT row_number() OVER (ORDER BY d, h, station), at, d, station, temperature, rain, wind,
       greatest(0, round(mu + sqrt(mu) * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())))::int
FROM (SELECT w.d, w.h, s.station, w.temperature, w.rain, w.wind,
             timestamptz '2026-05-04 00:00:00+00' + w.d * interval '1 day' + w.h * interval '1 hour' AS at,
             s.size * CASE WHEN w.d < 12 THEN 1 WHEN s.station IN ('S05', 'S06') THEN 0.4
                           WHEN s.station BETWEEN 'S10' AND 'S14' THEN 1.8 ELSE 1 END
             * CASE WHEN (w.d % 7) < 5   -- Monday to Friday
                    THEN 0.1 + 1.6 * exp(-((w.h - 8) ^ 2) / 2.0) + 1.4 * exp(-((w.h - 18) ^ 2) / 3.0)
                         + 0.5 * exp(-((w.h - 13) ^ 2) / 8.0)
                    ELSE 0.1 + 1.2 * exp(-((w.h - 14) ^ 2) / 12.0) END
             * exp(0.04 * (w.temperature - 14) - 0.3 * w.rain - 0.02 * w.wind) AS mu
      FROM weather w JOIN stations s ON w.d >= s.opens_on
      ORDER BY w.d, w.h, s.station) AS g;

-- 1. Week 1 (days 0-6, 5,040 rows, in time order, one pass) teaches the pipeline; the same
-- trained value is registered twice. The final model is pg_learn's linear regression, which
-- learns a standardised label (scale_target): creme's intercept_lr of 0.5, meant for raw counts
-- and plain SGD, would swing its intercept by half a standard deviation a row; AdaGrad with a
-- step of 0.5 learns week 1 in one pass instead. The timestamptz column "at" reaches the date_parts step as seconds since
-- 1970 (docs/features.md); its hour, "at_hour", is one of the keys of the first aggregate.
\if :{?spec}
\else
\set spec '{"pipeline": [{"select": ["temperature", "rain", "wind"]}, {"date_parts": {"column": "at", "parts": ["hour"]}}, {"target_agg": {"by": ["station", "at_hour"], "how": "mean"}}, {"target_agg": {"by": "station", "how": {"ewmean": 0.5}}}, "standard_scaler", {"linear_regression": {"optimizer": {"adagrad": {"lr": 0.5}}}}]}'
\endif
CREATE TABLE week1 AS
SELECT ml_train(:'spec', 'SELECT station, at, temperature, rain, wind, rentals FROM bikes.world WHERE day < 7 ORDER BY id',
                label => 'rentals', epochs => 1) AS model;
\o /dev/null
SELECT ml_register('bikes_static', model, notes => 'week 1, never trained again') FROM week1;
SELECT ml_register('bikes_online', model, notes => 'week 1, then every label') FROM week1;
SELECT ml_deploy('bikes_static', 1), ml_deploy('bikes_online', 1);
\o

-- 2. The stream: two tables with the same rows, one per model, scored on INSERT into
-- "predicted". Attachments read numeric, boolean and text columns: the hour's start is kept as
-- seconds since 1970 in "at", the number the pipeline read from week 1's timestamptz.
CREATE TABLE rides_static (id bigint PRIMARY KEY, station text NOT NULL, at float8 NOT NULL, temperature float8,
                           rain float8, wind float8, predicted float8, rentals int);
CREATE TABLE rides_online (LIKE rides_static INCLUDING ALL);
\o /dev/null
SELECT ml_attach('rides_static', 'bikes_static', key => 'id', prediction => 'predicted', label => 'rentals');
SELECT ml_attach('rides_online', 'bikes_online', key => 'id', prediction => 'predicted', label => 'rentals');
\o

-- One simulated day, hour by hour: the hour's rows arrive and are scored by both models; at the
-- end of the hour their rentals arrive as UPDATEs (the labels); bikes_online learns them
-- before the next hour (bikes_static's stay queued: it never learns). Then the day's log rows
-- are moved to their simulated times (predicted at the start of the hour, labelled an hour
-- later; only these dates are rewritten) and rolled up into the day's window.
CREATE FUNCTION replay_day(d int) RETURNS TABLE (day int, scored bigint, learned bigint, events_rolled_up bigint)
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    day := d;
    scored := 0;
    learned := 0;
    FOR h IN 0..23 LOOP
        INSERT INTO bikes.rides_static (id, station, at, temperature, rain, wind)
        SELECT w.id, w.station, extract(epoch FROM w.at), w.temperature, w.rain, w.wind
        FROM bikes.world w WHERE w.day = d AND extract(hour FROM w.at AT TIME ZONE 'UTC') = h ORDER BY w.id;
        GET DIAGNOSTICS n = ROW_COUNT;
        scored := scored + n;
        INSERT INTO bikes.rides_online SELECT id, station, at, temperature, rain, wind FROM bikes.rides_static
        WHERE id IN (SELECT w.id FROM bikes.world w WHERE w.day = d AND extract(hour FROM w.at AT TIME ZONE 'UTC') = h)
        ORDER BY id;
        UPDATE bikes.rides_static r SET rentals = w.rentals FROM bikes.world w
        WHERE w.id = r.id AND w.day = d AND extract(hour FROM w.at AT TIME ZONE 'UTC') = h;
        UPDATE bikes.rides_online r SET rentals = w.rentals FROM bikes.world w
        WHERE w.id = r.id AND w.day = d AND extract(hour FROM w.at AT TIME ZONE 'UTC') = h;
        learned := learned + ml_learn_pending('bikes_online');
    END LOOP;
    UPDATE ml_prediction_log l SET predicted_at = w.at, labeled_at = w.at + interval '1 hour'
    FROM bikes.world w
    WHERE l.model_name IN ('bikes_static', 'bikes_online') AND w.id = l.key::bigint AND w.day = d;
    events_rolled_up := ml_monitor_refresh();
    RETURN NEXT;
END $$;

\echo
\echo 'Days 7-20 stream in (on day 12 station S31 opens):'
SELECT (replay_day(d)).* FROM generate_series(7, 20) AS d;

\echo 'Mean absolute error by day (ml_model_metrics, metric mae; the mean rentals per station-hour'
\echo 'for scale). The static model''s aggregates froze with week 1, and from day 12 it degrades;'
\echo 'the online pipeline keeps learning and holds:'
SELECT time::date AS day, to_char(time, 'Dy') AS dow,
       max(value) FILTER (WHERE metric = 'predictions' AND model = 'bikes_online')::int AS predictions,
       round(max(value) FILTER (WHERE metric = 'label_mean' AND model = 'bikes_online')::numeric, 2) AS mean_rentals,
       round(max(value) FILTER (WHERE metric = 'mae' AND model = 'bikes_static')::numeric, 3) AS static_mae,
       round(max(value) FILTER (WHERE metric = 'mae' AND model = 'bikes_online')::numeric, 3) AS online_mae
FROM ml_model_metrics WHERE model IN ('bikes_static', 'bikes_online') AND variant = 'production'
GROUP BY time ORDER BY time;

\echo 'The new station S31, its neighbours S05 and S06, S12 of the office district and S01, days 12-20'
\echo '(MAE from the prediction log):'
SELECT l.features ->> 'station' AS station,
       round(avg(abs(l.score - l.label)) FILTER (WHERE l.model_name = 'bikes_static')::numeric, 3) AS static_mae,
       round(avg(abs(l.score - l.label)) FILTER (WHERE l.model_name = 'bikes_online')::numeric, 3) AS online_mae
FROM ml_prediction_log l
WHERE l.model_name IN ('bikes_static', 'bikes_online') AND l.predicted_at >= '2026-05-16'
  AND l.features ->> 'station' IN ('S01', 'S05', 'S06', 'S12', 'S31')
GROUP BY 1 ORDER BY 1;

\echo 'The models (ml_versions); the static one''s labels were never learned (pending):'
SELECT 'bikes_static' AS model, version, n_seen, notes, ml_pending_labels('bikes_static') AS pending_labels
FROM ml_versions('bikes_static')
UNION ALL
SELECT 'bikes_online', version, n_seen, notes, ml_pending_labels('bikes_online') FROM ml_versions('bikes_online');
