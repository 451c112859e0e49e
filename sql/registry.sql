-- The model registry: versions, aliases, deploy history, ml_predict / ml_learn by name and their
-- per-backend cache, transactional visibility, privileges, hostile search_path, errors.
-- Each file works in its own schema: the files share one database. The registry tables live in
-- the extension's schema (public here).
CREATE SCHEMA registry;
SET search_path = registry, public;
SELECT ml_registry_cache_reset();

-- The registry's tables are extension configuration tables: pg_dump keeps their rows.
SELECT t AS registry_table, to_regclass('public.' || t)::oid = ANY (e.extconfig) AS dumped_by_pg_dump
FROM pg_extension e, unnest(ARRAY['ml_model_names', 'ml_models', 'ml_aliases', 'ml_deployments']) t
WHERE e.extname = 'pg_learn';

-- Starting models whose scores are easy to check: one step of SGD (lr 0.01, intercept fixed)
-- on a = 1 with label y gives w_a = 0.02 y, so a = 10 scores 0.2 y.
CREATE TABLE start (y int PRIMARY KEY, m ml_model);
INSERT INTO start
SELECT y, ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "intercept_lr": 0}', '{"a": 1}'::jsonb, y)
FROM generate_series(1, 3) y;
-- A model of dense features (x1, x2) for the float8[] form.
CREATE TABLE dense_start AS
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "intercept_lr": 0}', ARRAY[1.0, 2.0], 1) AS m;

-- ---------------------------------------------------------------------------------------------
-- Registering: versions 1, 2, ... per name; spec and kind taken from the model.
-- ---------------------------------------------------------------------------------------------
SELECT ml_register('houses', m, notes => 'first', provenance => '{"query": "SELECT 1", "rows": 1}')
FROM start WHERE y = 1;
SELECT ml_register('houses', m, notes => 'second', parent_version => 1, metrics => '{"rmse": 0.5}',
                   baseline => (SELECT ml_profile(jsonb_build_object('a', i)) FROM generate_series(1, 4) i))
FROM start WHERE y = 2;
SELECT ml_register('dense', m) FROM dense_start;
SELECT ml_register('houses', m) FROM start WHERE y = 3;
SELECT name, version, kind, spec ->> 'model' AS spec_model, created_by = current_user AS by_me,
       parent_version, provenance, ml_profile_rows(baseline) AS baseline_rows, metrics, notes, event
FROM ml_models ORDER BY name, version;
-- The baseline is the training profile, for drift monitoring.
SELECT f.name, f.count, f.mean FROM ml_models m, ml_profile_features(m.baseline) f
WHERE m.name = 'houses' AND m.version = 2;
SELECT name, latest_version, latest_event FROM ml_model_names ORDER BY name;
-- The stored model is the registered one, byte for byte.
SELECT ml_model_bytes(ml_get('houses', 2)) = ml_model_bytes(m) AS same_bytes FROM start WHERE y = 2;

-- ---------------------------------------------------------------------------------------------
-- Deploying, scoring by name, rolling back.
-- ---------------------------------------------------------------------------------------------
SELECT ml_deploy('houses', 1) AS previous;  -- NULL: the alias is new
SELECT ml_deploy('dense', 1) AS previous;
SELECT ml_predict('houses', '{"a": 10}'::jsonb) AS jsonb_form,
       ml_predict('houses', (SELECT r FROM (SELECT 10 AS a) r)) AS row_form,
       ml_predict('dense', ARRAY[10.0, 1.0]) AS array_form;
-- Scores equal ml_predict_one with the deployed model, for every form.
SELECT ml_predict('houses', '{"a": 7, "b": 1}'::jsonb) = ml_predict_one(ml_get('houses'), '{"a": 7, "b": 1}'::jsonb) AS jsonb_same,
       ml_predict('dense', ARRAY[3.0, -4.0]) = ml_predict_one(ml_get('dense'), ARRAY[3.0, -4.0]) AS array_same;
SELECT ml_deploy('houses', 2) AS previous;
SELECT ml_predict('houses', '{"a": 10}'::jsonb);
SELECT ml_deploy('houses', 2) AS previous;  -- already there: no change, no event
SELECT ml_deploy('houses', 3, 'staging') AS previous;
-- A named alias; the default alias is production.
SELECT ml_predict('houses', '{"a": 10}'::jsonb, 'staging') AS staging,
       ml_predict('houses', '{"a": 10}'::jsonb, alias => 'production') AS production;
SELECT ml_deploy('houses', 3) AS previous;
-- Rollbacks walk back through the deployments of the alias, as a stack: 3 -> 2 -> 1.
SELECT ml_rollback('houses') AS now_deployed;
SELECT ml_predict('houses', '{"a": 10}'::jsonb);
SELECT ml_rollback('houses') AS now_deployed;
SELECT ml_predict('houses', '{"a": 10}'::jsonb);
-- Version 1 was the first one deployed as production: nothing earlier to roll back to.
SELECT ml_rollback('houses');
\echo :LAST_ERROR_SQLSTATE
-- A new deployment after rollbacks is undone first.
SELECT ml_deploy('houses', 3) AS previous;
SELECT ml_rollback('houses') AS now_deployed;
SELECT ml_deploy('houses', 2) AS previous;
-- Undeploying removes the alias (recorded); rolling back restores it.
SELECT ml_undeploy('houses', 'staging') AS was;
SELECT ml_predict('houses', '{"a": 10}'::jsonb, 'staging');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollback('houses', 'staging') AS now_deployed;
SELECT ml_predict('houses', '{"a": 10}'::jsonb, 'staging');
SELECT name, alias, version, deployed_by = current_user AS by_me FROM ml_aliases ORDER BY name, alias;

-- History: registrations and alias changes in order (for a registration, from_version is the
-- parent version).
SELECT event, action, alias, from_version, to_version, actor = current_user AS by_me
FROM ml_history('houses');
SELECT name, event, action, undoes FROM ml_deployments WHERE action = 'rollback' ORDER BY name, event;
SELECT version, aliases, kind, n_seen, parent_version, notes, created_by = current_user AS by_me
FROM ml_versions('houses');
-- ml_get: by version, by alias (production by default).
SELECT ml_predict_one(ml_get('houses'), '{"a": 10}'::jsonb) AS production,
       ml_predict_one(ml_get('houses', alias => 'staging'), '{"a": 10}'::jsonb) AS staging,
       ml_predict_one(ml_get('houses', 1), '{"a": 10}'::jsonb) AS version_1;

-- ---------------------------------------------------------------------------------------------
-- What a transaction sees. ml_predict serves the version the statement's snapshot shows.
-- ---------------------------------------------------------------------------------------------
-- A deploy rolled back changes nothing.
BEGIN;
SELECT ml_deploy('houses', 1) AS previous;
SELECT ml_predict('houses', '{"a": 10}'::jsonb) AS inside;
ROLLBACK;
SELECT ml_predict('houses', '{"a": 10}'::jsonb) AS after_rollback;
-- The same with a savepoint, in one transaction.
BEGIN;
SELECT ml_predict('houses', '{"a": 10}'::jsonb) AS before;
SAVEPOINT s;
SELECT ml_deploy('houses', 3) AS previous;
SELECT ml_predict('houses', '{"a": 10}'::jsonb) AS after_deploy;
ROLLBACK TO SAVEPOINT s;
SELECT ml_predict('houses', '{"a": 10}'::jsonb) AS after_rollback_to_savepoint;
COMMIT;
-- STABLE: a statement scores with the snapshot it started with, even if it deploys itself; the
-- next statement sees the deploy.
BEGIN;
SELECT ml_deploy('houses', 1) AS previous, ml_predict('houses', '{"a": 10}'::jsonb) AS same_statement;
SELECT ml_predict('houses', '{"a": 10}'::jsonb) AS next_statement;
ROLLBACK;
-- PL/pgSQL keeps one call site (and its fn_extra) across statements of a transaction: each
-- statement still sees its own snapshot: 0.4 (v2), 0.2 (v1 deployed), 0.4 (rolled back).
DO $$
DECLARE
    s float8;
BEGIN
    FOR i IN 1..3 LOOP
        s := ml_predict('houses', '{"a": 10}'::jsonb);
        RAISE NOTICE 'iteration %: %', i, round(s::numeric, 10);
        IF i = 1 THEN PERFORM ml_deploy('houses', 1); END IF;
        IF i = 2 THEN PERFORM ml_rollback('houses'); END IF;
    END LOOP;
END
$$;
-- ... and a subtransaction rolled back in between: 0.6 (v3, deployed inside), then 0.4 again.
DO $$
DECLARE
    s float8;
BEGIN
    FOR i IN 1..2 LOOP
        BEGIN
            IF i = 1 THEN PERFORM ml_deploy('houses', 3); END IF;
            s := ml_predict('houses', '{"a": 10}'::jsonb);
            RAISE NOTICE 'iteration %: %', i, round(s::numeric, 10);
            IF i = 1 THEN RAISE EXCEPTION 'undo'; END IF;
        EXCEPTION WHEN raise_exception THEN
            RAISE NOTICE 'subtransaction rolled back';
        END;
    END LOOP;
END
$$;
SELECT ml_predict('houses', '{"a": 10}'::jsonb) AS production;
-- Within REPEATABLE READ the transaction's snapshot is kept, but its own deploys are seen.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT ml_predict('houses', '{"a": 10}'::jsonb) AS before;
SELECT ml_deploy('houses', 1) AS previous;
SELECT ml_predict('houses', '{"a": 10}'::jsonb) AS own_deploy;
ROLLBACK;

-- ---------------------------------------------------------------------------------------------
-- The cache: a query looks the registry up once per call site and decodes a stored row version
-- at most once per backend.
-- ---------------------------------------------------------------------------------------------
-- x1 is a feature of the dense model only, a of the houses model only.
CREATE TABLE events AS SELECT i, jsonb_build_object('a', i % 10, 'x1', 1) AS x FROM generate_series(1, 1000) i;
CREATE FUNCTION cache_counters() RETURNS TABLE (resolves bigint, decodes bigint)
LANGUAGE sql AS $$
    SELECT (c ->> 'resolves')::bigint, (c ->> 'decodes')::bigint FROM ml_registry_cache() c
$$;
SELECT ml_registry_cache_reset();
SELECT count(*), round(sum(ml_predict('houses', x))::numeric, 8) AS total FROM events;
SELECT * FROM cache_counters();  -- one look-up, one decode for 1000 rows
SELECT count(*), round(sum(ml_predict('houses', x))::numeric, 8) AS total FROM events;
SELECT * FROM cache_counters();  -- a second query: one more look-up, no decode
-- Two call sites, two aliases, and a name varying per row: each (name, alias) once per site.
SELECT round(sum(ml_predict('houses', x))::numeric, 8) AS production,
       round(sum(ml_predict('houses', x, 'staging'))::numeric, 8) AS staging,
       round(sum(ml_predict(CASE WHEN i % 2 = 0 THEN 'houses' ELSE 'dense' END, x))::numeric, 8) AS by_row
FROM events;
SELECT * FROM cache_counters();
SELECT e ->> 'name' AS name, e ->> 'version' AS version, e ->> 'n_seen' AS n_seen
FROM ml_registry_cache() c, jsonb_array_elements(c -> 'entries') e;

-- ---------------------------------------------------------------------------------------------
-- ml_learn: one online update of the deployed model, in place.
-- ---------------------------------------------------------------------------------------------
SELECT ml_deploy('houses', 1) AS previous;
SELECT ml_learn('houses', '{"a": 1}'::jsonb, 5) AS learned_version;
SELECT ml_learn('houses', (SELECT r FROM (SELECT 2 AS a) r), 3) AS learned_version;
SELECT ml_learn('houses', '{"a": 3, "b": 1}'::jsonb, 0) AS learned_version;
-- The stored model is exactly the sequence of ml_fit_one updates.
SELECT ml_model_bytes(ml_get('houses', 1)) =
       ml_model_bytes(ml_fit_one(ml_fit_one(ml_fit_one(m, '{"a": 1}'::jsonb, 5), '{"a": 2}'::jsonb, 3),
                                 '{"a": 3, "b": 1}'::jsonb, 0)) AS same_as_fit_one
FROM start WHERE y = 1;
-- The cache follows: scores use the learned model, without decoding it again (the learning
-- backend keeps the model it wrote).
SELECT ml_registry_cache_reset();
SELECT ml_predict('houses', '{"a": 10}'::jsonb) = ml_predict_one(ml_get('houses'), '{"a": 10}'::jsonb) AS fresh;
SELECT ml_learn('houses', '{"a": 1}'::jsonb, 1) AS learned_version;
SELECT ml_predict('houses', '{"a": 10}'::jsonb) = ml_predict_one(ml_get('houses'), '{"a": 10}'::jsonb) AS after_learn;
SELECT * FROM cache_counters();
SELECT (ml_info(ml_get('houses')) ->> 'n_seen')::int AS n_seen, (SELECT count(*) FROM ml_versions('houses') v WHERE v.n_seen = 5) AS versions_with_5;
-- Many updates in one statement: each sees the one before (no lost update).
SELECT count(ml_learn('houses', jsonb_build_object('a', i % 3), i % 2)) FROM generate_series(1, 100) i;
SELECT (ml_info(ml_get('houses')) ->> 'n_seen')::int AS n_seen;
SELECT ml_predict('houses', '{"a": 10}'::jsonb) = ml_predict_one(ml_get('houses'), '{"a": 10}'::jsonb) AS after_100;
-- A learn rolled back changes nothing, and the cache does not serve the model it wrote.
BEGIN;
SELECT ml_learn('houses', '{"a": 1}'::jsonb, 100) AS learned_version;
SELECT (ml_info(ml_get('houses')) ->> 'n_seen')::int AS n_seen_inside,
       ml_predict('houses', '{"a": 10}'::jsonb) = ml_predict_one(ml_get('houses'), '{"a": 10}'::jsonb) AS inside;
ROLLBACK;
SELECT (ml_info(ml_get('houses')) ->> 'n_seen')::int AS n_seen_after,
       ml_predict('houses', '{"a": 10}'::jsonb) = ml_predict_one(ml_get('houses'), '{"a": 10}'::jsonb) AS after_rollback;
-- The float8[] form, and learning under another alias.
SELECT ml_learn('dense', ARRAY[1.0, 1.0], 2) AS learned_version;
SELECT ml_model_bytes(ml_get('dense')) = ml_model_bytes(ml_fit_one(m, ARRAY[1.0, 1.0], 2)) AS dense_same FROM dense_start;
SELECT ml_learn('houses', '{"a": 1}'::jsonb, 1, 'staging') AS learned_version;
SELECT version, n_seen FROM ml_versions('houses');
-- A NULL example or label teaches nothing.
SELECT ml_learn('houses', NULL::jsonb, 1) IS NULL AS x_null, ml_learn('houses', '{"a": 1}'::jsonb, NULL) IS NULL AS y_null;
SELECT version, n_seen FROM ml_versions('houses') WHERE version = 1;
-- Learning in a loop next to scoring in PL/pgSQL: every score uses the model as just updated.
DO $$
DECLARE
    ok boolean := true;
BEGIN
    FOR i IN 1..20 LOOP
        PERFORM ml_learn('houses', jsonb_build_object('a', i % 4), i % 3);
        ok := ok AND ml_predict('houses', '{"a": 2}'::jsonb) = ml_predict_one(ml_get('houses'), '{"a": 2}'::jsonb);
    END LOOP;
    RAISE NOTICE 'scores followed every update: %', ok;
END
$$;
-- Scoring and learning in one statement: every row is scored with the model the statement's
-- snapshot shows (STABLE), and the model is decoded once, not once per row.
SELECT ml_registry_cache_reset();
SELECT count(DISTINCT ml_predict('houses', '{"a": 10}'::jsonb)) AS distinct_scores,
       count(ml_learn('houses', '{"a": 1}'::jsonb, 1)) AS learned
FROM generate_series(1, 50);
SELECT * FROM cache_counters();

-- A large model, stored out of line (TOAST): scored, learned and cached the same way.
CREATE TABLE wide_x AS SELECT jsonb_object_agg('f' || i, i % 7) AS x FROM generate_series(1, 3000) i;
SELECT ml_register('wide', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, 1)) AS version FROM wide_x;
SELECT ml_deploy('wide', 1) AS previous;
SELECT pg_column_size(model) < octet_length(ml_model_bytes(model)) AS compressed_or_toasted,
       octet_length(ml_model_bytes(model)) > 8192 AS large
FROM ml_models WHERE name = 'wide';
SELECT ml_learn('wide', x, 2) AS learned_version FROM wide_x;
SELECT ml_predict('wide', x) = ml_predict_one(ml_get('wide'), x) AS same,
       (ml_info(ml_get('wide')) ->> 'n_seen')::int AS n_seen FROM wide_x;
SELECT ml_undeploy('wide') AS was, ml_unregister('wide') AS removed;

-- ---------------------------------------------------------------------------------------------
-- Parallel query: a worker resolves the version the leader's transaction sees.
-- ---------------------------------------------------------------------------------------------
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET force_parallel_mode = on;
-- (Sums are rounded: a parallel plan adds the same numbers in another order. The rows' unknown
-- feature is not warned about here: how many warnings a parallel plan gives depends on how the
-- rows fall to the processes, each counting its own.)
SET pg_learn.unknown_features = 'ignore';
CREATE TEMP TABLE expected_sum AS SELECT round(sum(ml_predict_one(ml_get('houses', 3), x))::numeric, 8) AS s FROM events;
RESET pg_learn.unknown_features;
EXPLAIN (COSTS OFF) SELECT sum(ml_predict('houses', x)) FROM events;
BEGIN;
SELECT ml_deploy('houses', 3) AS previous;
SELECT round(sum(ml_predict('houses', x))::numeric, 8) = (SELECT s FROM expected_sum) AS worker_sees_uncommitted_deploy FROM events;
ROLLBACK;
RESET force_parallel_mode;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

-- ---------------------------------------------------------------------------------------------
-- Errors: each with its SQLSTATE; bad input leaves the registry as it was.
-- ---------------------------------------------------------------------------------------------
CREATE TEMP TABLE before AS
SELECT (SELECT string_agg(format('%s:%s:%s', name, latest_version, latest_event), ',' ORDER BY name) FROM ml_model_names) AS names,
       (SELECT string_agg(format('%s:%s:%s', name, version, md5(ml_model_bytes(model)::text)), ',' ORDER BY name, version) FROM ml_models) AS models,
       (SELECT string_agg(format('%s:%s:%s', name, alias, version), ',' ORDER BY name, alias) FROM ml_aliases) AS aliases,
       (SELECT count(*) FROM ml_deployments) AS deployments;
-- Unknown names, aliases and versions: 42704 undefined_object.
SELECT ml_predict('nope', '{"a": 1}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict('houses', '{"a": 1}'::jsonb, 'canary');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict('nope', ARRAY[1.0]);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_learn('nope', '{"a": 1}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_learn('houses', '{"a": 1}'::jsonb, 1, 'canary');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_get('nope');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_get('houses', 9);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_get('houses', alias => 'canary');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_deploy('houses', 9);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_deploy('nope', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_undeploy('houses', 'canary');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_register('houses', m, parent_version => 9) FROM start WHERE y = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_history('nope');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_versions('nope');
\echo :LAST_ERROR_SQLSTATE
-- Invalid names and aliases: 42602 invalid_name.
SELECT ml_register('', m) FROM start WHERE y = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_register('two words', m) FROM start WHERE y = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_register('1st', m) FROM start WHERE y = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_register(repeat('n', 64), m) FROM start WHERE y = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_deploy('houses', 1, 'prod/eu');
\echo :LAST_ERROR_SQLSTATE
-- The longest and the widest valid names are accepted (and removed again below).
SELECT ml_register(repeat('n', 63), m) AS v63, ml_register('_a-b.C_9', m) AS v_punct FROM start WHERE y = 1;
SELECT ml_unregister(repeat('n', 63)) AS removed, ml_unregister('_a-b.C_9') AS removed;
-- NULL arguments: 22004 null_value_not_allowed.
SELECT ml_predict(NULL, '{"a": 1}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict('houses', '{"a": 1}'::jsonb, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict('houses', NULL::jsonb) IS NULL AS no_features_no_score;
SELECT ml_learn(NULL, '{"a": 1}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_register('houses', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_register(NULL, m) FROM start WHERE y = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_deploy('houses', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_deploy('houses', 1, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollback(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_get(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_get('houses', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_unregister('houses', NULL);
\echo :LAST_ERROR_SQLSTATE
-- Metadata that is not a JSON object: 22023.
SELECT ml_register('houses', m, provenance => '[1, 2]') FROM start WHERE y = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_register('houses', m, metrics => '3') FROM start WHERE y = 1;
\echo :LAST_ERROR_SQLSTATE
-- A rollback with nothing to undo: 55000; unregistering a deployed model: 55006.
SELECT ml_rollback('houses', 'canary');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_unregister('houses');
\echo :LAST_ERROR_SQLSTATE
-- Bad examples for ml_learn: the core's errors (22023, 22003), and the model is unchanged.
SELECT ml_learn('houses', '{"a": {"nested": 1}}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_learn('houses', '{"a": 1}'::jsonb, 'NaN');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_learn('dense', ARRAY[1.0, 2.0, 3.0], 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict('dense', ARRAY[1.0, NULL]);
\echo :LAST_ERROR_SQLSTATE
-- Direct writes are checked by the tables' constraints too.
\set VERBOSITY terse
INSERT INTO ml_model_names (name) VALUES ('bad name');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
INSERT INTO ml_aliases (name, alias, version) VALUES ('houses', 'qa', 9);
\echo :LAST_ERROR_SQLSTATE
-- Nothing above changed the registry.
SELECT (SELECT string_agg(format('%s:%s:%s', name, latest_version, latest_event), ',' ORDER BY name) FROM ml_model_names) = names AS names_same,
       (SELECT string_agg(format('%s:%s:%s', name, version, md5(ml_model_bytes(model)::text)), ',' ORDER BY name, version) FROM ml_models) = models AS models_same,
       (SELECT string_agg(format('%s:%s:%s', name, alias, version), ',' ORDER BY name, alias) FROM ml_aliases) = aliases AS aliases_same,
       (SELECT count(*) FROM ml_deployments) = deployments AS history_same
FROM before;
-- The cache still serves the stored model after the failed updates.
SELECT ml_predict('houses', '{"a": 10}'::jsonb) = ml_predict_one(ml_get('houses'), '{"a": 10}'::jsonb) AS consistent;
-- The next registration gets the next version: failed ones used none.
SELECT ml_register('houses', m, notes => 'fourth') AS version FROM start WHERE y = 1;

-- ---------------------------------------------------------------------------------------------
-- Privileges. Writing functions and ml_predict are not executable by PUBLIC; the tables belong
-- to the extension's owner; no function is SECURITY DEFINER.
-- ---------------------------------------------------------------------------------------------
-- (Volatility: writers VOLATILE and PARALLEL UNSAFE; ml_predict and the readers STABLE and
-- PARALLEL SAFE; the cache functions touch backend-local state: PARALLEL RESTRICTED.)
SELECT p.oid::regprocedure AS function, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
       p.provolatile AS volatility, p.proparallel AS parallel, p.proisstrict AS strict
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_learn'
WHERE p.proname ~ '^_?ml_(register|deploy|rollback|undeploy|unregister|learn|predict|get|versions|history|registry_cache|registry_cache_reset|check_name|lock_name|next_event|metric_higher_is_better)$'
ORDER BY p.proname, p.oid::regprocedure::text;
SELECT count(*) AS security_definer_functions
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_learn'
WHERE p.prosecdef;
CREATE ROLE regress_registry_app;
CREATE ROLE regress_registry_deployer;
CREATE ROLE regress_registry_reader;
CREATE ROLE regress_registry_nobody;
GRANT USAGE ON SCHEMA registry TO regress_registry_app, regress_registry_deployer, regress_registry_reader, regress_registry_nobody;
GRANT EXECUTE ON FUNCTION ml_predict(text, jsonb, text), ml_predict(text, float8[], text), ml_predict(text, record, text),
                          ml_learn(text, jsonb, float8, text), ml_learn(text, float8[], float8, text),
                          ml_learn(text, record, float8, text)
    TO regress_registry_app;
GRANT EXECUTE ON FUNCTION ml_register(text, ml_model, text, jsonb, ml_profile, jsonb, int), ml_deploy(text, int, text),
                          ml_rollback(text, text), ml_undeploy(text, text)
    TO regress_registry_deployer;
GRANT SELECT ON ml_model_names, ml_models, ml_aliases, ml_deployments TO regress_registry_reader;
-- A role without grants can do nothing with the registry.
SET ROLE regress_registry_nobody;
SELECT ml_predict('houses', '{"a": 10}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_learn('houses', '{"a": 1}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_deploy('houses', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_get('houses');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM ml_models;
\echo :LAST_ERROR_SQLSTATE
-- nor call the private functions (which would let it name another actor).
SELECT _ml_deploy('houses', 2, 'production', 'someone_else');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- The application scores and learns, and nothing more: it cannot read the weights, deploy,
-- or write the tables.
SET ROLE regress_registry_app;
SELECT ml_predict('houses', '{"a": 10}'::jsonb) > 0 AS scores;
SELECT ml_learn('houses', '{"a": 1}'::jsonb, 1) AS learned_version;
SELECT ml_deploy('houses', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_get('houses');
\echo :LAST_ERROR_SQLSTATE
UPDATE ml_aliases SET version = 2;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- The deployer registers and deploys; it is recorded as the actor, not the tables' owner.
SET ROLE regress_registry_deployer;
SELECT ml_register('houses', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "intercept_lr": 0}', '{"a": 1}'::jsonb, 4)) AS version;
SELECT ml_deploy('houses', 5) AS previous;
SELECT ml_rollback('houses') AS now_deployed;
SELECT ml_predict('houses', '{"a": 10}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_unregister('houses', force => true);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT event, action, to_version, actor FROM ml_history('houses') WHERE event > 18 ORDER BY event;
SELECT version, created_by FROM ml_models WHERE name = 'houses' AND version = 5;
-- The reader reads the registry (tables, ml_get, ml_history) and writes nothing.
SET ROLE regress_registry_reader;
SELECT count(*) AS versions FROM ml_models WHERE name = 'houses';
SELECT ml_predict_one(ml_get('houses', 5), '{"a": 10}'::jsonb) AS v5;
SELECT count(*) AS events FROM ml_history('houses');
SELECT ml_predict('houses', '{"a": 10}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_deploy('houses', 5);
\echo :LAST_ERROR_SQLSTATE
DELETE FROM ml_deployments;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP OWNED BY regress_registry_app, regress_registry_deployer, regress_registry_reader, regress_registry_nobody;
DROP ROLE regress_registry_app, regress_registry_deployer, regress_registry_reader, regress_registry_nobody;

-- ---------------------------------------------------------------------------------------------
-- A hostile search_path: look-alike tables, functions and an always-true text = operator placed
-- before pg_catalog. A new session, so that the registry's plans are made under it.
-- ---------------------------------------------------------------------------------------------
CREATE SCHEMA evil;
CREATE TABLE evil.ml_model_names (name text, latest_version int, latest_event int);
CREATE TABLE evil.ml_aliases (name text, alias text, version int);
CREATE TABLE evil.ml_models (name text, version int, model ml_model);
INSERT INTO evil.ml_aliases VALUES ('houses', 'production', 1);
INSERT INTO evil.ml_models VALUES ('houses', 1, ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 1000));
CREATE FUNCTION evil.always(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.always);
CREATE FUNCTION evil.ml_info(ml_model) RETURNS jsonb LANGUAGE sql AS $$ SELECT '{"kind": "evil", "spec": {}}'::jsonb $$;
CREATE FUNCTION evil.jsonb_typeof(jsonb) RETURNS text LANGUAGE sql AS $$ SELECT 'object' $$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT '2000-01-01'::timestamptz $$;
CREATE TABLE expected_houses AS SELECT ml_predict_one(ml_get('houses'), '{"a": 10}'::jsonb) AS p;
\c -
SET search_path = evil, pg_catalog, registry, public;
SELECT 'a'::text = 'b'::text AS evil_operator_in_force;
SELECT public.ml_predict('houses', '{"a": 10}'::jsonb) OPERATOR(pg_catalog.=) p AS houses_production_as_stored
FROM registry.expected_houses;
SELECT public.ml_register('hostile', public.ml_get('houses', 1)) AS version;
SELECT public.ml_register('hostile', public.ml_get('houses', 2), provenance => '[1]');
\echo :LAST_ERROR_SQLSTATE
SELECT public.ml_deploy('hostile', 1) AS previous;
SELECT public.ml_learn('hostile', '{"a": 1}'::jsonb, 1) AS learned_version;
SELECT public.ml_predict('hostile', '{"a": 10}'::jsonb) OPERATOR(pg_catalog.=)
       public.ml_predict_one(public.ml_fit_one(public.ml_get('houses', 1), '{"a": 1}'::jsonb, 1), '{"a": 10}'::jsonb)
       AS hostile_learned;
SELECT public.ml_deploy('houses', 1, 'hostile') AS previous;
SELECT public.ml_rollback('houses') AS now_deployed;
SELECT public.ml_undeploy('houses', 'hostile') AS was;
SELECT count(*) AS hostile_events FROM public.ml_history('hostile');
RESET search_path;
SET search_path = registry, public;
SELECT name, version, kind, updated_at > '2001-01-01' AS real_now FROM ml_models WHERE name = 'hostile';
SELECT (SELECT count(*) FROM evil.ml_models) AS evil_models, (SELECT count(*) FROM evil.ml_aliases) AS evil_aliases,
       (SELECT count(*) FROM evil.ml_model_names) AS evil_names;
SELECT alias, version FROM ml_aliases WHERE name = 'houses' ORDER BY alias;
SELECT ml_unregister('hostile', force => true) AS removed;
DROP SCHEMA evil CASCADE;

-- ---------------------------------------------------------------------------------------------
-- Unregistering removes a name with its versions, aliases and history.
-- ---------------------------------------------------------------------------------------------
SELECT ml_undeploy('dense') AS was;
SELECT ml_unregister('dense') AS removed;
SELECT ml_unregister('houses', force => true) AS removed;
SELECT (SELECT count(*) FROM ml_model_names) AS names, (SELECT count(*) FROM ml_models) AS models,
       (SELECT count(*) FROM ml_aliases) AS aliases, (SELECT count(*) FROM ml_deployments) AS deployments;
SELECT ml_predict('houses', '{"a": 1}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
-- A name registered again starts at version 1.
SELECT ml_register('houses', m) AS version FROM start WHERE y = 1;
SELECT ml_unregister('houses') AS removed;
