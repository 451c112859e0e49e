"""Reference values for the metric accumulators (src/core/metrics/metrics.cpp), from scikit-learn.

Run with /usr/bin/python3 (Debian's python3-sklearn 1.2, numpy 1.24). Writes expected_metrics.json
next to this file:
  binary      cases of (score, label): roc_auc_score, the exact Mann-Whitney AUC (fractions, then
              rounded once), log_loss (labels=[0, 1], eps="auto"), accuracy / precision / recall /
              F1 / confusion matrix at thresholds (score >= t is positive), roc_curve with
              drop_intermediate True and False, precision_recall_curve, calibration_curve
              (strategy='uniform') with the per-bin counts it uses internally.
  regression  cases of (pred, y): mean_absolute_error, mean_squared_error(squared=False),
              r2_score, mean_absolute_percentage_error, mean(pred - y).
With --sql it prints instead the scikit-learn values that sql/metrics.sql compares against (the
same tables, built there with the same float8 arithmetic).
A metric sklearn leaves undefined (AUC and ROC curve with one class, R^2 below two rows, precision
with nothing predicted positive, ...) is written as null: the accumulators return NULL there.
"""

import json
import os
import warnings
from fractions import Fraction

import numpy as np
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, log_loss,
                             mean_absolute_error, mean_absolute_percentage_error,
                             mean_squared_error, precision_recall_curve, precision_score,
                             r2_score, recall_score, roc_auc_score, roc_curve)
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
warnings.simplefilter("ignore")


def floats(a):
    return [float(x) for x in a]


def exact_auc(y, s):
    """Mann-Whitney U / (P N) with ties counted 1/2, in exact rationals, rounded once."""
    pos = s[y == 1]
    neg = np.sort(s[y == 0])
    if len(pos) == 0 or len(neg) == 0:
        return None
    lt = np.searchsorted(neg, pos, "left")
    le = np.searchsorted(neg, pos, "right")
    u2 = int((2 * lt + (le - lt)).sum())
    return float(Fraction(u2, 2 * len(pos) * len(neg)))


def at_threshold(y, s, t):
    pred = (s >= t).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    tn, fp, fn, tp = int(tn), int(fp), int(fn), int(tp)
    return {
        "threshold": t,
        "tn": tn, "fp": fp, "fn": fn, "tp": tp,
        "accuracy": float(accuracy_score(y, pred)),
        "precision": float(precision_score(y, pred, zero_division=0)) if tp + fp else None,
        "recall": float(recall_score(y, pred, zero_division=0)) if tp + fn else None,
        "f1": float(f1_score(y, pred, zero_division=0)) if 2 * tp + fp + fn else None,
    }


def calibration(y, p, n_bins):
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, strategy="uniform")
    # The bin assignment calibration_curve uses (sklearn 1.2), for the per-bin counts.
    bins = np.linspace(0.0, 1.0, n_bins + 1)
    binids = np.searchsorted(bins[1:-1], p)
    total = np.bincount(binids, minlength=len(bins))
    nonzero = np.nonzero(total)[0]
    return {
        "n_bins": n_bins,
        "bin": [int(b) for b in nonzero],
        "count": [int(total[b]) for b in nonzero],
        "mean_predicted": floats(prob_pred),
        "fraction_positive": floats(prob_true),
    }


def binary_case(name, s, y, probabilities, thresholds):
    s = np.asarray(s, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    two = len(np.unique(y)) == 2
    case = {"name": name, "score": floats(s), "label": [int(v) for v in y], "probabilities": probabilities}
    case["auc"] = float(roc_auc_score(y, s)) if two else None
    case["auc_exact"] = exact_auc(y, s)
    if two:
        curves = {}
        for drop in (True, False):
            fpr, tpr, thr = roc_curve(y, s, drop_intermediate=drop)
            curves["drop" if drop else "all"] = {"fpr": floats(fpr), "tpr": floats(tpr), "thresholds": floats(thr)}
        case["roc"] = curves
    else:
        case["roc"] = None
    prec, rec, thr = precision_recall_curve(y, s)
    case["pr"] = {"precision": floats(prec), "recall": floats(rec), "thresholds": floats(thr)}
    case["thresholds"] = [at_threshold(y, s, t) for t in thresholds]
    if probabilities:
        case["logloss"] = float(log_loss(y, s, labels=[0, 1]))
        case["calibration"] = [calibration(y, s, b) for b in (10, 7, 1)]
    return case


def regression_case(name, pred, y):
    pred = np.asarray(pred, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return {
        "name": name,
        "pred": floats(pred),
        "y": floats(y),
        "mae": float(mean_absolute_error(y, pred)),
        "rmse": float(mean_squared_error(y, pred, squared=False)),
        "r2": float(r2_score(y, pred)) if len(y) >= 2 else None,
        "mape": float(mean_absolute_percentage_error(y, pred)),
        "mean_error": float(np.mean(pred - y)),
    }


def main():
    rng = np.random.default_rng(20240601)
    binary = []

    # Heavily tied probabilities: 11 distinct values, every threshold a tie.
    n = 2000
    p = rng.integers(0, 11, n) / 10.0
    y = (rng.random(n) < 0.2 + 0.6 * p).astype(int)
    binary.append(binary_case("ties_heavy", p, y, True, [0.5, 0.3, 0.0, 1.0]))

    # Continuous probabilities from a logistic model.
    n = 1200
    z = rng.normal(size=n)
    p = 1 / (1 + np.exp(-2 * z))
    y = (rng.random(n) < p).astype(int)
    binary.append(binary_case("random", p, y, True, [0.5, 0.25]))

    # Rounded to 2 decimals: ties mixed with distinct scores, so drop_intermediate drops some.
    p = np.round(p, 2)
    binary.append(binary_case("rounded", p, y, True, [0.5, 0.37]))

    # One class only: AUC and the ROC curve are undefined (sklearn raises); log loss is defined.
    binary.append(binary_case("all_positive", rng.random(50), np.ones(50), True, [0.5]))
    binary.append(binary_case("all_negative", rng.random(50), np.zeros(50), True, [0.5]))
    binary.append(binary_case("single_row", [0.7], [1], True, [0.5, 0.9]))
    binary.append(binary_case("two_tied", [0.5, 0.5], [0, 1], True, [0.5]))

    # Probabilities at the clipping limits and on calibration-bin edges.
    p = np.array([0.0, 1.0, 1e-20, 1 - 1e-17, 2.220446049250313e-16, 0.1, 0.2, 0.30000000000000004, 0.3,
                  0.7, 0.7000000000000001, 0.5, 0.5, 0.9999999999999999, 0.4, 0.6])
    y = np.array([0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0])
    binary.append(binary_case("edges", p, y, True, [0.5, 0.3, 0.30000000000000004]))

    # Scores that are not probabilities: 1e8 offsets with tiny differences, and huge magnitudes.
    n = 800
    z = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    s = 1e8 + np.round(z * 1e-3, 7)
    binary.append(binary_case("offset_1e8", s, y, False, [1e8, 1e8 + 5e-4]))
    s = np.sign(z) * 10.0 ** (250 + 50 * np.abs(np.tanh(z)))
    binary.append(binary_case("huge", s, y, False, [0.0, 1e290]))

    # Real data: logistic regression on scikit-learn's breast cancer set, scored on all rows.
    X, yb = load_breast_cancer(return_X_y=True)
    Xs = StandardScaler().fit_transform(X)
    clf = LogisticRegression(C=0.05, max_iter=1000).fit(Xs[::2], yb[::2])
    binary.append(binary_case("breast_cancer", clf.predict_proba(Xs)[:, 1], yb, True, [0.5, 0.9]))

    regression = []
    n = 600
    yv = rng.normal(3, 2, n)
    regression.append(regression_case("random", yv + rng.normal(0, 0.5, n), yv))
    yv = 1e8 + rng.normal(0, 1, n)
    regression.append(regression_case("offset_1e8", yv + rng.normal(0, 0.1, n), yv))
    yv = 1e150 * rng.normal(size=n)
    regression.append(regression_case("huge", yv * (1 + rng.normal(0, 1e-3, n)), yv))
    yv = 1e-150 * rng.normal(size=n)
    regression.append(regression_case("tiny", yv * (1 + rng.normal(0, 1e-3, n)), yv))
    yv = rng.standard_cauchy(n)
    regression.append(regression_case("heavy_tails", yv + rng.standard_cauchy(n), yv))
    yv = np.round(rng.normal(0, 1, 200), 1)  # zeros among the labels: MAPE divides by eps
    regression.append(regression_case("zeros_in_y", yv + rng.normal(0, 0.1, 200), yv))
    regression.append(regression_case("constant_y", rng.normal(5, 1, 20), np.full(20, 5.0)))
    regression.append(regression_case("constant_y_perfect", np.full(20, 0.5), np.full(20, 0.5)))
    regression.append(regression_case("perfect", yv, yv))
    regression.append(regression_case("single_row", [2.5], [2.0]))
    Xd, yd = load_diabetes(return_X_y=True)
    lin = LinearRegression().fit(Xd[::2], yd[::2])
    regression.append(regression_case("diabetes", lin.predict(Xd), yd))

    out = {"sklearn": sklearn.__version__, "numpy": np.__version__, "binary": binary, "regression": regression}
    with open(os.path.join(HERE, "expected_metrics.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


def sql_reference():
    """The tables of sql/metrics.sql (cls, reg), rebuilt here, and the values the test expects."""
    i = np.arange(1, 2001)
    k = (i * 7919) % 1000
    s = k / 1000
    st = ((i * 7919) % 11) / 10
    y = ((k + (i * 104729) % 1009) > 1000).astype(int)
    a = (i * 7919) % 1000
    b = (i * 104729) % 201
    yr = 1e8 + a / 100
    pr = yr + (b - 100) / 50
    y0 = a / 100 - 5
    p0 = y0 + (b - 100) / 50
    r = lambda v: repr(float(v))
    print("cls: auc(s)", r(roc_auc_score(y, s)), "exact", exact_auc(y, s))
    print("cls: auc(st)", r(roc_auc_score(y, st)), "exact", exact_auc(y, st))
    print("cls: logloss(s)", r(log_loss(y, s, labels=[0, 1])), "logloss(st)", r(log_loss(y, st, labels=[0, 1])))
    for t in (0.5, 0.3):
        print("cls: at", t, at_threshold(y, s, t))
    fpr, tpr, thr = roc_curve(y, st)
    print("cls: roc(st) fpr", floats(fpr), "tpr", floats(tpr), "thresholds", floats(thr))
    fpr, tpr, thr = roc_curve(y, st, drop_intermediate=False)
    print("cls: roc(st, all) thresholds", floats(thr))
    pr_, rc, thr = precision_recall_curve(y, st)
    print("cls: pr(st) precision", floats(pr_), "recall", floats(rc), "thresholds", floats(thr))
    for nb in (10, 4):
        print("cls: calibration(s)", calibration(y, s, nb))
    for name, (p_, y_) in {"reg 1e8": (pr, yr), "reg small": (p0, y0)}.items():
        print(name, "mae", r(mean_absolute_error(y_, p_)), "rmse", r(mean_squared_error(y_, p_, squared=False)),
              "r2", r(r2_score(y_, p_)), "mape", r(mean_absolute_percentage_error(y_, p_)),
              "mean_error", r(np.mean(p_ - y_)))


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["--sql"]:
        sql_reference()
    else:
        main()
