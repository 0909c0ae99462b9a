// The player demo (/demo/): a network trace (played through the collector's
// /shaped/{trace}/{session}/, one fresh session per load), an ABR algorithm and a stream;
// the player's own figures four times a second, live charts of its bandwidth estimate
// against the trace's real bandwidth at the same instant, the bitrate on screen, the
// buffer and the stalls; and the link to this view in the QoE dashboard (the player's
// analytics report to this collector, key `demo`).
//
// `?trace=NAME|none&abr=NAME&stream=vod|live` or `?src=URL` preset the form; the player
// comes from the npm package (`make wasm`), served by the collector as /demo/pkg/.
import init, { Player } from './pkg/player_wasm.js';
import {
  $, kbps, levelText, ladder, mbps, params, rememberChoice, resolveStream, seconds, setupControls,
} from './common.js';
import { SessionClock, Trace, newSessionId } from './network.js';
import { Meter } from './meter.js';
import { PlayerCharts } from './live-charts.js';
import { dashboardViewUrl, nextView, viewIdOf } from './views.js';

const video = $('video');
const charts = new PlayerCharts($('charts'), { heights: { network: 250, buffer: 150 }, sync: 'demo' });
const traces = new Map();

// The playback on screen: { player, meter, clock, trace, session, choice, stopWatching, viewId }.
let current = null;
let loads = 0;

function log(text) {
  const item = document.createElement('li');
  const at = current ? current.meter.now() : 0;
  item.innerHTML = '<span class="at"></span> ';
  item.firstChild.textContent = `${at.toFixed(2)} s`;
  item.append(text);
  $('events').prepend(item);
  while ($('events').children.length > 300) $('events').lastChild.remove();
}

function fillLevels(levels) {
  const select = $('level');
  select.replaceChildren(new Option('auto', '-1'));
  for (const level of levels) select.add(new Option(levelText(level.index, level), String(level.index)));
}

function traceOf(name) {
  if (!traces.has(name)) traces.set(name, Trace.load(name));
  return traces.get(name);
}

function showViewLink(id) {
  if (!current) return;
  current.viewId = id;
  const link = $('view-link');
  link.href = dashboardViewUrl(id);
  link.hidden = false;
  link.title = `view ${id}`;
  $('view-wait').hidden = true;
}

function stop() {
  if (!current) return;
  current.stopWatching();
  current.clock?.stop();
  current.meter.destroy();
  current.player.destroy();
  current = null;
}

function load() {
  stop();
  loads += 1;
  const load = loads;
  $('events').replaceChildren();
  $('level').replaceChildren(new Option('auto', '-1'));
  $('view-link').hidden = true;
  $('view-wait').hidden = false;
  const traceName = $('trace').value;
  const abr = $('abr').value;
  const session = newSessionId('demo');
  const choice = resolveStream(traceName, session);
  rememberChoice();
  $('nav-compare').href = `compare.html${location.search}`;

  const player = new Player(video, {
    abr,
    analytics: {
      key: 'demo',
      videoId: $('stream').value === 'url' ? 'other-url' : ladder(),
      videoTitle: $('stream').value === 'live' ? `${ladder()} (live)` : choice.given.slice(0, 2048),
      custom: { page: 'demo', trace: traceName, abr },
      flushIntervalMs: 2000,
    },
  });
  window.player = player;
  const source = {
    estimateBps: () => player.stats().bandwidthEstimateBps,
    level: () => {
      const index = player.stats().playingLevel;
      return index == null || index < 0 ? null : player.levels[index] || null;
    },
    bufferAheadS: () => player.stats().bufferAheadS,
  };
  const meter = new Meter(video, source, { elementStalls: false });
  // The player's own view of stalls and switches, so the charts agree with its figures.
  player.on('manifestLoaded', (e) => {
    // The shaped session exists from its first request (this manifest) on.
    if (choice.shaped && current && current.player === player && !current.clock) {
      current.clock = new SessionClock(traceName, session);
    }
    fillLevels(e.levels);
    log(`manifest: ${e.levels.length} levels${e.live ? ', live' : ''}`);
  });
  player.on('levelSwitched', (e) => {
    meter.levelSwitched(e.to);
    const level = player.levels[e.to];
    log(`on screen: level ${e.from ?? '–'} → ${levelText(e.to, level)} (${e.reason})`);
  });
  player.on('levelSwitching', (e) => log(`loading level ${e.to} (${e.reason})`));
  player.on('fragLoaded', (e) => {
    if (e.track === 'main') meter.segmentArrived(player.levels[e.level]?.bitrate ?? 0);
  });
  player.on('bufferStalled', () => {
    meter.stallStarted();
    log('stalled');
  });
  player.on('bufferStallEnded', (e) => {
    meter.stallEnded();
    log(`stall ended after ${e.duration.toFixed(2)} s`);
  });
  player.on('firstFrame', (e) => log(`first frame after ${e.startupTime.toFixed(3)} s`));
  player.on('fragAbandoned', (e) => log(`abandoned segment ${e.sequence} of level ${e.level} for level ${e.toLevel}`));
  player.on('error', (e) => log(`${e.fatal ? 'FATAL ' : ''}${e.kind}: ${e.details}`));
  player.on('ended', () => log('ended'));

  current = {
    player,
    meter,
    session,
    choice,
    traceName,
    trace: null,
    clock: null,
    stopWatching: () => {},
    viewId: null,
  };
  current.stopWatching = nextView('wasm-hls-player', showViewLink);
  if (choice.shaped) {
    traceOf(traceName).then((trace) => {
      if (load === loads) current.trace = trace;
    }).catch((error) => log(`trace ${traceName}: ${error.message}`));
  }
  const network = choice.shaped ? `through /shaped/ (session ${session}, trace ${traceName})` : 'unshaped';
  $('status').textContent = `${choice.given} — ${network}, ABR ${abr}.${choice.note ? ` ${choice.note}` : ''}`;
  if (choice.note) log(choice.note);
  player.load(choice.src);
  log(`load ${choice.src}`);
}

/** The trace's rate at performance.now() `at`, once the session's start is known. */
function traceRate(at) {
  if (!current || !current.trace || !current.clock) return null;
  const age = current.clock.age(at);
  return age === null || age < 0 ? null : current.trace.rateAt(age);
}

function tick() {
  if (!current) return;
  const { player, meter } = current;
  const s = player.stats();
  if (!s) return;
  const traceNow = traceRate(performance.now());
  meter.sample(traceNow);
  const id = viewIdOf(player);
  if (id && id !== current.viewId) showViewLink(id);
  const level = player.levels[s.playingLevel];
  $('s-level').textContent = level ? `${levelText(s.playingLevel, level)}${s.autoLevel ? '' : ' (pinned)'}` : '–';
  $('s-buffer').textContent = seconds(s.bufferAheadS);
  $('s-bandwidth').textContent = mbps(s.bandwidthEstimateBps / 1e6);
  $('s-trace').textContent = traceNow == null ? (current.choice.shaped ? '…' : 'not shaped') : mbps(traceNow);
  $('s-startup').textContent = s.qoe.startupTimeS == null ? '–' : seconds(s.qoe.startupTimeS, 3);
  $('s-stalls').textContent = `${s.qoe.rebufferCount} (${s.qoe.rebufferS.toFixed(2)} s)`;
  $('s-switches').textContent = String(s.qoe.switchCount);
  $('s-avg').textContent = kbps(s.qoe.averageBitrateBps);
  $('s-dropped').textContent = `${s.qoe.droppedFrames} of ${s.qoe.totalFrames}`;
  $('s-qoe').textContent = s.qoe.segments
    ? `${s.qoe.qoeLinPerSegment.toFixed(3)} (${s.qoe.segments} segments)`
    : '–';
}

function draw() {
  if (current) charts.update(current.meter);
}

const ready = setupControls();
await init();
await ready;
if (!Player.isSupported()) {
  $('status').textContent = 'This browser has no Media Source Extensions for H.264/AAC.';
} else {
  $('controls').addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  for (const id of ['abr', 'trace', 'stream']) {
    $(id).addEventListener('change', () => {
      if (id !== 'stream' || $('stream').value !== 'url') load();
    });
  }
  $('level').addEventListener('change', () => current && current.player.setLevel(Number($('level').value)));
  setInterval(tick, 250);
  setInterval(draw, 500);
  load();
  document.body.dataset.started = params().toString() || 'default';
}
