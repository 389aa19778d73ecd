// The rotation part of the edit view: a secret's rotation policy (every,
// environments, length, alphabet), its next and last rotation, and set and
// remove for those who may (PUT and DELETE /v1/secrets/{id}/rotation).
// Nothing here is a value: the server makes the random values itself.
import { pathOf, request } from './api.js';
import { ENV_LABEL, ENVIRONMENTS } from './add.js';
import { $, fieldError, formatTime, message, toast } from './dom.js';
import { routes } from './routes.js';
import { writable } from './policy.js';

const DEFAULT_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const FIELDS = ['every', 'length', 'alphabet'];

/** envList names environments as a person reads them: "Staging and Production". */
export function envList(envs) {
  const names = ENVIRONMENTS.filter((e) => envs.includes(e)).map((e) => ENV_LABEL[e]);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names.join('');
}

/** rotationWarning is what the edit view says near the value fields of a secret under rotation, or ''. */
export function rotationWarning(rotation) {
  if (!rotation) return '';
  const envs = envList(rotation.environments);
  return `This secret is rotated every ${rotation.every}: a ${envs} value you type here will be replaced by random characters at the next rotation, ${formatTime(rotation.next_at)}.`;
}

const call = (op, id, body) => request(routes[op].method, pathOf(op, { id }), body);

/**
 * @param {{saved: (detail: any) => void, current: () => any}} on saved gets
 *   the detail after a change; current is the secret as last read
 */
export function rotationSection(on) {
  const every = /** @type {HTMLInputElement} */ ($('rotation-every'));
  const length = /** @type {HTMLInputElement} */ ($('rotation-length'));
  const alphabet = /** @type {HTMLInputElement} */ ($('rotation-alphabet'));
  const set = /** @type {HTMLButtonElement} */ ($('rotation-set'));
  const remove = /** @type {HTMLButtonElement} */ ($('rotation-remove'));
  const box = (env) => /** @type {HTMLInputElement} */ ($(`rotation-env-${env}`));
  let busy = false;

  function clearErrors() {
    for (const f of FIELDS) fieldError(`rotation-${f}`, '');
    message($('rotation-envs-error'), '');
    message($('rotation-error'), '');
  }

  /** show renders the policy of d and, for those who may, the controls to change it. */
  function show(d) {
    clearErrors();
    const r = d.rotation;
    $('rotation-status').textContent = r
      ? `Rotated every ${r.every} in ${envList(r.environments)}: ${r.length} random characters each time.`
      : 'No rotation policy: values change only when someone writes them.';
    $('rotation-policy').hidden = !r;
    if (r) {
      $('rotation-policy-every').textContent = r.every;
      $('rotation-policy-envs').textContent = envList(r.environments);
      $('rotation-policy-length').textContent = `${r.length} characters`;
      $('rotation-policy-alphabet').textContent = r.alphabet === DEFAULT_ALPHABET ? 'letters and digits' : r.alphabet;
      $('rotation-next').textContent = formatTime(r.next_at);
      $('rotation-last').textContent = r.last_at ? formatTime(r.last_at) : 'Not yet';
    }
    $('rotation-controls').hidden = !d.can_modify;
    $('rotation-controls-title').textContent = r ? 'Change the policy' : 'Set a policy';
    every.value = r ? r.every : '30d';
    length.value = String(r ? r.length : 32);
    alphabet.value = r && r.alphabet !== DEFAULT_ALPHABET ? r.alphabet : '';
    const pick = r ? r.environments : ['production'];
    for (const env of ENVIRONMENTS) {
      const b = box(env);
      b.checked = pick.includes(env);
      b.disabled = !writable(d.writable_environments, env);
    }
    set.textContent = r ? 'Save rotation policy' : 'Set rotation policy';
    remove.hidden = !r;
    set.disabled = busy;
    remove.disabled = busy;
  }

  async function change(op) {
    const d = on.current();
    if (!d || busy) return;
    clearErrors();
    let body;
    if (op === 'setRotation') {
      const envs = ENVIRONMENTS.filter((env) => box(env).checked);
      if (!envs.length) {
        message($('rotation-envs-error'), 'Choose at least one environment to rotate.');
        box(ENVIRONMENTS.find((env) => !box(env).disabled) ?? 'development').focus();
        return;
      }
      body = { every: every.value.trim(), environments: envs };
      if (length.value.trim()) body.length = Number(length.value);
      if (alphabet.value) body.alphabet = alphabet.value;
    }
    busy = true;
    set.disabled = remove.disabled = true;
    try {
      let next = await call(op, d.id, body);
      next ??= await request('GET', pathOf('getSecret', { id: d.id }));
      busy = false;
      on.saved(next);
      toast(op === 'setRotation'
        ? `${next.name} is rotated every ${next.rotation.every}; next at ${formatTime(next.rotation.next_at)}.`
        : `Removed the rotation policy of ${next.name}.`);
      (op === 'setRotation' ? set : every).focus();
    } catch (err) {
      busy = false;
      set.disabled = remove.disabled = false;
      if (err.status === 401) return; // signed out already
      const field = err.field === 'environments' ? '' : FIELDS.find((f) => err.field === f);
      if (field) {
        fieldError(`rotation-${field}`, err.fieldMessage);
        $(`rotation-${field}`).focus();
      } else if (err.field === 'environments') {
        message($('rotation-envs-error'), err.fieldMessage);
      } else {
        message($('rotation-error'), err.message);
      }
    }
  }

  $('rotation-form').addEventListener('submit', (e) => {
    e.preventDefault();
    change('setRotation');
  });
  remove.addEventListener('click', () => change('clearRotation'));

  return { show, reset: clearErrors };
}
