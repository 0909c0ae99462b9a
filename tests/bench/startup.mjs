// Startup benchmark: our player (the npm package in player-wasm/pkg, `make wasm`) against
// hls.js (tests/e2e's npm package) with its default configuration, and hls.js with
// `startLevel: -1` as a second peer, in headless Chromium, on a
// 5-rung ladder (`collector encode`'s default ladder, 1080p 4.5 Mbit/s down to 240p
// 300 kbit/s, 2 s segments), through the collector's /media/ and through /shaped/ with a
// constant trace (5 Mbit/s, 80 ms RTT per request).
//
// RUNS rounds (default 10) after one unrecorded warm-up; each round runs every player on
// each route, the order reversed every other round (so each pair runs in both orders
// equally often), each in a fresh browser context (empty cache, new connections). Measured per
// run, on the page's clock: from the `load()` / `loadSource()` call to the first decoded
// frame presented (requestVideoFrameCallback; totalVideoFrames > 0 and the element's
// `playing` as cross-checks), the bytes of the stream (playlists and segments, from the
// resource timeline) fetched before that frame, the level of the first video fragment,
// and every request made before it. Prints medians, min–max and ours/hls.js; writes
// everything to tests/bench/results/startup.json. No assertion on any time.
//
// Run: `make bench-startup`, or `node tests/bench/startup.mjs` from the repository root
// after `make deps wasm` (its imports resolve through tests/e2e/lib/harness.mjs and
// tests/e2e/node_modules, so no NODE_PATH is needed). Environment: RUNS (10), MBPS (5),
// RTT_MS (80), SECONDS (ladder length, 30), BENCH_MEDIA (where the encoded ladder is kept
// and reused, target/bench-startup/media), OUT (the JSON file).

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
  run,
  startCollector,
  tempDir,
  writeStepTrace,
} from '../e2e/lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.RUNS || 10);
const MBPS = Number(process.env.MBPS || 5);
const RTT_MS = Number(process.env.RTT_MS || 80);
const SECONDS = Number(process.env.SECONDS || 30);
const MEDIA = path.resolve(REPO, process.env.BENCH_MEDIA || 'target/bench-startup/media');
const OUT = path.resolve(REPO, process.env.OUT || 'tests/bench/results/startup.json');
const TRACE = `const-${MBPS}mbps`;
// Ours; hls.js with its default configuration (the peer); hls.js with `startLevel: -1`
// (start level from its bandwidth estimate, not the master playlist's first variant).
const PLAYERS = ['ours', 'hls', 'hls-auto'];
const LADDER_NAME = `ladder5-${SECONDS}s`;
// Deadline for one run (a failure, not a measurement).
const RUN_TIMEOUT_MS = 60_000;

const require = createRequire(path.join(E2E_DIR, 'package.json'));

function median(xs) {
  const s = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const min = (xs) => Math.min(...xs.filter(Number.isFinite));
const max = (xs) => Math.max(...xs.filter(Number.isFinite));

/** The 5-rung ladder, encoded once and kept under MEDIA. */
function ensureLadder(bin) {
  const dir = path.join(MEDIA, LADDER_NAME);
  if (fs.existsSync(path.join(dir, 'master.m3u8'))) {
    console.log(`startup: reusing the ladder in ${dir}`);
    return dir;
  }
  console.log(`startup: encoding a ${SECONDS} s 5-rung ladder into ${dir} (about a minute)`);
  fs.mkdirSync(MEDIA, { recursive: true });
  run(
    bin,
    ['encode', '--test-pattern', String(SECONDS), '--out', dir, '--segment-seconds', '2', '--qc-seconds', '0', '--force'],
    'collector encode',
  );
  return dir;
}

/** The page, our package and hls.js under MEDIA/startup-page/ (served by /media/). */
function installPage() {
  const dir = path.join(MEDIA, 'startup-page');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'pkg'), { recursive: true });
  for (const f of ['page.html', 'page.js']) {
    fs.copyFileSync(path.join(here, 'startup', f), path.join(dir, f));
  }
  for (const f of ['player_wasm.js', 'player_wasm_bg.wasm']) {
    const from = path.join(PKG_DIR, f);
    if (!fs.existsSync(from)) {
      throw new Error(`${from} missing: build the npm package first (make wasm)`);
    }
    fs.copyFileSync(from, path.join(dir, 'pkg', f));
  }
  fs.copyFileSync(require.resolve('hls.js/dist/hls.min.js'), path.join(dir, 'hls.min.js'));
  const wasm = path.join(PKG_DIR, 'player_wasm_bg.wasm');
  const packageInfo = {
    wasmBytes: fs.statSync(path.join(dir, 'pkg', 'player_wasm_bg.wasm')).size,
    wasmSha256: createHash('sha256').update(fs.readFileSync(path.join(dir, 'pkg', 'player_wasm_bg.wasm'))).digest('hex'),
    builtAt: fs.statSync(wasm).mtime.toISOString(),
  };
  return { hlsVersion: require('hls.js/package.json').version, packageInfo };
}

/** One run of one player on one route in a fresh context. */
async function measure(browser, base, player, route, round) {
  const session = `startup-${process.pid}-${Date.now()}-${round}-${player}`;
  const src =
    route === 'media'
      ? `/media/${LADDER_NAME}/master.m3u8`
      : `/shaped/${TRACE}/${session}/${LADDER_NAME}/master.m3u8`;
  const context = await browser.newContext({ viewport: { width: 660, height: 380 } });
  const page = await context.newPage();
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  try {
    const url = `${base}/media/startup-page/page.html?player=${player}&src=${encodeURIComponent(src)}`;
    await page.goto(url);
    await page.waitForFunction(
      () => bench.error !== null || (bench.tFirstFrame !== null && bench.tDecoded !== null),
      null,
      { timeout: RUN_TIMEOUT_MS, polling: 20 },
    );
    // `playing` comes within a frame or two of the first frame; wait for it briefly.
    await page
      .waitForFunction(() => bench.error !== null || bench.tPlaying !== null, null, { timeout: 5000, polling: 20 })
      .catch(() => {});
    const b = await page.evaluate(() => {
      const resources = performance.getEntriesByType('resource').map((r) => ({
        path: new URL(r.name).pathname,
        initiator: r.initiatorType,
        start: r.startTime,
        requestStart: r.requestStart,
        ttfb: r.responseStart,
        end: r.responseEnd,
        bytes: r.encodedBodySize,
        transfer: r.transferSize,
      }));
      return { ...bench, resources };
    });
    if (b.error) {
      throw new Error(`${player} on ${route}: ${b.error}\n${consoleLines.slice(-5).join('\n')}`);
    }
    const t0 = b.tLoad;
    const first = b.tFirstFrame;
    const stream = b.resources.filter((r) => r.path.startsWith(`/media/${LADDER_NAME}/`) || r.path.startsWith('/shaped/'));
    const before = stream.filter((r) => r.end <= first);
    const lib = b.resources.filter((r) => /\.(wasm|js)$/.test(r.path) && !r.path.endsWith('page.js'));
    const rel = (x) => (x === null ? null : Math.round((x - t0) * 10) / 10);
    return {
      round,
      player,
      route,
      startupMs: first - t0,
      decodedMs: b.tDecoded - t0,
      playingMs: b.tPlaying === null ? null : b.tPlaying - t0,
      presentedMs: b.firstFramePresentation ? b.firstFramePresentation - t0 : null,
      // From navigation start: the library's download and compile included.
      fromNavigationMs: first,
      libraryMs: b.libReady - b.libStart,
      libraryBytes: lib.reduce((s, r) => s + r.bytes, 0),
      bytesBeforeFirstFrame: before.reduce((s, r) => s + r.bytes, 0),
      requestsBeforeFirstFrame: before.length,
      inFlightAtFirstFrame: stream.filter((r) => r.start < first && r.end > first).length,
      startLevel: b.startLevel,
      startHeight: b.startHeight,
      levels: b.levels,
      requests: stream
        .filter((r) => r.start <= first)
        .map((r) => ({
          path: r.path.replace(/^\/shaped\/[^/]+\/[^/]+\//, '/shaped/…/'),
          start: rel(r.start),
          ttfb: rel(r.ttfb),
          end: rel(r.end),
          bytes: r.bytes,
        })),
      events: b.events.map((e) => ({ ...e, t: rel(e.t) })),
    };
  } finally {
    await context.close();
  }
}

function summarise(runs, route, player) {
  const rs = runs.filter((r) => r.route === route && r.player === player);
  const pick = (k) => rs.map((r) => r[k]);
  const levels = {};
  for (const r of rs) levels[`${r.startLevel} (${r.startHeight}p)`] = (levels[`${r.startLevel} (${r.startHeight}p)`] || 0) + 1;
  const stat = (k) => ({ median: median(pick(k)), min: min(pick(k)), max: max(pick(k)) });
  return {
    runs: rs.length,
    startupMs: stat('startupMs'),
    playingMs: stat('playingMs'),
    fromNavigationMs: stat('fromNavigationMs'),
    libraryMs: stat('libraryMs'),
    bytesBeforeFirstFrame: stat('bytesBeforeFirstFrame'),
    requestsBeforeFirstFrame: stat('requestsBeforeFirstFrame'),
    startLevels: levels,
    perRunStartupMs: pick('startupMs').map((x) => Math.round(x)),
  };
}

async function measureAll() {
  const bin = buildCollector();
  ensureLadder(bin);
  const { hlsVersion, packageInfo } = installPage();
  const work = tempDir('wasm-player-bench-startup-');
  const traces = path.join(work, 'traces');
  fs.mkdirSync(traces, { recursive: true });
  writeStepTrace(path.join(traces, TRACE), [[3600, MBPS]]);
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  const collector = await startCollector(
    bin,
    ['--media', MEDIA, '--traces', traces, '--rtt-ms', String(RTT_MS), '--log', 'warn'],
    path.join(work, 'collector.log'),
  );
  const browser = await launchChromium();
  const browserVersion = `Chromium ${browser.version()}`;
  const runs = [];
  try {
    // Warm-up, not recorded: the collector's file cache and Chromium's own start.
    for (const player of PLAYERS) {
      await measure(browser, collector.base, player, 'media', -1);
    }
    for (let round = 0; round < RUNS; round++) {
      // Reversed every other round: each pair of players runs in both orders equally often.
      const order = round % 2 === 0 ? PLAYERS : [...PLAYERS].reverse();
      for (const route of ['media', 'shaped']) {
        for (const player of order) {
          const r = await measure(browser, collector.base, player, route, round);
          runs.push(r);
          console.log(
            `round ${round + 1}/${RUNS} ${route.padEnd(6)} ${player.padEnd(8)} first frame ${r.startupMs.toFixed(0).padStart(5)} ms` +
              ` (playing ${r.playingMs === null ? '-' : r.playingMs.toFixed(0)} ms, from navigation ${r.fromNavigationMs.toFixed(0)} ms)` +
              ` ${(r.bytesBeforeFirstFrame / 1000).toFixed(0)} kB in ${r.requestsBeforeFirstFrame} requests, start level ${r.startLevel} (${r.startHeight}p)`,
          );
        }
      }
    }
  } finally {
    await browser.close();
    await collector.stop();
  }

  return { runs, browserVersion, hlsVersion, packageInfo, work };
}

async function main() {
  const { runs, browserVersion, hlsVersion, packageInfo, work } = await measureAll();
  const summary = {};
  for (const route of ['media', 'shaped']) {
    const s = {};
    for (const p of PLAYERS) s[p] = summarise(runs, route, p);
    for (const peer of ['hls', 'hls-auto']) {
      const paired = [];
      for (let round = 0; round < RUNS; round++) {
        const o = runs.find((r) => r.round === round && r.route === route && r.player === 'ours');
        const h = runs.find((r) => r.round === round && r.route === route && r.player === peer);
        paired.push(o.startupMs / h.startupMs);
      }
      s[`ours/${peer}`] = {
        firstFrame: s.ours.startupMs.median / s[peer].startupMs.median,
        firstFramePairedMedian: median(paired),
        playing: s.ours.playingMs.median / s[peer].playingMs.median,
        fromNavigation: s.ours.fromNavigationMs.median / s[peer].fromNavigationMs.median,
      };
    }
    summary[route] = s;
  }

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
    // Which build of the package was measured (player-wasm/pkg is rebuilt by `make wasm`).
    package: packageInfo,
    hlsVersion,
    config: { runs: RUNS, mbps: MBPS, rttMs: RTT_MS, seconds: SECONDS, ladder: LADDER_NAME, trace: TRACE },
    summary,
    runs,
  };
  fs.writeFileSync(OUT, JSON.stringify(result, null, 1));
  if (!process.env.BENCH_KEEP) fs.rmSync(work, { recursive: true, force: true });

  const fmt = (s) => `${Math.round(s.median)} (${Math.round(s.min)}–${Math.round(s.max)})`;
  console.log(`\nstartup, ${RUNS} runs each, median (min–max), ms from load()/loadSource(); hls.js ${hlsVersion}, ${browserVersion}`);
  for (const route of ['media', 'shaped']) {
    const s = summary[route];
    const label = route === 'media' ? '/media/' : `/shaped/ ${MBPS} Mbit/s, ${RTT_MS} ms`;
    console.log(`${label}`);
    for (const p of PLAYERS) {
      const x = s[p];
      console.log(
        `  ${p.padEnd(8)} first frame ${fmt(x.startupMs)}  playing ${fmt(x.playingMs)}  from navigation ${fmt(x.fromNavigationMs)}` +
          `  bytes ${fmt(x.bytesBeforeFirstFrame)} in ${x.requestsBeforeFirstFrame.median} requests  start levels ${JSON.stringify(x.startLevels)}`,
      );
    }
    for (const peer of ['hls', 'hls-auto']) {
      const q = s[`ours/${peer}`];
      console.log(
        `  ours / ${peer}: first frame ${q.firstFrame.toFixed(2)}× (median of paired ratios ${q.firstFramePairedMedian.toFixed(2)}×),` +
          ` playing ${q.playing.toFixed(2)}×, from navigation ${q.fromNavigation.toFixed(2)}×`,
      );
    }
  }
  console.log(`\nwrote ${path.relative(REPO, OUT)}`);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
