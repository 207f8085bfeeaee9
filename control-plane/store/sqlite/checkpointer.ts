// Checkpointer: copies the SQLite write-ahead log back into the database file on a worker thread, so
// the event loop that writes never waits for a checkpoint (its page writes and, with synchronous
// NORMAL, its fsync of the database file: the only fsync that mode makes).
//
// SQLite's default (wal_autocheckpoint = 1000 pages) runs the checkpoint inside the COMMIT of the
// write that crossed the threshold, on the writer's thread. Here the writing connection has
// autocheckpoint off; the store asks for a checkpoint every `checkpointWrites` writes; the worker's
// own connection runs PASSIVE passes (they never block the writer), one at a time. The writer
// commits on meanwhile, so the frames of its last commits are not copied yet when the worker is
// done; the writer copies those few itself (onCompleted), and its next transaction then starts the
// log over: a log never wholly copied is never restarted, and grows without end. If the worker fails, the writing connection checkpoints itself
// again, as before.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The worker's code, CommonJS (an eval'd worker): one connection, one PASSIVE checkpoint per message. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
parentPort.on('message', () => {
  const [result] = db.pragma('wal_checkpoint(PASSIVE)');
  parentPort.postMessage({ busy: result.busy, log: result.log, checkpointed: result.checkpointed });
});
`;

export interface CheckpointResult {
  /** 1 when the checkpoint could not run (a lock); it runs again on the next request. */
  busy: number;
  /** Frames in the log, and how many of them are now in the database file. */
  log: number;
  checkpointed: number;
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
  constructor(path: string, private readonly onCompleted: () => void, private readonly onFailure: (error: Error) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver }, stdout: false, stderr: false });
    this.#worker.unref(); // a checkpoint never keeps the process alive
    this.#worker.on('message', (result: CheckpointResult) => {
      this.completed++;
      this.lastResult = result;
      this.#isRunning = false;
      this.onCompleted();
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
