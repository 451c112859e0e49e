-- Monitoring's inbox events of the predictions the log writer inserts itself are held by the
-- backend and written in bulk at the end of each statement (issue 12 item 7). The entry points
-- that read the inbox or delete log rows (ml_monitor_refresh, ml_prune_log, ml_monitor_reset)
-- write them first, also those of an outer subtransaction (queued again if the subtransaction
-- they were written in rolls back): run inside the statement that logged the rows (a user's
-- trigger), in a PL/pgSQL block with an EXCEPTION clause, or after a COPY (which ends without an
-- executor's end), they see this transaction's events as they see its log rows.
CREATE SCHEMA monitoring_inbox;
SET search_path = monitoring_inbox, public;
SET extra_float_digits = 0;
-- What other files logged is rolled up first: the refreshes below count this file's own events.
SELECT ml_monitor_refresh() >= 0 AS drained;

SELECT ml_register('mi_m', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "intercept_lr": 0}', '{"a": 1}'::jsonb, 50));
SELECT ml_deploy('mi_m', 1);
CREATE TABLE mi (id int PRIMARY KEY, a float8, p float8, y float8);
SELECT ml_attach('mi', 'mi_m', key => 'id', prediction => 'p', label => 'y');

-- mi's log rows, their events (and log rows with more than one), events of no log row, and the
-- predictions rolled up into the windows.
CREATE VIEW mi_counts AS
SELECT (SELECT count(*) FROM ml_prediction_log l WHERE l.table_name = 'mi'::regclass) AS logged,
       (SELECT count(*) FROM ml_monitor_inbox i JOIN ml_prediction_log l USING (prediction_id)
        WHERE l.table_name = 'mi'::regclass) AS queued,
       (SELECT count(*) FROM (SELECT 1 FROM ml_monitor_inbox i JOIN ml_prediction_log l USING (prediction_id)
                              WHERE l.table_name = 'mi'::regclass GROUP BY i.prediction_id HAVING count(*) > 1) d)
           AS twice_queued,
       (SELECT count(*) FROM ml_monitor_inbox i
        WHERE NOT EXISTS (SELECT 1 FROM ml_prediction_log l WHERE l.prediction_id = i.prediction_id)) AS orphan_events,
       (SELECT coalesce(sum(w.predictions), 0) FROM ml_monitor_windows w WHERE w.model_name = 'mi_m') AS rolled_up;

-- A user's AFTER INSERT trigger on the attached table, named to fire after pg_learn's
-- pg_learn_log_insert (which logs the row): it moves the row's predicted_at two days back, in a
-- block of its own (a subtransaction: its UPDATE's end writes nothing of the statement's own
-- events), then calls a monitoring function, as an assignment (a simple expression: no statement
-- of the trigger's subtransaction ends before it) or in a block with an EXCEPTION clause (whose
-- subtransaction is not the one that logged the row). ml_prune_log('1 day') would delete the row,
-- which has no event in the table yet. (Each case in a transaction rolled back: a prune deletes
-- every log row older than a day, the other files' too.)
CREATE FUNCTION mi_in_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    BEGIN
        UPDATE public.ml_prediction_log SET predicted_at = predicted_at - interval '2 days'
        WHERE table_name = TG_RELID::regclass AND key = NEW.id::text;
    EXCEPTION WHEN division_by_zero THEN NULL;
    END;
    IF TG_ARGV[0] = 'prune' THEN
        n := public.ml_prune_log('1 day');
    ELSIF TG_ARGV[0] = 'prune in a block' THEN
        BEGIN
            n := public.ml_prune_log('1 day');
        EXCEPTION WHEN division_by_zero THEN NULL;
        END;
    ELSIF TG_ARGV[0] = 'prune in a failing block' THEN
        BEGIN
            n := public.ml_prune_log('1 day');
            RAISE EXCEPTION 'mi: failing on purpose';
        EXCEPTION WHEN raise_exception THEN NULL;
        END;
    ELSIF TG_ARGV[0] = 'refresh in a block' THEN
        BEGIN
            RAISE NOTICE 'refreshed in the block: % event(s)', public.ml_monitor_refresh();
        EXCEPTION WHEN division_by_zero THEN NULL;
        END;
    ELSIF TG_ARGV[0] = 'refresh in a nested block, the outer one failing' THEN
        BEGIN
            BEGIN
                RAISE NOTICE 'refreshed in the nested block: % event(s)', public.ml_monitor_refresh();
            EXCEPTION WHEN division_by_zero THEN NULL;
            END;
            RAISE EXCEPTION 'mi: failing on purpose';
        EXCEPTION WHEN raise_exception THEN NULL;
        END;
    ELSIF TG_ARGV[0] = 'reset in a block' THEN
        BEGIN
            n := public.ml_monitor_reset();
        EXCEPTION WHEN division_by_zero THEN NULL;
        END;
    END IF;
    RETURN NULL;
END $$;

-- user did: a prune in the statement that logged the row: the event is written first, rolled up
-- by the prune's refresh, and the row pruned (rolled_up 1, nothing left behind). (So it was
-- before, by chance: the end of the first statement the prune ran wrote the event.)
BEGIN;
CREATE TRIGGER zz_mi_in_statement AFTER INSERT ON mi FOR EACH ROW EXECUTE FUNCTION mi_in_statement('prune');
INSERT INTO mi (id, a) VALUES (1, 1);
SELECT * FROM mi_counts;
ROLLBACK;
-- user did: the same prune in a block with an EXCEPTION clause: the event of the outer
-- subtransaction is written as well, and rolled up (before, the row was pruned without it and
-- the event, written at the end of the statement, named no row: the prediction never counted).
BEGIN;
CREATE TRIGGER zz_mi_in_statement AFTER INSERT ON mi FOR EACH ROW EXECUTE FUNCTION mi_in_statement('prune in a block');
INSERT INTO mi (id, a) VALUES (1, 1);
SELECT * FROM mi_counts;
SELECT ml_monitor_refresh() AS refreshed;
SELECT * FROM mi_counts;
ROLLBACK;
-- user did: the block fails after the prune: the prune, its refresh and the event written in the
-- block roll back, the row stays, and its event is queued again and written at the end of the
-- statement, once.
BEGIN;
CREATE TRIGGER zz_mi_in_statement AFTER INSERT ON mi FOR EACH ROW EXECUTE FUNCTION mi_in_statement('prune in a failing block');
INSERT INTO mi (id, a) VALUES (1, 1);
SELECT * FROM mi_counts;
SELECT ml_monitor_refresh() AS refreshed;
SELECT * FROM mi_counts;
ROLLBACK;
-- user did: a refresh in a block: it sees the row's event (before: not until the next refresh).
BEGIN;
CREATE TRIGGER zz_mi_in_statement AFTER INSERT ON mi FOR EACH ROW EXECUTE FUNCTION mi_in_statement('refresh in a block');
INSERT INTO mi (id, a) VALUES (1, 1);
SELECT * FROM mi_counts;
ROLLBACK;
-- user did: the refresh in a nested block that succeeds, in a block that then fails: the event,
-- written in the nested block, goes with the outer block (as the refresh's work does), and is
-- queued again and written once at the end of the statement.
BEGIN;
CREATE TRIGGER zz_mi_in_statement AFTER INSERT ON mi FOR EACH ROW EXECUTE FUNCTION mi_in_statement('refresh in a nested block, the outer one failing');
INSERT INTO mi (id, a) VALUES (1, 1);
SELECT * FROM mi_counts;
ROLLBACK;
-- user did: the INSERT itself in a block that fails after the trigger's refresh took the event:
-- the log row, the event and the refresh's work all go with the block.
BEGIN;
CREATE TRIGGER zz_mi_in_statement AFTER INSERT ON mi FOR EACH ROW EXECUTE FUNCTION mi_in_statement('refresh in a block');
DO $$
BEGIN
    BEGIN
        INSERT INTO monitoring_inbox.mi (id, a) VALUES (1, 1);
        RAISE EXCEPTION 'mi: failing on purpose';
    EXCEPTION WHEN raise_exception THEN NULL;
    END;
END $$;
SELECT * FROM mi_counts;
SELECT ml_monitor_refresh() AS refreshed;
ROLLBACK;
-- user did: a reset in a block: the log row is queued once (before: the reset queued it from the
-- log and its event came on top at the end of the statement, counted twice).
BEGIN;
CREATE TRIGGER zz_mi_in_statement AFTER INSERT ON mi FOR EACH ROW EXECUTE FUNCTION mi_in_statement('reset in a block');
INSERT INTO mi (id, a) VALUES (1, 1);
SELECT * FROM mi_counts;
SELECT ml_monitor_refresh() >= 1 AS refreshed;
SELECT * FROM mi_counts;
ROLLBACK;

-- user did: COPY into the attached table and a refresh in the same transaction: the refresh takes
-- the COPY's events (before too, by chance, as for the prune above).
BEGIN;
COPY mi (id, a) FROM stdin;
10	1
11	2
12	3
\.
SELECT ml_monitor_refresh() AS refreshed_after_copy;
SELECT * FROM mi_counts;
COMMIT;
-- user did: COPY, then a refresh in a savepoint: it takes them too (they are written in the
-- savepoint; before, it missed them); rolled back to the savepoint, the refresh is undone and the events, queued again,
-- are written at the commit; released, the refresh stands.
BEGIN;
COPY mi (id, a) FROM stdin;
13	1
14	2
\.
SAVEPOINT s;
SELECT ml_monitor_refresh() AS refreshed_in_savepoint;
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT * FROM mi_counts;
BEGIN;
COPY mi (id, a) FROM stdin;
15	1
\.
SAVEPOINT s;
SELECT ml_monitor_refresh() AS refreshed_in_savepoint;
RELEASE SAVEPOINT s;
COMMIT;
SELECT * FROM mi_counts;
SELECT ml_monitor_refresh() AS refreshed;
SELECT * FROM mi_counts;
-- user did: COPY, then in a savepoint moved the rows two days back and pruned: the COPY's events
-- are rolled up before the rows go (before: the rows went, and the events written at the commit
-- named no row). Rolled back (the prune deletes the other files' old rows too).
BEGIN;
COPY mi (id, a) FROM stdin;
20	1
21	2
\.
SAVEPOINT s;
UPDATE ml_prediction_log SET predicted_at = predicted_at - interval '2 days'
WHERE table_name = 'mi'::regclass AND key IN ('20', '21');
SELECT ml_prune_log('1 day') >= 2 AS pruned;
RELEASE SAVEPOINT s;
SELECT count(*) AS rows_20_21 FROM ml_prediction_log WHERE table_name = 'mi'::regclass AND key IN ('20', '21');
SELECT * FROM mi_counts;
ROLLBACK;

-- The inbox's OID is remembered by the backend, and looked up again when the inbox changes: in a
-- database of its own, one session drops and recreates the extension (in a transaction, and
-- committed) and logs again; each event lands in the inbox that exists.
CREATE DATABASE monitoring_inbox_db;
\c monitoring_inbox_db
SET client_min_messages = warning;
CREATE EXTENSION pg_learn;
CREATE TABLE t (id int PRIMARY KEY, a float8, p float8);
CREATE FUNCTION setup() RETURNS void LANGUAGE sql AS $$
    SELECT ml_register('m', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 1));
    SELECT ml_deploy('m', 1);
    SELECT ml_attach('t', 'm', key => 'id', prediction => 'p');
$$;
SELECT setup();
INSERT INTO t (id, a) VALUES (1, 1);
SELECT (SELECT count(*) FROM ml_monitor_inbox) AS events, (SELECT count(*) FROM ml_prediction_log) AS logged;
BEGIN;
DROP EXTENSION pg_learn CASCADE;
CREATE EXTENSION pg_learn;
SELECT setup();
INSERT INTO t (id, a) VALUES (2, 2);
SELECT (SELECT count(*) FROM ml_monitor_inbox) AS events, (SELECT count(*) FROM ml_prediction_log) AS logged;
ROLLBACK;
INSERT INTO t (id, a) VALUES (3, 3);
SELECT (SELECT count(*) FROM ml_monitor_inbox) AS events, (SELECT count(*) FROM ml_prediction_log) AS logged;
DROP EXTENSION pg_learn CASCADE;
CREATE EXTENSION pg_learn;
SELECT setup();
INSERT INTO t (id, a) VALUES (4, 4);
SELECT (SELECT count(*) FROM ml_monitor_inbox) AS events, (SELECT count(*) FROM ml_prediction_log) AS logged;

-- An inbox a user changed (review of session 10): while it is exactly as created, events are
-- written with heap inserts; otherwise with an INSERT, so that a user's index gets its entries
-- (amcheck finds none missing, an index scan counts what a sequential scan counts), a user's
-- trigger fires, a user's CHECK is checked, and an added or dropped column is handled. Both
-- writers: the log writer's (a row, several, a COPY written before commit) and the log's trigger
-- (a label arriving).
CREATE EXTENSION amcheck;
DELETE FROM ml_monitor_inbox;
CREATE INDEX inbox_id ON ml_monitor_inbox (prediction_id);
CREATE TABLE inbox_seen (prediction_id bigint, events int2);
CREATE FUNCTION inbox_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.inbox_seen VALUES (NEW.prediction_id, NEW.events);
    RETURN NULL;
END
$$;
CREATE TRIGGER inbox_seen AFTER INSERT ON ml_monitor_inbox FOR EACH ROW EXECUTE FUNCTION inbox_seen();
INSERT INTO t (id, a) VALUES (10, 1);
INSERT INTO t (id, a) SELECT g, 1 FROM generate_series(11, 20) g;
COPY t (id, a) FROM stdin;
21	1
22	1
\.
UPDATE ml_prediction_log SET label = 1 WHERE key IN ('10', '11');
CREATE VIEW inbox_counts AS
SELECT count(*) AS events, count(*) FILTER (WHERE events = 1) AS predictions,
       count(*) FILTER (WHERE events = 2) AS labels,
       (SELECT count(*) FROM inbox_seen) AS seen_by_trigger,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM ml_prediction_log l WHERE l.prediction_id = i.prediction_id))
           AS orphans
FROM ml_monitor_inbox i;
SELECT * FROM inbox_counts;
SELECT bt_index_check('inbox_id', true);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM ml_monitor_inbox WHERE prediction_id > 0;
SELECT count(*) AS by_index FROM ml_monitor_inbox WHERE prediction_id > 0;
SELECT count(*) AS by_index FROM ml_monitor_inbox i JOIN ml_prediction_log l ON l.prediction_id = i.prediction_id
WHERE l.key IN ('10', '15', '22');
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP VIEW inbox_counts;
-- A user's CHECK: its violation is the INSERT's error.
BEGIN;
DELETE FROM ml_monitor_inbox;
ALTER TABLE ml_monitor_inbox ADD CONSTRAINT no_labels CHECK (events <> 2);
INSERT INTO t (id, a) VALUES (23, 1);
UPDATE ml_prediction_log SET label = 1 WHERE key = '23';
ROLLBACK;
DROP TRIGGER inbox_seen ON ml_monitor_inbox;
DROP INDEX inbox_id;
-- A column added (without, then with a default) and both dropped: the events still arrive.
DELETE FROM ml_monitor_inbox;
ALTER TABLE ml_monitor_inbox ADD COLUMN x int;
INSERT INTO t (id, a) VALUES (30, 1);
UPDATE ml_prediction_log SET label = 1 WHERE key = '30';
ALTER TABLE ml_monitor_inbox ADD COLUMN y int DEFAULT 7;
INSERT INTO t (id, a) VALUES (31, 1);
SELECT l.key, i.events, i.x, i.y FROM ml_monitor_inbox i JOIN ml_prediction_log l USING (prediction_id)
ORDER BY l.key, i.events;
ALTER TABLE ml_monitor_inbox DROP COLUMN x;
ALTER TABLE ml_monitor_inbox DROP COLUMN y;
INSERT INTO t (id, a) VALUES (32, 1);
COPY t (id, a) FROM stdin;
33	1
\.
UPDATE ml_prediction_log SET label = 1 WHERE key = '32';
SELECT l.key, i.events FROM ml_monitor_inbox i JOIN ml_prediction_log l USING (prediction_id)
WHERE l.key::int >= 32 ORDER BY l.key, i.events;
-- A user's trigger on the inbox that logs a prediction itself: that prediction's event is written
-- too, also when the first event is written just before commit (after a COPY).
CREATE FUNCTION inbox_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM public.ml_prediction_log WHERE prediction_id = NEW.prediction_id AND key = '50') THEN
        INSERT INTO public.t (id, a) VALUES (51, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER inbox_chain AFTER INSERT ON ml_monitor_inbox FOR EACH ROW EXECUTE FUNCTION inbox_chain();
COPY t (id, a) FROM stdin;
50	1
\.
SELECT l.key, i.events FROM ml_monitor_inbox i JOIN ml_prediction_log l USING (prediction_id)
WHERE l.key IN ('50', '51') ORDER BY l.key, i.events;
DROP TRIGGER inbox_chain ON ml_monitor_inbox;
-- A column of a type the events cannot be written to: the INSERT's error.
BEGIN;
DELETE FROM ml_monitor_inbox;
ALTER TABLE ml_monitor_inbox ALTER COLUMN prediction_id TYPE date USING NULL;
INSERT INTO t (id, a) VALUES (40, 1);
ROLLBACK;
\c regression
DROP DATABASE monitoring_inbox_db;

-- Clean up the shared tables.
SET search_path = monitoring_inbox, public;
SELECT ml_detach('mi');
DELETE FROM ml_monitor_inbox i USING ml_prediction_log l
WHERE i.prediction_id = l.prediction_id AND l.table_name = 'mi'::regclass;
DELETE FROM ml_prediction_log WHERE table_name = 'mi'::regclass;
SELECT ml_unregister('mi_m', force => true);
DROP SCHEMA monitoring_inbox CASCADE;
