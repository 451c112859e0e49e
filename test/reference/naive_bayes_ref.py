"""Reference probabilities for the naive Bayes kinds, from scikit-learn (run with /usr/bin/python3).

gaussian_nb, multinomial_nb and bernoulli_nb learn as scikit-learn's GaussianNB, MultinomialNB
and BernoulliNB partial_fit. The multinomial and Bernoulli cases call partial_fit once per row, in
the rows' order. The Gaussian cases call it once with every row: GaussianNB recomputes
epsilon = var_smoothing * max(np.var(X, axis=0)) from each call's rows only (0 for a call of one
row), while the model keeps it relative to every row learned, which is what one call computes.
The rows are complete (scikit-learn has no missing values) and the values have at most three
decimals, so that the JSON carries them exactly.

Writes expected_naive_bayes.json, read by test/unit/test_naive_bayes.cpp:
  {"cases": [{"name", "spec", "rows": [[[name, value], ...], label], ...],
              "test": [[[name, value], ...], ...],
              "classes": [...], "class_count": {...}, "proba": [{class: p}, ...]}]}
"""

import json
import os

import numpy as np
from sklearn.naive_bayes import BernoulliNB, GaussianNB, MultinomialNB

HERE = os.path.dirname(os.path.abspath(__file__))


def r3(v):
    return float(round(float(v), 3))


def gaussian_data(rng, n):
    centers = {"setosa": [5.0, 3.4, 1.5, 0.2], "versicolor": [5.9, 2.8, 4.3, 1.3], "virginica": [6.6, 3.0, 5.6, 2.0]}
    scale = [0.4, 0.3, 0.5, 0.25]
    names = list(centers)
    X, y = [], []
    for _ in range(n):
        c = names[int(rng.integers(3))]
        X.append([r3(m + s * rng.normal()) for m, s in zip(centers[c], scale)])
        y.append(c)
    return X, y


def count_data(rng, n, d):
    rates = {"sports": rng.uniform(0, 3, d), "politics": rng.uniform(0, 3, d), "science": rng.uniform(0, 3, d)}
    names = list(rates)
    X, y = [], []
    for _ in range(n):
        c = names[int(rng.integers(3))]
        X.append([float(v) for v in rng.poisson(rates[c])])
        y.append(c)
    return X, y


def rows_of(X, y, names):
    return [[[[k, v] for k, v in zip(names, x)], c] for x, c in zip(X, y)]


def case(name, spec, model, X, y, T, names, one_call):
    classes = sorted(set(y))
    Xa, Ta = np.array(X), np.array(T)
    if one_call:
        model.partial_fit(Xa, np.array(y), classes=classes)
    else:
        for x, c in zip(Xa, y):
            model.partial_fit(x.reshape(1, -1), np.array([c]), classes=classes)
    proba = model.predict_proba(Ta)
    return {
        "name": name,
        "spec": spec,
        "rows": rows_of(X, y, names),
        "test": [[[k, v] for k, v in zip(names, t)] for t in T],
        "classes": [str(c) for c in model.classes_],
        "class_count": {str(c): float(n) for c, n in zip(model.classes_, model.class_count_)},
        "proba": [{str(c): float(p) for c, p in zip(model.classes_, row)} for row in proba],
    }


def main():
    rng = np.random.default_rng(13)
    cases = []

    names4 = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    X, y = gaussian_data(rng, 90)
    T, _ = gaussian_data(rng, 12)
    # a test row far from every class, where the smoothing decides
    T.append([9.0, 0.5, 9.5, 4.0])
    for vs in (None, 1e-2, 0.5):
        spec = {"model": "gaussian_nb"} if vs is None else {"model": "gaussian_nb", "var_smoothing": vs}
        m = GaussianNB() if vs is None else GaussianNB(var_smoothing=vs)
        cases.append(case(f"gaussian var_smoothing={vs or 1e-9}", spec, m, X, y, T, names4, True))

    names6 = [f"w{i}" for i in range(6)]
    X, y = count_data(rng, 80, 6)
    T, _ = count_data(rng, 12, 6)
    for alpha, fit_prior in ((None, None), (0.5, False), (1e-10, True)):
        spec = {"model": "multinomial_nb"}
        kw = {}
        if alpha is not None:
            spec["alpha"], kw["alpha"] = alpha, alpha
        if fit_prior is not None:
            spec["fit_prior"], kw["fit_prior"] = fit_prior, fit_prior
        cases.append(case(f"multinomial alpha={alpha} fit_prior={fit_prior}", spec, MultinomialNB(**kw), X, y, T, names6, False))

    # Bernoulli on the same counts (binarized above 0 by default, above 1.5 with binarize)
    for alpha, fit_prior, binarize in ((None, None, None), (2.0, False, 1.5), (0.1, True, 0.0)):
        spec = {"model": "bernoulli_nb"}
        kw = {}
        if alpha is not None:
            spec["alpha"], kw["alpha"] = alpha, alpha
        if fit_prior is not None:
            spec["fit_prior"], kw["fit_prior"] = fit_prior, fit_prior
        if binarize is not None:
            spec["binarize"], kw["binarize"] = binarize, binarize
        cases.append(case(f"bernoulli alpha={alpha} fit_prior={fit_prior} binarize={binarize}", spec,
                          BernoulliNB(**kw), X, y, T, names6, False))

    with open(os.path.join(HERE, "expected_naive_bayes.json"), "w") as f:
        json.dump({"cases": cases}, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
