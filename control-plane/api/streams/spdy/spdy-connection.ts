// The server end of a SPDY/3.1 connection carrying client-opened streams (kubectl port-forward):
// SYN_STREAM opens a stream and gets a SYN_REPLY, data frames flow both ways, FIN half-closes,
// RST_STREAM ends a stream, PINGs are echoed, GOAWAY or any protocol error ends the connection.
// Header blocks are zlib-compressed, one context per direction, from the SPDY/3 dictionary.
import {
  decodeHeaderBlock, encodeControlFrame, encodeDataFrame, encodeHeaderBlock, FLAG_FIN, FrameType, headerBlockOffset, MAX_FRAME_BYTES,
  RstStatus, SpdyFrameReader, SpdyProtocolError, streamIdOf, uint32, type SpdyFrame,
} from './spdy-frames.js';
import { HeaderDeflater, HeaderInflater } from './spdy-header-zlib.js';

/** The bytes under the connection: a TLS socket after an upgrade, or a WebSocket tunnel. */
export interface ByteTransport {
  write(bytes: Buffer): void;
  close(): void;
  onData(listener: (bytes: Buffer) => void): void;
  onClose(listener: () => void): void;
}

/** Streams one connection may have open at once. */
const MAX_OPEN_STREAMS = 256;
/** Largest data frame sent. */
const DATA_CHUNK_BYTES = 32 * 1024;

export class SpdyStream {
  #onData: ((bytes: Buffer) => void) | undefined;
  #onEnd: (() => void) | undefined;
  #held: Buffer[] = [];
  #remoteEnded = false;
  #localEnded = false;
  #reset = false;
  readonly #onClose = new Set<() => void>();

  constructor(readonly id: number, readonly headers: Map<string, string[]>, private readonly connection: SpdyConnection) {}

  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  get isClosed(): boolean {
    return this.#reset || (this.#remoteEnded && this.#localEnded);
  }

  /** Data the client sends (what came before this call first); `onEnd` at its FIN. */
  read(onData: (bytes: Buffer) => void, onEnd: () => void): void {
    this.#onData = onData;
    this.#onEnd = onEnd;
    for (const bytes of this.#held.splice(0)) onData(bytes);
    if (this.#remoteEnded) onEnd();
  }

  write(bytes: Buffer): void {
    if (this.#localEnded || this.#reset) return;
    for (let at = 0; at < bytes.length; at += DATA_CHUNK_BYTES) this.connection.send(encodeDataFrame(this.id, 0, bytes.subarray(at, at + DATA_CHUNK_BYTES)));
  }

  /** Half-closes our side (FIN). */
  end(): void {
    if (this.#localEnded || this.#reset) return;
    this.#localEnded = true;
    this.connection.send(encodeDataFrame(this.id, FLAG_FIN, Buffer.alloc(0)));
    this.#closedIfDone();
  }

  /** Ends the stream both ways at once (RST_STREAM CANCEL). */
  reset(status: number = RstStatus.cancel): void {
    if (this.#reset) return;
    this.connection.send(encodeControlFrame(FrameType.rstStream, 0, uint32(this.id, status)));
    this.remoteReset();
  }

  onClose(listener: () => void): void {
    if (this.isClosed) listener();
    else this.#onClose.add(listener);
  }

  /** @internal */
  received(bytes: Buffer, fin: boolean): void {
    if (this.#remoteEnded || this.#reset) return;
    if (bytes.length > 0) {
      if (this.#onData) this.#onData(bytes);
      else this.#held.push(bytes);
    }
    if (fin) {
      this.#remoteEnded = true;
      this.#onEnd?.();
      this.#closedIfDone();
    }
  }

  /** @internal */
  remoteReset(): void {
    if (this.#reset) return;
    this.#reset = true;
    if (!this.#remoteEnded) this.#onEnd?.();
    this.#remoteEnded = this.#localEnded = true;
    this.#closedIfDone();
  }

  #closedIfDone(): void {
    if (!this.isClosed) return;
    this.connection.forget(this.id);
    for (const listener of [...this.#onClose]) listener();
    this.#onClose.clear();
  }
}

export class SpdyConnection {
  readonly #streams = new Map<number, SpdyStream>();
  readonly #reader = new SpdyFrameReader();
  readonly #inflate = new HeaderInflater();
  readonly #deflate = new HeaderDeflater();
  /** Frames are handled one after another (a header block inflates asynchronously). */
  #handling: Promise<void> = Promise.resolve();
  #lastStreamId = 0;
  #closed = false;
  readonly #onClose = new Set<() => void>();

  constructor(private readonly transport: ByteTransport, private readonly onStream: (stream: SpdyStream) => void) {
    transport.onData((bytes) => this.#receive(bytes));
    transport.onClose(() => this.#shutDown());
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  onClose(listener: () => void): void {
    if (this.#closed) listener();
    else this.#onClose.add(listener);
  }

  /** GOAWAY, then closes the transport; every open stream ends. */
  close(): void {
    if (this.#closed) return;
    this.send(encodeControlFrame(FrameType.goAway, 0, uint32(this.#lastStreamId, 0)));
    this.transport.close();
    this.#shutDown();
  }

  /** @internal */
  send(frame: Buffer): void {
    if (!this.#closed) this.transport.write(frame);
  }

  /** @internal */
  forget(id: number): void {
    this.#streams.delete(id);
  }

  #receive(bytes: Buffer): void {
    if (this.#closed) return;
    let frames: SpdyFrame[];
    try {
      frames = this.#reader.push(bytes);
    } catch {
      return this.close(); // a broken frame: nothing after it can be trusted
    }
    for (const frame of frames) {
      this.#handling = this.#handling.then(() => (this.#closed ? undefined : this.#handle(frame))).catch(() => {
        // a bad header block leaves the zlib context unusable: the connection ends
        this.close();
      });
    }
  }

  async #handle(frame: SpdyFrame): Promise<void> {
    if (frame.kind === 'data') {
      const stream = this.#streams.get(frame.streamId);
      if (!stream) return this.send(encodeControlFrame(FrameType.rstStream, 0, uint32(frame.streamId, RstStatus.invalidStream)));
      return stream.received(frame.payload, (frame.flags & FLAG_FIN) !== 0);
    }
    const { type, flags, payload } = frame;
    switch (type) {
      case FrameType.synStream: return this.#open(payload, flags);
      case FrameType.headers: {
        await this.#headers(payload, type); // keeps the zlib context in step; extra headers are not used
        return;
      }
      case FrameType.rstStream: return this.#streams.get(streamIdOf(payload))?.remoteReset();
      case FrameType.ping: return this.send(encodeControlFrame(FrameType.ping, 0, payload.subarray(0, 4)));
      case FrameType.goAway: return this.close();
      case FrameType.synReply: throw new SpdyProtocolError('a client sent SYN_REPLY to a stream it did not receive');
      default: return; // SETTINGS, WINDOW_UPDATE, unknown: nothing to do (no flow control, as spdystream)
    }
  }

  async #open(payload: Buffer, flags: number): Promise<void> {
    const id = streamIdOf(payload);
    const headers = await this.#headers(payload, FrameType.synStream);
    if (this.#closed) return;
    if (id === 0 || id % 2 === 0 || id <= this.#lastStreamId) throw new SpdyProtocolError(`stream id ${id} is not a new client stream`);
    this.#lastStreamId = id;
    if (this.#streams.size >= MAX_OPEN_STREAMS) return this.send(encodeControlFrame(FrameType.rstStream, 0, uint32(id, RstStatus.refusedStream)));
    const stream = new SpdyStream(id, headers, this);
    this.#streams.set(id, stream);
    this.send(encodeControlFrame(FrameType.synReply, 0, Buffer.concat([uint32(id), this.#compress(encodeHeaderBlock({}))])));
    if ((flags & FLAG_FIN) !== 0) stream.received(Buffer.alloc(0), true);
    this.onStream(stream);
  }

  async #headers(payload: Buffer, type: number): Promise<Map<string, string[]>> {
    const offset = headerBlockOffset(type);
    if (payload.length < offset) throw new SpdyProtocolError('control frame too short');
    return decodeHeaderBlock(await this.#inflate.inflate(payload.subarray(offset)));
  }

  #compress(block: Buffer): Buffer {
    const compressed = this.#deflate.deflate(block);
    if (compressed.length > MAX_FRAME_BYTES) throw new SpdyProtocolError('header block too large');
    return compressed;
  }

  #shutDown(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inflate.close();
    for (const stream of [...this.#streams.values()]) stream.remoteReset();
    this.#streams.clear();
    for (const listener of [...this.#onClose]) listener();
    this.#onClose.clear();
  }
}
