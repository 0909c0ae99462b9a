#!/usr/bin/env bash
# Collector origin benchmark (`make bench-origin`; BENCHMARKS.md, "Collector origin").
#
#  1. Throughput: wrk against `collector serve` (/media/) and against nginx serving the
#     same files from the same directory, on loopback in the same run, alternating
#     collector and nginx for ROUNDS rounds: a 2 MB segment and a media playlist, each at
#     CONNS connections for DURATION. Medians and the ratio collector/nginx.
#  2. The collector's peak RSS over those runs (VmHWM from /proc/PID/status).
#  3. SESSIONS concurrent shaped sessions through /shaped/ (tests/bench/shaped_load.py):
#     each session's delivered bytes against its trace's integral.
#
# Besides requests/s, the servers' own CPU time per request (user + system, from
# /proc/PID/stat, nginx's workers summed) is reported: it varies less than requests/s
# when other work shares the machine.
#
# Access logs are off for both servers (the collector with --log warn, nginx with
# access_log off). Environment: ROUNDS (5), DURATION (10s), CONNS (200), THREADS (2),
# SESSIONS (100), COLLECTOR_BIN (target/release/collector), SKIP_SHAPED=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/sbin:/sbin"

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-200}
THREADS=${THREADS:-2}
SESSIONS=${SESSIONS:-100}
BIN=${COLLECTOR_BIN:-target/release/collector}
CORES=$(nproc)

for prog in wrk nginx python3 "$BIN"; do
    command -v "$prog" >/dev/null || { echo "bench-origin: $prog not found (make deps)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/bench-origin.XXXXXX)
chmod 755 "$WORK" # nginx workers run as nobody
COLLECTOR_PID=
NGINX_PID=
cleanup() {
    [ -n "$COLLECTOR_PID" ] && kill "$COLLECTOR_PID" 2>/dev/null || true
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- the files: one 2 MB segment (random bytes: an origin does not look inside) and a
# VOD media playlist of 450 two-second segments, in the layout `collector encode` writes.
MEDIA=$WORK/media
mkdir -p "$MEDIA/bench/1080p"
head -c 2000000 /dev/urandom > "$MEDIA/bench/1080p/seg_000.m4s"
{
    printf '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n'
    printf '#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI="init.mp4"\n'
    for i in $(seq 0 449); do printf '#EXTINF:2.000000,\nseg_%03d.m4s\n' "$i"; done
    printf '#EXT-X-ENDLIST\n'
} > "$MEDIA/bench/1080p/index.m3u8"
chmod -R a+rX "$MEDIA"
SEG=bench/1080p/seg_000.m4s
PLAYLIST=bench/1080p/index.m3u8
PLAYLIST_BYTES=$(stat -c %s "$MEDIA/$PLAYLIST")

# ---- traces for the shaped sessions
TRACES=$WORK/traces
mkdir -p "$TRACES"
python3 - "$TRACES/bench-step" <<'PY'
import sys
# 6 Mbit/s for 10 s, 2 Mbit/s for 10 s, then 4 Mbit/s. A sample gives the rate of the
# second that ends at its time (Pensieve's reading, which the shaper follows).
with open(sys.argv[1], "w") as f:
    for t in range(0, 601):
        f.write(f"{t}\t{6 if t <= 10 else 2 if t <= 20 else 4}\n")
PY

# ---- the collector
COLLECTOR_PORT_FILE=$WORK/collector.out
"$BIN" serve --media "$MEDIA" --traces "$TRACES" --addr 127.0.0.1:0 --log warn \
    > "$COLLECTOR_PORT_FILE" 2> "$WORK/collector.err" &
COLLECTOR_PID=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$COLLECTOR_PORT_FILE" 2>/dev/null && break
    sleep 0.1
done
COLLECTOR=$(sed -n 's/^collector listening on \(http:[^ ]*\)$/\1/p' "$COLLECTOR_PORT_FILE" | head -1)
[ -n "$COLLECTOR" ] || { echo "collector did not start:"; cat "$WORK/collector.err"; exit 1; }

# ---- nginx on the same files
NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes $CORES;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    types {
        application/vnd.apple.mpegurl m3u8;
        video/iso.segment m4s;
        video/mp4 mp4;
    }
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location /media/ { alias $MEDIA/; }
    }
}
CONF
nginx -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
NGINX_PID=$!
NGINX=http://127.0.0.1:$NGINX_PORT
for _ in $(seq 100); do
    curl -sf -o /dev/null "$NGINX/media/$PLAYLIST" && break
    sleep 0.1
done

# Both serve the same bytes.
for p in "$SEG" "$PLAYLIST"; do
    a=$(curl -sf "$COLLECTOR/media/$p" | sha256sum)
    b=$(curl -sf "$NGINX/media/$p" | sha256sum)
    [ "$a" = "$b" ] || { echo "collector and nginx serve different bytes for $p" >&2; exit 1; }
done

echo "# collector origin benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $CORES cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(uname -sr)"
echo "collector: $BIN ($COLLECTOR, --log warn, default --cache-mib)"
echo "nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //') ($NGINX, $CORES workers, sendfile on, access_log off)"
echo "wrk: -t$THREADS -c$CONNS -d$DURATION, $ROUNDS rounds alternating"
echo "segment: 2000000 bytes; playlist: $PLAYLIST_BYTES bytes (no compression asked)"
echo

RESULTS=$WORK/results.tsv
: > "$RESULTS"
NGINX_WORKERS=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')
cpu_ticks() { # pids...: user + system clock ticks
    local total=0 pid
    for pid in "$@"; do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo "$total"
}
bench() { # server url what
    local pids out before after
    if [ "$1" = collector ]; then pids=$COLLECTOR_PID; else pids=$NGINX_WORKERS; fi
    # shellcheck disable=SC2086
    before=$(cpu_ticks $pids)
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "$2")
    # shellcheck disable=SC2086
    after=$(cpu_ticks $pids)
    local rps requests errors non2xx us_per_req
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    errors=$(awk '/Socket errors:/ {sub(/.*Socket errors: /, ""); print}' <<<"$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
    us_per_req=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
        'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$3" "$rps" "${non2xx:-0}" "${errors:-none}" "$us_per_req" >> "$RESULTS"
    printf '  %-9s %-8s %10s req/s  %7s µs CPU/req  non-2xx %s  socket errors: %s\n' \
        "$1" "$3" "$rps" "$us_per_req" "${non2xx:-0}" "${errors:-none}"
}

# Warm both (page cache, the collector's file cache, nginx's workers).
wrk -t1 -c10 -d2s "$COLLECTOR/media/$SEG" >/dev/null
wrk -t1 -c10 -d2s "$NGINX/media/$SEG" >/dev/null

rss_samples=$WORK/rss.txt
( while kill -0 "$COLLECTOR_PID" 2>/dev/null; do
      awk '/^VmRSS/ {print $2}' "/proc/$COLLECTOR_PID/status" 2>/dev/null >> "$rss_samples" || true
      sleep 0.5
  done ) &
SAMPLER_PID=$!

for round in $(seq "$ROUNDS"); do
    echo "round $round"
    for what in segment playlist; do
        if [ "$what" = segment ]; then path=$SEG; else path=$PLAYLIST; fi
        if [ $((round % 2)) -eq 1 ]; then
            bench collector "$COLLECTOR/media/$path" "$what"
            bench nginx "$NGINX/media/$path" "$what"
        else
            bench nginx "$NGINX/media/$path" "$what"
            bench collector "$COLLECTOR/media/$path" "$what"
        fi
    done
done
kill "$SAMPLER_PID" 2>/dev/null || true

HWM_KB=$(awk '/^VmHWM/ {print $2}' "/proc/$COLLECTOR_PID/status")
NGINX_HWM_KB=0
for pid in $(pgrep -P "$NGINX_PID") "$NGINX_PID"; do
    kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    NGINX_HWM_KB=$((NGINX_HWM_KB + kb))
done

echo
python3 - "$RESULTS" "$HWM_KB" "$NGINX_HWM_KB" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
print("| file | collector req/s | nginx req/s | collector / nginx | server CPU µs/req, collector / nginx | req/s of each run (collector; nginx) |")
print("|---|---|---|---|---|---|")
for what in ("segment", "playlist"):
    c = [float(r[2]) for r in rows if r[0] == "collector" and r[1] == what]
    n = [float(r[2]) for r in rows if r[0] == "nginx" and r[1] == what]
    cc = statistics.median(float(r[5]) for r in rows if r[0] == "collector" and r[1] == what)
    nc = statistics.median(float(r[5]) for r in rows if r[0] == "nginx" and r[1] == what)
    mc, mn = statistics.median(c), statistics.median(n)
    runs = ", ".join(f"{x:.0f}" for x in c) + "; " + ", ".join(f"{x:.0f}" for x in n)
    label = "2 MB segment" if what == "segment" else "media playlist"
    print(f"| {label} | {mc:,.0f} | {mn:,.0f} | **{mc / mn:.2f}×** | {cc:.1f} / {nc:.1f} | {runs} |")
print("(medians over the rounds)")
bad = [r for r in rows if r[3] != "0" or r[4] != "none"]
for r in bad:
    print(f"errors: {r[0]} {r[1]}: non-2xx {r[3]}, socket errors {r[4]}")
print()
print(f"collector peak RSS (VmHWM, whole process lifetime): {int(sys.argv[2]) / 1024:.1f} MiB; "
      f"nginx master + workers VmHWM sum: {int(sys.argv[3]) / 1024:.1f} MiB")
PY
echo "collector RSS samples (MiB): max $(sort -n "$rss_samples" | tail -1 | awk '{printf "%.1f", $1/1024}')"

if [ -z "${SKIP_SHAPED:-}" ]; then
    echo
    echo "## $SESSIONS shaped sessions"
    python3 tests/bench/shaped_load.py --base "$COLLECTOR" --trace-file "$TRACES/bench-step" \
        --trace bench-step --path "$SEG" --sessions "$SESSIONS" \
        || echo "shaped sessions: NOT all within 5 % of the trace (or some failed)"
    echo "collector peak RSS after the shaped sessions: $(awk '/^VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$COLLECTOR_PID/status")"
fi
