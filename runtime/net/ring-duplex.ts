// A connection end on the main thread (the agent: port-forward, HTTP handlers reached over raw
// TCP) as a node:stream Duplex. It cannot block, so it waits for the peer with Atomics.waitAsync
// on its own wake word: reads push what the ring holds and wait when it is empty; writes wait
// when the peer's ring is full (backpressure reaches the caller through the Duplex's callbacks).
import { Duplex } from 'node:stream';
import { createConnectionBuffer, RingEndpoint, type StreamAcceptor, type StreamEnd, type Waker } from './byte-ring.js';

type WaitAsync = (array: Int32Array, index: number, value: number, timeoutMs?: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** How long one wait lasts before the stream looks at its own state again (destroyed). */
const WAIT_SLICE_MS = 1_000;
const READ_CHUNK_BYTES = 64 * 1024;

function connectionReset(): NodeJS.ErrnoException {
  return Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
}

export class RingDuplex extends Duplex {
  readonly #ring: RingEndpoint;
  readonly #wake: Int32Array;
  #pumping = false;

  /** `end`'s peer is told `waker`, whose word (index 0 of `wake`) this stream waits on. */
  constructor(end: StreamEnd, wake: Int32Array) {
    super({ allowHalfOpen: true });
    this.#ring = new RingEndpoint(end);
    this.#wake = wake;
  }

  override _read(): void {
    if (!this.#pumping) void this.#pump();
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (!this.destroyed) {
        const seen = Atomics.load(this.#wake, 0);
        const result = this.#ring.read(READ_CHUNK_BYTES);
        if (result === 'empty') {
          await this.#changed(seen);
        } else if (result === 'eof') {
          this.push(null);
          return;
        } else if (result === 'reset') {
          this.destroy(connectionReset());
          return;
        } else if (!this.push(result)) {
          return; // the consumer is full: _read starts again
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    void this.#send(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)).then(() => callback(), callback);
  }

  async #send(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      if (this.destroyed) throw new Error('stream destroyed');
      const seen = Atomics.load(this.#wake, 0);
      const taken = this.#ring.write(bytes.subarray(offset));
      if (taken === 'closed') throw new Error('write after end');
      if (taken === 'reset') throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
      offset += taken;
      if (offset < bytes.length && taken === 0) await this.#changed(seen);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#ring.shutdownSend();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error) this.#ring.reset();
    else this.#ring.close();
    Atomics.add(this.#wake, 0, 1);
    Atomics.notify(this.#wake, 0); // a pending wait of this stream ends
    callback(error);
  }

  async #changed(seen: number): Promise<void> {
    const result = waitAsync(this.#wake, 0, seen, WAIT_SLICE_MS);
    if (result.async) await result.value;
  }
}

function newWake(): { wake: Int32Array; waker: Waker } {
  const buffer = new SharedArrayBuffer(4);
  return { wake: new Int32Array(buffer), waker: { buffer, index: 0 } };
}

/** Connects to a listener from the main thread: the caller's end, or undefined when it refused. */
export function connectDuplex(accept: StreamAcceptor, from?: StreamEnd['from']): RingDuplex | undefined {
  const { wake, waker } = newWake();
  const buffer = createConnectionBuffer();
  const peer = accept({ buffer, side: 1, peer: waker, ...(from ? { from } : {}) });
  if (!peer) return undefined;
  return new RingDuplex({ buffer, side: 0, peer }, wake);
}

/** An acceptor whose connections become Duplexes on the main thread (e.g. fed to an in-process HTTP server). */
export function duplexAcceptor(onConnection: (stream: RingDuplex, end: StreamEnd) => void): StreamAcceptor {
  return (end) => {
    const { wake, waker } = newWake();
    onConnection(new RingDuplex(end, wake), end);
    return waker;
  };
}
