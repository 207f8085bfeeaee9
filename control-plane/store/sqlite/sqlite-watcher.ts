// One in-process watch: replays logged history in pages, then delivers live events from a bounded buffer.
import { CompactedError, WatchOverflowError, type Watch, type WatchEvent } from '../store.js';

export interface ReplaySource {
  /** Events under `prefix` with afterRevision < revision <= untilRevision, oldest first. */
  replayPage(prefix: string, afterRevision: number, untilRevision: number, limit: number): WatchEvent[];
  compactedRevision(): number;
}

export interface WatcherLimits {
  /**
   * Live events a watcher may hold undelivered (while it replays, or during a synchronous burst of
   * writes). Past it the watch ends with WatchOverflowError so the client relists; writers never wait.
   */
  maxBufferedEvents: number;
  /** Rows read per replay step; writers run between steps. */
  replayPageSize: number;
}

export interface WatcherCallbacks {
  onEvent: (event: WatchEvent) => void;
  onError: ((error: Error) => void) | undefined;
  /** The watcher is finished (cancelled or failed): unregister it. */
  onClose: (watcher: SqliteWatcher) => void;
}

export class SqliteWatcher implements Watch {
  /** Revisions at or below this were covered by the replay (or precede the watch): live copies are dropped. */
  readonly #liveAfterRevision: number;
  #cursorRevision: number;
  #pending: WatchEvent[] = [];
  #isReplaying: boolean;
  #isDrainScheduled = false;
  #isClosed = false;

  constructor(
    readonly prefix: string,
    fromRevision: number,
    currentRevision: number,
    private readonly source: ReplaySource,
    private readonly limits: WatcherLimits,
    private readonly callbacks: WatcherCallbacks,
  ) {
    this.#cursorRevision = fromRevision;
    this.#liveAfterRevision = Math.max(fromRevision, currentRevision);
    this.#isReplaying = fromRevision < currentRevision;
    if (fromRevision < source.compactedRevision()) {
      const error = new CompactedError(fromRevision, source.compactedRevision());
      queueMicrotask(() => this.#fail(error));
    } else if (this.#isReplaying) {
      setImmediate(() => void this.#replay());
    }
  }

  /** Called by the store right after a write commits. */
  offer(event: WatchEvent): void {
    if (this.#isClosed || event.kv.modRevision <= this.#liveAfterRevision) return;
    this.#pending.push(event);
    if (this.#pending.length > this.limits.maxBufferedEvents) {
      this.#fail(new WatchOverflowError(this.#pending.length));
      return;
    }
    // A microtask, not setImmediate: a writer awaiting in a tight loop only yields to microtasks,
    // and its watchers must keep up with it rather than overflow.
    if (!this.#isReplaying && !this.#isDrainScheduled) {
      this.#isDrainScheduled = true;
      queueMicrotask(() => this.#drain());
    }
  }

  cancel(): void {
    this.#close();
  }

  async #replay(): Promise<void> {
    const untilRevision = this.#liveAfterRevision;
    while (!this.#isClosed && this.#cursorRevision < untilRevision) {
      const horizon = this.source.compactedRevision();
      // Compaction above the cursor may have removed rows not yet replayed.
      if (horizon > this.#cursorRevision) return this.#fail(new CompactedError(this.#cursorRevision, horizon));
      const page = this.source.replayPage(this.prefix, this.#cursorRevision, untilRevision, this.limits.replayPageSize);
      for (const event of page) if (!this.#deliver(event)) return;
      const last = page[page.length - 1];
      this.#cursorRevision = page.length < this.limits.replayPageSize || !last ? untilRevision : last.kv.modRevision;
      if (this.#cursorRevision < untilRevision) await new Promise((resolve) => setImmediate(resolve));
    }
    this.#isReplaying = false;
    this.#drain();
  }

  #drain(): void {
    this.#isDrainScheduled = false;
    while (!this.#isClosed && this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      for (const event of batch) if (!this.#deliver(event)) return;
    }
  }

  /** Returns false when the watch ended (cancelled from the callback, or the callback threw). */
  #deliver(event: WatchEvent): boolean {
    if (this.#isClosed) return false;
    this.#cursorRevision = event.kv.modRevision;
    try {
      this.callbacks.onEvent(event);
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
    }
    return !this.#isClosed;
  }

  #fail(error: Error): void {
    if (this.#isClosed) return;
    this.#close();
    this.callbacks.onError?.(error);
  }

  #close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#pending = [];
    this.callbacks.onClose(this);
  }
}
