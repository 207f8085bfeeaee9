// CacheWatcher: one watch read straight from the event ring — a cursor, not a copy of the events.
import { CompactedError, WatchOverflowError, type Watch, type WatchEvent } from '../store.js';
import type { EventRing } from './event-ring.js';

export interface CacheWatcherCallbacks {
  onEvent: (event: WatchEvent) => void;
  onError: ((error: Error) => void) | undefined;
  /** The watcher is finished (cancelled or failed): unregister it. */
  onClose: (watcher: CacheWatcher) => void;
}

/**
 * Its backlog is the ring itself: a watcher that falls so far behind that the ring evicts events
 * it has not seen ends with WatchOverflowError (the client relists), and nobody else waits for it.
 * It hands over at most `chunkEvents` events per turn of the event loop, so a long replay cannot
 * starve other watchers or the writes that feed the ring.
 */
export class CacheWatcher implements Watch {
  /** The next ring position to look at. */
  #nextSeq: number;
  /** Every event under the prefix up to this revision has been delivered (or preceded the watch). */
  #cursorRevision: number;
  #isPumping = false;
  #isYielding = false;
  #isClosed = false;

  constructor(
    readonly prefix: string,
    fromRevision: number,
    private readonly ring: EventRing,
    private readonly chunkEvents: number,
    private readonly callbacks: CacheWatcherCallbacks,
  ) {
    this.#cursorRevision = fromRevision;
    this.#nextSeq = ring.firstSeqAfter(fromRevision);
  }

  get cursorRevision(): number {
    return this.#cursorRevision;
  }

  /** Delivers what the ring holds beyond the cursor; the cache calls it after applying events. */
  pump(): void {
    if (this.#isClosed || this.#isPumping || this.#isYielding) return;
    this.#isPumping = true;
    try {
      for (let examined = 0; !this.#isClosed && this.#nextSeq < this.ring.headSeq; examined++) {
        if (this.#nextSeq < this.ring.tailSeq) {
          // Evicted events at or below the cursor were seen already; any above it are lost.
          if (this.#cursorRevision < this.ring.floorRevision) return this.end(new WatchOverflowError(this.ring.headSeq - this.#nextSeq));
          this.#nextSeq = this.ring.tailSeq;
          continue;
        }
        if (examined === this.chunkEvents) return this.#yieldThenPump();
        const event = this.ring.at(this.#nextSeq++);
        if (event.kv.modRevision <= this.#cursorRevision) continue;
        this.#cursorRevision = event.kv.modRevision;
        if (event.kv.key.startsWith(this.prefix)) this.#deliver(event);
      }
    } finally {
      this.#isPumping = false;
    }
  }

  /** Ends the watch when compaction dropped events it had not yet seen. */
  endIfCompactedPast(compactedRevision: number): void {
    if (this.#nextSeq < this.ring.tailSeq && this.#cursorRevision < compactedRevision) {
      this.end(new CompactedError(this.#cursorRevision, compactedRevision));
    }
  }

  /** Ends the watch with `error` (once); no more events come. */
  end(error: Error): void {
    if (this.#close()) this.callbacks.onError?.(error);
  }

  cancel(): void {
    this.#close();
  }

  #yieldThenPump(): void {
    this.#isYielding = true;
    setImmediate(() => {
      this.#isYielding = false;
      this.pump();
    });
  }

  #deliver(event: WatchEvent): void {
    try {
      this.callbacks.onEvent(event);
    } catch (error) {
      this.end(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Returns true the first time only. */
  #close(): boolean {
    if (this.#isClosed) return false;
    this.#isClosed = true;
    this.callbacks.onClose(this);
    return true;
  }
}
