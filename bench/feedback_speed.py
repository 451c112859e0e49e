"""pg_learn benchmark of the feedback loop's cost per row (issue 12, item 7): INSERTs into an
attached table (scored into the prediction column and logged) and labels arriving, each as a
ratio against the same statements on an identical table without ml_attach, in one run.

Run through `bash bench/run feedback_speed` (as root), or directly against a private build:
    PGL_PG_BIN=/opt/pgl/NAME/usr/lib/postgresql/15/bin BENCH_PORT=55551 \\
        /usr/bin/python3 bench/feedback_speed.py

Tables: ev_plain(id bigserial PRIMARY KEY, f1 .. f5 float8, p float8, y float8) and ev_scored,
the same (LIKE ... INCLUDING ALL), attached to a deployed logistic regression over f1 .. f5
with prediction column p and label column y (queue mode): every INSERT into ev_scored scores
the row into p and writes one log row; every label (y going from NULL to a value) is joined to
its logged prediction and queued.

Shapes (pgbench, BENCH_CLIENTS client connections, default 8, 2 threads, -T BENCH_SECONDS
each, default 4):
- INSERT, 1 row per statement and transaction, synchronous_commit on (the default);
- INSERT, 50 rows per statement (INSERT ... SELECT FROM generate_series(1, 50)), on;
- the same two with synchronous_commit = off (PGOPTIONS), where the commit's WAL flush,
  the same on both sides, does not hide the difference;
- labels, 1 row per statement: UPDATE t SET y = ... WHERE id = <next unlabelled row>, every
  client taking the next id from a sequence (the same on both sides), BENCH_LABEL_TXNS
  (default 1500) transactions per client and run;
- labels, 50 rows per statement: the same with the next 50 ids, a tenth of the transactions.
Target: at most 1.3x for every INSERT shape, at most 3x for labels.

The floor (INSERT shapes only, timed and counted alike): the same INSERT into a third identical
table, ev_floor, with no trigger, in one statement with an INSERT of one row per inserted row into
ev_floor_log, a table made LIKE ml_prediction_log (its identity, its two indexes, fillfactor 80),
holding what the log holds for these rows (the key as text, a constant jsonb of five 17-digit
features, a score) -- written by PostgreSQL alone, without a line of pg_learn's code: no trigger,
no scoring, no registry, no feature reading, no monitoring event. With 50 rows per statement,
where the statement's own cost is shared by 50 rows, its ratio to the plain INSERT bounds from
below any design that logs every prediction as it is scored, in the statement that scores it,
with the log's two indexes (the prediction id, for the label queue's foreign key; the table and
key, for the labels): when the floor is over the target, the target is out of reach for every
such design, not only for pg_learn's code. (With 1 row per statement it bounds nothing: the
writable CTE's second ModifyTable costs per statement about what pg_learn's C writer costs.) The unindexed floor is the same with
ev_stage and ev_stage_log, a table LIKE ml_prediction_log without identity or index (the row's
id stored as a plain number): the bound of a design that would append predictions to an
unindexed staging table in the scoring statement and index them later (a deferred log). And
scoring alone: ev_score_only, attached like ev_scored but with its log trigger
(pg_learn_log_insert) disabled, so only pg_learn's BEFORE trigger runs: the bound of a design
that writes nothing but the prediction column in the scoring statement (a log made later from
the table itself).
The same INSERT and label shapes are then counted in instructions per row with callgrind, one
single-user backend per side and shape (see callgrind_shapes): repeatable whatever else the
machine runs, where the timed ratios spread widely on a shared machine.

Method: each shape is measured BENCH_RUNS times (default 5) after one untimed warm-up of each
side, the baseline and ours alternating (b, o, b, o, ...) so that the load of a shared machine
falls on both alike. Each run gives a throughput; the ratio of a pair is baseline throughput /
ours (time per row, ours / baseline). Printed: the median of the pairs' ratios, their min and
max, the target and the rows per second of each side (medians). Labels arrive for rows that
were inserted (and, in ev_scored, logged) by the same INSERT ... SELECT on both sides before
the label shapes, so that both tables hold the same rows.

BENCH_SHAPES (default insert,label,callgrind) chooses the parts; BENCH_CALLGRIND_ONLY=labels (a
part of the shapes' names) counts only those shapes; BENCH_CALLGRIND_KEEP=DIR keeps every
callgrind profile there (NAME_LINES.out: the runs of N and 2N statements), for
callgrind_annotate --inclusive=yes on both and their difference per row.

BENCH_CALLGRIND_STATEMENTS (default 300) is N above, for one row per statement (a tenth of it
with 50 rows per statement). The figures, before and after each change, and where the
instructions go (with the arithmetic of why 1.3x is out of reach for INSERTs while every
prediction is logged with its two index entries): docs/feedback.md "Cost".

It is a benchmark, not a test: it exits 0 when a figure is over its target, non-zero when
something fails (including a check at the end that every row was scored and logged once and
every label queued once).
"""

import os
import random
import re
import statistics
import subprocess
import tempfile

from benchlib import PORT, SETTINGS, Cluster, log, pgbench_tps, run_main

import common

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "4"))
LABEL_TXNS = int(os.environ.get("BENCH_LABEL_TXNS", "1500"))
CG_STATEMENTS = int(os.environ.get("BENCH_CALLGRIND_STATEMENTS", "300"))
INSERT_TARGET = 1.3
LABEL_TARGET = 3.0

SETUP = """
CREATE TABLE ev_plain (id bigserial PRIMARY KEY, f1 float8, f2 float8, f3 float8, f4 float8,
                       f5 float8, p float8, y float8);
CREATE TABLE ev_scored (LIKE ev_plain INCLUDING ALL);
CREATE TABLE ev_floor (LIKE ev_plain INCLUDING ALL);
CREATE TABLE ev_floor_log (LIKE ml_prediction_log INCLUDING ALL) WITH (fillfactor = 80);
CREATE TABLE ev_stage (LIKE ev_plain INCLUDING ALL);
CREATE TABLE ev_stage_log (LIKE ml_prediction_log INCLUDING DEFAULTS);
CREATE TABLE ev_score_only (LIKE ev_plain INCLUDING ALL);
CREATE SEQUENCE lab_plain;
CREATE SEQUENCE lab_scored;
SELECT ml_register('speed', ml_fit('{"model": "logistic_regression", "check_divergence": false}',
                                   jsonb_build_object('f1', f1, 'f2', f2, 'f3', f3, 'f4', f4, 'f5', f5),
                                   (f1 - f2 + 0.5 * f3 > 0)::int ORDER BY i))
FROM (SELECT i, random() * 2 - 1 AS f1, random() * 2 - 1 AS f2, random() * 2 - 1 AS f3,
             random() * 2 - 1 AS f4, random() * 2 - 1 AS f5
      FROM generate_series(1, 5000) i) s;
SELECT ml_deploy('speed', 1);
SELECT ml_attach('ev_scored', 'speed', key => 'id', prediction => 'p', label => 'y',
                 features => ARRAY['f1', 'f2', 'f3', 'f4', 'f5']);
SELECT ml_attach('ev_score_only', 'speed', key => 'id', prediction => 'p', label => 'y',
                 features => ARRAY['f1', 'f2', 'f3', 'f4', 'f5']);
ALTER TABLE ev_score_only DISABLE TRIGGER pg_learn_log_insert;
"""

FEATURES = ["f1", "f2", "f3", "f4", "f5"]
INSERT_1 = "\n".join(
    ["\\set %s random(-1000000, 1000000)" % f for f in FEATURES]
    + ["INSERT INTO {t} (f1, f2, f3, f4, f5) VALUES ("
       + ", ".join(":%s / 1000000.0" % f for f in FEATURES) + ");"]) + "\n"
INSERT_50 = ("INSERT INTO {t} (f1, f2, f3, f4, f5) SELECT random() * 2 - 1, random() * 2 - 1, "
             "random() * 2 - 1, random() * 2 - 1, random() * 2 - 1 "
             "FROM generate_series(1, 50);\n")
# The next unlabelled row(s): ids handed out by a sequence, so no two clients label one row.
# The floor: the plain INSERT and the log rows it would cause, in one statement (see above).
FLOOR_FEATURES = ('{"f1": -0.12345678901234567, "f2": 0.2345678901234567, "f3": 0.34567890123456789, '
                  '"f4": -0.4567890123456789, "f5": 0.56789012345678901}')
# The two floors: the user's table and its log-shaped table (indexed, or unindexed staging).
FLOORS = {"ev_floor": ("ev_floor_log", "indexed log", ""),
          "ev_stage": ("ev_stage_log", "unindexed staging", "prediction_id, ")}


def floor_statement(table, insert):
    """The floor's statement of an INSERT into table (ev_floor or ev_stage): WITH r AS (the
    INSERT RETURNING id) and one log-shaped row per row of r."""
    log_table, _, id_col = FLOORS[table]
    return ("WITH r AS (%s RETURNING id) INSERT INTO %s (%smodel_name, version, variant, served, "
            "table_name, key, predicted_at, score, features) SELECT %s'speed', 1, 'champion', true, "
            "'%s'::regclass, r.id::text, now(), 0.5, '%s'::jsonb FROM r"
            % (insert, log_table, id_col, "r.id, " if id_col else "", table, FLOOR_FEATURES))


def floor_script(script, table):
    """A pgbench script of a shape with its INSERT as the floor's."""
    head, insert = script.rsplit("INSERT INTO {t}", 1)
    return head + floor_statement(table, "INSERT INTO " + table + insert.rstrip().rstrip(";")) + ";\n"


LABEL_1 = ("UPDATE {t} SET y = (f1 - f2 + 0.5 * f3 > 0)::int "
           "WHERE id = (SELECT nextval('lab_{s}'));\n")
LABEL_50 = ("UPDATE {t} SET y = (f1 - f2 + 0.5 * f3 > 0)::int "
            "WHERE id = ANY (ARRAY(SELECT nextval('lab_{s}') FROM generate_series(1, 50)));\n")


def pgbench(cluster, script, rows_per_txn, options="", txns=None):
    """Runs pgbench with the script for SECONDS (or txns per client); returns rows per second."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
        path = f.name
    os.chmod(path, 0o644)
    try:
        cmd = [os.path.join(common.PG_BIN, "pgbench"), "-n", "-c", str(CLIENTS),
               "-j", str(min(CLIENTS, 2)), "-f", path, "-M", "prepared"]
        cmd += ["-t", str(txns)] if txns else ["-T", str(SECONDS)]
        cmd += ["-h", cluster.dir, "-p", str(cluster.port), "-U", "postgres", cluster.dbname]
        env = dict(os.environ)
        if options:
            env["PGOPTIONS"] = options
        run = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if run.returncode != 0:
            raise RuntimeError("pgbench failed (%d): %s" % (run.returncode,
                                                            (run.stderr or run.stdout)[-600:]))
        out = run.stdout
    finally:
        os.unlink(path)
    return pgbench_tps(out) * rows_per_txn


class Figures:
    def __init__(self):
        self.rows = []
        print("%-40s %9s %9s %9s  %-8s %-11s %s" % ("figure", "ratio", "min", "max", "target",
                                                    "verdict", "rows/s plain vs attached"),
              flush=True)

    def add(self, name, pairs, target, note="", floor=False):
        """pairs: (baseline rows/s, ours rows/s) of each run. A floor is not ours: its verdict
        says whether the target is within reach of any design it bounds."""
        ratios = sorted(b / o for b, o in pairs)
        med = statistics.median(ratios)
        verdict = ("reachable" if med <= target else "unreachable") if floor else \
            ("ok" if med <= target else "over target")
        if not floor:
            self.rows.append((name, med, verdict))
        print("%-40s %8.2fx %8.2fx %8.2fx  %-8s %-11s %.0f vs %.0f%s" % (
            name, med, ratios[0], ratios[-1], "<= %.2gx" % target, verdict,
            statistics.median(b for b, _ in pairs), statistics.median(o for _, o in pairs),
            ("  (" + note + ")") if note else ""), flush=True)

    def summary(self):
        over = [r for r in self.rows if r[2] != "ok"]
        log("%d figures, %d over target" % (len(self.rows), len(over)))


def alternate(*sides):
    """Each side once untimed, then RUNS rounds of all sides in turn; a list of tuples, one a round."""
    for f in sides:
        f()
    return [tuple(f() for f in sides) for _ in range(RUNS)]


def insert_shapes(cluster, figs):
    for sync in ("on", "off"):
        opts = "" if sync == "on" else "-c synchronous_commit=off"
        for rows, script in ((1, INSERT_1), (50, INSERT_50)):
            runs = alternate(lambda: pgbench(cluster, script.format(t="ev_plain"), rows, opts),
                             lambda: pgbench(cluster, script.format(t="ev_scored"), rows, opts),
                             lambda: pgbench(cluster, floor_script(script, "ev_floor"), rows, opts),
                             lambda: pgbench(cluster, floor_script(script, "ev_stage"), rows, opts),
                             lambda: pgbench(cluster, script.format(t="ev_score_only"), rows, opts))
            name = "INSERT %d row%s/stmt, sync commit %s" % (rows, "s" if rows > 1 else "", sync)
            figs.add(name, [(r[0], r[1]) for r in runs], INSERT_TARGET, "%d clients" % CLIENTS)
            for i, table in ((2, "ev_floor"), (3, "ev_stage")):
                figs.add("  floor, %s" % FLOORS[table][1], [(r[0], r[i]) for r in runs], INSERT_TARGET,
                         "plain INSERT + log-shaped row, no pg_learn code", floor=True)
            figs.add("  bound, scoring alone", [(r[0], r[4]) for r in runs], INSERT_TARGET,
                     "pg_learn's BEFORE trigger, no log", floor=True)


def label_shapes(cluster, figs):
    conn = cluster.conn
    # Rows to label: the same number on both sides, what the runs take, inserted by one
    # statement each (contiguous ids). A label run is a fixed number of transactions.
    for rows, script, txns in ((1, LABEL_1, LABEL_TXNS), (50, LABEL_50, max(LABEL_TXNS // 10, 1))):
        block = (RUNS + 1) * CLIENTS * txns * rows + 100
        need = {}
        for t, s in (("ev_plain", "plain"), ("ev_scored", "scored")):
            first = conn.execute(
                "INSERT INTO %s (f1, f2, f3, f4, f5) SELECT random() * 2 - 1, random() * 2 - 1, "
                "random() * 2 - 1, random() * 2 - 1, random() * 2 - 1 "
                "FROM generate_series(1, %d) RETURNING id" % (t, block)).fetchall()
            ids = sorted(r[0] for r in first)
            if ids[-1] - ids[0] + 1 != len(ids):
                raise RuntimeError("label rows of %s not contiguous" % t)
            conn.execute("SELECT setval('lab_%s', %d, false)" % (s, ids[0]))
            need[t] = ids[-1]
        conn.execute("VACUUM ANALYZE ev_plain")
        conn.execute("VACUUM ANALYZE ev_scored")
        conn.execute("VACUUM ANALYZE ml_prediction_log")

        def side(t, s):
            r = pgbench(cluster, script.format(t=t, s=s), rows, txns=txns)
            last = conn.execute("SELECT last_value FROM lab_%s" % s).fetchone()[0]
            if last >= need[t]:
                raise RuntimeError("the label runs used up the rows of %s" % t)
            return r

        pairs = alternate(lambda: side("ev_plain", "plain"), lambda: side("ev_scored", "scored"))
        figs.add("labels %d row%s/stmt vs plain UPDATE" % (rows, "s" if rows > 1 else ""), pairs,
                 LABEL_TARGET, "%d clients, queue mode" % CLIENTS)


def callgrind_shapes(cluster, figs):
    """The same shapes counted in instructions (valgrind --tool=callgrind) instead of timed: one
    single-user backend (postgres --single) per side and shape, on a copy of the cluster's data,
    running prepared statements (each its own transaction, as pgbench -M prepared runs them):
    the cost of N statements is the count of a backend running 2N of them less the count of one
    running the first N (so the backend's start and its first statements, which load the
    extension and fill its caches, count for nothing). Repeatable to a
    few instructions whatever else the machine runs, so it shows what the code costs where the
    timed figures on a loaded machine spread widely. Commit's WAL flush is not instructions: the
    figure has no synchronous_commit variant."""
    conn = cluster.conn
    n1, n50 = CG_STATEMENTS, max(CG_STATEMENTS // 10, 1)
    ids = {}
    for t in ("ev_plain", "ev_scored"):
        rows = conn.execute(
            "INSERT INTO %s (f1, f2, f3, f4, f5) SELECT random() * 2 - 1, random() * 2 - 1, "
            "random() * 2 - 1, random() * 2 - 1, random() * 2 - 1 FROM generate_series(1, %d) "
            "RETURNING id" % (t, 2 * (n1 + 50 * n50))).fetchall()
        ids[t] = sorted(r[0] for r in rows)
    conn.execute("VACUUM ANALYZE ev_plain")
    conn.execute("VACUUM ANALYZE ev_scored")
    for t in ("ev_floor", "ev_floor_log", "ev_stage", "ev_stage_log", "ev_score_only"):
        conn.execute("VACUUM ANALYZE " + t)
    conn.execute("CHECKPOINT")
    data = os.path.join(cluster.dir, "data")
    cluster.conn.close()
    cluster.conn = None
    common._as_postgres([os.path.join(common.PG_BIN, "pg_ctl"), "-D", data, "-m", "fast", "-w",
                         "stop"], stdout=subprocess.DEVNULL)
    cluster._started = False

    def count(name, script):
        copy = os.path.join(cluster.dir, "cg")
        common._as_postgres(["rm", "-rf", copy])
        common._as_postgres(["cp", "-a", data, copy])
        out = os.path.join(cluster.dir, "cg.out")
        run = subprocess.run(
            ["runuser", "-u", "postgres", "--", "valgrind", "--tool=callgrind",
             "--callgrind-out-file=" + out, os.path.join(common.PG_BIN, "postgres"), "--single",
             "-D", copy, "-c", "autovacuum=off", "-c", "fsync=off", cluster.dbname],
            input=script, capture_output=True, text=True, cwd="/")
        keep = os.environ.get("BENCH_CALLGRIND_KEEP")  # a directory: the profiles are kept there
        if keep:
            subprocess.run(["cp", out, os.path.join(keep, re.sub(r"[^A-Za-z0-9]+", "_", name) + "_%d.out"
                                                    % script.count("\n"))])
        common._as_postgres(["rm", "-rf", copy, out])
        m = re.search(r"Collected : (\d+)", run.stderr)
        if run.returncode != 0 or not m or "ERROR" in run.stdout:
            raise RuntimeError("callgrind run %s failed: %s %s" % (name, run.stderr[-300:],
                                                                    run.stdout[-300:]))
        return int(m.group(1))

    vals = lambda: ", ".join("%.6f" % (random.random() * 2 - 1) for _ in FEATURES)  # noqa: E731
    cols = "(f1, f2, f3, f4, f5)"
    # script(t, m): the PREPARE and the first m statements of the shape
    # the floor's statement of an INSERT (see the module's text) when t is a floor's table
    as_floor = lambda t, insert: floor_statement(t, insert) if t in FLOORS else insert  # noqa: E731
    shapes = [
        ("INSERT 1 row/stmt", n1, 1, INSERT_TARGET, lambda t, m: (
            "PREPARE s(float8, float8, float8, float8, float8) AS "
            + as_floor(t, "INSERT INTO %s %s VALUES ($1, $2, $3, $4, $5)" % (t, cols)) + "\n"
            + "".join("EXECUTE s(%s)\n" % vals() for _ in range(m)))),
        ("INSERT 50 rows/stmt", n50, 50, INSERT_TARGET, lambda t, m: (
            "PREPARE s AS " + as_floor(t, INSERT_50.format(t=t).rstrip(";\n")) + "\n"
            + "EXECUTE s\n" * m)),
        ("labels 1 row/stmt", n1, 1, LABEL_TARGET, lambda t, m: (
            "PREPARE s(bigint) AS UPDATE %s SET y = (f1 - f2 + 0.5 * f3 > 0)::int "
            "WHERE id = $1\n" % t
            + "".join("EXECUTE s(%d)\n" % i for i in ids[t][:m]))),
        ("labels 50 rows/stmt", n50, 50, LABEL_TARGET, lambda t, m: (
            "PREPARE s(bigint[]) AS UPDATE %s SET y = (f1 - f2 + 0.5 * f3 > 0)::int "
            "WHERE id = ANY ($1)\n" % t
            + "".join("EXECUTE s('{%s}')\n" % ",".join(str(i) for i in ids[t][2 * n1 + 50 * k:2 * n1 + 50 * (k + 1)])
                      for k in range(m)))),
    ]
    only = os.environ.get("BENCH_CALLGRIND_ONLY")  # e.g. "labels": the shapes whose name has it
    for name, n, rows, target, script in shapes:
        if only and only not in name:
            continue
        b = count(name + " plain", script("ev_plain", 2 * n)) - count(name + " plain", script("ev_plain", n))
        o = count(name + " attached", script("ev_scored", 2 * n)) - count(name + " attached", script("ev_scored", n))
        per_b, per_o = b / (n * rows), o / (n * rows)
        ratio = o / b
        verdict = "ok" if ratio <= target else "over target"
        figs.rows.append((name + " (instructions)", ratio, verdict))
        print("%-40s %8.2fx %9s %9s  %-8s %-11s %.0f vs %.0f instructions/row" % (
            name + " (instructions)", ratio, "-", "-", "<= %.2gx" % target, verdict, per_b, per_o),
            flush=True)
        for table in (list(FLOORS) + ["ev_score_only"] if name.startswith("INSERT") else ()):
            f = count(name + " " + table, script(table, 2 * n)) - count(name + " " + table, script(table, n))
            per_f = f / (n * rows)
            print("%-40s %8.2fx %9s %9s  %-8s %-11s %.0f vs %.0f instructions/row" % (
                "  floor, %s" % FLOORS[table][1] if table in FLOORS else "  bound, scoring alone",
                f / b, "-", "-", "<= %.2gx" % target,
                "reachable" if f / b <= target else "unreachable", per_b, per_f), flush=True)


def check(conn):
    rows, scored = conn.execute("SELECT count(*), count(p) FROM ev_scored").fetchone()
    logged = conn.execute("SELECT count(*), count(DISTINCT key) FROM ml_prediction_log "
                          "WHERE table_name = 'ev_scored'::regclass").fetchone()
    if not (rows == scored == logged[0] == logged[1]):
        raise RuntimeError("ev_scored: %d rows, %d scored, %d logged (%d keys)"
                           % (rows, scored, logged[0], logged[1]))
    labelled = conn.execute("SELECT count(*) FROM ev_scored WHERE y IS NOT NULL").fetchone()[0]
    queued = conn.execute("SELECT count(*) FROM ml_label_queue").fetchone()[0]
    log_labels = conn.execute("SELECT count(*) FROM ml_prediction_log WHERE label IS NOT NULL"
                              ).fetchone()[0]
    if not (labelled == queued == log_labels):
        raise RuntimeError("%d labels arrived, %d queued, %d in the log"
                           % (labelled, queued, log_labels))
    log("checked: %d rows scored and logged once each; %d labels queued once each"
        % (rows, labelled))


def main():
    cluster = Cluster(port=PORT, settings=dict(SETTINGS, max_connections="40"))
    try:
        conn = cluster.start()
        ver = conn.execute("SELECT current_setting('server_version')").fetchone()[0]
        log("PostgreSQL %s; %d clients, %d runs of %ds per side and shape"
            % (ver, CLIENTS, RUNS, SECONDS))
        conn.execute(SETUP)
        figs = Figures()
        only = os.environ.get("BENCH_SHAPES", "insert,label,callgrind").split(",")
        if "insert" in only:
            insert_shapes(cluster, figs)
        if "label" in only:
            label_shapes(cluster, figs)
        check(conn)
        if "callgrind" in only:
            callgrind_shapes(cluster, figs)
        figs.summary()
    finally:
        cluster.stop()


if __name__ == "__main__":
    run_main(main)
