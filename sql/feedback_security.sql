-- Privileges of the feedback functions and triggers, and a hostile search_path.
-- The triggers write the log and the queue as the extension's owner; attaching needs ownership
-- of the table and the right to score (and, with labels, to teach) the model; the writers are
-- not executable by PUBLIC; the tables are the owner's alone.
CREATE SCHEMA feedback_security;
SET search_path = feedback_security, public;

SELECT p.oid::regprocedure AS function, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
       p.provolatile AS volatility, p.proparallel AS parallel, p.prosecdef AS security_definer
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_learn'
WHERE p.proname ~ '^_?ml_(attach|detach|rollout|rollout_remove|learn_pending|pending_labels|route_fraction|feedback_.*|forget_dropped|column_class|attribute)$'
ORDER BY p.proname, p.oid::regprocedure::text;
SELECT t AS feedback_table, has_table_privilege('public', t, 'SELECT') AS public_select,
       has_table_privilege('public', t, 'INSERT') AS public_insert
FROM unnest(ARRAY['ml_attachments', 'ml_rollouts', 'ml_prediction_log', 'ml_label_queue']) t;
SELECT evtname, evtevent, evtfoid::regproc FROM pg_event_trigger WHERE evtname LIKE 'pg_learn%';

SELECT ml_register('fs_m', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "intercept_lr": 0}', '{"a": 1}'::jsonb, 50));
SELECT ml_deploy('fs_m', 1);

CREATE ROLE regress_fb_owner;
CREATE ROLE regress_fb_other;
CREATE ROLE regress_fb_app;
CREATE ROLE regress_fb_learner;
GRANT USAGE, CREATE ON SCHEMA feedback_security TO regress_fb_owner;
GRANT USAGE ON SCHEMA feedback_security TO regress_fb_other, regress_fb_app, regress_fb_learner;
GRANT EXECUTE ON FUNCTION ml_attach(regclass, text, name, name, name, text[], text, text, regclass, name, name, name, boolean, boolean),
                          ml_detach(regclass) TO regress_fb_owner, regress_fb_other;
GRANT EXECUTE ON FUNCTION ml_learn_pending(text, int) TO regress_fb_learner;

SET ROLE regress_fb_owner;
CREATE TABLE sales (id int PRIMARY KEY, a float8, p float8, y float8);
CREATE TABLE sale_labels (id int, y float8);
GRANT SELECT, INSERT, UPDATE ON sales, sale_labels TO regress_fb_app;
-- Attaching needs the right to score with the model ...
SELECT ml_attach('sales', 'fs_m', key => 'id', prediction => 'p');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT EXECUTE ON FUNCTION ml_predict(text, record, text) TO regress_fb_owner, regress_fb_other;
SET ROLE regress_fb_owner;
-- ... and, with labels, to teach it.
SELECT ml_attach('sales', 'fs_m', key => 'id', prediction => 'p', label => 'y');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT EXECUTE ON FUNCTION ml_learn(text, record, float8, text) TO regress_fb_owner, regress_fb_other;
-- Someone else's table cannot be attached (nor a labels table of someone else), nor detached.
SET ROLE regress_fb_other;
SELECT ml_attach('sales', 'fs_m', key => 'id', prediction => 'p', label => 'y');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
CREATE TABLE foreign_labels (id int, y float8);
SET ROLE regress_fb_owner;
SELECT ml_attach('sales', 'fs_m', key => 'id', prediction => 'p', label_table => 'foreign_labels', label_key => 'id', label_value => 'y');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('sales', 'fs_m', key => 'id', prediction => 'p', label_table => 'sale_labels', label_key => 'id', label_value => 'y');
RESET ROLE;
SELECT table_name, created_by FROM ml_attachments;
SET ROLE regress_fb_other;
SELECT ml_detach('sales');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- An application with nothing but rights on its own tables: its rows are scored and logged
-- and its labels queued (the triggers write as the extension's owner); it cannot read or
-- write the log, the queue or the attachments, nor learn, attach or roll out.
SET ROLE regress_fb_app;
INSERT INTO sales (id, a) VALUES (1, 1), (2, 2);
SELECT id, p FROM sales ORDER BY id;
INSERT INTO sale_labels VALUES (1, 10);
SELECT count(*) FROM ml_prediction_log;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_pending_labels();
\echo :LAST_ERROR_SQLSTATE
INSERT INTO ml_label_queue (prediction_id, model_name, version, label) VALUES (1, 'fs_m', 1, 1);
\echo :LAST_ERROR_SQLSTATE
UPDATE ml_attachments SET mode = 'sync';
\echo :LAST_ERROR_SQLSTATE
SELECT ml_learn_pending();
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout('fs_m', 'production', 'shadow');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('sale_labels', 'fs_m', key => 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT _ml_attach('sale_labels', 'fs_m', 'id', NULL, NULL, NULL, 'production', 'queue', NULL, NULL, NULL, NULL, true, false, 'someone_else');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT key, variant, score, label FROM ml_prediction_log ORDER BY prediction_id;
-- A learner applies the queue without reading the log.
SET ROLE regress_fb_learner;
SELECT ml_learn_pending() AS applied;
SELECT count(*) FROM ml_prediction_log;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT key, label, learned_at IS NOT NULL AS learned FROM ml_prediction_log ORDER BY prediction_id;

-- ---------------------------------------------------------------------------------------------
-- A hostile search_path: look-alike tables, an always-true text = operator and look-alike
-- functions ahead of pg_catalog. A new session, so that the triggers' plans are made under it.
-- ---------------------------------------------------------------------------------------------
CREATE SCHEMA evil;
CREATE TABLE evil.ml_prediction_log (LIKE public.ml_prediction_log);
CREATE TABLE evil.ml_label_queue (LIKE public.ml_label_queue);
CREATE TABLE evil.ml_attachments (LIKE public.ml_attachments);
CREATE TABLE evil.ml_rollouts (LIKE public.ml_rollouts);
CREATE TABLE evil.ml_models (LIKE public.ml_models);
CREATE FUNCTION evil.always(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.always);
CREATE FUNCTION evil.always8(bigint, bigint) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.always8);
CREATE FUNCTION evil.clock_timestamp() RETURNS timestamptz LANGUAGE sql AS $$ SELECT '2000-01-01'::timestamptz $$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT '2000-01-01'::timestamptz $$;
CREATE FUNCTION evil.has_function_privilege(name, text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE FUNCTION evil.pg_has_role(name, oid, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
GRANT USAGE ON SCHEMA evil TO PUBLIC;
\c -
SET search_path = evil, pg_catalog, feedback_security, public;
SELECT 'a'::text = 'b'::text AS evil_operator_in_force;
INSERT INTO feedback_security.sales (id, a) VALUES (3, 3), (4, 4);
INSERT INTO feedback_security.sale_labels VALUES (3, 30), (4, 40);
INSERT INTO feedback_security.sale_labels VALUES (3, 31);  -- a second label: ignored
SELECT public.ml_learn_pending() AS applied;
CREATE TABLE feedback_security.more (id int, a float8);
SELECT public.ml_attach('feedback_security.more', 'fs_m', key => 'id');
INSERT INTO feedback_security.more VALUES (1, 1);
SELECT public.ml_deploy('fs_m', 1, 'shade');
SELECT public.ml_rollout('fs_m', 'shade', 'shadow');
INSERT INTO feedback_security.more VALUES (2, 2);
SELECT public.ml_rollout_remove('fs_m', 'shade');
SELECT public.ml_detach('feedback_security.more');
-- The owner check still holds: a role without ownership gets nothing from the evil pg_has_role.
SET ROLE regress_fb_other;
SELECT public.ml_attach('feedback_security.sale_labels', 'fs_m', key => 'id');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
RESET search_path;
SET search_path = feedback_security, public;
SELECT key, variant, served, label, learned_at IS NOT NULL AS learned, predicted_at > '2001-01-01' AS real_clock
FROM ml_prediction_log ORDER BY prediction_id;
SELECT (SELECT count(*) FROM evil.ml_prediction_log) AS evil_log, (SELECT count(*) FROM evil.ml_label_queue) AS evil_queue,
       (SELECT count(*) FROM evil.ml_attachments) AS evil_attachments, (SELECT count(*) FROM evil.ml_rollouts) AS evil_rollouts;
SELECT table_name FROM ml_attachments;
DROP SCHEMA evil CASCADE;

SELECT ml_detach('sales');
DELETE FROM ml_label_queue;
DELETE FROM ml_prediction_log;
SELECT ml_undeploy('fs_m', 'shade') AS was;
SELECT ml_unregister('fs_m', force => true);
DROP SCHEMA feedback_security CASCADE;
DROP OWNED BY regress_fb_owner, regress_fb_other, regress_fb_app, regress_fb_learner;
DROP ROLE regress_fb_owner, regress_fb_other, regress_fb_app, regress_fb_learner;
