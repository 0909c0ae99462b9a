// Test page for tests/e2e: plays `?src=` with hls.js (configuration from `?cfg=`, JSON)
// and records what the player did in `window.e2e`, which the test reads.
'use strict';
(function () {
  const params = new URLSearchParams(location.search);
  const src = params.get('src');
  const config = JSON.parse(params.get('cfg') || '{}');
  const video = document.getElementById('video');
  const status = document.getElementById('status');
  const now = () => performance.now();

  const e2e = {
    src,
    config,
    hlsVersion: window.Hls ? Hls.version : null,
    // Every hls.js event of interest: { t (ms, performance.now), name, ... }.
    events: [],
    // Browser time of MANIFEST_LOADING: the session's first request.
    manifestLoadingAt: null,
    levels: [],
    // { t, level } for LEVEL_SWITCHING (decision) and LEVEL_SWITCHED (playing).
    switching: [],
    switched: [],
    // { t, level, live, startSN, endSN } for each LEVEL_LOADED / LEVEL_UPDATED.
    playlists: [],
    // { t, level, sn, bytes, ms } for each FRAG_LOADED.
    fragments: [],
    errors: [],
    fatal: null,
    snapshot() {
      const q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : {};
      const buffered = [];
      for (let i = 0; i < video.buffered.length; i++) {
        buffered.push([video.buffered.start(i), video.buffered.end(i)]);
      }
      return {
        t: now(),
        currentTime: video.currentTime,
        paused: video.paused,
        readyState: video.readyState,
        videoWidth: video.videoWidth,
        videoHeight: video.videoHeight,
        totalVideoFrames: q.totalVideoFrames || 0,
        droppedVideoFrames: q.droppedVideoFrames || 0,
        buffered,
        currentLevel: hls ? hls.currentLevel : null,
        mediaError: video.error ? video.error.message || String(video.error.code) : null,
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

  function record(name, extra) {
    const entry = Object.assign({ t: now(), name }, extra || {});
    e2e.events.push(entry);
    return entry;
  }

  if (!window.Hls) {
    e2e.fatal = 'hls.js did not load';
    status.textContent = e2e.fatal;
    return;
  }
  if (!Hls.isSupported()) {
    e2e.fatal = 'hls.js says MediaSource playback is not supported in this browser';
    status.textContent = e2e.fatal;
    return;
  }

  const hls = new Hls(config);
  e2e.hls = hls;
  const E = Hls.Events;

  hls.on(E.MANIFEST_LOADING, (_, d) => {
    e2e.manifestLoadingAt = now();
    record('MANIFEST_LOADING', { url: d.url });
  });
  hls.on(E.MANIFEST_PARSED, (_, d) => {
    e2e.levels = d.levels.map((l) => ({
      bitrate: l.bitrate,
      width: l.width,
      height: l.height,
      codecs: [l.videoCodec, l.audioCodec].filter(Boolean).join(','),
      url: Array.isArray(l.url) ? l.url[0] : l.url,
    }));
    record('MANIFEST_PARSED', { levels: e2e.levels.length });
  });
  hls.on(E.LEVEL_SWITCHING, (_, d) => {
    e2e.switching.push({ t: now(), level: d.level });
    record('LEVEL_SWITCHING', { level: d.level });
  });
  hls.on(E.LEVEL_SWITCHED, (_, d) => {
    e2e.switched.push({ t: now(), level: d.level });
    record('LEVEL_SWITCHED', { level: d.level });
  });
  const onPlaylist = (name) => (_, d) => {
    const p = d.details;
    const entry = { t: now(), level: d.level, live: p.live, startSN: p.startSN, endSN: p.endSN };
    e2e.playlists.push(entry);
    record(name, entry);
  };
  hls.on(E.LEVEL_LOADED, onPlaylist('LEVEL_LOADED'));
  hls.on(E.LEVEL_UPDATED, onPlaylist('LEVEL_UPDATED'));
  hls.on(E.FRAG_LOADED, (_, d) => {
    const f = d.frag;
    const s = f.stats || d.stats || {};
    const loading = s.loading || {};
    const entry = {
      t: now(),
      type: f.type,
      level: f.level,
      sn: f.sn,
      bytes: s.loaded,
      ms: loading.end && loading.start ? loading.end - loading.start : null,
    };
    e2e.fragments.push(entry);
    record('FRAG_LOADED', entry);
  });
  hls.on(E.ERROR, (_, d) => {
    const entry = {
      t: now(),
      type: d.type,
      details: d.details,
      fatal: d.fatal,
      reason: d.reason || (d.error && d.error.message) || null,
      url: (d.frag && d.frag.url) || (d.context && d.context.url) || null,
      code: d.response ? d.response.code : null,
    };
    e2e.errors.push(entry);
    record('ERROR', entry);
    if (d.fatal) {
      e2e.fatal = `${d.type}/${d.details}${entry.reason ? ': ' + entry.reason : ''}`;
    }
  });

  video.addEventListener('playing', () => record('video:playing'));
  video.addEventListener('waiting', () => record('video:waiting'));
  video.addEventListener('error', () => {
    e2e.fatal = `video element error: ${video.error && video.error.message}`;
    record('video:error', { message: e2e.fatal });
  });

  hls.attachMedia(video);
  hls.loadSource(src);
  video.play().catch((e) => record('video:play-rejected', { message: String(e) }));

  function showStatus() {
    const s = e2e.snapshot();
    const level = s.currentLevel >= 0 && e2e.levels[s.currentLevel];
    status.textContent =
      `${src}\n` +
      `t=${s.currentTime.toFixed(2)}s frames=${s.totalVideoFrames} ` +
      `level=${s.currentLevel}${level ? ` (${level.height}p, ${Math.round(level.bitrate / 1000)} kbit/s)` : ''}` +
      (e2e.fatal ? `\nFATAL ${e2e.fatal}` : '');
  }
  hls.on(E.LEVEL_SWITCHED, showStatus);
  setInterval(showStatus, 250);
})();
