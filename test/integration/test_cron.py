"""pg_cron for real: a scheduled ml_learn_pending and a scheduled batch-scoring UPDATE
(docs/feedback.md, "Scheduling with pg_cron").

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_cron.py
(a throwaway cluster is started as postgres with shared_preload_libraries = 'pg_cron'; needs
Debian's postgresql-15-cron; PGL_TEST_DSN cannot be used).

pg_cron 1.4 (Debian 12) schedules by the minute at the finest, so the test waits for the next
minute boundary twice (about two minutes in all). Jobs run in background workers
(cron.use_background_workers = on), which needs no password for a localhost connection.

Checks:
- cron_extension: pg_cron loads and the two jobs are scheduled with the calls the README shows.
- cron_learn_ran / cron_score_ran: each job ran and succeeded (cron.job_run_details).
- cron_learn_did_work: after the run, the queue is empty and n_seen equals the labels.
- cron_score_did_work: every row the UPDATE selected is scored, with the deployed version's
  score (compared with ml_predict_one(ml_get(...)) of the same features).
- cron_second_run_*: new rows, new labels and a new deployed version are picked up by a later
  run of the same jobs (they are periodic, and use what is deployed when they run).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Reporter, one_line, start_cluster  # noqa: E402

SETTINGS = {
    "shared_preload_libraries": "pg_cron",
    "cron.database_name": "postgres",
    "cron.use_background_workers": "on",
    "max_worker_processes": "16",
}

SETUP = """
CREATE EXTENSION pg_cron;
CREATE TABLE tx (id bigint PRIMARY KEY, f1 float8, f2 float8, p float8, y float8);
CREATE TABLE customers (id bigint PRIMARY KEY, f1 float8, f2 float8, score float8);
SELECT ml_register('fraud', '{"model": "logistic_regression"}');
SELECT ml_deploy('fraud', 1);
SELECT ml_attach('tx', 'fraud', key => 'id', prediction => 'p', label => 'y',
                 features => ARRAY['f1', 'f2']);
SELECT ml_register('churn', ml_fit('{"model": "logistic_regression"}',
                                   jsonb_build_object('f1', f1, 'f2', f2), (f1 > f2)::int ORDER BY g))
FROM (SELECT g, sin(g) AS f1, cos(g * 0.3) AS f2 FROM generate_series(1, 2000) g) d;
SELECT ml_deploy('churn', 1);
"""

# What the README shows (docs/feedback.md): learn what has arrived every minute, score new rows.
SCHEDULE_LEARN = ("SELECT cron.schedule('pg_learn-learn', '* * * * *', "
                  "$$SELECT ml_learn_pending()$$)")
SCHEDULE_SCORE = ("SELECT cron.schedule('pg_learn-score', '* * * * *', "
                  "$$UPDATE customers c SET score = ml_predict('churn', c) WHERE score IS NULL$$)")


def add_rows(conn, lo, hi):
    conn.execute("INSERT INTO tx (id, f1, f2) SELECT g, sin(g * 1.7), cos(g) "
                 "FROM generate_series(%s::bigint, %s::bigint) g", (lo, hi))
    conn.execute("UPDATE tx SET y = (f1 + f2 > 0)::int WHERE id BETWEEN %s AND %s", (lo, hi))
    conn.execute("INSERT INTO customers (id, f1, f2) SELECT g, sin(g * 0.7), cos(g * 0.9) "
                 "FROM generate_series(%s::bigint, %s::bigint) g", (lo * 10, hi * 10))


def wait_runs(conn, after_runid, timeout=150):
    """Waits until both jobs have a finished run with runid > after_runid; returns
    {jobname: (runid, status, return_message)} of their latest finished runs (or what there
    is at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = conn.execute("""
            SELECT DISTINCT ON (j.jobname) j.jobname, d.runid, d.status, d.return_message
            FROM cron.job j JOIN cron.job_run_details d ON d.jobid = j.jobid
            WHERE d.runid > %s AND d.status IN ('succeeded', 'failed')
            ORDER BY j.jobname, d.runid DESC""", (after_runid,)).fetchall()
        got = {r[0]: r[1:] for r in rows}
        if len(got) == 2 or time.monotonic() > deadline:
            return got
        time.sleep(1)


def check_work(conn, rep, prefix, labels_expected, scored):
    """scored: (version, first id, last id) of the customers each version should have scored."""
    seen = conn.execute("SELECT (ml_info(model)->>'n_seen')::bigint FROM ml_models "
                        "WHERE name = 'fraud' AND version = 1").fetchone()[0]
    queued = conn.execute("SELECT count(*) FROM ml_label_queue").fetchone()[0]
    rep.check(prefix + "learn_did_work", seen == labels_expected and queued == 0,
              "n_seen %d (want %d), queued %d" % (seen, labels_expected, queued))
    parts, ok = [], True
    for version, lo, hi in scored:
        unscored, wrong, total = conn.execute("""
            SELECT count(*) FILTER (WHERE score IS NULL),
                   count(*) FILTER (WHERE abs(score - ml_predict_one(ml_get('churn', %s),
                                             jsonb_build_object('f1', f1, 'f2', f2))) > 1e-12),
                   count(*)
            FROM customers WHERE id BETWEEN %s AND %s""", (version, lo, hi)).fetchone()
        ok = ok and unscored == 0 and wrong == 0 and total > 0
        parts.append("ids %d..%d: %d rows, %d unscored, %d not scored as version %d would"
                     % (lo, hi, total, unscored, wrong, version))
    rep.check(prefix + "score_did_work", ok, "; ".join(parts))


def run(cluster, rep):
    conn = cluster.conn
    conn.execute(SETUP)
    ver = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'").fetchone()[0]
    add_rows(conn, 1, 3000)
    queued = conn.execute("SELECT count(*) FROM ml_label_queue").fetchone()[0]
    j1 = conn.execute(SCHEDULE_LEARN).fetchone()[0]
    j2 = conn.execute(SCHEDULE_SCORE).fetchone()[0]
    rep.check("cron_extension", j1 is not None and j2 is not None and queued == 3000,
              "pg_cron %s, jobs %s and %s scheduled, %d labels queued" % (ver, j1, j2, queued))

    t0 = time.perf_counter()
    runs = wait_runs(conn, 0)
    waited = time.perf_counter() - t0
    for job, name in (("pg_learn-learn", "cron_learn_ran"), ("pg_learn-score", "cron_score_ran")):
        r = runs.get(job)
        rep.check(name, r is not None and r[1] == "succeeded",
                  "after %.0fs: %s" % (waited, ("run %d %s: %s" % r) if r else "no finished run"))
    check_work(conn, rep, "cron_", 3000, [(1, 10, 30000)])

    # a second round: more rows and labels, and a new version of the scoring model
    last = max([r[0] for r in runs.values()] or [0])
    conn.execute("SELECT ml_register('churn', ml_fit_one(ml_get('churn'), "
                 "'{\"f1\": 1, \"f2\": -1}'::jsonb, 0))")
    conn.execute("SELECT ml_deploy('churn', 2)")
    add_rows(conn, 3001, 3500)
    t0 = time.perf_counter()
    runs = wait_runs(conn, last)
    waited = time.perf_counter() - t0
    ok = all(runs.get(j) and runs[j][1] == "succeeded" for j in ("pg_learn-learn",
                                                                  "pg_learn-score"))
    rep.check("cron_second_run_ran", ok, "after %.0fs: %s" % (waited, runs))
    # the rows scored in round 1 keep version 1's scores; the new ones have version 2's
    check_work(conn, rep, "cron_second_run_", 3500, [(1, 10, 30000), (2, 30010, 35000)])
    conn.execute("SELECT cron.unschedule('pg_learn-learn'), cron.unschedule('pg_learn-score')")


def main():
    rep = Reporter()
    if os.environ.get("PGL_TEST_DSN"):
        rep.fail("cluster_start", "this test needs its own cluster with pg_cron preloaded")
        rep.exit()
    cluster, _ = start_cluster(rep, settings=SETTINGS)
    try:
        run(cluster, rep)
    except Exception as e:  # noqa: BLE001
        rep.fail("cron", "error: " + one_line(e))
        tail = cluster.server_log_tail(15)
        if tail:
            print("# server log:\n# " + tail.replace("\n", "\n# "), flush=True)
    finally:
        cluster.stop()
    rep.exit()


if __name__ == "__main__":
    main()
