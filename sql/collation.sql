-- Text look-ups by index (a model by name and alias, the predictions of a labelled key) search
-- each index under its own collation. In a database whose default collation is not C (here ICU's
-- en-US: 'a' < 'B' < 'c', where C has 'B' < 'a' < 'c'), a B-tree search in C order missed rows:
-- ml_predict by name said "model has no version deployed" for about half of the names.
-- user did: registered and deployed models with mixed-case names in an en-US database, then
-- scored by name, attached a table and labelled its rows.
SELECT current_database() AS orig_db \gset
CREATE DATABASE pgl_collation TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8';
\c pgl_collation
SET client_min_messages = warning;
CREATE EXTENSION pg_learn;
CREATE TABLE names AS
SELECT (ARRAY['a', 'B', 'c', 'D', 'e', 'F', 'g', 'H'])[1 + i % 8] || i AS name FROM generate_series(1, 200) i;
SELECT count(*) AS deployed FROM (SELECT ml_register(name, '{"model": "linear_regression"}'::ml_model), ml_deploy(name, 1) FROM names) s;
SELECT count(*) AS scored FROM names WHERE ml_predict(name, '{"x": 1}'::jsonb) IS NOT NULL;
SELECT count(*) AS fetched FROM names WHERE ml_get(name) IS NOT NULL;
-- Labels arriving for text keys that sort differently in the two orders find their predictions.
CREATE TABLE events (k text PRIMARY KEY, x float8, y float8);
SELECT ml_attach('events', 'B1', key => 'k', label => 'y');
INSERT INTO events (k, x) SELECT name, 1 FROM names;
UPDATE events SET y = 2;
SELECT ml_pending_labels('B1') AS queued;
SELECT ml_learn_pending('B1') AS applied;
SELECT (SELECT n_seen FROM ml_versions('B1')) AS n_seen;
\c :orig_db
DROP DATABASE pgl_collation;
