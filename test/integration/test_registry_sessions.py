"""The model registry seen from several sessions at once (docs/registry.md, "What a transaction
sees", "The cache", "ml_learn and concurrency").

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/test_registry_sessions.py
(a throwaway cluster is started as postgres; see common.py for PGL_TEST_DSN, PGL_PG_BIN etc.).

The models are linear regressions that have learned nothing, with intercept_init = k: version k
scores every example as k, so a score names the version that made it.

- deploy_*: a deploy committed in one session is what another session's next statement scores
  with (autocommit, inside a READ COMMITTED transaction, and at the next transaction in
  REPEATABLE READ), even when that session has the old version cached; an uncommitted,
  rolled-back or savepoint-rolled-back deploy changes nothing.
- cache_*: a new session decodes a model once however many statements use it, and once more
  per new version deployed.
- stale_*: one session deploys versions 1..V in turn (each its own transaction) while four
  sessions score continuously: every statement scores with a version no older than the last
  deploy committed before it started, and agrees with ml_predict_one(ml_get(...)) in the same
  statement (same snapshot); other sessions meanwhile learn in place (ml_learn), so the cache
  also has to follow row versions that change under one version number.
- learn_*: 8 sessions call ml_learn on one model (some calls in transactions that roll back,
  while a ninth session moves production between two versions): n_seen of each version grew
  by exactly the committed calls that returned that version.
- register_*: 8 sessions register versions of one name concurrently (some registrations rolled
  back): the versions are 1..N, without gaps or duplicates, each returned to exactly one
  committed call.
"""

import os
import sys
import threading
import time

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Reporter, one_line, run_threads, start_cluster  # noqa: E402

X = "'{\"a\": 1}'::jsonb"


def spec_for(k):
    # 0.1.0's options (plain SGD, nothing scaled): learning a label near k leaves the score near
    # k. (With a standardised label, a learner whose label came from the version before a
    # deploy, ml_learn taking the latest committed version, would move the score to that label.)
    return ('{"model": "linear_regression", "intercept_init": %d, "optimizer": "sgd", "scale": false, '
            '"scale_target": false, "check_divergence": false}' % k)


def register_constant_versions(conn, name, n):
    """Registers versions 1..n of name, version k scoring k."""
    for k in range(1, n + 1):
        v = conn.execute("SELECT ml_register(%s, %s::ml_model)", (name, spec_for(k))).fetchone()[0]
        if v != k:
            raise RuntimeError("ml_register returned %r, expected %d" % (v, k))


def score(conn, name="m", alias="production"):
    return conn.execute("SELECT ml_predict(%%s, %s, %%s)" % X, (name, alias)).fetchone()[0]


def deploy_visibility(cluster, rep):
    admin = cluster.connect()
    a = cluster.connect()    # deploys
    b = cluster.connect()    # scores
    register_constant_versions(admin, "m", 3)
    admin.execute("SELECT ml_deploy('m', 1)")
    rep.check("deploy_initial", score(b) == 1, "score %r" % score(b))

    # an uncommitted deploy is invisible to others; its commit is seen by their next statement
    with a.transaction():
        a.execute("SELECT ml_deploy('m', 2)")
        own = score(a)
        other = score(b)
    after = score(b)
    rep.check("deploy_uncommitted_invisible", other == 1 and own == 2,
              "other session %r (want 1), deploying session %r (want 2)" % (other, own))
    rep.check("deploy_committed_next_statement", after == 2, "score %r (want 2)" % after)

    # a rolled-back deploy changes nothing
    a.execute("BEGIN")
    a.execute("SELECT ml_deploy('m', 3)")
    a.execute("ROLLBACK")
    s_b, s_a = score(b), score(a)
    rep.check("deploy_rollback_changes_nothing", s_b == 2 and s_a == 2,
              "scores %r, %r (want 2, 2)" % (s_b, s_a))

    # a deploy rolled back to a savepoint changes nothing, a later one in the same transaction
    # does once committed
    a.execute("BEGIN")
    a.execute("SAVEPOINT s")
    a.execute("SELECT ml_deploy('m', 3)")
    in_sp = score(a)
    a.execute("ROLLBACK TO SAVEPOINT s")
    after_sp = score(a)
    a.execute("SELECT ml_deploy('m', 1)")
    a.execute("COMMIT")
    s_b = score(b)
    rep.check("deploy_savepoint_rollback", in_sp == 3 and after_sp == 2 and s_b == 1,
              "inside savepoint %r (3), after rollback to it %r (2), after commit %r (1)"
              % (in_sp, after_sp, s_b))

    # inside a READ COMMITTED transaction, the next statement sees a deploy committed meanwhile
    b.execute("BEGIN")
    first = score(b)
    a.execute("SELECT ml_deploy('m', 2)")
    second = score(b)
    b.execute("COMMIT")
    rep.check("deploy_read_committed_next_statement", (first, second) == (1, 2),
              "scores %r then %r (want 1 then 2)" % (first, second))

    # in REPEATABLE READ, at the next transaction
    b.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    first = score(b)
    a.execute("SELECT ml_deploy('m', 3)")
    second = score(b)
    b.execute("COMMIT")
    third = score(b)
    rep.check("deploy_repeatable_read_next_transaction", (first, second, third) == (2, 2, 3),
              "scores %r, %r, then %r in a new transaction (want 2, 2, 3)" % (first, second, third))

    # ml_rollback and ml_undeploy are deploys too
    a.execute("SELECT ml_rollback('m')")
    s1 = score(b)
    a.execute("SELECT ml_undeploy('m')")
    try:
        score(b)
        undeployed = "scored"
    except psycopg.errors.UndefinedObject:
        undeployed = "42704"
    a.execute("SELECT ml_rollback('m')")
    s2 = score(b)
    rep.check("deploy_rollback_undeploy_seen", (s1, undeployed, s2) == (2, "42704", 2),
              "after rollback %r (2), after undeploy %s (42704), after its rollback %r (2)"
              % (s1, undeployed, s2))
    for c in (admin, a, b):
        c.close()


def cache_decodes(cluster, rep):
    admin = cluster.connect()
    register_constant_versions(admin, "c", 2)
    admin.execute("SELECT ml_deploy('c', 1)")
    s = cluster.connect()
    cache = s.execute("SELECT ml_registry_cache()").fetchone()[0]
    fresh = cache["decodes"] == 0
    for _ in range(50):
        score(s, "c")
    s.execute("SELECT sum(ml_predict('c', ARRAY[i::float8])) FROM generate_series(1, 1000) i")
    d1 = s.execute("SELECT ml_registry_cache()").fetchone()[0]["decodes"]
    admin.execute("SELECT ml_deploy('c', 2)")
    for _ in range(50):
        score(s, "c")
    d2 = s.execute("SELECT ml_registry_cache()").fetchone()[0]["decodes"]
    rep.check("cache_one_decode_per_version", fresh and d1 == 1 and d2 == 2,
              "decodes: new session %d, after 51 statements %d (want 1), after a deploy and 50 "
              "more %d (want 2)" % (cache["decodes"], d1, d2))
    s.close()
    admin.close()


def stale_reads(cluster, rep):
    V = 40
    admin = cluster.connect()
    register_constant_versions(admin, "s", V)
    admin.execute("SELECT ml_deploy('s', 1)")
    state = {"committed": 1, "done": False}
    lock = threading.Lock()

    def deployer():
        c = cluster.connect()
        for k in range(2, V + 1):
            time.sleep(0.02)
            c.execute("SELECT ml_deploy('s', %s)", (k,))
            with lock:
                state["committed"] = k
        time.sleep(0.05)
        state["done"] = True
        c.close()
        return V - 1

    def reader():
        c = cluster.connect()
        c.execute("SELECT ml_predict('s', %s)" % X)
        n = bad_order = bad_match = 0
        detail = ""
        while not state["done"]:
            with lock:
                floor = state["committed"]
            p, ref = c.execute(
                "SELECT ml_predict('s', %s), ml_predict_one(ml_get('s'), %s)" % (X, X)).fetchone()
            n += 1
            # the score is k + what k has learned (tiny: see learner), so round to the version
            if round(p) < floor:
                bad_order += 1
                detail = detail or "scored with %r after version %d was committed" % (p, floor)
            if p != ref:
                bad_match += 1
                detail = detail or "ml_predict %r vs ml_predict_one(ml_get) %r" % (p, ref)
        c.close()
        return n, bad_order, bad_match, detail

    def learner():
        c = cluster.connect()
        n = 0
        while not state["done"]:
            # a label equal to the intercept keeps the score near k (the update is ~0.01 * x)
            c.execute("SELECT ml_learn('s', '{\"a\": 0.001}'::jsonb, ml_predict('s', %s))" % X)
            n += 1
        c.close()
        return n

    def role(kind):
        return {"deployer": deployer, "reader": reader, "learner": learner}[kind]()

    res = run_threads(role, [("deployer",)] + [("reader",)] * 4 + [("learner",)] * 2)
    reads = [r for r in res[1:5]]
    n = sum(r[0] for r in reads)
    bad_order = sum(r[1] for r in reads)
    bad_match = sum(r[2] for r in reads)
    detail = "; ".join(r[3] for r in reads if r[3])
    final = score(admin, "s")
    rep.check("stale_never_after_commit", bad_order == 0 and n > 100 and round(final) == V,
              "%d statements in 4 sessions during %d deploys (%d learns): %d scored with a version "
              "older than the last committed deploy %s" % (n, V - 1, res[5] + res[6], bad_order,
                                                             detail))
    rep.check("stale_matches_same_snapshot", bad_match == 0,
              "%d of %d statements disagreed with ml_predict_one(ml_get(...)) %s"
              % (bad_match, n, detail))
    admin.close()


def concurrent_learn(cluster, rep):
    S, CALLS = 8, 250
    admin = cluster.connect()
    register_constant_versions(admin, "l", 2)
    admin.execute("SELECT ml_deploy('l', 1)")
    stop = threading.Event()

    def learner(i):
        c = cluster.connect()
        committed = {}
        for j in range(CALLS):
            x = '{"a": %g, "b": %g}' % ((i + 1) * 0.01, j * 0.001)
            if j % 10 == 3:                   # a call whose transaction rolls back
                c.execute("BEGIN")
                c.execute("SELECT ml_learn('l', %s::jsonb, 1.0)", (x,))
                c.execute("ROLLBACK")
                continue
            v = c.execute("SELECT ml_learn('l', %s::jsonb, 1.0)", (x,)).fetchone()[0]
            committed[v] = committed.get(v, 0) + 1
        c.close()
        return committed

    def mover():
        c = cluster.connect()
        k = 0
        while not stop.is_set():
            k += 1
            c.execute("SELECT ml_deploy('l', %s)", (2 if k % 2 else 1,))
            time.sleep(0.01)
        c.close()
        return k

    results = {}
    finished = []

    def role(i):
        if i == S:
            return mover()
        r = learner(i)
        finished.append(i)
        if len(finished) == S:
            stop.set()
        return r

    res = run_threads(role, [(i,) for i in range(S + 1)])
    for r in res[:S]:
        for v, n in r.items():
            results[v] = results.get(v, 0) + n
    seen = dict(admin.execute(
        "SELECT version, (ml_info(model)->>'n_seen')::bigint FROM ml_models WHERE name = 'l'"
    ).fetchall())
    total = S * (CALLS - CALLS // 10)
    ok = (seen.get(1, 0) == results.get(1, 0) and seen.get(2, 0) == results.get(2, 0)
          and sum(results.values()) == total)
    rep.check("learn_n_seen_exact", ok,
              "%d sessions x %d calls (%d committed, %d rolled back), %d deploys meanwhile: "
              "committed calls per version %s, n_seen per version %s"
              % (S, CALLS, total, S * CALLS - total, res[S], dict(sorted(results.items())),
                 dict(sorted(seen.items()))))
    admin.close()


def concurrent_register(cluster, rep):
    S, CALLS = 8, 40

    def registrar(i):
        c = cluster.connect()
        got = []
        for j in range(CALLS):
            if j % 8 == 5:                    # a registration that rolls back
                c.execute("BEGIN")
                c.execute("SELECT ml_register('r', %s::ml_model)", (spec_for(i),))
                c.execute("ROLLBACK")
                continue
            got.append(c.execute("SELECT ml_register('r', %s::ml_model, notes => %s)",
                                 (spec_for(i), "s%d.%d" % (i, j))).fetchone()[0])
        c.close()
        return got

    res = run_threads(registrar, [(i,) for i in range(S)])
    got = sorted(v for r in res for v in r)
    n = len(got)
    stored = [r[0] for r in cluster.conn.execute(
        "SELECT version FROM ml_versions('r') ORDER BY version")]
    latest = cluster.conn.execute(
        "SELECT latest_version FROM ml_model_names WHERE name = 'r'").fetchone()[0]
    per_session_increasing = all(r == sorted(r) for r in res)
    ok = (got == list(range(1, n + 1)) and stored == got and latest == n
          and per_session_increasing)
    rep.check("register_gapless", ok,
              "%d committed registrations in %d sessions: returned %s..%s (%d distinct), stored "
              "%d versions, latest_version %r, each session's versions increasing: %s"
              % (n, S, got[0] if got else None, got[-1] if got else None, len(set(got)),
                 len(stored), latest, per_session_increasing))
    # every committed registration's note is on the version it was given
    notes = dict(cluster.conn.execute(
        "SELECT version, notes FROM ml_models WHERE name = 'r'").fetchall())
    rep.check("register_versions_belong_to_callers",
              len(set(notes.values())) == n and all(notes.get(v) for v in got),
              "%d distinct notes for %d versions" % (len(set(notes.values())), n))


def main():
    rep = Reporter()
    cluster, _ = start_cluster(rep)
    try:
        for name, fn in (("deploy", deploy_visibility), ("cache", cache_decodes),
                         ("stale", stale_reads), ("learn", concurrent_learn),
                         ("register", concurrent_register)):
            t0 = time.perf_counter()
            try:
                fn(cluster, rep)
            except Exception as e:  # noqa: BLE001
                rep.fail(name, "error: " + one_line(e))
            print("# %s: %.1fs" % (name, time.perf_counter() - t0), flush=True)
    finally:
        cluster.stop()
    rep.exit()


if __name__ == "__main__":
    main()
