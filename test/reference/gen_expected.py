"""Generates the reference numbers the C++ unit tests compare against (run with /usr/bin/python3).

Writes, next to this file:
  expected_data.json    two deterministic data sets (regression, classification)
  expected_models.json  per case: spec, checkpoints (weights, intercept, optimizer state,
                        statistics) and predictions on the test rows
  expected_merge.json   parallel-combine cases: a starting model, two partials, the merge
"""

import json
import os

import numpy as np

from reference import Model, merge, murmur3_32

HERE = os.path.dirname(os.path.abspath(__file__))
N_TRAIN = 520
N_TEST = 10
CHECKPOINTS = [1, 2, 10, 100, N_TRAIN]


def r4(x):
    return float(round(float(x), 3))


def make_regression(rng, n):
    rows = []
    colors = ["red", "green", "blue"]
    effect = {"red": 1.0, "green": -0.5, "blue": 0.25}
    for i in range(n):
        a = r4(rng.normal(0, 1))
        b = r4(rng.normal(2, 0.7))
        c = r4(rng.normal(0, 0.3))
        d = r4(rng.uniform(-1, 1))
        col = colors[rng.integers(3)]
        x = [["a", a], ["b", b]]
        if rng.random() < 0.1:
            x.append(["c", None])          # missing value
            c_used = 0.0
        else:
            x.append(["c", c])
            c_used = c
        if rng.random() < 0.8:
            x.append(["d", d])              # sometimes absent altogether
        x.append(["color", col])
        x.append(["id", i % 5])
        y = 1.5 * a - 2.0 * b + 0.5 * c_used + 0.8 * d + effect[col] + 3.0 + rng.normal(0, 0.1)
        rows.append({"x": x, "y": r4(y)})
    return rows


def make_classification(rng, n):
    rows = []
    shapes = ["circle", "square", "star", "hex"]
    effect = {"circle": 0.5, "square": -0.5, "star": 1.0, "hex": 0.0}
    for i in range(n):
        a = r4(rng.normal(0, 1))
        b = r4(rng.normal(1, 2))
        noise1 = r4(rng.normal(0, 1))
        noise2 = r4(rng.normal(0, 1))
        flag = bool(rng.random() < 0.4)
        shape = shapes[rng.integers(4)]
        x = [["a", a]]
        if rng.random() < 0.15:
            x.append(["b", None])
            b_used = 1.0
        else:
            x.append(["b", b])
            b_used = b
        x += [["flag", flag], ["shape", shape], ["noise1", noise1], ["noise2", noise2], ["id", i % 5]]
        z = 2.0 * a - 0.7 * b_used + 1.2 * flag + effect[shape] - 0.3
        y = 1.0 if rng.random() < 1 / (1 + np.exp(-z)) else 0.0
        rows.append({"x": x, "y": y})
    return rows


REG, CLS = "regression", "classification"

CASES = [
    # every optimizer x model, default options
    ("lin_sgd", REG, {"model": "linear_regression"}),
    ("lin_adagrad", REG, {"model": "linear_regression", "optimizer": "adagrad"}),
    ("lin_adam", REG, {"model": "linear_regression", "optimizer": "adam"}),
    ("lin_ftrl", REG, {"model": "linear_regression", "optimizer": {"ftrl": {"alpha": 0.5}}}),
    ("log_sgd", CLS, {"model": "logistic_regression"}),
    ("log_adagrad", CLS, {"model": "logistic_regression", "optimizer": "adagrad"}),
    ("log_adam", CLS, {"model": "logistic_regression", "optimizer": "adam"}),
    ("log_ftrl", CLS, {"model": "logistic_regression", "optimizer": "ftrl"}),
    # option combinations
    ("lin_sgd_l1_l2", REG, {"model": "linear_regression", "optimizer": {"sgd": {"lr": 0.02}},
                            "l1": 0.5, "l2": 0.01}),
    ("lin_adam_l2", REG, {"model": "linear_regression", "optimizer": {"adam": {"lr": 0.05, "beta1": 0.8}},
                          "l2": 0.001}),
    ("log_adagrad_l1", CLS, {"model": "logistic_regression", "optimizer": {"adagrad": {"lr": 0.2}},
                             "l1": 0.02}),
    ("log_adam_l1_l2", CLS, {"model": "logistic_regression", "optimizer": "adam", "l1": 0.05, "l2": 0.01}),
    ("lin_sgd_clip", REG, {"model": "linear_regression", "clip_gradient": 0.5}),
    ("log_sgd_clip", CLS, {"model": "logistic_regression", "optimizer": {"sgd": {"lr": 0.5}},
                           "clip_gradient": 0.1}),
    ("lin_sgd_scale", REG, {"model": "linear_regression", "optimizer": {"sgd": {"lr": 0.05}}, "scale": True}),
    ("lin_adam_scale_mean", REG, {"model": "linear_regression", "optimizer": "adam", "scale": True,
                                  "missing": "mean"}),
    ("log_adagrad_scale", CLS, {"model": "logistic_regression", "optimizer": "adagrad", "scale": True}),
    ("log_ftrl_scale", CLS, {"model": "logistic_regression", "optimizer": {"ftrl": {"alpha": 0.3}},
                             "scale": True}),
    ("lin_sgd_mean", REG, {"model": "linear_regression", "missing": "mean"}),
    ("log_sgd_mean", CLS, {"model": "logistic_regression", "optimizer": {"sgd": {"lr": 0.1}},
                           "missing": "mean"}),
    ("lin_adagrad_intercept", REG, {"model": "linear_regression", "optimizer": "adagrad",
                                    "intercept_init": 1.5, "intercept_lr": 0.1}),
    ("log_sgd_frozen_intercept", CLS, {"model": "logistic_regression", "intercept_init": -0.25,
                                       "intercept_lr": 0}),
    ("log_ftrl_l1", CLS, {"model": "logistic_regression",
                          "optimizer": {"ftrl": {"alpha": 0.1, "beta": 0.5, "l1": 8.0, "l2": 0.5}}}),
    ("lin_ftrl_l1_l2zero", REG, {"model": "linear_regression",
                                 "optimizer": {"ftrl": {"alpha": 0.2, "l1": 60.0, "l2": 0.0}}}),
    ("lin_sgd_hash3", REG, {"model": "linear_regression", "hash_bits": 3}),
    ("log_adam_hash2", CLS, {"model": "logistic_regression", "optimizer": "adam", "hash_bits": 2}),
    ("log_ftrl_hash4", CLS, {"model": "logistic_regression", "optimizer": "ftrl", "hash_bits": 4}),
    ("lin_adagrad_ignore", REG, {"model": "linear_regression", "optimizer": "adagrad",
                                 "ignore": ["id", "color"]}),
    # this release's defaults, spelled out (docs/algorithms.md, "Defaults")
    ("lin_defaults", REG, {"model": "linear_regression", "optimizer": "adagrad", "scale": True,
                           "scale_target": True, "check_divergence": True, "intercept_lr": 0.001}),
    ("log_defaults", CLS, {"model": "logistic_regression", "optimizer": "adagrad", "scale": True,
                           "check_divergence": True}),
    ("lin_sgd_target_only", REG, {"model": "linear_regression", "scale_target": True}),
]


def snapshot(m, full):
    out = {"n_seen": m.n_seen, "intercept": m.b}
    if m.spec["hash_bits"]:
        out["weights_by_index"] = m.w.tolist()
        out["names"] = list(m.names)
    else:
        out["weights"] = {name: float(m.w[i]) for name, i in m.index.items()}
    if m.spec["scale_target"] or m.spec["check_divergence"]:
        out["training"] = [m.y_cnt, m.y_mean, m.y_m2, m.loss_cnt, m.loss_mean, m.loss_recent]
    if full:
        opt = m.spec["optimizer"]
        if opt != "sgd":
            out["s1"] = m.s1.tolist() if m.spec["hash_bits"] else {n: float(m.s1[i]) for n, i in m.index.items()}
        if opt in ("adam", "ftrl"):
            out["s2"] = m.s2.tolist() if m.spec["hash_bits"] else {n: float(m.s2[i]) for n, i in m.index.items()}
        if m.keeps_stats():
            out["stats"] = {n: [float(m.cnt[i]), float(m.mean[i]), float(m.m2[i])]
                            for n, i in m.index.items() if m.kinds[n] == "numeric"}
    return out


def run_case(name, data, spec):
    m = Model(spec)
    checkpoints = []
    for t, row in enumerate(data["train"], start=1):
        m.learn(row["x"], row["y"])
        if t in CHECKPOINTS:
            checkpoints.append(snapshot(m, full=(t == N_TRAIN or t == 10)))
    preds = [m.predict(x) for x in data["test"]]
    return {"name": name, "spec": spec, "checkpoints": checkpoints, "predictions": preds}


MERGE_CASES = [
    ("lin_sgd", REG, {"model": "linear_regression"}),
    ("lin_adagrad_scale", REG, {"model": "linear_regression", "optimizer": "adagrad", "scale": True}),
    ("log_adam_mean", CLS, {"model": "logistic_regression", "optimizer": "adam", "missing": "mean"}),
    ("log_ftrl_l1", CLS, {"model": "logistic_regression", "optimizer": {"ftrl": {"alpha": 0.1, "l1": 3.0}}}),
    ("lin_sgd_hash3", REG, {"model": "linear_regression", "hash_bits": 3}),
    ("lin_defaults", REG, {"model": "linear_regression", "optimizer": "adagrad", "scale": True,
                           "scale_target": True, "check_divergence": True, "intercept_lr": 0.001}),
]


def run_merge(name, data, spec):
    """A starting model on rows [0, 100); partial A on [100, 250), partial B on [250, 520)
    with B's rows stripped of 'color'/'shape' and given an extra feature 'only_b' = 0.5, so
    each partial has features the other never saw."""
    train = data["train"]
    start = Model(spec)
    for row in train[:100]:
        start.learn(row["x"], row["y"])
    a = Model(spec)
    a.__dict__ = __import__("copy").deepcopy(start.__dict__)
    b = Model(spec)
    b.__dict__ = __import__("copy").deepcopy(start.__dict__)
    a.begin_aggregation()
    b.begin_aggregation()
    for row in train[100:250]:
        a.learn(row["x"], row["y"])
    extra = []
    for row in train[250:520]:
        x = [kv for kv in row["x"] if kv[0] not in ("color", "shape")] + [["only_b", 0.5]]
        extra.append({"x": x, "y": row["y"]})
        b.learn(x, row["y"])
    m = merge(a, b)
    # The pooled statistics must count the starting model's examples once: they are the
    # statistics of every example learned (start, A, B), computed here directly.
    if m.keeps_stats():
        every = Model(spec)
        for row in train[:250] + extra:
            every._terms(row["x"], True)
        for feature, i in m.index.items():
            j = every.index.get(feature)
            m.cnt[i], m.mean[i], m.m2[i] = (every.cnt[j], every.mean[j], every.m2[j]) if j is not None else (0, 0, 0)
    if m.spec["scale_target"] or m.spec["check_divergence"]:
        # the label statistics of every example learned; the loss mean over every example's
        # loss (each counted once); the recent loss weighted by the examples on each side
        ys = [row["y"] for row in train[:250]] + [row["y"] for row in extra]
        m.y_cnt, m.y_mean, m.y_m2 = float(len(ys)), float(np.mean(ys)), float(np.var(ys) * len(ys))
        own_b = b.loss_cnt - start.loss_cnt
        own_b_mean = (b.loss_mean * b.loss_cnt - start.loss_mean * start.loss_cnt) / own_b
        m.loss_cnt = a.loss_cnt + own_b
        m.loss_mean = (a.loss_mean * a.loss_cnt + own_b_mean * own_b) / m.loss_cnt
        m.loss_recent = a.loss_recent + (b.loss_recent - a.loss_recent) * own_b / m.loss_cnt
    return {"name": name, "spec": spec,
            "merged": snapshot(m, full=True),
            "predictions": [m.predict(x) for x in data["test"]]}


def main():
    rng = np.random.default_rng(20240611)
    reg = make_regression(rng, N_TRAIN + N_TEST)
    cls = make_classification(rng, N_TRAIN + N_TEST)
    # test rows include a name never learned (ignored when predicting)
    data = {REG: {"train": reg[:N_TRAIN], "test": [r["x"] + [["unseen", 1.0]] for r in reg[N_TRAIN:]]},
            CLS: {"train": cls[:N_TRAIN], "test": [r["x"] + [["unseen", 1.0]] for r in cls[N_TRAIN:]]}}
    cases = [run_case(n, data[d], s) | {"dataset": d} for n, d, s in CASES]
    merges = [run_merge(n, data[d], s) | {"dataset": d} for n, d, s in MERGE_CASES]

    def dump(obj, fname):
        with open(os.path.join(HERE, fname), "w") as f:
            json.dump(obj, f, separators=(",", ":"), allow_nan=False)
            f.write("\n")

    dump(data, "expected_data.json")
    dump(cases, "expected_models.json")
    dump(merges, "expected_merge.json")
    # Sanity for the hashing reference itself (published MurmurHash3_x86_32 vectors).
    assert murmur3_32(b"") == 0
    assert murmur3_32(b"hello") == 0x248BFA47
    assert murmur3_32(b"The quick brown fox jumps over the lazy dog") == 0x2E4FF723
    summary = []
    for c in cases:
        final = c["checkpoints"][-1]
        ws = final.get("weights") or {}
        zeros = sum(1 for v in ws.values() if v == 0.0) if ws else sum(1 for v in final["weights_by_index"] if v == 0.0)
        summary.append(f'{c["name"]:28s} b={final["intercept"]: .4f} zero_weights={zeros} '
                       f'pred0={c["predictions"][0]: .4f}')
    print("\n".join(summary))


if __name__ == "__main__":
    main()
