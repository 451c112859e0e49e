-- Evaluation (issue 16, items 1-3): splits by key and by time, progressive validation and k-fold
-- cross-validation (docs/evaluation.md). Errors show their SQLSTATE.
CREATE SCHEMA evaluation;
SET search_path = evaluation, public;
\set VERBOSITY terse

-- ---- splits by key ----------------------------------------------------------------------------
-- user did: split customers into 5 folds by their id, and by a text key
SELECT ml_fold(i, 5) AS fold, count(*) FROM generate_series(1, 10000) i GROUP BY 1 ORDER BY 1;
SELECT min(ml_fold('k' || i, 3)), max(ml_fold('k' || i, 3)), count(DISTINCT ml_fold('k' || i, 3))
FROM generate_series(1, 1000) i;
-- user did: recompute the fold by hand from PostgreSQL's hash (the documented rule)
SELECT count(*) AS keys,
       count(*) FILTER (WHERE ml_fold('k' || i, 7, 42) =
                        1 + div(7 * ((hashtextextended('k' || i, 42)::numeric + 2 ^ 64::numeric) % 2 ^ 64::numeric),
                                    2 ^ 64::numeric)) AS text_rule_holds,
       count(*) FILTER (WHERE ml_fold(i::bigint, 7, 42) =
                        1 + div(7 * ((hashint8extended(i, 42)::numeric + 2 ^ 64::numeric) % 2 ^ 64::numeric),
                                    2 ^ 64::numeric)) AS int_rule_holds,
       count(*) FILTER (WHERE ml_fold(i, 7) = ml_fold(i::bigint, 7) AND ml_fold(i, 7) = ml_fold(i::smallint, 7)) AS widths_agree,
       count(*) FILTER (WHERE ml_fold(i, 7) <> ml_fold(i, 7, 1)) > 0 AS seed_changes_folds
FROM generate_series(-500, 500) i;
-- user did: added rows later; the folds of the first ones did not move (a function of the key only)
CREATE TABLE customers AS SELECT i AS id, ml_fold(i, 5) AS fold FROM generate_series(1, 100) i;
INSERT INTO customers SELECT i, ml_fold(i, 5) FROM generate_series(101, 200) i;
SELECT count(*) FILTER (WHERE fold <> ml_fold(id, 5)) AS moved FROM customers;
-- user did: a 20% test set, then 30%: the 20% set is inside the 30% one
SELECT ml_split(i, 0.2) AS side, count(*) FROM generate_series(1, 10000) i GROUP BY 1 ORDER BY 1;
SELECT count(*) FILTER (WHERE ml_split(i, 0.2) = 'test' AND ml_split(i, 0.3) = 'train') AS left_test,
       count(*) FILTER (WHERE ml_split(i, 0.0) = 'test') AS none_at_0,
       count(*) FILTER (WHERE ml_split(i, 1.0) = 'train') AS none_at_1,
       count(*) FILTER (WHERE (ml_split(i, 0.25, 9) = 'test') <>
                              ((hashint8extended(i, 9)::numeric + 2 ^ 64::numeric) % 2 ^ 64::numeric < 0.25 * 2 ^ 64::numeric)) AS rule_broken
FROM generate_series(1, 5000) i;
SELECT ml_split(NULL::int) IS NULL AS null_key, ml_fold(NULL::text, 3) IS NULL AS null_key_fold,
       ml_split('2026-01-01'::date, 0.5) IN ('train', 'test') AS date_key,
       ml_fold('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 4) BETWEEN 1 AND 4 AS uuid_key;
-- user did: asked for 1 fold, a fraction above 1, a key without a hash function
SELECT ml_fold(1, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_split(1, 1.5);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fold(point(1, 2), 5);
\echo :LAST_ERROR_SQLSTATE

-- ---- splits in time ---------------------------------------------------------------------------
-- user did: test from March 10, with a 2-day gap before it
SELECT d::date AS day, ml_time_split(d, '2026-03-10', '2 days') AS side
FROM generate_series(timestamptz '2026-03-06', '2026-03-11', '1 day') d;
SELECT ml_time_split(timestamp '2026-03-08 12:00', timestamp '2026-03-10', '1 day') AS ts,
       ml_time_split(timestamp '2026-03-08 23:59', timestamp '2026-03-10', '1 day') AS ts_before_gap,
       ml_time_split(99.0, 100, 5) AS id_gap, ml_time_split(94.0, 100, 5) AS id_train,
       ml_time_split(100.0, 100) AS id_test, ml_time_split(99.9, 100) AS no_gap;
-- user did: a negative gap
SELECT ml_time_split(now(), now(), '-1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_time_split(1.0, 2.0, -1);
\echo :LAST_ERROR_SQLSTATE

-- ---- progressive validation -------------------------------------------------------------------
CREATE TABLE stream AS
SELECT i, timestamptz '2026-01-01' + i * interval '1 hour' AS at,
       jsonb_build_object('a', (i % 7) * 0.5, 'c', 'k' || (i % 3)) AS x,
       ARRAY[(i % 7) * 0.5, (i % 3)::float8] AS arr,
       (i % 7) * 1.5 + (i % 3) + 1 AS y, ((i % 7) * 0.5 + (i % 3) > 2.5)::int AS label,
       (ARRAY['red', 'green', 'blue'])[1 + (i % 3)] AS colour
FROM generate_series(1, 300) i;

-- The same loop by hand: predict, keep the prediction, then learn the label delay rows later.
CREATE TABLE pending (i int, x jsonb, y float8);
CREATE FUNCTION by_hand(spec ml_model, delay int, is_binary boolean) RETURNS TABLE (i int, p float8, y float8)
LANGUAGE plpgsql AS $$
DECLARE
    m ml_model := spec;
    r record;
    q record;
BEGIN
    TRUNCATE pending;
    FOR r IN SELECT s.i, s.x, CASE WHEN is_binary THEN s.label ELSE s.y END AS y FROM stream s ORDER BY s.i LOOP
        FOR q IN SELECT * FROM pending WHERE pending.i <= r.i - greatest(delay, 1) ORDER BY pending.i LOOP
            m := ml_fit_one(m, q.x, q.y);
            DELETE FROM pending WHERE pending.i = q.i;
        END LOOP;
        i := r.i; p := ml_predict_one(m, r.x); y := r.y;
        RETURN NEXT;
        INSERT INTO pending VALUES (r.i, r.x, r.y);
    END LOOP;
END $$;

-- user did: progressive validation of a regression, a row of metrics every 100 rows
SELECT step, n, metric, round(value::numeric, 6) AS value, round(cumulative::numeric, 6) AS cumulative
FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream ORDER BY i', every => 100)
ORDER BY step NULLS LAST, metric;
-- It is the hand-written loop: overall and each step's MAE equal the aggregates over its predictions.
SELECT (SELECT value FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream ORDER BY i',
                                                   ARRAY['mae', 'rmse'], every => 100) WHERE step IS NULL AND metric = 'mae')
       = (SELECT ml_mae(p, y) FROM by_hand('{"model": "linear_regression"}', 0, false)) AS overall_mae_equal,
       (SELECT array_agg(value ORDER BY step) FROM ml_progressive_validate('{"model": "linear_regression"}',
               'SELECT x, y FROM stream ORDER BY i', ARRAY['rmse'], every => 100) WHERE step IS NOT NULL)
       = (SELECT array_agg(v ORDER BY s) FROM (SELECT (i - 1) / 100 AS s, ml_rmse(p, y) AS v
                                               FROM by_hand('{"model": "linear_regression"}', 0, false) GROUP BY 1) t) AS steps_equal;
-- user did: labels arrive 24 rows late
SELECT (SELECT value FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream ORDER BY i',
                                                   ARRAY['mae'], delay => 24) WHERE step IS NULL)
       = (SELECT ml_mae(p, y) FROM by_hand('{"model": "linear_regression"}', 24, false)) AS delayed_equal,
       (SELECT value FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream ORDER BY i',
                                                   ARRAY['mae'], delay => 24) WHERE step IS NULL)
       > (SELECT value FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream ORDER BY i',
                                                   ARRAY['mae']) WHERE step IS NULL) AS delay_costs,
       (SELECT array_agg(value) FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream ORDER BY i', delay => 1))
       = (SELECT array_agg(value) FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream ORDER BY i', delay => 0)) AS delay_1_is_0;
-- user did: labels arrive a day late, by the time column (24 rows of one hour): the same stream as 24 rows
SELECT (SELECT array_agg(value ORDER BY step, metric) FROM ml_progressive_validate('{"model": "linear_regression"}',
            'SELECT x, y, at FROM stream ORDER BY i', delay_time => '1 day'))
       = (SELECT array_agg(value ORDER BY step, metric) FROM ml_progressive_validate('{"model": "linear_regression"}',
            'SELECT x, y FROM stream ORDER BY i', delay => 24)) AS time_delay_as_rows;
-- user did: a binary classifier, its metrics per day
SELECT step, "time", n, metric, round(value::numeric, 4) AS value, round(cumulative::numeric, 4) AS cumulative
FROM ml_progressive_validate('{"model": "logistic_regression"}', 'SELECT arr, label, at FROM stream ORDER BY i',
                             bucket => '4 days', delay_time => '6 hours')
ORDER BY step NULLS LAST, metric;
SELECT (SELECT value FROM ml_progressive_validate('{"model": "logistic_regression"}', 'SELECT x, label FROM stream ORDER BY i',
                                                   ARRAY['auc']) WHERE step IS NULL)
       = (SELECT ml_auc(p, y::int) FROM by_hand('{"model": "logistic_regression"}', 0, true)) AS auc_equal,
       (SELECT value FROM ml_progressive_validate('{"model": "logistic_regression"}', 'SELECT x, label FROM stream ORDER BY i',
                                                   ARRAY['logloss']) WHERE step IS NULL)
       = (SELECT ml_logloss(p, y::int) FROM by_hand('{"model": "logistic_regression"}', 0, true)) AS logloss_equal;
-- user did: a multiclass model (its first row, before any class is known, is not scored)
SELECT step, n, metric, round(value::numeric, 4) AS value
FROM ml_progressive_validate('{"model": "gaussian_nb"}', 'SELECT arr, colour FROM stream ORDER BY i', every => 150)
ORDER BY step NULLS LAST, metric;
-- user did: a tree, a pipeline and a partitioned model through the same call
SELECT metric, round(value::numeric, 4) AS value
FROM ml_progressive_validate('{"model": "hoeffding_tree_regressor"}', 'SELECT x, y FROM stream ORDER BY i', ARRAY['mae'])
WHERE step IS NULL;
SELECT step, n, round(value::numeric, 4) AS value
FROM ml_progressive_validate('{"pipeline": [{"target_agg": {"by": "c", "how": "mean"}}, {"linear_regression": {}}]}',
                             'SELECT x, y FROM stream ORDER BY i', ARRAY['mae'], every => 150);
SELECT step, n, round(value::numeric, 4) AS value
FROM ml_progressive_validate('{"model": "partitioned", "by": ["c"], "min_examples": 20, "base": {"model": "linear_regression"}}',
                             'SELECT x, y FROM stream ORDER BY i', ARRAY['mae'], every => 150);
-- user did: no rows
SELECT * FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream WHERE false');
-- user did: wrong metric, a clustering model, a bucket without a time column, both delays,
-- every 0, time out of order, a month bucket, a query that writes
SELECT * FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream', ARRAY['auc']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_progressive_validate('{"model": "kmeans"}', 'SELECT x, y FROM stream');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream', bucket => '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x, y, at FROM stream ORDER BY i', delay => 3, delay_time => '1 hour');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream', every => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x, y, at FROM stream ORDER BY i DESC', bucket => '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x, y, at FROM stream ORDER BY i', bucket => '1 month');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_progressive_validate('{"model": "linear_regression"}', 'DELETE FROM stream RETURNING x, y');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x FROM stream');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x, y, i FROM stream');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_progressive_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream', ARRAY[]::text[]);
\echo :LAST_ERROR_SQLSTATE

-- ---- k-fold cross-validation -----------------------------------------------------------------
-- user did: 5-fold CV of a regression, by row position
SELECT fold, metric, round(value::numeric, 6) AS value, round(sd::numeric, 6) AS sd, n_train, n_test
FROM ml_cross_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream ORDER BY i')
ORDER BY fold NULLS LAST, metric;
-- Each fold's value is the metric of a model fitted by hand on the fold's complement (ml_fit in
-- the same order), over the fold's rows; the summary is avg and stddev of the fold rows.
WITH cv AS (SELECT * FROM ml_cross_validate('{"model": "linear_regression"}', 'SELECT x, y, i FROM stream ORDER BY i',
                                            folds => 4, metrics => ARRAY['mae', 'r2'], seed => 3)),
     hand AS (SELECT f, (SELECT ml_fit('{"model": "linear_regression"}'::ml_model, s.x, s.y ORDER BY s.i)
                         FROM stream s WHERE ml_fold(s.i, 4, 3) <> f) AS m
              FROM generate_series(1, 4) f),
     scored AS (SELECT f, ml_mae(ml_predict_one(m, s.x), s.y) AS mae, ml_r2(ml_predict_one(m, s.x), s.y) AS r2, count(*) AS n
                FROM hand JOIN stream s ON ml_fold(s.i, 4, 3) = f GROUP BY f)
SELECT count(*) FILTER (WHERE cv.metric = 'mae' AND cv.value = scored.mae) AS mae_folds_equal,
       count(*) FILTER (WHERE cv.metric = 'r2' AND cv.value = scored.r2) AS r2_folds_equal,
       count(*) FILTER (WHERE cv.n_test = scored.n) AS n_test_equal,
       (SELECT round(value::numeric, 12) = (SELECT round(avg(value)::numeric, 12) FROM cv WHERE fold IS NOT NULL AND metric = 'mae')
           AND round(sd::numeric, 12) = (SELECT round(stddev(value)::numeric, 12) FROM cv WHERE fold IS NOT NULL AND metric = 'mae')
        FROM cv WHERE fold IS NULL AND metric = 'mae') AS summary_is_avg_and_stddev
FROM cv JOIN scored ON cv.fold = scored.f;
-- Without a key, the key is the row's position: the same folds as ml_fold(i::bigint) for i = 1, 2, ...
SELECT (SELECT array_agg(value ORDER BY fold, metric) FROM ml_cross_validate('{"model": "logistic_regression"}', 'SELECT x, label FROM stream ORDER BY i'))
     = (SELECT array_agg(value ORDER BY fold, metric) FROM ml_cross_validate('{"model": "logistic_regression"}', 'SELECT x, label, i::bigint FROM stream ORDER BY i')) AS position_is_key;
-- user did: 3 epochs per fold: each fold's model is ml_train's on the complement
WITH cv AS (SELECT * FROM ml_cross_validate('{"model": "logistic_regression"}', 'SELECT arr, label, i FROM stream ORDER BY i',
                                            folds => 3, metrics => ARRAY['logloss'], epochs => 3, seed => 11)),
     hand AS (SELECT f, ml_train('{"model": "logistic_regression"}',
                                 format('SELECT arr, label FROM evaluation.stream WHERE ml_fold(i, 3, 11) <> %s ORDER BY i', f),
                                 epochs => 3, seed => 11) AS m
              FROM generate_series(1, 3) f)
SELECT count(*) FILTER (WHERE cv.value = (SELECT ml_logloss(ml_predict_one(m, s.arr), s.label) FROM stream s WHERE ml_fold(s.i, 3, 11) = f)) AS folds_equal
FROM cv JOIN hand ON cv.fold = hand.f;
-- user did: CV of a multiclass model and of a tree classifier
SELECT fold, metric, round(value::numeric, 4) AS value, round(sd::numeric, 4) AS sd, n_test
FROM ml_cross_validate('{"model": "softmax_regression"}', 'SELECT x, colour FROM stream ORDER BY i', folds => 3)
WHERE fold IS NULL ORDER BY metric;
SELECT metric, value IS NOT NULL AS defined FROM ml_cross_validate('{"model": "hoeffding_tree_classifier"}', 'SELECT x, colour FROM stream ORDER BY i', 3, ARRAY['accuracy'])
WHERE fold IS NULL;
-- user did: more folds than rows: the empty folds give NULL, the summary skips them
SELECT fold, metric, round(value::numeric, 6) AS value, n_train, n_test FROM ml_cross_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream WHERE i <= 3 ORDER BY i', 6, ARRAY['mae'])
ORDER BY fold NULLS LAST;
-- user did: a fold count below 2, a metric of another task, a NULL key, an anomaly model, a NULL
-- metric name, no epochs, a key without a hash, text labels for a regression, no model
SELECT * FROM ml_cross_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_cross_validate('{"model": "logistic_regression"}', 'SELECT x, label FROM stream', metrics => ARRAY['rmse']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_cross_validate('{"model": "linear_regression"}', 'SELECT x, y, NULL::int FROM stream');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_cross_validate('{"model": "half_space_trees"}', 'SELECT x, y FROM stream');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_cross_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream', metrics => ARRAY[NULL]::text[]);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_cross_validate('{"model": "linear_regression"}', 'SELECT x, y FROM stream', epochs => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_cross_validate('{"model": "linear_regression"}', 'SELECT x, y, point(1, 1) FROM stream');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_cross_validate('{"model": "linear_regression"}', 'SELECT x, colour FROM stream');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_cross_validate(NULL, 'SELECT x, y FROM stream');
\echo :LAST_ERROR_SQLSTATE
-- user did: cross-validate and progressively validate an imported (predict-only) XGBoost model
CREATE TABLE imported_model AS SELECT ml_import('xgboost', $model${"learner":{"attributes":{},"feature_names":[],"feature_types":[],"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"3","size_leaf_vector":"0"},"tree_info":[0,1,2],"trees":[{"base_weights":[0.0],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"default_left":[0],"loss_changes":[0.0],"parents":[2147483647],"split_type":[0],"sum_hessian":[1.0],"id":0,"left_children":[-1],"right_children":[-1],"split_conditions":[0.1],"split_indices":[0],"tree_param":{"num_deleted":"0","num_feature":"3","num_nodes":"1","size_leaf_vector":"0"}},{"base_weights":[0.0],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"default_left":[0],"loss_changes":[0.0],"parents":[2147483647],"split_type":[0],"sum_hessian":[1.0],"id":1,"left_children":[-1],"right_children":[-1],"split_conditions":[0.5],"split_indices":[0],"tree_param":{"num_deleted":"0","num_feature":"3","num_nodes":"1","size_leaf_vector":"0"}},{"base_weights":[0.0],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"default_left":[0],"loss_changes":[0.0],"parents":[2147483647],"split_type":[0],"sum_hessian":[1.0],"id":2,"left_children":[-1],"right_children":[-1],"split_conditions":[-0.2],"split_indices":[0],"tree_param":{"num_deleted":"0","num_feature":"3","num_nodes":"1","size_leaf_vector":"0"}}]},"name":"gbtree"},"learner_model_param":{"base_score":"5E-1","num_class":"3","num_feature":"3","num_target":"1"},"objective":{"name":"multi:softprob"}},"version":[1,7,4]}$model$) AS m;
SELECT * FROM ml_cross_validate((SELECT m FROM imported_model), 'SELECT arr || 0.0::float8, colour FROM stream');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_progressive_validate((SELECT m FROM imported_model), 'SELECT arr || 0.0::float8, colour FROM stream');
\echo :LAST_ERROR_SQLSTATE

-- ---- comparison (item 7) ---------------------------------------------------------------------
-- user did: compared a model trained on 30 rows with one trained on 200, on the last 100 rows
CREATE TABLE two_models AS
SELECT (SELECT ml_fit('{"model": "logistic_regression"}'::ml_model, arr, label ORDER BY i) FROM stream WHERE i <= 30) AS small,
       (SELECT ml_fit('{"model": "logistic_regression"}'::ml_model, arr, label ORDER BY i) FROM stream WHERE i <= 200) AS big;
SELECT model, metric, round(value::numeric, 4) AS value, round(lower::numeric, 4) AS lower, round(upper::numeric, 4) AS upper,
       round(difference::numeric, 4) AS difference, round(diff_lower::numeric, 4) AS diff_lower,
       round(diff_upper::numeric, 4) AS diff_upper, round(p_value::numeric, 3) AS p_value
FROM two_models, ml_compare(ARRAY[small, big], 'SELECT arr, label FROM evaluation.stream WHERE i > 200', resamples => 200, seed => 5)
ORDER BY model, metric;
-- The values are the metric aggregates over each model's predictions; the interval holds the
-- value; the same seed gives the same intervals, another seed others.
WITH c AS (SELECT r.* FROM two_models, ml_compare(ARRAY[small, big], 'SELECT arr, label FROM evaluation.stream WHERE i > 200',
                                                  ARRAY['auc', 'logloss'], resamples => 200, seed => 5) r)
SELECT (SELECT value FROM c WHERE model = 2 AND metric = 'auc') = (SELECT ml_auc(ml_predict_one(big, arr), label) FROM two_models, stream WHERE i > 200) AS auc_is_the_aggregate,
       (SELECT value FROM c WHERE model = 1 AND metric = 'logloss') = (SELECT ml_logloss(ml_predict_one(small, arr), label) FROM two_models, stream WHERE i > 200) AS logloss_is_the_aggregate,
       (SELECT bool_and(value BETWEEN lower AND upper) FROM c) AS intervals_hold_values,
       (SELECT difference FROM c WHERE model = 2 AND metric = 'logloss') = (SELECT value FROM c WHERE model = 2 AND metric = 'logloss') - (SELECT value FROM c WHERE model = 1 AND metric = 'logloss') AS difference_is_paired,
       (SELECT bool_and(difference IS NULL AND p_value IS NULL) FROM c WHERE model = 1) AS first_is_reference,
       (SELECT array_agg(lower ORDER BY model, metric) FROM c)
       = (SELECT array_agg(lower ORDER BY model, metric) FROM two_models, ml_compare(ARRAY[small, big], 'SELECT arr, label FROM evaluation.stream WHERE i > 200', ARRAY['auc', 'logloss'], resamples => 200, seed => 5)) AS same_seed_same,
       (SELECT array_agg(lower ORDER BY model, metric) FROM c)
       <> (SELECT array_agg(lower ORDER BY model, metric) FROM two_models, ml_compare(ARRAY[small, big], 'SELECT arr, label FROM evaluation.stream WHERE i > 200', ARRAY['auc', 'logloss'], resamples => 200, seed => 6)) AS other_seed_other;
-- user did: compared a model with itself: no difference, p-value 1
SELECT model, metric, difference, diff_lower, diff_upper, p_value
FROM two_models, ml_compare(ARRAY[big, big], 'SELECT arr, label FROM evaluation.stream WHERE i > 200', ARRAY['auc'], resamples => 50)
ORDER BY model;
-- user did: compared regressions, and multiclass models
SELECT model, metric, round(value::numeric, 4) AS value, lower <= value AND value <= upper AS holds
FROM ml_compare(ARRAY[(SELECT ml_fit('{"model": "linear_regression"}'::ml_model, x, y ORDER BY i) FROM stream WHERE i <= 150),
                      (SELECT ml_fit('{"model": "hoeffding_tree_regressor"}'::ml_model, x, y ORDER BY i) FROM stream WHERE i <= 150)],
                'SELECT x, y FROM evaluation.stream WHERE i > 150', ARRAY['mae'], resamples => 100)
ORDER BY model;
SELECT model, metric, round(value::numeric, 4) AS value
FROM ml_compare(ARRAY[(SELECT ml_fit('{"model": "gaussian_nb"}'::ml_model, arr, colour ORDER BY i) FROM stream WHERE i <= 150)],
                'SELECT arr, colour FROM evaluation.stream WHERE i > 150', ARRAY['accuracy'], resamples => 20);
-- user did: compared models of two tasks, no model, a NULL model, zero resamples, a confidence of 1, a metric of another task
SELECT * FROM ml_compare(ARRAY['{"model": "linear_regression"}'::ml_model, '{"model": "logistic_regression"}'::ml_model], 'SELECT x, y FROM evaluation.stream');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_compare(ARRAY[]::ml_model[], 'SELECT x, y FROM evaluation.stream');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_compare(ARRAY[NULL::ml_model], 'SELECT x, y FROM evaluation.stream');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_compare(ARRAY['{"model": "linear_regression"}'::ml_model], 'SELECT x, y FROM evaluation.stream', resamples => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_compare(ARRAY['{"model": "linear_regression"}'::ml_model], 'SELECT x, y FROM evaluation.stream', confidence => 1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_compare(ARRAY['{"model": "linear_regression"}'::ml_model], 'SELECT x, y FROM evaluation.stream', ARRAY['auc']);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_compare(ARRAY['{"model": "linear_regression"}'::ml_model], 'SELECT x, y, i FROM evaluation.stream');
\echo :LAST_ERROR_SQLSTATE

-- user did: a long cross-validation and progressive validation stopped by statement_timeout (57014)
SET statement_timeout = '200ms';
SELECT count(*) FROM ml_cross_validate('{"model": "linear_regression"}',
    'SELECT ARRAY[i % 7, i % 3]::float8[], (i % 5)::float8 FROM generate_series(1, 200000) i', epochs => 50);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM ml_progressive_validate('{"model": "hoeffding_tree_regressor"}',
    'SELECT ARRAY[i % 7, i % 3]::float8[], (i % 5)::float8 FROM generate_series(1, 10000000) i');
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;

\set VERBOSITY default
RESET search_path;
DROP SCHEMA evaluation CASCADE;
