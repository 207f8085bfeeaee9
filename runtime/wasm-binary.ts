// Minimal WebAssembly binary reading/writing: LEB128, section walk, byte concatenation.

export const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d] as const;
export const WASM_PAGE_BYTES = 65_536;

export class WasmFormatError extends Error {
  override readonly name = 'WasmFormatError';
}

/** A cursor over a binary; every read checks bounds so truncated input throws WasmFormatError. */
export class ByteReader {
  constructor(
    readonly bytes: Uint8Array,
    public offset = 0,
  ) {}

  get atEnd(): boolean {
    return this.offset >= this.bytes.length;
  }

  byte(): number {
    const value = this.bytes[this.offset];
    if (value === undefined) throw new WasmFormatError(`unexpected end of binary at offset ${this.offset}`);
    this.offset++;
    return value;
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
      if (shift > 28) {
        // 5th byte may only carry the top 4 bits
        const last = this.byte();
        if (last & 0xf0) throw new WasmFormatError(`u32 LEB128 too long at offset ${this.offset}`);
        return (result | (last << 28)) >>> 0;
      }
    }
  }

  u64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new WasmFormatError(`u64 LEB128 too long at offset ${this.offset}`);
    }
  }

  /** Skips any LEB128 number (signed or unsigned). */
  skipLeb(): void {
    for (let i = 0; i < 10; i++) if ((this.byte() & 0x80) === 0) return;
    throw new WasmFormatError(`LEB128 too long at offset ${this.offset}`);
  }

  skip(count: number): void {
    if (this.offset + count > this.bytes.length) throw new WasmFormatError(`unexpected end of binary at offset ${this.offset}`);
    this.offset += count;
  }

  /** Skips a length-prefixed name (or byte vector). */
  skipName(): void {
    this.skip(this.u32());
  }

  name(): string {
    const length = this.u32();
    const start = this.offset;
    this.skip(length);
    return new TextDecoder().decode(this.bytes.subarray(start, start + length));
  }
}

export function encodeU32(value: number): number[] {
  const out: number[] = [];
  let n = value >>> 0;
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

export function encodeU64(value: bigint): number[] {
  const out: number[] = [];
  let n = value;
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

export function encodeS64(value: bigint): number[] {
  const out: number[] = [];
  let n = value;
  for (;;) {
    const b = Number(n & 0x7fn);
    n >>= 7n;
    const done = (n === 0n && (b & 0x40) === 0) || (n === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

export interface Section {
  id: number;
  /** Offset of the section id byte. */
  start: number;
  /** Offset of the section's content (after the size). */
  contentStart: number;
  end: number;
}

/** Lists the sections of a core module; throws WasmFormatError if they overrun the binary. */
export function readSections(bytes: Uint8Array): Section[] {
  const reader = new ByteReader(bytes, 8);
  const sections: Section[] = [];
  while (!reader.atEnd) {
    const start = reader.offset;
    const id = reader.byte();
    const size = reader.u32();
    const contentStart = reader.offset;
    reader.skip(size);
    sections.push({ id, start, contentStart, end: reader.offset });
  }
  return sections;
}

export function concatBytes(parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Encodes a section: id, size, content. */
export function encodeSection(id: number, content: Uint8Array): Uint8Array {
  return concatBytes([[id, ...encodeU32(content.length)], content]);
}
