-- Errors of ml_attach, ml_detach, ml_rollout, ml_rollout_remove and ml_learn_pending: each a
-- clear message with its SQLSTATE, and none leaves a trace (the attachments, the rollouts, the
-- triggers, the registry and the log are compared before and after).
CREATE SCHEMA feedback_errors;
SET search_path = feedback_errors, public;

SELECT ml_register('fe_m', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 1));
SELECT ml_deploy('fe_m', 1);
SELECT ml_deploy('fe_m', 1, 'canary');
SELECT ml_register('fe_other', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 1));
CREATE TABLE t (id int PRIMARY KEY, a float8, b int, p float8, y float8, s text, ts timestamptz,
                g float8 GENERATED ALWAYS AS (a * 2) STORED);
CREATE TABLE labels (id int, v float8, s text, b bigint);
CREATE VIEW v AS SELECT * FROM t;
CREATE TABLE parted (id int, a float8) PARTITION BY RANGE (id);
SELECT ml_attach('t', 'fe_m', key => 'id', prediction => 'p', label => 'y', features => ARRAY['a', 'b']);
INSERT INTO t (id, a, b) VALUES (1, 1, 1);

CREATE TABLE before AS
SELECT (SELECT string_agg(format('%s:%s:%s:%s', table_name, model_name, alias, features), ',' ORDER BY table_name::text)
        FROM ml_attachments) AS attachments,
       (SELECT string_agg(format('%s:%s:%s:%s', model_name, alias, role, share), ',' ORDER BY model_name, alias)
        FROM ml_rollouts) AS rollouts,
       (SELECT string_agg(format('%s:%s', tgrelid::regclass, tgname), ',' ORDER BY tgrelid::regclass::text, tgname)
        FROM pg_trigger WHERE tgname LIKE 'pg_learn%') AS triggers,
       (SELECT string_agg(format('%s:%s:%s', name, version, md5(ml_model_bytes(model)::text)), ',' ORDER BY name, version)
        FROM ml_models) AS models,
       (SELECT count(*) FROM ml_prediction_log) AS logged,
       (SELECT count(*) FROM ml_label_queue) AS queued;

\set VERBOSITY default
-- ---------------------------------------------------------------------------------------------
-- ml_attach
-- ---------------------------------------------------------------------------------------------
-- NULL arguments: 22004.
SELECT ml_attach(NULL, 'fe_m', 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', NULL, 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'fe_m', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'fe_m', 'id', alias => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'fe_m', 'id', mode => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'fe_m', 'id', features => ARRAY['v', NULL]);
\echo :LAST_ERROR_SQLSTATE
-- The model: unknown (42704), no version under the alias (42704), an invalid name (42602).
SELECT ml_attach('labels', 'nope', 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'fe_other', 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'fe_m', 'id', alias => 'staging');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'bad name', 'id');
\echo :LAST_ERROR_SQLSTATE
-- The mode: 22023.
SELECT ml_attach('labels', 'fe_m', 'id', mode => 'eventually');
\echo :LAST_ERROR_SQLSTATE
-- The table: a view (42809; a partitioned table can be attached: partitioned_tables.sql);
-- attached already (42710).
SELECT ml_attach('v', 'fe_m', 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('t', 'fe_m', 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('t', 'fe_m', 'id', alias => 'canary');
\echo :LAST_ERROR_SQLSTATE
-- Columns that do not exist: 42703.
SELECT ml_attach('labels', 'fe_m', 'nope');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'fe_m', 'id', prediction => 'nope');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'fe_m', 'id', label => 'nope');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'fe_m', 'id', features => ARRAY['v', 'nope']);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'fe_m', 'id', features => ARRAY['ctid']);
\echo :LAST_ERROR_SQLSTATE
-- Columns of the wrong type: 42804 (a prediction is float8, float4 or numeric; a label is
-- numeric or boolean; a feature numeric, boolean, text or enum).
SELECT ml_attach('labels', 'fe_m', 'id', prediction => 's');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'fe_m', 'id', prediction => 'b');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'fe_m', 'id', label => 's');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE t2 (id int, a float8, ts timestamptz, p float8, g float8 GENERATED ALWAYS AS (a * 2) STORED);
SELECT ml_attach('t2', 'fe_m', 'id', features => ARRAY['a', 'ts']);
\echo :LAST_ERROR_SQLSTATE
-- (by default every other column is a feature: a timestamp among them is an error with a hint)
SELECT ml_attach('t2', 'fe_m', 'id');
\echo :LAST_ERROR_SQLSTATE
-- A generated column cannot be written, nor feed the BEFORE trigger that writes the prediction: 0A000.
SELECT ml_attach('t2', 'fe_m', 'id', prediction => 'g', features => ARRAY['a']);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('t2', 'fe_m', 'id', prediction => 'p', features => ARRAY['a', 'g']);
\echo :LAST_ERROR_SQLSTATE
-- Features: none, twice the same, or one that is also the key, prediction or label: 22023, 42701.
SELECT ml_attach('labels', 'fe_m', 'id', features => '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'fe_m', 'id', features => ARRAY['v', 'v']);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'fe_m', 'id', features => ARRAY['v', 'id']);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'fe_m', 'id', label => 'v', features => ARRAY['v']);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('labels', 'fe_m', 'id', prediction => 'v', label => 'v');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE only_key (id int, p float8);
SELECT ml_attach('only_key', 'fe_m', 'id', prediction => 'p');
\echo :LAST_ERROR_SQLSTATE
-- A labels table: with a label column too, without its key and value, the table itself, a
-- view, a key of another type than the attached key, a value that is not a number: 22023,
-- 42809, 42804; its columns must exist (42703).
SELECT ml_attach('t2', 'fe_m', 'id', label => 'p', features => ARRAY['a'], label_table => 'labels', label_key => 'id', label_value => 'v');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('t2', 'fe_m', 'id', features => ARRAY['a'], label_table => 'labels');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('t2', 'fe_m', 'id', features => ARRAY['a'], label_key => 'id', label_value => 'v');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('t2', 'fe_m', 'id', features => ARRAY['a'], label_table => 't2', label_key => 'id', label_value => 'p');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('t2', 'fe_m', 'id', features => ARRAY['a'], label_table => 'v', label_key => 'id', label_value => 'y');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('t2', 'fe_m', 'id', features => ARRAY['a'], label_table => 'labels', label_key => 'b', label_value => 'v');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('t2', 'fe_m', 'id', features => ARRAY['a'], label_table => 'labels', label_key => 'id', label_value => 's');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('t2', 'fe_m', 'id', features => ARRAY['a'], label_table => 'labels', label_key => 'nope', label_value => 'v');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('t2', 'fe_m', 'id', features => ARRAY['a'], label_table => 'labels', label_key => 'id', label_value => 'nope');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('t2', 'fe_m', 'id', features => ARRAY['a'], label_table => 'labels', label_key => 'id', label_value => 'id');
\echo :LAST_ERROR_SQLSTATE
-- A table that does not exist is the regclass cast's error (42P01).
SELECT ml_attach('nope', 'fe_m', 'id');
\echo :LAST_ERROR_SQLSTATE

-- ---------------------------------------------------------------------------------------------
-- ml_detach
-- ---------------------------------------------------------------------------------------------
SELECT ml_detach(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_detach('labels');
\echo :LAST_ERROR_SQLSTATE

-- ---------------------------------------------------------------------------------------------
-- ml_rollout, ml_rollout_remove
-- ---------------------------------------------------------------------------------------------
SELECT ml_rollout(NULL, 'canary', 'shadow');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout('fe_m', NULL, 'shadow');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout('fe_m', 'canary', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout('fe_m', 'canary', 'champion');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout('fe_m', 'canary', 'shadow', 0.5);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout('fe_m', 'canary', 'challenger');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout('fe_m', 'canary', 'challenger', 0);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout('fe_m', 'canary', 'challenger', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout('fe_m', 'canary', 'challenger', 'NaN');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout('nope', 'canary', 'shadow');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout('fe_m', 'staging', 'shadow');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout('fe_m', 'bad alias', 'shadow');
\echo :LAST_ERROR_SQLSTATE
-- The alias a table is attached to is its champion: it cannot also be rolled out.
SELECT ml_rollout('fe_m', 'production', 'challenger', 0.1);
\echo :LAST_ERROR_SQLSTATE
-- Challengers' shares add up to less than 1.
SELECT ml_deploy('fe_m', 1, 'canary2');
SELECT ml_rollout('fe_m', 'canary', 'challenger', 0.6);
SELECT ml_rollout('fe_m', 'canary2', 'challenger', 0.4);
\echo :LAST_ERROR_SQLSTATE
-- ... and a rolled-out alias cannot become a champion.
SELECT ml_attach('labels', 'fe_m', 'id', alias => 'canary');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout_remove('fe_m', 'canary2');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout_remove('fe_m', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout_remove('nope', 'canary');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout_remove('fe_m', 'canary');
SELECT ml_undeploy('fe_m', 'canary2') AS was;

-- ---------------------------------------------------------------------------------------------
-- ml_learn_pending
-- ---------------------------------------------------------------------------------------------
SELECT ml_learn_pending(max_rows => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_learn_pending(max_rows => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_learn_pending('nope');
\echo :LAST_ERROR_SQLSTATE

-- The trigger function only runs as the trigger ml_attach installs.
SELECT _ml_feedback_trigger();
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER by_hand BEFORE DELETE ON labels FOR EACH ROW EXECUTE FUNCTION _ml_feedback_trigger('score');
INSERT INTO labels VALUES (1, 1, 'x', 1);
DELETE FROM labels;
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER by_hand ON labels;

-- Nothing above left a trace.
SELECT (SELECT string_agg(format('%s:%s:%s:%s', table_name, model_name, alias, features), ',' ORDER BY table_name::text)
        FROM ml_attachments) IS NOT DISTINCT FROM attachments AS attachments_same,
       (SELECT string_agg(format('%s:%s:%s:%s', model_name, alias, role, share), ',' ORDER BY model_name, alias)
        FROM ml_rollouts) IS NOT DISTINCT FROM rollouts AS rollouts_same,
       (SELECT string_agg(format('%s:%s', tgrelid::regclass, tgname), ',' ORDER BY tgrelid::regclass::text, tgname)
        FROM pg_trigger WHERE tgname LIKE 'pg_learn%') IS NOT DISTINCT FROM triggers AS triggers_same,
       (SELECT string_agg(format('%s:%s:%s', name, version, md5(ml_model_bytes(model)::text)), ',' ORDER BY name, version)
        FROM ml_models) IS NOT DISTINCT FROM models AS models_same,
       (SELECT count(*) FROM ml_prediction_log) = logged AS log_same,
       (SELECT count(*) FROM ml_label_queue) = queued AS queue_same
FROM before;
-- and the attachment still works.
INSERT INTO t (id, a, b) VALUES (2, 2, 2);
SELECT key, variant FROM ml_prediction_log l WHERE l.table_name = 't'::regclass ORDER BY prediction_id;

SELECT ml_detach('t');
DELETE FROM ml_prediction_log;
SELECT ml_unregister('fe_m', force => true), ml_unregister('fe_other', force => true);
DROP SCHEMA feedback_errors CASCADE;
