"""Hyperparameter search (issue 16 item 4) against scikit-learn and models fitted by hand in SQL.

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_search.py
(a throwaway cluster is started as postgres; see common.py for PGL_TEST_DSN etc.).

1. grid on a holdout split, breast cancer (logistic regression): the trials are
   sklearn.model_selection.ParameterGrid's points for the same space (flat names), in its order;
   each trial's value and metrics equal scikit-learn's roc_auc_score, log_loss and accuracy_score
   over the predictions of a model fitted by hand in SQL (ml_fit ... ORDER BY id over the rows
   ml_split(id, 0.2, seed) calls 'train', scored on the 'test' rows), within 1e-12; is_best is the
   argmax of sklearn's AUC (the first of equal ones).
2. grid by 5-fold cross-validation, diabetes (linear regression, 3 epochs): each trial's value
   and sd are numpy's mean and sample sd of sklearn's RMSE over the folds, each fold's model trained
   by hand (ml_train with the epochs and seed on ml_fold(id, 5, seed) <> f); is_best is the argmin.
3. random search: the trials' values are SplitMix64's draws written out in Python (log_uniform,
   uniform, a choice), and the same seed gives the same trials.
4. successive halving on the holdout split (epochs 1): each trial's value at the rung it stopped
   at equals sklearn's AUC of a model fitted by hand on the first r training rows (r from its
   message); the last rung's value equals the grid trial's; rungs hold 9, 3 and 1 candidates.
5. register => name: the registered model predicts as ml_train of the best spec on every row
   (the same epochs and seed), its metrics are the best trial's; ml_deploy(name, 'best', metric)
   deploys the version with the best value.
"""

import json
import math
import os
import sys

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, roc_auc_score
from sklearn.model_selection import ParameterGrid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Reporter, load_xy, run_checks, start_cluster  # noqa: E402

TOL = 1e-12
M64 = (1 << 64) - 1


def rel(a, b):
    return abs(a - b) / max(1.0, abs(b))


class SplitMix64:
    def __init__(self, seed):
        self.s = seed & M64

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)


def flat(params):
    """{"optimizer": {"sgd": {"lr": 0.1}}} -> {"optimizer.sgd.lr": 0.1}"""
    out = {}
    for k, v in params.items():
        if isinstance(v, dict):
            for k2, v2 in flat(v).items():
                out[k + "." + k2] = v2
        else:
            out[k] = v
    return out


def holdout_grid(conn, rep):
    seed = 3
    space = {"l2": [0, 0.001, 0.1], "optimizer": {"sgd": {"lr": [0.001, 0.05]}}}
    trials = conn.execute(
        "SELECT trial, spec, params, status, value, metrics, is_best FROM ml_search(%s, %s, %s, metric => 'auc', seed => %s) ORDER BY trial",
        (json.dumps({"model": "logistic_regression"}), json.dumps(space), "SELECT x, y, id FROM cancer ORDER BY id", seed)).fetchall()
    grid = list(ParameterGrid({"l2": [0, 0.001, 0.1], "optimizer.sgd.lr": [0.001, 0.05]}))
    rep.check("grid_is_parameter_grid", [t[2] for t in trials] == grid,
              "%d trials, ParameterGrid %d points; first %s" % (len(trials), len(grid), trials[0][2] if trials else None))
    worst, aucs = 0.0, []
    for trial, spec, params, status, value, metrics, is_best in trials:
        rows = conn.execute(
            "WITH m AS (SELECT ml_fit(%%s::ml_model, x, y ORDER BY id) AS m FROM cancer WHERE ml_split(id, 0.2, %d) = 'train') "
            "SELECT t.y, ml_predict_one(m.m, t.x) FROM cancer t, m WHERE ml_split(t.id, 0.2, %d) = 'test' ORDER BY t.id" % (seed, seed),
            (json.dumps(spec),)).fetchall()
        y = np.array([r[0] for r in rows])
        p = np.array([r[1] for r in rows])
        want = {"auc": roc_auc_score(y, p), "logloss": log_loss(y, p, labels=[0, 1]),
                "accuracy": accuracy_score(y, (p >= 0.5).astype(int))}
        aucs.append(want["auc"])
        worst = max([worst, rel(value, want["auc"])] + [rel(metrics[k], want[k]) for k in want])
    rep.check("holdout_values_equal_sklearn_on_hand_fitted_models", len(trials) == 6 and worst <= TOL,
              "%d trials, largest relative difference %.3g; AUCs %s" % (len(trials), worst, [round(a, 4) for a in aucs]))
    best = int(np.argmax(aucs)) + 1
    rep.check("holdout_best_is_argmax", [t[0] for t in trials if t[6]] == [best], "best %s, argmax %d" % ([t[0] for t in trials if t[6]], best))


def cv_grid(conn, rep):
    seed, epochs = 2, 3
    space = {"l2": [0, 0.5], "intercept_lr": [0.001, 0.1]}
    trials = conn.execute(
        "SELECT trial, spec, value, sd, is_best FROM ml_search(%s, %s, %s, folds => 5, epochs => %s, seed => %s) ORDER BY trial",
        (json.dumps({"model": "linear_regression"}), json.dumps(space), "SELECT x, y, id FROM diabetes ORDER BY id", epochs, seed)).fetchall()
    worst, means = 0.0, []
    for trial, spec, value, sd, is_best in trials:
        vals = []
        for f in range(1, 6):
            rows = conn.execute(
                "WITH m AS (SELECT ml_train(%%s::ml_model, %%s, epochs => %d, seed => %d) AS m) "
                "SELECT t.y, ml_predict_one(m.m, t.x) FROM diabetes t, m WHERE ml_fold(t.id, 5, %d) = %d ORDER BY t.id" % (epochs, seed, seed, f),
                (json.dumps(spec), "SELECT x, y FROM diabetes WHERE ml_fold(id, 5, %d) <> %d ORDER BY id" % (seed, f))).fetchall()
            vals.append(math.sqrt(mean_squared_error([r[0] for r in rows], [r[1] for r in rows])))
        means.append(float(np.mean(vals)))
        worst = max(worst, rel(value, float(np.mean(vals))), rel(sd, float(np.std(vals, ddof=1))))
    rep.check("cv_values_equal_sklearn_on_hand_fitted_folds", len(trials) == 4 and worst <= TOL,
              "%d trials, largest relative difference %.3g; RMSEs %s" % (len(trials), worst, [round(m, 3) for m in means]))
    best = int(np.argmin(means)) + 1
    rep.check("cv_best_is_argmin", [t[0] for t in trials if t[4]] == [best], "best %s, argmin %d" % ([t[0] for t in trials if t[4]], best))


def random_search(conn, rep):
    seed = 12345
    space = {"l2": {"log_uniform": [1e-5, 1e-1]}, "intercept_lr": {"uniform": [0.001, 0.05]}, "scale": [True, False]}
    q = "SELECT trial, params FROM ml_search(%s, %s, %s, method => 'random', trials => 6, seed => %s) ORDER BY trial"
    args = (json.dumps({"model": "linear_regression"}), json.dumps(space), "SELECT x, y, id FROM diabetes", seed)
    got = [t[1] for t in conn.execute(q, args).fetchall()]
    again = [t[1] for t in conn.execute(q, args).fetchall()]
    r = SplitMix64(seed)
    want = []
    for _ in range(6):
        # dimensions in name order: intercept_lr, l2, scale
        u = (r.next() >> 11) * 2.0 ** -53
        ilr = 0.001 + (0.05 - 0.001) * u
        u = (r.next() >> 11) * 2.0 ** -53
        l2 = math.exp(math.log(1e-5) + (math.log(1e-1) - math.log(1e-5)) * u)
        scale = [True, False][(r.next() * 2) >> 64]
        want.append({"intercept_lr": ilr, "l2": l2, "scale": scale})
    ok = len(got) == 6 and all(g["scale"] == w["scale"] and rel(g["l2"], w["l2"]) <= 1e-15 and rel(g["intercept_lr"], w["intercept_lr"]) <= 1e-15
                               for g, w in zip(got, want))
    rep.check("random_draws_are_splitmix64", ok, "first %s, by hand %s" % (got[0] if got else None, want[0]))
    rep.check("random_same_seed_same_trials", got == again, "%d trials" % len(again))


def halving(conn, rep):
    seed = 5
    space = {"optimizer": {"sgd": {"lr": [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]}}}
    base = {"model": "logistic_regression", "optimizer": "sgd"}
    q = "SELECT trial, spec, value, message, is_best FROM ml_search(%s, %s, %s, method => %s, metric => 'auc', seed => %s) ORDER BY trial"
    h = conn.execute(q, (json.dumps(base), json.dumps(space), "SELECT x, y, id FROM cancer ORDER BY id", "halving", seed)).fetchall()
    g = conn.execute(q, (json.dumps(base), json.dumps(space), "SELECT x, y, id FROM cancer ORDER BY id", "grid", seed)).fetchall()
    rungs = [int(m.split()[1]) for _, _, _, m, _ in h]
    rep.check("halving_rungs", sorted(rungs) == [1] * 6 + [2] * 2 + [3], "rungs %s" % rungs)
    worst = 0.0
    for trial, spec, value, message, is_best in h:
        r = int(message.split("learned ")[1].split()[0])
        rows = conn.execute(
            "WITH m AS (SELECT ml_fit(%%s::ml_model, x, y ORDER BY id) AS m FROM "
            "(SELECT * FROM cancer WHERE ml_split(id, 0.2, %d) = 'train' ORDER BY id LIMIT %d) s) "
            "SELECT t.y, ml_predict_one(m.m, t.x) FROM cancer t, m WHERE ml_split(t.id, 0.2, %d) = 'test' ORDER BY t.id" % (seed, r, seed),
            (json.dumps(spec),)).fetchall()
        worst = max(worst, rel(value, roc_auc_score([x[0] for x in rows], [x[1] for x in rows])))
    rep.check("halving_rung_values_equal_sklearn_on_prefix_models", len(h) == 9 and worst <= TOL,
              "%d trials, largest relative difference %.3g" % (len(h), worst))
    best = [t for t in h if t[4]]
    rep.check("halving_last_rung_equals_grid", len(best) == 1 and best[0][2] == g[best[0][0] - 1][2] and "rung 3 of 3" in best[0][3],
              "best %s: %s; grid %s" % (best[0][0] if best else None, best[0][2] if best else None, g[best[0][0] - 1][2] if best else None))


def register_and_deploy(conn, rep):
    seed, epochs = 4, 2
    conn.execute("SELECT ml_unregister(name, force => true) FROM ml_model_names WHERE name = 'cancer_best'")
    for space in ({"l2": [0.1, 0]}, {"l2": [1]}):
        conn.execute("SELECT count(*) FROM ml_search(%s, %s, %s, metric => 'auc', epochs => %s, seed => %s, register => 'cancer_best')",
                     (json.dumps({"model": "logistic_regression"}), json.dumps(space), "SELECT x, y, id FROM cancer ORDER BY id", epochs, seed))
    versions = conn.execute("SELECT version, spec, metrics, provenance FROM ml_models WHERE name = 'cancer_best' ORDER BY version").fetchall()
    rep.check("register_two_versions", len(versions) == 2, "%d versions" % len(versions))
    # version 1: the model is ml_train of its trial's spec on every row
    v1 = versions[0]
    trial_spec = conn.execute(
        "SELECT spec, metrics FROM ml_search(%s, %s, %s, metric => 'auc', epochs => %s, seed => %s) WHERE is_best",
        (json.dumps({"model": "logistic_regression"}), json.dumps({"l2": [0.1, 0]}), "SELECT x, y, id FROM cancer ORDER BY id", epochs, seed)).fetchone()
    diff = conn.execute(
        "WITH h AS (SELECT ml_train(%s::ml_model, 'SELECT x, y FROM cancer ORDER BY id', epochs => %s, seed => %s) AS m), "
        "r AS (SELECT model AS m FROM ml_models WHERE name = 'cancer_best' AND version = 1) "
        "SELECT max(abs(ml_predict_one(h.m, t.x) - ml_predict_one(r.m, t.x))) FROM cancer t, h, r",
        (json.dumps(trial_spec[0]), epochs, seed)).fetchone()[0]
    rep.check("registered_model_is_trained_on_every_row", diff == 0 and v1[2] == trial_spec[1],
              "largest prediction difference %s; metrics %s vs trial %s" % (diff, v1[2], trial_spec[1]))
    rep.check("registered_provenance", v1[3].get("search", {}).get("space") == {"l2": [0.1, 0]} and v1[3]["search"]["rows"] == 569,
              json.dumps(v1[3])[:200])
    best = max(versions, key=lambda v: (v[2]["auc"], v[0]))[0]
    conn.execute("SELECT ml_deploy('cancer_best', strategy => 'best', metric => 'auc')")
    deployed = conn.execute("SELECT version FROM ml_aliases WHERE name = 'cancer_best' AND alias = 'production'").fetchone()[0]
    worst_ll = max(versions, key=lambda v: (v[2]["logloss"], -v[0]))[0]
    best_ll = min(versions, key=lambda v: (v[2]["logloss"], -v[0]))[0]
    conn.execute("SELECT ml_deploy('cancer_best', 'best', 'logloss', 'staging')")
    staged = conn.execute("SELECT version FROM ml_aliases WHERE name = 'cancer_best' AND alias = 'staging'").fetchone()[0]
    rep.check("deploy_best_by_metric", deployed == best and staged == best_ll,
              "auc: deployed %s, best %s; logloss: staged %s, best %s (worst %s)" % (deployed, best, staged, best_ll, worst_ll))


def main():
    rep = Reporter()
    cluster, conn = start_cluster(rep, port=int(os.environ.get("PGL_TEST_PORT", "5484")))
    try:
        Xc, yc = load_breast_cancer(return_X_y=True)
        load_xy(conn, "cancer", Xc, yc, first_id=1)
        Xd, yd = load_diabetes(return_X_y=True)
        load_xy(conn, "diabetes", Xd, yd, first_id=1)
        run_checks(rep, (("holdout_grid", lambda: holdout_grid(conn, rep)),
                         ("cv_grid", lambda: cv_grid(conn, rep)),
                         ("random_search", lambda: random_search(conn, rep)),
                         ("halving", lambda: halving(conn, rep)),
                         ("register_and_deploy", lambda: register_and_deploy(conn, rep))))
    finally:
        cluster.stop()
    rep.exit()


if __name__ == "__main__":
    main()
