-- Explanations logged by the scoring trigger, for audit (issue 16 item 6): ml_attach(...,
-- explain => true) stores each logged prediction's explanation (the jsonb ml_explain returns for
-- the same features and version) in ml_prediction_log.explanation; NULL without the option. A
-- version that cannot explain is refused at ml_attach and at a deploy or rollout to such a table
-- (0A000), and a version slipped in otherwise fails the INSERT: never a log silently without it.
CREATE SCHEMA logged_explanations;
SET search_path = logged_explanations, public;
SET client_min_messages = warning;
SET extra_float_digits = 0;

-- user did: a linear regression on two numbers and a colour, attached with explain => true
CREATE TABLE history AS
SELECT i, (i % 7)::float8 AS a, (i % 5) * 10.0::float8 AS b, (ARRAY['red', 'blue'])[1 + i % 2] AS colour,
       1 + 2 * (i % 7) - 0.1 * (i % 5) * 10 AS y
FROM generate_series(1, 60) i;
SELECT ml_register('le_price', (SELECT ml_fit('{"model": "linear_regression", "scale": true}',
                                              jsonb_build_object('a', a, 'b', b, 'colour', colour), y ORDER BY i)
                                FROM history)) AS version;
SELECT ml_deploy('le_price', 1);
CREATE TABLE sales (id int PRIMARY KEY, a float8, b float8, colour text, price float8, sold float8);
SELECT ml_attach('sales', 'le_price', key => 'id', prediction => 'price', label => 'sold', explain => true);
SELECT table_name, learn, explain FROM ml_attachments WHERE table_name = 'sales'::regclass;
INSERT INTO sales (id, a, b, colour) VALUES (1, 1, 10, 'red'), (2, 5, 40, 'blue'), (3, 0, 0, NULL);
INSERT INTO sales (id, a, b, colour) SELECT i, i % 7, (i % 5) * 10, 'red' FROM generate_series(4, 53) i;
-- every logged explanation is ml_explain of the same features by the same version, and its
-- margin is the logged score
SELECT count(*) AS logged, count(explanation) AS explained,
       bool_and(explanation = ml_explain(ml_get('le_price', version), features)) AS equals_ml_explain,
       bool_and(abs((explanation ->> 'margin')::float8 - score) < 1e-9) AS margin_is_score
FROM ml_prediction_log WHERE model_name = 'le_price';
SELECT key, explanation ->> 'kind' AS kind, explanation ->> 'method' AS method,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(explanation -> 'contributions') k) AS features
FROM ml_prediction_log WHERE model_name = 'le_price' AND key IN ('1', '3') ORDER BY prediction_id;
-- a change of a feature scores and explains the row again; a label changes nothing of it
UPDATE sales SET a = 6 WHERE id = 1;
UPDATE sales SET sold = 12 WHERE id = 1;
SELECT key, label, explanation = ml_explain(ml_get('le_price', version), features) AS equals_ml_explain,
       (features ->> 'a')::float8 AS a
FROM ml_prediction_log WHERE model_name = 'le_price' AND key = '1' ORDER BY prediction_id;

-- A shadow explains its own predictions (its version's explanation of the same row).
SELECT ml_register('le_price', (SELECT ml_fit('{"model": "linear_regression"}', jsonb_build_object('a', a, 'b', b), y ORDER BY i)
                                FROM history)) AS version;
SELECT ml_deploy('le_price', 2, 'shadow');
SELECT ml_rollout('le_price', 'shadow', 'shadow');
INSERT INTO sales (id, a, b, colour) VALUES (100, 2, 20, 'blue');
SELECT variant, version, explanation = ml_explain(ml_get('le_price', version), features) AS equals_ml_explain,
       explanation -> 'contributions' ? 'colour=blue' AS colour_explained
FROM ml_prediction_log WHERE model_name = 'le_price' AND key = '100' ORDER BY prediction_id;

-- Without the option the column stays NULL.
CREATE TABLE plain_sales (id int PRIMARY KEY, a float8, b float8, colour text, price float8);
SELECT ml_attach('plain_sales', 'le_price', key => 'id', prediction => 'price');
INSERT INTO plain_sales (id, a, b, colour) VALUES (1, 1, 10, 'red');
SELECT variant, explanation IS NULL AS no_explanation FROM ml_prediction_log
WHERE model_name = 'le_price' AND table_name = 'plain_sales'::regclass ORDER BY prediction_id;

-- Kinds that cannot explain: refused with 0A000 and the reason, before anything changes.
\set VERBOSITY default
SELECT ml_register('le_nb', '{"model": "gaussian_nb"}'::ml_model) AS version;
SELECT ml_deploy('le_nb', 1);
CREATE TABLE visits (id int PRIMARY KEY, a float8);
SELECT ml_attach('visits', 'le_nb', key => 'id', explain => true);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('visits', 'le_price', key => 'id', explain => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS attached FROM ml_attachments WHERE table_name = 'visits'::regclass;
-- attached with a version that explains, a deploy or rollout of one that does not is refused
SELECT ml_register('le_nb', ml_fit_one('{"model": "linear_regression"}'::ml_model, '{"a": 1}'::jsonb, 2)) AS version;
SELECT ml_deploy('le_nb', 2);
SELECT ml_attach('visits', 'le_nb', key => 'id', explain => true);
SELECT ml_deploy('le_nb', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_deploy('le_nb', 1, 'canary');
SELECT ml_rollout('le_nb', 'canary', 'shadow');
\echo :LAST_ERROR_SQLSTATE
SELECT alias, version FROM ml_aliases WHERE name = 'le_nb' ORDER BY alias;
SELECT count(*) AS rollouts FROM ml_rollouts WHERE model_name = 'le_nb';
-- a version that cannot explain slipped in behind the checks' back fails the INSERT (0A000)
UPDATE ml_aliases SET version = 1 WHERE name = 'le_nb' AND alias = 'production';
INSERT INTO visits VALUES (1, 1);
\echo :LAST_ERROR_SQLSTATE
UPDATE ml_aliases SET version = 2 WHERE name = 'le_nb' AND alias = 'production';
INSERT INTO visits VALUES (1, 1);
SELECT key, explanation IS NOT NULL AS explained FROM ml_prediction_log WHERE model_name = 'le_nb';
\set VERBOSITY terse

SELECT ml_detach('sales');
SELECT ml_detach('plain_sales');
SELECT ml_detach('visits');
SELECT ml_rollout_remove('le_price', 'shadow');
DELETE FROM ml_monitor_inbox WHERE prediction_id IN (SELECT prediction_id FROM ml_prediction_log WHERE model_name LIKE 'le\_%');
DELETE FROM ml_label_queue WHERE model_name LIKE 'le\_%';
DELETE FROM ml_prediction_log WHERE model_name LIKE 'le\_%';
SELECT setval(pg_get_serial_sequence('ml_prediction_log', 'prediction_id'), 1, false) AS log_ids_restart
WHERE NOT EXISTS (SELECT 1 FROM ml_prediction_log WHERE prediction_id > 0);
SELECT ml_unregister('le_price', force => true), ml_unregister('le_nb', force => true);
DROP SCHEMA logged_explanations CASCADE;

-- A log partitioned by time (ml_partition_log): the log is written through SQL, not directly;
-- explanations are logged, and monitor-only labels (learn => false) are logged without a queue
-- row by the UPDATE-only statement. In a database of its own: partitioning cannot be undone.
SELECT current_database() AS orig_db \gset
CREATE DATABASE pgl_logged_explanations;
\c pgl_logged_explanations
SET client_min_messages = warning;
CREATE EXTENSION pg_learn;
SET extra_float_digits = 0;
SELECT ml_partition_log('1 day') > 0 AS partitioned;
SELECT ml_register('pl', ml_fit_one('{"model": "logistic_regression", "scale": false, "optimizer": "sgd"}'::ml_model,
                                   '{"a": 1}'::jsonb, 1)) AS version;
SELECT ml_deploy('pl', 1);
CREATE TABLE clicks (id int PRIMARY KEY, a float8, p float8, clicked boolean);
SELECT ml_attach('clicks', 'pl', key => 'id', prediction => 'p', label => 'clicked', explain => true, learn => false);
INSERT INTO clicks (id, a) VALUES (1, 1), (2, -1);
UPDATE clicks SET clicked = a > 0;
SELECT key, label, learned_at, explanation = ml_explain(ml_get('pl', version), features) AS equals_ml_explain
FROM ml_prediction_log ORDER BY prediction_id;
SELECT ml_pending_labels() AS pending, ml_learn_pending() AS learned;
SELECT n_seen FROM ml_versions('pl');
-- the same table learning: its labels are queued and learned (the queueing statement)
SELECT ml_detach('clicks');
SELECT ml_attach('clicks', 'pl', key => 'id', prediction => 'p', label => 'clicked');
INSERT INTO clicks (id, a) VALUES (3, 2);
UPDATE clicks SET clicked = true WHERE id = 3;
SELECT ml_pending_labels() AS pending, ml_learn_pending() AS learned;
SELECT n_seen FROM ml_versions('pl');
SELECT ml_detach('clicks');
\c :orig_db
DROP DATABASE pgl_logged_explanations;
