// LiveKeys: every live key's latest KeyValue, by key and in key order, kept current by applying events.
import { SharedKeyValue } from '../decoded-value.js';
import type { KeyValue, LabelHint } from '../store.js';
import { LabelIndex } from './label-index.js';
import { SortedKeys } from './sorted-keys.js';

/** Pods are indexed by the node they are bound to, as kube's watch cache does: what a node's desired state reads. */
const INDEXED_PREFIX = '/registry/core/pods/';
const NODE_NAME = '"nodeName":"';

/** Every `"nodeName":"X"` in a stored pod (a superset of its spec.nodeName: callers still filter). */
function nodeNeedles(key: string, value: string): string[] {
  if (!key.startsWith(INDEXED_PREFIX)) return [];
  const needles: string[] = [];
  for (let at = value.indexOf(NODE_NAME); at >= 0; at = value.indexOf(NODE_NAME, at + NODE_NAME.length)) {
    const end = value.indexOf('"', at + NODE_NAME.length);
    if (end < 0) break;
    needles.push(value.slice(at, end + 1));
  }
  return needles;
}

export class LiveKeys {
  readonly #values: Map<string, SharedKeyValue>;
  readonly #order: SortedKeys;
  /** `"nodeName":"X"` -> the pod keys whose value contains it. */
  readonly #byNode = new Map<string, Set<string>>();
  readonly #byLabel = new LabelIndex();

  constructor(items: readonly KeyValue[] = []) {
    this.#values = new Map(items.map((kv) => [kv.key, new SharedKeyValue(kv)]));
    this.#order = SortedKeys.from([...this.#values.keys()]);
    for (const kv of this.#values.values()) {
      this.#index(kv, true);
      this.#byLabel.set(kv.key, kv);
    }
  }

  get size(): number {
    return this.#values.size;
  }

  get(key: string): SharedKeyValue | undefined {
    return this.#values.get(key);
  }

  /** `kv` is the key's value now. */
  put(kv: SharedKeyValue): void {
    const key = kv.key;
    const previous = this.#values.get(key);
    if (previous) this.#index(previous, false);
    else this.#order.insert(key);
    this.#values.set(key, kv);
    this.#index(kv, true);
    this.#byLabel.set(key, kv, previous?.value);
  }

  delete(key: string): void {
    const previous = this.#values.get(key);
    if (!previous) return;
    this.#index(previous, false);
    this.#values.delete(key);
    this.#order.delete(key);
    this.#byLabel.set(key, undefined);
  }

  /**
   * Up to `limit` values under the folder `prefix`, from `start` on, in key order, that may match
   * the label hints (a superset: callers filter); undefined when the label index cannot answer.
   */
  labelled(prefix: string, hints: readonly LabelHint[], start: string, limit?: number): Readonly<KeyValue>[] | undefined {
    const candidates = this.#byLabel.candidates(prefix, hints);
    if (!candidates) return undefined;
    const keys = [...candidates].filter((k) => k >= start).sort();
    return (limit === undefined ? keys : keys.slice(0, limit)).map((k) => this.#values.get(k)!);
  }

  /**
   * The live values under `prefix` that contain `needle`, in key order, from the index; undefined
   * when no index answers that question (the caller scans instead).
   */
  containing(prefix: string, needle: string): Readonly<KeyValue>[] | undefined {
    if (!needle.startsWith(NODE_NAME) || !prefix.startsWith(INDEXED_PREFIX)) return undefined;
    const keys = [...(this.#byNode.get(needle) ?? [])].filter((k) => k.startsWith(prefix)).sort();
    return keys.map((k) => this.#values.get(k)!);
  }

  #index(kv: Readonly<KeyValue>, add: boolean): void {
    for (const needle of nodeNeedles(kv.key, kv.value)) {
      let keys = this.#byNode.get(needle);
      if (add) {
        if (!keys) this.#byNode.set(needle, (keys = new Set()));
        keys.add(kv.key);
      } else if (keys) {
        keys.delete(kv.key);
        if (keys.size === 0) this.#byNode.delete(needle);
      }
    }
  }

  /** Up to `limit` values with start <= key < end, in key order. */
  range(start: string, end: string | undefined, limit?: number): Readonly<KeyValue>[] {
    return this.#order.range(start, end, limit).map((key) => this.#values.get(key)!);
  }
}
