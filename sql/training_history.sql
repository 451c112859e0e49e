-- Issue 16 item 5: ml_train records its training history in the model (loss per epoch on the
-- training rows and on an optional validation query), stops early with patience, and reports
-- its progress (the view ml_training_progress; docs/training.md).
CREATE SCHEMA training_history;
SET search_path = training_history, public;
\set reg '{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'
\set clf '{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'
CREATE TABLE tr AS
SELECT i, i * 0.5 - 2 AS a, jsonb_build_object('a', i * 0.5 - 2) AS x, ARRAY[i * 0.5 - 2]::float8[] AS arr,
       (i * 0.5 - 2) * 3 + 1 AS y, (i % 3 = 0)::int AS label
FROM generate_series(1, 8) i;
-- Validation rows: the same relation for the first set, its opposite for the second.
CREATE TABLE va AS
SELECT i, i * 0.7 - 1 AS a, jsonb_build_object('a', i * 0.7 - 1) AS x, ARRAY[i * 0.7 - 1]::float8[] AS arr,
       (i * 0.7 - 1) * 3 + 1 AS y, -((i * 0.7 - 1) * 3 + 1) AS y_opposite, (i % 2)::int AS label
FROM generate_series(1, 5) i;

-- The history: one entry per epoch, the loss the task defines, rows per epoch.
SELECT ml_info(ml_train(:'reg', 'SELECT x, y FROM tr ORDER BY i', 3, shuffle => false)) -> 'training' AS training;
SELECT epoch, rows, round(train_loss::numeric, 6) AS train_loss, validation_loss, loss, best
FROM ml_training_info(ml_train(:'reg', 'SELECT x, y FROM tr ORDER BY i', 3, shuffle => false));

-- The training loss of an epoch is the mean progressive loss: each row's squared error before
-- the model learned it. Replayed in SQL with ml_fit_one and ml_predict_one over two unshuffled
-- epochs (16 visits), its epoch means equal the history's.
WITH RECURSIVE visits AS (
  SELECT 0 AS k, :'reg'::ml_model AS m, NULL::float8 AS loss
  UNION ALL
  SELECT v.k + 1, ml_fit_one(v.m, t.x, t.y), (t.y - ml_predict_one(v.m, t.x)) ^ 2
  FROM visits v JOIN tr t ON t.i = v.k % 8 + 1 WHERE v.k < 16
), replayed AS (
  SELECT (k - 1) / 8 + 1 AS epoch, avg(loss) AS loss FROM visits WHERE k > 0 GROUP BY 1
)
SELECT r.epoch, abs(r.loss - h.train_loss) < 1e-12 AS train_loss_matches
FROM replayed r JOIN ml_training_info(ml_train(:'reg', 'SELECT x, y FROM tr ORDER BY i', 2, shuffle => false)) h USING (epoch)
ORDER BY epoch;
-- A classifier's loss is the log loss: -ln p(label) before learning the row.
WITH RECURSIVE visits AS (
  SELECT 0 AS k, :'clf'::ml_model AS m, NULL::float8 AS loss
  UNION ALL
  SELECT v.k + 1, ml_fit_one(v.m, t.x, t.label),
         -ln(CASE WHEN t.label = 1 THEN ml_predict_one(v.m, t.x) ELSE 1 - ml_predict_one(v.m, t.x) END)
  FROM visits v JOIN tr t ON t.i = v.k + 1 WHERE v.k < 8
)
SELECT abs(avg(loss) - (SELECT train_loss FROM ml_training_info(ml_train(:'clf', 'SELECT x, label FROM tr ORDER BY i', 1)))) < 1e-12
       AS log_loss_matches,
       (SELECT loss FROM ml_training_info(ml_train(:'clf', 'SELECT x, label FROM tr ORDER BY i', 1))) AS loss
FROM visits WHERE k > 0;

-- The validation loss of an epoch is the loss of the model after that epoch over the validation
-- rows: here the last epoch's, computed from ml_predict_one over the validation rows.
WITH m AS (SELECT ml_train(:'reg', 'SELECT x, y FROM tr ORDER BY i', 4, seed => 3, validation => 'SELECT x, y FROM va') AS m)
SELECT (SELECT count(*) FROM ml_training_info(m)) AS epochs,
       abs((SELECT validation_loss FROM ml_training_info(m) WHERE epoch = 4)
           - (SELECT avg((y - ml_predict_one(m, x)) ^ 2) FROM va)) < 1e-12 AS validation_loss_matches,
       ml_info(m) -> 'training' -> 'validation_rows' AS validation_rows
FROM m;
-- The same with float8[] features and with the label named by its column.
WITH m AS (SELECT ml_train(:'reg', 'SELECT arr, y FROM tr ORDER BY i', 2, validation => 'SELECT arr, y FROM va') AS m)
SELECT abs((SELECT validation_loss FROM ml_training_info(m) WHERE epoch = 2)
           - (SELECT avg((y - ml_predict_one(m, arr)) ^ 2) FROM va)) < 1e-12 AS dense_matches
FROM m;
WITH m AS (SELECT ml_train(:'clf', 'SELECT a, label FROM tr', 'label', 2,
                           validation => 'SELECT a, label FROM va', patience => NULL) AS m)
SELECT abs((SELECT validation_loss FROM ml_training_info(m) WHERE epoch = 2)
           - (SELECT avg(-ln(CASE WHEN label = 1 THEN ml_predict_one(m, jsonb_build_object('a', a))
                                  ELSE 1 - ml_predict_one(m, jsonb_build_object('a', a)) END)) FROM va)) < 1e-12
       AS label_named_matches
FROM m;

-- Early stopping: validation rows whose label is the opposite of the training rows' get worse
-- with every epoch after the first; with patience 2 training stops after epoch 3 (epochs 2 and
-- 3 did not improve) and returns the model of epoch 1, the best.
WITH m AS (SELECT ml_train(:'reg', 'SELECT x, y FROM tr ORDER BY i', 10, shuffle => false,
                           validation => 'SELECT x, y_opposite FROM va', patience => 2) AS m)
SELECT ml_info(m) -> 'training' -> 'epochs_run' AS epochs_run,
       ml_info(m) -> 'training' -> 'stopped_early' AS stopped_early,
       ml_info(m) -> 'training' -> 'best_epoch' AS best_epoch,
       (SELECT array_agg(epoch ORDER BY epoch) FROM ml_training_info(m) WHERE best) AS best_rows,
       (SELECT bool_and(validation_loss > (SELECT validation_loss FROM ml_training_info(m) WHERE epoch = 1))
        FROM ml_training_info(m) WHERE epoch > 1) AS later_epochs_worse,
       ml_model_without_history(m)
         = ml_model_without_history(ml_train(:'reg', 'SELECT x, y FROM tr ORDER BY i', 1, shuffle => false)) AS returns_epoch_1
FROM m;
-- Without validation, patience watches the training loss: on rows it can fit, it improves to the
-- end (no early stop), and the best epoch is the last.
SELECT ml_info(m) -> 'training' -> 'stopped_early' AS stopped_early, ml_info(m) -> 'training' -> 'best_epoch' AS best_epoch
FROM (SELECT ml_train(:'reg', 'SELECT x, y FROM tr ORDER BY i', 5, patience => 3) AS m) s;

-- Models without a loss (clustering, anomaly) record rows only, and refuse validation and patience.
SELECT ml_info(ml_train('{"model": "kmeans", "n_clusters": 2, "seed": 1}', 'SELECT arr FROM tr', 2)) -> 'training' AS kmeans_training;
SELECT ml_train('{"model": "kmeans", "n_clusters": 2, "seed": 1}', 'SELECT arr FROM tr', 2, validation => 'SELECT arr FROM va');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train('{"model": "kmeans", "n_clusters": 2, "seed": 1}', 'SELECT arr FROM tr', 2, patience => 1);
\echo :LAST_ERROR_SQLSTATE

-- The history travels with the value: text and binary round trips keep it; learning more
-- (ml_fit_one, ml_fit) gives a model without one; ml_model_without_history drops it.
WITH m AS (SELECT ml_train(:'reg', 'SELECT x, y FROM tr', 3, validation => 'SELECT x, y FROM va', patience => 5) AS m)
SELECT m::text::ml_model = m AS text_round_trip,
       ml_model_from_bytes(ml_model_bytes(m)) = m AS binary_round_trip,
       (SELECT count(*) FROM ml_training_info(ml_fit_one(m, '{"a": 1}'::jsonb, 2))) AS after_fit_one,
       (SELECT count(*) FROM ml_training_info(ml_model_without_history(m))) AS without,
       ml_info(ml_model_without_history(m)) ? 'training' AS info_has_training,
       ml_info(m) - 'training' = ml_info(ml_model_without_history(m)) AS same_model
FROM m;
-- Equal trainings give equal values, bit for bit (no wall-clock time is stored).
SELECT ml_train(:'reg', 'SELECT x, y FROM tr', 3, seed => 9, validation => 'SELECT x, y FROM va')
     = ml_train(:'reg', 'SELECT x, y FROM tr', 3, seed => 9, validation => 'SELECT x, y FROM va') AS deterministic;
-- A model's text form shows its history; a bad one is refused.
SELECT ml_train(:'reg', 'SELECT x, y FROM tr ORDER BY i', 1, shuffle => false)::text::jsonb -> 'training_history' AS text_form;
SELECT jsonb_set(ml_train(:'reg', 'SELECT x, y FROM tr', 2)::text::jsonb, '{training_history,epochs_run}', '3')::text::ml_model;
\echo :LAST_ERROR_SQLSTATE
SELECT jsonb_set(ml_train(:'reg', 'SELECT x, y FROM tr', 2)::text::jsonb, '{training_history,history,0,train_loss}', '-1')::text::ml_model;
\echo :LAST_ERROR_SQLSTATE
-- A model of format 1 (every model before ml_train recorded one) has no history.
SELECT count(*) AS rows FROM ml_training_info(:'reg'::ml_model);

-- The calls of release 0.1.0 still work, positionally and by name.
SELECT ml_info(ml_train(:'reg', 'SELECT x, y FROM tr', 2, false, 0)) -> 'n_seen' AS positional,
       ml_info(ml_train(:'reg', 'SELECT a, y FROM tr', 'y', 2, true, 5)) -> 'n_seen' AS label_named,
       ml_info(ml_train(model => :'reg', query => 'SELECT x, y FROM tr', epochs => 2)) -> 'n_seen' AS named,
       ml_train(:'reg', 'SELECT x, y FROM tr', NULL) IS NULL AS null_epochs_is_null,
       ml_train(NULL, 'SELECT x, y FROM tr') IS NULL AS null_model_is_null;

-- Bad input.
SELECT ml_train(:'reg', 'SELECT x, y FROM tr', 3, patience => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train(:'reg', 'SELECT x, y FROM tr', 3, patience => -2);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train(:'reg', 'SELECT x, y FROM tr', 3, validation => 'SELECT arr, y FROM va');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train(:'reg', 'SELECT arr, y FROM tr', 3, validation => 'SELECT ARRAY[1, 2]::float8[], y FROM va');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train(:'reg', 'SELECT x, y FROM tr', 3, validation => 'SELECT x, y, i FROM va');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train(:'reg', 'SELECT x, y FROM tr', 3, validation => 'SELECT x, y FROM va WHERE false');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train(:'reg', 'SELECT x, y FROM tr', 3, validation => 'DELETE FROM va RETURNING x, y');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train(:'reg', 'SELECT x, y FROM tr', 3, validation => 'SELECT x, y FROM no_such_table');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train(:'reg', 'SELECT a, y FROM tr', 'y', 3, validation => 'SELECT a, i FROM va');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_train(:'clf', 'SELECT x, label FROM tr', 3, validation => 'SELECT x, 7 FROM va');
\echo :LAST_ERROR_SQLSTATE

-- The progress view: no training runs here, so it is empty; the setting of the NOTICEs.
SELECT count(*) AS trainings FROM ml_training_progress;
SELECT name, setting, unit FROM pg_settings WHERE name = 'pg_learn.progress_notice_interval';

RESET search_path;
DROP SCHEMA training_history CASCADE;
