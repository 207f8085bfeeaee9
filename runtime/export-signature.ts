// The parameter and result types of a core module's exported function, read from the binary
// (V8 has no type reflection), so `skiff run --invoke` can parse arguments as wasmtime does.
import { ByteReader, readSections, WasmFormatError } from './wasm-binary.js';

export type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';
export interface FunctionSignature { params: ValueType[]; results: ValueType[] }

const VALUE_TYPES: Record<number, ValueType> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
const [TYPE, IMPORT, FUNCTION, EXPORT] = [1, 2, 3, 7];

/** The signature of export `name`, or undefined when there is no such function export. */
export function exportSignature(bytes: Uint8Array, name: string): FunctionSignature | undefined {
  const sections = readSections(bytes);
  const reader = (id: number) => {
    const section = sections.find((s) => s.id === id);
    return section ? new ByteReader(bytes.subarray(0, section.end), section.contentStart) : undefined;
  };
  const types: FunctionSignature[] = [];
  const typeReader = reader(TYPE);
  for (let count = typeReader?.u32() ?? 0; count > 0; count--) {
    if (typeReader!.byte() !== 0x60) throw new WasmFormatError('unsupported type form');
    const vector = () => Array.from({ length: typeReader!.u32() }, () => VALUE_TYPES[typeReader!.byte()] ?? 'externref');
    types.push({ params: vector(), results: vector() });
  }
  const functionTypes: number[] = [];
  const importReader = reader(IMPORT);
  for (let count = importReader?.u32() ?? 0; count > 0; count--) {
    importReader!.skipName();
    importReader!.skipName();
    const kind = importReader!.byte();
    if (kind === 0) functionTypes.push(importReader!.u32());
    else if (kind === 1) (importReader!.skipLeb(), skipLimits(importReader!));
    else if (kind === 2) skipLimits(importReader!);
    else if (kind === 3) (importReader!.skipLeb(), importReader!.byte());
    else (importReader!.byte(), importReader!.skipLeb());
  }
  const functionReader = reader(FUNCTION);
  for (let count = functionReader?.u32() ?? 0; count > 0; count--) functionTypes.push(functionReader!.u32());
  const exportReader = reader(EXPORT);
  for (let count = exportReader?.u32() ?? 0; count > 0; count--) {
    const exported = exportReader!.name();
    const kind = exportReader!.byte();
    const index = exportReader!.u32();
    if (exported === name && kind === 0) return types[functionTypes[index] ?? -1];
  }
  return undefined;
}

function skipLimits(reader: ByteReader): void {
  const flags = reader.byte();
  reader.skipLeb();
  if (flags & 1) reader.skipLeb();
}
