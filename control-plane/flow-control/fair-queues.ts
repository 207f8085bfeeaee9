// One priority level of the API's flow control (decision 057, as Kubernetes' API Priority and
// Fairness): a number of seats (requests executing at once), and behind them one bounded FIFO per
// flow (a user). A freed seat goes to the next flow with a waiting request, round robin, so one
// user's burst waits behind itself and never ahead of another user's request. A request that finds
// its flow's queue (or the level's) full, or waits longer than the queue timeout, is refused with
// 429 and a Retry-After; nothing is dropped silently. Time comes from an injected clock.
import type { Clock, ClockTimer } from '../../api/clock.js';

export interface FairQueuesOptions {
  /** Requests that execute at once. */
  seats: number;
  /** Requests one flow may have waiting. */
  queueLengthPerFlow: number;
  /** Requests the whole level may have waiting. */
  queueLengthTotal: number;
  /** How long a request may wait for a seat (ms). */
  queueTimeoutMs: number;
  clock: Clock;
  /** Told of every request seated or refused (metrics). */
  observer?: FairQueuesObserver;
}

/** What a level's metrics count: requests seated (with the time they waited) and refused. */
export interface FairQueuesObserver {
  /** A request got a seat after waiting `waitedMs` (0 when it found one free). */
  dispatched(waitedMs: number): void;
  /** A request was refused after waiting `waitedMs` (0 when its queue was full on arrival). */
  rejected(why: RequestRejectedError['why'], waitedMs: number): void;
}

export class RequestRejectedError extends Error {
  override readonly name = 'RequestRejectedError';
  constructor(readonly why: 'queue-full' | 'time-out', readonly retryAfterSeconds: number) {
    super(why === 'queue-full' ? 'too many requests are waiting' : 'the request waited too long for a seat');
  }
}

interface Waiter {
  since: number;
  seat: () => void;
  reject: (error: Error) => void;
  timer: ClockTimer;
}

/** Releases a seat (call exactly once; extra calls do nothing). */
export type Release = () => void;

export class FairQueues {
  #busy = 0;
  #waiting = 0;
  /** flow -> its waiting requests, in arrival order; a Map iterates flows in the order they began waiting */
  readonly #flows = new Map<string, Waiter[]>();
  #served = 0;
  #rejected = 0;

  constructor(private readonly options: FairQueuesOptions) {}

  get executing(): number {
    return this.#busy;
  }

  get waiting(): number {
    return this.#waiting;
  }

  /** Requests seated so far and refused so far (metrics, tests). */
  get counts(): { served: number; rejected: number } {
    return { served: this.#served, rejected: this.#rejected };
  }

  /** Waits for a seat for `flow`; resolves with its release, or rejects with RequestRejectedError. */
  acquire(flow: string): Promise<Release> {
    if (this.#busy < this.options.seats && this.#waiting === 0) return Promise.resolve(this.#seat(0));
    const queue = this.#flows.get(flow);
    if ((queue?.length ?? 0) >= this.options.queueLengthPerFlow || this.#waiting >= this.options.queueLengthTotal) {
      return Promise.reject(this.#refuse(new RequestRejectedError('queue-full', 1), 0));
    }
    return new Promise<Release>((resolve, reject) => {
      const since = this.options.clock.now();
      const waiter: Waiter = {
        since,
        seat: () => resolve(this.#seat(this.options.clock.now() - since)),
        reject,
        timer: this.options.clock.setTimeout(() => this.#timeOut(flow, waiter), this.options.queueTimeoutMs),
      };
      if (queue) queue.push(waiter);
      else this.#flows.set(flow, [waiter]);
      this.#waiting++;
    });
  }

  #seat(waitedMs: number): Release {
    this.#busy++;
    this.#served++;
    this.options.observer?.dispatched(waitedMs);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#busy--;
      this.#dispatch();
    };
  }

  /** Gives free seats to waiting flows in turn: the flow served goes to the back of the round. */
  #dispatch(): void {
    while (this.#busy < this.options.seats && this.#waiting > 0) {
      const [flow, queue] = this.#flows.entries().next().value as [string, Waiter[]];
      const waiter = queue.shift()!;
      this.#flows.delete(flow);
      if (queue.length > 0) this.#flows.set(flow, queue); // to the back of the round
      this.#waiting--;
      waiter.timer.cancel();
      waiter.seat();
    }
  }

  #timeOut(flow: string, waiter: Waiter): void {
    const queue = this.#flows.get(flow);
    const at = queue?.indexOf(waiter) ?? -1;
    if (!queue || at < 0) return;
    queue.splice(at, 1);
    if (queue.length === 0) this.#flows.delete(flow);
    this.#waiting--;
    const error = new RequestRejectedError('time-out', Math.max(1, Math.ceil(this.options.queueTimeoutMs / 1000)));
    waiter.reject(this.#refuse(error, this.options.clock.now() - waiter.since));
  }

  #refuse(error: RequestRejectedError, waitedMs: number): RequestRejectedError {
    this.#rejected++;
    this.options.observer?.rejected(error.why, waitedMs);
    return error;
  }
}
