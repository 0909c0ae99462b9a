// Test page for tests/e2e/telemetry.test.mjs: the analytics of player-wasm's npm package
// (copied next to this file as pkg/) — our Player with `analytics`, and `Monitor` on a
// <video> that hls.js (hls.min.js) or our player drives. The test drives it through
// `window.e2e` and compares what reached the collector with what the page measured
// itself here: the element's events, timed with Date.now() (the beacons' clock), and the
// level switches each player announced.
import init, { Player, Monitor } from './pkg/player_wasm.js';

const video = document.getElementById('video');

const e2e = {
  ready: false,
  initError: null,
  player: null,
  hls: null,
  monitor: null,
  hlsVersion: window.Hls ? window.Hls.version : null,
  // The element's events: { t (Date.now()), name, currentTime, seeking, paused, readyState }.
  media: [],
  // Bitrate of each level (BANDWIDTH), from the player that plays.
  levels: [],
  // Levels on screen as the player announced them: { t, level }.
  switches: [],
  fatal: null,

  /** Our player with `options` on the element, playing `src`. */
  ours(src, options) {
    const player = new Player(video, options);
    player.on('manifestLoaded', (e) => {
      e2e.levels = e.levels.map((l) => l.bitrate);
    });
    player.on('levelSwitched', (e) => e2e.switches.push({ t: Date.now(), level: e.to }));
    player.on('error', (e) => {
      if (e.fatal && e2e.fatal === null) e2e.fatal = `${e.kind}: ${e.details}`;
    });
    e2e.player = player;
    player.load(src);
  },

  /** hls.js (with `config`) playing `src`, with a Monitor given `monitorOptions` (and the instance). */
  hlsjs(src, monitorOptions, config = {}) {
    const hls = new window.Hls(Object.assign({ enableWorker: false }, config));
    e2e.hls = hls;
    e2e.monitor = Monitor.attach(video, Object.assign({ hls }, monitorOptions));
    hls.on(window.Hls.Events.MANIFEST_PARSED, () => {
      e2e.levels = hls.levels.map((l) => l.bitrate);
    });
    hls.on(window.Hls.Events.LEVEL_SWITCHED, (_, d) => e2e.switches.push({ t: Date.now(), level: d.level }));
    hls.on(window.Hls.Events.ERROR, (_, d) => {
      if (d.fatal && e2e.fatal === null) e2e.fatal = `hls.js ${d.type}: ${d.details}`;
    });
    hls.loadSource(src);
    hls.attachMedia(video);
    video.play().catch(() => {});
  },

  attachMonitor(options) {
    e2e.monitor = Monitor.attach(video, options);
  },

  /** Startup, rebuffers and seeks as this page measured them from the element's events. */
  measured() {
    let play = null;
    let firstFrame = null;
    let seeking = false;
    let stallStart = null;
    const rebuffers = [];
    for (const e of e2e.media) {
      if (e.name === 'play' && play === null) play = e.t;
      if (e.name === 'playing' && firstFrame === null) firstFrame = e.t;
      if (e.name === 'seeking') {
        seeking = true;
        if (stallStart !== null) rebuffers.push(e.t - stallStart);
        stallStart = null;
      }
      if (e.name === 'waiting' && firstFrame !== null && !seeking && stallStart === null) stallStart = e.t;
      if (e.name === 'playing' || e.name === 'pause' || e.name === 'ended') {
        if (stallStart !== null) rebuffers.push(e.t - stallStart);
        stallStart = null;
        if (e.name === 'playing') seeking = false;
      }
      // A seek lasts until playback resumes: at `seeked` when the data is there.
      if (e.name === 'seeked' && (e.paused || e.readyState >= 3)) seeking = false;
    }
    return {
      startupMs: play !== null && firstFrame !== null ? firstFrame - play : null,
      rebuffers,
      levels: e2e.levels,
      switches: e2e.switches,
      ended: video.ended,
      currentTime: video.currentTime,
    };
  },
};
window.e2e = e2e;

for (const name of ['play', 'playing', 'waiting', 'seeking', 'seeked', 'pause', 'ended']) {
  video.addEventListener(name, () => {
    e2e.media.push({
      t: Date.now(),
      name,
      currentTime: video.currentTime,
      seeking: video.seeking,
      paused: video.paused,
      readyState: video.readyState,
    });
  });
}

try {
  await init();
  e2e.ready = true;
} catch (e) {
  e2e.initError = String(e && e.stack ? e.stack : e);
}
