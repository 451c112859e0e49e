"""Monitoring refreshed by pg_cron, for real, as a role that may only run the refresh.

A cluster with pg_cron preloaded (Debian's postgresql-15-cron; jobs in background workers). A
role `monitoring_job` with EXECUTE on ml_monitor_refresh and no right on any table schedules

    SELECT cron.schedule('pg_learn monitoring', '* * * * *', 'SELECT ml_monitor_refresh()');

then predictions and labels are logged, and the test waits (pg_cron 1.4 runs a job at most once
a minute) until a run has rolled them up: the inbox is empty, the windows hold every prediction
and label, and the refresh is recorded as run by monitoring_job.

Run as root with Debian's interpreter:
    PGL_PG_BIN=/opt/pgl/C/usr/lib/postgresql/15/bin PGL_TEST_PORT=5604 \
        /usr/bin/python3 test/integration/test_monitoring_cron.py
(PGL_TEST_DSN cannot be used: the server must preload pg_cron.)
"""

import os
import sys
import time

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Cluster, Reporter  # noqa: E402

SCHEDULE = "SELECT cron.schedule('pg_learn monitoring', '* * * * *', 'SELECT ml_monitor_refresh()')"


def main():
    rep = Reporter()
    if os.environ.get("PGL_TEST_DSN"):
        print("SKIP: needs its own cluster with pg_cron preloaded (unset PGL_TEST_DSN)")
        return
    cluster = Cluster(settings={"shared_preload_libraries": "pg_cron", "cron.database_name": "postgres",
                                "cron.use_background_workers": "on", "max_worker_processes": "16"})
    with cluster as conn:
        conn.execute("CREATE EXTENSION pg_cron")
        conn.execute("SELECT ml_register('cron_m', ml_fit_one('{\"model\": \"linear_regression\"}',"
                     " '{\"x\": 1}'::jsonb, 1))")
        conn.execute("SELECT ml_deploy('cron_m', 1)")
        conn.execute("CREATE ROLE monitoring_job LOGIN")
        conn.execute("GRANT USAGE ON SCHEMA cron TO monitoring_job")
        conn.execute("GRANT EXECUTE ON FUNCTION ml_monitor_refresh(bigint) TO monitoring_job")
        job_conn = psycopg.connect(host=cluster.dir, port=cluster.port, dbname="postgres",
                                   user="monitoring_job", autocommit=True)
        job = job_conn.execute(SCHEDULE).fetchone()[0]
        rep.check("monitoring_job cannot read the windows itself",
                  _denied(job_conn, "SELECT count(*) FROM ml_monitor_windows"))
        job_conn.close()

        conn.execute("INSERT INTO ml_prediction_log (model_name, version, variant, served, key, predicted_at,"
                     " score, features) SELECT 'cron_m', 1, 'production', true, i::text,"
                     " '2024-03-01 00:00:00+00'::timestamptz + i * interval '1 minute', i / 10.0,"
                     " jsonb_build_object('x', i) FROM generate_series(1, 600) i")
        conn.execute("UPDATE ml_prediction_log SET label = 1, labeled_at = predicted_at + interval '1 hour'"
                     " WHERE model_name = 'cron_m' AND key::int % 4 = 0")
        queued = conn.execute("SELECT count(*) FROM ml_monitor_inbox").fetchone()[0]
        rep.check("events queued", queued == 750, str(queued))

        # The inbox empties when the job's refresh commits; pg_cron records the run as succeeded
        # just after (a slow server, under the sanitizers, showed it still 'running'): both waited for.
        deadline = time.time() + 150
        runs = []
        while time.time() < deadline:
            runs = conn.execute("SELECT status, return_message FROM cron.job_run_details WHERE jobid = %s"
                                " ORDER BY runid", (job,)).fetchall()
            if (conn.execute("SELECT count(*) FROM ml_monitor_inbox").fetchone()[0] == 0
                    and any(s == "succeeded" for s, _ in runs)):
                break
            time.sleep(2)
        print("cron runs: %s" % runs)
        rep.check("a cron run succeeded", any(s == "succeeded" for s, _ in runs), str(runs))
        rep.check("the inbox was emptied by the job",
                  conn.execute("SELECT count(*) FROM ml_monitor_inbox").fetchone()[0] == 0)
        p, l = conn.execute("SELECT sum(predictions), sum(labels) FROM ml_monitor_windows"
                            " WHERE model_name = 'cron_m'").fetchone()
        rep.check("windows hold every prediction and label", (p, l) == (600, 150), "%s %s" % (p, l))
        by = conn.execute("SELECT refreshed_by FROM ml_monitor_state").fetchone()[0]
        rep.check("recorded as run by monitoring_job", by == "monitoring_job", str(by))
        n = conn.execute("SELECT count(*) FROM ml_model_metrics WHERE model = 'cron_m'").fetchone()[0]
        rep.check("ml_model_metrics shows the windows", n > 0, str(n))
        conn.execute("SELECT cron.unschedule(%s)", (job,))
        if rep.failed:
            print(cluster.server_log_tail())
    rep.exit()


def _denied(conn, sql):
    try:
        conn.execute(sql)
        return False
    except psycopg.errors.InsufficientPrivilege:
        return True


if __name__ == "__main__":
    main()
