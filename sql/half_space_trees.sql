-- Half-Space Trees (kind half_space_trees, task anomaly; docs/models.md, "Half-Space Trees"):
-- learning without labels, the anomaly score as ml_predict_one, ml_info, the text and binary
-- forms, the registry and trigger scoring (labels refused), and bad input.
CREATE SCHEMA half_space_trees;
SET search_path = half_space_trees, public;
SET extra_float_digits = 0;

-- Ordinary points spread over [0.1, 0.5] x [0.1, 0.5], in a fixed order.
CREATE TABLE pts AS
SELECT i, 0.1 + 0.4 * ((i * 37) % 101) / 100.0 AS a, 0.1 + 0.4 * ((i * 53) % 97) / 96.0 AS b
FROM generate_series(1, 600) i;

-- user did: fit the trees with the aggregate over rows, without a label.
CREATE TABLE m AS
SELECT ml_fit('{"model": "half_space_trees", "n_trees": 15, "height": 6, "window_size": 100, "seed": 2}', p ORDER BY p.i) AS m
FROM (SELECT i, a, b FROM pts) p;
SELECT ml_info(m) ->> 'kind' AS kind, ml_info(m) ->> 'task' AS task, ml_info(m) -> 'n_seen' AS n_seen,
       ml_info(m) -> 'features' AS features, ml_info(m) -> 'tree_features' AS tree_features,
       ml_info(m) -> 'windows' AS windows, ml_info(m) -> 'scoring' AS scoring, ml_info(m) -> 'spec' AS spec
FROM m;
-- The id column was a feature too (the spec did not ignore it): the trees use every feature of the
-- first row. With "ignore" they use a and b only.
SELECT ml_info(ml_fit('{"model": "half_space_trees", "ignore": ["i"]}', p)) -> 'tree_features' AS tree_features
FROM (SELECT i, a, b FROM pts) p;

CREATE TABLE m2 AS
SELECT ml_fit('{"model": "half_space_trees", "n_trees": 15, "height": 6, "window_size": 100, "seed": 2}',
              jsonb_build_object('a', a, 'b', b) ORDER BY i) AS m
FROM pts;
-- user did: scored points: a point far from the data scores higher than one inside it; scores are in [0, 1].
SELECT round(ml_predict_one(m, '{"a": 0.3, "b": 0.3}'::jsonb)::numeric, 3) AS inside,
       round(ml_predict_one(m, '{"a": 0.95, "b": 0.95}'::jsonb)::numeric, 3) AS outside,
       ml_predict_one(m, '{"a": 0.95, "b": 0.95}'::jsonb) > ml_predict_one(m, '{"a": 0.3, "b": 0.3}'::jsonb) + 0.2 AS outlier_higher
FROM m2 m;
SELECT bool_and(s BETWEEN 0 AND 1) AS all_in_unit_interval
FROM (SELECT ml_predict_one(m, jsonb_build_object('a', g / 10.0, 'b', h / 10.0)) AS s
      FROM m2 m, generate_series(-2, 12) g, generate_series(-2, 12) h) q;
-- During the first window the score is 0 (river's convention).
SELECT ml_predict_one(ml_fit('{"model": "half_space_trees", "window_size": 100}', jsonb_build_object('a', a) ORDER BY i), '{"a": 5}'::jsonb) AS first_window
FROM pts WHERE i <= 99;
-- ml_predict_class is for classifiers and clustering.
\set VERBOSITY sqlstate
SELECT ml_predict_class(m, '{"a": 0.3}'::jsonb) FROM m2 m;
\set VERBOSITY default

-- user did: ml_fit_one row by row gives the same model as the aggregate; ml_train one pass too.
WITH RECURSIVE steps(i, m) AS (
    SELECT 0, '{"model": "half_space_trees", "n_trees": 15, "height": 6, "window_size": 100, "seed": 2}'::ml_model
    UNION ALL
    SELECT s.i + 1, ml_fit_one(s.m, jsonb_build_object('a', p.a, 'b', p.b)) FROM steps s JOIN pts p ON p.i = s.i + 1
)
SELECT (SELECT m FROM steps ORDER BY i DESC LIMIT 1) = (SELECT m FROM m2) AS same_model;
SELECT ml_model_without_history(ml_train('{"model": "half_space_trees", "n_trees": 15, "height": 6, "window_size": 100, "seed": 2}',
                'SELECT jsonb_build_object(''a'', a, ''b'', b) FROM half_space_trees.pts ORDER BY i',
                epochs => 1, shuffle => false)) = m AS ml_train_same
FROM m2;
-- user did: limits per feature: the trees split [0, 2] for a and [-1, 1] for b.
SELECT ml_info(ml_fit('{"model": "half_space_trees", "limits": {"a": [0, 2], "b": [-1, 1]}, "window_size": 10}', jsonb_build_object('a', a, 'b', b)))
       -> 'tree_features' AS tree_features
FROM pts;

-- user did: text and binary round trips give the same model.
SELECT m::text::ml_model = m AS text_round_trip, ml_model_from_bytes(ml_model_bytes(m)) = m AS binary_round_trip
FROM m2 m;
SELECT jsonb_object_keys((m::text)::jsonb -> 'state') AS state_keys FROM m2 m ORDER BY 1;

-- user did: registered the model, deployed it, and scored rows by name and in a trigger.
SELECT ml_register('hst_pts', m) AS version FROM m2 m;
SELECT ml_deploy('hst_pts', 1);
SELECT ml_predict('hst_pts', '{"a": 0.95, "b": 0.95}'::jsonb) = ml_predict_one(m, '{"a": 0.95, "b": 0.95}'::jsonb) AS same_score
FROM m2 m;
SELECT ml_monitor_set('bucket_width', '1000 days');
CREATE TABLE events (id int PRIMARY KEY, a float8, b float8, score float8, is_fraud float8);
SELECT ml_attach('events', 'hst_pts', key => 'id', prediction => 'score', features => ARRAY['a', 'b']);
INSERT INTO events (id, a, b) VALUES (1, 0.3, 0.3), (2, 0.95, 0.95);
SELECT id, round(score::numeric, 3) AS score, score = ml_predict('hst_pts', jsonb_build_object('a', a, 'b', b)) AS as_predicted
FROM events ORDER BY id;
SELECT key, round(score::numeric, 3) AS logged_score FROM ml_prediction_log WHERE model_name = 'hst_pts' ORDER BY key;
-- user did: read the monitoring views of the attached anomaly model (issue 13): predictions and
-- the distribution of the anomaly scores; no label rows (it learns without labels).
INSERT INTO events (id, a, b) SELECT 10 + i, (i % 10) / 10.0, (i % 7) / 7.0 FROM generate_series(1, 98) i;
SELECT ml_monitor_refresh() >= 100 AS rolled_up;
SELECT metric, round(value::numeric, 3) AS value FROM ml_model_metrics WHERE model = 'hst_pts' ORDER BY time, metric;
SELECT (SELECT value FROM ml_model_metrics WHERE model = 'hst_pts' AND metric = 'score_p95')
       BETWEEN min(score) AND max(score) AS p95_within_scores,
       abs((SELECT value FROM ml_model_metrics WHERE model = 'hst_pts' AND metric = 'score_p50')
           - percentile_disc(0.5) WITHIN GROUP (ORDER BY score)) < 0.05 AS p50_near_median
FROM events;
SELECT metric FROM ml_model_health WHERE model = 'hst_pts' ORDER BY metric;
SELECT metric, value FROM ml_model_health_history WHERE model = 'hst_pts' ORDER BY metric;
SELECT ml_detach('events');
-- user did: attached with a label column, or a labels table: refused at attach time (the
-- model learns without labels), as is a label given to ml_learn.
\set VERBOSITY sqlstate
SELECT ml_attach('events', 'hst_pts', key => 'id', prediction => 'score', label => 'is_fraud', features => ARRAY['a', 'b']);
CREATE TABLE event_labels (id int, is_fraud int);
SELECT ml_attach('events', 'hst_pts', key => 'id', prediction => 'score', label_table => 'event_labels',
                 label_key => 'id', label_value => 'is_fraud', features => ARRAY['a', 'b']);
-- user did: an anomaly score into a text column.
CREATE TABLE events_text (id int PRIMARY KEY, a float8, b float8, score text);
SELECT ml_attach('events_text', 'hst_pts', key => 'id', prediction => 'score', features => ARRAY['a', 'b']);
SELECT ml_learn('hst_pts', '{"a": 0.1}'::jsonb, 1);
\set VERBOSITY default
SELECT ml_attach('events', 'hst_pts', key => 'id', prediction => 'score', label => 'is_fraud', features => ARRAY['a', 'b']);

\set VERBOSITY sqlstate
-- user did: unknown options and values out of range.
SELECT '{"model": "half_space_trees", "trees": 3}'::ml_model;
SELECT '{"model": "half_space_trees", "height": 0}'::ml_model;
SELECT '{"model": "half_space_trees", "window_size": 0}'::ml_model;
SELECT '{"model": "half_space_trees", "limits": {"a": [1, 0]}}'::ml_model;
SELECT '{"model": "half_space_trees", "limits": [0, 1]}'::ml_model;
SELECT '{"model": "half_space_trees", "n_trees": 1000, "height": 20}'::ml_model;
-- user did: a label, a first example without features, NaN.
SELECT ml_fit_one('{"model": "half_space_trees"}', '{"a": 1}'::jsonb, 1);
SELECT ml_fit_one('{"model": "half_space_trees"}', '{}'::jsonb);
SELECT ml_fit_one('{"model": "half_space_trees"}', ARRAY['NaN'::float8]);
-- user did: ran the aggregate in parallel: partial models do not merge.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE TABLE many AS SELECT i, ARRAY[(i % 7) / 7.0, (i % 5) / 5.0]::float8[] AS x FROM generate_series(1, 30000) i;
ANALYZE many;
EXPLAIN (COSTS OFF) SELECT ml_fit('{"model": "half_space_trees"}', x) FROM many;
-- The plan's Finalize Aggregate combines the workers' partial models with ml_fit_combine; an
-- aggregate of its own gives it two partial models every time (which rows a worker reads varies).
CREATE AGGREGATE combine_models(ml_model) (SFUNC = ml_fit_combine, STYPE = ml_model, FINALFUNC = ml_fit_final);
\set VERBOSITY default
SELECT ml_info(combine_models(m)) -> 'n_seen'
FROM (VALUES (ml_fit_one('{"model": "half_space_trees"}', ARRAY[0.1, 0.2])), (ml_fit_one('{"model": "half_space_trees"}', ARRAY[0.1, 0.2]))) v(m);
-- With ORDER BY inside the aggregate (never parallel) it learns every row.
SELECT ml_info(ml_fit('{"model": "half_space_trees"}', x ORDER BY i)) -> 'n_seen' AS n_seen FROM many;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
\set VERBOSITY sqlstate
SELECT (jsonb_set((m::text)::jsonb, '{state,counter}', '100'))::text::ml_model FROM m2 m;
\set VERBOSITY default

-- Clean up the shared tables: this file's log, the model.
DELETE FROM ml_label_queue;
DELETE FROM ml_prediction_log;
SELECT ml_unregister('hst_pts', force => true);
SELECT ml_monitor_reset() AS requeued;
-- (the bucket width back to its default, now that no window statistics exist)
SELECT ml_monitor_set('bucket_width', NULL) AS bucket_width;
DROP SCHEMA half_space_trees CASCADE;
