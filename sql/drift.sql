-- Drift between a baseline and a current window: ml_drift, ml_drift_pvalue and ml_drift_detail
-- over ml_stats. Every sample has at most 400 numbers / 64 distinct strings, so the sketches are
-- exact and each value is the measure on the raw rows: the expected values in the comments come
-- from test/reference/drift_sql_ref.py (NumPy/SciPy on the same rows).
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA drift;
SET search_path = drift, public;

-- SQLSTATE, message and hint of a statement's error, or 'ok'.
CREATE FUNCTION err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  hint text;
BEGIN
  EXECUTE q;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
  RETURN SQLSTATE || ': ' || SQLERRM || CASE WHEN hint <> '' THEN ' (hint: ' || hint || ')' ELSE '' END;
END $$;

-- ---- samples ----------------------------------------------------------------------------------
-- 'base': 200 sums of three pseudo-uniform integers / 10 (normal-ish, mean about 15.4);
-- 'shifted': 150 others, moved up by 2; 'low' / 'high': 1..100 and 201..300 (disjoint).
CREATE TABLE x (w text, v float8);
INSERT INTO x SELECT 'base', ((i * 37) % 101 + (i * 53) % 103 + (i * 71) % 107)::float8 / 10
FROM generate_series(1, 200) i;
INSERT INTO x SELECT 'shifted', ((i * 29) % 101 + (i * 43) % 103 + (i * 61) % 107 + 20)::float8 / 10
FROM generate_series(1, 150) i;
INSERT INTO x SELECT 'low', i FROM generate_series(1, 100) i;
INSERT INTO x SELECT 'high', i FROM generate_series(201, 300) i;
-- 'base': a 50%, b 30%, c 20%; 'cur': a 30%, b 30%, c 20%, d 20% (new); stored as 'cat_base', 'cat_cur'.
CREATE TABLE c (w text, v text);
INSERT INTO c SELECT 'base', CASE WHEN i <= 50 THEN 'a' WHEN i <= 80 THEN 'b' ELSE 'c' END
FROM generate_series(1, 100) i;
INSERT INTO c SELECT 'cur', CASE WHEN i <= 30 THEN 'a' WHEN i <= 60 THEN 'b' WHEN i <= 80 THEN 'c' ELSE 'd' END
FROM generate_series(1, 100) i;
-- Stored statistics per window, as a monitoring table would keep them.
CREATE TABLE s AS SELECT w, ml_stats(v) AS s FROM x GROUP BY w
UNION ALL SELECT 'cat_' || w, ml_stats(v) FROM c GROUP BY w;
CREATE FUNCTION st(name text) RETURNS ml_stats LANGUAGE sql AS $$ SELECT s FROM drift.s WHERE w = name $$;
-- Exact sketches: no rank error (numeric), every value listed (categorical).
SELECT w, ml_stats_kind(s), ml_count(s),
       CASE ml_stats_kind(s) WHEN 'numeric' THEN ml_rank_error(s) = 0
                             ELSE ml_distinct(s) = (SELECT count(*) FROM ml_top_k(s)) END AS exact
FROM s ORDER BY w;

-- ---- identical windows: every measure is 0, the p-value 1 ---------------------------------------
SELECT m, ml_drift(st('base'), st('base'), m) FROM unnest(ARRAY['auto', 'psi', 'js', 'ks', 'wasserstein']) m;
SELECT ml_drift_pvalue(st('base'), st('base'));
SELECT m, ml_drift(st('cat_cur'), st('cat_cur'), m) FROM unnest(ARRAY['auto', 'psi', 'js', 'linf']) m;

-- ---- shifted normal-ish data -------------------------------------------------------------------
-- SciPy on the raw rows: PSI 0.1853067504462747, JS 0.1807245271650839, KS 0.15833333333333333
-- (= 19/120), p 0.02720173875193781, W1 1.9123333333333334, W1 / sd(base) 0.364419198784296.
SELECT round(ml_drift(st('base'), st('shifted'), 'psi')::numeric, 12) AS psi,
       round(ml_drift(st('base'), st('shifted'), 'js')::numeric, 12) AS js,
       round(ml_drift(st('base'), st('shifted'), 'ks')::numeric, 12) AS ks,
       round(ml_drift_pvalue(st('base'), st('shifted'))::numeric, 12) AS pvalue,
       round(ml_drift(st('base'), st('shifted'), 'wasserstein')::numeric, 12) AS wasserstein;
SELECT abs(ml_drift(st('base'), st('shifted'), 'psi') - 0.1853067504462747) < 1e-12 AS psi_ok,
       abs(ml_drift(st('base'), st('shifted'), 'js') - 0.1807245271650839) < 1e-12 AS js_ok,
       abs(ml_drift(st('base'), st('shifted'), 'ks') - 19.0 / 120) < 1e-15 AS ks_ok,
       abs(ml_drift_pvalue(st('base'), st('shifted')) - 0.02720173875193781) < 1e-12 AS pvalue_ok,
       abs(ml_drift(st('base'), st('shifted'), 'wasserstein') - 0.364419198784296) < 1e-12 AS wasserstein_ok;
-- auto is js for numeric statistics; names are case-insensitive and have long forms.
SELECT ml_drift(st('base'), st('shifted')) = ml_drift(st('base'), st('shifted'), 'js') AS auto_is_js,
       ml_drift(st('base'), st('shifted'), 'PSI') = ml_drift(st('base'), st('shifted'), 'psi') AS upper_case,
       ml_drift(st('base'), st('shifted'), 'Jensen_Shannon') = ml_drift(st('base'), st('shifted'), 'js') AS js_long,
       ml_drift(st('base'), st('shifted'), 'kolmogorov_smirnov') = ml_drift(st('base'), st('shifted'), 'ks') AS ks_long,
       ml_drift(st('base'), st('shifted'), 'emd') = ml_drift(st('base'), st('shifted'), 'wasserstein') AS emd;
-- Not symmetric: the bins (PSI, JS) and the scale (Wasserstein) are the baseline's. SciPy with
-- 'shifted' as the baseline: PSI 0.7221877256021335, JS 0.26761672849869556, W1/sd 0.40606651194597354.
SELECT round(ml_drift(st('shifted'), st('base'), 'psi')::numeric, 12) AS psi_reversed,
       round(ml_drift(st('shifted'), st('base'), 'js')::numeric, 12) AS js_reversed,
       round(ml_drift(st('shifted'), st('base'), 'wasserstein')::numeric, 12) AS wasserstein_reversed,
       ml_drift(st('shifted'), st('base'), 'ks') = ml_drift(st('base'), st('shifted'), 'ks') AS ks_symmetric;

-- The detail: bins fixed by the baseline (a bin below its min, ten deciles, a bin above its
-- max), each side's proportions. SciPy: splits 2.5999999999999996 (just below 2.6), 8.8, 11.2,
-- 12.9, 14.1, 15.6, 17.2, 18.4, 19.9, 21.7, 28; base 0, .1, .1, .11, .09, .1, .11, .1, .09, .105,
-- .095, 0; shifted 0, 6/150, 11/150, 11/150, 9/150, 16/150, 20/150, 14/150, 16/150, 16/150, 31/150, 0.
SELECT jsonb_pretty(ml_drift_detail(st('base'), st('shifted'), 'psi') - 'bins');
SELECT b.lo, b.hi, round(b.baseline::numeric, 12) AS baseline, round(b.current * 150) AS current_rows
FROM jsonb_to_recordset(ml_drift_detail(st('base'), st('shifted'), 'psi') -> 'bins')
    AS b(lo text, hi text, baseline float8, current float8);
SELECT (SELECT sum((b ->> 'current')::float8 * 150) FROM jsonb_array_elements(d -> 'bins') b) AS current_rows,
       jsonb_array_length(d -> 'bins') AS bins
FROM ml_drift_detail(st('base'), st('shifted'), 'js') d;
-- 4 quantile bins: splits just below the min, the quartiles, the max.
SELECT jsonb_path_query_array(ml_drift_detail(st('base'), st('shifted'), 'js', 4), '$.bins[*].hi') AS his,
       ml_quantiles(st('base'), ARRAY[0.25, 0.5, 0.75]) AS quartiles;
SELECT ml_drift_detail(st('base'), st('shifted'), 'ks');
SELECT ml_drift_detail(st('base'), st('shifted'), 'wasserstein');
-- Detail and value agree for every method, and exact sketches give lower = value = upper.
SELECT m, (d ->> 'value')::float8 = ml_drift(st('base'), st('shifted'), m) AS same,
       d ->> 'lower' = d ->> 'value' AND d ->> 'upper' = d ->> 'value' AS exact
FROM unnest(ARRAY['psi', 'js', 'ks', 'wasserstein']) m, ml_drift_detail(st('base'), st('shifted'), m) d;

-- ---- disjoint windows: JS and KS 1 -------------------------------------------------------------
-- PSI: ten deciles of 0.1 against the 1e-4 floor, 10 * (0.1 - 1e-4) ln(1000), plus the bin above
-- the baseline's max, (1 - 1e-4) ln(10^4): 16.11026686164214. W1 = 200, sd(1..100) = 29.01149...,
-- so 6.8938198754571145. p = kolmogorov(sqrt(50)) = 7.440151952041566e-44.
SELECT ml_drift(st('low'), st('high'), 'js') AS js, ml_drift(st('low'), st('high'), 'ks') AS ks,
       round(ml_drift(st('low'), st('high'), 'psi')::numeric, 12) AS psi,
       round(ml_drift(st('low'), st('high'), 'wasserstein')::numeric, 12) AS wasserstein,
       abs(ml_drift_pvalue(st('low'), st('high')) / 7.440151952041566e-44 - 1) < 1e-9 AS pvalue_ok;
SELECT ml_drift(st('high'), st('low'), 'js') AS js_below, ml_drift(st('high'), st('low'), 'ks') AS ks_below;

-- ---- categorical statistics ------------------------------------------------------------------
-- a 0.5 -> 0.3, b and c unchanged, d 0 -> 0.2. L-infinity 0.2 (a and d); SciPy: JS
-- 0.34384065907046824, PSI 1.6215855264156604 ((0.2 - 1e-4) ln 2000 + 0.2 ln(5/3)).
SELECT ml_drift(b, c) AS auto, ml_drift(b, c, 'linf') AS linf, ml_drift(b, c, 'L_Infinity') AS linf_long,
       round(ml_drift(b, c, 'js')::numeric, 12) AS js, round(ml_drift(b, c, 'psi')::numeric, 12) AS psi,
       abs(ml_drift(b, c, 'js') - 0.34384065907046824) < 1e-12 AS js_ok,
       abs(ml_drift(b, c, 'psi') - 1.6215855264156604) < 1e-12 AS psi_ok
FROM st('cat_base') b, st('cat_cur') c;
-- The bins: the values of both sides, then "other" (value null), empty while the summaries list
-- every value.
SELECT jsonb_pretty(ml_drift_detail(st('cat_base'), st('cat_cur')));

-- ---- no value on one side: NULL; NULL arguments: NULL ------------------------------------------
CREATE TABLE e AS
SELECT ml_stats(NULL::float8) AS nulls, ml_stats('NaN'::float8) AS nans, ml_stats(NULL::text) AS text_nulls
FROM generate_series(1, 3);
SELECT ml_count(nulls), ml_null_count(nulls), ml_count(nans), ml_nan_count(nans), ml_null_count(text_nulls) FROM e;
SELECT ml_drift(st('base'), nulls) IS NULL AS current_nulls, ml_drift(nulls, st('base')) IS NULL AS baseline_nulls,
       ml_drift(st('base'), nans, 'ks') IS NULL AS only_nan, ml_drift_pvalue(nans, st('base')) IS NULL AS pvalue_nan,
       ml_drift_detail(st('base'), nulls) IS NULL AS detail_nulls,
       ml_drift(st('cat_base'), text_nulls) IS NULL AS categorical_nulls
FROM e;
SELECT ml_drift(NULL, st('base')) IS NULL AS a, ml_drift(st('base'), NULL) IS NULL AS b,
       ml_drift(st('base'), st('base'), NULL) IS NULL AS c, ml_drift_pvalue(NULL, NULL) IS NULL AS d,
       ml_drift_detail(st('base'), st('base'), 'js', NULL) IS NULL AS e;
-- No rows at all: the aggregate is NULL, and so is the drift.
SELECT ml_drift(st('base'), (SELECT ml_stats(v) FROM x WHERE false)) IS NULL AS no_rows;

-- ---- degenerate baselines ------------------------------------------------------------------------
-- A constant baseline has no scale: Wasserstein is 0 against the same constant, +Infinity otherwise.
-- Its bins are (-inf, 5-], (5-, 5], (5, +inf) with 0, 1, 0; 'base' puts 5 of 200 values (2.6 to
-- 3.4) below 5 and none on it: JS 1 (SciPy: 1.0).
SELECT ml_drift(k.s, k.s, 'wasserstein') AS same_constant, ml_drift(k.s, st('base'), 'wasserstein') AS from_constant,
       ml_drift_detail(k.s, st('base'), 'wasserstein') ->> 'value' AS detail_value,
       ml_drift_detail(k.s, st('base'), 'wasserstein') -> 'baseline_stddev' AS detail_sd,
       ml_drift(k.s, st('base'), 'js') AS js
FROM (SELECT ml_stats(5.0::float8) AS s FROM generate_series(1, 10)) k;
-- Infinities are values. Baseline {-inf, 1, 2, +inf}: its deciles are -inf, -inf, 1, 1, 1, 2, 2,
-- inf, inf; no split below a min of -inf, and the split at +inf is dropped, so the bins are
-- [-inf, -inf], (-inf, 1], (1, 2], (2, +inf], a quarter each. KS against 'base' (all in [2.6, 28]):
-- 3/4 of the baseline lies below 2.6.
SELECT ml_drift(i.s, i.s, 'js') AS js_same, ml_drift(i.s, st('base'), 'ks') AS ks,
       ml_drift_detail(i.s, i.s, 'psi') -> 'bins' AS bins
FROM (SELECT ml_stats(v) AS s FROM (VALUES (1.0::float8), (2.0), ('Infinity'), ('-Infinity')) t(v)) i;

-- ---- merged windows: the same drift as one pass (exact sketches) --------------------------------
SELECT ml_drift(st('base'), m.s, 'psi') = ml_drift(st('base'), st('shifted'), 'psi') AS psi_same,
       ml_drift(st('base'), m.s, 'ks') = ml_drift(st('base'), st('shifted'), 'ks') AS ks_same
FROM (SELECT ml_stats_merge(p) AS s
      FROM (SELECT ml_stats(v) AS p FROM x WHERE w = 'shifted' GROUP BY v::int % 3) parts) m;
-- Over stored windows, as a dashboard query: drift of each window against the baseline. SciPy:
-- low PSI 7.841511076851786, JS 0.7600718660871355; high PSI 16.112522573031846, JS 1.
SELECT w, round(ml_drift(st('base'), s, 'psi')::numeric, 6) AS psi, round(ml_drift(st('base'), s)::numeric, 6) AS js
FROM s WHERE ml_stats_kind(s) = 'numeric' ORDER BY w;

-- ---- bad input ------------------------------------------------------------------------------------
SELECT err($$SELECT ml_drift(drift.st('base'), drift.st('cat_cur'))$$) AS numeric_vs_categorical;
SELECT err($$SELECT ml_drift(drift.st('cat_cur'), drift.st('base'), 'psi')$$) AS categorical_vs_numeric;
SELECT err($$SELECT ml_drift(drift.st('base'), drift.st('shifted'), 'linf')$$) AS linf_on_numeric;
SELECT err($$SELECT ml_drift(drift.st('cat_cur'), drift.st('cat_cur'), 'ks')$$) AS ks_on_categorical;
SELECT err($$SELECT ml_drift(drift.st('cat_cur'), drift.st('cat_cur'), 'wasserstein')$$) AS wasserstein_on_categorical;
SELECT err($$SELECT ml_drift(drift.st('base'), drift.st('base'), 'chi2')$$) AS unknown_method;
SELECT err($$SELECT ml_drift(drift.st('base'), drift.st('base'), '')$$) AS empty_method;
SELECT err($$SELECT ml_drift_pvalue(drift.st('cat_cur'), drift.st('cat_cur'))$$) AS pvalue_on_categorical;
SELECT err($$SELECT ml_drift_pvalue(drift.st('base'), drift.st('cat_cur'))$$) AS pvalue_kinds;
SELECT err($$SELECT ml_drift_detail(drift.st('base'), drift.st('base'), 'js', 0)$$) AS zero_bins;
SELECT err($$SELECT ml_drift_detail(drift.st('base'), drift.st('base'), 'js', -1)$$) AS negative_bins;
SELECT err($$SELECT ml_drift_detail(drift.st('base'), drift.st('base'), 'js', 10001)$$) AS too_many_bins;
SELECT err($$SELECT ml_drift_detail(drift.st('cat_cur'), drift.st('cat_cur'), 'ks')$$) AS detail_ks_on_categorical;
-- Errors about the arguments come before the emptiness of a side.
SELECT err($$SELECT ml_drift(drift.st('base'), ml_stats(NULL::text)) FROM generate_series(1, 2)$$) AS kinds_first;
SELECT err($$SELECT ml_drift_detail(ml_stats(NULL::float8), ml_stats(NULL::float8), 'psi', 0) FROM generate_series(1, 2)$$) AS bins_first;

-- ---- declared honestly ------------------------------------------------------------------------------
SELECT p.oid::regprocedure, p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p WHERE p.proname IN ('ml_drift', 'ml_drift_pvalue', 'ml_drift_detail') ORDER BY p.oid::regprocedure::text;
