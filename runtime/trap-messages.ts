// Trap messages in wasmtime's words: V8 says "unreachable" or "memory access out of bounds" where
// wasmtime says "wasm trap: wasm `unreachable` instruction executed" or "wasm trap: out of bounds
// memory access"; users (and their log searches) know wasmtime's. Unknown messages pass through.
const WASMTIME_TRAPS: Array<[RegExp, string]> = [
  [/^unreachable$/, 'wasm `unreachable` instruction executed'],
  [/^memory access out of bounds$/, 'out of bounds memory access'],
  [/^divide by zero$|^remainder by zero$/, 'integer divide by zero'],
  [/^divide result unrepresentable$/, 'integer overflow'],
  [/^float unrepresentable in integer range$/, 'invalid conversion to integer'],
  [/^table index is out of bounds$/, 'undefined element: out of bounds table access'],
  [/^null function or function signature mismatch$|^function signature mismatch$/, 'indirect call type mismatch'],
  [/^dereferencing a null pointer$/, 'null reference'],
  [/^Maximum call stack size exceeded$/, 'call stack exhausted'],
  [/^data segment out of bounds$|^data segment has been dropped$/, 'out of bounds memory access'],
  [/^element segment out of bounds$|^element segment has been dropped$/, 'undefined element: out of bounds table access'],
  [/^operation does not support unaligned accesses$/, 'unaligned atomic'],
];

/** The wasmtime wording of a trap V8 reported (`RuntimeError`, or a stack overflow `RangeError`). */
export function wasmtimeTrapMessage(error: Error): string | undefined {
  if (!(error instanceof WebAssembly.RuntimeError) && !(error instanceof RangeError && /call stack/.test(error.message))) return undefined;
  if (error.message.startsWith('wasm trap: ')) return error.message; // already in wasmtime's words (jco's glue)
  const match = WASMTIME_TRAPS.find(([pattern]) => pattern.test(error.message));
  return `wasm trap: ${match ? match[1] : error.message}`;
}
