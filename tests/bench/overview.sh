#!/usr/bin/env bash
# Dashboard query benchmark (`make bench-overview`; BENCHMARKS.md, "Dashboard queries").
#
# A store is filled with VIEWS generated views spread over the last DAYS days
# (collector/examples/seed_views.rs: realistic events summarised by the store's own code,
# their views rows and per-minute, hourly and daily rollups as ingest writes them), a
# release collector serves it (retention off, so nothing moves during the run), and the
# query API is timed
# the way the dashboard calls it (`Authorization: Bearer`, gzip accepted, `from=-24h` and
# so on) over the last 24 h, 7 d and 30 d:
#
#   overview    GET /api/v1/overview      the KPI tiles (this period and the one before)
#   timeseries  GET /api/v1/timeseries    the charts (hours up to 7 d, days beyond)
#   breakdown   GET /api/v1/breakdown     by video, sorted by impact on the score, 50 rows
#   views       GET /api/v1/views         the 20 most recent views
#   dashboard   the 8 requests of one dashboard refresh, in parallel, as main.js sends
#               them (the four above and the breakdowns by video, player, browser and OS
#               that fill the filter lists): time until the last answer
#
# Each is requested REQUESTS times one after the other on one keep-alive connection,
# after WARMUP unmeasured requests; p50, p95 and max of the time to the last byte of the
# answer. The 1-minute load average is recorded before each series. The query plans of
# the overview's sums and of the video breakdown's sums over the whole days of the last
# 30 days are printed (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN ANALYZE): both
# read rollup_day (the ragged ends of a period come from rollup_hour and rollup_minute). Then the same for PostgreSQL (a throwaway server started
# here, as the `postgres` user when run as root).
#
# Environment: VIEWS (1000000), DAYS (30), REQUESTS (50), WARMUP (3), COLLECTOR_BIN
# (target/release/collector), SEED_BIN (target/release/examples/seed_views), PG_BIN
# (newest /usr/lib/postgresql/*/bin), SKIP_PG=1, SKIP_SQLITE=1, KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/sbin:/sbin"

VIEWS=${VIEWS:-1000000}
DAYS=${DAYS:-30}
REQUESTS=${REQUESTS:-50}
WARMUP=${WARMUP:-3}
BIN=${COLLECTOR_BIN:-target/release/collector}
SEED=${SEED_BIN:-target/release/examples/seed_views}

for prog in python3 curl "$BIN" "$SEED"; do
    command -v "$prog" >/dev/null || {
        echo "bench-overview: $prog not found (cargo build --release -p collector --example seed_views)" >&2
        exit 1
    }
done
NAME=bench-overview
# WORK, PG_BIN, start_collector, start_pg, stop_collector, stop_pg, the exit trap.
source tests/bench/lib/services.sh
cp "$BIN" "$WORK/collector"
cp "$SEED" "$WORK/seed_views"

seed() { # DB_URL
    "$WORK/seed_views" --db "$1" --views "$VIEWS" --days "$DAYS" > "$WORK/seed.out" 2> "$WORK/seed.err" \
        || { cat "$WORK/seed.err" >&2; exit 1; }
    sed 's/^/  /' "$WORK/seed.out"
}

# time_api BACKEND: times the API of the collector at $URL; appends to RESULTS.
RESULTS=$WORK/results.tsv
: > "$RESULTS"
time_api() {
    python3 - "$URL" "$1" "$REQUESTS" "$WARMUP" >> "$RESULTS" <<'PY'
import concurrent.futures, gzip, http.client, json, statistics, sys, time, urllib.parse
base, backend, n, warmup = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
host = urllib.parse.urlparse(base).netloc
HEADERS = {"Authorization": "Bearer demo", "Accept": "application/json", "Accept-Encoding": "gzip"}

def connect():
    return http.client.HTTPConnection(host, timeout=120)

def get(conn, path, params):
    query = urllib.parse.urlencode(params)
    start = time.perf_counter()
    conn.request("GET", f"/api/v1/{path}?{query}", headers=HEADERS)
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - start
    if response.status != 200:
        sys.exit(f"{path} {query}: HTTP {response.status}: {body[:300]!r}")
    if response.getheader("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return elapsed, json.loads(body)

def load():
    return open("/proc/loadavg").read().split()[0]

def pct(values, p):  # nearest rank
    s = sorted(values)
    return s[max(0, -(-len(s) * p // 100) - 1)]

conn = connect()
for span in ("24h", "7d", "30d"):
    period = {"from": f"-{span}"}
    calls = {
        "overview": ("overview", period),
        "timeseries": ("timeseries", period),
        "breakdown": ("breakdown", {**period, "by": "video", "impact": "score", "sort": "impact",
                                    "order": "desc", "limit": 50}),
        "views": ("views", {**period, "limit": 20, "offset": 0}),
    }
    info = {}
    for name, (path, params) in calls.items():
        for _ in range(warmup):
            _, answer = get(conn, path, params)
        if name == "overview":
            info = {"views": answer["current"]["views"], "percentiles": answer["percentiles"]}
        before = load()
        times = [get(conn, path, params)[0] * 1000 for _ in range(n)]
        print("\t".join(map(str, [backend, span, name, f"{pct(times, 50):.1f}", f"{pct(times, 95):.1f}",
                                  f"{max(times):.1f}", n, before, info.get("views", ""),
                                  info.get("percentiles", "")])), flush=True)
    # One dashboard refresh: its 8 requests at once, each on its own connection.
    refresh = [calls["overview"], calls["timeseries"], calls["breakdown"], calls["views"]] + [
        ("breakdown", {**period, "by": by, "sort": "views", "limit": 200})
        for by in ("video", "player", "browser", "os")]
    conns = [connect() for _ in refresh]
    with concurrent.futures.ThreadPoolExecutor(len(refresh)) as pool:
        def once():
            start = time.perf_counter()
            list(pool.map(lambda a: get(a[0], *a[1]), zip(conns, refresh)))
            return (time.perf_counter() - start) * 1000
        for _ in range(warmup):
            once()
        before = load()
        rounds = max(10, n // 2)
        times = [once() for _ in range(rounds)]
    print("\t".join(map(str, [backend, span, "dashboard", f"{pct(times, 50):.1f}", f"{pct(times, 95):.1f}",
                              f"{max(times):.1f}", rounds, before, info.get("views", ""),
                              info.get("percentiles", "")])), flush=True)
PY
    awk -F'\t' -v b="$1" '$1 == b { printf "  %-8s %-4s %-10s p50 %7.1f ms  p95 %7.1f ms  max %7.1f ms  (%s requests, load %s, %s views, percentiles %s)\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }' "$RESULTS"
}

# Two of the API's queries as it builds them for the whole days of the last 30 days: the
# overview's sums (dimension set 0: no dimension) and the video breakdown's (set 1).
sums_sql() { # DIMS GROUP
    python3 - "$1" "$2" <<'PY'
import sys
counters = """views events attempts started startup_count startup_ms startup_upto_250ms
startup_upto_500ms startup_upto_750ms startup_upto_1000ms startup_upto_1500ms
startup_upto_2000ms startup_upto_3000ms startup_upto_4000ms startup_upto_6000ms
startup_upto_8000ms startup_upto_12000ms startup_upto_20000ms startup_over_20000ms
rebuffer_views rebuffer_count rebuffer_ms playing_ms watch_ms played_bits bitrate_ms switches
errors failures vsf ebvs ended exited seeks seek_ms dropped_frames total_frames
views_with_frames scored_views score_sum""".split() + [f"startup_h{k:02}" for k in range(82)]
dims, group = sys.argv[1], sys.argv[2]
key = f"{group} AS k, " if group else ""
tail = f" GROUP BY {group}" if group else ""
print(f"SELECT {key}" + ", ".join(f"COALESCE(SUM({c}), 0) AS {c}" for c in ["weight"] + counters)
      + f" FROM rollup_day WHERE property = 'demo' AND bucket_ms >= FROM_MS AND bucket_ms < TO_MS AND dims = {dims}{tail}")
PY
}
plans() { # BACKEND
    local to from30 sums pct
    to=$(( $(date +%s) / 86400 * 86400000 ))
    from30=$(( to - 29 * 86400000 ))
    sums=$(sums_sql 0 "" | sed "s/FROM_MS/$from30/; s/TO_MS/$to/")
    pct=$(sums_sql 1 video_id | sed "s/FROM_MS/$from30/; s/TO_MS/$to/")
    echo "  query plans (whole days of the last 30 d: overview sums; breakdown by video):"
    if [ "$1" = sqlite ]; then
        python3 - "$WORK/views.db" "$sums" "$pct" <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
for name, sql in (("overview sums", sys.argv[2]), ("breakdown by video", sys.argv[3])):
    plan = "; ".join(r[3] for r in c.execute("EXPLAIN QUERY PLAN " + sql))
    start = time.perf_counter()
    rows = c.execute(sql).fetchall()
    print(f"    {name}: {plan} ({len(rows)} rows, {(time.perf_counter() - start) * 1000:.0f} ms in Python's sqlite3 {sqlite3.sqlite_version})")
for table in ("rollup_minute", "rollup_hour", "rollup_day"):
    print(f"    {table}: {c.execute(f'SELECT COUNT(*) FROM {table}').fetchone()[0]} rows")
PY
    else
        for q in "$sums" "$pct"; do
            "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d views -Atq \
                -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $q" | grep -vE '^\s*(Planning|Buffers|Sort Key|Output)' | sed 's/^/    /' | head -12
        done
    fi
}

echo "# dashboard query benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(uname -sr)"
echo "collector: $BIN (--log warn, retention off), commit $(git rev-parse --short HEAD 2>/dev/null || echo ?)"
echo "data: $VIEWS generated views over the last $DAYS days; $REQUESTS requests per series after $WARMUP warm-up ones"
echo

if [ -z "${SKIP_SQLITE:-}" ]; then
    echo "## SQLite"
    seed "sqlite://$WORK/views.db"
    echo "  database file: $(du -m "$WORK/views.db" | cut -f1) MB"
    start_collector sqlite "sqlite://$WORK/views.db" --retention-days 0 --rollup-retention-days 0
    time_api sqlite
    plans sqlite
    stop_collector
    rm -f "$WORK/views.db" "$WORK/views.db-wal" "$WORK/views.db-shm"
    echo
fi

if [ -z "${SKIP_PG:-}" ]; then
    echo "## PostgreSQL"
    start_pg
    echo "  $("$PG_BIN/postgres" --version), port $PG_PORT, shared_buffers=256MB"
    "${AS_PG[@]}" "$PG_BIN/createdb" -h "$PG_DIR" -p "$PG_PORT" -U postgres views
    seed "postgres://postgres@127.0.0.1:$PG_PORT/views"
    start_collector pg "postgres://postgres@127.0.0.1:$PG_PORT/views" --retention-days 0 --rollup-retention-days 0
    time_api postgres
    plans postgres
    stop_collector
    echo
fi

python3 - "$RESULTS" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
print("| store | period | call | p50 ms | p95 ms | max ms | requests | load (1 min) before |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    p95 = f"**{r[4]}**" if r[2] == "overview" else r[4]
    print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {p95} | {r[5]} | {r[6]} | {r[7]} |")
misses = [r for r in rows if r[2] == "overview" and float(r[4]) >= 100]
print()
print("overview p95 under 100 ms: " + ("yes, every store and period" if not misses else
      "NO: " + ", ".join(f"{r[0]} {r[1]} ({r[4]} ms)" for r in misses)))
views = {(r[0], r[1]): (r[8], r[9]) for r in rows if r[2] == "overview"}
print("views counted by the overview: " + ", ".join(f"{b} {s} {v} ({p} percentiles)" for (b, s), (v, p) in views.items()))
PY
