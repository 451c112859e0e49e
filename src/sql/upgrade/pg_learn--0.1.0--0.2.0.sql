\echo Use "ALTER EXTENSION pg_learn UPDATE TO '0.2.0'" to load this file. \quit
-- pg_learn upgrade from 0.1.0 to 0.2.0.
--
-- EVERY SQL CHANGE SINCE 0.1.0 MUST APPEAR HERE. Whatever is added to, changed in or removed
-- from the fragments src/sql/NN_*.sql (which build pg_learn--0.2.0.sql, the fresh install) is
-- written here too, so that ALTER EXTENSION pg_learn UPDATE gives a 0.1.0 database exactly the
-- objects a fresh CREATE EXTENSION gives: functions (arguments, result, body, volatility,
-- strictness, parallel safety, SET options), aggregates, types, tables and their columns, views,
-- triggers, comments and grants. test/integration/test_upgrade.py compares the two catalogs and
-- fails on any difference.
--
-- Rules (pgvector's convention):
-- - Once 0.2.0 is released this file is immutable; changes after it go into
--   pg_learn--0.2.0--<next>.sql.
-- - Statements run in the extension's schema as @extschema@.name, as in the fragments; CREATE
--   FUNCTION for a new function, CREATE OR REPLACE for a changed body, DROP then CREATE when the
--   result type or arguments change (and re-GRANT / re-COMMENT what the fragment grants or
--   comments). New objects are members of the extension automatically.
-- - Stored values (ml_model, ml_stats, ml_profile, ml_metric_state, the registry's and the
--   monitoring's tables) are never rewritten here: the library decodes every format it ever
--   wrote.
-- - Keep the sections below in the fragments' order, one per fragment; within a section,
--   append in the order changes were made, each with a one-line comment saying what and why.
--
-- Changes of 0.2.0 that need no SQL: the fragments' comments only (header lines, file paths
-- of the C sources in part 60).

-- ---------------------------------------------------------------------------------------------
-- Part 00: the ml_model type, online linear models, ml_fit, ml_train, ml_info.

-- ---------------------------------------------------------------------------------------------
-- Part 10: ml_stats.

-- ---------------------------------------------------------------------------------------------
-- Part 20: metrics and ml_metric_state.

-- ---------------------------------------------------------------------------------------------
-- Part 30: ml_profile.

-- ---------------------------------------------------------------------------------------------
-- Part 35: drift.

-- ---------------------------------------------------------------------------------------------
-- Part 40: the registry.

-- ---------------------------------------------------------------------------------------------
-- Part 50: scoring triggers, the prediction log, feedback, rollouts.

-- ---------------------------------------------------------------------------------------------
-- Part 60: monitoring.
