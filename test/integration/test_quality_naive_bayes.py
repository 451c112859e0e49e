"""Held-out quality of the naive Bayes kinds on scikit-learn's bundled datasets, against scikit-learn.

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_quality_naive_bayes.py
(a throwaway cluster is started as postgres; see common.py for PGL_TEST_DSN etc.).

gaussian_nb, multinomial_nb and bernoulli_nb are the algorithms of scikit-learn's GaussianNB,
MultinomialNB and BernoulliNB, so one pass of ml_fit over the training rows must give the held-out
accuracy scikit-learn's fit gives, within ACCURACY_MARGIN, and the same probabilities (within
PROBA_TOLERANCE, an absolute difference). Data: a fixed stratified split
train_test_split(test_size=0.25, random_state=0) of
- iris and wine (numeric features in their own units) for gaussian_nb;
- digits (8x8 pixel intensities 0..16, i.e. counts) for multinomial_nb;
- digits binarized above 0 (the default threshold) and above 8 for bernoulli_nb.
Training happens in SQL (ml_fit over the training table), scoring in SQL (ml_predict_class and
ml_predict_proba over the test table); only the comparison is computed in Python.
"""

import json
import os
import sys

import numpy as np
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.metrics import accuracy_score
from sklearn.naive_bayes import BernoulliNB, GaussianNB, MultinomialNB

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Reporter, load_split, run_checks, start_cluster  # noqa: E402

ACCURACY_MARGIN = 0.01
PROBA_TOLERANCE = 1e-9


def load(conn, name, X, y):
    """Tables name_train and name_test (id, x float8[], y text), the classes as "class k"."""
    return load_split(conn, name, X, y, y, label=lambda t: "class %d" % t, label_type="text")


def compare(conn, rep, name, table, spec, sk, X, y):
    Xtr, Xte, ytr, yte = load(conn, table, X, y)
    sk.fit(Xtr, ytr)
    sk_acc = accuracy_score(yte, sk.predict(Xte))
    sk_proba = sk.predict_proba(Xte)
    rows = conn.execute(
        "WITH m AS (SELECT ml_fit(%%s::ml_model, x, y) AS m FROM %s_train) "
        "SELECT t.y, ml_predict_class(m.m, t.x), ml_predict_proba(m.m, t.x), ml_info(m.m) -> 'n_seen' "
        "FROM %s_test t, m ORDER BY t.id" % (table, table), (json.dumps(spec),)).fetchall()
    acc = float(np.mean([r[0] == r[1] for r in rows]))
    rep.check("%s_accuracy" % name, abs(acc - sk_acc) <= ACCURACY_MARGIN,
              "ours %.4f sklearn %.4f (need within %.2f; %s, %d training rows, %d held out)"
              % (acc, sk_acc, ACCURACY_MARGIN, json.dumps(spec), int(rows[0][3]), len(rows)))
    worst = 0.0
    for (_, _, p, _), want in zip(rows, sk_proba):
        for k, c in enumerate(sk.classes_):
            worst = max(worst, abs(p["class %d" % c] - want[k]))
    rep.check("%s_probabilities" % name, worst <= PROBA_TOLERANCE,
              "largest difference from sklearn's predict_proba %.3g (need <= %g)" % (worst, PROBA_TOLERANCE))
    agree = float(np.mean([r[1] == "class %d" % c for r, c in zip(rows, sk.predict(Xte))]))
    rep.check("%s_same_classes" % name, agree == 1.0, "the class sklearn predicts on %.4f of the rows" % agree)


def main():
    rep = Reporter()
    cluster, conn = start_cluster(rep)
    try:
        digits = load_digits(return_X_y=True)
        run_checks(rep, (
                ("iris_gaussian", lambda c, r: compare(c, r, "iris_gaussian", "iris", {"model": "gaussian_nb"},
                                                       GaussianNB(), *load_iris(return_X_y=True))),
                ("wine_gaussian", lambda c, r: compare(c, r, "wine_gaussian", "wine", {"model": "gaussian_nb"},
                                                       GaussianNB(), *load_wine(return_X_y=True))),
                ("digits_multinomial", lambda c, r: compare(c, r, "digits_multinomial", "digits",
                                                            {"model": "multinomial_nb"}, MultinomialNB(), *digits)),
                ("digits_bernoulli", lambda c, r: compare(c, r, "digits_bernoulli", "digits",
                                                          {"model": "bernoulli_nb"}, BernoulliNB(), *digits)),
                ("digits_bernoulli_8", lambda c, r: compare(c, r, "digits_bernoulli_8", "digits",
                                                            {"model": "bernoulli_nb", "binarize": 8, "alpha": 0.5},
                                                            BernoulliNB(binarize=8, alpha=0.5), *digits))), conn, rep)
    finally:
        cluster.stop()
    rep.exit()


if __name__ == "__main__":
    main()
