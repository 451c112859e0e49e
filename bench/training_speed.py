"""ml_train with its training history (issue 16 item 5: a progressive loss per row learned, a
validation loss per epoch) against ml_fit over the same rows.

Run through `bash bench/run training_speed` (as root), or directly with Debian's interpreter
(/usr/bin/python3 bench/training_speed.py) against an installed pg_learn: a throwaway PostgreSQL 15
cluster run as the postgres user, one line per figure (bench/benchlib.py: medians of alternating
runs, name, baseline ms, ours ms, ratio, target, verdict).

Environment:
    BENCH_ROWS   rows (default 1,000,000)
    BENCH_PORT   port of the throwaway cluster (default 5481)
    BENCH_RUNS   timed runs per query (default 3)

Data: t_tr(id, x float8[10], y int), as cv_speed.py's.

Figures, without parallel workers, for information (no target):
1. ml_train(logistic_regression, 3 epochs) against 3 x SELECT ml_fit(...) ORDER BY id (the same
   learning; ml_train also reads the rows into memory once and computes one loss per row);
2. the same with a validation query of 1/10 of the rows;
It is a benchmark, not a test: it exits 0 whatever the ratios, non-zero only when something fails.
"""

import os

from benchlib import PORT, SETTINGS, Cluster, Table, build_table, compare, logistic_rows, run_main

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
SPEC = '{"model": "logistic_regression"}'


def build_data(conn):
    build_table(conn, "t_tr", logistic_rows(ROWS), "%d rows" % ROWS, key=False)


def main():
    with Cluster(port=PORT, settings=dict(SETTINGS)) as conn:
        conn.execute("SET max_parallel_workers_per_gather = 0")
        conn.execute("SET work_mem = '256MB'")
        build_data(conn)
        table = Table()
        fit3 = ("WITH a AS (SELECT ml_fit('%s'::ml_model, x, y ORDER BY id) AS m FROM t_tr), "
                "b AS (SELECT ml_fit((SELECT m FROM a), x, y ORDER BY id) AS m FROM t_tr) "
                "SELECT ml_fit((SELECT m FROM b), x, y ORDER BY id) FROM t_tr" % SPEC)
        train3 = "SELECT ml_train('%s', 'SELECT x, y FROM t_tr ORDER BY id', 3, shuffle => false)" % SPEC
        b, o = compare(conn, fit3, train3)
        table.add("ml_train 3 epochs (with history) vs 3 ml_fit passes", b, o)
        trainv = ("SELECT ml_train('%s', 'SELECT x, y FROM t_tr WHERE id %% 10 <> 0 ORDER BY id', 3, shuffle => false, "
                  "validation => 'SELECT x, y FROM t_tr WHERE id %% 10 = 0')" % SPEC)
        b, o = compare(conn, fit3, trainv, runs=1)
        table.add("ml_train 3 epochs with validation vs 3 ml_fit passes", b, o)
        table.summary()


if __name__ == "__main__":
    run_main(main)
