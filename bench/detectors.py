"""pg_learn benchmark for the drift detectors (issue 13, "Speed").

Run through `bash bench/run detectors` (as root): a throwaway PostgreSQL 15 cluster run as the
postgres user, a table of BENCH_DETECTOR_ROWS rows (default 1,000,000) of 0/1 errors whose error
rate changes every 100,000 rows, and one line per figure (bench/benchlib.py: medians of
alternating runs; name, baseline ms, ours ms, ratio, target).

Figures:
- ADWIN over the errors as an aggregate, ml_detector_run('adwin', err), vs avg(err) over the same
  column (the issue's target: at most 2x); the table is scanned in its physical order, which is
  the order the rows were written (a stream's order);
- the same as window functions over ORDER BY id: ml_drift_detector('adwin', err) OVER w vs
  avg(err) OVER w (the same plan for both: the sort or the index scan is shared cost); no target;
- Page-Hinkley, DDM and KSWIN as aggregates vs avg() (no target, for comparison).
Queries run without parallel workers (the detectors never run in parallel).
"""

import os

from benchlib import PORT, RUNS, SETTINGS, Cluster, Table, compare, run_main, session

ROWS = int(os.environ.get("BENCH_DETECTOR_ROWS", "1000000"))


def main():
    with Cluster(port=PORT, settings=dict(SETTINGS)) as conn:
        session(conn, "%d rows, median of %d runs" % (ROWS, RUNS))
        conn.execute("DROP TABLE IF EXISTS e")
        conn.execute("""
            CREATE TABLE e AS
            SELECT i AS id, (random() < 0.1 + 0.2 * ((i / 100000) %% 2))::int::float8 AS err
            FROM generate_series(1, %d) AS i""" % ROWS)
        conn.execute("ALTER TABLE e ADD PRIMARY KEY (id)")
        conn.execute("VACUUM ANALYZE e")
        tab = Table()

        b, o = compare(conn, "SELECT avg(err) FROM e",
                       "SELECT ml_detector_info(ml_detector_run('adwin', err)) -> 'detections' FROM e")
        found = conn.execute(
            "SELECT ml_detector_info(ml_detector_run('adwin', err ORDER BY id)) ->> 'detections' FROM e").fetchone()[0]
        tab.add("adwin aggregate vs avg()", b, o, 2.0, "%s changes found, %d true" % (found, ROWS // 100000 - 1))

        w = "WINDOW w AS (ORDER BY id ROWS UNBOUNDED PRECEDING)"
        b, o = compare(conn, "SELECT count(*) FILTER (WHERE a > 0.2) FROM (SELECT avg(err) OVER w AS a FROM e %s) s" % w,
                       "SELECT count(*) FILTER (WHERE c) FROM (SELECT ml_drift_detector('adwin', err) OVER w AS c FROM e %s) s" % w)
        tab.add("adwin window vs avg() window", b, o, None)

        for kind in ("page_hinkley", "ddm", "kswin"):
            b, o = compare(conn, "SELECT avg(err) FROM e",
                           "SELECT ml_detector_info(ml_detector_run('%s', err)) -> 'detections' FROM e" % kind)
            tab.add("%s aggregate vs avg()" % kind, b, o, None)
        tab.summary()


if __name__ == "__main__":
    run_main(main)
