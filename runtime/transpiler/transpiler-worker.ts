// Runs transpiles one at a time in a dedicated worker; replaces the worker after any failure.
// Its stderr is discarded: jco prints Rust panic reports there, and the error already says why.
import type { Worker } from 'node:worker_threads';
import { InvalidComponentError } from '../pod-runtime.js';
import { startRuntimeWorker } from '../worker-entry.js';
import type { TranspiledComponent } from './component-transpiler.js';
import type { TranspileResponse } from './transpile-messages.js';

export class TranspilerWorker {
  #worker: Worker | undefined;
  #nextId = 1;
  #queue: Promise<unknown> = Promise.resolve();

  transpile(bytes: Uint8Array): Promise<TranspiledComponent> {
    const result = this.#queue.then(() => this.#run(bytes));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
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

  #recycle(worker: Worker): void {
    if (this.#worker === worker) this.#worker = undefined;
    void worker.terminate();
  }
}
