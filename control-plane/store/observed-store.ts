// ObservedStore: a Store decorator that times every call to the driver (SQLite or etcd) for metrics.
// It sits under the watch cache, so it measures the backend, not reads the cache answers from memory.
import type { KeyValue, ListOptions, ListResult, Store, Watch, WatchEvent, WatchOptions } from './store.js';

export type StoreOperation = 'create' | 'get' | 'list' | 'update' | 'delete' | 'compact';

/** What the decorator reports (control-plane/metrics/store-metrics.ts). */
export interface StoreObserver {
  /** `ok` is false when the driver threw (a revision conflict counts: the backend answered it). */
  request(operation: StoreOperation, durationMs: number, ok: boolean): void;
}

export class ObservedStore implements Store {
  constructor(private readonly inner: Store, private readonly observer: StoreObserver) {}

  create(key: string, value: string): Promise<number> {
    return this.#timed('create', () => this.inner.create(key, value));
  }

  get(key: string): Promise<KeyValue | undefined> {
    return this.#timed('get', () => this.inner.get(key));
  }

  list(prefix: string, options?: ListOptions): Promise<ListResult> {
    return this.#timed('list', () => this.inner.list(prefix, options));
  }

  update(key: string, value: string, expectedModRevision: number): Promise<number> {
    return this.#timed('update', () => this.inner.update(key, value, expectedModRevision));
  }

  delete(key: string, expectedModRevision?: number): Promise<{ revision: number; prev: KeyValue }> {
    return this.#timed('delete', () => this.inner.delete(key, expectedModRevision));
  }

  watch(prefix: string, options: WatchOptions, onEvent: (event: WatchEvent) => void, onError?: (error: Error) => void): Watch {
    return this.inner.watch(prefix, options, onEvent, onError);
  }

  currentRevision(): Promise<number> {
    return this.inner.currentRevision();
  }

  compact(revision: number): Promise<void> {
    return this.#timed('compact', () => this.inner.compact(revision));
  }

  compactedRevision(): Promise<number> {
    return this.inner.compactedRevision();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async #timed<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> {
    const startedAt = performance.now(); // a measurement (sub-millisecond), not timed logic
    let ok = false;
    try {
      const result = await call();
      ok = true;
      return result;
    } finally {
      this.observer.request(operation, performance.now() - startedAt, ok);
    }
  }
}
