// The indexes an informer keeps over its objects: by namespace, by owner UID, by spec.nodeName and by
// label (`key=value`), so readers find "the pods of this node" or "the children of this owner"
// without a scan. Every index maps a value to the set of object keys carrying it.
import type { KubeObject } from '../../api/types/meta.js';

export type IndexName = 'namespace' | 'owner' | 'node' | 'label';

/** The values an object is indexed under, per index. */
function indexValues(obj: KubeObject): Record<IndexName, string[]> {
  const meta = obj.metadata;
  const nodeName = (obj as { spec?: { nodeName?: unknown } }).spec?.nodeName;
  return {
    namespace: meta.namespace ? [meta.namespace] : [],
    owner: (meta.ownerReferences ?? []).map((r) => r.uid).filter((uid): uid is string => typeof uid === 'string'),
    node: typeof nodeName === 'string' && nodeName ? [nodeName] : [],
    label: Object.entries(meta.labels ?? {}).map(([k, v]) => `${k}=${v}`),
  };
}

export class InformerIndexes {
  readonly #indexes: Record<IndexName, Map<string, Set<string>>> = {
    namespace: new Map(), owner: new Map(), node: new Map(), label: new Map(),
  };

  /** Moves `key` from the values of `before` to those of `after` (either may be absent). */
  update(key: string, before: KubeObject | undefined, after: KubeObject | undefined): void {
    const old = before ? indexValues(before) : undefined;
    const next = after ? indexValues(after) : undefined;
    for (const name of Object.keys(this.#indexes) as IndexName[]) {
      const index = this.#indexes[name];
      const was = old?.[name] ?? [];
      const now = next?.[name] ?? [];
      if (was.length === now.length && was.every((v, i) => v === now[i])) continue;
      for (const v of was) {
        if (now.includes(v)) continue;
        const keys = index.get(v);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(v);
      }
      for (const v of now) {
        let keys = index.get(v);
        if (!keys) index.set(v, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  keys(name: IndexName, value: string): ReadonlySet<string> {
    return this.#indexes[name].get(value) ?? EMPTY;
  }

  clear(): void {
    for (const index of Object.values(this.#indexes)) index.clear();
  }
}

const EMPTY: ReadonlySet<string> = new Set();
