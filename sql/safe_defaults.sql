-- Issue "Safe by default", items 1 and 2: defaults that learn on raw data, stored models that
-- keep their stored spec, divergence caught, the training loss in ml_info, and a trained model
-- starting a parallel ml_fit counting its statistics once. Each case is named after what the
-- user did.
CREATE SCHEMA safe_defaults;
SET search_path = safe_defaults, public;

-- Raw business data: prices around 1e5 from an area in m^2 (~100), a distance in metres (~1e3),
-- an age in years and a category; no scaling by hand.
CREATE TABLE houses AS
SELECT i,
       60 + (i * 37 % 120) AS area,
       200 + (i * 53 % 4000) AS distance_m,
       (i * 17 % 50) AS age,
       (ARRAY['north', 'south', 'east'])[1 + i % 3] AS district,
       -- a deterministic "noise" term in [-5000, 5000)
       20000 + 1500 * (60 + (i * 37 % 120)) - 8 * (200 + (i * 53 % 4000)) - 300 * (i * 17 % 50)
         + CASE i % 3 WHEN 0 THEN 15000 WHEN 1 THEN 0 ELSE -10000 END
         + ((i * 7919) % 10000) - 5000 AS price
FROM generate_series(1, 3000) i;
CREATE VIEW houses_x AS
SELECT i, jsonb_build_object('area', area, 'distance_m', distance_m, 'age', age, 'district', district) AS x,
       price::float8 AS y
FROM houses;

-- user did: trained a linear regression on raw prices with the default spec (0.1.0 diverged to
-- finite garbage, MAE ~1e16). Now the mean absolute error is a small fraction of the labels'
-- own spread around their mean.
CREATE TABLE m_default AS
SELECT ml_train('{"model": "linear_regression"}', 'SELECT x, y FROM safe_defaults.houses_x WHERE i <= 2400') AS m;
WITH s AS (SELECT y, ml_predict_one(m, x) AS p FROM houses_x, m_default WHERE i > 2400)
SELECT avg(abs(p - y)) < 0.1 * avg(abs(y - (SELECT avg(y) FROM s))) AS mae_small,
       regr_r2(p, y) > 0.99 AS r2_high
FROM s;
-- what the new defaults are, as ml_info prints them
SELECT jsonb_pretty(ml_info(m) -> 'spec') FROM m_default;
-- the training loss: every example of 10 epochs, and recent loss far below the labels' variance
SELECT ml_info(m) -> 'training_loss' ->> 'loss' AS loss,
       ml_info(m) -> 'training_loss' -> 'examples' AS examples,
       (ml_info(m) -> 'training_loss' ->> 'recent')::float8 < 0.01 * (SELECT var_pop(y) FROM houses_x WHERE i <= 2400) AS recent_small,
       ml_info(m) -> 'label' -> 'count' AS label_count,
       abs((ml_info(m) -> 'label' ->> 'mean')::float8 - (SELECT avg(y) FROM houses_x WHERE i <= 2400)) < 1e-6 AS label_mean_exact
FROM m_default;

-- user did: the same with ml_fit (one pass, in order): still reasonable
WITH m AS (SELECT ml_fit('{"model": "linear_regression"}', x, y ORDER BY i) AS m FROM houses_x WHERE i <= 2400)
SELECT regr_r2(ml_predict_one(m, x), y) > 0.9 AS one_pass_r2 FROM houses_x, m WHERE i > 2400;

-- user did: wrote out 0.1.0's defaults (plain SGD, nothing scaled): the model diverges, and
-- now learning stops with an error instead of returning garbage.
\set VERBOSITY default
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false}',
                'SELECT x, y FROM safe_defaults.houses_x WHERE i <= 2400');
\set VERBOSITY terse
-- ... and ml_fit_one refuses the next update once one has exploded: the first step on raw
-- units already overshoots (its damage shows in the loss of the next example), the second is
-- refused
DO $$
DECLARE m ml_model := '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false}';
        r record; n int := 0;
BEGIN
  FOR r IN SELECT x, y FROM safe_defaults.houses_x ORDER BY i LOOP
    BEGIN
      m := ml_fit_one(m, r.x, r.y);
      n := n + 1;
    EXCEPTION WHEN numeric_value_out_of_range THEN
      RAISE NOTICE 'refused after % examples: %', n, SQLERRM;
      EXIT;
    END;
  END LOOP;
  RAISE NOTICE 'the model kept % examples', ml_info(m) -> 'n_seen';
END $$;
-- user did: turned the check off explicitly: 0.1.0's behaviour, the user's choice
SELECT ml_info(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}',
                        'SELECT x, y FROM safe_defaults.houses_x WHERE i <= 100', 1)) -> 'training_loss' AS no_loss_kept;

-- user did: trained the default logistic regression on unscaled features (0.1.0: log loss 5.5)
CREATE VIEW houses_c AS SELECT i, x, (y > 150000)::int::float8 AS y FROM houses_x;
WITH m AS (SELECT ml_train('{"model": "logistic_regression"}', 'SELECT x, y FROM safe_defaults.houses_c WHERE i <= 2400') AS m),
     s AS (SELECT y, ml_predict_one(m, x) AS p FROM houses_c, m WHERE i > 2400)
SELECT avg(CASE WHEN y = 1 THEN -ln(greatest(p, 1e-15)) ELSE -ln(greatest(1 - p, 1e-15)) END) < 0.3 AS logloss_small,
       avg(((p > 0.5)::int = y::int)::int) > 0.9 AS accurate
FROM s;
-- user did: picked Adam with its default learning rate (0.1.0: lr 0.1, worse than sgd)
SELECT ml_info('{"model": "logistic_regression", "optimizer": "adam"}'::ml_model) -> 'spec' -> 'optimizer' AS adam_default;
WITH m AS (SELECT ml_train('{"model": "logistic_regression", "optimizer": "adam"}', 'SELECT x, y FROM safe_defaults.houses_c WHERE i <= 2400') AS m),
     s AS (SELECT y, ml_predict_one(m, x) AS p FROM houses_c, m WHERE i > 2400)
SELECT avg(CASE WHEN y = 1 THEN -ln(greatest(p, 1e-15)) ELSE -ln(greatest(1 - p, 1e-15)) END) < 0.3 AS adam_logloss_small
FROM s;
-- a classifier's training loss is a log loss
SELECT ml_info(ml_fit_one('{"model": "logistic_regression"}', '{"a": 1}'::jsonb, 1)) -> 'training_loss' AS first_loss;
SELECT ml_info(ml_fit_one('{"model": "softmax_regression"}', '{"a": 1}'::jsonb, 'x'::text)) -> 'training_loss' ->> 'loss' AS softmax_loss;
-- a model that has learned nothing has no training loss yet
SELECT ml_info('{"model": "linear_regression"}'::ml_model) -> 'training_loss' AS untrained;

-- user did: kept a model stored by 0.1.0 (its spec written in full, without the new options):
-- it keeps that spec, so it learns and predicts exactly as before, and prints the stored
-- defaults of the new options.
SELECT ml_info(m) -> 'spec' ->> 'optimizer' AS optimizer, ml_info(m) -> 'spec' -> 'scale' AS scale,
       ml_info(m) -> 'spec' -> 'scale_target' AS scale_target, ml_info(m) -> 'spec' -> 'check_divergence' AS check_divergence,
       ml_info(m) -> 'training_loss' AS training_loss
FROM (SELECT '{"pg_learn_model":1,"kind":"linear_regression","spec":{"clip_gradient":1000000000000.0,"hash_bits":0,"ignore":[],"intercept_init":0.0,"intercept_lr":0.01,"l1":0.0,"l2":0.0,"missing":"zero","model":"linear_regression","optimizer":{"sgd":{"lr":0.01}},"scale":false},"updates":1,"n_seen":1,"dense_dim":0,"intercept":0.04,"features":["a"],"feature_types":["numeric"],"weights":[0.04]}'::ml_model AS m) s;
-- ... its bytes are those of 0.1.0 (the spec section carries no new key): re-encoding is stable
SELECT ml_model_bytes(ml_model_from_bytes(ml_model_bytes(m))) = ml_model_bytes(m) AS same_bytes,
       position('scale_target' in encode(ml_model_bytes(m), 'escape')) = 0 AS no_new_key
FROM (SELECT ml_fit_one('{"model":"linear_regression","optimizer":"sgd","scale":false,"scale_target":false,"check_divergence":false}', '{"a": 1}'::jsonb, 2) AS m) s;
-- the new options are refused where they do not apply, and typed
SELECT '{"model": "logistic_regression", "scale_target": true}'::ml_model;
SELECT '{"model": "linear_regression", "check_divergence": 1}'::ml_model;

-- user did: started a parallel ml_fit from a model already trained with scaling. 0.1.0 counted
-- the starting model's feature statistics once per partial model; now they count once.
CREATE TABLE stream AS
SELECT i, jsonb_build_object('a', (i % 13) * 1.5, 'b', (i % 7) * 100.0) AS x, ((i % 13) * 2.0 + (i % 7)) AS y
FROM generate_series(1, 40000) i;
ANALYZE stream;
CREATE TABLE start AS
SELECT ml_fit('{"model": "linear_regression"}', x, y ORDER BY i) AS m FROM stream WHERE i <= 1000;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SELECT m AS start_model FROM start \gset
-- the plan is a parallel one, and workers run
EXPLAIN (COSTS OFF) SELECT ml_fit(:'start_model'::ml_model, x, y) FROM stream WHERE i > 1000;
CREATE FUNCTION workers_launched(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'Workers Launched' THEN RETURN trim(line); END IF;
  END LOOP;
  RETURN 'no workers';
END $$;
SELECT workers_launched(format('SELECT ml_fit(%L::ml_model, x, y) FROM safe_defaults.stream WHERE i > 1000', :'start_model'));
CREATE TABLE merged AS
SELECT ml_fit(:'start_model'::ml_model, x, y) AS m FROM stream WHERE i > 1000;
-- the statistics equal those of every example once (count, mean, population variance)
SELECT ml_info(m) -> 'n_seen' AS n_seen,
       (m::text::jsonb -> 'feature_stats' -> 'count') AS counts,
       abs((m::text::jsonb -> 'feature_stats' -> 'mean' ->> 0)::float8 - (SELECT avg((x ->> 'a')::float8) FROM stream)) < 1e-9 AS mean_a_exact,
       abs((m::text::jsonb -> 'feature_stats' -> 'm2' ->> 0)::float8 / 40000 - (SELECT var_pop((x ->> 'a')::float8) FROM stream)) < 1e-9 AS var_a_exact,
       ml_info(m) -> 'label' -> 'count' AS label_count,
       abs((ml_info(m) -> 'label' ->> 'mean')::float8 - (SELECT avg(y) FROM stream)) < 1e-9 AS label_mean_exact,
       ml_info(m) -> 'training_loss' -> 'examples' AS loss_examples,
       m::text::jsonb ? 'aggregation_base_state' AS base_left_in_result
FROM merged;
RESET parallel_leader_participation;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

DROP SCHEMA safe_defaults CASCADE;
