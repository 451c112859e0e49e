-- Evaluation metrics as aggregates: every aggregate against scikit-learn 1.2 (the values come from
-- test/reference/metrics_ref.py --sql, which rebuilds these tables), ties, NULLs, empty input,
-- errors with their SQLSTATE, moving windows, the ml_metric_state type, and parallel plans.
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA metrics;
SET search_path = metrics, public;

-- Within relative 1e-9 of a reference value (exact arithmetic here, floating point in sklearn).
CREATE FUNCTION near(got float8, want float8) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT got IS NOT NULL AND abs(got - want) <= 1e-9 * greatest(abs(want), 1e-300)
$$;
CREATE FUNCTION near(got jsonb, want float8[]) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_array_length(got) = cardinality(want)
     AND bool_and(near((got ->> (n - 1)::int)::float8, want[n])) FROM generate_series(1, cardinality(want)) n
$$;

-- Binary classification: s has 1000 distinct scores over 2000 rows (ties), st 11 (heavy ties).
CREATE TABLE cls AS
SELECT i, ((i * 7919) % 1000)::float8 / 1000 AS s, ((i * 7919) % 11)::float8 / 10 AS st,
       (((i * 7919) % 1000) + (i * 104729) % 1009) > 1000 AS y
FROM generate_series(1, 2000) i;
-- Regression: y with a 1e8 offset, and a small-scale y that has zeros (MAPE divides by 2^-52).
CREATE TABLE reg AS
SELECT i, 1e8::float8 + ((i * 7919) % 1000)::float8 / 100 AS y,
       1e8::float8 + ((i * 7919) % 1000)::float8 / 100 + ((i * 104729) % 201 - 100)::float8 / 50 AS pred,
       ((i * 7919) % 1000)::float8 / 100 - 5 AS y0,
       ((i * 7919) % 1000)::float8 / 100 - 5 + ((i * 104729) % 201 - 100)::float8 / 50 AS p0
FROM generate_series(1, 2000) i;

-- ---- binary classification ----------------------------------------------------------------------
-- The AUC is exact (Mann-Whitney, ties 1/2): the rational value rounded once. sklearn's
-- trapezoid sum gives 0.8307579072846621 and 0.5006330227888205, one ulp away.
SELECT ml_auc(s, y) AS auc_s, ml_auc(st, y) AS auc_st, ml_auc(s, y::int) AS auc_int_label FROM cls;
SELECT near(ml_auc(s, y), 0.8307579072846621) AND near(ml_auc(st, y), 0.5006330227888205) AS auc_matches_sklearn FROM cls;
SELECT round(ml_logloss(s, y)::numeric, 12) AS logloss, near(ml_logloss(s, y), 0.5031321776191229) AS s_ok,
       near(ml_logloss(st, y::int), 3.9987579927811745) AS st_ok FROM cls;
-- At 0.5 and 0.3 (score >= threshold is positive); sklearn: accuracy 0.747 / 0.709, precision
-- 0.75 / 0.6514285714285715, recall 0.7455268389662028 / 0.9065606361829026, F1 0.7477567298105684 /
-- 0.7581047381546135.
SELECT ml_accuracy(s >= 0.5, y) AS accuracy, ml_precision(s, y) AS precision, ml_recall(s, y) AS recall,
       ml_f1(s, y) AS f1 FROM cls;
SELECT ml_accuracy(s >= 0.3, y) AS accuracy, ml_precision(s, y, 0.3) AS precision, ml_recall(s, y, 0.3) AS recall,
       ml_f1(s, y::int, 0.3) AS f1 FROM cls;
SELECT near(ml_f1(s, y), 0.7477567298105684) AND near(ml_f1(s, y, 0.3), 0.7581047381546135)
   AND near(ml_recall(s, y::int), 0.7455268389662028) AND near(ml_precision(s, y, 0.3), 0.6514285714285715) AS prf_ok
FROM cls;
-- sklearn confusion_matrix: [[744, 250], [256, 750]] at 0.5, [[506, 488], [94, 912]] at 0.3.
SELECT ml_confusion_matrix(s, y) AS at_05, ml_confusion_matrix(s, y::int, 0.3) AS at_03 FROM cls;
-- sklearn 1.2 roc_curve: the first threshold is max + 1; drop_intermediate drops 0.8, 0.5, 0.3.
SELECT jsonb_pretty(ml_roc_curve(st, y)) FROM cls;
SELECT ml_roc_curve(st, y) -> 'thresholds' = ml_roc_curve(ml_binary_state(st, y), false) -> 'thresholds' AS same_drop,
       ml_roc_curve(ml_binary_state(st, y), false) -> 'thresholds' AS all_thresholds FROM cls;
SELECT near(c -> 'fpr', '{0.0, 0.09054325955734406, 0.18209255533199195, 0.3631790744466801, 0.45472837022132795, 0.635814889336016, 0.8189134808853119, 0.9104627766599598, 1.0}')
   AND near(c -> 'tpr', '{0.0, 0.09145129224652088, 0.18190854870775347, 0.3648111332007952, 0.4552683896620278, 0.6381709741550696, 0.8190854870775348, 0.9085487077534792, 1.0}')
   AND near(c -> 'thresholds', '{2.0, 1.0, 0.9, 0.7, 0.6, 0.4, 0.2, 0.1, 0.0}') AS roc_matches_sklearn
FROM (SELECT ml_roc_curve(st, y) AS c FROM cls) x;
SELECT near(c -> 'precision', '{0.503, 0.502473886750962, 0.503052503052503, 0.5034340659340659, 0.5039246467817896, 0.5036630036630036, 0.5032967032967033, 0.5041208791208791, 0.5036630036630036, 0.5027472527472527, 0.5054945054945055, 1.0}')
   AND near(c -> 'recall', '{1.0, 0.9085487077534792, 0.8190854870775348, 0.7286282306163022, 0.6381709741550696, 0.5467196819085487, 0.4552683896620278, 0.3648111332007952, 0.27335984095427435, 0.18190854870775347, 0.09145129224652088, 0.0}')
   AND near(c -> 'thresholds', '{0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}') AS pr_matches_sklearn,
   jsonb_array_length(c -> 'precision') AS points
FROM (SELECT ml_pr_curve(st, y) AS c FROM cls) x;
-- Calibration, uniform bins (sklearn calibration_curve): counts per bin, and the two curves.
SELECT c -> 'bin' AS bin, c -> 'count' AS count,
       near(c -> 'mean_predicted', '{0.05000000000000002, 0.1505, 0.25049999999999994, 0.3504999999999999, 0.45050000000000007, 0.5505000000000004, 0.6505000000000003, 0.7505000000000002, 0.8504999999999998, 0.9499999999999997}') AS mean_ok,
       near(c -> 'fraction_positive', '{0.054455445544554455, 0.155, 0.26, 0.355, 0.455, 0.555, 0.66, 0.74, 0.855, 0.9494949494949495}') AS fraction_ok
FROM (SELECT ml_calibration(s, y) AS c FROM cls) x;
SELECT ml_calibration(s, y::int, 4) FROM cls;
SELECT near(ml_calibration(s, y, 4) -> 'mean_predicted', '{0.12499999999999999, 0.3755, 0.6255000000000004, 0.8750000000000002}') AS mean_ok FROM cls;

-- Ties by hand: scores 1, 1, 2, 2 with labels 0, 1, 0, 1: one right pair, two ties of four.
SELECT ml_auc(s, y) FROM (VALUES (1, false), (1, true), (2, false), (2, true)) v(s, y);
SELECT ml_auc(s, y) FROM (VALUES (1, 0), (1, 1), (2, 0), (2, 1), (3, 1)) v(s, y);
SELECT ml_roc_curve(s, y), ml_pr_curve(s, y) FROM (VALUES (1, 0), (1, 1), (2, 0), (2, 1), (3, 1)) v(s, y);

-- ---- regression ---------------------------------------------------------------------------------
-- sklearn with the 1e8 offset: mae 1.0035099999979138, rmse 1.1592817603566992,
-- r2 0.8387277347393246, mape 1.0035099498086323e-08, mean(pred - y) -0.004490000002086163.
SELECT round(ml_mae(pred, y)::numeric, 9) AS mae, round(ml_rmse(pred, y)::numeric, 9) AS rmse,
       round(ml_r2(pred, y)::numeric, 9) AS r2, ml_mape(pred, y) < 1.1e-8 AS mape_small,
       round(ml_mean_error(pred, y)::numeric, 9) AS mean_error FROM reg;
SELECT near(ml_mae(pred, y), 1.0035099999979138) AND near(ml_rmse(pred, y), 1.1592817603566992)
   AND near(ml_r2(pred, y), 0.8387277347393246) AND near(ml_mape(pred, y), 1.0035099498086323e-08)
   AND near(ml_mean_error(pred, y), -0.004490000002086163) AS offset_matches_sklearn FROM reg;
-- Without the offset; y = 0 on two rows, where MAPE divides by 2^-52 as sklearn's does.
SELECT near(ml_mae(p0, y0), 1.00351) AND near(ml_rmse(p0, y0), 1.159281760401672)
   AND near(ml_r2(p0, y0), 0.8387277347277347) AND near(ml_mape(p0, y0), 5494391545393.358)
   AND near(ml_mean_error(p0, y0), -0.004489999999999996) AS small_matches_sklearn,
   count(*) FILTER (WHERE y0 = 0) AS zeros FROM reg;
-- By hand: errors 2, -1, 0 on y = 1, 2, 4: MAE 1, mean error 1/3, RMSE sqrt(5/3), R^2 = 1 - 45/42.
SELECT ml_mae(p, y), ml_mean_error(p, y), ml_rmse(p, y) = sqrt(5.0 / 3) AS rmse_ok, ml_r2(p, y) = 1 - 45.0 / 42 AS r2_ok,
       ml_mape(p, y) = (2.0 + 0.5) / 3 AS mape_ok
FROM (VALUES (3, 1), (1, 2), (4, 4)) v(p, y);
-- Constant y: R^2 is 1 when every prediction is exact, otherwise 0 (sklearn's force_finite).
SELECT ml_r2(p, y) AS off, ml_r2(y, y) AS exact FROM (VALUES (1.0, 0.5), (0.5, 0.5), (0.25, 0.5)) v(p, y);
-- Huge magnitudes: squares beyond the double range are held exactly (1e200^2 = 1e400).
SELECT ml_r2(p, y), round((ml_rmse(p, y) / 1e199)::numeric, 12) AS rmse_scaled FROM (VALUES (1.1e200, 1e200), (-0.9e200, -1e200)) v(p, y);

-- ---- ml_accuracy over any type ------------------------------------------------------------------
SELECT ml_accuracy(a, b) FROM (VALUES ('cat', 'cat'), ('dog', 'cat'), ('cat', NULL), (NULL, 'dog')) v(a, b);
SELECT ml_accuracy(a, b) FROM (VALUES (1, 1.0), (2, 2.5), (3, 3)) v(a, b);  -- int and numeric meet as numeric
SELECT ml_accuracy(a, b) FROM (VALUES (ARRAY[1, 2], ARRAY[1, 2]), (ARRAY[1], ARRAY[2])) v(a, b);
SELECT ml_accuracy(a, b) FROM (VALUES (point(1, 1), point(1, 1))) v(a, b);
\echo :LAST_ERROR_SQLSTATE

-- ---- NULLs are skipped; no rows (or only NULLs) give NULL -----------------------------------------
CREATE TABLE cls_nulls AS
SELECT s, y FROM cls UNION ALL VALUES (NULL, true), (0.5, NULL), (NULL, NULL);
SELECT (SELECT ml_auc(s, y) FROM cls_nulls) = (SELECT ml_auc(s, y) FROM cls) AS auc,
       (SELECT ml_logloss(s, y) FROM cls_nulls) = (SELECT ml_logloss(s, y) FROM cls) AS logloss,
       (SELECT ml_f1(s, y, 0.3) FROM cls_nulls) = (SELECT ml_f1(s, y, 0.3) FROM cls) AS f1,
       (SELECT ml_calibration(s, y) FROM cls_nulls) = (SELECT ml_calibration(s, y) FROM cls) AS calibration,
       (SELECT ml_metric_count(ml_binary_state(s, y)) FROM cls_nulls) AS rows_held;
SELECT ml_mae(p, y), ml_r2(p, y), ml_metric_count(ml_regression_state(p, y))
FROM (VALUES (1.0, 2.0), (NULL, 5.0), (3.0, NULL), (2.0, 2.0)) v(p, y);
SELECT ml_auc(s, y) AS auc, ml_logloss(s, y) AS logloss, ml_precision(s, y) AS precision, ml_recall(s, y, 0.3) AS recall,
       ml_f1(s, y) AS f1, ml_confusion_matrix(s, y) AS cm, ml_roc_curve(s, y) AS roc, ml_pr_curve(s, y) AS pr,
       ml_calibration(s, y) AS cal, ml_binary_state(s, y) AS state, ml_accuracy(s, s) AS accuracy
FROM cls WHERE false;
SELECT ml_mae(p, y), ml_rmse(p, y), ml_r2(p, y), ml_mape(p, y), ml_mean_error(p, y), ml_regression_state(p, y)
FROM (VALUES (NULL::float8, 1.0::float8), (2.0, NULL)) v(p, y);
-- Undefined metrics: one class (AUC, ROC), nothing predicted positive (precision), no positives
-- (recall), one row (R^2). The log loss and the PR curve stay defined, as in sklearn.
SELECT ml_auc(s, true) AS auc, ml_roc_curve(s, true) AS roc, ml_logloss(s, true) IS NOT NULL AS logloss,
       ml_pr_curve(s, false) -> 'recall' -> 0 AS pr_recall_no_positives FROM cls;
SELECT ml_precision(s, y, 2) AS precision, ml_recall(s, false) AS recall, ml_f1(0.1, false) AS f1_all_true_negatives FROM cls;
SELECT ml_r2(1, 2) AS one_row, ml_mae(1, 2) AS mae_one_row;

-- ---- errors -------------------------------------------------------------------------------------
SELECT ml_auc(s, 2) FROM (VALUES (0.5)) v(s);                      -- label not 0/1
\echo :LAST_ERROR_SQLSTATE
SELECT ml_auc(s, true) FROM (VALUES ('NaN'::float8)) v(s);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_roc_curve(s, true) FROM (VALUES ('-Infinity'::float8)) v(s);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_mae(p, 1) FROM (VALUES ('Infinity'::float8)) v(p);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_logloss(1.5, true);                                      -- not a probability
\echo :LAST_ERROR_SQLSTATE
SELECT ml_calibration(-0.1, true);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_calibration(0.5, true, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_precision(0.5, true, 'NaN');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_precision(0.5, true, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_recall(s, true, t) FROM (VALUES (0.1, 0.5), (0.2, 0.6)) v(s, t);  -- the threshold must not vary
\echo :LAST_ERROR_SQLSTATE
SELECT ml_auc(0.5, 1::bigint);                                     -- int and boolean labels only
\echo :LAST_ERROR_SQLSTATE
SELECT ml_metric_ranking_transition(NULL, 0.5, true);              -- outside an aggregate
\echo :LAST_ERROR_SQLSTATE

-- ---- moving windows: inverse transitions give the plain aggregate over every frame ----------------
-- Every metric aggregate has a combine function, is parallel safe, and (but for the state
-- builders) has a moving-aggregate implementation with an inverse transition.
SELECT aggfnoid::regprocedure AS aggregate, aggtranstype::regtype AS state, aggcombinefn <> 0 AS combine,
       aggminvtransfn <> 0 AS inverse, aggmtranstype::regtype AS moving_state, p.proparallel AS parallel
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE aggtranstype = 'ml_metric_state'::regtype ORDER BY aggfnoid::regprocedure::text;
-- Frames of 50 rows over 300 rows with NULLs and one-class stretches, compared with the plain
-- aggregate over the same rows (LATERAL), value by value.
CREATE TABLE win AS
SELECT i, CASE WHEN i % 17 = 0 THEN NULL ELSE ((i * 7919) % 100)::float8 / 100 END AS s,
       CASE WHEN i % 23 = 0 THEN NULL WHEN i BETWEEN 120 AND 200 THEN true ELSE (i * 104729) % 7 < 3 END AS y,
       (i * 7919 % 13)::float8 + 1 AS p, (i * 104729 % 11)::float8 + 1e8 AS t
FROM generate_series(1, 300) i;
SELECT count(*) AS frames,
       count(*) FILTER (WHERE w.auc IS NOT DISTINCT FROM f.auc) AS auc,
       count(*) FILTER (WHERE w.roc IS NOT DISTINCT FROM f.roc) AS roc,
       count(*) FILTER (WHERE w.pr IS NOT DISTINCT FROM f.pr) AS pr,
       count(*) FILTER (WHERE w.logloss IS NOT DISTINCT FROM f.logloss) AS logloss,
       count(*) FILTER (WHERE w.f1 IS NOT DISTINCT FROM f.f1) AS f1,
       count(*) FILTER (WHERE w.cm IS NOT DISTINCT FROM f.cm) AS cm,
       count(*) FILTER (WHERE w.cal IS NOT DISTINCT FROM f.cal) AS cal,
       count(*) FILTER (WHERE w.acc IS NOT DISTINCT FROM f.acc) AS acc,
       count(*) FILTER (WHERE w.auc IS NULL) AS undefined_auc
FROM (SELECT i, ml_auc(s, y) OVER w AS auc, ml_roc_curve(s, y) OVER w AS roc, ml_pr_curve(s, y) OVER w AS pr,
             ml_logloss(s, y) OVER w AS logloss, ml_f1(s, y::int, 0.4) OVER w AS f1,
             ml_confusion_matrix(s, y) OVER w AS cm, ml_calibration(s, y, 5) OVER w AS cal,
             ml_accuracy(s >= 0.5, y) OVER w AS acc
      FROM win WINDOW w AS (ORDER BY i ROWS BETWEEN 49 PRECEDING AND CURRENT ROW)) w
JOIN LATERAL (SELECT ml_auc(s, y) AS auc, ml_roc_curve(s, y) AS roc, ml_pr_curve(s, y) AS pr, ml_logloss(s, y) AS logloss,
                     ml_f1(s, y::int, 0.4) AS f1, ml_confusion_matrix(s, y) AS cm, ml_calibration(s, y, 5) AS cal,
                     ml_accuracy(s >= 0.5, y) AS acc
              FROM win WHERE win.i BETWEEN w.i - 49 AND w.i) f ON true;
-- Regression sums are exact, so the window's values equal the plain aggregate's bit for bit.
SELECT count(*) AS frames,
       count(*) FILTER (WHERE w.mae = f.mae AND w.rmse = f.rmse AND w.r2 IS NOT DISTINCT FROM f.r2
                          AND w.mape = f.mape AND w.me = f.me) AS equal,
       count(*) FILTER (WHERE w.r2 IS NULL) AS undefined_r2
FROM (SELECT i, ml_mae(p, t) OVER w AS mae, ml_rmse(p, t) OVER w AS rmse, ml_r2(p, t) OVER w AS r2,
             ml_mape(p, t) OVER w AS mape, ml_mean_error(p, t) OVER w AS me
      FROM win WINDOW w AS (ORDER BY i ROWS BETWEEN 49 PRECEDING AND CURRENT ROW)) w
JOIN LATERAL (SELECT ml_mae(p, t) AS mae, ml_rmse(p, t) AS rmse, ml_r2(p, t) AS r2, ml_mape(p, t) AS mape,
                     ml_mean_error(p, t) AS me
              FROM win WHERE win.i BETWEEN w.i - 49 AND w.i) f ON true;
-- Running (cumulative) windows and partitions reuse the plain state read-only.
SELECT count(*) FILTER (WHERE w.auc IS NOT DISTINCT FROM f.auc AND w.mae = f.mae) AS equal, count(*) AS frames
FROM (SELECT i, ml_auc(s, y) OVER w AS auc, ml_mae(p, t) OVER w AS mae
      FROM win WINDOW w AS (PARTITION BY i % 3 ORDER BY i)) w
JOIN LATERAL (SELECT ml_auc(s, y) AS auc, ml_mae(p, t) AS mae FROM win
              WHERE win.i <= w.i AND win.i % 3 = w.i % 3) f ON true;
SELECT i, ml_auc(s, y) OVER w AS auc, ml_mean_error(p, t) OVER w AS mean_error
FROM win WINDOW w AS (ORDER BY i ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) ORDER BY i LIMIT 6;

-- ---- the state type: text and binary forms, accessors, roll-ups, validation -----------------------
CREATE TABLE states AS
SELECT 'binary' AS what, ml_binary_state(st, y) AS state FROM cls
UNION ALL SELECT 'regression', ml_regression_state(pred, y) FROM reg
UNION ALL SELECT 'confusion', '{"version":1,"kind":"confusion","threshold":0.5,"tp":3,"fp":1,"tn":5,"fn":2}'
UNION ALL SELECT 'logloss', '{"version":1,"kind":"logloss","count":2,"positives":1,"sum":"0x3p-1"}'
UNION ALL SELECT 'calibration', '{"version":1,"kind":"calibration","bins":2,"count":[1,2],"positives":[0,2],"sum":["0x1p-2","0x7p-2"]}'
UNION ALL SELECT 'equality', '{"version":1,"kind":"equality","equal":2,"total":3}';
SELECT what, ml_metric_kind(state), ml_metric_count(state),
       state::text::ml_metric_state::text = state::text AS text_round_trip,
       ml_metric_state_from_bytes(ml_metric_state_bytes(state))::text = state::text AS binary_round_trip,
       length(ml_metric_state_bytes(state)) AS bytes
FROM states ORDER BY what;
SELECT state FROM states WHERE what IN ('regression', 'confusion', 'logloss', 'calibration', 'equality') ORDER BY what;
-- Binary round trip through send/recv, as COPY BINARY does it.
CREATE TEMP TABLE states_copy (LIKE states);
COPY states TO '/tmp/pg_learn_metrics_states.bin' WITH (FORMAT binary);
COPY states_copy FROM '/tmp/pg_learn_metrics_states.bin' WITH (FORMAT binary);
SELECT count(*) AS copied, bool_and(a.state::text = b.state::text) AS identical
FROM states a JOIN states_copy b USING (what);
-- Accessors on a ranking state give every binary metric, at any threshold or bin count.
SELECT ml_auc(state) = (SELECT ml_auc(st, y) FROM cls) AS auc,
       ml_f1(state, 0.3) = (SELECT ml_f1(st, y, 0.3) FROM cls) AS f1,
       ml_precision(state) = (SELECT ml_precision(st, y) FROM cls) AS precision,
       ml_accuracy(state, 0.7) = (SELECT ml_accuracy(st >= 0.7, y) FROM cls) AS accuracy,
       ml_logloss(state) = (SELECT ml_logloss(st, y) FROM cls) AS logloss,
       ml_calibration(state, 3) = (SELECT ml_calibration(st, y, 3) FROM cls) AS calibration,
       ml_roc_curve(state) = (SELECT ml_roc_curve(st, y) FROM cls) AS roc,
       ml_pr_curve(state) = (SELECT ml_pr_curve(st, y) FROM cls) AS pr
FROM states WHERE what = 'binary';
SELECT ml_mae(state), ml_r2(state) = (SELECT ml_r2(pred, y) FROM reg) AS r2 FROM states WHERE what = 'regression';
SELECT ml_precision(state) AS precision, ml_recall(state, 0.5) AS recall, ml_accuracy(state) AS accuracy,
       ml_confusion_matrix(state) FROM states WHERE what = 'confusion';
SELECT ml_logloss(state) FROM states WHERE what = 'logloss';
SELECT ml_calibration(state) FROM states WHERE what = 'calibration';
SELECT ml_accuracy(state) FROM states WHERE what = 'equality';
-- Roll-up: per-group states merge to the state of all rows.
SELECT ml_metric_merge(state)::text = (SELECT ml_binary_state(s, y)::text FROM cls) AS binary_rollup
FROM (SELECT i % 7 AS g, ml_binary_state(s, y) AS state FROM cls GROUP BY 1) x;
SELECT ml_metric_merge(state)::text = (SELECT ml_regression_state(pred, y)::text FROM reg) AS regression_rollup
FROM (SELECT i % 5 AS g, ml_regression_state(pred, y) AS state FROM reg GROUP BY 1) x;
-- Kinds, thresholds and bin counts must agree.
SELECT ml_auc(state) FROM states WHERE what = 'regression';
\echo :LAST_ERROR_SQLSTATE
SELECT ml_precision(state, 0.7) FROM states WHERE what = 'confusion';
\echo :LAST_ERROR_SQLSTATE
SELECT ml_calibration(state, 3) FROM states WHERE what = 'calibration';
\echo :LAST_ERROR_SQLSTATE
SELECT ml_metric_merge(state) FROM states WHERE what IN ('binary', 'regression');
\echo :LAST_ERROR_SQLSTATE
-- Malformed text (22P02) and inconsistent content (22023).
SELECT 'nonsense'::ml_metric_state;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"version":1,"kind":"equality","equal":1}'::ml_metric_state;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"version":1,"kind":"regression","count":0,"sum_error":"0x1p0","sum_abs_error":"0x1p0","sum_squared_error":"0","sum_ape":"0","ape_infinite":0,"sum_y":"0","sum_y2":"0"}'::ml_metric_state;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"version":1,"kind":"ranking","positives":1,"negatives":1,"scores":[[0.2,1,0],[0.1,0,1]]}'::ml_metric_state;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"version":1,"kind":"logloss","count":1,"positives":0,"sum":"0x1p99"}'::ml_metric_state;
\echo :LAST_ERROR_SQLSTATE
-- Corrupted binary (22P03): every single-bit flip of every byte, and every truncation.
CREATE FUNCTION from_bytes_sqlstate(b bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ml_metric_state_from_bytes(b);
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
SELECT what, from_bytes_sqlstate(set_byte(b, n, get_byte(b, n) # (1 << (n % 8)))) AS flipped, count(*)
FROM (SELECT what, ml_metric_state_bytes(state) AS b FROM states) x, generate_series(0, length(b) - 1) n
GROUP BY 1, 2 ORDER BY 1, 2;
SELECT what, from_bytes_sqlstate(substr(b, 1, n)) AS truncated, count(*)
FROM (SELECT what, ml_metric_state_bytes(state) AS b FROM states) x, generate_series(0, length(b) - 1) n
GROUP BY 1, 2 ORDER BY 1, 2;
SELECT ml_metric_state_from_bytes('\x504c4d5301000200'::bytea);
\echo :LAST_ERROR_SQLSTATE

-- ---- parallel: partial aggregates, and the same result as one process -------------------------------
CREATE TABLE big AS
SELECT i, ((i * 7919) % 10007)::float8 / 10007 AS s, (i * 104729) % 7 < 3 AS y,
       (i % 1000)::float8 + 1e6 AS t, (i % 1000)::float8 + 1e6 + ((i * 7919) % 101 - 50)::float8 / 10 AS p
FROM generate_series(1, 60000::bigint) i;
ANALYZE big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT ml_auc(s, y) FROM big;
EXPLAIN (COSTS OFF) SELECT ml_mae(p, t) FROM big;
EXPLAIN (COSTS OFF) SELECT ml_f1(s, y, 0.4), ml_calibration(s, y), ml_logloss(s, y), ml_accuracy(s > 0.5, y),
       ml_binary_state(s, y), ml_r2(p, t) FROM big;
CREATE FUNCTION workers_launched(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'Workers Launched' THEN RETURN trim(line); END IF;
  END LOOP;
  RETURN 'no workers';
END $$;
SELECT workers_launched('SELECT ml_auc(s, y), ml_mae(p, t) FROM big');
CREATE TABLE parallel_result AS
SELECT ml_auc(s, y) AS auc, ml_binary_state(s, y)::text AS bstate, ml_regression_state(p, t)::text AS rstate,
       ml_mae(p, t) AS mae, ml_r2(p, t) AS r2, ml_f1(s, y, 0.4) AS f1, ml_logloss(s, y) AS logloss,
       ml_calibration(s, y) AS cal, ml_accuracy(s > 0.5, y) AS acc
FROM big;
SET max_parallel_workers_per_gather = 0;
SELECT p.auc = s.auc AS auc, p.bstate = s.bstate AS binary_state, p.rstate = s.rstate AS regression_state,
       p.mae = s.mae AS mae, p.r2 = s.r2 AS r2, p.f1 = s.f1 AS f1, p.logloss = s.logloss AS logloss,
       p.cal = s.cal AS calibration, p.acc = s.acc AS accuracy, round(s.auc::numeric, 6) AS auc_value
FROM parallel_result p,
     (SELECT ml_auc(s, y) AS auc, ml_binary_state(s, y)::text AS bstate, ml_regression_state(p, t)::text AS rstate,
             ml_mae(p, t) AS mae, ml_r2(p, t) AS r2, ml_f1(s, y, 0.4) AS f1, ml_logloss(s, y) AS logloss,
             ml_calibration(s, y) AS cal, ml_accuracy(s > 0.5, y) AS acc FROM big) s;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
