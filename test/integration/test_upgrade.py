"""Upgrade from the 0.1.0 release to the current version (ALTER EXTENSION pg_learn UPDATE).

1. 0.1.0 is built from the git history (commit OLD_COMMIT, extracted with git archive into a
   temporary directory) and installed into a PRIVATE copy of PostgreSQL 15 (the system's
   /usr/lib/postgresql/15 and /usr/share/postgresql/15 copied under a DESTDIR, without any
   pg_learn file): the system installation, which the other tests use, is never touched.
2. A cluster of the private binaries gets CREATE EXTENSION pg_learn VERSION '0.1.0' and one of
   every kind of stored value: models (linear and logistic; jsonb-, float8[]- and row-trained;
   scaled, hashed, ftrl, ml_train), ml_stats, ml_profile and ml_metric_state values in a table,
   registry entries (versions, aliases, deploy history, a baseline, ml_learn), a table attached
   with ml_attach and a challenger rollout, predictions logged, labels learned and more queued
   but not learned, settings and monitoring windows (ml_monitor_refresh). Recorded: the text of
   every row of every table (the stored values' text forms), scores (ml_predict_one, ml_predict
   by name and alias), ml_info, ml_fit_one on fixed examples, statistics accessors, metrics,
   drift reports, the monitoring views; and, in a transaction rolled back, what scoring new rows
   on INSERT, ml_learn_pending and ml_monitor_refresh give.
3. The server stops; the 0.1.0 files are removed from the private tree (as a package upgrade
   replaces them: only the current install script and the upgrade chain are shipped) and the
   current tree is installed; the server starts; ALTER EXTENSION pg_learn UPDATE; extversion
   must be the control file's default_version.
4. After it, everything recorded is the same: the same text, the same scores (exactly equal
   floats), the same learning (ml_fit_one's text), the same monitoring views; the attached
   table scores new rows as 0.1.0 did, ml_learn_pending learns the queued labels into exactly the
   models 0.1.0 gave, and ml_monitor_refresh rolls the new events up.
5. Catalog: a fresh CREATE EXTENSION in another database of the same cluster must give the same
   extension members (pg_depend deptype 'e', by pg_describe_object) with the same definitions
   as the upgraded database: functions (arguments with defaults, result, language, body,
   library, volatility, strictness, parallel safety, SECURITY DEFINER, SET options, cost, ACL,
   comment), aggregates (pg_aggregate), types, tables (columns in order, defaults, constraints,
   indexes, triggers, policies, ACLs, comments, pg_dump configuration), views (pg_get_viewdef),
   sequences, casts, event triggers, initial privileges. A difference is printed as a diff and
   fails: a function added to src/sql without its line in the upgrade script fails here.
6. The log of the upgraded database is partitioned (ml_partition_log, issue 12): its rows stay,
   labels are learned once, a prune keeps what is recent.
7. The current tree's pg_regress suite runs against a database upgraded from 0.1.0 (created
   empty at 0.1.0 beside the data database, since the suite's expected output assumes no other
   registered model, attachment or log row) with pg_regress --use-existing: one PASS or FAIL.

The current tree must be built (scripts/test runs make before the integration tests); when it is
not, the test builds it with `make with_llvm=no` in the repository. Building 0.1.0 takes about
two minutes on two idle cores (six when other builds share them); the rest of the test about a
minute.

Run as root with Debian's interpreter, from any clone (the clone's history must hold
OLD_COMMIT: a shallow clone fails with a message saying so):
    PGL_TEST_PORT=5491 /usr/bin/python3 test/integration/test_upgrade.py
Environment: PGL_TEST_PORT (default 5480), PGL_KEEP_CLUSTER (keep the temporary directory: the
private tree, the cluster and its server.log, pg_regress's output), PGL_UPGRADE_OLD_SRC (a
directory to build 0.1.0 in and keep, reused when it already holds a build: for repeated runs
while developing), PGL_UPGRADE_JOBS (make -j, default 2). PGL_TEST_DSN and PGL_PG_BIN are not
used: the test runs its own cluster on its own PostgreSQL tree.
"""

import difflib
import glob
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Cluster, Reporter, one_line  # noqa: E402

# The 0.1.0 release: commit 55fce79 ("Glue: one materialize() for set-returning functions"),
# the last commit before the 0.2.0 cycle, whose pg_learn.control says default_version = '0.1.0'.
OLD_COMMIT = "55fce79aa9c06446b85618a477644cac0d7d5b42"
OLD_VERSION = "0.1.0"

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG_LIB = "/usr/lib/postgresql/15"
PG_SHARE = "/usr/share/postgresql/15"
PG_CONFIG = PG_LIB + "/bin/pg_config"
JOBS = int(os.environ.get("PGL_UPGRADE_JOBS", "2"))
MAKE = ["make", "with_llvm=no", "PG_CONFIG=" + PG_CONFIG]
GIT = ["git", "-c", "safe.directory=*", "-C", REPO]


def current_version():
    with open(os.path.join(REPO, "pg_learn.control")) as f:
        return re.search(r"^default_version\s*=\s*'([^']+)'", f.read(), re.M).group(1)


def run(args, cwd=None, what=None):
    """Runs a command; on failure raises with the end of its output."""
    r = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        tail = " | ".join(r.stdout.strip().splitlines()[-15:])
        raise RuntimeError("%s failed (exit %d): %s" % (what or " ".join(args), r.returncode, tail))
    return r.stdout


# -- PostgreSQL trees and builds -------------------------------------------------------------
def remove_pg_learn(tree):
    """Removes every pg_learn file from a PostgreSQL tree laid out under the DESTDIR `tree`."""
    for pattern in (PG_LIB + "/lib/pg_learn.so", PG_LIB + "/lib/bitcode/pg_learn",
                    PG_LIB + "/lib/bitcode/pg_learn.index.bc", PG_SHARE + "/extension/pg_learn.control",
                    PG_SHARE + "/extension/pg_learn--*.sql"):
        for path in glob.glob(tree + pattern):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)


def make_private_tree(tree):
    """A copy of the system's PostgreSQL 15 under `tree`, laid out as `make install DESTDIR=tree`
    installs (PostgreSQL finds its lib and share directories relative to its binaries)."""
    for d in (PG_LIB, PG_SHARE):
        os.makedirs(os.path.dirname(tree + d), exist_ok=True)
        run(["cp", "-a", d, tree + d])
    remove_pg_learn(tree)


def build_old(work):
    """Builds 0.1.0 from the git history; returns its source directory."""
    src = os.environ.get("PGL_UPGRADE_OLD_SRC") or os.path.join(work, "old_src")
    if os.path.exists(os.path.join(src, "pg_learn.so")):
        print("# reusing the 0.1.0 build in %s" % src, flush=True)
        return src
    os.makedirs(src, exist_ok=True)
    archive = subprocess.run(GIT + ["archive", OLD_COMMIT], stdout=subprocess.PIPE, check=True).stdout
    subprocess.run(["tar", "-x", "-C", src], input=archive, check=True)
    run(MAKE + ["-j%d" % JOBS], cwd=src, what="building 0.1.0")
    return src


def build_current():
    """Builds the current tree in the repository unless it is built already."""
    if subprocess.run(MAKE + ["-q"], cwd=REPO, stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode != 0:
        print("# the current tree is not built: make with_llvm=no -j%d in %s" % (JOBS, REPO), flush=True)
        run(MAKE + ["-j%d" % JOBS], cwd=REPO, what="building the current tree")


# -- The stored values of 0.1.0 --------------------------------------------------------------
SETUP = r"""
SET max_parallel_workers_per_gather = 0;
CREATE TABLE train AS
SELECT i, (i % 17)::float8 / 3 AS a, (i * 7 % 11) - 5 AS b, (ARRAY['x', 'y', 'z'])[1 + i % 3] AS c,
       (i % 17)::float8 / 3 * 2 - ((i * 7 % 11) - 5) * 0.5 + 1 + (i % 5) * 0.1 AS y,
       ((i % 17) + (i % 3) > 9)::int AS yb
FROM generate_series(1, 400) i;
ALTER TABLE train ADD COLUMN xj jsonb, ADD COLUMN xa float8[];
UPDATE train SET xj = jsonb_build_object('a', a, 'b', b, 'c', c), xa = ARRAY[a, b];

-- Fixed inputs for scoring and learning (an unseen category, a missing feature, a new feature).
CREATE TABLE inputs (n int PRIMARY KEY, a float8, b int, c text, xj jsonb, xa float8[], y float8, yb int);
INSERT INTO inputs VALUES
    (1, 1.5, -2, 'y', '{"a": 1.5, "b": -2, "c": "y"}', '{1.5,-2}', 3.25, 1),
    (2, 4, 3, 'q', '{"a": 4, "b": 3, "c": "q"}', '{4,3}', 7.5, 0),
    (3, 0.1, NULL, 'x', '{"a": 0.1, "c": "x", "d": 2}', '{0.1,0}', -1, 1);

-- Models: form says which features they take, label which label they learn.
CREATE TABLE models (name text PRIMARY KEY, form text NOT NULL, label text NOT NULL, m ml_model);
INSERT INTO models
SELECT 'lin_jsonb', 'jsonb', 'y', ml_fit('{"model": "linear_regression"}', xj, y ORDER BY i) FROM train
UNION ALL
SELECT 'lin_scaled', 'jsonb', 'y',
       ml_fit('{"model": "linear_regression", "scale": true, "optimizer": "adam"}', xj, y ORDER BY i) FROM train
UNION ALL
SELECT 'lin_array', 'array', 'y', ml_fit('{"model": "linear_regression", "l2": 0.01}', xa, y ORDER BY i) FROM train
UNION ALL
SELECT 'lin_row', 'row', 'y', ml_fit('{"model": "linear_regression", "missing": "mean"}', f, t.y ORDER BY t.i)
FROM train t, LATERAL (SELECT t.a, t.b, t.c) f
UNION ALL
SELECT 'log_jsonb', 'jsonb', 'yb', ml_fit('{"model": "logistic_regression"}', xj, yb ORDER BY i) FROM train
UNION ALL
SELECT 'log_scaled', 'jsonb', 'yb',
       ml_fit('{"model": "logistic_regression", "scale": true, "optimizer": {"adagrad": {"lr": 0.1}}}',
              xj, yb ORDER BY i) FROM train
UNION ALL
SELECT 'log_hashed', 'jsonb', 'yb',
       ml_fit('{"model": "logistic_regression", "hash_bits": 10, "optimizer": "ftrl"}', xj, yb ORDER BY i) FROM train
UNION ALL
SELECT 'log_array', 'array', 'yb', ml_fit('{"model": "logistic_regression", "l1": 0.001}', xa, yb ORDER BY i) FROM train
UNION ALL
SELECT 'log_train', 'jsonb', 'yb',
       ml_train('{"model": "logistic_regression", "scale": true}', 'SELECT xj, yb FROM public.train', epochs => 3, seed => 7)
UNION ALL
SELECT 'one_example', 'jsonb', 'y', ml_fit_one('{"model": "linear_regression"}', '{"a": 1, "c": "x"}'::jsonb, 2)
UNION ALL
SELECT 'fresh_spec', 'array', 'yb', '{"model": "logistic_regression", "hash_bits": 4}'::ml_model;

-- Statistics, profiles and metric states, stored.
CREATE TABLE stats (name text PRIMARY KEY, s ml_stats);
INSERT INTO stats
SELECT 'a', ml_stats(a) FROM train
UNION ALL SELECT 'a_high', ml_stats(a) FROM train WHERE i > 200
UNION ALL SELECT 'y', ml_stats(y) FROM train
UNION ALL SELECT 'c', ml_stats(c) FROM train
UNION ALL SELECT 'c_high', ml_stats(c) FROM train WHERE i % 4 <> 0
UNION ALL SELECT 'special', ml_stats(v) FROM unnest(ARRAY[0, 'NaN', 'Infinity', NULL, 2.5, -1]::float8[]) v
UNION ALL SELECT 'big', ml_stats(((i * 7919) % 100003)::float8) FROM generate_series(1, 20000) i;
CREATE TABLE profiles (name text PRIMARY KEY, p ml_profile);
INSERT INTO profiles
SELECT 'jsonb_low', ml_profile(xj) FROM train WHERE i <= 200
UNION ALL SELECT 'jsonb_high', ml_profile(xj || jsonb_build_object('a', a * 3)) FROM train WHERE i > 200
UNION ALL SELECT 'row', ml_profile(f) FROM train t, LATERAL (SELECT t.a, t.b, t.c, t.yb = 1 AS flag) f;
CREATE TABLE metric_states (name text PRIMARY KEY, s ml_metric_state);
INSERT INTO metric_states
SELECT 'binary_bool', ml_binary_state(ml_predict_one(m.m, t.xj), t.yb = 1)
FROM train t, models m WHERE m.name = 'log_jsonb'
UNION ALL
SELECT 'binary_int', ml_binary_state(ml_predict_one(m.m, t.xj), t.yb)
FROM train t, models m WHERE m.name = 'log_scaled' AND t.i % 2 = 0
UNION ALL
SELECT 'regression', ml_regression_state(ml_predict_one(m.m, t.xj), t.y)
FROM train t, models m WHERE m.name = 'lin_jsonb';

-- The registry: 'churn' with three versions, aliases and a deploy history, a baseline, and
-- production learning by name; 'fraud' (below) scores an attached table.
SELECT ml_register('churn', (SELECT m FROM models WHERE name = 'log_jsonb'), notes => 'v1',
                   provenance => '{"rows": 400}', baseline => (SELECT p FROM profiles WHERE name = 'jsonb_low'),
                   metrics => '{"auc": 0.9}');
SELECT ml_register('churn', (SELECT m FROM models WHERE name = 'log_scaled'), notes => 'v2', parent_version => 1);
SELECT ml_register('churn', (SELECT m FROM models WHERE name = 'log_hashed'));
SELECT ml_deploy('churn', 1);
SELECT ml_deploy('churn', 2);
SELECT ml_deploy('churn', 3, 'staging');
SELECT ml_learn('churn', '{"a": 2, "b": 1, "c": "z"}'::jsonb, 1);
SELECT ml_learn('churn', '{"a": 5, "b": -1, "c": "x"}'::jsonb, 0, 'staging');
SELECT ml_register('lin', (SELECT m FROM models WHERE name = 'lin_array'));
SELECT ml_deploy('lin', 1);

-- An attached table: rows scored on INSERT and logged, labels as UPDATEs, a challenger.
SELECT ml_register('fraud', ml_fit_one('{"model": "logistic_regression"}', '{"amount": 1, "country": "fr"}'::jsonb, 1),
                   baseline => (SELECT ml_profile(jsonb_build_object('amount', i % 100, 'country', (ARRAY['fr', 'de'])[1 + i % 2]))
                                FROM generate_series(1, 1000) i));
SELECT ml_register('fraud', ml_fit_one('{"model": "logistic_regression", "scale": true}',
                                       '{"amount": 3, "country": "de"}'::jsonb, 0));
SELECT ml_deploy('fraud', 1);
SELECT ml_deploy('fraud', 2, 'canary');
SELECT ml_rollout('fraud', 'canary', 'challenger', 0.3);
SELECT ml_monitor_set('drift_options', '{"method": "psi"}', 'fraud');
SELECT ml_monitor_set('anomaly_options', '{"max_out_of_range_fraction": 0.01}', 'fraud');
CREATE TABLE orders (id int PRIMARY KEY, amount float8, country text, p float8, fraud int);
SELECT ml_attach('orders', 'fraud', key => 'id', prediction => 'p', label => 'fraud',
                 features => ARRAY['amount', 'country']);
INSERT INTO orders (id, amount, country)
SELECT i, i % 150, (ARRAY['fr', 'de', 'it'])[1 + i % 3] FROM generate_series(1, 600) i;
UPDATE orders SET fraud = (id % 7 = 0)::int WHERE id <= 300;
SELECT ml_learn_pending('fraud');
SELECT ml_monitor_refresh();
-- Labels queued and not learned when the upgrade comes.
UPDATE orders SET fraud = (id % 5 = 0)::int WHERE id > 300 AND id <= 500;
"""

# Recorded before the upgrade and compared after it: name -> query (rows compared as text).
CHECKS = {
    "scores (ml_predict_one)": """
        SELECT m.name, i.n, CASE m.form WHEN 'jsonb' THEN ml_predict_one(m.m, i.xj)
                                        WHEN 'array' THEN ml_predict_one(m.m, i.xa)
                                        ELSE ml_predict_one(m.m, f) END::text
        FROM models m, inputs i, LATERAL (SELECT i.a, i.b, i.c) f ORDER BY 1, 2""",
    "scores (float8send)": """
        SELECT m.name, float8send(ml_predict_one(m.m, t.xj))
        FROM models m, train t WHERE m.form = 'jsonb' ORDER BY m.name, t.i""",
    "learning (ml_fit_one)": """
        SELECT m.name, i.n, CASE m.form
            WHEN 'jsonb' THEN ml_fit_one(m.m, i.xj, CASE m.label WHEN 'y' THEN i.y ELSE i.yb END)
            WHEN 'array' THEN ml_fit_one(m.m, i.xa, CASE m.label WHEN 'y' THEN i.y ELSE i.yb END)
            ELSE ml_fit_one(m.m, f, CASE m.label WHEN 'y' THEN i.y ELSE i.yb END) END::text
        FROM models m, inputs i, LATERAL (SELECT i.a, i.b, i.c) f ORDER BY 1, 2""",
    "learning (ml_fit from a stored model)": """
        SELECT m.name, ml_fit(m.m, t.xj, CASE m.label WHEN 'y' THEN t.y ELSE t.yb END ORDER BY t.i)::text
        FROM models m, train t WHERE m.form = 'jsonb' AND t.i <= 50 GROUP BY m.name ORDER BY 1""",
    "ml_info": "SELECT name, ml_info(m)::text FROM models ORDER BY 1",
    "binary form": "SELECT name, ml_model_bytes(m) FROM models ORDER BY 1",
    "ml_stats accessors": """
        SELECT name, ml_stats_kind(s), ml_count(s), ml_null_count(s), ml_stats_jsonb(s)::text, ml_stats_bytes(s)
        FROM stats ORDER BY 1""",
    "ml_stats numeric accessors": """
        SELECT name, ml_nan_count(s), ml_inf_count(s), ml_zero_count(s), ml_mean(s), ml_stddev(s), ml_variance(s), ml_min(s), ml_max(s),
               ml_quantile(s, 0.5), ml_quantiles(s, ARRAY[0.1, 0.9])::text, ml_rank_error(s),
               (SELECT string_agg(h::text, ' ' ORDER BY h.bin) FROM ml_histogram(s, 4) h),
               (SELECT string_agg(h::text, ' ' ORDER BY h.bin) FROM ml_histogram_equal_count(s, 4) h)
        FROM stats WHERE ml_stats_kind(s) = 'numeric' ORDER BY 1""",
    "ml_stats categorical accessors": """
        SELECT name, ml_distinct(s), (SELECT string_agg(t::text, ' ' ORDER BY t::text) FROM ml_top_k(s) t)
        FROM stats WHERE ml_stats_kind(s) = 'categorical' ORDER BY 1""",
    "ml_stats merged": "SELECT ml_stats_merge(s ORDER BY name)::text FROM stats WHERE name IN ('a', 'a_high')",
    "drift": """
        SELECT ml_drift(b.s, c.s), CASE WHEN ml_stats_kind(b.s) = 'numeric' THEN ml_drift_pvalue(b.s, c.s) END,
               ml_drift_detail(b.s, c.s)::text
        FROM stats b, stats c WHERE (b.name, c.name) IN (('a', 'a_high'), ('c', 'c_high'))
        ORDER BY b.name""",
    "profiles": """
        SELECT name, ml_profile_rows(p), ml_profile_jsonb(p)::text, ml_profile_bytes(p),
               (SELECT string_agg(f::text, ' ' ORDER BY f::text) FROM ml_profile_features(p) f)
        FROM profiles ORDER BY 1""",
    "profiles merged": "SELECT ml_profile_merge(p ORDER BY name)::text FROM profiles WHERE name LIKE 'jsonb%'",
    "drift report and anomalies": """
        SELECT (SELECT string_agg(r::text, ' ' ORDER BY r::text)
                FROM ml_drift_report(b.p, c.p) r),
               (SELECT string_agg(r::text, ' ' ORDER BY r::text)
                FROM ml_anomalies(b.p, c.p) r)
        FROM profiles b, profiles c WHERE b.name = 'jsonb_low' AND c.name = 'jsonb_high'""",
    "metric states": """
        SELECT name, ml_metric_kind(s), ml_metric_count(s), ml_auc(s), ml_logloss(s), ml_accuracy(s),
               ml_precision(s, 0.3), ml_recall(s), ml_f1(s), ml_confusion_matrix(s)::text, ml_roc_curve(s)::text,
               ml_pr_curve(s)::text, ml_calibration(s, 5)::text, ml_metric_state_bytes(s)
        FROM metric_states WHERE ml_metric_kind(s) = 'ranking' ORDER BY 1""",
    "regression metric state": """
        SELECT name, ml_mae(s), ml_rmse(s), ml_r2(s), ml_mape(s), ml_mean_error(s), ml_metric_state_bytes(s)
        FROM metric_states WHERE ml_metric_kind(s) = 'regression' ORDER BY 1""",
    "metric states merged": """
        SELECT ml_metric_merge(s ORDER BY name)::text FROM metric_states WHERE ml_metric_kind(s) = 'ranking'""",
    "registry by name": """
        SELECT i.n, ml_predict('churn', i.xj)::text, ml_predict('churn', i.xj, 'staging')::text,
               ml_predict('lin', i.xa)::text, ml_get('churn')::text, ml_get('churn', 1)::text
        FROM inputs i ORDER BY 1""",
    "registry listings": """
        SELECT (SELECT string_agg(v::text, ' ' ORDER BY v::text) FROM ml_versions('churn') v),
               (SELECT string_agg(h::text, ' ' ORDER BY h::text) FROM ml_history('churn') h)""",
    "pending labels": "SELECT ml_pending_labels(), ml_pending_labels('fraud')",
    "route fractions": "SELECT ml_route_fraction('fraud', k::text)::text FROM generate_series(1, 20) k",
    # The columns, rows and settings 0.1.0 had: columns added at the end of a view since (row_count
    # of ml_feature_drift and ml_data_quality), the no_baseline rows of ml_feature_drift (a version
    # without a baseline had no rows) and new settings (min_rows, error_detector) are not 0.1.0's values.
    "monitoring views": """
        SELECT 'metrics', string_agg(v::text, ' ' ORDER BY v::text)
        FROM (SELECT time, model, version, variant, metric, value FROM ml_model_metrics) v
        UNION ALL SELECT 'drift', string_agg(v::text, ' ' ORDER BY v::text)
        FROM (SELECT time, model, version, variant, feature, kind, method, value, lower, upper, pvalue,
                     warn_threshold, alert_threshold, status, status_level, baseline_count, current_count
              FROM ml_feature_drift WHERE status <> 'no_baseline') v
        UNION ALL SELECT 'quality', string_agg(v::text, ' ' ORDER BY v::text)
        FROM (SELECT time, model, version, variant, feature, anomaly, severity, count, description
              FROM ml_data_quality) v
        UNION ALL SELECT 'settings', string_agg(v::text, ' ' ORDER BY v::text)
        FROM ml_monitor_settings('fraud') v WHERE v.setting NOT IN ('min_rows', 'error_detector')""",
}

# Run in a transaction before the upgrade and rolled back; run for real after it (in the same
# order): new rows scored on INSERT by the attached table's triggers, the queued labels learned,
# the new events rolled up. Each statement's rows are compared.
AFTER_STEPS = [
    ("scoring on INSERT", """
        INSERT INTO orders (id, amount, country)
        SELECT i, i % 130 + 0.5, (ARRAY['fr', 'de', 'es'])[1 + i % 3] FROM generate_series(601, 700) i
        RETURNING id, p::text"""),
    ("the log of the new rows", """
        SELECT key, version, variant, served, score::text, features::text FROM ml_prediction_log
        WHERE key::int > 600 ORDER BY prediction_id"""),
    ("ml_learn_pending", "SELECT ml_learn_pending()"),
    ("models after ml_learn_pending", "SELECT name, version, model::text FROM ml_models ORDER BY 1, 2"),
    ("queue after ml_learn_pending", "SELECT ml_pending_labels()"),
    ("ml_monitor_refresh", "SELECT ml_monitor_refresh()"),
]


def table_columns(conn):
    """The columns of every table of the database (the user's and the extension's), in order."""
    rows = conn.execute(
        "SELECT c.oid::regclass::text, array_agg(quote_ident(a.attname) ORDER BY a.attnum)"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
        " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " AND n.nspname NOT LIKE 'pg_toast%' GROUP BY 1 ORDER BY 1").fetchall()
    return {t: cols for t, cols in rows}


def all_tables_text(conn, columns):
    """Every row of every table as text, over the given columns of each (those of 0.1.0: a
    column 0.2.0 adds, such as ml_models.task, is checked on its own): the stored values' text
    forms, read back through the installed library. Timestamps are kept: nothing in these rows
    may change across the upgrade."""
    out = {}
    for t, cols in columns.items():
        out["table " + t] = conn.execute(
            "SELECT string_agg(r::text, E'\\n' ORDER BY r::text) FROM (SELECT %s FROM %s) r"
            % (", ".join(cols), t)).fetchone()[0]
    return out


# What 0.2.0 adds to ml_info (the model contract's task, and a classifier's classes; whether the
# model has learned, and a note when it has not): after the upgrade, ml_info must be 0.1.0's
# plus exactly these keys.
INFO_ADDITIONS = {"task", "classes", "trained", "note", "training_loss",
                  # issue 16 (explanations): a scaled linear model's weights in raw units
                  "raw_weights", "raw_intercept", "raw_intercepts"}

# What 0.2.0 adds to a stored model's printed spec: the options "scale_target" and
# "check_divergence", printed at their stored default (false) for a model stored by 0.1.0. The
# model's bytes do not change (its binary spec section has no new key); its text shows them.
# (Quotes are doubled in a row's text form.)
NEW_SPEC_KEYS = re.compile(r'"{1,2}(?:check_divergence|scale_target)"{1,2}: ?false, ?'
                           r'|, ?"{1,2}(?:check_divergence|scale_target)"{1,2}: ?false')


def without_new_spec_keys(v):
    if isinstance(v, str):
        return NEW_SPEC_KEYS.sub("", v)
    if isinstance(v, (list, tuple)):
        return type(v)(without_new_spec_keys(x) for x in v)
    return v


def without_additions(rows):
    out = []
    for name, text in rows:
        j = json.loads(text)
        for k in INFO_ADDITIONS:
            j.pop(k, None)
        out.append((name, json.dumps(j, sort_keys=True)))
    return out


def record(conn, columns=None):
    columns = columns or table_columns(conn)
    out = all_tables_text(conn, columns)
    for name, sql in CHECKS.items():
        out[name] = conn.execute(sql).fetchall()
    out["ml_info"] = without_additions(out["ml_info"])
    out = {k: without_new_spec_keys(v) for k, v in out.items()}
    return out, columns


def run_after_steps(conn):
    return {name: without_new_spec_keys(conn.execute(sql).fetchall()) for name, sql in AFTER_STEPS}


def short(v, n=300):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "..."


def compare(rep, label, before, after):
    bad = [k for k in before if before[k] != after.get(k)]
    bad += [k for k in after if k not in before]
    for k in bad:
        b = before.get(k)
        a = after.get(k)
        detail = ""
        if isinstance(b, str) and isinstance(a, str):
            d = list(difflib.unified_diff(b.splitlines(), a.splitlines(), "before", "after", lineterm="", n=0))
            detail = " | ".join(d[:8])
        elif isinstance(b, list) and isinstance(a, list):
            rows = [(x, y) for x, y in zip(b, a) if x != y]
            detail = "%d vs %d rows; first difference %s -> %s" % (
                len(b), len(a), short(rows[0][0]) if rows else "", short(rows[0][1]) if rows else "")
        else:
            detail = "%s -> %s" % (short(b), short(a))
        rep.fail("%s: %s" % (label, k), detail)
    rep.check("%s: %d checks the same" % (label, len(before)), not bad,
              "" if not bad else "%d differ" % len(bad))


# -- Catalog comparison ----------------------------------------------------------------------
MEMBERS = """
    SELECT d.classid, d.objid, d.objsubid, pg_describe_object(d.classid, d.objid, d.objsubid) AS obj
    FROM pg_depend d JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
    WHERE e.extname = 'pg_learn' AND d.deptype = 'e'
"""

# (object, attribute, value) for every member of the extension; no OID appears in a value.
CATALOG = """
WITH m AS (%(members)s),
rel AS (SELECT m.obj, c.* FROM m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid)
SELECT obj, 'member', m.classid::regclass::text FROM m
UNION ALL
SELECT m.obj, x.k, x.v FROM m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid,
LATERAL (VALUES
    ('arguments', pg_get_function_arguments(p.oid)),
    ('identity arguments', pg_get_function_identity_arguments(p.oid)),
    ('result', pg_get_function_result(p.oid)),
    ('kind', p.prokind::text),
    ('language', (SELECT lanname::text FROM pg_language WHERE oid = p.prolang)),
    ('prosrc', p.prosrc),
    ('probin', p.probin),
    ('volatility', p.provolatile::text),
    ('strict', p.proisstrict::text),
    ('parallel', p.proparallel::text),
    ('security definer', p.prosecdef::text),
    ('leakproof', p.proleakproof::text),
    ('config', p.proconfig::text),
    ('cost', p.procost::text),
    ('rows', p.prorows::text),
    ('support', p.prosupport::regprocedure::text),
    ('owner', pg_get_userbyid(p.proowner)::text),
    ('acl', p.proacl::text),
    ('comment', obj_description(p.oid, 'pg_proc'))) x(k, v)
UNION ALL
SELECT m.obj, x.k, x.v FROM m JOIN pg_aggregate a ON m.classid = 'pg_proc'::regclass AND a.aggfnoid = m.objid,
LATERAL (VALUES
    ('agg kind', concat_ws(' ', a.aggkind, a.aggnumdirectargs)),
    ('agg transfn', a.aggtransfn::oid::regprocedure::text),
    ('agg finalfn', a.aggfinalfn::oid::regprocedure::text),
    ('agg combinefn', a.aggcombinefn::oid::regprocedure::text),
    ('agg serialfn', a.aggserialfn::oid::regprocedure::text),
    ('agg deserialfn', a.aggdeserialfn::oid::regprocedure::text),
    ('agg mtransfn', a.aggmtransfn::oid::regprocedure::text),
    ('agg minvtransfn', a.aggminvtransfn::oid::regprocedure::text),
    ('agg mfinalfn', a.aggmfinalfn::oid::regprocedure::text),
    ('agg finalextra', concat_ws(' ', a.aggfinalextra, a.aggmfinalextra)),
    ('agg finalmodify', concat_ws(' ', a.aggfinalmodify, a.aggmfinalmodify)),
    ('agg sortop', a.aggsortop::regoperator::text),
    ('agg transtype', concat_ws(' ', a.aggtranstype::regtype, a.aggtransspace)),
    ('agg mtranstype', concat_ws(' ', a.aggmtranstype::regtype, a.aggmtransspace)),
    ('agg initval', concat_ws(' / ', coalesce(a.agginitval, '-'), coalesce(a.aggminitval, '-')))) x(k, v)
UNION ALL
SELECT m.obj, x.k, x.v FROM m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid,
LATERAL (VALUES
    ('type', concat_ws(' ', t.typtype, 'len', t.typlen, 'byval', t.typbyval, 'align', t.typalign, 'storage',
                       t.typstorage, 'category', t.typcategory, 'preferred', t.typispreferred, 'delim', t.typdelim,
                       'notnull', t.typnotnull)),
    ('type functions', concat_ws(' ', t.typinput::oid::regprocedure, t.typoutput::oid::regprocedure,
                                 t.typreceive::oid::regprocedure, t.typsend::oid::regprocedure,
                                 t.typmodin::oid::regprocedure, t.typmodout::oid::regprocedure,
                                 t.typanalyze::oid::regprocedure, t.typsubscript::oid::regprocedure)),
    ('type related', concat_ws(' ', t.typelem::regtype, t.typarray::regtype, t.typbasetype::regtype,
                               t.typrelid::regclass, t.typcollation::regcollation)),
    ('default', t.typdefault),
    ('enum', (SELECT string_agg(enumlabel::text, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid)),
    ('owner', pg_get_userbyid(t.typowner)::text),
    ('acl', t.typacl::text),
    ('comment', obj_description(t.oid, 'pg_type'))) x(k, v)
UNION ALL
SELECT rel.obj, x.k, x.v FROM rel,
LATERAL (VALUES
    ('relation', concat_ws(' ', rel.relkind, rel.relpersistence, 'rls', rel.relrowsecurity, rel.relforcerowsecurity,
                           'replident', rel.relreplident)),
    ('options', rel.reloptions::text),
    ('owner', pg_get_userbyid(rel.relowner)::text),
    ('acl', rel.relacl::text),
    ('comment', obj_description(rel.oid, 'pg_class')),
    ('view', CASE WHEN rel.relkind IN ('v', 'm') THEN pg_get_viewdef(rel.oid) END),
    ('pg_dump configuration', (SELECT coalesce(e.extcondition[array_position(e.extconfig, rel.oid)], '-')
                               FROM pg_extension e WHERE e.extname = 'pg_learn' AND rel.oid = ANY (e.extconfig))),
    ('sequence', (SELECT concat_ws(' ', s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmax, s.seqmin,
                                   s.seqcache, s.seqcycle) FROM pg_sequence s WHERE s.seqrelid = rel.oid))) x(k, v)
UNION ALL
SELECT rel.obj, 'column ' || a.attname, concat_ws(' ', 'position', rank() OVER (PARTITION BY rel.oid ORDER BY a.attnum),
           format_type(a.atttypid, a.atttypmod), CASE WHEN a.attnotnull THEN 'NOT NULL' END,
           'default ' || pg_get_expr(ad.adbin, ad.adrelid), 'identity ' || nullif(a.attidentity::text, ''),
           'generated ' || nullif(a.attgenerated::text, ''), 'collation ' || a.attcollation::regcollation,
           'acl ' || a.attacl::text, 'comment ' || col_description(rel.oid, a.attnum))
FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
UNION ALL
SELECT rel.obj, 'constraint ' || c.conname, concat_ws(' ', pg_get_constraintdef(c.oid), 'deferrable', c.condeferrable, c.condeferred)
FROM rel JOIN pg_constraint c ON c.conrelid = rel.oid
UNION ALL
SELECT rel.obj, 'index ' || i.relname, pg_get_indexdef(i.oid)
FROM rel JOIN pg_index x ON x.indrelid = rel.oid JOIN pg_class i ON i.oid = x.indexrelid
UNION ALL
SELECT rel.obj, 'trigger ' || t.tgname, concat_ws(' ', pg_get_triggerdef(t.oid), 'enabled', t.tgenabled)
FROM rel JOIN pg_trigger t ON t.tgrelid = rel.oid AND NOT t.tgisinternal
UNION ALL
SELECT rel.obj, 'policy ' || p.polname, concat_ws(' ', p.polcmd, p.polpermissive, p.polroles::regrole[],
                                               pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
FROM rel JOIN pg_policy p ON p.polrelid = rel.oid
UNION ALL
SELECT rel.obj, 'rule ' || r.rulename, pg_get_ruledef(r.oid)
FROM rel JOIN pg_rewrite r ON r.ev_class = rel.oid AND r.rulename <> '_RETURN'
UNION ALL
SELECT m.obj, 'cast', concat_ws(' ', c.castfunc::regprocedure, c.castcontext, c.castmethod)
FROM m JOIN pg_cast c ON m.classid = 'pg_cast'::regclass AND c.oid = m.objid
UNION ALL
SELECT m.obj, 'event trigger', concat_ws(' ', e.evtevent, e.evtfoid::regprocedure, e.evttags::text, e.evtenabled,
                                         pg_get_userbyid(e.evtowner))
FROM m JOIN pg_event_trigger e ON m.classid = 'pg_event_trigger'::regclass AND e.oid = m.objid
UNION ALL
SELECT m.obj, 'initial privileges ' || m.objsubid, i.initprivs::text
FROM m JOIN pg_init_privs i ON i.classoid = m.classid AND i.objoid = m.objid
UNION ALL
SELECT 'extension pg_learn', 'extension', concat_ws(' ', e.extversion, e.extrelocatable,
                                                    e.extnamespace::regnamespace, pg_get_userbyid(e.extowner))
FROM pg_extension e WHERE e.extname = 'pg_learn'
UNION ALL
SELECT 'extension pg_learn', 'pg_dump configuration', c::regclass::text
FROM pg_extension e, unnest(e.extconfig) c WHERE e.extname = 'pg_learn'
""" % {"members": MEMBERS}


def catalog_lines(conn):
    rows = conn.execute(CATALOG).fetchall()
    lines = sorted("%s | %s = %s" % (obj, k, " ".join(v.split()) if v is not None else "NULL")
                   for obj, k, v in rows if v is not None or k == "member")
    return lines


# -- pg_regress against an upgraded database -------------------------------------------------
def run_pg_regress(rep, tree, cluster, db, work):
    """The current tree's pg_regress suite with --use-existing on `db` (created empty at 0.1.0,
    then upgraded). Every file of sql/ runs: none creates or drops the extension or a database;
    the roles some create are dropped by them, in a cluster of this test's own."""
    rdir = os.path.join(work, "regress")
    os.makedirs(rdir)
    shutil.copytree(os.path.join(REPO, "sql"), os.path.join(rdir, "sql"))
    shutil.copytree(os.path.join(REPO, "expected"), os.path.join(rdir, "expected"))
    pw = pwd.getpwnam("postgres")
    for root, dirs, files in os.walk(rdir):
        for n in [root] + [os.path.join(root, f) for f in dirs + files]:
            os.chown(n, pw.pw_uid, pw.pw_gid)
    tests = sorted(f[:-4] for f in os.listdir(os.path.join(REPO, "sql")) if f.endswith(".sql"))
    pg_regress = tree + PG_LIB + "/lib/pgxs/src/test/regress/pg_regress"
    r = subprocess.run(["runuser", "-u", "postgres", "--", pg_regress, "--use-existing", "--dbname=" + db,
                        "--host=" + cluster.dir, "--port=%d" % cluster.port, "--user=postgres",
                        "--inputdir=.", "--outputdir=.", "--bindir=" + tree + PG_LIB + "/bin"] + tests,
                       cwd=rdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ok = len(re.findall(r"\.\.\. ok|^ok ", r.stdout, re.M))
    bad = len(re.findall(r"\.\.\. FAILED|^not ok", r.stdout, re.M))
    passed = r.returncode == 0 and ok == len(tests) and bad == 0
    rep.check("pg_regress suite on the upgraded database", passed,
              "%d of %d files ok, %d failed" % (ok, len(tests), bad))
    if not passed:
        for line in r.stdout.splitlines()[-30:]:
            print("# " + line)
        diffs = os.path.join(rdir, "regression.diffs")
        if os.path.exists(diffs):
            with open(diffs) as f:
                for line in f.read().splitlines()[:150]:
                    print("# " + line)


# -- The test --------------------------------------------------------------------------------
def main():
    rep = Reporter()
    t0 = time.monotonic()
    if os.geteuid() != 0:
        rep.fail("run as root", "(the test installs into a private tree and runs the server as postgres)")
        rep.exit()
    if subprocess.run(GIT + ["cat-file", "-e", OLD_COMMIT + "^{commit}"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode != 0:
        shallow = subprocess.run(GIT + ["rev-parse", "--is-shallow-repository"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True).stdout.strip()
        rep.fail("the %s release commit %s is in the clone's history" % (OLD_VERSION, OLD_COMMIT),
                 "(not found%s: fetch the full history, e.g. git fetch --unshallow)"
                 % ("; the clone is shallow" if shallow == "true" else ""))
        rep.exit()
    new_version = current_version()
    port = int(os.environ.get("PGL_TEST_PORT", "5480"))
    work = tempfile.mkdtemp(prefix="pg_learn.upgrade.")
    os.chmod(work, 0o755)   # the server (postgres) reads the private tree inside
    tree = os.path.join(work, "pg")
    cluster = None
    try:
        make_private_tree(tree)
        old_src = build_old(work)
        run(MAKE + ["install", "DESTDIR=" + tree], cwd=old_src, what="installing 0.1.0")
        t_old = time.monotonic()
        print("# 0.1.0 built and installed in %.0f s" % (t_old - t0), flush=True)

        cluster = Cluster(port=port, pgdata=os.path.join(work, "cluster"), bin=tree + PG_LIB + "/bin",
                          create_extension=False, settings={"max_parallel_workers_per_gather": 0})
        conn = cluster.start()
        conn.execute("CREATE DATABASE upgraded")
        # pg_regress's own database settings (it sets them when it creates the database)
        conn.execute("CREATE DATABASE regression TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
        for setting in ("lc_messages TO 'C'", "lc_monetary TO 'C'", "lc_numeric TO 'C'", "lc_time TO 'C'",
                        "bytea_output TO 'hex'", "timezone_abbreviations TO 'Default'"):
            conn.execute("ALTER DATABASE regression SET " + setting)

        def connect(db):
            return psycopg.connect(host=cluster.dir, port=port, dbname=db, user="postgres", autocommit=True)

        for db in ("upgraded", "regression"):
            with connect(db) as c:
                c.execute("CREATE EXTENSION pg_learn VERSION '%s'" % OLD_VERSION)
        with connect("upgraded") as c:
            version = c.execute("SELECT extversion FROM pg_extension WHERE extname = 'pg_learn'").fetchone()[0]
            rep.check("CREATE EXTENSION pg_learn VERSION '%s'" % OLD_VERSION, version == OLD_VERSION, version)
            c.execute(SETUP)
            before, columns_010 = record(c)
            counts = c.execute("SELECT (SELECT count(*) FROM models), (SELECT count(*) FROM ml_models),"
                               " (SELECT count(*) FROM ml_prediction_log), ml_pending_labels(),"
                               " (SELECT count(*) FROM ml_monitor_windows)").fetchone()
            rep.check("0.1.0 data: models, registry versions, logged predictions, queued labels, windows",
                      all(counts) and counts[3] == 200, str(counts))
            with c.transaction():
                before_after_steps = run_after_steps(c)
                raise psycopg.Rollback()
        print("# 0.1.0 data recorded in %.0f s" % (time.monotonic() - t_old), flush=True)

        # The upgrade: stop, replace the 0.1.0 files by the current tree's, start, UPDATE.
        cluster.stop()
        t_up = time.monotonic()
        build_current()
        remove_pg_learn(tree)
        run(MAKE + ["install", "DESTDIR=" + tree], cwd=REPO, what="installing the current tree")
        installed = sorted(os.path.basename(p) for p in glob.glob(tree + PG_SHARE + "/extension/pg_learn*"))
        rep.check("installed: the current install script, the upgrade chain, the control file",
                  "pg_learn--%s.sql" % new_version in installed
                  and "pg_learn--%s--%s.sql" % (OLD_VERSION, new_version) in installed
                  and "pg_learn--%s.sql" % OLD_VERSION not in installed, " ".join(installed))
        print("# current tree installed in %.0f s" % (time.monotonic() - t_up), flush=True)
        cluster.restart()
        for db in ("upgraded", "regression"):
            with connect(db) as c:
                try:
                    c.execute("ALTER EXTENSION pg_learn UPDATE")
                    version = c.execute("SELECT extversion FROM pg_extension WHERE extname = 'pg_learn'"
                                        ).fetchone()[0]
                    rep.check("ALTER EXTENSION pg_learn UPDATE in %s: %s -> %s" % (db, OLD_VERSION, new_version),
                              version == new_version, version)
                except psycopg.Error as e:
                    rep.fail("ALTER EXTENSION pg_learn UPDATE in %s" % db, one_line(e))

        with connect("upgraded") as c:
            c.execute("SET max_parallel_workers_per_gather = 0")
            try:
                after, _ = record(c, columns_010)
                compare(rep, "stored values, scores and learning after the upgrade", before, after)
                # The column 0.2.0 adds: every version's task, as its model says.
                tasks = c.execute("SELECT kind, task, count(*) FROM ml_models GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
                rep.check("ml_models.task filled from the stored models",
                          bool(tasks) and all({"logistic_regression": "binary", "linear_regression": "regression"}
                                              .get(k) == t for k, t, _ in tasks), str(tasks))
            except psycopg.Error as e:
                rep.fail("stored values, scores and learning after the upgrade", one_line(e))
            try:
                after_steps = run_after_steps(c)
                compare(rep, "attached table, ml_learn_pending, ml_monitor_refresh as 0.1.0 did",
                        before_after_steps, after_steps)
                learned = after_steps["ml_learn_pending"][0][0]
                rolled = after_steps["ml_monitor_refresh"][0][0]
                queue = after_steps["queue after ml_learn_pending"][0][0]
                rep.check("after the upgrade: the 200 queued labels learned, queue empty, new events rolled up",
                          learned == 200 and queue == 0 and rolled > 0,
                          "learned %s, queued %s, rolled up %s" % (learned, queue, rolled))
                metrics = c.execute("SELECT sum(value) FROM ml_model_metrics WHERE model = 'fraud'"
                                    " AND metric = 'predictions'").fetchone()[0]
                rep.check("ml_model_metrics counts every prediction (600 before, 100 after)", metrics == 700,
                          str(metrics))
            except psycopg.Error as e:
                rep.fail("attached table, ml_learn_pending, ml_monitor_refresh after the upgrade", one_line(e))

        # Catalog: the upgraded database against a fresh CREATE EXTENSION.
        cluster.conn.execute("CREATE DATABASE fresh")
        with connect("fresh") as c:
            c.execute("CREATE EXTENSION pg_learn")
            fresh = catalog_lines(c)
        with connect("upgraded") as c:
            upgraded = catalog_lines(c)
        diff = list(difflib.unified_diff(fresh, upgraded, "fresh CREATE EXTENSION (%s)" % new_version,
                                         "upgraded from %s" % OLD_VERSION, lineterm="", n=0))
        members = sum(1 for line in fresh if " | member = " in line)
        rep.check("catalog: the upgraded extension's objects are those of a fresh install", not diff,
                  "%d members, %d attributes compared" % (members, len(fresh)) if not diff else
                  "%d lines differ (- fresh, + upgraded): an object of src/sql missing from or different in"
                  " src/sql/upgrade/pg_learn--%s--%s.sql" % (len(diff) - 2, OLD_VERSION, new_version))
        for line in diff[:200]:
            print("# " + line)

        # The triggers of a table attached under 0.1.0 (a user table, outside the catalog compared
        # above) are those the same ml_attach makes now: the upgrade re-creates them without the
        # WHEN clause 0.1.0's log-update trigger had (issue 12, item 7).
        with connect("upgraded") as c:
            try:
                def triggers(table):
                    rows = c.execute("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass"
                                     " AND NOT tgisinternal ORDER BY tgname", (table,)).fetchall()
                    return [r[0].replace(" ON public.%s " % table, " ON public.<table> ") for r in rows]
                old_triggers = triggers("orders")
                c.execute("CREATE TABLE orders_now (LIKE orders)")
                c.execute("SELECT ml_attach('orders_now', 'fraud', key => 'id', prediction => 'p', label => 'fraud',"
                          " features => ARRAY['amount', 'country'])")
                new_triggers = triggers("orders_now")
                c.execute("SELECT ml_detach('orders_now')")
                c.execute("DROP TABLE orders_now")
                rep.check("the upgrade re-created the 0.1.0 attached table's triggers as ml_attach makes them now",
                          bool(old_triggers) and old_triggers == new_triggers
                          and not any(" WHEN " in t for t in old_triggers if "pg_learn_log_update" in t),
                          "%d triggers" % len(old_triggers) if old_triggers == new_triggers else
                          "upgraded: %s; attached now: %s" % (old_triggers, new_triggers))
            except psycopg.Error as e:
                rep.fail("the triggers of the table attached under 0.1.0", one_line(e))

        # issue 12, item 4: the upgraded (unpartitioned) log partitioned by ml_partition_log
        # (after the catalog comparison: a partitioned log is not what a fresh install has). Its
        # rows stay, a label for an old prediction is queued and learned once, new rows land in
        # today's partition, and a prune keeps what is not old enough.
        with connect("upgraded") as c:
            try:
                n0 = c.execute("SELECT count(*) FROM ml_prediction_log").fetchone()[0]
                made = c.execute("SELECT ml_partition_log('1 day')").fetchone()[0]
                kind = c.execute("SELECT relkind FROM pg_class WHERE oid = 'ml_prediction_log'::regclass"
                                 ).fetchone()[0]
                n1 = c.execute("SELECT count(*) FROM ml_prediction_log_before").fetchone()[0]
                c.execute("INSERT INTO orders (id, amount, country) VALUES (901, 10.5, 'fr')")
                c.execute("UPDATE orders SET fraud = 1 WHERE id IN (550, 901)")
                queued = c.execute("SELECT ml_pending_labels()").fetchone()[0]
                learned = c.execute("SELECT ml_learn_pending()").fetchone()[0]
                again = c.execute("SELECT ml_learn_pending()").fetchone()[0]
                pruned = c.execute("SELECT ml_prune_log('36500 days')").fetchone()[0]
                n2 = c.execute("SELECT count(*) FROM ml_prediction_log").fetchone()[0]
                rep.check("ml_partition_log on the upgraded log: rows in place, labels learned once, prune",
                          made >= 5 and kind == "p" and n1 == n0 and queued == learned and again == 0
                          and queued == 2 and pruned == 0 and n2 == n0 + 1,
                          "made %s, relkind %s, rows %s -> %s (%s in the old partition), queued %s,"
                          " learned %s then %s, pruned %s" % (made, kind, n0, n2, n1, queued, learned, again, pruned))
            except psycopg.Error as e:
                rep.fail("ml_partition_log on the upgraded log", one_line(e))

        run_pg_regress(rep, tree, cluster, "regression", work)
    except Exception as e:  # noqa: BLE001  (reported as a FAIL line)
        rep.fail("upgrade test", one_line(e))
        if cluster is not None:
            for line in cluster.server_log_tail(20).splitlines():
                print("# server.log: " + line)
    finally:
        if cluster is not None:
            cluster.stop()
        if os.environ.get("PGL_KEEP_CLUSTER") is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("# kept %s" % work)
    print("# total %.0f s" % (time.monotonic() - t0))
    rep.exit()


if __name__ == "__main__":
    main()
