"""Held-out quality of partitioned models (issue 14) against scikit-learn models fitted per group.

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_quality_partitioned.py
(a throwaway cluster is started as postgres; see common.py for PGL_TEST_DSN etc.).

A partitioned model by ["region", "store"] holds one model per region and per store, each
learning the rows of its group without the partition keys, and answers from the most specific
partition that learned min_examples rows, else its parent. So it must predict, on held-out rows,
what scikit-learn's model fitted on each group's training rows alone predicts:

- gaussian_nb (the algorithm of scikit-learn's GaussianNB, one pass of ml_fit): per store, the
  same probabilities as GaussianNB fitted on that store's training rows (within
  PROBA_TOLERANCE) and so the same classes; the fallback cases -- a store with fewer training
  rows than min_examples, a store never seen in training, a row without its store -- the same
  probabilities as GaussianNB fitted on the whole region's training rows (the parent), which
  are not those of the small store's own GaussianNB;
- linear_regression with the default spec and ml_train's default epochs (10, shuffled, seed 42,
  as test_quality.py trains): per store a held-out R^2 within R2_MARGIN of scikit-learn's
  LinearRegression fitted on that store's training rows; the small store is answered by its
  region (the same prediction as the row without its store) with an R^2 within R2_MARGIN of
  LinearRegression fitted on the region's rows. min_examples counts rows, not ml_train's epochs
  (a row learned 10 times counts once), so the default min_examples (30) leaves the small store's
  8 rows to its region however many epochs learn them.

In both cases the partitioned model must also beat one model of the base spec over all rows by
a clear margin (the groups differ), so that the comparison is not between two poor models.
Data: synthetic, fixed seed: two regions, five stores with their own class means / slopes (in
region r1 a store "s5" with 8 training rows); a 25% held-out split per store, plus held-out rows
of a store "s9" never seen in training and rows of region r1 without a store (NULL).
Training and scoring happen in SQL; only the comparison is computed in Python.
"""

import json
import os
import sys

import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.naive_bayes import GaussianNB

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Reporter, fresh_table, run_checks, start_cluster  # noqa: E402

PROBA_TOLERANCE = 1e-9
R2_MARGIN = 0.03
CLASSES = ["c0", "c1", "c2"]
# store -> (region, training rows, held-out rows)
STORES = {"s0": ("r0", 300, 100), "s1": ("r0", 300, 100), "s2": ("r0", 240, 80),
          "s3": ("r1", 300, 100), "s4": ("r1", 270, 90), "s5": ("r1", 8, 60),
          "s9": ("r1", 0, 60), None: ("r1", 0, 60)}
SMALL = ("s5", "s9", None)  # answered by region r1


def make_data(seed=7):
    """Rows (id, region, store, a, b, c, cls, y, part): each store its class means and slope."""
    rng = np.random.RandomState(seed)
    rows = []
    i = 0
    for si, (store, (region, n_train, n_test)) in enumerate(sorted(STORES.items(), key=lambda kv: str(kv[0]))):
        shift = rng.uniform(-3, 3, size=(3, 3))          # class means of this store
        slope = rng.uniform(-4, 4, size=3)                # regression slope of this store
        bias = rng.uniform(-5, 5)
        for k in range(n_train + n_test):
            cls = rng.randint(3)
            x = shift[cls] + rng.normal(scale=1.0, size=3)
            y = float(x @ slope + bias + rng.normal(scale=0.3))
            rows.append((i, region, store, float(x[0]), float(x[1]), float(x[2]), CLASSES[cls], y,
                         "train" if k < n_train else "test"))
            i += 1
    return rows


def load(conn, rows):
    fresh_table(conn, "sales", ["id int PRIMARY KEY", "region text", "store text", "a float8", "b float8", "c float8",
                                "cls text", "y float8", "part text"], rows)


def feats(r):
    return [r[3], r[4], r[5]]


def groups(rows, part):
    """Training (or held-out) rows by store, by region and all together."""
    by_store, by_region, every = {}, {}, []
    for r in rows:
        if r[8] != part:
            continue
        by_store.setdefault(r[2], []).append(r)
        by_region.setdefault(r[1], []).append(r)
        every.append(r)
    return by_store, by_region, every


def check_gaussian_nb(conn, rep, rows):
    spec = {"model": "partitioned", "by": ["region", "store"], "min_examples": 30, "base": {"model": "gaussian_nb"}}
    got = conn.execute(
        "WITH m AS (SELECT ml_fit(%s::ml_model, jsonb_build_object('region', region, 'store', store, 'a', a, 'b', b, 'c', c),"
        "                         cls ORDER BY id) AS m FROM sales WHERE part = 'train'), "
        "     g AS (SELECT ml_fit('{\"model\": \"gaussian_nb\"}'::ml_model, jsonb_build_object('a', a, 'b', b, 'c', c), cls ORDER BY id) AS m"
        "           FROM sales WHERE part = 'train') "
        "SELECT s.id, ml_predict_proba(m.m, jsonb_build_object('region', region, 'store', store, 'a', a, 'b', b, 'c', c)),"
        "       ml_predict_class(m.m, jsonb_build_object('region', region, 'store', store, 'a', a, 'b', b, 'c', c)),"
        "       ml_predict_class(g.m, jsonb_build_object('a', a, 'b', b, 'c', c))"
        " FROM sales s, m, g WHERE part = 'test' ORDER BY s.id", (json.dumps(spec),)).fetchall()
    got = {r[0]: r[1:] for r in got}
    train_store, train_region, _ = groups(rows, "train")
    test_store, _, test_all = groups(rows, "test")

    def fitted(rs):
        return GaussianNB().fit(np.array([feats(r) for r in rs]), np.array([r[6] for r in rs]))

    def worst_difference(sk, rs):
        want = sk.predict_proba(np.array([feats(r) for r in rs]))
        worst = 0.0
        for r, w in zip(rs, want):
            p = got[r[0]][0]
            for k, c in enumerate(sk.classes_):
                worst = max(worst, abs(p[c] - w[k]))
            worst = max([worst] + [abs(v) for c, v in p.items() if c not in sk.classes_])
        return worst

    for store in ("s0", "s1", "s2", "s3", "s4"):
        sk = fitted(train_store[store])
        rs = test_store[store]
        worst = worst_difference(sk, rs)
        same = np.mean([got[r[0]][1] == c for r, c in zip(rs, sk.predict(np.array([feats(r) for r in rs])))])
        rep.check("nb_store_%s_is_its_own_model" % store, worst <= PROBA_TOLERANCE and same == 1.0,
                  "largest probability difference from GaussianNB fitted on the store's %d training rows %.3g "
                  "(need <= %g); same class on %.4f of %d held-out rows"
                  % (len(train_store[store]), worst, PROBA_TOLERANCE, same, len(rs)))
    parent = fitted(train_region["r1"])
    own_small = fitted(train_store["s5"]) if len(set(r[6] for r in train_store["s5"])) > 1 else None
    for store in SMALL:
        rs = test_store[store]
        worst = worst_difference(parent, rs)
        rep.check("nb_fallback_%s_by_region" % (store or "null_store"), worst <= PROBA_TOLERANCE,
                  "largest probability difference from GaussianNB fitted on region r1's %d training rows %.3g "
                  "(need <= %g; %d held-out rows)" % (len(train_region["r1"]), worst, PROBA_TOLERANCE, len(rs)))
    if own_small is not None:
        rs = test_store["s5"]
        worst = worst_difference(own_small, rs)
        rep.check("nb_small_store_not_its_own_model", worst > 1e-3,
                  "largest probability difference from GaussianNB fitted on s5's own 8 rows %.3g (must differ)" % worst)
    # The quality the partitions buy: one GaussianNB over every row is clearly worse.
    truth = [r[6] for r in test_all]
    acc_parted = accuracy_score(truth, [got[r[0]][1] for r in test_all])
    acc_global = accuracy_score(truth, [got[r[0]][2] for r in test_all])
    want = []
    models = {s: fitted(train_store[s]) for s in ("s0", "s1", "s2", "s3", "s4")}
    for r in test_all:
        sk = parent if r[2] in SMALL else models[r[2]]
        want.append(sk.predict(np.array([feats(r)]))[0])
    acc_sk = accuracy_score(truth, want)
    rep.check("nb_held_out_accuracy", abs(acc_parted - acc_sk) <= 1e-9 and acc_parted >= acc_global + 0.1,
              "partitioned %.4f, scikit-learn per group %.4f (need equal), one gaussian_nb over all rows %.4f "
              "(need at least 0.1 lower); %d held-out rows" % (acc_parted, acc_sk, acc_global, len(test_all)))


def check_linear_regression(conn, rep, rows):
    spec = {"model": "partitioned", "by": ["region", "store"], "min_examples": 30,
            "base": {"model": "linear_regression"}}
    q = ("$$SELECT jsonb_build_object('region', region, 'store', store, 'a', a, 'b', b, 'c', c), y"
         " FROM sales WHERE part = 'train' ORDER BY id$$")
    conn.execute("DROP TABLE IF EXISTS lin")
    conn.execute("CREATE TABLE lin AS SELECT ml_train(%%s::ml_model, %s, seed => 42) AS m,"
                 " ml_train('{\"model\": \"linear_regression\"}'::ml_model,"
                 " $$SELECT jsonb_build_object('a', a, 'b', b, 'c', c), y FROM sales WHERE part = 'train' ORDER BY id$$,"
                 " seed => 42) AS g" % q, (json.dumps(spec),))
    got = conn.execute(
        "SELECT s.id, ml_predict_one(m, jsonb_build_object('region', region, 'store', store, 'a', a, 'b', b, 'c', c)),"
        "       ml_predict_one(m, jsonb_build_object('region', region, 'a', a, 'b', b, 'c', c)),"
        "       ml_predict_one(g, jsonb_build_object('a', a, 'b', b, 'c', c))"
        " FROM sales s, lin WHERE part = 'test' ORDER BY s.id").fetchall()
    got = {r[0]: r[1:] for r in got}
    train_store, train_region, _ = groups(rows, "train")
    test_store, _, test_all = groups(rows, "test")

    def fitted(rs):
        return LinearRegression().fit(np.array([feats(r) for r in rs]), np.array([r[7] for r in rs]))

    for store in ("s0", "s1", "s2", "s3", "s4"):
        rs = test_store[store]
        sk = fitted(train_store[store])
        truth = [r[7] for r in rs]
        r2_sk = r2_score(truth, sk.predict(np.array([feats(r) for r in rs])))
        r2 = r2_score(truth, [got[r[0]][0] for r in rs])
        rep.check("linear_store_%s_r2" % store, r2 >= r2_sk - R2_MARGIN,
                  "held-out R^2 %.4f, LinearRegression fitted on the store's %d rows %.4f (need within %.2f)"
                  % (r2, len(train_store[store]), r2_sk, R2_MARGIN))
    parent = fitted(train_region["r1"])
    rs = test_store["s5"]
    same = all(got[r[0]][0] == got[r[0]][1] for r in rs)
    truth = [r[7] for r in rs]
    r2_sk = r2_score(truth, parent.predict(np.array([feats(r) for r in rs])))
    r2 = r2_score(truth, [got[r[0]][0] for r in rs])
    rep.check("linear_fallback_small_store_by_region", same and r2 >= r2_sk - R2_MARGIN,
              "s5 (8 training rows, learned 10 times: 8 examples < min_examples 30): answered as the row without its "
              "store: %s; held-out R^2 %.4f, LinearRegression fitted on region r1's rows %.4f (need within %.2f)"
              % (same, r2, r2_sk, R2_MARGIN))
    big = [r for r in test_all if r[2] not in SMALL]
    truth = [r[7] for r in big]
    r2_parted = r2_score(truth, [got[r[0]][0] for r in big])
    r2_global = r2_score(truth, [got[r[0]][2] for r in big])
    rep.check("linear_beats_one_model", r2_parted >= r2_global + 0.2,
              "held-out R^2 over the stores' rows: partitioned %.4f, one linear_regression over all rows %.4f "
              "(need at least 0.2 lower)" % (r2_parted, r2_global))


def main():
    rep = Reporter()
    cluster, conn = start_cluster(rep)
    try:
        rows = make_data()
        load(conn, rows)
        run_checks(rep, (("gaussian_nb", check_gaussian_nb), ("linear_regression", check_linear_regression)),
                   conn, rep, rows)
    finally:
        cluster.stop()
    rep.exit()


if __name__ == "__main__":
    main()
