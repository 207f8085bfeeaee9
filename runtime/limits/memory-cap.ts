// Caps the maximum of every linear memory (defined and imported) of a core module, so that
// memory.grow past the container's limit returns -1 inside the guest instead of growing.
import { ByteReader, concatBytes, encodeSection, encodeU32, encodeU64, readSections, WASM_PAGE_BYTES } from '../wasm-binary.js';

const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;

/** The limit is below what the module needs to start at all. */
export class MemoryLimitError extends Error {
  override readonly name = 'MemoryLimitError';
}

export const pagesForBytes = (memoryBytes: number): number => Math.floor(memoryBytes / WASM_PAGE_BYTES);

export function capMemory(bytes: Uint8Array, maxPages: number): Uint8Array {
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  for (const section of readSections(bytes)) {
    if (section.id !== SECTION_IMPORT && section.id !== SECTION_MEMORY) {
      parts.push(bytes.subarray(section.start, section.end));
      continue;
    }
    const reader = new ByteReader(bytes.subarray(0, section.end), section.contentStart);
    const count = reader.u32();
    const content: ArrayLike<number>[] = [encodeU32(count)];
    for (let i = 0; i < count; i++) {
      if (section.id === SECTION_IMPORT) {
        const start = reader.offset;
        reader.skipName();
        reader.skipName();
        const kind = reader.byte();
        if (kind !== 2) {
          skipImportDescriptor(reader, kind);
          content.push(bytes.subarray(start, reader.offset));
          continue;
        }
        content.push(bytes.subarray(start, reader.offset));
      }
      content.push(rewriteLimits(reader, maxPages));
    }
    parts.push(encodeSection(section.id, concatBytes(content)));
  }
  return concatBytes(parts);
}

/** Initial pages of the memory a module defines (0 when it defines none: no memory, or an imported one). */
export function definedMemoryMinPages(bytes: Uint8Array): number {
  const section = readSections(bytes).find((s) => s.id === SECTION_MEMORY);
  if (!section) return 0;
  const reader = new ByteReader(bytes.subarray(0, section.end), section.contentStart);
  let pages = 0;
  for (let count = reader.u32(); count > 0; count--) {
    const flags = reader.byte();
    const is64 = (flags & 4) !== 0;
    pages += is64 ? Number(reader.u64()) : reader.u32();
    if (flags & 1) (is64 ? reader.u64() : reader.u32());
  }
  return pages;
}

function skipImportDescriptor(reader: ByteReader, kind: number): void {
  switch (kind) {
    case 0: // function: type index
      reader.skipLeb();
      return;
    case 1: {
      // table: reftype, limits
      reader.skipLeb();
      const flags = reader.byte();
      reader.skipLeb();
      if (flags & 1) reader.skipLeb();
      return;
    }
    case 3: // global: valtype, mutability
      reader.skipLeb();
      reader.byte();
      return;
    case 4: // tag: attribute, type index
      reader.byte();
      reader.skipLeb();
      return;
    default:
      throw new MemoryLimitError(`unsupported import kind ${kind}`);
  }
}

// limits flags: bit 0 = has max, bit 1 = shared, bit 2 = 64-bit indices
function rewriteLimits(reader: ByteReader, maxPages: number): number[] {
  const flags = reader.byte();
  const is64 = (flags & 4) !== 0;
  const min = is64 ? Number(reader.u64()) : reader.u32();
  let max: number | undefined;
  if (flags & 1) max = is64 ? Number(reader.u64()) : reader.u32();
  if (min > maxPages) {
    throw new MemoryLimitError(
      `module needs ${min * WASM_PAGE_BYTES} bytes of memory to start, limit is ${maxPages * WASM_PAGE_BYTES}`,
    );
  }
  const newMax = max === undefined ? maxPages : Math.min(max, maxPages);
  const encode = is64 ? (n: number) => encodeU64(BigInt(n)) : encodeU32;
  return [flags | 1, ...encode(min), ...encode(newMax)];
}
