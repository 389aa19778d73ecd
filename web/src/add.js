// The Add secret dialog.
import { api } from './api.js';
import { $, element, fieldError, message, Modal, toast } from './dom.js';
import { lockInput, lockReason, writable } from './policy.js';

export const ENVIRONMENTS = /** @type {const} */ (['development', 'staging', 'production']);
export const ENV_LABEL = { development: 'Development', staging: 'Staging', production: 'Production' };
export const NAME_MAX = 128;

/** nameProblem says what is wrong with a secret name under the rule ^[A-Za-z_][A-Za-z0-9_]*$, 1–128 characters. */
export function nameProblem(v) {
  if (!v) return 'Enter a name, such as STRIPE_API_KEY.';
  if (v.length > NAME_MAX) return `Too long: ${v.length} characters, at most ${NAME_MAX}.`;
  if (!/^[A-Za-z_]/.test(v)) return 'Start with a letter or an underscore.';
  const bad = v.match(/[^A-Za-z0-9_]/);
  if (bad) return `${bad[0] === ' ' ? 'A space' : `“${bad[0]}”`} is not allowed: use letters, digits and underscores only.`;
  return '';
}

/**
 * valueInput is the field for one environment's value, its Show toggle, then
 * its policy note and its error: the Add dialog's and the edit view's alike.
 * A textarea, so a value keeps its lines and tabs exactly as typed or pasted
 * (a PEM key, a JSON document); masked by CSS while it is not focused,
 * unless Show is pressed. describedBy names what else describes the field,
 * before the note and the error.
 * @returns {[HTMLTextAreaElement, HTMLButtonElement, HTMLElement[]]}
 */
export function valueInput(id, env, describedBy = '') {
  const notes = `${id}-policy ${id}-error`;
  const input = /** @type {HTMLTextAreaElement} */ (element('textarea', {
    id, class: 'secret-value', rows: '2', autocomplete: 'off', autocapitalize: 'off', autocorrect: 'off', spellcheck: 'false',
    wrap: 'soft', 'data-env': env, 'aria-describedby': describedBy ? `${describedBy} ${notes}` : notes,
  }));
  const show = /** @type {HTMLButtonElement} */ (element('button', {
    type: 'button', class: 'btn btn-small value-show', 'aria-pressed': 'false', 'aria-controls': id, 'aria-label': `Show ${ENV_LABEL[env]} value`,
  }, 'Show'));
  show.addEventListener('click', () => reveal(input, show, show.getAttribute('aria-pressed') !== 'true'));
  return [input, show,
    [element('p', { id: `${id}-policy`, class: 'policy-note', hidden: true }), element('p', { id: `${id}-error`, class: 'field-error', hidden: true })]];
}

/** reveal shows (or masks again) what was typed in a value field. */
export function reveal(input, show, on) {
  input.classList.toggle('revealed', on);
  show.setAttribute('aria-pressed', String(on));
}

/** maskAll masks every value field under root again (when a dialog closes or a secret is read anew). */
export function maskAll(root) {
  for (const b of root.querySelectorAll('.value-show')) {
    const input = document.getElementById(b.getAttribute('aria-controls') || '');
    if (input) reveal(input, b, false);
  }
}

/** valueField is the Add dialog's field for one environment's value. */
function valueField(env) {
  const id = `add-value-${env}`;
  const [input, show, notes] = valueInput(id, env);
  return element('div', { class: 'field value-field' },
    element('div', { class: 'value-head' }, element('label', { for: id }, `${ENV_LABEL[env]} value`), show), input, ...notes);
}

/**
 * @param {import('./main.js').App} app
 */
export function addDialog(app) {
  const form = /** @type {HTMLFormElement} */ ($('add-form'));
  const name = /** @type {HTMLInputElement} */ ($('add-name'));
  const desc = /** @type {HTMLTextAreaElement} */ ($('add-description'));
  const submit = /** @type {HTMLButtonElement} */ ($('add-submit'));
  const modal = new Modal(/** @type {HTMLDialogElement} */ ($('add-dialog')), { onClose: reset });
  $('add-values').append(...ENVIRONMENTS.map(valueField));

  function reset() {
    form.reset(); // values never linger in the page
    maskAll(form);
    for (const id of ['add-name', 'add-description', ...ENVIRONMENTS.map((e) => `add-value-${e}`)]) fieldError(id, '');
    message($('add-error'), '');
    submit.disabled = false;
  }

  name.addEventListener('input', () => {
    // Validate as you type, but do not scold an empty field before a submit.
    fieldError('add-name', name.value ? nameProblem(name.value) : '');
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message($('add-error'), '');
    const problem = nameProblem(name.value);
    fieldError('add-name', problem);
    if (problem) {
      name.focus();
      return;
    }
    const values = {};
    for (const env of ENVIRONMENTS) {
      const input = /** @type {HTMLTextAreaElement} */ ($(`add-value-${env}`));
      if (input.value !== '' && !input.disabled) values[env] = input.value;
    }
    const body = { name: name.value, description: desc.value, values };
    if (app.layer.app) body.app = app.layer.app;
    if (app.layer.machine) body.machine = app.layer.machine;
    submit.disabled = true;
    try {
      const created = await api.create(body);
      await app.reload();
      app.refreshLayers();
      modal.restore = () => app.grid.focusRow(created.id) || $('add-secret').focus();
      modal.close();
      toast(`Added ${created.name} (version ${created.version}).`);
    } catch (err) {
      submit.disabled = false;
      if (err.status === 401) return; // signed out already
      const at = fieldOf(err.field);
      if (at) {
        fieldError(at, err.fieldMessage);
        $(at).focus();
      } else {
        message($('add-error'), err.message);
      }
    }
  });

  return {
    open() {
      $('add-layer').textContent = app.layerLabel(app.layer);
      // Environments the caller's role may not write (GET /v1/me says which) are locked, with the reason.
      for (const env of ENVIRONMENTS) {
        lockInput(/** @type {HTMLTextAreaElement} */ ($(`add-value-${env}`)), $(`add-value-${env}-policy`),
          writable(app.me?.writable_environments, env) ? '' : lockReason(app.org, env));
      }
      modal.show(name);
    },
    close: () => modal.close(),
  };
}

/** fieldOf maps an API error's field to the input that shows it. */
function fieldOf(field) {
  if (field === 'name') return 'add-name';
  if (field === 'description') return 'add-description';
  const env = ENVIRONMENTS.find((e) => field === `values.${e}` || field === e);
  return env ? `add-value-${env}` : '';
}
