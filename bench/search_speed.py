"""Hyperparameter search against the trainings it runs (issue 16 item 4).

Run through `bash bench/run search_speed` (as root), or directly with Debian's interpreter
(/usr/bin/python3 bench/search_speed.py) against an installed pg_learn: a throwaway PostgreSQL 15
cluster run as the postgres user, the data below, one line per figure (bench/benchlib.py: medians
of alternating runs, name, baseline ms, ours ms, ratio, target, verdict).

Environment:
    BENCH_ROWS   rows (default 200,000)
    BENCH_PORT   port of the throwaway cluster (default 5481)
    BENCH_RUNS   timed runs per query (default 3)
    PGL_TEST_DSN use that server instead of a throwaway cluster (see common.py)

Data: t_search(id, x float8[10], y int): y is 1 with the logistic probability of a linear function of x.

Figures, without parallel workers, for information (no target):
1. ml_search grid of 9 learning rates on a holdout split (test_fraction 0.2) against one ml_fit
   over every row: each trial learns 4/5 of the rows and scores the rest, so about 9 x 0.8 plus
   the reading of the rows once is expected.
2. ml_search with method 'halving' over the same 9 candidates against the grid: rungs of 9, 3
   and 1 candidates learning 1/9, 1/3 and all of the stream, 3 streams' worth of learning instead
   of 9: about a third of the grid's time, plus the scoring of 13 rungs' models instead of 9.

It is a benchmark, not a test: it exits 0 whatever the ratios, non-zero only when something fails.
"""

import json
import os

from benchlib import PORT, SETTINGS, Cluster, Table, build_table, compare, log, logistic_rows, run_main, session

ROWS = int(os.environ.get("BENCH_ROWS", "200000"))
BASE = json.dumps({"model": "logistic_regression", "optimizer": "sgd"})
SPACE = json.dumps({"optimizer": {"sgd": {"lr": [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]}}})


def build_data(conn):
    build_table(conn, "t_search", logistic_rows(ROWS), "%d rows" % ROWS, key=False)


def main():
    with Cluster(port=PORT, settings=dict(SETTINGS)) as conn:
        session(conn, "%d rows" % (ROWS), work_mem="256MB")
        build_data(conn)
        table = Table()
        # What it computes (printed): each trial's log loss, and which halving kept.
        for r in conn.execute("SELECT trial, params ->> 'optimizer.sgd.lr', round(value::numeric, 4), is_best, message "
                              "FROM ml_search(%s, %s, 'SELECT x, y, id FROM t_search', method => 'halving') ORDER BY trial",
                              (BASE, SPACE)):
            log("trial %s lr %s logloss %s best %s %s" % r)
        fit = "SELECT ml_fit('%s'::ml_model, x, y) FROM t_search" % BASE
        grid = "SELECT * FROM ml_search('%s', '%s', 'SELECT x, y, id FROM t_search')" % (BASE, SPACE)
        halving = "SELECT * FROM ml_search('%s', '%s', 'SELECT x, y, id FROM t_search', method => 'halving')" % (BASE, SPACE)
        b, o = compare(conn, fit, grid)
        table.add("grid of 9 (holdout) vs one ml_fit", b, o)
        b, o = compare(conn, grid, halving)
        table.add("halving of 9 vs grid of 9", b, o)
        table.summary()


if __name__ == "__main__":
    run_main(main)
