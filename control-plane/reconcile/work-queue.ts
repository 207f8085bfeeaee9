// A deduplicating work queue in the controller-runtime style: handlers enqueue keys, a few workers
// reconcile them, one key is never reconciled by two workers at once, and failures are retried
// with per-key exponential back-off on the injected clock.
import type { Logger } from 'pino';
import type { Clock, ClockTimer } from '../../api/clock.js';
import { isTurnOver } from '../flow-control/event-loop-turns.js';

export interface ReconcileResult {
  requeueAfterMs?: number;
  /**
   * What reading this key's set cost (clock ms: e.g. planning over 10,000 pods): `addAtMostEvery`
   * stretches the key's interval to COST_FACTOR times it, so one owner is not recomputed 10x/s.
   */
  costMs?: number;
}

/** A key queued by child events spends at most 1/COST_FACTOR of the time reconciling (its reported cost). */
export const COST_FACTOR = 10;
/** However costly a key, child events reconcile it at least this often. */
export const MAX_COST_INTERVAL_MS = 5_000;

export type Reconcile = (key: string, signal: AbortSignal) => Promise<ReconcileResult | void>;

/** What a queue reports as it works (control-plane/metrics/work-queue-metrics.ts turns it into metrics). */
export interface WorkQueueObserver {
  /** A key was queued (not counted when it was already queued). */
  added(queue: string): void;
  /** Keys waiting to be worked on, after every change. */
  depth(queue: string, depth: number): void;
  /** A key left the queue for a worker after waiting `waitedMs`. */
  started(queue: string, waitedMs: number): void;
  /** A reconcile ended after `durationMs`; `failed` ones are retried with back-off. */
  finished(queue: string, durationMs: number, failed: boolean): void;
}

export interface WorkQueueOptions {
  name: string;
  reconcile: Reconcile;
  clock: Clock;
  logger: Logger;
  workers?: number;
  baseRetryMs?: number;
  maxRetryMs?: number;
  observer?: WorkQueueObserver;
}

export class WorkQueue {
  readonly #queue: string[] = [];
  /** Queued keys and when they were queued (performance.now(): durations are measured, not timed logic). */
  readonly #queued = new Map<string, number>();
  readonly #active = new Set<string>();
  /** Keys added again while they were being reconciled. */
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Map<string, ClockTimer>();
  /** When each key's last reconcile started (clock ms), and keys held back by addAtMostEvery. */
  readonly #lastStarted = new Map<string, number>();
  readonly #heldBack = new Map<string, ClockTimer>();
  /** The cost the last reconcile of each key reported (ReconcileResult.costMs). */
  readonly #cost = new Map<string, number>();
  readonly #abort = new AbortController();
  #running = 0;
  /** A pump waits for the next turn of the event loop (the current one has run past its budget). */
  #isPumpDeferred = false;
  #idleWaiters: Array<() => void> = [];

  constructor(private readonly options: WorkQueueOptions) {}

  add(key: string): void {
    this.#add(key, false);
  }

  #add(key: string, afterReconcile: boolean): void {
    if (this.#abort.signal.aborted) return;
    if (this.#active.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.set(key, performance.now());
    this.#queue.push(key);
    this.options.observer?.added(this.options.name);
    this.#pump(afterReconcile);
    this.#reportDepth();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.#abort.signal.aborted) return;
    this.#timers.get(key)?.cancel();
    this.#timers.set(key, this.options.clock.setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs));
  }

  /**
   * Queues the key, but at most once per `intervalMs` from the start of its last reconcile: a burst
   * of child events (10,000 pods of one ReplicaSet) makes one reconcile per interval, each of which
   * reads the whole set, instead of one per event. A quiet key is queued at once. A key whose last
   * reconcile reported a cost waits COST_FACTOR times that cost (up to MAX_COST_INTERVAL_MS) if that is
   * longer: as kube's rate-limited work queues do, the expensive owner is synced less often.
   */
  addAtMostEvery(key: string, intervalMs: number): void {
    if (this.#abort.signal.aborted || this.#heldBack.has(key)) return;
    const costMs = this.#cost.get(key) ?? 0;
    const everyMs = intervalMs > 0 ? Math.max(intervalMs, Math.min(MAX_COST_INTERVAL_MS, COST_FACTOR * costMs)) : 0;
    const last = this.#lastStarted.get(key);
    const waitMs = last === undefined ? 0 : last + everyMs - this.options.clock.now();
    if (everyMs <= 0 || waitMs <= 0) {
      this.add(key);
      return;
    }
    this.#heldBack.set(key, this.options.clock.setTimeout(() => {
      this.#heldBack.delete(key);
      this.add(key);
    }, waitMs));
  }

  /** Resolves when nothing is queued or running (tests, benchmarks). */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  stop(): void {
    this.#abort.abort();
    for (const t of [...this.#timers.values(), ...this.#heldBack.values()]) t.cancel();
    this.#timers.clear();
    this.#heldBack.clear();
    this.#queue.length = 0;
    this.#queued.clear();
    this.#reportDepth();
  }

  #reportDepth(): void {
    this.options.observer?.depth(this.options.name, this.#queue.length);
  }

  /** `afterReconcile`: called as a reconcile ended, where chains of reconciles would otherwise form. */
  #pump(afterReconcile = false): void {
    if (this.#isPumpDeferred) return;
    const max = this.options.workers ?? 2;
    while (this.#running < max && this.#queue.length > 0) {
      // Reconciles chained on microtasks would keep requests and signals waiting: let I/O in first.
      if (afterReconcile && isTurnOver()) {
        this.#isPumpDeferred = true;
        setImmediate(() => {
          this.#isPumpDeferred = false;
          this.#pump(true);
        });
        return;
      }
      const key = this.#queue.shift()!;
      const queuedAt = this.#queued.get(key) ?? performance.now();
      this.#queued.delete(key);
      this.options.observer?.started(this.options.name, performance.now() - queuedAt);
      this.#active.add(key);
      this.#running++;
      this.#noteStart(key);
      void this.#work(key);
    }
  }

  #noteStart(key: string): void {
    // keep the map to recent keys: an entry older than any sane interval is dropped with the rest
    if (this.#lastStarted.size >= 10_000) this.#lastStarted.clear();
    if (this.#cost.size >= 10_000) this.#cost.clear();
    this.#lastStarted.set(key, this.options.clock.now());
  }

  async #work(key: string): Promise<void> {
    const startedAt = performance.now();
    let failed = false;
    try {
      const result = await this.options.reconcile(key, this.#abort.signal);
      this.#failures.delete(key);
      if (result?.costMs !== undefined) this.#cost.set(key, result.costMs);
      else this.#cost.delete(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      failed = true;
      const failures = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, failures);
      const delayMs = Math.min(this.options.maxRetryMs ?? 60_000, (this.options.baseRetryMs ?? 50) * 2 ** (failures - 1));
      this.options.logger.warn({ queue: this.options.name, key, err: (error as Error).message, retryInMs: delayMs }, 'reconcile failed');
      this.addAfter(key, delayMs);
    } finally {
      this.options.observer?.finished(this.options.name, performance.now() - startedAt, failed);
      this.#active.delete(key);
      this.#running--;
      if (this.#dirty.delete(key)) this.#add(key, true);
      this.#pump(true);
      this.#reportDepth();
      if (this.#queue.length === 0 && this.#running === 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }
}
