// One guest run in one worker, seen from the main thread: relays the guest's output and port
// events (and, for a reused HTTP handler instance, its answers to one request after another:
// `send`, onHandled), and ends exactly once — by itself (the worker reports an outcome), by a crash of the
// worker, or terminated by the runtime. A worker whose guest ended normally goes back to the pool;
// after a trap, a limit, a termination or a crash it is ended. Whatever happened, files the guest
// left open are closed and the pod ports it held are freed.
import type { Worker } from 'node:worker_threads';
import { MemoryPool } from './limits/memory-pool.js';
import { readUsage } from './limits/usage-block.js';
import { WASM_PAGE_BYTES } from './wasm-binary.js';
import type { PortLease } from './network/pod-port-space.js';
import type { NetRelay } from './net/net-relay.js';
import { SharedGuestControl } from './wasi/guest-control.js';
import {
  CONTROL_POOL_PAGES_INDEX,
  type GuestEvent,
  type GuestHandleRequest,
  type GuestOutcome,
  type GuestRetireRequest,
  type GuestRunRequest,
} from './worker/guest-messages.js';
import { SharedFileTracker } from './worker/shared-file-tracker.js';
import { drainOutputBlock } from './worker/output-block.js';

export type RunEnd =
  /** `handleMs`: how long the last handler call took (HTTP handlers). */
  | { kind: 'outcome'; outcome: GuestOutcome; handleMs?: number }
  /** The worker died; `oom` when V8 ran out of heap in it. */
  | { kind: 'crashed'; oom: boolean; message: string }
  | { kind: 'terminated' };

export interface GuestRunHooks {
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void;
  /** The run's share of its pod's ports, when the pod has a network. */
  ports?: PortLease;
  /** The run's way into its pod network (outgoing requests), when it has one. */
  net?: NetRelay;
  /** Takes the worker back for another guest. */
  release(worker: Worker): void;
  /** The guest was instantiated (ms spent evaluating the glue and instantiating). */
  onStarted?: (timings: { evaluateMs: number; instantiateMs: number }) => void;
  /** A kept handler instance answered a request and waits for the next (decision 053). */
  onHandled?: (outcome: GuestOutcome, handleMs: number | undefined) => void;
}

/** Only a guest that ran to its own end leaves the worker in a known state. */
function leavesWorkerReusable(outcome: GuestOutcome): boolean {
  switch (outcome.kind) {
    case 'exited':
      return !outcome.memoryExhausted;
    case 'responded':
    case 'no-response':
      return true;
    default:
      return false;
  }
}

export class GuestRun {
  readonly ended: Promise<RunEnd>;
  #settle!: (end: RunEnd) => void;
  #finishing: Promise<void> | undefined;
  #end: RunEnd | undefined;
  readonly #control: Int32Array;
  /** Metered guests only: what their FuelMeter last published. */
  readonly #usage: BigInt64Array | undefined;
  /** Memory-accounted runs: whether the control block counts their pages, and the node's pool. */
  readonly #accounted: boolean;
  readonly #pool: MemoryPool | undefined;
  /** HTTP handlers: where the guest's output waits for the end of each request. */
  readonly #output: SharedArrayBuffer | undefined;

  readonly #onMessage = (event: GuestEvent) => this.#onEvent(event);
  readonly #onError = (error: Error) => this.#onCrash(error);
  readonly #onExit = () => this.#onCrash(new Error('guest worker exited unexpectedly'));

  constructor(
    private readonly worker: Worker,
    request: GuestRunRequest,
    private readonly hooks: GuestRunHooks,
  ) {
    this.#control = new Int32Array(request.control);
    this.#usage = request.usage ? new BigInt64Array(request.usage) : undefined;
    this.#accounted = request.memory !== undefined;
    this.#pool = request.memory?.pool ? new MemoryPool(request.memory.pool) : undefined;
    this.#output = request.output;
    this.ended = new Promise((resolve) => (this.#settle = resolve));
    worker.ref(); // a running guest keeps the process alive, an idle pool worker does not
    worker.on('message', this.#onMessage);
    worker.on('error', this.#onError);
    worker.on('exit', this.#onExit);
    hooks.net?.attach(this.#control);
    worker.postMessage(request, request.net ? [request.net] : []);
  }

  /** Whether it is ending or ended (no more messages go to the guest). */
  get ending(): boolean {
    return this.#finishing !== undefined;
  }

  /** How it ended, once it has. */
  get end(): RunEnd | undefined {
    return this.#end;
  }

  fuelConsumed(): bigint | undefined {
    return this.#usage ? readUsage(this.#usage).fuelConsumed : undefined;
  }

  memoryBytes(): number | undefined {
    if (this.#accounted) return Atomics.load(this.#control, CONTROL_POOL_PAGES_INDEX) * WASM_PAGE_BYTES;
    return this.#usage ? readUsage(this.#usage).memoryBytes : undefined;
  }

  /** Sends a kept handler instance its next request, or lets it go (ignored once the run is ending). */
  send(message: GuestHandleRequest | GuestRetireRequest): void {
    if (!this.#finishing) this.worker.postMessage(message);
  }

  /** A kept instance waiting for requests does not keep the process alive; one serving does. */
  setIdle(idle: boolean): void {
    if (this.#finishing) return;
    if (idle) this.worker.unref();
    else this.worker.ref();
  }

  /** Asks the guest to end: host calls and fuel checks unwind it (a spinning unmetered guest ignores it). */
  requestStop(): void {
    SharedGuestControl.requestStop(this.#control);
  }

  /** Ends the worker now unless the run already ended; resolves when everything is released. */
  async terminate(): Promise<RunEnd> {
    await this.#finish({ kind: 'terminated' }, false);
    return this.ended;
  }

  #onEvent(event: GuestEvent): void {
    if (this.#finishing) return;
    switch (event.type) {
      case 'output':
        this.hooks.onOutput?.(event.stream, event.chunk);
        break;
      case 'listening':
        this.hooks.ports?.listening(event.port);
        break;
      case 'port-closed':
        this.hooks.ports?.closed(event.port);
        break;
      case 'started':
        this.hooks.onStarted?.(event);
        break;
      case 'handled':
        this.#drainOutput(); // before the next request goes to the worker
        this.hooks.onHandled?.(event.outcome, event.handleMs);
        break;
      case 'ended': {
        const end: RunEnd = { kind: 'outcome', outcome: event.outcome, ...(event.handleMs !== undefined ? { handleMs: event.handleMs } : {}) };
        void this.#finish(end, leavesWorkerReusable(event.outcome));
        break;
      }
    }
  }

  #drainOutput(): void {
    if (this.#output) drainOutputBlock(this.#output, (stream, chunk) => this.hooks.onOutput?.(stream, chunk));
  }

  #onCrash(error: Error): void {
    // V8 ran out of heap in the worker: the nearest thing to an OOM kill this runtime has
    const oom = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
    void this.#finish({ kind: 'crashed', oom, message: error.message.split('\n')[0]! }, false);
  }

  #finish(end: RunEnd, reusable: boolean): Promise<void> {
    this.#finishing ??= this.#release(end, reusable);
    return this.#finishing;
  }

  async #release(end: RunEnd, reusable: boolean): Promise<void> {
    this.worker.off('message', this.#onMessage);
    this.worker.off('error', this.#onError);
    this.worker.off('exit', this.#onExit);
    if (reusable) this.worker.unref();
    else await this.worker.terminate().catch(() => undefined);
    // the worker is done writing: what its last request wrote, even one killed mid-call
    this.#drainOutput();
    // only numbers that still name the guest's files: a reused number belongs to someone else now
    SharedFileTracker.closeLeftOpen(this.#control);
    this.hooks.ports?.end(this.#control);
    this.hooks.net?.close();
    // the run's memories are gone (or will be, with the worker's next guest): back to the pool
    this.#pool?.release(Atomics.exchange(this.#control, CONTROL_POOL_PAGES_INDEX, 0));
    this.#end = end;
    if (reusable) this.hooks.release(this.worker);
    this.#settle(end);
  }
}
