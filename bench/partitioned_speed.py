"""Partitioned models (issue 14 part 2): scoring by name with a partitioned model vs a single
model of its base spec, on the same rows (target: within 1.5x), and learning as a figure.

Run through `bash bench/run partitioned_speed` (as root), or directly with Debian's interpreter
(/usr/bin/python3 bench/partitioned_speed.py) against an installed pg_learn: a throwaway
PostgreSQL 15 cluster run as the postgres user, the data below, one line per figure
(bench/benchlib.py: medians of alternating runs, name, baseline ms, ours ms, ratio, target,
verdict).

Environment:
    BENCH_ROWS   rows (default 200,000)
    BENCH_PORT   port of the throwaway cluster (default 5481)
    BENCH_RUNS   timed runs per query (default 3)
    PGL_TEST_DSN use that server instead of a throwaway cluster (see common.py)

Data: t_part(id, x jsonb) with a region (50), a store (1,000, each in one region) and 5 numbers
uniform in [-1, 1), the target a linear function of the numbers whose slope depends on the store.

Figures (without parallel workers):
1. scoring by name, `sum(ml_predict('name', x))` over every row, a registered and deployed
   linear_regression vs a registered partitioned model by ["region", "store"] of the same base
   (1,050 partitions, every store trained): target <= 1.5x. With the partitions' compact linear
   forms (docs/models.md "Partitioned models", Speed): 0.91x to 1.10x in seven of seven runs
   on a shared 2-core machine at load 6 to 12.5 (1.00x, 0.91x, 1.06x, 1.05x, 1.08x, 1.02x,
   1.10x). Before them, with the route: 1.29x to 1.72x in nine of eleven runs at load 4 to 15, 2.2x and 2.4x in two
   during load bursts, 1.49x in one at load 5 the day the forms came; before the route 1.78x
   to 2.93x.
2. learning, ml_fit(..., ORDER BY id), one pass: the partitioned model vs the single one (each
   row learns in three models: no target; 2.05x to 2.56x before the route, 1.76x to 2.98x with
   it, 1.90x to 2.31x in the seven runs above).

It is a benchmark, not a test: it exits 0 whatever the ratios, non-zero only when something fails.
"""

import json
import os

from benchlib import PORT, SETTINGS, Cluster, Table, build_table, compare, log, run_main, session

ROWS = int(os.environ.get("BENCH_ROWS", "200000"))
BASE = {"model": "linear_regression"}
PARTED = {"model": "partitioned", "by": ["region", "store"], "min_examples": 30, "base": BASE}


def fit(spec):
    return "SELECT ml_fit('%s'::ml_model, x, y ORDER BY id) FROM t_part" % json.dumps(spec)


def build_data(conn):
    build_table(conn, "t_part", """
        SELECT i AS id,
               jsonb_build_object('region', 'r' || (s %% 50), 'store', 's' || s,
                                  'a', a, 'b', b, 'c', c, 'd', d, 'e', e) AS x,
               (1 + (s %% 7)) * a - b + 0.5 * c - d + (s %% 3) * e + random() * 0.1 AS y
        FROM (SELECT i, (i * 7919) %% 1000 AS s, random() * 2 - 1 AS a, random() * 2 - 1 AS b,
                     random() * 2 - 1 AS c, random() * 2 - 1 AS d, random() * 2 - 1 AS e
              FROM generate_series(1, %d) AS i) q
    """ % ROWS, "%d rows" % ROWS)


def main():
    with Cluster(port=PORT, settings=dict(SETTINGS)) as conn:
        session(conn, "%d rows" % (ROWS))
        build_data(conn)
        conn.execute("SELECT ml_register('single', (%s))" % fit(BASE))
        conn.execute("SELECT ml_register('parted', (%s))" % fit(PARTED))
        conn.execute("SELECT ml_deploy('single', 1), ml_deploy('parted', 1)")
        info = conn.execute("SELECT ml_info(ml_get('parted', 1))").fetchone()[0]
        if isinstance(info, str):
            info = json.loads(info)
        log("partitioned: %s partitions, levels %s, size %s bytes" % (
            info["partitions"], [(lv["by"], lv["partitions"], lv["trained"]) for lv in info["levels"]],
            info["size_bytes"]))
        mae = conn.execute(
            "SELECT avg(abs(ml_predict('single', x) - y)), avg(abs(ml_predict('parted', x) - y)) FROM t_part"
        ).fetchone()
        log("training MAE: single %.4f, partitioned %.4f" % (mae[0], mae[1]))
        tab = Table()
        score = "SELECT sum(ml_predict('%s', x)) FROM t_part"
        tab.add("predict by name partitioned vs one", *compare(conn, score % "single", score % "parted"), target=1.5)
        tab.add("fit partitioned vs one", *compare(conn, fit(BASE), fit(PARTED)))
        tab.summary()


if __name__ == "__main__":
    run_main(main)
