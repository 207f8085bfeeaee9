// Turns component bytes into what a worker needs: the jco-generated instantiate() source and the
// core modules. Preview 1 core modules are not transpiled: they run as they are, with our p1 host
// (runtime/preview1-module.ts).
import { transpile } from '@bytecodealliance/jco';
import { detectBinaryKind } from '../component-format.js';
import { InvalidComponentError } from '../pod-runtime.js';
import { preview1Component } from '../preview1-module.js';
import type { TranspiledComponent } from './transpiled-component.js';

export type { TranspiledComponent } from './transpiled-component.js';

const TRANSPILE_NAME = 'component';

export async function transpileComponent(componentBytes: Uint8Array): Promise<TranspiledComponent> {
  if (detectBinaryKind(componentBytes) === 'core-module') return preview1Component(componentBytes);
  let output: Awaited<ReturnType<typeof transpile>>;
  try {
    output = await transpile(componentBytes, {
      name: TRANSPILE_NAME,
      instantiation: 'async',
      noTypescript: true,
      nodejsCompat: false,
      tlaCompat: false,
      base64Cutoff: 0,
    });
  } catch (error) {
    throw new InvalidComponentError(`invalid component: ${firstLine(error)}`, { cause: error });
  }
  const js = output.files[`${TRANSPILE_NAME}.js`];
  if (!js) throw new InvalidComponentError('invalid component: the transpiler produced no JavaScript');
  const coreModules: Record<string, Uint8Array> = {};
  for (const [file, content] of Object.entries(output.files)) {
    if (file.endsWith('.wasm')) coreModules[file] = content;
  }
  return { source: toFunctionBody(new TextDecoder().decode(js)), coreModules, exports: output.exports.map(([name]) => name) };
}

// jco's async-instantiation output is one ES module without imports: dropping the `export`
// keywords (and the never-taken import.meta fallback) makes it a function body, so nothing
// touches the disk or the ES module cache.
function toFunctionBody(js: string): string {
  const body = followCanonicalAbi(js)
    .replace(/^export function instantiate\(/m, 'function instantiate(')
    .replace(/^export const _util = \{[\s\S]*?\}\s*$/m, '')
    .replaceAll('import.meta.url', '"file:///component/"');
  if (/^\s*(import|export)\s/m.test(body)) {
    throw new InvalidComponentError('invalid component: unexpected module syntax in the transpiled JavaScript');
  }
  return `${body}\nreturn { instantiate };`;
}

// jco 1.35 lowers an empty string without calling the guest's realloc; the canonical ABI calls it
// (realloc(0, 0, 1, 0)), as wasmtime does, and the preview 1 adapter counts on it: it lays out
// `NAME=value\0` from consecutive allocations, so an empty environment variable came out missing.
const EMPTY_STRING_SHORTCUT = 'if (s.length === 0) { return { ptr: 1, len: 0 }; }';
const followCanonicalAbi = (js: string): string => js.replaceAll(EMPTY_STRING_SHORTCUT, '');

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n').find((line) => line.trim() !== '') ?? 'unknown error').trim().slice(0, 300);
}
