// QoE analytics end to end, in headless Chromium against a real collector: our player's
// telemetry (`analytics`) and `Monitor` on hls.js and on our player's element, through
// `/media/` and `/faults/`, into the collector's SQLite store (read here with Python's
// sqlite3 module: the `views` rows are the metrics the collector computed with
// player_wasm::qoe, the `events` rows what arrived). Also CMCD on every media request,
// and its absence with `cmcd: false`.
//
// What is checked against what: the views' startup time and rebuffering against what the
// page measured itself from the element's events (same clock: Date.now()); the bitrates
// reported against the levels the player announced; the Monitor's view of a playback
// against our player's own view of the same playback; retried batches against the
// collector's count of them. Nothing asserts a duration of the machine.
//
// Run with `make e2e`, or here with `node --test --test-concurrency=1 telemetry.test.mjs`
// once player-wasm/pkg/ is built. Artifacts in tests/e2e/artifacts/telemetry-*.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

import {
  ARTIFACTS,
  E2E_DIR,
  PKG_DIR,
  buildCollector,
  get,
  launchChromium,
  run,
  startCollector,
  tail,
  tempDir,
} from './lib/harness.mjs';

const LADDER = '360p:1600k,240p:600k,144p:150k';
const SHORT_S = 20;
const SEGMENT_S = 2;
// A stall of every rendition's fourth segment, half-way through its body: long enough
// that playback runs dry.
const STALL = 'stall=8s,at=0.5,match=seg_003';
// Deadline for things that take a few seconds on an idle machine.
const WAIT = 45_000;
// Startup and rebuffer durations from the beacons against the page's own measurement.
const TOLERANCE_MS = 100;
// A link of 8 Mbit/s that all but stops from 7 s to 17 s of the session: with 4 s of
// buffer allowed, playback runs dry in the middle of it (a stall forced through /shaped/).
const OUTAGE_TRACE = '0 8\n7 8\n7.001 0.02\n17 0.02\n17.001 8\n600 8\n';

let collector;
let browser;
let work;
let db;

function encode(bin, out, seconds) {
  run(
    bin,
    ['encode', '--test-pattern', String(seconds), '--out', out, '--ladder', LADDER,
      '--segment-seconds', String(SEGMENT_S), '--codec', 'h264', '--pattern-size', '640x360'],
    `collector encode (${seconds} s)`,
  );
}

/** The page, the npm package (pkg/) and hls.js under `dir`. */
function installPage(dir) {
  const files = ['player_wasm.js', 'player_wasm_bg.wasm'];
  const missing = files.filter((f) => !fs.existsSync(path.join(PKG_DIR, f)));
  if (missing.length > 0) {
    throw new Error(`${PKG_DIR} lacks ${missing.join(', ')}: build the npm package first (make wasm)`);
  }
  fs.mkdirSync(path.join(dir, 'pkg'), { recursive: true });
  for (const f of ['telemetry.html', 'telemetry.js']) {
    fs.copyFileSync(path.join(E2E_DIR, 'page', f), path.join(dir, f));
  }
  for (const f of files) {
    fs.copyFileSync(path.join(PKG_DIR, f), path.join(dir, 'pkg', f));
  }
  const require = createRequire(import.meta.url);
  fs.copyFileSync(require.resolve('hls.js/dist/hls.min.js'), path.join(dir, 'hls.min.js'));
}

/** Rows of `sql` over the collector's SQLite store. */
function query(sql, ...params) {
  const script =
    'import json, sqlite3, sys\n' +
    'c = sqlite3.connect(sys.argv[1], timeout=10)\n' +
    'c.row_factory = sqlite3.Row\n' +
    'print(json.dumps([dict(r) for r in c.execute(sys.argv[2], json.loads(sys.argv[3]))]))\n';
  const r = spawnSync('python3', ['-c', script, db, sql, JSON.stringify(params)], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`python3 sqlite3 failed: ${r.stderr || r.error}`);
  }
  return JSON.parse(r.stdout);
}

/** The view of `videoId` once `done(view, events)` holds for it (events in order). */
async function waitForView(videoId, done, what) {
  const deadline = Date.now() + WAIT;
  let last = null;
  for (;;) {
    const views = query('SELECT * FROM views WHERE video_id = ?', videoId);
    if (views.length > 1) {
      assert.fail(`${views.length} views of ${videoId}: ${JSON.stringify(views.map((v) => v.view_id))}`);
    }
    if (views.length === 1) {
      const events = viewEvents(views[0].view_id);
      last = { view: views[0], events };
      if (done(views[0], events)) return last;
    }
    if (Date.now() > deadline) {
      assert.fail(`${what}: not in the store after ${WAIT} ms; last seen: ${JSON.stringify(last && {
        view: last.view, events: last.events.map((e) => e.type) })}\ncollector log:\n${tail(collector.logFile, 10)}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

function viewEvents(viewId) {
  return query('SELECT seq, idx, t_ms, type, payload FROM events WHERE view_id = ? ORDER BY seq, idx', viewId)
    .map((e) => Object.assign({}, JSON.parse(e.payload), { seq: e.seq, type: e.type, t: e.t_ms }));
}

const hasEnd = (_, events) => events.some((e) => e.type === 'viewend');

/** Whether `wanted` appear in `types` in this order (others may come between). */
function inOrder(types, wanted) {
  let at = 0;
  for (const t of types) {
    if (t === wanted[at]) at += 1;
  }
  return at === wanted.length;
}

before(
  async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
    const bin = buildCollector();
    work = tempDir('wasm-player-e2e-telemetry-');
    const media = path.join(work, 'media');
    fs.mkdirSync(media, { recursive: true });
    installPage(path.join(media, 'telemetry'));
    encode(bin, path.join(media, 'short'), SHORT_S);
    db = path.join(work, 'analytics.db');
    const traces = path.join(work, 'traces');
    fs.mkdirSync(traces);
    fs.writeFileSync(path.join(traces, 'outage'), OUTAGE_TRACE);
    collector = await startCollector(
      bin,
      ['--media', media, '--traces', traces, '--db', `sqlite://${db}`, '--log', 'info'],
      path.join(ARTIFACTS, 'telemetry-collector.log'),
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

/** A fresh page (its own context) with the package initialised; `requests` records URLs. */
async function openPage(name) {
  const context = await browser.newContext({ viewport: { width: 660, height: 400 } });
  const page = await context.newPage();
  const log = [];
  const requests = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  const res = await page.goto(`${collector.base}/media/telemetry/telemetry.html`);
  assert.equal(res.status(), 200);
  await page.waitForFunction(() => e2e.ready || e2e.initError !== null, null, { timeout: WAIT });
  assert.equal(await page.evaluate(() => e2e.initError), null, `${name}: the package did not initialise`);
  return { name, page, context, log, requests };
}

async function finish(p) {
  fs.writeFileSync(path.join(ARTIFACTS, `telemetry-${p.name}.log`), p.log.join('\n') + '\n');
  await p.context.close().catch(() => {});
}

/** Waits for `predicate` in the page (or a fatal error there). */
async function waitIn(p, what, predicate, arg, timeout = WAIT) {
  try {
    await p.page.waitForFunction(
      `(() => e2e.fatal !== null || (${predicate.toString()})(${JSON.stringify(arg ?? null)}))()`,
      null,
      { timeout, polling: 200 },
    );
  } catch (e) {
    assert.fail(`${p.name}: ${what} did not happen: ${e.message}\n${p.log.slice(-5).join('\n')}`);
  }
  assert.equal(await p.page.evaluate(() => e2e.fatal), null, `${p.name}: fatal error while waiting for ${what}`);
}

/** The CMCD data of a request URL as key → value (flags: true), or null. */
function cmcdOf(url) {
  const value = new URL(url).searchParams.get('CMCD');
  if (value === null) return null;
  const out = {};
  for (const part of value.match(/([a-z]+)(=("([^"\\]|\\.)*"|[^,]*))?/g)) {
    const [k, ...rest] = part.split('=');
    const v = rest.join('=');
    out[k] = v === '' ? true : v.startsWith('"') ? JSON.parse(v) : /^\d+$/.test(v) ? Number(v) : v;
  }
  return out;
}

/** Bitrates of the levelswitch events of a view. */
const switchBitrates = (events) => events.filter((e) => e.type === 'levelswitch').map((e) => e.bitrate);

test('our player reports a whole view, and CMCD on every request names it', { timeout: 120_000 }, async () => {
  const p = await openPage('ours');
  try {
    await p.page.evaluate(() =>
      e2e.ours('/media/short/master.m3u8', {
        analytics: { videoId: 'ours-full', videoTitle: 'Test pattern', custom: { suite: 'e2e' } },
      }),
    );
    await waitIn(p, 'the end', () => document.getElementById('video').ended, null, 90_000);
    const measured = await p.page.evaluate(() => e2e.measured());
    const viewId = await p.page.evaluate(() => e2e.player.viewId);
    await p.page.evaluate(() => e2e.player.destroy());
    const { view, events } = await waitForView('ours-full', hasEnd, 'the view of our player');
    assert.equal(viewId, view.view_id, 'player.viewId names the view the collector stored');
    const types = events.map((e) => e.type);
    assert.ok(
      inOrder(types, ['viewstart', 'playrequest', 'firstframe', 'levelswitch', 'heartbeat', 'ended', 'viewend']),
      `events out of order or missing: ${types.join(' ')}`,
    );
    assert.equal(types.filter((t) => t === 'viewstart').length, 1);
    assert.equal(view.player, 'wasm-hls-player');
    assert.equal(view.video_title, 'Test pattern');
    assert.match(view.custom, /"suite":"e2e"/);
    assert.ok(view.browser && view.os && view.page.endsWith('/telemetry.html'), JSON.stringify(view));
    // The metrics the collector computed, against what the page measured.
    assert.ok(Math.abs(view.startup_ms - measured.startupMs) <= TOLERANCE_MS,
      `startup: beacons ${view.startup_ms} ms, page ${measured.startupMs} ms`);
    assert.equal(view.rebuffer_count, measured.rebuffers.length, JSON.stringify(measured.rebuffers));
    assert.equal(view.ended, 1);
    assert.ok(Math.abs(view.playing_ms - SHORT_S * 1000) <= 1000, `playing ${view.playing_ms} ms of ${SHORT_S} s`);
    // The renditions reported are those the player announced, in order.
    assert.deepEqual(switchBitrates(events), measured.switches.map((s) => measured.levels[s.level]));
    const beats = events.filter((e) => e.type === 'heartbeat');
    assert.ok(beats.every((b) => b.bandwidth_bps > 0 && b.total_frames > 0 && b.buffer_s >= 0), JSON.stringify(beats));

    // CMCD on every playlist and segment request, its session the view.
    const media = p.requests.filter((u) => u.includes('/media/short/'));
    assert.ok(media.length > 10, `${media.length} media requests`);
    for (const url of media) {
      const cmcd = cmcdOf(url);
      assert.ok(cmcd, `no CMCD on ${url}`);
      assert.equal(cmcd.sid, view.view_id, url);
      assert.equal(cmcd.cid, 'ours-full');
      assert.equal(cmcd.sf, 'h');
      if (url.includes('.m3u8')) {
        assert.equal(cmcd.ot, 'm', url);
      } else if (url.includes('init')) {
        assert.equal(cmcd.ot, 'i', url);
      } else {
        assert.ok(['v', 'av', 'a'].includes(cmcd.ot), url);
        assert.ok(cmcd.d > 0 && cmcd.bl >= 0 && cmcd.st === 'v', url);
        if (cmcd.ot !== 'a') assert.ok(cmcd.br > 0 && cmcd.tb >= cmcd.br, url);
      }
    }
    // The collector logged the CMCD it received.
    assert.match(fs.readFileSync(collector.logFile, 'utf8'), new RegExp(view.view_id));
  } finally {
    await finish(p);
  }
});

test('cmcd: false sends no CMCD', { timeout: 60_000 }, async () => {
  const p = await openPage('no-cmcd');
  try {
    await p.page.evaluate(() => e2e.ours('/media/short/master.m3u8', { cmcd: false }));
    await waitIn(p, 'playback', () => document.getElementById('video').currentTime > 1);
    await p.page.evaluate(() => e2e.player.destroy());
    const media = p.requests.filter((u) => u.includes('/media/short/'));
    assert.ok(media.length > 3);
    assert.deepEqual(media.filter((u) => u.includes('CMCD')), []);
  } finally {
    await finish(p);
  }
});

test('closing the page sends the end of the view with sendBeacon', { timeout: 60_000 }, async () => {
  const p = await openPage('closed');
  await p.page.evaluate(() => e2e.ours('/media/short/master.m3u8', { analytics: { videoId: 'closed' } }));
  await waitIn(p, 'playback', () => document.getElementById('video').currentTime > 2);
  await finish(p);
  const { events } = await waitForView('closed', hasEnd, 'the viewend sent as the page closed');
  const types = events.map((e) => e.type);
  assert.ok(inOrder(types, ['viewstart', 'playrequest', 'firstframe', 'viewend']), types.join(' '));
  assert.ok(events.at(-1).pt >= 2, JSON.stringify(events.at(-1)));
});

test('batches retried after a 503 and an unreachable collector are counted once', { timeout: 90_000 }, async () => {
  const p = await openPage('retried');
  const sent = [];
  let calls = 0;
  await p.page.route('**/v1/beacons*', async (route) => {
    calls += 1;
    const body = JSON.parse(route.request().postData());
    sent.push({ call: calls, batch: body.batch, seq: body.seq, events: body.events.length });
    if (calls === 1) {
      // Stored by the collector, but the page is told it failed.
      await route.fetch();
      await route.fulfill({ status: 503, body: 'unavailable' });
    } else if (calls === 2) {
      await route.abort('connectionrefused');
    } else {
      await route.continue();
    }
  });
  const before = await metric('collector_beacon_batches_total{outcome="duplicate"}');
  try {
    await p.page.evaluate(() =>
      e2e.ours('/media/short/master.m3u8', { analytics: { videoId: 'retried', flushIntervalMs: 1000 } }),
    );
    await waitIn(p, 'six seconds of playback', () => document.getElementById('video').currentTime > 6);
    await p.page.evaluate(() => e2e.player.destroy());
    const { view, events } = await waitForView('retried', hasEnd, 'the retried view');
    // The first batch went three times, the same each time.
    const first = sent.filter((s) => s.seq === 0);
    assert.ok(first.length >= 3, JSON.stringify(sent));
    assert.equal(new Set(first.map((s) => s.batch)).size, 1, JSON.stringify(sent));
    // Stored once: one row per sequence number, each event once.
    const batches = query('SELECT seq, batch_id, events FROM batches WHERE view_id = ? ORDER BY seq', view.view_id);
    const seqs = batches.map((b) => b.seq);
    assert.deepEqual(seqs, [...new Set(seqs)], JSON.stringify(batches));
    assert.equal(events.length, batches.reduce((n, b) => n + b.events, 0));
    assert.equal(events.filter((e) => e.type === 'viewstart').length, 1);
    assert.equal(events.filter((e) => e.type === 'playrequest').length, 1);
    assert.equal(batches[0].batch_id, first[0].batch);
    const after = await metric('collector_beacon_batches_total{outcome="duplicate"}');
    assert.ok(after >= before + 1, `duplicates ${before} -> ${after}`);
  } finally {
    await finish(p);
  }
});

/** A sample of the collector's /metrics. */
async function metric(name) {
  const { text } = await get(`${collector.base}/metrics`);
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

test('Monitor on our player\'s element reports the same playback as our player, stall and seeks included', { timeout: 150_000 }, async () => {
  const p = await openPage('same-element');
  try {
    await p.page.evaluate(
      ([src]) => {
        e2e.attachMonitor({ videoId: 'same-monitor' });
        e2e.ours(src, { analytics: { videoId: 'same-ours' } });
      },
      [`/faults/${STALL}/short/master.m3u8`],
    );
    // Past the stall, then a seek back through the API, a seek forward by the element
    // itself (`currentTime`), and on to the end.
    await waitIn(p, 'playback past the stalled segment', () => document.getElementById('video').currentTime > 9, null, 90_000);
    await p.page.evaluate(() => e2e.player.seek(3));
    await waitIn(p, 'playback after the seek', () => {
      const v = document.getElementById('video');
      return v.currentTime > 5 && v.currentTime < 8 && !v.seeking;
    });
    await p.page.evaluate(() => {
      document.getElementById('video').currentTime = 12;
    });
    await waitIn(p, 'the end', () => document.getElementById('video').ended, null, 90_000);
    const measured = await p.page.evaluate(() => e2e.measured());
    await p.page.evaluate(() => {
      e2e.monitor.detach();
      e2e.player.destroy();
    });
    const ours = await waitForView('same-ours', hasEnd, 'our player\'s view');
    const monitor = await waitForView('same-monitor', hasEnd, 'the Monitor\'s view');
    assert.equal(monitor.view.player, 'native');
    const a = ours.view;
    const b = monitor.view;
    const show = `ours ${JSON.stringify(a)}\nmonitor ${JSON.stringify(b)}\nmeasured ${JSON.stringify(measured)}`;
    assert.ok(measured.rebuffers.length >= 1, `the stall should run playback dry: ${show}`);
    for (const v of [a, b]) {
      assert.ok(Math.abs(v.startup_ms - measured.startupMs) <= TOLERANCE_MS, `startup: ${show}`);
      assert.equal(v.rebuffer_count, measured.rebuffers.length, `rebuffer count: ${show}`);
      const stalled = measured.rebuffers.reduce((x, y) => x + y, 0);
      assert.ok(Math.abs(v.rebuffer_ms - stalled) <= TOLERANCE_MS, `rebuffer duration: ${show}`);
      assert.equal(v.seeks, 2, `seeks: ${show}`);
      assert.equal(v.ended, 1);
    }
    assert.ok(Math.abs(a.seek_ms - b.seek_ms) <= TOLERANCE_MS, `seek latency: ${show}`);
    assert.ok(Math.abs(a.playing_ms - b.playing_ms) <= 500, `playing time: ${show}`);
    assert.ok(Math.abs(a.watch_ms - b.watch_ms) <= 500, `watch time: ${show}`);
  } finally {
    await finish(p);
  }
});

test('Monitor with hls.js reports what the page measured, like our player on the same ladder', { timeout: 120_000 }, async () => {
  const p = await openPage('hlsjs');
  try {
    await p.page.evaluate(() => e2e.hlsjs('/media/short/master.m3u8', { videoId: 'hlsjs-monitor' }));
    await waitIn(p, 'the end', () => document.getElementById('video').ended, null, 90_000);
    const measured = await p.page.evaluate(() => e2e.measured());
    const version = await p.page.evaluate(() => e2e.hlsVersion);
    const viewId = await p.page.evaluate(() => e2e.monitor.viewId);
    await p.page.evaluate(() => e2e.monitor.detach());
    const { view, events } = await waitForView('hlsjs-monitor', hasEnd, 'the Monitor\'s view of hls.js');
    assert.equal(viewId, view.view_id, 'monitor.viewId names the view the collector stored');
    const types = events.map((e) => e.type);
    assert.ok(inOrder(types, ['viewstart', 'playrequest', 'firstframe', 'heartbeat', 'ended', 'viewend']), types.join(' '));
    assert.equal(view.player, 'hls.js');
    assert.equal(view.player_version, version);
    assert.ok(Math.abs(view.startup_ms - measured.startupMs) <= TOLERANCE_MS,
      `startup: beacons ${view.startup_ms} ms, page ${measured.startupMs} ms`);
    assert.equal(view.rebuffer_count, 0);
    assert.equal(measured.rebuffers.length, 0);
    assert.equal(view.ended, 1);
    // The renditions hls.js announced, in order, with their bitrates.
    assert.ok(measured.switches.length >= 1);
    assert.deepEqual(switchBitrates(events), measured.switches.map((s) => measured.levels[s.level]));
    assert.ok(events.filter((e) => e.type === 'heartbeat').some((b) => b.bandwidth_bps > 0 && b.bitrate > 0));
    // Against our player's view of the same ladder (first test): both played it whole.
    const ours = query('SELECT * FROM views WHERE video_id = ?', 'ours-full')[0];
    if (ours) {
      assert.ok(Math.abs(view.playing_ms - ours.playing_ms) <= 1000,
        `playing time: hls.js ${view.playing_ms} ms, ours ${ours.playing_ms} ms`);
      assert.equal(view.rebuffer_count, ours.rebuffer_count);
    }
    assert.ok(Math.abs(view.playing_ms - SHORT_S * 1000) <= 1000, `playing ${view.playing_ms} ms`);
  } finally {
    await finish(p);
  }
});

for (const who of ['ours', 'hls.js']) {
  test(`through /shaped/ with a stall, ${who === 'ours' ? 'our player' : 'hls.js with Monitor'} gives one view whose startup and rebuffering match the page within ${TOLERANCE_MS} ms; the dashboard draws it`, { timeout: 150_000 }, async () => {
    const p = await openPage(`shaped-${who}`);
    const videoId = `shaped-${who}-${Date.now()}`;
    const src = `/shaped/outage/${videoId.replace(/[^A-Za-z0-9_-]/g, '-')}/short/master.m3u8`;
    try {
      await p.page.evaluate(
        ([who, src, videoId]) => {
          if (who === 'ours') {
            e2e.ours(src, { maxBufferSeconds: 4, analytics: { videoId } });
          } else {
            e2e.hlsjs(src, { videoId }, { maxBufferLength: 4, maxMaxBufferLength: 4 });
          }
        },
        [who, src, videoId],
      );
      await waitIn(p, 'the end', () => document.getElementById('video').ended, null, 120_000);
      const measured = await p.page.evaluate(() => e2e.measured());
      await p.page.evaluate(() => {
        e2e.monitor?.detach();
        e2e.player?.destroy();
      });
      const { view } = await waitForView(videoId, hasEnd, `the view of ${who}`);
      const stalled = measured.rebuffers.reduce((x, y) => x + y, 0);
      const show = `view ${JSON.stringify(view)}\nmeasured ${JSON.stringify(measured)}`;
      assert.ok(measured.rebuffers.length >= 1, `the outage should run playback dry: ${show}`);
      assert.ok(Math.abs(view.startup_ms - measured.startupMs) <= TOLERANCE_MS, `startup: ${show}`);
      assert.equal(view.rebuffer_count, measured.rebuffers.length, `rebuffer count: ${show}`);
      assert.ok(Math.abs(view.rebuffer_ms - stalled) <= TOLERANCE_MS, `rebuffer duration: ${show}`);
      // The dashboard's page for this view, and the overview listing it.
      const dash = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      try {
        await dash.goto(`${collector.base}/dashboard/view.html?id=${encodeURIComponent(view.view_id)}&token=demo`);
        await dash.waitForFunction(
          (id) => document.body.innerText.includes(id) && document.querySelector('canvas') !== null,
          view.view_id,
          { timeout: WAIT },
        );
        await dash.waitForTimeout(500);
        const name = who === 'ours' ? 'ours' : 'hlsjs';
        await dash.screenshot({ path: path.join(ARTIFACTS, `dashboard-view-shaped-${name}.png`), fullPage: true });
        await dash.goto(`${collector.base}/dashboard?token=demo`);
        await dash.waitForFunction((v) => document.body.innerText.includes(v), videoId, { timeout: WAIT });
        await dash.screenshot({ path: path.join(ARTIFACTS, `dashboard-shaped-${name}.png`), fullPage: true });
      } finally {
        await dash.close();
      }
    } finally {
      await finish(p);
    }
  });
}
