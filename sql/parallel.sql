-- ml_fit in parallel: the plan has a Partial Aggregate, workers train partial models that the
-- combine function merges (example-weighted averaging), and every row is counted once.
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA parallel;
SET search_path = parallel, public;
CREATE TABLE big AS
SELECT i, ARRAY[(i % 11) * 0.1 - 0.5, (i % 7) * 0.2 - 0.6]::float8[] AS x,
       jsonb_build_object('a', (i % 11) * 0.1 - 0.5, 'b', (i % 7) * 0.2 - 0.6, 'c', 'k' || (i % 3)) AS j,
       ((i % 11) * 0.1 - 0.5) * 3 - ((i % 7) * 0.2 - 0.6) + 0.5 AS y,
       (i % 3)::text AS grp
FROM generate_series(1, 30000) i;
ANALYZE big;
-- Feature names in sorted order: partial models meet names in an order that depends on which
-- process read which block.
CREATE FUNCTION sorted_features(m ml_model) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT array_agg(f ORDER BY f COLLATE "C") FROM jsonb_array_elements_text(ml_info(m) -> 'features') f
$$;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;

EXPLAIN (COSTS OFF) SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y) FROM big;
EXPLAIN (COSTS OFF) SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', j, y) FROM big;
EXPLAIN (COSTS OFF) SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["i", "x", "j", "y"]}', b, y) FROM big b;
EXPLAIN (COSTS OFF) SELECT grp, ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y) FROM big GROUP BY grp;
-- With ORDER BY inside the aggregate there is no partial aggregation: one sequential pass.
EXPLAIN (COSTS OFF) SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i) FROM big;

-- The workers really run, and the merged model has seen every row once.
CREATE FUNCTION workers_launched(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'Workers Launched' THEN RETURN trim(line); END IF;
  END LOOP;
  RETURN 'no workers';
END $$;
SELECT workers_launched($$SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y) FROM big$$);
SELECT ml_info(m) -> 'n_seen' AS n_seen, sorted_features(m) AS features, ml_info(m) -> 'dense_dim' AS dense_dim,
       (m::text::jsonb) -> 'aggregation_base' AS base
FROM (SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y) AS m FROM big) s;
SELECT ml_info(m) -> 'n_seen' AS n_seen, ml_info(m) -> 'n_features' AS n_features
FROM (SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": "adagrad"}', j, y) AS m FROM big) s;
SELECT ml_info(m) -> 'n_seen' AS n_seen, sorted_features(m) AS features
FROM (SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["i", "x", "j", "y"]}', b, y) AS m FROM big b) s;
SELECT grp, ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y)) -> 'n_seen' AS n_seen FROM big GROUP BY grp ORDER BY grp;
-- A trained starting model: its examples count once, plus every row.
SELECT ml_info(ml_fit(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1, 1]::float8[], 1), x, y)) -> 'n_seen' AS n_seen FROM big;
-- Scaling statistics are merged exactly (Chan et al.): the pooled mean of a over all rows.
SELECT round(((m::text::jsonb) -> 'feature_stats' -> 'mean' ->> 0)::numeric, 9) AS mean_a,
       round(((m::text::jsonb) -> 'feature_stats' -> 'count' ->> 0)::numeric, 0) AS count_a,
       round(avg((x[1])::numeric), 9) AS expected_mean
FROM (SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "scale": true}', x, y) AS m FROM big) s, big GROUP BY m::text;
-- Every optimizer merges; the averaged model is still a good model of y = 3 a - b + 0.5. (Adam
-- with a larger step than its default: a worker that starts late sees few rows, and at lr 0.001
-- its partial model would be far enough off to move the average on a loaded machine.)
SELECT o AS optimizer, ml_info(m) -> 'n_seen' AS n_seen,
       abs(ml_predict_one(m, ARRAY[0.3, -0.2]::float8[]) - (3 * 0.3 + 0.2 + 0.5)) < 0.1 AS close
FROM (VALUES ('"sgd"'), ('"adagrad"'), ('{"adam": {"lr": 0.05}}'), ('{"ftrl": {"alpha": 0.5}}')) v(o),
     LATERAL (SELECT ml_fit(('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": ' || o || ', "intercept_lr": 0.05}')::ml_model, x, y) AS m
              FROM big) s
ORDER BY 1;
-- Hashed models merge too.
SELECT ml_info(m) -> 'n_seen' AS n_seen, ml_info(m) -> 'n_weights' AS n_weights, sorted_features(m) AS features
FROM (SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "hash_bits": 6}', j, y) AS m FROM big) s;

-- The parallel model is close to, but not the same as, one sequential pass.
SELECT abs(ml_predict_one(p, ARRAY[0.3, -0.2]::float8[]) - ml_predict_one(s, ARRAY[0.3, -0.2]::float8[])) < 0.05 AS close
FROM (SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y) AS p FROM big) a,
     (SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i) AS s FROM big) b;
-- Without parallel workers, the plain aggregate is one pass in the scan's order.
SET max_parallel_workers_per_gather = 0;
SELECT ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y))
     = (SELECT ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', x, y ORDER BY i)) FROM big) AS sequential
FROM big;
RESET max_parallel_workers_per_gather;
