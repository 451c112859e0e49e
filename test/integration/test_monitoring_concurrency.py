"""Monitoring under concurrency: every prediction and every label is rolled up exactly once.

Writers log predictions and set labels (as the scoring and label triggers do) in small
transactions, some of which roll back, one of which stays open across many refreshes; two
refreshers call ml_monitor_refresh (whole queue, or batches) all the time, and a pruner calls
ml_prune_log. At the end, after a last refresh, the window statistics must hold exactly what
the writers committed: the number of predictions and of labels per bucket, the NaN scores, and
the AUC of the merged metric states, which must equal scikit-learn's AUC of the committed
(score, label) pairs (the states are exact).

Run as root with Debian's interpreter:
    PGL_PG_BIN=/opt/pgl/C/usr/lib/postgresql/15/bin PGL_TEST_PORT=5604 \
        /usr/bin/python3 test/integration/test_monitoring_concurrency.py
(see common.py for PGL_TEST_DSN etc.). Options: --writers N, --rows N (per writer).
"""

import argparse
import datetime
import math
import os
import random
import sys
import threading
import time

import psycopg
from sklearn.metrics import roc_auc_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Cluster, Reporter  # noqa: E402

T0 = datetime.datetime(2024, 3, 1, tzinfo=datetime.timezone.utc)
LOG = ("INSERT INTO ml_prediction_log (model_name, version, variant, served, key, predicted_at, score, features)"
       " VALUES ('conc', 1, 'production', true, %s, %s, %s, %s) RETURNING prediction_id")
LABEL = ("UPDATE ml_prediction_log SET label = %s, labeled_at = predicted_at + interval '1 minute'"
         " WHERE prediction_id = %s AND label IS NULL")


class Ledger:
    """What the writers committed: prediction id -> (bucket, score, label or None)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows = {}

    def add(self, committed):
        with self.lock:
            for pid, row in committed.items():
                if pid in self.rows:  # a label for a prediction committed earlier
                    bucket, score, _ = self.rows[pid]
                    self.rows[pid] = (bucket, score, row[2])
                else:
                    self.rows[pid] = row


def writer(cluster, wid, rows, ledger, errors):
    rng = random.Random(1000 + wid)
    conn = cluster.connect()
    conn.autocommit = False
    mine = []  # committed predictions still without a label: (id, score)
    try:
        i = 0
        while i < rows:
            batch = {}
            n = rng.randint(1, 8)
            with conn.cursor() as cur:
                for _ in range(n):
                    minute = rng.randrange(0, 6 * 60)
                    at = T0 + datetime.timedelta(minutes=minute)
                    score = float("nan") if rng.random() < 0.01 else round(rng.random(), 3)
                    cur.execute(LOG, ("w%d:%d" % (wid, i), at, score,
                                      '{"x": %f, "c": "%s"}' % (rng.random(), rng.choice("abc"))))
                    pid = cur.fetchone()[0]
                    bucket = at.replace(minute=0)
                    label = None
                    if rng.random() < 0.2:  # labelled in the same transaction
                        label = rng.randint(0, 1)
                        cur.execute(LABEL, (label, pid))
                    batch[pid] = (bucket, score, label)
                    i += 1
                # late labels for earlier predictions of this writer
                late = {}
                for _ in range(rng.randint(0, 4)):
                    if not mine:
                        break
                    pid, score = mine.pop(rng.randrange(len(mine)))
                    label = rng.randint(0, 1)
                    cur.execute(LABEL, (label, pid))
                    if cur.rowcount == 1:
                        late[pid] = (None, score, label)
            if rng.random() < 0.1:
                conn.rollback()
                # the late labels go back to the pool: they were not applied
                mine.extend((pid, s) for pid, (_, s, _) in late.items())
                continue
            if wid == 0 and i >= rows // 3 and not getattr(writer, "held", False):
                # one transaction left open across many refreshes before it commits
                writer.held = True
                time.sleep(1.5)
            conn.commit()
            ledger.add(batch)
            ledger.add(late)
            mine.extend((pid, s) for pid, (_, s, l) in batch.items() if l is None)
        # labels for half of the remaining predictions
        while mine:
            pid, score = mine.pop()
            if rng.random() < 0.5:
                continue
            with conn.cursor() as cur:
                label = rng.randint(0, 1)
                cur.execute(LABEL, (label, pid))
                ok = cur.rowcount == 1
            conn.commit()
            if ok:
                ledger.add({pid: (None, score, label)})
    except Exception as e:  # pragma: no cover - reported below
        errors.append("writer %d: %r" % (wid, e))
    finally:
        conn.close()


def refresher(cluster, rid, stop, errors, counts):
    rng = random.Random(rid)
    conn = cluster.connect()
    try:
        while not stop.is_set():
            limit = None if rng.random() < 0.5 else rng.randint(1, 200)
            n = conn.execute("SELECT ml_monitor_refresh(%s)", (limit,)).fetchone()[0]
            counts[rid] = counts.get(rid, 0) + n
            time.sleep(rng.random() * 0.05)
    except Exception as e:  # pragma: no cover
        errors.append("refresher %d: %r" % (rid, e))
    finally:
        conn.close()


def pruner(cluster, stop, errors, pruned):
    conn = cluster.connect()
    try:
        while not stop.is_set():
            # Everything of 2024 is older than a day: whatever is rolled up (and not queued for
            # learning) may go, while writers are still labelling it.
            pruned.append(conn.execute("SELECT ml_prune_log('1 day')").fetchone()[0])
            time.sleep(0.3)
    except Exception as e:  # pragma: no cover
        errors.append("pruner: %r" % (e,))
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--writers", type=int, default=6)
    ap.add_argument("--rows", type=int, default=1500)
    args = ap.parse_args()
    rep = Reporter()
    cluster = Cluster()
    with cluster as conn:
        conn.execute("SELECT ml_register('conc', ml_fit_one('{\"model\": \"logistic_regression\"}',"
                     " '{\"x\": 1}'::jsonb, 1))")
        conn.execute("SELECT ml_deploy('conc', 1)")
        conn.execute("SELECT ml_monitor_refresh()")
        total0 = conn.execute("SELECT total_events FROM ml_monitor_state").fetchone()[0]
        ledger, errors, counts, pruned = Ledger(), [], {}, []
        stop = threading.Event()
        ws = [threading.Thread(target=writer, args=(cluster, w, args.rows, ledger, errors))
              for w in range(args.writers)]
        rs = [threading.Thread(target=refresher, args=(cluster, r, stop, errors, counts)) for r in range(2)]
        ps = threading.Thread(target=pruner, args=(cluster, stop, errors, pruned))
        started = time.time()
        for t in rs + ws + [ps]:
            t.start()
        for t in ws:
            t.join()
        stop.set()
        for t in rs + [ps]:
            t.join()
        took = time.time() - started
        rep.check("no errors", not errors, "; ".join(errors[:5]))
        last = conn.execute("SELECT ml_monitor_refresh()").fetchone()[0]
        # Every refresh counts its events in ml_monitor_state, also those run by ml_prune_log.
        rolled = conn.execute("SELECT total_events FROM ml_monitor_state").fetchone()[0] - total0
        rows = ledger.rows
        preds = len(rows)
        labels = sum(1 for r in rows.values() if r[2] is not None)
        print("%d predictions, %d labels committed in %.1f s; %d events rolled up (refreshers %s, last %d,"
              " the rest by prunes); %d log rows pruned" % (preds, labels, took, rolled, counts, last, sum(pruned)))
        rep.check("refreshes ran concurrently", all(counts.get(r, 0) > 0 for r in range(2)), str(counts))
        rep.check("prunes deleted rows while writers ran", sum(pruned) > 0, str(sum(pruned)))
        rep.check("every event rolled up once", rolled == preds + labels, "%d vs %d" % (rolled, preds + labels))
        rep.check("inbox empty", conn.execute("SELECT count(*) FROM ml_monitor_inbox").fetchone()[0] == 0)

        got = {b: (p, l, nan) for b, p, l, nan in conn.execute(
            "SELECT bucket, predictions, labels, ml_nan_count(scores) FROM ml_monitor_windows"
            " WHERE model_name = 'conc' ORDER BY bucket")}
        want = {}
        for bucket, score, label in rows.values():
            p, l, nan = want.get(bucket, (0, 0, 0))
            want[bucket] = (p + 1, l + (label is not None), nan + (isinstance(score, float) and math.isnan(score)))
        rep.check("per bucket: predictions, labels and NaN scores as committed", got == want,
                  "" if got == want else "got %s want %s" % (got, want))

        pairs = [(s, l) for _, s, l in rows.values() if l is not None and not math.isnan(s)]
        auc_db = conn.execute("SELECT ml_auc(ml_metric_merge(metric_state)) FROM ml_monitor_windows"
                              " WHERE model_name = 'conc'").fetchone()[0]
        auc_ref = roc_auc_score([l for _, l in pairs], [s for s, _ in pairs])
        rep.check("AUC of the merged windows = scikit-learn on the committed pairs",
                  auc_db is not None and abs(auc_db - auc_ref) < 1e-12, "%r vs %r" % (auc_db, auc_ref))
        # A second refresh changes nothing.
        before = conn.execute("SELECT md5(string_agg(w::text, ',' ORDER BY bucket)) FROM"
                              " (SELECT bucket, predictions, labels, ml_metric_state_bytes(metric_state)"
                              " FROM ml_monitor_windows WHERE model_name = 'conc') w").fetchone()[0]
        again = conn.execute("SELECT ml_monitor_refresh()").fetchone()[0]
        after = conn.execute("SELECT md5(string_agg(w::text, ',' ORDER BY bucket)) FROM"
                             " (SELECT bucket, predictions, labels, ml_metric_state_bytes(metric_state)"
                             " FROM ml_monitor_windows WHERE model_name = 'conc') w").fetchone()[0]
        rep.check("refreshing again changes nothing", again == 0 and before == after)
        if rep.failed:
            print(cluster.server_log_tail())
    rep.exit()


if __name__ == "__main__":
    main()
