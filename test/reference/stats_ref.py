"""Reference values for FeatureStats (src/core/stats/feature_stats.cpp); run with /usr/bin/python3.

Writes expected_stats.json next to this file: adversarial numeric data sets (constant column,
1e8 offset, huge and tiny magnitudes, heavy tails, one value, two values, large integers), each
with its mean, sample variance and standard deviation (ddof=1), min and max, and the
percentile_disc-style quantiles (numpy.quantile(method="inverted_cdf")) at a few q, of all
values and of the first 400.

The moments are computed twice: exactly, with fractions.Fraction, correctly rounded ("mean",
"variance", "stddev"), and by NumPy ("numpy_mean", ...). The C++ test compares with the exact
values (1e-9 relative) and checks NumPy is within 1e-9 of them too, except where NumPy itself
is not (listed in "numpy_inexact": on values near 2^53 its variance is off by 7.5e-7).
"""

import json
import os
from fractions import Fraction

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
QS = [0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0]


def datasets():
    rng = np.random.default_rng(20240603)
    n = 2000
    yield "constant", [3.14159] * n
    yield "offset_1e8", list(1e8 + rng.uniform(0.0, 1.0, n))
    yield "offset_1e8_ints", [1e8 + float(i % 7) for i in range(n)]
    yield "huge_magnitude", list(rng.normal(0.0, 1.0, n) * 1e150)
    yield "tiny_magnitude", list(rng.normal(0.0, 1.0, n) * 1e-150)
    yield "mixed_magnitude", list(rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(-20, 20, n))
    yield "cauchy", list(rng.standard_cauchy(n))
    yield "pareto_1_1", list(rng.pareto(1.1, n) + 1.0)
    yield "lognormal_3", list(rng.lognormal(0.0, 3.0, n))
    yield "single", [42.5]
    yield "two", [1e8 + 1.0, 1e8 + 3.0]
    yield "large_integers", [float(2**53 - i) for i in range(n)]
    yield "with_zeros", [0.0 if i % 3 == 0 else float(i) - 500.5 for i in range(n)]


def isqrt_fraction(f):
    """sqrt of a non-negative Fraction, correctly rounded to a double."""
    if f == 0:
        return 0.0
    # Scale to an integer with 2*60 spare bits, take the integer square root, rescale.
    import math
    num, den = f.numerator, f.denominator
    shift = 2 * max(0, 120 - (num.bit_length() - den.bit_length()) // 2 * 2)
    r = math.isqrt((num << shift) // den)
    return float(Fraction(r, 1 << (shift // 2)))


def rel_ok(a, b, tol):
    if b == 0:
        return abs(a) <= 1e-300 or abs(a) <= tol
    return abs(a - b) <= tol * abs(b)


def main():
    out = {"quantile_qs": QS, "numpy_inexact": [], "datasets": []}
    for name, xs in datasets():
        xs = [float(x) for x in xs]
        a = np.array(xs, dtype=np.float64)
        exact = [Fraction(x) for x in xs]
        mean_exact = sum(exact) / len(exact)
        case = {
            "name": name,
            "values": xs,
            "count": len(xs),
            "zeros": int(np.sum(a == 0.0)),
            "mean": float(mean_exact),
            "numpy_mean": float(np.mean(a)),
            "min": float(np.min(a)),
            "max": float(np.max(a)),
            "quantiles": [float(np.quantile(a, q, method="inverted_cdf")) for q in QS],
            # The first 400 values: few enough for the KLL sketch (k = 400) to be still exact.
            "quantiles_head400": [float(np.quantile(a[:400], q, method="inverted_cdf")) for q in QS],
            "variance": None,
            "stddev": None,
            "numpy_variance": None,
            "numpy_stddev": None,
        }
        if len(xs) >= 2:
            var_exact = sum((x - mean_exact) ** 2 for x in exact) / (len(xs) - 1)
            case["variance"] = float(var_exact)
            case["stddev"] = isqrt_fraction(var_exact)
            case["numpy_variance"] = float(np.var(a, ddof=1))
            case["numpy_stddev"] = float(np.std(a, ddof=1))
        for key in ("mean", "variance", "stddev"):
            if case[key] is not None and not rel_ok(case["numpy_" + key], case[key], 1e-9):
                print(f"{name}: NumPy {key} {case['numpy_' + key]!r} vs exact {case[key]!r}")
                out["numpy_inexact"].append(f"{name}.{key}")
        out["datasets"].append(case)
    path = os.path.join(HERE, "expected_stats.json")
    with open(path, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print(f"wrote {path}: {len(out['datasets'])} data sets")


if __name__ == "__main__":
    main()
