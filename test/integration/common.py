"""Shared helpers for the integration tests and the benchmarks.

A throwaway PostgreSQL 15 cluster run as the postgres OS user (the server refuses to run as
root), or an existing server when PGL_TEST_DSN is set:

    with Cluster() as conn:          # psycopg 3 connection, autocommit, pg_learn created
        conn.execute("SELECT 1")

Environment:
    PGL_TEST_DSN      use this server instead of starting one (CREATE EXTENSION IF NOT EXISTS)
    PGL_TEST_PGDATA   scratch directory for the cluster (data/ and the unix socket go in it);
                      default: a fresh mkdtemp owned by postgres, removed at the end
    PGL_TEST_PORT     port of the throwaway cluster (default 5480)
    PGL_PG_BIN        PostgreSQL binaries (default /usr/lib/postgresql/15/bin); point it at a
                      private installation while developing, e.g.
                      PGL_PG_BIN=/opt/pgl/NAME/usr/lib/postgresql/15/bin
    PGL_KEEP_CLUSTER  set: keep the throwaway cluster's directory (server.log) at the end

Run as root with Debian's interpreter: /usr/bin/python3 test/integration/X.py
"""

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import psycopg

PG_BIN = os.environ.get("PGL_PG_BIN", "/usr/lib/postgresql/15/bin")


def _as_postgres(args, **kw):
    """Runs a command as the postgres OS user (directly when we already are postgres)."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--"] + list(args)
    kw.setdefault("cwd", "/")  # the clone may be in a directory postgres cannot enter (/root)
    return subprocess.run(args, check=True, **kw)


class Cluster:
    """A throwaway cluster (or PGL_TEST_DSN's server) with pg_learn created.

    Use as a context manager; it yields an autocommit psycopg connection and stops (and, when it
    made the directory, removes) the cluster on exit. `settings` are extra server settings
    (name -> value) passed with -c at start. `bin` is the PostgreSQL binaries' directory (default
    PG_BIN); with create_extension=False the caller creates the extension (e.g. an older VERSION).
    """

    def __init__(self, port=None, pgdata=None, settings=None, dbname="postgres", bin=None,
                 create_extension=True):
        self.dsn = os.environ.get("PGL_TEST_DSN")
        self.bin = bin or PG_BIN
        self.create_extension = create_extension
        self.port = int(port or os.environ.get("PGL_TEST_PORT", "5480"))
        self.dir = pgdata or os.environ.get("PGL_TEST_PGDATA")
        self.settings = dict(settings or {})
        self.dbname = dbname
        self._made_dir = False
        self._started = False
        self.conn = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self):
        if self.dsn:
            self.conn = psycopg.connect(self.dsn, autocommit=True)
        else:
            self._start_server()
            self.conn = self.connect()
        if self.create_extension:
            self.conn.execute("CREATE EXTENSION IF NOT EXISTS pg_learn")
        return self.conn

    def connect(self, **kw):
        """A new connection to the same server (autocommit)."""
        if self.dsn:
            return psycopg.connect(self.dsn, autocommit=True, **kw)
        return psycopg.connect(host=self.dir, port=self.port, dbname=self.dbname,
                               user="postgres", autocommit=True, **kw)

    def _start_server(self):
        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix="pg_learn.test.")
            self._made_dir = True
        os.makedirs(self.dir, exist_ok=True)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.dir, 0o700)
        data = os.path.join(self.dir, "data")
        if not os.path.exists(os.path.join(data, "PG_VERSION")):
            _as_postgres([os.path.join(self.bin, "initdb"), "-D", data, "--encoding=UTF8",
                          "--locale=C.UTF-8", "--auth=trust"],
                         stdout=subprocess.DEVNULL)
        opts = "-p %d -k %s -c listen_addresses=''" % (self.port, self.dir)
        for name, value in self.settings.items():
            opts += " -c %s=%s" % (name, value)
        # pg_ctl's messages (e.g. "another server might be running" after a crash, about the
        # stale lock file) are shown only when the start fails
        try:
            _as_postgres([os.path.join(self.bin, "pg_ctl"), "-D", data, "-l",
                          os.path.join(self.dir, "server.log"), "-w", "-o", opts, "start"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        except subprocess.CalledProcessError as e:
            raise RuntimeError("pg_ctl start failed: %s; server log: %s"
                               % (" ".join((e.stderr or "").split()),
                                  " | ".join(self.server_log_tail(5).splitlines()))) from None
        self._started = True

    def stop(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
            self.conn = None
        if self._started:
            data = os.path.join(self.dir, "data")
            try:
                _as_postgres([os.path.join(self.bin, "pg_ctl"), "-D", data, "-m", "fast", "-w",
                              "stop"], stdout=subprocess.DEVNULL)
            except subprocess.CalledProcessError as e:
                print("warning: pg_ctl stop failed: %s" % e, file=sys.stderr)
            self._started = False
        if self._made_dir and os.environ.get("PGL_KEEP_CLUSTER") is None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self._made_dir = False

    # -- crashes (throwaway clusters only) -----------------------------------------------------
    def postmaster_pid(self):
        with open(os.path.join(self.dir, "data", "postmaster.pid")) as f:
            return int(f.readline())

    def _children(self, pid):
        kids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    stat = f.read()
            except OSError:
                continue
            # the command may contain spaces and parentheses: the ppid follows the last ')'
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                kids.append(int(d))
        return kids

    def kill_server(self):
        """SIGKILLs the postmaster and then every process it started (as a power cut would stop
        them: no shutdown, no checkpoint, nothing more written), and waits until they are gone.
        The connections of this object are dead afterwards; restart() brings the server back
        through crash recovery."""
        if self.dsn:
            raise RuntimeError("kill_server needs a throwaway cluster (PGL_TEST_DSN is set)")
        pm = self.postmaster_pid()
        # stopped first, the postmaster forks nothing while its children are listed and killed
        # (each child is its own session leader: there is no process group to signal)
        os.kill(pm, signal.SIGSTOP)
        kids = self._children(pm)
        os.kill(pm, signal.SIGKILL)
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
        # gone means reaped: the server's lock-file check takes a zombie for a live postmaster
        deadline = time.monotonic() + 60
        for p in [pm] + kids:
            while os.path.exists("/proc/%d" % p):
                if time.monotonic() > deadline:
                    raise RuntimeError("process %d still exists 60s after SIGKILL" % p)
                time.sleep(0.02)
        self.conn = None
        self._started = False
        return pm

    def restart(self):
        """Starts the server again (after kill_server: crash recovery) and reconnects."""
        self._start_server()
        self.conn = self.connect()
        return self.conn

    def wait_ready(self, timeout=60):
        """Waits until the server accepts connections (e.g. after a backend crashed and the
        postmaster reinitialized); returns a new connection."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                c = self.connect()
                c.execute("SELECT 1")
                return c
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def server_log_tail(self, n=40):
        if self.dsn or self.dir is None:
            return ""
        try:
            with open(os.path.join(self.dir, "server.log")) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
        return False


class Reporter:
    """Collects PASS/FAIL lines; exit() returns non-zero when anything failed."""

    def __init__(self):
        self.failed = 0
        self.passed = 0

    def check(self, name, ok, detail=""):
        line = "%s %s%s" % ("PASS" if ok else "FAIL", name, (" " + detail) if detail else "")
        print(line, flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok

    def fail(self, name, detail=""):
        return self.check(name, False, detail)

    def exit(self):
        sys.exit(1 if self.failed else 0)


def run_threads(target, args_list):
    """Runs target(*args) in one thread per entry of args_list, started together (a barrier
    releases them at once); returns their results in order, or raises the first exception a
    thread raised (after all have ended)."""
    n = len(args_list)
    barrier = threading.Barrier(n)
    results = [None] * n
    errors = [None] * n

    def run(i, args):
        try:
            barrier.wait()
            results[i] = target(*args)
        except BaseException as e:  # noqa: BLE001  (re-raised in the caller's thread)
            errors[i] = e
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i, a), daemon=True)
               for i, a in enumerate(args_list)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in errors:
        if e is not None and not isinstance(e, threading.BrokenBarrierError):
            raise e
    for e in errors:
        if e is not None:
            raise e
    return results


def one_line(e):
    """An exception as one line: its type and message."""
    return "%s: %s" % (type(e).__name__, " ".join(str(e).split()))


def copy_rows(conn, table, columns, rows):
    """COPY rows (sequences of Python values) into table(columns)."""
    with conn.cursor() as cur:
        with cur.copy("COPY %s (%s) FROM STDIN" % (table, ", ".join(columns))) as cp:
            for r in rows:
                cp.write_row(r)


def run_example(conn, example, dbname):
    """Runs examples/<example>.sql with psql (ON_ERROR_STOP) in a new database `dbname` of conn's
    server, as the postgres OS user; returns the CompletedProcess (stdout, stderr, returncode).
    The file goes through stdin, read here: psql runs as postgres, which may not read a clone
    under a directory only root can read (/root); cwd "/" for the same reason."""
    conn.execute("CREATE DATABASE %s" % dbname)
    cmd = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
           "-h", conn.info.host, "-p", str(conn.info.port), "-U", "postgres", "-d", dbname]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "examples", example + ".sql")) as f:
        script = f.read()
    return subprocess.run(cmd, input=script, capture_output=True, text=True, cwd="/")


def start_cluster(rep, **kw):
    """A started Cluster(**kw) and its connection; when it cannot start, one FAIL cluster_start
    line (the error as one line) and the script's exit."""
    cluster = Cluster(**kw)
    try:
        return cluster, cluster.start()
    except Exception as e:  # noqa: BLE001
        rep.fail("cluster_start", one_line(e))
        cluster.stop()
        rep.exit()


def run_checks(rep, checks, *args):
    """Runs each (name, fn) of checks as fn(*args); an exception is one FAIL name line (the error
    as one line), and the next check runs."""
    for name, fn in checks:
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001
            rep.fail(name, "error: " + one_line(e))


def fresh_table(conn, name, columns, rows):
    """Table name made again with columns ("name type", as in CREATE TABLE; the names are COPY's
    columns), rows COPYed in, then ANALYZEd."""
    conn.execute("DROP TABLE IF EXISTS %s" % name)
    conn.execute("CREATE TABLE %s (%s)" % (name, ", ".join(columns)))
    copy_rows(conn, name, [c.split()[0] for c in columns], rows)
    conn.execute("ANALYZE %s" % name)


def load_xy(conn, name, X, y=None, first_id=0, label=float, label_type="float8"):
    """Table name (id int PRIMARY KEY, x float8[], y label_type): the rows of X with ids from
    first_id, y as label(y[i]) (NULL without y)."""
    fresh_table(conn, name, ["id int PRIMARY KEY", "x float8[]", "y " + label_type],
                [(first_id + i, [float(v) for v in r], None if y is None else label(y[i])) for i, r in enumerate(X)])


def load_split(conn, name, X, y, stratify, label=float, label_type="float8"):
    """scikit-learn's train_test_split(test_size=0.25, random_state=0) of X, y: the tables
    name_train and name_test of load_xy (ids from 0); returns Xtr, Xte, ytr, yte."""
    from sklearn.model_selection import train_test_split
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=stratify)
    load_xy(conn, name + "_train", Xtr, ytr, label=label, label_type=label_type)
    load_xy(conn, name + "_test", Xte, yte, label=label, label_type=label_type)
    return Xtr, Xte, ytr, yte


def fit_into(conn, name, spec, source, x="x", y="y"):
    """Table name made again with one row: m, ml_fit(spec, x, y ORDER BY id) over source's rows;
    returns the seconds it took."""
    t0 = time.time()
    conn.execute("DROP TABLE IF EXISTS %s" % name)
    conn.execute("CREATE TABLE %s AS SELECT ml_fit(%%s::ml_model, %s, %s ORDER BY id) AS m FROM %s"
                 % (name, x, y, source), (json.dumps(spec),))
    return time.time() - t0


def agrawal(n, rng, noise, function=2):
    """n rows of Agrawal's generator (river's Agrawal, written out with numpy's rng): its columns
    by name (elevel, car and zipcode as integer codes) and the label of classification function
    2 or 4 (True: group A), a fraction noise of them flipped."""
    import numpy as np
    salary = rng.uniform(20_000, 150_000, n)
    commission = np.where(salary >= 75_000, 0.0, rng.uniform(10_000, 75_000, n))
    age = rng.integers(20, 81, n).astype(float)
    elevel = rng.integers(0, 5, n)
    car = rng.integers(1, 21, n)
    zipcode = rng.integers(0, 9, n)
    hvalue = (9 - zipcode) * 100_000 * rng.uniform(0.5, 1.5, n)
    hyears = rng.integers(1, 31, n).astype(float)
    loan = rng.uniform(0, 500_000, n)

    def band(lo, hi):
        return (salary >= lo) & (salary <= hi)

    young = age < 40
    middle = (age >= 40) & (age < 60)
    old = age >= 60
    if function == 2:
        # Salary bands that depend on the age band.
        group_a = ((young & band(50_000, 100_000)) | (middle & band(75_000, 125_000))
                   | (old & band(25_000, 75_000)))
    else:
        # Education level and salary bands that depend on the age band.
        group_a = (
            (young & np.where((elevel >= 0) & (elevel <= 1), band(25_000, 75_000), band(50_000, 100_000)))
            | (middle & np.where((elevel >= 1) & (elevel <= 3), band(50_000, 100_000), band(75_000, 125_000)))
            | (old & np.where((elevel >= 2) & (elevel <= 4), band(50_000, 100_000), band(25_000, 75_000))))
    flip = rng.uniform(0, 1, n) < noise
    label = np.where(flip, ~group_a, group_a)
    columns = {"salary": salary, "commission": commission, "age": age, "elevel": elevel, "car": car,
               "zipcode": zipcode, "hvalue": hvalue, "hyears": hyears, "loan": loan}
    return columns, label
