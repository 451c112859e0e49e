-- pg_learn 0.2.0, part 37: concept-drift detectors (issue 13): the ml_detector type (ADWIN,
-- Page-Hinkley, DDM, KSWIN), a stored detector updated row by row, and the ml_drift_detector
-- aggregate, a window function over an ordered stream. docs/detectors.md is the reference.

-- ---------------------------------------------------------------------------------------------
-- A detector's whole state: JSON text (exact state; a bare kind name reads as a fresh detector),
-- versioned binary send/recv, both validated completely.
-- ---------------------------------------------------------------------------------------------
CREATE TYPE ml_detector;

CREATE FUNCTION ml_detector_in(cstring) RETURNS ml_detector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_detector_out(ml_detector) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_detector_recv(internal) RETURNS ml_detector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_detector_send(ml_detector) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE ml_detector (
    INPUT = ml_detector_in,
    OUTPUT = ml_detector_out,
    RECEIVE = ml_detector_recv,
    SEND = ml_detector_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);
COMMENT ON TYPE ml_detector IS
    'A concept-drift detector over a stream of numbers (adwin, page_hinkley, ddm, kswin) with its options and state';

CREATE FUNCTION ml_detector_bytes(detector ml_detector) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ml_detector_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_detector_from_bytes(bytes bytea) RETURNS ml_detector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_detector_from_bytes(bytea) IS
    'A detector from its binary form (ml_detector_bytes), validated completely';

-- A fresh detector. Kinds: adwin, page_hinkley (or ph), ddm, kswin (case-insensitive); options
-- checked strictly (unknown key, wrong type, out of range: 22023 naming the key).
CREATE FUNCTION ml_detector(kind text, options jsonb DEFAULT '{}') RETURNS ml_detector
    AS 'MODULE_PATHNAME', 'ml_detector_new' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_detector(text, jsonb) IS
    'A fresh drift detector: adwin, page_hinkley, ddm or kswin, with options (docs/detectors.md)';

-- The detector after one more value (row by row: UPDATE t SET d = ml_detector_update(d, x)).
-- NULL x leaves the state as it was (nothing learned, no change reported); NaN and infinities
-- are errors (22003); ddm takes only 0 and 1 (22023).
CREATE FUNCTION ml_detector_update(detector ml_detector, x float8) RETURNS ml_detector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_detector_update(ml_detector, float8) IS
    'The detector after the value x; ml_detector_drift tells whether a change was detected at x';
CREATE FUNCTION ml_detector_drift(detector ml_detector) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_detector_drift(ml_detector) IS 'Whether a change was detected at the last value';
CREATE FUNCTION ml_detector_info(detector ml_detector) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_detector_info(ml_detector) IS
    'Kind, options, values seen, detections, last change (1-based index), drift at the last value, window width, estimate, test values';

-- ---------------------------------------------------------------------------------------------
-- Aggregates over an ordered stream. ml_drift_detector is true at the rows where a change is
-- detected when used as a window function: ml_drift_detector('adwin', err) OVER (ORDER BY ts)
-- (order by a unique key, or use ROWS: peers of a RANGE frame share one answer).
-- ml_detector_run gives the detector after the whole stream (write ORDER BY inside the call).
-- The state is ml_detector itself, expanded in memory; kind and options are read at the first
-- row. Detectors depend on the order of the values, so the aggregates have no combine function
-- and never run in parallel (docs/detectors.md, "Order and parallelism").
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_drift_detector_transition(state ml_detector, kind text, x float8) RETURNS ml_detector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_drift_detector_transition(state ml_detector, kind text, options jsonb, x float8) RETURNS ml_detector
    AS 'MODULE_PATHNAME', 'ml_drift_detector_transition_options' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_drift_detector_transition(state ml_detector, detector ml_detector, x float8) RETURNS ml_detector
    AS 'MODULE_PATHNAME', 'ml_drift_detector_transition_continue' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_drift_detector_final(state ml_detector) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_detector_state_final(state ml_detector) RETURNS ml_detector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE ml_drift_detector(kind text, x float8) (
    SFUNC = ml_drift_detector_transition, STYPE = ml_detector, SSPACE = 2000,
    FINALFUNC = ml_drift_detector_final, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_drift_detector(text, float8) IS
    'As a window function over ORDER BY: true at the rows where the detector (adwin, page_hinkley, ddm, kswin) detects a change';
CREATE AGGREGATE ml_drift_detector(kind text, options jsonb, x float8) (
    SFUNC = ml_drift_detector_transition, STYPE = ml_detector, SSPACE = 2000,
    FINALFUNC = ml_drift_detector_final, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_drift_detector(text, jsonb, float8) IS
    'ml_drift_detector(kind, x) with options';
CREATE AGGREGATE ml_drift_detector(detector ml_detector, x float8) (
    SFUNC = ml_drift_detector_transition, STYPE = ml_detector, SSPACE = 2000,
    FINALFUNC = ml_drift_detector_final, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_drift_detector(ml_detector, float8) IS
    'ml_drift_detector(kind, x) continuing a stored detector (its counters go on)';
CREATE AGGREGATE ml_detector_run(kind text, x float8) (
    SFUNC = ml_drift_detector_transition, STYPE = ml_detector, SSPACE = 2000,
    FINALFUNC = ml_detector_state_final, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_detector_run(text, float8) IS
    'The detector after the stream (write ORDER BY in the call): ml_detector_info shows its detections and last change';
CREATE AGGREGATE ml_detector_run(kind text, options jsonb, x float8) (
    SFUNC = ml_drift_detector_transition, STYPE = ml_detector, SSPACE = 2000,
    FINALFUNC = ml_detector_state_final, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_detector_run(text, jsonb, float8) IS 'ml_detector_run(kind, x) with options';
CREATE AGGREGATE ml_detector_run(detector ml_detector, x float8) (
    SFUNC = ml_drift_detector_transition, STYPE = ml_detector, SSPACE = 2000,
    FINALFUNC = ml_detector_state_final, FINALFUNC_MODIFY = READ_ONLY, PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_detector_run(ml_detector, float8) IS
    'A stored detector after more values (write ORDER BY in the call)';
