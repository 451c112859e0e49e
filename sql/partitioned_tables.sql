-- Partitioned tables (issue 12, item 4): ml_attach on a table partitioned by time (pg_partman
-- style), partitions created or attached after the attach, labels in several partitions learned
-- once, rows moving between partitions, what is refused; a partitioned labels table; and the
-- prediction log partitioned by time (ml_partition_log), pruned by dropping whole partitions.
-- In a database of its own: partitioning the log cannot be undone, and the other files expect
-- the log as created.
SELECT current_database() AS orig_db \gset
CREATE DATABASE pgl_partitioned;
\c pgl_partitioned
SET client_min_messages = warning;
CREATE EXTENSION pg_learn;
RESET client_min_messages;
SET extra_float_digits = 0;
SET timezone = 'UTC';
\set VERBOSITY default

-- A linear model with w_a = 1 and no intercept: the score of a row is its feature a.
SELECT ml_register('pt_price', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "intercept_lr": 0}', '{"a": 1}'::jsonb, 50));
SELECT ml_deploy('pt_price', 1);

-- ---------------------------------------------------------------------------------------------
-- user did: ml_attach on a table partitioned by a timestamp (monthly partitions)
-- ---------------------------------------------------------------------------------------------
CREATE TABLE events (id int NOT NULL, at timestamptz NOT NULL, a float8, price float8, sold float8,
                     PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE events_2026_01 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE events_2026_02 PARTITION OF events FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
SELECT ml_attach('events', 'pt_price', key => 'id', prediction => 'price', label => 'sold', features => ARRAY['a']);
SELECT table_name, key_column, prediction_column, label_column, features FROM ml_attachments;
-- The triggers are the partitioned table's, cloned to every partition (and the row-move trigger).
SELECT tgrelid::regclass AS tbl, tgname, tgparentid <> 0 AS cloned
FROM pg_trigger WHERE tgname LIKE 'pg_learn%' ORDER BY 1, 2;

-- user did: INSERT rows that land in several partitions: each scored and logged under the
-- attached (partitioned) table
INSERT INTO events (id, at, a) VALUES (1, '2026-01-05', 1), (2, '2026-02-05', 2), (3, '2026-01-20', 3);
SELECT tableoid::regclass AS part, id, price FROM events ORDER BY id;
SELECT key, table_name, score, features, served FROM ml_prediction_log ORDER BY prediction_id;

-- user did: CREATE TABLE ... PARTITION OF after the attach, and INSERT there
CREATE TABLE events_2026_03 PARTITION OF events FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
INSERT INTO events (id, at, a) VALUES (4, '2026-03-02', 4);
-- user did: ATTACH PARTITION of an existing table whose columns are in another order (and one
-- was dropped: other attribute numbers), then INSERT through the parent and into the partition
CREATE TABLE events_2026_04 (sold float8, dropme int, price float8, a float8, at timestamptz NOT NULL, id int NOT NULL);
ALTER TABLE events_2026_04 DROP COLUMN dropme;
ALTER TABLE events ATTACH PARTITION events_2026_04 FOR VALUES FROM ('2026-04-01') TO ('2026-05-01');
INSERT INTO events (id, at, a) VALUES (5, '2026-04-02', 5);
INSERT INTO events_2026_04 (id, at, a) VALUES (6, '2026-04-03', 6);
-- user did: an UPDATE of a feature inside a partition: scored again
UPDATE events SET a = 2.5 WHERE id = 2;
SELECT tableoid::regclass AS part, id, a, price FROM events ORDER BY id;
SELECT key, table_name, score, features FROM ml_prediction_log ORDER BY prediction_id;

-- ---------------------------------------------------------------------------------------------
-- user did: labels arriving in several partitions: each learned exactly once
-- ---------------------------------------------------------------------------------------------
UPDATE events SET sold = 10 WHERE id IN (1, 2, 5);
UPDATE events_2026_04 SET sold = 20 WHERE id = 6;
UPDATE events SET sold = 11 WHERE id = 1;   -- set once: a second label is ignored
SELECT key, score, label FROM ml_prediction_log WHERE label IS NOT NULL ORDER BY key;
SELECT ml_pending_labels('pt_price') AS pending;
SELECT ml_learn_pending('pt_price') AS learned, ml_learn_pending('pt_price') AS learned_again;
SELECT n_seen FROM ml_versions('pt_price') WHERE version = 1;

-- user did: an UPDATE that moves rows to another partition (the partition key changed). A moved
-- row is a DELETE and an INSERT there: it is scored and logged again, as inserted; the label a
-- row carries arrived already and is not queued again; a label arriving with the move is.
UPDATE events SET at = '2026-03-15' WHERE id = 1;             -- labelled: logged, not relearned
UPDATE events SET at = '2026-03-16' WHERE id = 3;             -- unlabelled: logged again
UPDATE events SET at = '2026-04-20', sold = 7 WHERE id = 4;   -- moved with its label: learned once
UPDATE events SET at = '2026-01-09' WHERE id IN (2, 5, 6);    -- several labelled rows in one statement
SELECT tableoid::regclass AS part, id, price, sold FROM events ORDER BY id;
SELECT key, score, label FROM ml_prediction_log ORDER BY prediction_id;
SELECT ml_pending_labels('pt_price') AS pending;
-- the unlabelled row that moved takes its label later, once
UPDATE events SET sold = 3 WHERE id = 3;
SELECT ml_learn_pending('pt_price') AS learned;
SELECT n_seen FROM ml_versions('pt_price') WHERE version = 1;
-- (a labelled row deleted, then a row of the same key inserted with a label by a later
-- statement: a new row, whose label is learned)
DELETE FROM events WHERE id = 6;
INSERT INTO events (id, at, a, sold) VALUES (6, '2026-04-04', 6, 30);
SELECT ml_pending_labels('pt_price') AS pending;
SELECT ml_learn_pending('pt_price') AS learned;

-- ---------------------------------------------------------------------------------------------
-- What is refused
-- ---------------------------------------------------------------------------------------------
-- user did: ml_attach a partition of an attached table (42710)
SELECT ml_attach('events_2026_01', 'pt_price', key => 'id');
\echo :LAST_ERROR_SQLSTATE
-- user did: ml_detach a partition of an attached table (42704, naming the attached table)
SELECT ml_detach('events_2026_01');
\echo :LAST_ERROR_SQLSTATE
-- user did: ATTACH PARTITION of a table attached on its own (its triggers have the names of the
-- clones: 42710 from PostgreSQL)
CREATE TABLE events_2026_05 (LIKE events_2026_04);
SELECT ml_attach('events_2026_05', 'pt_price', key => 'id', prediction => 'price', features => ARRAY['a']);
ALTER TABLE events ATTACH PARTITION events_2026_05 FOR VALUES FROM ('2026-05-01') TO ('2026-06-01');
\echo :LAST_ERROR_SQLSTATE
-- user did: ml_attach a partitioned table one of whose partitions is attached (42710)
CREATE TABLE other (LIKE events_2026_05) PARTITION BY RANGE (at);
ALTER TABLE other ATTACH PARTITION events_2026_05 FOR VALUES FROM ('2026-05-01') TO ('2026-06-01');
SELECT ml_attach('other', 'pt_price', key => 'id', prediction => 'price', features => ARRAY['a']);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_detach('events_2026_05');
DROP TABLE other;
-- user did: a prediction column that is the partition key (0A000: a BEFORE trigger cannot move a row)
CREATE TABLE by_score (id int, a float8, p float8) PARTITION BY RANGE (p);
SELECT ml_attach('by_score', 'pt_price', key => 'id', prediction => 'p');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE by_score;

-- user did: ALTER TABLE ... DETACH PARTITION: the detached table keeps its rows and logged
-- predictions but loses the cloned triggers: its new rows are not scored
ALTER TABLE events DETACH PARTITION events_2026_02;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'events_2026_02'::regclass AND tgname LIKE 'pg_learn%';
INSERT INTO events_2026_02 (id, at, a) VALUES (7, '2026-02-07', 7);
SELECT id, price FROM events_2026_02 WHERE id = 7;
SELECT count(*) AS logged_for_7 FROM ml_prediction_log WHERE key = '7';
DROP TABLE events_2026_02;

-- ---------------------------------------------------------------------------------------------
-- user did: a partitioned labels table, with a partition created after the attach
-- ---------------------------------------------------------------------------------------------
CREATE TABLE visits (id int NOT NULL, at timestamptz NOT NULL, a float8) PARTITION BY RANGE (at);
CREATE TABLE visits_2026 PARTITION OF visits FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE outcomes (vid int NOT NULL, at timestamptz NOT NULL, value float8) PARTITION BY RANGE (at);
CREATE TABLE outcomes_2026_01 PARTITION OF outcomes FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
SELECT ml_attach('visits', 'pt_price', key => 'id', features => ARRAY['a'],
                 label_table => 'outcomes', label_key => 'vid', label_value => 'value');
CREATE TABLE outcomes_2026_02 (value float8, at timestamptz NOT NULL, vid int NOT NULL);
ALTER TABLE outcomes ATTACH PARTITION outcomes_2026_02 FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
INSERT INTO visits VALUES (101, '2026-01-01', 1), (102, '2026-06-01', 2), (103, '2026-07-01', 3);
INSERT INTO outcomes VALUES (101, '2026-01-10', 5), (102, '2026-02-10', 6),
                            (101, '2026-02-11', 9);   -- a second label for 101: ignored
SELECT key, table_name, label FROM ml_prediction_log WHERE table_name = 'visits'::regclass ORDER BY key;
SELECT ml_learn_pending('pt_price') AS learned;

-- user did: ml_detach the partitioned tables: every trigger goes, on every partition
SELECT ml_detach('visits');
SELECT ml_detach('events');
SELECT count(*) AS pg_learn_triggers FROM pg_trigger WHERE tgname LIKE 'pg_learn%';
INSERT INTO events (id, at, a) VALUES (8, '2026-03-08', 8);
SELECT id, price FROM events WHERE id = 8;
SELECT count(*) AS logged_for_8 FROM ml_prediction_log WHERE key = '8';

-- ---------------------------------------------------------------------------------------------
-- The prediction log partitioned by time: ml_partition_log
-- ---------------------------------------------------------------------------------------------
-- Bad arguments: 22004, 22023.
SELECT ml_partition_log(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_partition_log('30 seconds');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_partition_log('1 month');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_partition_log('1 day', 0);
\echo :LAST_ERROR_SQLSTATE

-- The log so far, made 10 days old (as if it were), with one label still queued.
SELECT ml_attach('events', 'pt_price', key => 'id', prediction => 'price', label => 'sold', features => ARRAY['a']);
INSERT INTO events (id, at, a) VALUES (9, '2026-03-09', 9), (13, '2026-03-13', 13);
UPDATE events SET sold = 1 WHERE id = 9;
UPDATE ml_prediction_log SET predicted_at = predicted_at - interval '10 days';
SELECT count(*) AS logged, max(prediction_id) AS last_id FROM ml_prediction_log \gset
SELECT :logged AS logged, ml_pending_labels() AS pending;

-- user did: ml_partition_log('1 day'): the log becomes partitioned by predicted_at; the log as
-- it was is the partition of everything up to the end of its last day (no row copied), a
-- DEFAULT partition catches what no range does, today's and the next 3 days' are created
SELECT ml_partition_log('1 day') AS partitions_created;
SELECT c.relkind, pg_get_partkeydef(c.oid) FROM pg_class c WHERE c.oid = 'ml_prediction_log'::regclass;
SELECT replace(regexp_replace(part::text, '_p\d{8}_\d{6}$', '_pDAY'), 'public.', '') AS part,
       is_default, lower_bound IS NULL AS from_minvalue,
       upper_bound - lower_bound AS width,
       lower_bound = date_bin('1 day', now(), '2000-01-01') AS today
FROM _ml_log_partitions() ORDER BY lower_bound NULLS FIRST, is_default;
SELECT (SELECT count(*) FROM ml_prediction_log_before) = :logged AS old_rows_in_place,
       (SELECT count(*) FROM ml_prediction_log) = :logged AS all_visible;
-- the extension owns the new log; the queue's foreign key includes the partition key
SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
WHERE d.classid = 'pg_class'::regclass AND d.objid = 'ml_prediction_log'::regclass AND d.deptype = 'e';
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'ml_label_queue'::regclass AND contype = 'f' AND conparentid = 0 ORDER BY conname;
SELECT attnotnull AS queue_predicted_at_not_null FROM pg_attribute
WHERE attrelid = 'ml_label_queue'::regclass AND attname = 'predicted_at';
SELECT log_partition_interval, log_partition_premake FROM ml_monitor_state;
-- (issue 14) ml_segment_metrics, which reads the log, reads the new one (not the old one, now a
-- partition that ml_prune_log drops) and is still the extension's
SELECT DISTINCT d.refobjid::regclass AS segment_metrics_reads FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
WHERE d.classid = 'pg_rewrite'::regclass AND r.ev_class = 'ml_segment_metrics'::regclass
  AND d.refobjid::regclass::text LIKE '%prediction_log%';
SELECT count(*) AS segment_metrics_in_extension FROM pg_depend d
WHERE d.classid = 'pg_class'::regclass AND d.objid = 'ml_segment_metrics'::regclass AND d.deptype = 'e';
-- calling it again changes nothing (every partition exists)
SELECT ml_partition_log('1 day') AS partitions_created;

-- Scoring and labels go on: ids continue, the new prediction lands in today's partition, the
-- label queued before is learned once, a new label is queued and learned once.
INSERT INTO events (id, at, a) VALUES (10, '2026-03-10', 10);
SELECT prediction_id > :last_id AS id_continues, tableoid::regclass::text ~ '_p\d{8}_000000$' AS in_a_day_partition
FROM ml_prediction_log WHERE key = '10';
UPDATE events SET sold = 2 WHERE id = 10;
SELECT ml_pending_labels() AS pending;
SELECT ml_learn_pending() AS learned, ml_learn_pending() AS learned_again;
SELECT key, label, learned_at IS NOT NULL AS learned FROM ml_prediction_log WHERE key IN ('9', '10') ORDER BY key;
-- a shadow's prediction (logged with the served one, same predicted_at) learns the label too
SELECT ml_register('pt_price', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "intercept_lr": 0}', '{"a": 1}'::jsonb, 50));
SELECT ml_deploy('pt_price', 2, 'shadow'), ml_rollout('pt_price', 'shadow', 'shadow');
INSERT INTO events (id, at, a) VALUES (14, '2026-03-14', 14);
UPDATE events SET sold = 6 WHERE id = 14;
SELECT variant, served, label FROM ml_prediction_log WHERE key = '14' ORDER BY prediction_id;
SELECT ml_learn_pending() AS learned;
SELECT ml_rollout_remove('pt_price', 'shadow');
-- a label arriving for a row of the old partition is found and learned once
UPDATE events SET sold = 4 WHERE id = 13;
SELECT ml_learn_pending() AS learned;
-- a prediction older than any range partition (the gap since the old log's last day) goes to the DEFAULT one
INSERT INTO events (id, at, a) VALUES (11, '2026-03-11', 11);
UPDATE ml_prediction_log SET predicted_at = predicted_at - interval '7 days' WHERE key = '11';
SELECT tableoid::regclass AS part FROM ml_prediction_log WHERE key = '11';

-- user did: ml_prune_log on a partitioned log: the old partition goes whole (DETACH + DROP)
-- unless a label of it waits in the queue, rows are deleted one by one elsewhere
INSERT INTO events (id, at, a) VALUES (12, '2026-03-12', 12);
UPDATE ml_prediction_log SET predicted_at = predicted_at - interval '10 days' WHERE key = '12';
UPDATE events SET sold = 5 WHERE id = 12;   -- queued, not learned: keeps its partition
SELECT count(*) AS old_rows FROM ml_prediction_log WHERE predicted_at < now() - interval '5 days';
SELECT ml_monitor_refresh() > 0 AS refreshed;
SELECT sum(predictions) AS windowed FROM ml_monitor_windows \gset
SELECT ml_prune_log('5 days') AS pruned;
SELECT to_regclass('ml_prediction_log_before') IS NOT NULL AS old_partition_kept,
       (SELECT count(*) FROM ml_prediction_log_before) AS rows_left_in_it,
       (SELECT count(*) FROM ml_prediction_log WHERE key = '11') AS default_row_left;
SELECT ml_learn_pending() AS learned;
SELECT ml_prune_log('5 days') AS pruned;
SELECT to_regclass('ml_prediction_log_before') IS NULL AS old_partition_dropped,
       (SELECT count(*) FROM ml_prediction_log WHERE predicted_at < now() - interval '5 days') AS old_rows,
       (SELECT count(*) FROM ml_prediction_log) AS rows_kept;
SELECT pruned_rows FROM ml_monitor_state;
-- the window statistics kept what the dropped rows contributed
SELECT sum(predictions) = :windowed AS windows_unchanged FROM ml_monitor_windows;
-- the partitions ahead are there (today's and the next three days')
SELECT count(*) AS ranges_from_today FROM _ml_log_partitions()
WHERE lower_bound >= date_bin('1 day', now(), '2000-01-01');

SELECT ml_detach('events');
\c :orig_db
DROP DATABASE pgl_partitioned;
