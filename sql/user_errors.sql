-- Errors that point the right way, and small silent acceptances refused (issue 11, items 7
-- and 9). Each case is named after what the user did; errors show their SQLSTATE.
CREATE SCHEMA user_errors;
SET search_path = user_errors, public;

CREATE TABLE preds (i int, p float8, pred_text text, pred_int int, label int, label_text text, code char(3), kind varchar);
INSERT INTO preds VALUES (1, 0.9, '1', 1, 1, '1', 'ab', 'x'), (2, 0.2, '0', 0, 0, '0', 'ab', 'y'),
                         (3, 0.7, '1', 1, 0, '0', 'cd ', 'x'), (4, NULL, NULL, NULL, 1, '1', NULL, NULL);

-- ---------------------------------------------------------------------------------------------
-- Item 7: errors about the user's own argument.
-- ---------------------------------------------------------------------------------------------
-- user did: SELECT ml_accuracy('1', 1) (a string literal against a number). The error is about
-- the types of pred and label, not about a metric state.
SELECT ml_accuracy('1', 1);
\echo :LAST_ERROR_SQLSTATE
-- user did: ml_accuracy(text_column, int_column), even over no rows.
SELECT ml_accuracy(pred_text, label) FROM preds;
\echo :LAST_ERROR_SQLSTATE
SELECT ml_accuracy(pred_text, label) FROM preds WHERE false;
\echo :LAST_ERROR_SQLSTATE
-- The calls that were right still work: one type on both sides, and the state accessor.
SELECT ml_accuracy('1'::int, 1) AS typed_literal, ml_accuracy(pred_int, label) AS ints,
       ml_accuracy(pred_text, label_text) AS texts, ml_accuracy(pred_text::int, label) AS cast_pred,
       ml_accuracy(pred_text, '1') AS text_and_literal
FROM preds;
SELECT ml_accuracy(ml_binary_state(p, label::boolean), 0.5) AS state_accessor,
       ml_accuracy(ml_binary_state(p, label::boolean)) AS state_default
FROM preds;
-- user did: SELECT ml_stats(char_column): statistics of the values (trailing blanks are padding),
-- as of the column cast to text; varchar and text as before.
SELECT ml_stats(code)::jsonb = ml_stats(code::text)::jsonb AS char_as_text,
       ml_stats(code)::jsonb -> 'top_k' AS top_k, ml_null_count(ml_stats(code)) AS nulls,
       ml_distinct(ml_stats(kind)) AS varchar_distinct
FROM preds;
-- user did: ml_stats('a literal'): PostgreSQL reads it as a cast to ml_stats; the hint says so.
SELECT ml_stats('abc');
\echo :LAST_ERROR_SQLSTATE
-- user did: a string literal where a metric state is expected.
SELECT ml_auc('0.3');
\echo :LAST_ERROR_SQLSTATE

-- user did: ml_predict_one(NULL, x). Scoring functions are STRICT, as PostgreSQL's own: a NULL
-- model (or NULL features) gives NULL. A NULL model is an error (22004) only where a model is
-- learned from: ml_fit_one and the ml_fit aggregate.
SELECT ml_predict_one(NULL::ml_model, '{"a": 1}'::jsonb) IS NULL AS predict_one,
       ml_predict_one(NULL, ARRAY[1.0]) IS NULL AS predict_one_array,
       ml_predict_class(NULL::ml_model, '{"a": 1}'::jsonb) IS NULL AS predict_class,
       ml_predict_proba(NULL::ml_model, '{"a": 1}'::jsonb) IS NULL AS predict_proba,
       ml_info(NULL) IS NULL AS info,
       ml_model_bytes(NULL) IS NULL AS bytes,
       ml_train(NULL, 'SELECT ARRAY[1.0], 1.0') IS NULL AS train;
-- (An untyped NULL picks the registry's form, ml_predict_class(name text, x): a NULL name is an
-- error, 22004.)
SELECT ml_predict_class(NULL, '{"a": 1}'::jsonb);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit_one(NULL, '{"a": 1}'::jsonb, 1.0);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_fit(NULL::ml_model, ARRAY[p], label) FROM preds;
\echo :LAST_ERROR_SQLSTATE

-- user did: ml_unregister(name, force => true) while a table is attached, then while labels
-- are queued: each is refused with what to do (55006), not a foreign-key violation.
SELECT ml_register('ue_model', ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', '{"a": 1}'::jsonb, 1)) AS version,
       ml_deploy('ue_model', 1) AS previous;
CREATE TABLE visits (id int PRIMARY KEY, a float8, churned int);
SELECT ml_attach('visits', 'ue_model', key => 'id', label => 'churned');
INSERT INTO visits VALUES (1, 1.0, NULL), (2, 2.0, NULL);
UPDATE visits SET churned = 1;
SELECT ml_pending_labels('ue_model') AS pending;
SELECT ml_unregister('ue_model');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_unregister('ue_model', force => true);
\echo :LAST_ERROR_SQLSTATE
SELECT ml_detach('visits');
SELECT ml_unregister('ue_model', force => true);
\echo :LAST_ERROR_SQLSTATE
-- Nothing was removed by the refused calls; once the labels are learned it goes.
SELECT count(*) AS versions, ml_pending_labels('ue_model') AS pending FROM ml_models WHERE name = 'ue_model';
SELECT ml_learn_pending('ue_model') AS learned;
SELECT ml_unregister('ue_model', force => true) AS removed;
DELETE FROM ml_prediction_log WHERE table_name = 'visits'::regclass;

-- user did: ml_attach without EXECUTE on ml_predict (or on ml_learn, with labels): the hint
-- names the GRANT. (A function call that PostgreSQL itself refuses, 42501, has no hint.)
CREATE ROLE regress_ue_owner;
GRANT USAGE ON SCHEMA user_errors TO regress_ue_owner;
GRANT EXECUTE ON FUNCTION ml_attach(regclass, text, name, name, name, text[], text, text, regclass, name, name, name, boolean, boolean)
    TO regress_ue_owner;
SELECT ml_register('ue_grant', '{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}') AS version, ml_deploy('ue_grant', 1) AS previous;
CREATE TABLE owned (id int PRIMARY KEY, a float8, y int);
ALTER TABLE owned OWNER TO regress_ue_owner;
SET ROLE regress_ue_owner;
SELECT ml_attach('owned', 'ue_grant', key => 'id');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT EXECUTE ON FUNCTION ml_predict(text, record, text) TO regress_ue_owner;
SET ROLE regress_ue_owner;
SELECT ml_attach('owned', 'ue_grant', key => 'id', label => 'y');
\echo :LAST_ERROR_SQLSTATE
-- (monitor-only labels teach nothing: learn => false needs no EXECUTE on ml_learn)
SELECT ml_attach('owned', 'ue_grant', key => 'id', label => 'y', learn => false) AS attached_monitor_only;
RESET ROLE;
SELECT ml_detach('owned');
-- With the grants the hints name, it attaches.
RESET ROLE;
GRANT EXECUTE ON FUNCTION ml_learn(text, record, float8, text) TO regress_ue_owner;
SET ROLE regress_ue_owner;
SELECT ml_attach('owned', 'ue_grant', key => 'id', label => 'y') AS attached;
RESET ROLE;
SELECT ml_detach('owned');
DROP TABLE owned;
REVOKE ALL ON FUNCTION ml_attach(regclass, text, name, name, name, text[], text, text, regclass, name, name, name, boolean, boolean),
                       ml_predict(text, record, text), ml_learn(text, record, float8, text) FROM regress_ue_owner;
REVOKE USAGE ON SCHEMA user_errors FROM regress_ue_owner;
DROP ROLE regress_ue_owner;
SELECT ml_unregister('ue_grant', force => true) AS removed;

-- ---------------------------------------------------------------------------------------------
-- Item 9: small silent acceptances.
-- ---------------------------------------------------------------------------------------------
-- user did: ml_monitor_set('classification_threshold', v) with v outside (0, 1) (22023).
SELECT ml_monitor_set('classification_threshold', '0');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_monitor_set('classification_threshold', '1');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_monitor_set('classification_threshold', '-0.5');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_monitor_set('classification_threshold', '50');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_monitor_set('classification_threshold', '0.3') AS accepted,
       ml_monitor_set('classification_threshold', NULL) AS back_to_default;

-- user did: a spec that varies between the rows of one ml_fit group (22023), instead of
-- learning everything with the first row's spec.
SELECT ml_fit(CASE WHEN i % 2 = 0 THEN '{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'
                   ELSE '{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "l2": 0.1}' END::ml_model, ARRAY[i::float8], label)
FROM preds;
\echo :LAST_ERROR_SQLSTATE
-- ... or a NULL one on a later row (22004).
SELECT ml_fit(CASE WHEN i = 1 THEN '{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::ml_model END, ARRAY[i::float8], label ORDER BY i)
FROM preds;
\echo :LAST_ERROR_SQLSTATE
-- One spec per group is right: GROUP BY the spec.
CREATE TABLE specs (s int, spec ml_model);
INSERT INTO specs VALUES (1, '{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'), (2, '{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "l2": 0.1}');
SELECT s.s, ml_info(ml_fit(s.spec, ARRAY[p.i::float8], p.label ORDER BY p.i)) -> 'spec' -> 'l2' AS l2
FROM specs s, preds p GROUP BY s.s, s.spec ORDER BY s.s;
-- The same model on every row is right, however it arrives: a literal, or a column holding
-- equal values stored apart (here large, compressed, out of line: compared by their headers).
CREATE TABLE starts AS
SELECT i, ml_fit('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', jsonb_build_object('f' || g, 1.0), 1) AS m
FROM generate_series(1, 3) i, generate_series(1, 3000) g GROUP BY i;
SELECT count(DISTINCT m) AS distinct_starts, bool_and(pg_column_size(m) < octet_length(ml_model_bytes(m))) AS compressed
FROM starts;
SELECT ml_info(ml_fit(s.m, jsonb_build_object('f1', s.i::float8), 2.0 ORDER BY s.i)) -> 'n_seen' AS n_seen FROM starts s;
UPDATE starts SET m = ml_fit_one(m, '{"f1": 1.0}'::jsonb, 1.0) WHERE i = 3;
SELECT ml_fit(s.m, jsonb_build_object('f1', s.i::float8), 2.0 ORDER BY s.i) FROM starts s;
\echo :LAST_ERROR_SQLSTATE

-- user did: ml_train over a query with no rows, and ml_fit over no rows: both NULL (as SQL's
-- aggregates); over rows that teach nothing (NULL labels), both give the model unchanged.
SELECT ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT ARRAY[p], label FROM user_errors.preds WHERE false') IS NULL AS train_no_rows,
       (SELECT ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[p], label) FROM preds WHERE false) IS NULL AS fit_no_rows;
SELECT ml_info(ml_train('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', 'SELECT ARRAY[p], NULL::int FROM user_errors.preds')) -> 'n_seen' AS train_null_labels,
       (SELECT ml_info(ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[p], NULL::int)) -> 'n_seen' FROM preds) AS fit_null_labels;
-- (Write coalesce(ml_train(m, q), m) to keep a model when the query may return no rows.)

-- user did: ml_info of a model that has seen no labelled example: "trained" is false and a
-- note says so; the other keys are as before.
SELECT ml_info(m) -> 'trained' AS trained, ml_info(m) ->> 'note' AS note, ml_info(m) -> 'n_seen' AS n_seen
FROM (VALUES ('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}'::ml_model),
             (ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}', ARRAY[1.0], 1))) v(m);
SELECT array_agg(k ORDER BY k) AS keys FROM jsonb_object_keys(ml_info('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}')) k;

DROP SCHEMA user_errors CASCADE;
