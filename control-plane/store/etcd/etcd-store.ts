// EtcdStore: the Store on an etcd v3 cluster (the etcd3 client); its revision is etcd's revision.
import { Etcd3 } from 'etcd3';
import { CompactedError, type KeyValue, type ListOptions, type ListResult, type Store, type Watch, type WatchEvent, type WatchOptions } from '../store.js';
import { isCompactedError, readCompactedRevision } from './etcd-compaction.js';
import { EtcdKeys } from './etcd-keys.js';
import { EtcdWatch } from './etcd-watch.js';
import { createKey, deleteKey, updateKey } from './etcd-writes.js';

export interface EtcdStoreOptions {
  /** Client URLs, e.g. ['http://127.0.0.1:2379']. */
  endpoints: string[];
  /** Prepended to every key, so several control planes (or tests) can share one cluster. Default ''. */
  prefix?: string;
  /** Deadline for each unary call. Default 10 s. */
  callTimeoutMs?: number;
}

export async function openEtcdStore(options: EtcdStoreOptions): Promise<EtcdStore> {
  const store = new EtcdStore(options);
  // Fail at startup, not on the first request, when the cluster is unreachable.
  await store.currentRevision().catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  return store;
}

export class EtcdStore implements Store {
  readonly #client: Etcd3;
  readonly #keys: EtcdKeys;
  readonly #watches = new Set<EtcdWatch>();

  constructor(options: EtcdStoreOptions) {
    const callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.#client = new Etcd3({
      hosts: options.endpoints,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    });
    this.#keys = new EtcdKeys(options.prefix ?? '');
  }

  create(key: string, value: string): Promise<number> {
    return createKey(this.#client, this.#keys, key, value);
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const response = await this.#client.kv.range({ key: this.#keys.toEtcd(key) });
    const kv = response.kvs[0];
    return kv ? this.#keys.toKeyValue(kv) : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const revision = options.revision || 0;
    const limit = options.limit !== undefined && options.limit > 0 ? options.limit : undefined;
    // One extra key tells whether more follow, and is exactly where the next page starts.
    const response = await this.#client.kv
      .range({ ...this.#keys.range(prefix, options.startKey), revision, limit: limit === undefined ? 0 : limit + 1 })
      .catch(async (error: unknown) => {
        if (!isCompactedError(error)) throw error;
        throw new CompactedError(revision, await this.compactedRevision());
      });
    const items = response.kvs.map((kv) => this.#keys.toKeyValue(kv));
    const readAt = revision || Number(response.header.revision);
    if (limit === undefined || items.length <= limit) return { items, revision: readAt, more: false };
    return { items: items.slice(0, limit), revision: readAt, more: true, nextKey: items[limit]!.key };
  }

  update(key: string, value: string, expectedModRevision: number): Promise<number> {
    return updateKey(this.#client, this.#keys, key, value, expectedModRevision);
  }

  delete(key: string, expectedModRevision?: number): Promise<{ revision: number; prev: KeyValue }> {
    return deleteKey(this.#client, this.#keys, key, expectedModRevision);
  }

  watch(prefix: string, options: WatchOptions, onEvent: (event: WatchEvent) => void, onError?: (error: Error) => void): Watch {
    const signal = options.signal;
    const onAbort = (): void => watch.cancel();
    const watch = new EtcdWatch(this.#client, this.#keys, prefix, options.fromRevision, {
      onEvent,
      onError,
      onClose: () => {
        this.#watches.delete(watch);
        signal?.removeEventListener('abort', onAbort);
      },
    });
    this.#watches.add(watch);
    if (signal?.aborted) watch.cancel();
    else signal?.addEventListener('abort', onAbort, { once: true });
    return watch;
  }

  async currentRevision(): Promise<number> {
    const response = await this.#client.kv.range({ key: this.#keys.probeKey, count_only: true });
    return Number(response.header.revision);
  }

  async compact(revision: number): Promise<void> {
    // As SqliteStore: clamped to the present, a no-op at or below the horizon.
    const target = Math.min(revision, await this.currentRevision());
    if (target <= 0) return;
    await this.#client.kv.compact({ revision: target, physical: true }).catch((error: unknown) => {
      if (!isCompactedError(error)) throw error;
    });
  }

  compactedRevision(): Promise<number> {
    return readCompactedRevision(this.#client, this.#keys.probeKey);
  }

  async close(): Promise<void> {
    for (const watch of [...this.#watches]) watch.cancel();
    this.#client.close();
  }
}
