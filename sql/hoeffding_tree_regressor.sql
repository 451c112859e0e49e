-- The Hoeffding tree regressor end to end: ml_fit_one, ml_fit (ORDER BY; refused in parallel
-- plans with a hint), ml_train, ml_predict_one, ml_info and the JSON form showing the tree,
-- text and binary round trips, the memory budget, and bad input with its SQLSTATE. Each file
-- works in its own schema: the files share one database.
CREATE SCHEMA hoeffding_tree_regressor;
SET search_path = hoeffding_tree_regressor, public;

-- user did: fit a tree on a step function: y is 1 for x <= 0.5 and 5 above (x on a grid of
-- eleven values), z is noise. At the 200th row (the grace period) the root splits on x at 0.5
-- (the largest value on the left: river's EBST candidates are the values seen); each side is
-- pure, so the tree predicts the step exactly and stops there.
CREATE TABLE stream AS
SELECT i, (i * 7 % 11) / 10.0 AS x, ((i * 7919) % 1000) / 1000.0 AS z,
       CASE WHEN (i * 7 % 11) / 10.0 <= 0.5 THEN 1.0 ELSE 5.0 END AS y,
       (ARRAY['red', 'green', 'blue'])[1 + i % 3] AS colour
FROM generate_series(0, 999) i;
CREATE TABLE fitted AS
SELECT ml_fit('{"model": "hoeffding_tree_regressor", "leaf_prediction": "mean"}',
              jsonb_build_object('x', x, 'z', z), y ORDER BY i) AS m
FROM stream;
SELECT ml_info(m) ->> 'kind' AS kind, ml_info(m) ->> 'task' AS task, ml_info(m) -> 'n_seen' AS n_seen,
       ml_info(m) -> 'n_nodes' AS nodes, ml_info(m) -> 'n_leaves' AS leaves, ml_info(m) -> 'depth' AS depth,
       ml_info(m) -> 'growth_allowed' AS growing, (ml_info(m) ->> 'tree_bytes')::int > 0 AS has_size
FROM fitted;
-- user did: read the tree (the JSON form): the split's feature and threshold, each side's target.
SELECT t -> 'feature' AS feature, t -> 'threshold' AS threshold, t -> 'target' -> 'n' AS n,
       t -> 'le' -> 'target' AS le_target, t -> 'gt' -> 'target' -> 'mean' AS gt_mean,
       t -> 'le' -> 'active' AS le_active, jsonb_typeof(t -> 'le' -> 'observers' -> 'x') AS x_observer
FROM (SELECT (m::text::jsonb) -> 'state' -> 'tree' AS t FROM fitted) s;
-- Every row of the stream is predicted exactly, by jsonb and by row.
SELECT ml_predict_one(m, '{"x": 0.2, "z": 0.5}'::jsonb) AS at_02, ml_predict_one(m, '{"x": 0.9, "z": 0}'::jsonb) AS at_09,
       (SELECT max(abs(ml_predict_one(f.m, jsonb_build_object('x', s.x, 'z', s.z)) - s.y)) FROM stream s) AS max_error,
       (SELECT max(abs(ml_predict_one(f.m, (SELECT t FROM (SELECT s.x, s.z) t)) - s.y)) FROM stream s) AS row_max_error,
       (SELECT ml_r2(ml_predict_one(f.m, jsonb_build_object('x', s.x, 'z', s.z)), s.y) FROM stream s) AS r2
FROM fitted f;

-- user did: train with arrays (features x1, x2), with ml_train on a categorical feature, with
-- linear ("model") leaves, and one row at a time with every option spelled out in the spec.
SELECT ml_info(m) -> 'n_leaves' AS leaves, ml_predict_one(m, ARRAY[0.8, 0.3]::float8[]) AS at_08,
       (m::text::jsonb) -> 'state' -> 'tree' ->> 'feature' AS split_on
FROM (SELECT ml_fit('{"model": "hoeffding_tree_regressor"}', ARRAY[x, z], y ORDER BY i) AS m FROM stream) a;
SELECT (m::text::jsonb) -> 'state' -> 'tree' ->> 'feature' AS split_on,
       ml_predict_one(m, '{"colour": "red"}'::jsonb) AS red, round(ml_predict_one(m, '{"colour": "blue"}'::jsonb)::numeric, 9) AS blue
FROM (SELECT ml_train('{"model": "hoeffding_tree_regressor", "leaf_prediction": "mean"}',
                      $$SELECT jsonb_build_object('colour', colour), CASE WHEN colour = 'red' THEN 10 ELSE 2 END
                        FROM hoeffding_tree_regressor.stream ORDER BY i$$) AS m) t;
-- A line y = 3a - 2b + 2 in one leaf (no split before row 100000): the leaf's linear model
-- learns it. The JSON form shows its weights, which apply to the features standardized by the
-- tree's scaler (a's weight is 3 times a's standard deviation).
SELECT round((t -> 'model' ->> 'intercept')::numeric, 3) AS intercept,
       round((t -> 'model' -> 'weights' ->> 'a')::numeric, 3) AS w_a,
       round((t -> 'model' -> 'weights' ->> 'b')::numeric, 3) AS w_b,
       round((3 * sqrt((s -> 'a' ->> 'm2')::float8 / ((s -> 'a' ->> 'n')::float8 - 1)))::numeric, 3) AS three_sd_a,
       round(ml_predict_one(m, '{"a": 0.5, "b": -0.5}'::jsonb)::numeric, 3) AS at_point
FROM (SELECT m, (m::text::jsonb) -> 'state' -> 'tree' AS t, (m::text::jsonb) -> 'state' -> 'scaler' AS s
      FROM (SELECT ml_fit('{"model": "hoeffding_tree_regressor", "leaf_prediction": "model", "grace_period": 100000}',
                          jsonb_build_object('a', a, 'b', b), 3 * a - 2 * b + 2 ORDER BY i) AS m
            FROM (SELECT i, sin(i) AS a, cos(3 * i) AS b FROM generate_series(1, 5000) i) s) f) g;
SELECT ml_info(ml_fit_one('{"model": "hoeffding_tree_regressor", "max_depth": 3}', '{"a": 1}'::jsonb, 2.5)) -> 'spec' AS spec;

-- user did: store the tree and read it back: the text and binary round trips are exact.
SELECT m::text::ml_model::text = m::text AS text_round_trip,
       ml_model_from_bytes(ml_model_bytes(m))::text = m::text AS binary_round_trip,
       ml_model_bytes(ml_model_from_bytes(ml_model_bytes(m))) = ml_model_bytes(m) AS same_bytes,
       ml_info(m) -> 'size_bytes' = to_jsonb(length(ml_model_bytes(m))) AS size_is_stored_size
FROM fitted;

-- user did: fit in a parallel plan. Partial trees grown on different rows cannot be merged:
-- the combine step refuses (22023, with the hint to run without parallel workers; the unit test
-- checks the message); when the workers could not start, one process learned every row.
CREATE TABLE big AS SELECT * FROM stream, generate_series(1, 40) k;
ANALYZE big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE FUNCTION parallel_fit() RETURNS text LANGUAGE plpgsql AS $$
DECLARE n text;
BEGIN
  SELECT ml_info(ml_fit('{"model": "hoeffding_tree_regressor"}', jsonb_build_object('x', x), y)) ->> 'n_seen' INTO n FROM big;
  RETURN 'one process learned ' || n || ' rows';
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN CASE WHEN SQLERRM LIKE '%cannot merge partial models%' THEN 'refused' ELSE SQLERRM END;
END $$;
SELECT parallel_fit() IN ('refused', 'one process learned 40000 rows') AS refused_or_whole;
SELECT ml_info(ml_fit('{"model": "hoeffding_tree_regressor"}', jsonb_build_object('x', x), y ORDER BY k, i)) -> 'n_seen' AS n_seen FROM big;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- user did: register the tree, deploy it, score rows by trigger, and feed labels back.
SELECT ml_register('htr_step', m) AS version FROM fitted;
SELECT ml_deploy('htr_step', 1);
SELECT task, kind FROM ml_models WHERE name = 'htr_step';
SELECT ml_predict('htr_step', '{"x": 0.9, "z": 0}'::jsonb) AS by_name;
CREATE TABLE items (id int PRIMARY KEY, x float8, z float8, guess float8, truth float8);
SELECT ml_attach('items', 'htr_step', key => 'id', prediction => 'guess', label => 'truth',
                 features => ARRAY['x', 'z']);
INSERT INTO items (id, x, z) SELECT i, x, z FROM stream WHERE i < 6;
SELECT id, x, guess FROM items ORDER BY id;
UPDATE items SET truth = s.y FROM stream s WHERE s.i = items.id;
SELECT ml_learn_pending('htr_step') AS applied;
SELECT (ml_info(ml_get('htr_step', 1)) ->> 'n_seen')::int AS n_seen FROM (SELECT 1) one;
SELECT ml_detach('items');
DELETE FROM ml_label_queue;
DELETE FROM ml_prediction_log;
SELECT ml_unregister('htr_step', force => true);

-- user did: give the tree a tiny memory budget (max_size in MiB). Past it the tree deactivates
-- its deepest leaves to stay within it; it keeps learning its leaves' targets and predicting.
CREATE TABLE budget AS
SELECT ml_fit('{"model": "hoeffding_tree_regressor", "grace_period": 20, "max_size": 0.01}',
              jsonb_build_object('a', a, 'b', b, 'c', c, 'd', d), sin(6 * a) + 2 * b ORDER BY i) AS m
FROM (SELECT i, ((i * 7919) % 1009) / 1009.0 AS a, ((i * 104729) % 1013) / 1013.0 AS b,
             ((i * 31) % 97) / 97.0 AS c, ((i * 17) % 89) / 89.0 AS d
      FROM generate_series(1, 20000) i) s;
SELECT ml_info(m) -> 'n_seen' AS n_seen,
       (ml_info(m) ->> 'n_active_leaves')::int < (ml_info(m) ->> 'n_leaves')::int AS some_leaves_stopped,
       (ml_info(m) ->> 'n_leaves')::int > 1 AS grew_first,
       (ml_info(m) ->> 'tree_bytes')::int <= 1048576 * 0.01 AS within_budget
FROM budget;
-- A budget smaller than one observing leaf: the tree stops growing for good; it still learns its
-- mean and predicts it.
SELECT ml_info(m) -> 'growth_allowed' AS growing, ml_info(m) -> 'n_nodes' AS nodes,
       (m::text::jsonb) -> 'state' -> 'tree' -> 'target' ->> 'n' AS n,
       round(ml_predict_one(m, '{"a": 3, "b": 1, "c": 0, "d": 0}'::jsonb)::numeric, 9) AS mean
FROM (SELECT ml_fit('{"model": "hoeffding_tree_regressor", "leaf_prediction": "mean", "max_size": 0.0001}',
                    jsonb_build_object('a', i % 7, 'b', i % 5, 'c', 0, 'd', 0), i % 3 ORDER BY i) AS m
      FROM generate_series(1, 3000) i) s;

-- Bad input.
\set VERBOSITY default
-- user did: misspell an option, or give one out of range.
SELECT ml_fit_one('{"model": "hoeffding_tree_regressor", "grace": 10}', '{"a": 1}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "hoeffding_tree_regressor", "leaf_prediction": "nba"}', '{"a": 1}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "hoeffding_tree_regressor", "max_bins": 1}', '{"a": 1}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "hoeffding_tree_regressor", "leaf_learning_rate": 2}', '{"a": 1}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "hoeffding_tree_regressor", "delta": 1}', '{"a": 1}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
-- user did: teach a regressor a class name, or a label too large for its statistics; ask it for
-- a class.
SELECT ml_fit_one(m, '{"x": 1}'::jsonb, 'high') FROM fitted;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one(m, '{"x": 1}'::jsonb, 1e200) FROM fitted;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_class(m, '{"x": 1}'::jsonb) FROM fitted;
\echo :LAST_ERROR_SQLSTATE
-- user did: edit the JSON form by hand: a split on a feature the tree does not know, a negative
-- count, an unknown key; a corrupted byte in the binary form.
SELECT jsonb_set(m::text::jsonb, '{state,tree,feature}', '"nope"')::text::ml_model FROM fitted;
\echo :LAST_ERROR_SQLSTATE
SELECT jsonb_set(m::text::jsonb, '{state,tree,le,target,n}', '-1')::text::ml_model FROM fitted;
\echo :LAST_ERROR_SQLSTATE
SELECT jsonb_set(m::text::jsonb, '{state,tree,colour}', '1')::text::ml_model FROM fitted;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(overlay(ml_model_bytes(m) placing '\xff'::bytea from length(ml_model_bytes(m)) - 20 for 1)) FROM fitted;
\echo :LAST_ERROR_SQLSTATE

DROP SCHEMA hoeffding_tree_regressor CASCADE;
