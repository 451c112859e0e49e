-- The naive Bayes kinds (gaussian_nb, multinomial_nb, bernoulli_nb) end to end: ml_fit_one,
-- ml_fit and ml_train, ml_predict_class and ml_predict_proba, ml_info, text and binary I/O, a
-- parallel ml_fit equal to the serial one (merging sums sufficient statistics), the registry with
-- a scoring trigger and feedback, and bad input with its SQLSTATE.
CREATE SCHEMA naive_bayes;
SET search_path = naive_bayes, public;
SET extra_float_digits = 0;

-- Three classes of flowers (numeric measures), documents (word counts) and their words as flags.
CREATE TABLE flowers AS
SELECT i, cls,
       jsonb_build_object('length', cx + ((i * 37) % 11 - 5) * 0.1, 'width', cy + ((i * 53) % 13 - 6) * 0.05) AS x,
       ARRAY[cx + ((i * 37) % 11 - 5) * 0.1, cy + ((i * 53) % 13 - 6) * 0.05]::float8[] AS a
FROM generate_series(1, 300) i,
     LATERAL (SELECT (ARRAY['setosa', 'versicolor', 'virginica'])[1 + i % 3] AS cls,
                     (ARRAY[1.5, 4.3, 5.6])[1 + i % 3] AS cx,
                     (ARRAY[0.2, 1.3, 2.0])[1 + i % 3] AS cy) c;
CREATE TABLE docs AS
SELECT i, topic,
       jsonb_build_object('goal', CASE WHEN topic = 'sports' THEN 2 + i % 3 ELSE i % 2 END,
                          'vote', CASE WHEN topic = 'politics' THEN 1 + i % 4 ELSE (i / 7) % 2 END,
                          'atom', CASE WHEN topic = 'science' THEN 3 ELSE 0 END,
                          'source', CASE WHEN i % 5 = 0 THEN 'wire' ELSE 'staff' END) AS x
FROM generate_series(1, 300) i,
     LATERAL (SELECT (ARRAY['sports', 'politics', 'science'])[1 + i % 3] AS topic) t;

-- ---------------------------------------------------------------------------------------------
-- user did: ml_fit_one, row by row, with a Gaussian naive Bayes; it predicts classes.
-- ---------------------------------------------------------------------------------------------
SELECT ml_info(m) - 'identity' - 'size_bytes' AS info
FROM (SELECT ml_fit_one(ml_fit_one(ml_fit_one('{"model": "gaussian_nb"}', '{"length": 1.4, "width": 0.2}'::jsonb, 'setosa'),
                                   '{"length": 1.6, "width": 0.3}'::jsonb, 'setosa'),
                        '{"length": 4.5, "width": 1.4}'::jsonb, 'versicolor') AS m) s;
SELECT ml_predict_class(m, '{"length": 4.0, "width": 1.2}'::jsonb) AS cls,
       (ml_predict_proba(m, '{"length": 1.5}'::jsonb) ->> 'setosa')::float8 > 0.99 AS setosa
FROM (SELECT ml_fit_one(ml_fit_one(ml_fit_one('{"model": "gaussian_nb"}', '{"length": 1.4, "width": 0.2}'::jsonb, 'setosa'),
                                   '{"length": 1.6, "width": 0.3}'::jsonb, 'setosa'),
                        '{"length": 4.5, "width": 1.4}'::jsonb, 'versicolor') AS m) s;
-- 0/1 and booleans are classes too.
SELECT ml_info(ml_fit_one(ml_fit_one('{"model": "bernoulli_nb"}', '{"a": 1}'::jsonb, 1), '{"a": 0}'::jsonb, 0)) -> 'classes' AS numbers,
       ml_info(ml_fit_one(ml_fit_one('{"model": "bernoulli_nb"}', '{"a": 1}'::jsonb, true), '{"a": 0}'::jsonb, false)) -> 'classes' AS booleans;

-- ---------------------------------------------------------------------------------------------
-- user did: ml_fit over a table with each kind, and predicted.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE models AS
SELECT 'gaussian' AS name, ml_fit('{"model": "gaussian_nb"}', x, cls) AS m FROM flowers
UNION ALL SELECT 'gaussian_array', ml_fit('{"model": "gaussian_nb"}', a, cls) FROM flowers
UNION ALL SELECT 'multinomial', ml_fit('{"model": "multinomial_nb", "alpha": 0.5}', x, topic) FROM docs
UNION ALL SELECT 'bernoulli', ml_fit('{"model": "bernoulli_nb"}', x, topic) FROM docs;
SELECT name, ml_info(m) ->> 'kind' AS kind, ml_info(m) -> 'n_seen' AS n_seen, ml_info(m) -> 'spec' AS spec,
       ml_info(m) -> 'class_counts' AS class_counts
FROM models ORDER BY name;
SELECT count(*) FILTER (WHERE ml_predict_class(m, x) = cls) AS right, count(*) AS rows
FROM flowers, models WHERE name = 'gaussian';
SELECT count(*) FILTER (WHERE ml_predict_class(m, a) = cls) AS right, count(*) AS rows
FROM flowers, models WHERE name = 'gaussian_array';
SELECT name, count(*) FILTER (WHERE ml_predict_class(m, x) = topic) AS right, count(*) AS rows
FROM docs, models WHERE name IN ('multinomial', 'bernoulli') GROUP BY name ORDER BY name;
SELECT name, round(sum(p::float8)::numeric, 12) AS total
FROM models, LATERAL jsonb_each_text(ml_predict_proba(m, '{"goal": 3, "vote": 1, "source": "wire"}'::jsonb)) AS e(cls, p)
WHERE name IN ('multinomial', 'bernoulli') GROUP BY name ORDER BY name;
-- ml_train: several passes; one pass is ml_fit's model.
SELECT ml_info(ml_train('{"model": "multinomial_nb", "alpha": 0.5}', 'SELECT x, topic FROM naive_bayes.docs ORDER BY i', 1)) -> 'n_seen' AS one_pass,
       ml_info(ml_train('{"model": "multinomial_nb", "alpha": 0.5}', 'SELECT x, topic FROM naive_bayes.docs ORDER BY i', 3)) -> 'n_seen' AS three_passes;
SELECT ml_model_without_history(ml_train('{"model": "multinomial_nb", "alpha": 0.5}', 'SELECT x, topic FROM naive_bayes.docs ORDER BY i', 1)) = m AS train_is_fit
FROM models WHERE name = 'multinomial';

-- ---------------------------------------------------------------------------------------------
-- user did: stored the models as text and as bytes and read them back.
-- ---------------------------------------------------------------------------------------------
SELECT name, m::text::ml_model = m AS text_round_trip, m::text::ml_model::text = m::text AS same_text,
       ml_model_from_bytes(ml_model_bytes(m)) = m AS binary_round_trip,
       ml_model_bytes(ml_model_from_bytes(ml_model_bytes(m))) = ml_model_bytes(m) AS same_bytes
FROM models ORDER BY name;
SELECT jsonb_pretty((m::text::jsonb) -> 'state') AS state
FROM (SELECT ml_fit_one(ml_fit_one('{"model": "gaussian_nb"}', '{"a": 1, "b": 2}'::jsonb, 'x'), '{"a": 3}'::jsonb, 'y') AS m) s;

-- ---------------------------------------------------------------------------------------------
-- user did: ml_fit in parallel. Partial models merge by summing their statistics: the parallel
-- model predicts what the serial one does (to rounding), and counts every row once.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE big AS
SELECT (k - 1) * 300 + f.i AS i, f.x, f.cls, d.x AS dx, d.topic
FROM generate_series(1, 40) k, flowers f JOIN docs d ON d.i = f.i;
ANALYZE big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT ml_fit('{"model": "gaussian_nb"}', x, cls) FROM big;
CREATE FUNCTION workers_launched(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'Workers Launched' THEN RETURN trim(line); END IF;
  END LOOP;
  RETURN 'no workers';
END $$;
SELECT workers_launched($$SELECT ml_fit('{"model": "gaussian_nb"}', x, cls) FROM naive_bayes.big$$);
-- (one table per model: CREATE TABLE AS runs its query in parallel, INSERT would not)
CREATE TABLE p_gaussian AS SELECT ml_fit('{"model": "gaussian_nb"}', x, cls) AS m FROM big;
CREATE TABLE p_multinomial AS SELECT ml_fit('{"model": "multinomial_nb"}', dx, topic) AS m FROM big;
CREATE TABLE p_bernoulli AS SELECT ml_fit('{"model": "bernoulli_nb"}', dx, topic) AS m FROM big;
CREATE TABLE p_from_trained AS
SELECT ml_fit(ml_fit_one('{"model": "multinomial_nb"}', '{"goal": 9}'::jsonb, 'sports'), dx, topic) AS m FROM big;
CREATE VIEW parallel_fit AS
SELECT 'gaussian' AS name, m FROM p_gaussian UNION ALL SELECT 'multinomial', m FROM p_multinomial
UNION ALL SELECT 'bernoulli', m FROM p_bernoulli UNION ALL SELECT 'from_trained', m FROM p_from_trained;
RESET max_parallel_workers_per_gather;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE serial_fit AS
SELECT 'gaussian' AS name, ml_fit('{"model": "gaussian_nb"}', x, cls ORDER BY i) AS m FROM big
UNION ALL SELECT 'multinomial', ml_fit('{"model": "multinomial_nb"}', dx, topic ORDER BY i) FROM big
UNION ALL SELECT 'bernoulli', ml_fit('{"model": "bernoulli_nb"}', dx, topic ORDER BY i) FROM big
UNION ALL SELECT 'from_trained', ml_fit(ml_fit_one('{"model": "multinomial_nb"}', '{"goal": 9}'::jsonb, 'sports'), dx, topic ORDER BY i) FROM big;
RESET max_parallel_workers_per_gather;
-- (the probe rows lack features: predicting without them is what they test, quietly)
SET pg_learn.missing_features = 'ignore';
SET pg_learn.unknown_features = 'ignore';
SELECT p.name, ml_info(p.m) -> 'n_seen' AS n_seen, ml_info(p.m) -> 'class_counts' = ml_info(s.m) -> 'class_counts' AS same_counts,
       (SELECT max(abs((ml_predict_proba(p.m, q) ->> c)::float8 - (ml_predict_proba(s.m, q) ->> c)::float8))
        FROM (VALUES ('{"length": 4.1, "width": 1.1}'::jsonb), ('{"goal": 2, "vote": 1, "source": "wire"}'),
                     ('{"length": 1.5, "atom": 3}')) v(q),
             jsonb_array_elements_text(ml_info(s.m) -> 'classes') c) < 1e-12 AS same_predictions
FROM parallel_fit p JOIN serial_fit s USING (name) ORDER BY p.name;

-- ---------------------------------------------------------------------------------------------
-- user did: registered a naive Bayes model, attached it to a table, labelled rows; the trigger
-- scores each row, and the labels are learned once.
-- ---------------------------------------------------------------------------------------------
SELECT ml_register('nb_topic', m) FROM models WHERE name = 'multinomial';
SELECT ml_deploy('nb_topic', 1);
CREATE TABLE articles (id int PRIMARY KEY, goal int, vote int, atom int, guess text, p float8, truth text);
SELECT ml_attach('articles', 'nb_topic', key => 'id', prediction => 'guess', probability => 'p', label => 'truth',
                 features => ARRAY['goal', 'vote', 'atom']);
INSERT INTO articles (id, goal, vote, atom) VALUES (1, 4, 0, 0), (2, 0, 3, 0), (3, 0, 0, 3), (4, 3, 0, 0);
SELECT id, guess, p > 0.5 AS confident FROM articles ORDER BY id;
-- (row 5 has a negative count: it is scored, but its label cannot be learned)
INSERT INTO articles (id, goal, vote, atom) VALUES (5, -1, 0, 0);
UPDATE articles SET truth = CASE id WHEN 1 THEN 'sports' WHEN 2 THEN 'politics' WHEN 3 THEN 'science' WHEN 4 THEN 'cooking' ELSE 'sports' END;
SELECT ml_pending_labels('nb_topic') AS pending;
SELECT ml_learn_pending('nb_topic') AS applied;
SELECT ml_learn_pending('nb_topic') AS applied_again;
SELECT ml_info(ml_get('nb_topic', 1)) -> 'n_seen' AS n_seen, ml_info(ml_get('nb_topic', 1)) -> 'class_counts' AS class_counts;
SELECT l.key, j.label_class, j.sqlstate FROM ml_rejected_labels j JOIN ml_prediction_log l USING (prediction_id)
WHERE j.model_name = 'nb_topic';
SELECT ml_detach('articles');
DELETE FROM ml_rejected_labels WHERE model_name = 'nb_topic';
DELETE FROM ml_label_queue q USING ml_prediction_log l WHERE l.prediction_id = q.prediction_id AND l.model_name = 'nb_topic';
DELETE FROM ml_prediction_log WHERE model_name = 'nb_topic';
SELECT ml_unregister('nb_topic', force => true);
RESET pg_learn.missing_features;
RESET pg_learn.unknown_features;

-- ---------------------------------------------------------------------------------------------
-- Bad input, with its SQLSTATE.
-- ---------------------------------------------------------------------------------------------
\set VERBOSITY default
-- user did: misspelled an option, or gave one out of range (22023).
SELECT '{"model": "bernoulli_nb", "binarise": 0.5}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "multinomial_nb", "alpha": 0}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "gaussian_nb", "var_smoothing": 0}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT '{"model": "bernoulli_nb", "fit_prior": "yes"}'::ml_model;
\echo :LAST_ERROR_SQLSTATE
-- user did: a negative count for a multinomial model (22023).
SELECT ml_fit_one('{"model": "multinomial_nb"}', '{"goal": -1}'::jsonb, 'sports');
\echo :LAST_ERROR_SQLSTATE
-- user did: a text feature for a Gaussian model (22023).
SELECT ml_fit('{"model": "gaussian_nb"}', x, topic) FROM docs;
\echo :LAST_ERROR_SQLSTATE
-- user did: a NaN feature (22003).
SELECT ml_fit_one('{"model": "gaussian_nb"}', ARRAY[1, 'NaN']::float8[], 'a');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one('{"model": "gaussian_nb"}', '{"a": 1}'::jsonb, 'a') AS m \gset
SELECT ml_predict_class(:'m'::ml_model, ARRAY['NaN']::float8[]);
\echo :LAST_ERROR_SQLSTATE
-- user did: a number prediction from a classifier (22023).
SELECT ml_predict_one(:'m'::ml_model, '{"a": 1}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
-- user did: a hand-edited model with a negative count (22023), a truncated binary one (22P03).
SELECT replace(m::text, '"class_count":[', '"class_count":[-')::ml_model
FROM models WHERE name = 'bernoulli';
\echo :LAST_ERROR_SQLSTATE
SELECT ml_model_from_bytes(substr(ml_model_bytes(m), 1, length(ml_model_bytes(m)) - 8)) FROM models WHERE name = 'bernoulli';
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse

DROP SCHEMA naive_bayes CASCADE;
