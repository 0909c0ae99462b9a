#!/usr/bin/env python3
"""Load generator for the collector's /shaped/ route (standard library only).

Runs SESSIONS concurrent sessions against `collector serve`. Each session opens one
keep-alive HTTP/1.1 connection and downloads SEGMENTS copies of the same file one after
the other through /shaped/{trace}/{session}/{path}?rtt=0, like a player fetching segments
back to back. Every read is timestamped, giving the session's delivered bytes over time,
which is compared with the integral of the trace (the bytes the trace allows since the
session's first request):

* total error: bytes delivered by the time the last byte arrived, over the trace's
  integral up to that time, minus 1 (0 is perfect; negative means slower than the trace);
* curve deviation: the largest gap between delivered bytes and the integral at any
  0.25 s checkpoint, as a fraction of the session's total bytes.

Sessions start at seeded random offsets within --stagger seconds, each with its own clock.
"""

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from urllib.parse import urlsplit


def load_trace(path):
    """(time_s, mbps) samples of a trace file."""
    samples = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                samples.append((float(parts[0]), float(parts[1])))
    if len(samples) < 2:
        sys.exit(f"{path}: fewer than two samples")
    return samples


def trace_bytes(samples, t):
    """Bytes the trace carries in its first `t` seconds, read as Pensieve's simulator (and
    the collector's shaper) reads it: sample i >= 1 is the rate of (t[i-1], t[i]], the
    first pass starts at t[0], later passes loop from the second sample with the clock
    at 0."""
    times = [s[0] for s in samples]
    rates = [s[1] * 1e6 / 8 for s in samples]

    def one_pass(start, budget):
        # (bytes, seconds used) over the intervals from `start`, stopping after `budget` s.
        carried, used, previous = 0.0, 0.0, start
        for end, rate in zip(times[1:], rates[1:]):
            d = min(max(end - previous, 0.0), budget - used)
            previous = end
            carried += rate * d
            used += d
            if used >= budget:
                break
        return carried, used

    carried, used = one_pass(times[0], t)
    while used < t:
        more, spent = one_pass(0.0, t - used)
        if spent <= 0:
            break
        carried += more
        used += spent
    return carried


async def read_response(reader, on_bytes):
    """Reads one response (Content-Length or chunked); returns (status, body bytes)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    got = 0
    if "content-length" in headers:
        left = int(headers["content-length"])
        while left > 0:
            chunk = await reader.read(min(left, 1 << 16))
            if not chunk:
                raise ConnectionError("connection closed mid-body")
            left -= len(chunk)
            got += len(chunk)
            on_bytes(len(chunk))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            left = size
            while left > 0:
                chunk = await reader.read(min(left, 1 << 16))
                if not chunk:
                    raise ConnectionError("connection closed mid-chunk")
                left -= len(chunk)
                got += len(chunk)
                on_bytes(len(chunk))
            await reader.readexactly(2)
    else:
        raise ValueError(f"response without length: {headers}")
    return status, got


async def session(args, host, port, name, delay):
    await asyncio.sleep(delay)
    reader, writer = await asyncio.open_connection(host, port)
    log = []  # (seconds since the first request, cumulative bytes)
    total = 0
    t0 = time.monotonic()

    def on_bytes(n):
        nonlocal total
        total += n
        log.append((time.monotonic() - t0, total))

    try:
        for _ in range(args.segments):
            target = f"/shaped/{args.trace}/{name}/{args.path}?rtt={args.rtt}"
            writer.write(
                f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"User-Agent: shaped_load\r\n\r\n".encode()
            )
            await writer.drain()
            status, _ = await read_response(reader, on_bytes)
            if status != 200:
                raise RuntimeError(f"{target}: HTTP {status}")
    finally:
        writer.close()
    return log


def score(samples, log):
    end_t, total = log[-1]
    expected = trace_bytes(samples, end_t)
    total_error = total / expected - 1
    worst = 0.0
    i = 0
    delivered = 0
    t = 0.25
    while t <= end_t:
        while i < len(log) and log[i][0] <= t:
            delivered = log[i][1]
            i += 1
        worst = max(worst, abs(delivered - trace_bytes(samples, t)) / total)
        t += 0.25
    return {"seconds": end_t, "bytes": total, "expected": expected,
            "total_error": total_error, "curve_deviation": worst}


async def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", required=True, help="http://HOST:PORT of collector serve")
    p.add_argument("--trace", required=True, help="trace name on the URL")
    p.add_argument("--trace-file", required=True, help="the same trace, to integrate")
    p.add_argument("--path", required=True, help="file under --media to download")
    p.add_argument("--sessions", type=int, default=100)
    p.add_argument("--segments", type=int, default=5)
    p.add_argument("--rtt", type=int, default=0, help="per-request latency, ms (?rtt=)")
    p.add_argument("--stagger", type=float, default=2.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print per-session results as JSON")
    args = p.parse_args()

    url = urlsplit(args.base)
    samples = load_trace(args.trace_file)
    rng = random.Random(args.seed)
    run_id = f"{int(time.time())}-{rng.randrange(1 << 30):x}"
    started = time.monotonic()
    results = await asyncio.gather(
        *(session(args, url.hostname, url.port, f"load-{run_id}-{i}", rng.uniform(0, args.stagger))
          for i in range(args.sessions)),
        return_exceptions=True,
    )
    wall = time.monotonic() - started
    failed = [r for r in results if isinstance(r, BaseException)]
    scores = [score(samples, r) for r in results if not isinstance(r, BaseException)]
    if args.json:
        print(json.dumps(scores))
    for e in failed[:5]:
        print(f"session failed: {e!r}")
    if not scores:
        sys.exit("every session failed")
    errs = sorted(s["total_error"] for s in scores)
    devs = sorted(s["curve_deviation"] for s in scores)
    secs = [s["seconds"] for s in scores]
    within = sum(1 for e in errs if abs(e) <= 0.05)
    delivered = sum(s["bytes"] for s in scores)
    print(f"{len(scores)} sessions ok, {len(failed)} failed; {args.segments} x {args.path} each "
          f"over trace {args.trace}, rtt={args.rtt} ms; {wall:.1f} s wall, "
          f"{delivered * 8 / wall / 1e6:.0f} Mbit/s delivered in all")
    print(f"session length: min {min(secs):.2f} s, median {statistics.median(secs):.2f} s, "
          f"max {max(secs):.2f} s")
    print(f"total error (delivered / trace integral - 1): min {errs[0]:+.2%}, "
          f"median {statistics.median(errs):+.2%}, max {errs[-1]:+.2%}; "
          f"within 5 %: {within}/{len(scores)}")
    print(f"curve deviation (largest gap / session bytes): min {devs[0]:.2%}, "
          f"median {statistics.median(devs):.2%}, max {devs[-1]:.2%}")
    if failed or within < len(scores):
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
