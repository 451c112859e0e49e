# Shared by scripts/test, scripts/demo and bench/run: dependencies, build, throwaway clusters.
# Everything here runs as root on Debian 12; the PostgreSQL server runs as the postgres user.

PGL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PGL_PG_VERSION=15
PGL_PG_BIN="/usr/lib/postgresql/${PGL_PG_VERSION}/bin"
PGL_PG_CONFIG="${PGL_PG_BIN}/pg_config"
PGL_PYTHON=/usr/bin/python3   # Debian's interpreter: the one with NumPy, scikit-learn, psycopg

# Debian packages the build, the tests, the demo and the benchmarks need.
PGL_PACKAGES=(
    postgresql-15 postgresql-server-dev-15 postgresql-client-15 postgresql-15-cron
    g++ make cmake pkg-config
    libeigen3-dev nlohmann-json3-dev libgtest-dev
    python3 python3-numpy python3-scipy python3-sklearn python3-psycopg
    python3-xgboost   # the reference of imported XGBoost models (test_xgboost_parity.py, bench/xgboost_speed.py)
    python3-yaml      # the Grafana provisioning files (test_grafana.py)
    chromium python3-pil   # the report and charts rendered in a browser (test_report_browser.py)
    clang-14 libclang-rt-14-dev   # the libFuzzer harnesses (test/fuzz) and their ASan/UBSan build
)

pgl_log() { printf '==> %s\n' "$*" >&2; }
pgl_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Installs whichever of PGL_PACKAGES, and of the extra packages named as arguments, is missing
# (apt-get update only when something is).
pgl_install_deps() {
    local missing=() pkg
    for pkg in "${PGL_PACKAGES[@]}" "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        pgl_log "dependencies: all installed"
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || pgl_die "missing packages (${missing[*]}); run as root to install them"
    pgl_log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Builds the extension with PGXS and installs it into the PostgreSQL 15 tree (under the
# prefix PGL_DESTDIR when set: a private copy of PostgreSQL laid out as DESTDIR installs).
pgl_build_install() {
    pgl_log "building and installing the extension${PGL_DESTDIR:+ under $PGL_DESTDIR}"
    make -C "$PGL_ROOT" -j"$(nproc)" PG_CONFIG="$PGL_PG_CONFIG" >/dev/null
    make -C "$PGL_ROOT" install PG_CONFIG="$PGL_PG_CONFIG" DESTDIR="${PGL_DESTDIR:-}" >/dev/null
}

# Builds the pure C++ core and its unit tests with CMake into build/.
pgl_build_core_tests() {
    pgl_log "building the core and its unit tests"
    cmake -S "$PGL_ROOT" -B "$PGL_ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$PGL_ROOT/build" -j"$(nproc)" >/dev/null
}

# A scratch directory the postgres user owns.
pgl_scratch_dir() {
    local d
    d="$(mktemp -d "/tmp/pg_learn.$1.XXXXXX")"
    chown postgres:postgres "$d"
    chmod 700 "$d"
    printf '%s\n' "$d"
}

# pgl_start_cluster DIR PORT: initdb into DIR/data (owned by postgres), start on PORT with the
# socket in DIR. Idempotent: an existing cluster in DIR is reused.
pgl_start_cluster() {
    local dir="$1" port="$2"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        runuser -u postgres -- "$PGL_PG_BIN/initdb" -D "$dir/data" --encoding=UTF8 --locale=C.UTF-8 \
            --auth=trust >/dev/null
    fi
    runuser -u postgres -- "$PGL_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir -c listen_addresses=''" start >/dev/null
}

# pgl_stop_cluster DIR: fast shutdown; silent when nothing runs.
pgl_stop_cluster() {
    local dir="$1"
    if [ -f "$dir/data/postmaster.pid" ]; then
        runuser -u postgres -- "$PGL_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
}

# pgl_psql DIR PORT [psql args...]: psql as postgres against the cluster in DIR.
pgl_psql() {
    local dir="$1" port="$2"
    shift 2
    runuser -u postgres -- "$PGL_PG_BIN/psql" -h "$dir" -p "$port" -d postgres -X -v ON_ERROR_STOP=1 "$@"
}

# ---- sanitizers and fuzzing (scripts/test; docs/testing.md, "Sanitizers and fuzzing") ----------

# Builds the core, its unit tests and the libFuzzer harnesses of test/fuzz with clang, ASan and
# UBSan (a UBSan report aborts) into build-fuzz/.
pgl_build_fuzz() {
    pgl_log "building the core, its unit tests and the fuzz harnesses with ASan and UBSan (clang)"
    cmake -S "$PGL_ROOT" -B "$PGL_ROOT/build-fuzz" -DPG_LEARN_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 \
        -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 >/dev/null &&
        cmake --build "$PGL_ROOT/build-fuzz" -j"$(nproc)" >/dev/null
}

# pgl_run_fuzz HARNESS SECONDS WORKDIR: runs build-fuzz/HARNESS on its committed seed corpus
# (test/fuzz/corpus/HARNESS, read only: new inputs go to WORKDIR/corpus-HARNESS). SECONDS > 0:
# explores for that long from a random seed. SECONDS = 0: the default run's fixed exploration,
# $PGL_FUZZ_RUNS inputs (20,000) from libFuzzer seed $PGL_FUZZ_SEED (2), the same inputs on every
# run, so that the test command's result does not depend on luck (a new finding of a random run
# is a bug to fix, not a flaky test; test/fuzz/crashes/ keeps the open ones, corpus/*/regress-* the
# fixed ones). A crash, a sanitizer report or a broken property leaves the input in WORKDIR (the
# log says which file) and returns non-zero. The log is WORKDIR/HARNESS.log.
pgl_run_fuzz() {
    local harness="$1" seconds="$2" work="$3"
    local seeds="$PGL_ROOT/test/fuzz/corpus/$harness"
    local bound=(-max_total_time="$seconds")
    [ "$seconds" -gt 0 ] || bound=(-seed="${PGL_FUZZ_SEED:-2}" -runs="${PGL_FUZZ_RUNS:-20000}" -max_total_time=600)
    mkdir -p "$work/corpus-$harness"
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
        "$PGL_ROOT/build-fuzz/$harness" "${bound[@]}" -timeout=20 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/$harness-" \
        "$work/corpus-$harness" "$seeds" >"$work/$harness.log" 2>&1
}

# The ASan runtime of the compiler that builds the extension (gcc's, as PGXS builds with g++).
pgl_asan_runtime() { g++ -print-file-name=libasan.so; }

# pgl_sanitize_tree DIR: a private PostgreSQL tree under DIR/root (a copy of the system's
# /usr/lib/postgresql/15 and /usr/share/postgresql/15, as make install lays them out under a
# DESTDIR) with the extension built with ASan and UBSan (make SANITIZE=1, in a copy of the
# sources: DIR/src) and installed there, never over the system's install. Its bin/postgres is
# a wrapper that preloads the ASan runtime (the postgres binary is not instrumented; the
# runtime must come first) and sets ASAN_OPTIONS/UBSAN_OPTIONS so that every report goes to a
# file of DIR/reports and stops the process (halt_on_error). detect_leaks=0: PostgreSQL frees
# by memory context, so a backend exits with allocations it never frees one by one, which
# LeakSanitizer would report. Prints the private bin directory.
pgl_sanitize_tree() {
    local dir="$1" root="$1/root" bin
    bin="$root/usr/lib/postgresql/$PGL_PG_VERSION/bin"
    mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql" "$dir/src" "$dir/reports"
    cp -a "/usr/lib/postgresql/$PGL_PG_VERSION" "$root/usr/lib/postgresql/" &&
        cp -a "/usr/share/postgresql/$PGL_PG_VERSION" "$root/usr/share/postgresql/" || return 1
    rm -f "$root/usr/lib/postgresql/$PGL_PG_VERSION/lib/pg_learn"* \
        "$root/usr/share/postgresql/$PGL_PG_VERSION/extension/pg_learn"*
    (cd "$PGL_ROOT" && cp -r Makefile pg_learn.control src "$dir/src/") || return 1
    # Without the objects of a tree built before (a developer's checkout): cp gives every copy a
    # new time, so make would take some of them as up to date and link them uninstrumented.
    find "$dir/src" \( -name '*.o' -o -name '*.d' -o -name '*.bc' -o -name '*.so' \) -delete
    pgl_log "building the extension with ASan and UBSan (make SANITIZE=1) under $dir"
    make -C "$dir/src" -j"$(nproc)" SANITIZE=1 with_llvm=no PG_CONFIG="$PGL_PG_CONFIG" >"$dir/build.log" 2>&1 &&
        make -C "$dir/src" install SANITIZE=1 with_llvm=no PG_CONFIG="$PGL_PG_CONFIG" DESTDIR="$root" \
            >>"$dir/build.log" 2>&1 || { tail -n 30 "$dir/build.log" >&2; return 1; }
    # (test/sanitize/preload_shim.c: glibc 2.36 deadlocks otherwise, before main)
    gcc -shared -fPIC -O2 -o "$dir/preload_shim.so" "$PGL_ROOT/test/sanitize/preload_shim.c" -ldl \
        >>"$dir/build.log" 2>&1 || { tail -n 30 "$dir/build.log" >&2; return 1; }
    chmod 755 "$dir/preload_shim.so"
    mv "$bin/postgres" "$bin/postgres.real"
    cat >"$bin/postgres" <<WRAP
#!/bin/bash
# scripts/test --sanitize: the server with the ASan runtime preloaded for pg_learn's ASan build.
export LD_PRELOAD="$(pgl_asan_runtime) $dir/preload_shim.so\${LD_PRELOAD:+ \$LD_PRELOAD}"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:log_path=$dir/reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$dir/reports/ubsan"
exec -a "\$0" "$bin/postgres.real" "\$@"
WRAP
    chmod 755 "$bin/postgres" "$dir" "$dir/root"
    chown postgres:postgres "$dir/reports"
    # Without the shim, on Debian 12 (glibc 2.36, libasan 8) a PostgreSQL program with the ASan
    # runtime preloaded hangs in bindtextdomain before main does anything: should anything else
    # hang it, refuse to go on rather than hang the whole run.
    if ! timeout 30 runuser -u postgres -- "$bin/postgres" -V >/dev/null 2>&1; then
        pgl_log "the server does not start with the ASan runtime preloaded (postgres -V hangs or fails); see docs/testing.md"
        return 1
    fi
    printf '%s\n' "$bin"
}

# pgl_sanitizer_reports DIR [LOG...]: prints the sanitizer reports of the tree in DIR (its report
# files, and "runtime error" / "ERROR: AddressSanitizer" lines of the given server logs), then
# removes the report files; returns non-zero when there was any.
pgl_sanitizer_reports() {
    local dir="$1" found=0 f
    shift
    for f in "$dir"/reports/*; do
        [ -e "$f" ] || continue
        found=1
        printf '%s\n' "--- sanitizer report $f" >&2
        head -n 60 "$f" >&2
        mkdir -p "$dir/seen" && mv "$f" "$dir/seen/"
    done
    for f in "$@"; do
        [ -f "$f" ] || continue
        if grep -nE 'runtime error|ERROR: AddressSanitizer|ERROR: LeakSanitizer' "$f" >&2; then found=1; fi
    done
    [ "$found" -eq 0 ]
}
