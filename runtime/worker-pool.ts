// A warm pool of guest workers: each container takes a started, ready worker and the pool starts
// a replacement in the background. A worker whose guest ended normally comes back (release) and
// is preferred over a fresh one: starting a worker costs ~20 ms of CPU, reusing one nothing.
import type { Worker } from 'node:worker_threads';
import { startRuntimeWorker } from './worker-entry.js';
import type { GuestEvent } from './worker/guest-messages.js';

export class WorkerPoolClosedError extends Error {
  override readonly name = 'WorkerPoolClosedError';
  constructor() {
    super('the worker pool is closed');
  }
}

export interface WorkerPoolStats {
  started: number;
  reused: number;
}

export class WorkerPool {
  readonly #warm: Array<Promise<Worker>> = [];
  #closed = false;
  readonly #stats: WorkerPoolStats = { started: 0, reused: 0 };
  /** Workers that came back: taking one of them counts as a reuse. */
  readonly #returned = new WeakSet<Promise<Worker>>();

  constructor(private warmCount: number) {
    this.#refill();
  }

  /** Changes how many started workers are kept ready: more are started, idle extra ones ended. */
  resize(warmCount: number): void {
    this.warmCount = warmCount;
    for (const extra of this.#warm.splice(warmCount * 2)) void extra.then((worker) => worker.terminate(), () => undefined);
    this.#refill();
  }

  /** A worker that has loaded the guest entry and waits for its run request. */
  async acquire(): Promise<Worker> {
    if (this.#closed) throw new WorkerPoolClosedError();
    const next = this.#warm.shift() ?? this.#start();
    if (this.#returned.has(next)) this.#stats.reused++;
    this.#refill();
    // a starting worker is unref'd (warm workers must not keep a process alive): while a caller
    // waits for it, this timer does, or a process with nothing else to do (skiff run) would end
    const waiting = setInterval(() => undefined, 60_000);
    try {
      return await next;
    } catch {
      // a warm worker died while idle: start a fresh one for this caller
      return await this.#start();
    } finally {
      clearInterval(waiting);
    }
  }

  get stats(): WorkerPoolStats {
    return { ...this.#stats };
  }

  /**
   * Takes back a worker that is idle again. A replacement was started when it was acquired, so
   * returned workers may take the pool up to twice its warm count; beyond that they are ended.
   */
  release(worker: Worker): void {
    if (this.#closed || this.#warm.length >= this.warmCount * 2) {
      void worker.terminate().catch(() => undefined);
      return;
    }
    worker.unref();
    const back = Promise.resolve(worker);
    this.#returned.add(back);
    this.#warm.unshift(back);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const warm = this.#warm.splice(0);
    await Promise.all(warm.map((w) => w.then((worker) => worker.terminate(), () => undefined)));
  }

  #start(): Promise<Worker> {
    this.#stats.started++;
    return startWorker();
  }

  #refill(): void {
    while (!this.#closed && this.#warm.length < this.warmCount) {
      const worker = this.#start();
      worker.catch(() => undefined); // surfaced to whoever acquires it
      this.#warm.push(worker);
    }
  }
}

function startWorker(): Promise<Worker> {
  const worker = startRuntimeWorker('worker/guest-worker');
  // an idle warm worker must not keep the process alive
  worker.unref();
  return new Promise((resolve, reject) => {
    const onMessage = (event: GuestEvent) => {
      if (event.type !== 'ready') return;
      cleanup();
      resolve(worker);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`guest worker exited with code ${code} before it was ready`));
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
