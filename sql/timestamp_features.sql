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
