-- The drift report and the anomalies between two profiles: ml_drift_report and ml_anomalies. The
-- tables are those of test/reference/drift_report_ref.py (same integer formulas): at most 400
-- numbers and 64 distinct strings per feature, so the sketches are exact and the values and
-- counts in the comments (NumPy/SciPy on the raw rows) must match.
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA drift_report;
SET search_path = drift_report, public;

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

-- ---- the data -------------------------------------------------------------------------------------
-- Baseline 'b' (300 rows); current 'c' (200 rows): age shifted up (above the baseline's max),
-- cities d and e new, tip present in 20% of the rows instead of 50%, 'gone' dropped, 'new' added,
-- 'score' with NaN, +-Infinity and values on both sides of the baseline's range, 'code' now a number.
CREATE TABLE b (age float8, income float8, city text, tip float8, flag boolean, gone int, score float8, code text);
INSERT INTO b SELECT 20 + (i * 37) % 50, ((i * 53) % 101 + (i * 71) % 103)::float8 / 10, substr('abc', 1 + i % 3, 1),
                     CASE WHEN i % 2 = 0 THEN i::float8 / 4 END, i % 4 = 0, i % 5, i % 7, substr('xy', 1 + i % 2, 1)
FROM generate_series(1, 300) i;
CREATE TABLE c (age float8, income float8, city text, tip float8, flag boolean, score float8, code int, new text);
INSERT INTO c SELECT 30 + (i * 29) % 60, ((i * 43) % 101 + (i * 61) % 103 + 15)::float8 / 10, substr('abde', 1 + i % 4, 1),
                     CASE WHEN i % 5 = 0 THEN i::float8 / 4 END, i % 2 = 0,
                     CASE WHEN i % 50 = 0 THEN 'NaN'::float8 WHEN i % 67 = 0 THEN 'Infinity' WHEN i % 97 = 0 THEN '-Infinity'
                          WHEN i % 40 = 0 THEN i % 7 - 10 WHEN i % 30 = 0 THEN i % 7 + 10 ELSE i % 7 END,
                     i, 'n' || i % 3
FROM generate_series(1, 200) i;
-- Stored profiles, as a registry or a monitoring table keeps them.
CREATE TABLE p (w text PRIMARY KEY, p ml_profile);
INSERT INTO p SELECT 'b', ml_profile(b) FROM b;
INSERT INTO p SELECT 'c', ml_profile(c) FROM c;
INSERT INTO p VALUES ('empty', '{"pg_learn_profile":1,"rows":0,"features":[]}');
CREATE FUNCTION pr(name text) RETURNS ml_profile LANGUAGE sql AS $$ SELECT p FROM drift_report.p WHERE w = name $$;

-- ---- ml_drift_report: defaults ------------------------------------------------------------------
-- auto: js for numbers, linf for strings; thresholds js 0.1 / 0.2, linf 0.1 / 0.2. One row per
-- feature of either profile, in name order. NumPy/SciPy on the raw rows: age 0.5304981270522399,
-- city 0.3333333333333333, flag 0.22089576884901735, income 0.18621615256431873 (warn),
-- score 0.17794491210852043 (warn; its 4 NaN are not compared: 196 values), tip
-- 0.4144720185476922 (150 and 40 non-NULL values); code (strings, now numbers), gone (absent
-- now) and new (absent before): no_data.
SELECT feature, kind, method, round(value::numeric, 12) AS value, lower = value AND upper = value AS exact,
       pvalue, warn_threshold, alert_threshold, status, drifted, baseline_count, current_count
FROM ml_drift_report(pr('b'), pr('c'));
SELECT bool_and(abs(value - CASE feature WHEN 'age' THEN 0.5304981270522399 WHEN 'city' THEN 1.0 / 3
                                         WHEN 'flag' THEN 0.22089576884901735 WHEN 'income' THEN 0.18621615256431873
                                         WHEN 'score' THEN 0.17794491210852043 WHEN 'tip' THEN 0.4144720185476922 END) < 1e-12)
       AS values_ok, count(value) AS measured
FROM ml_drift_report(pr('b'), pr('c'));
-- The same values as ml_drift over the features' ml_stats.
SELECT r.feature, r.value = ml_drift(ml_profile_stats(pr('b'), r.feature), ml_profile_stats(pr('c'), r.feature)) AS same
FROM ml_drift_report(pr('b'), pr('c')) r WHERE r.value IS NOT NULL;

-- ---- options ---------------------------------------------------------------------------------------
-- psi everywhere it fits with 5 bins; age by KS (its p-value against alert 0.001), income by
-- Wasserstein with its own thresholds, flag skipped, city's psi thresholds 0.5 / 9. SciPy: age
-- D 0.35, p 3.4101401476979513e-13; city PSI 6.661503396595632 (warn); income W1/sd
-- 0.37172994550619104 (ok at 0.5); score PSI 0.3543752609852273; tip PSI 1.7103746521509062.
SELECT feature, method, round(value::numeric, 12) AS value, pvalue < 1e-12 AS tiny_p, warn_threshold, alert_threshold,
       status, drifted
FROM ml_drift_report(pr('b'), pr('c'), '{"method": "psi", "bins": 5, "js": {"warn": 0.05, "alert": 0.5},
    "features": {"age": {"method": "ks", "alert": 0.001}, "income": {"method": "wasserstein", "warn": 0.5, "alert": 1},
                 "flag": {"skip": true}, "city": {"warn": 0.5, "alert": 9}}}');
SELECT abs(pvalue / 3.4101401476979513e-13 - 1) < 1e-9 AS pvalue_ok, value = 0.35 AS d_ok
FROM ml_drift_report(pr('b'), pr('c'), '{"features": {"age": {"method": "ks"}}}') WHERE feature = 'age';
-- The kind's own method before the global one; thresholds per method.
SELECT feature, method, warn_threshold, alert_threshold, status
FROM ml_drift_report(pr('b'), pr('c'), '{"method": "ks", "categorical_method": "js", "ks": {"warn": 0.2, "alert": 0.1}}')
WHERE feature IN ('age', 'city');

-- ---- identical windows, empty windows, NULL -----------------------------------------------------
SELECT feature, method, value, status, drifted FROM ml_drift_report(pr('b'), pr('b'));
SELECT feature, kind, method, value, status, drifted, baseline_count, current_count FROM ml_drift_report(pr('b'), pr('empty'));
SELECT count(*) AS no_rows FROM ml_drift_report(pr('empty'), pr('empty'));
SELECT count(*) AS null_args FROM ml_drift_report(NULL, pr('c'));
SELECT count(*) AS null_options FROM ml_drift_report(pr('b'), pr('c'), NULL);
-- A feature of only NULLs has no kind, no method and no measure.
SELECT r.* FROM (SELECT ml_profile(t) AS p FROM (SELECT NULL::float8 AS nothing FROM generate_series(1, 3)) t) s,
     ml_drift_report(s.p, s.p) r;

-- ---- many windows against one stored baseline (a monitoring view's shape) -------------------------
-- Windows of 'c' by i % 4; every other row compares with the other baseline, so a cached decode of
-- the wrong baseline would show.
CREATE TABLE win AS
SELECT k, ml_profile(c) AS p FROM (SELECT c.*, row_number() OVER () % 4 AS k FROM c) c GROUP BY k;
SELECT w.k, r.feature, r.status, round(r.value::numeric, 6) AS value,
       r.value = ml_drift(ml_profile_stats(bl.p, r.feature), ml_profile_stats(w.p, r.feature)) AS same_as_ml_drift
FROM win w, LATERAL (SELECT CASE WHEN w.k % 2 = 0 THEN pr('b') ELSE pr('c') END AS p) bl,
     LATERAL ml_drift_report(bl.p, w.p) r
WHERE r.feature IN ('age', 'city') ORDER BY w.k, r.feature;
SELECT bool_and(x.value IS NOT DISTINCT FROM y.value AND x.status = y.status) AS cached_same_as_fresh, count(*)
FROM win w, LATERAL ml_drift_report(pr('b'), w.p) x
JOIN LATERAL (SELECT * FROM ml_drift_report(pr('b'), (SELECT p FROM drift_report.win WHERE k = w.k))) y USING (feature);

-- ---- ml_anomalies: defaults -----------------------------------------------------------------------
-- Exact counts on the raw rows (NumPy): age 70 above the baseline's max 69; city 100 strings not in
-- {a, b, c}; code 200 numbers where the baseline had strings; gone missing (200 rows); income 6
-- above; new (200 rows); score 4 below, 4 above, 4 NaN, 4 infinite; tip 160 rows without a value
-- (presence 0.2 < 0.9 * 0.5).
SELECT feature, anomaly, severity, count, description FROM ml_anomalies(pr('b'), pr('c'));
SELECT detail FROM ml_anomalies(pr('b'), pr('c')) WHERE feature = 'city';
SELECT detail FROM ml_anomalies(pr('b'), pr('c')) WHERE feature = 'score' AND anomaly = 'FLOAT_TYPE_HAS_INF';
SELECT detail FROM ml_anomalies(pr('b'), pr('c')) WHERE feature = 'code';

-- ---- options ---------------------------------------------------------------------------------------
SELECT feature, anomaly, severity, count
FROM ml_anomalies(pr('b'), pr('c'), '{"min_presence_ratio": 0.3, "max_out_of_range_fraction": 0.05, "allow_inf": true,
    "min_rows": 500, "severity": {"SCHEMA_NEW_COLUMN": "off", "FLOAT_TYPE_BIG_FLOAT": "error"},
    "features": {"city": {"max_unexpected_value_fraction": 0.6}, "gone": {"skip": true}}}');
-- Identical windows: nothing; an empty window: NO_DATA_IN_SPAN only; an empty baseline: all new.
SELECT count(*) AS identical FROM ml_anomalies(pr('b'), pr('b'));
SELECT * FROM ml_anomalies(pr('b'), pr('empty'));
SELECT feature, anomaly, count FROM ml_anomalies(pr('empty'), pr('c'));
-- All NULL now: FEATURE_TYPE_NOT_PRESENT.
SELECT a.feature, a.anomaly, a.count, a.detail
FROM (SELECT ml_profile(t) AS p FROM (SELECT NULL::float8 AS tip, age FROM b LIMIT 10) t) s, ml_anomalies(pr('b'), s.p) a
WHERE a.feature = 'tip';

-- ---- jsonb rows: mixed types and nested values -------------------------------------------------------
-- Baseline x: 20 numbers 0..19; current: 6 numbers (one out of range), 2 strings, 1 boolean, 1 object.
SELECT a.feature, a.anomaly, a.count, a.detail -> 'unexpected_types' AS unexpected, a.detail ->> 'current_type' AS now
FROM (SELECT ml_profile(jsonb_build_object('x', i)) AS p FROM generate_series(0, 19) i) bl,
     (SELECT ml_profile(v) AS p FROM (VALUES ('{"x": 1}'::jsonb), ('{"x": 2}'), ('{"x": 3}'), ('{"x": 4}'), ('{"x": 5}'),
                                              ('{"x": 50}'), ('{"x": "a"}'), ('{"x": "b"}'), ('{"x": true}'),
                                              ('{"x": {"y": 1}}')) v(v)) cu,
     ml_anomalies(bl.p, cu.p) a;

-- ---- bad input ---------------------------------------------------------------------------------------
SELECT err($$SELECT * FROM ml_drift_report(drift_report.pr('b'), drift_report.pr('c'), '[]')$$) AS not_object;
SELECT err($$SELECT * FROM ml_drift_report(drift_report.pr('b'), drift_report.pr('c'), '{"threshold": 0.1}')$$) AS unknown_key;
SELECT err($$SELECT * FROM ml_drift_report(drift_report.pr('b'), drift_report.pr('c'), '{"method": "chi2"}')$$) AS unknown_method;
SELECT err($$SELECT * FROM ml_drift_report(drift_report.pr('b'), drift_report.pr('c'), '{"numeric_method": "linf"}')$$) AS wrong_kind;
SELECT err($$SELECT * FROM ml_drift_report(drift_report.pr('b'), drift_report.pr('c'), '{"bins": 0}')$$) AS zero_bins;
SELECT err($$SELECT * FROM ml_drift_report(drift_report.pr('b'), drift_report.pr('c'), '{"psi": {"warn": "0.1"}}')$$) AS string_threshold;
SELECT err($$SELECT * FROM ml_drift_report(drift_report.pr('b'), drift_report.pr('c'), '{"psi": {"warn": 0.5}}')$$) AS warn_above_alert;
SELECT err($$SELECT * FROM ml_drift_report(drift_report.pr('b'), drift_report.pr('c'), '{"ks": {"alert": 2}}')$$) AS pvalue_above_1;
SELECT err($$SELECT * FROM ml_drift_report(drift_report.pr('b'), drift_report.pr('c'), '{"features": {"age": {"skip": "yes"}}}')$$) AS skip_type;
SELECT err($$SELECT * FROM ml_drift_report(drift_report.pr('b'), drift_report.pr('c'), '{"features": {"city": {"method": "ks"}}}')$$) AS ks_on_city;
SELECT err($$SELECT * FROM ml_drift_report(drift_report.pr('b'), drift_report.pr('c'), '{"bins": 1e400}')$$) AS huge_number;
SELECT err($$SELECT * FROM ml_anomalies(drift_report.pr('b'), drift_report.pr('c'), '{"min_presence": 2}')$$) AS presence_above_1;
SELECT err($$SELECT * FROM ml_anomalies(drift_report.pr('b'), drift_report.pr('c'), '{"severity": {"SCHEMA_NEW_COLUMN": "info"}}')$$) AS bad_severity;
SELECT err($$SELECT * FROM ml_anomalies(drift_report.pr('b'), drift_report.pr('c'), '{"severity": {"NEW_COLUMN": "off"}}')$$) AS unknown_anomaly;
SELECT err($$SELECT * FROM ml_anomalies(drift_report.pr('b'), drift_report.pr('c'), '{"features": {"a": {"min_rows": 1}}}')$$) AS feature_key;
SELECT err($$SELECT * FROM ml_anomalies(drift_report.pr('b'), drift_report.pr('c'), '"x"')$$) AS scalar_options;
-- A corrupted profile is refused by its own input function (docs/statistics.md, "Profiles").
SELECT err($$SELECT * FROM ml_anomalies('{"pg_learn_profile":1,"rows":-1,"features":[]}', drift_report.pr('c'))$$) AS bad_profile;

-- ---- declared honestly ------------------------------------------------------------------------------
SELECT p.oid::regprocedure, p.provolatile, p.proisstrict, p.proparallel, p.proretset
FROM pg_proc p WHERE p.proname IN ('ml_drift_report', 'ml_anomalies') ORDER BY p.oid::regprocedure::text;
