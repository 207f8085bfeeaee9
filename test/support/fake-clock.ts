// A manual clock for tests: advance() runs due timers in order, never sleeps.
import type { Clock, ClockTimer } from '../../api/clock.js';

interface Entry { at: number; fn: () => void; every?: number; id: number }

export class FakeClock implements Clock {
  #now: number;
  #timers: Entry[] = [];
  #nextId = 0;
  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = startMs;
  }
  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): ClockTimer {
    return this.#add({ at: this.#now + ms, fn, id: this.#nextId++ });
  }
  setInterval(fn: () => void, ms: number): ClockTimer {
    return this.#add({ at: this.#now + ms, fn, every: Math.max(1, ms), id: this.#nextId++ });
  }
  /** Moves time forward by `ms`, running every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.#timers[0];
      if (!next || next.at > target) break;
      this.#now = next.at;
      if (next.every) next.at += next.every;
      else this.#timers.shift();
      next.fn();
    }
    this.#now = target;
  }
  get pendingTimers(): number {
    return this.#timers.length;
  }
  #add(entry: Entry): ClockTimer {
    this.#timers.push(entry);
    return { cancel: () => { this.#timers = this.#timers.filter((e) => e !== entry); } };
  }
}

/** A clock that moves `stepMs` each time it is read: a reconcile's measured cost shows as reads times steps. */
export const steppingClock = (base: Clock, stepMs: number): Clock & { reads: number } => {
  const c = { reads: 0, now: () => base.now() + stepMs * ++c.reads, setTimeout: base.setTimeout.bind(base), setInterval: base.setInterval.bind(base) };
  return c;
};
