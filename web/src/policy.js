// The environment write policy, as the server states it: which
// environments the caller may write (GET /v1/me, and per secret GET
// /v1/secrets/{id}) and the role each environment needs (GET /v1/org).
// Where the server does not say, nothing is locked: it decides on save.
import { ENV_LABEL } from './add.js';

/** writable says whether env is writable under a writable_environments list (absent: yes). */
export function writable(list, env) {
  return !Array.isArray(list) || list.includes(env);
}

/** lockReason says, in a sentence, why env's value cannot be written here. */
export function lockReason(org, env) {
  const min = org?.environment_policies?.[env]?.min_write_priority;
  const role = typeof min !== 'number' ? '' : min <= 10 ? 'member' : min <= 100 ? 'admin' : 'superadmin';
  return role
    ? `${ENV_LABEL[env]} values need the ${role} role in this organization.`
    : `Your role may not write ${ENV_LABEL[env]} values in this organization.`;
}

/**
 * lockInput disables (or enables) a value input and shows (or hides) the reason beside it.
 * @param {HTMLInputElement | HTMLTextAreaElement} input
 * @param {HTMLElement} note
 * @param {string} reason '' when the input is writable
 */
export function lockInput(input, note, reason) {
  input.disabled = !!reason;
  const show = /** @type {HTMLButtonElement | null} */ (document.querySelector(`.value-show[aria-controls="${input.id}"]`));
  if (show) show.disabled = !!reason;
  note.textContent = reason;
  note.hidden = !reason;
}
