-- The ensembles end to end: online bagging (bagging_classifier, bagging_regressor) and the
-- Adaptive Random Forest (adaptive_random_forest_classifier): specs with their defaults written
-- out, ml_fit_one, ml_fit (ORDER BY), ml_train, predictions, ml_info's members, the text and
-- binary round trips, merging (or its refusal) and bad input with its SQLSTATE. The file works in
-- its own schema: the files share one database.
CREATE SCHEMA ensembles;
SET search_path = ensembles, public;

CREATE TABLE stream AS
SELECT i, CASE WHEN x + y > 1 THEN 'up' WHEN x > y THEN 'right' ELSE 'down' END AS cls,
       x, y, 3 * x - 2 * y + 1 AS target
FROM (SELECT i, ((i * 7919) % 1009) / 1009.0 AS x, ((i * 104729) % 1013) / 1013.0 AS y
      FROM generate_series(0, 2999) i) s;

-- user did: write a bagging spec with a base model: every option is written out in the stored
-- spec (the base's own defaults too).
SELECT ml_info(ml_fit_one('{"model": "bagging_classifier", "base": {"model": "hoeffding_tree_classifier", "max_depth": 6}, "n_models": 3, "seed": 42}',
                          '{"x": 0.2, "y": 0.1}'::jsonb, 'down')) -> 'spec' AS spec;
SELECT ml_info(ml_fit_one('{"model": "bagging_regressor", "n_models": 2}', '{"x": 1}'::jsonb, 2.0)) -> 'spec' -> 'base' ->> 'model' AS default_base;

-- user did: fit bagged trees with ml_fit (ORDER BY) and look at the members in ml_info.
CREATE TABLE fitted AS
SELECT ml_fit('{"model": "bagging_classifier", "base": {"model": "hoeffding_tree_classifier", "grace_period": 50}, "n_models": 4, "seed": 7}',
              jsonb_build_object('x', x, 'y', y), cls ORDER BY i) AS m
FROM stream;
SELECT ml_info(m) ->> 'kind' AS kind, ml_info(m) ->> 'task' AS task, ml_info(m) -> 'n_seen' AS n_seen,
       ml_info(m) -> 'n_models' AS n_models, ml_info(m) -> 'classes' AS classes,
       jsonb_array_length(ml_info(m) -> 'members') AS members,
       (SELECT bool_and((e ->> 'n_seen')::int BETWEEN 2500 AND 3500) FROM jsonb_array_elements(ml_info(m) -> 'members') e) AS poisson_counts
FROM fitted;
-- The members' example counts are Poisson(1) draws per row: their sum is about 4 x 3000.
SELECT (SELECT sum((e ->> 'n_seen')::int) FROM jsonb_array_elements(ml_info(m) -> 'members') e) BETWEEN 11400 AND 12600 AS about_4x
FROM fitted;
-- user did: predict with it: the class, the probabilities (one per class, summing to 1) and the
-- accuracy on the stream.
SELECT ml_predict_class(m, '{"x": 0.9, "y": 0.8}'::jsonb) AS at_high, ml_predict_class(m, '{"x": 0.1, "y": 0.6}'::jsonb) AS at_left,
       round(sum_p::numeric, 12) AS proba_sum
FROM fitted, LATERAL (SELECT sum(value::float8) AS sum_p FROM jsonb_each_text(ml_predict_proba(m, '{"x": 0.5, "y": 0.2}'::jsonb))) s;
SELECT ml_accuracy(ml_class_state(s.cls, ml_predict_class(f.m, jsonb_build_object('x', s.x, 'y', s.y)))) > 0.9 AS accurate
FROM stream s, fitted f;

-- user did: replay the same rows: the same model, byte for byte (the generator's state is part
-- of the model).
SELECT ml_model_bytes(m) = ml_model_bytes(again) AS same_bytes
FROM fitted, (SELECT ml_fit('{"model": "bagging_classifier", "base": {"model": "hoeffding_tree_classifier", "grace_period": 50}, "n_models": 4, "seed": 7}',
                            jsonb_build_object('x', x, 'y', y), cls ORDER BY i) AS again FROM stream) r;

-- user did: store the ensemble and read it back: the text and binary round trips are exact, the
-- members are whole models in the JSON form.
SELECT m::text::ml_model::text = m::text AS text_round_trip,
       ml_model_bytes(ml_model_from_bytes(ml_model_bytes(m))) = ml_model_bytes(m) AS same_bytes,
       jsonb_array_length((m::text::jsonb) -> 'state' -> 'members') AS json_members,
       (m::text::jsonb) -> 'state' -> 'members' -> 0 ->> 'kind' AS member_kind,
       ml_predict_proba(m::text::ml_model, '{"x": 0.3, "y": 0.4}'::jsonb) = ml_predict_proba(m, '{"x": 0.3, "y": 0.4}'::jsonb) AS same_scores
FROM fitted;

-- user did: bag linear regressions with ml_train (10 epochs by default: 30000 rows learned), then
-- one more row with ml_fit_one.
CREATE TABLE reg AS
SELECT ml_train('{"model": "bagging_regressor", "base": {"model": "linear_regression", "optimizer": "sgd"}, "n_models": 5, "seed": 1}',
                $$SELECT jsonb_build_object('x', x, 'y', y), target FROM ensembles.stream ORDER BY i$$) AS m;
SELECT ml_info(m) -> 'n_seen' AS n_seen, round(ml_predict_one(m, '{"x": 0.5, "y": 0.5}'::jsonb)::numeric, 1) AS at_half,
       ml_info(ml_fit_one(m, '{"x": 0.5, "y": 0.5}'::jsonb, 1.5)) -> 'n_seen' AS one_more
FROM reg;

-- user did: fit bagged linear regressions in a parallel plan: the partial ensembles merge member
-- by member (each member as a linear model merges), so the result has learned every row.
CREATE TABLE big AS SELECT s.* FROM stream s, generate_series(1, 10) k;
ANALYZE big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT ml_info(m) -> 'n_seen' AS n_seen, abs(ml_predict_one(m, '{"x": 0.5, "y": 0.5}'::jsonb) - 1.5) < 0.2 AS close
FROM (SELECT ml_fit('{"model": "bagging_regressor", "n_models": 3}', jsonb_build_object('x', x, 'y', y), target) AS m FROM big) f;
-- Bagged trees do not merge (trees do not): the combine step refuses with a hint, or one process
-- learned every row. Never a silently merged model.
CREATE FUNCTION parallel_fit() RETURNS text LANGUAGE plpgsql AS $$
DECLARE n text;
BEGIN
  SELECT ml_info(ml_fit('{"model": "bagging_classifier", "n_models": 2}', jsonb_build_object('x', x), cls)) ->> 'n_seen' INTO n FROM big;
  RETURN 'one process learned ' || n || ' rows';
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN CASE WHEN SQLERRM LIKE '%cannot merge partial models%' THEN 'refused' ELSE SQLERRM END;
END $$;
SELECT parallel_fit() IN ('refused', 'one process learned 30000 rows') AS refused_or_whole;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- user did: fit an Adaptive Random Forest, and read its members, drifts and warnings in ml_info.
CREATE TABLE forest AS
SELECT ml_fit('{"model": "adaptive_random_forest_classifier", "n_models": 3, "seed": 5}',
              jsonb_build_object('x', x, 'y', y), cls ORDER BY i) AS m
FROM stream;
SELECT ml_info(m) -> 'spec' AS spec FROM forest;
SELECT ml_info(m) -> 'n_seen' AS n_seen, jsonb_array_length(ml_info(m) -> 'members') AS members,
       ml_info(m) ? 'drifts' AS has_drifts, ml_info(m) ? 'warnings' AS has_warnings,
       ml_info(m) ? 'background_members' AS has_background,
       ml_info(m) -> 'members' -> 0 ? 'drifts' AS member_drifts
FROM forest;
SELECT ml_accuracy(ml_class_state(s.cls, ml_predict_class(f.m, jsonb_build_object('x', s.x, 'y', s.y)))) > 0.85 AS accurate
FROM stream s, forest f;
SELECT m::text::ml_model::text = m::text AS text_round_trip,
       ml_model_bytes(ml_model_from_bytes(ml_model_bytes(m))) = ml_model_bytes(m) AS same_bytes
FROM forest;
-- user did: flip the concept (the labels of the same rows change): the forest's detectors fire
-- and trees are replaced.
CREATE TABLE flipped AS
SELECT ml_fit((SELECT m FROM forest), jsonb_build_object('x', x, 'y', y),
              CASE cls WHEN 'up' THEN 'down' WHEN 'down' THEN 'up' ELSE 'right' END ORDER BY i) AS m2
FROM stream;
SELECT (ml_info(m2) ->> 'drifts')::int > (ml_info(m) ->> 'drifts')::int AS drifted, ml_info(m2) -> 'n_seen' AS n_seen,
       (SELECT ml_accuracy(ml_class_state(CASE s.cls WHEN 'up' THEN 'down' WHEN 'down' THEN 'up' ELSE 'right' END,
                                          ml_predict_class(m2, jsonb_build_object('x', s.x, 'y', s.y))))
        FROM stream s) > 0.8 AS follows_new_concept
FROM forest, flipped;

-- Bad input.
\set VERBOSITY default
-- user did: misspell an option, give n_models out of range, a base of the wrong task, an
-- ensemble as the base, an unknown max_features.
SELECT ml_fit_one('{"model": "bagging_classifier", "n_trees": 3}', '{"a": 1}'::jsonb, 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "bagging_classifier", "n_models": 0}', '{"a": 1}'::jsonb, 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "bagging_classifier", "base": {"model": "linear_regression"}}', '{"a": 1}'::jsonb, 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "bagging_regressor", "base": {"model": "bagging_regressor"}}', '{"a": 1}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "adaptive_random_forest_classifier", "max_features": "half"}', '{"a": 1}'::jsonb, 'x');
\echo :LAST_ERROR_SQLSTATE
-- user did: ask a classifier ensemble for a number, teach a regressor ensemble a class.
SELECT ml_predict_one(m, '{"x": 1}'::jsonb) FROM fitted;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one(m, '{"x": 1}'::jsonb, 'up') FROM reg;
\echo :LAST_ERROR_SQLSTATE
-- user did: edit the JSON form by hand: drop a member; a corrupted byte in the binary form.
SELECT jsonb_set(m::text::jsonb, '{state,members}', ((m::text::jsonb) -> 'state' -> 'members') - 0)::text::ml_model FROM fitted;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(overlay(ml_model_bytes(m) placing '\xff'::bytea from length(ml_model_bytes(m)) - 20 for 1)) FROM fitted;
\echo :LAST_ERROR_SQLSTATE

-- user did: register the forest and the bagged regressor, score rows by trigger (the forest's
-- class into a text column, the regressor's value into a number), and feed labels back: each
-- version learns its 6 queued labels once (exactly-once feedback), a class label as text.
SELECT ml_register('ens_forest', m) AS forest_version FROM forest;
SELECT ml_register('ens_bag', m) AS bag_version FROM reg;
SELECT ml_deploy('ens_forest', 1), ml_deploy('ens_bag', 1);
SELECT name, task, kind FROM ml_models WHERE name LIKE 'ens\_%' ORDER BY name;
SELECT ml_predict_class('ens_forest', '{"x": 0.9, "y": 0.8}'::jsonb) AS forest_by_name,
       ml_predict('ens_bag', '{"x": 0.5, "y": 0.5}'::jsonb) BETWEEN 1.0 AND 2.0 AS bag_by_name;
CREATE TABLE items (id int PRIMARY KEY, x float8, y float8, guess text, truth text);
CREATE TABLE amounts (id int PRIMARY KEY, x float8, y float8, guess float8, truth float8);
SELECT ml_attach('items', 'ens_forest', key => 'id', prediction => 'guess', label => 'truth', features => ARRAY['x', 'y']);
SELECT ml_attach('amounts', 'ens_bag', key => 'id', prediction => 'guess', label => 'truth', features => ARRAY['x', 'y']);
INSERT INTO items (id, x, y) SELECT i, x, y FROM stream WHERE i BETWEEN 1 AND 6;
INSERT INTO amounts (id, x, y) SELECT i, x, y FROM stream WHERE i BETWEEN 1 AND 6;
SELECT i.id, i.guess IN ('up', 'right', 'down') AS a_class, a.guess IS NOT NULL AS a_value
FROM items i JOIN amounts a USING (id) ORDER BY id;
SELECT (ml_info(ml_get('ens_forest', 1)) ->> 'n_seen')::int AS forest_before,
       (ml_info(ml_get('ens_bag', 1)) ->> 'n_seen')::int AS bag_before;
UPDATE items SET truth = s.cls FROM stream s WHERE s.i = items.id;
UPDATE amounts SET truth = s.target FROM stream s WHERE s.i = amounts.id;
SELECT ml_learn_pending('ens_forest') AS forest_applied, ml_learn_pending('ens_bag') AS bag_applied;
SELECT ml_learn_pending() AS again;
SELECT (ml_info(ml_get('ens_forest', 1)) ->> 'n_seen')::int AS forest_after,
       (ml_info(ml_get('ens_bag', 1)) ->> 'n_seen')::int AS bag_after;
SELECT ml_detach('items'), ml_detach('amounts');
DELETE FROM ml_label_queue WHERE model_name LIKE 'ens\_%';
DELETE FROM ml_monitor_inbox WHERE prediction_id IN (SELECT prediction_id FROM ml_prediction_log WHERE model_name LIKE 'ens\_%');
DELETE FROM ml_prediction_log WHERE model_name LIKE 'ens\_%';
-- (the log's ids start again where they were, and no monitoring event of these rows is left: the
-- files share one database, and later files print the ids and count the events)
SELECT setval(pg_get_serial_sequence('ml_prediction_log', 'prediction_id'), 1, false) AS log_ids_restart
WHERE NOT EXISTS (SELECT 1 FROM ml_prediction_log WHERE prediction_id > 0);
SELECT ml_unregister('ens_forest', force => true), ml_unregister('ens_bag', force => true);

-- user did: bag logistic regressions (a binary base): the bagging is a binary classifier. It
-- fits with ml_fit, predicts a probability and the class "0" or "1", takes boolean labels, and a
-- trigger scores into a numeric column with labels fed back exactly once.
CREATE TABLE bin_fitted AS
SELECT ml_fit('{"model": "bagging_classifier", "base": {"model": "logistic_regression"}, "n_models": 5, "seed": 3}',
              jsonb_build_object('x', x, 'y', y), x > y ORDER BY i) AS m
FROM stream;
SELECT ml_info(m) ->> 'kind' AS kind, ml_info(m) ->> 'task' AS task, ml_info(m) -> 'classes' AS classes,
       ml_info(m) -> 'spec' -> 'base' ->> 'model' AS base, (ml_info(m) ->> 'n_seen')::int AS n_seen
FROM bin_fitted;
SELECT ml_predict_one(m, '{"x": 0.9, "y": 0.1}'::jsonb) > 0.8 AS high_when_x_above,
       ml_predict_one(m, '{"x": 0.1, "y": 0.9}'::jsonb) < 0.2 AS low_when_x_below,
       ml_predict_class(m, '{"x": 0.9, "y": 0.1}'::jsonb) AS class_above,
       ml_predict_class(m, '{"x": 0.1, "y": 0.9}'::jsonb) AS class_below
FROM bin_fitted;
SELECT ml_auc(ml_predict_one(m, jsonb_build_object('x', x, 'y', y)), x > y) > 0.95 AS auc_high,
       avg(((ml_predict_one(m, jsonb_build_object('x', x, 'y', y)) > 0.5) = (x > y))::int) > 0.9 AS accurate
FROM stream, bin_fitted;
-- The text and binary forms round-trip exactly and keep the task.
SELECT m::text::ml_model = m AS text_round_trip, ml_model_from_bytes(ml_model_bytes(m)) = m AS binary_round_trip,
       ml_info(m::text::ml_model) ->> 'task' AS task_after
FROM bin_fitted;
-- A class label other than 0/1 is refused as the base refuses it.
SELECT ml_fit_one(m, '{"x": 1}'::jsonb, 'up') FROM bin_fitted;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_register('ens_bin', m) AS bin_version FROM bin_fitted;
SELECT ml_deploy('ens_bin', 1);
SELECT task, kind FROM ml_models WHERE name = 'ens_bin';
CREATE TABLE flags (id int PRIMARY KEY, x float8, y float8, score float8, truth boolean);
SELECT ml_attach('flags', 'ens_bin', key => 'id', prediction => 'score', label => 'truth', features => ARRAY['x', 'y']);
INSERT INTO flags (id, x, y) SELECT i, x, y FROM stream WHERE i BETWEEN 1 AND 6;
SELECT count(*) FILTER (WHERE score BETWEEN 0 AND 1) AS probabilities FROM flags;
UPDATE flags SET truth = x > y;
SELECT ml_learn_pending('ens_bin') AS bin_applied, ml_learn_pending('ens_bin') AS again;
SELECT (ml_info(ml_get('ens_bin', 1)) ->> 'n_seen')::int - (ml_info(m) ->> 'n_seen')::int AS learned FROM bin_fitted;
SELECT ml_detach('flags');
DELETE FROM ml_label_queue WHERE model_name = 'ens_bin';
DELETE FROM ml_monitor_inbox WHERE prediction_id IN (SELECT prediction_id FROM ml_prediction_log WHERE model_name = 'ens_bin');
DELETE FROM ml_prediction_log WHERE model_name = 'ens_bin';
SELECT setval(pg_get_serial_sequence('ml_prediction_log', 'prediction_id'), 1, false) AS log_ids_restart
WHERE NOT EXISTS (SELECT 1 FROM ml_prediction_log WHERE prediction_id > 0);
SELECT ml_unregister('ens_bin', force => true);

DROP SCHEMA ensembles CASCADE;
