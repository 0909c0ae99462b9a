// The pages people look at first, in headless Chromium against a collector started the
// way `make demo` starts it (a ladder under --media/sample, a trace directory, SQLite
// analytics, web-demo/ and the player package served under /demo/):
//
// - the demo page (/demo/) with a trace chosen plays through /shaped/ (frames decoded,
//   the playhead moving), draws its charts (pixels on every canvas, the trace's real
//   bandwidth beside the estimate), and links to its view in the dashboard, which opens;
// - the comparison page (/demo/compare.html) plays our player and hls.js side by side,
//   each through its own shaped session of the same trace, both advancing and measured,
//   both views in the dashboard; "Restart both" starts two new sessions;
// - the dashboard then lists those views.
//
// Screenshots go to tests/e2e/artifacts/pages-*.png; with UPDATE_DOCS_IMAGES=1 also to
// docs/images/{demo,compare,dashboard}.png, the README's pictures. Run with `make e2e`,
// or here with `node --test pages.test.mjs` once player-wasm/pkg/ is built.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  ARTIFACTS,
  PKG_DIR,
  REPO,
  buildCollector,
  launchChromium,
  run,
  startCollector,
  tail,
  tempDir,
  writeStepTrace,
} from './lib/harness.mjs';

// Deadline for what takes a few seconds on an idle machine (two shared cores, maybe busy).
const WAIT = 90_000;
const VIEWPORT = { width: 1280, height: 800 };
const TRACE = 'steps.txt';
// 4 Mbit/s for 12 s, 0.8 Mbit/s to 30 s, then 2.5 Mbit/s: the players climb, fall back
// and climb again, and the estimate visibly follows the trace.
const STEPS = [[12, 4], [30, 0.8], [600, 2.5]];
const DOCS_IMAGES = process.env.UPDATE_DOCS_IMAGES === '1' ? path.join(REPO, 'docs', 'images') : null;

let collector;
let browser;
let work;

function requireFile(file, hint) {
  assert.ok(fs.existsSync(file), `${file} is missing: ${hint}`);
}

before(
  async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    requireFile(path.join(PKG_DIR, 'player_wasm.js'), 'build the npm package first (make wasm)');
    for (const f of ['hls.js/dist/hls.min.js', 'uplot/dist/uPlot.iife.min.js']) {
      requireFile(path.join(REPO, 'web-demo', 'node_modules', f), 'run `make deps` (npm ci in web-demo)');
    }
    browser = await launchChromium();
    const bin = buildCollector();
    work = tempDir('wasm-player-e2e-pages-');
    const media = path.join(work, 'media');
    run(
      bin,
      ['encode', '--test-pattern', '40', '--out', path.join(media, 'sample'),
        '--ladder', '720p:2500k,480p:1200k,360p:700k,240p:300k', '--pattern-size', '1280x720',
        '--segment-seconds', '2', '--qc-seconds', '0'],
      'collector encode (40 s)',
    );
    const traces = path.join(work, 'traces');
    fs.mkdirSync(traces);
    writeStepTrace(path.join(traces, TRACE), STEPS);
    collector = await startCollector(
      bin,
      ['--media', media, '--traces', traces, '--db', `sqlite://${path.join(work, 'analytics.db')}`, '--log', 'info'],
      path.join(ARTIFACTS, 'pages-collector.log'),
    );
  },
  { timeout: 600_000 },
);

after(async () => {
  await browser?.close();
  await collector?.stop();
  if (work && !process.env.E2E_KEEP) fs.rmSync(work, { recursive: true, force: true });
});

/** A page that records its errors; `problems()` lists them. */
async function openPage() {
  const page = await browser.newPage({ viewport: VIEWPORT });
  // Every request stays listed (the tests read the shaped sessions from resource timing).
  await page.addInitScript(() => performance.setResourceTimingBufferSize(100_000));
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  return { page, problems: () => problems };
}

/** Saves a screenshot in the artifacts, and as a docs image when asked. */
async function screenshot(page, name, docsName) {
  await page.screenshot({ path: path.join(ARTIFACTS, `pages-${name}.png`) });
  if (DOCS_IMAGES && docsName) {
    fs.mkdirSync(DOCS_IMAGES, { recursive: true });
    const file = path.join(DOCS_IMAGES, docsName);
    await page.screenshot({ path: file });
    const kb = fs.statSync(file).size / 1024;
    assert.ok(kb < 300, `${file}: ${kb.toFixed(0)} KB, keep docs images small`);
  }
}

/** The element's playhead and decoded frames, for each `<video>` matched by `selector`. */
function playback(page, selector) {
  return page.evaluate((sel) => [...document.querySelectorAll(sel)].map((v) => ({
    currentTime: v.currentTime,
    frames: v.getVideoPlaybackQuality().totalVideoFrames,
    error: v.error ? v.error.message || String(v.error.code) : null,
  })), selector);
}

/** Waits until every `<video>` of `selector` has played past `seconds`. */
async function playedPast(page, selector, seconds, what) {
  try {
    await page.waitForFunction(
      ({ sel, s }) => {
        const videos = [...document.querySelectorAll(sel)];
        return videos.length > 0 && videos.every((v) => v.currentTime > s);
      },
      { sel: selector, s: seconds },
      { timeout: WAIT, polling: 250 },
    );
  } catch (error) {
    assert.fail(`${what}: not past ${seconds} s: ${JSON.stringify(await playback(page, selector))}\n` +
      `collector log:\n${tail(collector.logFile, 15)}\n${error.message}`);
  }
}

/** Both the playhead and the decoded frames of every video move over two seconds. */
async function assertAdvancing(page, selector, what) {
  const a = await playback(page, selector);
  await page.waitForTimeout(2000);
  const b = await playback(page, selector);
  a.forEach((before, i) => {
    assert.ok(b[i].currentTime > before.currentTime + 0.5, `${what} #${i}: playhead ${before.currentTime} → ${b[i].currentTime}`);
    assert.ok(b[i].frames > before.frames, `${what} #${i}: frames ${before.frames} → ${b[i].frames}`);
    assert.equal(b[i].error, null, `${what} #${i}`);
  });
}

/** Pixels drawn on each canvas under `selector` (neither transparent nor white). */
function inkPerCanvas(page, selector) {
  return page.evaluate((sel) => [...document.querySelectorAll(`${sel} canvas`)].map((canvas) => {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0 && !(data[i] > 245 && data[i + 1] > 245 && data[i + 2] > 245)) ink += 1;
    }
    return ink;
  }), selector);
}

/** Pixels of about `rgb` (opaque) on the canvases under `selector`. */
function pixelsNear(page, selector, rgb) {
  return page.evaluate(({ sel, rgb: [r, g, b] }) => {
    let n = 0;
    for (const canvas of document.querySelectorAll(`${sel} canvas`)) {
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 200 && Math.abs(data[i] - r) < 30 && Math.abs(data[i + 1] - g) < 30
          && Math.abs(data[i + 2] - b) < 30) n += 1;
      }
    }
    return n;
  }, { sel: selector, rgb });
}

/** Paths of the page's requests that contain `part`. */
function requestsWith(page, part) {
  return page.evaluate((p) => performance.getEntriesByType('resource')
    .map((e) => new URL(e.name).pathname).filter((n) => n.includes(p)), part);
}

/** Opens the dashboard link `selector` of `page` and checks the view page shows player `player`. */
async function assertViewPage(page, selector, player) {
  await page.waitForSelector(`${selector}:not([hidden])`, { timeout: WAIT });
  const href = await page.locator(selector).getAttribute('href');
  assert.match(href, /^\/dashboard\/view\.html\?id=[0-9a-f]{32}$/, `${selector}: ${href}`);
  const view = await browser.newPage({ viewport: VIEWPORT });
  try {
    await view.goto(new URL(href, collector.base).href);
    await view.waitForSelector('body[data-loaded="true"]', { timeout: WAIT });
    const dims = await view.locator('#dims').innerText();
    assert.ok(dims.includes(player), `${href}: ${dims}`);
    assert.ok(dims.includes('sample'), `${href}: the video id: ${dims}`);
    return href;
  } finally {
    await view.close();
  }
}

test('the demo page plays a trace through /shaped/, charts it and links its view', { timeout: 300_000 }, async () => {
  const { page, problems } = await openPage();
  try {
    await page.goto(`${collector.base}/demo/?trace=${TRACE}`);
    await page.waitForSelector('body[data-started]', { timeout: WAIT });
    assert.equal(await page.locator('#trace').inputValue(), TRACE);
    // Every set of the trace directory is listed, with its mean rate.
    assert.match(await page.locator('#trace option[value="steps.txt"]').innerText(), /Mbit\/s mean/);
    await playedPast(page, '#video', 3, 'demo');
    await assertAdvancing(page, '#video', 'demo');
    // The stream goes through one shaped session of the trace.
    const shaped = await requestsWith(page, `/shaped/${TRACE}/`);
    assert.ok(shaped.some((p) => /\/shaped\/steps\.txt\/demo-[0-9a-f]+\/sample\/master\.m3u8$/.test(p)), shaped.join('\n'));
    assert.equal(new Set(shaped.map((p) => p.split('/')[3])).size, 1, 'one session');
    assert.match(await page.locator('#s-trace').innerText(), /^\d+\.\d\d Mbit\/s$/);
    assert.match(await page.locator('#s-startup').innerText(), /^\d+\.\d{3} s$/);

    // The charts: both canvases drawn on, with the trace (grey), the estimate (blue), the
    // bitrate on screen (orange) and the buffer (green).
    await page.waitForTimeout(1000);
    const ink = await inkPerCanvas(page, '#charts');
    assert.equal(ink.length, 2, 'two charts');
    for (const n of ink) assert.ok(n > 1000, `chart ink ${ink}`);
    for (const [name, rgb] of [['trace', [138, 148, 166]], ['estimate', [47, 111, 222]], ['bitrate', [232, 113, 10]], ['buffer', [22, 128, 60]]]) {
      assert.ok(await pixelsNear(page, '#charts', rgb) > 50, `the ${name} line is drawn`);
    }

    await assertViewPage(page, '#view-link', 'wasm-hls-player');

    // Past the drop to 0.8 Mbit/s, for the picture.
    await playedPast(page, '#video', 22, 'demo');
    await page.waitForTimeout(600);
    await screenshot(page, 'demo', 'demo.png');
    assert.deepEqual(problems(), []);
  } finally {
    await page.close();
  }
});

test('the compare page plays our player and hls.js side by side, each measured', { timeout: 300_000 }, async () => {
  const { page, problems } = await openPage();
  try {
    await page.goto(`${collector.base}/demo/compare.html?trace=${TRACE}`);
    await page.waitForSelector('body[data-started]', { timeout: WAIT });
    assert.match(await page.locator('#hlsjs-version').innerText(), /^1\.7\.4/);
    await playedPast(page, '#ours-video, #hlsjs-video', 3, 'compare');
    await assertAdvancing(page, '#ours-video, #hlsjs-video', 'compare');

    // Separate shaped sessions of the same trace.
    const shaped = await requestsWith(page, `/shaped/${TRACE}/`);
    const sessions = [...new Set(shaped.map((p) => p.split('/')[3]))].sort();
    assert.equal(sessions.length, 2, sessions.join(', '));
    assert.match(sessions[0], /^cmp-[0-9a-f]+-hlsjs$/);
    assert.equal(sessions[1], sessions[0].replace(/-hlsjs$/, '-ours'));

    // The same figures on both sides.
    for (const side of ['ours', 'hlsjs']) {
      await page.waitForFunction(
        (s) => /\d/.test(document.querySelector(`#${s}-stats [data-m="qoe"]`).textContent),
        side,
        { timeout: WAIT },
      );
      for (const key of ['startup', 'stalls', 'rebuffer', 'switches', 'bitrate', 'qoe', 'buffer', 'estimate', 'dropped']) {
        const text = await page.locator(`#${side}-stats [data-m="${key}"]`).innerText();
        assert.match(text, /\d/, `${side} ${key}: ${text}`);
      }
      const ink = await inkPerCanvas(page, `#${side}-charts`);
      assert.equal(ink.length, 2, `${side}: two charts`);
      for (const n of ink) assert.ok(n > 500, `${side} chart ink ${ink}`);
    }
    assert.match(await page.locator('#summary').innerText(), /per segment, wasm-player vs hls\.js: -?\d+\.\d{3} vs -?\d+\.\d{3}/);

    await assertViewPage(page, '#ours-view', 'wasm-hls-player');
    await assertViewPage(page, '#hlsjs-view', 'hls.js');

    await playedPast(page, '#ours-video, #hlsjs-video', 22, 'compare');
    await page.waitForTimeout(600);
    await screenshot(page, 'compare', 'compare.png');

    // "Restart both": two new sessions, both players from the start again.
    const before = await page.locator('#ours-view').getAttribute('href');
    await page.locator('#restart').click();
    await page.waitForFunction(
      (old) => document.querySelector('#ours-view').hidden || document.querySelector('#ours-view').getAttribute('href') !== old,
      before,
    );
    await page.waitForFunction(
      () => [...document.querySelectorAll('video')].every((v) => v.currentTime < 15),
      null,
      { timeout: WAIT },
    );
    await playedPast(page, '#ours-video, #hlsjs-video', 2, 'after restart');
    const after = [...new Set((await requestsWith(page, `/shaped/${TRACE}/`)).map((p) => p.split('/')[3]))];
    assert.equal(after.length, 4, after.join(', '));
    assert.deepEqual(problems(), []);
  } finally {
    await page.close();
  }
});

test('the dashboard lists the views of the pages', { timeout: 120_000 }, async () => {
  const { page, problems } = await openPage();
  try {
    await page.goto(`${collector.base}/dashboard/`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: WAIT });
    // The demo's view, the comparison's two, and the two after the restart.
    await page.waitForFunction(() => {
      const text = document.querySelector('#views')?.innerText || '';
      return (text.match(/wasm-hls-player/g) || []).length >= 2 && (text.match(/hls\.js/g) || []).length >= 2;
    }, null, { timeout: WAIT });
    await screenshot(page, 'dashboard', 'dashboard.png');
    assert.deepEqual(problems(), []);
  } finally {
    await page.close();
  }
});
