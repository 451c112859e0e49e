-- The Hoeffding tree classifier end to end: ml_fit_one, ml_fit (ORDER BY; refused in parallel
-- plans with a hint), ml_train, ml_predict_class / ml_predict_proba, ml_info and the JSON form
-- showing the tree, text and binary round trips, the registry and trigger scoring with feedback,
-- and bad input with its SQLSTATE. Each file works in its own schema: the files share one database.
CREATE SCHEMA hoeffding_tree;
SET search_path = hoeffding_tree, public;

-- user did: fit a tree on a stream where x separates the classes and z is noise. At the 200th
-- row (the grace period) the first split attempt splits on x halfway between the bins of 1-3 and
-- 7-9 (the histogram splitter; x has 6 values, each a bin of its own): at 5.
CREATE TABLE stream AS
SELECT i, CASE WHEN i % 2 = 0 THEN 'low' ELSE 'high' END AS cls,
       (CASE WHEN i % 2 = 0 THEN 1 ELSE 7 END + i % 3)::float8 AS x,
       ((i * 7919) % 1000) / 1000.0 AS z,
       (ARRAY['red', 'green', 'blue'])[1 + i % 3] AS colour
FROM generate_series(0, 999) i;
CREATE TABLE fitted AS
SELECT ml_fit('{"model": "hoeffding_tree_classifier"}', jsonb_build_object('x', x, 'z', z), cls ORDER BY i) AS m
FROM stream;
SELECT ml_info(m) ->> 'kind' AS kind, ml_info(m) ->> 'task' AS task, ml_info(m) -> 'n_seen' AS n_seen,
       ml_info(m) -> 'classes' AS classes, ml_info(m) -> 'n_leaves' AS leaves, ml_info(m) -> 'depth' AS depth,
       ml_info(m) -> 'growth_allowed' AS growing
FROM fitted;
-- user did: read the tree (the JSON form): the split's feature and threshold, the leaves' counts.
SELECT t -> 'feature' AS feature, round((t ->> 'threshold')::numeric, 12) AS threshold,
       round((3 + 7) / 2.0, 12) AS by_hand,
       t -> 'le' -> 'class_counts' AS le_counts, t -> 'gt' -> 'class_counts' AS gt_counts,
       t -> 'le' -> 'active' AS le_active
FROM (SELECT (m::text::jsonb) -> 'state' -> 'tree' AS t FROM fitted) s;
-- user did: choose river's Gaussian splitter: the first of its 10 thresholds evenly spaced between
-- 1 and 9 that separates 1-3 from 7-9, 1 + 3 * 8/11.
SELECT round((((ml_fit('{"model": "hoeffding_tree_classifier", "splitter": "gaussian"}', jsonb_build_object('x', x, 'z', z), cls ORDER BY i))::text::jsonb)
              -> 'state' -> 'tree' ->> 'threshold')::numeric, 12) AS gaussian_threshold,
       round(1 + 24 / 11.0, 12) AS by_hand
FROM stream;
SELECT ml_predict_class(m, '{"x": 2, "z": 0.5}'::jsonb) AS at_2, ml_predict_class(m, '{"x": 8}'::jsonb) AS at_8,
       ml_predict_proba(m, '{"x": 8, "z": 0.1}'::jsonb) AS proba_at_8
FROM fitted;
-- Every row of the stream is classified right, by jsonb and by row.
SELECT ml_accuracy(ml_class_state(s.cls, ml_predict_class(f.m, jsonb_build_object('x', s.x, 'z', s.z)))) AS accuracy,
       ml_accuracy(ml_class_state(s.cls, ml_predict_class(f.m, (SELECT t FROM (SELECT s.x, s.z) t)))) AS row_accuracy
FROM stream s, fitted f;

-- user did: train with arrays (features x1, x2), with ml_train, and with a categorical feature.
SELECT ml_info(m) -> 'n_leaves' AS leaves, ml_predict_class(m, ARRAY[8, 0.3]::float8[]) AS at_8,
       (m::text::jsonb) -> 'state' -> 'tree' ->> 'feature' AS split_on
FROM (SELECT ml_fit('{"model": "hoeffding_tree_classifier"}', ARRAY[x, z], cls ORDER BY i) AS m FROM stream) a;
SELECT (m::text::jsonb) -> 'state' -> 'tree' ->> 'feature' AS split_on, ml_predict_class(m, '{"colour": "red"}'::jsonb) AS red,
       ml_predict_class(m, '{"colour": "blue"}'::jsonb) AS blue
FROM (SELECT ml_train('{"model": "hoeffding_tree_classifier", "leaf_prediction": "mc"}',
                      $$SELECT jsonb_build_object('colour', colour), colour = 'red' FROM hoeffding_tree.stream ORDER BY i$$) AS m) t;
-- One row at a time, with every option spelled out in the stored spec.
SELECT ml_info(ml_fit_one('{"model": "hoeffding_tree_classifier", "split_criterion": "gini", "max_depth": 3}', '{"a": 1}'::jsonb, 'yes')) -> 'spec' AS spec;

-- user did: store the tree and read it back: the text and binary round trips are exact.
SELECT m::text::ml_model::text = m::text AS text_round_trip,
       ml_model_from_bytes(ml_model_bytes(m))::text = m::text AS binary_round_trip,
       ml_model_bytes(ml_model_from_bytes(ml_model_bytes(m))) = ml_model_bytes(m) AS same_bytes,
       ml_predict_proba(m::text::ml_model, '{"x": 3.5}'::jsonb) = ml_predict_proba(m, '{"x": 3.5}'::jsonb) AS same_scores
FROM fitted;

-- user did: fit in a parallel plan. Partial trees grown on different rows cannot be merged: the
-- combine step refuses with a hint; ORDER BY inside the aggregate keeps the fit sequential.
CREATE TABLE big AS SELECT * FROM stream, generate_series(1, 40) k;
ANALYZE big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT ml_fit('{"model": "hoeffding_tree_classifier"}', jsonb_build_object('x', x), cls) FROM big;
-- When the workers learned rows, the combine step refuses (22023, with the hint to run without
-- parallel workers: test_hoeffding_tree.cpp checks the message); when the workers could not start,
-- one process learned every row. Never a silently merged tree.
CREATE FUNCTION parallel_fit() RETURNS text LANGUAGE plpgsql AS $$
DECLARE n text;
BEGIN
  SELECT ml_info(ml_fit('{"model": "hoeffding_tree_classifier"}', jsonb_build_object('x', x), cls)) ->> 'n_seen' INTO n FROM big;
  RETURN 'one process learned ' || n || ' rows';
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN CASE WHEN SQLERRM LIKE '%cannot merge partial models%' THEN 'refused' ELSE SQLERRM END;
END $$;
SELECT parallel_fit() IN ('refused', 'one process learned 40000 rows') AS refused_or_whole;
SELECT ml_info(ml_fit('{"model": "hoeffding_tree_classifier"}', jsonb_build_object('x', x), cls ORDER BY k, i)) -> 'n_seen' AS n_seen FROM big;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- user did: register the tree, deploy it, score rows by trigger, and feed labels back.
SELECT ml_register('ht_colours', m) AS version FROM fitted;
SELECT ml_deploy('ht_colours', 1);
SELECT task, kind FROM ml_models WHERE name = 'ht_colours';
SELECT ml_predict_class('ht_colours', '{"x": 8}'::jsonb) AS by_name,
       ml_predict_proba('ht_colours', '{"x": 2}'::jsonb) = ml_predict_proba(m, '{"x": 2}'::jsonb) AS same_proba
FROM fitted;
CREATE TABLE items (id int PRIMARY KEY, x float8, z float8, guess text, p float8, truth text);
SELECT ml_attach('items', 'ht_colours', key => 'id', prediction => 'guess', label => 'truth',
                 features => ARRAY['x', 'z'], probability => 'p');
INSERT INTO items (id, x, z) SELECT i, x, z FROM stream WHERE i < 6;
SELECT id, x, guess, p FROM items ORDER BY id;
UPDATE items SET truth = s.cls FROM stream s WHERE s.i = items.id;
SELECT ml_learn_pending('ht_colours') AS applied;
SELECT (ml_info(ml_get('ht_colours', 1)) ->> 'n_seen')::int AS n_seen FROM (SELECT 1) one;
SELECT ml_detach('items');
DELETE FROM ml_label_queue;
DELETE FROM ml_prediction_log;
SELECT ml_unregister('ht_colours', force => true);

-- user did: give the tree a tiny memory budget (max_size in MiB). Past it the tree deactivates
-- its least promising leaves to stay within it, but it keeps learning its leaves' counts and
-- predicting.
CREATE TABLE budget AS
SELECT ml_fit('{"model": "hoeffding_tree_classifier", "grace_period": 20, "max_size": 0.004}',
              jsonb_build_object('a', a, 'b', b, 'c', c, 'd', d), CASE WHEN a * a + b > 0.7 THEN 'in' ELSE 'out' END ORDER BY i) AS m
FROM (SELECT i, ((i * 7919) % 1009) / 1009.0 AS a, ((i * 104729) % 1013) / 1013.0 AS b,
             ((i * 31) % 97) / 97.0 AS c, ((i * 17) % 89) / 89.0 AS d
      FROM generate_series(1, 20000) i) s;
SELECT ml_info(m) -> 'n_seen' AS n_seen, ml_info(m) -> 'growth_allowed' AS growing,
       ml_info(m) -> 'n_active_leaves' AS active_leaves, (ml_info(m) ->> 'n_leaves')::int > 1 AS grew_first,
       (ml_info(m) ->> 'tree_bytes')::int < 2 * 1048576 * 0.004 AS within_budget
FROM budget;
SELECT ml_info(m2) -> 'n_nodes' = ml_info(m) -> 'n_nodes' AS same_shape, ml_info(m2) -> 'n_seen' AS n_seen,
       (m2::text::jsonb) -> 'state' -> 'tree' <> (m::text::jsonb) -> 'state' -> 'tree' AS counts_moved,
       ml_predict_class(m2, '{"a": 0.9, "b": 0.9}'::jsonb) AS at_high
FROM (SELECT m, ml_fit_one(ml_fit_one(m, '{"a": 0.9, "b": 0.9}'::jsonb, 'in'), '{"a": 0.1, "b": 0.1}'::jsonb, 'out') AS m2
      FROM budget) s;

-- A budget smaller than one observing leaf: the root stops observing and the tree stops growing
-- for good; it still counts its classes and predicts the majority.
SELECT ml_info(m) -> 'growth_allowed' AS growing, ml_info(m) -> 'n_nodes' AS nodes,
       (m::text::jsonb) -> 'state' -> 'tree' -> 'class_counts' AS counts,
       ml_predict_class(m, '{"a": 0.9, "b": 0.9, "c": 0, "d": 0}'::jsonb) AS majority
FROM (SELECT ml_fit('{"model": "hoeffding_tree_classifier", "max_size": 0.0001}',
                    jsonb_build_object('a', i % 7, 'b', i % 5, 'c', 0, 'd', 0), CASE WHEN i % 3 = 0 THEN 'in' ELSE 'out' END ORDER BY i) AS m
      FROM generate_series(1, 3000) i) s;

-- Bad input.
\set VERBOSITY default
-- user did: misspell an option, or give one out of range.
SELECT ml_fit_one('{"model": "hoeffding_tree_classifier", "grace": 10}', '{"a": 1}'::jsonb, 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "hoeffding_tree_classifier", "delta": 0}', '{"a": 1}'::jsonb, 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "hoeffding_tree_classifier", "max_depth": 0}', '{"a": 1}'::jsonb, 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "hoeffding_tree_classifier", "split_criterion": "entropy"}', '{"a": 1}'::jsonb, 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "hoeffding_tree_classifier", "leaf_prediction": "mean"}', '{"a": 1}'::jsonb, 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "hoeffding_tree_classifier", "max_size": -1}', '{"a": 1}'::jsonb, 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "hoeffding_tree_classifier", "n_bins": 1}', '{"a": 1}'::jsonb, 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "hoeffding_tree_classifier", "splitter": "exact"}', '{"a": 1}'::jsonb, 'x');
\echo :LAST_ERROR_SQLSTATE
-- user did: ask a classifier for a number, or teach it a fraction.
SELECT ml_predict_one(m, '{"x": 1}'::jsonb) FROM fitted;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one(m, '{"x": 1}'::jsonb, 2.5) FROM fitted;
\echo :LAST_ERROR_SQLSTATE
-- user did: edit the JSON form by hand: a split on a feature the tree does not know, a negative
-- count, an unknown key; a corrupted byte in the binary form.
SELECT jsonb_set(m::text::jsonb, '{state,tree,feature}', '"nope"')::text::ml_model FROM fitted;
\echo :LAST_ERROR_SQLSTATE
SELECT jsonb_set(m::text::jsonb, '{state,tree,le,class_counts,low}', '-1')::text::ml_model FROM fitted;
\echo :LAST_ERROR_SQLSTATE
SELECT jsonb_set(m::text::jsonb, '{state,tree,colour}', '1')::text::ml_model FROM fitted;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(overlay(ml_model_bytes(m) placing '\xff'::bytea from length(ml_model_bytes(m)) - 20 for 1)) FROM fitted;
\echo :LAST_ERROR_SQLSTATE

DROP SCHEMA hoeffding_tree CASCADE;
