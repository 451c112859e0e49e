-- Every model, optimizer and option of the spec, on a small data set whose results were
-- checked against an independent implementation of docs/algorithms.md (Python).
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA options;
SET search_path = options, public;
CREATE TABLE data (i int PRIMARY KEY, x jsonb, y float8, label int);
INSERT INTO data VALUES
  (1, '{"a": 1, "b": -2, "c": "u"}', 1.5, 1),
  (2, '{"a": 0.5, "b": 1, "c": "v"}', -0.5, 0),
  (3, '{"a": -1, "b": 0.5, "c": "u"}', 2, 1),
  (4, '{"a": 2, "b": -1, "c": "v"}', 0.25, 0),
  (5, '{"a": 1.5, "b": 2, "c": "u"}', 1, 1),
  (6, '{"a": -0.5, "b": -0.5}', -1, 0);
-- The intercept and every weight, rounded to 10 decimals.
CREATE FUNCTION show(m ml_model) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT 'b=' || round((ml_info(m) ->> 'intercept')::numeric, 10) || ' '
         || coalesce(string_agg(key || '=' || round(value::text::numeric, 10), ' ' ORDER BY key), '')
  FROM jsonb_each(ml_info(m) -> 'weights')
$$;

CREATE TABLE configs (name text PRIMARY KEY, spec jsonb);
INSERT INTO configs VALUES
  ('sgd',             '{"optimizer": "sgd"}'),
  ('sgd lr 0.1',      '{"optimizer": {"sgd": {"lr": 0.1}}}'),
  ('adagrad',         '{"optimizer": "adagrad"}'),
  ('adagrad params',  '{"optimizer": {"adagrad": {"lr": 0.5, "eps": 0.01}}}'),
  ('adam',            '{"optimizer": {"adam": {"lr": 0.1}}}'),
  ('adam params',     '{"optimizer": {"adam": {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "eps": 0.001}}}'),
  ('ftrl',            '{"optimizer": "ftrl"}'),
  ('ftrl l1',         '{"optimizer": {"ftrl": {"alpha": 0.5, "beta": 0.5, "l1": 0.3, "l2": 0.1}}}'),
  ('l2',              '{"l2": 0.5}'),
  ('l1',              '{"optimizer": {"sgd": {"lr": 0.1}}, "l1": 0.2}'),
  ('adagrad l1 l2',   '{"optimizer": "adagrad", "l1": 0.1, "l2": 0.1}'),
  ('intercept frozen','{"intercept_lr": 0, "intercept_init": 0.5}'),
  ('intercept fast',  '{"intercept_lr": 0.3}'),
  ('clip',            '{"optimizer": {"sgd": {"lr": 0.1}}, "clip_gradient": 0.1}'),
  ('scale',           '{"scale": true, "optimizer": {"sgd": {"lr": 0.1}}}'),
  ('hash 1 bit',      '{"hash_bits": 1, "optimizer": {"sgd": {"lr": 0.1}}}'),
  ('hash 4 bits',     '{"hash_bits": 4, "optimizer": "adagrad"}'),
  ('ignore',          '{"ignore": ["b", "c"]}');

SELECT c.name, show(ml_fit(('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::jsonb || c.spec)::text::ml_model, d.x, d.y ORDER BY d.i))
FROM configs c, data d GROUP BY c.name ORDER BY c.name;
SELECT c.name, show(ml_fit(('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::jsonb || c.spec)::text::ml_model, d.x, d.label ORDER BY d.i))
FROM configs c, data d GROUP BY c.name ORDER BY c.name;

-- Predictions of a few of them (the logistic ones are probabilities).
SELECT c.name, round(ml_predict_one(ml_fit(('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::jsonb || c.spec)::text::ml_model, d.x, d.label ORDER BY d.i),
                                    '{"a": 0.7, "b": -0.3, "c": "u"}'::jsonb)::numeric, 10) AS p
FROM configs c, data d WHERE c.name IN ('sgd', 'adam', 'ftrl l1', 'scale', 'hash 4 bits') GROUP BY c.name ORDER BY c.name;

-- Hashing: 2^b weights whatever the number of names; names are remembered for ml_info.
SELECT ml_info(m) -> 'n_weights' AS n_weights, ml_info(m) -> 'n_features' AS n_features, ml_info(m) -> 'features' AS features
FROM (SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 4}', x, y ORDER BY i) AS m FROM data) s;
-- Feature hashing is MurmurHash3_x86_32 (seed 0) mod 2^b: "a" hashes to 0x3c2569b2, so with
-- 2 bits its weight is at index 2; "q" also lands on index 0 mod 2 with 1 bit, as "a" does.
SELECT m::text::jsonb -> 'weights' AS weights, ml_info(m) -> 'weights' AS by_name
FROM (SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 2}', '{"a": 1}'::jsonb, 1) AS m) s;
-- Colliding names act as one feature: a weight learned for "a" is also the weight of "q".
SELECT ml_predict_one(m, '{"a": 1}'::jsonb) = ml_predict_one(m, '{"q": 1}'::jsonb) AS a_and_q_collide,
       ml_predict_one(m, '{"a": 1, "q": 1}'::jsonb) = ml_predict_one(m, '{"a": 2}'::jsonb) AS values_add_up
FROM (SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 1}', '{"a": 2}'::jsonb, 1) AS m) s;
-- While learning too: {"a": 1, "q": 1} teaches the same as {"a": 2} (adagrad, first step by hand:
-- g = -2, gi = -2 * 2 = -4, G = 16, w = 0.1 * 4 / 4 = 0.1; intercept 0.02).
SELECT m1::text::jsonb -> 'weights' = m2::text::jsonb -> 'weights' AS same_weights,
       show(m1) AS summed, show(m2) AS single
FROM (SELECT ml_fit_one(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 1, "optimizer": "adagrad"}', '{"a": 1, "q": 1}'::jsonb, 1), '{"a": 1, "q": 1}'::jsonb, 0) AS m1,
             ml_fit_one(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 1, "optimizer": "adagrad"}', '{"a": 2}'::jsonb, 1), '{"a": 2}'::jsonb, 0) AS m2) s;

-- Missing values. "zero" leaves a null feature out; "mean" imputes the running mean (without
-- updating it); "error" refuses it, when learning and when predicting.
CREATE TABLE gaps (i int, x jsonb, y float8);
INSERT INTO gaps VALUES (1, '{"a": 1, "b": 4}', 1), (2, '{"a": 3, "b": null}', 2), (3, '{"a": null, "b": 2}', 0.5), (4, '{"b": 1}', 1);
SELECT policy, show(ml_fit(('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"sgd": {"lr": 0.1}}, "missing": "' || policy || '"}')::ml_model,
                           x, y ORDER BY i))
FROM gaps, (VALUES ('zero'), ('mean')) p(policy) GROUP BY policy ORDER BY policy;
-- "mean" keeps the statistics of observed values only: a's mean is (1 + 3) / 2 = 2, b's (4 + 2 + 1) / 3.
SELECT ml_info(m)::jsonb -> 'n_seen' AS n_seen,
       (m::text::jsonb -> 'feature_stats') AS stats
FROM (SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "missing": "mean"}', x, y ORDER BY i) AS m FROM gaps) s;
-- Predicting with a null under "mean" uses the mean: same as giving the mean. An absent key
-- is not a NULL: it adds nothing.
SELECT ml_predict_one(m, '{"a": null, "b": 1}'::jsonb) = ml_predict_one(m, '{"a": 2, "b": 1}'::jsonb) AS imputed,
       ml_predict_one(m, '{"b": 1}'::jsonb) <> ml_predict_one(m, '{"a": 2, "b": 1}'::jsonb) AS absent_key_not_imputed
FROM (SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "missing": "mean"}', x, y ORDER BY i) AS m FROM gaps) s;
-- With scaling, "zero" imputes the mean after scaling (a scaled mean is 0): the same prediction.
SELECT ml_predict_one(m, '{"a": null, "b": 1}'::jsonb) = ml_predict_one(m, '{"b": 1}'::jsonb) AS same,
       abs(ml_predict_one(m, '{"a": null, "b": 1}'::jsonb) - ml_predict_one(m, '{"a": 2, "b": 1}'::jsonb)) < 1e-12 AS as_mean
FROM (SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "scale": true}', x, y ORDER BY i) AS m FROM gaps WHERE i <> 2) s;
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "missing": "error"}', x, y ORDER BY i) FROM gaps;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "missing": "error"}', '{"a": null}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "missing": "error"}', (SELECT r FROM (SELECT 1 AS a, NULL::int AS b) r));
\echo :LAST_ERROR_SQLSTATE
-- An absent key is not a NULL: no error.
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "missing": "error"}', '{}'::jsonb) AS absent;
-- An ignored feature is never missing.
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "missing": "error", "ignore": ["a"]}', '{"a": null}'::jsonb) AS ignored;

-- "ignore" applies to jsonb keys, row columns and array positions (x<i>), by the key of a
-- categorical (not "key=value").
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["x2"]}', ARRAY[1, 2, 3]::float8[], 1)) -> 'weights' AS arr,
       ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["c"]}', '{"a": 1, "c": "u"}'::jsonb, 1)) -> 'weights' AS by_key,
       ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["c=u"]}', '{"a": 1, "c": "u"}'::jsonb, 1)) -> 'weights' AS not_by_name;
-- Ignored array positions are not part of the prediction either.
SELECT ml_predict_one(m, ARRAY[1, 1000, 1]::float8[]) = ml_predict_one(m, ARRAY[1, 0, 1]::float8[]) AS x2_ignored
FROM (SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["x2"]}', ARRAY[1, 2, 3]::float8[], 1) AS m) s;

-- Scaling by hand, sgd lr 0.1 on one feature a = 1, 3 (y = 1, 2): first example: c = 1, mean 1,
-- variance 0, so the scaled value is 0; b = 0.02. Second: mean 2, M2 = 2, sd = 1, scaled value
-- (3 - 2) / 1 = 1, prediction 0.02, g = 2 * (0.02 - 2) = -3.96: b = 0.0596, a = 0.396.
SELECT show(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "scale": true, "optimizer": {"sgd": {"lr": 0.1}}}', x, y ORDER BY i))
FROM (VALUES (1, '{"a": 1}'::jsonb, 1), (2, '{"a": 3}'::jsonb, 2)) v(i, x, y);

-- Spec errors name the option (22023).
SELECT '{"model": "svm"}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": 1}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "learning_rate": 0.1}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": "rmsprop"}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"sgd": {"lr": 0.1}, "adam": {}}}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": 3}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"sgd": 0.1}}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"sgd": {"eta": 0.1}}}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"sgd": {"lr": "0.1"}}}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"sgd": {"lr": 0}}}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"adam": {"beta1": 1}}}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"adagrad": {"eps": -1}}}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"ftrl": {"alpha": 0}}}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": "ftrl", "l1": 0.1}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "l2": -0.1}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "l1": true}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "intercept_lr": -1}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "intercept_init": 1e13}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "clip_gradient": 0}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "scale": "yes"}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "scale": 1}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 25}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": -1}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 2.5}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": "8"}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "missing": "drop"}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "missing": null}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": "id"}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["id", 2]}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT ('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ' || (SELECT jsonb_agg('f' || i) FROM generate_series(1, 1001) i)::text || '}')::ml_model;
\echo :LAST_ERROR_SQLSTATE
-- 1000 ignored names are fine.
SELECT jsonb_array_length(ml_info(('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ' || (SELECT jsonb_agg('f' || i) FROM generate_series(1, 1000) i)::text || '}')::ml_model) -> 'spec' -> 'ignore') AS ignored;
-- Option boundaries that are accepted.
SELECT ml_info(('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, ' || o || '}')::ml_model) -> 'spec' -> k AS value
FROM (VALUES ('"hash_bits": 0', 'hash_bits'), ('"hash_bits": 1', 'hash_bits'), ('"l2": 0', 'l2'),
             ('"intercept_lr": 0', 'intercept_lr'), ('"optimizer": {"adam": {"beta1": 0}}', 'optimizer'),
             ('"optimizer": {"ftrl": null}', 'optimizer'), ('"optimizer": {"sgd": {}}', 'optimizer')) v(o, k);
