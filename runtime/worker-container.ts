// A RunningContainer backed by one guest worker: relays output, maps the outcome to a
// ContainerExit, and stops the guest gracefully, then by terminating the worker.
import { closeSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { exitOf, killed, oneLine, EXIT_CODE_OOM } from './container-exit.js';
import type { ContainerExit, ContainerSpec, RunningContainer } from './pod-runtime.js';
import { SharedGuestControl } from './wasi/guest-control.js';
import type { GuestEvent, GuestOutcome, GuestRunRequest } from './worker/guest-messages.js';
import { SharedFileTracker } from './worker/shared-file-tracker.js';

export class WorkerContainer implements RunningContainer {
  readonly id: string;
  readonly startedAt = new Date();
  readonly exited: Promise<ContainerExit>;
  #settle!: (exit: ContainerExit) => void;
  #finished: ContainerExit | undefined;
  #terminating = false;
  readonly #control: Int32Array;

  constructor(
    private readonly spec: ContainerSpec,
    private readonly worker: Worker,
    request: GuestRunRequest,
  ) {
    this.id = spec.id;
    this.#control = new Int32Array(request.control);
    this.exited = new Promise((resolve) => (this.#settle = resolve));
    worker.ref(); // a running guest keeps the process alive, an idle pool worker does not
    worker.on('message', (event: GuestEvent) => this.#onEvent(event));
    worker.on('error', (error: Error) => this.#onCrash(error));
    worker.on('exit', () => this.#onCrash(new Error('guest worker exited unexpectedly')));
    worker.postMessage(request);
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
    else if (event.type === 'ended') void this.#terminate(this.#exitOf(event.outcome));
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

  // Records the exit once, ends the worker (never reused) and closes files it left open.
  async #terminate(exit: Omit<ContainerExit, 'startedAt' | 'finishedAt'>): Promise<void> {
    if (this.#finished || this.#terminating) return;
    this.#terminating = true;
    const finished: ContainerExit = { ...exit, startedAt: this.startedAt, finishedAt: new Date() };
    await this.worker.terminate().catch(() => undefined);
    for (const fd of SharedFileTracker.openFds(this.#control)) {
      try {
        closeSync(fd);
      } catch {
        // already closed by the worker before it died
      }
    }
    this.#finished = finished;
    this.#settle(finished);
  }
}
