-- ml_train: several online passes over a query's rows (features, label). Epoch 1 visits the rows
-- in the query's order; later epochs a Fisher-Yates permutation driven by SplitMix64(seed).
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA train;
SET search_path = train, public;
CREATE TABLE t10 AS
SELECT i, jsonb_build_object('a', i * 0.3 - 1.5, 'c', 'k' || (i % 3)) AS x,
       ARRAY[i * 0.3 - 1.5, (i % 4) - 1.5]::float8[] AS arr,
       (i * 0.3 - 1.5) * 2 + 1 AS y, (i % 2)::int AS label, (i % 2 = 0) AS flag
FROM generate_series(1, 10) i;
-- The bytes of a model without the training history ml_train records (which ml_fit does not).
CREATE FUNCTION model_bytes(m ml_model) RETURNS bytea LANGUAGE sql AS $$ SELECT ml_model_bytes(ml_model_without_history(m)) $$;
-- Replays a visiting order (one row per visit) with ml_fit ... ORDER BY, for comparison.
CREATE FUNCTION replay(spec ml_model, visits int[]) RETURNS ml_model LANGUAGE sql AS $$
  SELECT ml_fit(spec, t.x, t.y ORDER BY v.n) FROM unnest(visits) WITH ORDINALITY AS v(i, n) JOIN t10 t USING (i)
$$;

-- One epoch is one pass in the query's order.
SELECT model_bytes(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10 ORDER BY i', 1))
     = ml_model_bytes(replay('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9, 10])) AS epoch1_in_order,
       model_bytes(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10 ORDER BY i DESC', 1))
     = ml_model_bytes(replay('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[10, 9, 8, 7, 6, 5, 4, 3, 2, 1])) AS epoch1_desc;
-- Three epochs, seed 0 and seed 42: the permutations (computed independently) are
--   seed 0:  1..10, then 7 4 3 10 9 2 5 8 1 6, then 8 9 6 2 3 10 1 5 4 7
--   seed 42: 1..10, then 1 10 6 9 7 5 8 3 2 4, then 1 4 9 6 5 3 10 8 2 7
--   seed -1: 1..10, then 4 5 3 8 6 1 9 2 10 7, then 7 8 5 1 9 6 4 10 2 3
SELECT model_bytes(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10 ORDER BY i', 3))
     = ml_model_bytes(replay('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}',
         ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 7, 4, 3, 10, 9, 2, 5, 8, 1, 6, 8, 9, 6, 2, 3, 10, 1, 5, 4, 7])) AS seed0,
       model_bytes(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10 ORDER BY i', 3, seed => 42))
     = ml_model_bytes(replay('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}',
         ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 10, 6, 9, 7, 5, 8, 3, 2, 4, 1, 4, 9, 6, 5, 3, 10, 8, 2, 7])) AS seed42,
       model_bytes(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10 ORDER BY i', 3, true, -1))
     = ml_model_bytes(replay('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}',
         ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 4, 5, 3, 8, 6, 1, 9, 2, 10, 7, 7, 8, 5, 1, 9, 6, 4, 10, 2, 3])) AS seed_minus1;
-- Same seed, same model; another seed, another model; no shuffling: every epoch in query order.
SELECT model_bytes(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10 ORDER BY i', 4, seed => 7))
     = model_bytes(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10 ORDER BY i', 4, seed => 7)) AS same_seed,
       model_bytes(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10 ORDER BY i', 4, seed => 7))
     = model_bytes(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10 ORDER BY i', 4, seed => 8)) AS other_seed,
       model_bytes(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10 ORDER BY i', 2, shuffle => false))
     = ml_model_bytes(replay('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])) AS no_shuffle,
       model_bytes(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10 ORDER BY i', 2, shuffle => false))
     = model_bytes(ml_train(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10 ORDER BY i', 1), 'SELECT x, y FROM t10 ORDER BY i', 1)) AS continued;
SELECT ml_info(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10', 25)) -> 'n_seen' AS n_seen;

-- Every form of features and every label type.
SELECT model_bytes(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT arr, y FROM t10 ORDER BY i', 3, seed => 1))
     = model_bytes(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT arr, y::numeric FROM t10 ORDER BY i', 3, seed => 1)) AS numeric_label,
       ml_info(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["i", "x", "arr", "y", "label", "flag"]}', 'SELECT t, y FROM t10 t ORDER BY i')) -> 'n_seen' AS whole_row,
       ml_info(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT s, y FROM t10, LATERAL (SELECT t10.i AS n, t10.i % 2 = 0 AS even) s ORDER BY t10.i')) -> 'features' AS subquery_row;
SELECT model_bytes(ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, label FROM t10 ORDER BY i'))
     = model_bytes(ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, NOT flag FROM t10 ORDER BY i')) AS int_vs_bool,
       model_bytes(ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, label FROM t10 ORDER BY i'))
     = model_bytes(ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, label::int8 FROM t10 ORDER BY i')) AS int_vs_bigint,
       model_bytes(ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, label FROM t10 ORDER BY i'))
     = model_bytes(ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, label::int2 FROM t10 ORDER BY i')) AS int_vs_smallint,
       model_bytes(ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, label FROM t10 ORDER BY i'))
     = model_bytes(ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, label::float4 FROM t10 ORDER BY i')) AS int_vs_real;
-- Rows with a NULL feature or label are skipped; a query with no rows gives NULL, as ml_fit
-- over no rows (coalesce(ml_train(m, q), m) keeps the model).
SELECT ml_info(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT CASE WHEN i > 3 THEN x END, y FROM t10', 2)) -> 'n_seen' AS n_seen,
       ml_info(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, CASE WHEN i > 3 THEN y END FROM t10', 2)) -> 'n_seen' AS n_seen_labels;
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10 WHERE false', 5) IS NULL AS no_rows_null,
       coalesce(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10 WHERE false', 5),
                '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}') = '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}' AS coalesce_keeps;
-- More rows than one fetch batch (10000).
SELECT ml_info(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT ARRAY[i % 10 * 0.1]::float8[], (i % 10) * 0.2 FROM generate_series(1, 25000) i', 2)) -> 'n_seen' AS n_seen;
-- The query may use functions, CTEs, VALUES, TABLE; NULL arguments give NULL (STRICT).
CREATE TABLE pairs AS SELECT x, y FROM t10;
SELECT ml_info(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'TABLE pairs', 2)) -> 'n_seen' AS table_n_seen,
       ml_info(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', $$VALUES ('{"a": 1}'::jsonb, 1.5)$$, 2)) -> 'n_seen' AS values_n_seen;
SELECT ml_info(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', $$WITH d AS (SELECT * FROM (VALUES ('{"a": 1}'::jsonb, 2), ('{"a": 2}', 4)) v(x, y)) SELECT x, y FROM d$$, 3)) -> 'n_seen' AS n_seen;
SELECT ml_train(NULL, 'SELECT x, y FROM t10') IS NULL AS null_model,
       ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', NULL) IS NULL AS null_query,
       ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10', NULL) IS NULL AS null_epochs;

-- Errors.
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10', 0);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10', 100001);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELEC x, y FROM t10');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM no_such_table');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y / 0 FROM t10');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, $1 FROM t10');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'CREATE TABLE nope (a int)');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'INSERT INTO t10 (i) VALUES (11) RETURNING x, y');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'WITH d AS (DELETE FROM t10 RETURNING x, y) SELECT * FROM d');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10 FOR UPDATE');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT 1; SELECT 2');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x FROM t10');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y, label FROM t10');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x FROM t10 WHERE false');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x::text, y FROM t10');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x::json, y FROM t10');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT ARRAY[1, 2], y FROM t10');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT ARRAY[0.5, 2], y FROM t10');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, ARRAY[y] FROM t10');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, ARRAY[y] FROM t10 WHERE false');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT CASE WHEN i = 5 THEN ARRAY[1, 2, 3]::float8[] ELSE arr END, y FROM t10');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT CASE WHEN i = 5 THEN ARRAY[1, NULL]::float8[] ELSE arr END, y FROM t10');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', $$SELECT x, CASE WHEN i = 5 THEN 'NaN'::float8 ELSE y END FROM t10$$);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', $$SELECT x, CASE WHEN i = 5 THEN 'NaN'::numeric ELSE y::numeric END FROM t10$$);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', $$SELECT jsonb_build_object('a', '[1]'::jsonb), 1.0$$);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT t, y FROM t10 t');
\echo :LAST_ERROR_SQLSTATE
-- A failed ml_train leaves the session usable, also inside a subtransaction.
DO $$
BEGIN
  PERFORM ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y / 0 FROM t10');
EXCEPTION WHEN division_by_zero THEN
  RAISE NOTICE 'caught %', SQLSTATE;
END $$;
DO $$
BEGIN
  PERFORM ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x FROM t10');
EXCEPTION WHEN invalid_parameter_value THEN
  RAISE NOTICE 'caught %', SQLSTATE;
END $$;
SELECT ml_info(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT x, y FROM t10')) -> 'n_seen' AS still_works;
