-- Anonymous records as features (issue 12, item 5; docs/citus.md): a ROW(...) constructor's
-- value has type record and fields named f1, f2, ... by PostgreSQL (Citus ships a subquery's
-- rows to its workers in that form). Read as features, a model trained on named columns would
-- score it with its intercept alone, and "ignore": ["y"] would match nothing: every reader of a
-- row refuses it (42804), unless the model already learned the names f1, f2, ...
CREATE SCHEMA anonymous_records;
SET search_path = anonymous_records, public;

CREATE TABLE houses (i int, area float8, rooms int, city text, y float8);
INSERT INTO houses SELECT i, 50 + 10 * i, 1 + i % 4, CASE WHEN i % 2 = 0 THEN 'north' ELSE 'south' END, 100 + 3 * i
FROM generate_series(1, 20) i;
CREATE TYPE house_features AS (area float8, rooms int, city text);
-- A model trained on named columns, registered and deployed.
CREATE TABLE trained AS
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": true, "scale_target": true, "check_divergence": false}', s, y ORDER BY i) AS m
FROM houses, LATERAL (SELECT houses.area, houses.rooms, houses.city) s;
SELECT ml_register('anon_named', (SELECT m FROM trained));
SELECT ml_deploy('anon_named', 1);
SELECT ml_register('anon_class', (SELECT ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": true, "scale_target": false, "check_divergence": false}', s, y > 130 ORDER BY i)
                                  FROM houses, LATERAL (SELECT houses.area, houses.rooms) s));
SELECT ml_deploy('anon_class', 1);

\set VERBOSITY default
-- user did: SELECT ml_fit(spec, ROW(area, rooms), y) FROM houses: refused, naming the cause.
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": true, "scale_target": true, "check_divergence": false}', ROW(area, rooms), y ORDER BY i) FROM houses;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
-- ... and without ORDER BY (the plain aggregate), and ml_fit_one.
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": true, "scale_target": true, "check_divergence": false}', ROW(area, rooms), y) FROM houses;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": true, "scale_target": true, "check_divergence": false}', ROW(area, rooms), y) FROM houses WHERE i = 1;
\echo :LAST_ERROR_SQLSTATE
-- Every label type's variant: text and boolean labels.
SELECT ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": true, "scale_target": false, "check_divergence": false}', ROW(area), y > 130) FROM houses;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "softmax_regression", "optimizer": "sgd", "scale": true, "scale_target": false, "check_divergence": false}', ROW(area), city) FROM houses WHERE i = 1;
\echo :LAST_ERROR_SQLSTATE

-- user did: SELECT ml_fit('{..., "ignore": ["y"]}', ROW(area, rooms, y), y) FROM houses: the
-- ignore list would match nothing (the label is f3) and the label would become a feature.
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": true, "scale_target": true, "check_divergence": false, "ignore": ["y"]}', ROW(area, rooms, y), y) FROM houses;
\echo :LAST_ERROR_SQLSTATE
-- ... and with the label named by its column: the anonymous record is the error, not the
-- missing column "y".
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": true, "scale_target": true, "check_divergence": false}', ROW(area, rooms, y), 'y'::name) FROM houses;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": true, "scale_target": true, "check_divergence": false}', ROW(area, rooms, y), 'f3'::name) FROM houses WHERE i = 1;
\echo :LAST_ERROR_SQLSTATE
-- The named forms learn, and the ignore list does its work: the label is no feature.
SELECT ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": true, "scale_target": true, "check_divergence": false, "ignore": ["y"]}', s, houses.y ORDER BY i)) -> 'features' AS subquery_row
FROM houses, LATERAL (SELECT houses.area, houses.rooms, houses.y) s;
SELECT ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": true, "scale_target": true, "check_divergence": false}', s, 'y'::name ORDER BY i)) -> 'features' AS label_by_name
FROM houses, LATERAL (SELECT houses.area, houses.rooms, houses.y) s;

-- user did: SELECT ml_predict_one(m, ROW(area, rooms, city)) with m trained on named columns:
-- refused (it would be scored with the intercept alone), whatever the feature-check settings.
SELECT ml_predict_one(m, ROW(area, rooms, city)) FROM trained, houses WHERE i = 1;
\echo :LAST_ERROR_SQLSTATE
SET pg_learn.unknown_features = 'ignore';
SELECT ml_predict_one(m, ROW(area, rooms, city)) FROM trained, houses WHERE i = 1;
\echo :LAST_ERROR_SQLSTATE
RESET pg_learn.unknown_features;
-- Every scoring function: by value and by name, number, class and probabilities, and ml_learn.
SELECT ml_predict('anon_named', ROW(area, rooms, city)) FROM houses WHERE i = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_class((SELECT ml_get('anon_class')), ROW(area, rooms)) FROM houses WHERE i = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_proba((SELECT ml_get('anon_class')), ROW(area, rooms)) FROM houses WHERE i = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_class('anon_class', ROW(area, rooms)) FROM houses WHERE i = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_proba('anon_class', ROW(area, rooms)) FROM houses WHERE i = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_learn('anon_named', ROW(area, rooms, city), y) FROM houses WHERE i = 1;
\echo :LAST_ERROR_SQLSTATE
-- The ways that name the columns score alike: a subquery's row, a composite type, to_jsonb, by
-- name; and the table's own row with the other columns ignored.
SELECT h.i, round(ml_predict_one(m, s)::numeric, 6) AS subquery_row,
       ml_predict_one(m, ROW(h.area, h.rooms, h.city)::house_features) = ml_predict_one(m, s) AS composite_type,
       abs(ml_predict_one(m, to_jsonb(s)) - ml_predict_one(m, s)) < 1e-9 AS jsonb,
       ml_predict('anon_named', s) = ml_predict_one(m, s) AS by_name,
       abs(ml_predict_one(m, to_jsonb(h) - 'i' - 'y') - ml_predict_one(m, s)) < 1e-9 AS table_row
FROM trained, houses h, LATERAL (SELECT h.area, h.rooms, h.city) s WHERE h.i IN (1, 2) ORDER BY h.i;
-- A subquery that is not flattened (LIMIT) and a CTE keep their names too.
SELECT abs(ml_predict_one(m, s) - ml_predict_one(m, to_jsonb(s))) < 1e-9 AS limited_subquery
FROM trained, houses h, LATERAL (SELECT h.area, h.rooms, h.city LIMIT 1) s WHERE h.i = 3;
WITH c AS MATERIALIZED (SELECT area, rooms, city FROM houses WHERE i = 3)
SELECT abs(ml_predict_one(m, c) - ml_predict_one(m, to_jsonb(c))) < 1e-9 AS cte_row FROM trained, c;
-- Fields named f1, f2 in another order, or only some of them, are names, not an anonymous record.
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', s, 1)) -> 'features' AS not_in_order
FROM (SELECT 1 AS f2, 2 AS f1) s;
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', s, 1)) -> 'features' AS not_all
FROM (SELECT 1 AS f1, 2 AS b) s;

-- user did: score ROW(...) with a model that learned the names f1, f2, ... (from jsonb keys):
-- allowed, and read as those names.
CREATE TABLE fnamed AS
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": true, "scale_target": true, "check_divergence": false}', jsonb_build_object('f1', area, 'f2', rooms), y ORDER BY i) AS m
FROM houses;
SELECT h.i, ml_predict_one(m, ROW(area, rooms)) = ml_predict_one(m, jsonb_build_object('f1', area, 'f2', rooms)) AS same
FROM fnamed, houses h WHERE h.i IN (1, 2) ORDER BY h.i;
-- Learning from such rows goes on too, as from the jsonb objects (ml_fit_one and ml_fit).
SELECT ml_fit_one(m, ROW(area, rooms), y) = ml_fit_one(m, jsonb_build_object('f1', area, 'f2', rooms), y) AS fit_one_same
FROM fnamed, houses WHERE i = 5;
SELECT ml_fit((SELECT m FROM fnamed), ROW(area, rooms), y ORDER BY i)
     = ml_fit((SELECT m FROM fnamed), jsonb_build_object('f1', area, 'f2', rooms), y ORDER BY i) AS fit_same
FROM houses;
-- A field the model never learned (f3) makes the record anonymous again ...
SELECT ml_predict_one(m, ROW(area, rooms, city)) FROM fnamed, houses WHERE i = 1;
\echo :LAST_ERROR_SQLSTATE
-- ... unless the model ignores it.
SELECT ml_predict_one(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["f3"]}', '{"f1": 1, "f2": 2}'::jsonb, 1), ROW(1, 2, 'x'))
     = ml_predict_one(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["f3"]}', '{"f1": 1, "f2": 2}'::jsonb, 1), '{"f1": 1, "f2": 2}'::jsonb) AS f3_ignored;
-- A model of named columns that also knows "f1" does not accept ROW(a, b) (f2 is unknown).
SELECT ml_predict_one(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"f1": 1, "a": 2}'::jsonb, 1), ROW(1, 2));
\echo :LAST_ERROR_SQLSTATE

-- A subquery whose columns really are named f1, f2 cannot be told from ROW(...) (the value is
-- all there is): refused for a model that knows no such names, the hint says to rename them.
CREATE TABLE wide (f1 float8, f2 float8, f3 float8);
INSERT INTO wide VALUES (1, 2, 3), (2, 3, 5), (3, 1, 4);
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', s, w.f3) FROM wide w, LATERAL (SELECT w.f1, w.f2) s;
\echo :LAST_ERROR_SQLSTATE
-- The table's own row type and ml_train's query keep their names, whatever they are.
SELECT ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', w, 'f3'::name)) -> 'features' AS table_row
FROM wide w;
SELECT ml_info(ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT f1, f2, f3 FROM anonymous_records.wide', label => 'f3')) -> 'features' AS train_columns;

-- user did: ml_train(spec, 'SELECT ROW(area, rooms), y FROM houses'): refused.
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": true, "scale_target": true, "check_divergence": false}', 'SELECT ROW(area, rooms), y FROM anonymous_records.houses');
\echo :LAST_ERROR_SQLSTATE

-- user did: SELECT ml_profile(ROW(area, city)) FROM houses: refused (a profile of f1, f2 would
-- match no model's names), and the subquery's row is profiled.
\set VERBOSITY default
SELECT ml_profile(ROW(area, city)) FROM houses;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
SELECT array_agg(f.name ORDER BY f.name) AS profiled
FROM (SELECT ml_profile(s) AS p FROM houses, LATERAL (SELECT houses.area, houses.city) s) a, ml_profile_features(a.p) f;

SELECT ml_unregister('anon_named', force => true), ml_unregister('anon_class', force => true);
\set VERBOSITY default
DROP SCHEMA anonymous_records CASCADE;
