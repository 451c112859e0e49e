"""Session 10's review of the direct writers from several sessions (the log writer's state kept
across transactions, the label queue's checks planned once): another session changes the log or
the queue while this one holds what it built. The single-session cases are in sql/review_s10.sql.

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_review_s10.py
(a throwaway cluster is started as postgres; see common.py for PGL_TEST_DSN, PGL_PG_BIN etc.).

After each step every index of the log and the queue is checked with amcheck (bt_index_check
with heapallindexed: every row has its entries), and each prediction must be logged exactly once
with one inbox event.

- reindex_*: B rebuilds the log's indexes (REINDEX, REINDEX CONCURRENTLY), creates and drops one
  CONCURRENTLY, while A keeps logging: A's rows are in every index.
- ddl_*: B adds a CHECK on the log (A's next row is refused, 23514), drops it, sets a fillfactor,
  puts a trigger of its own on the log (A's next row fires it once) and takes it away.
- queue_*: B adds a CHECK on the queue (A's next label is refused, 23514, nothing labelled) and
  drops it, replaces one CHECK by another in one transaction (as many checks: refused too); B
  adds a foreign key of its own on the queue (A's label for a name it does not list: 23503).
- version_deleted_*: B deletes the row of ml_models of the version that made a prediction (no
  longer deployed) and A labels that prediction before B commits: A waits, then in READ
  COMMITTED gets 23503 (the RI check's answer), in REPEATABLE READ 40001; nothing is labelled.
- prepared_*: predictions logged in a PREPARE TRANSACTION are there after COMMIT PREPARED, gone
  after ROLLBACK PREPARED, and the session logs on in between.
- partitioned_other_backend: a partitioned model scored in A (its compact forms made) learns in B
  (ml_learn, a label of a sync attachment): A's next scores are the partition's own model's.
- partition_log_race (defect fixed): B runs ml_partition_log and commits while A's INSERT waits
  for the log's lock after it looked the log up: A's row was refused with "could not open
  relation with OID n" (the old log's identity sequence is dropped); now it is logged in the
  partitioned log, once, with its event. partition_log_after: A, whose writer was built on the
  old log, logs and labels on in the partitioned one; the labels are learned once.
- extension_again: B drops and creates the extension again (new tables, new OIDs) and attaches
  the table again; A, which holds the writer built on the old log, logs into the new one; then A
  does the same itself, in the transaction that logs the next row.
- add_column_elsewhere: B adds a column with a default to the log (A's rows get it), then drops
  it; A logs and labels on, once each.
- partition_log_empty_race (defect fixed): the race of partition_log_race with an empty log,
  which ml_partition_log drops: A's row is logged in the partitioned log.
- partition_log_empty_label_race (defect fixed): the same while A labels a row whose prediction is
  gone: the label is ignored (it failed with "could not open relation with OID n").
"""

import os
import sys
import threading
import time

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Reporter, one_line, start_cluster  # noqa: E402

MODEL = ('{"model": "linear_regression", "optimizer": "sgd", "scale": false, "scale_target": false, '
         '"check_divergence": false, "intercept_lr": 0}')

SETUP = """
CREATE EXTENSION IF NOT EXISTS amcheck;
SELECT ml_register('m', ml_fit_one('%s', '{"a": 1}'::jsonb, 50));
SELECT ml_deploy('m', 1);
CREATE TABLE t (id int PRIMARY KEY, a float8, p float8, y float8);
SELECT ml_attach('t', 'm', key => 'id', prediction => 'p', label => 'y');
""" % MODEL


def sqlstate(conn, sql, params=None):
    try:
        conn.execute(sql, params)
        return None
    except psycopg.Error as e:
        return e.sqlstate or one_line(e)


def indexes_ok(conn):
    """amcheck over every index of the log (and its partitions) and of the queue."""
    rows = conn.execute(
        "SELECT c.relname, bt_index_check(i.indexrelid, true) IS NOT NULL FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
        "WHERE c.relkind = 'i' AND (t.relname LIKE 'ml_prediction_log%' OR t.relname = 'ml_label_queue')").fetchall()
    return len(rows) > 0 and all(ok for _, ok in rows), [r for r, _ in rows]


def logged(conn, ids):
    """Per id of t: (log rows, inbox events of kind 1) of its predictions."""
    out = {}
    for i in ids:
        out[i] = conn.execute(
            "SELECT count(*), (SELECT count(*) FROM ml_monitor_inbox b JOIN ml_prediction_log l2 "
            "USING (prediction_id) WHERE l2.table_name = 't'::regclass AND l2.key = %s AND b.events = 1) "
            "FROM ml_prediction_log l WHERE l.table_name = 't'::regclass AND l.key = %s",
            (str(i), str(i))).fetchone()
    return out


def once(conn, ids):
    got = logged(conn, ids)
    return all(v == (1, 1) for v in got.values()), got


def in_thread(fn):
    """Runs fn() in a thread; returns (thread, result dict)."""
    res = {}

    def run():
        try:
            res["value"] = fn()
        except Exception as e:  # noqa: BLE001
            res["error"] = e

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th, res


def waiting(conn_b, pid, timeout=10):
    """Whether backend pid is waiting for a lock (polled from another connection)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if conn_b.execute("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                          (pid,)).fetchone()[0]:
            return True
        time.sleep(0.05)
    return False


def reindex(cluster, rep, a, b):
    a.execute("INSERT INTO t (id, a) VALUES (1, 1)")
    steps = [("REINDEX INDEX ml_prediction_log_pkey", 2),
             ("REINDEX INDEX CONCURRENTLY ml_prediction_log_pkey", 3),
             ("REINDEX TABLE CONCURRENTLY ml_prediction_log", 4),
             ("CREATE INDEX CONCURRENTLY rv_variant ON ml_prediction_log (variant, key)", 5),
             ("DROP INDEX CONCURRENTLY rv_variant", 6)]
    ids = [1]
    for sql, i in steps:
        b.execute(sql)
        a.execute("INSERT INTO t (id, a) VALUES (%s, %s)", (i, i))
        ids.append(i)
        ok, names = indexes_ok(b)
        rep.check("reindex_" + sql.split()[1].lower() + "_" + str(i), ok, "%s; indexes %s" % (sql, names))
    ok, got = once(b, ids)
    rep.check("reindex_logged_once", ok, str(got))


def ddl(cluster, rep, a, b):
    a.execute("INSERT INTO t (id, a) VALUES (10, 10)")
    b.execute("ALTER TABLE ml_prediction_log ADD CONSTRAINT rv_small CHECK (score < 1000)")
    st = sqlstate(a, "INSERT INTO t (id, a) VALUES (11, 1e6)")
    n = a.execute("SELECT count(*) FROM t WHERE id = 11").fetchone()[0]
    rep.check("ddl_check_added_elsewhere", st == "23514" and n == 0, "sqlstate %s, rows %d" % (st, n))
    b.execute("ALTER TABLE ml_prediction_log DROP CONSTRAINT rv_small")
    st = sqlstate(a, "INSERT INTO t (id, a) VALUES (11, 1e6)")
    rep.check("ddl_check_dropped_elsewhere", st is None, "sqlstate %s" % st)
    b.execute("ALTER TABLE ml_prediction_log SET (fillfactor = 70)")
    a.execute("INSERT INTO t (id, a) VALUES (12, 12)")
    b.execute("ALTER TABLE ml_prediction_log RESET (fillfactor)")
    b.execute("CREATE TABLE rv_audit (prediction_id bigint)")
    b.execute("CREATE FUNCTION rv_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
              "INSERT INTO public.rv_audit VALUES (NEW.prediction_id); RETURN NULL; END $$")
    b.execute("CREATE TRIGGER rv_audit AFTER INSERT ON ml_prediction_log FOR EACH ROW EXECUTE FUNCTION rv_audit()")
    a.execute("INSERT INTO t (id, a) VALUES (13, 13)")
    b.execute("DROP TRIGGER rv_audit ON ml_prediction_log")
    a.execute("INSERT INTO t (id, a) VALUES (14, 14)")
    audited = b.execute("SELECT l.key FROM rv_audit r JOIN ml_prediction_log l USING (prediction_id) "
                        "ORDER BY 1").fetchall()
    rep.check("ddl_trigger_added_elsewhere", audited == [("13",)], "audited keys %s (want only 13)" % audited)
    ok, got = once(b, [10, 11, 12, 13, 14])
    iok, names = indexes_ok(b)
    rep.check("ddl_logged_once", ok and iok, "%s; indexes ok %s" % (got, iok))


def queue(cluster, rep, a, b):
    a.execute("INSERT INTO t (id, a) VALUES (20, 1), (21, 2), (22, 3), (23, 4), (24, 5), (25, 6)")
    a.execute("UPDATE t SET y = 1 WHERE id = 20")  # (the checks planned in A)
    b.execute("ALTER TABLE ml_label_queue ADD CONSTRAINT rv_small_label CHECK (label < 100)")
    st = sqlstate(a, "UPDATE t SET y = 500 WHERE id = 21")
    lab = a.execute("SELECT count(*) FROM ml_prediction_log WHERE table_name = 't'::regclass AND key = '21' "
                    "AND label IS NOT NULL").fetchone()[0]
    rep.check("queue_check_added_elsewhere", st == "23514" and lab == 0, "sqlstate %s, labelled %d" % (st, lab))
    b.execute("ALTER TABLE ml_label_queue DROP CONSTRAINT rv_small_label")
    st = sqlstate(a, "UPDATE t SET y = 500 WHERE id = 21")
    rep.check("queue_check_dropped_elsewhere", st is None, "sqlstate %s" % st)
    # A CHECK replaced by another in one transaction (as many checks as before).
    b.execute("ALTER TABLE ml_label_queue ADD CONSTRAINT rv_small_label CHECK (label < 1000)")
    a.execute("UPDATE t SET y = 600 WHERE id = 24")
    b.execute("BEGIN")
    b.execute("ALTER TABLE ml_label_queue DROP CONSTRAINT rv_small_label")
    b.execute("ALTER TABLE ml_label_queue ADD CONSTRAINT rv_smaller_label CHECK (label < 10) NOT VALID")
    b.execute("COMMIT")
    st = sqlstate(a, "UPDATE t SET y = 500 WHERE id = 25")
    b.execute("ALTER TABLE ml_label_queue DROP CONSTRAINT rv_smaller_label")
    rep.check("queue_check_replaced_elsewhere", st == "23514", "sqlstate %s" % st)
    # A foreign key of the user's: the queue's model names must be listed in rv_names.
    b.execute("CREATE TABLE rv_names (name text PRIMARY KEY)")
    b.execute("ALTER TABLE ml_label_queue ADD CONSTRAINT rv_listed FOREIGN KEY (model_name) REFERENCES rv_names NOT VALID")
    st = sqlstate(a, "UPDATE t SET y = 3 WHERE id = 22")
    rep.check("queue_fk_added_elsewhere_refuses", st == "23503", "sqlstate %s" % st)
    b.execute("INSERT INTO rv_names VALUES ('m')")
    st = sqlstate(a, "UPDATE t SET y = 3 WHERE id = 22")
    b.execute("ALTER TABLE ml_label_queue DROP CONSTRAINT rv_listed")
    a.execute("UPDATE t SET y = 4 WHERE id = 23")
    q = b.execute("SELECT l.key, q.label FROM ml_label_queue q JOIN ml_prediction_log l USING (prediction_id) "
                  "WHERE l.key IN ('20', '21', '22', '23') ORDER BY l.key").fetchall()
    iok, _ = indexes_ok(b)
    rep.check("queue_fk_added_elsewhere_accepts", st is None and q == [("20", 1.0), ("21", 500.0), ("22", 3.0), ("23", 4.0)]
              and iok, "sqlstate %s; queued %s; indexes ok %s" % (st, q, iok))


def version_deleted(cluster, rep, a, b, level, want):
    short = "rc" if level == "READ COMMITTED" else "rr"
    name = "vd_" + short
    tbl = "t_" + name
    a.execute("SELECT ml_register(%s, ml_fit_one(%s, '{\"a\": 1}'::jsonb, 50))", (name, MODEL))
    a.execute("SELECT ml_deploy(%s, 1)", (name,))
    a.execute("CREATE TABLE %s (id int PRIMARY KEY, a float8, p float8, y float8)" % tbl)
    a.execute("SELECT ml_attach(%s, %s, key => 'id', prediction => 'p', label => 'y')", (tbl, name))
    a.execute("INSERT INTO %s (id, a) VALUES (1, 1), (2, 2)" % tbl)
    a.execute("UPDATE %s SET y = 1 WHERE id = 1" % tbl)  # (the direct label path warmed)
    a.execute("DELETE FROM ml_label_queue WHERE model_name = %s", (name,))
    # (version 2 deployed: version 1, which made the predictions, is deleted while labelled)
    a.execute("SELECT ml_register(%s, ml_fit_one(%s, '{\"a\": 1}'::jsonb, 50))", (name, MODEL))
    a.execute("SELECT ml_deploy(%s, 2)", (name,))
    pid = a.execute("SELECT pg_backend_pid()").fetchone()[0]
    b.execute("BEGIN")
    b.execute("DELETE FROM ml_deployments WHERE name = %s", (name,))  # (its history names version 1)
    b.execute("DELETE FROM ml_models WHERE name = %s AND version = 1", (name,))

    def label():
        a.execute("BEGIN ISOLATION LEVEL " + level)
        a.execute("SELECT 1")  # (the snapshot of REPEATABLE READ taken before B commits)
        try:
            a.execute("UPDATE %s SET y = 2 WHERE id = 2" % tbl)
            a.execute("COMMIT")
            return None
        except psycopg.Error as e:
            a.execute("ROLLBACK")
            return e.sqlstate

    th, res = in_thread(label)
    waited = waiting(b, pid)
    b.execute("COMMIT")
    th.join(30)
    st = res.get("value", res.get("error"))
    lab = b.execute("SELECT count(*) FROM ml_prediction_log l WHERE l.table_name = %s::regclass AND l.key = '2' "
                    "AND l.label IS NOT NULL", (tbl,)).fetchone()[0]
    q = b.execute("SELECT count(*) FROM ml_label_queue WHERE model_name = %s", (name,)).fetchone()[0]
    rep.check("version_deleted_" + short, waited and st == want and lab == 0 and q == 0,
              "waited %s; sqlstate %s (want %s); labelled %d, queued %d" % (waited, st, want, lab, q))
    a.execute("SELECT ml_detach(%s)", (tbl,))


def prepared(cluster, rep, a, b):
    a.execute("BEGIN")
    a.execute("INSERT INTO t (id, a) VALUES (30, 30)")
    a.execute("PREPARE TRANSACTION 'rv_p1'")
    a.execute("INSERT INTO t (id, a) VALUES (31, 31)")
    a.execute("BEGIN")
    a.execute("INSERT INTO t (id, a) VALUES (32, 32)")
    a.execute("PREPARE TRANSACTION 'rv_p2'")
    a.execute("INSERT INTO t (id, a) VALUES (33, 33)")
    b.execute("COMMIT PREPARED 'rv_p1'")
    b.execute("ROLLBACK PREPARED 'rv_p2'")
    a.execute("INSERT INTO t (id, a) VALUES (34, 34)")
    got = logged(b, [30, 31, 32, 33, 34])
    iok, _ = indexes_ok(b)
    rep.check("prepared_commit_and_rollback",
              got == {30: (1, 1), 31: (1, 1), 32: (0, 0), 33: (1, 1), 34: (1, 1)} and iok,
              "%s; indexes ok %s" % (got, iok))


def partition_log(cluster, rep, a, b):
    a.execute("INSERT INTO t (id, a) VALUES (40, 1)")
    pid = a.execute("SELECT pg_backend_pid()").fetchone()[0]
    b.execute("BEGIN")
    b.execute("SELECT ml_partition_log('1 day')")
    th, res = in_thread(lambda: a.execute("INSERT INTO t (id, a) VALUES (41, 2)"))
    waited = waiting(b, pid)
    b.execute("COMMIT")
    th.join(30)
    err = res.get("error")
    kinds = b.execute("SELECT c.relkind FROM pg_class c WHERE c.oid = 'ml_prediction_log'::regclass").fetchone()[0]
    ok, got = once(b, [40, 41])
    rep.check("partition_log_race", waited and err is None and kinds == "p" and ok,
              "waited %s; error %s; log relkind %s; %s" % (waited, one_line(err) if err else None, kinds, got))
    a.execute("INSERT INTO t (id, a) VALUES (42, 3)")
    a.execute("UPDATE t SET y = id WHERE id IN (40, 41, 42)")
    learned = a.execute("SELECT ml_learn_pending('m')").fetchone()[0]
    again = a.execute("SELECT ml_learn_pending('m')").fetchone()[0]
    ok, got = once(b, [40, 41, 42])
    labelled = b.execute("SELECT count(*) FROM ml_prediction_log WHERE table_name = 't'::regclass "
                         "AND key IN ('40', '41', '42') AND label IS NOT NULL").fetchone()[0]
    iok, names = indexes_ok(b)
    # (the labels of earlier steps still queued are learned too: at least the 3 of here)
    rep.check("partition_log_after", ok and labelled == 3 and learned >= 3 and again == 0 and iok,
              "%s; labelled %d; learned %s then %s; indexes ok %s" % (got, labelled, learned, again, iok))


def extension_again(cluster, rep, a, b):
    a.execute("INSERT INTO t (id, a) VALUES (50, 1)")
    b.execute("DROP EXTENSION pg_learn CASCADE")
    b.execute("CREATE EXTENSION pg_learn")
    b.execute("SELECT ml_register('m', ml_fit_one(%s, '{\"a\": 1}'::jsonb, 50))", (MODEL,))
    b.execute("SELECT ml_deploy('m', 1)")
    b.execute("SELECT ml_attach('t', 'm', key => 'id', prediction => 'p', label => 'y')")
    st = sqlstate(a, "INSERT INTO t (id, a) VALUES (51, 2)")
    a.execute("UPDATE t SET y = 5 WHERE id = 51")
    got = logged(b, [50, 51])
    q = b.execute("SELECT count(*) FROM ml_label_queue").fetchone()[0]
    iok, _ = indexes_ok(b)
    rep.check("extension_again", st is None and got == {50: (0, 0), 51: (1, 1)} and q == 1 and iok,
              "sqlstate %s; %s; queued %d; indexes ok %s" % (st, got, q, iok))
    # The same in A's own session, in one transaction with the next row logged.
    a.execute("BEGIN")
    a.execute("DROP EXTENSION pg_learn CASCADE")
    a.execute("CREATE EXTENSION pg_learn")
    a.execute("SELECT ml_register('m', ml_fit_one(%s, '{\"a\": 1}'::jsonb, 50))", (MODEL,))
    a.execute("SELECT ml_deploy('m', 1)")
    a.execute("SELECT ml_attach('t', 'm', key => 'id', prediction => 'p', label => 'y')")
    st = sqlstate(a, "INSERT INTO t (id, a) VALUES (52, 2)")
    a.execute("COMMIT")
    a.execute("INSERT INTO t (id, a) VALUES (53, 3)")
    got = logged(b, [51, 52, 53])
    iok, _ = indexes_ok(b)
    rep.check("extension_again_same_session", st is None and got == {51: (0, 0), 52: (1, 1), 53: (1, 1)} and iok,
              "sqlstate %s; %s; indexes ok %s" % (st, got, iok))


def add_column(cluster, rep, a, b):
    # (last on an unpartitioned log: a dropped column stays, and the writer then takes the SPI path)
    a.execute("INSERT INTO t (id, a) VALUES (55, 1)")
    b.execute("ALTER TABLE ml_prediction_log ADD COLUMN rv_note text DEFAULT 'noted'")
    a.execute("INSERT INTO t (id, a) VALUES (56, 2)")
    notes = b.execute("SELECT key, rv_note FROM ml_prediction_log WHERE table_name = 't'::regclass "
                      "AND key IN ('55', '56') ORDER BY key").fetchall()
    b.execute("ALTER TABLE ml_prediction_log DROP COLUMN rv_note")
    a.execute("INSERT INTO t (id, a) VALUES (57, 3)")
    a.execute("UPDATE t SET y = 7 WHERE id = 57")
    ok, got = once(b, [55, 56, 57])
    q = b.execute("SELECT count(*) FROM ml_label_queue q JOIN ml_prediction_log l USING (prediction_id) "
                  "WHERE l.key = '57' AND q.label = 7").fetchone()[0]
    iok, _ = indexes_ok(b)
    rep.check("add_column_elsewhere", ok and notes == [("55", "noted"), ("56", "noted")] and q == 1 and iok,
              "%s; notes %s; queued %d; indexes ok %s" % (got, notes, q, iok))


def empty_log_partitioned_while(a, b, statement):
    """Empties the log, then B runs ml_partition_log (which drops the empty log) in a transaction
    while A runs statement, which waits for B's lock; B commits. Returns (A waited, A's error)."""
    b.execute("DELETE FROM ml_monitor_inbox")
    b.execute("DELETE FROM ml_label_queue")
    b.execute("DELETE FROM ml_prediction_log")
    pid = a.execute("SELECT pg_backend_pid()").fetchone()[0]
    b.execute("BEGIN")
    b.execute("SELECT ml_partition_log('1 day')")
    th, res = in_thread(lambda: a.execute(statement))
    waited = waiting(b, pid)
    b.execute("COMMIT")
    th.join(30)
    return waited, res.get("error")


def partition_log_empty(cluster, rep, a, b):
    # (the extension made again: the log is not partitioned; emptied, ml_partition_log drops it)
    a.execute("INSERT INTO t (id, a) VALUES (60, 1)")
    waited, err = empty_log_partitioned_while(a, b, "INSERT INTO t (id, a) VALUES (61, 2)")
    ok, got = once(b, [61])
    rep.check("partition_log_empty_race", waited and err is None and ok,
              "waited %s; error %s; %s" % (waited, one_line(err) if err else None, got))


def partitioned_other_backend(cluster, rep, a, b):
    """A partitioned model scored in A (its compact forms made), learning in B (ml_learn, and a
    label of a sync attachment), scored again in A: as the partition's own model scores the row
    without its key, bit for bit (the partition's model read back from the JSON form)."""
    spec = '{"model": "partitioned", "by": "shop", "min_examples": 3, "base": {"model": "linear_regression"}}'
    a.execute("SELECT ml_register('pm', ml_fit(%s::ml_model, jsonb_build_object('shop', "
              "CASE WHEN i %% 2 = 0 THEN 'a' ELSE 'b' END, 'x', i %% 7, 'z', i %% 5), (i %% 11)::float8 ORDER BY i)) "
              "FROM generate_series(1, 40) i", (spec,))
    a.execute("SELECT ml_deploy('pm', 1)")
    row = "'{\"shop\": \"a\", \"x\": 2.5, \"z\": -1}'::jsonb"
    same = ("SELECT ml_predict('pm', %s) = ml_predict_one((SELECT (p -> 'model')::text::ml_model FROM "
            "jsonb_array_elements((ml_get('pm')::text::jsonb) -> 'state' -> 'partitions') p "
            "WHERE p -> 'path' = '[\"a\"]'), %s - 'shop'), ml_predict('pm', %s)" % (row, row, row))
    ok0, before = a.execute(same).fetchone()[:2]
    b.execute("SELECT ml_learn('pm', '{\"shop\": \"a\", \"x\": 1, \"z\": 1}'::jsonb, 100.0)")
    ok1, after_learn = a.execute(same).fetchone()[:2]
    b.execute("CREATE TABLE pm_t (id int PRIMARY KEY, shop text, x float8, z float8, p float8, y float8)")
    b.execute("SELECT ml_attach('pm_t', 'pm', key => 'id', prediction => 'p', label => 'y', mode => 'sync')")
    b.execute("INSERT INTO pm_t (id, shop, x, z) VALUES (1, 'a', 3, 3)")
    b.execute("UPDATE pm_t SET y = -50 WHERE id = 1")
    ok2, after_sync = a.execute(same).fetchone()[:2]
    rep.check("partitioned_other_backend", ok0 and ok1 and ok2 and before != after_learn != after_sync,
              "same as own model: %s %s %s; scores %r %r %r" % (ok0, ok1, ok2, before, after_learn, after_sync))


def partition_log_empty_label(cluster, rep, a, b):
    # (a new unpartitioned log, emptied: the label's prediction is gone, the label is ignored)
    b.execute("DROP EXTENSION pg_learn CASCADE")
    b.execute("CREATE EXTENSION pg_learn")
    b.execute("SELECT ml_register('m', ml_fit_one(%s, '{\"a\": 1}'::jsonb, 50))", (MODEL,))
    b.execute("SELECT ml_deploy('m', 1)")
    b.execute("SELECT ml_attach('t', 'm', key => 'id', prediction => 'p', label => 'y')")
    a.execute("INSERT INTO t (id, a) VALUES (70, 1), (71, 2)")
    a.execute("UPDATE t SET y = 1 WHERE id = 70")  # (the direct label path warmed in A)
    waited, err = empty_log_partitioned_while(a, b, "UPDATE t SET y = 2 WHERE id = 71")
    q = b.execute("SELECT count(*) FROM ml_label_queue").fetchone()[0]
    y = b.execute("SELECT y FROM t WHERE id = 71").fetchone()[0]
    rep.check("partition_log_empty_label_race", waited and err is None and q == 0 and y == 2,
              "waited %s; error %s; queued %d; y %s" % (waited, one_line(err) if err else None, q, y))


def main():
    rep = Reporter()
    cluster, conn = start_cluster(rep, settings={"max_prepared_transactions": "5"})
    try:
        conn.execute(SETUP)
        a = cluster.connect()
        b = cluster.connect()
        b.execute("SET lock_timeout = '60s'")
        steps = [("reindex", reindex), ("ddl", ddl), ("queue", queue),
                 ("version_deleted_rc", lambda c, r, a, b: version_deleted(c, r, a, b, "READ COMMITTED", "23503")),
                 ("version_deleted_rr", lambda c, r, a, b: version_deleted(c, r, a, b, "REPEATABLE READ", "40001")),
                 ("prepared", prepared), ("partitioned_other_backend", partitioned_other_backend),
                 ("partition_log", partition_log), ("extension_again", extension_again),
                 ("add_column", add_column), ("partition_log_empty", partition_log_empty),
                 ("partition_log_empty_label", partition_log_empty_label)]
        for name, fn in steps:
            try:
                fn(cluster, rep, a, b)
            except Exception as e:  # noqa: BLE001
                rep.fail(name, "error: " + one_line(e))
                for c in (a, b):
                    try:
                        c.execute("ROLLBACK")
                    except Exception:  # noqa: BLE001
                        pass
    finally:
        cluster.stop()
    rep.exit()


if __name__ == "__main__":
    main()
