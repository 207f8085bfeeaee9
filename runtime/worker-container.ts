// A RunningContainer for a command (wasi:cli/run): one guest run in one worker (guest-run.ts),
// whose end becomes the ContainerExit. Stops the guest gracefully, then by terminating the worker.
import type { Worker } from 'node:worker_threads';
import { exitOf, killed, oneLine, EXIT_CODE_OOM } from './container-exit.js';
import { GuestRun, type RunEnd } from './guest-run.js';
import type { PortLease } from './network/pod-port-space.js';
import type { NetRelay } from './net/net-relay.js';
import type { ContainerExit, ContainerSpec, ContainerStdin, RunningContainer } from './pod-runtime.js';
import { StdinPipeWriter } from './stdin-pipe.js';
import type { GuestRunRequest } from './worker/guest-messages.js';

export class WorkerContainer implements RunningContainer {
  readonly id: string;
  readonly startedAt = new Date();
  readonly exited: Promise<ContainerExit>;
  readonly stdin?: ContainerStdin;
  #finished: ContainerExit | undefined;
  readonly #run: GuestRun;

  constructor(
    private readonly spec: ContainerSpec,
    worker: Worker,
    request: GuestRunRequest,
    /** Takes the worker back for another guest. */
    release: (worker: Worker) => void,
    ports?: PortLease,
    net?: NetRelay,
  ) {
    this.id = spec.id;
    this.#run = new GuestRun(worker, request, { onOutput: spec.onOutput, ports, release, ...(net ? { net } : {}) });
    const stdin = request.stdinPipe ? new StdinPipeWriter(request.stdinPipe) : undefined;
    if (stdin) this.stdin = stdin;
    this.exited = this.#run.ended.then((end) => {
      stdin?.dispose();
      this.#finished = { ...this.#exitOf(end), startedAt: this.startedAt, finishedAt: new Date() };
      return this.#finished;
    });
  }

  fuelConsumed(): bigint | undefined {
    return this.#run.fuelConsumed();
  }

  memoryBytes(): number | undefined {
    return this.#run.memoryBytes();
  }

  async stop(gracePeriodMs: number): Promise<ContainerExit> {
    if (this.#finished) return this.#finished;
    this.#run.requestStop();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, gracePeriodMs))));
    await Promise.race([this.#run.ended, graceOver]);
    clearTimeout(timer);
    if (!this.#run.end) await this.#run.terminate();
    return this.exited;
  }

  #exitOf(end: RunEnd): Omit<ContainerExit, 'startedAt' | 'finishedAt'> {
    switch (end.kind) {
      case 'outcome':
        return exitOf(end.outcome, this.spec.limits?.memoryBytes);
      case 'terminated':
        return killed();
      case 'crashed':
        return end.oom
          ? { exitCode: EXIT_CODE_OOM, reason: 'OOMKilled', message: oneLine(end.message) }
          : { exitCode: 1, reason: 'Error', message: `guest worker failed: ${oneLine(end.message)}` };
    }
  }
}
