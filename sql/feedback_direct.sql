-- How the feedback triggers write (issue 12 item 7, docs/feedback.md "Transactions and caches"):
-- log rows, labels and queue rows are written without a statement (ExecSimpleRelation* and
-- index look-ups) while the log and the queue have only pg_learn's own triggers, and through SPI
-- statements run as the owner when someone put a trigger of their own there. Both ways give the
-- same rows, fire monitoring's triggers and the foreign keys' checks, and set a label once.
CREATE SCHEMA feedback_direct;
SET search_path = feedback_direct, public;
SET extra_float_digits = 0;

SELECT ml_register('fd_m', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "intercept_lr": 0}', '{"a": 1}'::jsonb, 50));
SELECT ml_deploy('fd_m', 1);
CREATE TABLE fd (id int PRIMARY KEY, a float8, p float8, y float8);
SELECT ml_attach('fd', 'fd_m', key => 'id', prediction => 'p', label => 'y');
CREATE TABLE fd_labels (id int, v float8);
CREATE TABLE fd2 (id int PRIMARY KEY, a float8, p float8);
SELECT ml_attach('fd2', 'fd_m', key => 'id', prediction => 'p', label_table => 'fd_labels', label_key => 'id', label_value => 'v');

-- The log keeps room on its pages for the label's row version (HOT updates).
SELECT reloptions FROM pg_class WHERE oid = 'ml_prediction_log'::regclass;

-- The rows written, as one query shows them (log, queue, and monitoring's inbox events).
CREATE VIEW fd_state AS
SELECT l.key, l.table_name::text AS tbl, l.score, l.label, l.labeled_at IS NOT NULL AS labeled,
       q.label AS queued, q.model_name AS q_model, q.version AS q_version, q.sync AS q_sync,
       (SELECT string_agg(i.events::text, ',' ORDER BY i.events) FROM ml_monitor_inbox i
        WHERE i.prediction_id = l.prediction_id) AS inbox_events
FROM ml_prediction_log l LEFT JOIN ml_label_queue q USING (prediction_id)
WHERE l.table_name IN ('fd'::regclass, 'fd2'::regclass)
ORDER BY l.prediction_id;

-- user did: insert rows and label them, one by UPDATE of the label column, one with the row,
-- one through a labels table (direct writes): each prediction logged once with inbox event 1,
-- each label on its log row and queued once, with inbox event 2 (also when it came with the
-- row: the prediction is logged, then labelled).
INSERT INTO fd (id, a) VALUES (1, 1), (2, 2);
INSERT INTO fd (id, a, y) VALUES (3, 3, 30);
UPDATE fd SET y = 10 WHERE id = 1;
INSERT INTO fd2 (id, a) VALUES (1, 4), (2, 5);
INSERT INTO fd_labels VALUES (1, 40);
SELECT * FROM fd_state;

-- user did: label a prediction twice in one statement (two rows of the labels table for one
-- key): the first sets it, the second finds it set and does nothing.
INSERT INTO fd_labels VALUES (2, 50), (2, 51);
SELECT key, label, queued FROM fd_state WHERE tbl = 'fd2' ORDER BY key;

-- user did: label in a savepoint rolled back, then again: only the second counts.
BEGIN;
SAVEPOINT s;
UPDATE fd SET y = 20 WHERE id = 2;
SELECT key, label, queued FROM fd_state WHERE tbl = 'fd' AND key = '2';
ROLLBACK TO SAVEPOINT s;
SELECT key, label, queued FROM fd_state WHERE tbl = 'fd' AND key = '2';
UPDATE fd SET y = 21 WHERE id = 2;
COMMIT;
SELECT key, label, queued, inbox_events FROM fd_state WHERE tbl = 'fd' AND key = '2';

-- user did: label in a REPEATABLE READ transaction (no concurrent writer: no conflict).
INSERT INTO fd (id, a) VALUES (4, 4);
BEGIN ISOLATION LEVEL REPEATABLE READ;
UPDATE fd SET y = 40 WHERE id = 4;
COMMIT;
SELECT key, label, queued FROM fd_state WHERE tbl = 'fd' AND key = '4';

-- user did: put triggers of their own on the log (AFTER INSERT and AFTER UPDATE) and on the
-- queue: the triggers then log, label and queue through SPI as the owner's statements, and the
-- user's triggers fire once for each row, as they would for the owner's own INSERT and UPDATE.
CREATE TABLE fd_audit (what text, prediction_id bigint);
CREATE FUNCTION fd_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feedback_direct.fd_audit VALUES (TG_TABLE_NAME || ' ' || TG_OP, NEW.prediction_id);
    RETURN NULL;
END $$;
CREATE TRIGGER fd_audit_log AFTER INSERT OR UPDATE ON ml_prediction_log FOR EACH ROW EXECUTE FUNCTION fd_audit();
CREATE TRIGGER fd_audit_queue AFTER INSERT ON ml_label_queue FOR EACH ROW EXECUTE FUNCTION fd_audit();
INSERT INTO fd (id, a) VALUES (5, 5);
UPDATE fd SET y = 50 WHERE id = 5;
INSERT INTO fd2 (id, a) VALUES (3, 6);
INSERT INTO fd_labels VALUES (3, 60);
SELECT * FROM fd_state WHERE key IN ('5', '3') ORDER BY tbl, key;
SELECT a.what, l.table_name::text AS tbl, l.key
FROM fd_audit a JOIN ml_prediction_log l USING (prediction_id) ORDER BY a.what, tbl, l.key;
DROP TRIGGER fd_audit_log ON ml_prediction_log;
DROP TRIGGER fd_audit_queue ON ml_label_queue;

-- And back to direct writes once they are gone (the same session: its caches follow).
INSERT INTO fd (id, a) VALUES (6, 6);
UPDATE fd SET y = 60 WHERE id = 6;
SELECT key, score, label, queued, inbox_events FROM fd_state WHERE tbl = 'fd' AND key = '6';
SELECT count(*) AS audited_after_drop FROM fd_audit a JOIN ml_prediction_log l USING (prediction_id) WHERE l.key = '6';

-- Learning takes every queued label once.
SELECT ml_learn_pending('fd_m') AS learned;
SELECT count(*) AS still_queued FROM ml_label_queue;

-- user did: update rows without changing what the triggers watch (issue 12 item 7: the
-- conditions of the former WHEN clauses of pg_learn_log_update and ml_monitor_label are tested
-- in C, with the same result): the key and a feature set to themselves, a numeric feature set
-- to an equal number written otherwise (1.0 -> 1.00: other bytes, equal by numeric's =), a
-- column that is not watched, a label set a second time: nothing is logged, labelled, queued
-- or sent to monitoring again. A feature that changes is scored and logged again, and the
-- label that arrives on a row is joined once, with one inbox event.
CREATE TABLE fd3 (id int PRIMARY KEY, a numeric, t text, p float8, y float8);
SELECT ml_attach('fd3', 'fd_m', key => 'id', prediction => 'p', label => 'y', features => ARRAY['a']);
INSERT INTO fd3 (id, a, t) VALUES (1, 1.0, 'x'), (2, 2, 'y');
UPDATE fd3 SET id = id, a = a;
UPDATE fd3 SET a = 1.00 WHERE id = 1;
UPDATE fd3 SET t = 'z';
UPDATE fd3 SET y = 7 WHERE id = 1;
UPDATE fd3 SET y = 8 WHERE id = 1;
UPDATE fd3 SET a = 3 WHERE id = 2;
UPDATE fd3 SET a = 4, y = 9 WHERE id = 2;
SELECT l.key, l.score, l.label, q.label AS queued,
       (SELECT string_agg(i.events::text, ',' ORDER BY i.events) FROM ml_monitor_inbox i
        WHERE i.prediction_id = l.prediction_id) AS inbox_events
FROM ml_prediction_log l LEFT JOIN ml_label_queue q USING (prediction_id)
WHERE l.table_name = 'fd3'::regclass ORDER BY l.prediction_id;
SELECT id, a, p, y FROM fd3 ORDER BY id;
SELECT g.tgname, pg_get_triggerdef(g.oid) LIKE '% WHEN %' AS has_when_clause
FROM pg_trigger g WHERE g.tgrelid IN ('fd3'::regclass, 'ml_prediction_log'::regclass)
  AND g.tgname IN ('pg_learn_log_update', 'ml_monitor_label') ORDER BY 1;
-- A key type without "=" is refused as the WHEN clause refused it.
CREATE TABLE fd4 (k json, a float8);
DO $$
BEGIN
    PERFORM ml_attach('fd4', 'fd_m', key => 'k');
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE '%: %', SQLSTATE, SQLERRM;
END $$;
-- user did: added a CHECK constraint to ml_label_queue in the session that gives labels (the
-- queue's checks are read and planned once per backend, issue 12 item 7): the next label is
-- checked against it (23514, nothing labelled or queued), and once it is dropped the label is
-- given and queued.
INSERT INTO fd3 (id, a) VALUES (10, 1), (11, 2);
UPDATE fd3 SET y = 1 WHERE id = 10;
ALTER TABLE ml_label_queue ADD CONSTRAINT fd_small_labels CHECK (label < 100);
\set VERBOSITY terse
UPDATE fd3 SET y = 500 WHERE id = 11;
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE
SELECT l.key, l.label, q.label AS queued FROM ml_prediction_log l LEFT JOIN ml_label_queue q USING (prediction_id)
WHERE l.table_name = 'fd3'::regclass AND l.key IN ('10', '11') ORDER BY l.prediction_id;
ALTER TABLE ml_label_queue DROP CONSTRAINT fd_small_labels;
UPDATE fd3 SET y = 500 WHERE id = 11;
SELECT l.key, l.label, q.label AS queued FROM ml_prediction_log l LEFT JOIN ml_label_queue q USING (prediction_id)
WHERE l.table_name = 'fd3'::regclass AND l.key IN ('10', '11') ORDER BY l.prediction_id;
SELECT ml_detach('fd3');

-- user did: changed the log between transactions of this session. The direct writer keeps what
-- it built (IndexInfo, the result relation, an executor state) across transactions (issue 12
-- item 7) and builds it again when the log or one of its indexes changes: an index created on
-- the log gets the next rows' entries, a CHECK added to the log refuses the next row (23514,
-- nothing stored), and a dropped one no longer does; a rolled-back transaction or savepoint
-- takes its predictions with it and leaves the writer usable.
INSERT INTO fd (id, a) VALUES (20, 1);
CREATE INDEX fd_log_variant ON ml_prediction_log (variant, key);
INSERT INTO fd (id, a) VALUES (21, 2);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT key FROM ml_prediction_log WHERE variant = 'production' AND key IN ('20', '21');
SELECT key FROM ml_prediction_log WHERE variant = 'production' AND key IN ('20', '21') ORDER BY key;
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP INDEX fd_log_variant;
ALTER TABLE ml_prediction_log ADD CONSTRAINT fd_small_scores CHECK (score < 1000);
\set VERBOSITY terse
INSERT INTO fd (id, a) VALUES (22, 1e6);
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE
INSERT INTO fd (id, a) VALUES (23, 3);
ALTER TABLE ml_prediction_log DROP CONSTRAINT fd_small_scores;
INSERT INTO fd (id, a) VALUES (22, 1e6);
BEGIN;
INSERT INTO fd (id, a) VALUES (24, 4);
ROLLBACK;
BEGIN;
INSERT INTO fd (id, a) VALUES (25, 5);
SAVEPOINT s;
INSERT INTO fd (id, a) VALUES (26, 6);
ROLLBACK TO SAVEPOINT s;
INSERT INTO fd (id, a) VALUES (27, 7);
COMMIT;
INSERT INTO fd (id, a) VALUES (28, 8);
SELECT f.id, l.key IS NOT NULL AS logged, l.score = f.p AS same_score, l.inbox_events
FROM fd f LEFT JOIN fd_state l ON l.tbl = 'fd' AND l.key = f.id::text
WHERE f.id >= 20 ORDER BY f.id;
SELECT count(*) AS logged_not_stored FROM ml_prediction_log l
WHERE l.table_name = 'fd'::regclass AND l.key::int >= 20 AND NOT EXISTS (SELECT 1 FROM fd WHERE fd.id = l.key::int);

-- Monitoring's inbox events of the predictions logged directly are queued by the writer and
-- written together when the statement's executor finishes (issue 12 item 7; before, each was a
-- trigger event of ml_monitor_prediction): the same events, visible as the statement ends, taken
-- back with a rolled-back savepoint, a PL/pgSQL block that fails or a transaction, and each
-- logged prediction with exactly one event. The view of the orphans: events without their log
-- row (of this test: the earlier tests may leave some), log rows of fd without their event.
SELECT coalesce(max(prediction_id), 0) AS fd_inbox_before FROM ml_monitor_inbox \gset
CREATE VIEW fd_inbox_check AS
SELECT (SELECT count(*) FROM ml_monitor_inbox i
        WHERE i.prediction_id > :fd_inbox_before AND NOT EXISTS (SELECT 1 FROM ml_prediction_log l WHERE l.prediction_id = i.prediction_id)) AS orphan_events,
       (SELECT count(*) FROM ml_prediction_log l WHERE l.table_name = 'fd'::regclass AND l.labeled_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM ml_monitor_inbox i WHERE i.prediction_id = l.prediction_id)) AS rows_without_event,
       (SELECT count(*) FROM (SELECT 1 FROM ml_monitor_inbox GROUP BY prediction_id, events HAVING count(*) > 1) d)
           AS duplicate_events;
-- user did: insert in a transaction, read the inbox before COMMIT: the statement's events are there.
BEGIN;
INSERT INTO fd (id, a) VALUES (30, 1), (31, 2);
SELECT key, inbox_events FROM fd_state WHERE tbl = 'fd' AND key IN ('30', '31') ORDER BY key;
SAVEPOINT s;
INSERT INTO fd (id, a) VALUES (32, 3);
ROLLBACK TO SAVEPOINT s;
SAVEPOINT t;
INSERT INTO fd (id, a) VALUES (33, 3);
RELEASE SAVEPOINT t;
COMMIT;
SELECT key, inbox_events FROM fd_state WHERE tbl = 'fd' AND key IN ('30', '31', '32', '33') ORDER BY key;
SELECT * FROM fd_inbox_check;
-- user did: a PL/pgSQL block whose inner block logs rows and then fails (its subtransaction
-- rolls back: rows, log rows and events), and an inner block that succeeds.
DO $$
BEGIN
    INSERT INTO feedback_direct.fd (id, a) VALUES (34, 4);
    BEGIN
        INSERT INTO feedback_direct.fd (id, a) VALUES (35, 5);
        RAISE EXCEPTION 'fd: failing on purpose';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    BEGIN
        INSERT INTO feedback_direct.fd (id, a) VALUES (36, 6);
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
END $$;
SELECT key, inbox_events FROM fd_state WHERE tbl = 'fd' AND key IN ('34', '35', '36') ORDER BY key;
SELECT * FROM fd_inbox_check;
-- user did: an INSERT into fd whose trigger inserts into fd2 (attached as well) at a nested
-- level, and a statement that fails after logging: every prediction of the nested INSERT and
-- of the outer one has one event; the failed statement leaves none.
CREATE FUNCTION fd_copy_to_fd2() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feedback_direct.fd2 (id, a) VALUES (NEW.id + 1000, NEW.a), (NEW.id + 2000, NEW.a);
    RETURN NULL;
END $$;
CREATE TRIGGER fd_copy AFTER INSERT ON fd FOR EACH ROW EXECUTE FUNCTION fd_copy_to_fd2();
INSERT INTO fd (id, a) VALUES (37, 7), (38, 8);
DROP TRIGGER fd_copy ON fd;
SELECT tbl, key, inbox_events FROM fd_state WHERE key IN ('37', '38', '1037', '1038', '2037', '2038') ORDER BY tbl, key;
CREATE FUNCTION fd_fail() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.a = 99 THEN
        RAISE EXCEPTION 'fd: failing after the row was logged';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER zz_fd_fail AFTER INSERT ON fd FOR EACH ROW EXECUTE FUNCTION fd_fail();
INSERT INTO fd (id, a) VALUES (39, 9), (45, 99);
BEGIN;
SAVEPOINT f;
INSERT INTO fd (id, a) VALUES (39, 9), (45, 99);
ROLLBACK TO SAVEPOINT f;
INSERT INTO fd (id, a) VALUES (46, 6);
COMMIT;
DROP TRIGGER zz_fd_fail ON fd;
SELECT key, inbox_events FROM fd_state WHERE tbl = 'fd' AND key IN ('39', '45', '46') ORDER BY key;
SELECT * FROM fd_inbox_check;
-- user did: COPY rows into fd, and an INSERT ... SELECT of 10000 rows (events written every
-- 8192 rows of a statement, the rest at its end): one event each.
COPY fd (id, a) FROM stdin;
40	1
41	2
42	3
\.
INSERT INTO fd (id, a) SELECT i, i % 7 FROM generate_series(100, 10099) i;
SELECT count(*) AS logged, count(i.prediction_id) AS with_event
FROM ml_prediction_log l LEFT JOIN ml_monitor_inbox i USING (prediction_id)
WHERE l.table_name = 'fd'::regclass AND (l.key::int BETWEEN 40 AND 42 OR l.key::int BETWEEN 100 AND 10099);
SELECT * FROM fd_inbox_check;
-- user did: disabled monitoring's trigger on the log (its events are not queued) and enabled it
-- again (they are).
ALTER TABLE ml_prediction_log DISABLE TRIGGER ml_monitor_prediction;
INSERT INTO fd (id, a) VALUES (43, 3);
ALTER TABLE ml_prediction_log ENABLE TRIGGER ml_monitor_prediction;
INSERT INTO fd (id, a) VALUES (44, 4);
SELECT key, inbox_events FROM fd_state WHERE tbl = 'fd' AND key IN ('43', '44') ORDER BY key;
DELETE FROM fd WHERE id >= 100;
DROP VIEW fd_inbox_check;

-- DDL on the log and the queue in the transaction that logged (session 10): the writer kept its
-- relation references until commit, and PostgreSQL refused the DDL ("cannot CREATE INDEX
-- \"ml_prediction_log\" because it is being used by active queries in this session"). Rows logged
-- and labelled before and after each statement, each once, with its score as in the table.
BEGIN;
INSERT INTO fd (id, a) VALUES (12001, 1);
CREATE INDEX fd_log_score ON ml_prediction_log (score);
INSERT INTO fd (id, a) VALUES (12002, 2);
UPDATE fd SET y = 5 WHERE id = 12001;
CREATE INDEX fd_queue_at ON ml_label_queue (queued_at);
UPDATE fd SET y = 6 WHERE id = 12002;
DROP INDEX fd_log_score;
DROP INDEX fd_queue_at;
INSERT INTO fd (id, a) VALUES (12003, 3);
COMMIT;
SELECT s.key, s.score = f.p AS score_as_scored, s.label, s.queued, s.inbox_events
FROM fd_state s JOIN fd f ON f.id::text = s.key WHERE s.tbl = 'fd' AND f.id BETWEEN 12001 AND 12004 ORDER BY s.key;
-- DROP EXTENSION after logging, in the same transaction (rolled back: nothing changes).
BEGIN;
INSERT INTO fd (id, a) VALUES (12004, 4);
SET LOCAL client_min_messages = warning;
DROP EXTENSION pg_learn CASCADE;
ROLLBACK;
SELECT count(*) AS logged FROM fd_state WHERE tbl = 'fd' AND key IN ('12001', '12002', '12003', '12004');
DELETE FROM ml_label_queue q USING ml_prediction_log l
WHERE q.prediction_id = l.prediction_id AND l.table_name = 'fd'::regclass AND l.key IN ('12001', '12002');

-- Clean up the shared tables.
SELECT ml_detach('fd');
SELECT ml_detach('fd2');
DELETE FROM ml_monitor_inbox i USING ml_prediction_log l
WHERE i.prediction_id = l.prediction_id AND l.table_name IN ('fd'::regclass, 'fd2'::regclass, 'fd3'::regclass);
DELETE FROM ml_label_queue q USING ml_prediction_log l
WHERE q.prediction_id = l.prediction_id AND l.table_name = 'fd3'::regclass;
DELETE FROM ml_prediction_log WHERE table_name IN ('fd'::regclass, 'fd2'::regclass, 'fd3'::regclass);
SELECT ml_unregister('fd_m', force => true);
DROP SCHEMA feedback_direct CASCADE;
