// SqliteStore: the embedded Store on one SQLite file (better-sqlite3, WAL), the only writer of that file.
import Database from 'better-sqlite3';
import { systemClock, type Clock, type ClockTimer } from '../../../api/clock.js';
import { prefixRangeEnd } from '../key-range.js';
import type { KeyValue, ListOptions, ListResult, Store, Watch, WatchEvent, WatchOptions } from '../store.js';
import { Checkpointer } from './checkpointer.js';
import { COMPACT_REVISION_META, deleteCompacted, recordHorizon, type CompactionPace } from './compact.js';
import { createKey } from './create.js';
import { deleteKey } from './delete.js';
import { isLive, rowToKeyValue } from './kv-row.js';
import { listKeys } from './list.js';
import { rowToEvent } from './replay.js';
import { applySchema, type SqliteSynchronous } from './schema.js';
import { prepareStatements, type SqliteStatements } from './sqlite-statements.js';
import { updateKey } from './update.js';
import { SqliteWatcher, type ReplaySource, type WatcherLimits } from './sqlite-watcher.js';

export interface SqliteStoreOptions {
  /** The database file (created if missing); ':memory:' for a throwaway store. */
  path: string;
  /** How often history older than `keepRevisions` is compacted; 0 disables it. Default 5 minutes. */
  compactIntervalMs?: number;
  /** Revisions of history kept for resuming watches. Default 1000 (as kine). */
  keepRevisions?: number;
  /** Default FULL: an acknowledged write survives power loss, not only a crash. */
  synchronous?: SqliteSynchronous;
  /**
   * Writes between checkpoints of the write-ahead log, which a worker thread runs (checkpointer.ts)
   * so the event loop never waits for one. Default 1000; 0: SQLite checkpoints inside the commits of
   * this connection (its wal_autocheckpoint default). Not used for ':memory:'.
   */
  checkpointWrites?: number;
  /**
   * Frames of the log past which the writing connection checkpoints itself when the worker has not
   * found the log wholly copied (see checkpointer.ts). Default 10,000 (~40 MB of 4 KB pages).
   */
  maxLogFrames?: number;
  /** The worker's PASSIVE passes per checkpoint at most (default MAX_PASSES, 8). */
  checkpointPasses?: number;
  /** Rows per compaction transaction and time per turn (compact.ts); the clock is `clock`. */
  compactionPace?: Pick<CompactionPace, 'chunkRevisions' | 'turnMs'>;
  /** Default 10,000 undelivered events per watcher; see WatcherLimits. */
  maxBufferedEventsPerWatcher?: number;
  clock?: Clock;
}

export function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  return Promise.resolve(new SqliteStore(options));
}

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #st: SqliteStatements;
  readonly #watchers = new Set<SqliteWatcher>();
  readonly #limits: WatcherLimits;
  readonly #keepRevisions: number;
  readonly #compactTimer: ClockTimer | undefined;
  readonly #replaySource: ReplaySource;
  /** The revision of the last committed write; the store is the file's only writer, so memory is authoritative. */
  #revision: number;
  #compactedRevision: number;
  #pending: Array<{ apply: (revision: number) => WatchEvent; resolve: (event: WatchEvent) => void; reject: (error: unknown) => void }> = [];
  readonly #checkpointer: Checkpointer | undefined;
  readonly #checkpointWrites: number;
  #writesSinceCheckpoint = 0;
  readonly #pace: CompactionPace;
  #deleting: Promise<void> = Promise.resolve();
  /** Transactions committed (each holds one or more writes): benchmarks compare it with writes. */
  batches = 0;
  /** Checkpoints this (the writing) connection ran itself, and the log frames they copied. */
  writerCheckpoints = 0;
  writerCheckpointFrames = 0;

  /** Checkpoints the worker thread finished (0 when this connection checkpoints itself). */
  get checkpoints(): number {
    return this.#checkpointer?.completed ?? 0;
  }

  /** The connection's durability mode, as SQLite reports it (FULL or NORMAL). */
  get synchronous(): SqliteSynchronous {
    return (this.#db.pragma('synchronous', { simple: true }) as number) === 2 ? 'FULL' : 'NORMAL';
  }

  constructor(options: SqliteStoreOptions) {
    this.#db = new Database(options.path);
    applySchema(this.#db, options.synchronous ?? 'FULL');
    this.#st = prepareStatements(this.#db);
    this.#checkpointWrites = options.checkpointWrites ?? 1000;
    if (this.#checkpointWrites > 0 && options.path !== ':memory:' && !this.#db.memory) {
      this.#db.pragma('wal_autocheckpoint = 0');
      const maxLogFrames = options.maxLogFrames ?? 10_000;
      this.#checkpointer = new Checkpointer(options.path, (worker) => {
        // a log the worker never found clean is never restarted: past the bound, copied here
        if (worker.clean || worker.log < maxLogFrames || !this.#db.open) return;
        const [own] = this.#db.pragma('wal_checkpoint(PASSIVE)') as Array<{ checkpointed: number }>;
        this.writerCheckpoints++;
        this.writerCheckpointFrames += Math.max(0, own!.checkpointed - worker.checkpointed);
      }, options.checkpointPasses, () => {
        // the worker is gone: this connection checkpoints inside its commits again
        if (this.#db.open) this.#db.pragma('wal_autocheckpoint = 1000');
      });
    }
    this.#revision = this.#st.sequence.get()?.seq ?? 0;
    this.#compactedRevision = this.#st.readMeta.get(COMPACT_REVISION_META)?.value ?? 0;
    this.#keepRevisions = options.keepRevisions ?? 1000;
    this.#limits = { maxBufferedEvents: options.maxBufferedEventsPerWatcher ?? 10_000, replayPageSize: 500 };
    this.#replaySource = {
      replayPage: (prefix, after, until, limit) =>
        this.#st.replayPage({ start: prefix, end: prefixRangeEnd(prefix) }, after, until, limit).map(rowToEvent),
      compactedRevision: () => this.#compactedRevision,
    };
    this.#pace = { clock: options.clock ?? systemClock, isOpen: () => this.#db.open, ...options.compactionPace };
    const intervalMs = options.compactIntervalMs ?? 5 * 60_000;
    if (intervalMs > 0) this.#compactTimer = (options.clock ?? systemClock).setInterval(() => this.#compactOldHistory(), intervalMs);
  }

  async create(key: string, value: string): Promise<number> {
    return (await this.#write((revision) => createKey(this.#st, revision, key, value))).kv.modRevision;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const row = this.#st.latest.get(key);
    return isLive(row) ? rowToKeyValue(row) : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    return listKeys(this.#st, prefix, options, this.#revision, this.#compactedRevision);
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<number> {
    return (await this.#write((revision) => updateKey(this.#st, revision, key, value, expectedModRevision))).kv.modRevision;
  }

  async delete(key: string, expectedModRevision?: number): Promise<{ revision: number; prev: KeyValue }> {
    const event = await this.#write((revision) => deleteKey(this.#st, revision, key, expectedModRevision));
    return { revision: event.kv.modRevision, prev: event.prevKv! };
  }

  watch(prefix: string, options: WatchOptions, onEvent: (event: WatchEvent) => void, onError?: (error: Error) => void): Watch {
    if (!this.#db.open) throw new Error('the store is closed');
    const signal = options.signal;
    const onAbort = (): void => watcher.cancel();
    const watcher = new SqliteWatcher(prefix, options.fromRevision ?? this.#revision, this.#revision, this.#replaySource, this.#limits, {
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
    return watcher;
  }

  async currentRevision(): Promise<number> {
    return this.#revision;
  }

  async compact(revision: number): Promise<void> {
    // Clamped to the present, and a no-op below the horizon: compaction only moves forward.
    const target = Math.min(revision, this.#revision);
    if (target <= this.#compactedRevision) return;
    recordHorizon(this.#db, this.#st, target);
    this.#compactedRevision = target;
    // one compaction's chunks at a time (compact.ts): a later one runs after, to its own horizon
    const deleting = this.#deleting.then(() => deleteCompacted(this.#db, this.#st, target, this.#pace));
    this.#deleting = deleting.then(() => undefined, () => undefined);
    await deleting;
  }

  async compactedRevision(): Promise<number> {
    return this.#compactedRevision;
  }

  async close(): Promise<void> {
    this.#compactTimer?.cancel();
    for (const watcher of [...this.#watchers]) watcher.cancel();
    this.#flush(); // writes already accepted are committed (or fail) before the file closes
    await this.#checkpointer?.close();
    if (this.#db.open) this.#db.close(); // the last connection to close checkpoints what is left
  }

  /**
   * Queues one write; every write queued in the same turn of the event loop commits in one
   * transaction (one fsync) at the next turn; a failed guard (a revision mismatch) fails that
   * write alone. A writer's promise settles once its transaction has
   * committed, as before; watchers get the events in revision order after the commit.
   */
  #write(apply: (revision: number) => WatchEvent): Promise<WatchEvent> {
    if (!this.#db.open) return Promise.reject(new Error('the store is closed'));
    return new Promise((resolve, reject) => {
      this.#pending.push({ apply, resolve, reject });
      if (this.#pending.length === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    const start = this.#revision;
    const results: Array<WatchEvent | Error> = [];
    try {
      if (!this.#db.open) throw new Error('the store is closed');
      this.#db.transaction(() => {
        for (const op of batch) {
          try {
            // no savepoint per write: each checks its guard before its one INSERT, and a statement
            // that fails (ABORT) undoes only itself while the transaction goes on
            results.push(op.apply(this.#revision + 1));
            this.#revision++;
          } catch (error) {
            // an error that ended the transaction itself (I/O, full disk) fails the whole batch
            if (!this.#db.inTransaction) throw error;
            results.push(error as Error);
          }
        }
      }).immediate();
    } catch (error) {
      this.#revision = start;
      for (const op of batch) op.reject(error);
      return;
    }
    this.batches++;
    this.#writesSinceCheckpoint += batch.length;
    if (this.#checkpointer && this.#writesSinceCheckpoint >= this.#checkpointWrites) {
      this.#writesSinceCheckpoint = 0;
      this.#checkpointer.request();
    }
    for (const [i, result] of results.entries()) {
      if (result instanceof Error) {
        batch[i]!.reject(result);
        continue;
      }
      const event = freezeEvent(result);
      for (const watcher of this.#watchers) if (event.kv.key.startsWith(watcher.prefix)) watcher.offer(event);
      batch[i]!.resolve(event);
    }
  }

  #compactOldHistory(): void {
    // A failure (e.g. the sqlite3 shell holding a lock past busy_timeout) is retried next interval.
    if (this.#db.open) this.compact(this.#revision - this.#keepRevisions).catch(() => undefined);
  }
}

/** Every watcher receives the same event object, so none may change what another sees. */
function freezeEvent(event: WatchEvent): WatchEvent {
  Object.freeze(event.kv);
  if (event.prevKv) Object.freeze(event.prevKv);
  return Object.freeze(event);
}
