// The Audit screen (admins): the trail newest first, a page at a time, each
// record as a sentence: who, what, which secrets and versions, at which
// layer. Records hold names, versions and what changed, never a value.
// The API has no filter parameters (GET /v1/audit?limit=&cursor=), so the
// filters narrow the records loaded so far, and say so.
import { ENV_LABEL } from './add.js';
import { pathOf, request } from './api.js';
import { $, element, message, show } from './dom.js';

const PAGE = 50;
// To the second: many records can share a minute.
const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const formatTime = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso || '') : timeFormat.format(d);
};

/** What each action did, as a person says it. */
export const ACTIONS = {
  'secret.create': 'Created a secret',
  'secret.update': 'Changed a secret',
  'secret.delete': 'Deleted a secret',
  'secret.restore': 'Restored a version',
  'secret.rotate': 'Rotated a value',
  'rotation.set': 'Set a rotation policy',
  'rotation.clear': 'Removed a rotation policy',
  'token.create': 'Created a token',
  'token.revoke': 'Revoked a token',
  resolve: 'Resolved secrets',
  'org.update': 'Changed the settings',
};

/** layerText names a layer ({app, machine}; neither is global). */
export function layerText(l) {
  return l?.machine ? `Machine ${l.app} / ${l.machine}` : l?.app ? `App ${l.app}` : 'Global';
}

/** entryLayer names an audit entry's layer key: g, a/APP or m/APP/MACHINE. */
function entryLayer(key) {
  const [k, a, m] = String(key || 'g').split('/');
  return k === 'm' ? layerText({ app: a, machine: m }) : k === 'a' ? layerText({ app: a }) : 'Global';
}

const SECRET_ACTION = /^(secret|rotation)\.|^resolve$/;

/** recordText is a record as the screen shows it, and what the filters match. */
export function recordText(r) {
  const actor = r.actor || {};
  const who = actor.kind === 'system' ? (actor.name || 'The service') : actor.name || actor.subject || 'Unknown';
  const whoSub = actor.kind === 'system' ? actor.subject || 'the service itself' : [actor.kind, actor.subject].filter(Boolean).join(' · ');
  let what = ACTIONS[r.action] || r.action;
  if (r.action === 'resolve' && typeof r.secret_count === 'number') what = `Resolved ${r.secret_count} secret${r.secret_count === 1 ? '' : 's'}`;
  if (r.environment) what += ` in ${ENV_LABEL[r.environment] || r.environment}`;
  const secrets = (r.secrets || []).map((e) => ({ name: e.name, version: e.version, layer: e.layer ? entryLayer(e.layer) : '' }));
  // The acted-on layer: given, or (for an older record) its secrets' own.
  const layer = r.layer ? layerText(r.layer) : secrets.length ? secrets[0].layer : SECRET_ACTION.test(r.action) ? 'Global' : '';
  return { who, whoSub, what, detail: r.detail || '', secrets, layer };
}

/**
 * auditScreen drives the Audit screen.
 */
export function auditScreen() {
  let records = /** @type {any[]} */ ([]);
  let cursor = '';
  let seq = 0;
  let loading = false;

  const select = /** @type {HTMLSelectElement} */ ($('audit-action'));
  select.replaceChildren(new Option('All actions', ''), ...Object.entries(ACTIONS).map(([a, label]) => new Option(label, a)));

  async function page(first) {
    const n = first ? ++seq : seq;
    if (first) {
      records = [];
      cursor = '';
      render();
    }
    loading = true;
    const more = /** @type {HTMLButtonElement} */ ($('audit-more'));
    more.disabled = true;
    $('audit-count').textContent = 'Loading records…';
    try {
      const q = new URLSearchParams({ limit: String(PAGE) });
      if (cursor) q.set('cursor', cursor);
      const res = await request('GET', `${pathOf('listAudit')}?${q}`);
      if (n !== seq) return;
      records.push(...(res.records || []));
      cursor = res.next_cursor && res.next_cursor !== cursor ? res.next_cursor : '';
      message($('audit-error'), '');
    } catch (err) {
      if (n !== seq || err.status === 401) return;
      message($('audit-error'), err.message);
    } finally {
      if (n === seq) {
        loading = false;
        more.disabled = false;
        render();
      }
    }
  }

  function filters() {
    const time = (id) => {
      const v = /** @type {HTMLInputElement} */ ($(id)).value;
      return v ? new Date(v).getTime() : NaN;
    };
    return {
      action: select.value,
      secret: /** @type {HTMLInputElement} */ ($('audit-secret')).value.trim().toLowerCase(),
      actor: /** @type {HTMLInputElement} */ ($('audit-actor')).value.trim().toLowerCase(),
      from: time('audit-from'),
      // "To" names a minute: records within it are in.
      to: time('audit-to') + 60_000 - 1,
    };
  }

  function matches(r, f) {
    if (f.action && r.action !== f.action) return false;
    if (f.secret && !(r.secrets || []).some((e) => String(e.name).toLowerCase().includes(f.secret))) return false;
    if (f.actor) {
      const a = r.actor || {};
      if (![a.name, a.subject].some((s) => String(s || '').toLowerCase().includes(f.actor))) return false;
    }
    const t = Date.parse(r.time);
    if (!Number.isNaN(f.from) && t < f.from) return false;
    if (!Number.isNaN(f.to) && t > f.to) return false;
    return true;
  }

  function render() {
    const f = filters();
    const shown = records.filter((r) => matches(r, f));
    const filtered = shown.length !== records.length;
    $('audit-body').replaceChildren(...shown.map(row));
    const total = `${records.length} record${records.length === 1 ? '' : 's'} loaded`;
    $('audit-count').textContent = loading ? 'Loading records…'
      : filtered ? `${shown.length} of ${total} match` : `${total}${cursor ? ', older ones not yet' : ''}`;
    const none = !loading && shown.length === 0;
    show($('audit-none'), none);
    $('audit-none').textContent = records.length === 0 ? 'No audit records yet.'
      : `No loaded record matches the filters.${cursor ? ' Load older records to look further back.' : ''}`;
    show($('audit-more'), !!cursor);
  }

  function row(r) {
    const t = recordText(r);
    return element('tr', { 'data-action': r.action },
      element('td', {}, element('time', { datetime: r.time }, formatTime(r.time))),
      element('td', {}, element('span', { class: 'who-name' }, t.who), t.whoSub ? element('span', { class: 'sub' }, t.whoSub) : ''),
      element('td', {}, element('span', { class: 'what' }, t.what), t.detail ? element('span', { class: 'sub' }, t.detail) : ''),
      element('td', {}, t.secrets.length
        ? element('ul', { class: 'entries' }, ...t.secrets.map((e) => element('li', {},
          element('span', { class: 'mono' }, e.name), ` version ${e.version}`, e.layer && e.layer !== t.layer ? ` (${e.layer})` : '')))
        : ''),
      element('td', {}, t.layer));
  }

  $('audit-filters').addEventListener('input', render);
  $('audit-filters').addEventListener('change', render);
  $('audit-filters').addEventListener('reset', () => setTimeout(render)); // after the form has cleared its fields
  $('audit-filters').addEventListener('submit', (e) => e.preventDefault());
  $('audit-more').addEventListener('click', () => {
    if (!loading) page(false);
  });

  return {
    open: () => page(true),
    close() {
      seq++;
      records = [];
      cursor = '';
      loading = false;
      $('audit-body').replaceChildren();
    },
  };
}
