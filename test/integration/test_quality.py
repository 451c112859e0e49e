"""Quality of pg_learn's models on scikit-learn's bundled datasets, against scikit-learn.

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_quality.py
(a throwaway cluster is started as postgres; see common.py for PGL_TEST_DSN etc.).

Both datasets use a fixed split: train_test_split(test_size=0.25, random_state=0), stratified
for the classifier. Training happens entirely in SQL (ml_train over the training table), scoring
in SQL (ml_predict_one over the test table); only the metric is computed in Python.

How the settings were chosen (once, not per run): a small grid (optimizer sgd/adagrad/adam at a
few learning rates, intercept_lr 0.001..0.01, 10/30/100 epochs) scored by 5-fold cross-validation
on the TRAINING part only; the choice below is the best or near-best cross-validated setting, and
its held-out figure is stable over shuffle seeds 0..9 (diabetes R^2 0.361..0.362, breast cancer
AUC 0.9954 for every seed), so the pass does not hinge on one lucky seed.

- breast cancer: logistic_regression, scale:true, adagrad at its default lr (0.1), 30 shuffled
  epochs (seed 42). AdaGrad's decaying per-coordinate steps converge without a schedule.
- diabetes: linear_regression, scale:true, adagrad lr 1.0, intercept_init = mean of the training
  labels (computed in SQL) and intercept_lr 0.001, 30 shuffled epochs (seed 42). The intercept
  is updated by plain constant-rate SGD (river's convention), so with labels around 150 and
  residuals around 55 a large intercept_lr leaves the final intercept noisy; starting it at
  the label mean and moving it slowly removes that noise, as centring the target would.
- digits (10 classes) and wine (3 classes): softmax_regression, scale:true, adagrad at its
  default lr, 5 shuffled epochs (seed 42), against scikit-learn's multinomial
  LogisticRegression on StandardScaler'd features; classes are the digits as text. Held out:
  digits 0.967 vs 0.971, wine 1.0 vs 1.0 (adagrad at 10 epochs reaches 0.971 on digits).
"""

import json
import os
import sys

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Cluster, Reporter, copy_rows  # noqa: E402

SEED = 42
EPOCHS = 30
AUC_MARGIN = 0.01
R2_MARGIN = 0.02
ACCURACY_MARGIN = 0.02
MULTICLASS_EPOCHS = 5


def load_table(conn, name, X, y, feature_names=None):
    """A table (id, x float8[], xj jsonb, y) with the rows of X, y.

    xj holds the same features as a jsonb object keyed by feature_names (or x1..xn)."""
    names = list(feature_names) if feature_names is not None else [
        "x%d" % (i + 1) for i in range(X.shape[1])]
    conn.execute("DROP TABLE IF EXISTS %s" % name)
    conn.execute("CREATE TABLE %s (id int PRIMARY KEY, x float8[], xj jsonb, y float8)" % name)
    rows = []
    for i, (r, t) in enumerate(zip(X, y)):
        vals = [float(v) for v in r]
        rows.append((i, vals, json.dumps(dict(zip(names, vals))), float(t)))
    copy_rows(conn, name, ["id", "x", "xj", "y"], rows)
    conn.execute("ANALYZE %s" % name)


def train_and_score(conn, spec, train, test, xcol="x", score_col=None):
    """Trains spec with ml_train over train(xcol, y) and returns (y, p) over test's rows."""
    score_col = score_col or xcol
    q = ("WITH m AS (SELECT ml_train(%%s::ml_model, 'SELECT %s, y FROM %s ORDER BY id', %%s, "
         "shuffle => true, seed => %%s) AS m) "
         "SELECT t.y, ml_predict_one(m.m, t.%s) FROM %s AS t, m ORDER BY t.id"
         % (xcol, train, score_col, test))
    rows = conn.execute(q, (json.dumps(spec), EPOCHS, SEED)).fetchall()
    y = np.array([r[0] for r in rows])
    p = np.array([r[1] for r in rows])
    return y, p


def breast_cancer(conn, rep):
    data = load_breast_cancer()
    Xtr, Xte, ytr, yte = train_test_split(data.data, data.target, test_size=0.25,
                                          random_state=0, stratify=data.target)
    sk = make_pipeline(StandardScaler(), LogisticRegression(max_iter=10000)).fit(Xtr, ytr)
    sk_auc = roc_auc_score(yte, sk.predict_proba(Xte)[:, 1])
    need = sk_auc - AUC_MARGIN

    spec = {"model": "logistic_regression", "scale": True, "optimizer": "adagrad"}

    # dense float8[] features (x1..x30)
    load_table(conn, "bc_train", Xtr, ytr)
    load_table(conn, "bc_test", Xte, yte)
    y, p = train_and_score(conn, spec, "bc_train", "bc_test")
    auc = roc_auc_score(y, p)
    rep.check("breast_cancer_auc_float8", auc >= need,
              "ours %.4f sklearn %.4f (need >= %.4f; %s, %d epochs, seed %d)"
              % (auc, sk_auc, need, json.dumps(spec), EPOCHS, SEED))

    # the same model scores the jsonb form {"x1": .., "x30": ..} identically
    _, pj = train_and_score(conn, spec, "bc_train", "bc_test", xcol="x", score_col="xj")
    diff = float(np.max(np.abs(pj - p)))
    rep.check("breast_cancer_array_model_scores_jsonb", diff <= 1e-9,
              "max |p(float8[]) - p(jsonb)| = %.3g" % diff)

    # jsonb features with the dataset's own names ("mean radius", ...)
    load_table(conn, "bcj_train", Xtr, ytr, data.feature_names)
    load_table(conn, "bcj_test", Xte, yte, data.feature_names)
    yj, pjn = train_and_score(conn, spec, "bcj_train", "bcj_test", xcol="xj")
    auc_j = roc_auc_score(yj, pjn)
    rep.check("breast_cancer_auc_jsonb", auc_j >= need,
              "ours %.4f sklearn %.4f (need >= %.4f)" % (auc_j, sk_auc, need))


def diabetes(conn, rep):
    X, y_all = load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y_all, test_size=0.25, random_state=0)
    sk = LinearRegression().fit(Xtr, ytr)
    sk_r2 = r2_score(yte, sk.predict(Xte))
    need = sk_r2 - R2_MARGIN

    load_table(conn, "db_train", Xtr, ytr)
    load_table(conn, "db_test", Xte, yte)
    y_mean = conn.execute("SELECT avg(y) FROM db_train").fetchone()[0]
    spec = {"model": "linear_regression", "scale": True,
            "optimizer": {"adagrad": {"lr": 1.0}},
            "intercept_init": y_mean, "intercept_lr": 0.001}
    y, p = train_and_score(conn, spec, "db_train", "db_test")
    r2 = r2_score(y, p)
    rep.check("diabetes_r2_float8", r2 >= need,
              "ours %.4f sklearn %.4f (need >= %.4f; adagrad lr 1.0, intercept_init %.2f, "
              "intercept_lr 0.001, %d epochs, seed %d)"
              % (r2, sk_r2, need, y_mean, EPOCHS, SEED))


def multiclass(conn, rep, name, loader):
    """softmax_regression against multinomial LogisticRegression, classes as text."""
    X, y_all = loader(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y_all, test_size=0.25, random_state=0, stratify=y_all)
    sk = make_pipeline(StandardScaler(), LogisticRegression(max_iter=10000)).fit(Xtr, ytr)
    sk_acc = accuracy_score(yte, sk.predict(Xte))
    need = sk_acc - ACCURACY_MARGIN
    for part, X_, y_ in (("train", Xtr, ytr), ("test", Xte, yte)):
        table = "%s_%s" % (name, part)
        conn.execute("DROP TABLE IF EXISTS %s" % table)
        conn.execute("CREATE TABLE %s (id int PRIMARY KEY, x float8[], y text)" % table)
        copy_rows(conn, table, ["id", "x", "y"],
                  [(i, [float(v) for v in r], "class %d" % t) for i, (r, t) in enumerate(zip(X_, y_))])
    spec = {"model": "softmax_regression", "scale": True, "optimizer": "adagrad"}
    rows = conn.execute(
        "WITH m AS (SELECT ml_train(%%s::ml_model, 'SELECT x, y FROM %s_train ORDER BY id', %%s, "
        "shuffle => true, seed => %%s) AS m) "
        "SELECT t.y, ml_predict_class(m.m, t.x), ml_predict_proba(m.m, t.x) FROM %s_test t, m ORDER BY t.id"
        % (name, name), (json.dumps(spec), MULTICLASS_EPOCHS, SEED)).fetchall()
    acc = float(np.mean([r[0] == r[1] for r in rows]))
    rep.check("%s_accuracy" % name, acc >= need,
              "ours %.4f sklearn %.4f (need >= %.4f; %s, %d epochs, seed %d)"
              % (acc, sk_acc, need, json.dumps(spec), MULTICLASS_EPOCHS, SEED))
    # Every class has a probability, they sum to 1, and the class is the most probable one.
    ok = all(len(p) == len(set(y_all)) and abs(sum(p.values()) - 1) < 1e-12
             and p[c] == max(p.values()) for _, c, p in rows)
    rep.check("%s_proba_consistent" % name, ok, "%d rows" % len(rows))


def main():
    rep = Reporter()
    cluster = Cluster()
    try:
        conn = cluster.start()
    except Exception as e:  # noqa: BLE001
        rep.fail("cluster_start", str(e).splitlines()[0] if str(e) else repr(e))
        cluster.stop()
        rep.exit()
    try:
        for name, fn in (("breast_cancer", breast_cancer), ("diabetes", diabetes),
                         ("digits", lambda c, r: multiclass(c, r, "digits", load_digits)),
                         ("wine", lambda c, r: multiclass(c, r, "wine", load_wine))):
            try:
                fn(conn, rep)
            except Exception as e:  # noqa: BLE001
                msg = " ".join(str(e).split())
                rep.fail(name, "error: %s: %s" % (type(e).__name__, msg))
    finally:
        cluster.stop()
    rep.exit()


if __name__ == "__main__":
    main()
