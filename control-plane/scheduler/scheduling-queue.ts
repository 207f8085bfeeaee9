// The scheduler's queue, as kube-scheduler's PriorityQueue keeps it: an active queue ordered by pod
// priority (higher first), then by the time the pod was queued; a back-off queue for attempts that
// failed with an error (exponential per pod, on the injected clock). Pods no node fits are kept by
// the Scheduler and moved back here on cluster events. One pod is tried at a time (each decision sees
// the previous binding); a pod queued again while it is being tried goes back after that try.
// Popping is O(log n): a plain array's shift() made a 100,000-pod backlog quadratic.
import type { Logger } from 'pino';
import type { Clock, ClockTimer } from '../../api/clock.js';
import { isTurnOver } from '../flow-control/event-loop-turns.js';
import type { WorkQueueObserver } from '../reconcile/work-queue.js';

export interface SchedulingQueueOptions {
  name: string;
  /** Tries one key; a throw puts it in back-off. */
  process: (key: string) => Promise<void>;
  /** The key's priority when it is queued (higher is tried first). */
  priorityOf: (key: string) => number;
  clock: Clock;
  logger: Logger;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  observer?: WorkQueueObserver;
}

interface Entry { key: string; priority: number; seq: number; queuedAt: number }

/** a before b: higher priority first, then first queued. */
const before = (a: Entry, b: Entry) => a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);

/** A binary heap of entries (min by `before`). */
class EntryHeap {
  readonly #items: Entry[] = [];
  get size(): number { return this.#items.length; }
  clear(): void { this.#items.length = 0; }

  push(e: Entry): void {
    const a = this.#items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): Entry | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || !last) return top;
    a[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && before(a[l]!, a[m]!)) m = l;
      if (r < a.length && before(a[r]!, a[m]!)) m = r;
      if (m === i) break;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
    return top;
  }
}

export class SchedulingQueue {
  readonly #active = new EntryHeap();
  /** Keys in the active queue. */
  readonly #queued = new Set<string>();
  /** Keys waiting out a back-off, with their timers. */
  readonly #backoff = new Map<string, ClockTimer>();
  readonly #failures = new Map<string, number>();
  #inFlight: string | undefined;
  #isDirty = false;
  #seq = 0;
  #stopped = false;
  #isPumpDeferred = false;
  #idleWaiters: Array<() => void> = [];

  constructor(private readonly options: SchedulingQueueOptions) {}

  /** Queues the key now (a key in back-off waits for its timer; one being tried goes back after). */
  add(key: string): void {
    if (this.#stopped || this.#backoff.has(key)) return;
    if (this.#inFlight === key) {
      this.#isDirty = true;
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#active.push({ key, priority: this.options.priorityOf(key), seq: this.#seq++, queuedAt: performance.now() });
    this.options.observer?.added(this.options.name);
    this.#reportDepth();
    this.#pump(false);
  }

  /** Queues the key again after its back-off (a failure outside a try, e.g. a binding written later). */
  retryLater(key: string, error: Error): void {
    if (!this.#backoff.has(key)) this.#backOff(key, error);
  }

  /** Forgets a key's failures (the pod is gone or bound). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  get depth(): number {
    return this.#queued.size + this.#backoff.size;
  }

  /** Resolves when nothing is queued (back-off timers aside) or being tried. */
  idle(): Promise<void> {
    if (this.#queued.size === 0 && this.#inFlight === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#backoff.values()) t.cancel();
    this.#backoff.clear();
    this.#active.clear();
    this.#queued.clear();
    this.#reportDepth();
  }

  #reportDepth(): void {
    this.options.observer?.depth(this.options.name, this.#queued.size);
  }

  #pump(afterTry: boolean): void {
    if (this.#isPumpDeferred || this.#inFlight !== undefined || this.#stopped) return;
    // tries chained on microtasks would keep requests and signals waiting: let I/O in first
    if (afterTry && isTurnOver()) {
      this.#isPumpDeferred = true;
      setImmediate(() => {
        this.#isPumpDeferred = false;
        this.#pump(false);
      });
      return;
    }
    const entry = this.#active.pop();
    if (!entry) return;
    this.#queued.delete(entry.key);
    this.options.observer?.started(this.options.name, performance.now() - entry.queuedAt);
    this.#inFlight = entry.key;
    this.#isDirty = false;
    void this.#try(entry.key);
  }

  async #try(key: string): Promise<void> {
    const startedAt = performance.now();
    let failed = false;
    try {
      await this.options.process(key);
      this.#failures.delete(key);
    } catch (error) {
      failed = true;
      this.#backOff(key, error as Error);
    } finally {
      this.options.observer?.finished(this.options.name, performance.now() - startedAt, failed);
      this.#inFlight = undefined;
      if (this.#isDirty && !failed) this.add(key);
      this.#reportDepth();
      this.#pump(true);
      if (this.#queued.size === 0 && this.#inFlight === undefined) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  #backOff(key: string, error: Error): void {
    if (this.#stopped) return;
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const delayMs = Math.min(this.options.maxBackoffMs ?? 10_000, (this.options.baseBackoffMs ?? 50) * 2 ** (failures - 1));
    this.options.logger.warn({ queue: this.options.name, key, err: error.message, retryInMs: delayMs }, 'scheduling attempt failed');
    this.#backoff.set(key, this.options.clock.setTimeout(() => {
      this.#backoff.delete(key);
      this.add(key);
    }, delayMs));
  }
}
