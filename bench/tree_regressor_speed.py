"""Hoeffding tree regressor speed against linear regression, on the same 20-feature rows (issue 13).

Run through `bash bench/run tree_regressor_speed` (as root), or directly with Debian's
interpreter (/usr/bin/python3 bench/tree_regressor_speed.py) against an installed pg_learn: a
throwaway PostgreSQL 15 cluster run as the postgres user, the data below, one line per figure
(bench/benchlib.py: medians of alternating runs, name, baseline ms, ours ms, ratio, target,
verdict).

Environment:
    BENCH_ROWS   rows (default 200,000)
    BENCH_PORT   port of the throwaway cluster (default 5481)
    BENCH_RUNS   timed runs per query (default 3)
    PGL_TEST_DSN use that server instead of a throwaway cluster (see common.py)

Data: t_treg(id, x float8[20], y float8) with features uniform in [-1, 1) and a target that is
non-linear in eight of them (a sine, a product, steps) plus noise, so that the tree keeps
finding splits.

Figures, each a ratio against linear_regression in the same run, without parallel workers:
1. learning: ml_fit of the tree (hoeffding_tree_regressor, default options: adaptive leaves,
   32 bins per numeric observer) vs ml_fit of linear_regression over the same rows (both
   ORDER BY id, one pass); issue 13's target for Hoeffding trees: <= 5x.
2. (no target) learning with mean leaves (no leaf models, no scaler).
3. (no target) scoring: ml_predict_one of the tree (depth 8 at most) vs linear scoring.

It is a benchmark, not a test: it exits 0 when a figure is over its target, non-zero only when
something fails.
"""

import json
import os

from benchlib import PORT, SETTINGS, Cluster, Table, build_table, compare, log, run_main, session, uniform_rows

ROWS = int(os.environ.get("BENCH_ROWS", "200000"))
NF = 20
LINEAR = {"model": "linear_regression"}
TREE = {"model": "hoeffding_tree_regressor"}
TREE_MEAN = dict(TREE, leaf_prediction="mean")
TREE_D8 = dict(TREE, max_depth=8, grace_period=50)


def build_data(conn):
    build_table(conn, "t_treg", """
        SELECT i AS id, x,
               10 * sin(3 * x[1] * x[2]) + 5 * (x[3] > 0.2)::int - 4 * (x[4] > -0.3)::int + 3 * x[5] * x[5]
               + 2 * x[6] + (x[7] > 0.5)::int * x[8] * 6 + (random() - 0.5) AS y
        """ + uniform_rows(ROWS, NF), "%d rows x %d features" % (ROWS, NF), models=True)


def main():
    with Cluster(port=PORT, settings=dict(SETTINGS)) as conn:
        session(conn, "%d rows" % (ROWS))
        build_data(conn)
        tab = Table()
        fit = "SELECT ml_fit('%s'::ml_model, x, y ORDER BY id) FROM t_treg"
        for name, spec in (("linear", LINEAR), ("tree", TREE), ("tree_d8", TREE_D8)):
            conn.execute("INSERT INTO models SELECT %%s, (%s)" % (fit % json.dumps(spec)), (name,))
        for name, info in conn.execute("SELECT name, ml_info(m) FROM models ORDER BY name"):
            if name.startswith("tree"):
                log("model %s: depth %s, %s leaves, %s bytes" % (name, info["depth"], info["n_leaves"],
                                                                  info["size_bytes"]))
        for name in ("linear", "tree"):
            r2 = conn.execute("SELECT ml_r2(ml_predict_one((SELECT m FROM models WHERE name = %s), x), y) "
                              "FROM t_treg", (name,)).fetchone()[0]
            log("%s training R2 %.4f" % (name, r2))
        # 1. learning: one pass of the tree vs one pass of linear regression
        b, o = compare(conn, fit % json.dumps(LINEAR), fit % json.dumps(TREE))
        tab.add("fit tree regressor vs linear", b, o, 5.0)
        # 2. learning with mean leaves
        b, o = compare(conn, fit % json.dumps(LINEAR), fit % json.dumps(TREE_MEAN))
        tab.add("fit tree regressor (mean leaves) vs linear", b, o, None)
        # 3. scoring with a depth-8 tree
        score = "SELECT count(ml_predict_one((SELECT m FROM models WHERE name = '%s'), t.x)) FROM t_treg AS t"
        b, o = compare(conn, score % "linear", score % "tree_d8")
        tab.add("predict tree regressor (depth <= 8) vs linear", b, o, None)
        tab.summary()


if __name__ == "__main__":
    run_main(main)
