"""Reference values for softmax_regression (multinomial logistic regression), run with /usr/bin/python3.

An independent NumPy implementation of docs/algorithms.md "Softmax regression", on top of
reference.py's feature resolution (dictionary, hashing, statistics, scaling, missing values):
per example, p = softmax(b + W^T x); for every class c, in order, g_c = p_c - [c = y] (clipped),
b_c -= intercept_lr * g_c, then the optimizer's step on column c of W with gradient g_c * x.
A class first seen while learning is added with a zero column and intercept_init.
Writes expected_softmax.json, read by test/unit/test_softmax.cpp.
"""

import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import Model, murmur3_32  # noqa: E402


class Softmax(Model):
    def __init__(self, spec):
        super().__init__(spec)
        n = len(self.w)
        self.classes = []
        self.W = np.zeros((n, 0))
        self.S1 = np.zeros((n, 0))
        self.S2 = np.zeros((n, 0))
        self.B = []

    def _grow(self):
        super()._grow()
        for attr in ("W", "S1", "S2"):
            a = getattr(self, attr)
            setattr(self, attr, np.vstack([a, np.zeros((1, a.shape[1]))]))

    def _add_class(self, c):
        self.classes.append(c)
        self.B.append(float(self.spec["intercept_init"]))
        for attr in ("W", "S1", "S2"):
            a = getattr(self, attr)
            setattr(self, attr, np.hstack([a, np.zeros((a.shape[0], 1))]))

    def proba(self, terms):
        z = np.array(self.B, dtype=float)
        for i, v in terms:
            z = z + self.W[i] * v
        if len(z) == 0:
            return z
        e = np.exp(z - z.max())
        return e / e.sum()

    def predict_proba(self, x):
        return self.proba(self._terms(x, False))

    def learn(self, x, y):
        s, o = self.spec, self.spec["opt"]
        if y not in self.classes:
            self._add_class(y)
        k = self.classes.index(y)
        terms = self._terms(x, True)
        p = self.proba(terms)
        t = self.n_seen + 1
        for c in range(len(self.classes)):
            g = p[c] - (1.0 if c == k else 0.0)
            g = min(max(g, -s["clip_gradient"]), s["clip_gradient"])
            self.B[c] -= s["intercept_lr"] * g
            for i, v in terms:
                w = self.W[i, c]
                name = s["optimizer"]
                if name == "ftrl":
                    gi = g * v
                    n_old = self.S2[i, c]
                    sigma = (math.sqrt(n_old + gi * gi) - math.sqrt(n_old)) / o["alpha"]
                    self.S1[i, c] += gi - sigma * w
                    self.S2[i, c] = n_old + gi * gi
                    z = self.S1[i, c]
                    w = 0.0 if abs(z) <= o["l1"] else \
                        -(z - np.sign(z) * o["l1"]) / ((o["beta"] + math.sqrt(self.S2[i, c])) / o["alpha"] + o["l2"])
                else:
                    gi = g * v + 2.0 * s["l2"] * w
                    if name == "sgd":
                        w = w - o["lr"] * gi
                    elif name == "adagrad":
                        self.S1[i, c] += gi * gi
                        w = w - o["lr"] * gi / math.sqrt(self.S1[i, c] + o["eps"])
                    elif name == "adam":
                        self.S1[i, c] = o["beta1"] * self.S1[i, c] + (1 - o["beta1"]) * gi
                        self.S2[i, c] = o["beta2"] * self.S2[i, c] + (1 - o["beta2"]) * gi * gi
                        rate = o["lr"] * math.sqrt(1 - o["beta2"] ** t) / (1 - o["beta1"] ** t)
                        w = w - rate * self.S1[i, c] / (math.sqrt(self.S2[i, c]) + o["eps"])
                    if s["l1"] > 0:
                        shrink = o["lr"] * s["l1"]
                        w = 0.0 if abs(w) <= shrink else w - np.sign(w) * shrink
                self.W[i, c] = w
        self.n_seen += 1

    def weight_of(self, name, c):
        if self.spec["hash_bits"]:
            return float(self.W[murmur3_32(name.encode()) % (1 << self.spec["hash_bits"]), c])
        return float(self.W[self.index[name], c]) if name in self.index else 0.0


def dataset(rng, n):
    """Three numeric features on different scales, a categorical one and a sometimes-missing
    one; classes appear over time (two at first, a third after 30 rows, a fourth after 200)."""
    rows = []
    for t in range(n):
        a = rng.normal() * 3.0
        b = rng.normal() * 0.2 + 1.0
        c = ["x", "y", "z"][int(rng.integers(0, 3))]
        d = None if rng.random() < 0.2 else rng.normal()
        score = [a, -a + 5 * (b - 1), 1.5 if c == "z" else -0.5, 0.3 * (d or 0.0)]
        k = 2 if t < 30 else (3 if t < 200 else 4)
        cls = ["north", "south", "east", "west"][int(np.argmax(np.array(score[:k]) + rng.normal(size=k) * 0.5))]
        x = [["a", a], ["b", b], ["c", c], ["d", d]]
        rows.append((x, cls))
    return rows


CASES = [
    ("sgd", {"model": "softmax_regression"}),
    ("adagrad", {"model": "softmax_regression", "optimizer": {"adagrad": {"lr": 0.1}}}),
    ("adam", {"model": "softmax_regression", "optimizer": {"adam": {"lr": 0.05}}}),
    ("ftrl", {"model": "softmax_regression", "optimizer": {"ftrl": {"alpha": 0.1, "l1": 0.01, "l2": 0.5}}}),
    ("l2", {"model": "softmax_regression", "l2": 0.01, "optimizer": {"sgd": {"lr": 0.05}}}),
    ("l1", {"model": "softmax_regression", "l1": 0.05, "optimizer": {"sgd": {"lr": 0.05}}}),
    ("scale", {"model": "softmax_regression", "scale": True, "optimizer": {"adagrad": {"lr": 0.1}}}),
    ("missing_mean", {"model": "softmax_regression", "missing": "mean"}),
    ("hashed", {"model": "softmax_regression", "hash_bits": 3, "optimizer": {"adagrad": {"lr": 0.1}}}),
    ("clipped", {"model": "softmax_regression", "clip_gradient": 0.3, "intercept_lr": 0.1, "intercept_init": 0.5}),
]

PROBES = [
    [["a", 1.0], ["b", 1.2], ["c", "z"], ["d", 0.5]],
    [["a", -2.0], ["b", 0.8], ["c", "x"], ["d", None]],
    [["a", 0.0], ["b", 1.0], ["c", "w"]],
]


def main():
    rng = np.random.default_rng(20261206)
    data = dataset(rng, 400)
    out = {"examples": [[x, y] for x, y in data], "probes": PROBES, "cases": []}
    for name, spec in CASES:
        m = Softmax(spec)
        for x, y in data:
            m.learn(x, y)
        weights = {c: {nm: m.weight_of(nm, k) for nm in m.names} for k, c in enumerate(m.classes)}
        out["cases"].append({
            "name": name, "spec": spec, "classes": m.classes, "intercepts": list(m.B),
            "weights": weights, "n_seen": m.n_seen,
            "probes": [list(map(float, m.predict_proba(p))) for p in PROBES],
        })
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "expected_softmax.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, allow_nan=False)
        f.write("\n")


if __name__ == "__main__":
    main()
