// AdmissionReads: the small collections every pod create consults (LimitRanges and ResourceQuotas of its
// namespace, PriorityClasses), read from the store without ResourceStore.list and decoded once per change.
import type { KubeObject } from '../../api/types/meta.js';
import type { KeyValue, Store } from '../store/store.js';
import { collectionPrefix, decodeObject, sharedObject } from './resource-keys.js';
import type { ResourceType } from './resource-types.js';

interface Decoded {
  kvs: readonly KeyValue[];
  objects: readonly KubeObject[];
}

/**
 * Each read is a list of the store at its current revision (the watch cache answers it from memory,
 * a range of its sorted keys: nothing for the usual empty namespace), so answers are exactly what a
 * list gives, writes included. What it saves: selector parsing, paging and yields of
 * ResourceStore.list, and decoding objects that have not changed since the last read (the cache
 * hands back the same KeyValue objects until a key changes). The objects are frozen: shared by
 * every admission that reads them.
 */
export class AdmissionReads {
  readonly #store: Store;
  readonly #decoded = new Map<string, Decoded>();
  /** A namespace's stored value -> whether it is being deleted; the watch cache hands back the same KeyValue until it changes. */
  readonly #terminating = new WeakMap<KeyValue, boolean>();

  constructor(store: Store) {
    this.#store = store;
  }

  async list<T extends KubeObject>(type: ResourceType, namespace?: string): Promise<readonly T[]> {
    if (type.storageVersion) throw new Error(`AdmissionReads does not convert ${type.plural}`);
    const prefix = collectionPrefix(type, namespace);
    const { items } = await this.#store.list(prefix);
    if (items.length === 0) {
      this.#decoded.delete(prefix);
      return [];
    }
    const known = this.#decoded.get(prefix);
    if (known && sameValues(known.kvs, items)) return known.objects as readonly T[];
    const objects = items.map((kv) => sharedObject<T>(kv));
    this.#decoded.set(prefix, { kvs: items, objects });
    return objects;
  }

  /**
   * Whether `kv` (a Namespace as stored) is being deleted: decoded once per stored value, not once per
   * pod create (every create in a namespace asks, twice). A store that hands out a new KeyValue per
   * read (bare SQLite) gets it decoded each time, as before.
   */
  isTerminating(kv: KeyValue): boolean {
    let terminating = this.#terminating.get(kv);
    if (terminating === undefined) {
      terminating = Boolean(decodeObject(kv).metadata.deletionTimestamp);
      this.#terminating.set(kv, terminating);
    }
    return terminating;
  }
}

function sameValues(a: readonly KeyValue[], b: readonly KeyValue[]): boolean {
  return a.length === b.length && a.every((kv, i) => kv === b[i] || (kv.key === b[i]!.key && kv.modRevision === b[i]!.modRevision));
}
