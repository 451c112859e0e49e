"""Reference change points of the drift detectors (src/core/drift/detectors.cpp); run with /usr/bin/python3.

Writes expected_detectors.json next to this file. Each detector is written here from its paper and
the rules docs/detectors.md states, with NumPy/SciPy doing the arithmetic on the raw values, not
from the C++ code:

- ADWIN (Bifet & Gavalda 2007, ADWIN2): the buckets of the exponential histogram keep their raw
  values here; every `clock` values, when the window holds more than grace_period values, the cut
  points at bucket boundaries are tested oldest first with river's bound (means and the window's
  variance computed by NumPy from the raw values); a cut that holds drops the oldest bucket and
  the test starts again.
- Page-Hinkley (Page 1954, with river's forgetting factor alpha): the mean since the last change
  recomputed by NumPy from the values since then.
- DDM (Gama et al. 2004): error rate p and s = sqrt(p(1-p)/n) since the last change.
- KSWIN (Raab et al. 2020, river's rule p <= alpha and D > 0.1): scipy.stats.ks_2samp(method=
  "exact") on the recent stat_size values and stat_size values drawn without replacement from the
  rest of the window by Floyd's algorithm driven by SplitMix64 (documented, so that the sample is
  reproducible in any language).
- "ks": pairs of samples of equal sizes (with ties) with scipy.stats.ks_2samp's statistic and
  p-value (method "exact", and "auto", which is exact at these sizes).

The streams are random (NumPy's PCG64 with fixed seeds) with known change points
("true_changes"), rounded to 4 decimals, and stored in the file, so the C++ test reads the same
values.
"""

import json
import math
import os

import numpy as np
import scipy
import scipy.stats

HERE = os.path.dirname(os.path.abspath(__file__))
MASK = (1 << 64) - 1


# ---- ADWIN ------------------------------------------------------------------------------------

def adwin(values, delta=0.002, clock=32, max_buckets=5, min_window_length=5, grace_period=10):
    rows = [[]]  # row i: buckets (arrays of raw values, 2^i each), oldest first
    changes = []
    for t, x in enumerate(values, start=1):
        rows[0].append(np.array([x]))
        i = 0
        while i < len(rows) and len(rows[i]) > max_buckets:
            if i + 1 == len(rows):
                rows.append([])
            merged = np.concatenate([rows[i][0], rows[i][1]])
            del rows[i][:2]
            rows[i + 1].append(merged)
            i += 1
        width = sum(len(b) for r in rows for b in r)
        if t % clock != 0 or width <= grace_period:
            continue
        detected = False
        while True:
            buckets = [b for r in reversed(rows) for b in r]  # oldest first
            window = np.concatenate(buckets)
            n = len(window)
            var = float(np.var(window))
            dprime = math.log(2 * math.log(n) / delta)
            cut = False
            n0 = 0
            for b in buckets[:-1]:
                n0 += len(b)
                n1 = n - n0
                if n0 < min_window_length or n1 < min_window_length:
                    continue
                mu0 = float(np.mean(window[:n0]))
                mu1 = float(np.mean(window[n0:]))
                m_recip = 1 / (n0 - min_window_length + 1) + 1 / (n1 - min_window_length + 1)
                eps = math.sqrt(2 * m_recip * var * dprime) + 2 / 3 * dprime * m_recip
                if abs(mu0 - mu1) > eps:
                    cut = True
                    break
            if not cut:
                break
            detected = True
            rows[-1].pop(0)
            if not rows[-1] and len(rows) > 1:
                rows.pop()
        if detected:
            changes.append(t)
    window = np.concatenate([b for r in reversed(rows) for b in r])
    return changes, {"width": len(window), "estimate": float(np.mean(window))}


# ---- Page-Hinkley -----------------------------------------------------------------------------

def page_hinkley(values, min_instances=30, delta=0.005, threshold=50.0, alpha=1 - 0.0001, mode="both"):
    changes = []
    since = []
    up = down = 0.0
    min_up = max_down = None
    for t, x in enumerate(values, start=1):
        since.append(x)
        mean = float(np.mean(since))
        up = alpha * up + (x - mean - delta)
        down = alpha * down + (x - mean + delta)
        min_up = up if min_up is None else min(min_up, up)
        max_down = down if max_down is None else max(max_down, down)
        if len(since) < min_instances:
            continue
        inc = up - min_up > threshold
        dec = max_down - down > threshold
        if (mode in ("up", "both") and inc) or (mode in ("down", "both") and dec):
            changes.append(t)
            since, up, down, min_up, max_down = [], 0.0, 0.0, None, None
    return changes, {"width": len(since), "estimate": float(np.mean(since)) if since else None}


# ---- DDM --------------------------------------------------------------------------------------

def ddm(values, warm_start=30, warning_threshold=2.0, drift_threshold=3.0):
    changes, warnings = [], 0
    errors = count = 0
    best = None  # (p, s) at the smallest p + s
    for t, x in enumerate(values, start=1):
        count += 1
        errors += int(x)
        p = errors / count
        s = math.sqrt(p * (1 - p) / count)
        if count < warm_start:
            continue
        if best is None or p + s <= best[0] + best[1]:
            best = (p, s)
        if p + s > best[0] + drift_threshold * best[1]:
            changes.append(t)
            errors = count = 0
            best = None
        elif p + s > best[0] + warning_threshold * best[1]:
            warnings += 1
    return changes, {"width": count, "estimate": errors / count if count else None, "warnings": warnings}


# ---- KSWIN ------------------------------------------------------------------------------------

def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def floyd_sample(state, m, k):
    """k distinct integers of [0, m), Floyd's algorithm, in the order drawn."""
    out = []
    for j in range(m - k, m):
        state, r = splitmix64(state)
        t = r % (j + 1)
        out.append(j if t in out else t)
    return state, out


def kswin(values, alpha=0.005, window_size=100, stat_size=30, seed=1):
    changes = []
    window = []
    state = seed
    last = None
    for t, x in enumerate(values, start=1):
        window.append(x)
        if len(window) > window_size:
            window.pop(0)
        if len(window) < window_size:
            continue
        state, idx = floyd_sample(state, window_size - stat_size, stat_size)
        sample = [window[i] for i in idx]
        recent = window[-stat_size:]
        res = scipy.stats.ks_2samp(sample, recent, method="exact")
        last = (float(res.statistic), float(res.pvalue))
        if res.pvalue <= alpha and res.statistic > 0.1:
            changes.append(t)
            window = list(recent)
    return changes, {"width": len(window), "estimate": float(np.mean(window)),
                     "statistic": last[0] if last else None, "pvalue": last[1] if last else None}


# ---- streams ----------------------------------------------------------------------------------

def gauss(rng, parts):
    return np.concatenate([rng.normal(mu, sd, n) for n, mu, sd in parts])


def bernoulli(rng, parts):
    return np.concatenate([(rng.random(n) < p).astype(float) for n, p in parts])


def ends(parts):
    c, out = 0, []
    for p in parts[:-1]:
        c += p[0]
        out.append(c + 1)  # the first value of the new concept (1-based)
    return out


def main():
    streams = []

    def add(name, kind, options, values, true_changes):
        values = [round(float(v), 4) for v in values]
        fn = {"adwin": adwin, "page_hinkley": page_hinkley, "ddm": ddm, "kswin": kswin}[kind]
        changes, final = fn(values, **options)
        streams.append({"name": name, "kind": kind, "options": options, "true_changes": true_changes,
                        "values": values, "changes": changes, "final": final})
        print(f"{name}: {len(changes)} changes at {changes[:12]}{' ...' if len(changes) > 12 else ''}")

    rng = np.random.default_rng(20240613)
    p = [(1000, 0.0, 1.0), (1000, 1.0, 1.0), (1000, -0.5, 1.0)]
    add("adwin_gauss_shifts", "adwin", {}, gauss(rng, p), ends(p))
    p = [(2000, 0.2), (2000, 0.5)]
    add("adwin_error_rate", "adwin", {}, bernoulli(rng, p), ends(p))
    p = [(800, 5.0, 2.0), (800, 6.5, 2.0), (800, 4.0, 0.5)]
    add("adwin_options", "adwin", {"delta": 0.01, "clock": 1, "max_buckets": 3, "min_window_length": 10,
                                   "grace_period": 30}, gauss(rng, p), ends(p))
    add("adwin_stable", "adwin", {}, gauss(rng, [(5000, 0.0, 1.0)]), [])

    p = [(1500, 0.0, 1.0), (1000, 2.0, 1.0)]
    add("ph_increase", "page_hinkley", {}, gauss(rng, p), ends(p))
    p = [(1500, 5.0, 1.0), (1000, 3.0, 1.0)]
    add("ph_decrease_down", "page_hinkley", {"mode": "down", "threshold": 40.0, "min_instances": 50},
        gauss(rng, p), ends(p))
    add("ph_decrease_up_only", "page_hinkley", {"mode": "up", "threshold": 40.0}, gauss(rng, p), ends(p))
    add("ph_stable", "page_hinkley", {"delta": 0.1, "alpha": 0.999}, gauss(rng, [(4000, 1.0, 0.5)]), [])

    p = [(1500, 0.1), (1000, 0.4)]
    add("ddm_error_rate", "ddm", {}, bernoulli(rng, p), ends(p))
    p = [(2000, 0.3), (1500, 0.45)]
    add("ddm_options", "ddm", {"warm_start": 100, "warning_threshold": 1.5, "drift_threshold": 2.5},
        bernoulli(rng, p), ends(p))

    p = [(1000, 0.0, 1.0), (1000, 0.0, 3.0)]
    add("kswin_variance", "kswin", {"seed": 7}, gauss(rng, p), ends(p))
    p = [(1200, 0.0, 1.0), (1200, 1.0, 1.0)]
    add("kswin_options", "kswin", {"alpha": 0.001, "window_size": 200, "stat_size": 50, "seed": 12345},
        gauss(rng, p), ends(p))
    add("kswin_stable", "kswin", {}, gauss(rng, [(3000, 0.0, 1.0)]), [])

    ks = []
    rng = np.random.default_rng(99)
    for n in [1, 2, 3, 5, 10, 30, 30, 50, 100, 100, 300, 1000]:
        for shift in [0.0, 0.3, 1.0]:
            a = np.round(rng.normal(0, 1, n), 1).tolist()  # ties, within and across samples
            b = np.round(rng.normal(shift, 1, n), 1).tolist()
            r = scipy.stats.ks_2samp(a, b, method="exact")
            r_auto = scipy.stats.ks_2samp(a, b)
            assert r.pvalue == r_auto.pvalue
            ks.append({"a": a, "b": b, "statistic": float(r.statistic), "pvalue": float(r.pvalue)})

    samples = []
    for seed, m, k in [(1, 70, 30), (7, 70, 30), (12345, 150, 50), (0, 10, 10), (2**63 - 1, 5, 1)]:
        _, idx = floyd_sample(seed, m, k)
        assert len(set(idx)) == k and all(0 <= i < m for i in idx)
        samples.append({"seed": seed, "m": m, "k": k, "indices": idx})

    out = {"generator": "test/reference/detectors_ref.py", "numpy": np.__version__, "scipy": scipy.__version__,
           "streams": streams, "ks": ks, "samples": samples}
    with open(os.path.join(HERE, "expected_detectors.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
