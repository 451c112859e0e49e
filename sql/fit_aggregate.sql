-- The ml_fit aggregate: one online pass, in ORDER BY order when given; GROUP BY; zero rows;
-- window use; the support functions refuse to be called outside an aggregate.
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA fit_aggregate;
SET search_path = fit_aggregate, public;
SET max_parallel_workers_per_gather = 0;  -- parallel plans are tested in parallel.sql
CREATE TABLE obs AS
SELECT i, (i % 3)::text AS grp,
       jsonb_build_object('a', (i % 7) * 0.5 - 1, 'b', (i % 5) - 2, 'c', 'k' || (i % 4)) AS x,
       ARRAY[(i % 7) * 0.5 - 1, (i % 5) - 2]::float8[] AS arr,
       ((i % 7) * 0.5 - 1) * 2 - ((i % 5) - 2) * 0.5 + 1 AS y,
       (i % 2) AS label
FROM generate_series(1, 300) i;

-- ORDER BY inside the aggregate is respected: a different order gives a different model, the
-- same order the same model, whatever order the rows come in.
SELECT ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i))
     = ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i DESC)) AS asc_equals_desc
FROM obs;
SELECT (SELECT ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i)) FROM obs)
     = (SELECT ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i))
        FROM (SELECT * FROM obs ORDER BY i DESC) reversed) AS same_order_same_model;
SELECT (SELECT ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i DESC)) FROM obs)
     = (SELECT ml_model_bytes(m) FROM (SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y) AS m
                                       FROM (SELECT * FROM obs ORDER BY i DESC) s) t) AS input_order_used_without_order_by;
-- Every form of features; the jsonb and array forms learn the same when the names agree (only
-- the array model records its dimension).
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', arr, y ORDER BY i)::text::jsonb - 'dense_dim'
     = ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object('x1', arr[1], 'x2', arr[2]), y ORDER BY i)::text::jsonb - 'dense_dim'
       AS array_equals_jsonb
FROM obs;
-- A whole row: columns of any type may be ignored (here jsonb and float8[] columns).
SELECT ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["i", "x", "arr", "y"]}', o, y ORDER BY i)) -> 'features' AS features
FROM obs o;
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["i", "x", "y"]}', o, y ORDER BY i) FROM obs o;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["i", "grp", "x", "arr", "y", "label"]}', o, y ORDER BY i)) -> 'features' AS none_left,
       ml_info(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', (SELECT r FROM (SELECT o.i % 10 AS d, o.grp) r), label ORDER BY i)) -> 'features' AS row_features
FROM obs o;
-- The same as ml_fit_one in the same order, and as ml_train with one epoch.
SELECT ml_model_bytes(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": "adam"}', x, label ORDER BY i))
     = ml_model_bytes(ml_model_without_history(ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": "adam"}', 'SELECT x, label FROM obs ORDER BY i', 1)))
       AS same_as_train
FROM obs;
-- Learning converges: the data are y = 2 a - 0.5 b + 1 without noise.
SELECT round((ml_info(m) -> 'weights' ->> 'x1')::numeric, 2) AS w1, round((ml_info(m) -> 'weights' ->> 'x2')::numeric, 2) AS w2,
       round((ml_info(m) ->> 'intercept')::numeric, 2) AS b
FROM (SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"sgd": {"lr": 0.05}}, "intercept_lr": 0.05}',
                      'SELECT arr, y FROM obs ORDER BY i', 20) AS m) s;

-- GROUP BY: one model per group, each the same as training on that group alone.
SELECT grp, ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i)) -> 'n_seen' AS n_seen,
       ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i))
     = (SELECT ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i)) FROM obs o2 WHERE o2.grp = o.grp) AS same
FROM obs o GROUP BY grp ORDER BY grp;
-- Hashed grouping (unordered aggregate) and sorted grouping give the same models.
SET enable_sort = off;
CREATE TABLE by_hash AS SELECT grp, ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y) AS m FROM obs GROUP BY grp;
RESET enable_sort;
SET enable_hashagg = off;
CREATE TABLE by_sort AS SELECT grp, ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y) AS m FROM obs GROUP BY grp;
RESET enable_hashagg;
SELECT grp, ml_info(h.m) -> 'n_seen' AS n_seen FROM by_hash h JOIN by_sort s USING (grp) ORDER BY grp;
-- FILTER and a per-group starting model.
CREATE TABLE starts (grp text, m ml_model);
INSERT INTO starts VALUES ('0', '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'), ('1', '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": "adam"}'),
                          ('2', '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": "ftrl"}');
SELECT s.grp, ml_info(ml_fit(s.m, o.x, o.y ORDER BY o.i) FILTER (WHERE o.i <= 150)) -> 'n_seen' AS n_seen,
       ml_info(ml_fit(s.m, o.x, o.y ORDER BY o.i)) -> 'spec' -> 'optimizer' AS optimizer
FROM starts s JOIN obs o USING (grp) GROUP BY s.grp ORDER BY s.grp;

-- Zero rows: NULL, as SQL's aggregates do; also when the only rows have NULL features or labels
-- the starting model comes back (nothing learned).
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y) IS NULL AS zero_rows FROM obs WHERE false;
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', arr, y ORDER BY i) IS NULL AS zero_rows_ordered FROM obs WHERE false;
SELECT grp, ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y) FROM obs WHERE false GROUP BY grp;
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', NULL::jsonb, y)::text = '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::ml_model::text AS null_features,
       ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, NULL)::text = '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::ml_model::text AS null_labels
FROM obs;
-- NULL features or labels are skipped: the same as leaving the rows out.
SELECT ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', CASE WHEN i % 10 = 0 THEN NULL ELSE x END, y ORDER BY i))
     = ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i) FILTER (WHERE i % 10 <> 0)) AS nulls_skipped
FROM obs;

-- Continuing: a trained starting model keeps learning, and n_seen adds up.
SELECT ml_info(ml_fit(m, x, y ORDER BY i)) -> 'n_seen' AS n_seen,
       ml_model_bytes(ml_fit(m, x, y ORDER BY i))
     = (SELECT ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i)) FROM obs WHERE i <= 200) AS same_as_one_pass
FROM (SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i) AS m FROM obs WHERE i <= 100) s, obs
WHERE obs.i > 100 AND obs.i <= 200 GROUP BY m::text;
-- The result is a plain model (its aggregation bookkeeping reset).
SELECT (ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y)::text::jsonb) -> 'aggregation_base' AS base FROM obs;

-- As a window function: the running model after each row.
SELECT i, ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y) OVER (ORDER BY i)) -> 'n_seen' AS n_seen,
       ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y) OVER (ORDER BY i))
     = (SELECT ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', o2.x, o2.y ORDER BY o2.i)) FROM obs o2 WHERE o2.i <= o.i) AS running
FROM obs o WHERE i <= 5 ORDER BY i;
SELECT grp, i, round(ml_predict_one(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y) OVER w, '{"a": 1, "b": 1}'::jsonb)::numeric, 12) AS p
FROM obs WHERE i <= 6 WINDOW w AS (PARTITION BY grp ORDER BY i) ORDER BY grp, i;
-- Two identical aggregates share one state; each result is right.
SELECT ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i)) = ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i)) AS shared,
       ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i)) -> 'n_seen' AS n_seen
FROM obs;

-- Errors inside the aggregate.
SELECT ml_fit(NULL, x, y) FROM obs;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y) FROM obs;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', CASE WHEN i = 3 THEN ARRAY[1, 2, 3]::float8[] ELSE arr END, y ORDER BY i) FROM obs;
\echo :LAST_ERROR_SQLSTATE
-- The support functions only run inside the aggregate.
SELECT ml_fit_transition(NULL, '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_combine('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_final('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}')::text = '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::ml_model::text AS final_is_harmless;
