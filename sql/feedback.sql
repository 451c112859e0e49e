-- Scoring triggers and label feedback: ml_attach / ml_detach, the prediction log (features
-- exactly as scored), labels by UPDATE and by a labels table, the queue, ml_learn_pending
-- (order, max_rows, per model, rollback), sync mode, and what happens around an attachment
-- (ON CONFLICT, savepoints, COPY, DROP TABLE, renamed columns, undeploy, unregister).
-- Rollouts: feedback_rollout.sql; errors: feedback_errors.sql; privileges and a hostile
-- search_path: feedback_security.sql. Each file cleans the shared tables up at its end.
CREATE SCHEMA feedback;
SET search_path = feedback, public;
SET extra_float_digits = 0;

-- The tables are in the extension's schema and kept by pg_dump (configuration and data alike).
SELECT t AS feedback_table, to_regclass('public.' || t)::oid = ANY (e.extconfig) AS dumped_by_pg_dump
FROM pg_extension e, unnest(ARRAY['ml_attachments', 'ml_rollouts', 'ml_prediction_log', 'ml_label_queue',
                                  'ml_prediction_log_prediction_id_seq']) t
WHERE e.extname = 'pg_learn';

-- Models whose scores are easy to read: linear regression with the intercept fixed at 0, one
-- SGD step (lr 0.01, squared loss) on a = 1 with label 50 gives w_a = 1; a logistic model for classes.
SELECT ml_register('fb_price', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "intercept_lr": 0}', '{"a": 1}'::jsonb, 50));
SELECT ml_deploy('fb_price', 1);
SELECT ml_register('fb_churn', ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 1));
SELECT ml_deploy('fb_churn', 1);

CREATE TYPE plan AS ENUM ('free', 'pro');
CREATE TABLE houses (
    id    int PRIMARY KEY,
    a     float8,
    f4    float4,
    n     numeric,
    big   int8,
    city  text,
    code  char(4),
    tier  plan,
    pool  boolean,
    price float8,      -- the prediction
    sold  numeric      -- the label
);
-- Rows from before the attachment are not scored.
INSERT INTO houses (id, a) VALUES (0, 1);
SELECT clock_timestamp() AS before_insert \gset

-- ---------------------------------------------------------------------------------------------
-- Attaching: features default to every column but the key, prediction and label columns.
-- ---------------------------------------------------------------------------------------------
SELECT ml_attach('houses', 'fb_price', key => 'id', prediction => 'price', label => 'sold');
SELECT table_name, model_name, alias, key_column, prediction_column, label_column, features, label_table,
       mode, created_by = current_user AS by_me
FROM ml_attachments;
SELECT tgname, tgenabled, pg_get_triggerdef(oid) ~ 'WHEN' AS has_when
FROM pg_trigger WHERE tgrelid = 'houses'::regclass ORDER BY tgname;

-- Inserting scores each row into the prediction column and logs the prediction with its
-- features exactly as scored: floats as the double scored (0.1 + 0.2, and float4 0.1 widened),
-- numerics and int8 exactly, char(n) without padding, enums and text as strings, booleans, NULL.
INSERT INTO houses (id, a, f4, n, big, city, code, tier, pool)
VALUES (1, 0.1::float8 + 0.2::float8, 0.1, 1.50, 9007199254740993, 'Lyon', 'ab', 'pro', true),
       (2, 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
       (3, -4, 1e-7, 123456789.123456789, -5, 'Nice', 'abcd', 'free', false);
SELECT id, price FROM houses ORDER BY id;
SELECT prediction_id, model_name, version, variant, served, table_name, key, score, label, labeled_at, learned_at
FROM ml_prediction_log ORDER BY prediction_id;
SELECT key, features FROM ml_prediction_log ORDER BY prediction_id;
-- The logged features read back as the very values scored: scoring them again gives the logged
-- score bit for bit, and the prediction column holds it.
SELECT l.key, l.score = ml_predict_one(ml_get('fb_price', l.version), l.features) AS rescored_same,
       h.price = l.score AS served_same, (l.features ->> 'a')::float8 = h.a AS a_same,
       (l.features ->> 'f4')::float8 = h.f4::float8 AS f4_same, (l.features ->> 'n')::numeric = h.n AS n_same
FROM ml_prediction_log l JOIN houses h ON h.id::text = l.key ORDER BY l.key;
SELECT bool_and(predicted_at BETWEEN :'before_insert' AND clock_timestamp()) AS predicted_at_insert
FROM ml_prediction_log;

-- An UPDATE that changes a feature scores the row again (a new logged prediction); one that
-- changes nothing scored (or sets a feature to its own value) does not.
UPDATE houses SET a = 3 WHERE id = 2;
UPDATE houses SET a = a, city = city WHERE id = 3;
UPDATE houses SET price = 999 WHERE id = 3;
SELECT id, price FROM houses ORDER BY id;
SELECT key, score, features ->> 'a' AS a FROM ml_prediction_log ORDER BY prediction_id;

-- ---------------------------------------------------------------------------------------------
-- Labels: the label column going from NULL to a value joins the latest prediction of the key
-- and queues it.
-- ---------------------------------------------------------------------------------------------
UPDATE houses SET sold = 10 WHERE id = 2;
SELECT q.prediction_id, q.model_name, q.version, q.label, l.key, l.label AS logged_label,
       l.labeled_at IS NOT NULL AS labeled, l.learned_at
FROM ml_label_queue q JOIN ml_prediction_log l USING (prediction_id);
SELECT ml_pending_labels() AS all_models, ml_pending_labels('fb_price') AS fb_price, ml_pending_labels('nope') AS nope;
-- A label is set once: changing it, or clearing and setting it again, neither relabels the
-- prediction nor queues anything.
UPDATE houses SET sold = 11 WHERE id = 2;
UPDATE houses SET sold = NULL WHERE id = 2;
UPDATE houses SET sold = 12 WHERE id = 2;
SELECT key, label FROM ml_prediction_log WHERE label IS NOT NULL;
SELECT count(*) AS queued FROM ml_label_queue;
-- A row that was never scored (inserted before the attachment) has nothing to learn from.
UPDATE houses SET sold = 1 WHERE id = 0;
SELECT count(*) AS queued FROM ml_label_queue;
-- A row inserted with its label: scored, logged and labelled at once.
INSERT INTO houses (id, a, sold) VALUES (4, 1, 40);
SELECT l.key, l.score, q.label FROM ml_prediction_log l JOIN ml_label_queue q USING (prediction_id) ORDER BY prediction_id;
-- A new prediction for a labelled key (its features changed) takes the next label.
UPDATE houses SET a = 5, sold = NULL WHERE id = 2;
UPDATE houses SET sold = 20 WHERE id = 2;
SELECT key, score, label FROM ml_prediction_log WHERE key = '2' ORDER BY prediction_id;
-- Bringing a label and new features in one UPDATE labels the prediction made with the new ones.
UPDATE houses SET a = 6, sold = 30 WHERE id = 3;
SELECT key, features ->> 'a' AS a, label FROM ml_prediction_log WHERE key = '3' ORDER BY prediction_id;

-- ---------------------------------------------------------------------------------------------
-- Learning: ml_learn_pending applies the queue in prediction order to the version that made
-- each prediction, from the logged features, in the caller's transaction.
-- ---------------------------------------------------------------------------------------------
-- What it must produce: ml_fit_one folded over the logged features and labels, in order, from
-- the model as it is now.
CREATE TABLE expected AS SELECT ml_get('fb_price', 1) AS m;
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT l.features, q.label FROM ml_label_queue q JOIN ml_prediction_log l USING (prediction_id)
             ORDER BY q.prediction_id LOOP
        UPDATE feedback.expected SET m = ml_fit_one(m, r.features, r.label);
    END LOOP;
END
$$;
-- A learner that rolls back changes nothing: the labels stay queued, the model as it was.
BEGIN;
SELECT ml_learn_pending() AS applied;
SELECT ml_pending_labels() AS pending_inside;
ROLLBACK;
SELECT ml_pending_labels() AS pending_after_rollback,
       (SELECT n_seen FROM ml_versions('fb_price') WHERE version = 1) AS n_seen,
       (SELECT count(*) FROM ml_prediction_log WHERE learned_at IS NOT NULL) AS learned;
SELECT ml_learn_pending() AS applied;
SELECT ml_learn_pending() AS applied_again;
SELECT ml_model_bytes(ml_get('fb_price', 1)) = ml_model_bytes(m) AS learned_as_folded,
       (SELECT n_seen FROM ml_versions('fb_price') WHERE version = 1) AS n_seen
FROM expected;
SELECT key, label, learned_at >= labeled_at AS learned_after_labelled FROM ml_prediction_log
WHERE label IS NOT NULL ORDER BY prediction_id;
SELECT ml_pending_labels() AS pending;
-- The learned model serves the next statement.
UPDATE houses SET a = 1 WHERE id = 1;
SELECT price = ml_predict_one(ml_get('fb_price'), '{"a": 1, "f4": 0.10000000149011612, "n": 1.50, "big": 9007199254740993, "city": "Lyon", "code": "ab", "tier": "pro", "pool": true}'::jsonb)
       AS scored_by_learned_model
FROM houses WHERE id = 1;

-- max_rows bounds one call, and the oldest predictions go first; model names one model.
-- (ml_pending_labels is STABLE: called in its own statement, it sees what the learner did.)
INSERT INTO houses (id, a, sold) SELECT i, i, i FROM generate_series(10, 14) i;
SELECT ml_learn_pending(max_rows => 2) AS applied;
SELECT ml_pending_labels() AS left;
SELECT key FROM ml_prediction_log WHERE learned_at IS NOT NULL AND key::int BETWEEN 10 AND 14 ORDER BY key;
SELECT ml_learn_pending('fb_churn') AS other_model;
SELECT ml_learn_pending('fb_price', 100) AS applied;
SELECT ml_pending_labels() AS left;

-- A label that a version cannot learn (its weights would overflow: a poison label) does not hold
-- that version or the others back: it moves to ml_rejected_labels with its error (a WARNING says
-- so), the version and the other models learn the rest. Naming the model does the same.
SELECT ml_register('fb_wild', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "clip_gradient": 1e300}', '{"a": 1}'::jsonb, 1));
SELECT ml_deploy('fb_wild', 1);
CREATE TABLE wild (id int, a float8, y float8);
SELECT ml_attach('wild', 'fb_wild', key => 'id', label => 'y');
INSERT INTO wild VALUES (1, 1e200, 1e200), (2, 1, 2);
INSERT INTO houses (id, a, sold) VALUES (20, 1, 1);
SELECT ml_learn_pending() AS applied;
SELECT ml_pending_labels('fb_wild') AS wild_queued, ml_pending_labels('fb_price') AS price_queued;
SELECT n_seen FROM ml_versions('fb_wild');
SELECT r.key, r.learned_at IS NULL AS unlearned, j.sqlstate, j.message, j.label, j.features
FROM ml_prediction_log r JOIN ml_rejected_labels j USING (prediction_id) WHERE r.model_name = 'fb_wild';
INSERT INTO wild VALUES (3, -1e200, 1e200);
SELECT ml_learn_pending('fb_wild') AS applied_by_name;
SELECT count(*) AS rejected FROM ml_rejected_labels WHERE model_name = 'fb_wild';
SELECT ml_detach('wild');
SELECT ml_unregister('fb_wild', force => true) AS removed;

-- ---------------------------------------------------------------------------------------------
-- Sync mode: a label is learned in the labelling transaction, as it commits; nothing stays queued.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE visits (vid bigint PRIMARY KEY, a float8, p float8, churned boolean);
SELECT ml_attach('visits', 'fb_churn', key => 'vid', prediction => 'p', label => 'churned', mode => 'sync');
INSERT INTO visits (vid, a) VALUES (1, 1), (2, 2), (3, 0.5);
CREATE TABLE expected_churn AS SELECT ml_get('fb_churn', 1) AS m;
UPDATE visits SET churned = true WHERE vid = 2;
UPDATE visits SET churned = false WHERE vid = 3;
SELECT ml_model_bytes(ml_get('fb_churn', 1)) =
       ml_model_bytes(ml_fit_one(ml_fit_one(m, '{"a": 2}'::jsonb, 1), '{"a": 0.5}'::jsonb, 0)) AS learned_at_once,
       (SELECT count(*) FROM ml_label_queue) AS queued
FROM expected_churn;
SELECT key, label, learned_at IS NOT NULL AND learned_at >= labeled_at AS learned_after_labelled
FROM ml_prediction_log WHERE table_name = 'visits'::regclass ORDER BY prediction_id;
-- Until the commit the label waits in the queue, marked sync, unlearned; a labelling
-- transaction that rolls back taught nothing.
BEGIN;
UPDATE visits SET churned = true WHERE vid = 1;
SELECT (SELECT n_seen FROM ml_versions('fb_churn') WHERE version = 1) AS n_seen_inside,
       (SELECT count(*) FROM ml_label_queue WHERE sync) AS queued_sync_inside;
ROLLBACK;
SELECT (SELECT n_seen FROM ml_versions('fb_churn') WHERE version = 1) AS n_seen_after,
       (SELECT count(*) FROM ml_prediction_log WHERE table_name = 'visits'::regclass AND label IS NOT NULL) AS labelled;
-- Labels of several statements are learned together at commit, those of a rolled-back
-- subtransaction not at all.
INSERT INTO visits (vid, a) VALUES (4, 1.5), (5, 3);
TRUNCATE expected_churn;
INSERT INTO expected_churn SELECT ml_get('fb_churn', 1);
BEGIN;
UPDATE visits SET churned = true WHERE vid = 4;
SAVEPOINT s;
UPDATE visits SET churned = true WHERE vid = 1;
ROLLBACK TO SAVEPOINT s;
UPDATE visits SET churned = false WHERE vid = 5;
COMMIT;
SELECT ml_model_bytes(ml_get('fb_churn', 1)) =
       ml_model_bytes(ml_fit_one(ml_fit_one(m, '{"a": 1.5}'::jsonb, 1), '{"a": 3}'::jsonb, 0)) AS learned_at_commit,
       (SELECT count(*) FROM ml_label_queue) AS queued,
       (SELECT count(*) FROM ml_prediction_log WHERE table_name = 'visits'::regclass AND label IS NOT NULL
                                                AND learned_at IS NULL) AS unlearned
FROM expected_churn;
-- A label the version cannot learn (its weights would overflow) does not fail the commit: it moves
-- to ml_rejected_labels (a WARNING says so) and the transaction commits, row and log with it.
SELECT ml_register('fb_wild_sync', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "clip_gradient": 1e300}', '{"a": 1}'::jsonb, 1));
SELECT ml_deploy('fb_wild_sync', 1);
CREATE TABLE wild_sync (id int, a float8, y float8);
SELECT ml_attach('wild_sync', 'fb_wild_sync', key => 'id', label => 'y', mode => 'sync');
INSERT INTO wild_sync VALUES (1, 1e200, 1e200);
SELECT (SELECT count(*) FROM wild_sync) AS rows, (SELECT n_seen FROM ml_versions('fb_wild_sync')) AS n_seen,
       ml_pending_labels() AS queued,
       (SELECT count(*) FROM ml_rejected_labels WHERE model_name = 'fb_wild_sync') AS rejected;
SELECT ml_detach('wild_sync');
SELECT ml_unregister('fb_wild_sync', force => true) AS removed;
-- A label the model cannot learn is refused, and the row keeps its NULL label.
UPDATE houses SET sold = 'NaN' WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT sold FROM houses WHERE id = 1;
-- (a logistic model's classes are 0 and 1: an integer label 2 is refused)
CREATE TABLE visits2 (vid int PRIMARY KEY, a float8, n_clicks int);
SELECT ml_attach('visits2', 'fb_churn', key => 'vid', label => 'n_clicks', features => ARRAY['a']);
INSERT INTO visits2 VALUES (1, 1, NULL);
UPDATE visits2 SET n_clicks = 2 WHERE vid = 1;
\echo :LAST_ERROR_SQLSTATE
UPDATE visits2 SET n_clicks = 1 WHERE vid = 1;
SELECT key, score > 0.5 AS positive, label FROM ml_prediction_log WHERE table_name = 'visits2'::regclass;
SELECT ml_learn_pending('fb_churn') AS applied;

-- ---------------------------------------------------------------------------------------------
-- Labels in a labels table: a row (key, value) joins the latest prediction of that key.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE orders (order_id text PRIMARY KEY, amount numeric, score float8);
CREATE TABLE outcomes (order_id text, paid int, noted_at timestamptz DEFAULT now());
SELECT ml_attach('orders', 'fb_price', key => 'order_id', prediction => 'score', features => ARRAY['amount'],
                 label_table => 'outcomes', label_key => 'order_id', label_value => 'paid');
SELECT label_table, label_key_column, label_value_column, features FROM ml_attachments WHERE table_name = 'orders'::regclass;
SELECT tgrelid::regclass, tgname FROM pg_trigger WHERE tgname LIKE 'pg_learn%' AND tgrelid = 'outcomes'::regclass;
INSERT INTO orders VALUES ('o-1', 10, NULL), ('o-2', 20, NULL), ('o-3', 30, NULL);
INSERT INTO outcomes (order_id, paid) VALUES ('o-1', 1), ('o-2', NULL), ('o-9', 1);
-- o-1 is queued; o-2's label is still NULL; o-9 was never scored.
SELECT l.key, q.label FROM ml_label_queue q JOIN ml_prediction_log l USING (prediction_id) ORDER BY l.key;
-- A second label for o-1 is ignored; o-2's arrives as an UPDATE from NULL.
INSERT INTO outcomes (order_id, paid) VALUES ('o-1', 0);
UPDATE outcomes SET paid = 0 WHERE order_id = 'o-2';
UPDATE outcomes SET paid = 5 WHERE order_id = 'o-2';
SELECT l.key, q.label FROM ml_label_queue q JOIN ml_prediction_log l USING (prediction_id) ORDER BY l.key;
SELECT ml_learn_pending() AS applied;

-- ---------------------------------------------------------------------------------------------
-- Around an attachment.
-- ---------------------------------------------------------------------------------------------
-- A savepoint rolled back takes its predictions with it.
BEGIN;
SAVEPOINT s;
INSERT INTO houses (id, a) VALUES (100, 1);
ROLLBACK TO SAVEPOINT s;
INSERT INTO houses (id, a) VALUES (101, 1);
COMMIT;
SELECT key FROM ml_prediction_log WHERE key IN ('100', '101');
-- INSERT ... ON CONFLICT: a row not inserted (DO NOTHING) logs nothing; DO UPDATE scores the
-- updated row again when its features change.
INSERT INTO houses (id, a) VALUES (101, 7) ON CONFLICT (id) DO NOTHING;
INSERT INTO houses (id, a) VALUES (101, 8) ON CONFLICT (id) DO UPDATE SET a = excluded.a;
SELECT key, features ->> 'a' AS a FROM ml_prediction_log WHERE key = '101' ORDER BY prediction_id;
SELECT price = ml_predict_one(ml_get('fb_price'), '{"a": 8}'::jsonb) AS upserted_score FROM houses WHERE id = 101;
-- COPY fires the triggers too.
COPY houses (id, a) FROM stdin;
200	2
201	3
\.
SELECT h.id, h.price = l.score AS logged FROM houses h JOIN ml_prediction_log l ON l.key = h.id::text
WHERE h.id >= 200 ORDER BY h.id;
-- A NULL key cannot be scored (labels find predictions by key); a NaN feature cannot either:
-- the row is not inserted.
CREATE TABLE loose (k int, a float8, p float8);
SELECT ml_attach('loose', 'fb_price', key => 'k', prediction => 'p');
INSERT INTO loose VALUES (NULL, 1, NULL);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO loose VALUES (1, 'NaN', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS rows FROM loose;
-- Scores go into float4, numeric(p, s) and domain prediction columns, cast as an assignment would
-- (a fresh model scoring a).
SELECT ml_register('fb_typed', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "intercept_lr": 0}', '{"a": 1}'::jsonb, 50));
SELECT ml_deploy('fb_typed', 1);
CREATE DOMAIN positive_score AS float8 CHECK (VALUE > 0);
CREATE TABLE typed (k int, a float8, p4 float4, pn numeric(6, 3), pd positive_score);
SELECT ml_attach('typed', 'fb_typed', key => 'k', prediction => 'p4', features => ARRAY['a']);
INSERT INTO typed (k, a) VALUES (1, 0.3);
SELECT ml_detach('typed');
SELECT ml_attach('typed', 'fb_typed', key => 'k', prediction => 'pn', features => ARRAY['a']);
INSERT INTO typed (k, a) VALUES (2, 0.3);
SELECT ml_detach('typed');
SELECT ml_attach('typed', 'fb_typed', key => 'k', prediction => 'pd', features => ARRAY['a']);
INSERT INTO typed (k, a) VALUES (3, 0.3);
INSERT INTO typed (k, a) VALUES (4, -1);  -- the domain's CHECK refuses a negative score
\echo :LAST_ERROR_SQLSTATE
INSERT INTO typed (k, a) VALUES (5, 1e-300);
INSERT INTO typed (k, a) VALUES (6, 1e300);  -- into float4: out of range
SELECT ml_detach('typed');
SELECT ml_attach('typed', 'fb_typed', key => 'k', prediction => 'p4', features => ARRAY['a']);
INSERT INTO typed (k, a) VALUES (6, 1e300);
\echo :LAST_ERROR_SQLSTATE
SELECT k, p4, pn, pd FROM typed ORDER BY k;
SELECT ml_detach('typed');
-- Renaming an attached column: scoring fails clearly until the table is attached again.
CREATE TABLE renamed (k int, a float8, p float8);
SELECT ml_attach('renamed', 'fb_price', key => 'k', prediction => 'p');
ALTER TABLE renamed RENAME COLUMN a TO b;
INSERT INTO renamed VALUES (1, 1, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_detach('renamed');
SELECT ml_attach('renamed', 'fb_price', key => 'k', prediction => 'p');
INSERT INTO renamed VALUES (1, 1, NULL);
SELECT features FROM ml_prediction_log WHERE table_name = 'renamed'::regclass;
-- Dropping a column the triggers watch needs CASCADE (their column lists depend on it).
ALTER TABLE renamed DROP COLUMN b;
\echo :LAST_ERROR_SQLSTATE
-- While a table is attached, its champion alias stays deployed and its model registered; a
-- version with queued labels stays registered too.
SELECT ml_undeploy('fb_price');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_unregister('fb_price', force => true);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('typed', 'fb_typed', key => 'k', label => 'pn', features => ARRAY['a']);
INSERT INTO typed (k, a, pn) VALUES (8, 1, 1);
SELECT ml_detach('typed');
SELECT ml_pending_labels('fb_typed') AS pending;
SELECT ml_unregister('fb_typed', force => true);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_learn_pending('fb_typed') AS applied;
SELECT ml_unregister('fb_typed', force => true) AS removed;
-- Dropping an attached table forgets its attachment (an event trigger); a dropped labels table
-- leaves its attachment without labels. The log stays.
DROP TABLE renamed;
SELECT count(*) AS attachments_of_renamed FROM ml_attachments WHERE table_name::text = 'renamed';
DROP TABLE outcomes;
SELECT label_table, label_key_column, label_value_column FROM ml_attachments WHERE table_name = 'orders'::regclass;
INSERT INTO orders VALUES ('o-4', 40, NULL);
SELECT count(*) AS orders_logged FROM ml_prediction_log WHERE key LIKE 'o-%';

-- ---------------------------------------------------------------------------------------------
-- Detaching removes the triggers; queued labels stay learnable, the log stays.
-- ---------------------------------------------------------------------------------------------
UPDATE houses SET sold = 3 WHERE id = 1;
SELECT ml_pending_labels() AS pending;
SELECT ml_detach('houses');
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'houses'::regclass;
INSERT INTO houses (id, a) VALUES (300, 1);
SELECT price IS NULL AS not_scored FROM houses WHERE id = 300;
SELECT ml_learn_pending() AS applied_after_detach;
-- Attached again, it scores again.
SELECT ml_attach('houses', 'fb_price', key => 'id', prediction => 'price', features => ARRAY['a']);
INSERT INTO houses (id, a) VALUES (301, 1);
SELECT price IS NOT NULL AS scored FROM houses WHERE id = 301;

-- ---------------------------------------------------------------------------------------------
-- Clean up the shared tables: detach, forget this file's log, unregister.
-- ---------------------------------------------------------------------------------------------
SELECT ml_detach(table_name) FROM ml_attachments ORDER BY table_name::text;
DELETE FROM ml_label_queue;
DELETE FROM ml_prediction_log;
SELECT ml_unregister('fb_price', force => true), ml_unregister('fb_churn', force => true);
DROP SCHEMA feedback CASCADE;
