"""Exactly-once label feedback under concurrency (docs/feedback.md): 8 writers insert and label
100,000 rows while learners run ml_learn_pending and the deployed versions change.

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_feedback_concurrency.py
(a throwaway cluster is started as postgres; see common.py for PGL_TEST_DSN, PGL_PG_BIN etc.).
FEEDBACK_ROWS changes the number of committed rows (default 100,000; a multiple of 8 * 250).

Three attached tables, one per way a label arrives:
- ev (model fb_u, linear regression): the label is an UPDATE of the row's label column, queued;
- ord (model fb_t, logistic regression): the label is a row inserted into ord_labels, queued;
- sy (model fb_s, linear regression, mode 'sync'): an UPDATE of the label column, learned at the
  commit of the labelling transaction.
Each of the 8 writers (3 for ev, 3 for ord, 2 for sy) inserts batches of 250 rows and labels
them later (the previous batch, in its own transaction), or at once (in the inserting
transaction), or row by row; one batch in 7 is inserted and labelled in a transaction that
rolls back; one row in 50 is never labelled. Version 3 of fb_t is a challenger serving 30% of
ord's keys (by key hash), version 3 of fb_u a shadow scoring every row of ev. Meanwhile three
learners run ml_learn_pending (all models, or one model; one of them also in transactions it
rolls back) and a ninth session moves production between versions 1 and 2 of the three models,
so predictions (and the labels joined to them) come from several versions. After the writers
end, ml_learn_pending is run until the queue is empty.

Checks:
- no_errors: no session got an error (deadlock_timeout is 100ms, so a deadlock would show).
- log_*: one served prediction logged per committed row, none for rolled-back rows; the logged
  score is the row's prediction column, the logged features are the row's feature columns, the
  variant is the one the key's hash routes to (version 3 exactly for the canary); the shadow
  logged one unserved prediction of every row of ev, with the same features.
- labels_logged_once: every committed label is on its served prediction's log row (same
  value), once, and on the shadow's prediction of the same row; unlabelled and rolled-back rows
  have no label.
- queue_empty, all_learned: nothing queued; every labelled log row has learned_at.
- examples_seen_exact: for each model and version (champions, canary, shadow), n_seen grew by
  exactly the number of labels logged against that version; ml_learn_pending's results add up
  to the labels of the queued tables.
- learners_did_work: the concurrent learners applied labels while the writers ran.
- sync_opposite_order_no_deadlock: two transactions labelling disjoint rows of a sync-mode
  table, whose predictions come from versions 1 and 2 in opposite orders, both commit (sync
  labellers are learners too, and learners must not deadlock).
"""

import os
import sys
import threading
import time

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Reporter, one_line, run_threads, start_cluster  # noqa: E402

ROWS = int(os.environ.get("FEEDBACK_ROWS", "100000"))
WRITERS = 8
BATCH = 250
BATCHES = ROWS // (WRITERS * BATCH)       # committed batches per writer
ROLLBACK_EVERY = 7                        # batch k with k % 7 == 6 rolls back

SETUP = """
CREATE TABLE ev (id bigint PRIMARY KEY, writer int NOT NULL, f1 float8, f2 float8, f3 float8,
                 p float8, y float8);
CREATE TABLE sy (LIKE ev);
ALTER TABLE sy ADD PRIMARY KEY (id);
CREATE TABLE ord (id bigint PRIMARY KEY, writer int NOT NULL, a float8, b float8, p float8);
CREATE TABLE ord_labels (order_id bigint PRIMARY KEY, label float8 NOT NULL);
SELECT ml_register('fb_u', '{"model": "linear_regression"}'),
       ml_register('fb_u', '{"model": "linear_regression", "intercept_init": 1}');
SELECT ml_register('fb_t', '{"model": "logistic_regression"}'),
       ml_register('fb_t', '{"model": "logistic_regression", "optimizer": "adagrad"}');
SELECT ml_register('fb_s', '{"model": "linear_regression"}'),
       ml_register('fb_s', '{"model": "linear_regression", "intercept_init": -1}');
SELECT ml_deploy('fb_u', 1), ml_deploy('fb_t', 1), ml_deploy('fb_s', 1);
-- version 3 of fb_t serves 30% of the keys (by hash); version 3 of fb_u shadows every row
SELECT ml_register('fb_t', '{"model": "logistic_regression", "l2": 0.01}'),
       ml_register('fb_u', '{"model": "linear_regression", "optimizer": "adagrad"}');
SELECT ml_deploy('fb_t', 3, 'canary'), ml_deploy('fb_u', 3, 'shadow');
SELECT ml_rollout('fb_t', 'canary', 'challenger', 0.3), ml_rollout('fb_u', 'shadow', 'shadow');
SELECT ml_attach('sy', 'fb_s', key => 'id', prediction => 'p', label => 'y',
                 features => ARRAY['f1', 'f2', 'f3'], mode => 'sync');
SELECT ml_attach('ev', 'fb_u', key => 'id', prediction => 'p', label => 'y',
                 features => ARRAY['f1', 'f2', 'f3']);
SELECT ml_attach('ord', 'fb_t', key => 'id', prediction => 'p', features => ARRAY['a', 'b'],
                 label_table => 'ord_labels', label_key => 'order_id', label_value => 'label');
"""

INSERT = {
    "ev": "INSERT INTO ev (id, writer, f1, f2, f3) SELECT g, %(w)s, sin(g), cos(g * 0.7), "
          "((g %% 13) - 6) / 6.0 FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) g",
    "ord": "INSERT INTO ord (id, writer, a, b) SELECT g, %(w)s, sin(g * 1.3), cos(g * 0.3) "
           "FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) g",
}
LABEL = {
    "ev": "UPDATE ev SET y = 1.5 * f1 - 2 * f2 + 0.5 * f3 + 0.3 "
          "WHERE id BETWEEN %(lo)s AND %(hi)s AND id %% 50 <> 7",
    "ord": "INSERT INTO ord_labels SELECT id, (a + b > 0.1)::int FROM ord "
           "WHERE id BETWEEN %(lo)s AND %(hi)s AND id %% 50 <> 7",
}
LABEL_ONE = {
    "ev": "UPDATE ev SET y = 1.5 * f1 - 2 * f2 + 0.5 * f3 + 0.3 WHERE id = %(id)s",
    "ord": "INSERT INTO ord_labels SELECT id, (a + b > 0.1)::int FROM ord WHERE id = %(id)s",
}
for d in (INSERT, LABEL, LABEL_ONE):           # sy is shaped and labelled as ev
    d["sy"] = d["ev"].replace("ev", "sy")


def writer(cluster, w, progress):
    """Inserts and labels this writer's batches; returns (errors, rolled-back id ranges)."""
    table = ("ev", "ord", "sy")[w % 3]
    c = cluster.connect()
    errors, rolled = [], []
    pending = None                         # the previous batch, labelled late
    base = (w + 1) * 10_000_000
    k = committed = 0
    while committed < BATCHES:
        lo = base + k * BATCH
        hi = lo + BATCH - 1
        r = {"w": w, "lo": lo, "hi": hi}
        try:
            if k % ROLLBACK_EVERY == ROLLBACK_EVERY - 1:
                with c.transaction():
                    c.execute(INSERT[table], r)
                    c.execute(LABEL[table], r)
                    raise psycopg.Rollback()
                rolled.append((lo, hi))
            elif k % 5 == 2:                 # the label arrives in the inserting transaction
                with c.transaction():
                    c.execute(INSERT[table], r)
                    c.execute(LABEL[table], r)
                committed += 1
            else:
                c.execute(INSERT[table], r)
                committed += 1
                if pending is not None:
                    if k % 7 == 3:             # row by row, each its own transaction
                        for i in range(pending["lo"], pending["hi"] + 1):
                            if i % 50 != 7:
                                c.execute(LABEL_ONE[table], {"id": i})
                    else:
                        c.execute(LABEL[table], pending)
                pending = r
        except psycopg.Error as e:
            errors.append("writer %d: %s" % (w, one_line(e)))
            c.close()
            c = cluster.connect()
        k += 1
        progress[w] = committed
    if pending is not None:
        try:
            c.execute(LABEL[table], pending)
        except psycopg.Error as e:
            errors.append("writer %d: %s" % (w, one_line(e)))
    c.close()
    return errors, rolled


def learner(cluster, j, stop):
    """Runs ml_learn_pending until told to stop; returns (errors, labels applied, calls)."""
    c = cluster.connect()
    errors, applied, calls = [], 0, 0
    sql = ["SELECT ml_learn_pending(NULL, 500)", "SELECT ml_learn_pending('fb_u', 1000)",
           "SELECT ml_learn_pending('fb_t', 300)"][j]
    while not stop.is_set():
        try:
            if j == 0 and calls % 4 == 1:        # learns, then rolls back: changes nothing
                with c.transaction():
                    c.execute(sql)
                    raise psycopg.Rollback()
            else:
                n = c.execute(sql).fetchone()[0]
                applied += n
                if n == 0:
                    time.sleep(0.05)
        except psycopg.Error as e:
            errors.append("learner %d: %s" % (j, one_line(e)))
            time.sleep(0.05)
        calls += 1
    c.close()
    return errors, applied, calls


def deployer(cluster, stop):
    c = cluster.connect()
    errors, n = [], 0
    while not stop.wait(1.5):
        n += 1
        v = 2 if n % 2 else 1
        try:
            c.execute("SELECT ml_deploy('fb_u', %s), ml_deploy('fb_t', %s), ml_deploy('fb_s', %s)",
                      (v, v, v))
        except psycopg.Error as e:
            errors.append("deployer: %s" % one_line(e))
    c.close()
    return errors, n


def n_seen(conn):
    return {(r[0], r[1]): r[2] for r in conn.execute(
        "SELECT name, version, (ml_info(model)->>'n_seen')::bigint FROM ml_models "
        "WHERE name IN ('fb_u', 'fb_t', 'fb_s')")}


def run(cluster, rep):
    conn = cluster.conn
    conn.execute(SETUP)
    seen0 = n_seen(conn)
    progress = [0] * WRITERS
    stop_learners = threading.Event()
    stop_deployer = threading.Event()
    writers_left = [WRITERS]
    lock = threading.Lock()

    def role(kind, i):
        if kind == "writer":
            try:
                return writer(cluster, i, progress)
            finally:
                with lock:
                    writers_left[0] -= 1
                    if writers_left[0] == 0:
                        stop_learners.set()
                        stop_deployer.set()
        if kind == "learner":
            return learner(cluster, i, stop_learners)
        return deployer(cluster, stop_deployer)

    t0 = time.perf_counter()
    res = run_threads(role, [("writer", i) for i in range(WRITERS)]
                      + [("learner", j) for j in range(3)] + [("deployer", 0)])
    t_run = time.perf_counter() - t0
    errors = [e for r in res for e in r[0]]
    rolled = [rg for r in res[:WRITERS] for rg in r[1]]
    concurrent_applied = sum(r[1] for r in res[WRITERS:WRITERS + 3])
    deploys = res[-1][1]

    # drain what is left
    t1 = time.perf_counter()
    drained = 0
    for _ in range(10000):
        drained += conn.execute("SELECT ml_learn_pending()").fetchone()[0]
        if conn.execute("SELECT ml_pending_labels()").fetchone()[0] == 0:
            break
    t_drain = time.perf_counter() - t1

    rep.check("no_errors", not errors, "%d errors%s" % (len(errors), (": " + "; ".join(
        sorted(set(errors))[:5])) if errors else ""))

    # every committed row of the three tables, with its features and label, by (table, key)
    conn.execute("""
        CREATE TEMP VIEW committed_rows AS
        SELECT 'ev'::regclass AS t, id::text AS k, 'fb_u' AS model, p, y,
               jsonb_build_object('f1', f1, 'f2', f2, 'f3', f3) AS f FROM ev
        UNION ALL
        SELECT 'sy'::regclass, id::text, 'fb_s', p, y,
               jsonb_build_object('f1', f1, 'f2', f2, 'f3', f3) FROM sy
        UNION ALL
        SELECT 'ord'::regclass, id::text, 'fb_t', p, ol.label,
               jsonb_build_object('a', a, 'b', b)
        FROM ord LEFT JOIN ord_labels ol ON ol.order_id = ord.id""")
    committed = conn.execute("SELECT count(*) FROM committed_rows").fetchone()[0]
    served, dup, shadows = conn.execute("""
        SELECT count(*) FILTER (WHERE served), count(*) FILTER (WHERE served) - count(DISTINCT
               (table_name, key)) FILTER (WHERE served), count(*) FILTER (WHERE NOT served)
        FROM ml_prediction_log""").fetchone()
    ev_rows = conn.execute("SELECT count(*) FROM ev").fetchone()[0]
    rep.check("log_one_prediction_per_row",
              committed == ROWS and served == committed and dup == 0 and shadows == ev_rows,
              "%d committed rows (want %d), %d served predictions logged (%d keys twice), %d "
              "shadow predictions (want one per row of ev: %d)"
              % (committed, ROWS, served, dup, shadows, ev_rows))
    in_rolled = 0
    for lo, hi in rolled:
        in_rolled += conn.execute(
            "SELECT count(*) FROM ml_prediction_log WHERE key::bigint BETWEEN %s AND %s",
            (lo, hi)).fetchone()[0]
    rep.check("log_nothing_from_rolled_back", in_rolled == 0 and len(rolled) > 0,
              "%d rolled-back batches, %d logged predictions from them" % (len(rolled), in_rolled))
    bad = dict(conn.execute("""
        SELECT r.t::text, count(*) FROM committed_rows r
        JOIN ml_prediction_log l ON l.table_name = r.t AND l.key = r.k AND l.served
        WHERE l.score IS DISTINCT FROM r.p OR l.features <> r.f OR l.model_name <> r.model
           OR l.variant <> CASE WHEN r.model = 'fb_t' AND ml_route_fraction('fb_t', r.k) < 0.3
                                THEN 'canary' ELSE 'production' END
           OR (l.variant = 'canary') <> (l.version = 3)
        GROUP BY 1""").fetchall())
    canary = conn.execute("SELECT count(*) FROM ml_prediction_log WHERE variant = 'canary'"
                          ).fetchone()[0]
    ord_rows = conn.execute("SELECT count(*) FROM ord").fetchone()[0]
    rep.check("log_score_features_variant_as_row",
              not bad and abs(canary / max(ord_rows, 1) - 0.3) < 0.02,
              "served predictions disagreeing with their row (score, features, model, variant by "
              "key hash): %s; the canary served %d of ord's %d keys (want about 30%%)"
              % (bad or "none", canary, ord_rows))
    bad_shadow = conn.execute("""
        SELECT count(*) FROM ml_prediction_log l
        LEFT JOIN committed_rows r ON r.t = l.table_name AND r.k = l.key
        WHERE NOT l.served AND (r.t IS DISTINCT FROM 'ev'::regclass OR l.features <> r.f
                                OR l.variant <> 'shadow' OR l.version <> 3)""").fetchone()[0]
    rep.check("log_shadow_scores_every_row", bad_shadow == 0,
              "%d shadow predictions not of ev's rows, with other features, or another variant "
              "or version" % bad_shadow)

    labels_in_tables = conn.execute(
        "SELECT count(y) FROM committed_rows").fetchone()[0]
    labelled_served, labelled_shadow = conn.execute(
        "SELECT count(label) FILTER (WHERE served), count(label) FILTER (WHERE NOT served) "
        "FROM ml_prediction_log").fetchone()
    labelled_log = labelled_served + labelled_shadow
    ev_labels = conn.execute("SELECT count(y) FROM ev").fetchone()[0]
    mismatched = conn.execute("""
        SELECT count(*) FROM committed_rows r
        JOIN ml_prediction_log l ON l.table_name = r.t AND l.key = r.k
        WHERE l.label IS DISTINCT FROM r.y""").fetchone()[0]
    want_labels = ROWS - ROWS // 50
    rep.check("labels_logged_once",
              labels_in_tables == labelled_served == want_labels
              and labelled_shadow == ev_labels and mismatched == 0,
              "labels in the tables %d (want %d), on served predictions %d, on shadow "
              "predictions %d (want ev's %d), log rows whose label differs from the row's %d"
              % (labels_in_tables, want_labels, labelled_served, labelled_shadow, ev_labels,
                 mismatched))

    queued = conn.execute("SELECT count(*) FROM ml_label_queue").fetchone()[0]
    pending = conn.execute("SELECT ml_pending_labels()").fetchone()[0]
    rep.check("queue_empty", queued == 0 and pending == 0,
              "ml_label_queue rows %d, ml_pending_labels() %d" % (queued, pending))
    unlearned = conn.execute("SELECT count(*) FROM ml_prediction_log "
                             "WHERE label IS NOT NULL AND learned_at IS NULL").fetchone()[0]
    learned_unlabelled = conn.execute("SELECT count(*) FROM ml_prediction_log "
                                      "WHERE label IS NULL AND learned_at IS NOT NULL"
                                      ).fetchone()[0]
    rep.check("all_learned", unlearned == 0 and learned_unlabelled == 0,
              "labelled but not learned %d, learned without a label %d"
              % (unlearned, learned_unlabelled))

    seen1 = n_seen(conn)
    per_version = {(r[0], r[1]): r[2] for r in conn.execute(
        "SELECT model_name, version, count(*) FROM ml_prediction_log WHERE label IS NOT NULL "
        "GROUP BY 1, 2")}
    deltas = {k: seen1[k] - seen0.get(k, 0) for k in seen1}
    ok = all(deltas.get(k, 0) == per_version.get(k, 0) for k in set(deltas) | set(per_version))
    applied = concurrent_applied + drained
    queued_labels = labelled_log - sum(v for k, v in per_version.items() if k[0] == "fb_s")
    rep.check("examples_seen_exact",
              ok and sum(deltas.values()) == labelled_log and applied == queued_labels,
              "n_seen grew by %s; labels logged per version %s; ml_learn_pending returned %d "
              "(labels of the queued tables: %d) in all (%d concurrently, %d when draining); "
              "%d deploys meanwhile"
              % (dict(sorted(deltas.items())), dict(sorted(per_version.items())), applied,
                 queued_labels, concurrent_applied, drained, deploys))
    rep.check("learners_did_work", concurrent_applied > 0 and len(per_version) == 8,
              "%d labels applied while writing; %d model versions got labels"
              % (concurrent_applied, len(per_version)))
    print("# %d rows written and labelled in %.1fs by %d writers (3 learners, %d deploys); "
          "%d labels left to drain, drained in %.1fs"
          % (committed, t_run, WRITERS, deploys, drained, t_drain), flush=True)


def sync_opposite_order(cluster, rep):
    """Two transactions label disjoint rows of a sync-mode table, predicted by versions 1 and 2,
    in opposite orders (A: a version-1 row, then a version-2 row; B: the reverse). Labelling
    disjoint rows must not deadlock: "concurrent learners do not deadlock". (Sync labels are
    learned at commit, the versions locked in (name, version) order; labelling locked each
    version as its row was labelled, and A and B deadlocked.)"""
    conn = cluster.conn
    conn.execute("""
        CREATE TABLE sx (id bigint PRIMARY KEY, f1 float8, p float8, y float8);
        SELECT ml_register('fb_x', '{"model": "linear_regression"}'),
               ml_register('fb_x', '{"model": "linear_regression"}');
        SELECT ml_deploy('fb_x', 1);
        SELECT ml_attach('sx', 'fb_x', key => 'id', prediction => 'p', label => 'y',
                         features => ARRAY['f1'], mode => 'sync');
        INSERT INTO sx (id, f1) VALUES (1, 0.1), (2, 0.2);
        SELECT ml_deploy('fb_x', 2);
        INSERT INTO sx (id, f1) VALUES (3, 0.3), (4, 0.4);""")
    a, b = cluster.connect(), cluster.connect()
    out = {}
    try:
        a.execute("BEGIN")
        b.execute("BEGIN")
        a.execute("UPDATE sx SET y = 1 WHERE id = 1")          # version 1
        b.execute("UPDATE sx SET y = 1 WHERE id = 3")          # version 2

        def second_a():
            try:
                a.execute("UPDATE sx SET y = 1 WHERE id = 4")  # version 2 (B labelled one)
                a.execute("COMMIT")
                out["a"] = "committed"
            except psycopg.Error as e:
                out["a"] = one_line(e)[:120]

        t = threading.Thread(target=second_a, daemon=True)
        t.start()
        time.sleep(0.3)                                          # A has committed, or waits
        try:
            b.execute("UPDATE sx SET y = 1 WHERE id = 2")      # version 1 (A labelled one)
            b.execute("COMMIT")
            out["b"] = "committed"
        except psycopg.Error as e:
            out["b"] = one_line(e)[:120]
            b.execute("ROLLBACK")
        t.join(30)
    finally:
        a.close()
        b.close()
    seen = conn.execute("SELECT sum((ml_info(model)->>'n_seen')::bigint) FROM ml_models "
                        "WHERE name = 'fb_x'").fetchone()[0]
    rep.check("sync_opposite_order_no_deadlock",
              out.get("a") == "committed" and out.get("b") == "committed" and seen == 4,
              "A: %s; B: %s; n_seen of both versions %s (want 4)"
              % (out.get("a"), out.get("b"), seen))


def main():
    rep = Reporter()
    cluster, _ = start_cluster(rep, settings={"deadlock_timeout": "100ms", "max_connections": "50"})
    try:
        for name, fn in (("feedback_concurrency", run), ("sync_opposite_order", sync_opposite_order)):
            try:
                fn(cluster, rep)
            except Exception as e:  # noqa: BLE001
                rep.fail(name, "error: " + one_line(e))
    finally:
        cluster.stop()
    rep.exit()


if __name__ == "__main__":
    main()
