-- Monitor-only labels (issue 14/15 leftover): ml_attach(..., learn => false) logs a table's labels
-- for the monitoring metrics without queueing them; a version that cannot learn (an imported model,
-- sql/imported_models.sql) is monitor-only whatever learn says. Nothing goes to the queue, nothing
-- to ml_rejected_labels; the metrics count the labels as any others.
CREATE SCHEMA monitor_only;
SET search_path = monitor_only, public;
SET client_min_messages = warning;
SET extra_float_digits = 0;

-- user did: attach a logistic regression (it can learn) with learn => false; insert rows, label them
SELECT ml_register('mo_clf', ml_fit_one('{"model": "logistic_regression", "scale": false, "optimizer": "sgd"}'::ml_model,
                                       '{"a": 1}'::jsonb, 1)) AS version;
SELECT ml_deploy('mo_clf', 1);
SELECT n_seen AS n_seen_before FROM ml_versions('mo_clf') WHERE version = 1;
CREATE TABLE visits (id int PRIMARY KEY, a float8, p float8, bought boolean);
SELECT ml_attach('visits', 'mo_clf', key => 'id', prediction => 'p', label => 'bought', learn => false);
SELECT table_name, learn, explain, mode FROM ml_attachments WHERE table_name = 'visits'::regclass;
INSERT INTO visits (id, a) VALUES (1, 1), (2, -1), (3, 2), (4, -2);
UPDATE visits SET bought = a > 0;
-- the labels are in the log (label, labeled_at), not in the queue; learned_at stays NULL
SELECT key, round(score::numeric, 4) AS score, label, labeled_at IS NOT NULL AS has_labeled_at, learned_at FROM ml_prediction_log
WHERE model_name = 'mo_clf' ORDER BY prediction_id;
SELECT ml_pending_labels('mo_clf') AS pending, (SELECT count(*) FROM ml_label_queue WHERE model_name = 'mo_clf') AS queue_rows;
-- user did: run the learner: it learns nothing, rejects nothing; the version is unchanged
SELECT ml_learn_pending() AS learned;
SELECT n_seen AS n_seen_after FROM ml_versions('mo_clf') WHERE version = 1;
SELECT count(*) AS rejected FROM ml_rejected_labels WHERE model_name = 'mo_clf';
-- the monitoring views count the labels: 4 predictions, 4 labels, accuracy 3/4 (the version, trained
-- on one example, scores a = -1 at exactly 0.5, which is class 1, while its label is 0)
SELECT ml_monitor_refresh() >= 0 AS refreshed;
SELECT metric, round(value::numeric, 4) AS value FROM ml_model_metrics
WHERE model = 'mo_clf' AND metric IN ('predictions', 'labels', 'accuracy') ORDER BY metric;
SELECT metric, value FROM ml_model_health WHERE model = 'mo_clf' AND metric IN ('pending_labels', 'rejected_labels') ORDER BY metric;
-- a second label for a labelled prediction is still ignored (set once)
UPDATE visits SET bought = NULL WHERE id = 1;
UPDATE visits SET bought = false WHERE id = 1;
SELECT label FROM ml_prediction_log WHERE model_name = 'mo_clf' AND key = '1';

-- A label arriving with the row (INSERT with the label), and from a labels table: also logged only.
INSERT INTO visits (id, a, bought) VALUES (5, 3, true);
CREATE TABLE outcomes (visit_id int, bought boolean);
CREATE TABLE visits2 (id int PRIMARY KEY, a float8);
SELECT ml_attach('visits2', 'mo_clf', key => 'id', label_table => 'outcomes', label_key => 'visit_id',
                 label_value => 'bought', learn => false);
INSERT INTO visits2 VALUES (10, 1), (11, -1);
INSERT INTO outcomes VALUES (10, true), (11, false), (12, true);
SELECT key, label, learned_at FROM ml_prediction_log WHERE model_name = 'mo_clf' AND key IN ('5', '10', '11') ORDER BY prediction_id;
SELECT ml_pending_labels('mo_clf') AS pending, ml_learn_pending() AS learned;

-- A bad label is refused as for a learning attachment (the metrics read it as the task's label).
CREATE TABLE scores (id int PRIMARY KEY, a float8, y float8);
SELECT ml_attach('scores', 'mo_clf', key => 'id', label => 'y', learn => false);
INSERT INTO scores (id, a) VALUES (1, 1);
UPDATE scores SET y = 0.5 WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_detach('scores');

-- What is refused: learn => NULL (22004); learn => false with mode 'sync' (22023: it learns labels).
CREATE TABLE refused (id int PRIMARY KEY, a float8, y boolean);
SELECT ml_attach('refused', 'mo_clf', key => 'id', label => 'y', learn => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('refused', 'mo_clf', key => 'id', label => 'y', learn => false, mode => 'sync');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS attached FROM ml_attachments WHERE table_name = 'refused'::regclass;

-- Switching: ml_detach, then ml_attach with the other learn. Labels already logged for monitoring
-- stay monitor-only (a label is set once: the prediction is not queued later); labels queued
-- while the table learned stay queued and are learned by ml_learn_pending after the switch.
SELECT ml_detach('visits');
SELECT ml_attach('visits', 'mo_clf', key => 'id', prediction => 'p', label => 'bought');
SELECT table_name, learn FROM ml_attachments WHERE table_name = 'visits'::regclass;
UPDATE visits SET bought = NULL WHERE id = 2;
UPDATE visits SET bought = true WHERE id = 2;          -- prediction 2 has its label: ignored
INSERT INTO visits (id, a) VALUES (6, 1), (7, -1);
UPDATE visits SET bought = a > 0 WHERE id IN (6, 7);   -- queued: the table learns again
SELECT ml_pending_labels('mo_clf') AS pending;
SELECT ml_detach('visits');
SELECT ml_attach('visits', 'mo_clf', key => 'id', prediction => 'p', label => 'bought', learn => false);
INSERT INTO visits (id, a) VALUES (8, 1);
UPDATE visits SET bought = true WHERE id = 8;          -- logged only
SELECT ml_pending_labels('mo_clf') AS pending_after_switch, ml_learn_pending() AS learned;
SELECT n_seen AS n_seen_now FROM ml_versions('mo_clf') WHERE version = 1;
SELECT key, label, learned_at IS NOT NULL AS learned FROM ml_prediction_log
WHERE model_name = 'mo_clf' AND key IN ('2', '6', '7', '8') AND table_name = 'visits'::regclass ORDER BY prediction_id;

-- A shadow that can learn beside a monitor-only champion: the table's learn => false covers every
-- variant (nothing is queued for the shadow either).
SELECT ml_register('mo_clf', ml_get('mo_clf', 1)) AS version;
SELECT ml_deploy('mo_clf', 2, 'shadow');
SELECT ml_rollout('mo_clf', 'shadow', 'shadow');
INSERT INTO visits (id, a) VALUES (9, 2);
UPDATE visits SET bought = true WHERE id = 9;
SELECT variant, version, label, learned_at FROM ml_prediction_log WHERE model_name = 'mo_clf' AND key = '9' ORDER BY prediction_id;
SELECT ml_pending_labels('mo_clf') AS pending;

SELECT ml_detach('visits');
SELECT ml_detach('visits2');
SELECT ml_rollout_remove('mo_clf', 'shadow');
DELETE FROM ml_monitor_inbox WHERE prediction_id IN (SELECT prediction_id FROM ml_prediction_log WHERE model_name = 'mo_clf');
DELETE FROM ml_prediction_log WHERE model_name = 'mo_clf';
SELECT setval(pg_get_serial_sequence('ml_prediction_log', 'prediction_id'), 1, false) AS log_ids_restart
WHERE NOT EXISTS (SELECT 1 FROM ml_prediction_log WHERE prediction_id > 0);
SELECT ml_unregister('mo_clf', force => true);
DROP SCHEMA monitor_only CASCADE;
