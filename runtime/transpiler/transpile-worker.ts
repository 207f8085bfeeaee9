// Worker entry that owns jco. A Rust panic inside jco's wasm-tools poisons its instance for every
// later call ("cannot enter component instance"), so the runtime recycles this worker after any
// failure; it also keeps 50-700 ms transpiles off the agent's main thread.
import { parentPort } from 'node:worker_threads';
import { InvalidComponentError } from '../pod-runtime.js';
import { transpileComponent } from './component-transpiler.js';
import type { TranspileRequest, TranspileResponse } from './transpile-messages.js';

const port = parentPort;
if (!port) throw new Error('transpile-worker must run in a worker thread');

port.on('message', async ({ id, bytes }: TranspileRequest) => {
  let response: TranspileResponse;
  try {
    response = { id, ok: true, component: await transpileComponent(bytes) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    response = { id, ok: false, invalid: error instanceof InvalidComponentError, message };
  }
  // copied, not transferred: jco's outputs may be views of buffers that cannot be detached
  port.postMessage(response);
});
