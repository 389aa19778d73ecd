// What a workload at an app or machine layer receives, merged into the grid:
// the layer's own rows, marked where they override a lower layer, and the
// rows it inherits from lower layers, marked as inherited. Built from
// GET /v1/effective (masks only) for each environment.
import { ENVIRONMENTS } from './add.js';

const RANK = { global: 0, app: 1, machine: 2 };

/** kindOf is the kind of a layer ({app, machine}): global, app or machine. */
export const kindOf = (layer) => (layer.machine ? 'machine' : layer.app ? 'app' : 'global');

/** labelOf names the layer of kind in the chain of layer: "global", "app web", "machine web/web-1". */
export function labelOf(layer, kind) {
  if (kind === 'machine') return `machine ${layer.app}/${layer.machine}`;
  if (kind === 'app') return `app ${layer.app}`;
  return 'global';
}

/**
 * layeredRows merges a layer's own rows with what it inherits.
 * @param {{app: string, machine: string}} layer
 * @param {any[]} own the layer's rows (GET /v1/secrets)
 * @param {Record<string, any>} effective the answer of GET /v1/effective per environment (absent where it failed)
 * @returns {any[]} own rows with origin 'own' and a source text; inherited rows with origin 'inherited'
 */
export function layeredRows(layer, own, effective) {
  const here = kindOf(layer);
  /** @type {Map<string, Record<string, any>>} name → env → entry */
  const byName = new Map();
  for (const env of ENVIRONMENTS) {
    for (const entry of effective[env]?.secrets ?? []) {
      if (!byName.has(entry.name)) byName.set(entry.name, {});
      byName.get(entry.name)[env] = entry;
    }
  }
  const rows = own.map((row) => {
    const entries = byName.get(row.name) ?? {};
    byName.delete(row.name);
    // lower layer label → environments this row's value hides it in
    const hides = new Map();
    const from = new Map(); // environments this row has no value in, by the layer they come from
    for (const env of ENVIRONMENTS) {
      const e = entries[env];
      if (!e) continue;
      if (e.layer === here) {
        for (const o of e.overrides) add(hides, labelOf(layer, o.layer), env);
      } else {
        add(from, labelOf(layer, e.layer), env);
      }
    }
    const valued = ENVIRONMENTS.filter((env) => row.environments[env]);
    const overrides = describe(hides, valued);
    const parts = [];
    if (overrides) parts.push(`overrides ${overrides}`);
    for (const [label, envs] of from) parts.push(`${envs.join(', ')} from ${label}`);
    return { ...row, origin: 'own', source: parts.join('; ') || 'set here', overrides: overrides !== '' };
  });
  for (const [name, entries] of byName) {
    const winners = new Map();
    let open = null; // the nearest layer's secret: what a click opens
    const environments = { development: false, staging: false, production: false };
    for (const env of ENVIRONMENTS) {
      const e = entries[env];
      if (!e) continue;
      environments[env] = true;
      add(winners, labelOf(layer, e.layer), env);
      if (!open || RANK[e.layer] > RANK[open.layer]) open = e;
    }
    rows.push({
      id: `inherited:${name}`,
      name,
      description: '',
      app: null,
      machine: null,
      environments,
      owner: open.owner,
      created_at: null,
      origin: 'inherited',
      source: `inherited from ${describe(winners, ENVIRONMENTS.filter((env) => environments[env]))}`,
      open: { id: open.id, label: labelOf(layer, open.layer) },
    });
  }
  return rows;
}

function add(map, key, env) {
  if (!map.has(key)) map.set(key, []);
  map.get(key).push(env);
}

// describe lists layers, each with the environments it applies to unless
// that is every one of all: "global", "app web (production), global (development)".
function describe(map, all) {
  const parts = [];
  for (const [label, envs] of map) {
    const every = all.every((env) => envs.includes(env));
    parts.push(every ? label : `${label} (${envs.join(', ')})`);
  }
  return parts.join(', ');
}
