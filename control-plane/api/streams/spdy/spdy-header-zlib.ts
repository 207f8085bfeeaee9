// The two zlib contexts of a SPDY/3 connection (one per direction, both from the SPDY/3 dictionary,
// each header block ending in a sync flush). Reading inflates the peer's blocks in order through
// one node:zlib stream. Writing needs no compression: a zlib stream made of stored (uncompressed)
// deflate blocks is valid input to any inflater, and it keeps sending synchronous and simple.
import * as zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './spdy-dictionary.js';
import { SpdyProtocolError } from './spdy-frames.js';

/** Decompressed bytes one header block may produce (a zlib bomb stops here). */
const MAX_HEADER_BLOCK_BYTES = 64 * 1024;

export class HeaderInflater {
  readonly #inflate = zlib.createInflate({ dictionary: SPDY3_DICTIONARY, highWaterMark: 4 * MAX_HEADER_BLOCK_BYTES, maxOutputLength: MAX_HEADER_BLOCK_BYTES } as zlib.ZlibOptions);
  #failed: Error | undefined;

  constructor() {
    this.#inflate.on('error', (error) => (this.#failed = error));
  }

  /** The next block's bytes; calls must not overlap (the connection awaits each). */
  inflate(compressed: Buffer): Promise<Buffer> {
    if (this.#failed) return Promise.reject(new SpdyProtocolError(`header block does not inflate: ${this.#failed.message}`));
    return new Promise((resolve, reject) => {
      this.#inflate.write(compressed);
      this.#inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        if (this.#failed) return reject(new SpdyProtocolError(`header block does not inflate: ${this.#failed.message}`));
        const chunks: Buffer[] = [];
        let total = 0;
        for (let chunk = this.#inflate.read() as Buffer | null; chunk; chunk = this.#inflate.read() as Buffer | null) {
          chunks.push(chunk);
          total += chunk.length;
        }
        if (total > MAX_HEADER_BLOCK_BYTES) return reject(new SpdyProtocolError('header block too large'));
        resolve(Buffer.concat(chunks));
      });
    });
  }

  close(): void {
    this.#inflate.destroy();
  }
}

/** Writes header blocks as stored deflate blocks of one zlib stream (header with the dictionary's id first). */
export class HeaderDeflater {
  #started = false;

  deflate(block: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.#started) {
      this.#started = true;
      // CMF 0x78 (deflate, 32 KiB window), FLG 0x20 (FDICT; 0x7820 is a multiple of 31), DICTID
      const head = Buffer.alloc(6);
      head[0] = 0x78;
      head[1] = 0x20;
      head.writeUInt32BE(adler32(SPDY3_DICTIONARY), 2);
      parts.push(head);
    }
    for (let at = 0; at < block.length; at += 0xffff) parts.push(storedBlock(block.subarray(at, at + 0xffff)));
    // then an empty stored block, as a sync flush ends: inflaters (Go's flate) hand out what they
    // hold only when they reach it, and must not read past the frame for the next block's header
    parts.push(storedBlock(Buffer.alloc(0)));
    return Buffer.concat(parts);
  }
}

/** A stored deflate block: BFINAL 0, BTYPE 00 padded to the byte, LEN, NLEN, the bytes. */
function storedBlock(piece: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt16LE(piece.length, 1);
  head.writeUInt16LE(~piece.length & 0xffff, 3);
  return Buffer.concat([head, piece]);
}

export function adler32(bytes: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of bytes) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}
