// The Store: etcd's semantics behind one narrow interface (kine-style). Every driver passes
// test/contracts/store.contract.ts.
//
// - One cluster-wide revision counter; every successful write (create, update, delete) gets the
//   next revision. An object's resourceVersion is its key's modRevision.
// - Values are opaque strings (the API layer stores JSON).
// - Watches deliver every event with revision > fromRevision, in revision order, exactly once.
//   A fromRevision older than the compaction horizon throws CompactedError (the API answers 410).

export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  /** For 'put' the new value; for 'delete' the last value, with modRevision = the delete's revision. */
  kv: KeyValue;
  /** Previous value (absent for a create). */
  prevKv?: KeyValue;
  /** True when this 'put' created the key. */
  created: boolean;
}

export interface ListOptions {
  /** Read as of this revision (must be >= the compaction horizon). 0/undefined = latest. */
  revision?: number;
  /** Maximum items; the result then has `more` and continue from `nextKey`. */
  limit?: number;
  /** Start at this key (inclusive), for paging. */
  startKey?: string;
  /**
   * A hint, for unpaged lists: only values containing this text are wanted. A store may answer from
   * an index (the watch cache indexes pods by `"nodeName":"NAME"`) or ignore it; callers filter.
   */
  containing?: string;
  /**
   * A hint: only objects whose `metadata.labels` has, for every entry, `key` with one of `values`
   * are wanted. The watch cache answers lists at its revision from a label index (paged as usual:
   * pages run over the candidates); other stores ignore it. Callers filter what they get.
   */
  labels?: readonly LabelHint[];
}

export interface LabelHint {
  key: string;
  values: readonly string[];
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the list was read at. */
  revision: number;
  /** More keys follow; pass `nextKey` as `startKey` (with the same revision) to go on. */
  more: boolean;
  nextKey?: string;
}

export interface WatchOptions {
  /** Deliver events with revision > fromRevision. undefined = from now. */
  fromRevision?: number;
  signal?: AbortSignal;
}

export interface Watch {
  /** Stops delivery; further events are dropped. */
  cancel(): void;
}

export interface Store {
  /** Creates `key` if absent; returns the new revision. Throws KeyExistsError. */
  create(key: string, value: string): Promise<number>;
  get(key: string): Promise<KeyValue | undefined>;
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** Replaces `key` if its modRevision equals `expectedModRevision`. Throws KeyNotFoundError / RevisionMismatchError. */
  update(key: string, value: string, expectedModRevision: number): Promise<number>;
  /** Deletes `key` (guarded when `expectedModRevision` is given); returns the delete's revision and the last value. */
  delete(key: string, expectedModRevision?: number): Promise<{ revision: number; prev: KeyValue }>;
  /**
   * Calls `onEvent` for every change under `prefix` after `fromRevision`, in order. Calls `onError`
   * once if the watch can no longer continue (e.g. CompactedError); then no more events come.
   */
  watch(prefix: string, options: WatchOptions, onEvent: (event: WatchEvent) => void, onError?: (error: Error) => void): Watch;
  /** The latest revision of the store. */
  currentRevision(): Promise<number>;
  /** Discards history at or below `revision` (the latest value of every live key is kept). */
  compact(revision: number): Promise<void>;
  /** The oldest revision still readable/watchable (history above it is kept). */
  compactedRevision(): Promise<number>;
  close(): Promise<void>;
}

export class KeyExistsError extends Error {
  override readonly name = 'KeyExistsError';
  constructor(readonly key: string) {
    super(`key ${key} already exists`);
  }
}

export class KeyNotFoundError extends Error {
  override readonly name = 'KeyNotFoundError';
  constructor(readonly key: string) {
    super(`key ${key} not found`);
  }
}

export class RevisionMismatchError extends Error {
  override readonly name = 'RevisionMismatchError';
  constructor(readonly key: string, readonly expected: number, readonly actual: number) {
    super(`key ${key} is at revision ${actual}, expected ${expected}`);
  }
}

export class CompactedError extends Error {
  override readonly name = 'CompactedError';
  constructor(readonly requested: number, readonly compacted: number) {
    super(`revision ${requested} has been compacted (oldest available: ${compacted})`);
  }
}

/**
 * The store did not answer within the call's deadline (unreachable, overloaded, or a write's outcome
 * could not be learnt): a transient condition, retried by the driver until then; the API answers 503
 * with Retry-After. A write that failed so may or may not have applied.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  /** How long a client should wait before trying again. */
  readonly retryAfterSeconds = 1;
}

/** A watcher fell further behind than its driver buffers; the watch ends and the client relists. */
export class WatchOverflowError extends Error {
  override readonly name = 'WatchOverflowError';
  constructor(readonly bufferedEvents: number) {
    super(`watcher fell ${bufferedEvents} events behind; relist and watch again`);
  }
}
