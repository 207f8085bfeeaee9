// One TCP connection of the pod network, in shared memory: two bounded ring buffers (one per
// direction) in one SharedArrayBuffer that both ends map, whatever thread they run on (a guest's
// worker, or the agent's main thread for port-forward). Each end writes into its ring and reads
// from the other; after a change the peer may wait for (the ring it reads was empty, the ring it
// writes was full, a state change) it wakes the peer by bumping and notifying the peer's wake
// word (a guest's control block net word: one word wakes every socket, listener and call of that
// guest, so a poll over many of them blocks on one Atomics.wait). Nothing spins: a full ring is
// `would-block` / a blocked writer until the reader frees space, an empty one a waiting reader.

/** Bytes each direction buffers (the socket's send + receive buffer, as a kernel would size them). */
export const RING_BYTES = 256 * 1024;

/** A word a side waits on: the peer bumps it (Atomics.add + notify) after changes it may wait for. */
export interface Waker {
  buffer: SharedArrayBuffer;
  /** Int32 index into `buffer`. */
  index: number;
}

/** One end of a connection, as it travels between threads (postMessage clones the shared buffer). */
export interface StreamEnd {
  buffer: SharedArrayBuffer;
  side: 0 | 1;
  /** The other end's wake word. */
  peer: Waker;
  /** Where the connection comes from (the connecting pod's IP and port), for the accepting side. */
  from?: { host: string; port: number };
}

/**
 * Takes the far end of a new connection to a listening port (the listener queues it for accept);
 * returns the wake word of its side, or undefined when it no longer listens (connection refused).
 * `abandon`: the connection will never be handed over (the connecting guest ended first); an
 * acceptor that already holds an open stream (another node's pod, an outside server) closes it.
 */
export type StreamAcceptor = ((end: StreamEnd) => Waker | undefined) & { abandon?(): void };

// per ring: bytes written, bytes read (uint32 counters, wrapping), the writer's state, the reader's
const WRITTEN = 0;
const READ = 1;
const WRITER = 2;
const READER = 3;
const CAPACITY = 8;
const HEADER_BYTES = 64;

export const WRITER_OPEN = 0;
/** The writer shut down its sending side (FIN): the reader gets end of stream after the data. */
export const WRITER_FIN = 1;
/** The writer's side is gone without a close (its guest ended or trapped): connection-reset. */
export const WRITER_RESET = 2;
export const READER_OPEN = 0;
/** The reader shut down its receiving side: what is written is discarded. */
export const READER_SHUTDOWN = 1;
/** The reader's socket is gone: writing fails with connection-reset. */
export const READER_CLOSED = 2;

export function createConnectionBuffer(capacity = RING_BYTES): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < 16 || capacity > 1 << 30) throw new RangeError(`bad ring capacity ${capacity}`);
  const buffer = new SharedArrayBuffer(HEADER_BYTES + 2 * capacity);
  new Int32Array(buffer, 0, HEADER_BYTES / 4)[CAPACITY] = capacity;
  return buffer;
}

export type ReadResult = Uint8Array | 'empty' | 'eof' | 'reset';

/** One side's view of a connection: non-blocking operations; waiting is the caller's (on its own wake word). */
export class RingEndpoint {
  readonly #header: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #capacity: number;
  /** Header offsets of the ring this side writes and of the one it reads. */
  readonly #out: number;
  readonly #in: number;
  readonly #peer: Int32Array;
  readonly #peerIndex: number;

  constructor(readonly end: StreamEnd) {
    this.#header = new Int32Array(end.buffer, 0, HEADER_BYTES / 4);
    this.#capacity = this.#header[CAPACITY]!;
    if (!(this.#capacity >= 16) || end.buffer.byteLength !== HEADER_BYTES + 2 * this.#capacity) throw new RangeError('not a connection buffer');
    this.#bytes = new Uint8Array(end.buffer, HEADER_BYTES);
    this.#out = end.side === 0 ? 0 : 4;
    this.#in = end.side === 0 ? 4 : 0;
    this.#peer = new Int32Array(end.peer.buffer);
    this.#peerIndex = end.peer.index;
  }

  /** Bytes waiting to be read. */
  get available(): number {
    return (Atomics.load(this.#header, this.#in + WRITTEN) - Atomics.load(this.#header, this.#in + READ)) >>> 0;
  }

  /** Something to read, the end, or a reset is there (a read would not answer `empty`). */
  get readable(): boolean {
    return this.available > 0 || Atomics.load(this.#header, this.#in + WRITER) !== WRITER_OPEN
      || Atomics.load(this.#header, this.#in + READER) !== READER_OPEN;
  }

  /** Up to `max` bytes; `empty` when none are there yet; `eof` after the peer's FIN; `reset` when it is gone. */
  read(max: number): ReadResult {
    const base = this.#in;
    const writer = Atomics.load(this.#header, base + WRITER);
    if (writer === WRITER_RESET) return 'reset';
    if (Atomics.load(this.#header, base + READER) !== READER_OPEN) return 'eof';
    const written = Atomics.load(this.#header, base + WRITTEN);
    const read = Atomics.load(this.#header, base + READ);
    const count = Math.min((written - read) >>> 0, Math.max(0, Math.floor(max)));
    if (count === 0) return writer === WRITER_FIN && written === read ? 'eof' : 'empty';
    const offset = this.#ringOffset(base) ;
    const start = (read >>> 0) % this.#capacity;
    const out = new Uint8Array(count);
    const first = Math.min(count, this.#capacity - start);
    out.set(this.#bytes.subarray(offset + start, offset + start + first), 0);
    if (first < count) out.set(this.#bytes.subarray(offset, offset + count - first), first);
    Atomics.store(this.#header, base + READ, (read + count) | 0);
    // a writer waits only after it saw the ring full (written - read == capacity with the old
    // read): wake it when that may be so; loaded after the store, so no waiter is missed
    if (((Atomics.load(this.#header, base + WRITTEN) - read) >>> 0) >= this.#capacity) this.#wake();
    return out;
  }

  /** Free space in the peer's direction; `closed` after this side's FIN; `reset` when the peer is gone. */
  writable(): number | 'closed' | 'reset' {
    const base = this.#out;
    if (Atomics.load(this.#header, base + WRITER) !== WRITER_OPEN) return 'closed';
    const reader = Atomics.load(this.#header, base + READER);
    if (reader === READER_CLOSED || Atomics.load(this.#header, this.#in + WRITER) === WRITER_RESET) return 'reset';
    if (reader === READER_SHUTDOWN) return this.#capacity;
    return this.#capacity - ((Atomics.load(this.#header, base + WRITTEN) - Atomics.load(this.#header, base + READ)) >>> 0);
  }

  /** Writes what fits (all of it when the peer discards); the number of bytes taken, or why none can be. */
  write(bytes: Uint8Array): number | 'closed' | 'reset' {
    const free = this.writable();
    if (typeof free === 'string') return free;
    const base = this.#out;
    if (Atomics.load(this.#header, base + READER) === READER_SHUTDOWN) return bytes.length;
    const count = Math.min(free, bytes.length);
    if (count === 0) return 0;
    const written = Atomics.load(this.#header, base + WRITTEN);
    const offset = this.#ringOffset(base);
    const start = (written >>> 0) % this.#capacity;
    const first = Math.min(count, this.#capacity - start);
    this.#bytes.set(bytes.subarray(0, first), offset + start);
    if (first < count) this.#bytes.set(bytes.subarray(first, count), offset);
    Atomics.store(this.#header, base + WRITTEN, (written + count) | 0);
    // a reader waits only after it saw the ring empty (read == the old written): wake it when it
    // may have; loaded after the store, so a reader that saw the old value is never missed
    if (Atomics.load(this.#header, base + READ) === written) this.#wake();
    return count;
  }

  /** shutdown(send): the peer reads what was written, then end of stream. */
  shutdownSend(): void {
    this.#set(this.#out + WRITER, WRITER_OPEN, WRITER_FIN);
  }

  /** shutdown(receive): what the peer writes from now on is discarded; unread bytes are dropped. */
  shutdownReceive(): void {
    this.#set(this.#in + READER, READER_OPEN, READER_SHUTDOWN);
  }

  /** The socket is dropped: FIN to the peer (after its data), and its further writes fail with connection-reset. */
  close(): void {
    this.#set(this.#out + WRITER, WRITER_OPEN, WRITER_FIN);
    this.#closeReader();
  }

  /** The side is gone without a close (its guest ended): the peer reads connection-reset. */
  reset(): void {
    this.#set(this.#out + WRITER, WRITER_OPEN, WRITER_RESET);
    this.#closeReader();
  }

  /** Both directions are finished on this side (nothing more will be written or read by it). */
  get finished(): boolean {
    return Atomics.load(this.#header, this.#out + WRITER) !== WRITER_OPEN && Atomics.load(this.#header, this.#in + READER) === READER_CLOSED;
  }

  #closeReader(): void {
    const base = this.#in + READER;
    const before = Atomics.exchange(this.#header, base, READER_CLOSED);
    if (before !== READER_CLOSED) this.#wake();
  }

  #set(index: number, from: number, to: number): void {
    if (Atomics.compareExchange(this.#header, index, from, to) === from) this.#wake();
  }

  #ringOffset(base: number): number {
    return base === 0 ? 0 : this.#capacity;
  }

  #wake(): void {
    Atomics.add(this.#peer, this.#peerIndex, 1);
    Atomics.notify(this.#peer, this.#peerIndex);
  }
}
