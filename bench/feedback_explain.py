"""The scoring trigger's INSERT with explanations logged (ml_attach(..., explain => true), issue 16
item 6) against the same INSERT without them (explain => false, the default).

Run through `bash bench/run feedback_explain` (as root), or directly with Debian's interpreter
(/usr/bin/python3 bench/feedback_explain.py) against an installed pg_learn: a throwaway PostgreSQL
15 cluster run as the postgres user, one line per figure (bench/benchlib.py: medians of
alternating runs, name, baseline ms, ours ms, ratio, target, verdict).

Environment:
    BENCH_ROWS   rows per INSERT statement (default 20,000)
    BENCH_PORT   port of the throwaway cluster (default 5481)
    BENCH_RUNS   timed runs per statement (default 3)
    PGL_TEST_DSN use that server instead of a throwaway cluster (see common.py)

Tables t_off and t_on (id, f1..f8 float8, p float8), identical, attached to the same model with
explain => false and explain => true. Before every run both tables and the log are emptied.
Figures (one INSERT ... SELECT of BENCH_ROWS rows, the same rows on both sides):
1. a scaled linear regression: explain on vs off (no target: an explanation costs about a
   prediction, and its jsonb about the features' jsonb);
2. a Hoeffding tree regressor (TreeSHAP): explain on vs off;
3. the run's noise floor: two identical tables attached with explain => false (ideally 1.00x;
   the off path itself differs from the code before explain => existed by one test of the
   attachment's flag per logged prediction and a NULL column, nothing a timing can see).
Also printed: the log's bytes per row with and without explanations.

It is a benchmark, not a test: it exits 0 whatever the ratios, non-zero only when something fails.
"""

import json
import os

from benchlib import PORT, SETTINGS, Cluster, Table, compare, log, run_main

ROWS = int(os.environ.get("BENCH_ROWS", "20000"))
FEATURES = ["f%d" % k for k in range(1, 9)]
MODELS = {
    "linear": {"model": "linear_regression", "scale": True},
    "tree": {"model": "hoeffding_tree_regressor"},
}


def setup(conn, name, spec):
    cols = ", ".join("%s float8" % f for f in FEATURES)
    obj = ", ".join("'%s', %s" % (f, f) for f in FEATURES)
    conn.execute("DROP TABLE IF EXISTS train")
    conn.execute("CREATE TABLE train AS SELECT i, %s FROM generate_series(1, 5000) i"
                 % ", ".join("(random() * 10)::float8 AS %s" % f for f in FEATURES))
    conn.execute("SELECT ml_register(%%s, (SELECT ml_fit(%%s::ml_model, jsonb_build_object(%s), f1 + 2 * f2 - f3 "
                 "ORDER BY i) FROM train))" % obj, (name, json.dumps(spec)))
    conn.execute("SELECT ml_deploy(%s, 1)", (name,))
    for t, explain in (("t_off", False), ("t_off2", False), ("t_on", True)):
        conn.execute("DROP TABLE IF EXISTS %s" % t)
        conn.execute("CREATE TABLE %s (id int PRIMARY KEY, %s, p float8)" % (t, cols))
        conn.execute("SELECT ml_attach(%%s, %%s, key => 'id', prediction => 'p', explain => %s)"
                     % ("true" if explain else "false"), (t, name))


def insert(table):
    return ("INSERT INTO %s (id, %s) SELECT i, %s FROM generate_series(1, %d) i"
            % (table, ", ".join(FEATURES), ", ".join("(i %% %d)::float8" % (k + 3) for k in range(len(FEATURES))), ROWS))


def empty(table):
    return ["TRUNCATE %s" % table, "TRUNCATE ml_prediction_log, ml_label_queue, ml_monitor_inbox CASCADE"]


def main():
    with Cluster(port=PORT, settings=dict(SETTINGS)) as conn:
        conn.execute("SET max_parallel_workers_per_gather = 0")
        ver = conn.execute("SELECT current_setting('server_version')").fetchone()
        log("PostgreSQL %s, %d rows per INSERT" % (ver[0], ROWS))
        tab = Table()
        for name, spec in MODELS.items():
            setup(conn, name, spec)
            tab.add("INSERT, explain on vs off (%s)" % name,
                    *compare(conn, insert("t_off"), insert("t_on"), before=empty("t_off"), before_ours=empty("t_on")))
            if name == "linear":
                tab.add("INSERT, explain off vs off (noise floor)",
                        *compare(conn, insert("t_off"), insert("t_off2"), before=empty("t_off"),
                                 before_ours=empty("t_off2")))
                for t in ("t_off", "t_on"):
                    for q in empty(t):
                        conn.execute(q)
                    conn.execute(insert(t))
                    conn.execute("VACUUM ml_prediction_log")
                    size = conn.execute("SELECT pg_table_size('ml_prediction_log')").fetchone()[0]
                    log("log bytes per row, %s: %.0f" % ("explain on" if t == "t_on" else "explain off", size / ROWS))
            for t in ("t_off", "t_off2", "t_on"):
                conn.execute("SELECT ml_detach(%s)", (t,))
        tab.summary()


if __name__ == "__main__":
    run_main(main)
