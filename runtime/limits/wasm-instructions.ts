// Decodes just enough of WebAssembly's instruction encoding to step over any instruction that
// Node 20 accepts (MVP, sign-ext, sat-trunc, bulk memory, reference types, SIMD, threads,
// exceptions, tail calls). Used by the instrumentation pass.
import { ByteReader, WasmFormatError } from '../wasm-binary.js';

export const OP_BLOCK = 0x02;
export const OP_LOOP = 0x03;
export const OP_IF = 0x04;
export const OP_TRY = 0x06;
export const OP_END = 0x0b;
export const OP_DELEGATE = 0x18;
export const OP_TRY_TABLE = 0x1f;
export const OP_MEMORY_GROW = 0x40;

function skipBlockType(r: ByteReader): void {
  const first = r.bytes[r.offset];
  if (first === 0x40 || (first !== undefined && first >= 0x6f && first <= 0x7f)) {
    r.offset++; // empty, or a single value type
    return;
  }
  if (first === 0x63 || first === 0x64) {
    r.offset++; // (ref null? heaptype)
    r.skipLeb();
    return;
  }
  r.skipLeb(); // type index (s33)
}

function skipValueType(r: ByteReader): void {
  const first = r.byte();
  if (first === 0x63 || first === 0x64) r.skipLeb();
}

function skipMemarg(r: ByteReader): void {
  const align = r.u32();
  if (align & 0x40) r.skipLeb(); // multi-memory: explicit memory index
  r.skipLeb();
}

const NO_IMMEDIATE = new Set([0x00, 0x01, 0x05, 0x0a, 0x0b, 0x0f, 0x19, 0x1a, 0x1b, 0xd1, 0xd3, 0xd4]);
const ONE_INDEX = new Set([0x07, 0x08, 0x09, 0x0c, 0x0d, 0x10, 0x12, 0x14, 0x15, 0x18, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x3f, 0x40, 0xd0, 0xd2, 0xd5, 0xd6]);

/** Advances `r` past the instruction whose opcode is at `r.offset`; returns the opcode. */
export function skipInstruction(r: ByteReader): number {
  const op = r.byte();
  if (NO_IMMEDIATE.has(op) || (op >= 0x45 && op <= 0xc4)) return op;
  if (ONE_INDEX.has(op)) {
    r.skipLeb();
    return op;
  }
  if (op >= 0x28 && op <= 0x3e) return skipMemarg(r), op;
  switch (op) {
    case 0x02: case 0x03: case 0x04: case 0x06:
      skipBlockType(r);
      return op;
    case 0x0e: {
      const count = r.u32();
      for (let i = 0; i <= count; i++) r.skipLeb();
      return op;
    }
    case 0x11: case 0x13:
      r.skipLeb();
      r.skipLeb();
      return op;
    case 0x1c: {
      const count = r.u32();
      for (let i = 0; i < count; i++) skipValueType(r);
      return op;
    }
    case 0x1f: {
      skipBlockType(r);
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const kind = r.byte();
        if (kind < 2) r.skipLeb(); // catch / catch_ref: tag index
        r.skipLeb(); // label
      }
      return op;
    }
    case 0x41: case 0x42:
      r.skipLeb();
      return op;
    case 0x43:
      r.skip(4);
      return op;
    case 0x44:
      r.skip(8);
      return op;
    case 0xfc:
      skipMiscInstruction(r);
      return op;
    case 0xfd:
      skipSimdInstruction(r);
      return op;
    case 0xfe:
      skipAtomicInstruction(r);
      return op;
  }
  throw new WasmFormatError(`unsupported opcode 0x${op.toString(16)} at offset ${r.offset - 1}`);
}

function skipMiscInstruction(r: ByteReader): void {
  const sub = r.u32();
  if (sub <= 7) return; // saturating truncations
  if (sub === 8 || sub === 10 || sub === 12 || sub === 14) {
    r.skipLeb();
    r.skipLeb();
    return;
  }
  if (sub <= 17) return r.skipLeb();
  throw new WasmFormatError(`unsupported 0xfc ${sub} instruction`);
}

function skipSimdInstruction(r: ByteReader): void {
  const sub = r.u32();
  if (sub <= 11 || sub === 92 || sub === 93) return skipMemarg(r);
  if (sub === 12 || sub === 13) return r.skip(16);
  if (sub >= 21 && sub <= 34) return r.skip(1);
  if (sub >= 84 && sub <= 91) {
    skipMemarg(r);
    r.skip(1);
  }
}

function skipAtomicInstruction(r: ByteReader): void {
  const sub = r.u32();
  if (sub === 3) return r.skip(1); // atomic.fence
  skipMemarg(r);
}
