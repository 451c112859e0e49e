-- Reproducible parallel and distributed aggregates (issue 12, item 5): a combine function's
-- result depends only on the partial states it receives, never on the order they arrive in.
-- Partitionwise aggregation gives partial states we control: each partition is aggregated on
-- its own (a fixed partial state), and the Finalize Aggregate combines the partitions' states
-- in partition order. Six tables hold the same three chunks of rows in the six orders.
CREATE SCHEMA reproducible_combine;
SET search_path = reproducible_combine, public;
CREATE TABLE chunk AS
SELECT c, i,
       jsonb_build_object('a', c * 10 + (i % 7) * 0.37, 'only_' || c, (i % 5) * 0.1,
                          'city', CASE WHEN c = 2 THEN 'Lyon' ELSE 'Oslo' END) AS x,
       (c * 10 + (i % 7) * 0.37) * 0.3 - (i % 5) * 0.1 AS y,
       (ARRAY['red', 'green', 'blue'])[1 + (i + c) % (c + 1)] AS cls,
       'v' || ((i * (c + 2)) % (40 + 20 * c)) AS word,
       ((i * 7919) % 1000) / 1000.0 AS p
FROM generate_series(1, 3) c, generate_series(1, 400) i;
-- order_k: partition 1 holds chunk perm[1], partition 2 chunk perm[2], partition 3 chunk perm[3].
CREATE FUNCTION make_ordered(name text, perm int[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TABLE %I (part int, c int, i int, x jsonb, y float8, cls text, word text, p float8) PARTITION BY LIST (part)', name);
  FOR k IN 1..3 LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (%s)', name || '_' || k, name, k);
    EXECUTE format('INSERT INTO %I SELECT %s, c, i, x, y, cls, word, p FROM chunk WHERE c = %s ORDER BY i', name, k, perm[k]);
  END LOOP;
  EXECUTE format('ANALYZE %I', name);
END $$;
SELECT make_ordered('order_' || n, perm)
FROM (VALUES (1, ARRAY[1, 2, 3]), (2, ARRAY[1, 3, 2]), (3, ARRAY[2, 1, 3]),
             (4, ARRAY[2, 3, 1]), (5, ARRAY[3, 1, 2]), (6, ARRAY[3, 2, 1])) v(n, perm);
SET enable_partitionwise_aggregate = on;
SET max_parallel_workers_per_gather = 0;  -- one process reads each partition in order
-- The plan: a partial aggregate per partition, combined by a Finalize Aggregate.
EXPLAIN (COSTS OFF) SELECT ml_fit('{"model": "linear_regression"}', x, y) FROM order_1;

-- Runs query (with %s for the table) on the six tables: how many distinct results they give.
CREATE FUNCTION distinct_results(query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE r text; seen text[] := '{}';
BEGIN
  FOR n IN 1..6 LOOP
    EXECUTE format(query, 'order_' || n) INTO r;
    IF r IS NULL THEN RAISE EXCEPTION 'no result from %', format(query, 'order_' || n); END IF;
    IF NOT r = ANY (seen) THEN seen := seen || r; END IF;
  END LOOP;
  RETURN cardinality(seen);
END $$;

-- user did: ml_fit in parallel or on Citus, twice, and got models that differ in the last bits.
-- Every model kind and option that merges with rounding: one model, bit for bit.
SELECT distinct_results($q$SELECT encode(ml_model_bytes(ml_fit('{"model": "linear_regression"}', x, y)), 'hex') FROM %I$q$) AS linear;
SELECT distinct_results($q$SELECT encode(ml_model_bytes(ml_fit('{"model": "linear_regression", "optimizer": "adam", "scale": true}', x, y)), 'hex') FROM %I$q$) AS scaled_adam;
SELECT distinct_results($q$SELECT encode(ml_model_bytes(ml_fit('{"model": "logistic_regression", "optimizer": "ftrl"}', x, y > 2)), 'hex') FROM %I$q$) AS logistic_ftrl;
SELECT distinct_results($q$SELECT encode(ml_model_bytes(ml_fit('{"model": "softmax_regression"}', x, cls)), 'hex') FROM %I$q$) AS softmax;
SELECT distinct_results($q$SELECT encode(ml_model_bytes(ml_fit('{"model": "linear_regression", "hash_bits": 8}', x, y)), 'hex') FROM %I$q$) AS hashed;
SELECT distinct_results($q$SELECT encode(ml_model_bytes(ml_fit(ml_fit_one('{"model": "linear_regression", "scale": true}', '{"a": 1, "b": 2}'::jsonb, 3::float8), x, y)), 'hex') FROM %I$q$) AS from_trained;
-- Every row with a class counted once (chunk 3 has 100 rows without one), every class there.
SELECT ml_info(ml_fit('{"model": "softmax_regression"}', x, cls)) -> 'n_seen' AS n_seen,
       ml_info(ml_fit('{"model": "softmax_regression"}', x, cls)) -> 'classes' AS classes FROM order_6;

-- user did: ml_stats and ml_profile over a partitioned or distributed table, twice.
SELECT distinct_results($q$SELECT encode(ml_stats_bytes(ml_stats(y)), 'hex') FROM %I$q$) AS numeric_stats;
SELECT distinct_results($q$SELECT encode(ml_stats_bytes(ml_stats(word)), 'hex') FROM %I$q$) AS categorical_stats;
SELECT distinct_results($q$SELECT md5(ml_profile(x)::text) FROM %I$q$) AS profile;
SELECT ml_count(ml_stats(y)) AS n, ml_count(ml_stats(word)) AS words, ml_profile(x)::jsonb -> 'rows' AS rows FROM order_4;

-- Metric states are exact sums: the same bits in any order, and the same as one serial pass.
SELECT distinct_results($q$SELECT encode(ml_metric_state_bytes(ml_regression_state(y + p, y)), 'hex') FROM %I$q$) AS regression_state,
       distinct_results($q$SELECT encode(ml_metric_state_bytes(ml_binary_state(p, y > 2)), 'hex') FROM %I$q$) AS binary_state,
       distinct_results($q$SELECT encode(ml_class_metric_state_bytes(ml_class_state(cls, word)), 'hex') FROM %I$q$) AS class_state,
       distinct_results($q$SELECT ml_rmse(y + p, y)::text || ' ' || ml_logloss(p, y > 2)::text FROM %I$q$) AS metrics;
CREATE TABLE flat AS SELECT * FROM order_1;
SELECT (SELECT ml_metric_state_bytes(ml_regression_state(y + p, y)) FROM order_5)
     = (SELECT ml_metric_state_bytes(ml_regression_state(y + p, y)) FROM flat) AS same_as_serial,
       (SELECT ml_class_metric_state_bytes(ml_class_state(cls, word)) FROM order_5)
     = (SELECT ml_class_metric_state_bytes(ml_class_state(cls, word)) FROM flat) AS class_same_as_serial;

-- user did: a metric in a parallel query (workers split the rows differently at every run).
-- Exact-sum states give the bits of one serial pass, however the rows were split.
CREATE TABLE big AS
SELECT i, (i % 1000) / 999.0 AS p, (i * 7) % 3 = 0 AS label, 1e8 + (i % 977) * 0.001 AS y,
       1e8 + (i % 977) * 0.001 + ((i * 13) % 101 - 50) * 1e-4 AS pred,
       'c' || (i % 7) AS actual, 'c' || ((i * 3) % 7) AS predicted
FROM generate_series(1, 60000) i;
ANALYZE big;
CREATE TABLE serial AS
SELECT ml_metric_state_bytes(ml_regression_state(pred, y)) AS r, ml_metric_state_bytes(ml_binary_state(p, label)) AS b,
       ml_class_metric_state_bytes(ml_class_state(actual, predicted)) AS c,
       ml_rmse(pred, y) AS rmse, ml_auc(p, label) AS auc, ml_logloss(p, label) AS logloss
FROM big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET force_parallel_mode = on;
EXPLAIN (COSTS OFF) SELECT ml_regression_state(pred, y) FROM big;
-- The workers really run (a worker that found no free slot would leave one serial pass).
CREATE FUNCTION workers_launched(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'Workers Launched: [1-9]' THEN RETURN true; END IF;
  END LOOP;
  RETURN false;
END $$;
SELECT workers_launched('SELECT ml_regression_state(pred, y), ml_class_state(actual, predicted) FROM big') AS workers_launched;
SELECT ml_metric_state_bytes(ml_regression_state(pred, y)) = (SELECT r FROM serial) AS regression_state,
       ml_metric_state_bytes(ml_binary_state(p, label)) = (SELECT b FROM serial) AS binary_state,
       ml_class_metric_state_bytes(ml_class_state(actual, predicted)) = (SELECT c FROM serial) AS class_state,
       ml_rmse(pred, y) = (SELECT rmse FROM serial) AS rmse,
       ml_auc(p, label) = (SELECT auc FROM serial) AS auc,
       ml_logloss(p, label) = (SELECT logloss FROM serial) AS logloss
FROM big;
RESET force_parallel_mode;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
RESET enable_partitionwise_aggregate;
