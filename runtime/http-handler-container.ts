// A RunningContainer for a wasi:http/incoming-handler component, served as `wasmtime serve` does:
// every request runs the handler in a fresh instance, in a worker from the warm pool, under the
// container's limits (memory cap and fuel budget per request; fuel consumed adds up over requests).
// At most MAX_CONCURRENT_REQUESTS run at once; later ones wait in order. A request that traps, runs
// out of fuel or memory, sets no response or outlives its timeout fails with HttpHandlerError and
// the container keeps serving. It serves until stopped: stop lets requests in flight finish within
// the grace period, then terminates them.
import type { Worker } from 'node:worker_threads';
import { killed, memoryExhaustedMessage, oneLine } from './container-exit.js';
import { GuestRun, type RunEnd } from './guest-run.js';
import type { PortLease } from './network/pod-port-space.js';
import type { NetRelay } from './net/net-relay.js';
import {
  HttpHandlerError,
  type ContainerExit,
  type ContainerSpec,
  type HttpRequest,
  type HttpResponse,
  type RunningContainer,
} from './pod-runtime.js';
import type { GuestOutcome, GuestRunRequest } from './worker/guest-messages.js';

/** Requests one handler container runs at once (each in its own worker); the rest queue. */
export const MAX_CONCURRENT_REQUESTS = 4;

export interface HandlerRuns {
  acquire(): Promise<Worker>;
  release(worker: Worker): void;
  /** A run request (fresh control and usage blocks) and port lease for one HTTP request. */
  prepare(request: HttpRequest): { request: GuestRunRequest; ports?: PortLease; net?: NetRelay };
  /** Whether requests are metered (fuelConsumed defined). */
  metered: boolean;
}

interface Pending {
  readonly request: HttpRequest;
  readonly timeoutMs: number;
  resolve(response: HttpResponse): void;
  reject(error: HttpHandlerError): void;
  timer?: NodeJS.Timeout;
  run?: GuestRun;
  settled: boolean;
}

export class HttpHandlerContainer implements RunningContainer {
  readonly id: string;
  readonly startedAt = new Date();
  readonly exited: Promise<ContainerExit>;
  #settleExit!: (exit: ContainerExit) => void;
  #finished: ContainerExit | undefined;
  #stopping: Promise<ContainerExit> | undefined;
  readonly #queue: Pending[] = [];
  /** Requests holding a concurrency slot: getting a worker, or running. */
  readonly #active = new Set<Pending>();
  #onIdle: (() => void) | undefined;
  #completedFuel = 0n;

  constructor(
    private readonly spec: ContainerSpec,
    private readonly runs: HandlerRuns,
  ) {
    this.id = spec.id;
    this.exited = new Promise((resolve) => (this.#settleExit = resolve));
  }

  handleHttp(request: HttpRequest, timeoutMs: number): Promise<HttpResponse> {
    if (this.#stopping) return Promise.reject(new HttpHandlerError(`container ${this.id} is stopped`, { notDelivered: true }));
    return new Promise((resolve, reject) => {
      const pending: Pending = { request, timeoutMs, resolve, reject, settled: false };
      pending.timer = setTimeout(() => this.#timedOut(pending), Math.max(0, timeoutMs));
      this.#queue.push(pending);
      this.#pump();
    });
  }

  fuelConsumed(): bigint | undefined {
    if (!this.runs.metered) return undefined;
    let total = this.#completedFuel;
    for (const pending of this.#active) total += pending.run?.fuelConsumed() ?? 0n;
    return total;
  }

  /** Linear memory of the requests running now (0 when idle: no instance lives between requests). */
  memoryBytes(): number | undefined {
    if (!this.runs.metered) return undefined;
    let total = 0;
    for (const pending of this.#active) total += pending.run?.memoryBytes() ?? 0;
    return total;
  }

  stop(gracePeriodMs: number): Promise<ContainerExit> {
    if (this.#finished) return Promise.resolve(this.#finished);
    this.#stopping ??= this.#stop(gracePeriodMs);
    return this.#stopping;
  }

  async #stop(gracePeriodMs: number): Promise<ContainerExit> {
    for (const pending of this.#queue.splice(0)) this.#fail(pending, `container ${this.id} is stopping`, true);
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<void>((resolve) => (this.#onIdle = resolve));
    const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, gracePeriodMs))));
    if (this.#active.size > 0) await Promise.race([idle, graceOver]);
    clearTimeout(timer);
    const active = [...this.#active];
    // requests already answered (e.g. failed by their timeout, their instance still being
    // terminated) were not in flight: only the unanswered ones make the stop a kill
    const forced = active.filter((pending) => !pending.settled);
    for (const pending of forced) this.#fail(pending, `container ${this.id} stopped before the handler responded`);
    await Promise.all(active.map((pending) => pending.run?.terminate()));
    const exit = forced.length === 0 ? { exitCode: 0, reason: 'Completed' as const } : { ...killed(), message: `stopped with ${forced.length} request(s) in flight` };
    this.#finished = { ...exit, startedAt: this.startedAt, finishedAt: new Date() };
    this.#settleExit(this.#finished);
    return this.#finished;
  }

  #pump(): void {
    while (this.#active.size < MAX_CONCURRENT_REQUESTS && this.#queue.length > 0) {
      const pending = this.#queue.shift()!;
      this.#active.add(pending);
      void this.#start(pending);
    }
  }

  async #start(pending: Pending): Promise<void> {
    let worker: Worker;
    try {
      worker = await this.runs.acquire();
    } catch (error) {
      this.#fail(pending, `no worker for the request: ${oneLine((error as Error).message)}`);
      return this.#done(pending);
    }
    if (pending.settled) {
      // timed out or stopped while waiting for a worker: the worker is untouched
      this.runs.release(worker);
      return this.#done(pending);
    }
    const { request, ports, net } = this.runs.prepare(pending.request);
    const run = new GuestRun(worker, request, { onOutput: this.spec.onOutput, ports, ...(net ? { net } : {}), release: (w) => this.runs.release(w) });
    pending.run = run;
    const end = await run.ended;
    this.#completedFuel += run.fuelConsumed() ?? 0n;
    const result = this.#resultOf(end);
    if (typeof result === 'string') this.#fail(pending, result);
    else this.#succeed(pending, result);
    this.#done(pending);
  }

  #done(pending: Pending): void {
    this.#active.delete(pending);
    if (this.#stopping) {
      if (this.#active.size === 0) this.#onIdle?.();
    } else this.#pump();
  }

  #timedOut(pending: Pending): void {
    if (pending.settled) return;
    const queued = this.#queue.indexOf(pending);
    if (queued >= 0) this.#queue.splice(queued, 1);
    this.#fail(pending, `no response within ${pending.timeoutMs} ms${queued >= 0 ? ` (queued behind ${MAX_CONCURRENT_REQUESTS} requests)` : ''}`);
    void pending.run?.terminate();
  }

  #succeed(pending: Pending, response: HttpResponse): void {
    if (pending.settled) return;
    pending.settled = true;
    clearTimeout(pending.timer);
    pending.resolve(response);
  }

  #fail(pending: Pending, message: string, notDelivered = false): void {
    if (pending.settled) return;
    pending.settled = true;
    clearTimeout(pending.timer);
    pending.reject(new HttpHandlerError(message, { notDelivered }));
  }

  #resultOf(end: RunEnd): HttpResponse | string {
    switch (end.kind) {
      case 'outcome':
        return this.#outcomeResult(end.outcome);
      case 'terminated':
        return 'the handler was terminated';
      case 'crashed':
        return end.oom ? `the handler ran out of memory: ${oneLine(end.message)}` : `guest worker failed: ${oneLine(end.message)}`;
    }
  }

  #outcomeResult(outcome: GuestOutcome): HttpResponse | string {
    const limit = this.spec.limits?.memoryBytes;
    switch (outcome.kind) {
      case 'responded':
        return outcome.response;
      case 'no-response':
      case 'fuel-exhausted':
      case 'not-started':
        return oneLine(outcome.message);
      case 'trapped':
        return outcome.memoryExhausted ? memoryExhaustedMessage(outcome.memoryExhausted, limit) : `the handler trapped: ${oneLine(outcome.message)}`;
      case 'exited':
        return outcome.memoryExhausted ? memoryExhaustedMessage(outcome.memoryExhausted, limit) : `the handler exited with code ${outcome.exitCode} before responding`;
      case 'stopped':
        return 'the handler was stopped';
      case 'returned':
        return 'the handler returned without responding';
    }
  }
}
