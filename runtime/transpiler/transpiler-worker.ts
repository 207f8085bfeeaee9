// Runs transpiles one at a time in a dedicated worker; replaces the worker after any failure.
// Its stderr is discarded: jco prints Rust panic reports there, and the error already says why.
// The worker ends once idle: with jco loaded it holds ~60 MB, and transpiles only happen on a
// component-cache miss, so a small device should not keep it between them.
import type { Worker } from 'node:worker_threads';
import { InvalidComponentError } from '../pod-runtime.js';
import { startRuntimeWorker } from '../worker-entry.js';
import type { TranspiledComponent } from './component-transpiler.js';
import type { TranspileResponse } from './transpile-messages.js';

/** How long an idle transpiler worker lingers for a following transpile (e.g. a pod's next container). */
const DEFAULT_IDLE_EXIT_MS = 2000;

export class TranspilerWorker {
  #worker: Worker | undefined;
  #nextId = 1;
  #queue: Promise<unknown> = Promise.resolve();
  #pending = 0;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly idleExitMs = DEFAULT_IDLE_EXIT_MS) {}

  transpile(bytes: Uint8Array): Promise<TranspiledComponent> {
    this.#pending++;
    clearTimeout(this.#idleTimer);
    const result = this.#queue.then(() => this.#run(bytes));
    this.#queue = result.catch(() => undefined).finally(() => {
      if (--this.#pending === 0) this.#scheduleIdleExit();
    });
    return result;
  }

  /** Whether a worker (with jco loaded) is alive right now. */
  get isRunning(): boolean {
    return this.#worker !== undefined;
  }

  async close(): Promise<void> {
    clearTimeout(this.#idleTimer);
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #run(bytes: Uint8Array): Promise<TranspiledComponent> {
    const worker = (this.#worker ??= startRuntimeWorker('transpiler/transpile-worker', true));
    const id = this.#nextId++;
    worker.ref();
    return new Promise<TranspiledComponent>((resolve, reject) => {
      const onMessage = (response: TranspileResponse) => {
        if (response.id !== id) return;
        done();
        if (response.ok) return resolve(response.component);
        this.#recycle(worker);
        reject(response.invalid ? new InvalidComponentError(response.message) : new Error(response.message));
      };
      const onFailure = (error: Error | number) => {
        done();
        this.#recycle(worker);
        reject(new Error(`transpiler worker died: ${error instanceof Error ? error.message : `exit code ${error}`}`));
      };
      const done = () => {
        worker.off('message', onMessage);
        worker.off('error', onFailure);
        worker.off('exit', onFailure);
        worker.unref(); // idle between transpiles: must not keep the process alive
      };
      worker.on('message', onMessage);
      worker.on('error', onFailure);
      worker.on('exit', onFailure);
      worker.postMessage({ id, bytes: bytes.slice() });
    });
  }

  #scheduleIdleExit(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      const worker = this.#worker;
      if (this.#pending > 0 || !worker) return;
      this.#worker = undefined;
      void worker.terminate();
    }, this.idleExitMs);
    this.#idleTimer.unref();
  }

  #recycle(worker: Worker): void {
    if (this.#worker === worker) this.#worker = undefined;
    void worker.terminate();
  }
}
