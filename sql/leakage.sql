-- No label leakage (issue 11, item 5): when the training input is a row that holds the label's
-- column, the label never becomes a feature unnoticed. The label can be named by its column
-- (ml_fit(spec, t, 'y'::name), ml_train(spec, query, label => 'y'), as BigQuery ML's
-- input_label_cols), and a feature equal to the label on every training row gives a WARNING
-- (ml_fit, ml_train, ml_learn_pending).
CREATE SCHEMA leakage;
SET search_path = leakage, public;
SET max_parallel_workers_per_gather = 0;
\set VERBOSITY default

-- A churn table: churned is the label, a and b are features, plan a category.
CREATE TABLE t AS
SELECT i AS id, ((i * 37) % 11) / 10.0 AS a, ((i * 13) % 7) - 3 AS b,
       CASE WHEN i % 3 = 0 THEN 'pro' ELSE 'free' END AS plan,
       ((i * 37) % 11) / 10.0 + ((i * 13) % 7 - 3) * 0.2 > 0.5 AS churned
FROM generate_series(1, 200) i;
SELECT count(*) FILTER (WHERE churned) AS positives, count(*) AS n FROM t;

-- user did: ml_fit(spec, t, t.churned) with t holding churned. Before, the label became a
-- feature and the model scored AUC 1.000 without a word; now a WARNING names the column.
CREATE TABLE leaked AS
SELECT ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["id"]}', t, t.churned ORDER BY id) AS m FROM t;
SELECT ml_info(m) -> 'features' ? 'churned' AS label_is_a_feature FROM leaked;
-- The same mistake with jsonb (to_jsonb(t) holds the label) and an int label.
SELECT ml_info(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', to_jsonb(t) - 'id', t.churned::int ORDER BY id)) -> 'n_seen' AS n
FROM t;
-- ml_fit_one learns one row: no warning (one row proves nothing).
SELECT ml_info(ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', t, t.churned)) -> 'n_seen' AS n FROM t WHERE id = 1;

-- user did: ml_fit(spec, t, 'churned'::name): the label named by its column. Every other column
-- is a feature, the label never: no warning, and the model is the one learned from the other
-- columns with the label given apart (and its column in "ignore"), byte for byte.
CREATE TABLE named AS
SELECT ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["id"]}', t, 'churned'::name ORDER BY id) AS m FROM t;
SELECT ml_info(m) -> 'features' AS features, ml_info(m) -> 'spec' -> 'ignore' AS ignored FROM named;
-- the label's column joins the model's ignore list: scoring the table's rows, label column
-- and all, reads the same features and warns about nothing
SET pg_learn.unknown_features = 'error';
SELECT count(*) AS scored FROM t, named WHERE ml_predict_one(named.m, t) IS NOT NULL;
RESET pg_learn.unknown_features;
SELECT ml_model_bytes(m) = (SELECT ml_model_bytes(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["id", "churned"]}', s, t.churned ORDER BY t.id))
                            FROM (SELECT id, a, b, plan FROM t) s JOIN t USING (id)) AS same_as_without_the_column
FROM named;
-- ml_fit_one too; a NULL label teaches nothing (as a NULL label of ml_fit).
SELECT ml_info(ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', t, 'churned'::name)) -> 'features' AS one_row FROM t WHERE id = 1;
SELECT ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', r, 'y'::name)) -> 'n_seen' AS n_seen
FROM (VALUES (1.0, 2.0), (2.0, NULL), (3.0, 6.0)) r(x, y);
-- A text label (multiclass) named by its column; an int label column.
SELECT ml_info(ml_fit('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', t, 'plan'::name ORDER BY id)) -> 'classes' AS classes FROM t;
SELECT ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', s, 'b'::name ORDER BY id)) -> 'features' AS features
FROM (SELECT id, a, b FROM t) s;

-- A column that copies the label under another name is found too, and "ignore" silences it.
CREATE TABLE t2 AS SELECT t.*, churned AS churned_copy FROM t;
SELECT ml_info(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["id"]}', t2, 'churned'::name ORDER BY id)) -> 'n_seen' AS n
FROM t2;
SELECT ml_info(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["id", "churned_copy"]}', t2, 'churned'::name ORDER BY id)) -> 'n_seen' AS n
FROM t2;
-- A float8[] whose element repeats the label: named x<i>.
SELECT ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[a, b, a * 2], a * 2 ORDER BY id)) -> 'n_seen' AS n FROM t;

-- No warning without evidence: fewer than 10 rows, or a label that never changes (a constant
-- label equals every feature that is constant at its value).
SELECT ml_info(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', t, t.churned ORDER BY id)) -> 'n_seen' AS n FROM t WHERE id <= 9;
SELECT ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', r, r.z ORDER BY r.i)) -> 'n_seen' AS n
FROM (SELECT i, 0 AS z, i % 2 AS odd FROM generate_series(1, 50) i) r;
-- One row that differs clears a feature (y_almost differs from y at i = 40).
SELECT ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', r, 'y'::name ORDER BY r.i)) -> 'n_seen' AS n
FROM (SELECT i, CASE WHEN i = 40 THEN 0 ELSE i * 1.5 END AS y_almost, i * 1.5 AS y FROM generate_series(1, 50) i) r;

-- GROUP BY: one warning per group whose rows leak.
SET enable_hashagg = off;
SELECT plan, ml_info(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["id"]}', t, t.churned ORDER BY id)) -> 'n_seen' AS n
FROM t GROUP BY plan ORDER BY plan;
RESET enable_hashagg;
-- A window aggregate warns once, when the rows seen so far are enough, not at every row.
SELECT count(*) AS rows, max((ml_info(m) ->> 'n_seen')::int) AS last_n_seen
FROM (SELECT ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', t, t.churned) OVER (ORDER BY id) AS m FROM t WHERE id <= 30) w;
-- Run by a parallel worker (force_parallel_mode): the worker's warning reaches the client.
SET force_parallel_mode = on;
SELECT ml_info(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["id"]}', t, t.churned)) -> 'n_seen' AS n FROM t;
RESET force_parallel_mode;
-- In a parallel plan (Partial Aggregate) the workers' partial states reach the leader flat,
-- without their check: the check covers the rows the leader aggregated itself, a share that
-- varies from run to run, so the warning is hidden here; the combined model has every row.
CREATE TABLE big AS SELECT i, i % 2 = 0 AS y, i % 7 AS a FROM generate_series(1, 20000) i;
ANALYZE big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["i"]}', b, b.y) FROM big b;
SET client_min_messages = error;
SELECT ml_info(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["i"]}', b, b.y)) -> 'n_seen' AS n FROM big b;
SELECT ml_info(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["i"]}', b, 'y'::name)) -> 'features' AS features FROM big b;
RESET client_min_messages;
SET max_parallel_workers_per_gather = 0;

-- Errors: no such column (42703), a column no label can be (42804).
SELECT ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', t, 'churn'::name) FROM t;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', r, 'd'::name) FROM (SELECT 1.0 AS x, current_date AS d) r;
\echo :LAST_ERROR_SQLSTATE
-- A name-typed value names the label column; cast it to text to use it as a class.
SELECT ml_fit('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', r, r.n) FROM (SELECT 1.0 AS x, 'alice'::name AS n) r;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_info(ml_fit('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', r, r.n::text)) -> 'classes' AS classes
FROM (SELECT 1.0 AS x, 'alice'::name AS n) r;
-- A text argument is a class label, as before (here a constant class): the name overload is
-- chosen only by a name.
SELECT ml_info(ml_fit('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', r, 'churned')) -> 'classes' AS constant_class
FROM (SELECT a FROM t) r;

-- ---------------------------------------------------------------------------------------------
-- ml_train
-- ---------------------------------------------------------------------------------------------
-- user did: ml_train(spec, 'SELECT t, churned FROM t') with t holding churned: the WARNING.
SELECT ml_info(ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["id"]}',
                        'SELECT t, churned FROM leakage.t ORDER BY id', epochs => 2)) -> 'n_seen' AS n;
-- user did: ml_train(spec, 'SELECT * FROM t', label => 'churned'): the query's rows, the label by
-- its column, every other column a feature; the same model as the features given apart.
SELECT ml_model_bytes(ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["id"]}', 'SELECT * FROM leakage.t ORDER BY id',
                               label => 'churned', epochs => 3, seed => 7))
     = ml_model_bytes(ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["id", "churned"]}',
                               'SELECT s, t.churned FROM (SELECT id, a, b, plan FROM leakage.t) s JOIN leakage.t USING (id) ORDER BY id',
                               epochs => 3, seed => 7)) AS same_model;
SELECT ml_info(ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["id"]}', 'SELECT * FROM leakage.t', label => 'churned')) -> 'features' AS features;
-- Positional: the label third.
SELECT ml_info(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT a, b FROM leakage.t', 'b', 2)) -> 'n_seen' AS n_seen;
-- A copy of the label among the query's columns: the WARNING.
SELECT ml_info(ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["id"]}', 'SELECT * FROM leakage.t2', label => 'churned')) -> 'n_seen' AS n;
-- Errors: no such column (42703), nothing but the label (22023), a type no label has (42804).
SELECT ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT * FROM leakage.t', label => 'churn');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT churned FROM leakage.t', label => 'churned');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT 1.0 AS x, current_date AS d', label => 'd');
\echo :LAST_ERROR_SQLSTATE
-- A row whose label is NULL teaches nothing; a NULL label name gives NULL (the function is STRICT).
SELECT ml_info(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT 1.0 AS x, NULL::float8 AS y', label => 'y')) -> 'n_seen' AS n_seen;
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT 1.0 AS x, 2.0 AS y', label => NULL) IS NULL AS null_name_null_model;

-- ---------------------------------------------------------------------------------------------
-- ml_attach: the label column is never a feature (excluded by default, refused when named), and
-- a feature column that copies the label warns when its labels are learned.
-- ---------------------------------------------------------------------------------------------
SELECT ml_register('leakage_m', ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 1));
SELECT ml_deploy('leakage_m', 1);
CREATE TABLE sessions (id int PRIMARY KEY, a float8, flag boolean, score float8, churned boolean);
SELECT ml_attach('sessions', 'leakage_m', key => 'id', prediction => 'score', label => 'churned');
SELECT features FROM ml_attachments WHERE table_name = 'sessions'::regclass;
-- user did: features => ARRAY[..., the label column]: refused.
SELECT ml_detach('sessions');
SELECT ml_attach('sessions', 'leakage_m', key => 'id', prediction => 'score', label => 'churned',
                 features => ARRAY['a', 'churned']);
\echo :LAST_ERROR_SQLSTATE
-- flag repeats the label: learning the labels warns (once, for the batch learned).
SELECT ml_attach('sessions', 'leakage_m', key => 'id', prediction => 'score', label => 'churned');
INSERT INTO sessions (id, a, flag) SELECT i, i * 0.1, i % 3 = 0 FROM generate_series(1, 20) i;
UPDATE sessions SET churned = flag;
SELECT ml_learn_pending('leakage_m') AS learned;
SELECT ml_info(ml_get('leakage_m', 1)) -> 'features' AS learned_features;

-- Clean up the shared tables.
SELECT ml_detach('sessions');
DELETE FROM ml_prediction_log WHERE model_name = 'leakage_m';
SELECT ml_unregister('leakage_m', force => true);
DROP SCHEMA leakage CASCADE;
