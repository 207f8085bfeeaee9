// The guest's linear memory as p1 host calls see it: bounds-checked little-endian reads and writes.
// A pointer out of bounds (or misaligned, for the structs that need alignment) traps, as the witx
// rules say and wasmtime does; strings that are not UTF-8 are EILSEQ.
import { Errno, P1Error } from './p1-abi.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

export class GuestMemory {
  #memory: WebAssembly.Memory | undefined;

  /** `memory` is known once the module is instantiated (its export), before any host call. */
  bind(memory: WebAssembly.Memory): void {
    this.#memory = memory;
  }

  // a grow detaches the old buffer: take the current one on every access
  #view(ptr: number, length: number): DataView {
    const buffer = this.#memory?.buffer;
    if (!buffer) throw new WebAssembly.RuntimeError('the module exports no memory');
    if (ptr < 0 || length < 0 || ptr + length > buffer.byteLength) {
      throw new WebAssembly.RuntimeError(`out of bounds guest pointer: ${ptr >>> 0} + ${length >>> 0}`);
    }
    return new DataView(buffer, ptr, length);
  }

  u8(ptr: number): number {
    return this.#view(ptr >>> 0, 1).getUint8(0);
  }
  u16(ptr: number): number {
    return this.#view(ptr >>> 0, 2).getUint16(0, true);
  }
  u32(ptr: number): number {
    return this.#view(ptr >>> 0, 4).getUint32(0, true);
  }
  u64(ptr: number): bigint {
    return this.#view(ptr >>> 0, 8).getBigUint64(0, true);
  }
  setU8(ptr: number, value: number): void {
    this.#view(ptr >>> 0, 1).setUint8(0, value);
  }
  setU16(ptr: number, value: number): void {
    this.#view(ptr >>> 0, 2).setUint16(0, value, true);
  }
  setU32(ptr: number, value: number): void {
    this.#view(ptr >>> 0, 4).setUint32(0, value >>> 0, true);
  }
  setU64(ptr: number, value: bigint): void {
    this.#view(ptr >>> 0, 8).setBigUint64(0, BigInt.asUintN(64, value), true);
  }

  /** A view of guest bytes (valid until the memory grows). */
  bytes(ptr: number, length: number): Uint8Array {
    const view = this.#view(ptr >>> 0, length >>> 0);
    return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  }

  write(ptr: number, bytes: Uint8Array): void {
    this.bytes(ptr, bytes.length).set(bytes);
  }

  /** A UTF-8 string from the guest; EILSEQ when it is not valid UTF-8. */
  string(ptr: number, length: number): string {
    const bytes = this.bytes(ptr, length);
    try {
      return utf8.decode(bytes);
    } catch {
      throw new P1Error(Errno.ILSEQ);
    }
  }
}

export const utf8Bytes = (text: string): Uint8Array => encoder.encode(text);
