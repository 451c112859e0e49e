-- Issue 12, item 2: poison labels do not block a model. A label that a version cannot learn (it
-- would make the model's statistics overflow or its weights diverge) moves to ml_rejected_labels
-- with its error; the version learns the other labels, in order, as if it had never arrived.
CREATE SCHEMA poison;
SET search_path = poison, public;
SET client_min_messages = warning;

-- user did: queued labels of a scaled model, two of them on a feature of 1e155 (its running
-- variance would overflow), learned by one ml_learn_pending batch.
SELECT ml_register('poisoned', '{"model": "logistic_regression"}'::ml_model);
SELECT ml_deploy('poisoned', 1);
CREATE TABLE events (id int PRIMARY KEY, a float8, clicked boolean);
SELECT ml_attach('events', 'poisoned', key => 'id', label => 'clicked');
INSERT INTO events (id, a) VALUES (1, 1), (2, 2), (3, 1e155), (4, 3), (5, -1e155), (6, 0.5), (7, 2.5);
CREATE TABLE start AS SELECT ml_get('poisoned', 1) AS m;
UPDATE events SET clicked = (id % 2 = 0);
SELECT ml_pending_labels('poisoned') AS queued;
SELECT ml_learn_pending() AS applied;
SELECT ml_pending_labels('poisoned') AS queued_after,
       (SELECT n_seen FROM ml_versions('poisoned') WHERE version = 1) AS n_seen;
-- The rejected labels, with their error and a copy of the prediction's features and label.
SELECT l.key, j.version, j.label, (j.features ->> 'a')::float8 AS a, j.sqlstate, j.message, j.detail,
       j.labeled_at = l.labeled_at AS same_labeled_at, j.rejected_at IS NOT NULL AS has_rejected_at
FROM ml_rejected_labels j JOIN ml_prediction_log l USING (prediction_id) ORDER BY l.key;
-- Their log rows stay labelled but unlearned; every other label is learned, in one batch.
SELECT key, label, learned_at IS NOT NULL AS learned FROM ml_prediction_log
WHERE model_name = 'poisoned' ORDER BY prediction_id;
SELECT count(DISTINCT learned_at) AS batches FROM ml_prediction_log WHERE model_name = 'poisoned';
-- The model is the version's model learning the other labels in the order learned_at, then
-- prediction_id, gives (docs/feedback.md, "Learning order"): bit for bit.
CREATE FUNCTION replay(name text, version int) RETURNS ml_model LANGUAGE plpgsql AS $$
DECLARE
    m ml_model := (SELECT s.m FROM start s);
    r record;
BEGIN
    FOR r IN SELECT features, label FROM ml_prediction_log l
             WHERE l.model_name = name AND l.version = replay.version AND l.learned_at IS NOT NULL
             ORDER BY l.learned_at, l.prediction_id LOOP
        m := ml_fit_one(m, r.features, r.label);
    END LOOP;
    RETURN m;
END $$;
SELECT ml_model_bytes(ml_get('poisoned', 1)) = ml_model_bytes(replay('poisoned', 1)) AS equals_replay;
-- A later batch, with one more poison label among good ones, continues from there.
INSERT INTO events (id, a) VALUES (8, 1.5), (9, 1e155), (10, 4);
UPDATE events SET clicked = true WHERE id >= 8;
SELECT ml_learn_pending('poisoned') AS applied_by_name;
SELECT count(*) AS rejected FROM ml_rejected_labels WHERE model_name = 'poisoned';
SELECT count(DISTINCT learned_at) AS batches FROM ml_prediction_log WHERE model_name = 'poisoned';
SELECT ml_model_bytes(ml_get('poisoned', 1)) = ml_model_bytes(replay('poisoned', 1)) AS equals_replay;
-- ml_model_health counts them for the deployed version.
SELECT metric, value FROM ml_model_health WHERE model = 'poisoned' AND metric IN ('pending_labels', 'rejected_labels');

-- user did: the same in sync mode. The labelling transaction commits; the poison label is
-- rejected with a WARNING, the others of the transaction are learned.
SELECT ml_register('poisoned_sync', '{"model": "logistic_regression"}'::ml_model);
SELECT ml_deploy('poisoned_sync', 1);
CREATE TABLE sync_events (id int PRIMARY KEY, a float8, clicked boolean);
SELECT ml_attach('sync_events', 'poisoned_sync', key => 'id', label => 'clicked', mode => 'sync');
INSERT INTO sync_events (id, a) VALUES (1, 1), (2, 2), (3, 1e155);
SET client_min_messages = notice;
UPDATE sync_events SET clicked = (id = 2);
SET client_min_messages = warning;
SELECT (SELECT count(*) FROM sync_events WHERE clicked IS NOT NULL) AS labelled_rows,
       (SELECT n_seen FROM ml_versions('poisoned_sync') WHERE version = 1) AS n_seen,
       ml_pending_labels('poisoned_sync') AS queued,
       (SELECT string_agg(l.key, ',') FROM ml_rejected_labels j JOIN ml_prediction_log l USING (prediction_id)
        WHERE j.model_name = 'poisoned_sync') AS rejected_keys;

-- user did: a multiclass model's poison label keeps its class.
SELECT ml_register('poisoned_classes', '{"model": "softmax_regression"}'::ml_model);
SELECT ml_deploy('poisoned_classes', 1);
CREATE TABLE tickets (id int PRIMARY KEY, a float8, queue text);
SELECT ml_attach('tickets', 'poisoned_classes', key => 'id', label => 'queue');
INSERT INTO tickets (id, a) VALUES (1, 1), (2, 2), (3, 1e155), (4, 3);
UPDATE tickets SET queue = CASE id WHEN 1 THEN 'billing' WHEN 2 THEN 'tech' WHEN 3 THEN 'sales' ELSE 'tech' END;
SELECT ml_learn_pending('poisoned_classes') AS applied;
SELECT label, label_class, sqlstate FROM ml_rejected_labels WHERE model_name = 'poisoned_classes';
SELECT ml_info(ml_get('poisoned_classes', 1)) -> 'classes' AS classes;

-- user did: the owner deletes a rejected label once dealt with; the row is not kept by anything
-- (unregistering the version is not blocked by it, unlike a queued label).
DELETE FROM ml_rejected_labels WHERE model_name = 'poisoned_classes';
SELECT ml_detach('tickets');
SELECT ml_detach('sync_events');
SELECT ml_unregister('poisoned_sync', force => true) AS removed;
SELECT count(*) AS rejected_kept FROM ml_rejected_labels WHERE model_name = 'poisoned_sync';
-- (the log and the rejected labels are the extension's: leave nothing for later tests)
SELECT ml_detach('events');
SELECT ml_unregister(name, force => true) FROM unnest(ARRAY['poisoned', 'poisoned_classes']) name;
DELETE FROM ml_rejected_labels WHERE model_name LIKE 'poisoned%';
DELETE FROM ml_prediction_log WHERE model_name LIKE 'poisoned%';
RESET client_min_messages;
DROP SCHEMA poison CASCADE;
