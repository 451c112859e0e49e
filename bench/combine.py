"""Cost of the order-independent combine functions (issue 12, item 5): parallel ml_fit, ml_stats
and ml_profile with the extension before the change (PGL_BEFORE_BIN: a PostgreSQL whose pg_learn
merges in arrival order) against after it (PGL_PG_BIN), on two throwaway clusters with the same
data, runs alternating between them. One group (few combines per query) and many groups (a
combine per group and worker, each collecting and then sorting, decoding and merging).

    PGL_BEFORE_BIN=/usr/lib/postgresql/15/bin PGL_PG_BIN=/opt/pgl/x/usr/lib/postgresql/15/bin \
        BENCH_ROWS=500000 /usr/bin/python3 bench/combine.py
"""

import os
import statistics
import sys

from benchlib import PARALLEL_ON, RUNS, SETTINGS, Cluster, log, timed, workers_launched

ROWS = int(os.environ.get("BENCH_ROWS", "500000"))
PORT = int(os.environ.get("BENCH_PORT", "5481"))
BEFORE_BIN = os.environ.get("PGL_BEFORE_BIN", "/usr/lib/postgresql/15/bin")
AFTER_BIN = os.environ.get("PGL_PG_BIN", "/usr/lib/postgresql/15/bin")

SETUP = f"""
CREATE TABLE t AS
SELECT i, i % 1000 AS g1000, i % 20000 AS g20000,
       jsonb_build_object('a', (i % 101) * 0.01, 'b', (i % 37) * 0.1, 'c', 'k' || (i % 5)) AS x,
       ARRAY[(i % 101) * 0.01, (i % 37) * 0.1]::float8[] AS xa,
       (i % 101) * 0.03 - (i % 37) * 0.1 AS y, 'w' || (i % 3001) AS w
FROM generate_series(1, {ROWS}) i;
ANALYZE t;
"""

QUERIES = [
    ("ml_fit jsonb, 1 group",
     "SELECT ml_fit('{\"model\": \"linear_regression\", \"scale\": true}', x, y) FROM t"),
    ("ml_fit float8[], 1000 groups",
     "SELECT g1000, ml_fit('{\"model\": \"linear_regression\"}', xa, y) FROM t GROUP BY g1000"),
    ("ml_stats(float8), 1 group", "SELECT ml_stats(y) FROM t"),
    ("ml_stats(text), 1 group", "SELECT ml_stats(w) FROM t"),
    ("ml_stats(float8), 20000 groups", "SELECT g20000, ml_stats(y) FROM t GROUP BY g20000"),
    ("ml_profile(jsonb), 1 group", "SELECT ml_profile(x) FROM t"),
]


def main():
    settings = dict(SETTINGS)
    settings["shared_buffers"] = "512MB"
    with Cluster(port=PORT, settings=settings, bin=BEFORE_BIN) as before, \
            Cluster(port=PORT + 1, settings=settings, bin=AFTER_BIN) as after:
        for conn in (before, after):
            conn.execute(SETUP)
            for s in PARALLEL_ON:
                conn.execute(s)
        print(f"{'figure':34} {'before ms':>10} {'after ms':>10} {'ratio':>7}  workers")
        for name, sql in QUERIES:
            timed(before, sql)
            timed(after, sql)
            b, a = [], []
            for _ in range(RUNS):
                b.append(timed(before, sql))
                a.append(timed(after, sql))
            mb, ma = statistics.median(b), statistics.median(a)
            print(f"{name:34} {mb:10.1f} {ma:10.1f} {ma / mb:7.2f}  {workers_launched(after, sql)}",
                  flush=True)


if __name__ == "__main__":
    log(f"rows {ROWS}, runs {RUNS}, before {BEFORE_BIN}, after {AFTER_BIN}")
    sys.exit(main())
