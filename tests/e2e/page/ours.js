// Test page for tests/e2e/player.test.mjs: our player (the npm package of player-wasm,
// copied next to this file as pkg/) on one <video> element. The test drives it through
// `window.e2e` (create, load, seek, destroy…) and reads back what happened: every player
// event (through `on("*")`), the element's own events, and snapshots of the element.
import init, { Player } from './pkg/player_wasm.js';

const video = document.getElementById('video');
const status = document.getElementById('status');
const now = () => performance.now();
// Room for every request of a session in the resource timeline (the destroy test reads it).
performance.setResourceTimingBufferSize(100000);

function ranges(r) {
  const out = [];
  for (let i = 0; i < r.length; i++) {
    out.push([r.start(i), r.end(i)]);
  }
  return out;
}

const e2e = {
  ready: false,
  initError: null,
  // Players created so far; `generation` tags each event with the player that sent it.
  generation: 0,
  player: null,
  // Every player event: { t (ms, performance.now), gen, type, ... }.
  events: [],
  // The element's own events: { t, name, currentTime }.
  media: [],
  // `load()` calls: { t, gen, src }.
  loads: [],
  // The first fatal error (a player `error` event with fatal: true, or the element's).
  fatal: null,

  /** A new Player on the element; returns { ok } or the error it threw. */
  create(options) {
    try {
      const player = options === undefined ? new Player(video) : new Player(video, options);
      const gen = ++e2e.generation;
      player.on('*', (event) => {
        const entry = Object.assign({ t: now(), gen }, event);
        e2e.events.push(entry);
        if (event.type === 'error' && event.fatal && e2e.fatal === null) {
          e2e.fatal = `player error (${event.kind}): ${event.details}`;
        }
        if (event.type === 'levelSwitched' || event.type === 'error') {
          showStatus();
        }
      });
      e2e.player = player;
      return { ok: true, gen };
    } catch (e) {
      return {
        ok: false,
        isTypeError: e instanceof TypeError,
        name: e && e.constructor ? e.constructor.name : typeof e,
        message: e && e.message !== undefined ? e.message : String(e),
      };
    }
  },

  load(src) {
    e2e.loads.push({ t: now(), gen: e2e.generation, src });
    e2e.player.load(src);
  },

  destroy() {
    e2e.player.destroy();
    e2e.destroyedAt = now();
  },

  /** The events of the current player (or of generation `gen`). */
  eventsOf(gen) {
    const g = gen ?? e2e.generation;
    return e2e.events.filter((e) => e.gen === g);
  },

  snapshot() {
    const q = video.getVideoPlaybackQuality();
    const p = e2e.player;
    let stats = null;
    let level = null;
    try {
      stats = p ? p.stats() : null;
      level = p ? { current: p.currentLevel, load: p.loadLevel, auto: p.autoLevelEnabled } : null;
    } catch (e) {
      stats = { unavailable: String(e) };
    }
    return {
      t: now(),
      wallMs: Date.now(),
      currentTime: video.currentTime,
      paused: video.paused,
      ended: video.ended,
      seeking: video.seeking,
      readyState: video.readyState,
      duration: video.duration,
      totalVideoFrames: q.totalVideoFrames,
      droppedVideoFrames: q.droppedVideoFrames,
      videoWidth: video.videoWidth,
      videoHeight: video.videoHeight,
      buffered: ranges(video.buffered),
      seekable: ranges(video.seekable),
      mediaError: video.error ? video.error.message || `code ${video.error.code}` : null,
      hasSrc: video.src !== '' || video.srcObject !== null,
      level,
      stats,
    };
  },

  // Mean and standard deviation of the luma of the frame on screen, drawn into a canvas:
  // a blank (black or uniform) picture has a deviation near 0.
  frameStats() {
    const w = 160;
    const h = 90;
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, w, h);
    const px = ctx.getImageData(0, 0, w, h).data;
    let sum = 0;
    let sq = 0;
    const n = w * h;
    for (let i = 0; i < px.length; i += 4) {
      const y = 0.2126 * px[i] + 0.7152 * px[i + 1] + 0.0722 * px[i + 2];
      sum += y;
      sq += y * y;
    }
    const mean = sum / n;
    return { mean, stddev: Math.sqrt(Math.max(0, sq / n - mean * mean)) };
  },
};
window.e2e = e2e;

for (const name of ['playing', 'waiting', 'seeking', 'seeked', 'pause', 'ended', 'error', 'emptied']) {
  video.addEventListener(name, () => {
    e2e.media.push({ t: now(), name, currentTime: video.currentTime });
    if (name === 'error' && e2e.fatal === null && e2e.player !== null) {
      e2e.fatal = `video element error: ${video.error && (video.error.message || video.error.code)}`;
    }
  });
}

function showStatus() {
  const s = e2e.snapshot();
  const last = e2e.events.filter((e) => e.type === 'levelSwitched').at(-1);
  status.textContent =
    `${e2e.loads.at(-1)?.src ?? '(nothing loaded)'}\n` +
    `t=${s.currentTime.toFixed(2)}s frames=${s.totalVideoFrames} level=${s.level ? s.level.current : '-'}` +
    (last ? ` (last switch ${last.from}->${last.to} ${last.reason})` : '') +
    (s.stats && s.stats.live ? ' live' : '') +
    (e2e.fatal ? `\nFATAL ${e2e.fatal}` : '');
}
setInterval(showStatus, 250);

try {
  await init();
  e2e.ready = true;
  status.textContent = 'ready';
} catch (e) {
  e2e.initError = String(e && e.stack ? e.stack : e);
  status.textContent = `init failed: ${e2e.initError}`;
}
