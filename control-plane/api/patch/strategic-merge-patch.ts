// Strategic merge patch for the kinds skiff serves: lists merged by their Kubernetes merge keys, and the
// $patch, $retainKeys, $setElementOrder and $deleteFromPrimitiveList directives. Where the object's
// kind is known, each list merges as its type declares (patch strategy and merge key, list-types.ts);
// objects of unknown kinds fall back to merge keys by field name.
import { typedField, typedItems, typedList, typedRoot, type Typed } from '../../resources/schema/typed-walk.js';
import { isPlainObject } from './merge-patch.js';

/** Merge key per list field name, for untyped objects; `ports` depends on where it sits (container vs service). */
export function mergeKeyFor(path: string[], field: string): string | undefined {
  switch (field) {
    case 'containers': case 'initContainers': case 'ephemeralContainers': case 'volumes': case 'env':
    case 'imagePullSecrets': case 'resourceClaims': case 'schedulingGates':
      return 'name';
    case 'volumeMounts': return 'mountPath';
    case 'volumeDevices': return 'devicePath';
    case 'ports': return path.some((p) => p === 'containers' || p === 'initContainers' || p === 'ephemeralContainers') ? 'containerPort' : 'port';
    case 'conditions': return 'type';
    case 'ownerReferences': return 'uid';
    case 'hostAliases': return 'ip';
    case 'topologySpreadConstraints': return 'topologyKey';
    case 'taints': return 'key';
    case 'addresses': return 'type';
    default: return undefined;
  }
}

/** Primitive lists whose patchStrategy is merge (union) rather than replace. */
export const mergedPrimitiveLists: ReadonlySet<string> = new Set(['finalizers']);

export function applyStrategicMergePatch(original: unknown, patch: unknown): unknown {
  const t = typedRoot(original);
  return mergeValue([], t.model ? t : typedRoot(patch), original, patch);
}

/** How list `field` of a map merges: by a key, as a set of primitives (union), or replaced. */
function listMerge(path: string[], t: Typed, field: string): { key?: string; union: boolean } {
  const typed = typedList(t, field);
  if (typed) {
    const merge = typed.patchStrategy?.startsWith('merge') ?? false;
    return merge && typed.patchMergeKey ? { key: typed.patchMergeKey, union: false } : { union: merge };
  }
  if (t.model) return { union: false }; // a typed place without a list here
  const key = mergeKeyFor(path, field);
  return key ? { key, union: false } : { union: mergedPrimitiveLists.has(field) };
}

function mergeValue(path: string[], t: Typed, original: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return strip(patch);
  return mergeMap(path, t, isPlainObject(original) ? original : {}, patch);
}

function mergeMap(path: string[], t: Typed, original: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> | undefined {
  const directive = patch['$patch'];
  if (directive === 'replace') return strip(patch) as Record<string, unknown>;
  if (directive === 'delete') return undefined;
  const result: Record<string, unknown> = { ...original };
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) {
      delete result[key];
    } else if (Array.isArray(value)) {
      result[key] = mergeList([...path, key], t, key, result[key], value);
    } else if (isPlainObject(value)) {
      const merged = mergeMap([...path, key], typedField(t, key), isPlainObject(result[key]) ? result[key] : {}, value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else result[key] = value;
  }
  for (const [key, value] of Object.entries(patch)) {
    const del = /^\$deleteFromPrimitiveList\/(.+)$/.exec(key);
    if (del && Array.isArray(value) && Array.isArray(result[del[1]!])) {
      result[del[1]!] = (result[del[1]!] as unknown[]).filter((v) => !value.includes(v));
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    const order = /^\$setElementOrder\/(.+)$/.exec(key);
    if (order && Array.isArray(value) && Array.isArray(result[order[1]!])) {
      result[order[1]!] = reorder(result[order[1]!] as unknown[], value, listMerge(path, t, order[1]!).key);
    }
  }
  const retain = patch['$retainKeys'];
  if (Array.isArray(retain)) for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  return result;
}

function mergeList(path: string[], t: Typed, field: string, original: unknown, patch: unknown[]): unknown[] {
  const current = Array.isArray(original) ? original : [];
  const { key, union } = listMerge(path.slice(0, -1), t, field);
  const items = typedItems(typedField(t, field));
  if (patch.some((p) => isPlainObject(p) && p['$patch'] === 'replace' && (key === undefined || !(key in p)))) {
    return patch.filter((p) => !(isPlainObject(p) && p['$patch'] === 'replace')).map(strip);
  }
  if (!key) {
    if (union) return [...current, ...patch.filter((v) => !current.includes(v))];
    return patch.map(strip);
  }
  const result = [...current];
  for (const item of patch) {
    if (!isPlainObject(item)) continue;
    const index = result.findIndex((r) => isPlainObject(r) && r[key] === item[key]);
    if (item['$patch'] === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      const merged = mergeMap(path, items, result[index] as Record<string, unknown>, item);
      if (merged === undefined) result.splice(index, 1);
      else result[index] = merged;
    } else result.push(strip(item));
  }
  return result;
}

/** Orders `list` as `order` says; elements the order does not mention keep their place at the end. */
function reorder(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const id = (v: unknown) => (key && isPlainObject(v) ? v[key] : v);
  const wanted = order.map(id);
  const ranked = list.map((v, i) => ({ v, rank: wanted.indexOf(id(v)), i }));
  ranked.sort((a, b) => (a.rank < 0 ? Infinity : a.rank) - (b.rank < 0 ? Infinity : b.rank) || a.i - b.i);
  return ranked.map((r) => r.v);
}

/** Drops directive keys from a value that is inserted as-is. */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!k.startsWith('$') && v !== null) out[k] = strip(v);
  return out;
}
