// The player demo: load a stream with a chosen ABR, pick a level or leave it automatic,
// and watch the player's own figures (buffer, bandwidth estimate, level, stalls, dropped
// frames, QoE) update live. The player comes from the npm package (`make wasm`), served
// by the collector under /demo/pkg/.
import init, { Player } from './pkg/player_wasm.js';

const $ = (id) => document.getElementById(id);
const video = $('video');
const params = new URLSearchParams(location.search);
if (params.get('src')) $('url').value = params.get('src');
if (params.get('abr')) $('abr').value = params.get('abr');

let player = null;
let stalls = 0;

function log(text) {
  const item = document.createElement('li');
  item.textContent = `${video.currentTime.toFixed(2)} s  ${text}`;
  $('events').prepend(item);
  while ($('events').children.length > 200) $('events').lastChild.remove();
}

function kbps(bps) {
  return bps ? `${Math.round(bps / 1000)} kbit/s` : '–';
}

function fillLevels(levels) {
  const select = $('level');
  select.replaceChildren(new Option('auto', '-1'));
  for (const level of levels) {
    const size = level.height ? `${level.height}p ` : '';
    select.add(new Option(`${level.index}: ${size}${kbps(level.bitrate)}`, String(level.index)));
  }
}

function load() {
  if (player) player.destroy();
  stalls = 0;
  $('events').replaceChildren();
  player = new Player(video, { abr: $('abr').value });
  window.player = player;
  player.on('manifestLoaded', (e) => { fillLevels(e.levels); log(`manifest: ${e.levels.length} levels${e.live ? ', live' : ''}`); });
  player.on('levelSwitched', (e) => log(`level ${e.from ?? '–'} → ${e.to} (${e.reason})`));
  player.on('bufferStalled', () => { stalls += 1; log('stalled'); });
  player.on('bufferStallEnded', (e) => log(`stall ended after ${e.duration.toFixed(2)} s`));
  player.on('firstFrame', (e) => log(`first frame after ${e.startupTime.toFixed(3)} s`));
  player.on('fragAbandoned', (e) => log(`abandoned segment ${e.sequence} of level ${e.level} for level ${e.toLevel}`));
  player.on('error', (e) => log(`${e.fatal ? 'FATAL ' : ''}${e.kind}: ${e.details}`));
  player.on('ended', () => log('ended'));
  player.load($('url').value);
}

function showStats() {
  if (!player) return;
  const s = player.stats();
  if (!s) return;
  const levels = player.levels || [];
  const level = levels[s.playingLevel];
  $('s-level').textContent = level ? `${s.playingLevel} (${level.height ?? '?'}p, ${kbps(level.bitrate)})${s.autoLevel ? '' : ' pinned'}` : '–';
  $('s-buffer').textContent = `${s.bufferAheadS.toFixed(1)} s`;
  $('s-bandwidth').textContent = kbps(s.bandwidthEstimateBps);
  $('s-startup').textContent = s.qoe.startupTimeS == null ? '–' : `${s.qoe.startupTimeS.toFixed(3)} s`;
  $('s-stalls').textContent = `${stalls} (${s.qoe.rebufferS.toFixed(2)} s)`;
  $('s-dropped').textContent = `${s.qoe.droppedFrames} of ${s.qoe.totalFrames}`;
  $('s-switches').textContent = String(s.qoe.switchCount);
  $('s-qoe').textContent = s.qoe.segments ? s.qoe.qoeLinPerSegment.toFixed(3) : '–';
}

await init();
if (!Player.isSupported()) {
  log('this browser has no Media Source Extensions for H.264/AAC');
} else {
  $('controls').addEventListener('submit', (event) => { event.preventDefault(); load(); });
  $('abr').addEventListener('change', load);
  $('level').addEventListener('change', () => player && player.setLevel(Number($('level').value)));
  setInterval(showStats, 250);
  load();
}
