// Records a Store watch's events and errors, and waits (event-driven, with a deadline) for conditions on them.
import type { Store, Watch, WatchEvent, WatchOptions } from '../../../control-plane/store/store.js';

interface Waiter {
  isMet: () => boolean;
  resolve: () => void;
}

export class WatchRecorder {
  readonly events: WatchEvent[] = [];
  readonly errors: Error[] = [];
  readonly watch: Watch;
  #waiters: Waiter[] = [];

  constructor(store: Store, prefix: string, options: WatchOptions = {}) {
    this.watch = store.watch(
      prefix,
      options,
      (event) => {
        this.events.push(event);
        this.#notify();
      },
      (error) => {
        this.errors.push(error);
        this.#notify();
      },
    );
  }

  /** The events' revisions, for compact assertions. */
  get revisions(): number[] {
    return this.events.map((event) => event.kv.modRevision);
  }

  untilEvents(count: number, timeoutMs = 15_000): Promise<WatchEvent[]> {
    return this.until(() => this.events.length >= count, `${count} events (have ${this.events.length})`, timeoutMs).then(
      () => this.events,
    );
  }

  untilError(timeoutMs = 15_000): Promise<Error> {
    return this.until(() => this.errors.length > 0, 'an error', timeoutMs).then(() => this.errors[0]!);
  }

  /** Resolves once `isMet()` holds after an event or error; rejects (naming `what`) at the deadline. */
  until(isMet: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (isMet()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        const errors = this.errors.map((e) => e.message).join('; ');
        reject(new Error(`timed out waiting for ${what}${errors ? ` (errors: ${errors})` : ''}`));
      }, timeoutMs);
      const waiter: Waiter = {
        isMet,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.#waiters.push(waiter);
    });
  }

  #notify(): void {
    const met = this.#waiters.filter((w) => w.isMet());
    this.#waiters = this.#waiters.filter((w) => !met.includes(w));
    for (const waiter of met) waiter.resolve();
  }
}
