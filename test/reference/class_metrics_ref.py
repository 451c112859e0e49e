"""Reference values for the multiclass metric state (src/core/metrics/class_metrics.cpp), from scikit-learn.

Run with /usr/bin/python3 (Debian's python3-sklearn 1.2, numpy 1.24). Writes expected_class_metrics.json
next to this file: cases of (actual class, probabilities {class: p}) rows, each with the predicted
class (highest p; ties: the first class in byte order, as numpy's argmax over sorted columns) and
  accuracy_score, log_loss (labels = every class, eps="auto" = 2^-52), precision_recall_fscore_support
  with average macro / micro / weighted and None (per class), confusion_matrix (non-zero cells),
with the labels sklearn uses: the sorted union of actual and predicted classes.
With --sql it prints instead the values sql/class_metrics.sql compares against (the same table,
built there from the same integer formulas).
"""

import json
import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, precision_recall_fscore_support
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
warnings.simplefilter("ignore")


def predicted_of(proba):
    # Highest probability; ties go to the first class in byte order (sorted(), as the C++ does).
    best = None
    for c in sorted(proba, key=lambda s: s.encode()):
        if best is None or proba[c] > proba[best]:
            best = c
    return best


def metrics(actual, predicted, proba=None):
    labels = sorted(set(actual) | set(predicted), key=lambda s: s.encode())
    out = {"labels": labels, "accuracy": float(accuracy_score(actual, predicted))}
    for avg in ("macro", "micro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(actual, predicted, labels=labels, average=avg,
                                                     zero_division="warn")
        out[avg] = {"precision": float(p), "recall": float(r), "f1": float(f)}
    p, r, f, s = precision_recall_fscore_support(actual, predicted, labels=labels, average=None)
    out["report"] = [{"class": c, "precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                      "support": int(s[i])} for i, c in enumerate(labels)]
    cm = confusion_matrix(actual, predicted, labels=labels)
    out["confusion"] = [[labels[i], labels[j], int(cm[i, j])]
                        for i in range(len(labels)) for j in range(len(labels)) if cm[i, j]]
    if proba is not None:
        # Every class that occurs anywhere is a column; a class absent from a row has p = 0.
        cols = sorted(set(labels) | {c for row in proba for c in row}, key=lambda s: s.encode())
        m = np.array([[row.get(c, 0.0) for c in cols] for row in proba], dtype=np.float64)
        out["logloss"] = float(log_loss(actual, m, labels=cols))
    else:
        out["logloss"] = None
    return out


def case(name, actual, proba):
    predicted = [predicted_of(p) for p in proba]
    c = {"name": name, "actual": actual, "proba": proba, "predicted": predicted}
    c.update(metrics(actual, predicted, proba))
    return c


def synthetic(rng, n):
    """bird, cat, dog, fish actual; fish is never predicted, eel is predicted but never actual."""
    actual_classes = ["bird", "cat", "dog", "fish"]
    predictable = ["bird", "cat", "dog", "eel"]
    actual, proba = [], []
    for i in range(n):
        a = actual_classes[rng.choice(4, p=[0.2, 0.35, 0.3, 0.15])]
        w = rng.dirichlet(np.ones(4) * 0.7)
        if a != "fish" and rng.random() < 0.6:
            w[predictable.index(a)] += 1.5  # usually right
        w = w / w.sum()
        row = {c: float(x) for c, x in zip(predictable, w)}
        if i % 37 == 0:
            row = {"cat": 0.4, "dog": 0.4, "bird": 0.2}  # a tie: cat (first in byte order)
        if i % 53 == 0:
            row = {"dog": 1.0}  # only one class given: the actual one may be missing (p = 0)
        if i % 41 == 0:
            row = {"eel": 0.5, "bird": 0.5}  # tie: bird
        actual.append(a)
        proba.append(row)
    return actual, proba


def from_model(X, y, names, C):
    Xs = StandardScaler().fit_transform(X)
    clf = LogisticRegression(C=C, max_iter=2000).fit(Xs[::2], y[::2])
    P = clf.predict_proba(Xs)
    actual = [names[v] for v in y]
    proba = [{names[c]: float(P[i, k]) for k, c in enumerate(clf.classes_)} for i in range(len(y))]
    return actual, proba


def main():
    rng = np.random.default_rng(20240917)
    cases = []
    a, p = synthetic(rng, 400)
    cases.append(case("synthetic", a, p))
    X, y = load_iris(return_X_y=True)
    a, p = from_model(X, y, ["setosa", "versicolor", "virginica"], 0.05)
    cases.append(case("iris", a, p))
    X, y = load_wine(return_X_y=True)
    a, p = from_model(X, y, ["barolo", "grignolino", "barbera"], 0.01)
    cases.append(case("wine", a, p))
    # Multibyte class names: byte order puts "Zebra" < "apple" < "Ärger" < "éclair".
    a = ["apple", "Ärger", "éclair", "Zebra", "apple", "éclair", "Ärger", "Zebra"] * 5
    p = [{"apple": 0.6, "Ärger": 0.3, "Zebra": 0.1}, {"Ärger": 0.9, "éclair": 0.1},
         {"éclair": 0.2, "Zebra": 0.8}, {"Zebra": 0.5, "apple": 0.5}] * 10
    cases.append(case("utf8", a, p))
    # One class actual and predicted: every score 1; y is given a probability but never predicted.
    cases.append(case("one_class", ["x"] * 5, [{"x": 0.9, "y": 0.1}, {"x": 1.0}, {"x": 0.5, "y": 0.5},
                                               {"x": 0.7, "y": 0.30000000000000004}, {"x": 0.6, "y": 0.4}]))
    out = {"sklearn": sklearn.__version__, "numpy": np.__version__, "cases": cases}
    with open(os.path.join(HERE, "expected_class_metrics.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"), ensure_ascii=False)
        f.write("\n")


def sql_rows():
    """The table mc of sql/class_metrics.sql, from the same integer formulas."""
    classes = ["bird", "cat", "dog", "fish"]
    actual, proba = [], []
    for i in range(1, 2001):
        a = classes[(i * 7919) % 4]
        k = (i * 104729) % 10
        if k < 6 and a != "fish":
            pred = a
        elif k < 8:
            pred = "eel"
        else:
            pred = ["bird", "cat", "dog"][i % 3]
        top = 5 + (i * 31) % 5            # tenths: 0.5 .. 0.9
        other = a if a != pred else ("dog" if pred != "dog" else "cat")
        proba.append({pred: top / 10, other: (10 - top) / 10})
        actual.append(a)
    return actual, proba


def sql_reference():
    actual, proba = sql_rows()
    predicted = [predicted_of(p) for p in proba]
    m = metrics(actual, predicted, proba)
    r = lambda v: repr(float(v))
    print("accuracy", r(m["accuracy"]), "logloss", r(m["logloss"]))
    for avg in ("macro", "micro", "weighted"):
        print(avg, {k: r(v) for k, v in m[avg].items()})
    for row in m["report"]:
        print("report", row)
    print("confusion", m["confusion"])


if __name__ == "__main__":
    if sys.argv[1:] == ["--sql"]:
        sql_reference()
    else:
        main()
