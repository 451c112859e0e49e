-- NaN and infinities in jsonb (issue 11, item 4): to_jsonb and jsonb_build_object write a float8
-- NaN or infinity as the strings "NaN", "Infinity", "-Infinity". Such a string is the number it
-- came from, refused as the float8[] and row readers refuse that number (22003, naming the
-- feature), never the category "a=NaN". Other spellings stay categories.
CREATE SCHEMA nan_in_jsonb;
SET search_path = nan_in_jsonb, public;
\set VERBOSITY default

SELECT to_jsonb('NaN'::float8) AS nan, jsonb_build_object('a', 'Infinity'::float8) AS inf,
       jsonb_build_object('a', '-Infinity'::float8) AS minus_inf;

-- user did: ml_fit_one(spec, to_jsonb-built features with a NaN float8, y)
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object('a', 'NaN'::float8), 1);
\echo :LAST_ERROR_SQLSTATE
-- user did: ml_predict_one(m, jsonb_build_object('a', 'Infinity'::float8))
SELECT ml_predict_one(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 1),
                      jsonb_build_object('a', 'Infinity'::float8));
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 1),
                      jsonb_build_object('a', '-Infinity'::float8));
\echo :LAST_ERROR_SQLSTATE
-- The float8[] and row paths refuse the same numbers with the same SQLSTATE.
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY['NaN'::float8], 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', (SELECT r FROM (SELECT 'NaN'::float8 AS a) r), 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', (SELECT r FROM (SELECT 'Infinity'::float8 AS a) r), 1);
\echo :LAST_ERROR_SQLSTATE

-- user did: ml_fit over rows whose jsonb was built from a float8 column holding one NaN
CREATE TABLE readings AS
SELECT i, CASE WHEN i = 7 THEN 'NaN'::float8 ELSE i * 0.5 END AS v, i * 1.0 AS y
FROM generate_series(1, 10) i;
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object('v', v), y ORDER BY i) FROM readings;
\echo :LAST_ERROR_SQLSTATE
-- and ml_train over the same, and ml_fit over the row itself (the same error)
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT jsonb_build_object(''v'', v), y FROM nan_in_jsonb.readings');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', r, y ORDER BY i) FROM (SELECT i, v FROM readings) r JOIN readings USING (i);
\echo :LAST_ERROR_SQLSTATE
-- A NULL (missing) is what a missing value is: the spec's missing policy applies to it.
SELECT ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object('v', nullif(v, 'NaN')), y ORDER BY i)) -> 'n_seen' AS n_seen
FROM readings;
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "missing": "error"}', jsonb_build_object('v', nullif(v, 'NaN')), y ORDER BY i)
FROM readings;
\echo :LAST_ERROR_SQLSTATE

-- Only float8out's exact spellings are numbers: "nan", "inf", "infinity", "+Infinity", "NaN " and
-- "Infinity!" are categories, as any other string.
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}',
    '{"a": "nan", "b": "inf", "c": "infinity", "d": "+Infinity", "e": "NaN ", "f": "Infinity!", "g": "-inf"}'::jsonb, 1)) -> 'features' AS categories;

-- A stored model that learned "a=NaN" as a category before 0.2.0 (the jsonb string was read as
-- a category then) keeps that weight, but a jsonb "NaN" is no longer that category: scoring
-- it is the error above. The category is still reached by a text value 'NaN' (a text column is
-- a category whatever it spells), and a NULL scores as missing.
CREATE TABLE stored AS SELECT '{"pg_learn_model": 1, "kind": "linear_regression", "spec": {"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false},
  "updates": 1, "n_seen": 1, "dense_dim": 0, "intercept": 0, "features": ["a", "a=NaN"],
  "feature_types": ["numeric", "categorical"], "weights": [1, 42]}'::ml_model AS m;
SELECT ml_info(m) -> 'features' AS learned FROM stored;
SELECT ml_predict_one(m, '{"a": "NaN"}'::jsonb) FROM stored;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one(m, (SELECT r FROM (SELECT 'NaN'::text AS a) r)) AS text_column_category,
       ml_predict_one(m, '{"a": null}'::jsonb) AS missing,
       ml_predict_one(m, '{"a": 3}'::jsonb) AS number
FROM stored;

-- user did: ml_predict('name', jsonb) and ml_learn('name', jsonb, y) on a registered model
SELECT ml_register('nan_in_jsonb_m', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 1));
SELECT ml_deploy('nan_in_jsonb_m', 1);
SELECT ml_predict('nan_in_jsonb_m', jsonb_build_object('a', 'NaN'::float8));
\echo :LAST_ERROR_SQLSTATE
SELECT ml_learn('nan_in_jsonb_m', jsonb_build_object('a', '-Infinity'::float8), 1);
\echo :LAST_ERROR_SQLSTATE

-- The prediction log writes a text column as a string: a text feature 'NaN' of an attached table
-- is logged as "NaN" and learned back as the category it was scored as (not refused).
CREATE TABLE visits (id int PRIMARY KEY, browser text, score float8, converted float8);
SELECT ml_attach('visits', 'nan_in_jsonb_m', key => 'id', prediction => 'score', label => 'converted');
INSERT INTO visits (id, browser) VALUES (1, 'NaN'), (2, 'firefox');
SELECT key, features FROM ml_prediction_log WHERE model_name = 'nan_in_jsonb_m' ORDER BY key;
UPDATE visits SET converted = 1;
SELECT ml_learn_pending('nan_in_jsonb_m') AS learned;
SELECT ml_info(ml_get('nan_in_jsonb_m', 1)) -> 'features' AS features_after_learning;

-- Clean up the shared tables.
SELECT ml_detach('visits');
DELETE FROM ml_prediction_log WHERE model_name = 'nan_in_jsonb_m';
SELECT ml_unregister('nan_in_jsonb_m', force => true);
DROP SCHEMA nan_in_jsonb CASCADE;
