// The comparison page (/demo/compare.html): our player and hls.js side by side on the
// same stream and the same network trace, each through its own shaped session
// (/shaped/{trace}/{session}/, separate session ids, started in the same tick), each
// measured by a `Meter` with the same definitions, with the same live charts and a
// running QoE_lin. Both views reach the QoE dashboard: our player through its analytics,
// hls.js through `Monitor.attach(video, {hls})`.
//
// `?trace=NAME|none&abr=NAME&stream=vod|live` or `?src=URL` preset the form. hls.js
// comes from web-demo's npm dependencies (served as /demo/vendor/hls.min.js) and runs
// with its default configuration.
import init, { Monitor, Player } from './pkg/player_wasm.js';
import {
  $, kbps, ladder, mbps, percent, rememberChoice, resolveStream, seconds, setupControls,
} from './common.js';
import { SessionClock, Trace, newSessionId } from './network.js';
import { Meter } from './meter.js';
import { PlayerCharts, maxOf } from './live-charts.js';
import { dashboardViewUrl, nextView, viewIdOf } from './views.js';

const Hls = globalThis.Hls;
const traces = new Map();

/** Rows of each side's table: [key, label, direction (lower/higher is better, or none)]. */
const ROWS = [
  ['startup', 'Startup time', 'lower'],
  ['stalls', 'Stalls', 'lower'],
  ['rebuffer', 'Rebuffer ratio', 'lower'],
  ['switches', 'Switches', null],
  ['bitrate', 'Avg bitrate on screen', 'higher'],
  ['qoe', '<span title="Mean over the segments arrived so far (their number in brackets)">QoE<sub>lin</sub> per segment</span>', 'higher'],
  ['buffer', 'Buffer ahead', null],
  ['estimate', 'Bandwidth estimate', null],
  ['dropped', 'Dropped frames', null],
];

// The y scales both sides share, recomputed before each redraw.
const shared = { mbps: null, bufferS: null };
const limits = { mbps: () => shared.mbps, bufferS: () => shared.bufferS };

/** One column of the page. */
class Side {
  constructor(id) {
    this.id = id;
    this.video = $(`${id}-video`);
    this.charts = new PlayerCharts($(`${id}-charts`), {
      heights: { network: 180, buffer: 120 },
      sync: 'compare',
      limits,
      legend: false,
    });
    $(`${id}-stats`).innerHTML = ROWS.map(([key, label]) =>
      `<tr><th>${label}</th><td data-m="${key}">–</td></tr>`).join('');
    this.playback = null;
  }

  cell(key) {
    return $(`${this.id}-stats`).querySelector(`[data-m="${key}"]`);
  }

  /** Forgets the playback: the player or hls.js and its Monitor torn down. */
  stop() {
    const p = this.playback;
    if (!p) return;
    p.stopWatching();
    p.clock?.stop();
    p.meter.destroy();
    p.teardown();
    this.playback = null;
    $(`${this.id}-view`).hidden = true;
  }

  /** Starts measuring a playback whose player is set up by `start`. */
  begin({ t0, session, choice, traceName, start }) {
    const meter = new Meter(this.video, { estimateBps: () => null, level: () => null }, { t0 });
    const playback = {
      meter,
      session,
      choice,
      trace: null,
      clock: null,
      viewId: null,
      reporter: null,
      stopWatching: () => {},
      teardown: () => {},
      fatal: null,
    };
    this.playback = playback;
    if (choice.shaped) {
      if (!traces.has(traceName)) traces.set(traceName, Trace.load(traceName));
      traces.get(traceName).then((trace) => {
        playback.trace = trace;
      }).catch(() => {});
    }
    // The shaped session exists from the first request on: its clock starts with the manifest.
    playback.sessionStarted = () => {
      if (choice.shaped && !playback.clock && this.playback === playback) {
        playback.clock = new SessionClock(traceName, session);
      }
    };
    start(playback, meter);
    return playback;
  }

  showView(playback, id) {
    if (this.playback !== playback) return;
    playback.viewId = id;
    const link = $(`${this.id}-view`);
    link.href = dashboardViewUrl(id);
    link.title = `view ${id}`;
    link.hidden = false;
  }

  sample(now) {
    const p = this.playback;
    if (!p) return;
    let rate = null;
    if (p.trace && p.clock) {
      const age = p.clock.age(now);
      if (age !== null && age >= 0) rate = p.trace.rateAt(age);
    }
    p.meter.sample(rate);
    const id = viewIdOf(p.reporter);
    if (id && id !== p.viewId) this.showView(p, id);
  }

  summary() {
    return this.playback ? this.playback.meter.summary() : null;
  }

  render(s, other) {
    if (!s) return;
    const set = (key, text, value, otherValue) => {
      const cell = this.cell(key);
      cell.innerHTML = text;
      const row = ROWS.find(([k]) => k === key);
      const better = row[2] && Number.isFinite(value) && Number.isFinite(otherValue) && value !== otherValue
        && (row[2] === 'lower' ? value < otherValue : value > otherValue);
      cell.classList.toggle('better', Boolean(better));
    };
    const o = other || {};
    set('startup', seconds(s.startupS, 2), s.startupS, o.startupS);
    set('stalls', `${s.stallCount} · ${seconds(s.stallS, 2)}`, s.stallS, o.stallS);
    set('rebuffer', percent(s.rebufferRatio, 2), s.rebufferRatio, o.rebufferRatio);
    set('switches', String(s.switches));
    set('bitrate', kbps(s.averageBitrateBps), s.averageBitrateBps, o.averageBitrateBps);
    set('qoe', s.qoeLinPerSegment == null ? '–' : `${s.qoeLinPerSegment.toFixed(3)} <span class="muted">(${s.segments})</span>`,
      s.qoeLinPerSegment, o.qoeLinPerSegment);
    set('buffer', seconds(s.bufferAheadS));
    set('estimate', mbps(s.estimateMbps));
    set('dropped', s.totalFrames == null ? '–' : `${s.droppedFrames} of ${s.totalFrames}`);
    if (this.playback?.fatal) this.cell('qoe').textContent = `fatal: ${this.playback.fatal}`;
  }

  draw() {
    if (this.playback) this.charts.update(this.playback.meter);
  }
}

const ours = new Side('ours');
const hlsjs = new Side('hlsjs');

function videoDimensions(choice, traceName) {
  const kind = $('stream').value;
  return {
    key: 'demo',
    videoId: kind === 'url' ? 'other-url' : ladder(),
    videoTitle: kind === 'live' ? `${ladder()} (live)` : choice.given.slice(0, 2048),
    custom: { page: 'compare', trace: traceName },
    flushIntervalMs: 2000,
  };
}

function startOurs(t0, run, traceName, abr) {
  const session = `${run}-ours`;
  const choice = resolveStream(traceName, session);
  const player = new Player(ours.video, {
    abr,
    analytics: { ...videoDimensions(choice, traceName), custom: { page: 'compare', trace: traceName, abr } },
  });
  window.ours = player;
  const playback = ours.begin({
    t0, session, choice, traceName,
    start: (p, meter) => {
      meter.source = {
        estimateBps: () => player.stats().bandwidthEstimateBps,
        level: () => {
          const index = player.currentLevel;
          return index >= 0 ? player.levels[index] || null : null;
        },
      };
      player.on('manifestLoaded', () => p.sessionStarted());
      player.on('levelSwitched', (e) => meter.levelSwitched(e.to));
      player.on('fragLoaded', (e) => {
        if (e.track === 'main') meter.segmentArrived(player.levels[e.level]?.bitrate ?? 0);
      });
      player.on('error', (e) => {
        if (e.fatal && !p.fatal) p.fatal = `${e.kind}: ${e.details}`;
      });
      p.reporter = player;
      p.stopWatching = nextView('wasm-hls-player', (id) => ours.showView(p, id));
      p.teardown = () => player.destroy();
    },
  });
  return () => player.load(playback.choice.src);
}

function startHlsjs(t0, run, traceName) {
  const session = `${run}-hlsjs`;
  const choice = resolveStream(traceName, session);
  const video = hlsjs.video;
  const hls = new Hls();
  window.hls = hls;
  const playback = hlsjs.begin({
    t0, session, choice, traceName,
    start: (p, meter) => {
      meter.source = {
        estimateBps: () => hls.bandwidthEstimate,
        level: () => (hls.currentLevel >= 0 ? hls.levels[hls.currentLevel] || null : null),
      };
      hls.on(Hls.Events.MANIFEST_LOADED, () => p.sessionStarted());
      hls.on(Hls.Events.LEVEL_SWITCHED, (_, data) => meter.levelSwitched(data.level));
      hls.on(Hls.Events.FRAG_LOADED, (_, data) => {
        const frag = data.frag;
        if (frag.type === 'main' && frag.sn !== 'initSegment') meter.segmentArrived(hls.levels[frag.level]?.bitrate ?? 0);
      });
      hls.on(Hls.Events.ERROR, (_, data) => {
        if (data.fatal && !p.fatal) p.fatal = `${data.type}: ${data.details}`;
      });
      // Monitor's view starts at attach: after the Meter is listening, before the load.
      p.stopWatching = nextView('hls.js', (id) => hlsjs.showView(p, id));
      const monitor = Monitor.attach(video, { hls, ...videoDimensions(choice, traceName) });
      p.reporter = monitor;
      p.teardown = () => {
        monitor.detach();
        hls.destroy();
        video.removeAttribute('src');
        video.load();
      };
    },
  });
  return () => {
    hls.loadSource(playback.choice.src);
    hls.attachMedia(video);
    video.play().catch(() => {});
  };
}

let runs = 0;

function restart() {
  ours.stop();
  hlsjs.stop();
  runs += 1;
  const traceName = $('trace').value;
  const abr = $('abr').value;
  const run = newSessionId('cmp');
  rememberChoice();
  $('nav-demo').href = `./${location.search}`;
  $('ours-abr').textContent = `ABR ${abr}`;
  const t0 = performance.now();
  const goOurs = startOurs(t0, run, traceName, abr);
  const goHlsjs = startHlsjs(t0, run, traceName);
  // Started in the same tick, alternating which goes first from one restart to the next.
  if (runs % 2) {
    goOurs();
    goHlsjs();
  } else {
    goHlsjs();
    goOurs();
  }
  const choice = ours.playback.choice;
  const network = choice.shaped
    ? `trace ${traceName}, sessions ${run}-ours and ${run}-hlsjs`
    : 'no shaping';
  $('summary').dataset.base = `${choice.given} — ${network}${choice.note ? ` (${choice.note})` : ''}`;
  $('summary').textContent = $('summary').dataset.base;
}

function tick() {
  const now = performance.now();
  ours.sample(now);
  hlsjs.sample(now);
  const a = ours.summary();
  const b = hlsjs.summary();
  ours.render(a, b);
  hlsjs.render(b, a);
  if (a && b && a.qoeLinPerSegment != null && b.qoeLinPerSegment != null) {
    const ratio = b.qoeLinPerSegment > 0 ? ` (×${(a.qoeLinPerSegment / b.qoeLinPerSegment).toFixed(2)})` : '';
    $('summary').innerHTML = '';
    $('summary').append(`${$('summary').dataset.base}. QoE`);
    const sub = document.createElement('sub');
    sub.textContent = 'lin';
    const bold = document.createElement('b');
    bold.textContent = `${a.qoeLinPerSegment.toFixed(3)} vs ${b.qoeLinPerSegment.toFixed(3)}${ratio}`;
    $('summary').append(sub, ' per segment, wasm-player vs hls.js: ', bold,
      `; stalled ${seconds(a.stallS, 2)} vs ${seconds(b.stallS, 2)}.`);
  }
}

function draw() {
  const meters = [ours, hlsjs].map((side) => side.playback?.meter).filter(Boolean);
  shared.mbps = maxOf(...meters.flatMap((m) => [m.traceMbps, m.estimateMbps, m.bitrateMbps]));
  shared.bufferS = maxOf(...meters.map((m) => m.bufferS));
  ours.draw();
  hlsjs.draw();
}

const ready = setupControls();
$('hlsjs-version').textContent = Hls ? `${Hls.version} · default config` : 'not installed (make deps)';
await init();
await ready;
if (!Player.isSupported() || !Hls || !Hls.isSupported()) {
  $('summary').textContent = Hls
    ? 'This browser has no Media Source Extensions for H.264/AAC.'
    : 'hls.js is missing: /demo/vendor/hls.min.js comes from web-demo/node_modules (run `make deps`).';
} else {
  $('controls').addEventListener('submit', (event) => {
    event.preventDefault();
    restart();
  });
  for (const id of ['abr', 'trace', 'stream']) {
    $(id).addEventListener('change', () => {
      if (id !== 'stream' || $('stream').value !== 'url') restart();
    });
  }
  setInterval(tick, 250);
  setInterval(draw, 500);
  restart();
  document.body.dataset.started = 'true';
}
