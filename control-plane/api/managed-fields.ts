// Field ownership for server-side apply (structured-merge-diff's model): an object's fields as a set
// of paths (`f:name` map keys, `k:{"containerPort":80,"protocol":"TCP"}` items of list-maps by all
// their keys, `v:"x"` set items, `.` for a list item itself), typed by the kind's schema and the list
// types the Kubernetes types declare (list-types.ts: map, set, atomic; atomic maps such as label
// selectors), their fieldsV1 form, the paths one write changed, and managedFields entries kept per
// manager and operation. Untyped objects fall back to merge keys by field name.
import { mergeKeyFor, mergedPrimitiveLists } from './patch/strategic-merge-patch.js';
import type { KubeObject } from '../../api/types/meta.js';
import { ATOMIC_MAP_MODELS, isAtomicMapField, KEY_DEFAULTS, type ListSemantics } from '../resources/schema/list-types.js';
import { typedField, typedItems, typedList, typedRoot, type Typed } from '../resources/schema/typed-walk.js';
import { stableStringify } from '../resources/stable-stringify.js';

export type FieldPath = readonly string[];

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Fields the server owns or that identify the object: never tracked. */
const IGNORED_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp',
  'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName']);

/** Maps owned as a whole in untyped objects: label selectors. */
const ATOMIC_MAPS = new Set(['selector']);

export const pathKey = (path: FieldPath): string => JSON.stringify(path);
export const keyPath = (key: string): FieldPath => JSON.parse(key) as string[];

/** The leaf paths of `obj` (apiVersion, kind, identity metadata and, unless asked, status left out). */
export function fieldPaths(obj: unknown, options: { status?: boolean } = {}): Set<string> {
  const out = new Set<string>();
  if (!isMap(obj)) return out;
  const root = typedRoot(obj);
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || (k === 'status' && !options.status)) continue;
    if (k === 'metadata' && isMap(v)) {
      const meta = typedField(root, 'metadata');
      for (const [mk, mv] of Object.entries(v)) if (!IGNORED_META.has(mk)) walk(['metadata'], meta, mk, mv, [`f:metadata`], out);
      continue;
    }
    walk([], root, k, v, [], out);
  }
  return out;
}

/** How a list field merges: typed by the schema, else by the field's name. */
export function listSemanticsOf(parents: string[], t: Typed, field: string): ListSemantics {
  const typed = typedList(t, field);
  if (typed) return typed;
  if (t.model) return { listType: 'atomic' };
  const key = mergeKeyFor(parents, field);
  if (key) return { listType: 'map', keys: [key] };
  return mergedPrimitiveLists.has(field) ? { listType: 'set' } : { listType: 'atomic' };
}

/** An item's key fields (defaults filled in), sorted by name as structured-merge-diff writes them; undefined when one is missing. */
export function itemKey(item: unknown, keys: readonly string[]): Record<string, unknown> | undefined {
  if (!isMap(item)) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of [...keys].sort()) {
    const v = item[k] ?? KEY_DEFAULTS[k];
    if (v === undefined || v === null || typeof v === 'object') return undefined;
    out[k] = v;
  }
  return out;
}

const isAtomicMap = (parents: string[], t: Typed, field: string) => {
  const f = typedField(t, field);
  return t.model || f.model ? isAtomicMapField(t.model, field, f.model) : ATOMIC_MAPS.has(field) && parents[0] !== 'metadata';
};

function walk(parents: string[], t: Typed, field: string, value: unknown, prefix: string[], out: Set<string>): void {
  const here = [...prefix, `f:${field}`];
  if (value === null || value === undefined) return;
  if (isMap(value) && !isAtomicMap(parents, t, field)) {
    const entries = Object.entries(value);
    const inner = typedField(t, field);
    if (!entries.length || parents.at(-1) === 'labels' || parents.at(-1) === 'annotations') out.add(pathKey(here));
    for (const [k, v] of entries) walk([...parents, field], inner, k, v, here, out);
    return;
  }
  if (Array.isArray(value)) {
    const s = listSemanticsOf(parents, t, field);
    const keys = s.listType === 'map' ? value.map((item) => itemKey(item, s.keys ?? [])) : [];
    if (s.listType === 'map' && keys.every((k) => k !== undefined)) {
      const items = typedItems(typedField(t, field));
      value.forEach((item, i) => {
        const itemPath = [...here, `k:${JSON.stringify(keys[i])}`];
        // an atomic struct item (ownerReferences, subjects) is owned whole: the item, nothing inside
        if (items.model && ATOMIC_MAP_MODELS.has(items.model)) return void out.add(pathKey(itemPath));
        out.add(pathKey([...itemPath, '.']));
        for (const [k, v] of Object.entries(item as Record<string, unknown>)) walk([...parents, field], items, k, v, itemPath, out);
      });
      return;
    }
    if (s.listType === 'set' && value.every((v) => v !== null && typeof v !== 'object')) {
      for (const v of value) out.add(pathKey([...here, `v:${JSON.stringify(v)}`]));
      return;
    }
  }
  out.add(pathKey(here)); // a scalar, an atomic map or an atomic list
}

const matchesKey = (item: unknown, want: Record<string, unknown>) =>
  isMap(item) && Object.entries(want).every(([k, v]) => (item[k] ?? KEY_DEFAULTS[k]) === v);

/** The value a path names in `obj` (undefined when absent). */
export function valueAt(obj: unknown, path: FieldPath): unknown {
  let v: unknown = obj;
  for (const pe of path) {
    if (pe === '.') return v;
    if (pe.startsWith('f:')) v = isMap(v) ? v[pe.slice(2)] : undefined;
    else if (pe.startsWith('k:')) {
      const want = JSON.parse(pe.slice(2)) as Record<string, unknown>;
      v = Array.isArray(v) ? v.find((item) => matchesKey(item, want)) : undefined;
    } else if (pe.startsWith('v:')) {
      const want = JSON.parse(pe.slice(2)) as unknown;
      v = Array.isArray(v) && v.includes(want) ? want : undefined;
    }
    if (v === undefined) return undefined;
  }
  return v;
}

/** Removes what a path names from `obj` (in place): a field, a list item (`.`, or its key when atomic) or a set value. */
export function removePath(obj: unknown, path: FieldPath): void {
  const last = path.at(-1);
  if (last === undefined) return;
  if (last === '.') {
    const list = valueAt(obj, path.slice(0, -2));
    const item = valueAt(obj, path.slice(0, -1));
    if (Array.isArray(list)) list.splice(list.indexOf(item), 1);
    return;
  }
  const parent = valueAt(obj, path.slice(0, -1));
  if (last.startsWith('f:') && isMap(parent)) delete parent[last.slice(2)];
  else if (last.startsWith('v:') && Array.isArray(parent)) parent.splice(parent.indexOf(JSON.parse(last.slice(2))), 1);
  else if (last.startsWith('k:') && Array.isArray(parent)) { // an atomic item, owned whole
    const index = parent.indexOf(valueAt(obj, path));
    if (index >= 0) parent.splice(index, 1);
  }
}

/** Leaf paths of `next` whose value is new or differs from `previous`'s. */
export function changedPaths(previous: unknown, next: unknown, options: { status?: boolean } = {}): Set<string> {
  const out = new Set<string>();
  for (const key of fieldPaths(next, options)) {
    const path = keyPath(key);
    if (path.at(-1) === '.' ? valueAt(previous, path.slice(0, -1)) === undefined : !sameValue(valueAt(previous, path), valueAt(next, path))) out.add(key);
  }
  return out;
}

export const sameValue = (a: unknown, b: unknown): boolean => stableStringify(a ?? null) === stableStringify(b ?? null);

/** The set as fieldsV1 JSON: nested objects keyed by path elements. */
export function toFieldsV1(set: Iterable<string>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const key of [...set].sort()) {
    let node = root;
    for (const pe of keyPath(key)) node = (node[pe] ??= {}) as Record<string, unknown>;
  }
  return root;
}

export function fromFieldsV1(fields: unknown): Set<string> {
  const out = new Set<string>();
  const visit = (node: unknown, prefix: string[]) => {
    if (!isMap(node)) return;
    const entries = Object.entries(node);
    if (!entries.length && prefix.length) out.add(pathKey(prefix));
    for (const [pe, child] of entries) visit(child, [...prefix, pe]);
  };
  visit(fields, []);
  return out;
}

/** `.spec.template.spec.containers[name="web"].image`, as the real server names a path in conflicts. */
export function pathString(path: FieldPath): string {
  let out = '';
  for (const pe of path) {
    if (pe.startsWith('f:')) out += `.${pe.slice(2)}`;
    else if (pe.startsWith('k:')) out += `[${Object.entries(JSON.parse(pe.slice(2)) as Record<string, unknown>).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    else if (pe.startsWith('v:')) out += `[=${pe.slice(2)}]`;
  }
  return out;
}

export function managedEntries(obj: KubeObject): ManagedFieldsEntry[] {
  const entries = obj.metadata?.managedFields;
  return Array.isArray(entries) ? entries.filter((e): e is ManagedFieldsEntry => isMap(e) && typeof e['manager'] === 'string') : [];
}

const sameManager = (e: ManagedFieldsEntry, manager: string, operation: string, subresource: string | undefined) =>
  e.manager === manager && e.operation === operation && (e.subresource ?? undefined) === subresource;

/**
 * The managedFields after a write: `owned` become this manager's (its Apply entry is replaced by
 * `owned`; an Update entry gains them), other managers lose `taken` (all of `owned` for an update,
 * the forced conflicts for an apply), and entries left empty are dropped.
 */
export function recordOwnership(entries: readonly ManagedFieldsEntry[], write: {
  manager: string; operation: 'Apply' | 'Update'; apiVersion: string; time: string; owned: Set<string>; taken: Set<string>; subresource?: string;
}): ManagedFieldsEntry[] {
  const out: ManagedFieldsEntry[] = [];
  let mine: Set<string> | undefined;
  for (const e of entries) {
    const fields = fromFieldsV1(e.fieldsV1);
    if (sameManager(e, write.manager, write.operation, write.subresource)) {
      mine = write.operation === 'Apply' ? new Set() : fields;
      continue;
    }
    for (const k of write.taken) fields.delete(k);
    if (fields.size) out.push({ ...e, fieldsV1: toFieldsV1(fields) });
  }
  const owned = new Set([...(mine ?? []), ...write.owned]);
  if (owned.size) {
    out.push({
      manager: write.manager, operation: write.operation, apiVersion: write.apiVersion, time: write.time, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(owned),
      ...(write.subresource ? { subresource: write.subresource } : {}),
    });
  }
  return out;
}
