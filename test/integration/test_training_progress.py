"""Training history and progress (issue 16 item 5): ml_train's per-epoch losses against losses
computed independently, the view ml_training_progress from another session, the progress
NOTICEs, and cancel / statement_timeout.

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_training_progress.py
(a throwaway cluster is started as postgres; see common.py for PGL_TEST_DSN etc.).

1. Losses: on scikit-learn's diabetes data (regression) and breast cancer data (binary), an
   unshuffled ml_train of 2 epochs is replayed row by row with ml_predict_one then ml_fit_one (the
   progressive predictions); each epoch's train_loss in ml_training_info must equal NumPy's mean
   squared error / scikit-learn's log_loss of those predictions, and the validation loss of the
   last epoch the same metric over ml_predict_one of the validation rows, within 1e-12.
2. Progress: a training of several seconds in one session while another polls the view: it shows
   the training's pid, phase training, epochs advancing, rows_done growing, rows_per_second and an
   ETA; another role without privileges sees the row without its progress; the row is gone when
   the training ends. With pg_learn.progress_notice_interval = 1, NOTICEs arrive about once a
   second, each naming the epoch.
3. Cancel: statement_timeout and pg_cancel_backend stop a long ml_train with SQLSTATE 57014, and
   its slot is released (the view is empty afterwards).
"""

import os
import sys
import threading
import time

import numpy as np
import psycopg
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.metrics import log_loss

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Cluster, Reporter, copy_rows  # noqa: E402

TOL = 1e-12
REG = ('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, '
       '"check_divergence": false}')
CLF = '{"model": "logistic_regression"}'


def close(a, b):
    return a is not None and b is not None and abs(a - b) <= TOL * max(1.0, abs(b))


def load(conn, name, X, y):
    conn.execute("DROP TABLE IF EXISTS %s" % name)
    conn.execute("CREATE TABLE %s (id int PRIMARY KEY, x float8[], y float8)" % name)
    copy_rows(conn, name, ["id", "x", "y"],
              [(i + 1, [float(v) for v in r], float(t)) for i, (r, t) in enumerate(zip(X, y))])


def replay(conn, spec, table, epochs):
    """Progressive predictions of an unshuffled ml_train, one ml_predict_one and ml_fit_one per row."""
    rows = conn.execute("SELECT x, y FROM %s ORDER BY id" % table).fetchall()
    model = conn.execute("SELECT %s::ml_model", (spec,)).fetchone()[0]
    preds = []
    for _ in range(epochs):
        ep = []
        for x, y in rows:
            p, model = conn.execute("SELECT ml_predict_one(%s::text::ml_model, %s::float8[]), "
                                    "ml_fit_one(%s::text::ml_model, %s::float8[], %s)::text",
                                    (model, x, model, x, y)).fetchone()
            ep.append(p)
        preds.append(np.array(ep))
    return np.array([y for _, y in rows]), preds, model


def check_losses(r, conn):
    X, y = load_diabetes(return_X_y=True)
    y = y / 100.0
    load(conn, "dia", X[:300], y[:300])
    load(conn, "dia_valid", X[300:], y[300:])
    X2, y2 = load_breast_cancer(return_X_y=True)
    X2 = (X2 - X2.mean(axis=0)) / X2.std(axis=0)
    load(conn, "bc", X2[:250], y2[:250])
    load(conn, "bc_valid", X2[250:400], y2[250:400])
    for spec, table, metric, name in [(REG, "dia", lambda t, p: float(np.mean((t - p) ** 2)), "squared_error"),
                                      (CLF, "bc", lambda t, p: log_loss(t, p, labels=[0, 1]), "log_loss")]:
        truth, preds, _ = replay(conn, spec, table, 2)
        info = conn.execute(
            "SELECT epoch, train_loss, validation_loss, loss FROM ml_training_info(ml_train(%s, "
            "'SELECT x, y FROM " + table + " ORDER BY id', 2, shuffle => false, "
            "validation => 'SELECT x, y FROM " + table + "_valid'))", (spec,)).fetchall()
        r.check("loss kind %s" % table, [row[3] for row in info] == [name, name], str(info))
        for e in range(2):
            want = metric(truth, preds[e])
            r.check("train loss %s epoch %d" % (table, e + 1), close(info[e][1], want),
                    "got %r, independently %r" % (info[e][1], want))
        vrows = conn.execute(
            "WITH m AS (SELECT ml_train(%s, 'SELECT x, y FROM " + table + " ORDER BY id', 2, shuffle => false) AS m) "
            "SELECT v.y, ml_predict_one(m.m, v.x) FROM m, " + table + "_valid v ORDER BY v.id", (spec,)).fetchall()
        want = metric(np.array([a for a, _ in vrows]), np.array([b for _, b in vrows]))
        r.check("validation loss %s" % table, close(info[1][2], want), "got %r, independently %r" % (info[1][2], want))


def long_training_sql(epochs):
    return ("SELECT ml_info(ml_train(%s, 'SELECT x, y FROM big', %d)) -> 'n_seen'" % ("'" + REG + "'", epochs))


def view_rows(conn):
    return conn.execute("SELECT pid, phase, epoch, epochs, rows_done, rows_total, rows_per_second, "
                        "extract(epoch FROM eta) FROM ml_training_progress").fetchall()


def check_progress(r, cluster, conn):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100000, 8))
    y = X @ np.arange(1, 9) * 0.1 + rng.normal(scale=0.1, size=100000)
    load(conn, "big", X, y)
    # Calibrate: epochs for a training of about 6 seconds (the time of 5 epochs less that of 1:
    # reading the rows is not an epoch).
    t0 = time.time()
    conn.execute(long_training_sql(1))
    t1 = time.time()
    conn.execute(long_training_sql(5))
    per_epoch = max(((time.time() - t1) - (t1 - t0)) / 4, 1e-3)
    epochs = max(4, min(2000, int(6.0 / per_epoch)))
    print("(an epoch of 100000 rows takes %.3f s; training %d epochs)" % (per_epoch, epochs), flush=True)

    trainer = cluster.connect()
    notices = []
    trainer.add_notice_handler(lambda d: notices.append((time.time(), d.message_primary)))
    trainer.execute("SET pg_learn.progress_notice_interval = 1")
    pid = trainer.execute("SELECT pg_backend_pid()").fetchone()[0]
    conn.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'viewer') THEN "
                 "CREATE ROLE viewer LOGIN; END IF; END $$")
    viewer = psycopg.connect(host=cluster.dir, port=cluster.port, dbname=cluster.dbname, user="viewer",
                             autocommit=True) if not cluster.dsn else None
    result = {}

    def run():
        try:
            result["n_seen"] = trainer.execute(long_training_sql(epochs)).fetchone()[0]
        except Exception as e:  # noqa: BLE001
            result["error"] = e

    th = threading.Thread(target=run)
    th.start()
    seen, seen_viewer = [], []
    while th.is_alive():
        for row in view_rows(conn):
            if row[0] == pid:
                seen.append(row)
        if viewer is not None:
            seen_viewer += [row for row in view_rows(viewer) if row[0] == pid]
        time.sleep(0.2)
    th.join()
    r.check("long training finished", "n_seen" in result, repr(result.get("error")))
    training = [s for s in seen if s[1] == "training"]
    r.check("view shows the training", len(training) >= 3, "%d polls saw it" % len(training))
    if training:
        r.check("epochs advance", training[-1][2] > training[0][2] and all(s[3] == epochs for s in training),
                "first %r, last %r" % (training[0], training[-1]))
        r.check("rows_done grows", all(b[4] >= a[4] for a, b in zip(training, training[1:])) and
                training[-1][4] > training[0][4] and training[-1][5] == epochs * 100000,
                "%r .. %r" % (training[0][4:6], training[-1][4:6]))
        with_eta = [s for s in training if s[7] is not None and s[6] > 0]
        r.check("rate and ETA shown", len(with_eta) > 0 and all(s[7] >= 0 for s in with_eta),
                "e.g. %r" % (with_eta[len(with_eta) // 2] if with_eta else None,))
        # The ETA of a poll in the middle is near the time the training still took.
    if viewer is not None:
        r.check("another role sees who trains, not how far",
                len(seen_viewer) > 0 and all(s[1] is None and s[4] is None for s in seen_viewer),
                "%d rows, e.g. %r" % (len(seen_viewer), seen_viewer[:1]))
    r.check("slot released after training", view_rows(conn) == [], repr(view_rows(conn)))
    progress_notices = [n for n in notices if n[1].startswith("ml_train: epoch")]
    gaps = [b[0] - a[0] for a, b in zip(progress_notices, progress_notices[1:])]
    r.check("NOTICEs at the interval", len(progress_notices) >= 3 and all(g >= 0.9 for g in gaps),
            "%d notices, gaps %s, e.g. %r" % (len(progress_notices), ["%.2f" % g for g in gaps[:5]],
                                              progress_notices[0][1] if progress_notices else None))
    trainer.execute("SET pg_learn.progress_notice_interval = 0")
    n_before = len(notices)
    trainer.execute(long_training_sql(2))
    r.check("no NOTICEs at interval 0", len(notices) == n_before, "%d" % (len(notices) - n_before))

    # statement_timeout: 57014, slot released.
    trainer.execute("SET statement_timeout = '1s'")
    t0 = time.time()
    try:
        trainer.execute(long_training_sql(epochs * 10))
        r.fail("statement_timeout stops ml_train", "it finished")
    except psycopg.Error as e:
        r.check("statement_timeout stops ml_train", e.sqlstate == "57014" and time.time() - t0 < 5,
                "%s after %.1f s" % (e.sqlstate, time.time() - t0))
    trainer.execute("RESET statement_timeout")
    r.check("slot released after the timeout", view_rows(conn) == [], repr(view_rows(conn)))

    # pg_cancel_backend, once the view shows the training.
    result.clear()
    th = threading.Thread(target=run)
    th.start()
    deadline = time.time() + 20
    while time.time() < deadline and not any(row[0] == pid and row[1] == "training" for row in view_rows(conn)):
        time.sleep(0.05)
    conn.execute("SELECT pg_cancel_backend(%s)", (pid,))
    th.join(30)
    err = result.get("error")
    r.check("pg_cancel_backend stops ml_train", isinstance(err, psycopg.Error) and err.sqlstate == "57014",
            repr(err))
    r.check("slot released after the cancel", view_rows(conn) == [], repr(view_rows(conn)))
    # The backend that was cancelled trains again, and shows progress again.
    r.check("training again after a cancel", trainer.execute(long_training_sql(1)).fetchone()[0] == 100000)
    trainer.close()
    if viewer is not None:
        viewer.close()


def main():
    r = Reporter()
    cluster = Cluster()
    with cluster as conn:
        check_losses(r, conn)
        check_progress(r, cluster, conn)
    r.exit()


if __name__ == "__main__":
    main()
