// EventRing: the most recent events in revision order, addressed by a sequence number that never repeats.
import type { WatchEvent } from '../store.js';

/**
 * Holds the events with sequence numbers [tailSeq, headSeq). Readers keep a sequence number rather
 * than a copy, so a watcher costs no memory per event; a reader whose number fell below `tailSeq`
 * lost events to eviction. `floorRevision` is the horizon: the ring holds every event after it.
 */
export class EventRing {
  readonly #slots: (WatchEvent | undefined)[];
  #tailSeq = 0;
  #headSeq = 0;
  #floorRevision: number;

  constructor(readonly capacity: number, floorRevision: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`history capacity must be a positive integer, got ${capacity}`);
    this.#slots = new Array<WatchEvent | undefined>(capacity);
    this.#floorRevision = floorRevision;
  }

  get tailSeq(): number {
    return this.#tailSeq;
  }

  get headSeq(): number {
    return this.#headSeq;
  }

  /** Every event with a revision above this is in the ring. */
  get floorRevision(): number {
    return this.#floorRevision;
  }

  /** Appends an event newer than every held one, evicting the oldest when full. */
  push(event: WatchEvent): void {
    if (this.#headSeq - this.#tailSeq === this.capacity) this.#evictOldest();
    this.#slots[this.#headSeq % this.capacity] = event;
    this.#headSeq++;
  }

  /** The event at `seq`; tailSeq <= seq < headSeq. */
  at(seq: number): WatchEvent {
    if (seq < this.#tailSeq || seq >= this.#headSeq) throw new RangeError(`sequence ${seq} is outside [${this.#tailSeq}, ${this.#headSeq})`);
    return this.#slots[seq % this.capacity]!;
  }

  /** The sequence number of the first held event with a revision above `revision` (headSeq if none). */
  firstSeqAfter(revision: number): number {
    let low = this.#tailSeq;
    let high = this.#headSeq;
    while (low < high) {
      const mid = Math.floor((low + high) / 2);
      if (this.at(mid).kv.modRevision <= revision) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Drops events at or below `revision` and raises the floor to it (compaction). */
  dropThrough(revision: number): void {
    while (this.#tailSeq < this.#headSeq && this.at(this.#tailSeq).kv.modRevision <= revision) this.#evictOldest();
    this.#floorRevision = Math.max(this.#floorRevision, revision);
  }

  /** Forgets every event: history restarts after `floorRevision` (a relist). Sequence numbers go on. */
  reset(floorRevision: number): void {
    this.#slots.fill(undefined);
    this.#tailSeq = this.#headSeq;
    this.#floorRevision = floorRevision;
  }

  #evictOldest(): void {
    const slot = this.#tailSeq % this.capacity;
    this.#floorRevision = Math.max(this.#floorRevision, this.#slots[slot]!.kv.modRevision);
    this.#slots[slot] = undefined;
    this.#tailSeq++;
  }
}
