"""Imported XGBoost models score exactly as XGBoost does (issue 15's parity check).

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_xgboost_parity.py
(needs python3-xgboost; a throwaway cluster is started as postgres, see common.py).

For every objective ml_import('xgboost', ...) supports as listed by the issue (binary:logistic,
reg:squarederror, reg:logistic, multi:softprob, multi:softmax, count:poisson, rank:pairwise as
raw margin), XGBoost (Debian's python3-xgboost, nthread=1) trains a model of 40 trees on a
synthetic set of 12 numeric and 2 categorical features (enable_categorical: the categories are
integer codes), saves it with Booster.save_model (JSON), and the database imports the text. Then
PGL_PARITY_ROWS (default 100k) fresh rows per objective, with NaNs (about 8% of the cells),
extreme values (+-1e30, +-3e38 near float32's largest, values at the float32 rounding of a
split threshold; XGBoost refuses infinite inputs, and so does the import) and unseen categories (codes past the trained ones, negative codes, codes
past 2^24), are scored by ml_predict_one / ml_predict_proba / ml_predict_class over float8[]
in SQL and by Booster.predict on the same rows; every prediction must agree within 1e-6
relative (|a - b| <= 1e-6 * max(|b|, 1e-12)). XGBoost's thresholds are float32 and its inputs
are converted to float32 before comparing: the import does the same, so values that round to a
threshold go the way XGBoost sends them. One more model is trained with early stopping: the
import uses the trees up to its best iteration, as Booster.predict(iteration_range=(0,
best_iteration + 1)) does. A jsonb check scores 5000 rows by feature name (a NaN cell is a key
left out of the object) against the same predictions.
"""

import json
import os
import sys
import time

import numpy as np
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Reporter, copy_rows, start_cluster  # noqa: E402

SEED = 15
N_ROWS = int(os.environ.get("PGL_PARITY_ROWS", "100000"))
N_TRAIN = 20000
N_NUM = 12
N_CAT = 2
N_CATS_TRAINED = 12
TOL = 1e-6
NAMES = ["n%d" % i for i in range(N_NUM)] + ["c%d" % i for i in range(N_CAT)]
TYPES = ["q"] * N_NUM + ["c"] * N_CAT


def features(n, rng, extremes):
    """n rows: numeric normals, categorical codes; with extremes, NaNs and unseen categories."""
    x = rng.normal(size=(n, N_NUM + N_CAT))
    x[:, N_NUM:] = rng.integers(0, N_CATS_TRAINED, size=(n, N_CAT))
    if extremes:
        # Unseen categories: past the trained codes, negative, past 2^24.
        cats = x[:, N_NUM:]
        pick = rng.uniform(size=cats.shape)
        cats[pick < 0.05] = rng.integers(N_CATS_TRAINED, 100, size=(pick < 0.05).sum())
        cats[(pick >= 0.05) & (pick < 0.07)] = -3
        cats[(pick >= 0.07) & (pick < 0.08)] = 2.0 ** 25
        nums = x[:, :N_NUM]
        pick = rng.uniform(size=nums.shape)
        nums[pick < 0.01] = 1e30
        nums[(pick >= 0.01) & (pick < 0.02)] = -1e30
        nums[(pick >= 0.02) & (pick < 0.025)] = 3e38
        nums[(pick >= 0.025) & (pick < 0.03)] = -3e38
        # Values that round to 0.1 in float32 (thresholds sit at such values).
        nums[(pick >= 0.03) & (pick < 0.04)] = 0.1 + 1e-9
        nums[(pick >= 0.04) & (pick < 0.05)] = float(np.float32(0.25))
    return x


def with_nans(x, rng, rate=0.08):
    x = x.copy()
    x[rng.uniform(size=x.shape) < rate] = np.nan
    return x


def label(x, objective, rng):
    n = x.shape[0]
    num = np.nan_to_num(x[:, :N_NUM])
    cat = np.nan_to_num(x[:, N_NUM:])
    score = num[:, 0] + 0.5 * num[:, 1] * num[:, 2] - np.abs(num[:, 3]) + 0.3 * (cat[:, 0] % 3) - 0.2 * (cat[:, 1] > 5)
    if objective in ("binary:logistic",):
        return (score + rng.normal(scale=0.5, size=n) > 0).astype(float)
    if objective == "reg:logistic":
        return 1.0 / (1.0 + np.exp(-score))
    if objective.startswith("multi:"):
        return np.digitize(score, [-1.0, 0.0, 1.0]).astype(float)
    if objective == "count:poisson":
        return rng.poisson(np.exp(0.4 * np.clip(score, -3, 3))).astype(float)
    if objective.startswith("rank:"):
        return np.digitize(score, [-1.0, 0.0, 1.0]).astype(float)
    return score + rng.normal(scale=0.3, size=n) + 2.0


def train(objective, rng, early_stopping=False, base_score=None):
    x = with_nans(features(N_TRAIN, rng, False), rng)
    y = label(x, objective, rng)
    params = {"objective": objective, "max_depth": 5, "eta": 0.3, "nthread": 1, "tree_method": "hist",
              "max_cat_to_onehot": 1, "seed": 1}
    if objective.startswith("multi:"):
        params["num_class"] = 4
    if base_score is not None:
        params["base_score"] = base_score
    d = xgb.DMatrix(x, label=y, feature_names=NAMES, feature_types=TYPES, enable_categorical=True)
    if objective.startswith("rank:"):
        d.set_group([100] * (N_TRAIN // 100))
    if early_stopping:
        xv = with_nans(features(4000, rng, False), rng)
        yv = label(xv, objective, rng)
        dv = xgb.DMatrix(xv, label=yv, feature_names=NAMES, feature_types=TYPES, enable_categorical=True)
        b = xgb.train(params, d, 300, evals=[(dv, "valid")], early_stopping_rounds=5, verbose_eval=False)
    else:
        b = xgb.train(params, d, 40)
    path = "/tmp/pgl_xgb_parity_%d.json" % os.getpid()
    b.save_model(path)
    with open(path) as f:
        text = f.read()
    os.unlink(path)
    return b, text


def rel_ok(ours, ref):
    ours = np.asarray(ours, dtype=float)
    ref = np.asarray(ref, dtype=float)
    err = np.abs(ours - ref)
    bound = TOL * np.maximum(np.abs(ref), 1e-12)
    bad = ~(err <= bound)
    return int(bad.sum()), float(np.max(err / np.maximum(np.abs(ref), 1e-12))) if len(ref) else 0.0


CASES = [
    ("binary_logistic", "binary:logistic", {}),
    ("reg_squarederror", "reg:squarederror", {"base_score": 3.7}),
    ("reg_logistic", "reg:logistic", {}),
    ("multi_softprob", "multi:softprob", {}),
    ("multi_softmax", "multi:softmax", {}),
    ("count_poisson", "count:poisson", {}),
    ("rank_pairwise", "rank:pairwise", {}),
    ("reg_squarederror_best_iteration", "reg:squarederror", {"early_stopping": True}),
]


def main():
    rep = Reporter()
    rng = np.random.default_rng(SEED)
    x_test = with_nans(features(N_ROWS, rng, True), rng)
    cluster, conn = start_cluster(rep)
    try:
        conn.execute("CREATE TABLE rows (id int PRIMARY KEY, a float8[])")
        copy_rows(conn, "rows", ["id", "a"], ((i, [float(v) for v in x_test[i]]) for i in range(N_ROWS)))
        n_json = min(5000, N_ROWS)
        conn.execute("CREATE TABLE jrows (id int PRIMARY KEY, x jsonb)")
        copy_rows(conn, "jrows", ["id", "x"],
                  ((i, json.dumps({k: float(v) for k, v in zip(NAMES, x_test[i]) if not np.isnan(v)}))
                   for i in range(n_json)))
        conn.execute("ANALYZE rows")
        conn.execute("ANALYZE jrows")
        conn.execute("CREATE TABLE models (name text PRIMARY KEY, m ml_model)")
        dtest = xgb.DMatrix(x_test, feature_names=NAMES, feature_types=TYPES, enable_categorical=True)
        for name, objective, opts in CASES:
            try:
                t0 = time.time()
                b, text = train(objective, rng, opts.get("early_stopping", False), opts.get("base_score"))
                conn.execute("INSERT INTO models VALUES (%s, ml_import('xgboost', %s))", (name, text))
                info = conn.execute("SELECT ml_info(m) FROM models WHERE name = %s", (name,)).fetchone()[0]
                if opts.get("early_stopping"):
                    best = int(b.attr("best_iteration"))
                    ref = b.predict(dtest, iteration_range=(0, best + 1))
                    rep.check(name + "_trees_used", info["trees_used"] == best + 1 and info["trees"] > best + 1,
                              "best iteration %d: %d of %d trees used" % (best, info["trees_used"], info["trees"]))
                else:
                    ref = b.predict(dtest)
                if objective == "multi:softprob":
                    got = conn.execute(
                        "SELECT ml_predict_proba(m, a) FROM rows, models WHERE name = %s ORDER BY id", (name,)).fetchall()
                    ours = np.array([[r[0][str(c)] for c in range(4)] for r in got])
                    bad, worst = rel_ok(ours.ravel(), ref.ravel())
                elif objective == "multi:softmax":
                    got = conn.execute(
                        "SELECT ml_predict_class(m, a) FROM rows, models WHERE name = %s ORDER BY id", (name,)).fetchall()
                    ours = np.array([float(r[0]) for r in got])
                    bad, worst = int((ours != ref).sum()), 0.0
                else:
                    got = conn.execute(
                        "SELECT ml_predict_one(m, a) FROM rows, models WHERE name = %s ORDER BY id", (name,)).fetchall()
                    ours = np.array([r[0] for r in got])
                    bad, worst = rel_ok(ours, ref)
                rep.check(name, bad == 0 and len(got) == N_ROWS,
                          "%d rows, %d outside 1e-6 relative (worst %.3g); %d trees, depth %d (%.1f s)"
                          % (len(got), bad, worst, info["trees"], info["max_depth"], time.time() - t0))
                if objective in ("binary:logistic", "multi:softprob"):
                    if objective == "binary:logistic":
                        got = conn.execute("SELECT ml_predict_one(m, x) FROM jrows, models WHERE name = %s ORDER BY id",
                                           (name,)).fetchall()
                        bad, worst = rel_ok([r[0] for r in got], ref[:n_json])
                    else:
                        got = conn.execute("SELECT ml_predict_proba(m, x) FROM jrows, models WHERE name = %s ORDER BY id",
                                           (name,)).fetchall()
                        ours = np.array([[r[0][str(c)] for c in range(4)] for r in got])
                        bad, worst = rel_ok(ours.ravel(), ref[:n_json].ravel())
                    rep.check(name + "_jsonb_by_name", bad == 0 and len(got) == n_json,
                              "%d rows by feature name, %d outside 1e-6 relative (worst %.3g)" % (len(got), bad, worst))
            except Exception as e:  # noqa: BLE001
                rep.fail(name, "error: %s: %s" % (type(e).__name__, " ".join(str(e).split())[:400]))
    finally:
        conn.close()
        cluster.stop()
    rep.exit()


if __name__ == "__main__":
    main()
