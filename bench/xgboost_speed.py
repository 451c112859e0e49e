"""Imported XGBoost models: scoring in the database against exporting the rows to XGBoost (issue 15).

Run through `bash bench/run xgboost_speed` (as root), or directly with Debian's interpreter
(/usr/bin/python3 bench/xgboost_speed.py) against an installed pg_learn: a throwaway PostgreSQL
15 cluster run as the postgres user, the data below, one line per figure (bench/benchlib.py:
medians of alternating runs, name, baseline ms, ours ms, ratio, target, verdict). Needs
python3-xgboost.

Environment:
    BENCH_ROWS   rows scored (default 1,000,000)
    BENCH_SINGLE rows scored one at a time for figure 2 (default 20,000)
    BENCH_PORT   port of the throwaway cluster (default 5481)
    BENCH_RUNS   timed runs per figure (default 3)

The model: XGBoost (nthread=1) trains binary:logistic, 100 trees of depth 6, on 50,000 rows of
20 float8 features; the database imports it with ml_import('xgboost', ...). The rows:
t_xgb(id, x float8[20]), features uniform in [-1, 1).

Figures (the issue's targets), without parallel workers:
1. scoring every row in the database (SELECT count(ml_predict_one(m, x)) FROM t_xgb) vs the
   export the other way takes: COPY of the same rows to Python through psycopg (CSV, parsed by
   NumPy) plus Booster.predict on them with nthread=1; target <= 1x.
2. scoring one row at a time: the database's time per row of the same query vs XGBoost's
   inplace_predict called on one row at a time (nthread=1), per row; target <= 1.5x.
The scores of both sides are compared too (they must be equal: the import scores as XGBoost).

It is a benchmark, not a test: it exits 0 when a figure is over its target, non-zero only when
something fails.
"""

import os
import statistics
import time

import numpy as np
import xgboost as xgb

from benchlib import PORT, RUNS, SETTINGS, Cluster, Table, log, run_main, session, timed

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
SINGLE = int(os.environ.get("BENCH_SINGLE", "20000"))
NF = 20


def train():
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, size=(50000, NF))
    y = ((x[:, 0] + x[:, 1] * x[:, 2] - x[:, 3] ** 2 + 0.5 * np.sin(3 * x[:, 4])) > 0).astype(float)
    d = xgb.DMatrix(x, label=y)
    b = xgb.train({"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "nthread": 1,
                   "tree_method": "hist", "seed": 1}, d, 100)
    path = "/tmp/pgl_bench_xgb_%d.json" % os.getpid()
    b.save_model(path)
    with open(path) as f:
        text = f.read()
    os.unlink(path)
    b.set_param({"nthread": 1})
    return b, text


def export_and_predict(conn, booster):
    """ms: COPY the rows out (CSV), parse them with NumPy, Booster.predict with nthread=1."""
    cols = ", ".join("x[%d]" % (i + 1) for i in range(NF))
    t0 = time.perf_counter()
    chunks = []
    with conn.cursor() as cur:
        with cur.copy("COPY (SELECT %s FROM t_xgb ORDER BY id) TO STDOUT WITH (FORMAT csv)" % cols) as cp:
            for data in cp:
                chunks.append(bytes(data))
    buf = b"".join(chunks).replace(b"\n", b",")
    x = np.fromstring(buf, sep=",").reshape(-1, NF)  # noqa: NPY201 (text mode: not deprecated)
    p = booster.predict(xgb.DMatrix(x, nthread=1))
    return (time.perf_counter() - t0) * 1000.0, p


def per_row_inplace(booster, x):
    """ms for scoring the rows one at a time with inplace_predict."""
    t0 = time.perf_counter()
    for i in range(x.shape[0]):
        booster.inplace_predict(x[i:i + 1])
    return (time.perf_counter() - t0) * 1000.0


def main():
    booster, text = train()
    with Cluster(port=PORT, settings=dict(SETTINGS)) as conn:
        session(conn, "%d rows, median of %d runs" % (ROWS, RUNS))
        t0 = time.perf_counter()
        conn.execute("""
            CREATE TABLE t_xgb AS
            SELECT i AS id, ARRAY(SELECT random() * 2 - 1 FROM generate_series(1, %d) WHERE i IS NOT NULL) AS x
            FROM generate_series(1, %d) AS i""" % (NF, ROWS))
        conn.execute("ALTER TABLE t_xgb ADD PRIMARY KEY (id)")
        conn.execute("VACUUM ANALYZE t_xgb")
        conn.execute("CREATE TABLE models (name text PRIMARY KEY, m ml_model)")
        conn.execute("INSERT INTO models VALUES ('xgb', ml_import('xgboost', %s))", (text,))
        info = conn.execute("SELECT ml_info(m) FROM models").fetchone()[0]
        log("data built in %.1fs; model: %s trees, depth %s, %s bytes"
            % (time.perf_counter() - t0, info["trees"], info["max_depth"], info["size_bytes"]))
        tab = Table()
        score = "SELECT count(ml_predict_one((SELECT m FROM models WHERE name = 'xgb'), t.x)) FROM t_xgb AS t"

        # The scores agree (the import scores as XGBoost does).
        ours_p = np.array([r[0] for r in conn.execute(
            "SELECT ml_predict_one((SELECT m FROM models), x) FROM t_xgb ORDER BY id LIMIT 100000")])
        _, ref = export_and_predict(conn, booster)
        log("scores equal to Booster.predict on %d rows: %s (max abs diff %.3g)"
            % (len(ours_p), bool(np.all(ours_p == ref[:len(ours_p)])), float(np.max(np.abs(ours_p - ref[:len(ours_p)])))))

        # 1. scoring 1M rows: in the database vs COPY to Python + predict
        timed(conn, score)
        b, o = [], []
        for _ in range(RUNS):
            b.append(export_and_predict(conn, booster)[0])
            o.append(timed(conn, score))
        tab.add("score %d rows vs COPY + predict" % ROWS, statistics.median(b), statistics.median(o), 1.0)

        # 2. per row: the database's time per row vs inplace_predict on one row at a time
        rng = np.random.default_rng(3)
        xs = rng.uniform(-1, 1, size=(SINGLE, NF))
        per_row_inplace(booster, xs[:1000])
        b, o = [], []
        for _ in range(RUNS):
            b.append(per_row_inplace(booster, xs) / SINGLE * 1000.0)
            o.append(timed(conn, score) / ROWS * 1000.0)
        tab.add("per 1000 rows vs inplace_predict", statistics.median(b), statistics.median(o), 1.5,
                "one row per call")
        tab.summary()


if __name__ == "__main__":
    run_main(main)
