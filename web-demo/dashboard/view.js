// The per-view page (view.html?id=VIEW_ID): dimensions, the view's own figures, its
// timeline (bitrate steps over startup, stalls and pauses; seeks and errors marked) and
// its raw events.

import { get, csvLink, explain, token } from './api.js';
import { show, when, esc, OUTCOMES } from './format.js';
import { TimelineChart, TIMELINE_COLORS } from './charts.js';

const $ = (id) => document.getElementById(id);

function tile(name, value, definition) {
  return `<div class="tile" data-metric="${esc(name)}" title="${esc(definition)}">
    <div class="name">${esc(name)}</div>
    <div class="value">${esc(value)}</div>
    <div class="def">${esc(definition)}</div>
  </div>`;
}

function renderDims(view) {
  const custom = Object.entries(view.custom || {}).map(([k, v]) => `${k} = ${v}`).join(', ');
  const rows = [
    ['Video', view.video_title ? `${view.video_title} (${view.video_id})` : view.video_id],
    ['Outcome', OUTCOMES[view.outcome] || view.outcome],
    ['Started', when(view.start_ms)],
    ['Player', `${view.player} ${view.player_version}`],
    ['Browser', view.browser],
    ['OS', view.os],
    ['Page', view.page],
    ['Session', view.session_id],
    ['Custom', custom],
    ['Events', `${view.events}${view.client_dropped ? ` (${view.client_dropped} dropped by the client)` : ''}`],
    ['Sample rate', String(view.sample_rate)],
  ];
  $('dims').innerHTML = rows.map(([k, v]) =>
    `<div><dt>${esc(k)}</dt><dd title="${esc(v)}">${esc(v || '–')}</dd></div>`).join('');
}

function renderTiles(view, metrics) {
  const m = metrics || {};
  const score = m.score;
  const tiles = [
    ['Startup time', show(view.startup_ms, 'ms'), 'Play request to first frame.'],
    ['Watch time', show(view.watch_time_s, 's'), 'Startup, playing, seeking and stalls; not paused.'],
    ['Playing time', show(view.playing_time_s, 's'), 'Time frames were moving.'],
    ['Rebuffering', `${show(view.rebuffer_pct ?? 0, '%')} · ${view.rebuffer_count}×`, `Stalled ${show(view.rebuffer_s, 's')} in ${view.rebuffer_count} stalls, over watch time.`],
    ['Average bitrate', show(view.avg_bitrate_bps, 'bit/s'), 'Bitrate on screen weighted by playing time.'],
    ['Switches', `${view.switches}`, 'Rendition changes after the first frame.'],
    ['Seeks', m.seek_count == null ? `${view.seeks ?? 0}` : `${m.seek_count}${m.mean_seek_latency_ms != null ? ` · ${show(m.mean_seek_latency_ms, 'ms')} avg` : ''}`, 'Completed seeks and their mean latency.'],
    ['Dropped frames', m.total_frames ? show(m.dropped_frame_percentage, '%') : '–', 'Dropped over decoded frames.'],
    ['Errors', `${view.errors}`, 'Error events, fatal or not.'],
    ['Experience score', show(view.score, '0-100'),
      score ? `startup ${score.startup.toFixed(0)} × smoothness ${score.smoothness.toFixed(0)} × quality ${score.quality.toFixed(0)} × success ${score.playback_success.toFixed(0)}` : 'No score (not attempted or not finished).'],
  ];
  $('tiles').innerHTML = tiles.map(([n, v, d]) => tile(n, v, d)).join('');
}

function renderLegend() {
  const items = [
    ['bitrate on screen', TIMELINE_COLORS.bitrate],
    ['startup', TIMELINE_COLORS.starting],
    ['stalled (rebuffering)', TIMELINE_COLORS.rebuffering],
    ['paused', TIMELINE_COLORS.paused],
    ['seek (dashed line; band: its wait)', TIMELINE_COLORS.seek],
    ['error (solid: fatal)', TIMELINE_COLORS.error],
  ];
  $('legend').innerHTML = items.map(([label, color]) =>
    `<span style="--swatch:${color}">${esc(label)}</span>`).join('');
}

function details(event) {
  const rest = { ...event };
  for (const key of ['t', 'pt', 'type', 'offset_ms']) delete rest[key];
  return Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ');
}

function renderEvents(events) {
  const head = [['At (s)', ''], ['Time', 'text'], ['Event', 'text'], ['Playhead (s)', ''], ['Details', 'text']]
    .map(([h, c]) => `<th class="${c}">${h}</th>`).join('');
  const rows = events.map((e) => `<tr>
    <td>${(e.offset_ms / 1000).toFixed(3)}</td>
    <td class="text">${esc(new Date(e.t).toLocaleTimeString())}</td>
    <td class="text"><b>${esc(e.type)}</b></td>
    <td>${e.pt == null ? '–' : e.pt.toFixed(2)}</td>
    <td class="text mono">${esc(details(e))}</td>
  </tr>`).join('');
  const empty = '<tr><td colspan="5" class="empty">No events kept for this view.</td></tr>';
  $('events').innerHTML = `<thead><tr>${head}</tr></thead><tbody>${rows || empty}</tbody>`;
}

async function start() {
  token();
  const id = new URLSearchParams(location.search).get('id');
  $('view-id').textContent = id ? `view ${id}` : '';
  if (!id) {
    $('title').textContent = 'No view chosen';
    $('banner').textContent = 'Open a view from the dashboard\u2019s list of recent views (view.html?id=VIEW_ID).';
    $('banner').hidden = false;
    return;
  }
  $('csv').href = csvLink(`views/${encodeURIComponent(id)}`);
  renderLegend();
  const chart = new TimelineChart($('timeline'));
  try {
    const answer = await get(`views/${encodeURIComponent(id)}`);
    const view = answer.view;
    $('title').textContent = `${view.video_title || view.video_id || 'A view'} — ${OUTCOMES[view.outcome] || view.outcome}`;
    document.title = `${view.video_title || view.video_id} · view timeline`;
    renderDims(view);
    renderTiles(view, answer.metrics);
    const events = answer.timeline.events || [];
    $('timeline-empty').hidden = events.length > 0;
    chart.update(answer.timeline);
    renderEvents(events);
    document.body.dataset.loaded = 'true';
  } catch (error) {
    $('title').textContent = 'View not available';
    $('banner').textContent = explain(error);
    $('banner').hidden = false;
  }
}

start();
