// The dashboard's access to the collector's query API (/api/v1): the read token, requests
// with it, and download links.
//
// The token comes from the page's `?token=` (then kept in sessionStorage for this tab and
// taken out of the address bar), else from sessionStorage, else `demo` (the collector's
// built-in property).

const KEY = 'qoe-dashboard-token';

/** The read token of this tab. */
export function token() {
  const url = new URL(location.href);
  const given = url.searchParams.get('token');
  if (given) {
    sessionStorage.setItem(KEY, given);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url);
    return given;
  }
  return sessionStorage.getItem(KEY) || 'demo';
}

/** An answer other than 2xx: `status`, and the API's `error`, `parameter` and `message`. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

function query(params) {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== '') {
      q.set(name, value);
    }
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

/** GET /api/v1/`path` with `params`; resolves to the JSON answer. */
export async function get(path, params) {
  const response = await fetch(`/api/v1/${path}${query(params)}`, {
    headers: { Authorization: `Bearer ${token()}`, Accept: 'application/json' },
    cache: 'no-store',
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, body);
  }
  return body;
}

/** A link that downloads the CSV of an endpoint (the token rides in the URL). */
export function csvLink(path, params) {
  return `/api/v1/${path}${query({ ...params, format: 'csv', token: token() })}`;
}

/** What to tell the analyst about a failed request. */
export function explain(error) {
  if (error instanceof ApiError && error.status === 401) {
    return 'The read token was refused. Open the dashboard as /dashboard?token=YOUR_READ_TOKEN (the read_token of your property).';
  }
  if (error instanceof ApiError) {
    return `The API refused the request (${error.status}): ${error.message}`;
  }
  return `Cannot reach the collector: ${error.message}`;
}
