"""Naive Bayes learning against linear learning on the same rows (issue 13: <= 1.5x).

Run through `bash bench/run naive_bayes` (as root): a throwaway PostgreSQL 15 cluster run as the
postgres user, one line per figure (bench/benchlib.py: medians of alternating runs, name,
baseline ms, ours ms, ratio, target, verdict).

Environment:
    BENCH_ROWS   rows in the tables (default 1,000,000)
    BENCH_PORT   port of the throwaway cluster (default 5481)
    BENCH_RUNS   timed runs per query (default 3)
    PGL_TEST_DSN use that server instead of a throwaway cluster (see common.py)

Data: t_nb(id, x float8[20], y) and t_nb_json(id, x jsonb {"f1": .., "f20": ..}, y) hold the
same rows: 20 features uniform in [0, 2) (non-negative, so that multinomial_nb takes them as
they are) and a 0/1 label from a logistic model of them. Each figure is ml_fit of a naive Bayes
kind against ml_fit of logistic_regression (its default spec: AdaGrad, scaled features) over the
same table, without parallel workers (per-row costs, one process each side). The plain-SGD
logistic regression of release 0.1.0 (no scaling), the cheapest linear learner, is a second,
informative baseline.

It is a benchmark, not a test: it exits 0 when a figure is over its target, non-zero only when
something fails.
"""

import json
import os

from benchlib import PORT, RUNS, SETTINGS, Cluster, Table, build_table, compare, log, run_main, session, uniform_rows

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
NF = 20
TARGET = 1.5

LINEAR = {"model": "logistic_regression"}
LINEAR_SGD = {"model": "logistic_regression", "optimizer": "sgd", "scale": False, "scale_target": False,
              "check_divergence": False}
KINDS = [("gaussian_nb", {"model": "gaussian_nb"}), ("multinomial_nb", {"model": "multinomial_nb"}),
         ("bernoulli_nb", {"model": "bernoulli_nb", "binarize": 1.0})]


def build_data(conn):
    build_table(conn, "t_nb", """
        SELECT i AS id, x,
               (random() < 1 / (1 + exp(-((SELECT sum((v - 1) * ((k % 5) - 2) * 0.5)
                                            FROM unnest(x) WITH ORDINALITY AS u(v, k))))))::int::float8 AS y
        """ + uniform_rows(ROWS, NF, values="random() * 2"), "%d rows x %d features" % (ROWS, NF), key=False, then=(
        "DROP TABLE IF EXISTS t_nb_json",
        """CREATE TABLE t_nb_json AS
           SELECT id, (SELECT jsonb_object_agg('f' || k, v) FROM unnest(x) WITH ORDINALITY AS u(v, k)) AS x, y
           FROM t_nb""",
        "VACUUM ANALYZE t_nb_json"))


def main():
    with Cluster(port=PORT, settings=dict(SETTINGS)) as conn:
        session(conn, "%d rows, median of %d runs" % (ROWS, RUNS))
        build_data(conn)
        tab = Table()
        fit = "SELECT ml_fit('%s'::ml_model, x, y) FROM %s"
        for table, form in (("t_nb", "float8[]"), ("t_nb_json", "jsonb")):
            for name, spec in KINDS:
                b, o = compare(conn, fit % (json.dumps(LINEAR), table), fit % (json.dumps(spec), table))
                tab.add("%s fit %s vs linear" % (name, form), b, o, TARGET, "logistic_regression, default spec")
            b, o = compare(conn, fit % (json.dumps(LINEAR_SGD), table), fit % (json.dumps(KINDS[0][1]), table))
            tab.add("gaussian_nb fit %s vs plain SGD" % form, b, o, None, "logistic_regression, 0.1.0's plain SGD")
        # The models learned something: training accuracy on the first rows (a sanity check).
        for name, spec in KINDS:
            acc = conn.execute(
                "WITH m AS (SELECT ml_fit(%s::ml_model, x, y) AS m FROM t_nb) "
                "SELECT avg((ml_predict_class(m.m, t.x) = t.y::int::text)::int) FROM (SELECT * FROM t_nb LIMIT 10000) t, m",
                (json.dumps(spec),)).fetchone()[0]
            log("%s: accuracy on 10,000 training rows %.3f" % (name, float(acc)))
        tab.summary()


if __name__ == "__main__":
    run_main(main)
