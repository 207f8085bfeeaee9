// Worker entry: runs guests one at a time, as run requests arrive, and reports each outcome. The
// runtime reuses a worker only after a guest ended normally; after anything else it terminates it.
// Does not import jco (startup cost).
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { GuestEvent, GuestRunRequest } from './guest-messages.js';
import { runGuest } from './run-guest.js';

const port = parentPort;
if (!port) throw new Error('guest-worker must run in a worker thread');

// Guests run niced, so the agent's own thread (leases, heartbeats) wins the CPU from any number of
// spinning guests. On Linux nice is per thread: this lowers only this worker's thread (elsewhere
// it would lower the whole process, so it is skipped).
const GUEST_NICENESS = 10;
if (process.platform === 'linux') setPriority(GUEST_NICENESS);

const emit = (event: GuestEvent): void => {
  if (event.type === 'output') port.postMessage(event, [event.chunk.buffer as ArrayBuffer]);
  else if (event.type === 'ended' && event.outcome.kind === 'responded') {
    port.postMessage(event, [event.outcome.response.body.buffer as ArrayBuffer]); // a buffer of its own
  } else port.postMessage(event);
};

port.on('message', (request: GuestRunRequest) => {
  void runGuest(request, emit).then(
    (outcome) => emit({ type: 'ended', outcome }),
    (error: unknown) => emit({ type: 'ended', outcome: { kind: 'trapped', message: String(error), memoryExhausted: false } }),
  );
});
emit({ type: 'ready' });
