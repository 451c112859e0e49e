"""A feature pipeline against the bare linear model it ends with (issue 14: "a pipeline with two
target aggregates and a scaler costs <= 3x the bare linear model, per row, both to learn and to
score").

Run through `bash bench/run pipeline_speed` (as root), or directly with Debian's interpreter
(/usr/bin/python3 bench/pipeline_speed.py) against an installed pg_learn: a throwaway PostgreSQL
15 cluster run as the postgres user, the data below, one line per figure (bench/benchlib.py:
medians of alternating runs, name, baseline ms, ours ms, ratio, target, verdict).

Environment:
    BENCH_ROWS   rows (default 200,000)
    BENCH_PORT   port of the throwaway cluster (default 5481)
    BENCH_RUNS   timed runs per query (default 3)
    PGL_TEST_DSN use that server instead of a throwaway cluster (see common.py)

Data: t_bikes(id, x jsonb, y float8): x holds a station (one of 50, text), the hour (0-23) and
two weather numbers; y depends on the station, the hour and the weather. Both models read the
same jsonb column.

Figures, without parallel workers:
1. learning, ml_fit(..., ORDER BY id), one pass: the pipeline
   [target_agg by (station, hour) mean, target_agg by station ewmean(0.5), standard_scaler,
   linear_regression] vs linear_regression alone (which learns the station as a one-hot
   category): target <= 3x.
2. scoring over every row with ml_predict_one, the model from a scalar subquery: the same two:
   target <= 3x.

It is a benchmark, not a test: it exits 0 whatever the ratios, non-zero only when something fails.
"""

import json
import os

from benchlib import PORT, SETTINGS, Cluster, Table, build_table, compare, log, run_main, session

ROWS = int(os.environ.get("BENCH_ROWS", "200000"))
LINEAR = {"model": "linear_regression", "intercept_lr": 0.5}
PIPELINE = {"pipeline": [{"target_agg": {"by": ["station", "hour"], "how": "mean"}},
                         {"target_agg": {"by": "station", "how": {"ewmean": 0.5}}},
                         "standard_scaler",
                         {"linear_regression": {"intercept_lr": 0.5}}]}


def fit(spec):
    return "SELECT ml_fit('%s'::ml_model, x, y ORDER BY id) FROM t_bikes" % json.dumps(spec)


def build_data(conn):
    build_table(conn, "t_bikes", """
        SELECT i AS id,
               jsonb_build_object('station', 's' || (i * 7919 %% 50), 'hour', i %% 24,
                                  'temperature', t, 'humidity', h) AS x,
               (i * 7919 %% 50) * 0.4 + CASE WHEN i %% 24 BETWEEN 7 AND 19 THEN 8 ELSE 0 END
               + 0.2 * t - 3 * h + random() AS y
        FROM generate_series(1, %d) AS i,
             LATERAL (SELECT random() * 30 AS t, random() AS h WHERE i IS NOT NULL) AS w
    """ % ROWS, "%d rows" % ROWS, models=True)


def main():
    with Cluster(port=PORT, settings=dict(SETTINGS)) as conn:
        session(conn, "%d rows" % (ROWS))
        build_data(conn)
        conn.execute("INSERT INTO models SELECT 'linear', (%s)" % fit(LINEAR))
        conn.execute("INSERT INTO models SELECT 'pipeline', (%s)" % fit(PIPELINE))
        # Both learned something (printed): the mean absolute error over the rows.
        for name in ("linear", "pipeline"):
            mae = conn.execute("SELECT avg(abs(ml_predict_one((SELECT m FROM models WHERE name = %s), x) - y)) "
                               "FROM t_bikes", (name,)).fetchone()[0]
            log("%s: mean absolute error %.3f" % (name, mae))
        tab = Table()
        tab.add("fit pipeline vs linear", *compare(conn, fit(LINEAR), fit(PIPELINE)), target=3.0)
        score = "SELECT count(ml_predict_one((SELECT m FROM models WHERE name = '%s'), t.x)) FROM t_bikes AS t"
        tab.add("predict pipeline vs linear", *compare(conn, score % "linear", score % "pipeline"), target=3.0)
        tab.summary()


if __name__ == "__main__":
    run_main(main)
