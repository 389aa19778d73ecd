// The API client: the page's only way to the server. It calls the API on
// its own origin with the signed-in user's token, and turns every failure
// into an ApiError whose message a person can read (never raw JSON).
// It has no call for resolve: the page never asks for a value. Calls name
// API operations; their methods and paths come from routes.js, which `make
// openapi` generates from the server's route table.

import { routes } from './routes.js';

const TOKEN_KEY = 'zwrm.token';

/** The token lives in this tab's sessionStorage only: never a URL, a cookie or localStorage. */
export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  set: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the server could not be reached
   * @param {string} code the API's error code (or "network", "http")
   * @param {string} message a readable message
   * @param {string} field the request field the error is about, if any
   */
  constructor(status, code, message, field = '', requestId = '') {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.requestId = requestId;
  }

  /**
   * The message without the "field: " prefix the API puts in front of field
   * errors (the message is sentence-cased, so "Name: the name …" too),
   * itself sentence-cased: shown at the field, the prefix says nothing.
   */
  get fieldMessage() {
    const prefix = this.field + ': ';
    if (!this.field || this.message.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) return this.message;
    return sentence(this.message.slice(prefix.length));
  }
}

let unauthorized = () => {};

/** onUnauthorized sets what happens when the token is refused (expired, revoked). */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

const statusText = {
  400: 'the request was not valid',
  401: 'you are not signed in',
  403: 'you may not do that',
  404: 'it was not found (it may have been deleted)',
  405: 'the server does not allow that call',
  409: 'it conflicts with a change someone else made',
  413: 'the request is too large',
  415: 'the request was not JSON',
  429: 'too many requests; wait a moment',
  500: 'the server failed',
  502: 'the server is unreachable behind its gateway',
  503: 'the server is busy or a dependency is unavailable',
  504: 'the server took too long',
};

/**
 * request calls the API and returns the decoded JSON body (null for 204).
 * @param {string} method
 * @param {string} path
 * @param {object} [body]
 * @param {{token?: string, quiet401?: boolean}} [opts] token overrides the session's (sign-in);
 *   quiet401 leaves a 401 to the caller instead of signing out
 */
export async function request(method, path, body, opts = {}) {
  const token = opts.token ?? session.token();
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server. Check that it is running and that you are online, then try again.');
  }
  if (res.status === 204) return null;
  let data = null;
  if ((res.headers.get('Content-Type') || '').includes('application/json')) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (res.ok) {
    if (data === null) throw new ApiError(res.status, 'http', 'The server sent an answer this page cannot read. Reload the page and try again.');
    return data;
  }
  const e = data && typeof data.error === 'object' && data.error ? data.error : null;
  const message = e && typeof e.message === 'string' && e.message
    ? sentence(e.message)
    : `The server answered ${res.status}: ${statusText[res.status] || 'the request failed'}.`;
  // API Gateway answers a token its authorizer refused with a bare 403
  // (no API error body): on AWS that is what an expired or revoked token
  // looks like, so it signs out like a 401.
  const refused = res.status === 401 || (res.status === 403 && !e);
  const err = refused && !e
    ? new ApiError(401, 'unauthorized', 'Your token was refused: it is not valid, expired or was revoked. Sign in again.')
    : new ApiError(res.status, (e && e.code) || 'http', message, (e && e.field) || '', (e && e.request_id) || '');
  if (refused && !opts.quiet401) unauthorized(err);
  throw err;
}

function sentence(s) {
  const t = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?)]$/.test(t) ? t : t + '.';
}

/** layerQuery is the ?app=&machine= of a layer ({app, machine}, both '' for global). */
export function layerQuery(layer) {
  const q = new URLSearchParams();
  if (layer.app) q.set('app', layer.app);
  if (layer.machine) q.set('machine', layer.machine);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// PAGE_LIMIT is how many secrets the page asks for per request: the API's
// largest page, so a big layer takes the fewest round trips.
const PAGE_LIMIT = 1000;
// MAX_PAGES stops a server that never says its last page.
const MAX_PAGES = 10000;

/**
 * allPages reads every page of a list (GET path with its query, if any),
 * following next_cursor until a page leaves it out, and returns the first
 * page's answer with the secrets of all of them, in order.
 * @param {string} path
 */
export async function allPages(path) {
  const sep = path.includes('?') ? '&' : '?';
  let first = null;
  const secrets = [];
  let cursor = '';
  for (let n = 0; n < MAX_PAGES; n++) {
    const q = new URLSearchParams({ limit: String(PAGE_LIMIT) });
    if (cursor) q.set('cursor', cursor);
    const page = await request('GET', `${path}${sep}${q}`);
    first ??= page;
    secrets.push(...(page.secrets || []));
    const next = page.next_cursor || '';
    if (!next) return { ...first, secrets, next_cursor: undefined };
    if (next === cursor) break;
    cursor = next;
  }
  throw new ApiError(0, 'http', 'The server kept answering more pages of the list. Reload the page and try again.');
}

/**
 * pathOf is the path of operation op with its {name} parameters filled in, each escaped.
 * @param {keyof routes} op
 * @param {Record<string, string|number>} [params]
 */
export function pathOf(op, params = {}) {
  return routes[op].path.replace(/\{(\w+)\}/g, (_, name) => {
    if (params[name] === undefined) throw new Error(`${op} needs ${name}`);
    return encodeURIComponent(params[name]);
  });
}

/** call calls operation op (see routes.js) with its path parameters and body. */
function call(op, params, body, opts) {
  return request(routes[op].method, pathOf(op, params), body, opts);
}

export const api = {
  me: (token) => call('me', {}, undefined, token ? { token, quiet401: true } : {}),
  org: () => call('getOrg'),
  layers: () => call('listLayers'),
  /** effective says, with masks, what a workload at layer receives in env and from which layer: every page of it. */
  effective: (env, layer) => {
    const q = new URLSearchParams({ environment: env });
    if (layer.app) q.set('app', layer.app);
    if (layer.machine) q.set('machine', layer.machine);
    return allPages(`${pathOf('getEffective')}?${q}`);
  },
  /** list reads the secrets of layer: every page of them. */
  list: (layer) => allPages(`${pathOf('listSecrets')}${layerQuery(layer)}`),
  get: (id) => call('getSecret', { id }),
  create: (body) => call('createSecret', {}, body),
  update: (id, body) => call('updateSecret', { id }, body),
  remove: (id) => call('deleteSecret', { id }),
  versions: (id) => call('listVersions', { id }),
  restore: (id, n) => call('restoreVersion', { id, n }, {}),
};
