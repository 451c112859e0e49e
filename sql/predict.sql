-- ml_predict_one: scoring rows with models from tables (the decoded model is cached per query
-- and must follow the model of each row), TOASTed and compressed models, immutability.
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA predict;
SET search_path = predict, public;
CREATE TABLE models (id int PRIMARY KEY, m ml_model);
INSERT INTO models
SELECT k, ml_fit(('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "intercept_lr": 0, "optimizer": {"sgd": {"lr": ' || k * 0.01 || '}}}')::ml_model,
                 '{"a": 1}'::jsonb, 1)
FROM generate_series(1, 4) k GROUP BY k;
-- Each model learned one step: w_a = lr_k * 2 = 0.02 k, so the prediction for a = 10 is 0.2 k.
CREATE TABLE rows AS SELECT i, 1 + (i * 7) % 4 AS model_id FROM generate_series(1, 40) i;
SELECT r.model_id, count(*), min(round(ml_predict_one(m.m, '{"a": 10}'::jsonb)::numeric, 12)) AS lo,
       max(round(ml_predict_one(m.m, '{"a": 10}'::jsonb)::numeric, 12)) AS hi
FROM rows r JOIN models m ON m.id = r.model_id GROUP BY r.model_id ORDER BY 1;
-- Rows alternate between models: every prediction still uses its own row's model.
SELECT bool_and(round(ml_predict_one(m.m, '{"a": 10}'::jsonb)::numeric, 12) = 0.2 * r.model_id) AS all_right
FROM rows r JOIN models m ON m.id = r.model_id;
SELECT bool_and(round(ml_predict_one(m.m, ARRAY[10]::float8[])::numeric, 12) = 0) AS x1_unknown,
       bool_and(round(ml_predict_one(m.m, (SELECT t FROM (SELECT 10 AS a) t))::numeric, 12) = 0.2 * r.model_id) AS by_row
FROM rows r JOIN models m ON m.id = r.model_id;

-- A large model is stored out of line (TOAST), or compressed inline; scoring reads it once per
-- query, and sees a new value after an update.
CREATE TABLE stored (name text PRIMARY KEY, m ml_model);
INSERT INTO stored
SELECT 'wide', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', (SELECT jsonb_object_agg('feature_' || i, 1) FROM generate_series(1, 2000) i), 1);
CREATE TABLE stored_main (name text PRIMARY KEY, m ml_model);
ALTER TABLE stored_main ALTER COLUMN m SET STORAGE MAIN;
INSERT INTO stored_main SELECT * FROM stored;
-- Where the values live: out of line (chunks in the TOAST table) or inline, compressed or not.
CREATE FUNCTION toast_chunks(t regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM %s', (SELECT reltoastrelid::regclass FROM pg_class WHERE oid = t)) INTO n;
  RETURN n;
END $$;
SELECT 'stored' AS tbl, toast_chunks('stored') > 0 AS out_of_line, pg_column_size(m) < length(ml_model_bytes(m)) AS compressed,
       length(ml_model_bytes(m)) AS bytes FROM stored
UNION ALL
SELECT 'stored_main', toast_chunks('stored_main') > 0, pg_column_size(m) < length(ml_model_bytes(m)), length(ml_model_bytes(m)) FROM stored_main;
-- By hand: g = 2 * (0 - 1) = -2, every weight 0.02, intercept 0.02; a row with features 1..n
-- set to 1 scores 0.02 + 0.02 n.
CREATE TABLE queries AS SELECT n, (SELECT coalesce(jsonb_object_agg('feature_' || i, 1), '{}') FROM generate_series(1, n) i) AS x
FROM generate_series(0, 2000, 250) n;
SELECT q.n, round(ml_predict_one(s.m, q.x)::numeric, 9) AS toasted, round(ml_predict_one(sm.m, q.x)::numeric, 9) AS compressed
FROM queries q, stored s, stored_main sm ORDER BY q.n;
BEGIN;
UPDATE stored SET m = ml_fit_one(m, '{"feature_1": 1}'::jsonb, 10);
UPDATE stored_main SET m = ml_fit_one(m, '{"feature_1": 1}'::jsonb, 10);
-- feature_1 and the intercept moved by 0.01 * 2 * (10 - 0.04) = 0.1992.
SELECT q.n, round(ml_predict_one(s.m, q.x)::numeric, 9) AS toasted, round(ml_predict_one(sm.m, q.x)::numeric, 9) AS compressed
FROM queries q, stored s, stored_main sm WHERE q.n <= 500 ORDER BY q.n;
ROLLBACK;
SELECT round(ml_predict_one(m, '{"feature_1": 1}'::jsonb)::numeric, 9) AS after_rollback FROM stored;
-- Stored, then read back through every path: the same bytes.
SELECT ml_model_bytes(s.m) = ml_model_bytes(sm.m) AS same, ml_model_bytes(s.m::text::ml_model) = ml_model_bytes(s.m) AS text_round_trip
FROM stored s, stored_main sm;

-- Logistic predictions are probabilities, stable at the extremes (no NaN).
CREATE TABLE logit AS SELECT '{"pg_learn_model": 1, "kind": "logistic_regression", "spec": {"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false},
  "updates": 0, "n_seen": 0, "dense_dim": 0, "intercept": 0, "features": ["z"], "feature_types": ["numeric"],
  "weights": [1]}'::ml_model AS m;
SELECT z, round(ml_predict_one(m, jsonb_build_object('z', z))::numeric, 12) AS p,
       CASE WHEN abs(z) < 100 THEN round(ml_predict_one(m, jsonb_build_object('z', z))::numeric, 12) = round((1 / (1 + exp(-z::float8)))::numeric, 12) END AS as_sigmoid
FROM logit, (VALUES (-1000), (-40), (-1), (0), (1), (40), (1000)) v(z) ORDER BY z;
SELECT ml_predict_one(m, '{"z": -1000}'::jsonb) = 0 AS zero, ml_predict_one(m, '{"z": 1000}'::jsonb) = 1 AS one,
       ml_predict_one(m, '{"z": -40}'::jsonb) > 0 AS positive FROM logit;

-- IMMUTABLE and PARALLEL SAFE: usable in generated columns and index expressions.
CREATE TABLE scored (x jsonb, score float8 GENERATED ALWAYS AS
  (ml_predict_one('{"pg_learn_model": 1, "kind": "linear_regression", "spec": {"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}, "updates": 0, "n_seen": 0, "dense_dim": 0, "intercept": 1, "features": ["a"], "feature_types": ["numeric"], "weights": [2]}'::ml_model, x)) STORED);
INSERT INTO scored (x) VALUES ('{"a": 1}'), ('{"a": -0.5}'), ('{"b": 3}');
SELECT x, score FROM scored ORDER BY score;
CREATE INDEX scored_by_model ON scored ((ml_predict_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::ml_model, x)));
SELECT provolatile, proparallel, proisstrict FROM pg_proc WHERE proname = 'ml_predict_one' GROUP BY 1, 2, 3;
SELECT proname, provolatile, proparallel, proisstrict FROM pg_proc
WHERE proname IN ('ml_fit_one', 'ml_train', 'ml_info', 'ml_model_bytes', 'ml_model_from_bytes', 'ml_fit_transition', 'ml_fit_combine', 'ml_fit_final')
GROUP BY 1, 2, 3, 4 ORDER BY 1;
SELECT aggfnoid::regprocedure, aggcombinefn, aggfinalmodify, proparallel
FROM pg_aggregate JOIN pg_proc ON pg_proc.oid = aggfnoid WHERE proname = 'ml_fit' ORDER BY aggfnoid::regprocedure::text;
