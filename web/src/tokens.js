// The Tokens screen (admins): the organization's tokens, creating user,
// service and IAM tokens (a new token shown once, with a copy button), and
// revoking one after a confirmation. The list never holds a token, only its
// first characters; the server records no "last used" time, so there is none.
import { ENV_LABEL, ENVIRONMENTS } from './add.js';
import { pathOf, request } from './api.js';
import { $, element, fieldError, formatTime, message, Modal, show, toast } from './dom.js';
import { layerText } from './audit.js';

const ROLES = [['member', 10], ['admin', 100], ['superadmin', 1000]];
const KIND_LABEL = { user: 'User', service: 'Service', iam: 'IAM' };
// The request fields the server names in its errors, and the input each is shown at.
const FIELD_INPUT = {
  name: 'token-name', subject: 'token-subject', role: 'token-role', principal_arn: 'token-arn',
  app: 'token-app', machine: 'token-machine', environments: 'token-environments', expires_at: 'token-expires',
};

const tokensApi = {
  list: () => request('GET', pathOf('listTokens')),
  create: (body) => request('POST', pathOf('createToken'), body),
  revoke: (id) => request('DELETE', pathOf('revokeToken', { id })),
};

/** scopeText says what a token may do: a user token's role, a workload token's layer and environments. */
export function scopeText(t) {
  if (t.kind === 'user') return t.role ? `Role ${t.role}` : '';
  const envs = (t.environments || []).map((e) => ENV_LABEL[e] || e).join(', ');
  const layer = layerText({ app: t.app, machine: t.machine });
  return `${layer} · ${envs || 'no environment'}`;
}

/**
 * tokensScreen drives the Tokens screen.
 * @param {{me: any}} app
 */
export function tokensScreen(app) {
  const createModal = new Modal(/** @type {HTMLDialogElement} */ ($('token-dialog')));
  const createdModal = new Modal(/** @type {HTMLDialogElement} */ ($('token-created-dialog')), {
    onClose: () => {
      // The token is shown this once: gone from the page when the dialog closes.
      /** @type {HTMLInputElement} */ ($('token-created-value')).value = '';
      $('token-copied').textContent = '';
    },
  });
  const revokeModal = new Modal(/** @type {HTMLDialogElement} */ ($('revoke-dialog')));
  let tokens = /** @type {any[]} */ ([]);
  let revoking = null;
  let seq = 0;

  $('token-environments').replaceChildren(...ENVIRONMENTS.map((env) => element('label', { class: 'check' },
    element('input', { type: 'checkbox', id: `token-env-${env}`, value: env }), ` ${ENV_LABEL[env]}`)));

  async function load() {
    const n = ++seq;
    $('tokens-count').textContent = 'Loading tokens…';
    try {
      const res = await tokensApi.list();
      if (n !== seq) return;
      tokens = res.tokens || [];
      message($('tokens-error'), '');
      render();
    } catch (err) {
      if (n !== seq || err.status === 401) return;
      $('tokens-count').textContent = '';
      message($('tokens-error'), err.message);
    }
  }

  const mayRevoke = (t) => !t.revoked_at && (t.kind !== 'user' || (t.role_priority ?? 0) <= (app.me?.role_priority ?? 0));

  function render() {
    const now = Date.now();
    const active = tokens.filter((t) => !t.revoked_at && !(t.expires_at && Date.parse(t.expires_at) <= now)).length;
    $('tokens-count').textContent = `${tokens.length} token${tokens.length === 1 ? '' : 's'}, ${active} active`;
    $('tokens-body').replaceChildren(...tokens.map((t) => {
      const expired = t.expires_at && Date.parse(t.expires_at) <= now;
      const status = t.revoked_at ? `Revoked ${formatTime(t.revoked_at)}` : expired ? 'Expired' : 'Active';
      const who = t.kind === 'user' ? t.subject : t.kind === 'iam' ? t.principal_arn : '';
      const actions = mayRevoke(t)
        ? element('button', { type: 'button', class: 'btn btn-small btn-danger-ghost', 'aria-label': `Revoke ${t.name}` }, 'Revoke…')
        : '';
      if (actions) actions.addEventListener('click', () => askRevoke(t, actions));
      return element('tr', { class: t.revoked_at || expired ? 'token-inactive' : '', 'data-token': t.id },
        element('th', { scope: 'row' }, element('span', { class: 'token-name' }, t.name),
          who ? element('span', { class: 'sub mono' }, who) : '', element('span', { class: 'sub mono' }, t.prefix || '')),
        element('td', {}, KIND_LABEL[t.kind] || t.kind),
        element('td', {}, scopeText(t)),
        element('td', {}, formatTime(t.created_at), t.created_by?.name ? element('span', { class: 'sub' }, `by ${t.created_by.name}`) : ''),
        element('td', {}, t.expires_at ? formatTime(t.expires_at) : 'Never'),
        element('td', { class: t.revoked_at ? 'status-revoked' : expired ? 'status-expired' : 'status-active' }, status),
        element('td', { class: 'actions' }, actions));
    }));
  }

  // ---- create -----------------------------------------------------------

  const kind = () => /** @type {HTMLInputElement} */ (document.querySelector('input[name="token-kind"]:checked')).value;
  const val = (id) => /** @type {HTMLInputElement} */ ($(id)).value.trim();

  function showKind() {
    const k = kind();
    for (const el of $('token-form').querySelectorAll('[data-kinds]')) {
      show(/** @type {HTMLElement} */ (el), /** @type {HTMLElement} */ (el).dataset.kinds.split(' ').includes(k));
    }
  }

  function clearErrors() {
    message($('token-create-error'), '');
    for (const id of Object.values(FIELD_INPUT)) fieldError(id, '');
  }

  function openCreate() {
    const form = /** @type {HTMLFormElement} */ ($('token-form'));
    form.reset();
    clearErrors();
    const mine = app.me?.role_priority ?? 0;
    $('token-role').replaceChildren(...ROLES.filter(([, p]) => p <= mine).map(([r]) => new Option(r[0].toUpperCase() + r.slice(1), r)));
    /** @type {HTMLSelectElement} */ ($('token-role')).value = 'member';
    /** @type {HTMLInputElement} */ ($('token-env-development')).checked = true;
    showKind();
    createModal.show($('token-kind-user'), $('token-create'));
  }

  function body() {
    const k = kind();
    const b = /** @type {Record<string, any>} */ ({ kind: k, name: val('token-name') });
    if (k === 'user') {
      b.subject = val('token-subject');
      b.role = /** @type {HTMLSelectElement} */ ($('token-role')).value;
    } else {
      if (k === 'iam') b.principal_arn = val('token-arn');
      if (val('token-app')) b.app = val('token-app');
      if (val('token-machine')) b.machine = val('token-machine');
      b.environments = ENVIRONMENTS.filter((env) => /** @type {HTMLInputElement} */ ($(`token-env-${env}`)).checked);
    }
    const expires = val('token-expires');
    if (expires) b.expires_at = new Date(expires).toISOString();
    return b;
  }

  // What the page can say before asking the server; the server checks it all again.
  function problems(b) {
    const out = {};
    if (!b.name) out.name = 'Enter a name.';
    if (b.kind === 'user' && !b.subject) out.subject = 'Enter a subject, such as an email address.';
    if (b.kind === 'iam' && !b.principal_arn) out.principal_arn = 'Enter the ARN of the IAM role or user.';
    if (b.machine && !b.app) out.machine = 'A machine needs its app.';
    if (b.kind !== 'user' && !b.environments.length) out.environments = 'Choose at least one environment.';
    if (b.expires_at && Date.parse(b.expires_at) <= Date.now()) out.expires_at = 'Choose a time in the future, or leave it empty.';
    return out;
  }

  async function submitCreate(e) {
    e.preventDefault();
    clearErrors();
    const b = body();
    const found = Object.entries(problems(b));
    if (found.length) {
      for (const [field, text] of found) fieldError(FIELD_INPUT[field], text);
      focusField(FIELD_INPUT[found[0][0]]);
      return;
    }
    const button = /** @type {HTMLButtonElement} */ ($('token-submit'));
    button.disabled = true;
    try {
      const t = await tokensApi.create(b);
      createModal.close();
      showCreated(t);
      load();
    } catch (err) {
      if (err.status === 401) return;
      const input = FIELD_INPUT[err.field];
      if (input) {
        fieldError(input, err.fieldMessage);
        focusField(input);
      } else {
        message($('token-create-error'), err.message);
      }
    } finally {
      button.disabled = false;
    }
  }

  function focusField(id) {
    const el = $(id);
    (el.matches('input, select') ? el : el.querySelector('input'))?.focus();
  }

  function showCreated(t) {
    const scope = scopeText(t);
    $('token-created-text').textContent = `${KIND_LABEL[t.kind] || t.kind} token “${t.name}” was created${scope ? ` (${scope})` : ''}.`;
    const field = $('token-created-field');
    const input = /** @type {HTMLInputElement} */ ($('token-created-value'));
    if (t.token) {
      $('token-created-warning').textContent = 'Copy this token now: it will not be shown again. Whoever holds it can act as '
        + `${t.name}, so keep it as you would a password.`;
      input.value = t.token;
      show(field, true);
      createdModal.show($('token-copy'), $('token-create'));
    } else {
      $('token-created-warning').textContent = `An IAM token has no secret to copy: ${t.principal_arn} signs its requests to `
        + 'POST /v1/resolve/iam with SigV4.';
      show(field, false);
      createdModal.show(undefined, $('token-create'));
    }
  }

  async function copy() {
    const input = /** @type {HTMLInputElement} */ ($('token-created-value'));
    let done = false;
    try {
      await navigator.clipboard.writeText(input.value);
      done = true;
    } catch {
      input.select(); // a browser without the clipboard API: the token is selected for Ctrl+C
    }
    $('token-copied').textContent = done ? 'Copied to the clipboard.' : 'Selected: press Ctrl+C (or ⌘C) to copy it.';
  }

  // ---- revoke -----------------------------------------------------------

  function askRevoke(t, button) {
    revoking = t;
    $('revoke-name').textContent = t.name;
    $('revoke-text').textContent = t.kind === 'user'
      ? `${t.name} (${t.subject}) is signed out and every request with this token is refused from now on. This cannot be undone: to let them in again, create a new token.`
      : `Every request with this token is refused from now on, so what uses it can no longer resolve secrets. This cannot be undone: create a new token to give access again.`;
    message($('revoke-error'), '');
    revokeModal.show($('revoke-submit'), () => {
      // The row's button, or the list's heading when the row has no button left.
      const again = document.querySelector(`#tokens-body tr[data-token="${CSS.escape(t.id)}"] button`);
      (/** @type {HTMLElement|null} */ (again) || (button.isConnected ? button : $('tokens-title'))).focus();
    });
  }

  async function submitRevoke(e) {
    e.preventDefault();
    const t = revoking;
    if (!t) return;
    const button = /** @type {HTMLButtonElement} */ ($('revoke-submit'));
    button.disabled = true;
    try {
      await tokensApi.revoke(t.id);
      revoking = null;
      await load();
      if (!$('tokens-title').hasAttribute('tabindex')) $('tokens-title').tabIndex = -1;
      revokeModal.close();
      toast(`Token “${t.name}” was revoked.`);
    } catch (err) {
      if (err.status !== 401) message($('revoke-error'), err.message);
    } finally {
      button.disabled = false;
    }
  }

  for (const r of document.querySelectorAll('input[name="token-kind"]')) r.addEventListener('change', showKind);
  $('token-create').addEventListener('click', openCreate);
  $('token-form').addEventListener('submit', submitCreate);
  $('token-copy').addEventListener('click', copy);
  $('revoke-form').addEventListener('submit', submitRevoke);

  return {
    open: load,
    close() {
      createModal.close();
      createdModal.close();
      revokeModal.close();
      seq++;
      tokens = [];
      $('tokens-body').replaceChildren();
    },
  };
}
