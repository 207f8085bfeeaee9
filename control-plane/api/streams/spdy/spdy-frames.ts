// SPDY/3.1 framing, as kubectl's port-forward speaks it (moby/spdystream): frames cut from a byte
// stream, and the header blocks inside SYN_STREAM / SYN_REPLY / HEADERS (before and after zlib).
// Pure functions: no I/O, nothing here trusts a length it has not checked.

export const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;

export const FrameType = {
  synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goAway: 7, headers: 8, windowUpdate: 9,
} as const;

/** RST_STREAM status codes used here. */
export const RstStatus = { protocolError: 1, invalidStream: 2, refusedStream: 3, cancel: 5, streamInUse: 8, frameTooLarge: 11 } as const;

/** Largest frame payload accepted (the protocol allows 16 MiB; clients write 32 KiB chunks). */
export const MAX_FRAME_BYTES = 1024 * 1024;
const HEADER_BYTES = 8;

export type SpdyFrame =
  | { kind: 'control'; type: number; flags: number; payload: Buffer }
  | { kind: 'data'; streamId: number; flags: number; payload: Buffer };

export class SpdyProtocolError extends Error {
  override readonly name = 'SpdyProtocolError';
}

/** Accumulates bytes and cuts whole frames off the front. */
export class SpdyFrameReader {
  #buffered: Buffer = Buffer.alloc(0);

  /** Every complete frame in what arrived so far; throws SpdyProtocolError for a bad or oversized frame. */
  push(bytes: Buffer): SpdyFrame[] {
    this.#buffered = this.#buffered.length === 0 ? bytes : Buffer.concat([this.#buffered, bytes]);
    const frames: SpdyFrame[] = [];
    while (this.#buffered.length >= HEADER_BYTES) {
      const b = this.#buffered;
      const length = b.readUIntBE(5, 3);
      if (length > MAX_FRAME_BYTES) throw new SpdyProtocolError(`frame of ${length} bytes is larger than ${MAX_FRAME_BYTES}`);
      if (b.length < HEADER_BYTES + length) break;
      const flags = b[4]!;
      const payload = Buffer.from(b.subarray(HEADER_BYTES, HEADER_BYTES + length));
      if ((b[0]! & 0x80) !== 0) {
        const version = b.readUInt16BE(0) & 0x7fff;
        if (version !== SPDY_VERSION) throw new SpdyProtocolError(`SPDY version ${version} is not supported (3 is)`);
        frames.push({ kind: 'control', type: b.readUInt16BE(2), flags, payload });
      } else {
        frames.push({ kind: 'data', streamId: b.readUInt32BE(0) & 0x7fffffff, flags, payload });
      }
      this.#buffered = b.subarray(HEADER_BYTES + length);
    }
    return frames;
  }
}

export function encodeControlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head[4] = flags;
  head.writeUIntBE(payload.length, 5, 3);
  return Buffer.concat([head, payload]);
}

export function encodeDataFrame(streamId: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head[4] = flags;
  head.writeUIntBE(payload.length, 5, 3);
  return Buffer.concat([head, payload]);
}

/** Control frame payloads that start with a stream id (SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE). */
export function streamIdOf(payload: Buffer): number {
  if (payload.length < 4) throw new SpdyProtocolError('control frame too short for a stream id');
  return payload.readUInt32BE(0) & 0x7fffffff;
}

/** Where the compressed header block starts in a control frame's payload. */
export function headerBlockOffset(type: number): number {
  return type === FrameType.synStream ? 10 : 4;
}

export const uint32 = (...values: number[]): Buffer => {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
};

const MAX_HEADER_PAIRS = 64;
const MAX_HEADER_FIELD_BYTES = 8 * 1024;

/** A decompressed header block: names lower-cased; a value with NULs is several values. */
export function decodeHeaderBlock(block: Buffer): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let at = 0;
  const take = (): Buffer => {
    if (at + 4 > block.length) throw new SpdyProtocolError('header block truncated');
    const length = block.readUInt32BE(at);
    at += 4;
    if (length > MAX_HEADER_FIELD_BYTES || at + length > block.length) throw new SpdyProtocolError('header field too long or truncated');
    const field = block.subarray(at, at + length);
    at += length;
    return field;
  };
  if (block.length < 4) throw new SpdyProtocolError('header block truncated');
  const pairs = block.readUInt32BE(0);
  at = 4;
  if (pairs > MAX_HEADER_PAIRS) throw new SpdyProtocolError(`${pairs} headers are more than ${MAX_HEADER_PAIRS}`);
  for (let i = 0; i < pairs; i++) {
    const name = take().toString('latin1').toLowerCase();
    const values = take().toString('latin1').split('\0');
    headers.set(name, [...(headers.get(name) ?? []), ...values]);
  }
  return headers;
}

export function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const entries = Object.entries(headers);
  const parts = [uint32(entries.length)];
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'latin1');
    const v = Buffer.from(value, 'latin1');
    parts.push(uint32(n.length), n, uint32(v.length), v);
  }
  return Buffer.concat(parts);
}
