// Child-process entry that owns jco. A Rust panic inside jco's wasm-tools poisons its instance for
// every later call ("cannot enter component instance"), so the runtime replaces this process after
// any failure; it also keeps 50-700 ms transpiles off the agent's main thread. A process rather than
// a worker thread: compiling and running jco's ~10 MB of wasm leaves ~100 MB in malloc arenas that
// the OS gets back only when the process exits.
import { InvalidComponentError } from '../pod-runtime.js';
import { transpileComponent } from './component-transpiler.js';
import type { TranspileRequest, TranspileResponse } from './transpile-messages.js';

const send = process.send?.bind(process);
if (!send) throw new Error('transpile-process must be started with an IPC channel');

process.on('message', async ({ id, bytes }: TranspileRequest) => {
  let response: TranspileResponse;
  try {
    response = { id, ok: true, component: await transpileComponent(bytes) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    response = { id, ok: false, invalid: error instanceof InvalidComponentError, message };
  }
  send(response);
});
// the runtime went away (or closed the channel): nothing left to do
process.on('disconnect', () => process.exit(0));
