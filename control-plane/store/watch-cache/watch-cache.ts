// WatchCache: a Store decorator that answers gets, lists and watches from memory, fed by one watch on the inner store.
import { systemClock, type Clock, type ClockTimer } from '../../../api/clock.js';
import { SharedKeyValue } from '../decoded-value.js';
import { CompactedError, type KeyValue, type ListOptions, type ListResult, type Store, type Watch, type WatchEvent, type WatchOptions } from '../store.js';
import { CacheWatcher } from './cache-watcher.js';
import { EventRing } from './event-ring.js';
import { listEverything, type Snapshot } from './list-everything.js';
import { listAsOf, listLabelled, listLatest } from './list-from-memory.js';
import { LiveKeys } from './live-keys.js';
import { RevisionWaiters } from './revision-waiters.js';

export interface WatchCacheOptions {
  /** Recent events kept for watches and older-revision lists; older watches get CompactedError. Default 50,000. */
  historyEvents?: number;
  /** Keys per page when (re)listing the inner store. Default 1000. */
  listPageSize?: number;
  /** Events a watcher looks at before yielding to the event loop. Default 1000. */
  deliveryChunkEvents?: number;
  /** Backoff before re-watching or relisting the inner store after its watch fails: 0 first, then this doubling. Default 100 ms. */
  retryInitialDelayMs?: number;
  /** Default 5 s. */
  retryMaxDelayMs?: number;
  clock?: Clock;
}

/** Lists `inner` entirely, then follows it; the cache owns `inner` and closes it. */
export async function openWatchCache(inner: Store, options: WatchCacheOptions = {}): Promise<WatchCache> {
  const snapshot = await listEverything(inner, options.listPageSize ?? 1000);
  return new WatchCache(inner, snapshot, options);
}

export class WatchCache implements Store {
  readonly #inner: Store;
  readonly #ring: EventRing;
  readonly #waiters = new RevisionWaiters();
  readonly #watchers = new Set<CacheWatcher>();
  readonly #pageSize: number;
  readonly #chunkEvents: number;
  readonly #retryInitialDelayMs: number;
  readonly #retryMaxDelayMs: number;
  readonly #clock: Clock;
  #live: LiveKeys;
  /** Every inner event up to this revision is in #live (and in #ring, above its floor). */
  #applied: number;
  #innerWatch: Watch | undefined;
  /** Bumped per inner watch, so a superseded watch's late callbacks are ignored. */
  #innerGeneration = 0;
  #isRelistNeeded = false;
  #consecutiveFailures = 0;
  #retryTimer: ClockTimer | undefined;
  #isDeliveryScheduled = false;
  #isClosed = false;
  #relists = 0;

  constructor(inner: Store, snapshot: Snapshot, options: WatchCacheOptions = {}) {
    this.#inner = inner;
    this.#ring = new EventRing(options.historyEvents ?? 50_000, snapshot.revision);
    this.#live = new LiveKeys(snapshot.items);
    this.#applied = snapshot.revision;
    this.#pageSize = options.listPageSize ?? 1000;
    this.#chunkEvents = options.deliveryChunkEvents ?? 1000;
    this.#retryInitialDelayMs = options.retryInitialDelayMs ?? 100;
    this.#retryMaxDelayMs = options.retryMaxDelayMs ?? 5000;
    this.#clock = options.clock ?? systemClock;
    this.#watchInner(snapshot.revision);
  }

  /** The revision the cache has applied (what reads answer at). */
  get revision(): number {
    return this.#applied;
  }

  /** How often the inner store was listed again after its history was lost (not counting the first list). */
  get relists(): number {
    return this.#relists;
  }

  async create(key: string, value: string): Promise<number> {
    return this.#visible(await this.#inner.create(key, value));
  }

  async get(key: string): Promise<KeyValue | undefined> {
    return this.#live.get(key);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const revision = options.revision || this.#applied;
    if (revision === this.#applied && options.containing !== undefined && !options.limit && !options.startKey) {
      const items = this.#live.containing(prefix, options.containing);
      if (items) return { items, revision, more: false };
    }
    if (revision === this.#applied && options.labels?.length) {
      const page = listLabelled(this.#live, prefix, options, options.labels, revision);
      if (page) return page;
    }
    if (revision === this.#applied) return listLatest(this.#live, prefix, options, revision);
    if (revision >= this.#ring.floorRevision && revision < this.#applied) return listAsOf(this.#live, this.#ring, prefix, options, revision);
    // Older than the ring, or newer than the cache has seen: the inner store answers (or refuses).
    return this.#inner.list(prefix, options);
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<number> {
    return this.#visible(await this.#inner.update(key, value, expectedModRevision));
  }

  async delete(key: string, expectedModRevision?: number): Promise<{ revision: number; prev: KeyValue }> {
    const deleted = await this.#inner.delete(key, expectedModRevision);
    await this.#visible(deleted.revision);
    return deleted;
  }

  watch(prefix: string, options: WatchOptions, onEvent: (event: WatchEvent) => void, onError?: (error: Error) => void): Watch {
    if (this.#isClosed) throw new Error('the store is closed');
    const fromRevision = options.fromRevision ?? this.#applied;
    const signal = options.signal;
    const onAbort = (): void => watcher.cancel();
    const watcher = new CacheWatcher(prefix, fromRevision, this.#ring, this.#chunkEvents, {
      onEvent,
      onError,
      onClose: (closed) => {
        this.#watchers.delete(closed);
        signal?.removeEventListener('abort', onAbort);
      },
    });
    this.#watchers.add(watcher);
    if (signal?.aborted) watcher.cancel();
    else signal?.addEventListener('abort', onAbort, { once: true });
    // Never call back before watch() has returned the handle.
    const floor = this.#ring.floorRevision;
    if (fromRevision < floor) queueMicrotask(() => watcher.end(new CompactedError(fromRevision, floor)));
    else queueMicrotask(() => watcher.pump());
    return watcher;
  }

  async currentRevision(): Promise<number> {
    return this.#applied;
  }

  async compact(revision: number): Promise<void> {
    await this.#inner.compact(revision);
    // The ring gives up the same history, so watches and lists below the horizon fail as the inner store's do.
    const horizon = Math.min(revision, this.#applied);
    if (horizon <= this.#ring.floorRevision) return;
    this.#ring.dropThrough(horizon);
    for (const watcher of [...this.#watchers]) watcher.endIfCompactedPast(horizon);
  }

  /** The higher of the inner store's horizon and the ring's: watches below it get CompactedError. */
  async compactedRevision(): Promise<number> {
    return Math.max(await this.#inner.compactedRevision(), this.#ring.floorRevision);
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#retryTimer?.cancel();
    this.#innerWatch?.cancel();
    for (const watcher of [...this.#watchers]) watcher.cancel();
    this.#waiters.releaseAll();
    await this.#inner.close();
  }

  /** Read-your-writes: a write resolves only once the cache has applied it. */
  async #visible(revision: number): Promise<number> {
    if (revision > this.#applied && !this.#isClosed) await this.#waiters.until(revision);
    return revision;
  }

  #watchInner(fromRevision: number): void {
    const generation = ++this.#innerGeneration;
    const isCurrent = (): boolean => generation === this.#innerGeneration && !this.#isClosed;
    try {
      this.#innerWatch = this.#inner.watch(
        '',
        { fromRevision },
        (event) => isCurrent() && this.#apply(event),
        (error) => isCurrent() && this.#recover(error),
      );
    } catch (error) {
      this.#recover(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #apply(event: WatchEvent): void {
    const revision = event.kv.modRevision;
    if (revision <= this.#applied) return; // a resumed inner watch may repeat the last event
    const current = this.#live.get(event.kv.key);
    const shared = shareEvent(event, current);
    if (shared.type === 'delete') this.#live.delete(shared.kv.key);
    else this.#live.put(shared.kv as SharedKeyValue);
    current?.release(); // superseded: its readers keep what they decoded, the cache does not
    this.#ring.push(shared);
    this.#applied = revision;
    this.#consecutiveFailures = 0;
    this.#waiters.advance(revision);
    if (this.#isDeliveryScheduled) return;
    // One microtask per burst of inner events, so watchers see a whole batch at once.
    this.#isDeliveryScheduled = true;
    queueMicrotask(() => {
      this.#isDeliveryScheduled = false;
      for (const watcher of this.#watchers) watcher.pump();
    });
  }

  /**
   * The inner watch ended. Watching again from the applied revision continues exactly; only when
   * the inner store no longer has that history (CompactedError) does the cache relist.
   */
  #recover(error: Error): void {
    this.#innerWatch?.cancel();
    this.#innerWatch = undefined;
    this.#innerGeneration++;
    if (error instanceof CompactedError) this.#isRelistNeeded = true;
    const failures = this.#consecutiveFailures++;
    const delayMs = failures === 0 ? 0 : Math.min(this.#retryMaxDelayMs, this.#retryInitialDelayMs * 2 ** (failures - 1));
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#isClosed) return;
      if (this.#isRelistNeeded) void this.#relist();
      else this.#watchInner(this.#applied);
    }, delayMs);
  }

  async #relist(): Promise<void> {
    let snapshot: Snapshot;
    try {
      snapshot = await listEverything(this.#inner, this.#pageSize);
    } catch (error) {
      if (!this.#isClosed) this.#recover(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (this.#isClosed) return;
    this.#isRelistNeeded = false;
    this.#relists++;
    // The same revision means nothing was written meanwhile: memory, ring and watchers stay exact.
    if (snapshot.revision !== this.#applied) {
      this.#live = new LiveKeys(snapshot.items);
      this.#ring.reset(snapshot.revision);
      this.#applied = snapshot.revision;
      // The events in between are unknown: every watcher ends, and its client relists (410 Gone).
      for (const watcher of [...this.#watchers]) watcher.end(new CompactedError(watcher.cursorRevision, snapshot.revision));
      this.#waiters.advance(snapshot.revision);
    }
    this.#watchInner(snapshot.revision);
  }
}

/**
 * The event every reader gets, frozen so none may change what another sees. A put's value becomes a
 * SharedKeyValue (decoded at most once for all readers while it is the key's value). The ring would
 * otherwise hold each value twice (as one event's kv and the next one's prevKv, read separately from
 * the inner store): prevKv, and a delete's kv, point at the value already held. A delete's kv is a
 * plain frozen KeyValue: nothing supersedes it, so a decoded copy kept on it would live as long as
 * the ring holds the event.
 */
function shareEvent(event: WatchEvent, current: SharedKeyValue | undefined): WatchEvent {
  const isCurrent = current !== undefined && event.prevKv?.modRevision === current.modRevision && event.prevKv.value === current.value;
  const prevKv = isCurrent ? current : event.prevKv && Object.freeze(event.prevKv);
  const kv = event.type === 'put' ? new SharedKeyValue(event.kv)
    : Object.freeze(isCurrent ? { key: current.key, value: current.value, createRevision: current.createRevision, modRevision: event.kv.modRevision } : event.kv);
  return Object.freeze(prevKv ? { ...event, kv, prevKv } : { ...event, kv });
}
