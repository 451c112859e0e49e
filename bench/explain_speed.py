"""ml_explain against ml_predict_one for linear models (issue 16: "ml_explain per row <= 2x
ml_predict_one for linear models").

Run through `bash bench/run explain_speed` (as root), or directly with Debian's interpreter
(/usr/bin/python3 bench/explain_speed.py) against an installed pg_learn: a throwaway PostgreSQL
15 cluster run as the postgres user, the data below, one line per figure (bench/benchlib.py:
medians of alternating runs, name, baseline ms, ours ms, ratio, target, verdict).

Environment:
    BENCH_ROWS   rows (default 200,000)
    BENCH_PORT   port of the throwaway cluster (default 5481)
    BENCH_RUNS   timed runs per query (default 3)
    PGL_TEST_DSN use that server instead of a throwaway cluster (see common.py)

Data: t_explain(id, x jsonb, a float8[], y float8): x holds 10 numeric features f1..f10, a the
same ten numbers as a float8[]; y is linear in them. The models: a scaled linear regression and a
scaled logistic regression learned from x, and a scaled linear regression learned from a.

Figures, without parallel workers, each over every row, the model from a scalar subquery:
1. count(ml_explain(m, x)) vs count(ml_predict_one(m, x)), linear regression, jsonb: target <= 2x.
2. the same for the logistic regression: target <= 2x.
3. the same over float8[] (a), ml_explain's jsonb: target <= 2x.
4. ml_contributions(m, a) (the float8[] result, XGBoost's pred_contribs layout) against
   ml_predict_one(m, a): target <= 2x.

It is a benchmark, not a test: it exits 0 whatever the ratios, non-zero only when something fails.
"""

import json
import os

from benchlib import PORT, SETTINGS, Cluster, Table, build_table, compare, log, run_main, session

ROWS = int(os.environ.get("BENCH_ROWS", "200000"))
LINEAR = {"model": "linear_regression", "scale": True}
LOGISTIC = {"model": "logistic_regression", "scale": True}


def build_data(conn):
    build_table(conn, "t_explain", """
        SELECT i AS id, jsonb_object(ARRAY(SELECT 'f' || k FROM generate_series(1, 10) k), v::text[]) AS x,
               v AS a, v[1] + 2 * v[2] - v[3] + 0.5 * v[4] + random() AS y
        FROM generate_series(1, %d) AS i,
             LATERAL (SELECT ARRAY(SELECT round((random() * 10)::numeric, 3)::float8
                                   FROM generate_series(1, 10) k WHERE i IS NOT NULL) AS v) AS w
    """ % ROWS, "%d rows" % ROWS, models=True)


def main():
    with Cluster(port=PORT, settings=dict(SETTINGS)) as conn:
        session(conn, "%d rows" % (ROWS))
        build_data(conn)
        conn.execute("INSERT INTO models SELECT 'linear', ml_fit('%s'::ml_model, x, y ORDER BY id) FROM t_explain"
                     % json.dumps(LINEAR))
        conn.execute("INSERT INTO models SELECT 'logistic', ml_fit('%s'::ml_model, x, y > 10 ORDER BY id) FROM t_explain"
                     % json.dumps(LOGISTIC))
        conn.execute("INSERT INTO models SELECT 'dense', ml_fit('%s'::ml_model, a, y ORDER BY id) FROM t_explain"
                     % json.dumps(LINEAR))
        # The explanations add up to the predictions (printed): the largest difference over 1000 rows.
        diff = conn.execute("SELECT max(abs((ml_explain(m, x) ->> 'margin')::float8 - ml_predict_one(m, x))) "
                            "FROM (SELECT x FROM t_explain LIMIT 1000) t, models WHERE name = 'linear'").fetchone()[0]
        log("linear: largest |margin - prediction| over 1000 rows: %.3g" % diff)
        tab = Table()
        q = "SELECT count(%s((SELECT m FROM models WHERE name = '%s'), t.%s)) FROM t_explain AS t"
        tab.add("explain vs predict, linear (jsonb)",
                *compare(conn, q % ("ml_predict_one", "linear", "x"), q % ("ml_explain", "linear", "x")), target=2.0)
        tab.add("explain vs predict, logistic (jsonb)",
                *compare(conn, q % ("ml_predict_one", "logistic", "x"), q % ("ml_explain", "logistic", "x")), target=2.0)
        tab.add("explain vs predict, linear (float8[])",
                *compare(conn, q % ("ml_predict_one", "dense", "a"), q % ("ml_explain", "dense", "a")), target=2.0)
        tab.add("contributions vs predict, linear (float8[])",
                *compare(conn, q % ("ml_predict_one", "dense", "a"), q % ("ml_contributions", "dense", "a")), target=2.0)
        tab.summary()


if __name__ == "__main__":
    run_main(main)
