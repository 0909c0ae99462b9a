// What the demo and comparison pages share: the stream and trace controls, the URL a
// choice plays, the page's query string, and number formats.

import { fillTraceSelect, listTraces, shapedUrl } from './network.js';

/** Query arguments both pages understand (each optional). */
export const PARAMS = ['trace', 'abr', 'stream', 'src', 'ladder'];

/** The ladder `make demo` encodes (target/demo/media/sample), unless `?ladder=` says another. */
export const DEFAULT_LADDER = 'sample';

export const $ = (id) => document.getElementById(id);

export function params() {
  return new URLSearchParams(location.search);
}

/**
 * Sets up the trace select (`#trace`, from /shaped/), the stream select (`#stream`:
 * `vod`, `live`, `url`) and its URL box (`#url`), from the query string. Resolves when
 * the traces are listed.
 */
export async function setupControls() {
  const query = params();
  const stream = $('stream');
  const url = $('url');
  if (query.get('src')) {
    stream.value = 'url';
    url.value = query.get('src');
  } else if (['vod', 'live', 'url'].includes(query.get('stream'))) {
    stream.value = query.get('stream');
  }
  if (!url.value) url.value = `/media/${ladder()}/master.m3u8`;
  const showUrl = () => {
    $('url-label').hidden = stream.value !== 'url';
  };
  stream.addEventListener('change', showUrl);
  showUrl();
  if (query.get('abr') && $('abr')) $('abr').value = query.get('abr');
  let traces = [];
  try {
    traces = await listTraces();
  } catch (error) {
    console.warn('no trace list', error);
  }
  fillTraceSelect($('trace'), traces, query.get('trace'));
  return traces;
}

export function ladder() {
  const name = params().get('ladder');
  return name && /^[\w.~-]+$/.test(name) ? name : DEFAULT_LADDER;
}

/**
 * What to play for the controls' current choice: `src` (the URL given to the player),
 * `shaped` (whether it goes through /shaped/{trace}/{session}/), and a `note` when a
 * trace was chosen that cannot apply.
 */
export function resolveStream(trace, session) {
  const kind = $('stream').value;
  const given = kind === 'vod'
    ? `/media/${ladder()}/master.m3u8`
    : kind === 'live'
      ? `/live/${ladder()}/master.m3u8`
      : $('url').value.trim();
  if (trace === 'none') return { src: given, given, shaped: false, note: '' };
  const shaped = shapedUrl(given, trace, session);
  if (shaped) return { src: shaped, given, shaped: true, note: '' };
  return {
    src: given,
    given,
    shaped: false,
    note: kind === 'live'
      ? 'Live streams are not shaped (/shaped/ serves the files of --media): this plays at full speed.'
      : 'Only this collector\u2019s /media/ files can be shaped: this URL plays at full speed.',
  };
}

/** Writes the controls' choice into the address bar (so the page can be shared). */
export function rememberChoice() {
  const query = new URLSearchParams();
  query.set('trace', $('trace').value);
  if ($('abr')) query.set('abr', $('abr').value);
  const kind = $('stream').value;
  if (kind === 'url') query.set('src', $('url').value.trim());
  else query.set('stream', kind);
  if (params().get('ladder')) query.set('ladder', params().get('ladder'));
  history.replaceState(history.state, '', `${location.pathname}?${query}`);
}

export function kbps(bps) {
  return Number.isFinite(bps) && bps > 0 ? `${Math.round(bps / 1000)} kbit/s` : '–';
}

export function mbps(value, digits = 2) {
  return Number.isFinite(value) ? `${value.toFixed(digits)} Mbit/s` : '–';
}

export function seconds(value, digits = 1) {
  return Number.isFinite(value) ? `${value.toFixed(digits)} s` : '–';
}

export function percent(ratio, digits = 1) {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(digits)} %` : '–';
}

/** A level's short description: `2: 720p 2500 kbit/s`. */
export function levelText(index, level) {
  if (!level) return '–';
  return `${index}: ${level.height ? `${level.height}p ` : ''}${kbps(level.bitrate)}`;
}
