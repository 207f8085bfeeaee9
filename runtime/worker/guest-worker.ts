// Worker entry: runs guests one at a time, as run requests arrive, and reports each outcome. A
// reused HTTP handler instance (decision 053) stays here between requests: `handle` messages call
// it again, `retire` lets it go. The runtime reuses a worker only after a guest ended normally;
// after anything else it terminates it. Does not import jco (startup cost).
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { GuestEvent, GuestOutcome, GuestWorkerMessage } from './guest-messages.js';
import { runGuest, type LiveHandler } from './run-guest.js';

const port = parentPort;
if (!port) throw new Error('guest-worker must run in a worker thread');

// Guests run niced, so the agent's own thread (leases, heartbeats) wins the CPU from any number of
// spinning guests. On Linux nice is per thread: this lowers only this worker's thread (elsewhere
// it would lower the whole process, so it is skipped).
const GUEST_NICENESS = 10;
if (process.platform === 'linux') setPriority(GUEST_NICENESS);

const emit = (event: GuestEvent): void => {
  if (event.type === 'output') port.postMessage(event, [event.chunk.buffer as ArrayBuffer]);
  else if ((event.type === 'ended' || event.type === 'handled') && event.outcome.kind === 'responded') {
    port.postMessage(event, [event.outcome.response.body.buffer as ArrayBuffer]); // a buffer of its own
  } else port.postMessage(event);
};

/** The handler instance kept for the next request, if any. */
let live: LiveHandler | undefined;

const ended = (outcome: GuestOutcome, handleMs?: number): void => {
  live?.close();
  live = undefined;
  emit({ type: 'ended', outcome, ...(handleMs !== undefined ? { handleMs } : {}) });
};

port.on('message', (message: GuestWorkerMessage) => {
  switch (message.type) {
    case 'run':
      void runGuest(message, emit).then(
        ({ outcome, handleMs, live: kept }) => {
          if (!kept) return ended(outcome, handleMs);
          live = kept;
          emit({ type: 'handled', outcome, ...(handleMs !== undefined ? { handleMs } : {}) });
        },
        (error: unknown) => ended({ kind: 'trapped', message: String(error), memoryExhausted: false }),
      );
      break;
    case 'handle': {
      if (!live) return ended({ kind: 'not-started', message: 'no handler instance is kept in this worker' });
      const began = performance.now();
      const outcome = live.serve(message.http);
      const handleMs = performance.now() - began;
      // anything but a response ends the instance: the next request gets a fresh one
      if (outcome.kind === 'responded') emit({ type: 'handled', outcome, handleMs });
      else ended(outcome, handleMs);
      break;
    }
    case 'retire':
      ended({ kind: 'exited', exitCode: 0, memoryExhausted: false });
      break;
  }
});
emit({ type: 'ready' });
