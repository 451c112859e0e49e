-- Error paths, each with its SQLSTATE. Bad input is an error, never a crash or a stored NaN.
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA errors;
SET search_path = errors, public;

-- Malformed model text (22P02) and unknown names (22023).
SELECT '{"model": linear_regression}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT 'null'::ml_model;
\echo :LAST_ERROR_SQLSTATE
-- A repeated key: the last one wins, as in jsonb.
SELECT ml_info('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": "sgd", "optimizer": "adam"}') -> 'spec' -> 'optimizer' AS last_key_wins;
SELECT '{"model": "Linear_Regression"}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
-- Option errors print the value as given and the bound exactly (beta1's bound is 0.999999999).
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"adam": {"beta1": 1.5}}}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"sgd": {"lr": -1}}}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "intercept_init": -2.5e12}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 40}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 12.0}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
-- A number beyond the range of float8 is named (22003, as float8 input does), not "not valid JSON".
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "l2": 1e400}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"adam": {"beta1": -1E+309}}}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
-- A long unknown option is cut in the message at a character boundary.
SELECT ('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "' || repeat('o', 63) || 'é' || repeat('x', 100) || '": 1}')::ml_model;
\echo :LAST_ERROR_SQLSTATE

-- jsonb features must be an object of scalars (22023).
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '3'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '[1, 2]'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '"a"'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1, "b": {"c": 2}}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": [1, 2]}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": {}}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
-- A long key is cut in the message at a character boundary (63 ASCII bytes, then a 2-byte "é").
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object(repeat('a', 63) || 'éz', '[1]'::jsonb));
\echo :LAST_ERROR_SQLSTATE

-- NaN and infinite features (22003), in every form.
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1, 'NaN']::float8[], 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY['Infinity', 1]::float8[], 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1, '-Infinity']::float8[]);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1, 2]::float8[], 1), ARRAY[1, 'NaN']::float8[]);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', (SELECT r FROM (SELECT 'NaN'::float8 AS a) r), 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1e400}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
-- Long names are cut in these messages at a character boundary: 63 ASCII bytes, then "é" over
-- bytes 64 and 65; 62 bytes, then a 4-byte emoji over bytes 63 to 66.
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object(repeat('a', 63) || 'éz', 1e400), 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object(repeat('b', 62) || '😀z', -1e400), 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "missing": "error"}', jsonb_build_object(repeat('c', 63) || 'éz', NULL), 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "missing": "error"}', jsonb_build_object(repeat('é', 40), NULL));
\echo :LAST_ERROR_SQLSTATE

-- Labels: finite for regression; 0 or 1 for a classifier.
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 'NaN');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1]::float8[], 'Infinity');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', (SELECT r FROM (SELECT 1 AS a) r), '-Infinity');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 2);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1]::float8[], -1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', (SELECT r FROM (SELECT 1 AS a) r), 0.5);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 'NaN');
\echo :LAST_ERROR_SQLSTATE
-- -0 is the class 0.
SELECT ml_info(ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, '-0')) -> 'intercept' AS minus_zero;

-- Arrays: one dimension, no NULLs, not empty, the model's length.
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1, NULL]::float8[], 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[NULL]::float8[]);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{}'::float8[], 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{}'::float8[]);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{{1, 2}, {3, 4}}'::float8[], 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1, 2]::float8[], 1), ARRAY[1, 2, 3]::float8[]);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1, 2]::float8[], 1), ARRAY[1]::float8[], 1);
\echo :LAST_ERROR_SQLSTATE
-- More than 2^22 elements (54000).
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', array_fill(0::float8, ARRAY[4194305]));
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', array_fill(0::float8, ARRAY[4194305]), 1);
\echo :LAST_ERROR_SQLSTATE

-- NULL model (22004) where a model is needed.
SELECT ml_fit_one(NULL, '{"a": 1}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit(NULL::ml_model, x, 1) FROM (VALUES ('{"a": 1}'::jsonb)) v(x);
\echo :LAST_ERROR_SQLSTATE

-- A model that diverges is an error (22003), never a stored infinity or NaN.
-- One step: the weight would be 1e6 * 2 * 1e303 = 2e309.
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"sgd": {"lr": 1e6}}}', '{"a": 1e303}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1e200}'::jsonb, 1), '{"a": 1e200}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"sgd": {"lr": 10}}, "clip_gradient": 1e300}', ARRAY[1e100]::float8[], i ORDER BY i)
FROM generate_series(1, 10) i;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"sgd": {"lr": 10}}, "clip_gradient": 1e300}', 'SELECT ARRAY[1e100]::float8[], i FROM generate_series(1, 10) i');
\echo :LAST_ERROR_SQLSTATE
-- Clipping the gradient keeps the same data finite (each step moves a weight by at most 10 * 1 * 1e100).
SELECT (ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"sgd": {"lr": 10}}, "clip_gradient": 1}', ARRAY[1e100]::float8[], i ORDER BY i)) -> 'n_seen') AS clipped
FROM generate_series(1, 10) i;

-- After each error, the functions and their per-query caches work as before.
CREATE TABLE stream AS SELECT i, jsonb_build_object('a', i % 5) AS x, (i % 3)::float8 AS y FROM generate_series(1, 50) i;
DO $$
DECLARE m ml_model := '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}';
BEGIN
  m := ml_fit_one(m, '{"a": 1}'::jsonb, 1);
  BEGIN
    m := ml_fit_one(m, '{"a": 1}'::jsonb, 'NaN');
  EXCEPTION WHEN numeric_value_out_of_range THEN
    RAISE NOTICE 'caught %: %', SQLSTATE, SQLERRM;
  END;
  m := ml_fit_one(m, '{"a": 2}'::jsonb, 2);
  RAISE NOTICE 'n_seen %', ml_info(m) -> 'n_seen';
  IF ml_model_bytes(m) <> ml_model_bytes(ml_fit_one(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 1), '{"a": 2}'::jsonb, 2)) THEN
    RAISE EXCEPTION 'the failed update leaked into the model';
  END IF;
END $$;
SELECT ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i)) -> 'n_seen' AS n_seen FROM stream;
