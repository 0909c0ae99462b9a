// Compare benchmark: our player (the npm package in player-wasm/pkg, `make wasm`, `default`
// ABR) against hls.js (tests/e2e's npm package, default configuration) in headless
// Chromium, on the same 5-rung ladder through the same network traces, both measured by
// our analytics (our player's telemetry; `Monitor.attach(video, { hls })` on hls.js) and
// read back from the collector's API.
//
// For each trace: each player plays in a fresh browser context (empty cache, new
// connections) through its own `/shaped/{trace}/{session}/` session (unique session ids:
// each starts the trace from its beginning), the order alternating from trace to trace.
// A run lasts until the playhead reaches `--seconds` (90) of media, or `2 × --seconds` of
// wall time, whichever comes first; then the view is ended (our `destroy()`, hls.js's
// `Monitor.detach()`), which sends `viewend`, and the view's metrics are read from
// `GET /api/v1/views/{id}` (computed by the collector with player_wasm::qoe::metrics).
//
// Per player and trace: startup time (play request to first frame), rebuffer ratio (%
// of watch time), time-weighted bitrate on screen, switches, and QoE_lin per 2 s segment:
// the literature's `bitrate_Mbps − 4.3 × rebuffer_s − |Δbitrate_Mbps|` (Pensieve, MPC),
// averaged over the segments played. It is derived from the view's metrics as
// `B − 2 × (4.3 × R + S) / P` with B the time-weighted bitrate (Mbit/s), R the rebuffer
// seconds, S the sum of |Δbitrate| over switches (Mbit/s) and P the playing seconds
// (P / 2 segments of 2 s; equal to `2 × qoe_lin_per_s − B` of the collector's one-second
// QoE_lin). Startup is not charged (reported on its own), as in the collector's QoE_lin.
// Bitrates are the levels' BANDWIDTH (video + audio, as both players report them).
//
// Traces. Default: 8, two from each of the four development sets in ../shared/traces
// (pensieve-train, fcc-test-windows, oboe, puffer-220218), drawn with a fixed seed from
// each set's files sorted by name. No trace is skipped for being short: the shaper loops a
// trace at its end the way Pensieve's simulator does (collector/src/origin/shaped/link.rs:
// back to the second sample with the clock at 0), so a 36 s trace plays 90 s by repeating.
// `--traces DIR` (repeatable) plays every trace of DIR instead (`--per-set N` draws N per
// directory with the same seed).
//
// Also recorded per run (JSON): the level on screen over time, stalls, dropped frames,
// every request of the stream, the bandwidth estimate every 500 ms next to the trace's
// rate, and the machine's load (/proc/loadavg, CPU busy % over the run from /proc/stat):
// on 2 shared cores, CPU contention can stall playback for reasons unrelated to ABR.
//
// Writes tests/bench/results/compare.json, prints a table, and renders
// tests/bench/results/compare.png (summary bars) and compare-timelines.png (per run:
// trace, estimate and bitrate on screen, stalls; uPlot from web-demo/node_modules).
// No assertion on any figure.
//
// Run: `make bench-browser`, or `node tests/bench/compare.mjs [--seconds 90] [--traces DIR]
// [--per-set N] [--seed N] [--limit N] [--only TRACE]... [--rtt-ms 80] [--players ours,hls]
// [--master NAME (another master playlist in the ladder's directory)] [--out FILE]`
// from the repository root after `make deps wasm`; `--chart-only FILE` draws the charts of
// an earlier run's JSON again (next to it).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';

import {
  E2E_DIR,
  PKG_DIR,
  REPO,
  buildCollector,
  launchChromium,
  run as runCommand,
  startCollector,
  tempDir,
} from '../e2e/lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(E2E_DIR, 'package.json'));

// ---------------------------------------------------------------------------------------
// Options

const DEV_SETS = ['pensieve-train', 'fcc-test-windows', 'oboe', 'puffer-220218'];

function parseArgs(argv) {
  const o = {
    seconds: 90,
    traces: [],
    perSet: null,
    seed: 20261125,
    limit: null,
    rttMs: 80,
    out: 'tests/bench/results/compare.json',
    media: 'target/bench-compare/media',
    shared: process.env.SHARED || path.join(REPO, '..', 'shared'),
    players: ['ours', 'hls'],
    only: null,
    master: 'master.m3u8',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--seconds') o.seconds = Number(value());
    else if (a === '--traces') o.traces.push(path.resolve(value()));
    else if (a === '--per-set') o.perSet = Number(value());
    else if (a === '--seed') o.seed = Number(value());
    else if (a === '--limit') o.limit = Number(value());
    else if (a === '--rtt-ms') o.rttMs = Number(value());
    else if (a === '--out') o.out = value();
    else if (a === '--media') o.media = value();
    else if (a === '--shared') o.shared = path.resolve(value());
    else if (a === '--players') o.players = value().split(',');
    else if (a === '--chart-only') o.chartOnly = path.resolve(value());
    else if (a === '--only') o.only = (o.only || []).concat(value());
    else if (a === '--master') o.master = value();
    else if (a === '-h' || a === '--help') {
      console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (see --help)`);
  }
  if (o.chartOnly) {
    o.out = o.chartOnly;
    o.media = path.resolve(REPO, o.media);
    return o;
  }
  if (!(o.seconds > 0)) throw new Error('--seconds must be positive');
  for (const p of o.players) if (!['ours', 'hls'].includes(p)) throw new Error(`--players: unknown ${p}`);
  if (o.traces.length === 0) {
    o.traces = DEV_SETS.map((s) => path.join(o.shared, 'traces', s));
    o.perSet = o.perSet ?? 2;
    for (const d of o.traces) {
      if (!fs.existsSync(d)) throw new Error(`${d} missing: the default trace sets live in ../shared/traces (or pass --traces DIR)`);
    }
  }
  o.out = path.resolve(REPO, o.out);
  o.media = path.resolve(REPO, o.media);
  return o;
}

const opts = parseArgs(process.argv.slice(2));
// The ladder is longer than the playback, so 90 s of playback never reaches its end.
const LADDER_SECONDS = Math.max(120, Math.ceil(opts.seconds + 30));
const LADDER_NAME = `ladder5-${LADDER_SECONDS}s`;
const SEGMENT_S = 2;
const WALL_LIMIT_S = 2 * opts.seconds;
const REBUFFER_PENALTY = 4.3;
const API_WAIT_MS = 20_000;

// ---------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mean = (xs) => {
  const v = xs.filter((x) => x !== null && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};
const median = (xs) => {
  const s = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r3 = (x) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 1000) / 1000);

/** mulberry32: a small seeded generator, so the default trace draw is fixed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` distinct items of `items` drawn with `random` (a seeded partial Fisher–Yates). */
function draw(items, n, random) {
  const a = [...items];
  for (let i = 0; i < Math.min(n, a.length); i++) {
    const j = i + Math.floor(random() * (a.length - i));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, n);
}

function readProcStat() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] || 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { idle, total };
}
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).map(Number);

// ---------------------------------------------------------------------------------------
// Traces: read like the shaper reads them (collector/src/origin/shaped/link.rs)

function readTrace(file) {
  const times = [];
  const mbps = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2 || f[0] === '') continue;
    times.push(Number(f[0]));
    mbps.push(Number(f[1]));
  }
  return { times, mbps };
}

/**
 * Cumulative capacity (Mbit) of a trace `t` seconds into a session: sample i ≥ 1 is the
 * rate of (t[i−1], t[i]]; the first pass starts at t[0]; later passes loop to the second
 * sample with the clock at 0 (the shaper's and Pensieve's reading).
 */
function capacity(trace) {
  const pass = (start) => {
    const ends = [];
    const rates = [];
    const carried = [];
    let prev = start;
    let end = 0;
    let c = 0;
    for (let i = 1; i < trace.times.length; i++) {
      const d = Math.max(trace.times[i] - prev, 0);
      prev = trace.times[i];
      const r = Number.isFinite(trace.mbps[i]) ? Math.max(trace.mbps[i], 0) : 0;
      end += d;
      c += r * d;
      ends.push(end);
      rates.push(r);
      carried.push(c);
    }
    const by = (t) => {
      let i = 0;
      while (i < ends.length && ends[i] < t) i++;
      if (i >= ends.length) return c;
      const s = i ? ends[i - 1] : 0;
      const b = i ? carried[i - 1] : 0;
      return b + rates[i] * Math.max(t - s, 0);
    };
    return { duration: end, total: c, by };
  };
  const first = pass(trace.times[0]);
  const repeat = pass(0);
  return (t) => {
    t = Math.max(t, 0);
    if (t <= first.duration) return first.by(t);
    const passes = Math.floor((t - first.duration) / repeat.duration);
    const within = t - first.duration - passes * repeat.duration;
    return first.total + passes * repeat.total + repeat.by(within);
  };
}

/** Mean rate (Mbit/s) of the link over session seconds [a, b]. */
const meanRate = (cap, a, b) => (b > a ? (cap(b) - cap(Math.max(a, 0))) / (b - Math.max(a, 0)) : null);

// ---------------------------------------------------------------------------------------
// Setup: ladder, page, collector

function ensureLadder(bin) {
  const dir = path.join(opts.media, LADDER_NAME);
  if (fs.existsSync(path.join(dir, 'master.m3u8'))) {
    console.log(`compare: reusing the ladder in ${path.relative(REPO, dir)}`);
    return dir;
  }
  console.log(`compare: encoding a ${LADDER_SECONDS} s 5-rung ladder into ${path.relative(REPO, dir)} (once; a few minutes)`);
  fs.mkdirSync(opts.media, { recursive: true });
  runCommand(
    bin,
    ['encode', '--test-pattern', String(LADDER_SECONDS), '--out', dir, '--segment-seconds', String(SEGMENT_S), '--qc-seconds', '0', '--force'],
    'collector encode',
  );
  return dir;
}

function installPage() {
  const dir = path.join(opts.media, 'compare-page');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'pkg'), { recursive: true });
  for (const f of ['page.html', 'page.js', 'chart.html', 'chart.js']) {
    fs.copyFileSync(path.join(here, 'compare', f), path.join(dir, f));
  }
  for (const f of ['player_wasm.js', 'player_wasm_bg.wasm']) {
    const from = path.join(PKG_DIR, f);
    if (!fs.existsSync(from)) throw new Error(`${from} missing: build the npm package first (make wasm)`);
    fs.copyFileSync(from, path.join(dir, 'pkg', f));
  }
  fs.copyFileSync(require.resolve('hls.js/dist/hls.min.js'), path.join(dir, 'hls.min.js'));
  const uplot = path.join(REPO, 'web-demo', 'node_modules', 'uplot', 'dist');
  const haveUplot = fs.existsSync(path.join(uplot, 'uPlot.iife.min.js'));
  if (haveUplot) {
    fs.copyFileSync(path.join(uplot, 'uPlot.iife.min.js'), path.join(dir, 'uPlot.iife.min.js'));
    fs.copyFileSync(path.join(uplot, 'uPlot.min.css'), path.join(dir, 'uPlot.min.css'));
  }
  const wasm = fs.readFileSync(path.join(dir, 'pkg', 'player_wasm_bg.wasm'));
  return {
    hlsVersion: require('hls.js/package.json').version,
    haveUplot,
    packageInfo: {
      wasmBytes: wasm.length,
      wasmSha256: createHash('sha256').update(wasm).digest('hex'),
      builtAt: fs.statSync(path.join(PKG_DIR, 'player_wasm_bg.wasm')).mtime.toISOString(),
    },
  };
}

async function getJson(url) {
  const res = await fetch(url);
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** The traces to play: [{ name, set, dir, duration_s, mean_mbps }]. */
async function chooseTraces(base) {
  const listed = (await getJson(`${base}/shaped/`)).traces;
  const random = rng(opts.seed);
  const chosen = [];
  for (const dir of opts.traces) {
    const set = path.basename(dir);
    const ofSet = listed.filter((t) => t.set === set).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const picked = opts.perSet ? draw(ofSet, opts.perSet, random) : ofSet;
    for (const t of picked) chosen.push({ ...t, dir });
  }
  const only = opts.only ? chosen.filter((t) => opts.only.includes(t.name)) : chosen;
  return opts.limit ? only.slice(0, opts.limit) : only;
}

// ---------------------------------------------------------------------------------------
// One run

/** The view of `videoId` with its metrics, once its `viewend` is stored. */
async function readView(base, videoId) {
  const deadline = Date.now() + API_WAIT_MS;
  let last = null;
  for (;;) {
    const list = await getJson(`${base}/api/v1/views?token=demo&video=${encodeURIComponent(videoId)}&limit=5`);
    if (list.views.length > 1) throw new Error(`${list.views.length} views of ${videoId}`);
    if (list.views.length === 1) {
      const one = await getJson(`${base}/api/v1/views/${encodeURIComponent(list.views[0].view_id)}?token=demo`);
      last = one;
      if (one.timeline.events.some((e) => e.type === 'viewend')) return one;
    }
    if (Date.now() > deadline) {
      if (last) return { ...last, incomplete: 'no viewend stored' };
      throw new Error(`no view of ${videoId} in the collector after ${API_WAIT_MS} ms`);
    }
    await sleep(300);
  }
}

async function measure(browser, base, trace, cap, player, index, runTag) {
  const session = `cmp-${runTag}-${index}-${player}`;
  const videoId = `compare-${runTag}-${index}-${player}`;
  const src = `/shaped/${encodeURIComponent(trace.name)}/${session}/${LADDER_NAME}/${opts.master}`;
  const load0 = loadavg();
  const cpu0 = readProcStat();
  const wall0 = Date.now();
  const context = await browser.newContext({ viewport: { width: 660, height: 380 } });
  const page = await context.newPage();
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  let b;
  let finalStats;
  let requests;
  let reason;
  try {
    const q = new URLSearchParams({ player, src, videoId, trace: trace.name });
    await page.goto(`${base}/media/compare-page/page.html?${q}`);
    await page.waitForFunction(() => bench.ready || bench.error !== null, null, { timeout: 30_000 });
    await page.evaluate(() => bench.start());
    const started = Date.now();
    // Until the playhead reaches the playback time, a fatal error, or the wall limit.
    for (;;) {
      const s = await page.evaluate(() => ({ ct: document.getElementById('video').currentTime, error: bench.error }));
      if (s.error) {
        reason = `error: ${s.error}`;
        break;
      }
      if (s.ct >= opts.seconds) {
        reason = 'played';
        break;
      }
      if (Date.now() - started > WALL_LIMIT_S * 1000) {
        reason = `wall limit ${WALL_LIMIT_S} s at ${s.ct.toFixed(1)} s`;
        break;
      }
      await sleep(250);
    }
    finalStats = await page.evaluate(() => bench.finish());
    requests = await page.evaluate(() => bench.requests());
    b = await page.evaluate(() => {
      const { finish, requests, start, ...rest } = bench;
      return rest;
    });
    // Let the viewend batch leave (fetch keepalive) before the context goes.
    await sleep(500);
  } finally {
    await context.close();
  }
  const wallS = (Date.now() - wall0) / 1000;
  const cpu1 = readProcStat();
  const load1 = loadavg();
  const view = await readView(base, videoId);
  const m = view.metrics;

  // The figures, from the collector's per-view metrics.
  const bitrateMbps = m.average_bitrate_bps === null ? null : m.average_bitrate_bps / 1e6;
  const P = m.playing_time_s;
  const qoeSeg = bitrateMbps === null || !(P > 0) ? null : bitrateMbps - (SEGMENT_S * (REBUFFER_PENALTY * m.rebuffer_duration_s + m.switch_magnitude_mbps)) / P;
  // The same with the startup time charged like rebuffering (MPC's μs = μ).
  const startupS = m.startup_time_ms === null ? 0 : m.startup_time_ms / 1000;
  const qoeSegStartup = qoeSeg === null ? null : qoeSeg - (SEGMENT_S * REBUFFER_PENALTY * startupS) / P;

  // Timelines on the page's clock (seconds from load()/loadSource()).
  const t0 = b.t0Epoch;
  const sec = (ms) => r3(ms / 1000);
  const evSec = (e) => r3((e.t - t0) / 1000);
  const stalls = [];
  let open = null;
  for (const e of view.timeline.events) {
    if (e.type === 'rebufferstart') open = evSec(e);
    if (e.type === 'rebufferend' && open !== null) {
      stalls.push({ start: open, end: evSec(e), s: r3(evSec(e) - open), pt: e.pt ?? null });
      open = null;
    }
  }
  if (open !== null) stalls.push({ start: open, end: null, s: null, pt: null });
  const levels = view.timeline.bitrate.map((s) => ({ t: evSec(s), level: s.level, mbps: r3(s.bitrate / 1e6), height: s.height, reason: s.reason }));
  // The trace clock starts at the session's first request (the master playlist).
  const sessionStart = requests.length ? Math.min(...requests.map((r) => r.start)) / 1000 : 0;
  const samples = b.samples
    .filter((s) => s.t !== null)
    .map((s) => {
      const t = s.t / 1000;
      const ts = t - sessionStart;
      return {
        t: r3(t),
        ct: r3(s.ct),
        ahead: r3(s.ahead),
        estMbps: s.est === null || !Number.isFinite(s.est) ? null : r3(s.est / 1e6),
        // The trace's mean rate over the last 4 s of the session (what an estimator could know).
        traceMbps: ts > 0.5 ? r3(meanRate(cap, ts - 4, ts)) : null,
        playing: s.playing,
        loading: s.loading,
        dropped: s.dropped,
        total: s.total,
      };
    });
  const est = samples.filter((s) => s.estMbps !== null && s.traceMbps > 0 && s.t > 5);
  const secondsAtLevel = {};
  for (let i = 1; i < samples.length; i++) {
    const s = samples[i];
    if (s.playing === null || s.playing < 0 || s.ct <= samples[i - 1].ct) continue;
    secondsAtLevel[s.playing] = (secondsAtLevel[s.playing] || 0) + (samples[i].t - samples[i - 1].t);
  }
  const frags = b.frags.map((f) => ({
    t: sec(f.t),
    level: f.level,
    sn: f.sn,
    bytes: f.bytes,
    ttfbMs: r3(f.ttfb),
    loadMs: r3(f.load),
    // Transfer rate, time to first byte excluded.
    mbps: f.load - f.ttfb > 0 ? r3((f.bytes * 8) / ((f.load - f.ttfb) * 1000)) : null,
  }));
  // Frames dropped while the element had under 0.3 s buffered ahead (video starved, the
  // clock running on audio) against all dropped frames.
  let droppedStarved = 0;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i - 1].ahead < 0.3) droppedStarved += samples[i].dropped - samples[i - 1].dropped;
  }
  const dt = cpu1.total - cpu0.total;
  const traffic = trafficOf(requests, cap, sessionStart);
  return {
    trace: trace.name,
    set: trace.set,
    player,
    order: null,
    session,
    videoId,
    viewId: view.view.view_id,
    end: reason,
    incomplete: view.incomplete || null,
    wallS: r3(wallS),
    positionS: r3(finalStats.ct),
    machine: { loadavgBefore: load0, loadavgAfter: load1, cpuBusyPct: dt > 0 ? r3((100 * (dt - (cpu1.idle - cpu0.idle))) / dt) : null },
    figures: {
      startupMs: m.startup_time_ms === null ? null : Math.round(m.startup_time_ms),
      rebufferPct: r3(m.rebuffer_percentage),
      rebufferS: r3(m.rebuffer_duration_s),
      rebufferCount: m.rebuffer_count,
      bitrateMbps: r3(bitrateMbps),
      switches: m.switch_count,
      switchMagnitudeMbps: r3(m.switch_magnitude_mbps),
      playingS: r3(P),
      watchS: r3(m.watch_time_s),
      qoeLinPerSegment: r3(qoeSeg),
      qoeLinPerSegmentStartupCharged: r3(qoeSegStartup),
      qoeLinView: r3(m.qoe_lin),
      qoeLinPerS: r3(m.qoe_lin_per_s),
      droppedFrames: m.dropped_frames,
      totalFrames: m.total_frames,
      droppedFramesPct: r3(m.dropped_frame_percentage),
    },
    page: {
      droppedFrames: finalStats.dropped,
      droppedWhileStarved: droppedStarved,
      totalFrames: finalStats.total,
      // Our engine's own accounting (per downloaded segment), as a cross-check.
      ourEngineQoe: finalStats.ours ? finalStats.ours.qoe : null,
    },
    estimator: {
      // Estimate over the trace's mean rate of the last 4 s, samples after 5 s.
      medianRatioToTrace: r3(median(est.map((s) => s.estMbps / s.traceMbps))),
      shareAboveTrace: est.length ? r3(est.filter((s) => s.estMbps > s.traceMbps).length / est.length) : null,
    },
    traffic,
    traceMeanMbps: r3(meanRate(cap, 0, Math.max(P + (m.rebuffer_duration_s || 0), 1))),
    levels: b.levels,
    levelTimeline: levels,
    switchedOnPage: b.switched.map((s) => ({ ...s, t: sec(s.t) })),
    switchingOnPage: b.switching.map((s) => ({ ...s, t: sec(s.t) })),
    secondsAtLevel: Object.fromEntries(Object.entries(secondsAtLevel).map(([k, v]) => [k, r3(v)])),
    stalls,
    mediaEvents: b.media.map((e) => ({ ...e, t: sec(e.t), ct: r3(e.ct) })),
    frags,
    abandoned: b.abandoned.map((a) => ({ ...a, t: sec(a.t) })),
    sessionStartS: r3(sessionStart),
    requests: requests.map((r) => ({ path: r.path, start: sec(r.start), ttfb: sec(r.ttfb), end: sec(r.end), bytes: r.bytes })),
    samples,
    console: consoleLines.slice(-20),
  };
}

/**
 * How a run used its link, from the page's resource timeline (ms from load()): bytes of
 * video and audio, the rate video segments were received at (time to first byte
 * excluded), the share of that transfer time an audio request was also receiving (the two
 * then share the link), and the bytes delivered over what the trace could carry while the
 * session lasted.
 */
function trafficOf(requests, cap, sessionStartS) {
  const kind = (p) => (p.endsWith('.m3u8') ? 'playlist' : p.includes('init') ? 'init' : p.includes('/audio/') ? 'audio' : 'video');
  const rs = requests.map((r) => ({ ...r, kind: kind(r.path) })).filter((r) => r.end > r.start);
  const video = rs.filter((r) => r.kind === 'video');
  const audio = rs.filter((r) => r.kind === 'audio');
  let transfer = 0;
  let shared = 0;
  for (const v of video) {
    const a0 = v.ttfb;
    const a1 = v.end;
    transfer += a1 - a0;
    // Union of audio receive intervals overlapping [a0, a1].
    const iv = audio.map((a) => [Math.max(a.ttfb, a0), Math.min(a.end, a1)]).filter(([x, y]) => y > x).sort((x, y) => x[0] - y[0]);
    let until = a0;
    for (const [x, y] of iv) {
      if (y <= until) continue;
      shared += y - Math.max(x, until);
      until = y;
    }
  }
  // How far the audio track was ahead of the video track (seconds of media, 2 s
  // segments) each time a video segment completed.
  const seg = (p) => Number((/seg_(\d+)/.exec(p) || [])[1]);
  const leads = video.map((v) => {
    const a = audio.filter((x) => x.end <= v.end).map((x) => seg(x.path));
    const w = video.filter((x) => x.end <= v.end).map((x) => seg(x.path));
    return SEGMENT_S * ((a.length ? Math.max(...a) : -1) - Math.max(...w));
  });
  const bytes = (xs) => xs.reduce((n, r) => n + r.bytes, 0);
  const last = rs.length ? Math.max(...rs.map((r) => r.end)) / 1000 : 0;
  const carried = cap(last - sessionStartS);
  const all = bytes(rs);
  return {
    videoBytes: bytes(video),
    audioBytes: bytes(audio),
    videoRequests: video.length,
    audioRequests: audio.length,
    videoReceiveMbps: transfer > 0 ? r3((bytes(video) * 8) / (transfer * 1000)) : null,
    videoSharedWithAudio: transfer > 0 ? r3(shared / transfer) : null,
    linkUsed: carried > 0 ? r3((all * 8) / 1e6 / carried) : null,
    audioLeadS: { median: median(leads), max: leads.length ? Math.max(...leads) : null },
  };
}

// ---------------------------------------------------------------------------------------
// Summary, table, chart

const FIGURES = [
  ['startupMs', 'startup ms', 'lower'],
  ['rebufferPct', 'rebuffer %', 'lower'],
  ['bitrateMbps', 'bitrate Mbit/s', 'higher'],
  ['switches', 'switches', 'lower'],
  ['qoeLinPerSegment', 'QoE_lin/seg', 'higher'],
  ['qoeLinPerSegmentStartupCharged', 'QoE_lin/seg, startup charged', 'higher'],
];

function summarise(runs, traces) {
  const players = opts.players;
  const perPlayer = {};
  for (const p of players) {
    const rs = runs.filter((r) => r.player === p);
    perPlayer[p] = { runs: rs.length };
    for (const [k] of FIGURES) perPlayer[p][k] = r3(mean(rs.map((r) => r.figures[k])));
    perPlayer[p].rebufferS = r3(mean(rs.map((r) => r.figures.rebufferS)));
    perPlayer[p].droppedFramesPct = r3(mean(rs.map((r) => r.figures.droppedFramesPct)));
  }
  const summary = { means: perPlayer };
  if (players.includes('ours') && players.includes('hls')) {
    const o = perPlayer.ours;
    const h = perPlayer.hls;
    const ratio = (a, b) => (a === null || b === null || b === 0 ? null : r3(a / b));
    summary.ratios = Object.fromEntries(FIGURES.map(([k]) => [k, ratio(o[k], h[k])]));
    summary.goal = {
      qoe: { want: 'ours ≥ 1.10 × hls.js', ratio: summary.ratios.qoeLinPerSegment, met: h.qoeLinPerSegment > 0 ? o.qoeLinPerSegment >= 1.1 * h.qoeLinPerSegment : o.qoeLinPerSegment >= h.qoeLinPerSegment + 0.1 * Math.abs(h.qoeLinPerSegment) },
      rebuffer: { want: 'ours ≤ hls.js', met: o.rebufferPct <= h.rebufferPct },
      startup: { want: 'ours ≤ hls.js', met: o.startupMs <= h.startupMs },
    };
    summary.perTraceWins = {
      qoe: traces.filter((t) => {
        const a = runs.find((r) => r.trace === t.name && r.player === 'ours');
        const c = runs.find((r) => r.trace === t.name && r.player === 'hls');
        return a && c && a.figures.qoeLinPerSegment > c.figures.qoeLinPerSegment;
      }).length,
      of: traces.length,
    };
  }
  return summary;
}

function printTable(runs, traces, summary) {
  const f = (x, d) => (x === null || x === undefined ? '-' : Number(x).toFixed(d));
  const head = `${'trace'.padEnd(34)} ${'Mbps'.padStart(5)} ${'player'.padEnd(6)} ${'startup'.padStart(8)} ${'rebuf%'.padStart(7)} ${'bitrate'.padStart(7)} ${'sw'.padStart(4)} ${'QoE/seg'.padStart(8)} ${'+start'.padStart(7)} ${'drop%'.padStart(6)} ${'load'.padStart(5)}`;
  console.log(`\n${head}\n${'-'.repeat(head.length)}`);
  for (const t of traces) {
    for (const p of opts.players) {
      const r = runs.find((x) => x.trace === t.name && x.player === p);
      if (!r) continue;
      const g = r.figures;
      const label = p === opts.players[0] ? `${t.set.slice(0, 8)}/${t.name}`.slice(0, 34) : '';
      console.log(
        `${label.padEnd(34)} ${(p === opts.players[0] ? f(r.traceMeanMbps, 2) : '').padStart(5)} ${p.padEnd(6)} ${f(g.startupMs, 0).padStart(8)} ${f(g.rebufferPct, 2).padStart(7)} ${f(g.bitrateMbps, 3).padStart(7)} ${f(g.switches, 0).padStart(4)} ${f(g.qoeLinPerSegment, 3).padStart(8)} ${f(g.qoeLinPerSegmentStartupCharged, 3).padStart(7)} ${f(g.droppedFramesPct, 2).padStart(6)} ${f(r.machine.loadavgAfter[0], 2).padStart(5)}` +
          (r.end !== 'played' ? `  (${r.end})` : ''),
      );
    }
  }
  console.log('-'.repeat(head.length));
  for (const p of opts.players) {
    const s = summary.means[p];
    console.log(`${'mean'.padEnd(34)} ${''.padStart(5)} ${p.padEnd(6)} ${f(s.startupMs, 0).padStart(8)} ${f(s.rebufferPct, 2).padStart(7)} ${f(s.bitrateMbps, 3).padStart(7)} ${f(s.switches, 1).padStart(4)} ${f(s.qoeLinPerSegment, 3).padStart(8)} ${f(s.qoeLinPerSegmentStartupCharged, 3).padStart(7)} ${f(s.droppedFramesPct, 2).padStart(6)}`);
  }
  if (summary.ratios) {
    const q = summary.ratios;
    console.log(`${'ours / hls.js'.padEnd(34)} ${''.padStart(5)} ${''.padEnd(6)} ${f(q.startupMs, 2).padStart(8)} ${f(q.rebufferPct, 2).padStart(7)} ${f(q.bitrateMbps, 2).padStart(7)} ${f(q.switches, 2).padStart(4)} ${f(q.qoeLinPerSegment, 2).padStart(8)} ${f(q.qoeLinPerSegmentStartupCharged, 2).padStart(7)}`);
    const g = summary.goal;
    console.log(
      `\ngoal: QoE ${g.qoe.met ? 'met' : 'MISSED'} (${f(q.qoeLinPerSegment, 3)}×, want ≥ 1.10×); rebuffer ${g.rebuffer.met ? 'met' : 'MISSED'}; startup ${g.startup.met ? 'met' : 'MISSED'};` +
        ` ours ahead on QoE in ${summary.perTraceWins.qoe} of ${summary.perTraceWins.of} traces`,
    );
  }
}

async function renderCharts(browser, base, result, haveUplot) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${base}/media/compare-page/chart.html`);
    // The summary bars (canvas).
    const slim = {
      config: result.config,
      date: result.date,
      chromium: result.chromium,
      hlsVersion: result.hlsVersion,
      summary: result.summary,
      traces: result.traces.map((t) => ({ name: t.name, set: t.set })),
      runs: result.runs.map((r) => ({ trace: r.trace, player: r.player, figures: r.figures })),
    };
    const size = await page.evaluate((d) => window.drawSummary(d), slim);
    await page.setViewportSize(size);
    await page.screenshot({ path: path.join(path.dirname(opts.out), 'compare.png'), fullPage: true });
    if (haveUplot) {
      const timelines = {
        seconds: result.config.seconds,
        traces: result.traces.map((t) => ({ name: t.name, set: t.set })),
        runs: result.runs.map((r) => ({
          trace: r.trace,
          player: r.player,
          figures: r.figures,
          samples: r.samples.map((s) => [s.t, s.traceMbps, s.estMbps, s.playing === null || s.playing < 0 ? null : r.levels[s.playing] ? r.levels[s.playing].bitrate / 1e6 : null, s.ahead]),
          stalls: r.stalls,
        })),
      };
      const size2 = await page.evaluate((d) => window.drawTimelines(d), timelines);
      await page.setViewportSize(size2);
      await page.screenshot({ path: path.join(path.dirname(opts.out), 'compare-timelines.png'), fullPage: true });
    }
  } finally {
    await context.close();
  }
  if (errors.length) console.log(`chart page errors: ${errors.join('; ')}`);
}

// ---------------------------------------------------------------------------------------

/** `--chart-only FILE`: the charts of an earlier run's JSON, drawn again next to it. */
async function chartOnly() {
  const result = JSON.parse(fs.readFileSync(opts.chartOnly, 'utf8'));
  const bin = buildCollector();
  const { haveUplot } = installPage();
  const work = tempDir('wasm-player-bench-compare-');
  const collector = await startCollector(bin, ['--media', opts.media, '--log', 'warn'], path.join(work, 'collector.log'));
  const browser = await launchChromium();
  try {
    await renderCharts(browser, collector.base, result, haveUplot);
  } finally {
    await browser.close();
    await collector.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log(`drew the charts of ${path.relative(REPO, opts.chartOnly)} in ${path.relative(REPO, path.dirname(opts.out))}/`);
}

async function main() {
  if (opts.chartOnly) return chartOnly();
  const tStart = Date.now();
  const bin = buildCollector();
  ensureLadder(bin);
  const { hlsVersion, packageInfo, haveUplot } = installPage();
  const work = tempDir('wasm-player-bench-compare-');
  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  const collector = await startCollector(
    bin,
    [
      '--media', opts.media,
      ...opts.traces.flatMap((d) => ['--traces', d]),
      '--db', `sqlite://${path.join(work, 'analytics.db')}`,
      '--rtt-ms', String(opts.rttMs),
      '--rate-limit', '0',
      '--log', 'warn',
    ],
    path.join(work, 'collector.log'),
  );
  const browser = await launchChromium();
  const browserVersion = `Chromium ${browser.version()}`;
  const runs = [];
  const runTag = `${process.pid}-${Date.now().toString(36)}`;
  let traces;
  try {
    traces = await chooseTraces(collector.base);
    console.log(`compare: ${traces.length} traces, ${opts.seconds} s of playback each, players ${opts.players.join(', ')}; ${browserVersion}, hls.js ${hlsVersion}`);
    for (const t of traces) console.log(`  ${t.set}/${t.name}: ${t.duration_s.toFixed(0)} s, mean ${t.mean_mbps.toFixed(2)} Mbit/s`);
    // Warm-up, not recorded: the collector's file cache, Chromium's start, wasm compile.
    {
      const ctx = await browser.newContext();
      const pg = await ctx.newPage();
      await pg.goto(`${collector.base}/media/compare-page/page.html?player=ours&src=x&videoId=warmup`);
      await pg.waitForFunction(() => bench.ready || bench.error !== null, null, { timeout: 30_000 });
      await ctx.close();
      for (const dir of fs.readdirSync(path.join(opts.media, LADDER_NAME))) {
        const d = path.join(opts.media, LADDER_NAME, dir);
        if (fs.statSync(d).isDirectory()) for (const f of fs.readdirSync(d)) fs.readFileSync(path.join(d, f));
      }
    }
    for (let i = 0; i < traces.length; i++) {
      const t = traces[i];
      const cap = capacity(readTrace(path.join(t.dir, t.name)));
      const order = i % 2 === 0 ? opts.players : [...opts.players].reverse();
      for (let k = 0; k < order.length; k++) {
        const p = order[k];
        const r = await measure(browser, collector.base, t, cap, p, i, runTag);
        r.order = k;
        runs.push(r);
        const g = r.figures;
        console.log(
          `[${i + 1}/${traces.length}] ${t.set}/${t.name} ${p.padEnd(4)} startup ${g.startupMs} ms, rebuffer ${g.rebufferPct}% (${g.rebufferCount}× ${g.rebufferS} s),` +
            ` bitrate ${g.bitrateMbps} Mbit/s, switches ${g.switches}, QoE/seg ${g.qoeLinPerSegment}, dropped ${g.droppedFrames}/${g.totalFrames},` +
            ` est/trace ${r.estimator.medianRatioToTrace}, load ${r.machine.loadavgAfter[0]}, cpu ${r.machine.cpuBusyPct}%, ${r.wallS} s (${r.end})`,
        );
      }
    }
  } finally {
    // The chart needs the browser and the collector (the page is served from /media/).
    if (runs.length === 0) {
      await browser.close();
      await collector.stop();
    }
  }

  const summary = summarise(runs, traces);
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    } catch {
      return null;
    }
  })();
  const result = {
    date: new Date().toISOString(),
    commit,
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release() },
    chromium: browserVersion,
    hlsVersion,
    package: packageInfo,
    config: {
      seconds: opts.seconds,
      wallLimitS: WALL_LIMIT_S,
      rttMs: opts.rttMs,
      ladder: LADDER_NAME,
      segmentS: SEGMENT_S,
      traceDirs: opts.traces.map((d) => path.relative(REPO, d)),
      perSet: opts.perSet,
      seed: opts.seed,
      players: opts.players,
      only: opts.only,
      master: opts.master,
      ours: "new Player(video, { abr: 'default', analytics })",
      hls: 'new Hls() (default configuration) + Monitor.attach(video, { hls })',
      qoeLinPerSegment: 'B − 2 × (4.3 × R + S) / P over the view (2 s segments; B time-weighted bitrate Mbit/s, R rebuffer s, S Σ|Δbitrate| Mbit/s, P playing s); startup not charged',
      qoeLinPerSegmentStartupCharged: 'the same less 2 × 4.3 × startup_s / P (startup charged like rebuffering, MPC with μs = μ)',
    },
    runTimeS: Math.round((Date.now() - tStart) / 1000),
    traces: traces.map((t) => ({ name: t.name, set: t.set, durationS: t.duration_s, meanMbps: t.mean_mbps })),
    summary,
    runs,
  };
  fs.writeFileSync(opts.out, JSON.stringify(result, null, 1));
  printTable(runs, traces, summary);
  try {
    await renderCharts(browser, collector.base, result, haveUplot);
  } catch (e) {
    console.log(`chart: ${e.message}`);
  }
  await browser.close();
  await collector.stop();
  if (!process.env.BENCH_KEEP) fs.rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work} (collector log, analytics.db)`);
  console.log(`\nwrote ${path.relative(REPO, opts.out)}, ${path.relative(REPO, path.join(path.dirname(opts.out), 'compare.png'))}` +
    `${haveUplot ? `, ${path.relative(REPO, path.join(path.dirname(opts.out), 'compare-timelines.png'))}` : ''} in ${result.runTimeS} s`);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
