"""pg_learn benchmarks of partitioned tables (issue 12, item 4): each figure is a ratio against a
baseline measured in the same run.

Run through `bash bench/run partitioned` (as root): a throwaway PostgreSQL 15 cluster run as the
postgres user, one line per figure (bench/benchlib.py: name, baseline ms, ours ms, ratio, target,
verdict). Two databases: one whose prediction log stays as created, one whose log is
partitioned by day (ml_partition_log('1 day') while empty, then daily partitions of the past
made as the daily ml_prune_log would have made them).

    bash bench/run partitioned                                # 10^7 log rows (the issue's figure)
    BENCH_LOG_ROWS=1000000 bash bench/run partitioned         # 10^6 log rows
    python3 bench/partitioned.py --quick                      # 10^6 log rows, 2,000 INSERTs per client

Environment:
    BENCH_LOG_ROWS   log rows before the prune (default 10,000,000; --quick: 1,000,000), spread
                     evenly over the last 40 days: ml_prune_log('30 days') removes a quarter
    BENCH_INSERTS    INSERTs per pgbench client and run (default 10,000; --quick: 2,000)
    BENCH_CLIENTS    pgbench clients (default 4)
    BENCH_PORT, BENCH_RUNS, PGL_PG_BIN   see benchlib.py and common.py

Figures:
1. `ml_prune_log('30 days')` over BENCH_LOG_ROWS log rows: the partitioned log (10 whole days
   dropped with DETACH PARTITION + DROP TABLE, rows deleted only in the day the cutoff falls
   in) vs the unpartitioned log (every old row locked and deleted, then VACUUM's work left).
   One run each (a prune is destructive; rebuilding 10^7 rows per run would dominate).
   Checked: both logs keep the same number of rows. No target; the ratio is printed.
2. INSERT into an attached table partitioned by day (rows in today's partition; 8 partitions)
   vs the same INSERT into an attached plain table: pgbench, BENCH_CLIENTS clients, one
   single-row INSERT per transaction, synchronous_commit off. Target: at most 1.3x.
3. INSERT into an attached plain table whose log is partitioned vs the same with the log as
   created (the cost of logging into a partitioned log). No target.
4. BENCH_LABELS (default 20,000) labels arriving (one UPDATE of the label column of the rows
   the INSERTs scored) with the log partitioned (about 45 partitions left after the prune) vs
   not: the cost of finding predictions without the partition key. One run each; no target.
   Checked: every label queued and learned once. Then ml_learn_pending of those labels, the
   same comparison.
5. `ml_monitor_refresh` of the events the INSERTs and labels queued, the log partitioned vs not
   (the refresh finds each event's log row by prediction_id), per 1,000 events (the two
   databases had different INSERTs). One run each; no target.

It is a benchmark, not a test: it exits 0 when a figure is over its target, non-zero only when
something fails.
"""

import copy
import os
import sys
import time

from benchlib import PORT, SETTINGS, Cluster, Table, log, run_main

import common
from feedback import alternate, pgbench

QUICK = "--quick" in sys.argv[1:]
LOG_ROWS = int(os.environ.get("BENCH_LOG_ROWS", "1000000" if QUICK else "10000000"))
INSERTS = int(os.environ.get("BENCH_INSERTS", "2000" if QUICK else "10000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
LABELS = int(os.environ.get("BENCH_LABELS", "20000"))
DAYS = 40

MODEL = """
SELECT ml_register('bench', ml_fit_one('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}',
                                       '{"f1": 0.5, "f2": -0.5, "f3": 0.25}'::jsonb, 1));
SELECT ml_deploy('bench', 1);
"""

TABLES = """
CREATE TABLE ev_plain (id bigserial, at timestamptz NOT NULL DEFAULT now(), f1 float8, f2 float8,
                       f3 float8, p float8, y float8, PRIMARY KEY (id, at));
CREATE TABLE ev_part (LIKE ev_plain INCLUDING DEFAULTS) PARTITION BY RANGE (at);
ALTER TABLE ev_part ADD PRIMARY KEY (id, at);
CREATE TABLE ev_old (LIKE ev_plain);   -- the table the filled log rows name
"""

INSERT_SCRIPT = "\n".join(
    ["\\set %s random(-1000000, 1000000)" % f for f in ("f1", "f2", "f3")]
    + ["INSERT INTO %s (f1, f2, f3) VALUES (:f1 / 1000000.0, :f2 / 1000000.0, :f3 / 1000000.0);"]
) + "\n"

# The log rows: BENCH_LOG_ROWS predictions spread over the last DAYS days, as the triggers log
# them (three features, a score, a third of them labelled and learned).
FILL = """
INSERT INTO ml_prediction_log (model_name, version, variant, served, table_name, key, predicted_at,
                               score, features, label, labeled_at, learned_at)
SELECT 'bench', 1, 'production', true, 'ev_old'::regclass, g::text,
       now() - %(days)s * interval '1 day' + (g - 0.5) * (%(days)s * interval '1 day') / %(n)s,
       0.5, jsonb_build_object('f1', g %% 1000, 'f2', 0.5, 'f3', -0.25),
       CASE WHEN g %% 3 = 0 THEN 1 END, CASE WHEN g %% 3 = 0 THEN now() END,
       CASE WHEN g %% 3 = 0 THEN now() END
FROM generate_series(1, %(n)s::bigint) g
"""


def setup_db(admin, name, partitioned):
    admin.execute("CREATE DATABASE %s" % name)
    c = copy.copy(admin_cluster)      # the same server, another database
    c.dbname = name
    c.conn = None
    conn = c.connect()
    conn.execute("CREATE EXTENSION pg_learn")
    conn.execute(MODEL)
    conn.execute(TABLES)
    # 8 daily partitions: the last 3 days, today, the next 4
    for d in range(-3, 5):
        conn.execute("CREATE TABLE ev_part_%d PARTITION OF ev_part FOR VALUES FROM "
                     "(date_trunc('day', now()) + %d * interval '1 day') TO "
                     "(date_trunc('day', now()) + %d * interval '1 day')"
                     % (d + 3, d, d + 1))
    if partitioned:
        made = conn.execute("SELECT ml_partition_log('1 day')").fetchone()[0]
        # the past days' partitions, as the daily prune would have created them
        for d in range(DAYS + 1, 0, -1):
            conn.execute("CREATE TABLE ml_prediction_log_past_%d PARTITION OF ml_prediction_log "
                         "FOR VALUES FROM (date_bin('1 day', now(), '2000-01-01') - %d * interval '1 day') "
                         "TO (date_bin('1 day', now(), '2000-01-01') - %d * interval '1 day')"
                         % (d, d, d - 1))
        log("%s: log partitioned by day (%d partitions made, %d of the past)" % (name, made, DAYS + 1))
    return c, conn


admin_cluster = None


def fill_log(conn, name):
    t0 = time.perf_counter()
    conn.execute(FILL % {"n": LOG_ROWS, "days": DAYS})
    # (as if rolled up long ago: the prune's own refresh finds nothing to do on either side)
    conn.execute("TRUNCATE ml_monitor_inbox")
    conn.execute("VACUUM ANALYZE ml_prediction_log")
    conn.execute("CHECKPOINT")
    log("%s: %d log rows in %.1fs" % (name, LOG_ROWS, time.perf_counter() - t0))


def fig_prune(tab, plain, part):
    counts = []
    times = []
    for conn in (plain, part):
        # (one transaction: the count of old rows and the prune see the same now())
        with conn.transaction():
            before, old = conn.execute("SELECT count(*), count(*) FILTER (WHERE predicted_at < now() - "
                                       "interval '30 days') FROM ml_prediction_log").fetchone()
            t0 = time.perf_counter()
            pruned = conn.execute("SELECT ml_prune_log('30 days')").fetchone()[0]
            times.append((time.perf_counter() - t0) * 1000.0)
        after = conn.execute("SELECT count(*) FROM ml_prediction_log").fetchone()[0]
        if before - after != pruned or pruned != old:
            raise RuntimeError("ml_prune_log returned %d, %d rows went, %d were old" % (pruned, before - after, old))
        counts.append((pruned, after))
    if abs(counts[0][0] - counts[1][0]) > LOG_ROWS // 1000:
        raise RuntimeError("pruned/kept differ: unpartitioned %r, partitioned %r" % tuple(counts))
    parts = part.execute("SELECT count(*) FROM _ml_log_partitions()").fetchone()[0]
    tab.add("ml_prune_log partitioned vs plain", times[0], times[1], None,
            "%d log rows over %d days, %d pruned (%.0f%%), one run each; %d partitions left"
            % (LOG_ROWS, DAYS, counts[0][0], 100.0 * counts[0][0] / LOG_ROWS, parts))
    print("ml_prune_log over %d rows: unpartitioned %.0f ms, partitioned %.0f ms, ratio %.3f "
          "(%.1fx faster)" % (LOG_ROWS, times[0], times[1], times[1] / times[0], times[0] / times[1]),
          flush=True)


def fig_insert(tab, c_plain, c_part, plain, part):
    for conn in (plain, part):
        conn.execute("ALTER SYSTEM SET synchronous_commit = off")
        conn.execute("SELECT pg_reload_conf()")
    try:
        for conn in (plain, part):
            for t in ("ev_plain", "ev_part"):
                conn.execute("SELECT ml_attach('%s', 'bench', key => 'id', prediction => 'p', label => 'y', "
                             "features => ARRAY['f1', 'f2', 'f3'])" % t)
        b, o = alternate(lambda: pgbench(c_plain, INSERT_SCRIPT % "ev_plain", CLIENTS, INSERTS),
                         lambda: pgbench(c_plain, INSERT_SCRIPT % "ev_part", CLIENTS, INSERTS))
        tab.add("INSERT attached: partitioned vs plain", b, o, 1.3,
                "pgbench %d clients x %d single-row INSERTs, synchronous_commit off, %.0f vs %.0f rows/s"
                % (CLIENTS, INSERTS, CLIENTS * INSERTS / b * 1000, CLIENTS * INSERTS / o * 1000))
        b, o = alternate(lambda: pgbench(c_plain, INSERT_SCRIPT % "ev_plain", CLIENTS, INSERTS),
                         lambda: pgbench(c_part, INSERT_SCRIPT % "ev_plain", CLIENTS, INSERTS))
        tab.add("INSERT attached: partitioned log vs plain", b, o, None,
                "the same INSERTs into a plain attached table, the log partitioned by day vs not")
        for conn, name in ((plain, "log as created"), (part, "partitioned log")):
            rows = conn.execute("SELECT (SELECT count(*) FROM ev_plain) + (SELECT count(*) FROM ev_part), "
                                "(SELECT count(p) FROM ev_plain) + (SELECT count(p) FROM ev_part), "
                                "(SELECT count(*) FROM ml_prediction_log WHERE table_name IN "
                                "('ev_plain'::regclass, 'ev_part'::regclass))").fetchone()
            if not (rows[0] == rows[1] == rows[2]):
                raise RuntimeError("%s: %d rows, %d scored, %d logged" % ((name,) + rows))
    finally:
        for conn in (plain, part):
            conn.execute("ALTER SYSTEM RESET synchronous_commit")
            conn.execute("SELECT pg_reload_conf()")


def fig_labels(tab, plain, part):
    # Labels arriving for rows scored by the INSERT figures (their predictions in today's
    # partition): the UPDATE joins each to its prediction (by table and key, then by id: every
    # partition's index is probed) and queues it.
    n = min(LABELS, *(conn.execute("SELECT count(*) FROM ev_plain WHERE y IS NULL").fetchone()[0]
                      for conn in (plain, part)))
    times, learn = [], []
    for conn in (plain, part):
        # (autovacuum is off here: what it would have done since the INSERTs)
        conn.execute("VACUUM ANALYZE ev_plain")
        conn.execute("ANALYZE ml_prediction_log")
        lo, hi = conn.execute("SELECT min(id), max(id) FROM (SELECT id FROM ev_plain WHERE y IS NULL "
                              "ORDER BY id LIMIT %s) s", (n,)).fetchone()
        t0 = time.perf_counter()
        conn.execute("UPDATE ev_plain SET y = (f1 > 0)::int WHERE id BETWEEN %s AND %s AND y IS NULL",
                     (lo, hi))
        times.append((time.perf_counter() - t0) * 1000.0)
        queued = conn.execute("SELECT ml_pending_labels()").fetchone()[0]
        t0 = time.perf_counter()
        learned = conn.execute("SELECT ml_learn_pending(max_rows => %s)", (2 * n,)).fetchone()[0]
        learn.append((time.perf_counter() - t0) * 1000.0)
        if queued != n or learned != n:
            raise RuntimeError("%d labels: %d queued, %d learned" % (n, queued, learned))
    parts = part.execute("SELECT count(*) FROM _ml_log_partitions()").fetchone()[0]
    tab.add("labels arriving: partitioned log vs plain", times[0], times[1], None,
            "%d labels (UPDATE of the label column), log of %d partitions vs one table; one run each"
            % (n, parts))
    tab.add("ml_learn_pending: partitioned log vs plain", learn[0], learn[1], None,
            "the same %d labels learned (a partitioned log's row found in its partition by the "
            "queue's predicted_at); one run each" % n)


def fig_refresh(tab, plain, part):
    # The monitoring refresh joins each inbox event (the INSERTs' predictions and the labels) to
    # its log row by prediction_id alone: with a partitioned log, every partition is probed.
    times, events = [], []
    for conn in (plain, part):
        t0 = time.perf_counter()
        events.append(conn.execute("SELECT ml_monitor_refresh()").fetchone()[0])
        times.append((time.perf_counter() - t0) * 1000.0)
    if min(events) == 0:
        raise RuntimeError("ml_monitor_refresh rolled up %d and %d events" % tuple(events))
    # (the two databases had different INSERTs: compared per 1,000 events)
    per = [t * 1000.0 / e for t, e in zip(times, events)]
    tab.add("refresh per 1000 events: part. vs plain", per[0], per[1], None,
            "ml_monitor_refresh of %d vs %d events (predictions and labels); one run each" % tuple(events))


def main():
    global admin_cluster
    cluster = Cluster(port=PORT, settings=dict(SETTINGS), create_extension=False)
    admin_cluster = cluster
    try:
        admin = cluster.start()
        ver = admin.execute("SELECT current_setting('server_version')").fetchone()[0]
        log("PostgreSQL %s; %d log rows%s" % (ver, LOG_ROWS, " (--quick)" if QUICK else ""))
        c_plain, plain = setup_db(admin, "bench_plain", False)
        c_part, part = setup_db(admin, "bench_part", True)
        for conn, name in ((plain, "bench_plain"), (part, "bench_part")):
            fill_log(conn, name)
        tab = Table()
        fig_prune(tab, plain, part)
        fig_insert(tab, c_plain, c_part, plain, part)
        fig_labels(tab, plain, part)
        fig_refresh(tab, plain, part)
        tab.summary()
        plain.close()
        part.close()
    finally:
        cluster.stop()


if __name__ == "__main__":
    run_main(main)
