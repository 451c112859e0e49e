"""Shared by the benchmarks in bench/: timing, alternating baseline/ours runs, the result table.

Every figure is a ratio against a baseline measured in the same run: times are medians of
BENCH_RUNS (default 3) runs, baseline and ours alternating (b, o, b, o, ...) after one untimed
warm-up of each, so drift on a shared machine (caches, CPU frequency) hits both alike.
"""

import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))
from common import Cluster  # noqa: E402,F401  (re-exported for the benchmarks)

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
PORT = int(os.environ.get("BENCH_PORT", "5481"))

# Server settings: the data fits in shared buffers; no checkpoint in the middle of a figure.
# A sequential scan of a table larger than a quarter of shared_buffers goes through a small ring
# of buffers instead (PostgreSQL's bulk-read strategy) and re-reads every page from the kernel
# on every run: the largest tables here (t_json at 1,000,000 rows, s at 10,000,000) are about
# 570 MB, so 3GB keeps them cached, as the figures assume.
SETTINGS = {
    "shared_buffers": "3GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "16GB",
    "checkpoint_timeout": "1h",
    "autovacuum": "off",          # VACUUM is run explicitly where a figure needs it
    "max_worker_processes": "8",
    "max_parallel_workers": "8",
}

PARALLEL_ON = ["SET max_parallel_workers_per_gather = 2", "SET parallel_setup_cost = 0",
               "SET parallel_tuple_cost = 0", "SET min_parallel_table_scan_size = 0"]
PARALLEL_OFF = ["SET max_parallel_workers_per_gather = 0"]


def log(msg):
    print("# " + msg, file=sys.stderr, flush=True)


def session(conn, what, work_mem=None):
    """The timed session's settings (no parallel workers: a figure that wants them sets them;
    work_mem when given) and a log line with the server's version, its JIT setting and what."""
    conn.execute(PARALLEL_OFF[0])
    if work_mem:
        conn.execute("SET work_mem = '%s'" % work_mem)
    ver = conn.execute("SELECT current_setting('server_version'), current_setting('jit')").fetchone()
    log("PostgreSQL %s, jit=%s, %s" % (ver[0], ver[1], what))


def timed(conn, sql, params=None, before=None):
    """Wall time of one statement in ms (result fetched), after running `before` untimed."""
    for b in before or ():
        conn.execute(b)
    t0 = time.perf_counter()
    cur = conn.execute(sql, params)
    if cur.description is not None:
        cur.fetchall()
    return (time.perf_counter() - t0) * 1000.0


def compare(conn, baseline, ours, before=None, before_ours=None, warm=True, runs=None):
    """Median ms of baseline and of ours, alternating runs. `before` runs (untimed) before every
    run; `before_ours`, when given, replaces it before ours."""
    runs = runs or RUNS
    bo = before_ours if before_ours is not None else before
    if warm:
        timed(conn, baseline, before=before)
        timed(conn, ours, before=bo)
    b, o = [], []
    for _ in range(runs):
        b.append(timed(conn, baseline, before=before))
        o.append(timed(conn, ours, before=bo))
    return statistics.median(b), statistics.median(o)


def build_table(conn, table, select, what, key=True, then=(), models=False):
    """Table made again as select (CREATE TABLE table AS select), with its primary key (id) when
    key, then the statements then, vacuumed and analyzed; with models, an empty table
    models(name text PRIMARY KEY, m ml_model) made again too. Logs what is built and how long it
    took."""
    log("building " + what)
    t0 = time.perf_counter()
    conn.execute("DROP TABLE IF EXISTS %s%s" % (table, ", models" if models else ""))
    conn.execute("CREATE TABLE %s AS %s" % (table, select))
    if key:
        conn.execute("ALTER TABLE %s ADD PRIMARY KEY (id)" % table)
    for sql in then:
        conn.execute(sql)
    conn.execute("VACUUM ANALYZE %s" % table)
    if models:
        conn.execute("CREATE TABLE models (name text PRIMARY KEY, m ml_model)")
    log("data built in %.1fs" % (time.perf_counter() - t0))


def uniform_rows(rows, nf, values="random() * 2 - 1"):
    """A FROM clause of rows rows, i (1..rows) and x, an array of nf values (default uniform in
    [-1, 1)), drawn again for each row."""
    return ("FROM generate_series(1, %d) AS i,\n"
            "     LATERAL (SELECT ARRAY(SELECT %s FROM generate_series(1, %d)\n"
            "                           WHERE i IS NOT NULL) AS x) AS f" % (rows, values, nf))


def logistic_rows(rows):
    """A query of rows rows (id, x float8[10] uniform in [-2, 2), y int): y is 1 with the logistic
    probability of a linear function of x."""
    return ("SELECT i AS id, x, (random() < 1 / (1 + exp(-(x[1] - 2 * x[2] + x[3] * 0.5 - x[10]))))::int AS y\n"
            "FROM (SELECT i, ARRAY(SELECT random() * 4 - 2 FROM generate_series(1, 10) WHERE i IS NOT NULL)::float8[] AS x\n"
            "      FROM generate_series(1, %d) AS i) s" % rows)


def pgbench_tps(out):
    """The transactions per second in pgbench's output (without initial connection time); an
    error when it reports none, or failed transactions."""
    m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    if not m:
        raise RuntimeError("pgbench output without tps: " + out[-500:])
    if re.search(r"number of failed transactions: [1-9]", out):
        raise RuntimeError("pgbench: failed transactions: " + out[-500:])
    return float(m.group(1))


def workers_launched(conn, sql):
    plan = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql))
    return "; ".join(ln.strip() for ln in plan.splitlines() if "Workers Launched" in ln) or "no workers"


class Table:
    """Prints one line per figure. A target is an upper bound on ours/baseline ('<= 1.5x');
    targets met by being faster are written as such (at least 5x faster = ratio <= 0.2)."""

    def __init__(self):
        self.rows = []
        print("%-34s %13s %13s %9s  %-9s %s" % ("figure", "baseline", "ours", "ratio", "target",
                                                 "verdict"), flush=True)

    def add(self, name, base_ms, ours_ms, target=None, note=""):
        ratio = ours_ms / base_ms if base_ms > 0 else float("inf")
        if target is None:
            verdict, tgt = "-", "-"
        else:
            verdict = "ok" if ratio <= target else "over target"
            tgt = "<= %.2gx" % target
        self.rows.append((name, base_ms, ours_ms, ratio, tgt, verdict, note))
        print("%-34s %10.0f ms %10.0f ms %8.2fx  %-9s %s%s" % (
            name, base_ms, ours_ms, ratio, tgt, verdict, ("  (" + note + ")") if note else ""),
            flush=True)
        return ratio

    def summary(self):
        over = [r for r in self.rows if r[5] == "over target"]
        log("%d figures, %d over target" % (len(self.rows), len(over)))


def run_main(main):
    try:
        main()
    except Exception as e:  # noqa: BLE001
        print("error: %s: %s" % (type(e).__name__, " ".join(str(e).split())), file=sys.stderr)
        sys.exit(1)
