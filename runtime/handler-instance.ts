// One instance of an HTTP handler component in its worker, seen from the main thread (decision
// 053): started with its first request, then — when its container reuses instances — given the next
// requests one at a time, until it is retired (idle, served its maximum, container stopping) or a
// request does not end in a response (trap, limit, timeout, no response), which ends it. A fresh
// instance per request (`skiff.dev/handler-instances: fresh`) is the same with no next request.
import type { Worker } from 'node:worker_threads';
import { GuestRun, type GuestRunHooks, type RunEnd } from './guest-run.js';
import type { PortLease } from './network/pod-port-space.js';
import type { NetRelay } from './net/net-relay.js';
import type { HttpRequest } from './pod-runtime.js';
import type { GuestOutcome, GuestRunRequest } from './worker/guest-messages.js';

/** What one request got: a response from an instance that stays, or the end of the instance. */
export type ServeResult =
  | { kept: true; outcome: GuestOutcome; handleMs?: number }
  | { kept: false; end: RunEnd };

export interface PreparedRun {
  request: GuestRunRequest;
  ports?: PortLease;
  net?: NetRelay;
}

export type InstanceHooks = Pick<GuestRunHooks, 'onOutput' | 'release' | 'onStarted'>;

export class HandlerInstance {
  readonly run: GuestRun;
  /** Requests given to this instance so far (the first included). */
  served = 1;
  #answer: ((result: ServeResult) => void) | undefined;
  #answered: Promise<ServeResult>;
  idleTimer: NodeJS.Timeout | undefined;

  /** Starts the instance in `worker` with the run's first request; `answered` is its result. */
  constructor(worker: Worker, prepared: PreparedRun, hooks: InstanceHooks) {
    this.#answered = this.#expect();
    this.run = new GuestRun(worker, prepared.request, {
      ...hooks,
      ...(prepared.ports ? { ports: prepared.ports } : {}),
      ...(prepared.net ? { net: prepared.net } : {}),
      onHandled: (outcome, handleMs) => this.#settle({ kept: true, outcome, ...(handleMs !== undefined ? { handleMs } : {}) }),
    });
    void this.run.ended.then((end) => this.#settle({ kept: false, end }));
  }

  /** The result of the request the instance is serving (or last served). */
  get answered(): Promise<ServeResult> {
    return this.#answered;
  }

  /** Whether the instance is ending or ended (by itself, crashed, terminated or retired). */
  get ended(): boolean {
    return this.run.ending;
  }

  /** Gives the kept instance its next request. */
  handle(request: HttpRequest): Promise<ServeResult> {
    this.served++;
    this.#answered = this.#expect();
    this.run.setIdle(false);
    this.run.send({ type: 'handle', http: request });
    return this.#answered;
  }

  /** Lets the kept instance go: its worker cleans up and goes back to the pool. */
  retire(): Promise<RunEnd> {
    clearTimeout(this.idleTimer);
    // a retiring instance keeps the process alive until its worker answered (stop and close await it)
    this.run.setIdle(false);
    this.run.send({ type: 'retire' });
    return this.run.ended;
  }

  #expect(): Promise<ServeResult> {
    return new Promise((resolve) => (this.#answer = resolve));
  }

  #settle(result: ServeResult): void {
    const answer = this.#answer;
    this.#answer = undefined;
    if (result.kept) this.run.setIdle(true);
    answer?.(result);
  }
}
