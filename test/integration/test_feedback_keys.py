"""The label queue's foreign keys while a label is being given (issue 12 item 7, docs/feedback.md
"Cost"): the labelling statement checks ml_label_queue's two foreign keys itself, without their
RI triggers' queries, and must hold what those checks held until its transaction ends.

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_feedback_keys.py
(a throwaway cluster is started as postgres; see common.py for PGL_TEST_DSN, PGL_PG_BIN etc.).

- version_row_locked: while a transaction that gave a label is open, deleting the version's row
  of ml_models in another session waits for it (FOR KEY SHARE, as the RI check's query locks
  it): with lock_timeout, 55P03, where without the lock the delete would go on (and a queued
  label could end up naming a version that no longer exists);
- log_row_locked: the same for the labelled prediction's row of the log;
- after_commit_*: once committed, the queue row is there, and deleting the version or the
  prediction is refused by the foreign keys (23503), as before;
- rr_*: the same label given in REPEATABLE READ queues it once.
"""

import os
import sys

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Cluster, Reporter  # noqa: E402

SETUP = """
CREATE TABLE ev (id int PRIMARY KEY, f1 float8, f2 float8, p float8, y float8);
SELECT ml_register('k', ml_fit('{"model": "linear_regression"}',
                               jsonb_build_object('f1', i, 'f2', -i), i::float8 ORDER BY i))
FROM generate_series(1, 20) i;
SELECT ml_deploy('k', 1);
SELECT ml_attach('ev', 'k', key => 'id', prediction => 'p', label => 'y', features => ARRAY['f1', 'f2']);
INSERT INTO ev (id, f1, f2) SELECT i, i, -i FROM generate_series(1, 10) i;
"""


def sqlstate(conn, sql):
    try:
        conn.execute(sql)
        return None
    except psycopg.Error as e:
        return e.sqlstate


def main():
    rep = Reporter()
    with Cluster() as conn:
        conn.execute(SETUP)
        a = psycopg.connect(conn.info.dsn, autocommit=True)
        b = psycopg.connect(conn.info.dsn, autocommit=True)
        b.execute("SET lock_timeout = '300ms'")
        pid = conn.execute("SELECT prediction_id FROM ml_prediction_log WHERE key = '1'").fetchone()[0]

        a.execute("BEGIN")
        a.execute("UPDATE ev SET y = 1 WHERE id = 1")
        queued = a.execute("SELECT count(*) FROM ml_label_queue").fetchone()[0]
        rep.check("label_queued_in_transaction", queued == 1, "%d queued" % queued)
        st = sqlstate(b, "DELETE FROM ml_models WHERE name = 'k' AND version = 1")
        rep.check("version_row_locked", st == "55P03", "delete of the version: %s" % st)
        st = sqlstate(b, "DELETE FROM ml_prediction_log WHERE prediction_id = %d" % pid)
        rep.check("log_row_locked", st == "55P03", "delete of the prediction: %s" % st)
        a.execute("COMMIT")

        queued = conn.execute("SELECT count(*) FROM ml_label_queue WHERE prediction_id = %d" % pid).fetchone()[0]
        rep.check("after_commit_queued", queued == 1, "%d queued" % queued)
        st = sqlstate(b, "DELETE FROM ml_models WHERE name = 'k' AND version = 1")
        rep.check("after_commit_version_kept", st == "23503", "delete of the version: %s" % st)
        st = sqlstate(b, "DELETE FROM ml_prediction_log WHERE prediction_id = %d" % pid)
        rep.check("after_commit_prediction_kept", st == "23503", "delete of the prediction: %s" % st)

        # REPEATABLE READ: the label is given and queued once
        conn.execute("INSERT INTO ev (id, f1, f2) VALUES (100, 3, -3)")
        a.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        a.execute("UPDATE ev SET y = 2 WHERE id = 100")
        a.execute("COMMIT")
        n = conn.execute("SELECT count(*) FROM ml_label_queue q JOIN ml_prediction_log l USING (prediction_id) "
                         "WHERE l.key = '100' AND q.label = 2 AND l.label = 2").fetchone()[0]
        rep.check("rr_label_queued_once", n == 1, "%d queued" % n)
        a.close()
        b.close()
    rep.exit()


if __name__ == "__main__":
    main()
