-- ml_fit_one and ml_predict_one for the three forms of features: jsonb, float8[] and rows.
-- Each file works in its own schema: the files share one database.
CREATE SCHEMA fit_one;
SET search_path = fit_one, public;

-- jsonb. One sgd step of linear regression from zero weights, by hand:
-- prediction 0, y = 10, gradient g = 2 * (0 - 10) = -20; intercept = 0.01 * 20 = 0.2;
-- w_i = 0.01 * 20 * v_i: a = 0.2 * 2 = 0.4, b = 0.2 * -0.5 = -0.1, "c=red" = 0.2, flag = 0.2 * 1,
-- off = 0.2 * 0 = 0, and "gone" (null, missing) is left out.
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}',
                          '{"a": 2, "b": -0.5, "c": "red", "flag": true, "off": false, "gone": null}'::jsonb, 10))
       - 'spec' - 'identity' AS one_step;
-- Its prediction for a new example: 0.2 + 0.4 * 1 + (-0.1) * 2 + 0.2 (c=red) + 0 (c=blue unseen) = 0.6.
SELECT round(ml_predict_one(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}',
                                       '{"a": 2, "b": -0.5, "c": "red", "flag": true, "off": false, "gone": null}'::jsonb, 10),
                            x)::numeric, 12) AS prediction
FROM (VALUES ('{"a": 1, "b": 2, "c": "red"}'::jsonb),
             ('{"a": 1, "b": 2, "c": "blue"}'::jsonb),
             ('{"a": 1, "b": 2, "unknown": 100}'::jsonb),
             ('{}'::jsonb)) v(x);

-- Logistic regression, one step from zero: p = sigmoid(0) = 0.5, y = 1, g = p - y = -0.5;
-- intercept = 0.01 * 0.5 = 0.005, w = 0.005 * v.
SELECT ml_info(ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 4, "c": "x"}'::jsonb, 1))
       -> 'weights' AS weights,
       ml_info(ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 4, "c": "x"}'::jsonb, 1))
       -> 'intercept' AS intercept;
-- Probability after that step for a = 1, c = x: sigmoid(0.005 + 0.02 + 0.005) = sigmoid(0.03).
SELECT round(ml_predict_one(ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 4, "c": "x"}'::jsonb, 1),
                            '{"a": 1, "c": "x"}'::jsonb)::numeric, 12) AS p,
       round((1 / (1 + exp(-0.03::float8)))::numeric, 12) AS expected;
-- Labels of a classifier: 0, 1, false and true (cast).
SELECT ml_info(ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, true::int)) -> 'intercept' AS after_true,
       ml_info(ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 0)) -> 'intercept' AS after_false;

-- float8[]: element i is the feature x<i>. By hand: y = 1, g = -2; intercept 0.02,
-- x1 = 0.02 * 1 = 0.02, x2 = 0.02 * -3 = -0.06, x3 = 0.02 * 0.5 = 0.01.
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1, -3, 0.5]::float8[], 1))
       -> 'weights' AS weights;
-- numeric[] and int[] cast to float8[].
SELECT ml_model_bytes(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1, -3, 0.5], 1))
     = ml_model_bytes(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1.0, -3.0, 0.5]::float8[], 1)) AS same;
-- A model trained on arrays also scores {"x1": ..., "x2": ...} and the same array as jsonb.
WITH m AS (SELECT ml_fit_one(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1, -3, 0.5]::float8[], 1),
                             ARRAY[2, 1, -1]::float8[], -2) AS m)
SELECT ml_predict_one(m, ARRAY[0.5, 0.25, 4]::float8[]) = ml_predict_one(m, '{"x1": 0.5, "x2": 0.25, "x3": 4}'::jsonb) AS same,
       round(ml_predict_one(m, ARRAY[0.5, 0.25, 4]::float8[])::numeric, 12) AS prediction
FROM m;
-- And jsonb-trained models score arrays (unseen positions weigh 0, any length).
WITH m AS (SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x1": 1, "x3": 2}'::jsonb, 1) AS m)
SELECT round(ml_predict_one(m, ARRAY[1, 1, 1, 1]::float8[])::numeric, 12) AS four,
       round(ml_predict_one(m, ARRAY[1]::float8[])::numeric, 12) AS one
FROM m;
-- Arrays with other lower bounds are read by position.
SELECT ml_model_bytes(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '[0:1]={1,2}'::float8[], 1))
     = ml_model_bytes(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{1,2}'::float8[], 1)) AS same;

-- Rows: columns are features named by the column. Numeric types and booleans are numeric;
-- text, varchar, char(n) (without its padding), name, enums and domains over them categorical.
CREATE TYPE color AS ENUM ('red', 'green', 'blue');
CREATE DOMAIN positive_int AS int CHECK (VALUE > 0);
CREATE TABLE houses (
    id      int,
    rooms   positive_int,
    area    numeric(8, 2),
    ratio   float4,
    big     int8,
    small   int2,
    garden  boolean,
    city    text,
    street  varchar(20),
    code    char(4),
    owner   name,
    paint   color,
    price   float8
);
INSERT INTO houses VALUES
    (1, 3, 72.50, 0.5, 10000000000, 2, true, 'Lyon', 'Rue A', 'AB', 'ann', 'red', 250),
    (2, 2, 40.00, 0.25, 1, -1, false, 'Paris', 'Rue B', 'CDEF', 'bob', 'blue', 400),
    (3, 5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 380);
SELECT id, ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["id", "price"]}', h, 1))
       -> 'features' AS features
FROM houses h ORDER BY id;
-- By hand for house 2: g = 2 * (0 - 1) = -2, each numeric weight is 0.02 * value, each category 0.02.
SELECT jsonb_pretty(ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["id", "price"]}', h, 1)) -> 'weights')
FROM houses h WHERE id = 2;
-- A row scores the same as the equivalent jsonb (to_jsonb keeps the padding of char(n), so
-- code is trimmed; a NULL column and a null key are both missing). jsonb orders its keys, so
-- the sum is taken in another order: compare to 1e-9.
WITH m AS (SELECT ml_fit_one(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["id", "price", "big"]}', h1, 1), h2, 2) AS m
           FROM houses h1, houses h2 WHERE h1.id = 1 AND h2.id = 2)
SELECT h.id, round(ml_predict_one(m, h)::numeric, 9) AS prediction,
       abs(ml_predict_one(m, h) - ml_predict_one(m, to_jsonb(h) || jsonb_build_object('code', rtrim(h.code)))) < 1e-9 AS same,
       abs(ml_predict_one(m, h) - ml_predict_one(m, to_jsonb(h))) < 1e-9 AS same_untrimmed
FROM m, houses h ORDER BY h.id;
-- A row from a subquery names its columns (an anonymous ROW(...), whose fields are f1, f2, ...,
-- is refused: anonymous_records.sql).
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', r, 1)) -> 'features' AS named
FROM (SELECT 1.5 AS amount, 'x' AS kind) r;
-- Dropped columns are skipped.
CREATE TABLE evolving (a int, b text, c float8);
INSERT INTO evolving VALUES (1, 'x', 2);
ALTER TABLE evolving DROP COLUMN b;
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', e, 1)) -> 'features' FROM evolving e;
-- A column of an unsupported type is an error naming the column (42804); ROW(1, 'x') and its
-- untyped literal are refused as an anonymous record first (42804 too).
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ROW(1, 'x'));
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE events (amount float8, at date, tags int[]);
INSERT INTO events VALUES (1, '2024-01-01', '{1}');
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', e, 1) FROM events e;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', (SELECT r FROM (SELECT 1 AS a, '{1}'::int[] AS b) r));
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', (SELECT r FROM (SELECT 1 AS a, '(1,2)'::point AS b) r));
\echo :LAST_ERROR_SQLSTATE
-- Ignoring those columns, or selecting the feature columns in a subquery, is the way around it.
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "ignore": ["at", "tags"]}', e, 1)) -> 'features'
FROM events e;
SELECT ml_info(ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', (SELECT r FROM (SELECT e.amount) r), 1)) -> 'features'
FROM events e;

-- NULL features or label: the model comes back unchanged. A NULL model is an error for
-- ml_fit_one (nothing to return) and NULL for ml_predict_one (STRICT).
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', NULL::jsonb, 1)::text = '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::ml_model::text AS unchanged_x,
       ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, NULL)::text = '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::ml_model::text AS unchanged_y,
       ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', NULL::float8[], 1)::text = '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::ml_model::text AS unchanged_array,
       ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', NULL::houses, 1)::text = '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::ml_model::text AS unchanged_row;
SELECT ml_fit_one(NULL, '{"a": 1}'::jsonb, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one(NULL, ARRAY[1]::float8[], 1);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one(NULL::ml_model, h, 1) FROM houses h WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_predict_one(NULL, '{"a": 1}'::jsonb) IS NULL AS p1, ml_predict_one(NULL, ARRAY[1]::float8[]) IS NULL AS p2,
       ml_predict_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', NULL::jsonb) IS NULL AS p3;

-- Feeding the result back in, row after row (the decoded model is cached between calls),
-- gives the same model as the ml_fit aggregate in the same order.
CREATE TABLE stream AS
SELECT i, jsonb_build_object('a', (i % 7) - 3, 'b', (i % 5) * 0.5, 'c', 'k' || (i % 3)) AS x, ((i % 4) - 1.5)::float8 AS y
FROM generate_series(1, 200) i;
CREATE FUNCTION fit_loop() RETURNS ml_model LANGUAGE plpgsql AS $$
DECLARE
  m ml_model := '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": "adagrad"}';
  r record;
BEGIN
  FOR r IN SELECT x, y FROM stream ORDER BY i LOOP
    m := ml_fit_one(m, r.x, r.y);
  END LOOP;
  RETURN m;
END $$;
SELECT ml_model_bytes(fit_loop())
     = ml_model_bytes((SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": "adagrad"}', x, y ORDER BY i) FROM stream)) AS same_model,
     ml_info(fit_loop()) -> 'n_seen' AS n_seen;
-- The same through a recursive query.
WITH RECURSIVE r(i, m) AS (
  SELECT 0, '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": "adagrad"}'::ml_model
  UNION ALL
  SELECT r.i + 1, ml_fit_one(r.m, s.x, s.y) FROM r JOIN stream s ON s.i = r.i + 1
)
SELECT ml_model_bytes(m) = ml_model_bytes(fit_loop()) AS same_model FROM r WHERE i = 200;
-- The same model value can be updated in a table, one row at a time.
CREATE TABLE live (id int PRIMARY KEY, m ml_model);
INSERT INTO live VALUES (1, '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": "adagrad"}');
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT x, y FROM stream ORDER BY i LOOP
    UPDATE live SET m = ml_fit_one(m, r.x, r.y) WHERE id = 1;
  END LOOP;
END $$;
SELECT ml_model_bytes(m) = ml_model_bytes(fit_loop()) AS same_model FROM live;
