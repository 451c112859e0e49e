"""Monitoring across pg_dump and pg_restore.

A table attached to a model (ml_attach) gets rows scored and logged by the triggers, labels,
learning and a refresh; the database is dumped (pg_dump -Fc) and restored into a new database.
The window statistics are not dumped: restoring the prediction log queues every restored row
again, and the first refresh in the restored database must give the original's views back: the
same rows, the exact metrics (counts, coverage, AUC, accuracy, log loss) equal, means to 1e-9,
and what comes from quantile sketches (which depend on the order rows are added in) within the
sketches' error: each restored drift value inside the original's [lower, upper] with the same
status, anomaly counts within 3%. The settings come back with their rows.

Run as root with Debian's interpreter:
    PGL_PG_BIN=/opt/pgl/C/usr/lib/postgresql/15/bin PGL_TEST_PORT=5604 \
        /usr/bin/python3 test/integration/test_monitoring_dump.py
(PGL_TEST_DSN cannot be used: the test creates a database and runs pg_dump / pg_restore.)
"""

import os
import subprocess
import sys
import tempfile

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import PG_BIN, Cluster, Reporter  # noqa: E402

VIEWS = {
    "ml_model_metrics": "SELECT time, model, version, variant, metric, value FROM ml_model_metrics",
    "ml_feature_drift": "SELECT time, model, version, variant, feature, method, status, value, lower, upper"
                        " FROM ml_feature_drift",
    "ml_data_quality": "SELECT time, model, version, variant, feature, anomaly, count FROM ml_data_quality",
}
EXACT = {"predictions", "labels", "label_coverage", "nan_scores", "inf_scores", "unscored_labels", "accuracy",
         "auc", "logloss"}
MEANS = {"score_mean", "label_mean", "label_delay_mean"}


def same_metric(a, b):
    if a[:5] != b[:5]:
        return False
    if a[4] in EXACT:
        return a[5] == b[5]
    if a[4] in MEANS:
        return abs(a[5] - b[5]) <= 1e-9 * max(1.0, abs(b[5]))
    return True  # label delay quantiles: sketch estimates of sub-second delays


def same_drift(a, b):
    return a[:7] == b[:7] and b[8] <= a[7] <= b[9]


def same_anomaly(a, b):
    return a[:6] == b[:6] and abs(a[6] - b[6]) <= 0.03 * b[6]


SAME = {"ml_model_metrics": same_metric, "ml_feature_drift": same_drift, "ml_data_quality": same_anomaly}


def snapshot(conn):
    return {name: conn.execute(sql).fetchall() for name, sql in VIEWS.items()}


def main():
    rep = Reporter()
    if os.environ.get("PGL_TEST_DSN"):
        print("SKIP: needs its own cluster (unset PGL_TEST_DSN)")
        return
    cluster = Cluster()
    with cluster as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, amount float8, country text, p float8, fraud int)")
        conn.execute("SELECT ml_register('fraud', ml_fit_one('{\"model\": \"logistic_regression\"}',"
                     " '{\"amount\": 1, \"country\": \"fr\"}'::jsonb, 1), baseline => (SELECT ml_profile("
                     "jsonb_build_object('amount', i % 100, 'country', (ARRAY['fr', 'de'])[1 + i % 2]))"
                     " FROM generate_series(1, 1000) i))")
        conn.execute("SELECT ml_deploy('fraud', 1)")
        conn.execute("SELECT ml_attach('orders', 'fraud', key => 'id', prediction => 'p', label => 'fraud',"
                     " features => ARRAY['amount', 'country'])")
        conn.execute("INSERT INTO orders (id, amount, country) SELECT i, i % 150, (ARRAY['fr', 'de', 'it'])[1 + i % 3]"
                     " FROM generate_series(1, 3000) i")
        conn.execute("UPDATE orders SET fraud = (id % 7 = 0)::int WHERE id <= 2000")
        conn.execute("SELECT ml_learn_pending('fraud')")
        conn.execute("SELECT ml_monitor_set('drift_options', '{\"method\": \"psi\"}', 'fraud')")
        rolled = conn.execute("SELECT ml_monitor_refresh()").fetchone()[0]
        rep.check("rolled up predictions and labels", rolled == 5000, str(rolled))
        before = snapshot(conn)
        rep.check("the views have rows", all(before[v] for v in VIEWS), str({v: len(r) for v, r in before.items()}))

        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o777)
            dump = os.path.join(tmp, "db.dump")
            host = cluster.dir
            subprocess.run([os.path.join(PG_BIN, "pg_dump"), "-h", host, "-p", str(cluster.port), "-U", "postgres",
                            "-Fc", "-f", dump, "postgres"], check=True)
            conn.execute("CREATE DATABASE restored")
            r = subprocess.run([os.path.join(PG_BIN, "pg_restore"), "-h", host, "-p", str(cluster.port),
                                "-U", "postgres", "-d", "restored", dump], capture_output=True, text=True)
            rep.check("pg_restore without errors", r.returncode == 0, r.stderr[-500:])
        with psycopg.connect(host=cluster.dir, port=cluster.port, dbname="restored", user="postgres",
                             autocommit=True) as rconn:
            windows = rconn.execute("SELECT count(*) FROM ml_monitor_windows").fetchone()[0]
            queued = rconn.execute("SELECT count(*), sum(events) FROM ml_monitor_inbox").fetchone()
            rep.check("no windows restored; every log row queued again (labels with it)",
                      windows == 0 and queued == (3000, 3000 + 2 * 2000), "%s %s" % (windows, queued))
            setting = rconn.execute("SELECT value FROM ml_settings WHERE model_name = 'fraud'"
                                    " AND setting = 'drift_options'").fetchone()
            rep.check("settings restored", setting == ('{"method": "psi"}',), str(setting))
            again = rconn.execute("SELECT ml_monitor_refresh()").fetchone()[0]
            rep.check("first refresh after the restore", again == 3000, str(again))
            after = snapshot(rconn)
            for v in VIEWS:
                diff = [(a, b) for a, b in zip(after[v], before[v]) if not SAME[v](a, b)]
                ok = len(after[v]) == len(before[v]) and not diff
                rep.check("%s the same after dump and restore" % v, ok,
                          "%d vs %d rows; %s" % (len(after[v]), len(before[v]), diff[:3]))
        if rep.failed:
            print(cluster.server_log_tail())
    rep.exit()


if __name__ == "__main__":
    main()
