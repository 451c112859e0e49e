"""pg_learn benchmarks of the registry and the feedback loop (issue 4): each figure is a ratio
against a baseline measured in the same run.

Run through `bash bench/run feedback` (as root): a throwaway PostgreSQL 15 cluster run as the
postgres user, one line per figure (bench/benchlib.py: medians of alternating runs, name,
baseline ms, ours ms, ratio, target, verdict).

Environment:
    BENCH_ROWS            rows of the batch-scoring table (default 1,000,000)
    BENCH_INSERTS         INSERTs per pgbench client and run (default 10,000)
    BENCH_CLIENTS         pgbench clients (default 4, two pgbench threads)
    BENCH_CALLS           ml_predict statements per pgbench client and run (default 20,000)
    BENCH_LABELS          labels per learning run (default 50,000)
    BENCH_PORT, BENCH_RUNS, PGL_TEST_DSN, PGL_PG_BIN   see benchlib.py and common.py

Figures:
1. INSERT into an attached table (BEFORE trigger scores the row into its prediction column
   and logs the prediction with its features) vs the same INSERT into an identical plain
   table: pgbench, BENCH_CLIENTS clients, one single-row INSERT per transaction. First with
   synchronous_commit = off, so that the WAL flush of each commit (the same on both sides)
   does not hide the trigger's cost, then with the default (on; half the INSERTs). Target: at
   most 1.5x.
2. `SELECT ml_predict('m', x)`, one statement per call (pgbench -M prepared, 2 clients), vs
   `SELECT ml_predict_one(<model literal>, x)` (the literal is parsed once, at prepare time):
   the cost of resolving the name through the registry and the backend cache on every
   statement. Target: within 1.2x.
3. The same inside one query over BENCH_ROWS rows: `sum(ml_predict('m', x))` vs
   `sum(ml_predict_one(<literal>, x))`. Target: within 1.2x.
4. The first ml_predict of a new session vs one detoast + decode of the same stored model in a
   new session (`ml_predict_one(model, x) FROM ml_models WHERE ...`), with a model of 2^18
   weights so that the decode dominates; ml_registry_cache() must show exactly one resolve and
   one decode after it. Target: within 1.2x.
5. Batch scoring: `UPDATE t SET p = ml_predict('m', t)` (a row, features by column name) vs
   `UPDATE t SET p = 0` over BENCH_ROWS rows, VACUUM + CHECKPOINT before each run. Target:
   within 1.5x.
6. Labels: BENCH_LABELS labels arrive (an UPDATE of the label column of an attached table:
   the trigger joins each to its logged prediction and queues it), first against the same
   UPDATE of a plain table (what receiving a label costs), then against `ml_learn_pending`
   learning them all (labels learned per second, and how learning compares with receiving the
   labels). No targets.

It is a benchmark, not a test: it exits 0 when a figure is over its target, non-zero only when
something fails.
"""

import json
import os
import re
import statistics
import subprocess
import tempfile
import time

from benchlib import PORT, RUNS, SETTINGS, Cluster, Table, compare, log, pgbench_tps, run_main, timed

import common

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
INSERTS = int(os.environ.get("BENCH_INSERTS", "10000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
CALLS = int(os.environ.get("BENCH_CALLS", "20000"))
LABELS = int(os.environ.get("BENCH_LABELS", "50000"))
FEATURES = ["f1", "f2", "f3", "f4", "f5"]

SETUP = """
CREATE TABLE ev_plain (id bigserial PRIMARY KEY, f1 float8, f2 float8, f3 float8, f4 float8,
                       f5 float8, p float8, y float8);
CREATE TABLE ev_scored (LIKE ev_plain INCLUDING ALL);
CREATE TABLE pts (id bigint PRIMARY KEY, f1 float8, f2 float8, f3 float8, f4 float8, f5 float8,
                  p float8);
"""

TRAIN = """
SELECT ml_register('bench', ml_fit('{"model": "logistic_regression", "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}',
                                   jsonb_build_object('f1', f1, 'f2', f2, 'f3', f3, 'f4', f4, 'f5', f5),
                                   (f1 - f2 + 0.5 * f3 > 0)::int ORDER BY id))
FROM pts WHERE id <= 100000
"""

TRAIN_BIG = """
SELECT ml_register('bench_big', ml_fit('{"model": "logistic_regression", "hash_bits": 18, "optimizer": "sgd", "scale": false, "scale_target": false, "check_divergence": false}',
                                       jsonb_build_object('f1', f1, 'f2', f2, 'c', 'c' || (id % 200000)),
                                       (f1 > f2)::int ORDER BY id))
FROM pts WHERE id <= 200000
"""

INSERT_SCRIPT = "\n".join(
    ["\\set %s random(-1000000, 1000000)" % f for f in FEATURES]
    + ["INSERT INTO %s (f1, f2, f3, f4, f5) VALUES ("
       + ", ".join(":%s / 1000000.0" % f for f in FEATURES) + ");"]) + "\n"

ARRAY_X = "ARRAY[:a / 1000000.0, 0.5, -0.25, 0.125, 0.3]::float8[]"
JSON_X = ("jsonb_build_object('f1', :a / 1000000.0, 'f2', 0.5, 'f3', -0.25, 'f4', 0.125, "
          "'f5', 0.3)")


def pgbench(cluster, script, clients, txns, prepared=False):
    """Runs pgbench with the script; returns the wall time of all transactions in ms
    (clients * txns / tps, tps without connection set-up)."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        cmd = [os.path.join(common.PG_BIN, "pgbench"), "-n", "-c", str(clients),
               "-j", str(min(clients, 2)), "-t", str(txns), "-f", path,
               "-M", "prepared" if prepared else "simple"]
        if cluster.dsn:
            cmd.append(cluster.dsn)
        else:
            cmd += ["-h", cluster.dir, "-p", str(cluster.port), "-U", "postgres", cluster.dbname]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError("pgbench failed (%d): %s" % (run.returncode,
                                                            (run.stderr or run.stdout)[-600:]))
        out = run.stdout
    finally:
        os.unlink(path)
    return clients * txns / pgbench_tps(out) * 1000.0


def alternate(fb, fo, runs=None):
    """Medians of fb() and fo(), alternating after one untimed warm-up of each."""
    runs = runs or RUNS
    fb()
    fo()
    b, o = [], []
    for _ in range(runs):
        b.append(fb())
        o.append(fo())
    return statistics.median(b), statistics.median(o)


def build(conn):
    t0 = time.perf_counter()
    conn.execute(SETUP)
    conn.execute("INSERT INTO pts (id, f1, f2, f3, f4, f5) SELECT g, random() * 2 - 1, "
                 "random() * 2 - 1, random() * 2 - 1, random() * 2 - 1, random() * 2 - 1 "
                 "FROM generate_series(1, %s::bigint) g", (max(ROWS, 200000),))
    conn.execute("VACUUM ANALYZE pts")
    conn.execute(TRAIN)
    conn.execute(TRAIN_BIG)
    conn.execute("SELECT ml_deploy('bench', 1), ml_deploy('bench_big', 1)")
    conn.execute("SELECT ml_attach('ev_scored', 'bench', key => 'id', prediction => 'p', "
                 "label => 'y', features => ARRAY['f1', 'f2', 'f3', 'f4', 'f5'])")
    size = conn.execute("SELECT pg_column_size(model) FROM ml_models WHERE name = 'bench_big'"
                        ).fetchone()[0]
    log("data built in %.1fs (%d rows; bench_big stored in %d bytes)"
        % (time.perf_counter() - t0, max(ROWS, 200000), size))


def fig_insert(cluster, tab):
    conn = cluster.conn
    for sync, n in (("off", INSERTS), ("on", max(INSERTS // 2, 1))):
        # off: the commit's WAL flush (the same on both sides) does not hide the trigger's cost;
        # on: the server's default, what an application sees
        conn.execute("ALTER SYSTEM SET synchronous_commit = %s" % sync)
        conn.execute("SELECT pg_reload_conf()")
        try:
            b, o = alternate(lambda: pgbench(cluster, INSERT_SCRIPT % "ev_plain", CLIENTS, n),
                             lambda: pgbench(cluster, INSERT_SCRIPT % "ev_scored", CLIENTS, n))
        finally:
            conn.execute("ALTER SYSTEM RESET synchronous_commit")
            conn.execute("SELECT pg_reload_conf()")
        tab.add("INSERT scored+logged vs plain" + ("" if sync == "off" else ", sync"), b, o, 1.5,
                "pgbench %d clients x %d single-row INSERTs, synchronous_commit %s, %.0f vs %.0f "
                "rows/s" % (CLIENTS, n, sync, CLIENTS * n / b * 1000, CLIENTS * n / o * 1000))
    logged = conn.execute("SELECT count(*) FROM ml_prediction_log "
                          "WHERE table_name = 'ev_scored'::regclass").fetchone()[0]
    scored = conn.execute("SELECT count(p), count(*) FROM ev_scored").fetchone()
    if logged != scored[1] or scored[0] != scored[1]:
        raise RuntimeError("attached table: %d rows, %d scored, %d logged"
                           % (scored[1], scored[0], logged))


def fig_predict_calls(cluster, tab):
    conn = cluster.conn
    literal = conn.execute("SELECT model::text FROM ml_models WHERE name = 'bench' AND version = 1"
                           ).fetchone()[0]
    # pgbench takes ':name' in a script for a variable: a space after every ':' of the JSON
    text = json.dumps(json.loads(literal), separators=(", ", ": "))
    if re.search(r":\S", text):
        raise RuntimeError("model literal with ':' inside a string; pgbench would mangle it")
    lit = "'" + text.replace("'", "''") + "'::ml_model"
    same = conn.execute("SELECT ml_predict_one(%s, ARRAY[f1, f2, f3, f4, f5]) = "
                        "ml_predict('bench', ARRAY[f1, f2, f3, f4, f5]) FROM pts WHERE id = 1" % lit
                        ).fetchone()[0]
    if not same:
        raise RuntimeError("the model literal does not score as the registered model")
    head = "\\set a random(-1000000, 1000000)\n"
    by_name = head + "SELECT ml_predict('bench', %s);\n" % ARRAY_X
    by_lit = head + "SELECT ml_predict_one(%s, %s);\n" % (lit, ARRAY_X)
    b, o = alternate(lambda: pgbench(cluster, by_lit, 2, CALLS, prepared=True),
                     lambda: pgbench(cluster, by_name, 2, CALLS, prepared=True))
    tab.add("ml_predict(name) vs literal, 1/stmt", b, o, 1.2,
            "pgbench -M prepared, 2 clients x %d statements, %.1f vs %.1f us per call"
            % (CALLS, b * 1000 / CALLS / 2, o * 1000 / CALLS / 2))
    b, o = compare(conn, "SELECT sum(ml_predict_one(%s, ARRAY[f1, f2, f3, f4, f5])) FROM pts" % lit,
                   "SELECT sum(ml_predict('bench', ARRAY[f1, f2, f3, f4, f5])) FROM pts",
                   before=["SET max_parallel_workers_per_gather = 0"])
    tab.add("ml_predict(name) vs literal, query", b, o, 1.2, "%d rows" % max(ROWS, 200000))


def fig_first_call(cluster, tab):
    x = "'{\"f1\": 0.5, \"f2\": -0.5, \"c\": \"c17\"}'::jsonb"
    counters = []

    def fresh(sql, keep=False):
        c = cluster.connect()
        try:
            c.execute("SELECT 1")
            ms = timed(c, sql)
            if keep:
                counters.append(c.execute("SELECT ml_registry_cache()").fetchone()[0])
            return ms
        finally:
            c.close()

    b, o = alternate(
        lambda: fresh("SELECT ml_predict_one(model, %s) FROM ml_models "
                      "WHERE name = 'bench_big' AND version = 1" % x),
        lambda: fresh("SELECT ml_predict('bench_big', %s)" % x, keep=True),
        runs=max(RUNS, 9))                          # milliseconds each: more runs
    bad = [c for c in counters if c["decodes"] != 1 or c["resolves"] != 1]
    if bad:
        raise RuntimeError("first call of a new session: cache counters %r (want 1 resolve, "
                           "1 decode)" % bad[0])
    tab.add("first ml_predict vs 1 decode", b, o, 1.2,
            "new sessions, 2^18-weight model; every first call: 1 resolve, 1 decode")


def fig_batch_update(cluster, tab):
    conn = cluster.conn
    before = ["VACUUM pts", "CHECKPOINT", "SET max_parallel_workers_per_gather = 0"]
    b, o = compare(conn, "UPDATE pts SET p = 0", "UPDATE pts t SET p = ml_predict('bench', t)",
                   before=before)
    wrong = conn.execute("SELECT count(*) FROM pts WHERE p IS DISTINCT FROM ml_predict_one("
                         "ml_get('bench'), jsonb_build_object('f1', f1, 'f2', f2, 'f3', f3, "
                         "'f4', f4, 'f5', f5))").fetchone()[0]
    if wrong:
        raise RuntimeError("batch scoring: %d rows scored differently from ml_predict_one" % wrong)
    conn.execute("VACUUM pts")
    tab.add("UPDATE ml_predict(name, t) vs 0", b, o, 1.5, "%d rows" % max(ROWS, 200000))


def fig_labels(cluster, tab):
    conn = cluster.conn
    need = LABELS * (RUNS + 1)
    for t in ("ev_scored", "ev_plain"):
        have = conn.execute("SELECT count(*) FROM %s" % t).fetchone()[0]
        if have < need:
            conn.execute("INSERT INTO %s (f1, f2, f3, f4, f5) SELECT random() * 2 - 1, "
                         "random() * 2 - 1, random() * 2 - 1, random() * 2 - 1, random() * 2 - 1 "
                         "FROM generate_series(1, %%s::bigint)" % t, (need - have,))
        conn.execute("VACUUM ANALYZE %s" % t)
    if conn.execute("SELECT ml_pending_labels()").fetchone()[0] != 0:
        raise RuntimeError("labels queued before the labelling figure")

    def id_ranges(t):
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM %s WHERE y IS NULL ORDER BY id LIMIT %%s" % t, (need,))]
        return [(ids[i * LABELS], ids[(i + 1) * LABELS - 1]) for i in range(RUNS + 1)]

    ranges, plain_ranges = id_ranges("ev_scored"), id_ranges("ev_plain")
    label_sql = "UPDATE %s SET y = (f1 - f2 + 0.5 * f3 > 0)::int WHERE id BETWEEN %d AND %d"
    seen0 = conn.execute("SELECT sum((ml_info(model)->>'n_seen')::bigint) FROM ml_models "
                         "WHERE name = 'bench'").fetchone()[0]
    pl, bl, lr, applied = [], [], [], 0
    for i, (lo, hi) in enumerate(ranges):
        t_plain = timed(conn, label_sql % (("ev_plain",) + plain_ranges[i]))
        t_label = timed(conn, label_sql % ("ev_scored", lo, hi))
        t0 = time.perf_counter()
        n = conn.execute("SELECT ml_learn_pending('bench', %s)", (LABELS,)).fetchone()[0]
        t_learn = (time.perf_counter() - t0) * 1000.0
        applied += n
        if n != LABELS:
            raise RuntimeError("ml_learn_pending applied %d labels, %d were queued" % (n, LABELS))
        if i > 0:                                   # the first round is the warm-up
            pl.append(t_plain)
            bl.append(t_label)
            lr.append(t_learn)
    seen1 = conn.execute("SELECT sum((ml_info(model)->>'n_seen')::bigint) FROM ml_models "
                         "WHERE name = 'bench'").fetchone()[0]
    if seen1 - seen0 != applied:
        raise RuntimeError("n_seen grew by %d, %d labels applied" % (seen1 - seen0, applied))
    p, b, o = statistics.median(pl), statistics.median(bl), statistics.median(lr)
    tab.add("labels arriving vs plain UPDATE", p, b, None,
            "%d labels as UPDATEs of the label column: attached (joined to the log, queued) "
            "vs a plain table" % LABELS)
    tab.add("ml_learn_pending vs labels arriving", b, o, None,
            "%d labels: %.0f labels/s learned, %.0f labels/s arriving"
            % (LABELS, LABELS / o * 1000, LABELS / b * 1000))


def main():
    cluster = Cluster(port=PORT, settings=dict(SETTINGS))
    try:
        conn = cluster.start()
        ver = conn.execute("SELECT current_setting('server_version')").fetchone()[0]
        log("PostgreSQL %s, median of %d runs" % (ver, RUNS))
        build(conn)
        tab = Table()
        for fig in (fig_insert, fig_predict_calls, fig_first_call, fig_batch_update, fig_labels):
            fig(cluster, tab)
        tab.summary()
    finally:
        cluster.stop()


if __name__ == "__main__":
    run_main(main)
