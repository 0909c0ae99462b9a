// The collector's origin played by a player nobody here wrote: hls.js in headless
// Chromium, through `/media/` (plain VOD), `/shaped/` (a network trace that steps down,
// which hls.js must follow by switching to a lower rendition) and `/live/` (the ladder as
// a sliding-window live stream).
//
// Run with `make e2e` (or `npm test` here after `npm ci`). Artifacts (screenshots, each
// page's event log, the collector's log) land in tests/e2e/artifacts/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  ARTIFACTS,
  buildCollector,
  get,
  installPage,
  launchChromium,
  run,
  startCollector,
  tail,
  tempDir,
  writeStepTrace,
} from './lib/harness.mjs';

// A small ladder with rungs far enough apart that the low network phase only fits the
// lowest one. Heights keep encoding quick; 2 s segments make switches show up soon.
const LADDER = '360p:1600k,240p:600k,144p:150k';
const CONTENT_SECONDS = 40;
// The shaped session's trace: HIGH_MBPS (several times the top rung) until STEP_S, then
// LOW_MBPS (below every rung but the lowest, audio included).
const STEP_S = 8;
const HIGH_MBPS = 10;
const LOW_MBPS = 0.45;
const TRACE = 'e2e-stepdown';

// Generous deadlines for things that take a few seconds on an idle machine (these only
// bound how long a failure takes to report; nothing asserts a duration).
const WAIT = 45_000;

let collector;
let browser;
let work;
let ladderLevels;

before(
  async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    // Chromium first: without it there is nothing to test.
    browser = await launchChromium();
    const bin = buildCollector();
    work = tempDir('wasm-player-e2e-');
    const media = path.join(work, 'media');
    const traces = path.join(work, 'traces');
    fs.mkdirSync(media, { recursive: true });
    fs.mkdirSync(traces, { recursive: true });

    const ladder = path.join(media, 'ladder');
    if (process.env.E2E_LADDER) {
      // A ready-made ladder (debugging aid); the suite normally encodes its own.
      fs.cpSync(process.env.E2E_LADDER, ladder, { recursive: true });
    } else {
      run(
        bin,
        [
          'encode',
          '--test-pattern',
          String(CONTENT_SECONDS),
          '--out',
          ladder,
          '--ladder',
          LADDER,
          '--segment-seconds',
          '2',
          '--codec',
          'h264',
          '--pattern-size',
          '640x360',
        ],
        'collector encode',
      );
    }
    assert.ok(
      fs.existsSync(path.join(ladder, 'master.m3u8')),
      `collector encode wrote no master.m3u8 in ${ladder}`,
    );
    ladderLevels = (fs.readFileSync(path.join(ladder, 'master.m3u8'), 'utf8').match(/^#EXT-X-STREAM-INF:/gm) || []).length;
    assert.ok(ladderLevels >= 2, `the ladder has ${ladderLevels} variants; the shaped test needs 2 or more`);

    writeStepTrace(path.join(traces, TRACE), [
      [STEP_S, HIGH_MBPS],
      [600, LOW_MBPS],
    ]);
    installPage(path.join(media, 'e2e'));

    collector = await startCollector(
      bin,
      ['--media', media, '--traces', traces, '--log', 'info'],
      path.join(ARTIFACTS, 'collector.log'),
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

/** Opens the test page playing `src` (a path on the collector) with hls.js `config`. */
async function openPlayer(name, src, config) {
  const context = await browser.newContext({ viewport: { width: 660, height: 420 } });
  const page = await context.newPage();
  const console = [];
  page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.push(`pageerror: ${e.message}`));
  const query = new URLSearchParams({ src, cfg: JSON.stringify(config) });
  const url = `${collector.base}/media/e2e/index.html?${query}`;
  const res = await page.goto(url);
  assert.equal(res.status(), 200, `GET ${url} answered ${res.status()}`);
  return { name, page, context, console };
}

/** What the page recorded, for failure messages and the artifacts. */
async function report(player) {
  const state = await player.page
    .evaluate(() => ({
      src: e2e.src,
      hlsVersion: e2e.hlsVersion,
      fatal: e2e.fatal,
      snapshot: e2e.snapshot(),
      levels: e2e.levels,
      manifestLoadingAt: e2e.manifestLoadingAt,
      switching: e2e.switching,
      switched: e2e.switched,
      playlists: e2e.playlists,
      fragments: e2e.fragments,
      errors: e2e.errors,
      events: e2e.events.map(({ t, name, level, sn, details }) => ({ t, name, level, sn, details })),
    }))
    .catch((e) => ({ unavailable: String(e) }));
  state.console = player.console;
  return state;
}

function summary(state) {
  const lastEvents = (state.events || [])
    .slice(-12)
    .map((e) => `${Math.round(e.t)}ms ${e.name}${e.level !== undefined ? ` level=${e.level}` : ''}${e.details ? ` ${e.details}` : ''}`);
  return [
    `fatal: ${state.fatal}`,
    `snapshot: ${JSON.stringify(state.snapshot)}`,
    `errors: ${JSON.stringify((state.errors || []).slice(-5))}`,
    `last events:\n  ${lastEvents.join('\n  ')}`,
    `console: ${(state.console || []).slice(-5).join(' | ')}`,
    `collector log (tail):\n${tail(collector.logFile, 8)}`,
  ].join('\n');
}

/** Waits until `predicate` (run in the page, with `arg`) holds or the player failed. */
async function waitFor(player, what, predicate, arg, timeout = WAIT) {
  const guarded = `(() => { const arg = ${JSON.stringify(arg ?? null)}; ` +
    `return e2e.fatal !== null || (${predicate.toString()})(arg); })()`;
  try {
    await player.page.waitForFunction(guarded, null, { timeout, polling: 200 });
  } catch (e) {
    const state = await report(player);
    assert.fail(`${player.name}: timed out waiting until ${what} (${e.message.split('\n')[0]})\n${summary(state)}`);
  }
  const state = await report(player);
  if (state.fatal) {
    assert.fail(`${player.name}: hls.js failed while waiting until ${what}\n${summary(state)}`);
  }
  return state;
}

/**
 * The checks every route shares: the ladder parsed, frames are decoded and shown, the
 * clock advances, and the picture is not blank. Saves a screenshot.
 */
async function checkPlayback(player) {
  const parsed = await waitFor(player, 'the master playlist is parsed', () => e2e.levels.length > 0);
  assert.equal(
    parsed.levels.length,
    ladderLevels,
    `${player.name}: hls.js found ${parsed.levels.length} levels, the ladder has ${ladderLevels}`,
  );
  const started = await waitFor(
    player,
    'playback starts (currentTime > 0.5 s with decoded frames)',
    () => {
      const s = e2e.snapshot();
      return s.currentTime > 0.5 && s.totalVideoFrames > 0;
    },
  );
  const s1 = started.snapshot;
  const later = await waitFor(
    player,
    `playback advances 2 s past ${s1.currentTime.toFixed(2)} s`,
    (from) => e2e.snapshot().currentTime >= from + 2,
    s1.currentTime,
  );
  const s2 = later.snapshot;
  assert.ok(
    s2.totalVideoFrames > s1.totalVideoFrames,
    `${player.name}: no new frames decoded (${s1.totalVideoFrames} then ${s2.totalVideoFrames})`,
  );
  assert.ok(s2.currentTime > s1.currentTime, `${player.name}: currentTime did not advance`);
  assert.ok(s2.videoWidth > 0 && s2.videoHeight > 0, `${player.name}: the video has no size`);
  const frame = await player.page.evaluate(() => e2e.frameStats());
  assert.ok(
    frame.stddev > 8,
    `${player.name}: the frame on screen is blank (luma mean ${frame.mean.toFixed(1)}, ` +
      `deviation ${frame.stddev.toFixed(2)})`,
  );
  await player.page.screenshot({ path: path.join(ARTIFACTS, `${player.name}.png`) });
  return later;
}

async function finish(player) {
  const state = await report(player);
  fs.writeFileSync(path.join(ARTIFACTS, `${player.name}.json`), JSON.stringify(state, null, 1));
  await player.context.close();
  return state;
}

test('VOD through /media/: hls.js plays the ladder', { timeout: 120_000 }, async () => {
  const player = await openPlayer('media', '/media/ladder/master.m3u8', {});
  try {
    const state = await checkPlayback(player);
    // Unshaped and unfaulted: not one request may fail (stalls are the machine's doing).
    const network = state.errors.filter((e) => e.type === 'networkError');
    assert.deepEqual(network, [], 'media: hls.js reported network errors');
  } finally {
    await finish(player);
  }
});

test(
  `/shaped/: hls.js switches down when the trace steps from ${HIGH_MBPS} to ${LOW_MBPS} Mbit/s`,
  { timeout: 150_000 },
  async () => {
    const session = `e2e-${process.pid}-${Date.now()}`;
    const player = await openPlayer('shaped', `/shaped/${TRACE}/${session}/ladder/master.m3u8`, {
      // Start on the top rung and keep the buffer short, so fragments are still being
      // fetched when the trace steps down.
      startLevel: ladderLevels - 1,
      maxBufferLength: 6,
      maxMaxBufferLength: 8,
    });
    try {
      await checkPlayback(player);
      // LEVEL_SWITCHED fires when playback reaches a fragment of another level, so the
      // down-switch shows up a buffer's length after the decision.
      const state = await waitFor(
        player,
        `a LEVEL_SWITCHED to a lower level after the step at ${STEP_S} s of the session`,
        (stepS) => {
          if (e2e.manifestLoadingAt === null) return false;
          const stepAt = e2e.manifestLoadingAt + stepS * 1000;
          const before = e2e.switched.filter((s) => s.t < stepAt);
          if (before.length === 0) return false;
          const atStep = before[before.length - 1].level;
          return e2e.switched.some((s) => s.t >= stepAt && s.level < atStep);
        },
        STEP_S,
        90_000,
      );
      await player.page.screenshot({ path: path.join(ARTIFACTS, 'shaped-after-step.png') });
      const stepAt = state.manifestLoadingAt + STEP_S * 1000;
      const before = state.switched.filter((s) => s.t < stepAt);
      const atStep = before[before.length - 1].level;
      const after = state.switched.filter((s) => s.t >= stepAt);
      assert.ok(atStep > 0, `shaped: hls.js was already on the lowest level before the step`);
      assert.ok(
        after.some((s) => s.level < atStep),
        `shaped: no switch below level ${atStep} after the step: ${JSON.stringify(after)}`,
      );
      // The switch is the trace's doing: fragments requested after the step arrived no
      // faster than the low phase allows (bytes over the union of their load intervals;
      // the browser's intervals include request latency, so this can only err low).
      const late = state.fragments.filter((f) => f.ms && f.t - f.ms >= stepAt);
      assert.ok(late.length > 0, 'shaped: no fragment was loaded after the step');
      const intervals = late.map((f) => [f.t - f.ms, f.t]).sort((a, b) => a[0] - b[0]);
      let busyMs = 0;
      let [s, e] = intervals[0];
      for (const [a, b] of intervals.slice(1)) {
        if (a > e) {
          busyMs += e - s;
          [s, e] = [a, b];
        } else {
          e = Math.max(e, b);
        }
      }
      busyMs += e - s;
      const bytes = late.reduce((sum, f) => sum + f.bytes, 0);
      const mbps = (bytes * 8) / (busyMs * 1000);
      assert.ok(
        mbps <= LOW_MBPS * 1.5,
        `shaped: after the step ${late.length} fragments (${bytes} bytes) arrived at ` +
          `${mbps.toFixed(3)} Mbit/s, faster than the trace's ${LOW_MBPS} Mbit/s`,
      );
    } finally {
      await finish(player);
    }
  },
);

/** Segments of a media playlist: { uri, duration, pdt (ms or null) }, and its tags. */
function parseMedia(text) {
  const segments = [];
  const tags = {};
  let duration = null;
  let pdt = null;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#EXTINF:')) {
      duration = parseFloat(line.slice(8));
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      pdt = Date.parse(line.slice(25));
    } else if (line.startsWith('#EXT-X-') && line.includes(':')) {
      const i = line.indexOf(':');
      tags[line.slice(1, i)] = line.slice(i + 1);
    } else if (line && !line.startsWith('#')) {
      segments.push({ uri: line, duration, pdt });
      pdt = pdt === null ? null : pdt + duration * 1000;
    }
  }
  return { segments, tags };
}

test('/live/: every rendition shows the same moment of the VOD at the same wall-clock time', async () => {
  // Players line renditions up by program date-time and discontinuity sequence (RFC 8216
  // 6.2.2): at a given wall-clock time, video and audio must come from the same point of
  // the looped VOD, and their discontinuity sequences must agree.
  const master = await get(`${collector.base}/live/ladder/master.m3u8`);
  assert.equal(master.status, 200, 'GET /live/ladder/master.m3u8');
  const uris = [...master.text.matchAll(/^([^#\s].*)$|URI="([^"]+)"/gm)].map((m) => m[1] || m[2]);
  assert.ok(uris.length >= 2, `no renditions in the live master playlist:\n${master.text}`);
  for (let attempt = 0; ; attempt++) {
    const renditions = await Promise.all(
      uris.map(async (uri) => {
        const [live, vod] = await Promise.all([
          get(`${collector.base}/live/ladder/${uri}`),
          get(`${collector.base}/media/ladder/${uri}`),
        ]);
        assert.equal(live.status, 200, `GET /live/ladder/${uri}`);
        const window = parseMedia(live.text);
        // Start of each VOD segment in the content, seconds.
        const starts = new Map();
        let at = 0;
        for (const seg of parseMedia(vod.text).segments) {
          starts.set(seg.uri, at);
          at += seg.duration;
        }
        return { uri, window, starts, length: at };
      }),
    );
    // An instant every window covers, and what each rendition plays then.
    const instant = Math.min(...renditions.map((r) => r.window.segments.at(-1).pdt));
    const positions = renditions.map((r) => {
      const seg = r.window.segments.find(
        (x) => x.pdt !== null && x.pdt <= instant && instant < x.pdt + x.duration * 1000,
      );
      assert.ok(seg, `${r.uri}: no segment with a program date-time covers ${new Date(instant).toISOString()}`);
      return {
        uri: r.uri,
        segment: seg.uri,
        content: r.starts.get(seg.uri) + (instant - seg.pdt) / 1000,
        length: r.length,
        discontinuitySequence: r.window.tags['EXT-X-DISCONTINUITY-SEQUENCE'] ?? '0',
      };
    });
    const ref = positions[0];
    const disagree = positions.filter((p) => {
      const d = Math.abs(p.content - ref.content);
      return Math.min(d, Math.abs(d - ref.length)) > 0.25 || p.discontinuitySequence !== ref.discontinuitySequence;
    });
    // A window may move between two requests: look again once before failing.
    if (disagree.length === 0) break;
    if (attempt > 0) {
      assert.fail(
        `at ${new Date(instant).toISOString()} the renditions of /live/ disagree ` +
          `(content second of the VOD each plays, VOD length, discontinuity sequence):\n` +
          positions
            .map((p) => `  ${p.uri}: ${p.segment} at ${p.content.toFixed(3)} s of ${p.length.toFixed(3)} s, DSN ${p.discontinuitySequence}`)
            .join('\n'),
      );
    }
  }
});

test('/live/: hls.js plays the ladder as a live stream whose window slides', { timeout: 120_000 }, async () => {
  const player = await openPlayer('live', '/live/ladder/master.m3u8', {});
  try {
    const first = await waitFor(player, 'a live media playlist is loaded', () =>
      e2e.playlists.some((p) => p.live),
    );
    const firstLive = first.playlists.find((p) => p.live);
    assert.equal(
      first.playlists.filter((p) => !p.live).length,
      0,
      'live: a media playlist under /live/ was not live (it had EXT-X-ENDLIST or a VOD type)',
    );
    await checkPlayback(player);
    await waitFor(
      player,
      `the live window slides past media sequence ${firstLive.startSN}`,
      (sn) => e2e.playlists.some((p) => p.live && p.startSN > sn),
      firstLive.startSN,
    );
  } finally {
    await finish(player);
  }
});
