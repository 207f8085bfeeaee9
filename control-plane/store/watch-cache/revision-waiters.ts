// RevisionWaiters: promises that resolve once the cache has applied a given revision (read-your-writes).

interface Waiter {
  revision: number;
  resolve: () => void;
}

export class RevisionWaiters {
  #waiters: Waiter[] = [];
  /** The smallest revision anyone waits for, so most applied events cost one comparison. */
  #lowestRevision = Infinity;

  get size(): number {
    return this.#waiters.length;
  }

  /** Resolves once `advance` reaches `revision`. */
  until(revision: number): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push({ revision, resolve });
      this.#lowestRevision = Math.min(this.#lowestRevision, revision);
    });
  }

  /** Everything up to `revision` is applied: release those waiting for it. */
  advance(revision: number): void {
    if (revision < this.#lowestRevision) return;
    const waiting: Waiter[] = [];
    this.#lowestRevision = Infinity;
    for (const waiter of this.#waiters) {
      if (waiter.revision <= revision) waiter.resolve();
      else {
        waiting.push(waiter);
        this.#lowestRevision = Math.min(this.#lowestRevision, waiter.revision);
      }
    }
    this.#waiters = waiting;
  }

  /** Releases everyone (the cache is closing; their writes did commit). */
  releaseAll(): void {
    this.advance(Infinity);
  }
}
