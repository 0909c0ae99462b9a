// Which analytics view a player (or a Monitor) opened, for the pages' "this view in the
// dashboard" links.
//
// The player package has no accessor for the id of the view it reports yet, so the page
// reads it from the beacons themselves: every batch the SDK posts to `/v1/beacons` (with
// `fetch`, or `navigator.sendBeacon` when the page goes away) names its view
// (`{"view": {"id", "player", …}, "events": […]}`, protocol/src/beacon.rs). The wrappers
// below only look at those bodies and pass every call through unchanged.

const watchers = new Set();
let installed = false;

function isBeaconUrl(url) {
  try {
    return new URL(String(url), location.href).pathname.endsWith('/v1/beacons');
  } catch {
    return false;
  }
}

function look(url, body) {
  if (typeof body !== 'string' || !isBeaconUrl(url)) return;
  let batch;
  try {
    batch = JSON.parse(body);
  } catch {
    return;
  }
  if (!batch || !batch.view || typeof batch.view.id !== 'string') return;
  for (const watcher of [...watchers]) watcher(batch);
}

function install() {
  if (installed) return;
  installed = true;
  const fetch = window.fetch;
  window.fetch = function observedFetch(input, init) {
    try {
      if (init && init.body) look(typeof input === 'string' ? input : input.url, init.body);
    } catch {
      // Never in the way of the request.
    }
    return fetch.call(this === undefined || this === observedFetch ? window : this, input, init);
  };
  const sendBeacon = navigator.sendBeacon;
  if (typeof sendBeacon === 'function') {
    navigator.sendBeacon = function observedSendBeacon(url, data) {
      try {
        look(url, data);
      } catch {
        // Never in the way of the beacon.
      }
      return sendBeacon.call(navigator, url, data);
    };
  }
}

/**
 * Calls `found(id)` once, with the id of the next view that player `player`
 * (`wasm-hls-player`, `hls.js`) opens from now on: the first batch of a view (the one
 * with `viewstart`) that is not also its last. Returns a function that stops watching.
 * Prefer the SDK's own accessor when it has one: `viewIdOf(player)`.
 */
export function nextView(player, found) {
  install();
  const watcher = (batch) => {
    const types = (batch.events || []).map((e) => e.type);
    if (batch.view.player !== player || !types.includes('viewstart') || types.includes('viewend')) return;
    watchers.delete(watcher);
    found(batch.view.id);
  };
  watchers.add(watcher);
  return () => watchers.delete(watcher);
}

/** The view id a Player or Monitor reports, when the package exposes it (else null). */
export function viewIdOf(reporter) {
  try {
    const id = reporter && reporter.viewId;
    return typeof id === 'string' && id ? id : null;
  } catch {
    return null;
  }
}

/** The dashboard's page of view `id`. */
export function dashboardViewUrl(id) {
  return `/dashboard/view.html?id=${encodeURIComponent(id)}`;
}
