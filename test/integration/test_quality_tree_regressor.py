"""Quality of the Hoeffding tree regressor on Friedman #1, against linear regression.

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_quality_tree_regressor.py
(a throwaway cluster is started as postgres; see common.py for PGL_TEST_DSN etc.).

Issue 13's check: on scikit-learn's make_friedman1 (10 features uniform in [0, 1), of which the
first five matter: 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5, plus Gaussian noise of sd 1),
ONE pass of the Hoeffding tree regressor (ml_fit ... ORDER BY, in SQL, default options) reaches
a held-out R^2 at least 0.15 above that of pg_learn's linear regression (default options)
trained by the same one pass. For context it also reports scikit-learn's DecisionTreeRegressor
fitted in batch at the depth the Hoeffding tree reached, and scikit-learn's LinearRegression
(exact least squares, the best any linear model can do). Rows: 200k to learn from
(PGL_FRIEDMAN_ROWS), 20k held out. A second check runs the same rows through float8[] features
with "model" leaves at max_depth 10 (PGL_TREE_DEPTH), a third reports mean leaves (a plain
regression tree; no target). When written: linear 0.727, default tree 0.893 (+0.166; depth 16,
scikit-learn's DecisionTreeRegressor at depth 16: 0.898), depth-10 model leaves 0.886 (+0.159;
scikit-learn at depth 10: 0.861), mean leaves at depth 10 0.838; scikit-learn's least squares
0.728.
"""

import json
import os
import sys

from sklearn.datasets import make_friedman1
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.tree import DecisionTreeRegressor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Reporter, fit_into, fresh_table, start_cluster  # noqa: E402

SEED = 2024
N_TRAIN = int(os.environ.get("PGL_FRIEDMAN_ROWS", "200000"))
N_TEST = 20_000
MAX_DEPTH = int(os.environ.get("PGL_TREE_DEPTH", "10"))
MARGIN = 0.15
NAMES = ["x%d" % (i + 1) for i in range(10)]


def load(conn, name, X, y):
    rows = []
    for i in range(len(y)):
        rows.append((i, json.dumps({k: float(v) for k, v in zip(NAMES, X[i])}), [float(v) for v in X[i]], float(y[i])))
    fresh_table(conn, name, ["id int PRIMARY KEY", "x jsonb", "a float8[]", "y float8"], rows)


def held_out_r2(conn, spec, column):
    fit_s = fit_into(conn, "fitted", spec, "friedman_train", x=column)
    info = conn.execute("SELECT ml_info(m) FROM fitted").fetchone()[0]
    r2 = conn.execute("SELECT ml_r2(ml_predict_one(f.m, t.%s), t.y) FROM friedman_test t, fitted f"
                      % column).fetchone()[0]
    return r2, info, fit_s


def main():
    rep = Reporter()
    X_tr, y_tr = make_friedman1(n_samples=N_TRAIN, n_features=10, noise=1.0, random_state=SEED)
    X_te, y_te = make_friedman1(n_samples=N_TEST, n_features=10, noise=1.0, random_state=SEED + 1)

    def sk_tree(depth):
        return r2_score(y_te, DecisionTreeRegressor(max_depth=depth, random_state=0).fit(X_tr, y_tr).predict(X_te))

    sk_ols = r2_score(y_te, LinearRegression().fit(X_tr, y_tr).predict(X_te))

    cluster, conn = start_cluster(rep)
    try:
        load(conn, "friedman_train", X_tr, y_tr)
        load(conn, "friedman_test", X_te, y_te)
        linear, _, lin_s = held_out_r2(conn, {"model": "linear_regression"}, "x")
        rep.check("friedman_linear_learns", linear > 0.5,
                  "pg_learn linear_regression held-out R2 %.4f (scikit-learn least squares %.4f; %.1f s)"
                  % (linear, sk_ols, lin_s))
        for name, spec, column in (
                ("friedman_jsonb_defaults", {"model": "hoeffding_tree_regressor"}, "x"),
                ("friedman_array_model",
                 {"model": "hoeffding_tree_regressor", "max_depth": MAX_DEPTH, "leaf_prediction": "model"}, "a")):
            try:
                r2, info, fit_s = held_out_r2(conn, spec, column)
                rep.check(name, r2 >= linear + MARGIN,
                          "tree R2 %.4f, linear_regression R2 %.4f (need >= +%.2f = %.4f); for context "
                          "scikit-learn DecisionTreeRegressor(max_depth=%d) %.4f, least squares %.4f; "
                          "%d leaves, depth %d, %d bytes, one pass over %d rows in %.1f s"
                          % (r2, linear, MARGIN, linear + MARGIN, info["depth"], sk_tree(info["depth"]), sk_ols,
                             info["n_leaves"], info["depth"], info["size_bytes"], info["n_seen"], fit_s))
            except Exception as e:  # noqa: BLE001
                rep.fail(name, "error: %s: %s" % (type(e).__name__, " ".join(str(e).split())))
        # Mean leaves alone (a plain regression tree): reported, and it must at least learn.
        r2, info, _ = held_out_r2(conn, {"model": "hoeffding_tree_regressor", "max_depth": MAX_DEPTH,
                                         "leaf_prediction": "mean"}, "a")
        rep.check("friedman_mean_leaves_learn", r2 > 0.5,
                  "mean leaves R2 %.4f (%d leaves, depth %d)" % (r2, info["n_leaves"], info["depth"]))
    finally:
        cluster.stop()
    rep.exit()


if __name__ == "__main__":
    main()
