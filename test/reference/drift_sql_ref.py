"""Expected values of sql/drift.sql (ml_drift, ml_drift_pvalue, ml_drift_detail); run with
/usr/bin/python3 and compare with the comments of sql/drift.sql.

The samples are the SQL test's, rebuilt here from the same integer formulas (every value is an
integer divided by 10, correctly rounded on both sides, so the float8 values are identical). At
most 400 numeric values and 64 distinct strings per side: the sketches are exact, and the
measures must equal these values computed on the raw rows:
- bins: a split just below the baseline's min, its j/10 quantiles (numpy inverted_cdf), its max;
- PSI with a 1e-4 floor, natural log; JS: scipy.spatial.distance.jensenshannon(base=2);
- KS: scipy.stats.ks_2samp's statistic; p-value scipy.special.kolmogorov(D sqrt(nm/(n+m)));
- Wasserstein: scipy.stats.wasserstein_distance / numpy.std(baseline, ddof=1).
"""

import numpy as np
import scipy.spatial.distance
import scipy.special
import scipy.stats

EPS = 1e-4


def splits(b, bins=10):
    b = np.sort(np.asarray(b, dtype=np.float64))
    s = {float(np.nextafter(b[0], -np.inf)), float(b[-1])}
    for j in range(1, bins):
        s.add(float(np.quantile(b, j / bins, method="inverted_cdf")))
    return sorted(s)


def props(x, s):
    # bins (-inf, s0], (s0, s1], ..., (s_last, inf): the index of the first split >= x
    idx = np.searchsorted(np.asarray(s), np.asarray(x, dtype=np.float64), side="left")
    return np.bincount(idx, minlength=len(s) + 1) / len(x)


def psi(p, q):
    p, q = np.maximum(p, EPS), np.maximum(q, EPS)
    return float(np.sum((q - p) * np.log(q / p)))


def js(p, q):
    return float(scipy.spatial.distance.jensenshannon(p, q, base=2))


def numeric(name, b, c):
    s = splits(b)
    p, q = props(b, s), props(c, s)
    d = float(scipy.stats.ks_2samp(b, c).statistic)
    n, m = len(b), len(c)
    print(f"{name}: n={n} m={m}")
    print(f"  splits   {s}")
    print(f"  baseline {p.tolist()}")
    print(f"  current  {q.tolist()}")
    print(f"  psi      {psi(p, q)!r}")
    print(f"  js       {js(p, q)!r}")
    print(f"  ks       {d!r}")
    print(f"  pvalue   {float(scipy.special.kolmogorov(d * np.sqrt(n * m / (n + m))))!r}")
    w = float(scipy.stats.wasserstein_distance(b, c))
    print(f"  w1       {w!r}")
    sd = float(np.std(b, ddof=1))
    # No scale (a constant baseline): ml_drift gives 0 when W1 is 0, +Infinity otherwise.
    print(f"  w1/sd    {w / sd if sd > 0 else (0.0 if w == 0 else float('inf'))!r}")


def categorical(name, b, c):
    values = sorted(set(b) | set(c))
    p = np.array([b.count(v) for v in values] + [0]) / len(b)  # last: "other", empty here
    q = np.array([c.count(v) for v in values] + [0]) / len(c)
    print(f"{name}: values {values}")
    print(f"  psi      {psi(p, q)!r}")
    print(f"  js       {js(p, q)!r}")
    print(f"  linf     {float(np.max(np.abs(p - q)))!r}")


base = [((i * 37) % 101 + (i * 53) % 103 + (i * 71) % 107) / 10 for i in range(1, 201)]
shifted = [((i * 29) % 101 + (i * 43) % 103 + (i * 61) % 107 + 20) / 10 for i in range(1, 151)]
numeric("identical", base, base)
numeric("shifted", base, shifted)
numeric("disjoint", [float(i) for i in range(1, 101)], [float(i) for i in range(201, 301)])
categorical("categorical", ["a"] * 50 + ["b"] * 30 + ["c"] * 20, ["a"] * 30 + ["b"] * 30 + ["c"] * 20 + ["d"] * 20)
numeric("reversed (shifted as the baseline)", shifted, base)
numeric("base -> low", base, [float(i) for i in range(1, 101)])
numeric("base -> high", base, [float(i) for i in range(201, 301)])
numeric("constant 5 -> base (W1/sd: no scale, +Infinity)", [5.0] * 10, base)
