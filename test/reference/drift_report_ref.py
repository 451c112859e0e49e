"""Reference values for the drift report and the anomalies between two profiles
(src/core/drift/drift_report.cpp, src/core/drift/anomalies.cpp); run with /usr/bin/python3.

Writes expected_drift_report.json next to this file and prints the values that sql/drift_report.sql
quotes in its comments. Everything is computed from the raw rows with NumPy/SciPy and the rules of
docs/statistics.md ("Drift report", "Anomalies"), independently of the C++ code:

- the tables 'b' (300 rows) and 'c' (200 rows) of sql/drift_report.sql, rebuilt from the same
  integer formulas (every float is an integer divided by 4 or 10, correctly rounded on both
  sides); at most 400 numbers and 64 distinct strings per feature, so the sketches are exact and
  every value and count must match;
- per feature: its kind (that of its most frequent scalar type), the method the options give it,
  the measure on the raw values (bins from the baseline's quantiles, PSI with a 1e-4 floor,
  scipy's Jensen-Shannon distance, the two-sample KS statistic with Kolmogorov's limit p-value,
  scipy's Wasserstein distance over the baseline's sample standard deviation), the thresholds
  and the status;
- the anomalies with their exact counts: presence, types, domains, ranges, NaN and infinities.

Rows are JSON objects; NaN and infinities, which JSON lacks, are written {"float": "nan"}.
"""

import json
import math
import os

import numpy as np
import scipy.spatial.distance
import scipy.special
import scipy.stats

HERE = os.path.dirname(os.path.abspath(__file__))
EPS = 1e-4
NAN, INF = float("nan"), float("inf")


# ---- the data of sql/drift_report.sql --------------------------------------------------------

def table_b():
    rows = []
    for i in range(1, 301):
        rows.append({
            "age": float(20 + (i * 37) % 50),
            "income": ((i * 53) % 101 + (i * 71) % 103) / 10,
            "city": "abc"[i % 3],
            "tip": i / 4 if i % 2 == 0 else None,
            "flag": i % 4 == 0,
            "gone": i % 5,
            "score": float(i % 7),
            "code": "xy"[i % 2],
        })
    return rows


def score_c(i):
    if i % 50 == 0:
        return NAN
    if i % 67 == 0:
        return INF
    if i % 97 == 0:
        return -INF
    if i % 40 == 0:
        return float(i % 7 - 10)
    if i % 30 == 0:
        return float(i % 7 + 10)
    return float(i % 7)


def table_c():
    rows = []
    for i in range(1, 201):
        rows.append({
            "age": float(30 + (i * 29) % 60),
            "income": ((i * 43) % 101 + (i * 61) % 103 + 15) / 10,
            "city": "abde"[i % 4],
            "tip": i / 4 if i % 5 == 0 else None,
            "flag": i % 2 == 0,
            "score": score_c(i),
            "code": i,
            "new": "n" + str(i % 3),
        })
    return rows


# ---- profiles of raw rows -----------------------------------------------------------------------

def vtype(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "numeric"
    if isinstance(v, str):
        return "categorical"
    return "nested"


class Feature:
    def __init__(self):
        self.types = {"numeric": 0, "boolean": 0, "categorical": 0, "nested": 0}
        self.nulls = 0
        self.numbers = []  # numbers and booleans (0/1), NaN included
        self.strings = []

    @property
    def count(self):
        return sum(self.types.values())

    def kind(self):
        n, b, c = self.types["numeric"], self.types["boolean"], self.types["categorical"]
        if n == b == c == 0:
            return None
        return "categorical" if c > n and c > b else "numeric"

    def majority_type(self):
        best = max(self.types.values())
        if best == 0:
            return None
        for t in ("numeric", "boolean", "categorical", "nested"):
            if self.types[t] == best:
                return t

    def compared(self, kind):
        if kind == "numeric":
            return [x for x in self.numbers if not math.isnan(x)]
        return list(self.strings)


class Prof:
    def __init__(self, rows):
        self.rows = len(rows)
        self.features = {}
        for r in rows:
            for k, v in r.items():
                f = self.features.setdefault(k, Feature())
                if v is None:
                    f.nulls += 1
                    continue
                t = vtype(v)
                f.types[t] += 1
                if t in ("numeric", "boolean"):
                    f.numbers.append(float(v))
                elif t == "categorical":
                    f.strings.append(v)

    def presence(self, f):
        return f.count / self.rows if self.rows else 0.0


# ---- drift measures on raw values ---------------------------------------------------------------

def splits_of(b, bins):
    xs = np.sort(np.asarray(b, dtype=np.float64))
    n = len(xs)
    s = []
    if xs[0] > -np.inf:
        s.append(float(np.nextafter(xs[0], -np.inf)))
    for j in range(1, bins):
        s.append(float(xs[-(-j * n // bins) - 1]))  # the inverted-cdf quantile, exact integers
    s.append(float(xs[-1]))
    s = sorted(set(s))
    if s and s[-1] == np.inf:
        s.pop()
    return s


def props_of(x, s):
    idx = np.searchsorted(np.asarray(s), np.asarray(x, dtype=np.float64), side="left")
    return np.bincount(idx, minlength=len(s) + 1) / len(x)


def psi(p, q):
    p, q = np.maximum(p, EPS), np.maximum(q, EPS)
    return float(np.sum((q - p) * np.log(q / p)))


def ks_stat(b, c):
    b, c = np.sort(b), np.sort(c)
    xs = np.concatenate([b, c])
    fb = np.searchsorted(b, xs, side="right") / len(b)
    fc = np.searchsorted(c, xs, side="right") / len(c)
    return float(np.max(np.abs(fb - fc)))


def measure(kind, method, b, c, bins):
    """(value, pvalue) of method on the raw compared values."""
    if kind == "numeric":
        if method in ("psi", "js"):
            s = splits_of(b, bins)
            p, q = props_of(b, s), props_of(c, s)
            return (psi(p, q) if method == "psi" else float(scipy.spatial.distance.jensenshannon(p, q, base=2))), None
        if method == "ks":
            d = ks_stat(b, c)
            n, m = len(b), len(c)
            return d, float(scipy.special.kolmogorov(d * math.sqrt(n * m / (n + m))))
        w = float(scipy.stats.wasserstein_distance(b, c))
        fin = [x for x in b if math.isfinite(x)]
        sd = float(np.std(fin, ddof=1)) if len(fin) > 1 else 0.0
        return (w / sd if sd > 0 else (0.0 if w == 0 else INF)), None
    values = sorted(set(b) | set(c), key=lambda v: v.encode("utf-8"))
    p = np.array([b.count(v) for v in values] + [0]) / len(b)
    q = np.array([c.count(v) for v in values] + [0]) / len(c)
    if method == "psi":
        return psi(p, q), None
    if method == "js":
        return float(scipy.spatial.distance.jensenshannon(p, q, base=2)), None
    return float(np.max(np.abs(p - q))), None


DEFAULTS = {"psi": [0.1, 0.25], "js": [0.1, 0.2], "ks": [0.05, 0.01], "wasserstein": [0.1, 0.25],
            "linf": [0.1, 0.2]}
KIND_METHODS = {"numeric": {"psi", "js", "ks", "wasserstein"}, "categorical": {"psi", "js", "linf"}}
AUTO = {"numeric": "js", "categorical": "linf"}


def method_for(opts, name, kind):
    fo = opts.get("features", {}).get(name, {})
    m = fo.get("method") or opts.get(kind + "_method")
    if m is None and opts.get("method") in KIND_METHODS[kind]:
        m = opts["method"]
    return AUTO[kind] if m in (None, "auto") else m


def status_of(method, score, warn, alert):
    if method == "ks":
        return "alert" if score < alert else "warn" if score < warn else "ok"
    return "alert" if score >= alert else "warn" if score >= warn else "ok"


def report(bp, cp, opts):
    out = []
    for name in sorted(set(bp.features) | set(cp.features), key=lambda s: s.encode("utf-8")):
        fo = opts.get("features", {}).get(name, {})
        if fo.get("skip"):
            continue
        b, c = bp.features.get(name), cp.features.get(name)
        kind = (b.kind() if b else None) or (c.kind() if c else None)
        row = {"feature": name, "kind": kind, "method": None, "value": None, "pvalue": None, "warn": None,
               "alert": None, "status": "no_data", "baseline_count": 0, "current_count": 0}
        if kind:
            m = method_for(opts, name, kind)
            warn, alert = opts.get(m, {}).get("warn", DEFAULTS[m][0]), opts.get(m, {}).get("alert", DEFAULTS[m][1])
            warn, alert = fo.get("warn", warn), fo.get("alert", alert)
            bv = b.compared(kind) if b else []
            cv = c.compared(kind) if c else []
            row.update(method=m, warn=warn, alert=alert, baseline_count=len(bv), current_count=len(cv))
            if bv and cv:
                v, p = measure(kind, m, bv, cv, fo.get("bins", opts.get("bins", 10)))
                row.update(value=v, pvalue=p, status=status_of(m, p if m == "ks" else v, warn, alert))
        out.append(row)
    return out


# ---- anomalies on raw rows ----------------------------------------------------------------------

SEVERITY = {"NO_DATA_IN_SPAN": "error", "SCHEMA_MISSING_COLUMN": "error", "FEATURE_TYPE_NOT_PRESENT": "error",
            "UNEXPECTED_DATA_TYPE": "error", "FLOAT_TYPE_HAS_NAN": "error", "FLOAT_TYPE_HAS_INF": "error"}


def anomalies(bp, cp, opts):
    out = []

    def emit(feature, anomaly, count):
        sev = opts.get("severity", {}).get(anomaly, SEVERITY.get(anomaly, "warning"))
        if sev != "off":
            out.append({"feature": feature, "anomaly": anomaly, "severity": sev, "count": count})

    if cp.rows == 0:
        emit(None, "NO_DATA_IN_SPAN", 0)
        return out
    if "min_rows" in opts and cp.rows < opts["min_rows"]:
        emit(None, "DATASET_LOW_NUM_EXAMPLES", cp.rows)
    for name in sorted(set(bp.features) | set(cp.features), key=lambda s: s.encode("utf-8")):
        fo = dict(opts)
        fo.update(opts.get("features", {}).get(name, {}))
        if fo.get("skip"):
            continue
        b, c = bp.features.get(name), cp.features.get(name)
        if b is None:
            emit(name, "SCHEMA_NEW_COLUMN", c.count + c.nulls)
            continue
        if b.count == 0:
            continue
        required = max(fo.get("min_presence", 0.0), bp.presence(b) * fo.get("min_presence_ratio", 0.9))
        if c is None:
            if required > 0:
                emit(name, "SCHEMA_MISSING_COLUMN", cp.rows)
            continue
        if c.count == 0:
            if required > 0:
                emit(name, "FEATURE_TYPE_NOT_PRESENT", cp.rows)
            continue
        if cp.presence(c) < required:
            emit(name, "FEATURE_TYPE_LOW_FRACTION_PRESENT", cp.rows - c.count)
        unexpected = sum(n for t, n in c.types.items() if n and b.types[t] == 0)
        if unexpected:
            emit(name, "UNEXPECTED_DATA_TYPE", unexpected)
        kind = b.kind()
        domain = set(b.strings)
        if kind == "categorical" and len(domain) <= 64 and c.strings:
            out_of = sum(1 for s in c.strings if s not in domain)
            if out_of and out_of / len(c.strings) > fo.get("max_unexpected_value_fraction", 0.0):
                emit(name, "ENUM_TYPE_UNEXPECTED_STRING_VALUES", out_of)
        if kind == "numeric" and b.numbers and c.numbers:
            bf = [x for x in b.numbers if math.isfinite(x)]
            cf = [x for x in c.numbers if math.isfinite(x)]
            limit = fo.get("max_out_of_range_fraction", 0.0)
            if bf and cf:
                below = sum(1 for x in cf if x < min(bf))
                above = sum(1 for x in cf if x > max(bf))
                if below and below / len(cf) > limit:
                    emit(name, "FLOAT_TYPE_SMALL_FLOAT", below)
                if above and above / len(cf) > limit:
                    emit(name, "FLOAT_TYPE_BIG_FLOAT", above)
            nans = sum(1 for x in c.numbers if math.isnan(x))
            infs = sum(1 for x in c.numbers if math.isinf(x))
            b_nans = sum(1 for x in b.numbers if math.isnan(x))
            b_infs = sum(1 for x in b.numbers if math.isinf(x))
            if nans and not fo.get("allow_nan", b_nans > 0):
                emit(name, "FLOAT_TYPE_HAS_NAN", nans)
            if infs and not fo.get("allow_inf", b_infs > 0):
                emit(name, "FLOAT_TYPE_HAS_INF", infs)
    return out


# ---- cases --------------------------------------------------------------------------------------

def encode_rows(rows):
    def enc(v):
        if isinstance(v, float) and not math.isfinite(v):
            return {"float": "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")}
        return v
    return [{k: enc(v) for k, v in r.items()} for r in rows]


def num(v):
    if v is None:
        return None
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


OPTIONS_REPORT = {"method": "psi", "bins": 5, "js": {"warn": 0.05, "alert": 0.5},
                  "features": {"age": {"method": "ks", "alert": 0.001},
                               "income": {"method": "wasserstein", "warn": 0.5, "alert": 1},
                               "flag": {"skip": True}, "city": {"warn": 0.5, "alert": 9}}}
OPTIONS_ANOMALIES = {"min_presence_ratio": 0.3, "max_out_of_range_fraction": 0.05, "allow_inf": True,
                     "min_rows": 500,
                     "severity": {"SCHEMA_NEW_COLUMN": "off", "FLOAT_TYPE_BIG_FLOAT": "error"},
                     "features": {"city": {"max_unexpected_value_fraction": 0.6}, "gone": {"skip": True}}}


def case(name, b_rows, c_rows, opts_report=None, opts_anomalies=None):
    bp, cp = Prof(b_rows), Prof(c_rows)
    rep = report(bp, cp, opts_report or {})
    for r in rep:
        r["value"], r["pvalue"] = num(r["value"]), num(r["pvalue"])
    return {"name": name, "baseline": encode_rows(b_rows), "current": encode_rows(c_rows),
            "options_report": json.dumps(opts_report or {}), "options_anomalies": json.dumps(opts_anomalies or {}),
            "report": rep, "anomalies": anomalies(bp, cp, opts_anomalies or {})}


def main():
    b, c = table_b(), table_c()
    all_null = [dict(r, tip=None) for r in b[:100]]
    cases = [
        case("main", b, c),
        case("main_options", b, c, OPTIONS_REPORT, OPTIONS_ANOMALIES),
        case("identical", b, b),
        case("empty_current", b, []),
        case("empty_baseline", [], c),
        case("all_null_tip", b, all_null),
    ]
    with open(os.path.join(HERE, "expected_drift_report.json"), "w") as f:
        json.dump({"cases": cases}, f, indent=1, sort_keys=True)
        f.write("\n")
    for cs in cases[:2]:
        print(f"== {cs['name']} report {cs['options_report']}")
        for r in cs["report"]:
            print(f"  {r['feature']:7} {r['kind'] or '-':12} {r['method'] or '-':12} value {r['value']!r:24} "
                  f"p {r['pvalue']!r:24} {r['status']:8} n {r['baseline_count']}/{r['current_count']}")
        print(f"== {cs['name']} anomalies {cs['options_anomalies']}")
        for a in cs["anomalies"]:
            print(f"  {a['feature'] or '-':7} {a['anomaly']:36} {a['severity']:8} {a['count']}")


if __name__ == "__main__":
    main()
