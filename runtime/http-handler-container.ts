// A RunningContainer for a wasi:http/incoming-handler component. By default an instance serves
// request after request, one at a time, as a long-lived process would (decision 053): a request
// takes an idle instance of the container, or starts one in a worker from the warm pool; up to
// MAX_CONCURRENT_REQUESTS instances serve at once and later requests wait in order. A request that
// traps, runs out of fuel or memory, sets no response or outlives its timeout fails with
// HttpHandlerError and ends its instance (the next request gets a fresh one); the container keeps
// serving. An instance is retired after `maxRequests` requests or `idleMs` without one. With
// `fresh` (`skiff.dev/handler-instances: fresh`) every request gets its own instance, as
// `wasmtime serve` does for wasi:http 0.2. Limits: the memory cap applies to an instance for its
// life, the fuel budget to each request, fuelConsumed() adds up over everything. It serves until
// stopped: stop retires the idle instances and lets requests in flight finish within the grace
// period, then terminates them.
import type { Worker } from 'node:worker_threads';
import { killed, memoryExhaustedMessage, oneLine } from './container-exit.js';
import type { RunEnd } from './guest-run.js';
import { HandlerInstance, type PreparedRun, type ServeResult } from './handler-instance.js';
import {
  HttpHandlerError,
  type ContainerExit,
  type ContainerSpec,
  type HttpRequest,
  type HttpResponse,
  type RunningContainer,
} from './pod-runtime.js';
import type { GuestOutcome } from './worker/guest-messages.js';
import { createOutputBlock } from './worker/output-block.js';

/** Requests one handler container runs at once (each in its own instance and worker); the rest queue. */
export const MAX_CONCURRENT_REQUESTS = 4;
/** Requests one instance serves before it is retired (bounds what a leaking guest can hold). */
export const DEFAULT_MAX_REQUESTS_PER_INSTANCE = 1_000;
/** An instance without a request for this long is retired (its memory and worker given back). */
export const DEFAULT_IDLE_INSTANCE_MS = 10_000;

export interface InstanceReuse {
  maxRequests: number;
  idleMs: number;
}

export interface HandlerRuns {
  acquire(): Promise<Worker>;
  release(worker: Worker): void;
  /** A run request (fresh control and usage blocks) and port lease for one instance. */
  prepare(request: HttpRequest): PreparedRun;
  /** Whether requests are metered (fuelConsumed defined). */
  metered: boolean;
  /** Keep instances between requests; absent: a fresh instance per request. */
  reuse?: InstanceReuse;
}

/** What the container's instances cost so far: instantiation vs handler calls (bench:network). */
export interface HandlerInstanceStats {
  instancesStarted: number;
  requests: number;
  /** Requests served by an instance that had served before. */
  reusedRequests: number;
  instantiateMs: number[];
  handleMs: number[];
}

const MAX_SAMPLES = 4_096;

interface Pending {
  readonly request: HttpRequest;
  readonly timeoutMs: number;
  resolve(response: HttpResponse): void;
  reject(error: HttpHandlerError): void;
  timer?: NodeJS.Timeout;
  instance?: HandlerInstance;
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
  /** Requests holding a concurrency slot: getting an instance, or running. */
  readonly #active = new Set<Pending>();
  /** Instances not ended yet, serving or idle. */
  readonly #live = new Set<HandlerInstance>();
  /** Kept instances waiting for a request, the most recently used last. */
  readonly #idle: HandlerInstance[] = [];
  #onIdle: (() => void) | undefined;
  #completedFuel = 0n;
  readonly #stats: HandlerInstanceStats = { instancesStarted: 0, requests: 0, reusedRequests: 0, instantiateMs: [], handleMs: [] };

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
    for (const instance of this.#live) total += instance.run.fuelConsumed() ?? 0n;
    return total;
  }

  /** Linear memory of the instances alive now, serving or idle. */
  memoryBytes(): number | undefined {
    if (!this.runs.metered) return undefined;
    let total = 0;
    for (const instance of this.#live) total += instance.run.memoryBytes() ?? 0;
    return total;
  }

  /** Instances started, requests served, and the time spent instantiating and in the handler. */
  get instanceStats(): HandlerInstanceStats {
    return { ...this.#stats, instantiateMs: [...this.#stats.instantiateMs], handleMs: [...this.#stats.handleMs] };
  }

  /** Kept instances waiting for a request now. */
  get idleInstances(): number {
    return this.#idle.length;
  }

  stop(gracePeriodMs: number): Promise<ContainerExit> {
    if (this.#finished) return Promise.resolve(this.#finished);
    this.#stopping ??= this.#stop(gracePeriodMs);
    return this.#stopping;
  }

  async #stop(gracePeriodMs: number): Promise<ContainerExit> {
    for (const pending of this.#queue.splice(0)) this.#fail(pending, `container ${this.id} is stopping`, true);
    const retired = this.#idle.splice(0).map((instance) => instance.retire());
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
    await Promise.all(active.map((pending) => pending.instance?.run.terminate()));
    // instances that answered during the grace period were retired as they came back
    await Promise.all([...retired, ...[...this.#live].map((instance) => instance.run.ended)]);
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
    this.#stats.requests++;
    const kept = this.#takeIdle();
    let result: ServeResult;
    if (kept) {
      this.#stats.reusedRequests++;
      pending.instance = kept;
      result = await kept.handle(pending.request);
    } else {
      const started = await this.#startInstance(pending);
      if (!started) return this.#done(pending);
      result = await started.answered;
    }
    const handleMs = result.kept ? result.handleMs : result.end.kind === 'outcome' ? result.end.handleMs : undefined;
    if (handleMs !== undefined) sample(this.#stats.handleMs, handleMs);
    if (result.kept) {
      const response = result.outcome.kind === 'responded' ? result.outcome.response : undefined;
      if (response) this.#succeed(pending, response);
      else this.#fail(pending, 'the handler did not respond');
      this.#park(pending.instance!);
    } else {
      const answer = this.#resultOf(result.end);
      if (typeof answer === 'string') this.#fail(pending, answer);
      else this.#succeed(pending, answer);
    }
    this.#done(pending);
  }

  /** A new instance serving `pending` as its first request; undefined when the request was failed or gone. */
  async #startInstance(pending: Pending): Promise<HandlerInstance | undefined> {
    let worker: Worker;
    try {
      worker = await this.runs.acquire();
    } catch (error) {
      this.#fail(pending, `no worker for the request: ${oneLine((error as Error).message)}`);
      return undefined;
    }
    if (pending.settled) {
      // timed out or stopped while waiting for a worker: the worker is untouched
      this.runs.release(worker);
      return undefined;
    }
    const prepared = this.runs.prepare(pending.request);
    if (this.runs.reuse) prepared.request.reuse = true;
    prepared.request.output = createOutputBlock();
    const instance = new HandlerInstance(worker, prepared, {
      onOutput: this.spec.onOutput,
      release: (w) => this.runs.release(w),
      onStarted: ({ instantiateMs }) => sample(this.#stats.instantiateMs, instantiateMs),
    });
    this.#stats.instancesStarted++;
    pending.instance = instance;
    this.#live.add(instance);
    void instance.run.ended.then(() => {
      this.#live.delete(instance);
      this.#completedFuel += instance.run.fuelConsumed() ?? 0n;
      const idle = this.#idle.indexOf(instance);
      if (idle >= 0) this.#idle.splice(idle, 1);
      clearTimeout(instance.idleTimer);
    });
    return instance;
  }

  #takeIdle(): HandlerInstance | undefined {
    for (let instance = this.#idle.pop(); instance; instance = this.#idle.pop()) {
      clearTimeout(instance.idleTimer);
      if (!instance.ended) return instance;
    }
    return undefined;
  }

  /** An instance that answered: kept for the next request, or retired. */
  #park(instance: HandlerInstance): void {
    const reuse = this.runs.reuse;
    if (instance.ended) return;
    if (!reuse || this.#stopping || instance.served >= reuse.maxRequests) {
      void instance.retire();
      return;
    }
    instance.idleTimer = setTimeout(() => {
      const idle = this.#idle.indexOf(instance);
      if (idle < 0) return;
      this.#idle.splice(idle, 1);
      void instance.retire();
    }, reuse.idleMs);
    instance.idleTimer.unref();
    this.#idle.push(instance);
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
    void pending.instance?.run.terminate();
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

function sample(samples: number[], value: number): void {
  if (samples.length >= MAX_SAMPLES) samples.shift();
  samples.push(value);
}
