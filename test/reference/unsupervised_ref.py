"""Reference values for kmeans and half_space_trees, run with /usr/bin/python3.

An independent implementation of docs/models.md "k-means" and "Half-Space Trees" (river's
cluster.KMeans and anomaly.HalfSpaceTrees update rules, Tan, Ting and Liu 2011), written from
those rules and not from the C++ code, with the same random generator (SplitMix64, uniforms
from the top 53 bits, Box-Muller normals), so that the C++ models must reproduce these numbers:

- k-means: every center gets a N(mu, sigma) draw for each feature when the feature is first
  learned (features in the order first seen, clusters in order); an example goes to the center
  nearest in sum |c_f - x_f|^p over the features the model knows (a feature the example lacks is
  0), the first of equals; that center moves by halflife towards it on the example's features.
- Half-Space Trees: trees built at the first example over the spec's limits (else its features
  on [0, 1]), features in name order; river's make_padded_tree with the split feature drawn by
  bisecting the cumulative ranges; masses, window pivot and the normalised path score of river.

Writes expected_unsupervised.json, read by test/unit/test_kmeans.cpp and
test/unit/test_half_space_trees.cpp.
"""

import json
import math
import os

import numpy as np

MASK = (1 << 64) - 1


class Rng:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53

    def normal(self):
        u1 = self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


class KMeans:
    def __init__(self, n_clusters=5, halflife=0.5, mu=0.0, sigma=1.0, p=2.0, seed=0):
        self.k, self.h, self.mu, self.sigma, self.p = n_clusters, halflife, mu, sigma, p
        self.rng = Rng(seed)
        self.features = []           # in the order first learned
        self.centers = {}            # feature -> [value per cluster]
        self.counts = [0] * n_clusters

    def _dist(self, c, x):
        d = 0.0
        for f in self.features:
            a = abs(self.centers[f][c] - x.get(f, 0.0))
            d += a * a if self.p == 2.0 else (a if self.p == 1.0 else math.pow(a, self.p))
        return d

    def predict(self, x):
        best, best_d = 0, None
        for c in range(self.k):
            d = self._dist(c, x)
            if best_d is None or d < best_d:
                best, best_d = c, d
        return best

    def learn(self, x):
        for f in x:
            if f not in self.centers:
                self.features.append(f)
                self.centers[f] = [self.mu + self.sigma * self.rng.normal() for _ in range(self.k)]
        c = self.predict(x)
        for f, v in x.items():
            self.centers[f][c] = self.centers[f][c] + self.h * (v - self.centers[f][c])
        self.counts[c] += 1


class HST:
    def __init__(self, n_trees=10, height=8, window_size=250, limits=None, seed=0):
        self.n_trees, self.height, self.window = n_trees, height, window_size
        self.limits = dict(limits or {})
        self.seed = seed
        self.trees = None            # per tree: dict node -> (feature, threshold) for inner nodes
        self.l = None
        self.r = None
        self.counter = 0
        self.windows = 0

    def _grow(self, rng, tree, node, depth, lim, names):
        if depth == self.height:
            return
        widths = [lim[f][1] - lim[f][0] for f in names]
        cum = list(np.cumsum(widths)) if False else []
        acc = 0.0
        for w in widths:
            acc += w
            cum.append(acc)
        u = rng.uniform() * acc
        on = len(names) - 1
        for i, c in enumerate(cum):
            if u < c:
                on = i
                break
        f = names[on]
        a, b = lim[f]
        lo, hi = a + 0.15 * (b - a), b - 0.15 * (b - a)
        at = lo + (hi - lo) * rng.uniform()
        tree[node] = (f, at)
        saved = lim[f]
        lim[f] = (a, at)
        self._grow(rng, tree, 2 * node + 1, depth + 1, lim, names)
        lim[f] = (at, saved[1])
        self._grow(rng, tree, 2 * node + 2, depth + 1, lim, names)
        lim[f] = saved

    def _build(self, x):
        if self.limits:
            lim = {f: tuple(v) for f, v in self.limits.items()}
        else:
            lim = {f: (0.0, 1.0) for f in x}
        names = sorted(lim, key=lambda s: s.encode())
        rng = Rng(self.seed)
        self.trees = []
        for _ in range(self.n_trees):
            tree = {}
            self._grow(rng, tree, 0, 0, dict(lim), names)
            self.trees.append(tree)
        n = 2 ** (self.height + 1) - 1
        self.l = [[0] * n for _ in range(self.n_trees)]
        self.r = [[0] * n for _ in range(self.n_trees)]

    def _child(self, t, node, x):
        f, at = self.trees[t][node]
        if f not in x:
            return 2 * node + 2 if self.l[t][2 * node + 1] < self.l[t][2 * node + 2] else 2 * node + 1
        return 2 * node + 1 if x[f] < at else 2 * node + 2

    def learn(self, x):
        if self.trees is None:
            self._build(x)
        for t in range(self.n_trees):
            node = 0
            for depth in range(self.height + 1):
                self.r[t][node] += 1
                if depth == self.height:
                    break
                node = self._child(t, node, x)
        self.counter += 1
        if self.counter == self.window:
            for t in range(self.n_trees):
                self.l[t] = self.r[t]
                self.r[t] = [0] * len(self.r[t])
            self.counter = 0
            self.windows += 1

    def score(self, x):
        if self.windows == 0:
            return 0.0
        score = 0.0
        for t in range(self.n_trees):
            node = 0
            for depth in range(self.height + 1):
                m = float(self.l[t][node])
                score += m * math.ldexp(1.0, depth)
                if m < 0.1 * self.window or depth == self.height:
                    break
                node = self._child(t, node, x)
        return 1.0 - score / (self.n_trees * self.window * (math.ldexp(1.0, self.height + 1) - 1.0))


def pairs(x):
    return [[k, v] for k, v in x.items()]


def kmeans_case(name, spec, train, test):
    m = KMeans(**{k: v for k, v in spec.items() if k != "model"})
    predictions = []
    for x in train:
        predictions.append(m.predict(x))  # before learning it
        m.learn(x)
    return {
        "name": name,
        "spec": spec,
        "train": [pairs(x) for x in train],
        "test": [pairs(x) for x in test],
        "predictions_before_learning": predictions,
        "test_predictions": [m.predict(x) for x in test],
        "features": m.features,
        "centers": [[m.centers[f][c] for f in m.features] for c in range(m.k)],
        "counts": m.counts,
    }


def hst_case(name, spec, train, test, every):
    m = HST(**{k: v for k, v in spec.items() if k != "model"})
    checkpoints = []
    for i, x in enumerate(train):
        m.learn(x)
        if (i + 1) % every == 0:
            checkpoints.append({"after": i + 1, "scores": [m.score(x) for x in test]})
    return {"name": name, "spec": spec, "train": [pairs(x) for x in train], "test": [pairs(x) for x in test],
            "checkpoints": checkpoints}


def main():
    rng = np.random.default_rng(20261206)
    cases_k = []
    centers = np.array([[0.0, 0.0], [6.0, 6.0], [-5.0, 7.0]])
    pts = centers[rng.integers(0, 3, 300)] + rng.normal(size=(300, 2))
    train = [{"a": float(p[0]), "b": float(p[1])} for p in pts[:240]]
    test = [{"a": float(p[0]), "b": float(p[1])} for p in pts[240:]]
    cases_k.append(kmeans_case("blobs_p2", {"model": "kmeans", "n_clusters": 3, "halflife": 0.1, "mu": 0.0,
                                            "sigma": 4.0, "p": 2.0, "seed": 7}, train, test))
    cases_k.append(kmeans_case("blobs_p1_defaults", {"model": "kmeans"}, train[:100], test))
    cases_k.append(kmeans_case("blobs_p3", {"model": "kmeans", "n_clusters": 4, "halflife": 0.5, "mu": 1.0,
                                            "sigma": 2.0, "p": 3.0, "seed": 123}, train[:120], test))
    # Missing features and a feature first seen late.
    ragged = []
    for i, p in enumerate(pts[:150]):
        x = {"a": float(p[0])}
        if i % 3:
            x["b"] = float(p[1])
        if i >= 60:
            x["c"] = float(p[0] - p[1])
        ragged.append(x)
    cases_k.append(kmeans_case("ragged", {"model": "kmeans", "n_clusters": 3, "halflife": 0.2, "mu": 0.0,
                                          "sigma": 3.0, "p": 2.0, "seed": 99}, ragged, test))

    cases_h = []
    u = rng.random(size=(400, 3))
    out = rng.random(size=(20, 3)) * 0.1 + 0.9  # a corner the data rarely visits
    u[:, 0] = u[:, 0] * 0.5                       # feature x1 lives in [0, 0.5]
    train = [{"x1": float(r[0]), "x2": float(r[1]), "x3": float(r[2])} for r in u[:360]]
    test = [{"x1": float(r[0]), "x2": float(r[1]), "x3": float(r[2])} for r in np.vstack([u[360:], out])]
    cases_h.append(hst_case("unit_cube", {"model": "half_space_trees", "n_trees": 5, "height": 4,
                                          "window_size": 50, "seed": 3}, train, test, 40))
    cases_h.append(hst_case("limits", {"model": "half_space_trees", "n_trees": 7, "height": 6, "window_size": 64,
                                       "limits": {"x1": [0.0, 0.5], "x2": [0.0, 1.0], "x3": [-1.0, 2.0]},
                                       "seed": 11}, train, test, 60))
    ragged = [dict(x) for x in train]
    for i, x in enumerate(ragged):
        if i % 4 == 1:
            del x["x2"]
    cases_h.append(hst_case("missing", {"model": "half_space_trees", "n_trees": 4, "height": 5, "window_size": 30,
                                        "seed": 5}, ragged, test + [{"x1": 0.2, "x3": 0.5}, {"x3": 0.95}], 30))

    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "expected_unsupervised.json"), "w") as f:
        json.dump({"kmeans": cases_k, "half_space_trees": cases_h}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
