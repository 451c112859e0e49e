-- Online k-means (kind kmeans, task clustering; docs/models.md, "k-means"): learning without
-- labels (ml_fit_one(model, x), ml_fit(spec, x), ml_train over a one-column query), the cluster
-- as ml_predict_class, ml_info, the text and binary forms, the registry, bad input, and attached
-- tables: the cluster written by the scoring trigger and the monitoring views.
CREATE SCHEMA kmeans;
SET search_path = kmeans, public;

-- Three well separated groups of points, in a fixed order.
CREATE TABLE pts AS
SELECT i, ARRAY[c[1] + 0.3 * sin(i * 1.7), c[2] + 0.3 * cos(i * 2.3)]::float8[] AS x
FROM generate_series(1, 90) i,
     LATERAL (SELECT CASE i % 3 WHEN 0 THEN ARRAY[0.0, 0.0] WHEN 1 THEN ARRAY[10.0, 10.0]
                                ELSE ARRAY[-10.0, 10.0] END AS c) g;

-- user did: fit k-means with the aggregate, without a label, then read its clusters.
CREATE TABLE m AS
SELECT ml_fit('{"model": "kmeans", "n_clusters": 3, "halflife": 0.2, "sigma": 10, "seed": 3}', x ORDER BY i) AS m
FROM pts;
SELECT ml_info(m) ->> 'kind' AS kind, ml_info(m) ->> 'task' AS task, ml_info(m) -> 'n_seen' AS n_seen,
       ml_info(m) -> 'clusters' AS clusters, ml_info(m) -> 'counts' AS counts, ml_info(m) -> 'spec' AS spec,
       ml_info(m) -> 'trained' AS trained
FROM m;
-- Each group is one cluster: the points of a group share their cluster, the groups differ.
SELECT i % 3 AS grp, count(DISTINCT ml_predict_class(m, x)) AS clusters_in_group, min(ml_predict_class(m, x)) AS cluster
FROM pts, m GROUP BY 1 ORDER BY 1;
SELECT count(DISTINCT ml_predict_class(m, x)) AS distinct_clusters FROM pts, m;
-- ml_predict_proba is the hard assignment: 1 for the nearest center.
SELECT ml_predict_proba(m, ARRAY[10.1, 9.9]) = jsonb_build_object('0', 0, '1', 0, '2', 0) || jsonb_build_object(ml_predict_class(m, ARRAY[10.1, 9.9]), 1) AS one_hot
FROM m;
-- The centers are near the groups' middles (rounded).
SELECT c AS center, round((ml_info(m) -> 'centers' -> c ->> 0)::numeric, 0) AS x1,
       round((ml_info(m) -> 'centers' -> c ->> 1)::numeric, 0) AS x2
FROM m, generate_series(0, 2) c ORDER BY x1, x2;

-- user did: the same points one at a time with ml_fit_one(model, x): the same model.
WITH RECURSIVE steps(i, m) AS (
    SELECT 0, '{"model": "kmeans", "n_clusters": 3, "halflife": 0.2, "sigma": 10, "seed": 3}'::ml_model
    UNION ALL
    SELECT s.i + 1, ml_fit_one(s.m, p.x) FROM steps s JOIN pts p ON p.i = s.i + 1
)
SELECT (SELECT m FROM steps ORDER BY i DESC LIMIT 1) = (SELECT m FROM m) AS same_model;
-- user did: jsonb and rows learn the same features as arrays.
SELECT ml_info(ml_fit('{"model": "kmeans", "n_clusters": 3, "seed": 1}', jsonb_build_object('x1', x[1], 'x2', x[2]) ORDER BY i)) -> 'centers'
     = ml_info(ml_fit('{"model": "kmeans", "n_clusters": 3, "seed": 1}', x ORDER BY i)) -> 'centers' AS jsonb_same_centers
FROM pts;
SELECT ml_info(ml_fit('{"model": "kmeans", "n_clusters": 2}', r ORDER BY r.x1)) -> 'features' AS row_features
FROM (SELECT x[1] AS x1, x[2] AS x2 FROM pts) r;

-- user did: several passes with ml_train over a query returning only the features.
SELECT ml_info(ml_train('{"model": "kmeans", "n_clusters": 3, "halflife": 0.2, "sigma": 10, "seed": 3}',
                        'SELECT x FROM kmeans.pts ORDER BY i', epochs => 3)) -> 'n_seen' AS n_seen_three_passes;
SELECT ml_model_without_history(ml_train('{"model": "kmeans", "n_clusters": 3, "halflife": 0.2, "sigma": 10, "seed": 3}',
                'SELECT x FROM kmeans.pts ORDER BY i', epochs => 1, shuffle => false)) = m AS one_pass_same
FROM m;

-- user did: text and binary round trips give the same model.
SELECT m::text::ml_model = m AS text_round_trip, ml_model_from_bytes(ml_model_bytes(m)) = m AS binary_round_trip,
       ml_model_bytes(m::text::ml_model) = ml_model_bytes(m) AS same_bytes
FROM m;
-- The JSON form shows the centers by cluster and the generator's state.
SELECT jsonb_object_keys((m::text)::jsonb -> 'state') AS state_keys FROM m ORDER BY 1;

-- user did: fewer examples than clusters. Every center starts at a random point (N(mu, sigma)
-- per feature); before any feature is learned every example is in cluster 0.
SELECT ml_predict_class('{"model": "kmeans"}'::ml_model, '{"a": 1}'::jsonb) AS untrained,
       ml_info('{"model": "kmeans"}'::ml_model) -> 'trained' AS trained,
       ml_info('{"model": "kmeans"}'::ml_model) ->> 'note' AS note;
SELECT ml_info(ml_fit_one(ml_fit_one('{"model": "kmeans", "n_clusters": 5}', '{"a": 1}'::jsonb), '{"a": 1.2}'::jsonb)) -> 'counts' AS two_examples_five_clusters;
-- An example without features (NULL) teaches nothing.
SELECT ml_fit_one(m, NULL::float8[]) = m AS unchanged FROM m;

-- user did: registered the model and scored by name.
SELECT ml_register('km_groups', m) AS version FROM m;
SELECT ml_deploy('km_groups', 1);
SELECT ml_predict_class('km_groups', ARRAY[10.0, 10.0]) = ml_predict_class(m, ARRAY[10.0, 10.0]) AS same_cluster FROM m;

\set VERBOSITY sqlstate
-- user did: gave k-means a label (it learns without one), or asked it for a single number.
SELECT ml_fit_one(m, ARRAY[1.0, 2.0], 1) FROM m;
SELECT ml_fit('{"model": "kmeans"}', x, 'a') FROM pts;
SELECT ml_train('{"model": "kmeans"}', 'SELECT x, 1 FROM kmeans.pts');
SELECT ml_learn('km_groups', ARRAY[1.0, 2.0], 1);
SELECT ml_predict_one(m, ARRAY[1.0, 2.0]) FROM m;
-- user did: the label-less forms on a model that needs a label.
SELECT ml_fit_one('{"model": "linear_regression"}', '{"a": 1}'::jsonb);
SELECT ml_fit('{"model": "logistic_regression"}', x) FROM pts;
SELECT ml_train('{"model": "linear_regression"}', 'SELECT x FROM kmeans.pts');
-- user did: unknown options and values out of range.
SELECT '{"model": "kmeans", "k": 3}'::ml_model;
SELECT '{"model": "kmeans", "n_clusters": 0}'::ml_model;
SELECT '{"model": "kmeans", "halflife": 0}'::ml_model;
SELECT '{"model": "kmeans", "p": 0.5}'::ml_model;
SELECT '{"model": "kmeans", "sigma": -1}'::ml_model;
-- user did: fed NaN.
SELECT ml_fit_one(m, ARRAY['NaN'::float8, 1]) FROM m;
SELECT ml_fit_one(m, '{"x1": "NaN", "x2": 1}'::jsonb) FROM m;
-- user did: ran the aggregate in parallel: k-means refuses to merge partial models.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE TABLE many AS SELECT i, ARRAY[i % 7, i % 5]::float8[] AS x FROM generate_series(1, 30000) i;
ANALYZE many;
EXPLAIN (COSTS OFF) SELECT ml_fit('{"model": "kmeans"}', x) FROM many;
-- The plan's Finalize Aggregate combines the workers' partial models with ml_fit_combine; an
-- aggregate of its own gives it two partial models every time (which rows a worker reads varies).
CREATE AGGREGATE combine_models(ml_model) (SFUNC = ml_fit_combine, STYPE = ml_model, FINALFUNC = ml_fit_final);
\set VERBOSITY default
SELECT ml_info(combine_models(m)) -> 'n_seen'
FROM (VALUES (ml_fit_one('{"model": "kmeans"}', ARRAY[1.0, 2.0])), (ml_fit_one('{"model": "kmeans"}', ARRAY[1.0, 2.0]))) v(m);
-- With ORDER BY inside the aggregate (never parallel) it learns every row.
SELECT ml_info(ml_fit('{"model": "kmeans"}', x ORDER BY i)) -> 'n_seen' AS n_seen FROM many;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
-- A corrupted model is refused.
\set VERBOSITY sqlstate
SELECT ml_model_from_bytes(overlay(ml_model_bytes(m) PLACING '\xff'::bytea FROM 200)) FROM m;
SELECT (jsonb_set((m::text)::jsonb, '{state,counts,0}', '1000'))::text::ml_model FROM m;
\set VERBOSITY default

-- user did: attached a table to the k-means model with a text prediction column (issue 13):
-- each inserted row gets its cluster, as ml_predict_class gives it, and is logged with it.
SELECT ml_monitor_set('bucket_width', '1000 days');
CREATE TABLE visits (id int PRIMARY KEY, x1 float8, x2 float8, cluster text);
SELECT ml_attach('visits', 'km_groups', key => 'id', prediction => 'cluster', features => ARRAY['x1', 'x2']);
INSERT INTO visits (id, x1, x2) SELECT i, x[1], x[2] FROM pts WHERE i <= 30;
SELECT count(*) AS scored, count(*) FILTER (WHERE v.cluster = ml_predict_class(m, ARRAY[v.x1, v.x2])) AS as_predicted,
       count(DISTINCT v.cluster) AS clusters
FROM visits v, m;
-- The log holds the cluster as the predicted class; no score, probabilities or label.
SELECT count(*) AS logged, count(*) FILTER (WHERE l.predicted_class = v.cluster) AS same_cluster,
       count(l.score) AS scores, count(l.probabilities) AS probabilities, count(l.label) + count(l.label_class) AS labels
FROM ml_prediction_log l JOIN visits v ON v.id::text = l.key
WHERE l.model_name = 'km_groups';
-- An UPDATE of a feature scores the row again.
UPDATE visits SET x1 = -10, x2 = 10 WHERE id = 1;
SELECT cluster = ml_predict_class(m, ARRAY[-10.0, 10.0]) AS rescored FROM visits, m WHERE id = 1;
-- user did: read the monitoring views of the attached k-means model: predictions, the share of
-- each cluster, feature mismatches; no label, score, or accuracy rows (it learns without labels).
SELECT ml_monitor_refresh() >= 31 AS rolled_up;
SELECT metric, round(value::numeric, 4) AS value FROM ml_model_metrics WHERE model = 'km_groups' ORDER BY time, metric;
SELECT sum(value) AS shares_add_up FROM ml_model_metrics WHERE model = 'km_groups' AND metric LIKE 'cluster_share:%';
SELECT metric FROM ml_model_health WHERE model = 'km_groups' ORDER BY metric;
SELECT metric, value FROM ml_model_health_history WHERE model = 'km_groups' ORDER BY metric;
SELECT DISTINCT feature, status FROM ml_feature_drift WHERE model = 'km_groups' ORDER BY 1, 2;
-- With a training baseline, feature drift and data quality compare the scored rows with it.
SELECT ml_register('km_groups', m, baseline => (SELECT ml_profile(jsonb_build_object('x1', x[1], 'x2', x[2])) FROM pts)) AS version
FROM m;
SELECT ml_deploy('km_groups', 2);
INSERT INTO visits (id, x1, x2) SELECT i, x[1], x[2] FROM pts WHERE i > 30;
INSERT INTO visits (id, x1, x2, cluster) VALUES (100, 1e6, 1e6, 'mine');
SELECT cluster = ml_predict_class(m, ARRAY[1e6, 1e6]) AS overwritten FROM visits, m WHERE id = 100;
SELECT ml_monitor_refresh() >= 61 AS rolled_up;
SELECT metric, round(value::numeric, 4) AS value FROM ml_model_metrics WHERE model = 'km_groups' AND version = '2' ORDER BY time, metric;
SELECT feature, method, status FROM ml_feature_drift WHERE model = 'km_groups' AND version = '2' ORDER BY feature;
SELECT feature, anomaly, count FROM ml_data_quality WHERE model = 'km_groups' AND version = '2' ORDER BY feature, anomaly;
SELECT ml_detach('visits');

\set VERBOSITY sqlstate
-- user did: attached k-means with a numeric prediction column: the cluster is text.
CREATE TABLE visits2 (id int PRIMARY KEY, x1 float8, x2 float8, cluster float8, lbl int, p float8);
SELECT ml_attach('visits2', 'km_groups', key => 'id', prediction => 'cluster', features => ARRAY['x1', 'x2']);
-- user did: attached k-means with a label column, or a labels table: refused at attach time.
SELECT ml_attach('visits2', 'km_groups', key => 'id', label => 'lbl', features => ARRAY['x1', 'x2']);
CREATE TABLE visit_labels (id int, lbl int);
SELECT ml_attach('visits2', 'km_groups', key => 'id', label_table => 'visit_labels', label_key => 'id',
                 label_value => 'lbl', features => ARRAY['x1', 'x2']);
-- user did: asked for a probability column with a cluster.
ALTER TABLE visits2 ALTER COLUMN cluster TYPE text;
SELECT ml_attach('visits2', 'km_groups', key => 'id', prediction => 'cluster', probability => 'p', features => ARRAY['x1', 'x2']);
\set VERBOSITY default
SELECT ml_attach('visits2', 'km_groups', key => 'id', label => 'lbl', features => ARRAY['x1', 'x2']);
SELECT count(*) AS attachments FROM ml_attachments WHERE model_name = 'km_groups';
-- user did: deployed a regression version under the alias of an attached k-means table:
-- ml_deploy refuses it (a number cannot go into the cluster column), saying what the version
-- predicts; detached, the table no longer holds the deploy back.
SELECT ml_attach('visits2', 'km_groups', key => 'id', prediction => 'cluster', features => ARRAY['x1', 'x2']);
SELECT ml_register('km_groups', ml_fit('{"model": "linear_regression"}', x, x[1] + x[2] ORDER BY i)) AS version FROM pts;
SELECT ml_deploy('km_groups', 3);
INSERT INTO visits2 (id, x1, x2) VALUES (1, 0, 0);
SELECT cluster IS NOT NULL AS clustered FROM visits2 WHERE id = 1;
SELECT ml_detach('visits2');
SELECT ml_deploy('km_groups', 3) AS was;
-- user did: rolled a k-means version out as a shadow while a table is attached with labels (to
-- the regression champion): refused, as every label would fail for it; and attached with labels
-- while a k-means shadow is rolled out: refused too. Without labels the shadow logs its cluster.
CREATE TABLE visits3 (id int PRIMARY KEY, x1 float8, x2 float8, pred float8, y float8);
SELECT ml_attach('visits3', 'km_groups', key => 'id', prediction => 'pred', label => 'y', features => ARRAY['x1', 'x2']);
SELECT ml_deploy('km_groups', 1, 'kshadow');
SELECT ml_rollout('km_groups', 'kshadow', 'shadow');
SELECT ml_detach('visits3');
SELECT ml_rollout('km_groups', 'kshadow', 'shadow');
SELECT ml_attach('visits3', 'km_groups', key => 'id', prediction => 'pred', label => 'y', features => ARRAY['x1', 'x2']);
SELECT ml_attach('visits3', 'km_groups', key => 'id', prediction => 'pred', features => ARRAY['x1', 'x2']);
INSERT INTO visits3 (id, x1, x2) VALUES (1, 10, 10);
SELECT variant, served, score IS NOT NULL AS has_score, predicted_class = ml_predict_class(m, ARRAY[10.0, 10.0]) AS cluster
FROM ml_prediction_log l, m WHERE l.model_name = 'km_groups' AND l.table_name = 'visits3'::regclass ORDER BY variant;
SELECT ml_detach('visits3');
SELECT ml_rollout_remove('km_groups', 'kshadow');

DELETE FROM ml_prediction_log WHERE model_name = 'km_groups';
SELECT ml_unregister('km_groups', force => true);
-- (the monitoring windows emptied, the bucket width back to its default)
SELECT ml_monitor_reset() >= 0 AS reset;
SELECT ml_monitor_set('bucket_width', NULL) AS bucket_width;
DROP SCHEMA kmeans CASCADE;
