"""An independent NumPy implementation of docs/algorithms.md, the reference for the C++ core.

Written from the document, not from the C++: one learning step is resolve -> statistics and
scaling -> predict -> gradient (clipped) -> intercept -> weights -> L1, exactly in the order of
the section "One learning step, in order". Examples are lists of (key, value) pairs with
jsonb's conventions: a number is numeric, a string s under key k is the one-hot feature "k=s",
True/False are 1/0 and None is a missing value.
"""

import copy
import math

import numpy as np

DEFAULT_OPTIMIZER_PARAMS = {
    "sgd": {"lr": 0.01},
    "adagrad": {"lr": 0.1, "eps": 1e-8},
    "adam": {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "ftrl": {"alpha": 0.05, "beta": 1.0, "l1": 0.0, "l2": 1.0},
}

DEFAULTS = {
    "l1": 0.0,
    "l2": 0.0,
    "intercept_init": 0.0,
    "intercept_lr": 0.01,
    "clip_gradient": 1e12,
    "scale": False,
    "scale_target": False,
    "check_divergence": False,
    "hash_bits": 0,
    "missing": "zero",
    "ignore": [],
}


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3_x86_32 (Austin Appleby, SMHasher), little-endian blocks."""
    c1, c2 = 0xCC9E2D51, 0x1B873593
    mask = 0xFFFFFFFF

    def rotl(x, r):
        return ((x << r) | (x >> (32 - r))) & mask

    h = seed & mask
    n = len(data)
    nblocks = n // 4
    for i in range(nblocks):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * c1) & mask
        k = rotl(k, 15)
        k = (k * c2) & mask
        h ^= k
        h = rotl(h, 13)
        h = (h * 5 + 0xE6546B64) & mask
    tail = data[4 * nblocks:]
    k = 0
    if len(tail) >= 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if len(tail) >= 1:
        k ^= tail[0]
        k = (k * c1) & mask
        k = rotl(k, 15)
        k = (k * c2) & mask
        h ^= k
    h ^= n
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h


def parse_spec(spec):
    """Fills in the documented defaults (no validation: the C++ tests cover the errors)."""
    s = dict(DEFAULTS)
    s.update({k: v for k, v in spec.items() if k != "optimizer"})
    opt = spec.get("optimizer", {"sgd": {}})
    if isinstance(opt, str):
        name, params = opt, {}
    else:
        (name, params), = opt.items()
        params = params or {}
    p = dict(DEFAULT_OPTIMIZER_PARAMS[name])
    p.update(params)
    s["optimizer"] = name
    s["opt"] = p
    return s


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


class Model:
    def __init__(self, spec):
        self.spec = parse_spec(spec)
        self.names = []          # feature names in the order they were first learned
        self.index = {}          # name -> weight index (unhashed models)
        self.kinds = {}          # name -> "numeric" | "categorical"
        bits = self.spec["hash_bits"]
        n = 1 << bits if bits else 0
        self.w = np.zeros(n)
        self.s1 = np.zeros(n)    # adagrad G, adam m, ftrl z
        self.s2 = np.zeros(n)    # adam v, ftrl n
        self.cnt = np.zeros(n)
        self.mean = np.zeros(n)
        self.m2 = np.zeros(n)
        self.b = float(self.spec["intercept_init"])
        self.n_seen = 0
        # training state: label count/mean/m2 (a regression's), progressive loss count/mean/recent
        self.y_cnt = self.y_mean = self.y_m2 = 0.0
        self.loss_cnt = self.loss_mean = self.loss_recent = 0.0

    # ----- features -----
    def keeps_stats(self):
        return self.spec["scale"] or self.spec["missing"] == "mean"

    def _grow(self):
        for attr in ("w", "s1", "s2", "cnt", "mean", "m2"):
            setattr(self, attr, np.append(getattr(self, attr), 0.0))

    def _remember(self, name, kind):
        if name not in self.kinds:
            if self.spec["hash_bits"] and len(self.names) >= 10000:
                return
            self.kinds[name] = kind
            self.names.append(name)

    def _index(self, name, kind, learning):
        bits = self.spec["hash_bits"]
        if bits:
            if learning:
                self._remember(name, kind)
            return murmur3_32(name.encode()) % (1 << bits)
        if name in self.index:
            return self.index[name]
        if not learning:
            return None
        self.index[name] = len(self.w)
        self._remember(name, kind)
        self._grow()
        return self.index[name]

    def _terms(self, x, learning):
        """Resolve, then statistics and scaling; returns [(index, value)]."""
        terms = []
        for key, val in x:
            if key in self.spec["ignore"]:
                continue
            if val is None:
                policy = self.spec["missing"]
                if policy == "error":
                    raise ValueError("missing feature " + key)
                if policy == "zero":
                    continue
                i = self._index(key, "numeric", False)
                if i is None or self.cnt[i] == 0:
                    continue  # no statistic yet: nothing to impute
                terms.append([i, float(self.mean[i]), True, False])
                continue
            if isinstance(val, str):
                i = self._index(key + "=" + val, "categorical", learning)
                numeric, v = False, 1.0
            else:
                i = self._index(key, "numeric", learning)
                numeric, v = True, float(val)
            if i is not None:
                terms.append([i, v, numeric, True])
        if self.keeps_stats():
            for t in terms:
                i, v, numeric, observed = t
                if not numeric:
                    continue
                if learning and observed:  # Welford, before the value is used
                    self.cnt[i] += 1
                    d = v - self.mean[i]
                    self.mean[i] += d / self.cnt[i]
                    self.m2[i] += d * (v - self.mean[i])
                if self.spec["scale"]:
                    var = self.m2[i] / self.cnt[i] if self.cnt[i] > 0 else 0.0
                    t[1] = (v - self.mean[i]) / math.sqrt(var) if var > 0 else 0.0
        # Features on the same weight act as one: their values add up.
        merged = {}
        for i, v, _, _ in terms:
            merged[i] = merged.get(i, 0.0) + v
        return list(merged.items())

    # ----- prediction and learning -----
    def _link(self, z):
        return sigmoid(z) if self.spec["model"] == "logistic_regression" else z

    def _raw(self, terms):
        return self.b + sum(self.w[i] * v for i, v in terms)

    def _label_sd(self):
        return math.sqrt(self.y_m2 / self.y_cnt) if self.y_cnt > 0 else 0.0

    def predict(self, x):
        z = self._raw(self._terms(x, False))
        if self.spec["scale_target"] and self.y_cnt > 0:
            return z * self._label_sd() + self.y_mean
        return self._link(z)

    def learn(self, x, y):
        s, o = self.spec, self.spec["opt"]
        if s["model"] == "logistic_regression" and y not in (0, 1):
            raise ValueError("label")
        regression = s["model"] == "linear_regression"
        if regression and (s["scale_target"] or s["check_divergence"]):
            self.y_cnt += 1
            d = y - self.y_mean
            self.y_mean += d / self.y_cnt
            self.y_m2 += d * (y - self.y_mean)
            if s["scale_target"]:
                sd = self._label_sd()
                y = (y - self.y_mean) / sd if sd > 0 else 0.0
        terms = self._terms(x, True)
        z = self._raw(terms)
        p = self._link(z)
        if not math.isfinite(p):
            raise FloatingPointError("diverged")
        if s["check_divergence"]:
            if regression:
                e = (p - y) * (self._label_sd() if s["scale_target"] else 1.0)
                loss = e * e
            else:  # log loss of the score: log(1 + exp(-z)) for y = 1, log(1 + exp(z)) for y = 0
                loss = float(np.logaddexp(0.0, -z if y == 1 else z))
            recent = loss if self.loss_cnt == 0 else self.loss_recent + 0.01 * (loss - self.loss_recent)
            if regression:
                ms = self.y_m2 / self.y_cnt + self.y_mean ** 2
                limit = 1e6 * ms if ms > 0 else math.inf
            else:
                limit = 100 * math.log(2)
            if not (recent <= limit and loss <= 100 * limit):
                raise FloatingPointError("diverged: loss exploded")
            self.loss_cnt += 1
            self.loss_mean += (loss - self.loss_mean) / self.loss_cnt
            self.loss_recent = recent
        g = p - y if s["model"] == "logistic_regression" else 2.0 * (p - y)
        g = min(max(g, -s["clip_gradient"]), s["clip_gradient"])
        self.b -= s["intercept_lr"] * g
        t = self.n_seen + 1
        for i, v in terms:
            w = self.w[i]
            name = s["optimizer"]
            if name == "ftrl":
                gi = g * v
                n_old = self.s2[i]
                sigma = (math.sqrt(n_old + gi * gi) - math.sqrt(n_old)) / o["alpha"]
                self.s1[i] += gi - sigma * w
                self.s2[i] = n_old + gi * gi
                z = self.s1[i]
                if abs(z) <= o["l1"]:
                    w = 0.0
                else:
                    w = -(z - np.sign(z) * o["l1"]) / ((o["beta"] + math.sqrt(self.s2[i])) / o["alpha"] + o["l2"])
            else:
                gi = g * v + 2.0 * s["l2"] * w
                if name == "sgd":
                    w = w - o["lr"] * gi
                elif name == "adagrad":
                    self.s1[i] += gi * gi
                    w = w - o["lr"] * gi / math.sqrt(self.s1[i] + o["eps"])
                elif name == "adam":
                    self.s1[i] = o["beta1"] * self.s1[i] + (1 - o["beta1"]) * gi
                    self.s2[i] = o["beta2"] * self.s2[i] + (1 - o["beta2"]) * gi * gi
                    rate = o["lr"] * math.sqrt(1 - o["beta2"] ** t) / (1 - o["beta1"] ** t)
                    w = w - rate * self.s1[i] / (math.sqrt(self.s2[i]) + o["eps"])
                else:
                    raise ValueError(name)
                if s["l1"] > 0:  # truncated gradient
                    shrink = o["lr"] * s["l1"]
                    w = 0.0 if abs(w) <= shrink else w - np.sign(w) * shrink
            self.w[i] = w
        self.n_seen += 1
        if not (math.isfinite(self.b) and np.all(np.isfinite(self.w))):
            raise FloatingPointError("diverged")

    # ----- combining partial models -----
    def begin_aggregation(self):
        self.agg_base = self.n_seen

    def weight_of(self, name):
        """The weight of a name as ml_info reports it (0 for an unknown name)."""
        if self.spec["hash_bits"]:
            return float(self.w[murmur3_32(name.encode()) % (1 << self.spec["hash_bits"])])
        return float(self.w[self.index[name]]) if name in self.index else 0.0


def merge(a, b):
    """Example-weighted parameter averaging of two partials that began from the same model."""
    out = copy.deepcopy(a)
    na = a.n_seen - a.agg_base
    nb = b.n_seen - b.agg_base
    hashed = bool(a.spec["hash_bits"])
    # Align b's parameters on out's indices; a feature one side never saw counts as 0 there.
    for name in b.names:
        if hashed:
            out._remember(name, b.kinds[name])
        else:
            out._index(name, b.kinds[name], True)

    def aligned(model, arr):
        if hashed:
            return arr.copy()
        res = np.zeros(len(out.w))
        for name, j in model.index.items():
            res[out.index[name]] = arr[j]
        return res

    A = {k: aligned(a, getattr(a, k)) for k in ("w", "s1", "s2", "cnt", "mean", "m2")}
    B = {k: aligned(b, getattr(b, k)) for k in ("w", "s1", "s2", "cnt", "mean", "m2")}
    if na + nb > 0:
        fa, fb = na / (na + nb), nb / (na + nb)
        for k in ("w", "s1", "s2"):
            setattr(out, k, fa * A[k] + fb * B[k])
        out.b = fa * a.b + fb * b.b
        if out.spec["optimizer"] == "ftrl":
            o = out.spec["opt"]
            for i in range(len(out.w)):
                z, n = out.s1[i], out.s2[i]
                out.w[i] = 0.0 if abs(z) <= o["l1"] else \
                    -(z - np.sign(z) * o["l1"]) / ((o["beta"] + math.sqrt(n)) / o["alpha"] + o["l2"])
    # Chan et al.'s pooled statistics.
    n = A["cnt"] + B["cnt"]
    with np.errstate(invalid="ignore", divide="ignore"):
        d = B["mean"] - A["mean"]
        mean = np.where(n > 0, (A["cnt"] * A["mean"] + B["cnt"] * B["mean"]) / np.where(n > 0, n, 1), 0.0)
        m2 = A["m2"] + B["m2"] + np.where(n > 0, d * d * A["cnt"] * B["cnt"] / np.where(n > 0, n, 1), 0.0)
    out.cnt, out.mean, out.m2 = n, mean, m2
    out.n_seen = max(a.agg_base, b.agg_base) + na + nb
    return out
