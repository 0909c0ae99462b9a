// Shared pieces of the end-to-end tests: the collector binary, an encoded ladder, a running
// `collector serve` on a free loopback port, the test page, and headless Chromium.
//
// Everything runs for real: the release collector, ffmpeg (through `collector encode`),
// Debian's Chromium, hls.js from the npm registry. Nothing is mocked.

import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
export const E2E_DIR = path.resolve(here, '..');
export const REPO = path.resolve(E2E_DIR, '..', '..');
export const ARTIFACTS = path.join(E2E_DIR, 'artifacts');

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

/** Fails with what to do when a program the tests need is not installed. */
export function requireProgram(file, hint) {
  if (!fs.existsSync(file)) {
    throw new Error(`${file} not found: ${hint}`);
  }
}

/** Builds the release collector (a no-op when it is up to date) and returns its path. */
export function buildCollector() {
  if (process.env.COLLECTOR_BIN) {
    return process.env.COLLECTOR_BIN;
  }
  const cargo = process.env.CARGO || 'cargo';
  const r = spawnSync(cargo, ['build', '--release', '-q', '-p', 'collector'], {
    cwd: REPO,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.error) {
    throw new Error(`cannot run ${cargo}: ${r.error.message}`);
  }
  if (r.status !== 0) {
    throw new Error(`cargo build --release -p collector failed (exit ${r.status})`);
  }
  const targetDir = process.env.CARGO_TARGET_DIR
    ? path.resolve(REPO, process.env.CARGO_TARGET_DIR)
    : path.join(REPO, 'target');
  return path.join(targetDir, 'release', 'collector');
}

/** Runs a command to completion; throws with its output when it fails. */
export function run(file, args, what) {
  const r = spawnSync(file, args, { cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) {
    throw new Error(`${what}: cannot run ${file}: ${r.error.message}`);
  }
  if (r.status !== 0) {
    throw new Error(
      `${what} failed (exit ${r.status}): ${file} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`,
    );
  }
  return r.stdout;
}

/** A fresh temporary directory, removed by `cleanup` unless E2E_KEEP is set. */
export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Writes a trace file (`seconds Mbit/s`, one sample a second, tab-separated, the format
 * of the project's trace sets) from `[untilSeconds, mbps]` steps. A sample gives the rate
 * of the second that ends at its time (Pensieve's reading, which the shaper follows), so
 * `[[8, 10], [600, 0.5]]` is 10 Mbit/s over the first 8 s, then 0.5 Mbit/s.
 */
export function writeStepTrace(file, steps) {
  const lines = [];
  for (let t = 0; t <= steps[steps.length - 1][0]; t += 1) {
    const step = steps.find(([until]) => t <= until);
    lines.push(`${t}\t${step[1]}`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

/** Copies the test page and hls.js (from node_modules, never committed) under `dir`. */
export function installPage(dir) {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['index.html', 'player.js']) {
    fs.copyFileSync(path.join(E2E_DIR, 'page', f), path.join(dir, f));
  }
  const require = createRequire(import.meta.url);
  let hlsDist;
  try {
    hlsDist = require.resolve('hls.js/dist/hls.min.js');
  } catch {
    throw new Error('hls.js is not installed: run `npm ci` in tests/e2e (or `make deps`)');
  }
  fs.copyFileSync(hlsDist, path.join(dir, 'hls.min.js'));
  return require('hls.js/package.json').version;
}

/** The npm package of our player, built by `make wasm` (player-wasm/build-npm.sh). */
export const PKG_DIR = path.join(REPO, 'player-wasm', 'pkg');

/**
 * Copies the page for our player (page/ours.html, page/ours.js) under `dir`, with the
 * npm package of player-wasm as `dir/pkg/`.
 */
export function installOurPage(dir) {
  const files = ['player_wasm.js', 'player_wasm_bg.wasm'];
  const missing = files.filter((f) => !fs.existsSync(path.join(PKG_DIR, f)));
  if (missing.length > 0) {
    throw new Error(
      `${PKG_DIR} lacks ${missing.join(', ')}: build the npm package first (make wasm, or bash player-wasm/build-npm.sh)`,
    );
  }
  fs.mkdirSync(path.join(dir, 'pkg'), { recursive: true });
  for (const f of ['ours.html', 'ours.js']) {
    fs.copyFileSync(path.join(E2E_DIR, 'page', f), path.join(dir, f));
  }
  for (const f of files) {
    fs.copyFileSync(path.join(PKG_DIR, f), path.join(dir, 'pkg', f));
  }
}

/**
 * Starts `collector serve` on a free loopback port; resolves once it prints where it
 * listens. Its stderr (the access log) goes to `logFile`.
 */
export async function startCollector(bin, args, logFile) {
  const log = fs.openSync(logFile, 'w');
  // Each collector keeps its analytics in its own throwaway SQLite file unless told otherwise.
  const db = args.includes('--db')
    ? []
    : ['--db', `sqlite://${path.join(tempDir('e2e-db-'), 'analytics.db')}`];
  const child = spawn(bin, ['serve', '--addr', '127.0.0.1:0', ...db, ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', log],
  });
  fs.closeSync(log);
  const lines = createInterface({ input: child.stdout });
  const base = await new Promise((resolve, reject) => {
    const onExit = (code, signal) =>
      reject(
        new Error(
          `collector serve exited (${code ?? signal}) before listening:\n${tail(logFile, 40)}`,
        ),
      );
    child.once('exit', onExit);
    child.once('error', reject);
    lines.once('line', (line) => {
      child.off('exit', onExit);
      const m = /^collector listening on (http:\/\/\S+)$/.exec(line.trim());
      if (m) {
        resolve(m[1]);
      } else {
        reject(new Error(`unexpected first line from collector serve: ${JSON.stringify(line)}`));
      }
    });
  });
  lines.on('line', () => {}); // keep draining stdout
  return {
    base,
    child,
    logFile,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) {
        return;
      }
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The last `n` lines of a text file (for failure messages). */
export function tail(file, n) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** GET `url`; resolves to { status, text }. */
export async function get(url) {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

/** Launches Debian's Chromium headless through playwright-core (never a downloaded one). */
export async function launchChromium() {
  requireProgram(
    CHROMIUM,
    'the e2e tests need Debian\'s Chromium: run `make deps` (apt-get install chromium chromium-driver), or set CHROMIUM=/path/to/chromium',
  );
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    throw new Error('playwright-core is not installed: run `npm ci` in tests/e2e (or `make deps`)');
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
