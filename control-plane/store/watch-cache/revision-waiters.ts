// RevisionWaiters: promises that resolve once the cache has applied a given revision (read-your-writes).
//
// Kept in revision order: writers ask for their revisions nearly in order (a write's revision is
// known once it commits), so adding one is an append, and each applied revision releases from the
// front only those it reaches. Walking every waiter on each release was O(writes in flight) per
// applied event: 7 % of a 10,000-agent join's main thread, with thousands of status and lease
// writes waiting at once.

interface Waiter {
  revision: number;
  resolve: () => void;
}

/** Released waiters at the front are dropped from the array once they are this many and half of it. */
const COMPACT_AFTER = 1024;

export class RevisionWaiters {
  /** Sorted by revision (ties in arrival order); entries before #head are released. */
  #waiters: Waiter[] = [];
  #head = 0;

  get size(): number {
    return this.#waiters.length - this.#head;
  }

  /** Resolves once `advance` reaches `revision`. */
  until(revision: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter = { revision, resolve };
      const waiters = this.#waiters;
      if (waiters.length === this.#head || waiters[waiters.length - 1]!.revision <= revision) {
        waiters.push(waiter);
        return;
      }
      // out of order: after every waiter of a revision <= this one
      let low = this.#head;
      let high = waiters.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (waiters[mid]!.revision <= revision) low = mid + 1;
        else high = mid;
      }
      waiters.splice(low, 0, waiter);
    });
  }

  /** Everything up to `revision` is applied: release those waiting for it. */
  advance(revision: number): void {
    const waiters = this.#waiters;
    let head = this.#head;
    while (head < waiters.length && waiters[head]!.revision <= revision) {
      const waiter = waiters[head]!;
      waiters[head] = undefined as unknown as Waiter; // no reference kept to a released promise
      head++;
      waiter.resolve();
    }
    if (head === waiters.length) {
      this.#waiters = [];
      this.#head = 0;
    } else if (head >= COMPACT_AFTER && head * 2 >= waiters.length) {
      this.#waiters = waiters.slice(head);
      this.#head = 0;
    } else {
      this.#head = head;
    }
  }

  /** Releases everyone (the cache is closing; their writes did commit). */
  releaseAll(): void {
    this.advance(Infinity);
  }
}
