// A RunningContainer backed by one guest worker: relays output, maps the outcome to a
// ContainerExit, and stops the guest gracefully, then by terminating the worker. A worker whose
// guest exited normally goes back to the pool; after a trap, a limit, a stop or a crash it is ended.
import { closeSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { exitOf, killed, oneLine, EXIT_CODE_OOM } from './container-exit.js';
import type { ContainerExit, ContainerSpec, RunningContainer } from './pod-runtime.js';
import { SharedGuestControl } from './wasi/guest-control.js';
import type { GuestEvent, GuestOutcome, GuestRunRequest } from './worker/guest-messages.js';
import { SharedFileTracker } from './worker/shared-file-tracker.js';
import { readUsage } from './limits/usage-block.js';

export class WorkerContainer implements RunningContainer {
  readonly id: string;
  readonly startedAt = new Date();
  readonly exited: Promise<ContainerExit>;
  #settle!: (exit: ContainerExit) => void;
  #finished: ContainerExit | undefined;
  #terminating = false;
  readonly #control: Int32Array;
  /** Metered guests only: what their FuelMeter last published. */
  readonly #usage: BigInt64Array | undefined;

  readonly #onMessage = (event: GuestEvent) => this.#onEvent(event);
  readonly #onError = (error: Error) => this.#onCrash(error);
  readonly #onExit = () => this.#onCrash(new Error('guest worker exited unexpectedly'));

  constructor(
    private readonly spec: ContainerSpec,
    private readonly worker: Worker,
    request: GuestRunRequest,
    /** Takes the worker back for another guest. */
    private readonly release: (worker: Worker) => void,
  ) {
    this.id = spec.id;
    this.#control = new Int32Array(request.control);
    this.#usage = request.usage ? new BigInt64Array(request.usage) : undefined;
    this.exited = new Promise((resolve) => (this.#settle = resolve));
    worker.ref(); // a running guest keeps the process alive, an idle pool worker does not
    worker.on('message', this.#onMessage);
    worker.on('error', this.#onError);
    worker.on('exit', this.#onExit);
    worker.postMessage(request);
  }

  fuelConsumed(): bigint | undefined {
    return this.#usage ? readUsage(this.#usage).fuelConsumed : undefined;
  }

  memoryBytes(): number | undefined {
    return this.#usage ? readUsage(this.#usage).memoryBytes : undefined;
  }

  async stop(gracePeriodMs: number): Promise<ContainerExit> {
    if (this.#finished) return this.#finished;
    SharedGuestControl.requestStop(this.#control);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, gracePeriodMs))));
    await Promise.race([this.exited, graceOver]);
    clearTimeout(timer);
    if (!this.#finished) await this.#terminate(killed());
    return this.exited;
  }

  #onEvent(event: GuestEvent): void {
    if (this.#finished) return;
    if (event.type === 'output') this.spec.onOutput?.(event.stream, event.chunk);
    else if (event.type === 'ended') {
      // only a guest that ran to its own end leaves the worker in a known state
      const reusable = event.outcome.kind === 'exited' && !event.outcome.memoryExhausted && !this.#terminating;
      void this.#terminate(this.#exitOf(event.outcome), reusable);
    }
  }

  #exitOf(outcome: GuestOutcome): Omit<ContainerExit, 'startedAt' | 'finishedAt'> {
    return exitOf(outcome, this.spec.limits?.memoryBytes);
  }

  #onCrash(error: Error): void {
    if (this.#terminating) return;
    // V8 ran out of heap in the worker: the nearest thing to an OOM kill this runtime has
    const isOom = (error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
    void this.#terminate(
      isOom
        ? { exitCode: EXIT_CODE_OOM, reason: 'OOMKilled', message: oneLine(error.message) }
        : { exitCode: 1, reason: 'Error', message: `guest worker failed: ${oneLine(error.message)}` },
    );
  }

  // Records the exit once, returns the worker to the pool or ends it, and closes files left open.
  async #terminate(exit: Omit<ContainerExit, 'startedAt' | 'finishedAt'>, reusable = false): Promise<void> {
    if (this.#finished || this.#terminating) return;
    this.#terminating = true;
    const finished: ContainerExit = { ...exit, startedAt: this.startedAt, finishedAt: new Date() };
    this.worker.off('message', this.#onMessage);
    this.worker.off('error', this.#onError);
    this.worker.off('exit', this.#onExit);
    if (reusable) this.worker.unref();
    else await this.worker.terminate().catch(() => undefined);
    for (const fd of SharedFileTracker.openFds(this.#control)) {
      try {
        closeSync(fd);
      } catch {
        // already closed by the worker before it died
      }
    }
    this.#finished = finished;
    if (reusable) this.release(this.worker);
    this.#settle(finished);
  }
}
