-- pg_learn 0.2.0, part 00: the ml_model type, online linear models, ml_fit, ml_train, ml_info.
\echo Use "CREATE EXTENSION pg_learn" to load this file. \quit

-- ---------------------------------------------------------------------------------------------
-- The model type: JSON text, versioned binary send/recv, both validated completely.
-- ---------------------------------------------------------------------------------------------
CREATE TYPE ml_model;

CREATE FUNCTION ml_model_in(cstring) RETURNS ml_model
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_out(ml_model) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_recv(internal) RETURNS ml_model
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_send(ml_model) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE ml_model (
    INPUT = ml_model_in,
    OUTPUT = ml_model_out,
    RECEIVE = ml_model_recv,
    SEND = ml_model_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);
COMMENT ON TYPE ml_model IS 'A machine-learning model as a value: JSON text, versioned binary format';

CREATE FUNCTION ml_info(model ml_model) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_info(ml_model) IS
    'Kind, spec, examples seen, feature names, weights and size in bytes of a model';

-- Imported models (issue 15): a model trained by another library, predict-only.
CREATE FUNCTION ml_import(format text, model text) RETURNS ml_model
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_import(text, text) IS
    'A predict-only model from the file another library saved: ml_import(''xgboost'', the text of Booster.save_model(''m.json''))';

-- ---------------------------------------------------------------------------------------------
-- Scoring. Pure functions of their arguments: IMMUTABLE, PARALLEL SAFE.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_predict_one(model ml_model, x jsonb) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_predict_one_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_predict_one(model ml_model, x float8[]) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_predict_one_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_predict_one(model ml_model, x record) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_predict_one_row' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_predict_one(ml_model, jsonb) IS
    'Regression value, or probability of the positive class, for one example';

-- Classifiers (binary and multiclass): the most probable class as text, and every class's
-- probability as a jsonb object {"class": probability, ...}.
CREATE FUNCTION ml_predict_class(model ml_model, x jsonb) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_predict_class_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_predict_class(model ml_model, x float8[]) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_predict_class_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_predict_class(model ml_model, x record) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_predict_class_row' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_predict_class(ml_model, jsonb) IS
    'The most probable class of one example, for a classifier';
CREATE FUNCTION ml_predict_proba(model ml_model, x jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_predict_proba_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_predict_proba(model ml_model, x float8[]) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_predict_proba_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_predict_proba(model ml_model, x record) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'ml_predict_proba_row' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_predict_proba(ml_model, jsonb) IS
    'The probability of each class for one example, for a classifier: {"class": probability}';

-- ---------------------------------------------------------------------------------------------
-- One online update. Not STRICT: a NULL example or label returns the model unchanged.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_fit_one(model ml_model, x jsonb, y float8) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_jsonb' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_one(model ml_model, x float8[], y float8) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_array' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_one(model ml_model, x record, y float8) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- Classes as text or boolean (a numeric label of a classifier is a class too: 3 is "3").
CREATE FUNCTION ml_fit_one(model ml_model, x jsonb, y text) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_jsonb' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_one(model ml_model, x float8[], y text) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_array' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_one(model ml_model, x record, y text) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_one(model ml_model, x jsonb, y boolean) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_jsonb' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_one(model ml_model, x float8[], y boolean) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_array' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_one(model ml_model, x record, y boolean) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_fit_one(ml_model, jsonb, float8) IS
    'The model after learning one example';

-- ---------------------------------------------------------------------------------------------
-- The ml_fit aggregate: one online pass over the rows. Its state is ml_model itself (expanded
-- in memory while aggregating), so the aggregate runs in parallel and Citus can push it down.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x jsonb, y float8) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_jsonb' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x float8[], y float8) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_array' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x record, y float8) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_combine(a ml_model, b ml_model) RETURNS ml_model
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_final(state ml_model) RETURNS ml_model
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE ml_fit(model ml_model, x jsonb, y float8) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_fit(model ml_model, x float8[], y float8) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_fit(model ml_model, x record, y float8) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
-- The same with classes as text or boolean.
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x jsonb, y text) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_jsonb' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x float8[], y text) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_array' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x record, y text) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x jsonb, y boolean) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_jsonb' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x float8[], y boolean) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_array' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x record, y boolean) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_row' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE ml_fit(model ml_model, x jsonb, y text) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_fit(model ml_model, x float8[], y text) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_fit(model ml_model, x record, y text) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_fit(model ml_model, x jsonb, y boolean) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_fit(model ml_model, x float8[], y boolean) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_fit(model ml_model, x record, y boolean) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_fit(ml_model, float8[], float8) IS
    'The model after one online pass over the rows (in their ORDER BY order when given)';

-- The label named by its column, every other column of the row a feature (as BigQuery ML's
-- input_label_cols): the label never becomes a feature. The argument is a name, not text: a text
-- third argument is a class label. ml_fit(spec, t, 'y'::name) learns t.y from t's other columns.
CREATE FUNCTION ml_fit_one(model ml_model, x record, label name) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_row_label' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_fit_one(ml_model, record, name) IS
    'The model after learning one row, its label the column named label (never a feature)';
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x record, label name) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_row_label' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE ml_fit(model ml_model, x record, label name) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_fit(ml_model, record, name) IS
    'The model after one online pass over the rows, their label the column named label (never a feature)';

-- Models that learn without labels (clustering, anomaly: issue 13's k-means and Half-Space
-- Trees): the label-less forms. A model that needs a label refuses them.
CREATE FUNCTION ml_fit_one(model ml_model, x jsonb) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_jsonb_unlabelled' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_one(model ml_model, x float8[]) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_array_unlabelled' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_one(model ml_model, x record) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_one_row_unlabelled' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_fit_one(ml_model, jsonb) IS
    'The model after learning one example without a label (clustering and anomaly models)';
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x jsonb) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_jsonb_unlabelled' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x float8[]) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_array_unlabelled' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_fit_transition(state ml_model, model ml_model, x record) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_fit_transition_row_unlabelled' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE ml_fit(model ml_model, x jsonb) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_fit(model ml_model, x float8[]) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
CREATE AGGREGATE ml_fit(model ml_model, x record) (
    SFUNC = ml_fit_transition, STYPE = ml_model,
    COMBINEFUNC = ml_fit_combine, FINALFUNC = ml_fit_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_fit(ml_model, float8[]) IS
    'The model after one online pass over the rows without labels (clustering and anomaly models)';

-- ---------------------------------------------------------------------------------------------
-- Multi-pass training over a query's rows (columns: features, label).
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_train(model ml_model, query text, epochs int DEFAULT 10,
                         shuffle boolean DEFAULT true, seed bigint DEFAULT 0,
                         validation text DEFAULT NULL, patience int DEFAULT NULL) RETURNS ml_model
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml_train(ml_model, text, int, boolean, bigint, text, int) IS
    'The model after several online passes over the rows of a query returning (features, label), with its training history (loss per epoch, optional validation query and early stopping)';
-- The same over a query returning rows (SELECT * FROM t): the column named label is the label,
-- every other column a feature.
CREATE FUNCTION ml_train(model ml_model, query text, label name, epochs int DEFAULT 10,
                         shuffle boolean DEFAULT true, seed bigint DEFAULT 0,
                         validation text DEFAULT NULL, patience int DEFAULT NULL) RETURNS ml_model
    AS 'MODULE_PATHNAME', 'ml_train_label' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml_train(ml_model, text, name, int, boolean, bigint, text, int) IS
    'The model after several online passes over the rows of a query, their label the column named label (never a feature), with its training history';

-- Issue 16 item 5: the training history ml_train recorded in the model, one row per epoch (the
-- last 1000), as BigQuery ML's ML.TRAINING_INFO; no rows for a model without one.
CREATE FUNCTION ml_training_info(model ml_model)
    RETURNS TABLE (epoch int, rows bigint, train_loss float8, validation_loss float8, loss text, best boolean)
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_training_info(ml_model) IS
    'The training history ml_train recorded: per epoch, rows, mean progressive training loss, validation loss';
-- The model without its training history (to compare it with a model ml_fit learned, or to
-- store it smaller).
CREATE FUNCTION ml_model_without_history(model ml_model) RETURNS ml_model
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_model_without_history(ml_model) IS
    'The model without the training history ml_train recorded in it';
-- The progress of every ml_train running in the cluster (shared memory), as pg_stat_progress_*:
-- a role sees its own trainings' progress, members of pg_read_all_stats everyone's.
CREATE FUNCTION ml_training_progress_slots()
    RETURNS TABLE (pid int, datname name, usename name, started timestamptz, phase text, epoch int, epochs int,
                   rows_done bigint, rows_total bigint, rows_per_second float8, eta interval)
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml_training_progress_slots() IS
    'The rows of the view ml_training_progress';
CREATE VIEW @extschema@.ml_training_progress AS
    SELECT pid, datname, usename, started, phase, epoch, epochs, rows_done, rows_total, rows_per_second, eta
    FROM @extschema@.ml_training_progress_slots();
COMMENT ON VIEW @extschema@.ml_training_progress IS
    'Each running ml_train: phase (reading, training, validating), epoch, rows done of the total, rows per second, estimated time left';
GRANT SELECT ON @extschema@.ml_training_progress TO PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- The binary format as bytea: export, and import with full validation.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_model_bytes(model ml_model) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ml_model_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_from_bytes(bytes bytea) RETURNS ml_model
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_model_from_bytes(bytea) IS
    'A model from its binary format (ml_model_bytes), validated completely';

-- ---------------------------------------------------------------------------------------------
-- Equality and order, so that GROUP BY, DISTINCT, UNION, IN and joins work on models. The
-- binary form is canonical (docs/format.md): equal models have equal bytes, so = compares the
-- bytes; the order (bytes as unsigned, then length) has no meaning beyond sorting; the hash
-- is of the same bytes.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_model_eq(a ml_model, b ml_model) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_ne(a ml_model, b ml_model) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_lt(a ml_model, b ml_model) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_le(a ml_model, b ml_model) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_gt(a ml_model, b ml_model) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_ge(a ml_model, b ml_model) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_cmp(a ml_model, b ml_model) RETURNS int
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_hash(m ml_model) RETURNS int
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_model_hash_extended(m ml_model, seed bigint) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR = (
    LEFTARG = ml_model, RIGHTARG = ml_model, FUNCTION = ml_model_eq,
    COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR <> (
    LEFTARG = ml_model, RIGHTARG = ml_model, FUNCTION = ml_model_ne,
    COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR < (
    LEFTARG = ml_model, RIGHTARG = ml_model, FUNCTION = ml_model_lt,
    COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR <= (
    LEFTARG = ml_model, RIGHTARG = ml_model, FUNCTION = ml_model_le,
    COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR > (
    LEFTARG = ml_model, RIGHTARG = ml_model, FUNCTION = ml_model_gt,
    COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
CREATE OPERATOR >= (
    LEFTARG = ml_model, RIGHTARG = ml_model, FUNCTION = ml_model_ge,
    COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR CLASS ml_model_ops DEFAULT FOR TYPE ml_model USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 ml_model_cmp(ml_model, ml_model);
CREATE OPERATOR CLASS ml_model_ops DEFAULT FOR TYPE ml_model USING hash AS
    OPERATOR 1 =,
    FUNCTION 1 ml_model_hash(ml_model),
    FUNCTION 2 ml_model_hash_extended(ml_model, bigint);
COMMENT ON OPERATOR = (ml_model, ml_model) IS 'equal models (equal binary forms)';
