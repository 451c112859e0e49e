"""ml_explain of imported XGBoost models matches XGBoost's TreeSHAP (issue 16, explanations).

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_explain_xgboost.py
(needs python3-xgboost; a throwaway cluster is started as postgres, see common.py).

For binary:logistic, reg:squarederror (base_score 3.7), multi:softprob, count:poisson,
rank:pairwise and an early-stopped regression, XGBoost (nthread=1) trains the models of
test_xgboost_parity.py (40 trees of depth 5 on 12 numeric and 2 categorical features), the
database imports them, and PGL_EXPLAIN_ROWS (default 2000) fresh rows with NaNs, extreme values
and unseen categories are explained by ml_explain over float8[]. Every contribution and the base
(XGBoost's bias column) must agree with Booster.predict(pred_contribs=True) (with
iteration_range=(0, best_iteration + 1) for the early-stopped model) within 1e-6, absolutely
(|a - b| <= 1e-6 * max(1, |b|); they agree bitwise: TreeSHAP runs in float32 in XGBoost's order),
and the margin (base + contributions) must be the sum of XGBoost's contributions (1e-9) and
Booster.predict(output_margin=True) up to float32 rounding (1e-5: XGBoost's own contributions
differ from its margin alike). ml_contributions gives the same numbers in pred_contribs' own
layout (a row of contributions and the bias per class). A jsonb check explains 300 rows by
feature name.
"""

import json
import os
import sys
import time

import numpy as np
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Reporter, copy_rows, start_cluster  # noqa: E402
from test_xgboost_parity import NAMES, TYPES, features, train, with_nans  # noqa: E402

SEED = 16
N_ROWS = int(os.environ.get("PGL_EXPLAIN_ROWS", "2000"))
N_JSON = 300
TOL = 1e-6

CASES = [
    ("binary_logistic", "binary:logistic", {}),
    ("reg_squarederror", "reg:squarederror", {"base_score": 3.7}),
    ("multi_softprob", "multi:softprob", {}),
    ("count_poisson", "count:poisson", {}),
    ("rank_pairwise", "rank:pairwise", {}),
    ("reg_squarederror_best_iteration", "reg:squarederror", {"early_stopping": True}),
]


def worst(ours, ref, tol=TOL):
    """Count of values outside the tolerance, and the worst scaled error."""
    ours = np.asarray(ours, dtype=float)
    ref = np.asarray(ref, dtype=float)
    scaled = np.abs(ours - ref) / np.maximum(np.abs(ref), 1.0)
    return int((~(scaled <= tol)).sum()), float(np.max(scaled)) if scaled.size else 0.0


def ours_of(e, n_classes):
    """An explanation's (rows of) contributions in NAMES order, then the base: XGBoost's layout."""
    blocks = [e["classes"][str(c)] for c in range(n_classes)] if n_classes else [e]
    return np.array([[b["contributions"][k] for k in NAMES] + [b["base"]] for b in blocks]), \
        np.array([b["margin"] for b in blocks])


def main():
    rep = Reporter()
    rng = np.random.default_rng(SEED)
    x_test = with_nans(features(N_ROWS, rng, True), rng)
    cluster, conn = start_cluster(rep)
    try:
        conn.execute("CREATE TABLE rows (id int PRIMARY KEY, a float8[])")
        copy_rows(conn, "rows", ["id", "a"], ((i, [float(v) for v in x_test[i]]) for i in range(N_ROWS)))
        conn.execute("CREATE TABLE jrows (id int PRIMARY KEY, x jsonb)")
        copy_rows(conn, "jrows", ["id", "x"],
                  ((i, json.dumps({k: float(v) for k, v in zip(NAMES, x_test[i]) if not np.isnan(v)}))
                   for i in range(N_JSON)))
        conn.execute("CREATE TABLE models (name text PRIMARY KEY, m ml_model)")
        dtest = xgb.DMatrix(x_test, feature_names=NAMES, feature_types=TYPES, enable_categorical=True)
        for name, objective, opts in CASES:
            try:
                t0 = time.time()
                b, text = train(objective, rng, opts.get("early_stopping", False), opts.get("base_score"))
                conn.execute("INSERT INTO models VALUES (%s, ml_import('xgboost', %s))", (name, text))
                kw = {}
                if opts.get("early_stopping"):
                    kw["iteration_range"] = (0, int(b.attr("best_iteration")) + 1)
                ref = b.predict(dtest, pred_contribs=True, **kw)
                margin = b.predict(dtest, output_margin=True, **kw)
                k = 4 if objective.startswith("multi:") else 0
                ref = ref.reshape(N_ROWS, max(k, 1), len(NAMES) + 1)
                margin = margin.reshape(N_ROWS, max(k, 1))
                got = conn.execute("SELECT ml_explain(m, a) FROM rows, models WHERE name = %s ORDER BY id",
                                   (name,)).fetchall()
                pairs = [ours_of(r[0], k) for r in got]
                ours = np.array([p[0] for p in pairs])
                ours_margin = np.array([p[1] for p in pairs])
                bad, w = worst(ours.ravel(), ref.ravel())
                rep.check(name, bad == 0 and len(got) == N_ROWS,
                          "%d rows x %d values, %d outside 1e-6 (worst %.3g) (%.1f s)"
                          % (len(got), ref[0].size, bad, w, time.time() - t0))
                # Our margin is base + contributions (XGBoost's float32 values, summed in double):
                # the sum of XGBoost's own pred_contribs row, and the prediction's margin up to
                # float32 rounding (XGBoost's contributions differ from its output_margin alike).
                bad, w = worst(ours_margin.ravel(), ref.astype(float).sum(axis=-1).ravel(), 1e-9)
                bad2, w2 = worst(ours_margin.ravel(), margin.ravel(), 1e-5)
                rep.check(name + "_margin", bad == 0 and bad2 == 0,
                          "base + contributions vs the sum of pred_contribs: worst %.3g; vs output_margin "
                          "(float32 rounding): worst %.3g" % (w, w2))
                # ml_contributions: pred_contribs' own layout (the bias last; a row per class).
                got = conn.execute("SELECT ml_contributions(m, a) FROM rows, models WHERE name = %s ORDER BY id",
                                   (name,)).fetchall()
                arr = np.array([r[0] for r in got], dtype=float).reshape(ref.shape)
                bad, w = worst(arr.ravel(), ref.ravel())
                rep.check(name + "_contributions_array", bad == 0 and len(got) == N_ROWS,
                          "ml_contributions: %d rows in pred_contribs' layout, %d outside 1e-6 (worst %.3g), "
                          "%d bit-equal to float32" % (len(got), bad, w, int((arr.astype(np.float32) == ref).sum())))
                if objective in ("binary:logistic", "multi:softprob"):
                    got = conn.execute("SELECT ml_explain(m, x) FROM jrows, models WHERE name = %s ORDER BY id",
                                       (name,)).fetchall()
                    ours = np.array([ours_of(r[0], k)[0] for r in got])
                    bad, w = worst(ours.ravel(), ref[:N_JSON].ravel())
                    rep.check(name + "_jsonb_by_name", bad == 0 and len(got) == N_JSON,
                              "%d rows by feature name, %d outside 1e-6 (worst %.3g)" % (len(got), bad, w))
            except Exception as e:  # noqa: BLE001
                rep.fail(name, "error: %s: %s" % (type(e).__name__, " ".join(str(e).split())[:400]))
    finally:
        conn.close()
        cluster.stop()
    rep.exit()


if __name__ == "__main__":
    main()
