// The Settings screen: the organization's settings (GET /v1/org), which
// superadmins change (PATCH /v1/org with only what changed) and admins read.
import { ENV_LABEL, ENVIRONMENTS } from './add.js';
import { api, pathOf, request } from './api.js';
import { $, element, fieldError, message, show, toast } from './dom.js';

const SUPERADMIN = 1000;
const DEFAULT_RETENTION = 400;
const PRIORITIES = [[10, 'Members and above'], [100, 'Admins and above'], [1000, 'Superadmins only']];

const sameSet = (a, b) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * settingsScreen drives the Settings screen.
 * @param {{me: any, org: any}} app app.org is kept up to date for the value fields' write policy
 */
export function settingsScreen(app) {
  let org = null;
  let seq = 0;
  const input = (id) => /** @type {HTMLInputElement} */ ($(id));

  $('settings-resolve').replaceChildren(...ENVIRONMENTS.map((env) => element('label', { class: 'check' },
    element('input', { type: 'checkbox', id: `settings-resolve-${env}`, value: env }), ` ${ENV_LABEL[env]}`)));
  $('settings-policies').replaceChildren(...ENVIRONMENTS.map((env) => element('div', { class: 'field' },
    element('label', { for: `settings-policy-${env}` }, ENV_LABEL[env]),
    element('select', { id: `settings-policy-${env}`, 'aria-describedby': 'settings-policy-hint' }))));

  const editable = () => (app.me?.role_priority ?? 0) >= SUPERADMIN;
  const priorityOf = (o, env) => o?.environment_policies?.[env]?.min_write_priority;

  function fill() {
    const resolve = org.user_resolve_environments || ['development'];
    for (const env of ENVIRONMENTS) {
      input(`settings-resolve-${env}`).checked = resolve.includes(env);
      const select = /** @type {HTMLSelectElement} */ ($(`settings-policy-${env}`));
      const p = priorityOf(org, env);
      const options = PRIORITIES.map(([v, label]) => new Option(label, String(v)));
      // A priority between the roles' (set through the API) is shown as it is.
      if (typeof p === 'number' && !PRIORITIES.some(([v]) => v === p)) options.push(new Option(`Role priority ${p} and above`, String(p)));
      select.replaceChildren(...options);
      select.value = String(p ?? '');
    }
    input('settings-retention').value = String(org.audit_retention_days ?? DEFAULT_RETENTION);
    changed();
  }

  /** changes is the PATCH body: only the settings that differ from the server's. */
  function changes() {
    const body = /** @type {Record<string, any>} */ ({});
    const resolve = ENVIRONMENTS.filter((env) => input(`settings-resolve-${env}`).checked);
    if (!sameSet(resolve, org.user_resolve_environments || ['development'])) body.user_resolve_environments = resolve;
    const policies = {};
    for (const env of ENVIRONMENTS) {
      const v = Number(/** @type {HTMLSelectElement} */ ($(`settings-policy-${env}`)).value);
      if (v && v !== priorityOf(org, env)) policies[env] = { min_write_priority: v };
    }
    if (Object.keys(policies).length) body.environment_policies = policies;
    const days = input('settings-retention').value.trim();
    if (days !== String(org.audit_retention_days ?? DEFAULT_RETENTION)) body.audit_retention_days = days === '' ? NaN : Number(days);
    return body;
  }

  function changed() {
    if (!org || !editable()) return;
    const n = Object.keys(changes()).length;
    $('settings-dirty').textContent = n ? `${n} setting${n === 1 ? '' : 's'} changed, not saved yet` : '';
    /** @type {HTMLButtonElement} */ ($('settings-save')).disabled = n === 0;
    /** @type {HTMLButtonElement} */ ($('settings-discard')).disabled = n === 0;
  }

  async function load() {
    const n = ++seq;
    const mayEdit = editable();
    show($('settings-readonly'), !mayEdit);
    show($('settings-actions'), mayEdit);
    /** @type {HTMLFieldSetElement} */ ($('settings-fields')).disabled = !mayEdit;
    message($('settings-error'), '');
    fieldError('settings-retention', '');
    try {
      const res = await api.org();
      if (n !== seq) return;
      org = res;
      app.org = res;
      fill();
    } catch (err) {
      if (n === seq && err.status !== 401) message($('settings-error'), err.message);
    }
  }

  async function save(e) {
    e.preventDefault();
    if (!org || !editable()) return;
    message($('settings-error'), '');
    fieldError('settings-retention', '');
    const body = changes();
    // Only what is not a number is stopped here; the range is the server's to judge.
    if ('audit_retention_days' in body && !Number.isInteger(body.audit_retention_days)) {
      fieldError('settings-retention', 'Enter a whole number of days.');
      input('settings-retention').focus();
      return;
    }
    if (!Object.keys(body).length) return;
    const button = /** @type {HTMLButtonElement} */ ($('settings-save'));
    button.disabled = true;
    try {
      const res = await request(/** @type {any} */ ('PATCH'), pathOf('updateOrg'), body);
      org = res;
      app.org = res;
      fill();
      toast('Settings saved.');
      // The policies decide which value fields the signed-in user may write.
      api.me().then((me) => { if (app.me && me.token_id === app.me.token_id) app.me = { ...app.me, ...me }; }, () => {});
    } catch (err) {
      if (err.status === 401) return;
      // The server's refusal, said once: at the field it concerns, or above the form.
      if (err.field === 'audit_retention_days') {
        fieldError('settings-retention', err.fieldMessage);
        input('settings-retention').focus();
      } else {
        message($('settings-error'), err.message);
      }
      changed();
    }
  }

  $('settings-form').addEventListener('input', changed);
  $('settings-form').addEventListener('change', changed);
  $('settings-form').addEventListener('submit', save);
  $('settings-discard').addEventListener('click', () => {
    if (!org) return;
    message($('settings-error'), '');
    fieldError('settings-retention', '');
    fill();
  });

  return {
    open: load,
    close() {
      seq++;
      org = null;
      $('settings-dirty').textContent = '';
    },
  };
}
