"""Passive-Aggressive, k-means, Half-Space Trees and the ensembles against the linear family, on the same
20-feature rows (issue 13: every family's learning and scoring as a ratio in one run).

Run through `bash bench/run family_speed` (as root), or directly with Debian's interpreter
(/usr/bin/python3 bench/family_speed.py) against an installed pg_learn: a throwaway PostgreSQL 15
cluster run as the postgres user, the data below, one line per figure (bench/benchlib.py:
medians of alternating runs, name, baseline ms, ours ms, ratio, target, verdict).

Environment:
    BENCH_ROWS   rows (default 200,000)
    BENCH_PORT   port of the throwaway cluster (default 5481)
    BENCH_RUNS   timed runs per query (default 3)
    PGL_TEST_DSN use that server instead of a throwaway cluster (see common.py)

Data: t_fam(id, x float8[20], y boolean, v float8) with features uniform in [-1, 1), a class
from a linear rule of the features (5% of the labels flipped) and a numeric target (a linear
function plus noise).

Figures, each a ratio against the linear family over the same rows in the same run, without
parallel workers (the issue sets no target for these families: the figures have none):
1. learning, ml_fit(..., ORDER BY id), one pass:
   passive_aggressive_classifier vs logistic_regression (both with the class),
   passive_aggressive_regressor vs linear_regression (both with v),
   kmeans (k = 5) and half_space_trees (defaults; the features' limits given) without a label
   vs logistic_regression with the class: what learning one row costs;
   bagging_classifier (10 default Hoeffding trees) and adaptive_random_forest_classifier (its
   defaults: 10 trees, Poisson(6)) vs logistic_regression, bagging_regressor (10 default linear
   regressions) vs linear_regression.
2. scoring over every row, the model from a scalar subquery:
   passive_aggressive_classifier's ml_predict_class vs logistic_regression's,
   passive_aggressive_regressor's ml_predict_one vs linear_regression's,
   kmeans' ml_predict_class (the cluster) vs logistic_regression's ml_predict_class,
   half_space_trees' ml_predict_one (the anomaly score) vs logistic_regression's ml_predict_one,
   the bagged trees' and the forest's ml_predict_class vs logistic_regression's,
   bagging_regressor's ml_predict_one vs linear_regression's.

It is a benchmark, not a test: it exits 0 whatever the ratios, non-zero only when something fails.
"""

import json
import os

from benchlib import PORT, RUNS, SETTINGS, Cluster, Table, build_table, compare, log, run_main, session, uniform_rows

ROWS = int(os.environ.get("BENCH_ROWS", "200000"))
NF = 20
LOGISTIC = {"model": "logistic_regression"}
LINEAR = {"model": "linear_regression"}
PA_CLF = {"model": "passive_aggressive_classifier"}
PA_REG = {"model": "passive_aggressive_regressor"}
KMEANS = {"model": "kmeans", "n_clusters": 5}
HST = {"model": "half_space_trees", "limits": {"x%d" % (i + 1): [-1, 1] for i in range(NF)}}
# (half_space_trees' limits are per feature name: a float8[]'s features are x1 .. x20)
BAG_CLF = {"model": "bagging_classifier"}
ARF = {"model": "adaptive_random_forest_classifier"}
BAG_REG = {"model": "bagging_regressor"}

MODELS = [("logistic", LOGISTIC, "y"), ("linear", LINEAR, "v"), ("pa_clf", PA_CLF, "y"),
          ("pa_reg", PA_REG, "v"), ("kmeans", KMEANS, None), ("hst", HST, None),
          ("bag_clf", BAG_CLF, "y"), ("arf", ARF, "y"), ("bag_reg", BAG_REG, "v")]


def fit(spec, label):
    return "SELECT ml_fit('%s'::ml_model, x%s ORDER BY id) FROM t_fam" % (
        json.dumps(spec), ", " + label if label else "")


def build_data(conn):
    build_table(conn, "t_fam", """
        SELECT i AS id, x,
               ((SELECT sum(v * ((k % 5) - 2)) FROM unnest(x) WITH ORDINALITY AS u(v, k)) > 0)
               <> (random() < 0.05) AS y,
               (SELECT sum(v * k) FROM unnest(x) WITH ORDINALITY AS u(v, k)) + random() - 0.5 AS v
        """ + uniform_rows(ROWS, NF), "%d rows x %d features" % (ROWS, NF), models=True)


def main():
    with Cluster(port=PORT, settings=dict(SETTINGS)) as conn:
        session(conn, "%d rows, median of %d runs" % (ROWS, RUNS))
        build_data(conn)
        for name, spec, label in MODELS:
            conn.execute("INSERT INTO models SELECT %%s, (%s)" % fit(spec, label), (name,))
        # The models learned something (sanity checks, printed).
        acc = conn.execute(
            "SELECT avg((ml_predict_class((SELECT m FROM models WHERE name = 'pa_clf'), x) = y::int::text)::int) "
            "FROM t_fam").fetchone()[0]
        log("passive_aggressive_classifier training accuracy %.4f" % acc)
        clusters = conn.execute(
            "SELECT count(DISTINCT ml_predict_class((SELECT m FROM models WHERE name = 'kmeans'), x)) "
            "FROM t_fam").fetchone()[0]
        log("kmeans: %d clusters used" % clusters)
        tab = Table()
        # 1. learning
        tab.add("fit pa_classifier vs logistic", *compare(conn, fit(LOGISTIC, "y"), fit(PA_CLF, "y")))
        tab.add("fit pa_regressor vs linear", *compare(conn, fit(LINEAR, "v"), fit(PA_REG, "v")))
        tab.add("fit kmeans vs logistic", *compare(conn, fit(LOGISTIC, "y"), fit(KMEANS, None)))
        tab.add("fit half_space_trees vs logistic", *compare(conn, fit(LOGISTIC, "y"), fit(HST, None)))
        tab.add("fit bagging_classifier vs logistic", *compare(conn, fit(LOGISTIC, "y"), fit(BAG_CLF, "y")))
        tab.add("fit adaptive_random_forest vs logistic", *compare(conn, fit(LOGISTIC, "y"), fit(ARF, "y")))
        tab.add("fit bagging_regressor vs linear", *compare(conn, fit(LINEAR, "v"), fit(BAG_REG, "v")))
        # 2. scoring
        score = "SELECT count(%s((SELECT m FROM models WHERE name = '%s'), t.x)) FROM t_fam AS t"
        tab.add("predict pa_classifier vs logistic",
                *compare(conn, score % ("ml_predict_class", "logistic"), score % ("ml_predict_class", "pa_clf")))
        tab.add("predict pa_regressor vs linear",
                *compare(conn, score % ("ml_predict_one", "linear"), score % ("ml_predict_one", "pa_reg")))
        tab.add("predict kmeans vs logistic",
                *compare(conn, score % ("ml_predict_class", "logistic"), score % ("ml_predict_class", "kmeans")))
        tab.add("predict half_space_trees vs logistic",
                *compare(conn, score % ("ml_predict_one", "logistic"), score % ("ml_predict_one", "hst")))
        tab.add("predict bagging_classifier vs logistic",
                *compare(conn, score % ("ml_predict_class", "logistic"), score % ("ml_predict_class", "bag_clf")))
        tab.add("predict adaptive_random_forest vs logistic",
                *compare(conn, score % ("ml_predict_class", "logistic"), score % ("ml_predict_class", "arf")))
        tab.add("predict bagging_regressor vs linear",
                *compare(conn, score % ("ml_predict_one", "linear"), score % ("ml_predict_one", "bag_reg")))
        tab.summary()


if __name__ == "__main__":
    run_main(main)
