// Tells a component from a core module by the binary header (magic + version/layer).
import { InvalidComponentError } from './pod-runtime.js';
import { WASM_MAGIC } from './wasm-binary.js';

export type WasmBinaryKind = 'component' | 'core-module';

export function detectBinaryKind(bytes: Uint8Array): WasmBinaryKind {
  if (bytes.length < 8) throw new InvalidComponentError(`not a WebAssembly binary: only ${bytes.length} bytes`);
  if (WASM_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new InvalidComponentError('not a WebAssembly binary: missing the \\0asm magic number');
  }
  const version = bytes[4]! | (bytes[5]! << 8);
  const layer = bytes[6]! | (bytes[7]! << 8);
  if (version === 1 && layer === 0) return 'core-module';
  if (layer === 1) return 'component';
  throw new InvalidComponentError(`unsupported WebAssembly binary version ${version}, layer ${layer}`);
}
