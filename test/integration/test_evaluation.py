"""Evaluation (issue 16, items 1-3) against scikit-learn's metrics and river's progressive validation.

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_evaluation.py
(a throwaway cluster is started as postgres; see common.py for PGL_TEST_DSN etc.).

1. k-fold cross-validation, on scikit-learn's breast cancer (binary) and diabetes (regression)
   data: each fold's value from ml_cross_validate must equal the metric scikit-learn computes
   (roc_auc_score, log_loss, accuracy_score, mean_absolute_error, mean_squared_error, r2_score)
   over the predictions of a model fitted by hand, in SQL, on the fold's complement (ml_fit ...
   ORDER BY id over the rows with ml_fold(id, 5, seed) <> f; ml_train with epochs and the seed for
   several passes), within 1e-12 (sklearn's sums are floating point, ours exact); the summary row
   equals numpy's mean and sample sd (ddof=1) of the folds' values. The folds partition the rows.
2. progressive validation: river's progressive_val_score semantics (simulate_qa: a label with its
   reveal time t + delay is learned before the first question asked at or after it; the metric is
   updated with the prediction made when the question was asked), written out here in Python with
   one ml_predict_one and one ml_fit_one per row, for delays of 0 and 7 rows and of 6 hours by a
   time column; our overall and per-step metrics must equal sklearn's over those predictions.
3. comparison (item 7): ml_compare of two models on breast cancer's last 169 rows against the same
   paired bootstrap written out in Python (SplitMix64 resample indices, sklearn's metrics per
   resample, numpy.quantile's intervals, the two-sided p-value): values, intervals and p-values
   within 1e-12.
"""

import datetime
import json
import os
import sys

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.metrics import (accuracy_score, log_loss, mean_absolute_error, mean_squared_error,
                             r2_score, roc_auc_score)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Reporter, fresh_table, run_checks, start_cluster  # noqa: E402

TOL = 1e-12


def close(a, b):
    return a is not None and b is not None and abs(a - b) <= TOL * max(1.0, abs(b))


def load(conn, name, X, y):
    t0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    fresh_table(conn, name, ["id int PRIMARY KEY", "x float8[]", "y float8", "at timestamptz"],
                [(i + 1, [float(v) for v in r], float(t), t0 + datetime.timedelta(minutes=30 * i))
                 for i, (r, t) in enumerate(zip(X, y))])


def sk_metric(name, y, p):
    y, p = np.asarray(y), np.asarray(p)
    return {"auc": lambda: roc_auc_score(y, p),
            "logloss": lambda: log_loss(y, p, labels=[0, 1]),
            "accuracy": lambda: accuracy_score(y, (p >= 0.5).astype(int)),
            "mae": lambda: mean_absolute_error(y, p),
            "rmse": lambda: mean_squared_error(y, p, squared=False),
            "r2": lambda: r2_score(y, p)}[name]()


def cross_validation(conn, rep, table, spec, metrics, epochs, seed):
    name = "%s_cv_epochs%d" % (table, epochs)
    cv = conn.execute(
        "SELECT fold, metric, value, sd, n_train, n_test FROM ml_cross_validate(%s, %s, 5, %s, epochs => %s, seed => %s)",
        (json.dumps(spec), "SELECT x, y, id FROM %s ORDER BY id" % table, metrics, epochs, seed)).fetchall()
    folds = {}
    for f in range(1, 6):
        if epochs == 1:
            fit = "(SELECT ml_fit(%%s::ml_model, x, y ORDER BY id) FROM %s WHERE ml_fold(id, 5, %d) <> %d)" % (table, seed, f)
            args = (json.dumps(spec),)
        else:
            fit = "ml_train(%%s::ml_model, %%s, epochs => %d, seed => %d)" % (epochs, seed)
            args = (json.dumps(spec), "SELECT x, y FROM %s WHERE ml_fold(id, 5, %d) <> %d ORDER BY id" % (table, seed, f))
        rows = conn.execute("WITH m AS (SELECT %s AS m) SELECT t.y, ml_predict_one(m.m, t.x) FROM %s t, m "
                            "WHERE ml_fold(t.id, 5, %d) = %d ORDER BY t.id" % (fit, table, seed, f), args).fetchall()
        folds[f] = ([r[0] for r in rows], [r[1] for r in rows])
    n_rows = conn.execute("SELECT count(*) FROM %s" % table).fetchone()[0]
    rep.check(name + "_folds_partition", sum(len(v[0]) for v in folds.values()) == n_rows and all(len(v[0]) for v in folds.values()),
              "fold sizes %s of %d rows" % ([len(v[0]) for v in folds.values()], n_rows))
    worst, checked = 0.0, 0
    for fold, metric, value, sd, n_train, n_test in cv:
        if fold is None:
            continue
        want = sk_metric(metric, *folds[fold])
        worst = max(worst, abs(value - want) / max(1.0, abs(want)))
        checked += 1
        if n_test != len(folds[fold][0]) or n_train != n_rows - n_test:
            rep.fail(name + "_counts", "fold %d: n_train %d n_test %d, by hand %d" % (fold, n_train, n_test, len(folds[fold][0])))
    rep.check(name + "_per_fold_equals_sklearn_on_hand_fitted_models", checked == 5 * len(metrics) and worst <= TOL,
              "%d fold values, largest relative difference %.3g (need <= %g; %s)" % (checked, worst, TOL, json.dumps(spec)))
    ok = True
    for metric in metrics:
        vals = [v for f, m, v, _, _, _ in cv if m == metric and f is not None]
        (mean, sd), = [(v, s) for f, m, v, s, _, _ in cv if m == metric and f is None]
        ok = ok and close(mean, float(np.mean(vals))) and close(sd, float(np.std(vals, ddof=1)))
    rep.check(name + "_summary_is_mean_and_sample_sd", ok, str([(m, round(v, 4), round(s, 4)) for f, m, v, s, _, _ in cv if f is None]))


def river_progressive(conn, table, spec, delay_rows=None, delay_hours=None):
    """river's simulate_qa + progressive_val_score, one ml_predict_one and ml_fit_one per row."""
    rows = conn.execute("SELECT x, y, at FROM %s ORDER BY id" % table).fetchall()
    model = conn.execute("SELECT %s::ml_model::text", (json.dumps(spec),)).fetchone()[0]
    pending = []  # (t_expire, i, x, y), in the order asked (expiries increase with the rows)
    preds = []
    for i, (x, y, at) in enumerate(rows):
        t = i if delay_rows is not None else at
        while pending and pending[0][0] <= t:
            _, _, px, py = pending.pop(0)
            model = conn.execute("SELECT ml_fit_one(%s::ml_model, %s::float8[], %s::float8)::text", (model, px, py)).fetchone()[0]
        preds.append(conn.execute("SELECT ml_predict_one(%s::ml_model, %s::float8[])", (model, x)).fetchone()[0])
        expire = i + delay_rows if delay_rows is not None else at + datetime.timedelta(hours=delay_hours)
        pending.append((expire, i, x, y))
    return [r[1] for r in rows], preds


def progressive(conn, rep, table, spec, metrics, delay_rows=None, delay_hours=None, every=100):
    name = "%s_progressive_%s" % (table, "delay%d" % delay_rows if delay_rows is not None else "delay%dh" % delay_hours)
    y, p = river_progressive(conn, table, spec, delay_rows, delay_hours)
    if delay_rows is not None:
        q = ("SELECT step, n, metric, value, cumulative FROM ml_progressive_validate(%s, %s, %s, every => %s, delay => %s)",
             (json.dumps(spec), "SELECT x, y FROM %s ORDER BY id" % table, metrics, every, delay_rows))
    else:
        q = ("SELECT step, n, metric, value, cumulative FROM ml_progressive_validate(%s, %s, %s, every => %s, delay_time => %s)",
             (json.dumps(spec), "SELECT x, y, at FROM %s ORDER BY id" % table, metrics, every,
              datetime.timedelta(hours=delay_hours)))
    series = conn.execute(*q).fetchall()
    worst, checked = 0.0, 0
    for step, n, metric, value, cumulative in series:
        if step is None:
            want = sk_metric(metric, y, p)
            ok_n = n == len(y)
            worst = max(worst, abs(value - want) / max(1.0, abs(want)))
        else:
            lo, hi = (step - 1) * every, min(step * every, len(y))
            want = sk_metric(metric, y[lo:hi], p[lo:hi])
            want_c = sk_metric(metric, y[:hi], p[:hi])
            ok_n = n == hi - lo
            worst = max(worst, abs(value - want) / max(1.0, abs(want)), abs(cumulative - want_c) / max(1.0, abs(want_c)))
        checked += 1
        if not ok_n:
            rep.fail(name + "_counts", "step %s n %d" % (step, n))
    steps = -(-len(y) // every)
    rep.check(name + "_equals_river_semantics", checked == (steps + 1) * len(metrics) and worst <= TOL,
              "%d values (%d steps), largest relative difference %.3g (need <= %g); overall %s"
              % (checked, steps, worst, TOL, [(m, round(v, 4)) for s, _, m, v, _ in series if s is None]))


MASK = (1 << 64) - 1


def splitmix64(seed):
    state = seed & MASK
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def comparison(conn, rep, resamples=150, seed=4, confidence=0.9):
    name = "cancer_compare"
    metrics = ["auc", "logloss", "accuracy"]
    conn.execute("DROP TABLE IF EXISTS cmp_models")
    conn.execute("CREATE TABLE cmp_models AS SELECT "
                 "(SELECT ml_fit('{\"model\": \"logistic_regression\"}'::ml_model, x, y::int ORDER BY id) FROM cancer WHERE id <= 60) AS a, "
                 "(SELECT ml_fit('{\"model\": \"logistic_regression\"}'::ml_model, x, y::int ORDER BY id) FROM cancer WHERE id <= 64) AS b")
    got = conn.execute("SELECT r.* FROM cmp_models, ml_compare(ARRAY[a, b], 'SELECT x, y::int FROM cancer WHERE id > 400 ORDER BY id', "
                       "%s, resamples => %s, confidence => %s, seed => %s) r", (metrics, resamples, confidence, seed)).fetchall()
    rows = conn.execute("SELECT y, ml_predict_one(a, x), ml_predict_one(b, x) FROM cancer, cmp_models WHERE id > 400 ORDER BY id").fetchall()
    y = np.array([r[0] for r in rows])
    p = [np.array([r[1] for r in rows]), np.array([r[2] for r in rows])]
    n = len(y)
    rng = splitmix64(seed)
    boot = {(k, m): [] for k in range(2) for m in metrics}
    diff = {m: [] for m in metrics}
    for _ in range(resamples):
        idx = np.array([(next(rng) * n) >> 64 for _ in range(n)])
        vals = {}
        for k in range(2):
            for m in metrics:
                yb, pb = y[idx], p[k][idx]
                v = None if m == "auc" and len(set(yb)) < 2 else sk_metric(m, yb, pb)
                vals[(k, m)] = v
                if v is not None:
                    boot[(k, m)].append(v)
        for m in metrics:
            if vals[(0, m)] is not None and vals[(1, m)] is not None:
                diff[m].append(vals[(1, m)] - vals[(0, m)])
    lo, hi = (1 - confidence) / 2, (1 + confidence) / 2
    worst, bad = 0.0, []
    for model, metric, value, lower, upper, d, dlo, dhi, pv in got:
        k = model - 1
        want = [sk_metric(metric, y, p[k]), np.quantile(boot[(k, metric)], lo), np.quantile(boot[(k, metric)], hi)]
        have = [value, lower, upper]
        if k == 1:
            ds = np.array(diff[metric])
            want += [sk_metric(metric, y, p[1]) - sk_metric(metric, y, p[0]), np.quantile(ds, lo), np.quantile(ds, hi)]
            have += [d, dlo, dhi]
            if metric != "auc":  # (an AUC difference of exactly 0 is a ulp away in sklearn's floating sums)
                want_p = min(1.0, 2 * min(np.mean(ds <= 0), np.mean(ds >= 0)))
                if pv != want_p:
                    bad.append("%s p %r vs %r" % (metric, pv, want_p))
        for h, w in zip(have, want):
            worst = max(worst, abs(h - w) / max(1.0, abs(w)))
    rep.check(name + "_equals_paired_bootstrap_by_hand", len(got) == 6 and worst <= TOL and not bad,
              "%d rows, largest relative difference %.3g (need <= %g) %s; %s" % (
                  len(got), worst, TOL, bad, [(r[0], r[1], round(r[2], 4), round(r[3], 4), round(r[4], 4), r[8]) for r in got]))


def main():
    rep = Reporter()
    cluster, conn = start_cluster(rep, port=int(os.environ.get("PGL_TEST_PORT", "5484")))
    try:
        Xc, yc = load_breast_cancer(return_X_y=True)
        load(conn, "cancer", Xc, yc)
        Xd, yd = load_diabetes(return_X_y=True)
        load(conn, "diabetes", Xd, yd)
        # a small stream for the row-by-row reference loop
        load(conn, "cancer_stream", Xc[:300], yc[:300])
        run_checks(rep, (
                ("cancer_cv", lambda: cross_validation(conn, rep, "cancer", {"model": "logistic_regression"},
                                                       ["auc", "logloss", "accuracy"], 1, 7)),
                ("cancer_cv_epochs", lambda: cross_validation(conn, rep, "cancer", {"model": "logistic_regression"},
                                                              ["auc", "logloss"], 4, 3)),
                ("diabetes_cv", lambda: cross_validation(conn, rep, "diabetes", {"model": "linear_regression"},
                                                         ["mae", "rmse", "r2"], 1, 0)),
                ("progressive_0", lambda: progressive(conn, rep, "cancer_stream", {"model": "logistic_regression"},
                                                      ["auc", "logloss", "accuracy"], delay_rows=0)),
                ("progressive_7", lambda: progressive(conn, rep, "cancer_stream", {"model": "logistic_regression"},
                                                      ["auc", "logloss"], delay_rows=7)),
                ("compare", lambda: comparison(conn, rep)),
                ("progressive_6h", lambda: progressive(conn, rep, "cancer_stream", {"model": "logistic_regression"},
                                                       ["logloss", "accuracy"], delay_hours=6, every=64))))
    finally:
        cluster.stop()
    rep.exit()


if __name__ == "__main__":
    main()
