-- pg_learn demo: a stream of card payments, each scored by a fraud model the moment it is
-- inserted; the truth (a chargeback, or none) arrives later, and the model learns from it.
-- Run by scripts/demo on a throwaway cluster; also runs as is in any database:
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
SELECT setseed(0.42);
\o

-- The model is a value in a table: a logistic regression with AdaGrad and online scaling.
CREATE TABLE models (name text PRIMARY KEY, model ml_model NOT NULL);
INSERT INTO models VALUES
    ('fraud', '{"model": "logistic_regression", "optimizer": {"adagrad": {"lr": 0.1}}, "scale": true}');

CREATE TABLE payments (
    id               bigint PRIMARY KEY,
    batch            int NOT NULL,
    amount           numeric(10, 2) NOT NULL,
    account_age_days int NOT NULL,
    country          text NOT NULL,
    night            boolean NOT NULL,
    features         jsonb,    -- the features exactly as they were scored
    score            float8,   -- probability of fraud, set on INSERT
    fraud            boolean   -- the truth, arrives later
);

-- Scored as they arrive.
CREATE FUNCTION score_payment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.features := jsonb_build_object('amount', NEW.amount, 'account_age_days', NEW.account_age_days,
                                       'country', NEW.country, 'night', NEW.night);
    NEW.score := ml_predict_one((SELECT model FROM demo.models WHERE name = 'fraud'), NEW.features);
    RETURN NEW;
END $$;
CREATE TRIGGER score BEFORE INSERT ON payments FOR EACH ROW EXECUTE FUNCTION score_payment();

-- Learning as the truth arrives: one online update from the features as scored.
CREATE FUNCTION learn_payment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE demo.models SET model = ml_fit_one(model, NEW.features, NEW.fraud::int) WHERE name = 'fraud';
    RETURN NULL;
END $$;
CREATE TRIGGER learn AFTER UPDATE OF fraud ON payments FOR EACH ROW
    WHEN (OLD.fraud IS NULL AND NEW.fraud IS NOT NULL) EXECUTE FUNCTION learn_payment();

-- The world: fraud is likelier for large amounts, young accounts, some countries, at night.
CREATE TABLE world (id bigint, batch int, amount numeric(10, 2), account_age_days int,
                    country text, night boolean, fraud boolean);
INSERT INTO world
SELECT id, (id - 1) / 2000 + 1, amount, age, country, night,
       random() < 1 / (1 + exp(-(-3.0 + 0.01 * amount - 0.004 * age
                                 + CASE country WHEN 'NG' THEN 2.0 WHEN 'BR' THEN 1.0 ELSE 0 END
                                 + CASE WHEN night THEN 1.5 ELSE 0 END)))
FROM (SELECT id, round(exp(2 + 4 * random())::numeric, 2) AS amount,
             floor(random() * 1500)::int AS age,
             (ARRAY['DE', 'FR', 'US', 'BR', 'NG'])[1 + floor(random() * 5)::int] AS country,
             random() < 0.25 AS night
      FROM generate_series(1, 12000) AS id) AS g;

-- Six batches of 2,000 payments arrive; after each, its chargebacks come in, in order.
CREATE FUNCTION run_batch(b int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    INSERT INTO demo.payments (id, batch, amount, account_age_days, country, night)
    SELECT id, batch, amount, account_age_days, country, night FROM demo.world WHERE batch = b ORDER BY id;
    FOR r IN SELECT id, fraud FROM demo.world WHERE batch = b ORDER BY id LOOP
        UPDATE demo.payments SET fraud = r.fraud WHERE id = r.id;
    END LOOP;
END $$;
\o /dev/null
SELECT run_batch(b) FROM generate_series(1, 6) AS b;
\o

-- How good were the scores given at insert time, batch by batch?
-- (ROC AUC by average ranks, log loss, accuracy at 0.5.)
CREATE FUNCTION report(scored regclass) RETURNS TABLE (batch int, payments bigint, fraud_rate numeric,
        auc numeric, log_loss numeric, accuracy numeric) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        WITH ranked AS (
            SELECT batch, score, fraud,
                   rank() OVER (PARTITION BY batch ORDER BY score) AS r,
                   count(*) OVER (PARTITION BY batch, score) AS ties
            FROM %s)
        SELECT batch, count(*),
               round(avg(fraud::int), 3),
               round(((sum(r + (ties - 1) / 2.0) FILTER (WHERE fraud)
                       - count(*) FILTER (WHERE fraud) * (count(*) FILTER (WHERE fraud) + 1) / 2.0)
                      / (count(*) FILTER (WHERE fraud) * count(*) FILTER (WHERE NOT fraud)))::numeric, 3),
               round(avg(-ln(CASE WHEN fraud THEN greatest(score, 1e-15) ELSE greatest(1 - score, 1e-15) END))::numeric, 3),
               round(avg(((score > 0.5) = fraud)::int), 3)
        FROM ranked GROUP BY batch ORDER BY batch $q$, scored);
END $$;

\echo
\echo 'Payments scored on arrival by a model that learns from each chargeback as it comes in.'
\echo 'Batch 1 meets a model that knows nothing; every later batch meets what it has learned:'
SELECT * FROM report('demo.payments');

\echo 'The model after 12,000 labels (ml_info):'
SELECT info->>'kind' AS kind, info->'n_seen' AS examples_seen,
       round((info->>'intercept')::numeric, 3) AS intercept,
       (SELECT string_agg(format('%s %s', key, round(value::numeric, 3)), ', ' ORDER BY key)
        FROM jsonb_each_text(info->'weights')) AS weights
FROM (SELECT ml_info(model) AS info FROM models WHERE name = 'fraud') AS m;

-- Offline, the same history trains a batch model: ten shuffled epochs over all labelled rows.
CREATE TABLE batch_model AS
SELECT ml_train('{"model": "logistic_regression", "optimizer": {"adagrad": {"lr": 0.1}}, "scale": true}',
                'SELECT features, fraud FROM demo.payments ORDER BY id', epochs => 10, seed => 7) AS model;

-- A seventh batch arrives: the online model and the batch model both score it.
INSERT INTO world
SELECT id, 7, amount, age, country, night,
       random() < 1 / (1 + exp(-(-3.0 + 0.01 * amount - 0.004 * age
                                 + CASE country WHEN 'NG' THEN 2.0 WHEN 'BR' THEN 1.0 ELSE 0 END
                                 + CASE WHEN night THEN 1.5 ELSE 0 END)))
FROM (SELECT id, round(exp(2 + 4 * random())::numeric, 2) AS amount,
             floor(random() * 1500)::int AS age,
             (ARRAY['DE', 'FR', 'US', 'BR', 'NG'])[1 + floor(random() * 5)::int] AS country,
             random() < 0.25 AS night
      FROM generate_series(12001, 14000) AS id) AS g;
\o /dev/null
SELECT run_batch(7);
\o
CREATE TABLE batch7 AS
SELECT 7 AS batch, ml_predict_one((SELECT model FROM batch_model), p.features) AS score, p.fraud
FROM payments AS p WHERE p.batch = 7;

\echo 'Batch 7, scored by the online model (as it arrived) and by the 10-epoch batch model:'
SELECT 'online (ml_fit_one per label)' AS model, auc, log_loss, accuracy FROM report('demo.payments') WHERE batch = 7
UNION ALL
SELECT 'batch (ml_train, 10 epochs)', auc, log_loss, accuracy FROM report('demo.batch7');
