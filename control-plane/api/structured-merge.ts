// Merging an applied configuration into the live object as structured-merge-diff does for
// server-side apply: maps merge field by field (atomic maps such as label selectors are replaced),
// list-maps merge item by item on all their keys (`ports` by containerPort and protocol), sets take
// the union, atomic lists are replaced. Fields the applier stopped sending are pruned by the caller
// (field-ownership.ts), which knows who owns what.
import { ATOMIC_MAP_MODELS, isAtomicMapField } from '../resources/schema/list-types.js';
import { typedField, typedItems, typedRoot, type Typed } from '../resources/schema/typed-walk.js';
import { itemKey, listSemanticsOf, sameValue } from './managed-fields.js';

type Obj = Record<string, unknown>;
const isMap = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `live` with `config` applied (a new object; neither input is changed). */
export function mergeApplied(live: unknown, config: unknown): unknown {
  const t = typedRoot(live);
  return mergeValue([], t.model ? t : typedRoot(config), live, config, false);
}

function mergeValue(parents: string[], t: Typed, live: unknown, config: unknown, atomic: boolean): unknown {
  if (!isMap(config) || !isMap(live) || atomic) return structuredClone(config);
  const out: Obj = { ...live };
  for (const [field, value] of Object.entries(config)) {
    if (value === null || value === undefined) continue;
    const ft = typedField(t, field);
    if (Array.isArray(value)) out[field] = mergeList([...parents, field], t, field, live[field], value);
    else out[field] = mergeValue([...parents, field], ft, live[field], value, isAtomicMapField(t.model, field, ft.model));
  }
  return out;
}

function mergeList(path: string[], t: Typed, field: string, live: unknown, config: unknown[]): unknown[] {
  const current = Array.isArray(live) ? live : [];
  const s = listSemanticsOf(path.slice(0, -1), t, field);
  if (s.listType === 'set') return [...current, ...config.filter((v) => !current.some((c) => sameValue(c, v)))];
  const keyOf = (item: unknown) => (s.keys ? itemKey(item, s.keys) : undefined);
  if (s.listType !== 'map' || !config.every((item) => keyOf(item)) || !current.every((item) => keyOf(item))) return structuredClone(config);
  const items = typedItems(typedField(t, field));
  const out = [...current];
  for (const item of config) {
    const key = keyOf(item);
    const index = out.findIndex((c) => sameValue(keyOf(c), key));
    if (index >= 0) out[index] = mergeValue(path, items, out[index], item, items.model !== undefined && ATOMIC_MAP_MODELS.has(items.model));
    else out.push(structuredClone(item));
  }
  return out;
}
