// Our player (player-wasm's npm package, as `make wasm` builds it) in headless Chromium,
// playing the collector's encoded ladder through every route of the origin: `/media/` to
// the end, `/shaped/` through a trace that drops and recovers, seeks, `/live/`,
// `/faults/` (500s, a stall, a truncated segment), `destroy()` and a second player on the
// same element, and the options' TypeErrors.
//
// Everything is real: the release collector, ffmpeg (through `collector encode`),
// Debian's Chromium, the wasm package. Nothing asserts a duration; deadlines only bound
// how long a failure takes to report. Run with `make e2e`, or here with
// `node --test --test-concurrency=1 player.test.mjs` once player-wasm/pkg/ is built.
// Artifacts (screenshots, each page's event log, the collector's log) land in
// tests/e2e/artifacts/player-*.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  ARTIFACTS,
  buildCollector,
  get,
  installOurPage,
  launchChromium,
  run,
  startCollector,
  tail,
  tempDir,
  writeStepTrace,
} from './lib/harness.mjs';

// The ladder of origin.test.mjs, encoded twice: a short one that is played to the end
// (and serves the seek, fault and destroy tests), and a long one for the shaped session,
// whose up-switch shows on screen some 25 s after the network recovers, and for /live/.
const LADDER = '360p:1600k,240p:600k,144p:150k';
const SHORT_S = 20;
const LONG_S = 50;
const SEGMENT_S = 2;

// The shaped session's trace: HIGH_MBPS (several times the top rung) until DROP_S, then
// LOW_MBPS (only the lowest rung fits, audio included) until RECOVER_S, then HIGH again.
const TRACE = 'e2e-high-low-high';
const DROP_S = 6;
const RECOVER_S = 12;
const HIGH_MBPS = 10;
const LOW_MBPS = 0.45;

// How long the live session is watched (the issue asks for 60 s; 30 keeps the suite
// near three minutes: E2E_LIVE_SECONDS=60 for the full length).
const LIVE_SECONDS = Number(process.env.E2E_LIVE_SECONDS || 30);
// Where the player starts: liveSyncDurationCount (default 3) target durations before the
// end of the first playlist it loads (RFC 8216 6.3.3).
const LIVE_SYNC_TARGET_DURATIONS = 3;
// The live edge is the end of the newest segment the origin lists at that instant. A
// player that holds its start point sees it between 2 and 4 target durations away plus
// its startup time: the window moves a whole segment at a time, and the first playlist
// was up to one segment old when it arrived. (hls.js on the same stream: 6.2 to 7.7 s
// with 2 s segments.) Bound: 4 target durations and one second.
const LIVE_MAX_TARGET_DURATIONS = 4;
const LIVE_STARTUP_ALLOWANCE_S = 1;
// "Stays": the wall-clock latency (now minus the program date-time at the playhead) may
// not grow by more than this while watching (a stall or slow playback would).
const LIVE_MAX_DRIFT_S = 0.5;

// /faults/: every request draws a 500 with probability 0.2 (seeded); video segment
// STALL_SEG pauses 5 s half-way; video segment TRUNC_SEG is cut at half its length on its
// first request (a seeded draw chosen below so that the next requests are not cut).
const FAULT_500 = 'status=500,p=0.2,seed=7';
const FAULT_STALL = 'stall=5s,at=0.5';
const STALL_SEG = 2;
const TRUNC_SEG = 4;
// Played until this position: past both faulty segments.
const FAULTS_PLAY_TO_S = (TRUNC_SEG + 1) * SEGMENT_S + 2;

// Deadline for things that take a few seconds on an idle machine.
const WAIT = 45_000;

let collector;
let browser;
let work;
let ladderLevels;
let frameRate;
let faultTruncate;

/**
 * The draw of the collector's /faults/ for request `k` of (`spec`, `path`) under `seed`
 * (collector/src/origin/faults/draw.rs: FNV-1a over length-prefixed parts, then a 64-bit
 * finaliser). Used only to pick a seed; the collector's log then shows what happened.
 */
function faultDraw(seed, spec, path, k) {
  const MASK = (1n << 64n) - 1n;
  const le64 = (n) => {
    const b = [];
    let x = BigInt(n);
    for (let i = 0; i < 8; i++) {
      b.push(Number(x & 0xffn));
      x >>= 8n;
    }
    return b;
  };
  let h = 0xcbf29ce484222325n;
  const eat = (bytes) => {
    for (const b of bytes) {
      h ^= BigInt(b);
      h = (h * 0x100000001b3n) & MASK;
    }
  };
  eat(le64(seed));
  for (const part of [Buffer.from(spec), Buffer.from(path), le64(k)]) {
    eat(le64(part.length));
    eat(part);
  }
  let x = h;
  x ^= x >> 30n;
  x = (x * 0xbf58476d1ce4e5b9n) & MASK;
  x ^= x >> 27n;
  x = (x * 0x94d049bb133111ebn) & MASK;
  x ^= x >> 31n;
  return Number(x >> 11n) / 2 ** 53;
}

function encode(bin, out, seconds) {
  run(
    bin,
    [
      'encode',
      '--test-pattern',
      String(seconds),
      '--out',
      out,
      '--ladder',
      LADDER,
      '--segment-seconds',
      String(SEGMENT_S),
      '--codec',
      'h264',
      '--pattern-size',
      '640x360',
    ],
    `collector encode (${seconds} s)`,
  );
  assert.ok(fs.existsSync(path.join(out, 'master.m3u8')), `collector encode wrote no master.m3u8 in ${out}`);
}

/** URIs of a master playlist: { video: [media playlist URIs], audio: [...] }. */
function masterUris(text) {
  const video = [];
  const audio = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.startsWith('#EXT-X-STREAM-INF:')) {
      video.push(lines[i + 1].trim());
    } else if (line.startsWith('#EXT-X-MEDIA:')) {
      const m = /URI="([^"]+)"/.exec(line);
      if (m) audio.push(m[1]);
    }
  });
  return { video, audio };
}

/**
 * A copy of ladder `name`'s playlists under `media/faulty/`, whose media URIs point into
 * /faults/ with a spec per segment: the three faults of one session, which one spec per
 * URL cannot express. The playlists themselves are fetched through FAULT_500.
 */
function writeFaultyPlaylists(media, name) {
  const ladder = path.join(media, name);
  const master = fs.readFileSync(path.join(ladder, 'master.m3u8'), 'utf8');
  const { video, audio } = masterUris(master);
  // The seed of the truncation: the first request for TRUNC_SEG of every video rendition
  // is cut, the next two are not.
  const truncPaths = video.map((uri) => `${name}/${path.posix.dirname(uri)}/seg_${String(TRUNC_SEG).padStart(3, '0')}.m4s`);
  let truncSpec = null;
  for (let seed = 1; seed < 100_000 && truncSpec === null; seed++) {
    const spec = `p=0.5,truncate=0.5,seed=${seed}`;
    const ok = truncPaths.every(
      (p) => faultDraw(seed, spec, p, 0) < 0.5 && faultDraw(seed, spec, p, 1) >= 0.5 && faultDraw(seed, spec, p, 2) >= 0.5,
    );
    if (ok) truncSpec = spec;
  }
  assert.ok(truncSpec, 'no seed makes the truncation happen once per rendition');

  const out = path.join(media, 'faulty');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'master.m3u8'), master);
  for (const uri of [...video, ...audio]) {
    const dir = path.posix.dirname(uri);
    const isVideo = video.includes(uri);
    const text = fs.readFileSync(path.join(ladder, uri), 'utf8');
    let index = -1;
    const rewritten = text
      .split(/\r?\n/)
      .map((line) => {
        if (line.startsWith('#EXT-X-MAP:')) {
          return line.replace(/URI="([^"]+)"/, (_, u) => `URI="/faults/${FAULT_500}/${name}/${dir}/${u}"`);
        }
        if (line === '' || line.startsWith('#')) return line;
        index += 1;
        let spec = FAULT_500;
        if (isVideo && index === STALL_SEG) spec = FAULT_STALL;
        if (isVideo && index === TRUNC_SEG) spec = truncSpec;
        return `/faults/${spec}/${name}/${dir}/${line}`;
      })
      .join('\n');
    fs.mkdirSync(path.join(out, dir), { recursive: true });
    fs.writeFileSync(path.join(out, uri), rewritten);
  }
  return truncSpec;
}

before(
  async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
    const bin = buildCollector();
    work = tempDir('wasm-player-e2e-ours-');
    const media = path.join(work, 'media');
    const traces = path.join(work, 'traces');
    fs.mkdirSync(media, { recursive: true });
    fs.mkdirSync(traces, { recursive: true });
    // The page first: a missing package fails at once, before any encoding.
    installOurPage(path.join(media, 'ours'));

    encode(bin, path.join(media, 'short'), SHORT_S);
    encode(bin, path.join(media, 'long'), LONG_S);
    const master = fs.readFileSync(path.join(media, 'short', 'master.m3u8'), 'utf8');
    ladderLevels = masterUris(master).video.length;
    assert.ok(ladderLevels >= 2, `the ladder has ${ladderLevels} variants; the shaped test needs 2 or more`);
    frameRate = Number((/FRAME-RATE=([\d.]+)/.exec(master) || [])[1] || 30);

    writeStepTrace(path.join(traces, TRACE), [
      [DROP_S, HIGH_MBPS],
      [RECOVER_S, LOW_MBPS],
      [600, HIGH_MBPS],
    ]);
    faultTruncate = writeFaultyPlaylists(media, 'short');

    collector = await startCollector(
      bin,
      ['--media', media, '--traces', traces, '--log', 'info'],
      path.join(ARTIFACTS, 'player-collector.log'),
    );
    const health = await get(`${collector.base}/healthz`);
    assert.equal(health.status, 200, `GET /healthz answered ${health.status}`);
  },
  { timeout: 600_000 },
);

after(async () => {
  await browser?.close();
  await collector?.stop();
  if (work && !process.env.E2E_KEEP) {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

/** A fresh page with the wasm package initialised. */
async function openPage(name) {
  const context = await browser.newContext({ viewport: { width: 660, height: 420 } });
  const page = await context.newPage();
  const console = [];
  page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.push(`pageerror: ${e.message}`));
  const url = `${collector.base}/media/ours/ours.html`;
  const res = await page.goto(url);
  assert.equal(res.status(), 200, `GET ${url} answered ${res.status()}`);
  await page.waitForFunction(() => e2e.ready || e2e.initError !== null, null, { timeout: WAIT });
  const initError = await page.evaluate(() => e2e.initError);
  assert.equal(initError, null, `${name}: the wasm package did not initialise`);
  return { name, page, context, console };
}

/** `new Player(video, options)` and `load(src)` in the page. */
async function start(p, src, options) {
  const created = await p.page.evaluate(
    ([src, options]) => {
      const r = e2e.create(options === null ? undefined : options);
      if (r.ok) e2e.load(src);
      return r;
    },
    [src, options ?? null],
  );
  assert.ok(created.ok, `${p.name}: new Player threw ${created.name}: ${created.message}`);
  return created;
}

/** What the page recorded, for failure messages and the artifacts. */
async function report(p) {
  const state = await p.page
    .evaluate(() => ({
      fatal: e2e.fatal,
      generation: e2e.generation,
      loads: e2e.loads,
      snapshot: e2e.snapshot(),
      events: e2e.events,
      media: e2e.media,
    }))
    .catch((e) => ({ unavailable: String(e), events: [], media: [] }));
  state.console = p.console;
  return state;
}

function describeEvent(e) {
  const { t, gen, type, ...rest } = e;
  if (type === 'manifestLoaded') {
    return `${(t / 1000).toFixed(2)}s [${gen}] ${type} levels=${rest.levels.length} live=${rest.live}`;
  }
  return `${(t / 1000).toFixed(2)}s [${gen}] ${type} ${JSON.stringify(rest)}`;
}

function summary(state) {
  const { stats, ...snap } = state.snapshot || {};
  return [
    `fatal: ${state.fatal}`,
    `snapshot: ${JSON.stringify(snap)}`,
    `stats: ${JSON.stringify(stats)}`,
    `last player events:\n  ${(state.events || []).slice(-15).map(describeEvent).join('\n  ')}`,
    `last element events: ${JSON.stringify((state.media || []).slice(-8))}`,
    `console: ${(state.console || []).slice(-5).join(' | ')}`,
    `collector log (tail):\n${tail(collector.logFile, 8)}`,
  ].join('\n');
}

/** Waits until `predicate` (run in the page, with `arg`) holds or the player failed. */
async function waitFor(p, what, predicate, arg, timeout = WAIT) {
  const guarded =
    `(() => { const arg = ${JSON.stringify(arg ?? null)}; ` +
    `return e2e.fatal !== null || (${predicate.toString()})(arg); })()`;
  try {
    await p.page.waitForFunction(guarded, null, { timeout, polling: 200 });
  } catch (e) {
    const state = await report(p);
    assert.fail(`${p.name}: timed out waiting until ${what} (${e.message.split('\n')[0]})\n${summary(state)}`);
  }
  const state = await report(p);
  if (state.fatal) {
    assert.fail(`${p.name}: the player failed while waiting until ${what}\n${summary(state)}`);
  }
  return state;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until playback has moved `seconds` past where it is now (or, with `fromStart`,
 * until it has started), and checks that frames were decoded meanwhile.
 */
async function checkAdvancing(p, seconds, what = '') {
  const first = await waitFor(
    p,
    `playback runs${what} (decoded frames, not paused, readyState >= 3)`,
    () => {
      const s = e2e.snapshot();
      return s.totalVideoFrames > 0 && !s.paused && !s.seeking && s.readyState >= 3;
    },
  );
  const s1 = first.snapshot;
  const later = await waitFor(
    p,
    `playback advances ${seconds} s past ${s1.currentTime.toFixed(2)} s${what}`,
    (a) => e2e.snapshot().currentTime >= a.from + a.seconds,
    { from: s1.currentTime, seconds },
  );
  const s2 = later.snapshot;
  assert.ok(
    s2.totalVideoFrames > s1.totalVideoFrames,
    `${p.name}: no new frames decoded${what} (${s1.totalVideoFrames} then ${s2.totalVideoFrames})\n${summary(later)}`,
  );
  assert.ok(s2.currentTime > s1.currentTime, `${p.name}: currentTime did not advance${what}`);
  return { s1, s2, state: later };
}

/** The picture is not blank; saves a screenshot. */
async function checkPicture(p, file) {
  const snap = await p.page.evaluate(() => e2e.snapshot());
  assert.ok(snap.videoWidth > 0 && snap.videoHeight > 0, `${p.name}: the video has no size`);
  const frame = await p.page.evaluate(() => e2e.frameStats());
  assert.ok(
    frame.stddev > 8,
    `${p.name}: the frame on screen is blank (luma mean ${frame.mean.toFixed(1)}, deviation ${frame.stddev.toFixed(2)})`,
  );
  await p.page.screenshot({ path: path.join(ARTIFACTS, `${file}.png`) });
}

async function finish(p) {
  const state = await report(p);
  fs.writeFileSync(path.join(ARTIFACTS, `${p.name}.json`), JSON.stringify(state, null, 1));
  await p.context.close();
  return state;
}

const ofType = (state, type, gen) =>
  state.events.filter((e) => e.type === type && (gen === undefined || e.gen === gen));

test('/media/: our player plays the ladder to the end', { timeout: 120_000 }, async (t) => {
  const p = await openPage('player-media');
  try {
    await start(p, '/media/short/master.m3u8');
    const { s1 } = await checkAdvancing(p, 2);
    await checkPicture(p, 'player-media');
    const state = await waitFor(
      p,
      'the player says ended and the element has ended',
      () => e2e.events.some((e) => e.type === 'ended') && e2e.snapshot().ended,
      null,
      SHORT_S * 1000 + WAIT,
    );
    const s = state.snapshot;
    const manifest = ofType(state, 'manifestLoaded')[0];
    assert.equal(manifest.levels.length, ladderLevels, 'manifestLoaded: not every level of the ladder');
    assert.ok(Math.abs(s.duration - SHORT_S) < 0.5, `duration ${s.duration}, the ladder lasts ${SHORT_S} s`);
    assert.ok(s.currentTime >= s.duration - 0.25, `ended at ${s.currentTime} of ${s.duration}`);
    assert.ok(state.media.some((e) => e.name === 'ended'), 'the element fired no ended event');
    // Every frame of the content was decoded (a skipped segment or a jump would show).
    const contentFrames = SHORT_S * frameRate;
    assert.ok(
      s.totalVideoFrames > s1.totalVideoFrames && s.totalVideoFrames >= 0.9 * contentFrames,
      `${s.totalVideoFrames} frames decoded for ${contentFrames} in the content`,
    );
    // Nothing failed on the plain route.
    assert.deepEqual(ofType(state, 'error'), [], 'error events on /media/');
    const switched = ofType(state, 'levelSwitched');
    t.diagnostic(
      `ended at ${s.currentTime.toFixed(3)} s of ${s.duration} s; ${s.totalVideoFrames} frames decoded ` +
        `(${s.droppedVideoFrames} dropped) of ${contentFrames}; switches: ` +
        switched.map((e) => `${e.from}->${e.to} ${e.reason}`).join(', ') +
        `; stalls ${ofType(state, 'bufferStalled').length}`,
    );
  } finally {
    await finish(p);
  }
});

test(
  `/shaped/: switches down when the trace drops to ${LOW_MBPS} Mbit/s and up when it returns to ${HIGH_MBPS}`,
  { timeout: 150_000 },
  async (t) => {
    const p = await openPage('player-shaped');
    const session = `player-${process.pid}-${Date.now()}`;
    try {
      // A short buffer, so that fragments are being fetched when the trace changes and a
      // switch reaches the screen soon after it is decided.
      await start(p, `/shaped/${TRACE}/${session}/long/master.m3u8`, { maxBufferSeconds: 4 });
      await checkAdvancing(p, 2);
      await checkPicture(p, 'player-shaped');
      // The session's clock starts with its first request, right after load().
      const down = await waitFor(
        p,
        `a levelSwitched to a lower level after the drop at ${DROP_S} s of the session`,
        (a) => {
          const at = e2e.loads[0].t + a.drop * 1000;
          return e2e.events.some((e) => e.type === 'levelSwitched' && e.from !== null && e.to < e.from && e.t >= at);
        },
        { drop: DROP_S },
        90_000,
      );
      await p.page.screenshot({ path: path.join(ARTIFACTS, 'player-shaped-low.png') });
      const up = await waitFor(
        p,
        `a levelSwitched to a higher level after the recovery at ${RECOVER_S} s of the session`,
        (a) => {
          const at = e2e.loads[0].t + a.recover * 1000;
          return e2e.events.some((e) => e.type === 'levelSwitched' && e.from !== null && e.to > e.from && e.t >= at);
        },
        { recover: RECOVER_S },
        90_000,
      );
      const { s2 } = await checkAdvancing(p, 1, ' after the up-switch');
      await checkPicture(p, 'player-shaped-high');

      const t0 = up.loads[0].t;
      const dropAt = t0 + DROP_S * 1000;
      const recoverAt = t0 + RECOVER_S * 1000;
      const switched = ofType(up, 'levelSwitched');
      const switching = ofType(up, 'levelSwitching');
      const decisionOf = (s) => switching.filter((d) => d.to === s.to && d.t <= s.t).at(-1);
      const rel = (ms) => `${((ms - t0) / 1000).toFixed(1)} s`;

      const beforeDrop = switched.filter((s) => s.t < dropAt).at(-1);
      assert.ok(beforeDrop && beforeDrop.to > 0, `the player was on the lowest level when the trace dropped\n${summary(down)}`);
      const downSwitch = switched.find((s) => s.t >= dropAt && s.from !== null && s.to < s.from);
      assert.ok(
        !['startup', 'manual'].includes(downSwitch.reason),
        `the down-switch after the drop gives reason ${downSwitch.reason}`,
      );
      const downDecision = decisionOf(downSwitch);
      assert.ok(
        downDecision && downDecision.t >= dropAt,
        `the down-switch ${JSON.stringify(downSwitch)} was decided before the drop: ${JSON.stringify(downDecision)}`,
      );
      const upSwitch = switched.find((s) => s.t >= recoverAt && s.from !== null && s.to > s.from);
      assert.ok(!['startup', 'manual'].includes(upSwitch.reason), `the up-switch gives reason ${upSwitch.reason}`);
      const upDecision = decisionOf(upSwitch);
      assert.ok(
        upDecision && upDecision.t >= recoverAt,
        `the up-switch ${JSON.stringify(upSwitch)} was decided before the recovery: ${JSON.stringify(upDecision)}`,
      );
      t.diagnostic(
        `levelSwitched: ${switched.map((s) => `${s.from}->${s.to} ${s.reason} at ${rel(s.t)}`).join('; ')}`,
      );
      t.diagnostic(
        `decisions: ${switching.map((s) => `${s.from}->${s.to} ${s.reason} at ${rel(s.t)}`).join('; ')}; ` +
          `abandoned ${ofType(up, 'fragAbandoned').length}; stalls ${ofType(up, 'bufferStalled').length}; ` +
          `estimate ${Math.round(s2.stats.bandwidthEstimateBps / 1000)} kbit/s at ${rel(s2.t)}`,
      );
    } finally {
      await finish(p);
    }
  },
);

test('seeks: forward into unbuffered media, backwards, and while paused', { timeout: 120_000 }, async (t) => {
  const p = await openPage('player-seek');
  const figures = [];
  const seeks = [];
  /** Seeks to `to`; waits for the player's and the element's seeked. */
  async function seek(to, what) {
    const before = await p.page.evaluate((to) => {
      const s = e2e.snapshot();
      const inside = s.buffered.some(([a, b]) => to >= a && to < b);
      const t = performance.now();
      e2e.player.seek(to);
      return { t, inside, buffered: s.buffered, paused: s.paused };
    }, to);
    const state = await waitFor(
      p,
      `the seek to ${to} s (${what}) completes`,
      (a) =>
        e2e.events.some((e) => e.type === 'seeked' && e.t >= a.t) &&
        e2e.media.some((e) => e.name === 'seeked' && e.t >= a.t) &&
        !e2e.snapshot().seeking,
      { t: before.t },
    );
    const event = ofType(state, 'seeked').find((e) => e.t >= before.t);
    const element = state.media.find((e) => e.name === 'seeked' && e.t >= before.t);
    assert.ok(Math.abs(event.position - to) < 0.5, `seeked event at ${event.position}, asked for ${to}`);
    assert.ok(
      Math.abs(element.currentTime - to) < 0.5,
      `the element's seeked came at ${element.currentTime}, asked for ${to}`,
    );
    const seeking = state.media.find((e) => e.name === 'seeking' && e.t >= before.t);
    seeks.push({ what, to, called: before.t, seeking: seeking?.t, elementSeeked: element.t, event });
    figures.push(
      `${what} to ${to} s: player seeked at ${event.position.toFixed(2)} s, latency ${event.latency.toFixed(3)} s, ` +
        `${(event.t - before.t).toFixed(1)} ms after seek(); element seeked ${(element.t - before.t).toFixed(1)} ms after`,
    );
    return { before, state };
  }
  try {
    await start(p, '/media/short/master.m3u8', { maxBufferSeconds: 4 });
    await checkAdvancing(p, 1);

    // Forward, past what is buffered.
    const fwd = 12;
    const forward = await seek(fwd, 'forward');
    assert.ok(
      !forward.before.inside,
      `${fwd} s was already buffered (${JSON.stringify(forward.before.buffered)}): not a seek into unbuffered media`,
    );
    const a = await checkAdvancing(p, 1.5, ` after seeking to ${fwd} s`);
    assert.ok(a.s1.currentTime >= fwd - 0.5, `playback went on from ${a.s1.currentTime}, not from ${fwd}`);
    await checkPicture(p, 'player-seek-forward');

    // Backwards.
    const back = 3;
    await seek(back, 'backwards');
    const b = await checkAdvancing(p, 1.5, ` after seeking back to ${back} s`);
    assert.ok(
      b.s1.currentTime >= back - 0.5 && b.s1.currentTime < fwd,
      `playback went on from ${b.s1.currentTime}, not from ${back}`,
    );

    // While paused: the element stays paused where it was sent, then plays on from there.
    await p.page.evaluate(() => e2e.player.pause());
    await waitFor(p, 'the element is paused', () => e2e.snapshot().paused);
    const paused = 8;
    await seek(paused, 'while paused');
    const still1 = await p.page.evaluate(() => e2e.snapshot());
    await sleep(1000);
    const still2 = await p.page.evaluate(() => e2e.snapshot());
    assert.ok(still1.paused && still2.paused, 'the element started playing after a seek while paused');
    assert.ok(
      Math.abs(still2.currentTime - paused) < 0.5 && Math.abs(still2.currentTime - still1.currentTime) < 0.05,
      `paused after seeking to ${paused} s, currentTime went ${still1.currentTime} -> ${still2.currentTime}`,
    );
    await checkPicture(p, 'player-seek-paused');
    await p.page.evaluate(() => e2e.player.play());
    const c = await checkAdvancing(p, 1.5, ` after play() at ${paused} s`);
    assert.ok(
      c.s1.currentTime >= paused - 0.5 && c.s1.currentTime < fwd,
      `playback resumed from ${c.s1.currentTime}, not from ${paused}`,
    );
    const state = await report(p);
    assert.equal(state.fatal, null);
    t.diagnostic(figures.join('; ') + `; stalls ${ofType(state, 'bufferStalled').length}`);
    // The player's `seeked` says a seek is done: after the element began seeking, and not
    // before the element finished it. The element clears `seeking` before its queued
    // `seeked` event runs, and the player may read that state a moment earlier, so the
    // two may come in either order within a few milliseconds; a player that announced
    // the seek before the element had even started it fails here.
    for (const s of seeks) {
      assert.ok(
        s.seeking !== undefined &&
          s.event.t > s.seeking &&
          s.event.t >= s.elementSeeked - 20 &&
          s.event.latency > 0,
        `${s.what}: the player's seeked event (latency ${s.event.latency}) came ` +
          `${(s.event.t - s.called).toFixed(1)} ms after seek(${s.to}); the element's seeking came after ` +
          `${(s.seeking - s.called).toFixed(1)} ms and its seeked after ${(s.elementSeeked - s.called).toFixed(1)} ms`,
      );
    }
  } finally {
    await finish(p);
  }
});

/** Segments of a media playlist with their program date-times (ms). */
function parseMedia(text) {
  const segments = [];
  let targetDuration = null;
  let duration = null;
  let pdt = null;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#EXT-X-TARGETDURATION:')) {
      targetDuration = Number(line.slice(22));
    } else if (line.startsWith('#EXTINF:')) {
      duration = parseFloat(line.slice(8));
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      pdt = Date.parse(line.slice(25));
    } else if (line && !line.startsWith('#')) {
      segments.push({ uri: line, duration, pdt });
      pdt = pdt === null ? null : pdt + duration * 1000;
    }
  }
  return { segments, targetDuration };
}

test(
  `/live/: starts ${LIVE_SYNC_TARGET_DURATIONS} target durations from the live edge and stays there for ${LIVE_SECONDS} s`,
  { timeout: 60_000 + LIVE_SECONDS * 1000 },
  async (t) => {
    const p = await openPage('player-live');
    // The player's timeline starts (0) at the first segment of the first media playlist
    // it loads; that segment's program date-time ties the element's currentTime to the
    // origin's clock. Recorded from the network, as the page received it.
    let first = null;
    p.page.on('response', async (res) => {
      const url = res.url();
      if (first === null && /\/live\/long\/(?!audio\/)[^/?]+\/index\.m3u8(\?|$)/.test(url)) {
        first = { url, text: null };
        first.text = await res.text().catch(() => null);
      }
    });
    /** The origin's live edge (end of its newest segment, ms) at wall-clock time `ms`. */
    async function edgeAt(ms) {
      const url = new URL(first.url);
      url.search = '';
      url.searchParams.set('at', (ms / 1000).toFixed(3));
      const res = await get(url.href);
      assert.equal(res.status, 200, `GET ${url.href}`);
      const newest = parseMedia(res.text).segments.at(-1);
      return newest.pdt + newest.duration * 1000;
    }
    try {
      await start(p, '/live/long/master.m3u8');
      await checkAdvancing(p, 2);
      await checkPicture(p, 'player-live');
      assert.ok(first && first.text, 'the first live media playlist was not captured');
      const firstPlaylist = parseMedia(first.text);
      const origin = firstPlaylist.segments[0].pdt;
      assert.ok(origin !== null, `no EXT-X-PROGRAM-DATE-TIME in ${first.url}`);
      const target = firstPlaylist.targetDuration;
      const firstEnd = firstPlaylist.segments.reduce((sum, seg) => sum + seg.duration, 0);

      // The start point: 3 target durations before the end of the playlist it loaded.
      const begun = await report(p);
      const playing = begun.media.find((e) => e.name === 'playing');
      const expectedStart = firstEnd - LIVE_SYNC_TARGET_DURATIONS * target;
      assert.ok(
        Math.abs(playing.currentTime - expectedStart) < 0.5,
        `playback began at ${playing.currentTime.toFixed(2)} s of a first playlist ending at ${firstEnd} s, ` +
          `not ${LIVE_SYNC_TARGET_DURATIONS} target durations (${target} s) before its end`,
      );
      const firstLevel = ofType(begun, 'levelLoaded')[0];
      const firstFrame = ofType(begun, 'firstFrame')[0];
      const startupS = (firstFrame.t - firstLevel.t) / 1000;

      const samples = [];
      const startedAt = Date.now();
      while (Date.now() - startedAt < LIVE_SECONDS * 1000) {
        await sleep(1000);
        const snap = await p.page.evaluate(() => e2e.snapshot());
        const fatal = await p.page.evaluate(() => e2e.fatal);
        assert.equal(fatal, null, `the player failed on /live/`);
        const edge = await edgeAt(snap.wallMs);
        const playhead = origin + snap.currentTime * 1000;
        const seekableEnd = snap.seekable.length ? snap.seekable.at(-1)[1] : NaN;
        samples.push({
          currentTime: snap.currentTime,
          frames: snap.totalVideoFrames,
          live: snap.stats.live,
          toEdge: (edge - playhead) / 1000,
          toClock: (snap.wallMs - playhead) / 1000,
          toSeekableEnd: seekableEnd - snap.currentTime,
        });
      }
      const state = await report(p);
      fs.writeFileSync(path.join(ARTIFACTS, 'player-live-samples.json'), JSON.stringify(samples, null, 1));
      const min = (k) => Math.min(...samples.map((s) => s[k]));
      const max = (k) => Math.max(...samples.map((s) => s[k]));
      const range = (k) => `${min(k).toFixed(2)}..${max(k).toFixed(2)} s`;
      const bound = LIVE_MAX_TARGET_DURATIONS * target + LIVE_STARTUP_ALLOWANCE_S;
      const figures =
        `target duration ${target} s; began at ${playing.currentTime.toFixed(2)} s of a ${firstEnd} s window, ` +
        `startup ${startupS.toFixed(2)} s; distance to the live edge ${range('toEdge')} (bound ${bound} s); ` +
        `wall-clock latency ${range('toClock')}; to the end of seekable ${range('toSeekableEnd')}; ` +
        `stalls ${ofType(state, 'bufferStalled').length}; playlist loads ${ofType(state, 'levelLoaded').length}`;
      t.diagnostic(figures);

      assert.ok(samples.every((s) => s.live === true), 'stats().live was not true throughout');
      assert.ok(
        ofType(state, 'levelLoaded').filter((e) => e.live).length >= 2,
        'the player did not reload the live playlist',
      );
      const firstSample = samples[0];
      const lastSample = samples.at(-1);
      assert.ok(lastSample.frames > firstSample.frames, 'no frames decoded while watching live');
      assert.ok(lastSample.currentTime > firstSample.currentTime, 'currentTime did not advance on /live/');
      assert.ok(
        max('toClock') - min('toClock') <= LIVE_MAX_DRIFT_S,
        `the latency to the wall clock drifted by more than ${LIVE_MAX_DRIFT_S} s (${figures})`,
      );
      const far = samples.filter((s) => s.toEdge > bound || s.toEdge <= 0);
      assert.deepEqual(far, [], `the playhead left (0, ${bound}] s behind the live edge (${figures})`);
      await checkPicture(p, 'player-live-end');
    } finally {
      await finish(p);
    }
  },
);

test('startPosition: playback begins there, and viewId names each load', { timeout: 60_000 }, async () => {
  const p = await openPage('player-start-position');
  try {
    const before = await p.page.evaluate(() => (e2e.create({ startPosition: 10 }), e2e.player.viewId));
    assert.equal(before, undefined, 'no view before load()');
    await p.page.evaluate(() => e2e.load('/media/short/master.m3u8'));
    const { s1 } = await checkAdvancing(p, 1, ' from startPosition 10');
    assert.ok(s1.currentTime >= 10 && s1.currentTime < 12, `playback began at ${s1.currentTime} s, not 10 s`);
    const first = await p.page.evaluate(() => e2e.player.viewId);
    assert.match(first, /^[0-9a-f]{32}$/);
    await p.page.evaluate(() => e2e.load('/media/short/master.m3u8'));
    const second = await p.page
      .waitForFunction((first) => e2e.player.viewId !== first && e2e.player.viewId, first, { timeout: 5_000 })
      .then((handle) => handle.jsonValue())
      .catch(() => null);
    assert.ok(second && second !== first, `a new load() is a new view: ${first} then ${second}`);
  } finally {
    await finish(p);
  }
});

test('/faults/: recovers from 500s, a 5 s stall and a truncated segment without a fatal error', { timeout: 150_000 }, async (t) => {
  const p = await openPage('player-faults');
  const logStart = fs.statSync(collector.logFile).size;
  try {
    await start(p, `/faults/${FAULT_500}/faulty/master.m3u8`);
    await checkAdvancing(p, 1);
    const state = await waitFor(
      p,
      `playback reaches ${FAULTS_PLAY_TO_S} s, past the stalled and the truncated segment`,
      (a) => e2e.snapshot().currentTime >= a.to,
      { to: FAULTS_PLAY_TO_S },
      90_000,
    );
    const { s2 } = await checkAdvancing(p, 1, ' after the faults');
    await checkPicture(p, 'player-faults');

    const log = fs.readFileSync(collector.logFile, 'utf8').slice(logStart);
    const injected = [...log.matchAll(/collector::faults: path="([^"]+)" injected=(.*)$/gm)].map((m) => ({
      path: m[1],
      what: m[2],
    }));
    const count = (re) => injected.filter((i) => re.test(i.what)).length;
    const stalls = injected.filter((i) => /stall/.test(i.what));
    const cuts = injected.filter((i) => /truncate/.test(i.what));
    // The faults happened (otherwise this test proves nothing)…
    assert.ok(count(/status=500/) > 0, `no 500 was injected:\n${log.slice(-2000)}`);
    assert.ok(stalls.length > 0, 'the stall was never injected');
    assert.ok(cuts.length > 0, `the truncation was never injected (spec ${faultTruncate})`);
    // …and the player got past them: both segments reached the buffer, nothing was fatal.
    const main = (seq) => ofType(state, 'fragLoaded').filter((e) => e.track === 'main' && e.sequence === seq);
    assert.ok(main(STALL_SEG).length > 0, `video segment ${STALL_SEG} (stalled) never loaded`);
    assert.ok(main(TRUNC_SEG).length > 0, `video segment ${TRUNC_SEG} (truncated) never loaded`);
    const errors = ofType(state, 'error');
    assert.deepEqual(errors.filter((e) => e.fatal), [], 'fatal error events');
    assert.equal(state.fatal, null);
    t.diagnostic(
      `injected: ${count(/status=500/)} x 500, stalls on ${stalls.map((i) => i.path).join(', ')}, ` +
        `cuts on ${cuts.map((i) => i.path).join(', ')}; player: ${ofType(state, 'retryScheduled').length} retries, ` +
        `${errors.length} non-fatal errors (${[...new Set(errors.map((e) => e.kind))].join(', ')}), ` +
        `${ofType(state, 'fragAbandoned').length} abandoned, ${ofType(state, 'bufferStalled').length} stalls ` +
        `(${ofType(state, 'bufferStallEnded').map((e) => e.duration.toFixed(2)).join(', ')} s); ` +
        `reached ${s2.currentTime.toFixed(2)} s; switches ` +
        ofType(state, 'levelSwitched').map((e) => `${e.from}->${e.to} ${e.reason}`).join(', '),
    );
  } finally {
    await finish(p);
  }
});

test('destroy() releases the element and a new Player on it plays again', { timeout: 120_000 }, async (t) => {
  const p = await openPage('player-destroy');
  const cdp = await p.context.newCDPSession(p.page);
  /** The listeners on the <video> element, by type (DevTools protocol). */
  async function elementListeners() {
    const { result } = await cdp.send('Runtime.evaluate', { expression: 'document.getElementById("video")' });
    const { listeners } = await cdp.send('DOMDebugger.getEventListeners', { objectId: result.objectId });
    await cdp.send('Runtime.releaseObject', { objectId: result.objectId });
    return listeners.map((l) => l.type).sort();
  }
  try {
    const pageOnly = await elementListeners();
    await start(p, '/media/short/master.m3u8');
    await checkAdvancing(p, 1.5);
    const withPlayer = await elementListeners();
    assert.ok(withPlayer.length > pageOnly.length, 'the player added no listener to the element (the check below would prove nothing)');

    const destroyed = await p.page.evaluate(() => {
      e2e.destroy();
      return { events: e2e.events.length, snapshot: e2e.snapshot() };
    });
    await sleep(2000);
    const after = await p.page.evaluate((at) => ({
      events: e2e.events.slice(at),
      requests: performance
        .getEntriesByType('resource')
        .filter((r) => r.startTime > e2e.destroyedAt)
        .map((r) => r.name),
      snapshot: e2e.snapshot(),
    }), destroyed.events);
    const leftover = await elementListeners();
    assert.deepEqual(leftover, pageOnly, `listeners left on the element after destroy() (page's own: ${pageOnly.join(', ')})`);
    assert.deepEqual(after.events, [], 'events after destroy()');
    assert.deepEqual(after.requests, [], 'requests started after destroy()');

    // A second player on the same element.
    const second = await p.page.evaluate(() => {
      const r = e2e.create();
      if (r.ok) e2e.load('/media/short/master.m3u8');
      return r;
    });
    assert.ok(second.ok, `new Player after destroy() threw ${second.name}: ${second.message}`);
    await waitFor(p, 'the second player shows its first frame', (a) => e2e.events.some((e) => e.gen === a.gen && e.type === 'firstFrame'), { gen: second.gen });
    const { s1, s2 } = await checkAdvancing(p, 2, ' with the second player');
    await checkPicture(p, 'player-destroy');
    const state = await report(p);
    assert.ok(s1.currentTime < SHORT_S / 2, `the second player started at ${s1.currentTime} s`);
    assert.equal(state.events.filter((e) => e.gen === 1).length, destroyed.events, 'the destroyed player sent events to its listener later on');
    t.diagnostic(
      `listeners on <video>: page ${pageOnly.length}, with the player ${withPlayer.length}, after destroy ${leftover.length}; ` +
        `after destroy: element src ${after.snapshot.hasSrc ? 'kept' : 'removed'}, currentTime ${destroyed.snapshot.currentTime.toFixed(2)} -> ${after.snapshot.currentTime.toFixed(2)}; ` +
        `second player: ${s1.currentTime.toFixed(2)} -> ${s2.currentTime.toFixed(2)} s, frames ${s1.totalVideoFrames} -> ${s2.totalVideoFrames}`,
    );
  } finally {
    await finish(p);
  }
});

test('invalid options throw a TypeError naming the option', { timeout: 60_000 }, async (t) => {
  const p = await openPage('player-options');
  try {
    const cases = [
      [{ maxBufferSeconds: -1 }, 'maxBufferSeconds'],
      [{ bogus: 1 }, 'bogus'],
      [{ abr: 'x' }, 'abr'],
      [{ startPosition: -5 }, 'startPosition'],
    ];
    const messages = [];
    for (const [options, name] of cases) {
      const r = await p.page.evaluate((o) => e2e.create(o), options);
      assert.equal(r.ok, false, `new Player(video, ${JSON.stringify(options)}) did not throw`);
      assert.ok(r.isTypeError, `new Player(video, ${JSON.stringify(options)}) threw ${r.name}, not a TypeError: ${r.message}`);
      assert.ok(r.message.includes(name), `the TypeError for ${JSON.stringify(options)} does not name ${name}: ${r.message}`);
      messages.push(`${JSON.stringify(options)}: ${r.message}`);
    }
    // The same constructor accepts good options (so the throws above are about the values).
    const good = await p.page.evaluate(() => {
      const r = e2e.create({ abr: 'bola', maxBufferSeconds: 10 });
      if (r.ok) e2e.player.destroy();
      return r;
    });
    assert.ok(good.ok, `valid options threw ${good.name}: ${good.message}`);
    t.diagnostic(messages.join(' | '));
  } finally {
    await finish(p);
  }
});
