// The scheduler's queue, as kube-scheduler's PriorityQueue keeps it (scheduling_queue.go): an active
// queue ordered by pod priority (higher first), then by the time the pod was queued; a back-off queue
// of pods waiting out their back-off; and the unschedulable pods, parked until an event may let them
// fit (the caller's queueing hints decide which) or until they have waited 5 minutes. Each pod's
// attempts count its tries: after a failed one (no node fits, or an error) it may not be tried again
// for 1 s * 2^(attempts-1), at most 10 s, from the time it failed, on the injected clock. One pod is
// tried at a time (each decision sees the previous binding); a pod queued again while it is being
// tried goes back after that try. Popping is O(log n): a plain array's shift() made a 100,000-pod
// backlog quadratic.
import type { Logger } from 'pino';
import type { Clock, ClockTimer } from '../../api/clock.js';
import { isTurnOver } from '../flow-control/event-loop-turns.js';
import type { WorkQueueObserver } from '../reconcile/work-queue.js';

/** How a try ended for the queue: undefined when the key needs nothing more (done, gone). */
export type TryOutcome = 'unschedulable' | undefined;

export interface SchedulingQueueOptions {
  name: string;
  /** Tries one key; 'unschedulable' parks it until an event may help, a throw backs it off. */
  process: (key: string) => Promise<TryOutcome | void>;
  /** The key's priority when it is queued (higher is tried first). */
  priorityOf: (key: string) => number;
  clock: Clock;
  logger: Logger;
  /** kube's podInitialBackoffDuration (1 s) and podMaxBackoffDuration (10 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** kube's podMaxInUnschedulablePodsDuration (5 min): parked longer, a pod is tried again anyway. */
  maxUnschedulableMs?: number;
  /** How often parked pods are checked for that (kube: every 30 s). */
  flushIntervalMs?: number;
  observer?: WorkQueueObserver;
  /** Told the number of parked (unschedulable) and backing-off keys whenever either changes. */
  onCounts?: (unschedulable: number, backingOff: number) => void;
}

export const INITIAL_BACKOFF_MS = 1000;
export const MAX_BACKOFF_MS = 10_000;
export const MAX_UNSCHEDULABLE_MS = 5 * 60_000;
const FLUSH_INTERVAL_MS = 30_000;

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

/** A key's tries so far and when the last one failed (kube's QueuedPodInfo.Attempts and Timestamp). */
interface KeyInfo { attempts: number; failedAt: number }

export class SchedulingQueue {
  readonly #active = new EntryHeap();
  /** Keys in the active queue. */
  readonly #queued = new Set<string>();
  /** Keys waiting out a back-off, with their timers. */
  readonly #backoff = new Map<string, ClockTimer>();
  /** Keys no node fitted, parked since (clock ms). */
  readonly #unschedulable = new Map<string, number>();
  readonly #info = new Map<string, KeyInfo>();
  #inFlight: string | undefined;
  /** The key in flight was queued again while it was tried. */
  #isDirty = false;
  /** An event may have helped the key in flight while it was tried (kube's moveRequestCycle). */
  #isMovedWhileTrying = false;
  #seq = 0;
  #stopped = false;
  #isPumpDeferred = false;
  #idleWaiters: Array<() => void> = [];
  readonly #flush: ClockTimer;

  constructor(private readonly options: SchedulingQueueOptions) {
    this.#flush = options.clock.setInterval(() => this.#flushUnschedulable(), options.flushIntervalMs ?? FLUSH_INTERVAL_MS);
  }

  /**
   * Queues the key (a new pod, or one changed in a way that may matter): now, unless it is backing
   * off (then when its back-off ends); one being tried goes back after its try.
   */
  add(key: string): void {
    if (this.#stopped || this.#backoff.has(key)) return;
    if (this.#inFlight === key) {
      this.#isDirty = true;
      return;
    }
    if (this.#queued.has(key)) return;
    if (this.#unschedulable.has(key)) {
      this.#move(key);
      return;
    }
    this.#push(key);
  }

  /**
   * An event that may let parked pods fit: each one `mayHelp` says yes to (all without it) goes to
   * the active queue, or to the back-off queue while its back-off lasts. Returns how many moved.
   */
  moveUnschedulable(mayHelp?: (key: string) => boolean): number {
    if (this.#stopped) return 0;
    if (this.#inFlight !== undefined && !this.#isMovedWhileTrying && (!mayHelp || mayHelp(this.#inFlight))) this.#isMovedWhileTrying = true;
    let moved = 0;
    for (const key of [...this.#unschedulable.keys()]) {
      if (mayHelp && !mayHelp(key)) continue;
      this.#move(key);
      moved++;
    }
    return moved;
  }

  /** Queues the key again after its back-off (a failure outside a try, e.g. a binding written later). */
  retryLater(key: string, error: Error): void {
    if (this.#stopped || this.#backoff.has(key)) return;
    this.#unschedulable.delete(key);
    this.#failed(key);
    this.options.logger.warn({ queue: this.options.name, key, err: error.message, retryInMs: this.#backoffMs(key) }, 'scheduling attempt failed');
    this.#backOff(key);
  }

  /** Forgets the key (the pod is gone, or needs no placement): its attempts, back-off and parking. */
  forget(key: string): void {
    this.#info.delete(key);
    this.#backoff.get(key)?.cancel();
    const changed = this.#backoff.delete(key) || this.#unschedulable.delete(key);
    if (changed) this.#reportCounts();
  }

  /** Keys in the active and back-off queues. */
  get depth(): number {
    return this.#queued.size + this.#backoff.size;
  }

  /** Keys parked until an event may let them fit. */
  get unschedulableCount(): number {
    return this.#unschedulable.size;
  }

  get backingOffCount(): number {
    return this.#backoff.size;
  }

  /** Tries so far of a key the queue still knows (0 once it is forgotten or its last try succeeded). */
  attemptsOf(key: string): number {
    return this.#info.get(key)?.attempts ?? 0;
  }

  /** Resolves when nothing is queued (back-off and parked keys aside) or being tried. */
  idle(): Promise<void> {
    if (this.#queued.size === 0 && this.#inFlight === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  stop(): void {
    this.#stopped = true;
    this.#flush.cancel();
    for (const t of this.#backoff.values()) t.cancel();
    this.#backoff.clear();
    this.#unschedulable.clear();
    this.#active.clear();
    this.#queued.clear();
    this.#reportDepth();
  }

  #push(key: string): void {
    this.#queued.add(key);
    this.#active.push({ key, priority: this.options.priorityOf(key), seq: this.#seq++, queuedAt: performance.now() });
    this.options.observer?.added(this.options.name);
    this.#reportDepth();
    this.#pump(false);
  }

  /** kube's movePodsToActiveOrBackoffQueue for one parked key. */
  #move(key: string): void {
    this.#unschedulable.delete(key);
    if (this.#backoffRemainingMs(key) > 0) this.#backOff(key);
    else this.#push(key);
    this.#reportCounts();
  }

  /** 1 s * 2^(attempts-1), at most 10 s; none before a first try. */
  #backoffMs(key: string): number {
    const attempts = this.#info.get(key)?.attempts ?? 0;
    if (attempts === 0) return 0;
    const max = this.options.maxBackoffMs ?? MAX_BACKOFF_MS;
    return Math.min(max, (this.options.initialBackoffMs ?? INITIAL_BACKOFF_MS) * 2 ** Math.min(attempts - 1, 30));
  }

  #backoffRemainingMs(key: string): number {
    const info = this.#info.get(key);
    return info ? info.failedAt + this.#backoffMs(key) - this.options.clock.now() : 0;
  }

  #failed(key: string): void {
    const info = this.#info.get(key);
    if (info) info.failedAt = this.options.clock.now();
    else this.#info.set(key, { attempts: 1, failedAt: this.options.clock.now() });
  }

  /** Into the back-off queue until its back-off ends, then the active queue. */
  #backOff(key: string): void {
    this.#backoff.get(key)?.cancel();
    this.#backoff.set(key, this.options.clock.setTimeout(() => {
      this.#backoff.delete(key);
      this.#reportCounts();
      if (!this.#stopped) this.#push(key);
    }, Math.max(0, this.#backoffRemainingMs(key))));
    this.#reportCounts();
  }

  #park(key: string): void {
    this.#unschedulable.set(key, this.options.clock.now());
    this.#reportCounts();
  }

  /** kube's flushUnschedulablePodsLeftover: pods parked longer than 5 minutes are tried again. */
  #flushUnschedulable(): void {
    const now = this.options.clock.now();
    const maxMs = this.options.maxUnschedulableMs ?? MAX_UNSCHEDULABLE_MS;
    for (const [key, since] of [...this.#unschedulable]) if (now - since >= maxMs) this.#move(key);
  }

  #reportDepth(): void {
    this.options.observer?.depth(this.options.name, this.#queued.size);
  }

  #reportCounts(): void {
    this.options.onCounts?.(this.#unschedulable.size, this.#backoff.size);
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
    this.#isMovedWhileTrying = false;
    const info = this.#info.get(entry.key);
    if (info) info.attempts++;
    else this.#info.set(entry.key, { attempts: 1, failedAt: 0 });
    void this.#try(entry.key);
  }

  async #try(key: string): Promise<void> {
    const startedAt = performance.now();
    let failed = false;
    let requeue = false;
    try {
      const outcome = await this.options.process(key);
      if (outcome === 'unschedulable' && !this.#stopped) {
        this.#failed(key);
        // an event during the try may have helped: back off, do not park (kube's moveRequestCycle)
        if (this.#isDirty || this.#isMovedWhileTrying) this.#backOff(key);
        else this.#park(key);
      } else {
        this.#info.delete(key);
        requeue = this.#isDirty;
      }
    } catch (error) {
      failed = true;
      if (!this.#stopped) {
        this.#failed(key);
        this.options.logger.warn({ queue: this.options.name, key, err: (error as Error).message, retryInMs: this.#backoffMs(key) }, 'scheduling attempt failed');
        this.#backOff(key);
      }
    } finally {
      this.options.observer?.finished(this.options.name, performance.now() - startedAt, failed);
      this.#inFlight = undefined;
      if (requeue) this.add(key);
      this.#reportDepth();
      this.#pump(true);
      if (this.#queued.size === 0 && this.#inFlight === undefined) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }
}
