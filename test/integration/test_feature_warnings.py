"""Feature-mismatch warnings do not flood (docs/features.md, "Strictness").

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_feature_warnings.py
(a throwaway cluster is started as postgres; see common.py for PGL_TEST_DSN, PGL_PG_BIN etc.).

- per_statement: one statement scoring 1,000 mismatched rows gives its client 4 warnings (the
  1st, 10th, 100th and 1000th mismatched prediction), each saying which one it is.
- per_client: 20 single-row statements (as an application inserting one row at a time into a
  table whose trigger scores it) give the client one warning each...
- server_log: ...but the server's log gets one warning of the backend per minute: 1 line for all
  of the above, not 24.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Reporter, one_line, start_cluster  # noqa: E402

MESSAGE = 'feature "MONTH" is unknown to the model'


def main():
    rep = Reporter()
    cluster, conn = start_cluster(rep, settings={"log_min_messages": "warning"})
    try:
        notices = []
        conn.add_notice_handler(lambda d: notices.append((d.severity, d.message_primary or "")))
        conn.execute("SET pg_learn.unknown_features = 'warn'")
        conn.execute("""CREATE TABLE m AS SELECT ml_fit('{"model": "logistic_regression"}',
                            jsonb_build_object('month', (ARRAY['jan', 'feb'])[1 + i % 2], 'x', i % 7), i % 2 = 0) AS m
                        FROM generate_series(1, 100) i""")
        conn.execute("""SELECT count(ml_predict_one((SELECT m FROM m), jsonb_build_object('MONTH', 'jan', 'x', i)))
                        FROM generate_series(1, 1000) i""")
        got = [msg for sev, msg in notices if sev == "WARNING"]
        ordinals = [re.match(r"the (\d+)th prediction", msg) for msg in got]
        rep.check("per_statement", len(got) == 4 and got[0] == MESSAGE and
                  [int(o.group(1)) for o in ordinals[1:] if o] == [10, 100, 1000],
                  "%d warnings: %s" % (len(got), got))

        notices.clear()
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, \"MONTH\" text, x float8, y boolean, p float8)")
        conn.execute("SELECT ml_register('fw', (SELECT m FROM m))")
        conn.execute("SELECT ml_deploy('fw', 1)")
        conn.execute("SELECT ml_attach('orders', 'fw', key => 'id', prediction => 'p', label => 'y')")
        for i in range(20):
            conn.execute("INSERT INTO orders (id, \"MONTH\", x) VALUES (%s, 'jan', 1)", (i,))
        got = [msg for sev, msg in notices if sev == "WARNING"]
        logged = conn.execute("SELECT count(*), sum(unknown_features) FROM ml_prediction_log").fetchone()
        rep.check("per_client", len(got) == 20 and all(m == MESSAGE for m in got) and tuple(logged) == (20, 20),
                  "%d warnings to the client; log rows and unknown features counted: %s" % (len(got), tuple(logged)))

        time.sleep(0.5)  # let the logger write
        log = cluster.server_log_tail(100000)
        lines = [line for line in log.splitlines() if "WARNING" in line and "unknown to the model" in line]
        rep.check("server_log", len(lines) == 1,
                  "%d warnings in the server log for 24 sent to the client: %s" % (len(lines), lines[:3]))
    except Exception as e:  # noqa: BLE001
        rep.fail("feature_warnings", "error: " + one_line(e))
    finally:
        cluster.stop()
    rep.exit()


if __name__ == "__main__":
    main()
