"""pg_learn benchmarks: each figure is a ratio against a baseline measured in the same run.

Run through `bash bench/run models` (as root): a throwaway PostgreSQL 15 cluster run as the
postgres user, the data below, one line per figure (bench/benchlib.py: medians of alternating
runs, name, baseline ms, ours ms, ratio, target, verdict).

Environment:
    BENCH_ROWS   rows in the tables (default 1,000,000)
    BENCH_MC_ROWS rows of the multiclass table (default BENCH_ROWS / 5: 200,000)
    BENCH_PORT   port of the throwaway cluster (default 5481)
    BENCH_RUNS   timed runs per query (default 3)
    PGL_TEST_DSN use that server instead of a throwaway cluster (see common.py)

Data: t_arr(id, x float8[20], y, p) and t_json(id, x jsonb {"f1": .., "f20": ..}, y) hold the
same features (uniform in [-1, 1)) and labels (drawn from a logistic model of the features), in
two tables so that each baseline scans exactly the rows its figure scans.
Unless a figure says otherwise, queries run without parallel workers
(max_parallel_workers_per_gather = 0): the ratios are per-row costs, one process each side.
The server's JIT setting is left at its default (on); the hand-written formula is the query
that benefits from it most.

Multiclass (figures 8-11): t_mc(id, x float8[64], yc text, yb float8) holds 64 features
(uniform in [-1, 1)), a class among 10 ('c1'..'c10', the position of the largest of x[1..10])
and a 0/1 label (the class's parity). softmax_regression (10 classes) is compared with
logistic_regression on the same rows and features: learning with ml_fit, scoring with
ml_predict_class / ml_predict_proba against ml_predict_one. A build without softmax_regression
(an older release) skips these figures.

It is a benchmark, not a test: it exits 0 when a figure is over its target, non-zero only when
something fails.
"""

import json
import os
import time

from benchlib import (PARALLEL_OFF, PARALLEL_ON, PORT, RUNS, SETTINGS, Cluster, Table, compare, log,
                      run_main, session, workers_launched)

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
NF = 20
MC_ROWS = int(os.environ.get("BENCH_MC_ROWS", str(max(1, ROWS // 5))))
MC_NF = 64
MC_CLASSES = 10

# 0.1.0's defaults (river's: sgd lr 0.01, nothing scaled), spelled out since new specs default to
# scaling and AdaGrad: the figures in README.md were measured with these.
V010 = {"optimizer": "sgd", "scale": False, "scale_target": False, "check_divergence": False}
FIT_SPEC = {"model": "logistic_regression", **V010}
HASH_SPEC = {"model": "logistic_regression", "hash_bits": 18, **V010}


def build_data(conn):
    log("building %d rows x %d features" % (ROWS, NF))
    t0 = time.perf_counter()
    conn.execute("DROP TABLE IF EXISTS t_arr, t_json, models")
    # Features uniform in [-1, 1); label from a fixed logistic model of them.
    conn.execute("""
        CREATE TABLE t_arr AS
        SELECT i AS id, x,
               (random() < 1 / (1 + exp(-(0.3 + (SELECT sum(v * ((k %% 5) - 2) * 0.5)
                                                  FROM unnest(x) WITH ORDINALITY AS u(v, k))))))::int::float8 AS y,
               NULL::float8 AS p
        FROM generate_series(1, %d) AS i,
             LATERAL (SELECT ARRAY(SELECT random() * 2 - 1 FROM generate_series(1, %d)
                                   WHERE i IS NOT NULL) AS x) AS f
    """ % (ROWS, NF))
    conn.execute("""
        CREATE TABLE t_json AS
        SELECT id, (SELECT jsonb_object_agg('f' || k, v) FROM unnest(x) WITH ORDINALITY AS u(v, k)) AS x, y
        FROM t_arr
    """)
    conn.execute("ALTER TABLE t_arr ADD PRIMARY KEY (id)")
    conn.execute("ALTER TABLE t_json ADD PRIMARY KEY (id)")
    conn.execute("VACUUM ANALYZE t_arr")
    conn.execute("VACUUM ANALYZE t_json")
    conn.execute("CREATE TABLE models (name text PRIMARY KEY, m ml_model)")
    sizes = conn.execute("SELECT pg_size_pretty(pg_relation_size('t_arr')), "
                         "pg_size_pretty(pg_relation_size('t_json'))").fetchone()
    log("data built in %.1fs (t_arr %s, t_json %s)" % (time.perf_counter() - t0, *sizes))


def main():
    settings = dict(SETTINGS)
    with Cluster(port=PORT, settings=settings) as conn:
        session(conn, "%d rows, median of %d runs" % (ROWS, RUNS))
        build_data(conn)
        tab = Table()
        spec = json.dumps(FIT_SPEC)

        # 1. ml_fit over float8[] vs sum(x[1])
        b, o = compare(conn, "SELECT sum(x[1]) FROM t_arr",
                       "SELECT ml_fit('%s'::ml_model, x, y) FROM t_arr" % spec)
        tab.add("fit float8[] vs sum(x[1])", b, o, 2.0)

        # 2. ml_fit over jsonb vs sum((x->>'f1')::float8)
        b, o = compare(conn, "SELECT sum((x->>'f1')::float8) FROM t_json",
                       "SELECT ml_fit('%s'::ml_model, x, y) FROM t_json" % spec)
        tab.add("fit jsonb vs sum(x->>'f1')", b, o, 3.0)

        # The scoring models: trained once, stored in a table, read by a subquery/CTE.
        conn.execute("INSERT INTO models SELECT 'dense', ml_fit('%s'::ml_model, x, y ORDER BY id) "
                     "FROM t_arr" % spec)
        conn.execute("INSERT INTO models SELECT 'dense_json', ml_fit('%s'::ml_model, x, y ORDER BY id) "
                     "FROM t_json" % spec)
        conn.execute("INSERT INTO models SELECT 'hashed18', ml_fit('%s'::ml_model, x, y ORDER BY id) "
                     "FROM t_json" % json.dumps(HASH_SPEC))
        for name, nw, size, stored in conn.execute(
                "SELECT name, ml_info(m)->>'n_weights', ml_info(m)->>'size_bytes', "
                "pg_column_size(m) FROM models ORDER BY name"):
            log("model %s: n_weights %s, size %s bytes, stored %s bytes" % (name, nw, size, stored))

        # The model from a scalar subquery: an InitPlan, evaluated once, its value a parameter
        # of every call. (Joining a one-row CTE instead puts a nested loop and a CTE rescan on
        # every row, which by themselves cost about as much as sum(x[1]): figure 3b.)
        predict_arr = ("SELECT sum(ml_predict_one((SELECT m FROM models WHERE name = 'dense'), t.x)) "
                       "FROM t_arr AS t")
        predict_arr_cte = ("WITH mm AS MATERIALIZED (SELECT m FROM models WHERE name = 'dense') "
                           "SELECT sum(ml_predict_one(mm.m, t.x)) FROM t_arr AS t, mm")

        # 3. scoring float8[] vs sum(x[1])
        b, o = compare(conn, "SELECT sum(x[1]) FROM t_arr", predict_arr)
        tab.add("predict float8[] vs sum(x[1])", b, o, 1.5)
        # 3b. the same with the model joined from a CTE, against the baseline joined alike
        b, o = compare(conn, "WITH mm AS MATERIALIZED (SELECT m FROM models WHERE name = 'dense') "
                             "SELECT sum(x[1]) FROM t_arr AS t, mm", predict_arr_cte)
        tab.add("predict, model joined from a CTE", b, o, None, "baseline joins the CTE too")

        # 4. scoring vs the logistic formula written by hand with the same weights
        info = conn.execute("SELECT ml_info(m) FROM models WHERE name = 'dense'").fetchone()[0]
        w = info["weights"]
        terms = " + ".join("x[%d] * (%r)::float8" % (i, float(w["x%d" % i])) for i in range(1, NF + 1))
        hand = "SELECT sum(1 / (1 + exp(-((%r)::float8 + %s)))) FROM t_arr" % (
            float(info["intercept"]), terms)
        s_hand = conn.execute(hand).fetchone()[0]
        s_ours = conn.execute(predict_arr).fetchone()[0]
        if abs(s_hand - s_ours) > 1e-6 * max(1.0, abs(s_hand)):
            raise RuntimeError("hand formula and ml_predict_one disagree: %r vs %r" % (s_hand, s_ours))
        b, o = compare(conn, hand, predict_arr)
        tab.add("predict vs hand-written SQL", b, o, 0.5)

        # 5. UPDATE with scoring vs UPDATE with a constant; VACUUM + CHECKPOINT before each run
        before = ["VACUUM t_arr", "CHECKPOINT"]
        b, o = compare(conn, "UPDATE t_arr SET p = 0",
                       "UPDATE t_arr SET p = ml_predict_one((SELECT m FROM models WHERE name = 'dense'), x)",
                       before=before)
        tab.add("UPDATE predict vs UPDATE 0", b, o, 1.2)
        conn.execute("VACUUM t_arr")

        # 6. hashed model (2^18 weights) vs the 20-weight model, both scoring jsonb
        pj = ("WITH mm AS MATERIALIZED (SELECT m FROM models WHERE name = '%s') "
              "SELECT sum(ml_predict_one(mm.m, t.x)) FROM t_json AS t, mm")
        b, o = compare(conn, pj % "dense_json", pj % "hashed18")
        tab.add("predict hashed 2^18 vs 20 w", b, o, 1.5)

        # 7. parallel ml_fit: 2 workers vs none (speed-up = serial / parallel)
        fit = "SELECT ml_fit('%s'::ml_model, x, y) FROM t_arr" % spec
        for st in PARALLEL_ON:
            conn.execute(st)
        log("parallel plan: " + workers_launched(conn, fit))
        sb, po = compare(conn, fit, fit, before=PARALLEL_OFF, before_ours=PARALLEL_ON[:1])
        conn.execute(PARALLEL_OFF[0])
        tab.add("fit parallel 2w vs serial", sb, po, None,
                "speed-up %.2fx, %d CPUs" % (sb / po, os.cpu_count() or 0))

        multiclass(conn, tab)
        tab.summary()


SOFTMAX_SPEC = {"model": "softmax_regression", **V010}      # the same options


def multiclass(conn, tab):
    try:
        conn.execute("SELECT '%s'::ml_model" % json.dumps(SOFTMAX_SPEC))
    except Exception as e:  # noqa: BLE001  (an older build: no softmax_regression)
        log("multiclass figures skipped: %s" % " ".join(str(e).split())[:120])
        return
    log("building %d rows x %d features, %d classes" % (MC_ROWS, MC_NF, MC_CLASSES))
    t0 = time.perf_counter()
    conn.execute("DROP TABLE IF EXISTS t_mc")
    conn.execute("""
        CREATE TABLE t_mc AS
        SELECT i AS id, x, 'c' || k AS yc, (k %% 2)::float8 AS yb
        FROM generate_series(1, %d) AS i,
             LATERAL (SELECT ARRAY(SELECT random() * 2 - 1 FROM generate_series(1, %d)
                                   WHERE i IS NOT NULL) AS x) AS f,
             LATERAL (SELECT k FROM unnest(x[1:%d]) WITH ORDINALITY AS u(v, k)
                      ORDER BY v DESC LIMIT 1) AS c
    """ % (MC_ROWS, MC_NF, MC_CLASSES))
    conn.execute("ALTER TABLE t_mc ADD PRIMARY KEY (id)")
    conn.execute("VACUUM ANALYZE t_mc")
    size = conn.execute("SELECT pg_size_pretty(pg_relation_size('t_mc'))").fetchone()[0]
    log("data built in %.1fs (t_mc %s)" % (time.perf_counter() - t0, size))

    soft, logit = json.dumps(SOFTMAX_SPEC), json.dumps(FIT_SPEC)
    # 8. learning: softmax (10 classes, text labels) vs logistic (0/1) over the same rows
    b, o = compare(conn, "SELECT ml_fit('%s'::ml_model, x, yb) FROM t_mc" % logit,
                   "SELECT ml_fit('%s'::ml_model, x, yc) FROM t_mc" % soft)
    tab.add("softmax 10c fit vs logistic fit", b, o, 4.0, "%d x %d" % (MC_ROWS, MC_NF))

    conn.execute("DELETE FROM models WHERE name IN ('mc_soft', 'mc_logit')")
    conn.execute("INSERT INTO models SELECT 'mc_soft', ml_fit('%s'::ml_model, x, yc ORDER BY id) "
                 "FROM t_mc" % soft)
    conn.execute("INSERT INTO models SELECT 'mc_logit', ml_fit('%s'::ml_model, x, yb ORDER BY id) "
                 "FROM t_mc" % logit)
    for name, nw, stored, acc in conn.execute(
            "SELECT name, ml_info(m)->>'n_weights', pg_column_size(m), "
            "(SELECT avg((CASE WHEN name = 'mc_soft' THEN ml_predict_class(m, t.x) = t.yc "
            "              ELSE (ml_predict_one(m, t.x) >= 0.5) = (t.yb = 1) END)::int) "
            " FROM t_mc AS t WHERE t.id <= 20000) "
            "FROM models WHERE name IN ('mc_soft', 'mc_logit') ORDER BY name"):
        log("model %s: n_weights %s, stored %s bytes, training accuracy %.3f (first 20,000 rows)"
            % (name, nw, stored, acc))

    # Scoring: the model from a scalar subquery (as figure 3), the same aggregate every side.
    score = "SELECT count(%s((SELECT m FROM models WHERE name = '%s'), t.x)) FROM t_mc AS t"
    one = score % ("ml_predict_one", "mc_logit")
    cls = score % ("ml_predict_class", "mc_soft")
    proba = score % ("ml_predict_proba", "mc_soft")
    # 9. ml_predict_class (softmax) vs ml_predict_one (logistic)
    b, o = compare(conn, one, cls)
    tab.add("softmax class vs logistic one", b, o, 3.0)
    # 10. ml_predict_proba (softmax, jsonb of 10 probabilities) vs ml_predict_one (logistic)
    b, o = compare(conn, one, proba)
    tab.add("softmax proba vs logistic one", b, o, None, "reported, no target")
    # 11. ml_predict_class vs ml_predict_proba on the same softmax model and rows
    b, o = compare(conn, proba, cls)
    tab.add("softmax class vs proba", b, o, 1.2)


if __name__ == "__main__":
    run_main(main)
