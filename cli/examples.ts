// Pushes every built example in wasm-examples/ as examples/<name>:latest (what `skiff up` does).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ComponentRegistry } from '../control-plane/registry/component-registry.js';
import { packageRoot } from './package-root.js';

export async function pushExamples(registry: ComponentRegistry): Promise<string[]> {
  const root = join(packageRoot(), 'wasm-examples');
  const pushed: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const file = join(root, entry.name, `${entry.name}.wasm`);
    const bytes = await readFile(file).catch(() => undefined);
    if (!bytes) continue;
    const { ref } = await registry.push(`examples/${entry.name}:latest`, bytes);
    pushed.push(ref);
  }
  return pushed.sort();
}
