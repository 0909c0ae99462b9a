// Page of tests/bench/compare.mjs: one player plays `?src=` (a /shaped/ session of one
// trace), measured by our analytics, while `window.bench` records what the script needs to
// explain the figures afterwards.
//
// `?player=ours`: our Player (npm package, copied next to this file as pkg/) with the
// `default` ABR and `analytics` (its own telemetry). `?player=hls`: hls.js (hls.min.js)
// with its default configuration (`new Hls()`), watched by `Monitor.attach(video, { hls })`.
// Both report to this page's origin (the collector's /v1/beacons) under `?videoId=`.
//
// Recorded here, on the page's clock (performance.now() from the load() / loadSource()
// call; Date.now() of that instant in `t0Epoch` to line up with the beacons): the levels,
// the level switches each player announced (on screen and loading), the element's events
// (stalls), a sample every 500 ms (position, buffer ahead, bandwidth estimate, levels,
// dropped frames), and at the end every request of the stream (resource timing).
import init, { Player, Monitor } from './pkg/player_wasm.js';

const params = new URLSearchParams(location.search);
const which = params.get('player');
const src = params.get('src');
const videoId = params.get('videoId');
const custom = { bench: 'compare', trace: params.get('trace') || '', player: which };
const video = document.getElementById('video');
const now = () => performance.now();
performance.setResourceTimingBufferSize(100000);

const bench = {
  which,
  src,
  ready: false,
  error: null,
  tLoad: null,
  t0Epoch: null,
  hlsVersion: null,
  // { bitrate, height } per level, ascending (both players list levels by index).
  levels: [],
  // Level on screen: { t, from, to, reason }.
  switched: [],
  // Level being loaded: { t, from, to, reason }.
  switching: [],
  // Video fragments loaded as the player reported them: { t, level, sn, bytes, ttfb, load }.
  frags: [],
  abandoned: [],
  // <video> events: { t, name, ct }.
  media: [],
  // Every 500 ms: { t, ct, ahead, est, playing, loading, dropped, total }.
  samples: [],
  finalStats: null,
};
window.bench = bench;

const rel = () => (bench.tLoad === null ? null : now() - bench.tLoad);
let player = null;
let hls = null;
let monitor = null;

for (const name of ['play', 'playing', 'waiting', 'stalled', 'seeking', 'seeked', 'pause', 'ended']) {
  video.addEventListener(name, () => bench.media.push({ t: rel(), name, ct: video.currentTime }));
}
video.addEventListener('error', () => {
  bench.error = bench.error || `video element error ${video.error && video.error.code}`;
});

function bufferAhead() {
  const b = video.buffered;
  for (let i = 0; i < b.length; i++) {
    if (b.start(i) <= video.currentTime + 0.1 && b.end(i) > video.currentTime) return b.end(i) - video.currentTime;
  }
  return 0;
}

function sample() {
  if (bench.tLoad === null) return;
  const q = video.getVideoPlaybackQuality();
  let est = null;
  let playing = null;
  let loading = null;
  if (player) {
    const s = player.stats();
    est = s.bandwidthEstimateBps;
    playing = s.playingLevel;
    loading = s.loadingLevel;
  } else if (hls) {
    est = hls.bandwidthEstimate;
    playing = hls.currentLevel;
    loading = hls.loadLevel;
  }
  bench.samples.push({
    t: rel(),
    ct: video.currentTime,
    ahead: bufferAhead(),
    est,
    playing,
    loading,
    dropped: q.droppedVideoFrames,
    total: q.totalVideoFrames,
    rs: video.readyState,
  });
}
setInterval(sample, 500);

function startOurs() {
  player = new Player(video, {
    abr: 'default',
    analytics: { key: 'demo', videoId, videoTitle: 'compare bench', custom },
  });
  window.player = player;
  player.on('manifestLoaded', (e) => {
    bench.levels = e.levels.map((l) => ({ bitrate: l.bitrate, height: l.height }));
  });
  player.on('levelSwitched', (e) => bench.switched.push({ t: rel(), from: e.from, to: e.to, reason: e.reason }));
  player.on('levelSwitching', (e) => bench.switching.push({ t: rel(), from: e.from, to: e.to, reason: e.reason }));
  player.on('fragLoaded', (e) => {
    if (e.track === 'main') {
      // ttfb and loadTime are seconds here (milliseconds in the record, as for hls.js).
      bench.frags.push({ t: rel(), level: e.level, sn: e.sequence, bytes: e.bytes, ttfb: e.ttfb * 1000, load: e.loadTime * 1000 });
    }
  });
  player.on('fragAbandoned', (e) => bench.abandoned.push({ t: rel(), level: e.level, sn: e.sequence, to: e.toLevel }));
  player.on('error', (e) => {
    if (e.fatal) bench.error = bench.error || `${e.kind}: ${e.details}`;
  });
  bench.tLoad = now();
  bench.t0Epoch = Date.now();
  // autoplay (the default) calls play() at load().
  player.load(src);
}

async function startHls() {
  await new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = 'hls.min.js';
    s.onload = resolve;
    s.onerror = () => reject(new Error('hls.min.js did not load'));
    document.head.appendChild(s);
  });
  bench.hlsVersion = window.Hls.version;
  // The default configuration: the peer as a site would use it out of the box.
  hls = new window.Hls();
  window.hls = hls;
  monitor = Monitor.attach(video, { hls, key: 'demo', videoId, videoTitle: 'compare bench', custom });
  const E = window.Hls.Events;
  hls.on(E.MANIFEST_PARSED, (_, d) => {
    bench.levels = d.levels.map((l) => ({ bitrate: l.bitrate, height: l.height }));
  });
  let loadingLevel = null;
  hls.on(E.LEVEL_SWITCHING, (_, d) => {
    bench.switching.push({ t: rel(), from: loadingLevel, to: d.level, reason: null });
    loadingLevel = d.level;
  });
  let shown = null;
  hls.on(E.LEVEL_SWITCHED, (_, d) => {
    bench.switched.push({ t: rel(), from: shown, to: d.level, reason: null });
    shown = d.level;
  });
  hls.on(E.FRAG_LOADED, (_, d) => {
    if (d.frag.type !== 'main' || d.frag.sn === 'initSegment') return;
    const s = d.frag.stats;
    bench.frags.push({
      t: rel(),
      level: d.frag.level,
      sn: d.frag.sn,
      bytes: s.loaded,
      ttfb: s.loading.first - s.loading.start,
      load: s.loading.end - s.loading.start,
    });
  });
  hls.on(E.FRAG_LOAD_EMERGENCY_ABORTED, (_, d) => {
    bench.abandoned.push({ t: rel(), level: d.frag && d.frag.level, sn: d.frag && d.frag.sn, to: null });
  });
  hls.on(E.ERROR, (_, d) => {
    if (d.fatal) bench.error = bench.error || `hls.js ${d.type}: ${d.details}`;
  });
  bench.tLoad = now();
  bench.t0Epoch = Date.now();
  hls.loadSource(src);
  hls.attachMedia(video);
  video.play().catch(() => {});
}

/** Ends the view (viewend) and stops the player; returns the player's own figures. */
bench.finish = () => {
  sample();
  const q = video.getVideoPlaybackQuality();
  bench.finalStats = {
    dropped: q.droppedVideoFrames,
    total: q.totalVideoFrames,
    ct: video.currentTime,
    ours: player ? player.stats() : null,
  };
  if (player) {
    player.destroy();
  } else if (hls) {
    monitor.detach();
    hls.destroy();
  }
  return bench.finalStats;
};

/** Every request of the stream, from the page's resource timeline (times from tLoad). */
bench.requests = () =>
  performance
    .getEntriesByType('resource')
    .filter((r) => new URL(r.name).pathname.startsWith('/shaped/'))
    .map((r) => ({
      path: new URL(r.name).pathname.split('/').slice(4).join('/'),
      start: r.startTime - bench.tLoad,
      ttfb: r.responseStart - bench.tLoad,
      end: r.responseEnd - bench.tLoad,
      bytes: r.encodedBodySize,
    }));

try {
  await init();
  bench.ready = true;
  bench.start = () => (which === 'ours' ? startOurs() : startHls());
} catch (e) {
  bench.error = String(e && e.stack ? e.stack : e);
}
