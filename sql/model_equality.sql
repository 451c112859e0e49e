-- ml_model's equality and order (issue 11, item 7): = and <> compare the binary forms (which
-- are canonical: equal models have equal bytes), a hash and a btree operator class make GROUP BY,
-- DISTINCT, UNION, IN, joins and indexes work; the order has no meaning beyond sorting.
CREATE SCHEMA model_equality;
SET search_path = model_equality, public;

CREATE TABLE models (id int, m ml_model);
INSERT INTO models
SELECT i, ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[(i % 3)::float8], 1)
FROM generate_series(1, 9) i;
INSERT INTO models VALUES (10, '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'), (11, '{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'), (12, NULL);

-- user did: SELECT m, count(*) FROM t GROUP BY m (hashed, then sorted).
SET enable_sort = off;
SELECT ml_info(m) -> 'weights' AS weights, ml_info(m) ->> 'kind' AS kind, count(*)
FROM models GROUP BY m ORDER BY 3 DESC, 2, 1::text;
EXPLAIN (COSTS OFF) SELECT m, count(*) FROM models GROUP BY m;
RESET enable_sort;
SET enable_hashagg = off;
SELECT count(*) AS groups_sorted FROM (SELECT m FROM models GROUP BY m) s;
EXPLAIN (COSTS OFF) SELECT m, count(*) FROM models GROUP BY m;
RESET enable_hashagg;

-- user did: SELECT DISTINCT m, UNION, IN, a join on models.
SELECT count(DISTINCT m) AS distinct_models, count(*) AS rows FROM models;
SELECT count(*) AS union_rows FROM (SELECT m FROM models UNION SELECT m FROM models) s;
SELECT count(*) AS in_list FROM models
WHERE m IN (ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1.0], 1), '{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}');
SET enable_hashjoin = off; SET enable_nestloop = off;
SELECT count(*) AS merge_join_pairs FROM models a JOIN models b ON a.m = b.m;
RESET enable_hashjoin; SET enable_mergejoin = off;
SELECT count(*) AS hash_join_pairs FROM models a JOIN models b ON a.m = b.m;
RESET enable_mergejoin; RESET enable_nestloop;

-- A model equals itself through its text and binary forms; one more update, another spec, or
-- another label makes it different.
SELECT m = m::text::ml_model AS text_round_trip, m = ml_model_from_bytes(ml_model_bytes(m)) AS bytes_round_trip,
       m = ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1.0], 1) AS same_example,
       m <> ml_fit_one(m, ARRAY[1.0], 1) AS one_more_update,
       m <> ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "l2": 0.1}', ARRAY[1.0], 1) AS other_spec,
       m <> ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1.0], 2) AS other_label,
       (m = NULL) IS NULL AS null_is_unknown
FROM models WHERE id = 1;
-- The order is total and consistent with = (btree's contract): exactly one of <, =, > holds.
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE (a.m < b.m)::int + (a.m = b.m)::int + (a.m > b.m)::int = 1) AS one_of_three,
       count(*) FILTER (WHERE (a.m <= b.m) = NOT (a.m > b.m) AND (a.m >= b.m) = NOT (a.m < b.m)
                              AND (a.m < b.m) = (b.m > a.m) AND (a.m <> b.m) = NOT (a.m = b.m)) AS consistent
FROM models a, models b WHERE a.m IS NOT NULL AND b.m IS NOT NULL;
-- A unique btree index refuses a second copy of a model; ORDER BY m sorts.
CREATE UNIQUE INDEX models_unique ON models (m) WHERE id <= 3;
INSERT INTO models VALUES (0, (SELECT m FROM models WHERE id = 3));
\echo :LAST_ERROR_SQLSTATE
SELECT array_agg(id ORDER BY m, id) = array_agg(id ORDER BY ml_model_bytes(m), id) AS order_is_byte_order
FROM models WHERE m IS NOT NULL;
-- A stored (compressed, TOAST) copy of a large model equals the value it was made from.
CREATE TABLE big AS
SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object('f' || (i % 3000), 1.0), 1) AS m
FROM generate_series(1, 3000) i;
SELECT pg_column_size(m) < octet_length(ml_model_bytes(m)) AS stored_compressed,
       m = (SELECT ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object('f' || (i % 3000), 1.0), 1)
            FROM generate_series(1, 3000) i) AS equal
FROM big;
SELECT ml_model_hash(m) = ml_model_hash(m::text::ml_model) AS equal_hashes,
       ml_model_hash_extended(m, 7) = ml_model_hash_extended(ml_model_from_bytes(ml_model_bytes(m)), 7) AS equal_extended_hashes
FROM big;

DROP SCHEMA model_equality CASCADE;
