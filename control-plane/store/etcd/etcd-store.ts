// EtcdStore: the Store on an etcd v3 cluster (the etcd3 client); its revision is etcd's revision.
import { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, noop, type IBackoff } from 'cockatiel';
import { Etcd3, isRecoverableError, type IOptions } from 'etcd3';
import { systemClock, type Clock, type ClockTimer } from '../../../api/clock.js';
import { CompactedError, type KeyValue, type ListOptions, type ListResult, type Store, type Watch, type WatchEvent, type WatchOptions } from '../store.js';
import { EtcdCalls } from './etcd-calls.js';
import { isCompactedError, readCompactedRevision } from './etcd-compaction.js';
import { EtcdKeys } from './etcd-keys.js';
import { EtcdWatch } from './etcd-watch.js';
import { createKey, deleteKey, updateKey } from './etcd-writes.js';

export interface EtcdStoreOptions {
  /** Client URLs, e.g. ['http://127.0.0.1:2379']. */
  endpoints: string[];
  /** Prepended to every key, so several control planes (or tests) can share one cluster. Default ''. */
  prefix?: string;
  /** Deadline for each store call, its retries after transient faults included. Default 10 s. */
  callTimeoutMs?: number;
  /** Backoff between retries of a call (and the longest wait before a watch stream reconnects). */
  retryDelayMs?: { initial: number; max: number };
  /**
   * Every interval, history is compacted up to the revision seen one interval before (as
   * kube-apiserver compacts etcd), so a watch less than an interval behind never loses it. 0
   * disables it. Default 5 minutes.
   */
  compactIntervalMs?: number;
  clock?: Clock;
}

/**
 * etcd3's defaults, a breaker per host (open 5 s after 3 failures) under a global retry (3 tries),
 * turned one slow call into 5 s of total outage on a one-member cluster: every call then failed with
 * "circuit breaker is open" (and a write was replayed blindly). Here: a breaker only where there is
 * another member to go to, no global retry (EtcdCalls retries, per kind of call), and a watch stream
 * that reconnects within a second or two rather than 30 s, since the watch cache's writes wait on it.
 */
function faultHandling(endpoints: string[], maxDelayMs: number): IOptions['faultHandling'] {
  const breaker = () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(5) });
  return {
    host: () => (endpoints.length > 1 ? breaker() : noop),
    global: noop,
    // etcd3 calls .next() on this (a factory, as its own default) though its types say IBackoff
    watchBackoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: maxDelayMs }) as unknown as IBackoff<unknown>,
  };
}

/** The largest message taken from etcd (as kube-apiserver's etcd client: math.MaxInt32). */
const MAX_MESSAGE_BYTES = 2 ** 31 - 1;

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
  readonly #calls: EtcdCalls;
  readonly #watches = new Set<EtcdWatch>();
  readonly #compactTimer: ClockTimer | undefined;
  /** The revision seen at the last compaction tick: the next tick compacts up to it. */
  #compactNext = 0;

  constructor(options: EtcdStoreOptions) {
    const callTimeoutMs = options.callTimeoutMs ?? 10_000;
    const delays = options.retryDelayMs ?? { initial: 50, max: 1_000 };
    this.#client = new Etcd3({
      hosts: options.endpoints,
      // a backstop: EtcdCalls gives each attempt the deadline left of its call
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
      faultHandling: faultHandling(options.endpoints, Math.max(delays.max, 2_000)),
      // A watch that catches up gets up to 1,000 revisions per message, each with its previous value:
      // past gRPC's default 4 MiB limit the stream failed (RESOURCE_EXHAUSTED), resumed at the same
      // revision, failed again, forever (and tripped the breaker). kube-apiserver allows MaxInt32 too.
      grpcOptions: { 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES },
    });
    this.#keys = new EtcdKeys(options.prefix ?? '');
    const clock = options.clock ?? systemClock;
    this.#calls = new EtcdCalls({ timeoutMs: callTimeoutMs, initialDelayMs: delays.initial, maxDelayMs: delays.max, clock });
    const intervalMs = options.compactIntervalMs ?? 5 * 60_000;
    if (intervalMs > 0) this.#compactTimer = clock.setInterval(() => void this.#compactOldHistory(), intervalMs);
  }

  async #compactOldHistory(): Promise<void> {
    // A failure (etcd unavailable) is tried again next interval.
    try {
      const target = this.#compactNext;
      this.#compactNext = await this.currentRevision();
      if (target > 0) await this.compact(target);
    } catch {
      // next interval
    }
  }

  get #writer() {
    return { client: this.#client, keys: this.#keys, calls: this.#calls };
  }

  create(key: string, value: string): Promise<number> {
    return createKey(this.#writer, key, value);
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const response = await this.#calls.read(`get ${key}`, (deadline) => this.#client.kv.range({ key: this.#keys.toEtcd(key) }, { deadline }));
    const kv = response.kvs[0];
    return kv ? this.#keys.toKeyValue(kv) : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const revision = options.revision || 0;
    const limit = options.limit !== undefined && options.limit > 0 ? options.limit : undefined;
    // One extra key tells whether more follow, and is exactly where the next page starts.
    const request = { ...this.#keys.range(prefix, options.startKey), revision, limit: limit === undefined ? 0 : limit + 1 };
    const response = await this.#calls
      .read(`list ${prefix}`, (deadline) => this.#client.kv.range(request, { deadline }))
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
    return updateKey(this.#writer, key, value, expectedModRevision);
  }

  delete(key: string, expectedModRevision?: number): Promise<{ revision: number; prev: KeyValue }> {
    return deleteKey(this.#writer, key, expectedModRevision);
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
    const response = await this.#calls.read('a revision read', (deadline) => this.#client.kv.range({ key: this.#keys.probeKey, count_only: true }, { deadline }));
    return Number(response.header.revision);
  }

  async compact(revision: number): Promise<void> {
    // As SqliteStore: clamped to the present, a no-op at or below the horizon.
    const target = Math.min(revision, await this.currentRevision());
    if (target <= 0) return;
    await this.#calls.read(`compact to ${target}`, (deadline) => this.#client.kv.compact({ revision: target, physical: true }, { deadline })).catch((error: unknown) => {
      if (!isCompactedError(error)) throw error;
    });
  }

  compactedRevision(): Promise<number> {
    return readCompactedRevision(this.#client, this.#keys.probeKey);
  }

  async close(): Promise<void> {
    this.#compactTimer?.cancel();
    for (const watch of [...this.#watches]) watch.cancel();
    this.#client.close();
  }
}
