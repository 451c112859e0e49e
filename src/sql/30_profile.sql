-- pg_learn 0.2.0, part 30: the ml_profile type, its aggregates (ml_profile, ml_profile_merge) and
-- the per-feature listing.

-- ---------------------------------------------------------------------------------------------
-- A profile of many features at once, as TensorFlow Data Validation computes one: the rows seen
-- and, per feature name, the types of its values, its presence, and the ml_stats of its values.
-- JSON text (exact state), versioned binary send/recv, both validated completely.
-- docs/statistics.md, "Profiles".
-- ---------------------------------------------------------------------------------------------
CREATE TYPE ml_profile;

CREATE FUNCTION ml_profile_in(cstring) RETURNS ml_profile
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_profile_out(ml_profile) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_profile_recv(internal) RETURNS ml_profile
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_profile_send(ml_profile) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE ml_profile (
    INPUT = ml_profile_in,
    OUTPUT = ml_profile_out,
    RECEIVE = ml_profile_recv,
    SEND = ml_profile_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);
COMMENT ON TYPE ml_profile IS
    'Profile of many features: rows seen; per feature its types, presence, domain and ml_stats';

-- The binary form as bytea: export, and import with full validation.
CREATE FUNCTION ml_profile_bytes(profile ml_profile) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ml_profile_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_profile_from_bytes(bytes bytea) RETURNS ml_profile
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_profile_from_bytes(bytea) IS
    'A profile from its binary form (ml_profile_bytes), validated completely';

-- Everything at once, for people and dashboards.
CREATE FUNCTION ml_profile_jsonb(profile ml_profile) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (ml_profile AS jsonb) WITH FUNCTION ml_profile_jsonb(ml_profile);
COMMENT ON FUNCTION ml_profile_jsonb(ml_profile) IS
    'Rows, and per feature its type, type counts, presence, counts, domain and statistics summary, as jsonb';

-- ---------------------------------------------------------------------------------------------
-- Aggregates. The state is ml_profile itself, expanded in memory while aggregating, so the
-- aggregates run in parallel and Citus can push them down. The transition functions are not
-- STRICT: a NULL x is skipped (no row), NULL values inside x are counted. No rows give NULL.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_profile_transition(state ml_profile, x jsonb) RETURNS ml_profile
    AS 'MODULE_PATHNAME', 'ml_profile_transition_jsonb' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_profile_transition(state ml_profile, x record) RETURNS ml_profile
    AS 'MODULE_PATHNAME', 'ml_profile_transition_record' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_profile_merge_transition(state ml_profile, profile ml_profile) RETURNS ml_profile
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_profile_combine(a ml_profile, b ml_profile) RETURNS ml_profile
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_profile_final(state ml_profile) RETURNS ml_profile
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- SSPACE: about ten features of ml_stats (12 KB numeric, 20 KB categorical), for the planner.
CREATE AGGREGATE ml_profile(x jsonb) (
    SFUNC = ml_profile_transition, STYPE = ml_profile, SSPACE = 200000,
    COMBINEFUNC = ml_profile_combine, FINALFUNC = ml_profile_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_profile(jsonb) IS
    'Profile of jsonb objects: per key its types (numbers, booleans, strings, nested), presence and statistics';
CREATE AGGREGATE ml_profile(x record) (
    SFUNC = ml_profile_transition, STYPE = ml_profile, SSPACE = 200000,
    COMBINEFUNC = ml_profile_combine, FINALFUNC = ml_profile_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_profile(record) IS
    'Profile of rows (ml_profile(t) FROM t): per column its presence and statistics; numeric, boolean, text and enum columns';
CREATE AGGREGATE ml_profile_merge(profile ml_profile) (
    SFUNC = ml_profile_merge_transition, STYPE = ml_profile, SSPACE = 200000,
    COMBINEFUNC = ml_profile_combine, FINALFUNC = ml_profile_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_profile_merge(ml_profile) IS
    'Stored profiles rolled up (e.g. per hour to per day) as if computed in one pass over all rows';

-- ---------------------------------------------------------------------------------------------
-- Reading a profile.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_profile_rows(profile ml_profile) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_profile_rows(ml_profile) IS 'Rows profiled (non-NULL x)';

CREATE FUNCTION ml_profile_features(profile ml_profile)
    RETURNS TABLE (name text, type text, type_conflict boolean, presence float8,
                   count bigint, null_count bigint, missing_count bigint,
                   numeric_count bigint, boolean_count bigint, categorical_count bigint, nested_count bigint,
                   nan_count bigint, inf_count bigint, zero_count bigint,
                   mean float8, stddev float8, min float8, max float8,
                   distinct_count bigint, domain text[], domain_complete boolean, stats ml_stats)
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION ml_profile_features(ml_profile) IS
    'One row per feature, in name order: type, presence, counts, moments of its numbers, domain of its strings, its ml_stats';

CREATE FUNCTION ml_profile_stats(profile ml_profile, name text) RETURNS ml_stats
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_profile_stats(ml_profile, text) IS
    'The ml_stats of a feature (of the kind of its type, NULLs counted), or NULL when absent or without values';
CREATE FUNCTION ml_profile_stats(profile ml_profile, name text, kind text) RETURNS ml_stats
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_profile_stats(ml_profile, text, text) IS
    'The ''numeric'' (numbers and booleans) or ''categorical'' (strings) ml_stats of a feature, or NULL';
