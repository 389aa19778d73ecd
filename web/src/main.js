// The secrets management grid: sign-in, the layer picker, the grid, and the
// dialogs. Plain modules; esbuild bundles them with AG Grid.
import './styles.css';
import { addDialog } from './add.js';
import { api, onUnauthorized, session } from './api.js';
import { $, fieldError, message, show } from './dom.js';
import { editView } from './edit.js';
import { ENVIRONMENTS } from './add.js';
import { layeredRows } from './effective.js';
import { secretsGrid } from './grid.js';
import { themeControl } from './theme.js';
import { auditScreen } from './audit.js';
import { navigation } from './nav.js';
import { settingsScreen } from './settings.js';
import { tokensScreen } from './tokens.js';

/**
 * @typedef {{app: string, machine: string}} Layer
 * @typedef {{
 *   me: any, org: any, layer: Layer, grid: ReturnType<typeof secretsGrid>,
 *   reload: () => Promise<void>, refreshLayers: () => Promise<void>,
 *   layerLabel: (l: Layer) => string, error: (text: string) => void,
 * }} App
 */

const LAYER_KEY = 'zwrm.layer';
const LAYER_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const GLOBAL = { app: '', machine: '' };

const layerKey = (l) => (l.machine ? `m:${l.app}/${l.machine}` : l.app ? `a:${l.app}` : 'g');
const layerLabel = (l) => (l.machine ? `machine ${l.app} / ${l.machine}` : l.app ? `app ${l.app}` : 'Global');

/** @type {App} */
const app = {
  me: null,
  org: null, // GET /v1/org, for the environment write policy's reasons; null if unread
  layer: GLOBAL,
  grid: /** @type {any} */ (null),
  reload,
  refreshLayers,
  layerLabel,
  error: (text) => message($('global-error'), text),
};

let known = /** @type {Layer[]} */ ([]); // layers that hold secrets, from the server
const typed = /** @type {Layer[]} */ ([]); // layers typed in this tab
let loadSeq = 0;
let inherited = 0; // rows of the grid inherited from lower layers
let hiddenInherited = 0; // inherited rows left out while Show inherited is off
let adder, editor;
let screens; // the navigation between Secrets and the admin screens

// ---- sign-in ----------------------------------------------------------

function showSignIn(note) {
  adder?.close();
  editor?.close();
  screens?.leave();
  app.me = null;
  app.org = null;
  app.grid?.set([]);
  show($('who'), false);
  show($('secrets-view'), false);
  show($('signin-view'), true);
  message($('global-error'), '');
  message($('signin-message'), note || '');
  $('token').focus();
}

function signOut(note) {
  session.clear();
  showSignIn(note);
}

onUnauthorized((err) => signOut(`You have been signed out. ${err.message}`));

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = /** @type {HTMLInputElement} */ ($('token'));
  const token = input.value.trim();
  fieldError('token', '');
  message($('signin-message'), '');
  if (!token) {
    fieldError('token', 'Paste your user token.');
    input.focus();
    return;
  }
  const button = /** @type {HTMLButtonElement} */ ($('signin-submit'));
  button.disabled = true;
  try {
    const me = await api.me(token);
    if (me.kind !== 'user') {
      fieldError('token', 'This is a service token: it can only resolve secrets. Sign in with a user token.');
      input.focus();
      return;
    }
    session.set(token);
    input.value = '';
    await enter(me);
  } catch (err) {
    fieldError('token', err.message);
    input.focus();
  } finally {
    button.disabled = false;
  }
});

$('sign-out').addEventListener('click', () => signOut('You signed out. Your token was removed from this tab.'));

async function enter(me) {
  app.me = me;
  $('who-name').textContent = me.name;
  $('who-org').textContent = me.org;
  $('who-role').textContent = me.role;
  show($('who'), true);
  show($('signin-view'), false);
  show($('secrets-view'), true);
  screens.enter(me);
  if (!app.grid) {
    app.grid = secretsGrid($('grid'), { open: openRow, counted });
  }
  api.org().then((org) => { app.org = org; }, () => {}); // only for the reasons shown next to locked fields
  app.layer = savedLayer();
  renderLayers();
  await Promise.all([reload(), refreshLayers()]);
  $('main').focus();
}

// ---- layers -----------------------------------------------------------

function savedLayer() {
  try {
    const l = JSON.parse(sessionStorage.getItem(LAYER_KEY) || 'null');
    if (l && typeof l.app === 'string' && typeof l.machine === 'string' && (!l.app || LAYER_ID.test(l.app)) && (!l.machine || LAYER_ID.test(l.machine))) {
      return { app: l.app, machine: l.app ? l.machine : '' };
    }
  } catch {
    // ignore a damaged value
  }
  return GLOBAL;
}

async function refreshLayers() {
  try {
    const res = await api.layers();
    known = res.layers.map((l) => ({ app: l.app, machine: l.machine || '' }));
    renderLayers();
  } catch (err) {
    if (err.status !== 401) app.error(err.message);
  }
}

function renderLayers() {
  const select = /** @type {HTMLSelectElement} */ ($('layer-select'));
  const all = new Map();
  const add = (l) => all.set(layerKey(l), l);
  for (const l of [...known, ...typed, app.layer]) {
    if (l.app) add({ app: l.app, machine: '' }); // a machine's app is a layer too
    if (l.machine) add(l);
  }
  const sorted = [...all.values()].sort((a, b) => a.app.localeCompare(b.app) || a.machine.localeCompare(b.machine));
  const opts = [new Option('Global (whole organization)', 'g')];
  for (const l of sorted) {
    opts.push(new Option(l.machine ? `Machine ${l.app} / ${l.machine}` : `App ${l.app}`, layerKey(l)));
  }
  opts.push(new Option('Another app or machine…', 'new'));
  select.replaceChildren(...opts);
  select.value = layerKey(app.layer);
  select.dataset.layers = JSON.stringify(Object.fromEntries(all));
  const hint = app.layer.machine
    ? `Secrets of machine ${app.layer.machine} override those of app ${app.layer.app} and global ones with the same name, on that machine.`
    : app.layer.app
      ? `Secrets of app ${app.layer.app} override global ones with the same name for its workloads; a machine of it can override them again.`
      : `Global secrets are inherited by every app and machine of org ${app.me?.org ?? ''}; an app or machine secret with the same name overrides them.`;
  $('layer-hint').textContent = hint;
}

function useLayer(l) {
  app.layer = l;
  sessionStorage.setItem(LAYER_KEY, JSON.stringify(l));
  renderLayers();
  reload();
}

$('layer-select').addEventListener('change', () => {
  const select = /** @type {HTMLSelectElement} */ ($('layer-select'));
  if (select.value === 'new') {
    show($('layer-form'), true);
    fieldError('layer-app', '');
    fieldError('layer-machine', '');
    message($('layer-error'), '');
    $('layer-app').focus();
    return;
  }
  show($('layer-form'), false);
  if (select.value === 'g') return useLayer(GLOBAL);
  const l = JSON.parse(select.dataset.layers || '{}')[select.value];
  if (l) useLayer(l);
});

$('layer-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const appId = /** @type {HTMLInputElement} */ ($('layer-app')).value.trim();
  const machine = /** @type {HTMLInputElement} */ ($('layer-machine')).value.trim();
  fieldError('layer-app', '');
  fieldError('layer-machine', '');
  let problem = '';
  if (!LAYER_ID.test(appId)) {
    problem = appId ? `App “${appId}” does not follow the rule below.` : 'Enter an app.';
    fieldError('layer-app', ' ');
    $('layer-app').focus();
  } else if (machine && !LAYER_ID.test(machine)) {
    problem = `Machine “${machine}” does not follow the rule below.`;
    fieldError('layer-machine', ' ');
    $('layer-machine').focus();
  }
  message($('layer-error'), problem);
  if (problem) return;
  const l = { app: appId, machine };
  typed.push(l);
  /** @type {HTMLFormElement} */ ($('layer-form')).reset();
  show($('layer-form'), false);
  useLayer(l);
  $('layer-select').focus();
});

function cancelLayerForm() {
  /** @type {HTMLFormElement} */ ($('layer-form')).reset();
  show($('layer-form'), false);
  renderLayers();
  $('layer-select').focus();
}
$('layer-cancel').addEventListener('click', cancelLayerForm);
$('layer-form').addEventListener('keydown', (e) => {
  if (e.key === 'Escape') cancelLayerForm();
});

// ---- the grid -----------------------------------------------------------

async function reload() {
  const seq = ++loadSeq;
  const layer = app.layer;
  try {
    // At an app or machine, also what it inherits, per environment (masks
    // only). Without it (an older server), the layer's own rows as before.
    const [res, effective] = await Promise.all([api.list(layer), layer.app ? effectiveOf(layer) : null]);
    if (seq !== loadSeq) return; // a newer load (another layer) wins
    message($('global-error'), '');
    const all = effective ? layeredRows(layer, res.secrets, effective) : res.secrets;
    const rows = showInherited() ? all : all.filter((r) => r.origin !== 'inherited');
    inherited = rows.length - res.secrets.length;
    hiddenInherited = all.length - rows.length;
    show($('inherited-toggle'), !!effective);
    app.grid.set(rows, !!effective);
    const empty = res.secrets.length === 0;
    show($('empty'), empty);
    show($('grid-wrap'), rows.length > 0);
    if (empty) {
      $('empty-title').textContent = `No secrets at ${layer.app ? `the ${layerLabel(layer)}` : 'the Global'} layer yet`;
      $('empty-text').textContent = layer.app
        ? `Secrets you add here override global ones with the same name for ${layer.machine ? `machine ${layer.machine}` : `app ${layer.app}'s workloads`}.` +
          (inherited ? ` The ${inherited} secret${inherited === 1 ? '' : 's'} it inherits ${inherited === 1 ? 'is' : 'are'} listed below.` : '') +
          (hiddenInherited ? ` It inherits ${hiddenInherited} secret${hiddenInherited === 1 ? '' : 's'}: turn on Show inherited to list ${hiddenInherited === 1 ? 'it' : 'them'}.` : '')
        : 'Global secrets are shared by every app and machine of your organization. To start:';
    }
  } catch (err) {
    if (seq === loadSeq && err.status !== 401) app.error(err.message);
  }
}

// effectiveOf reads what a workload at layer receives in each environment;
// null if any of the three cannot be read.
async function effectiveOf(layer) {
  try {
    const answers = await Promise.all(ENVIRONMENTS.map((env) => api.effective(env, layer)));
    return Object.fromEntries(ENVIRONMENTS.map((env, i) => [env, answers[i]]));
  } catch (err) {
    if (err.status === 401) throw err;
    return null;
  }
}

// openRow opens a row: this layer's secret, or for an inherited row the
// secret it is inherited from, at its own layer, saying so.
function openRow(row) {
  if (row.origin !== 'inherited') return editor.open(row.id);
  const here = layerLabel(app.layer);
  editor.open(row.open.id, {
    rowId: row.id,
    note: `${row.name} is not set at the ${here} layer: this is the ${row.open.label} secret it inherits. A change here applies everywhere it is inherited; to override it for ${here} only, add ${row.name} at this layer.`,
  });
}

function counted(shown, total) {
  const own = total - inherited;
  $('count').textContent = total === 0 ? (hiddenInherited ? `No secrets here, ${hiddenInherited} inherited hidden` : 'No secrets')
    : shown !== total ? `${shown} of ${total} secrets match`
      : inherited ? `${own} secret${own === 1 ? '' : 's'} here, ${inherited} inherited`
        : hiddenInherited ? `${own} secret${own === 1 ? '' : 's'} here, ${hiddenInherited} inherited hidden`
          : `${total} secret${total === 1 ? '' : 's'}`;
}

// ---- Show inherited -------------------------------------------------------
// At an app or machine, the rows inherited from lower layers can be hidden
// to see only the layer's own; on by default, remembered in this tab.

const INHERITED_KEY = 'zwrm.showInherited';
const inheritedBox = /** @type {HTMLInputElement} */ ($('show-inherited'));
inheritedBox.checked = sessionStorage.getItem(INHERITED_KEY) !== 'off';
function showInherited() {
  return inheritedBox.checked;
}
inheritedBox.addEventListener('change', () => {
  sessionStorage.setItem(INHERITED_KEY, inheritedBox.checked ? 'on' : 'off');
  reload();
});

$('quick-search').addEventListener('input', (e) => app.grid?.search(/** @type {HTMLInputElement} */ (e.target).value));

// ---- dialogs ------------------------------------------------------------

adder = addDialog(app);
editor = editView(app);
$('add-secret').addEventListener('click', () => adder.open());
$('empty-add').addEventListener('click', () => adder.open());
screens = navigation({ tokens: tokensScreen(app), audit: auditScreen(), settings: settingsScreen(app) });

// ---- theme --------------------------------------------------------------

themeControl(/** @type {HTMLSelectElement} */ ($('theme-select')));

// ---- start --------------------------------------------------------------

(async function start() {
  const token = session.token();
  if (!token) return showSignIn('');
  try {
    const me = await api.me(token);
    if (me.kind !== 'user') return signOut('Sign in with a user token.');
    await enter(me);
  } catch (err) {
    if (err.status === 401) return signOut(`You have been signed out. ${err.message}`);
    showSignIn('');
    message($('signin-message'), err.message);
  }
})();
