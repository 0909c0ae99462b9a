// The analysts' dashboard (/dashboard, web-demo/dashboard/) in headless Chromium against a
// real collector: beacons for views with known figures are posted to /v1/beacons, then
// the page must show them in its KPI tiles (with the change against the previous period
// coloured by the metric's direction), draw its uPlot charts (canvases with pixels on
// them), list the views, pick up a new view by itself (auto-refresh), and open one view's
// timeline. Screenshots: tests/e2e/artifacts/dashboard.png and dashboard-view.png.
//
// The player does not send telemetry yet, so the beacons are posted directly, as the
// player will. Run with `make e2e`, or here with `node --test dashboard.test.mjs`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  ARTIFACTS,
  REPO,
  buildCollector,
  launchChromium,
  startCollector,
  tail,
  tempDir,
} from './lib/harness.mjs';

const WAIT = 30_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let collector;
let browser;

const level = (to, bitrate, height, from) => ({
  type: 'levelswitch', to, bitrate, height, reason: from === undefined ? 'startup' : 'throughput-up',
  ...(from === undefined ? {} : { from }),
});

/**
 * The views: [id, start offset before now (ms), dimensions, events as [ms after start,
 * event]]. Startups 400, 800, 1200 and 2000 ms; one start failure, one exit before
 * start; one view in the previous 24 hours (startup 600 ms).
 */
function views(now) {
  const movie = { video_id: 'big-buck-bunny', video_title: 'Big Buck Bunny' };
  const trailer = { video_id: 'trailer', video_title: 'Launch trailer' };
  const chromium = { browser: 'Chromium 156', os: 'Linux' };
  const firefox = { browser: 'Firefox 140', os: 'Windows' };
  return [
    ['dash-clean', 5 * HOUR, { ...movie, ...chromium, player: 'wasm-hls-player' }, [
      [0, { type: 'viewstart' }], [100, { type: 'playrequest', pt: 0 }],
      [150, level(2, 4_500_000, 1080)], [500, { type: 'firstframe', pt: 0 }],
      [90_500, { type: 'viewend' }],
    ]],
    ['dash-stalled', 4 * HOUR, { ...movie, ...chromium, player: 'wasm-hls-player', custom: { plan: 'free' } }, [
      [0, { type: 'viewstart' }], [0, { type: 'playrequest', pt: 0 }],
      [100, level(1, 1_200_000, 480)], [800, { type: 'firstframe', pt: 0 }],
      [20_800, { type: 'rebufferstart', pt: 20 }], [24_800, { type: 'rebufferend', pt: 20 }],
      [34_800, level(2, 2_500_000, 720, 1)],
      [44_800, { type: 'seek', from: 30, to: 70, latency_ms: 600 }],
      [50_800, { type: 'error', code: 'decode', message: 'a frame failed to decode', fatal: false }],
      [54_800, { type: 'rebufferstart', pt: 79 }], [56_800, { type: 'rebufferend', pt: 79 }],
      [64_800, level(0, 700_000, 360, 2)],
      [70_800, { type: 'pause', pt: 95 }], [75_800, { type: 'play', pt: 95 }],
      [90_800, { type: 'viewend' }],
    ]],
    ['dash-hlsjs', 3 * HOUR, { ...trailer, ...firefox, player: 'hls.js' }, [
      [0, { type: 'playrequest', pt: 0 }], [0, level(1, 2_500_000, 720)],
      [1_200, { type: 'firstframe', pt: 0 }], [31_200, { type: 'ended', pt: 30 }],
      [31_300, { type: 'viewend' }],
    ]],
    ['dash-slow', 2 * HOUR, { ...trailer, ...chromium, player: 'wasm-hls-player' }, [
      [0, { type: 'playrequest', pt: 0 }], [0, level(0, 700_000, 360)],
      [2_000, { type: 'firstframe', pt: 0 }], [32_000, { type: 'viewend' }],
    ]],
    ['dash-failed', 1 * HOUR, { ...movie, ...firefox, player: 'hls.js' }, [
      [0, { type: 'playrequest', pt: 0 }],
      [4_000, { type: 'error', code: 'manifest', message: 'HTTP 404', fatal: true }],
      [4_100, { type: 'viewend' }],
    ]],
    ['dash-exit', 30 * MINUTE, { ...trailer, ...chromium, player: 'wasm-hls-player' }, [
      [0, { type: 'playrequest', pt: 0 }], [3_000, { type: 'viewend' }],
    ]],
    ['dash-yesterday', 25 * HOUR, { ...movie, ...chromium, player: 'wasm-hls-player' }, [
      [0, { type: 'playrequest', pt: 0 }], [0, level(1, 2_500_000, 720)],
      [600, { type: 'firstframe', pt: 0 }], [60_600, { type: 'viewend' }],
    ]],
  ].map(([id, ago, dims, events]) => {
    const start = now - ago;
    return {
      id,
      body: {
        v: 1,
        key: 'demo',
        batch: `b-${id}`,
        seq: 0,
        view: { id, session: `s-${id}`, player_version: '1.0.0', page: 'https://example.com/watch', ...dims },
        events: events.map(([at, event]) => ({ t: start + at, ...event })),
      },
    };
  });
}

async function post(body) {
  const response = await fetch(`${collector.base}/v1/beacons`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
}

/** Pixels drawn on each canvas under `selector` (non-transparent, non-white). */
async function inkPerCanvas(page, selector) {
  return page.evaluate((sel) => [...document.querySelectorAll(`${sel} canvas`)].map((canvas) => {
    const ctx = canvas.getContext('2d');
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 0 && !(r > 245 && g > 245 && b > 245)) ink++;
    }
    return { width: canvas.width, height: canvas.height, ink };
  }), selector);
}

/**
 * Pixels of a colour close to rgb, with an opacity in `alpha` (0-255), on the canvases
 * under `selector` (the canvases are transparent: translucent bands keep their colour and
 * show as a low alpha).
 */
async function pixelsNear(page, selector, [r0, g0, b0], { tolerance = 40, alpha = [200, 255] } = {}) {
  return page.evaluate(({ sel, rgb, tol, alpha: [lo, hi] }) => {
    let n = 0;
    for (const canvas of document.querySelectorAll(`${sel} canvas`)) {
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 4) {
        const a = data[i + 3];
        if (a >= lo && a <= hi && Math.abs(data[i] - rgb[0]) < tol
          && Math.abs(data[i + 1] - rgb[1]) < tol && Math.abs(data[i + 2] - rgb[2]) < tol) n++;
      }
    }
    return n;
  }, { sel: selector, rgb: [r0, g0, b0], tol: tolerance, alpha });
}

const tileText = (page, metric, part) =>
  page.locator(`.tile[data-metric="${metric}"] .${part}`).innerText();

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const uplot = path.join(REPO, 'web-demo', 'node_modules', 'uplot', 'dist', 'uPlot.iife.min.js');
  assert.ok(fs.existsSync(uplot), `${uplot} is missing: run \`make deps\` (npm ci in web-demo)`);
  const bin = buildCollector();
  const media = tempDir('e2e-dashboard-media-');
  collector = await startCollector(
    bin,
    ['--media', media, '--rate-limit', '0', '--log', 'info'],
    path.join(ARTIFACTS, 'dashboard-collector.log'),
  );
  browser = await launchChromium();
  const now = Date.now();
  for (const view of views(now)) {
    await post(view.body);
  }
});

after(async () => {
  await browser?.close();
  await collector?.stop();
});

test('the collector serves the dashboard and uPlot from node_modules, nothing else of it', async () => {
  const redirect = await fetch(`${collector.base}/dashboard?token=demo`, { redirect: 'manual' });
  assert.equal(redirect.status, 307);
  assert.equal(redirect.headers.get('location'), '/dashboard/?token=demo');
  const js = await fetch(`${collector.base}/dashboard/vendor/uPlot.iife.min.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /javascript/);
  assert.match(await js.text(), /uPlot/);
  const css = await fetch(`${collector.base}/dashboard/vendor/uPlot.min.css`);
  assert.equal(css.status, 200);
  const other = await fetch(`${collector.base}/dashboard/vendor/package.json`);
  assert.equal(other.status, 404);
  const api = await fetch(`${collector.base}/api/v1/overview?from=-24h`);
  assert.equal(api.status, 401);
});

test('the dashboard shows the posted views: tiles, change, charts, tables, auto-refresh', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  try {
    await page.goto(`${collector.base}/dashboard?token=demo`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: WAIT });
    // The token left the address bar and lives in sessionStorage.
    assert.ok(!page.url().includes('token='), page.url());
    assert.equal(await page.evaluate(() => sessionStorage.getItem('qoe-dashboard-token')), 'demo');

    // Tiles: six views in the last 24 h, one the day before.
    assert.equal(await tileText(page, 'views', 'value'), '6');
    assert.match(await tileText(page, 'views', 'change'), /▲ 500\.0 % vs previous period/);
    // Startups 400, 800, 1200, 2000 ms: nearest-rank median 800 ms, p95 2 s.
    assert.equal((await tileText(page, 'startup_p50_ms', 'value')).replace(/\s/g, ''), '800ms');
    assert.equal((await tileText(page, 'startup_p95_ms', 'value')).replace(/\s/g, ''), '2.00s');
    // Slower than the day before's 600 ms: worse, so red.
    assert.match(await tileText(page, 'startup_p50_ms', 'change'), /▲ 33\.3 %/);
    assert.equal(
      await page.locator('.tile[data-metric="startup_p50_ms"] .change').getAttribute('class'),
      'change bad',
    );
    // One start failure and one exit in six attempts.
    assert.equal((await tileText(page, 'vsf_pct', 'value')).replace(/\s/g, ''), '16.7%');
    assert.equal((await tileText(page, 'ebvs_pct', 'value')).replace(/\s/g, ''), '16.7%');
    // Every tile says what it means.
    const definitions = await page.locator('.tile .def').allInnerTexts();
    assert.equal(definitions.length, 11);
    assert.ok(definitions.every((d) => d.length > 20), definitions.join(' | '));

    // The API's own figures are what the tiles show.
    const overview = await page.evaluate(async () => {
      const r = await fetch('/api/v1/overview?from=-24h', { headers: { Authorization: 'Bearer demo' } });
      return r.json();
    });
    assert.equal(overview.current.views, 6);
    assert.equal(overview.current.startup_p50_ms, 800);
    assert.equal(overview.current.rebuffer_count, 2);

    // Six charts, each a canvas with a drawn plot; the views chart has its bars.
    const ink = await inkPerCanvas(page, '#charts');
    assert.equal(ink.length, 6, JSON.stringify(ink));
    for (const c of ink) {
      assert.ok(c.width > 200 && c.height > 100, JSON.stringify(c));
      assert.ok(c.ink > 500, `a chart canvas is blank: ${JSON.stringify(ink)}`);
    }
    assert.ok(
      await pixelsNear(page, '#charts .chart:first-child', [47, 111, 222], { alpha: [100, 255] }) > 50,
      'no view bars drawn',
    );
    assert.equal(await page.locator('#charts .empty:visible').count(), 0);

    // Breakdown by video, by impact; sorting by a column asks the API again.
    const rows = page.locator('#breakdown tbody tr');
    assert.equal(await rows.count(), 2);
    assert.match(await rows.first().innerText(), /Big Buck Bunny|Launch trailer/);
    await page.locator('#breakdown th[data-sort="rebuffer_pct"]').click();
    await page.waitForFunction(() => document.querySelector('#breakdown th.sorted')?.dataset.sort === 'rebuffer_pct');
    assert.match(await rows.first().innerText(), /Big Buck Bunny/);
    assert.ok(page.url().includes('sort=rebuffer_pct'), page.url());
    // By rendition, from the raw events.
    await page.selectOption('#by', 'rendition');
    await page.waitForFunction(() => document.querySelector('#breakdown tbody')?.innerText.includes('kbps'));
    assert.ok(await rows.count() >= 4);

    // Recent views, newest first.
    const list = page.locator('#views tbody tr');
    assert.equal(await list.count(), 6);
    assert.match(await list.first().innerText(), /exit before start/);
    assert.match(await list.nth(1).innerText(), /start failure/);

    // The filters hold what the data has; choosing one narrows every figure.
    await page.selectOption('#by', 'video');
    await page.selectOption('#filters select[name="player"]', 'hls.js');
    await page.waitForFunction(() => document.querySelector('.tile[data-metric="views"] .value')?.innerText === '2');
    assert.equal(await list.count(), 2);
    await page.selectOption('#filters select[name="player"]', '');
    await page.waitForFunction(() => document.querySelector('.tile[data-metric="views"] .value')?.innerText === '6');

    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    // A new view shows up by itself within the 15 s refresh.
    const late = views(Date.now()).find((v) => v.id === 'dash-clean');
    late.body.view.id = 'dash-late';
    late.body.batch = 'b-dash-late';
    for (const e of late.body.events) e.t += 4 * HOUR + 30 * MINUTE;
    await post(late.body);
    await page.waitForFunction(
      () => document.querySelector('.tile[data-metric="views"] .value')?.innerText === '7',
      null,
      { timeout: 25_000 },
    );
    assert.deepEqual(problems, []);
  } catch (error) {
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-failure.png'), fullPage: true }).catch(() => {});
    error.message += `\ncollector log:\n${tail(collector.logFile, 20)}`;
    throw error;
  } finally {
    await page.close();
  }
});

test('a view page draws its timeline: bitrate steps, stalls, seek, error', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  try {
    // From the list, as an analyst would.
    await page.goto(`${collector.base}/dashboard/?token=demo`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: WAIT });
    await page.locator('#views tbody tr', { hasText: 'Big Buck Bunny' }).filter({ hasText: '2×' })
      .locator('a', { hasText: 'timeline' }).click();
    await page.waitForSelector('body[data-loaded="true"]', { timeout: WAIT });
    assert.ok(page.url().includes('view.html?id=dash-stalled'), page.url());
    assert.match(await page.locator('#title').innerText(), /Big Buck Bunny — played/);
    assert.match(await page.locator('#dims').innerText(), /plan = free/);
    assert.match(await page.locator('.tile[data-metric="Rebuffering"] .value').innerText(), /2×/);
    assert.match(await page.locator('.tile[data-metric="Seeks"] .value').innerText(), /600 ms/);
    assert.equal(await page.locator('#events tbody tr').count(), 15);

    const ink = await inkPerCanvas(page, '#timeline');
    assert.equal(ink.length, 1);
    assert.ok(ink[0].ink > 2000, JSON.stringify(ink));
    // The stall bands (translucent red), the paused band (translucent grey), the bitrate
    // line (blue), the seek marker (purple) and the error marker (red).
    assert.ok(await pixelsNear(page, '#timeline', [198, 40, 40], { alpha: [50, 100] }) > 2000, 'no stall band');
    assert.ok(await pixelsNear(page, '#timeline', [95, 107, 124], { alpha: [25, 60] }) > 2000, 'no pause band');
    assert.ok(await pixelsNear(page, '#timeline', [47, 111, 222]) > 500, 'no bitrate line');
    assert.ok(await pixelsNear(page, '#timeline', [123, 31, 162]) > 100, 'no seek marker');
    assert.ok(await pixelsNear(page, '#timeline', [198, 40, 40]) > 100, 'no error marker');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-view.png'), fullPage: true });

    // A wrong token says what to do.
    await page.goto(`${collector.base}/dashboard/?token=wrong`);
    await page.waitForSelector('#banner:not([hidden])', { timeout: WAIT });
    assert.match(await page.locator('#banner').innerText(), /read token was refused/);
    assert.deepEqual(problems, []);
  } catch (error) {
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-view-failure.png'), fullPage: true }).catch(() => {});
    throw error;
  } finally {
    await page.close();
  }
});
