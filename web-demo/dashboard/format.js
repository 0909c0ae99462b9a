// How figures are shown: each unit of the API's definitions (/api/v1/definitions) in the
// form an analyst reads fastest.

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function fixed(value, digits) {
  return new Intl.NumberFormat('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

/** [number text, unit text] of `value` in `unit`; ['–', ''] when undefined. */
export function parts(value, unit) {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return ['–', ''];
  }
  switch (unit) {
    case 'ms':
      return value >= 1000 ? [fixed(value / 1000, 2), 's'] : [integer.format(value), 'ms'];
    case 's':
      if (value >= 3600) return [fixed(value / 3600, 1), 'h'];
      if (value >= 60) return [fixed(value / 60, 1), 'min'];
      return [fixed(value, 1), 's'];
    case '%':
      return [fixed(value, value !== 0 && Math.abs(value) < 1 ? 2 : 1), '%'];
    case 'bit/s':
      if (value >= 1e6) return [fixed(value / 1e6, 2), 'Mbit/s'];
      return [integer.format(value / 1e3), 'kbit/s'];
    case 'per min':
      return [fixed(value, 2), '/min'];
    case '0-100':
      return [fixed(value, 1), '/ 100'];
    default:
      return [integer.format(value), unit === 'views' || unit === 'stalls' || unit === 'errors' ? '' : unit];
  }
}

/** `value` in `unit` as one string. */
export function show(value, unit) {
  const [number, u] = parts(value, unit);
  return u ? `${number} ${u}` : number;
}

/** A time (ms since the epoch) as local date and time, to the second. */
export function when(ms) {
  if (ms === null || ms === undefined) return '–';
  return new Date(ms).toLocaleString('en-GB', {
    year: 'numeric', month: 'short', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

/** A period's length in words ("24 h", "7 days"). */
export function span(ms) {
  const minutes = Math.round(ms / 60000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours <= 48) return `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}

/** HTML-escapes text. */
export function esc(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

/** Readable names of a view's outcome. */
export const OUTCOMES = {
  started: 'played',
  exit_before_start: 'exit before start',
  start_failure: 'start failure',
  playback_failure: 'playback failure',
  starting: 'starting',
  no_attempt: 'no play attempt',
};
