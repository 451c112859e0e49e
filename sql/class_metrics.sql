-- Multiclass metrics: ml_class_state over (actual, predicted) and (actual, probabilities), every
-- metric against scikit-learn 1.2 (values from test/reference/class_metrics_ref.py --sql, which
-- rebuilds the table mc), NULLs, moving windows, roll-ups, the ml_class_metric_state type in both
-- forms, parallel plans, and every error with its SQLSTATE.
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA class_metrics;
SET search_path = class_metrics, public;

CREATE FUNCTION near(got float8, want float8) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT got IS NOT NULL AND abs(got - want) <= 1e-12 * greatest(abs(want), 1)
$$;

-- Actual classes bird, cat, dog, fish; fish is never predicted, eel is predicted but never
-- actual. proba gives the predicted class p = top / 10 (0.5 .. 0.9) and one other class the rest:
-- at 0.5 the two tie and the first in byte order wins (argmax below).
CREATE TABLE mc AS
WITH base AS (
  SELECT i, (ARRAY['bird', 'cat', 'dog', 'fish'])[1 + (i * 7919) % 4] AS actual,
         (i * 104729) % 10 AS k, 5 + (i * 31) % 5 AS top
  FROM generate_series(1, 2000) i
), p AS (
  SELECT i, actual, top,
         CASE WHEN k < 6 AND actual <> 'fish' THEN actual WHEN k < 8 THEN 'eel'
              ELSE (ARRAY['bird', 'cat', 'dog'])[1 + i % 3] END AS pred
  FROM base
), o AS (
  SELECT *, CASE WHEN actual <> pred THEN actual WHEN pred <> 'dog' THEN 'dog' ELSE 'cat' END AS other FROM p
)
SELECT i, actual,
       CASE WHEN top = 5 AND other COLLATE "C" < pred COLLATE "C" THEN other ELSE pred END AS argmax,
       jsonb_build_object(pred, top / 10.0, other, (10 - top) / 10.0) AS proba
FROM o;

-- ---- happy paths ----------------------------------------------------------------------------------
CREATE TABLE states AS
SELECT 'labels' AS what, ml_class_state(actual, argmax) AS state FROM mc
UNION ALL SELECT 'proba', ml_class_state(actual, proba) FROM mc;
-- sklearn: accuracy 0.4505, log_loss 0.9781863740917109 (labels = every class, eps = 2^-52).
SELECT what, ml_metric_count(state) AS rows, ml_accuracy(state) AS accuracy,
       round(ml_logloss(state)::numeric, 12) AS logloss, near(ml_logloss(state), 0.9781863740917109) AS logloss_ok
FROM states ORDER BY what;
-- sklearn precision_recall_fscore_support, average macro / micro / weighted.
SELECT what, avg,
       round(ml_precision(state, avg)::numeric, 12) AS precision, round(ml_recall(state, avg)::numeric, 12) AS recall,
       round(ml_f1(state, avg)::numeric, 12) AS f1,
       near(ml_precision(state, avg), want[1]) AND near(ml_recall(state, avg), want[2])
          AND near(ml_f1(state, avg), want[3]) AS matches_sklearn
FROM states, (VALUES ('macro', ARRAY[0.4193453734848611, 0.3604, 0.3843690345936864]),
                     ('micro', ARRAY[0.4505, 0.4505, 0.4505]),
                     ('weighted', ARRAY[0.5241817168560764, 0.4505, 0.4804612932421079])) v(avg, want)
ORDER BY what, avg;
-- The default average is macro.
SELECT ml_precision(state) = ml_precision(state, 'macro') AS p, ml_recall(state) = ml_recall(state, 'macro') AS r,
       ml_f1(state) = ml_f1(state, 'macro') AS f FROM states WHERE what = 'proba';
-- Per class (eel: never actual, support 0; fish: never predicted): sklearn gives bird
-- 0.7713625866050808 / 0.668 / 0.7159699892818864, cat 0.624765478424015 / 0.666 / 0.6447241045498547,
-- dog 0.7005988023952096 / 0.468 / 0.5611510791366906.
SELECT class, round("precision"::numeric, 12) AS precision, round(recall::numeric, 12) AS recall,
       round(f1::numeric, 12) AS f1, support
FROM states, ml_class_report(state) WHERE what = 'proba';
SELECT (SELECT array_agg(r ORDER BY r.class) FROM ml_class_report(l.state) r)
     = (SELECT array_agg(r ORDER BY r.class) FROM ml_class_report(p.state) r) AS same_report
FROM states l, states p WHERE l.what = 'labels' AND p.what = 'proba';
-- sklearn confusion_matrix, non-zero cells.
SELECT cm.* FROM states, ml_confusion_matrix(state) cm WHERE what = 'proba';
SELECT (SELECT array_agg(c) FROM ml_confusion_matrix(l.state) c) = (SELECT array_agg(c) FROM ml_confusion_matrix(p.state) c)
       AS same_matrix
FROM states l, states p WHERE l.what = 'labels' AND p.what = 'proba';

-- The one-call aggregates: ml_f1(actual, predicted, average), and the existing ml_accuracy over
-- any type (text classes included) agrees with the state.
SELECT ml_f1(actual, argmax, 'macro') = (SELECT ml_f1(state, 'macro') FROM states WHERE what = 'labels') AS macro,
       ml_f1(actual, argmax, 'micro') = (SELECT ml_f1(state, 'micro') FROM states WHERE what = 'labels') AS micro,
       ml_f1(actual, argmax, 'weighted') = (SELECT ml_f1(state, 'weighted') FROM states WHERE what = 'labels') AS weighted,
       ml_accuracy(argmax, actual) = (SELECT ml_accuracy(state) FROM states WHERE what = 'labels') AS accuracy
FROM mc;
-- Overload resolution: the binary aggregates still take (score, label[, threshold]); unknown
-- literals go to the text one. (ml_accuracy of two unknown literals was already ambiguous
-- between ml_accuracy(ml_metric_state, float8) and ml_accuracy(anycompatible, anycompatible).)
SELECT ml_f1(0.7, true) AS binary_f1, ml_f1(0.7, true, 0.5) AS binary_f1_threshold, ml_f1(0.7, 1) AS binary_f1_int,
       ml_f1('cat', 'cat', 'micro') AS class_f1, ml_accuracy('cat'::text, 'dog') AS text_accuracy;
SELECT p.oid::regprocedure AS function, p.prokind, p.provolatile, p.proparallel, p.proisstrict
FROM pg_proc p WHERE 'ml_class_metric_state'::regtype = ANY (p.proargtypes) AND p.proname !~ '^ml_class_(transition|inverse|proba|combine|merge|state_final|f1_final)'
ORDER BY p.oid::regprocedure::text;
SELECT aggfnoid::regprocedure AS aggregate, aggcombinefn <> 0 AS combine, aggminvtransfn <> 0 AS inverse,
       aggmtranstype::regtype AS moving_state, p.proparallel AS parallel
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE aggtranstype = 'ml_class_metric_state'::regtype ORDER BY aggfnoid::regprocedure::text;

-- Small cases by hand: ties go to the first class in byte order; a class missing from the
-- probabilities has p = 0, clipped to 2^-52 (-log(2^-52) = 36.04365338911715).
SELECT ml_confusion_matrix(ml_class_state(a, p)) FROM (VALUES
  ('cat', '{"dog": 0.4, "cat": 0.4, "bird": 0.2}'::jsonb), ('Zebra', '{"zebra": 0.5, "Zebra": 0.5}')) v(a, p);
SELECT ml_logloss(ml_class_state(a, p)) AS missing_class, ml_accuracy(ml_class_state(a, p)) AS accuracy
FROM (VALUES ('eel', '{"cat": 1}'::jsonb)) v(a, p);
-- p = 1 is clipped to 1 - 2^-52 too, as sklearn: -log(1 - 2^-52) = 2.2e-16.
SELECT ml_logloss(ml_class_state(a, p)) AS certain_and_right FROM (VALUES ('cat', '{"cat": 1}'::jsonb)) v(a, p);
-- Multibyte names sort by bytes (C collation order): Z < a < Ä < é.
SELECT class, support FROM ml_class_report((SELECT ml_class_state(a, a) FROM unnest(ARRAY['é', 'a', 'Ä', 'Z']) a));

-- ---- NULLs are skipped; no rows give NULL ------------------------------------------------------------
SELECT ml_metric_count(ml_class_state(a, p)) AS rows, ml_accuracy(ml_class_state(a, p)) AS accuracy
FROM (VALUES ('cat', 'cat'), (NULL, 'dog'), ('dog', NULL), ('dog', 'cat')) v(a, p);
SELECT ml_metric_count(ml_class_state(a, p::jsonb)) AS rows, ml_logloss(ml_class_state(a, p::jsonb)) IS NOT NULL AS logloss
FROM (VALUES ('cat', '{"cat": 0.5, "dog": 0.5}'), (NULL, '{"cat": 1}'), ('dog', NULL)) v(a, p);
SELECT ml_class_state(actual, argmax) AS state, ml_f1(actual, argmax, 'macro') AS f1 FROM mc WHERE false;
SELECT ml_accuracy(s), ml_logloss(s), ml_precision(s), ml_recall(s, 'micro'), ml_f1(s, 'weighted'), ml_metric_count(s),
       (SELECT count(*) FROM ml_confusion_matrix(s)) AS cells, (SELECT count(*) FROM ml_class_report(s)) AS classes
FROM (SELECT ml_class_state(a, p) AS s FROM (VALUES (NULL::text, NULL::jsonb)) v(a, p)) x;
-- A state built from predicted classes has no log loss.
SELECT ml_logloss(state) FROM states WHERE what = 'labels';

-- ---- moving windows: inverse transitions give the plain aggregate over every frame ----------------------
SELECT count(*) AS frames,
       count(*) FILTER (WHERE w.state::text = (SELECT ml_class_state(m2.actual, m2.proba)::text FROM mc m2
                                                WHERE m2.i BETWEEN w.i - 9 AND w.i)) AS proba_frames_equal,
       count(*) FILTER (WHERE w.f1 = (SELECT ml_f1(m2.actual, m2.argmax, 'weighted') FROM mc m2
                                       WHERE m2.i BETWEEN w.i - 9 AND w.i)) AS f1_frames_equal
FROM (SELECT i, ml_class_state(actual, proba) OVER win AS state, ml_f1(actual, argmax, 'weighted') OVER win AS f1
      FROM mc WHERE i <= 300 WINDOW win AS (ORDER BY i ROWS BETWEEN 9 PRECEDING AND CURRENT ROW)) w;
SELECT i, ml_accuracy(ml_class_state(actual, argmax) OVER (ORDER BY i ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)) AS rolling_accuracy
FROM mc WHERE i <= 6;

-- ---- the type: text and binary forms, roll-ups ------------------------------------------------------------
SELECT ml_class_state(a, p::jsonb) AS state FROM (VALUES ('cat', '{"cat": 0.75, "dog": 0.25}'), ('dog', '{"cat": 0.5, "dog": 0.5}')) v(a, p);
SELECT ml_f1(ml_class_state(a, p), 'micro') AS f1, ml_class_state(a, p) AS state
FROM (VALUES ('b', 'a'), ('a', 'a')) v(a, p);
SELECT what, state::text::ml_class_metric_state::text = state::text AS text_round_trip,
       ml_class_metric_state_from_bytes(ml_class_metric_state_bytes(state))::text = state::text AS binary_round_trip,
       ml_class_metric_state_bytes(ml_class_metric_state_from_bytes(ml_class_metric_state_bytes(state)))
         = ml_class_metric_state_bytes(state) AS same_bytes
FROM states ORDER BY what;
-- Binary COPY uses send/recv.
CREATE TABLE stored (what text, state ml_class_metric_state);
INSERT INTO stored SELECT * FROM states;
SELECT s.what, s.state::text = t.state::text AS stored_equal FROM stored s JOIN states t USING (what) ORDER BY 1;
-- Per-group states roll up to the state of all rows; labels and probabilities do not mix.
SELECT ml_metric_merge(state)::text = (SELECT state::text FROM states WHERE what = 'proba') AS proba_rollup
FROM (SELECT i % 7, ml_class_state(actual, proba) AS state FROM mc GROUP BY 1) x;
SELECT ml_metric_merge(state)::text = (SELECT state::text FROM states WHERE what = 'labels') AS labels_rollup
FROM (SELECT i % 5, ml_class_state(actual, argmax) AS state FROM mc GROUP BY 1) x;
SELECT ml_metric_merge(state) FROM states;
\echo :LAST_ERROR_SQLSTATE

-- ---- errors -------------------------------------------------------------------------------------------
SELECT ml_class_state('', 'cat');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_class_state('cat', '');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_class_state('cat', '{"": 1}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_class_state('cat', '[0.5, 0.5]'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_class_state('cat', '0.5'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_class_state('cat', '{}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_class_state('cat', '{"cat": "0.9"}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_class_state('cat', '{"cat": "NaN"}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_class_state('cat', '{"cat": null}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_class_state('cat', '{"cat": {"p": 1}}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_class_state('cat', '{"cat": -0.1, "dog": 1}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_class_state('cat', '{"cat": 1.5}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_f1(state, 'samples') FROM states WHERE what = 'proba';
\echo :LAST_ERROR_SQLSTATE
SELECT ml_precision(state, 'Macro') FROM states WHERE what = 'proba';
\echo :LAST_ERROR_SQLSTATE
SELECT ml_f1(a, p, 'binary') FROM (VALUES ('a', 'b')) v(a, p);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_f1(a, p, NULL) FROM (VALUES ('a', 'b')) v(a, p);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_f1(a, p, avg) FROM (VALUES ('a', 'b', 'macro'), ('a', 'a', 'micro')) v(a, p, avg);  -- must not vary
\echo :LAST_ERROR_SQLSTATE
SELECT ml_f1(state, NULL) IS NULL AS strict_null FROM states WHERE what = 'proba';
-- Too many classes (54000).
SELECT ml_metric_count(ml_class_state(i::text, i::text)) FROM generate_series(1, 10001) i;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_metric_count(ml_class_state(i::text, i::text)) FROM generate_series(1, 10000) i;
-- Outside an aggregate.
SELECT ml_class_transition(NULL, 'a', 'b');
\echo :LAST_ERROR_SQLSTATE
-- Malformed text (22P02), a newer version (22P02), inconsistent content (22023).
SELECT 'nonsense'::ml_class_metric_state;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"version":2,"proba":false,"count":0,"classes":[],"cells":[],"logloss_sum":"0"}'::ml_class_metric_state;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"version":1,"proba":false,"count":1,"classes":["b","a"],"cells":[[0,1,1]],"logloss_sum":"0"}'::ml_class_metric_state;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"version":1,"proba":false,"count":2,"classes":["a","b"],"cells":[[0,1,1]],"logloss_sum":"0"}'::ml_class_metric_state;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"version":1,"proba":false,"count":1,"classes":["a","b","c"],"cells":[[0,1,1]],"logloss_sum":"0"}'::ml_class_metric_state;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"version":1,"proba":true,"count":1,"classes":["a"],"cells":[[0,0,1]],"logloss_sum":"0x1p99"}'::ml_class_metric_state;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"version":1,"proba":false,"count":1,"classes":["a"],"cells":[[0,0,1]],"logloss_sum":"0","average":"samples"}'::ml_class_metric_state;
\echo :LAST_ERROR_SQLSTATE
-- Corrupted binary (22P03): every single-bit flip of every byte, and every truncation.
CREATE FUNCTION from_bytes_sqlstate(b bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ml_class_metric_state_from_bytes(b);
  RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE;
END $$;
CREATE TABLE small AS
SELECT 'labels' AS what, ml_class_metric_state_bytes(ml_class_state(a, a || 'x')) AS b FROM (VALUES ('a'), ('b'), ('a')) v(a)
UNION ALL
SELECT 'proba', ml_class_metric_state_bytes(ml_class_state(a, p::jsonb)) FROM (VALUES ('a', '{"a": 0.25, "b": 0.75}'), ('b', '{"b": 1}')) v(a, p);
SELECT what, from_bytes_sqlstate(set_byte(b, n, get_byte(b, n) # (1 << (n % 8)))) AS flipped, count(*)
FROM small, generate_series(0, length(b) - 1) n GROUP BY 1, 2 ORDER BY 1, 2;
SELECT what, from_bytes_sqlstate(substr(b, 1, n)) AS truncated, count(*)
FROM small, generate_series(0, length(b) - 1) n GROUP BY 1, 2 ORDER BY 1, 2;
SELECT ml_class_metric_state_from_bytes(overlay(b placing '\x0200'::bytea from 5)) FROM small WHERE what = 'labels';
\echo :LAST_ERROR_SQLSTATE

-- ---- parallel: partial aggregates, and the same result as one process -------------------------------------
CREATE TABLE big AS
SELECT i, (ARRAY['bird', 'cat', 'dog', 'fish', 'eel'])[1 + (i * 7919) % 5] AS actual,
       (ARRAY['bird', 'cat', 'dog', 'eel'])[1 + (i * 104729) % 4] AS predicted,
       jsonb_build_object((ARRAY['bird', 'cat', 'dog', 'eel'])[1 + (i * 104729) % 4], ((i * 31) % 10 + 1) / 10.0,
                          'other', (10 - ((i * 31) % 10 + 1)) / 10.0) AS proba
FROM generate_series(1, 60000::bigint) i;
ANALYZE big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT ml_class_state(actual, predicted), ml_class_state(actual, proba), ml_f1(actual, predicted, 'weighted') FROM big;
CREATE FUNCTION workers_launched(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'Workers Launched' THEN RETURN trim(line); END IF;
  END LOOP;
  RETURN 'no workers';
END $$;
SELECT workers_launched('SELECT ml_class_state(actual, proba) FROM big');
CREATE TABLE parallel_result AS
SELECT ml_class_state(actual, predicted)::text AS labels, ml_class_state(actual, proba)::text AS proba,
       ml_f1(actual, predicted, 'weighted') AS f1 FROM big;
SET max_parallel_workers_per_gather = 0;
SELECT p.labels = s.labels AS labels_state, p.proba = s.proba AS proba_state, p.f1 = s.f1 AS f1,
       round(s.f1::numeric, 9) AS f1_value
FROM parallel_result p,
     (SELECT ml_class_state(actual, predicted)::text AS labels, ml_class_state(actual, proba)::text AS proba,
             ml_f1(actual, predicted, 'weighted') AS f1 FROM big) s;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
