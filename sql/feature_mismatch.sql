-- Feature mismatches (issue 11, item 3; docs/features.md): a misspelled key, a key in another
-- case, a number sent as a string and a missing column each give a signal, as the settings
-- pg_learn.unknown_features, pg_learn.missing_features and pg_learn.unknown_categories say
-- (ignore, warn, error), and are counted in the prediction log and the monitoring views.
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA feature_mismatch;
SET search_path = feature_mismatch, public;

-- A model of price (a number), month (a category) and qty (a number).
CREATE TABLE sales (price float8, month text, qty int, y float8);
INSERT INTO sales
SELECT 10 + i % 7, (ARRAY['jan', 'feb', 'mar'])[1 + i % 3], i % 5, 2 * (10 + i % 7) + i % 5
FROM generate_series(1, 60) i;
CREATE TABLE m AS
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object('price', price, 'month', month, 'qty', qty), y) AS model
FROM sales;
SELECT ml_info(model) -> 'features' AS features FROM m;
-- The settings (defined when the library loads): unknown features and missing features warn,
-- unknown categories are only counted.
SELECT name, setting, vartype, enumvals FROM pg_settings WHERE name LIKE 'pg_learn.%' ORDER BY name;

-- The features as learned: no signal.
SELECT ml_predict_one(model, '{"price": 12.5, "month": "jan", "qty": 2}'::jsonb) IS NOT NULL AS as_learned FROM m;

-- user did: a misspelled key ("prise"): a warning naming it, with a hint.
SELECT ml_predict_one(model, '{"prise": 12.5, "month": "jan", "qty": 2}'::jsonb) IS NOT NULL AS misspelled FROM m;
-- user did: "MONTH" instead of "month".
SELECT ml_predict_one(model, '{"price": 12.5, "MONTH": "jan", "qty": 2}'::jsonb) IS NOT NULL AS wrong_case FROM m;
-- user did: a number sent as a string ({"price": "12.5"}: the category price=12.5).
SELECT ml_predict_one(model, '{"price": "12.5", "month": "jan", "qty": 2}'::jsonb) IS NOT NULL AS number_as_string FROM m;
-- user did: a category sent as a number.
SELECT ml_predict_one(model, '{"price": 12.5, "month": 1, "qty": 2}'::jsonb) IS NOT NULL AS category_as_number FROM m;
-- user did: a missing key.
SELECT ml_predict_one(model, '{"price": 12.5, "month": "jan"}'::jsonb) IS NOT NULL AS missing_key FROM m;
-- A NULL value is not missing: the spec's "missing" policy scores it, without a warning.
SELECT ml_predict_one(model, '{"price": 12.5, "month": "jan", "qty": null}'::jsonb) IS NOT NULL AS null_value FROM m;
-- A new value of a known category is counted only (pg_learn.unknown_categories is 'ignore').
SELECT ml_predict_one(model, '{"price": 12.5, "month": "JAN", "qty": 2}'::jsonb) IS NOT NULL AS new_category FROM m;

-- One statement over many rows warns for its 1st, 10th and 100th mismatched prediction, not
-- for each of its 250.
SELECT count(ml_predict_one(model, jsonb_build_object('price', i, 'MONTH', 'jan', 'qty', 1))) AS scored
FROM m, generate_series(1, 250) i;
-- ml_predict_class and ml_predict_proba check as ml_predict_one does.
CREATE TABLE c AS
SELECT ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object('price', price, 'month', month), y > 25) AS model
FROM sales;
SELECT ml_predict_class(model, '{"price": 12, "mnth": "jan"}'::jsonb) IS NOT NULL AS has_class FROM c;
SELECT ml_predict_proba(model, '{"price": 12, "mnth": "jan"}'::jsonb) IS NOT NULL AS has_proba FROM c;

-- ignore: no signal at all.
SET pg_learn.unknown_features = 'ignore';
SET pg_learn.missing_features = 'ignore';
SELECT ml_predict_one(model, '{"prise": 12.5, "MONTH": "jan"}'::jsonb) IS NOT NULL AS ignored FROM m;
RESET pg_learn.missing_features;
-- Only the missing feature is left to warn about.
SELECT ml_predict_one(model, '{"prise": 12.5, "month": "jan", "qty": 2}'::jsonb) IS NOT NULL AS missing_only FROM m;
RESET pg_learn.unknown_features;

-- error: the prediction is refused with 22023, naming the feature.
SET pg_learn.unknown_features = 'error';
SELECT ml_predict_one(model, '{"prise": 12.5, "month": "jan", "qty": 2}'::jsonb) FROM m;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one(model, '{"price": 12.5, "MONTH": "jan", "qty": 2}'::jsonb) FROM m;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one(model, '{"price": "12.5", "month": "jan", "qty": 2}'::jsonb) FROM m;
\echo :LAST_ERROR_SQLSTATE
-- (a missing feature is still only a warning: its own setting)
SELECT ml_predict_one(model, '{"price": 12.5, "month": "jan"}'::jsonb) IS NOT NULL AS missing_warns FROM m;
SET pg_learn.missing_features = 'error';
SELECT ml_predict_one(model, '{"price": 12.5, "month": "jan"}'::jsonb) FROM m;
\echo :LAST_ERROR_SQLSTATE
SET pg_learn.unknown_categories = 'error';
SELECT ml_predict_one(model, '{"price": 12.5, "month": "JAN", "qty": 2}'::jsonb) FROM m;
\echo :LAST_ERROR_SQLSTATE
-- Features as learned pass every setting.
SELECT ml_predict_one(model, '{"price": 12.5, "month": "feb", "qty": 2}'::jsonb) IS NOT NULL AS strict_ok FROM m;
RESET pg_learn.unknown_features;
RESET pg_learn.missing_features;
RESET pg_learn.unknown_categories;
-- A setting is checked.
SET pg_learn.unknown_features = 'strict';
\echo :LAST_ERROR_SQLSTATE

-- Rows: column names are the feature names.
CREATE TABLE rm AS SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["y"]}', s, y) AS model FROM sales s;
-- user did: a missing column (a table without month).
CREATE TABLE sales_v2 (price float8, qty int);
INSERT INTO sales_v2 VALUES (12.5, 2);
SELECT ml_predict_one(rm.model, t) IS NOT NULL AS missing_column FROM rm, sales_v2 t;
-- user did: a misspelled column.
CREATE TABLE sales_v3 (price float8, month text, quantity int);
INSERT INTO sales_v3 VALUES (12.5, 'jan', 2);
SELECT ml_predict_one(rm.model, t) IS NOT NULL AS misspelled_column FROM rm, sales_v3 t;
-- user did: a number column as text.
CREATE TABLE sales_v4 (price text, month text, qty int);
INSERT INTO sales_v4 VALUES ('12.5', 'jan', 2);
SET pg_learn.unknown_features = 'error';
SELECT ml_predict_one(rm.model, t) FROM rm, sales_v4 t;
\echo :LAST_ERROR_SQLSTATE
RESET pg_learn.unknown_features;

-- float8[]: element i is x<i>. A model learned from arrays checks only their length (an error
-- already); one learned from named features sees every element as unknown.
CREATE TABLE am AS SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[i, i * 2]::float8[], i::float8) AS model
FROM generate_series(1, 20) i;
SELECT ml_predict_one(model, ARRAY[1, 2]::float8[]) IS NOT NULL AS array_ok FROM am;
SELECT ml_predict_one(model, ARRAY[1, 2]::float8[]) IS NOT NULL AS array_on_named FROM m;

-- An untrained model knows no features: nothing to compare with, no signal.
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::ml_model, '{"anything": 1}'::jsonb) IS NOT NULL AS untrained;

-- The prediction log counts each prediction's mismatches, and ml_model_metrics shows their rates.
-- (The log's identity is put back at the end: the files after this one number their predictions
-- as if this one had logged none.)
SELECT last_value AS log_id_last, is_called AS log_id_called FROM ml_prediction_log_prediction_id_seq \gset
SELECT ml_register('fm_sales', model) AS version FROM rm;
SELECT ml_deploy('fm_sales', 1);
CREATE TABLE orders (id int PRIMARY KEY, price float8, "MONTH" text, qty int, y float8, score float8);
SELECT ml_attach('orders', 'fm_sales', key => 'id', prediction => 'score', label => 'y');
-- user did: a table whose column is "MONTH", not month. Every row lacks month, and the even
-- ones give the unknown MONTH (a NULL value is never unknown): the trigger warns for the
-- statement's 1st and 10th row.
INSERT INTO orders (id, price, "MONTH", qty)
SELECT i, 10 + i, CASE WHEN i % 2 = 0 THEN 'jan' END, 1 FROM generate_series(1, 12) i;
SELECT key, unknown_features, unknown_categories, missing_features, type_mismatches
FROM ml_prediction_log WHERE model_name = 'fm_sales' ORDER BY prediction_id;
SELECT ml_monitor_refresh() > 0 AS refreshed;
SELECT metric, value FROM ml_model_metrics
WHERE model = 'fm_sales' AND metric LIKE '%rate' ORDER BY metric;
SELECT feature_checks, unknown_features, unknown_categories, missing_features, type_mismatches, mismatched_predictions
FROM ml_monitor_windows WHERE model_name = 'fm_sales';
-- With 'error', the row is refused.
SET pg_learn.unknown_features = 'error';
INSERT INTO orders (id, price, "MONTH", qty) VALUES (13, 15, 'jan', 1);
\echo :LAST_ERROR_SQLSTATE
RESET pg_learn.unknown_features;
-- Clean up the shared tables: detach, forget this file's log, unregister.
SELECT ml_detach('orders');
DELETE FROM ml_prediction_log;
SELECT ml_unregister('fm_sales', force => true);
SELECT setval(pg_get_serial_sequence('ml_prediction_log', 'prediction_id'), :log_id_last, :'log_id_called'::boolean) > 0 AS log_id_restored;

DROP SCHEMA feature_mismatch CASCADE;
