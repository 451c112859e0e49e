-- The feedback path across statements (issue 12 item 7): the deployed version an attached table is
-- scored with is looked up once and remembered by its row versions; every statement still scores
-- with the version its own snapshot sees (deploys, rollbacks, savepoints, undeploys, learning in
-- place). And the logged features' numbers are the shortest decimals of the doubles scored, built
-- without parsing text.
SET pg_learn.unknown_features = 'ignore';
SET pg_learn.missing_features = 'ignore';
CREATE TABLE fc (id int PRIMARY KEY, x float8, p float8, y float8);
-- Version k scores every row k (an intercept, nothing learned).
SELECT ml_register('fc', format('{"model": "linear_regression", "intercept_init": %s, "optimizer": "sgd", "scale": false,'
                                ' "scale_target": false, "check_divergence": false}', k)::ml_model) AS version
FROM generate_series(1, 3) k;
SELECT ml_deploy('fc', 1);
SELECT ml_attach('fc', 'fc', key => 'id', prediction => 'p', label => 'y', features => ARRAY['x']);
INSERT INTO fc (id, x) VALUES (1, 0);
INSERT INTO fc (id, x) VALUES (2, 0);
SELECT ml_deploy('fc', 2);
INSERT INTO fc (id, x) VALUES (3, 0);  -- 2: the deploy is the next statement's
BEGIN;
SELECT ml_deploy('fc', 3);
INSERT INTO fc (id, x) VALUES (4, 0);  -- 3, rolled back
ROLLBACK;
INSERT INTO fc (id, x) VALUES (5, 0);  -- 2 again
BEGIN;
INSERT INTO fc (id, x) VALUES (6, 0);  -- 2
SAVEPOINT s;
SELECT ml_deploy('fc', 3);
INSERT INTO fc (id, x) VALUES (7, 0);  -- 3
ROLLBACK TO SAVEPOINT s;
INSERT INTO fc (id, x) VALUES (8, 0);  -- 2: the savepoint's deploy is gone
COMMIT;
SELECT ml_deploy('fc', 1);
INSERT INTO fc (id, x) VALUES (10, 0);  -- 1
-- Learning in place writes a new row version of version 1: the next statement scores with it.
SELECT ml_learn('fc', '{"x": 0}'::jsonb, 11) AS learned_version;
INSERT INTO fc (id, x) VALUES (11, 0);
SELECT id, p FROM fc ORDER BY id;
SELECT (SELECT p FROM fc WHERE id = 11) = ml_predict_one(ml_get('fc'), '{"x": 0}'::jsonb) AS learned_weights_used,
       (SELECT p FROM fc WHERE id = 11) > 1 AS moved_toward_label;
SELECT l.key, l.version, l.score FROM ml_prediction_log l WHERE l.table_name = 'fc'::regclass ORDER BY l.prediction_id;

-- The features' numbers in the log: the numeric of each double's shortest decimal, as
-- float8 -> text -> numeric reads it (value and display scale), for random doubles of every
-- magnitude and the edge cases: the smallest subnormal and normal, the largest double, -0,
-- integers beyond 2^53, exponents that print as 1e+20, and the digits int64 arithmetic cannot
-- align (17 significant digits at scale 4k+1).
CREATE TABLE fn (id int PRIMARY KEY, x float8, p float8, y float8);
SELECT ml_attach('fn', 'fc', key => 'id', prediction => 'p', label => 'y', features => ARRAY['x']);
SELECT setseed(0.12);
INSERT INTO fn (id, x)
SELECT i, CASE WHEN i % 3 = 0 THEN random() WHEN i % 3 = 1 THEN (random() - 0.5) * 10 ^ (i % 40 - 20)
               ELSE (random() - 0.5) * 10 ^ (i % 600 - 300) END
FROM generate_series(1, 3000) i;
INSERT INTO fn (id, x) VALUES
    (10001, 5e-324), (10002, 2.2250738585072014e-308), (10003, 1.7976931348623157e308), (10004, '-0'),
    (10005, 0.1), (10006, 0.30000000000000004), (10007, 1e-05), (10008, 1.25e-07), (10009, 1e20),
    (10010, 123456789012345678), (10011, 9007199254740993), (10012, -0.12345678901234567), (10013, 0.1234567890123456789),
    (10014, 1.2345678901234567), (10015, 12345.678901234567), (10016, 42), (10017, -1e-300), (10018, 1e15), (10019, 1e16);
SELECT count(*) AS rows,
       count(*) FILTER (WHERE l.features -> 'x' = to_jsonb(t.x::text::numeric)
                        AND (l.features ->> 'x') = (t.x::text::numeric)::text) AS same_number_and_scale
FROM fn t JOIN ml_prediction_log l ON l.table_name = 'fn'::regclass AND l.key = t.id::text;
SELECT t.id, l.features ->> 'x' AS logged FROM fn t JOIN ml_prediction_log l ON l.table_name = 'fn'::regclass AND l.key = t.id::text
WHERE t.id IN (10004, 10005, 10006, 10007, 10008, 10009, 10011, 10012, 10015, 10016) ORDER BY t.id;
-- Regression (use-after-free of the scored row, found by scripts/test --sanitize): when the served
-- model is not in the backend's cache the trigger reads the registry through SPI, and the row it
-- returns must not be made in SPI's memory, which is freed before the executor copies the row. The
-- row as stored is the one scored (under --sanitize a freed row was an ASan report).
SELECT ml_registry_cache_reset();
INSERT INTO fc (id, x) VALUES (12, 0.5) RETURNING id, x, p = ml_predict('fc', jsonb_build_object('x', 0.5)) AS scored;
SELECT id, x, p IS NOT NULL AS has_score FROM fc WHERE id = 12;
-- Clean up the shared tables.
SELECT ml_detach('fn');
SELECT ml_detach('fc');
DELETE FROM ml_monitor_inbox i USING ml_prediction_log l
WHERE i.prediction_id = l.prediction_id AND l.table_name IN ('fc'::regclass, 'fn'::regclass);
DELETE FROM ml_prediction_log WHERE table_name IN ('fc'::regclass, 'fn'::regclass);
DROP TABLE fn, fc;
SELECT ml_unregister('fc', force => true);
RESET pg_learn.unknown_features;
RESET pg_learn.missing_features;
