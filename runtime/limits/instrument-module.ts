// Rewrites a core module before compiling, appending everything it adds at the END of each index
// space (types, functions, tables, globals), so no existing index shifts:
// - fuel: a mutable i64 global `__skiff_fuel`, charged at every function entry and loop header
//   with the static instruction count of that block (deterministic, an upper bound per
//   iteration). When it drops below zero the guest calls the host through slot 0 of an added
//   table `__skiff_hooks` (Node 20 cannot put a JS function in a module directly without an
//   import, and an added import would shift every function index).
// - memory accounting: `memory.grow` on memory 0 becomes a call to an added function that asks the
//   host (slot 1 of `__skiff_hooks`) to grow it: the host counts every memory of the container
//   against its limit and the node's pool (limits/memory-account.ts) and answers -1 past either.
//   Memory 0 is exported as `__skiff_memory` so the host can grow it. Until the host fills the
//   slot (a start function runs first) the function grows the memory itself, under the static cap
//   (memory-cap.ts).
import { ByteReader, concatBytes, encodeS64, encodeSection, encodeU32, readSections, type Section } from '../wasm-binary.js';
import { OP_BLOCK, OP_DELEGATE, OP_END, OP_IF, OP_LOOP, OP_MEMORY_GROW, OP_TRY, OP_TRY_TABLE, skipInstruction } from './wasm-instructions.js';

export const FUEL_GLOBAL_EXPORT = '__skiff_fuel';
export const FUEL_HOOK_TABLE_EXPORT = '__skiff_hooks';
export const MEMORY_EXPORT = '__skiff_memory';
export const FUEL_HOOK_SLOT = 0;
export const GROW_HOOK_SLOT = 1;
/** The fuel global's value until the host sets it (covers a start function, which runs first). */
export const INITIAL_FUEL = 1n << 62n;

export interface InstrumentOptions {
  meterFuel: boolean;
  accountMemory: boolean;
}

const SECTION_RANK: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };
const [TYPE, IMPORT, FUNCTION, TABLE, MEMORY, GLOBAL, EXPORT, CODE] = [1, 2, 3, 4, 5, 6, 7, 10];

interface ModuleShape {
  types: number;
  importedFunctions: number;
  definedFunctions: number;
  tables: number;
  globals: number;
  memory0Is64: boolean;
  /** Defines or imports a memory (index 0). */
  hasMemory: boolean;
}

export function instrumentModule(bytes: Uint8Array, options: InstrumentOptions): Uint8Array {
  const sections = readSections(bytes);
  const code = sections.find((s) => s.id === CODE);
  if (!code || (!options.meterFuel && !options.accountMemory)) return bytes;
  const shape = readShape(bytes, sections);
  const fuelHookType = shape.types;
  const growHookType = shape.types + 1;
  const fuelGlobal = shape.globals;
  const hookTable = shape.tables;
  const growHookFunction = shape.importedFunctions + shape.definedFunctions;

  const fuelCheck = (cost: number): number[] => [
    0x23, ...encodeU32(fuelGlobal), 0x42, ...encodeS64(BigInt(cost)), 0x7d, 0x24, ...encodeU32(fuelGlobal),
    0x23, ...encodeU32(fuelGlobal), 0x42, 0x00, 0x53, 0x04, 0x40,
    0x41, FUEL_HOOK_SLOT, 0x11, ...encodeU32(fuelHookType), ...encodeU32(hookTable), 0x0b,
  ];
  const growCall = [0x10, ...encodeU32(growHookFunction)];
  const rewritten = rewriteCode(bytes, code, {
    fuelCheck: options.meterFuel ? fuelCheck : undefined,
    growCall: options.accountMemory && shape.hasMemory && !shape.memory0Is64 ? growCall : undefined,
  });
  const addGrowHook = rewritten.replacedGrows > 0;
  // every memory is exported, grown here or not: another module may import and grow it
  const exportMemory = options.accountMemory && shape.hasMemory && !shape.memory0Is64;
  if (!options.meterFuel && !addGrowHook && !exportMemory) return bytes;

  const appended = new Map<number, number[][]>();
  const append = (id: number, entry: number[]) => appended.set(id, [...(appended.get(id) ?? []), entry]);
  const exportEntry = (name: string, kind: number, index: number) => [...encodeName(name), kind, ...encodeU32(index)];
  append(TYPE, [0x60, 0x00, 0x00]); // fuelHookType
  append(TYPE, [0x60, 0x01, 0x7f, 0x01, 0x7f]); // growHookType: (pages) -> old size or -1
  append(TABLE, [0x70, 0x00, 0x02]); // slots FUEL_HOOK_SLOT, GROW_HOOK_SLOT
  append(EXPORT, exportEntry(FUEL_HOOK_TABLE_EXPORT, 0x01, hookTable));
  if (options.meterFuel) {
    append(GLOBAL, [0x7e, 0x01, 0x42, ...encodeS64(INITIAL_FUEL), 0x0b]);
    append(EXPORT, exportEntry(FUEL_GLOBAL_EXPORT, 0x03, fuelGlobal));
  }
  if (addGrowHook) append(FUNCTION, encodeU32(growHookType));
  if (exportMemory) append(EXPORT, exportEntry(MEMORY_EXPORT, 0x02, 0));
  const codeAppend = addGrowHook ? [growHookBody(hookTable, growHookType)] : [];

  const out: Uint8Array[] = [bytes.subarray(0, 8)];
  const emitted = new Set<number>();
  const emitMissingBefore = (rank: number) => {
    for (const [id, entries] of appended) {
      if (SECTION_RANK[id]! < rank && !emitted.has(id) && !sections.some((s) => s.id === id)) {
        out.push(encodeSection(id, concatBytes([encodeU32(entries.length), ...entries])));
        emitted.add(id);
      }
    }
  };
  for (const section of sections) {
    const rank = SECTION_RANK[section.id];
    if (rank !== undefined) emitMissingBefore(rank);
    if (section.id === CODE) {
      out.push(encodeSection(CODE, appendEntries(bytes, section, codeAppend, rewritten.bodies)));
    } else if (appended.has(section.id)) {
      out.push(encodeSection(section.id, appendEntries(bytes, section, appended.get(section.id)!)));
      emitted.add(section.id);
    } else {
      out.push(bytes.subarray(section.start, section.end));
    }
  }
  return concatBytes(out);
}

function encodeName(name: string): number[] {
  const utf8 = new TextEncoder().encode(name);
  return [...encodeU32(utf8.length), ...utf8];
}

// vector section: new count, the existing entries (or replacement bodies), then the appended ones
function appendEntries(bytes: Uint8Array, section: Section, entries: number[][], replacement?: Uint8Array[]): Uint8Array {
  const reader = new ByteReader(bytes.subarray(0, section.end), section.contentStart);
  const count = reader.u32();
  const existing = replacement ?? [bytes.subarray(reader.offset, section.end)];
  return concatBytes([encodeU32(count + entries.length), ...existing, ...entries]);
}

// (func (param $pages i32) (result i32)
//   (if (result i32) (ref.is_null (table.get $hooks (i32.const GROW_HOOK_SLOT)))
//     (then (memory.grow (local.get $pages)))
//     (else (call_indirect $hooks (type $grow) (local.get $pages) (i32.const GROW_HOOK_SLOT)))))
function growHookBody(hookTable: number, growHookType: number): number[] {
  const body = [
    0x00, // no locals
    0x41, GROW_HOOK_SLOT, 0x25, ...encodeU32(hookTable), 0xd1, 0x04, 0x7f,
    0x20, 0x00, 0x40, 0x00,
    0x05,
    0x20, 0x00, 0x41, GROW_HOOK_SLOT, 0x11, ...encodeU32(growHookType), ...encodeU32(hookTable),
    0x0b, 0x0b,
  ];
  return [...encodeU32(body.length), ...body];
}

function readShape(bytes: Uint8Array, sections: Section[]): ModuleShape {
  const shape: ModuleShape = { types: 0, importedFunctions: 0, definedFunctions: 0, tables: 0, globals: 0, memory0Is64: false, hasMemory: false };
  let sawMemory = false;
  for (const section of sections) {
    const r = new ByteReader(bytes.subarray(0, section.end), section.contentStart);
    if (section.id === TYPE) shape.types = r.u32();
    else if (section.id === FUNCTION) shape.definedFunctions = r.u32();
    else if (section.id === TABLE) shape.tables += r.u32();
    else if (section.id === GLOBAL) shape.globals += r.u32();
    else if (section.id === MEMORY && !sawMemory && r.u32() > 0) {
      shape.memory0Is64 = (r.byte() & 4) !== 0;
      sawMemory = true;
    } else if (section.id === IMPORT) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        r.skipName();
        r.skipName();
        const kind = r.byte();
        if (kind === 0) (shape.importedFunctions++, r.skipLeb());
        else if (kind === 1) {
          shape.tables++;
          r.skipLeb(); // reftype (0x70 / 0x6f)
          if (r.byte() & 1) r.skipLeb();
          r.skipLeb();
        } else if (kind === 2) {
          const flags = r.byte();
          if (!sawMemory) (shape.memory0Is64 = (flags & 4) !== 0), (sawMemory = true);
          r.skipLeb();
          if (flags & 1) r.skipLeb();
        } else if (kind === 3) (shape.globals++, r.skipLeb(), r.byte());
        else if (kind === 4) (r.byte(), r.skipLeb());
      }
    }
  }
  shape.hasMemory = sawMemory;
  return shape;
}

interface CodeRewrite {
  fuelCheck: ((cost: number) => number[]) | undefined;
  growCall: number[] | undefined;
}

function rewriteCode(bytes: Uint8Array, section: Section, rewrite: CodeRewrite): { bodies: Uint8Array[]; replacedGrows: number } {
  const r = new ByteReader(bytes.subarray(0, section.end), section.contentStart);
  const count = r.u32();
  const bodies: Uint8Array[] = [];
  let replacedGrows = 0;
  for (let i = 0; i < count; i++) {
    const size = r.u32();
    const end = r.offset + size;
    const bodyStart = r.offset;
    const localDecls = r.u32();
    for (let j = 0; j < localDecls; j++) {
      r.skipLeb();
      r.byte();
      if (r.bytes[r.offset - 1] === 0x63 || r.bytes[r.offset - 1] === 0x64) r.skipLeb();
    }
    // pieces: original byte ranges interleaved with inserted code; points get their cost at the end
    const pieces: Array<Uint8Array | { cost: number }> = [bytes.subarray(bodyStart, r.offset)];
    const entry = { cost: 0 };
    if (rewrite.fuelCheck) pieces.push(entry);
    const blocks: Array<{ cost: number } | null> = []; // innermost-first lookup: loops carry a point
    const chargeTo = () => blocks.findLast((b) => b !== null) ?? entry;
    let copyFrom = r.offset;
    while (r.offset < end) {
      const start = r.offset;
      const op = skipInstruction(r);
      chargeTo().cost++;
      if (op === OP_BLOCK || op === OP_IF || op === OP_TRY || op === OP_TRY_TABLE) blocks.push(null);
      else if (op === OP_END || op === OP_DELEGATE) blocks.pop();
      else if (op === OP_LOOP) {
        const point = { cost: 0 };
        blocks.push(point);
        if (rewrite.fuelCheck) {
          pieces.push(bytes.subarray(copyFrom, r.offset), point);
          copyFrom = r.offset;
        }
      } else if (op === OP_MEMORY_GROW && rewrite.growCall && bytes[start + 1] === 0x00 && r.offset === start + 2) {
        pieces.push(bytes.subarray(copyFrom, start), Uint8Array.from(rewrite.growCall));
        copyFrom = r.offset;
        replacedGrows++;
      }
    }
    if (r.offset !== end) throw new Error(`function body ${i} overruns its size`);
    pieces.push(bytes.subarray(copyFrom, end));
    const body = concatBytes(pieces.map((p) => (p instanceof Uint8Array ? p : rewrite.fuelCheck!(Math.max(1, p.cost)))));
    bodies.push(concatBytes([encodeU32(body.length), body]));
  }
  return { bodies, replacedGrows };
}
