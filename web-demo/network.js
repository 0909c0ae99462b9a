// The collector's shaped network, as the demo pages use it: the traces `/shaped/` lists,
// a trace's samples (`/shaped-trace/{trace}`) and its rate at any moment of a session,
// the shaped URL of a stream, and when a shaped session started (`/shaped-stats/`), so
// that a chart can put the trace's real bandwidth under the player's estimate at the
// same instant.

/** The traces of the collector's `--traces` directories: [{ name, set, duration_s, mean_mbps }]. */
export async function listTraces() {
  const response = await fetch('/shaped/', { cache: 'no-store' });
  if (!response.ok) throw new Error(`GET /shaped/: HTTP ${response.status}`);
  return (await response.json()).traces || [];
}

function minutes(seconds) {
  if (!(seconds > 0)) return '–';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  return `${(seconds / 60).toFixed(seconds < 600 ? 1 : 0)} min`;
}

/** The label of a trace in a list: its name, mean rate and length. */
export function traceLabel(trace) {
  return `${trace.name} — ${trace.mean_mbps.toFixed(2)} Mbit/s mean, ${minutes(trace.duration_s)}`;
}

/**
 * Fills `select` with "no shaping" and the traces grouped by set (sets in alphabetical
 * order, traces as listed), selecting `wanted` when it is there, else the first trace.
 */
export function fillTraceSelect(select, traces, wanted) {
  select.replaceChildren(new Option('No shaping (full speed of this machine)', 'none'));
  const sets = new Map();
  for (const trace of traces) {
    if (!sets.has(trace.set)) sets.set(trace.set, []);
    sets.get(trace.set).push(trace);
  }
  for (const name of [...sets.keys()].sort()) {
    const group = document.createElement('optgroup');
    group.label = `${name} (${sets.get(name).length})`;
    for (const trace of sets.get(name)) group.append(new Option(traceLabel(trace), trace.name));
    select.append(group);
  }
  const names = new Set(traces.map((t) => t.name));
  if (wanted === 'none' || (wanted && names.has(wanted))) {
    select.value = wanted;
  } else {
    select.value = traces.length > 0 ? traces[0].name : 'none';
  }
}

/**
 * A trace's samples and its rate over a session. The shaper reads a trace as Pensieve's
 * simulator does (collector/src/origin/shaped/link.rs): sample i ≥ 1 is the rate of the
 * interval (t[i-1], t[i]]; the first pass starts at t[0]; then it loops from the clock at
 * 0 (so a trace starting at 0.5 s replays (0, t[1]] at mbps[1] on later passes).
 */
export class Trace {
  constructor(name, times, mbps) {
    this.name = name;
    this.times = times;
    this.mbps = mbps.map((v) => (Number.isFinite(v) ? Math.max(0, v) : 0));
  }

  static async load(name) {
    const response = await fetch(`/shaped-trace/${encodeURIComponent(name)}`, { cache: 'no-store' });
    if (!response.ok) throw new Error(`GET /shaped-trace/${name}: HTTP ${response.status}`);
    const body = await response.json();
    return new Trace(body.name, body.times_s, body.mbps);
  }

  /** Mbit/s the link carries `age` seconds after the session's first request. */
  rateAt(age) {
    const { times, mbps } = this;
    const n = times.length;
    if (n < 2 || !(age >= 0)) return n === 1 ? mbps[0] : null;
    const firstPass = times[n - 1] - times[0];
    let t;
    if (age <= firstPass) {
      t = times[0] + age;
    } else {
      const period = times[n - 1];
      t = period > 0 ? (age - firstPass) % period : 0;
    }
    // The first i ≥ 1 with times[i] ≥ t: the interval (times[i-1], times[i]] holds t.
    let lo = 1;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return mbps[lo];
  }
}

/** A fresh shaped-session id (the shaper allows A-Z a-z 0-9 - _ . ~). */
export function newSessionId(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return `${prefix}-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The `/shaped/{trace}/{session}/…` URL of `src` when it is one of this collector's
 * `/media/` files (relative or on this origin), else null: `/shaped/` serves the files
 * of `--media` only (not `/live/`, not other servers).
 */
export function shapedUrl(src, trace, session) {
  let url;
  try {
    url = new URL(src, location.href);
  } catch {
    return null;
  }
  if (url.origin !== location.origin || !url.pathname.startsWith('/media/')) return null;
  const rest = url.pathname.slice('/media/'.length);
  return `/shaped/${encodeURIComponent(trace)}/${session}/${rest}${url.search}`;
}

/**
 * When a shaped session started, on the page's clock: polls
 * `/shaped-stats/{trace}/{session}` (404 until the session's first request) and keeps
 * the reading with the shortest round trip. `start` (performance.now() milliseconds)
 * stays null until known; `bytesSent` is the session's delivery so far.
 */
export class SessionClock {
  constructor(trace, session) {
    this.url = `/shaped-stats/${encodeURIComponent(trace)}/${session}`;
    this.start = null;
    this.bytesSent = 0;
    this.roundTrip = Infinity;
    this.readings = 0;
    this.stopped = false;
    this.poll();
  }

  async poll() {
    while (!this.stopped) {
      const sent = performance.now();
      try {
        const response = await fetch(this.url, { cache: 'no-store' });
        const received = performance.now();
        if (response.ok) {
          const stats = await response.json();
          this.bytesSent = stats.bytes_sent;
          const roundTrip = received - sent;
          const start = (sent + received) / 2 - stats.age_s * 1000;
          // A session idle past the collector's --session-idle-s starts again at 0.
          if (this.start !== null && Math.abs(start - this.start) > 2000) this.roundTrip = Infinity;
          if (roundTrip < this.roundTrip) {
            this.roundTrip = roundTrip;
            this.start = start;
          }
          this.readings += 1;
        }
      } catch {
        // The next poll tries again.
      }
      // Quick until the session is seen, then now and then to refine and follow delivery.
      const wait = this.readings === 0 ? 250 : this.readings < 5 ? 1000 : 4000;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** The session's age (seconds) at performance.now() `at`, or null before it is known. */
  age(at) {
    return this.start === null ? null : (at - this.start) / 1000;
  }

  stop() {
    this.stopped = true;
  }
}
