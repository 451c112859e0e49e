-- Rollouts: a champion (the alias a table is attached to), challengers serving a share of the
-- keys by a deterministic hash, shadows scoring every row without serving; each logged
-- prediction records its variant, and a label teaches every version that predicted.
CREATE SCHEMA feedback_rollout;
SET search_path = feedback_rollout, public;

-- The key's place in the split: XXH64 of (model, 0x00, key), top 53 bits over 2^53 (the value
-- below comes from an independent Python implementation of XXH64).
SELECT ml_route_fraction('churn', '42') AS churn_42, ml_route_fraction('churn', '42') = 0.6465457482584583 AS known_answer,
       ml_route_fraction('fraud.v2', 'customer-0001') = 0.5897073827241467 AS known_answer_2,
       ml_route_fraction('churn', NULL) IS NULL AS strict;
SELECT p.provolatile, p.proparallel, p.proisstrict FROM pg_proc p WHERE p.oid = 'ml_route_fraction(text, text)'::regprocedure;

-- Three versions whose scores tell them apart: a, 2a, 3a (intercept fixed at 0).
SELECT ml_register('fr', ml_fit_one('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false, "intercept_lr": 0}', '{"a": 1}'::jsonb, 50 * v))
FROM generate_series(1, 3) v;
SELECT ml_deploy('fr', 1), ml_deploy('fr', 2, 'canary'), ml_deploy('fr', 3, 'shadow'), ml_deploy('fr', 2, 'canary_b');

CREATE TABLE scored (id int PRIMARY KEY, a float8, p float8, y float8);
SELECT ml_attach('scored', 'fr', key => 'id', prediction => 'p', label => 'y');
SELECT ml_rollout('fr', 'canary', 'challenger', 0.3);
SELECT ml_rollout('fr', 'shadow', 'shadow');
SELECT model_name, alias, role, share, created_by = current_user AS by_me FROM ml_rollouts ORDER BY alias;

INSERT INTO scored (id, a) SELECT i, 1 FROM generate_series(1, 1000) i;
-- Each row: one served prediction (champion or challenger) and one shadow prediction.
SELECT variant, served, version, count(*), min(score) AS score_min, max(score) AS score_max
FROM ml_prediction_log GROUP BY variant, served, version ORDER BY variant;
-- The challenger serves exactly the keys whose place is below its share; the prediction
-- column holds the served score, never the shadow's.
SELECT count(*) FILTER (WHERE l.variant <> CASE WHEN ml_route_fraction('fr', l.key) < 0.3 THEN 'canary' ELSE 'production' END)
           AS misrouted,
       count(*) FILTER (WHERE s.p <> l.score) AS column_differs_from_served
FROM ml_prediction_log l JOIN scored s ON s.id::text = l.key WHERE l.served;
SELECT count(*) AS shadow_scores_served FROM scored s WHERE p = 3;
-- Deterministic: scoring a key again routes it to the same variant.
UPDATE scored SET a = 2 WHERE id <= 100;
SELECT count(DISTINCT (l.key, l.variant)) = 100 AS same_variant_again
FROM ml_prediction_log l WHERE l.served AND l.key::int <= 100;

-- A label teaches every version that predicted for the key: the served one and the shadow.
UPDATE scored SET y = 1 WHERE id <= 10;
SELECT q.version, l.variant, count(*) FROM ml_label_queue q JOIN ml_prediction_log l USING (prediction_id)
GROUP BY q.version, l.variant ORDER BY q.version;
SELECT version, n_seen FROM ml_versions('fr') ORDER BY version;
SELECT ml_learn_pending() AS applied;
SELECT version, n_seen FROM ml_versions('fr') ORDER BY version;
-- The shadow's logged predictions of relabelled keys keep their own labels (set once each).
SELECT count(*) FILTER (WHERE label IS NOT NULL) AS labelled, count(*) FILTER (WHERE learned_at IS NOT NULL) AS learned
FROM ml_prediction_log WHERE variant = 'shadow';

-- Several challengers take consecutive slices in alias order: canary [0, 0.3), canary_b [0.3, 0.5).
SELECT ml_rollout('fr', 'canary_b', 'challenger', 0.2);
DELETE FROM ml_prediction_log WHERE label IS NULL;
INSERT INTO scored (id, a) SELECT i, 1 FROM generate_series(1001, 2000) i;
SELECT count(*) FILTER (WHERE variant <> CASE WHEN ml_route_fraction('fr', key) < 0.3 THEN 'canary'
                                              WHEN ml_route_fraction('fr', key) < 0.5 THEN 'canary_b'
                                              ELSE 'production' END) AS misrouted,
       count(*) FILTER (WHERE variant = 'canary_b') AS canary_b
FROM ml_prediction_log WHERE served AND key::int > 1000;
-- A change of share is used by the next statement of this session (the attachment caches are
-- invalidated); one rolled back is not.
BEGIN;
SELECT ml_rollout('fr', 'canary', 'challenger', 0.05);
INSERT INTO scored (id, a) VALUES (2001, 1);
ROLLBACK;
SELECT ml_rollout('fr', 'canary', 'challenger', 0.05);
INSERT INTO scored (id, a) SELECT i, 1 FROM generate_series(3001, 4000) i;
SELECT count(*) FILTER (WHERE variant <> CASE WHEN ml_route_fraction('fr', key) < 0.05 THEN 'canary'
                                              WHEN ml_route_fraction('fr', key) < 0.25 THEN 'canary_b'
                                              ELSE 'production' END) AS misrouted
FROM ml_prediction_log WHERE served AND key::int > 3000;
SELECT count(*) AS rolled_back_rows_logged FROM ml_prediction_log WHERE key = '2001';
-- Per-variant figures are comparable side by side.
SELECT variant, served, count(*) AS predictions, round(avg(score)::numeric, 3) AS mean_score
FROM ml_prediction_log WHERE key::int > 3000 GROUP BY variant, served ORDER BY variant;

-- Removing the rollouts: the champion serves every key, no shadow scores.
SELECT ml_rollout_remove('fr', 'canary'), ml_rollout_remove('fr', 'canary_b'), ml_rollout_remove('fr', 'shadow');
INSERT INTO scored (id, a) SELECT i, 1 FROM generate_series(5001, 5100) i;
SELECT variant, count(*) FROM ml_prediction_log WHERE key::int > 5000 GROUP BY variant;
-- A rolled-out alias stays deployed while it serves.
SELECT ml_rollout('fr', 'shadow', 'shadow');
SELECT ml_undeploy('fr', 'shadow');
\echo :LAST_ERROR_SQLSTATE
SELECT ml_rollout_remove('fr', 'shadow');

SELECT ml_detach('scored');
DELETE FROM ml_label_queue;
DELETE FROM ml_prediction_log;
SELECT ml_unregister('fr', force => true);
DROP SCHEMA feedback_rollout CASCADE;
