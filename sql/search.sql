-- Hyperparameter search (issue 16 item 4): ml_search's grid and random trials on a holdout split
-- or by cross-validation, budgets, failed trials, registering the best, and ml_deploy by the best
-- metric (docs/evaluation.md, "Search"). Errors show their SQLSTATE.
CREATE SCHEMA search;
SET search_path = search, public;
\set VERBOSITY terse

-- y = 3 x + 1 exactly, 200 rows keyed by id.
CREATE TABLE line AS
SELECT i AS id, ARRAY[(i % 20)::float8 / 10] AS x, 3 * ((i % 20)::float8 / 10) + 1 AS y
FROM generate_series(1, 200) i;

-- ---- grid on a holdout split ------------------------------------------------------------------
-- user did: tried three L2 penalties; the exact line is best learned without one
SELECT trial, params, status, value < 0.5 AS small_rmse, sd, metrics ?& ARRAY['rmse', 'mae', 'r2'] AS all_metrics,
       duration >= 0 AS timed, is_best, message
FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 0.5, 5]}',
               'SELECT x, y, id FROM search.line ORDER BY id', epochs => 5)
ORDER BY trial;
-- the values grow with the penalty, and the best is the smallest rmse
WITH r AS (SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 0.5, 5]}',
                                   'SELECT x, y, id FROM search.line ORDER BY id', epochs => 5))
SELECT bool_and(r.value > p.value) AS increasing,
       (SELECT trial FROM r ORDER BY value LIMIT 1) = (SELECT trial FROM r WHERE is_best) AS best_is_argmin,
       (SELECT count(*) FROM r WHERE is_best) AS bests
FROM r JOIN r p ON p.trial = r.trial - 1;
-- user did: checked trial 2's holdout rmse by hand: a model fitted in query order on the rows
-- ml_split calls 'train', scored on the 'test' rows
WITH m AS (SELECT ml_fit('{"model": "linear_regression", "l2": 0.5}', x, y ORDER BY id) AS m
           FROM line WHERE ml_split(id, 0.2, 0) = 'train'),
     hand AS (SELECT sqrt(avg((ml_predict_one(m.m, x) - y) ^ 2)) AS rmse, count(*) AS n
              FROM line, m WHERE ml_split(id, 0.2, 0) = 'test'),
     s AS (SELECT value FROM ml_search('{"model": "linear_regression"}', '{"l2": [0.5]}',
                                       'SELECT x, y, id FROM search.line ORDER BY id'))
SELECT hand.n, abs(s.value - hand.rmse) < 1e-12 AS same_rmse FROM hand, s;
-- the trial's spec is the base with the values set; a base option the space changes is replaced
SELECT trial, spec FROM ml_search('{"model": "linear_regression", "optimizer": "sgd", "scale": false}',
                                  '{"optimizer": {"adam": {"lr": [0.01, 0.1]}}, "intercept_lr": 0.05}',
                                  'SELECT x, y, id FROM search.line') ORDER BY trial;

-- ---- cross-validation -------------------------------------------------------------------------
-- user did: 3-fold CV; each trial's value and sd are ml_cross_validate's mean and sd
WITH s AS (SELECT params ->> 'l2' AS l2, value, sd FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 2]}',
                                      'SELECT x, y, id FROM search.line', metric => 'mae', folds => 3, epochs => 2, seed => 5)),
     cv AS (SELECT l2, c.value, c.sd FROM unnest(ARRAY['0', '2']) l2,
            ml_cross_validate(('{"model": "linear_regression", "l2": ' || l2 || '}')::ml_model,
                              'SELECT x, y, id FROM search.line', 3, ARRAY['mae'], epochs => 2, seed => 5) c
            WHERE c.fold IS NULL)
SELECT s.l2, s.value = cv.value AS same_mean, s.sd = cv.sd AS same_sd FROM s JOIN cv USING (l2) ORDER BY 1;

-- ---- classification and its metrics -------------------------------------------------------------
CREATE TABLE clicks AS
SELECT i AS id, jsonb_build_object('a', (i % 10)::float8, 'b', ((i * 7) % 13)::float8) AS x, (i % 10) >= 5 AS y
FROM generate_series(1, 300) i;
-- default metric logloss (lower is better); auc named: higher is better
SELECT trial, params, value IS NOT NULL AS has_value, metrics ?& ARRAY['logloss', 'auc', 'accuracy'] AS metrics, is_best
FROM ml_search('{"model": "logistic_regression"}', '{"optimizer": {"sgd": {"lr": [0.00001, 0.5]}}}',
               'SELECT x, y, id FROM search.clicks', epochs => 3)
ORDER BY trial;
SELECT trial, round(value::numeric, 3) AS auc, is_best
FROM ml_search('{"model": "logistic_regression"}', '{"l2": [0, 10]}',
               'SELECT x, y, id FROM search.clicks', metric => 'auc', epochs => 3)
ORDER BY trial;

-- ---- random search ----------------------------------------------------------------------------
-- user did: drew 4 trials with seed 7 twice (the same trials), then with seed 8 (others)
SELECT trial, params FROM ml_search('{"model": "linear_regression"}',
                                    '{"l2": {"log_uniform": [1e-6, 1e-2]}, "intercept_lr": {"uniform": [0.001, 0.1]}, "hash_bits": {"int_uniform": [4, 8]}}',
                                    'SELECT x, y, id FROM search.line', method => 'random', trials => 4, seed => 7)
ORDER BY trial;
SELECT (SELECT array_agg(params ORDER BY trial) FROM ml_search('{"model": "linear_regression"}', '{"l2": {"log_uniform": [1e-6, 1e-2]}}',
                                    'SELECT x, y, id FROM search.line', method => 'random', trials => 4, seed => 7)) =
       (SELECT array_agg(params ORDER BY trial) FROM ml_search('{"model": "linear_regression"}', '{"l2": {"log_uniform": [1e-6, 1e-2]}}',
                                    'SELECT x, y, id FROM search.line', method => 'random', trials => 4, seed => 7)) AS same_seed_same_trials,
       (SELECT array_agg(params ORDER BY trial) FROM ml_search('{"model": "linear_regression"}', '{"l2": {"log_uniform": [1e-6, 1e-2]}}',
                                    'SELECT x, y, id FROM search.line', method => 'random', trials => 4, seed => 7)) <>
       (SELECT array_agg(params ORDER BY trial) FROM ml_search('{"model": "linear_regression"}', '{"l2": {"log_uniform": [1e-6, 1e-2]}}',
                                    'SELECT x, y, id FROM search.line', method => 'random', trials => 4, seed => 8)) AS other_seed_other_trials;
-- random over lists only: grid points without replacement, all three of them when 5 are asked
SELECT count(*) AS trials, count(DISTINCT params) AS distinct_params
FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 1, 2]}', 'SELECT x, y, id FROM search.line',
               method => 'random', trials => 5);

-- ---- successive halving ----------------------------------------------------------------------
-- user did: 9 learning rates of an online model, halving: rungs of 9, 3 and 1 candidates, the best
-- third going on; the last one learned the whole stream, so its value is its grid trial's
WITH h AS (SELECT * FROM ml_search('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false}',
                                   '{"optimizer": {"sgd": {"lr": [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.02, 0.03, 0.05, 0.07]}}}',
                                   'SELECT x, y, id FROM search.line', method => 'halving', epochs => 2)),
     g AS (SELECT * FROM ml_search('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false}',
                                   '{"optimizer": {"sgd": {"lr": [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.02, 0.03, 0.05, 0.07]}}}',
                                   'SELECT x, y, id FROM search.line', method => 'grid', epochs => 2))
SELECT h.trial, h.params, h.status, h.message, h.is_best, CASE WHEN h.is_best THEN h.value = g.value END AS equals_grid
FROM h JOIN g USING (trial) ORDER BY h.trial;
-- halving over a distribution needs a number of candidates
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": {"uniform": [0, 1]}}', 'SELECT x, y FROM search.line', method => 'halving');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS candidates, count(*) FILTER (WHERE is_best) AS best
FROM ml_search('{"model": "linear_regression"}', '{"l2": {"uniform": [0, 1]}}', 'SELECT x, y FROM search.line',
               method => 'halving', trials => 4);
-- a seconds budget stops it between rungs
SELECT count(*) AS candidates, count(*) FILTER (WHERE is_best) AS best, max(message) AS message
FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 0.1, 0.2, 0.3]}', 'SELECT x, y FROM search.line',
               method => 'halving', seconds => 0.000001);

-- ---- budgets ----------------------------------------------------------------------------------
-- user did: capped a grid of 3 at 2 trials, then gave it a microsecond: one trial, and a NOTICE
SELECT count(*) AS trials FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 1, 2]}',
                                         'SELECT x, y, id FROM search.line', trials => 2);
SELECT count(*) AS trials FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 1, 2]}',
                                         'SELECT x, y, id FROM search.line', seconds => 0.000001);
-- cancel works inside a long trial: statement_timeout
SET statement_timeout = '1s';
SELECT count(*) FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 1]}',
                               'SELECT ARRAY[i::float8], i::float8, i FROM generate_series(1, 20000) i', epochs => 5000);
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;

-- ---- a failed trial does not stop the search ----------------------------------------------------
SELECT trial, params, status, value IS NULL AS no_value, is_best, message
FROM ml_search('{"model": "linear_regression"}', '{"l2": [-1, 0]}', 'SELECT x, y, id FROM search.line')
ORDER BY trial;
-- a trial of another task fails too
SELECT trial, status, message FROM ml_search('{"model": "linear_regression"}', '{"model": ["linear_regression", "softmax_regression"]}',
                                             'SELECT x, y, id FROM search.line') ORDER BY trial;

-- ---- bad input --------------------------------------------------------------------------------
-- a space with no values; an empty list; an empty space; a distribution in a grid; bad bounds
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"scale": true}', 'SELECT x, y FROM search.line');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": []}', 'SELECT x, y FROM search.line');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "linear_regression"}', '{}', 'SELECT x, y FROM search.line');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": {"uniform": [0, 1]}}', 'SELECT x, y FROM search.line');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": {"log_uniform": [0, 1]}}', 'SELECT x, y FROM search.line', method => 'random', trials => 2);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": {"uniform": [1, 0]}}', 'SELECT x, y FROM search.line', method => 'random', trials => 2);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "linear_regression"}', '[0, 1]', 'SELECT x, y FROM search.line');
\echo :LAST_ERROR_SQLSTATE
-- a budget of zero; negative; no budget for random; zero seconds
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 1]}', 'SELECT x, y FROM search.line', trials => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 1]}', 'SELECT x, y FROM search.line', trials => -2);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 1]}', 'SELECT x, y FROM search.line', method => 'random');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 1]}', 'SELECT x, y FROM search.line', seconds => 0);
\echo :LAST_ERROR_SQLSTATE
-- a metric that does not fit the task; one without a direction; an unknown method
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 1]}', 'SELECT x, y FROM search.line', metric => 'auc');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "logistic_regression"}', '{"l2": [0, 1]}', 'SELECT x, y FROM search.clicks', metric => 'rmse');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 1]}', 'SELECT x, y FROM search.line', metric => 'mean_error');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 1]}', 'SELECT x, y FROM search.line', method => 'bayes');
\echo :LAST_ERROR_SQLSTATE
-- a base that is no spec; a clustering model (no labels); fold count 1; holdout fraction 0; no rows
SELECT * FROM ml_search('{"l2": 1}', '{"l2": [0, 1]}', 'SELECT x, y FROM search.line');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "kmeans"}', '{"k": [2, 3]}', 'SELECT x, y FROM search.line');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 1]}', 'SELECT x, y FROM search.line', folds => 1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 1]}', 'SELECT x, y FROM search.line', test_fraction => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 1]}', 'SELECT x, y FROM search.line WHERE false');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": [0, 1]}', 'SELECT x, y, id FROM search.line WHERE id = 1');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM ml_search(NULL, '{"l2": [0, 1]}', 'SELECT x, y FROM search.line');
\echo :LAST_ERROR_SQLSTATE

-- ---- registering the best, deploying the best ---------------------------------------------------
-- user did: registered the best of two searches under one name, then deployed the best by rmse
SELECT trial, is_best FROM ml_search('{"model": "linear_regression"}', '{"l2": [5, 0]}',
                                     'SELECT x, y, id FROM search.line', epochs => 5, register => 's_line') ORDER BY trial;
SELECT trial, is_best FROM ml_search('{"model": "linear_regression"}', '{"l2": [50]}',
                                     'SELECT x, y, id FROM search.line', epochs => 5, register => 's_line') ORDER BY trial;
SELECT version, spec ->> 'l2' AS l2, metrics ?& ARRAY['rmse', 'mae', 'r2'] AS metrics,
       provenance -> 'search' ->> 'trial' AS trial, provenance -> 'search' ->> 'method' AS method,
       provenance -> 'search' -> 'space' AS space, (provenance -> 'search' ->> 'rows')::int AS rows
FROM ml_models WHERE name = 's_line' ORDER BY version;
-- the registered model learned every row: the line itself
SELECT abs(ml_predict_one(model, ARRAY[1.0::float8]) - 4) < 0.05 AS learned_the_line FROM ml_models WHERE name = 's_line' AND version = 1;
SELECT ml_deploy('s_line', strategy => 'best', metric => 'rmse') AS previous;
SELECT version FROM ml_aliases WHERE name = 's_line' AND alias = 'production';
-- the best r2 is the same version; the worst version by hand, then back to the best through the same audit
SELECT ml_deploy('s_line', 2, 'production') AS previous;
SELECT ml_deploy('s_line', 'best', 'r2') AS previous;
SELECT event, action, from_version, to_version FROM ml_deployments WHERE name = 's_line' ORDER BY event;
-- ties: the latest version; versions without the metric are skipped
SELECT ml_register('ties', '{"model": "linear_regression"}'::ml_model, metrics => '{"auc": 0.8}');
SELECT ml_register('ties', '{"model": "linear_regression"}'::ml_model, metrics => '{"auc": 0.8}');
SELECT ml_register('ties', '{"model": "linear_regression"}'::ml_model, metrics => '{"logloss": 0.1}');
SELECT ml_deploy('ties', 'best', 'auc', 'staging');
SELECT version FROM ml_aliases WHERE name = 'ties' AND alias = 'staging';
-- none has it; a metric without a direction; an unknown strategy; an unknown model
SELECT ml_deploy('ties', 'best', 'rmse');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_deploy('ties', 'best', 'mean_error');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_deploy('ties', 'worst', 'auc');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_deploy('nope', 'best', 'auc');
\echo :LAST_ERROR_SQLSTATE
-- the version form still resolves: an integer, NULL, a named version
SELECT ml_deploy('ties', 1) AS previous;
SELECT ml_deploy('ties', 2, 'staging') AS previous;
SELECT ml_deploy('ties', version => 3) AS previous;
SELECT ml_deploy('ties', NULL);
\echo :LAST_ERROR_SQLSTATE
-- (a quoted number in the three-argument form is text: the strategy form says how to deploy a version)
SELECT ml_deploy('ties', '1', 'staging');
\echo :LAST_ERROR_SQLSTATE
-- a search whose trials all fail registers nothing (WARNING)
SELECT trial, status FROM ml_search('{"model": "linear_regression"}', '{"l2": [-1]}',
                                    'SELECT x, y, id FROM search.line', register => 's_none');
SELECT count(*) FROM ml_model_names WHERE name = 's_none';
-- register is checked before any trial: the caller may execute ml_register, and the name is valid
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": [0]}', 'SELECT x, y, id FROM search.line', register => 'bad name');
\echo :LAST_ERROR_SQLSTATE
CREATE ROLE regress_search_user;
GRANT USAGE ON SCHEMA search TO regress_search_user;
GRANT SELECT ON search.line TO regress_search_user;
SET ROLE regress_search_user;
SELECT count(*) FROM ml_search('{"model": "linear_regression"}', '{"l2": [0]}', 'SELECT x, y, id FROM search.line');
SELECT * FROM ml_search('{"model": "linear_regression"}', '{"l2": [0]}', 'SELECT x, y, id FROM search.line', register => 's_user');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

SELECT ml_unregister('s_line', force => true), ml_unregister('ties', force => true);
DROP SCHEMA search CASCADE;
DROP ROLE regress_search_user;
