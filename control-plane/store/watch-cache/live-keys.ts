// LiveKeys: every live key's latest KeyValue, by key and in key order, kept current by applying events.
import type { KeyValue, WatchEvent } from '../store.js';
import { SortedKeys } from './sorted-keys.js';

export class LiveKeys {
  readonly #values: Map<string, Readonly<KeyValue>>;
  readonly #order: SortedKeys;

  constructor(items: readonly KeyValue[] = []) {
    this.#values = new Map(items.map((kv) => [kv.key, Object.freeze(kv)]));
    this.#order = SortedKeys.from([...this.#values.keys()]);
  }

  get size(): number {
    return this.#values.size;
  }

  get(key: string): Readonly<KeyValue> | undefined {
    return this.#values.get(key);
  }

  apply(event: WatchEvent): void {
    const key = event.kv.key;
    if (event.type === 'delete') {
      if (this.#values.delete(key)) this.#order.delete(key);
      return;
    }
    if (!this.#values.has(key)) this.#order.insert(key);
    this.#values.set(key, event.kv);
  }

  /** Up to `limit` values with start <= key < end, in key order. */
  range(start: string, end: string | undefined, limit?: number): Readonly<KeyValue>[] {
    return this.#order.range(start, end, limit).map((key) => this.#values.get(key)!);
  }
}
