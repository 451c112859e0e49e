-- Multiclass classification end to end: softmax_regression through ml_fit_one, ml_fit (also in
-- parallel), ml_train, ml_predict_class / ml_predict_proba (by value and by name), classes as
-- text, integers and booleans, the formats, the registry, and every error with its SQLSTATE.
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA multiclass;
SET search_path = multiclass, public;

-- One step by hand (sgd, lr 0.01, intercept_lr 0.01). The first example adds the class "cat":
-- with one class its probability is 1 and the gradient 0, so nothing moves. The second adds
-- "dog": both scores are 0, p = (0.5, 0.5), the gradients of the scores are p - onehot =
-- (0.5, -0.5), so w_a = -(0.01 * 0.5 * 2, -0.01 * 0.5 * 2) = (-0.01, 0.01) and the
-- intercepts -(0.01 * 0.5, -0.01 * 0.5) = (-0.005, 0.005).
CREATE TABLE step AS
SELECT ml_fit_one(ml_fit_one('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 2}'::jsonb, 'cat'),
                  '{"a": 2}'::jsonb, 'dog') AS m;
SELECT ml_info(m) ->> 'task' AS task, ml_info(m) -> 'classes' AS classes, ml_info(m) -> 'weights' AS weights,
       ml_info(m) -> 'intercepts' AS intercepts, ml_info(m) -> 'n_seen' AS n_seen FROM step;
-- At a = 1 the scores are (-0.015, 0.015): p(dog) = 1 / (1 + e^-0.03) = 0.50749943750...
SELECT ml_predict_class(m, '{"a": 1}'::jsonb) AS class,
       round((ml_predict_proba(m, '{"a": 1}'::jsonb) ->> 'dog')::numeric, 12) AS p_dog,
       round((ml_predict_proba(m, '{"a": 1}'::jsonb) ->> 'cat')::numeric, 12) AS p_cat,
       ml_predict_class(m, '{"a": -1}'::jsonb) AS class_at_minus_one
FROM step;

-- Three clusters, by jsonb, array and row.
CREATE TABLE pts AS
SELECT i, cls,
       cx + ((i * 37) % 11 - 5) * 0.06 AS x,
       cy + ((i * 53) % 13 - 6) * 0.06 AS y
FROM generate_series(1, 300) i,
     LATERAL (SELECT (ARRAY['red', 'green', 'blue'])[1 + i % 3] AS cls,
                     (ARRAY[2.0, -1.0, -1.0])[1 + i % 3] AS cx,
                     (ARRAY[0.0, 1.7, -1.7])[1 + i % 3] AS cy) c;
CREATE TABLE fitted AS
SELECT ml_train('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"adagrad": {"lr": 0.1}}}',
                'SELECT jsonb_build_object(''x'', x, ''y'', y), cls FROM multiclass.pts', 5) AS m;
SELECT ml_info(m) ->> 'kind' AS kind, ml_info(m) ->> 'task' AS task, ml_info(m) -> 'n_seen' AS n_seen,
       (SELECT array_agg(c ORDER BY c) FROM jsonb_array_elements_text(ml_info(m) -> 'classes') c) AS classes
FROM fitted;
-- Every training point is classified right; probabilities sum to 1; the class is the argmax.
SELECT ml_accuracy(ml_class_state(p.cls, ml_predict_class(f.m, jsonb_build_object('x', p.x, 'y', p.y)))) AS accuracy
FROM pts p, fitted f;
SELECT bool_and(abs((SELECT sum(v::float8) FROM jsonb_each_text(pr) e(k, v)) - 1) < 1e-12) AS sums_to_one,
       bool_and(cl = (SELECT k FROM jsonb_each_text(pr) e(k, v) ORDER BY v::float8 DESC LIMIT 1)) AS class_is_argmax
FROM (SELECT ml_predict_proba(f.m, jsonb_build_object('x', p.x, 'y', p.y)) AS pr,
             ml_predict_class(f.m, jsonb_build_object('x', p.x, 'y', p.y)) AS cl
      FROM pts p, fitted f) s;
-- The same with arrays (features x1, x2) through the ml_fit aggregate, and with rows.
SELECT ml_accuracy(ml_class_state(p.cls, ml_predict_class(a.m, ARRAY[p.x, p.y]::float8[]))) AS array_accuracy
FROM pts p,
     (SELECT ml_fit('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"adagrad": {"lr": 0.1}}}',
                    ARRAY[x, y]::float8[], cls ORDER BY i) AS m FROM pts) a;
SELECT ml_accuracy(ml_class_state(p.cls, ml_predict_class(r.m, (SELECT t FROM (SELECT p.x, p.y) t)))) AS row_accuracy
FROM pts p,
     (SELECT ml_fit('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"adagrad": {"lr": 0.1}}}',
                    (SELECT t FROM (SELECT q.x, q.y) t), q.cls ORDER BY q.i) AS m FROM pts q) r;
-- ml_class_state from the probabilities gives the log loss too.
SELECT round(ml_accuracy(s)::numeric, 6) AS accuracy, ml_logloss(s) < 0.2 AS low_logloss
FROM (SELECT ml_class_state(p.cls, ml_predict_proba(f.m, jsonb_build_object('x', p.x, 'y', p.y))) AS s
      FROM pts p, fitted f) t;

-- Classes as integers and booleans: 3 is the class "3", true the class "true".
SELECT ml_info(ml_fit_one(ml_fit_one('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 3), '{"a": 1}'::jsonb, 7)) -> 'classes' AS int_classes,
       ml_info(ml_fit_one(ml_fit_one('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, true), '{"a": 1}'::jsonb, false)) -> 'classes' AS bool_classes;
-- ml_train takes a text, integer or boolean label column.
SELECT ml_info(ml_train('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT jsonb_build_object(''x'', x), i % 4 FROM multiclass.pts')) -> 'classes' AS int_column,
       ml_info(ml_train('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT jsonb_build_object(''x'', x), i % 2 = 0 FROM multiclass.pts')) -> 'classes' AS bool_column;
-- A NULL class teaches nothing, as a NULL label always does.
SELECT ml_info(ml_fit_one(m, '{"a": 1}'::jsonb, NULL::text)) -> 'n_seen' AS unchanged FROM step;

-- In parallel: workers see different classes (the class "late" only in the table's last rows);
-- the combine function merges partial models class by class, and every row counts once.
CREATE TABLE big AS
SELECT i, jsonb_build_object('x', (i % 17) * 0.1, 'y', (i % 5) * 0.2) AS j,
       CASE WHEN i > 29000 THEN 'late' ELSE 'k' || (i % 3) END AS cls
FROM generate_series(1, 30000) i;
ANALYZE big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT ml_fit('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', j, cls) FROM big;
SELECT ml_info(m) -> 'n_seen' AS n_seen,
       (SELECT array_agg(c ORDER BY c) FROM jsonb_array_elements_text(ml_info(m) -> 'classes') c) AS classes
FROM (SELECT ml_fit('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', j, cls) AS m FROM big) s;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- Binary classifiers answer the same functions: classes "0" and "1", P(1) = ml_predict_one.
CREATE TABLE bin AS
SELECT ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object('x', x), (cls = 'red')::int ORDER BY i) AS m FROM pts;
SELECT ml_predict_class(m, '{"x": 2}'::jsonb) AS at_2, ml_predict_class(m, '{"x": -1}'::jsonb) AS at_minus_1,
       (ml_predict_proba(m, '{"x": 2}'::jsonb) ->> '1')::float8 = ml_predict_one(m, '{"x": 2}'::jsonb) AS p1_is_score,
       abs((ml_predict_proba(m, '{"x": 2}'::jsonb) ->> '0')::float8 + ml_predict_one(m, '{"x": 2}'::jsonb) - 1) < 1e-15 AS p0_complements,
       ml_info(m) -> 'classes' AS classes, ml_info(m) ->> 'task' AS task
FROM bin;
-- A binary classifier takes its classes as 0/1, booleans, or text that says so.
SELECT ml_info(ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, true)) -> 'n_seen' AS bool_label,
       ml_info(ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, 'false')) -> 'n_seen' AS text_label;
-- A regression reads a text label that spells a number as that number.
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, '2.5'::text)) -> 'intercept' AS intercept;

-- The formats: text and binary round trips are exact.
SELECT m::text::ml_model::text = m::text AS text_round_trip,
       ml_model_from_bytes(ml_model_bytes(m))::text = m::text AS binary_round_trip,
       ml_predict_proba(m::text::ml_model, '{"x": 0.3, "y": -0.2}'::jsonb) = ml_predict_proba(m, '{"x": 0.3, "y": -0.2}'::jsonb) AS same_scores
FROM fitted;
SELECT (m::text::jsonb) -> 'classes' AS classes, jsonb_array_length((m::text::jsonb) -> 'weights') AS n_weights,
       (m::text::jsonb) -> 'intercepts' AS intercepts FROM step;

-- By name through the registry: the task is stored with the version.
SELECT ml_register('colours', m) AS version FROM fitted;
SELECT ml_deploy('colours', 1);
SELECT task, kind FROM ml_models WHERE name = 'colours';
SELECT ml_predict_class('colours', '{"x": 2, "y": 0}'::jsonb) AS by_name,
       ml_predict_class('colours', '{"x": 2, "y": 0}'::jsonb) = ml_predict_class(m, '{"x": 2, "y": 0}'::jsonb) AS same_as_value,
       ml_predict_proba('colours', '{"x": 2, "y": 0}'::jsonb) = ml_predict_proba(m, '{"x": 2, "y": 0}'::jsonb) AS same_proba,
       ml_predict_class('colours', ARRAY[1, 2]::float8[]) AS array_by_name
FROM fitted;
SELECT ml_learn('colours', '{"x": 0, "y": 0}'::jsonb, 'purple') AS learned_version;
SELECT (SELECT array_agg(c ORDER BY c) FROM jsonb_array_elements_text(ml_info(ml_get('colours')) -> 'classes') c) AS classes_after_learning;
SELECT ml_unregister('colours', true);

-- Errors.
\set VERBOSITY terse
-- A multiclass model has no single number to give.
SELECT ml_predict_one(m, '{"a": 1}'::jsonb) FROM step;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT ml_predict_one(m, ARRAY[1]::float8[]) FROM step;
\echo :LAST_ERROR_SQLSTATE
-- A regression has no classes.
SELECT ml_predict_class('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::ml_model, '{"a": 1}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_proba('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::ml_model, '{"a": 1}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
-- Labels a model cannot take.
SELECT ml_fit_one(m, '{"a": 1}'::jsonb, '') FROM step;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one(m, '{"a": 1}'::jsonb, 2.5) FROM step;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one(m, '{"a": 1}'::jsonb, 'NaN'::float8) FROM step;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 'cat');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 'cat');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT jsonb_build_object(''x'', x), ARRAY[i] FROM multiclass.pts');
\echo :LAST_ERROR_SQLSTATE
-- More classes than the limit (1,000).
SELECT ml_fit('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 'c' || i ORDER BY i) FROM generate_series(1, 1001) i;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_info(ml_fit('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 'c' || i ORDER BY i)) -> 'n_seen' AS at_the_limit
FROM generate_series(1, 1000) i;
-- A model written by a newer pg_learn (format version 2), as text and as bytes.
SELECT '{"pg_learn_model": 2, "kind": "softmax_regression"}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(overlay(ml_model_bytes(m) placing '\x0300'::bytea from 5 for 2)) FROM step;
\echo :LAST_ERROR_SQLSTATE
-- A softmax model with a corrupted class section is refused (the checksum, then the content).
SELECT ml_model_from_bytes(overlay(ml_model_bytes(m) placing '\xff'::bytea from length(ml_model_bytes(m)) - 20 for 1)) FROM step;
\echo :LAST_ERROR_SQLSTATE
-- Classes in the text form are checked too.
SELECT jsonb_set(m::text::jsonb, '{classes}', '["cat", "cat"]')::text::ml_model FROM step;
\echo :LAST_ERROR_SQLSTATE
SELECT jsonb_set(m::text::jsonb, '{intercepts}', '[0]')::text::ml_model FROM step;
\echo :LAST_ERROR_SQLSTATE
SELECT jsonb_set(m::text::jsonb, '{classes}', '["cat", ""]')::text::ml_model FROM step;
\echo :LAST_ERROR_SQLSTATE

DROP SCHEMA multiclass CASCADE;
