// Checkpointer: copies the SQLite write-ahead log back into the database file on a worker thread, so
// the event loop that writes never waits for a checkpoint (its page writes and, with synchronous
// NORMAL, its fsyncs of the log and the database file: the only fsyncs that mode makes).
//
// SQLite's default (wal_autocheckpoint = 1000 pages) runs the checkpoint inside the COMMIT of the
// write that crossed the threshold, on the writer's thread. Here the writing connection has
// autocheckpoint off; the store asks for a checkpoint every `checkpointWrites` writes; the worker's
// own connection runs PASSIVE passes (they never block the writer), one request at a time.
//
// The log starts over when a transaction of the writer begins with every frame of it copied; the
// writer commits on meanwhile, so the worker runs passes until one finds nothing new to copy
// ("clean": the writer's next transaction then starts the log over), at most MAX_PASSES. Before,
// the writer itself copied what was committed during the worker's pass, so that the log always
// restarted: a few frames, but with two fsyncs, 20-230 ms of the event loop on a busy disk. Now the
// writer checkpoints itself only when the worker has not found the log clean for so long that it
// holds `maxLogFrames` frames: the log stays bounded. If the worker fails, the writing connection
// checkpoints inside its commits again, as before.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** PASSIVE passes per request at most: a writer that keeps committing during each is left for the next request. */
export const MAX_PASSES = 8;

/**
 * The worker's code, CommonJS (an eval'd worker): one connection; per message, PASSIVE passes until
 * one finds no frame it had not copied (a pass reports the log as it found it when it began).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
let copied = -1; // frames of the log copied by the last pass (a log that started over has fewer)
parentPort.on('message', () => {
  let result;
  let passes = 0;
  let clean = false;
  while (!clean && passes < workerData.maxPasses) {
    [result] = db.pragma('wal_checkpoint(PASSIVE)');
    passes++;
    if (result.busy || result.checkpointed < result.log) break; // a reader holds frames: next request
    clean = result.log === 0 || result.log === copied;
    copied = result.checkpointed;
  }
  parentPort.postMessage({ busy: result.busy, log: result.log, checkpointed: result.checkpointed, passes, clean });
});
`;

export interface CheckpointResult {
  /** 1 when the checkpoint could not run (a lock); it runs again on the next request. */
  busy: number;
  /** Frames in the log, and how many of them are now in the database file. */
  log: number;
  checkpointed: number;
  /** PASSIVE passes the worker ran for this request. */
  passes: number;
  /** The last pass found every frame copied already: the writer's next transaction starts the log over. */
  clean: boolean;
}

export class Checkpointer {
  readonly #worker: Worker;
  #isRunning = false;
  #isWanted = false;
  #isClosed = false;
  #closed: Promise<void> | undefined;
  /** Checkpoints the worker finished. */
  completed = 0;
  lastResult: CheckpointResult | undefined;

  /**
   * `onCompleted` runs on the writer's thread after each checkpoint (between its transactions);
   * `onFailure` once if the worker dies: the writer then checkpoints itself.
   */
  constructor(path: string, private readonly onCompleted: (result: CheckpointResult) => void, maxPasses: number | undefined, private readonly onFailure: (error: Error) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver, maxPasses: maxPasses ?? MAX_PASSES }, stdout: false, stderr: false });
    this.#worker.unref(); // a checkpoint never keeps the process alive
    this.#worker.on('message', (result: CheckpointResult) => {
      this.completed++;
      this.lastResult = result;
      this.#isRunning = false;
      this.onCompleted(result);
      if (this.#isWanted) this.request();
    });
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', (code) => {
      if (!this.#isClosed) this.#fail(new Error(`the checkpoint worker exited with code ${code}`));
    });
  }

  /** Asks for a checkpoint: now if none runs, else right after the running one. */
  request(): void {
    if (this.#isClosed) return;
    if (this.#isRunning) {
      this.#isWanted = true;
      return;
    }
    this.#isWanted = false;
    this.#isRunning = true;
    this.#worker.postMessage('checkpoint');
  }

  /** Stops the worker (a running checkpoint finishes or is abandoned: the log keeps every frame). */
  close(): Promise<void> {
    this.#isClosed = true;
    this.#closed ??= this.#worker.terminate().then(() => undefined);
    return this.#closed;
  }

  #fail(error: Error): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    void this.#worker.terminate();
    this.onFailure(error);
  }
}
