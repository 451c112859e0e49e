-- pg_learn demo: the whole production loop on a stream of card payments.
--   1. A fraud model is trained on last month's payments and registered with the profile of its
--      training data (the baseline), then deployed.
--   2. ml_attach puts it on the payments table: every INSERT is scored and logged.
--   3. Chargebacks (the labels) arrive later as UPDATEs; ml_learn_pending teaches them to the
--      deployed model; ml_monitor_refresh rolls the log up into daily window statistics.
--   4. Days 7 and 8 drift: a new channel appears, amounts triple, more payments come at night.
--      The monitoring views show it: ml_feature_drift, ml_data_quality, ml_model_health.
--   5. Version 2, version 1 trained further on day 7, is registered with day 7's profile as its
--      baseline and deployed; day 9 is scored by it, and drifts no more from its baseline.
-- No pg_cron needed: the jobs it would run every minute are called directly.
-- Run by scripts/demo on a throwaway cluster; also runs as is in a scratch database, as a
-- superuser (it resets pg_learn's monitoring windows, and moves logged predictions to their
-- simulated dates, see replay_day):
--   psql -X -f examples/demo.sql
\set ON_ERROR_STOP on
\set QUIET on
\pset footer off
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS demo CASCADE;
CREATE SCHEMA demo;
SET search_path = demo, public;
CREATE EXTENSION IF NOT EXISTS pg_learn WITH SCHEMA public;
\o /dev/null
-- Start from scratch: no model 'fraud', no log of it, no monitoring windows.
DELETE FROM ml_label_queue WHERE model_name = 'fraud';
DELETE FROM ml_prediction_log WHERE model_name = 'fraud';
SELECT ml_unregister('fraud', force => true) FROM ml_model_names WHERE name = 'fraud';
SELECT ml_monitor_reset();
SELECT ml_monitor_set('bucket_width', '1 day');       -- one window per simulated day
SELECT setseed(0.42);
\o

-- The world: fraud is likelier for large amounts, young accounts, some countries and channels,
-- at night. Day 0 is last month's history; days 1-9 are the stream. From day 7 on, the world
-- drifts: a new channel 'crypto' (risky, and unknown to the model), amounts three times larger,
-- and more payments at night (45% instead of 25%).
CREATE TABLE world (id bigint PRIMARY KEY, day int, amount numeric(10, 2), account_age_days int,
                    country text, channel text, night boolean, fraud boolean);
INSERT INTO world
SELECT id, day, amount, age, country, channel, night,
       random() < 1 / (1 + exp(-(-3.5 + 0.006 * amount - 0.004 * age
                                 + CASE country WHEN 'NG' THEN 2.0 WHEN 'BR' THEN 1.0 ELSE 0 END
                                 + CASE channel WHEN 'web' THEN 0.7 WHEN 'pos' THEN -0.5
                                                WHEN 'crypto' THEN 2.0 ELSE 0 END
                                 + CASE WHEN night THEN 1.5 ELSE 0 END)))
FROM (SELECT id, day,
             round((exp(2 + 4 * random()) * CASE WHEN day >= 7 THEN 3 ELSE 1 END)::numeric, 2) AS amount,
             floor(random() * 1500)::int AS age,
             (ARRAY['DE', 'FR', 'US', 'BR', 'NG'])[1 + floor(random() * 5)::int] AS country,
             CASE WHEN day >= 7 AND random() < 0.3 THEN 'crypto'
                  ELSE (ARRAY['web', 'app', 'pos'])[1 + floor(random() * 3)::int] END AS channel,
             random() < CASE WHEN day >= 7 THEN 0.45 ELSE 0.25 END AS night
      FROM (SELECT id, CASE WHEN id <= 300 THEN 0 ELSE (id - 301) / 2000 + 1 END AS day
            FROM generate_series(1, 300 + 9 * 2000) AS id) AS i) AS g;

-- 1. Train on the history (one pass over 300 payments: a modest start) and register it with
-- the training data's profile as its baseline, then deploy it to production.
CREATE VIEW history AS
SELECT jsonb_build_object('amount', amount, 'account_age_days', account_age_days, 'country', country,
                          'channel', channel, 'night', night) AS features, fraud
FROM world WHERE day = 0 ORDER BY id;
\o /dev/null
SELECT ml_register('fraud',
           ml_train('{"model": "logistic_regression", "optimizer": {"adagrad": {"lr": 0.1}}, "scale": true}',
                    'SELECT features, fraud FROM demo.history', seed => 7),
           notes => 'trained on last month',
           provenance => '{"query": "SELECT features, fraud FROM demo.history", "rows": 300}',
           baseline => (SELECT ml_profile(features) FROM history));
SELECT ml_deploy('fraud', 1);
-- Drift measured as PSI; out-of-range amounts reported when over 1% of a day's values.
SELECT ml_monitor_set('drift_options', '{"method": "psi"}', 'fraud');
SELECT ml_monitor_set('anomaly_options', '{"max_out_of_range_fraction": 0.01}', 'fraud');
\o

-- 2. The payments table, scored on INSERT into fraud_score by whatever version is deployed.
CREATE TABLE payments (
    id               bigint PRIMARY KEY,
    amount           numeric(10, 2) NOT NULL,
    account_age_days int NOT NULL,
    country          text NOT NULL,
    channel          text NOT NULL,
    night            boolean NOT NULL,
    fraud_score      float8,    -- set by the scoring trigger
    chargeback       boolean    -- the truth, arrives a day later
);
\o /dev/null
SELECT ml_attach('payments', 'fraud', key => 'id', prediction => 'fraud_score', label => 'chargeback');
\o

-- 3. One simulated day: 2,000 payments arrive and are scored; the chargebacks (or clearances)
-- of the day before arrive as UPDATEs and are queued; the learning and monitoring jobs run.
-- predicted_at and labeled_at are clock times; the demo replays days in seconds, so it moves
-- the day's log rows to their simulated times (a payment every 43 s through the day, its label
-- a day and 0 to 11 hours later) before rolling them up. Only these dates are rewritten.
CREATE FUNCTION replay_day(d int) RETURNS TABLE (day int, scored bigint, labels_queued bigint,
                                                 learned bigint, events_rolled_up bigint)
LANGUAGE plpgsql AS $$
BEGIN
    day := d;
    INSERT INTO demo.payments (id, amount, account_age_days, country, channel, night)
    SELECT w.id, w.amount, w.account_age_days, w.country, w.channel, w.night
    FROM demo.world w WHERE w.day = d ORDER BY w.id;
    GET DIAGNOSTICS scored = ROW_COUNT;
    UPDATE demo.payments p SET chargeback = w.fraud FROM demo.world w WHERE w.id = p.id AND w.day = d - 1;
    labels_queued := ml_pending_labels('fraud');
    UPDATE ml_prediction_log l
    SET predicted_at = timestamptz '2026-03-01 00:00:00+00' + (l.key::bigint - 301) * interval '43.2 seconds',
        labeled_at = CASE WHEN l.label IS NOT NULL
                          THEN timestamptz '2026-03-02 00:00:00+00' + (l.key::bigint - 301) * interval '43.2 seconds'
                               + (l.key::bigint % 12) * interval '1 hour' END
    WHERE l.table_name = 'demo.payments'::regclass
      AND l.key::bigint BETWEEN 301 + (d - 2) * 2000 AND 300 + d * 2000;   -- days d - 1 and d
    learned := ml_learn_pending('fraud');
    events_rolled_up := ml_monitor_refresh();
    RETURN NEXT;
END $$;

\echo
\echo 'Days 1-6: payments scored on INSERT, the day before labelled, learned, rolled up:'
SELECT (replay_day(d)).* FROM generate_series(1, 6) AS d;

-- What the monitoring windows say, day by day (ml_model_metrics: one row per day and metric).
CREATE FUNCTION daily_metrics() RETURNS TABLE (day date, version text, payments int, labels int,
        fraud_rate numeric, score_mean numeric, auc numeric, log_loss numeric, label_delay_h numeric)
LANGUAGE sql AS $$
    SELECT time::date, version,
           max(value) FILTER (WHERE metric = 'predictions')::int,
           max(value) FILTER (WHERE metric = 'labels')::int,
           round(max(value) FILTER (WHERE metric = 'label_mean')::numeric, 3),
           round(max(value) FILTER (WHERE metric = 'score_mean')::numeric, 3),
           round(max(value) FILTER (WHERE metric = 'auc')::numeric, 3),
           round(max(value) FILTER (WHERE metric = 'logloss')::numeric, 3),
           round(max(value) FILTER (WHERE metric = 'label_delay_p50')::numeric / 3600, 1)
    FROM ml_model_metrics WHERE model = 'fraud' AND variant = 'production'
    GROUP BY time, version ORDER BY time, version
$$;

-- 4. The world drifts: on days 7 and 8 a new channel, 'crypto', carries 30% of the payments,
-- amounts are three times larger, and 45% of the payments are made at night.
\echo 'Days 7-8: the world drifts (a new channel, amounts x3, more at night):'
SELECT (replay_day(d)).* FROM generate_series(7, 8) AS d;

\echo 'ml_model_metrics by day. Days 1-2 are scored by the model trained on history alone'
\echo '(their chargebacks arrive a day later); from day 3 it has learned from them. The drift'
\echo 'of days 7-8 moves the scores; day 8 has no labels yet:'
SELECT * FROM daily_metrics();

\echo 'ml_feature_drift: each day against the training baseline (PSI; warn 0.1, alert 0.25):'
SELECT feature,
       max(format('%s %s', round(value::numeric, 3), status)) FILTER (WHERE time = '2026-03-06') AS "day 6",
       max(format('%s %s', round(value::numeric, 3), status)) FILTER (WHERE time = '2026-03-07') AS "day 7",
       max(format('%s %s', round(value::numeric, 3), status)) FILTER (WHERE time = '2026-03-08') AS "day 8"
FROM ml_feature_drift WHERE model = 'fraud' AND time >= '2026-03-06'
GROUP BY feature ORDER BY feature;

\echo 'ml_data_quality: anomalies against the baseline''s schema (days 6-8; day 6 has none):'
SELECT time::date AS day, feature, anomaly, count, description
FROM ml_data_quality WHERE model = 'fraud' AND time >= '2026-03-06'
ORDER BY time, feature, anomaly;

-- Day 8's chargebacks arrive; they wait in the queue until the next ml_learn_pending.
UPDATE payments p SET chargeback = w.fraud FROM world w WHERE w.id = p.id AND w.day = 8;
\echo 'ml_model_health, day 8''s chargebacks queued (ages and rates in seconds depend on when'
\echo 'the demo runs; not shown):'
SELECT alias, version,
       max(value) FILTER (WHERE metric = 'examples_seen') AS examples_seen,
       max(value) FILTER (WHERE metric = 'pending_labels') AS pending_labels,
       max(value) FILTER (WHERE metric = 'nan_scores') AS nan_scores,
       max(value) FILTER (WHERE metric = 'inf_scores') AS inf_scores
FROM ml_model_health WHERE model = 'fraud' GROUP BY alias, version ORDER BY alias;

-- 5. Retrain: version 1, continued over the labelled payments of day 7 (three shuffled epochs),
-- registered as version 2 with day 7's profile as its baseline, and deployed. Day 8's queued
-- labels still go to version 1, which scored those payments (replay_day(9) learns them).
CREATE VIEW day7 AS
SELECT features, label FROM ml_prediction_log
WHERE model_name = 'fraud' AND label IS NOT NULL
  AND predicted_at >= '2026-03-07' AND predicted_at < '2026-03-08'
ORDER BY prediction_id;
\o /dev/null
SELECT ml_register('fraud', ml_train(ml_get('fraud', 1), 'SELECT features, label FROM demo.day7', epochs => 3, seed => 7),
                   notes => 'retrained after the drift of day 7', parent_version => 1,
                   provenance => '{"query": "SELECT features, label FROM demo.day7", "rows": 2000, "epochs": 3}',
                   baseline => (SELECT ml_profile(features) FROM day7));
SELECT ml_deploy('fraud', 2);
\o
\echo 'Version 2 deployed; day 9 arrives, then the last labels (day "10" has no payments):'
SELECT (replay_day(d)).* FROM generate_series(9, 10) AS d;

\echo 'ml_model_metrics, days 7-9 (day 9 scored by version 2):'
SELECT * FROM daily_metrics() WHERE day >= '2026-03-07';

\echo 'Drift of day 9 against version 2''s baseline:'
SELECT feature, version, round(value::numeric, 3) AS psi, status
FROM ml_feature_drift WHERE model = 'fraud' AND time = '2026-03-09' ORDER BY feature;

\echo 'The registry (ml_versions, ml_history):'
SELECT version, aliases, kind, n_seen, parent_version, notes FROM ml_versions('fraud');
SELECT event, action, alias, from_version, to_version FROM ml_history('fraud');
