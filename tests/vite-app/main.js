// The player as an application uses it: imported by package name and bundled by Vite,
// which turns the package's `new URL('player_wasm_bg.wasm', import.meta.url)` into a
// hashed asset next to the bundle. The stream is `?src=URL` (default: the collector's
// /media/ladder/master.m3u8). State for tests/e2e/vite-app.test.mjs is on `window.app`.
import init, { Player } from 'wasm-hls-player';

const video = document.getElementById('video');
const status = document.getElementById('status');
const src = new URLSearchParams(location.search).get('src') || '/media/ladder/master.m3u8';

const app = { ready: false, error: null, events: [], firstFrameAt: null, player: null };
window.app = app;

function show() {
  const q = video.getVideoPlaybackQuality();
  status.textContent =
    `${src}\nt=${video.currentTime.toFixed(2)}s frames=${q.totalVideoFrames}` +
    ` level=${app.player ? app.player.currentLevel : '-'}` +
    (app.error ? `\nERROR ${app.error}` : '');
}
setInterval(show, 250);

try {
  await init();
  if (!Player.isSupported()) {
    throw new Error('Media Source Extensions are not supported here');
  }
  const player = new Player(video, { autoplay: true });
  app.player = player;
  player.on('*', (event) => {
    app.events.push({ t: performance.now(), type: event.type });
    if (event.type === 'firstFrame' && app.firstFrameAt === null) {
      app.firstFrameAt = performance.now();
    }
    if (event.type === 'error' && event.fatal && app.error === null) {
      app.error = `${event.kind}: ${event.details}`;
    }
  });
  player.load(src);
  app.ready = true;
} catch (e) {
  app.error = String(e && e.stack ? e.stack : e);
}
show();
