"""Reference values for Profile (src/core/stats/profile.cpp); run with /usr/bin/python3.

Writes expected_profile.json next to this file: 3,000 rows of named features as JSON objects
(numbers, booleans, strings, nested arrays/objects, null, or the key left out), generated with a
fixed seed, and, computed here independently of the C++ code, what a profile of them must hold
per feature, as TensorFlow Data Validation defines it:

  - the count of values of each type (numeric, boolean, categorical, nested), the NULL count,
    the rows where the key is absent, presence = non-NULL values / rows;
  - the type of most values (ties: numeric, boolean, categorical, nested), whether more than
    one type was seen;
  - over the numbers and booleans (booleans as 0/1): count, NumPy mean, sample variance
    (ddof=1), min, max;
  - over the strings: count, the exact number of distinct values, when at most 64 the set of
    values (the domain), and the five most frequent values.

Features: "age" (integers, some NULL, some absent), "income" (1e8 + noise: the shifted moments
matter), "city" (6 strings), "flag" (booleans), "mixed" (numbers, strings and booleans: a type
conflict), "tags" (nested arrays or objects, sometimes a string), "sparse" (present in about 3%
of the rows), "zipf" (hundreds of distinct strings: an incomplete domain), "nulls" (always
NULL), and "" (an empty name).
"""

import collections
import json
import os
import random

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
N = 3000
TYPES = ["numeric", "boolean", "categorical", "nested"]


def make_rows():
    rnd = random.Random(20240605)
    cities = ["Lyon", "Paris", "Nantes", "Lille", "Brest", "Nice"]
    rows = []
    for i in range(N):
        r = {}
        u = rnd.random()
        if u < 0.9:
            r["age"] = rnd.randint(18, 90)
        elif u < 0.95:
            r["age"] = None
        r["income"] = 1e8 + rnd.random() * 1000.0
        if rnd.random() < 0.97:
            r["city"] = rnd.choice(cities) if rnd.random() < 0.9 else None
        r["flag"] = rnd.random() < 0.3
        u = rnd.random()
        if u < 0.5:
            r["mixed"] = rnd.gauss(0.0, 10.0)
        elif u < 0.8:
            r["mixed"] = "m" + str(rnd.randint(0, 9))
        elif u < 0.9:
            r["mixed"] = rnd.random() < 0.5
        u = rnd.random()
        if u < 0.4:
            r["tags"] = [rnd.randint(0, 3) for _ in range(rnd.randint(0, 3))]
        elif u < 0.6:
            r["tags"] = {"k": rnd.randint(0, 3)}
        elif u < 0.7:
            r["tags"] = "t" + str(rnd.randint(0, 2))
        if rnd.random() < 0.03:
            r["sparse"] = rnd.uniform(-1.0, 1.0)
        r["zipf"] = "z" + str(int(rnd.paretovariate(0.6)))
        r["nulls"] = None
        if i % 10 == 0:
            r[""] = i
        rows.append(r)
    return rows


def value_type(v):
    if isinstance(v, bool):  # before int: bool is an int in Python
        return "boolean"
    if isinstance(v, (int, float)):
        return "numeric"
    if isinstance(v, str):
        return "categorical"
    return "nested"


def expected(rows):
    names = sorted({k for r in rows for k in r}, key=lambda s: s.encode("utf-8"))
    out = {}
    for name in names:
        counts = {t: 0 for t in TYPES}
        nulls = 0
        numbers, strings = [], []
        for r in rows:
            if name not in r:
                continue
            v = r[name]
            if v is None:
                nulls += 1
                continue
            t = value_type(v)
            counts[t] += 1
            if t in ("numeric", "boolean"):
                numbers.append(float(v))
            elif t == "categorical":
                strings.append(v)
        present = sum(counts.values())
        best = None
        for t in TYPES:  # ties go to the earlier type
            if counts[t] > 0 and (best is None or counts[t] > counts[best]):
                best = t
        f = {
            "type_counts": counts,
            "null_count": nulls,
            "missing_count": len(rows) - present - nulls,
            "presence": present / len(rows),
            "type": best,
            "type_conflict": sum(1 for t in TYPES if counts[t] > 0) > 1,
        }
        if numbers:
            a = np.array(numbers)
            f["numbers"] = {
                "count": len(numbers),
                "mean": float(np.mean(a)),
                "variance": float(np.var(a, ddof=1)) if len(numbers) > 1 else None,
                "min": float(np.min(a)),
                "max": float(np.max(a)),
            }
        if strings:
            distinct = sorted(set(strings))
            f["strings"] = {
                "count": len(strings),
                "distinct": len(distinct),
                "domain": distinct if len(distinct) <= 64 else None,
                # The five most frequent values (ties by value), which any top-k summary of 64
                # counters must list first here (each occurs more than n / 64 times).
                "top5": [v for v, _ in sorted(collections.Counter(strings).items(),
                                              key=lambda kv: (-kv[1], kv[0]))[:5]],
            }
        out[name] = f
    return out


def main():
    rows = make_rows()
    doc = {"rows": rows, "expected": expected(rows)}
    with open(os.path.join(HERE, "expected_profile.json"), "w") as fh:
        json.dump(doc, fh, separators=(",", ":"), sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
