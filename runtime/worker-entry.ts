// Starts a worker thread (or a child process) on one of the runtime's entries, from dist/ (compiled JS) or, under
// vitest/tsx, from the .ts source: Node 20 workers ignore `--import tsx` in execArgv, so a tiny
// eval'd script loads the entry through tsx's API instead.
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const isTypeScriptSource = import.meta.url.endsWith('.ts');

/**
 * `entry` is relative to runtime/ and has no extension, e.g. `worker/guest-worker`.
 * `discardStderr` drops what the worker prints on stderr (e.g. Rust panic reports from jco).
 */
export function startRuntimeWorker(entry: string, discardStderr = false): Worker {
  const worker = createWorker(entry, discardStderr);
  if (discardStderr) worker.stderr.resume();
  return worker;
}

function createWorker(entry: string, discardStderr: boolean): Worker {
  const options = { stdout: false, stderr: discardStderr } as const;
  if (!isTypeScriptSource) return new Worker(new URL(`./${entry}.js`, import.meta.url), options);
  // tsx's CommonJS build of this API cannot find its own ESM half: import the ESM build by path
  const tsxApiCjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  const tsxApi = pathToFileURL(tsxApiCjs.replace(/index\.cjs$/, 'index.mjs')).href;
  const entryUrl = new URL(`./${entry}.ts`, import.meta.url).href;
  const script = `import(${JSON.stringify(tsxApi)}).then((api) => api.tsImport(${JSON.stringify(entryUrl)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(script, { ...options, eval: true });
}

/**
 * Starts a child process on a runtime entry (same conventions as workers), with an IPC channel
 * that carries typed arrays ('advanced' serialization). Under vitest/tsx it runs with tsx's loader.
 */
export function startRuntimeProcess(entry: string, discardStderr = false): ChildProcess {
  const file = fileURLToPath(new URL(`./${entry}.${isTypeScriptSource ? 'ts' : 'js'}`, import.meta.url));
  return fork(file, [], {
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', discardStderr ? 'ignore' : 'inherit', 'ipc'],
    execArgv: isTypeScriptSource ? ['--import', 'tsx'] : [],
  });
}
