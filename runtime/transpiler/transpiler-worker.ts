// Runs transpiles one at a time in a dedicated child process (transpile-process.ts); replaces it
// after any failure. Its stderr is discarded: jco prints Rust panic reports there, and the error
// already says why. The process ends once idle: with jco loaded it holds ~100 MB, and transpiles
// only happen on a component-cache miss, so a small device should not keep it between them.
import type { ChildProcess } from 'node:child_process';
import { InvalidComponentError } from '../pod-runtime.js';
import { startRuntimeProcess } from '../worker-entry.js';
import type { TranspiledComponent } from './component-transpiler.js';
import type { TranspileResponse } from './transpile-messages.js';

/** How long an idle transpiler lingers for a following transpile (e.g. a pod's next container). */
const DEFAULT_IDLE_EXIT_MS = 2000;

export class TranspilerWorker {
  #process: ChildProcess | undefined;
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

  /** Whether a transpiler process (with jco loaded) is alive right now. */
  get isRunning(): boolean {
    return this.#process !== undefined;
  }

  async close(): Promise<void> {
    clearTimeout(this.#idleTimer);
    const child = this.#process;
    this.#process = undefined;
    if (child) await end(child);
  }

  #run(bytes: Uint8Array): Promise<TranspiledComponent> {
    const child = (this.#process ??= startRuntimeProcess('transpiler/transpile-process', true));
    const id = this.#nextId++;
    child.ref();
    child.channel?.ref();
    return new Promise<TranspiledComponent>((resolve, reject) => {
      const onMessage = (response: TranspileResponse) => {
        if (response.id !== id) return;
        done();
        if (response.ok) return resolve(response.component);
        this.#recycle(child);
        reject(response.invalid ? new InvalidComponentError(response.message) : new Error(response.message));
      };
      const onFailure = (error: Error | number | null, signal?: NodeJS.Signals | null) => {
        done();
        this.#recycle(child);
        const why = error instanceof Error ? error.message : `exit code ${error}${signal ? ` (${signal})` : ''}`;
        reject(new Error(`transpiler process died: ${why}`));
      };
      const done = () => {
        child.off('message', onMessage);
        child.off('error', onFailure);
        child.off('exit', onFailure);
        // idle between transpiles: must not keep the parent alive
        child.unref();
        child.channel?.unref();
      };
      child.on('message', onMessage);
      child.on('error', onFailure);
      child.on('exit', onFailure);
      child.send({ id, bytes });
    });
  }

  #scheduleIdleExit(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      const child = this.#process;
      if (this.#pending > 0 || !child) return;
      this.#process = undefined;
      void end(child);
    }, this.idleExitMs);
    this.#idleTimer.unref();
  }

  #recycle(child: ChildProcess): void {
    if (this.#process === child) this.#process = undefined;
    void end(child);
  }
}

/** Ends a transpiler process: closing its channel makes it exit; SIGKILL if it is stuck in jco. */
function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  // an idle child is unref'd: waiting for its exit must keep the process alive, or a process with
  // nothing else left (skiff run closing its runtime) ends before it, with Node's exit code 13
  child.ref();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 1000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    if (child.connected) child.disconnect();
    else child.kill('SIGKILL');
  });
}
