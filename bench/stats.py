"""pg_learn benchmarks for the statistics and metric aggregates (issue 3).

Run through `bash bench/run stats` (as root): a throwaway PostgreSQL 15 cluster run as the
postgres user, a table of BENCH_STATS_ROWS rows (default 10,000,000), and one line per figure
(bench/benchlib.py: medians of alternating runs; name, baseline ms, ours ms, ratio, target).

Data: s(id, x float8, score float8, label bool). x is skewed (lognormal: exp of a Box-Muller
normal), as feature values and amounts usually are; score is a classifier-like score rounded
to 3 decimals, so it has many ties (AUC with ties is the hard case); label is true for ~30%.

Figures (the issue's targets):
- ml_stats(x) vs count(x), avg(x), stddev(x), min(x), max(x): at most 1.5x, while also building
  the quantile sketch;
- median and p99 from ml_stats vs percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP: at least 5x
  faster (ratio <= 0.2);
- the same vs the tdigest extension's tdigest_percentile(x, 100, ...): no slower (ratio <= 1),
  and a rank error no larger: both estimates' true ranks are counted exactly for seven
  quantiles and the largest |rank - q| of each is printed;
- ml_auc(score, label) vs the AUC in plain SQL with window functions (Mann-Whitney with average
  ranks for ties): at least 3x faster (ratio <= 0.33); both values are checked to agree;
- parallel ml_stats and ml_auc: 2 workers vs none (speed-up printed, no target).
Queries run without parallel workers unless a figure says otherwise.
"""

import os

from benchlib import (PARALLEL_OFF, PARALLEL_ON, PORT, RUNS, SETTINGS, Cluster, Table, compare, log,
                      run_main, session, workers_launched)

ROWS = int(os.environ.get("BENCH_STATS_ROWS", "10000000"))
QS = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]


def build_data(conn):
    log("building %d rows" % ROWS)
    conn.execute("DROP TABLE IF EXISTS s")
    conn.execute("""
        CREATE TABLE s AS
        SELECT i AS id,
               exp(sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS x,
               round((0.35 * lab::int + 0.65 * random())::numeric, 3)::float8 AS score,
               lab AS label
        FROM generate_series(1, %d) AS i, LATERAL (SELECT random() < 0.3 AS lab WHERE i > 0) l
    """ % ROWS)
    conn.execute("VACUUM ANALYZE s")
    size = conn.execute("SELECT pg_size_pretty(pg_relation_size('s'))").fetchone()[0]
    log("table s: %s" % size)


def rank_errors(conn, estimates):
    """Largest |true rank - q| over QS for each list of estimates (one exact scan for all)."""
    cols = []
    for est in estimates:
        for v in est:
            cols.append("count(*) FILTER (WHERE x < %r)" % float(v))
            cols.append("count(*) FILTER (WHERE x <= %r)" % float(v))
    row = conn.execute("SELECT count(*), %s FROM s" % ", ".join(cols)).fetchone()
    n, counts = row[0], row[1:]
    out = []
    for j, est in enumerate(estimates):
        worst = 0.0
        for i, q in enumerate(QS):
            lo = counts[2 * (j * len(QS) + i)] / n
            hi = counts[2 * (j * len(QS) + i) + 1] / n
            worst = max(worst, 0.0 if lo <= q <= hi else min(abs(q - lo), abs(q - hi)))
        out.append(worst)
    return out


def main():
    with Cluster(port=PORT, settings=dict(SETTINGS)) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS tdigest")
        session(conn, "%d rows, median of %d runs" % (ROWS, RUNS))
        build_data(conn)
        tab = Table()

        # 1. ml_stats vs the built-in moments
        b, o = compare(conn, "SELECT count(x), avg(x), stddev(x), min(x), max(x) FROM s",
                       "SELECT ml_count(st), ml_mean(st), ml_stddev(st), ml_min(st), ml_max(st) "
                       "FROM (SELECT ml_stats(x) AS st FROM s) t")
        tab.add("ml_stats vs count/avg/stddev/..", b, o, 1.5)

        # 2. median and p99: ml_stats vs percentile_cont
        ours_q = "SELECT ml_quantiles(ml_stats(x), ARRAY[0.5, 0.99]) FROM s"
        b, o = compare(conn, "SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY x) FROM s",
                       ours_q)
        tab.add("p50+p99 vs percentile_cont", b, o, 0.2)

        # 3. the same vs tdigest, and the rank errors of both
        b, o = compare(conn, "SELECT tdigest_percentile(x, 100, ARRAY[0.5, 0.99]) FROM s", ours_q)
        arr = "ARRAY[%s]" % ", ".join(repr(q) for q in QS)
        ours_est = conn.execute("SELECT ml_quantiles(ml_stats(x), %s) FROM s" % arr).fetchone()[0]
        td_est = conn.execute("SELECT tdigest_percentile(x, 100, %s) FROM s" % arr).fetchone()[0]
        e_ours, e_td = rank_errors(conn, [ours_est, td_est])
        tab.add("p50+p99 vs tdigest(100)", b, o, 1.0,
                "max rank error over %d quantiles: ours %.5f, tdigest %.5f%s" % (
                    len(QS), e_ours, e_td, "" if e_ours <= e_td else " -- ours LARGER"))

        # 4. ml_auc vs AUC in plain SQL with window functions
        sql_auc = """
            SELECT (sum(r) FILTER (WHERE label) - np * (np + 1) / 2.0::float8) / (np * nn)::float8
            FROM (SELECT label,
                         rank() OVER (ORDER BY score)
                           + (count(*) OVER (PARTITION BY score) - 1) / 2.0::float8 AS r
                  FROM s) t,
                 (SELECT count(*) FILTER (WHERE label) AS np, count(*) FILTER (WHERE NOT label) AS nn
                  FROM s) c
            GROUP BY np, nn"""
        ours_auc = "SELECT ml_auc(score, label) FROM s"
        a_sql = conn.execute(sql_auc).fetchone()[0]
        a_ours = conn.execute(ours_auc).fetchone()[0]
        if abs(a_sql - a_ours) > 1e-9:
            raise RuntimeError("ml_auc %r and the SQL AUC %r disagree" % (a_ours, a_sql))
        b, o = compare(conn, sql_auc, ours_auc)
        tab.add("ml_auc vs window-function SQL", b, o, 1 / 3, "AUC %.6f both" % a_ours)

        # 5. parallel: 2 workers vs none
        for name, q in (("ml_stats", "SELECT ml_stats(x) IS NOT NULL FROM s"),
                        ("ml_auc", ours_auc)):
            for st in PARALLEL_ON:
                conn.execute(st)
            log("%s parallel plan: %s" % (name, workers_launched(conn, q)))
            sb, po = compare(conn, q, q, before=PARALLEL_OFF, before_ours=PARALLEL_ON[:1])
            conn.execute(PARALLEL_OFF[0])
            tab.add("%s parallel 2w vs serial" % name, sb, po, None,
                    "speed-up %.2fx, %d CPUs" % (sb / po, os.cpu_count() or 0))
        tab.summary()


if __name__ == "__main__":
    run_main(main)
