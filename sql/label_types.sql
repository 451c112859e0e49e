-- Labels of every natural type (issue 11, item 6): smallint, int, bigint, numeric, real,
-- double precision, boolean, text, varchar and char(n) columns are labels of ml_fit, ml_fit_one
-- and ml_learn, as of ml_train. Each learns exactly what the same label as float8 (a number),
-- boolean or text (a class) teaches: the models compare equal (ml_model's =, bytes).
-- A label the model cannot take stays a clear error (22023).
CREATE SCHEMA label_types;
SET search_path = label_types, public;

CREATE TABLE obs (
    i   int,
    x   float8,
    y2  smallint,
    y4  int,
    y8  bigint,
    yn  numeric,
    yr  real,
    yd  float8,
    yb  boolean,
    yt  text,
    yv  varchar,
    yc  char(5)
);
INSERT INTO obs
SELECT i, i / 10.0, i % 2, i % 2, i % 2, i % 2, i % 2, i % 2, i % 2 = 1, (i % 2)::text, (i % 2)::text, (i % 2)::text
FROM generate_series(1, 20) i;

-- user did: SELECT ml_fit(spec, x, int_column) FROM t, for every integer and numeric type,
-- with a binary classifier: each model equals the one learned from the label as float8.
SELECT ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], y2 ORDER BY i)
         = ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], y2::float8 ORDER BY i) AS smallint_label,
       ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], y4 ORDER BY i)
         = ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], y4::float8 ORDER BY i) AS int_label,
       ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], y8 ORDER BY i)
         = ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], y8::float8 ORDER BY i) AS bigint_label,
       ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yn ORDER BY i)
         = ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yn::float8 ORDER BY i) AS numeric_label,
       ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yr ORDER BY i)
         = ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yd ORDER BY i) AS real_label
FROM obs;
-- ... and a boolean, text, varchar or char(n) column teaches the same classes 0/1 as the number.
SELECT ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yb ORDER BY i)
         = ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yd ORDER BY i) AS boolean_label,
       ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yt ORDER BY i)
         = ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yd ORDER BY i) AS text_label,
       ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yv ORDER BY i)
         = ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yd ORDER BY i) AS varchar_label,
       ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yc ORDER BY i)
         = ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yd ORDER BY i) AS char_label
FROM obs;
-- The same through jsonb and row features, and the models did learn (20 examples each).
SELECT ml_info(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object('x', x), y8 ORDER BY i)) -> 'n_seen' AS jsonb_bigint,
       ml_info(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', r, yn ORDER BY i)) -> 'n_seen' AS row_numeric,
       ml_info(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', r, yb ORDER BY i)) -> 'n_seen' AS row_boolean
FROM obs, LATERAL (SELECT obs.x AS v) r;
-- A regression takes every number type; its model equals the float8 one.
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], i::smallint ORDER BY i)
         = ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], i::float8 ORDER BY i) AS smallint_target,
       ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], i::bigint ORDER BY i)
         = ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], i::float8 ORDER BY i) AS bigint_target,
       ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], (i / 4.0)::numeric ORDER BY i)
         = ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], (i / 4.0)::float8 ORDER BY i) AS numeric_target
FROM obs;
-- A multiclass model takes whole numbers of any integer type as classes, and numeric ones.
SELECT ml_info(ml_fit('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], (i % 3)::smallint ORDER BY i)) -> 'classes' AS smallint_classes,
       ml_info(ml_fit('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], (i % 3)::bigint + 9007199254740000 ORDER BY i)) -> 'classes' AS bigint_classes,
       ml_info(ml_fit('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], (i % 3)::numeric ORDER BY i)) -> 'classes' AS numeric_classes
FROM obs;

-- user did: SELECT ml_fit_one(m, x, column) over the rows of a table, for every type; the
-- loop's models equal the aggregate's.
CREATE FUNCTION fit_one_loop(col text, spec text) RETURNS ml_model LANGUAGE plpgsql AS $$
DECLARE
    m ml_model := spec::ml_model;
BEGIN
    FOR k IN 1..20 LOOP
        EXECUTE format('SELECT ml_fit_one($1, ARRAY[x], %I) FROM label_types.obs WHERE i = $2', col)
            INTO m USING m, k;
    END LOOP;
    RETURN m;
END
$$;
SELECT c AS label_column,
       fit_one_loop(c, '{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}')
         = (SELECT ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yd ORDER BY i) FROM obs) AS same_as_float8
FROM unnest(ARRAY['y2', 'y4', 'y8', 'yn', 'yr', 'yb', 'yt', 'yv', 'yc']) c;
-- Directly, one column of each type in one statement.
SELECT ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], y2) = ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yd) AS smallint_one,
       ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], y8) = ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yd) AS bigint_one,
       ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object('x', x), yn)
         = ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object('x', x), yd) AS numeric_one,
       ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', r, yb) = ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', r, yd) AS boolean_one,
       ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yc) = ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yd) AS char_one
FROM obs, LATERAL (SELECT obs.x AS v) r WHERE i = 3;

-- user did: SELECT ml_learn('name', x, column) FROM t, for every type: each registered model
-- learns the 20 rows, and ends equal to the model ml_fit learns from float8 labels.
SELECT ml_register('lt_' || c, '{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}') AS version,
       ml_deploy('lt_' || c, 1) AS previous
FROM unnest(ARRAY['y2', 'y4', 'y8', 'yn', 'yr', 'yb', 'yt', 'yv', 'yc']) c;
SELECT count(*) FILTER (WHERE v = 1) AS learned FROM (
    SELECT ml_learn('lt_y2', ARRAY[x], y2) AS v FROM obs UNION ALL
    SELECT ml_learn('lt_y4', ARRAY[x], y4) FROM obs UNION ALL
    SELECT ml_learn('lt_y8', ARRAY[x], y8) FROM obs UNION ALL
    SELECT ml_learn('lt_yn', ARRAY[x], yn) FROM obs UNION ALL
    SELECT ml_learn('lt_yr', ARRAY[x], yr) FROM obs UNION ALL
    SELECT ml_learn('lt_yb', ARRAY[x], yb) FROM obs UNION ALL
    SELECT ml_learn('lt_yt', ARRAY[x], yt) FROM obs UNION ALL
    SELECT ml_learn('lt_yv', ARRAY[x], yv) FROM obs UNION ALL
    SELECT ml_learn('lt_yc', ARRAY[x], yc) FROM obs
) s;
-- (ml_learn runs once per row in scan order, i = 1..20, as the loop of ml_fit_one.)
SELECT m.name, (ml_info(m.model) ->> 'n_seen')::int AS n_seen, m.model = r.ref AS same_as_float8
FROM ml_models m, (SELECT fit_one_loop('yd', '{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}') AS ref) r
WHERE m.name LIKE 'lt\_%' ORDER BY m.name;

-- user did: a label the model cannot take; each is an error naming the label (22023).
-- A boolean to a regression: a boolean is a class.
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yb) FROM obs;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1.0], true);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT ARRAY[x], yb FROM label_types.obs');
\echo :LAST_ERROR_SQLSTATE
-- ... cast to a number, it is one.
SELECT ml_info(ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yb::int)) -> 'n_seen' AS boolean_as_int FROM obs;
-- Text that is not a number to a regression.
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], yt || 'a') FROM obs;
\echo :LAST_ERROR_SQLSTATE
-- A number other than 0/1 to a binary classifier.
SELECT ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], i) FROM obs;
\echo :LAST_ERROR_SQLSTATE
-- A fraction to a multiclass model.
SELECT ml_fit('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[x], i / 4.0) FROM obs;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_learn('lt_y4', ARRAY[1.0], 2);
\echo :LAST_ERROR_SQLSTATE

SELECT ml_unregister('lt_' || c, force => true) FROM unnest(ARRAY['y2', 'y4', 'y8', 'yn', 'yr', 'yb', 'yt', 'yv', 'yc']) c;
DROP SCHEMA label_types CASCADE;
