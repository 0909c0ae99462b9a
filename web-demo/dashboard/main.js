// The dashboard's overview page: KPI tiles against the previous period, charts over time,
// a breakdown sortable by impact, recent views; filters in the URL, auto-refresh.

import { get, csvLink, explain, token } from './api.js';
import { parts, show, when, span, esc, OUTCOMES } from './format.js';
import { TimeChart } from './charts.js';

/** The tiles, in order (names of /api/v1/definitions). */
const TILES = [
  'views', 'startup_p50_ms', 'startup_p95_ms', 'rebuffer_pct', 'rebuffer_per_min',
  'ebvs_pct', 'vsf_pct', 'playback_failure_pct', 'avg_bitrate_bps', 'switches_per_min', 'score',
];

const pct = (v) => `${v.toFixed(v !== 0 && Math.abs(v) < 1 ? 2 : 1)} %`;
const short = (v) => `${+v.toFixed(2)}`;

/**
 * The charts: what each shows, in which unit; `format` writes legend values, `tick` the
 * (narrower) axis labels.
 */
const CHARTS = [
  { title: 'Views', unit: 'views started per interval', integer: true,
    format: (v) => `${Math.round(v)}`, tick: (v) => `${Math.round(v)}`,
    series: [{ metric: 'views', label: 'views', bars: true }] },
  { title: 'Startup time', unit: 'play request to first frame', format: (v) => show(v, 'ms'),
    tick: (v) => (v >= 1000 ? `${+(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`),
    series: [{ metric: 'startup_p50_ms', label: 'median' }, { metric: 'startup_p95_ms', label: '95th percentile' }] },
  { title: 'Rebuffering', unit: '% of watch time spent stalled', format: pct, tick: (v) => `${short(v)} %`,
    series: [{ metric: 'rebuffer_pct', label: 'rebuffering', color: '#c62828' }] },
  { title: 'Failures', unit: '% of play attempts', format: pct, tick: (v) => `${short(v)} %`,
    series: [
      { metric: 'ebvs_pct', label: 'exits before start', color: '#e8710a' },
      { metric: 'vsf_pct', label: 'start failures', color: '#c62828' },
      { metric: 'playback_failure_pct', label: 'playback failures', color: '#7b1fa2' },
    ] },
  { title: 'Average bitrate', unit: 'Mbit/s, weighted by playing time', format: (v) => `${v.toFixed(2)} Mbit/s`,
    tick: short, series: [{ metric: 'avg_bitrate_bps', label: 'bitrate', scale: 1e-6, color: '#16803c' }] },
  { title: 'Viewer experience score', unit: '0–100, mean of the views\u2019 scores', format: (v) => v.toFixed(1),
    tick: (v) => `${Math.round(v)}`, series: [{ metric: 'score', label: 'score', color: '#2f6fde' }] },
];

/** Breakdown columns: [heading, sort key, definition name or special]. */
const COLUMNS = [
  ['Value', 'value'],
  ['Views', 'views'],
  ['Impact', 'impact'],
  ['Startup (median)', 'startup_p50_ms'],
  ['Rebuffering', 'rebuffer_pct'],
  ['Exits before start', 'ebvs_pct'],
  ['Start failures', 'vsf_pct'],
  ['Playback failures', 'playback_failure_pct'],
  ['Avg bitrate', 'avg_bitrate_bps'],
  ['Score', 'score'],
];

const REFRESH_MS = 15000;
const PAGE = 20;
const $ = (id) => document.getElementById(id);

/** Filters and table settings, mirrored in the URL. */
const state = {
  range: '24h', from: '', to: '', video: '', player: '', browser: '', os: '',
  by: 'video', custom: '', impact: 'score', sort: 'impact', order: 'desc', offset: 0,
};
let definitions = {};
let charts = [];
let timer = null;
let loading = false;

function readUrl() {
  const q = new URLSearchParams(location.search);
  for (const key of Object.keys(state)) {
    if (q.has(key)) {
      state[key] = key === 'offset' ? Number(q.get(key)) || 0 : q.get(key);
    }
  }
}

function writeUrl() {
  const q = new URLSearchParams();
  const defaults = { range: '24h', by: 'video', impact: 'score', sort: 'impact', order: 'desc', offset: 0 };
  for (const [key, value] of Object.entries(state)) {
    if (value !== '' && value !== defaults[key]) q.set(key, value);
  }
  const text = q.toString();
  history.replaceState(null, '', `${location.pathname}${text ? `?${text}` : ''}`);
}

/** The period and filters as API parameters. */
function scope() {
  const params = { video: state.video, player: state.player, browser: state.browser, os: state.os };
  if (state.range === 'custom') {
    if (state.from) params.from = new Date(state.from).toISOString();
    if (state.to) params.to = new Date(state.to).toISOString();
  } else {
    params.from = `-${state.range}`;
  }
  return params;
}

function byParam() {
  return state.by === 'custom' ? `custom.${state.custom}` : state.by;
}

function banner(message) {
  const el = $('banner');
  el.textContent = message || '';
  el.hidden = !message;
}

// ---- tiles ----

function tileHtml(name, current, previous, change) {
  const d = definitions[name] || { title: name, unit: '', better: 'neutral', definition: '' };
  const [value, unit] = parts(current, d.unit);
  let changeText = 'no earlier data to compare';
  let tone = 'neutral';
  if (change !== null && change !== undefined) {
    const arrow = change > 0 ? '▲' : change < 0 ? '▼' : '■';
    changeText = `${arrow} ${Math.abs(change).toFixed(1)} % vs previous period (${show(previous, d.unit)})`;
    if (change !== 0 && d.better !== 'neutral') {
      const better = (change > 0) === (d.better === 'higher');
      tone = better ? 'good' : 'bad';
    }
  } else if (previous !== null && previous !== undefined && current !== null && current !== undefined
    && current !== previous) {
    // From zero: no relative change, but still better or worse.
    changeText = `${current > previous ? '▲' : '▼'} from ${show(previous, d.unit)} in the previous period`;
    if (d.better !== 'neutral') tone = (current > previous) === (d.better === 'higher') ? 'good' : 'bad';
  } else if (previous !== null && previous !== undefined) {
    changeText = `previous period: ${show(previous, d.unit)}`;
  }
  return `<div class="tile" data-metric="${esc(name)}" title="${esc(d.definition)}">
    <div class="name">${esc(d.title)}</div>
    <div class="value">${esc(value)}<span class="unit">${esc(unit)}</span></div>
    <div class="change ${tone}">${esc(changeText)}</div>
    <div class="def">${esc(d.definition)}</div>
  </div>`;
}

function renderTiles(overview) {
  $('tiles').innerHTML = TILES.map((name) =>
    tileHtml(name, overview.current[name], overview.previous[name], overview.change_pct[name]),
  ).join('');
  const p = overview.period;
  const filters = Object.entries(overview.filters).map(([k, v]) => `${k} = ${v}`).join(', ');
  $('period').textContent =
    `${when(p.from)} to ${when(p.to)} (${span(p.to - p.from)}), compared with the ${span(p.to - p.from)} before` +
    `${filters ? ` · only ${filters}` : ''}` +
    `${overview.percentiles === 'histogram' ? ' · startup percentiles estimated from a histogram (many views)' : ''}`;
}

// ---- charts ----

function buildCharts() {
  const box = $('charts');
  box.innerHTML = '';
  charts = CHARTS.map((c) => {
    const card = document.createElement('div');
    card.className = 'chart';
    card.innerHTML = `<h3>${esc(c.title)}</h3><p class="unit">${esc(c.unit)}</p><div class="plot"></div><div class="empty" hidden>No views in this period</div>`;
    box.appendChild(card);
    const chart = new TimeChart(card.querySelector('.plot'), c);
    return { chart, card };
  });
}

function renderCharts(series) {
  const views = (series.series.views || []).reduce((a, v) => a + (v || 0), 0);
  for (const { chart, card } of charts) {
    chart.update(series);
    card.querySelector('.empty').hidden = views > 0;
  }
}

// ---- breakdown ----

function renderBreakdown(answer) {
  const table = $('breakdown');
  const head = COLUMNS.map(([heading, key]) => {
    const sorted = state.sort === key ? ' sorted' : '';
    const arrow = state.sort === key ? (state.order === 'asc' ? ' ▲' : ' ▼') : '';
    const tip = key === 'impact'
      ? 'Share of the period\u2019s total (lost score points, rebuffering time or failed views) this row accounts for'
      : (definitions[key]?.definition || 'The dimension\u2019s value');
    return `<th class="sortable${sorted}" data-sort="${key}" title="${esc(tip)}">${esc(heading)}${arrow}</th>`;
  }).join('');
  const filterable = ['video', 'player', 'browser', 'os'].includes(state.by);
  const rows = answer.rows.map((r) => {
    const name = r.value === '' ? '(not set)' : r.value;
    const label = r.label ? `${r.label} <span class="mono">${esc(name)}</span>` : esc(name);
    const value = filterable
      ? `<button type="button" class="link" data-filter="${esc(r.value)}" title="Show only this ${esc(state.by)}">${label}</button>`
      : label;
    const impact = r.impact_pct ?? 0;
    const cell = (key) => `<td>${esc(show(r[key], definitions[key]?.unit))}</td>`;
    return `<tr>
      <td class="text">${value}</td>
      ${cell('views')}
      <td><span class="impact"><span class="bar" style="width:${Math.max(1, Math.round(impact * 0.8))}px"></span>${r.impact_pct == null ? '–' : `${impact.toFixed(1)} %`}</span></td>
      ${cell('startup_p50_ms')}${cell('rebuffer_pct')}${cell('ebvs_pct')}${cell('vsf_pct')}
      ${cell('playback_failure_pct')}${cell('avg_bitrate_bps')}${cell('score')}
    </tr>`;
  }).join('');
  const empty = `<tr><td colspan="${COLUMNS.length}" class="empty">No views in this period${state.by === 'custom' ? ' (or no such dimension)' : ''}.</td></tr>`;
  table.innerHTML = `<thead><tr>${head}</tr></thead><tbody>${rows || empty}</tbody>`;
  $('csv-breakdown').href = csvLink('breakdown', breakdownParams());
}

function breakdownParams() {
  return {
    ...scope(), by: byParam(), impact: state.by === 'rendition' ? 'rebuffer' : state.impact,
    sort: state.sort, order: state.order, limit: 50,
  };
}

// ---- views ----

function renderViews(answer) {
  const text = new Set(['Started', 'Video', 'Player', 'Browser', 'Outcome']);
  const head = ['Started', 'Video', 'Player', 'Browser', 'Outcome', 'Startup', 'Rebuffering', 'Avg bitrate', 'Score', '']
    .map((h) => `<th class="${text.has(h) ? 'text' : ''}">${h}</th>`).join('');
  const rows = answer.views.map((v) => {
    const link = `view.html?id=${encodeURIComponent(v.view_id)}`;
    const rebuffering = v.rebuffer_count > 0
      ? `${show(v.rebuffer_pct, '%')} (${v.rebuffer_count}×)` : (v.rebuffer_pct == null ? '–' : '0 %');
    return `<tr>
      <td class="text"><a href="${link}">${esc(when(v.start_ms))}</a></td>
      <td class="text" title="${esc(v.video_id)}">${esc(v.video_title || v.video_id || '–')}</td>
      <td class="text">${esc(v.player)} ${esc(v.player_version)}</td>
      <td class="text">${esc(v.browser || '–')} · ${esc(v.os || '–')}</td>
      <td class="text"><span class="outcome ${esc(v.outcome)}">${esc(OUTCOMES[v.outcome] || v.outcome)}</span></td>
      <td>${esc(show(v.startup_ms, 'ms'))}</td>
      <td>${esc(rebuffering)}</td>
      <td>${esc(show(v.avg_bitrate_bps, 'bit/s'))}</td>
      <td>${esc(show(v.score, '0-100'))}</td>
      <td><a href="${link}">timeline →</a></td>
    </tr>`;
  }).join('');
  const empty = `<tr><td colspan="10" class="empty">No views in this period.</td></tr>`;
  $('views').innerHTML = `<thead><tr>${head}</tr></thead><tbody>${rows || empty}</tbody>`;
  const last = Math.min(answer.total, state.offset + answer.views.length);
  $('page').textContent = answer.total
    ? `${state.offset + 1}–${last} of ${answer.total} views` : '';
  $('newer').disabled = state.offset === 0;
  $('older').disabled = last >= answer.total;
}

// ---- filters ----

function fillSelect(name, answer, current) {
  const select = document.querySelector(`#filters select[name="${name}"]`);
  const first = select.options[0].outerHTML;
  const values = answer.rows.map((r) => ({ value: r.value, label: r.label ? `${r.label} (${r.value})` : (r.value || '(not set)') }));
  if (current && !values.some((v) => v.value === current)) {
    values.unshift({ value: current, label: current });
  }
  select.innerHTML = first + values.map((v) =>
    `<option value="${esc(v.value)}"${v.value === current ? ' selected' : ''}>${esc(v.label)}</option>`).join('');
}

function syncForm() {
  const form = $('filters');
  for (const name of ['range', 'video', 'player', 'browser', 'os', 'from', 'to']) {
    if (form.elements[name]) form.elements[name].value = state[name];
  }
  for (const el of form.querySelectorAll('.custom')) el.hidden = state.range !== 'custom';
  $('by').value = state.by;
  $('custom').value = state.custom;
  $('custom-name').hidden = state.by !== 'custom';
  $('impact').value = state.by === 'rendition' ? 'rebuffer' : state.impact;
  $('impact').disabled = state.by === 'rendition';
}

// ---- refresh ----

async function refresh() {
  if (loading) return;
  loading = true;
  writeUrl();
  const params = scope();
  const period = { from: params.from, to: params.to };
  try {
    const wantBreakdown = state.by !== 'custom' || state.custom;
    const [overview, series, breakdown, views, videos, players, browsers, systems] = await Promise.all([
      get('overview', params),
      get('timeseries', params),
      wantBreakdown ? get('breakdown', breakdownParams()) : Promise.resolve({ rows: [] }),
      get('views', { ...params, limit: PAGE, offset: state.offset }),
      get('breakdown', { ...period, by: 'video', sort: 'views', limit: 200 }),
      get('breakdown', { ...period, by: 'player', sort: 'views', limit: 200 }),
      get('breakdown', { ...period, by: 'browser', sort: 'views', limit: 200 }),
      get('breakdown', { ...period, by: 'os', sort: 'views', limit: 200 }),
    ]);
    banner('');
    $('property').textContent = `Property: ${overview.property}.`;
    renderTiles(overview);
    renderCharts(series);
    renderBreakdown(breakdown);
    renderViews(views);
    fillSelect('video', videos, state.video);
    fillSelect('player', players, state.player);
    fillSelect('browser', browsers, state.browser);
    fillSelect('os', systems, state.os);
    $('csv-overview').href = csvLink('overview', params);
    $('csv-timeseries').href = csvLink('timeseries', params);
    $('csv-views').href = csvLink('views', { ...params, limit: 500 });
    $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.loaded = 'true';
  } catch (error) {
    banner(explain(error));
    $('updated').textContent = 'Update failed';
  } finally {
    loading = false;
  }
}

function schedule() {
  clearInterval(timer);
  timer = null;
  if ($('auto').checked) {
    timer = setInterval(() => {
      if (!document.hidden) refresh();
    }, REFRESH_MS);
  }
}

function wire() {
  const form = $('filters');
  form.addEventListener('change', (event) => {
    const { name, value } = event.target;
    if (name in state) {
      state[name] = value;
      state.offset = 0;
      syncForm();
      if (name !== 'range' || value !== 'custom') refresh();
    }
  });
  form.addEventListener('submit', (event) => event.preventDefault());
  $('by').addEventListener('change', (event) => {
    state.by = event.target.value;
    state.sort = 'impact';
    state.order = 'desc';
    syncForm();
    if (state.by !== 'custom' || state.custom) refresh();
  });
  $('custom').addEventListener('change', (event) => {
    state.custom = event.target.value.trim();
    refresh();
  });
  $('impact').addEventListener('change', (event) => {
    state.impact = event.target.value;
    refresh();
  });
  $('breakdown').addEventListener('click', (event) => {
    const th = event.target.closest('th[data-sort]');
    if (th) {
      const key = th.dataset.sort;
      if (state.sort === key) {
        state.order = state.order === 'desc' ? 'asc' : 'desc';
      } else {
        state.sort = key;
        state.order = key === 'value' ? 'asc' : 'desc';
      }
      refresh();
      return;
    }
    const button = event.target.closest('button[data-filter]');
    if (button) {
      state[state.by] = button.dataset.filter;
      state.offset = 0;
      syncForm();
      refresh();
    }
  });
  $('newer').addEventListener('click', () => {
    state.offset = Math.max(0, state.offset - PAGE);
    refresh();
  });
  $('older').addEventListener('click', () => {
    state.offset += PAGE;
    refresh();
  });
  $('now').addEventListener('click', refresh);
  $('auto').addEventListener('change', schedule);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && $('auto').checked) refresh();
  });
}

async function start() {
  token(); // keeps ?token= for this tab, out of the address bar
  readUrl();
  syncForm();
  buildCharts();
  wire();
  try {
    const answer = await get('definitions');
    definitions = Object.fromEntries(answer.metrics.map((d) => [d.name, d]));
  } catch (error) {
    banner(explain(error));
  }
  await refresh();
  schedule();
}

start();
