-- A version must fit the tables its alias serves: ml_deploy, ml_rollback and ml_rollout refuse a
-- version whose task cannot fill the prediction column of an attached table, fill its probability
-- column, or learn its labels, before they change anything (an INSERT into the attached table
-- never meets a version that cannot score it, a label never one that cannot learn it).
CREATE SCHEMA serving_checks;
SET search_path = serving_checks, public;
\set VERBOSITY default

SELECT ml_register('sc_reg', ml_fit_one('{"model": "linear_regression"}', '{"a": 1}'::jsonb, 2.0)) AS regression,
       ml_register('sc_reg', ml_fit_one('{"model": "softmax_regression"}', '{"a": 1}'::jsonb, 'up')) AS multiclass,
       ml_register('sc_reg', ml_fit_one('{"model": "kmeans", "n_clusters": 1}', '{"a": 1}'::jsonb)) AS clustering,
       ml_register('sc_reg', ml_fit_one('{"model": "logistic_regression"}', '{"a": 1}'::jsonb, true)) AS binary;
SELECT ml_deploy('sc_reg', 1);
CREATE TABLE amounts (id int PRIMARY KEY, a float8, guess float8, truth float8);
SELECT ml_attach('amounts', 'sc_reg', key => 'id', prediction => 'guess', label => 'truth');

-- user did: deploy a multiclass version under the alias of a table whose prediction column is a
-- number: refused (42804), nothing changed.
SELECT ml_deploy('sc_reg', 2);
\echo :LAST_ERROR_SQLSTATE
-- user did: deploy a clustering version under the alias of a table attached with labels:
-- refused (22023).
SELECT ml_deploy('sc_reg', 3);
\echo :LAST_ERROR_SQLSTATE
SELECT version FROM ml_aliases WHERE name = 'sc_reg' AND alias = 'production';
SELECT count(*) AS deployments FROM ml_deployments WHERE name = 'sc_reg';
-- A binary version predicts a number too: accepted, and rows are still scored.
SELECT ml_deploy('sc_reg', 4) AS was;
INSERT INTO amounts (id, a) VALUES (1, 1);
SELECT guess BETWEEN 0 AND 1 AS probability FROM amounts;
-- user did: roll back to the regression version: accepted (it fits).
SELECT ml_rollback('sc_reg') AS now_serving;

-- user did: roll a multiclass version out as a challenger (it would write classes into the number
-- column): refused; as a shadow (it writes nothing into the table) it is accepted, since it
-- learns the numeric labels as classes.
SELECT ml_deploy('sc_reg', 2, 'canary');
SELECT ml_rollout('sc_reg', 'canary', 'challenger', 0.2);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout('sc_reg', 'canary', 'shadow');
-- user did: deploy the clustering version under the shadow's alias: refused (the shadow learns
-- the table's labels too).
SELECT ml_deploy('sc_reg', 3, 'canary');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout_remove('sc_reg', 'canary');

-- user did: attach a multiclass model with a text prediction and a probability column, then
-- deploy a binary version there: refused (it fills neither); then roll back past a version that
-- no longer fits.
SELECT ml_register('sc_cls', ml_fit_one('{"model": "softmax_regression"}', '{"a": 1}'::jsonb, 'up')) AS multiclass,
       ml_register('sc_cls', ml_fit_one('{"model": "logistic_regression"}', '{"a": 1}'::jsonb, true)) AS binary,
       ml_register('sc_cls', ml_fit_one('{"model": "softmax_regression"}', '{"a": 2}'::jsonb, 'down')) AS multiclass_2;
SELECT ml_deploy('sc_cls', 2);
SELECT ml_deploy('sc_cls', 1);
CREATE TABLE items (id int PRIMARY KEY, a float8, cls text, p float8, truth text);
SELECT ml_attach('items', 'sc_cls', key => 'id', prediction => 'cls', probability => 'p', label => 'truth');
SELECT ml_deploy('sc_cls', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_deploy('sc_cls', 3) AS was;
-- (the deployment before 3 was 1; before 1 it was 2, the binary one)
SELECT ml_rollback('sc_cls') AS back_to;
SELECT ml_rollback('sc_cls');
\echo :LAST_ERROR_SQLSTATE
SELECT version FROM ml_aliases WHERE name = 'sc_cls' AND alias = 'production';

SELECT ml_detach('amounts'), ml_detach('items');
DELETE FROM ml_label_queue WHERE model_name LIKE 'sc\_%';
DELETE FROM ml_monitor_inbox WHERE prediction_id IN (SELECT prediction_id FROM ml_prediction_log WHERE model_name LIKE 'sc\_%');
DELETE FROM ml_prediction_log WHERE model_name LIKE 'sc\_%';
SELECT setval(pg_get_serial_sequence('ml_prediction_log', 'prediction_id'), 1, false) AS log_ids_restart
WHERE NOT EXISTS (SELECT 1 FROM ml_prediction_log WHERE prediction_id > 0);
SELECT ml_unregister('sc_reg', force => true), ml_unregister('sc_cls', force => true);
DROP SCHEMA serving_checks CASCADE;
