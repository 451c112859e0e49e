-- A value that cannot be read back is never stored: an update that would make a model's
-- statistics or optimizer state overflow is refused when it is learned (22003), instead of
-- storing a model that every later read refuses (22P03).
CREATE SCHEMA stored_values;
SET search_path = stored_values, public;
-- The reproduction: a finite feature above ~1.34e154 in a scaled model.
SELECT ml_fit('{"model":"logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false,"scale":true}'::ml_model, x, 1 ORDER BY i)::text
FROM (VALUES (1,'{"a":1e155}'::jsonb),(2,'{"a":1}'::jsonb)) s(i,x);
\echo :LAST_ERROR_SQLSTATE
-- One update at a time: the first value is learned, the one that would overflow is refused,
-- and the model stored before it still reads back and scores.
CREATE TABLE m AS SELECT ml_fit_one('{"model":"linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false,"scale":true}'::ml_model, '{"a":1e155}'::jsonb, 1) AS m;
UPDATE m SET m = ml_fit_one(m, '{"a":-1e155}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_info(m) -> 'n_seen' AS n_seen, ml_model_from_bytes(ml_model_bytes(m))::text = m::text AS reads_back,
       ml_predict_one(m, '{"a": 1}'::jsonb) AS score
FROM m;
-- Optimizer state that would overflow (AdaGrad's sum of squared gradients) is refused too.
SELECT ml_fit_one('{"model":"linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false,"optimizer":"adagrad"}'::ml_model, '{"a":1e300}'::jsonb, 1e300);
\echo :LAST_ERROR_SQLSTATE
DROP SCHEMA stored_values CASCADE;
