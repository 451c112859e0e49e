-- ml_attach of a table Citus distributes (issue 12, item 5; docs/citus.md): refused (0A000), as
-- the shards' triggers on the workers would find no attachment and score, log and learn nothing.
-- Citus lists its tables in pg_catalog.pg_dist_partition (logicalrelid regclass); Citus is not
-- installed here, so a stand-in of that catalog on the search path plays its part (the lookup is
-- by the caller's search path, where pg_catalog comes first: the same lookup finds Citus's).
CREATE SCHEMA attach_distributed;
SET search_path = attach_distributed, public;

SELECT ml_register('dist_m', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 1));
SELECT ml_deploy('dist_m', 1);
CREATE TABLE events (id int PRIMARY KEY, a float8, p float8);
CREATE TABLE local_events (id int PRIMARY KEY, a float8, p float8);

-- user did: ml_attach a table where Citus is absent (no pg_dist_partition): attached as before.
-- (The tables are never written to: their rows would take ids from the prediction log that the
-- later tests number.)
SELECT to_regclass('pg_dist_partition') IS NULL AS no_citus;
SELECT ml_attach('events', 'dist_m', key => 'id', prediction => 'p');
SELECT table_name, model_name, features FROM ml_attachments WHERE table_name = 'events'::regclass;
SELECT ml_detach('events');

-- Citus's catalog, as Citus 13 declares it (the columns the check reads: logicalrelid).
CREATE TABLE pg_dist_partition (logicalrelid regclass NOT NULL, partmethod "char" NOT NULL, partkey text,
                                colocationid int NOT NULL DEFAULT 0, repmodel "char" NOT NULL DEFAULT 'a',
                                autoconverted boolean DEFAULT false);
INSERT INTO pg_dist_partition (logicalrelid, partmethod, partkey, colocationid, repmodel)
VALUES ('events', 'h', '{VAR :varno 1 :varattno 1}', 1, 's');

-- user did: ml_attach a Citus distributed table: refused, with why and what to do instead.
\set VERBOSITY default
SELECT ml_attach('events', 'dist_m', key => 'id', prediction => 'p');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
-- ... with labels too; nothing was attached, no trigger was made.
SELECT ml_attach('events', 'dist_m', key => 'id', label => 'a');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS attachments FROM ml_attachments WHERE table_name = 'events'::regclass;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'events'::regclass AND tgname LIKE 'pg_learn%';

-- A table the catalog does not list is attached as before, the catalog present.
SELECT ml_attach('local_events', 'dist_m', key => 'id', prediction => 'p');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'local_events'::regclass AND tgname LIKE 'pg_learn%';
SELECT ml_detach('local_events');
-- ml_detach is not concerned: it reaches its own check (events is not attached).
SELECT ml_detach('events');
\echo :LAST_ERROR_SQLSTATE

-- In a transaction, a listing made earlier in it counts (the statement's snapshot).
BEGIN;
DELETE FROM pg_dist_partition;
SELECT ml_attach('events', 'dist_m', key => 'id', prediction => 'p');
SELECT ml_detach('events');
INSERT INTO pg_dist_partition (logicalrelid, partmethod) VALUES ('events', 'h');
SELECT ml_attach('events', 'dist_m', key => 'id', prediction => 'p');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- The catalog is read with no SQL, and only when the caller may read it (Citus's, in pg_catalog,
-- is readable by all): a caller who may not read the stand-in attaches its own table.
CREATE ROLE regress_dist_owner;
GRANT USAGE, CREATE ON SCHEMA attach_distributed TO regress_dist_owner;
GRANT EXECUTE ON FUNCTION ml_attach(regclass, text, name, name, name, text[], text, text, regclass, name, name, name, boolean, boolean),
                          ml_detach(regclass), ml_predict(text, record, text) TO regress_dist_owner;
SET ROLE regress_dist_owner;
CREATE TABLE owned_events (id int PRIMARY KEY, a float8, p float8);
RESET ROLE;
INSERT INTO pg_dist_partition (logicalrelid, partmethod) VALUES ('owned_events', 'h');
SET ROLE regress_dist_owner;
SELECT has_table_privilege('pg_dist_partition', 'SELECT') AS may_read;
SELECT ml_attach('owned_events', 'dist_m', key => 'id', prediction => 'p');
SELECT ml_detach('owned_events');
RESET ROLE;
GRANT SELECT ON pg_dist_partition TO regress_dist_owner;
SET ROLE regress_dist_owner;
SELECT ml_attach('owned_events', 'dist_m', key => 'id', prediction => 'p');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP TABLE owned_events;

-- A pg_dist_partition off the search path is not Citus's (Citus keeps it in pg_catalog): not read.
SET search_path = public;
SELECT ml_attach('attach_distributed.events', 'dist_m', key => 'id', prediction => 'p');
SELECT count(*) AS attachments FROM ml_attachments WHERE table_name = 'attach_distributed.events'::regclass;
SELECT ml_detach('attach_distributed.events');
SET search_path = attach_distributed, public;
-- Nor is a view of that name, nor a table without Citus's logicalrelid regclass column.
ALTER TABLE pg_dist_partition RENAME TO dist_listing;
CREATE VIEW pg_dist_partition AS SELECT * FROM dist_listing;
SELECT ml_attach('events', 'dist_m', key => 'id', prediction => 'p');
SELECT count(*) AS attachments FROM ml_attachments WHERE table_name = 'events'::regclass;
SELECT ml_detach('events');
DROP VIEW pg_dist_partition;
CREATE TABLE pg_dist_partition (logicalrelid text);
INSERT INTO pg_dist_partition VALUES ('events');
SELECT ml_attach('events', 'dist_m', key => 'id', prediction => 'p');
SELECT count(*) AS attachments FROM ml_attachments WHERE table_name = 'events'::regclass;
SELECT ml_detach('events');

SELECT ml_unregister('dist_m', force => true);
\set VERBOSITY default
DROP SCHEMA attach_distributed CASCADE;
DROP OWNED BY regress_dist_owner;
DROP ROLE regress_dist_owner;
