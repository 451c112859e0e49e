"""pg_learn benchmarks: each figure is a ratio against a baseline measured in the same run.

Run through bench/run (as root): it starts a throwaway PostgreSQL 15 cluster as the postgres
user (test/integration/common.py), builds the data, and prints one line per figure:

    name  baseline_ms  ours_ms  ratio  target  verdict

Every time is the median of 3 runs; baseline and ours alternate (b, o, b, o, b, o) after one
untimed warm-up of each, so drift (caches, autovacuum, CPU frequency) hits both alike.

Environment:
    BENCH_ROWS   rows in the tables (default 1,000,000)
    BENCH_PORT   port of the throwaway cluster (default 5481)
    BENCH_RUNS   timed runs per query (default 3)
    PGL_TEST_DSN use that server instead of a throwaway cluster (see common.py)

Data: t_arr(id, x float8[20], y, p) and t_json(id, x jsonb {"f1": .., "f20": ..}, y) hold the
same features (uniform in [-1, 1)) and labels (drawn from a logistic model of the features), in
two tables so that each baseline scans exactly the rows its figure scans.
Unless a figure says otherwise, queries run without parallel workers
(max_parallel_workers_per_gather = 0): the ratios are per-row costs, one process each side.
The server's JIT setting is left at its default (on); the hand-written formula is the query
that benefits from it most.

It is a benchmark, not a test: it exits 0 when a figure is over its target, non-zero only when
something fails.
"""

import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))
from common import Cluster  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
PORT = int(os.environ.get("BENCH_PORT", "5481"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
NF = 20

# Server settings: everything fits in shared buffers; no checkpoint in the middle of a figure.
SETTINGS = {
    "shared_buffers": "2GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "16GB",
    "checkpoint_timeout": "1h",
    "autovacuum": "off",          # VACUUM is run explicitly where a figure needs it
    "max_worker_processes": "8",
    "max_parallel_workers": "8",
}

FIT_SPEC = {"model": "logistic_regression"}                 # river's defaults: sgd lr 0.01
HASH_SPEC = {"model": "logistic_regression", "hash_bits": 18}


def log(msg):
    print("# " + msg, file=sys.stderr, flush=True)


def timed(conn, sql, params=None, before=None):
    """Wall time of one statement in ms (result fetched), after running `before` untimed."""
    if before:
        for b in before:
            conn.execute(b)
    t0 = time.perf_counter()
    cur = conn.execute(sql, params)
    if cur.description is not None:
        cur.fetchall()
    return (time.perf_counter() - t0) * 1000.0


def compare(conn, baseline, ours, before=None, warm=True):
    """Median ms of baseline and of ours, alternating runs."""
    if warm:
        timed(conn, baseline, before=before)
        timed(conn, ours, before=before)
    b, o = [], []
    for _ in range(RUNS):
        b.append(timed(conn, baseline, before=before))
        o.append(timed(conn, ours, before=before))
    return statistics.median(b), statistics.median(o)


class Table:
    def __init__(self):
        self.rows = []

    def add(self, name, base_ms, ours_ms, ratio, target, note=""):
        if target is None:
            verdict, tgt = "-", "-"
        else:
            verdict = "ok" if ratio <= target else "over target"
            tgt = "<= %.1fx" % target
        self.rows.append((name, "%.0f" % base_ms, "%.0f" % ours_ms, "%.2fx" % ratio, tgt,
                          verdict, note))
        print("%-28s %10s ms %10s ms %8s  %-8s %s%s" % (
            name, "%.0f" % base_ms, "%.0f" % ours_ms, "%.2fx" % ratio, tgt, verdict,
            ("  (" + note + ")") if note else ""), flush=True)


def build_data(conn):
    log("building %d rows x %d features" % (ROWS, NF))
    t0 = time.perf_counter()
    conn.execute("DROP TABLE IF EXISTS t_arr, t_json, models")
    # Features uniform in [-1, 1); label from a fixed logistic model of them.
    conn.execute("""
        CREATE TABLE t_arr AS
        SELECT i AS id, x,
               (random() < 1 / (1 + exp(-(0.3 + (SELECT sum(v * ((k %% 5) - 2) * 0.5)
                                                  FROM unnest(x) WITH ORDINALITY AS u(v, k))))))::int::float8 AS y,
               NULL::float8 AS p
        FROM generate_series(1, %d) AS i,
             LATERAL (SELECT ARRAY(SELECT random() * 2 - 1 FROM generate_series(1, %d)
                                   WHERE i IS NOT NULL) AS x) AS f
    """ % (ROWS, NF))
    conn.execute("""
        CREATE TABLE t_json AS
        SELECT id, (SELECT jsonb_object_agg('f' || k, v) FROM unnest(x) WITH ORDINALITY AS u(v, k)) AS x, y
        FROM t_arr
    """)
    conn.execute("ALTER TABLE t_arr ADD PRIMARY KEY (id)")
    conn.execute("ALTER TABLE t_json ADD PRIMARY KEY (id)")
    conn.execute("VACUUM ANALYZE t_arr")
    conn.execute("VACUUM ANALYZE t_json")
    conn.execute("CREATE TABLE models (name text PRIMARY KEY, m ml_model)")
    sizes = conn.execute("SELECT pg_size_pretty(pg_relation_size('t_arr')), "
                         "pg_size_pretty(pg_relation_size('t_json'))").fetchone()
    log("data built in %.1fs (t_arr %s, t_json %s)" % (time.perf_counter() - t0, *sizes))


def main():
    settings = dict(SETTINGS)
    with Cluster(port=PORT, settings=settings) as conn:
        conn.execute("SET max_parallel_workers_per_gather = 0")
        ver = conn.execute("SELECT current_setting('server_version'), current_setting('jit')").fetchone()
        log("PostgreSQL %s, jit=%s, %d rows, median of %d runs" % (ver[0], ver[1], ROWS, RUNS))
        build_data(conn)
        tab = Table()
        print("%-28s %13s %13s %9s  %-8s %s" % ("figure", "baseline", "ours", "ratio", "target",
                                                 "verdict"))
        spec = json.dumps(FIT_SPEC)

        # 1. ml_fit over float8[] vs sum(x[1])
        b, o = compare(conn, "SELECT sum(x[1]) FROM t_arr",
                       "SELECT ml_fit('%s'::ml_model, x, y) FROM t_arr" % spec)
        tab.add("fit float8[] vs sum(x[1])", b, o, o / b, 2.0)

        # 2. ml_fit over jsonb vs sum((x->>'f1')::float8)
        b, o = compare(conn, "SELECT sum((x->>'f1')::float8) FROM t_json",
                       "SELECT ml_fit('%s'::ml_model, x, y) FROM t_json" % spec)
        tab.add("fit jsonb vs sum(x->>'f1')", b, o, o / b, 3.0)

        # The scoring models: trained once, stored in a table, read by a subquery/CTE.
        conn.execute("INSERT INTO models SELECT 'dense', ml_fit('%s'::ml_model, x, y ORDER BY id) "
                     "FROM t_arr" % spec)
        conn.execute("INSERT INTO models SELECT 'dense_json', ml_fit('%s'::ml_model, x, y ORDER BY id) "
                     "FROM t_json" % spec)
        conn.execute("INSERT INTO models SELECT 'hashed18', ml_fit('%s'::ml_model, x, y ORDER BY id) "
                     "FROM t_json" % json.dumps(HASH_SPEC))
        for name, nw, size, stored in conn.execute(
                "SELECT name, ml_info(m)->>'n_weights', ml_info(m)->>'size_bytes', "
                "pg_column_size(m) FROM models ORDER BY name"):
            log("model %s: n_weights %s, size %s bytes, stored %s bytes" % (name, nw, size, stored))

        predict_arr = ("WITH mm AS MATERIALIZED (SELECT m FROM models WHERE name = 'dense') "
                       "SELECT sum(ml_predict_one(mm.m, t.x)) FROM t_arr AS t, mm")

        # 3. scoring float8[] vs sum(x[1])
        b, o = compare(conn, "SELECT sum(x[1]) FROM t_arr", predict_arr)
        tab.add("predict float8[] vs sum(x[1])", b, o, o / b, 1.5)

        # 4. scoring vs the logistic formula written by hand with the same weights
        info = conn.execute("SELECT ml_info(m) FROM models WHERE name = 'dense'").fetchone()[0]
        w = info["weights"]
        terms = " + ".join("x[%d] * (%r)::float8" % (i, float(w["x%d" % i])) for i in range(1, NF + 1))
        hand = "SELECT sum(1 / (1 + exp(-((%r)::float8 + %s)))) FROM t_arr" % (
            float(info["intercept"]), terms)
        s_hand = conn.execute(hand).fetchone()[0]
        s_ours = conn.execute(predict_arr).fetchone()[0]
        if abs(s_hand - s_ours) > 1e-6 * max(1.0, abs(s_hand)):
            raise RuntimeError("hand formula and ml_predict_one disagree: %r vs %r" % (s_hand, s_ours))
        b, o = compare(conn, hand, predict_arr)
        tab.add("predict vs hand-written SQL", b, o, o / b, 0.5)

        # 5. UPDATE with scoring vs UPDATE with a constant; VACUUM + CHECKPOINT before each run
        before = ["VACUUM t_arr", "CHECKPOINT"]
        b, o = compare(conn, "UPDATE t_arr SET p = 0",
                       "UPDATE t_arr SET p = ml_predict_one((SELECT m FROM models WHERE name = 'dense'), x)",
                       before=before)
        tab.add("UPDATE predict vs UPDATE 0", b, o, o / b, 1.2)
        conn.execute("VACUUM t_arr")

        # 6. hashed model (2^18 weights) vs the 20-weight model, both scoring jsonb
        pj = ("WITH mm AS MATERIALIZED (SELECT m FROM models WHERE name = '%s') "
              "SELECT sum(ml_predict_one(mm.m, t.x)) FROM t_json AS t, mm")
        b, o = compare(conn, pj % "dense_json", pj % "hashed18")
        tab.add("predict hashed 2^18 vs 20 w", b, o, o / b, 1.5)

        # 7. parallel ml_fit: 2 workers vs none (speed-up = serial / parallel)
        fit = "SELECT ml_fit('%s'::ml_model, x, y) FROM t_arr" % spec
        par = ["SET max_parallel_workers_per_gather = 2", "SET parallel_setup_cost = 0",
               "SET parallel_tuple_cost = 0", "SET min_parallel_table_scan_size = 0"]
        for s in par:
            conn.execute(s)
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, COSTS OFF) " + fit))
        launched = [ln.strip() for ln in plan.splitlines() if "Workers" in ln]
        log("parallel plan: " + "; ".join(launched))
        ser = ["SET max_parallel_workers_per_gather = 0"]
        partime, sertime = [], []
        timed(conn, fit, before=par[:1])
        timed(conn, fit, before=ser)
        for _ in range(RUNS):
            sertime.append(timed(conn, fit, before=ser))
            partime.append(timed(conn, fit, before=par[:1]))
        conn.execute("SET max_parallel_workers_per_gather = 0")
        sb, po = statistics.median(sertime), statistics.median(partime)
        tab.add("fit parallel 2w vs serial", sb, po, po / sb, None,
                "speed-up %.2fx, %d CPUs" % (sb / po, os.cpu_count() or 0))

        over = [r for r in tab.rows if r[5] == "over target"]
        log("%d figures, %d over target" % (len(tab.rows), len(over)))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        print("error: %s: %s" % (type(e).__name__, " ".join(str(e).split())), file=sys.stderr)
        sys.exit(1)
