// A WASI preview 1 core module, run as it is with our p1 host (runtime/wasi/preview1/) rather than
// turned into a component: what it imports (only wasi_snapshot_preview1 functions may be) and
// exports (`_start`: a command; `_initialize`: a reactor) are read from the binary.
import { InvalidComponentError } from './pod-runtime.js';
import type { TranspiledComponent } from './transpiler/transpiled-component.js';
import { ByteReader, readSections, WasmFormatError } from './wasm-binary.js';

/** The one core module of a preview 1 program, under this name. */
export const PREVIEW1_MODULE_NAME = 'module.wasm';
export const PREVIEW1_IMPORT_MODULE = 'wasi_snapshot_preview1';

const SECTION_IMPORT = 2;
const SECTION_EXPORT = 7;
const KINDS = ['function', 'table', 'memory', 'global', 'tag'];

interface Entry { module?: string; name: string; kind: string }

function entries(bytes: Uint8Array, sectionId: number): Entry[] {
  const section = readSections(bytes).find((s) => s.id === sectionId);
  if (!section) return [];
  const reader = new ByteReader(bytes.subarray(0, section.end), section.contentStart);
  const out: Entry[] = [];
  for (let count = reader.u32(); count > 0; count--) {
    const module = sectionId === SECTION_IMPORT ? reader.name() : undefined;
    const name = reader.name();
    const kind = KINDS[reader.byte()] ?? 'unknown';
    if (sectionId === SECTION_EXPORT) reader.skipLeb();
    else skipImportType(reader, kind);
    out.push({ ...(module !== undefined ? { module } : {}), name, kind });
  }
  return out;
}

function skipImportType(reader: ByteReader, kind: string): void {
  if (kind === 'function') return reader.skipLeb();
  if (kind === 'table') reader.skipLeb();
  if (kind === 'global') return (reader.skipLeb(), void reader.byte());
  if (kind === 'tag') return (reader.byte(), reader.skipLeb());
  if (kind !== 'table' && kind !== 'memory') throw new WasmFormatError(`unknown import kind ${kind}`);
  const flags = reader.byte();
  reader.skipLeb();
  if (flags & 1) reader.skipLeb();
}

/** Checks a preview 1 module and describes it for the runtime (no transpiling: it runs as it is). */
export function preview1Component(bytes: Uint8Array): TranspiledComponent {
  let imports: Entry[];
  let exports: Entry[];
  try {
    imports = entries(bytes, SECTION_IMPORT);
    exports = entries(bytes, SECTION_EXPORT);
  } catch (error) {
    throw new InvalidComponentError(`invalid preview 1 module: ${(error as Error).message}`, { cause: error });
  }
  const foreign = imports.filter((i) => i.module !== PREVIEW1_IMPORT_MODULE || i.kind !== 'function');
  if (foreign.length > 0) {
    const names = foreign.slice(0, 3).map((i) => `${i.module}::${i.name}`).join(', ');
    throw new InvalidComponentError(`unknown import${foreign.length > 1 ? 's' : ''}: ${names}${foreign.length > 3 ? ', ...' : ''} (a preview 1 module may import only ${PREVIEW1_IMPORT_MODULE} functions)`);
  }
  return {
    source: '',
    coreModules: { [PREVIEW1_MODULE_NAME]: bytes },
    exports: exports.filter((e) => e.kind === 'function').map((e) => e.name),
    preview1: true,
  };
}
