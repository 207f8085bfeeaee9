// Messages between the runtime (main thread) and a guest worker, and the shared control layout.
import type { FuelPolicy } from '../limits/fuel-meter.js';
import type { FunctionSignature } from '../export-signature.js';
import type { MemoryExhaustion } from '../limits/memory-account.js';
import type { HttpRequest, HttpResponse } from '../pod-runtime.js';
import type { MessagePort } from 'node:worker_threads';
import type { PreopenDir } from '../wasi/filesystem.js';

export interface GuestRunRequest {
  type: 'run';
  /** jco-generated function body returning `{ instantiate }`. */
  source: string;
  /** A preview 1 core module (no `source`): it runs with the p1 host (runtime/wasi/preview1/). */
  preview1?: boolean;
  /** Identifies `source` (the component digest): a reused worker evaluates each source once. */
  sourceKey: string;
  modules: Record<string, WebAssembly.Module>;
  args: string[];
  env: Array<[string, string]>;
  stdin: Uint8Array;
  /** Interactive stdin (runtime/stdin-pipe.ts): read instead of `stdin` when present. */
  stdinPipe?: SharedArrayBuffer;
  preopens: PreopenDir[];
  /** Int32Array view: see CONTROL_* below. */
  control: SharedArrayBuffer;
  /** Set when the modules are metered: budget and/or CPU quota. */
  fuel?: FuelPolicy;
  /** BigInt64Array view, metered guests only: see limits/usage-block.ts. */
  usage?: SharedArrayBuffer;
  /** CPU-quota period state shared by all instances of the container (limits/fuel-meter.ts). */
  period?: SharedArrayBuffer;
  /**
   * The pod network's TCP port bitmap (see pod-port-space.ts): with it the guest may bind and
   * listen; without it wasi:sockets denies both.
   */
  ports?: SharedArrayBuffer;
  /**
   * Memory accounting (limits/memory-account.ts), when the modules route memory.grow to the host:
   * the container's limit in pages (all its memories together), the node's pool, and the initial
   * pages each core module defines (by name).
   */
  memory?: { limitPages?: number; pool?: SharedArrayBuffer; minPages: Record<string, number> };
  /** Call this export instead of running the command; a preview 1 module's comes with its signature. */
  invoke?: { name: string; args: string[]; signature?: FunctionSignature };
  /** Present for one request to a wasi:http/incoming-handler; absent to run wasi:cli/run. */
  http?: HttpRequest;
  /**
   * With `http`: keep the instance after it responded, for the container's next requests
   * (GuestHandleRequest), until a GuestRetireRequest or a request that does not respond.
   */
  reuse?: boolean;
  /**
   * The guest's way into the pod network (net/guest-net.ts): outgoing wasi:http requests go out
   * on this port (transferred to the worker) and the answers come back on it. Absent: denied.
   */
  net?: MessagePort;
  /**
   * HTTP handlers: the instance's output block (output-block.ts). The guest's output waits there
   * and the runtime reads it when a request ends (or the worker is gone) instead of a message per
   * write. Absent: every write is an `output` message.
   */
  output?: SharedArrayBuffer;
}

/** The next request for the handler instance kept in the worker (GuestRunRequest.reuse). */
export interface GuestHandleRequest {
  type: 'handle';
  http: HttpRequest;
}

/** Lets the kept handler instance go: the worker cleans up and reports `ended` (exited 0). */
export interface GuestRetireRequest {
  type: 'retire';
}

export type GuestWorkerMessage = GuestRunRequest | GuestHandleRequest | GuestRetireRequest;

/** How a guest run ended, as seen from inside its worker. */
/** false, or which bound a refused memory.grow met: the container's limit or the node's pool. */
export type MemoryExhausted = false | MemoryExhaustion;

export type GuestOutcome =
  | { kind: 'exited'; exitCode: number; memoryExhausted: MemoryExhausted }
  | { kind: 'trapped'; message: string; memoryExhausted: MemoryExhausted }
  | { kind: 'fuel-exhausted'; message: string }
  | { kind: 'stopped' }
  | { kind: 'not-started'; message: string }
  /** An invoked export returned these values (formatted). */
  | { kind: 'returned'; results: string[] }
  /** An HTTP handler returned and its response is complete. */
  | { kind: 'responded'; response: HttpResponse }
  /** An HTTP handler returned without a usable response (none set, an error set, body unfinished). */
  | { kind: 'no-response'; message: string };

export type GuestEvent =
  | { type: 'ready' }
  | { type: 'started'; evaluateMs: number; instantiateMs: number }
  | { type: 'output'; stream: 'stdout' | 'stderr'; chunk: Uint8Array }
  /** The guest listens on a TCP port of its pod network (the port is claimed in the bitmap). */
  | { type: 'listening'; port: number }
  /** The guest dropped its listener on `port` (already released in the bitmap). */
  | { type: 'port-closed'; port: number }
  /** A kept handler instance responded (outcome `responded`) and waits for the next request. */
  | { type: 'handled'; outcome: GuestOutcome; handleMs?: number }
  /** The run is over; `handleMs`: how long its last handler call took. */
  | { type: 'ended'; outcome: GuestOutcome; handleMs?: number };

// Control block: [0] stop flag, [1..MAX_OPEN_FILES] host fds the guest holds open (fd + 1, 0 = free),
// so the runtime can close them after terminating a worker that could not clean up; then
// MAX_BOUND_PORTS slots of pod-network ports the guest holds (port + 1, 0 = free), released by the
// runtime when the guest ends, however it ends; then the pages the run took from the node's memory
// pool (given back by the runtime when it ends).
export const CONTROL_STOP_INDEX = 0;
export const CONTROL_FIRST_FD_INDEX = 1;
export const MAX_OPEN_FILES = 128;
export const CONTROL_FIRST_PORT_INDEX = CONTROL_FIRST_FD_INDEX + MAX_OPEN_FILES;
export const MAX_BOUND_PORTS = 32;
export const CONTROL_POOL_PAGES_INDEX = CONTROL_FIRST_PORT_INDEX + MAX_BOUND_PORTS;
/** Bumped (and notified) by the runtime each time it answers the guest's network call. */
export const CONTROL_NET_INDEX = CONTROL_POOL_PAGES_INDEX + 1;
/**
 * Per fd slot: who the fd was when the guest opened it (low 32 bits of its inode), so the runtime
 * closes a left-over number only while it still names that file, never a number reused since.
 */
export const CONTROL_FIRST_FD_IDENTITY_INDEX = CONTROL_NET_INDEX + 1;
export const CONTROL_LENGTH = CONTROL_FIRST_FD_IDENTITY_INDEX + MAX_OPEN_FILES;

export function createControlBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_LENGTH * Int32Array.BYTES_PER_ELEMENT);
}
