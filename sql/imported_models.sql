-- Imported XGBoost models (issue 15): ml_import('xgboost', the text Booster.save_model('m.json')
-- wrote) as a predict-only ml_model. The two models here are written by hand in XGBoost 1.7's
-- JSON format (XGBoost itself loads them and predicts the values below); every prediction is
-- computed by hand in the comments. The file works in its own schema: the files share one database.
CREATE SCHEMA imported;
SET search_path = imported, public;

-- binary:logistic, base_score 0.5 (margin 0), features a (numeric) and c (categorical).
-- Tree 0: a < 0.5 (missing: left) -> -0.4, else 0.6.
-- Tree 1: c in {1, 3} -> right 0.2, any other category -> left -0.1 (missing: right).
-- multi:softprob, 3 classes, 3 features without names (f0, f1, f2), base_score 0.5:
-- one leaf per class tree: 0.1, 0.5, -0.2, so margins 0.6, 1.0, 0.3.
CREATE TABLE src (name text PRIMARY KEY, body text);
INSERT INTO src VALUES ('binary', $model${"learner":{"attributes":{},"feature_names":["a","c"],"feature_types":["q","c"],"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"2","size_leaf_vector":"0"},"tree_info":[0,0],"trees":[{"base_weights":[0.0,-0.4,0.6],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"default_left":[1,0,0],"id":0,"left_children":[1,-1,-1],"loss_changes":[2.5,0.0,0.0],"parents":[2147483647,0,0],"right_children":[2,-1,-1],"split_conditions":[0.5,-0.4,0.6],"split_indices":[0,0,0],"split_type":[0,0,0],"sum_hessian":[10.0,5.0,5.0],"tree_param":{"num_deleted":"0","num_feature":"2","num_nodes":"3","size_leaf_vector":"0"}},{"base_weights":[0.0,-0.1,0.2],"categories":[1,3],"categories_nodes":[0],"categories_segments":[0],"categories_sizes":[2],"default_left":[0,0,0],"id":1,"left_children":[1,-1,-1],"loss_changes":[1.5,0.0,0.0],"parents":[2147483647,0,0],"right_children":[2,-1,-1],"split_conditions":[NaN,-0.1,0.2],"split_indices":[1,0,0],"split_type":[1,0,0],"sum_hessian":[10.0,6.0,4.0],"tree_param":{"num_deleted":"0","num_feature":"2","num_nodes":"3","size_leaf_vector":"0"}}]},"name":"gbtree"},"learner_model_param":{"base_score":"5E-1","boost_from_average":"1","num_class":"0","num_feature":"2","num_target":"1"},"objective":{"name":"binary:logistic","reg_loss_param":{"scale_pos_weight":"1"}}},"version":[1,7,4]}$model$);
INSERT INTO src VALUES ('multi', $model${"learner":{"attributes":{},"feature_names":[],"feature_types":[],"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"3","size_leaf_vector":"0"},"tree_info":[0,1,2],"trees":[{"base_weights":[0.0],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"default_left":[0],"loss_changes":[0.0],"parents":[2147483647],"split_type":[0],"sum_hessian":[1.0],"id":0,"left_children":[-1],"right_children":[-1],"split_conditions":[0.1],"split_indices":[0],"tree_param":{"num_deleted":"0","num_feature":"3","num_nodes":"1","size_leaf_vector":"0"}},{"base_weights":[0.0],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"default_left":[0],"loss_changes":[0.0],"parents":[2147483647],"split_type":[0],"sum_hessian":[1.0],"id":1,"left_children":[-1],"right_children":[-1],"split_conditions":[0.5],"split_indices":[0],"tree_param":{"num_deleted":"0","num_feature":"3","num_nodes":"1","size_leaf_vector":"0"}},{"base_weights":[0.0],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"default_left":[0],"loss_changes":[0.0],"parents":[2147483647],"split_type":[0],"sum_hessian":[1.0],"id":2,"left_children":[-1],"right_children":[-1],"split_conditions":[-0.2],"split_indices":[0],"tree_param":{"num_deleted":"0","num_feature":"3","num_nodes":"1","size_leaf_vector":"0"}}]},"name":"gbtree"},"learner_model_param":{"base_score":"5E-1","num_class":"3","num_feature":"3","num_target":"1"},"objective":{"name":"multi:softprob"}},"version":[1,7,4]}$model$);

-- user did: import an XGBoost model saved with Booster.save_model('m.json')
CREATE TABLE imp AS SELECT ml_import('xgboost', body) AS m FROM src WHERE name = 'binary';
SELECT ml_info(m) ->> 'kind' AS kind, ml_info(m) ->> 'task' AS task, ml_info(m) -> 'features' AS features,
       ml_info(m) -> 'feature_types' AS types, ml_info(m) ->> 'objective' AS objective,
       ml_info(m) ->> 'trees' AS trees, ml_info(m) ->> 'max_depth' AS depth, ml_info(m) ->> 'leaves' AS leaves,
       ml_info(m) ->> 'trained' AS trained
FROM imp;
-- importance: each feature splits once; gain is the split's loss change (2.5 for a, 1.5 for c)
SELECT ml_info(m) -> 'importance' AS importance, ml_info(m) -> 'spec' AS spec FROM imp;

-- user did: score by jsonb keys. Hand values: sigmoid(margin).
--   a=0, c=1:   -0.4 + 0.2 = -0.2 -> 0.450166
--   a=1, c=2:    0.6 - 0.1 =  0.5 -> 0.622459
--   {} (both missing, default directions): -0.4 + 0.2 = -0.2 -> 0.450166
--   a=-1, c=5:  -0.4 - 0.1 = -0.5 -> 0.377541
--   a=1, c=3.7 (a category is truncated: 3, in the set): 0.6 + 0.2 = 0.8 -> 0.689974
--   a=0.49999999 (0.5 as a float32: not < 0.5, as XGBoost sends it), c=2: 0.5 -> 0.622459
--   unseen categories go left: c=40 (past the set's 32 bits), c=-2, c=33554432: -0.2 - ... see below
--   a=0, c=40: -0.4 - 0.1 = -0.5 -> 0.377541; a=0, c=-2: 0.377541; a=0, c=33554432: 0.377541
-- user did: leave keys out ('{}'): XGBoost's missing value, as a NULL is, so no missing-feature warning
SELECT x, round(ml_predict_one(m, x::jsonb)::numeric, 6) AS p
FROM imp, (VALUES ('{"a": 0, "c": 1}'), ('{"a": 1, "c": 2}'), ('{}'), ('{"a": -1, "c": 5}'),
                  ('{"a": 1, "c": 3.7}'), ('{"a": 0.49999999, "c": 2}'), ('{"a": 0, "c": 40}'),
                  ('{"a": 0, "c": -2}'), ('{"a": 0, "c": 33554432}'), ('{"a": 0, "c": null}')) v(x);
SET pg_learn.missing_features = 'error';
SELECT round(ml_predict_one(m, '{}'::jsonb)::numeric, 6) AS all_missing_no_error FROM imp;
RESET pg_learn.missing_features;

-- user did: score float8[] by position (NaN is missing) and table rows by column name
SELECT round(ml_predict_one(m, ARRAY[1, 3]::float8[])::numeric, 6) AS arr_08,
       round(ml_predict_one(m, ARRAY['NaN', 'NaN']::float8[])::numeric, 6) AS arr_missing,
       round(ml_predict_one(m, ARRAY[0, 1]::float8[])::numeric, 6) AS arr_m02
FROM imp;
CREATE TABLE rows (id int, a float8, c int);
INSERT INTO rows VALUES (1, 0, 1), (2, 1, 2), (3, NULL, NULL), (4, 1, 3);
SELECT r.id, round(ml_predict_one(i.m, r)::numeric, 6) AS p, ml_predict_class(i.m, r) AS class,
       ml_predict_proba(i.m, r) AS proba
FROM imp i, (SELECT a, c, id FROM rows) r ORDER BY r.id;

-- user did: import a multiclass model (multi:softprob) without feature names: f0, f1, f2
-- softmax(0.6, 1.0, 0.3) = (0.309344, 0.461488, 0.229168); the class is "1"
CREATE TABLE imp3 AS SELECT ml_import('xgboost', body) AS m FROM src WHERE name = 'multi';
SELECT ml_info(m) ->> 'task' AS task, ml_info(m) -> 'classes' AS classes, ml_info(m) -> 'features' AS features,
       ml_predict_class(m, ARRAY[0, 0, 0]::float8[]) AS class,
       ml_predict_class(m, '{"f0": 1}'::jsonb) AS class_by_name
FROM imp3;
SELECT key, round(value::numeric, 6) AS p
FROM imp3, jsonb_each_text(ml_predict_proba(m, ARRAY[0, 0, 0]::float8[])) ORDER BY key;

-- user did: export the model as JSON and read it back; the binary form round trips too
SELECT ml_model(m::text) = m AS json_round_trip, ml_model_from_bytes(ml_model_bytes(m)) = m AS binary_round_trip,
       round(ml_predict_one(m::text::ml_model, '{"a": 1, "c": 3}'::jsonb)::numeric, 6) AS p_after
FROM imp;
SELECT (m::text::jsonb) -> 'state' -> 'trees' -> 1 -> 'categories' AS categories FROM imp;
SELECT ml_model(m::text) = m AS multi_json_round_trip, ml_model_from_bytes(ml_model_bytes(m)) = m AS multi_binary
FROM imp3;

-- user did: write an xgboost spec by hand instead of importing (a model without trees: it
-- predicts base_score, 0.5, and cannot learn)
SELECT ml_predict_one('{"model": "xgboost"}'::ml_model, '{}'::jsonb) AS no_trees,
       ml_info('{"model": "xgboost"}'::ml_model) ->> 'trees' AS trees;
\set VERBOSITY default
SELECT ml_fit_one('{"model": "xgboost"}'::ml_model, ARRAY[1]::float8[], 1);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse

-- user did: try to train the imported model online (predict-only: refused)
\set VERBOSITY default
SELECT ml_fit_one(m, '{"a": 1, "c": 1}'::jsonb, 1) FROM imp;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit(m, x::jsonb, 1.0) FROM imp, (VALUES ('{"a": 1}')) v(x);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse

-- user did: register the imported model, score by name, and attach it to a table (trigger
-- scoring, prediction log, monitoring with labels)
SELECT ml_register('xgb_imported', m) AS version FROM imp;
SELECT ml_deploy('xgb_imported', 1);
SELECT name, task, kind FROM ml_models WHERE name = 'xgb_imported';
SELECT round(ml_predict('xgb_imported', '{"a": 1, "c": 3}'::jsonb)::numeric, 6) AS by_name,
       ml_predict_class('xgb_imported', '{"a": 0, "c": 5}'::jsonb) AS class_by_name;
CREATE TABLE orders (id int PRIMARY KEY, a float8, c int, p float8, churned boolean);
SELECT ml_attach('orders', 'xgb_imported', key => 'id', prediction => 'p', label => 'churned', features => ARRAY['a', 'c']);
INSERT INTO orders (id, a, c) VALUES (1, 0, 1), (2, 1, 3), (3, -1, 5), (4, 1, 2);
SELECT id, round(p::numeric, 6) AS p FROM orders ORDER BY id;
SELECT count(*) AS logged FROM ml_prediction_log WHERE model_name = 'xgb_imported';
UPDATE orders SET churned = id IN (2, 4);
-- (a version that cannot learn: its labels are logged for monitoring only, never queued)
SELECT (SELECT ml_pending_labels('xgb_imported')) AS pending, count(label) AS labelled, count(labeled_at) AS labeled_at,
       count(learned_at) AS learned
FROM ml_prediction_log WHERE model_name = 'xgb_imported';
SELECT ml_monitor_refresh() >= 0 AS refreshed;
SELECT metric, round(value::numeric, 4) AS value FROM ml_model_metrics
WHERE model = 'xgb_imported' AND metric IN ('predictions', 'labels', 'accuracy') ORDER BY metric;
-- user did: ask the imported model to learn: nothing was queued, so nothing is learned and
-- nothing is rejected (no warning; ml_rejected_labels stays empty)
\set VERBOSITY default
SELECT ml_learn_pending('xgb_imported') AS learned;
\set VERBOSITY terse
SELECT count(*) AS rejected, min(sqlstate) AS sqlstate, min(message) AS message FROM ml_rejected_labels WHERE model_name = 'xgb_imported';
SELECT (ml_info(ml_get('xgb_imported', 1)) ->> 'n_seen')::int AS n_seen_after;
-- user did: roll out a shadow that can learn beside the imported champion: the label of the
-- shadow's prediction is queued and learned, the champion's is logged only (decided per version)
SELECT ml_register('xgb_imported', '{"model": "logistic_regression"}'::ml_model) AS version;
SELECT ml_deploy('xgb_imported', 2, 'shadow');
SELECT ml_rollout('xgb_imported', 'shadow', 'shadow');
INSERT INTO orders (id, a, c) VALUES (5, 1, 2);
UPDATE orders SET churned = true WHERE id = 5;
SELECT variant, version, label,
       (SELECT count(*) FROM ml_label_queue q WHERE q.prediction_id = l.prediction_id) AS queued
FROM ml_prediction_log l WHERE model_name = 'xgb_imported' AND key = '5' ORDER BY prediction_id;
SELECT ml_learn_pending('xgb_imported') AS learned;
SELECT version, n_seen FROM ml_versions('xgb_imported') ORDER BY version;
SELECT count(*) AS rejected FROM ml_rejected_labels WHERE model_name = 'xgb_imported';
SELECT ml_rollout_remove('xgb_imported', 'shadow');
-- user did: attach it to an audit table with explain => true: each logged prediction carries
-- its TreeSHAP explanation, the one ml_explain gives for the logged features
CREATE TABLE orders_audit (id int PRIMARY KEY, a float8, c int);
SELECT ml_attach('orders_audit', 'xgb_imported', key => 'id', explain => true);
INSERT INTO orders_audit VALUES (1, 0, 1), (2, 1, 3), (3, NULL, 5);
SELECT key, explanation ->> 'method' AS method,
       explanation = ml_explain(ml_get('xgb_imported', version), features) AS equals_ml_explain
FROM ml_prediction_log WHERE table_name = 'orders_audit'::regclass ORDER BY prediction_id;
SELECT ml_detach('orders_audit');
SELECT ml_detach('orders');
DELETE FROM ml_label_queue WHERE model_name = 'xgb_imported';
DELETE FROM ml_rejected_labels WHERE model_name = 'xgb_imported';
DELETE FROM ml_monitor_inbox WHERE prediction_id IN (SELECT prediction_id FROM ml_prediction_log WHERE model_name = 'xgb_imported');
DELETE FROM ml_prediction_log WHERE model_name = 'xgb_imported';
SELECT setval(pg_get_serial_sequence('ml_prediction_log', 'prediction_id'), 1, false) AS log_ids_restart
WHERE NOT EXISTS (SELECT 1 FROM ml_prediction_log WHERE prediction_id > 0);
SELECT ml_unregister('xgb_imported', force => true);

-- Bad input: each is refused with a message and a SQLSTATE, and the server stays up.
\set VERBOSITY default
-- user did: import a truncated model file
SELECT ml_import('xgboost', left(body, 300)) FROM src WHERE name = 'binary';
\echo :LAST_ERROR_SQLSTATE
-- user did: import a corrupt model (a child pointing back to the root; a node with one child; a
-- child index past the nodes)
SELECT ml_import('xgboost', replace(body, '"left_children":[1,-1,-1]', '"left_children":[0,-1,-1]')) FROM src WHERE name = 'binary';
\echo :LAST_ERROR_SQLSTATE
SELECT ml_import('xgboost', replace(body, '"left_children":[1,-1,-1]', '"left_children":[1,0,-1]')) FROM src WHERE name = 'binary';
\echo :LAST_ERROR_SQLSTATE
SELECT ml_import('xgboost', replace(body, '"right_children":[2,-1,-1]', '"right_children":[7,-1,-1]')) FROM src WHERE name = 'binary';
\echo :LAST_ERROR_SQLSTATE
-- user did: import a model in the wrong format (a pg_learn spec, not JSON, the UBJSON format)
SELECT ml_import('xgboost', '{"model": "linear_regression"}');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_import('xgboost', 'booster[0]: 0:[a<0.5] yes=1,no=2');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_import('xgboost', '{L' || repeat('x', 10));
\echo :LAST_ERROR_SQLSTATE
SELECT ml_import('lightgbm', 'tree');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_import('onnx', '{}');
\echo :LAST_ERROR_SQLSTATE
-- user did: import an unsupported objective or booster
SELECT ml_import('xgboost', replace(body, 'binary:logistic', 'reg:gamma')) FROM src WHERE name = 'binary';
\echo :LAST_ERROR_SQLSTATE
SELECT ml_import('xgboost', replace(body, '"name":"gbtree"', '"name":"dart"')) FROM src WHERE name = 'binary';
\echo :LAST_ERROR_SQLSTATE
SELECT ml_import('xgboost', replace(body, '"name":"gbtree"', '"name":"gblinear"')) FROM src WHERE name = 'binary';
\echo :LAST_ERROR_SQLSTATE
-- user did: import a model whose trees use more features than it declares, and score a
-- float8[] of the wrong length, and a value infinite as a float32
SELECT ml_import('xgboost', replace(replace(body, '"num_feature":"2","num_target"', '"num_feature":"1","num_target"'),
                                    '"feature_names":["a","c"],"feature_types":["q","c"]', '"feature_names":[],"feature_types":[]'))
FROM src WHERE name = 'binary';
\echo :LAST_ERROR_SQLSTATE
SELECT ml_import('xgboost', replace(body, '"num_feature":"2","num_target"', '"num_feature":"3","num_target"')) FROM src WHERE name = 'binary';
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one(m, ARRAY[1, 2, 3]::float8[]) FROM imp;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one(m, ARRAY[1e300, 2]::float8[]) FROM imp;
\echo :LAST_ERROR_SQLSTATE
-- user did: import a model above the size limit (100001 trees; at most 100000 are imported)
SELECT ml_import('xgboost', '{"learner":{"feature_names":[],"feature_types":[],"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1"},"tree_info":[0'
    || repeat(',0', 100000) || '],"trees":[' || repeat('{"tree_param":{"num_nodes":"1"}},', 100000)
    || '{"tree_param":{"num_nodes":"1"}}]},"name":"gbtree"},"learner_model_param":{"base_score":"0.5","num_class":"0","num_feature":"1"},"objective":{"name":"reg:squarederror"}}}');
\echo :LAST_ERROR_SQLSTATE
-- user did: import deeply nested JSON
SELECT ml_import('xgboost', '{"learner":' || repeat('[', 5000) || repeat(']', 5000) || '}');
\echo :LAST_ERROR_SQLSTATE
-- an imported kind's stored form is checked like any model's: a tree's group past the classes
SELECT jsonb_set(m::text::jsonb, '{state,trees,0,group}', '5')::text::ml_model FROM imp3;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
SELECT 1 AS server_still_up;

DROP SCHEMA imported CASCADE;
