"""Hoeffding tree speed against the linear family, on the same 20-feature rows (issue 13).

Run through `bash bench/run tree_speed` (as root), or directly with Debian's interpreter
(/usr/bin/python3 bench/tree_speed.py) against an installed pg_learn: a throwaway PostgreSQL 15
cluster run as the postgres user, the data below, one line per figure (bench/benchlib.py:
medians of alternating runs, name, baseline ms, ours ms, ratio, target, verdict).

Environment:
    BENCH_ROWS   rows (default 200,000)
    BENCH_PORT   port of the throwaway cluster (default 5481)
    BENCH_RUNS   timed runs per query (default 3)
    PGL_TEST_DSN use that server instead of a throwaway cluster (see common.py)

Data: t_tree(id, x float8[20], y boolean) with features uniform in [-1, 1) and a class
that depends on thresholds of eight features (with 5% of the labels flipped), so that a tree
keeps finding splits down to its maximum depth.

Figures (issue 13's targets), each a ratio against the linear family in the same run, without
parallel workers:
1. scoring with a depth-8 tree (hoeffding_tree_classifier, max_depth 8, grace_period 50) vs
   scoring with logistic_regression: ml_predict_class over every row, the model from a scalar
   subquery; target <= 2x.
2. learning: ml_fit of the tree vs ml_fit of logistic_regression over the same rows (both
   ORDER BY id, one pass); target <= 5x.
3. (no target) scoring with naive-Bayes leaves (the default "nba") against majority-class
   leaves ("mc"): what the leaf model costs per row.

It is a benchmark, not a test: it exits 0 when a figure is over its target, non-zero only when
something fails.
"""

import json
import os

from benchlib import PORT, RUNS, SETTINGS, Cluster, Table, build_table, compare, log, run_main, session, uniform_rows

ROWS = int(os.environ.get("BENCH_ROWS", "200000"))
NF = 20
LINEAR = {"model": "logistic_regression"}
TREE = {"model": "hoeffding_tree_classifier", "max_depth": 8, "grace_period": 50}
TREE_MC = dict(TREE, leaf_prediction="mc")


def build_data(conn):
    build_table(conn, "t_tree", """
        SELECT i AS id, x,
               ((x[1] > 0)::int + (x[2] > 0.3)::int + (x[3] > -0.4)::int + (x[4] > 0.5)::int
                + (x[5] > -0.1)::int + (x[6] > 0.2)::int + (x[7] > -0.6)::int + (x[8] > 0.7)::int >= 4)
               <> (random() < 0.05) AS y
        %s""" % uniform_rows(ROWS, NF), "%d rows x %d features" % (ROWS, NF), models=True)


def main():
    with Cluster(port=PORT, settings=dict(SETTINGS)) as conn:
        session(conn, "%d rows, median of %d runs" % (ROWS, RUNS))
        build_data(conn)
        tab = Table()
        fit = "SELECT ml_fit('%s'::ml_model, x, y ORDER BY id) FROM t_tree"
        for name, spec in (("linear", LINEAR), ("tree", TREE), ("tree_mc", TREE_MC)):
            conn.execute("INSERT INTO models SELECT %%s, (%s)" % (fit % json.dumps(spec)), (name,))
        for name, info in conn.execute("SELECT name, ml_info(m) FROM models ORDER BY name"):
            if name.startswith("tree"):
                log("model %s: depth %s, %s leaves, %s bytes" % (name, info["depth"], info["n_leaves"],
                                                                  info["size_bytes"]))
        depth = conn.execute("SELECT ml_info(m) ->> 'depth' FROM models WHERE name = 'tree'").fetchone()[0]
        acc = conn.execute("SELECT avg((ml_predict_class((SELECT m FROM models WHERE name = 'tree'), x) = y::text)::int) "
                           "FROM t_tree").fetchone()[0]
        log("tree training accuracy %.4f" % acc)

        score = "SELECT count(ml_predict_class((SELECT m FROM models WHERE name = '%s'), t.x)) FROM t_tree AS t"
        # 1. scoring: depth-8 tree vs logistic regression
        b, o = compare(conn, score % "linear", score % "tree")
        tab.add("predict tree (depth %s) vs linear" % depth, b, o, 2.0)
        # 2. learning: one pass of the tree vs one pass of logistic regression
        b, o = compare(conn, fit % json.dumps(LINEAR), fit % json.dumps(TREE))
        tab.add("fit tree vs linear", b, o, 5.0)
        # 3. leaf models: naive-Bayes-adaptive leaves vs majority-class leaves
        b, o = compare(conn, score % "tree_mc", score % "tree")
        tab.add("predict nba leaves vs mc leaves", b, o, None)
        tab.summary()


if __name__ == "__main__":
    run_main(main)
