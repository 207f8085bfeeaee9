// One pod TCP connection carried over a byte link between nodes (an upgraded tunnel connection, or
// the relay's connection to the control plane): the link carries frames, so a FIN, a reset and
// data stay distinct whatever the link's own close semantics (TLS has none for half-close):
//   [type: u8][length: u32 big-endian][payload: length bytes]
//   DATA (0): bytes, 1..MAX_FRAME_BYTES;  FIN (1): no more data this way;  RESET (2): connection reset.
// Backpressure is the link's: a DATA frame is acknowledged to the writer only when the link took
// it (write() true, or 'drain'), and the link is paused while the reader's buffer is full, so a
// slow guest on one node slows the writing guest on the other through TCP's own flow control.
import { Duplex } from 'node:stream';

export const FRAME_DATA = 0;
export const FRAME_FIN = 1;
export const FRAME_RESET = 2;
/** Largest DATA payload in one frame. */
export const MAX_FRAME_BYTES = 64 * 1024;
const HEADER_BYTES = 5;

export function connectionReset(message = 'read ECONNRESET'): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code: 'ECONNRESET' });
}

/** Encodes one frame. */
export function frame(type: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.byteLength);
  out[0] = type;
  out.writeUInt32BE(payload.byteLength, 1);
  out.set(payload, HEADER_BYTES);
  return out;
}

/** Splits a byte sequence into frames; a malformed one makes `push` throw. */
export class FrameDecoder {
  #pending: Buffer = Buffer.alloc(0);

  /** The frames completed by `chunk`. Throws on an unknown type or a bad length. */
  push(chunk: Buffer): Array<{ type: number; payload: Buffer }> {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const out: Array<{ type: number; payload: Buffer }> = [];
    while (this.#pending.length >= HEADER_BYTES) {
      const type = this.#pending[0]!;
      const length = this.#pending.readUInt32BE(1);
      if (type > FRAME_RESET) throw new Error(`unknown frame type ${type}`);
      if (type === FRAME_DATA ? length < 1 || length > MAX_FRAME_BYTES : length !== 0) throw new Error(`bad frame length ${length} for type ${type}`);
      if (this.#pending.length < HEADER_BYTES + length) break;
      out.push({ type, payload: this.#pending.subarray(HEADER_BYTES, HEADER_BYTES + length) });
      this.#pending = this.#pending.subarray(HEADER_BYTES + length);
    }
    return out;
  }
}

/**
 * The connection as a Duplex over `link`: write() sends DATA, end() a FIN, destroy(error) a RESET;
 * a FIN read is end of stream, a RESET (or the link gone before a FIN) an ECONNRESET error.
 * `head`: bytes of the link already read (after an HTTP upgrade).
 */
export class FramedStream extends Duplex {
  readonly #link: Duplex;
  readonly #decoder = new FrameDecoder();
  #finRead = false;
  #finSent = false;

  constructor(link: Duplex, head?: Buffer) {
    super({ allowHalfOpen: true });
    this.#link = link;
    link.on('data', (chunk: Buffer) => this.#onData(chunk));
    link.on('end', () => this.#linkGone());
    link.on('close', () => this.#linkGone());
    link.on('error', () => this.#linkGone());
    if (head && head.length > 0) this.#onData(head);
  }

  #onData(chunk: Buffer): void {
    if (this.destroyed) return;
    let frames;
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.destroy(connectionReset(`malformed stream: ${(error as Error).message}`));
      return;
    }
    for (const { type, payload } of frames) {
      if (this.#finRead) continue; // nothing is read after a FIN
      if (type === FRAME_DATA) {
        if (!this.push(Buffer.from(payload))) this.#link.pause();
      } else if (type === FRAME_FIN) {
        this.#finRead = true;
        this.push(null);
        this.#closeWhenDone();
      } else {
        this.destroy(connectionReset());
        return;
      }
    }
  }

  #linkGone(): void {
    if (this.destroyed) return;
    if (!this.#finRead) this.destroy(connectionReset('the connection between the nodes was lost'));
    else if (!this.#finSent) this.destroy(); // the peer is gone: nothing more can be sent
  }

  override _read(): void {
    this.#link.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#link.destroyed || !this.#link.writable) return callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    let ok = true;
    for (let at = 0; at < chunk.length; at += MAX_FRAME_BYTES) ok = this.#link.write(frame(FRAME_DATA, chunk.subarray(at, at + MAX_FRAME_BYTES)));
    if (ok) callback();
    else this.#link.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#finSent = true;
    if (this.#link.writable) this.#link.write(frame(FRAME_FIN));
    callback();
    this.#closeWhenDone();
  }

  /** Both ways finished: the link is closed. */
  #closeWhenDone(): void {
    if (this.#finRead && this.#finSent && this.#link.writable) this.#link.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#link.writable) {
      if (error) this.#link.end(frame(FRAME_RESET));
      else this.#link.end(this.#finSent ? undefined : frame(FRAME_FIN));
    }
    this.#link.resume(); // what still comes is drained, not kept
    callback(error);
  }
}

/**
 * Joins two ends of one connection: bytes both ways with backpressure, a FIN of one is the end of
 * the other's sending side, and a reset (error) of one resets the other.
 */
export function splice(a: Duplex, b: Duplex): void {
  a.on('error', (error) => b.destroy(error.message ? connectionReset(error.message) : connectionReset()));
  b.on('error', (error) => a.destroy(error.message ? connectionReset(error.message) : connectionReset()));
  // closed without reading to the end nor an error (a socket dropped): as a reset for the other
  a.on('close', () => { if (!a.readableEnded && !b.destroyed) b.destroy(connectionReset()); });
  b.on('close', () => { if (!b.readableEnded && !a.destroyed) a.destroy(connectionReset()); });
  a.pipe(b);
  b.pipe(a);
}
