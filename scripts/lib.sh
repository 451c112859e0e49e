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
