-- pg_learn 0.2.0, part 10: the ml_stats type, its aggregates (ml_stats, ml_stats_merge) and accessors.

-- ---------------------------------------------------------------------------------------------
-- Streaming statistics of one feature: JSON text (exact state), versioned binary send/recv, both
-- validated completely. docs/statistics.md, "Feature statistics".
-- ---------------------------------------------------------------------------------------------
CREATE TYPE ml_stats;

CREATE FUNCTION ml_stats_in(cstring) RETURNS ml_stats
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_stats_out(ml_stats) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_stats_recv(internal) RETURNS ml_stats
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_stats_send(ml_stats) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE ml_stats (
    INPUT = ml_stats_in,
    OUTPUT = ml_stats_out,
    RECEIVE = ml_stats_recv,
    SEND = ml_stats_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);
COMMENT ON TYPE ml_stats IS
    'Mergeable statistics of one feature: moments and quantile sketch (numbers) or top-k and distinct count (text)';

-- The binary form as bytea: export, and import with full validation.
CREATE FUNCTION ml_stats_bytes(stats ml_stats) RETURNS bytea
    AS 'MODULE_PATHNAME', 'ml_stats_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_stats_from_bytes(bytes bytea) RETURNS ml_stats
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_stats_from_bytes(bytea) IS
    'Statistics from their binary form (ml_stats_bytes), validated completely';

-- Everything at once, for people and dashboards.
CREATE FUNCTION ml_stats_jsonb(stats ml_stats) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (ml_stats AS jsonb) WITH FUNCTION ml_stats_jsonb(ml_stats);
COMMENT ON FUNCTION ml_stats_jsonb(ml_stats) IS
    'Counts, moments, percentiles, a 10-bin histogram, or the top-k list and distinct count, as jsonb';

-- ---------------------------------------------------------------------------------------------
-- Aggregates. The state is ml_stats itself, expanded in memory while aggregating, so the
-- aggregates run in parallel and Citus can push them down. The transition functions are not
-- STRICT: a NULL value is counted (ml_null_count). No rows give NULL, as SQL's aggregates.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_stats_transition(state ml_stats, x float8) RETURNS ml_stats
    AS 'MODULE_PATHNAME', 'ml_stats_transition_float8' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_stats_transition(state ml_stats, x text) RETURNS ml_stats
    AS 'MODULE_PATHNAME', 'ml_stats_transition_text' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_stats_merge_transition(state ml_stats, stats ml_stats) RETURNS ml_stats
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_stats_combine(a ml_stats, b ml_stats) RETURNS ml_stats
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_stats_final(state ml_stats) RETURNS ml_stats
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- SSPACE: the state's size in memory (a KLL sketch of about 1,200 doubles; a 16 KiB
-- HyperLogLog and 64 values), which the planner weighs before hashing many groups.
CREATE AGGREGATE ml_stats(x float8) (
    SFUNC = ml_stats_transition, STYPE = ml_stats, SSPACE = 12000,
    COMBINEFUNC = ml_stats_combine, FINALFUNC = ml_stats_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_stats(float8) IS
    'Statistics of a numeric column: NULL/NaN/Infinity/zero counts, mean, variance, min, max, quantile sketch';
CREATE AGGREGATE ml_stats(x text) (
    SFUNC = ml_stats_transition, STYPE = ml_stats, SSPACE = 20000,
    COMBINEFUNC = ml_stats_combine, FINALFUNC = ml_stats_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_stats(text) IS
    'Statistics of a categorical column: NULL count, top-k values with error bounds, distinct count';
-- A one-argument call named like a type is a cast when no function matches the argument type
-- exactly and the argument is of a string type (PostgreSQL's typename(x) rule): without this
-- overload, ml_stats(varchar_column) would parse as varchar_column::ml_stats. For name, citext
-- or a literal, write ml_stats(x::text) (ml_stats_in's error says so).
CREATE AGGREGATE ml_stats(x varchar) (
    SFUNC = ml_stats_transition, STYPE = ml_stats, SSPACE = 20000,
    COMBINEFUNC = ml_stats_combine, FINALFUNC = ml_stats_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_stats(varchar) IS 'ml_stats(text) for varchar columns';
-- The same for char(n) columns (the typename(x) rule again), whose trailing blanks pad the value
-- and are not counted as part of it (as char(n)::text).
CREATE FUNCTION ml_stats_transition(state ml_stats, x bpchar) RETURNS ml_stats
    AS 'MODULE_PATHNAME', 'ml_stats_transition_bpchar' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE ml_stats(x bpchar) (
    SFUNC = ml_stats_transition, STYPE = ml_stats, SSPACE = 20000,
    COMBINEFUNC = ml_stats_combine, FINALFUNC = ml_stats_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_stats(bpchar) IS 'ml_stats(text) for char(n) columns (trailing blanks removed)';
CREATE AGGREGATE ml_stats_merge(stats ml_stats) (
    SFUNC = ml_stats_merge_transition, STYPE = ml_stats, SSPACE = 20000,
    COMBINEFUNC = ml_stats_combine, FINALFUNC = ml_stats_final, FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml_stats_merge(ml_stats) IS
    'Stored statistics rolled up (e.g. per hour to per day) as if computed in one pass over all rows';

-- ---------------------------------------------------------------------------------------------
-- Accessors. A numeric question of text statistics (or the reverse) is an error (22023).
-- Answers that do not exist (the mean of no value, the stddev of one) are NULL.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_stats_kind(stats ml_stats) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_stats_kind(ml_stats) IS '''numeric'' (from ml_stats(float8)) or ''categorical'' (from ml_stats(text))';

CREATE FUNCTION ml_count(stats ml_stats) RETURNS bigint
    AS 'MODULE_PATHNAME', 'ml_stats_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_count(ml_stats) IS 'Non-NULL values (NaN and infinities included), as count(x)';
CREATE FUNCTION ml_null_count(stats ml_stats) RETURNS bigint
    AS 'MODULE_PATHNAME', 'ml_stats_null_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_null_count(ml_stats) IS 'NULL values';
CREATE FUNCTION ml_nan_count(stats ml_stats) RETURNS bigint
    AS 'MODULE_PATHNAME', 'ml_stats_nan_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_nan_count(ml_stats) IS 'NaN values (numeric statistics)';
CREATE FUNCTION ml_inf_count(stats ml_stats) RETURNS bigint
    AS 'MODULE_PATHNAME', 'ml_stats_inf_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_inf_count(ml_stats) IS 'Infinity and -Infinity values (numeric statistics)';
CREATE FUNCTION ml_zero_count(stats ml_stats) RETURNS bigint
    AS 'MODULE_PATHNAME', 'ml_stats_zero_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_zero_count(ml_stats) IS 'Values equal to zero (numeric statistics)';

CREATE FUNCTION ml_mean(stats ml_stats) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_stats_mean' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_mean(ml_stats) IS 'Mean of the finite values (NaN and infinities are counted apart)';
CREATE FUNCTION ml_stddev(stats ml_stats) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_stats_stddev' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_stddev(ml_stats) IS 'Sample standard deviation of the finite values, as stddev(x)';
CREATE FUNCTION ml_variance(stats ml_stats) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_stats_variance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_variance(ml_stats) IS 'Sample variance of the finite values, as variance(x)';
CREATE FUNCTION ml_min(stats ml_stats) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_stats_min' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_min(ml_stats) IS 'Smallest finite value (exact)';
CREATE FUNCTION ml_max(stats ml_stats) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_stats_max' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_max(ml_stats) IS 'Largest finite value (exact)';

CREATE FUNCTION ml_quantile(stats ml_stats, q float8) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_stats_quantile' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_quantile(ml_stats, float8) IS
    'The q-quantile (0 <= q <= 1) of the non-NaN values, as percentile_disc, within ml_rank_error';
CREATE FUNCTION ml_quantiles(stats ml_stats, qs float8[]) RETURNS float8[]
    AS 'MODULE_PATHNAME', 'ml_stats_quantiles' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_quantiles(ml_stats, float8[]) IS 'ml_quantile at each q of the array';
CREATE FUNCTION ml_rank_error(stats ml_stats) RETURNS float8
    AS 'MODULE_PATHNAME', 'ml_stats_rank_error' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_rank_error(ml_stats) IS
    'Certified rank error of each quantile at 99% confidence (0 while the sketch is exact)';

CREATE FUNCTION ml_histogram(stats ml_stats, bins int DEFAULT 10)
    RETURNS TABLE (bin int, lo float8, hi float8, count bigint, fraction float8)
    AS 'MODULE_PATHNAME', 'ml_stats_histogram' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION ml_histogram(ml_stats, int) IS
    'Equal-width bins [lo, hi] (first), (lo, hi] (others) from min to max, with estimated counts of the finite values';
CREATE FUNCTION ml_histogram_equal_count(stats ml_stats, bins int DEFAULT 10)
    RETURNS TABLE (bin int, lo float8, hi float8, count bigint, fraction float8)
    AS 'MODULE_PATHNAME', 'ml_stats_histogram_equal_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION ml_histogram_equal_count(ml_stats, int) IS
    'Bins with edges at quantiles, each holding about the same count; ties join bins';

CREATE FUNCTION ml_top_k(stats ml_stats)
    RETURNS TABLE (value text, count bigint, error bigint, fraction float8)
    AS 'MODULE_PATHNAME', 'ml_stats_top_k' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 64;
COMMENT ON FUNCTION ml_top_k(ml_stats) IS
    'Most frequent values: true frequency within [count - error, count]; fraction = count / ml_count';
CREATE FUNCTION ml_distinct(stats ml_stats) RETURNS bigint
    AS 'MODULE_PATHNAME', 'ml_stats_distinct' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_distinct(ml_stats) IS
    'Distinct values: exact up to 64, else a HyperLogLog estimate (0.81% standard error)';
