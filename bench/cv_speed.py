"""k-fold cross-validation against one ml_fit over the same rows (issue 16: "5-fold CV of a linear
model over 10^6 rows <= 6x one ml_fit over the same rows").

Run through `bash bench/run cv_speed` (as root), or directly with Debian's interpreter
(/usr/bin/python3 bench/cv_speed.py) against an installed pg_learn: a throwaway PostgreSQL 15
cluster run as the postgres user, the data below, one line per figure (bench/benchlib.py: medians
of alternating runs, name, baseline ms, ours ms, ratio, target, verdict).

Environment:
    BENCH_ROWS   rows (default 1,000,000)
    BENCH_PORT   port of the throwaway cluster (default 5481)
    BENCH_RUNS   timed runs per query (default 3)
    PGL_TEST_DSN use that server instead of a throwaway cluster (see common.py)

Data: t_cv(id, x float8[10], y int): y is 1 with the logistic probability of a linear function of x.

Figures, without parallel workers:
1. ml_cross_validate(logistic_regression, 'SELECT x, y FROM t_cv', 5 folds, its default metrics
   auc, logloss and accuracy) against SELECT ml_fit(logistic_regression, x, y) FROM t_cv (one
   pass): target <= 6x. Each fold's model learns 4/5 of the rows, so the learning alone is 4
   passes; the rows are read once.
2. the same with jsonb features (10 numeric keys), for information (no target).
3. ml_progressive_validate (predict then learn every row, a series row every 1,000 rows) against
   the same ml_fit, float8[] features, for information (no target).

It is a benchmark, not a test: it exits 0 whatever the ratios, non-zero only when something fails.
"""

import os

from benchlib import PORT, SETTINGS, Cluster, Table, build_table, compare, log, logistic_rows, run_main, session

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
SPEC = '{"model": "logistic_regression"}'


def build_data(conn):
    build_table(conn, "t_cv", logistic_rows(ROWS), "%d rows" % ROWS, key=False, then=(
        "ALTER TABLE t_cv ADD COLUMN xj jsonb",
        "UPDATE t_cv SET xj = (SELECT jsonb_object_agg('f' || k, x[k]) FROM generate_series(1, 10) k)"))


def main():
    with Cluster(port=PORT, settings=dict(SETTINGS)) as conn:
        session(conn, "%d rows" % (ROWS), work_mem="256MB")
        build_data(conn)
        table = Table()
        # What it computes (printed): the folds' AUC, mean and sd.
        for r in conn.execute("SELECT fold, metric, round(value::numeric, 4), round(sd::numeric, 4), n_test "
                              "FROM ml_cross_validate(%s, 'SELECT x, y FROM t_cv') WHERE metric = 'auc' "
                              "ORDER BY fold NULLS LAST", (SPEC,)):
            log("fold %s %s %s sd %s n_test %s" % r)
        fit = "SELECT ml_fit('%s'::ml_model, x, y) FROM t_cv" % SPEC
        cv = "SELECT * FROM ml_cross_validate('%s', 'SELECT x, y FROM t_cv')" % SPEC
        b, o = compare(conn, fit, cv)
        table.add("5-fold CV vs ml_fit, float8[]", b, o, target=6.0)
        fitj = "SELECT ml_fit('%s'::ml_model, xj, y) FROM t_cv" % SPEC
        cvj = "SELECT * FROM ml_cross_validate('%s', 'SELECT xj, y FROM t_cv')" % SPEC
        b, o = compare(conn, fitj, cvj, runs=1)
        table.add("5-fold CV vs ml_fit, jsonb", b, o)
        pv = "SELECT * FROM ml_progressive_validate('%s', 'SELECT x, y FROM t_cv ORDER BY id')" % SPEC
        fito = "SELECT ml_fit('%s'::ml_model, x, y ORDER BY id) FROM t_cv" % SPEC
        b, o = compare(conn, fito, pv, runs=1)
        table.add("progressive validation vs ml_fit", b, o)
        table.summary()


if __name__ == "__main__":
    run_main(main)
