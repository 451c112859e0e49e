"""Monitoring across pg_dump and pg_restore.

A table attached to a model (ml_attach) gets rows scored and logged by the triggers, labels,
learning and a refresh; the database is dumped (pg_dump -Fc) and restored into a new database.
The window statistics are not dumped: restoring the prediction log queues every restored row
again, and the first refresh in the restored database must give the original's views back: the
same rows, the exact metrics (counts, coverage, AUC, accuracy, log loss) equal, means to 1e-9,
and what comes from quantile sketches (which depend on the order rows are added in) within the
sketches' error: each restored drift value inside the original's [lower, upper] with the same
status, anomaly counts within 3%. The settings come back with their rows.

Then the same with a partitioned log (ml_partition_log, issue 12), in a database of its own: the
restore (pg_restore without a single error) gives back the partitioned log with every partition
and row, the queued labels, the inbox events, the partitioning settings, the queue's foreign key
and the log's identity continuing after the largest prediction_id; and then learning the queued
labels, scoring and logging a new row, its label, a refresh and a prune work as before the dump.

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


def dump_restore(cluster, dbname, target, rep, what):
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o777)
        dump = os.path.join(tmp, "db.dump")
        subprocess.run([os.path.join(PG_BIN, "pg_dump"), "-h", cluster.dir, "-p", str(cluster.port), "-U", "postgres",
                        "-Fc", "-f", dump, dbname], check=True)
        cluster.conn.execute("CREATE DATABASE %s" % target)
        r = subprocess.run([os.path.join(PG_BIN, "pg_restore"), "-h", cluster.dir, "-p", str(cluster.port),
                            "-U", "postgres", "-d", target, dump], capture_output=True, text=True)
        rep.check("pg_restore without errors%s" % what, r.returncode == 0 and not r.stderr.strip(), r.stderr[-500:])


def partitioned_log(cluster, rep):
    """A partitioned log (ml_partition_log) through pg_dump and pg_restore."""
    cluster.conn.execute("CREATE DATABASE plog")
    q = ("SELECT (SELECT c.relkind FROM pg_class c WHERE c.oid = 'ml_prediction_log'::regclass),"
         " (SELECT string_agg(p.part::text || ' ' || coalesce(p.lower_bound::text, '-') || ' '"
         "  || coalesce(p.upper_bound::text, '-') || ' ' || p.is_default, ', ' ORDER BY p.part::text)"
         "  FROM _ml_log_partitions() p),"
         " (SELECT string_agg(x, ', ' ORDER BY x) FROM (SELECT p.part::text || ':' || count(l.*) AS x"
         "   FROM _ml_log_partitions() p LEFT JOIN ml_prediction_log l ON l.tableoid = p.part GROUP BY p.part) s),"
         " (SELECT md5(string_agg(l::text, ',' ORDER BY l.prediction_id)) FROM ml_prediction_log l),"
         " (SELECT count(*) FROM ml_label_queue),"
         " (SELECT md5(string_agg(q::text, ',' ORDER BY q.prediction_id)) FROM (SELECT prediction_id, model_name,"
         "   version, label, sync, label_class, predicted_at FROM ml_label_queue) q),"
         " (SELECT log_partition_interval::text FROM ml_monitor_state),"
         " (SELECT string_agg(pg_get_constraintdef(c.oid), '; ') FROM pg_constraint c"
         "  WHERE c.conrelid = 'ml_label_queue'::regclass AND c.confrelid = 'ml_prediction_log'::regclass),"
         " (SELECT string_agg(i.indexrelid::regclass::text || '=' || i.indisvalid, ', ' ORDER BY 1)"
         "  FROM pg_index i WHERE i.indrelid = 'ml_prediction_log'::regclass)")
    with psycopg.connect(host=cluster.dir, port=cluster.port, dbname="plog", user="postgres", autocommit=True) as c:
        c.execute("CREATE EXTENSION pg_learn")
        c.execute("CREATE TABLE orders (id int PRIMARY KEY, amount float8, country text, p float8, fraud int)")
        c.execute("SELECT ml_register('fraud', ml_fit_one('{\"model\": \"logistic_regression\"}',"
                  " '{\"amount\": 1, \"country\": \"fr\"}'::jsonb, 1))")
        c.execute("SELECT ml_deploy('fraud', 1)")
        c.execute("SELECT ml_attach('orders', 'fraud', key => 'id', prediction => 'p', label => 'fraud',"
                  " features => ARRAY['amount', 'country'])")
        c.execute("INSERT INTO orders (id, amount, country) SELECT i, i % 150, (ARRAY['fr', 'de', 'it'])[1 + i % 3]"
                  " FROM generate_series(1, 1500) i")
        made = c.execute("SELECT ml_partition_log('1 day')").fetchone()[0]
        c.execute("INSERT INTO orders (id, amount, country) SELECT i, i % 150, (ARRAY['fr', 'de', 'it'])[1 + i % 3]"
                  " FROM generate_series(1501, 3000) i")
        c.execute("UPDATE orders SET fraud = (id % 7 = 0)::int WHERE id <= 2000")
        c.execute("SELECT ml_learn_pending('fraud', 500)")
        before = c.execute(q).fetchone()
        inbox = c.execute("SELECT count(*), sum(events) FROM ml_monitor_inbox").fetchone()
        last_id = c.execute("SELECT max(prediction_id) FROM ml_prediction_log").fetchone()[0]
        n_seen = c.execute("SELECT ml_info(ml_get('fraud')) ->> 'n_seen'").fetchone()[0]
    rep.check("partitioned log: made, rows in its partitions, labels queued",
              made >= 3 and before[0] == "p" and before[4] == 1500 and inbox == (3000 + 2000, 3000 + 2 * 2000),
              "%s partitions; %s; queued %s; inbox %s" % (made, before[2], before[4], inbox))
    dump_restore(cluster, "plog", "plog_restored", rep, " (partitioned log)")
    with psycopg.connect(host=cluster.dir, port=cluster.port, dbname="plog_restored", user="postgres",
                         autocommit=True) as r:
        after = r.execute(q).fetchone()
        names = ["relkind", "partitions and bounds", "rows per partition", "log rows", "queued labels",
                 "queue rows", "partition width", "queue's foreign key", "log indexes"]
        diff = ["%s: %r vs %r" % (n, a, b) for n, a, b in zip(names, after, before) if a != b]
        rep.check("partitioned log restored: partitions, rows, queue, settings, foreign key, indexes", not diff,
                  "; ".join(diff) or "%s; %s" % (after[2], after[8]))
        inbox_r = r.execute("SELECT count(*), sum(events) FROM ml_monitor_inbox").fetchone()
        rep.check("restored log rows queued for monitoring (labels with them)", inbox_r == (3000, 3000 + 2 * 2000),
                  str(inbox_r))
        learned = r.execute("SELECT ml_learn_pending('fraud')").fetchone()[0]
        n_seen_r = r.execute("SELECT ml_info(ml_get('fraud')) ->> 'n_seen'").fetchone()[0]
        rep.check("the restored queue is learned once", learned == 1500 and int(n_seen_r) == int(n_seen) + 1500,
                  "learned %s, n_seen %s -> %s" % (learned, n_seen, n_seen_r))
        p = r.execute("INSERT INTO orders (id, amount, country) VALUES (5001, 42, 'fr') RETURNING p").fetchone()[0]
        new_id, part = r.execute("SELECT prediction_id, tableoid::regclass::text FROM ml_prediction_log"
                                 " WHERE key = '5001'").fetchone()
        expect = r.execute("SELECT ml_predict_one(ml_get('fraud'), '{\"amount\": 42, \"country\": \"fr\"}'::jsonb)"
                           ).fetchone()[0]
        rep.check("a new row is scored and logged after the restore, its id after the restored ones",
                  p is not None and abs(p - expect) < 1e-12 and new_id == last_id + 1,
                  "p %r (want %r), prediction_id %s (last restored %s) in %s" % (p, expect, new_id, last_id, part))
        r.execute("UPDATE orders SET fraud = 1 WHERE id = 5001")
        queued = r.execute("SELECT count(*) FROM ml_label_queue").fetchone()[0]
        learned = r.execute("SELECT ml_learn_pending('fraud')").fetchone()[0]
        refreshed = r.execute("SELECT ml_monitor_refresh()").fetchone()[0]
        r.execute("SELECT ml_prune_log('1000 days')")
        rep.check("labels, learning, refresh and prune work on the restored log",
                  queued == 1 and learned == 1 and refreshed == 3000 + 2,
                  "queued %s, learned %s, refreshed %s events (the 3000 restored rows' and the new row's two)"
                  % (queued, learned, refreshed))


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
        partitioned_log(cluster, rep)
        if rep.failed:
            print(cluster.server_log_tail())
    rep.exit()


if __name__ == "__main__":
    main()
