-- pg_learn 0.2.0, part 50: scoring triggers, the prediction log, exactly-once label feedback
-- and rollouts (champion/challenger, shadow). docs/feedback.md is the reference.
-- Uses the registry (part 40): model names, aliases, versions, and its privilege model.
--
-- ml_attach installs triggers on a table: rows are scored as they are inserted or their features
-- change (into the prediction column), every prediction is logged with the features exactly as
-- scored, and a label arriving later (an UPDATE of the label column from NULL, or a row in a
-- labels table) is joined to the logged prediction and queued ('sync' mode: learned as the
-- labelling transaction commits).
-- ml_learn_pending consumes the queue in order, in the caller's transaction, applying each label
-- to the version that made the prediction with the logged features.
--
-- As in part 40: every function body names the extension's objects as @extschema@.name and runs
-- with search_path = pg_catalog, pg_temp; the tables belong to the extension's owner; writers
-- are C entry points that run private _ml_* functions as that owner with the caller as actor;
-- the triggers write the log and the queue as that owner. No SECURITY DEFINER.

-- ---------------------------------------------------------------------------------------------
-- Tables. All four are marked for pg_dump (pg_extension_config_dump): the attachments and
-- rollouts are configuration; the log and the queue are data that must survive a dump and
-- restore (a pending label is a promise to learn).
-- ---------------------------------------------------------------------------------------------

-- One row per attached table. Column names are resolved when a backend first uses the row
-- (and again after any change to the table's definition); the triggers' column lists keep
-- the feature, key and label columns from being dropped while attached.
CREATE TABLE @extschema@.ml_attachments (
    table_name         regclass    PRIMARY KEY,
    model_name         text        NOT NULL REFERENCES @extschema@.ml_model_names (name),
    alias              text        NOT NULL DEFAULT 'production',
    key_column         name        NOT NULL,
    prediction_column  name,
    label_column       name,
    features           text[]      NOT NULL CHECK (cardinality(features) >= 1),
    label_table        regclass,
    label_key_column   name,
    label_value_column name,
    mode               text        NOT NULL DEFAULT 'queue' CHECK (mode IN ('queue', 'sync')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    created_by         name        NOT NULL DEFAULT current_user,
    -- a multiclass model's prediction column holds the most probable class, this one its probability
    probability_column name,
    -- Labels are learned (queued for ml_learn_pending, or sync) when true; when false they are only
    -- logged (label and labeled_at in ml_prediction_log) for the monitoring metrics: monitor-only.
    -- A version that cannot learn (an imported model) is monitor-only whatever this says.
    learn              boolean     NOT NULL DEFAULT true,
    -- The scoring trigger logs each prediction's explanation (ml_explain's jsonb) in the log's
    -- explanation column; every version that scores the table must explain (0A000 otherwise).
    explain            boolean     NOT NULL DEFAULT false,
    -- the champion alias stays deployed while a table is attached to it (ml_undeploy fails)
    CONSTRAINT ml_attachments_alias_deployed FOREIGN KEY (model_name, alias)
        REFERENCES @extschema@.ml_aliases (name, alias),
    CHECK (label_column IS NULL OR label_table IS NULL),
    CHECK ((label_table IS NULL) = (label_key_column IS NULL)
           AND (label_table IS NULL) = (label_value_column IS NULL))
);
COMMENT ON TABLE @extschema@.ml_attachments IS
    'pg_learn: tables whose rows are scored by a model as they arrive, and where their labels come from';

-- Challengers and shadows of a model name. The champion is the alias an attachment names.
CREATE TABLE @extschema@.ml_rollouts (
    model_name text        NOT NULL,
    alias      text        NOT NULL,
    role       text        NOT NULL CHECK (role IN ('challenger', 'shadow')),
    share      float8      CHECK (share > 0 AND share < 1),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by name        NOT NULL DEFAULT current_user,
    PRIMARY KEY (model_name, alias),
    -- a rolled-out alias stays deployed while it serves (ml_undeploy fails)
    CONSTRAINT ml_rollouts_alias_deployed FOREIGN KEY (model_name, alias)
        REFERENCES @extschema@.ml_aliases (name, alias),
    CHECK ((role = 'shadow') = (share IS NULL))
);
COMMENT ON TABLE @extschema@.ml_rollouts IS
    'pg_learn: challenger (with its traffic share) and shadow versions of a model';

-- Every prediction made by the triggers: served (champion or challenger) and shadow.
CREATE TABLE @extschema@.ml_prediction_log (
    prediction_id bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_name    text        NOT NULL,
    version       int         NOT NULL,
    variant       text        NOT NULL,
    served        boolean     NOT NULL,
    table_name    regclass,
    key           text        NOT NULL,
    predicted_at  timestamptz NOT NULL,
    score         float8,
    features      jsonb       NOT NULL,
    label         float8,
    labeled_at    timestamptz,
    learned_at    timestamptz,
    -- A multiclass model's prediction: the most probable class (score is its probability) and
    -- every class's probability; its label is a class (label stays NULL). NULL for other tasks.
    predicted_class text,
    probabilities jsonb,
    label_class   text,
    -- (label or label_class and labeled_at are set together, learned_at only after them; no CHECK
    -- says so: checking would cost every scored row an expression evaluation)
    -- Feature mismatches of the prediction (docs/features.md): features the version never
    -- learned, values of its categorical features it never learned, features it learned that
    -- the row lacks, features of the other type (a number learned, a string given, or the
    -- reverse). NULL when the version cannot tell (it learned no feature names, or a hashed
    -- model forgot some) and for rows logged before 0.2.0.
    unknown_features   int,
    unknown_categories int,
    missing_features   int,
    type_mismatches    int,
    -- Issue 14: the segment of the version that answered (model.hpp's segment(): a partitioned
    -- model's partition, "country=FR/city=Paris", or "(global)"), which ml_segment_metrics
    -- breaks the metrics down by. NULL for models without segments and rows logged before 0.2.0.
    segment            text,
    -- Issue 16 item 6: the prediction explained (ml_explain's jsonb: base, margin, contributions),
    -- for audit, when the table was attached with explain => true; NULL otherwise.
    explanation        jsonb
);
-- (No index by model and time: nothing of pg_learn reads the log that way (monitoring joins it by
-- prediction_id, labels find it by table and key, retention filters predicted_at alone), and
-- its entry cost every logged prediction about 12k instructions, issue 12 item 7; create one to
-- query the log by model, docs/feedback.md.)
CREATE INDEX ml_prediction_log_table_key ON @extschema@.ml_prediction_log (table_name, key);
COMMENT ON TABLE @extschema@.ml_prediction_log IS
    'pg_learn: every prediction of an attached model, with the features as scored and the label when it arrives';
-- Room on each page for the new row versions of the label's arrival and of learned_at: those
-- updates change no indexed column, so with room on the page they are HOT (no new entry in the
-- log's three indexes, dead versions pruned on the page) instead of a row version on another
-- page plus three index entries each (issue 12 item 7, docs/feedback.md "Cost").
ALTER TABLE @extschema@.ml_prediction_log SET (fillfactor = 80);

-- Labels joined to their prediction, waiting for ml_learn_pending. A row lives from the
-- labelling transaction to the learning transaction that deletes it.
CREATE TABLE @extschema@.ml_label_queue (
    prediction_id bigint      PRIMARY KEY REFERENCES @extschema@.ml_prediction_log,
    model_name    text        NOT NULL,
    version       int         NOT NULL,
    label         float8,
    queued_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- a label of a 'sync' attachment: learned just before the transaction that queued it
    -- commits, in that transaction, so no other transaction sees it (src/pg/feedback/learning.cpp, learn_sync)
    sync          boolean     NOT NULL DEFAULT false,
    -- a version with pending labels cannot be unregistered
    FOREIGN KEY (model_name, version) REFERENCES @extschema@.ml_models (name, version),
    -- the label of a multiclass model is a class (label NULL); of the other tasks a number
    label_class   text,
    CONSTRAINT ml_label_queue_one_label CHECK ((label IS NULL) <> (label_class IS NULL)),
    -- the prediction's predicted_at (issue 12): the partition key of a partitioned log
    -- (ml_partition_log), whose foreign key is then (prediction_id, predicted_at)
    predicted_at  timestamptz
);
CREATE INDEX ml_label_queue_version ON @extschema@.ml_label_queue (model_name, version, prediction_id);
CREATE INDEX ml_label_queue_sync ON @extschema@.ml_label_queue (model_name, version, prediction_id) WHERE sync;
COMMENT ON TABLE @extschema@.ml_label_queue IS
    'pg_learn: labels waiting to be learned by ml_learn_pending, in prediction order';

-- Issue 12, poison labels: labels a version refused to learn (its weights would diverge on one,
-- or a statistic overflow), moved here from the queue with their error by ml_learn_pending and by
-- sync mode's commit; the version learned the others. A copy of the prediction's logged features
-- and label, so that a row outlives the log's retention. No foreign key: a rejected label never
-- keeps a version registered or a log row from being pruned.
CREATE TABLE @extschema@.ml_rejected_labels (
    prediction_id bigint      PRIMARY KEY,
    model_name    text        NOT NULL,
    version       int         NOT NULL,
    label         float8,
    label_class   text,
    labeled_at    timestamptz,
    features      jsonb       NOT NULL,
    rejected_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    sqlstate      text        NOT NULL,
    message       text        NOT NULL,
    detail        text
);
CREATE INDEX ml_rejected_labels_version ON @extschema@.ml_rejected_labels (model_name, version);
COMMENT ON TABLE @extschema@.ml_rejected_labels IS
    'pg_learn: labels a version refused to learn (poison labels), with their error; the version learned the others';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.ml_attachments', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ml_rollouts', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ml_prediction_log', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ml_label_queue', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ml_rejected_labels', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.ml_prediction_log', 'prediction_id'), '');

REVOKE ALL ON TABLE @extschema@.ml_attachments, @extschema@.ml_rollouts, @extschema@.ml_prediction_log,
                    @extschema@.ml_label_queue, @extschema@.ml_rejected_labels FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- The C side: the trigger function, the invalidation of the backends' attachment caches, the
-- cleanup when an attached table is dropped. Not executable by PUBLIC (CREATE TRIGGER needs
-- EXECUTE on the function; ml_attach creates the triggers as the extension's owner).
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@._ml_feedback_trigger() RETURNS trigger
    AS 'MODULE_PATHNAME', 'ml_feedback_trigger' LANGUAGE C;
CREATE FUNCTION @extschema@._ml_feedback_invalidate() RETURNS void
    AS 'MODULE_PATHNAME', 'ml_feedback_invalidate' LANGUAGE C VOLATILE;
CREATE FUNCTION @extschema@._ml_feedback_on_drop() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'ml_feedback_on_drop' LANGUAGE C;

-- The class of a column type: 'float' (float8, float4, numeric: a prediction column may have
-- one), 'integer', 'boolean' (these three: a label column), 'category' (text, varchar, char,
-- name, enums); with 'float', 'integer' and 'boolean', what a feature column may have (as for
-- ml_predict with a row); 'timestamp' (timestamp, timestamptz, date: a feature of a version that
-- reads timestamps, as seconds since 1970). Anything else is 'other'. A domain is classed by its
-- base type.
CREATE FUNCTION @extschema@._ml_column_class(p_type oid) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE t(oid, typtype, typbasetype) AS (
        SELECT y.oid, y.typtype, y.typbasetype FROM pg_type y WHERE y.oid = p_type
        UNION ALL
        SELECT b.oid, b.typtype, b.typbasetype FROM pg_type b JOIN t ON b.oid = t.typbasetype
        WHERE t.typtype = 'd'
    )
    SELECT CASE
        WHEN t.oid IN ('float8'::regtype, 'float4'::regtype, 'numeric'::regtype) THEN 'float'
        WHEN t.oid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) THEN 'integer'
        WHEN t.oid = 'bool'::regtype THEN 'boolean'
        WHEN t.oid IN ('timestamp'::regtype, 'timestamptz'::regtype, 'date'::regtype) THEN 'timestamp'
        WHEN t.oid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype, 'name'::regtype)
             OR t.typtype = 'e' THEN 'category'
        ELSE 'other' END
    FROM t WHERE t.typtype <> 'd'
$$;

-- A column of a table, by name: 42703 when it does not exist (dropped and system columns do not).
CREATE FUNCTION @extschema@._ml_attribute(p_table regclass, p_column text, p_what text) RETURNS pg_attribute
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a pg_attribute;
BEGIN
    IF p_column IS NULL THEN
        RAISE EXCEPTION '% column must not be NULL', p_what USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO a FROM pg_attribute
    WHERE attrelid = p_table AND attname = p_column AND attnum > 0 AND NOT attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% column "%" of table % does not exist', p_what, p_column, p_table
            USING ERRCODE = 'undefined_column';
    END IF;
    RETURN a;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Private functions: attaching, detaching, rollouts. Run by the C entry points below as the
-- extension's owner, with the caller's name as p_actor; they check what the caller may do.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@._ml_attach(p_table regclass, p_model text, p_key name, p_prediction name,
                                       p_label name, p_features text[], p_alias text, p_mode text,
                                       p_label_table regclass, p_label_key name, p_label_value name,
                                       p_probability name, p_learn boolean, p_explain boolean,
                                       p_actor name) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rel pg_class;
    lrel pg_class;
    a pg_attribute;
    key_type oid;
    feats text[];
    f text;
    cls text;
    ignored jsonb;
    reads_ts boolean;
    reads_ts_version int;
    watched text;
    old_row text;
    new_row text;
    cond text;
    task text;
    other_table regclass;
    other_model text;
BEGIN
    -- Arguments.
    IF p_table IS NULL THEN
        RAISE EXCEPTION 'table must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_key IS NULL THEN
        RAISE EXCEPTION 'key column must not be NULL' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'The key names the row a label will arrive for, e.g. key => ''id''.';
    END IF;
    PERFORM @extschema@._ml_check_name('model name', p_model);
    PERFORM @extschema@._ml_check_name('alias', p_alias);
    IF p_mode IS NULL THEN
        RAISE EXCEPTION 'mode must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_mode NOT IN ('queue', 'sync') THEN
        RAISE EXCEPTION 'unknown mode "%"', left(p_mode, 80) USING ERRCODE = 'invalid_parameter_value',
            HINT = 'mode is ''queue'' (labels wait for ml_learn_pending) or ''sync'' (learned when they arrive).';
    END IF;
    IF p_learn IS NULL OR p_explain IS NULL THEN
        RAISE EXCEPTION 'learn and explain must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- (monitor-only labels are never learned: a mode saying when to learn them contradicts it)
    IF NOT p_learn AND p_mode = 'sync' THEN
        RAISE EXCEPTION 'mode ''sync'' learns labels, but learn => false logs them for monitoring only'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave mode out (''queue'') with learn => false.';
    END IF;

    -- The model and the version that will serve.
    IF NOT EXISTS (SELECT 1 FROM @extschema@.ml_model_names n WHERE n.name = p_model) THEN
        RAISE EXCEPTION 'model "%" does not exist', p_model USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.ml_aliases x WHERE x.name = p_model AND x.alias = p_alias) THEN
        RAISE EXCEPTION 'model "%" has no version deployed as "%"', p_model, p_alias
            USING ERRCODE = 'undefined_object', HINT = 'Deploy a version with ml_deploy(name, version, alias).';
    END IF;
    -- What the champion predicts (the task the core stored): a multiclass model's prediction is a
    -- class, a clustering model's a cluster (both text); the other tasks' a number.
    SELECT m.task INTO task
    FROM @extschema@.ml_aliases x JOIN @extschema@.ml_models m ON m.name = x.name AND m.version = x.version
    WHERE x.name = p_model AND x.alias = p_alias;
    -- Issue 13: clustering and anomaly models learn without labels, so no label reaches them.
    IF task IN ('clustering', 'anomaly') AND (p_label IS NOT NULL OR p_label_table IS NOT NULL) THEN
        RAISE EXCEPTION 'model "%" learns without labels (its task is %)', p_model, task
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'An attached table''s labels are learned by the deployed version; this version cannot learn one.',
                  HINT = 'Attach it without label => and label_table =>: its rows are scored and logged. To update it, '
                         'train a version without labels (ml_fit(spec, x), ml_train), ml_register and ml_deploy it.';
    END IF;
    -- (and no challenger or shadow that learns without labels: each label would fail for it)
    IF p_label IS NOT NULL OR p_label_table IS NOT NULL THEN
        SELECT string_agg(format('%s (%s)', r.alias, m.task), ', ' ORDER BY r.alias) INTO other_model
        FROM @extschema@.ml_rollouts r
        JOIN @extschema@.ml_aliases x ON x.name = r.model_name AND x.alias = r.alias
        JOIN @extschema@.ml_models m ON m.name = x.name AND m.version = x.version
        WHERE r.model_name = p_model AND m.task IN ('clustering', 'anomaly');
        IF other_model IS NOT NULL THEN
            RAISE EXCEPTION 'model "%" has rolled-out aliases that learn without labels: %', p_model, other_model
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'The labels of an attached table are learned by every variant that scored the row.',
                      HINT = 'Attach it without labels, or remove those rollouts with ml_rollout_remove first.';
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.ml_rollouts r WHERE r.model_name = p_model AND r.alias = p_alias) THEN
        RAISE EXCEPTION 'alias "%" of model "%" is rolled out as a challenger or shadow', p_alias, p_model
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The alias a table is attached to is the champion; remove the rollout with ml_rollout_remove first.';
    END IF;

    -- The table, and what the caller may do: own it, and score (and, with labels, teach) the model.
    SELECT * INTO rel FROM pg_class c WHERE c.oid = p_table;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', p_table::oid USING ERRCODE = 'undefined_table';
    END IF;
    IF rel.relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '% is not a table', p_table USING ERRCODE = 'wrong_object_type',
            DETAIL = 'Only ordinary and partitioned tables can be attached.';
    END IF;
    IF NOT pg_has_role(p_actor, rel.relowner, 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', p_table USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT has_function_privilege(p_actor, '@extschema@.ml_predict(text, record, text)', 'EXECUTE') THEN
        RAISE EXCEPTION 'permission denied to score with model "%"', p_model USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Attaching a table needs EXECUTE on ml_predict(text, record, text).',
            HINT = format('The extension''s owner can grant it: GRANT EXECUTE ON FUNCTION @extschema@.ml_predict(text, record, text) TO %I;',
                          p_actor);
    END IF;
    -- (monitor-only labels teach nothing: learn => false needs no right to teach)
    IF (p_label IS NOT NULL OR p_label_table IS NOT NULL) AND p_learn
       AND NOT has_function_privilege(p_actor, '@extschema@.ml_learn(text, record, float8, text)', 'EXECUTE') THEN
        RAISE EXCEPTION 'permission denied to teach model "%"', p_model USING ERRCODE = 'insufficient_privilege',
            DETAIL = 'Attaching a table with labels needs EXECUTE on ml_learn(text, record, float8, text).',
            HINT = format('The extension''s owner can grant it: GRANT EXECUTE ON FUNCTION @extschema@.ml_learn(text, record, float8, text) TO %I;',
                          p_actor);
    END IF;
    -- Concurrent attaches of one table queue here; the second then sees the first.
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', p_table);
    IF EXISTS (SELECT 1 FROM @extschema@.ml_attachments t WHERE t.table_name = p_table) THEN
        RAISE EXCEPTION 'table % is already attached to model "%"', p_table,
                        (SELECT t.model_name FROM @extschema@.ml_attachments t WHERE t.table_name = p_table)
            USING ERRCODE = 'duplicate_object', HINT = 'ml_detach it first.';
    END IF;
    -- Partitions (issue 12): the triggers of a partitioned table are cloned to its partitions,
    -- present and future, so a partition is scored through its attached ancestor; one table of
    -- a partition tree is attached at most.
    SELECT anc.relid::regclass, t.model_name INTO other_table, other_model
    FROM pg_partition_ancestors(p_table) anc JOIN @extschema@.ml_attachments t ON t.table_name = anc.relid
    WHERE anc.relid <> p_table LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'table % is a partition of %, which is attached to model "%"', p_table, other_table, other_model
            USING ERRCODE = 'duplicate_object',
                  DETAIL = 'The rows of every partition of an attached table are scored and logged already.';
    END IF;
    IF rel.relkind = 'p' THEN
        SELECT d.relid::regclass, t.model_name INTO other_table, other_model
        FROM pg_partition_tree(p_table) d JOIN @extschema@.ml_attachments t ON t.table_name = d.relid
        WHERE d.relid <> p_table LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'partition % of table % is attached to model "%"', other_table, p_table, other_model
                USING ERRCODE = 'duplicate_object', HINT = format('ml_detach(%L) first.', other_table::text);
        END IF;
    END IF;

    -- The key, prediction and label columns.
    a := @extschema@._ml_attribute(p_table, p_key, 'key');
    key_type := a.atttypid;
    IF p_prediction IS NOT NULL THEN
        a := @extschema@._ml_attribute(p_table, p_prediction, 'prediction');
        IF task = 'multiclass' AND a.atttypid NOT IN ('text'::regtype, 'varchar'::regtype) THEN
            RAISE EXCEPTION 'prediction column "%" has type %, but model "%" is multiclass', p_prediction,
                            format_type(a.atttypid, a.atttypmod), p_model
                USING ERRCODE = 'datatype_mismatch',
                      HINT = 'A multiclass model''s prediction column is text (the most probable class); '
                             'probability => names a float8 column for its probability.';
        END IF;
        IF task = 'clustering' AND a.atttypid NOT IN ('text'::regtype, 'varchar'::regtype) THEN
            RAISE EXCEPTION 'prediction column "%" has type %, but model "%" is clustering', p_prediction,
                            format_type(a.atttypid, a.atttypmod), p_model
                USING ERRCODE = 'datatype_mismatch',
                      HINT = 'A clustering model''s prediction column is text (the cluster, as ml_predict_class gives it).';
        END IF;
        IF task IS DISTINCT FROM 'multiclass' AND task IS DISTINCT FROM 'clustering'
           AND @extschema@._ml_column_class(a.atttypid) <> 'float' THEN
            RAISE EXCEPTION 'prediction column "%" has type %', p_prediction, format_type(a.atttypid, a.atttypmod)
                USING ERRCODE = 'datatype_mismatch', HINT = 'A prediction column is float8, float4 or numeric.';
        END IF;
        IF a.attgenerated <> '' THEN
            RAISE EXCEPTION 'prediction column "%" is a generated column', p_prediction
                USING ERRCODE = 'feature_not_supported';
        END IF;
        -- (a BEFORE trigger cannot move a row to another partition)
        IF rel.relkind = 'p' AND EXISTS (
                SELECT 1 FROM pg_partition_tree(p_table) d JOIN pg_partitioned_table pt ON pt.partrelid = d.relid
                CROSS JOIN LATERAL unnest(pt.partattrs::int2[]) k(attnum)
                JOIN pg_attribute c ON c.attrelid = d.relid AND c.attnum = k.attnum
                WHERE c.attname IN (p_prediction, p_probability)) THEN
            RAISE EXCEPTION 'the prediction or probability column of % is a partition key column', p_table
                USING ERRCODE = 'feature_not_supported',
                      DETAIL = 'The prediction is written by a BEFORE trigger, which cannot move a row to another partition.';
        END IF;
    END IF;
    IF p_label IS NOT NULL THEN
        a := @extschema@._ml_attribute(p_table, p_label, 'label');
        IF @extschema@._ml_column_class(a.atttypid) NOT IN ('float', 'integer', 'boolean')
           AND NOT (task = 'multiclass' AND @extschema@._ml_column_class(a.atttypid) = 'category') THEN
            RAISE EXCEPTION 'label column "%" has type %', p_label, format_type(a.atttypid, a.atttypmod)
                USING ERRCODE = 'datatype_mismatch', HINT = 'A label column is numeric or boolean.';
        END IF;
    END IF;
    IF p_key = p_prediction OR p_key = p_label OR p_prediction = p_label THEN
        RAISE EXCEPTION 'the key, prediction and label columns must be different columns'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The probability of a multiclass model's prediction.
    IF p_probability IS NOT NULL THEN
        IF p_prediction IS NULL OR task IS DISTINCT FROM 'multiclass' THEN
            RAISE EXCEPTION 'a probability column goes with a prediction column of a multiclass model'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        a := @extschema@._ml_attribute(p_table, p_probability, 'probability');
        IF @extschema@._ml_column_class(a.atttypid) <> 'float' THEN
            RAISE EXCEPTION 'probability column "%" has type %', p_probability, format_type(a.atttypid, a.atttypmod)
                USING ERRCODE = 'datatype_mismatch', HINT = 'A probability column is float8, float4 or numeric.';
        END IF;
        IF a.attgenerated <> '' THEN
            RAISE EXCEPTION 'probability column "%" is a generated column', p_probability
                USING ERRCODE = 'feature_not_supported';
        END IF;
        IF p_probability IN (p_key, p_prediction, p_label) THEN
            RAISE EXCEPTION 'the key, prediction, probability and label columns must be different columns'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;

    -- A labels table: rows (key, value) arriving later.
    IF p_label_table IS NOT NULL THEN
        IF p_label IS NOT NULL THEN
            RAISE EXCEPTION 'labels come from a label column or from a labels table, not both'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF p_label_key IS NULL OR p_label_value IS NULL THEN
            RAISE EXCEPTION 'a labels table needs label_key and label_value' USING ERRCODE = 'invalid_parameter_value',
                HINT = 'label_key names its column holding the key, label_value its column holding the label.';
        END IF;
        IF p_label_table = p_table THEN
            RAISE EXCEPTION 'the labels table is the attached table itself' USING ERRCODE = 'invalid_parameter_value',
                HINT = 'Use label => column for a label column of the attached table.';
        END IF;
        SELECT * INTO lrel FROM pg_class c WHERE c.oid = p_label_table;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'relation with OID % does not exist', p_label_table::oid USING ERRCODE = 'undefined_table';
        END IF;
        IF lrel.relkind NOT IN ('r', 'p') THEN
            RAISE EXCEPTION '% is not a table', p_label_table USING ERRCODE = 'wrong_object_type';
        END IF;
        IF NOT pg_has_role(p_actor, lrel.relowner, 'USAGE') THEN
            RAISE EXCEPTION 'must be owner of table %', p_label_table USING ERRCODE = 'insufficient_privilege';
        END IF;
        a := @extschema@._ml_attribute(p_label_table, p_label_key, 'label key');
        IF a.atttypid <> key_type THEN
            RAISE EXCEPTION 'label key column "%" has type %, but key column "%" has type %', p_label_key,
                            format_type(a.atttypid, NULL), p_key, format_type(key_type, NULL)
                USING ERRCODE = 'datatype_mismatch';
        END IF;
        a := @extschema@._ml_attribute(p_label_table, p_label_value, 'label value');
        IF @extschema@._ml_column_class(a.atttypid) NOT IN ('float', 'integer', 'boolean')
           AND NOT (task = 'multiclass' AND @extschema@._ml_column_class(a.atttypid) = 'category') THEN
            RAISE EXCEPTION 'label value column "%" has type %', p_label_value, format_type(a.atttypid, a.atttypmod)
                USING ERRCODE = 'datatype_mismatch', HINT = 'A label is numeric or boolean.';
        END IF;
        IF p_label_key = p_label_value THEN
            RAISE EXCEPTION 'label_key and label_value must be different columns' USING ERRCODE = 'invalid_parameter_value';
        END IF;
    ELSIF p_label_key IS NOT NULL OR p_label_value IS NOT NULL THEN
        RAISE EXCEPTION 'label_key and label_value go with label_table' USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- The features: given, or every column but the key, prediction and label columns (and
    -- those the model's spec ignores).
    IF p_features IS NULL THEN
        SELECT m.spec -> 'ignore' INTO ignored
        FROM @extschema@.ml_aliases x JOIN @extschema@.ml_models m ON m.name = x.name AND m.version = x.version
        WHERE x.name = p_model AND x.alias = p_alias;
        SELECT array_agg(c.attname::text ORDER BY c.attnum) INTO feats
        FROM pg_attribute c
        WHERE c.attrelid = p_table AND c.attnum > 0 AND NOT c.attisdropped
          AND c.attname IS DISTINCT FROM p_key AND c.attname IS DISTINCT FROM p_prediction
          AND c.attname IS DISTINCT FROM p_label AND c.attname IS DISTINCT FROM p_probability
          AND NOT coalesce(ignored ? c.attname::text, false);
        IF feats IS NULL THEN
            RAISE EXCEPTION 'table % has no column left to be a feature', p_table USING ERRCODE = 'invalid_parameter_value';
        END IF;
    ELSE
        IF cardinality(p_features) = 0 THEN
            RAISE EXCEPTION 'features must name at least one column' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF array_position(p_features, NULL) IS NOT NULL THEN
            RAISE EXCEPTION 'features must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF (SELECT count(DISTINCT x) FROM unnest(p_features) x) <> cardinality(p_features) THEN
            RAISE EXCEPTION 'features name a column more than once' USING ERRCODE = 'duplicate_column';
        END IF;
        feats := p_features;
    END IF;
    -- (a timestamp, timestamptz or date column is a feature of a version that reads timestamps:
    -- a pipeline with a date_parts step, which takes it as seconds since 1970)
    SELECT coalesce((@extschema@.ml_info(m.model) ->> 'reads_timestamps')::boolean, false) INTO reads_ts
    FROM @extschema@.ml_aliases x JOIN @extschema@.ml_models m ON m.name = x.name AND m.version = x.version
    WHERE x.name = p_model AND x.alias = p_alias;
    FOREACH f IN ARRAY feats LOOP
        a := @extschema@._ml_attribute(p_table, f, 'feature');
        IF f IN (p_key, p_prediction, p_label) OR f = p_probability THEN
            RAISE EXCEPTION 'column "%" is the key, prediction or label column and cannot also be a feature', f
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        cls := @extschema@._ml_column_class(a.atttypid);
        IF cls = 'other' OR (cls = 'timestamp' AND NOT reads_ts) THEN
            RAISE EXCEPTION 'column "%" has type %, which cannot be a feature', f, format_type(a.atttypid, a.atttypmod)
                USING ERRCODE = 'datatype_mismatch',
                      HINT = CASE WHEN cls = 'timestamp'
                                  THEN 'A timestamp or date column is a feature of a pipeline with a "date_parts" step; '
                                       'choose the features with features => ARRAY[...].'
                                  ELSE 'Features are numeric, boolean, text or enum columns; choose them with features => ARRAY[...].' END;
        END IF;
        IF a.attgenerated <> '' AND p_prediction IS NOT NULL THEN
            RAISE EXCEPTION 'feature column "%" is a generated column', f USING ERRCODE = 'feature_not_supported',
                DETAIL = 'Generated columns are computed after BEFORE triggers, which write the prediction column.';
        END IF;
    END LOOP;

    -- Issue 16 item 6: explanations logged for audit need a champion that explains (the
    -- challengers and shadows are checked by _ml_check_serving below): never a log that silently
    -- lacks them.
    IF p_explain THEN
        SELECT @extschema@._ml_explain_refusal(m.model), m.version INTO cls, reads_ts_version
        FROM @extschema@.ml_aliases x JOIN @extschema@.ml_models m ON m.name = x.name AND m.version = x.version
        WHERE x.name = p_model AND x.alias = p_alias;
        IF cls IS NOT NULL THEN
            RAISE EXCEPTION 'version % of model "%" cannot explain its predictions, which explain => true logs',
                            reads_ts_version, p_model
                USING ERRCODE = 'feature_not_supported', DETAIL = cls,
                      HINT = 'Attach without explain => true, or deploy a version that explains (docs/explanations.md).';
        END IF;
    END IF;

    INSERT INTO @extschema@.ml_attachments (table_name, model_name, alias, key_column, prediction_column,
                                            label_column, features, label_table, label_key_column,
                                            label_value_column, mode, created_by, probability_column,
                                            learn, explain)
    VALUES (p_table, p_model, p_alias, p_key, p_prediction, p_label, feats, p_label_table, p_label_key,
            p_label_value, p_mode, p_actor, p_probability, p_learn, p_explain);
    -- The challengers and shadows of the model score the table too: each must fit it.
    PERFORM @extschema@._ml_check_serving(p_model, r.alias, m.task, NULL)
    FROM @extschema@.ml_rollouts r
    JOIN @extschema@.ml_aliases x ON x.name = r.model_name AND x.alias = r.alias
    JOIN @extschema@.ml_models m ON m.name = x.name AND m.version = x.version
    WHERE r.model_name = p_model;

    -- The triggers. A change of the key or of a feature scores the row again; WHEN clauses keep
    -- an UPDATE that changes neither (nor brings a label) from reaching the trigger function.
    SELECT string_agg(quote_ident(c), ', '), 'ROW(' || string_agg('OLD.' || quote_ident(c), ', ') || ')',
           'ROW(' || string_agg('NEW.' || quote_ident(c), ', ') || ')'
    INTO watched, old_row, new_row
    FROM unnest(ARRAY[p_key::text] || feats) c;
    IF p_prediction IS NOT NULL THEN
        EXECUTE format('CREATE TRIGGER pg_learn_score_insert BEFORE INSERT ON %s FOR EACH ROW '
                       'EXECUTE FUNCTION @extschema@._ml_feedback_trigger(%L)', p_table, 'score');
        EXECUTE format('CREATE TRIGGER pg_learn_score_update BEFORE UPDATE OF %s ON %s FOR EACH ROW '
                       'WHEN (%s IS DISTINCT FROM %s) EXECUTE FUNCTION @extschema@._ml_feedback_trigger(%L)',
                       watched, p_table, old_row, new_row, 'score');
    END IF;
    EXECUTE format('CREATE TRIGGER pg_learn_log_insert AFTER INSERT ON %s FOR EACH ROW '
                   'EXECUTE FUNCTION @extschema@._ml_feedback_trigger(%L)', p_table, 'log');
    -- pg_learn_log_update has no WHEN clause: its function tests the condition the clause held
    -- (the key or a feature IS DISTINCT FROM, or the label from NULL to a value: log_update_fires
    -- in src/pg/feedback/trigger.cpp), since a WHEN clause is prepared again by every statement
    -- that fires it. A column type without "=", which the clause could not be made for, is
    -- refused as the clause refused it.
    SELECT string_agg(format('NULL::%1$s IS DISTINCT FROM NULL::%1$s', format_type(t.atttypid, NULL)), ' AND ')
    INTO cond
    FROM unnest(ARRAY[p_key::text] || feats) c
    JOIN pg_attribute t ON t.attrelid = p_table AND t.attname = c AND t.attnum > 0 AND NOT t.attisdropped;
    EXECUTE 'SELECT ' || cond;
    IF p_label IS NOT NULL THEN
        watched := watched || ', ' || quote_ident(p_label);
    END IF;
    EXECUTE format('CREATE TRIGGER pg_learn_log_update AFTER UPDATE OF %s ON %s FOR EACH ROW '
                   'EXECUTE FUNCTION @extschema@._ml_feedback_trigger(%L)', watched, p_table, 'log');
    -- A partitioned table with a label column: an UPDATE that moves a labelled row to another
    -- partition is a DELETE and an INSERT that carries the label; this trigger tells the INSERT's
    -- that the label arrived already (learned once, docs/feedback.md "Partitioned tables").
    IF rel.relkind = 'p' AND p_label IS NOT NULL THEN
        EXECUTE format('CREATE TRIGGER pg_learn_log_delete AFTER DELETE ON %s FOR EACH ROW WHEN (OLD.%I IS NOT NULL) '
                       'EXECUTE FUNCTION @extschema@._ml_feedback_trigger(%L)', p_table, p_label, 'move');
    END IF;
    -- One label trigger per labels table, whatever the number of tables it labels.
    IF p_label_table IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM pg_trigger g WHERE g.tgrelid = p_label_table AND g.tgname = 'pg_learn_label') THEN
        EXECUTE format('CREATE TRIGGER pg_learn_label AFTER INSERT OR UPDATE ON %s FOR EACH ROW '
                       'EXECUTE FUNCTION @extschema@._ml_feedback_trigger(%L)', p_label_table, 'label');
    END IF;
    PERFORM @extschema@._ml_feedback_invalidate();
END
$$;

CREATE FUNCTION @extschema@._ml_detach(p_table regclass, p_actor name) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    att @extschema@.ml_attachments;
    owner oid;
    trg name;
    detail text;
BEGIN
    IF p_table IS NULL THEN
        RAISE EXCEPTION 'table must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT c.relowner INTO owner FROM pg_class c WHERE c.oid = p_table;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', p_table::oid USING ERRCODE = 'undefined_table';
    END IF;
    IF NOT pg_has_role(p_actor, owner, 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', p_table USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', p_table);
    DELETE FROM @extschema@.ml_attachments t WHERE t.table_name = p_table RETURNING * INTO att;
    IF NOT FOUND THEN
        SELECT format('It is a partition of %s, which is attached to model "%s".', anc.relid::regclass, t.model_name)
        INTO detail
        FROM pg_partition_ancestors(p_table) anc JOIN @extschema@.ml_attachments t ON t.table_name = anc.relid
        LIMIT 1;
        IF detail IS NOT NULL THEN
            RAISE EXCEPTION 'table % is not attached to a model', p_table USING ERRCODE = 'undefined_object',
                DETAIL = detail, HINT = 'ml_detach the partitioned table (all its partitions), or ALTER TABLE ... DETACH PARTITION this one (its rows are then no longer scored).';
        END IF;
        RAISE EXCEPTION 'table % is not attached to a model', p_table USING ERRCODE = 'undefined_object';
    END IF;
    -- (A trigger dropped by hand is not an error: detaching removes what is left. Dropping a
    -- partitioned table's trigger drops its clones on the partitions.)
    FOR trg IN SELECT g.tgname FROM pg_trigger g
               WHERE g.tgrelid = p_table
                 AND g.tgname IN ('pg_learn_score_insert', 'pg_learn_score_update', 'pg_learn_log_insert', 'pg_learn_log_update',
                                  'pg_learn_log_delete')
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', trg, p_table);
    END LOOP;
    IF att.label_table IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM @extschema@.ml_attachments t WHERE t.label_table = att.label_table)
       AND EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = att.label_table AND g.tgname = 'pg_learn_label') THEN
        EXECUTE format('DROP TRIGGER pg_learn_label ON %s', att.label_table);
    END IF;
    PERFORM @extschema@._ml_feedback_invalidate();
END
$$;

-- Whether a version of task p_task may serve under alias p_alias of model p_model, given the tables
-- that alias serves: those attached to it (the champion), and, when the alias is rolled out (or
-- is being rolled out: p_role), every table attached to the model. A table with labels needs a
-- version that learns from labels; a prediction column needs the task's kind of value (a class or
-- a cluster in text, a number otherwise; a shadow writes none); a probability column a multiclass
-- version; a text label a multiclass one. Called by ml_deploy, ml_rollback and ml_rollout before
-- they change anything, so that an INSERT into an attached table never meets a version that
-- cannot score it. p_version NULL: the version the alias points at (messages name the alias).
CREATE FUNCTION @extschema@._ml_check_serving(p_model text, p_alias text, p_task text, p_version int,
                                              p_role text DEFAULT NULL)
    RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    subject text;
    t record;
    role text := p_role;
    names boolean := p_task IN ('multiclass', 'clustering');
    a pg_attribute;
    reads_ts boolean;
    ts_feature text;
    explain_checked boolean := false;
    explain_refusal text;
BEGIN
    subject := CASE WHEN p_version IS NULL THEN format('alias "%s" of model "%s"', p_alias, p_model)
                    ELSE format('version %s of model "%s"', p_version, p_model) END;
    IF role IS NULL THEN
        SELECT r.role INTO role FROM @extschema@.ml_rollouts r WHERE r.model_name = p_model AND r.alias = p_alias;
    END IF;
    FOR t IN SELECT * FROM @extschema@.ml_attachments x
             WHERE x.model_name = p_model AND (x.alias = p_alias OR role IS NOT NULL)
             ORDER BY x.table_name::text
    LOOP
        IF p_task IN ('clustering', 'anomaly') AND (t.label_column IS NOT NULL OR t.label_table IS NOT NULL) THEN
            RAISE EXCEPTION '% learns without labels (its task is %), but % brings labels', subject, p_task, t.table_name
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'The labels of an attached table are learned by every variant that scored the row.',
                      HINT = 'Attach the table without labels, or deploy a version that learns from them.';
        END IF;
        -- (the champion and challengers write the prediction column; a shadow only logs)
        IF t.prediction_column IS NOT NULL AND role IS DISTINCT FROM 'shadow' THEN
            SELECT * INTO a FROM pg_attribute c WHERE c.attrelid = t.table_name AND c.attname = t.prediction_column;
            IF FOUND AND (names AND a.atttypid NOT IN ('text'::regtype, 'varchar'::regtype)
                          OR NOT names AND @extschema@._ml_column_class(a.atttypid) <> 'float') THEN
                RAISE EXCEPTION '% is %, but prediction column "%" of % has type %', subject, p_task,
                                t.prediction_column, t.table_name, format_type(a.atttypid, a.atttypmod)
                    USING ERRCODE = 'datatype_mismatch',
                          DETAIL = CASE WHEN names THEN 'It predicts a name (a class or a cluster), written as text.'
                                        ELSE 'It predicts a number.' END,
                          HINT = 'Deploy a version of the task the table was attached with, or ml_detach and '
                                 'ml_attach the table again with a prediction column of the new type.';
            END IF;
        END IF;
        -- (a timestamp feature is read by a version that reads timestamps; shadows score too)
        SELECT c.attname::text INTO ts_feature FROM pg_attribute c
        WHERE c.attrelid = t.table_name AND c.attname::text = ANY (t.features) AND NOT c.attisdropped
          AND @extschema@._ml_column_class(c.atttypid) = 'timestamp'
        ORDER BY c.attnum LIMIT 1;
        IF ts_feature IS NOT NULL THEN
            IF reads_ts IS NULL THEN
                SELECT coalesce((@extschema@.ml_info(m.model) ->> 'reads_timestamps')::boolean, false) INTO reads_ts
                FROM @extschema@.ml_models m
                WHERE m.name = p_model
                  AND m.version = coalesce(p_version, (SELECT x.version FROM @extschema@.ml_aliases x
                                                       WHERE x.name = p_model AND x.alias = p_alias));
            END IF;
            IF NOT reads_ts THEN
                RAISE EXCEPTION '% does not read timestamps, but feature column "%" of % is one', subject, ts_feature, t.table_name
                    USING ERRCODE = 'datatype_mismatch',
                          HINT = 'Only a model with a date_parts step (a pipeline) reads timestamp and date columns.';
            END IF;
        END IF;
        IF t.probability_column IS NOT NULL AND p_task IS DISTINCT FROM 'multiclass' AND role IS DISTINCT FROM 'shadow' THEN
            RAISE EXCEPTION '% is %, but % has a probability column "%", which only a multiclass version fills',
                            subject, p_task, t.table_name, t.probability_column
                USING ERRCODE = 'datatype_mismatch',
                      HINT = 'Deploy a multiclass version, or attach the table again without probability =>.';
        END IF;
        IF p_task IS DISTINCT FROM 'multiclass' AND p_task NOT IN ('clustering', 'anomaly') THEN
            SELECT * INTO a FROM pg_attribute c
            WHERE (c.attrelid, c.attname) = (t.table_name, t.label_column)
               OR (c.attrelid, c.attname) = (t.label_table, t.label_value_column);
            IF FOUND AND @extschema@._ml_column_class(a.atttypid) = 'category' THEN
                RAISE EXCEPTION '% is %, but the labels of % are text (classes)', subject, p_task, t.table_name
                    USING ERRCODE = 'datatype_mismatch',
                          HINT = 'Text labels are classes, which a multiclass version learns.';
            END IF;
        END IF;
        -- Issue 16 item 6: a table attached with explain => true logs every variant's explanation.
        IF t.explain THEN
            IF NOT explain_checked THEN
                SELECT @extschema@._ml_explain_refusal(m.model) INTO explain_refusal
                FROM @extschema@.ml_models m
                WHERE m.name = p_model
                  AND m.version = coalesce(p_version, (SELECT x.version FROM @extschema@.ml_aliases x
                                                       WHERE x.name = p_model AND x.alias = p_alias));
                explain_checked := true;
            END IF;
            IF explain_refusal IS NOT NULL THEN
                RAISE EXCEPTION '% cannot explain its predictions, but % was attached with explain => true', subject, t.table_name
                    USING ERRCODE = 'feature_not_supported', DETAIL = explain_refusal,
                          HINT = 'Deploy a version that explains (docs/explanations.md), or ml_detach and ml_attach the '
                                 'table again without explain => true.';
            END IF;
        END IF;
    END LOOP;
END
$$;

CREATE FUNCTION @extschema@._ml_rollout(p_model text, p_alias text, p_role text, p_share float8, p_actor name)
    RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    champions text;
    total float8;
    task text;
BEGIN
    PERFORM @extschema@._ml_check_name('model name', p_model);
    PERFORM @extschema@._ml_check_name('alias', p_alias);
    IF p_role IS NULL THEN
        RAISE EXCEPTION 'role must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_role NOT IN ('challenger', 'shadow') THEN
        RAISE EXCEPTION 'unknown rollout role "%"', left(p_role, 80) USING ERRCODE = 'invalid_parameter_value',
            HINT = 'role is ''challenger'' (serves a share of the keys) or ''shadow'' (scores every row, serves none).';
    END IF;
    IF p_role = 'shadow' AND p_share IS NOT NULL THEN
        RAISE EXCEPTION 'a shadow serves no traffic: its share must be NULL' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_role = 'challenger' AND p_share IS NULL THEN
        RAISE EXCEPTION 'a challenger needs a traffic share' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'e.g. share => 0.1 serves a tenth of the keys.';
    END IF;
    IF p_role = 'challenger' AND NOT (p_share > 0 AND p_share < 1) THEN
        RAISE EXCEPTION 'traffic share % is not between 0 and 1', p_share USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Serializes the rollout changes (and deploys) of a name: the shares' sum stays below 1.
    PERFORM @extschema@._ml_lock_name(p_model);
    IF NOT EXISTS (SELECT 1 FROM @extschema@.ml_aliases x WHERE x.name = p_model AND x.alias = p_alias) THEN
        RAISE EXCEPTION 'model "%" has no version deployed as "%"', p_model, p_alias
            USING ERRCODE = 'undefined_object', HINT = 'Deploy a version with ml_deploy(name, version, alias).';
    END IF;
    SELECT string_agg(t.table_name::text, ', ' ORDER BY t.table_name::text) INTO champions
    FROM @extschema@.ml_attachments t WHERE t.model_name = p_model AND t.alias = p_alias;
    IF champions IS NOT NULL THEN
        RAISE EXCEPTION 'alias "%" of model "%" is the champion of %', p_alias, p_model, champions
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A challenger or shadow is another alias than the one the table is attached to.';
    END IF;
    -- The version behind the alias must fit every table it will serve (labels, prediction and
    -- probability columns): a version that learns without labels (clustering, anomaly) on a table
    -- attached with labels would fail each label; a challenger of another task each INSERT.
    SELECT m.task INTO task
    FROM @extschema@.ml_aliases x JOIN @extschema@.ml_models m ON m.name = x.name AND m.version = x.version
    WHERE x.name = p_model AND x.alias = p_alias;
    PERFORM @extschema@._ml_check_serving(p_model, p_alias, task, NULL, p_role);
    IF p_role = 'challenger' THEN
        SELECT coalesce(sum(r.share), 0) INTO total FROM @extschema@.ml_rollouts r
        WHERE r.model_name = p_model AND r.role = 'challenger' AND r.alias <> p_alias;
        IF total + p_share >= 1 THEN
            RAISE EXCEPTION 'the challengers of model "%" would serve % of the keys', p_model, total + p_share
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'The champion serves what the challengers do not: their shares must add up to less than 1.';
        END IF;
    END IF;
    INSERT INTO @extschema@.ml_rollouts AS r (model_name, alias, role, share, created_by)
    VALUES (p_model, p_alias, p_role, p_share, p_actor)
    ON CONFLICT (model_name, alias) DO UPDATE SET role = excluded.role, share = excluded.share,
                                                 created_at = excluded.created_at, created_by = excluded.created_by;
    PERFORM @extschema@._ml_feedback_invalidate();
END
$$;

CREATE FUNCTION @extschema@._ml_rollout_remove(p_model text, p_alias text, p_actor name) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._ml_check_name('model name', p_model);
    PERFORM @extschema@._ml_check_name('alias', p_alias);
    PERFORM @extschema@._ml_lock_name(p_model);
    DELETE FROM @extschema@.ml_rollouts r WHERE r.model_name = p_model AND r.alias = p_alias;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'model "%" has no rollout of alias "%"', p_model, p_alias USING ERRCODE = 'undefined_object';
    END IF;
    PERFORM @extschema@._ml_feedback_invalidate();
END
$$;

-- Called by the sql_drop event trigger (as the extension's owner): a dropped attached table
-- takes its attachment with it; a dropped labels table leaves its attachments without labels.
-- Logged predictions and queued labels stay (they are learnable without the table).
CREATE FUNCTION @extschema@._ml_forget_dropped() RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    dropped oid[];
BEGIN
    SELECT array_agg(d.objid) INTO dropped FROM pg_event_trigger_dropped_objects() d
    WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0 AND d.object_type = 'table';
    IF dropped IS NULL THEN
        RETURN;
    END IF;
    DELETE FROM @extschema@.ml_attachments t WHERE t.table_name::oid = ANY (dropped);
    UPDATE @extschema@.ml_attachments t SET label_table = NULL, label_key_column = NULL, label_value_column = NULL
    WHERE t.label_table::oid = ANY (dropped);
    PERFORM @extschema@._ml_feedback_invalidate();
END
$$;

CREATE EVENT TRIGGER pg_learn_forget_dropped ON sql_drop EXECUTE FUNCTION @extschema@._ml_feedback_on_drop();

REVOKE EXECUTE ON FUNCTION
    @extschema@._ml_feedback_trigger(),
    @extschema@._ml_feedback_invalidate(),
    @extschema@._ml_feedback_on_drop(),
    @extschema@._ml_column_class(oid),
    @extschema@._ml_attribute(regclass, text, text),
    @extschema@._ml_attach(regclass, text, name, name, name, text[], text, text, regclass, name, name, name, boolean, boolean, name),
    @extschema@._ml_detach(regclass, name),
    @extschema@._ml_check_serving(text, text, text, int, text),
    @extschema@._ml_rollout(text, text, text, float8, name),
    @extschema@._ml_rollout_remove(text, text, name),
    @extschema@._ml_forget_dropped()
FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- The public surface. Writers: not executable by PUBLIC (docs/feedback.md, "Privileges").
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.ml_attach(tbl regclass, model text, key name, prediction name DEFAULT NULL,
                                      label name DEFAULT NULL, features text[] DEFAULT NULL,
                                      alias text DEFAULT 'production', mode text DEFAULT 'queue',
                                      label_table regclass DEFAULT NULL, label_key name DEFAULT NULL,
                                      label_value name DEFAULT NULL, probability name DEFAULT NULL,
                                      learn boolean DEFAULT true, explain boolean DEFAULT false)
    RETURNS void AS 'MODULE_PATHNAME', 'ml_feedback_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_attach(regclass, text, name, name, name, text[], text, text, regclass, name, name, name, boolean, boolean) IS
    'Scores the rows of a table with a model as they arrive, logs the predictions and learns from their labels';

CREATE FUNCTION @extschema@.ml_detach(tbl regclass)
    RETURNS void AS 'MODULE_PATHNAME', 'ml_feedback_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_detach(regclass) IS
    'Removes the scoring and labelling triggers of a table (its log and pending labels stay)';

CREATE FUNCTION @extschema@.ml_rollout(model text, alias text, role text, share float8 DEFAULT NULL)
    RETURNS void AS 'MODULE_PATHNAME', 'ml_feedback_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_rollout(text, text, text, float8) IS
    'Rolls out an alias of a model as a challenger (serving a share of the keys) or a shadow (scoring, never serving)';

CREATE FUNCTION @extschema@.ml_rollout_remove(model text, alias text)
    RETURNS void AS 'MODULE_PATHNAME', 'ml_feedback_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_rollout_remove(text, text) IS
    'Ends the rollout of an alias: the champion serves every key again';

-- Learns the queued labels (all models, or one), oldest prediction first, in the caller's
-- transaction; returns how many labels were applied.
CREATE FUNCTION @extschema@.ml_learn_pending(model text DEFAULT NULL, max_rows int DEFAULT 10000)
    RETURNS bigint AS 'MODULE_PATHNAME', 'ml_learn_pending' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ml_learn_pending(text, int) IS
    'Applies queued labels to the versions that made the predictions, oldest first; returns the number applied';

REVOKE EXECUTE ON FUNCTION
    @extschema@.ml_attach(regclass, text, name, name, name, text[], text, text, regclass, name, name, name, boolean, boolean),
    @extschema@.ml_detach(regclass),
    @extschema@.ml_rollout(text, text, text, float8),
    @extschema@.ml_rollout_remove(text, text),
    @extschema@.ml_learn_pending(text, int)
FROM PUBLIC;

-- Reading, with the caller's rights (needs SELECT on ml_label_queue).
CREATE FUNCTION @extschema@.ml_pending_labels(model text DEFAULT NULL) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM @extschema@.ml_label_queue q WHERE model IS NULL OR q.model_name = model
$$;
COMMENT ON FUNCTION @extschema@.ml_pending_labels(text) IS
    'The number of labels waiting for ml_learn_pending (all models, or one)';

-- The key's place in [0, 1) for a model's traffic split: a challenger with share s serves
-- the keys below s (challengers in alias order take consecutive slices).
CREATE FUNCTION @extschema@.ml_route_fraction(model text, key text) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_route_fraction' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ml_route_fraction(text, text) IS
    'The place of a key in [0, 1) in the traffic split of a model (deterministic)';
