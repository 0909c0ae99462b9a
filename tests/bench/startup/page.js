// Page of tests/bench/startup.mjs: one player (`?player=ours`, `?player=hls` for hls.js
// with its default configuration, `?player=hls-auto` for hls.js with `startLevel: -1`) plays
// `?src=` as soon as its library is ready, and `window.bench` records when load() /
// loadSource() was called, when the first frame was decoded and presented
// (requestVideoFrameCallback; the element's totalVideoFrames as a cross-check), when the
// element fired `playing`, which level the first video fragment came from, and each
// player's events. The script reads the resource timeline for bytes and requests.
const params = new URLSearchParams(location.search);
const which = params.get('player');
const src = params.get('src');
const video = document.getElementById('video');
const now = () => performance.now();
performance.setResourceTimingBufferSize(100000);

const bench = {
  which,
  src,
  libStart: now(),
  libReady: null,
  tLoad: null,
  // First requestVideoFrameCallback: performance.now() in the callback, and the frame's
  // presentationTime (when it was handed to the compositor).
  tFirstFrame: null,
  firstFramePresentation: null,
  // First time totalVideoFrames > 0 (polled every 5 ms).
  tDecoded: null,
  tPlaying: null,
  // Level (index into the player's ascending-bitrate list) and height of the first video
  // fragment requested.
  startLevel: null,
  startHeight: null,
  levels: [],
  events: [],
  error: null,
};
window.bench = bench;

function record(type, extra) {
  bench.events.push(Object.assign({ t: now(), type }, extra || {}));
}

video.requestVideoFrameCallback((_, meta) => {
  bench.tFirstFrame = now();
  bench.firstFramePresentation = meta.presentationTime;
});
const poll = setInterval(() => {
  if (video.getVideoPlaybackQuality().totalVideoFrames > 0) {
    bench.tDecoded = now();
    clearInterval(poll);
  }
}, 5);
video.addEventListener('playing', () => {
  if (bench.tPlaying === null) bench.tPlaying = now();
});
video.addEventListener('error', () => {
  bench.error = bench.error || `video element error ${video.error && video.error.code}`;
});

function setStart(level) {
  if (bench.startLevel === null) {
    bench.startLevel = level;
    bench.startHeight = bench.levels[level] ? bench.levels[level].height : null;
  }
}

async function startOurs() {
  const { default: init, Player } = await import('./pkg/player_wasm.js');
  await init();
  bench.libReady = now();
  const player = new Player(video);
  window.player = player;
  player.on('*', (e) => {
    const { type, ...rest } = e;
    if (type === 'manifestLoaded') {
      bench.levels = e.levels.map((l) => ({ bitrate: l.bitrate, height: l.height }));
      record(type, { levels: e.levels.length });
    } else {
      record(type, rest);
    }
    if (type === 'levelSwitching') setStart(e.to);
    if (type === 'error' && e.fatal) bench.error = bench.error || `${e.kind}: ${e.details}`;
  });
  bench.tLoad = now();
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
  bench.libReady = now();
  // The default configuration; `hls-auto`: the start level from the bandwidth estimate
  // (abrEwmaDefaultEstimate) instead of the first variant of the master playlist.
  const hls = which === 'hls-auto' ? new Hls({ startLevel: -1 }) : new Hls();
  window.hls = hls;
  const E = Hls.Events;
  for (const name of ['MANIFEST_LOADING', 'MANIFEST_LOADED', 'MANIFEST_PARSED', 'LEVEL_LOADING', 'LEVEL_LOADED',
    'AUDIO_TRACK_LOADING', 'AUDIO_TRACK_LOADED', 'LEVEL_SWITCHING', 'LEVEL_SWITCHED', 'FRAG_LOADING',
    'FRAG_LOADED', 'FRAG_BUFFERED', 'BUFFER_CREATED', 'MEDIA_ATTACHED']) {
    hls.on(E[name], (_, d) => {
      const extra = {};
      if (d && d.frag) Object.assign(extra, { level: d.frag.level, sn: d.frag.sn, kind: d.frag.type });
      if (d && typeof d.level === 'number') extra.level = d.level;
      if (d && typeof d.id === 'number') extra.id = d.id;
      record(name, extra);
    });
  }
  hls.on(E.MANIFEST_PARSED, (_, d) => {
    bench.levels = d.levels.map((l) => ({ bitrate: l.bitrate, height: l.height }));
  });
  hls.on(E.FRAG_LOADING, (_, d) => {
    if (d.frag.type === 'main' && d.frag.sn !== 'initSegment') setStart(d.frag.level);
  });
  hls.on(E.ERROR, (_, d) => {
    record('ERROR', { details: d.details, fatal: d.fatal });
    if (d.fatal) bench.error = bench.error || `hls.js: ${d.details}`;
  });
  bench.tLoad = now();
  hls.loadSource(src);
  hls.attachMedia(video);
  // What our player does with autoplay (its default): play() at load(), honoured once the
  // element can play.
  video.play().catch(() => {});
}

try {
  await (which === 'ours' ? startOurs() : startHls());
} catch (e) {
  bench.error = String(e && e.stack ? e.stack : e);
}
