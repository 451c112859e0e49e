-- Partitioned models end to end (issue 14 part 2): a global model and one model per partition
-- path (country, then country and city), routing to the most specific partition trained
-- enough, else its parent, else the global model, checked against models fitted on each
-- group's rows alone; NULL and unseen keys; ml_info per partition; the text and binary round
-- trips; thousands of partitions within max_partitions; bad input with its SQLSTATE; the
-- registry, trigger scoring, the prediction log's segment, label feedback and
-- ml_segment_metrics. The file works in its own schema: the files share one database.
CREATE SCHEMA partitioned_models;
SET search_path = partitioned_models, public;

-- fr/paris 60 rows, fr/lyon 40, fr/nice 5 (under min_examples), de/berlin 50, and 10 rows of
-- de without a city (NULL): each city its own slope.
CREATE TABLE sales AS
SELECT i, country, city, x,
       CASE city WHEN 'paris' THEN 3 * x + 1 WHEN 'lyon' THEN -2 * x + 4 WHEN 'nice' THEN 10 * x
                 WHEN 'berlin' THEN x - 1 ELSE 5 END AS y
FROM (SELECT i, ((i * 7919) % 1009) / 1009.0 AS x,
             CASE WHEN i < 105 THEN 'fr' ELSE 'de' END AS country,
             CASE WHEN i < 60 THEN 'paris' WHEN i < 100 THEN 'lyon' WHEN i < 105 THEN 'nice'
                  WHEN i < 155 THEN 'berlin' END AS city
      FROM generate_series(0, 164) i) s;
CREATE FUNCTION row_of(country text, city text, x float8) RETURNS jsonb
LANGUAGE sql IMMUTABLE RETURN jsonb_build_object('country', country, 'city', city, 'x', x);

-- user did: write a partitioned spec: every option is written out in the stored spec (the
-- base's own defaults too; "by" as a single key becomes a list).
SELECT (ml_info(ml_fit_one('{"model": "partitioned", "by": "city", "base": {"model": "linear_regression"}}',
                           '{"city": "paris", "x": 1}'::jsonb, 2.0)) -> 'spec') - 'base' AS spec,
       ml_info(ml_fit_one('{"model": "partitioned", "by": "city", "base": {"model": "linear_regression"}}',
                          '{"city": "paris", "x": 1}'::jsonb, 2.0)) -> 'spec' -> 'base' ->> 'optimizer' AS base_default;

-- user did: fit one partitioned model over the stream with ml_fit (ORDER BY), and the same base
-- model per group (GROUP BY), per country and over everything (the partitions' models see the
-- rows without their partition keys: so do these).
CREATE TABLE fitted AS
SELECT ml_fit('{"model": "partitioned", "by": ["country", "city"], "min_examples": 10,
                "base": {"model": "linear_regression", "intercept_lr": 0.5}}',
              row_of(country, city, x), y ORDER BY i) AS m
FROM sales;
CREATE TABLE by_city AS
SELECT country, city, ml_fit('{"model": "linear_regression", "intercept_lr": 0.5}', jsonb_build_object('x', x), y ORDER BY i) AS m
FROM sales WHERE city IS NOT NULL GROUP BY country, city;
CREATE TABLE by_country AS
SELECT country, ml_fit('{"model": "linear_regression", "intercept_lr": 0.5}', jsonb_build_object('x', x), y ORDER BY i) AS m
FROM sales GROUP BY country;
CREATE TABLE everything AS
SELECT ml_fit('{"model": "linear_regression", "intercept_lr": 0.5}', jsonb_build_object('x', x), y ORDER BY i) AS m
FROM sales;

-- user did: look at the partitions in ml_info: counts per level, the busiest partitions.
SELECT ml_info(m) ->> 'kind' AS kind, ml_info(m) ->> 'task' AS task, ml_info(m) -> 'n_seen' AS n_seen,
       ml_info(m) -> 'partitions' AS partitions, ml_info(m) -> 'global' -> 'n_seen' AS global_seen
FROM fitted;
SELECT l ->> 'level' AS level, l ->> 'by' AS by, l -> 'partitions' AS partitions, l -> 'trained' AS trained
FROM fitted, jsonb_array_elements(ml_info(m) -> 'levels') l;
SELECT t ->> 'partition' AS partition, t -> 'n_seen' AS n_seen, t -> 'trained' AS trained
FROM fitted, jsonb_array_elements(ml_info(m) -> 'top_partitions') t;

-- user did: predict paris, lyon and berlin rows: each city's own model answers, exactly as the
-- model fitted on that city's rows alone.
SELECT c.city, ml_predict_one(f.m, row_of(c.country, c.city, 0.3)) = ml_predict_one(c.m, '{"x": 0.3}'::jsonb) AS own_model
FROM fitted f, by_city c WHERE c.city <> 'nice' ORDER BY c.city;
-- user did: predict a nice row (5 rows, under min_examples), a city never seen, a NULL city:
-- the country answers; a country never seen, a NULL country: the global model.
SELECT ml_predict_one(f.m, row_of('fr', 'nice', 0.3)) = ml_predict_one(k.m, '{"x": 0.3}'::jsonb) AS nice_by_fr,
       ml_predict_one(f.m, row_of('fr', 'nice', 0.3)) <> ml_predict_one(c.m, '{"x": 0.3}'::jsonb) AS not_by_nice,
       ml_predict_one(f.m, row_of('fr', 'lille', 0.3)) = ml_predict_one(k.m, '{"x": 0.3}'::jsonb) AS unseen_city_by_fr,
       ml_predict_one(f.m, row_of('fr', NULL, 0.3)) = ml_predict_one(k.m, '{"x": 0.3}'::jsonb) AS null_city_by_fr
FROM fitted f, by_country k, by_city c WHERE k.country = 'fr' AND c.city = 'nice';
SELECT ml_predict_one(f.m, row_of('it', 'rome', 0.3)) = ml_predict_one(e.m, '{"x": 0.3}'::jsonb) AS unseen_country_global,
       ml_predict_one(f.m, row_of(NULL, 'paris', 0.3)) = ml_predict_one(e.m, '{"x": 0.3}'::jsonb) AS null_country_global,
       ml_predict_one(f.m, '{"x": 0.3}'::jsonb) = ml_predict_one(e.m, '{"x": 0.3}'::jsonb) AS no_keys_global
FROM fitted f, everything e;
-- (the rows of de without a city taught the de model, not a city's)
SELECT ml_predict_one(f.m, row_of('de', NULL, 0.3)) = ml_predict_one(k.m, '{"x": 0.3}'::jsonb) AS null_city_rows_in_de
FROM fitted f, by_country k WHERE k.country = 'de';

-- user did: store the model as text and as bytes and read it back: the same model.
SELECT ml_model_bytes(m::text::ml_model) = ml_model_bytes(m) AS text_round_trip,
       ml_model_bytes(ml_model_from_bytes(ml_model_bytes(m))) = ml_model_bytes(m) AS binary_round_trip
FROM fitted;

-- user did: partition a classifier: the task is its base's; classes and probabilities.
SELECT ml_info(m) ->> 'task' AS task, ml_predict_class(m, '{"shop": "a", "v": 1}'::jsonb) AS shop_a,
       ml_predict_class(m, '{"shop": "b", "v": 1}'::jsonb) AS shop_b,
       ml_predict_class(m, '{"shop": "c", "v": 1}'::jsonb) AS shop_c_global
FROM (SELECT ml_fit('{"model": "partitioned", "by": "shop", "min_examples": 3, "base": {"model": "gaussian_nb"}}',
                    jsonb_build_object('shop', shop, 'v', i % 2), cls ORDER BY i) AS m
      FROM (SELECT i, CASE WHEN i < 20 THEN 'a' ELSE 'b' END AS shop, CASE WHEN i < 20 OR i >= 38 THEN 'red' ELSE 'blue' END AS cls
            FROM generate_series(0, 39) i) s) f;

-- user did: partition by 3000 stores with max_partitions 3000: every store its partition, the
-- value within the bound (about 3000 base models); max_partitions 2999 refuses the 3000th.
CREATE TABLE stores AS
SELECT ml_fit('{"model": "partitioned", "by": "store", "max_partitions": 3000, "min_examples": 1, "base": {"model": "linear_regression"}}',
              jsonb_build_object('store', 's' || (i % 3000), 'x', i % 7), (i % 5)::float8 ORDER BY i) AS m
FROM generate_series(0, 5999) i;
SELECT ml_info(m) -> 'partitions' AS partitions, ml_info(m) -> 'levels' -> 0 -> 'trained' AS trained,
       pg_column_size(m) < 3001 * 4 * pg_column_size(ml_fit_one('{"model": "linear_regression"}', '{"x": 1}'::jsonb, 1.0)) AS within_bound
FROM stores;
\set VERBOSITY default
SELECT ml_info(ml_fit('{"model": "partitioned", "by": "store", "max_partitions": 2999, "base": {"model": "linear_regression"}}',
                      jsonb_build_object('store', 's' || (i % 3000), 'x', i % 7), (i % 5)::float8 ORDER BY i)) -> 'partitions'
FROM generate_series(0, 5999) i;
\echo :LAST_ERROR_SQLSTATE

-- user did: train the partitioned model with ml_train, several epochs in the query's order
-- (shuffle off): each partition learns its group's rows once per epoch, in order, so a city's
-- model is the one ml_train gives over that city's rows alone; n_seen counts every epoch, but
-- min_examples counts rows: nice's 5 rows, learned 3 times, are 15 rows learned and 5 examples,
-- under min_examples (10), so fr answers nice's rows.
CREATE TABLE trained AS
SELECT ml_train('{"model": "partitioned", "by": ["country", "city"], "min_examples": 10,
                  "base": {"model": "linear_regression", "intercept_lr": 0.5}}',
                $$SELECT partitioned_models.row_of(country, city, x), y FROM partitioned_models.sales ORDER BY i$$,
                epochs => 3, shuffle => false) AS m;
SELECT ml_info(m) -> 'n_seen' AS n_seen, ml_info(m) -> 'partitions' AS partitions, ml_info(m) -> 'global' -> 'n_seen' AS global_seen
FROM trained;
SELECT c.city,
       ml_predict_one(t.m, row_of(c.country, c.city, 0.3))
         = ml_predict_one(ml_train('{"model": "linear_regression", "intercept_lr": 0.5}',
                                   format('SELECT jsonb_build_object(''x'', x), y FROM partitioned_models.sales WHERE city = %L ORDER BY i', c.city),
                                   epochs => 3, shuffle => false), '{"x": 0.3}'::jsonb) AS own_model
FROM trained t, (SELECT DISTINCT country, city FROM sales WHERE city IS NOT NULL) c ORDER BY c.city;
SELECT t ->> 'partition' AS partition, t -> 'n_seen' AS n_seen, t -> 'examples' AS examples, t -> 'trained' AS trained
FROM trained, jsonb_array_elements(ml_info(m) -> 'top_partitions') t;
SELECT ml_predict_one(t.m, row_of('fr', 'nice', 0.3))
         = ml_predict_one(ml_train('{"model": "linear_regression", "intercept_lr": 0.5}',
                                   $$SELECT jsonb_build_object('x', x), y FROM partitioned_models.sales WHERE country = 'fr' ORDER BY i$$,
                                   epochs => 3, shuffle => false), '{"x": 0.3}'::jsonb) AS nice_by_fr
FROM trained t;

-- user did: ml_train a partitioned model for 3 epochs (min_examples 30) over shop a's 20 rows and
-- shop b's 30: a has learned 60 rows but 20 examples and does not answer (the global model does,
-- as the same base trained over every row in the same order), b's 30 examples make it answer.
CREATE TABLE shops AS
SELECT ml_train('{"model": "partitioned", "by": "shop", "min_examples": 30, "base": {"model": "linear_regression"}}',
                $$SELECT jsonb_build_object('shop', CASE WHEN i <= 20 THEN 'a' ELSE 'b' END, 'x', i % 7), i % 5 FROM generate_series(1, 50) i$$,
                epochs => 3, seed => 4) AS m,
       ml_train('{"model": "linear_regression"}',
                $$SELECT jsonb_build_object('x', i % 7), i % 5 FROM generate_series(1, 50) i$$,
                epochs => 3, seed => 4) AS global;
SELECT t ->> 'partition' AS partition, t -> 'n_seen' AS n_seen, t -> 'examples' AS examples, t -> 'trained' AS trained
FROM shops, jsonb_array_elements(ml_info(m) -> 'top_partitions') t;
SELECT ml_predict_one(m, '{"shop": "a", "x": 3}'::jsonb) = ml_predict_one(global, '{"x": 3}'::jsonb) AS a_by_global,
       ml_predict_one(m, '{"shop": "b", "x": 3}'::jsonb) <> ml_predict_one(global, '{"x": 3}'::jsonb) AS b_by_itself
FROM shops;
-- user did: give ml_fit shop a's 20 rows three times over: the model cannot tell a row given
-- again from a new one, so each counts (60 examples), and a answers.
SELECT t ->> 'partition' AS partition, t -> 'n_seen' AS n_seen, t -> 'examples' AS examples, t -> 'trained' AS trained
FROM (SELECT ml_fit('{"model": "partitioned", "by": "shop", "min_examples": 30, "base": {"model": "linear_regression"}}',
                    jsonb_build_object('shop', 'a', 'x', i % 7), i % 5 ORDER BY k, i) AS m
      FROM generate_series(1, 20) i, generate_series(1, 3) k) s,
     jsonb_array_elements(ml_info(m) -> 'top_partitions') t;
-- user did: ml_train with its defaults (10 shuffled epochs): the cities' lines are learned.
SELECT ml_info(m) -> 'n_seen' AS n_seen,
       abs(ml_predict_one(m, row_of('fr', 'paris', 0.3)) - 1.9) < 0.1 AS paris_close,
       abs(ml_predict_one(m, row_of('fr', 'lyon', 0.3)) - 3.4) < 0.1 AS lyon_close,
       abs(ml_predict_one(m, row_of('de', 'berlin', 0.3)) + 0.7) < 0.1 AS berlin_close
FROM (SELECT ml_train('{"model": "partitioned", "by": ["country", "city"], "min_examples": 10, "base": {"model": "linear_regression"}}',
                      $$SELECT partitioned_models.row_of(country, city, x), y FROM partitioned_models.sales$$, seed => 1) AS m) s;

-- user did: fit the partitioned model with ml_fit in a parallel plan: the workers' partial
-- models merge partition by partition (each as its base kind merges), so every row is counted
-- once in the global model, its country's and its city's, and the cities' lines are learned.
-- (jsonb_build_object, not row_of: a function is parallel unsafe unless it says otherwise)
CREATE TABLE many_sales AS SELECT s.* FROM sales s, generate_series(1, 200) k;
ANALYZE many_sales;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT ml_fit('{"model": "partitioned", "by": ["country", "city"], "min_examples": 10, "base": {"model": "linear_regression"}}',
              jsonb_build_object('country', country, 'city', city, 'x', x), y) FROM many_sales;
CREATE FUNCTION workers_launched(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'Workers Launched' THEN RETURN trim(line); END IF;
  END LOOP;
  RETURN 'no workers';
END $$;
SELECT workers_launched($q$SELECT ml_fit('{"model": "partitioned", "by": ["country", "city"], "min_examples": 10, "base": {"model": "linear_regression"}}',
                                      jsonb_build_object('country', country, 'city', city, 'x', x), y) FROM partitioned_models.many_sales$q$);
CREATE TABLE fitted_parallel AS
SELECT ml_fit('{"model": "partitioned", "by": ["country", "city"], "min_examples": 10, "base": {"model": "linear_regression"}}',
              jsonb_build_object('country', country, 'city', city, 'x', x), y) AS m FROM many_sales;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT ml_info(m) -> 'n_seen' AS n_seen, ml_info(m) -> 'partitions' AS partitions, ml_info(m) -> 'global' -> 'n_seen' AS global_seen
FROM fitted_parallel;
SELECT t ->> 'partition' AS partition, t -> 'n_seen' AS n_seen
FROM fitted_parallel, jsonb_array_elements(ml_info(m) -> 'top_partitions') t;
SELECT abs(ml_predict_one(m, row_of('fr', 'paris', 0.3)) - 1.9) < 0.1 AS paris_close,
       abs(ml_predict_one(m, row_of('fr', 'lyon', 0.3)) - 3.4) < 0.1 AS lyon_close,
       abs(ml_predict_one(m, row_of('de', 'berlin', 0.3)) + 0.7) < 0.1 AS berlin_close,
       abs(ml_predict_one(m, row_of('de', NULL, 0.3)) - ml_predict_one(m, row_of('de', 'munich', 0.3))) = 0 AS unseen_city_by_de
FROM fitted_parallel;
-- The parallel model is close to one sequential pass over the same rows.
SELECT abs(ml_predict_one(p.m, row_of('fr', 'paris', 0.7)) - ml_predict_one(s.m, row_of('fr', 'paris', 0.7))) < 0.05 AS close
FROM fitted_parallel p,
     (SELECT ml_fit('{"model": "partitioned", "by": ["country", "city"], "min_examples": 10, "base": {"model": "linear_regression"}}',
                    row_of(country, city, x), y ORDER BY i) AS m FROM many_sales) s;
DROP TABLE many_sales;

-- Bad input.
-- user did: leave out "by", give no base, nest a partitioned model as the base, partition a
-- clustering model, misspell an option, ignore a partition key, max_partitions 0.
SELECT ml_fit_one('{"model": "partitioned", "base": {"model": "linear_regression"}}', '{"a": 1}'::jsonb, 1.0);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "partitioned", "by": "city"}', '{"a": 1}'::jsonb, 1.0);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "partitioned", "by": "a", "base": {"model": "partitioned", "by": "b", "base": {"model": "linear_regression"}}}', '{"a": 1}'::jsonb, 1.0);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "partitioned", "by": "a", "base": {"model": "kmeans"}}', '{"a": 1}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "partitioned", "by": "a", "levels": 2, "base": {"model": "linear_regression"}}', '{"a": 1}'::jsonb, 1.0);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "partitioned", "by": "a", "ignore": ["a"], "base": {"model": "linear_regression"}}', '{"a": 1}'::jsonb, 1.0);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "partitioned", "by": "a", "max_partitions": 0, "base": {"model": "linear_regression"}}', '{"a": 1}'::jsonb, 1.0);
\echo :LAST_ERROR_SQLSTATE
-- user did: give a regression a class label, ask a partitioned regression for a class.
SELECT ml_fit_one(m, row_of('fr', 'paris', 1), 'big') FROM fitted;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_class(m, row_of('fr', 'paris', 1)) FROM fitted;
\echo :LAST_ERROR_SQLSTATE
-- user did: edit the JSON form by hand: drop the fr partition (its cities lose their parent).
SELECT jsonb_set(m::text::jsonb, '{state,partitions}',
                 (SELECT jsonb_agg(p) FROM jsonb_array_elements((m::text::jsonb) -> 'state' -> 'partitions') p
                  WHERE p -> 'path' <> '["fr"]'))::text::ml_model
FROM fitted;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse

-- user did: register the model, score rows by name and by trigger, and feed labels back: the
-- log records which partition answered, the labels teach the right partitions (the keys are
-- among the logged features), and ml_segment_metrics breaks the metrics down by partition.
-- (where the log's ids are, restored at the end: the files share one database)
SELECT pg_get_serial_sequence('ml_prediction_log', 'prediction_id') AS log_seq \gset
SELECT last_value AS log_last, is_called AS log_called FROM :log_seq \gset
SELECT ml_register('parts_sales', m) AS version FROM fitted;
SELECT ml_deploy('parts_sales', 1);
SELECT name, task, kind FROM ml_models WHERE name = 'parts_sales';
SELECT ml_predict('parts_sales', row_of('fr', 'paris', 0.3)) = ml_predict_one(m, row_of('fr', 'paris', 0.3)) AS by_name
FROM fitted;
CREATE TABLE orders (id int PRIMARY KEY, country text, city text, x float8, guess float8, truth float8);
SELECT ml_attach('orders', 'parts_sales', key => 'id', prediction => 'guess', label => 'truth',
                 features => ARRAY['country', 'city', 'x']);
INSERT INTO orders (id, country, city, x) VALUES
    (1, 'fr', 'paris', 0.1), (2, 'fr', 'paris', 0.2), (3, 'fr', 'nice', 0.3), (4, 'de', 'berlin', 0.4),
    (5, 'de', NULL, 0.5), (6, 'it', 'rome', 0.6);
SELECT key, segment FROM ml_prediction_log WHERE model_name = 'parts_sales' ORDER BY prediction_id;
SELECT o.id, o.guess = ml_predict_one(f.m, row_of(o.country, o.city, o.x)) AS guess_is_the_models
FROM orders o, fitted f ORDER BY o.id;
SELECT t ->> 'partition' AS partition, t -> 'n_seen' AS n_seen
FROM jsonb_array_elements(ml_info(ml_get('parts_sales', 1)) -> 'top_partitions') t;
UPDATE orders SET truth = CASE city WHEN 'paris' THEN 3 * x + 1 WHEN 'nice' THEN 10 * x WHEN 'berlin' THEN x - 1 ELSE 5 END;
SELECT ml_learn_pending('parts_sales') AS applied;
SELECT ml_learn_pending() AS again;
-- paris +2, fr +3, nice +1, de +2, berlin +1; rome is a new partition of the new country it
SELECT ml_info(ml_get('parts_sales', 1)) -> 'n_seen' AS n_seen, ml_info(ml_get('parts_sales', 1)) -> 'partitions' AS partitions;
SELECT t ->> 'partition' AS partition, t -> 'n_seen' AS n_seen
FROM jsonb_array_elements(ml_info(ml_get('parts_sales', 1)) -> 'top_partitions') t;
SELECT segment, metric, round(value::numeric, 6) AS value
FROM ml_segment_metrics WHERE model = 'parts_sales' ORDER BY segment, metric;
-- A model without segments logs none.
SELECT count(*) AS unsegmented FROM ml_segment_metrics WHERE model <> 'parts_sales';

-- user did: partition a binary classifier by shop, score by trigger, label: ml_segment_metrics
-- shows each shop's accuracy (at classification_threshold 0.5) over its labels.
SELECT ml_register('parts_churn',
                   ml_fit('{"model": "partitioned", "by": "shop", "min_examples": 5, "base": {"model": "logistic_regression"}}',
                          jsonb_build_object('shop', CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END, 'v', (i % 10) / 10.0),
                          (i % 2 = 0) = ((i % 10) >= 5) ORDER BY i)) AS version
FROM generate_series(0, 399) i;
SELECT ml_deploy('parts_churn', 1);
SELECT ml_info(ml_get('parts_churn', 1)) ->> 'task' AS task;
CREATE TABLE visits (id int PRIMARY KEY, shop text, v float8, guess float8, churned boolean);
SELECT ml_attach('visits', 'parts_churn', key => 'id', prediction => 'guess', label => 'churned', features => ARRAY['shop', 'v']);
INSERT INTO visits (id, shop, v) VALUES (1, 'a', 0.9), (2, 'a', 0.1), (3, 'b', 0.9), (4, 'b', 0.1), (5, 'c', 0.5);
SELECT key, segment, score > 0.5 AS predicts_true FROM ml_prediction_log WHERE model_name = 'parts_churn' ORDER BY prediction_id;
-- shop a churns at high v, shop b at low v; the b visits get the opposite labels (both wrong)
UPDATE visits SET churned = CASE id WHEN 1 THEN true WHEN 2 THEN false WHEN 3 THEN true WHEN 4 THEN false ELSE true END;
SELECT segment, metric, round(value::numeric, 6) AS value
FROM ml_segment_metrics WHERE model = 'parts_churn' AND metric IN ('predictions', 'labels', 'accuracy') ORDER BY segment, metric;
SELECT ml_detach('visits');
DELETE FROM ml_label_queue WHERE model_name = 'parts_churn';
DELETE FROM ml_monitor_inbox WHERE prediction_id IN (SELECT prediction_id FROM ml_prediction_log WHERE model_name = 'parts_churn');
DELETE FROM ml_prediction_log WHERE model_name = 'parts_churn';
SELECT ml_unregister('parts_churn', force => true);

SELECT ml_detach('orders');
DELETE FROM ml_label_queue WHERE model_name = 'parts_sales';
DELETE FROM ml_monitor_inbox WHERE prediction_id IN (SELECT prediction_id FROM ml_prediction_log WHERE model_name = 'parts_sales');
DELETE FROM ml_prediction_log WHERE model_name = 'parts_sales';
SELECT ml_unregister('parts_sales', force => true);

-- (the log's ids start again where they were, and no monitoring event of these rows is left: the
-- files share one database, and later files print the ids and count the events)
SELECT setval(:'log_seq', :log_last, :'log_called'::bool) = :log_last AS log_ids_restored;

DROP SCHEMA partitioned_models CASCADE;
