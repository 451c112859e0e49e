-- pg_learn 0.2.0, part 40: the model registry (names, versions, aliases, deploy history),
-- ml_predict / ml_learn by name, and the privilege model. docs/registry.md is the reference.
-- Uses ml_model (part 00) and ml_profile (part 30, the training baseline of a version).
--
-- Every function body refers to the extension's objects as @extschema@.name and runs with
-- search_path = pg_catalog, pg_temp, so a hostile search_path cannot redirect a table, a
-- function or an operator. The registry tables belong to the extension's owner and nobody else
-- may read or write them unless granted; writing goes through the functions below, whose C
-- entry points run the private _ml_* functions as the tables' owner and record the caller
-- (current_user) as the actor. See "Privileges" in docs/registry.md.

-- ---------------------------------------------------------------------------------------------
-- Tables. Configuration tables: pg_dump keeps their rows (pg_extension_config_dump).
-- ---------------------------------------------------------------------------------------------

-- One row per model name: the counters that make versions and history events per name
-- gapless and concurrency-safe (every writer locks this row first).
CREATE TABLE @extschema@.ml_model_names (
    name           text        PRIMARY KEY
                               CONSTRAINT ml_model_names_name_check
                               CHECK (name ~ '^[A-Za-z_][-A-Za-z0-9_.]*$' AND octet_length(name) <= 63),
    latest_version int         NOT NULL DEFAULT 0 CHECK (latest_version >= 0),
    latest_event   int         NOT NULL DEFAULT 0 CHECK (latest_event >= 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     name        NOT NULL DEFAULT current_user
);
COMMENT ON TABLE @extschema@.ml_model_names IS
    'pg_learn registry: one row per model name, with its version and event counters';

-- One row per registered version. The model of the version deployed under an alias is updated
-- in place by ml_learn (updated_at); everything else is written once. parent_version is checked
-- by ml_register (an earlier version of the same name); it is not a self-referencing foreign key,
-- which would make every pg_dump warn about circular constraints on a configuration table.
CREATE TABLE @extschema@.ml_models (
    name           text        NOT NULL REFERENCES @extschema@.ml_model_names (name),
    version        int         NOT NULL CHECK (version >= 1),
    model          @extschema@.ml_model NOT NULL,
    kind           text        NOT NULL,
    spec           jsonb       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     name        NOT NULL DEFAULT current_user,
    parent_version int         CHECK (parent_version >= 1 AND parent_version < version),
    provenance     jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(provenance) = 'object'),
    baseline       @extschema@.ml_profile,
    metrics        jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metrics) = 'object'),
    notes          text,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    event          int         NOT NULL CHECK (event >= 1),
    -- What the model predicts (ml_info's task: regression, binary, multiclass...), as the core
    -- says: monitoring reads it instead of guessing from the kind's name.
    task           text        NOT NULL,
    PRIMARY KEY (name, version)
);
COMMENT ON TABLE @extschema@.ml_models IS
    'pg_learn registry: every version of every named model, with spec, provenance, baseline and metrics';

-- The version each alias (production, staging, shadow or any label) of a name points to.
-- Traffic shares and variant roles belong in a table of their own keyed by (name, alias).
CREATE TABLE @extschema@.ml_aliases (
    name        text        NOT NULL,
    alias       text        NOT NULL
                            CONSTRAINT ml_aliases_alias_check
                            CHECK (alias ~ '^[A-Za-z_][-A-Za-z0-9_.]*$' AND octet_length(alias) <= 63),
    version     int         NOT NULL,
    deployed_at timestamptz NOT NULL DEFAULT now(),
    deployed_by name        NOT NULL DEFAULT current_user,
    PRIMARY KEY (name, alias),
    FOREIGN KEY (name, version) REFERENCES @extschema@.ml_models (name, version)
);
COMMENT ON TABLE @extschema@.ml_aliases IS
    'pg_learn registry: the version deployed under each alias of a model';

-- Append-only audit of alias changes. event numbers are per name and shared with the
-- registrations in ml_models.event, so (name, event) orders a model's whole history. undoes: the
-- event a rollback undid (an earlier event of the name; no self-referencing key, as above).
CREATE TABLE @extschema@.ml_deployments (
    name         text        NOT NULL REFERENCES @extschema@.ml_model_names (name),
    event        int         NOT NULL CHECK (event >= 1),
    alias        text        NOT NULL,
    action       text        NOT NULL CHECK (action IN ('deploy', 'rollback', 'undeploy')),
    from_version int,
    to_version   int,
    undoes       int         CHECK (undoes < event),
    deployed_at  timestamptz NOT NULL DEFAULT now(),
    deployed_by  name        NOT NULL DEFAULT current_user,
    PRIMARY KEY (name, event),
    FOREIGN KEY (name, from_version) REFERENCES @extschema@.ml_models (name, version),
    FOREIGN KEY (name, to_version) REFERENCES @extschema@.ml_models (name, version),
    CHECK ((action = 'undeploy') = (to_version IS NULL)),
    CHECK ((action = 'rollback') = (undoes IS NOT NULL))
);
CREATE INDEX ml_deployments_undoes ON @extschema@.ml_deployments (name, undoes) WHERE undoes IS NOT NULL;
COMMENT ON TABLE @extschema@.ml_deployments IS
    'pg_learn registry: who changed which alias of which model from which version to which, and when';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.ml_model_names', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ml_models', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ml_aliases', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ml_deployments', '');

REVOKE ALL ON TABLE @extschema@.ml_model_names, @extschema@.ml_models, @extschema@.ml_aliases,
                    @extschema@.ml_deployments FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Private functions: the registry's logic. Run by the C entry points below as the tables'
-- owner, with the caller's name as p_actor. Nobody else may execute them.
-- ---------------------------------------------------------------------------------------------

-- Model names and aliases: 1 to 63 bytes, a letter or underscore, then letters, digits, '_',
-- '.' or '-' (ASCII). The same rule is a CHECK constraint on the tables.
CREATE FUNCTION @extschema@._ml_check_name(what text, value text) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', what USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF value !~ '^[A-Za-z_][-A-Za-z0-9_.]*$' OR octet_length(value) > 63 THEN
        RAISE EXCEPTION 'invalid % "%"', what, left(value, 80)
            USING ERRCODE = 'invalid_name',
                  DETAIL = 'Model names and aliases are 1 to 63 bytes: a letter or underscore, then letters, digits, "_", "." or "-".';
    END IF;
END
$$;

-- Locks the name's row (serializing every writer of one name) and returns it; 42704 if absent.
CREATE FUNCTION @extschema@._ml_lock_name(p_name text) RETURNS @extschema@.ml_model_names
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r @extschema@.ml_model_names;
BEGIN
    SELECT * INTO r FROM @extschema@.ml_model_names n WHERE n.name = p_name FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'model "%" does not exist', p_name USING ERRCODE = 'undefined_object';
    END IF;
    RETURN r;
END
$$;

-- The next event number of a locked name.
CREATE FUNCTION @extschema@._ml_next_event(p_name text) RETURNS int
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    UPDATE @extschema@.ml_model_names SET latest_event = latest_event + 1
    WHERE name = p_name RETURNING latest_event;
$$;

CREATE FUNCTION @extschema@._ml_register(p_name text, p_model @extschema@.ml_model, p_notes text,
                                         p_provenance jsonb, p_baseline @extschema@.ml_profile, p_metrics jsonb,
                                         p_parent_version int, p_actor name) RETURNS int
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    info jsonb;
    v int;
    e int;
    the_baseline @extschema@.ml_profile := p_baseline;  -- given, or inherited
    inherited_from int;
    with_baseline int;
BEGIN
    PERFORM @extschema@._ml_check_name('model name', p_name);
    IF p_model IS NULL THEN
        RAISE EXCEPTION 'model must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_provenance IS NOT NULL AND jsonb_typeof(p_provenance) <> 'object' THEN
        RAISE EXCEPTION 'provenance must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'got a JSON ' || jsonb_typeof(p_provenance);
    END IF;
    IF p_metrics IS NOT NULL AND jsonb_typeof(p_metrics) <> 'object' THEN
        RAISE EXCEPTION 'metrics must be a JSON object' USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'got a JSON ' || jsonb_typeof(p_metrics);
    END IF;
    info := @extschema@.ml_info(p_model);
    -- Creates the name or locks its row: concurrent registrations of one name queue here and
    -- get consecutive versions.
    INSERT INTO @extschema@.ml_model_names AS n (name, latest_version, latest_event, created_by)
    VALUES (p_name, 1, 1, p_actor)
    ON CONFLICT (name) DO UPDATE SET latest_version = n.latest_version + 1,
                                     latest_event = n.latest_event + 1
    RETURNING n.latest_version, n.latest_event INTO v, e;
    IF p_parent_version IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM @extschema@.ml_models m WHERE m.name = p_name AND m.version = p_parent_version) THEN
        RAISE EXCEPTION 'model "%" has no version %', p_name, p_parent_version
            USING ERRCODE = 'undefined_object', DETAIL = 'parent_version must name an existing version.';
    END IF;
    -- Issue 11, monitoring traps: the drift baseline of a version registered without one.
    -- A version registered from another inherits that version's baseline, so that a challenger
    -- made from the deployed model shows drift like its champion (NOTICE): from its
    -- parent_version, or, without one, from the version it is a byte-for-byte copy of
    -- (ml_register(name, ml_get(name))). A version left without a baseline while other versions of
    -- the name have one gets a WARNING: the monitoring views could not compare its predictions
    -- (ml_feature_drift says 'no_baseline').
    IF the_baseline IS NULL THEN
        IF p_parent_version IS NOT NULL THEN
            SELECT m.baseline, m.version INTO the_baseline, inherited_from FROM @extschema@.ml_models m
            WHERE m.name = p_name AND m.version = p_parent_version;
        ELSE
            -- (production's first, else the latest of the equal versions)
            SELECT m.baseline, m.version INTO the_baseline, inherited_from FROM @extschema@.ml_models m
            WHERE m.name = p_name AND m.baseline IS NOT NULL
              AND @extschema@.ml_model_bytes(m.model) = @extschema@.ml_model_bytes(p_model)
            ORDER BY EXISTS (SELECT 1 FROM @extschema@.ml_aliases a
                             WHERE a.name = m.name AND a.version = m.version AND a.alias = 'production') DESC,
                     m.version DESC
            LIMIT 1;
        END IF;
        IF the_baseline IS NOT NULL THEN
            RAISE NOTICE 'version % of model "%" inherits the drift baseline of version % (%)', v, p_name, inherited_from,
                         CASE WHEN p_parent_version IS NOT NULL THEN 'its parent_version'
                              ELSE 'it is a copy of that version' END
                USING HINT = 'Pass baseline => ml_profile of its own training features if it was trained on other data.';
        ELSE
            -- (the version with a baseline to name: production's, else the latest)
            SELECT m.version INTO with_baseline FROM @extschema@.ml_models m
            WHERE m.name = p_name AND m.baseline IS NOT NULL
            ORDER BY EXISTS (SELECT 1 FROM @extschema@.ml_aliases a
                             WHERE a.name = m.name AND a.version = m.version AND a.alias = 'production') DESC,
                     m.version DESC
            LIMIT 1;
            IF with_baseline IS NOT NULL THEN
                RAISE WARNING 'version % of model "%" has no drift baseline: ml_feature_drift and ml_data_quality cannot compare its predictions',
                              v, p_name
                    USING DETAIL = format('Version %s of the model has a baseline.', with_baseline),
                          HINT = format('Pass baseline => (SELECT ml_profile(features) FROM <its training data>), '
                                        'or parent_version => %s to inherit that version''s baseline.', with_baseline);
            END IF;
        END IF;
    END IF;
    INSERT INTO @extschema@.ml_models (name, version, model, kind, spec, created_by, parent_version,
                                       provenance, baseline, metrics, notes, event, task)
    VALUES (p_name, v, p_model, info ->> 'kind', info -> 'spec', p_actor, p_parent_version,
            coalesce(p_provenance, '{}'), the_baseline, coalesce(p_metrics, '{}'), p_notes, e, info ->> 'task');
    RETURN v;
END
$$;

CREATE FUNCTION @extschema@._ml_deploy(p_name text, p_version int, p_alias text, p_actor name) RETURNS int
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    old int;
BEGIN
    PERFORM @extschema@._ml_check_name('model name', p_name);
    PERFORM @extschema@._ml_check_name('alias', p_alias);
    IF p_version IS NULL THEN
        RAISE EXCEPTION 'version must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM @extschema@._ml_lock_name(p_name);
    IF NOT EXISTS (SELECT 1 FROM @extschema@.ml_models m WHERE m.name = p_name AND m.version = p_version) THEN
        RAISE EXCEPTION 'model "%" has no version %', p_name, p_version USING ERRCODE = 'undefined_object';
    END IF;
    SELECT a.version INTO old FROM @extschema@.ml_aliases a WHERE a.name = p_name AND a.alias = p_alias;
    IF old = p_version THEN
        RETURN old;  -- already there: nothing changes, nothing is recorded
    END IF;
    -- The version must fit the tables the alias serves (50_feedback.sql, _ml_check_serving).
    PERFORM @extschema@._ml_check_serving(p_name, p_alias, m.task, p_version)
    FROM @extschema@.ml_models m WHERE m.name = p_name AND m.version = p_version;
    INSERT INTO @extschema@.ml_aliases AS a (name, alias, version, deployed_at, deployed_by)
    VALUES (p_name, p_alias, p_version, now(), p_actor)
    ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, deployed_at = excluded.deployed_at,
                                            deployed_by = excluded.deployed_by;
    INSERT INTO @extschema@.ml_deployments (name, event, alias, action, from_version, to_version, deployed_by)
    VALUES (p_name, @extschema@._ml_next_event(p_name), p_alias, 'deploy', old, p_version, p_actor);
    RETURN old;
END
$$;

-- Undoes the latest change of the alias that is not itself a rollback and was not undone yet:
-- repeated rollbacks walk back through the deployments, as a stack.
CREATE FUNCTION @extschema@._ml_rollback(p_name text, p_alias text, p_actor name) RETURNS int
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ev @extschema@.ml_deployments;
    cur int;
BEGIN
    PERFORM @extschema@._ml_check_name('model name', p_name);
    PERFORM @extschema@._ml_check_name('alias', p_alias);
    PERFORM @extschema@._ml_lock_name(p_name);
    SELECT * INTO ev FROM @extschema@.ml_deployments d
    WHERE d.name = p_name AND d.alias = p_alias AND d.action <> 'rollback'
      AND NOT EXISTS (SELECT 1 FROM @extschema@.ml_deployments r WHERE r.name = d.name AND r.undoes = d.event)
    ORDER BY d.event DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'model "%" has no deployment under alias "%" to roll back', p_name, p_alias
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF ev.from_version IS NULL THEN
        RAISE EXCEPTION 'version % was the first version of model "%" deployed under alias "%": there is no earlier version to roll back to',
                        ev.to_version, p_name, p_alias
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'ml_undeploy removes the alias.';
    END IF;
    SELECT a.version INTO cur FROM @extschema@.ml_aliases a WHERE a.name = p_name AND a.alias = p_alias;
    PERFORM @extschema@._ml_check_serving(p_name, p_alias, m.task, ev.from_version)
    FROM @extschema@.ml_models m WHERE m.name = p_name AND m.version = ev.from_version;
    INSERT INTO @extschema@.ml_aliases AS a (name, alias, version, deployed_at, deployed_by)
    VALUES (p_name, p_alias, ev.from_version, now(), p_actor)
    ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, deployed_at = excluded.deployed_at,
                                            deployed_by = excluded.deployed_by;
    INSERT INTO @extschema@.ml_deployments (name, event, alias, action, from_version, to_version, undoes, deployed_by)
    VALUES (p_name, @extschema@._ml_next_event(p_name), p_alias, 'rollback', cur, ev.from_version, ev.event, p_actor);
    RETURN ev.from_version;
END
$$;

-- Issue 16, search: the core's direction of a metric (true: higher is better; 22023 for a metric
-- without one), for ml_deploy(name, 'best', metric).
CREATE FUNCTION @extschema@._ml_metric_higher_is_better(metric text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'ml_metric_higher_is_better' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ml_deploy(name, strategy => 'best', metric => m): the version whose ml_models.metrics has the best
-- number under key m (versions without it are skipped; equal values: the latest version), deployed
-- through _ml_deploy (the same lock, checks and audit as a deploy by version).
CREATE FUNCTION @extschema@._ml_deploy(p_name text, p_strategy text, p_metric text, p_alias text, p_actor name)
    RETURNS int
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    higher boolean;
    v int;
    best numeric;
BEGIN
    PERFORM @extschema@._ml_check_name('model name', p_name);
    PERFORM @extschema@._ml_check_name('alias', p_alias);
    IF p_strategy IS NULL OR p_metric IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', CASE WHEN p_strategy IS NULL THEN 'strategy' ELSE 'metric' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_strategy <> 'best' THEN
        RAISE EXCEPTION 'unknown deploy strategy "%"', left(p_strategy, 80)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The strategy is ''best'': the version with the best value of a metric in ml_models.metrics. '
                         'To deploy a version by number, pass an integer: ml_deploy(name, 3).';
    END IF;
    higher := @extschema@._ml_metric_higher_is_better(p_metric);
    PERFORM @extschema@._ml_lock_name(p_name);
    SELECT m.version, (m.metrics -> p_metric)::numeric INTO v, best
    FROM @extschema@.ml_models m
    WHERE m.name = p_name AND jsonb_typeof(m.metrics -> p_metric) = 'number'
    ORDER BY CASE WHEN higher THEN (m.metrics -> p_metric)::numeric ELSE -(m.metrics -> p_metric)::numeric END DESC,
             m.version DESC
    LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no version of model "%" has the metric "%"', p_name, p_metric
            USING ERRCODE = 'undefined_object',
                  HINT = 'ml_search(..., register => name) records its metrics; ml_register(..., metrics => ''{"auc": 0.9}'') too.';
    END IF;
    RAISE NOTICE 'deploying version % of model "%" as "%": the best % (%)', v, p_name, p_alias, p_metric, best;
    RETURN @extschema@._ml_deploy(p_name, v, p_alias, p_actor);
END
$$;

CREATE FUNCTION @extschema@._ml_undeploy(p_name text, p_alias text, p_actor name) RETURNS int
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    old int;
BEGIN
    PERFORM @extschema@._ml_check_name('model name', p_name);
    PERFORM @extschema@._ml_check_name('alias', p_alias);
    PERFORM @extschema@._ml_lock_name(p_name);
    DELETE FROM @extschema@.ml_aliases a WHERE a.name = p_name AND a.alias = p_alias RETURNING a.version INTO old;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'model "%" has no version deployed as "%"', p_name, p_alias USING ERRCODE = 'undefined_object';
    END IF;
    INSERT INTO @extschema@.ml_deployments (name, event, alias, action, from_version, to_version, deployed_by)
    VALUES (p_name, @extschema@._ml_next_event(p_name), p_alias, 'undeploy', old, NULL, p_actor);
    RETURN old;
END
$$;

CREATE FUNCTION @extschema@._ml_unregister(p_name text, p_force boolean, p_actor name) RETURNS int
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    deployed text;
    tables text;
    queued bigint;
    n int;
BEGIN
    PERFORM @extschema@._ml_check_name('model name', p_name);
    IF p_force IS NULL THEN
        RAISE EXCEPTION 'force must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM @extschema@._ml_lock_name(p_name);
    SELECT string_agg(format('%s -> %s', a.alias, a.version), ', ' ORDER BY a.alias) INTO deployed
    FROM @extschema@.ml_aliases a WHERE a.name = p_name;
    IF deployed IS NOT NULL AND NOT p_force THEN
        RAISE EXCEPTION 'model "%" is deployed (%)', p_name, deployed
            USING ERRCODE = 'object_in_use', HINT = 'Undeploy it first, or pass force => true.';
    END IF;
    -- What still uses the model (part 50), said plainly instead of as a foreign-key violation.
    -- Locking the versions first waits for a transaction queueing a label meanwhile.
    PERFORM 1 FROM @extschema@.ml_models m WHERE m.name = p_name FOR UPDATE;
    SELECT string_agg(t.table_name::text, ', ' ORDER BY t.table_name::text) INTO tables
    FROM @extschema@.ml_attachments t WHERE t.model_name = p_name;
    IF tables IS NOT NULL THEN
        RAISE EXCEPTION 'model "%" is attached to %', p_name, tables
            USING ERRCODE = 'object_in_use', HINT = 'Detach the tables first (ml_detach), even with force => true.';
    END IF;
    -- A queued label is a promise to learn: not even force breaks it.
    SELECT count(*) INTO queued FROM @extschema@.ml_label_queue q WHERE q.model_name = p_name;
    IF queued > 0 THEN
        RAISE EXCEPTION 'model "%" has % labels waiting to be learned', p_name, queued
            USING ERRCODE = 'object_in_use',
                  DETAIL = 'Queued labels keep their model registered, even with force => true.',
                  HINT = format('Learn them first: SELECT @extschema@.ml_learn_pending(%L);', p_name);
    END IF;
    -- force: the rollouts of its aliases go with the aliases.
    DELETE FROM @extschema@.ml_rollouts r WHERE r.model_name = p_name;
    DELETE FROM @extschema@.ml_deployments d WHERE d.name = p_name;
    DELETE FROM @extschema@.ml_aliases a WHERE a.name = p_name;
    DELETE FROM @extschema@.ml_models m WHERE m.name = p_name;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM @extschema@.ml_model_names r WHERE r.name = p_name;
    RETURN n;
END
$$;

REVOKE EXECUTE ON FUNCTION
    @extschema@._ml_check_name(text, text),
    @extschema@._ml_lock_name(text),
    @extschema@._ml_next_event(text),
    @extschema@._ml_register(text, @extschema@.ml_model, text, jsonb, @extschema@.ml_profile, jsonb, int, name),
    @extschema@._ml_deploy(text, int, text, name),
    @extschema@._ml_deploy(text, text, text, text, name),
    @extschema@._ml_metric_higher_is_better(text),
    @extschema@._ml_rollback(text, text, name),
    @extschema@._ml_undeploy(text, text, name),
    @extschema@._ml_unregister(text, boolean, name)
FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Writing the registry. C entry points: each runs its _ml_* function as the owner of the
-- registry tables with the caller as actor. Not executable by PUBLIC: GRANT EXECUTE to the
-- roles that may register or deploy (docs/registry.md, "Privileges").
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.ml_register(name text, model @extschema@.ml_model, notes text DEFAULT NULL,
                                        provenance jsonb DEFAULT NULL, baseline @extschema@.ml_profile DEFAULT NULL,
                                        metrics jsonb DEFAULT NULL, parent_version int DEFAULT NULL)
    RETURNS int AS 'MODULE_PATHNAME', 'ml_registry_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_register(text, @extschema@.ml_model, text, jsonb, @extschema@.ml_profile, jsonb, int) IS
    'Registers a model under a name; returns its version (1, 2, ... per name)';

CREATE FUNCTION @extschema@.ml_deploy(name text, version int, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_registry_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_deploy(text, int, text) IS
    'Points an alias of a model at a version; returns the version it pointed to before (NULL if none)';
-- The version with the best value of a metric in ml_models.metrics (strategy 'best', PostgresML's
-- best_score). metric has no default, so that ml_deploy(name, NULL) and every two-argument call
-- stay the deploy by version.
CREATE FUNCTION @extschema@.ml_deploy(name text, strategy text, metric text, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_registry_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_deploy(text, text, text, text) IS
    'Points an alias at the version with the best value of a metric in ml_models.metrics; returns the version it pointed to before';

CREATE FUNCTION @extschema@.ml_rollback(name text, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_registry_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_rollback(text, text) IS
    'Undoes the latest deployment of an alias not undone yet; returns the version now deployed';

CREATE FUNCTION @extschema@.ml_undeploy(name text, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_registry_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_undeploy(text, text) IS
    'Removes an alias of a model; returns the version it pointed to';

CREATE FUNCTION @extschema@.ml_unregister(name text, force boolean DEFAULT false)
    RETURNS int AS 'MODULE_PATHNAME', 'ml_registry_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_unregister(text, boolean) IS
    'Removes a model name with all its versions, aliases and history; returns the number of versions removed';

-- One online update of the version deployed under an alias, in place, under a row lock:
-- concurrent learners of one model queue and none of their updates is lost. Returns the version
-- that learned; a NULL example or label teaches nothing and returns NULL.
CREATE FUNCTION @extschema@.ml_learn(name text, x jsonb, y float8, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_learn_jsonb' LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION @extschema@.ml_learn(name text, x float8[], y float8, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_learn_array' LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION @extschema@.ml_learn(name text, x record, y float8, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_learn_row' LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION @extschema@.ml_learn(name text, x jsonb, y text, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_learn_jsonb' LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION @extschema@.ml_learn(name text, x float8[], y text, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_learn_array' LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION @extschema@.ml_learn(name text, x record, y text, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_learn_row' LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION @extschema@.ml_learn(name text, x jsonb, y boolean, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_learn_jsonb' LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION @extschema@.ml_learn(name text, x float8[], y boolean, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_learn_array' LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE FUNCTION @extschema@.ml_learn(name text, x record, y boolean, alias text DEFAULT 'production')
    RETURNS int AS 'MODULE_PATHNAME', 'ml_learn_row' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_learn(text, jsonb, float8, text) IS
    'Teaches one example to the version of a model deployed under an alias (production by default)';

-- ---------------------------------------------------------------------------------------------
-- Scoring by name. STABLE: it reads the registry with the statement's snapshot. PARALLEL SAFE:
-- it only reads ordinary tables (workers share the leader's snapshot and transaction, so they
-- resolve the same version); its per-backend cache never changes a result.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.ml_predict(name text, x jsonb, alias text DEFAULT 'production')
    RETURNS float8 AS 'MODULE_PATHNAME', 'ml_predict_jsonb' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_predict(name text, x float8[], alias text DEFAULT 'production')
    RETURNS float8 AS 'MODULE_PATHNAME', 'ml_predict_array' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_predict(name text, x record, alias text DEFAULT 'production')
    RETURNS float8 AS 'MODULE_PATHNAME', 'ml_predict_row' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ml_predict(text, jsonb, text) IS
    'Scores one example with the version of a model deployed under an alias (production by default)';
-- A classifier's most probable class and class probabilities, by name.
CREATE FUNCTION @extschema@.ml_predict_class(name text, x jsonb, alias text DEFAULT 'production')
    RETURNS text AS 'MODULE_PATHNAME', 'ml_predict_class_by_name_jsonb' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_predict_class(name text, x float8[], alias text DEFAULT 'production')
    RETURNS text AS 'MODULE_PATHNAME', 'ml_predict_class_by_name_array' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_predict_class(name text, x record, alias text DEFAULT 'production')
    RETURNS text AS 'MODULE_PATHNAME', 'ml_predict_class_by_name_row' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_predict_proba(name text, x jsonb, alias text DEFAULT 'production')
    RETURNS jsonb AS 'MODULE_PATHNAME', 'ml_predict_proba_by_name_jsonb' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_predict_proba(name text, x float8[], alias text DEFAULT 'production')
    RETURNS jsonb AS 'MODULE_PATHNAME', 'ml_predict_proba_by_name_array' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ml_predict_proba(name text, x record, alias text DEFAULT 'production')
    RETURNS jsonb AS 'MODULE_PATHNAME', 'ml_predict_proba_by_name_row' LANGUAGE C STABLE PARALLEL SAFE;

-- The per-backend cache of decoded models, for diagnostics.
CREATE FUNCTION @extschema@.ml_registry_cache() RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.ml_registry_cache() IS
    'This backend''s cache of decoded registry models: entries and counters';
CREATE FUNCTION @extschema@.ml_registry_cache_reset() RETURNS void
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;

REVOKE EXECUTE ON FUNCTION
    @extschema@.ml_register(text, @extschema@.ml_model, text, jsonb, @extschema@.ml_profile, jsonb, int),
    @extschema@.ml_deploy(text, int, text),
    @extschema@.ml_deploy(text, text, text, text),
    @extschema@.ml_rollback(text, text),
    @extschema@.ml_undeploy(text, text),
    @extschema@.ml_unregister(text, boolean),
    @extschema@.ml_learn(text, jsonb, float8, text),
    @extschema@.ml_learn(text, float8[], float8, text),
    @extschema@.ml_learn(text, record, float8, text),
    @extschema@.ml_predict(text, jsonb, text),
    @extschema@.ml_predict(text, float8[], text),
    @extschema@.ml_predict(text, record, text),
    @extschema@.ml_learn(text, jsonb, text, text),
    @extschema@.ml_learn(text, float8[], text, text),
    @extschema@.ml_learn(text, record, text, text),
    @extschema@.ml_learn(text, jsonb, boolean, text),
    @extschema@.ml_learn(text, float8[], boolean, text),
    @extschema@.ml_learn(text, record, boolean, text),
    @extschema@.ml_predict_class(text, jsonb, text),
    @extschema@.ml_predict_class(text, float8[], text),
    @extschema@.ml_predict_class(text, record, text),
    @extschema@.ml_predict_proba(text, jsonb, text),
    @extschema@.ml_predict_proba(text, float8[], text),
    @extschema@.ml_predict_proba(text, record, text),
    @extschema@.ml_registry_cache(),
    @extschema@.ml_registry_cache_reset()
FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Reading the registry: with the caller's rights, so they need SELECT on the tables.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.ml_get(name text, version int DEFAULT NULL, alias text DEFAULT 'production')
    RETURNS @extschema@.ml_model
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    result @extschema@.ml_model;
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION 'model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF version IS NOT NULL THEN
        SELECT m.model INTO result FROM @extschema@.ml_models m
        WHERE m.name = ml_get.name AND m.version = ml_get.version;
    ELSIF alias IS NULL THEN
        RAISE EXCEPTION 'alias must not be NULL' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Pass a version, or an alias such as ''production''.';
    ELSE
        SELECT m.model INTO result
        FROM @extschema@.ml_aliases a JOIN @extschema@.ml_models m ON m.name = a.name AND m.version = a.version
        WHERE a.name = ml_get.name AND a.alias = ml_get.alias;
    END IF;
    IF FOUND THEN
        RETURN result;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.ml_model_names n WHERE n.name = ml_get.name) THEN
        RAISE EXCEPTION 'model "%" does not exist', name USING ERRCODE = 'undefined_object';
    ELSIF version IS NOT NULL THEN
        RAISE EXCEPTION 'model "%" has no version %', name, version USING ERRCODE = 'undefined_object';
    ELSE
        RAISE EXCEPTION 'model "%" has no version deployed as "%"', name, alias USING ERRCODE = 'undefined_object';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.ml_get(text, int, text) IS
    'A version of a registered model, or the version deployed under an alias (production by default)';

CREATE FUNCTION @extschema@.ml_versions(name text)
    RETURNS TABLE (version int, aliases text[], kind text, n_seen bigint, created_at timestamptz,
                   created_by name, parent_version int, updated_at timestamptz, notes text)
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION 'model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.ml_model_names n WHERE n.name = ml_versions.name) THEN
        RAISE EXCEPTION 'model "%" does not exist', name USING ERRCODE = 'undefined_object';
    END IF;
    RETURN QUERY
    SELECT m.version,
           coalesce((SELECT array_agg(a.alias ORDER BY a.alias) FROM @extschema@.ml_aliases a
                     WHERE a.name = m.name AND a.version = m.version), '{}'),
           m.kind, (@extschema@.ml_info(m.model) ->> 'n_seen')::bigint, m.created_at, m.created_by,
           m.parent_version, m.updated_at, m.notes
    FROM @extschema@.ml_models m WHERE m.name = ml_versions.name ORDER BY m.version;
END
$$;
COMMENT ON FUNCTION @extschema@.ml_versions(text) IS
    'The versions of a model with the aliases that point to each';

-- Registrations and alias changes of a model, in the order they happened (event).
-- For a registration, from_version is the parent version.
CREATE FUNCTION @extschema@.ml_history(name text)
    RETURNS TABLE (event int, at timestamptz, action text, alias text, from_version int,
                   to_version int, actor name)
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION 'model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.ml_model_names n WHERE n.name = ml_history.name) THEN
        RAISE EXCEPTION 'model "%" does not exist', name USING ERRCODE = 'undefined_object';
    END IF;
    RETURN QUERY
    SELECT h.event, h.at, h.action, h.alias, h.from_version, h.to_version, h.actor
    FROM (SELECT m.event, m.created_at AS at, 'register'::text AS action, NULL::text AS alias,
                 m.parent_version AS from_version, m.version AS to_version, m.created_by AS actor
          FROM @extschema@.ml_models m WHERE m.name = ml_history.name
          UNION ALL
          SELECT d.event, d.deployed_at, d.action, d.alias, d.from_version, d.to_version, d.deployed_by
          FROM @extschema@.ml_deployments d WHERE d.name = ml_history.name) h
    ORDER BY h.event;
END
$$;
COMMENT ON FUNCTION @extschema@.ml_history(text) IS
    'Registrations and deployments of a model, in order';
