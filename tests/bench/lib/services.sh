# Shared by the benchmark scripts that run a collector and a throwaway PostgreSQL
# (tests/bench/ingest.sh, tests/bench/overview.sh). Source it after setting NAME (the
# script's name for messages and its temp directory); it sets WORK (a fresh temp
# directory, removed at exit unless KEEP=1), AS_PG, PG_BIN (unless SKIP_PG=1) and the
# helpers below, and installs the exit trap that stops what they started.

if [ -z "${SKIP_PG:-}" ]; then
    if [ -z "${PG_BIN:-}" ]; then
        PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    fi
    [ -x "${PG_BIN:-}/initdb" ] || { echo "$NAME: PostgreSQL binaries not found (make deps, or SKIP_PG=1)" >&2; exit 1; }
fi

WORK=$(mktemp -d "/tmp/$NAME.XXXXXX")
chmod 755 "$WORK"
mkdir -p "$WORK/media"
COLLECTOR_PID=
PG_DIR=
AS_PG=()
if [ "$(id -u)" = 0 ]; then AS_PG=(runuser -u postgres --); fi

stop_collector() {
    if [ -n "$COLLECTOR_PID" ]; then
        kill "$COLLECTOR_PID" 2>/dev/null || true
        wait "$COLLECTOR_PID" 2>/dev/null || true
        COLLECTOR_PID=
    fi
}
stop_pg() {
    if [ -n "$PG_DIR" ]; then
        "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        PG_DIR=
    fi
}
cleanup() {
    stop_collector
    stop_pg
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_collector NAME DB_URL [FLAG...]: starts $WORK/collector on a free port with that
# store; sets COLLECTOR_PID and URL (exits with its stderr if it does not come up in 30 s).
start_collector() {
    local name=$1 db=$2
    shift 2
    : > "$WORK/$name.out"
    "$WORK/collector" serve --media "$WORK/media" --addr 127.0.0.1:0 --log warn "$@" \
        --db "$db" > "$WORK/$name.out" 2> "$WORK/$name.err" &
    COLLECTOR_PID=$!
    for _ in $(seq 300); do
        grep -q 'listening on' "$WORK/$name.out" 2>/dev/null && break
        kill -0 "$COLLECTOR_PID" 2>/dev/null || break
        sleep 0.1
    done
    URL=$(sed -n 's/^collector listening on \(http:[^ ]*\)$/\1/p' "$WORK/$name.out" | head -1)
    [ -n "$URL" ] || { echo "collector did not start:" >&2; cat "$WORK/$name.err" >&2; exit 1; }
}

# start_pg: a throwaway PostgreSQL server in $WORK/pg on a free port; sets PG_DIR,
# PG_PORT and PG_PID.
start_pg() {
    PG_DIR=$WORK/pg
    mkdir -p "$PG_DIR"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR"
    "${AS_PG[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C \
        --no-sync > "$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; exit 1; }
    local started=
    for _ in 1 2 3 4 5; do
        PG_PORT=$(free_port)
        if "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
            -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" \
            start > /dev/null 2>&1; then
            started=1
            break
        fi
    done
    [ -n "$started" ] || { echo "PostgreSQL did not start:" >&2; cat "$PG_DIR/server.log" >&2; exit 1; }
    PG_PID=$(head -1 "$PG_DIR/data/postmaster.pid")
}
