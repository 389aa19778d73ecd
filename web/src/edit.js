// The edit view of one secret: masks in place of values, only dirty fields
// sent, a conflict on a stale version, read-only for those who may not
// modify it, version history and restore, and the delete confirmation.
import { api } from './api.js';
import { ENV_LABEL, ENVIRONMENTS, maskAll, valueInput } from './add.js';
import { copyName } from './copy.js';
import { $, element, fieldError, formatTime, message, Modal, toast } from './dom.js';
import { kindOf, labelOf } from './effective.js';
import { lockInput, lockReason, writable } from './policy.js';
import { rotationSection, rotationWarning } from './rotation.js';

const CONFIRM_WORD = 'delete';

/** envRow is the edit view's row for one environment: its mask, a new value, and Clear. */
function envRow(env) {
  const id = `edit-value-${env}`;
  const mask = `edit-mask-${env}`;
  const [input, show, notes] = valueInput(id, env, `${mask} edit-rotation-warning`);
  return element('div', { class: 'env-row', 'data-env': env },
    element('label', { for: id }, `${ENV_LABEL[env]} value`),
    element('p', { class: 'mask', id: mask }),
    element('div', { class: 'env-input' }, input, show,
      element('button', { type: 'button', class: 'btn btn-small env-clear', 'data-env': env, 'aria-pressed': 'false', 'aria-label': `Clear the ${ENV_LABEL[env]} value` }, 'Clear')),
    ...notes);
}

/**
 * @param {import('./main.js').App} app
 */
export function editView(app) {
  const form = /** @type {HTMLFormElement} */ ($('edit-form'));
  const fields = /** @type {HTMLFieldSetElement} */ ($('edit-fields'));
  const desc = /** @type {HTMLTextAreaElement} */ ($('edit-description'));
  const save = /** @type {HTMLButtonElement} */ ($('edit-save'));
  const del = /** @type {HTMLButtonElement} */ ($('edit-delete'));
  const history = /** @type {HTMLDetailsElement} */ ($('history'));
  const input = (env) => /** @type {HTMLTextAreaElement} */ ($(`edit-value-${env}`));
  const clearButton = (env) => /** @type {HTMLButtonElement} */ (form.querySelector(`.env-clear[data-env="${env}"]`));
  $('edit-env-rows').append(...ENVIRONMENTS.map(envRow));

  /** @type {any} the secret as last read: a detail with masks, never values */
  let cur = null;
  /** environments the user chose to clear */
  let clearing = new Set();
  let busy = false;

  const modal = new Modal(/** @type {HTMLDialogElement} */ ($('edit-dialog')), {
    onClose: () => {
      deleteDialog.close();
      message($('edit-inherited-banner'), '');
      cur = null;
      form.reset(); // typed values never linger in the page
      maskAll(form);
      clearing = new Set();
      history.open = false;
    },
  });

  // fill shows a secret as read from the server, discarding any edits.
  function fill(d) {
    cur = d;
    clearing = new Set();
    $('edit-title-name').textContent = d.name;
    $('edit-layer').textContent = labelOf({ app: d.app ?? '', machine: d.machine ?? '' }, kindOf({ app: d.app, machine: d.machine }));
    $('edit-copy-name').setAttribute('aria-label', `Copy name ${d.name}`);
    maskAll(form);
    /** @type {HTMLInputElement} */ ($('edit-id')).value = d.id;
    /** @type {HTMLInputElement} */ ($('edit-name')).value = d.name;
    desc.value = d.description;
    for (const env of ENVIRONMENTS) {
      const mask = d.masked[env];
      const el = $(`edit-mask-${env}`);
      el.replaceChildren();
      el.classList.remove('mask-clearing');
      if (mask != null) {
        el.append('Current: ');
        const code = document.createElement('code');
        code.className = 'mask-value';
        code.textContent = mask;
        el.append(code);
      } else {
        el.textContent = 'Not set';
      }
      const i = input(env);
      i.value = '';
      // An environment the policy keeps from this caller (the detail's
      // writable_environments) is locked with the reason; when the caller
      // may not modify the secret at all, the owner banner says why.
      const locked = d.can_modify && !writable(d.writable_environments, env);
      lockInput(i, $(`edit-value-${env}-policy`), locked ? lockReason(app.org, env) : '');
      // No invitation to type where typing is not allowed.
      i.placeholder = locked || !d.can_modify ? '' : mask != null ? 'Type a new value to replace it' : 'Type a value to set it';
      const b = clearButton(env);
      b.hidden = mask == null;
      b.disabled = locked;
      b.setAttribute('aria-pressed', 'false');
      b.textContent = 'Clear';
      b.setAttribute('aria-label', `Clear the ${ENV_LABEL[env]} value`);
      fieldError(`edit-value-${env}`, '');
    }
    fieldError('edit-description', '');
    showMeta(d);

    const banner = $('edit-owner-banner');
    message(banner, d.can_modify ? '' : `Only ${d.owner.name} can modify this secret`);
    fields.disabled = !d.can_modify;
    del.disabled = !d.can_modify;
    message($('edit-error'), '');
    $('edit-conflict').hidden = true;
    refreshDirty();
    if (history.open) loadHistory();
  }

  // showMeta shows what changes with every version but is not edited in the
  // form: version, owner, times, the rotation policy and its warning.
  function showMeta(d) {
    $('edit-version').textContent = String(d.version);
    $('edit-owner').textContent = d.owner.name;
    $('edit-owner').title = d.owner.subject;
    $('edit-created').textContent = formatTime(d.created_at);
    $('edit-updated').textContent = `${formatTime(d.updated_at)} by ${d.updated_by.name}`;
    message($('edit-rotation-warning'), rotationWarning(d.rotation));
    for (const env of ENVIRONMENTS) {
      $(`edit-mask-${env}`).closest('.env-row')?.classList.toggle('env-rotated', !!d.rotation?.environments.includes(env));
    }
    rotation.show(d);
  }

  // A rotation policy set or removed is a version of its own that changes
  // neither the description nor a value: what was typed is kept, and the
  // next save carries the new version.
  const rotation = rotationSection({
    current: () => cur,
    saved: (d) => {
      cur = d;
      showMeta(d);
      refreshDirty();
      app.reload();
      if (history.open) loadHistory();
    },
  });

  $('edit-copy-name').addEventListener('click', () => cur && copyName(cur.name));

  /** changes is what the user changed: the PATCH body carries only these and the version. */
  function changes() {
    const body = { version: cur.version };
    const what = [];
    // A textarea turns CR LF into LF: compare like with like, or an
    // unchanged description stored with CR LF would be sent as changed.
    if (desc.value !== cur.description.replace(/\r\n?/g, '\n')) {
      body.description = desc.value;
      what.push('description');
    }
    const values = {};
    for (const env of ENVIRONMENTS) {
      if (clearing.has(env)) {
        values[env] = null; // null clears, on purpose
        what.push(`${ENV_LABEL[env]} (clear)`);
      } else if (input(env).value !== '') {
        values[env] = input(env).value;
        what.push(ENV_LABEL[env]);
      }
    }
    if (Object.keys(values).length) body.values = values;
    return { body, what };
  }

  function refreshDirty() {
    if (!cur) return;
    const { what } = changes();
    save.disabled = busy || !cur.can_modify || what.length === 0;
    $('edit-dirty').textContent = what.length ? `Unsaved: ${what.join(', ')}` : '';
  }

  form.addEventListener('input', refreshDirty);

  for (const env of ENVIRONMENTS) {
    // Clear is a toggle: pressed, the value is cleared on save (null is sent).
    clearButton(env).addEventListener('click', () => {
      const on = !clearing.has(env);
      if (on) clearing.add(env);
      else clearing.delete(env);
      const b = clearButton(env);
      b.setAttribute('aria-pressed', String(on));
      b.textContent = on ? 'Keep' : 'Clear';
      b.setAttribute('aria-label', `${on ? 'Keep' : 'Clear'} the ${ENV_LABEL[env]} value`);
      if (on) input(env).value = '';
      input(env).disabled = on;
      const mask = $(`edit-mask-${env}`);
      mask.classList.toggle('mask-clearing', on);
      /** @type {Text} */ (mask.firstChild).textContent = on ? 'Cleared on save: ' : 'Current: ';
      refreshDirty();
    });
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!cur || !cur.can_modify) return;
    const { body, what } = changes();
    if (!what.length) return;
    message($('edit-error'), '');
    busy = true;
    refreshDirty();
    try {
      const next = await api.update(cur.id, body);
      fill(next);
      toast(`Saved ${next.name}: version ${next.version}.`);
      app.reload();
    } catch (err) {
      showError(err);
    } finally {
      busy = false;
      refreshDirty();
    }
  });

  function showError(err) {
    if (err.status === 401) return; // signed out already
    if (err.status === 409 && err.field === 'version') {
      // The server's message says it all, once: which version is stale, the current one, and what to do.
      $('edit-conflict-text').textContent = err.fieldMessage;
      $('edit-conflict').hidden = false;
      $('edit-reload').focus();
      return;
    }
    const at = err.field === 'description' ? 'edit-description'
      : ENVIRONMENTS.includes(err.field.replace(/^values\./, '')) ? `edit-value-${err.field.replace(/^values\./, '')}` : '';
    if (at) {
      fieldError(at, err.fieldMessage);
      $(at).focus();
      return;
    }
    message($('edit-error'), err.status === 404 ? 'This secret no longer exists: someone deleted it. Close this view to see the current list.' : err.message);
  }

  $('edit-reload').addEventListener('click', async () => {
    if (!cur) return;
    try {
      const d = await api.get(cur.id);
      fill(d);
      desc.focus();
      toast(`Reloaded ${d.name} at version ${d.version}.`);
    } catch (err) {
      showError(err);
    }
  });

  // History: loaded when opened, and again after each change.
  history.addEventListener('toggle', () => {
    if (history.open) loadHistory();
  });

  async function loadHistory() {
    if (!cur) return;
    const body = $('history-body');
    body.textContent = 'Loading…';
    let res;
    try {
      res = await api.versions(cur.id);
    } catch (err) {
      body.textContent = err.status === 401 ? '' : err.message;
      return;
    }
    body.replaceChildren(historyTable(res.versions));
  }

  function historyTable(versions) {
    const table = document.createElement('table');
    table.className = 'history-table';
    const caption = table.createCaption();
    caption.textContent = `Versions of ${cur.name}, newest first (the last 20 are kept)`;
    const head = table.createTHead().insertRow();
    for (const h of ['Version', 'Change', 'Values', 'By', 'When', '']) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = h;
      head.append(th);
    }
    const tbody = table.createTBody();
    for (const v of versions) {
      const row = tbody.insertRow();
      row.insertCell().textContent = v.current ? `${v.version} (current)` : String(v.version);
      row.insertCell().textContent = v.restored_from ? `${v.change} from ${v.restored_from}` : v.change;
      const masks = row.insertCell();
      masks.className = 'history-masks';
      for (const env of ENVIRONMENTS) {
        const line = document.createElement('div');
        line.textContent = `${ENV_LABEL[env]}: ${v.masked[env] ?? '—'}`;
        masks.append(line);
      }
      row.insertCell().textContent = v.updated_by.name;
      row.insertCell().textContent = formatTime(v.updated_at);
      const act = row.insertCell();
      if (!v.current) {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'btn btn-small';
        b.textContent = 'Restore';
        b.setAttribute('aria-label', `Restore version ${v.version}`);
        b.disabled = !cur.can_modify;
        if (!cur.can_modify) b.title = `Only ${cur.owner.name} or an admin can restore`;
        b.addEventListener('click', () => restore(v.version));
        act.append(b);
      }
    }
    return table;
  }

  async function restore(n) {
    try {
      const next = await api.restore(cur.id, n);
      fill(next);
      toast(`Restored version ${n} of ${next.name} as version ${next.version}.`);
      app.reload();
      $('history').querySelector('summary')?.focus();
    } catch (err) {
      showError(err);
    }
  }

  // Delete: the destructive button stays disabled until "delete" is typed exactly.
  const confirmInput = /** @type {HTMLInputElement} */ ($('delete-confirm'));
  const confirmButton = /** @type {HTMLButtonElement} */ ($('delete-submit'));
  const deleteDialog = new Modal(/** @type {HTMLDialogElement} */ ($('delete-dialog')), {
    onClose: () => {
      confirmInput.value = '';
      confirmButton.disabled = true;
      message($('delete-error'), '');
    },
  });
  confirmInput.addEventListener('input', () => {
    confirmButton.disabled = confirmInput.value !== CONFIRM_WORD;
  });
  del.addEventListener('click', () => {
    if (!cur || !cur.can_modify) return;
    $('delete-name').textContent = cur.name;
    confirmInput.value = '';
    confirmButton.disabled = true;
    deleteDialog.show(confirmInput);
  });
  $('delete-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (confirmInput.value !== CONFIRM_WORD || !cur) return;
    confirmButton.disabled = true;
    const { id, name } = cur;
    try {
      await api.remove(id);
    } catch (err) {
      confirmButton.disabled = false;
      if (err.status !== 401) message($('delete-error'), err.status === 404 ? 'It was already deleted.' : err.message);
      return;
    }
    await app.reload();
    deleteDialog.close();
    modal.restore = () => app.grid.focusRow('') || $('add-secret').focus();
    modal.close();
    toast(`Deleted ${name}.`);
  });

  return {
    /**
     * open shows the secret with this id; note (an inherited row's) says where it lives.
     * @param {string} id
     * @param {{rowId?: string, note?: string}} [opts]
     */
    async open(id, opts = {}) {
      let d;
      try {
        d = await api.get(id);
      } catch (err) {
        if (err.status !== 401) app.error(err.status === 404 ? 'That secret no longer exists: someone deleted it.' : err.message);
        if (err.status === 404) app.reload();
        return;
      }
      app.error('');
      fill(d);
      message($('edit-inherited-banner'), opts.note || '');
      modal.show(d.can_modify ? desc : /** @type {HTMLElement} */ (form.querySelector('.dialog-actions [data-close]')),
        () => app.grid.focusRow(opts.rowId || id) || $('add-secret').focus());
    },
    close() {
      deleteDialog.close();
      modal.close();
    },
  };
}
