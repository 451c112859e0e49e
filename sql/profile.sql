-- ml_profile: the type, the ml_profile(jsonb) / ml_profile(record) / ml_profile_merge aggregates,
-- the per-feature listing and lookups, text and binary I/O, bad input, roll-ups, parallel plans.
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA profile;
SET search_path = profile, public;

-- SQLSTATE and message of a statement's error, or 'ok'.
CREATE FUNCTION err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- ---- jsonb rows, by hand ----------------------------------------------------------------------
-- 6 rows. a: 3 numbers (2, 4, 9), a boolean (true = 1), a string, one absent: a type conflict;
-- b: strings x, y, x, a null, two absent; c: nested array and object, one number, three absent;
-- d: null everywhere it appears; e: only in the last row.
CREATE TABLE j (id int, x jsonb);
INSERT INTO j VALUES
  (1, '{"a": 2, "b": "x", "c": [1, 2], "d": null}'),
  (2, '{"a": 4, "b": "y", "c": {"k": 1}}'),
  (3, '{"a": true, "b": "x", "d": null}'),
  (4, '{"a": "nine", "b": null, "c": 5}'),
  (5, '{"a": 9}'),
  (6, '{"e": 0.5}');
CREATE TABLE pj AS SELECT ml_profile(x) AS p FROM j;
SELECT ml_profile_rows(p) FROM pj;
SELECT f.name, f.type, f.type_conflict, f.presence, f.count, f.null_count, f.missing_count,
       f.numeric_count, f.boolean_count, f.categorical_count, f.nested_count
FROM pj, ml_profile_features(p) f;
SELECT f.name, f.nan_count, f.inf_count, f.zero_count, f.mean, f.stddev, f.min, f.max,
       f.distinct_count, f.domain, f.domain_complete, ml_stats_kind(f.stats) AS stats_kind,
       ml_count(f.stats) AS stats_count, ml_null_count(f.stats) AS stats_nulls
FROM pj, ml_profile_features(p) f;
-- a: mean of 2, 4, 1, 9 is 4; b: x twice, y once. By SQL over the same rows:
SELECT avg(v) AS a_mean, stddev(v) AS a_stddev
FROM j, LATERAL (SELECT CASE jsonb_typeof(x -> 'a') WHEN 'number' THEN (x ->> 'a')::float8
                                                   WHEN 'boolean' THEN (x ->> 'a')::bool::int::float8 END) v(v);
-- The statistics of one feature: of the kind of its type, or of the kind asked for.
SELECT ml_stats_kind(ml_profile_stats(p, 'a')) AS a, ml_stats_kind(ml_profile_stats(p, 'a', 'categorical')) AS a_strings,
       (SELECT array_agg(value) FROM ml_top_k(ml_profile_stats(p, 'a', 'categorical'))) AS a_string_values,
       ml_profile_stats(p, 'b', 'numeric') IS NULL AS b_has_no_numbers,
       ml_profile_stats(p, 'c') IS NOT NULL AS c_has_its_number, ml_mean(ml_profile_stats(p, 'c')) AS c_mean,
       ml_profile_stats(p, 'd') IS NULL AS d_only_nulls, ml_profile_stats(p, 'zz') IS NULL AS absent,
       ml_profile_stats(p, NULL) IS NULL AS strict
FROM pj;
SELECT err($$SELECT ml_profile_stats(p, 'a', 'ordinal') FROM pj$$) AS bad_kind;
-- Everything at once.
SELECT jsonb_pretty(p::jsonb #- '{features,a,stats}' #- '{features,a,other_stats}' #- '{features,b,stats}'
                    #- '{features,c,stats}' #- '{features,e,stats}') FROM pj;
SELECT p::jsonb -> 'features' -> 'a' -> 'stats' -> 'mean' AS a_mean,
       p::jsonb -> 'features' -> 'a' -> 'other_stats' -> 'kind' AS a_other,
       p::jsonb -> 'features' -> 'b' -> 'stats' -> 'distinct' AS b_distinct FROM pj;

-- ---- rows: column types as models read them ---------------------------------------------------
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE r (i2 int2, i4 int, i8 bigint, f4 real, f8 float8, n numeric, b bool, t text,
                v varchar(8), c char(4), nm name, m mood);
INSERT INTO r
SELECT i % 7, i * 3, i::bigint * 1000000007, i / 8.0, sin(i) * 100, i / 3.0, i % 3 = 0, 't' || (i % 5),
       'v' || (i % 2), 'c' || (i % 3), 'n' || (i % 4), (ARRAY['sad', 'ok', 'happy']::mood[])[1 + i % 3]
FROM generate_series(1, 300) i;
-- NULLs in every column, NaN and infinities where the type has them, an all-NULL row.
INSERT INTO r VALUES (NULL, NULL, NULL, 'NaN', 'Infinity', 'NaN', NULL, NULL, NULL, NULL, NULL, NULL),
                     (0, 0, 0, '-Infinity', 'NaN', '-Infinity', false, '', '', '', '', 'ok'),
                     (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
-- The profile and each column's own ml_stats, in the same scan (same order of values).
CREATE TABLE pr AS
SELECT ml_profile(r) AS p,
       ml_stats(i2) AS i2, ml_stats(i4) AS i4, ml_stats(i8) AS i8, ml_stats(f4) AS f4, ml_stats(f8) AS f8,
       ml_stats(n) AS n, ml_stats(b::int) AS b, ml_stats(t) AS t, ml_stats(v) AS v, ml_stats(c::text) AS c,
       ml_stats(nm::text) AS nm, ml_stats(m::text) AS m
FROM r;
SELECT f.name, f.type, f.presence, f.count, f.null_count, f.missing_count, f.nan_count, f.inf_count, f.zero_count,
       f.distinct_count, f.domain_complete
FROM pr, ml_profile_features(p) f;
-- Byte for byte the statistics ml_stats computes for the column (booleans as 0/1, char(n)
-- without its padding, name and enum values as text).
SELECT ml_stats_bytes(ml_profile_stats(p, 'i2')) = ml_stats_bytes(i2) AS i2,
       ml_stats_bytes(ml_profile_stats(p, 'i4')) = ml_stats_bytes(i4) AS i4,
       ml_stats_bytes(ml_profile_stats(p, 'i8')) = ml_stats_bytes(i8) AS i8,
       ml_stats_bytes(ml_profile_stats(p, 'f4')) = ml_stats_bytes(f4) AS f4,
       ml_stats_bytes(ml_profile_stats(p, 'f8')) = ml_stats_bytes(f8) AS f8,
       ml_stats_bytes(ml_profile_stats(p, 'n')) = ml_stats_bytes(n) AS n,
       ml_stats_bytes(ml_profile_stats(p, 'b')) = ml_stats_bytes(b) AS b,
       ml_stats_bytes(ml_profile_stats(p, 't')) = ml_stats_bytes(t) AS t,
       ml_stats_bytes(ml_profile_stats(p, 'v')) = ml_stats_bytes(v) AS v,
       ml_stats_bytes(ml_profile_stats(p, 'c')) = ml_stats_bytes(c) AS c,
       ml_stats_bytes(ml_profile_stats(p, 'nm')) = ml_stats_bytes(nm) AS nm,
       ml_stats_bytes(ml_profile_stats(p, 'm')) = ml_stats_bytes(m) AS m
FROM pr;
-- The listing's moments and domains against SQL over the column.
SELECT abs(f.mean - (SELECT avg(f8) FROM r WHERE f8 NOT IN ('NaN', 'Infinity', '-Infinity'))) < 1e-12 AS f8_mean,
       abs(f.stddev - (SELECT stddev(f8) FROM r WHERE f8 NOT IN ('NaN', 'Infinity', '-Infinity'))) < 1e-12 AS f8_stddev,
       f.min = (SELECT min(f8) FROM r) AS f8_min
FROM pr, ml_profile_features(p) f WHERE f.name = 'f8';
SELECT f.name, f.domain, f.domain = ARRAY(SELECT m::text FROM r WHERE m IS NOT NULL GROUP BY m
                                          ORDER BY count(*) DESC, m::text COLLATE "C") AS domain_by_sql
FROM pr, ml_profile_features(p) f WHERE f.name = 'm';
-- A subquery keeps the names (an anonymous ROW(...), whose fields are f1, f2, ..., is refused:
-- anonymous_records.sql).
SELECT array_agg(f.name) FROM (SELECT ml_profile(s) AS p FROM (SELECT i4 AS age, t AS city FROM r) s) a,
                              ml_profile_features(a.p) f;
-- A domain over a supported type is its base type.
CREATE DOMAIN score AS float8 CHECK (VALUE >= 0);
SELECT f.name, f.type, f.mean FROM (SELECT ml_profile(s) AS p FROM (SELECT 2.5::score AS sc) s) a, ml_profile_features(a.p) f;
-- Any other column type is an error naming the column (42804), as for models; select the
-- feature columns, cast them, or profile to_jsonb(t) without them.
CREATE TABLE withts (id int, at timestamptz, tags text[]);
INSERT INTO withts VALUES (1, '2024-01-01 00:00+00', '{a}');
SELECT err($$SELECT ml_profile(w) FROM withts w$$) AS timestamp_column;
SELECT err($$SELECT ml_profile(s) FROM (SELECT id, tags FROM withts) s$$) AS array_column;
SELECT ml_profile_rows(ml_profile(s)) AS selected FROM (SELECT id FROM withts) s;
SELECT f.name, f.type FROM (SELECT ml_profile(to_jsonb(w) - 'at') AS p FROM withts w) a, ml_profile_features(a.p) f;
-- Two columns of one name in a row: 22023.
SELECT err($$SELECT ml_profile(s) FROM (SELECT 1 AS a, 2 AS a) s$$) AS duplicate_column;

-- ---- NULLs, empty input, bad x ----------------------------------------------------------------
-- No rows, or only NULL x: NULL, as SQL's aggregates. A NULL x is not a row; {} and a row of
-- NULL columns are.
SELECT ml_profile(x) IS NULL AS no_rows FROM j WHERE false;
SELECT ml_profile(r) IS NULL AS no_rows_record FROM r WHERE false;
SELECT ml_profile(NULL::jsonb) IS NULL AS only_null_x FROM generate_series(1, 3);
SELECT ml_profile_merge(p) IS NULL AS merge_no_rows FROM pj WHERE false;
SELECT ml_profile_merge(NULL::ml_profile) IS NULL AS merge_of_nulls FROM generate_series(1, 3);
SELECT ml_profile_rows(ml_profile(x)) AS rows, (SELECT count(*) FROM ml_profile_features(ml_profile(x))) AS features
FROM (VALUES (NULL::jsonb), ('{}'), (NULL), ('{}')) v(x);
SELECT ml_profile_rows(p), f.name, f.null_count, f.presence
FROM (SELECT ml_profile(s) AS p FROM (VALUES (NULL::int, NULL::text)) s(a, b)) a, ml_profile_features(a.p) f;
-- jsonb that is not an object: 22023. Nested values are counted, not refused.
SELECT err($$SELECT ml_profile(x) FROM (VALUES ('[1, 2]'::jsonb)) v(x)$$) AS array_x;
SELECT err($$SELECT ml_profile(x) FROM (VALUES ('3'::jsonb)) v(x)$$) AS scalar_x;
-- A number beyond float8's range counts as an infinity (jsonb has no NaN or infinity).
SELECT f.inf_count, f.max FROM ml_profile_features((SELECT ml_profile('{"big": 1e400}'::jsonb))) f;
-- Names: not valid UTF-8 is impossible here (UTF8 database); over 1024 bytes is 54000.
SELECT err(format('SELECT ml_profile(jsonb_build_object(%L, 1))', repeat('n', 1025))) AS long_name;
SELECT ml_profile_rows(ml_profile(jsonb_build_object(repeat('n', 1024), 1))) AS name_at_limit;
-- At most 10,000 features: 54000 beyond.
SELECT ml_profile_rows(ml_profile(x)) AS at_cap
FROM (SELECT jsonb_object_agg('f' || i, i) AS x FROM generate_series(1, 10000) i) a;
SELECT err($$SELECT ml_profile(x) FROM (SELECT jsonb_object_agg('f' || i, i) AS x FROM generate_series(1, 10001) i) a$$)
       AS over_cap;
SELECT err($$SELECT ml_profile_merge(p) FROM (SELECT ml_profile(o) AS p FROM
                (SELECT k, jsonb_object_agg(k || i, i) AS o FROM generate_series(1, 6000) i, (VALUES ('a'), ('b')) v(k)
                 GROUP BY k) o GROUP BY k) a$$) AS merge_over_cap;
-- The transition functions belong to the aggregates.
SELECT err($$SELECT ml_profile_transition(NULL::ml_profile, '{}'::jsonb)$$) AS transition_outside;
SELECT err($$SELECT ml_profile_combine(p, p) FROM pj$$) AS combine_outside;
-- A string literal is a cast to ml_profile (PostgreSQL's typename(x) rule): write '...'::jsonb.
SELECT err($$SELECT ml_profile('{"a": 1}')$$) AS literal_is_a_cast;

-- ---- text I/O: exact round trip ---------------------------------------------------------------
SELECT ml_profile(x)::text FROM (VALUES ('{"a": 1.5, "b": "x", "c": null}'::jsonb), ('{"a": false, "b": [1]}')) v(x);
SELECT p::text::ml_profile::text = p::text AS jsonb_text_round_trip,
       ml_profile_bytes(p::text::ml_profile) = ml_profile_bytes(p) AS jsonb_same_bytes
FROM pj;
SELECT p::text::ml_profile::text = p::text AS row_text_round_trip,
       ml_profile_bytes(p::text::ml_profile) = ml_profile_bytes(p) AS row_same_bytes
FROM pr;
-- A value read back from text merges exactly as the original.
SELECT ml_profile_bytes(ml_profile_merge(v::text::ml_profile ORDER BY part)) = ml_profile_bytes(ml_profile_merge(v ORDER BY part)) AS same
FROM (SELECT id > 3 AS part, ml_profile(x) AS v FROM j GROUP BY 1) p;

-- ---- binary I/O: send/recv is the validated binary form ---------------------------------------
SELECT ml_profile_send(p) = ml_profile_bytes(p) AS send_is_bytes,
       ml_profile_from_bytes(ml_profile_bytes(p))::text = p::text AS round_trip,
       substr(ml_profile_bytes(p), 1, 8) AS header
FROM pr;
COPY (SELECT p FROM pr UNION ALL SELECT p FROM pj) TO '/tmp/pg_learn_profile_copy.bin' WITH (FORMAT binary);
CREATE TABLE p_copy (p ml_profile);
COPY p_copy FROM '/tmp/pg_learn_profile_copy.bin' WITH (FORMAT binary);
SELECT count(*) AS copied, count(*) FILTER (WHERE p::text IN (SELECT p::text FROM pr UNION ALL SELECT p::text FROM pj)) AS same
FROM p_copy;

-- ---- corrupted binary: 22P03, never a crash -----------------------------------------------------
CREATE TABLE b AS SELECT ml_profile_bytes(p) AS b FROM pj;
SELECT err($$SELECT ml_profile_from_bytes(set_byte(b, 0, 88)) FROM b$$) AS bad_magic;
SELECT err($$SELECT ml_profile_from_bytes(set_byte(b, 4, 9)) FROM b$$) AS bad_version;
SELECT err($$SELECT ml_profile_from_bytes(set_byte(b, 40, get_byte(b, 40) # 1)) FROM b$$) AS flipped_bit;
SELECT err($$SELECT ml_profile_from_bytes(set_byte(b, length(b) - 1, get_byte(b, length(b) - 1) # 128)) FROM b$$)
       AS flipped_last_bit;
SELECT err($$SELECT ml_profile_from_bytes(substr(b, 1, length(b) - 1)) FROM b$$) AS truncated;
SELECT err($$SELECT ml_profile_from_bytes(substr(b, 1, 20)) FROM b$$) AS truncated_header;
SELECT err($$SELECT ml_profile_from_bytes(b || '\x00'::bytea) FROM b$$) AS trailing_byte;
SELECT err($$SELECT ml_profile_from_bytes(set_byte(b, 8, get_byte(b, 8) + 1)) FROM b$$) AS lying_length;
SELECT err($$SELECT ml_profile_from_bytes(''::bytea)$$) AS empty;
SELECT err($$SELECT ml_profile_from_bytes(ml_stats_bytes(ml_stats(1.0::float8)))$$) AS an_ml_stats;
-- Every truncation is refused with 22P03.
SELECT count(*) AS truncations,
       count(*) FILTER (WHERE err(format('SELECT ml_profile_from_bytes(%L::bytea)', substr(b, 1, n))) LIKE '22P03:%') AS refused
FROM b, generate_series(0, length(b) - 1, 13) n;

-- ---- corrupted text: 22P02 ----------------------------------------------------------------------
SELECT err($$SELECT 'not json'::ml_profile$$) AS not_json;
SELECT err($$SELECT '[1, 2]'::ml_profile$$) AS not_object;
SELECT err($$SELECT '{"pg_learn_profile": 2, "rows": 0, "features": []}'::ml_profile$$) AS bad_version;
SELECT err($$SELECT '{"pg_learn_profile": 1, "rows": 0}'::ml_profile$$) AS no_features;
SELECT err($$SELECT (p::text::jsonb || '{"extra": 1}')::text::ml_profile FROM pj$$) AS unknown_key;
SELECT err($$SELECT (p::text::jsonb || '{"rows": 2}')::text::ml_profile FROM pj$$) AS fewer_rows_than_values;
SELECT err($$SELECT jsonb_set(p::text::jsonb, '{features,0,numeric_count}', '2')::text::ml_profile FROM pj$$)
       AS count_disagrees_with_stats;
SELECT err($$SELECT jsonb_set(p::text::jsonb, '{features,1,name}', '"a"')::text::ml_profile FROM pj$$) AS duplicate_name;
SELECT err($$SELECT jsonb_set(p::text::jsonb, '{features,0,numeric_stats,m2}', '-1')::text::ml_profile FROM pj$$)
       AS corrupt_stats;
SELECT err($$SELECT (p::text::jsonb #- '{features,0,numeric_stats}')::text::ml_profile FROM pj$$) AS missing_stats;
SELECT '{"pg_learn_profile": 1, "rows": 3, "features": []}'::ml_profile AS rows_without_features;

-- ---- roll-up: per-hour profiles merged per day equal one pass over the day's rows ----------------
CREATE TABLE events AS
SELECT timestamp '2024-01-01' + (i % 72) * interval '1 hour' + (i / 72) * interval '1 second' AS ts,
       CASE WHEN i % 97 = 0 THEN NULL ELSE 1e6 + sin(i) * 100 + (i % 13) END AS amount,
       CASE WHEN i % 89 = 0 THEN NULL ELSE 'k' || (i % 11) END AS channel,
       i % 4 = 0 AS flagged,
       CASE WHEN i % 5 = 0 THEN 'web' END AS source
FROM generate_series(1, 72 * 60) i;
-- The feature columns of each row, without the timestamp, as a composite type.
CREATE TYPE event_features AS (amount float8, channel text, flagged bool, source text);
CREATE VIEW features AS SELECT ts, ROW(amount, channel, flagged, source)::event_features AS f FROM events;
CREATE TABLE hourly AS SELECT date_trunc('hour', ts) AS hour, ml_profile(f) AS p FROM features GROUP BY 1;
CREATE TABLE daily_rollup AS SELECT date_trunc('day', hour) AS day, ml_profile_merge(p) AS p FROM hourly GROUP BY 1;
CREATE TABLE daily_pass AS SELECT date_trunc('day', ts) AS day, ml_profile(f) AS p FROM features GROUP BY 1;
SELECT r.day, a.name, a.count, a.null_count, a.presence,
       (a.count, a.null_count, a.missing_count, a.presence, a.type, a.type_conflict, a.numeric_count, a.boolean_count,
        a.categorical_count, a.nested_count, a.nan_count, a.zero_count, a.min, a.max, a.distinct_count, a.domain)
       IS NOT DISTINCT FROM
       (b.count, b.null_count, b.missing_count, b.presence, b.type, b.type_conflict, b.numeric_count, b.boolean_count,
        b.categorical_count, b.nested_count, b.nan_count, b.zero_count, b.min, b.max, b.distinct_count, b.domain) AS exact_eq,
       a.mean IS NOT DISTINCT FROM b.mean OR abs(a.mean - b.mean) <= 1e-12 * abs(b.mean) AS mean_eq,
       a.stddev IS NOT DISTINCT FROM b.stddev OR abs(a.stddev - b.stddev) <= 1e-9 * b.stddev AS stddev_eq
FROM daily_rollup r JOIN daily_pass p USING (day), ml_profile_features(r.p) a, ml_profile_features(p.p) b
WHERE a.name = b.name ORDER BY r.day, a.name;
SELECT day, ml_profile_rows(p) AS rows FROM daily_rollup ORDER BY day;
-- Against SQL over the same rows.
SELECT day, sql.count, sql.count = ml_count(ml_profile_stats(d.p, 'amount')) AS count_eq,
       abs(sql.mean - ml_mean(ml_profile_stats(d.p, 'amount'))) <= 1e-12 * sql.mean AS mean_eq,
       abs(sql.stddev - ml_stddev(ml_profile_stats(d.p, 'amount'))) <= 1e-9 * sql.stddev AS stddev_eq,
       abs(sql.flagged_rate - ml_mean(ml_profile_stats(d.p, 'flagged'))) < 1e-12 AS flagged_rate_eq
FROM daily_rollup d
     JOIN (SELECT date_trunc('day', ts) AS day, count(amount) AS count, avg(amount) AS mean, stddev(amount) AS stddev,
                  count(*) FILTER (WHERE flagged)::float8 / count(*) AS flagged_rate
           FROM events GROUP BY 1) sql USING (day)
ORDER BY day;
-- The whole period from the daily roll-ups equals the hourly roll-up and one pass (counts).
SELECT (SELECT array_agg((f.name, f.count, f.null_count, f.missing_count)::text ORDER BY f.name)
        FROM ml_profile_features((SELECT ml_profile_merge(p) FROM daily_rollup)) f) =
       (SELECT array_agg((f.name, f.count, f.null_count, f.missing_count)::text ORDER BY f.name)
        FROM ml_profile_features((SELECT ml_profile(f) FROM features)) f) AS days_eq_pass,
       (SELECT array_agg((f.name, f.count, f.null_count, f.missing_count)::text ORDER BY f.name)
        FROM ml_profile_features((SELECT ml_profile_merge(p) FROM hourly)) f) =
       (SELECT array_agg((f.name, f.count, f.null_count, f.missing_count)::text ORDER BY f.name)
        FROM ml_profile_features((SELECT ml_profile(f) FROM features)) f) AS hours_eq_pass;
-- Profiles of different features merge: a feature absent from one side counts as missing there.
SELECT f.name, f.count, f.missing_count, f.presence
FROM ml_profile_features((SELECT ml_profile_merge(p) FROM (SELECT ml_profile('{"a": 1}'::jsonb) UNION ALL
                                                          SELECT ml_profile('{"b": "x"}'::jsonb) FROM generate_series(1, 3)) u(p))) f;

-- ---- stored, toasted, window use ----------------------------------------------------------------
CREATE TABLE stored (id int, p ml_profile);
INSERT INTO stored SELECT 1, ml_profile(jsonb_build_object('v', 'value ' || i, 'w', i)) FROM generate_series(1, 5000) i;
SELECT id, ml_profile_rows(p), pg_column_size(p) < length(ml_profile_bytes(p)) AS compressed FROM stored;
SELECT id, ml_profile_rows(w) AS rows, (SELECT array_agg(name) FROM ml_profile_features(w)) AS names
FROM (SELECT id, ml_profile(x) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS w FROM j) s ORDER BY id;

-- ---- parallel aggregation -----------------------------------------------------------------------
-- A jsonb column (with a key that is sometimes nested) and a table of feature columns.
CREATE TABLE big AS
SELECT i, jsonb_build_object('x', (i % 1000) * 0.5, 'g', 'g' || (i % 37), 'flag', i % 3 = 0) ||
       CASE WHEN i % 7 = 0 THEN '{"rare": [1]}'::jsonb WHEN i % 11 = 0 THEN '{"rare": 1}' ELSE '{}' END AS doc
FROM generate_series(1, 200000) i;
CREATE TABLE big_cols AS
SELECT i, (i % 1000) * 0.5 + sqrt(i) AS x, 'g' || (i % 37) AS g, i % 3 = 0 AS flag,
       CASE WHEN i % 10 = 0 THEN NULL ELSE i % 100 END AS k
FROM generate_series(1, 200000) i;
CREATE TABLE big_profiles AS SELECT i % 500 AS part, ml_profile(doc) AS p FROM big GROUP BY 1;
ANALYZE big;
ANALYZE big_cols;
ANALYZE big_profiles;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE serial AS SELECT (SELECT ml_profile(doc) FROM big) AS pd, (SELECT ml_profile(b) FROM big_cols b) AS pr,
                              (SELECT ml_profile_merge(p) FROM big_profiles) AS pm;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT ml_profile(doc) FROM big;
EXPLAIN (COSTS OFF) SELECT ml_profile(b) FROM big_cols b;
EXPLAIN (COSTS OFF) SELECT ml_profile_merge(p) FROM big_profiles;
CREATE FUNCTION workers_launched(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'Workers Launched' THEN RETURN trim(line); END IF;
  END LOOP;
  RETURN 'no workers';
END $$;
SELECT workers_launched('SELECT ml_profile(doc) FROM big');
SELECT workers_launched('SELECT ml_profile(b) FROM big_cols b');
SELECT workers_launched('SELECT ml_profile_merge(p) FROM big_profiles');
-- Parallel results against the serial ones: counts, types, extremes and domains exact, moments
-- to rounding.
CREATE FUNCTION same_profile(a ml_profile, b ml_profile) RETURNS TABLE (name text, count bigint, exact_eq boolean, mean_eq boolean, stddev_eq boolean)
LANGUAGE sql AS $$
  SELECT x.name, x.count,
         (x.count, x.null_count, x.missing_count, x.presence, x.type, x.type_conflict, x.numeric_count, x.boolean_count,
          x.categorical_count, x.nested_count, x.nan_count, x.zero_count, x.min, x.max, x.distinct_count, x.domain)
         IS NOT DISTINCT FROM
         (y.count, y.null_count, y.missing_count, y.presence, y.type, y.type_conflict, y.numeric_count, y.boolean_count,
          y.categorical_count, y.nested_count, y.nan_count, y.zero_count, y.min, y.max, y.distinct_count, y.domain),
         x.mean IS NOT DISTINCT FROM y.mean OR abs(x.mean - y.mean) <= 1e-12 * abs(y.mean),
         x.stddev IS NOT DISTINCT FROM y.stddev OR abs(x.stddev - y.stddev) <= 1e-9 * y.stddev
  FROM ml_profile_features(a) x FULL JOIN ml_profile_features(b) y USING (name) ORDER BY 1
$$;
SELECT ml_profile_rows(p) AS rows, s.* FROM serial, (SELECT ml_profile(doc) AS p FROM big) a, same_profile(a.p, serial.pd) s;
SELECT ml_profile_rows(p) AS rows, s.* FROM serial, (SELECT ml_profile(b) AS p FROM big_cols b) a, same_profile(a.p, serial.pr) s;
SELECT ml_profile_rows(p) AS rows, s.* FROM serial, (SELECT ml_profile_merge(p) AS p FROM big_profiles) a, same_profile(a.p, serial.pm) s;
-- Grouped.
SELECT i % 3 AS grp, ml_profile_rows(ml_profile(doc)) FROM big GROUP BY 1 ORDER BY 1;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
-- user did: read back a stored profile (its text form) whose top-k of a categorical feature holds
-- a value that is not valid UTF-8 (possible in a database of another encoding; found by fuzzing:
-- test/fuzz/corpus/fuzz_profile_text/regress-invalid-utf8): its summary shows the value with
-- U+FFFD in place of the bad byte, the profile itself keeps its bytes.
CREATE TABLE bad_utf8 AS SELECT '{"pg_learn_profile":1,"rows":40,"features":[{"name":"age","numeric_count":36,"boolean_count":0,"categorical_count":4,"nested_count":0,"null_count":0,"numeric_stats":{"pg_learn_stats":1,"kind":"numeric","finite_count":36,"null_count":0,"nan_count":0,"pos_inf_count":0,"neg_inf_count":0,"zero_count":0,"shift":21.0,"shifted_mean":18.833333333333336,"m2":4685.0,"min":21.0,"max":59.0,"quantile_sketch":"UExLUQEAAAHgAQAAAAAAACQAAAAAAAAAAAAAAAAANUAAAAAAAIBNQGVsZ3AtbGxrJAAAAAAAAAAAAAAAAAAAAAAANUAAAAAAAAA2QAAAAAAAADdAAAAAAAAAOEAAAAAAAAA5QAAAAAAAADpAAAAAAAAAO0AAAAAAAAA8QAAAAAAAAD1AAAAAAAAAPkAAAAAAAABAQAAAAAAAgEBAAAAAAAAAQUAAAAAAAIBBQAAAAAAAAEJAAAAAAACAQkAAAAAAAABDQAAAAAAAgENAAAAAAAAAREAAAAAAAIBEQAAAAAAAgEVAAAAAAAAARkAAAAAAAIBGQAAAAAAAAEdAAAAAAACAR0AAAAAAAABIQAAAAAAAgEhAAAAAAAAASUAAAAAAAIBJQAAAAAAAAEpAAAAAAAAAS0AAAAAAAIBLQAAAAAAAAExAAAAAAACATEAAAAAAAABNQAAAAAAAgE1A"},"categorical_stats":{"pg_learn_stats":1,"kind":"categorical","count":4,"null_count":0,"top_k":"UExTUwEAAABAAAAAAQAAAAQAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABwAAAHVua25vd24=","distinct_sketch":"UExITAEADgEBAAAABSUAAAE="}},{"name":"city","numeric_count":0,"boolean_count":0,"categorical_count":26,"nested_count":0,"null_count":14,"categorical_stats":{"pg_learn_stats":1,"kind":"categorical","count":26,"null_count":0,"top_k":"UExTUwEAAABAAAAAAgAAABoAAAAAAAAAAAAAAAAAAAANAAAAAAAAAAAAAAAAAAAABAAAAEx5b24NAAAAAAAAAAAAAAAAAAAABAAAAE52YpU=","distinct_sketch":"UExITAEADgECAAAApRAAAALSGAAAAQ=="}},{"name":"extra","numeric_count":0,"boolean_count":0,"categorical_count":0,"nested_count":6,"null_count":0},{"name":"vip","numeric_count":0,"boolean_count":40,"categorical_count":0,"nested_count":0,"null_count":0,"numeric_stats":{"pg_learn_stats":1,"kind":"numeric","finite_count":40,"null_count":0,"nan_count":0,"pos_inf_count":0,"neg_inf_count":0,"zero_count":32,"shift":1.0,"shifted_mean":-0.8,"m2":6.3999999999999995,"min":0.0,"max":1.0,"quantile_sketch":"UExLUQEAAAHgAQAAAAAAACgAAAAAAAAAAAAAAAAAAAAAAAAAAADwP2VsZ3AtbGxrKAAAAAAAAAAAAAAAAAAAAAAA8D8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPA/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADwPwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA8D8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPA/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADwPwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA8D8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPA/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}]}'::ml_profile AS p;
SELECT p::jsonb -> 'features' -> 'city' -> 'domain' AS domain,
       p::jsonb -> 'features' -> 'city' -> 'stats' -> 'top_k' AS top_k,
       ml_profile_rows(p) AS rows, ml_profile_bytes((p::text)::ml_profile) = ml_profile_bytes(p) AS text_round_trip
FROM bad_utf8;
DROP TABLE bad_utf8;
