// Finds files that ship with skiff (wasm-examples/) whether running from dist/ or from source.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'wasm-examples'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the skiff package root (wasm-examples/ next to package.json)');
}
