"""Reference values for the drift measures (src/core/drift/drift.cpp); run with /usr/bin/python3.

Writes expected_drift.json next to this file. Everything is computed with NumPy/SciPy on the raw
values, independently of the C++ code:

- "numeric": pairs of small samples (at most 400 values, so that a KLL sketch of k = 400 holds
  them all and is exact) with the bins of docs/statistics.md (split just below the baseline's
  min, the baseline's j/10 quantiles by the inverted-cdf rule, the baseline's max; duplicates
  merged), the proportions per bin, PSI (epsilon 1e-4 floor), Jensen-Shannon distance
  (scipy.spatial.distance.jensenshannon, base 2), the Kolmogorov-Smirnov statistic
  (scipy.stats.ks_2samp), its asymptotic p-value (scipy.special.kolmogorov of D sqrt(nm/(n+m)))
  and, for comparison, scipy 1.10's ks_2samp(method="asymp") p-value, the Wasserstein-1
  distance (scipy.stats.wasserstein_distance) and that divided by the baseline's sample
  standard deviation (numpy.std(ddof=1); null where it is 0 or undefined).
- "categorical": pairs of samples of at most 64 distinct strings (a Space-Saving summary of 64
  counters is then exact), with the union of values, the proportions, PSI, JS and L-infinity.
- "kolmogorov": scipy.special.kolmogorov on a grid of lambdas.
- "million": three pairs of 1,000,000-value skewed samples, generated bit for bit as the C++
  test generates them (SplitMix64 integers, then only correctly rounded IEEE operations:
  division, multiplication, sqrt), with the exact KS statistic, Wasserstein distance, baseline
  standard deviation and PSI/JS on the exact bins.
"""

import json
import os

import numpy as np
import scipy
import scipy.spatial.distance
import scipy.special
import scipy.stats

HERE = os.path.dirname(os.path.abspath(__file__))
BINS = 10
EPS = 1e-4


def splits_of(b, bins=BINS):
    """The split points of the numeric bins (docs/statistics.md)."""
    xs = np.sort(np.asarray(b, dtype=np.float64))
    n = len(xs)
    s = []
    if xs[0] > -np.inf:
        s.append(float(np.nextafter(xs[0], -np.inf)))
    for j in range(1, bins):
        t = -(-j * n // bins)  # ceil(j n / bins), exact integers
        e = float(xs[t - 1])
        # numpy's inverted-cdf quantile at j/bins is the same value (checked, not relied on).
        q = float(np.quantile(xs, j / bins, method="inverted_cdf"))
        if q != e:
            print(f"note: numpy inverted_cdf quantile {j}/{bins} of n={n} differs: {q} vs {e}")
        s.append(e)
    s.append(float(xs[-1]))
    s = sorted(set(s))
    if s and s[-1] == np.inf:
        s.pop()
    return s


def props_of(x, splits):
    """Proportions in (-inf, s0], (s0, s1], ..., (s_last, inf)."""
    x = np.asarray(x, dtype=np.float64)
    idx = np.searchsorted(np.asarray(splits), x, side="left")
    return np.bincount(idx, minlength=len(splits) + 1) / len(x)


def psi(b, c, eps=EPS):
    b = np.maximum(np.asarray(b, dtype=np.float64), eps)
    c = np.maximum(np.asarray(c, dtype=np.float64), eps)
    return float(np.sum((c - b) * np.log(c / b)))


def js(b, c):
    return float(scipy.spatial.distance.jensenshannon(b, c, base=2))


def ks_pvalue_limit(d, n, m):
    return float(scipy.special.kolmogorov(np.sqrt(n * m / (n + m)) * d))


def numeric_case(name, b, c):
    b = [float(v) for v in b]
    c = [float(v) for v in c]
    assert 1 <= len(b) <= 400 and 1 <= len(c) <= 400
    s = splits_of(b)
    pb, pc = props_of(b, s), props_of(c, s)
    ks = scipy.stats.ks_2samp(b, c, method="asymp")
    w = float(scipy.stats.wasserstein_distance(b, c))
    sd = float(np.std(b, ddof=1)) if len(b) > 1 else None
    return {
        "name": name,
        "baseline": b,
        "current": c,
        "splits": s,
        "baseline_props": pb.tolist(),
        "current_props": pc.tolist(),
        "psi": psi(pb, pc),
        "js": js(pb, pc),
        "ks": float(ks.statistic),
        "ks_pvalue": ks_pvalue_limit(float(ks.statistic), len(b), len(c)),
        # scipy evaluates kstwo at round(nm/(n+m)), undefined (NaN) when that rounds to 0.
        "ks_pvalue_scipy_asymp": float(ks.pvalue) if np.isfinite(ks.pvalue) else None,
        "wasserstein": w,
        "baseline_stddev": sd,
        "wasserstein_norm": (w / sd) if sd else None,
    }


def numeric_cases():
    rng = np.random.default_rng(20240611)
    yield numeric_case("normal_shift", rng.normal(0, 1, 300), rng.normal(0.3, 1.2, 350))
    yield numeric_case("lognormal_scale", rng.lognormal(0, 1, 400), rng.lognormal(0.2, 1, 400))
    yield numeric_case("discrete_ties",
                       rng.choice(6, 400, p=[0.3, 0.25, 0.2, 0.1, 0.1, 0.05]).astype(float),
                       rng.choice(7, 380, p=[0.2, 0.2, 0.2, 0.15, 0.1, 0.1, 0.05]).astype(float))
    same = rng.normal(5, 2, 250)
    yield numeric_case("identical", same, same.copy())
    yield numeric_case("identical_shuffled", same, rng.permutation(same))
    yield numeric_case("disjoint", rng.uniform(0, 1, 200), rng.uniform(2, 3, 150))
    yield numeric_case("disjoint_below", rng.uniform(2, 3, 120), rng.uniform(0, 1, 90))
    yield numeric_case("two_vs_three", [1.0, 4.0], [0.0, 2.0, 5.0])
    yield numeric_case("single_vs_single", [2.5], [2.5])
    yield numeric_case("cauchy_scale", rng.standard_cauchy(400), 2.0 * rng.standard_cauchy(300))
    yield numeric_case("constant_vs_spread", [3.0] * 100, rng.normal(3, 0.1, 100))
    yield numeric_case("constant_same", [7.0] * 50, [7.0] * 80)
    yield numeric_case("partly_outside", rng.uniform(0, 10, 400), rng.uniform(-2, 12, 400))
    yield numeric_case("offset_1e8", 1e8 + rng.uniform(0, 1, 300), 1e8 + rng.uniform(0.1, 1.1, 300))
    yield numeric_case("few_values_many_bins", [1.0, 2.0, 3.0], [1.0, 1.0, 2.0, 3.0, 3.0])


def categorical_case(name, b, c):
    vb, cb = np.unique(np.asarray(b, dtype=object), return_counts=True)
    vc, cc = np.unique(np.asarray(c, dtype=object), return_counts=True)
    assert len(vb) <= 64 and len(vc) <= 64
    values = sorted(set(vb.tolist()) | set(vc.tolist()), key=lambda s: s.encode("utf-8"))
    db, dc = dict(zip(vb.tolist(), cb.tolist())), dict(zip(vc.tolist(), cc.tolist()))
    pb = np.array([db.get(v, 0) for v in values] + [0], dtype=np.float64) / len(b)
    pc = np.array([dc.get(v, 0) for v in values] + [0], dtype=np.float64) / len(c)
    return {
        "name": name,
        "baseline": list(b),
        "current": list(c),
        "values": values,
        "baseline_props": pb.tolist(),
        "current_props": pc.tolist(),
        "psi": psi(pb, pc),
        "js": js(pb, pc),
        "linf": float(np.max(np.abs(pb - pc))),
    }


def categorical_cases():
    rng = np.random.default_rng(7)
    cats = ["red", "green", "blue", "black", "white"]
    yield categorical_case("shift", rng.choice(cats, 1000, p=[0.4, 0.3, 0.15, 0.1, 0.05]).tolist(),
                           rng.choice(cats, 800, p=[0.3, 0.3, 0.2, 0.1, 0.1]).tolist())
    yield categorical_case("new_category", rng.choice(cats[:3], 500).tolist(),
                           rng.choice(cats[:3] + ["purple"], 600, p=[0.3, 0.3, 0.2, 0.2]).tolist())
    yield categorical_case("disjoint", rng.choice(["a", "b", "c"], 300, p=[0.5, 0.3, 0.2]).tolist(),
                           rng.choice(["x", "y"], 200, p=[0.9, 0.1]).tolist())
    same = rng.choice(cats, 400).tolist()
    yield categorical_case("identical", same, list(same))
    yield categorical_case("single", ["a"] * 10, ["a"] * 3 + ["b"] * 7)
    many = [f"v{i:02d}" for i in range(60)]
    yield categorical_case("sixty_values", rng.choice(many, 5000).tolist(),
                           rng.choice(many, 3000, p=np.arange(1, 61) / np.arange(1, 61).sum()).tolist())
    yield categorical_case("utf8", ["é", "e", "é", "ß"], ["ß", "ß", "e", "日本"])


# The C++ test's generator: SplitMix64, output i (1-based) is mix(seed + i * gamma) mod 2^64,
# and u = ((z >> 11) + 1) * 2^-53 in (0, 1].
def uniforms(seed, n):
    with np.errstate(over="ignore"):
        z = np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(seed)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(11)) + np.uint64(1)).astype(np.float64) * 2.0**-53


GENERATORS = {
    # Pareto, alpha = 4, scale 1: P(X > x) = x^-4 (skewed, heavy-tailed, finite variance).
    "pareto4": lambda u: 1.0 / np.sqrt(np.sqrt(u)),
    # The same scaled by 1.1.
    "pareto4_x1.1": lambda u: 1.1 / np.sqrt(np.sqrt(u)),
    # u^2 and u^1.5 on (0, 1]: skewed and bounded.
    "u_squared": lambda u: u * u,
    "u_pow_1.5": lambda u: np.sqrt(u) * u,
}


def million_cases():
    n = 1_000_000
    pairs = [
        ("pareto_scaled", ("pareto4", 101), ("pareto4_x1.1", 202)),
        ("pareto_same", ("pareto4", 101), ("pareto4", 303)),
        ("bounded_skewed", ("u_squared", 404), ("u_pow_1.5", 505)),
    ]
    out = []
    for name, (gb, sb), (gc, sc) in pairs:
        b = GENERATORS[gb](uniforms(sb, n))
        c = GENERATORS[gc](uniforms(sc, n))
        s = splits_of(b)
        pb, pc = props_of(b, s), props_of(c, s)
        out.append({
            "name": name,
            "baseline": {"generator": gb, "seed": sb},
            "current": {"generator": gc, "seed": sc},
            "n": n,
            "baseline_sum": float(np.sum(b)),  # fingerprints of the generated data
            "current_sum": float(np.sum(c)),
            "baseline_max": float(np.max(b)),
            "current_max": float(np.max(c)),
            "splits": s,
            "baseline_props": pb.tolist(),
            "current_props": pc.tolist(),
            "psi": psi(pb, pc),
            "js": js(pb, pc),
            "ks": float(scipy.stats.ks_2samp(b, c, method="asymp").statistic),
            "wasserstein": float(scipy.stats.wasserstein_distance(b, c)),
            "baseline_stddev": float(np.std(b, ddof=1)),
        })
    return out


def main():
    lambdas = [0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.82, 0.9, 0.99, 0.9999,
               1.0, 1.0001, 1.1, 1.2, 1.3581, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0]
    out = {
        "scipy_version": scipy.__version__,
        "numpy_version": np.__version__,
        "bins": BINS,
        "epsilon": EPS,
        "numeric": list(numeric_cases()),
        "categorical": list(categorical_cases()),
        "kolmogorov": [[x, float(scipy.special.kolmogorov(x))] for x in lambdas],
        "million": million_cases(),
    }
    path = os.path.join(HERE, "expected_drift.json")
    with open(path, "w") as f:
        json.dump(out, f, allow_nan=False)
        f.write("\n")
    for c in out["numeric"]:
        print(f"{c['name']:>22}: psi {c['psi']:.6f} js {c['js']:.6f} ks {c['ks']:.4f} "
              f"p {c['ks_pvalue']:.4g} (scipy asymp {c['ks_pvalue_scipy_asymp']}) w {c['wasserstein']:.5g}")
    for c in out["million"]:
        print(f"{c['name']:>22}: psi {c['psi']:.6f} js {c['js']:.6f} ks {c['ks']:.5f} w {c['wasserstein']:.6f} "
              f"sd {c['baseline_stddev']:.6f}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
