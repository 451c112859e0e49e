"""No label lost or applied twice when learning rolls back, is cancelled, or the server dies
(docs/feedback.md).

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_feedback_crash.py
(a throwaway cluster is started as postgres; PGL_TEST_DSN cannot be used: the test kills the
server). FEEDBACK_CRASH_ROWS changes the size of the big queue (default 60,000).

Two attached tables, labels arriving as UPDATEs of the label column:
- big (model crash_m): FEEDBACK_CRASH_ROWS rows, all labelled before learning starts, learned
  by three concurrent learners in small batches;
- seq (model crash_r): 20,000 rows learned by one learner at a time, so the model must end
  up exactly as ml_fit replaying the logged features and labels in prediction_id order from the
  registered starting model (each label once, in order, with the features as scored).

Checks:
- rollback_*: ml_learn_pending in a transaction that rolls back, and one cancelled by
  statement_timeout, change nothing (queue, log, n_seen).
- backend_kill_*: a learner's backend gets SIGKILL while it runs ml_learn_pending (the
  postmaster then resets every session and recovers); afterwards, for each model, n_seen equals
  the labels marked learned, and queued + learned equals labelled.
- server_kill_*: the postmaster and all its processes get SIGKILL while learners run, then the
  server is started again (crash recovery): the same invariant holds.
- final_*: learning is finished; n_seen equals labels applied exactly, the queue is empty,
  every labelled log row has learned_at, and the sequentially learned model equals the replay.
"""

import os
import sys
import threading
import time

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Reporter, one_line, start_cluster  # noqa: E402

ROWS = int(os.environ.get("FEEDBACK_CRASH_ROWS", "60000"))
SEQ_ROWS = 20000

SETUP = """
CREATE TABLE big (id bigint PRIMARY KEY, f1 float8, f2 float8, p float8, y float8);
CREATE TABLE seq (id bigint PRIMARY KEY, f1 float8, f2 float8, c text, p float8, y float8);
CREATE TABLE start_models (name text PRIMARY KEY, m ml_model);
INSERT INTO start_models VALUES
    ('crash_m', '{"model": "linear_regression"}'),
    ('crash_r', '{"model": "logistic_regression", "optimizer": "adam", "l2": 0.001}');
SELECT ml_register(name, m) FROM start_models ORDER BY name;
SELECT ml_deploy('crash_m', 1), ml_deploy('crash_r', 1);
SELECT ml_attach('big', 'crash_m', key => 'id', prediction => 'p', label => 'y',
                 features => ARRAY['f1', 'f2']);
SELECT ml_attach('seq', 'crash_r', key => 'id', prediction => 'p', label => 'y',
                 features => ARRAY['f1', 'f2', 'c']);
"""


def fill(conn):
    for lo in range(1, ROWS + 1, 10000):
        conn.execute("INSERT INTO big (id, f1, f2) SELECT g, sin(g), cos(g * 0.37) "
                     "FROM generate_series(%s::bigint, %s::bigint) g", (lo, min(lo + 9999, ROWS)))
    conn.execute("INSERT INTO seq (id, f1, f2, c) SELECT g, sin(g * 0.9), cos(g * 0.11), "
                 "'c' || (g %% 5) FROM generate_series(1, %s::bigint) g", (SEQ_ROWS,))
    # the labels arrive after the predictions, out of key order, in a few transactions
    for r in range(4):
        conn.execute("UPDATE big SET y = 3 * f1 - f2 + 0.5 WHERE id %% 4 = %s", (r,))
        conn.execute("UPDATE seq SET y = (f1 + f2 > 0.2)::int WHERE id %% 4 = %s", (3 - r,))


def state(conn):
    """Per model: (n_seen, labelled, learned, queued)."""
    out = {}
    for name, seen in conn.execute(
            "SELECT name, (ml_info(model)->>'n_seen')::bigint FROM ml_models "
            "WHERE name IN ('crash_m', 'crash_r') AND version = 1"):
        labelled, learned = conn.execute(
            "SELECT count(label), count(learned_at) FROM ml_prediction_log WHERE model_name = %s",
            (name,)).fetchone()
        queued = conn.execute("SELECT count(*) FROM ml_label_queue WHERE model_name = %s",
                              (name,)).fetchone()[0]
        out[name] = (seen, labelled, learned, queued)
    return out


def consistent(st):
    return all(seen == learned and learned + queued == labelled
               for seen, labelled, learned, queued in st.values())


def describe(st):
    return "; ".join("%s: n_seen %d, labelled %d, learned %d, queued %d" % ((k,) + v)
                     for k, v in sorted(st.items()))


def log_digest(conn):
    return conn.execute("SELECT count(*), count(label), count(learned_at), "
                        "md5(string_agg(prediction_id || ':' || coalesce(label::text, '') || ':' "
                        "|| coalesce(learned_at::text, ''), ',' ORDER BY prediction_id)) "
                        "FROM ml_prediction_log").fetchone()


def rollbacks(cluster, rep):
    c = cluster.connect()
    before, digest = state(c), log_digest(c)
    c.execute("BEGIN")
    n = c.execute("SELECT ml_learn_pending(NULL, 5000)").fetchone()[0]
    inside = state(c)
    c.execute("ROLLBACK")
    after, digest2 = state(c), log_digest(c)
    rep.check("rollback_changes_nothing",
              n > 0 and inside != before and after == before and digest2 == digest,
              "applied %d inside the transaction (%s); after ROLLBACK: %s"
              % (n, describe(inside), describe(after)))

    c.execute("BEGIN")
    c.execute("SET LOCAL statement_timeout = '150ms'")
    try:
        n = c.execute("SELECT ml_learn_pending(NULL, 1000000)").fetchone()[0]
        how = "finished (%d applied) and rolled back" % n
        c.execute("ROLLBACK")
    except psycopg.errors.QueryCanceled:
        how = "cancelled by statement_timeout"
        c.execute("ROLLBACK")
    after, digest3 = state(c), log_digest(c)
    rep.check("rollback_cancelled_changes_nothing", after == before and digest3 == digest,
              "learning %s: %s" % (how, describe(after)))
    c.close()


def learners(cluster, specs, stop):
    """Starts one thread per (model, max_rows); each runs ml_learn_pending until nothing is
    queued for its model, the connection dies, or stop is set. Returns (threads, info) where info[i] holds the
    backend pid, labels applied and the ending."""
    info = [{"pid": None, "applied": 0, "end": None} for _ in specs]

    def run(i, model, max_rows):
        try:
            c = cluster.connect()
            info[i]["pid"] = c.info.backend_pid
            while not stop.is_set():
                n = c.execute("SELECT ml_learn_pending(%s, %s)", (model, max_rows)).fetchone()[0]
                info[i]["applied"] += n
                # 0 also when another learner holds the version: stop only when nothing is left
                if n == 0:
                    if c.execute("SELECT ml_pending_labels(%s)", (model,)).fetchone()[0] == 0:
                        info[i]["end"] = "queue empty"
                        break
                    time.sleep(0.005)
            c.close()
        except psycopg.OperationalError as e:
            info[i]["end"] = "connection lost: " + one_line(e)[:80]
        except psycopg.Error as e:
            info[i]["end"] = "ERROR " + one_line(e)

    threads = [threading.Thread(target=run, args=(i, m, k), daemon=True)
               for i, (m, k) in enumerate(specs)]
    for t in threads:
        t.start()
    return threads, info


def wait_learned(cluster, name, at_least, timeout=120):
    c = cluster.connect()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            n = c.execute("SELECT count(learned_at) FROM ml_prediction_log WHERE model_name = %s",
                          (name,)).fetchone()[0]
            if n >= at_least:
                return n
            time.sleep(0.01)
        return None
    finally:
        c.close()


SPECS = [("crash_m", 300), ("crash_m", 300), ("crash_m", 500), ("crash_r", 60)]


def backend_kill(cluster, rep):
    stop = threading.Event()
    threads, info = learners(cluster, SPECS, stop)
    reached = wait_learned(cluster, "crash_m", ROWS // 5)
    watcher = cluster.connect()
    victim = None
    for _ in range(500):
        pids = [i["pid"] for i in info[:3] if i["pid"]]
        rows = watcher.execute(
            "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s) AND state = 'active' "
            "AND query LIKE '%%ml_learn_pending%%'", (pids,)).fetchall()
        if rows:
            victim = rows[0][0]
            os.kill(victim, 9)
            break
        time.sleep(0.002)
    watcher.close()
    for t in threads:
        t.join(60)
    stop.set()
    c = cluster.wait_ready()
    st = state(c)
    c.close()
    m = st["crash_m"]
    mid = 0 < m[2] < m[1]
    rep.check("backend_kill_mid_learning", victim is not None and reached is not None and mid,
              "killed backend %s of a running ml_learn_pending after %s labels were learned; "
              "learners: %s" % (victim, reached, ", ".join(i["end"] or "?" for i in info)))
    rep.check("backend_kill_consistent", consistent(st), describe(st))


def server_kill(cluster, rep):
    before = state(cluster.connect())
    stop = threading.Event()
    threads, info = learners(cluster, SPECS, stop)
    target = before["crash_m"][2] + (before["crash_m"][1] - before["crash_m"][2]) // 3
    reached = wait_learned(cluster, "crash_m", target)
    c = cluster.connect()
    active = c.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                       "AND query LIKE 'SELECT ml_learn_pending%%'").fetchone()[0]
    c.close()
    pm = cluster.kill_server()
    for t in threads:
        t.join(60)
    stop.set()
    t0 = time.perf_counter()
    cluster.restart()
    t_restart = time.perf_counter() - t0
    st = state(cluster.conn)
    m = st["crash_m"]
    rep.check("server_kill_mid_learning",
              reached is not None and active > 0 and m[2] < m[1],
              "SIGKILL of postmaster %d and its processes with %d learners running, after %s "
              "labels learned; restarted in %.1fs" % (pm, active, reached, t_restart))
    rep.check("server_kill_consistent", consistent(st), describe(st))


def finish(cluster, rep):
    conn = cluster.conn
    applied = 0
    for _ in range(1000):
        applied += conn.execute("SELECT ml_learn_pending(NULL, 10000)").fetchone()[0]
        if conn.execute("SELECT ml_pending_labels()").fetchone()[0] == 0:
            break
    st = state(conn)
    exact = all(seen == labelled == learned and queued == 0
                for seen, labelled, learned, queued in st.values())
    rep.check("final_examples_seen_equal_labels",
              exact and st["crash_m"][1] == ROWS and st["crash_r"][1] == SEQ_ROWS,
              "%s (finished with %d more)" % (describe(st), applied))
    left = conn.execute("SELECT count(*) FROM ml_label_queue").fetchone()[0]
    unlearned = conn.execute("SELECT count(*) FROM ml_prediction_log "
                             "WHERE label IS NOT NULL AND learned_at IS NULL").fetchone()[0]
    rep.check("final_queue_empty", left == 0 and unlearned == 0,
              "queue %d, labelled but unlearned %d" % (left, unlearned))
    # the sequentially learned model against the replay of its log
    ours, replay = conn.execute("""
        SELECT (SELECT ml_info(model) FROM ml_models WHERE name = 'crash_r' AND version = 1),
               ml_info(ml_fit((SELECT m FROM start_models WHERE name = 'crash_r'), l.features,
                              l.label ORDER BY l.prediction_id))
        FROM ml_prediction_log l WHERE l.model_name = 'crash_r' AND l.label IS NOT NULL
    """).fetchone()
    worst = 0.0
    names = set(ours["weights"]) | set(replay["weights"])
    for k in names:
        a, b = ours["weights"].get(k), replay["weights"].get(k)
        if a is None or b is None:
            worst = float("inf")
            break
        worst = max(worst, abs(a - b))
    worst = max(worst, abs(ours["intercept"] - replay["intercept"]))
    rep.check("final_model_equals_replay",
              ours["n_seen"] == replay["n_seen"] == SEQ_ROWS and worst <= 1e-12,
              "n_seen %d vs replay %d; max |weight difference| %.3g over %d weights"
              % (ours["n_seen"], replay["n_seen"], worst, len(names)))


def main():
    rep = Reporter()
    if os.environ.get("PGL_TEST_DSN"):
        rep.fail("cluster_start", "this test kills the server: unset PGL_TEST_DSN")
        rep.exit()
    cluster, conn = start_cluster(rep, settings={"deadlock_timeout": "100ms"})
    try:
        conn.execute(SETUP)
        t0 = time.perf_counter()
        fill(conn)
        print("# %d + %d rows inserted and labelled in %.1fs"
              % (ROWS, SEQ_ROWS, time.perf_counter() - t0), flush=True)
        for name, fn in (("rollback", rollbacks), ("backend_kill", backend_kill),
                         ("server_kill", server_kill), ("final", finish)):
            t0 = time.perf_counter()
            try:
                fn(cluster, rep)
            except Exception as e:  # noqa: BLE001
                rep.fail(name, "error: " + one_line(e))
                if cluster.conn is None or cluster.conn.closed:
                    try:
                        cluster.conn = cluster.wait_ready()
                    except Exception:  # noqa: BLE001
                        break
            print("# %s: %.1fs" % (name, time.perf_counter() - t0), flush=True)
    except Exception as e:  # noqa: BLE001
        rep.fail("feedback_crash", "error: " + one_line(e))
        tail = cluster.server_log_tail(15)
        if tail:
            print("# server log:\n# " + tail.replace("\n", "\n# "), flush=True)
    finally:
        cluster.stop()
    rep.exit()


if __name__ == "__main__":
    main()
