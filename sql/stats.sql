-- ml_stats: the type, the ml_stats(float8) / ml_stats(text) / ml_stats_merge aggregates, the
-- accessors, text and binary I/O, validation of bad input, roll-ups and parallel plans.
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA stats;
SET search_path = stats, public;

-- SQLSTATE and message of a statement's error, or 'ok'.
CREATE FUNCTION err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- 200 rows: numbers with NULLs, a NaN, both infinities and zeros; text values with NULLs.
CREATE TABLE t AS
SELECT i,
       CASE WHEN i % 50 = 0 THEN NULL
            WHEN i = 77 THEN 'NaN'::float8
            WHEN i = 88 THEN 'Infinity'::float8
            WHEN i = 99 THEN '-Infinity'::float8
            ELSE (i % 37) * 1.5 - 12 END AS x,
       CASE WHEN i % 40 = 0 THEN NULL ELSE 'c' || (i % 7) END AS c
FROM generate_series(1, 200) i;
CREATE VIEW finite AS SELECT x FROM t WHERE x IS NOT NULL AND x NOT IN ('NaN', 'Infinity', '-Infinity');

-- ---- numeric statistics against SQL's own aggregates ------------------------------------------
CREATE TABLE s AS SELECT ml_stats(x) AS s, ml_stats(c) AS sc FROM t;
SELECT ml_stats_kind(s), ml_count(s), ml_null_count(s), ml_nan_count(s), ml_inf_count(s), ml_zero_count(s)
FROM s;
SELECT count(x) AS count, count(*) - count(x) AS nulls, count(*) FILTER (WHERE x = 0) AS zeros FROM t;
-- Mean, variance and stddev of the finite values; NaN does not poison the mean (avg(x) is NaN).
SELECT abs(ml_mean(s) - (SELECT avg(x) FROM finite)) < 1e-12 AS mean_ok,
       abs(ml_variance(s) - (SELECT variance(x) FROM finite)) < 1e-9 AS variance_ok,
       abs(ml_stddev(s) - (SELECT stddev(x) FROM finite)) < 1e-12 AS stddev_ok,
       ml_min(s) = (SELECT min(x) FROM finite) AS min_ok, ml_max(s) = (SELECT max(x) FROM finite) AS max_ok,
       round(ml_mean(s)::numeric, 9) AS mean, ml_min(s) AS min, ml_max(s) AS max,
       (SELECT avg(x) FROM t) AS sql_avg_with_nan
FROM s;
-- Quantiles: exact while the sketch is (up to 400 values), equal to percentile_disc over the
-- non-NaN values (percentile_disc sorts NaN last, so it is left out on both sides).
SELECT q, ml_quantile(s, q) AS ml_quantile,
       (SELECT percentile_disc(q) WITHIN GROUP (ORDER BY x) FROM t WHERE x <> 'NaN') AS percentile_disc
FROM s, unnest(ARRAY[0, 0.001, 0.01, 0.25, 0.5, 0.75, 0.99, 0.999, 1]::float8[]) q;
SELECT ml_quantiles(s, ARRAY[0.1, 0.5, 0.9]) AS qs, ml_quantiles(s, '{}') AS none, ml_rank_error(s) FROM s;
SELECT ml_quantiles(s, ARRAY[0.1, 0.5, 0.9]) = ARRAY[ml_quantile(s, 0.1), ml_quantile(s, 0.5), ml_quantile(s, 0.9)]
FROM s;
-- Histograms cover the finite values from min to max; counts add up to them.
SELECT h.* FROM s, ml_histogram(s.s, 4) h;
SELECT h.* FROM s, ml_histogram_equal_count(s.s, 4) h;
SELECT sum(h.count) AS total, sum(h.fraction) AS fractions FROM s, ml_histogram(s.s) h;
-- Equal-width bins by hand: 1..10 in two bins [1, 5.5] (5.5, 10]; in three [1, 4] (4, 7] (7, 10].
SELECT h.* FROM (SELECT ml_stats(i) AS s FROM generate_series(1, 10) i) a, ml_histogram(a.s, 2) h;
SELECT h.* FROM (SELECT ml_stats(i) AS s FROM generate_series(1, 10) i) a, ml_histogram(a.s, 3) h;
-- Equal-count bins at the quintiles 2, 4, 6, 8; a spike of zeros keeps its own [0, 0] bin.
SELECT h.* FROM (SELECT ml_stats(i) AS s FROM generate_series(1, 10) i) a, ml_histogram_equal_count(a.s, 5) h;
SELECT h.* FROM (SELECT ml_stats(CASE WHEN i <= 90 THEN 0 ELSE i - 90 END) AS s FROM generate_series(1, 100) i) a,
               ml_histogram_equal_count(a.s, 10) h;
-- A constant column: one bin.
SELECT h.* FROM (SELECT ml_stats(2.5) AS s FROM generate_series(1, 5)) a, ml_histogram(a.s, 10) h;

-- ---- categorical statistics -------------------------------------------------------------------
SELECT ml_stats_kind(sc), ml_count(sc), ml_null_count(sc), ml_distinct(sc) FROM s;
SELECT count(c) AS count, count(*) - count(c) AS nulls, count(DISTINCT c) AS distinct FROM t;
SELECT k.* FROM s, ml_top_k(s.sc) k;
SELECT c, count(*) FROM t WHERE c IS NOT NULL GROUP BY c ORDER BY count(*) DESC, c LIMIT 3;
-- Many values: the distinct count is a HyperLogLog estimate (0.81% standard error).
SELECT ml_distinct(s) BETWEEN 19500 AND 20500 AS distinct_close, ml_count(s),
       (SELECT count(*) FROM ml_top_k(s)) AS listed
FROM (SELECT ml_stats('v' || (i % 20000)) AS s FROM generate_series(1, 60000) i) a;
-- Heavy hitters are listed first, with their true counts within [count - error, count].
SELECT value, count - error <= truth AND truth <= count AS bounds_hold
FROM (SELECT ml_stats(CASE WHEN i % 3 = 0 THEN 'hot' WHEN i % 5 = 0 THEN 'warm' ELSE 'v' || i END) AS s
      FROM generate_series(1, 30000) i) a,
     LATERAL (SELECT * FROM ml_top_k(a.s) LIMIT 2) k,
     LATERAL (SELECT count(*) AS truth FROM generate_series(1, 30000) i
              WHERE CASE WHEN i % 3 = 0 THEN 'hot' WHEN i % 5 = 0 THEN 'warm' ELSE 'v' || i END = k.value) tr;

-- ---- everything at once -----------------------------------------------------------------------
-- (1..9: every figure exact; the 10-bin histogram's edges are shown by their counts only.)
SELECT jsonb_pretty(ml_stats(i)::jsonb - 'histogram') FROM generate_series(1, 9) i;
SELECT jsonb_path_query_array(ml_stats(i)::jsonb, '$.histogram[*].count') AS bin_counts,
       jsonb_path_query_array(ml_stats(i)::jsonb, '$.histogram[0,9]') AS first_last
FROM generate_series(1, 9) i;
SELECT jsonb_pretty(ml_stats(c)::jsonb) FROM t;
SELECT s::jsonb -> 'percentiles' -> 'p50' AS p50, s::jsonb -> 'nan_count' AS nans,
       s::jsonb -> 'pos_inf_count' AS pos_infs FROM s;
-- Infinite answers are strings in jsonb (it has no infinite numbers); absent ones null.
SELECT ml_stats(x)::jsonb -> 'percentiles' -> 'p50' AS p50, ml_stats(x)::jsonb -> 'mean' AS mean
FROM (VALUES ('Infinity'::float8)) v(x);

-- ---- empty input, all-NULL input, one value -----------------------------------------------------
SELECT ml_stats(x) IS NULL AS numeric_null, ml_stats(c) IS NULL AS text_null FROM t WHERE false;
SELECT ml_stats_merge(s) IS NULL AS merge_null FROM s WHERE false;
SELECT ml_stats_merge(NULL::ml_stats) IS NULL AS merge_of_nulls FROM generate_series(1, 3);
SELECT ml_count(s), ml_null_count(s), ml_mean(s) IS NULL AS no_mean, ml_stddev(s) IS NULL AS no_stddev,
       ml_min(s) IS NULL AS no_min, ml_quantile(s, 0.5) IS NULL AS no_quantile,
       ml_quantiles(s, ARRAY[0.5]) IS NULL AS no_quantiles,
       (SELECT count(*) FROM ml_histogram(s)) AS bins
FROM (SELECT ml_stats(NULL::float8) AS s FROM generate_series(1, 4)) a;
SELECT ml_count(s), ml_null_count(s), ml_distinct(s), (SELECT count(*) FROM ml_top_k(s)) AS listed
FROM (SELECT ml_stats(NULL::text) AS s FROM generate_series(1, 4)) a;
-- One value: no sample variance, as variance(x) of one row.
SELECT ml_mean(s), ml_variance(s) IS NULL AS no_variance, ml_stddev(s) IS NULL AS no_stddev,
       ml_quantile(s, 0.3), ml_min(s), ml_max(s)
FROM (SELECT ml_stats(-7.25) AS s) a;

-- ---- column types: integers, numeric and real cast to float8; varchar to text -----------------
SELECT ml_mean(ml_stats(v)) AS int4, ml_mean(ml_stats(v::int8)) AS int8, ml_mean(ml_stats(v::numeric / 4)) AS numeric,
       ml_mean(ml_stats(v::real)) AS real, ml_stats_kind(ml_stats(v::varchar)) AS varchar,
       ml_distinct(ml_stats(v::varchar(3))) AS varchar_distinct
FROM generate_series(1, 4) g(v);
-- A literal, char(n) or name argument makes ml_stats(...) a cast (PostgreSQL's typename(x)
-- rule); ml_stats(x::text) is the aggregate.
SELECT err($$SELECT ml_stats('red') FROM t$$) AS literal_is_a_cast;
SELECT ml_count(ml_stats('red'::text)) AS literal_as_text, ml_count(ml_stats(c::char(2)::text)) AS char_as_text FROM t;

-- ---- text I/O: exact round trip ---------------------------------------------------------------
SELECT ml_stats(x)::text FROM (VALUES (1.0), (2.0), (NULL), (3.0), ('NaN')) v(x);
SELECT s::text::ml_stats::text = s::text AS numeric_text_round_trip,
       ml_stats_bytes(s::text::ml_stats) = ml_stats_bytes(s) AS numeric_same_bytes,
       sc::text::ml_stats::text = sc::text AS text_text_round_trip,
       ml_stats_bytes(sc::text::ml_stats) = ml_stats_bytes(sc) AS text_same_bytes
FROM s;
-- A value read back from text merges exactly as the original.
SELECT ml_stats_bytes(ml_stats_merge(v::text::ml_stats ORDER BY part)) = ml_stats_bytes(ml_stats_merge(v ORDER BY part)) AS same
FROM (SELECT i > 100 AS part, ml_stats(x) AS v FROM t GROUP BY 1) p;

-- ---- binary I/O: send/recv is the validated binary form --------------------------------------
SELECT ml_stats_send(s) = ml_stats_bytes(s) AS send_is_bytes,
       ml_stats_from_bytes(ml_stats_bytes(s))::text = s::text AS numeric_round_trip,
       ml_stats_from_bytes(ml_stats_bytes(sc))::text = sc::text AS text_round_trip,
       substr(ml_stats_bytes(s), 1, 8) AS header
FROM s;
-- COPY ... BINARY goes through send and recv.
COPY (SELECT s, sc FROM s) TO '/tmp/pg_learn_stats_copy.bin' WITH (FORMAT binary);
CREATE TABLE s_copy (s ml_stats, sc ml_stats);
COPY s_copy FROM '/tmp/pg_learn_stats_copy.bin' WITH (FORMAT binary);
SELECT a.s::text = b.s::text AS numeric_same, a.sc::text = b.sc::text AS text_same FROM s a, s_copy b;

-- ---- corrupted binary: 22P03, never a crash ---------------------------------------------------
CREATE TABLE b AS SELECT ml_stats_bytes(s) AS bn, ml_stats_bytes(sc) AS bc FROM s;
SELECT err($$SELECT ml_stats_from_bytes(set_byte(bn, 0, 88)) FROM b$$) AS bad_magic;
SELECT err($$SELECT ml_stats_from_bytes(set_byte(bn, 4, 9)) FROM b$$) AS bad_version;
SELECT err($$SELECT ml_stats_from_bytes(set_byte(bn, 100, get_byte(bn, 100) # 1)) FROM b$$) AS flipped_bit;
SELECT err($$SELECT ml_stats_from_bytes(set_byte(bc, length(bc) - 1, get_byte(bc, length(bc) - 1) # 128)) FROM b$$)
       AS flipped_last_bit;
SELECT err($$SELECT ml_stats_from_bytes(substr(bn, 1, length(bn) - 1)) FROM b$$) AS truncated;
SELECT err($$SELECT ml_stats_from_bytes(substr(bn, 1, 20)) FROM b$$) AS truncated_header;
SELECT err($$SELECT ml_stats_from_bytes(bn || '\x00'::bytea) FROM b$$) AS trailing_byte;
SELECT err($$SELECT ml_stats_from_bytes(set_byte(bn, 8, get_byte(bn, 8) + 1)) FROM b$$) AS lying_length;
SELECT err($$SELECT ml_stats_from_bytes(''::bytea)$$) AS empty;
SELECT err($$SELECT ml_stats_from_bytes(ml_model_bytes('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'))$$) AS a_model;
-- Every truncation of both kinds is refused with 22P03.
SELECT count(*) AS truncations, count(*) FILTER (WHERE err(format('SELECT ml_stats_from_bytes(%L::bytea)', substr(bn, 1, n))) LIKE '22P03:%') AS refused
FROM b, generate_series(0, length(bn) - 1, 7) n;
SELECT count(*) AS truncations, count(*) FILTER (WHERE err(format('SELECT ml_stats_from_bytes(%L::bytea)', substr(bc, 1, n))) LIKE '22P03:%') AS refused
FROM b, generate_series(0, length(bc) - 1, 97) n;

-- ---- corrupted text: 22P02 --------------------------------------------------------------------
SELECT err($$SELECT 'not json'::ml_stats$$) AS not_json;
SELECT err($$SELECT '[1, 2]'::ml_stats$$) AS not_object;
SELECT err($$SELECT '{"pg_learn_stats": 1}'::ml_stats$$) AS no_kind;
SELECT err($$SELECT '{"pg_learn_stats": 2, "kind": "numeric"}'::ml_stats$$) AS bad_version;
SELECT err($$SELECT '{"pg_learn_stats": 1, "kind": "ordinal"}'::ml_stats$$) AS bad_kind;
SELECT err($$SELECT (s::text::jsonb || '{"extra": 1}')::text::ml_stats FROM s$$) AS unknown_key;
SELECT err($$SELECT (s::text::jsonb - 'quantile_sketch')::text::ml_stats FROM s$$) AS missing_key;
SELECT err($$SELECT (s::text::jsonb || '{"finite_count": -1}')::text::ml_stats FROM s$$) AS negative_count;
SELECT err($$SELECT (s::text::jsonb || jsonb_build_object('finite_count', (s::text::jsonb ->> 'finite_count')::int + 1))::text::ml_stats FROM s$$)
       AS count_disagrees;
SELECT err($$SELECT (s::text::jsonb || '{"min": 1000}')::text::ml_stats FROM s$$) AS min_above_max;
SELECT err($$SELECT (s::text::jsonb || '{"quantile_sketch": "AAAA!"}')::text::ml_stats FROM s$$) AS bad_base64;
SELECT err($$SELECT (sc::text::jsonb || jsonb_build_object('top_k', sc::text::jsonb -> 'distinct_sketch'))::text::ml_stats FROM s$$)
       AS wrong_sketch;
SELECT err($$SELECT (s::text::jsonb || jsonb_build_object('kind', 'categorical'))::text::ml_stats FROM s$$)
       AS kind_and_fields_disagree;

-- ---- bad arguments: 22023 (22004 for a NULL quantile) ----------------------------------------
SELECT err($$SELECT ml_quantile(s, 1.5) FROM s$$) AS q_above_one;
SELECT err($$SELECT ml_quantile(s, -0.1) FROM s$$) AS q_below_zero;
SELECT err($$SELECT ml_quantile(s, 'NaN') FROM s$$) AS q_nan;
SELECT err($$SELECT ml_quantiles(s, ARRAY[0.5, 2]) FROM s$$) AS qs_out_of_range;
SELECT err($$SELECT ml_quantiles(s, ARRAY[0.5, NULL]) FROM s$$) AS qs_null;
SELECT err($$SELECT ml_quantiles(s, ARRAY[[0.5], [0.6]]) FROM s$$) AS qs_two_dimensions;
SELECT ml_quantile(s, NULL) IS NULL AS strict FROM s;
SELECT err($$SELECT * FROM s, ml_histogram(s, 0)$$) AS zero_bins;
SELECT err($$SELECT * FROM s, ml_histogram_equal_count(s, 10001)$$) AS too_many_bins;
-- The wrong kind of statistics.
SELECT err($$SELECT ml_quantile(sc, 0.5) FROM s$$) AS quantile_of_text;
SELECT err($$SELECT ml_mean(sc) FROM s$$) AS mean_of_text;
SELECT err($$SELECT * FROM s, ml_histogram(sc)$$) AS histogram_of_text;
SELECT err($$SELECT * FROM s, ml_top_k(s)$$) AS top_k_of_numbers;
SELECT err($$SELECT ml_distinct(s) FROM s$$) AS distinct_of_numbers;
SELECT err($$SELECT ml_stats_merge(v) FROM (SELECT s FROM s UNION ALL SELECT sc FROM s) u(v)$$) AS merge_of_kinds;
-- The transition functions belong to the aggregates.
SELECT err($$SELECT ml_stats_transition(NULL::ml_stats, 1.0::float8)$$) AS transition_outside;
SELECT err($$SELECT ml_stats_combine(s, s) FROM s$$) AS combine_outside;

-- ---- roll-up: per-hour statistics merged per day equal one pass over the day's rows -----------
CREATE TABLE events AS
SELECT timestamp '2024-01-01' + (i % 72) * interval '1 hour' + (i / 72) * interval '1 second' AS ts,
       CASE WHEN i % 97 = 0 THEN NULL ELSE 1e6 + sin(i) * 100 + (i % 13) END AS x,
       CASE WHEN i % 89 = 0 THEN NULL ELSE 'k' || (i % 11) END AS k
FROM generate_series(1, 72 * 60) i;
CREATE TABLE hourly AS
SELECT date_trunc('hour', ts) AS hour, ml_stats(x) AS sx, ml_stats(k) AS sk FROM events GROUP BY 1;
CREATE TABLE daily_rollup AS
SELECT date_trunc('day', hour) AS day, ml_stats_merge(sx) AS sx, ml_stats_merge(sk) AS sk FROM hourly GROUP BY 1;
CREATE TABLE daily_pass AS
SELECT date_trunc('day', ts) AS day, ml_stats(x) AS sx, ml_stats(k) AS sk FROM events GROUP BY 1;
SELECT r.day, ml_count(r.sx) AS count, ml_count(r.sx) = ml_count(p.sx) AS count_eq,
       ml_null_count(r.sx) = ml_null_count(p.sx) AS nulls_eq,
       abs(ml_mean(r.sx) - ml_mean(p.sx)) <= 1e-12 * abs(ml_mean(p.sx)) AS mean_eq,
       abs(ml_variance(r.sx) - ml_variance(p.sx)) <= 1e-9 * ml_variance(p.sx) AS variance_eq,
       ml_min(r.sx) = ml_min(p.sx) AND ml_max(r.sx) = ml_max(p.sx) AS extremes_eq,
       abs(ml_mean(r.sx) - sql.mean) <= 1e-12 * sql.mean AS mean_vs_avg,
       abs(ml_stddev(r.sx) - sql.sd) <= 1e-9 * sql.sd AS stddev_vs_sql,
       ml_count(r.sk) = ml_count(p.sk) AND ml_null_count(r.sk) = ml_null_count(p.sk) AS text_counts_eq,
       ml_distinct(r.sk) AS distinct
FROM daily_rollup r JOIN daily_pass p USING (day)
     JOIN (SELECT date_trunc('day', ts) AS day, avg(x) AS mean, stddev(x) AS sd FROM events GROUP BY 1) sql USING (day)
ORDER BY r.day;
-- The merged quantile sketch keeps its certified error: the true rank of each estimate.
SELECT r.day, bool_and(abs(tr.rank - q) <= ml_rank_error(r.sx) + 1.0 / ml_count(r.sx)) AS within_bound,
       max(ml_rank_error(r.sx)) < 0.01 AS bound_below_one_percent
FROM daily_rollup r, unnest(ARRAY[0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]::float8[]) q,
     LATERAL (SELECT count(*) FILTER (WHERE x <= ml_quantile(r.sx, q))::float8 / count(x) AS rank
              FROM events WHERE date_trunc('day', ts) = r.day) tr
GROUP BY r.day ORDER BY r.day;
-- Top-k of the roll-up equals that of one pass (11 values: both exact).
SELECT r.day, (SELECT array_agg(value || ':' || count ORDER BY count DESC, value) FROM ml_top_k(r.sk)) =
              (SELECT array_agg(value || ':' || count ORDER BY count DESC, value) FROM ml_top_k(p.sk)) AS top_k_eq
FROM daily_rollup r JOIN daily_pass p USING (day) ORDER BY r.day;
-- The whole period from the daily roll-ups, from the hourly ones, and in one pass.
SELECT ml_count(a) = ml_count(c) AND ml_count(b) = ml_count(c) AS counts_eq,
       abs(ml_mean(a) - ml_mean(c)) <= 1e-12 * ml_mean(c) AND abs(ml_mean(b) - ml_mean(c)) <= 1e-12 * ml_mean(c) AS means_eq
FROM (SELECT ml_stats_merge(sx) AS a FROM daily_rollup) x, (SELECT ml_stats_merge(sx) AS b FROM hourly) y,
     (SELECT ml_stats(x) AS c FROM events) z;

-- ---- stored, toasted, window use ----------------------------------------------------------------
CREATE TABLE stored (id int, s ml_stats);
INSERT INTO stored SELECT 1, ml_stats('v' || i) FROM generate_series(1, 5000) i;
INSERT INTO stored SELECT 2, ml_stats(i::float8) FROM generate_series(1, 5000) i;
SELECT id, ml_stats_kind(s), ml_count(s), pg_column_size(s) < length(ml_stats_bytes(s)) AS compressed FROM stored ORDER BY id;
SELECT i, ml_count(ml_stats(i) OVER w), ml_mean(ml_stats(i) OVER w), ml_max(ml_stats(i) OVER w)
FROM generate_series(1, 5) i WINDOW w AS (ORDER BY i ROWS BETWEEN 2 PRECEDING AND CURRENT ROW);

-- ---- parallel aggregation -----------------------------------------------------------------------
CREATE TABLE big AS
SELECT i, (i % 1000) * 0.5 + sqrt(i) AS x, 'g' || (i % 37) AS g FROM generate_series(1, 200000) i;
CREATE TABLE big_stats AS SELECT i % 500 AS part, ml_stats(x) AS s FROM big GROUP BY 1;
ANALYZE big;
ANALYZE big_stats;
CREATE TABLE serial AS SELECT (SELECT ml_stats(x) FROM big) AS sx, (SELECT ml_stats(g) FROM big) AS sg,
                              (SELECT ml_stats_merge(s) FROM big_stats) AS sm;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT ml_stats(x) FROM big;
EXPLAIN (COSTS OFF) SELECT ml_stats(g) FROM big;
EXPLAIN (COSTS OFF) SELECT ml_stats_merge(s) FROM big_stats;
CREATE FUNCTION workers_launched(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'Workers Launched' THEN RETURN trim(line); END IF;
  END LOOP;
  RETURN 'no workers';
END $$;
SELECT workers_launched('SELECT ml_stats(x) FROM big');
SELECT workers_launched('SELECT ml_stats(g) FROM big');
SELECT workers_launched('SELECT ml_stats_merge(s) FROM big_stats');
-- Parallel results against the serial ones: counts and extremes exact, moments to rounding.
SELECT ml_count(p) AS count, ml_count(p) = ml_count(sx) AS count_eq, ml_min(p) = ml_min(sx) AND ml_max(p) = ml_max(sx) AS extremes_eq,
       abs(ml_mean(p) - ml_mean(sx)) <= 1e-12 * ml_mean(sx) AS mean_eq,
       abs(ml_variance(p) - ml_variance(sx)) <= 1e-9 * ml_variance(sx) AS variance_eq,
       abs(ml_mean(p) - (SELECT avg(x) FROM big)) <= 1e-12 * ml_mean(sx) AS mean_vs_avg,
       ml_rank_error(p) < 0.01 AS rank_error_ok
FROM serial, (SELECT ml_stats(x) AS p FROM big) a;
SELECT ml_count(p) AS count, ml_distinct(p) AS distinct, ml_distinct(p) = ml_distinct(sg) AS distinct_eq,
       (SELECT array_agg(value || ':' || count ORDER BY value) FROM ml_top_k(p)) =
       (SELECT array_agg(value || ':' || count ORDER BY value) FROM ml_top_k(sg)) AS top_k_eq
FROM serial, (SELECT ml_stats(g) AS p FROM big) a;
SELECT ml_count(p) AS count, ml_count(p) = ml_count(sm) AS count_eq,
       abs(ml_mean(p) - ml_mean(sm)) <= 1e-12 * ml_mean(sm) AS mean_eq,
       abs(ml_stddev(p) - ml_stddev(sm)) <= 1e-9 * ml_stddev(sm) AS stddev_eq
FROM serial, (SELECT ml_stats_merge(s) AS p FROM big_stats) a;
-- Grouped.
SELECT i % 3 AS grp, ml_count(ml_stats(x)) FROM big GROUP BY 1 ORDER BY 1;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
