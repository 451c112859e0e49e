"""Quality of pg_learn's unsupervised models against scikit-learn (issue 13, held out).

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_quality_unsupervised.py
(a throwaway cluster is started as postgres; see common.py for PGL_TEST_DSN etc.).

- k-means: on make_blobs data (1,500 points, 5 blobs, 3 features, standardised to mean 0 and
  variance 1 so that river's default initialisation, centers drawn from N(0, 1) per feature,
  lands among the data), the inertia of pg_learn's kmeans is within 10% of scikit-learn's KMeans
  (k-means++, n_init=10) on the same standardised data. As scikit-learn keeps the best of its
  n_init=10 runs, pg_learn trains 10 models (seeds 0..9) and keeps the lowest inertia; each
  model is ml_train(spec, 'SELECT x FROM ...', epochs => 3) with {"n_clusters": 5,
  "halflife": 0.05}: one pass of an online k-means is not enough (its centers follow the last
  points they took), three shuffled passes with a small halflife are (measured: within 3.5% on
  make_blobs random_state 0..5). A single seed can land in a local minimum, as online k-means
  does (river's too): a center that starts between two blobs takes both.
  One pass is enough with a smaller halflife: one pass of ml_fit in table order with
  {"n_clusters": 5, "halflife": 0.1}, best of the 10 seeds, is within 10% too (measured: 1.03x
  to 1.07x in a NumPy model of the algorithm on random_state 0..5). With river's default
  halflife 0.5 one pass stays 1.16x to 1.40x: the detail line of that check prints it.
  Also checked: ml_predict_class is the nearest center of ml_info's centers for every point.
- Half-Space Trees: on a stream of 5,000 points, 99% from three Gaussian blobs in 4 dimensions
  and 1% planted outliers (uniform in the blobs' bounding box, at least 3 from every inlier),
  one pass of half_space_trees with the default n_trees/height/window_size and "limits" set to
  the data's range widened by 1, then every point scored: its ROC AUC is within 0.05 of
  scikit-learn's IsolationForest (default parameters, random_state 0) fitted on the same points.
Training and scoring happen in SQL; only the metrics are computed in Python.
"""

import json
import os
import sys

import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Reporter, load_xy, run_checks, start_cluster  # noqa: E402

INERTIA_MARGIN = 0.10
AUC_MARGIN = 0.05


def kmeans_blobs(conn, rep, random_state):
    name = "kmeans_blobs_%d" % random_state
    X, _ = make_blobs(n_samples=1500, centers=5, n_features=3, cluster_std=1.0, random_state=random_state)
    X = (X - X.mean(0)) / X.std(0)
    load_xy(conn, name, X)
    sk = KMeans(n_clusters=5, n_init=10, random_state=0).fit(X)
    best = None
    for seed in range(10):
        spec = {"model": "kmeans", "n_clusters": 5, "halflife": 0.05, "seed": seed}
        m = conn.execute("SELECT ml_train(%%s::ml_model, 'SELECT x FROM %s ORDER BY id', epochs => 3, seed => 42)::text"
                         % name, (json.dumps(spec),)).fetchone()[0]
        rows = conn.execute("SELECT ml_info(%%s::ml_model) -> 'centers', array_agg(ml_predict_class(%%s::ml_model, x) ORDER BY id) "
                            "FROM %s" % name, (m, m)).fetchone()
        C = np.array(rows[0], dtype=float)
        d = ((X[:, None, :] - C[None, :, :]) ** 2).sum(-1)
        nearest = d.argmin(1)
        predicted = np.array([int(c) for c in rows[1]])
        if not rep.check("%s_seed%d_predict_class_is_nearest_center" % (name, seed), (predicted == nearest).all(),
                         "%d of %d differ" % (int((predicted != nearest).sum()), len(X))):
            return
        inertia = float(d.min(1).sum())
        best = inertia if best is None else min(best, inertia)
    ratio = best / sk.inertia_
    rep.check("%s_inertia_within_10pct" % name, ratio <= 1 + INERTIA_MARGIN,
              "pg_learn best of 10 seeds %.3f, sklearn %.3f, ratio %.4f" % (best, sk.inertia_, ratio))
    # One pass (ml_fit in the table's order, no shuffling): with halflife 0.1 the best of the
    # 10 seeds is within 10%; river's default halflife 0.5 is not (its centers follow the last
    # points they took), which the detail line shows for the record.
    one_pass = {}
    for halflife in (0.1, 0.5):
        one_pass[halflife] = min(
            inertia_of(conn, name, X, {"model": "kmeans", "n_clusters": 5, "halflife": halflife, "seed": seed})
            for seed in range(10))
    ratio = one_pass[0.1] / sk.inertia_
    rep.check("%s_one_pass_halflife_0.1_inertia_within_10pct" % name, ratio <= 1 + INERTIA_MARGIN,
              "one pass, best of 10 seeds: halflife 0.1 ratio %.4f; river's default halflife 0.5 ratio %.4f"
              % (ratio, one_pass[0.5] / sk.inertia_))


def inertia_of(conn, name, X, spec):
    """The inertia of X around the centers of one pass of ml_fit over the table, in id order."""
    centers = conn.execute("SELECT ml_info(ml_fit(%%s::ml_model, x ORDER BY id)) -> 'centers' FROM %s" % name,
                           (json.dumps(spec),)).fetchone()[0]
    C = np.array(centers, dtype=float)
    return float(((X[:, None, :] - C[None, :, :]) ** 2).sum(-1).min(1).sum())


def hst_outliers(conn, rep, random_state):
    name = "hst_outliers_%d" % random_state
    rng = np.random.default_rng(random_state)
    n, nf = 5000, 4
    Xin, _ = make_blobs(n_samples=int(n * 0.99), centers=3, n_features=nf, cluster_std=1.0, random_state=random_state)
    lo, hi = Xin.min(0), Xin.max(0)
    n_out = n - len(Xin)
    cand = rng.uniform(lo, hi, size=(n_out * 50, nf))
    dist, _ = NearestNeighbors(n_neighbors=1).fit(Xin).kneighbors(cand)
    Xout = cand[dist[:, 0] > 3][:n_out]
    if len(Xout) != n_out:
        rep.fail(name, "could not plant %d outliers" % n_out)
        return
    X = np.vstack([Xin, Xout])
    y = np.r_[np.zeros(len(Xin)), np.ones(len(Xout))]
    perm = rng.permutation(len(X))
    X, y = X[perm], y[perm]
    load_xy(conn, name, X, y)
    iso = IsolationForest(random_state=0).fit(X)
    auc_iso = roc_auc_score(y, -iso.score_samples(X))
    limits = {"x%d" % (j + 1): [float(lo[j] - 1), float(hi[j] + 1)] for j in range(nf)}
    spec = {"model": "half_space_trees", "limits": limits, "seed": 1}
    rows = conn.execute("WITH m AS (SELECT ml_fit(%%s::ml_model, x ORDER BY id) AS m FROM %s) "
                        "SELECT t.y, ml_predict_one(m.m, t.x) FROM %s t, m ORDER BY t.id" % (name, name),
                        (json.dumps(spec),)).fetchall()
    yy = np.array([r[0] for r in rows])
    s = np.array([r[1] for r in rows])
    rep.check("%s_scores_in_unit_interval" % name, bool(((s >= 0) & (s <= 1)).all()))
    auc = roc_auc_score(yy, s)
    rep.check("%s_auc_within_0.05_of_isolation_forest" % name, auc >= auc_iso - AUC_MARGIN,
              "half_space_trees %.4f, IsolationForest %.4f" % (auc, auc_iso))


def main():
    rep = Reporter()
    cluster, conn = start_cluster(rep)
    try:
        run_checks(rep, (("kmeans_blobs_0", lambda c, r: kmeans_blobs(c, r, 0)),
                         ("kmeans_blobs_3", lambda c, r: kmeans_blobs(c, r, 3)),
                         ("hst_outliers_0", lambda c, r: hst_outliers(c, r, 0)),
                         ("hst_outliers_1", lambda c, r: hst_outliers(c, r, 1))), conn, rep)
    finally:
        cluster.stop()
    rep.exit()


if __name__ == "__main__":
    main()
