-- Issue 16, explanations: ml_explain (base + contributions = the prediction's margin, for every
-- form of features and by registered name), ml_importance, and ml_info's raw-unit weights. Each
-- file works in its own schema: the files share one database.
CREATE SCHEMA explanations;
SET search_path = explanations, public;
-- Some rows below leave features out on purpose (the scoring functions would warn).
SET pg_learn.missing_features = 'ignore';

-- A small stream: y = 3 + 2 a - b (+ a little noise), a and b on different scales, a colour.
CREATE TABLE stream AS
SELECT i, (i % 17) / 4.0 AS a, 100 + (i * 7 % 23) * 10.0 AS b, (ARRAY['red', 'blue'])[1 + i % 2] AS colour,
       3 + 2 * ((i % 17) / 4.0) - (100 + (i * 7 % 23) * 10.0) / 100.0 + ((i * 7919) % 100) / 1000.0 AS y
FROM generate_series(1, 400) i;

-- user did: explain a scaled linear regression's prediction (jsonb); the parts add up to it
CREATE TABLE lin AS
SELECT ml_fit('{"model": "linear_regression", "scale": true, "optimizer": {"sgd": {"lr": 0.05}}}',
              jsonb_build_object('a', a, 'b', b, 'colour', colour), y ORDER BY i) AS m
FROM stream;
SELECT e ->> 'kind' AS kind, e ->> 'method' AS method, e ->> 'scale' AS scale,
       jsonb_object_keys(e -> 'contributions') AS feature
FROM (SELECT ml_explain(m, '{"a": 2, "b": 150, "colour": "blue"}'::jsonb) AS e FROM lin) s;
SELECT abs((e ->> 'margin')::float8 - p) < 1e-12 AS margin_is_prediction,
       abs((e ->> 'base')::float8 + (SELECT sum(value::float8) FROM jsonb_each_text(e -> 'contributions')) - p) < 1e-12
           AS parts_add_up,
       (e -> 'contributions' ->> 'a')::float8 > 0 AS a_above_mean_raises,
       (e -> 'contributions' ->> 'b')::float8 > 0 AS b_below_mean_raises
FROM (SELECT ml_explain(m, x) AS e, ml_predict_one(m, x) AS p
      FROM lin, (VALUES ('{"a": 2, "b": 150, "colour": "blue"}'::jsonb)) v(x)) s;
-- In raw units: a's contribution is its raw weight (ml_info's raw_weights) times its distance
-- from its training mean; the base is the prediction at the means (without a colour).
SELECT abs((e -> 'contributions' ->> 'a')::float8
           - (ml_info(m) -> 'raw_weights' ->> 'a')::float8 * (2 - (SELECT avg(a) FROM stream)::float8)) < 1e-9
           AS a_in_raw_units,
       abs((e ->> 'base')::float8 - ml_predict_one(m, (SELECT jsonb_build_object('a', avg(a), 'b', avg(b)) FROM stream))) < 1e-9
           AS base_is_prediction_at_means
FROM lin, LATERAL (SELECT ml_explain(m, '{"a": 2, "b": 150}'::jsonb) AS e) s;
-- user did: read the raw-unit weights in ml_info: raw_intercept + sum(raw weight * x) is the prediction
SELECT abs((ml_info(m) ->> 'raw_intercept')::float8 + 2 * (ml_info(m) -> 'raw_weights' ->> 'a')::float8
           + 150 * (ml_info(m) -> 'raw_weights' ->> 'b')::float8 + (ml_info(m) -> 'raw_weights' ->> 'colour=blue')::float8
           - ml_predict_one(m, '{"a": 2, "b": 150, "colour": "blue"}'::jsonb)) < 1e-9 AS raw_weights_predict,
       round((ml_info(m) -> 'raw_weights' ->> 'a')::numeric, 1) AS raw_a, round((ml_info(m) -> 'raw_weights' ->> 'b')::numeric, 2) AS raw_b,
       ml_info(m) -> 'weights' ? 'a' AS scaled_weights_kept
FROM lin;
-- A feature the model never learned contributes 0; a missing one (NULL, "zero" policy) too.
SELECT e -> 'contributions' -> 'new' AS unknown, e -> 'contributions' -> 'b' AS missing_b
FROM lin, LATERAL (SELECT ml_explain(m, '{"a": 1, "b": null, "new": 5}'::jsonb) AS e) s;

-- user did: explain by float8[] and by table row (the same numbers as jsonb)
CREATE TABLE dense AS
SELECT ml_fit('{"model": "linear_regression", "scale": true}', ARRAY[a, b], y ORDER BY i) AS m FROM stream;
SELECT jsonb_object_keys(ml_explain(m, ARRAY[2, 150]::float8[]) -> 'contributions') AS feature FROM dense;
SELECT abs((ml_explain(m, ARRAY[2, 150]::float8[]) ->> 'margin')::float8 - ml_predict_one(m, ARRAY[2, 150]::float8[])) < 1e-12
           AS array_adds_up
FROM dense;
SELECT s.i, ml_explain(l.m, r) -> 'contributions' = ml_explain(l.m, jsonb_build_object('a', s.a, 'b', s.b, 'colour', s.colour))
           -> 'contributions' AS row_equals_jsonb,
       abs((ml_explain(l.m, r) ->> 'margin')::float8 - ml_predict_one(l.m, r)) < 1e-12 AS row_adds_up
FROM lin l, stream s, LATERAL (SELECT s.a, s.b, s.colour) r WHERE s.i IN (1, 2) ORDER BY s.i;

-- user did: explain a logistic regression: the scale is log-odds, the probability its sigmoid
CREATE TABLE logit AS
SELECT ml_fit('{"model": "logistic_regression", "scale": true}', jsonb_build_object('a', a, 'b', b), y > 3 ORDER BY i) AS m
FROM stream;
SELECT e ->> 'scale' AS scale,
       abs(1 / (1 + exp(-(e ->> 'margin')::float8)) - ml_predict_one(m, '{"a": 3, "b": 120}'::jsonb)) < 1e-12 AS sigmoid_of_margin
FROM logit, LATERAL (SELECT ml_explain(m, '{"a": 3, "b": 120}'::jsonb) AS e) s;

-- user did: explain a softmax regression: one block per class, on the logit scale
CREATE TABLE soft AS
SELECT ml_fit('{"model": "softmax_regression", "scale": true}', jsonb_build_object('a', a, 'b', b),
              CASE WHEN y < 2.5 THEN 'low' WHEN y < 5 THEN 'mid' ELSE 'high' END ORDER BY i) AS m
FROM stream;
SELECT e ->> 'scale' AS scale, c AS class,
       abs(exp((e -> 'classes' -> c ->> 'margin')::float8)
           / (SELECT sum(exp((v ->> 'margin')::float8)) FROM jsonb_each(e -> 'classes') t(k, v))
           - (ml_predict_proba(m, x) ->> c)::float8) < 1e-12 AS softmax_of_margins
FROM soft, (VALUES ('{"a": 1, "b": 200}'::jsonb)) v(x), LATERAL (SELECT ml_explain(m, x) AS e) s,
     jsonb_object_keys(e -> 'classes') c ORDER BY c;

-- user did: explain passive-aggressive models (linear: exact; the classifier on the log-odds
-- scale of the sigmoid ml_predict_one gives)
CREATE TABLE pa AS
SELECT ml_fit('{"model": "passive_aggressive_classifier"}', jsonb_build_object('a', a, 'b', b / 100), y > 3 ORDER BY i) AS c,
       ml_fit('{"model": "passive_aggressive_regressor"}', jsonb_build_object('a', a, 'b', b / 100), y ORDER BY i) AS r
FROM stream;
SELECT ec ->> 'method' AS method, ec ->> 'scale' AS classifier_scale, er ->> 'scale' AS regressor_scale,
       abs(1 / (1 + exp(-(ec ->> 'margin')::float8)) - ml_predict_one(c, x)) < 1e-12 AS classifier_adds_up,
       (er ->> 'margin')::float8 = ml_predict_one(r, x) AS regressor_adds_up,
       (ec ->> 'base')::float8 = (ml_info(c) ->> 'intercept')::float8 AS base_is_intercept,
       (ec -> 'contributions' ->> 'a')::float8 = 2 * (ml_info(c) -> 'weights' ->> 'a')::float8 AS a_is_weight_times_value
FROM pa, (VALUES ('{"a": 2, "b": 1.5}'::jsonb)) v(x), LATERAL (SELECT ml_explain(c, x) AS ec, ml_explain(r, x) AS er) s;
SELECT feature, importance > 0 AS used, kind FROM ml_importance((SELECT r FROM pa));

-- user did: explain a Hoeffding tree classifier and regressor (TreeSHAP): per class
-- probabilities, and the regressor's value; the parts add up to the prediction
CREATE TABLE trees AS
SELECT ml_fit('{"model": "hoeffding_tree_classifier", "grace_period": 50, "delta": 0.01}',
              jsonb_build_object('a', a, 'b', b, 'colour', colour), CASE WHEN a > 2 THEN 'big' ELSE 'small' END ORDER BY i) AS c,
       ml_fit('{"model": "hoeffding_tree_regressor", "grace_period": 50, "leaf_prediction": "mean"}',
              jsonb_build_object('a', a, 'b', b), y ORDER BY i) AS r
FROM stream;
SELECT ml_info(c) ->> 'n_leaves' AS classifier_leaves, ml_info(r) ->> 'n_leaves' AS regressor_leaves FROM trees;
SELECT x, e ->> 'method' AS method, e ->> 'scale' AS scale,
       (SELECT bool_and(abs((v ->> 'base')::float8 + (SELECT coalesce(sum(q::float8), 0) FROM jsonb_each_text(v -> 'contributions') w(f, q))
                            - (ml_predict_proba(c, x) ->> k)::float8) < 1e-12)
        FROM jsonb_each(e -> 'classes') u(k, v)) AS adds_up,
       (e -> 'classes' -> 'big' -> 'contributions' ->> 'b')::float8 = 0 AS b_unused
FROM trees, (VALUES ('{"a": 0.5, "b": 150, "colour": "red"}'::jsonb), ('{"a": 3.5, "b": 300}'), ('{}')) v(x),
     LATERAL (SELECT ml_explain(c, x) AS e) s;
SELECT x, abs((e ->> 'margin')::float8 - ml_predict_one(r, x)) < 1e-9 AS adds_up, e ->> 'scale' AS scale
FROM trees, (VALUES ('{"a": 0.5, "b": 150}'::jsonb), ('{"a": 3.5, "b": 300}'), ('{"b": 100}')) v(x),
     LATERAL (SELECT ml_explain(r, x) AS e) s;

-- user did: ask a tree which features matter: the share of the training weight its splits on
-- each feature routed (the root splits on a: 1; colour and b are not split on)
SELECT feature, round(importance::numeric, 3) AS importance, kind FROM ml_importance((SELECT c FROM trees));

-- user did: explain ensembles: a bagging regressor and a forest are the mean of their members
CREATE TABLE ens AS
SELECT ml_fit('{"model": "bagging_regressor", "n_models": 3, "seed": 7, "base": {"model": "linear_regression", "scale": true}}',
              jsonb_build_object('a', a, 'b', b), y ORDER BY i) AS r,
       ml_fit('{"model": "adaptive_random_forest_classifier", "n_models": 3, "seed": 7, "tree": {"grace_period": 50}}',
              jsonb_build_object('a', a, 'b', b), CASE WHEN a > 2 THEN 'big' ELSE 'small' END ORDER BY i) AS f
FROM stream;
SELECT e ->> 'method' AS method, e ->> 'scale' AS scale,
       abs((e ->> 'margin')::float8 - ml_predict_one(r, '{"a": 1, "b": 170}'::jsonb)) < 1e-9 AS adds_up
FROM ens, LATERAL (SELECT ml_explain(r, '{"a": 1, "b": 170}'::jsonb) AS e) s;
SELECT k AS class, e ->> 'method' AS method,
       abs((v ->> 'margin')::float8 - (ml_predict_proba(f, '{"a": 3, "b": 170}'::jsonb) ->> k)::float8) < 1e-9 AS adds_up
FROM ens, LATERAL (SELECT ml_explain(f, '{"a": 3, "b": 170}'::jsonb) AS e) s, jsonb_each(e -> 'classes') u(k, v)
ORDER BY k;

-- user did: ask an ensemble which features matter: the mean of its members' importances
SELECT feature, importance > 0 AS used, kind FROM ml_importance((SELECT f FROM ens)) ORDER BY feature;

-- user did: explain by registered name (the production version, or another alias)
SELECT ml_register('explain_houses', m) AS version FROM lin;
SELECT ml_deploy('explain_houses', 1) AS previous;
SELECT ml_explain('explain_houses', '{"a": 2, "b": 150, "colour": "blue"}'::jsonb) = ml_explain(m, '{"a": 2, "b": 150, "colour": "blue"}'::jsonb)
           AS same_as_value
FROM lin;
SELECT (ml_explain('explain_houses', r) ->> 'margin')::float8 = ml_predict_one(l.m, r) AS by_name_row
FROM lin l, (SELECT 2.0::float8 AS a, 150.0::float8 AS b) r;
-- by name with a float8[]: this version learned names a and b, so x1 and x2 are unknown (0)
SELECT ml_explain('explain_houses', ARRAY[2, 150]::float8[]) -> 'contributions' AS by_name_array;
-- Privileges as ml_predict's: not executable by PUBLIC; a role granted EXECUTE explains without
-- SELECT on the registry's tables (the deployed version is read as the registry's owner).
CREATE ROLE regress_explain_app;
CREATE ROLE regress_explain_nobody;
GRANT USAGE ON SCHEMA explanations TO regress_explain_app, regress_explain_nobody;
GRANT EXECUTE ON FUNCTION ml_explain(text, jsonb, text), ml_explain(text, float8[], text), ml_explain(text, record, text)
    TO regress_explain_app;
SET ROLE regress_explain_app;
SELECT (ml_explain('explain_houses', '{"a": 2, "b": 150}'::jsonb) ->> 'kind') AS granted_kind;
RESET ROLE;
SET ROLE regress_explain_nobody;
\set VERBOSITY sqlstate
SELECT ml_explain('explain_houses', '{"a": 2, "b": 150}'::jsonb);
\set VERBOSITY default
RESET ROLE;
REVOKE ALL ON SCHEMA explanations FROM regress_explain_app, regress_explain_nobody;
REVOKE EXECUTE ON FUNCTION ml_explain(text, jsonb, text), ml_explain(text, float8[], text), ml_explain(text, record, text)
    FROM regress_explain_app;
DROP ROLE regress_explain_app;
DROP ROLE regress_explain_nobody;

-- user did: global importance of each feature
SELECT feature, round(importance::numeric, 2) AS importance, kind FROM ml_importance((SELECT m FROM lin));
SELECT feature, importance > 0 AS used, kind FROM ml_importance((SELECT m FROM logit));

-- user did: explain an imported XGBoost model (TreeSHAP, as predict(pred_contribs=True)).
-- binary:logistic, base_score 0.5 (margin 0). Tree 0: a < 0.5 -> -0.4 (cover 5), else 0.6
-- (cover 5): expected value 0.1. Tree 1: c in {1, 3} -> 0.2 (cover 4), else -0.1 (cover 6):
-- expected value 0.02. Base: 0 + 0.1 + 0.02 = 0.12. For a=0, c=1: a contributes -0.4 - 0.1 =
-- -0.5 and c 0.2 - 0.02 = 0.18: margin -0.2 (p = 0.450166). For a=1, c=2: 0.5 and -0.12.
CREATE TABLE xgb AS SELECT ml_import('xgboost', $model${"learner":{"attributes":{},"feature_names":["a","c"],"feature_types":["q","c"],"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"2","size_leaf_vector":"0"},"tree_info":[0,0],"trees":[{"base_weights":[0.0,-0.4,0.6],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"default_left":[1,0,0],"id":0,"left_children":[1,-1,-1],"loss_changes":[2.5,0.0,0.0],"parents":[2147483647,0,0],"right_children":[2,-1,-1],"split_conditions":[0.5,-0.4,0.6],"split_indices":[0,0,0],"split_type":[0,0,0],"sum_hessian":[10.0,5.0,5.0],"tree_param":{"num_deleted":"0","num_feature":"2","num_nodes":"3","size_leaf_vector":"0"}},{"base_weights":[0.0,-0.1,0.2],"categories":[1,3],"categories_nodes":[0],"categories_segments":[0],"categories_sizes":[2],"default_left":[0,0,0],"id":1,"left_children":[1,-1,-1],"loss_changes":[1.5,0.0,0.0],"parents":[2147483647,0,0],"right_children":[2,-1,-1],"split_conditions":[NaN,-0.1,0.2],"split_indices":[1,0,0],"split_type":[1,0,0],"sum_hessian":[10.0,6.0,4.0],"tree_param":{"num_deleted":"0","num_feature":"2","num_nodes":"3","size_leaf_vector":"0"}}]},"name":"gbtree"},"learner_model_param":{"base_score":"5E-1","boost_from_average":"1","num_class":"0","num_feature":"2","num_target":"1"},"objective":{"name":"binary:logistic","reg_loss_param":{"scale_pos_weight":"1"}}},"version":[1,7,4]}$model$) AS m;
SELECT x, e ->> 'method' AS method, e ->> 'scale' AS scale, round((e ->> 'base')::numeric, 6) AS base,
       round((e -> 'contributions' ->> 'a')::numeric, 6) AS a, round((e -> 'contributions' ->> 'c')::numeric, 6) AS c,
       round((e ->> 'margin')::numeric, 6) AS margin, round(ml_predict_one(m, x)::numeric, 6) AS p
FROM xgb, (VALUES ('{"a": 0, "c": 1}'::jsonb), ('{"a": 1, "c": 2}'), ('{}')) v(x), LATERAL (SELECT ml_explain(m, x) AS e) s;
SELECT round((e -> 'contributions' ->> 'a')::numeric, 6) AS a, round((e -> 'contributions' ->> 'c')::numeric, 6) AS c
FROM xgb, LATERAL (SELECT ml_explain(m, ARRAY[1, 'NaN']::float8[]) AS e) s;
SELECT feature, importance, kind FROM ml_importance((SELECT m FROM xgb));
-- The covers survive the binary and text round trips.
SELECT ml_explain(ml_model_from_bytes(ml_model_bytes(m)), '{"a": 0, "c": 1}'::jsonb) = ml_explain(m, '{"a": 0, "c": 1}'::jsonb) AS binary_kept,
       ml_explain(m::text::ml_model, '{"a": 0, "c": 1}'::jsonb) = ml_explain(m, '{"a": 0, "c": 1}'::jsonb) AS text_kept
FROM xgb;

-- user did: explain float8[] rows as arrays (ml_contributions: XGBoost's pred_contribs layout,
-- the contributions of positions 1..n, then the base), the same numbers as ml_explain's jsonb
SELECT array_length(c, 1) AS n_plus_one,
       c[1] = (e -> 'contributions' ->> 'x1')::float8 AND c[2] = (e -> 'contributions' ->> 'x2')::float8
           AND c[3] = (e ->> 'base')::float8 AS same_as_jsonb,
       abs(c[1] + c[2] + c[3] - ml_predict_one(m, ARRAY[2, 150]::float8[])) < 1e-12 AS adds_up
FROM dense, LATERAL (SELECT ml_contributions(m, ARRAY[2, 150]::float8[]) AS c, ml_explain(m, ARRAY[2, 150]::float8[]) AS e) s;
SELECT ml_contributions(m, ARRAY[1, 'NaN']::float8[]) AS xgboost_layout FROM xgb;
-- A multiclass model's is a row per class, in ml_info's class order.
CREATE TABLE soft_dense AS
SELECT ml_fit('{"model": "softmax_regression", "scale": true}', ARRAY[a, b],
              CASE WHEN y < 2.5 THEN 'low' WHEN y < 5 THEN 'mid' ELSE 'high' END ORDER BY i) AS m
FROM stream;
SELECT array_dims(c) AS dims,
       bool_and(abs(c[k][1] + c[k][2] + c[k][3] - (e -> 'classes' -> (ml_info(m) -> 'classes' ->> (k - 1)) ->> 'margin')::float8) < 1e-12)
           AS rows_are_classes
FROM soft_dense, LATERAL (SELECT ml_contributions(m, ARRAY[1, 200]::float8[]) AS c, ml_explain(m, ARRAY[1, 200]::float8[]) AS e) s,
     generate_series(1, 3) k
GROUP BY c;

-- user did: explain a partitioned model: the partition that answers the row explains it over the
-- rest of the row (the key chose the model); a colour under min_examples is answered by the global model
CREATE TABLE parts AS
SELECT ml_fit('{"model": "partitioned", "by": "colour", "min_examples": 100, "base": {"model": "linear_regression", "scale": true}}',
              jsonb_build_object('colour', CASE WHEN i <= 350 THEN colour ELSE 'green' END, 'a', a, 'b', b), y ORDER BY i) AS m
FROM stream;
SELECT x ->> 'colour' AS colour, jsonb_object_keys(e -> 'contributions') AS feature,
       abs((e ->> 'margin')::float8 - ml_predict_one(m, x)) < 1e-12 AS margin_is_prediction
FROM parts, (VALUES ('{"colour": "red", "a": 2, "b": 150}'::jsonb), ('{"colour": "green", "a": 2, "b": 150}')) v(x),
     LATERAL (SELECT ml_explain(m, x) AS e) s ORDER BY 1, 2;
-- red's explanation is its partition's model's: the same as that model fitted on red's rows alone
SELECT ml_explain(m, '{"colour": "red", "a": 2, "b": 150}'::jsonb) -> 'contributions'
         = ml_explain((SELECT ml_fit('{"model": "linear_regression", "scale": true}', jsonb_build_object('a', a, 'b', b), y ORDER BY i)
                       FROM stream WHERE i <= 350 AND colour = 'red'), '{"a": 2, "b": 150}'::jsonb) -> 'contributions' AS red_partition
FROM parts;

-- user did: explain a pipeline: its final model over the features the steps made
CREATE TABLE pipe AS
SELECT ml_fit('{"pipeline": [{"select": ["a", "b"]}, "standard_scaler", {"linear_regression": {}}]}',
              jsonb_build_object('a', a, 'b', b, 'colour', colour), y ORDER BY i) AS m
FROM stream;
SELECT jsonb_object_keys(e -> 'contributions') AS feature, e ->> 'method' AS method,
       abs((e ->> 'margin')::float8 - ml_predict_one(m, '{"a": 2, "b": 150, "colour": "red"}'::jsonb)) < 1e-12 AS margin_is_prediction
FROM pipe, LATERAL (SELECT ml_explain(m, '{"a": 2, "b": 150, "colour": "red"}'::jsonb) AS e) s;
SELECT feature, importance > 0 AS positive, kind FROM ml_importance((SELECT m FROM pipe));

-- user did: explain a model that learned nothing (no features yet): its base is its intercept
-- (0), each feature of the row contributes 0, and it has no importances; a classifier that learned
-- no class has nothing to explain (22023, below)
SELECT ml_explain('{"model": "linear_regression"}'::ml_model, '{"a": 1}'::jsonb) AS fresh_linear;
SELECT ml_contributions('{"model": "linear_regression"}'::ml_model, ARRAY[1, 2]::float8[]) AS fresh_dense;
SELECT count(*) AS importances FROM ml_importance('{"model": "linear_regression"}'::ml_model);

-- Bad input: each with its SQLSTATE.
\set VERBOSITY sqlstate
-- user did: explain a kind without explanations (0A000, naming the kind)
SELECT ml_explain(ml_fit('{"model": "kmeans", "n_clusters": 2}', jsonb_build_object('a', a)), '{"a": 1}'::jsonb) FROM stream;
\set VERBOSITY default
SELECT ml_explain(ml_fit('{"model": "kmeans", "n_clusters": 2}', jsonb_build_object('a', a)), '{"a": 1}'::jsonb) FROM stream;
SELECT * FROM ml_importance('{"model": "gaussian_nb"}'::ml_model);
-- user did: explain a binary bagging ensemble (it averages probabilities, its members explain log-odds)
SELECT ml_explain(ml_fit('{"model": "bagging_classifier", "n_models": 2, "base": {"model": "logistic_regression"}}',
                         jsonb_build_object('a', a), a > 2), '{"a": 1}'::jsonb) FROM stream;
\set VERBOSITY sqlstate
-- user did: explain with a NULL feature under the "error" missing-value policy (22004)
SELECT ml_explain('{"model": "linear_regression", "missing": "error"}'::ml_model, '{"a": null}'::jsonb);
-- user did: explain with a float8[] of the wrong length (22023) or a NaN (22003)
SELECT ml_explain(m, ARRAY[1, 2, 3]::float8[]) FROM dense;
SELECT ml_explain(m, ARRAY[1, 'NaN']::float8[]) FROM dense;
SELECT ml_contributions(m, ARRAY[1, 2, 3]::float8[]) FROM dense;
-- user did: ask a pipeline for the explanation of a float8[] row (it reads named columns: 22023)
SELECT ml_contributions(m, ARRAY[1, 2]::float8[]) FROM pipe;
-- user did: explain a pipeline whose final model has no explanations (0A000)
SELECT ml_explain(ml_fit('{"pipeline": ["standard_scaler", {"gaussian_nb": {}}]}', jsonb_build_object('a', a), colour), '{"a": 1}'::jsonb)
FROM stream;
-- user did: explain a classifier that learned no class (22023)
SELECT ml_explain('{"model": "hoeffding_tree_classifier"}'::ml_model, '{"a": 1}'::jsonb);
-- user did: ask for the explanation of an empty float8[] row (22023)
SELECT ml_contributions(m, '{}'::float8[]) FROM dense;
-- user did: explain by a name that is not registered (42704)
SELECT ml_explain('no_such_model', '{"a": 1}'::jsonb);
\set VERBOSITY default
-- NULL arguments give NULL (strict)
SELECT ml_explain(NULL::ml_model, '{"a": 1}'::jsonb) IS NULL AS null_model, ml_explain(m, NULL::jsonb) IS NULL AS null_x FROM lin;

SELECT ml_undeploy('explain_houses') AS was, ml_unregister('explain_houses', force => true) AS removed;
RESET pg_learn.missing_features;
DROP SCHEMA explanations CASCADE;
