-- Multiclass models through feedback and monitoring: a softmax_regression attached to a table
-- scores each row into a text prediction column (the most probable class) and a probability
-- column, logs the class and the class probabilities, learns text, integer and boolean labels
-- (by UPDATE and by a labels table, queued and sync) exactly once, and ml_monitor_refresh and
-- ml_model_metrics show accuracy, log loss, macro F1 and the recall of each class. Errors with
-- their SQLSTATE. The file cleans the shared tables up at its end.
CREATE SCHEMA feedback_multiclass;
SET search_path = feedback_multiclass, public;
SET extra_float_digits = 0;

-- Three well-separated clusters; the model knows the three classes.
CREATE TABLE seed AS
SELECT i, cls,
       cx + ((i * 37) % 11 - 5) * 0.06 AS x,
       cy + ((i * 53) % 13 - 6) * 0.06 AS y
FROM generate_series(1, 60) i,
     LATERAL (SELECT (ARRAY['red', 'green', 'blue'])[1 + i % 3] AS cls,
                     (ARRAY[2.0, -1.0, -1.0])[1 + i % 3] AS cx,
                     (ARRAY[0.0, 1.7, -1.7])[1 + i % 3] AS cy) c;
SELECT ml_register('fb_color', ml_train('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "optimizer": {"adagrad": {"lr": 0.1}}}',
                                        'SELECT jsonb_build_object(''x'', x, ''y'', y), cls FROM feedback_multiclass.seed', 5));
SELECT ml_deploy('fb_color', 1);
SELECT task, (ml_info(model) ->> 'n_seen')::int AS n_seen FROM ml_models WHERE name = 'fb_color';
-- A monitoring bucket long enough for the whole file (set back at its end).
SELECT ml_monitor_set('bucket_width', '1000 days');

CREATE TABLE paints (id int PRIMARY KEY, x float8, y float8, color text, p float8, truth text);

-- ---------------------------------------------------------------------------------------------
-- Errors: a multiclass model's prediction is a class (42804 for a float8 prediction column); a
-- probability column goes with the class of a multiclass model (22023) and is a number (42804).
-- ---------------------------------------------------------------------------------------------
\set VERBOSITY default
SELECT ml_attach('paints', 'fb_color', key => 'id', prediction => 'p', label => 'truth');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('paints', 'fb_color', key => 'id', prediction => 'color', probability => 'truth');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('paints', 'fb_color', key => 'id', probability => 'p');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('paints', 'fb_color', key => 'id', prediction => 'color', probability => 'color');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS attachments FROM ml_attachments WHERE table_name = 'paints'::regclass;
-- A binary or regression model keeps its float prediction column and numeric labels.
SELECT ml_register('fb_binary', ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, 1));
SELECT ml_deploy('fb_binary', 1);
SELECT ml_attach('paints', 'fb_binary', key => 'id', prediction => 'color');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('paints', 'fb_binary', key => 'id', prediction => 'p', label => 'truth');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_attach('paints', 'fb_binary', key => 'id', prediction => 'p', probability => 'x');
\echo :LAST_ERROR_SQLSTATE

-- ---------------------------------------------------------------------------------------------
-- Scoring: the class into color, its probability into p; the log holds both and every class's
-- probability (score is the probability of the predicted class).
-- ---------------------------------------------------------------------------------------------
SELECT ml_attach('paints', 'fb_color', key => 'id', prediction => 'color', label => 'truth',
                 features => ARRAY['x', 'y'], probability => 'p');
SELECT prediction_column, probability_column, label_column FROM ml_attachments WHERE table_name = 'paints'::regclass;
INSERT INTO paints (id, x, y) SELECT i, x, y FROM seed WHERE i <= 12;
SELECT id, color, round(p::numeric, 6) > 0.34 AS confident FROM paints ORDER BY id LIMIT 4;
SELECT bool_and(color = s.cls) AS every_class_right FROM paints JOIN seed s ON s.i = paints.id;
SELECT bool_and(l.predicted_class = t.color) AS logged_class_served,
       bool_and(l.score = t.p) AS logged_score_is_probability,
       bool_and(l.score = (l.probabilities ->> l.predicted_class)::float8) AS score_of_the_class,
       bool_and((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(l.probabilities) k) = ARRAY['blue', 'green', 'red'])
           AS every_class,
       bool_and(l.predicted_class = ml_predict_class(ml_get('fb_color', 1), l.features)) AS replayable,
       count(*) AS logged
FROM ml_prediction_log l JOIN paints t ON t.id::text = l.key
WHERE l.model_name = 'fb_color';
-- ml_predict_proba over the logged features gives the logged probabilities.
SELECT bool_and(ml_predict_proba(ml_get('fb_color', 1), l.features) = l.probabilities) AS probabilities_replay
FROM ml_prediction_log l WHERE l.model_name = 'fb_color';

-- ---------------------------------------------------------------------------------------------
-- Labels by UPDATE of a text column: checked on arrival ('' is not a class: 22023), queued as
-- classes, learned once.
-- ---------------------------------------------------------------------------------------------
UPDATE paints SET truth = '' WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_pending_labels('fb_color') AS pending;
UPDATE paints SET truth = s.cls FROM seed s WHERE s.i = paints.id AND paints.id <= 6;
-- (id 7 gets a class the model has never seen: its prediction is wrong, accuracy below 1)
UPDATE paints SET truth = 'purple' WHERE id = 7;
SELECT ml_pending_labels('fb_color') AS pending;
SELECT prediction_id IS NOT NULL AS queued, label, label_class FROM ml_label_queue ORDER BY prediction_id LIMIT 3;
SELECT count(*) FILTER (WHERE label_class IS NOT NULL) AS log_class_labels,
       count(*) FILTER (WHERE label IS NOT NULL) AS log_number_labels
FROM ml_prediction_log WHERE model_name = 'fb_color';
-- A second label for a labelled row is ignored (set once).
UPDATE paints SET truth = NULL WHERE id = 2;
UPDATE paints SET truth = 'blue' WHERE id = 2;
SELECT ml_pending_labels('fb_color') AS pending;
SELECT ml_learn_pending('fb_color') AS applied;
SELECT ml_learn_pending('fb_color') AS applied_again;
SELECT (ml_info(ml_get('fb_color', 1)) ->> 'n_seen')::int AS n_seen,
       (SELECT array_agg(c ORDER BY c) FROM jsonb_array_elements_text(ml_info(ml_get('fb_color', 1)) -> 'classes') c)
           AS classes
FROM (SELECT 1) one;
SELECT count(*) AS learned FROM ml_prediction_log WHERE model_name = 'fb_color' AND learned_at IS NOT NULL;

-- A row inserted with its label is labelled at once.
INSERT INTO paints (id, x, y, truth) VALUES (100, 2.0, 0.1, 'red');
SELECT color, truth FROM paints WHERE id = 100;
SELECT q.label_class FROM ml_label_queue q JOIN ml_prediction_log l USING (prediction_id) WHERE l.key = '100';

-- ---------------------------------------------------------------------------------------------
-- A labels table with integer classes, in sync mode: learned at commit.
-- ---------------------------------------------------------------------------------------------
SELECT ml_register('fb_digit', ml_fit_one(ml_fit_one('{"model": "softmax_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, 1),
                                          '{"x": -1}'::jsonb, 2));
SELECT ml_deploy('fb_digit', 1);
CREATE TABLE digits (id int PRIMARY KEY, x float8, guess text);
CREATE TABLE digit_labels (id int, digit int);
SELECT ml_attach('digits', 'fb_digit', key => 'id', prediction => 'guess', label_table => 'digit_labels',
                 label_key => 'id', label_value => 'digit', mode => 'sync');
INSERT INTO digits (id, x) VALUES (1, 1), (2, -1), (3, 1);
SELECT id, guess FROM digits ORDER BY id;
BEGIN;
INSERT INTO digit_labels VALUES (1, 1), (2, 2), (3, 3);
SELECT q.label_class, q.sync FROM ml_label_queue q JOIN ml_prediction_log l USING (prediction_id)
WHERE l.model_name = 'fb_digit' ORDER BY l.key;
SELECT (ml_info(ml_get('fb_digit', 1)) ->> 'n_seen')::int AS n_seen_inside;
COMMIT;
SELECT (ml_info(ml_get('fb_digit', 1)) ->> 'n_seen')::int AS n_seen_after_commit,
       (SELECT array_agg(c ORDER BY c) FROM jsonb_array_elements_text(ml_info(ml_get('fb_digit', 1)) -> 'classes') c)
           AS classes,
       ml_pending_labels('fb_digit') AS pending;
-- A second labels row for the same key is ignored (set once).
INSERT INTO digit_labels VALUES (1, 2);
SELECT (ml_info(ml_get('fb_digit', 1)) ->> 'n_seen')::int AS n_seen_unchanged;

-- ---------------------------------------------------------------------------------------------
-- Monitoring: events rolled up into per-window class states.
-- ---------------------------------------------------------------------------------------------
SELECT ml_monitor_refresh() > 0 AS rolled_up;
SELECT ml_metric_count(class_state) AS in_class_state, labels, unscored_labels, metric_state IS NULL AS no_binary_state
FROM ml_monitor_windows WHERE model_name = 'fb_color';
SELECT metric, round(value::numeric, 6) AS value
FROM ml_model_metrics WHERE model = 'fb_color' AND (metric IN ('predictions', 'labels', 'accuracy', 'macro_f1') OR metric LIKE 'recall:%')
ORDER BY metric;
-- The log loss is that of the class probabilities logged at prediction time.
SELECT abs(m.value - ml_logloss(ml_class_state(l.label_class, l.probabilities))) < 1e-12 AS logloss_of_the_log
FROM ml_model_metrics m,
     ml_prediction_log l
WHERE m.model = 'fb_color' AND m.metric = 'logloss' AND l.model_name = 'fb_color' AND l.label_class IS NOT NULL
GROUP BY m.value;
-- A regression or binary metric never shows for a multiclass model.
SELECT count(*) AS other_metrics FROM ml_model_metrics
WHERE model IN ('fb_color', 'fb_digit') AND metric IN ('auc', 'mae', 'rmse', 'r2');
SELECT metric, value FROM ml_model_metrics WHERE model = 'fb_digit' AND metric IN ('accuracy', 'recall:1', 'recall:2', 'recall:3')
ORDER BY metric;

-- ---------------------------------------------------------------------------------------------
-- A varchar(n) prediction column too short for a class fails the row (22001); a labels table
-- with text classes (a boolean is the class "true").
-- ---------------------------------------------------------------------------------------------
CREATE TABLE short (id int PRIMARY KEY, x float8, y float8, c varchar(4));
CREATE TABLE short_labels (id int, cls text);
SELECT ml_attach('short', 'fb_color', key => 'id', prediction => 'c', features => ARRAY['x', 'y'],
                 label_table => 'short_labels', label_key => 'id', label_value => 'cls');
INSERT INTO short VALUES (1, -1, 1.7);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO short VALUES (2, 2, 0), (3, -1, -1.7);
SELECT id, c FROM short ORDER BY id;
INSERT INTO short_labels VALUES (2, 'red'), (3, true::text), (4, 'blue');
SELECT l.key, q.label_class FROM ml_label_queue q JOIN ml_prediction_log l USING (prediction_id)
WHERE l.table_name = 'short'::regclass ORDER BY l.key;
SELECT ml_learn_pending() AS applied;

-- ---------------------------------------------------------------------------------------------
-- A deploy of a version of another task under the champion alias: refused before anything
-- changes (the table's text column cannot hold a binary version's number), so rows are still
-- scored by the multiclass version.
-- ---------------------------------------------------------------------------------------------
SELECT ml_register('fb_color', ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"x": 1}'::jsonb, 1));
SELECT ml_deploy('fb_color', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT version FROM ml_aliases WHERE name = 'fb_color' AND alias = 'production';
INSERT INTO paints (id, x, y) VALUES (200, 1, 1);
SELECT color IS NOT NULL AS scored FROM paints WHERE id = 200;

-- ---------------------------------------------------------------------------------------------
-- Clean up the shared tables: detach, forget this file's log, unregister.
-- ---------------------------------------------------------------------------------------------
SELECT ml_detach(table_name) FROM ml_attachments ORDER BY table_name::text;
DELETE FROM ml_label_queue;
DELETE FROM ml_prediction_log;
SELECT ml_unregister('fb_color', force => true), ml_unregister('fb_digit', force => true),
       ml_unregister('fb_binary', force => true);
SELECT ml_monitor_reset() AS requeued;
SELECT ml_monitor_set('bucket_width', NULL) AS bucket_width;
DROP SCHEMA feedback_multiclass CASCADE;
