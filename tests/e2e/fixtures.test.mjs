// Our player on streams nobody here wrote: the third-party HLS fixtures of the shared
// development set (`$SHARED/fixtures`, by default `../shared/fixtures` next to the
// repository; the test is skipped when it is absent).
//
// The streams are discovered, never named: every entry playlist (a master playlist, or a
// media playlist no master refers to) whose segments, init segments and keys are all on
// disk (EXT-X-GAP segments excepted) is played, so held-out fixtures of the same kinds are
// covered by the same code. The container is sniffed from the first segment's bytes.
//
// - fMP4: must play to the end with frames decoded (video), audio and video bytes
//   decoded (Chromium's webkit*DecodedByteCount), the playhead advancing, no fatal error.
// - MPEG-TS and packed audio: either play the same way, or fail fast (within
//   FAIL_FAST_MS of load) with a fatal error saying "unsupported container".
// - MPEG-TS and packed audio again with the transmuxer forced on (`transmux: 'always'`,
//   the Web Worker and its own wasm module): must play to the end like fMP4, with no
//   transmuxer error, and A/V in sync within AV_SYNC_S at the end. The measure: the
//   transmuxer's own output timeline (each reply's videoRange / audioRange, in media
//   seconds from the source's PES timestamps); at the end of the stream the last video
//   sample's end and the last audio sample's end must be within AV_SYNC_S. Timestamp
//   mistakes (base decode times drifting across segments, audio durations not following
//   the source, rollover) accumulate into exactly this difference. (The SourceBuffers
//   cannot tell: a muxed stream has one SourceBuffer for both tracks.)
// - fMP4 streams must never fetch the transmuxer (request interception on pkg/transmux/).
//
// One collector serves the fixture tree under /media/ and the test page under /demo/.
// Results go to tests/e2e/artifacts/fixtures.json (and a table on stdout); a screenshot
// of every stream to tests/e2e/artifacts/fixture-<name>.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  ARTIFACTS,
  PKG_DIR,
  REPO,
  buildCollector,
  get,
  installOurPage,
  launchChromium,
  startCollector,
  tail,
  tempDir,
} from './lib/harness.mjs';

const SHARED = process.env.SHARED ? path.resolve(process.env.SHARED) : path.resolve(REPO, '..', 'shared');
const FIXTURES = path.join(SHARED, 'fixtures');

// A container the player cannot play must say so within this long after load().
const FAIL_FAST_MS = 10_000;
// "Played to the end": the playhead within this much of the duration (or `ended`).
const END_TOLERANCE_S = 0.5;
// Give up on a stream whose playhead has not moved for this long (it would time out).
const STUCK_MS = 20_000;
// Audio and video ends of the transmuxer's output within this much at the end.
const AV_SYNC_S = 0.1;
// Generous bound for the page and the wasm package to come up.
const WAIT = 45_000;
const SAMPLE_MS = 250;

// ---------------------------------------------------------------------------------------
// Discovery: playlists, their references, and which streams are complete on disk.

/** `KEY=value` attributes of a tag line (quoted strings unquoted). */
function attributes(line) {
  const out = {};
  const body = line.slice(line.indexOf(':') + 1);
  const re = /([A-Z0-9-]+)=("[^"]*"|[^,]*)/g;
  let m;
  while ((m = re.exec(body)) !== null) {
    out[m[1]] = m[2].startsWith('"') ? m[2].slice(1, -1) : m[2];
  }
  return out;
}

/** `len[@offset]` of EXT-X-BYTERANGE / BYTERANGE="…". */
function byteRange(text) {
  const m = /^\s*(\d+)(?:@(\d+))?\s*$/.exec(text);
  return m ? { length: Number(m[1]), offset: m[2] === undefined ? null : Number(m[2]) } : null;
}

const isMasterText = (text) => /^#EXT-X-(STREAM-INF|I-FRAME-STREAM-INF|MEDIA):/m.test(text);

/** A parsed playlist file, or null when the file is not an HLS playlist. */
function parsePlaylist(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  text = text.replace(/^\uFEFF/, '');
  if (!text.trimStart().startsWith('#EXTM3U')) {
    return null;
  }
  // EXT-X-DEFINE NAME/VALUE variables are substituted; IMPORT and QUERYPARAM ones are
  // left alone (their URIs then count as unresolvable).
  const defines = new Map();
  for (const m of text.matchAll(/^#EXT-X-DEFINE:(.*)$/gm)) {
    const attrs = attributes(`:${m[1]}`);
    if (attrs.NAME !== undefined && attrs.VALUE !== undefined) defines.set(attrs.NAME, attrs.VALUE);
  }
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim().replace(/\{\$([A-Za-z0-9_-]+)\}/g, (all, name) => defines.get(name) ?? all));
  if (isMasterText(text)) {
    const variants = [];
    const renditions = [];
    const iframes = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (line.startsWith('#EXT-X-STREAM-INF:')) {
        let j = i + 1;
        while (j < lines.length && (lines[j] === '' || lines[j].startsWith('#'))) j++;
        if (j < lines.length) variants.push({ uri: lines[j], attrs: attributes(line) });
      } else if (line.startsWith('#EXT-X-MEDIA:')) {
        const attrs = attributes(line);
        renditions.push({ uri: attrs.URI ?? null, attrs });
      } else if (line.startsWith('#EXT-X-I-FRAME-STREAM-INF:')) {
        const attrs = attributes(line);
        if (attrs.URI) iframes.push({ uri: attrs.URI, attrs });
      }
    }
    return { kind: 'master', file, variants, renditions, iframes };
  }
  if (!/^#EXTINF:/m.test(text)) {
    return null;
  }
  const segments = [];
  const maps = [];
  const keys = [];
  let gap = false;
  let range = null;
  let duration = 0;
  let extinf = 0;
  let lastEnd = new Map(); // uri -> end of its previous byte range
  for (const line of lines) {
    if (line.startsWith('#EXTINF:')) {
      extinf = Number.parseFloat(line.slice(8)) || 0;
    } else if (line === '#EXT-X-GAP') {
      gap = true;
    } else if (line.startsWith('#EXT-X-BYTERANGE:')) {
      range = byteRange(line.slice('#EXT-X-BYTERANGE:'.length));
    } else if (line.startsWith('#EXT-X-MAP:')) {
      const attrs = attributes(line);
      if (attrs.URI !== undefined) {
        maps.push({ uri: attrs.URI, range: attrs.BYTERANGE ? byteRange(attrs.BYTERANGE) : null });
      }
    } else if (line.startsWith('#EXT-X-KEY:')) {
      const attrs = attributes(line);
      if (attrs.METHOD && attrs.METHOD !== 'NONE') keys.push({ uri: attrs.URI ?? null, method: attrs.METHOD });
    } else if (line !== '' && !line.startsWith('#')) {
      let r = range;
      if (r && r.offset === null) r = { length: r.length, offset: lastEnd.get(line) ?? 0 };
      if (r) lastEnd.set(line, r.offset + r.length);
      segments.push({ uri: line, gap, range: r, duration: extinf });
      duration += extinf;
      gap = false;
      range = null;
      extinf = 0;
    }
  }
  return {
    kind: 'media',
    file,
    segments,
    maps,
    keys,
    duration,
    vod: /^#EXT-X-ENDLIST\b/m.test(text) || /^#EXT-X-PLAYLIST-TYPE:\s*VOD\b/m.test(text),
    iframesOnly: /^#EXT-X-I-FRAMES-ONLY\b/m.test(text),
  };
}

/** The file a URI of `fromFile` names inside the fixture tree, or { why } when it cannot. */
function localFile(fromFile, uri) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri)) return { why: `absolute URL ${uri}` };
  if (uri.startsWith('/')) return { why: `root-relative URI ${uri}` };
  if (uri.includes('{$')) return { why: `URI with a variable ${uri}` };
  let rel = uri.replace(/[?#].*$/, '');
  try {
    rel = decodeURIComponent(rel);
  } catch {
    return { why: `undecodable URI ${uri}` };
  }
  const file = path.resolve(path.dirname(fromFile), rel);
  if (!file.startsWith(FIXTURES + path.sep)) return { why: `URI outside the fixtures ${uri}` };
  let stat;
  try {
    stat = fs.statSync(file);
  } catch {
    return { why: `missing ${path.relative(FIXTURES, file)}` };
  }
  if (!stat.isFile()) return { why: `not a file: ${path.relative(FIXTURES, file)}` };
  return { file };
}

/** Why media playlist `media` is not complete on disk, or null when it is. */
function mediaIncomplete(media) {
  if (media.segments.length === 0) return `${path.relative(FIXTURES, media.file)} lists no segment`;
  for (const key of media.keys) {
    if (key.uri === null) return `a key without URI (${key.method})`;
    const r = localFile(media.file, key.uri);
    if (r.why) return `key: ${r.why}`;
  }
  for (const map of media.maps) {
    const r = localFile(media.file, map.uri);
    if (r.why) return `init segment: ${r.why}`;
  }
  for (const segment of media.segments) {
    if (segment.gap) continue;
    const r = localFile(media.file, segment.uri);
    if (r.why) return r.why;
    if (segment.range && segment.range.offset + segment.range.length > fs.statSync(r.file).size) {
      return `byte range past the end of ${path.relative(FIXTURES, r.file)}`;
    }
  }
  return null;
}

function walk(dir, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(p, out);
    else if (entry.isFile() && /\.m3u8?$/i.test(entry.name)) out.push(p);
  }
  return out;
}

/** First `n` bytes of `file` from `offset`. */
function readBytes(file, offset, n) {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = fs.readSync(fd, buf, 0, n, offset);
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

const MP4_BOXES = new Set(['ftyp', 'styp', 'moof', 'sidx', 'moov', 'emsg', 'prft']);

/** The container of a segment from its first bytes. */
function sniff(bytes) {
  if (bytes.length >= 1 && bytes[0] === 0x47) {
    let ok = true;
    for (let at = 188; at < Math.min(bytes.length, 188 * 4); at += 188) {
      if (bytes[at] !== 0x47) ok = false;
    }
    if (ok) return 'ts';
  }
  if (bytes.length >= 8 && MP4_BOXES.has(bytes.toString('latin1', 4, 8))) return 'fmp4';
  if (bytes.length >= 3 && bytes.toString('latin1', 0, 3) === 'ID3') return 'packed-audio';
  // ADTS (0xFFF, layer 0) or MPEG audio frame sync (11 bits), or AC-3 / E-AC-3 sync.
  if (bytes.length >= 2 && bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0) return 'packed-audio';
  if (bytes.length >= 2 && bytes[0] === 0x0b && bytes[1] === 0x77) return 'packed-audio';
  return 'unknown';
}

/** Handler types ('vide', 'soun', …) of the tracks an MP4 (init) segment declares. */
function mp4Handlers(bytes) {
  const out = new Set();
  let at = bytes.indexOf('hdlr', 0, 'latin1');
  while (at >= 0 && at + 16 <= bytes.length) {
    out.add(bytes.toString('latin1', at + 12, at + 16));
    at = bytes.indexOf('hdlr', at + 4, 'latin1');
  }
  return out;
}

const VIDEO_CODECS = /^(avc[1-4]|hvc1|hev1|dvh[1e]|dva[1v]|av01|vp0?[89]|vp09|mp4v)/i;
const AUDIO_CODECS = /^(mp4a|ac-3|ec-3|ac-4|opus|flac|fLaC|mp3|\.mp3|alac)/i;

/** Every complete entry playlist under FIXTURES, and the incomplete ones with why. */
function discover() {
  const files = walk(FIXTURES).sort();
  const parsed = new Map();
  for (const f of files) {
    const p = parsePlaylist(f);
    if (p) parsed.set(f, p);
  }
  // Playlists a master refers to are part of that master's stream, not entries.
  const referenced = new Set();
  for (const p of parsed.values()) {
    if (p.kind !== 'master') continue;
    for (const ref of [...p.variants, ...p.renditions, ...p.iframes]) {
      if (ref.uri === null) continue;
      const r = localFile(p.file, ref.uri);
      if (r.file) referenced.add(r.file);
    }
  }
  const streams = [];
  const skipped = [];
  for (const p of parsed.values()) {
    if (p.kind === 'media' && referenced.has(p.file)) continue;
    const rel = path.relative(FIXTURES, p.file);
    const stream = describeStream(p, parsed);
    if (stream.why) skipped.push({ path: rel, why: stream.why });
    else streams.push(stream);
  }
  return { streams, skipped };
}

/** A complete stream from entry playlist `entry`, or { why } it is not one. */
function describeStream(entry, parsed) {
  const rel = path.relative(FIXTURES, entry.file);
  let main; // the media playlist the player starts with
  let medias; // every media playlist of the stream
  let codecs = [];
  if (entry.kind === 'master') {
    if (entry.variants.length === 0) return { why: 'a master playlist without variants' };
    medias = [];
    for (const ref of [...entry.variants, ...entry.renditions, ...entry.iframes]) {
      if (ref.uri === null) continue;
      const r = localFile(entry.file, ref.uri);
      if (r.why) return { why: r.why };
      const media = parsed.get(r.file) ?? parsePlaylist(r.file);
      if (!media || media.kind !== 'media') return { why: `${ref.uri} is not a media playlist` };
      const why = mediaIncomplete(media);
      if (why) return { why };
      medias.push(media);
    }
    const first = localFile(entry.file, entry.variants[0].uri).file;
    main = medias.find((m) => m.file === first);
    for (const v of entry.variants) {
      for (const c of (v.attrs.CODECS ?? '').split(',')) if (c.trim()) codecs.push(c.trim());
    }
  } else {
    const why = mediaIncomplete(entry);
    if (why) return { why };
    main = entry;
    medias = [entry];
  }
  if (main.iframesOnly) return { why: 'an I-frame playlist' };
  // The container, from the first segment with bytes on disk.
  const firstSegment = main.segments.find((s) => !s.gap);
  const segFile = localFile(main.file, firstSegment.uri).file;
  const container = sniff(readBytes(segFile, firstSegment.range?.offset ?? 0, 188 * 4));
  // Which kinds of track the stream carries: MP4 handlers where there are init segments,
  // else the master's CODECS, else what the container implies.
  const handlers = new Set();
  if (container === 'fmp4') {
    for (const media of medias) {
      if (media.iframesOnly) continue;
      const init = media.maps[0];
      if (init) {
        const f = localFile(media.file, init.uri).file;
        const n = init.range ? init.range.length : Math.min(fs.statSync(f).size, 1 << 20);
        for (const h of mp4Handlers(readBytes(f, init.range?.offset ?? 0, n))) handlers.add(h);
      } else {
        const s = media.segments.find((x) => !x.gap);
        const f = localFile(media.file, s.uri).file;
        for (const h of mp4Handlers(readBytes(f, s.range?.offset ?? 0, Math.min(fs.statSync(f).size, 1 << 20)))) {
          handlers.add(h);
        }
      }
    }
  }
  let hasVideo;
  let hasAudio;
  if (handlers.has('vide') || handlers.has('soun')) {
    hasVideo = handlers.has('vide');
    hasAudio = handlers.has('soun');
  } else if (codecs.length > 0) {
    hasVideo = codecs.some((c) => VIDEO_CODECS.test(c));
    hasAudio = codecs.some((c) => AUDIO_CODECS.test(c));
  } else if (container === 'packed-audio') {
    hasVideo = false;
    hasAudio = true;
  } else {
    hasVideo = true;
    hasAudio = null; // unknown: not asserted
  }
  const name = rel.replace(/\.m3u8?$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-');
  return {
    name,
    path: rel,
    urlPath: rel.split(path.sep).map(encodeURIComponent).join('/'),
    container,
    kind: entry.kind,
    variants: entry.kind === 'master' ? entry.variants.length : 1,
    duration: main.duration,
    vod: medias.every((m) => m.vod),
    gaps: main.segments.filter((s) => s.gap).length,
    hasVideo,
    hasAudio,
  };
}

const fixturesPresent = fs.existsSync(FIXTURES) && fs.statSync(FIXTURES).isDirectory();
const discovered = fixturesPresent ? discover() : { streams: [], skipped: [] };

// ---------------------------------------------------------------------------------------
// Playing.

let collector;
let browser;
let work;
const results = [];

async function openPage(name) {
  const context = await browser.newContext({ viewport: { width: 660, height: 420 } });
  // Every request for the transmuxer's files (the worker, its glue and wasm module).
  const transmuxRequests = [];
  await context.route('**/pkg/transmux/**', (route) => {
    transmuxRequests.push(route.request().url());
    return route.continue();
  });
  // The transmuxer worker's replies, as the player receives them.
  await context.addInitScript(() => {
    window.__transmux = [];
    const Base = window.Worker;
    window.Worker = class extends Base {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', (event) => {
          const d = event.data ?? {};
          window.__transmux.push({
            request: d.request,
            error: d.error,
            mime: d.mime,
            video: d.videoRange,
            audio: d.audioRange,
            warnings: d.warnings?.length ?? 0,
          });
        });
      }
    };
  });
  const page = await context.newPage();
  const console = [];
  page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.push(`pageerror: ${e.message}`));
  const url = `${collector.base}/demo/ours.html`;
  const res = await page.goto(url);
  assert.equal(res.status(), 200, `GET ${url} answered ${res.status()}`);
  await page.waitForFunction(() => e2e.ready || e2e.initError !== null, null, { timeout: WAIT });
  const initError = await page.evaluate(() => e2e.initError);
  assert.equal(initError, null, `${name}: the wasm package did not initialise`);
  return { name, page, context, console, transmuxRequests };
}

/** What the element and the player look like now (decoded byte counts included). */
function sample(page) {
  return page.evaluate(() => {
    const video = document.getElementById('video');
    const s = e2e.snapshot();
    return {
      t: s.t,
      currentTime: s.currentTime,
      duration: s.duration,
      ended: s.ended,
      paused: s.paused,
      readyState: s.readyState,
      frames: s.totalVideoFrames,
      dropped: s.droppedVideoFrames,
      audioBytes: video.webkitAudioDecodedByteCount ?? null,
      videoBytes: video.webkitVideoDecodedByteCount ?? null,
      width: s.videoWidth,
      height: s.videoHeight,
      buffered: s.buffered,
      mediaError: s.mediaError,
      fatal: e2e.fatal,
      playerEnded: e2e.events.some((e) => e.type === 'ended'),
      errors: e2e.events.filter((e) => e.type === 'error').map((e) => ({ t: e.t, fatal: e.fatal, kind: e.kind, details: e.details })),
      loadAt: e2e.loads.length > 0 ? e2e.loads[0].t : null,
    };
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Loads `stream` and watches it until it ends, fails, or stops moving. Returns the
 * samples and how it finished: 'ended' | 'fatal' | 'stuck' | 'timeout' | 'advanced' (live).
 */
async function watch(p, stream, options) {
  await p.page.evaluate(
    ([src, options]) => {
      const r = e2e.create(options);
      if (!r.ok) throw new Error(`new Player threw ${r.name}: ${r.message}`);
      e2e.load(src);
    },
    [`/media/${stream.urlPath}`, options],
  );
  const started = Date.now();
  const limit = started + (stream.duration * 2 + 60) * 1000;
  const samples = [];
  let lastMove = Date.now();
  let lastTime = -1;
  for (;;) {
    const s = await sample(p.page);
    samples.push(s);
    if (s.fatal !== null) return { how: 'fatal', samples, started };
    const duration = Number.isFinite(s.duration) && s.duration > 0 ? s.duration : stream.duration;
    if (stream.vod) {
      if (s.playerEnded || s.ended) {
        return { how: 'ended', samples, started };
      }
      if (s.currentTime >= duration - END_TOLERANCE_S) {
        // At the end: give the ended events a moment (recorded, not required).
        const endBy = Date.now() + 3000;
        for (;;) {
          await sleep(SAMPLE_MS);
          const e = await sample(p.page);
          samples.push(e);
          if (e.fatal !== null) return { how: 'fatal', samples, started };
          if (e.playerEnded || e.ended || Date.now() > endBy) return { how: 'ended', samples, started };
        }
      }
    } else if (s.currentTime >= samples.find((x) => x.currentTime > 0)?.currentTime + Math.min(5, stream.duration / 2)) {
      return { how: 'advanced', samples, started };
    }
    if (s.currentTime !== lastTime) {
      lastTime = s.currentTime;
      lastMove = Date.now();
    }
    if (Date.now() - lastMove > STUCK_MS) return { how: 'stuck', samples, started };
    if (Date.now() > limit) return { how: 'timeout', samples, started };
    await sleep(SAMPLE_MS);
  }
}

function describe(samples, p) {
  const last = samples.at(-1) ?? {};
  const { errors, ...rest } = last;
  return [
    `last sample: ${JSON.stringify(rest)}`,
    `errors: ${JSON.stringify(errors)}`,
    `console: ${p.console.slice(-6).join(' | ')}`,
    `collector log (tail):\n${tail(collector.logFile, 8)}`,
  ].join('\n');
}

/** Checks that a stream played: the playhead, frames, decoded audio and video. */
function checkPlayed(stream, samples, p) {
  const playing = samples.filter((s) => s.currentTime > 0);
  assert.ok(playing.length >= 2, `${stream.name}: the playhead never moved\n${describe(samples, p)}`);
  const first = playing[0];
  const last = samples.at(-1);
  assert.ok(last.currentTime > first.currentTime, `${stream.name}: currentTime did not advance`);
  assert.equal(last.fatal, null, `${stream.name}: fatal error ${last.fatal}`);
  const mid = playing.find((s) => s.currentTime >= (first.currentTime + last.currentTime) / 2) ?? last;
  if (stream.hasVideo) {
    assert.ok(
      mid === last ? last.frames > first.frames : mid.frames > first.frames && last.frames > mid.frames,
      `${stream.name}: decoded frames did not keep increasing ` +
        `(${first.frames} at ${first.currentTime.toFixed(2)} s, ${mid.frames} at ${mid.currentTime.toFixed(2)} s, ` +
        `${last.frames} at ${last.currentTime.toFixed(2)} s)\n${describe(samples, p)}`,
    );
    if (last.videoBytes !== null) {
      assert.ok(
        last.videoBytes > first.videoBytes,
        `${stream.name}: decoded video bytes did not grow (${first.videoBytes} then ${last.videoBytes})`,
      );
    }
    assert.ok(last.width > 0 && last.height > 0, `${stream.name}: the video has no size`);
  }
  if (stream.hasAudio && last.audioBytes !== null) {
    assert.ok(
      last.audioBytes > first.audioBytes,
      `${stream.name}: decoded audio bytes did not grow while playing (${first.audioBytes} at ` +
        `${first.currentTime.toFixed(2)} s, ${last.audioBytes} at ${last.currentTime.toFixed(2)} s)\n${describe(samples, p)}`,
    );
  }
}

before(
  async () => {
    if (!fixturesPresent) return;
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    // Screenshots of an earlier run would pass for streams this run did not play.
    for (const f of fs.readdirSync(ARTIFACTS)) {
      if (/^fixture-.*\.png$/.test(f)) fs.rmSync(path.join(ARTIFACTS, f));
    }
    browser = await launchChromium();
    const bin = buildCollector();
    work = tempDir('wasm-player-e2e-fixtures-');
    const pageDir = path.join(work, 'page');
    installOurPage(pageDir);
    // The transmuxer's files, fetched by the player only for MPEG-TS / packed audio.
    const transmux = path.join(PKG_DIR, 'transmux');
    if (fs.existsSync(transmux)) fs.cpSync(transmux, path.join(pageDir, 'pkg', 'transmux'), { recursive: true });
    collector = await startCollector(
      bin,
      ['--media', FIXTURES, '--demo', pageDir, '--pkg', path.join(pageDir, 'pkg'), '--log', 'info'],
      path.join(ARTIFACTS, 'fixtures-collector.log'),
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
  if (!fixturesPresent) return;
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.writeFileSync(
    path.join(ARTIFACTS, 'fixtures.json'),
    JSON.stringify({ fixtures: FIXTURES, results, skipped: discovered.skipped }, null, 1) + '\n',
  );
  const rows = [['stream', 'container', 'outcome', 'duration', 'frames', 'time', 'error']];
  for (const r of results) {
    rows.push([
      r.path,
      r.container,
      r.outcome,
      r.finalTime === null ? '-' : `${r.finalTime.toFixed(2)}/${(r.elementDuration ?? r.playlistDuration).toFixed(2)} s`,
      r.frames === null ? '-' : String(r.frames),
      `${(r.timeMs / 1000).toFixed(r.timeMs < 1000 ? 2 : 1)} s`,
      r.error ?? '',
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ');
  process.stdout.write(
    `\nfixtures (${results.length} played, ${discovered.skipped.length} playlists skipped as incomplete):\n` +
      rows.map(line).join('\n') +
      '\n',
  );
});

test('discovery finds complete fixture streams, fMP4 among them', { skip: !fixturesPresent && `no fixtures at ${FIXTURES} (set SHARED, or clone the shared set next to the repository)` }, (t) => {
  const { streams } = discovered;
  t.diagnostic(
    `${streams.length} streams: ` + streams.map((s) => `${s.path} (${s.container}, ${s.duration.toFixed(1)} s)`).join('; '),
  );
  assert.ok(
    streams.some((s) => s.container === 'fmp4'),
    `no complete fMP4 stream under ${FIXTURES}: found ${JSON.stringify(streams.map((s) => [s.path, s.container]))}`,
  );
});

for (const stream of discovered.streams) {
  const mustPlay = stream.container === 'fmp4';
  const title = `${stream.path} (${stream.container}): ${mustPlay ? 'plays to the end' : 'plays, or fails fast as an unsupported container'}`;
  test(title, { timeout: (stream.duration * 2 + 120) * 1000 }, async (t) => {
    const p = await openPage(stream.name);
    const result = {
      name: stream.name,
      path: stream.path,
      url: `${collector.base}/media/${stream.urlPath}`,
      container: stream.container,
      hasVideo: stream.hasVideo,
      hasAudio: stream.hasAudio,
      variants: stream.variants,
      gaps: stream.gaps,
      vod: stream.vod,
      outcome: 'error',
      playlistDuration: stream.duration,
      elementDuration: null,
      finalTime: null,
      frames: null,
      audioBytes: null,
      videoBytes: null,
      timeMs: 0,
      error: null,
    };
    try {
      const { how, samples, started } = await watch(p, stream);
      result.timeMs = Date.now() - started;
      const last = samples.at(-1);
      result.elementDuration = Number.isFinite(last.duration) ? last.duration : null;
      result.finalTime = last.currentTime;
      result.frames = last.frames;
      result.endedEvents = { player: last.playerEnded, element: last.ended };
      result.audioBytes = last.audioBytes;
      result.videoBytes = last.videoBytes;
      Object.assign(
        result,
        await p.page.evaluate(() => ({
          levels: e2e.events.find((e) => e.type === 'manifestLoaded')?.levels.length ?? null,
          switches: e2e.events
            .filter((e) => e.type === 'levelSwitched')
            .map((e) => `${e.from ?? '-'}->${e.to} ${e.reason}`),
          stalls: e2e.events.filter((e) => e.type === 'bufferStalled').length,
          gapJumps: e2e.events.filter((e) => e.type === 'gapJumped').map((e) => [e.from, e.to]),
          warnings: e2e.events.filter((e) => e.type === 'error' && !e.fatal).map((e) => e.details),
        })),
      );
      const fatal = last.errors.find((e) => e.fatal);
      result.error = fatal ? fatal.details : last.fatal;
      // From load() to the fatal error, on the page's clock.
      const failedAfterMs = fatal && last.loadAt !== null ? fatal.t - last.loadAt : null;
      await p.page.screenshot({ path: path.join(ARTIFACTS, `fixture-${stream.name}.png`) }).catch(() => {});

      if (stream.container === 'fmp4') {
        assert.deepEqual(p.transmuxRequests, [], `${stream.name}: fMP4 playback fetched the transmuxer`);
      }
      if (how === 'ended' || how === 'advanced') {
        result.outcome = how === 'ended' ? 'played to the end' : 'played';
        checkPlayed(stream, samples, p);
        const nonFatal = last.errors.filter((e) => !e.fatal);
        t.diagnostic(
          `${result.outcome}: ${last.currentTime.toFixed(2)} of ${result.elementDuration ?? stream.duration} s, ` +
            `${last.frames} frames, audio ${last.audioBytes} B, video ${last.videoBytes} B decoded` +
            (nonFatal.length ? `; non-fatal errors: ${nonFatal.map((e) => e.details).join(' | ')}` : ''),
        );
        return;
      }
      if (how === 'fatal' && /unsupported container/i.test(result.error ?? '') && failedAfterMs !== null) {
        result.outcome = 'unsupported';
        result.timeMs = Math.round(failedAfterMs);
        assert.ok(!mustPlay, `${stream.name}: an fMP4 stream is refused: ${result.error}`);
        assert.ok(
          failedAfterMs <= FAIL_FAST_MS,
          `${stream.name}: the unsupported container was reported ${Math.round(failedAfterMs)} ms after load (bound ${FAIL_FAST_MS} ms)`,
        );
        t.diagnostic(`unsupported after ${Math.round(failedAfterMs)} ms: ${result.error}`);
        return;
      }
      result.outcome = how;
      assert.fail(
        `${stream.name} (${stream.container}): ${
          how === 'fatal' ? `fatal error: ${result.error}` : how === 'stuck' ? 'the playhead stopped moving' : 'timed out'
        } at ${last.currentTime.toFixed(2)} s of ${result.elementDuration ?? stream.duration} s` +
          (mustPlay ? '' : ' (neither played nor reported an unsupported container)') +
          `\n${describe(samples, p)}`,
      );
    } catch (e) {
      if (result.outcome === 'played to the end' || result.outcome === 'played') {
        result.outcome = `failed checks after playing`;
      }
      result.error = result.error ?? String(e.message).split('\n')[0];
      throw e;
    } finally {
      results.push(result);
      await p.context.close();
    }
  });
}

// ---------------------------------------------------------------------------------------
// The transmuxer forced on for every MPEG-TS and packed-audio stream.

for (const stream of discovered.streams.filter((s) => s.container === 'ts' || s.container === 'packed-audio')) {
  const title = `${stream.path} (${stream.container}), transmuxer forced: plays to the end, A/V in sync`;
  test(title, { timeout: (stream.duration * 2 + 120) * 1000 }, async (t) => {
    const p = await openPage(`${stream.name}-transmux`);
    const result = {
      name: `${stream.name} (transmux)`,
      path: `${stream.path} [transmux]`,
      container: stream.container,
      outcome: 'error',
      playlistDuration: stream.duration,
      elementDuration: null,
      finalTime: null,
      frames: null,
      timeMs: 0,
      error: null,
    };
    try {
      const { how, samples, started } = await watch(p, stream, { transmux: 'always' });
      result.timeMs = Date.now() - started;
      const last = samples.at(-1);
      result.elementDuration = Number.isFinite(last.duration) ? last.duration : null;
      result.finalTime = last.currentTime;
      result.frames = last.frames;
      const replies = await p.page.evaluate(() => window.__transmux);
      result.replies = replies.length;
      result.mimes = [...new Set(replies.map((r) => r.mime).filter(Boolean))];
      const fatal = last.errors.find((e) => e.fatal);
      result.error = fatal ? fatal.details : last.fatal;
      await p.page.screenshot({ path: path.join(ARTIFACTS, `fixture-${stream.name}-transmux.png`) }).catch(() => {});
      assert.ok(
        how === 'ended' || (!stream.vod && how === 'advanced'),
        `${stream.name} (transmux): ${how}${result.error ? `: ${result.error}` : ''} at ${last.currentTime.toFixed(2)} s\n${describe(samples, p)}`,
      );
      checkPlayed(stream, samples, p);
      assert.ok(
        p.transmuxRequests.some((u) => u.endsWith('/transmux_bg.wasm')),
        `${stream.name}: the transmuxer's wasm module was never fetched (${JSON.stringify(p.transmuxRequests)})`,
      );
      const failed = replies.filter((r) => r.error);
      assert.deepEqual(failed, [], `${stream.name}: transmuxer errors`);
      assert.ok(replies.length > 0, `${stream.name}: no segment went through the transmuxer`);
      const videoEnd = Math.max(...replies.map((r) => r.video?.end ?? -Infinity));
      const audioEnd = Math.max(...replies.map((r) => r.audio?.end ?? -Infinity));
      result.videoEnd = Number.isFinite(videoEnd) ? videoEnd : null;
      result.audioEnd = Number.isFinite(audioEnd) ? audioEnd : null;
      if (result.videoEnd !== null && result.audioEnd !== null) {
        result.avOffset = result.audioEnd - result.videoEnd;
        assert.ok(
          Math.abs(result.avOffset) <= AV_SYNC_S,
          `${stream.name}: audio ends ${(result.avOffset * 1000).toFixed(0)} ms from video (${audioEnd.toFixed(3)} vs ${videoEnd.toFixed(3)} s)`,
        );
      }
      // ID3 timed metadata reaches the page as `metadata` events, whole tags at their
      // place on the timeline. Packed audio carries one per segment (its timestamp tag).
      const tags = await p.page.evaluate(() =>
        e2e.events
          .filter((e) => e.type === 'metadata')
          .map((e) => ({ time: e.time, pts: e.pts, track: e.track, head: String.fromCharCode(...e.data.subarray(0, 3)) })),
      );
      result.metadataEvents = tags.length;
      for (const tag of tags) {
        assert.equal(tag.head, 'ID3', `${stream.name}: a metadata event that is not an ID3 tag`);
        assert.ok(
          tag.time >= -0.5 && tag.time <= stream.duration + 0.5,
          `${stream.name}: metadata at ${tag.time} s, outside the stream (0..${stream.duration} s)`,
        );
      }
      if (stream.container === 'packed-audio') {
        assert.ok(tags.length >= replies.length, `${stream.name}: ${tags.length} metadata events for ${replies.length} segments`);
        const times = tags.map((tag) => tag.time);
        assert.ok(
          times.every((time, i) => i === 0 || time >= times[i - 1] - 0.05),
          `${stream.name}: metadata out of order: ${times.join(', ')}`,
        );
      }
      result.outcome = how === 'ended' ? 'played to the end' : 'played';
      t.diagnostic(
        `${tags.length} ID3 metadata events; ` +
        `${result.outcome} transmuxed (${result.mimes.join(' + ')}): ${last.currentTime.toFixed(2)} s, ${last.frames} frames, ` +
          `audio ${last.audioBytes} B decoded, ${replies.length} segments, A/V end offset ` +
          (result.avOffset === undefined ? 'n/a' : `${(result.avOffset * 1000).toFixed(1)} ms`),
      );
    } catch (e) {
      if (result.outcome !== 'error') result.outcome = 'failed checks after playing';
      result.error = result.error ?? String(e.message).split('\n')[0];
      throw e;
    } finally {
      results.push(result);
      await p.context.close();
    }
  });
}
