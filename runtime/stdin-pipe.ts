// Interactive stdin for a guest (`kubectl exec -i`, `kubectl attach`): a byte ring in a
// SharedArrayBuffer. The runtime (main thread) writes what the client types as it arrives; the
// guest's worker reads it, blocking in Atomics.wait while the ring is empty, until end of input.
import type { GuestControl } from './wasi/guest-control.js';
import type { ByteSource } from './wasi/io.js';

/** Ring capacity; bytes beyond it wait on the main thread until the guest reads. */
const RING_BYTES = 64 * 1024;
// header (Int32): [0] bytes written (total, wraps), [1] bytes read (total, wraps), [2] writer closed
const WRITTEN = 0;
const READ = 1;
const CLOSED = 2;
const HEADER_BYTES = 16;
/** A blocked reader re-checks the stop flag this often. */
const WAIT_SLICE_MS = 50;
/** Queued bytes the writer holds back before it drops input (a guest that never reads). */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

export const createStdinPipeBuffer = (): SharedArrayBuffer => new SharedArrayBuffer(HEADER_BYTES + RING_BYTES);

/** The runtime's end: write() never blocks; what does not fit is queued and moved as the guest reads. */
export class StdinPipeWriter {
  readonly #header: Int32Array;
  readonly #ring: Uint8Array;
  readonly #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #ending = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.#header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.#ring = new Uint8Array(buffer, HEADER_BYTES);
  }

  /** False when the bytes were dropped: input was ended, or too much is waiting for the guest. */
  write(bytes: Uint8Array): boolean {
    if (this.#ending || bytes.length === 0) return !this.#ending;
    if (this.#queuedBytes + bytes.length > MAX_QUEUED_BYTES) return false;
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.length;
    this.#drain();
    return true;
  }

  /** End of input: the guest reads what is left, then EOF. */
  end(): void {
    this.#ending = true;
    this.#drain();
  }

  /** Drops anything queued (the guest ended). */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#queue.length = 0;
    this.#queuedBytes = 0;
  }

  #drain(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#queue.length > 0) {
      const written = Atomics.load(this.#header, WRITTEN);
      const free = RING_BYTES - ((written - Atomics.load(this.#header, READ)) >>> 0);
      if (free === 0) break;
      const chunk = this.#queue[0]!;
      const n = Math.min(free, chunk.length);
      for (let i = 0; i < n;) {
        const at = ((written >>> 0) + i) % RING_BYTES;
        const run = Math.min(n - i, RING_BYTES - at);
        this.#ring.set(chunk.subarray(i, i + run), at);
        i += run;
      }
      Atomics.store(this.#header, WRITTEN, (written + n) | 0);
      Atomics.notify(this.#header, WRITTEN);
      this.#queuedBytes -= n;
      if (n === chunk.length) this.#queue.shift();
      else this.#queue[0] = chunk.subarray(n);
    }
    if (this.#queue.length > 0) {
      // the guest has not read enough yet: look again soon (unref: never keeps the process alive)
      this.#timer = setTimeout(() => this.#drain(), 20);
      this.#timer.unref();
    } else if (this.#ending && Atomics.load(this.#header, CLOSED) === 0) {
      Atomics.store(this.#header, CLOSED, 1);
      Atomics.notify(this.#header, WRITTEN);
    }
  }
}

/** The guest's end (in its worker). */
export class StdinPipeSource implements ByteSource {
  readonly #header: Int32Array;
  readonly #ring: Uint8Array;

  constructor(buffer: SharedArrayBuffer) {
    this.#header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.#ring = new Uint8Array(buffer, HEADER_BYTES);
  }

  get isReadable(): boolean {
    return this.#available() > 0 || Atomics.load(this.#header, CLOSED) !== 0;
  }

  read(maxBytes: number): Uint8Array | undefined {
    const available = this.#available();
    if (available === 0) return Atomics.load(this.#header, CLOSED) !== 0 && this.#available() === 0 ? undefined : new Uint8Array();
    const n = Math.min(available, maxBytes);
    const read = Atomics.load(this.#header, READ);
    const out = new Uint8Array(n);
    for (let i = 0; i < n;) {
      const at = ((read >>> 0) + i) % RING_BYTES;
      const run = Math.min(n - i, RING_BYTES - at);
      out.set(this.#ring.subarray(at, at + run), i);
      i += run;
    }
    Atomics.store(this.#header, READ, (read + n) | 0);
    return out;
  }

  /** Blocks until there is something to read or input ended (or a stop request: checkStop throws). */
  waitReadable(control: GuestControl): void {
    for (;;) {
      control.checkStop();
      if (this.isReadable) return;
      Atomics.wait(this.#header, WRITTEN, Atomics.load(this.#header, WRITTEN), WAIT_SLICE_MS);
    }
  }

  #available(): number {
    return (Atomics.load(this.#header, WRITTEN) - Atomics.load(this.#header, READ)) >>> 0;
  }
}
