// The player as an application gets it: `npm pack` of player-wasm/pkg (built by
// `make wasm`), installed from that tarball into the Vite 7 example app of tests/vite-app
// (`npm ci` for Vite from its lock file, then `npm install --no-save <tarball>`), bundled
// by `vite build`, and the built page served as the collector's /demo/ while it plays the
// collector's /media/ in headless Chromium. Checks that the bundle carries the .wasm as
// an asset of its own and that frames decode and currentTime advances; screenshot in
// tests/e2e/artifacts/vite-app.png. Nothing asserts a duration. Run with `make e2e`, or
// here with `node --test vite-app.test.mjs` once player-wasm/pkg/ is built.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {
  ARTIFACTS,
  PKG_DIR,
  REPO,
  buildCollector,
  get,
  launchChromium,
  run,
  startCollector,
  tail,
  tempDir,
} from './lib/harness.mjs';

const APP_DIR = path.join(REPO, 'tests', 'vite-app');
const LADDER = '360p:1600k,240p:600k,144p:150k';
const SECONDS = 12;
const WAIT = 45_000;

let collector;
let browser;
let work;
let packageName;

/** Runs `npm` with `args` in `cwd`; throws with its output when it fails. */
function npm(args, cwd) {
  const r = spawnSync('npm', args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.error) {
    throw new Error(`cannot run npm: ${r.error.message}`);
  }
  if (r.status !== 0) {
    throw new Error(`npm ${args.join(' ')} (in ${cwd}) failed (exit ${r.status})\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

before(
  async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const missing = ['package.json', 'player_wasm.js', 'player_wasm_bg.wasm'].filter(
      (f) => !fs.existsSync(path.join(PKG_DIR, f)),
    );
    assert.deepEqual(
      missing,
      [],
      `${PKG_DIR} lacks ${missing.join(', ')}: build the npm package first (make wasm, or bash player-wasm/build-npm.sh)`,
    );
    packageName = JSON.parse(fs.readFileSync(path.join(PKG_DIR, 'package.json'), 'utf8')).name;
    work = tempDir('wasm-player-e2e-vite-');

    // The tarball, exactly what `npm publish` would upload.
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', work], PKG_DIR));
    const tarball = path.join(work, packed[0].filename);
    const packedFiles = packed[0].files.map((f) => f.path);
    for (const f of ['player_wasm.js', 'player_wasm_bg.wasm', 'player_wasm.d.ts', 'package.json']) {
      assert.ok(packedFiles.includes(f), `npm pack left out ${f} (files: ${packedFiles.join(', ')})`);
    }

    // Vite from the lock file, then the player from the tarball (never saved: the lock
    // file names only Vite).
    npm(['ci', '--no-audit', '--no-fund'], APP_DIR);
    npm(['install', '--no-save', '--no-audit', '--no-fund', tarball], APP_DIR);
    const installed = JSON.parse(
      fs.readFileSync(path.join(APP_DIR, 'node_modules', packageName, 'package.json'), 'utf8'),
    );
    assert.equal(installed.name, packageName);
    const dist = path.join(work, 'dist');
    npm(['exec', '--', 'vite', 'build', '--outDir', dist, '--emptyOutDir'], APP_DIR);
    const assets = fs.readdirSync(path.join(dist, 'assets'));
    assert.ok(
      assets.some((f) => /^player_wasm_bg-.*\.wasm$/.test(f)),
      `vite build emitted no .wasm asset (assets: ${assets.join(', ')})`,
    );

    const bin = buildCollector();
    const media = path.join(work, 'media');
    run(
      bin,
      [
        'encode',
        '--test-pattern',
        String(SECONDS),
        '--out',
        path.join(media, 'ladder'),
        '--ladder',
        LADDER,
        '--segment-seconds',
        '2',
        '--pattern-size',
        '640x360',
        '--qc-seconds',
        '0',
      ],
      'collector encode',
    );
    browser = await launchChromium();
    collector = await startCollector(
      bin,
      ['--media', media, '--demo', dist, '--log', 'info'],
      path.join(ARTIFACTS, 'vite-app-collector.log'),
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

test('the Vite 7 app built with the packed npm package plays /media/', { timeout: 120_000 }, async (t) => {
  const context = await browser.newContext({ viewport: { width: 660, height: 420 } });
  const page = await context.newPage();
  const console = [];
  page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.push(`pageerror: ${e.message}`));
  const state = () =>
    page
      .evaluate(() => {
        const v = document.querySelector('video');
        const q = v.getVideoPlaybackQuality();
        return {
          ready: window.app ? window.app.ready : false,
          error: window.app ? window.app.error : 'no window.app',
          events: window.app ? window.app.events.map((e) => e.type) : [],
          currentTime: v.currentTime,
          paused: v.paused,
          readyState: v.readyState,
          totalVideoFrames: q.totalVideoFrames,
          videoWidth: v.videoWidth,
          videoHeight: v.videoHeight,
          resources: performance.getEntriesByType('resource').map((r) => new URL(r.name).pathname),
        };
      })
      .catch((e) => ({ unavailable: String(e) }));
  const explain = async () =>
    `state: ${JSON.stringify(await state())}\nconsole: ${console.slice(-8).join(' | ')}\n` +
    `collector log (tail):\n${tail(collector.logFile, 8)}`;
  /** Waits until `predicate` holds in the page (or the app reports an error). */
  async function waitFor(what, predicate, arg) {
    try {
      await page.waitForFunction(
        `(() => { const arg = ${JSON.stringify(arg ?? null)}; ` +
          `return (window.app && window.app.error !== null) || (${predicate.toString()})(arg); })()`,
        null,
        { timeout: WAIT, polling: 200 },
      );
    } catch (e) {
      assert.fail(`timed out waiting until ${what} (${e.message.split('\n')[0]})\n${await explain()}`);
    }
    const s = await state();
    assert.equal(s.error, null, `the app failed while waiting until ${what}\n${await explain()}`);
    return s;
  }

  try {
    const url = `${collector.base}/demo/?src=${encodeURIComponent('/media/ladder/master.m3u8')}`;
    const res = await page.goto(url);
    assert.equal(res.status(), 200, `GET ${url} answered ${res.status()}`);
    const s1 = await waitFor(
      'frames decode and playback runs',
      () => {
        const v = document.querySelector('video');
        return v.getVideoPlaybackQuality().totalVideoFrames > 0 && !v.paused && v.readyState >= 3;
      },
    );
    // The .wasm came from the bundle's hashed asset, not from a path into node_modules.
    const wasm = s1.resources.filter((p) => p.endsWith('.wasm'));
    assert.ok(
      wasm.length === 1 && /^\/demo\/assets\/player_wasm_bg-[^/]+\.wasm$/.test(wasm[0]),
      `the page fetched ${JSON.stringify(wasm)} for the wasm, not the bundle's asset`,
    );
    const s2 = await waitFor(
      `currentTime advances 2 s past ${s1.currentTime.toFixed(2)} s`,
      (a) => document.querySelector('video').currentTime >= a.from + 2,
      { from: s1.currentTime },
    );
    assert.ok(s2.totalVideoFrames > s1.totalVideoFrames, `no new frames (${s1.totalVideoFrames} then ${s2.totalVideoFrames})`);
    assert.ok(s2.videoWidth > 0 && s2.videoHeight > 0, 'the video has no size');
    // The picture is not blank: luma deviation of the frame on screen.
    const stddev = await page.evaluate(() => {
      const c = document.createElement('canvas');
      c.width = 160;
      c.height = 90;
      const ctx = c.getContext('2d', { willReadFrequently: true });
      ctx.drawImage(document.querySelector('video'), 0, 0, 160, 90);
      const px = ctx.getImageData(0, 0, 160, 90).data;
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < px.length; i += 4) {
        const y = 0.2126 * px[i] + 0.7152 * px[i + 1] + 0.0722 * px[i + 2];
        sum += y;
        sq += y * y;
      }
      const n = px.length / 4;
      return Math.sqrt(Math.max(0, sq / n - (sum / n) ** 2));
    });
    assert.ok(stddev > 8, `the frame on screen is blank (luma deviation ${stddev.toFixed(2)})`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'vite-app.png') });
    assert.ok(s2.events.includes('manifestLoaded'), `no manifestLoaded event (events: ${s2.events.join(', ')})`);
    t.diagnostic(
      `${packageName} via vite build: ${s2.totalVideoFrames} frames, currentTime ${s1.currentTime.toFixed(2)} -> ` +
        `${s2.currentTime.toFixed(2)} s, wasm from ${wasm[0]}`,
    );
  } finally {
    fs.writeFileSync(path.join(ARTIFACTS, 'vite-app.json'), JSON.stringify({ state: await state(), console }, null, 1));
    await context.close();
  }
});
